#include "engine/processor.h"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <new>
#include <optional>
#include <string_view>

#include "core/clock.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/value_text.h"
#include "engine/batch_driver.h"
#include "format/compression.h"
#include "format/format.h"
#include "sink/sink.h"
#include "source/landing.h"

namespace sluice {

std::string QuarantineKey(const std::string& pipeline, int64_t batch_id, int attempt) {
  return "quarantine/" + pipeline + "/" + std::to_string(batch_id) + "/a" +
         std::to_string(attempt) + "/bad_records.ndjson";
}

namespace {

std::string StagingPrefix(int64_t batch_id, int attempt) {
  return "staging/" + std::to_string(batch_id) + "/a" + std::to_string(attempt) + "/";
}

// A quarantined record keeps at most this much of its raw text and of its
// reason (which may quote a value): one huge line must not make a huge file.
constexpr size_t kMaxQuarantineText = 4096;

// `text` cut to at most kMaxQuarantineText bytes, on a UTF-8 character
// boundary; *cut tells whether anything was left out.
std::string_view CapText(std::string_view text, bool* cut) {
  *cut = text.size() > kMaxQuarantineText;
  if (!*cut) return text;
  size_t n = kMaxQuarantineText;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return text.substr(0, n);
}

// Result of reading and transforming the whole input once.
struct AttemptResult {
  BatchStats stats;
  int64_t bad = 0;
  std::string first_bad;  // description of the first bad record
  // The reference tables read, with their identity (file SHA-256, lake
  // table snapshot), for the batch's lineage.
  std::vector<ReferenceUse> references;
};

// Everything one attempt owns; Discard() on any early exit leaves no staged data.
// As the batch driver's sink it stages rows in the outputs' sinks and bad
// records in the attempt's quarantine file.
class Attempt final : public DriverSink {
 public:
  Attempt(const ProcessEnv& env, const BatchInfo& batch, const PipelineSpec& spec, int attempt,
          AttemptToken token)
      : env_(env), batch_(batch), spec_(spec), attempt_(attempt), token_(token) {}

  ~Attempt() override { Discard(); }

  Result<AttemptResult> Run();
  Result<std::vector<StagedOutput>> FinishSinks();
  Status LoadSinks();
  bool LoadsOutsideCatalog() const {
    for (const auto& sink : sinks_) {
      if (sink->LoadsOutsideCatalog()) return true;
    }
    return false;
  }
  // The quarantine file's staged and final keys, if any record was quarantined.
  std::optional<Publication> QuarantinePublication() const { return quarantine_pub_; }
  Status CloseQuarantine();
  void Discard();
  void DiscardSinks();

  Status Write(size_t output, RecordBatch&& batch) override;
  Status Quarantine(const std::vector<BadRecord>& bad, BadRecordOrigin origin) override;

 private:
  Status OpenSinks(const BatchDriver& driver);
  // For a lake output: refuses rows its table cannot take (before any is
  // written); under freeze, the columns kept when the table lacks some.
  Result<std::optional<std::vector<int>>> LakeColumnsKept(const std::string& table,
                                                          const Schema& schema);
  // Ends the quarantine file with a line that counts the records the cap
  // left out (if any).
  Status FinishQuarantine();

