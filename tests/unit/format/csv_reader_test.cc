#include "format/csv_reader.h"

#include <gtest/gtest.h>

#include <string>

#include "piece_input.h"

namespace sluice {
namespace {

using testing::PieceInput;

// Renders every record as "line[q?field|field]{error}".
std::string ReadAllRecords(const std::string& data, size_t piece, size_t block, char delim = ',',
                           char quote = '"') {
  PieceInput in(data, piece);
  CsvReader r(&in, delim, quote, block);
  std::string out;
  while (true) {
    auto more = r.Next();
    if (!more.ok()) return out + "STATUS " + more.status().ToString();
    if (!*more) break;
    out += std::to_string(r.line()) + "[";
    for (size_t i = 0; i < r.num_fields(); ++i) {
      if (i) out += "|";
      if (r.quoted(i)) out += "q:";
      out += std::string(r.field(i));
    }
    out += "]";
    if (!r.error().empty()) out += "{" + std::string(r.error()) + "}";
    out += "(" + std::string(r.raw()) + ")\n";
  }
  return out;
}

TEST(CsvReaderTest, Framing) {
  std::string data =
      "a,b,c\n"
      "\"q,1\",\"q\"\"2\",plain\"quote\n"
      "\r\n"
      "x\r\n"
      "\"nl\r\nin\nside\",\n"
      ",,\n"
      "\"\"\n"
      "\"a\"  ,b\n"
      "\"open";
  std::string want =
      "1[a|b|c](a,b,c)\n"
      "2[q:q,1|q:q\"2|plain\"quote](\"q,1\",\"q\"\"2\",plain\"quote)\n"
      "4[x](x)\n"
      "5[q:nl\r\nin\nside|](\"nl\r\nin\nside\",)\n"
      "8[||](,,)\n"
      "9[q:](\"\")\n"
      "10[q:a|b]{unexpected character after closing quote}(\"a\"  ,b)\n"
      "11[q:open]{unterminated quoted field}(\"open)\n";
  EXPECT_EQ(ReadAllRecords(data, 1 << 20, 1 << 20), want);
  // Tiny blocks force carry-over and buffer growth at every position.
  for (size_t block : {1, 2, 3, 5, 16}) {
    for (size_t piece = 1; piece <= 9; ++piece) {
      ASSERT_EQ(ReadAllRecords(data, piece, block), want) << block << "/" << piece;
    }
  }
}

TEST(CsvReaderTest, NoQuoteCharMeansQuotesAreData) {
  EXPECT_EQ(ReadAllRecords("\"a,b\"\n", 100, 64, ',', '\0'), "1[\"a|b\"](\"a,b\")\n");
}

TEST(CsvReaderTest, QuotedEmptyAndCrAtEof) {
  EXPECT_EQ(ReadAllRecords("a\r", 100, 64), "1[a](a)\n");
  EXPECT_EQ(ReadAllRecords("\"a\"\r", 100, 64), "1[q:a](\"a\")\n");
  EXPECT_EQ(ReadAllRecords("\r", 100, 64), "");
  EXPECT_EQ(ReadAllRecords("\"\"", 100, 64), "1[q:](\"\")\n");
  EXPECT_EQ(ReadAllRecords("a,", 100, 64), "1[a|](a,)\n");
}

TEST(CsvReaderTest, OversizedRecordIsFileError) {
  std::string data = "\"" + std::string(5000, 'x');
  PieceInput in(data, 100, "big.csv");
  CsvReader r(&in, ',', '"', 64, /*max_record_bytes=*/1024);
  auto more = r.Next();
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(more.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(more.status().message().find("big.csv"), std::string::npos);
  EXPECT_NE(more.status().message().find("line 1"), std::string::npos);
}

TEST(CsvReaderTest, LongRecordIsLinear) {
  // 8 MiB in one record, delivered 4 KiB at a time into a 64 KiB block: a
  // rescanning reader would take quadratic time here.
  std::string y(8 << 20, 'y');
  std::string data = "\"" + y + "\",1\n2,3\n";
  std::string want = "1[q:" + y + "|1](\"" + y + "\",1)\n2[2|3](2,3)\n";
  EXPECT_EQ(ReadAllRecords(data, 4096, 65536), want);
}

}  // namespace
}  // namespace sluice
