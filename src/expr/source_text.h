// Where an expression's text came from, for errors that point at it:
//
//   pipelines/orders.yaml:14:23: unknown column 'amout' (columns: id, amount)
//     amout * 1.2 > 10
//     ^
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace sluice::expr {

struct SourceText {
  std::string text;
  std::string file;     // empty when not from a file
  int line = 0;         // 1-based line of text[0] in the file; 0 = unknown
  int column = 1;       // 1-based column of text[0] on that line
  std::string context;  // e.g. the step kind: "FILE:LINE:COL: CONTEXT: message"
};

// kInvalidArgument "FILE:LINE:COL: MESSAGE" followed by the line of the text
// that holds `pos` and a caret under it.
Status ExprError(const SourceText& src, int pos, std::string_view message);

}  // namespace sluice::expr
