// SqlCatalog: the commit protocol (CommitBatch, ReplayBatch), publications
// and lake tables (snapshots, files, lineage).
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "catalog/internal/sql_catalog_impl.h"

namespace sluice {

namespace {

std::string PartitionByJson(const std::vector<std::string>& cols) {
  return nlohmann::json(cols).dump();
}

Result<std::vector<std::string>> ParsePartitionBy(const std::string& text,
                                                  const std::string& table) {
  try {
    return nlohmann::json::parse(text).get<std::vector<std::string>>();
  } catch (const std::exception& e) {
    return Status::DataLoss("catalog: table '" + table + "' has unreadable partition_by '" + text +
                            "': " + e.what());
  }
}

std::string Join(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out + "]";
}

// A readable list of how `incoming` differs from `existing` (empty if equal).
std::string DescribeSchemaDifference(const Schema& existing, const Schema& incoming) {
  std::string out;
  auto add = [&](const std::string& s) { out += (out.empty() ? "" : "; ") + s; };
  for (const Field& f : existing.fields()) {
    int j = incoming.FieldIndex(f.name);
    if (j < 0) {
      add("column '" + f.name + "' is missing from the batch's output");
      continue;
    }
    const Field& g = incoming.field(j);
    if (f.type != g.type) {
      add("column '" + f.name + "' is " + f.type.ToString() + " in the table but " +
          g.type.ToString() + " in the batch");
    }
    if (f.nullable != g.nullable) {
      add("column '" + f.name + "' is " + (f.nullable ? "nullable" : "not null") +
          " in the table but " + (g.nullable ? "nullable" : "not null") + " in the batch");
    }
  }
  for (const Field& g : incoming.fields()) {
    if (existing.FieldIndex(g.name) < 0) add("the batch adds column '" + g.name + "'");
  }
  if (out.empty() && !(existing == incoming)) add("the columns are in a different order");
  return out;
}

DataFile ReadFileRow(const SqlStatement& s) {
  DataFile f;
  f.table = s.ColumnText(0);
  f.key = s.ColumnText(1);
  f.staging_key = s.ColumnText(2);
  f.partition = s.ColumnText(3);
  f.rows = s.ColumnInt64(4);
  f.bytes = s.ColumnInt64(5);
  f.batch_id = s.ColumnInt64(6);
  f.snapshot_id = s.ColumnInt64(7);
  f.sha256 = s.ColumnText(8);
  return f;
}

constexpr const char* kFileColumns =
    "table_name, object_key, staging_key, partition_path, num_rows, num_bytes, batch_id, "
    "added_snapshot, sha256";
// Files of table ?1 visible in snapshot ?2 (snapshot ids grow per table).
constexpr const char* kVisibleInSnapshot =
    "table_name = ?1 AND added_snapshot <= ?2 AND "
    "(removed_snapshot IS NULL OR removed_snapshot > ?2)";

}  // namespace

// --- helpers ---------------------------------------------------------------------

Result<TableInfo> SqlCatalog::LoadTable(const std::string& name) {
  ASSIGN_OR_RETURN(SqlStatement s,
                   db_->Prepare("SELECT name, schema_json, partition_by_json, current_snapshot, "
                                "created_us, num_files, num_rows, num_bytes FROM lake_tables "
                                "WHERE name = ?1"));
  s.Bind(1, name);
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::NotFound("no table '" + name + "' in the catalog");
  TableInfo t;
  t.name = s.ColumnText(0);
  auto schema = Schema::FromJson(s.ColumnText(1));
  if (!schema.ok()) return schema.status().WithContext("catalog: schema of table '" + name + "'");
  t.schema = std::move(schema).value();
  ASSIGN_OR_RETURN(t.partition_by, ParsePartitionBy(s.ColumnText(2), name));
  t.current_snapshot = s.ColumnInt64(3);
  t.created_us = s.ColumnInt64(4);
  t.num_files = s.ColumnInt64(5);
  t.num_rows = s.ColumnInt64(6);
  t.total_bytes = s.ColumnInt64(7);
  return t;
}

Result<Schema> TableSchemaAfter(const Schema& existing, const TableCommit& tc) {
  if (tc.evolution == SchemaEvolution::kReject) {
    std::string diff = DescribeSchemaDifference(existing, tc.schema);
    if (!diff.empty()) {
      return Status::FailedPrecondition("table '" + tc.table +
                                        "' exists with a different schema: " + diff +
                                        " (schema_evolution: reject)");
    }
    return existing;
  }
  SchemaChange change = CompareSchemas(existing, tc.schema);
  if (!change.incompatible.empty()) {
    std::string why;
    for (const std::string& w : change.incompatible) why += (why.empty() ? "" : "; ") + w;
    return Status::FailedPrecondition(
        "table '" + tc.table + "' cannot take the batch's rows: " + why +
        " (schema_evolution: " + std::string(SchemaEvolutionName(tc.evolution)) + ")");
  }
  return change.merged;
}

Result<int64_t> SqlCatalog::EnsureTable(const TableCommit& tc, int64_t now) {
  auto existing = LoadTable(tc.table);
  if (existing.ok()) {
    ASSIGN_OR_RETURN(Schema after, TableSchemaAfter(existing->schema, tc));
    if (!(after == existing->schema)) {
      // A new table schema (evolve): files written before read NULL in a new
      // column and convert a widened one; older snapshots read the same way.
      ASSIGN_OR_RETURN(SqlStatement up,
                       db_->Prepare("UPDATE lake_tables SET schema_json = ?2 WHERE name = ?1"));
      up.Bind(1, tc.table).Bind(2, after.ToJson());
      RETURN_IF_ERROR(up.Exec());
    }
    if (existing->partition_by != tc.partition_by) {
      return Status::FailedPrecondition(
          "table '" + tc.table + "' is partitioned by " + Join(existing->partition_by) +
          " but the batch writes it partitioned by " + Join(tc.partition_by));
    }
    return existing->current_snapshot;
  }
  if (existing.status().code() != StatusCode::kNotFound) return existing.status();
  ASSIGN_OR_RETURN(SqlStatement ins,
                   db_->Prepare("INSERT INTO lake_tables (name, schema_json, partition_by_json, "
                                "created_us, current_snapshot) VALUES (?1, ?2, ?3, ?4, 0)"));
  ins.Bind(1, tc.table).Bind(2, tc.schema.ToJson()).Bind(3, PartitionByJson(tc.partition_by));
  ins.Bind(4, now);
  RETURN_IF_ERROR(ins.Exec());
  return int64_t{0};
}

Status SqlCatalog::AddPublication(const std::string& staging_key, const std::string& final_key,
                                  int64_t batch_id, int64_t now, const char* kind) {
  // A staging key is unique per (batch, task, attempt), and a lake key is
  // retired once, so a conflict can only be the same record written again.
  ASSIGN_OR_RETURN(SqlStatement s,
                   db_->Prepare("INSERT INTO publications (staging_key, final_key, batch_id, "
                                "published, created_us, kind) VALUES (?1, ?2, ?3, 0, ?4, ?5) "
                                "ON CONFLICT (staging_key) DO UPDATE SET final_key = "
                                "excluded.final_key, batch_id = excluded.batch_id, published = 0, "
                                "created_us = excluded.created_us, kind = excluded.kind"));
  s.Bind(1, staging_key).Bind(2, final_key).Bind(3, batch_id).Bind(4, now).Bind(5, kind);
  return s.Exec();
}

Result<std::map<std::string, std::vector<std::string>>> SqlCatalog::CurrentFilesOfBatch(
    int64_t batch_id) {
  ASSIGN_OR_RETURN(SqlStatement s,
                   db_->Prepare("SELECT table_name, object_key FROM data_files WHERE batch_id = ?1 "
                                "AND removed_snapshot IS NULL ORDER BY id"));
  s.Bind(1, batch_id);
  std::map<std::string, std::vector<std::string>> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out[s.ColumnText(0)].push_back(s.ColumnText(1));
  }
  return out;
}

