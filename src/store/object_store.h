// ObjectStore: the port to where bytes live (landing/, archive/, staging/,
// lake/, quarantine/ under one root).
//
// Keys are relative, '/'-separated paths ("lake/orders/day=2024-01-01/part-0.parquet").
// Implementations: LocalObjectStore (a directory; local_object_store.cc) and
// the S3-compatible store (s3_object_store.h). Writes are atomic: an object
// appears under its key only when the OutputStream is closed successfully.
// Rename never replaces an object; a store without an atomic rename (S3) says
// so through AtomicRename() and refuses Rename. All methods are thread-safe.
//
// Links: a store holds objects only. LocalObjectStore never follows a symbolic
// link below its top-level directories (landing/, archive/, ...): a link is
// not an object, is never listed, read, moved or deleted through, and a key
// whose path crosses one is treated as naming no object (see
// local_object_store.cc). The top-level directories themselves may be links,
// which is how an operator puts, say, archive/ on another disk.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/io.h"
#include "core/status.h"

namespace sluice {

struct ObjectInfo {
  std::string key;
  int64_t size = 0;
  int64_t mtime_us = 0;  // last modification, microseconds since epoch
  // Last change of data or metadata by the store's own clock, microseconds
  // since epoch; 0 if the store does not know. A writer can set mtime to any
  // value (scp -p, rsync -t, touch -d keep the source's); this it cannot
  // (local store: ctime, which every write and every mtime change sets to now).
  int64_t change_us = 0;
  // The store's content tag (S3: the ETag, without quotes; an MD5 of the
  // bytes for a single PUT, something else for a multipart upload); empty
  // where the store has none (local store).
  std::string etag{};
};

// An entry under a listed prefix that is not an object and is not ignored by
// name: a symbolic link (never followed) or a special file (fifo, socket,
// device). Reported so that a caller can tell the producer why it is not taken.
struct SkippedEntry {
  std::string key;
  std::string reason;
};

struct Listing {
  std::vector<ObjectInfo> objects;    // exactly what List returns
  std::vector<SkippedEntry> skipped;  // sorted by key
};

// One page of ListAfter.
struct ListPage {
  std::vector<ObjectInfo> objects;  // sorted by key, each key > start_after
  // More objects may follow the last one: ask again with its key as
  // start_after. False only when the listing reached the end of the prefix.
  bool truncated = false;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  // Every object whose key starts with `prefix` (recursively), sorted by key.
  virtual Result<std::vector<ObjectInfo>> List(const std::string& prefix) = 0;
  // List, plus the entries it passed over. The default suits a store that
  // holds nothing but objects (and wrappers that only forward List).
  virtual Result<Listing> ListDetailed(const std::string& prefix) {
    ASSIGN_OR_RETURN(std::vector<ObjectInfo> objects, List(prefix));
    return Listing{std::move(objects), {}};
  }
  // Up to `max_keys` (>= 1) objects whose key starts with `prefix` and sorts
  // strictly after `start_after` ("" = from the first), sorted by key: an
  // incremental listing that resumes where the last page ended. The default
  // filters List (a whole listing per page); a store that can start a listing
  // at a key (S3's start-after) overrides it.
  virtual Result<ListPage> ListAfter(const std::string& prefix, const std::string& start_after,
                                     size_t max_keys);
  // kNotFound if there is no object under `key` (a link is not one).
  virtual Result<ObjectInfo> Stat(const std::string& key) = 0;
  virtual Result<std::unique_ptr<InputStream>> OpenRead(const std::string& key) = 0;
  // Opens the version of info.key that `info` (from a List or Stat) describes.
  // A store with content tags (S3) reads exactly that version, without asking
  // for it again, and fails kUnavailable once it was replaced; others open the
  // key as it is now.
  virtual Result<std::unique_ptr<InputStream>> OpenReadVersion(const ObjectInfo& info) {
    return OpenRead(info.key);
  }
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
  // Moves an object; kNotFound if `from` does not exist; kAlreadyExists if
  // `to` exists, which is never replaced (not even by an identical object:
  // the caller decides what an existing target means). Afterwards the object
  // is under `to`, or (on an error) under `from`; a move that is not one
  // system call (a copy between file systems, link + unlink) and fails or
  // crashes before removing `from` can leave it under both, never neither.
  // A store without an atomic rename (AtomicRename() false) returns
  // kUnimplemented and moves nothing.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // The keys whose moves (RenameDeferred) are not known to be durable yet; a
  // caller may add a key another process moved, to have it made durable too.
  struct DeferredSync {
    std::set<std::string> keys;
  };
  // Rename, except that the move is durable only after SyncRenames(deferred):
  // a caller making many moves pays for one directory sync per directory
  // rather than one per move. Nothing may depend on the move surviving a
  // power failure before then.
  virtual Status RenameDeferred(const std::string& from, const std::string& to,
                                DeferredSync& deferred) {
    (void)deferred;
    return Rename(from, to);
  }
  virtual Status SyncRenames(DeferredSync& deferred) {
    deferred.keys.clear();
    return Status::OK();
  }
  // Whether Rename is one atomic step (local store: true). False for S3,
  // whose Rename is kUnimplemented: callers that need a move there must
  // write under the final key instead.
  virtual bool AtomicRename() const { return true; }
  // Deletes an object; OK if it did not exist.
  virtual Status Delete(const std::string& key) = 0;
  // Deletes every object under the prefix; OK if none.
  virtual Status DeletePrefix(const std::string& prefix) = 0;
  // A local filesystem path for the key, or empty if the store is not local.
  virtual std::string LocalPath(const std::string& key) const = 0;
  // Where a reader finds the object: its local path, or its URL
  // ("s3://bucket/prefix/key") on a store that is not local.
  virtual std::string Locate(const std::string& key) const { return LocalPath(key); }
  // Human-readable location of the store ("/srv/sluice/store").
  virtual std::string Describe() const = 0;
};

std::unique_ptr<ObjectStore> NewLocalObjectStore(std::string root_dir);
// The S3-compatible store: NewS3ObjectStore in store/s3_object_store.h.

}  // namespace sluice
