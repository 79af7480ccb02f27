// Test-only readers for checking what the Parquet writer produced, written
// from the specs independently of the writer's code: a generic Thrift
// compact-protocol parser, an RLE/bit-packed hybrid decoder, and a minimal
// flat-file reader (footer, page headers v1/v2, dictionary pages, PLAIN and
// RLE_DICTIONARY values, definition levels).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "format/parquet/page_codec.h"

namespace sluice::parquet::testing {

// A decoded Thrift value. Structs keep their fields in wire order.
struct TValue {
  enum class Kind { kBool, kInt, kDouble, kBinary, kList, kStruct };
  Kind kind = Kind::kInt;
  bool b = false;
  int64_t i = 0;
  double d = 0;
  std::string s;
  std::vector<TValue> list;                        // kList
  std::vector<std::pair<int16_t, TValue>> fields;  // kStruct

  const TValue* Field(int16_t id) const {
    for (const auto& [fid, v] : fields) {
      if (fid == id) return &v;
    }
    return nullptr;
  }
  bool Has(int16_t id) const { return Field(id) != nullptr; }
  // The field's value; records a test failure (and returns a dummy) when absent.
  const TValue& At(int16_t id) const {
    const TValue* v = Field(id);
    if (v == nullptr) {
      ADD_FAILURE() << "thrift field " << id << " missing";
      static const TValue kEmpty;
      return kEmpty;
    }
    return *v;
  }
};

class CompactReader {
 public:
  explicit CompactReader(std::string_view data) : data_(data) {}

  // Reads one struct (up to and including its stop byte).
  TValue ReadStruct() {
    TValue v;
    v.kind = TValue::Kind::kStruct;
    int16_t last = 0;
    while (ok_) {
      uint8_t h = Byte();
      if (h == 0) break;
      int type = h & 0x0f;
      int delta = h >> 4;
      int16_t id = delta != 0 ? static_cast<int16_t>(last + delta)
                              : static_cast<int16_t>(Unzigzag(Varint()));
      last = id;
      TValue f;
      if (type == 1 || type == 2) {
        f.kind = TValue::Kind::kBool;
        f.b = type == 1;
      } else {
        f = ReadValue(type);
      }
      v.fields.emplace_back(id, std::move(f));
    }
    return v;
  }

  bool ok() const { return ok_; }
  size_t pos() const { return pos_; }

 private:
  TValue ReadValue(int type) {
    TValue v;
    switch (type) {
      case 1:
      case 2: {  // bool inside a list: one byte, 1 = true
        v.kind = TValue::Kind::kBool;
        v.b = Byte() == 1;
        break;
      }
      case 3:
        v.i = static_cast<int8_t>(Byte());
        break;
      case 4:
      case 5:
      case 6:
        v.i = Unzigzag(Varint());
        break;
      case 7: {
        v.kind = TValue::Kind::kDouble;
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits |= static_cast<uint64_t>(Byte()) << (8 * i);
        std::memcpy(&v.d, &bits, 8);
        break;
      }
      case 8: {
        v.kind = TValue::Kind::kBinary;
        uint64_t n = Varint();
        if (pos_ + n > data_.size()) {
          ok_ = false;
          break;
        }
        v.s.assign(data_.substr(pos_, n));
        pos_ += n;
        break;
      }
      case 9: {
        v.kind = TValue::Kind::kList;
        uint8_t h = Byte();
        uint64_t n = h >> 4;
        if (n == 15) n = Varint();
        for (uint64_t i = 0; i < n && ok_; ++i) v.list.push_back(ReadValue(h & 0x0f));
        break;
      }
      case 12:
        v = ReadStruct();
        break;
      default:
        ADD_FAILURE() << "unexpected compact type " << type;
        ok_ = false;
    }
    return v;
  }

  uint8_t Byte() {
    if (pos_ >= data_.size()) {
      ok_ = false;
      return 0;
    }
    return static_cast<uint8_t>(data_[pos_++]);
  }
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && ok_; shift += 7) {
      uint8_t b = Byte();
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) break;
    }
    return v;
  }
  static int64_t Unzigzag(uint64_t v) {
    return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
  }

  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Decodes `count` values of an RLE/bit-packed hybrid stream (no length
// prefix); *consumed (if given) is the bytes of the runs read.
inline std::vector<uint32_t> DecodeRleHybrid(std::string_view in, int bit_width, size_t count,
                                             size_t* consumed = nullptr) {
  std::vector<uint32_t> out;
  size_t pos = 0;
  auto byte = [&]() -> uint8_t { return pos < in.size() ? static_cast<uint8_t>(in[pos++]) : 0; };
  while (out.size() < count && pos < in.size()) {
    uint64_t header = 0;
    for (int shift = 0;; shift += 7) {
      uint8_t b = byte();
      header |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) break;
    }
    if (header & 1) {
      size_t n = (header >> 1) * 8;
      uint64_t acc = 0;
      int bits = 0;
      for (size_t i = 0; i < n; ++i) {
        while (bits < bit_width) {
          acc |= static_cast<uint64_t>(byte()) << bits;
          bits += 8;
        }
        uint32_t v = static_cast<uint32_t>(acc & ((uint64_t{1} << bit_width) - 1));
        acc >>= bit_width;
        bits -= bit_width;
        if (out.size() < count) out.push_back(v);
      }
    } else {
      uint32_t v = 0;
      for (int i = 0; i < (bit_width + 7) / 8; ++i) v |= static_cast<uint32_t>(byte()) << (8 * i);
      for (uint64_t i = 0; i < (header >> 1) && out.size() < count; ++i) out.push_back(v);
    }
  }
  if (consumed != nullptr) *consumed = pos;
  return out;
}

