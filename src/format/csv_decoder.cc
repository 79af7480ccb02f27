// CSV decoder: CsvReader framing plus header mapping and typed conversion.
//
// Each record is converted into a StagedRow first and appended to the batch
// only when every value parsed, so a bad record leaves no partial row. Values
// for non-string fields are trimmed of blanks before parsing (" 42" is 42);
// string values are kept exactly as written.
#include <simdjson.h>

#include <unordered_map>

#include "format/csv_reader.h"
#include "format/format.h"
#include "format/staged_row.h"

namespace sluice {

namespace {

// Cut a batch well before a string column's 4 GiB offset limit (one record can
// add up to CsvReader::kMaxRecordBytes more).
constexpr int64_t kMaxBatchStringBytes = int64_t{1} << 30;

std::string_view TrimBlanks(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return s.substr(b, e - b);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

Status ValidateCsvOptions(const CsvOptions& o, const std::string& name) {
  auto bad = [](char c) { return c == '\n' || c == '\r'; };
  if (bad(o.delimiter) || o.delimiter == '\0') {
    return Status::InvalidArgument("csv delimiter must be a printable character (file '" + name +
                                   "')");
  }
  if (bad(o.quote) || o.quote == o.delimiter) {
    return Status::InvalidArgument(
        "csv quote must differ from the delimiter and from line breaks (file '" + name + "')");
  }
  return Status::OK();
}

class CsvDecoder final : public Decoder {
 public:
  CsvDecoder(std::unique_ptr<InputStream> in, const DecoderOptions& options)
      : in_(std::move(in)),
        options_(options),
        schema_(options_.schema),
        reader_(in_.get(), options.csv.delimiter, options.csv.quote),
        row_(options.schema) {
    for (const std::string& n : options.csv.null_values) {
      if (n.empty()) {
        empty_is_null_ = true;
      } else {
        other_nulls_.push_back(n);
      }
    }
    for (int i = 0; i < schema_.num_fields(); ++i) {
      if (schema_.field(i).type.id == TypeId::kString) string_fields_.push_back(i);
    }
  }

  Result<bool> Next(RecordBatch* out, std::vector<BadRecord>* bad) override {
    if (!started_) {
      RETURN_IF_ERROR(Start());
      started_ = true;
    }
    const int64_t limit = std::max<int64_t>(options_.batch_rows, 1);
    row_.BeginBatch(schema_, std::min<int64_t>(limit, 8192), out);
    int64_t rows = 0, bad_here = 0;
    bool produced = false;
    while (!done_ && rows < limit && bad_here < limit) {
      ASSIGN_OR_RETURN(bool more, reader_.Next());
      if (!more) {
        done_ = true;
        break;
      }
      ++records_read_;
      produced = true;
      if (!DecodeRecord(bad)) {
        ++bad_here;
        continue;
      }
      row_.AppendTo(out);
      out->source_lines.push_back(reader_.line());
      ++rows;
      if (StringBytesFull(*out)) break;
    }
    out->num_rows_no_columns = rows;
    row_.EndBatch(*out);
    return produced;
  }

  int64_t records_read() const override { return records_read_; }

 private:
  Status Start() {
    RETURN_IF_ERROR(ValidateCsvOptions(options_.csv, in_->name()));
    const int nf = schema_.num_fields();
    if (!options_.csv.header) {
      column_to_field_.resize(nf);
      for (int i = 0; i < nf; ++i) column_to_field_[i] = i;
      return Status::OK();
    }
    ASSIGN_OR_RETURN(bool has_header, reader_.Next());
    if (!has_header) {
      done_ = true;  // empty file: no header, no records
      return Status::OK();
    }
    if (!reader_.error().empty()) {
      return Status::InvalidArgument("cannot read the header of '" + in_->name() + "' (line " +
                                     std::to_string(reader_.line()) +
                                     "): " + std::string(reader_.error()));
    }
    const size_t nc = reader_.num_fields();
    column_to_field_.assign(nc, -1);
    std::vector<int> field_to_column(nf, -1);
    std::unordered_map<std::string_view, int> by_name;
    for (int i = 0; i < nf; ++i) by_name.emplace(schema_.field(i).name, i);
    // Exact names first, so that "id" and "ID" can both exist in a schema.
    for (size_t c = 0; c < nc; ++c) {
      auto it = by_name.find(reader_.field(c));
      if (it == by_name.end()) continue;
      if (field_to_column[it->second] >= 0) {
        return Status::InvalidArgument("column '" + std::string(reader_.field(c)) +
                                       "' appears twice in the header of '" + in_->name() + "'");
      }
      field_to_column[it->second] = static_cast<int>(c);
      column_to_field_[c] = it->second;
    }
    for (size_t c = 0; c < nc; ++c) {
      if (column_to_field_[c] >= 0) continue;
      std::string_view name = TrimBlanks(reader_.field(c));
      for (int f = 0; f < nf; ++f) {
        if (field_to_column[f] < 0 && EqualsIgnoreCase(name, schema_.field(f).name)) {
          field_to_column[f] = static_cast<int>(c);
          column_to_field_[c] = f;
          break;
        }
      }
      if (column_to_field_[c] < 0 && !options_.ignore_unknown_fields) {
        return Status::InvalidArgument("column '" + std::string(reader_.field(c)) +
                                       "' in the header of '" + in_->name() +
                                       "' is not in the schema");
      }
    }
    for (int f = 0; f < nf; ++f) {
      if (field_to_column[f] < 0 && !schema_.field(f).nullable) {
        return Status::InvalidArgument("file '" + in_->name() + "' has no column for field '" +
                                       schema_.field(f).name + "', which is not nullable");
      }
    }
    return Status::OK();
  }

  bool IsNullText(std::string_view s) const {
    if (s.empty()) return empty_is_null_;
    for (const std::string& n : other_nulls_) {
      if (s == n) return true;
    }
    return false;
  }

  void AddBad(std::vector<BadRecord>* bad, std::string field, std::string reason) const {
    bad->push_back(
        BadRecord{reader_.line(), std::move(field), std::move(reason), CapRaw(reader_.raw())});
  }

  // Stages the current record into row_. On failure appends a BadRecord.
  bool DecodeRecord(std::vector<BadRecord>* bad) {
    if (!reader_.error().empty()) {
      AddBad(bad, "", std::string(reader_.error()));
      return false;
    }
    const size_t n = reader_.num_fields();
    if (n != column_to_field_.size()) {
      AddBad(bad, "",
             "expected " + std::to_string(column_to_field_.size()) + " fields, found " +
                 std::to_string(n));
      return false;
    }
    row_.Reset();
    for (size_t c = 0; c < n; ++c) {
      int f = column_to_field_[c];
      if (f < 0) continue;
      std::string_view text = reader_.field(c);
      const bool quoted = reader_.quoted(c);
      if (!quoted && IsNullText(text)) continue;
      const Field& field = schema_.field(f);
      if (field.type.id == TypeId::kString) {
        StagedValue& v = row_.value(f);
        v.s = text;
        v.is_null = false;
        continue;
      }
      std::string_view trimmed = TrimBlanks(text);
      if (!quoted && trimmed.empty() && empty_is_null_) continue;
      if (!row_.SetText(f, trimmed)) {
        AddBad(bad, field.name, CannotParseReason(text, field.type));
        return false;
      }
    }
    if (int f = row_.FirstNullInRequired(); f >= 0) {
      AddBad(bad, schema_.field(f).name, "null in not-null field");
      return false;
    }
    if (!string_fields_.empty() &&
        !simdjson::validate_utf8(reader_.raw().data(), reader_.raw().size())) {
      // Only strings must be valid UTF-8; other columns already parsed.
      for (int f : string_fields_) {
        const StagedValue& v = row_.value(f);
        if (!v.is_null && !simdjson::validate_utf8(v.s.data(), v.s.size())) {
          AddBad(bad, schema_.field(f).name, "invalid UTF-8");
          return false;
        }
      }
    }
    return true;
  }

  bool StringBytesFull(const RecordBatch& b) const {
    for (int f : string_fields_) {
      if (b.columns[f].chars_size() >= kMaxBatchStringBytes) return true;
    }
    return false;
  }

  std::unique_ptr<InputStream> in_;
  DecoderOptions options_;
  const Schema& schema_;
  CsvReader reader_;
  StagedRow row_;
  bool empty_is_null_ = false;
  std::vector<std::string> other_nulls_;
  std::vector<int> string_fields_;
  std::vector<int> column_to_field_;  // file column -> schema field, -1 when ignored
  bool started_ = false;
  bool done_ = false;
  int64_t records_read_ = 0;
};

}  // namespace

Result<std::unique_ptr<Decoder>> NewCsvDecoder(std::unique_ptr<InputStream> in,
                                               const DecoderOptions& options) {
  if (in == nullptr) return Status::InvalidArgument("csv decoder needs an input stream");
  RETURN_IF_ERROR(ValidateCsvOptions(options.csv, in->name()));
  return std::unique_ptr<Decoder>(std::make_unique<CsvDecoder>(std::move(in), options));
}

}  // namespace sluice
