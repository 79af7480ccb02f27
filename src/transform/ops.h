// Factories of the built-in operators, one per file (select_op.cc, ...). Only
// registry.cc and tests call them; everything else goes through MakeOperator.
#pragma once

#include <memory>

#include "core/status.h"
#include "transform/operator.h"

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
Result<std::unique_ptr<Operator>> NewSqlOp(const StepSpec& spec);
Result<std::unique_ptr<Operator>> NewLookupOp(const StepSpec& spec);

}  // namespace sluice
