// SqliteCatalog options: OpenSqliteCatalog (catalog.h) with a clock and
// connection settings that tests and tools can override.
//
// Choices the Catalog contract leaves open, as the SQLite catalog makes them:
// - Snapshot ids come from one sequence shared by all tables, so they grow
//   within each table but are not dense per table. A ReplayBatch of a
//   committed batch adds a 'remove' snapshot (added_files = 0) per table.
// - TransitionBatch never moves a batch to committed: only CommitBatch does,
//   atomically with its files. Quarantine is reachable both ways.
// - CommitBatch with an empty file list still creates the table and a
//   snapshot; a file whose staging_key is empty (or equal to its key) gets no
//   publication.
// - ReplayBatch drops the batch's lineage rows and resets its stats; the
//   removed files stay in data_files (visible to older snapshots).
// - MarkPublished is idempotent; kNotFound for a staging key never recorded.
// - Connections: one per SqliteCatalog, guarded by a mutex; open one catalog
//   per process and share it between threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "catalog/catalog.h"
#include "catalog/sqlite_db.h"

namespace sluice {

struct SqliteCatalogOptions {
  // Source of every timestamp the catalog writes (microseconds since the
  // epoch); NowMicros() when empty.
  std::function<int64_t()> now_us;
  SqliteDb::Options db;
};

Result<std::unique_ptr<Catalog>> OpenSqliteCatalog(const std::string& path,
                                                   const SqliteCatalogOptions& options);

}  // namespace sluice
