// The NDJSON line decoder, compiled once per instruction set: each
// ndjson_lines_*.cc includes this inside an anonymous namespace of its own, so
// simdjson's On-Demand API (whose implementation is chosen when compiling)
// runs with the best kernels the CPU has. Not a public header: no include
// guard; the includer provides simdjson, the plan and the chunk types.
//
// On-Demand gives the raw text of each number, so decimals are read from the
// digits as written rather than through a double. Every value is consumed
// (unknown keys included) so that malformed JSON anywhere in the line makes the
// record bad instead of slipping through a skipped region.

namespace od = simdjson::ondemand;

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

class LineDecoder {
 public:
  explicit LineDecoder(const NdjsonPlan& plan) : plan_(plan), row_(plan.schema) {}

  StagedRow& row() { return row_; }
  void set_line_number(int64_t n) { line_number_ = n; }

  static std::string InvalidJson(simdjson::error_code e) {
    return std::string("invalid JSON: ") + simdjson::error_message(e);
  }

  // Stages one line into row_. Returns false for a bad record (appended to
  // *bad) or a file-level problem (set in *fatal).
  bool DecodeLine(std::string_view line, size_t readable, std::vector<BadRecord>* bad,
                  ChunkError* fatal) {
    row_.Reset();
    line_ = line;
    simdjson::padded_string_view input(line.data(), line.size(), readable);
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
      auto it = plan_.by_name.find(key);
      if (it == plan_.by_name.end()) {
        if (!plan_.ignore_unknown_fields) {
          fatal->line = line_number_;
          fatal->before = "key '" + std::string(key.substr(0, 200)) + "' on line ";
          fatal->after = " of '" + plan_.file + "' is not in the schema";
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
        AddBad(bad, plan_.schema.field(it->second).name, std::move(reason));
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
      AddBad(bad, plan_.schema.field(f).name, "null in not-null field");
      return false;
    }
    return true;
  }

  // Converts v into field f of row_. A JSON syntax problem is returned as an
  // error code; a value that does not fit the field sets *reason.
  simdjson::error_code DecodeValue(od::value v, int f, std::string* reason) {
    const DataType& type = plan_.schema.field(f).type;
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

  void AddBad(std::vector<BadRecord>* bad, std::string field, std::string reason) const {
    bad->push_back(BadRecord{line_number_, std::move(field), std::move(reason), CapRaw(line_)});
  }

  const NdjsonPlan& plan_;
  StagedRow row_;
  od::parser parser_;
  simdjson::dom::parser dom_parser_;
  std::string_view line_;
  int64_t line_number_ = 0;
};

// The usual line, decoded straight into the batch without staging: keys
// spelled as in the schema (without escapes), each at most once, values of
// the field's own JSON type in their common spelling, nothing after the
// object. Returns false, having kept nothing, for anything else; the caller
// then decodes the line with LineDecoder, which decides and words any error.
// Keys are matched against the order of the previous line first.
class FastLineDecoder {
 public:
  explicit FastLineDecoder(const NdjsonPlan& plan)
      : plan_(plan), nfields_(plan.schema.num_fields()), seen_(nfields_, 0) {
    for (int f = 0; f < nfields_; ++f) {
      const DataType& t = plan.schema.field(f).type;
      limits_.push_back(t.id == TypeId::kDecimal ? static_cast<uint64_t>(Pow10(t.precision)) : 0);
      if (!plan.schema.field(f).nullable) required_.push_back(f);
      const std::string& name = plan.schema.field(f).name;
      plain_.push_back(name.find_first_of("\"\\") == std::string::npos ? 1 : 0);
    }
  }

  bool Decode(std::string_view line, size_t readable, BatchBuilder* b) {
    simdjson::padded_string_view input(line.data(), line.size(), readable);
    od::document doc;
    od::object obj;
    if (parser_.iterate(input).get(doc) || doc.get_object().get(obj)) return false;
    b->BeginRow();
    std::fill(seen_.begin(), seen_.end(), 0);
    size_t k = 0;
    bool ok = true;
    for (auto item : obj) {
      od::field field;
      if (std::move(item).get(field)) {
        ok = false;
        break;
      }
      const int f = FieldOf(field, k++);
      if (f < 0 || seen_[f] != 0) {
        ok = false;
        break;
      }
      seen_[f] = 1;
      if (!Value(field.value(), f, b)) {
        ok = false;
        break;
      }
    }
    const char* rest = nullptr;
    if (ok && doc.current_location().get(rest) != simdjson::OUT_OF_BOUNDS) ok = false;
    if (ok) {
      for (int f = 0; f < nfields_; ++f) {
        if (seen_[f] == 0) b->SetNull(f);
      }
      for (int f : required_) ok = ok && !b->IsNullInRow(f);
    }
    if (!ok) {
      b->DiscardRow();
      return false;
    }
    b->CommitRow();
    return true;
  }

 private:
  // The field a key names: the one at this position in the previous line if
  // the key matches it as written, else a lookup of the unescaped key; -1 for
  // an unknown key.
  int FieldOf(od::field& field, size_t k) {
    if (k < order_.size()) {
      const int f = order_[k];
      if (plain_[f] != 0 && field.key().unsafe_is_equal(plan_.schema.field(f).name)) return f;
    }
    std::string_view key;
    if (field.unescaped_key().get(key)) return -1;
    auto it = plan_.by_name.find(key);
    if (it == plan_.by_name.end()) return -1;
    if (k < order_.size()) {
      order_[k] = it->second;
    } else if (k == order_.size()) {
      order_.push_back(it->second);
    }
    return it->second;
  }

  // A JSON number in the plain form -?(0|[1-9]d*)(.d+)? as a decimal.
  static bool PlainDecimal(std::string_view raw, uint64_t limit, int scale, int64_t* v) {
    const size_t i = !raw.empty() && raw[0] == '-' ? 1 : 0;
    if (raw.size() > i + 1 && raw[i] == '0' && raw[i + 1] != '.') return false;
    return fastparse::Decimal(raw.data(), raw.size(), limit, scale, v);
  }

  bool Value(od::value v, int f, BatchBuilder* b) {
    const DataType& type = plan_.schema.field(f).type;
    bool is_null = false;
    if (v.is_null().get(is_null)) return false;
    if (is_null) {
      b->SetNull(f);
      return true;
    }
    switch (type.id) {
      case TypeId::kString: {
        std::string_view s;
        if (v.get_string().get(s)) return false;
        b->SetString(f, s);
        return true;
      }
      case TypeId::kInt64: {
        int64_t i;
        if (v.get_int64().get(i)) return false;
        b->Set<int64_t>(f, i);
        return true;
      }
      case TypeId::kInt32: {
        int64_t i;
        if (v.get_int64().get(i) || i < INT32_MIN || i > INT32_MAX) return false;
        b->Set<int32_t>(f, static_cast<int32_t>(i));
        return true;
      }
      case TypeId::kDecimal: {
        int64_t d;
        if (!PlainDecimal(TrimJsonSpace(v.raw_json_token()), limits_[f], type.scale, &d)) {
          return false;
        }
        b->Set<int64_t>(f, d);
        return true;
      }
      case TypeId::kTimestamp: {
        std::string_view s;
        int64_t micros;
        if (v.get_string().get(s) || !fastparse::Timestamp(s.data(), s.size(), &micros)) {
          return false;
        }
        b->Set<int64_t>(f, micros);
        return true;
      }
      case TypeId::kDate: {
        std::string_view s;
        int32_t days;
        if (v.get_string().get(s) || !fastparse::Date(s.data(), s.size(), &days)) return false;
        b->Set<int32_t>(f, days);
        return true;
      }
      case TypeId::kBool: {
        bool x;
        if (v.get_bool().get(x)) return false;
        b->Set<uint8_t>(f, x ? 1 : 0);
        return true;
      }
      case TypeId::kFloat64: {
        double d;
        if (v.get_double().get(d)) return false;
        b->Set<double>(f, d);
        return true;
      }
    }
    return false;
  }

  const NdjsonPlan& plan_;
  const int nfields_;
  std::vector<uint8_t> seen_;
  std::vector<uint64_t> limits_;  // 10^precision of decimal fields
  std::vector<int> required_;
  std::vector<uint8_t> plain_;  // names without quotes or backslashes
  std::vector<int> order_;      // field of the k-th key of the previous line
  od::parser parser_;
};

// Decodes every line of a chunk (lines are numbered from 0 within it).
ChunkResult ParseLines(const NdjsonPlan& plan, const Chunk& chunk) {
  ChunkResult r;
  LineDecoder dec(plan);
  FastLineDecoder fast(plan);
  BatchBuilder builder(plan.schema);
  builder.Begin(std::min<int64_t>(plan.batch_rows, static_cast<int64_t>(chunk.size / 64) + 16));
  std::vector<int64_t> lines;
  auto flush = [&] {
    if (builder.rows() == 0) return;
    RecordBatch b;
    builder.Finish(&b);
    b.source_lines = std::move(lines);
    lines.clear();
    r.batches.push_back(std::move(b));
  };
  const char* p = chunk.bytes.data();
  const char* const end = p + chunk.size;
  const char* const readable_end = end + kChunkPadding;
  int64_t line = 0;
  for (; p < end; ++line) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* le = nl != nullptr ? nl : end;
    std::string_view text(p, static_cast<size_t>(le - p));
    p = le + 1;
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (TrimJsonSpace(text).empty()) continue;
    ++r.records;
    if (plan.fast_path &&
        fast.Decode(text, static_cast<size_t>(readable_end - text.data()), &builder)) {
      lines.push_back(line);
      if (builder.rows() >= plan.batch_rows) flush();
      continue;
    }
    dec.set_line_number(line);
    ChunkError fatal;
    if (!dec.DecodeLine(text, static_cast<size_t>(readable_end - text.data()), &r.bad, &fatal)) {
      if (fatal.line >= 0) {
        r.error = std::move(fatal);
        return r;
      }
      continue;
    }
    dec.row().AppendTo(&builder);
    lines.push_back(line);
    if (builder.rows() >= plan.batch_rows) flush();
  }
  flush();
  r.lines = line;
  return r;
}
