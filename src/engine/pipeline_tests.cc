#include "engine/pipeline_tests.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "core/cell_text.h"
#include "core/io.h"
#include "engine/batch_driver.h"
#include "format/compression.h"
#include "format/format.h"
#include "pipeline/yaml_util.h"

namespace sluice {

namespace fs = std::filesystem;

namespace {

// ---------------------------------------------------------------------------
// Rendering values as YAML flow scalars (diffs read like the test file).

std::string Quoted(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Whether `s` written plain in a flow mapping reads back as the same text.
// `typed`: the column is a number or boolean, so a plain scalar that YAML
// reads as a number or boolean is fine (cells compare as text).
bool PlainReadsBack(const std::string& s, bool typed) {
  if (s.empty() || s == "-" || s.front() == ' ' || s.back() == ' ') return false;
  if (s[0] == '-' && s.size() > 1 && s[1] == ' ') return false;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c >= 0x80) continue;
    if (c == '_' || c == '.' || c == '+' || c == '-' || c == '/' || c == '@' || c == ' ') continue;
    return false;
  }
  auto node = ParseYaml(s, "");
  if (!node.ok() || !node->IsScalar() || node->Scalar() != s) return false;
  switch (ResolveYamlScalar(*node)) {
    case YamlScalarKind::kNull:
      return false;
    case YamlScalarKind::kString:
      return true;
    default:
      return typed;
  }
}

std::string YamlValue(const std::optional<std::string>& v, bool typed) {
  if (!v) return "null";
  return PlainReadsBack(*v, typed) ? *v : Quoted(*v);
}

bool IsTyped(const Schema& schema, const std::string& column) {
  int i = schema.FieldIndex(column);
  if (i < 0) return false;
  TypeId id = schema.field(i).type.id;
  return id != TypeId::kString && id != TypeId::kDate && id != TypeId::kTimestamp;
}

// ---------------------------------------------------------------------------
// Outputs and their names.

std::string OutputName(const SinkSpec& s) {
  auto it = s.args.find("table");
  if (it != s.args.end() && it->is_string()) return it->get<std::string>();
  return "";
}

std::string OutputLabel(const PipelineSpec& spec, size_t i) {
  const SinkSpec& s = spec.outputs[i];
  std::string name = OutputName(s);
  return "outputs[" + std::to_string(i) + "], " + s.kind + (name.empty() ? "" : ": " + name);
}

const Schema& OutputSchema(const PipelineSpec& spec, size_t i) {
  if (i < spec.output_steps.size()) return spec.output_steps[i].schema;
  return spec.output_schema;
}

// The outputs `key` names: "outputs[N]", "KIND:NAME" or NAME (every output of
// that name: a lake table and an SQLite copy may share one).
std::vector<size_t> ResolveOutput(const PipelineSpec& spec, const std::string& key) {
  std::vector<size_t> out;
  if (key.rfind("outputs[", 0) == 0 && key.size() > 9 && key.back() == ']') {
    size_t n = 0;
    const char* b = key.data() + 8;
    const char* e = key.data() + key.size() - 1;
    auto r = std::from_chars(b, e, n);
    if (r.ec == std::errc() && r.ptr == e && n < spec.outputs.size()) out.push_back(n);
    return out;
  }
  size_t colon = key.find(':');
  for (size_t i = 0; i < spec.outputs.size(); ++i) {
    const SinkSpec& s = spec.outputs[i];
    std::string name = OutputName(s);
    if (name.empty()) continue;
    if (key == name || (colon != std::string::npos && key.substr(0, colon) == s.kind &&
                        key.substr(colon + 1) == name)) {
      out.push_back(i);
    }
  }
  return out;
}

std::vector<std::string> OutputKeys(const PipelineSpec& spec) {
  std::vector<std::string> keys;
  for (size_t i = 0; i < spec.outputs.size(); ++i) {
    std::string name = OutputName(spec.outputs[i]);
    if (!name.empty() && std::find(keys.begin(), keys.end(), name) == keys.end()) {
      keys.push_back(name);
    }
  }
  for (size_t i = 0; i < spec.outputs.size(); ++i) {
    keys.push_back("outputs[" + std::to_string(i) + "]");
  }
  return keys;
}

// ---------------------------------------------------------------------------
// Parsing.

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

Status UnknownName(const std::string& file, int line, const std::string& path,
                   const std::string& what, const std::string& name,
                   const std::vector<std::string>& known) {
  std::string msg = "unknown " + what + " '" + name + "'";
  std::string near = ClosestName(name, known);
  if (!near.empty()) {
    msg += " (did you mean '" + near + "'?)";
  } else {
    msg += " (" + what + "s: " + Join(known) + ")";
  }
  return YamlError(file, line, path, msg);
}

std::vector<std::string> FieldNames(const Schema& schema) {
  std::vector<std::string> names;
  for (const Field& f : schema.fields()) names.push_back(f.name);
  return names;
}

// A JSON number spelled as JSON spells it (so "12.50" keeps its digits).
bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

// One input value as JSON text: YAML strings stay strings, numbers numbers.
std::string JsonValue(const YAML::Node& node) {
  if (node.IsScalar()) {
    switch (ResolveYamlScalar(node)) {
      case YamlScalarKind::kInt:
      case YamlScalarKind::kFloat: {
        if (IsJsonNumber(node.Scalar())) return node.Scalar();
        nlohmann::json j = YamlToJson(node);
        if (j.is_number_float() && !std::isfinite(j.get<double>())) return Quoted(node.Scalar());
        return j.dump();
      }
      case YamlScalarKind::kString:
        return Quoted(node.Scalar());
      default:
        break;
    }
  }
  return YamlToJson(node).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Status ParseInputRows(const YAML::Node& node, const std::string& file, int line,
                      const std::string& path, const PipelineSpec& spec, PipelineTestCase* c) {
  if (!node.IsSequence()) {
    return YamlError(file, line, path, "expected a list of rows (mappings of column: value)");
  }
  const std::vector<std::string> known = FieldNames(spec.schema);
  int i = 0;
  for (const auto& row : node) {
    const std::string row_path = path + "[" + std::to_string(i++) + "]";
    const int row_line = YamlLine(row);
    if (!row.IsMap()) {
      return YamlError(file, row_line, row_path, "expected a row (a mapping of column: value)");
    }
    ASSIGN_OR_RETURN(auto cells, YamlMapEntries(row, file, row_path));
    std::string json = "{";
    for (const YamlEntry& e : cells) {
      if (spec.schema.FieldIndex(e.key) < 0) {
        return UnknownName(file, e.line, row_path, "column", e.key, known);
      }
      if (json.size() > 1) json += ", ";
      json += Quoted(e.key) + ": " + JsonValue(e.value);
    }
    json += "}\n";
    c->input += json;
    c->input_row_lines.push_back(row_line);
  }
  return Status::OK();
}

Result<ExpectedRow> ParseExpectedRow(const YAML::Node& row, const std::string& file,
                                     const std::string& path, const Schema& schema) {
  ExpectedRow out;
  out.line = YamlLine(row);
  if (!row.IsMap()) {
    return YamlError(file, out.line, path, "expected a row (a mapping of column: value)");
  }
  ASSIGN_OR_RETURN(auto cells, YamlMapEntries(row, file, path));
  for (const YamlEntry& e : cells) {
    if (schema.FieldIndex(e.key) < 0) {
      return UnknownName(file, e.line, path, "column", e.key, FieldNames(schema));
    }
    ExpectedCell cell;
    cell.column = e.key;
    if (e.value.IsDefined() && !e.value.IsNull() && !e.value.IsScalar()) {
      return YamlError(file, e.line, path + "." + e.key, "expected a single value");
    }
    if (ResolveYamlScalar(e.value) != YamlScalarKind::kNull) cell.text = e.value.Scalar();
    out.cells.push_back(std::move(cell));
  }
  return out;
}

Status ParseExpect(const YAML::Node& node, const std::string& file, const std::string& path,
                   const PipelineSpec& spec, PipelineTestCase* c) {
  ASSIGN_OR_RETURN(auto entries, YamlMapEntries(node, file, path));
  std::map<size_t, std::string> seen;  // output -> key that named it
  for (const YamlEntry& e : entries) {
    const std::string out_path = path + "." + e.key;
    std::vector<size_t> outputs = ResolveOutput(spec, e.key);
    if (outputs.empty() && e.key.rfind("outputs[", 0) == 0) {
      return YamlError(file, e.line, out_path,
                       "no such output (the pipeline has " + std::to_string(spec.outputs.size()) +
                           ": outputs[0] to outputs[" + std::to_string(spec.outputs.size() - 1) +
                           "])");
    }
    if (outputs.empty()) {
      return UnknownName(file, e.line, path, "output", e.key, OutputKeys(spec));
    }
    if (!e.value.IsNull() && !e.value.IsSequence()) {
      return YamlError(file, e.line, out_path, "expected a list of rows ([] for none)");
    }
    for (size_t o : outputs) {
      if (auto it = seen.find(o); it != seen.end()) {
        return YamlError(file, e.line, out_path,
                         OutputLabel(spec, o) + " is already checked under '" + it->second + "'");
      }
      seen[o] = e.key;
      ExpectedOutput x;
      x.key = e.key;
      x.output = o;
      x.line = e.line;
      int i = 0;
      for (const auto& row : e.value) {
        ASSIGN_OR_RETURN(ExpectedRow r,
                         ParseExpectedRow(row, file, out_path + "[" + std::to_string(i++) + "]",
                                          OutputSchema(spec, o)));
        x.rows.push_back(std::move(r));
      }
      c->expect.push_back(std::move(x));
    }
  }
  return Status::OK();
}

Status ParseExpectBad(const YAML::Node& node, const std::string& file, int line,
                      const std::string& path, PipelineTestCase* c) {
  if (node.IsNull()) return Status::OK();
  if (!node.IsSequence()) {
    return YamlError(file, line, path, "expected a list of {line, field, reason, raw}");
  }
  int i = 0;
  for (const auto& item : node) {
    const std::string p = path + "[" + std::to_string(i++) + "]";
    ExpectedBad b;
    b.file_line = YamlLine(item);
    if (!item.IsMap()) return YamlError(file, b.file_line, p, "expected a mapping");
    ASSIGN_OR_RETURN(auto entries, YamlMapEntries(item, file, p));
    RETURN_IF_ERROR(YamlCheckKeys(entries, {"line", "field", "reason", "raw"}, file, p));
    for (const YamlEntry& e : entries) {
      if (e.key == "line") {
        int64_t n = 0;
        const std::string s = e.value.IsScalar() ? e.value.Scalar() : "";
        auto r = std::from_chars(s.data(), s.data() + s.size(), n);
        if (ResolveYamlScalar(e.value) != YamlScalarKind::kInt || r.ec != std::errc() ||
            r.ptr != s.data() + s.size() || n < 1) {
          return YamlError(file, e.line, p + ".line", "expected a line number (1, 2, ...)");
        }
        b.line = n;
        continue;
      }
      ASSIGN_OR_RETURN(std::string s, YamlString(e.value, file, e.line, p + "." + e.key));
      if (e.key == "field") b.field = s;
      if (e.key == "reason") b.reason = s;
      if (e.key == "raw") b.raw = s;
    }
    c->expect_bad.push_back(std::move(b));
  }
  return Status::OK();
}

Result<PipelineTestCase> ParseCase(const YAML::Node& node, const std::string& file,
                                   const std::string& path, const PipelineSpec& spec) {
  PipelineTestCase c;
  c.line = YamlLine(node);
  if (!node.IsMap()) return YamlError(file, c.line, path, "expected a test (a mapping)");
  ASSIGN_OR_RETURN(auto entries, YamlMapEntries(node, file, path));
  RETURN_IF_ERROR(YamlCheckKeys(entries,
                                {"name", "input", "input_csv", "input_ndjson", "input_file",
                                 "expect", "expect_bad", "ordered"},
                                file, path));
  int inputs = 0;
  bool has_name = false;
  for (const YamlEntry& e : entries) {
    const std::string p = path + "." + e.key;
    if (e.key == "name") {
      ASSIGN_OR_RETURN(c.name, YamlString(e.value, file, e.line, p));
      has_name = !c.name.empty();
    } else if (e.key.rfind("input", 0) == 0) {
      if (++inputs > 1) {
        return YamlError(file, e.line, p,
                         "a test has one input (input, input_csv, input_ndjson or input_file)");
      }
      if (e.key == "input") {
        c.input_kind = PipelineTestInput::kRows;
        RETURN_IF_ERROR(ParseInputRows(e.value, file, e.line, p, spec, &c));
      } else {
        ASSIGN_OR_RETURN(c.input, YamlString(e.value, file, e.line, p));
        if (e.key == "input_csv") c.input_kind = PipelineTestInput::kCsv;
        if (e.key == "input_ndjson") c.input_kind = PipelineTestInput::kNdjson;
        if (e.key == "input_file") {
          c.input_kind = PipelineTestInput::kFile;
          fs::path f(c.input);
          if (f.is_relative()) f = fs::path(file).parent_path() / f;
          c.input = f.lexically_normal().string();
          std::error_code ec;
          if (!fs::is_regular_file(c.input, ec)) {
            return YamlError(file, e.line, p, "input file '" + c.input + "' does not exist");
          }
        }
      }
    } else if (e.key == "expect") {
      RETURN_IF_ERROR(ParseExpect(e.value, file, p, spec, &c));
    } else if (e.key == "expect_bad") {
      RETURN_IF_ERROR(ParseExpectBad(e.value, file, e.line, p, &c));
    } else if (e.key == "ordered") {
      ASSIGN_OR_RETURN(c.ordered, YamlBool(e.value, file, e.line, p));
    }
  }
  if (!has_name) return YamlError(file, c.line, path + ".name", "a test needs a name");
  if (inputs == 0) {
    return YamlError(file, c.line, path,
                     "a test needs an input (input, input_csv, input_ndjson or input_file)");
  }
  return c;
}

// ---------------------------------------------------------------------------
// Running.

using TextRow = std::vector<std::optional<std::string>>;  // one per output column

struct ActualOutput {
  Schema schema;
  std::vector<TextRow> rows;
};

void AppendRows(const RecordBatch& batch, ActualOutput* out) {
  std::vector<int> cols;
  for (const Field& f : out->schema.fields()) cols.push_back(batch.schema.FieldIndex(f.name));
  for (int64_t r = 0; r < batch.num_rows(); ++r) {
    TextRow row;
    for (int c : cols) {
      if (c < 0 || batch.columns[c].IsNull(r)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(CellText(batch.columns[c], r));
      }
    }
    out->rows.push_back(std::move(row));
  }
}

bool RowMatches(const ExpectedRow& e, const TextRow& a, const Schema& schema) {
  for (const ExpectedCell& c : e.cells) {
    if (a[schema.FieldIndex(c.column)] != c.text) return false;
  }
  return true;
}

std::string RenderExpected(const ExpectedRow& e, const Schema& schema) {
  std::string s = "{ ";
  for (size_t i = 0; i < e.cells.size(); ++i) {
    if (i) s += ", ";
    s += e.cells[i].column + ": " + YamlValue(e.cells[i].text, IsTyped(schema, e.cells[i].column));
  }
  return s + " }";
}

std::string RenderActual(const TextRow& a, const std::vector<std::string>& cols,
                         const Schema& schema) {
  std::string s = "{ ";
  for (size_t i = 0; i < cols.size(); ++i) {
    if (i) s += ", ";
    s += cols[i] + ": " + YamlValue(a[schema.FieldIndex(cols[i])], IsTyped(schema, cols[i]));
  }
  return s + " }";
}

std::string Describe(const std::optional<std::string>& v) { return v ? Quoted(*v) : "null"; }

// "row 2 (FILE:LINE), column total: expected "13.00", got "12.50"".
std::string FirstDifference(const ExpectedRow& e, size_t e_index, const TextRow& a, size_t a_index,
                            const Schema& schema, const std::string& file) {
  for (const ExpectedCell& c : e.cells) {
    const auto& got = a[schema.FieldIndex(c.column)];
    if (got == c.text) continue;
    return "expected row " + std::to_string(e_index + 1) + " (" + file + ":" +
           std::to_string(e.line) + ") vs actual row " + std::to_string(a_index + 1) + ", column " +
           c.column + ": expected " + Describe(c.text) + ", got " + Describe(got);
  }
  return "";
}

enum class Op { kEqual, kMissing, kExtra };
struct DiffOp {
  Op op;
  size_t e = 0;  // index in expected (kEqual, kMissing)
  size_t a = 0;  // index in actual (kEqual, kExtra)
};

// Longest common subsequence of expected and actual rows; falls back to a
// positional comparison when both are too long for the table.
std::vector<DiffOp> OrderedDiff(const std::vector<ExpectedRow>& exp,
                                const std::vector<TextRow>& act, const Schema& schema) {
  const size_t n = exp.size(), m = act.size();
  std::vector<DiffOp> ops;
  if (n * m > (size_t{1} << 22)) {
    size_t i = 0;
    for (; i < std::min(n, m); ++i) {
      if (RowMatches(exp[i], act[i], schema)) {
        ops.push_back({Op::kEqual, i, i});
      } else {
        ops.push_back({Op::kMissing, i, 0});
        ops.push_back({Op::kExtra, 0, i});
      }
    }
    for (size_t k = i; k < n; ++k) ops.push_back({Op::kMissing, k, 0});
    for (size_t k = i; k < m; ++k) ops.push_back({Op::kExtra, 0, k});
    return ops;
  }
  std::vector<std::vector<uint32_t>> lcs(n + 1, std::vector<uint32_t>(m + 1, 0));
  for (size_t i = n; i-- > 0;) {
    for (size_t j = m; j-- > 0;) {
      lcs[i][j] = RowMatches(exp[i], act[j], schema) ? lcs[i + 1][j + 1] + 1
                                                     : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && RowMatches(exp[i], act[j], schema)) {
      ops.push_back({Op::kEqual, i++, j++});
    } else if (j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j])) {
      ops.push_back({Op::kExtra, 0, j++});
    } else {
      ops.push_back({Op::kMissing, i++, 0});
    }
  }
  // Show a changed row as "- expected" then "+ actual": move each run of
  // extras after the missing rows that directly follow it.
  for (size_t k = 0; k < ops.size();) {
    if (ops[k].op != Op::kExtra) {
      ++k;
      continue;
    }
    size_t extra_end = k;
    while (extra_end < ops.size() && ops[extra_end].op == Op::kExtra) ++extra_end;
    size_t missing_end = extra_end;
    while (missing_end < ops.size() && ops[missing_end].op == Op::kMissing) ++missing_end;
    std::rotate(ops.begin() + static_cast<std::ptrdiff_t>(k),
                ops.begin() + static_cast<std::ptrdiff_t>(extra_end),
                ops.begin() + static_cast<std::ptrdiff_t>(missing_end));
    k = missing_end;
  }
  return ops;
}

