// Schema inference: sample the first records and pick, per column, the
// narrowest type that holds every sampled value.
//
// Each column keeps one flag per candidate type; a value clears the flags of
// the types it does not fit, and once every flag is clear the column is a
// string and its values are no longer examined. Candidates, narrowest first:
//   bool (true/false/yes/no/t/f; not 0/1, which read as numbers)
//   int32 < int64 < decimal(p,s) (a '.' and at most 18 significant digits)
//     (a value with a leading zero, like ZIP 08123, is no number: its zeros
//     are data)
//   < float64 (exponents, nan/inf, or too many digits)
//   date < timestamp
// NULL and empty values do not vote; a column with no votes is a string.
#include <simdjson.h>

#include <functional>
#include <unordered_map>

#include "core/value_text.h"
#include "format/csv_header.h"
#include "format/csv_reader.h"
#include "format/decoders_internal.h"
#include "format/format.h"
#include "format/line_ends.h"
#include "format/line_reader.h"
#include "format/parquet_reader.h"

namespace sluice {

namespace {

namespace od = simdjson::ondemand;

// More distinct columns than this is not a table; fail instead of using
// memory in proportion to a pathological line.
constexpr size_t kMaxColumns = 100000;

bool IsBoolWord(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  char lower[5];
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    lower[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  }
  std::string_view l(lower, s.size());
  return l == "true" || l == "false" || l == "yes" || l == "no" || l == "t" || l == "f";
}

// The shape of a plain decimal literal: [sign] digits [. digits], no exponent.
struct NumberShape {
  bool plain = false;  // matches the shape above
  bool has_point = false;
  int int_digits = 0;  // significant (leading zeros dropped)
  int frac_digits = 0;
};

NumberShape ShapeOf(std::string_view s) {
  NumberShape n;
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
  size_t int_begin = i;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  size_t int_end = i;
  if (i < s.size() && s[i] == '.') {
    n.has_point = true;
    ++i;
    size_t fb = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    n.frac_digits = static_cast<int>(std::min<size_t>(i - fb, 1000));
  }
  if (i != s.size() || (int_end == int_begin && n.frac_digits == 0)) return n;
  size_t first = int_begin;
  while (first < int_end && s[first] == '0') ++first;
  n.int_digits = static_cast<int>(std::min<size_t>(int_end - first, 1000));
  n.plain = true;
  return n;
}

// "007", "-08123", "00.5": a zero followed by another digit at the start.
bool LeadingZero(std::string_view s) {
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  return i + 1 < s.size() && s[i] == '0' && s[i + 1] >= '0' && s[i + 1] <= '9';
}

class TypeVote {
 public:
  // A textual value (CSV field, JSON number token).
  void AddText(std::string_view v) {
    any_ = true;
    if (!Open()) return;
    if (bool_ && !IsBoolWord(v)) bool_ = false;
    if (int32_ || int64_ || decimal_ || float_) VoteNumber(v);
    if (date_) {
      int32_t d;
      date_ = ParseDate(v, &d);
    }
    if (ts_) {
      int64_t t;
      ts_ = ParseTimestamp(v, &t);
    }
  }
  // A JSON string: temporal text is recognised, anything else stays a string.
  void AddJsonString(std::string_view v) {
    any_ = true;
    bool_ = int32_ = int64_ = decimal_ = float_ = false;
    if (date_) {
      int32_t d;
      date_ = ParseDate(v, &d);
    }
    if (ts_) {
      int64_t t;
      ts_ = ParseTimestamp(v, &t);
    }
  }
  void AddJsonBool() {
    any_ = true;
    int32_ = int64_ = decimal_ = float_ = date_ = ts_ = false;
  }
  void AddOther() {
    any_ = true;
    bool_ = int32_ = int64_ = decimal_ = float_ = date_ = ts_ = false;
  }

  DataType Result() const {
    if (!any_) return DataType::String();
    if (bool_) return DataType::Bool();
    if (int32_) return DataType::Int32();
    if (int64_) return DataType::Int64();
    if (decimal_) return DataType::Decimal(std::max(1, max_int_ + max_scale_), max_scale_);
    if (float_) return DataType::Float64();
    if (date_) return DataType::Date();
    if (ts_) return DataType::Timestamp();
    return DataType::String();
  }

