#include "format/parquet/column_statistics.h"

#include <algorithm>
#include <cstring>

namespace sluice::parquet {
namespace {

template <typename T>
std::string PlainBytes(T v) {
  // PLAIN is little-endian; the hosts sluice supports are too.
  std::string s(sizeof(T), '\0');
  std::memcpy(s.data(), &v, sizeof(T));
  return s;
}

template <typename T>
int CompareAs(std::string_view a, std::string_view b) {
  if (a.size() != sizeof(T) || b.size() != sizeof(T)) return 0;
  T x, y;
  std::memcpy(&x, a.data(), sizeof(T));
  std::memcpy(&y, b.data(), sizeof(T));
  return x < y ? -1 : y < x ? 1 : 0;
}

}  // namespace

int ComparePlainValues(PhysicalType type, std::string_view a, std::string_view b) {
  switch (type) {
    case PhysicalType::kBoolean:
      return CompareAs<uint8_t>(a, b);
    case PhysicalType::kInt32:
      return CompareAs<int32_t>(a, b);
    case PhysicalType::kInt64:
      return CompareAs<int64_t>(a, b);
    case PhysicalType::kFloat:
      return CompareAs<float>(a, b);
    case PhysicalType::kDouble:
      return CompareAs<double>(a, b);
    default:
      return CompareUnsignedBytes(a, b);
  }
}

void ColumnStatistics::MergeInt(int64_t min, int64_t max) {
  if (!has_minmax_) {
    imin_ = min;
    imax_ = max;
    has_minmax_ = true;
    return;
  }
  if (min < imin_) imin_ = min;
  if (max > imax_) imax_ = max;
}

void ColumnStatistics::MergeDouble(double min, double max, bool saw_nan) {
  saw_nan_ = saw_nan_ || saw_nan;
  // A slice of only NaNs reports min > max; it adds no range.
  if (!(min <= max)) return;
  if (!has_minmax_) {
    dmin_ = min;
    dmax_ = max;
    has_minmax_ = true;
    return;
  }
  if (min < dmin_) dmin_ = min;
  if (max > dmax_) dmax_ = max;
}

void ColumnStatistics::MergeString(std::string_view min, std::string_view max) {
  if (!has_minmax_) {
    smin_.assign(min);
    smax_.assign(max);
    has_minmax_ = true;
    return;
  }
  if (CompareUnsignedBytes(min, smin_) < 0) smin_.assign(min);
  if (CompareUnsignedBytes(max, smax_) > 0) smax_.assign(max);
}

Statistics ColumnStatistics::ToThrift() const {
  Statistics s;
  s.null_count = null_count_;
  if (!has_minmax_) return s;
  switch (type_) {
    case PhysicalType::kBoolean:
      s.min_value = std::string(1, static_cast<char>(imin_));
      s.max_value = std::string(1, static_cast<char>(imax_));
      break;
    case PhysicalType::kInt32:
      s.min_value = PlainBytes(static_cast<int32_t>(imin_));
      s.max_value = PlainBytes(static_cast<int32_t>(imax_));
      s.min = s.min_value;
      s.max = s.max_value;
      break;
    case PhysicalType::kInt64:
      s.min_value = PlainBytes(imin_);
      s.max_value = PlainBytes(imax_);
      s.min = s.min_value;
      s.max = s.max_value;
      break;
    case PhysicalType::kDouble: {
      if (saw_nan_) break;
      // The spec asks for -0.0 as a zero min and +0.0 as a zero max, so that
      // readers comparing either zero find it inside the range.
      double mn = dmin_ == 0 ? -0.0 : dmin_;
      double mx = dmax_ == 0 ? 0.0 : dmax_;
      s.min_value = PlainBytes(mn);
      s.max_value = PlainBytes(mx);
      s.min = s.min_value;
      s.max = s.max_value;
      break;
    }
    case PhysicalType::kByteArray:
      if (smin_.size() > kMaxStatisticsValueBytes || smax_.size() > kMaxStatisticsValueBytes) break;
      s.min_value = smin_;
      s.max_value = smax_;
      break;
    default:
      break;
  }
  return s;
}

void ColumnStatistics::Reset() {
  null_count_ = 0;
  has_minmax_ = false;
  saw_nan_ = false;
  smin_.clear();
  smax_.clear();
}

}  // namespace sluice::parquet
