#include "format/parquet/column_chunk_reader.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace sluice::parquet {

namespace {

// Bounds that no real page comes near; they stop a forged header from
// making the reader allocate gigabytes for a few bytes of input.
constexpr int64_t kMaxPageBytes = int64_t{1} << 30;
constexpr int64_t kWindowBytes = int64_t{1} << 20;
constexpr int64_t kMaxStringBytes = int64_t{UINT32_MAX};

uint32_t LoadLE32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// Grows a raw buffer without zeroing it (pages are overwritten whole).
char* Reserve(std::unique_ptr<char[]>* buf, int64_t* cap, int64_t n) {
  if (*cap < n) {
    int64_t c = std::max<int64_t>(n, *cap * 2);
    buf->reset(new char[static_cast<size_t>(c)]);
    *cap = c;
  }
  return buf->get();
}

template <int W>
bool GatherFixed(const uint8_t* dict, int64_t dict_size, const uint32_t* idx, int64_t m,
                 uint8_t* dst) {
  uint32_t bad = 0;
  for (int64_t i = 0; i < m; ++i) {
    uint32_t k = idx[i];
    bad |= static_cast<uint32_t>(k >= dict_size);
    uint32_t safe = k < dict_size ? k : 0;
    std::memcpy(dst + i * W, dict + static_cast<size_t>(safe) * W, W);
  }
  return bad == 0;
}

bool GatherFixedAny(const uint8_t* dict, int64_t dict_size, const uint32_t* idx, int64_t m, int w,
                    uint8_t* dst) {
  switch (w) {
    case 1:
      return GatherFixed<1>(dict, dict_size, idx, m, dst);
    case 4:
      return GatherFixed<4>(dict, dict_size, idx, m, dst);
    case 8:
      return GatherFixed<8>(dict, dict_size, idx, m, dst);
    case 12:
      return GatherFixed<12>(dict, dict_size, idx, m, dst);
    default:
      for (int64_t i = 0; i < m; ++i) {
        if (idx[i] >= dict_size) return false;
        std::memcpy(dst + i * w, dict + static_cast<size_t>(idx[i]) * w, w);
      }
      return true;
  }
}

// Spreads m dense values over the rows whose level is 1 (back to front, so
// that dst may hold the dense values at its start).
void Scatter(uint8_t* dst, const uint8_t* dense, const uint8_t* levels, int64_t rows, int w) {
  int64_t j = 0;
  for (int64_t i = 0; i < rows; ++i) {
    if (levels[i]) {
      std::memcpy(dst + i * w, dense + j * w, w);
      ++j;
    } else {
      std::memset(dst + i * w, 0, w);
    }
  }
}

}  // namespace

void RawColumn::Reset(int value_width, bool optional) {
  width = value_width;
  size = 0;
  data.clear();
  chars.clear();
  valid.clear();
  null_count = 0;
  if (value_width == 0) data.resize(sizeof(uint32_t), 0);
  (void)optional;
}

int PhysicalWidth(int32_t physical, int32_t type_length) {
  switch (physical) {
    case ptype::kBoolean:
      return 1;
    case ptype::kInt32:
    case ptype::kFloat:
      return 4;
    case ptype::kInt64:
    case ptype::kDouble:
      return 8;
    case ptype::kInt96:
      return 12;
    case ptype::kFixedLenByteArray:
      return type_length;
    default:
      return 0;
  }
}

ColumnChunkReader::ColumnChunkReader(const RandomAccessFile* file, LeafColumn leaf)
    : file_(file),
      leaf_(std::move(leaf)),
      width_(PhysicalWidth(leaf_.physical, leaf_.type_length)) {}

ColumnChunkReader::~ColumnChunkReader() = default;

Status ColumnChunkReader::Corrupt(const std::string& what) const {
  return Status::DataLoss("parquet file '" + file_->name() + "', column '" + leaf_.name +
                          "', row group " + std::to_string(row_group_) + ": " + what);
}

