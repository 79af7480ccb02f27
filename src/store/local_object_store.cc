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
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "store/object_store.h"

namespace sluice {

namespace {

namespace fs = std::filesystem;

std::string ErrnoText(int err) { return std::strerror(err); }

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

int64_t MtimeMicros(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000 + st.st_mtim.tv_nsec / 1000;
}

void FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

// Copies `from` to `to` durably (for a rename across file systems).
Status CopyFileDurably(const std::string& from, const std::string& to) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Status::IOError("open '" + from + "': " + ErrnoText(errno));
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string tmp = to + ".tmp-" + std::to_string(rng() % 1000000000ULL);
  int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    int err = errno;
    ::close(in);
    return Status::IOError("create '" + tmp + "': " + ErrnoText(err));
  }
  Status st;
  char buf[1 << 16];
  while (st.ok()) {
    ssize_t n = ::read(in, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      st = Status::IOError("read '" + from + "': " + ErrnoText(errno));
      break;
    }
    if (n == 0) break;
    for (ssize_t off = 0; off < n && st.ok();) {
      ssize_t w = ::write(out, buf + off, static_cast<size_t>(n - off));
      if (w < 0) {
        if (errno == EINTR) continue;
        st = Status::IOError("write '" + tmp + "': " + ErrnoText(errno));
      } else {
        off += w;
      }
    }
  }
  if (st.ok() && ::fsync(out) != 0)
    st = Status::IOError("fsync '" + tmp + "': " + ErrnoText(errno));
  ::close(in);
  if (::close(out) != 0 && st.ok())
    st = Status::IOError("close '" + tmp + "': " + ErrnoText(errno));
  if (st.ok() && ::rename(tmp.c_str(), to.c_str()) != 0) {
    st = Status::IOError("rename '" + tmp + "' to '" + to + "': " + ErrnoText(errno));
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
    RETURN_IF_ERROR(ValidateKey(prefix, /*is_prefix=*/true));
    // Walk only the deepest directory the prefix names in full.
    size_t slash = prefix.rfind('/');
    std::string dir_key = slash == std::string::npos ? "" : prefix.substr(0, slash);
    std::vector<ObjectInfo> out;
    RETURN_IF_ERROR(Walk(dir_key, prefix, out));
    std::sort(out.begin(), out.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
  }

  Result<ObjectInfo> Stat(const std::string& key) override {
    RETURN_IF_ERROR(ValidateKey(key, false));
    std::string path = LocalPath(key);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) {
        return Status::NotFound("no object '" + key + "' in " + root_);
      }
      return Status::IOError("stat '" + path + "': " + ErrnoText(errno));
    }
    if (!S_ISREG(st.st_mode))
      return Status::NotFound("'" + key + "' in " + root_ + " is not an object");
    return ObjectInfo{key, static_cast<int64_t>(st.st_size), MtimeMicros(st)};
  }

  Result<std::unique_ptr<InputStream>> OpenRead(const std::string& key) override {
    RETURN_IF_ERROR(ValidateKey(key, false));
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
    const std::string path = LocalPath(key);
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) return Status::NotFound("sync: no object '" + key + "' in " + root_);
      return Status::IOError("open '" + path + "': " + ErrnoText(errno));
    }
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return Status::IOError("fsync '" + path + "': " + ErrnoText(err));
    return Status::OK();
  }

  Status Rename(const std::string& from, const std::string& to) override {
    RETURN_IF_ERROR(ValidateKey(from, false));
    RETURN_IF_ERROR(ValidateKey(to, false));
    std::string src = LocalPath(from), dst = LocalPath(to);
    struct stat st {};
    if (::stat(src.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
      return Status::NotFound("rename: no object '" + from + "' in " + root_);
    }
    {
      std::shared_lock lock(dirs_mu_);
      std::string dst_dir = fs::path(dst).parent_path().string();
      std::error_code ec;
      fs::create_directories(dst_dir, ec);
      if (ec) return Status::IOError("create directory '" + dst_dir + "': " + ec.message());
      if (::rename(src.c_str(), dst.c_str()) != 0) {
        int err = errno;
        if (err == ENOENT) return Status::NotFound("rename: no object '" + from + "' in " + root_);
        if (err != EXDEV) {
          return Status::IOError("rename '" + src + "' to '" + dst + "': " + ErrnoText(err));
        }
        RETURN_IF_ERROR(CopyFileDurably(src, dst));
        if (::unlink(src.c_str()) != 0 && errno != ENOENT) {
          return Status::IOError("remove '" + src + "' after copying it: " + ErrnoText(errno));
        }
      }
      // The rename is only durable once the directory entry is.
      FsyncDir(dst_dir);
    }
    PruneEmptyParents(from);
    return Status::OK();
  }

  Status Delete(const std::string& key) override {
    RETURN_IF_ERROR(ValidateKey(key, false));
    std::string path = LocalPath(key);
    if (::unlink(path.c_str()) != 0) {
      int err = errno;
      if (err == ENOENT || err == ENOTDIR) return Status::OK();
      if (err == EISDIR || err == EPERM) {
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
          return Status::InvalidArgument("delete: '" + key + "' in " + root_ +
                                         " is a directory, not an object");
        }
      }
      return Status::IOError("delete '" + path + "': " + ErrnoText(err));
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
  Result<std::unique_ptr<OutputStream>> OpenOutput(const std::string& key, bool sync) {
    RETURN_IF_ERROR(ValidateKey(key, false));
    std::string path = LocalPath(key);
    Result<std::unique_ptr<OutputStream>> out = Status::Internal("unreached");
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::shared_lock lock(dirs_mu_);
      out = OpenFileOutput(path, sync);
      if (out.ok()) break;
    }
    return out;
  }

  // Adds objects under directory `dir_key` whose key starts with `prefix`.
  Status Walk(const std::string& dir_key, const std::string& prefix, std::vector<ObjectInfo>& out) {
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
      if (::stat(it->path().c_str(), &st) != 0) continue;  // vanished meanwhile
      if (S_ISDIR(st.st_mode)) {
        // Descend only where keys below can still match the prefix.
        std::string as_dir = key + "/";
        if (as_dir.starts_with(prefix) || prefix.starts_with(as_dir)) {
          RETURN_IF_ERROR(Walk(key, prefix, out));
        }
      } else if (S_ISREG(st.st_mode) && key.starts_with(prefix)) {
        out.push_back({key, static_cast<int64_t>(st.st_size), MtimeMicros(st)});
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
