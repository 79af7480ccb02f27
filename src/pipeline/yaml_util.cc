#include "pipeline/yaml_util.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <set>

#include "transform/expr_args.h"  // ArgPointer

namespace sluice {
namespace {

bool IsDigits(std::string_view s, bool hex = false) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = hex ? std::isxdigit(static_cast<unsigned char>(c)) != 0 : (c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?
bool IsCoreFloat(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  if (s == ".inf" || s == ".Inf" || s == ".INF") return true;
  size_t e = s.find_first_of("eE");
  std::string_view mant = s.substr(0, e);
  if (e != std::string_view::npos) {
    std::string_view exp = s.substr(e + 1);
    if (!exp.empty() && (exp[0] == '-' || exp[0] == '+')) exp.remove_prefix(1);
    if (!IsDigits(exp)) return false;
  }
  size_t dot = mant.find('.');
  if (dot == std::string_view::npos) return IsDigits(mant);
  std::string_view ip = mant.substr(0, dot), fp = mant.substr(dot + 1);
  if (ip.empty()) return IsDigits(fp);
  return IsDigits(ip) && (fp.empty() || IsDigits(fp));
}

YamlScalarKind ResolvePlain(std::string_view s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") {
    return YamlScalarKind::kNull;
  }
  if (s == "true" || s == "True" || s == "TRUE" || s == "false" || s == "False" || s == "FALSE") {
    return YamlScalarKind::kBool;
  }
  std::string_view body = s;
  if (body[0] == '-' || body[0] == '+') body.remove_prefix(1);
  if (IsDigits(body)) return YamlScalarKind::kInt;
  if (s.size() > 2 && s[0] == '0' && s[1] == 'x' && IsDigits(s.substr(2), /*hex=*/true)) {
    return YamlScalarKind::kInt;
  }
  if (s.size() > 2 && s[0] == '0' && s[1] == 'o' && IsDigits(s.substr(2))) {
    return YamlScalarKind::kInt;
  }
  if (IsCoreFloat(s) || s == ".nan" || s == ".NaN" || s == ".NAN") return YamlScalarKind::kFloat;
  return YamlScalarKind::kString;
}

bool ParseCoreDouble(std::string_view s, double* out) {
  std::string_view body = s;
  bool neg = false;
  if (!body.empty() && (body[0] == '-' || body[0] == '+')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == ".inf" || body == ".Inf" || body == ".INF") {
    *out = neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    return true;
  }
  if (body == ".nan" || body == ".NaN" || body == ".NAN") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  std::string tmp(s[0] == '+' ? s.substr(1) : s);
  // from_chars rejects a leading '.' on some libstdc++ versions; add a zero.
  if (!tmp.empty() && tmp[0] == '.') tmp.insert(0, "0");
  if (tmp.size() > 1 && tmp[0] == '-' && tmp[1] == '.') tmp.insert(1, "0");
  auto r = std::from_chars(tmp.data(), tmp.data() + tmp.size(), *out);
  return r.ec == std::errc() && r.ptr == tmp.data() + tmp.size();
}

// Integer value of a core-schema int; falls back to double when it does not fit.
nlohmann::json CoreIntToJson(std::string_view s) {
  int base = 10;
  std::string_view digits = s;
  bool neg = false;
  if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
    neg = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'o')) {
    base = digits[1] == 'x' ? 16 : 8;
    digits.remove_prefix(2);
  }
  uint64_t mag = 0;
  auto r = std::from_chars(digits.data(), digits.data() + digits.size(), mag, base);
  if (r.ec == std::errc() && r.ptr == digits.data() + digits.size()) {
    if (!neg && mag <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return static_cast<int64_t>(mag);
    }
    if (neg && mag <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1) {
      return static_cast<int64_t>(0 - mag);
    }
  }
  double d = 0;
  if (ParseCoreDouble(s, &d)) return d;
  return std::string(s);
}

const char* KindName(YamlScalarKind k) {
  switch (k) {
    case YamlScalarKind::kNull:
      return "null";
    case YamlScalarKind::kBool:
      return "a boolean";
    case YamlScalarKind::kInt:
      return "an integer";
    case YamlScalarKind::kFloat:
      return "a number";
    case YamlScalarKind::kString:
      return "a string";
  }
  return "?";
}

std::string Describe(const YAML::Node& node) {
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return "a list";
  if (node.IsNull() || !node.IsDefined()) return "nothing";
  return std::string(KindName(ResolveYamlScalar(node))) + " ('" + node.Scalar() + "')";
}

}  // namespace

int YamlLine(const YAML::Node& node) {
  if (!node.IsDefined()) return 1;
  YAML::Mark m = node.Mark();
  return m.is_null() ? 1 : m.line + 1;
}