Result<FileTotals> SqlCatalog::RetireFiles(const std::string& table, const BatchInfo& batch,
                                           const std::vector<std::string>& keys,
                                           int64_t snapshot_id, int64_t now) {
  ASSIGN_OR_RETURN(SqlStatement sum,
                   db_->Prepare("SELECT COUNT(*), COALESCE(SUM(num_rows), 0), "
                                "COALESCE(SUM(num_bytes), 0) FROM data_files WHERE "
                                "batch_id = ?2 AND table_name = ?1 AND removed_snapshot IS NULL"));
  sum.Bind(1, table).Bind(2, batch.id);
  FileTotals retired;
  ASSIGN_OR_RETURN(bool row, sum.Step());
  if (row) retired = {sum.ColumnInt64(0), sum.ColumnInt64(1), sum.ColumnInt64(2)};
  sum.Reset();
  ASSIGN_OR_RETURN(SqlStatement rm,
                   db_->Prepare("UPDATE data_files SET removed_snapshot = ?3 WHERE "
                                "table_name = ?1 AND batch_id = ?2 AND removed_snapshot IS NULL"));
  rm.Bind(1, table).Bind(2, batch.id).Bind(3, snapshot_id);
  RETURN_IF_ERROR(rm.Exec());
  // Out of lake/ once the snapshot is committed, so that a reader globbing
  // lake/ does not see the batch twice; the bytes stay, for older snapshots.
  for (const std::string& key : keys) {
    RETURN_IF_ERROR(AddPublication(key, "retired/" + key, batch.id, now, "retire"));
  }
  return retired;
}

