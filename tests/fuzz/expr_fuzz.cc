// Fuzzes the SQL expression engine: the input is an expression text (and, as
// a whole, a SELECT statement). When the text parses and binds against a fixed
// schema holding every type, it is evaluated over a small batch with edge
// values (INT64_MIN, NaN, empty strings, far-away dates, nulls):
//   - the result has one value per row and the bound type;
//   - row errors name existing (and, with a selection, selected) rows, only
//     once each, and a failed row is null;
//   - evaluating twice gives identical cells and errors (determinism);
//   - evaluating a selection gives the same cells and errors on the selected
//     rows as evaluating all rows (errors and values are row-local);
//   - SelectTrue on a boolean result picks exactly the true rows.
// An optional first byte below 0x10 is a configuration byte (how many rows of
// the batch, which selection); text seeds start with a printable byte.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "core/column.h"
#include "expr/expr.h"
#include "expr/parser.h"
#include "fuzz_input.h"

// Like fuzz::Check, but names the failed invariant.
#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "expr_fuzz.cc:%d: check failed: %s\n", __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

namespace {

using sluice::Column;
using sluice::DataType;
using sluice::RecordBatch;
using sluice::Schema;
using sluice::TypeId;
namespace expr = sluice::expr;

constexpr int kRows = 10;

Schema ExprSchema() {
  return Schema({
      {"id", DataType::Int64(), false},
      {"b", DataType::Bool()},
      {"i", DataType::Int32()},
      {"l", DataType::Int64()},
      {"f", DataType::Float64()},
      {"d", DataType::Decimal(12, 2)},
      {"s", DataType::String()},
      {"t", DataType::String()},
      {"dt", DataType::Date()},
      {"ts", DataType::Timestamp()},
      {"Mixed Case", DataType::Int64()},
  });
}

// kRows rows; a value of nullopt-like `null` marks a null cell.
RecordBatch MakeBatch(int rows) {
  constexpr int64_t kI64Min = std::numeric_limits<int64_t>::min();
  constexpr int64_t kI64Max = std::numeric_limits<int64_t>::max();
  constexpr int32_t kI32Min = std::numeric_limits<int32_t>::min();
  constexpr int32_t kI32Max = std::numeric_limits<int32_t>::max();
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  constexpr double kInf = std::numeric_limits<double>::infinity();
  struct Row {
    int64_t id;
    int b;  // -1 = null
    bool i_null;
    int32_t i;
    bool l_null;
    int64_t l;
    bool f_null;
    double f;
    bool d_null;
    int64_t d;      // unscaled, scale 2
    const char* s;  // nullptr = null
    const char* t;
    bool dt_null;
    int32_t dt;  // days since 1970-01-01
    bool ts_null;
    int64_t ts;  // microseconds since the epoch
    bool m_null;
    int64_t m;
  };
  static const Row kData[kRows] = {
      {1, 1, false, 42, false, 100, false, 1.5, false, 12345, "EUR", "express delivery 123", false,
       19000, false, 1700000000000000, false, 7},
      {2, 0, false, 0, false, 0, false, 0.0, false, 0, "", "", false, 0, false, 0, false, 0},
      {3, -1, true, 0, true, 0, true, 0, true, 0, nullptr, nullptr, true, 0, true, 0, true, 0},
      {4, 1, false, kI32Min, false, kI64Min, false, kNaN, false, -999999999999, "\xc3\xa9t\xc3\xa9",
       "%_\\", false, -719162 /* 0001-01-01 */, false, kI64Min, false, kI64Min},
      {5, 0, false, kI32Max, false, kI64Max, false, kInf, false, 999999999999, "DE", "FR", false,
       2932896 /* 9999-12-31 */, false, kI64Max, false, kI64Max},
      {kI64Min, 1, false, -1, false, -1, false, -kInf, false, -1, "a'b\"c", "  padded  ", false,
       kI32Min, false, -62135596800000000 /* 0001-01-01 */, false, -1},
      {kI64Max, -1, false, 1, true, 0, false, -0.0, true, 0, "\xf0\x9f\x98\x80 emoji", "2024-02-29",
       false, kI32Max, false, 253402300799999999 /* 9999-12-31 23:59:59.999999 */, true, 0},
      {8, 1, true, 0, false, 1, false, 5e-324, false, 1, "12.50", "1e3", true, 0, false, -1, false,
       1},
      {9, 0, false, 10, false, 1000000, false, 1.7976931348623157e308, false, 50,
       "line\nbreak\ttab", "[0-9]{3}", false, -1, false, 86400000000, false, 3},
      {-9, 1, false, -10, false, -1000000, false, -2.5, false, -50, "x", "NULL", false, -1000000000,
       false, 1, false, -3},
  };
  RecordBatch batch = RecordBatch::Empty(ExprSchema());
  auto& c = batch.columns;
  for (int r = 0; r < rows; ++r) {
    const Row& x = kData[r];
    c[0].Append<int64_t>(x.id);
    if (x.b < 0) {
      c[1].AppendNull();
    } else {
      c[1].Append<uint8_t>(static_cast<uint8_t>(x.b));
    }
    x.i_null ? c[2].AppendNull() : c[2].Append<int32_t>(x.i);
    x.l_null ? c[3].AppendNull() : c[3].Append<int64_t>(x.l);
    x.f_null ? c[4].AppendNull() : c[4].Append<double>(x.f);
    x.d_null ? c[5].AppendNull() : c[5].Append<int64_t>(x.d);
    x.s == nullptr ? c[6].AppendNull() : c[6].AppendString(x.s);
    x.t == nullptr ? c[7].AppendNull() : c[7].AppendString(x.t);
    x.dt_null ? c[8].AppendNull() : c[8].Append<int32_t>(x.dt);
    x.ts_null ? c[9].AppendNull() : c[9].Append<int64_t>(x.ts);
    x.m_null ? c[10].AppendNull() : c[10].Append<int64_t>(x.m);
  }
  if (rows == 0) batch.num_rows_no_columns = 0;
  return batch;
}

// Checks a result column and renders each row as bytes ("N" for null,
// "V" + raw value otherwise).
std::vector<std::string> Cells(const Column& col, const DataType& type, int64_t n) {
  CHECK(col.size() == n);
  CHECK(col.type() == type);
  std::vector<std::string> out(static_cast<size_t>(n));
  if (type.id == TypeId::kString) {
    const uint32_t* off = col.offsets();
    CHECK(off[0] == 0);
    for (int64_t i = 0; i < n; ++i) CHECK(off[i] <= off[i + 1]);
    CHECK(static_cast<int64_t>(off[n]) == col.chars_size());
  }
  int64_t nulls = 0;
  for (int64_t i = 0; i < n; ++i) {
    std::string& cell = out[static_cast<size_t>(i)];
    if (col.IsNull(i)) {
      ++nulls;
      cell = "N";
      continue;
    }
    cell = "V";
    if (type.id == TypeId::kString) {
      cell.append(col.GetString(i));
    } else {
      const size_t w = type.FixedWidth();
      cell.append(reinterpret_cast<const char*>(col.data<uint8_t>()) + i * w, w);
    }
    if (type.id == TypeId::kBool) CHECK(col.Value<uint8_t>(i) <= 1);
  }
  CHECK(nulls == col.null_count());
  return out;
}

struct Run {
  std::vector<std::string> cells;   // meaningful on the evaluated rows
  std::vector<std::string> errors;  // per row: "" or the message
  std::vector<uint8_t> failed;
  std::vector<uint32_t> true_rows;  // SelectTrue, boolean results only
};

Run Evaluate(const expr::Expr& e, const RecordBatch& batch, const expr::Sel* sel,
             const expr::SourceText& src) {
  const int64_t n = batch.num_rows();
  expr::EvalContext ctx(&src);
  ctx.Reset(n);
  expr::Vec v = expr::Evaluate(e, batch, sel, &ctx);
  CHECK(v.size() == n);
  CHECK(v.type() == e.type);
  Column col = v.ToColumn(sel);
  Run run;
  run.cells = Cells(col, e.type, n);
  run.errors.assign(static_cast<size_t>(n), "");
  run.failed.assign(static_cast<size_t>(n), 0);
  std::vector<uint8_t> selected(static_cast<size_t>(n), sel == nullptr ? 1 : 0);
  if (sel != nullptr) {
    for (uint32_t r : *sel) selected[r] = 1;
  }
  for (const expr::RowError& err : ctx.errors()) {
    CHECK(err.row >= 0 && err.row < n);
    CHECK(selected[static_cast<size_t>(err.row)]);
    CHECK(!err.message.empty());
    CHECK(run.errors[static_cast<size_t>(err.row)].empty());  // first error only
    run.errors[static_cast<size_t>(err.row)] = err.message;
    run.failed[static_cast<size_t>(err.row)] = 1;
  }
  for (int64_t i = 0; i < n; ++i) {
    CHECK(ctx.RowFailed(i) == (run.failed[static_cast<size_t>(i)] != 0));
    // Rows outside the selection are null in the column; failed rows are null.
    if (!selected[static_cast<size_t>(i)] || run.failed[static_cast<size_t>(i)]) {
      CHECK(run.cells[static_cast<size_t>(i)] == "N");
    }
  }
  if (e.type.id == TypeId::kBool) {
    run.true_rows = expr::SelectTrue(v, sel);
    std::vector<uint32_t> expect;
    expr::ForRows(n, sel, [&](int64_t i) {
      if (!run.failed[static_cast<size_t>(i)] &&
          run.cells[static_cast<size_t>(i)] == std::string("V\x01", 2)) {
        expect.push_back(static_cast<uint32_t>(i));
      }
    });
    CHECK(run.true_rows == expect);
  }
  return run;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;  // long texts only slow the search down
  uint8_t config = 0;
  if (size > 0 && data[0] < 0x10 && data[0] != '\t' && data[0] != '\n' && data[0] != '\r') {
    config = data[0];
    ++data;
    --size;
  }
  expr::SourceText src{std::string(reinterpret_cast<const char*>(data), size), "", 0, 1, ""};

  // The text as a whole SELECT statement (parse only; errors are fine).
  {
    auto select = expr::ParseSelect(src);
    if (!select.ok()) CHECK(!select.status().ToString().empty());
    auto item = expr::ParseSelectItem(src);
    if (!item.ok()) CHECK(!item.status().ToString().empty());
  }

  static const RecordBatch kFull = MakeBatch(kRows);
  static const RecordBatch kOne = MakeBatch(1);
  static const RecordBatch kNone = MakeBatch(0);
  const RecordBatch& batch = (config & 3) == 1 ? kOne : (config & 3) == 2 ? kNone : kFull;

  auto bound = expr::CompileExpression(src, batch.schema);
  if (!bound.ok()) {
    CHECK(!bound.status().ok());
    CHECK(!bound.status().ToString().empty());
    return 0;
  }
  const expr::Expr& e = **bound;
  const int64_t n = batch.num_rows();

  Run all = Evaluate(e, batch, nullptr, src);
  Run again = Evaluate(e, batch, nullptr, src);
  CHECK(all.cells == again.cells);
  CHECK(all.errors == again.errors);
  CHECK(all.true_rows == again.true_rows);

  // Selections: one chosen by the config byte, and every other row.
  expr::Sel sels[2];
  for (int64_t i = 0; i < n; ++i) {
    const bool pick = ((config >> 2) & 3) == 0   ? (i % 3) != 1
                      : ((config >> 2) & 3) == 1 ? i == n - 1
                      : ((config >> 2) & 3) == 2 ? false
                                                 : i % 2 == 0;
    if (pick) sels[0].push_back(static_cast<uint32_t>(i));
    if (i % 2 == 1) sels[1].push_back(static_cast<uint32_t>(i));
  }
  for (const expr::Sel& sel : sels) {
    Run part = Evaluate(e, batch, &sel, src);
    for (uint32_t r : sel) {
      CHECK(part.errors[r] == all.errors[r]);
      if (!all.failed[r]) CHECK(part.cells[r] == all.cells[r]);
    }
  }
  return 0;
}
