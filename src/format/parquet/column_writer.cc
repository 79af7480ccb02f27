#include "format/parquet/column_writer.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string_view>
#include <type_traits>

#include "format/parquet/parquet_schema.h"

namespace sluice::parquet {
namespace {

// Bounds the rows of one page even when its values take no room (all-null
// pages, booleans), keeping num_values far from the i32 limit of the header.
constexpr int64_t kMaxPageRows = int64_t{1} << 20;

void PutLE32(uint32_t v, char* dst) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}

}  // namespace

ColumnWriter::ColumnWriter(const Field& field, PageCompressor* compressor, int64_t page_bytes)
    : field_(field),
      physical_(PhysicalTypeOf(field.type)),
      optional_(field.nullable),
      compressor_(compressor),
      page_bytes_(std::max<int64_t>(page_bytes, 1)),
      stats_(physical_) {}

Status ColumnWriter::Append(const Column& col, int64_t offset, int64_t n) {
  if (!optional_ && col.has_nulls()) {
    for (int64_t i = offset; i < offset + n; ++i) {
      if (col.IsNull(i)) {
        return Status::InvalidArgument("parquet: field '" + field_.name + "' is not null but row " +
                                       std::to_string(i) + " of the batch is null");
      }
    }
  }
  while (n > 0) {
    int64_t take = RowsThatFit(col, offset, n);
    if (optional_) PutDefLevels(col, offset, take);
    switch (field_.type.id) {
      case TypeId::kBool:
        AppendBool(col, offset, take);
        break;
      case TypeId::kInt32:
      case TypeId::kDate:
        AppendFixed<int32_t>(col, offset, take);
        break;
      case TypeId::kInt64:
      case TypeId::kDecimal:
      case TypeId::kTimestamp:
        AppendFixed<int64_t>(col, offset, take);
        break;
      case TypeId::kFloat64:
        AppendFixed<double>(col, offset, take);
        break;
      case TypeId::kString:
        AppendString(col, offset, take);
        break;
    }
    page_rows_ += take;
    offset += take;
    n -= take;
    if (PageValueBytes() >= page_bytes_ || page_rows_ >= kMaxPageRows) {
      RETURN_IF_ERROR(FlushPage());
    }
  }
  return Status::OK();
}

int64_t ColumnWriter::RowsThatFit(const Column& col, int64_t offset, int64_t n) const {
  int64_t room = std::max<int64_t>(page_bytes_ - PageValueBytes(), 1);
  int64_t rows;
  switch (field_.type.id) {
    case TypeId::kBool:
      rows = room * 8;
      break;
    case TypeId::kString: {
      // Counts nulls as empty strings: a page may end a little early, never late.
      const uint32_t* off = col.offsets();
      int64_t limit = offset + std::min(n, kMaxPageRows - page_rows_);
      int64_t i = offset;
      int64_t bytes = 0;
      while (i < limit && bytes < room) {
        bytes += 4 + (off[i + 1] - off[i]);
        ++i;
      }
      rows = i - offset;
      break;
    }
    default: {
      int64_t width = field_.type.FixedWidth();
      rows = (room + width - 1) / width;
      break;
    }
  }
  return std::clamp<int64_t>(std::min(rows, kMaxPageRows - page_rows_), 1, n);
}

void ColumnWriter::PutDefLevels(const Column& col, int64_t offset, int64_t n) {
  if (!col.has_nulls()) {
    def_levels_.PutRepeated(1, n);
    return;
  }
  for (int64_t i = offset; i < offset + n; ++i) def_levels_.Put(col.IsValid(i) ? 1 : 0);
}

template <typename T>
void ColumnWriter::AppendFixed(const Column& col, int64_t offset, int64_t n) {
  const T* src = col.data<T>() + offset;
  size_t pos = values_.size();
  values_.resize(pos + n * sizeof(T));
  char* dst = values_.data() + pos;
  T mn = std::numeric_limits<T>::max();
  T mx = std::numeric_limits<T>::lowest();
  bool saw_nan = false;
  int64_t valid = 0;
  auto track = [&](T v) {
    if constexpr (std::is_floating_point_v<T>) {
      if (v != v) {
        saw_nan = true;
        return;
      }
    }
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  };
  if (!col.has_nulls()) {
    // PLAIN is the little-endian in-memory layout: one copy for the slice.
    std::memcpy(dst, src, n * sizeof(T));
    for (int64_t i = 0; i < n; ++i) track(src[i]);
    valid = n;
  } else {
    for (int64_t i = 0; i < n; ++i) {
      if (!col.IsValid(offset + i)) continue;
      std::memcpy(dst, &src[i], sizeof(T));
      dst += sizeof(T);
      track(src[i]);
      ++valid;
    }
    values_.resize(pos + valid * sizeof(T));
    stats_.AddNulls(n - valid);
  }
  if (valid == 0) return;
  if constexpr (std::is_floating_point_v<T>) {
    stats_.MergeDouble(mn, mx, saw_nan);
  } else {
    stats_.MergeInt(mn, mx);
  }
}

