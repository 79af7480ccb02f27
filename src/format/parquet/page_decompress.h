// Decompression of Parquet pages for the reader: UNCOMPRESSED, SNAPPY, GZIP,
// ZSTD, LZ4_RAW and LZ4 (the Hadoop-framed variant, with a fallback to a
// raw block as other readers do). LZO and BROTLI are not supported. A GZIP
// page may hold several concatenated gzip members.
//
// A PageDecompressor keeps codec contexts between pages, so decompressing
// allocates nothing beyond the caller's output buffer. The output size comes
// from the page header and must match exactly: a page that decompresses to a
// different size is corrupt (kDataLoss), never a reason to write past a buffer.
// Threading: one PageDecompressor per column reader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "core/status.h"

namespace sluice::parquet {

// True for the codecs Decompress() handles.
bool IsSupportedCodec(int32_t codec);

class PageDecompressor {
 public:
  PageDecompressor();
  ~PageDecompressor();
  PageDecompressor(const PageDecompressor&) = delete;
  PageDecompressor& operator=(const PageDecompressor&) = delete;

  // Decompresses `in` into out[0..out_size). Errors are kDataLoss (corrupt or
  // wrong size) or kInvalidArgument (unsupported codec), without a file name:
  // the caller adds it.
  Status Decompress(int32_t codec, std::string_view in, char* out, size_t out_size);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace sluice::parquet
