// Test-only readers for checking what the Parquet writer produced, written
// from the specs independently of the writer's code: a generic Thrift
// compact-protocol parser, an RLE/bit-packed hybrid decoder, and a minimal
// flat-file reader (footer, page headers, PLAIN values, definition levels).
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

// Decodes `count` values of an RLE/bit-packed hybrid stream (no length prefix).
inline std::vector<uint32_t> DecodeRleHybrid(std::string_view in, int bit_width, size_t count) {
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
  return out;
}

// One column of a flat file, read back: PLAIN values of the non-null rows (as
// raw little-endian bytes, or strings for BYTE_ARRAY), plus validity per row.
struct ReadColumn {
  std::vector<bool> valid;
  std::vector<std::string> values;  // BYTE_ARRAY values, or fixed-width raw bytes
  std::vector<bool> bools;          // BOOLEAN values
  int pages = 0;
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

// Reads every page of the column chunk `chunk_md` (a ColumnMetaData value).
// `optional` says whether pages carry definition levels; `fixed_width` is 0
// for BYTE_ARRAY, -1 for BOOLEAN, else the value width.
inline ReadColumn ReadChunk(std::string_view file, const TValue& chunk_md, bool optional,
                            int fixed_width) {
  ReadColumn out;
  int64_t offset = chunk_md.At(9).i;
  int64_t total = chunk_md.At(7).i;
  int64_t num_values = chunk_md.At(5).i;
  auto codec = static_cast<CompressionCodec>(chunk_md.At(4).i);
  int64_t end = offset + total;
  int64_t rows = 0;
  while (offset < end) {
    CompactReader r(file.substr(offset, end - offset));
    TValue h = r.ReadStruct();
    EXPECT_TRUE(r.ok());
    if (!r.ok()) return out;
    EXPECT_EQ(h.At(1).i, 0) << "not a DATA_PAGE";
    int64_t usize = h.At(2).i;
    int64_t csize = h.At(3).i;
    const TValue& dp = h.At(5);
    int64_t page_values = dp.At(1).i;
    EXPECT_EQ(dp.At(2).i, 0) << "values not PLAIN";
    EXPECT_EQ(dp.At(3).i, 3) << "def levels not RLE";
    std::string page;
    Status st = DecompressPage(codec, file.substr(offset + r.pos(), csize), usize, &page);
    EXPECT_TRUE(st.ok()) << st.ToString();
    offset += r.pos() + csize;
    ++out.pages;
    size_t pos = 0;
    std::vector<uint32_t> levels(page_values, 1);
    if (optional) {
      uint32_t len = 0;
      std::memcpy(&len, page.data(), 4);
      levels = DecodeRleHybrid(std::string_view(page).substr(4, len), 1, page_values);
      EXPECT_EQ(levels.size(), static_cast<size_t>(page_values));
      pos = 4 + len;
    }
    int bit = 0;
    for (uint32_t l : levels) {
      out.valid.push_back(l == 1);
      if (l != 1) continue;
      if (fixed_width < 0) {
        out.bools.push_back((static_cast<uint8_t>(page[pos]) >> bit) & 1);
        if (++bit == 8) {
          bit = 0;
          ++pos;
        }
      } else if (fixed_width == 0) {
        uint32_t len = 0;
        std::memcpy(&len, page.data() + pos, 4);
        out.values.push_back(page.substr(pos + 4, len));
        pos += 4 + len;
      } else {
        out.values.push_back(page.substr(pos, fixed_width));
        pos += fixed_width;
      }
    }
    if (bit > 0) ++pos;
    EXPECT_EQ(pos, page.size()) << "page has trailing bytes";
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
