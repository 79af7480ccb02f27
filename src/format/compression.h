// Transparent decompression of inputs, chosen by magic bytes:
// gzip (1f 8b), zstd (28 b5 2f fd); anything else passes through unchanged.
// Concatenated gzip members and multi-frame zstd streams are read whole.
#pragma once

#include <cstdint>
#include <memory>

#include "core/io.h"

namespace sluice {

// Wraps `in` in a decompressing stream if its first bytes are a known magic.
// The returned stream's name() is the inner stream's name and BytesConsumed()
// counts compressed bytes (for progress).
Result<std::unique_ptr<InputStream>> OpenDecompressed(std::unique_ptr<InputStream> in);
// The same, also setting *max_expansion to the most bytes one byte of `in`
// can decompress to, so that a bound on the decompressed size follows from
// the compressed size: 1 for plain input; 1032 for gzip (deflate's limit, a
// 258-byte match in 2 bits); 32768 for zstd (an RLE block: 4 bytes make at
// most 128 KiB).
Result<std::unique_ptr<InputStream>> OpenDecompressed(std::unique_ptr<InputStream> in,
                                                      int64_t* max_expansion);

}  // namespace sluice
