// PostgreSQL's binary COPY format (`COPY t FROM STDIN (FORMAT binary)`) for
// sluice's types, and the PostgreSQL column type each one loads into.
//
// The stream is a header (the 11-byte signature "PGCOPY\n\377\r\n\0", a 32-bit
// flags field and a 32-bit header-extension length, both 0), then one tuple
// per row (a 16-bit field count, then per field a 32-bit byte length, -1 for
// NULL, and the value in the type's binary send format, big-endian), then a
// 16-bit -1. Values:
//   bool      bool         1 byte, 0 or 1
//   int32     int4         4 bytes
//   int64     int8         8 bytes
//   float64   float8       IEEE 754 double, 8 bytes (NaN and infinities kept)
//   decimal   numeric(p,s) 16-bit digit count, weight, sign (0x0000 or
//                          0x4000) and display scale, then base-10000 digits,
//                          most significant first, without leading or
//                          trailing zero digits
//   string    text         the UTF-8 bytes
//   date      date         32-bit days since 2000-01-01
//   timestamp timestamptz  64-bit microseconds since 2000-01-01 00:00:00 UTC
// An encoder may append the batch id as int8 (`_sluice_batch_id`, the same in
// every row) and then the row's ordinal as int8 (`_sluice_row`, 1, 2, ...
// across the stream: the pipeline's order, which an upsert keeps).
// PgCopyEncoder writes such a stream; PgCopyDecoder reads one back into rows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/column.h"
#include "core/status.h"
#include "core/types.h"

namespace sluice {

// "integer", "numeric(12,2)", "timestamp with time zone", ...: the column
// type for `type`, as PostgreSQL's format_type() prints it (so a table's
// columns compare with it directly) and as DDL accepts it.
std::string PgColumnType(const DataType& type);

class PgCopyEncoder {
 public:
  // Rows of `schema`; with `batch_id`, each row ends with it as an int8, and
  // with `row_numbers` then with its ordinal.
  explicit PgCopyEncoder(Schema schema, std::optional<int64_t> batch_id = std::nullopt,
                         bool row_numbers = false);

  // Appends the stream's header to `out`.
  void Header(std::string& out) const;
  // Appends every row of `batch` (of this encoder's schema) to `out`.
  // kInvalidArgument if the batch's types differ from the schema's.
  Status Rows(const RecordBatch& batch, std::string& out);
  // Appends the end-of-data marker to `out`.
  void Trailer(std::string& out) const;

 private:
  Schema schema_;
  std::optional<int64_t> batch_id_;
  bool row_numbers_ = false;
  int64_t next_row_ = 1;
};

// The binary numeric value of `unscaled` * 10^-scale (scale 0..18).
void AppendPgNumeric(int64_t unscaled, int scale, std::string& out);

// Reads a binary COPY stream written by PgCopyEncoder back into rows of
// `schema`: chunks in, RecordBatches of at most `max_rows` rows out. Each
// tuple must have the schema's fields, then `extra_int8` trailing int8
// fields (the batch id and, in streams staged by an older sluice for
// upsert, the row number), which are checked for type/length and skipped.
//
// Values convert back exactly as the encoder wrote them (dates and
// timestamps move from PostgreSQL's epoch to 1970-01-01; a numeric becomes the
// unscaled int64 at the field's scale, whatever its precision). What the
// encoder does not write but PostgreSQL reads the same way is read too: a
// header extension (skipped), flag bits 0-15, a bool byte other than 0 or 1
// (true), numerics with leading or trailing zero digits. The rest is
// kDataLoss, its message naming the byte offset in the stream and, inside a
// tuple, the row (1-based) and the field: a bad signature, critical flag
// bits (16-31), a field count or length that does not fit the schema, NULL
// in a field that is not nullable, a numeric that is NaN or infinite,
// malformed, or does not fit the field's scale (non-zero digits below it,
// where PostgreSQL would round, or an unscaled value outside int64), a date
// or timestamp outside sluice's range (PostgreSQL's infinities among them),
// a text value that is not UTF-8 or is longer than PostgreSQL's 1 GB, a
// stream that ends early, bytes after the end. kInvalidArgument if the
// arguments cannot describe a stream (a negative `extra_int8`, `max_rows` <
// 1, a decimal scale above 18, more than 32767 fields). The first error
// sticks: every later call returns it.
//
// Memory: the decoder keeps the stream's unconsumed tail (at least the tuple
// being read, however it was split) and at most `max_rows` decoded rows;
// chunks fed while a full batch waits for Next() stay undecoded until then.
// A batch whose string column would pass 4 GiB of bytes (the Column offset
// limit) goes out early, short of `max_rows`. Each row's 1-based tuple number
// is its batch's source_lines entry. Not thread-safe.
class PgCopyDecoder {
 public:
  PgCopyDecoder(Schema schema, int extra_int8, int64_t max_rows = 8192);