Status SqlCatalog::SetCurrentSnapshot(const std::string& table, int64_t snapshot_id,
                                      const FileTotals& added, const FileTotals& removed) {
  ASSIGN_OR_RETURN(SqlStatement cur,
                   db_->Prepare("UPDATE lake_tables SET current_snapshot = ?2, "
                                "num_files = num_files + ?3, num_rows = num_rows + ?4, "
                                "num_bytes = num_bytes + ?5 WHERE name = ?1"));
  cur.Bind(1, table).Bind(2, snapshot_id).Bind(3, added.files - removed.files);
  cur.Bind(4, added.rows - removed.rows).Bind(5, added.bytes - removed.bytes);
  return cur.Exec();
}

Status SqlCatalog::CommitTable(const TableCommit& tc, const BatchInfo& batch, int64_t now,
                               const std::vector<std::string>& replaced) {
  if (tc.table.empty()) return Status::InvalidArgument("commit: a table commit has no table name");
  ASSIGN_OR_RETURN(int64_t parent, EnsureTable(tc, now));
  int64_t rows = 0;
  for (const DataFile& f : tc.files) rows += f.rows;
  ASSIGN_OR_RETURN(SqlStatement snap,
                   db_->Prepare("INSERT INTO snapshots (table_name, parent_id, batch_id, "
                                "operation, added_files, added_rows, removed_files, created_us) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id"));
  snap.Bind(1, tc.table).Bind(2, parent).Bind(3, batch.id);
  snap.Bind(4, replaced.empty() ? "append" : "replace");
  snap.Bind(5, static_cast<int64_t>(tc.files.size())).Bind(6, rows);
  snap.Bind(7, static_cast<int64_t>(replaced.size())).Bind(8, now);
  ASSIGN_OR_RETURN(int64_t snapshot_id, InsertReturningId(snap));
  // A replay: the batch's earlier files leave in the snapshot that adds the new.
  FileTotals removed;
  if (!replaced.empty()) {
    ASSIGN_OR_RETURN(removed, RetireFiles(tc.table, batch, replaced, snapshot_id, now));
  }
  FileTotals added;

  ASSIGN_OR_RETURN(SqlStatement file,
                   db_->Prepare("INSERT INTO data_files (table_name, object_key, staging_key, "
                                "partition_path, num_rows, num_bytes, batch_id, added_snapshot, "
                                "sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
  ASSIGN_OR_RETURN(SqlStatement lin,
                   db_->Prepare("INSERT INTO lineage (batch_id, version_id, output, file_key, "
                                "num_rows) VALUES (?1, ?2, ?3, ?4, ?5)"));
  for (const DataFile& f : tc.files) {
    if (!f.table.empty() && f.table != tc.table) {
      return Status::InvalidArgument("commit of " + BatchName(batch.id) + ": file '" + f.key +
                                     "' names table '" + f.table + "' inside the commit of '" +
                                     tc.table + "'");
    }
    if (f.key.empty()) {
      return Status::InvalidArgument("commit of " + BatchName(batch.id) + ": a file of table '" +
                                     tc.table + "' has no key");
    }
    file.Reset();
    file.Bind(1, tc.table).Bind(2, f.key).Bind(3, f.staging_key).Bind(4, f.partition);
    file.Bind(5, f.rows).Bind(6, f.bytes).Bind(7, batch.id).Bind(8, snapshot_id).Bind(9, f.sha256);
    RETURN_IF_ERROR(file.Exec());
    added.files += 1;
    added.rows += f.rows;
    added.bytes += f.bytes;
    lin.Reset();
    lin.Bind(1, batch.id).Bind(2, batch.pipeline_version_id).Bind(3, "table:" + tc.table);
    lin.Bind(4, f.key).Bind(5, f.rows);
    RETURN_IF_ERROR(lin.Exec());
    if (!f.staging_key.empty() && f.staging_key != f.key) {
      RETURN_IF_ERROR(AddPublication(f.staging_key, f.key, batch.id, now));
    }
  }
  return SetCurrentSnapshot(tc.table, snapshot_id, added, removed);
}

Status SqlCatalog::RemoveTableFiles(const std::string& table, const BatchInfo& batch,
                                    const std::vector<std::string>& keys, int64_t now) {
  ASSIGN_OR_RETURN(TableInfo t, LoadTable(table));
  ASSIGN_OR_RETURN(SqlStatement snap,
                   db_->Prepare("INSERT INTO snapshots (table_name, parent_id, batch_id, "
                                "operation, removed_files, created_us) "
                                "VALUES (?1, ?2, ?3, 'remove', ?4, ?5) RETURNING id"));
  snap.Bind(1, table).Bind(2, t.current_snapshot).Bind(3, batch.id);
  snap.Bind(4, static_cast<int64_t>(keys.size())).Bind(5, now);
  ASSIGN_OR_RETURN(int64_t snapshot_id, InsertReturningId(snap));
  ASSIGN_OR_RETURN(FileTotals removed, RetireFiles(table, batch, keys, snapshot_id, now));
  return SetCurrentSnapshot(table, snapshot_id, FileTotals(), removed);
}

// --- commit protocol -------------------------------------------------------------

Status SqlCatalog::CommitBatch(const CommitRequest& req) {
  if (req.final_state != BatchState::kCommitted && req.final_state != BatchState::kQuarantined) {
    return Status::InvalidArgument("commit of " + BatchName(req.batch_id) +
                                   ": final state must be committed or quarantined, not " +
                                   std::string(BatchStateName(req.final_state)));
  }
  MutexLock lock(&mu_);
  return db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    ASSIGN_OR_RETURN(BatchInfo batch, LoadBatch(req.batch_id));
    if (IsTerminal(batch.state)) {
      return Status::AlreadyExists(BatchName(batch.id) + " is already " +
                                   std::string(BatchStateName(batch.state)));
    }
    if (req.attempt != batch.attempts) {
      return Status::Aborted("commit of " + BatchName(batch.id) + " by attempt " +
                             std::to_string(req.attempt) + " is stale: the batch is on attempt " +
                             std::to_string(batch.attempts));
    }
    const bool direct = req.from_processing && batch.state == BatchState::kProcessing;
    if (batch.state != BatchState::kCommitting && !direct) {
      return Status::FailedPrecondition("commit of " + BatchName(batch.id) + ": it is " +
                                        std::string(BatchStateName(batch.state)) +
                                        ", not committing");
    }
    int64_t now = Now();
    // A replayed batch still has the files of its earlier commit: each table
    // the batch writes again replaces them in its new snapshot; a table it no
    // longer writes (a new version, or quarantined this time) gets a
    // snapshot that removes them. Lineage describes the new commit only.
    ASSIGN_OR_RETURN(auto earlier, CurrentFilesOfBatch(batch.id));
    ASSIGN_OR_RETURN(SqlStatement old_lineage,
                     db_->Prepare("DELETE FROM lineage WHERE batch_id = ?1"));
    old_lineage.Bind(1, batch.id);
    RETURN_IF_ERROR(old_lineage.Exec());
    for (const TableCommit& tc : req.tables) {
      std::vector<std::string> replaced;
      if (auto it = earlier.find(tc.table); it != earlier.end()) {
        replaced = std::move(it->second);
        earlier.erase(it);
      }
      RETURN_IF_ERROR(CommitTable(tc, batch, now, replaced));
    }
    for (const auto& [table, keys] : earlier) {
      RETURN_IF_ERROR(RemoveTableFiles(table, batch, keys, now));
    }

    ASSIGN_OR_RETURN(SqlStatement lin,
                     db_->Prepare("INSERT INTO lineage (batch_id, version_id, output, file_key, "
                                  "num_rows) VALUES (?1, ?2, ?3, '', ?4)"));
    for (const OutputLineage& o : req.outputs) {
      lin.Reset();
      lin.Bind(1, batch.id).Bind(2, batch.pipeline_version_id).Bind(3, o.output).Bind(4, o.rows);
      RETURN_IF_ERROR(lin.Exec());
    }
    ASSIGN_OR_RETURN(SqlStatement ref,
                     db_->Prepare("INSERT INTO lineage (batch_id, version_id, output, file_key, "
                                  "num_rows, content_sha256, snapshot_id) "
                                  "VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)"));
    for (const ReferenceLineage& r : req.references) {
      ref.Reset();
      ref.Bind(1, batch.id).Bind(2, batch.pipeline_version_id).Bind(3, "reference:" + r.name);
      ref.Bind(4, r.source).Bind(5, r.content_sha256).Bind(6, r.snapshot_id);
      RETURN_IF_ERROR(ref.Exec());
    }
    for (const Publication& p : req.extra_publications) {
      RETURN_IF_ERROR(AddPublication(p.staging_key, p.final_key, batch.id, now));
    }
    // Quarantined whole: nothing of it is loaded anywhere.
    RETURN_IF_ERROR(RecordDeliveries(
        batch, req.attempt,
        req.final_state == BatchState::kCommitted ? req.deliveries : std::vector<DeliveryRequest>(),
        now));
    const std::string reason = req.final_state == BatchState::kQuarantined ? req.reason : "";
    ASSIGN_OR_RETURN(SqlStatement up,
                     db_->Prepare("UPDATE batches SET state = ?2, reason = ?3, rows_read = ?4, "
                                  "rows_written = ?5, rows_quarantined = ?6, rows_skipped = ?7, "
                                  "duplicates_removed = ?8, seconds = ?9, committed_attempt = "
                                  "?10, updated_us = ?11 WHERE id = ?1"));
    up.Bind(1, batch.id).Bind(2, BatchStateName(req.final_state)).Bind(3, reason);
    up.Bind(4, req.stats.rows_read).Bind(5, req.stats.rows_written);
    up.Bind(6, req.stats.rows_quarantined).Bind(7, req.stats.rows_skipped);
    up.Bind(8, req.stats.duplicates_removed).Bind(9, req.stats.seconds).Bind(10, req.attempt);
    up.Bind(11, now);
    RETURN_IF_ERROR(up.Exec());
    return AppendEvent(batch.id, req.final_state, reason, now);
  });
}