Status ColumnChunkReader::Unsupported(const std::string& what) const {
  return Status::InvalidArgument("parquet file '" + file_->name() + "', column '" + leaf_.name +
                                 "': " + what + " is not supported");
}

Status ColumnChunkReader::StartChunk(const ChunkMeta& meta, int row_group, int64_t begin,
                                     int64_t length) {
  row_group_ = row_group;
  codec_ = meta.codec;
  if (!IsSupportedCodec(codec_)) {
    return Unsupported("compression codec " + std::string(CodecName(codec_)) + " (" +
                       std::to_string(codec_) + ")");
  }
  pos_ = begin;
  end_ = begin + length;
  window_len_ = 0;
  has_dict_ = false;
  dict_size_ = 0;
  page_rows_left_ = 0;
  page_index_ = 0;
  index_.reset();
  group_rows_ = 0;
  next_data_page_ = 0;
  leading_done_ = false;
  row_ = 0;
  window_hint_end_ = 0;
  return Status::OK();
}

void ColumnChunkReader::SetOffsetIndex(OffsetIndexMeta index, int64_t group_rows) {
  index_ = std::move(index);
  group_rows_ = group_rows;
}

Result<const char*> ColumnChunkReader::Window(int64_t n) {
  if (n < 0 || n > end_ - pos_) return Corrupt("page runs past the end of the column chunk");
  if (pos_ >= window_start_ && pos_ + n <= window_start_ + window_len_) {
    return window_.get() + (pos_ - window_start_);
  }
  int64_t want = kWindowBytes;
  if (window_hint_end_ > pos_) want = std::min(want, window_hint_end_ - pos_);
  int64_t len = std::min(end_ - pos_, std::max(n, want));
  char* buf = Reserve(&window_, &window_cap_, len);
  RETURN_IF_ERROR(file_->ReadAt(pos_, static_cast<size_t>(len), buf));
  window_start_ = pos_;
  window_len_ = len;
  return static_cast<const char*>(buf);
}

Status ColumnChunkReader::LoadDictionary(const PageHeaderInfo& h, const char* bytes) {
  const int64_t n = h.dict->num_values;
  const auto* p = reinterpret_cast<const uint8_t*>(bytes);
  const int64_t size = h.uncompressed_size;
  if (n < 0) return Corrupt("negative dictionary size");
  if (h.dict->encoding != encoding::kPlain && h.dict->encoding != encoding::kPlainDictionary) {
    return Unsupported("dictionary page encoding " + std::string(EncodingName(h.dict->encoding)));
  }
  if (leaf_.physical == ptype::kBoolean) return Unsupported("a dictionary of BOOLEAN values");
  if (width_ > 0) {
    if (n > size / width_) return Corrupt("dictionary page is shorter than its values");
    dict_fixed_.assign(p, p + n * width_);
  } else {
    if (n > size / 4) return Corrupt("dictionary page is shorter than its values");
    dict_offsets_.resize(static_cast<size_t>(n) + 1);
    dict_chars_.clear();
    dict_offsets_[0] = 0;
    const uint8_t* q = p;
    const uint8_t* end = p + size;
    for (int64_t i = 0; i < n; ++i) {
      if (end - q < 4) return Corrupt("dictionary page is shorter than its values");
      uint32_t len = LoadLE32(q);
      q += 4;
      if (len > static_cast<uint64_t>(end - q)) {
        return Corrupt("dictionary value runs past the page");
      }
      dict_chars_.insert(dict_chars_.end(), q, q + len);
      q += len;
      dict_offsets_[i + 1] = static_cast<uint32_t>(dict_chars_.size());
    }
    // Padding so that every value can be copied with one 16-byte move.
    dict_chars_.resize(dict_chars_.size() + 16);
  }
  dict_size_ = n;
  has_dict_ = true;
  return Status::OK();
}

