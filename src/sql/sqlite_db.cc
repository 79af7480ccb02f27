#include "sql/sqlite_db.h"

#include <sys/stat.h>

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <utility>

namespace sluice {

// SQL text shortened for error messages: whitespace runs collapsed, long
// statements cut.
std::string ShortSql(std::string_view sql) {
  std::string out;
  bool space = false;
  for (char c : sql) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
    if (out.size() >= 80) {
      out += "...";
      break;
    }
  }
  return out;
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

bool IsPlainIdentifier(std::string_view name) {
  auto start = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; };
  if (name.empty() || !start(name[0])) return false;
  for (char c : name) {
    if (!start(c) && !(c >= '0' && c <= '9')) return false;
  }
  return true;
}

namespace {

StatusCode CodeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return StatusCode::kUnavailable;
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return StatusCode::kAlreadyExists;
      }
      return StatusCode::kInternal;
    case SQLITE_IOERR:
    case SQLITE_FULL:
      // A failing or full disk may recover (the retry taxonomy's transient).
      return StatusCode::kUnavailable;
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
      return StatusCode::kIOError;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return StatusCode::kDataLoss;
    default:
      return StatusCode::kInternal;
  }
}

// --- statements --------------------------------------------------------------

class SqlStatementImpl final : public SqlStatement::Impl {
 public:
  SqlStatementImpl(SqliteDb* db, sqlite3_stmt* stmt, std::string sql)
      : db_(db), stmt_(stmt), text_(std::move(sql)) {}
  // Back to the connection's cache of prepared statements (see Prepare).
  ~SqlStatementImpl() override { db_->Recycle(std::move(text_), stmt_); }
  SqlStatementImpl(const SqlStatementImpl&) = delete;
  SqlStatementImpl& operator=(const SqlStatementImpl&) = delete;

  void BindInt64(int index, int64_t value) override {
    NoteBindError(sqlite3_bind_int64(stmt_, index, value), index);
  }
  void BindDouble(int index, double value) override {
    NoteBindError(sqlite3_bind_double(stmt_, index, value), index);
  }
  void BindText(int index, std::string_view text) override {
    // A null data pointer would bind NULL; an empty view is the empty string.
    const char* data = text.data() != nullptr ? text.data() : "";
    NoteBindError(
        sqlite3_bind_text64(stmt_, index, data, text.size(), SQLITE_TRANSIENT, SQLITE_UTF8), index);
  }
  void BindBlob(int index, std::string_view bytes) override {
    NoteBindError(sqlite3_bind_blob64(stmt_, index, bytes.data(), bytes.size(), SQLITE_TRANSIENT),
                  index);
  }
  void BindNull(int index) override { NoteBindError(sqlite3_bind_null(stmt_, index), index); }

  Result<bool> Step() override {
    if (!bind_error_.ok()) return bind_error_;
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    Status st = db_->ErrorStatus(rc, "run '" + ShortSql(sql()) + "'");
    // A failed statement must be reset before the connection can roll back
    // cleanly; keep the error we already captured.
    sqlite3_reset(stmt_);
    return st;
  }
  void Reset() override { sqlite3_reset(stmt_); }
  void ClearBindings() override {
    sqlite3_clear_bindings(stmt_);
    bind_error_ = Status::OK();
  }

  int ColumnCount() const override { return sqlite3_column_count(stmt_); }
  bool ColumnIsNull(int col) const override {
    return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
  }
  int64_t ColumnInt64(int col) const override { return sqlite3_column_int64(stmt_, col); }
  double ColumnDouble(int col) const override { return sqlite3_column_double(stmt_, col); }
  std::string ColumnText(int col) const override {
    const void* p = sqlite3_column_blob(stmt_, col);
    int n = sqlite3_column_bytes(stmt_, col);
    if (p == nullptr || n <= 0) return {};
    return std::string(static_cast<const char*>(p), static_cast<size_t>(n));
  }
  std::string_view sql() const override {
    const char* s = sqlite3_sql(stmt_);
    return s != nullptr ? std::string_view(s) : std::string_view();
  }

 private:
  void NoteBindError(int rc, int index) {
    if (rc != SQLITE_OK && bind_error_.ok()) {
      bind_error_ = db_->ErrorStatus(
          rc, "bind parameter " + std::to_string(index) + " of '" + ShortSql(sql()) + "'");
    }
  }

