#include "format/parquet/column_writer.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <limits>
#include <new>
#include <string_view>
#include <type_traits>

#include "format/parquet/parquet_schema.h"
#include "format/parquet/rle_encoder.h"

namespace sluice::parquet {
namespace {

// Bounds the rows of one page even when its values take little room (nulls,
// booleans, dictionary indices), keeping num_values far from the i32 limit.
constexpr int64_t kMaxPageRows = int64_t{1} << 20;

void PutLE32(uint32_t v, char* dst) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<char>(v >> (8 * i));
}

// Min/max of a run of values for the statistics; NaN is left out of the
// range and reported, since it has no place in the order readers assume.
template <typename T>
struct MinMax {
  T mn = std::numeric_limits<T>::max();
  T mx = std::numeric_limits<T>::lowest();
  bool saw_nan = false;
  bool any = false;

  void Add(T v) {
    if constexpr (std::is_floating_point_v<T>) {
      if (v != v) {
        saw_nan = true;
        return;
      }
    }
    any = true;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  void MergeInto(ColumnStatistics* stats) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (any || saw_nan) stats->MergeDouble(mn, mx, saw_nan);
    } else {
      if (any) stats->MergeInt(mn, mx);
    }
  }
};

// Appends left before TEST_FailAppendAfter's failure; 0 = off.
std::atomic<int64_t> test_append_countdown{0};

}  // namespace

void TEST_FailAppendAfter(int64_t n) { test_append_countdown.store(n > 0 ? n : 0); }

ColumnWriter::ColumnWriter(const Field& field, const ColumnWriterOptions& options)
    : field_(field),
      physical_(PhysicalTypeOf(field.type)),
      optional_(field.nullable),
      options_(options),
      stats_(physical_),
      page_row_limit_(std::clamp<int64_t>(options.page_rows, 1, kMaxPageRows)),
      page_stats_(physical_) {
  options_.page_bytes = std::max<int64_t>(options_.page_bytes, 1);
  if (options_.dictionary) {
    switch (physical_) {
      case PhysicalType::kInt32:
        dict_.emplace<FixedDictionary<int32_t>>();
        break;
      case PhysicalType::kInt64:
        dict_.emplace<FixedDictionary<int64_t>>();
        break;
      case PhysicalType::kDouble:
        dict_.emplace<FixedDictionary<double>>();
        break;
      case PhysicalType::kByteArray:
        dict_.emplace<StringDictionary>();
        break;
      default:
        break;  // BOOLEAN: PLAIN bits are already as small as indices would be
    }
  }
  ResetChunk();
}

// --- appending -----------------------------------------------------------------

Status ColumnWriter::Append(const Column& col, int64_t offset, int64_t n) {
  if (test_append_countdown.load(std::memory_order_relaxed) > 0 &&
      test_append_countdown.fetch_sub(1) == 1) {
    throw std::bad_alloc();
  }
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
    int64_t done = AppendValues(col, offset, take);
    if (optional_) PutLevels(col, offset, done);
    page_rows_ += done;
    offset += done;
    n -= done;
    if (mode_ == Mode::kDictionary) {
      if (done < take) {
        RETURN_IF_ERROR(StopDictionary());
        continue;
      }
      if (!probed_ &&
          (dict_values_ >= kDictionaryProbeValues || dict_plain_bytes_ >= options_.page_bytes)) {
        Probe();
      }
    }
    if (OpenPageBytes() >= options_.page_bytes || page_rows_ >= page_row_limit_) {
      RETURN_IF_ERROR(FlushPage());
    }
  }
  return Status::OK();
}

