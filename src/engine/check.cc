#include "engine/check.h"

#include <map>
#include <set>
#include <string>

#include "core/hash.h"
#include "engine/ingest.h"
#include "engine/processor.h"

namespace sluice {

namespace {

// SHA-256 of an object, counting the bytes read.
Result<std::string> HashObject(ObjectStore& store, const std::string& key, CheckReport& report) {
  ASSIGN_OR_RETURN(auto in, store.OpenRead(key));
  ASSIGN_OR_RETURN(std::string sha, Sha256Stream(*in));
  report.bytes_hashed += in->BytesConsumed();
  return sha;
}

// Checks one object against its recorded size and hash; adds a problem and
// returns false when it does not match.
Result<bool> CheckObject(ObjectStore& store, const std::string& key, int64_t size,
                         const std::string& sha256, const CheckOptions& options,
                         CheckProblem problem, CheckReport& report) {
  auto info = store.Stat(key);
  if (!info.ok()) {
    if (info.status().code() != StatusCode::kNotFound) return info.status();
    problem.kind = problem.kind.empty() ? "missing" : problem.kind;
    problem.detail = "not in the store" + (problem.detail.empty() ? "" : "; " + problem.detail);
    report.problems.push_back(std::move(problem));
    return false;
  }
  if (info->size != size) {
    problem.kind = problem.kind.empty() ? "truncated" : problem.kind;
    problem.detail = std::to_string(info->size) + " bytes, the catalog recorded " +
                     std::to_string(size) + (problem.detail.empty() ? "" : "; " + problem.detail);
    report.problems.push_back(std::move(problem));
    return false;
  }
  if (options.verify_contents && !sha256.empty()) {
    ASSIGN_OR_RETURN(std::string actual, HashObject(store, key, report));
    if (actual != sha256) {
      problem.kind = problem.kind.empty() ? "corrupt" : problem.kind;
      problem.detail = "SHA-256 " + actual + ", the catalog recorded " + sha256 +
                       (problem.detail.empty() ? "" : "; " + problem.detail);
      report.problems.push_back(std::move(problem));
      return false;
    }
  }
  return true;
}

}  // namespace

Result<CheckReport> CheckProject(Project& project, const CheckOptions& options) {
  ObjectStore& store = project.store();
  Catalog& catalog = project.catalog();
  CheckReport report;
  std::set<int64_t> broken;  // committed batches with a bad current lake file

  // Current lake files.
  ASSIGN_OR_RETURN(std::vector<TableInfo> tables, catalog.ListTables());
  for (const TableInfo& t : tables) {
    ASSIGN_OR_RETURN(std::vector<DataFile> files, catalog.ListFiles(t.name, 0));
    for (const DataFile& f : files) {
      ++report.files_checked;
      CheckProblem p;
      p.key = f.key;
      p.table = t.name;
      p.batch_id = f.batch_id;
      ASSIGN_OR_RETURN(bool ok, CheckObject(store, f.key, f.bytes, f.sha256, options, p, report));
      if (!ok) broken.insert(f.batch_id);
    }
  }

  // Objects under lake/ that no catalog entry names (of any snapshot).
  ASSIGN_OR_RETURN(std::vector<DataFile> all, catalog.ListAllFiles());
  std::set<std::string> known;
  for (const DataFile& f : all) known.insert(f.key);
  ASSIGN_OR_RETURN(std::vector<ObjectInfo> lake, store.List("lake/"));
  for (const ObjectInfo& o : lake) {
    if (known.count(o.key)) continue;
    report.problems.push_back({"unknown", o.key, "", 0,
                               "not in the catalog (" + std::to_string(o.size) +
                                   " bytes; not written by this catalog's commits)"});
  }

  // Archived inputs, and batches already known to be damaged.
  std::set<int64_t> bad_archive;
  std::map<int64_t, BatchInfo> damaged;
  // A page of batches at a time: a catalog may hold millions.
  int64_t before = 0;
  do {
    ASSIGN_OR_RETURN(BatchPage page, catalog.ListBatchPage(std::nullopt, "", before, 1000));
    before = page.next_before_id;
    for (const BatchInfo& b : page.batches) {
      if (b.state == BatchState::kDamaged) {
        damaged[b.id] = b;
        report.problems.push_back({"damaged", "", "", b.id, b.reason});
      }
      if (b.state == BatchState::kLanded || b.archive_key.empty()) continue;
      ++report.archives_checked;
      CheckProblem p;
      p.kind = "archive";
      p.key = b.archive_key;
      p.batch_id = b.id;
      p.detail = "the input of batch " + std::to_string(b.id) + " (" + b.object_key +
                 ") cannot be replayed";
      ASSIGN_OR_RETURN(
          bool ok, CheckObject(store, b.archive_key, b.size_bytes, b.sha256, options, p, report));
      if (!ok) bad_archive.insert(b.id);
    }
  } while (before != 0);

  if (!options.repair) return report;
  // A replay refuses a batch whose files are still to be published.
  RETURN_IF_ERROR(PublishPending(store, catalog));

  for (int64_t id : broken) {
    ASSIGN_OR_RETURN(BatchInfo b, catalog.GetBatch(id));
    if (b.state != BatchState::kCommitted && b.state != BatchState::kQuarantined) continue;
    RETURN_IF_ERROR(catalog.MarkDamaged(id, "sluice check: a lake file is missing or damaged"));
    ASSIGN_OR_RETURN(damaged[id], catalog.GetBatch(id));
  }
  std::map<std::string, std::set<int64_t>> by_pipeline;
  for (const auto& [id, b] : damaged) {
    if (bad_archive.count(id)) {
      report.repairs.push_back({id, "damaged", "not repaired: its archived input is damaged too"});
      continue;
    }
    RETURN_IF_ERROR(catalog.ReplayBatch(id, 0));
    TaskRequest task;
    task.batch_id = id;
    task.pipeline = b.pipeline;
    RETURN_IF_ERROR(project.queue().Enqueue(task));
    by_pipeline[b.pipeline].insert(id);
  }
  for (const auto& [pipeline, ids] : by_pipeline) {
    RETURN_IF_ERROR(ProcessUntilDone(project, pipeline, ids, nullptr));
    for (int64_t id : ids) {
      ASSIGN_OR_RETURN(BatchInfo after, catalog.GetBatch(id));
      report.repairs.push_back(
          {id, std::string(BatchStateName(after.state)),
           after.state == BatchState::kCommitted ? "rebuilt from its archive" : after.reason});
    }
  }
  return report;
}

}  // namespace sluice
