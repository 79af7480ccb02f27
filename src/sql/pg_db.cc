#include "sql/pg_db.h"

#include <libpq-fe.h>
#include <poll.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/value_text.h"

namespace sluice {

namespace {

// Type OIDs of the parameters sent (pg_type.h; stable since PostgreSQL 7).
constexpr Oid kInt8Oid = 20;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kByteaOid = 17;
constexpr Oid kBoolOid = 16;

StatusCode CodeForSqlState(std::string_view state) {
  if (state == "23505") return StatusCode::kAlreadyExists;
  if (state == "55P03") return StatusCode::kUnavailable;
  if (state == "3D000") return StatusCode::kIOError;
  std::string_view cls = state.substr(0, 2);
  if (cls == "08" || cls == "40" || cls == "53" || cls == "57") return StatusCode::kUnavailable;
  if (cls == "28") return StatusCode::kIOError;
  // XX001/XX002: data or index corruption.
  if (state == "XX001" || state == "XX002") return StatusCode::kDataLoss;
  return StatusCode::kInternal;
}

// A hex digit's value, or -1.
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class PgStatement final : public SqlStatement::Impl {
 public:
  PgStatement(PgDb* db, std::string sql, std::string original)
      : db_(db), sql_(std::move(sql)), original_(std::move(original)) {}
  ~PgStatement() override { Clear(); }
  PgStatement(const PgStatement&) = delete;
  PgStatement& operator=(const PgStatement&) = delete;

  void BindInt64(int index, int64_t value) override {
    Param(index) = {std::to_string(value), kInt8Oid, 0};
  }
  void BindDouble(int index, double value) override {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    Param(index) = {std::string(buf, ec == std::errc() ? end : buf), kFloat8Oid, 0};
  }
  void BindText(int index, std::string_view text) override {
    // `unknown`: PostgreSQL gives it the type the context needs (a TEXT
    // column, a comparison), as SQLite's dynamic typing does.
    Param(index) = {std::string(text), 0, 0};
  }
  void BindBlob(int index, std::string_view bytes) override {
    Param(index) = {std::string(bytes), kByteaOid, 1};
  }
  void BindNull(int index) override { Param(index) = {std::nullopt, 0, 0}; }

  Result<bool> Step() override {
    if (result_ == nullptr) RETURN_IF_ERROR(Run());
    if (row_ + 1 >= PQntuples(result_)) {
      row_ = PQntuples(result_);
      return false;
    }
    ++row_;
    return true;
  }
  void Reset() override { Clear(); }
  void ClearBindings() override { params_.clear(); }

  int ColumnCount() const override { return result_ != nullptr ? PQnfields(result_) : 0; }
  bool ColumnIsNull(int col) const override {
    return !HasRow(col) || PQgetisnull(result_, row_, col) != 0;
  }
  int64_t ColumnInt64(int col) const override {
    if (ColumnIsNull(col)) return 0;
    const char* v = PQgetvalue(result_, row_, col);
    if (PQftype(result_, col) == kBoolOid) return v[0] == 't' ? 1 : 0;
    int64_t out = 0;
    const char* end = v + std::strlen(v);
    auto [p, ec] = std::from_chars(v, end, out);
    if (ec == std::errc() && p == end) return out;
    // numeric (a SUM of bigints) or a double: keep the integral part.
    return static_cast<int64_t>(std::strtod(v, nullptr));
  }
  double ColumnDouble(int col) const override {
    if (ColumnIsNull(col)) return 0;
    return std::strtod(PQgetvalue(result_, row_, col), nullptr);
  }
  std::string ColumnText(int col) const override {
    if (ColumnIsNull(col)) return {};
    const char* v = PQgetvalue(result_, row_, col);
    size_t n = static_cast<size_t>(PQgetlength(result_, row_, col));
    if (PQftype(result_, col) == kByteaOid && n >= 2 && v[0] == '\\' && v[1] == 'x') {
      std::string out;
      out.reserve((n - 2) / 2);
      for (size_t i = 2; i + 1 < n; i += 2) {
        out.push_back(static_cast<char>(HexValue(v[i]) * 16 + HexValue(v[i + 1])));
      }
      return out;
    }
    return std::string(v, n);
  }
  std::string_view sql() const override { return original_; }

 private:
  struct Bound {
    std::optional<std::string> value;
    Oid type = 0;
    int format = 0;  // 0 text, 1 binary
  };

  Bound& Param(int index) {
    if (index < 1) index = 1;
    if (params_.size() < static_cast<size_t>(index)) params_.resize(static_cast<size_t>(index));
    return params_[static_cast<size_t>(index) - 1];
  }
  bool HasRow(int col) const {
    return result_ != nullptr && row_ >= 0 && row_ < PQntuples(result_) && col >= 0 &&
           col < PQnfields(result_);
  }
  void Clear() {
    if (result_ != nullptr) PQclear(result_);
    result_ = nullptr;
    row_ = -1;
  }

  Status Run() {
    ASSIGN_OR_RETURN(pg_conn * conn, db_->Connection());
    std::vector<Oid> types;
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    for (const Bound& b : params_) {
      types.push_back(b.type);
      values.push_back(b.value ? b.value->c_str() : nullptr);
      lengths.push_back(b.value ? static_cast<int>(b.value->size()) : 0);
      formats.push_back(b.format);
    }
    PGresult* r = PQexecParams(conn, sql_.c_str(), static_cast<int>(params_.size()), types.data(),
                               values.data(), lengths.data(), formats.data(), 0);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
      Status err = db_->CommandError(r, "run '" + ShortSql(original_) + "'");
      PQclear(r);
      return err;
    }
    const char* tuples = PQcmdTuples(r);
    db_->SetChanges(tuples != nullptr && *tuples != '\0' ? std::strtoll(tuples, nullptr, 10) : 0);
    result_ = r;
    row_ = -1;
    return Status::OK();
  }

