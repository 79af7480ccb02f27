// dedupe: keeps one row per key across everything pushed to the operator (the
// whole input batch, over all of its record batches).
//
//   - dedupe: { key: [order_id], keep: last }
//
// key   one column name or a list of them (required). Keys compare by value;
//       NULL equals NULL here, and 0.0 equals -0.0, and all NaNs are equal.
// keep  first (default): the first row of each key wins. Rows stream through:
//       a row is emitted as soon as it is seen, duplicates are dropped.
//       last: the last row of each key wins. Nothing is emitted until the
//       input ends; then each surviving row comes out in the order in which
//       it (the key's last occurrence) appeared in the input. Example: keys
//       a1 b1 a2 -> b1 a2. Survivors are held in memory in columnar form.
// order_by  an SQL expression (e.g. updated_at): instead of input position,
//       keep: last keeps each key's row with the greatest value, keep: first
//       the one with the smallest; ties go to the later (last) or earlier
//       (first) row, and a NULL value never wins over a non-NULL one. Rows are
//       held until the input ends, then come out in input order.
//       - dedupe: { key: [order_id], keep: last, order_by: updated_at }
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include "expr/expr.h"
#include "transform/expr_args.h"
#include "transform/expr_ops.h"
#include "transform/key_table.h"
#include "transform/ops.h"
#include "transform/step_args.h"

namespace sluice {
namespace {

enum class Keep { kFirst, kLast };

constexpr int64_t kEmitRows = 64 * 1024;
constexpr int64_t kPrefetchAhead = 8;
// Superseded rows of keep=last are compacted away once they outnumber the
// live ones (and are worth a copy).
constexpr int64_t kCompactMinDead = 16 * 1024;

// Encodes each row's key columns into one buffer, column by column; row i's
// key is bytes [offs[i], offs[i+1]). Per cell: a 0 byte for NULL, else 1 and
// the value's bytes (strings prefixed by their length, so ("ab","c") and
// ("a","bc") differ).
void EncodeKeys(const RecordBatch& batch, const std::vector<int>& key_idx, std::string* buf,
                std::vector<uint64_t>* offs) {
  int64_t n = batch.num_rows();
  offs->assign(n + 1, 0);
  for (int idx : key_idx) {
    const Column& col = batch.columns[idx];
    int w = col.type().FixedWidth();
    for (int64_t i = 0; i < n; ++i) {
      uint64_t len = 1;
      if (col.IsValid(i)) len += w > 0 ? w : 4 + col.GetString(i).size();
      (*offs)[i + 1] += len;
    }
  }
  for (int64_t i = 0; i < n; ++i) (*offs)[i + 1] += (*offs)[i];
  buf->resize((*offs)[n]);
  std::vector<uint64_t> cursor(offs->begin(), offs->end() - 1);
  char* out = buf->data();
  for (int idx : key_idx) {
    const Column& col = batch.columns[idx];
    TypeId id = col.type().id;
    int w = col.type().FixedWidth();
    for (int64_t i = 0; i < n; ++i) {
      char* p = out + cursor[i];
      if (col.IsNull(i)) {
        *p = 0;
        cursor[i] += 1;
        continue;
      }
      *p++ = 1;
      if (id == TypeId::kString) {
        std::string_view s = col.GetString(i);
        uint32_t len = static_cast<uint32_t>(s.size());
        std::memcpy(p, &len, 4);
        if (!s.empty()) std::memcpy(p + 4, s.data(), s.size());
        cursor[i] += 1 + 4 + s.size();
      } else if (id == TypeId::kFloat64) {
        double d = col.Value<double>(i);
        if (d == 0) d = 0.0;  // -0.0 == 0.0
        if (std::isnan(d)) d = std::numeric_limits<double>::quiet_NaN();
        std::memcpy(p, &d, 8);
        cursor[i] += 1 + 8;
      } else {
        std::memcpy(p, col.data<char>() + i * w, w);
        cursor[i] += 1 + w;
      }
    }
  }
}

class DedupeOp final : public Operator {
 public:
  DedupeOp(StepSpec spec, std::vector<std::string> key, Keep keep, std::optional<ExprArg> order)
      : spec_(std::move(spec)), key_(std::move(key)), keep_(keep), order_arg_(std::move(order)) {}

  Result<Schema> Bind(const Schema& input) override {
    key_idx_.clear();
    for (const auto& name : key_) {
      ASSIGN_OR_RETURN(int idx, FindColumn(spec_, input, name));
      key_idx_.push_back(idx);
    }
    schema_ = input;
    if (order_arg_) {
      ASSIGN_OR_RETURN(order_, expr::BindExpression(*order_arg_->node, input, order_arg_->src,
                                                    order_arg_->options));
      if (order_->type.id == TypeId::kBool) {
        return expr::ExprError(order_arg_->src, order_->pos,
                               "order_by needs a value that sorts "
                               "(a number, string, date or "
                               "timestamp), got bool");
      }
    }
    best_valid_.clear();
    best_int_.clear();
    best_float_.clear();
    best_str_.clear();
    table_ = KeyTable();
    rows_in_ = 0;
    store_ = RecordBatch::Empty(input);
    any_lines_ = false;
    row_key_.clear();
    latest_.clear();
    return input;
  }

