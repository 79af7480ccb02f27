#include "source/landing.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "core/hash.h"

namespace sluice {

namespace {

constexpr std::string_view kLanding = "landing/";

std::string BaseName(const std::string& key) {
  auto slash = key.rfind('/');
  return slash == std::string::npos ? key : key.substr(slash + 1);
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

// Moves `key` to `archive_key` unless it is already there.
Status MoveToArchive(ObjectStore& store, const std::string& key, const std::string& archive_key) {
  if (key == archive_key) return Status::OK();
  Status st = store.Rename(key, archive_key);
  if (st.code() == StatusCode::kNotFound && store.Stat(archive_key).ok()) return Status::OK();
  return st;
}

Result<RegisterOutcome> RegisterKey(const LandingContext& ctx, const std::string& pipeline,
                                    const std::string& key, const std::string& relative,
                                    const std::string& sha, int64_t size, bool move_input) {
  RegisterBatchRequest req;
  req.pipeline = pipeline;
  req.object_key = key;
  req.archive_key = ArchiveKey(pipeline, sha, relative);
  req.sha256 = sha;
  req.size_bytes = size;
  ASSIGN_OR_RETURN(RegisterBatchResult r, ctx.catalog->RegisterBatch(req));
  RegisterOutcome out{r.outcome, r.batch_id, key};
  if (r.outcome == RegisterBatchResult::Outcome::kDuplicateContent) {
    // The content is already a batch: keep this copy for the record, out of landing.
    if (move_input) {
      RETURN_IF_ERROR(MoveToArchive(
          *ctx.store, key,
          "archive/" + pipeline + "/duplicates/" + sha.substr(0, 16) + "/" + relative));
    }
    return out;
  }
  ASSIGN_OR_RETURN(BatchInfo b, ctx.catalog->GetBatch(r.batch_id));
  if (move_input) RETURN_IF_ERROR(MoveToArchive(*ctx.store, key, b.archive_key));
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

}  // namespace

std::string ArchiveKey(const std::string& pipeline, const std::string& sha256,
                       const std::string& relative_name) {
  return "archive/" + pipeline + "/" + sha256.substr(0, 16) + "/" + relative_name;
}

Result<ScanSummary> ScanLanding(const LandingContext& ctx, const PipelineSpec& spec) {
  const std::string prefix = std::string(kLanding) + spec.name + "/";
  ASSIGN_OR_RETURN(std::vector<ObjectInfo> objects, ctx.store->List(prefix));
  ScanSummary summary;
  for (const ObjectInfo& obj : objects) {
    std::string relative = obj.key.substr(prefix.size());
    std::string base = BaseName(obj.key);
    // In-progress writes: a writer publishes with a rename, so these are never complete.
    if (base.empty() || base[0] == '.' || base.ends_with(".tmp") ||
        base.find(".tmp-") != std::string::npos) {
      continue;
    }
    if (fnmatch(spec.source.pattern.c_str(), base.c_str(), 0) != 0) continue;
    auto in = ctx.store->OpenRead(obj.key);
    if (!in.ok()) {
      // Vanished between List and open (another scanner took it): not an error.
      if (in.status().code() == StatusCode::kNotFound) continue;
      summary.errors.push_back(in.status().ToString());
      continue;
    }
    auto sha = Sha256Stream(**in);
    if (!sha.ok()) {
      summary.errors.push_back(sha.status().ToString());
      continue;
    }
    auto reg = RegisterKey(ctx, spec.name, obj.key, relative, *sha, obj.size, true);
    if (!reg.ok()) {
      summary.errors.push_back(obj.key + ": " + reg.status().ToString());
      continue;
    }
    summary.registered.push_back(*reg);
  }
  return summary;
}

namespace {

constexpr std::string_view kFileScheme = "file://";

// Archive copies this process wrote itself (see CheckIngestedArchive).
std::mutex fresh_mu;
std::set<std::string>& FreshArchives() {
  static std::set<std::string> keys;
  return keys;
}

void MarkFresh(const std::string& key) {
  std::lock_guard lock(fresh_mu);
  FreshArchives().insert(key);
}

bool IsFresh(const std::string& key) {
  std::lock_guard lock(fresh_mu);
  return FreshArchives().count(key) > 0;
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

struct ArchiveCopy {
  std::string sha256;  // of the bytes copied
  int64_t bytes = 0;
};

// Copies the local file `path` to archive key `key` (through a private
// incoming key) without waiting for the disk. With `want_sha`, a copy of other
// content is dropped (and *key left alone).
Result<ArchiveCopy> CopyToArchive(ObjectStore& store, const std::string& pipeline,
                                  const std::string& path, const std::string& relative,
                                  const std::string* want_sha, std::string* key) {
  ASSIGN_OR_RETURN(auto in, OpenFileInput(path));
  const std::string incoming =
      "archive/" + pipeline + "/.incoming/" + std::to_string(::getpid()) + "-" + relative;
  ASSIGN_OR_RETURN(auto out, store.OpenWriteUnsynced(incoming));
  Sha256 hasher;
  if (Status st = CopyHashing(*in, *out, &hasher); !st.ok()) {
    out->Abort();
    return st;
  }
  ArchiveCopy copy{hasher.HexDigest(), out->Tell()};
  RETURN_IF_ERROR(out->Close());
  if (want_sha != nullptr && copy.sha256 != *want_sha) {
    (void)store.Delete(incoming);
    return copy;
  }
  *key = ArchiveKey(pipeline, copy.sha256, relative);
  RETURN_IF_ERROR(store.Rename(incoming, *key));
  MarkFresh(*key);
  SyncInBackground(store.LocalPath(*key));
  return copy;
}

}  // namespace

Result<RegisterOutcome> IngestLocalFile(const LandingContext& ctx, const std::string& pipeline,
                                        const std::string& path) {
  std::string abs = std::filesystem::absolute(path).lexically_normal().string();
  std::string relative = std::filesystem::path(path).filename().string();
  // A copy, not a link: the user may rewrite the original later, and the
  // archive must keep exactly the bytes that were hashed. Hash while copying to
  // a private incoming key, then move it to its content-addressed archive key.
  // Copy first, register second: a crash in between leaves only a copy that a
  // retry overwrites (incoming) or reuses (archive). The copy is not waited
  // for: the processor syncs it before the batch commits, and a copy written
  // by an earlier process is checked against its hash (CheckIngestedArchive).
  std::string key;
  ASSIGN_OR_RETURN(ArchiveCopy copy,
                   CopyToArchive(*ctx.store, pipeline, path, relative, nullptr, &key));
  return RegisterKey(ctx, pipeline, std::string(kFileScheme) + abs, relative, copy.sha256,
                     copy.bytes, false);
}

Status CheckIngestedArchive(ObjectStore& store, const BatchInfo& b) {
  if (!b.object_key.starts_with(kFileScheme) || IsFresh(b.archive_key)) return Status::OK();
  auto in = store.OpenRead(b.archive_key);
  if (!in.ok() && in.status().code() != StatusCode::kNotFound) return in.status();
  if (in.ok()) {
    ASSIGN_OR_RETURN(std::string sha, Sha256Stream(**in));
    if (sha == b.sha256) {
      MarkFresh(b.archive_key);
      return Status::OK();
    }
  }
  // Damaged or missing: the original is the only other copy.
  const std::string original = b.object_key.substr(kFileScheme.size());
  const std::string relative = std::filesystem::path(original).filename().string();
  std::string key;
  auto copy = CopyToArchive(store, b.pipeline, original, relative, &b.sha256, &key);
  if (copy.ok() && copy->sha256 == b.sha256 && key == b.archive_key) return Status::OK();
  return Status::FailedPrecondition(
      "the archive copy of '" + original + "' (batch " + std::to_string(b.id) +
      ") is damaged or missing (a crash before it reached the disk?), and the original " +
      (copy.ok() ? "no longer has the content that was registered"
                 : "cannot be read: " + copy.status().ToString()) +
      "; ingest the file again");
}

void ForgetFreshArchive(const std::string& key) {
  std::lock_guard lock(fresh_mu);
  FreshArchives().erase(key);
}

void ForgetFreshArchives() {
  std::lock_guard lock(fresh_mu);
  FreshArchives().clear();
}

Status RecoverLanded(const LandingContext& ctx) {
  for (BatchState s : {BatchState::kLanded, BatchState::kQueued, BatchState::kProcessing,
                       BatchState::kCommitting}) {
    ASSIGN_OR_RETURN(std::vector<BatchInfo> batches, ctx.catalog->ListBatches(s, "", 0));
    for (const BatchInfo& b : batches) {
      if (s == BatchState::kLanded && b.object_key.rfind(kLanding, 0) == 0) {
        Status mv = MoveToArchive(*ctx.store, b.object_key, b.archive_key);
        if (!mv.ok() && mv.code() != StatusCode::kNotFound) return mv;
      }
      RETURN_IF_ERROR(QueueBatch(ctx, b.id));
    }
  }
  return Status::OK();
}

}  // namespace sluice
