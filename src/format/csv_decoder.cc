// CSV decoder: chunked, parallel decoding with a vectorised fast path and the
// exact scalar reader (CsvReader) as its reference.
//
// Per chunk, the fast path indexes structural characters with SIMD
// (csv_index.h), slices records and fields from the index and converts each
// field straight into column buffers (BatchBuilder). Anything the fast path
// does not interpret exactly like CsvReader (a quote inside an unquoted field,
// junk after a closing quote, a lone quote inside a quoted field, a quote left
// open) makes it hand the whole chunk to CsvReader, so both paths accept and
// reject exactly the same records with the same reasons.
//
// Values for non-string fields are trimmed of blanks before parsing (" 42" is
// 42); string values are kept exactly as written. A record that fails leaves no
// partial row (the builder discards it) and becomes a BadRecord.
#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/value_text.h"
#include "format/batch_builder.h"
#include "format/chunked_decoder.h"
#include "format/csv_index.h"
#include "format/csv_reader.h"
#include "format/decoders_internal.h"
#include "format/fast_parse.h"
#include "format/format.h"
#include "format/staged_row.h"

namespace sluice {

namespace {

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

// An InputStream over bytes owned by someone else.
class ViewInput final : public InputStream {
 public:
  ViewInput(std::string_view data, const std::string& name) : data_(data), name_(name) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min(n, data_.size() - pos_);
    if (k > 0) std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  const std::string& name() const override { return name_; }
  int64_t SizeHint() const override { return static_cast<int64_t>(data_.size()); }
  int64_t BytesConsumed() const override { return static_cast<int64_t>(pos_); }

 private:
  std::string_view data_;
  const std::string& name_;
  size_t pos_ = 0;
};

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

  // Per file column, what the fast path does with it.
  enum class Kind : uint8_t { kSkip, kString, kInt32, kInt64, kDecimal, kDate, kTimestamp, kOther };
  struct ColumnPlan {
    Kind kind = Kind::kSkip;
    int field = -1;
    int scale = 0;
    uint64_t limit = 0;  // 10^precision for decimals
  };
  std::vector<ColumnPlan> columns;

  void PlanColumns() {
    columns.assign(column_to_field.size(), ColumnPlan());
    for (size_t c = 0; c < column_to_field.size(); ++c) {
      ColumnPlan& cp = columns[c];
      cp.field = column_to_field[c];
      if (cp.field < 0) continue;
      const DataType& t = schema.field(cp.field).type;
      switch (t.id) {
        case TypeId::kString:
          cp.kind = Kind::kString;
          break;
        case TypeId::kInt32:
          cp.kind = Kind::kInt32;
          break;
        case TypeId::kInt64:
          cp.kind = Kind::kInt64;
          break;
        case TypeId::kDecimal:
          cp.kind = Kind::kDecimal;
          cp.scale = t.scale;
          cp.limit = static_cast<uint64_t>(Pow10(t.precision));
          break;
        case TypeId::kDate:
          cp.kind = Kind::kDate;
          break;
        case TypeId::kTimestamp:
          cp.kind = Kind::kTimestamp;
          break;
        default:
          cp.kind = Kind::kOther;
      }
    }
  }

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
class RecordSink {
 public:
  RecordSink(const CsvPlan& plan, ChunkResult* out, int64_t expected_rows)
      : plan_(plan), out_(out), builder_(plan.schema) {
    builder_.Begin(std::min(plan.batch_rows, std::max<int64_t>(expected_rows, 256)));
  }

