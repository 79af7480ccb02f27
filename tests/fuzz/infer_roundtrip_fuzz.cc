// The zero-config invariant (issue 10), checked directly: for a CSV or NDJSON
// input, infer a schema from all of it, then decode it twice, once with that
// schema and once with the same names all typed string.
//   - the inferred schema decodes every row the all-string schema accepts
//     (no row rejected whose values were all sampled);
//   - a cell that is a non-blank string under the all-string schema is not
//     NULL under the inferred one (no column silently NULL).
// The first byte configures the dialect: bit 0 NDJSON, bit 1 no header,
// bit 2 tab delimiter, bit 3 "NA" as the only null value (blanks are then
// values), bits 4-7 the read piece size.
#include <map>
#include <optional>

#include "core/value_text.h"
#include "fuzz_input.h"

namespace {

using namespace sluice;

struct Rows {
  bool ok = false;  // the input did not fail as a whole
  // line -> cells (nullopt = NULL)
  std::map<int64_t, std::vector<std::optional<std::string>>> rows;
};

Rows Decode(FileFormat format, const uint8_t* data, size_t size, size_t piece,
            const DecoderOptions& o) {
  Rows out;
  auto dec = NewDecoder(format, std::make_unique<fuzz::PieceInput>(data, size, piece), o);
  if (!dec.ok()) return out;
  for (int guard = 0; guard < 1000000; ++guard) {
    RecordBatch batch;
    std::vector<BadRecord> bad;
    auto more = (*dec)->Next(&batch, &bad);
    if (!more.ok()) return out;
    for (int64_t i = 0; i < batch.num_rows(); ++i) {
      auto& cells = out.rows[batch.source_lines[i]];
      for (const Column& c : batch.columns) {
        if (c.IsNull(i)) {
          cells.emplace_back();
        } else if (c.type().id == TypeId::kString) {
          cells.emplace_back(std::string(c.GetString(i)));
        } else {
          cells.emplace_back(std::string("typed"));
        }
      }
    }
    if (!*more) {
      out.ok = true;
      return out;
    }
  }
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  ++data;
  --size;
  const FileFormat format = (flags & 1) ? FileFormat::kNdjson : FileFormat::kCsv;
  InferOptions io;
  io.csv.header = (flags & 2) == 0;
  io.csv.delimiter = (flags & 4) ? '\t' : ',';
  if (flags & 8) io.csv.null_values = {"NA"};
  io.sample_rows = int64_t{1} << 40;  // all of it
  const size_t piece = 1 + (flags >> 4) * 97;
  fuzz::PieceInput in(data, size, piece);
  auto schema = InferSchema(format, in, io);
  if (!schema.ok()) return 0;

  DecoderOptions typed;
  typed.schema = *schema;
  typed.csv = io.csv;
  DecoderOptions strings = typed;
  std::vector<Field> fields;
  for (const Field& f : schema->fields()) fields.push_back({f.name, DataType::String(), true});
  strings.schema = Schema(fields);

  const Rows s = Decode(format, data, size, piece, strings);
  const Rows t = Decode(format, data, size, piece, typed);
  if (!s.ok) return 0;
  fuzz::Check(t.ok);  // the inferred schema reads what the string one reads
  for (const auto& [line, cells] : s.rows) {
    auto it = t.rows.find(line);
    if (it == t.rows.end()) {
      std::fprintf(stderr, "line %lld: accepted as strings, rejected under the inferred schema\n",
                   static_cast<long long>(line));
      std::abort();
    }
    for (size_t c = 0; c < cells.size(); ++c) {
      if (!cells[c] || TrimBlanks(*cells[c]).empty()) continue;
      if (!it->second[c]) {
        std::fprintf(stderr, "line %lld: column '%s' is NULL under the inferred schema\n",
                     static_cast<long long>(line),
                     EscapeName(schema->field(static_cast<int>(c)).name).c_str());
        std::abort();
      }
    }
  }
  return 0;
}
