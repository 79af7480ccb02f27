#include "core/io.h"

#include <fcntl.h>
#ifdef __linux__
#include <linux/fs.h>
#include <sys/ioctl.h>
#endif
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "core/hash.h"

namespace sluice {

namespace fs = std::filesystem;

namespace {

// The failed call `what` on `path`, classified by errno (see ErrnoError).
Status ErrnoStatus(const std::string& what, const std::string& path) {
  return ErrnoError(errno, what + " '" + path + "'");
}

// pread() on an fd this object owns: no shared file position, so concurrent
// ReadAt calls are safe.
class FdRandomAccess final : public RandomAccessFile {
 public:
  FdRandomAccess(int fd, std::string name, int64_t size)
      : fd_(fd), name_(std::move(name)), size_(size) {}
  ~FdRandomAccess() override { ::close(fd_); }
  Status ReadAt(int64_t offset, size_t n, char* buf) const override {
    if (offset < 0 || offset > size_ || static_cast<int64_t>(n) > size_ - offset) {
      return Status::DataLoss("read of " + std::to_string(n) + " bytes at offset " +
                              std::to_string(offset) + " is past the end of '" + name_ + "' (" +
                              std::to_string(size_) + " bytes)");
    }
    size_t done = 0;
    while (done < n) {
      ssize_t r = ::pread(fd_, buf + done, n - done, static_cast<off_t>(offset + done));
      if (r < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("read", name_);
      }
      if (r == 0) return Status::DataLoss("'" + name_ + "' shrank while being read");
      done += static_cast<size_t>(r);
    }
    return Status::OK();
  }
  int64_t size() const override { return size_; }
  const std::string& name() const override { return name_; }

 private:
  int fd_;
  std::string name_;
  int64_t size_;
};

class StringRandomAccess final : public RandomAccessFile {
 public:
  StringRandomAccess(std::shared_ptr<const std::string> data, std::string name)
      : data_(std::move(data)), name_(std::move(name)) {}
  Status ReadAt(int64_t offset, size_t n, char* buf) const override {
    const int64_t size = static_cast<int64_t>(data_->size());
    if (offset < 0 || offset > size || static_cast<int64_t>(n) > size - offset) {
      return Status::DataLoss("read of " + std::to_string(n) + " bytes at offset " +
                              std::to_string(offset) + " is past the end of '" + name_ + "' (" +
                              std::to_string(size) + " bytes)");
    }
    if (n > 0) std::memcpy(buf, data_->data() + offset, n);
    return Status::OK();
  }
  int64_t size() const override { return static_cast<int64_t>(data_->size()); }
  const std::string& name() const override { return name_; }

 private:
  std::shared_ptr<const std::string> data_;
  std::string name_;
};

class FileInput final : public InputStream {
 public:
  FileInput(int fd, std::string path, int64_t size)
      : fd_(fd), path_(std::move(path)), size_(size) {}
  ~FileInput() override { ::close(fd_); }
  Result<size_t> Read(char* buf, size_t n) override {
    while (true) {
      ssize_t r = ::read(fd_, buf, n);
      if (r >= 0) {
        consumed_ += r;
        return static_cast<size_t>(r);
      }
      if (errno == EINTR) continue;
      return ErrnoStatus("read", path_);
    }
  }
  const std::string& name() const override { return path_; }
  int64_t SizeHint() const override { return size_; }
  int64_t BytesConsumed() const override { return consumed_; }
  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess() override {
    // A duplicate descriptor keeps the view valid after this stream is closed
    // (and after a rename of the file).
    int fd = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
    if (fd < 0) return ErrnoStatus("dup", path_);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      return ErrnoStatus("stat", path_);
    }
    return std::unique_ptr<RandomAccessFile>(
        std::make_unique<FdRandomAccess>(fd, path_, static_cast<int64_t>(st.st_size)));
  }

