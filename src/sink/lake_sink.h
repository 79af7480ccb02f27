// Lake table sink (kind "table"): writes a batch's rows as Parquet files of a
// Hive-partitioned lake table.
//
//   outputs:
//     - table: orders_clean          # required, [a-z0-9_]+
//       partition_by: [day, currency] # optional; columns of the output schema, not float64
//       compression: zstd             # zstd (default) | snappy | gzip | none
//       compression_level: 3          # optional: zstd 1..22 (negative: faster), gzip 1..9
//       row_group_rows: 122880        # optional, rows per Parquet row group
//       page_bytes: 1048576           # optional, uncompressed bytes per data page
//       page_rows: 20000              # optional, rows per data page at most (1..1048576)
//       dictionary: true              # optional, dictionary-encode where it pays
//       target_file_rows: 10000000    # optional, a part file is rolled after this many rows
//
// Layout. Files are written under the attempt's staging prefix
//   staging/<batch_id>/a<attempt>/<table>/<partition>/part-<n>.parquet
// and published by the catalog commit to
//   lake/<table>/<partition>/part-b<batch_id>-a<attempt>-<n>.parquet
// where <n> (5 digits, zero-padded) counts the files this sink opened, in
// order. The final keys are unique per attempt, so a replay of a committed
// batch (a new attempt) never names a file that readers of an older snapshot
// may still be reading, and publication never has a reason to replace a file
// (it refuses to). Each file's SHA-256 is computed while it is written and
// recorded by the commit (DataFile::sha256). <partition> is "col=value/..." (see
// partition.h) and is absent for an unpartitioned table. Partition columns are
// also kept inside the data files, so a reader needs no path parsing.
//
// One Parquet encoder stays open per partition; at most max_open_files at once
// (the least recently written one is finished when a new one is needed; later
// rows of its partition go to a new part file). A part file is also rolled
// after target_file_rows rows or about target_file_bytes bytes. Every file
// carries key/value metadata sluice.schema (Schema::ToJson), sluice.batch_id,
// sluice.pipeline and sluice.pipeline_version.
//
// Load is a no-op: the catalog commit makes the files visible. Discard deletes
// staging/<batch_id>/a<attempt>/<table>/.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "format/format.h"
#include "sink/sink.h"

namespace sluice {

struct LakeSinkOptions {
  std::string table;                      // lake table name, [a-z0-9_]+
  std::vector<std::string> partition_by;  // Hive partition columns, outermost first
  Compression compression = Compression::kZstd;
  // Parquet writer settings; the defaults are ParquetWriterOptions'.
  int compression_level = ParquetWriterOptions{}.compression_level;
  int64_t row_group_rows = ParquetWriterOptions{}.row_group_rows;  // rows per row group
  int64_t page_bytes = ParquetWriterOptions{}.page_bytes;          // bytes per data page
  int64_t page_rows = ParquetWriterOptions{}.page_rows;            // rows per data page at most
  bool dictionary = ParquetWriterOptions{}.dictionary;             // RLE_DICTIONARY where it pays
  int64_t target_file_rows = 10'000'000;    // roll a part file after this many rows
  int64_t target_file_bytes = 512LL << 20;  // ... or once it holds about this many bytes
  int max_open_files = 64;                  // open encoders (partitions) at once
  std::string where;                        // spec location ("file:line") for errors

  Status Validate() const;
  // The Parquet writer settings these options make.
  ParquetWriterOptions WriterOptions() const;
};

// Parses the args of a `table` output. Unknown keys and bad values are
// kInvalidArgument naming `where` and the key.
Result<LakeSinkOptions> ParseLakeSinkOptions(const nlohmann::json& args, const std::string& where);

std::unique_ptr<Sink> NewLakeSink(LakeSinkOptions options);

}  // namespace sluice
