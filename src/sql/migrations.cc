#include "sql/migrations.h"

#include <string_view>

#include "core/clock.h"

namespace sluice {

namespace {

// Version 1: the whole first schema. Later changes get new versions; never
// edit a migration that has shipped.
//
// Snapshot ids come from one global sequence (AUTOINCREMENT), so they also
// increase within each table; a file is visible in snapshot S of its table
// when added_snapshot <= S and (removed_snapshot IS NULL or > S).
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE pipelines (
  name              TEXT PRIMARY KEY,
  active_version_id INTEGER NOT NULL,
  updated_us        INTEGER NOT NULL
);

CREATE TABLE pipeline_versions (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  pipeline     TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  spec_text    TEXT NOT NULL,
  source_path  TEXT NOT NULL,
  created_us   INTEGER NOT NULL,
  UNIQUE (pipeline, content_hash)
);

CREATE TABLE batches (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  pipeline           TEXT NOT NULL,
  version_id         INTEGER NOT NULL,
  object_key         TEXT NOT NULL,
  archive_key        TEXT NOT NULL,
  sha256             TEXT NOT NULL,
  size_bytes         INTEGER NOT NULL,
  state              TEXT NOT NULL,
  reason             TEXT NOT NULL DEFAULT '',
  attempts           INTEGER NOT NULL DEFAULT 0,
  duplicate_landings INTEGER NOT NULL DEFAULT 0,
  rows_read          INTEGER NOT NULL DEFAULT 0,
  rows_written       INTEGER NOT NULL DEFAULT 0,
  rows_quarantined   INTEGER NOT NULL DEFAULT 0,
  rows_skipped       INTEGER NOT NULL DEFAULT 0,
  duplicates_removed INTEGER NOT NULL DEFAULT 0,
  seconds            REAL NOT NULL DEFAULT 0,
  committed_attempt  INTEGER NOT NULL DEFAULT 0,
  created_us         INTEGER NOT NULL,
  updated_us         INTEGER NOT NULL,
  UNIQUE (pipeline, sha256)
);
CREATE INDEX batches_by_state ON batches (state, id);
CREATE INDEX batches_by_pipeline ON batches (pipeline, id);

CREATE TABLE batch_landings (
  id           INTEGER PRIMARY KEY,
  batch_id     INTEGER NOT NULL,
  pipeline     TEXT NOT NULL,
  object_key   TEXT NOT NULL,
  sha256       TEXT NOT NULL,
  landed_us    INTEGER NOT NULL,
  is_duplicate INTEGER NOT NULL,
  UNIQUE (pipeline, object_key, sha256)
);
CREATE INDEX batch_landings_by_batch ON batch_landings (batch_id);

CREATE TABLE batch_events (
  id       INTEGER PRIMARY KEY,
  batch_id INTEGER NOT NULL,
  state    TEXT NOT NULL,
  reason   TEXT NOT NULL DEFAULT '',
  at_us    INTEGER NOT NULL
);
CREATE INDEX batch_events_by_batch ON batch_events (batch_id, id);

CREATE TABLE lake_tables (
  name              TEXT PRIMARY KEY,
  schema_json       TEXT NOT NULL,
  partition_by_json TEXT NOT NULL,
  created_us        INTEGER NOT NULL,
  current_snapshot  INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE snapshots (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  table_name    TEXT NOT NULL,
  parent_id     INTEGER NOT NULL DEFAULT 0,
  batch_id      INTEGER NOT NULL,
  operation     TEXT NOT NULL,  -- 'append' (commit) or 'remove' (replay)
  added_files   INTEGER NOT NULL DEFAULT 0,
  added_rows    INTEGER NOT NULL DEFAULT 0,
  removed_files INTEGER NOT NULL DEFAULT 0,
  created_us    INTEGER NOT NULL
);
CREATE INDEX snapshots_by_table ON snapshots (table_name, id);

CREATE TABLE data_files (
  id               INTEGER PRIMARY KEY,
  table_name       TEXT NOT NULL,
  object_key       TEXT NOT NULL,
  staging_key      TEXT NOT NULL DEFAULT '',
  partition_path   TEXT NOT NULL DEFAULT '',
  num_rows         INTEGER NOT NULL,
  num_bytes        INTEGER NOT NULL,
  batch_id         INTEGER NOT NULL,
  added_snapshot   INTEGER NOT NULL,
  removed_snapshot INTEGER
);
CREATE INDEX data_files_by_table ON data_files (table_name, added_snapshot);
CREATE INDEX data_files_by_batch ON data_files (batch_id);

CREATE TABLE lineage (
  id         INTEGER PRIMARY KEY,
  batch_id   INTEGER NOT NULL,
  version_id INTEGER NOT NULL,
  output     TEXT NOT NULL,
  file_key   TEXT NOT NULL DEFAULT '',
  num_rows   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX lineage_by_batch ON lineage (batch_id, id);

CREATE TABLE publications (
  staging_key TEXT PRIMARY KEY,
  final_key   TEXT NOT NULL,
  batch_id    INTEGER NOT NULL,
  published   INTEGER NOT NULL DEFAULT 0,
  created_us  INTEGER NOT NULL
);
CREATE INDEX publications_pending ON publications (published, created_us);

CREATE TABLE tasks (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  kind             TEXT NOT NULL,
  batch_id         INTEGER NOT NULL,
  state            TEXT NOT NULL,  -- 'pending' or 'leased'; acked tasks are deleted
  attempt          INTEGER NOT NULL DEFAULT 0,
  due_us           INTEGER NOT NULL,
  lease_expires_us INTEGER NOT NULL DEFAULT 0,
  owner            TEXT NOT NULL DEFAULT '',
  created_us       INTEGER NOT NULL
);
CREATE UNIQUE INDEX tasks_one_live_per_batch ON tasks (kind, batch_id)
  WHERE state IN ('pending', 'leased');
CREATE INDEX tasks_pending ON tasks (state, due_us);
CREATE INDEX tasks_leased ON tasks (state, lease_expires_us);
)sql";

// Version 2: retry state as data and fenced attempts. `tries` counts attempts
// since registration or the last replay (max_attempts applies to it, while
// `attempts` keeps growing as the fencing token); a transient failure leaves
// the batch queued with next_attempt_us instead of failed with "will retry" in
// its reason, so batches that an older sluice left that way are requeued.
// Tasks carry their pipeline so that a worker can take only its own.
constexpr const char* kSchemaV2 = R"sql(
ALTER TABLE batches ADD COLUMN tries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE batches ADD COLUMN next_attempt_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE batches ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
ALTER TABLE batches ADD COLUMN last_error_class TEXT NOT NULL DEFAULT '';
UPDATE batches SET tries = attempts;
UPDATE batches SET state = 'queued', last_error = reason, last_error_class = 'transient',
                   reason = ''
  WHERE state = 'failed' AND reason LIKE '%(will retry)%';
ALTER TABLE tasks ADD COLUMN pipeline TEXT NOT NULL DEFAULT '';
UPDATE tasks SET pipeline = COALESCE((SELECT b.pipeline FROM batches b WHERE b.id = tasks.batch_id), '');
)sql";

// Version 3: explicit deploys. For each pipeline and spec file, the content
// last deployed from that file: a process deploys its file's text only when
// it differs from what was last deployed from the same file, so two processes
// whose files differ no longer take turns making their text active. Seeded
// with each pipeline's active version (its recorded source path), so an
// upgraded catalog does not see every file as changed.
constexpr const char* kSchemaV3 = R"sql(
CREATE TABLE pipeline_deploys (
  pipeline     TEXT NOT NULL,
  source_path  TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  version_id   INTEGER NOT NULL,
  deployed_us  INTEGER NOT NULL,
  PRIMARY KEY (pipeline, source_path)
);
INSERT INTO pipeline_deploys (pipeline, source_path, content_hash, version_id, deployed_us)
  SELECT p.name, v.source_path, v.content_hash, v.id, p.updated_us
  FROM pipelines p JOIN pipeline_versions v ON v.id = p.active_version_id;
)sql";

// Version 4: store and catalog belong together, and damage is recorded.
// catalog_meta holds the catalog's identity (made here, once), which the store
// records on first use; data files carry the SHA-256 of their bytes as
// written; a publication that can never happen is kept with its error
// (published = -1) instead of being retried forever; a publication of kind
// 'retire' moves a lake file that a replay replaced out of lake/.
constexpr const char* kSchemaV4 = R"sql(
CREATE TABLE catalog_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
INSERT INTO catalog_meta (key, value) VALUES ('catalog_id', lower(hex(randomblob(16))));
ALTER TABLE data_files ADD COLUMN sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE publications ADD COLUMN error TEXT NOT NULL DEFAULT '';
ALTER TABLE publications ADD COLUMN kind TEXT NOT NULL DEFAULT 'publish';
)sql";

