#include "format/parquet/bit_unpack.h"

#include <array>
#include <utility>

namespace sluice::parquet {

namespace {

inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// A group is copied into a zero-padded local buffer first so that the 8-byte
// loads never read past the caller's bytes, whatever the width.
template <int W, typename T>
void UnpackGroupsT(const uint8_t* in, int64_t groups, T* out) {
  if constexpr (W == 0) {
    std::memset(out, 0, static_cast<size_t>(groups) * 8 * sizeof(T));
  } else {
    constexpr uint64_t kMask = W == 64 ? ~uint64_t{0} : (uint64_t{1} << W) - 1;
    alignas(8) uint8_t buf[W + 16] = {};
    for (int64_t g = 0; g < groups; ++g) {
      std::memcpy(buf, in + g * W, W);
      for (int j = 0; j < 8; ++j) {
        constexpr int kBits = W;
        const int bit = j * kBits;
        const int shift = bit & 7;
        uint64_t v = Load64(buf + (bit >> 3)) >> shift;
        if constexpr (W > 56) {
          // The value may spill into a ninth byte.
          if (shift != 0) v |= Load64(buf + (bit >> 3) + 8) << (64 - shift);
        }
        out[g * 8 + j] = static_cast<T>(v & kMask);
      }
    }
  }
}

template <typename T, int... Ws>
constexpr auto MakeTable(std::integer_sequence<int, Ws...>) {
  using Fn = void (*)(const uint8_t*, int64_t, T*);
  return std::array<Fn, sizeof...(Ws)>{&UnpackGroupsT<Ws, T>...};
}

constexpr auto kTable32 = MakeTable<uint32_t>(std::make_integer_sequence<int, 33>{});
constexpr auto kTable64 = MakeTable<uint64_t>(std::make_integer_sequence<int, 65>{});
constexpr auto kTable8 = MakeTable<uint8_t>(std::make_integer_sequence<int, 9>{});

}  // namespace

void UnpackGroups32(const uint8_t* in, int width, int64_t groups, uint32_t* out) {
  kTable32[width](in, groups, out);
}
void UnpackGroups64(const uint8_t* in, int width, int64_t groups, uint64_t* out) {
  kTable64[width](in, groups, out);
}
void UnpackGroups8(const uint8_t* in, int width, int64_t groups, uint8_t* out) {
  kTable8[width](in, groups, out);
}

}  // namespace sluice::parquet
