#include "core/types.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <nlohmann/json.hpp>

namespace sluice {

int DataType::FixedWidth() const {
  switch (id) {
    case TypeId::kBool:
      return 1;
    case TypeId::kInt32:
    case TypeId::kDate:
      return 4;
    case TypeId::kInt64:
    case TypeId::kFloat64:
    case TypeId::kDecimal:
    case TypeId::kTimestamp:
      return 8;
    case TypeId::kString:
      return 0;
  }
  return 0;
}

std::string DataType::ToString() const {
  switch (id) {
    case TypeId::kBool:
      return "bool";
    case TypeId::kInt32:
      return "int32";
    case TypeId::kInt64:
      return "int64";
    case TypeId::kFloat64:
      return "float64";
    case TypeId::kDecimal:
      return "decimal(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
    case TypeId::kString:
      return "string";
    case TypeId::kDate:
      return "date";
    case TypeId::kTimestamp:
      return "timestamp";
  }
  return "?";
}

namespace {
std::string Lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (!std::isspace(static_cast<unsigned char>(c))) {
      out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
  }
  return out;
}
}  // namespace

Result<DataType> DataType::Parse(std::string_view text) {
  std::string t = Lower(text);
  if (t == "bool" || t == "boolean") return Bool();
  if (t == "int32" || t == "int" || t == "integer") return Int32();
  if (t == "int64" || t == "bigint" || t == "long") return Int64();
  if (t == "float64" || t == "double" || t == "float") return Float64();
  if (t == "string" || t == "text" || t == "varchar") return String();
  if (t == "date") return Date();
  if (t == "timestamp" || t == "timestamptz") return Timestamp();
  if (t.rfind("decimal(", 0) == 0 && t.back() == ')') {
    std::string_view body(t.data() + 8, t.size() - 9);
    auto comma = body.find(',');
    int p = 0, s = 0;
    auto pa = body.substr(0, comma);
    auto r1 = std::from_chars(pa.data(), pa.data() + pa.size(), p);
    bool ok = r1.ec == std::errc() && r1.ptr == pa.data() + pa.size();
    if (ok && comma != std::string_view::npos) {
      auto sa = body.substr(comma + 1);
      auto r2 = std::from_chars(sa.data(), sa.data() + sa.size(), s);
      ok = r2.ec == std::errc() && r2.ptr == sa.data() + sa.size();
    }
    if (!ok) return Status::InvalidArgument("malformed decimal type '" + std::string(text) + "'");
    if (p < 1 || p > kMaxDecimalPrecision) {
      return Status::InvalidArgument("decimal precision " + std::to_string(p) +
                                     " out of range 1.." + std::to_string(kMaxDecimalPrecision) +
                                     " in '" + std::string(text) + "'");
    }
    if (s < 0 || s > p) {
      return Status::InvalidArgument("decimal scale " + std::to_string(s) +
                                     " out of range 0..precision in '" + std::string(text) + "'");
    }
    return Decimal(p, s);
  }
  return Status::InvalidArgument(
      "unknown type '" + std::string(text) +
      "' (expected bool, int32, int64, float64, decimal(p,s), string, date, timestamp)");
}

int Schema::FieldIndex(std::string_view name) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::string Schema::ToString() const {
  std::string out;
  for (const auto& f : fields_) {
    out += f.name + ": " + f.type.ToString() + (f.nullable ? "" : " not null") + "\n";
  }
  return out;
}

std::string Schema::ToJson() const {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& f : fields_) {
    arr.push_back({{"name", f.name}, {"type", f.type.ToString()}, {"nullable", f.nullable}});
  }
  return arr.dump();
}

Result<Schema> Schema::FromJson(std::string_view json) {
  auto j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_array()) {
    return Status::DataLoss("stored schema is not a JSON array");
  }
  Schema s;
  for (const auto& e : j) {
    if (!e.is_object() || !e.contains("name") || !e.contains("type") || !e["name"].is_string() ||
        !e["type"].is_string()) {
      return Status::DataLoss("stored schema entry lacks name/type");
    }
    ASSIGN_OR_RETURN(DataType t, DataType::Parse(e["type"].get<std::string>()));
    bool nullable = e.value("nullable", true);
    s.AddField({e["name"].get<std::string>(), t, nullable});
  }
  return s;
}

}  // namespace sluice
