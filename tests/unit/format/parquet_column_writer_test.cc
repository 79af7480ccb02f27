// ColumnWriter on its own: one column chunk written to memory and read back
// with the independent test reader (parquet_test_reader.h), which decodes the
// dictionary page, RLE_DICTIONARY and PLAIN pages, v1 and v2 headers and the
// definition levels from the spec, not from the writer's code.
#include "format/parquet/column_writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "format/parquet/dictionary_encoder.h"
#include "parquet_test_reader.h"

namespace sluice::parquet {
namespace {

using testing::CompactReader;
using testing::FromLE;
using testing::ReadChunk;
using testing::ReadColumn;
using testing::TValue;

// One written chunk: its bytes (as if at file offset 0) and its metadata as
// a reader parses it from the footer.
struct Chunk {
  std::string bytes;
  TValue meta;
  ReadColumn read;
};

int WidthArg(const DataType& t) {
  if (t.id == TypeId::kString) return 0;
  if (t.id == TypeId::kBool) return -1;
  if (t.id == TypeId::kDecimal && t.precision <= 9) return 4;
  return t.FixedWidth();
}

ColumnWriterOptions Options(int64_t page_bytes = 1 << 20, bool dictionary = true,
                            int64_t dictionary_page_bytes = 1 << 20, bool v2 = false,
                            CompressionCodec codec = CompressionCodec::kZstd) {
  ColumnWriterOptions o;
  o.page_bytes = page_bytes;
  o.dictionary = dictionary;
  o.dictionary_page_bytes = dictionary_page_bytes;
  o.data_page_v2 = v2;
  o.codec = codec;
  return o;
}

Compression FromCodec(CompressionCodec c) {
  switch (c) {
    case CompressionCodec::kSnappy:
      return Compression::kSnappy;
    case CompressionCodec::kGzip:
      return Compression::kGzip;
    case CompressionCodec::kZstd:
      return Compression::kZstd;
    default:
      return Compression::kUncompressed;
  }
}

// Appends `col` to a fresh writer in slices of `slice` rows and finishes the chunk.
Chunk WriteChunk(const Field& field, const ColumnWriterOptions& o, const Column& col,
                 int64_t slice = 1000, ColumnWriter* reuse = nullptr) {
  auto compressor = PageCompressor::Make(FromCodec(o.codec), 3);
  EXPECT_TRUE(compressor.ok());
  std::unique_ptr<ColumnWriter> own;
  ColumnWriter* w = reuse;
  if (w == nullptr) {
    own = std::make_unique<ColumnWriter>(field, o);
    w = own.get();
  }
  w->set_compressor(compressor->get());
  for (int64_t off = 0; off < col.size(); off += slice) {
    Status st = w->Append(col, off, std::min(slice, col.size() - off));
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  Status st = w->FinishChunk();
  EXPECT_TRUE(st.ok()) << st.ToString();
  Chunk c;
  c.bytes = std::string(w->dictionary_page()) + std::string(w->data_pages());
  EXPECT_EQ(static_cast<int64_t>(c.bytes.size()), w->chunk_bytes());
  std::string md = SerializeToString(w->ChunkMetaData(0));
  CompactReader r(md);
  c.meta = r.ReadStruct();
  EXPECT_TRUE(r.ok());
  c.read = ReadChunk(c.bytes, c.meta, field.nullable, WidthArg(field.type));
  return c;
}

// The PLAIN bytes of row i as the file stores it.
std::string PlainOf(const Column& col, int64_t i) {
  const DataType& t = col.type();
  if (t.id == TypeId::kString) return std::string(col.GetString(i));
  if (t.id == TypeId::kDecimal && t.precision <= 9) {
    int32_t v = static_cast<int32_t>(col.Value<int64_t>(i));
    return std::string(reinterpret_cast<const char*>(&v), 4);
  }
  int w = t.FixedWidth();
  return std::string(col.data<char>() + i * w, w);
}

// Every row of `col` came back, nulls in place.
void ExpectValues(const Column& col, const ReadColumn& rc) {
  ASSERT_EQ(static_cast<int64_t>(rc.valid.size()), col.size());
  size_t vi = 0;
  for (int64_t i = 0; i < col.size(); ++i) {
    ASSERT_EQ(rc.valid[i], col.IsValid(i)) << "row " << i;
    if (!col.IsValid(i)) continue;
    if (col.type().id == TypeId::kBool) {
      ASSERT_EQ(rc.bools.at(vi), col.Value<uint8_t>(i) != 0) << "row " << i;
    } else {
      ASSERT_EQ(rc.values.at(vi), PlainOf(col, i)) << "row " << i;
    }
    ++vi;
  }
}

std::vector<int64_t> Encodings(const TValue& meta) {
  std::vector<int64_t> out;
  for (const TValue& e : meta.At(2).list) out.push_back(e.i);
  std::sort(out.begin(), out.end());
  return out;
}

// encoding_stats as (page type, encoding) -> count.
std::map<std::pair<int64_t, int64_t>, int64_t> EncodingStats(const TValue& meta) {
  std::map<std::pair<int64_t, int64_t>, int64_t> out;
  if (!meta.Has(13)) return out;
  for (const TValue& e : meta.At(13).list) out[{e.At(1).i, e.At(2).i}] = e.At(3).i;
  return out;
}

// Appends row k of a low-cardinality sequence (37 distinct values) of `t`.
void AppendCyclic(Column* c, int64_t k) {
  int64_t m = k % 37;
  switch (c->type().id) {
    case TypeId::kBool:
      c->Append<uint8_t>(m % 2);
      break;
    case TypeId::kInt32:
    case TypeId::kDate:
      c->Append<int32_t>(static_cast<int32_t>(m * 1000 - 18000));
      break;
    case TypeId::kDecimal:
      c->Append<int64_t>(c->type().precision <= 9 ? m * 10000000 - 180000000
                                                  : m * 100000000000LL - 1800000000000LL);
      break;
    case TypeId::kInt64:
    case TypeId::kTimestamp:
      c->Append<int64_t>(m * 1000000007LL - 5);
      break;
    case TypeId::kFloat64:
      c->Append<double>(m * 0.25 - 3);
      break;
    case TypeId::kString:
      c->AppendString(m == 0 ? std::string() : "value-" + std::to_string(m));
      break;
  }
}

struct TypeCase {
  const char* name;
  DataType type;
};
void PrintTo(const TypeCase& c, std::ostream* os) { *os << c.name; }

class ColumnWriterTypeTest : public ::testing::TestWithParam<TypeCase> {};

TEST_P(ColumnWriterTypeTest, LowCardinalityIsDictionaryEncoded) {
  for (bool nullable : {true, false}) {
    SCOPED_TRACE(nullable ? "optional" : "required");
    Field f{"c", GetParam().type, nullable};
    Column col(f.type);
    for (int64_t k = 0; k < 20000; ++k) {
      if (nullable && k % 5 == 1) {
        col.AppendNull();
      } else {
        AppendCyclic(&col, k);
      }
    }
    Chunk c = WriteChunk(f, Options(/*page_bytes=*/2000), col, 777);
    ExpectValues(col, c.read);
    EXPECT_EQ(c.meta.At(5).i, 20000);
    EXPECT_EQ(c.read.dict_pages, 1);
    EXPECT_EQ(c.read.dict_size, 37);
    EXPECT_GT(c.read.pages, 1);
    for (int e : c.read.page_encodings) EXPECT_EQ(e, 8);
    for (int bw : c.read.bit_widths) EXPECT_EQ(bw, 6);
    ASSERT_TRUE(c.meta.Has(11));
    EXPECT_EQ(c.meta.At(11).i, 0);  // the dictionary page opens the chunk
    std::vector<int64_t> want = {0, 8};
    if (nullable) want = {0, 3, 8};
    EXPECT_EQ(Encodings(c.meta), want);
    auto stats = EncodingStats(c.meta);
    EXPECT_EQ((stats[{2, 0}]), 1);
    EXPECT_EQ((stats[{0, 8}]), c.read.pages);
    EXPECT_EQ(stats.size(), 2u);
    EXPECT_EQ(c.meta.At(12).At(3).i, nullable ? 4000 : 0);
    // Min and max are the extremes of the 37 values.
    Column lo(f.type), hi(f.type);
    AppendCyclic(&lo, 0);
    AppendCyclic(&hi, 36);
    if (f.type.id == TypeId::kString) {
      EXPECT_EQ(c.meta.At(12).At(6).s, "");
      EXPECT_EQ(c.meta.At(12).At(5).s, "value-9");  // byte order: "value-9" > "value-36"
    } else {
      EXPECT_EQ(c.meta.At(12).At(6).s, PlainOf(lo, 0));
      EXPECT_EQ(c.meta.At(12).At(5).s, PlainOf(hi, 0));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Types, ColumnWriterTypeTest,
                         ::testing::Values(TypeCase{"int32", DataType::Int32()},
                                           TypeCase{"date", DataType::Date()},
                                           TypeCase{"int64", DataType::Int64()},
                                           TypeCase{"timestamp", DataType::Timestamp()},
                                           TypeCase{"decimal9", DataType::Decimal(9, 2)},
                                           TypeCase{"decimal18", DataType::Decimal(18, 4)},
                                           TypeCase{"float64", DataType::Float64()},
                                           TypeCase{"string", DataType::String()}),
                         [](const ::testing::TestParamInfo<TypeCase>& i) {
                           return std::string(i.param.name);
                         });

TEST(ColumnWriterTest, BitWidthFollowsTheDictionarySize) {
  for (uint32_t size : {1u, 2u, 3u, 255u, 256u, 257u, 65536u, 65537u, 200000u}) {
    SCOPED_TRACE(size);
    Field f{"x", DataType::Int32(), false};
    Column col(f.type);
    // A low-cardinality start gets the dictionary past the probe; then every
    // value of 0..size-1, twice.
    for (int k = 0; k < 10000; ++k) col.Append<int32_t>(k % std::min<uint32_t>(size, 16));
    for (int rep = 0; rep < 2; ++rep) {
      for (uint32_t v = 0; v < size; ++v) col.Append<int32_t>(static_cast<int32_t>(v));
    }
    ColumnWriterOptions o = Options(/*page_bytes=*/int64_t{1} << 30);
    o.page_rows = int64_t{1} << 20;  // one page
    Chunk c = WriteChunk(f, o, col, 4096);
    ExpectValues(col, c.read);
    EXPECT_EQ(c.read.dict_size, size);
    ASSERT_EQ(c.read.bit_widths.size(), 1u);
    EXPECT_EQ(c.read.bit_widths[0], DictionaryIndexBitWidth(size));
  }
}

// The dictionary reaches dictionary_page_bytes mid-chunk: the pages before
// keep their indices, the rest of the chunk is PLAIN, and the dictionary page
// still comes first.
TEST(ColumnWriterTest, FallsBackToPlainWhenTheDictionaryFills) {
  struct Case {
    const char* name;
    DataType type;
  } cases[] = {{"int32", DataType::Int32()}, {"string", DataType::String()}};
  for (const Case& t : cases) {
    SCOPED_TRACE(t.name);
    Field f{"x", t.type, true};
    Column col(f.type);
    auto put = [&](int64_t v) {
      if (t.type.id == TypeId::kString) {
        col.AppendString("s" + std::to_string(v));
      } else {
        col.Append<int32_t>(static_cast<int32_t>(v));
      }
    };
    for (int64_t k = 0; k < 9000; ++k) {
      if (k % 10 == 3) {
        col.AppendNull();
      } else {
        put(k % 100);
      }
    }
    for (int64_t k = 0; k < 20000; ++k) put(100000 + k);  // all new
    const int64_t limit = 4096;
    Chunk c = WriteChunk(f, Options(/*page_bytes=*/1000, true, limit), col, 1500);
    ExpectValues(col, c.read);
    EXPECT_EQ(c.read.dict_pages, 1);
    // The PLAIN dictionary page is as full as the limit allows: 1024 int32s,
    // or the 90 values of "s0".."s99" that occur (621 bytes with lengths) plus
    // 315 of "s1xxxxx" (11 bytes each).
    EXPECT_EQ(c.read.dict_size, t.type.id == TypeId::kString ? 405 : 1024);
    // Pages: indices first, then PLAIN only, several of each.
    auto first_plain = std::find(c.read.page_encodings.begin(), c.read.page_encodings.end(), 0) -
                       c.read.page_encodings.begin();
    EXPECT_GE(first_plain, 2);
    EXPECT_LE(first_plain + 2, static_cast<int64_t>(c.read.page_encodings.size()));
    for (size_t p = 0; p < c.read.page_encodings.size(); ++p) {
      EXPECT_EQ(c.read.page_encodings[p], static_cast<int64_t>(p) < first_plain ? 8 : 0) << p;
    }
    EXPECT_EQ(Encodings(c.meta), (std::vector<int64_t>{0, 3, 8}));
    auto stats = EncodingStats(c.meta);
    EXPECT_EQ((stats[{0, 8}]), first_plain);
    EXPECT_EQ((stats[{0, 0}]), static_cast<int64_t>(c.read.pages) - first_plain);
    EXPECT_EQ(c.meta.At(12).At(3).i, 900);
    // Statistics cover both parts of the chunk.
    if (t.type.id == TypeId::kInt32) {
      EXPECT_EQ(FromLE<int32_t>(c.meta.At(12).At(6).s), 0);
      EXPECT_EQ(FromLE<int32_t>(c.meta.At(12).At(5).s), 119999);
    } else {
      EXPECT_EQ(c.meta.At(12).At(6).s, "s0");
      EXPECT_EQ(c.meta.At(12).At(5).s, "s99");
    }
  }
}

// A value too large for the dictionary on its own, first in the chunk.
TEST(ColumnWriterTest, AValueLargerThanTheDictionaryLimit) {
  Field f{"s", DataType::String(), false};
  Column col(f.type);
  col.AppendString(std::string(5000, 'x'));
  for (int k = 0; k < 3000; ++k) col.AppendString(k % 2 ? "a" : "b");
  Chunk c = WriteChunk(f, Options(1 << 20, true, /*dictionary_page_bytes=*/1024), col);
  ExpectValues(col, c.read);
  EXPECT_EQ(c.read.dict_pages, 0);
  for (int e : c.read.page_encodings) EXPECT_EQ(e, 0);
}

TEST(ColumnWriterTest, ProbeDropsADictionaryThatDoesNotPay) {
  Field f{"id", DataType::Int64(), false};
  Column col(f.type);
  for (int64_t k = 0; k < 50000; ++k) col.Append<int64_t>(k * 3 + 1);
  ColumnWriter w(f, Options(/*page_bytes=*/100000));
  auto compressor = PageCompressor::Make(Compression::kZstd, 3);
  w.set_compressor(compressor->get());
  ASSERT_TRUE(w.Append(col, 0, 100).ok());
  EXPECT_TRUE(w.dictionary_active());  // not probed yet
  ASSERT_TRUE(w.Append(col, 100, kDictionaryProbeValues).ok());
  EXPECT_FALSE(w.dictionary_active());
  w.ResetChunk();
  Chunk c = WriteChunk(f, Options(/*page_bytes=*/100000), col, 5000, &w);
  ExpectValues(col, c.read);
  EXPECT_EQ(c.read.dict_pages, 0);
  EXPECT_FALSE(c.meta.Has(11));
  EXPECT_EQ(Encodings(c.meta), (std::vector<int64_t>{0}));
  for (int e : c.read.page_encodings) EXPECT_EQ(e, 0);
  EXPECT_EQ(FromLE<int64_t>(c.meta.At(12).At(6).s), 1);
  EXPECT_EQ(FromLE<int64_t>(c.meta.At(12).At(5).s), 49999 * 3 + 1);

  // Fewer values than the probe needs: decided when the chunk is finished.
  Column few(f.type);
  for (int64_t k = 0; k < 500; ++k) few.Append<int64_t>(k);
  Chunk d = WriteChunk(f, Options(), few);
  ExpectValues(few, d.read);
  EXPECT_EQ(d.read.dict_pages, 0);
  EXPECT_EQ(d.read.pages, 1);
}

TEST(ColumnWriterTest, DictionaryOffWritesPlain) {
  Field f{"s", DataType::String(), true};
  Column col(f.type);
  for (int64_t k = 0; k < 5000; ++k) AppendCyclic(&col, k);
  Chunk c = WriteChunk(f, Options(1 << 20, /*dictionary=*/false), col);
  ExpectValues(col, c.read);
  EXPECT_EQ(c.read.dict_pages, 0);
  EXPECT_EQ(Encodings(c.meta), (std::vector<int64_t>{0, 3}));
}

TEST(ColumnWriterTest, BooleansStayPlain) {
  Field f{"b", DataType::Bool(), true};
  Column col(f.type);
  for (int64_t k = 0; k < 30000; ++k) {
    if (k % 7 == 0) {
      col.AppendNull();
    } else {
      col.Append<uint8_t>(k % 3 == 0);
    }
  }
  Chunk c = WriteChunk(f, Options(/*page_bytes=*/500), col, 999);
  ExpectValues(col, c.read);
  EXPECT_EQ(c.read.dict_pages, 0);
  EXPECT_GT(c.read.pages, 3);
  for (int e : c.read.page_encodings) EXPECT_EQ(e, 0);
}

TEST(ColumnWriterTest, NullsAndAllNullChunks) {
  Field f{"s", DataType::String(), true};
  Column sparse(f.type);
  for (int64_t k = 0; k < 40000; ++k) {
    if (k % 10 != 0) {
      sparse.AppendNull();
    } else {
      sparse.AppendString(k % 20 == 0 ? "x" : "y");
    }
  }
  Chunk c = WriteChunk(f, Options(/*page_bytes=*/300), sparse, 3333);
  ExpectValues(sparse, c.read);
  EXPECT_EQ(c.read.dict_pages, 1);
  EXPECT_EQ(c.read.dict_size, 2);
  EXPECT_EQ(c.meta.At(12).At(3).i, 36000);
  EXPECT_EQ(c.meta.At(12).At(6).s, "x");
  EXPECT_EQ(c.meta.At(12).At(5).s, "y");

  for (bool v2 : {false, true}) {
    Column none(f.type);
    for (int64_t k = 0; k < 10000; ++k) none.AppendNull();
    Chunk n = WriteChunk(f, Options(1 << 20, true, 1 << 20, v2), none, 4000);
    ExpectValues(none, n.read);
    EXPECT_EQ(n.read.dict_pages, 0);
    EXPECT_EQ(n.meta.At(12).At(3).i, 10000);
    EXPECT_FALSE(n.meta.At(12).Has(5));
    EXPECT_FALSE(n.meta.At(12).Has(6));
  }
}

// REQUIRED columns carry no definition levels: the reader, told the column
// is required, would misread any level bytes as values.
TEST(ColumnWriterTest, RequiredColumnsHaveNoLevels) {
  for (bool dictionary : {true, false}) {
    Field f{"x", DataType::Int64(), false};
    Column col(f.type);
    for (int64_t k = 0; k < 3000; ++k) col.Append<int64_t>(k % 3);
    Chunk c = WriteChunk(
        f, Options(1 << 20, dictionary, 1 << 20, false, CompressionCodec::kUncompressed), col);
    ExpectValues(col, c.read);
    std::vector<int64_t> want = dictionary ? std::vector<int64_t>{0, 8} : std::vector<int64_t>{0};
    EXPECT_EQ(Encodings(c.meta), want);
  }
}

TEST(ColumnWriterTest, PagesAreCutAtPageBytes) {
  // PLAIN int64: exactly page_bytes / 8 rows per page.
  Field f{"x", DataType::Int64(), false};
  Column col(f.type);
  for (int64_t k = 0; k < 10000; ++k) col.Append<int64_t>(k * 7919);
  Chunk plain = WriteChunk(f, Options(/*page_bytes=*/8000, /*dictionary=*/false), col, 3001);
  ExpectValues(col, plain.read);
  ASSERT_EQ(plain.read.pages, 10);
  for (int64_t r : plain.read.page_rows) EXPECT_EQ(r, 1000);

  // Dictionary indices: a page holds about page_bytes of bit-packed indices.
  // (A few distinct values first: the probe comes after one PLAIN page's
  // worth of values, 125 here, and must see repeats.)
  Column cyc(f.type);
  for (int64_t k = 0; k < 2000; ++k) cyc.Append<int64_t>(k % 20);
  for (int64_t k = 0; k < 48000; ++k) cyc.Append<int64_t>(k % 200);  // 8-bit indices
  Chunk dict = WriteChunk(f, Options(/*page_bytes=*/1000), cyc, 7000);
  ExpectValues(cyc, dict.read);
  EXPECT_EQ(dict.read.dict_pages, 1);
  EXPECT_NEAR(dict.read.pages, 50, 2);
  for (size_t p = 3; p + 1 < dict.read.page_rows.size(); ++p) {
    EXPECT_EQ(dict.read.page_rows[p], 1000) << p;
  }

  // Strings: a page ends before its PLAIN values pass page_bytes by more
  // than one value.
  Field s{"s", DataType::String(), true};
  Column str(s.type);
  for (int64_t k = 0; k < 5000; ++k) str.AppendString(std::string(k % 50, 'a' + k % 26));
  Chunk sc = WriteChunk(s, Options(/*page_bytes=*/2000, /*dictionary=*/false), str, 1234);
  ExpectValues(str, sc.read);
  EXPECT_GT(sc.read.pages, 50);
  int64_t row = 0;
  for (int64_t r : sc.read.page_rows) {
    int64_t bytes = 0;
    for (int64_t i = row; i < row + r; ++i) bytes += 4 + str.GetString(i).size();
    EXPECT_LT(bytes, 2000 + 4 + 50) << "page at row " << row;
    row += r;
  }
}

// Statistics of dictionary-encoded chunks come from the dictionary's values.
TEST(ColumnWriterTest, StatisticsWithADictionary) {
  // Doubles: signed zeros, infinities; NaN drops min/max.
  auto doubles = [](std::vector<double> values) {
    Field f{"d", DataType::Float64(), true};
    Column col(f.type);
    for (int rep = 0; rep < 300; ++rep) {
      for (double v : values) col.Append<double>(v);
    }
    return WriteChunk(f, Options(), col);
  };
  Chunk zeros = doubles({0.0, -0.0, 1.5});
  EXPECT_EQ(zeros.read.dict_pages, 1);
  EXPECT_EQ(zeros.read.dict_size, 3);  // -0.0 and 0.0 are distinct entries
  double mn = FromLE<double>(zeros.meta.At(12).At(6).s);
  EXPECT_TRUE(mn == 0 && std::signbit(mn));
  EXPECT_EQ(FromLE<double>(zeros.meta.At(12).At(5).s), 1.5);
  Chunk inf = doubles({-std::numeric_limits<double>::infinity(), 2.0});
  EXPECT_EQ(FromLE<double>(inf.meta.At(12).At(6).s), -std::numeric_limits<double>::infinity());
  Chunk nan = doubles({1.0, std::nan(""), 2.0});
  EXPECT_EQ(nan.read.dict_pages, 1);
  EXPECT_FALSE(nan.meta.At(12).Has(5));
  EXPECT_FALSE(nan.meta.At(12).Has(6));

  // Strings: unsigned byte order; a long value leaves min/max out.
  Field s{"s", DataType::String(), true};
  Column col(s.type);
  for (int rep = 0; rep < 300; ++rep) {
    col.AppendString("b");
    col.AppendString("\xc3\xa9");
    col.AppendString("ab");
  }
  Chunk str = WriteChunk(s, Options(), col);
  EXPECT_EQ(str.read.dict_pages, 1);
  EXPECT_EQ(str.meta.At(12).At(6).s, "ab");
  EXPECT_EQ(str.meta.At(12).At(5).s, "\xc3\xa9");
  col.AppendString(std::string(5000, '\xff'));  // the max
  Chunk longer = WriteChunk(s, Options(), col);
  EXPECT_EQ(longer.read.dict_pages, 1);
  EXPECT_FALSE(longer.meta.At(12).Has(5));
  EXPECT_EQ(longer.meta.At(12).At(3).i, 0);
}

TEST(ColumnWriterTest, DataPageV2) {
  struct Case {
    const char* name;
    bool nullable;
    bool dictionary;
    CompressionCodec codec;
  } cases[] = {
      {"optional dictionary zstd", true, true, CompressionCodec::kZstd},
      {"required dictionary snappy", false, true, CompressionCodec::kSnappy},
      {"optional plain gzip", true, false, CompressionCodec::kGzip},
      {"required plain uncompressed", false, false, CompressionCodec::kUncompressed},
  };
  for (const Case& t : cases) {
    SCOPED_TRACE(t.name);
    Field f{"s", DataType::String(), t.nullable};
    Column col(f.type);
    for (int64_t k = 0; k < 8000; ++k) {
      if (t.nullable && k % 9 == 4) {
        col.AppendNull();
      } else {
        AppendCyclic(&col, k);
      }
    }
    Chunk c = WriteChunk(f, Options(/*page_bytes=*/1500, t.dictionary, 1 << 20, true, t.codec), col,
                         2500);
    ExpectValues(col, c.read);
    EXPECT_GT(c.read.pages, 1);
    for (int type : c.read.page_types) EXPECT_EQ(type, 3);
    EXPECT_EQ(c.read.dict_pages, t.dictionary ? 1 : 0);
    auto stats = EncodingStats(c.meta);
    EXPECT_EQ((stats[{3, t.dictionary ? 8 : 0}]), c.read.pages);
  }

  // Incompressible values are stored raw (is_compressed = false).
  Field f{"r", DataType::Int64(), false};
  Column col(f.type);
  std::mt19937_64 rng(11);
  for (int k = 0; k < 20000; ++k) col.Append<int64_t>(static_cast<int64_t>(rng()));
  Chunk c = WriteChunk(f, Options(8000, true, 1 << 20, true, CompressionCodec::kSnappy), col);
  ExpectValues(col, c.read);
  ASSERT_FALSE(c.read.v2_compressed.empty());
  for (bool compressed : c.read.v2_compressed) EXPECT_FALSE(compressed);
}

// A writer is reused for the next row group: its dictionary starts empty.
TEST(ColumnWriterTest, ResetChunkStartsAFreshDictionary) {
  Field f{"s", DataType::String(), true};
  ColumnWriter w(f, Options());
  Column unique(f.type);
  for (int64_t k = 0; k < 20000; ++k) unique.AppendString("u" + std::to_string(k));
  Chunk a = WriteChunk(f, Options(), unique, 4000, &w);
  ExpectValues(unique, a.read);
  EXPECT_EQ(a.read.dict_pages, 0);
  w.ResetChunk();
  Column few(f.type);
  for (int64_t k = 0; k < 20000; ++k) few.AppendString(k % 3 ? "x" : "y");
  Chunk b = WriteChunk(f, Options(), few, 4000, &w);
  ExpectValues(few, b.read);
  EXPECT_EQ(b.read.dict_pages, 1);
  EXPECT_EQ(b.read.dict_size, 2);
  EXPECT_EQ(b.meta.At(5).i, 20000);
  w.ResetChunk();
  Chunk again = WriteChunk(f, Options(), few, 4000, &w);
  EXPECT_EQ(again.bytes, b.bytes);
}

TEST(ColumnWriterTest, RequiredColumnRejectsNulls) {
  Field f{"x", DataType::Int32(), false};
  Column col(f.type);
  col.Append<int32_t>(1);
  col.AppendNull();
  ColumnWriter w(f, Options());
  Status st = w.Append(col, 0, 2);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("'x'"), std::string::npos);
}

}  // namespace
}  // namespace sluice::parquet