// Version 5: reference lineage. A batch's lineage also names every reference
// table its transform read ("reference:<name>"), with the file's SHA-256 or
// the lake table's snapshot.
constexpr const char* kSchemaV5 = R"sql(
ALTER TABLE lineage ADD COLUMN content_sha256 TEXT NOT NULL DEFAULT '';
ALTER TABLE lineage ADD COLUMN snapshot_id INTEGER NOT NULL DEFAULT 0;
)sql";

// Version 6: landings keep the store's content tag (S3 ETag) of the version
// that was hashed, so that a scan after a restart, or in another process,
// skips an object whose (key, ETag) is registered instead of reading it
// again. The unique (pipeline, object_key, sha256) index already serves the
// lookup by pipeline and key. Older landings keep an empty tag: read once
// more, then registered again (a no-op that records the tag).
constexpr const char* kSchemaV6 = R"sql(
ALTER TABLE batch_landings ADD COLUMN etag TEXT NOT NULL DEFAULT '';
)sql";

// A table's file, row and byte counts in its current snapshot, kept with the
// table: summing data_files on every commit cost time in proportion to the
// files the table had ever had.
constexpr const char* kSchemaV7 = R"sql(
ALTER TABLE lake_tables ADD COLUMN num_files INTEGER NOT NULL DEFAULT 0;
ALTER TABLE lake_tables ADD COLUMN num_rows INTEGER NOT NULL DEFAULT 0;
ALTER TABLE lake_tables ADD COLUMN num_bytes INTEGER NOT NULL DEFAULT 0;
UPDATE lake_tables SET
  num_files = (SELECT COUNT(*) FROM data_files f WHERE f.table_name = lake_tables.name
               AND f.added_snapshot <= lake_tables.current_snapshot
               AND (f.removed_snapshot IS NULL OR f.removed_snapshot > lake_tables.current_snapshot)),
  num_rows = (SELECT COALESCE(SUM(f.num_rows), 0) FROM data_files f
              WHERE f.table_name = lake_tables.name
              AND f.added_snapshot <= lake_tables.current_snapshot
              AND (f.removed_snapshot IS NULL OR f.removed_snapshot > lake_tables.current_snapshot)),
  num_bytes = (SELECT COALESCE(SUM(f.num_bytes), 0) FROM data_files f
               WHERE f.table_name = lake_tables.name
               AND f.added_snapshot <= lake_tables.current_snapshot
               AND (f.removed_snapshot IS NULL OR f.removed_snapshot > lake_tables.current_snapshot));
)sql";

