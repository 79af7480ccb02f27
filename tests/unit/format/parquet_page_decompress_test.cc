// The reader's page decompressor (page_decompress.h) on pages made by the
// reference libraries: streams other writers produce that sluice's own writer
// never does (several gzip members in one page), and exact size checks.
#include "format/parquet/page_decompress.h"

#include <gtest/gtest.h>

#include <string>

#include "compress_test_util.h"
#include "format/parquet/parquet_footer.h"

namespace sluice::parquet {
namespace {

using sluice::testing::GzipOf;

std::string Text(size_t n, char seed) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + (seed + i * 7) % 23));
  return s;
}

Status Gunzip(PageDecompressor* d, const std::string& in, size_t out_size, std::string* out) {
  out->assign(out_size + 1, '\0');
  Status st = d->Decompress(codec::kGzip, in, out->data(), out_size);
  out->resize(out_size);
  return st;
}

// Issue 10, item 8: a GZIP page whose bytes are several gzip members (RFC 1952
// allows concatenation; writers that compress in pieces produce it) holds the
// concatenation of the members' data.
TEST(ParquetPageDecompress, GzipPageOfConcatenatedMembers) {
  PageDecompressor d;
  const std::string a = Text(4096, 1), b = Text(8, 2), c = Text(1000, 3);
  std::string out;
  Status st = Gunzip(&d, GzipOf(a) + GzipOf(b), a.size() + b.size(), &out);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(out, a + b);
  // Three members, one of them empty, at different levels; then the same
  // decompressor reads a single-member page (its state resets between pages).
  st = Gunzip(&d, GzipOf(a, 1) + GzipOf("", 9) + GzipOf(c, 6), a.size() + c.size(), &out);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(out, a + c);
  st = Gunzip(&d, GzipOf(c), c.size(), &out);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(out, c);
  // An empty member after the output is complete is still valid.
  st = Gunzip(&d, GzipOf(c) + GzipOf(""), c.size(), &out);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(out, c);
}

TEST(ParquetPageDecompress, GzipMembersThatDoNotAddUpAreDataLoss) {
  PageDecompressor d;
  const std::string a = Text(4096, 1), b = Text(8, 2);
  const std::string two = GzipOf(a) + GzipOf(b);
  std::string out;
  struct Case {
    const char* name;
    std::string in;
    size_t out_size;
    const char* message;
  };
  std::string corrupt_second = two;
  corrupt_second[GzipOf(a).size() + 12] ^= 0x55;  // inside the second member's deflate data
  const Case cases[] = {
      {"header says more than the members hold", two, a.size() + b.size() + 8,
       "gzip page decompressed to 4104 bytes, its header says 4112"},
      {"header says less than the members hold", two, a.size() + 4, "more data than the header"},
      {"second member truncated", two.substr(0, two.size() - 3), a.size() + b.size(),
       "corrupt gzip page"},
      {"second member corrupt", corrupt_second, a.size() + b.size(), "corrupt gzip page"},
      {"garbage after the members", two + "junk", a.size() + b.size(), "corrupt gzip page"},
      {"empty page with a size", "", 10, "corrupt gzip page"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Status st = Gunzip(&d, c.in, c.out_size, &out);
    EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
    EXPECT_NE(st.message().find(c.message), std::string::npos) << st.ToString();
  }
  // The decompressor is still usable after the failures.
  Status st = Gunzip(&d, two, a.size() + b.size(), &out);
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(out, a + b);
}

}  // namespace
}  // namespace sluice::parquet