Status SqlCatalog::ReplayBatch(int64_t batch_id, int64_t version_id) {
  MutexLock lock(&mu_);
  return db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    ASSIGN_OR_RETURN(BatchInfo batch, LoadBatch(batch_id));
    if (batch.state != BatchState::kFailed && batch.state != BatchState::kQuarantined &&
        batch.state != BatchState::kCommitted && batch.state != BatchState::kDamaged) {
      return Status::FailedPrecondition(
          "cannot replay " + BatchName(batch_id) + ": it is " +
          std::string(BatchStateName(batch.state)) +
          " (only failed, quarantined, committed or damaged batches can be replayed)");
    }
    // A new attempt removes the staging of older ones: files of the committed
    // attempt that are still to be published would be lost with it.
    ASSIGN_OR_RETURN(SqlStatement unpublished,
                     db_->Prepare("SELECT count(*) FROM publications "
                                  "WHERE batch_id = ?1 AND published = 0"));
    unpublished.Bind(1, batch_id);
    ASSIGN_OR_RETURN(bool counted, unpublished.Step());
    const int64_t waiting = counted ? unpublished.ColumnInt64(0) : 0;
    unpublished.Reset();
    if (waiting > 0) {
      return Status::FailedPrecondition(
          "cannot replay " + BatchName(batch_id) + " yet: " + std::to_string(waiting) +
          " of its files are still to be published (a server publishes them at start-up and "
          "after each commit); try again once they are");
    }
    int64_t pinned = batch.pipeline_version_id;
    if (version_id != 0) {
      ASSIGN_OR_RETURN(PipelineVersion v, LoadVersion(version_id));
      if (v.pipeline != batch.pipeline) {
        return Status::InvalidArgument(
            "cannot replay " + BatchName(batch_id) + " of pipeline '" + batch.pipeline +
            "' with version " + std::to_string(version_id) + " of pipeline '" + v.pipeline + "'");
      }
      pinned = version_id;
    }
    int64_t now = Now();
    ASSIGN_OR_RETURN(SqlStatement up,
                     db_->Prepare("UPDATE batches SET state = ?2, version_id = ?3, reason = '', "
                                  "rows_read = 0, rows_written = 0, "
                                  "rows_quarantined = 0, rows_skipped = 0, duplicates_removed = 0, "
                                  "seconds = 0, committed_attempt = 0, tries = 0, "
                                  "next_attempt_us = 0, updated_us = ?4 "
                                  "WHERE id = ?1"));
    up.Bind(1, batch_id).Bind(2, BatchStateName(BatchState::kQueued)).Bind(3, pinned).Bind(4, now);
    RETURN_IF_ERROR(up.Exec());
    std::string why = "replay from " + std::string(BatchStateName(batch.state));
    if (pinned != batch.pipeline_version_id) {
      why += " with version " + std::to_string(pinned) + " (was " +
             std::to_string(batch.pipeline_version_id) + ")";
    }
    return AppendEvent(batch_id, BatchState::kQueued, why, now);
  });
}

