#include "source/landing.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/hash.h"

namespace sluice {

namespace {

constexpr std::string_view kLanding = "landing/";
constexpr std::string_view kFileScheme = "file://";

std::string BaseName(const std::string& key) {
  auto slash = key.rfind('/');
  return slash == std::string::npos ? key : key.substr(slash + 1);
}

int64_t Now(const LandingContext& ctx) { return ctx.now_us ? ctx.now_us() : NowMicros(); }

std::string Bytes(int64_t n) { return std::to_string(n) + " bytes"; }

// When the object last changed. mtime is the writer's to set (scp -p and
// rsync -t keep the source's, which would make a file being written look
// settled at once, and a future one would hold it back); the change time is
// the store's own clock, and every write moves it.
int64_t LastChange(const ObjectInfo& o) { return o.change_us != 0 ? o.change_us : o.mtime_us; }

bool SameFingerprint(const ObjectInfo& a, const ObjectInfo& b) {
  return a.size == b.size && a.mtime_us == b.mtime_us && a.change_us == b.change_us;
}

// Queues a freshly registered (or recovered) batch and hands it to the queue.
Status QueueBatch(const LandingContext& ctx, int64_t batch_id) {
  ASSIGN_OR_RETURN(BatchInfo b, ctx.catalog->GetBatch(batch_id));
  if (b.state == BatchState::kLanded) {
    RETURN_IF_ERROR(ctx.catalog->TransitionBatch(batch_id, BatchState::kQueued, ""));
  }
  return ctx.queue->Enqueue(TaskRequest{TaskKind::kProcess, batch_id, b.pipeline,
                                        b.state == BatchState::kQueued ? b.next_attempt_us : 0});
}

struct HashedObject {
  ObjectInfo info;     // the fingerprint before hashing
  std::string sha256;  // of the bytes read
  bool stable = true;  // the fingerprint was the same after hashing
};

// Hashes the object under `key`; nullopt if there is none.
Result<std::optional<HashedObject>> HashObject(ObjectStore& store, const std::string& key) {
  auto before = store.Stat(key);
  if (!before.ok()) {
    if (before.status().code() == StatusCode::kNotFound) return std::optional<HashedObject>();
    return before.status();
  }
  auto in = store.OpenRead(key);
  if (!in.ok()) {
    if (in.status().code() == StatusCode::kNotFound) return std::optional<HashedObject>();
    return in.status();
  }
  ASSIGN_OR_RETURN(std::string sha, Sha256Stream(**in));
  in->reset();
  auto after = store.Stat(key);
  const bool stable = after.ok() && SameFingerprint(*before, *after);
  return std::optional<HashedObject>(HashedObject{*before, std::move(sha), stable});
}

// After `key` was moved into the archive with bytes hashed as `hashed`:
// remembers its fingerprint, unless its size or mtime say that it changed
// since it was hashed (its change time moves with the rename itself).
void RememberArchived(ArchiveVerifier* verifier, ObjectStore& store, const std::string& key,
                      const ObjectInfo& hashed, const std::string& sha256) {
  if (verifier == nullptr) return;
  auto now = store.Stat(key);
  if (now.ok() && now->size == hashed.size && now->mtime_us == hashed.mtime_us) {
    verifier->Remember(*now, sha256);
  }
}

// Moves `from` to <base>/<now_us>/<relative>, or <base>/<now_us>-N/<relative>
// when that is taken (by another landing in the same microsecond).
Status MoveToUniqueKey(ObjectStore& store, const std::string& from, const std::string& base,
                       const std::string& relative, int64_t now_us) {
  for (int i = 0; i < 100; ++i) {
    const std::string unique = std::to_string(now_us) + (i == 0 ? "" : "-" + std::to_string(i));
    Status st = store.Rename(from, base + "/" + unique + "/" + relative);
    if (st.code() != StatusCode::kAlreadyExists) return st;
  }
  return Status::AlreadyExists("no free key under " + base + " for " + relative);
}

// Keeps a landing whose content is a batch already (or whose archive key is
// taken) for the record, out of landing, under a key of its own: nothing
// archived is replaced and nothing landed is deleted.
Status MoveToDuplicates(const LandingContext& ctx, const std::string& key,
                        const std::string& pipeline, const std::string& sha,
                        const std::string& relative) {
  Status st =
      MoveToUniqueKey(*ctx.store, key, "archive/" + pipeline + "/duplicates/" + sha.substr(0, 16),
                      relative, Now(ctx));
  // Gone meanwhile: another scanner took it.
  if (st.code() == StatusCode::kNotFound) return Status::OK();
  return st;
}

// Moves the landed file `landed` (hashed as the batch's content) to the
// batch's archive key; if that key is taken (a landing again of the same name
// and content), to a duplicates key instead.
Status MoveToArchive(const LandingContext& ctx, const ObjectInfo& landed, const BatchInfo& b,
                     const std::string& relative) {
  Status st = ctx.store->Rename(landed.key, b.archive_key);
  if (st.ok()) {
    RememberArchived(ctx.verifier, *ctx.store, b.archive_key, landed, b.sha256);
    return st;
  }
  if (st.code() == StatusCode::kAlreadyExists) {
    return MoveToDuplicates(ctx, landed.key, b.pipeline, b.sha256, relative);
  }
  if (st.code() == StatusCode::kNotFound && ctx.store->Stat(b.archive_key).ok()) {
    return Status::OK();  // another scanner moved it
  }
  return st;
}

// Registers `key` with content `sha`. With `landed` (a file in landing,
// hashed with that fingerprint) the file is then taken out of landing.
Result<RegisterOutcome> RegisterKey(const LandingContext& ctx, const std::string& pipeline,
                                    const std::string& key, const std::string& relative,
                                    const std::string& sha, int64_t size,
                                    const ObjectInfo* landed) {
  RegisterBatchRequest req;
  req.pipeline = pipeline;
  req.object_key = key;
  req.archive_key = ArchiveKey(pipeline, sha, relative);
  req.sha256 = sha;
  req.size_bytes = size;
  ASSIGN_OR_RETURN(RegisterBatchResult r, ctx.catalog->RegisterBatch(req));
  RegisterOutcome out{r.outcome, r.batch_id, key};
  if (r.outcome == RegisterBatchResult::Outcome::kDuplicateContent) {
    if (landed != nullptr) RETURN_IF_ERROR(MoveToDuplicates(ctx, key, pipeline, sha, relative));
    return out;
  }
  ASSIGN_OR_RETURN(BatchInfo b, ctx.catalog->GetBatch(r.batch_id));
  if (landed != nullptr) RETURN_IF_ERROR(MoveToArchive(ctx, *landed, b, relative));
  if (b.state == BatchState::kLanded) RETURN_IF_ERROR(QueueBatch(ctx, r.batch_id));
  return out;
}

// Copies `in` to `out` and hashes what it copied. Reading and hashing run on
// this thread, writing on a second one, over a few rotating buffers, so a copy
// costs about as long as the slower of the two (about 0.6 s per GB here)
// rather than their sum.
Status CopyHashing(InputStream& in, OutputStream& out, Sha256* hasher) {
  constexpr size_t kBuffers = 3;
  constexpr size_t kBufferBytes = 4 << 20;
  std::vector<std::vector<char>> bufs(kBuffers, std::vector<char>(kBufferBytes));
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<size_t, size_t>> full;  // buffer index, bytes
  size_t free_count = kBuffers;
  bool done = false;
  Status write_status;
  std::thread writer([&] {
    for (;;) {
      std::pair<size_t, size_t> item;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return !full.empty() || done; });
        if (full.empty()) return;
        item = full.front();
        full.pop_front();
      }
      Status st =
          write_status.ok() ? out.Write(bufs[item.first].data(), item.second) : Status::OK();
      std::lock_guard lock(mu);
      if (!st.ok() && write_status.ok()) write_status = st;
      ++free_count;
      cv.notify_all();
    }
  });
  Status read_status;
  for (size_t next = 0;; next = (next + 1) % kBuffers) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return free_count > 0; });
      if (!write_status.ok()) break;
      --free_count;
    }
    // Buffers are handed out in rotation and written in order, so `next` is free.
    auto n = in.Read(bufs[next].data(), kBufferBytes);
    if (!n.ok() || *n == 0) {
      if (!n.ok()) read_status = n.status();
      std::lock_guard lock(mu);
      ++free_count;
      break;
    }
    hasher->Update(bufs[next].data(), *n);
    std::lock_guard lock(mu);
    full.emplace_back(next, *n);
    cv.notify_all();
  }
  {
    std::lock_guard lock(mu);
    done = true;
    cv.notify_all();
  }
  writer.join();
  RETURN_IF_ERROR(read_status);
  return write_status;
}