bool ColumnChunkReader::EncodingFits(int32_t enc) const {
  switch (enc) {
    case encoding::kPlain:
    case encoding::kPlainDictionary:
    case encoding::kRleDictionary:
      return true;
    case encoding::kRle:  // as a values encoding: booleans only
      return leaf_.physical == ptype::kBoolean;
    case encoding::kDeltaBinaryPacked:
      return leaf_.physical == ptype::kInt32 || leaf_.physical == ptype::kInt64;
    case encoding::kDeltaLengthByteArray:
      return leaf_.physical == ptype::kByteArray;
    case encoding::kDeltaByteArray:
      return leaf_.physical == ptype::kByteArray || leaf_.physical == ptype::kFixedLenByteArray;
    case encoding::kByteStreamSplit:
      return width_ > 0 && leaf_.physical != ptype::kBoolean && leaf_.physical != ptype::kInt96;
    default:
      return false;
  }
}

Status ColumnChunkReader::StartValues(int32_t enc, const uint8_t* p, size_t n) {
  if (!EncodingFits(enc)) {
    return Unsupported("encoding " + std::string(EncodingName(enc)) + " (" + std::to_string(enc) +
                       ") for " + std::string(PhysicalTypeName(leaf_.physical)) + " values");
  }
  encoding_ = enc;
  vp_ = p;
  vend_ = p + n;
  bit_pos_ = 0;
  if (n == 0) {
    // A page whose rows are all null has no values, and writers may store
    // no bytes at all for them whatever the encoding (not even the bit width
    // of dictionary indices or a delta header). An empty PLAIN section reads
    // the same: asking it for a value is "fewer values than its header says".
    encoding_ = encoding::kPlain;
    return Status::OK();
  }
  switch (enc) {
    case encoding::kPlainDictionary:
    case encoding::kRleDictionary:
      if (!has_dict_) return Corrupt("dictionary-encoded page without a dictionary page");
      if (p[0] > 32) return Corrupt("bad dictionary index bit width");
      encoding_ = encoding::kRleDictionary;
      rle_values_.Reset(p + 1, n - 1, p[0]);
      return Status::OK();
    case encoding::kRle:
      // Booleans: a 4-byte length, then the hybrid runs with bit width 1.
      if (n < 4 || LoadLE32(p) > n - 4) return Corrupt("bad RLE boolean data length");
      rle_values_.Reset(p + 4, LoadLE32(p), 1);
      return Status::OK();
    case encoding::kDeltaBinaryPacked:
      if (!delta_.Init(p, n)) return Corrupt("bad DELTA_BINARY_PACKED header");
      return Status::OK();
    case encoding::kDeltaLengthByteArray:
      if (!delta_length_.Init(p, n)) return Corrupt("bad DELTA_LENGTH_BYTE_ARRAY data");
      return Status::OK();
    case encoding::kDeltaByteArray:
      if (!delta_bytes_.Init(p, n)) return Corrupt("bad DELTA_BYTE_ARRAY data");
      return Status::OK();
    case encoding::kByteStreamSplit:
      bss_base_ = p;
      bss_index_ = 0;
      bss_count_ = static_cast<int64_t>(n) / width_;
      if (static_cast<int64_t>(n) % width_ != 0) return Corrupt("bad BYTE_STREAM_SPLIT size");
      return Status::OK();
    default:  // PLAIN (EncodingFits let nothing else through)
      return Status::OK();
  }
}

Status ColumnChunkReader::CheckCrc(uint32_t want, std::string_view bytes, int64_t at) const {
  uLong crc = crc32(0, nullptr, 0);
  // crc32() takes at most 4 GiB at a time; pages are smaller, but stay exact.
  for (size_t i = 0; i < bytes.size();) {
    const size_t step = std::min<size_t>(bytes.size() - i, size_t{1} << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + i), static_cast<uInt>(step));
    i += step;
  }
  if (static_cast<uint32_t>(crc) == want) return Status::OK();
  char detail[64];
  std::snprintf(detail, sizeof(detail), "header says %08x, its bytes give %08x", want,
                static_cast<uint32_t>(crc));
  return Corrupt("page " + std::to_string(page_index_) + " (at byte " + std::to_string(at) +
                 ") fails its CRC check (" + detail + "): the file is damaged");
}