 private:
  int fd_;
  std::string path_;
  int64_t size_;
  int64_t consumed_ = 0;
};

class StringInput final : public InputStream {
 public:
  StringInput(std::string data, std::string name)
      : data_(std::make_shared<const std::string>(std::move(data))), name_(std::move(name)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min(n, data_->size() - pos_);
    if (k > 0) std::memcpy(buf, data_->data() + pos_, k);
    pos_ += k;
    return k;
  }
  const std::string& name() const override { return name_; }
  int64_t SizeHint() const override { return static_cast<int64_t>(data_->size()); }
  int64_t BytesConsumed() const override { return static_cast<int64_t>(pos_); }
  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess() override {
    return std::unique_ptr<RandomAccessFile>(std::make_unique<StringRandomAccess>(data_, name_));
  }

 private:
  std::shared_ptr<const std::string> data_;
  std::string name_;
  size_t pos_ = 0;
};

class FileOutput final : public OutputStream {
 public:
  FileOutput(int fd, std::string tmp, std::string path, bool sync)
      : fd_(fd), tmp_(std::move(tmp)), path_(std::move(path)), sync_(sync) {
    buf_.reserve(kBuf);
  }
  ~FileOutput() override {
    if (fd_ >= 0) Abort();
  }
  Status Write(const void* data, size_t n) override {
    if (fd_ < 0) return Status::FailedPrecondition("write to closed file '" + path_ + "'");
    written_ += static_cast<int64_t>(n);
    if (buf_.size() + n <= kBuf) {
      buf_.append(static_cast<const char*>(data), n);
      return Status::OK();
    }
    RETURN_IF_ERROR(FlushBuf());
    if (n >= kBuf) return WriteRaw(static_cast<const char*>(data), n);
    buf_.append(static_cast<const char*>(data), n);
    return Status::OK();
  }
  int64_t Tell() const override { return written_; }
  Result<std::optional<KernelCopy>> CopyFileFrom(int src_fd) override;
  Status Close() override {
    if (fd_ < 0) return Status::FailedPrecondition("file '" + path_ + "' already closed");
    Status st = FlushBuf();
    if (st.ok() && sync_ && ::fsync(fd_) != 0) st = ErrnoStatus("fsync", tmp_);
    if (::close(fd_) != 0 && st.ok()) st = ErrnoStatus("close", tmp_);
    fd_ = -1;
    if (st.ok() && ::rename(tmp_.c_str(), path_.c_str()) != 0) {
      st = ErrnoStatus("rename to", path_);
    }
    if (!st.ok()) {
      ::unlink(tmp_.c_str());
      return st;
    }
    if (sync_) {
      int dfd = ::open(fs::path(path_).parent_path().c_str(), O_RDONLY | O_DIRECTORY);
      if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
      }
    }
    return Status::OK();
  }
  void Abort() override {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    ::unlink(tmp_.c_str());
  }

 private:
  static constexpr size_t kBuf = 1 << 20;
  Status FlushBuf() {
    if (buf_.empty()) return Status::OK();
    Status st = WriteRaw(buf_.data(), buf_.size());
    buf_.clear();
    return st;
  }
  Status WriteRaw(const char* p, size_t n) {
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("write", tmp_);
      }
      p += w;
      n -= static_cast<size_t>(w);
      on_disk_ += w;
    }
    if (sync_) WriteBehind();
    return Status::OK();
  }
  // A file that will be fsynced on Close starts its writeback as it goes,
  // every kWriteBehind bytes, so that the disk works while the writer does and
  // the final fsync has little left to wait for (a 1 GB copy: 1.6 s of fsync
  // becomes about 0.1 s). Only a hint: errors surface in the fsync.
  void WriteBehind() {
#ifdef __linux__
    if (on_disk_ - started_ < kWriteBehind) return;
    ::sync_file_range(fd_, started_, on_disk_ - started_, SYNC_FILE_RANGE_WRITE);
    started_ = on_disk_;
#endif
  }
  static constexpr int64_t kWriteBehind = int64_t{8} << 20;
  int fd_;
  std::string tmp_, path_;
  bool sync_;
  std::string buf_;
  int64_t written_ = 0;
  int64_t on_disk_ = 0;  // bytes handed to write(2)
  int64_t started_ = 0;  // bytes whose writeback has been started
};

