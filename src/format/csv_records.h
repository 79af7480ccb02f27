// Record conversion for the CSV decoder (csv_decoder.cc): how a file's
// columns map onto the schema (CsvPlan), and the sink that turns the records
// of a chunk into batches and bad records (CsvRecordSink), by three routes of
// decreasing speed that accept the same records and word errors identically:
//   AddBlock  a run of regular records, a column at a time, straight into the
//             column buffers;
//   FastAdd   one record in its common spelling, without staging;
//   Add       one record of already unquoted fields, parsed by the general
//             parsers (core/value_text.h); decides and words every error.
// Values for non-string fields are trimmed of blanks before parsing (" 42" is
// 42); string values are kept exactly as written. A record that fails leaves no
// partial row (the builder discards it) and becomes a BadRecord.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"
#include "format/batch_builder.h"
#include "format/chunked_decoder.h"
#include "format/format.h"

namespace sluice {

// How records map onto the schema; fixed once the header is read and then
// shared read-only by every chunk task.
struct CsvPlan {
  Schema schema;
  CsvOptions csv;
  std::string file;
  int64_t batch_rows = 64 * 1024;
  std::vector<int> column_to_field;  // file column -> schema field, -1 when ignored
  std::vector<int> absent;           // schema fields without a column: always NULL
  std::vector<int> required;         // non-nullable fields
  std::vector<int> string_fields;
  bool empty_is_null = false;
  std::vector<std::string> other_nulls;
  bool no_records = false;  // empty input: not even a header
  bool fast_path = true;    // the vectorised path first (see ChunkedOptions::fast_paths)

  // Per file column, what the fast path does with it.
  enum class Kind : uint8_t { kSkip, kString, kInt32, kInt64, kDecimal, kDate, kTimestamp, kOther };
  struct ColumnPlan {
    Kind kind = Kind::kSkip;
    int field = -1;
    int scale = 0;
    uint64_t limit = 0;  // 10^precision for decimals
  };
  std::vector<ColumnPlan> columns;
  // Schema field -> its file column, -1 when absent (from column_to_field).
  std::vector<int> field_to_column;

  // Fills `columns` and `field_to_column` from `column_to_field` and the schema.
  void PlanColumns();

  bool IsNullText(std::string_view s) const {
    if (s.empty()) return empty_is_null;
    for (const std::string& n : other_nulls) {
      if (s == n) return true;
    }
    return false;
  }
};

// A record inside a chunk: its fields end at seps[first_sep .. first_sep+fields).
struct CsvRecordSpan {
  uint32_t start;      // first byte
  uint32_t first_sep;  // index of its first separator in the chunk's index
  uint32_t raw_end;    // end of its text (before CR LF)
  uint32_t fields;
  int64_t line;  // 0-based line in the chunk
};

struct FieldText {
  std::string_view text;
  bool quoted = false;
};

// Converts records into batches of one chunk (or of the sequential decoder).
class CsvRecordSink {
 public:
  CsvRecordSink(const CsvPlan& plan, ChunkResult* out, int64_t expected_rows);

  // `line` is the record's line (relative or absolute, as the caller counts);
  // `error` the reader's complaint about the record, if any; `utf8_valid`
  // says the caller already checked the record's bytes.
  void Add(const FieldText* fields, size_t n, int64_t line, std::string_view raw,
           std::string_view error, bool utf8_valid);

  // The usual record, converted without staging: every field unquoted (or a
  // quoted string), values in their common spelling, nothing missing. Returns
  // false, having kept nothing, for anything else; the caller then takes the
  // general path (Add), which decides and words any error. Fields are slices
  // of `buf`, which must be readable 16 bytes past every field.
  bool FastAdd(const char* buf, size_t rec_start, const uint32_t* ends, size_t m, size_t raw_end,
               int64_t line);

  // Converts a run of regular records column by column, in parts of at most
  // what fits the current batch. Returns how many leading records it
  // converted; the caller takes the rest one by one (a part that meets any
  // value needing the general path keeps nothing). `buf` is padded as for
  // FastAdd.
  size_t AddBlock(const char* buf, const uint32_t* seps, const std::vector<CsvRecordSpan>& recs);

  // Hands the rows built so far to the chunk result as one batch.
  void Flush();

 private:
  void Bad(int64_t line, std::string field, std::string reason, std::string_view raw);
  template <typename T, typename Parse>
  bool FixedColumn(const char* buf, const uint32_t* seps, const CsvRecordSpan* recs, size_t nrec,
                   size_t c, int f, Parse parse);
  bool StringColumn(const char* buf, const uint32_t* seps, const CsvRecordSpan* recs, size_t nrec,
                    size_t c, int f);
  bool AddBlockPart(const char* buf, const uint32_t* seps, const CsvRecordSpan* recs, size_t nrec);
  // The inside of a quoted field, with doubled quotes collapsed. False for a
  // lone quote (which only the exact reader interprets).
  bool QuotedString(int f, const char* s, size_t n);
  std::string_view CurrentString(const FieldText* fields, size_t n, int f) const;
  bool SetParsed(int f, const DataType& type, std::string_view t);

  const CsvPlan& plan_;
  ChunkResult* out_;
  BatchBuilder builder_;
  std::vector<int64_t> lines_;
};

}  // namespace sluice
