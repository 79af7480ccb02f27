// SqlCatalog: opening, pipelines and batches (registration, the state
// machine, history). Commit, replay and tables are in sqlite_catalog_tables.cc.
#include "catalog/sql_catalog.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "catalog/internal/sql_catalog_impl.h"
#include "core/clock.h"
#include "core/hash.h"
#include "sql/migrations.h"

namespace sluice {

namespace {

// The moves TransitionBatch accepts: registration's. Attempts move batches
// through StartAttempt, MarkCommitting, FailAttempt and CommitBatch (fenced),
// and replays through ReplayBatch.
bool TransitionAllowed(BatchState from, BatchState to) {
  using S = BatchState;
  switch (to) {
    case S::kQueued:
      return from == S::kLanded;
    case S::kFailed:
      return from == S::kLanded || from == S::kQueued;
    default:
      return false;
  }
}

constexpr const char* kVersionColumns =
    "v.id, v.pipeline, v.content_hash, v.spec_text, v.source_path, v.created_us, "
    "CASE WHEN p.active_version_id = v.id THEN 1 ELSE 0 END";

PipelineVersion ReadVersionRow(const SqlStatement& s) {
  PipelineVersion v;
  v.id = s.ColumnInt64(0);
  v.pipeline = s.ColumnText(1);
  v.content_hash = s.ColumnText(2);
  v.spec_text = s.ColumnText(3);
  v.source_path = s.ColumnText(4);
  v.created_us = s.ColumnInt64(5);
  v.active = s.ColumnInt64(6) != 0;
  return v;
}

}  // namespace

const char* const kBatchColumns =
    "id, pipeline, version_id, object_key, archive_key, sha256, size_bytes, state, reason, "
    "attempts, duplicate_landings, rows_read, rows_written, rows_quarantined, rows_skipped, "
    "duplicates_removed, seconds, created_us, updated_us, tries, next_attempt_us, last_error, "
    "last_error_class, committed_attempt, deadline_us, at_risk_us, missed_us";

Result<BatchInfo> ReadBatchRow(const SqlStatement& s) {
  BatchInfo b;
  b.id = s.ColumnInt64(0);
  b.pipeline = s.ColumnText(1);
  b.pipeline_version_id = s.ColumnInt64(2);
  b.object_key = s.ColumnText(3);
  b.archive_key = s.ColumnText(4);
  b.sha256 = s.ColumnText(5);
  b.size_bytes = s.ColumnInt64(6);
  // States are written only by this catalog; an unknown name means a newer
  // sluice (or a hand edit) wrote it. Guessing would let a worker redo or
  // regress the batch, so it is an error that names the batch.
  auto state = ParseBatchState(s.ColumnText(7));
  if (!state.ok()) {
    return Status::DataLoss("catalog: " + BatchName(b.id) + " has unknown state '" +
                            s.ColumnText(7) + "' (written by a newer sluice, or edited by hand)");
  }
  b.state = *state;
  b.reason = s.ColumnText(8);
  b.attempts = s.ColumnInt(9);
  b.duplicate_landings = s.ColumnInt64(10);
  b.stats.rows_read = s.ColumnInt64(11);
  b.stats.rows_written = s.ColumnInt64(12);
  b.stats.rows_quarantined = s.ColumnInt64(13);
  b.stats.rows_skipped = s.ColumnInt64(14);
  b.stats.duplicates_removed = s.ColumnInt64(15);
  b.stats.seconds = s.ColumnDouble(16);
  b.created_us = s.ColumnInt64(17);
  b.updated_us = s.ColumnInt64(18);
  b.tries = s.ColumnInt(19);
  b.next_attempt_us = s.ColumnInt64(20);
  b.last_error = s.ColumnText(21);
  b.last_error_class = s.ColumnText(22);
  b.committed_attempt = s.ColumnInt(23);
  b.deadline_us = s.ColumnInt64(24);
  b.at_risk_us = s.ColumnInt64(25);
  b.missed_us = s.ColumnInt64(26);
  return b;
}

Result<std::unique_ptr<Catalog>> OpenSqliteCatalog(const std::string& path) {
  return OpenSqliteCatalog(path, SqliteCatalogOptions());
}

Result<std::unique_ptr<Catalog>> OpenSqliteCatalog(const std::string& path,
                                                   const SqliteCatalogOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path, options.db));
  return OpenSqlCatalog(std::move(db), options.now_us);
}

