#include "format/parquet/page_decompress.h"

#include <lz4.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/thread_annotations.h"
#include "format/parquet/parquet_footer.h"

namespace sluice::parquet {

namespace {

Status SizeMismatch(std::string_view codec, size_t got, size_t want) {
  return Status::DataLoss(std::string(codec) + " page decompressed to " + std::to_string(got) +
                          " bytes, its header says " + std::to_string(want));
}

Status Corrupt(std::string_view codec, std::string_view detail = "") {
  std::string msg = "corrupt " + std::string(codec) + " page";
  if (!detail.empty()) msg += ": " + std::string(detail);
  return Status::DataLoss(msg);
}

uint32_t LoadBigEndian32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | u[3];
}

// ZSTD decompression contexts kept between readers: a table read opens a
// reader per column per request, and making a context (about 100 KiB,
// zeroed) cost as much as decompressing a small page. A few are kept; a
// context is reset by every ZSTD_decompressDCtx call, so reuse is safe.
class ZstdContextPool {
 public:
  static ZstdContextPool& Get() {
    static ZstdContextPool* pool = new ZstdContextPool();  // never destroyed: used at exit
    return *pool;
  }
  ZSTD_DCtx* Take() {
    {
      MutexLock lock(&mu_);
      if (!free_.empty()) {
        ZSTD_DCtx* c = free_.back();
        free_.pop_back();
        return c;
      }
    }
    return ZSTD_createDCtx();
  }
  void Give(ZSTD_DCtx* c) {
    {
      MutexLock lock(&mu_);
      if (free_.size() < kKeep) {
        free_.push_back(c);
        return;
      }
    }
    ZSTD_freeDCtx(c);
  }

 private:
  static constexpr size_t kKeep = 32;
  Mutex mu_;
  std::vector<ZSTD_DCtx*> free_ GUARDED_BY(mu_);
};

}  // namespace

struct PageDecompressor::State {
  ZSTD_DCtx* zstd = nullptr;
  z_stream zlib{};
  bool zlib_open = false;

  ~State() {
    if (zstd != nullptr) ZstdContextPool::Get().Give(zstd);
    if (zlib_open) inflateEnd(&zlib);
  }
};

bool IsSupportedCodec(int32_t c) {
  return c == codec::kUncompressed || c == codec::kSnappy || c == codec::kGzip ||
         c == codec::kZstd || c == codec::kLz4Raw || c == codec::kLz4;
}

PageDecompressor::PageDecompressor() : state_(std::make_unique<State>()) {}
PageDecompressor::~PageDecompressor() = default;

Status PageDecompressor::Decompress(int32_t c, std::string_view in, char* out, size_t out_size) {
  switch (c) {
    case codec::kUncompressed:
      if (in.size() != out_size) return SizeMismatch("uncompressed", in.size(), out_size);
      if (out_size > 0) std::memcpy(out, in.data(), out_size);
      return Status::OK();
    case codec::kSnappy: {
      size_t n = 0;
      if (!snappy::GetUncompressedLength(in.data(), in.size(), &n)) return Corrupt("snappy");
      if (n != out_size) return SizeMismatch("snappy", n, out_size);
      if (!snappy::RawUncompress(in.data(), in.size(), out)) return Corrupt("snappy");
      return Status::OK();
    }
    case codec::kGzip: {
      z_stream& z = state_->zlib;
      if (!state_->zlib_open) {
        // 15 + 32: accept both the gzip and the zlib wrapper (writers differ).
        if (inflateInit2(&z, 15 + 32) != Z_OK) return Status::Internal("inflateInit2 failed");
        state_->zlib_open = true;
      } else if (inflateReset(&z) != Z_OK) {
        return Status::Internal("inflateReset failed");
      }
      if (in.size() > UINT32_MAX || out_size > UINT32_MAX) return Corrupt("gzip", "too large");
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
      z.avail_in = static_cast<uInt>(in.size());
      z.next_out = reinterpret_cast<Bytef*>(out);
      z.avail_out = static_cast<uInt>(out_size);
      // A page may be several gzip members back to back (RFC 1952 allows it;
      // writers that compress in pieces produce it): their data is the
      // concatenation, so inflate member after member until the input ends.
      // Each member consumes at least its header, so the loop ends.
      while (true) {
        const int rc = inflate(&z, Z_FINISH);
        if (rc == Z_STREAM_END) {
          if (z.avail_in == 0) break;
          if (inflateReset(&z) != Z_OK) return Status::Internal("inflateReset failed");
          continue;
        }
        if (rc == Z_BUF_ERROR && z.avail_out == 0) {
          return Corrupt("gzip", "more data than the header says");
        }
        if (rc == Z_BUF_ERROR) return Corrupt("gzip", "truncated");
        return Corrupt("gzip", z.msg != nullptr ? z.msg : "");
      }
      const size_t n = out_size - z.avail_out;
      if (n != out_size) return SizeMismatch("gzip", n, out_size);
      return Status::OK();
    }
    case codec::kZstd: {
      if (state_->zstd == nullptr) {
        state_->zstd = ZstdContextPool::Get().Take();
        if (state_->zstd == nullptr) return Status::Internal("ZSTD_createDCtx failed");
      }
      size_t n = ZSTD_decompressDCtx(state_->zstd, out, out_size, in.data(), in.size());
      if (ZSTD_isError(n)) return Corrupt("zstd", ZSTD_getErrorName(n));
      if (n != out_size) return SizeMismatch("zstd", n, out_size);
      return Status::OK();
    }
    case codec::kLz4Raw: {
      if (in.size() > INT32_MAX || out_size > INT32_MAX) return Corrupt("lz4", "too large");
      int n = LZ4_decompress_safe(in.data(), out, static_cast<int>(in.size()),
                                  static_cast<int>(out_size));
      if (n < 0) return Corrupt("lz4");
      if (static_cast<size_t>(n) != out_size) return SizeMismatch("lz4", n, out_size);
      return Status::OK();
    }
    case codec::kLz4: {
      // Hadoop framing: blocks of [u32 BE raw size][u32 BE compressed size][lz4 block].
      // Some writers emit a bare block under this codec; try that when the
      // framing does not add up.
      size_t ip = 0, op = 0;
      bool framed = true;
      while (ip < in.size()) {
        if (in.size() - ip < 8) {
          framed = false;
          break;
        }
        uint32_t raw = LoadBigEndian32(in.data() + ip);
        uint32_t comp = LoadBigEndian32(in.data() + ip + 4);
        ip += 8;
        if (comp > in.size() - ip || raw > out_size - op) {
          framed = false;
          break;
        }
        int n = LZ4_decompress_safe(in.data() + ip, out + op, static_cast<int>(comp),
                                    static_cast<int>(raw));
        if (n < 0 || static_cast<uint32_t>(n) != raw) {
          framed = false;
          break;
        }
        ip += comp;
        op += raw;
      }
      if (framed && op == out_size) return Status::OK();
      if (in.size() > INT32_MAX || out_size > INT32_MAX) return Corrupt("lz4", "too large");
      int n = LZ4_decompress_safe(in.data(), out, static_cast<int>(in.size()),
                                  static_cast<int>(out_size));
      if (n < 0) return Corrupt("lz4");
      if (static_cast<size_t>(n) != out_size) return SizeMismatch("lz4", n, out_size);
      return Status::OK();
    }
    default:
      break;
  }
  return Status::InvalidArgument("compression codec " + std::string(CodecName(c)) + " (" +
                                 std::to_string(c) + ") is not supported");
}

}  // namespace sluice::parquet
