// Byte streams: the seam between storage (ObjectStore, files) and formats.
//
// InputStream is a forward-only reader; OutputStream a forward-only writer whose
// bytes become durable and visible only after Close() returns OK (implementations
// write to a temporary name and rename). Neither is thread-safe.
// RandomAccessFile serves formats that must seek (Parquet keeps its footer at the
// end); its ReadAt is thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace sluice {

class RandomAccessFile;

class InputStream {
 public:
  virtual ~InputStream() = default;
  // Reads up to n bytes into buf. Returns the number read; 0 means end of stream.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  // Name for error messages (file path or object key).
  virtual const std::string& name() const = 0;
  // Total size in bytes if known up front, else -1 (for progress reporting).
  virtual int64_t SizeHint() const { return -1; }
  // Bytes consumed from the underlying source so far (compressed bytes for a
  // decompressing stream), for progress reporting.
  virtual int64_t BytesConsumed() const = 0;
  // A random-access reader over the same bytes (offset 0 is the first byte of
  // the stream), independent of this stream's read position and lifetime; or
  // nullptr when the stream cannot seek (pipes, decompressing streams).
  virtual Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess() {
    return std::unique_ptr<RandomAccessFile>();
  }
};

class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  // Reads exactly n bytes at `offset` into buf; a range past the end is
  // kDataLoss (the file is shorter than its metadata says). Thread-safe.
  virtual Status ReadAt(int64_t offset, size_t n, char* buf) const = 0;
  virtual int64_t size() const = 0;
  // Name for error messages (file path or object key).
  virtual const std::string& name() const = 0;
};

// What OutputStream::CopyFileFrom appended.
struct KernelCopy {
  int64_t bytes = 0;
  std::string sha256;  // lower-case hex
};

class OutputStream {
 public:
  virtual ~OutputStream() = default;
  virtual Status Write(const void* data, size_t n) = 0;
  Status Write(std::string_view s) { return Write(s.data(), s.size()); }
  // Bytes written so far.
  virtual int64_t Tell() const = 0;
  // Appends the local file open as `src_fd`, from its offset 0 to its end,
  // without passing its bytes through this process where the stream can (a
  // reflink, else an in-kernel copy), and returns what was appended with the
  // SHA-256 of the copy (read back from the copy, so it names exactly the
  // bytes kept even if the source changes meanwhile). std::nullopt when this
  // stream cannot (not a local file, something written already, a source
  // the kernel cannot copy): nothing was appended, copy through memory.
  virtual Result<std::optional<KernelCopy>> CopyFileFrom(int src_fd) {
    (void)src_fd;
    return std::optional<KernelCopy>();
  }
  // Flushes, fsyncs and publishes the stream under its final name.
  virtual Status Close() = 0;
  // Discards what was written (no file is left under the final name).
  virtual void Abort() = 0;
};

// A buffered reader of a local file.
Result<std::unique_ptr<InputStream>> OpenFileInput(const std::string& path);
// Random access to a local file (pread).
Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccessFile(const std::string& path);
// Random access to the bytes of `in`, for a stream not read from yet: its own
// view when it has one, else the stream copied into memory when it is at most
// `memory_limit` bytes, or else into an unlinked temporary file (in $TMPDIR),
// so that memory stays bounded whatever the input size.
Result<std::unique_ptr<RandomAccessFile>> MakeRandomAccess(InputStream& in,
                                                           size_t memory_limit = 16 << 20);
// A reader over a string held in memory (tests, small inputs).
std::unique_ptr<InputStream> NewStringInput(std::string data, std::string name = "<memory>");
// Writes to `path.tmp-<random>` and renames to `path` on Close (after fsync when
// `sync` is set). Parent directories are created.
Result<std::unique_ptr<OutputStream>> OpenFileOutput(const std::string& path, bool sync = true);
// An OutputStream that appends to a std::string (tests).
std::unique_ptr<OutputStream> NewStringOutput(std::string* target);

// Reads a whole stream into a string.
Result<std::string> ReadAll(InputStream& in);
// Reads a whole local file.
Result<std::string> ReadFileToString(const std::string& path);
// Writes a whole local file atomically (tmp + fsync + rename).
Status WriteFileAtomic(const std::string& path, std::string_view content);

}  // namespace sluice
