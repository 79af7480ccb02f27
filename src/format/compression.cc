// Streaming gzip / zstd decompression behind the InputStream interface.
//
// Both decoders keep one bounded input buffer (kInBuf) and decompress straight
// into the caller's buffer, so memory does not grow with the file size. The
// first bytes of the inner stream are read once to sniff the magic number and
// then replayed to the decompressor (or to the caller when the input is plain).
#include "format/compression.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace sluice {

namespace {

constexpr size_t kInBuf = 256 * 1024;
constexpr size_t kMagicLen = 4;

// An InputStream that first returns `prefix`, then reads `inner`.
class ReplayInput final : public InputStream {
 public:
  ReplayInput(std::unique_ptr<InputStream> inner, std::string prefix)
      : inner_(std::move(inner)), prefix_(std::move(prefix)) {}

  Result<size_t> Read(char* buf, size_t n) override {
    if (pos_ < prefix_.size()) {
      size_t k = std::min(n, prefix_.size() - pos_);
      std::memcpy(buf, prefix_.data() + pos_, k);
      pos_ += k;
      return k;
    }
    return inner_->Read(buf, n);
  }
  const std::string& name() const override { return inner_->name(); }
  int64_t SizeHint() const override { return inner_->SizeHint(); }
  int64_t BytesConsumed() const override {
    return inner_->BytesConsumed() - static_cast<int64_t>(prefix_.size() - pos_);
  }
  // The prefix is the inner stream's start, so its view covers the same bytes
  // (Parquet input passes through here un-wrapped and stays seekable).
  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess() override {
    return inner_->OpenRandomAccess();
  }

 private:
  std::unique_ptr<InputStream> inner_;
  std::string prefix_;
  size_t pos_ = 0;
};

// Shared input buffering for the two decompressors.
class DecompressingInput : public InputStream {
 public:
  explicit DecompressingInput(std::unique_ptr<InputStream> in) : in_(std::move(in)), buf_(kInBuf) {}

  const std::string& name() const override { return in_->name(); }
  // The size of the decompressed stream is not known up front.
  int64_t SizeHint() const override { return -1; }
  int64_t BytesConsumed() const override { return in_->BytesConsumed(); }

 protected:
  // Refills the input buffer when it is empty. Sets eof_ at end of input.
  Status Fill() {
    if (avail_ > 0 || eof_) return Status::OK();
    ASSIGN_OR_RETURN(size_t n, in_->Read(buf_.data(), buf_.size()));
    next_ = buf_.data();
    avail_ = n;
    if (n == 0) eof_ = true;
    return Status::OK();
  }
  Status Corrupt(std::string_view kind, std::string_view detail) const {
    return Status::DataLoss("corrupt " + std::string(kind) + " data in '" + in_->name() +
                            "': " + std::string(detail));
  }

  std::unique_ptr<InputStream> in_;
  std::vector<char> buf_;
  const char* next_ = nullptr;
  size_t avail_ = 0;
  bool eof_ = false;
};

class GzipInput final : public DecompressingInput {
 public:
  explicit GzipInput(std::unique_ptr<InputStream> in) : DecompressingInput(std::move(in)) {}
  ~GzipInput() override {
    if (initialized_) inflateEnd(&zs_);
  }

  Status Init() {
    std::memset(&zs_, 0, sizeof(zs_));
    // 16 + MAX_WBITS: expect a gzip header and trailer (CRC and size are checked).
    if (inflateInit2(&zs_, 16 + MAX_WBITS) != Z_OK) {
      return Status::Internal("inflateInit2 failed for '" + in_->name() + "'");
    }
    initialized_ = true;
    return Status::OK();
  }

  Result<size_t> Read(char* out, size_t n) override {
    if (done_ || n == 0) return size_t{0};
    size_t produced = 0;
    while (produced == 0) {
      RETURN_IF_ERROR(Fill());
      if (avail_ == 0) {
        // Input ended: fine only on a member boundary.
        if (in_member_) return Corrupt("gzip", "unexpected end of file (truncated)");
        done_ = true;
        return size_t{0};
      }
      // zlib counts in uInt; keep chunks within range.
      uInt in_chunk = static_cast<uInt>(std::min<size_t>(avail_, 1u << 30));
      uInt out_chunk = static_cast<uInt>(std::min<size_t>(n - produced, 1u << 30));
      zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(next_));
      zs_.avail_in = in_chunk;
      zs_.next_out = reinterpret_cast<Bytef*>(out + produced);
      zs_.avail_out = out_chunk;
      in_member_ = true;
      int rc = inflate(&zs_, Z_NO_FLUSH);
      size_t used = in_chunk - zs_.avail_in;
      next_ += used;
      avail_ -= used;
      produced += out_chunk - zs_.avail_out;
      if (rc == Z_STREAM_END) {
        // Concatenated members (e.g. `cat a.gz b.gz`) form one stream: start
        // the next member with the bytes that follow.
        in_member_ = false;
        if (inflateReset(&zs_) != Z_OK) return Corrupt("gzip", "inflateReset failed");
        continue;
      }
      if (rc == Z_BUF_ERROR && used == 0 && produced == 0) {
        return Corrupt("gzip", "no progress");
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return Corrupt("gzip", zs_.msg != nullptr ? zs_.msg : "inflate failed");
      }
    }
    return produced;
  }

