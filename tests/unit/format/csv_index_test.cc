#include "format/csv_index.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace sluice {
namespace {

// The index by definition: separators where an even number of quotes precede.
std::vector<uint32_t> Reference(const std::string& s, char delim, char quote, bool* stray) {
  std::vector<uint32_t> out;
  bool inside = false;
  *stray = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote != '\0' && c == quote) {
      if (!inside) {
        char prev = i == 0 ? '\n' : s[i - 1];
        if (prev != delim && prev != '\n' && prev != quote) *stray = true;
      }
      inside = !inside;
    } else if ((c == delim || c == '\n') && !inside) {
      out.push_back(static_cast<uint32_t>(i));
    }
  }
  return out;
}

std::vector<uint32_t> IndexAll(const char* kernel, const std::string& s, char delim, char quote,
                               size_t step, CsvIndexState* st) {
  std::string padded = s + std::string(64, 'x');
  std::vector<uint32_t> out(s.size() + 64);
  size_t n = 0;
  for (size_t begin = 0; begin < s.size(); begin += step) {
    size_t end = std::min(s.size(), begin + step);
    n += IndexCsvWith(kernel, padded.data(), begin, end, delim, quote, st, out.data() + n);
  }
  out.resize(n);
  return out;
}

TEST(CsvIndexTest, KernelsAgreeWithTheDefinitionOnRandomText) {
  std::mt19937 rng(7);
  const std::string alphabet = "ab,,\"\"\n\r;";
  for (int iter = 0; iter < 3000; ++iter) {
    std::string s(rng() % 300, ' ');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    const char delim = iter % 3 == 0 ? ';' : ',';
    const char quote = iter % 7 == 0 ? '\0' : '"';
    bool stray = false;
    std::vector<uint32_t> want = Reference(s, delim, quote, &stray);
    for (const char* k : {"avx2", "sse2", "scalar"}) {
      for (size_t step : {size_t{64}, size_t{128}, size_t{1} << 20}) {
        CsvIndexState st;
        ASSERT_EQ(IndexAll(k, s, delim, quote, step, &st), want)
            << k << " step " << step << ": " << s;
        EXPECT_EQ(st.stray_quote, stray) << k << ": " << s;
      }
    }
  }
}

TEST(CsvIndexTest, QuotedSeparatorsAreSkippedAcrossBlocks) {
  std::string s = "id,\"" + std::string(100, 'x') + ",\n" + std::string(50, 'y') + "\",z\n";
  CsvIndexState st;
  std::vector<uint32_t> got = IndexAll(CsvIndexKernel(), s, ',', '"', 64, &st);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], 2u);
  EXPECT_EQ(s[got[1]], ',');
  EXPECT_EQ(got[2], s.size() - 1);
  EXPECT_TRUE(st.quoted_lf);
  EXPECT_FALSE(st.stray_quote);
  EXPECT_EQ(st.inside, 0u);
}

TEST(CsvIndexTest, FlagsQuotesThatDoNotStartAField) {
  for (const std::string s : {"ab\"c,d\n", "a,b\"\n", "x\n1\"2,3\n"}) {
    CsvIndexState st;
    IndexAll(CsvIndexKernel(), s, ',', '"', 64, &st);
    EXPECT_TRUE(st.stray_quote) << s;
  }
  for (const std::string s : {"\"a\",\"b\"\"c\"\n", "\"\"\n", "a,\"\",b\n"}) {
    CsvIndexState st;
    IndexAll(CsvIndexKernel(), s, ',', '"', 64, &st);
    EXPECT_FALSE(st.stray_quote) << s;
  }
}

TEST(CsvIndexTest, ReportsTheChosenKernel) {
  const std::string k = CsvIndexKernel();
  EXPECT_TRUE(k == "avx2" || k == "sse2" || k == "scalar") << k;
}

}  // namespace
}  // namespace sluice