Status YamlError(const std::string& file, int line, std::string_view key,
                 std::string_view message) {
  std::string msg = file + ":" + std::to_string(line) + ": ";
  if (!key.empty()) {
    msg += key;
    msg += ": ";
  }
  msg += message;
  return Status::InvalidArgument(std::move(msg));
}

Result<YAML::Node> ParseYaml(const std::string& text, const std::string& file) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    int line = e.mark.is_null() ? 1 : e.mark.line + 1;
    return YamlError(file, line, "", "invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    return YamlError(file, 1, "", std::string("invalid YAML: ") + e.what());
  }
}

Result<std::vector<YamlEntry>> YamlMapEntries(const YAML::Node& node, const std::string& file,
                                              std::string_view path) {
  std::vector<YamlEntry> out;
  if (!node.IsDefined() || node.IsNull()) return out;
  if (!node.IsMap()) {
    return YamlError(file, YamlLine(node), path, "expected a mapping, got " + Describe(node));
  }
  std::set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    // it-> yields a temporary proxy: copy the nodes out (they are handles).
    YAML::Node k = it->first;
    int line = YamlLine(k);
    if (!k.IsScalar()) {
      return YamlError(file, line, path, "keys must be plain strings");
    }
    std::string key = k.Scalar();
    if (!seen.insert(key).second) {
      std::string full = path.empty() ? key : std::string(path) + "." + key;
      return YamlError(file, line, full, "duplicate key");
    }
    YAML::Node v = it->second;
    out.push_back({std::move(key), line, v});
  }
  return out;
}

Status YamlCheckKeys(const std::vector<YamlEntry>& entries, const std::vector<std::string>& known,
                     const std::string& file, std::string_view path) {
  for (const auto& e : entries) {
    if (std::find(known.begin(), known.end(), e.key) != known.end()) continue;
    std::string full = path.empty() ? e.key : std::string(path) + "." + e.key;
    std::string msg = "unknown key";
    std::string near = ClosestName(e.key, known);
    if (!near.empty()) {
      msg += " (did you mean '" + near + "'?)";
    } else {
      msg += " (known keys: ";
      for (size_t i = 0; i < known.size(); ++i) msg += (i ? ", " : "") + known[i];
      msg += ")";
    }
    return YamlError(file, e.line, full, msg);
  }
  return Status::OK();
}

YamlScalarKind ResolveYamlScalar(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return YamlScalarKind::kNull;
  const std::string& tag = node.Tag();
  if (tag == "?") return ResolvePlain(node.Scalar());
  if (tag == "tag:yaml.org,2002:bool") return YamlScalarKind::kBool;
  if (tag == "tag:yaml.org,2002:int") return YamlScalarKind::kInt;
  if (tag == "tag:yaml.org,2002:float") return YamlScalarKind::kFloat;
  if (tag == "tag:yaml.org,2002:null") return YamlScalarKind::kNull;
  return YamlScalarKind::kString;
}

Result<std::string> YamlString(const YAML::Node& node, const std::string& file, int line,
                               std::string_view path) {
  // Numbers and booleans are accepted as their text: `table: 2024` is a name.
  if (!node.IsScalar()) {
    return YamlError(file, line, path, "expected a string, got " + Describe(node));
  }
  return node.Scalar();
}

Result<bool> YamlBool(const YAML::Node& node, const std::string& file, int line,
                      std::string_view path) {
  if (node.IsScalar() && ResolveYamlScalar(node) == YamlScalarKind::kBool) {
    char c = node.Scalar()[0];
    return c == 't' || c == 'T';
  }
  return YamlError(file, line, path, "expected true or false, got " + Describe(node));
}

Result<double> YamlDouble(const YAML::Node& node, const std::string& file, int line,
                          std::string_view path) {
  if (node.IsScalar()) {
    YamlScalarKind k = ResolveYamlScalar(node);
    double d = 0;
    if ((k == YamlScalarKind::kInt || k == YamlScalarKind::kFloat) &&
        ParseCoreDouble(node.Scalar(), &d)) {
      return d;
    }
  }
  return YamlError(file, line, path, "expected a number, got " + Describe(node));
}

Result<std::vector<std::string>> YamlStringList(const YAML::Node& node, const std::string& file,
                                                int line, std::string_view path) {
  if (!node.IsSequence()) {
    return YamlError(file, line, path, "expected a list, got " + Describe(node));
  }
  std::vector<std::string> out;
  for (const auto& item : node) {
    if (!item.IsScalar()) {
      return YamlError(file, YamlLine(item), path,
                       "expected a list of strings, got an item that is " + Describe(item));
    }
    out.push_back(item.Scalar());
  }
  return out;
}

