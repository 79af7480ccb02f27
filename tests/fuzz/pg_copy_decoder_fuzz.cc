// Fuzzes the binary COPY decoder (PgCopyDecoder): header, framing, every
// value conversion and the error paths. The first input byte picks the number
// of fields (0..8, low nibble), of trailing int8 fields (0..2, bits 4-6) and
// the mode (bit 7); then one byte per field picks its type (low 3 bits),
// whether it is NOT NULL (bit 3) and a decimal's scale (high nibble, 0..18);
// then one byte picks max_rows (low nibble + 1) and the size of the pieces
// fed (high nibble). The rest is
//   - mode 0: the stream. One that decodes is encoded again with
//     PgCopyEncoder and must decode to the same rows;
//   - mode 1: values (the schema's physical types, raw bytes), which
//     PgCopyEncoder writes and the decoder must read back bit for bit.
#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.h"
#include "sink/pg_copy.h"

namespace {

using namespace sluice;

// The rows of `batches`, each value's raw bytes, for comparing two decodes.
std::string Render(const std::vector<RecordBatch>& batches) {
  std::string out;
  for (const RecordBatch& b : batches) {
    for (int64_t i = 0; i < b.num_rows(); ++i) {
      out += "R";
      for (const Column& c : b.columns) {
        out += c.IsNull(i) ? "|N" : "|V";
        if (c.IsNull(i)) continue;
        if (c.type().id == TypeId::kString) {
          out.append(c.GetString(i));
        } else {
          const size_t w = c.type().FixedWidth();
          out.append(reinterpret_cast<const char*>(c.data<uint8_t>()) + i * w, w);
        }
      }
      out += "\n";
    }
  }
  return out;
}

// Decodes `stream` in pieces of `piece` bytes, checking every batch; the
// first error, or Finish()'s verdict.
Status Decode(const Schema& schema, int extra, int64_t max_rows, std::string_view stream,
              size_t piece, std::vector<RecordBatch>& batches) {
  PgCopyDecoder dec(schema, extra, max_rows);
  int64_t next_line = 1;
  auto drain = [&]() -> Status {
    while (true) {
      ASSIGN_OR_RETURN(std::optional<RecordBatch> b, dec.Next());
      if (!b) return Status::OK();
      fuzz::CheckBatch(*b);
      fuzz::Check(b->num_rows() >= 1 && b->num_rows() <= max_rows);
      fuzz::Check(b->schema == schema);
      for (int64_t line : b->source_lines) fuzz::Check(line == next_line++);
      batches.push_back(std::move(*b));
    }
  };
  for (size_t at = 0; at < stream.size(); at += piece) {
    RETURN_IF_ERROR(dec.Feed(stream.substr(at, piece)));
    RETURN_IF_ERROR(drain());
  }
  RETURN_IF_ERROR(drain());
  Status s = dec.Finish();
  fuzz::Check(s.ok() == dec.done());
  return s;
}

// A decode error names where in the stream it is.
void CheckError(const Status& s) {
  fuzz::Check(s.code() == StatusCode::kDataLoss);
  fuzz::Check(s.message().find("byte offset ") != std::string::npos);
}

// Rows of `schema` made of `in`'s bytes, as many as it holds, each value
// within what the encoder writes (dates and timestamps its subtraction of
// the 2000-01-01 epoch keeps in range; strings UTF-8).
RecordBatch RowsFromBytes(const Schema& schema, std::string_view in) {
  RecordBatch batch = RecordBatch::Empty(schema);
  auto take = [&](void* out, size_t n) {
    std::memset(out, 0, n);
    const size_t k = std::min(n, in.size());
    std::memcpy(out, in.data(), k);
    in.remove_prefix(k);
  };
  if (schema.num_fields() == 0) {
    batch.num_rows_no_columns = static_cast<int64_t>(in.size());
    return batch;
  }
  for (int64_t rows = 0; !in.empty() && rows < 10000; ++rows) {
    for (int f = 0; f < schema.num_fields(); ++f) {
      Column& c = batch.columns[f];
      uint8_t tag = 0;
      take(&tag, 1);
      if (schema.field(f).nullable && (tag & 1)) {
        c.AppendNull();
        continue;
      }
      switch (c.type().id) {
        case TypeId::kBool:
          c.Append<uint8_t>((tag >> 1) & 1);
          break;
        case TypeId::kInt32: {
          int32_t v;
          take(&v, sizeof(v));
          c.Append<int32_t>(v);
          break;
        }
        case TypeId::kDate: {
          int32_t v;
          take(&v, sizeof(v));
          c.Append<int32_t>(std::max(v, std::numeric_limits<int32_t>::min() + 10957));
          break;
        }
        case TypeId::kInt64:
        case TypeId::kDecimal: {
          int64_t v;
          take(&v, sizeof(v));
          c.Append<int64_t>(v);
          break;
        }
        case TypeId::kTimestamp: {
          int64_t v;
          take(&v, sizeof(v));
          c.Append<int64_t>(
              std::max(v, std::numeric_limits<int64_t>::min() + int64_t{10957} * 86'400'000'000));
          break;
        }
        case TypeId::kFloat64: {
          double v;
          take(&v, sizeof(v));
          c.Append<double>(v);
          break;
        }
        case TypeId::kString: {
          std::string s(std::min<size_t>(tag >> 1, in.size()), '\0');
          take(s.data(), s.size());
          if (!simdjson::validate_utf8(s.data(), s.size())) {
            for (char& ch : s) ch = static_cast<char>('a' + (static_cast<uint8_t>(ch) % 26));
          }
          c.AppendString(s);
          break;
        }
      }
    }
  }
  return batch;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const int fields = (data[0] & 0x0f) % 9;
  const int extra = ((data[0] >> 4) & 7) % 3;
  const bool from_values = (data[0] & 0x80) != 0;
  if (size < 2 + static_cast<size_t>(fields)) return 0;
  static const DataType kTypes[] = {
      DataType::Bool(),         DataType::Int32(),  DataType::Int64(), DataType::Float64(),
      DataType::Decimal(18, 0), DataType::String(), DataType::Date(),  DataType::Timestamp()};
  Schema schema;
  for (int f = 0; f < fields; ++f) {
    const uint8_t b = data[1 + f];
    DataType type = kTypes[b & 7];
    if (type.id == TypeId::kDecimal) type = DataType::Decimal(18, (b >> 4) * 18 / 15);
    schema.AddField({"f" + std::to_string(f), type, (b & 8) == 0});
  }
  const uint8_t knobs = data[1 + fields];
  const int64_t max_rows = 1 + (knobs & 0x0f);
  const size_t piece = 1 + (knobs >> 4) * 17;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 2 + fields, size - 2 - fields);

  if (from_values) {
    const RecordBatch batch = RowsFromBytes(schema, rest);
    PgCopyEncoder enc(
        schema, extra >= 1 ? std::optional<int64_t>(static_cast<int64_t>(size)) : std::nullopt,
        extra == 2);
    std::string stream;
    enc.Header(stream);
    fuzz::Check(enc.Rows(batch, stream).ok());
    enc.Trailer(stream);
    std::vector<RecordBatch> decoded;
    const Status s = Decode(schema, extra, max_rows, stream, piece, decoded);
    fuzz::Check(s.ok());
    fuzz::Check(Render(decoded) == Render({batch}));
    return 0;
  }

  const std::string_view stream = rest;
  auto first = PgCopyFirstTupleFields(stream);
  std::vector<RecordBatch> batches;
  Status s = Decode(schema, extra, max_rows, stream, piece, batches);
  if (!s.ok()) {
    CheckError(s);
    return 0;
  }
  // A stream that decodes has a header and a first tuple (or the marker).
  fuzz::Check(first.ok() && first->has_value());
  fuzz::Check(batches.empty() ? **first == -1 : **first == fields + extra);

  // Encoded again, the rows decode to themselves, at once or byte by byte.
  PgCopyEncoder enc(schema, extra >= 1 ? std::optional<int64_t>(-1) : std::nullopt, extra == 2);
  std::string again;
  enc.Header(again);
  for (const RecordBatch& b : batches) fuzz::Check(enc.Rows(b, again).ok());
  enc.Trailer(again);
  for (size_t p : {again.size() + 1, size_t{1}}) {
    std::vector<RecordBatch> round;
    fuzz::Check(Decode(schema, extra, max_rows, again, p, round).ok());
    fuzz::Check(Render(round) == Render(batches));
  }
  return 0;
}
