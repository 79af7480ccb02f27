#include "transform/step_args.h"

#include <algorithm>
#include <set>

namespace sluice {

Status StepError(const StepSpec& spec, std::string_view message) {
  std::string msg;
  if (!spec.where.empty()) msg = spec.where + ": ";
  msg += spec.kind + ": ";
  msg += message;
  return Status::InvalidArgument(std::move(msg));
}

Status CheckArgKeys(const StepSpec& spec, const nlohmann::json& obj,
                    std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : obj.items()) {
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    std::string list;
    for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
    return StepError(spec, "unknown argument '" + key + "' (expected: " + list + ")");
  }
  return Status::OK();
}

Result<std::vector<std::string>> NameListArg(const StepSpec& spec, const nlohmann::json& value,
                                             std::string_view what) {
  if (!value.is_array()) {
    return StepError(spec, std::string(what) + " must be a list of column names");
  }
  if (value.empty()) return StepError(spec, std::string(what) + " must not be empty");
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& v : value) {
    if (!v.is_string()) {
      return StepError(spec,
                       std::string(what) + " must be a list of column names, got " + v.dump());
    }
    std::string name = v.get<std::string>();
    if (!seen.insert(name).second) {
      return StepError(spec, std::string(what) + " lists '" + name + "' twice");
    }
    out.push_back(std::move(name));
  }
  return out;
}

Result<std::vector<std::string>> ColumnsArg(const StepSpec& spec) {
  if (spec.args.is_object()) {
    RETURN_IF_ERROR(CheckArgKeys(spec, spec.args, {"columns"}));
    if (!spec.args.contains("columns")) return StepError(spec, "missing argument 'columns'");
    return NameListArg(spec, spec.args["columns"], "columns");
  }
  return NameListArg(spec, spec.args, "columns");
}

Result<int> FindColumn(const StepSpec& spec, const Schema& schema, const std::string& name) {
  int idx = schema.FieldIndex(name);
  if (idx >= 0) return idx;
  std::string cols;
  for (const auto& f : schema.fields()) cols += (cols.empty() ? "" : ", ") + f.name;
  return StepError(spec, "unknown column '" + name + "' (columns: " + cols + ")");
}

RecordBatch TakeColumns(RecordBatch&& batch, const std::vector<int>& indices,
                        const Schema& schema) {
  RecordBatch out;
  out.schema = schema;
  out.num_rows_no_columns = batch.num_rows();
  out.columns.reserve(indices.size());
  for (int idx : indices) out.columns.push_back(std::move(batch.columns[idx]));
  out.source_lines = std::move(batch.source_lines);
  return out;
}

}  // namespace sluice
