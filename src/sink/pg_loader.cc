#include "sink/pg_loader.h"

#include <map>
#include <set>
#include <utility>
#include <vector>

#include "sink/pg_copy.h"

namespace sluice {

namespace {

std::string Qualified(const PostgresOutputOptions& out, std::string_view name) {
  return (out.schema_name.empty() ? "" : QuoteIdentifier(out.schema_name) + ".") +
         QuoteIdentifier(name);
}

std::string Target(const PostgresOutputOptions& out) { return Qualified(out, out.table); }
std::string Ledger(const PostgresOutputOptions& out) { return Qualified(out, "sluice_ledger"); }

std::string ColumnList(const Schema& schema) {
  std::string cols;
  for (const Field& f : schema.fields())
    cols += (cols.empty() ? "" : ", ") + QuoteIdentifier(f.name);
  return cols;
}

// The target's columns and their types (format_type); empty if it does not exist.
Result<std::map<std::string, std::string>> TableColumns(PgDb& db, const std::string& qualified) {
  ASSIGN_OR_RETURN(SqlStatement s,
                   db.Prepare("SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) "
                              "FROM pg_attribute a WHERE a.attrelid = to_regclass(?1) "
                              "AND a.attnum > 0 AND NOT a.attisdropped"));
  s.Bind(1, qualified);
  std::map<std::string, std::string> cols;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    cols[s.ColumnText(0)] = s.ColumnText(1);
  }
  return cols;
}

// DDL that two loaders may run at once: CREATE ... IF NOT EXISTS can still
// collide in the system catalogs (a unique violation); the second try sees
// the object.
Status ExecDdl(PgDb& db, const std::string& sql) {
  Status st = db.Exec(sql);
  // 23505 / 42P07: an IF NOT EXISTS racing another session's (outside
  // sluice: PrepareLock keeps sluice's own loaders in turn).
  if (st.code() == StatusCode::kAlreadyExists ||
      st.message().find("(SQLSTATE 42P07)") != std::string::npos) {
    st = db.Exec(sql);
  }
  return st;
}

// Loaders preparing one table take turns (a session advisory lock, released
// on every return and by PostgreSQL if the connection dies): two first loads
// into a new table would otherwise race their CREATE ... IF NOT EXISTS and
// ALTER TABLE statements, and one could fail a delivery for nothing.
class PrepareLock {
 public:
  static Result<PrepareLock> Take(PgDb& db, const std::string& target) {
    ASSIGN_OR_RETURN(SqlStatement s,
                     db.Prepare("SELECT pg_advisory_lock(hashtextextended(?1, 0))"));
    s.Bind(1, "sluice prepare " + target);
    RETURN_IF_ERROR(s.Exec());
    return PrepareLock(db, target);
  }
  PrepareLock(PrepareLock&& o) noexcept : db_(o.db_), target_(std::move(o.target_)) {
    o.db_ = nullptr;
  }
  PrepareLock(const PrepareLock&) = delete;
  PrepareLock& operator=(const PrepareLock&) = delete;
  PrepareLock& operator=(PrepareLock&&) = delete;
  ~PrepareLock() {
    if (db_ == nullptr) return;
    auto s = db_->Prepare("SELECT pg_advisory_unlock(hashtextextended(?1, 0))");
    if (s.ok()) {
      s->Bind(1, "sluice prepare " + target_);
      s->Exec().IgnoreError();  // a dead connection released it already
    }
  }

 private:
  PrepareLock(PgDb& db, std::string target) : db_(&db), target_(std::move(target)) {}
  PgDb* db_;
  std::string target_;
};

}  // namespace