// Hashes the bytes of `path` up to `ready` as the copier reports them, on its
// own thread, so that hashing overlaps the kernel's copy. Reads the copy back
// (pread: an I/O error is an error, where a mapping would be SIGBUS).
class CopyHasher {
 public:
  explicit CopyHasher(const std::string& path) : path_(path), thread_([this] { Run(); }) {}
  ~CopyHasher() { Finish().IgnoreError(); }
  void Advance(int64_t ready) {
    std::lock_guard lock(mu_);
    ready_ = ready;
    cv_.notify_one();
  }
  // Waits for every reported byte to be hashed.
  Status Finish() {
    {
      std::lock_guard lock(mu_);
      finished_ = true;
      cv_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
    return status_;
  }
  std::string HexDigest() { return hasher_.HexDigest(); }

 private:
  void Run() {
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) status_ = ErrnoStatus("open", path_);
    std::vector<char> buf(size_t{8} << 20);
    int64_t hashed = 0;
    for (;;) {
      int64_t ready = 0;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return ready_ > hashed || finished_; });
        if (ready_ <= hashed) break;
        ready = ready_;
      }
      while (status_.ok() && hashed < ready) {
        const size_t want = static_cast<size_t>(std::min<int64_t>(ready - hashed, buf.size()));
        const ssize_t n = ::pread(fd, buf.data(), want, hashed);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
          status_ = n < 0 ? ErrnoStatus("read back", path_)
                          : Status::DataLoss("'" + path_ + "' is shorter than what was copied");
          break;
        }
        hasher_.Update(buf.data(), static_cast<size_t>(n));
        hashed += n;
      }
      if (!status_.ok()) hashed = ready;  // drain: the copier finishes, Finish reports
    }
    if (fd >= 0) ::close(fd);
  }

  std::string path_;
  Sha256 hasher_;
  Status status_;
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t ready_ = 0;
  bool finished_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

Result<std::optional<KernelCopy>> FileOutput::CopyFileFrom(int src_fd) {
  if (fd_ < 0) return Status::FailedPrecondition("copy to closed file '" + path_ + "'");
  if (written_ != 0) return std::optional<KernelCopy>();
#ifdef __linux__
  KernelCopy copy;
  CopyHasher hasher(tmp_);
  // A reflink (btrfs, XFS, ...): the copy shares the source's blocks until
  // either is written, so nothing is read or written here but the hash.
  if (::ioctl(fd_, FICLONE, src_fd) == 0) {
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return ErrnoStatus("stat", tmp_);
    copy.bytes = static_cast<int64_t>(st.st_size);
    hasher.Advance(copy.bytes);
  } else {
    // Else an in-kernel copy (ext4 and most others; NFS and CIFS copy on the
    // server), a chunk at a time so that the hasher follows close behind.
    constexpr size_t kChunk = size_t{16} << 20;
    loff_t in_off = 0;
    loff_t out_off = 0;
    for (;;) {
      const ssize_t n = ::copy_file_range(src_fd, &in_off, fd_, &out_off, kChunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int err = errno;
        // The kernel cannot copy this pair (other file systems, a pipe, an
        // old kernel): nothing was appended, the caller copies through memory.
        if (copy.bytes == 0 && (err == EXDEV || err == EINVAL || err == ENOSYS ||
                                err == EOPNOTSUPP || err == EBADF || err == EPERM)) {
          return std::optional<KernelCopy>();
        }
        return ErrnoError(err, "copy into '" + tmp_ + "'");
      }
      if (n == 0) break;
      copy.bytes += n;
      hasher.Advance(copy.bytes);
    }
  }
  RETURN_IF_ERROR(hasher.Finish());
  copy.sha256 = hasher.HexDigest();
  written_ = on_disk_ = copy.bytes;
  if (sync_) WriteBehind();
  return std::optional<KernelCopy>(std::move(copy));
#else
  (void)src_fd;
  return std::optional<KernelCopy>();
#endif
}

