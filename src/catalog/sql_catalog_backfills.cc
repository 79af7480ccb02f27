// SqlCatalog: resumable backfills (`sluice backfill`), one per pipeline.
#include <string>

#include "catalog/internal/sql_catalog_impl.h"

namespace sluice {

Result<Backfill> SqlCatalog::StartBackfill(const std::string& pipeline, int64_t since_us,
                                           int64_t version_id) {
  MutexLock lock(&mu_);
  Backfill out;
  RETURN_IF_ERROR(db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    ASSIGN_OR_RETURN(SqlStatement s,
                     db_->Prepare("SELECT since_us, version_id, cursor_batch_id, replayed, "
                                  "started_us, finished_us FROM backfills WHERE pipeline = ?1"));
    s.Bind(1, pipeline);
    ASSIGN_OR_RETURN(bool found, s.Step());
    out.pipeline = pipeline;
    if (found && s.ColumnInt64(5) == 0) {
      out.since_us = s.ColumnInt64(0);
      out.version_id = s.ColumnInt64(1);
      out.cursor_batch_id = s.ColumnInt64(2);
      out.replayed = s.ColumnInt64(3);
      out.started_us = s.ColumnInt64(4);
      out.resumed = true;
      return Status::OK();
    }
    out.since_us = since_us;
    out.version_id = version_id;
    out.started_us = Now();
    ASSIGN_OR_RETURN(SqlStatement drop, db_->Prepare("DELETE FROM backfills WHERE pipeline = ?1"));
    drop.Bind(1, pipeline);
    RETURN_IF_ERROR(drop.Exec());
    ASSIGN_OR_RETURN(SqlStatement ins,
                     db_->Prepare("INSERT INTO backfills (pipeline, since_us, version_id, "
                                  "started_us) VALUES (?1, ?2, ?3, ?4)"));
    ins.Bind(1, pipeline).Bind(2, since_us).Bind(3, version_id).Bind(4, out.started_us);
    return ins.Exec();
  }));
  return out;
}

Status SqlCatalog::AdvanceBackfill(const std::string& pipeline, int64_t cursor_batch_id,
                                   int64_t replayed) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(SqlStatement s,
                   db_->Prepare("UPDATE backfills SET cursor_batch_id = ?2, replayed = ?3 WHERE "
                                "pipeline = ?1 AND finished_us = 0"));
  s.Bind(1, pipeline).Bind(2, cursor_batch_id).Bind(3, replayed);
  RETURN_IF_ERROR(s.Exec());
  if (db_->Changes() == 0) {
    return Status::NotFound("no backfill of pipeline '" + pipeline + "' is running");
  }
  return Status::OK();
}

Status SqlCatalog::FinishBackfill(const std::string& pipeline) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(SqlStatement s,
                   db_->Prepare("UPDATE backfills SET finished_us = ?2 WHERE pipeline = ?1 AND "
                                "finished_us = 0"));
  s.Bind(1, pipeline).Bind(2, Now());
  return s.Exec();
}

}  // namespace sluice