namespace {

// The sluice type of a column PostgreSQL spells `pg` (format_type), for the
// types a column can widen from; nullopt for the others.
std::optional<DataType> WidenableType(const std::string& pg) {
  if (pg == "integer") return DataType::Int32();
  if (pg == "bigint") return DataType::Int64();
  int p = 0, sc = 0;
  if (std::sscanf(pg.c_str(), "numeric(%d,%d)", &p, &sc) == 2) return DataType::Decimal(p, sc);
  return std::nullopt;
}

// How an existing table takes the rows of `schema` under the output's
// schema_evolution: the fields loaded (freeze leaves out those the table
// lacks) and the DDL that goes first (evolve adds columns and widens);
// kFailedPrecondition naming the column, its type and the type written.
struct ColumnPlan {
  std::vector<std::string> load;
  std::vector<std::string> ddl;
};

Result<ColumnPlan> PlanColumns(const PostgresOutputOptions& out, const Schema& schema,
                               const std::map<std::string, std::string>& cols) {
  ColumnPlan plan;
  const std::string target = Target(out);
  const std::string policy =
      " (schema_evolution: " + std::string(SchemaEvolutionName(out.schema_evolution)) + ")";
  for (const Field& f : schema.fields()) {
    const std::string type = PgColumnType(f.type);
    auto it = cols.find(f.name);
    if (it == cols.end()) {
      if (out.schema_evolution == SchemaEvolution::kFreeze) continue;  // not loaded
      if (out.schema_evolution != SchemaEvolution::kEvolve) {
        return Status::FailedPrecondition(out.Describe() + ": the table has no column '" + f.name +
                                          "' (" + type + ")" + policy);
      }
      // Nullable: the rows already there have no value.
      plan.ddl.push_back("ALTER TABLE " + target + " ADD COLUMN IF NOT EXISTS " +
                         QuoteIdentifier(f.name) + " " + type);
    } else if (it->second != type) {
      auto from = WidenableType(it->second);
      if (out.schema_evolution != SchemaEvolution::kEvolve || !from || !IsWidening(*from, f.type)) {
        return Status::FailedPrecondition(out.Describe() + ": column '" + f.name + "' is " +
                                          it->second + " but the output writes " + type + policy);
      }
      plan.ddl.push_back("ALTER TABLE " + target + " ALTER COLUMN " + QuoteIdentifier(f.name) +
                         " TYPE " + type);
    }
    plan.load.push_back(f.name);
  }
  return plan;
}

}  // namespace

Result<std::string> CheckPostgresTable(PgDb& db, const PostgresOutputOptions& out,
                                       const Schema& schema) {
  RETURN_IF_ERROR(out.CheckSchema(schema));
  ASSIGN_OR_RETURN(auto cols, TableColumns(db, Target(out)));
  if (cols.empty()) {
    if (out.create == PgCreateMode::kNever) {
      return Status::FailedPrecondition(out.Describe() +
                                        ": the table does not exist (create: never)");
    }
    return std::string("the table does not exist yet; the first load creates it");
  }
  ASSIGN_OR_RETURN(ColumnPlan plan, PlanColumns(out, schema, cols));
  std::string msg = "the table exists and takes the output's columns";
  if (plan.load.size() < static_cast<size_t>(schema.num_fields())) {
    msg += " (" + std::to_string(schema.num_fields() - plan.load.size()) +
           " it does not have are left out: schema_evolution: freeze)";
  }
  for (const std::string& ddl : plan.ddl) msg += "; the first load runs " + ddl;
  if (cols.count("_sluice_batch_id") == 0) msg += "; the first load adds _sluice_batch_id";
  return msg;
}