int64_t ColumnWriter::RowsThatFit(const Column& col, int64_t offset, int64_t n) const {
  n = std::min(n, page_row_limit_ - page_rows_);
  int64_t rows;
  if (mode_ == Mode::kDictionary) {
    int64_t room = std::max<int64_t>(options_.page_bytes - OpenPageBytes(), 1);
    // The bit width grows with the dictionary while the slice is encoded;
    // assuming at least 8 bits keeps a page from overshooting many times
    // over when a chunk starts with an empty dictionary.
    rows = room * 8 / std::max(DictionaryBitWidth(), 8);
    if (!probed_) {
      // Stop at the probe point: after kDictionaryProbeValues values, or
      // once the values would fill a PLAIN page, so that a dictionary that
      // does not pay is dropped early and its page re-encoded at about
      // page_bytes.
      rows = std::min(rows, std::max<int64_t>(kDictionaryProbeValues - dict_values_, 1));
      int64_t plain_room = std::max<int64_t>(options_.page_bytes - dict_plain_bytes_, 1);
      rows = std::min(rows, PlainRowsThatFit(col, offset, std::min(n, rows), plain_room));
    }
  } else {
    int64_t room = std::max<int64_t>(options_.page_bytes - OpenPageBytes(), 1);
    rows = PlainRowsThatFit(col, offset, n, room);
  }
  return std::clamp<int64_t>(rows, 1, n);
}

int64_t ColumnWriter::PlainRowsThatFit(const Column& col, int64_t offset, int64_t n,
                                       int64_t room) const {
  switch (physical_) {
    case PhysicalType::kBoolean:
      return room * 8;
    case PhysicalType::kByteArray: {
      // Counts nulls as empty strings: a page may end a little early, never late.
      const uint32_t* off = col.offsets();
      int64_t i = offset;
      int64_t bytes = 0;
      while (i < offset + n && bytes < room) {
        bytes += 4 + (off[i + 1] - off[i]);
        ++i;
      }
      return i - offset;
    }
    default: {
      int64_t width = physical_ == PhysicalType::kInt32 ? 4 : 8;
      return (room + width - 1) / width;
    }
  }
}

int64_t ColumnWriter::AppendValues(const Column& col, int64_t offset, int64_t n) {
  const bool dict = mode_ == Mode::kDictionary;
  switch (field_.type.id) {
    case TypeId::kBool:
      AppendPlainBool(col, offset, n);
      return n;
    case TypeId::kInt32:
    case TypeId::kDate:
      if (dict) return AppendDict<int32_t, int32_t>(col, offset, n);
      AppendPlain<int32_t, int32_t>(col, offset, n);
      return n;
    case TypeId::kDecimal:
      // Precision <= 9 is stored as INT32 (see parquet_schema.h); the
      // unscaled value always fits.
      if (physical_ == PhysicalType::kInt32) {
        if (dict) return AppendDict<int64_t, int32_t>(col, offset, n);
        AppendPlain<int64_t, int32_t>(col, offset, n);
        return n;
      }
      [[fallthrough]];
    case TypeId::kInt64:
    case TypeId::kTimestamp:
      if (dict) return AppendDict<int64_t, int64_t>(col, offset, n);
      AppendPlain<int64_t, int64_t>(col, offset, n);
      return n;
    case TypeId::kFloat64:
      if (dict) return AppendDict<double, double>(col, offset, n);
      AppendPlain<double, double>(col, offset, n);
      return n;
    case TypeId::kString:
      if (dict) return AppendDictString(col, offset, n);
      AppendPlainString(col, offset, n);
      return n;
  }
  return n;
}

void ColumnWriter::PutLevels(const Column& col, int64_t offset, int64_t n) {
  size_t pos = levels_.size();
  levels_.resize(pos + n);
  uint8_t* dst = levels_.data() + pos;
  if (!col.has_nulls()) {
    std::memset(dst, 1, n);
    return;
  }
  int64_t nulls = 0;
  for (int64_t i = 0; i < n; ++i) {
    uint8_t valid = col.IsValid(offset + i) ? 1 : 0;
    dst[i] = valid;
    nulls += 1 - valid;
  }
  page_nulls_ += nulls;
}

