// Helpers for the catalog tests: a temporary directory, a manual clock, and
// MoveBatch, which drives a batch through the state machine with the public
// (fenced) API as a worker would.
#pragma once

#include <stdlib.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "../sql/test_database.h"
#include "catalog/catalog.h"
#include "catalog/sql_catalog.h"

namespace sluice::testing {

class CatalogTempDir {
 public:
  CatalogTempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "sluice_cat_XXXXXX").string();
    char* made = mkdtemp(tmpl.data());
    path_ = made != nullptr ? made : "";
  }
  ~CatalogTempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  CatalogTempDir(const CatalogTempDir&) = delete;
  CatalogTempDir& operator=(const CatalogTempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A catalog on `db` (either backend), with `now_us` as its clock (NowMicros()
// when empty).
inline Result<std::unique_ptr<Catalog>> OpenCatalogOn(const TestDatabase& db,
                                                      std::function<int64_t()> now_us) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqlDb> conn, db.Open());
  return OpenSqlCatalog(std::move(conn), std::move(now_us));
}

// A clock that moves one microsecond per reading, so every timestamp is
// distinct and ordered; Set() jumps.
class ManualClock {
 public:
  int64_t Now() { return now_.fetch_add(1); }
  void Set(int64_t t) { now_.store(t); }
  void Advance(int64_t d) { now_.fetch_add(d); }

 private:
  std::atomic<int64_t> now_{1'700'000'000'000'000};
};

// Moves batch `id` to `to` the way the engine does: TransitionBatch for
// registration moves, StartAttempt for processing (a new attempt, also from
// processing or committing), MarkCommitting, FailAttempt (permanent, with
// `reason`) for failed from processing/committing, and a CommitBatch of the
// latest attempt for quarantined (marking it committing first).
inline Status MoveBatch(Catalog& cat, int64_t id, BatchState to, const std::string& reason = "") {
  ASSIGN_OR_RETURN(BatchInfo b, cat.GetBatch(id));
  const AttemptToken token{id, b.attempts};
  const bool in_attempt = b.state == BatchState::kProcessing || b.state == BatchState::kCommitting;
  switch (to) {
    case BatchState::kProcessing: {
      ASSIGN_OR_RETURN(StartAttemptResult r, cat.StartAttempt(StartAttemptRequest{id, 0, 0}));
      if (r.outcome != StartAttemptResult::Outcome::kStarted) {
        return Status::FailedPrecondition("batch " + std::to_string(id) + " did not start");
      }
      return Status::OK();
    }
    case BatchState::kCommitting:
      return cat.MarkCommitting(token);
    case BatchState::kFailed:
      if (!in_attempt) return cat.TransitionBatch(id, to, reason);
      return cat.FailAttempt(token, AttemptFailure{ErrorClass::kPermanent, reason, 0});
    case BatchState::kQuarantined: {
      if (b.state == BatchState::kProcessing) RETURN_IF_ERROR(cat.MarkCommitting(token));
      CommitRequest req;
      req.batch_id = id;
      req.attempt = b.attempts;
      req.final_state = BatchState::kQuarantined;
      req.reason = reason;
      return cat.CommitBatch(req);
    }
    default:
      return cat.TransitionBatch(id, to, reason);
  }
}

// Registers a batch of `pipeline` under a key of its own ("k<n>", content
// "shak<n>") of `bytes`; its id, or 0 after reporting the failure.
inline int64_t RegisterNewBatch(Catalog& cat, const std::string& pipeline, int64_t bytes = 1000) {
  static std::atomic<int> keys{0};
  const std::string key = "k" + std::to_string(++keys);
  RegisterBatchRequest req{pipeline, key, "archive/" + key, "sha" + key, bytes, ""};
  auto r = cat.RegisterBatch(req);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->batch_id : 0;
}

// A landed batch queued, processed and committed by its next attempt with
// `stats` (rows, seconds), as a worker would.
inline Status CommitLandedBatch(Catalog& cat, int64_t id, const BatchStats& stats) {
  ASSIGN_OR_RETURN(std::vector<int64_t> queued, cat.QueueLandedBatches({id}));
  (void)queued;
  RETURN_IF_ERROR(MoveBatch(cat, id, BatchState::kProcessing));
  ASSIGN_OR_RETURN(BatchInfo b, cat.GetBatch(id));
  RETURN_IF_ERROR(cat.MarkCommitting(AttemptToken{id, b.attempts}));
  CommitRequest req;
  req.batch_id = id;
  req.attempt = b.attempts;
  req.stats = stats;
  return cat.CommitBatch(req);
}

inline std::vector<int64_t> BatchIds(const std::vector<BatchInfo>& batches) {
  std::vector<int64_t> out;
  for (const BatchInfo& b : batches) out.push_back(b.id);
  return out;
}

}  // namespace sluice::testing
