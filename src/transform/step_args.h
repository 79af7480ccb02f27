// Reading a step's JSON arguments into an operator's typed config, with
// errors of the form "FILE:LINE: KIND: message" (FILE:LINE is StepSpec::where).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "core/types.h"
#include "transform/operator.h"

namespace sluice {

// kInvalidArgument "WHERE: KIND: message".
Status StepError(const StepSpec& spec, std::string_view message);

// Rejects keys of `obj` not in `known`.
Status CheckArgKeys(const StepSpec& spec, const nlohmann::json& obj,
                    std::initializer_list<std::string_view> known);

// A non-empty list of distinct column names. `what` names the argument in errors.
Result<std::vector<std::string>> NameListArg(const StepSpec& spec, const nlohmann::json& value,
                                             std::string_view what);

// The column list of select/drop: a plain list, or {columns: [...]}.
Result<std::vector<std::string>> ColumnsArg(const StepSpec& spec);

// Index of `name` in `schema`, or an error listing the available columns.
Result<int> FindColumn(const StepSpec& spec, const Schema& schema, const std::string& name);

// The batch with only the columns at `indices` (moved, not copied), in that
// order, under `schema`; shared by select and drop.
RecordBatch TakeColumns(RecordBatch&& batch, const std::vector<int>& indices, const Schema& schema);

}  // namespace sluice
