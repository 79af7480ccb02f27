// Factories of the built-in operators, one per file (select_op.cc, ...). Only
// registry.cc and tests call them; everything else goes through MakeOperator.
#pragma once

#include <memory>

#include "core/status.h"
#include "transform/operator.h"
#include "transform/reference.h"

namespace sluice {

Result<std::unique_ptr<Operator>> NewSelectOp(const StepSpec& spec);
Result<std::unique_ptr<Operator>> NewRenameOp(const StepSpec& spec);
Result<std::unique_ptr<Operator>> NewDropOp(const StepSpec& spec);
Result<std::unique_ptr<Operator>> NewCastOp(const StepSpec& spec);
Result<std::unique_ptr<Operator>> NewDedupeOp(const StepSpec& spec);
Result<std::unique_ptr<Operator>> NewFilterOp(const StepSpec& spec);
Result<std::unique_ptr<Operator>> NewDeriveOp(const StepSpec& spec);
Result<std::unique_ptr<Operator>> NewAggregateOp(const StepSpec& spec);
Result<std::unique_ptr<Operator>> NewRouteOp(const StepSpec& spec);
// The steps that read reference tables take them from the open ones.
Result<std::unique_ptr<Operator>> NewSqlOp(const StepSpec& spec,
                                           const ResolvedReferences* references);
Result<std::unique_ptr<Operator>> NewLookupOp(const StepSpec& spec,
                                              const ResolvedReferences* references);
// The reference a lookup step reads, and the one a sql step JOINs (if any).
std::vector<std::string> LookupReferences(const StepSpec& spec);
std::vector<std::string> SqlReferences(const StepSpec& spec);

}  // namespace sluice
