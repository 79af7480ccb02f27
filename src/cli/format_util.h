// Human-readable numbers for CLI output.
#pragma once

#include <cstdint>
#include <string>

namespace sluice::cli {

std::string HumanBytes(double bytes);   // "1.5 GB"
std::string HumanCount(double n);       // "1.2 M"
std::string HumanTime(int64_t micros);  // "2026-11-26 10:00:01"
// A length of time: "850 ms", "42 s", "12 min", "3.5 h", "2.1 d".
std::string HumanDuration(int64_t micros);

}  // namespace sluice::cli
