// Parquet input: a Decoder over a Parquet file of flat schema, and the schema
// of such a file for `sluice infer`.
//
// The decoder needs random access (the footer is at the end): it uses the
// stream's own view when there is one (local files, in-memory inputs) and
// otherwise copies the stream to memory or, when large, to an unlinked temp
// file (see MakeRandomAccess in core/io.h). It reads row group by row group
// and column chunk by column chunk, one page at a time, and cuts RecordBatches
// of at most DecoderOptions::batch_rows rows, so memory does not grow with
// the file. DecoderOptions::pool, when set, decodes the columns of a batch in
// parallel.
//
// Projection: only the columns named in DecoderOptions::schema are decoded
// (matched by name, exact first, then ignoring case). A schema column missing
// from the file is NULL when nullable, else the file fails. An empty schema
// means every column of the file with its natural type (parquet/parquet_types.h).
// Values that do not fit the declared type make their row a BadRecord (line =
// 1-based row number in the file); features sluice does not read (nested or
// repeated columns, encryption, unknown codecs or encodings) fail with
// kInvalidArgument naming the file, the column and the feature; corrupt files
// fail with kDataLoss.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/io.h"
#include "core/status.h"
#include "format/format.h"

namespace sluice {

// Keep only row groups whose statistics say they may hold a row with
// min <= column <= max (both inclusive, either may be absent). Bounds are text
// in the column's type as sluice spells values ("42", "12.50", "2024-01-31",
// "2024-01-31T10:00:00Z"). A row group without usable statistics is kept:
// pruning only skips reading, it never filters rows of the groups it reads.
struct ParquetRangeFilter {
  std::string column;
  std::optional<std::string> min;
  std::optional<std::string> max;
};

struct ParquetReadOptions {
  std::vector<ParquetRangeFilter> row_group_filters;
};

Result<std::unique_ptr<Decoder>> NewParquetDecoder(std::unique_ptr<InputStream> in,
                                                   const DecoderOptions& options,
                                                   const ParquetReadOptions& parquet = {});

// The schema of a Parquet file: every column with its natural sluice type;
// REQUIRED columns are not nullable. Fails naming the column for types sluice
// cannot hold (nested, DECIMAL above 18 digits, ...).
Result<Schema> InferParquetSchema(InputStream& in);

}  // namespace sluice
