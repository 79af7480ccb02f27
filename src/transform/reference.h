// Reference tables for lookup joins: small-to-medium tables loaded whole into
// memory once and shared by every batch and worker that uses the same data:
//   * a file (CSV, NDJSON or Parquet, possibly compressed), identified by its
//     path, declared schema and dialect; one loaded copy per (source, file
//     size, modification time), so a replaced file is loaded again and every
//     user of the old copy keeps it until done; its SHA-256 is kept;
//   * a lake table, read at its current snapshot through the process's
//     LakeTableProvider (the engine's open project); one loaded copy per
//     snapshot, so a commit to the table is seen by the next batches.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/column.h"
#include "core/status.h"
#include "core/thread_annotations.h"
#include "format/format.h"
#include "transform/key_table.h"

namespace sluice {

struct ReferenceSource {
  std::string name;   // for messages ("customers")
  std::string path;   // absolute; empty for a lake table
  std::string table;  // a lake table instead of a file
  FileFormat format = FileFormat::kCsv;
  CsvOptions csv;
  Schema schema;  // empty: inferred (CSV/NDJSON) or the file's own (Parquet)

  // The source as JSON (what a lookup step's `from:` holds once resolved).
  nlohmann::json ToJson() const;
  static Result<ReferenceSource> FromJson(const nlohmann::json& j);
};

// The files of a lake table at one snapshot (snapshot 0: no data yet).
struct LakeTableSnapshot {
  int64_t snapshot = 0;
  Schema schema;
  std::vector<std::string> files;  // object store keys of Parquet files
};

// How reference tables reach the lake (implemented by the engine).
class LakeTableProvider {
 public:
  virtual ~LakeTableProvider() = default;
  // The table's current snapshot; NotFound when there is no such table.
  virtual Result<LakeTableSnapshot> Current(const std::string& table) = 0;
  virtual Result<std::unique_ptr<InputStream>> Open(const std::string& key) = 0;
};
// Process-wide; null when no project is open (lake references then fail).
void SetLakeTableProvider(std::shared_ptr<LakeTableProvider> provider);

// An index of a reference table on some key columns: key bytes -> row.
struct ReferenceIndex {
  KeyTable keys;
  std::vector<int64_t> row_of_key;  // KeyTable id -> row in the table
};

class ReferenceTable {
 public:
  const Schema& schema() const { return batch_.schema; }
  const RecordBatch& rows() const { return batch_; }
  const std::string& sha256() const { return sha256_; }
  int64_t MemoryUsage() const;

  // The index on `columns` (built once; later calls share it). Rows with a
  // NULL key are not indexed; two rows with the same key are an error naming
  // the key and the rows, since a lookup must find at most one row.
  Result<std::shared_ptr<const ReferenceIndex>> Index(const std::vector<int>& columns) const;

  // Loads (or finds in the cache) the table for `source`. Bad records in the
  // file fail the load with the first one's location.
  static Result<std::shared_ptr<const ReferenceTable>> Load(const ReferenceSource& source);

 private:
  static Result<std::shared_ptr<const ReferenceTable>> LoadLakeTable(const ReferenceSource& source);

  RecordBatch batch_;
  std::string sha256_;
  std::string name_;
  mutable Mutex mu_;
  mutable std::unordered_map<std::string, std::shared_ptr<const ReferenceIndex>> indexes_
      GUARDED_BY(mu_);
};

}  // namespace sluice