Status ColumnChunkReader::NextDataPage() {
  while (true) {
    if (pos_ >= end_) return Corrupt("column chunk holds fewer values than the row group's rows");
    bool data = false;
    RETURN_IF_ERROR(NextPage(&data));
    if (data) return Status::OK();
  }
}

Status ColumnChunkReader::NextPage(bool* data) {
  *data = false;
  // The header's length is only known once parsed: try a small prefix first.
  const int64_t page_at = pos_;
  PageHeaderInfo h;
  size_t header_len = 0;
  for (int64_t want = std::min<int64_t>(end_ - pos_, 1024);; want *= 2) {
    want = std::min(want, end_ - pos_);
    ASSIGN_OR_RETURN(const char* p, Window(want));
    std::string err;
    HeaderParse r =
        ParsePageHeader(std::string_view(p, static_cast<size_t>(want)), &h, &header_len, &err);
    if (r == HeaderParse::kOk) break;
    if (r == HeaderParse::kCorrupt) return Corrupt("corrupt page header (" + err + ")");
    if (want >= end_ - pos_) return Corrupt("truncated page header");
  }
  pos_ += static_cast<int64_t>(header_len);
  if (h.compressed_size < 0 || h.uncompressed_size < 0 || h.uncompressed_size > kMaxPageBytes) {
    return Corrupt("bad page sizes in header");
  }
  ASSIGN_OR_RETURN(const char* body, Window(h.compressed_size));
  pos_ += h.compressed_size;
  const std::string_view compressed(body, static_cast<size_t>(h.compressed_size));
  // The CRC covers the page's bytes as stored; check it before anything
  // is decoded from them (any page type may carry one).
  if (h.crc) RETURN_IF_ERROR(CheckCrc(*h.crc, compressed, page_at));
  ++page_index_;
  auto decompress = [&](std::string_view in, int64_t out_size) -> Result<const char*> {
    // Nothing stored for nothing (an all-null v2 page's values, an empty
    // dictionary): no codec's stream is empty, so do not ask one.
    if (in.empty() && out_size == 0) return in.data();
    if (codec_ == codec::kUncompressed) {
      if (static_cast<int64_t>(in.size()) != out_size) {
        return Corrupt("page size does not match its header");
      }
      return in.data();
    }
    char* out = Reserve(&page_, &page_cap_, std::max<int64_t>(out_size, 1));
    Status st = decompressor_.Decompress(codec_, in, out, static_cast<size_t>(out_size));
    if (!st.ok()) {
      if (st.code() == StatusCode::kDataLoss) return Corrupt(st.message());
      return Unsupported(st.message());
    }
    return static_cast<const char*>(out);
  };

  if (h.type == page::kDictionary) {
    if (!h.dict) return Corrupt("dictionary page without its header");
    ASSIGN_OR_RETURN(const char* bytes, decompress(compressed, h.uncompressed_size));
    return LoadDictionary(h, bytes);
  }
  if (h.type == page::kData) {
    if (!h.data) return Corrupt("data page without its header");
    if (h.data->num_values < 0) return Corrupt("negative value count");
    if (h.data->num_values == 0) return Status::OK();
    RETURN_IF_ERROR(CheckIndexedPage(page_at, h.data->num_values));
    ASSIGN_OR_RETURN(const char* bytes, decompress(compressed, h.uncompressed_size));
    const auto* p = reinterpret_cast<const uint8_t*>(bytes);
    size_t n = static_cast<size_t>(h.uncompressed_size);
    if (leaf_.optional) {
      if (h.data->def_level_encoding != encoding::kRle) {
        return Unsupported("definition level encoding " +
                           std::string(EncodingName(h.data->def_level_encoding)));
      }
      if (n < 4 || LoadLE32(p) > n - 4) return Corrupt("bad definition levels length");
      uint32_t len = LoadLE32(p);
      def_levels_.Reset(p + 4, len, 1);
      p += 4 + len;
      n -= 4 + len;
    }
    RETURN_IF_ERROR(StartValues(h.data->encoding, p, n));
    page_rows_left_ = h.data->num_values;
    *data = true;
    return Status::OK();
  }
  if (h.type == page::kDataV2) {
    if (!h.data_v2) return Corrupt("data page v2 without its header");
    const DataPageV2Info& d = *h.data_v2;
    if (d.num_values < 0 || d.def_levels_bytes < 0 || d.rep_levels_bytes < 0 ||
        static_cast<int64_t>(d.def_levels_bytes) + d.rep_levels_bytes > h.compressed_size ||
        static_cast<int64_t>(d.def_levels_bytes) + d.rep_levels_bytes > h.uncompressed_size) {
      return Corrupt("bad level sizes in data page v2 header");
    }
    if (d.num_values == 0) return Status::OK();
    RETURN_IF_ERROR(CheckIndexedPage(page_at, d.num_values));
    // Levels are never compressed in v2; only the values section is.
    const int64_t levels = static_cast<int64_t>(d.def_levels_bytes) + d.rep_levels_bytes;
    const auto* lp = reinterpret_cast<const uint8_t*>(body) + d.rep_levels_bytes;
    if (leaf_.optional) def_levels_.Reset(lp, static_cast<size_t>(d.def_levels_bytes), 1);
    std::string_view values = compressed.substr(static_cast<size_t>(levels));
    const int64_t values_size = h.uncompressed_size - levels;
    const char* vbytes = values.data();
    if (d.is_compressed && codec_ != codec::kUncompressed) {
      ASSIGN_OR_RETURN(vbytes, decompress(values, values_size));
    } else if (static_cast<int64_t>(values.size()) != values_size) {
      return Corrupt("page size does not match its header");
    }
    RETURN_IF_ERROR(StartValues(d.encoding, reinterpret_cast<const uint8_t*>(vbytes),
                                static_cast<size_t>(values_size)));
    page_rows_left_ = d.num_values;
    *data = true;
    return Status::OK();
  }
  // Index pages and page types from the future carry no rows: skip them.
  return Status::OK();
}

