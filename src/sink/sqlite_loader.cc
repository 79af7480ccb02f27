#include "sink/sqlite_loader.h"

#include <cctype>
#include <filesystem>
#include <map>
#include <optional>
#include <utility>

#include "core/clock.h"
#include "core/value_text.h"
#include "sink/pg_copy.h"
#include "sink/sink_args.h"

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

std::string Context(const SqliteOutputOptions& out) {
  return (out.where.empty() ? "" : out.where + ": ") + "sqlite output '" + out.path + "#" +
         out.table + "'";
}

// The table's columns (upper-cased name -> declared type), empty if it is missing.
Result<std::map<std::string, std::string>> TableColumns(SqliteDb& db, const std::string& table) {
  ASSIGN_OR_RETURN(SqlStatement info, db.Prepare("SELECT name, type FROM pragma_table_info(?)"));
  info.Bind(1, table);
  std::map<std::string, std::string> cols;
  while (true) {
    ASSIGN_OR_RETURN(bool row, info.Step());
    if (!row) break;
    cols[Upper(info.ColumnText(0))] = info.ColumnText(1);
  }
  return cols;
}

void BindValue(SqlStatement& insert, const Column& col, int64_t row, int index) {
  if (col.IsNull(row)) {
    insert.BindNull(index);
    return;
  }
  switch (col.type().id) {
    case TypeId::kBool:
      insert.Bind(index, static_cast<int64_t>(col.Value<uint8_t>(row) != 0));
      break;
    case TypeId::kInt32:
      insert.Bind(index, static_cast<int64_t>(col.Value<int32_t>(row)));
      break;
    case TypeId::kInt64:
      insert.Bind(index, col.Value<int64_t>(row));
      break;
    case TypeId::kFloat64:
      insert.Bind(index, col.Value<double>(row));
      break;
    case TypeId::kDecimal:
      insert.Bind(index, FormatDecimal(col.Value<int64_t>(row), col.type().scale));
      break;
    case TypeId::kString:
      insert.Bind(index, col.GetString(row));
      break;
    case TypeId::kDate:
      insert.Bind(index, FormatDate(col.Value<int32_t>(row)));
      break;
    case TypeId::kTimestamp:
      insert.Bind(index, FormatTimestamp(col.Value<int64_t>(row)));
      break;
  }
}

}  // namespace

std::string SqliteOutputOptions::Describe() const { return "sqlite:" + path + "#" + table; }

Result<SqliteOutputOptions> ParseSqliteOutputOptions(const nlohmann::json& args,
                                                     const std::string& where) {
  SinkArgs a(args, where, "sqlite output");
  RETURN_IF_ERROR(a.CheckKeys({"path", "table", "schema_evolution", "max_rows_per_second",
                               "max_bytes_per_second", "high_water_rows", "high_water_bytes",
                               "low_water_rows", "low_water_bytes"}));
  SqliteOutputOptions o;
  o.where = where;
  ASSIGN_OR_RETURN(o.path, a.RequiredString("path"));
  ASSIGN_OR_RETURN(o.table, a.RequiredString("table"));
  if (!IsPlainIdentifier(o.table)) {
    return a.Error("table",
                   "'" + o.table + "' is not a valid table name (use [A-Za-z_][A-Za-z0-9_]*)");
  }
  if (Upper(o.table).rfind("_SLUICE_", 0) == 0) {
    return a.Error("table", "names starting with _sluice_ are reserved");
  }
  ASSIGN_OR_RETURN(o.limits, ParseDeliveryLimits(a, /*concurrency=*/false));
  ASSIGN_OR_RETURN(std::optional<std::string> evolution, a.String("schema_evolution"));
  if (evolution) {
    auto e = ParseSchemaEvolution(*evolution);
    if (!e.ok()) return a.Error("schema_evolution", e.status().message());
    o.schema_evolution = *e;
  }
  return o;
}

