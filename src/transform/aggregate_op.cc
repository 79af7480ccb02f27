// aggregate: hash aggregation with SQL expressions.
//
//   - aggregate:
//       group_by: [country, "date_trunc('day', created_at) AS day"]
//       aggregates:
//         revenue: sum(quantity * unit_price)
//         orders: count(*)
//         buyers: count(DISTINCT customer_id)
//         avg_order: sum(quantity * unit_price) / count(*)
//       having: "count(*) >= 10"
//       memory_budget: 1GiB
//
// Functions: count(*), count(x), count(DISTINCT x) = count_distinct(x),
// sum, min, max, avg, any_value. An aggregate column is any expression over
// aggregate calls and group keys. Output: the group keys (named by the column
// they are, or `AS name`), then the aggregates in the order written, one row
// per group in the order groups were first seen in the input (which does not
// depend on the thread count, so output is deterministic). Without group_by
// the whole input is one group and there is always one output row.
//
// Types: count -> int64 not null; sum of integers -> int64, of decimal(p,s) ->
// decimal(18,s), of float64 -> float64 (a sum that does not fit fails the
// batch, naming the group); avg -> float64; min/max/any_value -> the
// argument's type. NULLs are ignored; an aggregate over no values is NULL
// (count: 0).
//
// Memory: group state lives in one hash table (KeyTable: key bytes in one
// arena) and per-aggregate arrays indexed by group id, so it grows with the
// number of groups, not rows. Past `memory_budget` (default 1 GiB) the batch
// fails with a clear error rather than exhausting the machine.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/cell_text.h"
#include "core/config_text.h"
#include "core/value_text.h"
#include "expr/expr.h"
#include "expr/parser.h"
#include "transform/expr_args.h"
#include "transform/expr_ops.h"
#include "transform/key_encoding.h"
#include "transform/key_table.h"
#include "transform/ops.h"
#include "transform/step_args.h"

namespace sluice {
namespace {

using expr::Phys;
using expr::Vec;

constexpr int64_t kOutputBatchRows = 65536;
const char* const kHidden = "\x01";

enum class AggKind { kCountStar, kCount, kCountDistinct, kSum, kMin, kMax, kAvg, kAnyValue };

struct AggCall {
  AggKind kind = AggKind::kCountStar;
  expr::ExprPtr arg;
  DataType type;  // result
  std::string sql;
};

// The running state of one aggregate for every group.
class AggState {
 public:
  explicit AggState(const AggCall* call) : call_(call) {
    if (call->arg) arg_phys_ = expr::PhysOf(call->arg->type.id);
  }

  void Resize(int64_t groups) {
    switch (call_->kind) {
      case AggKind::kCountStar:
      case AggKind::kCount:
      case AggKind::kCountDistinct:
        counts_.resize(groups, 0);
        break;
      case AggKind::kSum:
      case AggKind::kAvg:
        counts_.resize(groups, 0);
        if (arg_phys_ == Phys::kFloat) {
          fsums_.resize(groups, 0);
        } else {
          isums_.resize(groups, 0);
        }
        break;
      case AggKind::kMin:
      case AggKind::kMax:
      case AggKind::kAnyValue:
        has_.resize(groups, 0);
        if (arg_phys_ == Phys::kString) {
          strs_.resize(groups);
        } else if (arg_phys_ == Phys::kFloat) {
          floats_.resize(groups, 0);
        } else {
          ints_.resize(groups, 0);
        }
        break;
    }
  }

