// AVX2 copy of the CSV indexing kernel; built for haswell (see src/CMakeLists.txt).
#include "format/csv_index.h"

#if defined(__x86_64__) && defined(__AVX2__)
#include <immintrin.h>

namespace sluice::csv_avx2 {
namespace {

struct Masks {
  uint64_t quote, delim, lf;
};

inline uint64_t Eq(__m256i lo, __m256i hi, char c) {
  const __m256i v = _mm256_set1_epi8(c);
  const uint32_t a = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, v)));
  const uint32_t b = static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, v)));
  return a | (uint64_t{b} << 32);
}

inline Masks Classify(const char* p, char delimiter, char quote) {
  const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
  return Masks{Eq(lo, hi, quote), Eq(lo, hi, delimiter), Eq(lo, hi, '\n')};
}

#include "format/csv_index_kernel.h"  // NOLINT(build/include)

}  // namespace

size_t Index(const char* buf, size_t begin, size_t end, char delimiter, char quote,
             CsvIndexState* st, uint32_t* out) {
  return IndexBlocks(buf, begin, end, delimiter, quote, st, out);
}

size_t Count(const char* buf, size_t n, char c) { return CountByte(buf, n, c); }

}  // namespace sluice::csv_avx2
#endif
