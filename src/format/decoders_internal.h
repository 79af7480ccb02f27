// The CSV decoder with explicit chunking, for tests that need chunk boundaries
// in particular places (format.h has the everyday entry point).
#pragma once

#include <memory>

#include "format/chunked_decoder.h"
#include "format/format.h"

namespace sluice {

Result<std::unique_ptr<Decoder>> NewCsvDecoder(std::unique_ptr<InputStream> in,
                                               const DecoderOptions& options,
                                               const ChunkedOptions& chunking);

}  // namespace sluice
