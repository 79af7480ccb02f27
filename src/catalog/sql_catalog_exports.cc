// SqlCatalog: exports (POST /v1/exports), run by export tasks.
//
// A run is fenced by its attempt number, as batches are: StartExport counts
// a new run, and only the latest run may finish or fail the export, so a run
// whose task was taken over (its lease expired) cannot overwrite the result
// of the run that replaced it.
#include <string>
#include <vector>

#include "catalog/internal/sql_catalog_impl.h"

namespace sluice {

namespace {

constexpr const char* kExportColumns =
    "id, table_name, columns, where_text, snapshot_id, format, row_limit, owner, "
    "idempotency_key, state, attempts, error, result_key, row_count, byte_count, sha256, "
    "created_us, started_us, finished_us";

Result<ExportJob> ReadExportRow(SqlStatement& s) {
  ExportJob j;
  j.id = s.ColumnInt64(0);
  j.request.table = s.ColumnText(1);
  j.request.columns = s.ColumnText(2);
  j.request.where = s.ColumnText(3);
  j.request.snapshot = s.ColumnInt64(4);
  j.request.format = s.ColumnText(5);
  j.request.limit = s.ColumnInt64(6);
  j.request.owner = s.ColumnText(7);
  j.request.idempotency_key = s.ColumnText(8);
  ASSIGN_OR_RETURN(j.state, ParseExportState(s.ColumnText(9)));
  j.attempts = s.ColumnInt(10);
  j.error = s.ColumnText(11);
  j.result_key = s.ColumnText(12);
  j.rows = s.ColumnInt64(13);
  j.bytes = s.ColumnInt64(14);
  j.sha256 = s.ColumnText(15);
  j.created_us = s.ColumnInt64(16);
  j.started_us = s.ColumnInt64(17);
  j.finished_us = s.ColumnInt64(18);
  return j;
}

// OK if run `attempt` of export `id` (as `now` loaded it) is the one
// running; kAborted if a later run started, the export ended or was deleted.
Status CheckLatestRun(const Result<ExportJob>& now, int64_t id, int attempt) {
  const std::string run = "export " + std::to_string(id) + ", run " + std::to_string(attempt);
  if (!now.ok()) {
    return now.status().code() == StatusCode::kNotFound
               ? Status::Aborted(run + ": the export was deleted")
               : now.status();
  }
  if (now->state == ExportState::kRunning && now->attempts == attempt) return Status::OK();
  return Status::Aborted(run + ": the export is " + std::string(ExportStateName(now->state)) +
                         " at run " + std::to_string(now->attempts));
}

}  // namespace

Result<ExportJob> SqlCatalog::LoadExport(int64_t id) {
  ASSIGN_OR_RETURN(SqlStatement s, db_->Prepare(std::string("SELECT ") + kExportColumns +
                                                " FROM exports WHERE id = ?1"));
  s.Bind(1, id);
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::NotFound("no export " + std::to_string(id));
  return ReadExportRow(s);
}

Result<Catalog::CreatedExport> SqlCatalog::CreateExport(const ExportRequest& r) {
  MutexLock lock(&mu_);
  CreatedExport out;
  RETURN_IF_ERROR(db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    if (!r.idempotency_key.empty()) {
      ASSIGN_OR_RETURN(SqlStatement s,
                       db_->Prepare(std::string("SELECT ") + kExportColumns +
                                    " FROM exports WHERE owner = ?1 AND idempotency_key = ?2"));
      s.Bind(1, r.owner).Bind(2, r.idempotency_key);
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (row) {
        ASSIGN_OR_RETURN(out.job, ReadExportRow(s));
        return Status::OK();
      }
    }
    ASSIGN_OR_RETURN(
        SqlStatement ins,
        db_->Prepare("INSERT INTO exports (table_name, columns, where_text, snapshot_id, format, "
                     "row_limit, owner, idempotency_key, state, created_us) VALUES (?1, ?2, ?3, "
                     "?4, ?5, ?6, ?7, ?8, ?9, ?10) RETURNING id"));
    ins.Bind(1, r.table).Bind(2, r.columns).Bind(3, r.where).Bind(4, r.snapshot);
    ins.Bind(5, r.format).Bind(6, r.limit).Bind(7, r.owner).Bind(8, r.idempotency_key);
    ins.Bind(9, ExportStateName(ExportState::kQueued)).Bind(10, Now());
    ASSIGN_OR_RETURN(bool row, ins.Step());
    if (!row) return Status::Internal("insert into exports returned no id");
    const int64_t id = ins.ColumnInt64(0);
    RETURN_IF_ERROR(ins.Exec());
    ASSIGN_OR_RETURN(out.job, LoadExport(id));
    out.created = true;
    return Status::OK();
  }));
  return out;
}