Result<std::vector<std::string>> PreparePostgresTable(PgDb& db, const PostgresOutputOptions& out,
                                                      const Schema& schema) {
  std::vector<std::string> all;
  for (const Field& f : schema.fields()) all.push_back(f.name);
  ASSIGN_OR_RETURN(PrepareLock turn, PrepareLock::Take(db, Target(out)));
  RETURN_IF_ERROR(out.CheckSchema(schema));
  const std::string target = Target(out);
  RETURN_IF_ERROR(ExecDdl(db, "CREATE TABLE IF NOT EXISTS " + Ledger(out) +
                                  " (output text NOT NULL, batch_id int8 NOT NULL, "
                                  "attempt int4 NOT NULL, pipeline_version int8 NOT NULL, "
                                  "rows int8 NOT NULL, loaded_at timestamptz NOT NULL "
                                  "DEFAULT now(), PRIMARY KEY (output, batch_id))"));
  ASSIGN_OR_RETURN(auto cols, TableColumns(db, target));
  if (cols.empty()) {
    if (out.create == PgCreateMode::kNever) {
      return Status::FailedPrecondition(out.Describe() +
                                        ": the table does not exist (create: never)");
    }
    std::string ddl = "CREATE TABLE IF NOT EXISTS " + target + " (";
    for (const Field& f : schema.fields()) {
      ddl += QuoteIdentifier(f.name) + " " + PgColumnType(f.type) +
             (f.nullable ? "" : " NOT NULL") + ", ";
    }
    ddl += "_sluice_batch_id int8";
    if (out.mode == PgLoadMode::kUpsert) {
      std::string key;
      for (const std::string& k : out.key) key += (key.empty() ? "" : ", ") + QuoteIdentifier(k);
      ddl += ", UNIQUE (" + key + ")";
    }
    RETURN_IF_ERROR(ExecDdl(db, ddl + ")"));
    RETURN_IF_ERROR(ExecDdl(db, "CREATE INDEX IF NOT EXISTS " +
                                    QuoteIdentifier(out.table + "_sluice_batch") + " ON " + target +
                                    " (_sluice_batch_id)"));
    return all;
  }
  ASSIGN_OR_RETURN(ColumnPlan plan, PlanColumns(out, schema, cols));
  for (const std::string& ddl : plan.ddl) RETURN_IF_ERROR(ExecDdl(db, ddl));
  auto batch_col = cols.find("_sluice_batch_id");
  if (batch_col == cols.end()) {
    // A table made before sluice loaded it: the batch column (NULL in the
    // rows already there) lets a replay replace exactly what a batch wrote.
    RETURN_IF_ERROR(ExecDdl(
        db, "ALTER TABLE " + target + " ADD COLUMN IF NOT EXISTS " + "_sluice_batch_id int8"));
    RETURN_IF_ERROR(ExecDdl(db, "CREATE INDEX IF NOT EXISTS " +
                                    QuoteIdentifier(out.table + "_sluice_batch") + " ON " + target +
                                    " (_sluice_batch_id)"));
    return plan.load;
  }
  if (batch_col->second != "bigint") {
    return Status::FailedPrecondition(out.Describe() + ": column _sluice_batch_id is " +
                                      batch_col->second + ", expected bigint");
  }
  return plan.load;
}

namespace {

// A binary COPY stream whose first tuple has been read ahead: how many fields
// its rows have (-1 for a stream without rows), then the same bytes again,
// unchanged.
class PeekedStream {
 public:
  explicit PeekedStream(const std::function<Result<bool>(std::string&)>& next) : next_(next) {}

  Result<int> FieldCount() {
    while (true) {
      ASSIGN_OR_RETURN(std::optional<int> fields, PgCopyFirstTupleFields(ahead_));
      if (fields) return *fields;
      if (!more_) {
        return Status::DataLoss("the staged rows end before their first row's field count");
      }
      std::string chunk;
      ASSIGN_OR_RETURN(more_, next_(chunk));
      ahead_ += chunk;
    }
  }

  // After the request's rewind: the stream starts again.
  void Restart() {
    ahead_.clear();
    more_ = true;
  }

  Result<bool> Next(std::string& chunk) {
    if (!ahead_.empty()) {
      chunk.swap(ahead_);
      ahead_.clear();
      return more_;
    }
    if (!more_) return false;
    return next_(chunk);
  }