 private:
  z_stream zs_;
  bool initialized_ = false;
  bool in_member_ = false;
  bool done_ = false;
};

class ZstdInput final : public DecompressingInput {
 public:
  explicit ZstdInput(std::unique_ptr<InputStream> in) : DecompressingInput(std::move(in)) {}
  ~ZstdInput() override { ZSTD_freeDStream(ds_); }

  Status Init() {
    ds_ = ZSTD_createDStream();
    if (ds_ == nullptr) return Status::Internal("ZSTD_createDStream failed");
    size_t rc = ZSTD_initDStream(ds_);
    if (ZSTD_isError(rc)) return Corrupt("zstd", ZSTD_getErrorName(rc));
    // Refuse frames whose window would need more than 128 MiB (bounded memory).
    ZSTD_DCtx_setParameter(ds_, ZSTD_d_windowLogMax, 27);
    return Status::OK();
  }

  Result<size_t> Read(char* out, size_t n) override {
    if (done_ || n == 0) return size_t{0};
    ZSTD_outBuffer ob{out, n, 0};
    while (ob.pos == 0) {
      RETURN_IF_ERROR(Fill());
      // A return value of 0 means the last frame was decoded and fully flushed.
      if (avail_ == 0 && eof_ && last_ret_ == 0) {
        done_ = true;
        return size_t{0};
      }
      // At end of input this call only flushes what the context still holds.
      ZSTD_inBuffer ib{next_, avail_, 0};
      size_t rc = ZSTD_decompressStream(ds_, &ob, &ib);
      if (ZSTD_isError(rc)) return Corrupt("zstd", ZSTD_getErrorName(rc));
      next_ += ib.pos;
      avail_ -= ib.pos;
      last_ret_ = rc;
      if (ib.pos == 0 && ob.pos == 0) {
        if (eof_ && avail_ == 0) return Corrupt("zstd", "unexpected end of file (truncated)");
        // zstd always consumes input it is given room for; guard against a spin.
        if (++stalls_ > 2) return Corrupt("zstd", "decoder made no progress");
      } else {
        stalls_ = 0;
      }
    }
    return ob.pos;
  }

 private:
  ZSTD_DStream* ds_ = nullptr;
  size_t last_ret_ = 0;
  bool done_ = false;
  int stalls_ = 0;
};

}  // namespace

Result<std::unique_ptr<InputStream>> OpenDecompressed(std::unique_ptr<InputStream> in) {
  int64_t max_expansion = 0;
  return OpenDecompressed(std::move(in), &max_expansion);
}

Result<std::unique_ptr<InputStream>> OpenDecompressed(std::unique_ptr<InputStream> in,
                                                      int64_t* max_expansion) {
  *max_expansion = 1;
  // Read up to kMagicLen bytes; short reads are allowed by the interface.
  std::string magic(kMagicLen, '\0');
  size_t got = 0;
  while (got < kMagicLen) {
    ASSIGN_OR_RETURN(size_t n, in->Read(magic.data() + got, kMagicLen - got));
    if (n == 0) break;
    got += n;
  }
  magic.resize(got);
  const auto* m = reinterpret_cast<const unsigned char*>(magic.data());
  bool gzip = got >= 2 && m[0] == 0x1f && m[1] == 0x8b;
  bool zstd = got >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd;
  auto replay = std::make_unique<ReplayInput>(std::move(in), std::move(magic));
  if (gzip) {
    *max_expansion = 1032;
    auto s = std::make_unique<GzipInput>(std::move(replay));
    RETURN_IF_ERROR(s->Init());
    return std::unique_ptr<InputStream>(std::move(s));
  }
  if (zstd) {
    *max_expansion = 32768;
    auto s = std::make_unique<ZstdInput>(std::move(replay));
    RETURN_IF_ERROR(s->Init());
    return std::unique_ptr<InputStream>(std::move(s));
  }
  return std::unique_ptr<InputStream>(std::move(replay));
}

}  // namespace sluice
