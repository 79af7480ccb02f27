// Row-group pruning: decides from column chunk statistics whether a row group
// may hold a row inside every filter's [min, max] range.
//
// Bounds are parsed once into the column's natural sluice type and compared
// with the chunk's min/max decoded into the same domain (timestamps in
// microseconds, decimals unscaled, strings as unsigned bytes). Statistics are
// only trusted where their sort order is known to match: min_value/max_value,
// or the deprecated min/max for signed integer and floating point types. Any
// doubt (no statistics, NaN, INT96, unsigned integers) keeps the row group.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "format/parquet/parquet_file_reader.h"
#include "format/parquet_reader.h"

namespace sluice::parquet {

class RowGroupFilter {
 public:
  static Result<RowGroupFilter> Make(const ParquetFile& pf,
                                     const std::vector<ParquetRangeFilter>& filters);
  bool MayMatch(const ParquetFile& pf, int rg) const;

 private:
  struct Bound {
    int leaf = 0;
    DataType type;
    bool has_min = false, has_max = false;
    __int128 imin = 0, imax = 0;  // integer-like types, decimals unscaled
    double dmin = 0, dmax = 0;
    std::string smin, smax;
  };
  std::vector<Bound> bounds_;
};

}  // namespace sluice::parquet
