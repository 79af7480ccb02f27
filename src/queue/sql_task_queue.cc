// The task queue over SQL: rows of the catalog database's `tasks` table.
//
// A task row is 'pending' (waiting until due_us) or 'leased' (owned until
// lease_expires_us); Ack deletes it. Lease claims a row with one
// UPDATE ... RETURNING whose sub-select picks the row: inside BEGIN IMMEDIATE
// on SQLite (one writer at a time), and with FOR UPDATE SKIP LOCKED on
// PostgreSQL (workers claim different rows at once, and a row another
// transaction is claiming is skipped rather than waited for), so two
// connections (threads, processes or hosts) can never claim the same live
// lease. A lease is identified by
// (id, attempt): once it expires and someone else leases the task, attempt
// moves on and the old holder's Renew/Ack/Nack get kAborted.
#include "queue/sql_task_queue.h"

#include <algorithm>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/thread_annotations.h"
#include "sql/migrations.h"
#include "sql/pool.h"

namespace sluice {

namespace {

class SqlTaskQueue final : public TaskQueue {
 public:
  SqlTaskQueue(std::unique_ptr<SqlDb> db, std::function<int64_t()> now_us)
      : db_(std::move(db)), now_us_(std::move(now_us)) {}

  Status Enqueue(const TaskRequest& req) override { return EnqueueAll({req}); }

  Status EnqueueAll(const std::vector<TaskRequest>& requests) override {
    MutexLock lock(&mu_);
    return db_->RowLockTransaction([&]() -> Status {
      mu_.AssertHeld();  // held by the caller around the transaction
      int64_t now = now_us_();
      // The partial unique index on (kind, batch_id) over live rows turns a
      // second enqueue into a no-op. A process task takes its batch's
      // deadline while it is not settled (earliest deadline first; a batch
      // without one, or replayed after it was settled, goes after them).
      ASSIGN_OR_RETURN(
          SqlStatement s,
          db_->Prepare("INSERT INTO tasks (kind, batch_id, pipeline, state, attempt, due_us, "
                       "lease_expires_us, owner, created_us, deadline_us) VALUES (?1, ?2, ?3, "
                       "'pending', 0, ?4, 0, '', ?5, COALESCE((SELECT b.deadline_us FROM batches "
                       "b WHERE b.id = ?2 AND ?1 = 'process' AND b.deadline_us > 0 AND "
                       "b.missed_us = 0), 9223372036854775807)) ON CONFLICT DO NOTHING"));
      for (const TaskRequest& req : requests) {
        s.Reset();
        s.Bind(1, TaskKindName(req.kind)).Bind(2, req.batch_id).Bind(3, req.pipeline);
        s.Bind(4, std::max(now, req.not_before_us)).Bind(5, now);
        RETURN_IF_ERROR(s.Exec());
      }
      return Status::OK();
    });
  }

  Result<std::optional<Task>> Lease(const std::string& worker, std::chrono::milliseconds lease,
                                    const LeaseFilter& filter) override {
    MutexLock lock(&mu_);
    std::optional<Task> out;
    // A pipeline filter is a short IN list of bound parameters.
    std::string only;
    if (!filter.pipelines.empty()) {
      only = " AND pipeline IN (";
      for (size_t i = 0; i < filter.pipelines.size(); ++i) {
        only += (i ? ", ?" : "?") + std::to_string(5 + i);
      }
      only += ")";
    }
    if (!filter.except_pipelines.empty()) {
      only += " AND pipeline NOT IN (";
      for (size_t i = 0; i < filter.except_pipelines.size(); ++i) {
        only += (i ? ", ?" : "?") + std::to_string(5 + filter.pipelines.size() + i);
      }
      only += ")";
    }
    RETURN_IF_ERROR(db_->RowLockTransaction([&]() -> Status {
      mu_.AssertHeld();  // held by the caller around the transaction
      int64_t now = now_us_();
      ASSIGN_OR_RETURN(
          SqlStatement s,
          db_->Prepare("UPDATE tasks SET state = 'leased', owner = ?1, attempt = attempt + 1, "
                       "lease_expires_us = ?2 WHERE id = (SELECT id FROM tasks WHERE "
                       "((state = 'pending' AND due_us <= ?3) OR "
                       "(state = 'leased' AND lease_expires_us < ?3)) AND kind = ?4" +
                       only + " ORDER BY deadline_us, id LIMIT 1" + std::string(db_->SkipLocked()) +
                       ") "
                       "RETURNING id, kind, batch_id, attempt, lease_expires_us, pipeline"));
      s.Bind(1, worker).Bind(2, now + LeaseMicros(lease)).Bind(3, now);
      s.Bind(4, TaskKindName(filter.kind));
      for (size_t i = 0; i < filter.pipelines.size(); ++i) {
        s.Bind(static_cast<int>(5 + i), filter.pipelines[i]);
      }
      for (size_t i = 0; i < filter.except_pipelines.size(); ++i) {
        s.Bind(static_cast<int>(5 + filter.pipelines.size() + i), filter.except_pipelines[i]);
      }
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return Status::OK();
      Task t;
      t.id = s.ColumnInt64(0);
      ASSIGN_OR_RETURN(t.kind, ParseTaskKind(s.ColumnText(1)));
      t.batch_id = s.ColumnInt64(2);
      t.attempt = s.ColumnInt(3);
      t.lease_expires_us = s.ColumnInt64(4);
      t.pipeline = s.ColumnText(5);
      // RETURNING rows must be stepped to the end before the change is final.
      RETURN_IF_ERROR(s.Exec());
      out = t;
      return Status::OK();
    }));
    return out;
  }