// One column of a flat file, read back: the values of the non-null rows (as
// raw little-endian bytes, or strings for BYTE_ARRAY), plus validity per row,
// whatever the pages' encoding (PLAIN or RLE_DICTIONARY) and version.
struct ReadColumn {
  std::vector<bool> valid;
  std::vector<std::string> values;  // BYTE_ARRAY values, or fixed-width raw bytes
  std::vector<bool> bools;          // BOOLEAN values
  int pages = 0;                    // data pages
  int dict_pages = 0;
  int64_t dict_size = 0;            // entries of the dictionary page
  std::vector<int> page_encodings;  // per data page, in order
  std::vector<int> page_types;      // per data page: 0 (v1) or 3 (v2)
  std::vector<int64_t> page_rows;   // per data page
  std::vector<int> bit_widths;      // per RLE_DICTIONARY page
  std::vector<bool> v2_compressed;  // per v2 page: is_compressed
};

inline std::string_view FileFooter(std::string_view file) {
  if (file.size() < 12) return {};
  uint32_t len = 0;
  std::memcpy(&len, file.data() + file.size() - 8, 4);
  if (len > file.size() - 12) return {};
  return file.substr(file.size() - 8 - len, len);
}

inline TValue ParseFooter(std::string_view file) {
  CompactReader r(FileFooter(file));
  TValue v = r.ReadStruct();
  EXPECT_TRUE(r.ok()) << "footer does not parse";
  return v;
}

// PLAIN values: `count` of them from `data` at *pos (fixed_width as in ReadChunk).
inline std::vector<std::string> ReadPlain(std::string_view data, size_t* pos, size_t count,
                                          int fixed_width) {
  std::vector<std::string> out;
  for (size_t i = 0; i < count; ++i) {
    if (fixed_width == 0) {
      uint32_t len = 0;
      if (*pos + 4 > data.size()) break;
      std::memcpy(&len, data.data() + *pos, 4);
      out.emplace_back(data.substr(*pos + 4, len));
      *pos += 4 + len;
    } else {
      out.emplace_back(data.substr(*pos, fixed_width));
      *pos += fixed_width;
    }
  }
  EXPECT_EQ(out.size(), count) << "PLAIN values run past the page";
  return out;
}

