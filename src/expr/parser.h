// SQL expression and SELECT statement parser (hand-written, recursive descent).
//
// Precedence, loosest first: OR; AND; NOT; comparisons (= == <> != < <= > >=,
// IS [NOT] NULL, [NOT] IN (...), [NOT] BETWEEN .. AND .., [NOT] LIKE/ILIKE);
// ||; + -; * / %; unary - +; postfix ::type; primaries (literals, columns,
// (expr), calls, CASE, CAST/TRY_CAST, EXTRACT(field FROM e), DATE '...',
// TIMESTAMP '...'). Keywords are case-insensitive; "quoted" identifiers keep
// their case and may be keywords. Strings are '...' with '' for a quote.
// Errors are ExprError()s pointing at the offending token.
#pragma once

#include "core/status.h"
#include "expr/ast.h"
#include "expr/source_text.h"

namespace sluice::expr {

Result<NodePtr> ParseExpression(const SourceText& src);
Result<SelectStatement> ParseSelect(const SourceText& src);
// One select-list item on its own: `expr [[AS] alias]` (group keys).
Result<SelectItem> ParseSelectItem(const SourceText& src);

}  // namespace sluice::expr
