// Exact numeric helpers shared by casts, arithmetic and aggregates.
// Rounding is half away from zero everywhere (2.5 -> 3, -2.5 -> -3).
#pragma once

#include <cstdint>

namespace sluice::expr {

// Whether |v| < 10^precision.
bool FitsPrecision(int64_t v, int precision);
// v / 10^k rounded half away from zero.
int64_t DivRound(int64_t v, int k);
// v at `from_scale` digits expressed at `to_scale` digits (rounded when
// digits are lost); false on overflow.
bool Rescale(int64_t v, int from_scale, int to_scale, int64_t* out);
// Rounds to the nearest integer; false for NaN, infinities and out of range.
bool FloatToInt64(double d, int64_t* out);
// Rounds the shortest decimal text of d to `scale` digits (the digits a user
// sees decide, not the binary expansion); false when it does not fit.
bool FloatToDecimal(double d, int precision, int scale, int64_t* out);
// Floor division and modulo (b != 0).
int64_t FloorDiv(int64_t a, int64_t b);

constexpr int64_t kMicrosPerDay = 86400LL * 1000 * 1000;
constexpr int64_t kMicrosPerSecond = 1000 * 1000;

}  // namespace sluice::expr
