// LocalObjectStore: an ObjectStore over a directory. Key "a/b/c" is the file
// <root>/a/b/c.
//
// Writes go through OpenFileOutput (a "<path>.tmp-<n>" file renamed on Close),
// so List skips such in-progress files, and any hidden (".") entry.
// Directories are created on demand and pruned when a delete or rename leaves
// them empty, up to (not including) the key's top-level directory.
//
// Pruning races with writers creating files in the same directory: writers
// hold dirs_mu_ shared from creating the directory until their file exists,
// pruning holds it exclusively. Another process pruning at the same moment is
// covered by one retry of the write.
//
// Symbolic links. Producers own landing/, and a link there must not make
// sluice read, move or delete anything outside the store (a link to a file
// elsewhere ingested and moved; a linked directory whose files are moved out
// of it), nor make List endless (two links looping). So below the top-level
// directories nothing follows a link:
//   * List reads entries with lstat, never reports a link as an object and
//     never descends into a linked directory; it reports each link it passes
//     (ListDetailed). A link at the top level (archive -> /big/disk) is the
//     operator's layout and is followed, one level only, so it cannot loop.
//   * Every key is checked with lstat, component by component below the top
//     level (one system call per directory level, small beside the file
//     operation). A key whose final component is a link, or whose path
//     crosses a linked directory, names no object: Stat, OpenRead, Sync and
//     Rename from it are kNotFound, Delete leaves it alone; writing or renaming
//     to such a key is kInvalidArgument.
// The check and the use are separate system calls, so a producer that swaps a
// directory for a link at that instant is not covered (Sync opens with
// O_NOFOLLOW; OpenRead goes through core's OpenFileInput, which has no such
// flag yet). Producers are not adversaries of the store: one that can write
// landing/ can put any bytes there anyway.
//
// Rename never replaces: renameat2(RENAME_NOREPLACE), or link + unlink where
// the file system lacks it (internal/rename_no_replace.h); across file systems
// a copy to a temporary name that is then moved the same way.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "store/internal/rename_no_replace.h"
#include "store/object_store.h"

namespace sluice {

namespace {

namespace fs = std::filesystem;

// True for names List must not report: hidden files and OpenFileOutput's
// in-progress temporaries.
bool IsIgnoredName(std::string_view name) {
  return name.empty() || name.front() == '.' || name.ends_with(".tmp") ||
         name.find(".tmp-") != std::string_view::npos;
}

// Checks a key (or, with allow_partial, a prefix) is a relative path without
// "." or ".." components.
Status ValidateKey(std::string_view key, bool is_prefix) {
  const char* what = is_prefix ? "prefix" : "key";
  if (!is_prefix && key.empty()) return Status::InvalidArgument("object key is empty");
  if (!key.empty() && key.front() == '/') {
    return Status::InvalidArgument(std::string("object ") + what + " '" + std::string(key) +
                                   "' is absolute; keys are relative to the store root");
  }
  if (key.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument(std::string("object ") + what + " contains a NUL byte");
  }
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view comp = key.substr(start, end - start);
    bool last = end == key.size();
    if (comp == ".." || comp == ".") {
      return Status::InvalidArgument(std::string("object ") + what + " '" + std::string(key) +
                                     "' has a '" + std::string(comp) + "' component");
    }
    // An empty component is "a//b" or a key ending in '/'; a prefix may end in '/'.
    if (comp.empty() && !(is_prefix && last)) {
      return Status::InvalidArgument(std::string("object ") + what + " '" + std::string(key) +
                                     "' has an empty path component");
    }
    start = end + 1;
  }
  return Status::OK();
}

int64_t Micros(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
}

ObjectInfo InfoFromStat(const std::string& key, const struct stat& st) {
  return ObjectInfo{key, static_cast<int64_t>(st.st_size), Micros(st.st_mtim), Micros(st.st_ctim)};
}

void FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// FsyncDir that says whether the directory's entries are on disk. A directory
// removed meanwhile (emptied by a later move) has no entry left to keep.
Status SyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return Status::OK();
  if (fd < 0) return ErrnoError(errno, "open directory '" + dir + "'");
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return ErrnoError(err, "fsync directory '" + dir + "'");
  return Status::OK();
}