  // `line` is the record's line (relative or absolute, as the caller counts).
  void Add(const FieldText* fields, size_t n, int64_t line, std::string_view raw,
           std::string_view error, bool utf8_valid) {
    ++out_->records;
    if (!error.empty()) return Bad(line, "", std::string(error), raw);
    if (n != plan_.column_to_field.size()) {
      return Bad(line, "",
                 "expected " + std::to_string(plan_.column_to_field.size()) + " fields, found " +
                     std::to_string(n),
                 raw);
    }
    builder_.BeginRow();
    for (size_t c = 0; c < n; ++c) {
      const int f = plan_.column_to_field[c];
      if (f < 0) continue;
      const FieldText& ft = fields[c];
      if (!ft.quoted && plan_.IsNullText(ft.text)) {
        builder_.SetNull(f);
        continue;
      }
      const DataType& type = plan_.schema.field(f).type;
      if (type.id == TypeId::kString) {
        builder_.SetString(f, ft.text);
        continue;
      }
      std::string_view trimmed = TrimBlanks(ft.text);
      if (!ft.quoted && trimmed.empty() && plan_.empty_is_null) {
        builder_.SetNull(f);
        continue;
      }
      if (!SetParsed(f, type, trimmed)) {
        builder_.DiscardRow();
        return Bad(line, plan_.schema.field(f).name, CannotParseReason(ft.text, type), raw);
      }
    }
    for (int f : plan_.absent) builder_.SetNull(f);
    for (int f : plan_.required) {
      if (builder_.IsNullInRow(f)) {
        builder_.DiscardRow();
        return Bad(line, plan_.schema.field(f).name, "null in not-null field", raw);
      }
    }
    if (!utf8_valid && !plan_.string_fields.empty() &&
        !simdjson::validate_utf8(raw.data(), raw.size())) {
      // Only strings must be valid UTF-8; other columns already parsed.
      for (int f : plan_.string_fields) {
        if (builder_.IsNullInRow(f)) continue;
        std::string_view s = CurrentString(fields, n, f);
        if (!simdjson::validate_utf8(s.data(), s.size())) {
          builder_.DiscardRow();
          return Bad(line, plan_.schema.field(f).name, "invalid UTF-8", raw);
        }
      }
    }
    builder_.CommitRow();
    lines_.push_back(line);
    if (builder_.rows() >= plan_.batch_rows) Flush();
  }

  // The usual record, converted without staging: every field unquoted (or a
  // quoted string), values in their common spelling, nothing missing. Returns
  // false, having kept nothing, for anything else; the caller then takes the
  // general path (Add), which decides and words any error. Fields are slices
  // of `buf`, which must be readable 16 bytes past every field.
  bool FastAdd(const char* buf, size_t rec_start, const uint32_t* ends, size_t m, size_t raw_end,
               int64_t line) {
    using Kind = CsvPlan::Kind;
    const CsvPlan& p = plan_;
    if (m != p.columns.size()) return false;
    const char q = p.csv.quote;
    builder_.BeginRow();
    size_t fs = rec_start;
    bool ok = true;
    for (size_t c = 0; c < m && ok; ++c) {
      const size_t fe = c + 1 == m ? raw_end : ends[c];
      const CsvPlan::ColumnPlan& cp = p.columns[c];
      const char* f = buf + fs;
      const size_t n = fe - fs;
      fs = fe + 1;
      if (cp.kind == Kind::kSkip) continue;
      if (n == 0) {
        if (p.empty_is_null) {
          builder_.SetNull(cp.field);
        } else if (cp.kind == Kind::kString) {
          builder_.SetStringPadded(cp.field, f, 0);
        } else {
          ok = false;
        }
        continue;
      }
      if (*f == q && q != '\0') {
        ok = cp.kind == Kind::kString && n >= 2 && f[n - 1] == q &&
             QuotedString(cp.field, f + 1, n - 2);
        continue;
      }
      if (!p.other_nulls.empty() && p.IsNullText(std::string_view(f, n))) {
        builder_.SetNull(cp.field);
        continue;
      }
      switch (cp.kind) {
        case Kind::kString:
          builder_.SetStringPadded(cp.field, f, n);
          break;
        case Kind::kInt64: {
          int64_t v = 0;
          ok = fastparse::Int64(f, n, &v);
          builder_.Set<int64_t>(cp.field, v);
          break;
        }
        case Kind::kInt32: {
          int32_t v = 0;
          ok = fastparse::Int32(f, n, &v);
          builder_.Set<int32_t>(cp.field, v);
          break;
        }
        case Kind::kDecimal: {
          int64_t v = 0;
          ok = fastparse::Decimal(f, n, cp.limit, cp.scale, &v);
          builder_.Set<int64_t>(cp.field, v);
          break;
        }
        case Kind::kDate: {
          int32_t v = 0;
          ok = fastparse::Date(f, n, &v);
          builder_.Set<int32_t>(cp.field, v);
          break;
        }
        case Kind::kTimestamp: {
          int64_t v = 0;
          ok = fastparse::Timestamp(f, n, &v);
          builder_.Set<int64_t>(cp.field, v);
          break;
        }
        default:
          ok = false;
      }
    }
    if (ok) {
      for (int f : p.absent) builder_.SetNull(f);
      for (int f : p.required) ok = ok && !builder_.IsNullInRow(f);
    }
    if (!ok) {
      builder_.DiscardRow();
      return false;
    }
    ++out_->records;
    builder_.CommitRow();
    lines_.push_back(line);
    if (builder_.rows() >= p.batch_rows) Flush();
    return true;
  }

