#include "sink/sqlite_sink.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/value_text.h"
#include "sink/sink_args.h"
#include "sql/sqlite_db.h"

namespace sluice {
namespace {

constexpr std::string_view kLedgerDdl =
    "CREATE TABLE IF NOT EXISTS _sluice_ledger(batch_id INTEGER, target TEXT, rows INTEGER, "
    "loaded_us INTEGER, attempt INTEGER, PRIMARY KEY(batch_id, target))";

// The column of every target table that names the batch that loaded the row.
constexpr std::string_view kBatchColumn = "_sluice_batch_id";

std::string_view SqlType(TypeId id) {
  switch (id) {
    case TypeId::kBool:
    case TypeId::kInt32:
    case TypeId::kInt64:
      return "INTEGER";
    case TypeId::kFloat64:
      return "REAL";
    case TypeId::kDecimal:
    case TypeId::kString:
    case TypeId::kDate:
    case TypeId::kTimestamp:
      return "TEXT";
  }
  return "TEXT";
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// SQLite's column affinity rules (https://sqlite.org/datatype3.html 3.1), so
// that a user-made "INT" or "VARCHAR(20)" column matches what we would create.
std::string Affinity(std::string_view declared) {
  std::string t = Upper(declared);
  if (t.find("INT") != std::string::npos) return "INTEGER";
  if (t.find("CHAR") != std::string::npos || t.find("CLOB") != std::string::npos ||
      t.find("TEXT") != std::string::npos) {
    return "TEXT";
  }
  if (t.empty() || t.find("BLOB") != std::string::npos) return "BLOB";
  if (t.find("REAL") != std::string::npos || t.find("FLOA") != std::string::npos ||
      t.find("DOUB") != std::string::npos) {
    return "REAL";
  }
  return "NUMERIC";
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

class SqliteSink final : public Sink {
 public:
  explicit SqliteSink(SqliteSinkOptions options) : options_(std::move(options)) {}

  ~SqliteSink() override {
    insert_.reset();
    if (db_ != nullptr && db_->InTransaction()) db_->Rollback();
  }

  Status Open(const SinkContext& ctx) override {
    if (state_ != State::kNew) return Status::Internal(Describe() + ": Open called twice");
    schema_ = ctx.schema;
    for (const Field& f : schema_.fields()) {
      if (Upper(f.name) == Upper(kBatchColumn)) {
        return Status::InvalidArgument(Context() + ": column name '" + f.name +
                                       "' is reserved (sluice records each row's batch in it)");
      }
    }
    batch_id_ = ctx.batch_id;
    attempt_ = ctx.attempt;
    check_fence_ = ctx.check_fence;
    std::filesystem::path p(options_.path);
    if (p.is_relative()) {
      p = ctx.project_dir.empty() ? std::filesystem::absolute(p)
                                  : std::filesystem::path(ctx.project_dir) / p;
    }
    resolved_path_ = p.lexically_normal().string();
    stage_ = StagePrefix() + std::to_string(ctx.attempt) + "_" + options_.table;

    SqliteDb::Options db_options;
    db_options.busy_timeout_ms = options_.busy_timeout_ms;
    // The ledger row is the proof that a batch was loaded; it must survive a
    // power loss as long as the catalog commit that follows it does.
    db_options.synchronous = "FULL";
    auto db = SqliteDb::Open(resolved_path_, db_options);
    if (!db.ok()) return db.status().WithContext(Context());
    db_ = std::move(db).value();

    Status st = db_->Transaction([&]() -> Status {
      RETURN_IF_ERROR(db_->Exec(kLedgerDdl));
      // A ledger made before loads were keyed by batch: its rows have no
      // attempt (NULL), which Load reads as "rows that cannot be replaced".
      ASSIGN_OR_RETURN(bool has_attempt, HasColumn("_sluice_ledger", "attempt"));
      if (!has_attempt) {
        RETURN_IF_ERROR(db_->Exec("ALTER TABLE _sluice_ledger ADD COLUMN attempt INTEGER"));
      }
      RETURN_IF_ERROR(CheckTarget());
      RETURN_IF_ERROR(DropDeadStages());
      RETURN_IF_ERROR(db_->Exec("DROP TABLE IF EXISTS " + QuoteIdentifier(stage_)));
      return db_->Exec(CreateTableSql(stage_, /*not_null=*/false));
    });
    if (!st.ok()) return st.WithContext(Context());

    std::string sql = "INSERT INTO " + QuoteIdentifier(stage_) + " VALUES (";
    for (int i = 0; i < schema_.num_fields(); ++i) sql += i == 0 ? "?" : ",?";
    sql += ")";
    auto stmt = db_->Prepare(sql);
    if (!stmt.ok()) return stmt.status().WithContext(Context());
    insert_.emplace(std::move(stmt).value());
    state_ = State::kOpen;
    return Status::OK();
  }

  Status Write(const RecordBatch& batch) override {
    if (state_ != State::kOpen) return Status::Internal(Describe() + ": Write outside Open/Finish");
    if (static_cast<int>(batch.columns.size()) != schema_.num_fields()) {
      return Status::Internal(Context() + ": batch has " + std::to_string(batch.columns.size()) +
                              " columns, the output schema " +
                              std::to_string(schema_.num_fields()));
    }
    // One transaction per slice of rows_per_transaction rows, committed before
    // returning: holding SQLite's write lock between Write calls would block
    // other writers of the file while the engine decodes the next batch.
    const int64_t n = batch.num_rows();
    for (int64_t start = 0; start < n; start += options_.rows_per_transaction) {
      const int64_t end = std::min(n, start + options_.rows_per_transaction);
      Status st = db_->Transaction([&]() -> Status {
        for (int64_t row = start; row < end; ++row) {
          insert_->Reset();
          insert_->ClearBindings();
          for (int c = 0; c < schema_.num_fields(); ++c) BindValue(batch.columns[c], row, c + 1);
          RETURN_IF_ERROR(insert_->Exec());
        }
        return Status::OK();
      });
      if (!st.ok()) return st.WithContext(Context());
      rows_ += end - start;
    }
    return Status::OK();
  }

  Result<StagedOutput> Finish() override {
    if (state_ != State::kOpen) return Status::Internal(Describe() + ": Finish outside Open");
    insert_.reset();
    state_ = State::kFinished;
    StagedOutput out;
    out.lineage = OutputLineage{"sqlite:" + resolved_path_ + "#" + options_.table, rows_};
    return out;
  }

  Status Load() override {
    if (state_ != State::kFinished) return Status::Internal(Describe() + ": Load before Finish");
    Status st = db_->Transaction([&]() -> Status {
      ASSIGN_OR_RETURN(SqlStatement seen,
                       db_->Prepare("SELECT rows, attempt FROM _sluice_ledger WHERE batch_id = ? "
                                    "AND target = ?"));
      seen.Bind(1, batch_id_).Bind(2, options_.table);
      ASSIGN_OR_RETURN(bool loaded, seen.Step());
      const bool legacy = loaded && seen.ColumnIsNull(1);
      const int64_t loaded_attempt = loaded && !legacy ? seen.ColumnInt64(1) : 0;
      const int64_t loaded_rows = loaded ? seen.ColumnInt64(0) : 0;
      // A statement left mid-result keeps the schema locked: DROP TABLE would
      // fail with SQLITE_LOCKED.
      seen.Reset();
      // Last check before rows become visible: a newer attempt owns the
      // batch once it has started, and a stale attempt must change nothing.
      if (check_fence_) RETURN_IF_ERROR(check_fence_());
      if (loaded && !legacy && loaded_attempt >= attempt_) {
        if (loaded_attempt > attempt_) {
          return Status::Aborted("batch " + std::to_string(batch_id_) + " was loaded by attempt " +
                                 std::to_string(loaded_attempt) + ", newer than this one (" +
                                 std::to_string(attempt_) + ")");
        }
        // This attempt loaded it already (a Load repeated after a lost reply).
        return db_->Exec("DROP TABLE IF EXISTS " + QuoteIdentifier(stage_));
      }
      if (legacy) {
        return Status::FailedPrecondition(
            "table '" + options_.table + "' holds " + std::to_string(loaded_rows) +
            " row(s) of batch " + std::to_string(batch_id_) +
            " loaded by an older sluice, without _sluice_batch_id, so they cannot be replaced; "
            "delete them and the batch's row in _sluice_ledger by hand, then replay the batch");
      }
      // Created here rather than at Open so that nothing is visible before
      // the first load; re-checked because another batch may have created it
      // since our Open.
      RETURN_IF_ERROR(db_->Exec(CreateTableSql(options_.table, /*not_null=*/true)));
      RETURN_IF_ERROR(CheckTarget());
      RETURN_IF_ERROR(EnsureBatchColumn());
      std::string cols;
      for (const Field& f : schema_.fields()) {
        if (!cols.empty()) cols += ", ";
        cols += QuoteIdentifier(f.name);
      }
      const std::string target = QuoteIdentifier(options_.table);
      const std::string batch_col = QuoteIdentifier(kBatchColumn);
      const std::string id = std::to_string(batch_id_);
      if (loaded) {
        // An earlier attempt's rows (a replay, or a retry after a crash
        // between this load and the catalog commit): replaced, in this
        // transaction, by this attempt's.
        RETURN_IF_ERROR(db_->Exec("DELETE FROM " + target + " WHERE " + batch_col + " = " + id));
      }
      RETURN_IF_ERROR(db_->Exec("INSERT INTO " + target + " (" + cols + ", " + batch_col +
                                ") SELECT " + cols + ", " + id + " FROM " +
                                QuoteIdentifier(stage_)));
      const int64_t copied = db_->Changes();
      ASSIGN_OR_RETURN(
          SqlStatement ledger,
          db_->Prepare("INSERT INTO _sluice_ledger(batch_id, target, rows, loaded_us, attempt) "
                       "VALUES (?, ?, ?, ?, ?) ON CONFLICT (batch_id, target) DO UPDATE SET "
                       "rows = excluded.rows, loaded_us = excluded.loaded_us, "
                       "attempt = excluded.attempt"));
      ledger.Bind(1, batch_id_).Bind(2, options_.table).Bind(3, copied).Bind(4, NowMicros());
      ledger.Bind(5, static_cast<int64_t>(attempt_));
      RETURN_IF_ERROR(ledger.Exec());
      return db_->Exec("DROP TABLE IF EXISTS " + QuoteIdentifier(stage_));
    });
    if (!st.ok()) return st.WithContext(Context());
    db_.reset();
    state_ = State::kDone;
    return Status::OK();
  }

  void Discard() override {
    insert_.reset();
    if (db_ != nullptr) {
      if (db_->InTransaction()) db_->Rollback();
      // Best effort: if this fails the next attempt's Open drops the table.
      db_->Exec("DROP TABLE IF EXISTS " + QuoteIdentifier(stage_)).IgnoreError();
      db_.reset();
    }
    state_ = State::kDone;
  }

  Status HealthCheck() override {
    std::unique_ptr<SqliteDb> temp;
    SqliteDb* db = db_.get();
    if (db == nullptr) {
      if (resolved_path_.empty()) return Status::FailedPrecondition(Describe() + ": not opened");
      auto opened = SqliteDb::Open(resolved_path_);
      if (!opened.ok()) return opened.status().WithContext(Describe());
      temp = std::move(opened).value();
      db = temp.get();
    }
    auto stmt = db->Prepare("SELECT count(*) FROM sqlite_master");
    if (!stmt.ok()) return stmt.status().WithContext(Describe());
    auto row = stmt->Step();
    return row.ok() ? Status::OK() : row.status().WithContext(Describe());
  }

  std::string Describe() const override { return "sqlite:" + options_.path + "#" + options_.table; }

 private:
  enum class State { kNew, kOpen, kFinished, kDone };

  std::string Context() const {
    return (options_.where.empty() ? "" : options_.where + ": ") + "sqlite output '" +
           options_.path + "#" + options_.table + "'";
  }

  std::string StagePrefix() const { return "_sluice_stage_b" + std::to_string(batch_id_) + "_a"; }

  std::string CreateTableSql(const std::string& name, bool not_null) const {
    std::string sql = "CREATE TABLE IF NOT EXISTS " + QuoteIdentifier(name) + " (";
    for (int i = 0; i < schema_.num_fields(); ++i) {
      const Field& f = schema_.field(i);
      if (i > 0) sql += ", ";
      sql += QuoteIdentifier(f.name);
      sql += " ";
      sql += SqlType(f.type.id);
      if (not_null && !f.nullable) sql += " NOT NULL";
    }
    if (name == options_.table) sql += ", " + QuoteIdentifier(kBatchColumn) + " INTEGER";
    sql += ")";
    return sql;
  }

  Result<bool> HasColumn(const std::string& table, std::string_view column) {
    ASSIGN_OR_RETURN(SqlStatement info,
                     db_->Prepare("SELECT 1 FROM pragma_table_info(?) WHERE name = ?"));
    info.Bind(1, table).Bind(2, std::string(column));
    return info.Step();
  }

  // The target's batch column (added to a table made by an older sluice,
  // NULL in its rows) and its index, which makes replacing a batch's rows a
  // lookup rather than a scan.
  Status EnsureBatchColumn() {
    ASSIGN_OR_RETURN(bool has, HasColumn(options_.table, kBatchColumn));
    if (!has) {
      RETURN_IF_ERROR(db_->Exec("ALTER TABLE " + QuoteIdentifier(options_.table) + " ADD COLUMN " +
                                QuoteIdentifier(kBatchColumn) + " INTEGER"));
    }
    return db_->Exec("CREATE INDEX IF NOT EXISTS " +
                     QuoteIdentifier("_sluice_idx_" + options_.table + "_batch") + " ON " +
                     QuoteIdentifier(options_.table) + " (" + QuoteIdentifier(kBatchColumn) + ")");
  }

  // OK if the target is missing or has our columns (names, order, affinity).
  Status CheckTarget() {
    ASSIGN_OR_RETURN(SqlStatement info,
                     db_->Prepare("SELECT name, type FROM pragma_table_info(?)"));
    info.Bind(1, options_.table);
    std::vector<std::pair<std::string, std::string>> cols;
    while (true) {
      ASSIGN_OR_RETURN(bool row, info.Step());
      if (!row) break;
      cols.emplace_back(info.ColumnText(0), info.ColumnText(1));
    }
    if (cols.empty()) return Status::OK();
    // The batch column is sluice's own (a table made by an older sluice lacks it).
    if (Upper(cols.back().first) == Upper(kBatchColumn)) cols.pop_back();
    auto describe_existing = [&] {
      std::string s;
      for (const auto& [name, type] : cols) s += (s.empty() ? "" : ", ") + name + " " + type;
      return s;
    };
    auto describe_expected = [&] {
      std::string s;
      for (const Field& f : schema_.fields()) {
        s += (s.empty() ? "" : ", ") + f.name + " " + std::string(SqlType(f.type.id));
      }
      return s;
    };
    bool same = static_cast<int>(cols.size()) == schema_.num_fields();
    for (int i = 0; same && i < schema_.num_fields(); ++i) {
      same = Upper(cols[i].first) == Upper(schema_.field(i).name) &&
             Affinity(cols[i].second) == SqlType(schema_.field(i).type.id);
    }
    if (same) return Status::OK();
    return Status::FailedPrecondition("table '" + options_.table + "' exists with columns (" +
                                      describe_existing() + ") but the output needs (" +
                                      describe_expected() + ")");
  }

  // Stage tables of older attempts at this batch and table are dead (the
  // catalog never lets an older attempt commit). A newer attempt's belongs to
  // a live worker: this one may be stale without knowing it yet.
  Status DropDeadStages() {
    const std::string prefix = StagePrefix();
    const std::string suffix = "_" + options_.table;
    ASSIGN_OR_RETURN(SqlStatement list,
                     db_->Prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                  "substr(name, 1, ?) = ?"));
    list.Bind(1, static_cast<int64_t>(prefix.size())).Bind(2, prefix);
    std::vector<std::string> dead;
    while (true) {
      ASSIGN_OR_RETURN(bool row, list.Step());
      if (!row) break;
      std::string name = list.ColumnText(0);
      if (name == stage_ || name.size() <= prefix.size() + suffix.size()) continue;
      if (name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
      std::string_view attempt(name.data() + prefix.size(),
                               name.size() - prefix.size() - suffix.size());
      if (AllDigits(attempt) && attempt.size() < 12 &&
          std::stoll(std::string(attempt)) < attempt_) {
        dead.push_back(std::move(name));
      }
    }
    for (const std::string& name : dead) {
      RETURN_IF_ERROR(db_->Exec("DROP TABLE IF EXISTS " + QuoteIdentifier(name)));
    }
    return Status::OK();
  }

  void BindValue(const Column& col, int64_t row, int index) {
    if (col.IsNull(row)) {
      insert_->BindNull(index);
      return;
    }
    switch (col.type().id) {
      case TypeId::kBool:
        insert_->Bind(index, static_cast<int64_t>(col.Value<uint8_t>(row) != 0));
        break;
      case TypeId::kInt32:
        insert_->Bind(index, static_cast<int64_t>(col.Value<int32_t>(row)));
        break;
      case TypeId::kInt64:
        insert_->Bind(index, col.Value<int64_t>(row));
        break;
      case TypeId::kFloat64:
        insert_->Bind(index, col.Value<double>(row));
        break;
      case TypeId::kDecimal:
        insert_->Bind(index, FormatDecimal(col.Value<int64_t>(row), col.type().scale));
        break;
      case TypeId::kString:
        insert_->Bind(index, col.GetString(row));
        break;
      case TypeId::kDate:
        insert_->Bind(index, FormatDate(col.Value<int32_t>(row)));
        break;
      case TypeId::kTimestamp:
        insert_->Bind(index, FormatTimestamp(col.Value<int64_t>(row)));
        break;
    }
  }

  SqliteSinkOptions options_;
  State state_ = State::kNew;
  Schema schema_;
  int64_t batch_id_ = 0;
  std::string resolved_path_;
  std::string stage_;
  int attempt_ = 0;
  std::function<Status()> check_fence_;
  std::unique_ptr<SqliteDb> db_;
  std::optional<SqlStatement> insert_;  // destroyed before db_
  int64_t rows_ = 0;
};

}  // namespace

Status SqliteSinkOptions::Validate() const {
  std::string ctx = (where.empty() ? "" : where + ": ") + "sqlite output";
  if (path.empty()) return Status::InvalidArgument(ctx + ": 'path' is required");
  if (!IsPlainIdentifier(table)) {
    return Status::InvalidArgument(ctx + ": 'table': '" + table +
                                   "' is not a valid table name (use [A-Za-z_][A-Za-z0-9_]*)");
  }
  if (Upper(table).rfind("_SLUICE_", 0) == 0) {
    return Status::InvalidArgument(ctx + ": 'table': names starting with _sluice_ are reserved");
  }
  if (busy_timeout_ms < 0 || rows_per_transaction < 1) {
    return Status::InvalidArgument(ctx + ": limits must be positive");
  }
  return Status::OK();
}

Result<SqliteSinkOptions> ParseSqliteSinkOptions(const nlohmann::json& args,
                                                 const std::string& where) {
  SinkArgs a(args, where, "sqlite output");
  RETURN_IF_ERROR(a.CheckKeys({"path", "table"}));
  SqliteSinkOptions o;
  o.where = where;
  ASSIGN_OR_RETURN(o.path, a.RequiredString("path"));
  ASSIGN_OR_RETURN(o.table, a.RequiredString("table"));
  RETURN_IF_ERROR(o.Validate());
  return o;
}

std::unique_ptr<Sink> NewSqliteSink(SqliteSinkOptions options) {
  return std::make_unique<SqliteSink>(std::move(options));
}

}  // namespace sluice