 private:
  const std::function<Result<bool>(std::string&)>& next_;
  std::string ahead_;
  bool more_ = true;
};

// The stream into a temporary table, then one INSERT of `cols` from it:
// upsert (ON CONFLICT, the pipeline's last row of a key winning: rows are
// numbered as the COPY reads them, in the pipeline's order, unless a stream
// staged by an older sluice carries the numbers itself) and a load of only
// some columns (schema_evolution: freeze, a table without some of the
// output's).
Status StageAndInsert(PgDb& db, const PostgresOutputOptions& out, const LoadRequest& req,
                      PeekedStream& stream, bool numbered, const std::string& target,
                      const std::string& cols, LoadResult& result) {
  const bool upsert = out.mode == PgLoadMode::kUpsert;
  std::string stage = "CREATE TEMP TABLE sluice_stage (";
  for (const Field& f : req.schema.fields()) {
    stage += QuoteIdentifier(f.name) + " " + PgColumnType(f.type) + ", ";
  }
  stage += upsert ? "_sluice_batch_id int8, _sluice_row int8 GENERATED BY DEFAULT AS IDENTITY"
                  : "_sluice_batch_id int8";
  RETURN_IF_ERROR(db.Exec(stage + ") ON COMMIT DROP"));
  RETURN_IF_ERROR(db.CopyIn("COPY sluice_stage (" + ColumnList(req.schema) + ", _sluice_batch_id" +
                                (numbered ? ", _sluice_row" : "") + ") FROM STDIN (FORMAT binary)",
                            [&stream](std::string& chunk) { return stream.Next(chunk); })
                      .status());

  std::string apply = "INSERT INTO " + target + " (" + cols + ", _sluice_batch_id) SELECT ";
  if (upsert) {
    // Most batches have each key once: one INSERT ... ON CONFLICT straight
    // from the stage, no sort. A key twice makes PostgreSQL refuse it
    // (21000: a row affected twice); then, back at the savepoint, the
    // pipeline's last row of each key is picked first (a sort by key).
    std::string key;
    for (const std::string& k : out.key) key += (key.empty() ? "" : ", ") + QuoteIdentifier(k);
    std::string set, mine, theirs;
    const std::set<std::string> keys(out.key.begin(), out.key.end());
    const std::set<std::string> loaded(req.columns.begin(), req.columns.end());
    for (const Field& f : req.schema.fields()) {
      if (keys.count(f.name) > 0) continue;
      if (!loaded.empty() && loaded.count(f.name) == 0) continue;
      const std::string c = QuoteIdentifier(f.name);
      set += c + " = EXCLUDED." + c + ", ";
      mine += target + "." + c + ", ";
      theirs += "EXCLUDED." + c + ", ";
    }
    set += "_sluice_batch_id = EXCLUDED._sluice_batch_id";
    // A row that would not change is not rewritten (no new row version, no
    // index entry): a replay or a resent batch costs a lookup per row.
    set += " WHERE (" + mine + target + "._sluice_batch_id) IS DISTINCT FROM (" + theirs +
           "EXCLUDED._sluice_batch_id)";
    RETURN_IF_ERROR(db.Exec("SAVEPOINT sluice_upsert"));
    Status fast = db.Exec(apply + cols + ", _sluice_batch_id FROM sluice_stage ON CONFLICT (" +
                          key + ") DO UPDATE SET " + set);
    if (fast.ok()) {
      result.rows = db.Changes();
      return Status::OK();
    }
    if (fast.message().find("(SQLSTATE 21000)") == std::string::npos) return fast;
    RETURN_IF_ERROR(db.Exec("ROLLBACK TO SAVEPOINT sluice_upsert"));
    apply += "DISTINCT ON (" + key + ") " + cols + ", _sluice_batch_id FROM sluice_stage " +
             "ORDER BY " + key + ", _sluice_row DESC ON CONFLICT (" + key + ") DO UPDATE SET " +
             set;
  } else {
    apply += cols + ", _sluice_batch_id FROM sluice_stage";
  }
  ASSIGN_OR_RETURN(SqlStatement ins, db.Prepare(apply));
  RETURN_IF_ERROR(ins.Exec());
  result.rows = db.Changes();
  return Status::OK();
}

// An upsert whose keys are all new to the table and unique in the batch is
// an append: COPY straight into the table (PostgreSQL's multi-row insertion,
// no temporary table, no speculative insertion per row), under a savepoint.
// Any key already there or seen twice stops the COPY with a unique violation
// at that row; back at the savepoint, false: the caller reads the stream
// again into the temporary table.
Result<bool> TryUpsertByCopy(PgDb& db, PeekedStream& stream, const std::string& target,
                             const std::string& cols, LoadResult& result) {
  RETURN_IF_ERROR(db.Exec("SAVEPOINT sluice_copy"));
  // Stopped as soon as the server speaks: a key already there is refused
  // at its row, and the rest need not be read and sent.
  bool stopped_early = false;
  auto copied = db.CopyIn(
      "COPY " + target + " (" + cols + ", _sluice_batch_id) FROM STDIN (FORMAT binary)",
      [&stream](std::string& chunk) { return stream.Next(chunk); }, &stopped_early);
  if (copied.ok()) {
    result.rows = *copied;
    result.copy = LoadResult::Copy::kCopied;
    return true;
  }
  // Any other error stopped early (or a notice that stopped it) shows again
  // through the temporary table, where it is reported.
  if (copied.status().code() != StatusCode::kAlreadyExists && !stopped_early) {
    return copied.status();
  }
  RETURN_IF_ERROR(db.Exec("ROLLBACK TO SAVEPOINT sluice_copy"));
  result.copy = LoadResult::Copy::kConflict;
  return false;
}

}  // namespace

