// The generic copy of the NDJSON line decoder (baseline instruction set).
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

namespace sluice::ndjson_generic {
namespace {

#include "format/ndjson_lines_kernel.h"  // NOLINT(build/include)

}  // namespace

ChunkResult ParseChunk(const NdjsonPlan& plan, const Chunk& chunk) {
  return ParseLines(plan, chunk);
}

}  // namespace sluice::ndjson_generic
