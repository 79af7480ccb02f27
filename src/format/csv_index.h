// Vectorised structural indexing of CSV text: finds every delimiter and line
// feed that is outside quotes, 64 bytes at a time.
//
// Per 64-byte block the bytes are classified into bit masks (quote, delimiter,
// LF) with SIMD compares; the "inside quotes" mask is the prefix XOR of the
// quote mask (each quote toggles), carried across blocks. A doubled quote
// toggles twice, so RFC 4180 escaping needs no special case. The set bits of
// (delimiter | LF) & ~inside are written out as byte offsets.
//
// Quote parity only equals the exact CSV grammar when quotes stand where the
// grammar puts them. A quote that opens a region but does not start a field
// (`ab"c`) sets `stray_quote`; the caller must then parse the text with the
// exact, scalar reader. (Closing quotes followed by junk are caught later,
// when the field is unquoted.)
//
// Kernels exist for AVX2, SSE2 and plain C++; the best one the CPU supports is
// chosen once at run time.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sluice {

struct CsvIndexState {
  uint64_t inside = 0;           // all ones while inside quotes at a block boundary
  uint64_t prev_structural = 1;  // 1 when the byte before the block is a delimiter/LF/quote/start
  bool stray_quote = false;      // a quote the fast path cannot interpret
  bool quoted_lf = false;        // some LF inside quotes was seen
};

// Indexes buf[begin, end), where `begin` is a multiple of 64 or the end of the
// previous call, and the caller guarantees 64 readable bytes past `end`.
// Writes the offsets (from buf) of structural delimiters and LFs to `out`,
// which must have room for end - begin + 64 entries; returns how many.
// quote == '\0' disables quoting.
size_t IndexCsv(const char* buf, size_t begin, size_t end, char delimiter, char quote,
                CsvIndexState* state, uint32_t* out);

// The same with a named kernel ("avx2", "sse2", "scalar"; the scalar one when
// the named one is not available here), so tests can compare them.
size_t IndexCsvWith(const char* kernel, const char* buf, size_t begin, size_t end, char delimiter,
                    char quote, CsvIndexState* state, uint32_t* out);

// How many bytes of buf[0, n) equal c (vectorised like IndexCsv).
size_t CountByte(const char* buf, size_t n, char c);

// Name of the kernel in use ("avx2", "sse2" or "scalar"), for logs and benchmarks.
const char* CsvIndexKernel();

}  // namespace sluice
