// The task queue over SQL: a `tasks` table in the catalog's database (SQLite
// in embedded mode, PostgreSQL when shared), with a clock that tests can
// override.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "queue/task_queue.h"
#include "sql/pg_db.h"
#include "sql/sqlite_db.h"

namespace sluice {

struct SqliteTaskQueueOptions {
  // Source of "now" for due times and leases, in microseconds since the
  // epoch; NowMicros() when empty.
  std::function<int64_t()> now_us;
  SqliteDb::Options db;
};

Result<std::unique_ptr<TaskQueue>> OpenSqliteTaskQueue(const std::string& path,
                                                       const SqliteTaskQueueOptions& options);

struct PostgresTaskQueueOptions {
  std::function<int64_t()> now_us;
  PgDb::Options db;
  // Connections the process's workers share (leases are claimed in the
  // database with SKIP LOCKED, so they never wait for each other).
  int connections = 2;
};
Result<std::unique_ptr<TaskQueue>> OpenPostgresTaskQueue(const std::string& dsn,
                                                         const PostgresTaskQueueOptions& options);

// A queue over an open database (the catalog's migrations applied here if the
// `tasks` table is missing).
Result<std::unique_ptr<TaskQueue>> OpenSqlTaskQueue(std::unique_ptr<SqlDb> db,
                                                    std::function<int64_t()> now_us);

// The stored spelling of a task kind ("process").
std::string_view TaskKindName(TaskKind kind);
Result<TaskKind> ParseTaskKind(std::string_view name);

}  // namespace sluice
