// Pipeline spec parsing. The YAML shape is documented in spec.h; details:
//
//   schema       a mapping in column order; each value is "TYPE" or
//                "TYPE not null" (TYPE as DataType::Parse spells it).
//   source.csv   delimiter: one character, or "\t" / "tab"; quote: one
//                character; header: true|false; null_values: a list of strings.
//   source.settle  a duration as in sluice.yaml (500ms, 2s, 5m; a bare number
//                is seconds); default 2s, 0 allowed.
//   transform    a list of one-key mappings, `- KIND: ARGS`. ARGS become the
//                step's JSON args (plain YAML numbers/booleans become JSON
//                numbers/booleans, quoted scalars stay strings).
//   outputs      a list; each item is `- KIND: VALUE` and
//                  - when VALUE is a mapping, it is the output's args
//                    (`- sqlite: { path: out.db, table: orders }`);
//                  - otherwise the args are the whole item, so
//                    `- table: orders` + `partition_by: [day]` on the next
//                    line gives {"table": "orders", "partition_by": ["day"]}.
//
// Every error reads "FILE:LINE: KEY: message".
#include "pipeline/spec.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "pipeline/config.h"
#include "pipeline/yaml_util.h"
#include "transform/expr_args.h"
#include "transform/route.h"

namespace sluice {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kTopKeys = {
    "pipeline",  "source",      "schema",     "on_bad_record",           "max_bad_ratio",
    "transform", "outputs",     "references", "max_quarantined_records", "schema_evolution",
    "deadline",  "expect_every"};
const std::vector<std::string> kReferenceKeys = {"file", "table", "format", "csv", "schema"};
const std::vector<std::string> kSourceKeys = {"pattern", "format", "csv", "settle"};
const std::vector<std::string> kCsvKeys = {"delimiter", "quote", "header", "null_values"};
constexpr size_t kMaxNameLength = 64;

std::string Where(const std::string& file, int line) { return file + ":" + std::to_string(line); }

Result<char> CsvChar(const YAML::Node& node, const std::string& file, int line,
                     const std::string& key, bool allow_tab_names) {
  ASSIGN_OR_RETURN(std::string s, YamlString(node, file, line, key));
  // "\t" in double quotes is already a tab; in plain or single-quoted YAML it
  // arrives as backslash + t.
  if (allow_tab_names && (s == "\\t" || s == "tab")) return '\t';
  if (s.size() != 1) {
    return YamlError(file, line, key,
                     "must be a single character" +
                         std::string(allow_tab_names ? " (or \"\\t\" / tab)" : "") + ", got '" + s +
                         "'");
  }
  if (s[0] == '\n' || s[0] == '\r') return YamlError(file, line, key, "cannot be a line break");
  return s[0];
}

Status ParseCsv(const YAML::Node& node, const std::string& file, CsvOptions* csv) {
  ASSIGN_OR_RETURN(std::vector<YamlEntry> entries, YamlMapEntries(node, file, "source.csv"));
  RETURN_IF_ERROR(YamlCheckKeys(entries, kCsvKeys, file, "source.csv"));
  for (const auto& e : entries) {
    std::string key = "source.csv." + e.key;
    if (e.key == "delimiter") {
      ASSIGN_OR_RETURN(csv->delimiter, CsvChar(e.value, file, e.line, key, true));
    } else if (e.key == "quote") {
      ASSIGN_OR_RETURN(csv->quote, CsvChar(e.value, file, e.line, key, false));
    } else if (e.key == "header") {
      ASSIGN_OR_RETURN(csv->header, YamlBool(e.value, file, e.line, key));
    } else if (e.key == "null_values") {
      ASSIGN_OR_RETURN(csv->null_values, YamlStringList(e.value, file, e.line, key));
    }
  }
  if (csv->delimiter == csv->quote) {
    return YamlError(file, YamlLine(node), "source.csv", "delimiter and quote must differ");
  }
  return Status::OK();
}

Status ParseSource(const YamlEntry& entry, const std::string& file, SourceSpec* source) {
  ASSIGN_OR_RETURN(std::vector<YamlEntry> entries, YamlMapEntries(entry.value, file, "source"));
  RETURN_IF_ERROR(YamlCheckKeys(entries, kSourceKeys, file, "source"));
  const YamlEntry* csv = nullptr;
  for (const auto& e : entries) {
    std::string key = "source." + e.key;
    if (e.key == "pattern") {
      ASSIGN_OR_RETURN(source->pattern, YamlString(e.value, file, e.line, key));
      if (source->pattern.empty()) return YamlError(file, e.line, key, "must not be empty");
      if (source->pattern.find('/') != std::string::npos) {
        return YamlError(
            file, e.line, key,
            "matches file names only and cannot contain '/', got '" + source->pattern + "'");
      }
    } else if (e.key == "format") {
      ASSIGN_OR_RETURN(std::string name, YamlString(e.value, file, e.line, key));
      auto f = ParseFileFormat(name);
      if (!f.ok()) return YamlError(file, e.line, key, f.status().message());
      source->format = *f;
      source->format_from_name = false;
      // "tsv" is csv with tabs; an explicit csv.delimiter below still wins.
      std::string lower;
      for (char c : name)
        lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
      if (lower == "tsv") source->csv.delimiter = '\t';
    } else if (e.key == "csv") {
      csv = &e;
    } else if (e.key == "settle") {
      // Spelled like sluice.yaml's durations; 0 is allowed (writers that only
      // publish with a rename), a negative time cannot be spelled.
      ASSIGN_OR_RETURN(std::string text, YamlString(e.value, file, e.line, key));
      auto d = ParseDuration(text);
      if (!d.ok()) return YamlError(file, e.line, key, d.status().message());
      source->settle = *d;
    }
  }
  if (csv != nullptr) {
    if (!source->format_from_name && source->format != FileFormat::kCsv) {
      return YamlError(file, csv->line, "source.csv",
                       "only applies to csv input, but format is " +
                           std::string(FileFormatName(source->format)));
    }
    RETURN_IF_ERROR(ParseCsv(csv->value, file, &source->csv));
  }
  return Status::OK();
}

Status ParseSchemaBlock(const YamlEntry& entry, const std::string& file, Schema* schema) {
  ASSIGN_OR_RETURN(std::vector<YamlEntry> entries, YamlMapEntries(entry.value, file, "schema"));
  if (entries.empty()) {
    return YamlError(file, entry.line, "schema", "must list at least one column (name: type)");
  }
  for (const auto& e : entries) {
    std::string key = "schema." + e.key;
    if (e.key.empty()) return YamlError(file, e.line, "schema", "column name must not be empty");
    if (!e.value.IsScalar()) {
      return YamlError(file, e.line, key, "expected a type such as int64 or \"string not null\"");
    }
    std::string text = e.value.Scalar();
    std::string lower;
    for (char c : text)
      lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    while (!lower.empty() && std::isspace(static_cast<unsigned char>(lower.back()))) {
      lower.pop_back();
    }
    Field f;
    f.name = e.key;
    constexpr std::string_view kNotNull = "not null";
    std::string type_text = text.substr(0, lower.size());
    if (lower.size() > kNotNull.size() &&
        lower.compare(lower.size() - kNotNull.size(), kNotNull.size(), kNotNull) == 0) {
      size_t cut = lower.size() - kNotNull.size();
      if (std::isspace(static_cast<unsigned char>(lower[cut - 1]))) {
        f.nullable = false;
        type_text = text.substr(0, cut);
      }
    }
    auto type = DataType::Parse(type_text);
    if (!type.ok()) return YamlError(file, e.line, key, type.status().message());
    f.type = *type;
    schema->AddField(std::move(f));
  }
  return Status::OK();
}

// references: { NAME: { file: PATH, format: F, csv: {...}, schema: {...} } }
// or { NAME: { table: LAKE_TABLE, schema: {...} } }. Paths are relative to
// the directory of the spec file.
Status ParseReferences(const YamlEntry& entry, const std::string& file,
                       std::vector<ReferenceSpec>* refs) {
  ASSIGN_OR_RETURN(std::vector<YamlEntry> entries, YamlMapEntries(entry.value, file, "references"));
  for (const auto& e : entries) {
    std::string path = "references." + e.key;
    if (!e.value.IsMap()) {
      return YamlError(file, e.line, path,
                       "expected { file: PATH } or { table: LAKE_TABLE } (and optionally format, "
                       "csv, schema)");
    }
    ASSIGN_OR_RETURN(std::vector<YamlEntry> keys, YamlMapEntries(e.value, file, path));
    RETURN_IF_ERROR(YamlCheckKeys(keys, kReferenceKeys, file, path));
    ReferenceSpec r;
    r.line = e.line;
    r.source.name = e.key;
    bool format_given = false;
    for (const auto& k : keys) {
      if (k.key == "file") {
        ASSIGN_OR_RETURN(r.file, YamlString(k.value, file, k.line, path + ".file"));
      } else if (k.key == "table") {
        ASSIGN_OR_RETURN(r.source.table, YamlString(k.value, file, k.line, path + ".table"));
      } else if (k.key == "format") {
        ASSIGN_OR_RETURN(std::string name, YamlString(k.value, file, k.line, path + ".format"));
        auto f = ParseFileFormat(name);
        if (!f.ok()) return YamlError(file, k.line, path + ".format", f.status().message());
        r.source.format = *f;
        format_given = true;
      } else if (k.key == "csv") {
        RETURN_IF_ERROR(ParseCsv(k.value, file, &r.source.csv));
      } else if (k.key == "schema") {
        RETURN_IF_ERROR(ParseSchemaBlock(k, file, &r.source.schema));
      }
    }
    if (!r.source.table.empty()) {
      if (!r.file.empty() || format_given) {
        return YamlError(file, e.line, path, "give either file: (with format/csv) or table:");
      }
      refs->push_back(std::move(r));
      continue;
    }
    if (r.file.empty()) return YamlError(file, e.line, path, "file: or table: is required");
    fs::path p(r.file);
    if (p.is_relative()) p = fs::path(file).parent_path() / p;
    r.source.path = fs::absolute(p).lexically_normal().string();
    if (!format_given) {
      auto f = FileFormatFromName(r.file);
      if (!f.ok()) return YamlError(file, e.line, path, f.status().message() + " (set format:)");
      r.source.format = *f;
    }
    refs->push_back(std::move(r));
  }
  return Status::OK();
}

// Lookup steps name a reference; the step gets the resolved source. sql steps
// get every reference, for their JOINs.
Status ResolveReferences(std::vector<StepSpec>* steps, const std::vector<ReferenceSpec>& refs) {
  nlohmann::json all = nlohmann::json::object();
  for (const auto& r : refs) all[r.source.name] = r.source.ToJson();
  for (StepSpec& step : *steps) {
    if (step.kind == "lookup" && step.args.is_object() && step.args.contains("from") &&
        step.args["from"].is_string()) {
      std::string name = step.args["from"].get<std::string>();
      if (!all.contains(name)) {
        std::string known;
        for (const auto& r : refs) known += (known.empty() ? "" : ", ") + r.source.name;
        return Status::InvalidArgument(step.where + ": lookup: unknown reference '" + name + "'" +
                                       (known.empty()
                                            ? " (declare it under references: in the pipeline spec)"
                                            : " (references: " + known + ")"));
      }
      step.args["from"] = all[name];
    } else if (step.kind == "sql" && !refs.empty() && step.args.is_string()) {
      // The statement moves to "query": so do its positions.
      std::map<std::string, ArgPosition> moved;
      for (const auto& [pointer, pos] : step.positions) moved["/query" + pointer] = pos;
      step.positions = std::move(moved);
      step.args = nlohmann::json{{"query", step.args}, {"references", all}};
    }
  }
  return Status::OK();
}

Status ParseTransform(const YamlEntry& entry, const std::string& file, const std::string& text,
                      std::vector<StepSpec>* steps) {
  if (entry.value.IsNull()) return Status::OK();
  if (!entry.value.IsSequence()) {
    return YamlError(file, entry.line, "transform",
                     "expected a list of steps such as `- dedupe: { key: [id] }`");
  }
  for (size_t i = 0; i < entry.value.size(); ++i) {
    const YAML::Node& item = entry.value[i];
    std::string key = "transform[" + std::to_string(i) + "]";
    int line = YamlLine(item);
    if (!item.IsMap() || item.size() != 1) {
      std::string kinds;
      for (const auto& k : OperatorKinds()) kinds += (kinds.empty() ? "" : ", ") + k;
      return YamlError(file, line, key,
                       "each step is a mapping with one key, the step kind (known: " + kinds + ")");
    }
    ASSIGN_OR_RETURN(std::vector<YamlEntry> entries, YamlMapEntries(item, file, key));
    StepSpec step;
    step.kind = entries[0].key;
    step.args = YamlToJson(entries[0].value);
    step.where = Where(file, entries[0].line);
    step.file = file;
    std::map<std::string, YamlPosition> positions;
    YamlPositions(entries[0].value, text, &positions);
    for (const auto& [pointer, p] : positions)
      step.positions[pointer] = {p.line, p.column, p.order, p.scalar};
    steps->push_back(std::move(step));
  }
  return Status::OK();
}

struct ParsedOutput {
  SinkSpec spec;
  OutputSteps steps;
  int partition_line = 0;  // line of partition_by, 0 if absent
  int route_line = 0;
};

// Keys of an output entry that belong to the pipeline, not to the sink.
bool IsOutputStepKey(const std::string& key) {
  return key == "transform" || key == "sql" || key == "route";
}

Status ParseOutputStepKey(const YamlEntry& e, const std::string& file, const std::string& text,
                          const std::string& path, ParsedOutput* out) {
  if (e.key == "route") {
    ASSIGN_OR_RETURN(out->steps.route, YamlString(e.value, file, e.line, path + ".route"));
    out->route_line = e.line;
    return Status::OK();
  }
  if (!out->steps.transform.empty()) {
    return YamlError(file, e.line, path + "." + e.key,
                     "give an output either transform: or sql:, not both");
  }
  if (e.key == "transform") return ParseTransform(e, file, text, &out->steps.transform);
  // sql: "SELECT ..." is one sql step.
  ASSIGN_OR_RETURN(std::string sql, YamlString(e.value, file, e.line, path + ".sql"));
  StepSpec step;
  step.kind = "sql";
  step.args = sql;
  step.where = Where(file, e.line);
  step.file = file;
  std::map<std::string, YamlPosition> positions;
  YamlPositions(e.value, text, &positions);
  for (const auto& [pointer, p] : positions)
    step.positions[pointer] = {p.line, p.column, p.order, p.scalar};
  out->steps.transform.push_back(std::move(step));
  return Status::OK();
}

Status ParseOutputs(const YamlEntry& entry, const std::string& file, const std::string& text,
                    std::vector<ParsedOutput>* outputs) {
  if (!entry.value.IsSequence() || entry.value.size() == 0) {
    return YamlError(file, entry.line, "outputs",
                     "expected a non-empty list of outputs such as `- table: NAME`");
  }
  for (size_t i = 0; i < entry.value.size(); ++i) {
    const YAML::Node& item = entry.value[i];
    std::string key = "outputs[" + std::to_string(i) + "]";
    if (!item.IsMap() || item.size() == 0) {
      return YamlError(file, YamlLine(item), key,
                       "expected a mapping such as `- table: NAME` or `- sqlite: {path: P, "
                       "table: T}`");
    }
    ASSIGN_OR_RETURN(std::vector<YamlEntry> all, YamlMapEntries(item, file, key));
    ParsedOutput out;
    std::vector<YamlEntry> entries;
    for (auto& e : all) {
      if (IsOutputStepKey(e.key) && &e != &all[0]) {
        RETURN_IF_ERROR(ParseOutputStepKey(e, file, text, key, &out));
      } else {
        entries.push_back(std::move(e));
      }
    }
    const YamlEntry& head = entries[0];
    out.spec.kind = head.key;
    out.spec.where = Where(file, head.line);
    if (head.value.IsMap()) {
      if (entries.size() > 1) {
        return YamlError(file, entries[1].line, key + "." + entries[1].key,
                         "options go either inside `" + head.key +
                             ": {...}` or next to a plain value, not both");
      }
      out.spec.args = YamlToJson(head.value);
      ASSIGN_OR_RETURN(std::vector<YamlEntry> inner,
                       YamlMapEntries(head.value, file, key + "." + head.key));
      for (const auto& e : inner) {
        if (e.key == "partition_by") out.partition_line = e.line;
      }
    } else if (head.value.IsSequence()) {
      return YamlError(file, head.line, key + "." + head.key,
                       "expected a name or a mapping of options, not a list");
    } else {
      out.spec.args = nlohmann::json::object();
      for (const auto& e : entries) {
        out.spec.args[e.key] = YamlToJson(e.value);
        if (e.key == "partition_by") out.partition_line = e.line;
      }
    }
    outputs->push_back(std::move(out));
  }
  return Status::OK();
}

Result<OperatorChain> MakeChain(const std::vector<StepSpec>& steps,
                                const ResolvedReferences* references) {
  std::vector<std::unique_ptr<Operator>> ops;
  ops.reserve(steps.size());
  for (const auto& s : steps) {
    ASSIGN_OR_RETURN(std::unique_ptr<Operator> op, MakeOperator(s, references));
    ops.push_back(std::move(op));
  }
  return OperatorChain(std::move(ops));
}

std::string ColumnList(const Schema& schema) {
  std::string s;
  for (const auto& f : schema.fields()) s += (s.empty() ? "" : ", ") + f.name;
  return s;
}

Status CheckOutputs(const std::vector<ParsedOutput>& outputs, const std::string& file) {
  std::map<std::string, std::string> seen;  // Describe() -> where
  for (const auto& o : outputs) {
    ASSIGN_OR_RETURN(std::unique_ptr<Sink> sink, MakeSink(o.spec));
    std::string id = sink->Describe();
    auto [it, fresh] = seen.emplace(id, o.spec.where);
    if (!fresh) {
      return Status::InvalidArgument(o.spec.where + ": " + o.spec.kind + ": duplicate output '" +
                                     id + "' (also at " + it->second + ")");
    }
    if (!o.spec.args.is_object() || !o.spec.args.contains("partition_by")) continue;
    const nlohmann::json& p = o.spec.args["partition_by"];
    std::vector<std::string> cols;
    if (p.is_string()) cols.push_back(p.get<std::string>());
    if (p.is_array()) {
      for (const auto& c : p) {
        if (c.is_string()) cols.push_back(c.get<std::string>());
      }
    }
    for (const auto& c : cols) {
      if (o.steps.schema.FieldIndex(c) < 0) {
        return YamlError(file, o.partition_line ? o.partition_line : 1, "partition_by",
                         "unknown column '" + c +
                             "' (columns after transform: " + ColumnList(o.steps.schema) + ")");
      }
    }
  }
  return Status::OK();
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path + ": cannot open pipeline spec");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IOError(path + ": read failed");
  return ss.str();
}

