// A deterministic in-memory `orders` data set for micro benchmarks: the
// columns of the issue-3 benchmark (int64 id, int32 quantity, decimal(12,2)
// price, a 3-letter currency out of 30, a timestamp, a 2-letter country out
// of 50 and free text), already decoded into RecordBatches.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/column.h"
#include "core/types.h"

namespace sluice::bench {

inline Schema OrdersSchema() {
  return Schema({
      {"id", DataType::Int64(), false},
      {"quantity", DataType::Int32(), true},
      {"price", DataType::Decimal(12, 2), true},
      {"currency", DataType::String(), true},
      {"ordered_at", DataType::Timestamp(), true},
      {"country", DataType::String(), true},
      {"note", DataType::String(), true},
  });
}

// xorshift64*: fixed seed, same rows on every run and machine.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 2685821657736338717ULL;
  }
  uint64_t Below(uint64_t n) { return Next() % n; }

 private:
  uint64_t s_;
};

// `rows` rows in batches of `batch_rows`; about 1% of notes are NULL.
inline std::vector<RecordBatch> MakeOrders(int64_t rows, int64_t batch_rows) {
  static const char* const kCurrencies[30] = {
      "USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD", "NZD", "SEK", "NOK",
      "DKK", "PLN", "CZK", "HUF", "RON", "BGN", "ISK", "TRY", "BRL", "MXN",
      "ARS", "CLP", "COP", "PEN", "CNY", "HKD", "SGD", "INR", "KRW", "ZAR"};
  static const char* const kWords[40] = {
      "express", "delivery",  "gift",    "wrap",   "please",   "leave", "at",     "door",
      "call",    "before",    "fragile", "handle", "with",     "care",  "second", "floor",
      "office",  "hours",     "only",    "back",   "entrance", "ring",  "bell",   "twice",
      "no",      "signature", "needed",  "left",   "side",     "blue",  "gate",   "code",
      "1234",    "thanks",    "a",       "lot",    "urgent",   "order", "for",    "customer"};
  Schema schema = OrdersSchema();
  std::vector<RecordBatch> out;
  Rng rng(42);
  int64_t ts = 1704067200000000;  // 2024-01-01T00:00:00Z
  std::string note;
  for (int64_t first = 0; first < rows; first += batch_rows) {
    int64_t n = std::min(batch_rows, rows - first);
    RecordBatch b = RecordBatch::Empty(schema);
    for (Column& c : b.columns) c.Reserve(n, c.type().id == TypeId::kString ? n * 16 : 0);
    for (int64_t r = first; r < first + n; ++r) {
      b.columns[0].Append<int64_t>(r + 1);
      b.columns[1].Append<int32_t>(static_cast<int32_t>(1 + rng.Below(100)));
      b.columns[2].Append<int64_t>(static_cast<int64_t>(100 + rng.Below(999900)));
      b.columns[3].AppendString(kCurrencies[rng.Below(30)]);
      ts += static_cast<int64_t>(rng.Below(6000000));
      b.columns[4].Append<int64_t>(ts);
      char country[2] = {static_cast<char>('A' + rng.Below(10)),
                         static_cast<char>('A' + rng.Below(5))};
      b.columns[5].AppendString(std::string_view(country, 2));
      if (rng.Below(100) == 0) {
        b.columns[6].AppendNull();
      } else {
        note.clear();
        int words = 3 + static_cast<int>(rng.Below(10));
        for (int w = 0; w < words; ++w) {
          if (w > 0) note += (rng.Below(8) == 0) ? ", " : " ";
          note += kWords[rng.Below(40)];
        }
        note += " #" + std::to_string(rng.Below(100000));
        b.columns[6].AppendString(note);
      }
    }
    out.push_back(std::move(b));
  }
  return out;
}

// In-memory bytes of the values (fixed widths, string offsets and bytes).
inline int64_t ValueBytes(const std::vector<RecordBatch>& batches) {
  int64_t total = 0;
  for (const RecordBatch& b : batches) {
    for (const Column& c : b.columns) {
      if (c.type().id == TypeId::kString) {
        total += c.size() * 4 + c.chars_size();
      } else {
        total += c.size() * c.type().FixedWidth();
      }
    }
  }
  return total;
}

}  // namespace sluice::bench