  Status Renew(const Task& task, std::chrono::milliseconds lease) override {
    MutexLock lock(&mu_);
    return db_->RowLockTransaction([&]() -> Status {
      mu_.AssertHeld();  // held by the caller around the transaction
      ASSIGN_OR_RETURN(SqlStatement s,
                       db_->Prepare("UPDATE tasks SET lease_expires_us = ?3 WHERE id = ?1 AND "
                                    "attempt = ?2 AND state = 'leased'"));
      s.Bind(1, task.id).Bind(2, task.attempt).Bind(3, now_us_() + LeaseMicros(lease));
      RETURN_IF_ERROR(s.Exec());
      return CheckStillOurs(task, "renew");
    });
  }

  Status Ack(const Task& task) override {
    MutexLock lock(&mu_);
    return db_->RowLockTransaction([&]() -> Status {
      mu_.AssertHeld();  // held by the caller around the transaction
      ASSIGN_OR_RETURN(SqlStatement s,
                       db_->Prepare("DELETE FROM tasks WHERE id = ?1 AND attempt = ?2 AND "
                                    "state = 'leased'"));
      s.Bind(1, task.id).Bind(2, task.attempt);
      RETURN_IF_ERROR(s.Exec());
      return CheckStillOurs(task, "ack");
    });
  }

  Status Nack(const Task& task, std::chrono::milliseconds delay) override {
    MutexLock lock(&mu_);
    return db_->RowLockTransaction([&]() -> Status {
      mu_.AssertHeld();  // held by the caller around the transaction
      ASSIGN_OR_RETURN(SqlStatement s,
                       db_->Prepare("UPDATE tasks SET state = 'pending', due_us = ?3, owner = '', "
                                    "lease_expires_us = 0 WHERE id = ?1 AND attempt = ?2 AND "
                                    "state = 'leased'"));
      s.Bind(1, task.id).Bind(2, task.attempt).Bind(3, now_us_() + LeaseMicros(delay));
      RETURN_IF_ERROR(s.Exec());
      return CheckStillOurs(task, "nack");
    });
  }

  Result<int64_t> Depth() override {
    MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(SqlStatement s, db_->Prepare("SELECT COUNT(*) FROM tasks"));
    ASSIGN_OR_RETURN(bool row, s.Step());
    return row ? s.ColumnInt64(0) : int64_t{0};
  }

  Result<int64_t> DepthOf(TaskKind kind) override {
    MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(SqlStatement s, db_->Prepare("SELECT COUNT(*) FROM tasks WHERE kind = ?1"));
    s.Bind(1, TaskKindName(kind));
    ASSIGN_OR_RETURN(bool row, s.Step());
    return row ? s.ColumnInt64(0) : int64_t{0};
  }

  Result<std::vector<TaskKindStats>> Stats() override {
    MutexLock lock(&mu_);
    std::vector<TaskKindStats> out(kTaskKinds);
    for (int i = 0; i < kTaskKinds; ++i) out[i].kind = static_cast<TaskKind>(i);
    ASSIGN_OR_RETURN(SqlStatement s,
                     db_->Prepare("SELECT kind, COUNT(*), SUM(CASE WHEN state = 'leased' THEN 1 "
                                  "ELSE 0 END), MIN(created_us) FROM tasks GROUP BY kind"));
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      ASSIGN_OR_RETURN(TaskKind kind, ParseTaskKind(s.ColumnText(0)));
      TaskKindStats& k = out[static_cast<size_t>(kind)];
      k.tasks = s.ColumnInt64(1);
      k.leased = s.ColumnInt64(2);
      k.oldest_enqueued_us = s.ColumnInt64(3);
    }
    return out;
  }

 private:
  static int64_t LeaseMicros(std::chrono::milliseconds d) {
    return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
  }

  // After an UPDATE/DELETE keyed on (id, attempt): no row changed means the
  // lease was taken over (or the task is gone).
  Status CheckStillOurs(const Task& task, const char* what) REQUIRES(mu_) {
    if (db_->Changes() > 0) return Status::OK();
    return Status::Aborted(std::string(what) + " of task " + std::to_string(task.id) + " (batch " +
                           std::to_string(task.batch_id) + ", attempt " +
                           std::to_string(task.attempt) +
                           "): the lease was lost to another worker or the task is gone");
  }