// Multiset comparison: each expected row takes the first unclaimed actual row
// it matches.
std::vector<DiffOp> UnorderedDiff(const std::vector<ExpectedRow>& exp,
                                  const std::vector<TextRow>& act, const Schema& schema) {
  std::vector<DiffOp> ops;
  std::vector<bool> taken(act.size(), false);
  std::vector<DiffOp> missing;
  for (size_t i = 0; i < exp.size(); ++i) {
    bool found = false;
    for (size_t j = 0; j < act.size() && !found; ++j) {
      if (taken[j] || !RowMatches(exp[i], act[j], schema)) continue;
      taken[j] = found = true;
      ops.push_back({Op::kEqual, i, j});
    }
    if (!found) missing.push_back({Op::kMissing, i, 0});
  }
  ops.insert(ops.end(), missing.begin(), missing.end());
  for (size_t j = 0; j < act.size(); ++j) {
    if (!taken[j]) ops.push_back({Op::kExtra, 0, j});
  }
  return ops;
}

constexpr size_t kMaxDiffLines = 60;
constexpr size_t kContext = 2;

OutputTestResult CompareOutput(const PipelineSpec& spec, const ExpectedOutput& x,
                               const ActualOutput& actual, bool ordered, const std::string& file) {
  OutputTestResult r;
  r.key = x.key;
  r.output = OutputLabel(spec, x.output);
  r.expected_rows = static_cast<int64_t>(x.rows.size());
  r.actual_rows = static_cast<int64_t>(actual.rows.size());
  const Schema& schema = actual.schema;
  std::vector<DiffOp> ops = ordered ? OrderedDiff(x.rows, actual.rows, schema)
                                    : UnorderedDiff(x.rows, actual.rows, schema);
  r.passed =
      std::all_of(ops.begin(), ops.end(), [](const DiffOp& d) { return d.op == Op::kEqual; });
  if (r.passed) return r;

  // Columns shown for actual rows: those the expectation lists (in the
  // output's column order), else all of them.
  std::vector<std::string> cols;
  for (const Field& f : schema.fields()) {
    bool listed = x.rows.empty();
    for (const ExpectedRow& e : x.rows) {
      for (const ExpectedCell& c : e.cells) listed |= c.column == f.name;
    }
    if (listed) cols.push_back(f.name);
  }
  // A changed row shows as "- expected" then "+ actual" on the same columns:
  // the i-th extra after a run of missing rows pairs with the i-th of them.
  std::vector<std::vector<std::string>> shown(ops.size(), cols);
  for (size_t k = 0; k < ops.size();) {
    size_t m = k;
    while (m < ops.size() && ops[m].op == Op::kMissing) ++m;
    size_t e = m;
    while (e < ops.size() && ops[e].op == Op::kExtra && e - m < m - k) {
      shown[e].clear();
      for (const ExpectedCell& c : x.rows[ops[k + (e - m)].e].cells) shown[e].push_back(c.column);
      ++e;
    }
    k = std::max(e, k + 1);
  }

  // The first differing cell: the first missing row against the actual row
  // in its place (ordered: the first extra of the same change; unordered: the
  // extra that agrees with it on the most columns).
  auto first =
      std::find_if(ops.begin(), ops.end(), [](const DiffOp& d) { return d.op != Op::kEqual; });
  const size_t k = static_cast<size_t>(first - ops.begin());
  if (ops[k].op == Op::kExtra) {
    r.first_difference = "actual row " + std::to_string(ops[k].a + 1) + " is not expected";
  } else {
    const ExpectedRow& e = x.rows[ops[k].e];
    std::optional<size_t> best;
    int best_score = -1;
    for (size_t q = k; q < ops.size(); ++q) {
      if (ordered && ops[q].op == Op::kEqual) break;
      if (ops[q].op != Op::kExtra) continue;
      int score = 0;
      for (const ExpectedCell& c : e.cells) {
        score += actual.rows[ops[q].a][schema.FieldIndex(c.column)] == c.text ? 1 : 0;
      }
      if (score > best_score) {
        best_score = score;
        best = ops[q].a;
      }
      if (ordered) break;
    }
    if (best) {
      r.first_difference = FirstDifference(e, ops[k].e, actual.rows[*best], *best, schema, file);
    } else {
      r.first_difference = "expected row " + std::to_string(ops[k].e + 1) + " (" + file + ":" +
                           std::to_string(e.line) + ") is missing: " + RenderExpected(e, schema);
    }
  }

  // Diff lines with a little context around changes.
  std::vector<bool> show(ops.size(), false);
  for (size_t k = 0; k < ops.size(); ++k) {
    if (ops[k].op == Op::kEqual) continue;
    size_t lo = k >= kContext ? k - kContext : 0;
    size_t hi = std::min(ops.size(), k + kContext + 1);
    for (size_t q = lo; q < hi; ++q) show[q] = true;
  }
  size_t hidden = 0, changed_left = 0;
  for (size_t k = 0; k < ops.size(); ++k) {
    if (!show[k]) {
      ++hidden;
      continue;
    }
    if (hidden) {
      r.diff.push_back("  ... " + std::to_string(hidden) + " equal row(s)");
      hidden = 0;
    }
    if (r.diff.size() >= kMaxDiffLines) {
      for (size_t q = k; q < ops.size(); ++q) changed_left += ops[q].op != Op::kEqual;
      r.diff.push_back("  ... and " + std::to_string(changed_left) + " more differing row(s)");
      break;
    }
    switch (ops[k].op) {
      case Op::kEqual:
        r.diff.push_back("  " + RenderActual(actual.rows[ops[k].a], cols, schema));
        break;
      case Op::kMissing:
        r.diff.push_back("- " + RenderExpected(x.rows[ops[k].e], schema));
        break;
      case Op::kExtra:
        r.diff.push_back("+ " + RenderActual(actual.rows[ops[k].a], shown[k], schema));
        break;
    }
  }
  if (hidden) r.diff.push_back("  ... " + std::to_string(hidden) + " equal row(s)");
  return r;
}

