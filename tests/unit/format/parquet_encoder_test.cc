// Whole-file tests of NewParquetEncoder: files are read back with the
// independent test reader (parquet_test_reader.h): footer, page headers,
// definition levels and PLAIN values, and compared with what was written.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <ostream>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "core/thread_pool.h"
#include "format/format.h"
#include "parquet_test_reader.h"

namespace sluice {
namespace {

using parquet::testing::FromLE;
using parquet::testing::ParseFooter;
using parquet::testing::ReadChunk;
using parquet::testing::TValue;

Schema AllTypesSchema() {
  return Schema({
      {"id", DataType::Int64(), false},
      {"b", DataType::Bool(), true},
      {"i32", DataType::Int32(), true},
      {"i64", DataType::Int64(), true},
      {"f64", DataType::Float64(), true},
      {"dec", DataType::Decimal(18, 3), true},
      {"s", DataType::String(), true},
      {"d", DataType::Date(), true},
      {"ts", DataType::Timestamp(), true},
      {"req_s", DataType::String(), false},
      {"dec9", DataType::Decimal(9, 2), true},
  });
}

// Deterministic rows with nulls, extremes and multi-byte strings. With
// `low_cardinality`, values (but the id) come from a few distinct ones, so
// that chunks are dictionary-encoded.
RecordBatch MakeBatch(const Schema& schema, int64_t first_id, int64_t rows, uint32_t seed,
                      bool low_cardinality = false) {
  std::mt19937 rng_engine(seed);
  auto rng = [&]() -> uint32_t {
    uint32_t r = rng_engine();
    return low_cardinality ? r % 13 * 0x9e3779b1u : r;
  };
  RecordBatch b = RecordBatch::Empty(schema);
  for (int64_t r = 0; r < rows; ++r) {
    int64_t id = first_id + r;
    for (int c = 0; c < schema.num_fields(); ++c) {
      const Field& f = schema.field(c);
      Column& col = b.columns[c];
      if (f.nullable && rng_engine() % 5 == 0) {
        col.AppendNull();
        continue;
      }
      switch (f.type.id) {
        case TypeId::kBool:
          col.Append<uint8_t>(rng_engine() % 2);
          break;
        case TypeId::kInt32:
        case TypeId::kDate: {
          int32_t v = static_cast<int32_t>(rng());
          if (id % 97 == 1) v = std::numeric_limits<int32_t>::min();
          col.Append<int32_t>(v);
          break;
        }
        case TypeId::kDecimal:
          if (f.type.precision <= 9) {
            // Stored as INT32: the extremes of 9 digits, else anything between.
            int64_t v = static_cast<int64_t>(rng() % 1999999999) - 999999999;
            if (id % 89 == 3) v = 999999999;
            if (id % 97 == 5) v = -999999999;
            col.Append<int64_t>(v);
            break;
          }
          [[fallthrough]];
        case TypeId::kInt64:
        case TypeId::kTimestamp: {
          int64_t v = c == 0 ? id : static_cast<int64_t>((uint64_t{rng()} << 32) | rng());
          if (c != 0 && id % 89 == 3) v = std::numeric_limits<int64_t>::max();
          col.Append<int64_t>(v);
          break;
        }
        case TypeId::kFloat64:
          col.Append<double>((static_cast<double>(rng()) - 2e9) / 7.0);
          break;
        case TypeId::kString: {
          std::string s;
          int len = rng_engine() % 12;
          for (int i = 0; i < len; ++i) s.push_back(static_cast<char>('a' + rng_engine() % 26));
          if (low_cardinality) s = "s" + std::to_string(rng() % 7);
          if (id % 13 == 0) s = "héllo \xe2\x82\xac";
          if (id % 17 == 0) s = "";
          col.AppendString(s);
          break;
        }
      }
    }
  }
  return b;
}

std::unique_ptr<Encoder> MustEncoder(std::string* out, const Schema& schema,
                                     const ParquetWriterOptions& o) {
  auto enc = NewParquetEncoder(NewStringOutput(out), schema, o);
  EXPECT_TRUE(enc.ok()) << enc.status().ToString();
  return enc.ok() ? std::move(enc).value() : nullptr;
}

// Bytes of one PLAIN value in the file: decimals of up to 9 digits are INT32.
int PhysicalWidth(const DataType& t) {
  return t.id == TypeId::kDecimal && t.precision <= 9 ? 4 : t.FixedWidth();
}

// PLAIN bytes of row `r` of a fixed-width column, as the file stores it.
std::string FixedBytes(const Column& col, int64_t r) {
  if (PhysicalWidth(col.type()) == 4 && col.type().id == TypeId::kDecimal) {
    int32_t v = static_cast<int32_t>(col.Value<int64_t>(r));
    std::string s(4, '\0');
    std::memcpy(s.data(), &v, 4);
    return s;
  }
  int w = col.type().FixedWidth();
  std::string s(w, '\0');
  std::memcpy(s.data(), col.data<char>() + r * w, w);
  return s;
}

// Reads the whole file back and compares every column with `batches`.
void ExpectFileHolds(const std::string& file, const Schema& schema,
                     const std::vector<RecordBatch>& batches, int64_t row_group_rows) {
  ASSERT_GE(file.size(), 12u);
  EXPECT_EQ(file.substr(0, 4), "PAR1");
  EXPECT_EQ(file.substr(file.size() - 4), "PAR1");
  TValue md = ParseFooter(file);
  int64_t total_rows = 0;
  for (const RecordBatch& b : batches) total_rows += b.num_rows();
  EXPECT_EQ(md.At(3).i, total_rows);
  const auto& groups = md.At(4).list;
  int64_t expect_groups = (total_rows + row_group_rows - 1) / row_group_rows;
  ASSERT_EQ(static_cast<int64_t>(groups.size()), expect_groups);

  // Flatten the input per column: validity and values in row order.
  for (int c = 0; c < schema.num_fields(); ++c) {
    const Field& f = schema.field(c);
    std::vector<const Column*> cols;
    for (const RecordBatch& b : batches) cols.push_back(&b.columns[c]);
    size_t bi = 0;
    int64_t ri = 0;
    int64_t previous_end = 4;
    for (size_t g = 0; g < groups.size(); ++g) {
      int64_t group_rows = groups[g].At(3).i;
      EXPECT_EQ(group_rows, std::min(row_group_rows, total_rows - int64_t(g) * row_group_rows));
      const TValue& meta = groups[g].At(1).list.at(c).At(3);
      EXPECT_EQ(meta.At(3).list.at(0).s, f.name);
      EXPECT_EQ(meta.At(5).i, group_rows);
      // Chunks are laid out back to back after the magic.
      if (c == 0 && g == 0) {
        EXPECT_EQ(meta.At(9).i, 4);
      }
      EXPECT_GE(meta.At(9).i, previous_end);
      previous_end = meta.At(9).i + meta.At(7).i;
      int width = f.type.id == TypeId::kString ? 0
                  : f.type.id == TypeId::kBool ? -1
                                               : PhysicalWidth(f.type);
      parquet::testing::ReadColumn rc = ReadChunk(file, meta, f.nullable, width);
      ASSERT_EQ(static_cast<int64_t>(rc.valid.size()), group_rows);
      size_t vi = 0;
      int64_t nulls = 0;
      for (int64_t r = 0; r < group_rows; ++r) {
        while (ri >= cols[bi]->size()) {
          ++bi;
          ri = 0;
        }
        const Column& col = *cols[bi];
        ASSERT_EQ(rc.valid[r], col.IsValid(ri)) << f.name << " group " << g << " row " << r;
        if (col.IsValid(ri)) {
          if (f.type.id == TypeId::kBool) {
            ASSERT_EQ(rc.bools.at(vi), col.Value<uint8_t>(ri) != 0) << f.name << " row " << r;
          } else if (f.type.id == TypeId::kString) {
            ASSERT_EQ(rc.values.at(vi), col.GetString(ri)) << f.name << " row " << r;
          } else {
            ASSERT_EQ(rc.values.at(vi), FixedBytes(col, ri)) << f.name << " row " << r;
          }
          ++vi;
        } else {
          ++nulls;
        }
        ++ri;
      }
      EXPECT_EQ(meta.At(12).At(3).i, nulls) << f.name;
    }
  }
}

struct CodecParam {
  Compression compression;
  int codec_id;
};
void PrintTo(const CodecParam& c, std::ostream* os) { *os << "codec " << c.codec_id; }

// How the file is written: dictionary, page version and pool threads.
struct WriteMode {
  const char* name;
  bool dictionary;
  bool v2;
  int threads;  // 0: inline
};
void PrintTo(const WriteMode& m, std::ostream* os) { *os << m.name; }

class ParquetEncoderCodecTest : public ::testing::TestWithParam<std::tuple<CodecParam, WriteMode>> {
};

TEST_P(ParquetEncoderCodecTest, AllTypesRoundTripAcrossRowGroupsAndPages) {
  const CodecParam& codec = std::get<0>(GetParam());
  const WriteMode& mode = std::get<1>(GetParam());
  Schema schema = AllTypesSchema();
  std::unique_ptr<ThreadPool> pool =
      mode.threads > 0 ? std::make_unique<ThreadPool>(mode.threads) : nullptr;
  ParquetWriterOptions o;
  o.compression = codec.compression;
  o.row_group_rows = 1000;
  o.page_bytes = 700;
  o.dictionary = mode.dictionary;
  o.data_page_v2 = mode.v2;
  o.pool = pool.get();
  std::string file;
  auto enc = MustEncoder(&file, schema, o);
  ASSERT_NE(enc, nullptr);
  std::vector<RecordBatch> batches;
  int64_t id = 0;
  int n = 0;
  for (int64_t rows : {333, 1, 0, 1500, 666, 7, 2100}) {
    // Random and low-cardinality batches alternate: chunks that keep their
    // dictionary, drop it at the probe, or fill it.
    batches.push_back(MakeBatch(schema, id, rows, static_cast<uint32_t>(id + 1), ++n % 2 == 0));
    id += rows;
    ASSERT_TRUE(enc->Write(batches.back()).ok());
  }
  EXPECT_EQ(enc->rows_written(), id);
  ASSERT_TRUE(enc->Finish().ok());
  EXPECT_EQ(enc->bytes_written(), static_cast<int64_t>(file.size()));
  ExpectFileHolds(file, schema, batches, o.row_group_rows);

  TValue md = ParseFooter(file);
  const TValue& meta = md.At(4).list.at(0).At(1).list.at(6).At(3);  // "s", first group
  EXPECT_EQ(meta.At(4).i, codec.codec_id);
  // Small pages: several per chunk.
  auto rc = ReadChunk(file, meta, true, 0);
  EXPECT_GT(rc.pages, 3);
  // Dictionary pages where asked for (the last group is low-cardinality), and
  // the page version asked for.
  int dict_chunks = 0;
  for (const TValue& g : md.At(4).list) {
    for (int c = 0; c < schema.num_fields(); ++c) {
      const TValue& cm = g.At(1).list.at(c).At(3);
      dict_chunks += cm.Has(11);
      const Field& f = schema.field(c);
      int width = f.type.id == TypeId::kString ? 0
                  : f.type.id == TypeId::kBool ? -1
                                               : PhysicalWidth(f.type);
      for (int t : ReadChunk(file, cm, f.nullable, width).page_types) {
        EXPECT_EQ(t, mode.v2 ? 3 : 0);
      }
    }
  }
  if (mode.dictionary) {
    EXPECT_GT(dict_chunks, 5);
  } else {
    EXPECT_EQ(dict_chunks, 0);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Codecs, ParquetEncoderCodecTest,
    ::testing::Combine(::testing::Values(CodecParam{Compression::kUncompressed, 0},
                                         CodecParam{Compression::kSnappy, 1},
                                         CodecParam{Compression::kGzip, 2},
                                         CodecParam{Compression::kZstd, 6}),
                       ::testing::Values(WriteMode{"Dictionary", true, false, 0},
                                         WriteMode{"Plain", false, false, 0},
                                         WriteMode{"DictionaryV2", true, true, 0},
                                         WriteMode{"DictionaryPool2", true, false, 2},
                                         WriteMode{"PlainV2Pool1", false, true, 1})),
    [](const ::testing::TestParamInfo<std::tuple<CodecParam, WriteMode>>& i) {
      return "codec" + std::to_string(std::get<0>(i.param).codec_id) + "_" +
             std::get<1>(i.param).name;
    });

TEST(ParquetEncoderTest, SchemaElementsCarryTypesAndRepetition) {
  Schema schema = AllTypesSchema();
  std::string file;
  auto enc = MustEncoder(&file, schema, {});
  ASSERT_TRUE(enc->Finish().ok());
  TValue md = ParseFooter(file);
  const auto& el = md.At(2).list;
  ASSERT_EQ(el.size(), 12u);
  EXPECT_EQ(el[0].At(4).s, "schema");
  EXPECT_EQ(el[0].At(5).i, 11);
  EXPECT_FALSE(el[0].Has(1));
  struct Expect {
    const char* name;
    int type;
    int repetition;
    int converted;  // -1: none
    int logical;    // LogicalType union member id, -1: none
  } expect[] = {
      {"id", 2, 0, -1, -1},  {"b", 0, 1, -1, -1},   {"i32", 1, 1, -1, -1}, {"i64", 2, 1, -1, -1},
      {"f64", 5, 1, -1, -1}, {"dec", 2, 1, 5, 5},   {"s", 6, 1, 0, 1},     {"d", 1, 1, 6, 6},
      {"ts", 2, 1, 10, 8},   {"req_s", 6, 0, 0, 1}, {"dec9", 1, 1, 5, 5},
  };
  for (int i = 0; i < 11; ++i) {
    const TValue& e = el[i + 1];
    const Expect& x = expect[i];
    EXPECT_EQ(e.At(4).s, x.name);
    EXPECT_EQ(e.At(1).i, x.type) << x.name;
    EXPECT_EQ(e.At(3).i, x.repetition) << x.name;
    EXPECT_EQ(e.Has(6), x.converted >= 0) << x.name;
    if (x.converted >= 0) {
      EXPECT_EQ(e.At(6).i, x.converted) << x.name;
    }
    EXPECT_EQ(e.Has(10), x.logical >= 0) << x.name;
    if (x.logical >= 0) {
      EXPECT_EQ(e.At(10).fields.at(0).first, x.logical) << x.name;
    }
  }
  const TValue& dec = el[6];
  EXPECT_EQ(dec.At(7).i, 3);
  EXPECT_EQ(dec.At(8).i, 18);
  EXPECT_EQ(dec.At(10).At(5).At(1).i, 3);
  EXPECT_EQ(dec.At(10).At(5).At(2).i, 18);
  const TValue& ts = el[9].At(10).At(8);
  EXPECT_TRUE(ts.At(1).b);
  EXPECT_TRUE(ts.At(2).Has(2));  // MICROS
  EXPECT_EQ(md.At(6).s, "sluice version 0.1.0");
  EXPECT_EQ(el[11].At(7).i, 2);
  EXPECT_EQ(el[11].At(8).i, 9);
  EXPECT_EQ(md.At(7).list.size(), 11u);
}

TEST(ParquetEncoderTest, ZeroRowsIsAValidFile) {
  Schema schema({{"x", DataType::Int32(), true}});
  std::string file;
  auto enc = MustEncoder(&file, schema, {});
  ASSERT_TRUE(enc->Write(RecordBatch::Empty(schema)).ok());
  ASSERT_TRUE(enc->Finish().ok());
  EXPECT_EQ(file.substr(0, 4), "PAR1");
  EXPECT_EQ(file.substr(file.size() - 4), "PAR1");
  TValue md = ParseFooter(file);
  EXPECT_EQ(md.At(3).i, 0);
  EXPECT_TRUE(md.At(4).list.empty());
  EXPECT_EQ(enc->rows_written(), 0);
}

TEST(ParquetEncoderTest, KeyValueMetadataAndCreatedBy) {
  Schema schema({{"x", DataType::Int32(), true}});
  ParquetWriterOptions o;
  o.key_value_metadata = {{"sluice.batch", "42"}, {"empty", ""}};
  std::string file;
  auto enc = MustEncoder(&file, schema, o);
  ASSERT_TRUE(enc->Finish().ok());
  TValue md = ParseFooter(file);
  ASSERT_EQ(md.At(5).list.size(), 2u);
  EXPECT_EQ(md.At(5).list[0].At(1).s, "sluice.batch");
  EXPECT_EQ(md.At(5).list[0].At(2).s, "42");
  EXPECT_EQ(md.At(5).list[1].At(2).s, "");
}

TEST(ParquetEncoderTest, RowGroupsAreWrittenBeforeFinish) {
  Schema schema({{"x", DataType::Int64(), false}});
  ParquetWriterOptions o;
  o.row_group_rows = 100;
  o.compression = Compression::kUncompressed;
  std::string file;
  auto enc = MustEncoder(&file, schema, o);
  EXPECT_EQ(enc->bytes_written(), 4);
  RecordBatch b = RecordBatch::Empty(schema);
  for (int i = 0; i < 250; ++i) b.columns[0].Append<int64_t>(i);
  ASSERT_TRUE(enc->Write(b).ok());
  // Two full groups of 100 rows (800 value bytes each) are already out.
  EXPECT_GT(enc->bytes_written(), 1600);
  EXPECT_EQ(static_cast<int64_t>(file.size()), enc->bytes_written());
  ASSERT_TRUE(enc->Finish().ok());
  TValue md = ParseFooter(file);
  ASSERT_EQ(md.At(4).list.size(), 3u);
  EXPECT_EQ(md.At(4).list[2].At(3).i, 50);
  EXPECT_EQ(md.At(4).list[2].At(7).i, 2);  // ordinal
}

// Pages whose values take little room are still cut at a row limit (2^20),
// far below the i32 num_values of the page header.
TEST(ParquetEncoderTest, PagesAreCutByRowCountToo) {
  Schema schema({{"b", DataType::Bool(), true}});
  ParquetWriterOptions o;
  o.compression = Compression::kSnappy;
  o.row_group_rows = int64_t{1} << 22;  // one row group
  o.page_rows = int64_t{1} << 20;       // the most a page may hold
  std::string file;
  auto enc = MustEncoder(&file, schema, o);
  RecordBatch b = RecordBatch::Empty(schema);
  const int64_t rows = (int64_t{1} << 20) + 1000;
  for (int64_t i = 0; i < rows; ++i) {
    if (i % 3 == 0) {
      b.columns[0].AppendNull();
    } else {
      b.columns[0].Append<uint8_t>(i % 2);
    }
  }
  ASSERT_TRUE(enc->Write(b).ok());
  ASSERT_TRUE(enc->Finish().ok());
  TValue md = ParseFooter(file);
  const TValue& meta = md.At(4).list.at(0).At(1).list.at(0).At(3);
  auto rc = ReadChunk(file, meta, true, -1);
  EXPECT_EQ(rc.pages, 2);
  ASSERT_EQ(static_cast<int64_t>(rc.valid.size()), rows);
  size_t vi = 0;
  for (int64_t i = 0; i < rows; ++i) {
    ASSERT_EQ(rc.valid[i], i % 3 != 0) << i;
    if (i % 3 != 0) {
      ASSERT_EQ(rc.bools[vi++], i % 2 == 1) << i;
    }
  }
}

TEST(ParquetEncoderTest, RejectsBatchesThatDoNotMatch) {
  Schema schema({{"x", DataType::Int32(), false}, {"y", DataType::String(), true}});
  std::string file;
  auto enc = MustEncoder(&file, schema, {});

  Schema other({{"x", DataType::Int64(), false}, {"y", DataType::String(), true}});
  Status st = enc->Write(RecordBatch::Empty(other));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);

  RecordBatch with_null = RecordBatch::Empty(schema);
  with_null.columns[0].Append<int32_t>(1);
  with_null.columns[0].AppendNull();
  with_null.columns[1].AppendString("a");
  with_null.columns[1].AppendString("b");
  st = enc->Write(with_null);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("'x'"), std::string::npos) << st.message();