 private:
  bool Open() const { return bool_ || int32_ || int64_ || decimal_ || float_ || date_ || ts_; }

  void VoteNumber(std::string_view v) {
    if (LeadingZero(v)) {
      // A code (ZIP 08123, county 00501): its zeros are data, so no number.
      int32_ = int64_ = decimal_ = float_ = false;
      return;
    }
    NumberShape n = ShapeOf(v);
    if (n.plain && !n.has_point) {
      if (int32_) {
        int32_t x;
        int32_ = ParseInt32(v, &x);
      }
      if (int64_) {
        int64_t x;
        int64_ = ParseInt64(v, &x);
      }
    } else {
      int32_ = int64_ = false;
    }
    if (decimal_) {
      if (n.plain) {
        max_int_ = std::max(max_int_, n.int_digits);
        max_scale_ = std::max(max_scale_, n.frac_digits);
        decimal_ = max_int_ + max_scale_ <= kMaxDecimalPrecision;
      } else {
        decimal_ = false;
      }
    }
    if (float_) {
      double d;
      float_ = ParseFloat64(v, &d);
    }
  }

  bool any_ = false;
  bool bool_ = true, int32_ = true, int64_ = true, decimal_ = true, float_ = true;
  bool date_ = true, ts_ = true;
  int max_int_ = 0, max_scale_ = 0;
};

Status TooManyColumns(const std::string& file) {
  return Status::InvalidArgument("cannot infer a schema for '" + file + "': more than " +
                                 std::to_string(kMaxColumns) + " columns");
}

// Beyond the first records: a large file that can seek (plain, not
// compressed) is also sampled at kWindows places spread through it, so that a
// value that first appears late (an "N/A" in row 5 million) still votes.
// Each window's complete lines (after its first line feed, up to its last)
// go to `vote`, with simdjson padding readable after them. A window may start
// inside a quoted field; its records then parse out of step, which can only
// widen a type (a string where a number was), never narrow one.
constexpr int kWindows = 8;
constexpr size_t kWindowBytes = 256 * 1024;

Status SampleWindows(InputStream& in, int64_t sampled_up_to,
                     const std::function<Status(std::string_view)>& vote) {
  ASSIGN_OR_RETURN(std::unique_ptr<RandomAccessFile> file, in.OpenRandomAccess());
  if (file == nullptr) return Status::OK();
  const int64_t size = file->size();
  std::string buf;
  for (int k = 1; k <= kWindows; ++k) {
    int64_t at = size / (kWindows + 1) * k;
    const int64_t len = std::min<int64_t>(static_cast<int64_t>(kWindowBytes), size - at);
    if (at < sampled_up_to || len <= 0) continue;
    buf.assign(static_cast<size_t>(len) + simdjson::SIMDJSON_PADDING, '\0');
    RETURN_IF_ERROR(file->ReadAt(at, static_cast<size_t>(len), buf.data()));
    std::string_view w(buf.data(), static_cast<size_t>(len));
    const size_t first = w.find('\n');
    const size_t last = w.rfind('\n');
    if (first == std::string_view::npos || last == first) continue;
    RETURN_IF_ERROR(vote(w.substr(first + 1, last - first)));
  }
  return Status::OK();
}

Result<Schema> InferCsv(InputStream& in, const InferOptions& options) {
  const CsvOptions& csv = options.csv;
  if (csv.delimiter == '\n' || csv.delimiter == '\r' || csv.delimiter == '\0' ||
      csv.quote == csv.delimiter || csv.quote == '\n' || csv.quote == '\r') {
    return Status::InvalidArgument("invalid csv delimiter/quote for '" + in.name() + "'");
  }
  std::unique_ptr<InputStream> lines = WithLfLineEnds(&in, csv.quote);
  CsvReader reader(lines.get(), csv.delimiter, csv.quote);
  std::vector<std::string> names;
  if (csv.header) {
    ASSIGN_OR_RETURN(bool has, reader.Next());
    if (!has)
      return Status::InvalidArgument("cannot infer a schema from empty file '" + in.name() + "'");
    if (reader.num_fields() > kMaxColumns) return TooManyColumns(in.name());
    names.reserve(reader.num_fields());
    for (CsvColumnName& c : CsvColumnNames(reader)) names.push_back(std::move(c.name));
  }
  bool empty_is_null = false;
  std::vector<std::string_view> other_nulls;
  for (const std::string& n : csv.null_values) {
    if (n.empty()) {
      empty_is_null = true;
    } else {
      other_nulls.push_back(n);
    }
  }
  std::vector<TypeVote> votes(names.size());
  // One record's votes. A window's record votes only with the number of
  // fields the head found (one out of step with the quotes rarely has it; and
  // without a header, a window must not add columns no row of the head has).
  auto vote = [&](const CsvReader& r, bool in_window) -> Status {
    if (!r.error().empty()) return Status::OK();  // malformed records do not vote
    size_t n = r.num_fields();
    if (in_window && n != votes.size()) return Status::OK();
    if (!csv.header && n > votes.size()) {
      if (n > kMaxColumns) return TooManyColumns(in.name());
      votes.resize(n);
    }
    n = std::min(n, votes.size());
    for (size_t c = 0; c < n; ++c) {
      std::string_view v = r.field(c);
      if (!r.quoted(c)) {
        if (v.empty() && empty_is_null) continue;
        bool is_null = false;
        for (std::string_view nv : other_nulls) is_null = is_null || v == nv;
        if (is_null) continue;
      }
      std::string_view t = TrimBlanks(v);
      if (t.empty()) {
        // The decoder reads a blank field as NULL outside string columns only
        // when the empty string is a null value; otherwise only a string
        // column holds it.
        if (!empty_is_null) votes[c].AddOther();
        continue;
      }
      votes[c].AddText(t);
    }
    return Status::OK();
  };
  int64_t sampled = 0;
  bool whole_file = false;
  while (sampled < options.sample_rows) {
    ASSIGN_OR_RETURN(bool more, reader.Next());
    if (!more) {
      whole_file = true;
      break;
    }
    ++sampled;
    RETURN_IF_ERROR(vote(reader, false));
  }
  if (!whole_file && options.sample_windows) {
    RETURN_IF_ERROR(SampleWindows(in, in.BytesConsumed(), [&](std::string_view block) -> Status {
      ViewInput window(block, in.name());
      CsvReader r(&window, csv.delimiter, csv.quote);
      for (;;) {
        ASSIGN_OR_RETURN(bool more, r.Next());
        if (!more) return Status::OK();
        RETURN_IF_ERROR(vote(r, true));
      }
    }));
  }
  if (!csv.header) {
    if (votes.empty()) {
      return Status::InvalidArgument("cannot infer a schema from empty file '" + in.name() + "'");
    }
    for (size_t i = 0; i < votes.size(); ++i) names.push_back("column_" + std::to_string(i + 1));
  }
  Schema schema;
  for (size_t i = 0; i < names.size(); ++i) schema.AddField({names[i], votes[i].Result(), true});
  return schema;
}

Result<Schema> InferNdjson(InputStream& in, const InferOptions& options) {
  LineReader lines(&in, simdjson::SIMDJSON_PADDING);
  od::parser parser;
  std::vector<std::string> names;
  std::unordered_map<std::string, size_t> index;
  std::vector<TypeVote> votes;

  // A parsed field of the line being voted on.
  enum class Kind { kText, kString, kBool, kNull, kOther };
  struct Pending {
    std::string key;
    Kind kind;
    std::string text;
  };
  std::vector<Pending> pending;

  int64_t objects = 0;  // lines that parsed as a whole JSON object
  // One line's votes, applied only once the whole line has parsed; `readable`
  // bytes from the line's start may be read (simdjson padding).
  auto vote_line = [&](std::string_view line, size_t readable) -> Status {
    simdjson::padded_string_view input(line.data(), line.size(), readable);
    od::document doc;
    od::object obj;
    if (parser.iterate(input).get(doc) || doc.get_object().get(obj)) return Status::OK();
    pending.clear();
    bool ok = true;
    for (auto f : obj) {
      od::field field;
      std::string_view key;
      if (std::move(f).get(field) || field.unescaped_key().get(key)) {
        ok = false;
        break;
      }
      od::value v = field.value();
      od::json_type t;
      if (v.type().get(t)) {
        ok = false;
        break;
      }
      Pending p{std::string(key), Kind::kOther, {}};
      switch (t) {
        case od::json_type::null: {
          bool is_null = false;
          ok = !v.is_null().get(is_null) && is_null;
          p.kind = Kind::kNull;
          break;
        }
        case od::json_type::boolean: {
          bool b;
          ok = !v.get_bool().get(b);
          p.kind = Kind::kBool;
          break;
        }
        case od::json_type::number: {
          double d;
          p.text = std::string(TrimBlanks(v.raw_json_token()));
          while (!p.text.empty() && (p.text.back() == '\n' || p.text.back() == '\r')) {
            p.text.pop_back();
          }
          ok = !v.get_double().get(d);
          p.kind = Kind::kText;
          break;
        }
        case od::json_type::string: {
          std::string_view s;
          ok = !v.get_string().get(s);
          p.text = std::string(s);
          p.kind = Kind::kString;
          break;
        }
        case od::json_type::object:
        case od::json_type::array: {
          std::string_view raw;
          ok = !simdjson::to_json_string(v).get(raw);
          p.kind = Kind::kOther;
          break;
        }
      }
      if (!ok) break;
      pending.push_back(std::move(p));
    }
    const char* rest = nullptr;
    if (!ok || doc.current_location().get(rest) != simdjson::OUT_OF_BOUNDS) return Status::OK();
    ++objects;
    for (Pending& p : pending) {
      // An empty key cannot name a column; it is left out of the schema.
      if (p.key.empty()) continue;
      auto [it, inserted] = index.emplace(p.key, names.size());
      if (inserted) {
        if (names.size() >= kMaxColumns) return TooManyColumns(in.name());
        names.push_back(p.key);
        votes.emplace_back();
      }
      TypeVote& vote = votes[it->second];
      switch (p.kind) {
        case Kind::kText:
          vote.AddText(p.text);
          break;
        case Kind::kString:
          vote.AddJsonString(p.text);
          break;
        case Kind::kBool:
          vote.AddJsonBool();
          break;
        case Kind::kNull:
          break;
        case Kind::kOther:
          vote.AddOther();
          break;
      }
    }
    return Status::OK();
  };
  int64_t sampled = 0;
  bool whole_file = false;
  while (sampled < options.sample_rows) {
    ASSIGN_OR_RETURN(bool more, lines.Next());
    if (!more) {
      whole_file = true;
      break;
    }
    std::string_view line = lines.line();
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    ++sampled;
    RETURN_IF_ERROR(vote_line(line, lines.readable_from_line()));
  }
  if (!whole_file && options.sample_windows) {
    RETURN_IF_ERROR(SampleWindows(in, in.BytesConsumed(), [&](std::string_view block) -> Status {
      // The block is followed by padding; each line may read to its end.
      const char* end = block.data() + block.size() + simdjson::SIMDJSON_PADDING;
      size_t pos = 0;
      while (pos < block.size()) {
        size_t nl = block.find('\n', pos);
        if (nl == std::string_view::npos) nl = block.size();
        std::string_view line = block.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
        RETURN_IF_ERROR(vote_line(line, static_cast<size_t>(end - line.data())));
      }
      return Status::OK();
    }));
  }
  if (names.empty() && objects > 0) {
    return Status::InvalidArgument(
        "cannot infer a schema from '" + in.name() + "': the " + std::to_string(objects) +
        " JSON object(s) sampled have no named field (only {} or \"\" keys); a column needs a "
        "non-empty key");
  }
  if (names.empty()) {
    return Status::InvalidArgument("cannot infer a schema from '" + in.name() + "': none of the " +
                                   std::to_string(sampled) +
                                   " line(s) sampled is a JSON object (one object per line)");
  }
  Schema schema;
  for (size_t i = 0; i < names.size(); ++i) schema.AddField({names[i], votes[i].Result(), true});
  return schema;
}

}  // namespace

std::string InferredSchemaHint(int64_t sample_rows) {
  return "the schema was inferred from the first " + std::to_string(sample_rows) +
         " records (and, in a large plain file, from places spread through it); a record "
         "that does not fit it needs a wider type: widen the column (for example to string), "
         "or infer from more records with --sample-rows N";
}

Result<Schema> InferSchema(FileFormat format, InputStream& in, const InferOptions& options) {
  switch (format) {
    case FileFormat::kCsv:
      return InferCsv(in, options);
    case FileFormat::kNdjson:
      return InferNdjson(in, options);
    case FileFormat::kParquet:
      return InferParquetSchema(in);
  }
  return Status::Internal("unknown file format");
}

}  // namespace sluice
