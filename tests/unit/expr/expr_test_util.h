// Helpers for expression tests: a batch from literal rows, and evaluation of
// an expression to text cells ("NULL" for null, "ERROR: ..." for a row error).
#pragma once

#include <string>
#include <vector>

#include "core/cell_text.h"
#include "core/column.h"
#include "core/value_text.h"
#include "expr/expr.h"

namespace sluice::expr::testing {

// Builds a batch; each cell is parsed from text by the column's type ("NULL" = null).
inline RecordBatch MakeBatch(const Schema& schema,
                             const std::vector<std::vector<std::string>>& rows) {
  RecordBatch b = RecordBatch::Empty(schema);
  for (const auto& row : rows) {
    for (int c = 0; c < schema.num_fields(); ++c) {
      const std::string& t = row[c];
      Column& col = b.columns[c];
      if (t == "NULL") {
        col.AppendNull();
        continue;
      }
      const DataType& ty = schema.field(c).type;
      switch (ty.id) {
        case TypeId::kBool: {
          bool v = false;
          ParseBool(t, &v);
          col.Append<uint8_t>(v);
          break;
        }
        case TypeId::kInt32: {
          int32_t v = 0;
          ParseInt32(t, &v);
          col.Append<int32_t>(v);
          break;
        }
        case TypeId::kInt64: {
          int64_t v = 0;
          ParseInt64(t, &v);
          col.Append<int64_t>(v);
          break;
        }
        case TypeId::kFloat64: {
          double v = 0;
          ParseFloat64(t, &v);
          col.Append<double>(v);
          break;
        }
        case TypeId::kDecimal: {
          int64_t v = 0;
          ParseDecimal(t, ty.precision, ty.scale, &v);
          col.Append<int64_t>(v);
          break;
        }
        case TypeId::kString:
          col.AppendString(t);
          break;
        case TypeId::kDate: {
          int32_t v = 0;
          ParseDate(t, &v);
          col.Append<int32_t>(v);
          break;
        }
        case TypeId::kTimestamp: {
          int64_t v = 0;
          ParseTimestamp(t, &v);
          col.Append<int64_t>(v);
          break;
        }
      }
    }
  }
  return b;
}

struct Evaluated {
  Status status;  // bind error
  DataType type;
  std::vector<std::string> cells;
};

inline Evaluated Eval(const std::string& text, const RecordBatch& batch, const Sel* sel = nullptr) {
  Evaluated r;
  SourceText src{text, "", 0, 1, ""};
  auto e = CompileExpression(src, batch.schema);
  if (!e.ok()) {
    r.status = e.status();
    return r;
  }
  r.type = (*e)->type;
  EvalContext ctx(&src);
  ctx.Reset(batch.num_rows());
  Vec v = Evaluate(**e, batch, sel, &ctx);
  Column col = v.ToColumn(sel);
  ForRows(batch.num_rows(), sel, [&](int64_t i) {
    std::string cell;
    if (ctx.RowFailed(i)) {
      for (const auto& err : ctx.errors()) {
        if (err.row == i) cell = "ERROR: " + err.message;
      }
    } else if (col.IsNull(i)) {
      cell = "NULL";
    } else {
      cell = CellText(col, i);
    }
    r.cells.push_back(cell);
  });
  return r;
}

// Evaluates a constant expression (no columns) on one row.
inline Evaluated EvalConst(const std::string& text) {
  RecordBatch one;
  one.num_rows_no_columns = 1;
  return Eval(text, one);
}

using Cells = std::vector<std::string>;

// The single cell of a constant expression, or "BIND: message".
inline std::string One(const std::string& text) {
  auto r = EvalConst(text);
  if (!r.status.ok()) return "BIND: " + r.status.message();
  return r.cells.at(0);
}

// The bound type's name, or "BIND: message".
inline std::string TypeOf(const std::string& text, const Schema& schema = Schema()) {
  SourceText src{text, "", 0, 1, ""};
  auto e = CompileExpression(src, schema);
  if (!e.ok()) return "BIND: " + e.status().message();
  return (*e)->type.ToString();
}

// The first line of a bind error (without the source excerpt), or "OK".
inline std::string BindError(const std::string& text) {
  auto r = EvalConst(text);
  if (r.status.ok()) return "OK";
  std::string m = r.status.message();
  return m.substr(0, m.find('\n'));
}

}  // namespace sluice::expr::testing