  const ProcessEnv& env_;
  const BatchInfo& batch_;
  const PipelineSpec& spec_;
  int attempt_;
  AttemptToken token_;
  std::vector<std::unique_ptr<Sink>> sinks_;
  // Per sink: the columns of its rows it keeps (a frozen lake table without
  // some of them); nullopt = all.
  std::vector<std::optional<std::vector<int>>> projections_;
  bool sinks_done_ = false;
  std::unique_ptr<OutputStream> quarantine_;
  std::optional<Publication> quarantine_pub_;
  int64_t quarantine_written_ = 0;  // records in the quarantine file
  int64_t quarantine_omitted_ = 0;  // past spec_.max_quarantined_records: counted only
};

Status Attempt::OpenSinks(const BatchDriver& driver) {
  for (size_t i = 0; i < driver.num_outputs(); ++i) {
    const SinkSpec& s = spec_.outputs[driver.spec_output(i)];
    const Schema& schema = driver.output_schema(i);
    ASSIGN_OR_RETURN(auto sink, MakeSink(s));
    SinkContext ctx;
    ctx.pipeline = spec_.name;
    ctx.batch_id = batch_.id;
    ctx.attempt = attempt_;
    ctx.pipeline_version_id = batch_.pipeline_version_id;
    ctx.schema = schema;
    ctx.schema_evolution = spec_.schema_evolution;
    if (s.kind == "table") {
      // Refused before any row is written: a batch the table cannot take.
      // Under freeze the rows lose the columns the table does not have.
      ASSIGN_OR_RETURN(std::optional<std::vector<int>> keep,
                       LakeColumnsKept(s.args.value("table", ""), schema));
      if (keep) {
        Schema kept;
        for (int c : *keep) kept.AddField(schema.field(c));
        ctx.schema = kept;
      }
      projections_.push_back(std::move(keep));
    } else {
      projections_.push_back(std::nullopt);
    }
    ctx.store = env_.store;
    ctx.project_dir = env_.project_dir;
    ctx.pool = env_.pool;
    // Sinks outside the catalog check the fence inside their own transaction.
    ctx.check_fence = [catalog = env_.catalog, token = token_] {
      return catalog->CheckAttempt(token);
    };
    RETURN_IF_ERROR(sink->Open(ctx).WithContext(sink->Describe()));
    sinks_.push_back(std::move(sink));
  }
  return Status::OK();
}

Status Attempt::Quarantine(const std::vector<BadRecord>& bad, BadRecordOrigin) {
  if (!quarantine_) {
    // Unique per attempt, like lake files: a final key is never
    // replaced, so a replay's quarantine file must not need the old one's.
    const std::string final_key = QuarantineKey(spec_.name, batch_.id, attempt_);
    std::string staged = StagingPrefix(batch_.id, attempt_) + "bad_records.ndjson";
    if (!env_.store->AtomicRename()) {
      // No rename: written once to its final key after a write marker (see
      // sink/staging.cc), and never published.
      ASSIGN_OR_RETURN(auto m,
                       env_.store->OpenWrite(WrittenMarkerKey(batch_.id, attempt_, final_key)));
      RETURN_IF_ERROR(m->Close());
      staged = final_key;
    }
    ASSIGN_OR_RETURN(quarantine_, env_.store->OpenWrite(staged));
    if (staged != final_key) quarantine_pub_ = Publication{staged, final_key};
  }
  std::string line;
  for (const BadRecord& r : bad) {
    // Every bad record is counted; the file keeps the first ones only, so
    // a file of garbage cannot turn into a disk-filling quarantine file.
    if (quarantine_written_ >= spec_.max_quarantined_records) {
      ++quarantine_omitted_;
      continue;
    }
    bool raw_cut = false, reason_cut = false;
    const std::string_view raw = CapText(r.raw, &raw_cut);
    const std::string_view reason = CapText(r.reason, &reason_cut);
    nlohmann::ordered_json j = {{"file", batch_.object_key},
                                {"line", r.line},
                                {"field", r.field},
                                {"reason", reason},
                                {"raw", raw}};
    if (raw_cut || reason_cut) {
      j["truncated"] = true;  // raw (and/or reason) holds the first 4 KiB
      j["raw_bytes"] = r.raw.size();
    }
    line = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    line.push_back('\n');
    RETURN_IF_ERROR(quarantine_->Write(line));
    ++quarantine_written_;
  }
  return Status::OK();
}

Status Attempt::FinishQuarantine() {
  if (!quarantine_ || quarantine_omitted_ == 0) return Status::OK();
  nlohmann::ordered_json j = {{"records_not_written", quarantine_omitted_},
                              {"records_written", quarantine_written_},
                              {"max_quarantined_records", spec_.max_quarantined_records}};
  return quarantine_->Write(j.dump() + "\n");
}

Status Attempt::Write(size_t output, RecordBatch&& batch) {
  Sink& sink = *sinks_[output];
  if (const auto& keep = projections_[output]) {
    RecordBatch kept;
    kept.num_rows_no_columns = batch.num_rows();
    for (int c : *keep) {
      kept.schema.AddField(batch.schema.field(c));
      kept.columns.push_back(std::move(batch.columns[c]));
    }
    kept.source_lines = std::move(batch.source_lines);
    return sink.Write(kept).WithContext(sink.Describe());
  }
  return sink.Write(batch).WithContext(sink.Describe());
}

Result<std::optional<std::vector<int>>> Attempt::LakeColumnsKept(const std::string& table,
                                                                 const Schema& schema) {
  std::optional<std::vector<int>> none;
  auto existing = env_.catalog->GetTable(table);
  if (existing.status().code() == StatusCode::kNotFound) return none;
  RETURN_IF_ERROR(existing.status());
  TableCommit tc;
  tc.table = table;
  tc.schema = schema;
  tc.evolution = spec_.schema_evolution;
  if (spec_.schema_evolution != SchemaEvolution::kFreeze) {
    RETURN_IF_ERROR(TableSchemaAfter(existing->schema, tc).status());
    return none;
  }
  std::vector<int> keep;
  std::string dropped;
  for (int c = 0; c < schema.num_fields(); ++c) {
    if (existing->schema.FieldIndex(schema.field(c).name) >= 0) {
      keep.push_back(c);
    } else {
      dropped += (dropped.empty() ? "" : ", ") + schema.field(c).name;
    }
  }
  if (dropped.empty()) {
    RETURN_IF_ERROR(TableSchemaAfter(existing->schema, tc).status());
    return none;
  }
  Schema kept;
  for (int c : keep) kept.AddField(schema.field(c));
  tc.schema = kept;
  RETURN_IF_ERROR(TableSchemaAfter(existing->schema, tc).status());
  spdlog::warn("batch {}: table {} does not have column(s) {} (schema_evolution: freeze): dropped",
               batch_.id, table, dropped);
  return std::optional<std::vector<int>>(std::move(keep));
}

Result<AttemptResult> Attempt::Run() {
  Stopwatch watch;
  // The input lives in the archive once registered; a crash may have left
  // it in landing (moved now if it still holds the registered bytes). Every
  // attempt, replays included, reads exactly the registered bytes.
  RETURN_IF_ERROR(ArchiveLandedInput(*env_.store, env_.verifier, batch_));
  ObjectInfo verified;
  {
    ArchiveVerifier unremembered;  // without the caller's: hash in full
    RETURN_IF_ERROR(VerifyArchive(env_.verifier != nullptr ? *env_.verifier : unremembered,
                                  *env_.store, batch_, &verified));
  }
  BatchDriverOptions options = DriverOptionsForSpec(spec_);
  ASSIGN_OR_RETURN(options.format, InputFormat(spec_, batch_.object_key));
  options.input_name = batch_.object_key;
  options.error_context = batch_.object_key;
  options.pool = env_.pool;
  options.cancel = env_.cancel;
  options.references = env_.references;
  if (env_.on_progress) {
    options.on_progress = [&](const DriverProgress& p) {
      ProcessProgress progress;
      progress.batch_id = batch_.id;
      progress.bytes_done = p.bytes_done;
      progress.bytes_total = p.bytes_total;
      progress.rows_read = p.records_read;
      progress.seconds = watch.Seconds();
      env_.on_progress(progress);
    };
  }
  BatchDriver driver(std::move(options));
  // The version just verified (on S3: pinned by its ETag, no second HEAD).
  ASSIGN_OR_RETURN(auto raw, verified.key == batch_.archive_key
                                 ? env_.store->OpenReadVersion(verified)
                                 : env_.store->OpenRead(batch_.archive_key));
  RETURN_IF_ERROR(driver.Open(DriverInput{std::move(raw), true}));
  RETURN_IF_ERROR(OpenSinks(driver));

  ASSIGN_OR_RETURN(DriverResult d, driver.Run(*this));
  if (d.end == DriverEnd::kCancelled) {
    return Status::Aborted("batch " + std::to_string(batch_.id) + ": attempt cancelled");
  }
  // A stopped run ends quarantined (its outputs are discarded), with the
  // counts so far and where reading stopped in first_bad.
  RETURN_IF_ERROR(FinishQuarantine());
  AttemptResult res;
  res.stats.rows_read = d.records_read;
  res.stats.rows_written = d.rows_out;
  res.stats.duplicates_removed = d.rows_removed;
  res.stats.rows_skipped = d.rows_skipped;
  res.stats.rows_quarantined = d.rows_quarantined;
  res.stats.seconds = watch.Seconds();
  res.bad = d.bad;
  res.first_bad = std::move(d.first_bad);
  res.references = std::move(d.references);
  return res;
}

Result<std::vector<StagedOutput>> Attempt::FinishSinks() {
  std::vector<StagedOutput> out;
  for (auto& sink : sinks_) {
    ASSIGN_OR_RETURN(StagedOutput o, sink->Finish());
    out.push_back(std::move(o));
  }
  return out;
}

Status Attempt::LoadSinks() {
  for (auto& sink : sinks_) RETURN_IF_ERROR(sink->Load().WithContext(sink->Describe()));
  sinks_done_ = true;
  return Status::OK();
}

Status Attempt::CloseQuarantine() {
  if (!quarantine_) return Status::OK();
  Status st = quarantine_->Close();
  quarantine_.reset();
  return st;
}

void Attempt::DiscardSinks() {
  if (!sinks_done_) {
    for (auto& sink : sinks_) sink->Discard();
  }
  sinks_done_ = true;
}

void Attempt::Discard() {
  DiscardSinks();
  if (quarantine_) {
    quarantine_->Abort();
    quarantine_.reset();
  }
}

// The lake tables a batch writes must match the catalog's existing ones.
Status CheckTables(Catalog& catalog, const std::vector<TableCommit>& tables) {
  for (const TableCommit& t : tables) {
    auto existing = catalog.GetTable(t.table);
    if (existing.status().code() == StatusCode::kNotFound) continue;
    RETURN_IF_ERROR(existing.status());
    RETURN_IF_ERROR(TableSchemaAfter(existing->schema, t).status());
    if (existing->partition_by != t.partition_by) {
      return Status::FailedPrecondition("table '" + t.table +
                                        "' exists with different partition columns");
    }
  }
  return Status::OK();
}

// Delay before retry number `tries` + 1 of a transient failure: 0.5 s doubling,
// at most a minute, plus up to a quarter of jitter so that batches that failed
// together (a full disk, a restarted database) do not retry in lockstep.
int64_t RetryDelayMicros(int tries, int64_t batch_id, int attempt) {
  int64_t base = std::min<int64_t>(60'000'000, int64_t{500'000} << std::clamp(tries - 1, 0, 7));
  uint64_t mix = static_cast<uint64_t>(batch_id) * 0x9E3779B97F4A7C15ULL +
                 static_cast<uint64_t>(attempt) * 0xC2B2AE3D27D4EB4FULL;
  mix ^= mix >> 29;
  return base + static_cast<int64_t>(mix % static_cast<uint64_t>(base / 4 + 1));
}

// docs/architecture.md 8.2. Errors and retries: metrics::CountError.
struct ProcessorMetricFamilies {
  metrics::Family<metrics::Counter>& finished = metrics::Default().AddCounter(
      "sluice_batches_finished_total",
      "Batches that reached an end, by pipeline and outcome (committed, quarantined, failed).",
      {"pipeline", "outcome"});
  metrics::Family<metrics::Counter>& rows = metrics::Default().AddCounter(
      "sluice_rows_total",
      "Rows of committed and quarantined batches, by pipeline and direction (in: records read; "
      "out: rows written to outputs; quarantined and skipped: bad records).",
      {"pipeline", "direction"});
  metrics::Family<metrics::Counter>& bytes_in = metrics::Default().AddCounter(
      "sluice_input_bytes_total", "Input bytes of committed and quarantined batches, by pipeline.",
      {"pipeline"});
  metrics::Family<metrics::Histogram>& duration = metrics::Default().AddHistogram(
      "sluice_batch_duration_seconds",
      "Processing time of the attempt that ended a batch (committed, quarantined or failed), by "
      "pipeline.",
      {"pipeline"});
  metrics::Family<metrics::Histogram>& latency = metrics::Default().AddHistogram(
      "sluice_batch_latency_seconds",
      "Time from a batch's registration to its end (queueing and retries included), by pipeline.",
      {"pipeline"},
      {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600});
};

ProcessorMetricFamilies& ProcessorMetrics() {
  static ProcessorMetricFamilies m;
  return m;
}

void CountProcessorError(std::string_view port, ErrorClass cls, bool retried) {
  metrics::CountError(port, cls, retried);
}

// Records how an attempt ended without a commit, by the retry taxonomy. A
// fenced attempt writes nothing: the batch belongs to a newer attempt.
// `port` is where `why` came from, for the metrics.
Result<ProcessOutcome> EndAttempt(const ProcessEnv& env, const AttemptToken& token,
                                  const BatchInfo& batch, const Status& why,
                                  std::string_view port) {
  const ErrorClass cls = ClassifyError(why);
  CountProcessorError(port, cls, /*retried=*/false);
  if (cls == ErrorClass::kFenced) {
    spdlog::info("batch {}: attempt {} stands down: {}", token.batch_id, token.attempt,
                 why.message());
    return ProcessOutcome::kFenced;
  }
  AttemptFailure failure;
  failure.error_class = cls;
  failure.error = why.ToString();
  if (cls == ErrorClass::kTransient) {
    const int64_t now = env.now_us ? env.now_us() : NowMicros();
    failure.next_attempt_us = now + RetryDelayMicros(batch.tries, token.batch_id, token.attempt);
  }
  Status recorded = env.catalog->FailAttempt(token, failure);
  if (ClassifyError(recorded) == ErrorClass::kFenced) return ProcessOutcome::kFenced;
  // Not recorded (a busy catalog): the caller keeps the task, and the next
  // StartAttempt counts this attempt as one that did not finish.
  RETURN_IF_ERROR(recorded.WithContext("recording the failure of batch " +
                                       std::to_string(token.batch_id) + " (" + why.ToString() +
                                       ")"));
  if (cls == ErrorClass::kTransient)
    metrics::CountError(port, ErrorClass::kTransient, /*retried=*/true);
  return cls == ErrorClass::kTransient ? ProcessOutcome::kRetry : ProcessOutcome::kFailed;
}

}  // namespace

std::string_view ProcessOutcomeName(ProcessOutcome o) {
  switch (o) {
    case ProcessOutcome::kCommitted:
      return "committed";
    case ProcessOutcome::kQuarantined:
      return "quarantined";
    case ProcessOutcome::kFailed:
      return "failed";
    case ProcessOutcome::kAlreadyDone:
      return "already done";
    case ProcessOutcome::kRetry:
      return "retry scheduled";
    case ProcessOutcome::kNotDue:
      return "retry not due yet";
    case ProcessOutcome::kFenced:
      return "fenced";
  }
  return "?";
}

namespace {

// What ProcessBatchOnce learnt, for ProcessBatch's metrics.
struct BatchReport {
  std::string pipeline;
  int64_t registered_us = 0;         // the batch's created_us
  std::optional<Stopwatch> attempt;  // started with an attempt
  std::optional<BatchStats> stats;   // set by a commit (committed or quarantined)
  int64_t input_bytes = 0;
  std::string_view error_port = "catalog";  // of an error returned to the caller
};

Result<ProcessOutcome> ProcessBatchOnce(const ProcessEnv& env, int64_t batch_id,
                                        BatchReport& report) {
  // An error returned as it is, with its port noted for the metrics.
  auto at = [&report](std::string_view port, Status st) {
    if (!st.ok()) report.error_port = port;
    return st;
  };
  // The caller's log context (WorkerPool::RunTask's) names the batch; the
  // attempt and version are added to it below, so the caller's line on the
  // outcome carries them too. A caller without one gets one here.
  std::optional<ScopedLogContext> log_context;
  if (CurrentLogContext().batch_id != batch_id) {
    log_context.emplace(LogContext{.batch_id = batch_id});
  }
  Catalog& catalog = *env.catalog;
  StartAttemptRequest start;
  start.batch_id = batch_id;
  start.lease_expires_us = env.lease_expires_us;
  start.max_attempts = env.max_attempts;
  auto started = catalog.StartAttempt(start);
  if (!started.ok()) {
    if (ClassifyError(started.status()) == ErrorClass::kFenced) {
      CountProcessorError("catalog", ErrorClass::kFenced, /*retried=*/false);
      return ProcessOutcome::kFenced;
    }
    return started.status();
  }
  report.pipeline = started->batch.pipeline;
  report.registered_us = started->batch.created_us;
  // A batch not started (finished, failed for good) is about its last attempt.
  AddToLogContext({.attempt = started->outcome == StartAttemptResult::Outcome::kStarted
                                  ? started->token.attempt
                                  : started->batch.attempts,
                   .pipeline = started->batch.pipeline,
                   .version = started->batch.pipeline_version_id});
  switch (started->outcome) {
    case StartAttemptResult::Outcome::kFinished:
      if (IsTerminal(started->batch.state)) {
        // A retry after the commit succeeded but publication failed: redo it now
        // rather than leave catalog files missing from lake/ until a restart.
        RETURN_IF_ERROR(at("store", PublishPending(*env.store, catalog)));
      }
      return ProcessOutcome::kAlreadyDone;
    case StartAttemptResult::Outcome::kPoisoned:
      spdlog::error("batch {}: {}", batch_id, started->batch.reason);
      return ProcessOutcome::kFailed;
    case StartAttemptResult::Outcome::kNotDue:
      return ProcessOutcome::kNotDue;
    case StartAttemptResult::Outcome::kStarted:
      break;
  }
  const AttemptToken token = started->token;
  const BatchInfo& batch = started->batch;
  const int attempt = token.attempt;
  report.attempt.emplace();
  // Older attempts can never commit (the catalog accepts only the latest), so
  // their staged files are garbage. Newer ones are not ours to touch.
  // The first attempt has no older one whose staging could be left.
  if (attempt > 1) {
    RETURN_IF_ERROR(at(
        "store", CleanupStaging(*env.store, batch_id, attempt, ReferencedBy(catalog, batch_id))));
  }

  ASSIGN_OR_RETURN(PipelineVersion version, catalog.GetVersion(batch.pipeline_version_id));
  auto spec = ParsePipeline(version.spec_text, version.source_path, env.references);
  if (!spec.ok()) return EndAttempt(env, token, batch, spec.status(), "processing");

  Attempt run(env, batch, *spec, attempt, token);
  Result<AttemptResult> res = Status::Internal("attempt did not run");
  try {
    res = run.Run();
  } catch (const std::bad_alloc&) {
    // Transient like ENOMEM: the attempt's staged outputs are discarded
    // below and the batch is retried (later, maybe with fewer workers busy).
    res =
        Status::Unavailable("out of memory processing '" + batch.object_key + "' (std::bad_alloc)");
  }
  if (!res.ok()) {
    run.Discard();
    return EndAttempt(env, token, batch, res.status(), "processing");
  }

  CommitRequest req;
  req.batch_id = batch_id;
  req.attempt = attempt;
  req.stats = res->stats;
  // Reference lineage: every reference table the transform read (a file's
  // SHA-256, a lake table's snapshot id) commits with the batch.
  for (const ReferenceUse& r : res->references) {
    req.references.push_back({r.name, r.kind == ReferenceKind::kFile ? r.file : "table:" + r.table,
                              r.content_sha256, r.snapshot_id});
  }
  const int64_t bad = res->bad;
  const double ratio =
      res->stats.rows_read > 0 ? static_cast<double>(bad) / res->stats.rows_read : 0.0;
  const bool over = bad > 0 && ratio > spec->max_bad_ratio;

  if (Status st = run.CloseQuarantine(); !st.ok())
    return EndAttempt(env, token, batch, st, "store");
  if (auto pub = run.QuarantinePublication()) req.extra_publications.push_back(*pub);
  // The input must survive whatever the commit makes final (an ingested
  // file's archive copy is written without waiting for the disk).
  if (Status st = env.store->Sync(batch.archive_key); !st.ok()) {
    return EndAttempt(env, token, batch, st, "store");
  }
  // `committing` marks that loads outside the catalog may have begun; with
  // none to do, the commit comes straight from processing (one transaction
  // less per batch; fencing is the commit's own attempt check).
  if (!over && run.LoadsOutsideCatalog()) {
    if (Status st = catalog.MarkCommitting(token); !st.ok()) {
      return EndAttempt(env, token, batch, st, "catalog");
    }
  } else {
    req.from_processing = true;
  }

  ProcessOutcome outcome = ProcessOutcome::kCommitted;
  if (over) {
    run.DiscardSinks();
    req.final_state = BatchState::kQuarantined;
    req.reason = std::to_string(bad) + " of " + std::to_string(res->stats.rows_read) +
                 " records are bad (" + PercentText(ratio) + " > max_bad_ratio " +
                 PercentText(spec->max_bad_ratio) + "); first: " + res->first_bad;
    req.stats.rows_written = 0;
    outcome = ProcessOutcome::kQuarantined;
  } else {
    auto staged = run.FinishSinks();
    if (!staged.ok()) return EndAttempt(env, token, batch, staged.status(), "processing");
    for (StagedOutput& o : *staged) {
      if (o.table) req.tables.push_back(std::move(*o.table));
      if (o.lineage) req.outputs.push_back(std::move(*o.lineage));
      if (o.delivery) {
        // Published with the batch's other files; recorded pending in the
        // commit's own transaction, loaded after it by a loader.
        DeliveryRequest& d = o.delivery->request;
        if (o.delivery->staging_key != d.key) {
          req.extra_publications.push_back(Publication{o.delivery->staging_key, d.key});
        }
        req.outputs.push_back(OutputLineage{d.output, d.rows});
        req.deliveries.push_back(std::move(d));
      }
    }
    // The commit would refuse a table whose schema differs; find out before
    // other sinks load rows of a batch that could then never commit.
    Status compatible = CheckTables(catalog, req.tables);
    if (!compatible.ok()) {
      run.Discard();
      return EndAttempt(env, token, batch, compatible, "catalog");
    }
    // Sinks outside the catalog become visible first, exactly once thanks to
    // their ledgers; a crash before CommitBatch makes the retry's Load a no-op.
    if (Status st = run.LoadSinks(); !st.ok()) return EndAttempt(env, token, batch, st, "output");
  }
  // A replay's commit replaces the batch's deliveries: the rows an earlier
  // attempt staged for them go once it has committed.
  std::vector<std::string> replaced_deliveries;
  if (batch.committed_attempt > 0) {
    auto earlier = catalog.BatchDeliveries(batch_id);
    if (!earlier.ok()) return EndAttempt(env, token, batch, earlier.status(), "catalog");
    for (const Delivery& d : *earlier) {
      if (d.attempt != attempt) replaced_deliveries.push_back(d.key);
    }
  }
  Status committed = catalog.CommitBatch(req);
  if (committed.code() == StatusCode::kAlreadyExists) return ProcessOutcome::kAlreadyDone;
  if (!committed.ok()) return EndAttempt(env, token, batch, committed, "catalog");
  report.stats = req.stats;
  report.input_bytes = batch.size_bytes;
  for (const std::string& key : replaced_deliveries) {
    Status st = env.store->Delete(key);
    if (!st.ok() && st.code() != StatusCode::kNotFound) {
      spdlog::warn("batch {}: replaced delivery rows {} not removed: {}", batch_id, key,
                   st.ToString());
    }
  }
  // The batch is committed: publication is a redo log that the server repeats
  // at start-up, so a failure here is reported, not a reason to retry the batch.
  Status published = PublishPending(*env.store, catalog);
  // The loader waits for a delivery's publication (its object is not there
  // before), so the task may go before publication is complete.
  if (!req.deliveries.empty() && env.queue != nullptr) {
    Status queued = env.queue->Enqueue(TaskRequest{TaskKind::kLoad, batch_id, batch.pipeline, 0});
    if (!queued.ok()) {
      spdlog::warn("batch {}: load task not queued (reconciliation will): {}", batch_id,
                   queued.ToString());
    }
  }
  if (!published.ok()) {
    spdlog::error("batch {}: publication incomplete, will be retried at start-up: {}", batch_id,
                  published.ToString());
    return outcome;
  }
  // Only this attempt and older ones: a replay may already have started a newer one.
  Status cleaned =
      CleanupStaging(*env.store, batch_id, attempt + 1, ReferencedBy(catalog, batch_id));
  if (!cleaned.ok())
    spdlog::warn("batch {}: staging not removed: {}", batch_id, cleaned.ToString());
  return outcome;
}

}  // namespace

Result<ProcessOutcome> ProcessBatch(const ProcessEnv& env, int64_t batch_id) {
  BatchReport report;
  Result<ProcessOutcome> result = ProcessBatchOnce(env, batch_id, report);
  if (!result.ok()) {
    // The caller keeps the task and hands it back after a pause.
    CountProcessorError(report.error_port, ClassifyError(result.status()), /*retried=*/true);
    return result;
  }
  const ProcessOutcome outcome = *result;
  if (outcome != ProcessOutcome::kCommitted && outcome != ProcessOutcome::kQuarantined &&
      outcome != ProcessOutcome::kFailed) {
    return result;
  }
  ProcessorMetricFamilies& m = ProcessorMetrics();
  const std::string& p = report.pipeline;
  m.finished.With({p, ProcessOutcomeName(outcome)}).Inc();
  if (report.attempt) m.duration.With({p}).Observe(report.attempt->Seconds());
  if (report.registered_us > 0) {
    const int64_t now = env.now_us ? env.now_us() : NowMicros();
    m.latency.With({p}).Observe(static_cast<double>(now - report.registered_us) / 1e6);
  }
  if (report.stats) {
    m.rows.With({p, "in"}).Inc(static_cast<double>(report.stats->rows_read));
    m.rows.With({p, "out"}).Inc(static_cast<double>(report.stats->rows_written));
    m.rows.With({p, "quarantined"}).Inc(static_cast<double>(report.stats->rows_quarantined));
    m.rows.With({p, "skipped"}).Inc(static_cast<double>(report.stats->rows_skipped));
    m.bytes_in.With({p}).Inc(static_cast<double>(report.input_bytes));
  }
  return result;
}

namespace {

// Whether objects `a` and `b` hold the same bytes (by SHA-256).
Result<bool> SameBytes(ObjectStore& store, const std::string& a, const std::string& b) {
  ASSIGN_OR_RETURN(auto in_a, store.OpenRead(a));
  ASSIGN_OR_RETURN(std::string sha_a, Sha256Stream(*in_a));
  ASSIGN_OR_RETURN(auto in_b, store.OpenRead(b));
  ASSIGN_OR_RETURN(std::string sha_b, Sha256Stream(*in_b));
  return sha_a == sha_b;
}

// One PublishPending run. Its moves are made durable together (one directory
// sync per directory, not one per move) and the publications done are
// recorded together after that (one catalog transaction, not one each).
struct PublishRun {
  ObjectStore& store;
  Catalog& catalog;
  ObjectStore::DeferredSync moved;  // moves not yet known durable
  std::vector<std::string> done;    // publications to record once they are

  // `p` is done once the object at `final_key` is durable there (moved by
  // this run, or by a concurrent publisher whose sync may still be to come).
  Status Done(const Publication& p) {
    moved.keys.insert(p.final_key);
    done.push_back(p.staging_key);
    return Status::OK();
  }
  // Nothing recorded before what it records is durable.
  Status Finish() {
    RETURN_IF_ERROR(store.SyncRenames(moved));
    Status st = catalog.MarkPublishedAll(done);
    done.clear();
    return st;
  }
};

// Publishes one staged object: OK when it is published or recorded as lost;
// an error only when the store or catalog could not answer (try again later).
// Moves a lake file that a replay replaced to its retired/ key. A file that
// is already gone (moved before a crash, or the lost file of a damaged batch)
// needs nothing; a different object at the retired key is reported and both
// are left alone (no bytes are ever destroyed).
Status RetireOne(PublishRun& run, const Publication& p) {
  ObjectStore& store = run.store;
  Catalog& catalog = run.catalog;
  // Without rename the file stays where it is; the catalog has it removed.
  if (!store.AtomicRename()) return catalog.DropRetirement(p.staging_key);
  auto live = store.Stat(p.staging_key);
  if (!live.ok() && live.status().code() != StatusCode::kNotFound) return live.status();
  if (live.ok()) {
    auto there = store.Stat(p.final_key);
    if (!there.ok() && there.status().code() != StatusCode::kNotFound) return there.status();
    Status mv = there.ok() ? Status::AlreadyExists(p.final_key)
                           : store.RenameDeferred(p.staging_key, p.final_key, run.moved);
    if (mv.code() == StatusCode::kAlreadyExists) {
      // Identical bytes: a move across file systems that stopped before
      // removing its source. Anything else is not ours to remove.
      ASSIGN_OR_RETURN(bool same, SameBytes(store, p.staging_key, p.final_key));
      if (!same) {
        return Status::FailedPrecondition("cannot retire " + p.staging_key + ": " + p.final_key +
                                          " holds another object");
      }
      mv = store.Delete(p.staging_key);
    }
    if (!mv.ok() && mv.code() != StatusCode::kNotFound) return mv;
  }
  return run.Done(p);
}

Status PublishOne(PublishRun& run, const Publication& p) {
  if (p.retire) return RetireOne(run, p);
  ObjectStore& store = run.store;
  Catalog& catalog = run.catalog;
  auto lost = [&](const std::string& why) -> Status {
    // Pending publications may be other batches' than the thread's own.
    std::optional<ScopedLogContext> log_context;
    if (CurrentLogContext().batch_id != p.batch_id) {
      log_context.emplace(LogContext{.batch_id = p.batch_id});
    }
    spdlog::error("batch {}: {}; the batch is marked damaged (sluice check --repair rebuilds it)",
                  p.batch_id, why);
    return catalog.RecordLostPublication(p.staging_key, why);
  };
  auto staged = store.Stat(p.staging_key);
  if (!staged.ok() && staged.status().code() != StatusCode::kNotFound) return staged.status();
  auto final_obj = store.Stat(p.final_key);
  if (!final_obj.ok() && final_obj.status().code() != StatusCode::kNotFound) {
    return final_obj.status();
  }
  if (!staged.ok()) {
    // Moved by a concurrent publisher, or by a run that crashed before
    // MarkPublished: only the record is missing.
    if (final_obj.ok()) return run.Done(p);
    return lost("staged object " + p.staging_key + " is missing (lost before publication to " +
                p.final_key + ")");
  }
  if (final_obj.ok()) {
    // Both exist. A copy across file systems that crashed before removing
    // its source leaves two identical objects; anything else at a final key
    // is not ours, and a final key is never replaced.
    auto same = SameBytes(store, p.staging_key, p.final_key);
    if (!same.ok() && same.status().code() == StatusCode::kNotFound) {
      // Moved by a concurrent publisher (every worker publishes what is
      // pending after its commit) between the two looks above: recorded only.
      auto again = store.Stat(p.staging_key);
      if (!again.ok() && again.status().code() == StatusCode::kNotFound &&
          store.Stat(p.final_key).ok()) {
        return run.Done(p);
      }
    }
    RETURN_IF_ERROR(same.status());
    if (*same) {
      RETURN_IF_ERROR(store.Delete(p.staging_key));
      return run.Done(p);
    }
    return lost("final key " + p.final_key + " already holds another object (never replaced)");
  }
  Status mv = store.RenameDeferred(p.staging_key, p.final_key, run.moved);
  if (mv.code() == StatusCode::kAlreadyExists) {
    return lost("final key " + p.final_key + " appeared during publication (never replaced)");
  }
  if (mv.code() == StatusCode::kNotFound && store.Stat(p.final_key).ok()) mv = Status::OK();
  RETURN_IF_ERROR(mv);
  return run.Done(p);
}

}  // namespace

ReferencedKeys ReferencedBy(Catalog& catalog, int64_t batch_id) {
  return [&catalog, batch_id]() -> Result<std::set<std::string>> {
    std::set<std::string> keys;
    ASSIGN_OR_RETURN(BatchInfo b, catalog.GetBatch(batch_id));
    ASSIGN_OR_RETURN(std::vector<DataFile> files, catalog.ListBatchFiles(batch_id));
    for (const DataFile& f : files) keys.insert(f.key);
    ASSIGN_OR_RETURN(std::vector<Delivery> deliveries, catalog.BatchDeliveries(batch_id));
    for (const Delivery& d : deliveries) keys.insert(d.key);
    if (b.committed_attempt > 0) {
      keys.insert(QuarantineKey(b.pipeline, batch_id, b.committed_attempt));
    }
    return keys;
  };
}

Status PublishPending(ObjectStore& store, Catalog& catalog) {
  ASSIGN_OR_RETURN(std::vector<Publication> pending, catalog.PendingPublications());
  // One publication that cannot be done now must not hold back every other
  // batch's: go on, report the first failure. A lost staged object is not a
  // failure here: it is recorded (its batch becomes damaged) and leaves the log.
  Status first = Status::OK();
  int failed = 0;
  PublishRun run{store, catalog, {}, {}};
  for (size_t i = 0; i < pending.size(); ++i) {
    const Publication& p = pending[i];
    Status st = PublishOne(run, p);
    if (!st.ok()) {
      if (first.ok()) first = st.WithContext("publishing " + p.staging_key + " -> " + p.final_key);
      ++failed;
    }
    // Retirements come first and are durable before any new file appears:
    // after a crash a directory reader may miss a replayed batch for a
    // moment, never see it twice.
    const bool last_retirement = p.retire && (i + 1 == pending.size() || !pending[i + 1].retire);
    if (last_retirement || i + 1 == pending.size()) {
      if (Status fin = run.Finish(); !fin.ok()) {
        if (first.ok()) first = fin.WithContext("recording publications");
        ++failed;
      }
    }
  }
  if (failed > 1) {
    return Status(first.code(), first.message() + " (and " + std::to_string(failed - 1) +
                                    " more publication(s) failed)");
  }
  return first;
}

}  // namespace sluice
