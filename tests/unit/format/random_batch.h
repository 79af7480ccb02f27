// Test helpers for encoders: random schemas and batches full of awkward
// values (NULLs, empty strings, quotes, line breaks, unicode, extreme
// numbers), a row renderer to compare batches, and an OutputStream that
// records how it was used.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/column.h"
#include "core/io.h"
#include "core/value_text.h"
#include "decode_helpers.h"

namespace sluice::testing {

class RandomValues {
 public:
  explicit RandomValues(uint64_t seed) : rng_(seed) {}

  int64_t Int(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

  DataType Type() {
    switch (Int(0, 7)) {
      case 0:
        return DataType::Bool();
      case 1:
        return DataType::Int32();
      case 2:
        return DataType::Int64();
      case 3:
        return DataType::Float64();
      case 4: {
        int p = static_cast<int>(Int(1, 18));
        return DataType::Decimal(p, static_cast<int>(Int(0, p)));
      }
      case 5:
        return DataType::Date();
      case 6:
        return DataType::Timestamp();
      default:
        return DataType::String();
    }
  }

  // At least two fields (a one-column NULL row would be an empty CSV line)
  // and always one string field.
  Schema RandomSchema() {
    Schema s;
    int n = static_cast<int>(Int(2, 8));
    int string_at = static_cast<int>(Int(0, n - 1));
    for (int i = 0; i < n; ++i) {
      s.AddField({"c" + std::to_string(i), i == string_at ? DataType::String() : Type()});
    }
    return s;
  }

  std::string String() {
    static const std::vector<std::string> kPieces = {"",
                                                     " ",
                                                     "a",
                                                     "xyz",
                                                     ",",
                                                     "\"",
                                                     "\"\"",
                                                     "\n",
                                                     "\r\n",
                                                     "\t",
                                                     ";",
                                                     "'",
                                                     "\\",
                                                     "NULL",
                                                     "é",
                                                     "日本",
                                                     "\xF0\x9F\x98\x80",
                                                     "\x01",
                                                     "\x1f",
                                                     "{}",
                                                     "0",
                                                     "-",
                                                     "1.5",
                                                     "  pad ",
                                                     "line\nbreak",
                                                     "comma, and \"quote\"",
                                                     "cr\rinside"};
    if (Chance(0.02)) return std::string(static_cast<size_t>(Int(100, 5000)), 'L');
    std::string s;
    int parts = static_cast<int>(Int(0, 4));
    for (int i = 0; i < parts; ++i) s += kPieces[static_cast<size_t>(Int(0, kPieces.size() - 1))];
    return s;
  }

  double Float() {
    static const double kSpecial[] = {0.0,
                                      -0.0,
                                      0.1,
                                      -2.5,
                                      1e300,
                                      -1e-300,
                                      std::numeric_limits<double>::max(),
                                      std::numeric_limits<double>::min(),
                                      std::numeric_limits<double>::denorm_min(),
                                      std::numeric_limits<double>::lowest(),
                                      std::numeric_limits<double>::infinity(),
                                      -std::numeric_limits<double>::infinity(),
                                      std::numeric_limits<double>::quiet_NaN()};
    if (Chance(0.3)) return kSpecial[Int(0, std::size(kSpecial) - 1)];
    // Any finite bit pattern.
    while (true) {
      uint64_t bits = static_cast<uint64_t>(
          Int(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()));
      double d;
      std::memcpy(&d, &bits, 8);
      if (std::isfinite(d)) return d;
    }
  }

  void AppendValue(Column* col) {
    const DataType& t = col->type();
    switch (t.id) {
      case TypeId::kBool:
        col->Append<uint8_t>(Chance(0.5) ? 1 : 0);
        break;
      case TypeId::kInt32: {
        constexpr int32_t kEdge[] = {std::numeric_limits<int32_t>::min(),
                                     std::numeric_limits<int32_t>::max(), 0, -1};
        col->Append<int32_t>(Chance(0.2) ? kEdge[Int(0, 3)]
                                         : static_cast<int32_t>(Int(-1000000, 1000000)));
        break;
      }
      case TypeId::kInt64: {
        constexpr int64_t kEdge[] = {std::numeric_limits<int64_t>::min(),
                                     std::numeric_limits<int64_t>::max(), 0, -1};
        col->Append<int64_t>(Chance(0.2) ? kEdge[Int(0, 3)]
                                         : Int(std::numeric_limits<int64_t>::min(),
                                               std::numeric_limits<int64_t>::max()));
        break;
      }
      case TypeId::kFloat64:
        col->Append<double>(Float());
        break;
      case TypeId::kDecimal: {
        int64_t max = Pow10(t.precision) - 1;
        col->Append<int64_t>(Chance(0.2) ? (Chance(0.5) ? max : -max) : Int(-max, max));
        break;
      }
      case TypeId::kDate:
        col->Append<int32_t>(static_cast<int32_t>(Int(kMinDay, kMaxDay)));
        break;
      case TypeId::kTimestamp: {
        int64_t us = Int(kMinDay * kMicrosPerDay, (kMaxDay + 1) * kMicrosPerDay - 1);
        if (Chance(0.3)) us -= us % 1000000;  // whole seconds print without a fraction
        col->Append<int64_t>(us);
        break;
      }
      case TypeId::kString:
        col->AppendString(String());
        break;
    }
  }

  RecordBatch Batch(const Schema& schema, int64_t rows, double null_chance = 0.15) {
    RecordBatch b = RecordBatch::Empty(schema);
    for (int64_t r = 0; r < rows; ++r) {
      for (auto& col : b.columns) {
        if (Chance(null_chance)) {
          col.AppendNull();
        } else {
          AppendValue(&col);
        }
      }
    }
    return b;
  }

  static constexpr int64_t kMicrosPerDay = int64_t{86400} * 1000000;
  static inline const int64_t kMinDay = DaysFromCivil(1, 1, 1);
  static inline const int64_t kMaxDay = DaysFromCivil(9999, 12, 31);

 private:
  std::mt19937_64 rng_;
};

// One "v1|v2|..." line per row (FormatCell spelling; NaN prints as nan).
inline std::vector<std::string> RowsText(const RecordBatch& b) {
  std::vector<std::string> rows;
  for (int64_t r = 0; r < b.num_rows(); ++r) {
    std::string row;
    for (size_t c = 0; c < b.columns.size(); ++c) {
      if (c != 0) row += "|";
      row += FormatCell(b.columns[c], r);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// Decodes `data` with the given options and returns every row and the bad
// records' reasons (for a round-trip check: there should be none).
struct Redecoded {
  Status status;
  std::vector<std::string> rows;
  std::vector<std::string> bad;
};
inline Redecoded DecodeRows(FileFormat format, const std::string& data,
                            const DecoderOptions& options) {
  Redecoded out;
  auto dec = NewDecoder(format, NewStringInput(data, "roundtrip"), options);
  if (!dec.ok()) {
    out.status = dec.status();
    return out;
  }
  std::vector<BadRecord> bad;
  while (true) {
    RecordBatch b;
    auto more = (*dec)->Next(&b, &bad);
    if (!more.ok()) {
      out.status = more.status();
      break;
    }
    if (!*more) break;
    for (auto& r : RowsText(b)) out.rows.push_back(std::move(r));
  }
  for (const BadRecord& b : bad) {
    out.bad.push_back("line " + std::to_string(b.line) + " [" + b.field + "] " + b.reason);
  }
  return out;
}

// An OutputStream into a string that remembers each write's size and whether
// it was closed or aborted; it can be told to fail writes.
class RecordingOutput final : public OutputStream {
 public:
  struct Log {
    std::string data;
    std::vector<size_t> writes;
    bool closed = false;
    bool aborted = false;
  };
  explicit RecordingOutput(Log* log, bool fail_writes = false)
      : log_(log), fail_writes_(fail_writes) {}
  Status Write(const void* data, size_t n) override {
    if (fail_writes_) return Status::IOError("write 'recording': disk full");
    log_->data.append(static_cast<const char*>(data), n);
    log_->writes.push_back(n);
    return Status::OK();
  }
  int64_t Tell() const override { return static_cast<int64_t>(log_->data.size()); }
  Status Close() override {
    log_->closed = true;
    return Status::OK();
  }
  void Abort() override { log_->aborted = true; }

 private:
  Log* log_;
  bool fail_writes_;
};

}  // namespace sluice::testing