// Database outputs are loaded after the commit: one delivery per (batch,
// output), with its state (architecture 6.2).
constexpr const char* kSchemaV8 = R"sql(
CREATE TABLE deliveries (
  batch_id    INTEGER NOT NULL,
  output      TEXT NOT NULL,
  target      TEXT NOT NULL,
  object_key  TEXT NOT NULL,
  attempt     INTEGER NOT NULL,
  num_rows    INTEGER NOT NULL,
  num_bytes   INTEGER NOT NULL,
  state       TEXT NOT NULL,
  tries       INTEGER NOT NULL DEFAULT 0,
  last_error  TEXT NOT NULL DEFAULT '',
  created_us  INTEGER NOT NULL,
  updated_us  INTEGER NOT NULL,
  PRIMARY KEY (batch_id, output)
);
CREATE INDEX deliveries_by_state ON deliveries (state, output, created_us);
)sql";

// A loader on any host needs the output's spec and the rows' schema.
constexpr const char* kSchemaV9 = R"sql(
ALTER TABLE deliveries ADD COLUMN output_args TEXT NOT NULL DEFAULT '{}';
ALTER TABLE deliveries ADD COLUMN schema_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE deliveries ADD COLUMN pipeline_version_id INTEGER NOT NULL DEFAULT 0;
)sql";

// `sluice backfill`: one resumable run per pipeline.
constexpr const char* kSchemaV10 = R"sql(
CREATE TABLE backfills (
  pipeline        TEXT PRIMARY KEY,
  since_us        INTEGER NOT NULL,
  version_id      INTEGER NOT NULL,
  cursor_batch_id INTEGER NOT NULL DEFAULT 0,
  replayed        INTEGER NOT NULL DEFAULT 0,
  started_us      INTEGER NOT NULL,
  finished_us     INTEGER NOT NULL DEFAULT 0
);
)sql";