// Copies `from` to `to` durably (for a rename across file systems), through a
// temporary name beside `to` that is moved without replacing: kAlreadyExists
// if `to` exists, and then nothing is left behind.
Status CopyFileDurably(const std::string& from, const std::string& to) {
  int in = ::open(from.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (in < 0) return ErrnoError(errno, "open '" + from + "'");
  static std::atomic<uint64_t> counter{0};
  std::string tmp = to + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
  int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (out < 0) {
    int err = errno;
    ::close(in);
    return ErrnoError(err, "create '" + tmp + "'");
  }
  Status st;
  char buf[1 << 16];
  while (st.ok()) {
    ssize_t n = ::read(in, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      st = ErrnoError(errno, "read '" + from + "'");
      break;
    }
    if (n == 0) break;
    for (ssize_t off = 0; off < n && st.ok();) {
      ssize_t w = ::write(out, buf + off, static_cast<size_t>(n - off));
      if (w < 0) {
        if (errno == EINTR) continue;
        st = ErrnoError(errno, "write '" + tmp + "'");
      } else {
        off += w;
      }
    }
  }
  if (st.ok() && ::fsync(out) != 0) st = ErrnoError(errno, "fsync '" + tmp + "'");
  ::close(in);
  if (::close(out) != 0 && st.ok()) st = ErrnoError(errno, "close '" + tmp + "'");
  if (st.ok()) {
    if (int err = internal::RenameNoReplace(tmp, to); err == EEXIST) {
      st = Status::AlreadyExists("'" + to + "' already exists (an object is never replaced)");
    } else if (err != 0) {
      st = ErrnoError(err, "rename '" + tmp + "' to '" + to + "'");
    }
  }
  if (!st.ok()) ::unlink(tmp.c_str());
  return st;
}

class LocalObjectStore final : public ObjectStore {
 public:
  explicit LocalObjectStore(std::string root) : root_(std::move(root)) {
    while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  }

  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override {
    ASSIGN_OR_RETURN(Listing listing, ListDetailed(prefix));
    return std::move(listing.objects);
  }

  Result<Listing> ListDetailed(const std::string& prefix) override {
    RETURN_IF_ERROR(ValidateKey(prefix, /*is_prefix=*/true));
    // Walk only the deepest directory the prefix names in full.
    size_t slash = prefix.rfind('/');
    std::string dir_key = slash == std::string::npos ? "" : prefix.substr(0, slash);
    Listing out;
    if (std::string link = LinkedDirectory(dir_key + "/"); !link.empty()) {
      out.skipped.push_back({link, kLinkReason});
      return out;
    }
    RETURN_IF_ERROR(Walk(dir_key, prefix, out));
    std::sort(out.objects.begin(), out.objects.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    std::sort(out.skipped.begin(), out.skipped.end(),
              [](const SkippedEntry& a, const SkippedEntry& b) { return a.key < b.key; });
    return out;
  }

  Result<ObjectInfo> Stat(const std::string& key) override {
    RETURN_IF_ERROR(ValidateKey(key, false));
    struct stat st {};
    RETURN_IF_ERROR(LstatObject(key, "stat", &st));
    return InfoFromStat(key, st);
  }

  Result<std::unique_ptr<InputStream>> OpenRead(const std::string& key) override {
    RETURN_IF_ERROR(ValidateKey(key, false));
    struct stat st {};
    RETURN_IF_ERROR(LstatObject(key, "read", &st));
    return OpenFileInput(LocalPath(key));
  }

  Result<std::unique_ptr<OutputStream>> OpenWrite(const std::string& key) override {
    return OpenOutput(key, /*sync=*/true);
  }

  Result<std::unique_ptr<OutputStream>> OpenWriteUnsynced(const std::string& key) override {
    return OpenOutput(key, /*sync=*/false);
  }

  Status Sync(const std::string& key) override {
    RETURN_IF_ERROR(ValidateKey(key, false));
    if (std::string link = LinkedDirectory(key); !link.empty()) {
      return Status::NotFound("sync: " + NoObjectThroughLink(key, link));
    }
    const std::string path = LocalPath(key);
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return Status::NotFound("sync: no object '" + key + "' in " + root_);
      if (errno == ELOOP) return Status::NotFound("sync: " + LinkIsNoObject(key));
      return ErrnoError(errno, "open '" + path + "'");
    }
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return ErrnoError(err, "fsync '" + path + "'");
    return Status::OK();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    return Move(from, to, nullptr);
  }

  Status RenameDeferred(const std::string& from, const std::string& to,
                        DeferredSync& deferred) override {
    return Move(from, to, &deferred);
  }

  Status SyncRenames(DeferredSync& deferred) override {
    // One sync per directory: the entries of every move into it.
    std::set<std::string> dirs;
    for (const std::string& key : deferred.keys) {
      RETURN_IF_ERROR(ValidateKey(key, false));
      dirs.insert(fs::path(LocalPath(key)).parent_path().string());
    }
    Status first;
    for (const std::string& dir : dirs) {
      Status st = SyncDir(dir);
      if (!st.ok() && first.ok()) first = st;
    }
    deferred.keys.clear();
    return first;
  }

  // Rename; with `deferred`, the destination directory is left to sync later.
  Status Move(const std::string& from, const std::string& to, DeferredSync* deferred) {
    RETURN_IF_ERROR(ValidateKey(from, false));
    RETURN_IF_ERROR(ValidateKey(to, false));
    struct stat st {};
    RETURN_IF_ERROR(LstatObject(from, "rename", &st));
    if (std::string link = LinkedDirectory(to); !link.empty()) {
      return Status::InvalidArgument("rename to '" + to + "' in " + root_ + ": '" + link +
                                     "' is a symbolic link (never followed below the top level)");
    }
    std::string src = LocalPath(from), dst = LocalPath(to);
    {
      std::shared_lock lock(dirs_mu_);
      std::string dst_dir = fs::path(dst).parent_path().string();
      std::error_code ec;
      fs::create_directories(dst_dir, ec);
      if (ec) return Status::IOError("create directory '" + dst_dir + "': " + ec.message());
      int err = internal::RenameNoReplace(src, dst);
      if (err == EEXIST) return AlreadyThere(from, to);
      if (err == ENOENT) return Status::NotFound("rename: no object '" + from + "' in " + root_);
      if (err == EXDEV) {
        // Checked first only to spare copying a large object for nothing;
        // the copy's own move is what refuses to replace.
        struct stat existing {};
        if (::lstat(dst.c_str(), &existing) == 0) return AlreadyThere(from, to);
        if (Status copied = CopyFileDurably(src, dst); !copied.ok()) {
          if (copied.code() == StatusCode::kAlreadyExists) return AlreadyThere(from, to);
          return copied;
        }
        if (::unlink(src.c_str()) != 0 && errno != ENOENT) {
          return ErrnoError(errno, "remove '" + src + "' after copying it");
        }
      } else if (err != 0) {
        // EPERM/EOPNOTSUPP here can mean a file system with neither
        // RENAME_NOREPLACE nor hard links: no move rather than one that
        // could replace.
        return ErrnoError(err, "rename '" + src + "' to '" + dst + "' without replacing");
      }
      // The rename is only durable once the directory entry is.
      if (deferred != nullptr) {
        deferred->keys.insert(to);
      } else {
        FsyncDir(dst_dir);
      }
    }
    PruneEmptyParents(from);
    return Status::OK();
  }

  Status Delete(const std::string& key) override {
    RETURN_IF_ERROR(ValidateKey(key, false));
    // Through a linked directory the key names no object (and the file there
    // is not ours to delete); a link itself is not an object either.
    if (!LinkedDirectory(key).empty()) return Status::OK();
    std::string path = LocalPath(key);
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) return Status::OK();
    if (::unlink(path.c_str()) != 0) {
      int err = errno;
      if (err == ENOENT || err == ENOTDIR) return Status::OK();
      if (err == EISDIR || err == EPERM) {
        if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
          return Status::InvalidArgument("delete: '" + key + "' in " + root_ +
                                         " is a directory, not an object");
        }
      }
      return ErrnoError(err, "delete '" + path + "'");
    }
    PruneEmptyParents(key);
    return Status::OK();
  }

  Status DeletePrefix(const std::string& prefix) override {
    if (prefix.empty()) {
      return Status::InvalidArgument("delete prefix: refusing to delete every object in " + root_);
    }
    ASSIGN_OR_RETURN(std::vector<ObjectInfo> objects, List(prefix));
    for (const ObjectInfo& o : objects) RETURN_IF_ERROR(Delete(o.key));
    return Status::OK();
  }

  std::string LocalPath(const std::string& key) const override {
    return key.empty() ? root_ : root_ + "/" + key;
  }

  std::string Describe() const override { return root_; }

 private:
  static constexpr const char* kLinkReason = "symbolic link (links are never followed)";

  // The first directory of `key` below the top level that is a symbolic link
  // ("" if none, also when a directory is missing: nothing below it exists).
  // The final component is not looked at (with a trailing '/', `key` names a
  // directory and is looked at whole).
  std::string LinkedDirectory(std::string_view key) const {
    const size_t top = key.find('/');
    if (top == std::string_view::npos) return "";
    for (size_t end = key.find('/', top + 1); end != std::string_view::npos;
         end = key.find('/', end + 1)) {
      std::string dir(key.substr(0, end));
      struct stat st {};
      if (::lstat(LocalPath(dir).c_str(), &st) != 0) return "";
      if (S_ISLNK(st.st_mode)) return dir;
    }
    return "";
  }

  std::string NoObjectThroughLink(const std::string& key, const std::string& link) const {
    return "no object '" + key + "' in " + root_ + ": '" + link +
           "' is a symbolic link (links are never followed below the top level)";
  }

  std::string LinkIsNoObject(const std::string& key) const {
    return "'" + key + "' in " + root_ + " is a symbolic link, not an object (links are never " +
           "followed)";
  }

  Status AlreadyThere(const std::string& from, const std::string& to) const {
    return Status::AlreadyExists("rename '" + from + "': '" + to + "' already exists in " + root_ +
                                 " (an object is never replaced)");
  }

  // lstat of the regular file under `key`: kNotFound when there is none, the
  // key is a link or crosses a linked directory, or it is not a regular file.
  Status LstatObject(const std::string& key, const char* op, struct stat* st) const {
    if (std::string link = LinkedDirectory(key); !link.empty()) {
      return Status::NotFound(std::string(op) + ": " + NoObjectThroughLink(key, link));
    }
    const std::string path = LocalPath(key);
    if (::lstat(path.c_str(), st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) {
        return Status::NotFound(std::string(op) + ": no object '" + key + "' in " + root_);
      }
      return ErrnoError(errno, "stat '" + path + "'");
    }
    if (S_ISLNK(st->st_mode)) return Status::NotFound(std::string(op) + ": " + LinkIsNoObject(key));
    if (!S_ISREG(st->st_mode)) {
      return Status::NotFound(std::string(op) + ": '" + key + "' in " + root_ +
                              " is not an object");
    }
    return Status::OK();
  }

  Result<std::unique_ptr<OutputStream>> OpenOutput(const std::string& key, bool sync) {
    RETURN_IF_ERROR(ValidateKey(key, false));
    if (std::string link = LinkedDirectory(key); !link.empty()) {
      return Status::InvalidArgument("write '" + key + "' in " + root_ + ": '" + link +
                                     "' is a symbolic link (never followed below the top level)");
    }
    std::string path = LocalPath(key);
    Result<std::unique_ptr<OutputStream>> out = Status::Internal("unreached");
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::shared_lock lock(dirs_mu_);
      out = OpenFileOutput(path, sync);
      if (out.ok()) break;
    }
    return out;
  }

  // Adds objects under directory `dir_key` whose key starts with `prefix`,
  // and the links and special files it passes.
  Status Walk(const std::string& dir_key, const std::string& prefix, Listing& out) {
    std::string dir = LocalPath(dir_key);
    std::error_code ec;
    fs::directory_iterator it(dir, ec);
    if (ec) {
      // A missing directory is an empty listing; one deleted mid-walk too.
      if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) {
        return Status::OK();
      }
      return Status::IOError("list '" + dir + "': " + ec.message());
    }
    for (; it != fs::directory_iterator(); it.increment(ec)) {
      if (ec) return Status::IOError("list '" + dir + "': " + ec.message());
      std::string name = it->path().filename().string();
      if (IsIgnoredName(name)) continue;
      std::string key = dir_key.empty() ? name : dir_key + "/" + name;
      struct stat st {};
      if (::lstat(it->path().c_str(), &st) != 0) continue;  // vanished meanwhile
      // The operator's layout: a top-level directory may live elsewhere.
      if (S_ISLNK(st.st_mode) && dir_key.empty()) {
        struct stat target {};
        if (::stat(it->path().c_str(), &target) == 0 && S_ISDIR(target.st_mode)) st = target;
      }
      const std::string as_dir = key + "/";
      if (S_ISDIR(st.st_mode)) {
        // Descend only where keys below can still match the prefix.
        if (as_dir.starts_with(prefix) || prefix.starts_with(as_dir)) {
          RETURN_IF_ERROR(Walk(key, prefix, out));
        }
      } else if (S_ISREG(st.st_mode)) {
        if (key.starts_with(prefix)) out.objects.push_back(InfoFromStat(key, st));
      } else if (key.starts_with(prefix)) {
        out.skipped.push_back({key, S_ISLNK(st.st_mode)
                                        ? kLinkReason
                                        : "not a regular file (fifo, socket or device)"});
      }
    }
    return Status::OK();
  }

  // Removes the now-empty directories above `key`, deepest first, stopping at
  // the first non-empty one and never removing the top-level directory.
  // Directories under landing/ stay: producers make them and may be about to
  // write into one (a producer's mkdir followed by sluice removing the
  // then-empty directory would fail its next write).
  void PruneEmptyParents(const std::string& key) {
    if (key.starts_with("landing/")) return;
    std::unique_lock lock(dirs_mu_);
    std::string dir = key;
    while (true) {
      size_t slash = dir.rfind('/');
      if (slash == std::string::npos) return;
      dir.resize(slash);
      if (dir.find('/') == std::string::npos) return;  // top level: keep
      if (::rmdir(LocalPath(dir).c_str()) != 0) return;
    }
  }

  std::string root_;
  std::shared_mutex dirs_mu_;
};

}  // namespace

std::unique_ptr<ObjectStore> NewLocalObjectStore(std::string root_dir) {
  return std::make_unique<LocalObjectStore>(std::move(root_dir));
}

}  // namespace sluice
