#include "source/landing.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
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
  // A store with content tags (S3) changes the ETag with every write; its
  // times come at different precisions from a listing and a Stat.
  if (!a.etag.empty() && !b.etag.empty()) return a.size == b.size && a.etag == b.etag;
  return a.size == b.size && a.mtime_us == b.mtime_us && a.change_us == b.change_us;
}

// Whether landed objects are registered where they landed: a store without
// an atomic rename (S3) cannot move them into the archive, and its objects
// appear whole (no writer appends in place there).
bool RegistersInPlace(const ObjectStore& store) { return !store.AtomicRename(); }

// A name a scan may take: not hidden, not an in-progress write, and matching
// the pipeline's pattern.
bool Candidate(const std::string& base, const std::string& pattern) {
  // In-progress writes: a writer publishes with a rename, so these are never complete.
  if (base.empty() || base[0] == '.' || base.ends_with(".tmp") ||
      base.find(".tmp-") != std::string::npos) {
    return false;
  }
  return fnmatch(pattern.c_str(), base.c_str(), 0) == 0;
}

// Queues a freshly registered (or recovered) batch and hands it to the queue.
Status QueueBatch(const LandingContext& ctx, int64_t batch_id) {
  ASSIGN_OR_RETURN(BatchInfo b, ctx.catalog->GetBatch(batch_id));
  if (b.state == BatchState::kLanded) {
    // Only if it is still landed: another scanner or server may have queued
    // it since it was read (it enqueues it too; a crash before that leaves it
    // queued, and the next reconciliation gives it its task).
    ASSIGN_OR_RETURN(std::vector<int64_t> moved, ctx.catalog->QueueLandedBatches({batch_id}));
    if (moved.empty()) return Status::OK();
  }
  return ctx.queue->Enqueue(TaskRequest{TaskKind::kProcess, batch_id, b.pipeline,
                                        b.state == BatchState::kQueued ? b.next_attempt_us : 0});
}

struct HashedObject {
  ObjectInfo info;     // the fingerprint before hashing
  std::string sha256;  // of the bytes read
  bool stable = true;  // the fingerprint was the same after hashing
};

