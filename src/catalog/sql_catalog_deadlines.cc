// SqlCatalog: deadlines and freshness (architecture 8.3).
//
// A pipeline's deadline and expected arrival interval live in pipeline_slas,
// written by the server from the active specs. A batch takes its deadline
// (registration time + the pipeline's deadline) when it is registered, and
// keeps it: a later change of the spec applies to later batches. Each batch
// with a deadline is settled once: met (missed_us = -1) when it committed (or
// was quarantined) by its deadline, missed (missed_us = when it was noticed)
// otherwise. Marks are compare-and-set updates that return the rows they
// changed, so with several servers on one catalog each alert is raised once.
#include <string>
#include <vector>

#include "catalog/internal/sql_catalog_impl.h"

namespace sluice {

namespace {

// Batch states in which a batch's deadline is met when it enters them.
constexpr const char* kDoneStates = "('committed', 'quarantined')";
// States that end processing without meeting the deadline (or before it).
constexpr const char* kOpenStates = "('landed', 'queued', 'processing', 'committing')";

}  // namespace

Status SqlCatalog::SetPipelineSla(const PipelineSla& sla) {
  MutexLock lock(&mu_);
  return db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    ASSIGN_OR_RETURN(SqlStatement s,
                     db_->Prepare("INSERT INTO pipeline_slas (pipeline, deadline_us, "
                                  "expect_every_us) VALUES (?1, ?2, ?3) ON CONFLICT (pipeline) DO "
                                  "UPDATE SET deadline_us = excluded.deadline_us, "
                                  "expect_every_us = excluded.expect_every_us"));
    s.Bind(1, sla.pipeline).Bind(2, sla.deadline_us).Bind(3, sla.expect_every_us);
    return s.Exec();
  });
}

Result<std::vector<PipelineSla>> SqlCatalog::ListPipelineSlas() {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(SqlStatement s,
                   db_->Prepare("SELECT pipeline, deadline_us, expect_every_us, stale_since_us "
                                "FROM pipeline_slas ORDER BY pipeline"));
  std::vector<PipelineSla> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    PipelineSla p;
    p.pipeline = s.ColumnText(0);
    p.deadline_us = s.ColumnInt64(1);
    p.expect_every_us = s.ColumnInt64(2);
    p.stale_since_us = s.ColumnInt64(3);
    out.push_back(std::move(p));
  }
  return out;
}

Result<std::vector<BatchInfo>> SqlCatalog::OpenDeadlineBatches(int64_t limit) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(SqlStatement s,
                   db_->Prepare(std::string("SELECT ") + kBatchColumns +
                                " FROM batches WHERE deadline_us > 0 AND missed_us = 0 AND state "
                                "IN " +
                                kOpenStates + " ORDER BY deadline_us, id LIMIT ?1"));
  s.Bind(1, limit);
  std::vector<BatchInfo> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    ASSIGN_OR_RETURN(BatchInfo b, ReadBatchRow(s));
    out.push_back(std::move(b));
  }
  return out;
}

Result<std::vector<int64_t>> SqlCatalog::MarkAtRisk(const std::vector<int64_t>& batch_ids) {
  MutexLock lock(&mu_);
  std::vector<int64_t> marked;
  RETURN_IF_ERROR(db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    marked.clear();
    const int64_t now = Now();
    ASSIGN_OR_RETURN(SqlStatement s,
                     db_->Prepare("UPDATE batches SET at_risk_us = ?2 WHERE id = ?1 AND "
                                  "at_risk_us = 0 AND missed_us = 0 AND deadline_us > 0"));
    for (int64_t id : batch_ids) {
      s.Reset();
      s.Bind(1, id).Bind(2, now);
      RETURN_IF_ERROR(s.Exec());
      if (db_->Changes() > 0) marked.push_back(id);
    }
    return Status::OK();
  }));
  return marked;
}

