// The Parquet page index: what NewParquetEncoder writes (OffsetIndex and
// ColumnIndex per chunk, read back with page_index.h and checked against the
// values written), what the reader does with it (ColumnChunkReader::SkipRows
// reaching every row while skipping pages, RowGroupFilter::MatchingRows), and
// malformed indexes (kDataLoss naming file and column, never a crash).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/io.h"
#include "core/thread_pool.h"
#include "format/format.h"
#include "format/parquet/column_chunk_reader.h"
#include "format/parquet/page_index.h"
#include "format/parquet/parquet_file_reader.h"
#include "format/parquet/parquet_metadata.h"
#include "format/parquet/row_group_filter.h"

namespace sluice {
namespace {

using parquet::ColumnChunkReader;
using parquet::ColumnIndexMeta;
using parquet::OffsetIndexMeta;
using parquet::ParquetFile;
using parquet::RawColumn;
using parquet::RowRange;
using parquet::RowRanges;

// Rows: id (int64, ascending, not null), country (string, 30 values:
// dictionary-encoded), note (nullable string, every 7th NULL and a run of
// NULLs filling whole pages), price (float64, descending).
Schema TestSchema() {
  return Schema({{"id", DataType::Int64(), false},
                 {"country", DataType::String(), true},
                 {"note", DataType::String(), true},
                 {"price", DataType::Float64(), true}});
}

const char* const kCountries[] = {"AT", "BE", "CH", "DE", "DK", "ES", "FI", "FR", "GB", "GR",
                                  "HU", "IE", "IT", "LU", "NL", "NO", "PL", "PT", "RO", "SE"};

std::string Country(int64_t i) { return kCountries[(i * 7 + i / 13) % 20]; }
bool NoteIsNull(int64_t i) { return i % 7 == 3 || (i >= 2000 && i < 4500); }
std::string Note(int64_t i) { return "note " + std::to_string(i * 7919 % 100003); }
double Price(int64_t i) { return 1e6 - static_cast<double>(i) * 0.5; }

RecordBatch TestRows(int64_t begin, int64_t n) {
  RecordBatch b = RecordBatch::Empty(TestSchema());
  for (int64_t i = begin; i < begin + n; ++i) {
    b.columns[0].Append<int64_t>(i);
    b.columns[1].AppendString(Country(i));
    if (NoteIsNull(i)) {
      b.columns[2].AppendNull();
    } else {
      b.columns[2].AppendString(Note(i));
    }
    b.columns[3].Append<double>(Price(i));
  }
  b.num_rows_no_columns = n;
  return b;
}

std::string WriteFile(const Schema& schema, const std::vector<RecordBatch>& batches,
                      ParquetWriterOptions o) {
  std::string file;
  auto enc = NewParquetEncoder(NewStringOutput(&file), schema, o);
  EXPECT_TRUE(enc.ok()) << enc.status().ToString();
  for (const RecordBatch& b : batches) EXPECT_TRUE((*enc)->Write(b).ok());
  EXPECT_TRUE((*enc)->Finish().ok());
  return file;
}

std::string WriteTestFile(int64_t rows, ParquetWriterOptions o) {
  std::vector<RecordBatch> batches;
  for (int64_t at = 0; at < rows; at += 3000)
    batches.push_back(TestRows(at, std::min<int64_t>(3000, rows - at)));
  return WriteFile(TestSchema(), batches, o);
}

std::unique_ptr<ParquetFile> Open(const std::string& bytes) {
  auto in = NewStringInput(bytes, "test.parquet");
  auto ra = MakeRandomAccess(*in);
  EXPECT_TRUE(ra.ok());
  auto pf = parquet::OpenParquetFile(std::move(ra).value());
  EXPECT_TRUE(pf.ok()) << pf.status().ToString();
  return std::move(pf).value();
}

int64_t LE64(const std::string& s) {
  int64_t v = 0;
  EXPECT_EQ(s.size(), 8u);
  std::memcpy(&v, s.data(), std::min<size_t>(8, s.size()));
  return v;
}

double LEDouble(const std::string& s) {
  double v = 0;
  EXPECT_EQ(s.size(), 8u);
  std::memcpy(&v, s.data(), std::min<size_t>(8, s.size()));
  return v;
}

struct WriterCase {
  const char* name;
  bool v2;
  Compression codec;
  bool pool;
};
const WriterCase kWriterCases[] = {
    {"v1 zstd", false, Compression::kZstd, false},
    {"v2 snappy", true, Compression::kSnappy, false},
    {"v1 none", false, Compression::kUncompressed, false},
    {"v1 gzip pool", false, Compression::kGzip, true},
};

ParquetWriterOptions Options(const WriterCase& c) {
  ParquetWriterOptions o;
  o.data_page_v2 = c.v2;
  o.compression = c.codec;
  o.row_group_rows = 5000;
  o.page_rows = 700;
  return o;
}

TEST(ParquetPageIndex, WriterIndexesEveryPageOfEveryChunk) {
  ThreadPool pool(2);
  for (const WriterCase& c : kWriterCases) {
    SCOPED_TRACE(c.name);
    ParquetWriterOptions o = Options(c);
    if (c.pool) o.pool = &pool;
    const int64_t rows = 12345;
    auto pf = Open(WriteTestFile(rows, o));
    ASSERT_EQ(pf->meta.row_groups.size(), 3u);
    int64_t group_first = 0;
    for (int rg = 0; rg < 3; ++rg) {
      const int64_t group_rows = pf->meta.row_groups[rg].num_rows;
      for (int leaf = 0; leaf < 4; ++leaf) {
        SCOPED_TRACE("row group " + std::to_string(rg) + " leaf " + std::to_string(leaf));
        auto oi = parquet::ReadOffsetIndex(*pf, rg, leaf);
        ASSERT_TRUE(oi.ok()) << oi.status().ToString();
        ASSERT_TRUE(oi->has_value());
        const OffsetIndexMeta& index = **oi;
        ASSERT_EQ(static_cast<int64_t>(index.pages.size()), (group_rows + 699) / 700);
        for (size_t p = 0; p < index.pages.size(); ++p) {
          EXPECT_EQ(index.pages[p].first_row, static_cast<int64_t>(p) * 700);
        }
        auto ci = parquet::ReadColumnIndex(*pf, rg, leaf, index.pages.size());
        ASSERT_TRUE(ci.ok()) << ci.status().ToString();
        ASSERT_TRUE(ci->has_value());
        const ColumnIndexMeta& cols = **ci;
        for (size_t p = 0; p < index.pages.size(); ++p) {
          const int64_t b = group_first + index.pages[p].first_row;
          const int64_t e = group_first + index.EndRow(p, group_rows);
          if (leaf == 0) {
            EXPECT_FALSE(cols.null_pages[p]);
            EXPECT_EQ(LE64(cols.min_values[p]), b);
            EXPECT_EQ(LE64(cols.max_values[p]), e - 1);
            EXPECT_EQ(cols.null_counts[p], 0);
          } else if (leaf == 1) {
            std::string mn = Country(b), mx = Country(b);
            for (int64_t i = b; i < e; ++i) {
              mn = std::min(mn, Country(i));
              mx = std::max(mx, Country(i));
            }
            EXPECT_EQ(cols.min_values[p], mn);
            EXPECT_EQ(cols.max_values[p], mx);
          } else if (leaf == 2) {
            int64_t nulls = 0;
            std::optional<std::string> mn, mx;
            for (int64_t i = b; i < e; ++i) {
              if (NoteIsNull(i)) {
                ++nulls;
                continue;
              }
              if (!mn || Note(i) < *mn) mn = Note(i);
              if (!mx || Note(i) > *mx) mx = Note(i);
            }
            EXPECT_EQ(cols.null_counts[p], nulls);
            EXPECT_EQ(cols.null_pages[p], nulls == e - b);
            EXPECT_EQ(cols.min_values[p], mn.value_or(""));
            EXPECT_EQ(cols.max_values[p], mx.value_or(""));
          } else {
            EXPECT_EQ(LEDouble(cols.min_values[p]), Price(e - 1));
            EXPECT_EQ(LEDouble(cols.max_values[p]), Price(b));
          }
        }
        // id ascends, price descends.
        if (leaf == 0) {
          EXPECT_EQ(cols.boundary_order, 1);
        }
        if (leaf == 3) {
          EXPECT_EQ(cols.boundary_order, 2);
        }
      }
      group_first += group_rows;
    }
    // The rows the test makes have whole pages of NULL notes.
    auto ci = parquet::ReadColumnIndex(*pf, 0, 2, 8);
    ASSERT_TRUE(ci.ok() && ci->has_value());
    EXPECT_TRUE(
        std::any_of((**ci).null_pages.begin(), (**ci).null_pages.end(), [](bool b) { return b; }));
  }
}

TEST(ParquetPageIndex, PageRowsAndPageBytesBothCutPages) {
  ParquetWriterOptions o;
  o.compression = Compression::kUncompressed;
  o.page_rows = 100000;
  o.page_bytes = 8 * 1000;  // 1000 int64 values
  o.dictionary = false;
  Schema s({{"id", DataType::Int64(), false}});
  RecordBatch b = RecordBatch::Empty(s);
  for (int64_t i = 0; i < 10000; ++i) b.columns[0].Append<int64_t>(i);
  auto pf = Open(WriteFile(s, {b}, o));
  auto oi = parquet::ReadOffsetIndex(*pf, 0, 0);
  ASSERT_TRUE(oi.ok() && oi->has_value());
  EXPECT_EQ((**oi).pages.size(), 10u);

  o.page_bytes = 1 << 20;
  o.page_rows = 2500;
  pf = Open(WriteFile(s, {b}, o));
  oi = parquet::ReadOffsetIndex(*pf, 0, 0);
  ASSERT_TRUE(oi.ok() && oi->has_value());
  EXPECT_EQ((**oi).pages.size(), 4u);

  for (int64_t bad : {int64_t{0}, int64_t{-1}, (int64_t{1} << 20) + 1}) {
    o.page_rows = bad;
    std::string out;
    EXPECT_EQ(NewParquetEncoder(NewStringOutput(&out), s, o).status().code(),
              StatusCode::kInvalidArgument);
  }
}

// Chunks whose statistics carry no min/max get an OffsetIndex only.
TEST(ParquetPageIndex, NoColumnIndexWhereChunkStatisticsHaveNoMinMax) {
  Schema s({{"x", DataType::Float64(), true}, {"s", DataType::String(), true}});
  RecordBatch b = RecordBatch::Empty(s);
  for (int i = 0; i < 3000; ++i) {
    b.columns[0].Append<double>(i == 2500 ? std::nan("") : i);
    b.columns[1].AppendString(i == 10 ? std::string(5000, 'z') : "v" + std::to_string(i));
  }
  ParquetWriterOptions o;
  o.page_rows = 1000;
  auto pf = Open(WriteFile(s, {b}, o));
  for (int leaf = 0; leaf < 2; ++leaf) {
    EXPECT_FALSE(pf->meta.row_groups[0].columns[leaf].statistics->min_value.has_value());
    auto oi = parquet::ReadOffsetIndex(*pf, 0, leaf);
    ASSERT_TRUE(oi.ok() && oi->has_value());
    EXPECT_EQ((**oi).pages.size(), 3u);
    auto ci = parquet::ReadColumnIndex(*pf, 0, leaf, 3);
    ASSERT_TRUE(ci.ok());
    EXPECT_FALSE(ci->has_value());
  }
}

TEST(ParquetPageIndex, WriterCanLeaveItOut) {
  ParquetWriterOptions o;
  o.page_index = false;
  o.page_rows = 500;
  auto pf = Open(WriteTestFile(3000, o));
  const parquet::ChunkMeta& c = pf->meta.row_groups[0].columns[0];
  EXPECT_FALSE(c.offset_index_offset.has_value());
  EXPECT_FALSE(c.column_index_offset.has_value());
  auto oi = parquet::ReadOffsetIndex(*pf, 0, 0);
  ASSERT_TRUE(oi.ok());
  EXPECT_FALSE(oi->has_value());
}

// One column's values for rows [row, row + n) via SkipRows + Read, as text.
std::vector<std::string> ReadAt(const ParquetFile& pf, ColumnChunkReader* r, int rg, int leaf,
                                int64_t skip, int64_t n, bool with_index, Status* st) {
  auto range = parquet::GetChunkRange(pf, rg, leaf);
  EXPECT_TRUE(range.ok());
  *st = r->StartChunk(pf.meta.row_groups[rg].columns[leaf], rg, range->begin, range->length);
  if (!st->ok()) return {};
  if (with_index) {
    auto oi = parquet::ReadOffsetIndex(pf, rg, leaf);
    if (!oi.ok()) {
      *st = oi.status();
      return {};
    }
    if (*oi) r->SetOffsetIndex(std::move(**oi), pf.meta.row_groups[rg].num_rows);
  }
  *st = r->SkipRows(skip);
  if (!st->ok()) return {};
  RawColumn raw;
  const parquet::LeafColumn& lc = r->leaf();
  raw.Reset(parquet::PhysicalWidth(lc.physical, lc.type_length), lc.optional);
  *st = r->Read(n, &raw);
  if (!st->ok()) return {};
  std::vector<std::string> out;
  for (int64_t i = 0; i < raw.size; ++i) {
    if (!raw.valid.empty() && !raw.valid[i]) {
      out.push_back("NULL");
    } else if (raw.width == 0) {
      out.emplace_back(raw.chars.data() + raw.offsets()[i],
                       raw.offsets()[i + 1] - raw.offsets()[i]);
    } else {
      int64_t v = 0;
      std::memcpy(&v, raw.data.data() + i * raw.width, raw.width);
      out.push_back(std::to_string(v));
    }
  }
  return out;
}

std::string Expected(int leaf, int64_t i) {
  switch (leaf) {
    case 0:
      return std::to_string(i);
    case 1:
      return Country(i);
    case 2:
      return NoteIsNull(i) ? "NULL" : Note(i);
    default: {
      double d = Price(i);
      int64_t v = 0;
      std::memcpy(&v, &d, 8);
      return std::to_string(v);
    }
  }
}

TEST(ParquetPageIndex, SkipRowsReachesEveryRowAndSkipsPages) {
  for (const WriterCase& c : kWriterCases) {
    SCOPED_TRACE(c.name);
    auto pf = Open(WriteTestFile(12345, Options(c)));
    int64_t group_first = 0;
    for (int rg = 0; rg < 3; ++rg) {
      const int64_t rows = pf->meta.row_groups[rg].num_rows;
      for (int leaf = 0; leaf < 4; ++leaf) {
        ColumnChunkReader r(pf->file.get(), pf->leaves[leaf]);
        // Targets at and around page boundaries, and every 97th row.
        std::vector<int64_t> targets = {0, 1, rows - 1};
        for (int64_t p = 700; p < rows; p += 700) {
          targets.insert(targets.end(), {p - 1, p, p + 1});
        }
        for (int64_t t = 5; t < rows; t += 97) targets.push_back(t);
        for (int64_t t : targets) {
          if (t < 0 || t >= rows) continue;
          const int64_t n = std::min<int64_t>(3, rows - t);
          Status st;
          auto got = ReadAt(*pf, &r, rg, leaf, t, n, true, &st);
          ASSERT_TRUE(st.ok()) << st.ToString();
          ASSERT_EQ(static_cast<int64_t>(got.size()), n);
          for (int64_t k = 0; k < n; ++k) {
            ASSERT_EQ(got[k], Expected(leaf, group_first + t + k))
                << "rg " << rg << " leaf " << leaf << " row " << t + k;
          }
        }
        // Reading from the last page: every page before it is skipped, only
        // the dictionary page (not a data page) and the last page are read.
        const parquet::PageReadStats before = r.page_stats();
        Status st;
        ReadAt(*pf, &r, rg, leaf, rows - 1, 1, true, &st);
        ASSERT_TRUE(st.ok());
        const int64_t pages = (rows + 699) / 700;
        EXPECT_EQ(r.page_stats().pages_read - before.pages_read, 1);
        EXPECT_EQ(r.page_stats().pages_skipped - before.pages_skipped, pages - 1);
        // Without the index the same rows come out, every page read.
        const parquet::PageReadStats before2 = r.page_stats();
        auto got = ReadAt(*pf, &r, rg, leaf, rows - 1, 1, false, &st);
        ASSERT_TRUE(st.ok());
        EXPECT_EQ(got, std::vector<std::string>{Expected(leaf, group_first + rows - 1)});
        EXPECT_EQ(r.page_stats().pages_read - before2.pages_read, pages);
        EXPECT_EQ(r.page_stats().pages_skipped, before2.pages_skipped);
      }
      group_first += rows;
    }
  }
}

// Several skips and reads in one chunk, as the table reader does for row ranges.
TEST(ParquetPageIndex, SkipAndReadAlternate) {
  auto pf = Open(WriteTestFile(5000, Options(kWriterCases[0])));
  std::mt19937_64 rng(7);
  for (int leaf = 0; leaf < 4; ++leaf) {
    for (int round = 0; round < 20; ++round) {
      ColumnChunkReader r(pf->file.get(), pf->leaves[leaf]);
      auto range = parquet::GetChunkRange(*pf, 0, leaf);
      ASSERT_TRUE(
          r.StartChunk(pf->meta.row_groups[0].columns[leaf], 0, range->begin, range->length).ok());
      auto oi = parquet::ReadOffsetIndex(*pf, 0, leaf);
      ASSERT_TRUE(oi.ok() && oi->has_value());
      r.SetOffsetIndex(std::move(**oi), 5000);
      int64_t row = 0;
      while (row < 5000) {
        const int64_t skip = static_cast<int64_t>(rng() % 1500);
        const int64_t take = std::min<int64_t>(1 + static_cast<int64_t>(rng() % 900), 5000 - row);
        if (row + skip + take > 5000) break;
        ASSERT_TRUE(r.SkipRows(skip).ok());
        row += skip;
        RawColumn raw;
        raw.Reset(parquet::PhysicalWidth(r.leaf().physical, r.leaf().type_length),
                  r.leaf().optional);
        ASSERT_TRUE(r.Read(take, &raw).ok());
        ASSERT_EQ(raw.size, take);
        EXPECT_EQ(r.row(), row + take);
        if (leaf == 0) {
          int64_t first = 0;
          std::memcpy(&first, raw.data.data(), 8);
          EXPECT_EQ(first, row);
        }
        row += take;
      }
    }
  }
}

TEST(ParquetPageIndex, MatchingRowsFollowPageMinMax) {
  ParquetWriterOptions o = Options(kWriterCases[0]);
  auto pf = Open(WriteTestFile(12345, o));
  auto make = [&](std::optional<std::string> lo, std::optional<std::string> hi,
                  const char* column = "id") {
    ParquetRangeFilter f;
    f.column = column;
    f.min = std::move(lo);
    f.max = std::move(hi);
    auto filter = parquet::RowGroupFilter::Make(*pf, {f});
    EXPECT_TRUE(filter.ok());
    return std::move(filter).value();
  };
  // id 5000..5000 is row 0 of group 1: its first page.
  auto one = make("5000", "5000");
  EXPECT_FALSE(one.MayMatch(*pf, 0));
  auto rows = one.MatchingRows(*pf, 1);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].begin, 0);
  EXPECT_EQ((*rows)[0].end, 700);
  // A range over pages 2-4 of group 1.
  auto span = make("6500", "7900");
  rows = span.MatchingRows(*pf, 1);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].begin, 1400);
  EXPECT_EQ((*rows)[0].end, 3500);
  // Two filters: their ranges intersect (price descends with id).
  ParquetRangeFilter id{"id", std::string("6500"), std::string("7900")};
  ParquetRangeFilter price{"price", std::string("0"), std::string("996600")};  // id >= 6800
  auto both = parquet::RowGroupFilter::Make(*pf, {id, price});
  ASSERT_TRUE(both.ok());
  rows = both->MatchingRows(*pf, 1);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].begin, 1400);
  // Pages of NULL notes match no range of notes.
  auto notes = make("", std::nullopt, "note");
  rows = notes.MatchingRows(*pf, 0);
  ASSERT_TRUE(rows.ok());
  for (const RowRange& r : *rows) {
    for (int64_t i = r.begin; i < r.end; ++i) {
      if (i >= 2100 && i < 4200) {
        ADD_FAILURE() << "all-null page kept at row " << i;
      }
    }
  }
  // Nothing can match: no ranges.
  auto none = make("20000", std::nullopt);
  rows = none.MatchingRows(*pf, 2);
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
}