// Line of the top-level `pipeline:` key (1 if it cannot be found).
int PipelineKeyLine(const std::string& text) {
  try {
    YAML::Node root = YAML::Load(text);
    for (auto it = root.begin(); it != root.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == "pipeline") return YamlLine(it->first);
    }
  } catch (const std::exception&) {
  }
  return 1;
}

// max_quarantined_records: bad records written to a batch's quarantine file
// (more are counted, not written). A whole number; 0 keeps none.
Result<int64_t> ParseMaxQuarantined(const YamlEntry& e, const std::string& file) {
  constexpr const char* kKey = "max_quarantined_records";
  constexpr int64_t kMax = 1'000'000'000;
  const std::string text = e.value.IsScalar() ? e.value.Scalar() : "";
  int64_t n = -1;
  if (e.value.IsScalar() && ResolveYamlScalar(e.value) == YamlScalarKind::kInt) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc() || end != text.data() + text.size()) n = -1;
  }
  if (n < 0 || n > kMax) {
    return YamlError(file, e.line, kKey,
                     "must be a whole number of records from 0 to " + std::to_string(kMax) +
                         ", got " + (text.empty() ? std::string("a non-scalar") : text));
  }
  return n;
}

}  // namespace

std::string_view BadRecordPolicyName(BadRecordPolicy p) {
  switch (p) {
    case BadRecordPolicy::kFail:
      return "fail";
    case BadRecordPolicy::kSkip:
      return "skip";
    case BadRecordPolicy::kQuarantine:
      return "quarantine";
  }
  return "quarantine";
}

