#include "format/cpu_features.h"

namespace sluice {

bool CpuHasHaswellFeatures() {
#if defined(__x86_64__)
  static const bool has = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
           __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt") &&
           __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("abm");
  }();
  return has;
#else
  return false;
#endif
}

}  // namespace sluice
