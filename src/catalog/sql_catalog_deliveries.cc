// SqlCatalog: deliveries of database outputs (architecture 6.2). A commit
// records them pending (RecordDeliveries, inside CommitBatch's transaction);
// loaders move them through loading to delivered or failed.
#include <string>
#include <vector>

#include "catalog/internal/sql_catalog_impl.h"

namespace sluice {

namespace {

constexpr const char* kDeliveryColumns =
    "batch_id, output, target, object_key, attempt, num_rows, num_bytes, state, tries, "
    "last_error, created_us, updated_us, output_args, schema_json, pipeline_version_id";
// Read with the batch's pipeline: FROM kDeliveriesWithPipeline.
constexpr const char* kDeliveryRowColumns =
    "d.batch_id, d.output, d.target, d.object_key, d.attempt, d.num_rows, d.num_bytes, d.state, "
    "d.tries, d.last_error, d.created_us, d.updated_us, d.output_args, d.schema_json, "
    "d.pipeline_version_id, b.pipeline";
constexpr const char* kDeliveriesWithPipeline =
    " FROM deliveries d JOIN batches b ON b.id = d.batch_id ";

Result<Delivery> ReadDeliveryRow(const SqlStatement& s) {
  Delivery d;
  d.batch_id = s.ColumnInt64(0);
  d.output = s.ColumnText(1);
  d.target = s.ColumnText(2);
  d.key = s.ColumnText(3);
  d.attempt = static_cast<int>(s.ColumnInt64(4));
  d.rows = s.ColumnInt64(5);
  d.bytes = s.ColumnInt64(6);
  ASSIGN_OR_RETURN(d.state, ParseDeliveryState(s.ColumnText(7)));
  d.tries = static_cast<int>(s.ColumnInt64(8));
  d.last_error = s.ColumnText(9);
  d.created_us = s.ColumnInt64(10);
  d.updated_us = s.ColumnInt64(11);
  d.args = s.ColumnText(12);
  ASSIGN_OR_RETURN(d.schema, Schema::FromJson(s.ColumnText(13)));
  d.pipeline_version_id = s.ColumnInt64(14);
  d.pipeline = s.ColumnText(15);
  return d;
}

// Every row `s` returns (selected with kDeliveryRowColumns).
Result<std::vector<Delivery>> ReadDeliveryRows(SqlStatement& s) {
  std::vector<Delivery> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    ASSIGN_OR_RETURN(Delivery d, ReadDeliveryRow(s));
    out.push_back(std::move(d));
  }
  return out;
}

std::string DeliveryName(int64_t batch_id, const std::string& output) {
  return "delivery of batch " + std::to_string(batch_id) + " to " + output;
}

}  // namespace

Status SqlCatalog::RecordDeliveries(const BatchInfo& batch, int attempt,
                                    const std::vector<DeliveryRequest>& deliveries, int64_t now) {
  // A replay's commit: the batch's earlier deliveries give way to this
  // attempt's (an output it no longer writes keeps nothing to load).
  ASSIGN_OR_RETURN(SqlStatement drop, db_->Prepare("DELETE FROM deliveries WHERE batch_id = ?1"));
  drop.Bind(1, batch.id);
  RETURN_IF_ERROR(drop.Exec());
  ASSIGN_OR_RETURN(
      SqlStatement ins,
      db_->Prepare(std::string("INSERT INTO deliveries (") + kDeliveryColumns +
                   ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 0, '', ?9, ?9, ?10, ?11, ?12)"));
  for (const DeliveryRequest& d : deliveries) {
    if (d.output.empty() || d.key.empty()) {
      return Status::InvalidArgument("commit of batch " + std::to_string(batch.id) +
                                     ": a delivery without an output or a staged object");
    }
    ins.Reset();
    ins.Bind(1, batch.id).Bind(2, d.output).Bind(3, d.target).Bind(4, d.key).Bind(5, attempt);
    ins.Bind(6, d.rows).Bind(7, d.bytes).Bind(8, DeliveryStateName(DeliveryState::kPending));
    ins.Bind(9, now).Bind(10, d.args).Bind(11, d.schema.ToJson()).Bind(12, d.pipeline_version_id);
    Status st = ins.Exec();
    if (st.code() == StatusCode::kAlreadyExists) {
      return Status::InvalidArgument("commit of batch " + std::to_string(batch.id) + ": output '" +
                                     d.output + "' is delivered twice");
    }
    RETURN_IF_ERROR(st);
  }
  return Status::OK();
}

Result<std::vector<Delivery>> SqlCatalog::BatchDeliveries(int64_t batch_id) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(SqlStatement s, db_->Prepare(std::string("SELECT ") + kDeliveryRowColumns +
                                                kDeliveriesWithPipeline +
                                                "WHERE d.batch_id = ?1 ORDER BY d.output"));
  s.Bind(1, batch_id);
  return ReadDeliveryRows(s);
}