  // Converts a run of regular records column by column, in parts of at most
  // what fits the current batch. Returns how many leading records it
  // converted; the caller takes the rest one by one (a part that meets any
  // value needing the general path keeps nothing).
  size_t AddBlock(const char* buf, const uint32_t* seps, const std::vector<CsvRecordSpan>& recs) {
    size_t done = 0;
    while (done < recs.size()) {
      const int64_t room = std::max<int64_t>(plan_.batch_rows - builder_.rows(), 1);
      const size_t take = std::min(static_cast<size_t>(room), recs.size() - done);
      if (!AddBlockPart(buf, seps, recs.data() + done, take)) break;
      done += take;
    }
    return done;
  }

  void Flush() {
    if (builder_.rows() == 0) return;
    RecordBatch b;
    builder_.Finish(&b);
    b.source_lines = std::move(lines_);
    lines_.clear();
    out_->batches.push_back(std::move(b));
  }

 private:
  void Bad(int64_t line, std::string field, std::string reason, std::string_view raw) {
    out_->bad.push_back(BadRecord{line, std::move(field), std::move(reason), CapRaw(raw)});
  }

  // Where field c of a regular record lies.
  struct Span {
    const char* p;
    size_t n;
  };
  Span FieldOf(const char* buf, const uint32_t* seps, const CsvRecordSpan& r, size_t c,
               size_t last) const {
    const size_t fs = c == 0 ? r.start : seps[r.first_sep + c - 1] + 1;
    const size_t fe = c == last ? r.raw_end : seps[r.first_sep + c];
    return {buf + fs, fe - fs};
  }

  template <typename T, typename Parse>
  bool FixedColumn(const char* buf, const uint32_t* seps, const CsvRecordSpan* recs, size_t nrec,
                   size_t c, int f, Parse parse) {
    const size_t last = plan_.columns.size() - 1;
    T* out = builder_.values<T>(f) + builder_.rows();
    uint8_t* valid = builder_.validity(f) + builder_.rows();
    const char q = plan_.csv.quote;
    const bool other_nulls = !plan_.other_nulls.empty();
    for (size_t i = 0; i < nrec; ++i) {
      const Span s = FieldOf(buf, seps, recs[i], c, last);
      if (s.n == 0) {
        if (!plan_.empty_is_null) return false;
        valid[i] = 0;
        out[i] = T{};
        continue;
      }
      if (*s.p == q && q != '\0') return false;
      if (other_nulls && plan_.IsNullText(std::string_view(s.p, s.n))) {
        valid[i] = 0;
        out[i] = T{};
        continue;
      }
      if (!parse(s.p, s.n, &out[i])) return false;
    }
    return true;
  }

