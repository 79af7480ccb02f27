#include "sink/sink_args.h"

#include "core/value_text.h"

namespace sluice {

Status SinkArgs::Error(std::string_view key, std::string_view msg) const {
  std::string m;
  if (!where_.empty()) m += where_ + ": ";
  m += kind_;
  if (!key.empty()) {
    m += ": '";
    m += key;
    m += "'";
  }
  m += ": ";
  m += msg;
  return Status::InvalidArgument(std::move(m));
}

Status SinkArgs::CheckKeys(std::initializer_list<std::string_view> allowed) const {
  if (!args_.is_object()) return Error("", "expected a mapping of options");
  for (const auto& item : args_.items()) {
    bool known = false;
    for (std::string_view a : allowed) known = known || item.key() == a;
    if (!known) {
      std::string list;
      for (std::string_view a : allowed) {
        if (!list.empty()) list += ", ";
        list += a;
      }
      return Error(item.key(), "unknown key (allowed: " + list + ")");
    }
  }
  return Status::OK();
}

Result<std::optional<std::string>> SinkArgs::String(std::string_view key) const {
  auto it = args_.find(key);
  if (it == args_.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return Error(key, "expected a string");
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::string> SinkArgs::RequiredString(std::string_view key) const {
  ASSIGN_OR_RETURN(std::optional<std::string> v, String(key));
  if (!v || v->empty()) return Error(key, "is required");
  return *v;
}

Result<std::vector<std::string>> SinkArgs::StringList(std::string_view key) const {
  std::vector<std::string> out;
  auto it = args_.find(key);
  if (it == args_.end() || it->is_null()) return out;
  if (it->is_string()) {
    out.push_back(it->get<std::string>());
    return out;
  }
  if (!it->is_array()) return Error(key, "expected a list of column names");
  for (const auto& v : *it) {
    if (!v.is_string() || v.get<std::string>().empty()) {
      return Error(key, "expected a list of column names");
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

Result<std::optional<int64_t>> SinkArgs::PositiveInt(std::string_view key) const {
  auto v = Int(key);
  if (!v.ok() || (*v && **v < 1)) return Error(key, "expected a positive integer");
  return v;
}

Result<std::optional<int64_t>> SinkArgs::Int(std::string_view key) const {
  auto it = args_.find(key);
  if (it == args_.end() || it->is_null()) return std::optional<int64_t>();
  int64_t v = 0;
  // YAML front ends may hand scalars over as strings; accept "1000" too.
  bool ok = it->is_number_integer() ? (v = it->get<int64_t>(), true)
                                    : it->is_string() && ParseInt64(it->get<std::string>(), &v);
  if (!ok) return Error(key, "expected an integer");
  return std::optional<int64_t>(v);
}

Result<std::optional<bool>> SinkArgs::Bool(std::string_view key) const {
  auto it = args_.find(key);
  if (it == args_.end() || it->is_null()) return std::optional<bool>();
  if (it->is_boolean()) return std::optional<bool>(it->get<bool>());
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    if (s == "true") return std::optional<bool>(true);
    if (s == "false") return std::optional<bool>(false);
  }
  return Error(key, "expected true or false");
}

}  // namespace sluice
