// Fuzzes the Parquet decoder: footer and page header parsing, decompression,
// every value encoding and the conversion to sluice types. The first input
// byte picks the schema (the file's own, or a fixed mixed one whose columns
// are matched by name), the batch size and whether the stream is seekable;
// the rest is the file.
#include "format/parquet_reader.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  DecoderOptions o;
  if (flags & 1) o.schema = fuzz::MixedSchema();
  o.batch_rows = 1 + (flags >> 4) * 37;
  std::unique_ptr<InputStream> in;
  if (flags & 2) {
    in = NewStringInput(std::string(reinterpret_cast<const char*>(data + 1), size - 1), "fuzz");
  } else {
    in = std::make_unique<fuzz::PieceInput>(data + 1, size - 1, 1 + (flags & 0x0c) * 100);
  }
  auto dec = NewParquetDecoder(std::move(in), o);
  if (!dec.ok()) return 0;
  // A tiny file may claim billions of all-NULL rows (RLE runs cost nothing);
  // stop after a bounded number of rows instead of draining those.
  int64_t rows = 0;
  for (int guard = 0; guard < 100000 && rows < 2000000; ++guard) {
    RecordBatch batch;
    std::vector<BadRecord> bad;
    auto more = (*dec)->Next(&batch, &bad);
    if (!more.ok()) return 0;
    if (!*more) {
      fuzz::Check(batch.num_rows() == 0 && bad.empty());
      return 0;
    }
    fuzz::CheckBatch(batch);
    fuzz::Check(batch.num_rows() <= o.batch_rows);
    for (const BadRecord& r : bad) fuzz::Check(r.line >= 1 && !r.reason.empty());
    rows += batch.num_rows() + static_cast<int64_t>(bad.size());
  }
  return 0;
}
