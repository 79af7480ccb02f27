// Hive-style partition paths for lake tables.
//
// A row's partition is "col1=v1/col2=v2" in partition_by order. Values are
// rendered as text (dates YYYY-MM-DD, timestamps ISO-8601 UTC with Z, decimals
// canonical, bools true/false), NULL becomes __HIVE_DEFAULT_PARTITION__, and
// characters that are unsafe in a path segment are written %XX (upper-case hex),
// as Hive and Spark do, so that readers recover the original value. Column
// names are escaped the same way. float64 columns cannot partition a table
// (rendering is not exact and equal-looking values would split).
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/column.h"
#include "core/status.h"
#include "core/types.h"

namespace sluice {

inline constexpr std::string_view kHiveNullPartition = "__HIVE_DEFAULT_PARTITION__";

// Escapes '/', '=', '%', ':', control bytes and the other characters Hive
// escapes as %XX. Non-ASCII UTF-8 bytes are kept as they are.
std::string EscapePartitionValue(std::string_view value);
// Inverse of EscapePartitionValue (malformed %-sequences are kept literally).
std::string UnescapePartitionValue(std::string_view text);

// The text of row `row` of `column` as it appears after "col=" (unescaped);
// kHiveNullPartition for NULL.
std::string PartitionValueText(const Column& column, int64_t row);

// Indexes of the partition columns in `schema`, in order. kInvalidArgument if a
// column is missing, repeated or of type float64.
Result<std::vector<int>> ResolvePartitionColumns(const Schema& schema,
                                                 const std::vector<std::string>& partition_by);

// Rows of one partition of a batch.
struct PartitionGroup {
  std::string path;            // "day=2024-01-01/currency=EUR" (escaped)
  std::vector<uint32_t> rows;  // row indexes, ascending
};

// Splits `batch` by the values of the columns `cols` (from
// ResolvePartitionColumns). Groups come in order of first appearance. With no
// partition columns, all rows form one group with an empty path.
std::vector<PartitionGroup> SplitByPartition(const RecordBatch& batch,
                                             const std::vector<int>& cols);

}  // namespace sluice
