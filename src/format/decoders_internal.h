// The chunked decoders with explicit chunking, for tests that need chunk
// boundaries in particular places (format.h has the everyday entry points).
#pragma once

#include <memory>

#include "format/chunked_decoder.h"
#include "format/format.h"

namespace sluice {

Result<std::unique_ptr<Decoder>> NewCsvDecoder(std::unique_ptr<InputStream> in,
                                               const DecoderOptions& options,
                                               const ChunkedOptions& chunking);
Result<std::unique_ptr<Decoder>> NewNdjsonDecoder(std::unique_ptr<InputStream> in,
                                                  const DecoderOptions& options,
                                                  const ChunkedOptions& chunking);

}  // namespace sluice
