// Reference tables for lookup joins: small-to-medium tables loaded whole into
// memory and shared by every batch and worker that uses the same data:
//   * a file (CSV, NDJSON or Parquet, possibly compressed), identified by its
//     path, declared schema and dialect; one loaded copy per (source, file
//     identity: size, modification and change time, inode), so a replaced
//     file is loaded again and every user of the old copy keeps it until
//     done; the SHA-256 of its bytes is its content identity;
//   * a lake table, read at one snapshot (noted when the table is opened)
//     through a LakeTableProvider (the engine's project); one loaded copy per
//     snapshot, so a commit to the table is seen by the next batches.
//
// References are opened in an explicit step, before any step is bound:
//   OpenReferences(sources, {cache, lake}) -> ResolvedReferences
// Binding a lookup only finds its table among those already open
// (ResolvedReferences::Find); loading never happens inside Bind. The loaded
// copies live in a ReferenceCache that its owner passes explicitly: the
// engine's Project owns one for its workers; `sluice test` and `convert`
// make their own. There is no process-wide state.
#pragma once

#include <cstdint>
#include <map>
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

// How reference tables reach the lake (implemented by the engine,
// engine/lake_tables.h). Thread-safe.
class LakeTableProvider {
 public:
  virtual ~LakeTableProvider() = default;
  // The table's current snapshot with exactly that snapshot's files (one
  // consistent read); NotFound when there is no such table.
  virtual Result<LakeTableSnapshot> Current(const std::string& table) = 0;
  virtual Result<std::unique_ptr<InputStream>> Open(const std::string& key) = 0;
};

// An index of a reference table on some key columns: key bytes -> row.
struct ReferenceIndex {
  KeyTable keys;
  std::vector<int64_t> row_of_key;  // KeyTable id -> row in the table
};

enum class ReferenceKind { kFile, kLakeTable };
std::string_view ReferenceKindName(ReferenceKind kind);

// What a batch read of one reference: its identity, for lineage.
struct ReferenceUse {
  std::string name;  // as declared under `references:`
  ReferenceKind kind = ReferenceKind::kFile;
  std::string content_sha256;  // a file: SHA-256 of its bytes; a lake table: empty
  std::string file;            // a file: its absolute path
  std::string table;           // a lake table: its name
  int64_t snapshot_id = 0;     // a lake table: the snapshot read (0: no data yet)

  bool operator==(const ReferenceUse&) const = default;
};

class ReferenceTable {
 public:
  const Schema& schema() const { return batch_.schema; }
  const RecordBatch& rows() const { return batch_; }
  // Where the rows came from (file and content hash, or table and snapshot).
  const ReferenceUse& use() const { return use_; }
  int64_t MemoryUsage() const;

  // The index on `columns` (built once; later calls share it). Rows with a
  // NULL key are not indexed; two rows with the same key are an error naming
  // the key and the rows, since a lookup must find at most one row.
  Result<std::shared_ptr<const ReferenceIndex>> Index(const std::vector<int>& columns) const;

 private:
  friend class ReferenceLoader;
  RecordBatch batch_;
  ReferenceUse use_;
  mutable Mutex mu_;
  mutable std::unordered_map<std::string, std::shared_ptr<const ReferenceIndex>> indexes_
      GUARDED_BY(mu_);
};

// Loaded reference tables, keyed by source, each with the identity it was
// loaded at (a file's stat, a lake table's snapshot). The latest copy of
// each source stays (batches come and go; reloading per batch would defeat
// the cache); a newer file or snapshot replaces it, and batches still using
// the old copy keep their shared_ptr. Thread-safe.
class ReferenceCache {
 public:
  ReferenceCache() = default;
  ReferenceCache(const ReferenceCache&) = delete;
  ReferenceCache& operator=(const ReferenceCache&) = delete;

  // The copy of `key` loaded at `identity`, or null.
  std::shared_ptr<const ReferenceTable> Find(const std::string& key,
                                             const std::string& identity) const;
  void Put(const std::string& key, std::string identity,
           std::shared_ptr<const ReferenceTable> table);
  // Sources held (for tests and metrics).
  size_t size() const;

 private:
  struct Entry {
    std::string identity;
    std::shared_ptr<const ReferenceTable> table;
  };
  mutable Mutex mu_;
  std::unordered_map<std::string, Entry> entries_ GUARDED_BY(mu_);
};

// Where references are opened from; both borrowed.
struct ReferenceEnv {
  // Null: a cache of the open step's own (nothing is kept between opens).
  ReferenceCache* cache = nullptr;
  // Null: lake-table references fail (no project is open).
  LakeTableProvider* lake = nullptr;
};

// The references one pipeline run uses, opened: name -> loaded table. Built
// by OpenReferences, then read-only.
class ResolvedReferences {
 public:
  // The open table named `name`, or null when it was not opened.
  std::shared_ptr<const ReferenceTable> Find(const std::string& name) const;
  // One per opened reference, in the order opened.
  std::vector<ReferenceUse> Uses() const;
  size_t size() const { return tables_.size(); }

 private:
  friend Result<ResolvedReferences> OpenReferences(const std::vector<ReferenceSource>&,
                                                   const ReferenceEnv&);
  std::vector<std::pair<std::string, std::shared_ptr<const ReferenceTable>>> tables_;
};

// The open step: loads every source (or finds it in env.cache), a lake table
// at its current snapshot. Errors name the reference and its file or table
// ("reference customers: cannot read '/p/customers.csv': ..."); bad records
// in a file fail the open with the first one's location.
Result<ResolvedReferences> OpenReferences(const std::vector<ReferenceSource>& sources,
                                          const ReferenceEnv& env);

}  // namespace sluice