Result<std::unique_ptr<Catalog>> OpenPostgresCatalog(const std::string& dsn,
                                                     const PostgresCatalogOptions& options) {
  std::vector<std::unique_ptr<Catalog>> members;
  for (int i = 0; i < std::max(1, options.connections); ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<PgDb> db, PgDb::Open(dsn, options.db));
    ASSIGN_OR_RETURN(std::unique_ptr<Catalog> member,
                     OpenSqlCatalog(std::move(db), options.now_us));
    members.push_back(std::move(member));
  }
  return NewCatalogPool(std::move(members));
}

Result<std::unique_ptr<Catalog>> OpenSqlCatalog(std::unique_ptr<SqlDb> db,
                                                std::function<int64_t()> now_us) {
  Status st = ApplyCatalogMigrations(*db);
  if (!st.ok()) return st.WithContext("catalog " + db->Describe());
  if (!now_us) now_us = [] { return NowMicros(); };
  return std::unique_ptr<Catalog>(std::make_unique<SqlCatalog>(std::move(db), std::move(now_us)));
}

bool IsPostgresLocation(const std::string& location) {
  return location.starts_with("postgres://") || location.starts_with("postgresql://");
}

Result<std::unique_ptr<Catalog>> OpenCatalog(const std::string& location) {
  if (IsPostgresLocation(location)) return OpenPostgresCatalog(location, PostgresCatalogOptions());
  return OpenSqliteCatalog(location);
}

// --- helpers ------------------------------------------------------------------

Result<int64_t> InsertReturningId(SqlStatement& insert) {
  ASSIGN_OR_RETURN(bool row, insert.Step());
  if (!row) return Status::Internal("'" + ShortSql(insert.sql()) + "' returned no id");
  int64_t id = insert.ColumnInt64(0);
  // Stepped to the end, so that the insert is complete.
  RETURN_IF_ERROR(insert.Exec());
  return id;
}

Result<BatchInfo> SqlCatalog::LoadBatch(int64_t batch_id) {
  ASSIGN_OR_RETURN(SqlStatement s, db_->Prepare(std::string("SELECT ") + kBatchColumns +
                                                " FROM batches WHERE id = ?1"));
  s.Bind(1, batch_id);
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::NotFound("no " + BatchName(batch_id) + " in the catalog");
  return ReadBatchRow(s);
}

Status SqlCatalog::AppendEvent(int64_t batch_id, BatchState state, const std::string& reason,
                               int64_t at_us) {
  ASSIGN_OR_RETURN(SqlStatement s,
                   db_->Prepare("INSERT INTO batch_events (batch_id, state, reason, at_us) "
                                "VALUES (?1, ?2, ?3, ?4)"));
  s.Bind(1, batch_id).Bind(2, BatchStateName(state)).Bind(3, reason).Bind(4, at_us);
  return s.Exec();
}

Result<PipelineVersion> SqlCatalog::LoadVersion(int64_t version_id) {
  ASSIGN_OR_RETURN(SqlStatement s, db_->Prepare(std::string("SELECT ") + kVersionColumns +
                                                " FROM pipeline_versions v LEFT JOIN pipelines p "
                                                "ON p.name = v.pipeline WHERE v.id = ?1"));
  s.Bind(1, version_id);
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) {
    return Status::NotFound("no pipeline version " + std::to_string(version_id) +
                            " in the catalog");
  }
  return ReadVersionRow(s);
}

// --- pipelines -------------------------------------------------------------------

Result<int64_t> SqlCatalog::ActivateVersion(const std::string& pipeline, const std::string& hash,
                                            const std::string& spec_text,
                                            const std::string& source_path, int64_t now_us) {
  ASSIGN_OR_RETURN(SqlStatement ins,
                   db_->Prepare("INSERT INTO pipeline_versions "
                                "(pipeline, content_hash, spec_text, source_path, created_us) "
                                "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING"));
  ins.Bind(1, pipeline).Bind(2, hash).Bind(3, spec_text).Bind(4, source_path).Bind(5, now_us);
  RETURN_IF_ERROR(ins.Exec());
  ASSIGN_OR_RETURN(SqlStatement sel, db_->Prepare("SELECT id FROM pipeline_versions "
                                                  "WHERE pipeline = ?1 AND content_hash = ?2"));
  sel.Bind(1, pipeline).Bind(2, hash);
  ASSIGN_OR_RETURN(bool row, sel.Step());
  if (!row) return Status::Internal("deploy: version row vanished for '" + pipeline + "'");
  const int64_t id = sel.ColumnInt64(0);
  ASSIGN_OR_RETURN(SqlStatement act,
                   db_->Prepare("INSERT INTO pipelines (name, active_version_id, updated_us) "
                                "VALUES (?1, ?2, ?3) ON CONFLICT (name) DO UPDATE SET "
                                "active_version_id = excluded.active_version_id, "
                                "updated_us = excluded.updated_us"));
  act.Bind(1, pipeline).Bind(2, id).Bind(3, now_us);
  RETURN_IF_ERROR(act.Exec());
  return id;
}