// Gives a local copy a head start towards the disk while its batch is
// processed, so that the processor's Sync before the commit finds little left
// to write. A hint only: the thread owns nothing but the path.
void SyncInBackground(const std::string& path) {
  if (path.empty()) return;
  std::thread([path] {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
  }).detach();
}

// Puts the complete copy `incoming` (content `sha`) at archive key `key`. An
// object already there with that content is kept (the copy is dropped); one
// with other content cannot be what its content-addressed key says (a copy
// cut short by a power failure), so it is set aside under
// archive/<p>/damaged/ (never replaced in place) and the copy takes its key.
Status PlaceArchiveCopy(ObjectStore& store, const std::string& incoming, const std::string& key,
                        const std::string& sha, const std::string& pipeline,
                        const std::string& relative, int64_t now_us) {
  for (int round = 0; round < 3; ++round) {
    Status st = store.Rename(incoming, key);
    if (st.ok()) return st;
    if (st.code() != StatusCode::kAlreadyExists) return st;
    ASSIGN_OR_RETURN(std::optional<HashedObject> there, HashObject(store, key));
    if (there && there->sha256 == sha) return store.Delete(incoming);
    if (there) {
      Status aside = MoveToUniqueKey(
          store, key, "archive/" + pipeline + "/damaged/" + sha.substr(0, 16), relative, now_us);
      if (!aside.ok() && aside.code() != StatusCode::kNotFound) return aside;
    }
  }
  return Status::Unavailable("archive key " + key + " keeps changing while a copy is placed there");
}

