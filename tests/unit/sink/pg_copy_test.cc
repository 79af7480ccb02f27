// PgCopyEncoder against a real PostgreSQL: every sluice type loaded with
// binary COPY (PgDb::CopyIn) and read back as PostgreSQL prints it.
#include "sink/pg_copy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
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

}  // namespace
}  // namespace sluice