Result<LoadResult> LoadIntoPostgres(PgDb& db, const PostgresOutputOptions& out,
                                    const LoadRequest& req) {
  RETURN_IF_ERROR(out.CheckSchema(req.schema));
  const std::string target = Target(out);
  const std::string cols = ColumnList(req.schema);
  LoadResult result;
  Status st = db.RowLockTransaction([&]() -> Status {
    result = LoadResult();
    if (out.statement_timeout.count() > 0) {
      RETURN_IF_ERROR(db.Exec("SET LOCAL statement_timeout = " +
                              std::to_string(out.statement_timeout.count())));
    }
    ASSIGN_OR_RETURN(SqlStatement lock,
                     db.Prepare("SELECT pg_advisory_xact_lock(hashtextextended(?1, ?2))"));
    lock.Bind(1, "sluice load " + out.schema_name + "." + out.table + " " + req.output_id);
    lock.Bind(2, req.batch_id);
    RETURN_IF_ERROR(lock.Exec());

    ASSIGN_OR_RETURN(SqlStatement seen, db.Prepare("SELECT attempt, rows FROM " + Ledger(out) +
                                                   " WHERE output = ?1 AND batch_id = ?2"));
    seen.Bind(1, req.output_id).Bind(2, req.batch_id);
    ASSIGN_OR_RETURN(bool loaded, seen.Step());
    bool replacing = false;
    if (loaded) {
      const int64_t attempt = seen.ColumnInt64(0);
      if (attempt == req.attempt) {
        result.outcome = LoadResult::Outcome::kAlreadyLoaded;
        result.rows = seen.ColumnInt64(1);
        return Status::OK();
      }
      if (attempt > req.attempt) {
        return Status::Aborted(out.Describe() + ": batch " + std::to_string(req.batch_id) +
                               " was loaded by attempt " + std::to_string(attempt) +
                               ", newer than this attempt " + std::to_string(req.attempt));
      }
      replacing = true;
    }
    if (replacing || out.mode == PgLoadMode::kReplaceBatch) {
      ASSIGN_OR_RETURN(SqlStatement del,
                       db.Prepare("DELETE FROM " + target + " WHERE _sluice_batch_id = ?1"));
      del.Bind(1, req.batch_id);
      RETURN_IF_ERROR(del.Exec());
    }

    const bool all_columns =
        req.columns.empty() || req.columns.size() == static_cast<size_t>(req.schema.num_fields());
    if (out.mode != PgLoadMode::kUpsert && all_columns) {
      // Append and replace_batch: the stream (without row numbers) goes
      // straight into the table, in the pipeline's order, in this same
      // transaction: no second pass through a temporary table.
      ASSIGN_OR_RETURN(int64_t copied,
                       db.CopyIn("COPY " + target + " (" + cols +
                                     ", _sluice_batch_id) FROM STDIN (FORMAT binary)",
                                 req.next));
      result.rows = copied;
    } else {
      std::string kept;
      for (const std::string& c : req.columns)
        kept += (kept.empty() ? "" : ", ") + QuoteIdentifier(c);
      PeekedStream stream(req.next);
      bool numbered = false;  // a stream an older sluice staged for upsert
      if (out.mode == PgLoadMode::kUpsert) {
        ASSIGN_OR_RETURN(int fields, stream.FieldCount());
        numbered = fields == req.schema.num_fields() + 2;
      }
      bool done = false;
      if (out.mode == PgLoadMode::kUpsert && all_columns && !numbered && req.rewind) {
        ASSIGN_OR_RETURN(done, TryUpsertByCopy(db, stream, target, cols, result));
        if (!done) {
          RETURN_IF_ERROR(req.rewind());
          stream.Restart();
        }
      }
      if (!done) {
        RETURN_IF_ERROR(StageAndInsert(db, out, req, stream, numbered, target,
                                       all_columns ? cols : kept, result));
      }
    }
    result.outcome = replacing ? LoadResult::Outcome::kReplaced : LoadResult::Outcome::kLoaded;
    ASSIGN_OR_RETURN(
        SqlStatement ledger,
        db.Prepare("INSERT INTO " + Ledger(out) +
                   " (output, batch_id, attempt, pipeline_version, rows) VALUES "
                   "(?1, ?2, ?3, ?4, ?5) ON CONFLICT (output, batch_id) DO UPDATE "
                   "SET attempt = EXCLUDED.attempt, pipeline_version = "
                   "EXCLUDED.pipeline_version, rows = EXCLUDED.rows, loaded_at = now()"));
    ledger.Bind(1, req.output_id).Bind(2, req.batch_id).Bind(3, req.attempt);
    ledger.Bind(4, req.pipeline_version).Bind(5, result.rows);
    return ledger.Exec();
  });
  if (!st.ok()) return st;
  return result;
}

