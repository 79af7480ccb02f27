// Throughput of the SQL expression evaluator on representative expressions
// over one 64K-row batch (the size decoders produce), and of a filter step
// followed by an aggregate step over several such batches.
//
//   expr_bench [benchmark flags]
//
// Each BM_Expr/<name> compiles its expression once and then evaluates it over
// the whole batch per iteration (no selection), as filter and derive do; the
// counter is rows/s. The data is deterministic (bench::Rng, fixed seed).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/column.h"
#include "expr/expr.h"
#include "orders_data.h"
#include "transform/operator.h"

namespace sluice::bench {
namespace {

constexpr int64_t kBatchRows = 64 * 1024;
constexpr int kPipelineBatches = 16;  // 1M rows through filter + aggregate

Schema ExprOrdersSchema() {
  return Schema({
      {"order_id", DataType::Int64(), false},
      {"quantity", DataType::Int32(), true},
      {"unit_price", DataType::Decimal(12, 2), true},
      {"amount", DataType::Decimal(12, 2), true},
      {"currency", DataType::String(), true},
      {"country", DataType::String(), true},
      {"created_at", DataType::Timestamp(), true},
      {"note", DataType::String(), true},
      {"a", DataType::Int64(), true},  // ~30% NULL
      {"b", DataType::Int64(), true},  // ~50% NULL
  });
}

// One batch of `rows` orders; `seed` varies the batches of the pipeline.
RecordBatch MakeExprOrders(int64_t rows, uint64_t seed, int64_t first_id) {
  static const char* const kCurrencies[8] = {"EUR", "USD", "GBP", "CHF",
                                             "SEK", "PLN", "JPY", "DKK"};
  static const char* const kCountries[16] = {"DE", "FR", "IT", "ES", "NL", "BE", "AT", "PL",
                                             "SE", "DK", "CH", "GB", "US", "CA", "JP", "CZ"};
  static const char* const kWords[16] = {
      "Express", "delivery", "gift",    "wrap",   "please", "leave", "at",     "door",
      "call",    "before",   "fragile", "handle", "second", "floor", "urgent", "thanks"};
  RecordBatch b = RecordBatch::Empty(ExprOrdersSchema());
  for (Column& c : b.columns) c.Reserve(rows, c.type().id == TypeId::kString ? rows * 16 : 0);
  Rng rng(seed);
  int64_t ts = 1704067200000000;  // 2024-01-01T00:00:00Z
  std::string note;
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t qty = static_cast<int32_t>(1 + rng.Below(20));
    const int64_t price = static_cast<int64_t>(100 + rng.Below(99900));  // 1.00 .. 999.99
    b.columns[0].Append<int64_t>(first_id + r);
    b.columns[1].Append<int32_t>(qty);
    b.columns[2].Append<int64_t>(price);
    b.columns[3].Append<int64_t>(qty * price);
    b.columns[4].AppendString(kCurrencies[rng.Below(8)]);
    b.columns[5].AppendString(kCountries[rng.Below(16)]);
    ts += static_cast<int64_t>(rng.Below(6000000));
    b.columns[6].Append<int64_t>(ts);
    if (rng.Below(100) == 0) {
      b.columns[7].AppendNull();
    } else {
      note.clear();
      const int words = 2 + static_cast<int>(rng.Below(6));
      for (int w = 0; w < words; ++w) {
        if (w > 0) note += ' ';
        note += kWords[rng.Below(16)];
      }
      note += " #" + std::to_string(rng.Below(100000));
      b.columns[7].AppendString(note);
    }
    if (rng.Below(10) < 3) {
      b.columns[8].AppendNull();
    } else {
      b.columns[8].Append<int64_t>(static_cast<int64_t>(rng.Below(1000)));
    }
    if (rng.Below(2) == 0) {
      b.columns[9].AppendNull();
    } else {
      b.columns[9].Append<int64_t>(static_cast<int64_t>(rng.Below(1000)));
    }
  }
  return b;
}

const RecordBatch& Batch() {
  static const RecordBatch batch = MakeExprOrders(kBatchRows, 42, 1);
  return batch;
}

const char* const kExprs[] = {
    "currency = 'EUR'",
    "quantity * unit_price",
    "amount > 100 AND country IN ('DE','FR','IT')",
    "CASE WHEN quantity > 10 THEN 'big' ELSE 'small' END",
    "lower(note) LIKE '%express%'",
    "date_trunc('day', created_at)",
    "coalesce(a, b, 0) + 1",
    "regexp_matches(note, '[0-9]{3}')",
    "xxhash64(order_id)",
};

// state.range(0): index into kExprs.
void BM_Expr(benchmark::State& state) {
  const char* text = kExprs[state.range(0)];
  state.SetLabel(text);
  const RecordBatch& batch = Batch();
  expr::SourceText src{text, "", 0, 1, ""};
  auto e = expr::CompileExpression(src, batch.schema);
  if (!e.ok()) {
    state.SkipWithError(e.status().ToString().c_str());
    return;
  }
  expr::EvalContext ctx(&src);
  for (auto _ : state) {
    ctx.Reset(batch.num_rows());
    expr::Vec v = expr::Evaluate(**e, batch, nullptr, &ctx);
    benchmark::DoNotOptimize(v);
  }
  if (ctx.HasErrors()) state.SkipWithError(ctx.errors()[0].message.c_str());
  state.SetItemsProcessed(state.iterations() * batch.num_rows());
}
BENCHMARK(BM_Expr)
    ->DenseRange(0, static_cast<int>(std::size(kExprs)) - 1)
    ->Unit(benchmark::kMicrosecond);

// A StepSpec as a pipeline file gives it (arguments keep their written order).
StepSpec Step(std::string kind, std::string_view args_json) {
  StepSpec spec;
  spec.kind = std::move(kind);
  spec.args = nlohmann::json::parse(args_json);
  spec.where = "bench.yaml:1";
  int order = 0;
  std::function<void(const nlohmann::ordered_json&, const std::string&)> walk =
      [&](const nlohmann::ordered_json& v, const std::string& pointer) {
        ArgPosition pos;
        pos.order = order++;
        spec.positions[pointer] = pos;
        if (v.is_object()) {
          for (const auto& [k, child] : v.items()) walk(child, pointer + "/" + k);
        } else if (v.is_array()) {
          for (size_t i = 0; i < v.size(); ++i) walk(v[i], pointer + "/" + std::to_string(i));
        }
      };
  walk(nlohmann::ordered_json::parse(args_json), "");
  return spec;
}

// filter currency = 'EUR', then aggregate by country: sum(quantity *
// unit_price) and count(*), over kPipelineBatches batches of 64K rows.
void BM_FilterAggregate(benchmark::State& state) {
  static const std::vector<RecordBatch> input = [] {
    std::vector<RecordBatch> out;
    for (int i = 0; i < kPipelineBatches; ++i) {
      out.push_back(MakeExprOrders(kBatchRows, 1000 + i, 1 + i * kBatchRows));
    }
    return out;
  }();
  // (Plain literals: clang-format mangles raw strings holding braces.)
  const StepSpec filter = Step("filter", "{\"where\": \"currency = 'EUR'\"}");
  const StepSpec aggregate = Step("aggregate",
                                  "{\"group_by\": [\"country\"], \"aggregates\": {\"revenue\": "
                                  "\"sum(quantity * unit_price)\", \"orders\": \"count(*)\"}}");
  int64_t groups = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<RecordBatch> batches = input;  // operators consume their input
    std::vector<std::unique_ptr<Operator>> ops;
    for (const StepSpec* spec : {&filter, &aggregate}) {
      auto op = MakeOperator(*spec);
      if (!op.ok()) {
        state.SkipWithError(op.status().ToString().c_str());
        return;
      }
      ops.push_back(std::move(*op));
    }
    OperatorChain chain(std::move(ops));
    state.ResumeTiming();
    auto bound = chain.Bind(input[0].schema);
    if (!bound.ok()) {
      state.SkipWithError(bound.status().ToString().c_str());
      return;
    }
    std::vector<BadRecord> bad;
    groups = 0;
    auto sink = [&](RecordBatch&& out) {
      groups += out.num_rows();
      return Status::OK();
    };
    for (RecordBatch& b : batches) {
      Status st = chain.Push(std::move(b), &bad, sink);
      if (!st.ok()) {
        state.SkipWithError(st.ToString().c_str());
        return;
      }
    }
    Status st = chain.Finish(&bad, sink);
    if (!st.ok() || !bad.empty()) {
      state.SkipWithError(st.ok() ? "bad records" : st.ToString().c_str());
      return;
    }
  }
  state.counters["groups"] = static_cast<double>(groups);
  state.SetItemsProcessed(state.iterations() * kPipelineBatches * kBatchRows);
}
BENCHMARK(BM_FilterAggregate)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace sluice::bench

BENCHMARK_MAIN();
