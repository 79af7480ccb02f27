// Row-group pruning: decides from column chunk statistics whether a row group
// may hold a row inside every filter's [min, max] range.
//
// Bounds are parsed once into the column's natural sluice type and compared
// with the chunk's min/max decoded into the same domain (timestamps in
// microseconds, decimals unscaled, strings as unsigned bytes). Statistics are
// only trusted where their sort order is known to match: min_value/max_value,
// or the deprecated min/max for signed integer and floating point types. Any
// doubt (no statistics, NaN, INT96, unsigned integers) keeps the row group.
//
// MatchingRows goes one level down, to pages: from the page index of each
// filtered column (ColumnIndex min/max and null pages, OffsetIndex rows) it
// computes the row ranges of a row group that may match. Pages of different
// columns start at different rows, so each column gives its own ranges and
// the result is their intersection; a reader then reads, for every column it
// needs, only the pages overlapping those ranges.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "format/parquet/page_index.h"
#include "format/parquet/parquet_file_reader.h"
#include "format/parquet_reader.h"

namespace sluice::parquet {

class RowGroupFilter {
 public:
  static Result<RowGroupFilter> Make(const ParquetFile& pf,
                                     const std::vector<ParquetRangeFilter>& filters);
  bool MayMatch(const ParquetFile& pf, int rg) const;
  // The rows of row group `rg` that may hold a row inside every range, by
  // the page indexes of the filtered columns; a column without a
  // ColumnIndex keeps every row. Empty when no page can match. A malformed
  // page index is kDataLoss naming file, column and row group.
  Result<RowRanges> MatchingRows(const ParquetFile& pf, int rg) const;
  bool empty() const { return bounds_.empty(); }

 private:
  struct Bound {
    int leaf = 0;
    DataType type;
    bool has_min = false, has_max = false;
    __int128 imin = 0, imax = 0;  // integer-like types, decimals unscaled
    double dmin = 0, dmax = 0;
    std::string smin, smax;
  };
  // Whether statistics min/max (either may be null: unknown) put every
  // value of the leaf outside the bound.
  static bool Excludes(const Bound& b, const LeafType& leaf, const std::string* min,
                       const std::string* max);
  std::vector<Bound> bounds_;
};

}  // namespace sluice::parquet
