#include "core/value_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace sluice {
namespace {

TEST(ValueTextTest, ParseBool) {
  struct Case {
    const char* in;
    bool ok;
    bool want;
  };
  const Case cases[] = {
      {"true", true, true},     {"TRUE", true, true},    {"True", true, true},
      {"t", true, true},        {"T", true, true},       {"yes", true, true},
      {"Y", true, true},        {"1", true, true},       {"false", true, false},
      {"FaLsE", true, false},   {"f", true, false},      {"no", true, false},
      {"N", true, false},       {"0", true, false},      {"", false, false},
      {"tru", false, false},    {"truee", false, false}, {" true", false, false},
      {"2", false, false},      {"10", false, false},    {"yess", false, false},
      {"falsey", false, false},
  };
  for (const auto& c : cases) {
    bool v = !c.want;
    EXPECT_EQ(ParseBool(c.in, &v), c.ok) << c.in;
    if (c.ok) {
      EXPECT_EQ(v, c.want) << c.in;
    }
  }
}

TEST(ValueTextTest, ParseInt32) {
  struct Case {
    const char* in;
    bool ok;
    int32_t want;
  };
  const Case cases[] = {
      {"0", true, 0},
      {"42", true, 42},
      {"-42", true, -42},
      {"+7", true, 7},
      {"007", true, 7},
      {"2147483647", true, std::numeric_limits<int32_t>::max()},
      {"-2147483648", true, std::numeric_limits<int32_t>::min()},
      {"2147483648", false, 0},
      {"-2147483649", false, 0},
      {"99999999999999999999", false, 0},
      {"", false, 0},
      {"-", false, 0},
      {"+", false, 0},
      {" 1", false, 0},
      {"1 ", false, 0},
      {"1.0", false, 0},
      {"1e3", false, 0},
      {"abc", false, 0},
      {"--1", false, 0},
  };
  for (const auto& c : cases) {
    int32_t v = 12345;
    EXPECT_EQ(ParseInt32(c.in, &v), c.ok) << c.in;
    if (c.ok) {
      EXPECT_EQ(v, c.want) << c.in;
    }
  }
}

TEST(ValueTextTest, ParseInt64) {
  struct Case {
    const char* in;
    bool ok;
    int64_t want;
  };
  const Case cases[] = {
      {"9223372036854775807", true, std::numeric_limits<int64_t>::max()},
      {"-9223372036854775808", true, std::numeric_limits<int64_t>::min()},
      {"9223372036854775808", false, 0},
      {"-9223372036854775809", false, 0},
      {"18446744073709551616", false, 0},
      {"-0", true, 0},
      {"123456789012", true, 123456789012LL},
      {"12a", false, 0},
  };
  for (const auto& c : cases) {
    int64_t v = 12345;
    EXPECT_EQ(ParseInt64(c.in, &v), c.ok) << c.in;
    if (c.ok) {
      EXPECT_EQ(v, c.want) << c.in;
    }
  }
}

TEST(ValueTextTest, ParseFloat64) {
  struct Case {
    const char* in;
    bool ok;
    double want;
  };
  const Case cases[] = {
      {"0", true, 0.0},
      {"1.5", true, 1.5},
      {"-2.25", true, -2.25},
      {"+3", true, 3.0},
      {"1e3", true, 1000.0},
      {"1E-2", true, 0.01},
      {"1.7976931348623157e308", true, std::numeric_limits<double>::max()},
      {"4.9e-324", true, std::numeric_limits<double>::denorm_min()},
      {"inf", true, std::numeric_limits<double>::infinity()},
      {"-Infinity", true, -std::numeric_limits<double>::infinity()},
      {"", false, 0},
      {"+", false, 0},
      {"-", false, 0},
      {"+-1", false, 0},
      {"1.5x", false, 0},
      {" 1.5", false, 0},
      {"abc", false, 0},
      {"1e", false, 0},
  };
  for (const auto& c : cases) {
    double v = 99;
    EXPECT_EQ(ParseFloat64(c.in, &v), c.ok) << c.in;
    if (c.ok) {
      EXPECT_EQ(v, c.want) << c.in;
    }
  }
  double v = 0;
  ASSERT_TRUE(ParseFloat64("nan", &v));
  EXPECT_TRUE(std::isnan(v));
  ASSERT_TRUE(ParseFloat64("NaN", &v));
  EXPECT_TRUE(std::isnan(v));
}

TEST(ValueTextTest, ParseDecimal) {
  struct Case {
    const char* in;
    int p, s;
    bool ok;
    int64_t want;
  };
  const Case cases[] = {
      {"123.45", 5, 2, true, 12345},
      {"-123.45", 5, 2, true, -12345},
      {"+1.5", 5, 2, true, 150},
      {"3", 5, 2, true, 300},
      {"0.07", 5, 2, true, 7},
      {"-0.07", 5, 2, true, -7},
      {".5", 5, 2, true, 50},
      {"5.", 5, 2, true, 500},
      {"1.230", 5, 2, true, 123},  // extra fraction digit is zero
      {"1.234", 5, 2, false, 0},   // extra fraction digit is not zero
      {"1234.5", 5, 2, false, 0},  // four integer digits do not fit decimal(5,2)
      {"999.99", 5, 2, true, 99999},
      {"-999.99", 5, 2, true, -99999},
      {"0001.50", 5, 2, true, 150},  // leading zeros are not significant
      {"0", 1, 0, true, 0},
      {"9", 1, 0, true, 9},
      {"10", 1, 0, false, 0},
      {"0.5", 1, 1, true, 5},
      {"1.5", 1, 1, false, 0},
      {"999999999999999999", 18, 0, true, 999999999999999999LL},
      {"-999999999999999999", 18, 0, true, -999999999999999999LL},
      {"1000000000000000000", 18, 0, false, 0},
      {"0.999999999999999999", 18, 18, true, 999999999999999999LL},
      {"99999999999999999999999", 18, 0, false, 0},
      {"1.5e2", 5, 2, true, 15000},
      {"15E-1", 5, 2, true, 150},
      {"1e-3", 5, 2, false, 0},
      {"0e999999999", 5, 2, true, 0},
      {"1e999999999", 18, 2, false, 0},
      {"", 5, 2, false, 0},
      {".", 5, 2, false, 0},
      {"-", 5, 2, false, 0},
      {"1.2.3", 5, 2, false, 0},
      {"1,5", 5, 2, false, 0},
      {" 1.5", 5, 2, false, 0},
      {"1e", 5, 2, false, 0},
      {"abc", 5, 2, false, 0},
      {"1", 19, 0, false, 0},  // precision beyond 18 is not supported
      {"1", 5, 6, false, 0},   // scale beyond precision
  };
  for (const auto& c : cases) {
    int64_t v = 424242;
    EXPECT_EQ(ParseDecimal(c.in, c.p, c.s, &v), c.ok)
        << c.in << " as decimal(" << c.p << "," << c.s << ")";
    if (c.ok) {
      EXPECT_EQ(v, c.want) << c.in;
    }
  }
}

TEST(ValueTextTest, CivilRoundTrip) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(0, 1, 1), -719528);
  // Every day of four centuries around the epoch maps back to itself.
  for (int32_t d = -146097 * 2; d <= 146097 * 2; ++d) {
    int y;
    unsigned m, dd;
    CivilFromDays(d, &y, &m, &dd);
    ASSERT_EQ(DaysFromCivil(y, m, dd), d);
  }
}

