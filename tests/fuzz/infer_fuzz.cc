// Fuzzes schema inference for CSV and NDJSON, then decodes the same input
// with the inferred schema: whatever inference says must be decodable.
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice;
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  const FileFormat format = (flags & 1) ? FileFormat::kNdjson : FileFormat::kCsv;
  InferOptions io;
  io.csv.header = (flags & 2) != 0;
  io.csv.delimiter = (flags & 4) ? '\t' : ',';
  io.sample_rows = 1 + (flags >> 4) * 3;
  size_t piece = 1 + ((flags >> 3) & 1) * 4096;
  fuzz::PieceInput in(data + 1, size - 1, piece);
  auto schema = InferSchema(format, in, io);
  if (!schema.ok()) return 0;
  // Names must be unique and non-empty, and the schema must serialise.
  for (int i = 0; i < schema->num_fields(); ++i) {
    fuzz::Check(!schema->field(i).name.empty());
    fuzz::Check(schema->FieldIndex(schema->field(i).name) == i);
    fuzz::Check(schema->field(i).nullable);
  }
  auto round = Schema::FromJson(schema->ToJson());
  fuzz::Check(round.ok() && *round == *schema);

  DecoderOptions o;
  o.schema = *schema;
  o.csv = io.csv;
  auto dec = NewDecoder(format, std::make_unique<fuzz::PieceInput>(data + 1, size - 1, piece), o);
  if (!dec.ok()) return 0;
  fuzz::Drain(**dec);
  return 0;
}