TEST(ParquetPageIndex, RangeHelpers) {
  RowRanges a;
  parquet::AppendRange(&a, 0, 10);
  parquet::AppendRange(&a, 10, 20);
  parquet::AppendRange(&a, 30, 40);
  parquet::AppendRange(&a, 35, 35);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].end, 20);
  RowRanges b = {{5, 32}, {39, 50}};
  RowRanges c = parquet::IntersectRanges(a, b);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].begin, 5);
  EXPECT_EQ(c[0].end, 20);
  EXPECT_EQ(c[1].begin, 30);
  EXPECT_EQ(c[1].end, 32);
  EXPECT_EQ(c[2].begin, 39);
  EXPECT_EQ(c[2].end, 40);
}

// ---- malformed indexes -----------------------------------------------------------

// The writer's own bytes, re-serialized with changes, parse as expected.
std::string OffsetIndexBytes(const std::vector<parquet::PageLocation>& pages) {
  parquet::OffsetIndex oi;
  oi.page_locations = pages;
  return parquet::SerializeToString(oi);
}

TEST(ParquetPageIndex, ParsersRejectEveryTruncation) {
  parquet::ColumnIndex ci;
  ci.null_pages = {false, true};
  ci.min_values = {"a", ""};
  ci.max_values = {"b", ""};
  ci.null_counts = {0, 5};
  const std::string cbytes = parquet::SerializeToString(ci);
  auto parsed = parquet::ParseColumnIndex(cbytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->null_pages, (std::vector<bool>{false, true}));
  EXPECT_EQ(parsed->max_values[0], "b");
  EXPECT_EQ(parsed->null_counts[1], 5);
  const std::string obytes = OffsetIndexBytes({{4, 10, 0}, {14, 20, 100}});
  auto op = parquet::ParseOffsetIndex(obytes);
  ASSERT_TRUE(op.ok());
  EXPECT_EQ(op->pages[1].first_row, 100);
  for (size_t n = 0; n < cbytes.size(); ++n) {
    EXPECT_EQ(parquet::ParseColumnIndex(cbytes.substr(0, n)).status().code(),
              StatusCode::kDataLoss);
  }
  for (size_t n = 0; n < obytes.size(); ++n) {
    EXPECT_EQ(parquet::ParseOffsetIndex(obytes.substr(0, n)).status().code(),
              StatusCode::kDataLoss);
  }
}