  PgDb* db_;
  std::string sql_;
  std::string original_;
  std::vector<Bound> params_;
  PGresult* result_ = nullptr;
  int row_ = -1;
};

}  // namespace

Status CheckPostgresDsn(std::string_view dsn) {
  const std::string text(dsn);
  char* err = nullptr;
  PQconninfoOption* options = PQconninfoParse(text.c_str(), &err);
  std::string password;
  std::string port_error;
  if (options != nullptr) {
    for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
      if (o->val == nullptr) continue;
      if (std::strcmp(o->keyword, "password") == 0) password = o->val;
      // libpq reads ports only when it connects; a typo should not wait for that.
      if (std::strcmp(o->keyword, "port") == 0) {
        std::string_view ports = o->val;
        while (port_error.empty()) {
          const size_t comma = ports.find(',');
          const std::string_view p = ports.substr(0, comma);
          int64_t n = 0;
          if (!p.empty() && (!ParseInt64(p, &n) || n < 1 || n > 65535)) {
            port_error = "port '" + std::string(p) + "' is not a number from 1 to 65535";
          }
          if (comma == std::string_view::npos) break;
          ports.remove_prefix(comma + 1);
        }
      }
    }
    PQconninfoFree(options);
  }
  if (err == nullptr && options != nullptr) {
    if (!port_error.empty()) {
      return Status::InvalidArgument("invalid PostgreSQL connection string: " + port_error);
    }
    return Status::OK();
  }
  std::string why = err != nullptr ? err : "out of memory";
  PQfreemem(err);
  while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
  // libpq quotes the part it could not read, which may be the password (one
  // it could not parse is not known here): with a password in the string,
  // every quoted part goes.
  why = RedactDsn(why);
  if (!password.empty()) {
    for (size_t at = why.find(password); at != std::string::npos; at = why.find(password, at)) {
      why.replace(at, password.size(), "***");
    }
  }
  if (RedactDsn(dsn) != dsn || text.find("password") != std::string::npos) {
    std::string scrubbed;
    bool quoted = false;
    for (char c : why) {
      if (c == '"') {
        scrubbed += quoted ? "***\"" : "\"";
        quoted = !quoted;
      } else if (!quoted) {
        scrubbed.push_back(c);
      }
    }
    why = scrubbed;
  }
  // The string itself is not repeated: a password libpq could not place
  // (e.g. "password secret") cannot be told from the rest.
  return Status::InvalidArgument("invalid PostgreSQL connection string: " + why);
}

