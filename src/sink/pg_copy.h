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
#pragma once

#include <cstdint>
#include <optional>
#include <string>

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

}  // namespace sluice
