#include "core/column.h"

#include <algorithm>
#include <utility>

namespace sluice {

Column::Column(DataType type) : type_(type) {
  if (type_.id == TypeId::kString) {
    data_.assign(sizeof(uint32_t), 0);  // offsets[0] = 0
  }
}

Column Column::FromParts(DataType type, int64_t size, std::vector<uint8_t> data,
                         std::vector<char> chars, std::vector<uint8_t> validity,
                         int64_t null_count) {
  Column c;
  c.type_ = type;
  c.size_ = size;
  c.null_count_ = null_count;
  c.data_ = std::move(data);
  c.chars_ = std::move(chars);
  if (null_count > 0) c.validity_ = std::move(validity);
  return c;
}

void Column::Reserve(int64_t rows, int64_t chars) {
  if (type_.id == TypeId::kString) {
    data_.reserve((rows + 1) * sizeof(uint32_t));
    chars_.reserve(chars);
  } else {
    data_.reserve(rows * type_.FixedWidth());
  }
}

void Column::Clear() {
  size_ = 0;
  null_count_ = 0;
  data_.clear();
  chars_.clear();
  validity_.clear();
  if (type_.id == TypeId::kString) data_.assign(sizeof(uint32_t), 0);
}

void Column::SetBit(int64_t i, bool v) {
  size_t byte = static_cast<size_t>(i >> 3);
  if (validity_.size() <= byte) validity_.resize(byte + 1, 0);
  if (v) {
    validity_[byte] |= static_cast<uint8_t>(1u << (i & 7));
  } else {
    validity_[byte] &= static_cast<uint8_t>(~(1u << (i & 7)));
  }
}

void Column::MaterializeValidity() {
  if (!validity_.empty() || null_count_ > 0) return;
  validity_.assign(static_cast<size_t>((size_ >> 3) + 1), 0xFF);
}

void Column::AppendString(std::string_view s) {
  chars_.insert(chars_.end(), s.begin(), s.end());
  uint32_t end = static_cast<uint32_t>(chars_.size());
  size_t pos = data_.size();
  data_.resize(pos + sizeof(uint32_t));
  std::memcpy(data_.data() + pos, &end, sizeof(end));
  MarkValid();
}

void Column::AppendNull() {
  if (validity_.empty()) MaterializeValidity();
  if (type_.id == TypeId::kString) {
    uint32_t end = static_cast<uint32_t>(chars_.size());
    size_t pos = data_.size();
    data_.resize(pos + sizeof(uint32_t));
    std::memcpy(data_.data() + pos, &end, sizeof(end));
  } else {
    data_.resize(data_.size() + type_.FixedWidth(), 0);
  }
  SetBit(size_, false);
  ++size_;
  ++null_count_;
}

void Column::AppendFrom(const Column& other, int64_t i) {
  if (other.IsNull(i)) {
    AppendNull();
    return;
  }
  if (type_.id == TypeId::kString) {
    AppendString(other.GetString(i));
    return;
  }
  int w = type_.FixedWidth();
  data_.insert(data_.end(), other.data_.begin() + i * w, other.data_.begin() + (i + 1) * w);
  MarkValid();
}

void Column::AppendRange(const Column& other, int64_t offset, int64_t n) {
  if (!other.has_nulls() && !has_nulls() && type_.id != TypeId::kString) {
    int w = type_.FixedWidth();
    data_.insert(data_.end(), other.data_.begin() + offset * w,
                 other.data_.begin() + (offset + n) * w);
    size_ += n;
    return;
  }
  for (int64_t i = 0; i < n; ++i) AppendFrom(other, offset + i);
}

void Column::AppendSelected(const Column& other, const std::vector<uint32_t>& sel) {
  for (uint32_t i : sel) AppendFrom(other, i);
}

int64_t Column::MemoryUsage() const {
  return static_cast<int64_t>(data_.capacity() + chars_.capacity() + validity_.capacity());
}

RecordBatch RecordBatch::Empty(const Schema& schema) {
  RecordBatch b;
  b.schema = schema;
  b.columns.reserve(schema.num_fields());
  for (const auto& f : schema.fields()) b.columns.emplace_back(f.type);
  return b;
}

RecordBatch RecordBatch::Select(const std::vector<uint32_t>& sel) const {
  RecordBatch out = Empty(schema);
  for (size_t c = 0; c < columns.size(); ++c) out.columns[c].AppendSelected(columns[c], sel);
  if (!source_lines.empty()) {
    out.source_lines.reserve(sel.size());
    for (uint32_t i : sel) out.source_lines.push_back(source_lines[i]);
  }
  out.num_rows_no_columns = static_cast<int64_t>(sel.size());
  return out;
}

RecordBatch RecordBatch::Slice(int64_t offset, int64_t n) const {
  RecordBatch out = Empty(schema);
  for (size_t c = 0; c < columns.size(); ++c) out.columns[c].AppendRange(columns[c], offset, n);
  if (!source_lines.empty()) {
    out.source_lines.assign(source_lines.begin() + offset, source_lines.begin() + offset + n);
  }
  out.num_rows_no_columns = n;
  return out;
}

int64_t RecordBatch::MemoryUsage() const {
  int64_t total = 0;
  for (const auto& c : columns) total += c.MemoryUsage();
  return total;
}

}  // namespace sluice
