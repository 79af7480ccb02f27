#include "format/parquet/page_codec.h"

#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <string>

namespace sluice::parquet {

CompressionCodec ToParquetCodec(Compression c) {
  switch (c) {
    case Compression::kUncompressed:
      return CompressionCodec::kUncompressed;
    case Compression::kSnappy:
      return CompressionCodec::kSnappy;
    case Compression::kGzip:
      return CompressionCodec::kGzip;
    case Compression::kZstd:
      return CompressionCodec::kZstd;
  }
  return CompressionCodec::kUncompressed;
}

struct PageCompressor::State {
  ZSTD_CCtx* zstd = nullptr;
  z_stream zlib{};
  bool zlib_open = false;

  ~State() {
    if (zstd != nullptr) ZSTD_freeCCtx(zstd);
    if (zlib_open) deflateEnd(&zlib);
  }
};

PageCompressor::PageCompressor(CompressionCodec codec, int level, std::unique_ptr<State> state)
    : codec_(codec), level_(level), state_(std::move(state)) {}

PageCompressor::~PageCompressor() = default;

Result<std::unique_ptr<PageCompressor>> PageCompressor::Make(Compression compression, int level) {
  auto state = std::make_unique<State>();
  CompressionCodec codec = ToParquetCodec(compression);
  switch (codec) {
    case CompressionCodec::kZstd:
      if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) {
        return Status::InvalidArgument("parquet: zstd compression level " + std::to_string(level) +
                                       " is out of range " + std::to_string(ZSTD_minCLevel()) +
                                       ".." + std::to_string(ZSTD_maxCLevel()));
      }
      state->zstd = ZSTD_createCCtx();
      if (state->zstd == nullptr) return Status::Internal("parquet: ZSTD_createCCtx failed");
      break;
    case CompressionCodec::kGzip:
      if (level < 1 || level > 9) {
        return Status::InvalidArgument("parquet: gzip compression level " + std::to_string(level) +
                                       " is out of range 1..9");
      }
      // windowBits 15 + 16 selects the gzip wrapper, which Parquet's GZIP codec means.
      if (deflateInit2(&state->zlib, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        return Status::Internal("parquet: deflateInit2 failed");
      }
      state->zlib_open = true;
      break;
    default:
      break;
  }
  return std::unique_ptr<PageCompressor>(new PageCompressor(codec, level, std::move(state)));
}

Status PageCompressor::Compress(std::string_view in, std::string* out) {
  out->resize(MaxCompressedLength(in.size()));
  ASSIGN_OR_RETURN(size_t n, CompressTo(in, out->data(), out->size()));
  out->resize(n);
  return Status::OK();
}

size_t PageCompressor::MaxCompressedLength(size_t n) const {
  switch (codec_) {
    case CompressionCodec::kSnappy:
      return snappy::MaxCompressedLength(n);
    case CompressionCodec::kGzip:
      // deflateBound depends on the stream's state (it shrinks once a stream
      // finished); compressBound (zlib wrapper) plus the larger gzip wrapper
      // is a bound whatever the state.
      return compressBound(static_cast<uLong>(n)) + 18;
    case CompressionCodec::kZstd:
      return ZSTD_compressBound(n);
    default:
      return n;
  }
}

Result<size_t> PageCompressor::CompressTo(std::string_view in, char* dst, size_t capacity) {
  switch (codec_) {
    case CompressionCodec::kUncompressed:
      if (capacity < in.size()) return Status::Internal("parquet: compression buffer too small");
      if (!in.empty()) std::memcpy(dst, in.data(), in.size());
      return in.size();
    case CompressionCodec::kSnappy: {
      if (capacity < snappy::MaxCompressedLength(in.size())) {
        return Status::Internal("parquet: compression buffer too small");
      }
      size_t n = 0;
      snappy::RawCompress(in.data(), in.size(), dst, &n);
      return n;
    }
    case CompressionCodec::kGzip: {
      z_stream& z = state_->zlib;
      if (deflateReset(&z) != Z_OK) return Status::Internal("parquet: deflateReset failed");
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
      z.avail_in = static_cast<uInt>(in.size());
      z.next_out = reinterpret_cast<Bytef*>(dst);
      z.avail_out = static_cast<uInt>(capacity);
      int rc = deflate(&z, Z_FINISH);
      if (rc != Z_STREAM_END) {
        return Status::Internal("parquet: gzip compression failed (zlib code " +
                                std::to_string(rc) + ")");
      }
      return static_cast<size_t>(z.total_out);
    }
    case CompressionCodec::kZstd: {
      size_t n = ZSTD_compressCCtx(state_->zstd, dst, capacity, in.data(), in.size(), level_);
      if (ZSTD_isError(n)) {
        return Status::Internal(std::string("parquet: zstd compression failed: ") +
                                ZSTD_getErrorName(n));
      }
      return n;
    }
  }
  return Status::Internal("parquet: unknown codec");
}

Status DecompressPage(CompressionCodec codec, std::string_view in, size_t uncompressed_size,
                      std::string* out) {
  auto size_mismatch = [&](size_t got) {
    return Status::DataLoss("parquet: page decompressed to " + std::to_string(got) +
                            " bytes, header says " + std::to_string(uncompressed_size));
  };
  out->resize(uncompressed_size);
  switch (codec) {
    case CompressionCodec::kUncompressed:
      if (in.size() != uncompressed_size) return size_mismatch(in.size());
      out->assign(in.data(), in.size());
      return Status::OK();
    case CompressionCodec::kSnappy: {
      size_t n = 0;
      if (!snappy::GetUncompressedLength(in.data(), in.size(), &n)) {
        return Status::DataLoss("parquet: corrupt snappy page");
      }
      if (n != uncompressed_size) return size_mismatch(n);
      if (!snappy::RawUncompress(in.data(), in.size(), out->data())) {
        return Status::DataLoss("parquet: corrupt snappy page");
      }
      return Status::OK();
    }
    case CompressionCodec::kGzip: {
      z_stream z{};
      // 15 + 32: accept both the zlib and the gzip wrapper.
      if (inflateInit2(&z, 15 + 32) != Z_OK)
        return Status::Internal("parquet: inflateInit2 failed");
      z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
      z.avail_in = static_cast<uInt>(in.size());
      z.next_out = reinterpret_cast<Bytef*>(out->data());
      z.avail_out = static_cast<uInt>(out->size());
      int rc = inflate(&z, Z_FINISH);
      size_t n = z.total_out;
      inflateEnd(&z);
      if (rc != Z_STREAM_END) return Status::DataLoss("parquet: corrupt gzip page");
      if (n != uncompressed_size) return size_mismatch(n);
      return Status::OK();
    }
    case CompressionCodec::kZstd: {
      size_t n = ZSTD_decompress(out->data(), out->size(), in.data(), in.size());
      if (ZSTD_isError(n)) {
        return Status::DataLoss(std::string("parquet: corrupt zstd page: ") + ZSTD_getErrorName(n));
      }
      if (n != uncompressed_size) return size_mismatch(n);
      return Status::OK();
    }
  }
  return Status::InvalidArgument("parquet: unsupported codec " +
                                 std::to_string(static_cast<int>(codec)));
}

}  // namespace sluice::parquet
