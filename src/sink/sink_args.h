// Reading the args of an output spec (SinkSpec::args) with errors that name the
// spec's location, the output kind and the key.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace sluice {

class SinkArgs {
 public:
  // `kind` names the output in messages ("table output").
  SinkArgs(const nlohmann::json& args, std::string where, std::string kind)
      : args_(args), where_(std::move(where)), kind_(std::move(kind)) {}

  // kInvalidArgument unless args is an object whose keys are all in `allowed`.
  Status CheckKeys(std::initializer_list<std::string_view> allowed) const;
  // A string value; nullopt if absent. kInvalidArgument if not a string.
  Result<std::optional<std::string>> String(std::string_view key) const;
  // A required non-empty string.
  Result<std::string> RequiredString(std::string_view key) const;
  // A list of strings (a single string is accepted as a list of one).
  Result<std::vector<std::string>> StringList(std::string_view key) const;
  // An integer >= 1; nullopt if absent.
  Result<std::optional<int64_t>> PositiveInt(std::string_view key) const;
  // Any integer; nullopt if absent.
  Result<std::optional<int64_t>> Int(std::string_view key) const;
  // true/false (YAML front ends may pass "true"/"false" as strings); nullopt if absent.
  Result<std::optional<bool>> Bool(std::string_view key) const;

  // "<where>: <kind>: <key>: <msg>".
  Status Error(std::string_view key, std::string_view msg) const;

 private:
  const nlohmann::json& args_;
  std::string where_;
  std::string kind_;
};

}  // namespace sluice
