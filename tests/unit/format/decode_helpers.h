// Test helpers: run a decoder to the end and render what it produced as text,
// so tests can compare whole outputs (and outputs across input splits).
#pragma once

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/value_text.h"
#include "format/format.h"
#include "piece_input.h"

namespace sluice::testing {

inline std::string FormatCell(const Column& c, int64_t i) {
  if (c.IsNull(i)) return "NULL";
  switch (c.type().id) {
    case TypeId::kBool:
      return c.Value<uint8_t>(i) ? "true" : "false";
    case TypeId::kInt32:
      return std::to_string(c.Value<int32_t>(i));
    case TypeId::kInt64:
      return std::to_string(c.Value<int64_t>(i));
    case TypeId::kFloat64: {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "%.17g", c.Value<double>(i));
      return buf;
    }
    case TypeId::kDecimal:
      return FormatDecimal(c.Value<int64_t>(i), c.type().scale);
    case TypeId::kString:
      return "<" + std::string(c.GetString(i)) + ">";
    case TypeId::kDate:
      return FormatDate(c.Value<int32_t>(i));
    case TypeId::kTimestamp:
      return FormatTimestamp(c.Value<int64_t>(i));
  }
  return "?";
}

struct Decoded {
  Status status;
  std::vector<std::string> rows;  // "line: v1|v2|..."
  std::vector<BadRecord> bad;
  int batches = 0;
  int64_t records_read = 0;

  // Rows and bad records in one string, for whole-output comparisons.
  std::string Text() const {
    std::string s;
    for (const auto& r : rows) s += r + "\n";
    for (const auto& b : bad) {
      s +=
          "BAD " + std::to_string(b.line) + " [" + b.field + "] " + b.reason + " {" + b.raw + "}\n";
    }
    if (!status.ok()) s += "STATUS " + status.ToString() + "\n";
    return s;
  }
};

inline void AppendRows(const RecordBatch& b, Decoded* d) {
  for (int64_t r = 0; r < b.num_rows(); ++r) {
    std::string row = std::to_string(b.source_lines.at(r)) + ":";
    for (size_t c = 0; c < b.columns.size(); ++c) {
      row += c == 0 ? " " : "|";
      row += FormatCell(b.columns[c], r);
    }
    d->rows.push_back(row);
  }
}

// Runs a decoder (or the error creating it) to the end.
inline Decoded Drain(Result<std::unique_ptr<Decoder>> dec) {
  Decoded d;
  if (!dec.ok()) {
    d.status = dec.status();
    return d;
  }
  while (true) {
    RecordBatch batch;
    auto more = (*dec)->Next(&batch, &d.bad);
    if (!more.ok()) {
      d.status = more.status();
      break;
    }
    if (!*more) break;
    ++d.batches;
    if (batch.num_rows() > 0 &&
        static_cast<int64_t>(batch.source_lines.size()) != batch.num_rows()) {
      d.status = Status::Internal("source_lines size mismatch");
      break;
    }
    for (const auto& c : batch.columns) {
      if (c.size() != batch.num_rows()) {
        d.status = Status::Internal("column length mismatch");
        return d;
      }
    }
    AppendRows(batch, &d);
  }
  d.records_read = (*dec)->records_read();
  return d;
}

inline Decoded DecodeAll(FileFormat format, std::unique_ptr<InputStream> in,
                         const DecoderOptions& options) {
  return Drain(NewDecoder(format, std::move(in), options));
}

inline Decoded DecodeString(FileFormat format, const std::string& data,
                            const DecoderOptions& options, size_t piece = 1 << 20,
                            const std::string& name = "input.txt") {
  return DecodeAll(format, std::make_unique<PieceInput>(data, piece, name), options);
}

inline Schema MakeSchema(std::vector<Field> fields) { return Schema(std::move(fields)); }

}  // namespace sluice::testing
