// Column and RecordBatch: the in-memory columnar format every stage exchanges.
//
// A Column holds `size()` values of one DataType in contiguous buffers:
//   - data: fixed-width values (see types.h for the physical type per logical type);
//     for strings, `size()+1` uint32 offsets into `chars`;
//   - validity: one bit per row (1 = valid), LSB-first; empty means "no nulls".
// Null slots still occupy a (zeroed) value so that indexes line up.
// A batch's string column holds less than 4 GiB of bytes (decoders cut batches
// long before that).
//
// RecordBatch = Schema + one Column per field, all of the same length. Batches
// are moved between stages, not shared; a Column is not thread-safe for writes.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "core/types.h"

namespace sluice {

class Column {
 public:
  Column() = default;
  explicit Column(DataType type);
  // Adopts buffers built elsewhere (e.g. by a decoder), in the layout described
  // above: `data` holds size values (size+1 offsets for strings), `validity`
  // is empty or holds at least (size+7)/8 bytes with null_count zero bits.
  static Column FromParts(DataType type, int64_t size, std::vector<uint8_t> data,
                          std::vector<char> chars, std::vector<uint8_t> validity,
                          int64_t null_count);

  const DataType& type() const { return type_; }
  int64_t size() const { return size_; }
  int64_t null_count() const { return null_count_; }
  bool has_nulls() const { return null_count_ > 0; }
  bool IsValid(int64_t i) const {
    return validity_.empty() || ((validity_[i >> 3] >> (i & 7)) & 1);
  }
  bool IsNull(int64_t i) const { return !IsValid(i); }

  // Typed access to fixed-width values. T must match the physical type.
  template <typename T>
  const T* data() const {
    return reinterpret_cast<const T*>(data_.data());
  }
  template <typename T>
  T* mutable_data() {
    return reinterpret_cast<T*>(data_.data());
  }
  template <typename T>
  T Value(int64_t i) const {
    T v;
    std::memcpy(&v, data_.data() + i * sizeof(T), sizeof(T));
    return v;
  }
  std::string_view GetString(int64_t i) const {
    const uint32_t* off = data<uint32_t>();
    return {chars_.data() + off[i], off[i + 1] - off[i]};
  }
  const uint32_t* offsets() const { return data<uint32_t>(); }
  const char* chars() const { return chars_.data(); }
  int64_t chars_size() const { return static_cast<int64_t>(chars_.size()); }
  const uint8_t* validity() const { return validity_.empty() ? nullptr : validity_.data(); }

  void Reserve(int64_t rows, int64_t chars = 0);
  void Clear();

  // Appends. The template form is for fixed-width types only.
  template <typename T>
  void Append(T v) {
    size_t pos = data_.size();
    data_.resize(pos + sizeof(T));
    std::memcpy(data_.data() + pos, &v, sizeof(T));
    MarkValid();
  }
  void AppendString(std::string_view s);
  void AppendNull();
  // Appends row `i` of `other` (same type).
  void AppendFrom(const Column& other, int64_t i);
  // Appends rows [offset, offset+n) of `other` (same type).
  void AppendRange(const Column& other, int64_t offset, int64_t n);
  // Appends the rows of `other` listed in `sel` (same type).
  void AppendSelected(const Column& other, const std::vector<uint32_t>& sel);

  // Overwrites the value type without touching buffers (used by casts that keep
  // the same physical representation).
  void set_type(DataType t) { type_ = t; }
  // Approximate heap bytes held.
  int64_t MemoryUsage() const;

 private:
  void MarkValid() {
    if (!validity_.empty()) SetBit(size_, true);
    ++size_;
  }
  void SetBit(int64_t i, bool v);
  void MaterializeValidity();

  DataType type_;
  int64_t size_ = 0;
  int64_t null_count_ = 0;
  std::vector<uint8_t> data_;
  std::vector<char> chars_;
  std::vector<uint8_t> validity_;
};

struct RecordBatch {
  Schema schema;
  std::vector<Column> columns;
  // Optional: the 1-based source line (or record number) of each row, kept by
  // decoders so that later stages can report where a bad value came from.
  std::vector<int64_t> source_lines;

  int64_t num_rows() const { return columns.empty() ? num_rows_no_columns : columns[0].size(); }
  // Row count when the schema has no columns (e.g. after dropping all of them).
  int64_t num_rows_no_columns = 0;

  // An empty batch with one empty column per field.
  static RecordBatch Empty(const Schema& schema);
  // Rows listed in `sel`, in order.
  RecordBatch Select(const std::vector<uint32_t>& sel) const;
  // Rows [offset, offset+n).
  RecordBatch Slice(int64_t offset, int64_t n) const;
  int64_t MemoryUsage() const;
};

}  // namespace sluice
