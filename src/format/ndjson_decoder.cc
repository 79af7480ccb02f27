// NDJSON decoder: LineReader framing plus one simdjson On-Demand parse per line.
//
// On-Demand gives the raw text of each number, so decimals are read from the
// digits as written rather than through a double. Every value is consumed
// (unknown keys included) so that malformed JSON anywhere in the line makes the
// record bad instead of slipping through a skipped region.
#include <simdjson.h>

#include <unordered_map>

#include "core/value_text.h"
#include "format/format.h"
#include "format/line_reader.h"
#include "format/staged_row.h"

namespace sluice {

namespace {

namespace od = simdjson::ondemand;

constexpr int64_t kMaxBatchStringBytes = int64_t{1} << 30;
constexpr int kMaxDepth = 1024;

std::string_view TrimJsonSpace(std::string_view s) {
  size_t b = 0, e = s.size();
  auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (b < e && ws(s[b])) ++b;
  while (e > b && ws(s[e - 1])) --e;
  return s.substr(b, e - b);
}

std::string_view JsonTypeName(od::json_type t) {
  switch (t) {
    case od::json_type::array:
      return "array";
    case od::json_type::object:
      return "object";
    case od::json_type::number:
      return "number";
    case od::json_type::string:
      return "string";
    case od::json_type::boolean:
      return "boolean";
    case od::json_type::null:
      return "null";
  }
  return "value";
}

// Consumes a value completely, checking that it is valid JSON.
simdjson::error_code ConsumeValue(od::value v, int depth) {
  if (depth > kMaxDepth) return simdjson::DEPTH_ERROR;
  od::json_type t;
  if (auto e = v.type().get(t)) return e;
  switch (t) {
    case od::json_type::object: {
      od::object o;
      if (auto e = v.get_object().get(o)) return e;
      for (auto f : o) {
        od::field field;
        if (auto e = std::move(f).get(field)) return e;
        std::string_view key;
        if (auto e = field.unescaped_key().get(key)) return e;
        if (auto e = ConsumeValue(field.value(), depth + 1)) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::array: {
      od::array a;
      if (auto e = v.get_array().get(a)) return e;
      for (auto el : a) {
        od::value child;
        if (auto e = std::move(el).get(child)) return e;
        if (auto e = ConsumeValue(child, depth + 1)) return e;
      }
      return simdjson::SUCCESS;
    }
    case od::json_type::number: {
      double d;
      return v.get_double().get(d);
    }
    case od::json_type::string: {
      std::string_view s;
      return v.get_string().get(s);
    }
    case od::json_type::boolean: {
      bool b;
      return v.get_bool().get(b);
    }
    case od::json_type::null: {
      bool is_null = false;
      if (auto e = v.is_null().get(is_null)) return e;
      return is_null ? simdjson::SUCCESS : simdjson::INCORRECT_TYPE;
    }
  }
  return simdjson::INCORRECT_TYPE;
}

class NdjsonDecoder final : public Decoder {
 public:
  NdjsonDecoder(std::unique_ptr<InputStream> in, const DecoderOptions& options)
      : in_(std::move(in)),
        options_(options),
        schema_(options_.schema),
        lines_(in_.get(), simdjson::SIMDJSON_PADDING),
        row_(options_.schema) {
    for (int i = 0; i < schema_.num_fields(); ++i) {
      by_name_.emplace(schema_.field(i).name, i);
      if (schema_.field(i).type.id == TypeId::kString) string_fields_.push_back(i);
    }
  }

  Result<bool> Next(RecordBatch* out, std::vector<BadRecord>* bad) override {
    const int64_t limit = std::max<int64_t>(options_.batch_rows, 1);
    row_.BeginBatch(schema_, std::min<int64_t>(limit, 8192), out);
    int64_t rows = 0, bad_here = 0;
    bool produced = false;
    while (!done_ && rows < limit && bad_here < limit) {
      ASSIGN_OR_RETURN(bool more, lines_.Next());
      if (!more) {
        done_ = true;
        break;
      }
      std::string_view line = lines_.line();
      if (TrimJsonSpace(line).empty()) continue;
      ++records_read_;
      produced = true;
      Status file_error;
      if (!DecodeLine(line, bad, &file_error)) {
        RETURN_IF_ERROR(file_error);
        ++bad_here;
        continue;
      }
      row_.AppendTo(out);
      out->source_lines.push_back(lines_.line_number());
      ++rows;
      if (StringBytesFull(*out)) break;
    }
    out->num_rows_no_columns = rows;
    row_.EndBatch(*out);
    return produced;
  }

  int64_t records_read() const override { return records_read_; }

 private:
  void AddBad(std::vector<BadRecord>* bad, std::string field, std::string reason) const {
    bad->push_back(BadRecord{lines_.line_number(), std::move(field), std::move(reason),
                             CapRaw(lines_.line())});
  }

  static std::string InvalidJson(simdjson::error_code e) {
    return std::string("invalid JSON: ") + simdjson::error_message(e);
  }

  // Stages one line into row_. Returns false for a bad record (appended to
  // *bad) or a file-level problem (set in *file_error).
  bool DecodeLine(std::string_view line, std::vector<BadRecord>* bad, Status* file_error) {
    row_.Reset();
    simdjson::padded_string_view input(line.data(), line.size(), lines_.readable_from_line());
    od::document doc;
    if (auto e = parser_.iterate(input).get(doc)) {
      AddBad(bad, "", InvalidJson(e));
      return false;
    }
    od::json_type root_type;
    if (auto e = doc.type().get(root_type)) {
      AddBad(bad, "", InvalidJson(e));
      return false;
    }
    if (root_type != od::json_type::object) {
      AddBad(bad, "", "expected a JSON object, found " + std::string(JsonTypeName(root_type)));
      return false;
    }
    od::object obj;
    if (auto e = doc.get_object().get(obj)) {
      AddBad(bad, "", InvalidJson(e));
      return false;
    }
    for (auto f : obj) {
      od::field field;
      std::string_view key;
      if (auto e = std::move(f).get(field)) {
        AddBad(bad, "", InvalidJson(e));
        return false;
      }
      if (auto e = field.unescaped_key().get(key)) {
        AddBad(bad, "", InvalidJson(e));
        return false;
      }
      auto it = by_name_.find(key);
      if (it == by_name_.end()) {
        if (!options_.ignore_unknown_fields) {
          *file_error =
              Status::InvalidArgument("key '" + std::string(key.substr(0, 200)) + "' on line " +
                                      std::to_string(lines_.line_number()) + " of '" + in_->name() +
                                      "' is not in the schema");
          return false;
        }
        if (auto e = ConsumeValue(field.value(), 1)) {
          AddBad(bad, "", InvalidJson(e));
          return false;
        }
        continue;
      }
      std::string reason;
      simdjson::error_code e = DecodeValue(field.value(), it->second, &reason);
      if (e != simdjson::SUCCESS) {
        AddBad(bad, "", InvalidJson(e));
        return false;
      }
      if (!reason.empty()) {
        AddBad(bad, schema_.field(it->second).name, std::move(reason));
        return false;
      }
    }
    // On-Demand stops after the object; anything but the end of input is junk.
    const char* rest = nullptr;
    if (doc.current_location().get(rest) != simdjson::OUT_OF_BOUNDS) {
      AddBad(bad, "", "invalid JSON: unexpected content after the object");
      return false;
    }
    if (int f = row_.FirstNullInRequired(); f >= 0) {
      AddBad(bad, schema_.field(f).name, "null in not-null field");
      return false;
    }
    return true;
  }

  // Converts v into field f of row_. A JSON syntax problem is returned as an
  // error code; a value that does not fit the field sets *reason.
  simdjson::error_code DecodeValue(od::value v, int f, std::string* reason) {
    const DataType& type = schema_.field(f).type;
    StagedValue& out = row_.value(f);
    od::json_type t;
    if (auto e = v.type().get(t)) return e;
    switch (t) {
      case od::json_type::null: {
        bool is_null = false;
        if (auto e = v.is_null().get(is_null)) return e;
        if (!is_null) return simdjson::INCORRECT_TYPE;
        out.is_null = true;  // a repeated key's earlier value is overridden
        return simdjson::SUCCESS;
      }
      case od::json_type::boolean: {
        bool b;
        if (auto e = v.get_bool().get(b)) return e;
        if (type.id == TypeId::kBool) {
          out.i = b ? 1 : 0;
          out.is_null = false;
        } else if (type.id == TypeId::kString) {
          out.s = b ? "true" : "false";
          out.is_null = false;
        } else {
          *reason = "expected " + type.ToString() + ", found JSON boolean";
        }
        return simdjson::SUCCESS;
      }
      case od::json_type::number:
        return DecodeNumber(v, type, &out, reason);
      case od::json_type::string: {
        std::string_view s;
        if (auto e = v.get_string().get(s)) return e;
        // The view points into the parser's string buffer, which lives until
        // the next line is parsed: long enough for AppendTo().
        if (!ParseTextAs(s, type, &out)) *reason = CannotParseReason(s, type);
        return simdjson::SUCCESS;
      }
      case od::json_type::object:
      case od::json_type::array: {
        if (type.id != TypeId::kString) {
          // Still consume it so that a syntax error is reported as such.
          if (auto e = ConsumeValue(v, 1)) return e;
          *reason = "expected " + type.ToString() + ", found JSON " + std::string(JsonTypeName(t));
          return simdjson::SUCCESS;
        }
        std::string_view raw;
        if (auto e = simdjson::to_json_string(v).get(raw)) return e;
        // to_json_string skips without validating; a DOM parse of the slice
        // validates it and gives the minified text.
        simdjson::dom::element el;
        if (auto e = dom_parser_.parse(raw.data(), raw.size(), true).get(el)) return e;
        std::string* owned = row_.owned(f);
        *owned = simdjson::minify(el);
        out.s = *owned;
        out.is_null = false;
        return simdjson::SUCCESS;
      }
    }
    return simdjson::INCORRECT_TYPE;
  }

  simdjson::error_code DecodeNumber(od::value v, const DataType& type, StagedValue* out,
                                    std::string* reason) {
    std::string_view raw = TrimJsonSpace(v.raw_json_token());
    switch (type.id) {
      case TypeId::kInt32:
      case TypeId::kInt64: {
        int64_t i;
        auto e = v.get_int64().get(i);
        if (e == simdjson::INCORRECT_TYPE || e == simdjson::NUMBER_OUT_OF_RANGE) {
          *reason = CannotParseReason(raw, type);
          return simdjson::SUCCESS;
        }
        if (e) return e;
        if (type.id == TypeId::kInt32 && (i < INT32_MIN || i > INT32_MAX)) {
          *reason = CannotParseReason(raw, type);
          return simdjson::SUCCESS;
        }
        out->i = i;
        out->is_null = false;
        return simdjson::SUCCESS;
      }
      case TypeId::kFloat64: {
        double d;
        if (auto e = v.get_double().get(d)) return e;
        out->f = d;
        out->is_null = false;
        return simdjson::SUCCESS;
      }
      default:
        break;
    }
    // Decimal and string read the digits as written; validate the syntax first.
    double d;
    if (auto e = v.get_double().get(d)) return e;
    if (type.id == TypeId::kDecimal || type.id == TypeId::kString) {
      if (!ParseTextAs(raw, type, out)) *reason = CannotParseReason(raw, type);
    } else {
      *reason = "expected " + type.ToString() + ", found JSON number";
    }
    return simdjson::SUCCESS;
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
  LineReader lines_;
  StagedRow row_;
  od::parser parser_;
  simdjson::dom::parser dom_parser_;
  std::unordered_map<std::string_view, int> by_name_;
  std::vector<int> string_fields_;
  bool done_ = false;
  int64_t records_read_ = 0;
};

}  // namespace

Result<std::unique_ptr<Decoder>> NewNdjsonDecoder(std::unique_ptr<InputStream> in,
                                                  const DecoderOptions& options) {
  if (in == nullptr) return Status::InvalidArgument("ndjson decoder needs an input stream");
  return std::unique_ptr<Decoder>(std::make_unique<NdjsonDecoder>(std::move(in), options));
}

}  // namespace sluice
