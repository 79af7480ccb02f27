// Exports: see exporter.h.
#include "engine/exporter.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/hash.h"
#include "core/metrics.h"

namespace sluice {

namespace {

using nlohmann::json;

// docs/architecture.md 8.2.
struct ExportMetricFamilies {
  metrics::Family<metrics::Counter>& runs = metrics::Default().AddCounter(
      "sluice_export_runs_total", "Export runs ended, by outcome (done, retry, failed, lost).",
      {"outcome"});
  metrics::Family<metrics::Counter>& rows =
      metrics::Default().AddCounter("sluice_export_rows_total", "Rows written by exports.", {});
  metrics::Family<metrics::Counter>& bytes = metrics::Default().AddCounter(
      "sluice_export_bytes_total", "Bytes of export files written.", {});
};

ExportMetricFamilies& ExportMetrics() {
  static ExportMetricFamilies m;
  return m;
}

// Counts what passes to `inner` and stops (kAborted) once `cancel` is set.
class CountingOutput final : public OutputStream {
 public:
  CountingOutput(OutputStream& inner, const std::atomic<bool>* cancel)
      : inner_(inner), cancel_(cancel) {}
  Status Write(const void* data, size_t n) override {
    if (cancel_ != nullptr && cancel_->load()) return Status::Aborted("the export was cancelled");
    RETURN_IF_ERROR(inner_.Write(data, n));
    bytes_ += static_cast<int64_t>(n);
    return Status::OK();
  }
  int64_t Tell() const override { return bytes_; }
  Status Close() override { return Status::OK(); }  // the owner closes inner_
  void Abort() override {}

