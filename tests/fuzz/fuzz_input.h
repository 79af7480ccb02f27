// Shared pieces of the decoder fuzz targets: an InputStream that hands out the
// fuzz input in pieces of a size the input itself chooses, the fixed schema,
// and invariant checks on the batches produced.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/column.h"
#include "core/io.h"
#include "format/format.h"

namespace sluice::fuzz {

class PieceInput final : public InputStream {
 public:
  PieceInput(const uint8_t* data, size_t size, size_t piece)
      : data_(reinterpret_cast<const char*>(data)),
        size_(size),
        piece_(std::max<size_t>(piece, 1)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min({n, piece_, size_ - pos_});
    if (k > 0) std::memcpy(buf, data_ + pos_, k);
    pos_ += k;
    return k;
  }
  const std::string& name() const override { return name_; }
  int64_t BytesConsumed() const override { return static_cast<int64_t>(pos_); }

 private:
  const char* data_;
  size_t size_;
  size_t piece_;
  size_t pos_ = 0;
  std::string name_ = "fuzz-input";
};

inline Schema MixedSchema() {
  return Schema({
      {"id", DataType::Int64(), false},
      {"flag", DataType::Bool()},
      {"qty", DataType::Int32()},
      {"score", DataType::Float64()},
      {"price", DataType::Decimal(10, 3)},
      {"name", DataType::String()},
      {"day", DataType::Date()},
      {"at", DataType::Timestamp()},
  });
}

inline void Check(bool ok) {
  if (!ok) std::abort();
}

// Columns agree on length, offsets are monotonic, lines are 1-based.
inline void CheckBatch(const RecordBatch& b) {
  const int64_t n = b.num_rows();
  Check(static_cast<int64_t>(b.source_lines.size()) == n);
  for (int64_t line : b.source_lines) Check(line >= 1);
  for (size_t c = 0; c < b.columns.size(); ++c) {
    const Column& col = b.columns[c];
    Check(col.size() == n);
    Check(col.type() == b.schema.field(static_cast<int>(c)).type);
    if (col.type().id == TypeId::kString) {
      const uint32_t* off = col.offsets();
      for (int64_t i = 0; i < n; ++i) Check(off[i] <= off[i + 1]);
      Check(static_cast<int64_t>(off[n]) == col.chars_size());
    }
    if (!b.schema.field(static_cast<int>(c)).nullable) Check(col.null_count() == 0);
  }
}

// Runs a decoder to the end, checking every batch and bad record.
inline void Drain(Decoder& dec) {
  int64_t rows = 0, bad_count = 0;
  for (int guard = 0; guard < 1000000; ++guard) {
    RecordBatch batch;
    std::vector<BadRecord> bad;
    auto more = dec.Next(&batch, &bad);
    if (!more.ok()) return;
    CheckBatch(batch);
    for (const BadRecord& r : bad) {
      Check(r.line >= 1);
      Check(!r.reason.empty());
    }
    rows += batch.num_rows();
    bad_count += static_cast<int64_t>(bad.size());
    if (!*more) {
      Check(batch.num_rows() == 0 && bad.empty());
      Check(dec.records_read() == rows + bad_count);
      return;
    }
  }
  std::abort();  // a decoder that never finishes
}

// Everything a decoder produced, as bytes, for comparing two decoders: rows
// (lines and raw values) in order, then bad records in order (how the two
// interleave across Next() calls depends on chunking), or only the error when
// the input failed as a whole (how many rows come out before it depends on
// batching too).
inline std::string Render(Decoder& dec) {
  std::string rows, bads;
  for (int guard = 0; guard < 1000000; ++guard) {
    RecordBatch batch;
    std::vector<BadRecord> bad;
    auto more = dec.Next(&batch, &bad);
    if (!more.ok()) return "!" + more.status().ToString();
    for (const BadRecord& r : bad) {
      bads += "B" + std::to_string(r.line) + "|" + r.field + "|" + r.reason + "|" + r.raw + "\n";
    }
    for (int64_t i = 0; i < batch.num_rows(); ++i) {
      rows += "R" + std::to_string(batch.source_lines[i]);
      for (const Column& c : batch.columns) {
        rows += c.IsNull(i) ? "|N" : "|V";
        if (c.IsNull(i)) continue;
        if (c.type().id == TypeId::kString) {
          rows.append(c.GetString(i));
        } else {
          const size_t w = c.type().FixedWidth();
          rows.append(reinterpret_cast<const char*>(c.data<uint8_t>()) + i * w, w);
        }
      }
      rows += "\n";
    }
    if (!*more) return rows + bads;
  }
  std::abort();
}

}  // namespace sluice::fuzz
