// The single list of transform step kinds. Adding an operator: write
// <verb>_op.cc with a New<Verb>Op factory (declared in ops.h) and add one row
// here.
#include <string>

#include "transform/ops.h"
#include "transform/step_args.h"

namespace sluice {
namespace {

using MakeFn = Result<std::unique_ptr<Operator>> (*)(const StepSpec&, const ResolvedReferences*);
using ReferencesFn = std::vector<std::string> (*)(const StepSpec&);

// A step that reads no reference table.
template <Result<std::unique_ptr<Operator>> (*New)(const StepSpec&)>
Result<std::unique_ptr<Operator>> Plain(const StepSpec& spec, const ResolvedReferences*) {
  return New(spec);
}

struct OperatorKind {
  const char* name;
  MakeFn make;
  ReferencesFn references = nullptr;  // null: reads none
};

constexpr OperatorKind kKinds[] = {
    {"aggregate", Plain<NewAggregateOp>},
    {"cast", Plain<NewCastOp>},
    {"dedupe", Plain<NewDedupeOp>},
    {"derive", Plain<NewDeriveOp>},
    {"drop", Plain<NewDropOp>},
    {"filter", Plain<NewFilterOp>},
    {"lookup", NewLookupOp, LookupReferences},
    {"rename", Plain<NewRenameOp>},
    {"route", Plain<NewRouteOp>},
    {"select", Plain<NewSelectOp>},
    {"sql", NewSqlOp, SqlReferences},
};

}  // namespace

Result<std::unique_ptr<Operator>> MakeOperator(const StepSpec& spec,
                                               const ResolvedReferences* references) {
  for (const auto& k : kKinds) {
    if (spec.kind == k.name) return k.make(spec, references);
  }
  std::string known;
  for (const auto& k : kKinds) known += (known.empty() ? "" : ", ") + std::string(k.name);
  std::string where = spec.where.empty() ? "" : spec.where + ": ";
  return Status::InvalidArgument(where + "unknown transform step '" + spec.kind +
                                 "' (known: " + known + ")");
}

std::vector<std::string> StepReferences(const StepSpec& spec) {
  for (const auto& k : kKinds) {
    if (spec.kind == k.name)
      return k.references != nullptr ? k.references(spec) : std::vector<std::string>{};
  }
  return {};
}

std::vector<std::string> OperatorKinds() {
  std::vector<std::string> out;
  for (const auto& k : kKinds) out.emplace_back(k.name);
  return out;
}

}  // namespace sluice