Result<std::vector<std::string>> PrepareSqliteTable(SqliteDb& db, const SqliteOutputOptions& out,
                                                    const Schema& schema) {
  std::vector<std::string> load;
  Status st = db.Transaction([&]() -> Status {
    load.clear();
    RETURN_IF_ERROR(db.Exec(kLedgerDdl));
    // A ledger made before loads were keyed by attempt: its rows have no
    // attempt (NULL), which a load reads as "rows that cannot be replaced".
    ASSIGN_OR_RETURN(auto ledger, TableColumns(db, "_sluice_ledger"));
    if (ledger.count("ATTEMPT") == 0) {
      RETURN_IF_ERROR(db.Exec("ALTER TABLE _sluice_ledger ADD COLUMN attempt INTEGER"));
    }
    const std::string target = QuoteIdentifier(out.table);
    const std::string batch_col = QuoteIdentifier(kBatchColumn);
    ASSIGN_OR_RETURN(auto cols, TableColumns(db, out.table));
    if (cols.empty()) {
      std::string ddl = "CREATE TABLE " + target + " (";
      for (const Field& f : schema.fields()) {
        ddl += QuoteIdentifier(f.name) + " " + std::string(SqlType(f.type.id)) +
               (f.nullable ? "" : " NOT NULL") + ", ";
        load.push_back(f.name);
      }
      RETURN_IF_ERROR(db.Exec(ddl + batch_col + " INTEGER)"));
    } else {
      const std::string policy =
          "(schema_evolution: " + std::string(SchemaEvolutionName(out.schema_evolution)) + ")";
      for (const Field& f : schema.fields()) {
        const std::string want(SqlType(f.type.id));
        auto it = cols.find(Upper(f.name));
        if (it != cols.end()) {
          if (Affinity(it->second) != want) {
            return Status::FailedPrecondition(
                "table '" + out.table + "' column '" + f.name + "' is " +
                (it->second.empty() ? "untyped" : it->second) + " but the output writes " +
                f.type.ToString() + " as " + want);
          }
          load.push_back(f.name);
          continue;
        }
        switch (out.schema_evolution) {
          case SchemaEvolution::kReject:
            return Status::FailedPrecondition("table '" + out.table + "' has no column '" + f.name +
                                              "' (" + f.type.ToString() + ") " + policy);
          case SchemaEvolution::kEvolve:
            RETURN_IF_ERROR(db.Exec("ALTER TABLE " + target + " ADD COLUMN " +
                                    QuoteIdentifier(f.name) + " " + want));
            load.push_back(f.name);
            break;
          case SchemaEvolution::kFreeze:
            break;  // not loaded
        }
      }
      if (cols.count(Upper(kBatchColumn)) == 0) {
        // A table made by an older sluice: its rows get NULL.
        RETURN_IF_ERROR(db.Exec("ALTER TABLE " + target + " ADD COLUMN " + batch_col + " INTEGER"));
      }
    }
    // Replacing a batch's rows is then a lookup, not a scan.
    return db.Exec("CREATE INDEX IF NOT EXISTS " +
                   QuoteIdentifier("_sluice_idx_" + out.table + "_batch") + " ON " + target + " (" +
                   batch_col + ")");
  });
  if (!st.ok()) return st.WithContext(Context(out));
  return load;
}

Result<LoadResult> LoadIntoSqlite(SqliteDb& db, const SqliteOutputOptions& out,
                                  const LoadRequest& req) {
  // The loaded fields' positions in the rows.
  std::vector<int> fields;
  std::string cols;
  for (int i = 0; i < req.schema.num_fields(); ++i) {
    const std::string& name = req.schema.field(i).name;
    if (!req.columns.empty() &&
        std::find(req.columns.begin(), req.columns.end(), name) == req.columns.end()) {
      continue;
    }
    fields.push_back(i);
    cols += QuoteIdentifier(name) + ", ";
  }
  const std::string target = QuoteIdentifier(out.table);
  const std::string batch_col = QuoteIdentifier(kBatchColumn);
  const std::string id = std::to_string(req.batch_id);
  LoadResult result;
  Status st = db.Transaction([&]() -> Status {
    result = LoadResult();
    ASSIGN_OR_RETURN(SqlStatement seen,
                     db.Prepare("SELECT rows, attempt FROM _sluice_ledger WHERE batch_id = ? "
                                "AND target = ?"));
    seen.Bind(1, req.batch_id).Bind(2, out.table);
    ASSIGN_OR_RETURN(bool loaded, seen.Step());
    const bool legacy = loaded && seen.ColumnIsNull(1);
    const int64_t loaded_attempt = loaded && !legacy ? seen.ColumnInt64(1) : 0;
    const int64_t loaded_rows = loaded ? seen.ColumnInt64(0) : 0;
    seen.Reset();
    if (legacy) {
      return Status::FailedPrecondition(
          "table '" + out.table + "' holds " + std::to_string(loaded_rows) + " row(s) of batch " +
          id +
          " loaded by an older sluice, without _sluice_batch_id, so they cannot be replaced; "
          "delete them and the batch's row in _sluice_ledger by hand, then replay the batch");
    }
    if (loaded && loaded_attempt == req.attempt) {
      result.outcome = LoadResult::Outcome::kAlreadyLoaded;
      result.rows = loaded_rows;
      return Status::OK();
    }
    if (loaded && loaded_attempt > req.attempt) {
      return Status::Aborted("batch " + id + " was loaded by attempt " +
                             std::to_string(loaded_attempt) + ", newer than this attempt " +
                             std::to_string(req.attempt));
    }
    if (loaded) {
      // An earlier attempt's rows (a replay): replaced in this transaction.
      RETURN_IF_ERROR(db.Exec("DELETE FROM " + target + " WHERE " + batch_col + " = " + id));
      result.outcome = LoadResult::Outcome::kReplaced;
    }
    std::string sql = "INSERT INTO " + target + " (" + cols + batch_col + ") VALUES (";
    for (size_t i = 0; i < fields.size(); ++i) sql += "?, ";
    ASSIGN_OR_RETURN(SqlStatement insert, db.Prepare(sql + id + ")"));
    // The stream's rows end with _sluice_batch_id (and, staged for an
    // upsert by an older sluice, _sluice_row; never for sqlite).
    PgCopyDecoder decoder(req.schema, /*extra_int8=*/1);
    std::string chunk;
    bool more = true;
    int64_t rows = 0;
    while (true) {
      ASSIGN_OR_RETURN(std::optional<RecordBatch> batch, decoder.Next());
      if (batch) {
        for (int64_t r = 0; r < batch->num_rows(); ++r) {
          insert.Reset();
          insert.ClearBindings();
          for (size_t i = 0; i < fields.size(); ++i) {
            BindValue(insert, batch->columns[fields[i]], r, static_cast<int>(i) + 1);
          }
          RETURN_IF_ERROR(insert.Exec());
        }
        rows += batch->num_rows();
        continue;
      }
      if (!more) break;
      chunk.clear();
      ASSIGN_OR_RETURN(more, req.next(chunk));
      RETURN_IF_ERROR(decoder.Feed(chunk));
      if (!more) RETURN_IF_ERROR(decoder.Finish());
    }
    result.rows = rows;
    ASSIGN_OR_RETURN(
        SqlStatement ledger,
        db.Prepare("INSERT INTO _sluice_ledger(batch_id, target, rows, loaded_us, attempt) "
                   "VALUES (?, ?, ?, ?, ?) ON CONFLICT (batch_id, target) DO UPDATE SET "
                   "rows = excluded.rows, loaded_us = excluded.loaded_us, "
                   "attempt = excluded.attempt"));
    ledger.Bind(1, req.batch_id).Bind(2, out.table).Bind(3, rows).Bind(4, NowMicros());
    ledger.Bind(5, static_cast<int64_t>(req.attempt));
    return ledger.Exec();
  });
  if (!st.ok()) return st.WithContext(Context(out));
  return result;
}