bool BadMatches(const ExpectedBad& x, const BadRecord& b) {
  if (x.line && *x.line != b.line) return false;
  if (x.field && *x.field != b.field) return false;
  if (x.reason && b.reason.find(*x.reason) == std::string::npos) return false;
  if (x.raw && b.raw.find(*x.raw) == std::string::npos) return false;
  return true;
}

std::string RenderBad(const ExpectedBad& x) {
  std::string s = "{ ";
  auto add = [&](const std::string& k, const std::string& v) {
    s += (s.size() > 2 ? ", " : "") + k + ": " + v;
  };
  if (x.line) add("line", std::to_string(*x.line));
  if (x.field) add("field", YamlValue(*x.field, false));
  if (x.reason) add("reason", Quoted(*x.reason));
  if (x.raw) add("raw", Quoted(*x.raw));
  return s + " }";
}

std::string RenderBad(const BadRecord& b) {
  std::string s = "{ line: " + std::to_string(b.line);
  if (!b.field.empty()) s += ", field: " + YamlValue(b.field, false);
  return s + ", reason: " + Quoted(b.reason) + " }";
}

void CompareBad(const PipelineTestFile& file, const PipelineTestCase& c, PipelineTestResult* r) {
  std::vector<bool> taken(r->bad.size(), false);
  for (const ExpectedBad& x : c.expect_bad) {
    bool found = false;
    for (size_t j = 0; j < r->bad.size() && !found; ++j) {
      if (taken[j] || !BadMatches(x, r->bad[j])) continue;
      taken[j] = found = true;
    }
    if (!found) {
      r->missing_bad.push_back(RenderBad(x) + "  # " + file.path + ":" +
                               std::to_string(x.file_line));
    }
  }
  for (size_t j = 0; j < r->bad.size(); ++j) {
    if (taken[j]) continue;
    std::string s = RenderBad(r->bad[j]);
    const int64_t line = r->bad[j].line;
    if (c.input_kind == PipelineTestInput::kRows && line >= 1 &&
        line <= static_cast<int64_t>(c.input_row_lines.size())) {
      s += "  # input row at " + file.path + ":" + std::to_string(c.input_row_lines[line - 1]);
    }
    r->unexpected_bad.push_back(std::move(s));
  }
}