// Hashes the object under `key`; nullopt if there is none. With `known` (a
// listing's or Stat's word) on a store with content tags, exactly that
// version is read (OpenReadVersion: one GET, no Stat before it), and one
// Stat after it says whether it is still there unchanged (else not stable).
Result<std::optional<HashedObject>> HashObject(ObjectStore& store, const std::string& key,
                                               const ObjectInfo* known = nullptr) {
  if (known != nullptr && !known->etag.empty()) {
    auto in = store.OpenReadVersion(*known);
    if (!in.ok()) {
      if (in.status().code() == StatusCode::kNotFound) return std::optional<HashedObject>();
      return in.status();
    }
    auto sha = Sha256Stream(**in);
    if (!sha.ok()) {
      if (sha.status().code() == StatusCode::kNotFound) return std::optional<HashedObject>();
      // Replaced since it was listed (If-Match failed): which bytes were
      // hashed is unclear; not stable.
      if (sha.status().code() == StatusCode::kUnavailable) {
        return std::optional<HashedObject>(HashedObject{*known, "", false});
      }
      return sha.status();
    }
    // A store may show an object before its upload is fully written (s3rver
    // does, with the final ETag): one Stat after reading says whether the
    // version read is still the one there, whole.
    auto after = store.Stat(key);
    if (!after.ok() && after.status().code() != StatusCode::kNotFound) return after.status();
    const bool stable = after.ok() && SameFingerprint(*known, *after);
    return std::optional<HashedObject>(HashedObject{*known, std::move(*sha), stable});
  }
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

// Registers `key` with content `sha`, archived at `archive_key` (empty: its
// ArchiveKey). With `landed` (a file in landing, hashed with that
// fingerprint) the file is then taken out of landing. `etag`: the content tag
// of the version hashed, where the store has them (registered in place).
Result<RegisterOutcome> RegisterKey(const LandingContext& ctx, const std::string& pipeline,
                                    const std::string& key, const std::string& relative,
                                    const std::string& sha, int64_t size, const ObjectInfo* landed,
                                    const std::string& archive_key = "",
                                    const std::string& etag = "") {
  RegisterBatchRequest req;
  req.pipeline = pipeline;
  req.object_key = key;
  req.archive_key = archive_key.empty() ? ArchiveKey(pipeline, sha, relative) : archive_key;
  req.sha256 = sha;
  req.size_bytes = size;
  req.etag = etag;
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

// OutputStream::CopyFileFrom for the local file `path`.
Result<std::optional<KernelCopy>> CopyFileInKernel(const std::string& path, OutputStream& out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError(errno, "open '" + path + "'");
  auto copied = out.CopyFileFrom(fd);
  ::close(fd);
  return copied;
}

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
  ArchiveCopy copy;
  // A reflink or an in-kernel copy where the store and the file allow it,
  // hashed from the copy; else read, hashed and written through memory.
  auto kernel = CopyFileInKernel(path, *out);
  if (!kernel.ok()) {
    out->Abort();
    return kernel.status();
  }
  if (kernel->has_value()) {
    copy = ArchiveCopy{(*kernel)->sha256, (*kernel)->bytes, ""};
  } else {
    Sha256 hasher;
    if (Status st = CopyHashing(*in, *out, &hasher); !st.ok()) {
      out->Abort();
      return st;
    }
    copy = ArchiveCopy{hasher.HexDigest(), out->Tell(), ""};
  }
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

// Copies the object `from` to `to` through this process (a store without
// rename has no server-side move in the port), hashing what it copies; with
// `want_sha`, a copy of other content is abandoned before it appears
// (kUnavailable: the source is changing). kNotFound if `from` is gone.
Status CopyObject(ObjectStore& store, const std::string& from, const std::string& to,
                  const std::string* want_sha) {
  ASSIGN_OR_RETURN(auto in, store.OpenRead(from));
  ASSIGN_OR_RETURN(auto out, store.OpenWrite(to));
  Sha256 hasher;
  if (Status st = CopyHashing(*in, *out, &hasher); !st.ok()) {
    out->Abort();
    return st;
  }
  if (want_sha != nullptr) {
    if (std::string sha = hasher.HexDigest(); sha != *want_sha) {
      out->Abort();
      return Status::Unavailable(from + " changed while it was copied to " + to + " (SHA-256 " +
                                 sha + ", expected " + *want_sha + ")");
    }
  }
  return out->Close();
}

// Keeps the object `key` for the record under <base>/<now_us>[-N]/<relative>
// by copying it (the copy never replaces an object; OK if `key` is gone).
Status CopyAside(ObjectStore& store, const std::string& key, const std::string& base,
                 const std::string& relative, int64_t now_us) {
  for (int i = 0; i < 100; ++i) {
    const std::string unique = std::to_string(now_us) + (i == 0 ? "" : "-" + std::to_string(i));
    const std::string to = base + "/" + unique + "/" + relative;
    auto taken = store.Stat(to);
    if (taken.ok()) continue;
    if (taken.status().code() != StatusCode::kNotFound) return taken.status();
    Status st = CopyObject(store, key, to, nullptr);
    return st.code() == StatusCode::kNotFound ? Status::OK() : st;
  }
  return Status::AlreadyExists("no free key under " + base + " for " + relative);
}

// CopyToArchive on a store without rename: hashes the local file first, then
// uploads it straight to its archive key (OpenWrite publishes it whole at
// Close), hashing again as it goes so that a file changed in between is
// never published under the first hash's key. An object already at the key
// with the same content is kept (nothing uploaded); one with other content is
// copied aside to archive/<p>/damaged/ before the upload takes the key (the
// store cannot move it).
Result<ArchiveCopy> UploadToArchive(ObjectStore& store, ArchiveVerifier* verifier,
                                    const std::string& pipeline, const std::string& path,
                                    const std::string& relative, const std::string* want_sha,
                                    std::string key, int64_t now_us) {
  ArchiveCopy copy;
  {
    ASSIGN_OR_RETURN(auto in, OpenFileInput(path));
    Sha256 hasher;
    std::vector<char> buf(1 << 20);
    for (;;) {
      ASSIGN_OR_RETURN(size_t n, in->Read(buf.data(), buf.size()));
      if (n == 0) break;
      hasher.Update(buf.data(), n);
      copy.bytes += static_cast<int64_t>(n);
    }
    copy.sha256 = hasher.HexDigest();
  }
  if (want_sha != nullptr && copy.sha256 != *want_sha) return copy;
  if (key.empty()) key = ArchiveKey(pipeline, copy.sha256, relative);
  ASSIGN_OR_RETURN(std::optional<HashedObject> there, HashObject(store, key));
  if (there && there->sha256 == copy.sha256) {
    if (verifier != nullptr && there->stable) verifier->Remember(there->info, copy.sha256);
    copy.key = key;
    return copy;
  }
  if (there) {
    RETURN_IF_ERROR(CopyAside(store, key,
                              "archive/" + pipeline + "/damaged/" + copy.sha256.substr(0, 16),
                              relative, now_us));
  }
  ASSIGN_OR_RETURN(auto in, OpenFileInput(path));
  ASSIGN_OR_RETURN(auto out, store.OpenWrite(key));
  Sha256 hasher;
  if (Status st = CopyHashing(*in, *out, &hasher); !st.ok()) {
    out->Abort();
    return st;
  }
  if (std::string sha = hasher.HexDigest(); sha != copy.sha256 || out->Tell() != copy.bytes) {
    out->Abort();
    return Status::Unavailable("'" + path + "' changed while it was uploaded to " + key +
                               "; ingest it again once it is complete");
  }
  RETURN_IF_ERROR(out->Close());
  copy.key = key;
  if (verifier != nullptr) {
    // Hashed as uploaded; a write by someone else since shows as another ETag.
    if (auto info = store.Stat(key); info.ok() && info->size == copy.bytes) {
      verifier->Remember(*info, copy.sha256);
    }
  }
  return copy;
}

// Where a local file's copy goes: straight to its archive key on a store
// without rename, through a private incoming key and a rename otherwise.
Result<ArchiveCopy> PlaceLocalFile(ObjectStore& store, ArchiveVerifier* verifier,
                                   const std::string& pipeline, const std::string& path,
                                   const std::string& relative, const std::string* want_sha,
                                   std::string key, int64_t now_us) {
  if (RegistersInPlace(store)) {
    return UploadToArchive(store, verifier, pipeline, path, relative, want_sha, std::move(key),
                           now_us);
  }
  return CopyToArchive(store, verifier, pipeline, path, relative, want_sha, std::move(key), now_us);
}

constexpr size_t kListPage = 1000;

// Takes one listed object of a store without rename: unless `state` or the
// catalog knows it under this ETag, hashes it and registers it in place (its
// own archive).
void TakeInPlace(const LandingContext& ctx, const PipelineSpec& spec, LandingScanState& state,
                 const std::string& prefix, const ObjectInfo& obj, ScanSummary* summary) {
  const std::string relative = obj.key.substr(prefix.size());
  if (!Candidate(BaseName(obj.key), spec.source.pattern)) return;
  if (!obj.etag.empty()) {
    // Taken before, and not overwritten since (another ETag): nothing to read.
    if (state.Known(prefix, obj.key, obj.etag)) return;
    // Registered by this process before a restart, or by another one: the
    // catalog keeps each landing's ETag. Asking costs one small query; not
    // asking, after a restart, a read of every object in the bucket. (A batch
    // its registrant left `landed`, dying before it queued it, is queued by
    // RecoverLanded's reconciliation, not by a scan.)
    auto known = ctx.catalog->LandedObjectKnown(spec.name, obj.key, obj.etag);
    if (!known.ok()) {
      summary->errors.push_back(obj.key + ": " + known.status().ToString());
      state.Retry(prefix, obj.key);
      return;
    }
    if (*known) {
      state.Remember(prefix, obj.key, obj.etag);
      return;
    }
  }
  auto hashed = HashObject(*ctx.store, obj.key, &obj);
  if (!hashed.ok()) {
    summary->errors.push_back(obj.key + ": " + hashed.status().ToString());
    state.Retry(prefix, obj.key);
    return;
  }
  if (!hashed->has_value()) return;  // deleted since it was listed
  // Replaced while it was read: which version was hashed is unclear. Next scan.
  if (!(*hashed)->stable) {
    ++summary->waiting;
    state.Retry(prefix, obj.key);
    return;
  }
  // The version hashed: the one listed (read by its ETag, checked afterwards).
  const ObjectInfo& info = (*hashed)->info;
  const std::string& sha = (*hashed)->sha256;
  auto reg =
      RegisterKey(ctx, spec.name, obj.key, relative, sha, info.size, nullptr, obj.key, info.etag);
  if (!reg.ok()) {
    summary->errors.push_back(obj.key + ": " + reg.status().ToString());
    state.Retry(prefix, obj.key);
    return;
  }
  if (!info.etag.empty()) state.Remember(prefix, obj.key, info.etag);
  if (ctx.verifier != nullptr && reg->outcome != RegisterBatchResult::Outcome::kDuplicateContent) {
    ctx.verifier->Remember(info, sha);
  }
  summary->registered.push_back(*reg);
}

// ScanLanding on a store without rename: the keys listed after the
// watermark, or every key at a full listing, plus those to try again.
Result<ScanSummary> ScanInPlace(const LandingContext& ctx, const PipelineSpec& spec) {
  const std::string prefix = std::string(kLanding) + spec.name + "/";
  LandingScanState scratch(0);  // no caller state: list in full, hash everything
  LandingScanState& state = ctx.scan_state != nullptr ? *ctx.scan_state : scratch;
  const LandingScanState::Pass pass =
      state.BeginPass(prefix, Now(ctx), static_cast<int64_t>(ctx.full_rescan.count()) * 1000);
  ScanSummary summary;
  std::vector<std::string> retries = state.TakeRetries(prefix);
  // A full listing passes them anyway.
  if (!pass.full) {
    for (const std::string& key : retries) {
      auto info = ctx.store->Stat(key);
      if (info.ok()) {
        TakeInPlace(ctx, spec, state, prefix, *info, &summary);
      } else if (info.status().code() != StatusCode::kNotFound) {
        summary.errors.push_back(key + ": " + info.status().ToString());
        state.Retry(prefix, key);
      }
    }
  }
  // Objects appear whole on such a store: each is taken as soon as listed
  // (no settle). Page by page, so memory stays bounded by one page.
  std::string after = pass.start_after;
  for (;;) {
    auto page = ctx.store->ListAfter(prefix, after, kListPage);
    if (!page.ok()) {
      state.EndPass(prefix, pass, false);
      return page.status();
    }
    for (const ObjectInfo& obj : page->objects) {
      TakeInPlace(ctx, spec, state, prefix, obj, &summary);
      state.Listed(prefix, obj.key);
    }
    if (!page->truncated || page->objects.empty()) break;
    after = page->objects.back().key;
  }
  state.EndPass(prefix, pass, true);
  return summary;
}

}  // namespace

void ArchiveVerifier::Remember(const ObjectInfo& info, const std::string& sha256) {
  MutexLock lock(&mu_);
  if (known_.size() >= kMaxKeys && known_.find(info.key) == known_.end()) {
    known_.erase(known_.begin());
  }
  known_[info.key] = Fingerprint{info.size, info.mtime_us, info.change_us, info.etag, sha256};
}

bool ArchiveVerifier::Matches(const ObjectInfo& info, const std::string& sha256) const {
  MutexLock lock(&mu_);
  auto it = known_.find(info.key);
  if (it == known_.end()) return false;
  const Fingerprint& f = it->second;
  // A store with content tags (S3) gives each write its own ETag; its times
  // differ in precision between a listing and a Stat.
  if (!info.etag.empty() || !f.etag.empty()) {
    return f.etag == info.etag && f.size == info.size && f.sha256 == sha256;
  }
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

namespace {

// A landed file hashed (and unchanged while it was) and ready to register.
struct HashedLanding {
  ObjectInfo info;
  std::string relative;
  std::string sha256;
};

// Registers `group` in one catalog transaction, takes each file out of
// landing (to its archive key, or to duplicates), then queues the batches
// still landed, again in one transaction of the catalog and one of the queue:
// what RegisterKey does for one file, for many at the price of one.
void RegisterGroup(const LandingContext& ctx, const std::string& pipeline,
                   std::vector<HashedLanding>& group, ScanSummary& summary) {
  if (group.empty()) return;
  std::vector<RegisterBatchRequest> reqs;
  reqs.reserve(group.size());
  for (const HashedLanding& h : group) {
    RegisterBatchRequest req;
    req.pipeline = pipeline;
    req.object_key = h.info.key;
    req.archive_key = ArchiveKey(pipeline, h.sha256, h.relative);
    req.sha256 = h.sha256;
    req.size_bytes = h.info.size;
    reqs.push_back(std::move(req));
  }
  auto regs = ctx.catalog->RegisterBatches(reqs);
  if (!regs.ok()) {
    for (const HashedLanding& h : group) {
      summary.errors.push_back(h.info.key + ": " + regs.status().ToString());
    }
    group.clear();
    return;
  }
  std::vector<int64_t> to_queue;
  std::vector<RegisterOutcome> done;
  for (size_t i = 0; i < group.size(); ++i) {
    const HashedLanding& h = group[i];
    const RegisterBatchResult& r = (*regs)[i];
    Status st;
    if (r.outcome == RegisterBatchResult::Outcome::kDuplicateContent) {
      st = MoveToDuplicates(ctx, h.info.key, pipeline, h.sha256, h.relative);
    } else {
      // A new batch is what the request made of it, landed; one seen before
      // may have moved on.
      Result<BatchInfo> b = BatchInfo();
      if (r.outcome == RegisterBatchResult::Outcome::kNew) {
        b->id = r.batch_id;
        b->pipeline = pipeline;
        b->archive_key = reqs[i].archive_key;
        b->sha256 = h.sha256;
        b->state = BatchState::kLanded;
      } else {
        b = ctx.catalog->GetBatch(r.batch_id);
      }
      st = b.ok() ? MoveToArchive(ctx, h.info, *b, h.relative) : b.status();
      if (st.ok() && b->state == BatchState::kLanded) to_queue.push_back(r.batch_id);
    }
    if (!st.ok()) {
      summary.errors.push_back(h.info.key + ": " + st.ToString());
      continue;
    }
    summary.registered.push_back(RegisterOutcome{r.outcome, r.batch_id, h.info.key});
  }
  group.clear();
  if (to_queue.empty()) return;
  // A batch another scanner queued meanwhile is left to it (and its task).
  auto moved = ctx.catalog->QueueLandedBatches(to_queue);
  Status st = moved.status();
  if (moved.ok()) {
    std::vector<TaskRequest> tasks;
    for (int64_t id : *moved) tasks.push_back(TaskRequest{TaskKind::kProcess, id, pipeline, 0});
    st = ctx.queue->EnqueueAll(tasks);
  }
  // Registered and archived, not yet queued: RecoverLanded gives landed and
  // queued batches their task.
  if (!st.ok())
    summary.errors.push_back("queueing " + std::to_string(to_queue.size()) +
                             " registered batches: " + st.ToString());
}

}  // namespace

Result<ScanSummary> ScanLanding(const LandingContext& ctx, const PipelineSpec& spec) {
  if (RegistersInPlace(*ctx.store)) return ScanInPlace(ctx, spec);
  const std::string prefix = std::string(kLanding) + spec.name + "/";
  ASSIGN_OR_RETURN(Listing listing, ctx.store->ListDetailed(prefix));
  ScanSummary summary;
  summary.skipped = std::move(listing.skipped);
  const int64_t settle_us = static_cast<int64_t>(spec.source.settle.count()) * 1000;
  // Files register in groups: many small files landed at once cost one
  // catalog transaction per group rather than three per file. A group is cut
  // short after a while of hashing, so a large file does not wait for more.
  constexpr size_t kGroupFiles = 64;
  constexpr auto kGroupTime = std::chrono::milliseconds(20);
  std::vector<HashedLanding> group;
  auto group_started = std::chrono::steady_clock::now();
  for (const ObjectInfo& obj : listing.objects) {
    std::string relative = obj.key.substr(prefix.size());
    if (!Candidate(BaseName(obj.key), spec.source.pattern)) continue;
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
    if (group.empty()) group_started = std::chrono::steady_clock::now();
    group.push_back(HashedLanding{obj, std::move(relative), std::move((*hashed)->sha256)});
    if (group.size() >= kGroupFiles ||
        std::chrono::steady_clock::now() - group_started >= kGroupTime) {
      RegisterGroup(ctx, spec.name, group, summary);
    }
  }
  RegisterGroup(ctx, spec.name, group, summary);
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
  // On a store without rename the file is uploaded straight to its archive
  // key instead (PlaceLocalFile).
  ASSIGN_OR_RETURN(ArchiveCopy copy, PlaceLocalFile(*ctx.store, ctx.verifier, pipeline, path,
                                                    relative, nullptr, "", Now(ctx)));
  return RegisterKey(ctx, pipeline, std::string(kFileScheme) + abs, relative, copy.sha256,
                     copy.bytes, nullptr);
}

Result<StreamIngest> IngestStream(
    const LandingContext& ctx, const std::string& pipeline, const std::string& name,
    const std::function<Status(const std::function<Status(std::string_view)>&)>& read) {
  ObjectStore& store = *ctx.store;
  static std::atomic<uint64_t> upload_counter{0};
  const std::string unique = std::to_string(Now(ctx)) + "-" + std::to_string(::getpid()) + "-" +
                             std::to_string(++upload_counter) + "-" + BaseName(name);
  // Private to this call until it is renamed (or registered, without rename).
  const std::string written = RegistersInPlace(store)
                                  ? "archive/" + pipeline + "/uploads/" + unique
                                  : "archive/" + pipeline + "/.incoming/" + unique;
  ASSIGN_OR_RETURN(auto out, store.OpenWrite(written));
  Sha256 hasher;
  Status st = read([&](std::string_view piece) {
    hasher.Update(piece.data(), piece.size());
    return out->Write(piece.data(), piece.size());
  });
  if (!st.ok()) {
    out->Abort();
    return st;
  }
  StreamIngest done;
  done.bytes = out->Tell();
  done.sha256 = hasher.HexDigest();
  RETURN_IF_ERROR(out->Close());
  std::string archive_key;
  if (RegistersInPlace(store)) {
    archive_key = written;
  } else {
    archive_key = ArchiveKey(pipeline, done.sha256, name);
    if (Status placed =
            PlaceArchiveCopy(store, written, archive_key, done.sha256, pipeline, name, Now(ctx));
        !placed.ok()) {
      (void)store.Delete(written);
      return placed;
    }
  }
  auto reg = RegisterKey(ctx, pipeline, "upload://" + name, name, done.sha256, done.bytes, nullptr,
                         archive_key);
  if (!reg.ok()) return reg.status();
  done.registered = *reg;
  if (reg->outcome != RegisterBatchResult::Outcome::kNew) {
    // The content was registered already: its batch keeps its own archive
    // copy, and one under this upload's name would be referenced by nothing.
    auto b = ctx.catalog->GetBatch(reg->batch_id);
    if (b.ok() && b->archive_key != archive_key) {
      (void)store.Delete(archive_key);
      archive_key = b->archive_key;
    }
  }
  if (ctx.verifier != nullptr) {
    // Hashed as written, and only this call wrote it.
    if (auto info = store.Stat(archive_key); info.ok() && info->size == done.bytes) {
      ctx.verifier->Remember(*info, done.sha256);
    }
  }
  return done;
}

Status VerifyArchive(ArchiveVerifier& verifier, ObjectStore& store, const BatchInfo& b,
                     ObjectInfo* verified) {
  auto info = store.Stat(b.archive_key);
  if (!info.ok() && info.status().code() != StatusCode::kNotFound) return info.status();
  if (info.ok() && verifier.Matches(*info, b.sha256)) {
    if (verified != nullptr) *verified = *info;
    return Status::OK();
  }
  std::optional<HashedObject> there;
  if (info.ok()) {
    ASSIGN_OR_RETURN(there, HashObject(store, b.archive_key, &*info));
    if (there && there->sha256 == b.sha256) {
      // Remembered only if nothing changed while it was read.
      if (there->stable) verifier.Remember(there->info, b.sha256);
      if (verified != nullptr && there->stable) *verified = there->info;
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
    auto copy = PlaceLocalFile(store, &verifier, b.pipeline, original, relative, &b.sha256,
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
  // Registered in place (a store without rename): the landed object is the
  // archive; VerifyArchive checks that it still holds the registered bytes.
  if (b.archive_key == b.object_key) return Status::OK();
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
  // A batch registered with an archive key apart (on a store with rename,
  // since moved to one without): copied, as that store cannot move it.
  Status st = RegistersInPlace(store) ? CopyObject(store, b.object_key, b.archive_key, &b.sha256)
                                      : store.Rename(b.object_key, b.archive_key);
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