  RecordBatch ragged = RecordBatch::Empty(schema);
  ragged.columns[0].Append<int32_t>(1);
  EXPECT_EQ(enc->Write(ragged).code(), StatusCode::kInvalidArgument);

  // Rejected batches leave the encoder usable and write nothing.
  RecordBatch good = RecordBatch::Empty(schema);
  good.columns[0].Append<int32_t>(7);
  good.columns[1].AppendNull();
  ASSERT_TRUE(enc->Write(good).ok());
  ASSERT_TRUE(enc->Finish().ok());
  EXPECT_EQ(ParseFooter(file).At(3).i, 1);
  EXPECT_EQ(enc->Write(good).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(enc->Finish().code(), StatusCode::kFailedPrecondition);
}

TEST(ParquetEncoderTest, RejectsBadOptionsAndSchemas) {
  Schema schema({{"x", DataType::Int32(), true}});
  std::string file;
  ParquetWriterOptions o;
  o.row_group_rows = 0;
  EXPECT_EQ(NewParquetEncoder(NewStringOutput(&file), schema, o).status().code(),
            StatusCode::kInvalidArgument);
  o = {};
  o.page_bytes = 0;
  EXPECT_EQ(NewParquetEncoder(NewStringOutput(&file), schema, o).status().code(),
            StatusCode::kInvalidArgument);
  o = {};
  o.compression_level = 99;
  EXPECT_EQ(NewParquetEncoder(NewStringOutput(&file), schema, o).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(NewParquetEncoder(NewStringOutput(&file), Schema(), {}).status().code(),
            StatusCode::kInvalidArgument);
  Schema dup({{"x", DataType::Int32(), true}, {"x", DataType::String(), true}});
  EXPECT_EQ(NewParquetEncoder(NewStringOutput(&file), dup, {}).status().code(),
            StatusCode::kInvalidArgument);
  struct Bad {
    const char* name;
    std::function<void(ParquetWriterOptions*)> set;
  } bad[] = {
      {"row_group_bytes", [](ParquetWriterOptions* x) { x->row_group_bytes = 0; }},
      {"dictionary_page_bytes", [](ParquetWriterOptions* x) { x->dictionary_page_bytes = 1023; }},
      {"dictionary_page_bytes",
       [](ParquetWriterOptions* x) { x->dictionary_page_bytes = (int64_t{1} << 30) + 1; }},
  };
  for (const Bad& b : bad) {
    o = {};
    b.set(&o);
    Status st = NewParquetEncoder(NewStringOutput(&file), schema, o).status();
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << b.name;
    EXPECT_NE(st.message().find(b.name), std::string::npos) << st.message();
  }
}

// --- pipelined encoding on a pool ---------------------------------------------

std::string WriteWith(const Schema& schema, const std::vector<RecordBatch>& batches,
                      ParquetWriterOptions o) {
  std::string file;
  auto enc = MustEncoder(&file, schema, o);
  for (const RecordBatch& b : batches) EXPECT_TRUE(enc->Write(b).ok());
  EXPECT_TRUE(enc->Finish().ok());
  return file;
}

// Chunks are encoded out of order on the pool but written in order: the file
// is the same, byte for byte, as the one written inline.
TEST(ParquetEncoderTest, PipelinedFileEqualsInlineFile) {
  Schema schema = AllTypesSchema();
  std::vector<RecordBatch> batches;
  int64_t id = 0;
  for (int i = 0; i < 12; ++i) {
    int64_t rows = 100 + 97 * i;
    batches.push_back(MakeBatch(schema, id, rows, 100 + i, i % 3 != 0));
    id += rows;
  }
  ParquetWriterOptions o;
  o.row_group_rows = 600;
  o.page_bytes = 1500;
  std::string inline_file = WriteWith(schema, batches, o);
  ExpectFileHolds(inline_file, schema, batches, o.row_group_rows);
  for (int threads : {0, 1, 2, 3}) {
    ThreadPool pool(threads);
    o.pool = &pool;
    EXPECT_EQ(WriteWith(schema, batches, o), inline_file) << threads << " threads";
  }
}

// Write() hands full row groups to the pool and returns; it waits only when
// two groups are still being encoded, so earlier groups are already written.
TEST(ParquetEncoderTest, PipelinedGroupsAreWrittenBeforeFinish) {
  Schema schema({{"x", DataType::Int64(), false}});
  ThreadPool pool(2);
  ParquetWriterOptions o;
  o.row_group_rows = 100;
  o.compression = Compression::kUncompressed;
  o.dictionary = false;
  o.pool = &pool;
  std::string file;
  auto enc = MustEncoder(&file, schema, o);
  for (int g = 0; g < 10; ++g) {
    RecordBatch b = RecordBatch::Empty(schema);
    for (int i = 0; i < 100; ++i) b.columns[0].Append<int64_t>(g * 100 + i);
    ASSERT_TRUE(enc->Write(b).ok());
  }
  // 10 groups submitted, at most 2 in flight: 8 or more are in the file.
  EXPECT_GE(enc->bytes_written(), 4 + 8 * 800);
  EXPECT_EQ(static_cast<int64_t>(file.size()), enc->bytes_written());
  ASSERT_TRUE(enc->Finish().ok());
  TValue md = ParseFooter(file);
  ASSERT_EQ(md.At(4).list.size(), 10u);
  for (int g = 0; g < 10; ++g) EXPECT_EQ(md.At(4).list[g].At(7).i, g);  // ordinals in order
}

TEST(ParquetEncoderTest, RowGroupBytesCutsGroups) {
  Schema schema({{"s", DataType::String(), false}});
  std::vector<RecordBatch> batches;
  for (int i = 0; i < 4; ++i) {
    RecordBatch b = RecordBatch::Empty(schema);
    for (int r = 0; r < 500; ++r) b.columns[0].AppendString(std::string(100, 'a' + (i + r) % 26));
    batches.push_back(std::move(b));
  }
  for (int threads : {0, 2}) {
    SCOPED_TRACE(threads);
    ThreadPool pool(threads);
    ParquetWriterOptions o;
    o.row_group_bytes = 20000;  // about 190 rows of 104 bytes
    o.dictionary = false;
    o.pool = &pool;
    std::string file = WriteWith(schema, batches, o);
    TValue md = ParseFooter(file);
    const auto& groups = md.At(4).list;
    EXPECT_GE(groups.size(), 10u);
    int64_t rows = 0;
    for (const TValue& g : groups) {
      EXPECT_LE(g.At(3).i, 200);
      rows += g.At(3).i;
    }
    EXPECT_EQ(rows, 2000);
  }
}

// An encoder dropped with groups still encoding waits for its tasks (ASan
// would see them touch freed memory otherwise).
TEST(ParquetEncoderTest, PipelinedEncoderCanBeDroppedUnfinished) {
  Schema schema = AllTypesSchema();
  ThreadPool pool(2);
  ParquetWriterOptions o;
  o.row_group_rows = 50;
  o.pool = &pool;
  std::string file;
  {
    auto enc = MustEncoder(&file, schema, o);
    RecordBatch b = MakeBatch(schema, 0, 1000, 5);
    ASSERT_TRUE(enc->Write(b).ok());
  }
  SUCCEED();
}

// An OutputStream that fails after `budget` bytes, to check error handling.
class FailingOutput final : public OutputStream {
 public:
  explicit FailingOutput(int64_t budget, bool* aborted) : budget_(budget), aborted_(aborted) {}
  Status Write(const void* data, size_t n) override {
    if (written_ + static_cast<int64_t>(n) > budget_) return Status::IOError("disk full");
    written_ += static_cast<int64_t>(n);
    return Status::OK();
  }
  int64_t Tell() const override { return written_; }
  Status Close() override { return Status::OK(); }
  void Abort() override { *aborted_ = true; }

 private:
  int64_t budget_;
  int64_t written_ = 0;
  bool* aborted_;
};

TEST(ParquetEncoderTest, WriteErrorsAreStickyAndAbortTheStream) {
  Schema schema({{"x", DataType::Int64(), false}});
  ParquetWriterOptions o;
  o.row_group_rows = 10;
  bool aborted = false;
  auto enc = NewParquetEncoder(std::make_unique<FailingOutput>(50, &aborted), schema, o);
  ASSERT_TRUE(enc.ok());
  RecordBatch b = RecordBatch::Empty(schema);
  for (int i = 0; i < 30; ++i) b.columns[0].Append<int64_t>(i);
  Status st = (*enc)->Write(b);
  EXPECT_EQ(st.code(), StatusCode::kIOError);
  EXPECT_EQ((*enc)->Write(b).code(), StatusCode::kIOError);
  EXPECT_EQ((*enc)->Finish().code(), StatusCode::kIOError);
  EXPECT_TRUE(aborted);
}

// The same with a pool: the error surfaces in a later Write or in Finish.
TEST(ParquetEncoderTest, PipelinedWriteErrorsAreStickyAndAbortTheStream) {
  Schema schema({{"x", DataType::Int64(), false}});
  ThreadPool pool(2);
  ParquetWriterOptions o;
  o.row_group_rows = 10;
  o.pool = &pool;
  bool aborted = false;
  auto enc = NewParquetEncoder(std::make_unique<FailingOutput>(500, &aborted), schema, o);
  ASSERT_TRUE(enc.ok());
  Status first;
  for (int round = 0; round < 20 && first.ok(); ++round) {
    RecordBatch b = RecordBatch::Empty(schema);
    for (int i = 0; i < 30; ++i) b.columns[0].Append<int64_t>(round * 30 + i);
    first = (*enc)->Write(b);
  }
  EXPECT_EQ(first.code(), StatusCode::kIOError);
  RecordBatch b = RecordBatch::Empty(schema);
  b.columns[0].Append<int64_t>(1);
  EXPECT_EQ((*enc)->Write(b).code(), StatusCode::kIOError);
  EXPECT_EQ((*enc)->Finish().code(), StatusCode::kIOError);
  EXPECT_TRUE(aborted);
}

}  // namespace
}  // namespace sluice
