// Helpers shared by the YAML readers (sluice.yaml and pipeline specs): parsing
// without exceptions, "file:line: key: message" errors, strict mapping walks
// (duplicate and unknown keys rejected) and YAML <-> JSON conversion.
//
// Scalar typing follows the YAML 1.2 core schema for plain (unquoted)
// scalars: `true`/`false`, integers, floats and `null`/`~` become JSON
// booleans, numbers and null; every quoted scalar, and every scalar tagged
// `!!str`, is a string. So `keep: last` and `size: "10"` are strings while
// `size: 10` is a number, and `yes`/`no`/`on`/`off` stay strings (YAML 1.1's
// booleans surprise people).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "core/status.h"
#include "core/value_text.h"  // ClosestName

namespace sluice {

// 1-based line of a node; 1 when the node carries no position.
int YamlLine(const YAML::Node& node);

// "FILE:LINE: KEY: MESSAGE" as kInvalidArgument (KEY omitted when empty).
Status YamlError(const std::string& file, int line, std::string_view key, std::string_view message);

// Parses one YAML document; syntax errors become "FILE:LINE: message".
Result<YAML::Node> ParseYaml(const std::string& text, const std::string& file);

struct YamlEntry {
  std::string key;
  int line = 1;  // line of the key
  YAML::Node value;
};

// The entries of a mapping in document order. A null node is an empty
// mapping. Non-scalar and duplicate keys are errors naming `path`.
Result<std::vector<YamlEntry>> YamlMapEntries(const YAML::Node& node, const std::string& file,
                                              std::string_view path);

// Rejects the first key not in `known`, suggesting the closest known key.
Status YamlCheckKeys(const std::vector<YamlEntry>& entries, const std::vector<std::string>& known,
                     const std::string& file, std::string_view path);

enum class YamlScalarKind { kNull, kBool, kInt, kFloat, kString };
// How a scalar (or null) node resolves; see the header comment.
YamlScalarKind ResolveYamlScalar(const YAML::Node& node);

// Typed readers for a value at `path`; errors name file:line and path.
Result<std::string> YamlString(const YAML::Node& node, const std::string& file, int line,
                               std::string_view path);
Result<bool> YamlBool(const YAML::Node& node, const std::string& file, int line,
                      std::string_view path);
Result<double> YamlDouble(const YAML::Node& node, const std::string& file, int line,
                          std::string_view path);
Result<std::vector<std::string>> YamlStringList(const YAML::Node& node, const std::string& file,
                                                int line, std::string_view path);

// Converts a node to JSON (mapping order is lost: JSON objects are sorted).
nlohmann::json YamlToJson(const YAML::Node& node);

// Where each value under `node` starts in `text` (the document's source), by
// JSON pointer relative to `node` ("" for node itself, "/key", "/list/0"),
// with a document-order counter. Quoted scalars start inside the quote;
// block scalars (| >) on the line after the indicator.
struct YamlPosition {
  int line = 0;
  int column = 1;
  int order = 0;
  std::string scalar;  // a scalar's text as written (JSON numbers lose "2.50")
};
void YamlPositions(const YAML::Node& node, const std::string& text,
                   std::map<std::string, YamlPosition>* out);

// Writes a JSON value to an emitter so that YamlToJson reads it back equal:
// strings that would resolve to another type are double-quoted.
void EmitJsonAsYaml(YAML::Emitter& out, const nlohmann::json& value);
// Emits a string scalar, quoting it only when a plain scalar would not read
// back as this string.
void EmitYamlString(YAML::Emitter& out, const std::string& s);

}  // namespace sluice