Result<std::vector<BatchInfo>> SqlCatalog::SettleDeadlines() {
  MutexLock lock(&mu_);
  std::vector<BatchInfo> missed;
  RETURN_IF_ERROR(db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    missed.clear();
    const int64_t now = Now();
    // Met: done by the deadline (updated_us is when it entered that state).
    ASSIGN_OR_RETURN(SqlStatement met,
                     db_->Prepare(std::string("UPDATE batches SET missed_us = -1 WHERE "
                                              "deadline_us > 0 AND missed_us = 0 AND state IN ") +
                                  kDoneStates + " AND updated_us <= deadline_us"));
    RETURN_IF_ERROR(met.Exec());
    // Missed: done after it, or not done and past it (failed included).
    ASSIGN_OR_RETURN(
        SqlStatement miss,
        db_->Prepare(std::string("UPDATE batches SET missed_us = ?1 WHERE deadline_us > 0 AND "
                                 "missed_us = 0 AND ((state IN ") +
                     kDoneStates + " AND updated_us > deadline_us) OR (state NOT IN " +
                     kDoneStates + " AND deadline_us < ?1)) RETURNING id"));
    miss.Bind(1, now);
    std::vector<int64_t> ids;
    while (true) {
      ASSIGN_OR_RETURN(bool row, miss.Step());
      if (!row) break;
      ids.push_back(miss.ColumnInt64(0));
    }
    for (int64_t id : ids) {
      ASSIGN_OR_RETURN(BatchInfo b, LoadBatch(id));
      missed.push_back(std::move(b));
    }
    return Status::OK();
  }));
  return missed;
}

Result<Throughput> SqlCatalog::RecentThroughput(const std::string& pipeline, int64_t last_n) {
  MutexLock lock(&mu_);
  // The latest committed batches of the pipeline (the batches_arrivals index
  // finds them newest first).
  ASSIGN_OR_RETURN(SqlStatement s,
                   db_->Prepare("SELECT COUNT(*), COALESCE(SUM(size_bytes), 0), "
                                "COALESCE(SUM(seconds), 0) FROM (SELECT size_bytes, seconds FROM "
                                "batches WHERE pipeline = ?1 AND state = 'committed' AND seconds > "
                                "0 ORDER BY created_us DESC LIMIT ?2) recent"));
  s.Bind(1, pipeline).Bind(2, last_n);
  ASSIGN_OR_RETURN(bool row, s.Step());
  Throughput t;
  if (row) {
    t.batches = s.ColumnInt64(0);
    t.bytes = s.ColumnInt64(1);
    t.seconds = s.ColumnDouble(2);
  }
  return t;
}

Result<int64_t> SqlCatalog::LastArrival(const std::string& pipeline) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(SqlStatement s, db_->Prepare("SELECT COALESCE(MAX(created_us), 0) FROM "
                                                "batches WHERE pipeline = ?1"));
  s.Bind(1, pipeline);
  ASSIGN_OR_RETURN(bool row, s.Step());
  return row ? s.ColumnInt64(0) : int64_t{0};
}

Result<bool> SqlCatalog::RaiseStale(const std::string& pipeline, int64_t last_arrival_us) {
  MutexLock lock(&mu_);
  bool raised = false;
  RETURN_IF_ERROR(db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    ASSIGN_OR_RETURN(SqlStatement s,
                     db_->Prepare("UPDATE pipeline_slas SET stale_for_us = ?2, stale_since_us = "
                                  "?3 WHERE pipeline = ?1 AND stale_for_us <> ?2"));
    s.Bind(1, pipeline).Bind(2, last_arrival_us).Bind(3, Now());
    RETURN_IF_ERROR(s.Exec());
    raised = db_->Changes() > 0;
    return Status::OK();
  }));
  return raised;
}

Status SqlCatalog::ClearStale(const std::string& pipeline) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(SqlStatement s,
                   db_->Prepare("UPDATE pipeline_slas SET stale_since_us = 0 WHERE pipeline = ?1 "
                                "AND stale_since_us <> 0"));
  s.Bind(1, pipeline);
  return s.Exec();
}

Result<std::vector<DeadlineCounts>> SqlCatalog::CountDeadlines(int64_t missed_since_us) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(
      SqlStatement s,
      db_->Prepare(std::string("SELECT pipeline, SUM(CASE WHEN at_risk_us > 0 AND missed_us = 0 "
                               "AND state IN ") +
                   kOpenStates +
                   " THEN 1 ELSE 0 END), SUM(CASE WHEN missed_us >= ?1 THEN 1 ELSE 0 END) FROM "
                   "batches WHERE deadline_us > 0 AND (missed_us = 0 OR missed_us >= ?1) "
                   "GROUP BY pipeline ORDER BY pipeline"));
  s.Bind(1, missed_since_us);
  std::vector<DeadlineCounts> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    DeadlineCounts c;
    c.pipeline = s.ColumnText(0);
    c.at_risk = s.ColumnInt64(1);
    c.missed = s.ColumnInt64(2);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace sluice
