// NDJSON chunk decoding, built once per instruction set (see
// ndjson_lines_kernel.h); ParseNdjsonChunk picks the copy the CPU supports.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/types.h"
#include "format/chunked_decoder.h"

namespace sluice {

// Fixed before decoding starts; shared read-only by every chunk task.
struct NdjsonPlan {
  Schema schema;
  std::unordered_map<std::string_view, int> by_name;  // views into schema's names
  bool ignore_unknown_fields = true;
  int64_t batch_rows = 64 * 1024;
  std::string file;
  bool fast_path = true;  // FastLineDecoder first (see ChunkedOptions::fast_paths)
};

ChunkResult ParseNdjsonChunk(const NdjsonPlan& plan, const Chunk& chunk);
// Which copy ParseNdjsonChunk uses ("haswell" or "generic").
const char* NdjsonKernel();

namespace ndjson_haswell {
ChunkResult ParseChunk(const NdjsonPlan& plan, const Chunk& chunk);
}
namespace ndjson_generic {
ChunkResult ParseChunk(const NdjsonPlan& plan, const Chunk& chunk);
}

}  // namespace sluice
