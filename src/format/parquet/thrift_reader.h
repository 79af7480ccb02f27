// A bounds-checked reader of the Thrift compact protocol, for Parquet's file
// footer and page headers (the counterpart of thrift_compact.h's writer).
//
// The caller drives the parse: BeginStruct(), then NextField() until it
// returns false (the struct's stop byte), reading each value with the Read*
// call of its type or Skip() for fields it does not know. Errors are sticky:
// the first malformed or truncated byte sets ok() to false and every later
// call returns zeros, so loops end and the caller checks ok() once. Nesting is
// limited (kMaxDepth) and list sizes are checked against the bytes left, so
// hostile input costs neither stack nor memory.
//
// Threading: one reader per thread; the bytes must outlive it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "format/parquet/thrift_compact.h"

namespace sluice::parquet {

class CompactReader {
 public:
  static constexpr int kMaxDepth = 64;

  CompactReader(const char* data, size_t size) : p_(data), end_(data + size), begin_(data) {}
  explicit CompactReader(std::string_view bytes) : CompactReader(bytes.data(), bytes.size()) {}

  bool ok() const { return ok_; }
  // Bytes consumed so far.
  size_t pos() const { return static_cast<size_t>(p_ - begin_); }
  // Why the parse failed ("truncated", "bad varint", ...); empty while ok().
  const std::string& error() const { return error_; }
  // True when the failure was running out of bytes (a caller holding only a
  // prefix of the input may retry with more).
  bool truncated() const { return truncated_; }
  // Marks the parse as failed (for semantic errors found by the caller).
  void Fail(std::string why);

  // Enters a struct: a top-level one, a struct-valued field, or a list element.
  void BeginStruct();
  // Reads the next field header of the innermost struct. Returns false at its
  // stop byte (leaving the struct) or on error.
  bool NextField(int16_t* id, CompactType* type);

  // Values of the field (or list element) just announced with `type`. A type
  // that does not match is skipped and reported as a mismatch (returns false).
  bool ReadBool(CompactType type, bool* out);
  bool ReadInt(CompactType type, int64_t* out);  // byte, i16, i32, i64
  bool ReadI32(CompactType type, int32_t* out);  // int that fits in 32 bits
  bool ReadBinary(CompactType type, std::string_view* out);
  bool ReadDouble(CompactType type, double* out);
  // A list element of a bool list (`elem` from ReadListHeader): one byte,
  // 1 for true; 0 and 2 (what C++ and Java Thrift write) for false.
  bool ReadBoolElem(CompactType elem, bool* out);
  // Reads a list (or set) header; false on mismatch or error. The size is
  // already checked against the bytes left.
  bool ReadListHeader(CompactType type, CompactType* elem, uint32_t* size);

  // Skips one value of `type` (structs, lists, maps included).
  void Skip(CompactType type);

 private:
  uint8_t Byte();
  uint64_t Varint();
  int64_t ZigZagVarint() {
    uint64_t v = Varint();
    return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
  }
  void SkipDepth(CompactType type, int depth);
  void Truncated();

  const char* p_;
  const char* end_;
  const char* begin_;
  bool ok_ = true;
  bool truncated_ = false;
  std::string error_;
  // Last field id of each open struct, innermost last.
  std::vector<int16_t> last_ids_;
};

}  // namespace sluice::parquet