namespace {

class PostgresDatabaseOutput final : public DatabaseOutput {
 public:
  explicit PostgresDatabaseOutput(PostgresOutputOptions options) : o_(std::move(options)) {}

  std::string Describe() const override { return o_.Describe(); }
  std::string Table() const override {
    return (o_.schema_name.empty() ? "" : o_.schema_name + ".") + o_.table;
  }
  const std::string& Database() const override { return o_.dsn; }
  std::string DatabaseDisplay() const override { return o_.display_dsn; }
  const DeliveryLimits& Limits() const override { return o_.limits; }
  bool Upsert() const override { return o_.mode == PgLoadMode::kUpsert; }
  Status CheckSchema(const Schema& schema) const override { return o_.CheckSchema(schema); }

  Result<std::unique_ptr<SqlDb>> Connect() const override {
    PgDb::Options o;
    o.application_name = "sluice loader";
    o.lock_timeout_ms = 0;  // the advisory lock of a batch waits for its other loader
    ASSIGN_OR_RETURN(std::unique_ptr<PgDb> db, PgDb::Open(o_.dsn, o));
    return std::unique_ptr<SqlDb>(std::move(db));
  }

  Result<std::vector<std::string>> Prepare(SqlDb& db, const Schema& schema) const override {
    ASSIGN_OR_RETURN(PgDb * pg, Pg(db));
    return PreparePostgresTable(*pg, o_, schema);
  }

  Result<LoadResult> Load(SqlDb& db, const LoadRequest& req) const override {
    ASSIGN_OR_RETURN(PgDb * pg, Pg(db));
    return LoadIntoPostgres(*pg, o_, req);
  }

  // No answer at all (no SQLSTATE: refused, reset, lost), or the server
  // says it cannot serve: connection classes 08, shutting down 57P0x, too
  // many connections, authentication 28, no such database.
  bool Unreachable(const Status& st) const override {
    if (st.code() != StatusCode::kUnavailable && st.code() != StatusCode::kIOError) return false;
    const std::string& m = st.message();
    const size_t at = m.rfind("(SQLSTATE ");
    if (at == std::string::npos) return true;
    const std::string state = m.substr(at + 10, 5);
    return state.rfind("08", 0) == 0 || state.rfind("57P0", 0) == 0 || state == "53300" ||
           state.rfind("28", 0) == 0 || state == "3D000";
  }

 private:
  static Result<PgDb*> Pg(SqlDb& db) {
    auto* pg = dynamic_cast<PgDb*>(&db);
    if (pg == nullptr) return Status::Internal("a postgres output given another database");
    return pg;
  }

  PostgresOutputOptions o_;
};

}  // namespace

Result<std::unique_ptr<DatabaseOutput>> NewPostgresDatabaseOutput(const nlohmann::json& args,
                                                                  const std::string& where) {
  ASSIGN_OR_RETURN(PostgresOutputOptions o, ParsePostgresOutputOptions(args, where));
  return std::unique_ptr<DatabaseOutput>(std::make_unique<PostgresDatabaseOutput>(std::move(o)));
}

}  // namespace sluice