Status ColumnChunkReader::CheckIndexedPage(int64_t page_at, int64_t rows) {
  leading_done_ = true;
  ++page_stats_.pages_read;
  if (!index_) return Status::OK();
  const size_t k = next_data_page_++;
  if (k >= index_->pages.size() || index_->pages[k].offset != page_at) {
    return Corrupt("the data page at byte " + std::to_string(page_at) +
                   " is not where the offset index puts page " + std::to_string(k));
  }
  const int64_t want = index_->EndRow(k, group_rows_) - index_->pages[k].first_row;
  if (rows != want) {
    return Corrupt("data page " + std::to_string(k) + " holds " + std::to_string(rows) +
                   " rows, its offset index entry " + std::to_string(want));
  }
  return Status::OK();
}

Status ColumnChunkReader::SeekPage(size_t k) {
  const std::vector<PageLoc>& pages = index_->pages;
  if (!leading_done_) {
    // The dictionary page sits before the first data page; later pages
    // need it, so it is the one page read on the way (and all the window
    // reads: not the data pages after it).
    window_hint_end_ = pages[0].offset;
    while (pos_ < pages[0].offset) {
      bool data = false;
      RETURN_IF_ERROR(NextPage(&data));
      if (data) {
        return Corrupt("a data page precedes the offset index's first page (at byte " +
                       std::to_string(pages[0].offset) + ")");
      }
    }
    if (pos_ != pages[0].offset) {
      return Corrupt("a page runs over the offset index's first page (at byte " +
                     std::to_string(pages[0].offset) + ")");
    }
    leading_done_ = true;
  }
  if (k > next_data_page_) page_stats_.pages_skipped += static_cast<int64_t>(k - next_data_page_);
  pos_ = pages[k].offset;
  window_hint_end_ = pages[k].offset + pages[k].size;
  page_rows_left_ = 0;
  next_data_page_ = k;
  row_ = pages[k].first_row;
  return Status::OK();
}