  bool StringColumn(const char* buf, const uint32_t* seps, const CsvRecordSpan* recs, size_t nrec,
                    size_t c, int f) {
    const size_t last = plan_.columns.size() - 1;
    const int64_t row0 = builder_.rows();
    // The block's text bounds every column's bytes in it.
    const size_t bound = recs[nrec - 1].raw_end - recs[0].start + 16;
    size_t* used_at = nullptr;
    char* chars = builder_.StringRoom(f, bound, &used_at);
    size_t used = *used_at;
    uint32_t* off = builder_.offsets(f) + row0 + 1;
    uint8_t* valid = builder_.validity(f) + row0;
    const char q = plan_.csv.quote;
    const bool other_nulls = !plan_.other_nulls.empty();
    for (size_t i = 0; i < nrec; ++i) {
      Span s = FieldOf(buf, seps, recs[i], c, last);
      if (s.n == 0) {
        if (plan_.empty_is_null) valid[i] = 0;
      } else if (*s.p == q && q != '\0') {
        if (s.n < 2 || s.p[s.n - 1] != q) return false;
        const char* p = s.p + 1;
        const char* e = s.p + s.n - 1;
        for (;;) {
          const void* at = std::memchr(p, q, static_cast<size_t>(e - p));
          const char* stop = at == nullptr ? e : static_cast<const char*>(at) + 1;
          std::memcpy(chars + used, p, static_cast<size_t>(stop - p));
          used += static_cast<size_t>(stop - p);
          if (at == nullptr) break;
          if (stop >= e || *stop != q) return false;  // a lone quote
          p = stop + 1;
        }
      } else if (other_nulls && plan_.IsNullText(std::string_view(s.p, s.n))) {
        valid[i] = 0;
      } else if (s.n <= 16) {
        std::memcpy(chars + used, s.p, 16);
        used += s.n;
      } else {
        std::memcpy(chars + used, s.p, s.n);
        used += s.n;
      }
      off[i] = static_cast<uint32_t>(used);
    }
    *used_at = used;
    return true;
  }

  bool AddBlockPart(const char* buf, const uint32_t* seps, const CsvRecordSpan* recs, size_t nrec) {
    using Kind = CsvPlan::Kind;
    builder_.ReserveRows(static_cast<int64_t>(nrec));
    bool ok = true;
    for (size_t c = 0; c < plan_.columns.size() && ok; ++c) {
      const CsvPlan::ColumnPlan& cp = plan_.columns[c];
      switch (cp.kind) {
        case Kind::kSkip:
          break;
        case Kind::kString:
          ok = StringColumn(buf, seps, recs, nrec, c, cp.field);
          break;
        case Kind::kInt64:
          ok = FixedColumn<int64_t>(buf, seps, recs, nrec, c, cp.field, fastparse::Int64);
          break;
        case Kind::kInt32:
          ok = FixedColumn<int32_t>(buf, seps, recs, nrec, c, cp.field, fastparse::Int32);
          break;
        case Kind::kDecimal: {
          const uint64_t limit = cp.limit;
          const int scale = cp.scale;
          ok = FixedColumn<int64_t>(buf, seps, recs, nrec, c, cp.field,
                                    [limit, scale](const char* p, size_t n, int64_t* v) {
                                      return fastparse::Decimal(p, n, limit, scale, v);
                                    });
          break;
        }
        case Kind::kDate:
          ok = FixedColumn<int32_t>(buf, seps, recs, nrec, c, cp.field, fastparse::Date);
          break;
        case Kind::kTimestamp:
          ok = FixedColumn<int64_t>(buf, seps, recs, nrec, c, cp.field, fastparse::Timestamp);
          break;
        case Kind::kOther:
          ok = false;
      }
    }
    const int64_t row0 = builder_.rows();
    for (size_t k = 0; k < plan_.required.size() && ok; ++k) {
      const uint8_t* v = builder_.validity(plan_.required[k]) + row0;
      ok = std::memchr(v, 0, nrec) == nullptr;
    }
    if (!ok) {
      builder_.DiscardRows();
      return false;
    }
    for (int f : plan_.absent) builder_.SetNulls(f, static_cast<int64_t>(nrec));
    builder_.CommitRows(static_cast<int64_t>(nrec));
    for (size_t i = 0; i < nrec; ++i) lines_.push_back(recs[i].line);
    out_->records += static_cast<int64_t>(nrec);
    if (builder_.rows() >= plan_.batch_rows) Flush();
    return true;
  }

  // The inside of a quoted field, with doubled quotes collapsed. False for a
  // lone quote (which only the exact reader interprets).
  bool QuotedString(int f, const char* s, size_t n) {
    const char q = plan_.csv.quote;
    const char* e = s + n;
    const void* at = std::memchr(s, q, n);
    if (at == nullptr) {
      builder_.SetStringPadded(f, s, n);
      return true;
    }
    builder_.SetString(f, {});
    while (at != nullptr) {
      const char* qp = static_cast<const char*>(at);
      if (qp + 1 >= e || qp[1] != q) return false;
      builder_.AppendToString(f, std::string_view(s, static_cast<size_t>(qp + 1 - s)));
      s = qp + 2;
      at = std::memchr(s, q, static_cast<size_t>(e - s));
    }
    builder_.AppendToString(f, std::string_view(s, static_cast<size_t>(e - s)));
    return true;
  }