template <typename Mem, typename Phys>
void ColumnWriter::AppendPlain(const Column& col, int64_t offset, int64_t n) {
  const Mem* src = col.data<Mem>() + offset;
  size_t pos = values_.size();
  values_.resize(pos + n * sizeof(Phys));
  char* dst = values_.data() + pos;
  MinMax<Phys> mm;
  if (!col.has_nulls()) {
    if constexpr (std::is_same_v<Mem, Phys>) {
      // PLAIN is the little-endian in-memory layout: one copy for the slice.
      std::memcpy(dst, src, n * sizeof(Phys));
    } else {
      for (int64_t i = 0; i < n; ++i) {
        Phys v = static_cast<Phys>(src[i]);
        std::memcpy(dst + i * sizeof(Phys), &v, sizeof(Phys));
      }
    }
    for (int64_t i = 0; i < n; ++i) mm.Add(static_cast<Phys>(src[i]));
  } else {
    int64_t valid = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (!col.IsValid(offset + i)) continue;
      Phys v = static_cast<Phys>(src[i]);
      std::memcpy(dst + valid * sizeof(Phys), &v, sizeof(Phys));
      mm.Add(v);
      ++valid;
    }
    values_.resize(pos + valid * sizeof(Phys));
    stats_.AddNulls(n - valid);
  }
  mm.MergeInto(&stats_);
  mm.MergeInto(&page_stats_);
}

void ColumnWriter::AppendPlainBool(const Column& col, int64_t offset, int64_t n) {
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
  if (valid > 0) {
    stats_.MergeInt(any_false ? 0 : 1, any_true ? 1 : 0);
    page_stats_.MergeInt(any_false ? 0 : 1, any_true ? 1 : 0);
  }
}

void ColumnWriter::AppendPlainString(const Column& col, int64_t offset, int64_t n) {
  const uint32_t* off = col.offsets();
  const char* chars = col.chars();
  size_t pos = values_.size();
  values_.resize(pos + 4 * n + (off[offset + n] - off[offset]));
  char* dst = values_.data() + pos;
  std::string_view mn, mx;
  int mn_first = -1;  // first byte of mn (-1: empty)
  int mx_first = -1;
  int64_t valid = 0;
  bool nulls = col.has_nulls();
  for (int64_t i = offset; i < offset + n; ++i) {
    if (nulls && !col.IsValid(i)) continue;
    uint32_t len = off[i + 1] - off[i];
    PutLE32(len, dst);
    if (len != 0) std::memcpy(dst + 4, chars + off[i], len);  // chars is null when all are empty
    dst += 4 + len;
    std::string_view v(chars + off[i], len);
    int first = len == 0 ? -1 : static_cast<uint8_t>(v[0]);
    // A value whose first byte lies strictly between those of the current
    // min and max can be neither: most values skip both compares.
    if (valid == 0 || first <= mn_first || first >= mx_first) {
      if (valid == 0) {
        mn = mx = v;
      } else if (CompareUnsignedBytes(v, mn) < 0) {
        mn = v;
      } else if (CompareUnsignedBytes(mx, v) < 0) {
        mx = v;
      }
      mn_first = mn.empty() ? -1 : static_cast<uint8_t>(mn[0]);
      mx_first = mx.empty() ? -1 : static_cast<uint8_t>(mx[0]);
    }
    ++valid;
  }
  values_.resize(dst - values_.data());
  stats_.AddNulls(n - valid);
  if (valid > 0) {
    stats_.MergeString(mn, mx);
    page_stats_.MergeString(mn, mx);
  }
}

template <typename Mem, typename Phys>
int64_t ColumnWriter::AppendDict(const Column& col, int64_t offset, int64_t n) {
  auto& dict = std::get<FixedDictionary<Phys>>(dict_);
  const Mem* src = col.data<Mem>() + offset;
  size_t pos = indices_.size();
  indices_.resize(pos + n);
  uint32_t* out = indices_.data() + pos;
  const int64_t limit = options_.dictionary_page_bytes;
  const bool nulls = col.has_nulls();
  int64_t i = 0;
  int64_t k = 0;
  for (; i < n; ++i) {
    if (nulls && !col.IsValid(offset + i)) continue;
    uint32_t index;
    if (!dict.GetOrInsert(static_cast<Phys>(src[i]), limit, &index)) break;
    out[k++] = index;
  }
  indices_.resize(pos + k);
  stats_.AddNulls(i - k);
  dict_values_ += k;
  dict_plain_bytes_ += k * static_cast<int64_t>(sizeof(Phys));
  return i;
}