struct ArchiveCopy {
  std::string sha256;  // of the bytes copied
  int64_t bytes = 0;
  std::string key;  // where the copy now is; empty when it was dropped (want_sha)
};

// Copies the local file `path` into the archive (through a private incoming
// key) without waiting for the disk, and places it at `key`, or at its
// content's ArchiveKey when `key` is empty. With `want_sha`, a copy of other
// content is dropped instead.
Result<ArchiveCopy> CopyToArchive(ObjectStore& store, ArchiveVerifier* verifier,
                                  const std::string& pipeline, const std::string& path,
                                  const std::string& relative, const std::string* want_sha,
                                  std::string key, int64_t now_us) {
  ASSIGN_OR_RETURN(auto in, OpenFileInput(path));
  // Private to this process and call: two copies of one name never share it.
  static std::atomic<uint64_t> counter{0};
  const std::string incoming = "archive/" + pipeline + "/.incoming/" + std::to_string(::getpid()) +
                               "-" + std::to_string(++counter) + "-" + relative;
  ASSIGN_OR_RETURN(auto out, store.OpenWriteUnsynced(incoming));
  Sha256 hasher;
  if (Status st = CopyHashing(*in, *out, &hasher); !st.ok()) {
    out->Abort();
    return st;
  }
  ArchiveCopy copy{hasher.HexDigest(), out->Tell(), ""};
  RETURN_IF_ERROR(out->Close());
  if (want_sha != nullptr && copy.sha256 != *want_sha) {
    (void)store.Delete(incoming);
    return copy;
  }
  if (key.empty()) key = ArchiveKey(pipeline, copy.sha256, relative);
  if (Status st = PlaceArchiveCopy(store, incoming, key, copy.sha256, pipeline, relative, now_us);
      !st.ok()) {
    (void)store.Delete(incoming);
    return st;
  }
  copy.key = key;
  if (verifier != nullptr) {
    // Hashed while copied, and only this process has written it.
    if (auto info = store.Stat(key); info.ok() && info->size == copy.bytes) {
      verifier->Remember(*info, copy.sha256);
    }
  }
  SyncInBackground(store.LocalPath(key));
  return copy;
}

}  // namespace

void ArchiveVerifier::Remember(const ObjectInfo& info, const std::string& sha256) {
  MutexLock lock(&mu_);
  if (known_.size() >= kMaxKeys && known_.find(info.key) == known_.end()) {
    known_.erase(known_.begin());
  }
  known_[info.key] = Fingerprint{info.size, info.mtime_us, info.change_us, sha256};
}

bool ArchiveVerifier::Matches(const ObjectInfo& info, const std::string& sha256) const {
  MutexLock lock(&mu_);
  auto it = known_.find(info.key);
  if (it == known_.end()) return false;
  const Fingerprint& f = it->second;
  return f.size == info.size && f.mtime_us == info.mtime_us && f.change_us == info.change_us &&
         f.sha256 == sha256;
}

