// Transparent decompression of inputs, chosen by magic bytes:
// gzip (1f 8b), zstd (28 b5 2f fd); anything else passes through unchanged.
// Concatenated gzip members and multi-frame zstd streams are read whole.
#pragma once

#include <memory>

#include "core/io.h"

namespace sluice {

// Wraps `in` in a decompressing stream if its first bytes are a known magic.
// The returned stream's name() is the inner stream's name and BytesConsumed()
// counts compressed bytes (for progress).
Result<std::unique_ptr<InputStream>> OpenDecompressed(std::unique_ptr<InputStream> in);

}  // namespace sluice
