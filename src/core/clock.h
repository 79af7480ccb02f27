// Wall-clock time in microseconds since the Unix epoch, and a monotonic
// stopwatch. Catalog rows and leases use NowMicros().
#pragma once

#include <chrono>
#include <cstdint>

namespace sluice {

inline int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double Seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace sluice
