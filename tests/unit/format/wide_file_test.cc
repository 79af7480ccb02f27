// Issue 10, item 9: wide files (tens of thousands of columns, few rows).
// Memory must follow the data, not columns x a per-column reservation sized
// for a full batch; and a failed allocation must become an error that leaves
// no temporary output behind, not an abort.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/io.h"
#include "core/thread_pool.h"
#include "format/batch_builder.h"
#include "format/chunked_decoder.h"
#include "format/format.h"
#include "format/parquet/column_writer.h"
#include "format/parquet/dictionary_encoder.h"

namespace sluice {
namespace {

constexpr int kWideColumns = 20000;

Schema WideIntSchema(int columns) {
  std::vector<Field> fields;
  fields.reserve(columns);
  for (int i = 0; i < columns; ++i)
    fields.push_back(Field{"c" + std::to_string(i), DataType::Int64()});
  return Schema(std::move(fields));
}

std::string WideCsv(int columns) {
  std::string s;
  for (int i = 0; i < columns; ++i) s += (i > 0 ? ",c" : "c") + std::to_string(i);
  s += '\n';
  for (int i = 0; i < columns; ++i) s += (i > 0 ? "," : "") + std::to_string(i % 1000);
  s += '\n';
  return s;
}

std::string WideNdjson(int columns) {
  std::string s = "{";
  for (int i = 0; i < columns; ++i) {
    s += (i > 0 ? ",\"c" : "\"c") + std::to_string(i) + "\":" + std::to_string(i % 1000);
  }
  s += "}\n";
  return s;
}

// Decodes `text` to the end; returns the rows and the heap bytes its batches
// hold (buffer capacities: what the decoder reserved for them).
struct WideResult {
  Status status;
  int64_t rows = 0;
  int64_t bytes = 0;
  int64_t last_value = -1;  // of the last column in the last row
};

WideResult DecodeWide(FileFormat format, std::string text, ThreadPool* pool) {
  WideResult r;
  DecoderOptions o;
  o.schema = WideIntSchema(kWideColumns);
  o.pool = pool;
  auto dec = NewDecoder(format, NewStringInput(std::move(text), "wide.txt"), o);
  if (!dec.ok()) {
    r.status = dec.status();
    return r;
  }
  std::vector<BadRecord> bad;
  while (true) {
    RecordBatch b;
    auto more = (*dec)->Next(&b, &bad);
    if (!more.ok()) {
      r.status = more.status();
      break;
    }
    if (!*more) break;
    r.rows += b.num_rows();
    r.bytes += b.MemoryUsage();
    if (b.num_rows() > 0) r.last_value = b.columns.back().Value<int64_t>(b.num_rows() - 1);
  }
  if (!bad.empty()) r.status = Status::Internal("bad record: " + bad[0].reason);
  return r;
}

// One row of 20,000 int64 columns is 160 KB of values. Before the fix the
// decoders reserved rows by input bytes / 64 for every column (hundreds of
// MB here, gigabytes for a 4 MiB chunk); now the first reservation of a
// batch is capped, whatever the estimate.
constexpr int64_t kWideBudget = BatchBuilder::kInitialBytes + int64_t{kWideColumns} * 64;

TEST(WideFileTest, CsvOneRowReservesLittle) {
  for (int threads : {0, 2}) {
    ThreadPool pool(threads);
    WideResult r = DecodeWide(FileFormat::kCsv, WideCsv(kWideColumns), &pool);
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    EXPECT_EQ(r.rows, 1);
    EXPECT_EQ(r.last_value, (kWideColumns - 1) % 1000);
    EXPECT_LE(r.bytes, kWideBudget) << "threads " << threads;
  }
}

TEST(WideFileTest, NdjsonOneRowReservesLittle) {
  for (int threads : {0, 2}) {
    ThreadPool pool(threads);
    WideResult r = DecodeWide(FileFormat::kNdjson, WideNdjson(kWideColumns), &pool);
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    EXPECT_EQ(r.rows, 1);
    EXPECT_EQ(r.last_value, (kWideColumns - 1) % 1000);
    EXPECT_LE(r.bytes, kWideBudget) << "threads " << threads;
  }
}

TEST(WideFileTest, BatchBuilderCapsTheFirstReservation) {
  BatchBuilder b(WideIntSchema(kWideColumns));
  EXPECT_EQ(b.row_bytes(), kWideColumns * 9);
  b.Begin(1024);  // an estimate from input bytes, far too many wide rows
  b.BeginRow();
  for (int f = 0; f < kWideColumns; ++f) b.Set<int64_t>(f, f);
  b.CommitRow();
  EXPECT_LE(b.reserved_bytes(),
            std::max(BatchBuilder::kInitialBytes, BatchBuilder::kMinRows * b.row_bytes()) +
                kWideColumns * 64);
  // Rows past the first reservation still fit (the buffers grow).
  for (int r = 1; r < 100; ++r) {
    b.BeginRow();
    for (int f = 0; f < kWideColumns; ++f) b.Set<int64_t>(f, r);
    b.CommitRow();
  }
  RecordBatch out;
  b.Finish(&out);
  ASSERT_EQ(out.num_rows(), 100);
  EXPECT_EQ(out.columns[kWideColumns - 1].Value<int64_t>(99), 99);
  EXPECT_EQ(out.columns[7].Value<int64_t>(0), 7);
}

TEST(WideFileTest, NarrowSchemaKeepsItsEstimate) {
  // The cap only bites for wide rows: 7 columns reserve the estimate.
  Schema s = WideIntSchema(7);
  BatchBuilder b(s);
  b.Begin(65536);
  b.BeginRow();
  EXPECT_GE(b.reserved_bytes(), 65536 * 7 * 9);
}

TEST(WideFileTest, ColumnWritersStartSmall) {
  // One column writer (and dictionary) per column: a fixed table per column
  // was 16 KB, 320 MB for 20,000 columns before a value was written.
  parquet::ColumnWriterOptions wo;
  std::vector<parquet::ColumnWriter> writers;
  writers.reserve(kWideColumns);
  Column col(DataType::Int64());
  col.Append<int64_t>(42);
  int64_t total = 0;
  for (int i = 0; i < kWideColumns; ++i) {
    writers.emplace_back(Field{"c" + std::to_string(i), DataType::Int64()}, wo);
    ASSERT_TRUE(writers.back().Append(col, 0, 1).ok());
    total += writers.back().reserved_bytes();
  }
  EXPECT_LE(total, int64_t{kWideColumns} * 1024);
  parquet::FixedDictionary<int64_t> d;
  EXPECT_LE(d.reserved_bytes(), 1024);
  parquet::StringDictionary sd;
  EXPECT_LE(sd.reserved_bytes(), 1024);
}

TEST(WideFileTest, DictionaryStillGrowsAndShrinks) {
  parquet::FixedDictionary<int64_t> d;
  for (int64_t v = 0; v < 300000; ++v) {
    uint32_t index = 0;
    ASSERT_TRUE(d.GetOrInsert(v % 200000, int64_t{1} << 30, &index));
    ASSERT_EQ(index, static_cast<uint32_t>(v % 200000));
  }
  EXPECT_EQ(d.size(), 200000u);
  const int64_t full = d.reserved_bytes();
  d.Clear();  // a table past the kept size is given back (the values' capacity stays)
  EXPECT_LT(d.reserved_bytes(), full / 2);
  EXPECT_EQ(d.size(), 0u);
}

// --- failed allocations ----------------------------------------------------

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("sluice_wide_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  size_t Entries() const {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(path_)) ++n;
    return n;
  }