class StringOutput final : public OutputStream {
 public:
  explicit StringOutput(std::string* target) : target_(target) {}
  Status Write(const void* data, size_t n) override {
    target_->append(static_cast<const char*>(data), n);
    return Status::OK();
  }
  int64_t Tell() const override { return static_cast<int64_t>(target_->size()); }
  Status Close() override { return Status::OK(); }
  void Abort() override { target_->clear(); }

 private:
  std::string* target_;
};

}  // namespace

Result<std::unique_ptr<InputStream>> OpenFileInput(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Status::NotFound("no such file '" + path + "'");
    return ErrnoStatus("open", path);
  }
  struct stat st {};
  int64_t size = ::fstat(fd, &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return std::unique_ptr<InputStream>(std::make_unique<FileInput>(fd, path, size));
}

Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccessFile(const std::string& path) {
  ASSIGN_OR_RETURN(auto in, OpenFileInput(path));
  return in->OpenRandomAccess();
}

Result<std::unique_ptr<RandomAccessFile>> MakeRandomAccess(InputStream& in, size_t memory_limit) {
  ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> own, in.OpenRandomAccess());
  if (own != nullptr) return own;
  auto data = std::make_shared<std::string>();
  std::vector<char> buf(1 << 16);
  while (data->size() <= memory_limit) {
    ASSIGN_OR_RETURN(size_t n, in.Read(buf.data(), buf.size()));
    if (n == 0) {
      return std::unique_ptr<RandomAccessFile>(
          std::make_unique<StringRandomAccess>(std::move(data), in.name()));
    }
    data->append(buf.data(), n);
  }
  // Too large for memory: spill to a temporary file that is unlinked at once,
  // so that nothing is left behind whatever happens to the process.
  const char* dir = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/sluice-spill-XXXXXX";
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) return ErrnoStatus("create temporary file", tmpl);
  ::unlink(tmpl.c_str());
  auto fail = [&](const std::string& what) {
    Status st = ErrnoStatus(what, tmpl);
    ::close(fd);
    return st;
  };
  auto write_all = [&](const char* p, size_t n) {
    while (n > 0) {
      ssize_t w = ::write(fd, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  };
  int64_t total = static_cast<int64_t>(data->size());
  if (!write_all(data->data(), data->size())) return fail("write");
  data.reset();
  while (true) {
    auto n = in.Read(buf.data(), buf.size());
    if (!n.ok()) {
      ::close(fd);
      return n.status();
    }
    if (*n == 0) break;
    if (!write_all(buf.data(), *n)) return fail("write");
    total += static_cast<int64_t>(*n);
  }
  return std::unique_ptr<RandomAccessFile>(std::make_unique<FdRandomAccess>(fd, in.name(), total));
}

std::unique_ptr<InputStream> NewStringInput(std::string data, std::string name) {
  return std::make_unique<StringInput>(std::move(data), std::move(name));
}

Result<std::unique_ptr<OutputStream>> OpenFileOutput(const std::string& path, bool sync) {
  std::error_code ec;
  fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) fs::create_directories(parent, ec);
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::string tmp = path + ".tmp-" + std::to_string(rng() % 1000000000ULL);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("create", tmp);
  return std::unique_ptr<OutputStream>(std::make_unique<FileOutput>(fd, tmp, path, sync));
}

std::unique_ptr<OutputStream> NewStringOutput(std::string* target) {
  return std::make_unique<StringOutput>(target);
}

Result<std::string> ReadAll(InputStream& in) {
  std::string out;
  char buf[1 << 16];
  while (true) {
    ASSIGN_OR_RETURN(size_t n, in.Read(buf, sizeof(buf)));
    if (n == 0) break;
    out.append(buf, n);
  }
  return out;
}

Result<std::string> ReadFileToString(const std::string& path) {
  ASSIGN_OR_RETURN(auto in, OpenFileInput(path));
  return ReadAll(*in);
}

Status WriteFileAtomic(const std::string& path, std::string_view content) {
  ASSIGN_OR_RETURN(auto out, OpenFileOutput(path));
  RETURN_IF_ERROR(out->Write(content));
  return out->Close();
}

}  // namespace sluice
