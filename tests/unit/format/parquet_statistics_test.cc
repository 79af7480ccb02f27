// Column chunk statistics as NewParquetEncoder writes them into the footer,
// read back with the independent test reader, on every path that computes
// them: PLAIN values, a dictionary dropped by the probe, and a dictionary kept.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>

#include "format/format.h"
#include "parquet_test_reader.h"

namespace sluice {
namespace {

using parquet::testing::FromLE;
using parquet::testing::ParseFooter;
using parquet::testing::TValue;

// Statistics are computed on three paths: PLAIN values, a dictionary dropped
// by the probe (few values), and a dictionary kept (the values repeated).
struct StatsMode {
  const char* name;
  bool dictionary;
  int repeat;
};
const StatsMode kStatsModes[] = {
    {"plain", false, 1}, {"dictionary dropped", true, 1}, {"dictionary kept", true, 300}};

// Statistics of one column chunk, from a one-column file.
TValue StatsOf(const Field& field, const std::function<void(Column*)>& fill,
               const StatsMode& mode = kStatsModes[0]) {
  Schema schema({field});
  RecordBatch b = RecordBatch::Empty(schema);
  for (int i = 0; i < mode.repeat; ++i) fill(&b.columns[0]);
  std::string file;
  ParquetWriterOptions o;
  o.dictionary = mode.dictionary;
  auto made = NewParquetEncoder(NewStringOutput(&file), schema, o);
  EXPECT_TRUE(made.ok()) << made.status().ToString();
  if (!made.ok()) return TValue();
  auto& enc = *made;
  EXPECT_TRUE(enc->Write(b).ok());
  EXPECT_TRUE(enc->Finish().ok());
  TValue md = ParseFooter(file);
  return md.At(4).list.at(0).At(1).list.at(0).At(3).At(12);
}

TEST(ParquetStatisticsTest, IntegerStatisticsAreSignedPlainValues) {
  for (const StatsMode& m : kStatsModes) {
    SCOPED_TRACE(m.name);
    TValue st = StatsOf(
        {"x", DataType::Int64(), true},
        [](Column* c) {
          c->Append<int64_t>(5);
          c->AppendNull();
          c->Append<int64_t>(std::numeric_limits<int64_t>::min());
          c->Append<int64_t>(-1);
          c->AppendNull();
        },
        m);
    EXPECT_EQ(st.At(3).i, 2 * m.repeat);
    EXPECT_EQ(FromLE<int64_t>(st.At(6).s), std::numeric_limits<int64_t>::min());
    EXPECT_EQ(FromLE<int64_t>(st.At(5).s), 5);
    // The deprecated fields agree for signed integer order.
    EXPECT_EQ(st.At(2).s, st.At(6).s);
    EXPECT_EQ(st.At(1).s, st.At(5).s);

    TValue d = StatsOf(
        {"d", DataType::Date(), false},
        [](Column* c) {
          c->Append<int32_t>(-719162);
          c->Append<int32_t>(0);
        },
        m);
    EXPECT_EQ(FromLE<int32_t>(d.At(6).s), -719162);
    EXPECT_EQ(FromLE<int32_t>(d.At(5).s), 0);

    // Decimals of up to 9 digits are INT32 values.
    TValue dec = StatsOf(
        {"p", DataType::Decimal(9, 2), true},
        [](Column* c) {
          c->Append<int64_t>(-999999999);
          c->Append<int64_t>(12345);
        },
        m);
    EXPECT_EQ(FromLE<int32_t>(dec.At(6).s), -999999999);
    EXPECT_EQ(FromLE<int32_t>(dec.At(5).s), 12345);
  }
}

TEST(ParquetStatisticsTest, StringStatisticsCompareUnsignedBytes) {
  for (const StatsMode& m : kStatsModes) {
    SCOPED_TRACE(m.name);
    TValue st = StatsOf(
        {"s", DataType::String(), true},
        [](Column* c) {
          c->AppendString("b");
          c->AppendString("\xc3\xa9");  // é: first byte >= 0x80 sorts after ASCII
          c->AppendString("");
          c->AppendString("ab");
        },
        m);
    EXPECT_EQ(st.At(6).s, "");
    EXPECT_EQ(st.At(5).s, "\xc3\xa9");
    // No deprecated min/max: their legacy (signed) order differs.
    EXPECT_FALSE(st.Has(1));
    EXPECT_FALSE(st.Has(2));
  }
}

TEST(ParquetStatisticsTest, LongStringsLeaveOutMinMax) {
  for (const StatsMode& m : kStatsModes) {
    SCOPED_TRACE(m.name);
    TValue st = StatsOf(
        {"s", DataType::String(), true},
        [](Column* c) {
          c->AppendString("a");
          c->AppendString(std::string(5000, 'z'));
        },
        m);
    EXPECT_EQ(st.At(3).i, 0);
    EXPECT_FALSE(st.Has(5));
    EXPECT_FALSE(st.Has(6));
  }
}

TEST(ParquetStatisticsTest, DoubleStatistics) {
  for (const StatsMode& m : kStatsModes) {
    SCOPED_TRACE(m.name);
    TValue nan = StatsOf(
        {"f", DataType::Float64(), true},
        [](Column* c) {
          c->Append<double>(1.0);
          c->Append<double>(std::nan(""));
        },
        m);
    EXPECT_FALSE(nan.Has(5));
    EXPECT_FALSE(nan.Has(6));
    EXPECT_EQ(nan.At(3).i, 0);

    TValue zeros = StatsOf(
        {"f", DataType::Float64(), true},
        [](Column* c) {
          c->Append<double>(0.0);
          c->Append<double>(-0.0);
        },
        m);
    double mn = FromLE<double>(zeros.At(6).s);
    double mx = FromLE<double>(zeros.At(5).s);
    EXPECT_TRUE(mn == 0 && std::signbit(mn));
    EXPECT_TRUE(mx == 0 && !std::signbit(mx));

    TValue inf = StatsOf(
        {"f", DataType::Float64(), true},
        [](Column* c) {
          c->Append<double>(-std::numeric_limits<double>::infinity());
          c->Append<double>(2.5);
        },
        m);
    EXPECT_EQ(FromLE<double>(inf.At(6).s), -std::numeric_limits<double>::infinity());
    EXPECT_EQ(FromLE<double>(inf.At(5).s), 2.5);
  }
}

TEST(ParquetStatisticsTest, BoolAndAllNullStatistics) {
  for (const StatsMode& m : kStatsModes) {
    SCOPED_TRACE(m.name);
    TValue b = StatsOf(
        {"b", DataType::Bool(), true},
        [](Column* c) {
          c->Append<uint8_t>(1);
          c->Append<uint8_t>(1);
        },
        m);
    EXPECT_EQ(b.At(6).s, std::string(1, '\1'));
    EXPECT_EQ(b.At(5).s, std::string(1, '\1'));

    TValue nulls = StatsOf(
        {"x", DataType::Int32(), true},
        [](Column* c) {
          for (int i = 0; i < 100; ++i) c->AppendNull();
        },
        m);
    EXPECT_EQ(nulls.At(3).i, 100 * m.repeat);
    EXPECT_FALSE(nulls.Has(5));
    EXPECT_FALSE(nulls.Has(6));
  }
}

}  // namespace
}  // namespace sluice