Result<Delivery> SqlCatalog::StartDelivery(int64_t batch_id, const std::string& output) {
  MutexLock lock(&mu_);
  Delivery out;
  RETURN_IF_ERROR(db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    ASSIGN_OR_RETURN(SqlStatement s, db_->Prepare(std::string("SELECT ") + kDeliveryRowColumns +
                                                  kDeliveriesWithPipeline +
                                                  "WHERE d.batch_id = ?1 AND d.output = ?2"));
    s.Bind(1, batch_id).Bind(2, output);
    ASSIGN_OR_RETURN(bool found, s.Step());
    if (!found) return Status::NotFound("no " + DeliveryName(batch_id, output));
    ASSIGN_OR_RETURN(out, ReadDeliveryRow(s));
    if (out.state == DeliveryState::kDelivered) {
      return Status::FailedPrecondition(DeliveryName(batch_id, output) + " is delivered");
    }
    const int64_t now = Now();
    ASSIGN_OR_RETURN(SqlStatement up,
                     db_->Prepare("UPDATE deliveries SET state = ?3, tries = tries + 1, "
                                  "updated_us = ?4 WHERE batch_id = ?1 AND output = ?2"));
    up.Bind(1, batch_id).Bind(2, output).Bind(3, DeliveryStateName(DeliveryState::kLoading));
    up.Bind(4, now);
    RETURN_IF_ERROR(up.Exec());
    out.state = DeliveryState::kLoading;
    out.tries += 1;
    out.updated_us = now;
    return Status::OK();
  }));
  return out;
}

Status SqlCatalog::EndDelivery(int64_t batch_id, const std::string& output, int attempt,
                               DeliveryState to, const std::string& error) {
  if (to == DeliveryState::kLoading) {
    return Status::InvalidArgument(DeliveryName(batch_id, output) +
                                   ": a load ends delivered, failed or pending");
  }
  MutexLock lock(&mu_);
  return db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    ASSIGN_OR_RETURN(SqlStatement s,
                     db_->Prepare("SELECT attempt, state FROM deliveries WHERE batch_id = ?1 AND "
                                  "output = ?2"));
    s.Bind(1, batch_id).Bind(2, output);
    ASSIGN_OR_RETURN(bool found, s.Step());
    if (!found) return Status::NotFound("no " + DeliveryName(batch_id, output));
    if (s.ColumnInt64(0) != attempt) {
      return Status::Aborted(DeliveryName(batch_id, output) + ": attempt " +
                             std::to_string(s.ColumnInt64(0)) + "'s rows replaced those of " +
                             std::to_string(attempt) + " meanwhile");
    }
    // Two loaders of one delivery (a lease that lapsed mid-load): the one
    // that finished last must not undo the other's success.
    if (s.ColumnText(1) == DeliveryStateName(DeliveryState::kDelivered) &&
        to != DeliveryState::kDelivered) {
      return Status::Aborted(DeliveryName(batch_id, output) + " was delivered meanwhile");
    }
    ASSIGN_OR_RETURN(SqlStatement up,
                     db_->Prepare("UPDATE deliveries SET state = ?3, last_error = ?4, "
                                  "updated_us = ?5 WHERE batch_id = ?1 AND output = ?2"));
    up.Bind(1, batch_id).Bind(2, output).Bind(3, DeliveryStateName(to));
    up.Bind(4, to == DeliveryState::kDelivered ? std::string() : error).Bind(5, Now());
    return up.Exec();
  });
}

Result<std::vector<DeliveryBacklog>> SqlCatalog::DeliveryBacklogs() {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(
      SqlStatement s,
      db_->Prepare(
          "SELECT output, MAX(target), COUNT(*), "
          "SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), SUM(num_rows), "
          "SUM(num_bytes), MIN(CASE WHEN state = 'pending' THEN created_us END) "
          "FROM deliveries WHERE state IN ('pending', 'loading', 'failed') GROUP BY output "
          "ORDER BY output"));
  std::vector<DeliveryBacklog> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    DeliveryBacklog b;
    b.output = s.ColumnText(0);
    b.target = s.ColumnText(1);
    b.deliveries = s.ColumnInt64(2);
    b.failed = s.ColumnInt64(3);
    b.rows = s.ColumnInt64(4);
    b.bytes = s.ColumnInt64(5);
    b.oldest_pending_us = s.ColumnIsNull(6) ? 0 : s.ColumnInt64(6);
    out.push_back(std::move(b));
  }
  return out;
}

Result<std::vector<Delivery>> SqlCatalog::UnfinishedDeliveries(int64_t limit) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(
      SqlStatement s,
      db_->Prepare(std::string("SELECT ") + kDeliveryRowColumns + kDeliveriesWithPipeline +
                   "WHERE d.state IN ('pending', 'loading') ORDER BY d.created_us, "
                   "d.batch_id, d.output LIMIT ?1"));
  s.Bind(1, limit);
  return ReadDeliveryRows(s);
}

Status SqlCatalog::RetryDelivery(int64_t batch_id, const std::string& output) {
  MutexLock lock(&mu_);
  return db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    ASSIGN_OR_RETURN(SqlStatement s,
                     db_->Prepare("SELECT state FROM deliveries WHERE batch_id = ?1 AND "
                                  "output = ?2"));
    s.Bind(1, batch_id).Bind(2, output);
    ASSIGN_OR_RETURN(bool found, s.Step());
    if (!found) return Status::NotFound("no " + DeliveryName(batch_id, output));
    if (s.ColumnText(0) != DeliveryStateName(DeliveryState::kFailed)) {
      return Status::FailedPrecondition(DeliveryName(batch_id, output) + " is " + s.ColumnText(0) +
                                        ", not failed");
    }
    ASSIGN_OR_RETURN(SqlStatement up,
                     db_->Prepare("UPDATE deliveries SET state = ?3, tries = 0, updated_us = ?4 "
                                  "WHERE batch_id = ?1 AND output = ?2"));
    up.Bind(1, batch_id).Bind(2, output).Bind(3, DeliveryStateName(DeliveryState::kPending));
    up.Bind(4, Now());
    return up.Exec();
  });
}

}  // namespace sluice
