// Date and time functions. Dates are days since 1970-01-01, timestamps are
// microseconds since 1970-01-01T00:00:00Z; every function works in UTC and
// none reads the clock (evaluation is deterministic).
//
//   date_trunc(part, x)    year, quarter, month, week (ISO: Monday), day, hour,
//                          minute, second; the result has x's type (DuckDB;
//                          PostgreSQL returns a timestamp for a date), so
//                          hour/minute/second on a date is a bind error.
//   date_part(part, x)     EXTRACT(part FROM x). int64 (PostgreSQL returns
//                          numeric): year, quarter, month, week (ISO week
//                          number), day, dayofweek/dow (0 = Sunday), isodow
//                          (1 = Monday), dayofyear/doy, hour, minute, second
//                          (0-59, no fraction, DuckDB), millisecond and
//                          microsecond (including the seconds, 0-59999 and
//                          0-59999999, as both systems do), epoch (whole
//                          seconds, rounded down). Time-of-day parts of a date
//                          are a bind error (PostgreSQL).
//   date_diff(part, a, b)  the number of part boundaries crossed going from a
//                          to b (DuckDB): year, quarter, month, week (Mondays),
//                          day, hour, minute, second, millisecond, microsecond.
//                          Dates count as their midnight.
//   make_date(y, m, d)     years 1-9999; anything else, or a day the month
//                          does not have, fails the row.
//   to_timestamp(s, fmt)   strptime-style: %Y (1-4 digits) %m %d %H %M %S %I
//                          (1-2 digits) %y (1-2 digits: 69-99 -> 19xx, else
//                          20xx) %j (1-3 digits) %f (1-6 fraction digits) %b
//                          %B (English month names or their 3-letter
//                          abbreviations, any case) %p (AM/PM, applies to %I)
//                          %z (Z, +HH, +HHMM, +HH:MM; converted to UTC) %% and
//                          literal characters, which must match exactly. The
//                          whole input must be consumed.
//   to_timestamp(n)        n seconds since the epoch (int, decimal or float;
//                          fractions are kept to the microsecond, rounded).
//   strftime(x, fmt)       %Y %m %d %H %M %S %f (6 digits) %j %a %A %b %B %y %e
//                          %p %I %z (+0000) %Z (UTC) %%.
// The part name and constant formats are checked when the expression is
// bound; a format taken from a column is checked per row.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <memory>
#include <string>
#include <string_view>

#include "core/value_text.h"
#include "expr/functions.h"
#include "expr/numeric.h"

