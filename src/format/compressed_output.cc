#include "format/compressed_output.h"

#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <string>
#include <vector>

namespace sluice {

namespace {

constexpr size_t kOutBuf = 128 * 1024;

bool EndsWith(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (size_t i = 0; i < suffix.size(); ++i) {
    char c = s[s.size() - suffix.size() + i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c != suffix[i]) return false;
  }
  return true;
}

// Shared lifecycle: compressed bytes go to inner_ through out_.
class CompressingOutput : public OutputStream {
 public:
  explicit CompressingOutput(std::unique_ptr<OutputStream> inner)
      : inner_(std::move(inner)), out_(kOutBuf) {}

  int64_t Tell() const override { return inner_->Tell(); }
  void Abort() override {
    done_ = true;
    inner_->Abort();
  }
  Status Close() override {
    if (done_) return Status::FailedPrecondition("compressed output already closed");
    done_ = true;
    Status st = Finish();
    if (!st.ok()) {
      inner_->Abort();
      return st;
    }
    return inner_->Close();
  }

 protected:
  // Ends the compressed stream (all output handed to inner_).
  virtual Status Finish() = 0;

  std::unique_ptr<OutputStream> inner_;
  std::vector<char> out_;
  bool done_ = false;
};

class ZstdOutput final : public CompressingOutput {
 public:
  ZstdOutput(std::unique_ptr<OutputStream> inner, ZSTD_CCtx* cctx)
      : CompressingOutput(std::move(inner)), cctx_(cctx) {}
  ~ZstdOutput() override { ZSTD_freeCCtx(cctx_); }

  Status Write(const void* data, size_t n) override {
    if (done_) return Status::FailedPrecondition("write to closed zstd output");
    ZSTD_inBuffer in{data, n, 0};
    while (in.pos < in.size) RETURN_IF_ERROR(Step(&in, ZSTD_e_continue));
    return Status::OK();
  }

 private:
  Status Finish() override {
    ZSTD_inBuffer in{nullptr, 0, 0};
    size_t left;
    do {
      ZSTD_outBuffer ob{out_.data(), out_.size(), 0};
      left = ZSTD_compressStream2(cctx_, &ob, &in, ZSTD_e_end);
      if (ZSTD_isError(left))
        return Status::Internal(std::string("zstd: ") + ZSTD_getErrorName(left));
      RETURN_IF_ERROR(inner_->Write(out_.data(), ob.pos));
    } while (left != 0);
    return Status::OK();
  }

  Status Step(ZSTD_inBuffer* in, ZSTD_EndDirective mode) {
    ZSTD_outBuffer ob{out_.data(), out_.size(), 0};
    size_t r = ZSTD_compressStream2(cctx_, &ob, in, mode);
    if (ZSTD_isError(r)) return Status::Internal(std::string("zstd: ") + ZSTD_getErrorName(r));
    return ob.pos == 0 ? Status::OK() : inner_->Write(out_.data(), ob.pos);
  }

  ZSTD_CCtx* cctx_;
};

class GzipOutput final : public CompressingOutput {
 public:
  explicit GzipOutput(std::unique_ptr<OutputStream> inner) : CompressingOutput(std::move(inner)) {}
  ~GzipOutput() override {
    if (initialized_) deflateEnd(&zs_);
  }

  Status Init(int level) {
    zs_ = z_stream{};
    // 15 + 16: the largest window, with a gzip header and trailer.
    if (deflateInit2(&zs_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      return Status::InvalidArgument("gzip: cannot start a stream at level " +
                                     std::to_string(level));
    }
    initialized_ = true;
    return Status::OK();
  }

  Status Write(const void* data, size_t n) override {
    if (done_) return Status::FailedPrecondition("write to closed gzip output");
    const char* p = static_cast<const char*>(data);
    // avail_in is 32-bit: feed very large writes in pieces.
    while (n > 0) {
      size_t take = std::min<size_t>(n, 1u << 30);
      zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(p));
      zs_.avail_in = static_cast<uInt>(take);
      while (zs_.avail_in > 0) RETURN_IF_ERROR(Step(Z_NO_FLUSH));
      p += take;
      n -= take;
    }
    return Status::OK();
  }

 private:
  Status Finish() override {
    zs_.next_in = nullptr;
    zs_.avail_in = 0;
    int rc;
    do {
      zs_.next_out = reinterpret_cast<Bytef*>(out_.data());
      zs_.avail_out = static_cast<uInt>(out_.size());
      rc = deflate(&zs_, Z_FINISH);
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
        return Status::Internal("gzip: deflate failed (" + std::to_string(rc) + ")");
      }
      RETURN_IF_ERROR(inner_->Write(out_.data(), out_.size() - zs_.avail_out));
    } while (rc != Z_STREAM_END);
    return Status::OK();
  }

  Status Step(int flush) {
    zs_.next_out = reinterpret_cast<Bytef*>(out_.data());
    zs_.avail_out = static_cast<uInt>(out_.size());
    int rc = deflate(&zs_, flush);
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return Status::Internal("gzip: deflate failed (" + std::to_string(rc) + ")");
    }
    size_t produced = out_.size() - zs_.avail_out;
    return produced == 0 ? Status::OK() : inner_->Write(out_.data(), produced);
  }

  z_stream zs_{};
  bool initialized_ = false;
};

}  // namespace

StreamCompression StreamCompressionFromName(std::string_view path) {
  if (EndsWith(path, ".gz") || EndsWith(path, ".gzip")) return StreamCompression::kGzip;
  if (EndsWith(path, ".zst") || EndsWith(path, ".zstd")) return StreamCompression::kZstd;
  return StreamCompression::kNone;
}

Result<std::unique_ptr<OutputStream>> NewCompressedOutput(std::unique_ptr<OutputStream> inner,
                                                          StreamCompression compression,
                                                          int level) {
  if (inner == nullptr) return Status::InvalidArgument("compressed output needs a stream");
  switch (compression) {
    case StreamCompression::kNone:
      return inner;
    case StreamCompression::kGzip: {
      if (level == 0) level = 6;
      if (level < 1 || level > 9) {
        return Status::InvalidArgument("gzip level must be 1..9, got " + std::to_string(level));
      }
      auto out = std::make_unique<GzipOutput>(std::move(inner));
      RETURN_IF_ERROR(out->Init(level));
      return std::unique_ptr<OutputStream>(std::move(out));
    }
    case StreamCompression::kZstd: {
      if (level == 0) level = 3;
      if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) {
        return Status::InvalidArgument("zstd level must be " + std::to_string(ZSTD_minCLevel()) +
                                       ".." + std::to_string(ZSTD_maxCLevel()) + ", got " +
                                       std::to_string(level));
      }
      ZSTD_CCtx* cctx = ZSTD_createCCtx();
      if (cctx == nullptr) return Status::Internal("zstd: out of memory");
      auto out = std::make_unique<ZstdOutput>(std::move(inner), cctx);
      size_t r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
      if (ZSTD_isError(r)) return Status::Internal(std::string("zstd: ") + ZSTD_getErrorName(r));
      return std::unique_ptr<OutputStream>(std::move(out));
    }
  }
  return Status::Internal("unknown stream compression");
}

}  // namespace sluice
