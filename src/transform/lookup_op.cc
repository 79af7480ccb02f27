// lookup: a left or inner join of each row with at most one row of a
// reference table (a CSV, NDJSON or Parquet file, see reference.h).
//
//   references:                         # in the pipeline spec
//     customers: { file: ../reference/customers.csv }
//   transform:
//     - lookup:
//         from: customers
//         on: { customer_id: id }       # input column or expression -> reference column
//         columns: { name: customer_name, segment: segment }   # or a list; default: all
//         join: left                    # left (default): no match gives NULLs; inner: drops the
//         row
//
// Keys compare by value after converting the input side to the reference
// column's type (a value that does not convert matches nothing); NULL keys
// never match. A reference with two rows for one key is an error, so every
// input row yields at most one output row and output order is input order.
// The table is opened before the step is bound (OpenReferences, reference.h):
// binding takes it from the open references and never loads it.
#include "transform/lookup.h"

#include "expr/expr.h"
#include "expr/parser.h"
#include "transform/expr_args.h"
#include "transform/key_encoding.h"
#include "transform/ops.h"
#include "transform/step_args.h"

namespace sluice {
namespace {

class LookupOp final : public Operator {
 public:
  LookupOp(StepSpec spec, LookupArgs args, std::shared_ptr<const ReferenceTable> table)
      : spec_(std::move(spec)), args_(std::move(args)), table_(std::move(table)) {}

  Result<Schema> Bind(const Schema& input) override {
    if (table_ == nullptr) {
      return Status::Internal((spec_.where.empty() ? "" : spec_.where + ": ") + spec_.kind +
                              ": reference " + args_.source.name +
                              " was not opened before binding (internal error: OpenReferences "
                              "opens a run's references before its steps are bound)");
    }
    const Schema& ref = table_->schema();
    std::vector<int> ref_keys;
    keys_.clear();
    for (size_t k = 0; k < args_.ref_keys.size(); ++k) {
      int c = ref.FieldIndex(args_.ref_keys[k]);
      if (c < 0) {
        std::string list;
        for (const auto& f : ref.fields()) list += (list.empty() ? "" : ", ") + f.name;
        return StepError(spec_, "reference " + args_.source.name + " has no column '" +
                                    args_.ref_keys[k] + "' (columns: " + list + ")");
      }
      ref_keys.push_back(c);
      const ExprArg& a = args_.input_keys[k];
      ASSIGN_OR_RETURN(expr::ExprPtr e, expr::BindExpression(*a.node, input, a.src, a.options));
      const DataType& want = ref.field(c).type;
      if (e->type != want) {
        if (!expr::CommonType(e->type, want).ok()) {
          return expr::ExprError(a.src, e->pos,
                                 "cannot match " + e->type.ToString() + " with " +
                                     args_.source.name + "." + args_.ref_keys[k] + " (" +
                                     want.ToString() + ")");
        }
        // TRY_CAST: a value the reference type cannot hold matches nothing.
        auto cast = std::make_unique<expr::Expr>();
        cast->op = expr::Op::kCast;
        cast->type = want;
        cast->negated = true;
        cast->pos = e->pos;
        cast->sql = e->sql;
        cast->args.push_back(std::move(e));
        e = std::move(cast);
      }
      keys_.push_back(std::move(e));
    }
    ASSIGN_OR_RETURN(index_, table_->Index(ref_keys));

    std::vector<Field> fields = input.fields();
    take_.clear();
    auto add = [&](int c, const std::string& as) -> Status {
      if (input.FieldIndex(as) >= 0) {
        return StepError(spec_, "column '" + as + "' of reference " + args_.source.name +
                                    " is already an input column; give it another name with "
                                    "columns: { " +
                                    ref.field(c).name + ": new_name }");
      }
      for (const auto& f : fields) {
        if (f.name == as) return StepError(spec_, "column '" + as + "' is taken twice");
      }
      Field f = ref.field(c);
      f.name = as;
      f.nullable = f.nullable || args_.left;
      fields.push_back(f);
      take_.push_back(c);
      return Status::OK();
    };
    if (args_.columns.empty()) {
      for (int c = 0; c < ref.num_fields(); ++c) {
        bool is_key = std::find(ref_keys.begin(), ref_keys.end(), c) != ref_keys.end();
        if (!is_key || args_.include_keys) {
          RETURN_IF_ERROR(add(c, args_.prefix + ref.field(c).name));
        }
      }
    } else {
      for (const auto& [from, as] : args_.columns) {
        int c = ref.FieldIndex(from);
        if (c < 0) {
          return StepError(spec_,
                           "reference " + args_.source.name + " has no column '" + from + "'");
        }
        RETURN_IF_ERROR(add(c, as));
      }
    }
    output_ = Schema(std::move(fields));
    return output_;
  }

