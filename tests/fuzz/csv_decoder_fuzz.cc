// Fuzzes CSV framing and decoding (and gzip/zstd sniffing) over a fixed
// mixed-type schema. The first input byte picks the dialect and the read size.
// Differential: the chunked decoder with tiny chunks on a thread pool must
// produce exactly what one big chunk on the calling thread produces.
#include "core/thread_pool.h"
#include "format/compression.h"
#include "format/csv_reader.h"
#include "format/decoders_internal.h"
#include "fuzz_input.h"

namespace {

// Framing must not depend on how the input is cut: a reader with a tiny block
// (constant carry-over and growth) must see exactly what a roomy one sees.
std::string Frame(const uint8_t* data, size_t size, char delim, size_t block, size_t piece) {
  sluice::fuzz::PieceInput in(data, size, piece);
  sluice::CsvReader r(&in, delim, '"', block);
  std::string out;
  while (true) {
    auto more = r.Next();
    if (!more.ok()) return out + "!" + more.status().ToString();
    if (!*more) return out;
    out += std::to_string(r.line()) + ":" + std::to_string(r.num_fields()) + ":";
    for (size_t i = 0; i < r.num_fields(); ++i) {
      out += r.quoted(i) ? "q" : "u";
      out += std::to_string(r.field(i).size()) + ":";
      out.append(r.field(i));
    }
    out += "|" + std::string(r.error()) + "|" + std::string(r.raw()) + "\n";
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  DecoderOptions o;
  o.schema = fuzz::MixedSchema();
  o.csv.header = (flags & 1) != 0;
  o.csv.delimiter = (flags & 2) ? ';' : ',';
  o.ignore_unknown_fields = (flags & 4) != 0;
  if (flags & 8) o.csv.null_values = {"", "NULL"};
  o.batch_rows = 1 + (flags >> 5);
  size_t piece = 1 + ((flags >> 4) & 1) * 4096;
  fuzz::Check(Frame(data + 1, size - 1, o.csv.delimiter, 16, 1 + flags % 7) ==
              Frame(data + 1, size - 1, o.csv.delimiter, 1 << 20, 1 << 20));
  std::unique_ptr<InputStream> in = std::make_unique<fuzz::PieceInput>(data + 1, size - 1, piece);
  auto opened = OpenDecompressed(std::move(in));
  if (!opened.ok()) return 0;
  auto dec = NewCsvDecoder(std::move(*opened), o);
  if (!dec.ok()) return 0;
  fuzz::Drain(**dec);

  // The same input, plain: the exact path in one chunk is the reference for
  // the fast paths in chunks of 1..64 bytes on a pool.
  static ThreadPool pool(2);
  auto render = [&](size_t chunk, ThreadPool* p, bool fast) {
    DecoderOptions po = o;
    po.pool = p;
    ChunkedOptions co;
    co.chunk_bytes = co.first_chunk_bytes = chunk;
    co.fast_paths = fast;
    auto d = NewCsvDecoder(std::make_unique<fuzz::PieceInput>(data + 1, size - 1, piece), po, co);
    return d.ok() ? fuzz::Render(**d) : "!" + d.status().ToString();
  };
  const std::string whole = render(1 << 20, nullptr, false);
  fuzz::Check(render(1 + (flags * 7) % 64, &pool, true) == whole);
  return 0;
}
