// Converts a column's physical Parquet values (RawColumn) into a sluice
// Column of the declared type.
//
// The common case (the file's natural type equals the declared one, e.g.
// INT64 -> int64, BYTE_ARRAY STRING -> string, INT32 DATE -> date) adopts the
// buffers without copying. Otherwise values go through the natural type:
// widening and unit changes are done in bulk (INT32 -> int64, FLOAT ->
// float64, TIMESTAMP(MILLIS) -> micros, INT96, big-endian decimals), and a
// declared type that differs from the natural one is converted value by value
// when that is lossless (int64 -> int32 in range, int -> decimal, decimal
// rescale, string -> number by parsing, anything -> string as text). A value
// that cannot be represented becomes a RowIssue: the decoder turns its row
// into a BadRecord, as the CSV decoder does for a field that does not parse.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/column.h"
#include "core/types.h"
#include "format/parquet/column_chunk_reader.h"
#include "format/parquet/parquet_types.h"

namespace sluice::parquet {

struct RowIssue {
  int64_t row = 0;  // index in the batch
  int field = 0;    // index in the declared schema
  std::string reason;
};

// Converts raw (consumed: its buffers may be moved out) into a column of
// `target`. Rows that cannot be represented are appended to *issues (with
// `field`) and hold NULL in the result. Strings are checked to be UTF-8.
Column ConvertColumn(RawColumn& raw, const LeafType& leaf, const DataType& target, int field,
                     std::vector<RowIssue>* issues);

// Whether a leaf can be read into `target` at all (per-value failures aside);
// false for combinations that could never yield a value, e.g. DECIMAL(30,2)
// into int64.
bool CanConvert(const LeafType& leaf, const DataType& target);

}  // namespace sluice::parquet