  // Adds rows[k] (group gids[k]) for every k.
  void Update(const std::vector<uint32_t>& rows, const std::vector<uint32_t>& gids, const Vec* v) {
    const size_t m = rows.size();
    switch (call_->kind) {
      case AggKind::kCountStar:
        for (size_t k = 0; k < m; ++k) ++counts_[gids[k]];
        return;
      case AggKind::kCount:
        for (size_t k = 0; k < m; ++k) counts_[gids[k]] += v->IsValid(rows[k]);
        return;
      case AggKind::kCountDistinct: {
        std::string key;
        for (size_t k = 0; k < m; ++k) {
          if (!v->IsValid(rows[k])) continue;
          key.assign(reinterpret_cast<const char*>(&gids[k]), 4);
          EncodeKeyValue(*v, rows[k], &key);
          if (distinct_.Insert(key).second) ++counts_[gids[k]];
        }
        return;
      }
      case AggKind::kSum:
      case AggKind::kAvg:
        if (arg_phys_ == Phys::kFloat) {
          for (size_t k = 0; k < m; ++k) {
            if (!v->IsValid(rows[k])) continue;
            fsums_[gids[k]] += v->Float(rows[k]);
            ++counts_[gids[k]];
          }
        } else if (!v->has_nulls() && !v->is_const()) {
          const int64_t* x = v->ints();
          for (size_t k = 0; k < m; ++k) {
            isums_[gids[k]] += x[rows[k]];
            ++counts_[gids[k]];
          }
        } else {
          for (size_t k = 0; k < m; ++k) {
            if (!v->IsValid(rows[k])) continue;
            isums_[gids[k]] += v->Int(rows[k]);
            ++counts_[gids[k]];
          }
        }
        return;
      case AggKind::kMin:
      case AggKind::kMax:
      case AggKind::kAnyValue:
        UpdateExtreme(rows, gids, *v);
        return;
    }
  }

  // The result column for groups [0, groups), or an error (sum overflow).
  Result<Column> Finish(int64_t groups, const std::vector<std::string>& group_names) const {
    Column col(call_->type);
    col.Reserve(groups);
    const DataType& t = call_->type;
    for (int64_t g = 0; g < groups; ++g) {
      switch (call_->kind) {
        case AggKind::kCountStar:
        case AggKind::kCount:
        case AggKind::kCountDistinct:
          col.Append<int64_t>(counts_[g]);
          break;
        case AggKind::kSum:
          if (counts_[g] == 0) {
            col.AppendNull();
          } else if (arg_phys_ == Phys::kFloat) {
            col.Append<double>(fsums_[g]);
          } else {
            __int128 s = isums_[g];
            int64_t limit = t.id == TypeId::kDecimal ? Pow10(t.precision) : 0;
            bool fits = s >= std::numeric_limits<int64_t>::min() &&
                        s <= std::numeric_limits<int64_t>::max() &&
                        (limit == 0 || (s > -limit && s < limit));
            if (!fits) {
              return Status::InvalidArgument(call_->sql + " does not fit " + t.ToString() +
                                             " for group " + group_names[g]);
            }
            col.Append<int64_t>(static_cast<int64_t>(s));
          }
          break;
        case AggKind::kAvg:
          if (counts_[g] == 0) {
            col.AppendNull();
          } else if (arg_phys_ == Phys::kFloat) {
            col.Append<double>(fsums_[g] / static_cast<double>(counts_[g]));
          } else {
            int scale = call_->arg->type.id == TypeId::kDecimal ? call_->arg->type.scale : 0;
            long double s = static_cast<long double>(isums_[g]);
            long double d = static_cast<long double>(counts_[g]) * Pow10(scale);
            col.Append<double>(static_cast<double>(s / d));
          }
          break;
        case AggKind::kMin:
        case AggKind::kMax:
        case AggKind::kAnyValue:
          if (!has_[g]) {
            col.AppendNull();
            break;
          }
          switch (t.id) {
            case TypeId::kBool:
              col.Append<uint8_t>(static_cast<uint8_t>(ints_[g]));
              break;
            case TypeId::kInt32:
            case TypeId::kDate:
              col.Append<int32_t>(static_cast<int32_t>(ints_[g]));
              break;
            case TypeId::kFloat64:
              col.Append<double>(floats_[g]);
              break;
            case TypeId::kString:
              col.AppendString(strs_[g]);
              break;
            default:
              col.Append<int64_t>(ints_[g]);
              break;
          }
          break;
      }
    }
    return col;
  }

  // O(1): string capacities are tracked as they change.
  int64_t MemoryUsage() const {
    int64_t strings = string_bytes_;
    return static_cast<int64_t>(counts_.capacity() * 8 + isums_.capacity() * 16 +
                                fsums_.capacity() * 8 + ints_.capacity() * 8 +
                                floats_.capacity() * 8 + has_.capacity() +
                                strs_.capacity() * sizeof(std::string)) +
           strings + distinct_.MemoryUsage();
  }

