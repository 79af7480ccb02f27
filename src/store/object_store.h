// ObjectStore: the port to where bytes live (landing/, archive/, staging/,
// lake/, quarantine/ under one root).
//
// Keys are relative, '/'-separated paths ("lake/orders/day=2024-01-01/part-0.parquet").
// Implementations: LocalObjectStore (a directory; this file), S3 later.
// Writes are atomic: an object appears under its key only when the OutputStream
// is closed successfully. All methods are thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/io.h"
#include "core/status.h"

namespace sluice {

struct ObjectInfo {
  std::string key;
  int64_t size = 0;
  int64_t mtime_us = 0;  // last modification, microseconds since epoch
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  // Every object whose key starts with `prefix` (recursively), sorted by key.
  virtual Result<std::vector<ObjectInfo>> List(const std::string& prefix) = 0;
  virtual Result<ObjectInfo> Stat(const std::string& key) = 0;
  virtual Result<std::unique_ptr<InputStream>> OpenRead(const std::string& key) = 0;
  virtual Result<std::unique_ptr<OutputStream>> OpenWrite(const std::string& key) = 0;
  // Like OpenWrite, but Close does not wait for the data to reach the disk:
  // Sync(key) before anything depends on it surviving a power failure.
  virtual Result<std::unique_ptr<OutputStream>> OpenWriteUnsynced(const std::string& key) {
    return OpenWrite(key);
  }
  // Makes an object's data durable (fsync on a local store; a store whose
  // writes are durable once they complete has nothing to do).
  virtual Status Sync(const std::string& key) {
    (void)key;
    return Status::OK();
  }
  // Moves an object; kNotFound if `from` does not exist. Overwrites `to`.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // Deletes an object; OK if it did not exist.
  virtual Status Delete(const std::string& key) = 0;
  // Deletes every object under the prefix; OK if none.
  virtual Status DeletePrefix(const std::string& prefix) = 0;
  // A local filesystem path for the key, or empty if the store is not local.
  virtual std::string LocalPath(const std::string& key) const = 0;
  // Human-readable location of the store ("/srv/sluice/store").
  virtual std::string Describe() const = 0;
};

std::unique_ptr<ObjectStore> NewLocalObjectStore(std::string root_dir);

}  // namespace sluice