// --- publications ----------------------------------------------------------------

Result<std::vector<Publication>> SqlCatalog::PendingPublications() {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(SqlStatement s,
                   db_->Prepare("SELECT staging_key, final_key, batch_id, kind FROM publications "
                                "WHERE published = 0 ORDER BY kind = 'publish', created_us, "
                                "staging_key"));
  // Retirements first: a reader globbing lake/ may then miss a replayed batch
  // for a moment, but never sees it twice.
  std::vector<Publication> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(
        {s.ColumnText(0), s.ColumnText(1), s.ColumnInt64(2), s.ColumnText(3) == "retire"});
  }
  return out;
}

Status SqlCatalog::RecordLostPublication(const std::string& staging_key, const std::string& error) {
  MutexLock lock(&mu_);
  return db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    ASSIGN_OR_RETURN(SqlStatement sel,
                     db_->Prepare("SELECT batch_id FROM publications WHERE staging_key = ?1"));
    sel.Bind(1, staging_key);
    ASSIGN_OR_RETURN(bool found, sel.Step());
    if (!found) return Status::NotFound("no publication for staged object '" + staging_key + "'");
    const int64_t batch_id = sel.ColumnInt64(0);
    sel.Reset();
    ASSIGN_OR_RETURN(SqlStatement up,
                     db_->Prepare("UPDATE publications SET published = -1, error = ?2 "
                                  "WHERE staging_key = ?1"));
    up.Bind(1, staging_key).Bind(2, error);
    RETURN_IF_ERROR(up.Exec());
    return MarkDamagedLocked(batch_id, "output lost before publication: " + error);
  });
}