void ArchiveVerifier::Forget(const std::string& key) {
  MutexLock lock(&mu_);
  known_.erase(key);
}

void ArchiveVerifier::Clear() {
  MutexLock lock(&mu_);
  known_.clear();
}

size_t ArchiveVerifier::size() const {
  MutexLock lock(&mu_);
  return known_.size();
}

std::string ArchiveKey(const std::string& pipeline, const std::string& sha256,
                       const std::string& relative_name) {
  return "archive/" + pipeline + "/" + sha256.substr(0, 16) + "/" + relative_name;
}

Result<ScanSummary> ScanLanding(const LandingContext& ctx, const PipelineSpec& spec) {
  const std::string prefix = std::string(kLanding) + spec.name + "/";
  ASSIGN_OR_RETURN(Listing listing, ctx.store->ListDetailed(prefix));
  ScanSummary summary;
  summary.skipped = std::move(listing.skipped);
  const int64_t settle_us = static_cast<int64_t>(spec.source.settle.count()) * 1000;
  for (const ObjectInfo& obj : listing.objects) {
    std::string relative = obj.key.substr(prefix.size());
    std::string base = BaseName(obj.key);
    // In-progress writes: a writer publishes with a rename, so these are never complete.
    if (base.empty() || base[0] == '.' || base.ends_with(".tmp") ||
        base.find(".tmp-") != std::string::npos) {
      continue;
    }
    if (fnmatch(spec.source.pattern.c_str(), base.c_str(), 0) != 0) continue;
    // A writer that appends in place (scp, SFTP, >>) gives no sign that it
    // is done; only time does.
    if (Now(ctx) - LastChange(obj) < settle_us) {
      ++summary.waiting;
      continue;
    }
    auto hashed = HashObject(*ctx.store, obj.key);
    if (!hashed.ok()) {
      summary.errors.push_back(obj.key + ": " + hashed.status().ToString());
      continue;
    }
    // Vanished between List and open (another scanner took it): not an error.
    if (!hashed->has_value()) continue;
    // Changed since it was listed or while it was hashed: the bytes hashed
    // may not be the bytes that would be archived. Next scan.
    if (!(*hashed)->stable || !SameFingerprint(obj, (*hashed)->info)) {
      ++summary.waiting;
      continue;
    }
    auto reg = RegisterKey(ctx, spec.name, obj.key, relative, (*hashed)->sha256, obj.size, &obj);
    if (!reg.ok()) {
      summary.errors.push_back(obj.key + ": " + reg.status().ToString());
      continue;
    }
    summary.registered.push_back(*reg);
  }
  return summary;
}

Result<RegisterOutcome> IngestLocalFile(const LandingContext& ctx, const std::string& pipeline,
                                        const std::string& path) {
  std::string abs = std::filesystem::absolute(path).lexically_normal().string();
  std::string relative = std::filesystem::path(path).filename().string();
  // A copy, not a link: the user may rewrite the original later, and the
  // archive must keep exactly the bytes that were hashed. Hash while copying to
  // a private incoming key, then move it to its content-addressed archive key.
  // Copy first, register second: a crash in between leaves only a copy that a
  // retry reuses (or sets aside when damaged). The copy is not waited for: the
  // processor syncs it before the batch commits, and a copy this process did
  // not hash is checked against its hash first (VerifyArchive).
  ASSIGN_OR_RETURN(ArchiveCopy copy, CopyToArchive(*ctx.store, ctx.verifier, pipeline, path,
                                                   relative, nullptr, "", Now(ctx)));
  return RegisterKey(ctx, pipeline, std::string(kFileScheme) + abs, relative, copy.sha256,
                     copy.bytes, nullptr);
}

