#include "expr/parser.h"

#include <cctype>
#include <string_view>

#include "core/value_text.h"

namespace sluice::expr {
namespace {

enum class Tok { kEnd, kIdent, kQuotedIdent, kString, kNumber, kOp };

struct Token {
  Tok kind = Tok::kEnd;
  int pos = 0;
  int end = 0;       // offset just past the token
  std::string text;  // identifier as written, unescaped string, number, operator
};

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Words that end an expression or a select item and so cannot be implicit
// aliases or bare column names.
constexpr std::string_view kReserved[] = {
    "and",   "or",    "not",      "is",     "null",  "in",    "between",  "like", "ilike",
    "case",  "when",  "then",     "else",   "end",   "cast",  "try_cast", "as",   "from",
    "where", "group", "by",       "having", "join",  "left",  "inner",    "on",   "select",
    "true",  "false", "distinct", "order",  "limit", "union", "right",    "full", "cross",
};

bool IsReserved(std::string_view word) {
  for (auto r : kReserved) {
    if (EqualsIgnoreCase(word, r)) return true;
  }
  return false;
}

class Parser {
 public:
  explicit Parser(const SourceText& src) : src_(src), t_(src.text) {}

  Status Init() { return Lex(); }

  Result<NodePtr> Expression() { return Or(); }

  Status ExpectEnd() {
    if (Peek().kind != Tok::kEnd) return Error(Peek(), "unexpected " + Describe(Peek()));
    return Status::OK();
  }

  Result<SelectStatement> Select();
  Result<SelectItem> Item();

 private:
  // ---- lexing
  Status Lex();
  const Token& Peek(int ahead = 0) const {
    size_t i = std::min(cur_ + ahead, tokens_.size() - 1);
    return tokens_[i];
  }
  Token Next() { return tokens_[cur_ < tokens_.size() - 1 ? cur_++ : cur_]; }
  bool IsKeyword(const Token& t, std::string_view kw) const {
    return t.kind == Tok::kIdent && EqualsIgnoreCase(t.text, kw);
  }
  bool AcceptKeyword(std::string_view kw) {
    if (!IsKeyword(Peek(), kw)) return false;
    ++cur_;
    return true;
  }
  bool AcceptOp(std::string_view op) {
    if (Peek().kind != Tok::kOp || Peek().text != op) return false;
    ++cur_;
    return true;
  }
  Status ExpectKeyword(std::string_view kw) {
    if (AcceptKeyword(kw)) return Status::OK();
    std::string upper;
    for (char c : kw) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return Error(Peek(), "expected " + upper + ", got " + Describe(Peek()));
  }
  Status ExpectOp(std::string_view op) {
    if (AcceptOp(op)) return Status::OK();
    return Error(Peek(), "expected '" + std::string(op) + "', got " + Describe(Peek()));
  }
  static std::string Describe(const Token& t) {
    switch (t.kind) {
      case Tok::kEnd:
        return "end of expression";
      case Tok::kString:
        return "string '" + t.text + "'";
      case Tok::kQuotedIdent:
        return "\"" + t.text + "\"";
      default:
        return "'" + t.text + "'";
    }
  }
  Status Error(const Token& t, std::string_view message) const {
    return ExprError(src_, t.pos, message);
  }

  // ---- grammar
  Result<NodePtr> Or();
  Result<NodePtr> And();
  Result<NodePtr> Not();
  Result<NodePtr> Comparison();
  Result<NodePtr> Concat();
  Result<NodePtr> Additive();
  Result<NodePtr> Multiplicative();
  Result<NodePtr> Unary();
  Result<NodePtr> Postfix();
  Result<NodePtr> Primary();
  Result<NodePtr> CaseExpr(int pos);
  Result<NodePtr> CastExpr(int pos, bool try_cast);
  Result<NodePtr> Call(const Token& name);
  Result<DataType> TypeName();
  Result<std::string> Identifier(std::string_view what);

