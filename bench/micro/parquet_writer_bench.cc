// Throughput of the Parquet encoder on the `orders` data set held in memory:
// RecordBatches in, file bytes out to a counting sink (no I/O), so that the
// numbers are the encoder's alone.
//
//   parquet_writer_bench [--rows=N] [--write_dir=DIR] [benchmark flags]
//
// Counters: rows/s, MB/s of in-memory column values, and the file size.
// --write_dir also writes one file per codec setting (orders_<codec>.parquet),
// for comparing sizes with DuckDB (see compare_parquet_size.mjs).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "core/io.h"
#include "core/thread_pool.h"
#include "format/format.h"
#include "orders_data.h"

namespace sluice::bench {
namespace {

int64_t g_rows = 10'000'000;
std::string g_write_dir;

const std::vector<RecordBatch>& Orders() {
  static const std::vector<RecordBatch> batches = MakeOrders(g_rows, 64 * 1024);
  return batches;
}

// Counts bytes and drops them.
class CountingOutput final : public OutputStream {
 public:
  explicit CountingOutput(int64_t* bytes) : bytes_(bytes) {}
  Status Write(const void* data, size_t n) override {
    *bytes_ += static_cast<int64_t>(n);
    return Status::OK();
  }
  int64_t Tell() const override { return *bytes_; }
  Status Close() override { return Status::OK(); }
  void Abort() override {}

 private:
  int64_t* bytes_;
};

struct Setting {
  const char* name;
  Compression compression;
  int level;
};
const Setting kSettings[] = {
    {"zstd1", Compression::kZstd, 1},
    {"zstd3", Compression::kZstd, 3},
    {"snappy", Compression::kSnappy, 0},
    {"none", Compression::kUncompressed, 0},
};

Status WriteAll(std::unique_ptr<OutputStream> out, const ParquetWriterOptions& o) {
  ASSIGN_OR_RETURN(auto enc, NewParquetEncoder(std::move(out), OrdersSchema(), o));
  for (const RecordBatch& b : Orders()) RETURN_IF_ERROR(enc->Write(b));
  return enc->Finish();
}

// state.range(0): index into kSettings; range(1): pool threads (0 = inline).
void BM_ParquetWriter_Orders(benchmark::State& state) {
  const Setting& s = kSettings[state.range(0)];
  const int threads = static_cast<int>(state.range(1));
  const auto& batches = Orders();
  std::unique_ptr<ThreadPool> pool = threads > 0 ? std::make_unique<ThreadPool>(threads) : nullptr;
  ParquetWriterOptions o;
  o.compression = s.compression;
  o.compression_level = s.level == 0 ? 3 : s.level;
  o.pool = pool.get();
  int64_t file_bytes = 0;
  for (auto _ : state) {
    file_bytes = 0;
    Status st = WriteAll(std::make_unique<CountingOutput>(&file_bytes), o);
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      return;
    }
  }
  int64_t rows = 0;
  for (const RecordBatch& b : batches) rows += b.num_rows();
  state.SetLabel(std::string(s.name) + (threads > 0 ? " pool" + std::to_string(threads) : ""));
  state.counters["rows/s"] =
      benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["MB/s"] = benchmark::Counter(static_cast<double>(ValueBytes(batches)) / 1e6,
                                              benchmark::Counter::kIsIterationInvariantRate);
  state.counters["file_MB"] = static_cast<double>(file_bytes) / 1e6;
}
BENCHMARK(BM_ParquetWriter_Orders)
    ->ArgsProduct({{0, 1, 2, 3}, {0, 1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(0.5);

// Writes one file per setting into g_write_dir.
int WriteFiles() {
  for (const Setting& s : kSettings) {
    ParquetWriterOptions o;
    o.compression = s.compression;
    o.compression_level = s.level == 0 ? 3 : s.level;
    std::string path = g_write_dir + "/orders_" + s.name + ".parquet";
    auto out = OpenFileOutput(path, /*sync=*/false);
    Status st = out.ok() ? WriteAll(std::move(out).value(), o) : out.status();
    if (!st.ok()) {
      std::cerr << path << ": " << st.ToString() << "\n";
      return 1;
    }
    std::cout << "wrote " << path << "\n";
  }
  return 0;
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  // Own flags first; the rest go to Google Benchmark.
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--rows=", 7) == 0) {
      sluice::bench::g_rows = std::atoll(argv[i] + 7);
    } else if (std::strncmp(argv[i], "--write_dir=", 12) == 0) {
      sluice::bench::g_write_dir = argv[i] + 12;
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (!sluice::bench::g_write_dir.empty()) return sluice::bench::WriteFiles();
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  if (benchmark::ReportUnrecognizedArguments(n, rest.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