Result<PipelineVersion> SqlCatalog::DeployPipeline(const std::string& pipeline,
                                                   const std::string& spec_text,
                                                   const std::string& source_path) {
  if (pipeline.empty()) return Status::InvalidArgument("deploy: empty pipeline name");
  const std::string hash = Sha256Hex(spec_text);
  MutexLock lock(&mu_);
  PipelineVersion out;
  RETURN_IF_ERROR(db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    ASSIGN_OR_RETURN(const int64_t id,
                     ActivateVersion(pipeline, hash, spec_text, source_path, Now()));
    ASSIGN_OR_RETURN(out, LoadVersion(id));
    return Status::OK();
  }));
  return out;
}

Result<PipelineVersion> SqlCatalog::GetActiveVersion(const std::string& pipeline) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(SqlStatement s,
                   db_->Prepare("SELECT active_version_id FROM pipelines WHERE name = ?1"));
  s.Bind(1, pipeline);
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::NotFound("pipeline '" + pipeline + "' has never been deployed");
  return LoadVersion(s.ColumnInt64(0));
}

Result<PipelineVersion> SqlCatalog::GetVersion(int64_t version_id) {
  MutexLock lock(&mu_);
  return LoadVersion(version_id);
}

Result<std::vector<PipelineVersion>> SqlCatalog::ListActivePipelines() {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(SqlStatement s, db_->Prepare(std::string("SELECT ") + kVersionColumns +
                                                " FROM pipelines p JOIN pipeline_versions v "
                                                "ON v.id = p.active_version_id ORDER BY p.name"));
  std::vector<PipelineVersion> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ReadVersionRow(s));
  }
  return out;
}

Result<std::vector<PipelineVersion>> SqlCatalog::ListPipelineVersions(const std::string& pipeline) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(SqlStatement s, db_->Prepare(std::string("SELECT ") + kVersionColumns +
                                                " FROM pipeline_versions v LEFT JOIN pipelines p "
                                                "ON p.name = v.pipeline WHERE v.pipeline = ?1 "
                                                "ORDER BY v.id DESC"));
  s.Bind(1, pipeline);
  std::vector<PipelineVersion> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ReadVersionRow(s));
  }
  if (out.empty()) return Status::NotFound("pipeline '" + pipeline + "' has never been deployed");
  return out;
}

// --- batches ---------------------------------------------------------------------

namespace {

Status CheckRegisterRequest(const RegisterBatchRequest& req) {
  if (req.pipeline.empty() || req.object_key.empty() || req.sha256.empty()) {
    return Status::InvalidArgument(
        "register batch: pipeline, object key and sha256 are required"
        " (got pipeline '" +
        req.pipeline + "', key '" + req.object_key + "')");
  }
  return Status::OK();
}

}  // namespace

Result<RegisterBatchResult> SqlCatalog::RegisterBatch(const RegisterBatchRequest& req) {
  RETURN_IF_ERROR(CheckRegisterRequest(req));
  MutexLock lock(&mu_);
  RegisterBatchResult out;
  RETURN_IF_ERROR(db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    ASSIGN_OR_RETURN(out, RegisterLocked(req, Now()));
    return Status::OK();
  }));
  return out;
}

Result<std::vector<RegisterBatchResult>> SqlCatalog::RegisterBatches(
    const std::vector<RegisterBatchRequest>& reqs) {
  for (const RegisterBatchRequest& req : reqs) RETURN_IF_ERROR(CheckRegisterRequest(req));
  MutexLock lock(&mu_);
  std::vector<RegisterBatchResult> out;
  RETURN_IF_ERROR(db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    out.clear();       // a retried transaction starts over
    const int64_t now = Now();
    for (const RegisterBatchRequest& req : reqs) {
      ASSIGN_OR_RETURN(RegisterBatchResult r, RegisterLocked(req, now));
      out.push_back(r);
    }
    return Status::OK();
  }));
  return out;
}

