// NDJSON decoder: chunked like CSV (a chunk ends after its last line feed, so
// every cut is exact), each chunk's lines parsed with simdjson On-Demand on the
// pool (ndjson_lines_kernel.h), rows handed out in input order.
#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "format/chunked_decoder.h"
#include "format/cpu_features.h"
#include "format/decoders_internal.h"
#include "format/format.h"
#include "format/ndjson_lines.h"

namespace sluice {

namespace {

class NdjsonChunkFormat final : public ChunkFormat {
 public:
  NdjsonChunkFormat(const DecoderOptions& options, std::string file, bool fast_path) {
    plan_.fast_path = fast_path;
    plan_.schema = options.schema;
    plan_.ignore_unknown_fields = options.ignore_unknown_fields;
    plan_.batch_rows = std::max<int64_t>(options.batch_rows, 1);
    plan_.file = std::move(file);
    for (int i = 0; i < plan_.schema.num_fields(); ++i) {
      plan_.by_name.emplace(plan_.schema.field(i).name, i);
    }
  }

  Result<std::optional<size_t>> ConsumePrefix(std::string_view head, bool eof,
                                              int64_t* lines) override {
    *lines = 0;
    if (head.size() < 3 && !eof) return std::optional<size_t>();
    return std::optional<size_t>(head.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0);
  }

  size_t FindCut(std::string_view block) const override {
    const void* nl = memrchr(block.data(), '\n', block.size());
    return nl == nullptr ? 0 : static_cast<size_t>(static_cast<const char*>(nl) - block.data()) + 1;
  }

  ChunkResult Parse(const Chunk& chunk) const override { return ParseNdjsonChunk(plan_, chunk); }

  Result<std::unique_ptr<Decoder>> Sequential(std::unique_ptr<InputStream>,
                                              int64_t) const override {
    // Cuts at line feeds are always record boundaries.
    return Status::Internal("ndjson chunks are always clean");
  }

 private:
  NdjsonPlan plan_;
};

}  // namespace

ChunkResult ParseNdjsonChunk(const NdjsonPlan& plan, const Chunk& chunk) {
#if defined(__x86_64__)
  if (CpuHasHaswellFeatures()) return ndjson_haswell::ParseChunk(plan, chunk);
#endif
  return ndjson_generic::ParseChunk(plan, chunk);
}

const char* NdjsonKernel() { return CpuHasHaswellFeatures() ? "haswell" : "generic"; }

Result<std::unique_ptr<Decoder>> NewNdjsonDecoder(std::unique_ptr<InputStream> in,
                                                  const DecoderOptions& options,
                                                  const ChunkedOptions& chunking) {
  if (in == nullptr) return Status::InvalidArgument("ndjson decoder needs an input stream");
  auto format = std::make_unique<NdjsonChunkFormat>(options, in->name(), chunking.fast_paths);
  return NewChunkedDecoder(std::move(in), std::move(format), options, chunking);
}

Result<std::unique_ptr<Decoder>> NewNdjsonDecoder(std::unique_ptr<InputStream> in,
                                                  const DecoderOptions& options) {
  return NewNdjsonDecoder(std::move(in), options, ChunkedOptions{});
}

}  // namespace sluice