 private:
  static inline int counter_ = 0;
  std::filesystem::path path_;
};

RecordBatch SmallWideBatch(int columns) {
  RecordBatch b;
  b.schema = WideIntSchema(columns);
  for (int c = 0; c < columns; ++c) {
    Column col(DataType::Int64());
    col.Append<int64_t>(c);
    b.columns.push_back(std::move(col));
  }
  return b;
}

TEST(WideFileTest, EncoderOutOfMemoryIsAnErrorAndLeavesNoFile) {
  for (int threads : {0, 2}) {
    TempDir dir;
    ThreadPool pool(threads);
    const std::string path = (dir.path() / "out.parquet").string();
    auto file = OpenFileOutput(path, false);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    ParquetWriterOptions pw;
    pw.pool = threads > 0 ? &pool : nullptr;
    pw.row_group_rows = 1;  // the pipelined encoder submits at once
    const int columns = 50;
    auto enc = NewParquetEncoder(std::move(*file), WideIntSchema(columns), pw);
    ASSERT_TRUE(enc.ok()) << enc.status().ToString();
    EXPECT_EQ(dir.Entries(), 1u);  // the temporary file
    parquet::TEST_FailAppendAfter(7);
    Status st = (*enc)->Write(SmallWideBatch(columns));
    if (st.ok()) st = (*enc)->Finish();  // pipelined: the failure shows here
    parquet::TEST_FailAppendAfter(0);
    EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
    EXPECT_NE(st.message().find("out of memory"), std::string::npos) << st.ToString();
    enc->reset();
    EXPECT_EQ(dir.Entries(), 0u) << "threads " << threads;
    EXPECT_FALSE(std::filesystem::exists(path));
  }
}

// A format whose chunk task fails to allocate, as a decoder would on a file
// too big for memory.
class FailingChunkFormat final : public ChunkFormat {
 public:
  Result<std::optional<size_t>> ConsumePrefix(std::string_view, bool, int64_t* lines) override {
    *lines = 0;
    return std::optional<size_t>(0);
  }
  size_t FindCut(std::string_view block) const override { return block.size(); }
  ChunkResult Parse(const Chunk&) const override { throw std::bad_alloc(); }
  Result<std::unique_ptr<Decoder>> Sequential(std::unique_ptr<InputStream>,
                                              int64_t) const override {
    return Status::Internal("unused");
  }
};

TEST(WideFileTest, DecoderOutOfMemoryIsAnErrorNamingTheFile) {
  for (int threads : {0, 2}) {
    ThreadPool pool(threads);
    DecoderOptions o;
    o.schema = WideIntSchema(3);
    o.pool = threads > 0 ? &pool : nullptr;
    auto dec = NewChunkedDecoder(NewStringInput("1,2,3\n4,5,6\n", "big.csv"),
                                 std::make_unique<FailingChunkFormat>(), o);
    ASSERT_TRUE(dec.ok());
    RecordBatch b;
    std::vector<BadRecord> bad;
    auto more = (*dec)->Next(&b, &bad);
    ASSERT_FALSE(more.ok());
    EXPECT_EQ(more.status().code(), StatusCode::kUnavailable);
    EXPECT_NE(more.status().message().find("out of memory decoding 'big.csv'"), std::string::npos)
        << more.status().ToString();
  }
}

}  // namespace
}  // namespace sluice