int64_t ColumnWriter::AppendDictString(const Column& col, int64_t offset, int64_t n) {
  auto& dict = std::get<StringDictionary>(dict_);
  const uint32_t* off = col.offsets() + offset;
  const char* chars = col.chars();
  size_t pos = indices_.size();
  indices_.resize(pos + n);
  uint32_t* out = indices_.data() + pos;
  const int64_t limit = options_.dictionary_page_bytes;
  const bool nulls = col.has_nulls();
  int64_t i = 0;
  int64_t k = 0;
  int64_t bytes = 0;
  for (; i < n; ++i) {
    if (nulls && !col.IsValid(offset + i)) continue;
    uint32_t len = off[i + 1] - off[i];
    uint32_t index;
    if (!dict.GetOrInsert(chars + off[i], len, limit, &index)) break;
    out[k++] = index;
    bytes += 4 + len;
  }
  indices_.resize(pos + k);
  stats_.AddNulls(i - k);
  dict_values_ += k;
  dict_plain_bytes_ += bytes;
  return i;
}

// --- the dictionary --------------------------------------------------------------

uint32_t ColumnWriter::DictionarySize() const {
  return std::visit(
      [](const auto& d) -> uint32_t {
        if constexpr (std::is_same_v<std::decay_t<decltype(d)>, std::monostate>) {
          return 0;
        } else {
          return d.size();
        }
      },
      dict_);
}

int64_t ColumnWriter::DictionaryBytes() const {
  return std::visit(
      [](const auto& d) -> int64_t {
        if constexpr (std::is_same_v<std::decay_t<decltype(d)>, std::monostate>) {
          return 0;
        } else {
          return d.bytes();
        }
      },
      dict_);
}

int ColumnWriter::DictionaryBitWidth() const { return DictionaryIndexBitWidth(DictionarySize()); }

void ColumnWriter::Probe() {
  probed_ = true;
  if (mode_ != Mode::kDictionary) return;
  int64_t encoded = DictionaryBytes() + (dict_values_ * DictionaryBitWidth() + 7) / 8;
  // Bit-packed indices compress worse than PLAIN values do, so the
  // dictionary must save a quarter of the PLAIN bytes to be kept.
  if (dict_values_ > 0 && encoded * 4 < dict_plain_bytes_ * 3) return;
  DropDictionary();
}

void ColumnWriter::DropDictionary() {
  DictionaryStatistics();
  IndexStatistics();
  values_.clear();
  std::visit(
      [this](auto& d) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(d)>, std::monostate>) {
          d.AppendPlainOf(indices_.data(), indices_.size(), &values_);
          d.Clear();
        }
      },
      dict_);
  indices_.clear();
  mode_ = Mode::kPlain;
  dict_values_ = 0;
  dict_plain_bytes_ = 0;
}

Status ColumnWriter::StopDictionary() {
  if (!probed_) Probe();
  if (mode_ != Mode::kDictionary) return Status::OK();
  RETURN_IF_ERROR(FlushPage());
  mode_ = Mode::kPlain;
  return Status::OK();
}

void ColumnWriter::DictionaryStatistics() {
  std::visit(
      [this](const auto& d) {
        using D = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<D, std::monostate>) {
          return;
        } else if constexpr (std::is_same_v<D, StringDictionary>) {
          if (d.size() == 0) return;
          std::string_view mn = d.value(0);
          std::string_view mx = mn;
          for (uint32_t i = 1; i < d.size(); ++i) {
            std::string_view v = d.value(i);
            if (CompareUnsignedBytes(v, mn) < 0) {
              mn = v;
            } else if (CompareUnsignedBytes(mx, v) < 0) {
              mx = v;
            }
          }
          stats_.MergeString(mn, mx);
        } else {
          using T = std::remove_const_t<std::remove_pointer_t<decltype(d.values())>>;
          MinMax<T> mm;
          for (uint32_t i = 0; i < d.size(); ++i) mm.Add(d.values()[i]);
          mm.MergeInto(&stats_);
        }
      },
      dict_);
}

