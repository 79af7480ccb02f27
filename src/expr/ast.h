// The untyped syntax tree of an SQL expression (and of the SELECT statement a
// `sql:` step holds), as the parser produces it. Every node keeps the byte
// offset where it starts in the source text, so that later errors (unknown
// column, type mismatch, ...) can point a caret at it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/types.h"

namespace sluice::expr {

enum class NodeKind {
  kLiteral,  // literal_kind + text
  kColumn,   // name (as written; quoted identifiers keep their case)
  kStar,     // `*` inside count(*)
  kUnary,    // op "-" or "NOT"; args[0]
  kBinary,   // op: + - * / % || = <> < <= > >= AND OR; args[0], args[1]
  kIsNull,   // args[0] IS [NOT] NULL (negated)
  kIn,       // args[0] [NOT] IN (args[1..])
  kBetween,  // args[0] [NOT] BETWEEN args[1] AND args[2]
  kLike,     // args[0] [NOT] LIKE|ILIKE args[1] (flag = ILIKE)
  kCase,     // [operand] WHEN a THEN b ... [ELSE e]: see has_operand/has_else
  kCast,     // CAST(args[0] AS cast_type), TRY_CAST (flag), args[0]::type
  kCall,     // name(args...), name lower-cased; flag = DISTINCT
};

enum class LiteralKind { kNull, kBool, kInteger, kDecimal, kFloat, kString, kDate, kTimestamp };

struct Node {
  NodeKind kind = NodeKind::kLiteral;
  int pos = 0;  // byte offset of the node's first token in the source text
  std::string op;
  std::string name;
  std::string qualifier;  // kColumn: `r` in `r.name` (empty when unqualified)
  LiteralKind literal_kind = LiteralKind::kNull;
  std::string text;  // literal text (unquoted for strings)
  bool negated = false;
  bool flag = false;
  bool has_operand = false;  // CASE x WHEN ...
  bool has_else = false;
  DataType cast_type;
  std::vector<std::unique_ptr<Node>> args;
};
using NodePtr = std::unique_ptr<Node>;

NodePtr CloneNode(const Node& node);

// The SQL text of a node, normalised (used for default output column names
// and to match GROUP BY expressions with select items).
std::string NodeToSql(const Node& node);

// SELECT ... FROM input [AS a] [[LEFT|INNER] JOIN ref [AS r] ON cond]
// [WHERE cond] [GROUP BY e, ...] [HAVING cond]
struct SelectItem {
  NodePtr expr;      // null for `*`
  std::string text;  // the expression as written (the default column name)
  std::string alias;
  std::string star_qualifier;  // `r.*`
};

struct SelectStatement {
  std::vector<SelectItem> items;
  std::string from;
  std::string from_alias;
  bool has_join = false;
  bool left_join = true;
  std::string join_table;
  std::string join_alias;
  int join_pos = 0;
  NodePtr join_on;
  NodePtr where;
  std::vector<NodePtr> group_by;
  NodePtr having;
};

}  // namespace sluice::expr
