#include "format/parquet/page_codec.h"

#include <gtest/gtest.h>

#include <ostream>
#include <random>
#include <string>

namespace sluice::parquet {
namespace {

std::string SamplePage(size_t n) {
  std::mt19937 rng(7);
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    // Compressible but not trivial: mostly a small alphabet.
    s.push_back(static_cast<char>(rng() % 4 == 0 ? rng() % 256 : 'a' + rng() % 4));
  }
  return s;
}

struct CodecCase {
  Compression compression;
  CompressionCodec codec;
};
void PrintTo(const CodecCase& c, std::ostream* os) { *os << "codec " << static_cast<int>(c.codec); }

class PageCodecTest : public ::testing::TestWithParam<CodecCase> {};

TEST_P(PageCodecTest, RoundTrips) {
  auto made = PageCompressor::Make(GetParam().compression, 3);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  PageCompressor& c = **made;
  EXPECT_EQ(c.codec(), GetParam().codec);
  // The same compressor is reused across pages of different sizes.
  for (size_t n : {size_t{0}, size_t{1}, size_t{1000}, size_t{300000}, size_t{17}}) {
    std::string page = SamplePage(n);
    std::string compressed = "stale";
    ASSERT_TRUE(c.Compress(page, &compressed).ok());
    EXPECT_LE(compressed.size(), c.MaxCompressedLength(n));
    // CompressTo into an exactly bounded buffer gives the same bytes.
    std::string direct(c.MaxCompressedLength(n), '\xee');
    auto written = c.CompressTo(page, direct.data(), direct.size());
    ASSERT_TRUE(written.ok()) << written.status().ToString();
    EXPECT_EQ(direct.substr(0, *written), compressed);
    if (GetParam().codec != CompressionCodec::kUncompressed && n >= 1000) {
      EXPECT_LT(compressed.size(), page.size());
    }
    std::string back;
    Status st = DecompressPage(c.codec(), compressed, page.size(), &back);
    ASSERT_TRUE(st.ok()) << st.ToString();
    EXPECT_EQ(back, page) << n;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Codecs, PageCodecTest,
    ::testing::Values(CodecCase{Compression::kUncompressed, CompressionCodec::kUncompressed},
                      CodecCase{Compression::kSnappy, CompressionCodec::kSnappy},
                      CodecCase{Compression::kGzip, CompressionCodec::kGzip},
                      CodecCase{Compression::kZstd, CompressionCodec::kZstd}));

TEST(PageCodecTest, GzipUsesGzipWrapperAndZstdAFrame) {
  auto gz = PageCompressor::Make(Compression::kGzip, 6);
  ASSERT_TRUE(gz.ok());
  std::string out;
  ASSERT_TRUE((*gz)->Compress("hello hello hello", &out).ok());
  ASSERT_GE(out.size(), 2u);
  EXPECT_EQ(static_cast<uint8_t>(out[0]), 0x1f);
  EXPECT_EQ(static_cast<uint8_t>(out[1]), 0x8b);

  auto zs = PageCompressor::Make(Compression::kZstd, 1);
  ASSERT_TRUE(zs.ok());
  ASSERT_TRUE((*zs)->Compress("hello hello hello", &out).ok());
  ASSERT_GE(out.size(), 4u);
  EXPECT_EQ(out.substr(0, 4), std::string("\x28\xb5\x2f\xfd", 4));
}

TEST(PageCodecTest, ZstdLevelChangesOutput) {
  std::string page = SamplePage(200000);
  std::string fast, strong;
  auto a = PageCompressor::Make(Compression::kZstd, 1);
  auto b = PageCompressor::Make(Compression::kZstd, 19);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->Compress(page, &fast).ok());
  ASSERT_TRUE((*b)->Compress(page, &strong).ok());
  EXPECT_NE(fast, strong);
}

TEST(PageCodecTest, RejectsOutOfRangeLevels) {
  EXPECT_EQ(PageCompressor::Make(Compression::kZstd, 1000).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(PageCompressor::Make(Compression::kGzip, 0).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(PageCompressor::Make(Compression::kGzip, 10).status().code(),
            StatusCode::kInvalidArgument);
  // Codecs without levels ignore the value.
  EXPECT_TRUE(PageCompressor::Make(Compression::kSnappy, 1000).ok());
  EXPECT_TRUE(PageCompressor::Make(Compression::kUncompressed, -5).ok());
}

TEST(PageCodecTest, DecompressDetectsCorruptionAndSizeMismatch) {
  std::string out;
  for (CompressionCodec codec :
       {CompressionCodec::kSnappy, CompressionCodec::kGzip, CompressionCodec::kZstd}) {
    EXPECT_EQ(DecompressPage(codec, "definitely not compressed", 100, &out).code(),
              StatusCode::kDataLoss)
        << static_cast<int>(codec);
  }
  auto z = PageCompressor::Make(Compression::kZstd, 3);
  ASSERT_TRUE(z.ok());
  std::string c;
  ASSERT_TRUE((*z)->Compress("0123456789", &c).ok());
  EXPECT_EQ(DecompressPage(CompressionCodec::kZstd, c, 9, &out).code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecompressPage(CompressionCodec::kUncompressed, "abc", 4, &out).code(),
            StatusCode::kDataLoss);
}

}  // namespace
}  // namespace sluice::parquet
