// The Parquet page index as a reader sees it (parquet-format PageIndex.md):
// per column chunk an OffsetIndex (where each data page starts, its size and
// the first row-group row it holds) and, optionally, a ColumnIndex (per page:
// all-null or not, min/max, null count). Both live between the last row group
// and the footer; ColumnChunk fields 4-7 give their byte ranges.
//
// ReadOffsetIndex / ReadColumnIndex read and check one chunk's index against
// the file: an index that is truncated, out of the data's bounds, out of
// order or disagrees with the row group is kDataLoss naming the file, column
// and row group (an index is only worth anything when it can be trusted:
// page skipping jumps straight to the offsets it gives). A chunk without an
// index is std::nullopt, and readers fall back to reading pages in order.
//
// Threading: free functions; the file's ReadAt is thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sluice::parquet {

struct ParquetFile;  // parquet_file_reader.h

struct PageLoc {
  int64_t offset = 0;     // file offset of the page header
  int32_t size = 0;       // header + page bytes
  int64_t first_row = 0;  // first row of the page, within the row group
};

// Pages in chunk order; first_row starts at 0 and strictly increases.
struct OffsetIndexMeta {
  std::vector<PageLoc> pages;
  // The row after the page's last: the next page's first row, or the row
  // group's row count for the last page.
  int64_t EndRow(size_t page, int64_t group_rows) const {
    return page + 1 < pages.size() ? pages[page + 1].first_row : group_rows;
  }
  // The page holding row `row` (0 <= row < group rows).
  size_t PageOf(int64_t row) const;
};

struct ColumnIndexMeta {
  std::vector<bool> null_pages;
  std::vector<std::string> min_values, max_values;  // PLAIN bytes, column order
  int32_t boundary_order = 0;                       // 0 unordered, 1 ascending, 2 descending
  std::vector<int64_t> null_counts;                 // empty when not written
};

// Parse only (kDataLoss naming what is malformed); the Read* functions add
// the checks against the file.
Result<OffsetIndexMeta> ParseOffsetIndex(std::string_view bytes);
Result<ColumnIndexMeta> ParseColumnIndex(std::string_view bytes);

// The OffsetIndex of the chunk of `leaf` in row group `rg`, checked: pages
// lie inside the chunk's byte range in increasing, non-overlapping order,
// first rows start at 0, increase strictly and stay below the group's rows.
Result<std::optional<OffsetIndexMeta>> ReadOffsetIndex(const ParquetFile& pf, int rg, int leaf);

// The ColumnIndex of that chunk, checked to describe `pages` pages (the
// chunk's OffsetIndex). nullopt when the chunk has none.
Result<std::optional<ColumnIndexMeta>> ReadColumnIndex(const ParquetFile& pf, int rg, int leaf,
                                                       size_t pages);

// Sorted, disjoint row ranges [begin, end) within one row group.
struct RowRange {
  int64_t begin = 0;
  int64_t end = 0;
};
using RowRanges = std::vector<RowRange>;

// The rows in both `a` and `b`.
RowRanges IntersectRanges(const RowRanges& a, const RowRanges& b);
// Appends [begin, end) to sorted ranges, merging with the last one when they
// touch (ranges must be appended in increasing order).
void AppendRange(RowRanges* r, int64_t begin, int64_t end);

}  // namespace sluice::parquet