namespace sluice::expr {
namespace {

constexpr int64_t kMicrosPerHour = 3600LL * kMicrosPerSecond;
constexpr int64_t kMicrosPerMinute = 60LL * kMicrosPerSecond;
constexpr int64_t kMicrosPerMilli = 1000;

// a - FloorDiv(a, b) * b, without the product (which overflows near INT64_MIN).
int64_t FloorMod(int64_t a, int64_t b) {
  int64_t r = a % b;
  return r != 0 && (r < 0) != (b < 0) ? r + b : r;
}

const char* const kMonthNames[] = {"January",   "February", "March",    "April",
                                   "May",       "June",     "July",     "August",
                                   "September", "October",  "November", "December"};
const char* const kDayNames[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                 "Thursday", "Friday", "Saturday"};

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int DaysInMonth(int64_t y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

// 0 = Sunday.
int64_t DayOfWeek(int64_t days) { return FloorMod(days + 4, 7); }
// The Monday on or before `days`.
int64_t MondayOf(int64_t days) { return days - FloorMod(days + 3, 7); }

struct Civil {
  int y;
  unsigned m, d;
};
Civil ToCivil(int64_t days) {
  Civil c;
  CivilFromDays(static_cast<int32_t>(days), &c.y, &c.m, &c.d);
  return c;
}

int64_t IsoWeek(int64_t days) {
  int64_t thursday = MondayOf(days) + 3;
  Civil c = ToCivil(thursday);
  return (thursday - DaysFromCivil(c.y, 1, 1)) / 7 + 1;
}

// Splits a date or timestamp value into days and microseconds of the day.
inline void Split(bool is_date, int64_t v, int64_t* days, int64_t* tod) {
  if (is_date) {
    *days = v;
    *tod = 0;
  } else {
    *days = FloorDiv(v, kMicrosPerDay);
    *tod = FloorMod(v, kMicrosPerDay);  // not v - days * k: overflows near INT64_MIN
  }
}

// ---- arguments

bool IsTime(TypeId t) { return t == TypeId::kDate || t == TypeId::kTimestamp; }

// Argument i must be a date or a timestamp; a NULL or string literal becomes
// a timestamp.
Status ArgIsTime(FunctionBinder& b, size_t i) {
  if (IsTime(b.type(i).id)) return Status::OK();
  const Scalar* c = b.constant(i);
  if (c != nullptr && (c->null || b.type(i).id == TypeId::kString)) {
    std::string text = c->null ? "" : c->s;
    RETURN_IF_ERROR(b.CastArg(i, DataType::Timestamp()));
    if (b.constant(i) == nullptr) {
      return b.Error(static_cast<int>(i), "cannot convert '" + text + "' to timestamp");
    }
    return Status::OK();
  }
  return b.Error(static_cast<int>(i), "expected a date or timestamp, got " + b.type(i).ToString());
}

enum class Part : uint8_t {
  kYear,
  kQuarter,
  kMonth,
  kWeek,
  kDay,
  kHour,
  kMinute,
  kSecond,
  kMillisecond,
  kMicrosecond,
  kDow,
  kIsoDow,
  kDoy,
  kEpoch,
};

struct PartName {
  const char* name;
  Part part;
};

constexpr PartName kTruncParts[] = {
    {"year", Part::kYear},     {"quarter", Part::kQuarter}, {"month", Part::kMonth},
    {"week", Part::kWeek},     {"day", Part::kDay},         {"hour", Part::kHour},
    {"minute", Part::kMinute}, {"second", Part::kSecond},
};
constexpr PartName kExtractParts[] = {
    {"year", Part::kYear},
    {"quarter", Part::kQuarter},
    {"month", Part::kMonth},
    {"week", Part::kWeek},
    {"day", Part::kDay},
    {"dayofweek", Part::kDow},
    {"dow", Part::kDow},
    {"isodow", Part::kIsoDow},
    {"dayofyear", Part::kDoy},
    {"doy", Part::kDoy},
    {"hour", Part::kHour},
    {"minute", Part::kMinute},
    {"second", Part::kSecond},
    {"millisecond", Part::kMillisecond},
    {"microsecond", Part::kMicrosecond},
    {"epoch", Part::kEpoch},
};
constexpr PartName kDiffParts[] = {
    {"year", Part::kYear},
    {"quarter", Part::kQuarter},
    {"month", Part::kMonth},
    {"week", Part::kWeek},
    {"day", Part::kDay},
    {"hour", Part::kHour},
    {"minute", Part::kMinute},
    {"second", Part::kSecond},
    {"millisecond", Part::kMillisecond},
    {"microsecond", Part::kMicrosecond},
};

bool IsTimeOfDay(Part p) {
  return p == Part::kHour || p == Part::kMinute || p == Part::kSecond || p == Part::kMillisecond ||
         p == Part::kMicrosecond;
}

struct PartState {
  Part part;
};

// Argument 0: a constant part name from `parts`.
template <size_t N>
Result<Part> BindPart(FunctionBinder& b, const PartName (&parts)[N]) {
  std::string list;
  std::vector<std::string> names;
  for (const auto& p : parts) {
    list += (list.empty() ? "" : ", ") + std::string(p.name);
    names.emplace_back(p.name);
  }
  const Scalar* c = b.constant(0);
  if (c == nullptr || c->null || b.type(0).id != TypeId::kString) {
    return b.Error(0, "the date part must be a constant string, one of: " + list);
  }
  std::string want;
  for (char ch : c->s) want += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const auto& p : parts) {
    if (want == p.name) {
      b.SetState(std::make_shared<const PartState>(PartState{p.part}));
      return p.part;
    }
  }
  std::string near = ClosestName(want, names);
  return b.Error(0, "unknown date part '" + c->s + "'" +
                        (near.empty() ? "" : " (did you mean '" + near + "'?)") +
                        "; parts: " + list);
}

Part PartOf(const Expr& call) { return static_cast<const PartState*>(call.state.get())->part; }

// ---- date_trunc

Result<DataType> BindDateTrunc(FunctionBinder& b) {
  ASSIGN_OR_RETURN(Part part, BindPart(b, kTruncParts));
  RETURN_IF_ERROR(ArgIsTime(b, 1));
  if (b.type(1).id == TypeId::kDate && IsTimeOfDay(part)) {
    return b.Error(1, "cannot truncate a date to a time of day; cast it to timestamp");
  }
  return b.type(1);
}

int64_t TruncDays(int64_t days, Part p) {
  switch (p) {
    case Part::kYear:
      return DaysFromCivil(ToCivil(days).y, 1, 1);
    case Part::kQuarter: {
      Civil c = ToCivil(days);
      return DaysFromCivil(c.y, (c.m - 1) / 3 * 3 + 1, 1);
    }
    case Part::kMonth: {
      Civil c = ToCivil(days);
      return DaysFromCivil(c.y, c.m, 1);
    }
    case Part::kWeek:
      return MondayOf(days);
    default:
      return days;
  }
}

void DateTruncKernel(const Expr& call, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                     EvalContext* ctx) {
  const Part p = PartOf(call);
  const Vec& x = args[1];
  int64_t* o = out->mutable_ints();
  if (x.type().id == TypeId::kDate) {
    ForRows(out->size(), sel, [&](int64_t i) { o[i] = TruncDays(x.Int(i), p); });
    return;
  }
  int64_t unit = p == Part::kHour     ? kMicrosPerHour
                 : p == Part::kMinute ? kMicrosPerMinute
                 : p == Part::kSecond ? kMicrosPerSecond
                                      : kMicrosPerDay;
  const bool by_days = !IsTimeOfDay(p);
  ForRows(out->size(), sel, [&](int64_t i) {
    int64_t q = FloorDiv(x.Int(i), unit);
    if (by_days) q = TruncDays(q, p);
    if (__builtin_mul_overflow(q, unit, &o[i])) {
      out->SetNull(i);
      ctx->Fail(i, call, "timestamp out of range");
    }
  });
}

// ---- date_part

Result<DataType> BindDatePart(FunctionBinder& b) {
  ASSIGN_OR_RETURN(Part part, BindPart(b, kExtractParts));
  RETURN_IF_ERROR(ArgIsTime(b, 1));
  if (b.type(1).id == TypeId::kDate && IsTimeOfDay(part)) {
    return b.Error(1, "a date has no time of day; cast it to timestamp");
  }
  return DataType::Int64();
}

template <typename F>
void ForParts(const Vec& x, const Sel* sel, Vec* out, F f) {
  const bool is_date = x.type().id == TypeId::kDate;
  int64_t* o = out->mutable_ints();
  ForRows(out->size(), sel, [&](int64_t i) {
    int64_t v = x.Int(i), days, tod;
    Split(is_date, v, &days, &tod);
    o[i] = f(v, days, tod);
  });
}

void DatePartKernel(const Expr& call, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                    EvalContext*) {
  const Vec& x = args[1];
  const bool is_date = x.type().id == TypeId::kDate;
  switch (PartOf(call)) {
    case Part::kYear:
      return ForParts(x, sel, out, [](int64_t, int64_t d, int64_t) { return ToCivil(d).y; });
    case Part::kQuarter:
      return ForParts(x, sel, out,
                      [](int64_t, int64_t d, int64_t) { return (ToCivil(d).m - 1) / 3 + 1; });
    case Part::kMonth:
      return ForParts(x, sel, out, [](int64_t, int64_t d, int64_t) { return ToCivil(d).m; });
    case Part::kWeek:
      return ForParts(x, sel, out, [](int64_t, int64_t d, int64_t) { return IsoWeek(d); });
    case Part::kDay:
      return ForParts(x, sel, out, [](int64_t, int64_t d, int64_t) { return ToCivil(d).d; });
    case Part::kDow:
      return ForParts(x, sel, out, [](int64_t, int64_t d, int64_t) { return DayOfWeek(d); });
    case Part::kIsoDow:
      return ForParts(x, sel, out, [](int64_t, int64_t d, int64_t) {
        int64_t w = DayOfWeek(d);
        return w == 0 ? 7 : w;
      });
    case Part::kDoy:
      return ForParts(x, sel, out, [](int64_t, int64_t d, int64_t) {
        return d - DaysFromCivil(ToCivil(d).y, 1, 1) + 1;
      });
    case Part::kHour:
      return ForParts(x, sel, out, [](int64_t, int64_t, int64_t t) { return t / kMicrosPerHour; });
    case Part::kMinute:
      return ForParts(x, sel, out,
                      [](int64_t, int64_t, int64_t t) { return t / kMicrosPerMinute % 60; });
    case Part::kSecond:
      return ForParts(x, sel, out,
                      [](int64_t, int64_t, int64_t t) { return t / kMicrosPerSecond % 60; });
    case Part::kMillisecond:
      return ForParts(x, sel, out, [](int64_t, int64_t, int64_t t) {
        return t % kMicrosPerMinute / kMicrosPerMilli;
      });
    case Part::kMicrosecond:
      return ForParts(x, sel, out,
                      [](int64_t, int64_t, int64_t t) { return t % kMicrosPerMinute; });
    case Part::kEpoch:
      return ForParts(x, sel, out, [is_date](int64_t v, int64_t d, int64_t) {
        return is_date ? d * 86400 : FloorDiv(v, kMicrosPerSecond);
      });
  }
}

// ---- date_diff

Result<DataType> BindDateDiff(FunctionBinder& b) {
  RETURN_IF_ERROR(BindPart(b, kDiffParts).status());
  RETURN_IF_ERROR(ArgIsTime(b, 1));
  RETURN_IF_ERROR(ArgIsTime(b, 2));
  RETURN_IF_ERROR(b.CastArg(1, DataType::Timestamp()));
  RETURN_IF_ERROR(b.CastArg(2, DataType::Timestamp()));
  return DataType::Int64();
}

void DateDiffKernel(const Expr& call, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                    EvalContext* ctx) {
  const Part p = PartOf(call);
  const Vec& a = args[1];
  const Vec& b = args[2];
  int64_t* o = out->mutable_ints();
  auto by_unit = [&](int64_t unit) {
    ForRows(out->size(), sel, [&](int64_t i) {
      int64_t x = FloorDiv(a.Int(i), unit), y = FloorDiv(b.Int(i), unit);
      if (__builtin_sub_overflow(y, x, &o[i])) {
        out->SetNull(i);
        ctx->Fail(i, call, "numeric overflow (result does not fit int64)");
      }
    });
  };
  auto by_days = [&](auto f) {
    ForRows(out->size(), sel, [&](int64_t i) {
      o[i] = f(FloorDiv(b.Int(i), kMicrosPerDay)) - f(FloorDiv(a.Int(i), kMicrosPerDay));
    });
  };
  switch (p) {
    case Part::kYear:
      return by_days([](int64_t d) -> int64_t { return ToCivil(d).y; });
    case Part::kQuarter:
      return by_days([](int64_t d) -> int64_t {
        Civil c = ToCivil(d);
        return int64_t{c.y} * 4 + (c.m - 1) / 3;
      });
    case Part::kMonth:
      return by_days([](int64_t d) -> int64_t {
        Civil c = ToCivil(d);
        return int64_t{c.y} * 12 + (c.m - 1);
      });
    case Part::kWeek:
      return by_days([](int64_t d) -> int64_t { return (MondayOf(d) + 3) / 7; });
    case Part::kDay:
      return by_unit(kMicrosPerDay);
    case Part::kHour:
      return by_unit(kMicrosPerHour);
    case Part::kMinute:
      return by_unit(kMicrosPerMinute);
    case Part::kSecond:
      return by_unit(kMicrosPerSecond);
    case Part::kMillisecond:
      return by_unit(kMicrosPerMilli);
    default:
      return by_unit(1);
  }
}

// ---- make_date

Result<DataType> BindMakeDate(FunctionBinder& b) {
  for (size_t i = 0; i < 3; ++i) RETURN_IF_ERROR(ArgIsInteger(b, i));
  return DataType::Date();
}

void MakeDateKernel(const Expr& call, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                    EvalContext* ctx) {
  int64_t* o = out->mutable_ints();
  ForRows(out->size(), sel, [&](int64_t i) {
    int64_t y = args[0].Int(i), m = args[1].Int(i), d = args[2].Int(i);
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 || d > DaysInMonth(y, static_cast<int>(m))) {
      out->SetNull(i);
      ctx->Fail(i, call,
                "invalid date: year " + std::to_string(y) + ", month " + std::to_string(m) +
                    ", day " + std::to_string(d));
      return;
    }
    o[i] = DaysFromCivil(static_cast<int>(y), static_cast<unsigned>(m), static_cast<unsigned>(d));
  });
}

// ---- formats

// A format: literal characters and directives (kind = the directive letter,
// or 0 for a literal `lit`).
struct FormatItem {
  char kind;
  char lit;
};

struct Format {
  std::string text;
  std::vector<FormatItem> items;
};

constexpr std::string_view kParseDirectives = "YmdHMSfyjbBzpI";
constexpr std::string_view kPrintDirectives = "YmdHMSfjaAbByepIzZ";

std::string DirectiveList(std::string_view allowed) {
  std::string out;
  for (char c : allowed) out += (out.empty() ? "%" : " %") + std::string(1, c);
  return out + " %%";
}

// Parses `text` into f->items; false with a message on a bad directive.
bool ParseFormat(std::string_view text, std::string_view allowed, Format* f, std::string* error) {
  f->text.assign(text);
  f->items.clear();
  for (size_t k = 0; k < text.size(); ++k) {
    if (text[k] != '%') {
      f->items.push_back({0, text[k]});
      continue;
    }
    if (k + 1 == text.size()) {
      *error = "the format ends with a lone '%'";
      return false;
    }
    char c = text[++k];
    if (c == '%') {
      f->items.push_back({0, '%'});
    } else if (allowed.find(c) != std::string_view::npos) {
      f->items.push_back({c, 0});
    } else {
      *error = "unknown format directive '%" + std::string(1, c) +
               "' (supported: " + DirectiveList(allowed) + ")";
      return false;
    }
  }
  return true;
}

// The format of each row: the call's (constant) one or parsed per row, the
// last one kept.
class RowFormat {
 public:
  RowFormat(const Expr& call, const Vec& formats, std::string_view allowed)
      : call_(call), formats_(formats), allowed_(allowed) {
    fixed_ = static_cast<const Format*>(call.state.get());
  }
  const Format* Get(int64_t i, Vec* out, EvalContext* ctx) {
    if (fixed_ != nullptr) return fixed_;
    std::string_view text = formats_.Str(i);
    if (!have_ || text != last_.text) {
      have_ = true;
      error_.clear();
      if (!ParseFormat(text, allowed_, &last_, &error_)) last_.text.assign(text);
    }
    if (!error_.empty()) {
      out->SetNull(i);
      ctx->Fail(i, call_, error_);
      return nullptr;
    }
    return &last_;
  }

