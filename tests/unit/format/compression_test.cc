#include "format/compression.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "compress_test_util.h"
#include "piece_input.h"

namespace sluice {
namespace {

using testing::FailingInput;
using testing::GzipOf;
using testing::PieceInput;
using testing::ZstdOf;

// Text with some structure and some noise, so that it compresses but not to nothing.
std::string CompressibleText(size_t n, unsigned seed = 1) {
  std::mt19937 rng(seed);
  std::string s;
  s.reserve(n);
  while (s.size() < n) {
    s += "id,";
    s += std::to_string(rng() % 100000);
    s += ",name-";
    s += static_cast<char>('a' + rng() % 26);
    s += '\n';
  }
  s.resize(n);
  return s;
}

Result<std::string> DecompressAll(std::string compressed, size_t piece,
                                  size_t read_size = 1 << 16) {
  auto in = std::make_unique<PieceInput>(std::move(compressed), piece, "data.bin");
  ASSIGN_OR_RETURN(auto s, OpenDecompressed(std::move(in)));
  std::string out;
  std::string buf(read_size, '\0');
  while (true) {
    ASSIGN_OR_RETURN(size_t n, s->Read(buf.data(), buf.size()));
    if (n == 0) break;
    out.append(buf.data(), n);
  }
  return out;
}

TEST(CompressionTest, PlainInputPassesThrough) {
  for (std::string data :
       {std::string(), std::string("a"), std::string("ab,c\n"), std::string("\x1f"),
        std::string("\x28\xb5\x2f"), CompressibleText(10000)}) {
    for (size_t piece : {1, 3, 1000000}) {
      auto out = DecompressAll(data, piece, 7);
      ASSERT_TRUE(out.ok()) << out.status().ToString();
      EXPECT_EQ(*out, data);
    }
  }
}

TEST(CompressionTest, GzipRoundTripAtManyReadSizes) {
  std::string text = CompressibleText(300000);
  std::string gz = GzipOf(text);
  for (size_t piece : {1, 2, 3, 7, 4096, 1 << 20}) {
    for (size_t read_size : {1, 5, 1 << 16}) {
      if (piece == 1 && read_size == 1) continue;  // slow and adds nothing over piece=2
      auto out = DecompressAll(gz, piece, read_size);
      ASSERT_TRUE(out.ok()) << out.status().ToString() << " piece=" << piece
                            << " read=" << read_size;
      EXPECT_EQ(*out, text) << "piece=" << piece << " read=" << read_size;
    }
  }
}

TEST(CompressionTest, GzipMultiMember) {
  std::string a = CompressibleText(5000, 1), b = CompressibleText(7000, 2), c = "tail\n";
  std::string gz = GzipOf(a) + GzipOf("") + GzipOf(b, 1) + GzipOf(c, 9);
  for (size_t piece : {1, 13, 1 << 20}) {
    auto out = DecompressAll(gz, piece);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(*out, a + b + c);
  }
}

TEST(CompressionTest, GzipTruncatedIsDataLoss) {
  std::string gz = GzipOf(CompressibleText(50000));
  for (size_t cut : {size_t{3}, size_t{10}, gz.size() / 2, gz.size() - 1}) {
    auto out = DecompressAll(gz.substr(0, cut), 1 << 20);
    ASSERT_FALSE(out.ok()) << "cut=" << cut;
    EXPECT_EQ(out.status().code(), StatusCode::kDataLoss);
    EXPECT_NE(out.status().message().find("data.bin"), std::string::npos);
  }
}

TEST(CompressionTest, GzipCorruptIsDataLoss) {
  std::string gz = GzipOf(CompressibleText(50000));
  gz[gz.size() / 2] ^= 0x55;
  gz[gz.size() / 2 + 1] ^= 0x55;
  auto out = DecompressAll(gz, 1 << 20);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(out.status().message().find("data.bin"), std::string::npos);
  // A broken CRC in the trailer is caught as well.
  std::string gz2 = GzipOf("hello world\n");
  gz2[gz2.size() - 6] ^= 1;
  auto out2 = DecompressAll(gz2, 1 << 20);
  ASSERT_FALSE(out2.ok());
  EXPECT_EQ(out2.status().code(), StatusCode::kDataLoss);
}

TEST(CompressionTest, GzipTrailingGarbageIsDataLoss) {
  auto out = DecompressAll(GzipOf("abc\n") + "garbage", 1 << 20);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kDataLoss);
}

TEST(CompressionTest, ZstdRoundTripAtManyReadSizes) {
  std::string text = CompressibleText(400000);
  std::string zs = ZstdOf(text);
  for (size_t piece : {1, 2, 5, 4096, 1 << 20}) {
    for (size_t read_size : {3, 1 << 16}) {
      auto out = DecompressAll(zs, piece, read_size);
      ASSERT_TRUE(out.ok()) << out.status().ToString() << " piece=" << piece
                            << " read=" << read_size;
      EXPECT_EQ(*out, text) << "piece=" << piece << " read=" << read_size;
    }
  }
}

TEST(CompressionTest, ZstdMultiFrame) {
  std::string a = CompressibleText(5000, 3), b = CompressibleText(9000, 4);
  std::string zs = ZstdOf(a) + ZstdOf("") + ZstdOf(b, 19);
  for (size_t piece : {1, 17, 1 << 20}) {
    auto out = DecompressAll(zs, piece);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(*out, a + b);
  }
}

TEST(CompressionTest, ZstdTruncatedOrCorruptIsDataLoss) {
  std::string zs = ZstdOf(CompressibleText(80000));
  for (size_t cut : {size_t{4}, size_t{9}, zs.size() / 2, zs.size() - 1}) {
    auto out = DecompressAll(zs.substr(0, cut), 1 << 20);
    ASSERT_FALSE(out.ok()) << "cut=" << cut;
    EXPECT_EQ(out.status().code(), StatusCode::kDataLoss) << out.status().ToString();
    EXPECT_NE(out.status().message().find("data.bin"), std::string::npos);
  }
  std::string bad = zs;
  for (size_t i = 20; i < 60 && i < bad.size(); ++i) bad[i] ^= 0x3c;
  auto out = DecompressAll(bad, 1 << 20);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kDataLoss);
}