Status ColumnChunkReader::SkipRows(int64_t n) {
  if (n <= 0) return Status::OK();
  const int64_t target = row_ + n;
  if (index_ && !index_->pages.empty() && n > page_rows_left_) {
    if (target >= group_rows_) {
      // To the end of the chunk: nothing more to read.
      if (next_data_page_ < index_->pages.size()) {
        page_stats_.pages_skipped += static_cast<int64_t>(index_->pages.size() - next_data_page_);
      }
      next_data_page_ = index_->pages.size();
      page_rows_left_ = 0;
      pos_ = end_;
      row_ = target;
      return Status::OK();
    }
    const size_t k = index_->PageOf(target);
    if (k >= next_data_page_) RETURN_IF_ERROR(SeekPage(k));
  }
  // Inside a page (or without an index): decode and drop.
  while (row_ < target) {
    const int64_t m = std::min<int64_t>(target - row_, int64_t{1} << 16);
    skipped_.Reset(width_, leaf_.optional);
    RETURN_IF_ERROR(Read(m, &skipped_));
  }
  return Status::OK();
}

Status ColumnChunkReader::DecodeFixed(int64_t m, uint8_t* dst) {
  const int w = width_;
  switch (encoding_) {
    case encoding::kPlain: {
      if (leaf_.physical == ptype::kBoolean) {
        const int64_t avail_bits = (vend_ - vp_) * 8 - bit_pos_;
        if (m > avail_bits) return Corrupt("page holds fewer values than its header says");
        for (int64_t i = 0; i < m; ++i) {
          int64_t b = bit_pos_ + i;
          dst[i] = (vp_[b >> 3] >> (b & 7)) & 1;
        }
        bit_pos_ += m;
        return Status::OK();
      }
      if (m == 0) return Status::OK();
      if (m > (vend_ - vp_) / w) return Corrupt("page holds fewer values than its header says");
      std::memcpy(dst, vp_, static_cast<size_t>(m * w));
      vp_ += m * w;
      return Status::OK();
    }
    case encoding::kRleDictionary: {
      if (m == 0) return Status::OK();
      if (dict_size_ == 0) return Corrupt("dictionary index out of range (empty dictionary)");
      indices_.resize(static_cast<size_t>(m));
      if (rle_values_.GetBatch(indices_.data(), m) != m) {
        return Corrupt("dictionary indices end early");
      }
      if (!GatherFixedAny(dict_fixed_.data(), dict_size_, indices_.data(), m, w, dst)) {
        return Corrupt("dictionary index out of range");
      }
      return Status::OK();
    }
    case encoding::kRle:
      if (rle_values_.GetBatch(dst, m) != m) return Corrupt("RLE booleans end early");
      return Status::OK();
    case encoding::kDeltaBinaryPacked: {
      int64_t got = w == 4 ? delta_.Get(reinterpret_cast<int32_t*>(dst), m)
                           : delta_.Get(reinterpret_cast<int64_t*>(dst), m);
      if (got != m) return Corrupt("DELTA_BINARY_PACKED values end early");
      return Status::OK();
    }
    case encoding::kByteStreamSplit: {
      if (m > bss_count_ - bss_index_) {
        return Corrupt("page holds fewer values than its header says");
      }
      for (int b = 0; b < w; ++b) {
        const uint8_t* s = bss_base_ + b * bss_count_ + bss_index_;
        for (int64_t i = 0; i < m; ++i) dst[i * w + b] = s[i];
      }
      bss_index_ += m;
      return Status::OK();
    }
    case encoding::kDeltaByteArray: {  // FIXED_LEN_BYTE_ARRAY
      for (int64_t i = 0; i < m; ++i) {
        const char* s = nullptr;
        uint32_t len = 0;
        if (!delta_bytes_.Next(&s, &len)) return Corrupt("DELTA_BYTE_ARRAY values end early");
        if (static_cast<int>(len) != w) return Corrupt("value length differs from the type's");
        std::memcpy(dst + i * w, s, w);
      }
      return Status::OK();
    }
    default:
      break;
  }
  return Corrupt("unexpected encoding state");
}

