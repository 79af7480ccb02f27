// Record conversion for the CSV decoder: see csv_records.h.
#include "format/csv_records.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>

#include "core/value_text.h"
#include "format/fast_parse.h"
#include "format/staged_row.h"

namespace sluice {

namespace {

// Where field c of a regular record lies.
struct Span {
  const char* p;
  size_t n;
};

Span FieldOf(const char* buf, const uint32_t* seps, const CsvRecordSpan& r, size_t c, size_t last) {
  const size_t fs = c == 0 ? r.start : seps[r.first_sep + c - 1] + 1;
  const size_t fe = c == last ? r.raw_end : seps[r.first_sep + c];
  return {buf + fs, fe - fs};
}

// A field the exact reader accepts as CsvReader would: unquoted, or quoted
// with nothing after the closing quote and inner quotes doubled. Checked for
// skipped columns too, whose values are not otherwise looked at (a record with
// junk after a closing quote is bad whichever column it is in).
bool WellQuoted(const char* p, size_t n, char q) {
  if (n == 0 || q == '\0' || *p != q) return true;
  if (n < 2 || p[n - 1] != q) return false;
  for (size_t i = 1; i + 1 < n; ++i) {
    if (p[i] != q) continue;
    if (i + 2 >= n || p[i + 1] != q) return false;  // a lone quote
    ++i;
  }
  return true;
}

}  // namespace

void CsvPlan::PlanColumns() {
  columns.assign(column_to_field.size(), ColumnPlan());
  field_to_column.assign(static_cast<size_t>(schema.num_fields()), -1);
  for (size_t c = 0; c < column_to_field.size(); ++c) {
    if (column_to_field[c] >= 0) field_to_column[column_to_field[c]] = static_cast<int>(c);
  }
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

CsvRecordSink::CsvRecordSink(const CsvPlan& plan, ChunkResult* out, int64_t expected_rows)
    : plan_(plan), out_(out), builder_(plan.schema) {
  builder_.Begin(std::min(plan.batch_rows, std::max<int64_t>(expected_rows, 256)));
}

void CsvRecordSink::Add(const FieldText* fields, size_t n, int64_t line, std::string_view raw,
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
    // A blank field outside a string column is NULL (when the empty string
    // is a null value), quoted or not: "" holds no number, date or boolean.
    if (trimmed.empty() && plan_.empty_is_null) {
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

bool CsvRecordSink::FastAdd(const char* buf, size_t rec_start, const uint32_t* ends, size_t m,
                            size_t raw_end, int64_t line) {
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
    if (cp.kind == Kind::kSkip) {
      ok = WellQuoted(f, n, q);
      continue;
    }
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

size_t CsvRecordSink::AddBlock(const char* buf, const uint32_t* seps,
                               const std::vector<CsvRecordSpan>& recs) {
  size_t done = 0;
  while (done < recs.size()) {
    const int64_t room = std::max<int64_t>(plan_.batch_rows - builder_.rows(), 1);
    const size_t take = std::min(static_cast<size_t>(room), recs.size() - done);
    if (!AddBlockPart(buf, seps, recs.data() + done, take)) break;
    done += take;
  }
  return done;
}

void CsvRecordSink::Flush() {
  if (builder_.rows() == 0) return;
  RecordBatch b;
  builder_.Finish(&b);
  b.source_lines = std::move(lines_);
  lines_.clear();
  out_->batches.push_back(std::move(b));
}

void CsvRecordSink::Bad(int64_t line, std::string field, std::string reason, std::string_view raw) {
  out_->bad.push_back(BadRecord{line, std::move(field), std::move(reason), CapRaw(raw)});
}

template <typename T, typename Parse>
bool CsvRecordSink::FixedColumn(const char* buf, const uint32_t* seps, const CsvRecordSpan* recs,
                                size_t nrec, size_t c, int f, Parse parse) {
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

bool CsvRecordSink::StringColumn(const char* buf, const uint32_t* seps, const CsvRecordSpan* recs,
                                 size_t nrec, size_t c, int f) {
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

bool CsvRecordSink::AddBlockPart(const char* buf, const uint32_t* seps, const CsvRecordSpan* recs,
                                 size_t nrec) {
  using Kind = CsvPlan::Kind;
  builder_.ReserveRows(static_cast<int64_t>(nrec));
  bool ok = true;
  for (size_t c = 0; c < plan_.columns.size() && ok; ++c) {
    const CsvPlan::ColumnPlan& cp = plan_.columns[c];
    switch (cp.kind) {
      case Kind::kSkip: {
        const size_t last = plan_.columns.size() - 1;
        for (size_t i = 0; i < nrec && ok; ++i) {
          const Span sp = FieldOf(buf, seps, recs[i], c, last);
          ok = WellQuoted(sp.p, sp.n, plan_.csv.quote);
        }
        break;
      }
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

bool CsvRecordSink::QuotedString(int f, const char* s, size_t n) {
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

std::string_view CsvRecordSink::CurrentString(const FieldText* fields, size_t n, int f) const {
  // A lookup, not a scan of the columns: this runs per string field of a
  // record, which for a wide file would be columns x columns.
  const int c =
      static_cast<size_t>(f) < plan_.field_to_column.size() ? plan_.field_to_column[f] : -1;
  if (c >= 0 && static_cast<size_t>(c) < n) return fields[c].text;
  return {};
}

bool CsvRecordSink::SetParsed(int f, const DataType& type, std::string_view t) {
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

}  // namespace sluice
