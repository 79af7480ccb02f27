#include "format/batch_builder.h"

#include <algorithm>
#include <utility>

namespace sluice {

BatchBuilder::BatchBuilder(const Schema& schema) : schema_(schema) {
  cols_.resize(schema_.num_fields());
  for (int f = 0; f < schema_.num_fields(); ++f) {
    cols_[f].type = schema_.field(f).type;
    cols_[f].width = cols_[f].type.id == TypeId::kString ? 0 : cols_[f].type.FixedWidth();
    row_bytes_ += static_cast<int64_t>(cols_[f].width == 0 ? sizeof(uint32_t) : cols_[f].width) + 1;
  }
}

int64_t BatchBuilder::reserved_bytes() const {
  int64_t total = 0;
  for (const Col& c : cols_) {
    total += static_cast<int64_t>(c.data.capacity() + c.chars.capacity() + c.valid.capacity());
  }
  return total;
}

void BatchBuilder::Allocate(Col& c, int64_t rows) {
  if (c.width == 0) {
    c.data.resize((rows + 1) * sizeof(uint32_t));
  } else {
    c.data.resize(rows * c.width);
  }
  c.valid.resize(rows);
}

void BatchBuilder::Begin(int64_t rows) {
  // Estimates come from input bytes (e.g. a chunk's size / 64), which for a
  // wide row would reserve rows the input cannot hold, for every column.
  const int64_t by_bytes = row_bytes_ > 0 ? kInitialBytes / row_bytes_ : rows;
  initial_ = std::max(std::min(rows, by_bytes), kMinRows);
  rows_ = 0;
  cap_ = 0;
  for (Col& c : cols_) {
    c.data.clear();
    c.valid.clear();
    c.used = 0;
  }
}

void BatchBuilder::Grow() {
  if (cap_ > 0) {
    cap_ *= 2;
    for (Col& c : cols_) Allocate(c, cap_);
    return;
  }
  // Buffers are allocated on first use, so a finished batch costs nothing
  // until the next row arrives.
  cap_ = initial_;
  for (Col& c : cols_) {
    Allocate(c, cap_);
    if (c.width != 0) continue;
    SetOffset(c, 0, 0);
    c.used = 0;
    if (c.chars.size() < c.hint) c.chars.resize(c.hint);
  }
}

void BatchBuilder::GrowChars(Col& c, size_t n) {
  c.chars.resize(std::max(c.chars.size() * 2, c.used + n + 256));
}

void BatchBuilder::SetNulls(int f, int64_t n) {
  Col& c = cols_[f];
  std::memset(c.valid.data() + rows_, 0, static_cast<size_t>(n));
  if (c.width == 0) {
    for (int64_t i = 1; i <= n; ++i) SetOffset(c, rows_ + i, static_cast<uint32_t>(c.used));
  } else {
    std::memset(c.data.data() + rows_ * c.width, 0, static_cast<size_t>(n) * c.width);
  }
}

void BatchBuilder::DiscardRow() {
  for (Col& c : cols_) {
    if (c.width != 0) continue;
    uint32_t begin;
    std::memcpy(&begin, c.data.data() + rows_ * sizeof(uint32_t), sizeof(begin));
    c.used = begin;
  }
}

void BatchBuilder::Finish(RecordBatch* out) {
  out->schema = schema_;
  out->columns.clear();
  out->columns.reserve(cols_.size());
  out->num_rows_no_columns = rows_;
  for (Col& c : cols_) {
    int64_t nulls = rows_ - std::count(c.valid.begin(), c.valid.begin() + rows_, uint8_t{1});
    std::vector<uint8_t> bits;
    if (nulls > 0) {
      bits.assign(static_cast<size_t>((rows_ + 7) / 8), 0);
      for (int64_t i = 0; i < rows_; ++i) {
        bits[i >> 3] |= static_cast<uint8_t>(c.valid[i] << (i & 7));
      }
    }
    std::vector<uint8_t> data = std::move(c.data);
    c.hint = c.used + c.used / 8 + 64;
    c.chars.resize(c.used);
    data.resize(c.width == 0 ? (rows_ + 1) * sizeof(uint32_t) : rows_ * c.width);
    out->columns.push_back(Column::FromParts(c.type, rows_, std::move(data), std::move(c.chars),
                                             std::move(bits), nulls));
    c.data = {};
    c.chars = {};
  }
  Begin(initial_);
}

}  // namespace sluice