// Copies a short string with one 16-byte move when both sides have the room;
// most strings in real tables are short, and a memcpy call per value costs
// more than the bytes it moves.
inline void CopyString(char* dst, const char* src, uint32_t len, const char* src_end) {
  if (len <= 16 && src_end != nullptr && src_end - src >= 16) {
    std::memcpy(dst, src, 16);
  } else {
    std::memcpy(dst, src, len);
  }
}

template <typename Next>
Status ColumnChunkReader::AppendStrings(int64_t rows, const uint8_t* levels, RawColumn* out,
                                        int64_t max_bytes, Next next) {
  const size_t base = static_cast<size_t>(out->size) + 1;
  out->data.resize((base + rows) * sizeof(uint32_t));
  auto* off = reinterpret_cast<uint32_t*>(out->data.data());
  std::vector<char>& chars = out->chars;
  size_t at = chars.size();
  if (static_cast<int64_t>(at) + max_bytes > kMaxStringBytes) {
    return Corrupt("more than 4 GiB of string data in one batch");
  }
  // Room for every byte this call can add, plus slack for 16-byte copies.
  chars.resize(at + static_cast<size_t>(max_bytes) + 16);
  for (int64_t i = 0; i < rows; ++i) {
    if (levels == nullptr || levels[i]) {
      const char* s = nullptr;
      const char* s_end = nullptr;
      uint32_t len = 0;
      if (!next(&s, &len, &s_end)) {
        chars.resize(at);
        return Corrupt("page holds fewer values than its header says");
      }
      CopyString(chars.data() + at, s, len, s_end);
      at += len;
    }
    off[base + i] = static_cast<uint32_t>(at);
  }
  chars.resize(at);
  return Status::OK();
}

Status ColumnChunkReader::DecodeStrings(int64_t rows, const uint8_t* levels, RawColumn* out) {
  switch (encoding_) {
    case encoding::kPlain:
      return AppendStrings(rows, levels, out, vend_ - vp_,
                           [this](const char** s, uint32_t* len, const char** s_end) {
                             if (vend_ - vp_ < 4) return false;
                             uint32_t l = LoadLE32(vp_);
                             if (l > static_cast<uint64_t>(vend_ - vp_ - 4)) return false;
                             *s = reinterpret_cast<const char*>(vp_ + 4);
                             *s_end = reinterpret_cast<const char*>(vend_);
                             *len = l;
                             vp_ += 4 + static_cast<int64_t>(l);
                             return true;
                           });
    case encoding::kRleDictionary: {
      int64_t m = rows;
      if (levels != nullptr) m = std::count(levels, levels + rows, uint8_t{1});
      // An empty dictionary has no entry 0 to stand in for a bad index below.
      if (m > 0 && dict_size_ == 0) {
        return Corrupt("dictionary index out of range (empty dictionary)");
      }
      indices_.resize(static_cast<size_t>(m));
      if (rle_values_.GetBatch(indices_.data(), m) != m) {
        return Corrupt("dictionary indices end early");
      }
      // Validate the indices and size the copy in one pass.
      int64_t total = 0;
      uint32_t bad = 0;
      const uint32_t* doff = dict_offsets_.data();
      for (int64_t i = 0; i < m; ++i) {
        uint32_t idx = indices_[i];
        bad |= static_cast<uint32_t>(idx >= dict_size_);
        uint32_t safe = idx < dict_size_ ? idx : 0;
        total += doff[safe + 1] - doff[safe];
      }
      if (bad != 0) return Corrupt("dictionary index out of range");
      size_t k = 0;
      const char* dict_end = dict_chars_.data() + dict_chars_.size();
      return AppendStrings(rows, levels, out, total,
                           [&](const char** s, uint32_t* len, const char** s_end) {
                             uint32_t idx = indices_[k++];
                             *s = dict_chars_.data() + doff[idx];
                             *len = doff[idx + 1] - doff[idx];
                             *s_end = dict_end;
                             return true;
                           });
    }
    case encoding::kDeltaLengthByteArray:
      return AppendStrings(rows, levels, out, delta_length_.bytes_left(),
                           [this](const char** s, uint32_t* len, const char** s_end) {
                             *s_end = nullptr;
                             return delta_length_.Next(s, len);
                           });
    case encoding::kDeltaByteArray: {
      // Values are built from the previous one, so their total is not known:
      // decode them first, then copy.
      strings_.clear();
      string_offsets_.assign(1, 0);
      int64_t m = rows;
      if (levels != nullptr) m = std::count(levels, levels + rows, uint8_t{1});
      for (int64_t i = 0; i < m; ++i) {
        const char* s = nullptr;
        uint32_t len = 0;
        if (!delta_bytes_.Next(&s, &len)) return Corrupt("DELTA_BYTE_ARRAY values end early");
        if (static_cast<int64_t>(strings_.size()) + len > kMaxStringBytes) {
          return Corrupt("more than 4 GiB of string data in one batch");
        }
        strings_.insert(strings_.end(), s, s + len);
        string_offsets_.push_back(static_cast<uint32_t>(strings_.size()));
      }
      size_t k = 0;
      return AppendStrings(rows, levels, out, static_cast<int64_t>(strings_.size()),
                           [&](const char** s, uint32_t* len, const char** s_end) {
                             *s = strings_.data() + string_offsets_[k];
                             *len = string_offsets_[k + 1] - string_offsets_[k];
                             *s_end = nullptr;
                             ++k;
                             return true;
                           });
    }
    default:
      break;
  }
  return Corrupt("unexpected encoding state");
}

