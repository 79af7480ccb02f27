#include "engine/ingest.h"

#include <algorithm>
#include <chrono>
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

namespace {

// A worker pool in this process, taking only one pipeline's tasks, and the
// batches someone waits for. Batches may be added while it runs, so that
// `ingest A B C` processes A while B is copied into the archive.
class ProcessingSession {
 public:
  ProcessingSession(Project& project, const std::string& pipeline,
                    const std::function<void(const ProcessProgress&)>& on_progress)
      : project_(project), pool_(project, Options(project, pipeline, on_progress, this)) {
    pool_.Start();
  }
  ~ProcessingSession() { pool_.Stop(); }

  void Add(int64_t batch_id) {
    {
      std::lock_guard lock(mu_);
      batches_.insert(batch_id);
    }
    pool_.Wake();  // its task is queued now: no need to wait for the next poll
  }

  // Until every added batch is committed, quarantined or failed (a transient
  // failure leaves a batch queued for its retry: waited for).
  Status Wait() {
    std::set<int64_t> open;
    {
      std::lock_guard lock(mu_);
      open = batches_;
    }
    while (!open.empty()) {
      for (auto it = open.begin(); it != open.end();) {
        ASSIGN_OR_RETURN(BatchInfo b, project_.catalog().GetBatch(*it));
        it = IsTerminal(b.state) || b.state == BatchState::kFailed ? open.erase(it) : std::next(it);
      }
      if (open.empty()) break;
      std::unique_lock lock(mu_);
      // A batch ending between the check and the wait costs at most this.
      cv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return done_ > seen_; });
      seen_ = done_;
    }
    return Status::OK();
  }

 private:
  static WorkerPoolOptions Options(Project& project, const std::string& pipeline,
                                   const std::function<void(const ProcessProgress&)>& on_progress,
                                   ProcessingSession* self) {
    WorkerPoolOptions wopts;
    wopts.threads = project.config().workers;
    wopts.data_threads = project.config().threads;
    wopts.on_progress = on_progress;
    wopts.on_done = [self](const BatchDone&) {
      std::lock_guard lock(self->mu_);
      ++self->done_;
      self->cv_.notify_all();
    };
    // Only this pipeline's tasks: another pipeline's batch (possibly one that
    // kills the process) is the server's business, not this command's.
    wopts.filter.pipelines = {pipeline};
    return wopts;
  }

  Project& project_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<int64_t> batches_;
  uint64_t done_ = 0;
  uint64_t seen_ = 0;
  WorkerPool pool_;  // last: its workers call on_done, which uses the members above
};

}  // namespace

Status DeliverUntilDone(Project& project, const std::string& pipeline,
                        const std::set<int64_t>& batches, std::chrono::milliseconds wait) {
  // Batches found finished are not asked about again: a poll costs one
  // query per batch still loading, not per batch of the command.
  std::set<int64_t> open = batches;
  auto unfinished = [&]() -> Result<bool> {
    for (auto it = open.begin(); it != open.end();) {
      ASSIGN_OR_RETURN(std::vector<Delivery> ds, project.catalog().BatchDeliveries(*it));
      const bool loading = std::any_of(ds.begin(), ds.end(), [](const Delivery& d) {
        return d.state == DeliveryState::kPending || d.state == DeliveryState::kLoading;
      });
      if (loading) return true;
      it = open.erase(it);
    }
    return false;
  };
  ASSIGN_OR_RETURN(bool any, unfinished());
  if (!any || wait.count() <= 0) return Status::OK();
  DeliveryLoader loader(project.catalog(), project.store(), LoaderOptionsFor(project.config()));
  WorkerPoolOptions wopts;
  wopts.threads = std::max(1, project.config().loaders);
  wopts.filter.kind = TaskKind::kLoad;
  wopts.filter.pipelines = {pipeline};
  wopts.loader = &loader;
  WorkerPool loaders(project, wopts);
  loaders.Start();
  const auto deadline = std::chrono::steady_clock::now() + wait;
  Status st = Status::OK();
  while (std::chrono::steady_clock::now() < deadline) {
    auto more = unfinished();
    if (!more.ok()) {
      st = more.status();
      break;
    }
    if (!*more) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  loaders.StopLeasing();
  // A load in progress at the deadline is cut (rolled back, left pending).
  if (!loaders.WaitDrained(std::chrono::milliseconds(2000))) loaders.CancelAll();
  loaders.Stop();
  return st;
}

Status ProcessUntilDone(Project& project, const std::string& pipeline,
                        const std::set<int64_t>& batches,
                        const std::function<void(const ProcessProgress&)>& on_progress) {
  ProcessingSession session(project, pipeline, on_progress);
  for (int64_t id : batches) session.Add(id);
  return session.Wait();
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
  // Started first: a file's batch is processed while the next file is copied.
  ProcessingSession session(project, options.pipeline, options.on_progress);
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
        session.Add(r.batch_id);
      }
    } else {
      session.Add(r.batch_id);
    }
    reports.push_back(rep);
  }

  RETURN_IF_ERROR(session.Wait());
  std::set<int64_t> ingested;
  for (const IngestReport& rep : reports) {
    if (rep.state != "duplicate") ingested.insert(rep.batch_id);
  }
  RETURN_IF_ERROR(DeliverUntilDone(project, options.pipeline, ingested, options.delivery_wait));

  for (IngestReport& rep : reports) {
    if (rep.state == "duplicate") continue;
    ASSIGN_OR_RETURN(BatchInfo b, project.catalog().GetBatch(rep.batch_id));
    rep.state = std::string(BatchStateName(b.state));
    rep.note = b.reason;
    rep.stats = b.stats;
    ASSIGN_OR_RETURN(rep.deliveries, project.catalog().BatchDeliveries(rep.batch_id));
  }
  return reports;
}

}  // namespace sluice