void ColumnWriter::IndexStatistics() {
  if (indices_.empty()) return;
  std::visit(
      [this](const auto& d) {
        using D = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<D, std::monostate>) {
          return;
        } else if constexpr (std::is_same_v<D, StringDictionary>) {
          // Each distinct value of the page is compared once.
          if (seen_.size() < d.size()) seen_.resize(d.size(), 0);
          std::string_view mn, mx;
          bool any = false;
          for (uint32_t idx : indices_) {
            if (seen_[idx]) continue;
            seen_[idx] = 1;
            std::string_view v = d.value(idx);
            if (!any) {
              mn = mx = v;
              any = true;
            } else if (CompareUnsignedBytes(v, mn) < 0) {
              mn = v;
            } else if (CompareUnsignedBytes(mx, v) < 0) {
              mx = v;
            }
          }
          for (uint32_t idx : indices_) seen_[idx] = 0;
          page_stats_.MergeString(mn, mx);
        } else {
          using T = std::remove_const_t<std::remove_pointer_t<decltype(d.values())>>;
          MinMax<T> mm;
          const T* values = d.values();
          for (uint32_t idx : indices_) mm.Add(values[idx]);
          mm.MergeInto(&page_stats_);
        }
      },
      dict_);
}

void ColumnWriter::RecordPage(size_t at) {
  PageLocation loc;
  loc.offset = static_cast<int64_t>(at);
  loc.compressed_page_size = static_cast<int32_t>(chunk_.size() - at);
  loc.first_row_index = chunk_rows_;
  page_locations_.push_back(loc);
  page_stats_.AddNulls(page_nulls_);
  Statistics st = page_stats_.ToThrift();
  const bool all_null = page_nulls_ == page_rows_;
  column_index_.null_pages.push_back(all_null);
  if (!all_null && (!st.min_value || !st.max_value)) page_minmax_ok_ = false;
  column_index_.min_values.push_back(all_null ? std::string() : st.min_value.value_or(""));
  column_index_.max_values.push_back(all_null ? std::string() : st.max_value.value_or(""));
  column_index_.null_counts.push_back(page_nulls_);
  page_stats_.Reset();
}

// --- pages and chunks ------------------------------------------------------------

int64_t ColumnWriter::OpenPageBytes() const {
  if (mode_ == Mode::kDictionary) {
    return (static_cast<int64_t>(indices_.size()) * DictionaryBitWidth() + 7) / 8;
  }
  return static_cast<int64_t>(values_.size()) + (bool_bits_ > 0);
}

Status ColumnWriter::FlushPage() {
  if (page_rows_ == 0) return Status::OK();
  if (mode_ == Mode::kDictionary && !probed_) Probe();
  page_.clear();
  size_t levels_bytes = 0;
  if (optional_) {
    // v1 puts the levels' byte length (4 bytes LE) before them; v2 has it
    // in the page header.
    if (!options_.data_page_v2) page_.resize(4);
    size_t start = page_.size();
    AppendRleBitPacked(levels_.data(), levels_.size(), 1, &page_);
    levels_bytes = page_.size() - start;
    if (!options_.data_page_v2) PutLE32(static_cast<uint32_t>(levels_bytes), page_.data());
  }
  size_t values_start = page_.size();
  Encoding encoding;
  if (mode_ == Mode::kDictionary) {
    IndexStatistics();
    int bit_width = DictionaryBitWidth();
    page_.push_back(static_cast<char>(bit_width));
    AppendRleBitPacked(indices_.data(), indices_.size(), bit_width, &page_);
    encoding = Encoding::kRleDictionary;
    ++dict_data_pages_;
  } else {
    if (bool_bits_ > 0) {
      values_.push_back(static_cast<char>(bool_acc_));
      bool_acc_ = 0;
      bool_bits_ = 0;
    }
    page_.append(values_.view());
    encoding = Encoding::kPlain;
    ++plain_data_pages_;
  }
  if (page_.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return Status::InvalidArgument("parquet: a page of field '" + field_.name +
                                   "' exceeds 2 GiB (one value is too large)");
  }
  PageHeader h;
  if (options_.data_page_v2) {
    h.type = PageType::kDataPageV2;
    DataPageHeaderV2 dp;
    dp.num_values = static_cast<int32_t>(page_rows_);
    dp.num_nulls = static_cast<int32_t>(page_nulls_);
    dp.num_rows = static_cast<int32_t>(page_rows_);
    dp.encoding = encoding;
    dp.definition_levels_byte_length = static_cast<int32_t>(levels_bytes);
    dp.repetition_levels_byte_length = 0;
    h.data_page_header_v2 = dp;
    const size_t at = chunk_.size();
    RETURN_IF_ERROR(EmitPage(&h, page_.view(), values_start, &chunk_));
    RecordPage(at);
  } else {
    h.type = PageType::kDataPage;
    DataPageHeader dp;
    dp.num_values = static_cast<int32_t>(page_rows_);
    dp.encoding = encoding;
    dp.definition_level_encoding = Encoding::kRle;
    dp.repetition_level_encoding = Encoding::kRle;
    h.data_page_header = dp;
    const size_t at = chunk_.size();
    RETURN_IF_ERROR(EmitPage(&h, page_.view(), 0, &chunk_));
    RecordPage(at);
  }
  values_.clear();
  indices_.clear();
  levels_.clear();
  chunk_rows_ += page_rows_;
  page_rows_ = 0;
  page_nulls_ = 0;
  return Status::OK();
}