  SqliteDb* db_;
  sqlite3_stmt* stmt_;
  std::string text_;
  Status bind_error_;
};

}  // namespace

// --- SqliteDb ----------------------------------------------------------------

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path) {
  return Open(path, Options());
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, const Options& options) {
  int flags = SQLITE_OPEN_NOMUTEX;
  if (options.read_only) {
    flags |= SQLITE_OPEN_READONLY;
  } else {
    flags |= SQLITE_OPEN_READWRITE;
    if (options.create) flags |= SQLITE_OPEN_CREATE;
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    if (raw != nullptr) sqlite3_close_v2(raw);
    return Status(CodeFor(rc), "sqlite '" + path + "': open: " + msg);
  }
  std::unique_ptr<SqliteDb> db(new SqliteDb(raw, path, options));
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_handler(raw, &SqliteDb::BusyHandler, db.get());

  if (!options.read_only && path != ":memory:" && !path.empty()) {
    db->write_gate_ = WriteGateFor(path);
    // Switching to WAL takes an exclusive lock for a moment, so a second
    // process opening the file at the same time may see SQLITE_BUSY here.
    RETURN_IF_ERROR(db->ExecWithBusyRetry("PRAGMA journal_mode=WAL", "set journal_mode=WAL"));
  }
  RETURN_IF_ERROR(db->Exec("PRAGMA synchronous=" + options.synchronous));
  RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys=ON"));
  return db;
}

SqliteDb::~SqliteDb() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  if (db_ != nullptr) {
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close_v2(db_);
  }
}

int SqliteDb::BusyHandler(void* self, int count) {
  // Another connection holds the lock, usually for well under a millisecond
  // (catalog transactions are short). SQLite's own handler sleeps 1, 2, 5,
  // 10, ... ms, so two workers and a scanner in one process spent more time
  // asleep than working; back off from 50 us to 2 ms instead, until the
  // timeout.
  auto* db = static_cast<SqliteDb*>(self);
  auto now = std::chrono::steady_clock::now();
  if (count == 0) db->busy_since_ = now;
  if (now - db->busy_since_ >= std::chrono::milliseconds(db->options_.busy_timeout_ms)) return 0;
  const int shift = std::min(count, 6);
  std::this_thread::sleep_for(std::chrono::microseconds(50 << shift));
  return 1;
}

Status SqliteDb::ErrorStatus(int rc, std::string_view what) const {
  std::string msg = "sqlite '" + path_ + "': " + std::string(what) + ": ";
  // sqlite3_errmsg describes the most recent failure on this connection; for
  // codes raised without one (e.g. a bind of a bad index) fall back to errstr.
  int last = db_ != nullptr ? sqlite3_extended_errcode(db_) : SQLITE_OK;
  msg += (db_ != nullptr && last == rc) ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  return Status(CodeFor(rc), std::move(msg));
}

Status SqliteDb::Exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::OK();
  std::string msg = err != nullptr ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  return Status(CodeFor(rc), "sqlite '" + path_ + "': run '" + ShortSql(sql) + "': " + msg);
}

Status SqliteDb::ExecWithBusyRetry(const char* sql, std::string_view what) {
  Status st;
  for (int attempt = 0; attempt <= options_.busy_retries; ++attempt) {
    st = Exec(sql);
    if (st.code() != StatusCode::kUnavailable) return st;
    std::this_thread::sleep_for(std::chrono::milliseconds(10 * (attempt + 1)));
  }
  return st.WithContext(std::string(what) + " (database stayed locked)");
}

void SqliteDb::Recycle(std::string sql, sqlite3_stmt* stmt) {
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  if (cache_.size() < kStatementCacheSize && cache_.emplace(std::move(sql), stmt).second) return;
  sqlite3_finalize(stmt);
}