  static NodePtr MakeNode(NodeKind kind, int pos) {
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->pos = pos;
    return n;
  }
  static NodePtr Binary(std::string op, int pos, NodePtr a, NodePtr b) {
    auto n = MakeNode(NodeKind::kBinary, pos);
    n->op = std::move(op);
    n->args.push_back(std::move(a));
    n->args.push_back(std::move(b));
    return n;
  }

  const SourceText& src_;
  std::string_view t_;
  std::vector<Token> tokens_;
  size_t cur_ = 0;
  int depth_ = 0;
};

Status Parser::Lex() {
  size_t i = 0, n = t_.size();
  while (i < n) {
    char c = t_[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (c == '-' && i + 1 < n && t_[i + 1] == '-') {  // comment to end of line
      while (i < n && t_[i] != '\n') ++i;
      continue;
    }
    Token tok;
    tok.pos = static_cast<int>(i);
    if (IsIdentStart(c)) {
      size_t j = i;
      while (j < n && IsIdentChar(t_[j])) ++j;
      tok.kind = Tok::kIdent;
      tok.text = std::string(t_.substr(i, j - i));
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < n && std::isdigit(static_cast<unsigned char>(t_[i + 1])))) {
      size_t j = i;
      while (j < n && std::isdigit(static_cast<unsigned char>(t_[j]))) ++j;
      if (j < n && t_[j] == '.') {
        ++j;
        while (j < n && std::isdigit(static_cast<unsigned char>(t_[j]))) ++j;
      }
      if (j < n && (t_[j] == 'e' || t_[j] == 'E')) {
        size_t k = j + 1;
        if (k < n && (t_[k] == '+' || t_[k] == '-')) ++k;
        if (k < n && std::isdigit(static_cast<unsigned char>(t_[k]))) {
          j = k;
          while (j < n && std::isdigit(static_cast<unsigned char>(t_[j]))) ++j;
        }
      }
      if (j < n && IsIdentChar(t_[j])) {
        return ExprError(src_, static_cast<int>(j), "malformed number");
      }
      tok.kind = Tok::kNumber;
      tok.text = std::string(t_.substr(i, j - i));
      i = j;
    } else if (c == '\'' || c == '"') {
      size_t j = i + 1;
      std::string text;
      for (;;) {
        if (j >= n) {
          return ExprError(src_, tok.pos,
                           c == '\'' ? "unterminated string" : "unterminated quoted identifier");
        }
        if (t_[j] == c) {
          if (j + 1 < n && t_[j + 1] == c) {
            text += c;
            j += 2;
            continue;
          }
          ++j;
          break;
        }
        text += t_[j++];
      }
      if (c == '"' && text.empty()) return ExprError(src_, tok.pos, "empty quoted identifier");
      tok.kind = c == '\'' ? Tok::kString : Tok::kQuotedIdent;
      tok.text = std::move(text);
      i = j;
    } else {
      static constexpr std::string_view kOps2[] = {"<=", ">=", "<>", "!=", "==", "||", "::"};
      tok.kind = Tok::kOp;
      for (auto op : kOps2) {
        if (t_.substr(i, 2) == op) tok.text = std::string(op);
      }
      if (tok.text.empty()) {
        if (std::string_view("+-*/%=<>(),.;").find(c) == std::string_view::npos) {
          return ExprError(src_, tok.pos, "unexpected character '" + std::string(1, c) + "'");
        }
        tok.text = std::string(1, c);
      }
      i += tok.text.size();
    }
    tok.end = static_cast<int>(i);
    tokens_.push_back(std::move(tok));
  }
  Token end;
  end.pos = static_cast<int>(n);
  end.end = end.pos;
  tokens_.push_back(end);
  return Status::OK();
}

Result<NodePtr> Parser::Or() {
  ASSIGN_OR_RETURN(NodePtr left, And());
  while (IsKeyword(Peek(), "or")) {
    int pos = Next().pos;
    ASSIGN_OR_RETURN(NodePtr right, And());
    left = Binary("OR", pos, std::move(left), std::move(right));
  }
  return left;
}

Result<NodePtr> Parser::And() {
  ASSIGN_OR_RETURN(NodePtr left, Not());
  while (IsKeyword(Peek(), "and")) {
    int pos = Next().pos;
    ASSIGN_OR_RETURN(NodePtr right, Not());
    left = Binary("AND", pos, std::move(left), std::move(right));
  }
  return left;
}

Result<NodePtr> Parser::Not() {
  if (IsKeyword(Peek(), "not")) {
    int pos = Next().pos;
    if (++depth_ > 200) return Error(Peek(), "expression nests too deeply");
    ASSIGN_OR_RETURN(NodePtr arg, Not());
    --depth_;
    auto n = MakeNode(NodeKind::kUnary, pos);
    n->op = "NOT";
    n->args.push_back(std::move(arg));
    return n;
  }
  return Comparison();
}

Result<NodePtr> Parser::Comparison() {
  ASSIGN_OR_RETURN(NodePtr left, Concat());
  for (;;) {
    const Token& t = Peek();
    if (t.kind == Tok::kOp &&
        (t.text == "=" || t.text == "==" || t.text == "<>" || t.text == "!=" || t.text == "<" ||
         t.text == "<=" || t.text == ">" || t.text == ">=")) {
      Token op = Next();
      std::string name = op.text == "==" ? "=" : op.text == "!=" ? "<>" : op.text;
      ASSIGN_OR_RETURN(NodePtr right, Concat());
      left = Binary(name, op.pos, std::move(left), std::move(right));
      continue;
    }
    if (IsKeyword(t, "is")) {
      int pos = Next().pos;
      bool negated = AcceptKeyword("not");
      RETURN_IF_ERROR(ExpectKeyword("null"));
      auto n = MakeNode(NodeKind::kIsNull, pos);
      n->negated = negated;
      n->args.push_back(std::move(left));
      left = std::move(n);
      continue;
    }
    bool negated = false;
    if (IsKeyword(t, "not") && (IsKeyword(Peek(1), "in") || IsKeyword(Peek(1), "between") ||
                                IsKeyword(Peek(1), "like") || IsKeyword(Peek(1), "ilike"))) {
      Next();
      negated = true;
    }
    const Token& k = Peek();
    if (IsKeyword(k, "in")) {
      int pos = Next().pos;
      RETURN_IF_ERROR(ExpectOp("("));
      auto n = MakeNode(NodeKind::kIn, pos);
      n->negated = negated;
      n->args.push_back(std::move(left));
      do {
        ASSIGN_OR_RETURN(NodePtr item, Expression());
        n->args.push_back(std::move(item));
      } while (AcceptOp(","));
      RETURN_IF_ERROR(ExpectOp(")"));
      left = std::move(n);
      continue;
    }
    if (IsKeyword(k, "between")) {
      int pos = Next().pos;
      auto n = MakeNode(NodeKind::kBetween, pos);
      n->negated = negated;
      n->args.push_back(std::move(left));
      ASSIGN_OR_RETURN(NodePtr lo, Concat());
      RETURN_IF_ERROR(ExpectKeyword("and"));
      ASSIGN_OR_RETURN(NodePtr hi, Concat());
      n->args.push_back(std::move(lo));
      n->args.push_back(std::move(hi));
      left = std::move(n);
      continue;
    }
    if (IsKeyword(k, "like") || IsKeyword(k, "ilike")) {
      bool ilike = IsKeyword(k, "ilike");
      int pos = Next().pos;
      auto n = MakeNode(NodeKind::kLike, pos);
      n->negated = negated;
      n->flag = ilike;
      n->args.push_back(std::move(left));
      ASSIGN_OR_RETURN(NodePtr pattern, Concat());
      n->args.push_back(std::move(pattern));
      left = std::move(n);
      continue;
    }
    if (negated) return Error(k, "expected IN, BETWEEN, LIKE or ILIKE after NOT");
    return left;
  }
}

Result<NodePtr> Parser::Concat() {
  ASSIGN_OR_RETURN(NodePtr left, Additive());
  while (Peek().kind == Tok::kOp && Peek().text == "||") {
    int pos = Next().pos;
    ASSIGN_OR_RETURN(NodePtr right, Additive());
    left = Binary("||", pos, std::move(left), std::move(right));
  }
  return left;
}

Result<NodePtr> Parser::Additive() {
  ASSIGN_OR_RETURN(NodePtr left, Multiplicative());
  while (Peek().kind == Tok::kOp && (Peek().text == "+" || Peek().text == "-")) {
    Token op = Next();
    ASSIGN_OR_RETURN(NodePtr right, Multiplicative());
    left = Binary(op.text, op.pos, std::move(left), std::move(right));
  }
  return left;
}

Result<NodePtr> Parser::Multiplicative() {
  ASSIGN_OR_RETURN(NodePtr left, Unary());
  while (Peek().kind == Tok::kOp &&
         (Peek().text == "*" || Peek().text == "/" || Peek().text == "%")) {
    Token op = Next();
    ASSIGN_OR_RETURN(NodePtr right, Unary());
    left = Binary(op.text, op.pos, std::move(left), std::move(right));
  }
  return left;
}

Result<NodePtr> Parser::Unary() {
  if (Peek().kind == Tok::kOp && (Peek().text == "-" || Peek().text == "+")) {
    Token op = Next();
    if (++depth_ > 200) return Error(op, "expression nests too deeply");
    ASSIGN_OR_RETURN(NodePtr arg, Unary());
    --depth_;
    if (op.text == "+") return arg;
    // A negative number literal stays a literal (so -9223372036854775808 fits).
    if (arg->kind == NodeKind::kLiteral &&
        (arg->literal_kind == LiteralKind::kInteger || arg->literal_kind == LiteralKind::kDecimal ||
         arg->literal_kind == LiteralKind::kFloat) &&
        arg->text[0] != '-') {
      arg->text = "-" + arg->text;
      arg->pos = op.pos;
      return arg;
    }
    auto n = MakeNode(NodeKind::kUnary, op.pos);
    n->op = "-";
    n->args.push_back(std::move(arg));
    return n;
  }
  return Postfix();
}

Result<NodePtr> Parser::Postfix() {
  ASSIGN_OR_RETURN(NodePtr node, Primary());
  while (Peek().kind == Tok::kOp && Peek().text == "::") {
    int pos = Next().pos;
    auto n = MakeNode(NodeKind::kCast, pos);
    ASSIGN_OR_RETURN(n->cast_type, TypeName());
    n->args.push_back(std::move(node));
    node = std::move(n);
  }
  return node;
}

Result<DataType> Parser::TypeName() {
  const Token& t = Peek();
  if (t.kind != Tok::kIdent) return Error(t, "expected a type name, got " + Describe(t));
  Token name = Next();
  std::string spelled = name.text;
  // Two-word spellings.
  if (EqualsIgnoreCase(spelled, "double") && IsKeyword(Peek(), "precision")) {
    Next();
  } else if (EqualsIgnoreCase(spelled, "timestamp") && IsKeyword(Peek(), "with")) {
    return Error(Peek(), "time zones are not supported: timestamps are UTC");
  }
  if (AcceptOp("(")) {
    spelled += "(";
    for (bool first = true; !AcceptOp(")"); first = false) {
      if (!first) {
        RETURN_IF_ERROR(ExpectOp(","));
        spelled += ",";
      }
      if (Peek().kind != Tok::kNumber) return Error(Peek(), "expected a number in the type");
      spelled += Next().text;
    }
    spelled += ")";
  }
  auto type = DataType::Parse(spelled);
  if (!type.ok()) return Error(name, type.status().message());
  return *type;
}

Result<std::string> Parser::Identifier(std::string_view what) {
  const Token& t = Peek();
  if (t.kind == Tok::kQuotedIdent || (t.kind == Tok::kIdent && !IsReserved(t.text))) {
    return Next().text;
  }
  return Error(t, "expected " + std::string(what) + ", got " + Describe(t));
}

Result<NodePtr> Parser::Primary() {
  Token t = Peek();
  switch (t.kind) {
    case Tok::kEnd:
      return Error(t, "expected an expression, got end of expression");
    case Tok::kNumber: {
      Next();
      auto n = MakeNode(NodeKind::kLiteral, t.pos);
      n->text = t.text;
      bool has_exp = t.text.find_first_of("eE") != std::string::npos;
      n->literal_kind = has_exp                                 ? LiteralKind::kFloat
                        : t.text.find('.') != std::string::npos ? LiteralKind::kDecimal
                                                                : LiteralKind::kInteger;
      return n;
    }
    case Tok::kString: {
      Next();
      auto n = MakeNode(NodeKind::kLiteral, t.pos);
      n->literal_kind = LiteralKind::kString;
      n->text = t.text;
      return n;
    }
    case Tok::kQuotedIdent:
    case Tok::kIdent:
      break;
    case Tok::kOp:
      if (t.text == "(") {
        Next();
        if (++depth_ > 200) return Error(t, "expression nests too deeply");
        ASSIGN_OR_RETURN(NodePtr inner, Expression());
        --depth_;
        RETURN_IF_ERROR(ExpectOp(")"));
        return inner;
      }
      return Error(t, "expected an expression, got " + Describe(t));
  }
  if (t.kind == Tok::kIdent) {
    if (IsKeyword(t, "null") || IsKeyword(t, "true") || IsKeyword(t, "false")) {
      Next();
      auto n = MakeNode(NodeKind::kLiteral, t.pos);
      n->literal_kind = IsKeyword(t, "null") ? LiteralKind::kNull : LiteralKind::kBool;
      n->text = IsKeyword(t, "true") ? "true" : "false";
      return n;
    }
    if (IsKeyword(t, "case")) {
      Next();
      return CaseExpr(t.pos);
    }
    if (IsKeyword(t, "cast") || IsKeyword(t, "try_cast")) {
      if (Peek(1).kind == Tok::kOp && Peek(1).text == "(") {
        Next();
        return CastExpr(t.pos, IsKeyword(t, "try_cast"));
      }
    }
    if ((IsKeyword(t, "date") || IsKeyword(t, "timestamp")) && Peek(1).kind == Tok::kString) {
      Next();
      Token s = Next();
      auto n = MakeNode(NodeKind::kLiteral, t.pos);
      n->literal_kind = IsKeyword(t, "date") ? LiteralKind::kDate : LiteralKind::kTimestamp;
      n->text = s.text;
      return n;
    }
    if (IsKeyword(t, "extract") && Peek(1).kind == Tok::kOp && Peek(1).text == "(") {
      Next();
      Next();
      const Token& field = Peek();
      if (field.kind != Tok::kIdent && field.kind != Tok::kString) {
        return Error(field, "expected a date part such as year, got " + Describe(field));
      }
      auto n = MakeNode(NodeKind::kCall, t.pos);
      n->name = "date_part";
      auto part = MakeNode(NodeKind::kLiteral, field.pos);
      part->literal_kind = LiteralKind::kString;
      part->text = Next().text;
      RETURN_IF_ERROR(ExpectKeyword("from"));
      ASSIGN_OR_RETURN(NodePtr arg, Expression());
      RETURN_IF_ERROR(ExpectOp(")"));
      n->args.push_back(std::move(part));
      n->args.push_back(std::move(arg));
      return n;
    }
    // A reserved word followed by '(' is a function call (left(s, 2)).
    bool call = Peek(1).kind == Tok::kOp && Peek(1).text == "(";
    if (IsReserved(t.text) && !(call && !IsKeyword(t, "in") && !IsKeyword(t, "not") &&
                                !IsKeyword(t, "and") && !IsKeyword(t, "or"))) {
      return Error(t, "expected an expression, got " + Describe(t));
    }
  }
  Next();
  if (t.kind == Tok::kIdent && Peek().kind == Tok::kOp && Peek().text == "(") return Call(t);
  auto n = MakeNode(NodeKind::kColumn, t.pos);
  n->name = t.text;
  n->flag = t.kind == Tok::kQuotedIdent;
  if (Peek().kind == Tok::kOp && Peek().text == "." &&
      (Peek(1).kind == Tok::kIdent || Peek(1).kind == Tok::kQuotedIdent)) {
    Next();
    Token col = Next();
    n->qualifier = n->name;
    n->name = col.text;
    n->flag = col.kind == Tok::kQuotedIdent;
  }
  return n;
}

Result<NodePtr> Parser::Call(const Token& name) {
  Next();  // (
  auto n = MakeNode(NodeKind::kCall, name.pos);
  for (char c : name.text)
    n->name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (AcceptOp(")")) return n;
  if (AcceptKeyword("distinct")) n->flag = true;
  if (Peek().kind == Tok::kOp && Peek().text == "*" && Peek(1).kind == Tok::kOp &&
      Peek(1).text == ")") {
    n->args.push_back(MakeNode(NodeKind::kStar, Next().pos));
    Next();
    return n;
  }
  if (++depth_ > 200) return Error(name, "expression nests too deeply");
  do {
    ASSIGN_OR_RETURN(NodePtr arg, Expression());
    n->args.push_back(std::move(arg));
  } while (AcceptOp(","));
  --depth_;
  RETURN_IF_ERROR(ExpectOp(")"));
  return n;
}

Result<NodePtr> Parser::CaseExpr(int pos) {
  auto n = MakeNode(NodeKind::kCase, pos);
  if (!IsKeyword(Peek(), "when")) {
    ASSIGN_OR_RETURN(NodePtr operand, Expression());
    n->has_operand = true;
    n->args.push_back(std::move(operand));
  }
  if (!IsKeyword(Peek(), "when")) return Error(Peek(), "expected WHEN, got " + Describe(Peek()));
  while (AcceptKeyword("when")) {
    ASSIGN_OR_RETURN(NodePtr cond, Expression());
    RETURN_IF_ERROR(ExpectKeyword("then"));
    ASSIGN_OR_RETURN(NodePtr value, Expression());
    n->args.push_back(std::move(cond));
    n->args.push_back(std::move(value));
  }
  if (AcceptKeyword("else")) {
    ASSIGN_OR_RETURN(NodePtr value, Expression());
    n->has_else = true;
    n->args.push_back(std::move(value));
  }
  RETURN_IF_ERROR(ExpectKeyword("end"));
  return n;
}

Result<NodePtr> Parser::CastExpr(int pos, bool try_cast) {
  RETURN_IF_ERROR(ExpectOp("("));
  auto n = MakeNode(NodeKind::kCast, pos);
  n->flag = try_cast;
  ASSIGN_OR_RETURN(NodePtr arg, Expression());
  n->args.push_back(std::move(arg));
  RETURN_IF_ERROR(ExpectKeyword("as"));
  ASSIGN_OR_RETURN(n->cast_type, TypeName());
  RETURN_IF_ERROR(ExpectOp(")"));
  return n;
}

Result<SelectItem> Parser::Item() {
  SelectItem item;
  const int start = Peek().pos;
  if (Peek().kind == Tok::kOp && Peek().text == "*") {
    Next();
  } else if ((Peek().kind == Tok::kIdent || Peek().kind == Tok::kQuotedIdent) &&
             Peek(1).kind == Tok::kOp && Peek(1).text == "." && Peek(2).kind == Tok::kOp &&
             Peek(2).text == "*") {
    item.star_qualifier = Next().text;
    Next();
    Next();
  } else {
    ASSIGN_OR_RETURN(item.expr, Expression());
    const int end = cur_ > 0 ? tokens_[cur_ - 1].end : start;
    item.text = std::string(t_.substr(start, end - start));
    if (AcceptKeyword("as")) {
      ASSIGN_OR_RETURN(item.alias, Identifier("a column name after AS"));
    } else if (Peek().kind == Tok::kQuotedIdent ||
               (Peek().kind == Tok::kIdent && !IsReserved(Peek().text))) {
      item.alias = Next().text;
    }
  }
  return item;
}

Result<SelectStatement> Parser::Select() {
  SelectStatement st;
  RETURN_IF_ERROR(ExpectKeyword("select"));
  if (IsKeyword(Peek(), "distinct")) {
    return Error(Peek(), "SELECT DISTINCT is not supported; use a dedupe step or GROUP BY");
  }
  do {
    ASSIGN_OR_RETURN(SelectItem item, Item());
    st.items.push_back(std::move(item));
  } while (AcceptOp(","));
  RETURN_IF_ERROR(ExpectKeyword("from"));
  ASSIGN_OR_RETURN(st.from, Identifier("the input name"));
  if (AcceptKeyword("as") || Peek().kind == Tok::kQuotedIdent ||
      (Peek().kind == Tok::kIdent && !IsReserved(Peek().text))) {
    ASSIGN_OR_RETURN(st.from_alias, Identifier("an alias"));
  }
  if (IsKeyword(Peek(), "left") || IsKeyword(Peek(), "inner") || IsKeyword(Peek(), "join")) {
    st.has_join = true;
    st.join_pos = Peek().pos;
    if (AcceptKeyword("left")) {
      AcceptKeyword("outer");
    } else if (AcceptKeyword("inner")) {
      st.left_join = false;
    } else {
      st.left_join = false;  // plain JOIN is an inner join
    }
    RETURN_IF_ERROR(ExpectKeyword("join"));
    ASSIGN_OR_RETURN(st.join_table, Identifier("a reference table name"));
    if (AcceptKeyword("as") || Peek().kind == Tok::kQuotedIdent ||
        (Peek().kind == Tok::kIdent && !IsReserved(Peek().text))) {
      ASSIGN_OR_RETURN(st.join_alias, Identifier("an alias"));
    }
    RETURN_IF_ERROR(ExpectKeyword("on"));
    ASSIGN_OR_RETURN(st.join_on, Expression());
  }
  if (IsKeyword(Peek(), "right") || IsKeyword(Peek(), "full") || IsKeyword(Peek(), "cross")) {
    return Error(Peek(), "only LEFT and INNER joins are supported");
  }
  if (AcceptKeyword("where")) {
    ASSIGN_OR_RETURN(st.where, Expression());
  }
  if (AcceptKeyword("group")) {
    RETURN_IF_ERROR(ExpectKeyword("by"));
    do {
      ASSIGN_OR_RETURN(NodePtr key, Expression());
      st.group_by.push_back(std::move(key));
    } while (AcceptOp(","));
  }
  if (AcceptKeyword("having")) {
    ASSIGN_OR_RETURN(st.having, Expression());
  }
  if (IsKeyword(Peek(), "order") || IsKeyword(Peek(), "limit")) {
    return Error(Peek(),
                 "ORDER BY and LIMIT are not supported in a pipeline step (output order is "
                 "input order; see docs/architecture.md)");
  }
  AcceptOp(";");
  RETURN_IF_ERROR(ExpectEnd());
  return st;
}

}  // namespace

Result<NodePtr> ParseExpression(const SourceText& src) {
  Parser p(src);
  RETURN_IF_ERROR(p.Init());
  ASSIGN_OR_RETURN(NodePtr node, p.Expression());
  RETURN_IF_ERROR(p.ExpectEnd());
  return node;
}

Result<SelectItem> ParseSelectItem(const SourceText& src) {
  Parser p(src);
  RETURN_IF_ERROR(p.Init());
  ASSIGN_OR_RETURN(SelectItem item, p.Item());
  if (!item.expr) return ExprError(src, 0, "expected an expression, got '*'");
  RETURN_IF_ERROR(p.ExpectEnd());
  return item;
}

Result<SelectStatement> ParseSelect(const SourceText& src) {
  Parser p(src);
  RETURN_IF_ERROR(p.Init());
  return p.Select();
}

}  // namespace sluice::expr
