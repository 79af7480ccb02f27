// PgDb: the PostgreSQL backend of SqlDb (sql/sql_db.h), one libpq connection.
//
// Statements: `?`/`?N` parameters are rewritten to `$N`; parameters travel
// typed (int8, float8, bytea in binary; text as `unknown`, so PostgreSQL
// takes the column's type) and results come back as text, read by the
// SqlStatement accessors (a boolean reads as 1/0, bytea is decoded).
//
// Transactions: Transaction is BEGIN + pg_advisory_xact_lock(kCatalogLockKey),
// which serialises the catalog's writers across every process and host on the
// database, as BEGIN IMMEDIATE does on one SQLite file; RowLockTransaction is
// a plain READ COMMITTED transaction (the queue claims rows with
// FOR UPDATE SKIP LOCKED); ReadTransaction is REPEATABLE READ READ ONLY.
//
// A connection found broken before a statement or a transaction is reset
// (reconnected) once; a failure inside a transaction fails it (kUnavailable),
// and the caller's retry starts a new one.
//
// Errors name the database by its connection string without the password
// (RedactDsn) and carry PostgreSQL's message and SQLSTATE. Codes: class 08
// (connection), 40 (serialisation failure, deadlock), 53 (resources), 55P03
// (lock not available), 57 (operator intervention: shutdown, statement
// timeout) -> kUnavailable; 23505 (unique violation) -> kAlreadyExists; 28
// (authentication) and 3D000 (no such database) -> kIOError (permanent until
// an operator acts); others -> kInternal.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "sql/sql_db.h"

struct pg_conn;

namespace sluice {

class PgDb final : public SqlDb {
 public:
  struct Options {
    int connect_timeout_s = 10;
    // Per statement, in milliseconds; 0 = the server's default.
    int statement_timeout_ms = 0;
    // How long a statement waits for a lock (the catalog's write lock
    // included) before failing as transient (55P03); 0 = forever.
    int lock_timeout_ms = 30'000;
    // The server ends a session that stays idle inside a transaction this
    // long, releasing its locks: a process stopped (SIGSTOP, a frozen VM)
    // mid-transaction cannot block every other writer; its own commit then
    // fails and its work is retried. 0 = never.
    int idle_in_transaction_timeout_ms = 60'000;
    std::string application_name = "sluice";
  };
  // The advisory lock key that Transaction takes ("sluice" in ASCII).
  static constexpr int64_t kCatalogLockKey = 0x736c75696365;

  static Result<std::unique_ptr<PgDb>> Open(const std::string& dsn);
  static Result<std::unique_ptr<PgDb>> Open(const std::string& dsn, const Options& options);
  ~PgDb() override;
  PgDb(const PgDb&) = delete;
  PgDb& operator=(const PgDb&) = delete;

  SqlDialect dialect() const override { return SqlDialect::kPostgres; }
  Status Exec(std::string_view sql) override;
  Result<SqlStatement> Prepare(std::string_view sql) override;
  Status Transaction(const std::function<Status()>& body) override;
  Status RowLockTransaction(const std::function<Status()>& body) override;
  Status ReadTransaction(const std::function<Status()>& body) override;
  bool InTransaction() const override { return in_transaction_; }
  int64_t Changes() const override { return changes_; }
  Result<bool> TableExists(std::string_view name) override;
  std::string_view SkipLocked() const override { return " FOR UPDATE SKIP LOCKED"; }
  std::string Describe() const override { return "postgres '" + redacted_dsn_ + "'"; }

  // Runs `copy_sql` (a `COPY ... FROM STDIN`), sending the chunks `next`
  // fills (it returns false when there is no more; the chunk is cleared
  // before each call) and returns the rows the server copied. An error of
  // `next` aborts the COPY and is returned; so is the server's.
  // With `stopped_early`, the COPY also ends (failed) as soon as the server
  // sends anything before the end (during a COPY that is an error, or
  // rarely a notice): *stopped_early is then true and the server's error
  // (or ours, after a notice) is returned, without sending the rest.
  Result<int64_t> CopyIn(std::string_view copy_sql,
                         const std::function<Result<bool>(std::string& chunk)>& next,
                         bool* stopped_early = nullptr);

  // For PgStatement: the connection (reconnected if it was broken and no
  // transaction is open), and the row count of the last command.
  Result<pg_conn*> Connection();
  void SetChanges(int64_t n) { changes_ = n; }
  // A Status for a failed command, naming the database and `what`.
  Status CommandError(const void* pg_result, std::string_view what) const;

 private:
  PgDb(pg_conn* conn, std::string dsn, Options options);
  Status RunTransaction(const char* begin, bool advisory_lock, const std::function<Status()>& body);
  Status ExecNoResult(const char* sql, std::string_view what);

  pg_conn* conn_;
  std::string dsn_;
  std::string redacted_dsn_;
  Options options_;
  bool in_transaction_ = false;
  int64_t changes_ = 0;
};

// `dsn` without its password, for messages: the password of a URI
// (postgresql://user:secret@host/db -> postgresql://user:***@host/db), a
// `password=` parameter of a URI query or of a key=value string.
std::string RedactDsn(std::string_view dsn);

// Checks the syntax of a libpq connection string or URI without connecting
// (PQconninfoParse): kInvalidArgument with libpq's reason, which never holds
// the password.
Status CheckPostgresDsn(std::string_view dsn);

// `sql` with `?`/`?N` parameters as PostgreSQL's `$N` (a bare `?` takes one
// more than the largest number so far, as in SQLite). Quoted strings and
// identifiers are left alone.
std::string PostgresPlaceholders(std::string_view sql);

}  // namespace sluice
