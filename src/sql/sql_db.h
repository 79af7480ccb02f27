// SqlDb: the port to a SQL database, as the catalog and the task queue use it.
//
// The catalog's rules (the batch state machine, attempt fencing, commit
// checks, snapshot numbering, registration idempotency) and the queue's
// semantics are written once, in SQL over this interface; a backend provides
// storage, statements and transactions:
//   - SqliteDb (sql/sqlite_db.h): one file, embedded mode;
//   - PgDb (sql/pg_db.h): PostgreSQL through libpq, shared by many processes.
//
// Statements are written in the common subset of both dialects. Parameters
// are `?` or `?N` (1-based; the PostgreSQL backend rewrites them to `$N`).
// Portable spellings: INSERT ... ON CONFLICT DO NOTHING (not INSERT OR
// IGNORE), RETURNING for generated ids (there is no last-insert-id), CASE for
// booleans read as integers. DDL lives in migrations (sql/migrations.h),
// written in SQLite's spelling and translated for PostgreSQL there.
//
// Transactions:
//   - Transaction: a write transaction serialised with every other
//     Transaction on the same database, across processes and hosts (SQLite:
//     BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory lock). The
//     catalog relies on this: a check and the write it guards cannot
//     interleave with another writer's.
//   - RowLockTransaction: a write transaction that locks only the rows it
//     touches, for the queue (PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED via
//     SkipLocked(); SQLite has one writer at a time anyway).
//   - ReadTransaction: one consistent snapshot for several SELECTs.
// Nested calls run inside the open transaction.
//
// Errors are Statuses whose message names the database (a path, or a
// connection string with its password removed) and whose code follows the
// retry taxonomy (ClassifyError in core/status.h): a lost connection, a lock
// or serialisation conflict -> kUnavailable; a unique violation ->
// kAlreadyExists; a corrupt database -> kDataLoss; a bad statement ->
// kInternal.
//
// Thread-safety: one thread at a time per SqlDb (and its statements).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace sluice {

enum class SqlDialect { kSqlite, kPostgres };

// A prepared statement. Parameters are 1-based, columns 0-based. Bind calls
// return *this so that they chain; a bind error is reported by the next
// Step()/Exec().
class SqlStatement {
 public:
  // What a backend implements.
  class Impl {
   public:
    virtual ~Impl() = default;
    virtual void BindInt64(int index, int64_t value) = 0;
    virtual void BindDouble(int index, double value) = 0;
    virtual void BindText(int index, std::string_view text) = 0;
    virtual void BindBlob(int index, std::string_view bytes) = 0;
    virtual void BindNull(int index) = 0;
    virtual Result<bool> Step() = 0;
    virtual void Reset() = 0;
    virtual void ClearBindings() = 0;
    virtual int ColumnCount() const = 0;
    virtual bool ColumnIsNull(int col) const = 0;
    virtual int64_t ColumnInt64(int col) const = 0;
    virtual double ColumnDouble(int col) const = 0;
    virtual std::string ColumnText(int col) const = 0;
    virtual std::string_view sql() const = 0;
  };

  explicit SqlStatement(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

  SqlStatement& Bind(int index, int64_t value) {
    impl_->BindInt64(index, value);
    return *this;
  }
  SqlStatement& Bind(int index, int value) { return Bind(index, static_cast<int64_t>(value)); }
  SqlStatement& Bind(int index, double value) {
    impl_->BindDouble(index, value);
    return *this;
  }
  SqlStatement& Bind(int index, std::string_view text) {
    impl_->BindText(index, text);
    return *this;
  }
  SqlStatement& Bind(int index, const std::string& text) {
    return Bind(index, std::string_view(text));
  }
  SqlStatement& Bind(int index, const char* text) { return Bind(index, std::string_view(text)); }
  SqlStatement& BindBlob(int index, std::string_view bytes) {
    impl_->BindBlob(index, bytes);
    return *this;
  }
  SqlStatement& BindNull(int index) {
    impl_->BindNull(index);
    return *this;
  }
  // Binds a value or NULL.
  SqlStatement& Bind(int index, std::optional<int64_t> value) {
    return value ? Bind(index, *value) : BindNull(index);
  }

  // Runs one step. Returns true when a row is available (read it with the
  // Column* accessors), false when the statement is done.
  Result<bool> Step() { return impl_->Step(); }
  // Steps to completion, ignoring any rows.
  Status Exec() {
    while (true) {
      ASSIGN_OR_RETURN(bool row, Step());
      if (!row) return Status::OK();
    }
  }
  // Makes the statement runnable again; keeps bindings unless ClearBindings.
  void Reset() { impl_->Reset(); }
  void ClearBindings() { impl_->ClearBindings(); }

  int ColumnCount() const { return impl_->ColumnCount(); }
  bool ColumnIsNull(int col) const { return impl_->ColumnIsNull(col); }
  // A PostgreSQL boolean reads as 1 or 0.
  int64_t ColumnInt64(int col) const { return impl_->ColumnInt64(col); }
  int ColumnInt(int col) const { return static_cast<int>(ColumnInt64(col)); }
  double ColumnDouble(int col) const { return impl_->ColumnDouble(col); }
  // Text (or blob) bytes; empty for NULL.
  std::string ColumnText(int col) const { return impl_->ColumnText(col); }
  std::optional<int64_t> ColumnOptionalInt64(int col) const {
    if (ColumnIsNull(col)) return std::nullopt;
    return ColumnInt64(col);
  }

  // The SQL text, for error messages.
  std::string_view sql() const { return impl_->sql(); }

 private:
  std::unique_ptr<Impl> impl_;
};

class SqlDb {
 public:
  virtual ~SqlDb() = default;
  virtual SqlDialect dialect() const = 0;

  // Runs one or more statements that return no rows (schema, settings).
  virtual Status Exec(std::string_view sql) = 0;
  virtual Result<SqlStatement> Prepare(std::string_view sql) = 0;

  // See the file comment. A non-OK Status from `body` (or a failed COMMIT)
  // rolls back and is returned.
  virtual Status Transaction(const std::function<Status()>& body) = 0;
  virtual Status RowLockTransaction(const std::function<Status()>& body) {
    return Transaction(body);
  }
  virtual Status ReadTransaction(const std::function<Status()>& body) = 0;
  virtual bool InTransaction() const = 0;

  // Rows changed by the last INSERT/UPDATE/DELETE.
  virtual int64_t Changes() const = 0;
  // True if a table (or view) with this name exists.
  virtual Result<bool> TableExists(std::string_view name) = 0;
  // The database's own consistency check (SQLite: PRAGMA quick_check);
  // kDataLoss listing what it found. A server database checks itself.
  virtual Status QuickCheck() { return Status::OK(); }
  // " FOR UPDATE SKIP LOCKED" where the backend has it (appended to the
  // SELECT that picks a row to claim inside a RowLockTransaction), else "".
  virtual std::string_view SkipLocked() const { return ""; }

  // Where the database is, safe to print: a path, or a connection string
  // without its password.
  virtual std::string Describe() const = 0;
};

// SQL text shortened for error messages: whitespace runs collapsed, long
// statements cut.
std::string ShortSql(std::string_view sql);

// `"name"` with embedded quotes doubled: an identifier SQLite and PostgreSQL
// read as is, whatever it holds.
std::string QuoteIdentifier(std::string_view name);
// [A-Za-z_][A-Za-z0-9_]*: a name that means the same quoted or not.
bool IsPlainIdentifier(std::string_view name);

}  // namespace sluice
