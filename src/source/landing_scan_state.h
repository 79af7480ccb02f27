// What a process remembers between scans of landing prefixes on a store
// without an atomic rename (S3), where landed objects are registered in place
// and stay in landing/ for good (see landing.h). Listing such a prefix in full
// on every poll would cost one request per 1000 objects ever landed, and
// hashing them again would read every byte; so, per landing prefix:
//
// * a watermark, the greatest key listed so far: a poll lists only the keys
//   after it (ObjectStore::ListAfter), page by page;
// * a full listing at start-up and every `full_rescan` (LandingContext),
//   because producers may land keys that sort below the watermark;
// * the objects taken already, as (key, ETag), so that a full listing hashes
//   and registers only what is new or was overwritten (another ETag). Kept as
//   128-bit fingerprints (16 bytes each), at most `max_known` per prefix; each
//   full listing keeps only what it saw, so deleted objects drop out. Past the
//   bound an arbitrary entry is forgotten, which costs one more question to
//   the catalog (which knows the object under its ETag), never a missed or
//   doubled batch;
// * a few keys to try again on the next poll (an object that failed or
//   changed while it was hashed, whose key the watermark has passed).
//
// Nothing here is persisted: after a restart the first scan lists in full.
// The catalog keeps the ETag of every landing, though, so an object it knows
// under its current ETag is remembered here again without being read
// (Catalog::LandedObjectKnown; see TakeInPlace in landing.cc). Owned by the
// caller (a project, a test), one per process; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/thread_annotations.h"

namespace sluice {

class LandingScanState {
 public:
  // Default bound of remembered objects per landing prefix (~64 MiB each at
  // most, with the hash set's overhead).
  static constexpr size_t kDefaultMaxKnown = size_t{1} << 21;
  // Keys kept to try again, per prefix; past it they wait for a full listing.
  static constexpr size_t kMaxRetries = 10000;

  explicit LandingScanState(size_t max_known = kDefaultMaxKnown) : max_known_(max_known) {}

  // How the scan starting now lists `prefix`: in full (the first scan, or
  // `full_rescan_us` after the last complete full listing), else after the
  // watermark.
  struct Pass {
    bool full = false;
    std::string start_after;  // "" for a full listing
    int64_t started_us = 0;
  };
  Pass BeginPass(const std::string& prefix, int64_t now_us, int64_t full_rescan_us) EXCLUDES(mu_);
  // Every listed key, in order: moves the watermark past it.
  void Listed(const std::string& prefix, const std::string& key) EXCLUDES(mu_);
  // True if (key, etag) was taken before; during a full pass it is kept for
  // the next generation.
  bool Known(const std::string& prefix, const std::string& key, const std::string& etag)
      EXCLUDES(mu_);
  // (key, etag) is registered (or recorded as a duplicate landing).
  void Remember(const std::string& prefix, const std::string& key, const std::string& etag)
      EXCLUDES(mu_);
  // A key to look at again on the next pass (it failed or was changing).
  void Retry(const std::string& prefix, const std::string& key) EXCLUDES(mu_);
  // The keys to try again, emptied.
  std::vector<std::string> TakeRetries(const std::string& prefix) EXCLUDES(mu_);
  // Ends a pass; `complete`: the listing reached the end of the prefix (a full
  // pass then replaces the remembered objects with those it saw, and the
  // next full listing is due `full_rescan` later).
  void EndPass(const std::string& prefix, const Pass& pass, bool complete) EXCLUDES(mu_);

  // Tests and diagnostics.
  std::string watermark(const std::string& prefix) const EXCLUDES(mu_);
  size_t known(const std::string& prefix) const EXCLUDES(mu_);

 private:
  struct Fp {
    uint64_t hi = 0;
    uint64_t lo = 0;
    bool operator==(const Fp&) const = default;
  };
  struct FpHash {
    size_t operator()(const Fp& f) const { return static_cast<size_t>(f.hi ^ (f.lo * 31)); }
  };
  using FpSet = std::unordered_set<Fp, FpHash>;
  struct Prefix {
    std::string watermark;
    int64_t last_full_us = 0;  // start of the last complete full listing; 0 = never
    bool in_full = false;      // a full pass is running: `next` collects what it saw
    FpSet known;
    FpSet next;
    std::vector<std::string> retries;
  };
  static Fp Fingerprint(const std::string& key, const std::string& etag);
  void Insert(FpSet& set, const Fp& fp) const;

  const size_t max_known_;
  mutable Mutex mu_;
  std::map<std::string, Prefix> prefixes_ GUARDED_BY(mu_);
};

}  // namespace sluice
