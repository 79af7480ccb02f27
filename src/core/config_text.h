// Text forms shared by the project config and pipeline outputs: ${VAR}
// interpolation and durations.
#pragma once

#include <chrono>
#include <string>

#include "core/status.h"

namespace sluice {

// Expands ${VAR} / ${VAR:-default} in `text` ("$${" is a literal "${");
// `where` prefixes errors. An unset variable without a default is an error.
Result<std::string> InterpolateEnv(const std::string& text, const std::string& where);
// Parses "250ms", "2s", "5m", "1h" or a bare number of seconds.
Result<std::chrono::milliseconds> ParseDuration(const std::string& text);

}  // namespace sluice