Result<PipelineSpec> ParsePipeline(const std::string& text, const std::string& file,
                                   const ReferenceEnv& reference_env) {
  ASSIGN_OR_RETURN(YAML::Node root, ParseYaml(text, file));
  if (!root.IsNull() && !root.IsMap()) {
    return YamlError(file, YamlLine(root), "", "a pipeline spec must be a YAML mapping");
  }
  ASSIGN_OR_RETURN(std::vector<YamlEntry> entries, YamlMapEntries(root, file, ""));
  RETURN_IF_ERROR(YamlCheckKeys(entries, kTopKeys, file, ""));

  PipelineSpec spec;
  spec.file = file;
  spec.text = text;
  std::vector<ParsedOutput> outputs;
  bool has_name = false, has_schema = false, has_outputs = false;
  for (const auto& e : entries) {
    if (e.key == "pipeline") {
      ASSIGN_OR_RETURN(spec.name, YamlString(e.value, file, e.line, "pipeline"));
      if (!ValidPipelineName(spec.name)) {
        return YamlError(file, e.line, "pipeline",
                         "name must be 1-64 characters of a-z, 0-9 and _, got '" + spec.name + "'");
      }
      has_name = true;
    } else if (e.key == "source") {
      RETURN_IF_ERROR(ParseSource(e, file, &spec.source));
    } else if (e.key == "schema") {
      RETURN_IF_ERROR(ParseSchemaBlock(e, file, &spec.schema));
      has_schema = true;
    } else if (e.key == "schema_evolution") {
      ASSIGN_OR_RETURN(std::string p, YamlString(e.value, file, e.line, "schema_evolution"));
      auto parsed = ParseSchemaEvolution(p);
      if (!parsed.ok())
        return YamlError(file, e.line, "schema_evolution", parsed.status().message());
      spec.schema_evolution = *parsed;
    } else if (e.key == "on_bad_record") {
      ASSIGN_OR_RETURN(std::string p, YamlString(e.value, file, e.line, "on_bad_record"));
      if (p == "fail") {
        spec.on_bad_record = BadRecordPolicy::kFail;
      } else if (p == "skip") {
        spec.on_bad_record = BadRecordPolicy::kSkip;
      } else if (p == "quarantine") {
        spec.on_bad_record = BadRecordPolicy::kQuarantine;
      } else {
        return YamlError(file, e.line, "on_bad_record",
                         "expected fail, skip or quarantine, got '" + p + "'");
      }
    } else if (e.key == "max_bad_ratio") {
      ASSIGN_OR_RETURN(spec.max_bad_ratio, YamlDouble(e.value, file, e.line, "max_bad_ratio"));
      if (!(spec.max_bad_ratio >= 0 && spec.max_bad_ratio <= 1)) {
        return YamlError(
            file, e.line, "max_bad_ratio",
            "must be between 0 and 1 (a fraction of records), got " + e.value.Scalar());
      }
    } else if (e.key == "deadline" || e.key == "expect_every") {
      // Durations as in sluice.yaml; a zero deadline could never be met.
      ASSIGN_OR_RETURN(std::string text, YamlString(e.value, file, e.line, e.key));
      auto d = ParseDuration(text);
      if (!d.ok()) return YamlError(file, e.line, e.key, d.status().message());
      if (d->count() <= 0) return YamlError(file, e.line, e.key, "must be greater than zero");
      (e.key == "deadline" ? spec.deadline : spec.expect_every) = *d;
    } else if (e.key == "max_quarantined_records") {
      ASSIGN_OR_RETURN(spec.max_quarantined_records, ParseMaxQuarantined(e, file));
    } else if (e.key == "references") {
      RETURN_IF_ERROR(ParseReferences(e, file, &spec.references));
    } else if (e.key == "transform") {
      RETURN_IF_ERROR(ParseTransform(e, file, text, &spec.transform));
    } else if (e.key == "outputs") {
      RETURN_IF_ERROR(ParseOutputs(e, file, text, &outputs));
      has_outputs = true;
    }
  }
  int root_line = entries.empty() ? 1 : entries[0].line;
  if (!has_name) return YamlError(file, root_line, "pipeline", "required key is missing");
  if (!has_schema) return YamlError(file, root_line, "schema", "required key is missing");
  if (!has_outputs) return YamlError(file, root_line, "outputs", "required key is missing");

  RETURN_IF_ERROR(ResolveReferences(&spec.transform, spec.references));
  for (auto& o : outputs) RETURN_IF_ERROR(ResolveReferences(&o.steps.transform, spec.references));

  // Type-check now, so that a spec that parses can run: the references the
  // steps read are opened first (binding only finds them).
  std::vector<StepSpec> all_steps = spec.transform;
  for (const auto& o : outputs) {
    all_steps.insert(all_steps.end(), o.steps.transform.begin(), o.steps.transform.end());
  }
  ASSIGN_OR_RETURN(ResolvedReferences references,
                   OpenReferences(StepReferenceSources(all_steps, spec.references), reference_env));
  ASSIGN_OR_RETURN(OperatorChain chain, MakeChain(spec.transform, &references));
  ASSIGN_OR_RETURN(spec.output_schema, chain.Bind(spec.schema));
  for (size_t i = 0; i < spec.transform.size(); ++i) {
    const StepSpec& step = spec.transform[i];
    if (step.kind != "route") continue;
    if (i + 1 != spec.transform.size()) {
      return Status::InvalidArgument(step.where +
                                     ": route: must be the last step of transform (give "
                                     "outputs their own steps with transform: under the output)");
    }
    ASSIGN_OR_RETURN(spec.routes, RouteNames(step));
  }
  if (int rc = spec.output_schema.FieldIndex(kRouteColumn); rc >= 0) {
    std::vector<Field> fields = spec.output_schema.fields();
    fields.erase(fields.begin() + rc);
    spec.output_schema = Schema(std::move(fields));
  }
  for (auto& o : outputs) {
    const std::string& r = o.steps.route;
    if (!r.empty() && std::find(spec.routes.begin(), spec.routes.end(), r) == spec.routes.end()) {
      std::string known;
      for (const auto& k : spec.routes) known += (known.empty() ? "" : ", ") + k;
      return YamlError(file, o.route_line, "route",
                       spec.routes.empty() ? "no route step in transform defines route '" + r + "'"
                                           : "unknown route '" + r + "' (routes: " + known + ")");
    }
    ASSIGN_OR_RETURN(OperatorChain own, MakeChain(o.steps.transform, &references));
    ASSIGN_OR_RETURN(o.steps.schema, own.Bind(spec.output_schema));
    if (o.steps.schema.num_fields() == 0) {
      return Status::InvalidArgument(o.spec.where + ": " + o.spec.kind +
                                     ": the output's steps leave no columns");
    }
  }
  RETURN_IF_ERROR(CheckOutputs(outputs, file));
  for (auto& o : outputs) {
    spec.outputs.push_back(std::move(o.spec));
    spec.output_steps.push_back(std::move(o.steps));
  }
  return spec;
}

