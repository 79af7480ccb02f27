// ChunkedDecoder: parallel decoding of one input stream for record formats
// whose record boundaries can be found cheaply (CSV, NDJSON).
//
// The thread calling Next() reads the (already decompressed) stream in large
// blocks and cuts each block after its last complete record (the format's
// FindCut); the tail is carried into the next chunk. Chunks are decoded on the
// pool (ChunkFormat::Parse, independent of each other), at most a few per pool
// thread in flight, and their batches are handed out in input order, so the
// output is the same for any thread count. Line numbers are counted per chunk
// and made absolute when the chunk is handed out.
//
// A cut is a guess for formats with quoting (CSV decides by quote parity). A
// chunk whose exact parse does not end at its end (clean == false) shows the
// guess was wrong; decoding then continues with the format's sequential
// decoder over the remaining bytes, which is always right.
//
// Memory: about (2 x threads + 1) chunks of input plus their decoded batches.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/bad_record.h"
#include "core/column.h"
#include "core/io.h"
#include "core/status.h"
#include "format/format.h"

namespace sluice {

// Readable bytes after a chunk's data (SIMD loads, simdjson).
inline constexpr size_t kChunkPadding = 64;

struct Chunk {
  std::vector<char> bytes;  // size + kChunkPadding zeroed bytes
  size_t size = 0;
  int64_t index = 0;
  bool final = false;  // the last chunk: may end without a line break
  std::string_view data() const { return {bytes.data(), size}; }
};

// A file-level error found inside a chunk, whose message needs the absolute
// line: before + line + after.
struct ChunkError {
  int64_t line = -1;  // relative, 0-based; -1 = no error
  std::string before, after;
};

struct ChunkResult {
  // Rows in order; source_lines are 0-based lines relative to the chunk start.
  std::vector<RecordBatch> batches;
  std::vector<BadRecord> bad;  // lines relative, 0-based
  int64_t records = 0;         // records seen, good and bad
  int64_t lines = 0;           // line breaks in the chunk
  bool clean = true;           // the last record ended exactly at the chunk end
  Status status;               // a file-level error
  ChunkError error;            // a file-level error that names a line
};

class ChunkFormat {
 public:
  virtual ~ChunkFormat() = default;
  // Consumes what precedes the records (byte order mark, header) from the
  // first bytes of the input. Returns the bytes consumed and sets *lines to
  // the line breaks among them, or nullopt when `head` does not hold all of
  // it yet and !eof.
  virtual Result<std::optional<size_t>> ConsumePrefix(std::string_view head, bool eof,
                                                      int64_t* lines) = 0;
  // Offset just past the last complete record of `block` (which starts at a
  // record start), or 0 when it holds no complete record.
  virtual size_t FindCut(std::string_view block) const = 0;
  // Decodes one chunk. Called concurrently from pool threads.
  virtual ChunkResult Parse(const Chunk& chunk) const = 0;
  // A decoder for the rest of the input, which starts at a record start on
  // line `first_line`; used after an unclean chunk.
  virtual Result<std::unique_ptr<Decoder>> Sequential(std::unique_ptr<InputStream> rest,
                                                      int64_t first_line) const = 0;
};

struct ChunkedOptions {
  size_t chunk_bytes = 4u << 20;
  size_t first_chunk_bytes = 64u << 10;  // chunks grow from this to chunk_bytes
  size_t max_record_bytes = 256u << 20;
  // Tests and fuzzers: false decodes every chunk with the formats' exact
  // paths only, the reference the fast paths must agree with.
  bool fast_paths = true;
};

Result<std::unique_ptr<Decoder>> NewChunkedDecoder(std::unique_ptr<InputStream> in,
                                                   std::unique_ptr<ChunkFormat> format,
                                                   const DecoderOptions& options,
                                                   const ChunkedOptions& chunking = {});

}  // namespace sluice
