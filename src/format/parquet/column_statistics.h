// Column chunk statistics: null count and min/max in the column's sort order.
//
// Writers compute the min/max of a slice of values themselves (a tight loop
// over the typed buffer) and merge the result here once per slice, so there is
// no per-value call. Sort orders follow the parquet-format spec: signed for
// INT32/INT64 (and so for DATE, DECIMAL on INT64, TIMESTAMP), false < true for
// BOOLEAN, IEEE order without NaN for DOUBLE, unsigned bytes for BYTE_ARRAY.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "format/parquet/parquet_metadata.h"

namespace sluice::parquet {

// Unsigned byte order, the sort order of BYTE_ARRAY (std::string_view's
// compare may treat bytes as signed chars).
inline int CompareUnsignedBytes(std::string_view a, std::string_view b) {
  size_t n = a.size() < b.size() ? a.size() : b.size();
  int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
  if (c != 0) return c;
  return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
}

// Orders two PLAIN-encoded statistics values of physical type `type` (as
// ToThrift writes them): <0, 0 or >0. Values of the wrong size compare equal.
int ComparePlainValues(PhysicalType type, std::string_view a, std::string_view b);

// Longer min/max strings are not written (a footer must not carry megabytes of
// one value); null_count is still written.
inline constexpr size_t kMaxStatisticsValueBytes = 4096;

class ColumnStatistics {
 public:
  explicit ColumnStatistics(PhysicalType type) : type_(type) {}

  void AddNulls(int64_t n) { null_count_ += n; }
  // INT32, INT64, BOOLEAN (0/1).
  void MergeInt(int64_t min, int64_t max);
  // DOUBLE; `saw_nan` suppresses min/max for the whole chunk, since NaN has no
  // place in the order readers assume.
  void MergeDouble(double min, double max, bool saw_nan);
  // BYTE_ARRAY, compared as unsigned bytes.
  void MergeString(std::string_view min, std::string_view max);

  int64_t null_count() const { return null_count_; }
  // null_count, plus min_value/max_value when known (and the deprecated
  // min/max for INT32/INT64/DOUBLE, whose legacy signed order is the same).
  Statistics ToThrift() const;
  void Reset();

 private:
  PhysicalType type_;
  int64_t null_count_ = 0;
  bool has_minmax_ = false;
  bool saw_nan_ = false;
  int64_t imin_ = 0, imax_ = 0;
  double dmin_ = 0, dmax_ = 0;
  std::string smin_, smax_;
};

}  // namespace sluice::parquet