// A case's input: the rendered rows or inline text (plain NDJSON or CSV), or
// the file as production reads it.
Result<DriverInput> OpenCaseInput(const PipelineTestFile& file, const PipelineTestCase& c,
                                  FileFormat* format) {
  const std::string name = file.path + " (" + c.name + ")";
  switch (c.input_kind) {
    case PipelineTestInput::kRows:
    case PipelineTestInput::kNdjson:
      *format = FileFormat::kNdjson;
      return DriverInput{NewStringInput(c.input, name), false};
    case PipelineTestInput::kCsv:
      *format = FileFormat::kCsv;
      return DriverInput{NewStringInput(c.input, name), false};
    case PipelineTestInput::kFile:
      break;
  }
  ASSIGN_OR_RETURN(*format, InputFormat(file.spec, c.input));
  ASSIGN_OR_RETURN(auto raw, OpenFileInput(c.input));
  return DriverInput{std::move(raw), true};
}

// Collects each output's rows as text, and the rejected records: the
// decoder's first, then the steps', as a case lists them.
class CaseSink final : public DriverSink {
 public:
  CaseSink(std::vector<ActualOutput>* outputs, std::vector<BadRecord>* bad)
      : outputs_(outputs), bad_(bad) {}
  void SetOutputIndex(std::vector<size_t> spec_output) { spec_output_ = std::move(spec_output); }
  Status Write(size_t output, RecordBatch&& rows) override {
    AppendRows(rows, &(*outputs_)[spec_output_[output]]);
    return Status::OK();
  }
  Status Quarantine(const std::vector<BadRecord>& bad, BadRecordOrigin origin) override {
    std::vector<BadRecord>& to = origin == BadRecordOrigin::kDecode ? *bad_ : step_bad_;
    to.insert(to.end(), bad.begin(), bad.end());
    return Status::OK();
  }
  void Finish() { bad_->insert(bad_->end(), step_bad_.begin(), step_bad_.end()); }