// The service's gauges count batches by pipeline and state on every scrape
// (sluice_batches): an index answers that without reading every batch row.
constexpr const char* kSchemaV11 = R"sql(
CREATE INDEX batches_by_pipeline_state ON batches (pipeline, state);
)sql";

// Exports (POST /v1/exports): durable extracts of a table snapshot, run by
// export tasks. (owner, idempotency_key) names one export when the key is set.
constexpr const char* kSchemaV12 = R"sql(
CREATE TABLE exports (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  table_name      TEXT NOT NULL,
  columns         TEXT NOT NULL,
  where_text      TEXT NOT NULL,
  snapshot_id     INTEGER NOT NULL,
  format          TEXT NOT NULL,
  row_limit       INTEGER NOT NULL,
  owner           TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  state           TEXT NOT NULL,
  attempts        INTEGER NOT NULL DEFAULT 0,
  error           TEXT NOT NULL DEFAULT '',
  result_key      TEXT NOT NULL DEFAULT '',
  row_count       INTEGER NOT NULL DEFAULT 0,
  byte_count      INTEGER NOT NULL DEFAULT 0,
  sha256          TEXT NOT NULL DEFAULT '',
  created_us      INTEGER NOT NULL,
  started_us      INTEGER NOT NULL DEFAULT 0,
  finished_us     INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX exports_idempotency ON exports (owner, idempotency_key)
  WHERE idempotency_key <> '';
CREATE INDEX exports_unfinished ON exports (state);
)sql";

// Deadlines and freshness (architecture 8.3): each batch keeps its deadline
// and how it was settled; tasks are leased earliest deadline first; a
// pipeline's service levels and stale mark.
constexpr const char* kSchemaV13 = R"sql(
ALTER TABLE batches ADD COLUMN deadline_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE batches ADD COLUMN at_risk_us INTEGER NOT NULL DEFAULT 0;
ALTER TABLE batches ADD COLUMN missed_us INTEGER NOT NULL DEFAULT 0;
CREATE INDEX batches_deadline_marks ON batches (missed_us, deadline_us);
CREATE INDEX batches_arrivals ON batches (pipeline, created_us);
ALTER TABLE tasks ADD COLUMN deadline_us INTEGER NOT NULL DEFAULT 9223372036854775807;
CREATE INDEX tasks_by_deadline ON tasks (deadline_us, id);
CREATE TABLE pipeline_slas (
  pipeline        TEXT PRIMARY KEY,
  deadline_us     INTEGER NOT NULL DEFAULT 0,
  expect_every_us INTEGER NOT NULL DEFAULT 0,
  stale_for_us    INTEGER NOT NULL DEFAULT -1,
  stale_since_us  INTEGER NOT NULL DEFAULT 0
);
)sql";

// DDL as `db` spells it.
std::string Ddl(const SqlDb& db, const std::string& sql) {
  return db.dialect() == SqlDialect::kPostgres ? PostgresDdl(sql) : sql;
}

Status EnsureMigrationsTable(SqlDb& db) {
  return db.Transaction([&] {
    return db.Exec(Ddl(db,
                       "CREATE TABLE IF NOT EXISTS schema_migrations ("
                       "  version    INTEGER PRIMARY KEY,"
                       "  name       TEXT NOT NULL,"
                       "  applied_us INTEGER NOT NULL)"));
  });
}

}  // namespace

namespace {

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// `text` with every occurrence of `from` that is not part of a longer word
// replaced by `to`.
std::string ReplaceWords(const std::string& text, std::string_view from, std::string_view to) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t hit = text.find(from, pos);
    if (hit == std::string::npos) break;
    size_t end = hit + from.size();
    bool whole =
        (hit == 0 || !IsWordChar(text[hit - 1])) && (end == text.size() || !IsWordChar(text[end]));
    out.append(text, pos, hit - pos);
    out.append(whole ? to : from);
    pos = end;
  }
  out.append(text, pos, std::string::npos);
  return out;
}

}  // namespace

