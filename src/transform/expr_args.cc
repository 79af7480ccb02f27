#include "transform/expr_args.h"

#include <algorithm>

#include "core/cell_text.h"
#include "expr/parser.h"
#include "transform/expr_ops.h"
#include "transform/step_args.h"

namespace sluice {

std::string ArgPointer(const std::string& parent, const std::string& key) {
  std::string out = parent + "/";
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

expr::SourceText ArgSource(const StepSpec& spec, const std::string& pointer,
                           const std::string& text) {
  expr::SourceText src;
  src.text = text;
  src.context = spec.kind;
  auto it = spec.positions.find(pointer);
  if (it != spec.positions.end() && !spec.file.empty()) {
    src.file = spec.file;
    src.line = it->second.line;
    src.column = it->second.column;
  } else {
    src.file = spec.where;  // "file:line" of the step, or empty
  }
  return src;
}

std::vector<std::string> KeysInOrder(const StepSpec& spec, const std::string& pointer,
                                     const nlohmann::json& object) {
  std::vector<std::pair<int, std::string>> keyed;
  int fallback = 1 << 30;
  for (const auto& [key, value] : object.items()) {
    auto it = spec.positions.find(ArgPointer(pointer, key));
    keyed.emplace_back(it != spec.positions.end() ? it->second.order : fallback++, key);
  }
  std::sort(keyed.begin(), keyed.end());
  std::vector<std::string> out;
  for (auto& [order, key] : keyed) out.push_back(std::move(key));
  return out;
}

Result<expr::ExprPtr> CompileArg(const StepSpec& spec, const std::string& pointer,
                                 const std::string& text, const Schema& schema,
                                 const expr::BindOptions& options) {
  return expr::CompileExpression(ArgSource(spec, pointer, text), schema, options);
}

Result<ExprArg> ParseExprArg(const StepSpec& spec, const std::string& pointer,
                             const std::string& text, std::string name) {
  ExprArg arg;
  arg.name = std::move(name);
  arg.src = ArgSource(spec, pointer, text);
  ASSIGN_OR_RETURN(arg.node, expr::ParseExpression(arg.src));
  return arg;
}

Result<std::string> ExprArgText(const StepSpec& spec, const std::string& pointer,
                                const nlohmann::json& value, std::string_view what) {
  if (value.is_string()) {
    std::string s = value.get<std::string>();
    if (s.find_first_not_of(" \t\r\n") == std::string::npos) {
      return StepError(spec, std::string(what) + " must not be empty");
    }
    return s;
  }
  // Plain YAML numbers and booleans are expressions too (`flag: true`).
  if (value.is_number() || value.is_boolean()) {
    auto it = spec.positions.find(pointer);
    if (it != spec.positions.end() && !it->second.scalar.empty()) return it->second.scalar;
    return value.dump();
  }
  return StepError(
      spec, std::string(what) + " must be an SQL expression (a string), got " + value.dump());
}

std::vector<uint32_t> RowErrorsToBadRecords(const expr::EvalContext& ctx, const RecordBatch& batch,
                                            std::string_view field, std::vector<BadRecord>* bad) {
  std::vector<uint32_t> rows;
  rows.reserve(ctx.errors().size());
  for (const auto& err : ctx.errors()) rows.push_back(static_cast<uint32_t>(err.row));
  std::vector<size_t> order(ctx.errors().size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return ctx.errors()[a].row < ctx.errors()[b].row; });
  if (bad != nullptr) {
    for (size_t k : order) {
      const auto& err = ctx.errors()[k];
      BadRecord rec;
      rec.line = batch.source_lines.empty() ? 0 : batch.source_lines[err.row];
      rec.field = std::string(field);
      rec.reason = err.message;
      rec.raw = RowAsCsv(batch, err.row);
      bad->push_back(std::move(rec));
    }
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

expr::Sel WithoutRows(const expr::Sel* sel, int64_t n, const std::vector<uint32_t>& drop) {
  expr::Sel out;
  size_t d = 0;
  expr::ForRows(n, sel, [&](int64_t i) {
    while (d < drop.size() && drop[d] < i) ++d;
    if (d < drop.size() && drop[d] == i) return;
    out.push_back(static_cast<uint32_t>(i));
  });
  return out;
}

}  // namespace sluice