nlohmann::json YamlToJson(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return nullptr;
  if (node.IsSequence()) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& item : node) arr.push_back(YamlToJson(item));
    return arr;
  }
  if (node.IsMap()) {
    nlohmann::json obj = nlohmann::json::object();
    for (auto it = node.begin(); it != node.end(); ++it) {
      obj[it->first.IsScalar() ? it->first.Scalar() : std::string()] = YamlToJson(it->second);
    }
    return obj;
  }
  const std::string& s = node.Scalar();
  switch (ResolveYamlScalar(node)) {
    case YamlScalarKind::kNull:
      return nullptr;
    case YamlScalarKind::kBool:
      return s[0] == 't' || s[0] == 'T';
    case YamlScalarKind::kInt:
      return CoreIntToJson(s);
    case YamlScalarKind::kFloat: {
      double d = 0;
      if (ParseCoreDouble(s, &d)) return d;
      return s;
    }
    case YamlScalarKind::kString:
      return s;
  }
  return s;
}

namespace {

// The offset where line `line` (0-based) starts in text, or npos.
size_t LineStart(const std::string& text, int line) {
  size_t pos = 0;
  for (int i = 0; i < line; ++i) {
    pos = text.find('\n', pos);
    if (pos == std::string::npos) return pos;
    ++pos;
  }
  return pos;
}

void Positions(const YAML::Node& node, const std::string& text, const std::string& pointer,
               std::map<std::string, YamlPosition>* out) {
  YAML::Mark m = node.Mark();
  YamlPosition p;
  p.order = static_cast<int>(out->size());
  if (!m.is_null()) {
    p.line = m.line + 1;
    p.column = m.column + 1;
    size_t at = LineStart(text, m.line);
    if (at != std::string::npos && at + m.column < text.size() && node.IsScalar()) {
      char c = text[at + m.column];
      if (c == '"' || c == '\'') {
        p.column += 1;
      } else if (c == '|' || c == '>') {
        // Block scalar: the text starts on the next line, after its indentation.
        size_t next = LineStart(text, m.line + 1);
        if (next != std::string::npos) {
          size_t k = next;
          while (k < text.size() && text[k] == ' ') ++k;
          p.line = m.line + 2;
          p.column = static_cast<int>(k - next) + 1;
        }
      }
    }
  }
  if (node.IsScalar()) p.scalar = node.Scalar();
  (*out)[pointer] = p;
  if (node.IsSequence()) {
    for (size_t i = 0; i < node.size(); ++i) {
      Positions(node[i], text, pointer + "/" + std::to_string(i), out);
    }
  } else if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string();
      Positions(it->second, text, ArgPointer(pointer, key), out);
    }
  }
}

}  // namespace

void YamlPositions(const YAML::Node& node, const std::string& text,
                   std::map<std::string, YamlPosition>* out) {
  Positions(node, text, "", out);
}

void EmitYamlString(YAML::Emitter& out, const std::string& s) {
  if (ResolvePlain(s) != YamlScalarKind::kString) {
    out << YAML::DoubleQuoted << s;
  } else {
    out << s;  // the emitter quotes by itself when a plain scalar is not valid
  }
}

void EmitJsonAsYaml(YAML::Emitter& out, const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      out << YAML::Null;
      break;
    case nlohmann::json::value_t::boolean:
      out << (value.get<bool>() ? "true" : "false");
      break;
    case nlohmann::json::value_t::number_integer:
      out << value.get<int64_t>();
      break;
    case nlohmann::json::value_t::number_unsigned:
      out << value.get<uint64_t>();
      break;
    case nlohmann::json::value_t::number_float: {
      double d = value.get<double>();
      std::string text;
      if (std::isnan(d)) {
        text = ".nan";
      } else if (std::isinf(d)) {
        text = d < 0 ? "-.inf" : ".inf";
      } else {
        char buf[64];
        auto r = std::to_chars(buf, buf + sizeof(buf), d);
        text.assign(buf, r.ptr);
        // Keep it a float on the way back (a bare "1" would read as an int).
        if (text.find_first_of(".eE") == std::string::npos) text += ".0";
      }
      out << text;
      break;
    }
    case nlohmann::json::value_t::string:
      EmitYamlString(out, value.get<std::string>());
      break;
    case nlohmann::json::value_t::array:
      out << YAML::Flow << YAML::BeginSeq;
      for (const auto& v : value) EmitJsonAsYaml(out, v);
      out << YAML::EndSeq;
      break;
    case nlohmann::json::value_t::object:
      out << YAML::Flow << YAML::BeginMap;
      for (const auto& [k, v] : value.items()) {
        out << YAML::Key;
        EmitYamlString(out, k);
        out << YAML::Value;
        EmitJsonAsYaml(out, v);
      }
      out << YAML::EndMap;
      break;
    default:
      out << YAML::Null;
      break;
  }
}

}  // namespace sluice
