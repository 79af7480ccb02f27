// TaskQueue: the port through which workers lease units of work.
//
// Delivery is at-least-once: a leased task that is not acked before its lease
// expires is delivered again with attempt+1. Executions must be idempotent (the
// catalog's commit protocol makes them so). Implementations: the embedded
// queue in the catalog's database, SQLite or PostgreSQL (sql_task_queue.cc). All methods are
// thread- and process-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace sluice {

// process: work a batch (decode, transform, commit). load: deliver a
// committed batch's staged rows to its database outputs (architecture 6.2).
// export: write an export (POST /v1/exports) into the store; its batch_id
// is the export's id (architecture 10.1).
enum class TaskKind { kProcess, kLoad, kExport };
inline constexpr int kTaskKinds = 3;

struct TaskRequest {
  TaskKind kind = TaskKind::kProcess;
  int64_t batch_id = 0;
  std::string pipeline;       // the batch's pipeline (LeaseFilter selects on it)
  int64_t not_before_us = 0;  // not delivered before this time (a retry's backoff); 0 = now
};

// Which tasks a worker takes: always one kind (a processing worker never
// takes a load, nor a loader a batch to process); `pipelines` empty = any.
struct LeaseFilter {
  std::vector<std::string> pipelines;
  TaskKind kind = TaskKind::kProcess;
  // Never these pipelines' tasks (held back by backpressure).
  std::vector<std::string> except_pipelines;
};

// The tasks of one kind in the queue, for /metrics.
struct TaskKindStats {
  TaskKind kind = TaskKind::kProcess;
  int64_t tasks = 0;   // pending or leased (DepthOf)
  int64_t leased = 0;  // of those, leased
  // When the oldest of them was enqueued (a task keeps its time through
  // retries and redeliveries); 0 when there is none.
  int64_t oldest_enqueued_us = 0;
};

struct Task {
  int64_t id = 0;
  TaskKind kind = TaskKind::kProcess;
  int64_t batch_id = 0;
  std::string pipeline;
  int attempt = 0;  // 1 for the first delivery
  int64_t lease_expires_us = 0;
};

class TaskQueue {
 public:
  virtual ~TaskQueue() = default;
  // Adds a task for the batch unless one for (kind, batch) is already pending
  // or leased. Idempotent.
  virtual Status Enqueue(const TaskRequest& request) = 0;
  // Enqueue of each request; a queue that can (the SQL one) adds them in
  // one transaction, all or none.
  virtual Status EnqueueAll(const std::vector<TaskRequest>& requests) {
    for (const TaskRequest& r : requests) RETURN_IF_ERROR(Enqueue(r));
    return Status::OK();
  }
  Status Enqueue(TaskKind kind, int64_t batch_id) {
    TaskRequest r;
    r.kind = kind;
    r.batch_id = batch_id;
    return Enqueue(r);
  }
  // Leases the available task with the earliest deadline (a process task
  // takes its batch's, architecture 8.3; the others have none), the oldest
  // among equals, that passes `filter` (pending and due,
  // or leased with an expired lease), or nullopt if there is none.
  virtual Result<std::optional<Task>> Lease(const std::string& worker,
                                            std::chrono::milliseconds lease,
                                            const LeaseFilter& filter) = 0;
  Result<std::optional<Task>> Lease(const std::string& worker, std::chrono::milliseconds lease) {
    return Lease(worker, lease, LeaseFilter{});
  }
  // Extends the lease; kAborted if the task was re-leased by someone else
  // (the caller must stop working on it).
  virtual Status Renew(const Task& task, std::chrono::milliseconds lease) = 0;
  // Finishes the task (removes it). kAborted if the lease was lost.
  virtual Status Ack(const Task& task) = 0;
  // Gives the task back, to be delivered again after `delay`.
  virtual Status Nack(const Task& task, std::chrono::milliseconds delay) = 0;
  // Tasks pending or leased.
  virtual Result<int64_t> Depth() = 0;
  // Tasks of one kind pending or leased.
  virtual Result<int64_t> DepthOf(TaskKind kind) = 0;
  // One entry per task kind (process, load, export; indexed by the kind),
  // read in one query. Queues that
  // cannot tell answer kUnimplemented.
  virtual Result<std::vector<TaskKindStats>> Stats() {
    return Status(StatusCode::kUnimplemented, "this task queue keeps no statistics");
  }
};

// The embedded queue: a `tasks` table in the SQLite database at `path` (the
// catalog's database; the table is created by the catalog's migrations).
Result<std::unique_ptr<TaskQueue>> OpenSqliteTaskQueue(const std::string& path);
// The queue in the catalog database at `location` (a PostgreSQL URI, or the
// path of an SQLite file; see OpenCatalog).
Result<std::unique_ptr<TaskQueue>> OpenTaskQueue(const std::string& location);

}  // namespace sluice