// Reads every page of the column chunk `chunk_md` (a ColumnMetaData value),
// dictionary page included. `optional` says whether pages carry definition
// levels; `fixed_width` is 0 for BYTE_ARRAY, -1 for BOOLEAN, else the value width.
inline ReadColumn ReadChunk(std::string_view file, const TValue& chunk_md, bool optional,
                            int fixed_width) {
  ReadColumn out;
  int64_t offset = chunk_md.Has(11) ? chunk_md.At(11).i : chunk_md.At(9).i;
  if (chunk_md.Has(11)) {
    EXPECT_LT(chunk_md.At(11).i, chunk_md.At(9).i) << "dictionary page must come first";
  }
  int64_t total = chunk_md.At(7).i;
  int64_t num_values = chunk_md.At(5).i;
  auto codec = static_cast<CompressionCodec>(chunk_md.At(4).i);
  int64_t end = offset + total;
  int64_t rows = 0;
  std::vector<std::string> dict;
  while (offset < end) {
    CompactReader r(file.substr(offset, end - offset));
    TValue h = r.ReadStruct();
    EXPECT_TRUE(r.ok());
    if (!r.ok()) return out;
    int64_t type = h.At(1).i;
    int64_t usize = h.At(2).i;
    int64_t csize = h.At(3).i;
    std::string_view raw = file.substr(offset + r.pos(), csize);
    offset += r.pos() + csize;
    std::string page;
    if (type == 2) {  // DICTIONARY_PAGE
      EXPECT_EQ(out.pages, 0) << "dictionary page after data pages";
      EXPECT_EQ(out.dict_pages, 0) << "second dictionary page";
      Status st = DecompressPage(codec, raw, usize, &page);
      EXPECT_TRUE(st.ok()) << st.ToString();
      const TValue& dh = h.At(7);
      EXPECT_EQ(dh.At(2).i, 0) << "dictionary page not PLAIN";
      out.dict_size = dh.At(1).i;
      size_t pos = 0;
      EXPECT_GE(fixed_width, 0) << "BOOLEAN columns have no dictionary";
      dict = ReadPlain(page, &pos, out.dict_size, fixed_width);
      EXPECT_EQ(pos, page.size()) << "dictionary page has trailing bytes";
      ++out.dict_pages;
      continue;
    }
    int64_t page_values = 0;
    int64_t encoding = 0;
    std::vector<uint32_t> levels;
    std::string values;  // the (decompressed) values section
    if (type == 0) {
      const TValue& dp = h.At(5);
      page_values = dp.At(1).i;
      encoding = dp.At(2).i;
      EXPECT_EQ(dp.At(3).i, 3) << "def levels not RLE";
      Status st = DecompressPage(codec, raw, usize, &page);
      EXPECT_TRUE(st.ok()) << st.ToString();
      size_t pos = 0;
      levels.assign(page_values, 1);
      if (optional) {
        uint32_t len = 0;
        std::memcpy(&len, page.data(), 4);
        levels = DecodeRleHybrid(std::string_view(page).substr(4, len), 1, page_values);
        pos = 4 + len;
      }
      values = page.substr(pos);
    } else if (type == 3) {
      const TValue& dp = h.At(8);
      page_values = dp.At(1).i;
      int64_t nulls = dp.At(2).i;
      EXPECT_EQ(dp.At(3).i, page_values) << "flat columns: one value per row";
      encoding = dp.At(4).i;
      int64_t def_len = dp.At(5).i;
      EXPECT_EQ(dp.At(6).i, 0) << "flat columns have no repetition levels";
      bool compressed = dp.Has(7) ? dp.At(7).b : true;
      out.v2_compressed.push_back(compressed);
      levels.assign(page_values, 1);
      if (optional) {
        levels = DecodeRleHybrid(raw.substr(0, def_len), 1, page_values);
      } else {
        EXPECT_EQ(def_len, 0);
      }
      int64_t zeros = std::count(levels.begin(), levels.end(), 0u);
      EXPECT_EQ(zeros, nulls) << "num_nulls";
      if (compressed) {
        Status st = DecompressPage(codec, raw.substr(def_len), usize - def_len, &values);
        EXPECT_TRUE(st.ok()) << st.ToString();
      } else {
        values.assign(raw.substr(def_len));
        EXPECT_EQ(static_cast<int64_t>(values.size()), usize - def_len);
      }
    } else {
      ADD_FAILURE() << "unexpected page type " << type;
      return out;
    }
    EXPECT_EQ(levels.size(), static_cast<size_t>(page_values));
    ++out.pages;
    out.page_encodings.push_back(static_cast<int>(encoding));
    out.page_types.push_back(static_cast<int>(type));
    out.page_rows.push_back(page_values);
    size_t valid = std::count(levels.begin(), levels.end(), 1u);
    for (uint32_t l : levels) out.valid.push_back(l == 1);
    size_t pos = 0;
    if (encoding == 0) {
      if (fixed_width < 0) {
        for (size_t i = 0; i < valid; ++i) {
          out.bools.push_back((static_cast<uint8_t>(values[i / 8]) >> (i % 8)) & 1);
        }
        pos = (valid + 7) / 8;
      } else {
        for (auto& v : ReadPlain(values, &pos, valid, fixed_width)) out.values.push_back(v);
      }
    } else if (encoding == 8 || encoding == 2) {
      EXPECT_EQ(out.dict_pages, 1) << "dictionary-encoded page without a dictionary";
      EXPECT_FALSE(values.empty());
      int bit_width = values.empty() ? 0 : static_cast<uint8_t>(values[0]);
      out.bit_widths.push_back(bit_width);
      EXPECT_GE(bit_width, 1);
      EXPECT_LE(bit_width, 32);
      size_t used = 0;
      std::vector<uint32_t> idx =
          DecodeRleHybrid(std::string_view(values).substr(1), bit_width, valid, &used);
      EXPECT_EQ(idx.size(), valid);
      for (uint32_t i : idx) {
        EXPECT_LT(i, dict.size());
        out.values.push_back(i < dict.size() ? dict[i] : std::string());
      }
      pos = values.empty() ? 0 : 1 + used;
    } else {
      ADD_FAILURE() << "unexpected encoding " << encoding;
    }
    EXPECT_EQ(pos, values.size()) << "page has trailing bytes";
    rows += page_values;
  }
  EXPECT_EQ(rows, num_values);
  return out;
}

template <typename T>
T FromLE(std::string_view bytes) {
  T v{};
  EXPECT_EQ(bytes.size(), sizeof(T));
  std::memcpy(&v, bytes.data(), std::min(bytes.size(), sizeof(T)));
  return v;
}

}  // namespace sluice::parquet::testing
