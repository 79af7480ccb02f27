// The lookup step's arguments, shared by its YAML form (lookup_op.cc) and the
// JOIN of the sql step (sql_op.cc).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "transform/expr_ops.h"
#include "transform/operator.h"
#include "transform/reference.h"

namespace sluice {

struct LookupArgs {
  ReferenceSource source;
  std::vector<ExprArg> input_keys;    // expressions over the input
  std::vector<std::string> ref_keys;  // reference columns, same length
  // Reference columns to add, as (column, output name); empty: every column
  // but the keys (all of them with include_keys), named prefix + column.
  std::vector<std::pair<std::string, std::string>> columns;
  std::string prefix;
  bool include_keys = false;
  bool left = true;  // false: inner join
};

// The lookup of `args.source`, whose table must be among `references` by the
// time the step is bound (else Bind is kInternal: references are opened
// before binding, never by it).
std::unique_ptr<Operator> MakeLookupOp(const StepSpec& spec, LookupArgs args,
                                       const ResolvedReferences* references);

}  // namespace sluice
