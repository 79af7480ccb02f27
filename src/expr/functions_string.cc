// String functions. Lengths and positions count UTF-8 characters (bytes that
// do not start a well-formed character count as one); lower/upper fold ASCII
// letters only.
#include <cctype>
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

template <int (*kFold)(int)>
void FoldKernel(const Expr&, const std::vector<Vec>& args, const Sel* sel, Vec* out,
                EvalContext*) {
  out->BeginStrings();
  std::string buf;
  ForRows(out->size(), sel, [&](int64_t i) {
    std::string_view s = args[0].Str(i);
    buf.assign(s.begin(), s.end());
    for (char& c : buf) {
      if (static_cast<unsigned char>(c) < 0x80) c = static_cast<char>(kFold(c));
    }
    out->PutString(i, buf);
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

}  // namespace

void AddStringFunctions(std::vector<FunctionDef>* out) {
  out->push_back({"concat", 1, -1, BindConcat, ConcatKernel, false, "concat(any, ...)"});
  out->push_back({"concat_strict", 2, 2, BindStrings, ConcatStrictKernel, true, ""});
  out->push_back({"lower", 1, 1, BindStrings, FoldKernel<std::tolower>, true, "lower(string)"});
  out->push_back({"upper", 1, 1, BindStrings, FoldKernel<std::toupper>, true, "upper(string)"});
  out->push_back({"length", 1, 1, BindLength, LengthKernel, true, "length(string)"});
}

}  // namespace sluice::expr