Status SqlCatalog::MarkDamaged(int64_t batch_id, const std::string& reason) {
  MutexLock lock(&mu_);
  return db_->Transaction([&]() -> Status {
    mu_.AssertHeld();
    return MarkDamagedLocked(batch_id, reason);
  });
}

Status SqlCatalog::MarkDamagedLocked(int64_t batch_id, const std::string& reason) {
  ASSIGN_OR_RETURN(BatchInfo b, LoadBatch(batch_id));
  if (b.state == BatchState::kDamaged) return Status::OK();
  if (b.state != BatchState::kCommitted && b.state != BatchState::kQuarantined) {
    return Status::FailedPrecondition(BatchName(batch_id) + " is " +
                                      std::string(BatchStateName(b.state)) +
                                      ", not committed: it cannot be damaged");
  }
  const int64_t now = Now();
  ASSIGN_OR_RETURN(SqlStatement up,
                   db_->Prepare("UPDATE batches SET state = ?2, reason = ?3, updated_us = ?4 "
                                "WHERE id = ?1"));
  up.Bind(1, batch_id).Bind(2, BatchStateName(BatchState::kDamaged)).Bind(3, reason).Bind(4, now);
  RETURN_IF_ERROR(up.Exec());
  return AppendEvent(batch_id, BatchState::kDamaged, reason, now);
}