namespace {

class SqliteDatabaseOutput final : public DatabaseOutput {
 public:
  SqliteDatabaseOutput(SqliteOutputOptions options, std::string file)
      : o_(std::move(options)), file_(std::move(file)) {}

  std::string Describe() const override { return o_.Describe(); }
  std::string Table() const override { return o_.table; }
  const std::string& Database() const override { return file_; }
  std::string DatabaseDisplay() const override { return file_; }
  const DeliveryLimits& Limits() const override { return o_.limits; }

  Status CheckSchema(const Schema& schema) const override {
    for (const Field& f : schema.fields()) {
      if (Upper(f.name) == Upper(kBatchColumn)) {
        return Status::InvalidArgument(Context(o_) + ": column name '" + f.name +
                                       "' is reserved (sluice records each row's batch in it)");
      }
    }
    return Status::OK();
  }

  Result<std::unique_ptr<SqlDb>> Connect() const override {
    SqliteDb::Options options;
    options.busy_timeout_ms = o_.busy_timeout_ms;
    // The ledger row is the proof that a batch was loaded: it must survive
    // a power loss once the delivery says delivered.
    options.synchronous = "FULL";
    auto db = SqliteDb::Open(file_, options);
    if (!db.ok()) return db.status().WithContext(Context(o_));
    return std::unique_ptr<SqlDb>(std::move(*db));
  }

  Result<std::vector<std::string>> Prepare(SqlDb& db, const Schema& schema) const override {
    ASSIGN_OR_RETURN(SqliteDb * s, Sqlite(db));
    return PrepareSqliteTable(*s, o_, schema);
  }

  Result<LoadResult> Load(SqlDb& db, const LoadRequest& req) const override {
    ASSIGN_OR_RETURN(SqliteDb * s, Sqlite(db));
    return LoadIntoSqlite(*s, o_, req);
  }

  // A local file: never "down" (a busy file is retried, not broken off).
  bool Unreachable(const Status&) const override { return false; }

 private:
  static Result<SqliteDb*> Sqlite(SqlDb& db) {
    auto* s = dynamic_cast<SqliteDb*>(&db);
    if (s == nullptr) return Status::Internal("an sqlite output given another database");
    return s;
  }

  SqliteOutputOptions o_;
  std::string file_;
};

}  // namespace

Result<std::unique_ptr<DatabaseOutput>> NewSqliteDatabaseOutput(const nlohmann::json& args,
                                                                const std::string& where,
                                                                const std::string& project_dir) {
  ASSIGN_OR_RETURN(SqliteOutputOptions o, ParseSqliteOutputOptions(args, where));
  std::filesystem::path p(o.path);
  if (p.is_relative()) {
    p = project_dir.empty() ? std::filesystem::absolute(p) : std::filesystem::path(project_dir) / p;
  }
  std::string file = p.lexically_normal().string();
  return std::unique_ptr<DatabaseOutput>(
      std::make_unique<SqliteDatabaseOutput>(std::move(o), std::move(file)));
}

}  // namespace sluice