  Status Push(RecordBatch&& batch, OperatorContext& ctx) override {
    int64_t n = batch.num_rows();
    if (n == 0) return Status::OK();
    rows_in_ += n;
    EncodeKeys(batch, key_idx_, &buf_, &offs_);
    hashes_.resize(n);
    for (int64_t i = 0; i < n; ++i) hashes_[i] = KeyTable::Hash(KeyAt(i));
    if (keep_ == Keep::kFirst && !order_) {
      std::vector<uint32_t> sel;
      sel.reserve(n);
      for (int64_t i = 0; i < n; ++i) {
        if (i + kPrefetchAhead < n) table_.Prefetch(hashes_[i + kPrefetchAhead]);
        if (table_.Insert(KeyAt(i), hashes_[i]).second) sel.push_back(static_cast<uint32_t>(i));
      }
      if (sel.empty()) return Status::OK();
      if (static_cast<int64_t>(sel.size()) == n) return ctx.emit(std::move(batch));
      return ctx.emit(batch.Select(sel));
    }

    int64_t base = store_.num_rows();
    std::optional<expr::Vec> order;
    std::vector<uint32_t> failed;
    if (order_) {
      eval_.Reset(n);
      order = expr::Evaluate(*order_, batch, nullptr, &eval_);
      if (eval_.HasErrors()) {
        failed = RowErrorsToBadRecords(eval_, batch, "order_by", ctx.bad);
        expr::Sel keep = WithoutRows(nullptr, n, failed);
        if (keep.empty()) return Status::OK();
        // Evaluate again on the surviving rows so positions line up.
        batch = batch.Select(keep);
        n = batch.num_rows();
        rows_in_ -= static_cast<int64_t>(failed.size());
        EncodeKeys(batch, key_idx_, &buf_, &offs_);
        hashes_.resize(n);
        for (int64_t i = 0; i < n; ++i) hashes_[i] = KeyTable::Hash(KeyAt(i));
        eval_.Reset(n);
        order = expr::Evaluate(*order_, batch, nullptr, &eval_);
      }
    }
    for (int64_t i = 0; i < n; ++i) {
      if (i + kPrefetchAhead < n) table_.Prefetch(hashes_[i + kPrefetchAhead]);
      int64_t id = table_.Insert(KeyAt(i), hashes_[i]).first;
      bool fresh = id == static_cast<int64_t>(latest_.size());
      if (fresh) latest_.push_back(base + i);
      if (order) {
        if (fresh || Better(*order, i, id)) {
          latest_[id] = base + i;
          KeepOrderValue(*order, i, id);
        }
      } else if (!fresh) {
        latest_[id] = base + i;
      }
      row_key_.push_back(id);
    }
    for (size_t c = 0; c < store_.columns.size(); ++c) {
      store_.columns[c].AppendRange(batch.columns[c], 0, n);
    }
    store_.num_rows_no_columns += n;
    if (batch.source_lines.empty()) {
      store_.source_lines.resize(store_.source_lines.size() + n, 0);
    } else {
      any_lines_ = true;
      store_.source_lines.insert(store_.source_lines.end(), batch.source_lines.begin(),
                                 batch.source_lines.end());
    }
    int64_t dead = store_.num_rows() - table_.size();
    if (dead >= kCompactMinDead && dead > table_.size()) Compact();
    return Status::OK();
  }

  Status Finish(OperatorContext& ctx) override {
    if (keep_ != Keep::kLast && !order_) return Status::OK();
    std::vector<uint32_t> live = LiveRows();
    if (!any_lines_) store_.source_lines.clear();
    for (size_t start = 0; start < live.size(); start += kEmitRows) {
      size_t end = std::min(live.size(), start + static_cast<size_t>(kEmitRows));
      std::vector<uint32_t> part(live.begin() + start, live.begin() + end);
      RETURN_IF_ERROR(ctx.emit(store_.Select(part)));
    }
    store_ = RecordBatch::Empty(schema_);
    row_key_.clear();
    return Status::OK();
  }

  int64_t rows_removed() const override { return rows_in_ - table_.size(); }