 private:
  void UpdateExtreme(const std::vector<uint32_t>& rows, const std::vector<uint32_t>& gids,
                     const Vec& v) {
    const AggKind kind = call_->kind;
    for (size_t k = 0; k < rows.size(); ++k) {
      int64_t i = rows[k];
      if (!v.IsValid(i)) continue;
      uint32_t g = gids[k];
      bool first = !has_[g];
      if (!first && kind == AggKind::kAnyValue) continue;
      has_[g] = 1;
      switch (arg_phys_) {
        case Phys::kBool:
        case Phys::kInt: {
          int64_t x = arg_phys_ == Phys::kBool ? int64_t{v.Bool(i)} : v.Int(i);
          if (first || (kind == AggKind::kMin ? x < ints_[g] : x > ints_[g])) ints_[g] = x;
          break;
        }
        case Phys::kFloat: {
          double x = v.Float(i);
          // NaN sorts above every number (as in comparisons).
          auto less = [](double a, double b) {
            return std::isnan(a) ? false : std::isnan(b) ? true : a < b;
          };
          if (first || (kind == AggKind::kMin ? less(x, floats_[g]) : less(floats_[g], x))) {
            floats_[g] = x;
          }
          break;
        }
        case Phys::kString: {
          std::string_view x = v.Str(i);
          if (first || (kind == AggKind::kMin ? x < strs_[g] : x > strs_[g])) {
            size_t before = strs_[g].capacity();
            strs_[g].assign(x.data(), x.size());
            string_bytes_ += static_cast<int64_t>(strs_[g].capacity() - before);
          }
          break;
        }
      }
    }
  }

  const AggCall* call_;
  Phys arg_phys_ = Phys::kInt;
  std::vector<int64_t> counts_;
  std::vector<__int128> isums_;
  std::vector<double> fsums_;
  std::vector<int64_t> ints_;
  std::vector<double> floats_;
  std::vector<std::string> strs_;
  std::vector<uint8_t> has_;
  int64_t string_bytes_ = 0;
  KeyTable distinct_;
};

struct KeySpec {
  ExprArg arg;
  expr::ExprPtr expr;
};

struct OutputSpec {
  ExprArg arg;
  expr::ExprPtr post;  // over the intermediate batch (keys + aggregate results)
  int direct = -1;     // intermediate column when the output is exactly one
};

Result<int64_t> ParseBytes(const StepSpec& spec, const nlohmann::json& v) {
  if (v.is_number_integer() && v.get<int64_t>() > 0) return v.get<int64_t>();
  if (!v.is_string()) return StepError(spec, "memory_budget must be a size such as 512MiB or 2GiB");
  auto n = ParseByteSize(v.get<std::string>());
  if (!n.ok()) return StepError(spec, "memory_budget: " + n.status().message());
  return *n;
}

class AggregateOp final : public Operator {
 public:
  AggregateOp(StepSpec spec, AggregateArgs args)
      : spec_(std::move(spec)),
        having_arg_(std::move(args.having)),
        budget_(args.memory_budget),
        emit_keys_(args.emit_keys) {
    for (auto& k : args.keys) keys_.push_back(KeySpec{std::move(k), nullptr});
    for (auto& o : args.outputs) outputs_.push_back(OutputSpec{std::move(o), nullptr, -1});
  }

  Result<Schema> Bind(const Schema& input) override;
  Status Push(RecordBatch&& batch, OperatorContext& ctx) override;
  Status Finish(OperatorContext& ctx) override;

 private:
  // Replaces group-key sub-expressions and aggregate calls of `n` by
  // references to intermediate columns, binding each new aggregate call.
  Result<expr::NodePtr> Rewrite(const expr::Node& n, const Schema& input,
                                const expr::SourceText& src);
  Result<int> AddAggregate(const expr::Node& call, const Schema& input,
                           const expr::SourceText& src);
  Result<expr::ExprPtr> BindPost(const ExprArg& arg, const Schema& input);
  int64_t MemoryUsage() const;
  std::string GroupName(int64_t g) const;

  StepSpec spec_;
  std::vector<KeySpec> keys_;
  std::vector<OutputSpec> outputs_;
  std::optional<ExprArg> having_arg_;
  const expr::BindOptions* input_options_ = nullptr;  // of the expression being bound
  int64_t budget_;
  bool emit_keys_;

