// TableReader: the rows of one committed snapshot of a lake table, projected,
// filtered and paged: the engine half of `GET /v1/tables/{table}/rows`
// (docs/architecture.md 4.4). It knows nothing about HTTP.
//
//   OpenTableReader (validate + plan) -> Next(batch)... -> next_cursor()
//   WriteTableRows(reader, "json" | "ndjson" | "csv" | "parquet", out)
//
// A reader reads exactly the data files of one snapshot (Catalog::ListFiles):
// the one a request names, the one its cursor was made in, or else the
// table's current one when the reader is opened. Commits that happen while it
// reads are invisible to it, and so are batches still being written. Files
// are read in the catalog's order (the order they were added, which a replay
// that retires a file does not change), row groups in file order, rows in
// row-group order: the order a cursor counts in.
//
// `where` is an expression of the pipeline language (expr/, section 1.4):
// parsed and bound against the table's schema, never spliced into anything.
// Its top-level AND conjuncts of the form `column op constant` (=, <, <=, >,
// >=, BETWEEN, IN) prune: a file whose partition values (from its
// Hive-style partition path) cannot match is not opened, a row group whose
// Parquet statistics cannot match is not read, and in a file with a page
// index neither is a page whose min/max cannot match (in any column: the
// pages' rows are left out). A cursor's row is reached through the page
// index too, so only the pages holding rows to return are read. The whole `where` is then
// evaluated on every row read; a row where it cannot be evaluated (division
// by zero, a CAST that does not fit) does not match (counted in
// TableReadStats::where_errors).
//
// Memory: per projected column one page window and page (see 1.1) plus one
// decoded batch of at most TableReaderOptions::batch_rows rows, whatever the
// table's size; nothing grows with the result.
//
// Threading: a reader is used by one thread at a time. The catalog and store
// must outlive it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/catalog.h"
#include "core/column.h"
#include "core/io.h"
#include "core/status.h"
#include "core/types.h"
#include "store/object_store.h"

namespace sluice {

class ThreadPool;

struct TableReadRequest {
  std::string table;
  // Columns to return, in this order (names as in the table, exact first,
  // then a unique case-insensitive match); empty = every column in table order.
  std::vector<std::string> columns;
  // A boolean expression over the table's columns; empty = every row.
  std::string where;
  // The snapshot to read; 0 = the cursor's snapshot when there is a cursor,
  // else the table's current snapshot at open time.
  int64_t snapshot = 0;
  // Rows to return at most; -1 = no limit; 0 = none (and no cursor: read
  // nothing, e.g. for the schema).
  int64_t limit = -1;
  // Opaque, from TableReader::next_cursor() of the previous page of the same
  // query (table, columns and where); empty = from the first row.
  std::string cursor;
};

struct TableReaderOptions {
  // Rows decoded (and handed out) per batch at most. A limited read starts
  // with small batches (about `limit` rows) and doubles them, so a small
  // page does not decode a large batch.
  int64_t batch_rows = 64 * 1024;
  // When set, the projected columns of a batch are decoded in parallel on
  // it. Not owned; must outlive the reader.
  ThreadPool* pool = nullptr;
};

// What a read did so far (cumulative; final once Next returned false).
struct TableReadStats {
  int64_t files = 0;               // files in the snapshot
  int64_t files_read = 0;          // opened (footer read)
  int64_t files_skipped = 0;       // not opened: partition values, or a missing filter column
  int64_t row_groups_read = 0;     // row groups whose column chunks were read
  int64_t row_groups_skipped = 0;  // pruned by their statistics or their page index
  int64_t rows_scanned = 0;        // rows decoded into batches (and tested against where)
  int64_t pages_read = 0;          // data pages read, decompressed and decoded (any column)
  int64_t pages_skipped = 0;       // data pages passed over by the page index, never read
  int64_t rows_returned = 0;       // rows handed out by Next
  int64_t where_errors = 0;        // rows where `where` could not be evaluated
};

class TableReader {
 public:
  virtual ~TableReader() = default;

  // The schema of every batch Next hands out: the requested columns with
  // the table's current types. An old snapshot is read in that schema too: a
  // column added since reads as NULL, a widened one as its wider type.
  virtual const Schema& schema() const = 0;
  virtual const std::string& table() const = 0;
  // The snapshot being read; 0 when the table has none yet (no rows).
  virtual int64_t snapshot() const = 0;

  // The next rows: *out is reset to a batch of schema() with at least one
  // row, and true is returned; false (and an empty batch) once the rows are
  // exhausted or the limit is reached. Errors: kDataLoss for a file that is
  // missing, corrupt or disagrees with the catalog's schema (naming it);
  // kUnavailable/kIOError from the store (retryable). After an error the
  // reader must not be used again.
  virtual Result<bool> Next(RecordBatch* out) = 0;

  // After Next returned false: the cursor of the next page when the limit
  // stopped the read with matching rows left, else empty. Reaching the limit
  // reads on to the next matching row (so there is never an empty last
  // page); the cursor points at that row.
  virtual const std::string& next_cursor() const = 0;

  virtual const TableReadStats& stats() const = 0;
};

// Validates the request against the catalog and plans the read; nothing is
// read from the store yet. Errors (messages name what is wrong):
//   kNotFound         the table does not exist; the snapshot is not one of
//                     the table's
//   kInvalidArgument  an unknown or repeated column; `where` does not parse or
//                     bind (the message is "where:LINE:COL: ..." with the text
//                     and a caret) or is not boolean; a limit below -1; a
//                     cursor that is malformed or altered, or made for another
//                     table, snapshot or query (columns, where)
Result<std::unique_ptr<TableReader>> OpenTableReader(Catalog& catalog, ObjectStore& store,
                                                     const TableReadRequest& request,
                                                     const TableReaderOptions& options = {});

// Response formats of WriteTableRows.
enum class RowsFormat { kJson, kNdjson, kCsv, kParquet };
// "json" | "ndjson" | "csv" | "parquet"; kInvalidArgument naming the choices.
Result<RowsFormat> ParseRowsFormat(std::string_view name);
// The HTTP Content-Type of a format ("application/json", ...).
std::string_view RowsFormatContentType(RowsFormat format);

// Streams every row `reader` hands out to `out` in `format` (ParseRowsFormat):
//   json     [{"col":value,...},...] with NDJSON's value forms
//   ndjson   one object per line
//   csv      a header line, then one record per row (format/text_encoder.h)
//   parquet  one file (snappy), row groups of at most 122,880 rows
// Writes as rows arrive: memory is the reader's plus the encoder's block
// (1 MiB of text; one row group for Parquet, about three with a pool).
// `out` is borrowed and not closed (the caller ends the response); after an
// error it holds a prefix of the output. `pool` (optional, not owned)
// formats text and encodes Parquet row groups in parallel.
Status WriteTableRows(TableReader& reader, const std::string& format, OutputStream& out,
                      ThreadPool* pool = nullptr);

}  // namespace sluice
