// SqlCatalog: fenced processing attempts (StartAttempt, CheckAttempt,
// MarkCommitting, FailAttempt). The rules are the Catalog contract's
// ("Fencing" in catalog.h); each call is one BEGIN IMMEDIATE transaction, so
// the check and the write it guards cannot be separated by another writer.
#include <string>

#include "catalog/internal/sql_catalog_impl.h"

namespace sluice {

Result<BatchInfo> SqlCatalog::LoadFenced(const AttemptToken& token, const char* what) {
  ASSIGN_OR_RETURN(BatchInfo b, LoadBatch(token.batch_id));
  const bool live = b.state == BatchState::kProcessing || b.state == BatchState::kCommitting;
  if (b.attempts != token.attempt || !live) {
    std::string now = b.attempts != token.attempt
                          ? "attempt " + std::to_string(b.attempts) + " has started since"
                          : "the batch is " + std::string(BatchStateName(b.state));
    return Status::Aborted(std::string(what) + " of " + BatchName(b.id) + " by attempt " +
                           std::to_string(token.attempt) + " refused: " + now);
  }
  return b;
}

Result<StartAttemptResult> SqlCatalog::StartAttempt(const StartAttemptRequest& req) {
  MutexLock lock(&mu_);
  StartAttemptResult out;
  RETURN_IF_ERROR(db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    const int64_t now = Now();
    ASSIGN_OR_RETURN(BatchInfo b, LoadBatch(req.batch_id));
    out.batch = b;
    // Terminal, or failed for good (only a replay brings it back).
    if (IsTerminal(b.state) || b.state == BatchState::kFailed) {
      out.outcome = StartAttemptResult::Outcome::kFinished;
      return Status::OK();
    }
    if (req.lease_expires_us != 0 && now >= req.lease_expires_us) {
      return Status::Aborted("attempt at " + BatchName(b.id) +
                             " refused: the task's lease has already expired");
    }
    if (b.state == BatchState::kQueued && b.next_attempt_us > now) {
      out.outcome = StartAttemptResult::Outcome::kNotDue;
      return Status::OK();
    }
    std::string last_error = b.last_error;
    std::string last_class = b.last_error_class;
    if (b.state == BatchState::kProcessing || b.state == BatchState::kCommitting) {
      // The previous attempt never reported back: its process died (kill -9,
      // out of memory, a crash in a decoder) or it lost its lease. That is the
      // last thing known about the batch, and it counts as a try, so a batch
      // that kills every process that touches it stops being retried.
      last_error = "attempt " + std::to_string(b.attempts) + " did not finish (" +
                   std::string(BatchStateName(b.state)) +
                   " when its process died or lost its lease)";
      last_class = std::string(ErrorClassName(ErrorClass::kTransient));
    }
    if (req.max_attempts > 0 && b.tries >= req.max_attempts) {
      std::string reason = "poison batch: gave up after " + std::to_string(b.tries) +
                           " attempt(s) (max_attempts " + std::to_string(req.max_attempts) +
                           "); last error: " + (last_error.empty() ? "unknown" : last_error);
      ASSIGN_OR_RETURN(SqlStatement up,
                       db_->Prepare("UPDATE batches SET state = ?2, reason = ?3, last_error = ?4, "
                                    "last_error_class = ?5, next_attempt_us = 0, updated_us = ?6 "
                                    "WHERE id = ?1"));
      up.Bind(1, b.id).Bind(2, BatchStateName(BatchState::kFailed)).Bind(3, reason);
      up.Bind(4, last_error).Bind(5, ErrorClassName(ErrorClass::kPermanent)).Bind(6, now);
      RETURN_IF_ERROR(up.Exec());
      RETURN_IF_ERROR(AppendEvent(b.id, BatchState::kFailed, reason, now));
      out.outcome = StartAttemptResult::Outcome::kPoisoned;
      ASSIGN_OR_RETURN(out.batch, LoadBatch(b.id));
      return Status::OK();
    }
    ASSIGN_OR_RETURN(SqlStatement up,
                     db_->Prepare("UPDATE batches SET state = ?2, reason = '', attempts = attempts "
                                  "+ 1, tries = tries + 1, next_attempt_us = 0, last_error = ?3, "
                                  "last_error_class = ?4, updated_us = ?5 WHERE id = ?1"));
    up.Bind(1, b.id).Bind(2, BatchStateName(BatchState::kProcessing)).Bind(3, last_error);
    up.Bind(4, last_class).Bind(5, now);
    RETURN_IF_ERROR(up.Exec());
    const std::string note = "attempt " + std::to_string(b.attempts + 1) +
                             (b.state == BatchState::kQueued || b.state == BatchState::kLanded
                                  ? std::string()
                                  : " (" + last_error + ")");
    RETURN_IF_ERROR(AppendEvent(b.id, BatchState::kProcessing, note, now));
    ASSIGN_OR_RETURN(out.batch, LoadBatch(b.id));
    out.outcome = StartAttemptResult::Outcome::kStarted;
    out.token = AttemptToken{b.id, out.batch.attempts};
    return Status::OK();
  }));
  return out;
}

Status SqlCatalog::CheckAttempt(const AttemptToken& token) {
  MutexLock lock(&mu_);
  return db_->ReadTransaction([&]() -> Status {
    mu_.AssertHeld();
    return LoadFenced(token, "work").status();
  });
}

Status SqlCatalog::MarkCommitting(const AttemptToken& token) {
  MutexLock lock(&mu_);
  return db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    ASSIGN_OR_RETURN(BatchInfo b, LoadFenced(token, "committing"));
    if (b.state != BatchState::kProcessing) {
      return Status::FailedPrecondition(BatchName(b.id) + " is already committing");
    }
    const int64_t now = Now();
    ASSIGN_OR_RETURN(SqlStatement up,
                     db_->Prepare("UPDATE batches SET state = ?2, updated_us = ?3 WHERE id = ?1"));
    up.Bind(1, b.id).Bind(2, BatchStateName(BatchState::kCommitting)).Bind(3, now);
    RETURN_IF_ERROR(up.Exec());
    return AppendEvent(b.id, BatchState::kCommitting, "", now);
  });
}

Status SqlCatalog::FailAttempt(const AttemptToken& token, const AttemptFailure& failure) {
  if (failure.error_class == ErrorClass::kFenced) {
    return Status::InvalidArgument("FailAttempt: a fenced attempt must not write the batch");
  }
  MutexLock lock(&mu_);
  return db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    ASSIGN_OR_RETURN(BatchInfo b, LoadFenced(token, "failing"));
    const int64_t now = Now();
    const bool retry = failure.error_class == ErrorClass::kTransient;
    const BatchState to = retry ? BatchState::kQueued : BatchState::kFailed;
    ASSIGN_OR_RETURN(SqlStatement up,
                     db_->Prepare("UPDATE batches SET state = ?2, reason = ?3, last_error = ?4, "
                                  "last_error_class = ?5, next_attempt_us = ?6, updated_us = ?7 "
                                  "WHERE id = ?1"));
    up.Bind(1, b.id).Bind(2, BatchStateName(to)).Bind(3, retry ? "" : failure.error);
    up.Bind(4, failure.error).Bind(5, ErrorClassName(failure.error_class));
    up.Bind(6, retry ? failure.next_attempt_us : 0).Bind(7, now);
    RETURN_IF_ERROR(up.Exec());
    std::string note = retry ? "attempt " + std::to_string(token.attempt) +
                                   " failed (transient), retry due: " + failure.error
                             : failure.error;
    return AppendEvent(b.id, to, note, now);
  });
}

}  // namespace sluice