Result<PipelineSpec> LoadPipelineFile(const std::string& path, const ReferenceEnv& references) {
  ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  return ParsePipeline(text, path, references);
}

bool IsPipelineTestFile(const std::string& name) {
  auto ends = [&](std::string_view suffix) {
    return name.size() >= suffix.size() &&
           name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  return ends(".test.yaml") || ends(".test.yml");
}

Result<std::vector<std::string>> ListPipelineFiles(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::NotFound(dir + ": pipelines directory does not exist");
  }
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    std::string ext = p.extension().string();
    if ((ext == ".yaml" || ext == ".yml") && !IsPipelineTestFile(p.filename().string()) &&
        it->is_regular_file(ec)) {
      files.push_back(p);
    }
  }
  if (ec) return Status::IOError(dir + ": cannot list: " + ec.message());
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
  std::vector<std::string> out;
  for (const auto& f : files) out.push_back(f.string());
  return out;
}

Result<std::vector<PipelineSpec>> LoadPipelineDir(const std::string& dir,
                                                  const ReferenceEnv& references) {
  ASSIGN_OR_RETURN(std::vector<std::string> files, ListPipelineFiles(dir));
  std::vector<PipelineSpec> specs;
  std::map<std::string, std::string> names;  // pipeline name -> file
  for (const auto& p : files) {
    ASSIGN_OR_RETURN(PipelineSpec spec, LoadPipelineFile(p, references));
    auto [it, fresh] = names.emplace(spec.name, spec.file);
    if (!fresh) {
      return YamlError(spec.file, PipelineKeyLine(spec.text), "pipeline",
                       "duplicate pipeline name '" + spec.name + "' (also in " + it->second + ")");
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

std::vector<ReferenceSource> StepReferenceSources(const std::vector<StepSpec>& steps,
                                                  const std::vector<ReferenceSpec>& declared) {
  std::set<std::string> used;
  for (const StepSpec& s : steps) {
    for (std::string& name : StepReferences(s)) used.insert(std::move(name));
  }
  std::vector<ReferenceSource> out;
  for (const ReferenceSpec& r : declared) {
    if (used.count(r.source.name) > 0) out.push_back(r.source);
  }
  return out;
}

Result<ResolvedReferences> OpenPipelineReferences(const PipelineSpec& spec,
                                                  const ReferenceEnv& env) {
  std::vector<StepSpec> steps = spec.transform;
  for (const OutputSteps& o : spec.output_steps) {
    steps.insert(steps.end(), o.transform.begin(), o.transform.end());
  }
  return OpenReferences(StepReferenceSources(steps, spec.references), env);
}

Result<OperatorChain> BuildChain(const PipelineSpec& spec, const ResolvedReferences* references) {
  ASSIGN_OR_RETURN(OperatorChain chain, MakeChain(spec.transform, references));
  ASSIGN_OR_RETURN(Schema out, chain.Bind(spec.schema));
  if (int rc = out.FieldIndex(kRouteColumn); rc >= 0) {
    std::vector<Field> fields = out.fields();
    fields.erase(fields.begin() + rc);
    out = Schema(std::move(fields));
  }
  if (!(out == spec.output_schema) && !spec.output_schema.fields().empty()) {
    return Status::Internal("pipeline " + spec.name +
                            ": transform output schema changed since the spec was parsed");
  }
  return chain;
}

namespace {

// Step arguments with mapping keys in the order they were written (derive
// and aggregate columns depend on it; JSON objects sort their keys).
void EmitArgs(YAML::Emitter& out, const StepSpec& step, const nlohmann::json& v,
              const std::string& pointer) {
  if (v.is_object()) {
    out << YAML::Flow << YAML::BeginMap;
    for (const std::string& k : KeysInOrder(step, pointer, v)) {
      out << YAML::Key;
      EmitYamlString(out, k);
      out << YAML::Value;
      EmitArgs(out, step, v[k], ArgPointer(pointer, k));
    }
    out << YAML::EndMap;
  } else if (v.is_array()) {
    out << YAML::Flow << YAML::BeginSeq;
    for (size_t i = 0; i < v.size(); ++i)
      EmitArgs(out, step, v[i], pointer + "/" + std::to_string(i));
    out << YAML::EndSeq;
  } else {
    EmitJsonAsYaml(out, v);
  }
}

void EmitSteps(YAML::Emitter& out, const std::vector<StepSpec>& steps) {
  out << YAML::BeginSeq;
  for (const auto& original : steps) {
    // Undo ResolveReferences: lookups name their reference, sql is its text.
    StepSpec step = original;
    if (step.kind == "lookup" && step.args.is_object() && step.args.contains("from") &&
        step.args["from"].is_object() && step.args["from"].contains("name")) {
      step.args["from"] = step.args["from"]["name"];
    } else if (step.kind == "sql" && step.args.is_object() && step.args.contains("references")) {
      step.args = step.args["query"];
      std::map<std::string, ArgPosition> moved;
      for (const auto& [pointer, pos] : step.positions) {
        if (pointer.rfind("/query", 0) == 0) moved[pointer.substr(6)] = pos;
      }
      step.positions = std::move(moved);
    }
    out << YAML::BeginMap << YAML::Key;
    EmitYamlString(out, step.kind);
    out << YAML::Value;
    EmitArgs(out, step, step.args, "");
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
}

}  // namespace

std::string RenderPipeline(const PipelineSpec& spec) {
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "pipeline" << YAML::Value;
  EmitYamlString(out, spec.name);

  const CsvOptions defaults;
  const CsvOptions& csv = spec.source.csv;
  bool csv_default = csv.delimiter == defaults.delimiter && csv.quote == defaults.quote &&
                     csv.header == defaults.header && csv.null_values == defaults.null_values;
  bool emit_csv =
      !csv_default && (spec.source.format_from_name || spec.source.format == FileFormat::kCsv);
  const bool emit_settle = spec.source.settle != SourceSpec().settle;
  if (spec.source.pattern != "*" || !spec.source.format_from_name || emit_csv || emit_settle) {
    out << YAML::Key << "source" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "pattern" << YAML::Value << YAML::DoubleQuoted << spec.source.pattern;
    if (!spec.source.format_from_name) {
      out << YAML::Key << "format" << YAML::Value
          << std::string(FileFormatName(spec.source.format));
    }
    if (emit_csv) {
      out << YAML::Key << "csv" << YAML::Value << YAML::BeginMap;
      out << YAML::Key << "delimiter" << YAML::Value << YAML::DoubleQuoted
          << std::string(1, csv.delimiter);
      out << YAML::Key << "quote" << YAML::Value << YAML::DoubleQuoted << std::string(1, csv.quote);
      out << YAML::Key << "header" << YAML::Value << (csv.header ? "true" : "false");
      out << YAML::Key << "null_values" << YAML::Value << YAML::Flow << YAML::BeginSeq;
      for (const auto& v : csv.null_values) out << YAML::DoubleQuoted << v;
      out << YAML::EndSeq << YAML::EndMap;
    }
    if (emit_settle) {
      out << YAML::Key << "settle" << YAML::Value
          << std::to_string(spec.source.settle.count()) + "ms";
    }
    out << YAML::EndMap;
  }

  out << YAML::Key << "schema" << YAML::Value << YAML::BeginMap;
  for (const auto& f : spec.schema.fields()) {
    out << YAML::Key;
    EmitYamlString(out, f.name);
    out << YAML::Value << f.type.ToString() + (f.nullable ? "" : " not null");
  }
  out << YAML::EndMap;

  out << YAML::Key << "on_bad_record" << YAML::Value
      << std::string(BadRecordPolicyName(spec.on_bad_record));
  out << YAML::Key << "max_bad_ratio" << YAML::Value;
  EmitJsonAsYaml(out, nlohmann::json(spec.max_bad_ratio));
  if (spec.deadline.count() > 0) {
    out << YAML::Key << "deadline" << YAML::Value << std::to_string(spec.deadline.count()) + "ms";
  }
  if (spec.expect_every.count() > 0) {
    out << YAML::Key << "expect_every" << YAML::Value
        << std::to_string(spec.expect_every.count()) + "ms";
  }

  if (!spec.references.empty()) {
    out << YAML::Key << "references" << YAML::Value << YAML::BeginMap;
    for (const auto& r : spec.references) {
      out << YAML::Key;
      EmitYamlString(out, r.source.name);
      out << YAML::Value << YAML::BeginMap;
      if (!r.source.table.empty()) {
        out << YAML::Key << "table" << YAML::Value;
        EmitYamlString(out, r.source.table);
      } else {
        out << YAML::Key << "file" << YAML::Value;
        EmitYamlString(out, r.file);
        out << YAML::Key << "format" << YAML::Value << std::string(FileFormatName(r.source.format));
      }
      if (r.source.table.empty() && r.source.format == FileFormat::kCsv) {
        const CsvOptions& c = r.source.csv;
        out << YAML::Key << "csv" << YAML::Value << YAML::Flow << YAML::BeginMap;
        out << YAML::Key << "delimiter" << YAML::Value;
        EmitYamlString(out, std::string(1, c.delimiter));
        out << YAML::Key << "quote" << YAML::Value;
        EmitYamlString(out, std::string(1, c.quote));
        out << YAML::Key << "header" << YAML::Value << (c.header ? "true" : "false");
        out << YAML::Key << "null_values" << YAML::Value << YAML::Flow << YAML::BeginSeq;
        for (const auto& nv : c.null_values) EmitYamlString(out, nv);
        out << YAML::EndSeq << YAML::EndMap;
      }
      if (r.source.schema.num_fields() > 0) {
        out << YAML::Key << "schema" << YAML::Value << YAML::BeginMap;
        for (const auto& f : r.source.schema.fields()) {
          out << YAML::Key;
          EmitYamlString(out, f.name);
          out << YAML::Value << f.type.ToString() + (f.nullable ? "" : " not null");
        }
        out << YAML::EndMap;
      }
      out << YAML::EndMap;
    }
    out << YAML::EndMap;
  }

  if (!spec.transform.empty()) {
    out << YAML::Key << "transform" << YAML::Value;
    EmitSteps(out, spec.transform);
  }

  out << YAML::Key << "outputs" << YAML::Value << YAML::BeginSeq;
  for (size_t i = 0; i < spec.outputs.size(); ++i) {
    const SinkSpec& o = spec.outputs[i];
    out << YAML::BeginMap << YAML::Key;
    EmitYamlString(out, o.kind);
    out << YAML::Value;
    bool sibling_form = o.args.is_object() && o.args.contains(o.kind) &&
                        !o.args[o.kind].is_object() && !o.args[o.kind].is_array();
    if (sibling_form) {
      EmitJsonAsYaml(out, o.args[o.kind]);
      for (const auto& [k, v] : o.args.items()) {
        if (k == o.kind) continue;
        out << YAML::Key;
        EmitYamlString(out, k);
        out << YAML::Value;
        EmitJsonAsYaml(out, v);
      }
    } else {
      EmitJsonAsYaml(out, o.args);
    }
    if (i < spec.output_steps.size()) {
      const OutputSteps& steps = spec.output_steps[i];
      if (!steps.route.empty()) {
        out << YAML::Key << "route" << YAML::Value;
        EmitYamlString(out, steps.route);
      }
      if (!steps.transform.empty()) {
        out << YAML::Key << "transform" << YAML::Value;
        EmitSteps(out, steps.transform);
      }
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq;
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

Result<Schema> ParseSchemaYaml(const std::string& text, const std::string& file) {
  ASSIGN_OR_RETURN(YAML::Node root, ParseYaml(text, file));
  YamlEntry entry{"schema", YamlLine(root), root};
  // A column's type is a scalar, so a `schema:` key holding a mapping is the
  // wrapper (a whole pipeline spec also has one), not a column.
  if (root.IsMap()) {
    ASSIGN_OR_RETURN(std::vector<YamlEntry> entries, YamlMapEntries(root, file, ""));
    for (YamlEntry& e : entries) {
      if (e.key == "schema" && e.value.IsMap()) {
        entry = std::move(e);
        break;
      }
    }
  }
  Schema schema;
  RETURN_IF_ERROR(ParseSchemaBlock(entry, file, &schema));
  return schema;
}

Result<Schema> LoadSchemaFile(const std::string& path) {
  if (!fs::is_regular_file(path)) {
    return Status::NotFound("schema file '" + path + "' does not exist");
  }
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseSchemaYaml(text, path);
}

bool ValidPipelineName(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

}  // namespace sluice
