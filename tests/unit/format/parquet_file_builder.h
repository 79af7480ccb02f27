// Hand-built Parquet files for reader tests: pages with any encoding, data
// page v1 or v2, schemas with any physical / logical / converted type, and
// footers with fields sluice's writer never emits (encryption, nesting).
// Built directly from the parquet-format spec with the Thrift compact writer.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "format/parquet/rle_encoder.h"
#include "format/parquet/thrift_compact.h"

namespace sluice::parquet::testing {

struct Leaf {
  Leaf(std::string n, int32_t t, int32_t rep = 1, int32_t len = 0)
      : name(std::move(n)), type(t), repetition(rep), type_length(len) {}
  std::string name;
  int32_t type = 1;        // physical type
  int32_t repetition = 1;  // 0 required, 1 optional, 2 repeated
  int32_t type_length = 0;
  std::optional<int32_t> converted;
  int32_t scale = 0, precision = 0;
  // LogicalType union member id and its struct fields, written raw:
  // e.g. {8, timestamp(adjusted, unit)}; empty = none.
  int16_t logical_id = 0;
  bool logical_utc = true;
  int16_t logical_unit = 2;  // TIME/TIMESTAMP unit member id
  int logical_bits = 0;      // INTEGER bit width
  bool logical_signed = true;
  int32_t num_children = 0;  // > 0 for a group node
};

inline void WriteLeaf(const Leaf& l, CompactWriter* w) {
  w->BeginStruct();
  if (l.num_children == 0) w->FieldI32(1, l.type);
  if (l.type_length > 0) w->FieldI32(2, l.type_length);
  w->FieldI32(3, l.repetition);
  w->FieldBinary(4, l.name);
  if (l.num_children > 0) w->FieldI32(5, l.num_children);
  if (l.converted) w->FieldI32(6, *l.converted);
  if (l.scale) w->FieldI32(7, l.scale);
  if (l.precision) w->FieldI32(8, l.precision);
  if (l.logical_id != 0) {
    w->FieldStructBegin(10);
    w->FieldStructBegin(l.logical_id);
    if (l.logical_id == 5) {
      w->FieldI32(1, l.scale);
      w->FieldI32(2, l.precision);
    } else if (l.logical_id == 7 || l.logical_id == 8) {
      w->FieldBool(1, l.logical_utc);
      w->FieldStructBegin(2);
      w->FieldStructBegin(l.logical_unit);
      w->EndStruct();
      w->EndStruct();
    } else if (l.logical_id == 10) {
      w->FieldI16(1, static_cast<int16_t>(l.logical_bits));  // i8 on the wire in the spec
      w->FieldBool(2, l.logical_signed);
    }
    w->EndStruct();
    w->EndStruct();
  }
  w->EndStruct();
}

inline std::string PageHeaderV1(int32_t num_values, int32_t encoding, size_t uncompressed,
                                size_t compressed) {
  std::string out;
  CompactWriter w(&out);
  w.BeginStruct();
  w.FieldI32(1, 0);
  w.FieldI32(2, static_cast<int32_t>(uncompressed));
  w.FieldI32(3, static_cast<int32_t>(compressed));
  w.FieldStructBegin(5);
  w.FieldI32(1, num_values);
  w.FieldI32(2, encoding);
  w.FieldI32(3, 3);
  w.FieldI32(4, 3);
  w.EndStruct();
  w.EndStruct();
  return out;
}

// A data page v1 (uncompressed): optional def levels (RLE, length prefixed),
// then the values bytes.
inline std::string DataPageV1(int32_t num_values, int32_t encoding, const std::string& values,
                              const std::vector<uint8_t>* def_levels = nullptr) {
  std::string body;
  if (def_levels != nullptr) {
    RleBitPackedEncoder e(1);
    for (uint8_t d : *def_levels) e.Put(d);
    std::string runs;
    e.FinishTo(&runs);
    uint32_t len = static_cast<uint32_t>(runs.size());
    body.append(reinterpret_cast<const char*>(&len), 4);
    body += runs;
  }
  body += values;
  return PageHeaderV1(num_values, encoding, body.size(), body.size()) + body;
}

inline std::string DictionaryPage(int32_t num_values, const std::string& values) {
  std::string out;
  CompactWriter w(&out);
  w.BeginStruct();
  w.FieldI32(1, 2);
  w.FieldI32(2, static_cast<int32_t>(values.size()));
  w.FieldI32(3, static_cast<int32_t>(values.size()));
  w.FieldStructBegin(7);
  w.FieldI32(1, num_values);
  w.FieldI32(2, 0);
  w.EndStruct();
  w.EndStruct();
  return out + values;
}

// A data page v2 (uncompressed): def levels without a length prefix.
inline std::string DataPageV2(int32_t num_values, int32_t encoding, const std::string& values,
                              const std::vector<uint8_t>* def_levels = nullptr) {
  std::string levels;
  int32_t nulls = 0;
  if (def_levels != nullptr) {
    RleBitPackedEncoder e(1);
    for (uint8_t d : *def_levels) {
      e.Put(d);
      nulls += d == 0;
    }
    e.FinishTo(&levels);
  }
  std::string out;
  CompactWriter w(&out);
  w.BeginStruct();
  w.FieldI32(1, 3);
  w.FieldI32(2, static_cast<int32_t>(levels.size() + values.size()));
  w.FieldI32(3, static_cast<int32_t>(levels.size() + values.size()));
  w.FieldStructBegin(8);
  w.FieldI32(1, num_values);
  w.FieldI32(2, nulls);
  w.FieldI32(3, num_values);
  w.FieldI32(4, encoding);
  w.FieldI32(5, static_cast<int32_t>(levels.size()));
  w.FieldI32(6, 0);
  w.FieldBool(7, false);
  w.EndStruct();
  w.EndStruct();
  return out + levels + values;
}

// A page with every header field under the test's control, for pages the
// helpers above do not make: compressed bodies, CRCs, v2 pages whose values
// section is empty or not marked compressed. `body` is stored as given.
struct RawPage {
  int32_t type = 0;  // 0 DATA_PAGE, 2 DICTIONARY_PAGE, 3 DATA_PAGE_V2
  std::string body;
  int32_t uncompressed_size = 0;
  std::optional<uint32_t> crc;  // PageHeader field 4
  int32_t num_values = 0;
  int32_t encoding = 0;
  // DATA_PAGE_V2 only.
  int32_t num_nulls = 0;
  int32_t def_levels_bytes = 0;
  bool is_compressed = true;
};

inline std::string PageBytes(const RawPage& p) {
  std::string out;
  CompactWriter w(&out);
  w.BeginStruct();
  w.FieldI32(1, p.type);
  w.FieldI32(2, p.uncompressed_size);
  w.FieldI32(3, static_cast<int32_t>(p.body.size()));
  if (p.crc) w.FieldI32(4, static_cast<int32_t>(*p.crc));
  if (p.type == 0) {
    w.FieldStructBegin(5);
    w.FieldI32(1, p.num_values);
    w.FieldI32(2, p.encoding);
    w.FieldI32(3, 3);
    w.FieldI32(4, 3);
    w.EndStruct();
  } else if (p.type == 2) {
    w.FieldStructBegin(7);
    w.FieldI32(1, p.num_values);
    w.FieldI32(2, p.encoding);
    w.EndStruct();
  } else if (p.type == 3) {
    w.FieldStructBegin(8);
    w.FieldI32(1, p.num_values);
    w.FieldI32(2, p.num_nulls);
    w.FieldI32(3, p.num_values);
    w.FieldI32(4, p.encoding);
    w.FieldI32(5, p.def_levels_bytes);
    w.FieldI32(6, 0);
    w.FieldBool(7, p.is_compressed);
    w.EndStruct();
  }
  w.EndStruct();
  return out + p.body;
}

// RLE/bit-packed definition levels of a max-level-1 column, without the
// 4-byte length prefix that data page v1 adds.
inline std::string DefLevels(const std::vector<uint8_t>& levels) {
  RleBitPackedEncoder e(1);
  for (uint8_t d : levels) e.Put(d);
  std::string runs;
  e.FinishTo(&runs);
  return runs;
}

struct FileSpec {
  std::vector<Leaf> leaves;  // in schema order (groups included)
  // chunks[rg][leaf] = the chunk's pages; rows[rg] = the row group's rows.
  std::vector<std::vector<std::string>> chunks;
  std::vector<int64_t> rows;
  int32_t codec = 0;
  bool encryption_algorithm = false;
  // Per chunk statistics min_value/max_value (PLAIN bytes), same shape as chunks.
  std::vector<std::vector<std::optional<std::pair<std::string, std::string>>>> stats;
  int32_t root_children = -1;  // default: leaves.size()
};

inline std::string BuildFile(const FileSpec& s) {
  std::string file = "PAR1";
  struct Placed {
    int64_t offset, size;
  };
  std::vector<std::vector<Placed>> placed;
  for (const auto& rg : s.chunks) {
    placed.emplace_back();
    for (const std::string& c : rg) {
      placed.back().push_back({static_cast<int64_t>(file.size()), static_cast<int64_t>(c.size())});
      file += c;
    }
  }
  std::string footer;
  CompactWriter w(&footer);
  w.BeginStruct();
  w.FieldI32(1, 1);
  w.FieldListBegin(2, CompactType::kStruct, static_cast<int64_t>(s.leaves.size() + 1));
  w.BeginStruct();
  w.FieldBinary(4, "schema");
  w.FieldI32(5, s.root_children >= 0 ? s.root_children : static_cast<int32_t>(s.leaves.size()));
  w.EndStruct();
  for (const Leaf& l : s.leaves) WriteLeaf(l, &w);
  int64_t total = 0;
  for (int64_t r : s.rows) total += r;
  w.FieldI64(3, total);
  w.FieldListBegin(4, CompactType::kStruct, static_cast<int64_t>(s.chunks.size()));
  for (size_t g = 0; g < s.chunks.size(); ++g) {
    w.BeginStruct();
    w.FieldListBegin(1, CompactType::kStruct, static_cast<int64_t>(s.chunks[g].size()));
    for (size_t c = 0; c < s.chunks[g].size(); ++c) {
      const Leaf& l = s.leaves[c];
      w.BeginStruct();
      w.FieldI64(2, placed[g][c].offset);
      w.FieldStructBegin(3);
      w.FieldI32(1, l.type);
      w.FieldListBegin(2, CompactType::kI32, 1);
      w.ElemI32(0);
      w.FieldListBegin(3, CompactType::kBinary, 1);
      w.ElemBinary(l.name);
      w.FieldI32(4, s.codec);
      w.FieldI64(5, s.rows[g]);
      w.FieldI64(6, placed[g][c].size);
      w.FieldI64(7, placed[g][c].size);
      w.FieldI64(9, placed[g][c].offset);
      if (g < s.stats.size() && c < s.stats[g].size() && s.stats[g][c]) {
        w.FieldStructBegin(12);
        w.FieldBinary(5, s.stats[g][c]->second);
        w.FieldBinary(6, s.stats[g][c]->first);
        w.EndStruct();
      }
      w.EndStruct();
      w.EndStruct();
    }
    w.FieldI64(2, 0);
    w.FieldI64(3, s.rows[g]);
    w.EndStruct();
  }
  if (s.encryption_algorithm) {
    w.FieldStructBegin(8);
    w.FieldStructBegin(1);  // AES_GCM_V1
    w.EndStruct();
    w.EndStruct();
  }
  w.EndStruct();
  file += footer;
  uint32_t len = static_cast<uint32_t>(footer.size());
  file.append(reinterpret_cast<const char*>(&len), 4);
  file += "PAR1";
  return file;
}

// PLAIN bytes of fixed-width values.
template <typename T>
std::string Plain(const std::vector<T>& v) {
  std::string out(v.size() * sizeof(T), '\0');
  if (!v.empty()) std::memcpy(out.data(), v.data(), out.size());
  return out;
}

inline std::string PlainStrings(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) {
    uint32_t n = static_cast<uint32_t>(s.size());
    out.append(reinterpret_cast<const char*>(&n), 4);
    out += s;
  }
  return out;
}