 private:
  const Expr& call_;
  const Vec& formats_;
  std::string_view allowed_;
  const Format* fixed_ = nullptr;
  bool have_ = false;
  Format last_;
  std::string error_;
};

// A constant format argument is parsed into the call's state.
Status BindFormat(FunctionBinder& b, size_t i, std::string_view allowed) {
  RETURN_IF_ERROR(ArgIsString(b, i));
  const Scalar* c = b.constant(i);
  if (c == nullptr || c->null) return Status::OK();
  auto f = std::make_shared<Format>();
  std::string error;
  if (!ParseFormat(c->s, allowed, f.get(), &error)) return b.Error(static_cast<int>(i), error);
  b.SetState(std::move(f));
  return Status::OK();
}

// ---- to_timestamp

Result<DataType> BindToTimestamp(FunctionBinder& b) {
  if (b.argc() == 2) {
    RETURN_IF_ERROR(ArgIsString(b, 0));
    RETURN_IF_ERROR(BindFormat(b, 1, kParseDirectives));
    return DataType::Timestamp();
  }
  TypeId t = b.type(0).id;
  const Scalar* c = b.constant(0);
  if (c != nullptr && c->null) {
    RETURN_IF_ERROR(b.CastArg(0, DataType::Int64()));
  } else if (t != TypeId::kInt32 && t != TypeId::kInt64 && t != TypeId::kDecimal &&
             t != TypeId::kFloat64) {
    return b.Error(
        0, "expected a number of seconds (or a string and a format), got " + b.type(0).ToString());
  }
  return DataType::Timestamp();
}

// Reads 1..max digits at s[*pos].
bool Digits(std::string_view s, size_t* pos, int max, int64_t* out, int* count = nullptr) {
  int n = 0;
  int64_t v = 0;
  while (n < max && *pos < s.size() && s[*pos] >= '0' && s[*pos] <= '9') {
    v = v * 10 + (s[*pos] - '0');
    ++*pos;
    ++n;
  }
  if (count != nullptr) *count = n;
  *out = v;
  return n > 0;
}

bool MatchWordIgnoreCase(std::string_view s, size_t* pos, std::string_view word) {
  if (s.size() - *pos < word.size()) return false;
  if (!EqualsIgnoreCase(s.substr(*pos, word.size()), word)) return false;
  *pos += word.size();
  return true;
}

// Parses s with f; false with a reason ("" for a plain mismatch).
bool ParseWithFormat(std::string_view s, const Format& f, int64_t* micros, const char** why) {
  int64_t year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, frac = 0, doy = 0;
  int64_t offset = 0;
  int pm = -1;
  bool hour12 = false, have_md = false;
  size_t pos = 0;
  *why = nullptr;
  for (const FormatItem& it : f.items) {
    if (it.kind == 0) {
      if (pos >= s.size() || s[pos] != it.lit) return false;
      ++pos;
      continue;
    }
    bool ok = true;
    switch (it.kind) {
      case 'Y':
        ok = Digits(s, &pos, 4, &year);
        break;
      case 'y':
        ok = Digits(s, &pos, 2, &year);
        year += year >= 69 ? 1900 : 2000;
        break;
      case 'm':
        ok = Digits(s, &pos, 2, &month);
        have_md = true;
        break;
      case 'd':
        ok = Digits(s, &pos, 2, &day);
        have_md = true;
        break;
      case 'H':
        ok = Digits(s, &pos, 2, &hour);
        break;
      case 'I':
        ok = Digits(s, &pos, 2, &hour);
        hour12 = true;
        break;
      case 'M':
        ok = Digits(s, &pos, 2, &minute);
        break;
      case 'S':
        ok = Digits(s, &pos, 2, &second);
        break;
      case 'j':
        ok = Digits(s, &pos, 3, &doy);
        if (ok && doy == 0) {
          *why = "day of year out of range";
          return false;
        }
        break;
      case 'f': {
        int n = 0;
        ok = Digits(s, &pos, 6, &frac, &n);
        for (; n < 6; ++n) frac *= 10;
        break;
      }
      case 'b':
      case 'B': {
        ok = false;
        for (int m = 0; m < 12 && !ok; ++m) {
          std::string_view name = kMonthNames[m];
          if (MatchWordIgnoreCase(s, &pos, name) ||
              MatchWordIgnoreCase(s, &pos, name.substr(0, 3))) {
            month = m + 1;
            ok = true;
          }
        }
        have_md = true;
        break;
      }
      case 'p':
        if (MatchWordIgnoreCase(s, &pos, "AM")) {
          pm = 0;
        } else if (MatchWordIgnoreCase(s, &pos, "PM")) {
          pm = 1;
        } else {
          ok = false;
        }
        break;
      case 'z': {
        if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
          ++pos;
          offset = 0;
          break;
        }
        if (pos >= s.size() || (s[pos] != '+' && s[pos] != '-')) return false;
        int64_t sign = s[pos] == '-' ? -1 : 1, hh = 0, mm = 0;
        ++pos;
        int n = 0;
        ok = Digits(s, &pos, 2, &hh, &n) && n == 2;
        if (ok && pos < s.size() && s[pos] == ':') {
          ++pos;
          ok = Digits(s, &pos, 2, &mm, &n) && n == 2;
        } else if (ok && pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          ok = Digits(s, &pos, 2, &mm, &n) && n == 2;
        }
        if (ok && (hh > 23 || mm > 59)) {
          *why = "time zone offset out of range";
          return false;
        }
        offset = sign * (hh * 3600 + mm * 60);
        break;
      }
    }
    if (!ok) return false;
  }
  if (pos != s.size()) return false;
  if (hour12) {
    if (hour < 1 || hour > 12) {
      *why = "hour out of range";
      return false;
    }
    if (pm >= 0) hour = hour % 12 + (pm == 1 ? 12 : 0);
  }
  if (year < 1 || year > 9999) {
    *why = "year out of range";
    return false;
  }
  if (month < 1 || month > 12) {
    *why = "month out of range";
    return false;
  }
  if (day < 1 || day > DaysInMonth(year, static_cast<int>(month))) {
    *why = "day out of range";
    return false;
  }
  if (hour > 23 || minute > 59 || second > 59) {
    *why = "time of day out of range";
    return false;
  }
  int64_t days;
  if (doy > 0) {
    if (doy > (IsLeap(year) ? 366 : 365)) {
      *why = "day of year out of range";
      return false;
    }
    days = DaysFromCivil(static_cast<int>(year), 1, 1) + doy - 1;
    if (have_md && days != DaysFromCivil(static_cast<int>(year), static_cast<unsigned>(month),
                                         static_cast<unsigned>(day))) {
      *why = "day of year does not match the month and day";
      return false;
    }
  } else {
    days = DaysFromCivil(static_cast<int>(year), static_cast<unsigned>(month),
                         static_cast<unsigned>(day));
  }
  int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second - offset;
  *micros = secs * kMicrosPerSecond + frac;
  return true;
}

