// What the Parquet decoder does with files it cannot or must not read:
// corruption (truncated at every length, every byte flipped), wrong magic,
// encryption, nested and repeated columns, unknown codecs and encodings,
// schema mismatches. Plus row-group pruning, checked by the bytes read.
#include <gtest/gtest.h>
#include <zlib.h>

#include <mutex>

#include "compress_test_util.h"
#include "core/io.h"
#include "decode_helpers.h"
#include "format/parquet_reader.h"
#include "parquet_file_builder.h"

namespace sluice::parquet {
namespace {

using testing::DataPageV1;
using testing::FileSpec;
using testing::Leaf;

sluice::testing::Decoded ReadErrorsFile(const std::string& file, Schema schema, int64_t batch = 100,
                                        bool ignore_unknown = true) {
  DecoderOptions o;
  o.schema = std::move(schema);
  o.batch_rows = batch;
  o.ignore_unknown_fields = ignore_unknown;
  return sluice::testing::Drain(NewParquetDecoder(NewStringInput(file, "bad.parquet"), o));
}

std::string SmallSluiceFile() {
  Schema s({{"id", DataType::Int64(), false},
            {"name", DataType::String(), true},
            {"price", DataType::Decimal(10, 2), true}});
  std::string file;
  ParquetWriterOptions o;
  o.compression = Compression::kSnappy;
  o.row_group_rows = 7;
  auto enc = NewParquetEncoder(NewStringOutput(&file), s, o);
  EXPECT_TRUE(enc.ok());
  RecordBatch b = RecordBatch::Empty(s);
  for (int i = 0; i < 20; ++i) {
    b.columns[0].Append<int64_t>(i);
    if (i % 4 == 0) {
      b.columns[1].AppendNull();
    } else {
      b.columns[1].AppendString(std::string(static_cast<size_t>(i % 5), 'x'));
    }
    b.columns[2].Append<int64_t>(i * 101);
  }
  EXPECT_TRUE((*enc)->Write(b).ok());
  EXPECT_TRUE((*enc)->Finish().ok());
  return file;
}

Schema SmallSchema() {
  return Schema({{"id", DataType::Int64(), false},
                 {"name", DataType::String(), true},
                 {"price", DataType::Decimal(10, 2), true}});
}

TEST(ParquetReaderErrors, TruncatedAtEveryLengthFailsCleanly) {
  const std::string file = SmallSluiceFile();
  ASSERT_TRUE(ReadErrorsFile(file, SmallSchema()).status.ok());
  for (size_t n = 0; n < file.size(); ++n) {
    auto d = ReadErrorsFile(file.substr(0, n), SmallSchema());
    ASSERT_FALSE(d.status.ok()) << "length " << n;
    EXPECT_NE(d.status.message().find("bad.parquet"), std::string::npos) << d.status.ToString();
  }
}

TEST(ParquetReaderErrors, EveryFlippedByteIsAnErrorOrDataNeverACrash) {
  const std::string file = SmallSluiceFile();
  for (size_t i = 0; i < file.size(); ++i) {
    for (uint8_t mask : {0xff, 0x01, 0x80}) {
      std::string bad = file;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      auto d = ReadErrorsFile(bad, SmallSchema(), 3);
      // Either an error, or rows that satisfy the batch invariants (Drain checks them).
      if (d.status.ok()) {
        EXPECT_LE(d.rows.size() + d.bad.size(), 1000000u);
      }
    }
  }
}

TEST(ParquetReaderErrors, MagicBytes) {
  std::string file = SmallSluiceFile();
  std::string head = file;
  head[0] = 'X';
  auto d = ReadErrorsFile(head, SmallSchema());
  EXPECT_EQ(d.status.code(), StatusCode::kDataLoss);
  EXPECT_NE(d.status.message().find("PAR1 magic at the start"), std::string::npos);
  std::string tail = file;
  tail[tail.size() - 1] = 'X';
  d = ReadErrorsFile(tail, SmallSchema());
  EXPECT_EQ(d.status.code(), StatusCode::kDataLoss);
  std::string pare = file;
  pare.replace(pare.size() - 4, 4, "PARE");
  d = ReadErrorsFile(pare, SmallSchema());
  EXPECT_EQ(d.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(d.status.message().find("encryption (encrypted footer, magic PARE)"), std::string::npos)
      << d.status.ToString();
  d = ReadErrorsFile("PAR1PAR1", SmallSchema());
  EXPECT_NE(d.status.message().find("too short"), std::string::npos);
}

std::string Int32File(FileSpec s) {
  if (s.leaves.empty()) s.leaves = {Leaf{"a", 1, 0}};
  if (s.chunks.empty()) s.chunks = {{DataPageV1(2, 0, testing::Plain<int32_t>({1, 2}))}};
  if (s.rows.empty()) s.rows = {2};
  return testing::BuildFile(s);
}

TEST(ParquetReaderErrors, UnsupportedFeaturesNameFileColumnAndFeature) {
  struct Case {
    const char* name;
    std::string file;
    std::string schema_column;
    std::string message;
  };
  FileSpec encrypted;
  encrypted.encryption_algorithm = true;
  FileSpec nested;
  Leaf group{"g", 0, 1};
  group.num_children = 1;
  nested.leaves = {group, Leaf{"inner", 1, 0}};
  nested.root_children = 1;
  nested.chunks = {{DataPageV1(2, 0, testing::Plain<int32_t>({1, 2}))}};
  nested.rows = {2};
  FileSpec repeated;
  repeated.leaves = {Leaf{"a", 1, 2}};
  FileSpec lzo;
  lzo.codec = 3;
  FileSpec encoding;
  encoding.chunks = {{DataPageV1(2, 42, testing::Plain<int32_t>({1, 2}))}};
  FileSpec interval;
  Leaf iv{"a", 7, 0, 12};
  iv.converted = 21;
  interval.leaves = {iv};
  const Case cases[] = {
      {"encrypted columns", Int32File(encrypted), "a", "encryption (encrypted columns)"},
      {"nested", testing::BuildFile(nested), "inner", "nested column 'g'"},
      {"repeated", Int32File(repeated), "a", "repeated column 'a'"},
      {"lzo", Int32File(lzo), "a", "column 'a': compression codec LZO (3) is not supported"},
      {"encoding", Int32File(encoding), "a",
       "column 'a': encoding unknown encoding (42) for INT32 values is not supported"},
      {"interval", Int32File(interval), "a", "column 'a': INTERVAL is not supported"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto d = ReadErrorsFile(c.file, Schema({{c.schema_column, DataType::Int32(), true}}));
    EXPECT_EQ(d.status.code(), StatusCode::kInvalidArgument) << d.status.ToString();
    EXPECT_NE(d.status.message().find(c.message), std::string::npos) << d.status.ToString();
    EXPECT_NE(d.status.message().find("bad.parquet"), std::string::npos) << d.status.ToString();
  }
}

TEST(ParquetReaderErrors, CorruptPagesAreDataLossNamingTheColumn) {
  FileSpec dict;
  dict.chunks = {{testing::DictionaryPage(2, testing::Plain<int32_t>({5, 6})) +
                  DataPageV1(2, 8, std::string("\x02\x04\x03", 3))}};  // RLE run of index 3
  FileSpec short_page;
  short_page.chunks = {{DataPageV1(3, 0, testing::Plain<int32_t>({1, 2}))}};
  short_page.rows = {3};
  FileSpec few_values;  // the row group claims more rows than the chunk holds
  few_values.rows = {5};
  for (const FileSpec* s : {&dict, &short_page, &few_values}) {
    auto d = ReadErrorsFile(Int32File(*s), Schema({{"a", DataType::Int32(), true}}));
    EXPECT_EQ(d.status.code(), StatusCode::kDataLoss) << d.status.ToString();
    EXPECT_NE(d.status.message().find("column 'a', row group 0"), std::string::npos)
        << d.status.ToString();
  }
}

uint32_t Crc32Of(const std::string& bytes) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(bytes.size())));
}

// Issue 10, item 8: a page header's optional crc (CRC-32 of the page's bytes
// as stored, after the header) is checked; a page that fails it is an error
// naming the file, the column and the page, never wrong data.
TEST(ParquetReaderErrors, Issue10PageCrcIsVerified) {
  // Pages of every kind, each with the CRC of its stored bytes: a dictionary
  // page, a dictionary-encoded v1 page, a gzip-compressed v2 page (the CRC
  // covers its uncompressed levels and its compressed values) and a v1 page.
  const std::vector<uint8_t> defs = {1, 0, 1};
  const std::string levels = testing::DefLevels(defs);
  std::vector<testing::RawPage> pages(4);
  pages[0].type = 2;
  pages[0].body = testing::Plain<int32_t>({40, 41});
  pages[0].num_values = 2;
  std::string v1_body;
  {
    const uint32_t len = static_cast<uint32_t>(levels.size());
    v1_body.append(reinterpret_cast<const char*>(&len), 4);
    v1_body += levels;
    v1_body += std::string("", 3);  // bit width 1, RLE run of 2 x index 1
  }
  pages[1].body = v1_body;
  pages[1].num_values = 3;
  pages[1].encoding = 8;
  const std::string v2_values = testing::Plain<int32_t>({5, -6});
  pages[2].type = 3;
  pages[2].body = levels + sluice::testing::GzipOf(v2_values);
  pages[2].uncompressed_size = static_cast<int32_t>(levels.size() + v2_values.size());
  pages[2].num_values = 3;
  pages[2].num_nulls = 1;
  pages[2].def_levels_bytes = static_cast<int32_t>(levels.size());
  // The last page's values are chosen so that its CRC has the top bit set: the
  // header stores it as a negative i32.
  for (int32_t k = 0;; ++k) {
    pages[3].body = sluice::testing::GzipOf(v1_body.substr(0, 4 + levels.size()) +
                                            testing::Plain<int32_t>({k, k + 1}));
    if (Crc32Of(pages[3].body) >= 0x80000000u) break;
  }
  pages[3].uncompressed_size = static_cast<int32_t>(4 + levels.size() + 8);
  pages[3].num_values = 3;
  auto build = [&](const std::vector<testing::RawPage>& ps) {
    FileSpec s;
    s.leaves = {Leaf{"a", 1, 1}};
    std::string chunk;
    for (const testing::RawPage& p : ps) chunk += testing::PageBytes(p);
    s.chunks = {{chunk}};
    s.rows = {9};
    s.codec = 2;
    return testing::BuildFile(s);
  };
  // In a GZIP chunk the dictionary and v1 pages are gzip too.
  for (int i : {0, 1}) {
    pages[i].uncompressed_size = static_cast<int32_t>(pages[i].body.size());
    pages[i].body = sluice::testing::GzipOf(pages[i].body);
  }
  for (testing::RawPage& p : pages) p.crc = Crc32Of(p.body);
  const Schema schema({{"a", DataType::Int32(), true}});
  auto d = ReadErrorsFile(build(pages), schema);
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  ASSERT_EQ(d.rows.size(), 9u) << d.Text();
  EXPECT_EQ(d.rows[0], "1: 41");
  EXPECT_EQ(d.rows[4], "5: NULL");
  EXPECT_EQ(d.rows[5], "6: -6");
  // Without CRCs the file reads the same.
  std::vector<testing::RawPage> no_crc = pages;
  for (testing::RawPage& p : no_crc) p.crc.reset();
  auto plain = ReadErrorsFile(build(no_crc), schema);
  ASSERT_TRUE(plain.status.ok()) << plain.status.ToString();
  EXPECT_EQ(plain.rows, d.rows);
  // A wrong CRC on any page, or a flipped byte in a page's stored bytes, fails
  // naming the page; the bytes still decompress fine in the CRC cases.
  for (size_t i = 0; i < pages.size(); ++i) {
    SCOPED_TRACE("page " + std::to_string(i));
    std::vector<testing::RawPage> bad = pages;
    *bad[i].crc ^= 0x10;
    auto e = ReadErrorsFile(build(bad), schema);
    EXPECT_EQ(e.status.code(), StatusCode::kDataLoss) << e.status.ToString();
    const std::string want = "parquet file 'bad.parquet', column 'a', row group 0: page " +
                             std::to_string(i) + " (at byte ";
    EXPECT_NE(e.status.message().find(want), std::string::npos) << e.status.ToString();
    EXPECT_NE(e.status.message().find("fails its CRC check"), std::string::npos)
        << e.status.ToString();
    EXPECT_TRUE(e.rows.empty()) << e.Text();
  }
  std::vector<testing::RawPage> flipped = pages;
  flipped[2].body[1] ^= 0x01;  // the v2 levels, which no decompressor would notice
  auto e = ReadErrorsFile(build(flipped), schema);
  EXPECT_EQ(e.status.code(), StatusCode::kDataLoss) << e.status.ToString();
  EXPECT_NE(e.status.message().find("page 2 (at byte "), std::string::npos) << e.status.ToString();
}

TEST(ParquetReaderErrors, SchemaMismatches) {
  std::string file = SmallSluiceFile();
  auto d = ReadErrorsFile(
      file, Schema({{"id", DataType::Int64(), false}, {"absent", DataType::Int32(), false}}));
  EXPECT_EQ(d.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(d.status.message().find("no column for field 'absent', which is not nullable"),
            std::string::npos);
  d = ReadErrorsFile(file, Schema({{"id", DataType::Int64(), false}}), 100,
                     /*ignore_unknown=*/false);
  EXPECT_EQ(d.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(d.status.message().find("column 'name' of parquet file 'bad.parquet' is not in the "
                                    "schema"),
            std::string::npos)
      << d.status.ToString();
  // Case-insensitive match when there is no exact one.
  d = ReadErrorsFile(file, Schema({{"ID", DataType::Int64(), false}}));
  ASSERT_TRUE(d.status.ok());
  EXPECT_EQ(d.rows.size(), 20u);
  // A nullable file column declared not null: NULL rows are bad records.
  d = ReadErrorsFile(file, Schema({{"name", DataType::String(), false}}));
  ASSERT_TRUE(d.status.ok());
  EXPECT_EQ(d.rows.size(), 15u);
  ASSERT_EQ(d.bad.size(), 5u);
  EXPECT_EQ(d.bad[1].line, 5);
  EXPECT_EQ(d.bad[1].field, "name");
  EXPECT_EQ(d.bad[1].reason, "null in not-null field");
  EXPECT_EQ(d.bad[1].raw, "{\"name\":null}");
  // DECIMAL(30,2) fits no sluice decimal.
  FileSpec wide;
  Leaf w{"a", 7, 0, 13};
  w.converted = 5;
  w.precision = 30;
  w.scale = 2;
  wide.leaves = {w};
  wide.chunks = {{DataPageV1(1, 0, std::string(12, '\0') + "\x01")}};
  wide.rows = {1};
  std::string wide_file = testing::BuildFile(wide);
  d = ReadErrorsFile(wide_file, Schema({{"a", DataType::Decimal(18, 2), true}}));
  EXPECT_EQ(d.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(d.status.message().find("declare it as string"), std::string::npos)
      << d.status.ToString();
  d = ReadErrorsFile(wide_file, Schema({{"a", DataType::String(), true}}));
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  EXPECT_EQ(d.rows, (std::vector<std::string>{"1: <0.01>"}));
}

TEST(ParquetReaderErrors, StringsMustBeUtf8AndParseIntoNumbers) {
  FileSpec s;
  Leaf str{"a", 6, 0};
  str.converted = 0;
  s.leaves = {str};
  s.chunks = {{DataPageV1(3, 0, testing::PlainStrings({"12", "\xff\xfe", " 7 "}))}};
  s.rows = {3};
  std::string file = testing::BuildFile(s);
  auto d = ReadErrorsFile(file, Schema({{"a", DataType::Int32(), true}}));
  ASSERT_TRUE(d.status.ok());
  EXPECT_EQ(d.rows, (std::vector<std::string>{"1: 12", "3: 7"}));
  ASSERT_EQ(d.bad.size(), 1u);
  EXPECT_EQ(d.bad[0].line, 2);
  EXPECT_EQ(d.bad[0].reason, "invalid UTF-8");
}

// Records every byte range read, to prove pruned row groups are never touched.
class TrackingFile final : public RandomAccessFile {
 public:
  TrackingFile(std::string data, std::vector<std::pair<int64_t, int64_t>>* reads)
      : data_(std::move(data)), reads_(reads) {}
  Status ReadAt(int64_t offset, size_t n, char* buf) const override {
    if (offset < 0 || offset + static_cast<int64_t>(n) > size())
      return Status::DataLoss("past end");
    std::lock_guard<std::mutex> lock(mu_);
    reads_->emplace_back(offset, offset + static_cast<int64_t>(n));
    std::memcpy(buf, data_.data() + offset, n);
    return Status::OK();
  }
  int64_t size() const override { return static_cast<int64_t>(data_.size()); }
  const std::string& name() const override { return name_; }

 private:
  std::string data_;
  std::string name_ = "tracked.parquet";
  std::vector<std::pair<int64_t, int64_t>>* reads_;
  mutable std::mutex mu_;
};

class TrackingInput final : public InputStream {
 public:
  TrackingInput(std::string data, std::vector<std::pair<int64_t, int64_t>>* reads)
      : data_(std::move(data)), reads_(reads) {}
  Result<size_t> Read(char*, size_t) override { return Status::Internal("must not stream"); }
  const std::string& name() const override { return name_; }
  int64_t BytesConsumed() const override { return 0; }
  Result<std::unique_ptr<RandomAccessFile>> OpenRandomAccess() override {
    return std::unique_ptr<RandomAccessFile>(std::make_unique<TrackingFile>(data_, reads_));
  }

 private:
  std::string data_;
  std::string name_ = "tracked.parquet";
  std::vector<std::pair<int64_t, int64_t>>* reads_;
};

TEST(ParquetReaderPruning, PrunedRowGroupsAreNotRead) {
  // Three row groups of id 0..9, 10..19, 20..29 with min/max statistics.
  FileSpec s;
  s.leaves = {Leaf{"id", 2, 0}};
  for (int g = 0; g < 3; ++g) {
    std::vector<int64_t> ids;
    for (int i = 0; i < 10; ++i) ids.push_back(g * 10 + i);
    s.chunks.push_back({DataPageV1(10, 0, testing::Plain<int64_t>(ids))});
    s.rows.push_back(10);
    s.stats.push_back(
        {std::make_pair(testing::Plain<int64_t>({g * 10}), testing::Plain<int64_t>({g * 10 + 9}))});
  }
  std::string file = testing::BuildFile(s);
  // Where each chunk lives: "PAR1" then the chunks back to back.
  std::vector<std::pair<int64_t, int64_t>> chunks;
  int64_t at = 4;
  for (const auto& rg : s.chunks) {
    chunks.emplace_back(at, at + static_cast<int64_t>(rg[0].size()));
    at += static_cast<int64_t>(rg[0].size());
  }
  struct Case {
    std::optional<std::string> min, max;
    std::vector<int> groups;
  };
  const Case cases[] = {{"12", "15", {1}},
                        {std::nullopt, "10", {0, 1}},
                        {"29", std::nullopt, {2}},
                        {"30", std::nullopt, {}},
                        {"-5", "100", {0, 1, 2}}};
  for (const Case& c : cases) {
    std::vector<std::pair<int64_t, int64_t>> reads;
    DecoderOptions o;
    o.schema = Schema({{"id", DataType::Int64(), false}});
    ParquetReadOptions po;
    po.row_group_filters.push_back({"id", c.min, c.max});
    auto d = sluice::testing::Drain(
        NewParquetDecoder(std::make_unique<TrackingInput>(file, &reads), o, po));
    ASSERT_TRUE(d.status.ok()) << d.status.ToString();
    EXPECT_EQ(d.rows.size(), c.groups.size() * 10);
    for (int g = 0; g < 3; ++g) {
      bool wanted = std::find(c.groups.begin(), c.groups.end(), g) != c.groups.end();
      bool touched = false;
      for (const auto& [b, e] : reads) touched |= b < chunks[g].second && e > chunks[g].first;
      EXPECT_EQ(touched, wanted) << "row group " << g;
    }
    if (!c.groups.empty()) {
      // Row numbers stay the file's: the first row of group 1 is line 11.
      EXPECT_EQ(d.rows.front().substr(0, d.rows.front().find(':')),
                std::to_string(c.groups.front() * 10 + 1));
    }
  }
  // A bound that does not parse, and an unknown column, are errors.
  DecoderOptions o;
  o.schema = Schema({{"id", DataType::Int64(), false}});
  ParquetReadOptions po;
  po.row_group_filters.push_back({"id", std::string("abc"), std::nullopt});
  std::vector<std::pair<int64_t, int64_t>> reads;
  EXPECT_FALSE(NewParquetDecoder(std::make_unique<TrackingInput>(file, &reads), o, po).ok());
  po.row_group_filters = {{"nope", std::string("1"), std::nullopt}};
  EXPECT_FALSE(NewParquetDecoder(std::make_unique<TrackingInput>(file, &reads), o, po).ok());
}

}  // namespace
}  // namespace sluice::parquet
