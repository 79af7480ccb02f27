// PgCopyEncoder against a real PostgreSQL: every sluice type loaded with
// binary COPY (PgDb::CopyIn) and read back as PostgreSQL prints it. Then
// PgCopyDecoder (no server): the encoder's streams read back at every split,
// and one case per kind of malformed stream.
#include "sink/pg_copy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "../sql/test_database.h"
#include "sql/pg_db.h"

namespace sluice {
namespace {

using testing::SqlBackend;
using testing::TestDatabase;

// Binary numerics, byte for byte (PostgreSQL's numeric_send layout).
std::string Numeric(int64_t unscaled, int scale) {
  std::string out;
  AppendPgNumeric(unscaled, scale, out);
  return out;
}

std::string Words(std::initializer_list<int> words) {
  std::string out;
  for (int w : words) {
    out.push_back(static_cast<char>((w >> 8) & 0xff));
    out.push_back(static_cast<char>(w & 0xff));
  }
  return out;
}

TEST(PgNumericTest, DigitsWeightSignAndScale) {
  // ndigits, weight, sign, dscale, digits...
  EXPECT_EQ(Numeric(0, 0), Words({0, 0, 0, 0}));
  EXPECT_EQ(Numeric(0, 2), Words({0, 0, 0, 2}));
  EXPECT_EQ(Numeric(1250, 2), Words({2, 0, 0, 2, 12, 5000}));        // 12.50
  EXPECT_EQ(Numeric(-1250, 2), Words({2, 0, 0x4000, 2, 12, 5000}));  // -12.50
  EXPECT_EQ(Numeric(100000000, 0), Words({1, 2, 0, 0, 1}));          // 1 0000 0000
  EXPECT_EQ(Numeric(1, 4), Words({1, -1, 0, 4, 1}));                 // 0.0001
  EXPECT_EQ(Numeric(1, 5), Words({1, -2, 0, 5, 1000}));              // 0.00001
  EXPECT_EQ(Numeric(123456789, 4),
            Words({3, 1, 0, 4, 1, 2345, 6789}));  // 12345.6789 -> 1|2345|6789
  EXPECT_EQ(Numeric(999999999999999999, 18),      // 0.999...9 (18 nines)
            Words({5, -1, 0, 18, 9999, 9999, 9999, 9999, 9900}));
}

class PgCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = PgDb::Open(tdb_.location());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
  }

  // The rows of `sql`, each as its columns' text joined by '|' ("NULL" for null).
  std::vector<std::string> Query(const std::string& sql) { return testing::QueryText(*db_, sql); }

  // Copies `batch` into a new table `name` of its schema (plus the batch id
  // column when `batch_id` is given) and returns the rows copied.
  Result<int64_t> Load(const std::string& name, const RecordBatch& batch,
                       std::optional<int64_t> batch_id = std::nullopt,
                       size_t chunk_bytes = 1 << 20) {
    std::string ddl = "CREATE TABLE " + name + " (";
    for (int f = 0; f < batch.schema.num_fields(); ++f) {
      ddl += (f ? ", " : "") + batch.schema.field(f).name + " " +
             PgColumnType(batch.schema.field(f).type);
    }
    if (batch_id) ddl += ", _sluice_batch_id int8";
    RETURN_IF_ERROR(db_->Exec(ddl + ")"));
    PgCopyEncoder enc(batch.schema, batch_id);
    std::string all;
    enc.Header(all);
    RETURN_IF_ERROR(enc.Rows(batch, all));
    enc.Trailer(all);
    size_t pos = 0;
    return db_->CopyIn("COPY " + name + " FROM STDIN (FORMAT binary)",
                       [&](std::string& chunk) -> Result<bool> {
                         chunk = all.substr(pos, chunk_bytes);
                         pos += chunk.size();
                         return pos < all.size();
                       });
  }

  TestDatabase tdb_{SqlBackend::kPostgres};
  std::unique_ptr<PgDb> db_;
};

