// String functions. Lengths and positions count UTF-8 characters (bytes that
// do not start a well-formed character count as one); lower/upper fold ASCII
// letters only.
//
// Semantics follow PostgreSQL; where PostgreSQL and DuckDB differ:
//   substr(s, start, len)  PostgreSQL: the window [start, start + len) is cut
//                          to the string, so substr('abc', 0, 2) = 'a'; a
//                          negative length is a row error.
//   split_part(s, d, n)    n < 0 counts from the end (PostgreSQL 14, DuckDB);
//                          n = 0 is a row error; an empty delimiter leaves
//                          the whole string as the only field (PostgreSQL;
//                          DuckDB splits into characters).
//   strpos(s, '')          1 (both).
//   left/right(s, n)       n < 0: all but the last / first |n| characters.
//   lpad/rpad(s, n, fill)  a string longer than n is cut to its first n
//                          characters (both); an empty fill leaves a shorter
//                          string as it is; results longer than 1,000,000
//                          characters are a row error.
//   trim(s, chars)         chars is a set of (UTF-8) characters.
// Regular expressions are RE2 (not POSIX): regexp_matches is a partial match
// returning bool (DuckDB; PostgreSQL's returns the captured groups);
// regexp_replace replaces the first match unless the flags hold 'g', with
// RE2 rewrite syntax (\0 the match, \1..\9 the groups, \\ a backslash);
// regexp_extract(s, pattern[, group]) is DuckDB's ('' when nothing matches).
// Flags: i (case-insensitive), c (case-sensitive, the default), s (. matches
// a newline), m (^ and $ match at line breaks), g (regexp_replace only).
// A malformed constant pattern, flag string or rewrite is a bind error; one
// that comes from a column fails its row.
#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <string>

#include "expr/functions.h"