TEST(CompressionTest, NameAndBytesConsumedComeFromInner) {
  std::string text = CompressibleText(100000);
  std::string gz = GzipOf(text);
  auto in = std::make_unique<PieceInput>(gz, 1000, "orders.csv.gz");
  auto s = OpenDecompressed(std::move(in));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->name(), "orders.csv.gz");
  std::string buf(1 << 16, '\0');
  size_t total = 0;
  while (true) {
    auto n = (*s)->Read(buf.data(), buf.size());
    ASSERT_TRUE(n.ok());
    if (*n == 0) break;
    total += *n;
    EXPECT_LE((*s)->BytesConsumed(), static_cast<int64_t>(gz.size()));
  }
  EXPECT_EQ(total, text.size());
  EXPECT_EQ((*s)->BytesConsumed(), static_cast<int64_t>(gz.size()));

  auto plain = OpenDecompressed(std::make_unique<PieceInput>("abcdef", 2, "p.csv"));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)->BytesConsumed(), 0);  // sniffed bytes not yet handed out
  char c[3];
  ASSERT_TRUE((*plain)->Read(c, 3).ok());
  EXPECT_EQ((*plain)->name(), "p.csv");
}

TEST(CompressionTest, InnerReadErrorPropagates) {
  std::string gz = GzipOf(CompressibleText(400000));
  auto s = OpenDecompressed(std::make_unique<FailingInput>(gz, gz.size() / 2));
  ASSERT_TRUE(s.ok());
  std::string buf(1 << 16, '\0');
  Status st;
  while (true) {
    auto n = (*s)->Read(buf.data(), buf.size());
    if (!n.ok()) {
      st = n.status();
      break;
    }
    ASSERT_NE(*n, 0u) << "stream ended without reporting the read error";
  }
  EXPECT_EQ(st.code(), StatusCode::kIOError);
}

// The processor bounds the records an input can hold by its compressed size
// times the codec's largest expansion (issue 9: stopping early once
// max_bad_ratio cannot be met); the bound must hold for the most
// compressible input there is.
TEST(CompressionTest, MaxExpansionBoundsTheDecompressedSize) {
  const std::string zeros(64 << 20, '\0');
  struct Case {
    std::string compressed;
    int64_t expansion;
  };
  for (const Case& c :
       {Case{"plain,text\n", 1}, Case{GzipOf(zeros, 9), 1032}, Case{ZstdOf(zeros, 19), 32768}}) {
    int64_t max_expansion = 0;
    auto in =
        OpenDecompressed(std::make_unique<PieceInput>(c.compressed, 1 << 20, "x"), &max_expansion);
    ASSERT_TRUE(in.ok()) << in.status().ToString();
    EXPECT_EQ(max_expansion, c.expansion);
    int64_t total = 0;
    std::string buf(1 << 20, '\0');
    while (true) {
      auto n = (*in)->Read(buf.data(), buf.size());
      ASSERT_TRUE(n.ok());
      if (*n == 0) break;
      total += static_cast<int64_t>(*n);
    }
    EXPECT_LE(total, static_cast<int64_t>(c.compressed.size()) * max_expansion);
  }
}

}  // namespace
}  // namespace sluice