Status ColumnChunkReader::Read(int64_t n, RawColumn* out) {
  row_ += n;
  while (n > 0) {
    if (page_rows_left_ == 0) RETURN_IF_ERROR(NextDataPage());
    const int64_t k = std::min(n, page_rows_left_);
    const uint8_t* levels = nullptr;
    int64_t present = k;
    if (leaf_.optional) {
      levels_.resize(static_cast<size_t>(k));
      if (def_levels_.GetBatch(levels_.data(), k) != k) {
        return Corrupt("definition levels end early");
      }
      levels = levels_.data();
      present = 0;
      for (int64_t i = 0; i < k; ++i) present += levels[i];
      out->valid.insert(out->valid.end(), levels, levels + k);
      out->null_count += k - present;
    }
    if (width_ == 0) {
      RETURN_IF_ERROR(DecodeStrings(k, levels, out));
    } else {
      const size_t at = static_cast<size_t>(out->size) * width_;
      if (present == k && encoding_ == encoding::kPlain && leaf_.physical != ptype::kBoolean) {
        // The common PLAIN case: append the page bytes as they are (no zero
        // fill of the destination first).
        if (k > (vend_ - vp_) / width_) {
          return Corrupt("page holds fewer values than its header says");
        }
        out->data.insert(out->data.end(), vp_, vp_ + k * width_);
        vp_ += k * width_;
        out->size += k;
        page_rows_left_ -= k;
        n -= k;
        continue;
      }
      out->data.resize(at + static_cast<size_t>(k) * width_);
      uint8_t* dst = out->data.data() + at;
      if (present == k) {
        RETURN_IF_ERROR(DecodeFixed(k, dst));
      } else {
        dense_.resize(static_cast<size_t>(present) * width_ + 1);
        RETURN_IF_ERROR(DecodeFixed(present, dense_.data()));
        Scatter(dst, dense_.data(), levels, k, width_);
      }
    }
    out->size += k;
    page_rows_left_ -= k;
    n -= k;
  }
  return Status::OK();
}

}  // namespace sluice::parquet
