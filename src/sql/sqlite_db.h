// SqliteDb: the SQLite backend of SqlDb (sql/sql_db.h), a small RAII wrapper
// over one sqlite3 connection, used by the embedded catalog and task queue and
// by the SQLite sink.
//
// It opens a database in WAL mode with a busy timeout, prepares statements
// (SqlStatement: bind / step / column), and runs transactions as
// BEGIN IMMEDIATE ... COMMIT, rolling back when the body fails. Every error is
// a Status whose message names the database path.
//
// Thread-safety: a SqliteDb (and its statements) must be used by one thread at
// a time; callers that share one across threads hold a mutex around it.
// Several connections, in one process or several, may open the same file:
// writers are serialised by SQLite's lock, waited for by the busy timeout and
// by a retry loop around BEGIN IMMEDIATE.
//
// Error codes: SQLITE_BUSY/LOCKED after the wait -> kUnavailable (retryable);
// a UNIQUE/PRIMARY KEY violation -> kAlreadyExists; I/O errors and a full disk
// -> kUnavailable (transient); cannot open, read-only, no permission ->
// kIOError (permanent); a corrupt file -> kDataLoss; anything else (bad SQL,
// misuse) -> kInternal. This is the SQLite half of the retry taxonomy
// (ClassifyError in core/status.h).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/status.h"
#include "sql/sql_db.h"

struct sqlite3;
struct sqlite3_stmt;

namespace sluice {

class SqliteDb final : public SqlDb {
 public:
  struct Options {
    // How long SQLite waits for another connection's lock before SQLITE_BUSY.
    int busy_timeout_ms = 10'000;
    // Extra attempts at BEGIN IMMEDIATE / COMMIT after a SQLITE_BUSY that
    // outlasted the busy timeout.
    int busy_retries = 3;
    // "NORMAL" is durable across process crashes in WAL mode (a power loss may
    // roll back the last commits but never corrupts); "FULL" also survives
    // power loss at the cost of an fsync per commit.
    std::string synchronous = "NORMAL";
    bool read_only = false;
    // Creates the file if missing (ignored when read_only).
    bool create = true;
  };

  // Opens `path` (":memory:" for a private in-memory database).
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path);
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path, const Options& options);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  // Runs one or more statements that return no rows (schema, pragmas).
  Status Exec(std::string_view sql) override;
  Result<SqlStatement> Prepare(std::string_view sql) override;

  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT. A non-OK Status from `body`
  // (or a failed COMMIT) rolls back and is returned. When a transaction is
  // already open on this connection, `body` simply runs inside it.
  Status Transaction(const std::function<Status()>& body) override;
  // Runs `body` inside a deferred (read) transaction, so that several SELECTs
  // see one consistent snapshot without taking the write lock. Nested calls
  // run inside the open transaction.
  Status ReadTransaction(const std::function<Status()>& body) override;
  // The pieces of Transaction, for callers that need them apart.
  Status BeginImmediate();
  Status Commit();
  void Rollback();
  bool InTransaction() const override;

  int64_t LastInsertRowId() const;
  int64_t Changes() const override;
  Result<bool> TableExists(std::string_view name) override;
  // PRAGMA quick_check.
  Status QuickCheck() override;
  std::string Describe() const override { return "sqlite '" + path_ + "'"; }

  const std::string& path() const { return path_; }
  sqlite3* handle() const { return db_; }

  // For statements: takes back one that its SqlStatement no longer uses,
  // reset and kept for the next Prepare of the same text (up to
  // kStatementCacheSize), else finalized. Statements must not outlive their
  // SqliteDb.
  void Recycle(std::string sql, sqlite3_stmt* stmt);

  // A Status for SQLite result code `rc` while doing `what`, naming the path
  // and carrying sqlite3_errmsg.
  Status ErrorStatus(int rc, std::string_view what) const;

 private:
  SqliteDb(sqlite3* db, std::string path, Options options)
      : db_(db), path_(std::move(path)), options_(std::move(options)) {}
  // The connections of this process to one database file take its write lock
  // in turn through this gate: a waiter is woken the moment the holder
  // commits, where SQLite's busy handler can only poll with sleeps. Other
  // processes still meet at SQLite's lock (and the busy handler).
  // A mutex with a bounded wait, built on std::mutex and a condition
  // variable (ThreadSanitizer does not follow std::timed_mutex's timed lock).
  class WriteGate {
   public:
    bool Acquire(std::chrono::milliseconds timeout) {
      std::unique_lock lock(mu_);
      if (!cv_.wait_for(lock, timeout, [&] { return !held_; })) return false;
      held_ = true;
      return true;
    }
    void Release() {
      {
        std::lock_guard lock(mu_);
        held_ = false;
      }
      cv_.notify_one();
    }

   private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool held_ = false;
  };
  static std::shared_ptr<WriteGate> WriteGateFor(const std::string& path);
  Status ExecWithBusyRetry(const char* sql, std::string_view what);
  static constexpr size_t kStatementCacheSize = 128;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
  // sqlite3_busy_handler: short, growing sleeps until busy_timeout_ms.
  static int BusyHandler(void* self, int count);

  sqlite3* db_;
  std::string path_;
  Options options_;
  std::chrono::steady_clock::time_point busy_since_;
  std::shared_ptr<WriteGate> write_gate_;  // null for :memory: and read-only
};

}  // namespace sluice