Result<ExportJob> SqlCatalog::GetExport(int64_t id) {
  MutexLock lock(&mu_);
  return LoadExport(id);
}

Result<std::vector<ExportJob>> SqlCatalog::ListExports(const std::string& owner, int64_t before_id,
                                                       int64_t limit) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(SqlStatement s,
                   db_->Prepare(std::string("SELECT ") + kExportColumns +
                                " FROM exports WHERE (?1 = '' OR owner = ?1) AND (?2 = 0 OR id < "
                                "?2) ORDER BY id DESC LIMIT ?3"));
  s.Bind(1, owner).Bind(2, before_id).Bind(3, limit);
  std::vector<ExportJob> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    ASSIGN_OR_RETURN(ExportJob j, ReadExportRow(s));
    out.push_back(std::move(j));
  }
  return out;
}

Result<ExportJob> SqlCatalog::StartExport(int64_t id) {
  MutexLock lock(&mu_);
  ExportJob out;
  RETURN_IF_ERROR(db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    ASSIGN_OR_RETURN(out, LoadExport(id));
    if (out.state == ExportState::kDone || out.state == ExportState::kFailed) {
      return Status::OK();
    }
    ASSIGN_OR_RETURN(SqlStatement s,
                     db_->Prepare("UPDATE exports SET state = ?2, attempts = attempts + 1, "
                                  "started_us = ?3 WHERE id = ?1"));
    s.Bind(1, id).Bind(2, ExportStateName(ExportState::kRunning)).Bind(3, Now());
    RETURN_IF_ERROR(s.Exec());
    ASSIGN_OR_RETURN(out, LoadExport(id));
    return Status::OK();
  }));
  return out;
}

Status SqlCatalog::FinishExport(int64_t id, int attempt, const std::string& result_key,
                                int64_t rows, int64_t bytes, const std::string& sha256) {
  MutexLock lock(&mu_);
  return db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    RETURN_IF_ERROR(CheckLatestRun(LoadExport(id), id, attempt));
    ASSIGN_OR_RETURN(SqlStatement s,
                     db_->Prepare("UPDATE exports SET state = ?2, error = '', result_key = ?3, "
                                  "row_count = ?4, byte_count = ?5, sha256 = ?6, finished_us = ?7 "
                                  "WHERE id = ?1"));
    s.Bind(1, id).Bind(2, ExportStateName(ExportState::kDone)).Bind(3, result_key);
    s.Bind(4, rows).Bind(5, bytes).Bind(6, sha256).Bind(7, Now());
    return s.Exec();
  });
}

Status SqlCatalog::FailExport(int64_t id, int attempt, const std::string& error, bool final) {
  MutexLock lock(&mu_);
  return db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    RETURN_IF_ERROR(CheckLatestRun(LoadExport(id), id, attempt));
    ASSIGN_OR_RETURN(SqlStatement s,
                     db_->Prepare("UPDATE exports SET state = ?2, error = ?3, finished_us = ?4 "
                                  "WHERE id = ?1"));
    s.Bind(1, id).Bind(2, ExportStateName(final ? ExportState::kFailed : ExportState::kRunning));
    s.Bind(3, error).Bind(4, final ? Now() : int64_t{0});
    return s.Exec();
  });
}

Status SqlCatalog::DeleteExport(int64_t id) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(SqlStatement s, db_->Prepare("DELETE FROM exports WHERE id = ?1"));
  s.Bind(1, id);
  RETURN_IF_ERROR(s.Exec());
  if (db_->Changes() == 0) return Status::NotFound("no export " + std::to_string(id));
  return Status::OK();
}

Result<std::vector<int64_t>> SqlCatalog::UnfinishedExports() {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(SqlStatement s,
                   db_->Prepare("SELECT id FROM exports WHERE state IN ('queued', 'running') "
                                "ORDER BY id"));
  std::vector<int64_t> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(s.ColumnInt64(0));
  }
  return out;
}

}  // namespace sluice
