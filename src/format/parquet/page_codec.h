// Block compression of Parquet pages: UNCOMPRESSED, SNAPPY (raw snappy
// blocks), GZIP (zlib with the gzip wrapper, RFC 1952) and ZSTD (one frame).
//
// A PageCompressor keeps its codec context between pages so that compressing a
// page allocates nothing beyond growing the caller's output buffer.
// Threading: one PageCompressor per thread (per encoder).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "format/format.h"
#include "format/parquet/parquet_metadata.h"

namespace sluice::parquet {

CompressionCodec ToParquetCodec(Compression c);

class PageCompressor {
 public:
  // `level` is used by zstd (its whole range, e.g. 1..22 or negative fast
  // levels) and gzip (1..9); it is ignored by the other codecs. An out-of-range
  // level is kInvalidArgument.
  static Result<std::unique_ptr<PageCompressor>> Make(Compression compression, int level);
  ~PageCompressor();
  PageCompressor(const PageCompressor&) = delete;
  PageCompressor& operator=(const PageCompressor&) = delete;

  CompressionCodec codec() const { return codec_; }
  // Replaces *out with the compressed bytes of `in`. With kUncompressed the
  // caller may skip the copy and use `in` directly.
  Status Compress(std::string_view in, std::string* out);
  // Upper bound of the compressed size of `n` input bytes.
  size_t MaxCompressedLength(size_t n) const;
  // Compresses `in` into dst[0, capacity), where capacity is at least
  // MaxCompressedLength(in.size()); returns the bytes written. Unlike
  // Compress, touches no memory beyond what the codec writes.
  Result<size_t> CompressTo(std::string_view in, char* dst, size_t capacity);

 private:
  struct State;
  PageCompressor(CompressionCodec codec, int level, std::unique_ptr<State> state);

  CompressionCodec codec_;
  int level_;
  std::unique_ptr<State> state_;
};

// Replaces *out with the decompressed bytes of one page; `uncompressed_size`
// comes from the page header and must match exactly (else kDataLoss).
Status DecompressPage(CompressionCodec codec, std::string_view in, size_t uncompressed_size,
                      std::string* out);

}  // namespace sluice::parquet