void ToTimestampKernel(const Expr& call, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                       EvalContext* ctx) {
  int64_t* o = out->mutable_ints();
  const Vec& x = args[0];
  auto fail = [&](int64_t i, std::string_view why) {
    out->SetNull(i);
    ctx->Fail(i, call, why);
  };
  if (args.size() == 2) {
    RowFormat rf(call, args[1], kParseDirectives);
    std::string msg;
    ForRows(out->size(), sel, [&](int64_t i) {
      const Format* f = rf.Get(i, out, ctx);
      if (f == nullptr) return;
      const char* why;
      if (!ParseWithFormat(x.Str(i), *f, &o[i], &why)) {
        msg = "cannot parse '";
        msg.append(x.Str(i));
        msg += "' with format '" + f->text + "'";
        if (why != nullptr) msg += std::string(" (") + why + ")";
        fail(i, msg);
      }
    });
    return;
  }
  const TypeId t = x.type().id;
  ForRows(out->size(), sel, [&](int64_t i) {
    bool ok;
    if (t == TypeId::kFloat64) {
      double d = x.Float(i) * static_cast<double>(kMicrosPerSecond);
      ok = FloatToInt64(d, &o[i]);
    } else if (t == TypeId::kDecimal) {
      ok = Rescale(x.Int(i), x.type().scale, 6, &o[i]);
    } else {
      ok = !__builtin_mul_overflow(x.Int(i), kMicrosPerSecond, &o[i]);
    }
    if (!ok) fail(i, "timestamp out of range");
  });
}

