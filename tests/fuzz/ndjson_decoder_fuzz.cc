// Fuzzes NDJSON framing and decoding over a fixed mixed-type schema. The first
// input byte picks options and the read size. Differential: tiny chunks on a
// thread pool must give exactly what one chunk on the calling thread gives.
#include "core/thread_pool.h"
#include "format/compression.h"
#include "format/decoders_internal.h"
#include "format/line_reader.h"
#include "fuzz_input.h"

namespace {

// Line framing must not depend on block size or read size.
std::string Lines(const uint8_t* data, size_t size, size_t block, size_t piece) {
  sluice::fuzz::PieceInput in(data, size, piece);
  sluice::LineReader r(&in, 64, block);
  std::string out;
  while (true) {
    auto more = r.Next();
    if (!more.ok()) return out + "!" + more.status().ToString();
    if (!*more) return out;
    sluice::fuzz::Check(r.readable_from_line() >= r.line().size() + 64);
    out += std::to_string(r.line_number()) + ":" + std::to_string(r.line().size()) + ":";
    out.append(r.line());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  DecoderOptions o;
  o.schema = fuzz::MixedSchema();
  o.ignore_unknown_fields = (flags & 1) != 0;
  o.batch_rows = 1 + (flags >> 5);
  size_t piece = 1 + ((flags >> 1) & 1) * 4096;
  fuzz::Check(Lines(data + 1, size - 1, 16, 1 + flags % 5) ==
              Lines(data + 1, size - 1, 1 << 20, 1 << 20));
  std::unique_ptr<InputStream> in = std::make_unique<fuzz::PieceInput>(data + 1, size - 1, piece);
  auto opened = OpenDecompressed(std::move(in));
  if (!opened.ok()) return 0;
  auto dec = NewNdjsonDecoder(std::move(*opened), o);
  if (!dec.ok()) return 0;
  fuzz::Drain(**dec);

  static ThreadPool pool(2);
  auto render = [&](size_t chunk, ThreadPool* p, bool fast) {
    DecoderOptions po = o;
    po.pool = p;
    ChunkedOptions co;
    co.chunk_bytes = co.first_chunk_bytes = chunk;
    co.fast_paths = fast;
    auto d =
        NewNdjsonDecoder(std::make_unique<fuzz::PieceInput>(data + 1, size - 1, piece), po, co);
    return d.ok() ? fuzz::Render(**d) : "!" + d.status().ToString();
  };
  const std::string whole = render(1 << 20, nullptr, false);
  fuzz::Check(render(1 + (flags * 5) % 48, &pool, true) == whole);
  return 0;
}