  std::string_view CurrentString(const FieldText* fields, size_t n, int f) const {
    for (size_t c = 0; c < n; ++c) {
      if (plan_.column_to_field[c] == f) return fields[c].text;
    }
    return {};
  }

  bool SetParsed(int f, const DataType& type, std::string_view t) {
    switch (type.id) {
      case TypeId::kBool: {
        bool b = false;
        if (!ParseBool(t, &b)) return false;
        builder_.Set<uint8_t>(f, b ? 1 : 0);
        return true;
      }
      case TypeId::kInt32: {
        int32_t v = 0;
        if (!ParseInt32(t, &v)) return false;
        builder_.Set<int32_t>(f, v);
        return true;
      }
      case TypeId::kDate: {
        int32_t v = 0;
        if (!ParseDate(t, &v)) return false;
        builder_.Set<int32_t>(f, v);
        return true;
      }
      case TypeId::kInt64: {
        int64_t v = 0;
        if (!ParseInt64(t, &v)) return false;
        builder_.Set<int64_t>(f, v);
        return true;
      }
      case TypeId::kDecimal: {
        int64_t v = 0;
        if (!ParseDecimal(t, type.precision, type.scale, &v)) return false;
        builder_.Set<int64_t>(f, v);
        return true;
      }
      case TypeId::kTimestamp: {
        int64_t v = 0;
        if (!ParseTimestamp(t, &v)) return false;
        builder_.Set<int64_t>(f, v);
        return true;
      }
      case TypeId::kFloat64: {
        double v = 0;
        if (!ParseFloat64(t, &v)) return false;
        builder_.Set<double>(f, v);
        return true;
      }
      case TypeId::kString:
        builder_.SetString(f, t);
        return true;
    }
    return false;
  }

  const CsvPlan& plan_;
  ChunkResult* out_;
  BatchBuilder builder_;
  std::vector<int64_t> lines_;
};

// After an unclean chunk: the rest of the input, read exactly.
class CsvSequentialDecoder final : public Decoder {
 public:
  CsvSequentialDecoder(std::unique_ptr<InputStream> in, std::shared_ptr<const CsvPlan> plan,
                       int64_t first_line)
      : in_(std::move(in)),
        plan_(std::move(plan)),
        reader_(in_.get(), plan_->csv.delimiter, plan_->csv.quote),
        sink_(*plan_, &pending_, plan_->batch_rows),
        line_offset_(first_line - 1) {
    reader_.set_skip_bom(false);
  }

  Result<bool> Next(RecordBatch* out, std::vector<BadRecord>* bad) override {
    std::vector<FieldText> fields;
    while (pending_.batches.empty() && pending_.bad.empty() && !eof_) {
      ASSIGN_OR_RETURN(bool more, reader_.Next());
      if (!more) {
        eof_ = true;
        sink_.Flush();
        break;
      }
      fields.resize(reader_.num_fields());
      for (size_t i = 0; i < fields.size(); ++i) fields[i] = {reader_.field(i), reader_.quoted(i)};
      sink_.Add(fields.data(), fields.size(), reader_.line() + line_offset_, reader_.raw(),
                reader_.error(), false);
    }
    const bool had_bad = !pending_.bad.empty();
    for (BadRecord& b : pending_.bad) bad->push_back(std::move(b));
    pending_.bad.clear();
    if (!pending_.batches.empty()) {
      *out = std::move(pending_.batches.front());
      pending_.batches.erase(pending_.batches.begin());
      return true;
    }
    if (had_bad) {
      *out = RecordBatch::Empty(plan_->schema);
      return true;
    }
    return false;
  }
  int64_t records_read() const override { return pending_.records; }

