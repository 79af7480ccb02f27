// Decoders and encoders: turning bytes into RecordBatches and back.
//
// Framing (splitting bytes into records) is kept apart from decoding (record ->
// typed values). A Decoder pulls from an InputStream that is already
// decompressed (see compression.h) and fills RecordBatches of the declared
// schema; values that do not fit the schema make the record a BadRecord. An
// Encoder writes RecordBatches to an OutputStream in one file format.
//
// Threading: a Decoder or Encoder instance is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/bad_record.h"
#include "core/column.h"
#include "core/io.h"
#include "core/status.h"
#include "core/types.h"

namespace sluice {

class ThreadPool;

enum class FileFormat { kCsv, kNdjson, kParquet };
std::string_view FileFormatName(FileFormat f);
Result<FileFormat> ParseFileFormat(std::string_view name);  // "csv", "ndjson"/"jsonl", "parquet"
// Guesses the format from a file name, ignoring .gz/.zst/.zstd suffixes.
Result<FileFormat> FileFormatFromName(std::string_view path);

struct CsvOptions {
  char delimiter = ',';
  char quote = '"';
  bool header = true;
  // An unquoted field equal to one of these is NULL. A quoted field is NULL
  // only when it is blank, outside a string column, and "" is in this list
  // (a string column keeps "" as the empty string).
  std::vector<std::string> null_values = {""};
};

struct DecoderOptions {
  Schema schema;  // the declared schema; columns are matched by name
  CsvOptions csv;
  int64_t batch_rows = 64 * 1024;  // rows per RecordBatch (a batch may be cut earlier)
  // When true (CSV with header / NDJSON), fields of the file that are not in
  // the schema are ignored; when false they make the file fail.
  bool ignore_unknown_fields = true;
  // When set, large inputs are split into chunks at record boundaries and the
  // chunks are decoded on this pool; Next() still returns rows in input order.
  // Not owned; must outlive the decoder.
  ThreadPool* pool = nullptr;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Decodes up to batch_rows records into *out (reset to an empty batch of the
  // schema first; out->source_lines is filled). Records that fail are appended
  // to *bad instead. Returns false when the input is exhausted and nothing was
  // produced. A non-OK status is a file-level problem (I/O error, unreadable
  // header, corrupt compression) and names the file.
  virtual Result<bool> Next(RecordBatch* out, std::vector<BadRecord>* bad) = 0;
  // Records seen so far, good and bad.
  virtual int64_t records_read() const = 0;
};

Result<std::unique_ptr<Decoder>> NewCsvDecoder(std::unique_ptr<InputStream> in,
                                               const DecoderOptions& options);
Result<std::unique_ptr<Decoder>> NewNdjsonDecoder(std::unique_ptr<InputStream> in,
                                                  const DecoderOptions& options);
// Dispatches on format (Parquet: NewParquetDecoder in parquet_reader.h).
Result<std::unique_ptr<Decoder>> NewDecoder(FileFormat format, std::unique_ptr<InputStream> in,
                                            const DecoderOptions& options);

struct InferOptions {
  // The first records sampled. When the file is longer and can seek (not
  // compressed), 8 windows of 256 KiB spread through it are sampled too.
  int64_t sample_rows = 20000;
  bool sample_windows = true;
  CsvOptions csv;
};
// What to do when a record does not fit a schema inferred from a sample (for
// the messages of `convert` and `ingest --table`).
std::string InferredSchemaHint(int64_t sample_rows);
// Samples the start of the stream and returns the narrowest schema that holds
// every sampled value: bool < int32 < int64 < decimal < float64 < string for
// numbers; date / timestamp for temporal text; all-empty columns become string.
// Fields are nullable unless the caller tightens them.
Result<Schema> InferSchema(FileFormat format, InputStream& in, const InferOptions& options);

enum class Compression { kUncompressed, kSnappy, kGzip, kZstd };
Result<Compression> ParseCompression(std::string_view name);  // none|snappy|gzip|zstd

struct ParquetWriterOptions {
  Compression compression = Compression::kZstd;
  // zstd: its whole range (1..22, negative = faster); gzip: 1..9; else ignored.
  int compression_level = 3;
  // Rows per row group (DuckDB's default). Bigger groups compress a little
  // better but every buffered group costs memory until it is written.
  int64_t row_group_rows = 122880;
  // A row group is also cut once its column chunks hold about this many
  // uncompressed bytes, which bounds memory for very wide rows.
  int64_t row_group_bytes = int64_t{64} << 20;
  // Data pages are cut at about this many uncompressed value bytes, or after
  // page_rows rows, whichever comes first. The row limit (parquet-mr's
  // default, 20,000) keeps pages of narrow columns small enough for readers
  // to skip by the page index: 1 MiB of int64 would be 131,072 rows, a
  // whole row group. 1 .. 2^20.
  int64_t page_bytes = 1024 * 1024;
  int64_t page_rows = 20000;
  // Write the page index (per column chunk an OffsetIndex, and a ColumnIndex
  // where the chunk has min/max statistics) between the row groups and the
  // footer, so readers can seek to a row and prune pages by min/max.
  bool page_index = true;
  // Dictionary-encode column chunks (RLE_DICTIONARY) where it pays; see
  // docs/architecture.md for the fallback rule. Booleans are always PLAIN.
  bool dictionary = true;
  // A chunk's dictionary (its PLAIN page) grows to at most this many bytes;
  // the rest of the chunk is then written PLAIN. 1 KiB .. 1 GiB.
  int64_t dictionary_page_bytes = 1024 * 1024;
  // Write DATA_PAGE_V2 pages (levels uncompressed, outside the compressed
  // values) instead of v1 pages. v1 is read by every Parquet reader.
  bool data_page_v2 = false;
  std::vector<std::pair<std::string, std::string>> key_value_metadata;
  // When set, column chunks of a row group are encoded and compressed on this
  // pool; the file is still written in order. Not owned; must outlive the encoder.
  ThreadPool* pool = nullptr;
};

class Encoder {
 public:
  virtual ~Encoder() = default;
  // Appends the rows of `batch` (whose schema must equal the encoder's).
  virtual Status Write(const RecordBatch& batch) = 0;
  // Writes any footer and closes the stream (publishing the file).
  virtual Status Finish() = 0;
  virtual int64_t rows_written() const = 0;
  // Bytes written to the stream so far (the final file size after Finish).
  virtual int64_t bytes_written() const = 0;
};

Result<std::unique_ptr<Encoder>> NewParquetEncoder(std::unique_ptr<OutputStream> out,
                                                   const Schema& schema,
                                                   const ParquetWriterOptions& options);

}  // namespace sluice