TEST(ValueTextTest, ParseDate) {
  struct Case {
    const char* in;
    bool ok;
    int32_t want;
  };
  const Case cases[] = {
      {"1970-01-01", true, 0},
      {"2000-02-29", true, 11016},
      {"1969-12-31", true, -1},
      {"2024/03/15", true, DaysFromCivil(2024, 3, 15)},
      {"0001-01-01", true, DaysFromCivil(1, 1, 1)},
      {"9999-12-31", true, DaysFromCivil(9999, 12, 31)},
      {"1900-02-29", false, 0},
      {"2023-02-29", false, 0},
      {"2024-13-01", false, 0},
      {"2024-00-10", false, 0},
      {"2024-04-31", false, 0},
      {"2024-01-00", false, 0},
      {"2024-1-01", false, 0},
      {"2024-01-01 ", false, 0},
      {"2024/01-01", false, 0},
      {"2024-01-01T00:00", false, 0},
      {"", false, 0},
      {"abcd-ef-gh", false, 0},
  };
  for (const auto& c : cases) {
    int32_t v = 7;
    EXPECT_EQ(ParseDate(c.in, &v), c.ok) << c.in;
    if (c.ok) {
      EXPECT_EQ(v, c.want) << c.in;
    }
  }
}

TEST(ValueTextTest, ParseTimestamp) {
  const int64_t day = 86400LL * 1000000;
  const int64_t base = DaysFromCivil(2024, 3, 15) * day;
  const int64_t hms = (10 * 3600 + 20 * 60 + 30) * 1000000LL;
  struct Case {
    const char* in;
    bool ok;
    int64_t want;
  };
  const Case cases[] = {
      {"2024-03-15", true, base},
      {"2024-03-15 10:20", true, base + (10 * 3600 + 20 * 60) * 1000000LL},
      {"2024-03-15T10:20:30", true, base + hms},
      {"2024-03-15t10:20:30", true, base + hms},
      {"2024/03/15 10:20:30", true, base + hms},
      {"2024-03-15T10:20:30Z", true, base + hms},
      {"2024-03-15T10:20:30.5", true, base + hms + 500000},
      {"2024-03-15T10:20:30.123456", true, base + hms + 123456},
      {"2024-03-15T10:20:30.123456789", true, base + hms + 123456},
      {"2024-03-15T10:20:30.1234567891", false, 0},
      {"2024-03-15T10:20:30.", false, 0},
      {"2024-03-15T10:20:30+02", true, base + hms - 2 * 3600 * 1000000LL},
      {"2024-03-15T10:20:30+0230", true, base + hms - (2 * 3600 + 1800) * 1000000LL},
      {"2024-03-15T10:20:30-02:30", true, base + hms + (2 * 3600 + 1800) * 1000000LL},
      {"2024-03-15 10:20:30 +01:00", true, base + hms - 3600 * 1000000LL},
      {"2024-03-15T10:20:30.25Z", true, base + hms + 250000},
      {"1969-12-31T23:59:59.999999Z", true, -1},
      {"1970-01-01T00:00:00Z", true, 0},
      {"2024-03-15T24:00:00", false, 0},
      {"2024-03-15T10:60:00", false, 0},
      {"2024-03-15T10:20:60", false, 0},
      {"2024-03-15T10", false, 0},
      {"2024-03-15T10:2", false, 0},
      {"2024-03-15T", false, 0},
      {"2024-03-15 ", false, 0},
      {"2024-03-15T10:20:30ZZ", false, 0},
      {"2024-03-15T10:20:30+2", false, 0},
      {"2024-03-15T10:20:30+02:3", false, 0},
      {"2024-03-15T10:20:30+24:00", false, 0},
      {"2024-03-15T10:20:30 ", false, 0},
      {"2024-02-30T00:00:00", false, 0},
      {"", false, 0},
  };
  for (const auto& c : cases) {
    int64_t v = 7;
    EXPECT_EQ(ParseTimestamp(c.in, &v), c.ok) << c.in;
    if (c.ok) {
      EXPECT_EQ(v, c.want) << c.in;
    }
  }
}

