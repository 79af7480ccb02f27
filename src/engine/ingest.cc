#include "engine/ingest.h"

#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "engine/worker_pool.h"
#include "format/compression.h"

namespace sluice {

namespace {

// Picks the delimiter that splits the first line into the most fields (outside quotes).
char SniffDelimiter(const std::string& head) {
  const char candidates[] = {',', '\t', ';', '|'};
  char best = ',';
  int best_count = 0;
  for (char c : candidates) {
    int count = 0;
    bool quoted = false;
    for (char ch : head) {
      if (ch == '"') quoted = !quoted;
      if (ch == '\n' && !quoted) break;
      if (ch == c && !quoted) ++count;
    }
    if (count > best_count) {
      best = c;
      best_count = count;
    }
  }
  return best;
}

}  // namespace

Result<PipelineSpec> InferPipeline(const std::string& file, const std::string& name,
                                   int64_t sample_rows) {
  ASSIGN_OR_RETURN(FileFormat format, FileFormatFromName(file));
  PipelineSpec spec;
  spec.name = name;
  spec.source.pattern = "*";
  spec.source.format_from_name = false;
  spec.source.format = format;
  if (format == FileFormat::kCsv) {
    ASSIGN_OR_RETURN(auto raw, OpenFileInput(file));
    ASSIGN_OR_RETURN(auto in, OpenDecompressed(std::move(raw)));
    std::string head(64 * 1024, '\0');
    ASSIGN_OR_RETURN(size_t n, in->Read(head.data(), head.size()));
    head.resize(n);
    spec.source.csv.delimiter = SniffDelimiter(head);
  }
  ASSIGN_OR_RETURN(auto raw, OpenFileInput(file));
  ASSIGN_OR_RETURN(auto in, OpenDecompressed(std::move(raw)));
  InferOptions io;
  io.csv = spec.source.csv;
  io.sample_rows = sample_rows;
  ASSIGN_OR_RETURN(spec.schema, InferSchema(format, *in, io));
  spec.on_bad_record = BadRecordPolicy::kQuarantine;
  spec.max_bad_ratio = 0;
  spec.outputs.push_back(SinkSpec{"table", nlohmann::json{{"table", name}}, ""});
  return spec;
}

Result<std::string> EnsureTablePipeline(Project& project, const std::string& table,
                                        const std::string& sample_file, int64_t sample_rows) {
  RETURN_IF_ERROR(project.SyncPipelines().status());
  if (project.catalog().GetActiveVersion(table).ok()) {
    return "using existing pipeline '" + table + "'";
  }
  ASSIGN_OR_RETURN(PipelineSpec spec, InferPipeline(sample_file, table, sample_rows));
  std::string text = RenderPipeline(spec);
  std::string path = project.config().pipelines_dir + "/" + table + ".yaml";
  if (std::filesystem::exists(path)) {
    return Status::FailedPrecondition(path + " exists but does not define a valid pipeline '" +
                                      table + "'; fix it or choose another table name");
  }
  // Parse what we render so that the file on disk is exactly what runs.
  RETURN_IF_ERROR(ParsePipeline(text, path, project.references()).status());
  RETURN_IF_ERROR(WriteFileAtomic(path, text));
  // Recorded as deployed from the file, so that the next sync of the
  // pipelines directory finds it unchanged.
  ASSIGN_OR_RETURN(DeployOutcome d,
                   project.catalog().DeployFromFile(table, text, PipelineFileKey(path)));
  const PipelineVersion& v = d.version;
  return "created pipeline '" + table + "' (version " + std::to_string(v.id) + ", " +
         std::to_string(spec.schema.num_fields()) + " columns inferred from " + sample_file +
         ") in " + path;
}

Status ProcessUntilDone(Project& project, const std::string& pipeline,
                        const std::set<int64_t>& batches,
                        const std::function<void(const ProcessProgress&)>& on_progress) {
  std::mutex mu;
  std::condition_variable cv;
  WorkerPoolOptions wopts;
  wopts.threads = project.config().workers;
  wopts.data_threads = project.config().threads;
  wopts.on_progress = on_progress;
  wopts.on_done = [&](const BatchDone&) { cv.notify_all(); };
  // Only this pipeline's tasks: another pipeline's batch (possibly one that
  // kills the process) is the server's business, not this command's.
  wopts.filter.pipelines = {pipeline};
  WorkerPool pool(project, wopts);
  pool.Start();
  // A batch is done when committed, quarantined or failed (a transient
  // failure leaves it queued for its retry).
  auto unfinished = [&]() -> Result<bool> {
    for (int64_t id : batches) {
      ASSIGN_OR_RETURN(BatchInfo b, project.catalog().GetBatch(id));
      if (IsTerminal(b.state) || b.state == BatchState::kFailed) continue;
      return true;
    }
    return false;
  };
  Status result = Status::OK();
  while (true) {
    auto more = unfinished();
    if (!more.ok()) {
      result = more.status();
      break;
    }
    if (!*more) break;
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::milliseconds(100));
  }
  pool.Stop();
  return result;
}

Result<std::vector<IngestReport>> RunIngest(Project& project, const IngestOptions& options) {
  RETURN_IF_ERROR(project.SyncPipelines().status());
  RETURN_IF_ERROR(project.catalog().GetActiveVersion(options.pipeline).status());
  // Finish whatever an earlier crash left behind before adding more work:
  // pending publications, and batches without a task (a crash between
  // registration and enqueue would otherwise leave this command waiting).
  RETURN_IF_ERROR(PublishPending(project.store(), project.catalog()));
  RETURN_IF_ERROR(RecoverLanded(project.landing()));

  std::vector<IngestReport> reports;
  std::set<int64_t> waiting;
  for (const std::string& file : options.files) {
    ASSIGN_OR_RETURN(RegisterOutcome r, IngestLocalFile(project.landing(), options.pipeline, file));
    IngestReport rep;
    rep.file = file;
    rep.batch_id = r.batch_id;
    if (r.outcome == RegisterBatchResult::Outcome::kDuplicateContent) {
      rep.state = "duplicate";
      rep.note = "same content as batch " + std::to_string(r.batch_id) + ", not processed again";
    } else if (r.outcome == RegisterBatchResult::Outcome::kSameObject) {
      ASSIGN_OR_RETURN(BatchInfo b, project.catalog().GetBatch(r.batch_id));
      if (IsTerminal(b.state)) {
        rep.state = "duplicate";
        rep.note = "already ingested as batch " + std::to_string(r.batch_id) + " (" +
                   std::string(BatchStateName(b.state)) + ")";
      } else {
        waiting.insert(r.batch_id);
      }
    } else {
      waiting.insert(r.batch_id);
    }
    reports.push_back(rep);
  }

  RETURN_IF_ERROR(ProcessUntilDone(project, options.pipeline, waiting, options.on_progress));

  for (IngestReport& rep : reports) {
    if (rep.state == "duplicate") continue;
    ASSIGN_OR_RETURN(BatchInfo b, project.catalog().GetBatch(rep.batch_id));
    rep.state = std::string(BatchStateName(b.state));
    rep.note = b.reason;
    rep.stats = b.stats;
  }
  return reports;
}

}  // namespace sluice
