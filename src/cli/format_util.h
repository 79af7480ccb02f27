// Human-readable numbers for CLI output.
#pragma once

#include <cstdint>
#include <string>

namespace sluice::cli {

std::string HumanBytes(double bytes);   // "1.5 GB"
std::string HumanCount(double n);       // "1.2 M"
std::string HumanTime(int64_t micros);  // "2026-11-26 10:00:01"

}  // namespace sluice::cli