 private:
  OutputStream& inner_;
  const std::atomic<bool>* cancel_;
  int64_t bytes_ = 0;
};

std::chrono::milliseconds RetryDelay(int attempt) {
  return std::chrono::milliseconds(
      std::min<int64_t>(60'000, int64_t{1000} << std::clamp(attempt - 1, 0, 6)));
}

}  // namespace

Result<TableReadRequest> ExportReadRequest(const ExportRequest& request) {
  TableReadRequest r;
  r.table = request.table;
  json columns = json::parse(request.columns, nullptr, false);
  if (!columns.is_array()) {
    return Status::InvalidArgument("export columns must be a JSON array of names");
  }
  for (const json& c : columns) {
    if (!c.is_string()) return Status::InvalidArgument("export columns must be names");
    r.columns.push_back(c.get<std::string>());
  }
  r.where = request.where;
  r.snapshot = request.snapshot;
  r.limit = request.limit;
  return r;
}

Status PrepareExport(Catalog& catalog, ObjectStore& store, ExportRequest* request) {
  RETURN_IF_ERROR(ParseRowsFormat(request->format).status());
  if (request->limit < -1) {
    return Status::InvalidArgument("limit must be -1 (every row) or more, got " +
                                   std::to_string(request->limit));
  }
  ASSIGN_OR_RETURN(TableReadRequest r, ExportReadRequest(*request));
  ASSIGN_OR_RETURN(std::unique_ptr<TableReader> reader, OpenTableReader(catalog, store, r));
  if (reader->snapshot() == 0) {
    return Status::FailedPrecondition("table '" + request->table +
                                      "' has no snapshot yet: there is nothing to export");
  }
  request->snapshot = reader->snapshot();
  return Status::OK();
}

std::string ExportFileName(const ExportJob& job) {
  return job.request.table + "-" + std::to_string(job.request.snapshot) + "." + job.request.format;
}

std::string ExportPrefix(int64_t id) { return "exports/" + std::to_string(id) + "/"; }

Result<ExportStep> Exporter::Run(int64_t id, const std::atomic<bool>* cancel) {
  auto started = catalog_.StartExport(id);
  if (!started.ok()) {
    if (started.status().code() == StatusCode::kNotFound) return ExportStep{};  // deleted
    return started.status();
  }
  const ExportJob job = std::move(*started);
  if (job.state != ExportState::kRunning) return ExportStep{};  // done or failed already
  const std::string key =
      ExportPrefix(id) + std::to_string(job.attempts) + "." + job.request.format;
  spdlog::info("export {}: run {} of table {} snapshot {} as {}", id, job.attempts,
               job.request.table, job.request.snapshot, job.request.format);

  int64_t rows = 0;
  int64_t bytes = 0;
  std::string sha256;
  Status st = [&]() -> Status {
    ASSIGN_OR_RETURN(TableReadRequest r, ExportReadRequest(job.request));
    TableReaderOptions ro;
    ro.pool = options_.pool;
    ASSIGN_OR_RETURN(std::unique_ptr<TableReader> reader, OpenTableReader(catalog_, store_, r, ro));
    ASSIGN_OR_RETURN(std::unique_ptr<OutputStream> file, store_.OpenWrite(key));
    std::unique_ptr<OutputStream> hashed = NewHashingOutput(std::move(file), &sha256);
    CountingOutput counted(*hashed, cancel);
    Status written = WriteTableRows(*reader, job.request.format, counted, options_.pool);
    if (!written.ok()) {
      hashed->Abort();
      return written;
    }
    RETURN_IF_ERROR(hashed->Close());
    rows = reader->stats().rows_returned;
    bytes = counted.Tell();
    return Status::OK();
  }();

  if (cancel != nullptr && cancel->load()) {
    // A stopping server: the export stays running; the next run starts over.
    (void)store_.Delete(key);
    spdlog::info("export {}: run {} cancelled; it runs again later", id, job.attempts);
    return ExportStep{false, std::chrono::milliseconds(0)};
  }
  if (st.ok()) {
    Status done = catalog_.FinishExport(id, job.attempts, key, rows, bytes, sha256);
    if (done.code() == StatusCode::kAborted) {
      // A later run (or a delete) took the export over: this object is not its.
      (void)store_.Delete(key);
      ExportMetrics().runs.With({"lost"}).Inc();
      spdlog::warn("export {}: {}", id, done.message());
      return ExportStep{};
    }
    RETURN_IF_ERROR(done);
    ExportMetrics().runs.With({"done"}).Inc();
    ExportMetrics().rows.With({}).Inc(static_cast<double>(rows));
    ExportMetrics().bytes.With({}).Inc(static_cast<double>(bytes));
    spdlog::info("export {}: done, {} rows, {} bytes in {}", id, rows, bytes, key);
    return ExportStep{};
  }

  (void)store_.Delete(key);
  const bool final =
      ClassifyError(st) == ErrorClass::kPermanent || job.attempts >= options_.max_attempts;
  metrics::CountError("export", st, !final);
  Status recorded = catalog_.FailExport(id, job.attempts, st.ToString(), final);
  if (recorded.code() == StatusCode::kAborted) {
    ExportMetrics().runs.With({"lost"}).Inc();
    return ExportStep{};
  }
  RETURN_IF_ERROR(recorded);
  if (final) {
    ExportMetrics().runs.With({"failed"}).Inc();
    spdlog::error("export {}: failed after {} run(s): {}", id, job.attempts, st.ToString());
    return ExportStep{};
  }
  ExportMetrics().runs.With({"retry"}).Inc();
  const auto delay = RetryDelay(job.attempts);
  spdlog::warn("export {}: run {} failed ({}); again in {} ms", id, job.attempts, st.ToString(),
               delay.count());
  return ExportStep{false, delay};
}

Status QueueUnfinishedExports(Catalog& catalog, TaskQueue& queue) {
  ASSIGN_OR_RETURN(std::vector<int64_t> ids, catalog.UnfinishedExports());
  std::vector<TaskRequest> tasks;
  tasks.reserve(ids.size());
  for (int64_t id : ids) tasks.push_back(TaskRequest{TaskKind::kExport, id, "", 0});
  return tasks.empty() ? Status::OK() : queue.EnqueueAll(tasks);
}

}  // namespace sluice