Result<SqlStatement> SqliteDb::Prepare(std::string_view sql) {
  // The catalog runs the same few dozen statements for every batch; parsing
  // them again each time was a large share of its CPU. A statement in use is
  // not in the cache, so a nested use of the same text prepares a second one.
  std::string text(sql);
  if (auto it = cache_.find(text); it != cache_.end()) {
    sqlite3_stmt* cached = it->second;
    cache_.erase(it);
    return SqlStatement(std::make_unique<SqlStatementImpl>(this, cached, std::move(text)));
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), 0, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    Status st = ErrorStatus(rc, "prepare '" + ShortSql(sql) + "'");
    if (stmt != nullptr) sqlite3_finalize(stmt);
    return st;
  }
  if (stmt == nullptr) {
    return Status::Internal("sqlite '" + path_ + "': prepare: empty statement");
  }
  return SqlStatement(std::make_unique<SqlStatementImpl>(this, stmt, std::move(text)));
}

bool SqliteDb::InTransaction() const { return !sqlite3_get_autocommit(db_); }

Status SqliteDb::BeginImmediate() {
  // IMMEDIATE takes the write lock up front: a deferred transaction that reads
  // and then writes can fail with SQLITE_BUSY_SNAPSHOT in WAL mode, which the
  // busy handler does not retry.
  return ExecWithBusyRetry("BEGIN IMMEDIATE", "begin transaction");
}

Status SqliteDb::Commit() { return ExecWithBusyRetry("COMMIT", "commit"); }

void SqliteDb::Rollback() {
  if (InTransaction()) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

std::shared_ptr<SqliteDb::WriteGate> SqliteDb::WriteGateFor(const std::string& path) {
  // Keyed by the file itself (device and inode), not by how its path is spelt.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return nullptr;
  static std::mutex mu;
  static std::map<std::pair<dev_t, ino_t>, std::weak_ptr<WriteGate>> gates;
  std::lock_guard lock(mu);
  // Drop the gates of files no connection has open any more.
  for (auto it = gates.begin(); it != gates.end();) {
    it = it->second.expired() ? gates.erase(it) : std::next(it);
  }
  auto& slot = gates[{st.st_dev, st.st_ino}];
  std::shared_ptr<WriteGate> gate = slot.lock();
  if (gate == nullptr) {
    gate = std::make_shared<WriteGate>();
    slot = gate;
  }
  return gate;
}

Status SqliteDb::Transaction(const std::function<Status()>& body) {
  if (InTransaction()) return body();
  struct Hold {  // releases the gate on every path out
    WriteGate* gate = nullptr;
    ~Hold() {
      if (gate != nullptr) gate->Release();
    }
  } hold;
  if (write_gate_ != nullptr) {
    // Bounded like SQLite's own wait: a transaction of this process that
    // never ends must not hang every other thread.
    if (!write_gate_->Acquire(std::chrono::milliseconds(options_.busy_timeout_ms))) {
      return Status::Unavailable("sqlite '" + path_ +
                                 "': begin transaction: another connection of this process "
                                 "held the write lock for " +
                                 std::to_string(options_.busy_timeout_ms) + " ms");
    }
    hold.gate = write_gate_.get();
  }
  RETURN_IF_ERROR(BeginImmediate());
  Status st = body();
  if (st.ok()) st = Commit();
  if (!st.ok()) Rollback();
  return st;
}

Status SqliteDb::ReadTransaction(const std::function<Status()>& body) {
  if (InTransaction()) return body();
  RETURN_IF_ERROR(ExecWithBusyRetry("BEGIN DEFERRED", "begin read transaction"));
  Status st = body();
  // Ending a read-only transaction cannot fail for lack of a lock, but COMMIT
  // would write if `body` did; either way the result of `body` wins.
  if (st.ok()) st = Commit();
  if (!st.ok()) Rollback();
  return st;
}

int64_t SqliteDb::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }

int64_t SqliteDb::Changes() const { return sqlite3_changes64(db_); }

Result<bool> SqliteDb::TableExists(std::string_view name) {
  ASSIGN_OR_RETURN(SqlStatement stmt,
                   Prepare("SELECT 1 FROM sqlite_master WHERE type IN ('table','view') AND "
                           "name = ?1"));
  stmt.Bind(1, name);
  return stmt.Step();
}

Status SqliteDb::QuickCheck() {
  ASSIGN_OR_RETURN(SqlStatement s, Prepare("PRAGMA quick_check(20)"));
  std::string problems;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    std::string line = s.ColumnText(0);
    if (line == "ok") continue;
    problems += (problems.empty() ? "" : "; ") + line;
  }
  if (problems.empty()) return Status::OK();
  return Status::DataLoss(problems);
}

}  // namespace sluice