// Replaces the bytes of the first chunk's offset index with `index` (same
// length or shorter, padded with a field the parser skips is not possible:
// so only same-length mutations are written in place).
std::string WithOffsetIndexBytes(std::string file, const ParquetFile& pf,
                                 const std::string& index) {
  const parquet::ChunkMeta& c = pf.meta.row_groups[0].columns[0];
  EXPECT_EQ(static_cast<int64_t>(index.size()), *c.offset_index_length);
  file.replace(static_cast<size_t>(*c.offset_index_offset), index.size(), index);
  return file;
}

TEST(ParquetPageIndex, MalformedOffsetIndexIsDataLossNamingFileAndColumn) {
  ParquetWriterOptions o = Options(kWriterCases[2]);
  const std::string file = WriteTestFile(5000, o);
  auto pf = Open(file);
  auto good = parquet::ReadOffsetIndex(*pf, 0, 0);
  ASSERT_TRUE(good.ok() && good->has_value());
  std::vector<parquet::PageLocation> pages;
  for (const parquet::PageLoc& p : (**good).pages) pages.push_back({p.offset, p.size, p.first_row});

  struct Mutation {
    const char* name;
    void (*apply)(std::vector<parquet::PageLocation>*);
    const char* message;
  };
  const Mutation kMutations[] = {
      {"rows out of order",
       [](std::vector<parquet::PageLocation>* p) {
         std::swap((*p)[1].first_row_index, (*p)[2].first_row_index);
       },
       "does not follow"},
      {"first row not 0",
       [](std::vector<parquet::PageLocation>* p) { (*p)[0].first_row_index = 1; }, "is not 0"},
      {"row past the group",
       [](std::vector<parquet::PageLocation>* p) { p->back().first_row_index = 5001; },
       "past the row group"},
      {"page outside the chunk", [](std::vector<parquet::PageLocation>* p) { (*p)[3].offset = 5; },
       "outside the column chunk"},
      {"page too long",
       [](std::vector<parquet::PageLocation>* p) { (*p)[1].compressed_page_size += 1; }, "overlap"},
  };
  int applied = 0;
  for (const Mutation& m : kMutations) {
    SCOPED_TRACE(m.name);
    std::vector<parquet::PageLocation> bad = pages;
    m.apply(&bad);
    std::string bytes = OffsetIndexBytes(bad);
    if (bytes.size() !=
        static_cast<size_t>(*pf->meta.row_groups[0].columns[0].offset_index_length)) {
      // A varint grew or shrank: the mutation cannot be written in place.
      continue;
    }
    ++applied;
    auto mutated = Open(WithOffsetIndexBytes(file, *pf, bytes));
    auto oi = parquet::ReadOffsetIndex(*mutated, 0, 0);
    ASSERT_FALSE(oi.ok());
    EXPECT_EQ(oi.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(oi.status().message().find("test.parquet"), std::string::npos);
    EXPECT_NE(oi.status().message().find("column 'id'"), std::string::npos);
    EXPECT_NE(oi.status().message().find(m.message), std::string::npos) << oi.status().ToString();
  }
}

// An index whose rows disagree with the pages it points at is caught when a
// page is read, not trusted into wrong rows.
TEST(ParquetPageIndex, IndexThatDisagreesWithPagesIsDataLoss) {
  ParquetWriterOptions o = Options(kWriterCases[2]);
  const std::string file = WriteTestFile(5000, o);
  auto pf = Open(file);
  auto good = parquet::ReadOffsetIndex(*pf, 0, 0);
  ASSERT_TRUE(good.ok() && good->has_value());
  OffsetIndexMeta shifted = **good;
  shifted.pages[3].first_row += 10;  // page 3 claims 690 rows, page 2 710
  ColumnChunkReader r(pf->file.get(), pf->leaves[0]);
  auto range = parquet::GetChunkRange(*pf, 0, 0);
  ASSERT_TRUE(r.StartChunk(pf->meta.row_groups[0].columns[0], 0, range->begin, range->length).ok());
  r.SetOffsetIndex(shifted, 5000);
  Status st = r.SkipRows(2200);
  if (st.ok()) {
    RawColumn raw;
    raw.Reset(8, false);
    st = r.Read(10, &raw);
  }
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
  EXPECT_NE(st.message().find("offset index"), std::string::npos) << st.ToString();
}

// Every single-byte change of the page index region reads or fails with
// kDataLoss; none crashes (ASan/UBSan builds check the "crashes" part).
TEST(ParquetPageIndex, EveryByteFlipOfTheIndexIsSafe) {
  ParquetWriterOptions o = Options(kWriterCases[2]);
  o.row_group_rows = 3000;
  const std::string file = WriteTestFile(3000, o);
  auto pf = Open(file);
  const parquet::ChunkMeta& c0 = pf->meta.row_groups[0].columns[0];
  const int64_t begin = *c0.column_index_offset;
  const int64_t end = pf->footer_start;
  ASSERT_LT(begin, end);
  ParquetRangeFilter f{"id", std::string("100"), std::string("2000")};
  for (int64_t at = begin; at < end; ++at) {
    for (uint8_t x : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
      std::string bad = file;
      bad[at] = static_cast<char>(bad[at] ^ x);
      auto mpf = Open(bad);
      for (int leaf = 0; leaf < 4; ++leaf) {
        auto oi = parquet::ReadOffsetIndex(*mpf, 0, leaf);
        if (!oi.ok()) {
          EXPECT_EQ(oi.status().code(), StatusCode::kDataLoss);
          continue;
        }
        if (!*oi) continue;
        const size_t pages = (**oi).pages.size();
        auto ci = parquet::ReadColumnIndex(*mpf, 0, leaf, pages);
        if (!ci.ok()) {
          EXPECT_EQ(ci.status().code(), StatusCode::kDataLoss);
        }
        ColumnChunkReader r(mpf->file.get(), mpf->leaves[leaf]);
        auto range = parquet::GetChunkRange(*mpf, 0, leaf);
        ASSERT_TRUE(range.ok());
        ASSERT_TRUE(
            r.StartChunk(mpf->meta.row_groups[0].columns[leaf], 0, range->begin, range->length)
                .ok());
        r.SetOffsetIndex(std::move(**oi), 3000);
        Status st = r.SkipRows(1500);
        if (st.ok()) {
          RawColumn raw;
          raw.Reset(parquet::PhysicalWidth(r.leaf().physical, r.leaf().type_length),
                    r.leaf().optional);
          st = r.Read(1500, &raw);
          if (st.ok() && leaf == 0) {
            // An index that still reads gives the right rows.
            int64_t v = 0;
            std::memcpy(&v, raw.data.data(), 8);
            EXPECT_EQ(v, 1500);
          }
        }
        // A page header read at an offset the index made up may also name
        // an encoding or codec that does not exist (kInvalidArgument).
        if (!st.ok()) {
          EXPECT_TRUE(st.code() == StatusCode::kDataLoss ||
                      st.code() == StatusCode::kInvalidArgument)
              << st.ToString();
        }
      }
      auto filter = parquet::RowGroupFilter::Make(*mpf, {f});
      ASSERT_TRUE(filter.ok());
      auto rows = filter->MatchingRows(*mpf, 0);
      if (!rows.ok()) {
        EXPECT_EQ(rows.status().code(), StatusCode::kDataLoss);
      }
    }
  }
}

}  // namespace
}  // namespace sluice
