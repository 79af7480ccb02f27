// The reader's value decoders on hand-built bytes (parquet-format spec
// examples and exhaustive small cases), directly and through whole pages.
#include <gtest/gtest.h>
#include <lz4.h>
#include <snappy.h>

#include <cmath>
#include <limits>
#include <optional>
#include <random>

#include "compress_test_util.h"
#include "core/io.h"
#include "decode_helpers.h"
#include "format/parquet/bit_unpack.h"
#include "format/parquet/delta_decoder.h"
#include "format/parquet/rle_decoder.h"
#include "format/parquet/rle_encoder.h"
#include "format/parquet_reader.h"
#include "parquet_file_builder.h"

namespace sluice::parquet {
namespace {

using testing::DataPageV1;
using testing::DataPageV2;
using testing::DeltaBinaryPacked;
using testing::FileSpec;
using testing::Leaf;

const uint8_t* U8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

TEST(ParquetBitUnpack, EveryWidthMatchesANaiveUnpacker) {
  std::mt19937_64 rng(7);
  for (int w = 0; w <= 64; ++w) {
    const int groups = 5;
    std::vector<uint64_t> values(groups * 8);
    for (auto& v : values) v = w == 64 ? rng() : w == 0 ? 0 : rng() & ((uint64_t{1} << w) - 1);
    std::string packed(static_cast<size_t>(groups * w), '\0');
    for (size_t i = 0; i < values.size(); ++i) {
      for (int b = 0; b < w; ++b) {
        if ((values[i] >> b) & 1) {
          size_t bit = i * w + b;
          packed[bit / 8] = static_cast<char>(packed[bit / 8] | (1 << (bit % 8)));
        }
      }
    }
    std::vector<uint64_t> out64(values.size());
    UnpackGroups64(U8(packed), w, groups, out64.data());
    EXPECT_EQ(out64, values) << "width " << w;
    if (w <= 32) {
      std::vector<uint32_t> out32(values.size());
      UnpackGroups32(U8(packed), w, groups, out32.data());
      for (size_t i = 0; i < values.size(); ++i) ASSERT_EQ(out32[i], values[i]) << "width " << w;
    }
    if (w <= 8) {
      std::vector<uint8_t> out8(values.size());
      UnpackGroups8(U8(packed), w, groups, out8.data());
      for (size_t i = 0; i < values.size(); ++i) ASSERT_EQ(out8[i], values[i]) << "width " << w;
    }
  }
}

TEST(ParquetRleDecoder, SpecExample) {
  // Bit width 3: an RLE run of 5 x 4, then a bit-packed run of one group
  // (0..7), as in the spec's description of the hybrid.
  std::string bytes;
  bytes.push_back(5 << 1);
  bytes.push_back(4);
  bytes.push_back(static_cast<char>((1 << 1) | 1));
  // 0,1,2,3,4,5,6,7 at 3 bits: 10001000 11000110 11111010
  bytes.push_back(static_cast<char>(0x88));
  bytes.push_back(static_cast<char>(0xC6));
  bytes.push_back(static_cast<char>(0xFA));
  RleBitPackedDecoder d(U8(bytes), bytes.size(), 3);
  std::vector<uint32_t> out(20, 99);
  EXPECT_EQ(d.GetBatch(out.data(), 20), 13);
  EXPECT_EQ(std::vector<uint32_t>(out.begin(), out.begin() + 13),
            (std::vector<uint32_t>{4, 4, 4, 4, 4, 0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_FALSE(d.error());
}

TEST(ParquetRleDecoder, RoundTripsTheWriterAtEveryBatchSize) {
  std::mt19937_64 rng(3);
  for (int width : {1, 2, 5, 8, 13, 20, 32}) {
    std::vector<uint32_t> values;
    for (int run = 0; run < 60; ++run) {
      uint32_t v = width == 32 ? static_cast<uint32_t>(rng()) : rng() & ((1u << width) - 1);
      int n = 1 + static_cast<int>(rng() % 20);
      for (int i = 0; i < n; ++i) {
        values.push_back(rng() % 3 == 0 ? v
                                        : (width == 32 ? static_cast<uint32_t>(rng())
                                                       : rng() & ((1u << width) - 1)));
      }
    }
    RleBitPackedEncoder e(width);
    for (uint32_t v : values) e.Put(v);
    std::string bytes;
    e.FinishTo(&bytes);
    for (int64_t batch : {1, 3, 7, 8, 9, 64, 1000}) {
      RleBitPackedDecoder d(U8(bytes), bytes.size(), width);
      std::vector<uint32_t> got;
      std::vector<uint32_t> buf(static_cast<size_t>(batch));
      while (got.size() < values.size()) {
        int64_t n = d.GetBatch(buf.data(), std::min<int64_t>(batch, values.size() - got.size()));
        ASSERT_GT(n, 0);
        got.insert(got.end(), buf.begin(), buf.begin() + n);
      }
      EXPECT_EQ(got, values) << "width " << width << " batch " << batch;
    }
  }
}

TEST(ParquetRleDecoder, MalformedRunsStopWithAnError) {
  struct Case {
    std::string bytes;
    int width;
  };
  const Case cases[] = {
      {std::string("\x80\x80\x80\x80\x80\x80", 6), 1},  // endless varint
      {std::string("\x02", 1), 8},                      // RLE run without its value
      {std::string("\x02\x09", 2), 3},                  // value wider than 3 bits
      {std::string("\x00", 1), 1},                      // empty RLE run
      {std::string("\x03", 1), 4},                      // bit-packed run without bytes
  };
  for (const Case& c : cases) {
    RleBitPackedDecoder d(U8(c.bytes), c.bytes.size(), c.width);
    uint32_t out[16];
    EXPECT_LT(d.GetBatch(out, 16), 16);
    EXPECT_TRUE(d.error()) << "case of " << c.bytes.size() << " bytes";
  }
}

TEST(ParquetDeltaDecoder, SpecExamples) {
  // Spec: 1, 2, 3, 4, 5 -> header (128, 4, 5, zigzag 1), block: min delta 1, widths 0.
  std::string ex1 = DeltaBinaryPacked({1, 2, 3, 4, 5});
  DeltaBitPackedDecoder d;
  ASSERT_TRUE(d.Init(U8(ex1), ex1.size()));
  int64_t out[8];
  EXPECT_EQ(d.Get(out, 8), 5);
  EXPECT_EQ(std::vector<int64_t>(out, out + 5), (std::vector<int64_t>{1, 2, 3, 4, 5}));
  // Spec: 7, 5, 3, 1, 2, 3, 4, 5: deltas -2 -2 -2 1 1 1 1, min -2.
  std::vector<int64_t> ex2 = {7, 5, 3, 1, 2, 3, 4, 5};
  std::string bytes = DeltaBinaryPacked(ex2);
  ASSERT_TRUE(d.Init(U8(bytes), bytes.size()));
  EXPECT_EQ(d.Get(out, 8), 8);
  EXPECT_EQ(std::vector<int64_t>(out, out + 8), ex2);
}

TEST(ParquetDeltaDecoder, ExtremesWrapAndSkipToEndFindsTheData) {
  std::vector<int64_t> v = {0, std::numeric_limits<int64_t>::max(),
                            std::numeric_limits<int64_t>::min(), -1, 1};
  std::mt19937_64 rng(5);
  for (int i = 0; i < 300; ++i) v.push_back(static_cast<int64_t>(rng()) >> (rng() % 60));
  std::string bytes = DeltaBinaryPacked(v) + "TAIL";
  for (int64_t batch : {1, 31, 32, 33, 1000}) {
    DeltaBitPackedDecoder d;
    ASSERT_TRUE(d.Init(U8(bytes), bytes.size()));
    std::vector<int64_t> got(v.size() + 5);
    int64_t n = 0;
    while (true) {
      int64_t k = d.Get(got.data() + n, batch);
      if (k == 0) break;
      n += k;
    }
    ASSERT_EQ(n, static_cast<int64_t>(v.size()));
    got.resize(v.size());
    EXPECT_EQ(got, v);
    EXPECT_FALSE(d.error());
  }
  DeltaBitPackedDecoder skip;
  ASSERT_TRUE(skip.Init(U8(bytes), bytes.size()));
  EXPECT_EQ(skip.SkipToEnd(), static_cast<int64_t>(bytes.size()) - 4);
}

TEST(ParquetDeltaDecoder, BadHeadersAreRejected) {
  std::string bytes;
  testing::AppendUleb(100, &bytes);  // not a multiple of 128
  testing::AppendUleb(4, &bytes);
  testing::AppendUleb(3, &bytes);
  testing::AppendUleb(0, &bytes);
  DeltaBitPackedDecoder d;
  EXPECT_FALSE(d.Init(U8(bytes), bytes.size()));
  // Truncated miniblock: claims 200 values, has one block header only.
  std::string trunc = DeltaBinaryPacked(std::vector<int64_t>(200, 5));
  trunc.resize(trunc.size() - 1);
  std::string cut;
  testing::AppendUleb(128, &cut);
  testing::AppendUleb(4, &cut);
  testing::AppendUleb(200, &cut);
  testing::AppendUleb(0, &cut);
  cut.push_back(2);                           // min delta 1
  cut += std::string("\x10\x10\x10\x10", 4);  // 16-bit widths, no data
  ASSERT_TRUE(d.Init(U8(cut), cut.size()));
  int64_t out[300];
  EXPECT_EQ(d.Get(out, 300), 1);
  EXPECT_TRUE(d.error());
}

TEST(ParquetDeltaStrings, SpecExamples) {
  // DELTA_LENGTH_BYTE_ARRAY: "Hello", "World", "Foobar", "ABCDEF".
  std::string dlba = DeltaBinaryPacked({5, 5, 6, 6}) + "HelloWorldFoobarABCDEF";
  DeltaLengthDecoder l;
  ASSERT_TRUE(l.Init(U8(dlba), dlba.size()));
  std::vector<std::string> got;
  const char* p;
  uint32_t n;
  while (l.Next(&p, &n)) got.emplace_back(p, n);
  EXPECT_EQ(got, (std::vector<std::string>{"Hello", "World", "Foobar", "ABCDEF"}));
  EXPECT_FALSE(l.error());
  // DELTA_BYTE_ARRAY: axis, axle, babble, babyhood.
  std::string dba =
      DeltaBinaryPacked({0, 2, 0, 3}) + DeltaBinaryPacked({4, 2, 6, 5}) + "axislebabbleyhood";
  DeltaByteArrayDecoder b;
  ASSERT_TRUE(b.Init(U8(dba), dba.size()));
  got.clear();
  while (b.Next(&p, &n)) got.emplace_back(p, n);
  EXPECT_EQ(got, (std::vector<std::string>{"axis", "axle", "babble", "babyhood"}));
  EXPECT_FALSE(b.error());
  // A prefix longer than the previous value is corrupt.
  std::string bad = DeltaBinaryPacked({0, 9}) + DeltaBinaryPacked({2, 1}) + "abc";
  ASSERT_TRUE(b.Init(U8(bad), bad.size()));
  EXPECT_TRUE(b.Next(&p, &n));
  EXPECT_FALSE(b.Next(&p, &n));
  EXPECT_TRUE(b.error());
  // Lengths past the data are corrupt.
  std::string over = DeltaBinaryPacked({3, 10}) + "abcdef";
  ASSERT_TRUE(l.Init(U8(over), over.size()));
  EXPECT_TRUE(l.Next(&p, &n));
  EXPECT_FALSE(l.Next(&p, &n));
  EXPECT_TRUE(l.error());
}

// --- whole pages through the decoder ------------------------------------------

sluice::testing::Decoded ReadFile(const std::string& file, Schema schema, int64_t batch = 3) {
  DecoderOptions o;
  o.schema = std::move(schema);
  o.batch_rows = batch;
  return sluice::testing::Drain(NewParquetDecoder(NewStringInput(file, "t.parquet"), o));
}

std::string OneColumn(const Leaf& leaf, std::vector<std::string> pages, int64_t rows) {
  FileSpec s;
  s.leaves = {leaf};
  std::string chunk;
  for (const std::string& p : pages) chunk += p;
  s.chunks = {{chunk}};
  s.rows = {rows};
  return testing::BuildFile(s);
}

struct PageCase {
  const char* name;
  Leaf leaf;
  std::vector<std::string> pages;
  int64_t rows;
  DataType type;
  std::vector<std::string> want;  // "line: value" per row
};

TEST(ParquetReaderPages, EncodingsAndTypes) {
  const std::vector<uint8_t> defs = {1, 0, 1, 1, 0};
  const std::vector<uint8_t> all_set = {1, 1, 1};
  std::vector<float> floats = {1.5f, -0.25f, 3e30f};
  std::string bss;  // BYTE_STREAM_SPLIT of the three floats
  for (int b = 0; b < 4; ++b) {
    for (float f : floats) bss.push_back(reinterpret_cast<const char*>(&f)[b]);
  }
  std::vector<double> doubles = {2.5, -1e300};
  std::string bss_d;
  for (int b = 0; b < 8; ++b) {
    for (double d : doubles) bss_d.push_back(reinterpret_cast<const char*>(&d)[b]);
  }
  // INT96: 2000-01-02T03:04:05.000006789 is Julian day 2451546, 11045000006789 ns.
  std::string int96(12, '\0');
  int64_t nanos = 11045000006789;
  int32_t julian = 2451546;
  std::memcpy(int96.data(), &nanos, 8);
  std::memcpy(int96.data() + 8, &julian, 4);
  std::string rle_bools;  // RLE booleans: true x3, false x2, length prefixed
  {
    RleBitPackedEncoder e(1);
    for (int v : {1, 1, 1, 0, 0}) e.Put(v);
    std::string runs;
    e.FinishTo(&runs);
    uint32_t n = static_cast<uint32_t>(runs.size());
    rle_bools.append(reinterpret_cast<const char*>(&n), 4);
    rle_bools += runs;
  }
  std::string dict_idx;  // bit width 2, indices 2,0,1 bit-packed
  {
    dict_idx.push_back(2);
    RleBitPackedEncoder e(2);
    for (int v : {2, 0, 1}) e.Put(v);
    e.FinishTo(&dict_idx);
  }
  auto ts = [](int unit) {
    Leaf l{"x", 2};
    l.logical_id = 8;
    l.logical_unit = static_cast<int16_t>(unit);
    return l;
  };
  Leaf bss_leaf{"x", 4, 0};
  Leaf dbl_leaf{"x", 5, 0};
  Leaf int96_leaf{"x", 3, 0};
  Leaf bool_leaf{"x", 0, 0};
  Leaf str_leaf{"x", 6, 1};
  str_leaf.converted = 0;
  Leaf i32_opt{"x", 1, 1};
  Leaf i64_req{"x", 2, 0};
  Leaf dec_flba{"x", 7, 0, 3};
  dec_flba.converted = 5;
  dec_flba.precision = 6;
  dec_flba.scale = 2;
  Leaf u64{"x", 2, 0};
  u64.logical_id = 10;
  u64.logical_bits = 64;
  u64.logical_signed = false;
  Leaf date_leaf{"x", 1, 0};
  date_leaf.converted = 6;
  Leaf ts_ms_legacy{"x", 2, 0};
  ts_ms_legacy.converted = 9;
  Leaf time_leaf{"x", 2, 0};
  time_leaf.logical_id = 7;
  time_leaf.logical_unit = 2;
  Leaf ts_ns = ts(3);
  ts_ns.repetition = 0;
  Leaf ts_ms = ts(1);
  ts_ms.repetition = 0;

  const std::vector<PageCase> cases = {
      {"byte_stream_split_float",
       bss_leaf,
       {DataPageV1(3, 9, bss)},
       3,
       DataType::Float64(),
       {"1: 1.5", "2: -0.25", "3: 2.9999998940266712e+30"}},
      {"byte_stream_split_double_v2",
       dbl_leaf,
       {DataPageV2(2, 9, bss_d)},
       2,
       DataType::Float64(),
       {"1: 2.5", "2: -1.0000000000000001e+300"}},
      {"int96",
       int96_leaf,
       {DataPageV1(1, 0, int96)},
       1,
       DataType::Timestamp(),
       {"1: 2000-01-02T03:04:05.000006Z"}},
      {"rle_booleans",
       bool_leaf,
       {DataPageV1(5, 3, rle_bools)},
       5,
       DataType::Bool(),
       {"1: true", "2: true", "3: true", "4: false", "5: false"}},
      {"plain_booleans",
       bool_leaf,
       {DataPageV1(3, 0, std::string("\x05", 1))},
       3,
       DataType::Bool(),
       {"1: true", "2: false", "3: true"}},
      {"dictionary_strings_with_nulls",
       str_leaf,
       {testing::DictionaryPage(3, testing::PlainStrings({"a", "", "\xc3\xa9t\xc3\xa9"})),
        DataPageV1(5, 8, dict_idx, &defs)},
       5,
       DataType::String(),
       {"1: <\xc3\xa9t\xc3\xa9>", "2: NULL", "3: <a>", "4: <>", "5: NULL"}},
      {"delta_length_v2_nulls",
       str_leaf,
       {DataPageV2(5, 6, DeltaBinaryPacked({2, 0, 3}) + "hiabc", &defs)},
       5,
       DataType::String(),
       {"1: <hi>", "2: NULL", "3: <>", "4: <abc>", "5: NULL"}},
      {"delta_byte_array",
       str_leaf,
       {DataPageV1(3, 7, DeltaBinaryPacked({0, 2, 2}) + DeltaBinaryPacked({3, 1, 0}) + "abcx",
                   &all_set)},
       3,
       DataType::String(),
       {"1: <abc>", "2: <abx>", "3: <ab>"}},
      {"delta_binary_packed_int32_nulls",
       i32_opt,
       {DataPageV1(5, 5, DeltaBinaryPacked({-2147483648LL, 2147483647, 0}), &defs)},
       5,
       DataType::Int32(),
       {"1: -2147483648", "2: NULL", "3: 2147483647", "4: 0", "5: NULL"}},
      {"two_pages_v1_then_v2",
       i64_req,
       {DataPageV1(2, 0, testing::Plain<int64_t>({1, 2})),
        DataPageV2(2, 5, DeltaBinaryPacked({3, 4}))},
       4,
       DataType::Int64(),
       {"1: 1", "2: 2", "3: 3", "4: 4"}},
      {"decimal_fixed_len_byte_array",
       dec_flba,
       {DataPageV1(2, 0, std::string("\xff\xff\x85\x00\x30\x39", 6))},
       2,
       DataType::Decimal(6, 2),
       {"1: -1.23", "2: 123.45"}},
      {"date_legacy",
       date_leaf,
       {DataPageV1(1, 0, testing::Plain<int32_t>({-1}))},
       1,
       DataType::Date(),
       {"1: 1969-12-31"}},
      {"timestamp_millis_legacy",
       ts_ms_legacy,
       {DataPageV1(1, 0, testing::Plain<int64_t>({1500}))},
       1,
       DataType::Timestamp(),
       {"1: 1970-01-01T00:00:01.500000Z"}},
      {"timestamp_nanos_floor",
       ts_ns,
       {DataPageV1(1, 0, testing::Plain<int64_t>({-1500}))},
       1,
       DataType::Timestamp(),
       {"1: 1969-12-31T23:59:59.999998Z"}},
      {"timestamp_millis_overflow_is_bad",
       ts_ms,
       {DataPageV1(2, 0, testing::Plain<int64_t>({std::numeric_limits<int64_t>::max(), 2}))},
       2,
       DataType::Timestamp(),
       {"2: 1970-01-01T00:00:00.002000Z"}},
      {"time_as_string",
       time_leaf,
       {DataPageV1(1, 0, testing::Plain<int64_t>({3723000001}))},
       1,
       DataType::String(),
       {"1: <01:02:03.000001>"}},
      {"uint64_above_int64_is_bad",
       u64,
       {DataPageV1(2, 0, testing::Plain<uint64_t>({5, UINT64_MAX}))},
       2,
       DataType::Int64(),
       {"1: 5"}},
  };
  for (const PageCase& c : cases) {
    SCOPED_TRACE(c.name);
    std::string file = OneColumn(c.leaf, c.pages, c.rows);
    for (int64_t batch : {1, 2, 3, 100}) {
      auto d = ReadFile(file, Schema({{"x", c.type, true}}), batch);
      ASSERT_TRUE(d.status.ok()) << d.status.ToString();
      std::vector<std::string> got = d.rows;
      EXPECT_EQ(got, c.want) << d.Text();
      EXPECT_EQ(d.records_read, c.rows);
    }
    // The file's own types are the same (the schema-less read agrees).
    auto natural = ReadFile(file, Schema(), 2);
    EXPECT_TRUE(natural.status.ok()) << natural.status.ToString() << natural.Text();
  }
}

// --- issue 10, item 8: valid files other readers accept ------------------------

// `raw` compressed the way a writer using Parquet codec `codec` stores it.
std::string CompressAs(int32_t codec, const std::string& raw) {
  switch (codec) {
    case codec::kSnappy: {
      std::string out;
      snappy::Compress(raw.data(), raw.size(), &out);
      return out;
    }
    case codec::kGzip:
      return sluice::testing::GzipOf(raw);
    case codec::kZstd:
      return sluice::testing::ZstdOf(raw);
    case codec::kLz4:
    case codec::kLz4Raw: {
      std::string block(static_cast<size_t>(LZ4_compressBound(static_cast<int>(raw.size()))), '\0');
      const int n = LZ4_compress_default(raw.data(), block.data(), static_cast<int>(raw.size()),
                                         static_cast<int>(block.size()));
      EXPECT_GT(n, 0);
      block.resize(static_cast<size_t>(std::max(n, 0)));
      if (codec == codec::kLz4Raw) return block;
      // Hadoop framing: big-endian raw size and block size, then the block.
      std::string framed;
      for (uint32_t v : {static_cast<uint32_t>(raw.size()), static_cast<uint32_t>(block.size())}) {
        for (int shift = 24; shift >= 0; shift -= 8)
          framed.push_back(static_cast<char>(v >> shift));
      }
      return framed + block;
    }
    default:
      return raw;
  }
}

std::string OneColumnCodec(const Leaf& leaf, const std::string& chunk, int64_t rows,
                           int32_t codec) {
  FileSpec s;
  s.leaves = {leaf};
  s.chunks = {{chunk}};
  s.rows = {rows};
  s.codec = codec;
  return testing::BuildFile(s);
}

// A GZIP page made of two gzip members (4096 + 8 bytes of values): sluice
// used to stop after the first member ("decompressed to 4096 bytes, its
// header says 4104").
TEST(ParquetReaderPages, Issue10GzipPageOfConcatenatedMembers) {
  std::vector<int64_t> values(513);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<int64_t>(i * i) - 1000;
  const std::string plain = testing::Plain<int64_t>(values);
  ASSERT_EQ(plain.size(), 4104u);
  testing::RawPage v1;
  v1.body =
      sluice::testing::GzipOf(plain.substr(0, 4096)) + sluice::testing::GzipOf(plain.substr(4096));
  v1.uncompressed_size = static_cast<int32_t>(plain.size());
  v1.num_values = 513;
  // The same values in a v2 page whose values section is three members.
  testing::RawPage v2 = v1;
  v2.type = page::kDataV2;
  v2.body = sluice::testing::GzipOf(plain.substr(0, 100)) + sluice::testing::GzipOf("") +
            sluice::testing::GzipOf(plain.substr(100));
  for (const testing::RawPage* p : {&v1, &v2}) {
    const std::string file =
        OneColumnCodec(Leaf{"x", ptype::kInt64, 0}, testing::PageBytes(*p), 513, codec::kGzip);
    auto d = ReadFile(file, Schema({{"x", DataType::Int64(), false}}), 100);
    ASSERT_TRUE(d.status.ok()) << d.status.ToString();
    ASSERT_EQ(d.rows.size(), values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      ASSERT_EQ(d.rows[i], std::to_string(i + 1) + ": " + std::to_string(values[i]));
    }
  }
  // Members that hold fewer bytes than the header says are still corrupt.
  testing::RawPage short_page = v1;
  short_page.uncompressed_size = 4112;
  auto d =
      ReadFile(OneColumnCodec(Leaf{"x", ptype::kInt64, 0}, testing::PageBytes(short_page), 513, 2),
               Schema({{"x", DataType::Int64(), false}}));
  EXPECT_EQ(d.status.code(), StatusCode::kDataLoss);
  EXPECT_NE(d.status.message().find("column 'x', row group 0: gzip page decompressed to 4104 "
                                    "bytes, its header says 4112"),
            std::string::npos)
      << d.status.ToString();
}

// A DATA_PAGE_V2 whose values section is empty (every row null) under every
// codec: the levels are never compressed, and zero bytes of values must not
// reach the decompressor (sluice used to fail with "corrupt snappy page").
TEST(ParquetReaderPages, Issue10EmptyValuesSectionOfDataPageV2) {
  const int32_t codecs[] = {codec::kUncompressed, codec::kSnappy, codec::kGzip,
                            codec::kLz4,          codec::kZstd,   codec::kLz4Raw};
  const std::string nulls = testing::DefLevels({0, 0, 0});
  const std::string present = testing::DefLevels({1, 0, 1});
  struct Column {
    const char* name;
    Leaf leaf;
    DataType type;
    std::string values;  // PLAIN values of the second page's two present rows
    std::vector<std::string> want_last;
  };
  const Column columns[] = {
      {"int32",
       Leaf{"x", ptype::kInt32, 1},
       DataType::Int32(),
       testing::Plain<int32_t>({7, -9}),
       {"4: 7", "5: NULL", "6: -9"}},
      {"string",
       Leaf{"x", ptype::kByteArray, 1},
       DataType::String(),
       testing::PlainStrings({"ab", ""}),
       {"4: <ab>", "5: NULL", "6: <>"}},
      {"double",
       Leaf{"x", ptype::kDouble, 1},
       DataType::Float64(),
       testing::Plain<double>({0.5, 2}),
       {"4: 0.5", "5: NULL", "6: 2"}},
  };
  for (int32_t c : codecs) {
    for (const Column& col : columns) {
      for (int32_t enc : {encoding::kPlain, encoding::kRleDictionary}) {
        for (bool is_compressed : {true, false}) {
          SCOPED_TRACE(std::string(CodecName(c)) + " " + col.name + " " +
                       std::string(EncodingName(enc)) +
                       (is_compressed ? " compressed" : " not compressed"));
          std::string chunk;
          if (enc == encoding::kRleDictionary) {
            // An all-null chunk's dictionary is empty too: zero bytes stored.
            testing::RawPage dict;
            dict.type = page::kDictionary;
            chunk += testing::PageBytes(dict);
          }
          testing::RawPage empty;
          empty.type = page::kDataV2;
          empty.body = nulls;
          empty.uncompressed_size = static_cast<int32_t>(nulls.size());
          empty.num_values = 3;
          empty.num_nulls = 3;
          empty.encoding = enc;
          empty.def_levels_bytes = static_cast<int32_t>(nulls.size());
          empty.is_compressed = is_compressed;
          chunk += testing::PageBytes(empty);
          // Then a page with values (PLAIN), compressed as the flag says.
          testing::RawPage full = empty;
          full.body = present + (is_compressed ? CompressAs(c, col.values) : col.values);
          full.uncompressed_size = static_cast<int32_t>(present.size() + col.values.size());
          full.num_nulls = 1;
          full.encoding = encoding::kPlain;
          full.def_levels_bytes = static_cast<int32_t>(present.size());
          chunk += testing::PageBytes(full);
          const std::string file = OneColumnCodec(col.leaf, chunk, 6, c);
          for (int64_t batch : {1, 2, 100}) {
            auto d = ReadFile(file, Schema({{"x", col.type, true}}), batch);
            EXPECT_TRUE(d.status.ok()) << d.status.ToString();
            if (!d.status.ok()) break;  // one message per case, then the next case
            std::vector<std::string> want = {"1: NULL", "2: NULL", "3: NULL"};
            want.insert(want.end(), col.want_last.begin(), col.want_last.end());
            EXPECT_EQ(d.rows, want);
          }
        }
      }
    }
  }
  // An empty values section for rows that are not null is still corrupt.
  testing::RawPage liar;
  liar.type = page::kDataV2;
  liar.body = present;
  liar.uncompressed_size = static_cast<int32_t>(present.size());
  liar.num_values = 3;
  liar.num_nulls = 1;
  liar.def_levels_bytes = static_cast<int32_t>(present.size());
  for (int32_t c : codecs) {
    SCOPED_TRACE(CodecName(c));
    auto d = ReadFile(OneColumnCodec(Leaf{"x", ptype::kInt32, 1}, testing::PageBytes(liar), 3, c),
                      Schema({{"x", DataType::Int32(), true}}));
    EXPECT_EQ(d.status.code(), StatusCode::kDataLoss) << d.status.ToString();
    EXPECT_NE(d.status.message().find("page holds fewer values than its header says"),
              std::string::npos)
        << d.status.ToString();
  }
}

// Logical and converted types sluice does not know read as their physical
// type (or as the converted type, when the logical one alone is unknown);
// known nested types stay refused.
TEST(ParquetReaderPages, Issue10UnknownLogicalTypesReadAsThePhysicalType) {
  auto leaf = [](int32_t physical, int16_t logical_id, std::optional<int32_t> conv) {
    Leaf l{"x", physical, 1};
    l.logical_id = logical_id;
    l.converted = conv;
    return l;
  };
  const std::vector<uint8_t> defs = {1, 0, 1};
  const std::vector<uint8_t> all_present = {1, 1};
  struct Case {
    const char* name;
    Leaf leaf;
    std::string values;  // PLAIN, two present rows
    DataType natural;    // what a schema-less read gives
    std::vector<std::string> want;
  };
  const Case cases[] = {
      {"logical 17 (GEOMETRY) on BYTE_ARRAY",
       leaf(ptype::kByteArray, 17, std::nullopt),
       testing::PlainStrings({"POINT", "\x01\x02"}),
       DataType::String(),
       {"1: <POINT>", "2: NULL", "3: <\x01\x02>"}},
      {"logical 99 on INT32",
       leaf(ptype::kInt32, 99, std::nullopt),
       testing::Plain<int32_t>({-5, 6}),
       DataType::Int32(),
       {"1: -5", "2: NULL", "3: 6"}},
      {"logical 99 on INT64",
       leaf(ptype::kInt64, 99, std::nullopt),
       testing::Plain<int64_t>({int64_t{1} << 40, 0}),
       DataType::Int64(),
       {"1: 1099511627776", "2: NULL", "3: 0"}},
      {"logical 99 on FLOAT",
       leaf(ptype::kFloat, 99, std::nullopt),
       testing::Plain<float>({1.5f, -2}),
       DataType::Float64(),
       {"1: 1.5", "2: NULL", "3: -2"}},
      {"logical 99 on DOUBLE",
       leaf(ptype::kDouble, 99, std::nullopt),
       testing::Plain<double>({0.25, 3}),
       DataType::Float64(),
       {"1: 0.25", "2: NULL", "3: 3"}},
      {"converted 99 on INT64",
       leaf(ptype::kInt64, 0, 99),
       testing::Plain<int64_t>({8, 9}),
       DataType::Int64(),
       {"1: 8", "2: NULL", "3: 9"}},
      {"converted 40 on BYTE_ARRAY",
       leaf(ptype::kByteArray, 0, 40),
       testing::PlainStrings({"x", "yz"}),
       DataType::String(),
       {"1: <x>", "2: NULL", "3: <yz>"}},
      {"unknown logical, known converted DATE",
       leaf(ptype::kInt32, 42, converted::kDate),
       testing::Plain<int32_t>({0, 1}),
       DataType::Date(),
       {"1: 1970-01-01", "2: NULL", "3: 1970-01-02"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string file = OneColumn(c.leaf, {DataPageV1(3, 0, c.values, &defs)}, 3);
    auto d = ReadFile(file, Schema({{"x", c.natural, true}}));
    ASSERT_TRUE(d.status.ok()) << d.status.ToString();
    EXPECT_EQ(d.rows, c.want);
    auto natural = ReadFile(file, Schema());
    ASSERT_TRUE(natural.status.ok()) << natural.status.ToString();
    EXPECT_EQ(natural.rows, c.want);
  }
  // Binary that is not UTF-8 behaves as for plain BYTE_ARRAY: a bad row.
  auto d = ReadFile(OneColumn(leaf(ptype::kByteArray, 17, std::nullopt),
                              {DataPageV1(3, 0, testing::PlainStrings({"ok", "\xff"}), &defs)}, 3),
                    Schema({{"x", DataType::String(), true}}));
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  EXPECT_EQ(d.rows, (std::vector<std::string>{"1: <ok>", "2: NULL"}));
  ASSERT_EQ(d.bad.size(), 1u);
  EXPECT_EQ(d.bad[0].reason, "invalid UTF-8");
  // Statistics of an unknown annotation may use an order sluice does not
  // know: they never prune a row group (a plain INT64 column's do).
  for (int16_t logical_id : {int16_t{0}, int16_t{99}}) {
    FileSpec s;
    s.leaves = {leaf(ptype::kInt64, logical_id, std::nullopt)};
    s.chunks = {{DataPageV1(2, 0, testing::Plain<int64_t>({100, 200}), &all_present)}};
    s.rows = {2};
    s.stats = {{std::make_pair(testing::Plain<int64_t>({100}), testing::Plain<int64_t>({200}))}};
    DecoderOptions o;
    o.schema = Schema({{"x", DataType::Int64(), true}});
    ParquetReadOptions po;
    po.row_group_filters.push_back({"x", std::string("0"), std::string("5")});
    auto pruned = sluice::testing::Drain(
        NewParquetDecoder(NewStringInput(testing::BuildFile(s), "t.parquet"), o, po));
    ASSERT_TRUE(pruned.status.ok()) << pruned.status.ToString();
    EXPECT_EQ(pruned.rows.size(), logical_id == 0 ? 0u : 2u) << "logical " << logical_id;
  }
  // Known nested types are still refused, by logical and by converted type.
  for (const Leaf& nested : {leaf(ptype::kInt32, logical::kList, std::nullopt),
                             leaf(ptype::kInt32, logical::kMap, std::nullopt),
                             leaf(ptype::kInt32, 0, converted::kList)}) {
    auto r =
        ReadFile(OneColumn(nested, {DataPageV1(3, 0, testing::Plain<int32_t>({1, 2}), &defs)}, 3),
                 Schema({{"x", DataType::Int32(), true}}));
    EXPECT_EQ(r.status.code(), StatusCode::kInvalidArgument) << r.status.ToString();
    EXPECT_NE(r.status.message().find("nested type (LIST/MAP) is not supported"), std::string::npos)
        << r.status.ToString();
  }
}

}  // namespace
}  // namespace sluice::parquet