Result<RegisterBatchResult> SqlCatalog::RegisterLocked(const RegisterBatchRequest& req,
                                                       int64_t now) {
  RegisterBatchResult out;
  // 1. This exact object seen before (a re-scan of the landing zone).
  ASSIGN_OR_RETURN(SqlStatement same,
                   db_->Prepare("SELECT batch_id, id, etag FROM batch_landings WHERE "
                                "pipeline = ?1 AND object_key = ?2 AND sha256 = ?3"));
  same.Bind(1, req.pipeline).Bind(2, req.object_key).Bind(3, req.sha256);
  ASSIGN_OR_RETURN(bool seen, same.Step());
  if (seen) {
    out.outcome = RegisterBatchResult::Outcome::kSameObject;
    out.batch_id = same.ColumnInt64(0);
    // The same bytes written again get another ETag (a multipart upload's
    // differs from a single PUT's): the one the store now shows is the one
    // a scan will ask about.
    if (!req.etag.empty() && same.ColumnText(2) != req.etag) {
      const int64_t landing_id = same.ColumnInt64(1);
      ASSIGN_OR_RETURN(SqlStatement tag,
                       db_->Prepare("UPDATE batch_landings SET etag = ?2 WHERE id = ?1"));
      tag.Bind(1, landing_id).Bind(2, req.etag);
      RETURN_IF_ERROR(tag.Exec());
    }
    return out;
  }
  ASSIGN_OR_RETURN(SqlStatement land,
                   db_->Prepare("INSERT INTO batch_landings (batch_id, pipeline, object_key, "
                                "sha256, landed_us, is_duplicate, etag) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  // 2. The same content under another key: count it, make no batch.
  ASSIGN_OR_RETURN(SqlStatement dup,
                   db_->Prepare("SELECT id FROM batches WHERE pipeline = ?1 AND sha256 = ?2"));
  dup.Bind(1, req.pipeline).Bind(2, req.sha256);
  ASSIGN_OR_RETURN(bool exists, dup.Step());
  if (exists) {
    int64_t batch_id = dup.ColumnInt64(0);
    land.Bind(1, batch_id).Bind(2, req.pipeline).Bind(3, req.object_key).Bind(4, req.sha256);
    land.Bind(5, now).Bind(6, 1).Bind(7, req.etag);
    RETURN_IF_ERROR(land.Exec());
    ASSIGN_OR_RETURN(SqlStatement inc,
                     db_->Prepare("UPDATE batches SET duplicate_landings = duplicate_landings "
                                  "+ 1, updated_us = ?2 WHERE id = ?1"));
    inc.Bind(1, batch_id).Bind(2, now);
    RETURN_IF_ERROR(inc.Exec());
    out.outcome = RegisterBatchResult::Outcome::kDuplicateContent;
    out.batch_id = batch_id;
    return out;
  }
  // 3. New content: a new batch pinned to the active version.
  ASSIGN_OR_RETURN(SqlStatement ver,
                   db_->Prepare("SELECT active_version_id FROM pipelines WHERE name = ?1"));
  ver.Bind(1, req.pipeline);
  ASSIGN_OR_RETURN(bool has_version, ver.Step());
  if (!has_version) {
    return Status::FailedPrecondition("cannot register '" + req.object_key + "': pipeline '" +
                                      req.pipeline + "' has no deployed version");
  }
  int64_t version_id = ver.ColumnInt64(0);
  ASSIGN_OR_RETURN(SqlStatement ins,
                   db_->Prepare("INSERT INTO batches (pipeline, version_id, object_key, "
                                "archive_key, sha256, size_bytes, state, created_us, "
                                "updated_us, deadline_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                                "?8, ?8, COALESCE((SELECT ?8 + deadline_us FROM pipeline_slas "
                                "WHERE pipeline = ?1 AND deadline_us > 0), 0)) RETURNING id"));
  ins.Bind(1, req.pipeline).Bind(2, version_id).Bind(3, req.object_key);
  ins.Bind(4, req.archive_key).Bind(5, req.sha256).Bind(6, req.size_bytes);
  ins.Bind(7, BatchStateName(BatchState::kLanded)).Bind(8, now);
  ASSIGN_OR_RETURN(int64_t batch_id, InsertReturningId(ins));
  land.Bind(1, batch_id).Bind(2, req.pipeline).Bind(3, req.object_key).Bind(4, req.sha256);
  land.Bind(5, now).Bind(6, 0).Bind(7, req.etag);
  RETURN_IF_ERROR(land.Exec());
  RETURN_IF_ERROR(AppendEvent(batch_id, BatchState::kLanded, "", now));
  out.outcome = RegisterBatchResult::Outcome::kNew;
  out.batch_id = batch_id;
  return out;
}

Result<bool> SqlCatalog::LandedObjectKnown(const std::string& pipeline,
                                           const std::string& object_key, const std::string& etag) {
  // Registrations without a content tag store an empty one: it says nothing
  // about which version was read.
  if (etag.empty()) return false;
  MutexLock lock(&mu_);
  // The unique (pipeline, object_key, sha256) index finds the key's few
  // landings (one per content ever landed there).
  ASSIGN_OR_RETURN(SqlStatement s,
                   db_->Prepare("SELECT 1 FROM batch_landings WHERE pipeline = ?1 AND "
                                "object_key = ?2 AND etag = ?3 LIMIT 1"));
  s.Bind(1, pipeline).Bind(2, object_key).Bind(3, etag);
  return s.Step();
}

Status SqlCatalog::TransitionBatch(int64_t batch_id, BatchState to, const std::string& reason) {
  MutexLock lock(&mu_);
  return db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    ASSIGN_OR_RETURN(BatchInfo b, LoadBatch(batch_id));
    if (IsTerminal(b.state)) {
      return Status::FailedPrecondition(BatchName(batch_id) + " is " +
                                        std::string(BatchStateName(b.state)) +
                                        " (final); it cannot move to " +
                                        std::string(BatchStateName(to)) + " (replay it instead)");
    }
    if (!TransitionAllowed(b.state, to)) {
      return Status::FailedPrecondition(BatchName(batch_id) + ": cannot move from " +
                                        std::string(BatchStateName(b.state)) + " to " +
                                        std::string(BatchStateName(to)));
    }
    int64_t now = Now();
    bool keeps_reason = to == BatchState::kFailed;
    ASSIGN_OR_RETURN(SqlStatement up,
                     db_->Prepare("UPDATE batches SET state = ?2, reason = ?3, updated_us = ?4 "
                                  "WHERE id = ?1"));
    up.Bind(1, batch_id).Bind(2, BatchStateName(to)).Bind(3, keeps_reason ? reason : "");
    up.Bind(4, now);
    RETURN_IF_ERROR(up.Exec());
    return AppendEvent(batch_id, to, reason, now);
  });
}

Result<std::vector<int64_t>> SqlCatalog::QueueLandedBatches(const std::vector<int64_t>& batch_ids) {
  MutexLock lock(&mu_);
  std::vector<int64_t> moved;
  RETURN_IF_ERROR(db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    moved.clear();     // a retried transaction starts over
    const int64_t now = Now();
    ASSIGN_OR_RETURN(SqlStatement up,
                     db_->Prepare("UPDATE batches SET state = ?2, reason = '', updated_us = ?3 "
                                  "WHERE id = ?1 AND state = ?4"));
    for (int64_t id : batch_ids) {
      up.Reset();
      up.Bind(1, id).Bind(2, BatchStateName(BatchState::kQueued)).Bind(3, now);
      up.Bind(4, BatchStateName(BatchState::kLanded));
      RETURN_IF_ERROR(up.Exec());
      if (db_->Changes() == 0) continue;  // not landed (any more): not this call's to move
      RETURN_IF_ERROR(AppendEvent(id, BatchState::kQueued, "", now));
      moved.push_back(id);
    }
    return Status::OK();
  }));
  return moved;
}