inline void AppendUleb(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

inline uint64_t Zz(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}

// DELTA_BINARY_PACKED with one block of 128 values in 4 miniblocks of 32, as
// written by the reference implementations (values fit one block per 128).
inline std::string DeltaBinaryPacked(const std::vector<int64_t>& v) {
  std::string out;
  AppendUleb(128, &out);
  AppendUleb(4, &out);
  AppendUleb(v.size(), &out);
  AppendUleb(Zz(v.empty() ? 0 : v[0]), &out);
  for (size_t start = 1; start < v.size(); start += 128) {
    size_t end = std::min(v.size(), start + 128);
    std::vector<int64_t> d;
    for (size_t i = start; i < end; ++i)
      d.push_back(
          static_cast<int64_t>(static_cast<uint64_t>(v[i]) - static_cast<uint64_t>(v[i - 1])));
    int64_t min = *std::min_element(d.begin(), d.end());
    AppendUleb(Zz(min), &out);
    std::vector<uint64_t> rel(128, 0);
    for (size_t i = 0; i < d.size(); ++i)
      rel[i] = static_cast<uint64_t>(d[i]) - static_cast<uint64_t>(min);
    size_t used_mb = (d.size() + 31) / 32;
    int widths[4] = {0, 0, 0, 0};
    for (size_t m = 0; m < 4; ++m) {
      for (size_t i = m * 32; i < (m + 1) * 32 && i < d.size(); ++i) {
        while (widths[m] < 64 && (rel[i] >> widths[m]) != 0) ++widths[m];
      }
    }
    for (int m = 0; m < 4; ++m) out.push_back(static_cast<char>(widths[m]));
    for (size_t m = 0; m < used_mb; ++m) {
      // 32 values LSB-first at widths[m] bits each.
      std::string bits(static_cast<size_t>(widths[m]) * 4, '\0');
      for (size_t i = 0; i < 32; ++i) {
        for (int b = 0; b < widths[m]; ++b) {
          if ((rel[m * 32 + i] >> b) & 1) {
            size_t bit = i * widths[m] + b;
            bits[bit / 8] = static_cast<char>(bits[bit / 8] | (1 << (bit % 8)));
          }
        }
      }
      out += bits;
    }
  }
  return out;
}

}  // namespace sluice::parquet::testing
