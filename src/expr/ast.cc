#include "expr/ast.h"

#include <cctype>

namespace sluice::expr {
namespace {

std::string Quote(const std::string& s, char q) {
  std::string out(1, q);
  for (char c : s) {
    out += c;
    if (c == q) out += q;
  }
  out += q;
  return out;
}

bool PlainIdentifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

std::string Ident(const Node& n, const std::string& s) {
  return n.flag && !PlainIdentifier(s) ? Quote(s, '"') : s;
}

}  // namespace

NodePtr CloneNode(const Node& node) {
  auto out = std::make_unique<Node>();
  out->kind = node.kind;
  out->pos = node.pos;
  out->op = node.op;
  out->name = node.name;
  out->qualifier = node.qualifier;
  out->literal_kind = node.literal_kind;
  out->text = node.text;
  out->negated = node.negated;
  out->flag = node.flag;
  out->has_operand = node.has_operand;
  out->has_else = node.has_else;
  out->cast_type = node.cast_type;
  for (const auto& a : node.args) out->args.push_back(CloneNode(*a));
  return out;
}

std::string NodeToSql(const Node& n) {
  auto arg = [&](size_t i) { return NodeToSql(*n.args[i]); };
  switch (n.kind) {
    case NodeKind::kLiteral:
      switch (n.literal_kind) {
        case LiteralKind::kNull:
          return "NULL";
        case LiteralKind::kBool:
          return n.text == "true" ? "TRUE" : "FALSE";
        case LiteralKind::kString:
          return Quote(n.text, '\'');
        case LiteralKind::kDate:
          return "DATE " + Quote(n.text, '\'');
        case LiteralKind::kTimestamp:
          return "TIMESTAMP " + Quote(n.text, '\'');
        default:
          return n.text;
      }
    case NodeKind::kColumn:
      return (n.qualifier.empty() ? "" : n.qualifier + ".") + Ident(n, n.name);
    case NodeKind::kStar:
      return "*";
    case NodeKind::kUnary:
      return n.op == "NOT" ? "NOT " + arg(0) : "-" + arg(0);
    case NodeKind::kBinary:
      return "(" + arg(0) + " " + n.op + " " + arg(1) + ")";
    case NodeKind::kIsNull:
      return arg(0) + (n.negated ? " IS NOT NULL" : " IS NULL");
    case NodeKind::kIn: {
      std::string s = arg(0) + (n.negated ? " NOT IN (" : " IN (");
      for (size_t i = 1; i < n.args.size(); ++i) s += (i > 1 ? ", " : "") + arg(i);
      return s + ")";
    }
    case NodeKind::kBetween:
      return arg(0) + (n.negated ? " NOT BETWEEN " : " BETWEEN ") + arg(1) + " AND " + arg(2);
    case NodeKind::kLike:
      return arg(0) + (n.negated ? " NOT" : "") + (n.flag ? " ILIKE " : " LIKE ") + arg(1);
    case NodeKind::kCase: {
      std::string s = "CASE";
      size_t i = 0;
      if (n.has_operand) s += " " + arg(i++);
      size_t pairs_end = n.args.size() - (n.has_else ? 1 : 0);
      for (; i + 1 < pairs_end; i += 2) {
        s += " WHEN " + arg(i) + " THEN " + arg(i + 1);
      }
      if (n.has_else) s += " ELSE " + arg(n.args.size() - 1);
      return s + " END";
    }
    case NodeKind::kCast:
      return std::string(n.flag ? "TRY_CAST(" : "CAST(") + arg(0) + " AS " +
             n.cast_type.ToString() + ")";
    case NodeKind::kCall: {
      std::string s = n.name + "(" + (n.flag ? "DISTINCT " : "");
      for (size_t i = 0; i < n.args.size(); ++i) s += (i ? ", " : "") + arg(i);
      return s + ")";
    }
  }
  return "";
}

}  // namespace sluice::expr
