// cast: converts columns to other types.
//
//   - cast: { quantity: int32, amount: decimal(12,2), day: date }
//
// Supported conversions (anything else is an error when the spec is checked):
//   string -> any type      with the strict text parsers of core/value_text.h
//                           (no surrounding spaces; "1.5" is not an int)
//   any type -> string      the canonical text (see core/cell_text.h)
//   between int32, int64, float64 and decimal(p,s)
//   bool -> int32/int64/float64/decimal (true = 1) and int32/int64 -> bool
//                           (0 = false, anything else = true, as in SQL)
//   date <-> timestamp      a date is its midnight UTC; a timestamp becomes the
//                           UTC day it falls in (earlier times are truncated)
// Rounding: whenever a value loses fraction digits (float64 or decimal to an
// integer, decimal to a smaller scale, float64 to decimal) it is rounded half
// away from zero: 2.5 -> 3, -2.5 -> -3, 1.005 -> decimal(4,2) 1.01 (a float64
// is rounded from its shortest text form, so the written digits count).
// A value that does not fit the target (out of range, too many digits for the
// decimal's precision, unparseable text, NaN or infinity to a non-float)
// makes its row a bad record: "cannot cast 'VALUE' to TYPE", naming the
// column; the row leaves the batch. Nulls stay null.
#include <algorithm>

#include "core/cell_text.h"
#include "core/value_text.h"
#include "expr/expr.h"
#include "transform/ops.h"
#include "transform/step_args.h"

namespace sluice {
namespace {

// Converts a column with the CAST of expressions (expr/cast.cc), listing
// the rows that do not convert in *failed (their cells become NULL).
Column Convert(const Column& in, const DataType& to, std::vector<uint32_t>* failed) {
  expr::Vec v = expr::Vec::FromColumn(in);
  expr::EvalContext ctx;
  ctx.Reset(in.size());
  expr::Expr at;  // no expression text: the step names the column itself
  expr::Vec out = expr::CastVec(v, to, nullptr, at, /*try_cast=*/false, &ctx);
  for (const auto& e : ctx.errors()) failed->push_back(static_cast<uint32_t>(e.row));
  std::sort(failed->begin(), failed->end());
  return out.ToColumn(nullptr);
}

struct CastTarget {
  std::string column;
  DataType type;
  int index = -1;
};

class CastOp final : public Operator {
 public:
  CastOp(StepSpec spec, std::vector<CastTarget> targets)
      : spec_(std::move(spec)), targets_(std::move(targets)) {}

  Result<Schema> Bind(const Schema& input) override {
    std::vector<Field> fields = input.fields();
    for (auto& t : targets_) {
      ASSIGN_OR_RETURN(t.index, FindColumn(spec_, input, t.column));
      const DataType& from = input.field(t.index).type;
      if (!expr::CanCast(from, t.type)) {
        return StepError(spec_, "cannot cast column '" + t.column + "' from " + from.ToString() +
                                    " to " + t.type.ToString());
      }
      fields[t.index].type = t.type;
    }
    output_ = Schema(std::move(fields));
    return output_;
  }

  Status Push(RecordBatch&& batch, OperatorContext& ctx) override {
    struct Failure {
      uint32_t row;
      size_t target;
    };
    std::vector<Failure> failures;
    std::vector<Column> converted(targets_.size());
    for (size_t t = 0; t < targets_.size(); ++t) {
      const Column& in = batch.columns[targets_[t].index];
      const DataType& to = targets_[t].type;
      if (in.type() == to) continue;
      std::vector<uint32_t> failed;
      converted[t] = Convert(in, to, &failed);
      for (uint32_t r : failed) failures.push_back({r, t});
    }

    std::vector<uint8_t> bad_row;
    if (!failures.empty()) {
      // One bad record per row, for its first failing column in spec order,
      // listed in row order. The raw text is the row before any conversion.
      std::stable_sort(failures.begin(), failures.end(),
                       [](const Failure& a, const Failure& b) { return a.row < b.row; });
      bad_row.assign(batch.num_rows(), 0);
      for (const auto& f : failures) {
        if (bad_row[f.row]) continue;
        bad_row[f.row] = 1;
        const CastTarget& t = targets_[f.target];
        if (ctx.bad == nullptr) continue;
        BadRecord rec;
        rec.line = batch.source_lines.empty() ? 0 : batch.source_lines[f.row];
        rec.field = t.column;
        rec.reason =
            "cannot cast '" + CellText(batch.columns[t.index], f.row) + "' to " + t.type.ToString();
        rec.raw = RowAsCsv(batch, f.row);
        ctx.bad->push_back(std::move(rec));
      }
    }

    for (size_t t = 0; t < targets_.size(); ++t) {
      Column& col = batch.columns[targets_[t].index];
      if (col.type() == targets_[t].type) continue;
      col = std::move(converted[t]);
    }
    batch.schema = output_;
    if (bad_row.empty()) return ctx.emit(std::move(batch));

    std::vector<uint32_t> keep;
    keep.reserve(batch.num_rows());
    for (int64_t i = 0; i < batch.num_rows(); ++i) {
      if (!bad_row[i]) keep.push_back(static_cast<uint32_t>(i));
    }
    if (keep.empty()) return Status::OK();
    return ctx.emit(batch.Select(keep));
  }

  Status Finish(OperatorContext& ctx) override { return Status::OK(); }

 private:
  StepSpec spec_;
  std::vector<CastTarget> targets_;
  Schema output_;
};

}  // namespace

Result<std::unique_ptr<Operator>> NewCastOp(const StepSpec& spec) {
  if (!spec.args.is_object() || spec.args.empty()) {
    return StepError(spec, "expected a mapping of column to type, e.g. { amount: decimal(12,2) }");
  }
  std::vector<CastTarget> targets;
  for (const auto& [column, type] : spec.args.items()) {
    if (!type.is_string()) {
      return StepError(spec, "type for '" + column + "' must be a type name, got " + type.dump());
    }
    auto parsed = DataType::Parse(type.get<std::string>());
    if (!parsed.ok()) return StepError(spec, column + ": " + parsed.status().message());
    targets.push_back({column, *parsed, -1});
  }
  return std::unique_ptr<Operator>(new CastOp(spec, std::move(targets)));
}

}  // namespace sluice