namespace sluice::expr {
namespace {

Result<DataType> BindStrings(FunctionBinder& b) {
  for (size_t i = 0; i < b.argc(); ++i) RETURN_IF_ERROR(ArgIsString(b, i));
  return DataType::String();
}

// concat(a, b, ...): NULL arguments are skipped; any type is converted to text.
Result<DataType> BindConcat(FunctionBinder& b) {
  RETURN_IF_ERROR(ArgsAre(b, DataType::String()));
  return DataType::String();
}

void ConcatKernel(const Expr&, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                  EvalContext*) {
  out->BeginStrings();
  ForRows(out->size(), sel, [&](int64_t i) {
    out->PutString(i, {});
    for (const Vec& a : args) {
      if (a.IsValid(i)) out->AppendToString(i, a.Str(i));
    }
  });
  out->EndStrings();
}

// a || b (strict: the evaluator already made NULL rows null).
void ConcatStrictKernel(const Expr&, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                        EvalContext*) {
  out->BeginStrings();
  ForRows(out->size(), sel, [&](int64_t i) {
    out->PutString(i, args[0].Str(i));
    out->AppendToString(i, args[1].Str(i));
  });
  out->EndStrings();
}

// ASCII case folding in place in the output bytes (no locale lookups, no
// copy per row): `kFrom`..`kFrom+25` move by `kDelta`.
template <char kFrom, int kDelta>
void FoldKernel(const Expr&, const std::vector<Vec>& args, const Sel* sel, Vec* out, EvalContext*) {
  out->BeginStrings();
  std::vector<char>* bytes = out->string_bytes();
  ForRows(out->size(), sel, [&](int64_t i) {
    std::string_view s = args[0].Str(i);
    out->PutString(i, s);
    char* p = bytes->data() + bytes->size() - s.size();
    for (size_t k = 0; k < s.size(); ++k) {
      unsigned char c = static_cast<unsigned char>(p[k]);
      if (static_cast<unsigned>(c - static_cast<unsigned char>(kFrom)) < 26u)
        p[k] = static_cast<char>(c + kDelta);
    }
  });
  out->EndStrings();
}

Result<DataType> BindLength(FunctionBinder& b) {
  RETURN_IF_ERROR(ArgIsString(b, 0));
  return DataType::Int64();
}

int64_t Utf8Length(std::string_view s) {
  int64_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

void LengthKernel(const Expr&, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                  EvalContext*) {
  int64_t* o = out->mutable_ints();
  ForRows(out->size(), sel, [&](int64_t i) { o[i] = Utf8Length(args[0].Str(i)); });
}

// ---- UTF-8 helpers

inline bool IsCont(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// The byte offset n characters after `pos` (the end when there are fewer).
size_t SkipChars(std::string_view s, size_t pos, int64_t n) {
  while (n > 0 && pos < s.size()) {
    ++pos;
    while (pos < s.size() && IsCont(s[pos])) ++pos;
    --n;
  }
  return pos;
}

// The byte offset where the character ending at `end` (> 0) starts.
size_t CharStartBefore(std::string_view s, size_t end) {
  size_t p = end - 1;
  while (p > 0 && IsCont(s[p])) --p;
  return p;
}

constexpr int64_t kMaxPadChars = 1000000;

// ---- trim

// A set of characters to strip: ASCII ones in a table, others as byte runs.
class CharSet {
 public:
  void Build(std::string_view chars) {
    std::fill(std::begin(ascii_), std::end(ascii_), false);
    chars_.assign(chars.begin(), chars.end());
    multi_.clear();
    for (size_t p = 0; p < chars_.size();) {
      size_t q = SkipChars(chars_, p, 1);
      if (q - p == 1 && static_cast<unsigned char>(chars_[p]) < 0x80) {
        ascii_[static_cast<unsigned char>(chars_[p])] = true;
      } else {
        multi_.push_back({static_cast<uint32_t>(p), static_cast<uint32_t>(q - p)});
      }
      p = q;
    }
  }
  const std::string& chars() const { return chars_; }
  // Whether the character s[from, to) is in the set.
  bool Has(std::string_view s, size_t from, size_t to) const {
    if (to - from == 1 && static_cast<unsigned char>(s[from]) < 0x80) {
      return ascii_[static_cast<unsigned char>(s[from])];
    }
    std::string_view c = s.substr(from, to - from);
    for (const auto& [off, len] : multi_) {
      if (std::string_view(chars_).substr(off, len) == c) return true;
    }
    return false;
  }

 private:
  bool ascii_[128] = {};
  std::string chars_;
  std::vector<std::pair<uint32_t, uint32_t>> multi_;
};

Result<DataType> BindTrim(FunctionBinder& b) {
  for (size_t i = 0; i < b.argc(); ++i) RETURN_IF_ERROR(ArgIsString(b, i));
  return DataType::String();
}

template <bool kLeft, bool kRight>
void TrimKernel(const Expr&, const std::vector<Vec>& args, const Sel* sel, Vec* out, EvalContext*) {
  CharSet set;
  bool built = false;
  if (args.size() == 1) {
    set.Build(" ");
    built = true;
  }
  out->BeginStrings();
  ForRows(out->size(), sel, [&](int64_t i) {
    if (args.size() > 1) {
      std::string_view chars = args[1].Str(i);
      if (!built || chars != set.chars()) set.Build(chars);
      built = true;
    }
    std::string_view s = args[0].Str(i);
    size_t from = 0, to = s.size();
    if (kLeft) {
      while (from < to) {
        size_t next = SkipChars(s, from, 1);
        if (!set.Has(s, from, next)) break;
        from = next;
      }
    }
    if (kRight) {
      while (to > from) {
        size_t start = std::max(CharStartBefore(s, to), from);
        if (!set.Has(s, start, to)) break;
        to = start;
      }
    }
    out->PutString(i, s.substr(from, to - from));
  });
  out->EndStrings();
}

// ---- substr, left, right, reverse, pad

Result<DataType> BindStringInts(FunctionBinder& b) {
  RETURN_IF_ERROR(ArgIsString(b, 0));
  for (size_t i = 1; i < b.argc(); ++i) RETURN_IF_ERROR(ArgIsInteger(b, i));
  return DataType::String();
}

void SubstrKernel(const Expr& call, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                  EvalContext* ctx) {
  const bool has_len = args.size() > 2;
  out->BeginStrings();
  ForRows(out->size(), sel, [&](int64_t i) {
    std::string_view s = args[0].Str(i);
    int64_t start = args[1].Int(i);
    __int128 from = std::max<int64_t>(start, 1);
    __int128 count = static_cast<__int128>(INT64_MAX);
    if (has_len) {
      int64_t len = args[2].Int(i);
      if (len < 0) {
        out->SetNull(i);
        ctx->Fail(i, call, "negative substring length not allowed");
        return;
      }
      __int128 end = static_cast<__int128>(start) + len;  // exclusive, 1-based
      count = end > from ? end - from : 0;
    }
    size_t b = SkipChars(s, 0, static_cast<int64_t>(std::min<__int128>(from - 1, INT64_MAX)));
    size_t e = SkipChars(s, b, static_cast<int64_t>(std::min<__int128>(count, INT64_MAX)));
    out->PutString(i, s.substr(b, e - b));
  });
  out->EndStrings();
}

template <bool kLeft>
void LeftRightKernel(const Expr&, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                     EvalContext*) {
  out->BeginStrings();
  ForRows(out->size(), sel, [&](int64_t i) {
    std::string_view s = args[0].Str(i);
    int64_t n = args[1].Int(i);
    int64_t total = Utf8Length(s);
    // Characters kept from the start (left) or dropped from the start (right).
    int64_t k;
    if (kLeft) {
      k = n >= 0 ? n : std::max<int64_t>(total - std::min<int64_t>(-(n + 1), total) - 1, 0);
      out->PutString(i, s.substr(0, SkipChars(s, 0, k)));
    } else {
      k = n >= 0 ? std::max<int64_t>(total - n, 0) : (n == INT64_MIN ? total : -n);
      out->PutString(i, s.substr(SkipChars(s, 0, k)));
    }
  });
  out->EndStrings();
}

void ReverseKernel(const Expr&, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                   EvalContext*) {
  out->BeginStrings();
  std::string buf;
  ForRows(out->size(), sel, [&](int64_t i) {
    std::string_view s = args[0].Str(i);
    buf.clear();
    for (size_t end = s.size(); end > 0;) {
      size_t start = CharStartBefore(s, end);
      buf.append(s.substr(start, end - start));
      end = start;
    }
    out->PutString(i, buf);
  });
  out->EndStrings();
}

Result<DataType> BindPad(FunctionBinder& b) {
  RETURN_IF_ERROR(ArgIsString(b, 0));
  RETURN_IF_ERROR(ArgIsInteger(b, 1));
  if (b.argc() > 2) RETURN_IF_ERROR(ArgIsString(b, 2));
  return DataType::String();
}

template <bool kLeft>
void PadKernel(const Expr& call, const std::vector<Vec>& args, const Sel* sel, Vec* out,
               EvalContext* ctx) {
  out->BeginStrings();
  std::string buf;
  ForRows(out->size(), sel, [&](int64_t i) {
    std::string_view s = args[0].Str(i);
    int64_t n = args[1].Int(i);
    std::string_view fill = args.size() > 2 ? args[2].Str(i) : std::string_view(" ");
    if (n <= 0) {
      out->PutString(i, {});
      return;
    }
    if (n > kMaxPadChars) {
      out->SetNull(i);
      ctx->Fail(i, call, "requested length too large (at most 1000000 characters)");
      return;
    }
    int64_t len = Utf8Length(s);
    if (len >= n) {
      out->PutString(i, s.substr(0, SkipChars(s, 0, n)));
      return;
    }
    if (fill.empty()) {
      out->PutString(i, s);
      return;
    }
    buf.clear();
    size_t f = 0;
    for (int64_t k = len; k < n; ++k) {
      size_t next = SkipChars(fill, f, 1);
      buf.append(fill.substr(f, next - f));
      f = next == fill.size() ? 0 : next;
    }
    if (kLeft) {
      out->PutString(i, buf);
      out->AppendToString(i, s);
    } else {
      out->PutString(i, s);
      out->AppendToString(i, buf);
    }
  });
  out->EndStrings();
}

// ---- replace, split_part, searching

void ReplaceKernel(const Expr&, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                   EvalContext*) {
  out->BeginStrings();
  ForRows(out->size(), sel, [&](int64_t i) {
    std::string_view s = args[0].Str(i), from = args[1].Str(i), to = args[2].Str(i);
    if (from.empty()) {
      out->PutString(i, s);
      return;
    }
    out->PutString(i, {});
    size_t p = 0;
    for (size_t q; (q = s.find(from, p)) != std::string_view::npos; p = q + from.size()) {
      out->AppendToString(i, s.substr(p, q - p));
      out->AppendToString(i, to);
    }
    out->AppendToString(i, s.substr(p));
  });
  out->EndStrings();
}

Result<DataType> BindSplitPart(FunctionBinder& b) {
  RETURN_IF_ERROR(ArgIsString(b, 0));
  RETURN_IF_ERROR(ArgIsString(b, 1));
  RETURN_IF_ERROR(ArgIsInteger(b, 2));
  const Scalar* n = b.constant(2);
  if (n != nullptr && !n->null && n->i == 0) return b.Error(2, "field position must not be zero");
  return DataType::String();
}

void SplitPartKernel(const Expr& call, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                     EvalContext* ctx) {
  out->BeginStrings();
  ForRows(out->size(), sel, [&](int64_t i) {
    std::string_view s = args[0].Str(i), d = args[1].Str(i);
    int64_t n = args[2].Int(i);
    if (n == 0) {
      out->SetNull(i);
      ctx->Fail(i, call, "field position must not be zero");
      return;
    }
    int64_t fields = 1;
    if (!d.empty()) {
      for (size_t q = s.find(d); q != std::string_view::npos; q = s.find(d, q + d.size())) {
        ++fields;
      }
    }
    int64_t idx = n > 0 ? n - 1 : fields + n;  // 0-based
    if (idx < 0 || idx >= fields) {
      out->PutString(i, {});
      return;
    }
    if (d.empty()) {
      out->PutString(i, s);
      return;
    }
    size_t p = 0;
    for (int64_t k = 0; k < idx; ++k) p = s.find(d, p) + d.size();
    size_t q = s.find(d, p);
    out->PutString(i, s.substr(p, q == std::string_view::npos ? s.size() - p : q - p));
  });
  out->EndStrings();
}

Result<DataType> BindStringsToBool(FunctionBinder& b) {
  for (size_t i = 0; i < b.argc(); ++i) RETURN_IF_ERROR(ArgIsString(b, i));
  return DataType::Bool();
}

enum class Search { kStartsWith, kEndsWith, kContains };

template <Search kWhat>
void SearchKernel(const Expr&, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                  EvalContext*) {
  uint8_t* o = out->mutable_bools();
  ForRows(out->size(), sel, [&](int64_t i) {
    std::string_view s = args[0].Str(i), x = args[1].Str(i);
    bool r;
    if constexpr (kWhat == Search::kStartsWith) {
      r = s.substr(0, x.size()) == x;
    } else if constexpr (kWhat == Search::kEndsWith) {
      r = s.size() >= x.size() && s.substr(s.size() - x.size()) == x;
    } else {
      r = s.find(x) != std::string_view::npos;
    }
    o[i] = r;
  });
}

Result<DataType> BindStrpos(FunctionBinder& b) {
  for (size_t i = 0; i < b.argc(); ++i) RETURN_IF_ERROR(ArgIsString(b, i));
  return DataType::Int64();
}

void StrposKernel(const Expr&, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                  EvalContext*) {
  int64_t* o = out->mutable_ints();
  ForRows(out->size(), sel, [&](int64_t i) {
    std::string_view s = args[0].Str(i);
    size_t q = s.find(args[1].Str(i));
    o[i] = q == std::string_view::npos ? 0 : Utf8Length(s.substr(0, q)) + 1;
  });
}

// ---- regular expressions

struct RegexFlags {
  bool icase = false;
  bool dot_nl = false;
  bool multi_line = false;
  bool global = false;
};

// Parses a flag string; false (with a message) on an unknown flag.
bool ParseRegexFlags(std::string_view text, bool allow_global, RegexFlags* f, std::string* error) {
  *f = RegexFlags();
  for (char c : text) {
    switch (c) {
      case 'i':
        f->icase = true;
        break;
      case 'c':
        f->icase = false;
        break;
      case 's':
        f->dot_nl = true;
        break;
      case 'm':
        f->multi_line = true;
        break;
      case 'g':
        if (allow_global) {
          f->global = true;
          break;
        }
        [[fallthrough]];
      default:
        *error = "unknown regular expression flag '" + std::string(1, c) + "' (flags: i, c, s, m" +
                 (allow_global ? ", g)" : ")");
        return false;
    }
  }
  return true;
}

std::unique_ptr<RE2> CompileRegex(std::string_view pattern, const RegexFlags& f) {
  RE2::Options o;
  o.set_log_errors(false);
  o.set_case_sensitive(!f.icase);
  o.set_dot_nl(f.dot_nl);
  if (f.multi_line) {
    std::string p = "(?m)";
    p.append(pattern);
    return std::make_unique<RE2>(p, o);
  }
  return std::make_unique<RE2>(re2::StringPiece(pattern.data(), pattern.size()), o);
}

// The compiled pattern of a call whose pattern and flags are constants.
struct RegexState {
  std::unique_ptr<RE2> re;
  RegexFlags flags;
};

// Which argument holds what, per function.
struct RegexArgs {
  int flags = -1;  // flags argument, or -1
  bool allow_global = false;
};

RegexArgs RegexArgsOf(std::string_view name, size_t argc) {
  if (name == "regexp_matches") return {argc > 2 ? 2 : -1, false};
  if (name == "regexp_replace") return {argc > 3 ? 3 : -1, true};
  return {-1, false};  // regexp_extract
}

// Checks the string arguments, and compiles a constant pattern (with
// constant flags) into the call's state.
Result<const RegexState*> BindRegex(FunctionBinder& b) {
  RegexArgs ra = RegexArgsOf(b.name(), b.argc());
  for (size_t i = 0; i < b.argc(); ++i) {
    if (b.name() == "regexp_extract" && i == 2) continue;
    RETURN_IF_ERROR(ArgIsString(b, i));
  }
  const Scalar* pattern = b.constant(1);
  RegexFlags flags;
  bool flags_known = true;
  if (ra.flags >= 0) {
    const Scalar* fc = b.constant(ra.flags);
    if (fc == nullptr || fc->null) {
      flags_known = false;
    } else {
      std::string error;
      if (!ParseRegexFlags(fc->s, ra.allow_global, &flags, &error)) {
        return b.Error(ra.flags, error);
      }
    }
  }
  if (pattern == nullptr || pattern->null || !flags_known) return nullptr;
  auto state = std::make_shared<RegexState>();
  state->flags = flags;
  state->re = CompileRegex(pattern->s, flags);
  if (!state->re->ok()) {
    return b.Error(1, "invalid regular expression: " + state->re->error());
  }
  const RegexState* raw = state.get();
  b.SetState(std::move(state));
  return raw;
}

// The regex of each row: the call's compiled one, or compiled per row (the
// last one is kept, so a column repeating a pattern compiles it once).
class RowRegex {
 public:
  RowRegex(const Expr& call, const std::vector<Vec>& args)
      : call_(call), args_(args), ra_(RegexArgsOf(call.fn->name, args.size())) {
    fixed_ = static_cast<const RegexState*>(call.state.get());
  }

  // The regex for row i and its flags; null after failing the row.
  const RE2* Get(int64_t i, Vec* out, EvalContext* ctx, const RegexFlags** flags) {
    if (fixed_ != nullptr) {
      *flags = &fixed_->flags;
      return fixed_->re.get();
    }
    std::string_view pattern = args_[1].Str(i);
    std::string_view flag_text = ra_.flags >= 0 ? args_[ra_.flags].Str(i) : std::string_view();
    if (!have_ || pattern != last_pattern_ || flag_text != last_flags_) {
      have_ = true;
      last_pattern_.assign(pattern);
      last_flags_.assign(flag_text);
      error_.clear();
      re_.reset();
      if (ParseRegexFlags(flag_text, ra_.allow_global, &flags_, &error_)) {
        re_ = CompileRegex(pattern, flags_);
        if (!re_->ok()) error_ = "invalid regular expression: " + re_->error();
      }
    }
    if (!error_.empty()) {
      out->SetNull(i);
      ctx->Fail(i, call_, error_);
      return nullptr;
    }
    *flags = &flags_;
    return re_.get();
  }

 private:
  const Expr& call_;
  const std::vector<Vec>& args_;
  RegexArgs ra_;
  const RegexState* fixed_ = nullptr;
  bool have_ = false;
  std::string last_pattern_, last_flags_, error_;
  RegexFlags flags_;
  std::unique_ptr<RE2> re_;
};

inline re2::StringPiece Piece(std::string_view s) { return {s.data(), s.size()}; }

Result<DataType> BindRegexpMatches(FunctionBinder& b) {
  RETURN_IF_ERROR(BindRegex(b).status());
  return DataType::Bool();
}

void RegexpMatchesKernel(const Expr& call, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                         EvalContext* ctx) {
  RowRegex rx(call, args);
  uint8_t* o = out->mutable_bools();
  ForRows(out->size(), sel, [&](int64_t i) {
    const RegexFlags* flags;
    const RE2* re = rx.Get(i, out, ctx, &flags);
    if (re != nullptr) o[i] = RE2::PartialMatch(Piece(args[0].Str(i)), *re);
  });
}

Result<DataType> BindRegexpReplace(FunctionBinder& b) {
  ASSIGN_OR_RETURN(const RegexState* state, BindRegex(b));
  const Scalar* rewrite = b.constant(2);
  if (state != nullptr && rewrite != nullptr && !rewrite->null) {
    std::string error;
    if (!state->re->CheckRewriteString(rewrite->s, &error)) {
      return b.Error(2, "invalid replacement: " + error);
    }
  }
  return DataType::String();
}

void RegexpReplaceKernel(const Expr& call, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                         EvalContext* ctx) {
  RowRegex rx(call, args);
  std::string buf, error;
  out->BeginStrings();
  ForRows(out->size(), sel, [&](int64_t i) {
    const RegexFlags* flags;
    const RE2* re = rx.Get(i, out, ctx, &flags);
    if (re == nullptr) return;
    re2::StringPiece rewrite = Piece(args[2].Str(i));
    if (!re->CheckRewriteString(rewrite, &error)) {
      out->SetNull(i);
      ctx->Fail(i, call, "invalid replacement: " + error);
      return;
    }
    buf.assign(args[0].Str(i));
    if (flags->global) {
      RE2::GlobalReplace(&buf, *re, rewrite);
    } else {
      RE2::Replace(&buf, *re, rewrite);
    }
    out->PutString(i, buf);
  });
  out->EndStrings();
}

Result<DataType> BindRegexpExtract(FunctionBinder& b) {
  if (b.argc() > 2) RETURN_IF_ERROR(ArgIsInteger(b, 2));
  ASSIGN_OR_RETURN(const RegexState* state, BindRegex(b));
  const Scalar* group = b.argc() > 2 ? b.constant(2) : nullptr;
  if (group != nullptr && !group->null) {
    if (group->i < 0) return b.Error(2, "group number must not be negative");
    if (state != nullptr && group->i > state->re->NumberOfCapturingGroups()) {
      return b.Error(2, "group " + std::to_string(group->i) + " does not exist (the pattern has " +
                            std::to_string(state->re->NumberOfCapturingGroups()) + " groups)");
    }
  }
  return DataType::String();
}

void RegexpExtractKernel(const Expr& call, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                         EvalContext* ctx) {
  RowRegex rx(call, args);
  std::vector<re2::StringPiece> groups;
  out->BeginStrings();
  ForRows(out->size(), sel, [&](int64_t i) {
    const RegexFlags* flags;
    const RE2* re = rx.Get(i, out, ctx, &flags);
    if (re == nullptr) return;
    int64_t g = args.size() > 2 ? args[2].Int(i) : 0;
    if (g < 0 || g > re->NumberOfCapturingGroups()) {
      out->SetNull(i);
      ctx->Fail(i, call,
                "group " + std::to_string(g) + " does not exist (the pattern has " +
                    std::to_string(re->NumberOfCapturingGroups()) + " groups)");
      return;
    }
    groups.resize(static_cast<size_t>(g) + 1);
    re2::StringPiece s = Piece(args[0].Str(i));
    if (!re->Match(s, 0, s.size(), RE2::UNANCHORED, groups.data(), static_cast<int>(g) + 1) ||
        groups[g].data() == nullptr) {
      out->PutString(i, {});
      return;
    }
    out->PutString(i, std::string_view(groups[g].data(), groups[g].size()));
  });
  out->EndStrings();
}

}  // namespace

void AddStringFunctions(std::vector<FunctionDef>* out) {
  out->push_back({"concat", 1, -1, BindConcat, ConcatKernel, false, "concat(any, ...)"});
  out->push_back({"concat_strict", 2, 2, BindStrings, ConcatStrictKernel, true, ""});
  out->push_back({"lower", 1, 1, BindStrings, FoldKernel<'A', 32>, true, "lower(string)"});
  out->push_back({"upper", 1, 1, BindStrings, FoldKernel<'a', -32>, true, "upper(string)"});
  out->push_back({"length", 1, 1, BindLength, LengthKernel, true, "length(string)"});
  out->push_back(
      {"trim", 1, 2, BindTrim, TrimKernel<true, true>, true, "trim(string[, characters])"});
  out->push_back(
      {"ltrim", 1, 2, BindTrim, TrimKernel<true, false>, true, "ltrim(string[, characters])"});
  out->push_back(
      {"rtrim", 1, 2, BindTrim, TrimKernel<false, true>, true, "rtrim(string[, characters])"});
  out->push_back(
      {"substr", 2, 3, BindStringInts, SubstrKernel, true, "substr(string, start[, length])"});
  out->push_back({"substring", 2, 3, BindStringInts, SubstrKernel, true,
                  "substring(string, start[, length])"});
  out->push_back({"replace", 3, 3, BindStrings, ReplaceKernel, true, "replace(string, from, to)"});
  out->push_back({"split_part", 3, 3, BindSplitPart, SplitPartKernel, true,
                  "split_part(string, delimiter, n)"});
  out->push_back({"starts_with", 2, 2, BindStringsToBool, SearchKernel<Search::kStartsWith>, true,
                  "starts_with(string, prefix)"});
  out->push_back({"ends_with", 2, 2, BindStringsToBool, SearchKernel<Search::kEndsWith>, true,
                  "ends_with(string, suffix)"});
  out->push_back({"contains", 2, 2, BindStringsToBool, SearchKernel<Search::kContains>, true,
                  "contains(string, needle)"});
  out->push_back({"strpos", 2, 2, BindStrpos, StrposKernel, true, "strpos(string, needle)"});
  out->push_back({"left", 2, 2, BindStringInts, LeftRightKernel<true>, true, "left(string, n)"});
  out->push_back({"right", 2, 2, BindStringInts, LeftRightKernel<false>, true, "right(string, n)"});
  out->push_back({"lpad", 2, 3, BindPad, PadKernel<true>, true, "lpad(string, length[, fill])"});
  out->push_back({"rpad", 2, 3, BindPad, PadKernel<false>, true, "rpad(string, length[, fill])"});
  out->push_back({"reverse", 1, 1, BindStrings, ReverseKernel, true, "reverse(string)"});
  out->push_back({"regexp_matches", 2, 3, BindRegexpMatches, RegexpMatchesKernel, true,
                  "regexp_matches(string, pattern[, flags])"});
  out->push_back({"regexp_replace", 3, 4, BindRegexpReplace, RegexpReplaceKernel, true,
                  "regexp_replace(string, pattern, replacement[, flags])"});
  out->push_back({"regexp_extract", 2, 3, BindRegexpExtract, RegexpExtractKernel, true,
                  "regexp_extract(string, pattern[, group])"});
}

}  // namespace sluice::expr
