// The single list of transform step kinds. Adding an operator: write
// <verb>_op.cc with a New<Verb>Op factory (declared in ops.h) and add one row
// here.
#include <string>

#include "transform/ops.h"
#include "transform/step_args.h"

namespace sluice {
namespace {

struct OperatorKind {
  const char* name;
  Result<std::unique_ptr<Operator>> (*make)(const StepSpec&);
};

constexpr OperatorKind kKinds[] = {
    {"aggregate", NewAggregateOp}, {"cast", NewCastOp},     {"dedupe", NewDedupeOp},
    {"derive", NewDeriveOp},       {"drop", NewDropOp},     {"filter", NewFilterOp},
    {"lookup", NewLookupOp},       {"rename", NewRenameOp}, {"route", NewRouteOp},
    {"select", NewSelectOp},       {"sql", NewSqlOp},
};

}  // namespace

Result<std::unique_ptr<Operator>> MakeOperator(const StepSpec& spec) {
  for (const auto& k : kKinds) {
    if (spec.kind == k.name) return k.make(spec);
  }
  std::string known;
  for (const auto& k : kKinds) known += (known.empty() ? "" : ", ") + std::string(k.name);
  std::string where = spec.where.empty() ? "" : spec.where + ": ";
  return Status::InvalidArgument(where + "unknown transform step '" + spec.kind +
                                 "' (known: " + known + ")");
}

std::vector<std::string> OperatorKinds() {
  std::vector<std::string> out;
  for (const auto& k : kKinds) out.emplace_back(k.name);
  return out;
}

}  // namespace sluice