TEST_F(PgCopyTest, EveryTypeRoundTripsWithNulls) {
  Schema schema({{"b", DataType::Bool(), true},
                 {"i", DataType::Int32(), true},
                 {"l", DataType::Int64(), true},
                 {"f", DataType::Float64(), true},
                 {"d", DataType::Decimal(18, 4), true},
                 {"s", DataType::String(), true},
                 {"dt", DataType::Date(), true},
                 {"ts", DataType::Timestamp(), true}});
  RecordBatch batch = RecordBatch::Empty(schema);
  auto& c = batch.columns;
  // Row 0: ordinary values.
  c[0].Append<uint8_t>(1);
  c[1].Append<int32_t>(-42);
  c[2].Append<int64_t>(9'007'199'254'740'993);
  c[3].Append<double>(0.1);
  c[4].Append<int64_t>(-1234567);  // -123.4567
  c[5].AppendString("grüße, \"quoted\"\ttab");
  c[6].Append<int32_t>(19'723);                 // 2024-01-01
  c[7].Append<int64_t>(1'704'067'200'000'001);  // 2024-01-01 00:00:00.000001 UTC
  // Row 1: extremes.
  c[0].Append<uint8_t>(0);
  c[1].Append<int32_t>(std::numeric_limits<int32_t>::min());
  c[2].Append<int64_t>(std::numeric_limits<int64_t>::max());
  c[3].Append<double>(-std::numeric_limits<double>::infinity());
  c[4].Append<int64_t>(999'999'999'999'999'999);  // 99999999999999.9999
  c[5].AppendString("");
  c[6].Append<int32_t>(-719'162);                // 0001-01-01
  c[7].Append<int64_t>(-2'208'988'800'000'000);  // 1900-01-01, before 1970
  // Row 2: NULL everywhere.
  for (Column& col : c) col.AppendNull();
  // Row 3: after 2038, zero, NaN, the smallest decimal step.
  c[0].Append<uint8_t>(1);
  c[1].Append<int32_t>(0);
  c[2].Append<int64_t>(std::numeric_limits<int64_t>::min());
  c[3].Append<double>(std::nan(""));
  c[4].Append<int64_t>(1);  // 0.0001
  c[5].AppendString("x");
  c[6].Append<int32_t>(2'932'896);              // 9999-12-31
  c[7].Append<int64_t>(4'102'444'800'000'000);  // 2100-01-01

  auto n = Load("t", batch, 77);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 4);
  ASSERT_TRUE(db_->Exec("SET TIME ZONE 'UTC'").ok());
  EXPECT_EQ(Query("SELECT b, i, l, f, d, s, dt, ts, _sluice_batch_id FROM t ORDER BY ctid"),
            (std::vector<std::string>{
                "t|-42|9007199254740993|0.1|-123.4567|grüße, \"quoted\"\ttab|2024-01-01|"
                "2024-01-01 00:00:00.000001+00|77",
                "f|-2147483648|9223372036854775807|-Infinity|99999999999999.9999||0001-01-01|"
                "1900-01-01 00:00:00+00|77",
                "NULL|NULL|NULL|NULL|NULL|NULL|NULL|NULL|77",
                "t|0|-9223372036854775808|NaN|0.0001|x|9999-12-31|2100-01-01 00:00:00+00|77"}));
}

TEST_F(PgCopyTest, DecimalsOfEveryScale) {
  // For each scale, the largest magnitude of precision 18 both ways, a value
  // across base-10000 digit boundaries and the smallest step.
  for (int scale : {0, 1, 2, 3, 4, 5, 8, 9, 12, 17, 18}) {
    SCOPED_TRACE("scale " + std::to_string(scale));
    Schema schema({{"v", DataType::Decimal(18, scale), true}});
    RecordBatch batch = RecordBatch::Empty(schema);
    for (int64_t v :
         {int64_t{999'999'999'999'999'999}, int64_t{-999'999'999'999'999'999},
          int64_t{100'020'003'000'400'005}, int64_t{1}, int64_t{-1}, int64_t{0}, int64_t{10'000}}) {
      batch.columns[0].Append<int64_t>(v);
    }
    const std::string table = "d" + std::to_string(scale);
    auto n = Load(table, batch);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    // PostgreSQL's own text of each value equals the exact decimal text.
    std::vector<std::string> want;
    for (int64_t i = 0; i < batch.num_rows(); ++i) {
      const int64_t v = batch.columns[0].Value<int64_t>(i);
      std::string digits = std::to_string(v < 0 ? -v : v);
      if (scale > 0) {
        if (digits.size() <= static_cast<size_t>(scale)) {
          digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
        }
        digits.insert(digits.size() - scale, ".");
      }
      want.push_back((v < 0 ? "-" : "") + digits);
    }
    EXPECT_EQ(Query("SELECT v FROM " + table + " ORDER BY ctid"), want);
  }
}

TEST_F(PgCopyTest, ManyRowsInSmallChunks) {
  Schema schema({{"id", DataType::Int64(), false}, {"name", DataType::String(), true}});
  RecordBatch batch = RecordBatch::Empty(schema);
  for (int64_t i = 0; i < 20'000; ++i) {
    batch.columns[0].Append<int64_t>(i);
    batch.columns[1].AppendString("row " + std::to_string(i));
  }
  auto n = Load("many", batch, std::nullopt, 777);  // chunks that split rows and fields
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 20'000);
  EXPECT_EQ(Query("SELECT count(*), sum(id), max(name) FROM many"),
            std::vector<std::string>{"20000|199990000|row 9999"});
}

TEST_F(PgCopyTest, AFailedCopyLeavesNothingAndSaysWhy) {
  ASSERT_TRUE(db_->Exec("CREATE TABLE k (id int8 PRIMARY KEY)").ok());
  Schema schema({{"id", DataType::Int64(), false}});
  RecordBatch batch = RecordBatch::Empty(schema);
  for (int64_t v : {1, 2, 1}) batch.columns[0].Append<int64_t>(v);
  PgCopyEncoder enc(schema);
  std::string data;
  enc.Header(data);
  ASSERT_TRUE(enc.Rows(batch, data).ok());
  enc.Trailer(data);
  bool sent = false;
  auto dup = db_->CopyIn("COPY k FROM STDIN (FORMAT binary)", [&](std::string& chunk) {
    chunk = sent ? "" : data;
    sent = true;
    return Result<bool>(false);
  });
  EXPECT_FALSE(dup.ok());
  EXPECT_NE(dup.status().message().find("23505"), std::string::npos) << dup.status().ToString();
  // The client's own error aborts the COPY: nothing is copied.
  auto aborted = db_->CopyIn("COPY k FROM STDIN (FORMAT binary)", [&](std::string& chunk) {
    chunk = data.substr(0, 19);  // the header only
    return Result<bool>(Status::DataLoss("the staged file is damaged"));
  });
  EXPECT_EQ(aborted.status().code(), StatusCode::kDataLoss) << aborted.status().ToString();
  EXPECT_EQ(Query("SELECT count(*) FROM k"), std::vector<std::string>{"0"});
  // The connection is usable afterwards.
  EXPECT_TRUE(db_->Exec("INSERT INTO k VALUES (5)").ok());
  // A schema mismatch is the encoder's error, before anything is sent.
  RecordBatch other = RecordBatch::Empty(Schema({{"id", DataType::Int32(), false}}));
  other.columns[0].Append<int32_t>(1);
  std::string out;
  EXPECT_EQ(enc.Rows(other, out).code(), StatusCode::kInvalidArgument);
}

// ---- PgCopyDecoder ----

// Days and microseconds from 1970-01-01 to 2000-01-01 (PostgreSQL's epoch).
constexpr int32_t kEpochDays = 10957;
constexpr int64_t kEpochMicros = int64_t{kEpochDays} * 86'400'000'000;

std::string Encode(const RecordBatch& batch, std::optional<int64_t> batch_id = std::nullopt,
                   bool row_numbers = false) {
  PgCopyEncoder enc(batch.schema, batch_id, row_numbers);
  std::string out;
  enc.Header(out);
  EXPECT_TRUE(enc.Rows(batch, out).ok());
  enc.Trailer(out);
  return out;
}

// Every row of `batches`, one line each: values typed and exact (a float as
// its bit pattern), "NULL" for a null, then "@" and the row's source line.
std::vector<std::string> Render(const std::vector<RecordBatch>& batches) {
  std::vector<std::string> rows;
  for (const RecordBatch& b : batches) {
    for (int64_t i = 0; i < b.num_rows(); ++i) {
      std::string line;
      for (const Column& c : b.columns) {
        line += line.empty() ? "" : "|";
        if (c.IsNull(i)) {
          line += "NULL";
          continue;
        }
        switch (c.type().id) {
          case TypeId::kBool:
            line += std::to_string(c.Value<uint8_t>(i));
            break;
          case TypeId::kInt32:
          case TypeId::kDate:
            line += std::to_string(c.Value<int32_t>(i));
            break;
          case TypeId::kInt64:
          case TypeId::kDecimal:
          case TypeId::kTimestamp:
            line += std::to_string(c.Value<int64_t>(i));
            break;
          case TypeId::kFloat64: {
            const double d = c.Value<double>(i);
            uint64_t bits = 0;
            std::memcpy(&bits, &d, sizeof(bits));
            line += "f" + std::to_string(bits);
            break;
          }
          case TypeId::kString:
            line += "'" + std::string(c.GetString(i)) + "'";
            break;
        }
      }
      if (i < static_cast<int64_t>(b.source_lines.size())) {
        line += "@" + std::to_string(b.source_lines[i]);
      }
      rows.push_back(line);
    }
  }
  return rows;
}

struct Decoded {
  std::vector<RecordBatch> batches;
  Status status;  // the first error, or Finish()'s verdict
};

// Feeds `pieces` in order, draining Next() after each, then Finish().
Decoded DecodePieces(const Schema& schema, int extra_int8,
                     const std::vector<std::string_view>& pieces, int64_t max_rows = 8192) {
  Decoded out;
  PgCopyDecoder dec(schema, extra_int8, max_rows);
  auto drain = [&]() -> Status {
    while (true) {
      ASSIGN_OR_RETURN(std::optional<RecordBatch> b, dec.Next());
      if (!b) return Status::OK();
      EXPECT_GT(b->num_rows(), 0);
      EXPECT_LE(b->num_rows(), max_rows);
      EXPECT_EQ(static_cast<int64_t>(b->source_lines.size()), b->num_rows());
      for (const Column& c : b->columns) EXPECT_EQ(c.size(), b->num_rows());
      out.batches.push_back(std::move(*b));
    }
  };
  for (std::string_view piece : pieces) {
    out.status = dec.Feed(piece);
    if (!out.status.ok()) return out;
    out.status = drain();
    if (!out.status.ok()) return out;
  }
  out.status = dec.Finish();
  if (out.status.ok()) {
    EXPECT_TRUE(dec.done());
  }
  return out;
}

// `stream` in pieces of `size` bytes.
std::vector<std::string_view> Pieces(std::string_view stream, size_t size) {
  std::vector<std::string_view> out;
  for (size_t at = 0; at < stream.size(); at += size) out.push_back(stream.substr(at, size));
  return out;
}

Decoded DecodeStream(const Schema& schema, int extra_int8, std::string_view stream,
                     size_t piece = 1 << 20, int64_t max_rows = 8192) {
  return DecodePieces(schema, extra_int8, Pieces(stream, piece), max_rows);
}

Schema EveryTypeSchema() {
  return Schema({{"id", DataType::Int64(), false},
                 {"b", DataType::Bool(), true},
                 {"i", DataType::Int32(), true},
                 {"l", DataType::Int64(), true},
                 {"f", DataType::Float64(), true},
                 {"d0", DataType::Decimal(18, 0), true},
                 {"d2", DataType::Decimal(18, 2), true},
                 {"d5", DataType::Decimal(12, 5), true},
                 {"d18", DataType::Decimal(18, 18), true},
                 {"s", DataType::String(), true},
                 {"dt", DataType::Date(), true},
                 {"ts", DataType::Timestamp(), false}});
}

// Rows of EveryTypeSchema() with every extreme: the ends of int64 as
// unscaled decimals at scales 0, 2, 5 and 18, dates and timestamps before
// 1970 and after 2038 (and the widest the encoder writes), NaN (with a sign
// and payload), infinities and -0.0, empty and multi-byte strings, NULLs.
RecordBatch EveryTypeBatch() {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr double kInf = std::numeric_limits<double>::infinity();
  double nan_payload = 0;
  const uint64_t nan_bits = 0xfff8'0000'dead'beefULL;  // negative quiet NaN with a payload
  std::memcpy(&nan_payload, &nan_bits, sizeof(nan_payload));
  RecordBatch batch = RecordBatch::Empty(EveryTypeSchema());
  auto& c = batch.columns;
  struct Row {
    bool b;
    int32_t i;
    int64_t l;
    double f;
    int64_t d0, d2, d5, d18;
    std::string s;
    int32_t dt;
    int64_t ts;
  };
  const std::vector<Row> rows = {
      {true, -42, 9'007'199'254'740'993, 0.1, 12345, -1250, 1, 123'456'789'012'345'678,
       "grüße, \"quoted\"\ttab", 19'723, 1'704'067'200'000'001},
      {false, std::numeric_limits<int32_t>::max(), kMax, kInf, kMax, kMax, kMax, kMax, "", 24'856,
       4'102'444'800'000'000},  // 2038-01-20, 2100-01-01
      {true, std::numeric_limits<int32_t>::min(), kMin, -kInf, kMin, kMin, kMin, kMin,
       "日本語 😀 \xc3\xa9", -1, -2'208'988'800'000'000},  // 1969-12-31, 1900-01-01
      {false, 0, 0, std::nan(""), 0, 0, 0, 0, std::string("nul\0inside", 10), 0, 0},
      {true, 1, -1, -0.0, -1, 1, -100'000, -1, "x", -719'162, -1},  // 0001-01-01
      {false, -1, 1, nan_payload, 100'020'003'000'400'005, -99, 10'000, 999'999'999'999'999'999,
       "\xf4\x8f\xbf\xbf", 2'932'896, kMax},  // U+10FFFF, 9999-12-31
      {true, 7, 7, std::numeric_limits<double>::denorm_min(), 10'000, 10'000, 99'999, 10'000,
       "tail", std::numeric_limits<int32_t>::max(), kMin + kEpochMicros},
      {false, 8, 8, std::numeric_limits<double>::lowest(), 1, 1, 1, 1, "a",
       std::numeric_limits<int32_t>::min() + kEpochDays, 86'400'000'000},
  };
  for (size_t r = 0; r < rows.size(); ++r) {
    const Row& row = rows[r];
    c[0].Append<int64_t>(static_cast<int64_t>(r));
    c[1].Append<uint8_t>(row.b ? 1 : 0);
    c[2].Append<int32_t>(row.i);
    c[3].Append<int64_t>(row.l);
    c[4].Append<double>(row.f);
    c[5].Append<int64_t>(row.d0);
    c[6].Append<int64_t>(row.d2);
    c[7].Append<int64_t>(row.d5);
    c[8].Append<int64_t>(row.d18);
    c[9].AppendString(row.s);
    c[10].Append<int32_t>(row.dt);
    c[11].Append<int64_t>(row.ts);
  }
  // All NULL where the schema allows it.
  c[0].Append<int64_t>(99);
  for (size_t f = 1; f + 1 < c.size(); ++f) c[f].AppendNull();
  c[11].Append<int64_t>(0);
  return batch;
}

// The rows as they go in (source line = position, 1-based).
std::vector<std::string> Expected(const RecordBatch& batch) {
  RecordBatch numbered = batch;
  numbered.source_lines.clear();
  for (int64_t i = 0; i < batch.num_rows(); ++i) numbered.source_lines.push_back(i + 1);
  return Render({numbered});
}

TEST(PgCopyDecoderTest, EveryTypeRoundTripsBitExact) {
  const RecordBatch batch = EveryTypeBatch();
  const std::string stream = Encode(batch);
  Decoded got = DecodeStream(batch.schema, 0, stream);
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  ASSERT_EQ(got.batches.size(), 1u);
  EXPECT_EQ(got.batches[0].schema, batch.schema);
  EXPECT_EQ(Render(got.batches), Expected(batch));
  // Spot checks in the units a reader knows, so that a shared mistake of
  // Render and Expected cannot hide an error.
  const RecordBatch& b = got.batches[0];
  EXPECT_EQ(b.columns[10].Value<int32_t>(2), -1);                      // 1969-12-31
  EXPECT_EQ(b.columns[11].Value<int64_t>(2), -2'208'988'800'000'000);  // 1900-01-01
  EXPECT_EQ(b.columns[6].Value<int64_t>(1), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(b.columns[8].Value<int64_t>(2), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(b.columns[9].GetString(2), "日本語 😀 é");
  EXPECT_TRUE(std::signbit(b.columns[4].Value<double>(4)));  // -0.0
  EXPECT_TRUE(std::isnan(b.columns[4].Value<double>(3)));
  EXPECT_EQ(b.columns[1].null_count(), 1);
  EXPECT_TRUE(b.columns[9].IsNull(8));
  EXPECT_FALSE(b.columns[11].IsNull(8));
}

TEST(PgCopyDecoderTest, EverySplitPointGivesTheSameRows) {
  const RecordBatch batch = EveryTypeBatch();
  const std::string stream = Encode(batch);
  const std::vector<std::string> want = Expected(batch);
  // One byte at a time, then 2, 3, ... 64 bytes at a time.
  for (size_t size = 1; size <= 64; ++size) {
    SCOPED_TRACE("pieces of " + std::to_string(size));
    Decoded got = DecodeStream(batch.schema, 0, stream, size);
    ASSERT_TRUE(got.status.ok()) << got.status.ToString();
    EXPECT_EQ(Render(got.batches), want);
  }
  // Two pieces, cut at every byte.
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    const std::string_view all(stream);
    Decoded got = DecodePieces(batch.schema, 0, {all.substr(0, cut), all.substr(cut)});
    ASSERT_TRUE(got.status.ok()) << got.status.ToString();
    EXPECT_EQ(Render(got.batches), want);
  }
}

TEST(PgCopyDecoderTest, RandomSplitsAndBatchSizes) {
  const RecordBatch one = EveryTypeBatch();
  RecordBatch batch = RecordBatch::Empty(one.schema);
  for (int copy = 0; copy < 20; ++copy) {
    for (size_t f = 0; f < one.columns.size(); ++f) {
      batch.columns[f].AppendRange(one.columns[f], 0, one.num_rows());
    }
  }
  const std::string stream = Encode(batch);
  const std::vector<std::string> want = Expected(batch);
  std::mt19937 rng(20240601);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::string_view> pieces;
    const std::string_view all(stream);
    const size_t max_piece = 1 + rng() % 300;
    for (size_t at = 0; at < all.size();) {
      const size_t n = rng() % (max_piece + 1);  // empty pieces too
      pieces.push_back(all.substr(at, n));
      at += n;
    }
    const int64_t max_rows = 1 + static_cast<int64_t>(rng() % 40);
    SCOPED_TRACE("round " + std::to_string(round) + ", max_rows " + std::to_string(max_rows));
    Decoded got = DecodePieces(batch.schema, 0, pieces, max_rows);
    ASSERT_TRUE(got.status.ok()) << got.status.ToString();
    EXPECT_EQ(Render(got.batches), want);
    // Every batch but the last is full.
    for (size_t i = 0; i + 1 < got.batches.size(); ++i) {
      EXPECT_EQ(got.batches[i].num_rows(), max_rows);
    }
  }
}

TEST(PgCopyDecoderTest, TrailingBatchIdAndRowNumbersAreSkipped) {
  const RecordBatch batch = EveryTypeBatch();
  const std::vector<std::string> want = Expected(batch);
  const std::string with_id = Encode(batch, 77);
  const std::string with_rows = Encode(batch, 77, /*row_numbers=*/true);
  for (size_t piece : {size_t{1}, size_t{7}, size_t{1} << 20}) {
    Decoded one = DecodeStream(batch.schema, 1, with_id, piece);
    ASSERT_TRUE(one.status.ok()) << one.status.ToString();
    EXPECT_EQ(Render(one.batches), want);
    Decoded two = DecodeStream(batch.schema, 2, with_rows, piece);
    ASSERT_TRUE(two.status.ok()) << two.status.ToString();
    EXPECT_EQ(Render(two.batches), want);
  }
  // The count must match exactly.
  Decoded wrong = DecodeStream(batch.schema, 1, with_rows);
  EXPECT_EQ(wrong.status.code(), StatusCode::kDataLoss);
  EXPECT_NE(wrong.status.message().find("14 fields, expected 13"), std::string::npos)
      << wrong.status.ToString();
  wrong = DecodeStream(batch.schema, 2, with_id);
  EXPECT_EQ(wrong.status.code(), StatusCode::kDataLoss);
  wrong = DecodeStream(batch.schema, 0, with_id);
  EXPECT_EQ(wrong.status.code(), StatusCode::kDataLoss);
}

RecordBatch Ints(int n) {
  RecordBatch batch = RecordBatch::Empty(Schema({{"n", DataType::Int32(), false}}));
  for (int i = 1; i <= n; ++i) batch.columns[0].Append<int32_t>(i * 10);
  return batch;
}

std::vector<int64_t> BatchSizes(const Decoded& d) {
  std::vector<int64_t> sizes;
  for (const RecordBatch& b : d.batches) sizes.push_back(b.num_rows());
  return sizes;
}

TEST(PgCopyDecoderTest, BatchesOfMaxRows) {
  const RecordBatch ten = Ints(10);
  const std::string stream = Encode(ten);
  for (size_t piece : {size_t{1}, size_t{5}, size_t{1} << 20}) {
    SCOPED_TRACE("pieces of " + std::to_string(piece));
    Decoded got = DecodeStream(ten.schema, 0, stream, piece, 3);
    ASSERT_TRUE(got.status.ok()) << got.status.ToString();
    EXPECT_EQ(BatchSizes(got), (std::vector<int64_t>{3, 3, 3, 1}));
    EXPECT_EQ(Render(got.batches), Expected(ten));  // source lines 1..10 across batches
  }
  const RecordBatch nine = Ints(9);
  Decoded exact = DecodeStream(nine.schema, 0, Encode(nine), 1 << 20, 3);
  ASSERT_TRUE(exact.status.ok()) << exact.status.ToString();
  EXPECT_EQ(BatchSizes(exact), (std::vector<int64_t>{3, 3, 3}));
}

TEST(PgCopyDecoderTest, NextWaitsForAFullBatchUntilTheEnd) {
  const RecordBatch ten = Ints(10);
  const std::string stream = Encode(ten);
  PgCopyDecoder dec(ten.schema, 0, 4);
  // Header and 5 rows (10 bytes each): one full batch, one row waiting.
  ASSERT_TRUE(dec.Feed(std::string_view(stream).substr(0, 19 + 50)).ok());
  auto b = dec.Next();
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ((*b)->num_rows(), 4);
  b = dec.Next();
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->has_value());
  EXPECT_FALSE(dec.done());
  EXPECT_EQ(dec.Finish().code(), StatusCode::kDataLoss);
  // The rest, at once: the next full batch comes out before the stream's end
  // is read; Finish() refuses to judge while it waits.
  ASSERT_TRUE(dec.Feed(std::string_view(stream).substr(19 + 50)).ok());
  EXPECT_EQ(dec.Finish().code(), StatusCode::kFailedPrecondition);
  b = dec.Next();
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ((*b)->num_rows(), 4);
  EXPECT_EQ((*b)->source_lines, (std::vector<int64_t>{5, 6, 7, 8}));
  b = dec.Next();
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ((*b)->num_rows(), 2);
  EXPECT_EQ((*b)->columns[0].Value<int32_t>(1), 100);
  EXPECT_TRUE(dec.done());
  b = dec.Next();
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->has_value());
  EXPECT_TRUE(dec.Finish().ok());
}

TEST(PgCopyDecoderTest, StreamWithoutRows) {
  const RecordBatch none = Ints(0);
  const std::string stream = Encode(none);
  EXPECT_EQ(stream.size(), 21u);
  Decoded got = DecodeStream(none.schema, 0, stream, 1);
  EXPECT_TRUE(got.status.ok()) << got.status.ToString();
  EXPECT_TRUE(got.batches.empty());
}

TEST(PgCopyDecoderTest, SchemaWithoutFields) {
  // Only the batch id in each tuple: rows without columns still count.
  RecordBatch batch;
  batch.num_rows_no_columns = 3;
  PgCopyEncoder enc(Schema(), 5);
  std::string stream;
  enc.Header(stream);
  ASSERT_TRUE(enc.Rows(batch, stream).ok());
  enc.Trailer(stream);
  Decoded got = DecodeStream(Schema(), 1, stream, 1, 2);
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  EXPECT_EQ(BatchSizes(got), (std::vector<int64_t>{2, 1}));
}

// Binary COPY pieces, big-endian.
std::string B16(int v) {
  std::string out;
  for (int shift = 8; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
  return out;
}
std::string B32(int64_t v) {
  std::string out;
  for (int shift = 24; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  return out;
}
std::string B64(int64_t v) {
  std::string out;
  const auto u = static_cast<uint64_t>(v);
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((u >> shift) & 0xff));
  return out;
}
const std::string kSignature("PGCOPY\n\xff\r\n\0", 11);
// The header with `flags` and an extension of `extension` bytes.
std::string Header(int64_t flags = 0, const std::string& extension = "") {
  return kSignature + B32(flags) + B32(static_cast<int64_t>(extension.size())) + extension;
}
const std::string kTrailer = B16(-1);
// A one-field tuple holding `value` (NULL: length -1).
std::string Tuple1(const std::string& value) { return B16(1) + B32(value.size()) + value; }
std::string Null1() { return B16(1) + B32(-1); }
// A numeric value: ndigits, weight, sign, dscale, digits.
std::string Num(std::initializer_list<int> words) {
  std::string out;
  for (int w : words) out += B16(w);
  return out;
}

Schema One(DataType type, bool nullable = true) { return Schema({{"v", type, nullable}}); }

TEST(PgCopyDecoderTest, HeaderExtensionAndCompatibleFlagsAreSkipped) {
  const std::string stream =
      Header(0x0000ffff, "ext-data") + Tuple1(B32(7)) + Tuple1(B32(-7)) + kTrailer;
  for (size_t piece : {size_t{1}, size_t{3}, size_t{100}}) {
    Decoded got = DecodeStream(One(DataType::Int32()), 0, stream, piece);
    ASSERT_TRUE(got.status.ok()) << got.status.ToString();
    EXPECT_EQ(Render(got.batches), (std::vector<std::string>{"7@1", "-7@2"}));
  }
}

TEST(PgCopyDecoderTest, NumericsTheEncoderDoesNotWriteStillDecode) {
  const Schema schema = One(DataType::Decimal(18, 2));
  const std::vector<std::pair<std::string, std::string>> cases = {
      {Num({2, 0, 0, 4, 1, 2300}), "123"},        // trailing zero fraction digits: 1.2300
      {Num({3, 2, 0, 0, 0, 12, 0}), "12000000"},  // leading and trailing zero digits: 120000
      {Num({0, 5, 0x4000, 0}), "0"},              // negative zero, any weight
      {Num({1, -1, 0, 2, 5000}), "50"},           // 0.5000 at display scale 2: 0.50
      // -92233720368547758.08: INT64_MIN unscaled, exactly.
      {Num({6, 4, 0x4000, 2, 9, 2233, 7203, 6854, 7758, 800}), "-9223372036854775808"},
  };
  for (const auto& [value, want] : cases) {
    Decoded got = DecodeStream(schema, 0, Header() + Tuple1(value) + kTrailer);
    ASSERT_TRUE(got.status.ok()) << got.status.ToString();
    EXPECT_EQ(Render(got.batches), std::vector<std::string>{want + "@1"});
  }
}

TEST(PgCopyDecoderTest, BoolIsTrueForAnyNonZeroByte) {
  const std::string stream = Header() + Tuple1(std::string(1, '\0')) + Tuple1("\x01") +
                             Tuple1("\x02") + Tuple1("\xff") + kTrailer;
  Decoded got = DecodeStream(One(DataType::Bool()), 0, stream);
  ASSERT_TRUE(got.status.ok()) << got.status.ToString();
  EXPECT_EQ(Render(got.batches), (std::vector<std::string>{"0@1", "1@2", "1@3", "1@4"}));
}

struct BadCase {
  std::string name;
  Schema schema;
  int extra_int8;
  std::string stream;
  StatusCode code;
  // Substrings of the message: the offset, row and field at least.
  std::vector<std::string> says;
};

std::vector<BadCase> BadCases() {
  const std::string h = Header();  // 19 bytes: the first tuple's count is at 19
  const Schema dec2 = One(DataType::Decimal(18, 2));
  const Schema text = One(DataType::String());
  const std::string row1_value = "byte offset 25, row 1, field 'v'";  // after count and length
  const std::string row1_length = "byte offset 21, row 1, field 'v'";
  auto numeric = [&](const std::string& name, const std::string& value,
                     std::vector<std::string> says) {
    says.push_back(row1_value);
    return BadCase{name, dec2, 0, h + Tuple1(value) + kTrailer, StatusCode::kDataLoss, says};
  };
  std::vector<BadCase> cases = {
      {"not a COPY stream",
       One(DataType::Int32()),
       0,
       "id,name\n1,x\n",
       StatusCode::kDataLoss,
       {"byte offset 0:", "signature"}},
      {"bad signature byte",
       One(DataType::Int32()),
       0,
       std::string("PGCOPY\n\xfe\r\n\0", 11) + B32(0) + B32(0) + kTrailer,
       StatusCode::kDataLoss,
       {"byte offset 7:", "signature"}},
      {"OIDs flag",
       One(DataType::Int32()),
       0,
       Header(0x10000) + kTrailer,
       StatusCode::kDataLoss,
       {"byte offset 11:", "OIDs"}},
      {"unknown critical flag",
       One(DataType::Int32()),
       0,
       Header(0x00200001) + kTrailer,
       StatusCode::kDataLoss,
       {"byte offset 11:", "0x200001", "critical"}},
      {"critical flag bit 17",
       One(DataType::Int32()),
       0,
       Header(0x20000) + kTrailer,
       StatusCode::kDataLoss,
       {"byte offset 11:", "0x20000", "critical"}},
      {"negative extension length",
       One(DataType::Int32()),
       0,
       kSignature + B32(0) + B32(-5) + kTrailer,
       StatusCode::kDataLoss,
       {"byte offset 15:", "negative header extension length -5"}},
      {"too many fields",
       One(DataType::Int32()),
       0,
       h + B16(2) + B32(4) + B32(1) + B32(4) + B32(2) + kTrailer,
       StatusCode::kDataLoss,
       {"byte offset 19, row 1:", "2 fields, expected 1"}},
      {"too few fields in row 2",
       Schema({{"a", DataType::Int32()}, {"b", DataType::Int32()}}),
       0,
       h + B16(2) + B32(4) + B32(1) + B32(4) + B32(2) + B16(1) + B32(4) + B32(3) + kTrailer,
       StatusCode::kDataLoss,
       {"byte offset 37, row 2:", "1 fields, expected 2"}},
      {"negative field count",
       One(DataType::Int32()),
       0,
       h + B16(-2),
       StatusCode::kDataLoss,
       {"byte offset 19, row 1:", "-2 fields"}},
      {"bool of 2 bytes",
       One(DataType::Bool()),
       0,
       h + Tuple1(std::string("\x01\x00", 2)) + kTrailer,
       StatusCode::kDataLoss,
       {row1_length, "length 2, expected 1 for boolean"}},
      {"int4 of 8 bytes",
       One(DataType::Int32()),
       0,
       h + Tuple1(B64(1)) + kTrailer,
       StatusCode::kDataLoss,
       {row1_length, "length 8, expected 4 for integer"}},
      {"int8 of 4 bytes",
       One(DataType::Int64()),
       0,
       h + Tuple1(B32(1)) + kTrailer,
       StatusCode::kDataLoss,
       {row1_length, "length 4, expected 8 for bigint"}},
      {"float8 of 4 bytes",
       One(DataType::Float64()),
       0,
       h + Tuple1(B32(1)) + kTrailer,
       StatusCode::kDataLoss,
       {row1_length, "length 4, expected 8 for double precision"}},
      {"date of 8 bytes",
       One(DataType::Date()),
       0,
       h + Tuple1(B64(1)) + kTrailer,
       StatusCode::kDataLoss,
       {row1_length, "length 8, expected 4 for date"}},
      {"timestamptz of 4 bytes",
       One(DataType::Timestamp()),
       0,
       h + Tuple1(B32(1)) + kTrailer,
       StatusCode::kDataLoss,
       {row1_length, "length 4, expected 8 for timestamp with time zone"}},
      {"negative length",
       One(DataType::String()),
       0,
       h + B16(1) + B32(-2) + kTrailer,
       StatusCode::kDataLoss,
       {row1_length, "negative length -2"}},
      {"NULL where not nullable",
       One(DataType::Int32(), false),
       0,
       h + Null1() + kTrailer,
       StatusCode::kDataLoss,
       {row1_length, "NULL in a field that is not nullable"}},
      {"batch id of 4 bytes",
       One(DataType::Int32()),
       1,
       h + B16(2) + B32(4) + B32(1) + B32(4) + B32(9) + kTrailer,
       StatusCode::kDataLoss,
       {"byte offset 29, row 1, field '_sluice_batch_id':", "length 4, expected an int8"}},
      {"NULL row number",
       One(DataType::Int32()),
       2,
       h + B16(3) + B32(4) + B32(1) + B32(8) + B64(9) + B32(-1) + kTrailer,
       StatusCode::kDataLoss,
       {"byte offset 41, row 1, field '_sluice_row':", "NULL, expected"}},
      {"text over 1 GB",
       text,
       0,
       h + B16(1) + B32(0x40000000) + "abc",
       StatusCode::kDataLoss,
       {row1_length, "1 GB"}},
      {"invalid UTF-8",
       text,
       0,
       h + Tuple1("ok \xff\xfe") + kTrailer,
       StatusCode::kDataLoss,
       {row1_value, "not valid UTF-8"}},
      {"overlong UTF-8",
       text,
       0,
       h + Tuple1("\xc0\xaf") + kTrailer,
       StatusCode::kDataLoss,
       {row1_value, "not valid UTF-8"}},
      {"truncated UTF-8",
       text,
       0,
       h + Tuple1("\xe6\x97") + kTrailer,
       StatusCode::kDataLoss,
       {row1_value, "not valid UTF-8"}},
      {"UTF-16 surrogate",
       text,
       0,
       h + Tuple1("\xed\xa0\x80") + kTrailer,
       StatusCode::kDataLoss,
       {row1_value, "not valid UTF-8"}},
      {"date past sluice's range",
       One(DataType::Date()),
       0,
       h + Tuple1(B32(std::numeric_limits<int32_t>::max())) + kTrailer,
       StatusCode::kDataLoss,
       {row1_value, "date out of range"}},
      {"timestamp past sluice's range",
       One(DataType::Timestamp()),
       0,
       h + Tuple1(B64(std::numeric_limits<int64_t>::max())) + kTrailer,
       StatusCode::kDataLoss,
       {row1_value, "timestamp out of range"}},
      {"numeric shorter than its head",
       dec2,
       0,
       h + Tuple1(B32(0) + B16(0)) + kTrailer,
       StatusCode::kDataLoss,
       {row1_length, "length 6, shorter than a numeric's 8-byte head"}},
      numeric("numeric negative digit count", Num({-1, 0, 0, 0}), {"negative digit count -1"}),
      numeric("numeric digit count and length differ", Num({2, 0, 0, 2, 12}),
              {"numeric of 2 digits in 10 bytes, expected 12"}),
      numeric("numeric NaN", Num({0, 0, 0xc000, 0}), {"NaN", "decimal(18,2) cannot hold"}),
      numeric("numeric Infinity", Num({0, 0, 0xd000, 0}), {"numeric Infinity"}),
      numeric("numeric -Infinity", Num({0, 0, 0xf000, 0}), {"numeric -Infinity"}),
      numeric("numeric bad sign", Num({1, 0, 0x1234, 0, 1}), {"invalid sign 0x1234"}),
      numeric("numeric bad display scale", Num({1, 0, 0, 0x4000, 1}),
              {"invalid display scale 16384"}),
      numeric("numeric digit 10000", Num({2, 0, 0, 0, 1, 10000}),
              {"digit 2 is 10000, outside 0..9999"}),
      numeric("numeric negative digit", Num({1, 0, 0, 0, 0xffff}),
              {"digit 1 is -1, outside 0..9999"}),
      numeric("numeric past int64 at scale 2", Num({1, 4, 0, 0, 10}),  // 10^17 -> 10^19 unscaled
              {"out of range for decimal(18,2)", "64 bits"}),
      numeric("numeric with a huge weight", Num({1, 20, 0, 0, 1}), {"out of range"}),
      numeric("numeric more fraction than the scale", Num({2, 0, 0, 3, 1, 2340}),
              {"non-zero digits beyond the 2 fractional digits of decimal(18,2)"}),
      numeric("numeric fraction far below the scale", Num({1, -3, 0, 12, 1}),
              {"beyond the 2 fractional digits"}),
      numeric("numeric digits hidden by its display scale", Num({2, 0, 0, 1, 1, 2500}),
              {"non-zero digits beyond its display scale 1"}),
      {"numeric past int64 at scale 0",
       One(DataType::Decimal(18, 0)),
       0,
       h + Tuple1(Num({5, 4, 0, 0, 922, 3372, 368, 5477, 5808})) + kTrailer,  // 2^63
       StatusCode::kDataLoss,
       {row1_value, "out of range for decimal(18,0)"}},
      {"numeric below int64 at scale 0",
       One(DataType::Decimal(18, 0)),
       0,
       h + Tuple1(Num({5, 4, 0x4000, 0, 922, 3372, 368, 5477, 5809})) + kTrailer,  // -2^63-1
       StatusCode::kDataLoss,
       {row1_value, "out of range for decimal(18,0)"}},
      {"numeric past int64 at scale 18",
       One(DataType::Decimal(18, 18)),
       0,
       h + Tuple1(Num({1, 0, 0, 0, 10})) + kTrailer,  // 10 -> 10^19 unscaled
       StatusCode::kDataLoss,
       {row1_value, "out of range for decimal(18,18)"}},
      {"bytes after the end",
       One(DataType::Int32()),
       0,
       h + Tuple1(B32(1)) + kTrailer + "x",
       StatusCode::kDataLoss,
       {"byte offset 31:", "1 bytes after the end-of-data marker"}},
      {"ends inside the header",
       One(DataType::Int32()),
       0,
       h.substr(0, 10),
       StatusCode::kDataLoss,
       {"byte offset 10", "inside its header", "end-of-data marker"}},
      {"ends inside the header extension",
       One(DataType::Int32()),
       0,
       kSignature + B32(0) + B32(10) + "abc",
       StatusCode::kDataLoss,
       {"byte offset 22", "inside its header extension"}},
      {"ends inside a value",
       One(DataType::Int64()),
       0,
       h + Tuple1(B64(1)) + B16(1) + B32(8) + "abc",
       StatusCode::kDataLoss,
       {"byte offset 42", "inside row 2, field 'v'"}},
      {"ends inside a field count",
       One(DataType::Int64()),
       0,
       h + Tuple1(B64(1)) + std::string(1, '\0'),
       StatusCode::kDataLoss,
       {"byte offset 34", "inside row 2's field count"}},
      {"ends between rows",
       One(DataType::Int64()),
       0,
       h + Tuple1(B64(1)),
       StatusCode::kDataLoss,
       {"byte offset 33", "after row 1", "before its end-of-data marker"}},
  };
  return cases;
}

TEST(PgCopyDecoderTest, MalformedStreamsSayWhereAndWhy) {
  for (const BadCase& c : BadCases()) {
    SCOPED_TRACE(c.name);
    std::string first;
    // The same error, at the same offset, however the stream is split.
    for (size_t piece : {size_t{1} << 20, size_t{1}, size_t{3}}) {
      Decoded got = DecodeStream(c.schema, c.extra_int8, c.stream, piece);
      EXPECT_EQ(got.status.code(), c.code) << got.status.ToString();
      for (const std::string& s : c.says) {
        EXPECT_NE(got.status.message().find(s), std::string::npos)
            << "missing \"" << s << "\" in " << got.status.ToString();
      }
      if (first.empty()) first = got.status.message();
      EXPECT_EQ(got.status.message(), first);
    }
  }
}

TEST(PgCopyDecoderTest, AnErrorSticksAndDropsTheRowsBeforeIt) {
  const Schema schema = One(DataType::Int32(), false);
  PgCopyDecoder dec(schema, 0, 10);
  ASSERT_TRUE(dec.Feed(Header() + Tuple1(B32(1))).ok());
  const Status bad = dec.Feed(Null1());
  ASSERT_EQ(bad.code(), StatusCode::kDataLoss);
  EXPECT_NE(bad.message().find("row 2"), std::string::npos) << bad.ToString();
  EXPECT_EQ(dec.Feed(Tuple1(B32(3))).message(), bad.message());
  EXPECT_EQ(dec.Next().status().message(), bad.message());
  EXPECT_EQ(dec.Finish().message(), bad.message());
}

TEST(PgCopyDecoderTest, FeedAfterTheEndIsAnError) {
  PgCopyDecoder dec(One(DataType::Int32()), 0);
  ASSERT_TRUE(dec.Feed(Header() + kTrailer).ok());
  EXPECT_TRUE(dec.done());
  EXPECT_TRUE(dec.Feed("").ok());
  const Status more = dec.Feed("zz");
  EXPECT_EQ(more.code(), StatusCode::kDataLoss);
  EXPECT_NE(more.message().find("byte offset 21: 2 bytes after"), std::string::npos)
      << more.ToString();
  EXPECT_EQ(dec.Finish().code(), StatusCode::kDataLoss);
}

TEST(PgCopyDecoderTest, ArgumentsThatCannotDescribeAStream) {
  const std::string stream = Header() + kTrailer;
  const std::vector<std::pair<PgCopyDecoder, std::string>> cases = {
      {PgCopyDecoder(One(DataType::Int32()), -1), "negative extra_int8"},
      {PgCopyDecoder(One(DataType::Int32()), 0, 0), "max_rows 0"},
      {PgCopyDecoder(One(DataType::Decimal(18, 19)), 0), "scale above 18"},
      {PgCopyDecoder(One(DataType::Int32()), 32767), "32768 fields per tuple"},
  };
  for (auto [dec, says] : cases) {
    const Status s = dec.Feed(stream);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
    EXPECT_NE(s.message().find(says), std::string::npos) << s.ToString();
    EXPECT_EQ(dec.Next().status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(dec.Finish().code(), StatusCode::kInvalidArgument);
  }
}

TEST(PgCopyDecoderTest, FirstTupleFields) {
  const std::string stream = Encode(EveryTypeBatch(), 77, true);
  EXPECT_EQ(PgCopyFirstTupleFields(stream).value(), std::optional<int>(14));
  EXPECT_EQ(PgCopyFirstTupleFields(std::string_view(stream).substr(0, 20)).value(),
            std::optional<int>());
  EXPECT_EQ(PgCopyFirstTupleFields("").value(), std::optional<int>());
  EXPECT_EQ(PgCopyFirstTupleFields(Header(0, "abc") + B16(3)).value(), std::optional<int>(3));
  EXPECT_EQ(PgCopyFirstTupleFields(Header() + kTrailer).value(), std::optional<int>(-1));
  EXPECT_EQ(PgCopyFirstTupleFields("PGCOPX").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(PgCopyFirstTupleFields(Header(0x10000)).status().code(), StatusCode::kDataLoss);
}

std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

// The decoder against PostgreSQL's own send functions (which COPY TO ...
// binary writes), not only against our encoder: each value's bytes and the
// sluice value PostgreSQL computes for it.
TEST_F(PgCopyTest, DecoderReadsPostgresOwnBinaryValues) {
  struct Case {
    std::string value;  // a bytea expression
    DataType type;
    std::string want;  // an SQL expression for the sluice value's text
  };
  auto day = [](const std::string& d) {
    return Case{"date_send('" + d + "'::date)", DataType::Date(),
                "('" + d + "'::date - '1970-01-01'::date)::text"};
  };
  auto ts = [](const std::string& t) {
    return Case{"timestamptz_send('" + t + "'::timestamptz)", DataType::Timestamp(),
                "(extract(epoch from '" + t + "'::timestamptz) * 1000000)::bigint::text"};
  };
  auto num = [](const std::string& v, int scale, const std::string& want) {
    return Case{"numeric_send(" + v + "::numeric)", DataType::Decimal(18, scale), "'" + want + "'"};
  };
  const std::vector<Case> cases = {
      num("12.5", 2, "1250"),
      num("12.50", 2, "1250"),
      num("-0.0001", 4, "-1"),
      num("99999999999999.9999", 4, "999999999999999999"),
      num("100000000000000000", 0, "100000000000000000"),
      num("-9223372036854775808", 0, "-9223372036854775808"),
      num("9223372036854775807", 0, "9223372036854775807"),
      num("9.223372036854775807", 18, "9223372036854775807"),
      num("0.000001", 6, "1"),
      num("123456789.123", 5, "12345678912300"),
      num("0.000", 2, "0"),
      num("-0", 0, "0"),
      num("10000.0001", 4, "100000001"),
      day("2000-01-01"),
      day("1970-01-01"),
      day("1969-12-31"),
      day("1900-03-01"),
      day("0001-01-01"),
      day("2038-01-20"),
      day("9999-12-31"),
      ts("2000-01-01 00:00:00+00"),
      ts("1969-12-31 23:59:59.999999+00"),
      ts("1900-01-01 00:00:00+00"),
      ts("2100-06-30 12:34:56.789012+02"),
      ts("0001-01-01 00:00:00+00"),
      {"int4send(-2147483648)", DataType::Int32(), "'-2147483648'"},
      {"int8send(-9223372036854775808)", DataType::Int64(), "'-9223372036854775808'"},
      {"boolsend(true)", DataType::Bool(), "'1'"},
      {"textsend('grüße 😀')", DataType::String(), "quote_literal('grüße 😀')"},
  };
  ASSERT_TRUE(db_->Exec("SET TIME ZONE 'UTC'").ok());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.value);
    const std::vector<std::string> row =
        Query("SELECT encode(" + c.value + ", 'hex') || '|' || " + c.want);
    ASSERT_EQ(row.size(), 1u);
    const size_t bar = row[0].find('|');
    const std::string bytes = FromHex(std::string_view(row[0]).substr(0, bar));
    Decoded got = DecodeStream(One(c.type), 0, Header() + Tuple1(bytes) + kTrailer);
    ASSERT_TRUE(got.status.ok()) << got.status.ToString();
    EXPECT_EQ(Render(got.batches), std::vector<std::string>{row[0].substr(bar + 1) + "@1"});
  }
  // PostgreSQL's special values, which sluice cannot hold.
  const std::vector<std::pair<std::string, DataType>> specials = {
      {"numeric_send('NaN'::numeric)", DataType::Decimal(18, 2)},
      {"numeric_send('Infinity'::numeric)", DataType::Decimal(18, 2)},
      {"date_send('infinity'::date)", DataType::Date()},
      {"timestamptz_send('infinity'::timestamptz)", DataType::Timestamp()},
  };
  for (const auto& [value, type] : specials) {
    SCOPED_TRACE(value);
    const std::vector<std::string> row = Query("SELECT encode(" + value + ", 'hex')");
    ASSERT_EQ(row.size(), 1u);
    Decoded got = DecodeStream(One(type), 0, Header() + Tuple1(FromHex(row[0])) + kTrailer);
    EXPECT_EQ(got.status.code(), StatusCode::kDataLoss) << got.status.ToString();
  }
}

}  // namespace
}  // namespace sluice
