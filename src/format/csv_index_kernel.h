// The body of the CSV indexing kernel, compiled once per instruction set.
// Each csv_index_*.cc includes it inside an anonymous namespace of its own,
// after defining `struct Masks { uint64_t quote, delim, lf; }` and
// `Masks Classify(const char* p, char delimiter, char quote)` for 64 bytes, so
// that code built for one instruction set is never linked into another's path.
// Not a public header: no include guard, no includes.

inline uint64_t PrefixXor(uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

inline size_t IndexBlocks(const char* buf, size_t begin, size_t end, char delimiter, char quote,
                          CsvIndexState* st, uint32_t* out) {
  uint32_t* const start = out;
  uint64_t inside = st->inside;
  uint64_t prev = st->prev_structural;
  uint64_t stray = 0, quoted_lf = 0;
  for (size_t pos = begin; pos < end; pos += 64) {
    Masks m = Classify(buf + pos, delimiter, quote);
    if (end - pos < 64) {
      const uint64_t keep = (uint64_t{1} << (end - pos)) - 1;
      m.quote &= keep;
      m.delim &= keep;
      m.lf &= keep;
    }
    if (quote == '\0') m.quote = 0;
    const uint64_t in = PrefixXor(m.quote) ^ inside;
    // A quote that leaves `in` set opens a region; legal only at a field start
    // or right after a quote (the second half of a doubled quote).
    const uint64_t structural = m.quote | m.delim | m.lf;
    const uint64_t before = (structural << 1) | prev;
    stray |= m.quote & in & ~before;
    quoted_lf |= m.lf & in;
    uint64_t seps = (m.delim | m.lf) & ~in;
    const uint32_t base = static_cast<uint32_t>(pos);
    while (seps != 0) {
      *out++ = base + static_cast<uint32_t>(__builtin_ctzll(seps));
      seps &= seps - 1;
    }
    inside = static_cast<uint64_t>(-static_cast<int64_t>(in >> 63));
    prev = structural >> 63;
  }
  st->inside = inside;
  st->prev_structural = prev;
  st->stray_quote |= stray != 0;
  st->quoted_lf |= quoted_lf != 0;
  return static_cast<size_t>(out - start);
}

inline size_t CountByte(const char* buf, size_t n, char c) {
  size_t total = 0, pos = 0;
  for (; pos + 64 <= n; pos += 64) {
    total += static_cast<size_t>(__builtin_popcountll(Classify(buf + pos, c, c).quote));
  }
  for (; pos < n; ++pos) total += buf[pos] == c;
  return total;
}
