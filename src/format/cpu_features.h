// What the CPU running us supports, for choosing between copies of hot code
// built for different instruction sets (files named *_haswell.cc).
#pragma once

namespace sluice {

// AVX2, BMI1/2, POPCNT, PCLMUL and LZCNT: what -mavx2 -mbmi -mbmi2 -mpopcnt
// -mpclmul -mlzcnt code may use. Always false off x86-64.
bool CpuHasHaswellFeatures();

}  // namespace sluice
