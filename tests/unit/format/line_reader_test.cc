#include "format/line_reader.h"

#include <gtest/gtest.h>

#include <string>

#include "piece_input.h"

namespace sluice {
namespace {

using testing::PieceInput;

std::string ReadAllLines(const std::string& data, size_t piece, size_t block) {
  PieceInput in(data, piece);
  LineReader r(&in, 32, block);
  std::string out;
  while (true) {
    auto more = r.Next();
    if (!more.ok()) return out + "STATUS " + more.status().ToString();
    if (!*more) break;
    EXPECT_GE(r.readable_from_line(), r.line().size() + 32);
    out += std::to_string(r.line_number()) + ":" + std::string(r.line()) + "\n";
  }
  return out;
}

TEST(LineReaderTest, SplitsLines) {
  std::string data = "\xEF\xBB\xBF{a}\r\n\nsecond\nthird\r\n\r\nlast";
  std::string want = "1:{a}\n2:\n3:second\n4:third\n5:\n6:last\n";
  for (size_t block : {1, 4, 64}) {
    for (size_t piece = 1; piece <= data.size(); ++piece) {
      ASSERT_EQ(ReadAllLines(data, piece, block), want) << block << "/" << piece;
    }
  }
  EXPECT_EQ(ReadAllLines("", 1, 16), "");
  EXPECT_EQ(ReadAllLines("x\n", 1, 16), "1:x\n");
}

TEST(LineReaderTest, OverlongLineIsFileError) {
  PieceInput in(std::string(5000, 'x'), 100, "long.ndjson");
  LineReader r(&in, 32, 64, /*max_line_bytes=*/1024);
  auto more = r.Next();
  ASSERT_FALSE(more.ok());
  EXPECT_NE(more.status().message().find("long.ndjson"), std::string::npos);
}

}  // namespace
}  // namespace sluice