  Mutex mu_;
  std::unique_ptr<SqlDb> db_ PT_GUARDED_BY(mu_);
  std::function<int64_t()> now_us_;
};

// A queue over a pool of queues on one database, each with its own
// connection; leases are claimed in the database, so members are
// interchangeable.
class PooledTaskQueue final : public TaskQueue {
 public:
  explicit PooledTaskQueue(std::vector<std::unique_ptr<TaskQueue>> members)
      : pool_(std::move(members)) {}
  Status Enqueue(const TaskRequest& request) override { return pool_.Acquire()->Enqueue(request); }
  Status EnqueueAll(const std::vector<TaskRequest>& requests) override {
    return pool_.Acquire()->EnqueueAll(requests);
  }
  Result<std::optional<Task>> Lease(const std::string& worker, std::chrono::milliseconds lease,
                                    const LeaseFilter& filter) override {
    return pool_.Acquire()->Lease(worker, lease, filter);
  }
  Status Renew(const Task& task, std::chrono::milliseconds lease) override {
    return pool_.Acquire()->Renew(task, lease);
  }
  Status Ack(const Task& task) override { return pool_.Acquire()->Ack(task); }
  Status Nack(const Task& task, std::chrono::milliseconds delay) override {
    return pool_.Acquire()->Nack(task, delay);
  }
  Result<int64_t> Depth() override { return pool_.Acquire()->Depth(); }
  Result<int64_t> DepthOf(TaskKind kind) override { return pool_.Acquire()->DepthOf(kind); }
  Result<std::vector<TaskKindStats>> Stats() override { return pool_.Acquire()->Stats(); }

 private:
  Pool<TaskQueue> pool_;
};

}  // namespace

std::string_view TaskKindName(TaskKind kind) {
  switch (kind) {
    case TaskKind::kProcess:
      return "process";
    case TaskKind::kLoad:
      return "load";
    case TaskKind::kExport:
      return "export";
  }
  return "unknown";
}

Result<TaskKind> ParseTaskKind(std::string_view name) {
  if (name == "process") return TaskKind::kProcess;
  if (name == "load") return TaskKind::kLoad;
  if (name == "export") return TaskKind::kExport;
  return Status::DataLoss("task queue: unknown task kind '" + std::string(name) + "'");
}

Result<std::unique_ptr<TaskQueue>> OpenSqliteTaskQueue(const std::string& path) {
  return OpenSqliteTaskQueue(path, SqliteTaskQueueOptions());
}

Result<std::unique_ptr<TaskQueue>> OpenSqliteTaskQueue(const std::string& path,
                                                       const SqliteTaskQueueOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path, options.db));
  return OpenSqlTaskQueue(std::move(db), options.now_us);
}

Result<std::unique_ptr<TaskQueue>> OpenPostgresTaskQueue(const std::string& dsn,
                                                         const PostgresTaskQueueOptions& options) {
  std::vector<std::unique_ptr<TaskQueue>> members;
  for (int i = 0; i < std::max(1, options.connections); ++i) {
    ASSIGN_OR_RETURN(std::unique_ptr<PgDb> db, PgDb::Open(dsn, options.db));
    ASSIGN_OR_RETURN(std::unique_ptr<TaskQueue> member,
                     OpenSqlTaskQueue(std::move(db), options.now_us));
    members.push_back(std::move(member));
  }
  if (members.size() == 1) return std::move(members.front());
  return std::unique_ptr<TaskQueue>(std::make_unique<PooledTaskQueue>(std::move(members)));
}

Result<std::unique_ptr<TaskQueue>> OpenSqlTaskQueue(std::unique_ptr<SqlDb> db,
                                                    std::function<int64_t()> now_us) {
  ASSIGN_OR_RETURN(bool has_tasks, db->TableExists("tasks"));
  if (!has_tasks) {
    // The queue may be opened before the catalog (e.g. a worker process that
    // starts first); the catalog's migrations own the table.
    Status st = ApplyCatalogMigrations(*db);
    if (!st.ok()) return st.WithContext("task queue " + db->Describe());
  }
  if (!now_us) now_us = [] { return NowMicros(); };
  return std::unique_ptr<TaskQueue>(
      std::make_unique<SqlTaskQueue>(std::move(db), std::move(now_us)));
}

Result<std::unique_ptr<TaskQueue>> OpenTaskQueue(const std::string& location) {
  if (location.starts_with("postgres://") || location.starts_with("postgresql://")) {
    return OpenPostgresTaskQueue(location, PostgresTaskQueueOptions());
  }
  return OpenSqliteTaskQueue(location);
}

}  // namespace sluice
