// Text encoders: RecordBatches to CSV, NDJSON or a JSON array. CSV and NDJSON
// are the inverse of the CSV and NDJSON decoders (format.h): what they write
// reads back through those decoders as the same values, NULLs included.
//
// CSV (RFC 4180, dialect from CsvOptions):
//   - a header line with the field names when options.header is set;
//   - records end with "\n"; fields are separated by options.delimiter;
//   - a field is quoted when it contains the delimiter, the quote, CR or LF,
//     starts or ends with a space or tab, is empty, or equals one of the null
//     markers; quotes inside are doubled. Only string values can need it in the
//     default dialect, so numbers are never quoted there;
//   - NULL is the first null marker, unquoted (empty by default), and an empty
//     string is "" (a quoted field is never NULL), so the two stay apart.
//     With no null markers at all NULL cannot be told apart and is written as
//     an empty field. A one-column row holding NULL with an empty marker is
//     an empty line, which readers skip: give such files a marker ("NULL");
//   - values: bool true/false, integers, float64 as the shortest text that
//     parses back to the same double (nan, inf, -inf), decimal with exactly
//     `scale` fraction digits, date YYYY-MM-DD, timestamp
//     YYYY-MM-DDTHH:MM:SS[.ffffff]Z (UTC), as core/value_text.h formats them;
//     strings as they are (they are UTF-8; decoders check that).
//
// NDJSON: one object per line, keys in schema order, NULL as null; bool and
// numbers (int32, int64, float64, decimal with its scale: 12.50) as JSON
// literals; NaN and infinities, which JSON has no literal for, as the strings
// "nan", "inf", "-inf"; date and timestamp as strings in the CSV forms above.
// Strings are escaped per RFC 8259: \" \\ \b \f \n \r \t and \u00XX for
// other control characters; everything else, including non-ASCII, is written
// as UTF-8. Policy for invalid UTF-8 (which decoders never produce, but a
// hand-built batch may hold): each byte that does not start a valid sequence
// becomes U+FFFD, so the output is always valid JSON.
//
// JSON: the NDJSON objects as one array, `[{...},{...}]` and a line feed
// (`[]` for no rows), for clients that want one JSON document.
//
// All format a batch into one buffer (no allocation per value) and write it
// in blocks of about 1 MiB. With a pool, a batch is split into row ranges
// formatted in parallel and written in order. Encoders own the stream:
// Finish() closes (publishes) it; destroying an encoder without Finish(), or a
// failed Finish(), discards it.
#pragma once

#include <memory>

#include "core/io.h"
#include "core/types.h"
#include "format/format.h"

namespace sluice {

class ThreadPool;

// `pool` (not owned, may be null) must outlive the encoder.
Result<std::unique_ptr<Encoder>> NewCsvEncoder(std::unique_ptr<OutputStream> out,
                                               const Schema& schema, const CsvOptions& options,
                                               ThreadPool* pool = nullptr);
Result<std::unique_ptr<Encoder>> NewNdjsonEncoder(std::unique_ptr<OutputStream> out,
                                                  const Schema& schema, ThreadPool* pool = nullptr);
Result<std::unique_ptr<Encoder>> NewJsonEncoder(std::unique_ptr<OutputStream> out,
                                                const Schema& schema, ThreadPool* pool = nullptr);

}  // namespace sluice
