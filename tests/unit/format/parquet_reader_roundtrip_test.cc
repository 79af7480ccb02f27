// Round trips through sluice's own writer: random schemas and values (NULLs,
// empty strings, extremes, unicode) are written with NewParquetEncoder under
// several codecs, page and row-group sizes, then read back with the Parquet
// decoder with the same schema, with no schema (the file's own), projected
// and reordered, and through a non-seekable stream.
#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "core/io.h"
#include "core/thread_pool.h"
#include "decode_helpers.h"
#include "format/format.h"
#include "format/parquet_reader.h"

namespace sluice {
namespace {

using testing::FormatCell;

const char* const kStrings[] = {"",
                                "a",
                                "h\xc3\xa9llo w\xc3\xb6rld",
                                "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\xa6\x86",
                                "comma, \"quote\"\nnewline",
                                "a much longer string that repeats a much longer string"};

DataType RandomType(std::mt19937_64& rng) {
  switch (rng() % 8) {
    case 0:
      return DataType::Bool();
    case 1:
      return DataType::Int32();
    case 2:
      return DataType::Int64();
    case 3:
      return DataType::Float64();
    case 4: {
      int p = 1 + static_cast<int>(rng() % 18);
      return DataType::Decimal(p, static_cast<int>(rng() % (p + 1)));
    }
    case 5:
      return DataType::String();
    case 6:
      return DataType::Date();
    default:
      return DataType::Timestamp();
  }
}

void AppendRandom(Column* c, std::mt19937_64& rng, bool nullable, int null_pct) {
  if (nullable && static_cast<int>(rng() % 100) < null_pct) {
    c->AppendNull();
    return;
  }
  const DataType& t = c->type();
  const bool extreme = rng() % 10 == 0;
  switch (t.id) {
    case TypeId::kBool:
      c->Append<uint8_t>(rng() % 2);
      break;
    case TypeId::kInt32:
      c->Append<int32_t>(extreme ? (rng() % 2 ? std::numeric_limits<int32_t>::min()
                                              : std::numeric_limits<int32_t>::max())
                                 : static_cast<int32_t>(rng() % 2000) - 1000);
      break;
    case TypeId::kInt64:
      c->Append<int64_t>(extreme ? (rng() % 2 ? std::numeric_limits<int64_t>::min()
                                              : std::numeric_limits<int64_t>::max())
                                 : static_cast<int64_t>(rng()));
      break;
    case TypeId::kFloat64: {
      double v = extreme ? (rng() % 2 ? -0.0 : std::numeric_limits<double>::max())
                         : static_cast<double>(static_cast<int64_t>(rng() % 100000)) / 7.0;
      c->Append<double>(v);
      break;
    }
    case TypeId::kDecimal: {
      int64_t limit = Pow10(t.precision) - 1;
      int64_t v = extreme ? (rng() % 2 ? limit : -limit)
                          : static_cast<int64_t>(rng() % static_cast<uint64_t>(limit + 1));
      c->Append<int64_t>(rng() % 3 == 0 ? -v : v);
      break;
    }
    case TypeId::kString:
      c->AppendString(kStrings[rng() % std::size(kStrings)]);
      break;
    case TypeId::kDate:
      c->Append<int32_t>(extreme ? -719162 : static_cast<int32_t>(rng() % 40000) - 10000);
      break;
    case TypeId::kTimestamp:
      c->Append<int64_t>(extreme ? -62135596800000000
                                 : static_cast<int64_t>(rng() % (int64_t{1} << 52)) -
                                       (int64_t{1} << 50));
      break;
  }
}

struct Case {
  Schema schema;
  std::vector<RecordBatch> batches;
  std::string file;
};

Case MakeCase(uint64_t seed, Compression compression, int64_t rows) {
  std::mt19937_64 rng(seed);
  Case c;
  int nf = 1 + static_cast<int>(rng() % 8);
  for (int f = 0; f < nf; ++f) {
    c.schema.AddField(Field{"c" + std::to_string(f), RandomType(rng), rng() % 3 != 0});
  }
  ParquetWriterOptions o;
  o.compression = compression;
  o.row_group_rows = 1 + static_cast<int64_t>(rng() % 700);
  o.page_bytes = 64 + static_cast<int64_t>(rng() % 4000);
  auto enc = NewParquetEncoder(NewStringOutput(&c.file), c.schema, o);
  EXPECT_TRUE(enc.ok()) << enc.status().ToString();
  if (!enc.ok()) return c;
  const int null_pct = static_cast<int>(rng() % 60);
  for (int64_t done = 0; done < rows;) {
    int64_t n = std::min<int64_t>(rows - done, 1 + static_cast<int64_t>(rng() % 500));
    RecordBatch b = RecordBatch::Empty(c.schema);
    for (int f = 0; f < nf; ++f) {
      for (int64_t i = 0; i < n; ++i) {
        AppendRandom(&b.columns[f], rng, c.schema.field(f).nullable, null_pct);
      }
    }
    EXPECT_TRUE((*enc)->Write(b).ok());
    c.batches.push_back(std::move(b));
    done += n;
  }
  EXPECT_TRUE((*enc)->Finish().ok());
  return c;
}

// "line: v1|v2|..." for every row written, projected onto `fields`
// (-1 = a column the file does not have: NULL).
std::vector<std::string> Expected(const Case& c, const std::vector<int>& fields) {
  std::vector<std::string> rows;
  int64_t line = 1;
  for (const RecordBatch& b : c.batches) {
    for (int64_t r = 0; r < b.num_rows(); ++r) {
      std::string row = std::to_string(line++) + ":";
      for (size_t k = 0; k < fields.size(); ++k) {
        row += k == 0 ? " " : "|";
        row += fields[k] < 0 ? "NULL" : FormatCell(b.columns[fields[k]], r);
      }
      rows.push_back(row);
    }
  }
  return rows;
}

testing::Decoded Read(const std::string& file, const DecoderOptions& o, bool seekable) {
  std::unique_ptr<InputStream> in =
      seekable ? NewStringInput(file, "rt.parquet")
               : std::unique_ptr<InputStream>(
                     std::make_unique<testing::PieceInput>(file, 777, "rt.parquet"));
  return testing::Drain(NewDecoder(FileFormat::kParquet, std::move(in), o));
}

TEST(ParquetReaderRoundTrip, RandomSchemasAndValues) {
  const Compression codecs[] = {Compression::kUncompressed, Compression::kSnappy,
                                Compression::kGzip, Compression::kZstd};
  ThreadPool pool(2);
  for (uint64_t seed = 1; seed <= 24; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Case c = MakeCase(seed, codecs[seed % 4], static_cast<int64_t>(seed * 97 % 1500));
    std::vector<int> all;
    for (int f = 0; f < c.schema.num_fields(); ++f) all.push_back(f);

    DecoderOptions o;
    o.schema = c.schema;
    o.batch_rows = 1 + static_cast<int64_t>(seed * 131 % 1000);
    // Every third case decodes the columns of a batch on a pool.
    if (seed % 3 == 0) o.pool = &pool;
    testing::Decoded d = Read(c.file, o, seed % 2 == 0);
    ASSERT_TRUE(d.status.ok()) << d.status.ToString();
    EXPECT_TRUE(d.bad.empty()) << d.Text();
    EXPECT_EQ(d.rows, Expected(c, all));
    EXPECT_EQ(d.records_read, static_cast<int64_t>(d.rows.size()));

    // No schema: the file's own, with the same types and nullability.
    o.schema = Schema();
    d = Read(c.file, o, true);
    ASSERT_TRUE(d.status.ok()) << d.status.ToString();
    EXPECT_EQ(d.rows, Expected(c, all));
    auto inferred = InferParquetSchema(*NewStringInput(c.file));
    ASSERT_TRUE(inferred.ok()) << inferred.status().ToString();
    EXPECT_EQ(*inferred, c.schema);

    // Projection: the columns reversed, every other one, plus columns the file lacks.
    // (A missing column before the present ones was a fuzz-found crash.)
    Schema projected;
    std::vector<int> fields;
    projected.AddField(Field{"absent_first", DataType::String(), true});
    fields.push_back(-1);
    for (int f = c.schema.num_fields() - 1; f >= 0; f -= 2) {
      projected.AddField(c.schema.field(f));
      fields.push_back(f);
    }
    projected.AddField(Field{"not_in_file", DataType::Int64(), true});
    fields.push_back(-1);
    o.schema = projected;
    d = Read(c.file, o, seed % 3 == 0);
    ASSERT_TRUE(d.status.ok()) << d.status.ToString();
    EXPECT_EQ(d.rows, Expected(c, fields));
  }
}

TEST(ParquetReaderRoundTrip, EmptyFileHasNoBatches) {
  Schema s({{"a", DataType::Int32(), true}});
  std::string file;
  auto enc = NewParquetEncoder(NewStringOutput(&file), s, {});
  ASSERT_TRUE(enc.ok());
  ASSERT_TRUE((*enc)->Finish().ok());
  DecoderOptions o;
  o.schema = s;
  testing::Decoded d = Read(file, o, true);
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  EXPECT_EQ(d.batches, 0);
  EXPECT_TRUE(d.rows.empty());
}

}  // namespace
}  // namespace sluice