Status ColumnWriter::EmitPage(PageHeader* h, std::string_view uncompressed, size_t skip,
                              ByteBuffer* dst) {
  std::string_view head = uncompressed.substr(0, skip);
  std::string_view body = uncompressed.substr(skip);
  if (options_.codec != CompressionCodec::kUncompressed) {
    compressed_.resize(compressor_->MaxCompressedLength(body.size()));
    ASSIGN_OR_RETURN(size_t n,
                     compressor_->CompressTo(body, compressed_.data(), compressed_.size()));
    compressed_.resize(n);
    // A v2 page may store its values raw when compression does not pay.
    if (h->data_page_header_v2 && n >= body.size()) {
      h->data_page_header_v2->is_compressed = false;
    } else {
      body = compressed_.view();
    }
  }
  h->uncompressed_page_size = static_cast<int32_t>(uncompressed.size());
  h->compressed_page_size = static_cast<int32_t>(head.size() + body.size());
  header_.clear();
  CompactWriter w(&header_);
  Serialize(*h, &w);
  dst->append(header_);
  dst->append(head);
  dst->append(body);
  chunk_uncompressed_ += static_cast<int64_t>(header_.size() + uncompressed.size());
  return Status::OK();
}

Status ColumnWriter::FinishChunk() {
  RETURN_IF_ERROR(FlushPage());
  dict_page_.clear();
  if (dict_data_pages_ == 0) return Status::OK();
  DictionaryStatistics();
  page_.clear();
  std::visit(
      [this](const auto& d) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(d)>, std::monostate>) {
          d.AppendPlain(&page_);
        }
      },
      dict_);
  PageHeader h;
  h.type = PageType::kDictionaryPage;
  DictionaryPageHeader dh;
  dh.num_values = static_cast<int32_t>(DictionarySize());
  dh.encoding = Encoding::kPlain;
  h.dictionary_page_header = dh;
  return EmitPage(&h, page_.view(), 0, &dict_page_);
}

ColumnMetaData ColumnWriter::ChunkMetaData(int64_t file_offset) const {
  ColumnMetaData m;
  m.type = physical_;
  // PLAIN covers the dictionary page too; RLE the definition levels.
  m.encodings.push_back(Encoding::kPlain);
  if (optional_) m.encodings.push_back(Encoding::kRle);
  if (dict_data_pages_ > 0) m.encodings.push_back(Encoding::kRleDictionary);
  m.path_in_schema = {field_.name};
  m.codec = options_.codec;
  m.num_values = chunk_rows_;
  m.total_uncompressed_size = chunk_uncompressed_;
  m.total_compressed_size = chunk_bytes();
  if (!dict_page_.empty()) m.dictionary_page_offset = file_offset;
  m.data_page_offset = file_offset + static_cast<int64_t>(dict_page_.size());
  m.statistics = stats_.ToThrift();
  PageType data_type = options_.data_page_v2 ? PageType::kDataPageV2 : PageType::kDataPage;
  if (!dict_page_.empty())
    m.encoding_stats.push_back({PageType::kDictionaryPage, Encoding::kPlain, 1});
  if (dict_data_pages_ > 0) {
    m.encoding_stats.push_back({data_type, Encoding::kRleDictionary, dict_data_pages_});
  }
  if (plain_data_pages_ > 0)
    m.encoding_stats.push_back({data_type, Encoding::kPlain, plain_data_pages_});
  return m;
}

