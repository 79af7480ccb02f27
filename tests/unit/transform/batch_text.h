// Test helpers: batches written as text, shared by the operator tests and the
// golden-file driver.
//   schema line  "id int64 not null | name string | amount decimal(12,2)"
//   row line     "1|alice|12.50"   ('|' between cells, NULL for a null cell)
#pragma once

#include <functional>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/cell_text.h"
#include "core/column.h"
#include "core/status.h"
#include "core/value_text.h"
#include "transform/operator.h"

namespace sluice::testing {

inline std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

inline std::vector<std::string_view> SplitCells(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t bar = line.find('|', start);
    out.push_back(line.substr(start, bar == std::string_view::npos ? bar : bar - start));
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  return out;
}

inline Result<Schema> ParseSchemaLine(std::string_view line) {
  Schema schema;
  for (std::string_view cell : SplitCells(line)) {
    cell = Trim(cell);
    size_t sp = cell.find(' ');
    if (sp == std::string_view::npos) {
      return Status::InvalidArgument("schema cell needs 'name type': " + std::string(cell));
    }
    Field f;
    f.name = std::string(cell.substr(0, sp));
    std::string_view type = Trim(cell.substr(sp + 1));
    constexpr std::string_view kNotNull = " not null";
    if (type.size() > kNotNull.size() && type.substr(type.size() - kNotNull.size()) == kNotNull) {
      f.nullable = false;
      type = Trim(type.substr(0, type.size() - kNotNull.size()));
    }
    ASSIGN_OR_RETURN(f.type, DataType::Parse(type));
    schema.AddField(std::move(f));
  }
  return schema;
}

inline std::string SchemaLine(const Schema& schema) {
  std::string out;
  for (const auto& f : schema.fields()) {
    if (!out.empty()) out += " | ";
    out += f.name + " " + f.type.ToString() + (f.nullable ? "" : " not null");
  }
  return out;
}

inline Status AppendCell(Column* col, std::string_view text) {
  if (text == "NULL") {
    col->AppendNull();
    return Status::OK();
  }
  const DataType& t = col->type();
  bool ok = true;
  switch (t.id) {
    case TypeId::kBool: {
      bool b = false;
      ok = ParseBool(text, &b);
      col->Append<uint8_t>(b);
      break;
    }
    case TypeId::kInt32: {
      int32_t v = 0;
      ok = ParseInt32(text, &v);
      col->Append(v);
      break;
    }
    case TypeId::kInt64: {
      int64_t v = 0;
      ok = ParseInt64(text, &v);
      col->Append(v);
      break;
    }
    case TypeId::kFloat64: {
      double v = 0;
      ok = ParseFloat64(text, &v);
      col->Append(v);
      break;
    }
    case TypeId::kDecimal: {
      int64_t v = 0;
      ok = ParseDecimal(text, t.precision, t.scale, &v);
      col->Append(v);
      break;
    }
    case TypeId::kString:
      col->AppendString(text);
      break;
    case TypeId::kDate: {
      int32_t v = 0;
      ok = ParseDate(text, &v);
      col->Append(v);
      break;
    }
    case TypeId::kTimestamp: {
      int64_t v = 0;
      ok = ParseTimestamp(text, &v);
      col->Append(v);
      break;
    }
  }
  if (!ok) {
    return Status::InvalidArgument("bad " + t.ToString() + " cell '" + std::string(text) + "'");
  }
  return Status::OK();
}

inline Status AppendRow(RecordBatch* batch, std::string_view line) {
  std::vector<std::string_view> cells = SplitCells(line);
  if (static_cast<int>(cells.size()) != batch->schema.num_fields()) {
    return Status::InvalidArgument("row '" + std::string(line) + "' has " +
                                   std::to_string(cells.size()) + " cells, schema has " +
                                   std::to_string(batch->schema.num_fields()));
  }
  for (size_t c = 0; c < cells.size(); ++c) {
    RETURN_IF_ERROR(AppendCell(&batch->columns[c], cells[c]));
  }
  ++batch->num_rows_no_columns;
  return Status::OK();
}

// A batch from a schema line and row lines; source_lines are 1, 2, 3, ...
// unless `first_line` is 0 (then none are set).
inline RecordBatch MakeBatch(std::string_view schema_line, const std::vector<std::string>& rows,
                             int64_t first_line = 1) {
  auto schema = ParseSchemaLine(schema_line);
  if (!schema.ok()) throw std::runtime_error(schema.status().ToString());
  RecordBatch b = RecordBatch::Empty(*schema);
  for (const auto& r : rows) {
    Status st = AppendRow(&b, r);
    if (!st.ok()) throw std::runtime_error(st.ToString());
    if (first_line > 0) b.source_lines.push_back(first_line++);
  }
  return b;
}

inline std::string RowText(const RecordBatch& batch, int64_t row) {
  std::string out;
  for (size_t c = 0; c < batch.columns.size(); ++c) {
    if (c > 0) out += "|";
    out += batch.columns[c].IsNull(row) ? "NULL" : CellText(batch.columns[c], row);
  }
  return out;
}

inline std::vector<std::string> Rows(const std::vector<RecordBatch>& batches) {
  std::vector<std::string> out;
  for (const auto& b : batches) {
    for (int64_t i = 0; i < b.num_rows(); ++i) out.push_back(RowText(b, i));
  }
  return out;
}

inline std::vector<int64_t> Lines(const std::vector<RecordBatch>& batches) {
  std::vector<int64_t> out;
  for (const auto& b : batches) out.insert(out.end(), b.source_lines.begin(), b.source_lines.end());
  return out;
}

// Runs one operator over `inputs` (Bind, Push each, Finish) and collects what
// it emits. Bind / Push errors are returned.
struct RunResult {
  Schema schema;
  std::vector<RecordBatch> out;
  std::vector<BadRecord> bad;
  int64_t removed = 0;
};

inline Result<RunResult> RunChain(const std::vector<StepSpec>& steps, const Schema& input,
                                  std::vector<RecordBatch> inputs) {
  std::vector<std::unique_ptr<Operator>> ops;
  for (const auto& s : steps) {
    ASSIGN_OR_RETURN(std::unique_ptr<Operator> op, MakeOperator(s));
    ops.push_back(std::move(op));
  }
  OperatorChain chain(std::move(ops));
  RunResult r;
  ASSIGN_OR_RETURN(r.schema, chain.Bind(input));
  auto sink = [&r](RecordBatch&& b) {
    r.out.push_back(std::move(b));
    return Status::OK();
  };
  for (auto& b : inputs) RETURN_IF_ERROR(chain.Push(std::move(b), &r.bad, sink));
  RETURN_IF_ERROR(chain.Finish(&r.bad, sink));
  r.removed = chain.RowsRemoved();
  return r;
}

// RunChain over a single batch, bound to that batch's schema.
inline Result<RunResult> RunOne(const std::vector<StepSpec>& steps, RecordBatch in) {
  Schema schema = in.schema;
  std::vector<RecordBatch> inputs;
  inputs.push_back(std::move(in));
  return RunChain(steps, schema, std::move(inputs));
}

inline StepSpec Step(std::string kind, std::string_view args_json) {
  StepSpec spec;
  spec.kind = std::move(kind);
  spec.args = nlohmann::json::parse(args_json);
  spec.where = "t.yaml:7";
  // Keep the written key order (as the YAML reader does with positions).
  int order = 0;
  std::function<void(const nlohmann::ordered_json&, const std::string&)> walk =
      [&](const nlohmann::ordered_json& v, const std::string& pointer) {
        spec.positions[pointer] = ArgPosition{0, 1, order++, ""};
        if (v.is_object()) {
          for (const auto& [k, child] : v.items()) walk(child, pointer + "/" + k);
        } else if (v.is_array()) {
          for (size_t i = 0; i < v.size(); ++i) walk(v[i], pointer + "/" + std::to_string(i));
        }
      };
  walk(nlohmann::ordered_json::parse(args_json), "");
  return spec;
}

}  // namespace sluice::testing
