// Fuzzes NDJSON framing and decoding over a fixed mixed-type schema. The first
// input byte picks options and the read size.
#include "format/compression.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  DecoderOptions o;
  o.schema = fuzz::MixedSchema();
  o.ignore_unknown_fields = (flags & 1) != 0;
  o.batch_rows = 1 + (flags >> 5);
  size_t piece = 1 + ((flags >> 1) & 1) * 4096;
  std::unique_ptr<InputStream> in = std::make_unique<fuzz::PieceInput>(data + 1, size - 1, piece);
  auto opened = OpenDecompressed(std::move(in));
  if (!opened.ok()) return 0;
  auto dec = NewNdjsonDecoder(std::move(*opened), o);
  if (!dec.ok()) return 0;
  fuzz::Drain(**dec);
  return 0;
}
