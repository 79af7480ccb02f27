// The haswell copy of the NDJSON line decoder (AVX2 and friends; see src/CMakeLists.txt).
#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "core/value_text.h"
#include "format/batch_builder.h"
#include "format/fast_parse.h"
#include "format/ndjson_lines.h"
#include "format/staged_row.h"

#if defined(__x86_64__) && defined(__AVX2__)
namespace sluice::ndjson_haswell {
namespace {

#include "format/ndjson_lines_kernel.h"  // NOLINT(build/include)

}  // namespace

ChunkResult ParseChunk(const NdjsonPlan& plan, const Chunk& chunk) {
  return ParseLines(plan, chunk);
}

}  // namespace sluice::ndjson_haswell
#endif
