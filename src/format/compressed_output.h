// Compressing OutputStreams (gzip, zstd) for text outputs, the write-side
// counterpart of compression.h. The whole file is one gzip member or one zstd
// frame; both read back through OpenDecompressed and the usual command-line
// tools. Memory is bounded (one codec state plus a 128 KiB output buffer).
//
// Not thread-safe, like every OutputStream.
#pragma once

#include <memory>
#include <string_view>

#include "core/io.h"

namespace sluice {

enum class StreamCompression { kNone, kGzip, kZstd };

// From a file name: .gz/.gzip -> gzip, .zst/.zstd -> zstd, else none.
StreamCompression StreamCompressionFromName(std::string_view path);

// Compresses into `inner`. level 0 picks the codec's default (gzip 6, zstd 3);
// gzip takes 1..9, zstd 1..22 (negative levels are faster). Close() ends the
// stream and closes `inner`; Abort() aborts it. Tell() counts compressed bytes.
// With kNone, `inner` is returned as it is.
Result<std::unique_ptr<OutputStream>> NewCompressedOutput(std::unique_ptr<OutputStream> inner,
                                                          StreamCompression compression,
                                                          int level = 0);

}  // namespace sluice