std::string RedactDsn(std::string_view dsn) {
  std::string out(dsn);
  // URI userinfo: scheme://user:password@host
  size_t scheme = out.find("://");
  if (scheme != std::string::npos) {
    size_t start = scheme + 3;
    size_t end = out.find_first_of("/?", start);
    size_t at = out.rfind('@', end == std::string::npos ? out.size() : end);
    if (at != std::string::npos && at > start) {
      size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // password=... as a URI query parameter or a key=value pair.
  size_t pos = 0;
  while ((pos = out.find("password", pos)) != std::string::npos) {
    size_t p = pos + 8;
    while (p < out.size() && out[p] == ' ') ++p;
    bool starts_key = pos == 0 || out[pos - 1] == ' ' || out[pos - 1] == '?' || out[pos - 1] == '&';
    if (!starts_key || p >= out.size() || out[p] != '=') {
      pos = p;
      continue;
    }
    ++p;
    while (p < out.size() && out[p] == ' ') ++p;
    size_t end = p;
    if (end < out.size() && out[end] == '\'') {
      ++end;
      while (end < out.size() && out[end] != '\'') end += out[end] == '\\' ? 2 : 1;
      end = std::min(end + 1, out.size());
    } else {
      while (end < out.size() && out[end] != ' ' && out[end] != '&') ++end;
    }
    out.replace(p, end - p, "***");
    pos = p + 3;
  }
  return out;
}

std::string PostgresPlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int largest = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (c == '\'' || c == '"') {
      // Copy a quoted string or identifier whole (a doubled quote stays inside).
      size_t j = i + 1;
      while (j < sql.size()) {
        if (sql[j] == c) {
          if (j + 1 < sql.size() && sql[j + 1] == c) {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      size_t end = std::min(j + 1, sql.size());
      out.append(sql.substr(i, end - i));
      i = end - 1;
      continue;
    }
    if (c != '?') {
      out.push_back(c);
      continue;
    }
    size_t j = i + 1;
    int n = 0;
    while (j < sql.size() && sql[j] >= '0' && sql[j] <= '9') n = n * 10 + (sql[j++] - '0');
    if (j == i + 1) n = largest + 1;
    largest = std::max(largest, n);
    out += "$" + std::to_string(n);
    i = j - 1;
  }
  return out;
}

PgDb::PgDb(pg_conn* conn, std::string dsn, Options options)
    : conn_(conn),
      dsn_(std::move(dsn)),
      redacted_dsn_(RedactDsn(dsn_)),
      options_(std::move(options)) {}

PgDb::~PgDb() {
  if (conn_ != nullptr) PQfinish(conn_);
}

Result<std::unique_ptr<PgDb>> PgDb::Open(const std::string& dsn) { return Open(dsn, Options()); }

Result<std::unique_ptr<PgDb>> PgDb::Open(const std::string& dsn, const Options& options) {
  // Our defaults come before the DSN (dbname, expanded), so that what the
  // DSN says wins (libpq lets later keywords override earlier ones). Session
  // settings travel as the startup `options`, so a reconnect keeps them.
  const std::string timeout = std::to_string(options.connect_timeout_s);
  std::string settings = "-c client_min_messages=warning";
  for (const auto& [name, ms] :
       {std::pair<const char*, int>{"statement_timeout", options.statement_timeout_ms},
        {"lock_timeout", options.lock_timeout_ms},
        {"idle_in_transaction_session_timeout", options.idle_in_transaction_timeout_ms}}) {
    if (ms > 0) settings += std::string(" -c ") + name + "=" + std::to_string(ms);
  }
  const char* keys[] = {"connect_timeout", "application_name", "options", "dbname", nullptr};
  const char* values[] = {timeout.c_str(), options.application_name.c_str(), settings.c_str(),
                          dsn.c_str(), nullptr};
  pg_conn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  std::unique_ptr<PgDb> db(new PgDb(conn, dsn, options));
  if (conn == nullptr) {
    return Status::Unavailable(db->Describe() + ": out of memory while connecting");
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    // An unreachable or starting server may come back: transient. A refused
    // login or a missing database needs an operator.
    bool auth = msg.find("authentication") != std::string::npos ||
                msg.find("does not exist") != std::string::npos;
    return Status(auth ? StatusCode::kIOError : StatusCode::kUnavailable,
                  db->Describe() + ": connect: " + RedactDsn(msg));
  }
  return db;
}

Result<pg_conn*> PgDb::Connection() {
  if (PQstatus(conn_) == CONNECTION_OK) return conn_;
  if (in_transaction_) {
    return Status::Unavailable(Describe() + ": the connection was lost inside a transaction");
  }
  PQreset(conn_);
  if (PQstatus(conn_) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    return Status::Unavailable(Describe() + ": reconnect: " + RedactDsn(msg));
  }
  return conn_;
}

Status PgDb::CommandError(const void* pg_result, std::string_view what) const {
  const auto* r = static_cast<const PGresult*>(pg_result);
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string msg = r != nullptr ? PQresultErrorMessage(r) : "";
  if (msg.empty()) msg = PQerrorMessage(conn_);
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  // Without a SQLSTATE the server did not answer: the error is libpq's own,
  // about the connection (closed, reset, timed out), even while PQstatus
  // still says CONNECTION_OK (a COPY whose server vanished: seen with an
  // immediate shutdown mid-load). Transient, like any lost connection.
  StatusCode code = StatusCode::kUnavailable;
  if (state != nullptr) {
    code = CodeForSqlState(state);
    msg += std::string(" (SQLSTATE ") + state + ")";
  }
  return Status(code, Describe() + ": " + std::string(what) + ": " + RedactDsn(msg));
}

Status PgDb::ExecNoResult(const char* sql, std::string_view what) {
  ASSIGN_OR_RETURN(pg_conn * conn, Connection());
  PGresult* r = PQexec(conn, sql);
  ExecStatusType st = PQresultStatus(r);
  Status out;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) out = CommandError(r, what);
  // An INSERT/UPDATE/DELETE's row count (other commands have none).
  const char* tuples = PQcmdTuples(r);
  if (st == PGRES_COMMAND_OK && *tuples != '\0') SetChanges(std::strtoll(tuples, nullptr, 10));
  PQclear(r);
  return out;
}

Result<int64_t> PgDb::CopyIn(std::string_view copy_sql,
                             const std::function<Result<bool>(std::string& chunk)>& next,
                             bool* stopped_early) {
  if (stopped_early != nullptr) *stopped_early = false;
  ASSIGN_OR_RETURN(pg_conn * conn, Connection());
  const std::string sql(copy_sql);
  const std::string what = "run '" + ShortSql(copy_sql) + "'";
  PGresult* r = PQexec(conn, sql.c_str());
  if (PQresultStatus(r) != PGRES_COPY_IN) {
    Status st = CommandError(r, what);
    PQclear(r);
    return st;
  }
  PQclear(r);
  // Every chunk is sent (or the COPY ended) before the result is read.
  Status sent;
  std::string chunk;
  while (sent.ok()) {
    chunk.clear();
    auto more = next(chunk);
    if (!more.ok()) {
      sent = more.status();
      break;
    }
    if (!chunk.empty() && PQputCopyData(conn, chunk.data(), static_cast<int>(chunk.size())) != 1) {
      sent = Status::Unavailable(Describe() + ": " + what +
                                 ": sending data: " + RedactDsn(PQerrorMessage(conn)));
      break;
    }
    if (!*more) break;
    // Bytes from the server mid-COPY: an error (its rows rolled back) that
    // makes sending the rest pointless. (Bytes libpq already read while
    // waiting to send are not seen: then the rest is sent, as without.)
    if (stopped_early != nullptr) {
      pollfd p{PQsocket(conn), POLLIN, 0};
      if (poll(&p, 1, 0) > 0 && (p.revents & POLLIN) != 0) {
        *stopped_early = true;
        sent = Status::Aborted(Describe() + ": " + what + ": the server answered before the end");
        break;
      }
    }
  }
  // An abort message makes the server fail the COPY (and roll back what it
  // copied); the result below then carries its error, which ours replaces.
  const std::string abort_message = sent.ok() ? "" : "aborted by the client";
  if (PQputCopyEnd(conn, sent.ok() ? nullptr : abort_message.c_str()) != 1 && sent.ok()) {
    sent = Status::Unavailable(Describe() + ": " + what +
                               ": ending the copy: " + RedactDsn(PQerrorMessage(conn)));
  }
  int64_t rows = 0;
  Status server;
  while (PGresult* res = PQgetResult(conn)) {
    if (PQresultStatus(res) == PGRES_COMMAND_OK) {
      const char* n = PQcmdTuples(res);
      rows = (n != nullptr && *n != '\0') ? std::stoll(n) : 0;
    } else if (server.ok()) {
      server = CommandError(res, what);
    }
    PQclear(res);
  }
  if (stopped_early != nullptr && *stopped_early && !server.ok()) return server;
  if (!sent.ok()) return sent;
  if (!server.ok()) return server;
  return rows;
}

Status PgDb::Exec(std::string_view sql) {
  std::string text(sql);
  return ExecNoResult(text.c_str(), "run '" + ShortSql(sql) + "'");
}

Result<SqlStatement> PgDb::Prepare(std::string_view sql) {
  return SqlStatement(
      std::make_unique<PgStatement>(this, PostgresPlaceholders(sql), std::string(sql)));
}

Status PgDb::RunTransaction(const char* begin, bool advisory_lock,
                            const std::function<Status()>& body) {
  if (in_transaction_) return body();
  RETURN_IF_ERROR(ExecNoResult(begin, "begin transaction"));
  in_transaction_ = true;
  Status st;
  if (advisory_lock) {
    std::string lock = "SELECT pg_advisory_xact_lock(" + std::to_string(kCatalogLockKey) + ")";
    st = ExecNoResult(lock.c_str(), "take the catalog's write lock");
  }
  if (st.ok()) st = body();
  if (st.ok()) st = ExecNoResult("COMMIT", "commit");
  if (!st.ok() && PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) != PQTRANS_IDLE) {
    PGresult* r = PQexec(conn_, "ROLLBACK");
    PQclear(r);
  }
  in_transaction_ = false;
  return st;
}

Status PgDb::Transaction(const std::function<Status()>& body) {
  return RunTransaction("BEGIN", /*advisory_lock=*/true, body);
}

Status PgDb::RowLockTransaction(const std::function<Status()>& body) {
  return RunTransaction("BEGIN", /*advisory_lock=*/false, body);
}

Status PgDb::ReadTransaction(const std::function<Status()>& body) {
  return RunTransaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                        /*advisory_lock=*/false, body);
}

Result<bool> PgDb::TableExists(std::string_view name) {
  ASSIGN_OR_RETURN(SqlStatement s, Prepare("SELECT 1 FROM pg_catalog.pg_tables WHERE "
                                           "schemaname = current_schema() AND tablename = ?1 "
                                           "UNION ALL SELECT 1 FROM pg_catalog.pg_views WHERE "
                                           "schemaname = current_schema() AND viewname = ?1"));
  s.Bind(1, name);
  return s.Step();
}

}  // namespace sluice