 private:
  // Whether row i's order value beats the kept one of key `id` (see the
  // header: greatest for last, smallest for first; NULL never beats a value;
  // ties go to the later row for last and stay with the earlier for first).
  bool Better(const expr::Vec& v, int64_t i, int64_t id) const {
    bool valid = v.IsValid(i);
    bool kept = best_valid_[id] != 0;
    if (!valid) return !kept && keep_ == Keep::kLast;
    if (!kept) return true;
    int c = 0;
    switch (v.phys()) {
      case expr::Phys::kFloat: {
        double x = v.Float(i), y = best_float_[id];
        c = std::isnan(x) ? (std::isnan(y) ? 0 : 1) : std::isnan(y) ? -1 : (x > y) - (x < y);
        break;
      }
      case expr::Phys::kString:
        c = v.Str(i).compare(best_str_[id]);
        c = (c > 0) - (c < 0);
        break;
      default: {
        int64_t x = v.Int(i), y = best_int_[id];
        c = (x > y) - (x < y);
        break;
      }
    }
    return keep_ == Keep::kLast ? c >= 0 : c < 0;
  }

  void KeepOrderValue(const expr::Vec& v, int64_t i, int64_t id) {
    if (static_cast<int64_t>(best_valid_.size()) <= id) {
      best_valid_.resize(id + 1, 0);
      best_int_.resize(id + 1, 0);
      best_float_.resize(id + 1, 0);
      if (v.phys() == expr::Phys::kString) best_str_.resize(id + 1);
    }
    best_valid_[id] = v.IsValid(i);
    if (!v.IsValid(i)) return;
    switch (v.phys()) {
      case expr::Phys::kFloat:
        best_float_[id] = v.Float(i);
        break;
      case expr::Phys::kString:
        best_str_[id].assign(v.Str(i));
        break;
      default:
        best_int_[id] = v.Int(i);
        break;
    }
  }

  std::string_view KeyAt(int64_t i) const {
    return std::string_view(buf_.data() + offs_[i], offs_[i + 1] - offs_[i]);
  }

  // Store rows that are their key's latest occurrence, in store order.
  std::vector<uint32_t> LiveRows() const {
    std::vector<uint32_t> live;
    live.reserve(table_.size());
    for (int64_t r = 0; r < static_cast<int64_t>(row_key_.size()); ++r) {
      if (latest_[row_key_[r]] == r) live.push_back(static_cast<uint32_t>(r));
    }
    return live;
  }

  void Compact() {
    std::vector<uint32_t> live = LiveRows();
    RecordBatch compacted = store_.Select(live);
    std::vector<int64_t> row_key;
    row_key.reserve(live.size());
    for (size_t j = 0; j < live.size(); ++j) {
      int64_t id = row_key_[live[j]];
      latest_[id] = static_cast<int64_t>(j);
      row_key.push_back(id);
    }
    store_ = std::move(compacted);
    row_key_ = std::move(row_key);
  }

  StepSpec spec_;
  std::vector<std::string> key_;
  Keep keep_;
  std::optional<ExprArg> order_arg_;
  expr::ExprPtr order_;
  expr::EvalContext eval_;
  // The kept row's order value per key id.
  std::vector<uint8_t> best_valid_;
  std::vector<int64_t> best_int_;
  std::vector<double> best_float_;
  std::vector<std::string> best_str_;
  std::vector<int> key_idx_;
  Schema schema_;
  KeyTable table_;
  int64_t rows_in_ = 0;
  std::string buf_;
  std::vector<uint64_t> offs_;
  std::vector<uint64_t> hashes_;
  // keep=last: every row pushed since the last compaction, its key id, and
  // per key id the store row of its latest occurrence.
  RecordBatch store_;
  bool any_lines_ = false;
  std::vector<int64_t> row_key_;
  std::vector<int64_t> latest_;
};

}  // namespace

Result<std::unique_ptr<Operator>> NewDedupeOp(const StepSpec& spec) {
  if (!spec.args.is_object()) {
    return StepError(spec, "expected { key: [columns], keep: first|last, order_by: expression }");
  }
  RETURN_IF_ERROR(CheckArgKeys(spec, spec.args, {"key", "keep", "order_by"}));
  if (!spec.args.contains("key")) return StepError(spec, "missing argument 'key'");
  nlohmann::json key = spec.args["key"];
  if (key.is_string()) key = nlohmann::json::array({key});
  ASSIGN_OR_RETURN(std::vector<std::string> columns, NameListArg(spec, key, "key"));
  Keep keep = Keep::kFirst;
  if (spec.args.contains("keep")) {
    const auto& k = spec.args["keep"];
    if (k == "first") {
      keep = Keep::kFirst;
    } else if (k == "last") {
      keep = Keep::kLast;
    } else {
      return StepError(spec, "keep must be 'first' or 'last', got " + k.dump());
    }
  }
  std::optional<ExprArg> order;
  if (spec.args.contains("order_by")) {
    ASSIGN_OR_RETURN(std::string text,
                     ExprArgText(spec, "/order_by", spec.args["order_by"], "order_by"));
    ASSIGN_OR_RETURN(ExprArg a, ParseExprArg(spec, "/order_by", text));
    order = std::move(a);
  }
  return std::unique_ptr<Operator>(new DedupeOp(spec, std::move(columns), keep, std::move(order)));
}

}  // namespace sluice