  // Appends a chunk of the stream (any split, even mid-header or mid-value),
  // and decodes what it completes while fewer than max_rows rows wait.
  Status Feed(std::string_view chunk);
  // The next full batch of rows decoded so far, or nullopt when fewer than
  // max_rows are buffered and the stream has not ended. After the
  // end-of-data marker, the remaining rows (possibly a short batch), then nullopt.
  Result<std::optional<RecordBatch>> Next();
  // Whether the end-of-data marker (16-bit -1) was read.
  bool done() const;
  // Call after the last chunk: kDataLoss if the stream ended before its
  // end-of-data marker (naming the byte offset), OK otherwise. Bytes after
  // the marker are an error too. REQUIRES: Next() returned nullopt since the
  // last Feed(); kFailedPrecondition otherwise (a full batch still waits, so
  // the rest of the stream was not read).
  Status Finish() const;

 private:
  enum class Stage { kHeader, kExtension, kTuples, kDone };

  // Decodes buffered bytes until they run out, max_rows rows wait, or the
  // end-of-data marker; records the first error in status_.
  Status Decode();
  Status DecodeSome();
  // Reads the tuple at the front of the tail as far as it is buffered
  // (field count and lengths are checked as they arrive); true once all of
  // it is there.
  Result<bool> FrameTuple();
  // Appends the framed tuple to pending_ and consumes it.
  Status DecodeTuple();
  Status DecodeValue(int field, const char* value, int32_t length, int64_t offset);
  // A field's length word, checked against the schema.
  Status CheckLength(int field, int32_t length, int64_t offset) const;
  // "binary COPY, byte offset 123, row 4, field 'price': " (field -1: none).
  std::string Where(int64_t offset, int field) const;
  std::string FieldName(int field) const;
  bool Blocked() const;

  Schema schema_;
  int extra_int8_;
  int64_t max_rows_;
  int fields_;  // per tuple: schema fields + extra_int8
  Status status_;
  Stage stage_ = Stage::kHeader;
  // The unconsumed tail is buf_[pos_..]; its first byte is at stream offset
  // consumed_.
  std::string buf_;
  size_t pos_ = 0;
  int64_t consumed_ = 0;
  int64_t extension_left_ = 0;
  // The tuple being framed: its bytes so far (from its field count up to the
  // last whole field) and the lengths of its whole fields.
  size_t frame_bytes_ = 0;
  std::vector<int32_t> lengths_;
  int64_t rows_ = 0;  // tuples decoded
  RecordBatch pending_;
  int64_t pending_rows_ = 0;
  bool cut_ = false;  // pending_ goes out before the framed tuple fits
};

// The field count of the first tuple of a binary COPY stream starting with
// `prefix` (-1 for a stream without rows), nullopt if `prefix` ends before
// it; kDataLoss if the header is not one PgCopyDecoder reads. For picking a
// decoder's `extra_int8` before reading the stream.
Result<std::optional<int>> PgCopyFirstTupleFields(std::string_view prefix);

}  // namespace sluice
