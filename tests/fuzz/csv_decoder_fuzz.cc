// Fuzzes CSV framing and decoding (and gzip/zstd sniffing) over a fixed
// mixed-type schema. The first input byte picks the dialect and the read size.
#include "format/compression.h"
#include "fuzz_input.h"

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
  std::unique_ptr<InputStream> in = std::make_unique<fuzz::PieceInput>(data + 1, size - 1, piece);
  auto opened = OpenDecompressed(std::move(in));
  if (!opened.ok()) return 0;
  auto dec = NewCsvDecoder(std::move(*opened), o);
  if (!dec.ok()) return 0;
  fuzz::Drain(**dec);
  return 0;
}