Result<BatchInfo> SqlCatalog::GetBatch(int64_t batch_id) {
  MutexLock lock(&mu_);
  return LoadBatch(batch_id);
}

Result<std::vector<BatchInfo>> SqlCatalog::ListBatches(std::optional<BatchState> state,
                                                       const std::string& pipeline, int64_t limit) {
  ASSIGN_OR_RETURN(BatchPage page, ListBatchPage(state, pipeline, 0, limit > 0 ? limit : -1));
  return std::move(page.batches);
}

Result<BatchPage> SqlCatalog::ListBatchPage(std::optional<BatchState> state,
                                            const std::string& pipeline, int64_t before_id,
                                            int64_t limit) {
  if (limit == 0 || limit < -1) {
    return Status::InvalidArgument("a page of batches needs a positive limit");
  }
  MutexLock lock(&mu_);
  std::string sql = std::string("SELECT ") + kBatchColumns +
                    " FROM batches WHERE (?1 = '' OR state = ?1) AND (?2 = '' OR pipeline = "
                    "?2) AND (?3 = 0 OR id < ?3) ORDER BY id DESC";
  // One more than asked: whether there is a next page.
  if (limit > 0) sql += " LIMIT ?4";
  ASSIGN_OR_RETURN(SqlStatement s, db_->Prepare(sql));
  s.Bind(1, state ? BatchStateName(*state) : std::string_view());
  s.Bind(2, pipeline).Bind(3, before_id);
  if (limit > 0) s.Bind(4, limit + 1);
  BatchPage page;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    if (limit > 0 && static_cast<int64_t>(page.batches.size()) == limit) {
      page.next_before_id = page.batches.back().id;
      break;
    }
    ASSIGN_OR_RETURN(BatchInfo b, ReadBatchRow(s));
    page.batches.push_back(std::move(b));
  }
  return page;
}