Result<std::string> SqlCatalog::CatalogId() {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(SqlStatement s,
                   db_->Prepare("SELECT value FROM catalog_meta WHERE key = 'catalog_id'"));
  ASSIGN_OR_RETURN(bool row, s.Step());
  if (!row) return Status::DataLoss("catalog: its identity (catalog_meta.catalog_id) is missing");
  return s.ColumnText(0);
}

Status SqlCatalog::CheckIntegrity() {
  MutexLock lock(&mu_);
  Status st = db_->QuickCheck();
  if (st.ok() || st.code() != StatusCode::kDataLoss) return st;
  return Status::DataLoss("catalog " + db_->Describe() + " is damaged: " + st.message());
}

Status SqlCatalog::DropRetirement(const std::string& staging_key) {
  MutexLock lock(&mu_);
  return db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    ASSIGN_OR_RETURN(SqlStatement s, db_->Prepare("DELETE FROM publications WHERE staging_key = ?1 "
                                                  "AND kind = 'retire' AND published = 0"));
    s.Bind(1, staging_key);
    return s.Exec();
  });
}

Status SqlCatalog::MarkPublished(const std::string& staging_key) {
  MutexLock lock(&mu_);
  return db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    return MarkPublishedLocked(staging_key);
  });
}

Status SqlCatalog::MarkPublishedAll(const std::vector<std::string>& staging_keys) {
  if (staging_keys.empty()) return Status::OK();
  MutexLock lock(&mu_);
  return db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    for (const std::string& key : staging_keys) RETURN_IF_ERROR(MarkPublishedLocked(key));
    return Status::OK();
  });
}

Status SqlCatalog::MarkPublishedLocked(const std::string& staging_key) {
  {
    ASSIGN_OR_RETURN(SqlStatement s,
                     db_->Prepare("UPDATE publications SET published = 1 WHERE staging_key = ?1"));
    s.Bind(1, staging_key);
    RETURN_IF_ERROR(s.Exec());
    if (db_->Changes() == 0) {
      return Status::NotFound("no publication for staged object '" + staging_key + "'");
    }
    // A retired lake file is found at its new key from now on.
    ASSIGN_OR_RETURN(SqlStatement moved,
                     db_->Prepare("UPDATE data_files SET object_key = (SELECT final_key FROM "
                                  "publications WHERE staging_key = ?1) WHERE object_key = ?1 AND "
                                  "EXISTS (SELECT 1 FROM publications WHERE staging_key = ?1 AND "
                                  "kind = 'retire')"));
    moved.Bind(1, staging_key);
    return moved.Exec();
  }
}

// --- tables ----------------------------------------------------------------------

Result<std::vector<TableInfo>> SqlCatalog::ListTables() {
  MutexLock lock(&mu_);
  std::vector<TableInfo> out;
  RETURN_IF_ERROR(db_->ReadTransaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    ASSIGN_OR_RETURN(SqlStatement s, db_->Prepare("SELECT name FROM lake_tables ORDER BY name"));
    std::vector<std::string> names;
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      names.push_back(s.ColumnText(0));
    }
    for (const std::string& n : names) {
      ASSIGN_OR_RETURN(TableInfo t, LoadTable(n));
      out.push_back(std::move(t));
    }
    return Status::OK();
  }));
  return out;
}

Result<TableInfo> SqlCatalog::GetTable(const std::string& name) {
  MutexLock lock(&mu_);
  TableInfo out;
  RETURN_IF_ERROR(db_->ReadTransaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    ASSIGN_OR_RETURN(out, LoadTable(name));
    return Status::OK();
  }));
  return out;
}

