// The embedded task queue with a clock that tests can override.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "catalog/sqlite_db.h"
#include "queue/task_queue.h"

namespace sluice {

struct SqliteTaskQueueOptions {
  // Source of "now" for due times and leases, in microseconds since the
  // epoch; NowMicros() when empty.
  std::function<int64_t()> now_us;
  SqliteDb::Options db;
};

Result<std::unique_ptr<TaskQueue>> OpenSqliteTaskQueue(const std::string& path,
                                                       const SqliteTaskQueueOptions& options);

// The stored spelling of a task kind ("process").
std::string_view TaskKindName(TaskKind kind);
Result<TaskKind> ParseTaskKind(std::string_view name);

}  // namespace sluice