std::string PostgresDdl(const std::string& sqlite_ddl) {
  // Longest spellings first: a rowid alias (with or without AUTOINCREMENT)
  // becomes a 64-bit sequence; SQLite's INTEGER is 64 bits, REAL a double.
  // Every table's rowid alias is its `id` column; `version` (the migrations
  // table's key) is set explicitly and stays a plain BIGINT key.
  std::string out =
      ReplaceWords(sqlite_ddl, "INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY");
  for (size_t hit = out.find("INTEGER PRIMARY KEY"); hit != std::string::npos;
       hit = out.find("INTEGER PRIMARY KEY", hit + 1)) {
    size_t before = hit;
    while (before > 0 && (out[before - 1] == ' ' || out[before - 1] == '\t')) --before;
    bool is_id = before >= 2 && out.compare(before - 2, 2, "id") == 0 &&
                 (before == 2 || !IsWordChar(out[before - 3])) && before < hit;
    if (is_id) out.replace(hit, 7, "BIGSERIAL");
  }
  out = ReplaceWords(out, "INTEGER", "BIGINT");
  out = ReplaceWords(out, "REAL", "DOUBLE PRECISION");
  out = ReplaceWords(out, "BLOB", "BYTEA");
  out = ReplaceWords(out, "lower(hex(randomblob(16)))", "md5(gen_random_uuid()::text)");
  return out;
}

const std::vector<Migration>& CatalogMigrations() {
  static const std::vector<Migration> kMigrations = {
      {1, "initial catalog and task queue schema", kSchemaV1},
      {2, "retry state, fenced attempts, task pipelines", kSchemaV2},
      // Listed in version order (ApplyMigrations takes the last entry as the
      // newest version it knows); catalogs already at 4 apply it on open.
      {3, "explicit deploys: content last deployed from each spec file", kSchemaV3},
      {4, "catalog identity, data file checksums, lost publications", kSchemaV4},
      {5, "reference lineage: content hash or lake snapshot", kSchemaV5},
      {6, "landed objects keep their ETag", kSchemaV6},
      {7, "tables keep their current file, row and byte counts", kSchemaV7},
      {8, "deliveries of database outputs", kSchemaV8},
      {9, "deliveries carry their output's spec and schema", kSchemaV9},
      {10, "resumable backfills", kSchemaV10},
      {11, "batches counted by pipeline and state", kSchemaV11},
      {12, "durable exports", kSchemaV12},
      {13, "deadlines and freshness", kSchemaV13},
  };
  return kMigrations;
}

Result<std::vector<int64_t>> AppliedMigrationVersions(SqlDb& db) {
  std::vector<int64_t> out;
  ASSIGN_OR_RETURN(bool exists, db.TableExists("schema_migrations"));
  if (!exists) return out;
  ASSIGN_OR_RETURN(SqlStatement stmt,
                   db.Prepare("SELECT version FROM schema_migrations ORDER BY version"));
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back(stmt.ColumnInt64(0));
  }
  return out;
}

Status ApplyMigrations(SqlDb& db, const std::vector<Migration>& migrations) {
  RETURN_IF_ERROR(EnsureMigrationsTable(db));
  int64_t newest_known = migrations.empty() ? 0 : migrations.back().version;
  for (const Migration& m : migrations) {
    Status st = db.Transaction([&]() -> Status {
      // Checked under the write lock: another process may have applied it
      // between our last look and now.
      ASSIGN_OR_RETURN(SqlStatement check,
                       db.Prepare("SELECT MAX(version) FROM schema_migrations"));
      ASSIGN_OR_RETURN(bool row, check.Step());
      int64_t newest = row && !check.ColumnIsNull(0) ? check.ColumnInt64(0) : 0;
      if (newest > newest_known) {
        return Status::FailedPrecondition("schema version " + std::to_string(newest) +
                                          " is newer than this sluice knows (" +
                                          std::to_string(newest_known) + "); upgrade sluice");
      }
      ASSIGN_OR_RETURN(SqlStatement has,
                       db.Prepare("SELECT 1 FROM schema_migrations WHERE version = ?1"));
      has.Bind(1, m.version);
      ASSIGN_OR_RETURN(bool done, has.Step());
      if (done) return Status::OK();
      RETURN_IF_ERROR(db.Exec(Ddl(db, m.sql)));
      ASSIGN_OR_RETURN(SqlStatement rec,
                       db.Prepare("INSERT INTO schema_migrations (version, name, applied_us) "
                                  "VALUES (?1, ?2, ?3)"));
      rec.Bind(1, m.version).Bind(2, m.name).Bind(3, NowMicros());
      return rec.Exec();
    });
    if (!st.ok()) {
      return st.WithContext("migration " + std::to_string(m.version) + " (" + m.name + ")");
    }
  }
  return Status::OK();
}

Status ApplyCatalogMigrations(SqlDb& db) { return ApplyMigrations(db, CatalogMigrations()); }

}  // namespace sluice
