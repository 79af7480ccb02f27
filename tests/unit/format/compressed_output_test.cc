#include "format/compressed_output.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "format/compression.h"
#include "random_batch.h"

namespace sluice {
namespace {

using testing::RecordingOutput;

std::string Compress(const std::string& data, StreamCompression c, size_t piece, int level = 0) {
  std::string out;
  auto s = NewCompressedOutput(NewStringOutput(&out), c, level);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  for (size_t i = 0; i < data.size(); i += piece) {
    EXPECT_TRUE((*s)->Write(data.data() + i, std::min(piece, data.size() - i)).ok());
  }
  EXPECT_TRUE((*s)->Close().ok());
  return out;
}

std::string Decompress(const std::string& data) {
  auto in = OpenDecompressed(NewStringInput(data, "c"));
  EXPECT_TRUE(in.ok()) << in.status().ToString();
  auto all = ReadAll(**in);
  EXPECT_TRUE(all.ok()) << all.status().ToString();
  return all.ok() ? *all : "";
}

std::string SampleText(size_t n) {
  std::mt19937 rng(3);
  std::string s;
  while (s.size() < n) s += "row " + std::to_string(rng() % 1000) + ",some text\n";
  return s;
}

TEST(CompressedOutputTest, RoundTripsThroughOpenDecompressed) {
  const std::string data = SampleText(3 << 20);
  for (StreamCompression c : {StreamCompression::kGzip, StreamCompression::kZstd}) {
    for (size_t piece : {size_t{1} << 20, size_t{7777}}) {
      std::string packed = Compress(data, c, piece);
      EXPECT_LT(packed.size(), data.size() / 3);
      EXPECT_EQ(Decompress(packed), data);
    }
    EXPECT_EQ(Decompress(Compress("", c, 1)), "");
  }
  // Magic bytes: gzip 1f 8b, zstd 28 b5 2f fd.
  EXPECT_EQ(Compress("x", StreamCompression::kGzip, 1).substr(0, 2), "\x1f\x8b");
  EXPECT_EQ(Compress("x", StreamCompression::kZstd, 1).substr(0, 4), "\x28\xb5\x2f\xfd");
}

TEST(CompressedOutputTest, LevelsAndNames) {
  std::string out;
  EXPECT_FALSE(NewCompressedOutput(NewStringOutput(&out), StreamCompression::kGzip, 10).ok());
  EXPECT_FALSE(NewCompressedOutput(NewStringOutput(&out), StreamCompression::kZstd, 99).ok());
  const std::string data = SampleText(256 << 10);
  EXPECT_LT(Compress(data, StreamCompression::kZstd, 1 << 16, 19).size(),
            Compress(data, StreamCompression::kZstd, 1 << 16, 1).size());
  EXPECT_EQ(StreamCompressionFromName("a/b.csv.gz"), StreamCompression::kGzip);
  EXPECT_EQ(StreamCompressionFromName("b.JSONL.ZST"), StreamCompression::kZstd);
  EXPECT_EQ(StreamCompressionFromName("b.ndjson.zstd"), StreamCompression::kZstd);
  EXPECT_EQ(StreamCompressionFromName("b.csv"), StreamCompression::kNone);
  EXPECT_EQ(StreamCompressionFromName("gz"), StreamCompression::kNone);
}

TEST(CompressedOutputTest, CloseAndAbortReachTheInnerStream) {
  for (StreamCompression c : {StreamCompression::kGzip, StreamCompression::kZstd}) {
    RecordingOutput::Log closed, aborted;
    {
      auto s = NewCompressedOutput(std::make_unique<RecordingOutput>(&closed), c);
      ASSERT_TRUE(s.ok());
      ASSERT_TRUE((*s)->Write("hello").ok());
      ASSERT_TRUE((*s)->Close().ok());
      EXPECT_EQ((*s)->Tell(), static_cast<int64_t>(closed.data.size()));
      EXPECT_FALSE((*s)->Write("more").ok());
    }
    EXPECT_TRUE(closed.closed);
    EXPECT_EQ(Decompress(closed.data), "hello");
    {
      auto s = NewCompressedOutput(std::make_unique<RecordingOutput>(&aborted), c);
      ASSERT_TRUE(s.ok());
      ASSERT_TRUE((*s)->Write("hello").ok());
      (*s)->Abort();
    }
    EXPECT_TRUE(aborted.aborted);
    EXPECT_FALSE(aborted.closed);
    // A failing inner stream fails Close and leaves nothing published.
    RecordingOutput::Log failing;
    auto s = NewCompressedOutput(std::make_unique<RecordingOutput>(&failing, true), c);
    ASSERT_TRUE(s.ok());
    Status st = (*s)->Write("x");
    if (st.ok()) st = (*s)->Close();
    EXPECT_EQ(st.code(), StatusCode::kIOError);
    EXPECT_FALSE(failing.closed);
  }
}

}  // namespace
}  // namespace sluice