 private:
  std::vector<ActualOutput>* outputs_;
  std::vector<BadRecord>* bad_;
  std::vector<BadRecord> step_bad_;
  std::vector<size_t> spec_output_;
};

// The pipeline's on_bad_record and max_bad_ratio are not applied: every
// rejected record is collected and the whole input is read.
Status RunCase(const PipelineTestFile& file, const PipelineTestCase& c,
               std::vector<ActualOutput>* outputs, std::vector<BadRecord>* bad) {
  BatchDriverOptions options = DriverOptionsForSpec(file.spec);
  options.on_bad_record = BadRecordPolicy::kQuarantine;
  options.max_bad_ratio = 1.0;
  options.references = ReferenceEnv{file.references.get(), nullptr};
  ASSIGN_OR_RETURN(DriverInput input, OpenCaseInput(file, c, &options.format));
  BatchDriver driver(std::move(options));
  RETURN_IF_ERROR(driver.Open(std::move(input)));
  outputs->assign(file.spec.outputs.size(), ActualOutput{});
  std::vector<size_t> spec_output;
  for (size_t i = 0; i < driver.num_outputs(); ++i) {
    spec_output.push_back(driver.spec_output(i));
    (*outputs)[driver.spec_output(i)].schema = driver.output_schema(i);
  }
  CaseSink sink(outputs, bad);
  sink.SetOutputIndex(std::move(spec_output));
  RETURN_IF_ERROR(driver.Run(sink).status());
  sink.Finish();
  return Status::OK();
}

