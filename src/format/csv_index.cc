// CSV indexing: the SSE2 and scalar kernels, and the run-time choice between
// them and the AVX2 kernel (csv_index_haswell.cc).
#include "format/csv_index.h"

#include "format/cpu_features.h"

#include <string_view>

#if defined(__x86_64__)
#include <emmintrin.h>
#endif

namespace sluice {

#if defined(__x86_64__)
namespace csv_avx2 {
size_t Index(const char* buf, size_t begin, size_t end, char delimiter, char quote,
             CsvIndexState* st, uint32_t* out);
size_t Count(const char* buf, size_t n, char c);
}  // namespace csv_avx2

namespace csv_sse2 {
namespace {

struct Masks {
  uint64_t quote, delim, lf;
};

inline uint64_t Eq(const __m128i (&v)[4], char c) {
  const __m128i s = _mm_set1_epi8(c);
  uint64_t r = 0;
  for (int i = 0; i < 4; ++i) {
    r |= uint64_t{static_cast<uint16_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(v[i], s)))} << (16 * i);
  }
  return r;
}

inline Masks Classify(const char* p, char delimiter, char quote) {
  const __m128i v[4] = {_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)),
                        _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16)),
                        _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 32)),
                        _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 48))};
  return Masks{Eq(v, quote), Eq(v, delimiter), Eq(v, '\n')};
}

#include "format/csv_index_kernel.h"  // NOLINT(build/include)

}  // namespace

size_t Index(const char* buf, size_t begin, size_t end, char delimiter, char quote,
             CsvIndexState* st, uint32_t* out) {
  return IndexBlocks(buf, begin, end, delimiter, quote, st, out);
}

size_t Count(const char* buf, size_t n, char c) { return CountByte(buf, n, c); }
}  // namespace csv_sse2
#endif

namespace csv_scalar {
namespace {

struct Masks {
  uint64_t quote, delim, lf;
};

inline Masks Classify(const char* p, char delimiter, char quote) {
  Masks m{0, 0, 0};
  for (int i = 0; i < 64; ++i) {
    const char c = p[i];
    m.quote |= uint64_t{c == quote} << i;
    m.delim |= uint64_t{c == delimiter} << i;
    m.lf |= uint64_t{c == '\n'} << i;
  }
  return m;
}

#include "format/csv_index_kernel.h"  // NOLINT(build/include)

}  // namespace

size_t Index(const char* buf, size_t begin, size_t end, char delimiter, char quote,
             CsvIndexState* st, uint32_t* out) {
  return IndexBlocks(buf, begin, end, delimiter, quote, st, out);
}

size_t Count(const char* buf, size_t n, char c) { return CountByte(buf, n, c); }
}  // namespace csv_scalar

namespace {

using IndexFn = size_t (*)(const char*, size_t, size_t, char, char, CsvIndexState*, uint32_t*);

using CountFn = size_t (*)(const char*, size_t, char);

struct Kernel {
  IndexFn fn;
  CountFn count;
  const char* name;
};

Kernel Choose() {
#if defined(__x86_64__)
  if (CpuHasHaswellFeatures()) return {csv_avx2::Index, csv_avx2::Count, "avx2"};
  return {csv_sse2::Index, csv_sse2::Count, "sse2"};
#else
  return {csv_scalar::Index, csv_scalar::Count, "scalar"};
#endif
}

const Kernel& Chosen() {
  static const Kernel k = Choose();
  return k;
}

}  // namespace

size_t IndexCsv(const char* buf, size_t begin, size_t end, char delimiter, char quote,
                CsvIndexState* state, uint32_t* out) {
  return Chosen().fn(buf, begin, end, delimiter, quote, state, out);
}

const char* CsvIndexKernel() { return Chosen().name; }

size_t CountByte(const char* buf, size_t n, char c) { return Chosen().count(buf, n, c); }

// For tests: every kernel this build has, so they can be compared.
size_t IndexCsvWith(const char* kernel, const char* buf, size_t begin, size_t end, char delimiter,
                    char quote, CsvIndexState* state, uint32_t* out) {
  const std::string_view k = kernel;
#if defined(__x86_64__)
  if (k == "avx2" && CpuHasHaswellFeatures()) {
    return csv_avx2::Index(buf, begin, end, delimiter, quote, state, out);
  }
  if (k == "sse2") return csv_sse2::Index(buf, begin, end, delimiter, quote, state, out);
#endif
  (void)k;
  return csv_scalar::Index(buf, begin, end, delimiter, quote, state, out);
}

}  // namespace sluice