 private:
  std::unique_ptr<InputStream> in_;
  std::shared_ptr<const CsvPlan> plan_;
  CsvReader reader_;
  ChunkResult pending_;
  RecordSink sink_;
  int64_t line_offset_;
  bool eof_ = false;
};

class CsvChunkFormat final : public ChunkFormat {
 public:
  CsvChunkFormat(const DecoderOptions& options, std::string file)
      : plan_(std::make_shared<CsvPlan>()) {
    CsvPlan& p = *plan_;
    p.schema = options.schema;
    p.csv = options.csv;
    p.file = std::move(file);
    p.batch_rows = std::max<int64_t>(options.batch_rows, 1);
    ignore_unknown_ = options.ignore_unknown_fields;
    for (const std::string& n : p.csv.null_values) {
      if (n.empty()) {
        p.empty_is_null = true;
      } else {
        p.other_nulls.push_back(n);
      }
    }
    for (int i = 0; i < p.schema.num_fields(); ++i) {
      if (p.schema.field(i).type.id == TypeId::kString) p.string_fields.push_back(i);
      if (!p.schema.field(i).nullable) p.required.push_back(i);
    }
  }

  Result<std::optional<size_t>> ConsumePrefix(std::string_view head, bool eof,
                                              int64_t* lines) override {
    CsvPlan& p = *plan_;
    const int nf = p.schema.num_fields();
    if (!p.csv.header) {
      if (head.size() < 3 && !eof) return std::optional<size_t>();
      p.column_to_field.resize(nf);
      for (int i = 0; i < nf; ++i) p.column_to_field[i] = i;
      p.PlanColumns();
      *lines = 0;
      return std::optional<size_t>(head.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0);
    }
    ViewInput in(head, p.file);
    CsvReader reader(&in, p.csv.delimiter, p.csv.quote);
    ASSIGN_OR_RETURN(bool has_header, reader.Next());
    if (!has_header) {
      if (!eof) return std::optional<size_t>();
      p.no_records = true;  // empty file: no header, no records
      *lines = 0;
      return std::optional<size_t>(head.size());
    }
    if (reader.ended_at_eof() && !eof) return std::optional<size_t>();
    if (!reader.error().empty()) {
      return Status::InvalidArgument("cannot read the header of '" + p.file + "' (line " +
                                     std::to_string(reader.line()) +
                                     "): " + std::string(reader.error()));
    }
    RETURN_IF_ERROR(MapHeader(reader));
    p.PlanColumns();
    *lines = reader.next_line() - 1;
    return std::optional<size_t>(static_cast<size_t>(reader.end_offset()));
  }

  size_t FindCut(std::string_view block) const override {
    if (plan_->no_records) return block.size();
    const char q = plan_->csv.quote;
    if (q == '\0') {
      const void* nl = memrchr(block.data(), '\n', block.size());
      return nl == nullptr ? 0
                           : static_cast<size_t>(static_cast<const char*>(nl) - block.data()) + 1;
    }
    // A line feed ends a record when an even number of quotes precede it.
    size_t parity = CountByte(block.data(), block.size(), q) & 1;
    for (size_t i = block.size(); i-- > 0;) {
      const char c = block[i];
      if (c == q) {
        parity ^= 1;
      } else if (c == '\n' && parity == 0) {
        return i + 1;
      }
    }
    return 0;
  }

  ChunkResult Parse(const Chunk& chunk) const override {
    ChunkResult r;
    if (plan_->no_records) return r;
    if (ParseFast(chunk, &r)) return r;
    r = ChunkResult();
    ParseExact(chunk, &r);
    return r;
  }

  Result<std::unique_ptr<Decoder>> Sequential(std::unique_ptr<InputStream> rest,
                                              int64_t first_line) const override {
    return std::unique_ptr<Decoder>(
        std::make_unique<CsvSequentialDecoder>(std::move(rest), plan_, first_line));
  }