std::string ReplaceSuffix(const std::string& path, std::string_view from, std::string_view to) {
  return path.substr(0, path.size() - from.size()) + std::string(to);
}

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string PipelineFileForTest(const std::string& test_path) {
  for (std::string_view suffix : {".test.yaml", ".test.yml"}) {
    if (!EndsWith(test_path, suffix)) continue;
    std::string yaml = ReplaceSuffix(test_path, suffix, ".yaml");
    std::string yml = ReplaceSuffix(test_path, suffix, ".yml");
    std::error_code ec;
    if (!fs::exists(yaml, ec) && fs::exists(yml, ec)) return yml;
    return yaml;
  }
  return "";
}

std::string TestFileForPipeline(const std::string& pipeline_path) {
  for (std::string_view suffix : {".yaml", ".yml"}) {
    if (!EndsWith(pipeline_path, suffix)) continue;
    std::string yaml = ReplaceSuffix(pipeline_path, suffix, ".test.yaml");
    std::string yml = ReplaceSuffix(pipeline_path, suffix, ".test.yml");
    std::error_code ec;
    if (!fs::exists(yaml, ec) && fs::exists(yml, ec)) return yml;
    return yaml;
  }
  return pipeline_path + ".test.yaml";
}

Result<PipelineTestFile> ParsePipelineTests(const std::string& text, const std::string& file,
                                            const PipelineSpec& spec) {
  PipelineTestFile out;
  out.path = file;
  out.spec = spec;
  ASSIGN_OR_RETURN(YAML::Node root, ParseYaml(text, file));
  if (!root.IsMap()) {
    return YamlError(file, YamlLine(root), "", "expected a mapping with a `tests:` list");
  }
  ASSIGN_OR_RETURN(auto entries, YamlMapEntries(root, file, ""));
  RETURN_IF_ERROR(YamlCheckKeys(entries, {"tests"}, file, ""));
  if (entries.empty()) return YamlError(file, 1, "tests", "missing: a list of tests");
  const YamlEntry& tests = entries.front();
  if (!tests.value.IsSequence() || tests.value.size() == 0) {
    return YamlError(file, tests.line, "tests", "expected a non-empty list of tests");
  }
  std::map<std::string, int> names;
  int i = 0;
  for (const auto& node : tests.value) {
    ASSIGN_OR_RETURN(PipelineTestCase c,
                     ParseCase(node, file, "tests[" + std::to_string(i++) + "]", spec));
    if (auto [it, fresh] = names.emplace(c.name, c.line); !fresh) {
      return YamlError(file, c.line, "tests[" + std::to_string(i - 1) + "].name",
                       "duplicate test name '" + c.name + "' (first at line " +
                           std::to_string(it->second) + ")");
    }
    out.cases.push_back(std::move(c));
  }
  return out;
}

