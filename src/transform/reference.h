// Reference tables for lookup joins: small-to-medium tables (a CSV, NDJSON or
// Parquet file, possibly compressed) loaded whole into memory once and shared
// by every batch and worker that uses the same file content.
//
// A source is identified by its path, declared schema and dialect; the cache
// keeps one loaded copy per (source, file size, modification time), so a
// replaced file is loaded again and every user of the old copy keeps it until
// done. The content's SHA-256 is kept so lineage can name exactly which data a
// batch was joined with.
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
#include "format/format.h"
#include "transform/key_table.h"

namespace sluice {

struct ReferenceSource {
  std::string name;  // for messages ("customers")
  std::string path;  // absolute
  FileFormat format = FileFormat::kCsv;
  CsvOptions csv;
  Schema schema;  // empty: inferred (CSV/NDJSON) or the file's own (Parquet)

  // The source as JSON (what a lookup step's `from:` holds once resolved).
  nlohmann::json ToJson() const;
  static Result<ReferenceSource> FromJson(const nlohmann::json& j);
};

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
  RecordBatch batch_;
  std::string sha256_;
  std::string name_;
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, std::shared_ptr<const ReferenceIndex>> indexes_;
};

}  // namespace sluice