TEST(ValueTextTest, FormatDecimal) {
  struct Case {
    int64_t v;
    int scale;
    const char* want;
  };
  const Case cases[] = {
      {12345, 2, "123.45"},
      {-12345, 2, "-123.45"},
      {7, 2, "0.07"},
      {-7, 2, "-0.07"},
      {0, 2, "0.00"},
      {0, 0, "0"},
      {42, 0, "42"},
      {999999999999999999LL, 18, "0.999999999999999999"},
      {std::numeric_limits<int64_t>::min(), 0, "-9223372036854775808"},
      {std::numeric_limits<int64_t>::min(), 4, "-922337203685477.5808"},
  };
  for (const auto& c : cases) EXPECT_EQ(FormatDecimal(c.v, c.scale), c.want);
}

TEST(ValueTextTest, FormatDateAndTimestamp) {
  EXPECT_EQ(FormatDate(0), "1970-01-01");
  EXPECT_EQ(FormatDate(-1), "1969-12-31");
  EXPECT_EQ(FormatDate(11016), "2000-02-29");
  EXPECT_EQ(FormatDate(DaysFromCivil(1, 1, 1)), "0001-01-01");
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999999Z");
  EXPECT_EQ(FormatTimestamp(1500000), "1970-01-01T00:00:01.500000Z");
  // Extremes of int64 microseconds still format without crashing.
  EXPECT_FALSE(FormatTimestamp(std::numeric_limits<int64_t>::min()).empty());
  EXPECT_FALSE(FormatTimestamp(std::numeric_limits<int64_t>::max()).empty());
}

TEST(ValueTextTest, TextRoundTrips) {
  for (const char* s : {"2024-03-15T10:20:30Z", "1999-12-31T23:59:59.000001Z",
                        "1900-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z"}) {
    int64_t us;
    ASSERT_TRUE(ParseTimestamp(s, &us)) << s;
    EXPECT_EQ(FormatTimestamp(us), s);
  }
  for (const char* s : {"123.45", "-0.01", "0.00", "99999.99"}) {
    int64_t v;
    ASSERT_TRUE(ParseDecimal(s, 7, 2, &v)) << s;
    EXPECT_EQ(FormatDecimal(v, 2), s);
  }
  for (int32_t d : {-700000, -1, 0, 1, 19000, 2932896}) {
    int32_t back;
    ASSERT_TRUE(ParseDate(FormatDate(d), &back)) << d;
    EXPECT_EQ(back, d);
  }
}

TEST(ValueTextTest, EscapeNameForMessages) {
  EXPECT_EQ(EscapeName("amount"), "amount");
  EXPECT_EQ(EscapeName("caf\xc3\xa9 \xe2\x82\xac"),
            "caf\xc3\xa9 \xe2\x82\xac");  // valid UTF-8 stays
  EXPECT_EQ(EscapeName(std::string("a\0b", 3)), "a\\x00b");
  EXPECT_EQ(EscapeName("t\tn\nr\r\x1b\x7f"), "t\\tn\\nr\\r\\x1b\\x7f");
  EXPECT_EQ(EscapeName("\xff\xc3"), "\\xff\\xc3");  // invalid and cut-off sequences
  EXPECT_EQ(EscapeName("\xc0\xaf\xed\xa0\x80"),
            "\\xc0\\xaf\\xed\\xa0\\x80");  // overlong, surrogate
  EXPECT_EQ(EscapeName(std::string(300, 'x')), std::string(200, 'x') + "...");
}

}  // namespace
}  // namespace sluice
