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
// Parses a size: a positive whole number of bytes, optionally followed by a
// unit B, K/KB/KiB, M/MB/MiB, G/GB/GiB or T/TB/TiB (all binary: 1 KB = 1024
// bytes), any case. The error says what was wrong; the caller names the key.
Result<int64_t> ParseByteSize(const std::string& text);

}  // namespace sluice