Result<std::vector<DataFile>> SqlCatalog::ListFiles(const std::string& table, int64_t snapshot_id) {
  MutexLock lock(&mu_);
  std::vector<DataFile> out;
  RETURN_IF_ERROR(db_->ReadTransaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    ASSIGN_OR_RETURN(SqlStatement t,
                     db_->Prepare("SELECT current_snapshot FROM lake_tables WHERE name = ?1"));
    t.Bind(1, table);
    ASSIGN_OR_RETURN(bool found, t.Step());
    if (!found) return Status::NotFound("no table '" + table + "' in the catalog");
    int64_t snap = snapshot_id != 0 ? snapshot_id : t.ColumnInt64(0);
    if (snapshot_id != 0) {
      ASSIGN_OR_RETURN(SqlStatement chk,
                       db_->Prepare("SELECT 1 FROM snapshots WHERE id = ?1 AND table_name = ?2"));
      chk.Bind(1, snapshot_id).Bind(2, table);
      ASSIGN_OR_RETURN(bool ok, chk.Step());
      if (!ok) {
        return Status::NotFound("table '" + table + "' has no snapshot " +
                                std::to_string(snapshot_id));
      }
    }
    ASSIGN_OR_RETURN(SqlStatement s,
                     db_->Prepare(std::string("SELECT ") + kFileColumns +
                                  " FROM data_files WHERE " + kVisibleInSnapshot + " ORDER BY id"));
    s.Bind(1, table).Bind(2, snap);
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(ReadFileRow(s));
    }
    return Status::OK();
  }));
  return out;
}

Result<std::vector<SnapshotInfo>> SqlCatalog::ListSnapshots(const std::string& table) {
  MutexLock lock(&mu_);
  std::vector<SnapshotInfo> out;
  RETURN_IF_ERROR(db_->ReadTransaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    ASSIGN_OR_RETURN(TableInfo t, LoadTable(table));
    (void)t;
    ASSIGN_OR_RETURN(SqlStatement s,
                     db_->Prepare("SELECT id, table_name, batch_id, added_files, added_rows, "
                                  "created_us FROM snapshots WHERE table_name = ?1 ORDER BY id"));
    s.Bind(1, table);
    while (true) {
      ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      SnapshotInfo i;
      i.id = s.ColumnInt64(0);
      i.table = s.ColumnText(1);
      i.batch_id = s.ColumnInt64(2);
      i.added_files = s.ColumnInt64(3);
      i.added_rows = s.ColumnInt64(4);
      i.created_us = s.ColumnInt64(5);
      out.push_back(std::move(i));
    }
    return Status::OK();
  }));
  return out;
}

Result<std::vector<DataFile>> SqlCatalog::ListAllFiles() {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(SqlStatement s, db_->Prepare(std::string("SELECT ") + kFileColumns +
                                                " FROM data_files ORDER BY id"));
  std::vector<DataFile> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ReadFileRow(s));
  }
  return out;
}

Result<std::vector<DataFile>> SqlCatalog::ListBatchFiles(int64_t batch_id) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(SqlStatement s,
                   db_->Prepare(std::string("SELECT ") + kFileColumns +
                                " FROM data_files WHERE batch_id = ?1 ORDER BY id"));
  s.Bind(1, batch_id);
  std::vector<DataFile> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    out.push_back(ReadFileRow(s));
  }
  return out;
}

Result<std::vector<Lineage>> SqlCatalog::BatchLineage(int64_t batch_id) {
  MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(SqlStatement s,
                   db_->Prepare("SELECT batch_id, version_id, output, file_key, num_rows, "
                                "content_sha256, snapshot_id FROM lineage WHERE batch_id = ?1 "
                                "ORDER BY id"));
  s.Bind(1, batch_id);
  std::vector<Lineage> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) break;
    Lineage l;
    l.batch_id = s.ColumnInt64(0);
    l.pipeline_version_id = s.ColumnInt64(1);
    l.output = s.ColumnText(2);
    l.file_key = s.ColumnText(3);
    l.rows = s.ColumnInt64(4);
    l.content_sha256 = s.ColumnText(5);
    l.snapshot_id = s.ColumnInt64(6);
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace sluice
