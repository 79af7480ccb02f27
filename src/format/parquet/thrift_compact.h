// A writer for the Thrift compact protocol, the encoding of Parquet's metadata
// (file footer and page headers).
//
// Only what Parquet needs is here: structs with field-id deltas, lists, i16/i32/
// i64 as zigzag varints, binary/string with a varint length, bool and double.
// The caller drives the nesting (FieldStructBegin/EndStruct, ListBegin); the
// writer keeps the last field id of each open struct so that field headers can
// use the short delta form. Output is appended to a caller-owned string.
//
// Threading: not thread-safe; one writer per output.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::parquet {

// Type codes of the compact protocol (field headers and list element types).
enum class CompactType : uint8_t {
  kStop = 0,
  kBoolTrue = 1,
  kBoolFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

// Appends an unsigned LEB128 varint.
void AppendVarint(uint64_t v, std::string* out);
inline uint64_t ZigZag64(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline uint32_t ZigZag32(int32_t v) {
  return (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
}

class CompactWriter {
 public:
  // Appends to *out, which must outlive the writer. Starts outside any struct:
  // call BeginStruct() for the top-level struct.
  explicit CompactWriter(std::string* out) : out_(out) {}

  // Opens a struct (top level or list element); EndStruct() writes its stop byte.
  void BeginStruct();
  void EndStruct();

  // Fields of the innermost open struct. Field ids must be positive; they need
  // not increase, but increasing ids use the one-byte header.
  void FieldBool(int16_t id, bool v);
  void FieldI16(int16_t id, int16_t v);
  void FieldI32(int16_t id, int32_t v);
  void FieldI64(int16_t id, int64_t v);
  void FieldDouble(int16_t id, double v);
  void FieldBinary(int16_t id, std::string_view v);
  // A struct-valued field: writes the header and opens the struct; close it
  // with EndStruct().
  void FieldStructBegin(int16_t id);
  // A list-valued field: writes the header and the list header; then write
  // exactly `size` elements with the element writers below.
  void FieldListBegin(int16_t id, CompactType elem_type, int64_t size);

  // List elements (and the header of a list nested in a list).
  void ListBegin(CompactType elem_type, int64_t size);
  void ElemI32(int32_t v) { AppendVarint(ZigZag32(v), out_); }
  void ElemI64(int64_t v) { AppendVarint(ZigZag64(v), out_); }
  void ElemBinary(std::string_view v);
  // A bool element: one byte, 1 for true and 2 for false, as the reference
  // implementations (C++, Java) write them; readers take 1 as true.
  void ElemBool(bool v) { out_->push_back(static_cast<char>(v ? 1 : 2)); }
  // Struct elements use BeginStruct()/EndStruct().

 private:
  void FieldHeader(int16_t id, CompactType type);

  std::string* out_;
  // Last field id written in each open struct, innermost last.
  std::vector<int16_t> last_ids_;
};

}  // namespace sluice::parquet