  Status Push(RecordBatch&& batch, OperatorContext& ctx) override {
    const int64_t n = batch.num_rows();
    if (n == 0) return Status::OK();
    eval_.Reset(n);
    std::vector<expr::Vec> keys;
    for (const auto& k : keys_) keys.push_back(expr::Evaluate(*k, batch, nullptr, &eval_));
    std::vector<uint32_t> failed;
    if (eval_.HasErrors()) failed = RowErrorsToBadRecords(eval_, batch, "", ctx.bad);
    std::vector<int64_t> match(n, -1);
    std::string key;
    size_t f = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (f < failed.size() && failed[f] == i) {
        ++f;
        continue;
      }
      key.clear();
      bool has_null = false;
      for (const auto& k : keys) {
        has_null = has_null || !k.IsValid(i);
        EncodeKeyValue(k, i, &key);
      }
      if (has_null) continue;
      int64_t id = index_->keys.Find(key);
      if (id >= 0) match[i] = index_->row_of_key[id];
    }
    std::vector<uint32_t> keep;
    keep.reserve(n);
    f = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (f < failed.size() && failed[f] == i) {
        ++f;
        continue;
      }
      if (match[i] >= 0 || args_.left) keep.push_back(static_cast<uint32_t>(i));
    }
    removed_ += n - static_cast<int64_t>(keep.size()) - static_cast<int64_t>(failed.size());
    if (keep.empty()) return Status::OK();
    RecordBatch out =
        static_cast<int64_t>(keep.size()) == n ? std::move(batch) : batch.Select(keep);
    const RecordBatch& ref = table_->rows();
    for (int c : take_) {
      Column col(ref.schema.field(c).type);
      col.Reserve(static_cast<int64_t>(keep.size()));
      for (uint32_t i : keep) {
        if (match[i] >= 0) {
          col.AppendFrom(ref.columns[c], match[i]);
        } else {
          col.AppendNull();
        }
      }
      out.columns.push_back(std::move(col));
    }
    out.schema = output_;
    return ctx.emit(std::move(out));
  }

  Status Finish(OperatorContext&) override { return Status::OK(); }
  int64_t rows_removed() const override { return removed_; }

 private:
  StepSpec spec_;
  LookupArgs args_;
  std::shared_ptr<const ReferenceTable> table_;
  std::shared_ptr<const ReferenceIndex> index_;
  std::vector<expr::ExprPtr> keys_;
  std::vector<int> take_;
  Schema output_;
  expr::EvalContext eval_;
  int64_t removed_ = 0;
};

}  // namespace

std::unique_ptr<Operator> MakeLookupOp(const StepSpec& spec, LookupArgs args,
                                       const ResolvedReferences* references) {
  std::shared_ptr<const ReferenceTable> table =
      references != nullptr ? references->Find(args.source.name) : nullptr;
  return std::make_unique<LookupOp>(spec, std::move(args), std::move(table));
}

std::vector<std::string> LookupReferences(const StepSpec& spec) {
  if (!spec.args.is_object() || !spec.args.contains("from")) return {};
  const nlohmann::json& from = spec.args["from"];
  if (from.is_object() && from.contains("name") && from["name"].is_string()) {
    return {from["name"].get<std::string>()};
  }
  if (from.is_string()) return {from.get<std::string>()};
  return {};
}

Result<std::unique_ptr<Operator>> NewLookupOp(const StepSpec& spec,
                                              const ResolvedReferences* references) {
  if (!spec.args.is_object()) {
    return StepError(spec, "expected { from: REFERENCE, on: { input_column: reference_column } }");
  }
  RETURN_IF_ERROR(CheckArgKeys(spec, spec.args, {"from", "on", "columns", "join", "prefix"}));
  LookupArgs args;
  if (!spec.args.contains("from") || !spec.args["from"].is_object()) {
    return StepError(spec,
                     "from: must name a reference declared under `references:` in the "
                     "pipeline spec");
  }
  ASSIGN_OR_RETURN(args.source, ReferenceSource::FromJson(spec.args["from"]));
  if (!spec.args.contains("on") || !spec.args["on"].is_object() || spec.args["on"].empty()) {
    return StepError(spec,
                     "on: must map input columns (or expressions) to reference columns, "
                     "e.g. { customer_id: id }");
  }
  for (const std::string& in : KeysInOrder(spec, "/on", spec.args["on"])) {
    const auto& ref = spec.args["on"][in];
    if (!ref.is_string()) return StepError(spec, "on." + in + " must be a reference column name");
    ASSIGN_OR_RETURN(ExprArg a, ParseExprArg(spec, ArgPointer("/on", in), in));
    a.src.line = 0;  // the key text is a YAML key, not a value: no column to point at
    a.src.file = spec.where;
    args.input_keys.push_back(std::move(a));
    args.ref_keys.push_back(ref.get<std::string>());
  }
  if (spec.args.contains("columns")) {
    const auto& c = spec.args["columns"];
    if (c.is_array()) {
      ASSIGN_OR_RETURN(std::vector<std::string> names, NameListArg(spec, c, "columns"));
      for (const auto& n : names) args.columns.emplace_back(n, n);
    } else if (c.is_object() && !c.empty()) {
      for (const std::string& from : KeysInOrder(spec, "/columns", c)) {
        if (!c[from].is_string()) return StepError(spec, "columns." + from + " must be a name");
        args.columns.emplace_back(from, c[from].get<std::string>());
      }
    } else {
      return StepError(spec,
                       "columns must be a list of reference columns or a mapping "
                       "{ reference_column: new_name }");
    }
  }
  if (spec.args.contains("prefix")) {
    if (!spec.args["prefix"].is_string()) return StepError(spec, "prefix must be a string");
    args.prefix = spec.args["prefix"].get<std::string>();
  }
  if (spec.args.contains("join")) {
    const auto& j = spec.args["join"];
    if (j == "left") {
      args.left = true;
    } else if (j == "inner") {
      args.left = false;
    } else {
      return StepError(spec, "join must be left or inner, got " + j.dump());
    }
  }
  return MakeLookupOp(spec, std::move(args), references);
}

}  // namespace sluice
