// Garbage collection of staged lake files of attempts that will never commit.
//
// Layout: staging/<batch_id>/a<attempt>/... (see lake_sink.h). SQLite stage
// tables live in the sink's own database, which the object store cannot see;
// the sqlite sink drops the stage tables of earlier attempts at Open (see
// sqlite_sink.h), so they do not outlive the next attempt.
//
// On a store without rename (S3) outputs are written straight to their final,
// attempt-unique keys, each after an empty write marker
// staging/<batch>/a<attempt>/written/<final key>; cleaning an attempt deletes
// the final objects its markers name unless the catalog references them (the
// attempt committed), then the markers.
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sink/sink.h"

namespace sluice {

std::string WrittenMarkerKey(int64_t batch_id, int attempt, const std::string& final_key) {
  return "staging/" + std::to_string(batch_id) + "/a" + std::to_string(attempt) + "/" +
         std::string(kWrittenMarker) + final_key;
}

namespace {

// DeleteWrittenObjects over a listing already made (objects under one prefix).
Status DeleteWrittenIn(ObjectStore& store, const std::vector<ObjectInfo>& objects,
                       const std::string& prefix, const ReferencedKeys& referenced,
                       std::optional<std::set<std::string>>& keep) {
  for (const ObjectInfo& o : objects) {
    if (!o.key.starts_with(prefix)) continue;
    size_t at = o.key.find(kWrittenMarker);
    if (at == std::string::npos) continue;
    const std::string final_key = o.key.substr(at + kWrittenMarker.size());
    if (!keep) {
      // Without the catalog's word nothing final is deleted: the markers stay
      // for a caller that can tell what committed.
      if (!referenced) return Status::OK();
      ASSIGN_OR_RETURN(keep, referenced());
    }
    if (keep->count(final_key) == 0) RETURN_IF_ERROR(store.Delete(final_key));
  }
  return Status::OK();
}

}  // namespace

Status DeleteWrittenObjects(ObjectStore& store, const std::string& prefix,
                            const ReferencedKeys& referenced) {
  ASSIGN_OR_RETURN(std::vector<ObjectInfo> objects, store.List(prefix));
  std::optional<std::set<std::string>> keep;
  return DeleteWrittenIn(store, objects, prefix, referenced, keep);
}

Status CleanupStaging(ObjectStore& store, int64_t batch_id, int before_attempt,
                      const ReferencedKeys& referenced) {
  const std::string batch_prefix = "staging/" + std::to_string(batch_id) + "/";
  if (before_attempt == 0) {
    RETURN_IF_ERROR(DeleteWrittenObjects(store, batch_prefix, referenced));
    return store.DeletePrefix(batch_prefix);
  }
  ASSIGN_OR_RETURN(std::vector<ObjectInfo> objects, store.List(batch_prefix));
  std::set<std::string> dirs;
  for (const ObjectInfo& o : objects) {
    std::string rest = o.key.substr(batch_prefix.size());
    size_t slash = rest.find('/');
    if (slash == std::string::npos) {
      // A stray object directly under the batch belongs to no attempt.
      RETURN_IF_ERROR(store.Delete(o.key));
      continue;
    }
    // Only a<k> with k < before_attempt: a newer attempt's staging belongs to
    // a live worker (this caller may be a stale one that has not noticed yet).
    std::string dir = rest.substr(0, slash);
    int64_t k = -1;
    if (dir.size() > 1 && dir[0] == 'a' &&
        dir.find_first_not_of("0123456789", 1) == std::string::npos && dir.size() < 12) {
      k = std::stoll(dir.substr(1));
    }
    if (k >= 0 && k < before_attempt) dirs.insert(dir);
  }
  // One listing serves every attempt's markers (and one question to the catalog).
  std::optional<std::set<std::string>> keep;
  for (const std::string& dir : dirs) {
    RETURN_IF_ERROR(DeleteWrittenIn(store, objects, batch_prefix + dir + "/", referenced, keep));
    RETURN_IF_ERROR(store.DeletePrefix(batch_prefix + dir + "/"));
  }
  return Status::OK();
}

}  // namespace sluice