 private:
  Status MapHeader(const CsvReader& reader) {
    CsvPlan& p = *plan_;
    const int nf = p.schema.num_fields();
    const size_t nc = reader.num_fields();
    p.column_to_field.assign(nc, -1);
    std::vector<int> field_to_column(nf, -1);
    std::unordered_map<std::string_view, int> by_name;
    for (int i = 0; i < nf; ++i) by_name.emplace(p.schema.field(i).name, i);
    // Exact names first, so that "id" and "ID" can both exist in a schema.
    for (size_t c = 0; c < nc; ++c) {
      auto it = by_name.find(reader.field(c));
      if (it == by_name.end()) continue;
      if (field_to_column[it->second] >= 0) {
        return Status::InvalidArgument("column '" + std::string(reader.field(c)) +
                                       "' appears twice in the header of '" + p.file + "'");
      }
      field_to_column[it->second] = static_cast<int>(c);
      p.column_to_field[c] = it->second;
    }
    for (size_t c = 0; c < nc; ++c) {
      if (p.column_to_field[c] >= 0) continue;
      std::string_view name = TrimBlanks(reader.field(c));
      for (int f = 0; f < nf; ++f) {
        if (field_to_column[f] < 0 && EqualsIgnoreCase(name, p.schema.field(f).name)) {
          field_to_column[f] = static_cast<int>(c);
          p.column_to_field[c] = f;
          break;
        }
      }
      if (p.column_to_field[c] < 0 && !ignore_unknown_) {
        return Status::InvalidArgument("column '" + std::string(reader.field(c)) +
                                       "' in the header of '" + p.file + "' is not in the schema");
      }
    }
    for (int f = 0; f < nf; ++f) {
      if (field_to_column[f] >= 0) continue;
      if (!p.schema.field(f).nullable) {
        return Status::InvalidArgument("file '" + p.file + "' has no column for field '" +
                                       p.schema.field(f).name + "', which is not nullable");
      }
      p.absent.push_back(f);
    }
    return Status::OK();
  }

  // The vectorised path. Returns false (leaving *r unspecified) when the chunk
  // holds something only the exact reader interprets correctly.
  //
  // Runs of regular records (the expected number of fields) are converted a
  // block at a time, column by column (RecordSink::AddBlock); a block that
  // meets anything unusual, and every irregular record, goes record by record.
  bool ParseFast(const Chunk& chunk, ChunkResult* r) const {
    const CsvPlan& p = *plan_;
    const char* buf = chunk.bytes.data();
    const size_t n = chunk.size;
    const char q = p.csv.quote;
    const char d = p.csv.delimiter;
    const bool utf8 = simdjson::validate_utf8(buf, n);
    RecordSink sink(p, r, static_cast<int64_t>(n / 64));
    CsvIndexState st;
    constexpr size_t kSegment = 64 * 1024;
    std::vector<uint32_t> seps(std::min(kSegment, n) + 64);
    std::vector<FieldText> fields;
    std::vector<CsvRecordSpan> block;
    std::string scratch;
    size_t pending = 0;    // separators of the record in progress
    size_t rec_start = 0;  // where that record starts
    int64_t line = 0;      // its 0-based line in the chunk

    // One record, on its own: fast if it can, else through FieldTexts.
    auto one = [&](const CsvRecordSpan& rec) -> bool {
      const uint32_t* ends = seps.data() + rec.first_sep;
      const size_t m = rec.fields;
      if (utf8 && sink.FastAdd(buf, rec.start, ends, m, rec.raw_end, rec.line)) return true;
      if (m > CsvReader::kMaxFields) return false;
      fields.resize(m);
      scratch.clear();
      for (size_t i = 0; i < m; ++i) {
        const size_t fs = i == 0 ? rec.start : ends[i - 1] + 1;
        const size_t fe = i == m - 1 ? rec.raw_end : ends[i];
        if (q == '\0' || fe == fs || buf[fs] != q) {
          fields[i] = {std::string_view(buf + fs, fe - fs), false};
          continue;
        }
        if (fe - fs < 2 || buf[fe - 1] != q) return false;  // junk after the closing quote
        std::string_view inner(buf + fs + 1, fe - fs - 2);
        if (std::memchr(inner.data(), q, inner.size()) == nullptr) {
          fields[i] = {inner, true};
          continue;
        }
        if (scratch.capacity() < rec.raw_end - rec.start) scratch.reserve(rec.raw_end - rec.start);
        const size_t at = scratch.size();
        for (size_t k = 0; k < inner.size(); ++k) {
          scratch.push_back(inner[k]);
          if (inner[k] == q) {
            if (k + 1 >= inner.size() || inner[k + 1] != q) return false;  // a lone quote
            ++k;
          }
        }
        fields[i] = {std::string_view(scratch.data() + at, scratch.size() - at), true};
      }
      sink.Add(fields.data(), m, rec.line,
               std::string_view(buf + rec.start, rec.raw_end - rec.start), {}, utf8);
      return true;
    };
    auto flush_block = [&]() -> bool {
      if (block.empty()) return true;
      const size_t done = utf8 ? sink.AddBlock(buf, seps.data(), block) : 0;
      for (size_t i = done; i < block.size(); ++i) {
        if (!one(block[i])) return false;
      }
      block.clear();
      return true;
    };
    // The record ending at separator j (a line feed, or n for the tail).
    auto record = [&](size_t k, size_t j, size_t rec_end) -> bool {
      CsvRecordSpan rec{static_cast<uint32_t>(rec_start), static_cast<uint32_t>(k),
                        static_cast<uint32_t>(rec_end), static_cast<uint32_t>(j - k + 1), line};
      if (rec.raw_end > rec_start && buf[rec.raw_end - 1] == '\r') --rec.raw_end;
      line += 1;
      if (st.quoted_lf) line += std::count(buf + rec_start, buf + rec_end, '\n');
      if (rec.fields == 1 && rec.raw_end == rec_start) return true;  // an empty line
      if (rec.fields == p.columns.size()) {
        block.push_back(rec);
        return true;
      }
      return flush_block() && one(rec);
    };

    for (size_t seg = 0; seg < n; seg += kSegment) {
      const size_t seg_end = std::min(n, seg + kSegment);
      if (seps.size() < pending + (seg_end - seg) + 64) seps.resize(pending + (seg_end - seg) + 64);
      const size_t total = pending + IndexCsv(buf, seg, seg_end, d, q, &st, seps.data() + pending);
      if (st.stray_quote) return false;
      size_t k = 0;
      for (size_t j = pending; j < total; ++j) {
        if (buf[seps[j]] != '\n') continue;
        if (!record(k, j, seps[j])) return false;
        rec_start = seps[j] + 1;
        k = j + 1;
      }
      // Blocks refer to separators by index: convert them before compacting.
      if (!flush_block()) return false;
      std::copy(seps.begin() + static_cast<std::ptrdiff_t>(k),
                seps.begin() + static_cast<std::ptrdiff_t>(total), seps.begin());
      pending = total - k;
    }
    if (st.inside != 0) return false;  // a quote left open: exact reader decides
    if (rec_start < n) {
      if (!chunk.final) return false;
      seps[pending] = static_cast<uint32_t>(n);
      if (!record(0, pending, n) || !flush_block()) return false;
    }
    sink.Flush();
    r->lines = line;
    return true;
  }