Result<std::vector<BatchEvent>> SqlCatalog::BatchHistory(int64_t batch_id) {
  MutexLock lock(&mu_);
  std::vector<BatchEvent> out;
  RETURN_IF_ERROR(db_->ReadTransaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    ASSIGN_OR_RETURN(BatchInfo b, LoadBatch(batch_id));
    (void)b;
    ASSIGN_OR_RETURN(SqlStatement s, db_->Prepare("SELECT state, reason, at_us FROM batch_events "
                                                  "WHERE batch_id = ?1 ORDER BY id"));
    s.Bind(1, batch_id);
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      BatchEvent e;
      e.batch_id = batch_id;
      ASSIGN_OR_RETURN(e.state, ParseBatchState(s.ColumnText(0)));
      e.reason = s.ColumnText(1);
      e.at_us = s.ColumnInt64(2);
      out.push_back(std::move(e));
    }
    return Status::OK();
  }));
  return out;
}

Result<std::vector<std::pair<BatchState, int64_t>>> SqlCatalog::CountBatchesByState() {
  MutexLock lock(&mu_);
  constexpr std::array<BatchState, 8> kAll = {BatchState::kLanded,      BatchState::kQueued,
                                              BatchState::kProcessing,  BatchState::kCommitting,
                                              BatchState::kCommitted,   BatchState::kFailed,
                                              BatchState::kQuarantined, BatchState::kDamaged};
  std::vector<std::pair<BatchState, int64_t>> out;
  for (BatchState st : kAll) out.emplace_back(st, 0);
  ASSIGN_OR_RETURN(SqlStatement s,
                   db_->Prepare("SELECT state, COUNT(*) FROM batches GROUP BY state"));
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    ASSIGN_OR_RETURN(BatchState st, ParseBatchState(s.ColumnText(0)));
    for (auto& [state, count] : out) {
      if (state == st) count = s.ColumnInt64(1);
    }
  }
  return out;
}

Result<std::vector<Catalog::PipelineStateCount>> SqlCatalog::CountBatchesByPipelineAndState() {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(SqlStatement s, db_->Prepare("SELECT pipeline, state, COUNT(*) FROM batches "
                                                "GROUP BY pipeline, state"));
  std::vector<PipelineStateCount> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    PipelineStateCount c;
    c.pipeline = s.ColumnText(0);
    ASSIGN_OR_RETURN(c.state, ParseBatchState(s.ColumnText(1)));
    c.batches = s.ColumnInt64(2);
    out.push_back(std::move(c));
  }
  // Byte order here, whatever the database's collation.
  std::sort(out.begin(), out.end(), [](const PipelineStateCount& a, const PipelineStateCount& b) {
    if (a.pipeline != b.pipeline) return a.pipeline < b.pipeline;
    return BatchStateName(a.state) < BatchStateName(b.state);
  });
  return out;
}

Result<std::vector<std::pair<std::string, BatchStats>>> SqlCatalog::SumBatchStatsByPipeline() {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(SqlStatement s,
                   db_->Prepare("SELECT pipeline, SUM(rows_read), SUM(rows_written), "
                                "SUM(rows_quarantined), SUM(rows_skipped), SUM(duplicates_removed) "
                                "FROM batches GROUP BY pipeline"));
  std::vector<std::pair<std::string, BatchStats>> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    BatchStats b;
    b.rows_read = s.ColumnInt64(1);
    b.rows_written = s.ColumnInt64(2);
    b.rows_quarantined = s.ColumnInt64(3);
    b.rows_skipped = s.ColumnInt64(4);
    b.duplicates_removed = s.ColumnInt64(5);
    out.emplace_back(s.ColumnText(0), b);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace sluice