// ---- strftime

Result<DataType> BindStrftime(FunctionBinder& b) {
  RETURN_IF_ERROR(ArgIsTime(b, 0));
  RETURN_IF_ERROR(BindFormat(b, 1, kPrintDirectives));
  return DataType::String();
}

void AppendNumber(std::string* out, int64_t v, int width, char pad = '0') {
  char buf[24];
  bool neg = v < 0;
  uint64_t u = neg ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + u % 10);
    u /= 10;
  } while (u != 0);
  if (neg) out->push_back('-');
  for (int k = n; k < width; ++k) out->push_back(pad);
  while (n > 0) out->push_back(buf[--n]);
}

void StrftimeKernel(const Expr& call, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                    EvalContext* ctx) {
  const Vec& x = args[0];
  const bool is_date = x.type().id == TypeId::kDate;
  RowFormat rf(call, args[1], kPrintDirectives);
  std::string buf;
  out->BeginStrings();
  ForRows(out->size(), sel, [&](int64_t i) {
    const Format* f = rf.Get(i, out, ctx);
    if (f == nullptr) return;
    int64_t days, tod;
    Split(is_date, x.Int(i), &days, &tod);
    Civil c = ToCivil(days);
    int64_t hour = tod / kMicrosPerHour;
    buf.clear();
    for (const FormatItem& it : f->items) {
      switch (it.kind) {
        case 0:
          buf.push_back(it.lit);
          break;
        case 'Y':
          AppendNumber(&buf, c.y, 4);
          break;
        case 'y':
          AppendNumber(&buf, FloorMod(c.y, 100), 2);
          break;
        case 'm':
          AppendNumber(&buf, c.m, 2);
          break;
        case 'd':
          AppendNumber(&buf, c.d, 2);
          break;
        case 'e':
          AppendNumber(&buf, c.d, 2, ' ');
          break;
        case 'H':
          AppendNumber(&buf, hour, 2);
          break;
        case 'I':
          AppendNumber(&buf, hour % 12 == 0 ? 12 : hour % 12, 2);
          break;
        case 'p':
          buf += hour < 12 ? "AM" : "PM";
          break;
        case 'M':
          AppendNumber(&buf, tod / kMicrosPerMinute % 60, 2);
          break;
        case 'S':
          AppendNumber(&buf, tod / kMicrosPerSecond % 60, 2);
          break;
        case 'f':
          AppendNumber(&buf, tod % kMicrosPerSecond, 6);
          break;
        case 'j':
          AppendNumber(&buf, days - DaysFromCivil(c.y, 1, 1) + 1, 3);
          break;
        case 'a':
          buf.append(kDayNames[DayOfWeek(days)], 3);
          break;
        case 'A':
          buf += kDayNames[DayOfWeek(days)];
          break;
        case 'b':
          buf.append(kMonthNames[c.m - 1], 3);
          break;
        case 'B':
          buf += kMonthNames[c.m - 1];
          break;
        case 'z':
          buf += "+0000";
          break;
        case 'Z':
          buf += "UTC";
          break;
      }
    }
    out->PutString(i, buf);
  });
  out->EndStrings();
}

}  // namespace

void AddDateTimeFunctions(std::vector<FunctionDef>* out) {
  out->push_back({"date_trunc", 2, 2, BindDateTrunc, DateTruncKernel, true,
                  "date_trunc(part, date|timestamp)"});
  out->push_back(
      {"date_part", 2, 2, BindDatePart, DatePartKernel, true, "date_part(part, date|timestamp)"});
  out->push_back(
      {"date_diff", 3, 3, BindDateDiff, DateDiffKernel, true, "date_diff(part, start, end)"});
  out->push_back(
      {"make_date", 3, 3, BindMakeDate, MakeDateKernel, true, "make_date(year, month, day)"});
  out->push_back({"to_timestamp", 1, 2, BindToTimestamp, ToTimestampKernel, true,
                  "to_timestamp(string, format) or to_timestamp(epoch_seconds)"});
  out->push_back(
      {"strftime", 2, 2, BindStrftime, StrftimeKernel, true, "strftime(date|timestamp, format)"});
}

}  // namespace sluice::expr
