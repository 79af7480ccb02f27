#include "expr/source_text.h"

#include <algorithm>

namespace sluice::expr {

Status ExprError(const SourceText& src, int pos, std::string_view message) {
  const std::string& t = src.text;
  pos = std::clamp(pos, 0, static_cast<int>(t.size()));
  size_t line_start = 0;
  if (pos > 0) {
    size_t nl = t.rfind('\n', pos - 1);
    if (nl != std::string::npos) line_start = nl + 1;
  }
  size_t line_end = t.find('\n', pos);
  if (line_end == std::string::npos) line_end = t.size();
  int lines_before = static_cast<int>(std::count(t.begin(), t.begin() + line_start, '\n'));
  int col = pos - static_cast<int>(line_start) + 1;
  // Only block scalars (| >) keep line breaks, and all their lines share the
  // indentation of the first.
  col += src.column - 1;

  std::string out;
  if (!src.file.empty()) {
    out += src.file;
    if (src.line > 0) {
      out += ":" + std::to_string(src.line + lines_before) + ":" + std::to_string(col);
    }
    out += ": ";
  }
  if (!src.context.empty()) out += src.context + ": ";
  out += message;
  std::string_view shown(t.data() + line_start, line_end - line_start);
  out += "\n    ";
  out += shown;
  out += "\n    ";
  // Tabs stay tabs so the caret lines up under them.
  for (size_t i = line_start; i < static_cast<size_t>(pos); ++i) out += t[i] == '\t' ? '\t' : ' ';
  out += '^';
  return Status::InvalidArgument(std::move(out));
}

}  // namespace sluice::expr
