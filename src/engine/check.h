// `sluice check`: the catalog verified against the store.
//
// The catalog says which lake files each table's current snapshot holds, with
// their size and the SHA-256 recorded when they were written, and which
// archived input each batch was registered with. CheckProject compares that
// with what the store holds now:
//   missing     a current lake file is not in the store
//   truncated   its size differs from the recorded size
//   corrupt     its bytes no longer hash to the recorded SHA-256 (verify_contents)
//   unknown     an object under lake/ that no catalog entry names
//   archive     a batch's archived input is missing, or no longer has the
//               registered size / SHA-256 (a replay or repair of it is impossible)
//   lost        a publication recorded as lost (its batch is damaged)
//   damaged     a batch in state damaged
// With `repair`, every committed batch with a missing, truncated or corrupt
// file is marked damaged, and every damaged batch whose archive is intact is
// rebuilt: replayed on its pinned version (ReplayBatch removes its files in a
// new snapshot; the new attempt adds fresh ones), so readers see the old files
// or the new ones, never a mix. Sinks outside the lake that already hold the
// batch (their ledger says so) keep their rows.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/project.h"

namespace sluice {

struct CheckOptions {
  // Hash lake files and archives (reads everything); false compares sizes only.
  bool verify_contents = true;
  bool repair = false;
};

struct CheckProblem {
  std::string kind;  // missing, truncated, corrupt, unknown, archive, lost, damaged
  std::string key;   // object key, if any
  std::string table;
  int64_t batch_id = 0;
  std::string detail;
};

struct RepairOutcome {
  int64_t batch_id = 0;
  std::string state;  // the batch's state after the repair
  std::string note;
};

struct CheckReport {
  std::vector<CheckProblem> problems;
  std::vector<RepairOutcome> repairs;
  int64_t files_checked = 0;
  int64_t archives_checked = 0;
  int64_t bytes_hashed = 0;
};

Result<CheckReport> CheckProject(Project& project, const CheckOptions& options);

}  // namespace sluice