void ColumnWriter::AppendBool(const Column& col, int64_t offset, int64_t n) {
  const uint8_t* src = col.data<uint8_t>() + offset;
  bool any_true = false;
  bool any_false = false;
  int64_t valid = 0;
  bool nulls = col.has_nulls();
  for (int64_t i = 0; i < n; ++i) {
    if (nulls && !col.IsValid(offset + i)) continue;
    bool v = src[i] != 0;
    any_true |= v;
    any_false |= !v;
    // PLAIN booleans are bit-packed LSB first, continuing across slices.
    bool_acc_ |= static_cast<uint8_t>(v) << bool_bits_;
    if (++bool_bits_ == 8) {
      values_.push_back(static_cast<char>(bool_acc_));
      bool_acc_ = 0;
      bool_bits_ = 0;
    }
    ++valid;
  }
  stats_.AddNulls(n - valid);
  if (valid > 0) stats_.MergeInt(any_false ? 0 : 1, any_true ? 1 : 0);
}

void ColumnWriter::AppendString(const Column& col, int64_t offset, int64_t n) {
  const uint32_t* off = col.offsets();
  const char* chars = col.chars();
  size_t pos = values_.size();
  values_.resize(pos + 4 * n + (off[offset + n] - off[offset]));
  char* dst = values_.data() + pos;
  std::string_view mn, mx;
  int64_t valid = 0;
  bool nulls = col.has_nulls();
  for (int64_t i = offset; i < offset + n; ++i) {
    if (nulls && !col.IsValid(i)) continue;
    uint32_t len = off[i + 1] - off[i];
    PutLE32(len, dst);
    if (len != 0)
      std::memcpy(dst + 4, chars + off[i], len);  // chars is null when every string is empty
    dst += 4 + len;
    std::string_view v(chars + off[i], len);
    if (valid == 0) {
      mn = mx = v;
    } else if (CompareUnsignedBytes(v, mn) < 0) {
      mn = v;
    } else if (CompareUnsignedBytes(mx, v) < 0) {
      mx = v;
    }
    ++valid;
  }
  values_.resize(dst - values_.data());
  stats_.AddNulls(n - valid);
  if (valid > 0) stats_.MergeString(mn, mx);
}

Status ColumnWriter::FlushPage() {
  if (page_rows_ == 0) return Status::OK();
  if (bool_bits_ > 0) {
    values_.push_back(static_cast<char>(bool_acc_));
    bool_acc_ = 0;
    bool_bits_ = 0;
  }
  page_.clear();
  if (optional_) {
    // Data page v1: the levels' byte length (4 bytes LE) precedes them.
    page_.resize(4);
    def_levels_.FinishTo(&page_);
    PutLE32(static_cast<uint32_t>(page_.size() - 4), page_.data());
  }
  page_.append(values_);
  values_.clear();
  if (page_.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return Status::InvalidArgument("parquet: a page of field '" + field_.name +
                                   "' exceeds 2 GiB (one value is too large)");
  }
  std::string_view body = page_;
  if (compressor_->codec() != CompressionCodec::kUncompressed) {
    RETURN_IF_ERROR(compressor_->Compress(page_, &compressed_));
    body = compressed_;
  }
  PageHeader h;
  h.type = PageType::kDataPage;
  h.uncompressed_page_size = static_cast<int32_t>(page_.size());
  h.compressed_page_size = static_cast<int32_t>(body.size());
  DataPageHeader dp;
  dp.num_values = static_cast<int32_t>(page_rows_);
  dp.encoding = Encoding::kPlain;
  dp.definition_level_encoding = Encoding::kRle;
  dp.repetition_level_encoding = Encoding::kRle;
  h.data_page_header = dp;
  header_.clear();
  CompactWriter w(&header_);
  Serialize(h, &w);
  chunk_.append(header_);
  chunk_.append(body);
  chunk_uncompressed_ += static_cast<int64_t>(header_.size() + page_.size());
  chunk_rows_ += page_rows_;
  page_rows_ = 0;
  return Status::OK();
}

ColumnMetaData ColumnWriter::ChunkMetaData(int64_t file_offset) const {
  ColumnMetaData m;
  m.type = physical_;
  m.encodings = {Encoding::kPlain, Encoding::kRle};
  if (!optional_) m.encodings.pop_back();
  m.path_in_schema = {field_.name};
  m.codec = compressor_->codec();
  m.num_values = chunk_rows_;
  m.total_uncompressed_size = chunk_uncompressed_;
  m.total_compressed_size = static_cast<int64_t>(chunk_.size());
  m.data_page_offset = file_offset;
  m.statistics = stats_.ToThrift();
  return m;
}

int64_t ColumnWriter::BufferedUncompressedBytes() const {
  return chunk_uncompressed_ + PageValueBytes() + page_rows_ / 8;
}

void ColumnWriter::ResetChunk() {
  chunk_.clear();
  chunk_rows_ = 0;
  chunk_uncompressed_ = 0;
  stats_.Reset();
}

}  // namespace sluice::parquet
