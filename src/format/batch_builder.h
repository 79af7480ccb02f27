// BatchBuilder: decoders write typed values straight into column buffers, one
// row at a time, without a staging copy and without per-value allocation.
//
// A row is built by setting every field (SetNull for absent ones), then either
// committed or discarded. Discarding is what keeps bad records atomic: values
// are written at slot rows(), so a discarded row is simply overwritten by the
// next one (string bytes appended for it are cut back). Validity is one byte
// per row while building and packed into bits by Finish().
//
// Not thread-safe; one builder per decoding task.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "core/column.h"
#include "core/types.h"

namespace sluice {

class BatchBuilder {
 public:
  explicit BatchBuilder(const Schema& schema);

  // Starts a new, empty batch sized for about `rows` rows (it grows as needed).
  // The first allocation is capped at kInitialBytes of row buffers, so a
  // wide schema (thousands of columns) starts with a few rows and grows with
  // the rows that actually arrive, not with columns x the estimate.
  void Begin(int64_t rows);
  static constexpr int64_t kInitialBytes = 8 << 20;
  static constexpr int64_t kMinRows = 16;
  // Bytes of row buffers one row takes (values, offsets, validity).
  int64_t row_bytes() const { return row_bytes_; }
  // Heap bytes the builder holds now (buffer capacities).
  int64_t reserved_bytes() const;
  int64_t rows() const { return rows_; }
  const Schema& schema() const { return schema_; }
  // Bytes held by string field f in the batch so far.
  int64_t string_bytes(int f) const { return static_cast<int64_t>(cols_[f].used); }

  // Must be called before the first Set* of each row.
  void BeginRow() {
    if (rows_ == cap_) Grow();
  }
  void SetNull(int f) {
    Col& c = cols_[f];
    c.valid[rows_] = 0;
    if (c.width == 0) {
      SetOffset(c, rows_ + 1, static_cast<uint32_t>(c.used));
    } else {
      std::memset(c.data.data() + rows_ * c.width, 0, c.width);
    }
  }
  template <typename T>
  void Set(int f, T v) {
    Col& c = cols_[f];
    c.valid[rows_] = 1;
    std::memcpy(c.data.data() + rows_ * sizeof(T), &v, sizeof(T));
  }
  void SetString(int f, std::string_view s) {
    Col& c = cols_[f];
    c.valid[rows_] = 1;
    Room(c, s.size());
    if (!s.empty()) std::memcpy(c.chars.data() + c.used, s.data(), s.size());
    c.used += s.size();
    SetOffset(c, rows_ + 1, static_cast<uint32_t>(c.used));
  }
  // SetString for text followed by at least 16 readable bytes (e.g. inside a
  // padded chunk): short strings are copied with one fixed-size move.
  void SetStringPadded(int f, const char* p, size_t n) {
    Col& c = cols_[f];
    c.valid[rows_] = 1;
    Room(c, n + 16);
    if (n <= 16) {
      std::memcpy(c.chars.data() + c.used, p, 16);
    } else {
      std::memcpy(c.chars.data() + c.used, p, n);
    }
    c.used += n;
    SetOffset(c, rows_ + 1, static_cast<uint32_t>(c.used));
  }
  // Appends to the string of field f in the current row (SetString first).
  void AppendToString(int f, std::string_view s) {
    Col& c = cols_[f];
    Room(c, s.size());
    if (!s.empty()) std::memcpy(c.chars.data() + c.used, s.data(), s.size());
    c.used += s.size();
    SetOffset(c, rows_ + 1, static_cast<uint32_t>(c.used));
  }
  bool IsNullInRow(int f) const { return cols_[f].valid[rows_] == 0; }
  void CommitRow() { ++rows_; }
  // Forgets the values set for the current row.
  void DiscardRow();

  // Bulk access, for decoders that fill one column at a time for a block of
  // rows [rows(), rows() + n): reserve, write values, validity (pre-set to
  // valid by ReserveRows) and string bytes directly, then CommitRows(n) or
  // DiscardRows() to drop the block.
  void ReserveRows(int64_t n) {
    while (rows_ + n > cap_) Grow();
    for (Col& c : cols_) std::memset(c.valid.data() + rows_, 1, static_cast<size_t>(n));
  }
  template <typename T>
  T* values(int f) {
    return reinterpret_cast<T*>(cols_[f].data.data());
  }
  uint8_t* validity(int f) { return cols_[f].valid.data(); }
  uint32_t* offsets(int f) { return reinterpret_cast<uint32_t*>(cols_[f].data.data()); }
  // Room for n more string bytes in field f; returns the byte buffer and the
  // bytes used so far (the caller advances *used).
  char* StringRoom(int f, size_t n, size_t** used) {
    Col& c = cols_[f];
    Room(c, n);
    *used = &c.used;
    return c.chars.data();
  }
  // Rows [rows(), rows() + n) of field f are NULL.
  void SetNulls(int f, int64_t n);
  void CommitRows(int64_t n) { rows_ += n; }
  // Cuts string bytes back to the end of the committed rows.
  void DiscardRows() { DiscardRow(); }

  // Moves the rows built so far into *out (schema, columns) and starts over
  // with an empty batch. out->source_lines is left to the caller.
  void Finish(RecordBatch* out);

 private:
  struct Col {
    DataType type;
    size_t width = 0;  // 0 for strings (data holds uint32 offsets)
    std::vector<uint8_t> data;
    std::vector<char> chars;  // capacity; bytes [0, used) hold data
    size_t used = 0;
    size_t hint = 0;             // bytes the previous batch needed
    std::vector<uint8_t> valid;  // one byte per row
  };
  static void SetOffset(Col& c, int64_t i, uint32_t v) {
    std::memcpy(c.data.data() + i * sizeof(uint32_t), &v, sizeof(v));
  }
  static void Room(Col& c, size_t n) {
    if (c.used + n > c.chars.size()) GrowChars(c, n);
  }
  static void GrowChars(Col& c, size_t n);
  void Grow();
  void Allocate(Col& c, int64_t rows);

  Schema schema_;
  std::vector<Col> cols_;
  int64_t rows_ = 0;
  int64_t cap_ = 0;  // rows allocated; 0 until the first row of a batch
  int64_t initial_ = kMinRows;
  int64_t row_bytes_ = 0;
};

}  // namespace sluice
