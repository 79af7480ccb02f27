// TaskQueue: the port through which workers lease units of work.
//
// Delivery is at-least-once: a leased task that is not acked before its lease
// expires is delivered again with attempt+1. Executions must be idempotent (the
// catalog's commit protocol makes them so). Implementations: the embedded
// queue in the SQLite catalog database (sqlite_task_queue.cc); NATS JetStream
// later. All methods are thread- and process-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"

namespace sluice {

enum class TaskKind { kProcess };

struct Task {
  int64_t id = 0;
  TaskKind kind = TaskKind::kProcess;
  int64_t batch_id = 0;
  int attempt = 0;  // 1 for the first delivery
  int64_t lease_expires_us = 0;
};

class TaskQueue {
 public:
  virtual ~TaskQueue() = default;
  // Adds a task for the batch unless one for (kind, batch) is already pending
  // or leased. Idempotent.
  virtual Status Enqueue(TaskKind kind, int64_t batch_id) = 0;
  // Leases the oldest available task (pending and due, or leased with an
  // expired lease), or nullopt if there is none.
  virtual Result<std::optional<Task>> Lease(const std::string& worker,
                                            std::chrono::milliseconds lease) = 0;
  // Extends the lease; kAborted if the task was re-leased by someone else
  // (the caller must stop working on it).
  virtual Status Renew(const Task& task, std::chrono::milliseconds lease) = 0;
  // Finishes the task (removes it). kAborted if the lease was lost.
  virtual Status Ack(const Task& task) = 0;
  // Gives the task back, to be delivered again after `delay`.
  virtual Status Nack(const Task& task, std::chrono::milliseconds delay) = 0;
  // Tasks pending or leased.
  virtual Result<int64_t> Depth() = 0;
};

// The embedded queue: a `tasks` table in the SQLite database at `path` (the
// catalog's database; the table is created by the catalog's migrations).
Result<std::unique_ptr<TaskQueue>> OpenSqliteTaskQueue(const std::string& path);

}  // namespace sluice