Status VerifyArchive(ArchiveVerifier& verifier, ObjectStore& store, const BatchInfo& b) {
  auto info = store.Stat(b.archive_key);
  if (!info.ok() && info.status().code() != StatusCode::kNotFound) return info.status();
  if (info.ok() && verifier.Matches(*info, b.sha256)) return Status::OK();
  std::optional<HashedObject> there;
  if (info.ok()) {
    ASSIGN_OR_RETURN(there, HashObject(store, b.archive_key));
    if (there && there->sha256 == b.sha256) {
      // Remembered only if nothing changed while it was read.
      if (there->stable) verifier.Remember(there->info, b.sha256);
      return Status::OK();
    }
  }
  std::string msg = "batch " + std::to_string(b.id) + ": the archived input " + b.archive_key;
  if (!there) {
    msg += " is missing (expected SHA-256 " + b.sha256 + ", " + Bytes(b.size_bytes) + ")";
  } else {
    msg += " does not hold the registered bytes: expected SHA-256 " + b.sha256 + " (" +
           Bytes(b.size_bytes) + "), found SHA-256 " + there->sha256 + " (" +
           Bytes(there->info.size) + ")";
  }
  if (b.object_key.starts_with(kFileScheme)) {
    // Registered before its copy reached the disk (IngestLocalFile): the
    // original is the other copy.
    const std::string original = b.object_key.substr(kFileScheme.size());
    const std::string relative = std::filesystem::path(original).filename().string();
    auto copy = CopyToArchive(store, &verifier, b.pipeline, original, relative, &b.sha256,
                              b.archive_key, NowMicros());
    if (copy.ok() && !copy->key.empty()) return Status::OK();
    msg += "; the original '" + original + "' " +
           (copy.ok() ? "no longer has the registered content (it has SHA-256 " + copy->sha256 + ")"
                      : "cannot be copied again: " + copy.status().ToString()) +
           "; ingest the file again";
  }
  return Status::DataLoss(msg);
}

Status ArchiveLandedInput(ObjectStore& store, ArchiveVerifier* verifier, const BatchInfo& b) {
  if (!b.object_key.starts_with(kLanding)) return Status::OK();
  auto archived = store.Stat(b.archive_key);
  if (archived.ok()) return Status::OK();
  if (archived.status().code() != StatusCode::kNotFound) return archived.status();
  ASSIGN_OR_RETURN(std::optional<HashedObject> landed, HashObject(store, b.object_key));
  if (!landed) return Status::OK();
  if (landed->sha256 != b.sha256) {
    return Status::DataLoss("batch " + std::to_string(b.id) + ": its input " + b.object_key +
                            " now holds other content (SHA-256 " + landed->sha256 + ", " +
                            Bytes(landed->info.size) + "; registered " + b.sha256 + ", " +
                            Bytes(b.size_bytes) +
                            ") and the registered bytes were never archived; the file stays in "
                            "landing and is taken as new content");
  }
  if (!landed->stable) {
    return Status::Unavailable("batch " + std::to_string(b.id) + ": its input " + b.object_key +
                               " changed while it was hashed; archived on a later try");
  }
  Status st = store.Rename(b.object_key, b.archive_key);
  if (st.ok()) {
    RememberArchived(verifier, store, b.archive_key, landed->info, b.sha256);
    return st;
  }
  // Archived meanwhile (the landing file, if still there, is the scan's), or
  // gone: VerifyArchive has the last word.
  if (st.code() == StatusCode::kAlreadyExists || st.code() == StatusCode::kNotFound) {
    return Status::OK();
  }
  return st;
}

Status RecoverLanded(const LandingContext& ctx) {
  // One batch that cannot be archived now must not hold back the others:
  // go on, report the first failure.
  Status first = Status::OK();
  for (BatchState s : {BatchState::kLanded, BatchState::kQueued, BatchState::kProcessing,
                       BatchState::kCommitting}) {
    // A page at a time: a catalog may hold millions of batches.
    int64_t before = 0;
    do {
      ASSIGN_OR_RETURN(BatchPage page, ctx.catalog->ListBatchPage(s, "", before, 1000));
      before = page.next_before_id;
      for (const BatchInfo& b : page.batches) {
        if (s == BatchState::kLanded) {
          Status st = ArchiveLandedInput(*ctx.store, ctx.verifier, b);
          if (st.code() == StatusCode::kDataLoss) {
            // Its content is gone for good; processing could only fail later.
            Status failed = ctx.catalog->TransitionBatch(b.id, BatchState::kFailed, st.message());
            if (!failed.ok() && first.ok()) first = failed;
            continue;
          }
          if (!st.ok()) {
            if (first.ok()) first = st;
            continue;  // still landed: the next reconciliation tries again
          }
        }
        RETURN_IF_ERROR(QueueBatch(ctx, b.id));
      }
    } while (before != 0);
  }
  return first;
}

}  // namespace sluice