  std::vector<AggCall> aggs_;
  std::vector<std::unique_ptr<AggState>> states_;
  expr::ExprPtr having_;
  Schema intermediate_;
  Schema output_;

  KeyTable groups_;
  std::vector<Column> key_values_;  // one column per key, one row per group
  expr::EvalContext eval_;
};

Result<int> AggregateOp::AddAggregate(const expr::Node& call, const Schema& input,
                                      const expr::SourceText& src) {
  std::string sql = expr::NodeToSql(call);
  for (size_t k = 0; k < aggs_.size(); ++k) {
    if (aggs_[k].sql == sql) return static_cast<int>(k);
  }
  AggCall a;
  a.sql = sql;
  const std::string& name = call.name;
  bool star = call.args.size() == 1 && call.args[0]->kind == expr::NodeKind::kStar;
  if (name == "count" && star) {
    if (call.flag) return expr::ExprError(src, call.pos, "count(DISTINCT *) is not allowed");
    a.kind = AggKind::kCountStar;
    a.type = DataType::Int64();
    aggs_.push_back(std::move(a));
    return static_cast<int>(aggs_.size() - 1);
  }
  if (call.args.size() != 1) {
    return expr::ExprError(
        src, call.pos,
        name + "() takes exactly 1 argument, got " + std::to_string(call.args.size()));
  }
  if (star) return expr::ExprError(src, call.args[0]->pos, "'*' is only allowed in count(*)");
  if (call.flag && name != "count") {
    return expr::ExprError(src, call.pos, "DISTINCT is only supported in count(DISTINCT x)");
  }
  ASSIGN_OR_RETURN(a.arg, expr::BindExpression(*call.args[0], input, src, *input_options_));
  const DataType& t = a.arg->type;
  bool numeric = t.id == TypeId::kInt32 || t.id == TypeId::kInt64 || t.id == TypeId::kDecimal ||
                 t.id == TypeId::kFloat64;
  if (name == "count" || name == "count_distinct") {
    a.kind = call.flag || name == "count_distinct" ? AggKind::kCountDistinct : AggKind::kCount;
    a.type = DataType::Int64();
  } else if (name == "sum" || name == "avg") {
    if (!numeric) {
      return expr::ExprError(src, call.args[0]->pos,
                             name + "() needs a number, got " + t.ToString());
    }
    a.kind = name == "sum" ? AggKind::kSum : AggKind::kAvg;
    if (a.kind == AggKind::kAvg || t.id == TypeId::kFloat64) {
      a.type = DataType::Float64();
    } else if (t.id == TypeId::kDecimal) {
      a.type = DataType::Decimal(kMaxDecimalPrecision, t.scale);
    } else {
      a.type = DataType::Int64();
    }
  } else {
    a.kind = name == "min" ? AggKind::kMin : name == "max" ? AggKind::kMax : AggKind::kAnyValue;
    a.type = t;
  }
  aggs_.push_back(std::move(a));
  return static_cast<int>(aggs_.size() - 1);
}

Result<expr::NodePtr> AggregateOp::Rewrite(const expr::Node& n, const Schema& input,
                                           const expr::SourceText& src) {
  std::string sql = expr::NodeToSql(n);
  for (size_t k = 0; k < keys_.size(); ++k) {
    if (expr::NodeToSql(*keys_[k].arg.node) == sql ||
        (n.kind == expr::NodeKind::kColumn && n.qualifier.empty() && n.name == keys_[k].arg.name)) {
      auto ref = std::make_unique<expr::Node>();
      ref->kind = expr::NodeKind::kColumn;
      ref->pos = n.pos;
      ref->name = kHidden + std::string("key") + std::to_string(k);
      ref->flag = true;
      return ref;
    }
  }
  if (n.kind == expr::NodeKind::kCall && expr::IsAggregateName(n.name)) {
    ASSIGN_OR_RETURN(int k, AddAggregate(n, input, src));
    auto ref = std::make_unique<expr::Node>();
    ref->kind = expr::NodeKind::kColumn;
    ref->pos = n.pos;
    ref->name = kHidden + std::string("agg") + std::to_string(k);
    ref->flag = true;
    return ref;
  }
  expr::NodePtr out = expr::CloneNode(n);
  for (size_t i = 0; i < n.args.size(); ++i) {
    ASSIGN_OR_RETURN(out->args[i], Rewrite(*n.args[i], input, src));
  }
  return out;
}

Result<expr::ExprPtr> AggregateOp::BindPost(const ExprArg& arg, const Schema& input) {
  const expr::SourceText& src = arg.src;
  input_options_ = &arg.options;
  ASSIGN_OR_RETURN(expr::NodePtr rewritten, Rewrite(*arg.node, input, src));
  // Intermediate columns so far (aggregates may have been added just now).
  std::vector<Field> fields;
  for (size_t k = 0; k < keys_.size(); ++k) {
    fields.push_back({kHidden + std::string("key") + std::to_string(k), keys_[k].expr->type, true});
  }
  for (size_t k = 0; k < aggs_.size(); ++k) {
    fields.push_back({kHidden + std::string("agg") + std::to_string(k), aggs_[k].type, true});
  }
  expr::BindOptions options;
  options.unknown_column_message =
      "column '{}' must be a group_by key or be used inside an aggregate function such as sum() "
      "or any_value()";
  return expr::BindExpression(*rewritten, Schema(fields), src, options);
}

Result<Schema> AggregateOp::Bind(const Schema& input) {
  aggs_.clear();
  std::vector<Field> out_fields;
  for (auto& k : keys_) {
    ASSIGN_OR_RETURN(k.expr, expr::BindExpression(*k.arg.node, input, k.arg.src, k.arg.options));
    bool nullable = true;
    if (k.expr->op == expr::Op::kColumn) nullable = input.field(k.expr->column).nullable;
    if (emit_keys_) out_fields.push_back({k.arg.name, k.expr->type, nullable});
  }
  for (auto& o : outputs_) {
    ASSIGN_OR_RETURN(o.post, BindPost(o.arg, input));
  }
  if (having_arg_) {
    ASSIGN_OR_RETURN(having_, BindPost(*having_arg_, input));
    if (having_->type.id != TypeId::kBool) {
      return expr::ExprError(having_arg_->src, having_->pos,
                             "HAVING must be a boolean condition, got " + having_->type.ToString());
    }
  }
  std::vector<Field> inter;
  for (size_t k = 0; k < keys_.size(); ++k) {
    inter.push_back({kHidden + std::string("key") + std::to_string(k), keys_[k].expr->type, true});
  }
  for (size_t k = 0; k < aggs_.size(); ++k) {
    inter.push_back({kHidden + std::string("agg") + std::to_string(k), aggs_[k].type, true});
  }
  intermediate_ = Schema(inter);
  for (auto& o : outputs_) {
    o.direct = o.post->op == expr::Op::kColumn ? o.post->column : -1;
    bool not_null = o.direct >= 0 && o.direct >= static_cast<int>(keys_.size()) &&
                    (aggs_[o.direct - keys_.size()].kind == AggKind::kCountStar ||
                     aggs_[o.direct - keys_.size()].kind == AggKind::kCount ||
                     aggs_[o.direct - keys_.size()].kind == AggKind::kCountDistinct);
    bool key_not_null = o.direct >= 0 && o.direct < static_cast<int>(keys_.size()) &&
                        keys_[o.direct].expr->op == expr::Op::kColumn &&
                        !input.field(keys_[o.direct].expr->column).nullable;
    out_fields.push_back({o.arg.name, o.post->type, !(not_null || key_not_null)});
  }
  std::vector<std::string> seen;
  for (const auto& f : out_fields) {
    if (std::find(seen.begin(), seen.end(), f.name) != seen.end()) {
      return StepError(spec_, "output column '" + f.name + "' is defined twice");
    }
    seen.push_back(f.name);
  }
  states_.clear();
  for (const auto& a : aggs_) states_.push_back(std::make_unique<AggState>(&a));
  key_values_.clear();
  for (const auto& k : keys_) key_values_.emplace_back(k.expr->type);
  output_ = Schema(out_fields);
  return output_;
}

int64_t AggregateOp::MemoryUsage() const {
  int64_t total = groups_.MemoryUsage();
  for (const auto& c : key_values_) total += c.MemoryUsage();
  for (const auto& s : states_) total += s->MemoryUsage();
  return total;
}

std::string AggregateOp::GroupName(int64_t g) const {
  if (keys_.empty()) return "(all rows)";
  std::string out = "(";
  for (size_t k = 0; k < keys_.size(); ++k) {
    const Column& c = key_values_[k];
    out += (k ? ", " : "") + keys_[k].arg.name + "=" + (c.IsNull(g) ? "NULL" : CellText(c, g));
  }
  return out + ")";
}

Status AggregateOp::Push(RecordBatch&& batch, OperatorContext& ctx) {
  const int64_t n = batch.num_rows();
  if (n == 0) return Status::OK();
  eval_.Reset(n);
  std::vector<Vec> keys;
  keys.reserve(keys_.size());
  for (const auto& k : keys_) keys.push_back(expr::Evaluate(*k.expr, batch, nullptr, &eval_));
  std::vector<Vec> args(aggs_.size());
  for (size_t a = 0; a < aggs_.size(); ++a) {
    if (aggs_[a].arg) args[a] = expr::Evaluate(*aggs_[a].arg, batch, nullptr, &eval_);
  }
  std::vector<uint32_t> rows;
  if (eval_.HasErrors()) {
    std::vector<uint32_t> failed = RowErrorsToBadRecords(eval_, batch, "", ctx.bad);
    rows = WithoutRows(nullptr, n, failed);
  } else {
    rows.resize(n);
    for (int64_t i = 0; i < n; ++i) rows[i] = static_cast<uint32_t>(i);
  }

  // Group ids, new groups' key values appended as they appear.
  std::vector<uint32_t> gids(rows.size());
  if (keys_.empty()) {
    if (groups_.size() == 0) groups_.Insert(std::string_view());
  } else {
    std::string key;
    for (size_t r = 0; r < rows.size(); ++r) {
      key.clear();
      for (const Vec& v : keys) EncodeKeyValue(v, rows[r], &key);
      auto [id, inserted] = groups_.Insert(key);
      gids[r] = static_cast<uint32_t>(id);
      if (inserted) {
        for (size_t k = 0; k < keys.size(); ++k) AppendVecValue(keys[k], rows[r], &key_values_[k]);
      }
    }
  }
  int64_t groups = groups_.size();
  for (size_t a = 0; a < states_.size(); ++a) {
    states_[a]->Resize(groups);
    states_[a]->Update(rows, gids, aggs_[a].arg ? &args[a] : nullptr);
  }
  {
    int64_t used = MemoryUsage();
    if (used > budget_) {
      return Status::InvalidArgument(
          spec_.where + ": aggregate: the group state (" + std::to_string(used >> 20) +
          " MiB for " + std::to_string(groups) + " groups) exceeds memory_budget (" +
          std::to_string(budget_ >> 20) +
          " MiB); raise memory_budget in the step, or aggregate fewer distinct keys");
    }
  }
  return Status::OK();
}

Status AggregateOp::Finish(OperatorContext& ctx) {
  if (keys_.empty() && groups_.size() == 0) groups_.Insert(std::string_view());
  const int64_t groups = groups_.size();
  for (auto& s : states_) s->Resize(groups);
  RecordBatch inter;
  inter.schema = intermediate_;
  inter.num_rows_no_columns = groups;
  std::vector<std::string> names;
  if (!aggs_.empty()) {
    names.reserve(groups);
    for (int64_t g = 0; g < groups; ++g) names.push_back(GroupName(g));
  }
  for (auto& c : key_values_) inter.columns.push_back(std::move(c));
  for (size_t a = 0; a < states_.size(); ++a) {
    ASSIGN_OR_RETURN(Column col, states_[a]->Finish(groups, names));
    inter.columns.push_back(std::move(col));
  }
  states_.clear();
  eval_.Reset(groups);
  expr::Sel keep;
  const expr::Sel* sel = nullptr;
  if (having_) {
    Vec h = expr::Evaluate(*having_, inter, nullptr, &eval_);
    keep = expr::SelectTrue(h, nullptr);
    sel = &keep;
  }
  RecordBatch out;
  out.schema = output_;
  out.num_rows_no_columns = groups;
  if (emit_keys_) {
    for (size_t k = 0; k < keys_.size(); ++k) out.columns.push_back(inter.columns[k]);
  }
  for (const auto& o : outputs_) {
    if (o.direct >= 0) {
      out.columns.push_back(inter.columns[o.direct]);
    } else {
      Vec v = expr::Evaluate(*o.post, inter, sel, &eval_);
      out.columns.push_back(v.ToColumn(sel));
    }
  }
  if (eval_.HasErrors()) {
    const auto& e = eval_.errors().front();
    return Status::InvalidArgument(spec_.where + ": aggregate: " + e.message + " for group " +
                                   GroupName(e.row));
  }
  if (sel != nullptr) out = out.Select(*sel);
  const int64_t rows = out.num_rows();
  if (rows <= kOutputBatchRows) {
    if (rows > 0 || keys_.empty()) return ctx.emit(std::move(out));
    return Status::OK();
  }
  for (int64_t off = 0; off < rows; off += kOutputBatchRows) {
    RETURN_IF_ERROR(ctx.emit(out.Slice(off, std::min(kOutputBatchRows, rows - off))));
  }
  return Status::OK();
}

}  // namespace

std::unique_ptr<Operator> MakeAggregateOp(const StepSpec& spec, AggregateArgs args) {
  return std::make_unique<AggregateOp>(spec, std::move(args));
}

Result<std::unique_ptr<Operator>> NewAggregateOp(const StepSpec& spec) {
  if (!spec.args.is_object()) {
    return StepError(spec, "expected { group_by: [...], aggregates: { name: expression } }");
  }
  RETURN_IF_ERROR(
      CheckArgKeys(spec, spec.args, {"group_by", "aggregates", "having", "memory_budget"}));
  AggregateArgs args;
  if (spec.args.contains("group_by")) {
    const auto& g = spec.args["group_by"];
    if (!g.is_array() || g.empty()) {
      return StepError(spec, "group_by must be a list of columns or expressions (`expr AS name`)");
    }
    for (size_t i = 0; i < g.size(); ++i) {
      std::string pointer = "/group_by/" + std::to_string(i);
      ASSIGN_OR_RETURN(std::string text,
                       ExprArgText(spec, pointer, g[i], "group_by[" + std::to_string(i) + "]"));
      ExprArg k;
      k.src = ArgSource(spec, pointer, text);
      ASSIGN_OR_RETURN(expr::SelectItem item, expr::ParseSelectItem(k.src));
      k.node = std::move(item.expr);
      if (!item.alias.empty()) {
        k.name = item.alias;
      } else if (k.node->kind == expr::NodeKind::kColumn) {
        k.name = k.node->name;
      } else {
        return expr::ExprError(k.src, k.node->pos,
                               "name this group key: `" + text + " AS some_name`");
      }
      args.keys.push_back(std::move(k));
    }
  }
  if (spec.args.contains("aggregates")) {
    const auto& a = spec.args["aggregates"];
    if (!a.is_object() || a.empty()) {
      return StepError(spec,
                       "aggregates must be a mapping of column name to expression, e.g. "
                       "{ revenue: \"sum(amount)\" }");
    }
    for (const std::string& name : KeysInOrder(spec, "/aggregates", a)) {
      ASSIGN_OR_RETURN(std::string text, ExprArgText(spec, ArgPointer("/aggregates", name), a[name],
                                                     "aggregates." + name));
      ASSIGN_OR_RETURN(ExprArg o, ParseExprArg(spec, ArgPointer("/aggregates", name), text, name));
      args.outputs.push_back(std::move(o));
    }
  }
  if (args.keys.empty() && args.outputs.empty()) {
    return StepError(spec, "needs group_by, aggregates or both");
  }
  if (spec.args.contains("having")) {
    ASSIGN_OR_RETURN(std::string having,
                     ExprArgText(spec, "/having", spec.args["having"], "having"));
    ASSIGN_OR_RETURN(ExprArg h, ParseExprArg(spec, "/having", having));
    args.having = std::move(h);
  }
  if (spec.args.contains("memory_budget")) {
    ASSIGN_OR_RETURN(args.memory_budget, ParseBytes(spec, spec.args["memory_budget"]));
  }
  return MakeAggregateOp(spec, std::move(args));
}

}  // namespace sluice
