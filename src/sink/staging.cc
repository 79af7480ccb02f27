// Garbage collection of staged lake files of attempts that will never commit.
//
// Layout: staging/<batch_id>/a<attempt>/... (see lake_sink.h). SQLite stage
// tables live in the sink's own database, which the object store cannot see;
// the sqlite sink drops the stage tables of earlier attempts at Open (see
// sqlite_sink.h), so they do not outlive the next attempt.
#include <set>
#include <string>

#include "sink/sink.h"

namespace sluice {

Status CleanupStaging(ObjectStore& store, int64_t batch_id, int before_attempt) {
  const std::string batch_prefix = "staging/" + std::to_string(batch_id) + "/";
  if (before_attempt == 0) return store.DeletePrefix(batch_prefix);
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
  for (const std::string& dir : dirs) {
    RETURN_IF_ERROR(store.DeletePrefix(batch_prefix + dir + "/"));
  }
  return Status::OK();
}

}  // namespace sluice
