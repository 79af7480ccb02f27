// Expression arguments of transform steps (filter, derive, aggregate, sql):
// compiling them with errors that point into the pipeline file, and turning
// rows whose evaluation failed into bad records.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/bad_record.h"
#include "core/column.h"
#include "core/status.h"
#include "expr/expr.h"
#include "transform/operator.h"

namespace sluice {

// JSON pointer of key `key` under `parent` ("" + "total" -> "/total").
std::string ArgPointer(const std::string& parent, const std::string& key);

// The source of the expression text found at `pointer` in spec.args:
// file, line and column from spec.positions, context = the step kind.
expr::SourceText ArgSource(const StepSpec& spec, const std::string& pointer,
                           const std::string& text);

// The keys of the object at `pointer` in the order they were written.
std::vector<std::string> KeysInOrder(const StepSpec& spec, const std::string& pointer,
                                     const nlohmann::json& object);

// Parses and binds the expression string at `pointer` against `schema`.
Result<expr::ExprPtr> CompileArg(const StepSpec& spec, const std::string& pointer,
                                 const std::string& text, const Schema& schema,
                                 const expr::BindOptions& options = {});

// The expression text of `value` (at `pointer` in spec.args), or an error
// naming `what`. Numbers keep the spelling written in the spec.
Result<std::string> ExprArgText(const StepSpec& spec, const std::string& pointer,
                                const nlohmann::json& value, std::string_view what);

// Adds one bad record per failed row of ctx (field = `field`, reason = the
// error, raw = the row as CSV) and returns the failed rows, ascending.
std::vector<uint32_t> RowErrorsToBadRecords(const expr::EvalContext& ctx, const RecordBatch& batch,
                                            std::string_view field, std::vector<BadRecord>* bad);

// `sel` (or all n rows when null) without the rows in `drop` (both ascending).
expr::Sel WithoutRows(const expr::Sel* sel, int64_t n, const std::vector<uint32_t>& drop);

}  // namespace sluice
