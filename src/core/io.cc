#include "core/io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <random>

namespace sluice {

namespace fs = std::filesystem;

namespace {

std::string ErrnoText(const std::string& what, const std::string& path) {
  return what + " '" + path + "': " + std::strerror(errno);
}

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
      return Status::IOError(ErrnoText("read", path_));
    }
  }
  const std::string& name() const override { return path_; }
  int64_t SizeHint() const override { return size_; }
  int64_t BytesConsumed() const override { return consumed_; }

 private:
  int fd_;
  std::string path_;
  int64_t size_;
  int64_t consumed_ = 0;
};

class StringInput final : public InputStream {
 public:
  StringInput(std::string data, std::string name)
      : data_(std::move(data)), name_(std::move(name)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min(n, data_.size() - pos_);
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  const std::string& name() const override { return name_; }
  int64_t SizeHint() const override { return static_cast<int64_t>(data_.size()); }
  int64_t BytesConsumed() const override { return static_cast<int64_t>(pos_); }

 private:
  std::string data_;
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
  Status Close() override {
    if (fd_ < 0) return Status::FailedPrecondition("file '" + path_ + "' already closed");
    Status st = FlushBuf();
    if (st.ok() && sync_ && ::fsync(fd_) != 0) st = Status::IOError(ErrnoText("fsync", tmp_));
    if (::close(fd_) != 0 && st.ok()) st = Status::IOError(ErrnoText("close", tmp_));
    fd_ = -1;
    if (st.ok() && ::rename(tmp_.c_str(), path_.c_str()) != 0) {
      st = Status::IOError(ErrnoText("rename to", path_));
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
        return Status::IOError(ErrnoText("write", tmp_));
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
    return Status::OK();
  }
  int fd_;
  std::string tmp_, path_;
  bool sync_;
  std::string buf_;
  int64_t written_ = 0;
};

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
    return Status::IOError(ErrnoText("open", path));
  }
  struct stat st {};
  int64_t size = ::fstat(fd, &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return std::unique_ptr<InputStream>(std::make_unique<FileInput>(fd, path, size));
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
  if (fd < 0) return Status::IOError(ErrnoText("create", tmp));
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
