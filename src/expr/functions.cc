#include "expr/functions.h"

#include <algorithm>

namespace sluice::expr {
namespace {

const std::vector<FunctionDef>& Registry() {
  static const std::vector<FunctionDef> kAll = [] {
    std::vector<FunctionDef> all;
    AddStringFunctions(&all);
    AddDateTimeFunctions(&all);
    AddMathFunctions(&all);
    AddHashFunctions(&all);
    std::sort(all.begin(), all.end(), [](const FunctionDef& a, const FunctionDef& b) {
      return std::string_view(a.name) < std::string_view(b.name);
    });
    return all;
  }();
  return kAll;
}

}  // namespace

const FunctionDef* FindFunction(std::string_view name) {
  const auto& all = Registry();
  auto it = std::lower_bound(
      all.begin(), all.end(), name,
      [](const FunctionDef& f, std::string_view n) { return std::string_view(f.name) < n; });
  if (it == all.end() || std::string_view(it->name) != name) return nullptr;
  return &*it;
}

std::vector<std::string> FunctionNames() {
  std::vector<std::string> out;
  for (const auto& f : Registry()) {
    // The `||` operator's kernel is not offered by name.
    if (std::string_view(f.name) == "concat_strict") continue;
    out.emplace_back(f.name);
  }
  return out;
}

Status ArgsAre(FunctionBinder& b, const DataType& type) {
  for (size_t i = 0; i < b.argc(); ++i) RETURN_IF_ERROR(b.CastArg(i, type));
  return Status::OK();
}

Status ArgIsString(FunctionBinder& b, size_t i) {
  const Scalar* c = b.constant(i);
  if (b.type(i).id == TypeId::kString) return Status::OK();
  if (c != nullptr && c->null) return b.CastArg(i, DataType::String());
  return b.Error(static_cast<int>(i), "expected a string, got " + b.type(i).ToString());
}

Status ArgIsInteger(FunctionBinder& b, size_t i) {
  const Scalar* c = b.constant(i);
  TypeId t = b.type(i).id;
  if (t != TypeId::kInt32 && t != TypeId::kInt64 && !(c != nullptr && c->null)) {
    return b.Error(static_cast<int>(i), "expected an integer, got " + b.type(i).ToString());
  }
  return b.CastArg(i, DataType::Int64());
}

}  // namespace sluice::expr