OffsetIndex ColumnWriter::ChunkOffsetIndex(int64_t file_offset) const {
  OffsetIndex oi;
  oi.page_locations = page_locations_;
  const int64_t base = file_offset + static_cast<int64_t>(dict_page_.size());
  for (PageLocation& p : oi.page_locations) p.offset += base;
  return oi;
}

std::optional<ColumnIndex> ColumnWriter::ChunkColumnIndex() const {
  Statistics chunk = stats_.ToThrift();
  if (!chunk.min_value || !chunk.max_value || !page_minmax_ok_ || page_locations_.empty()) {
    return std::nullopt;
  }
  ColumnIndex ci = column_index_;
  // Ordered bounds let readers binary-search; compare neighbouring pages
  // with values (all-null pages have no bounds).
  bool asc = true, desc = true;
  const std::string* prev_min = nullptr;
  const std::string* prev_max = nullptr;
  for (size_t i = 0; i < ci.null_pages.size(); ++i) {
    if (ci.null_pages[i]) continue;
    if (prev_min != nullptr) {
      const int cmin = ComparePlainValues(physical_, *prev_min, ci.min_values[i]);
      const int cmax = ComparePlainValues(physical_, *prev_max, ci.max_values[i]);
      asc = asc && cmin <= 0 && cmax <= 0;
      desc = desc && cmin >= 0 && cmax >= 0;
    }
    prev_min = &ci.min_values[i];
    prev_max = &ci.max_values[i];
  }
  ci.boundary_order = asc    ? BoundaryOrder::kAscending
                      : desc ? BoundaryOrder::kDescending
                             : BoundaryOrder::kUnordered;
  return ci;
}

int64_t ColumnWriter::BufferedUncompressedBytes() const {
  return chunk_uncompressed_ + OpenPageBytes() + page_rows_ / 8 + DictionaryBytes();
}

void ColumnWriter::ResetChunk() {
  // Normally empty (FinishChunk flushed it); dropped after a failed chunk.
  values_.clear();
  indices_.clear();
  levels_.clear();
  bool_acc_ = 0;
  bool_bits_ = 0;
  page_rows_ = 0;
  page_nulls_ = 0;
  // A page far above page_bytes (one huge value) should not pin its memory.
  size_t keep = static_cast<size_t>(std::min<int64_t>(options_.page_bytes, int64_t{1} << 26)) * 4;
  values_.ShrinkIfAbove(keep);
  page_.ShrinkIfAbove(keep);
  compressed_.ShrinkIfAbove(keep);
  chunk_.clear();
  dict_page_.clear();
  chunk_rows_ = 0;
  chunk_uncompressed_ = 0;
  dict_data_pages_ = 0;
  plain_data_pages_ = 0;
  stats_.Reset();
  page_stats_.Reset();
  page_locations_.clear();
  column_index_ = ColumnIndex();
  page_minmax_ok_ = true;
  std::visit(
      [](auto& d) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(d)>, std::monostate>) d.Clear();
      },
      dict_);
  mode_ = std::holds_alternative<std::monostate>(dict_) ? Mode::kPlain : Mode::kDictionary;
  probed_ = false;
  dict_values_ = 0;
  dict_plain_bytes_ = 0;
}

int64_t ColumnWriter::reserved_bytes() const {
  int64_t dict = 0;
  std::visit(
      [&dict](const auto& d) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(d)>, std::monostate>) {
          dict = d.reserved_bytes();
        }
      },
      dict_);
  return dict +
         static_cast<int64_t>(values_.capacity() + indices_.capacity() * sizeof(uint32_t) +
                              levels_.capacity() + page_.capacity() + compressed_.capacity() +
                              header_.capacity() + dict_page_.capacity() + chunk_.capacity());
}

}  // namespace sluice::parquet
