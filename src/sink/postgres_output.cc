#include "sink/postgres_output.h"

#include <set>

#include "core/config_text.h"
#include "sink/sink_args.h"
#include "sql/pg_db.h"

namespace sluice {

namespace {

// A name that needs no quoting to mean what it says (sluice quotes it
// anyway), and that PostgreSQL keeps whole.
bool PlainIdentifier(std::string_view s) {
  return s.size() <= kPgMaxIdentifier && IsPlainIdentifier(s);
}

}  // namespace

std::string_view PgLoadModeName(PgLoadMode mode) {
  switch (mode) {
    case PgLoadMode::kAppend:
      return "append";
    case PgLoadMode::kUpsert:
      return "upsert";
    case PgLoadMode::kReplaceBatch:
      return "replace_batch";
  }
  return "append";
}

std::string PostgresOutputOptions::Describe() const {
  return "postgres:" + display_dsn + "#" + (schema_name.empty() ? "" : schema_name + ".") + table;
}

Status PostgresOutputOptions::CheckSchema(const Schema& schema) const {
  const std::string prefix = (where.empty() ? "" : where + ": ") + "postgres output '" +
                             (schema_name.empty() ? "" : schema_name + ".") + table + "': ";
  for (const Field& f : schema.fields()) {
    if (f.name == "_sluice_batch_id") {
      return Status::InvalidArgument(prefix +
                                     "a field is named _sluice_batch_id, the column sluice adds "
                                     "to record the batch of each row; rename it");
    }
    if (f.name.size() > kPgMaxIdentifier) {
      return Status::InvalidArgument(prefix + "field '" + f.name + "' is longer than the " +
                                     std::to_string(kPgMaxIdentifier) +
                                     " bytes PostgreSQL keeps of a column name");
    }
  }
  for (const std::string& k : key) {
    if (schema.FieldIndex(k) < 0) {
      return Status::InvalidArgument(prefix + "key column '" + k +
                                     "' is not a field of the output's rows");
    }
  }
  return Status::OK();
}

Result<PostgresOutputOptions> ParsePostgresOutputOptions(const nlohmann::json& args,
                                                         const std::string& where) {
  SinkArgs a(args, where, "postgres output");
  RETURN_IF_ERROR(
      a.CheckKeys({"dsn", "table", "mode", "key", "create", "max_concurrency", "schema_evolution",
                   "max_rows_per_second", "max_bytes_per_second", "statement_timeout",
                   "high_water_rows", "high_water_bytes", "low_water_rows", "low_water_bytes"}));
  PostgresOutputOptions o;
  o.where = where;

  ASSIGN_OR_RETURN(std::string dsn, a.RequiredString("dsn"));
  auto expanded =
      InterpolateEnv(dsn, (where.empty() ? "" : where + ": ") + "postgres output: 'dsn'");
  if (!expanded.ok()) return expanded.status();
  o.dsn = std::move(expanded).value();
  o.display_dsn = RedactDsn(o.dsn);
  if (Status st = CheckPostgresDsn(o.dsn); !st.ok()) return a.Error("dsn", st.message());

  ASSIGN_OR_RETURN(std::string table, a.RequiredString("table"));
  const size_t dot = table.find('.');
  if (dot != std::string::npos) {
    o.schema_name = table.substr(0, dot);
    o.table = table.substr(dot + 1);
  } else {
    o.table = table;
  }
  if ((dot != std::string::npos && !PlainIdentifier(o.schema_name)) || !PlainIdentifier(o.table)) {
    return a.Error("table", "'" + table +
                                "' is not a table name or schema.table (letters, digits and _, "
                                "not starting with a digit, at most 63 bytes each)");
  }
  if (o.table.starts_with("_sluice_")) {
    return a.Error("table", "names starting with _sluice_ are sluice's own");
  }

  ASSIGN_OR_RETURN(std::optional<std::string> mode, a.String("mode"));
  if (mode) {
    if (*mode == "append") {
      o.mode = PgLoadMode::kAppend;
    } else if (*mode == "upsert") {
      o.mode = PgLoadMode::kUpsert;
    } else if (*mode == "replace_batch") {
      o.mode = PgLoadMode::kReplaceBatch;
    } else {
      return a.Error("mode", "'" + *mode + "' is not one of append, upsert, replace_batch");
    }
  }
  ASSIGN_OR_RETURN(o.key, a.StringList("key"));
  if (o.mode == PgLoadMode::kUpsert && o.key.empty()) {
    return a.Error("key", "mode upsert needs the key columns to match rows on (key: [col, ...])");
  }
  if (o.mode != PgLoadMode::kUpsert && !o.key.empty()) {
    return a.Error("key", "only mode upsert takes a key (mode is " +
                              std::string(PgLoadModeName(o.mode)) + ")");
  }
  std::set<std::string> seen;
  for (const std::string& k : o.key) {
    if (!seen.insert(k).second) return a.Error("key", "column '" + k + "' is listed twice");
  }

  ASSIGN_OR_RETURN(std::optional<std::string> create, a.String("create"));
  if (create) {
    if (*create == "if_missing") {
      o.create = PgCreateMode::kIfMissing;
    } else if (*create == "never") {
      o.create = PgCreateMode::kNever;
    } else {
      return a.Error("create", "'" + *create + "' is not one of if_missing, never");
    }
  }

  ASSIGN_OR_RETURN(o.limits, ParseDeliveryLimits(a, /*concurrency=*/true));

  ASSIGN_OR_RETURN(std::optional<std::string> evolution, a.String("schema_evolution"));
  if (evolution) {
    auto e = ParseSchemaEvolution(*evolution);
    if (!e.ok()) return a.Error("schema_evolution", e.status().message());
    o.schema_evolution = *e;
  }
  ASSIGN_OR_RETURN(std::optional<std::string> timeout, a.String("statement_timeout"));
  if (timeout) {
    auto d = ParseDuration(*timeout);
    if (!d.ok()) return a.Error("statement_timeout", d.status().message());
    if (d->count() <= 0) return a.Error("statement_timeout", "must be greater than zero");
    o.statement_timeout = *d;
  }
  return o;
}

}  // namespace sluice