  void ParseExact(const Chunk& chunk, ChunkResult* r) const {
    const CsvPlan& p = *plan_;
    ViewInput in(chunk.data(), p.file);
    CsvReader reader(&in, p.csv.delimiter, p.csv.quote);
    reader.set_skip_bom(false);
    RecordSink sink(p, r, 1024);
    std::vector<FieldText> fields;
    for (;;) {
      auto more = reader.Next();
      if (!more.ok()) {
        r->status = more.status();
        return;
      }
      if (!*more) break;
      if (reader.ended_at_eof() && !chunk.final) {
        r->clean = false;  // the chunk was cut inside a quoted field
        return;
      }
      fields.resize(reader.num_fields());
      for (size_t i = 0; i < fields.size(); ++i) fields[i] = {reader.field(i), reader.quoted(i)};
      sink.Add(fields.data(), fields.size(), reader.line() - 1, reader.raw(), reader.error(),
               false);
    }
    sink.Flush();
    r->lines = reader.next_line() - 1;
  }

  std::shared_ptr<CsvPlan> plan_;
  bool ignore_unknown_ = true;
};

}  // namespace

Result<std::unique_ptr<Decoder>> NewCsvDecoder(std::unique_ptr<InputStream> in,
                                               const DecoderOptions& options,
                                               const ChunkedOptions& chunking) {
  if (in == nullptr) return Status::InvalidArgument("csv decoder needs an input stream");
  RETURN_IF_ERROR(ValidateCsvOptions(options.csv, in->name()));
  auto format = std::make_unique<CsvChunkFormat>(options, in->name());
  return NewChunkedDecoder(std::move(in), std::move(format), options, chunking);
}

Result<std::unique_ptr<Decoder>> NewCsvDecoder(std::unique_ptr<InputStream> in,
                                               const DecoderOptions& options) {
  return NewCsvDecoder(std::move(in), options, ChunkedOptions{});
}

}  // namespace sluice
