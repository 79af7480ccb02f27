#include "format/cpu_features.h"

namespace sluice {

bool CpuHasHaswellFeatures() {
#if defined(__x86_64__)
  static const bool has = [] {
    __builtin_cpu_init();
    bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("bmi") &&
              __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("popcnt") &&
              __builtin_cpu_supports("pclmul");
#if !defined(__clang__)
    // LZCNT ("abm" to GCC; clang cannot ask, but every AVX2 CPU has it).
    ok = ok && __builtin_cpu_supports("abm");
#endif
    return ok;
  }();
  return has;
#else
  return false;
#endif
}

}  // namespace sluice