Result<PipelineTestFile> LoadPipelineTests(const std::string& test_path) {
  const std::string pipeline = PipelineFileForTest(test_path);
  if (pipeline.empty()) {
    return Status::InvalidArgument(test_path + ": a pipeline test file is named NAME.test.yaml");
  }
  std::error_code ec;
  if (!fs::exists(pipeline, ec)) {
    return Status::NotFound(test_path + ": no pipeline file " + pipeline + " beside it");
  }
  auto references = std::make_shared<ReferenceCache>();
  ASSIGN_OR_RETURN(PipelineSpec spec,
                   LoadPipelineFile(pipeline, ReferenceEnv{references.get(), nullptr}));
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(test_path));
  ASSIGN_OR_RETURN(PipelineTestFile file, ParsePipelineTests(text, test_path, spec));
  file.references = std::move(references);
  return file;
}

PipelineTestResult RunPipelineTest(const PipelineTestFile& file, const PipelineTestCase& test) {
  PipelineTestResult r;
  r.name = test.name;
  r.file = file.path;
  r.line = test.line;
  std::vector<ActualOutput> outputs;
  Status st = RunCase(file, test, &outputs, &r.bad);
  if (!st.ok()) {
    r.error = st;
    return r;
  }
  for (const ExpectedOutput& x : test.expect) {
    r.outputs.push_back(CompareOutput(file.spec, x, outputs[x.output], test.ordered, file.path));
  }
  CompareBad(file, test, &r);
  r.passed = r.missing_bad.empty() && r.unexpected_bad.empty() &&
             std::all_of(r.outputs.begin(), r.outputs.end(),
                         [](const OutputTestResult& o) { return o.passed; });
  return r;
}

std::vector<PipelineTestResult> RunPipelineTests(const PipelineTestFile& file) {
  std::vector<PipelineTestResult> out;
  for (const PipelineTestCase& c : file.cases) out.push_back(RunPipelineTest(file, c));
  return out;
}

std::string PipelineTestResult::Diff() const {
  std::string s;
  if (error) return "  error: " + error->message() + "\n";
  for (const OutputTestResult& o : outputs) {
    if (o.passed) continue;
    s += "  output " + o.key + " (" + o.output + "): " + std::to_string(o.expected_rows) +
         " row(s) expected, " + std::to_string(o.actual_rows) + " actual\n";
    for (const std::string& line : o.diff) s += "    " + line + "\n";
    if (!o.first_difference.empty()) s += "    first difference: " + o.first_difference + "\n";
  }
  if (!missing_bad.empty() || !unexpected_bad.empty()) {
    s += "  bad records: " + std::to_string(missing_bad.size()) + " expected but not rejected, " +
         std::to_string(unexpected_bad.size()) + " rejected unexpectedly\n";
    for (const std::string& b : missing_bad) s += "    - " + b + "\n";
    for (const std::string& b : unexpected_bad) s += "    + " + b + "\n";
  }
  return s;
}

}  // namespace sluice
