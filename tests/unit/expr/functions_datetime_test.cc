#include <gtest/gtest.h>

#include "expr_test_util.h"

namespace sluice::expr {
namespace {

using testing::BindError;
using testing::Cells;
using testing::Eval;
using testing::EvalConst;
using testing::MakeBatch;
using testing::One;
using testing::TypeOf;

TEST(DateTimeFunctions, DateTruncOnDates) {
  EXPECT_EQ(One("date_trunc('week', DATE '2024-01-03')"), "2024-01-01");
  EXPECT_EQ(One("date_trunc('week', DATE '2024-01-01')"), "2024-01-01");
  EXPECT_EQ(One("date_trunc('week', DATE '2024-01-07')"), "2024-01-01");
  EXPECT_EQ(One("date_trunc('week', DATE '1970-01-01')"), "1969-12-29");
  EXPECT_EQ(One("date_trunc('month', DATE '2024-02-29')"), "2024-02-01");
  EXPECT_EQ(One("date_trunc('quarter', DATE '2024-05-17')"), "2024-04-01");
  EXPECT_EQ(One("date_trunc('quarter', DATE '2024-12-31')"), "2024-10-01");
  EXPECT_EQ(One("date_trunc('year', DATE '2024-05-17')"), "2024-01-01");
  EXPECT_EQ(One("date_trunc('day', DATE '2024-05-17')"), "2024-05-17");
  EXPECT_EQ(One("date_trunc('YEAR', DATE '1969-05-17')"), "1969-01-01");
  EXPECT_EQ(TypeOf("date_trunc('month', DATE '2024-02-29')"), "date");
  EXPECT_EQ(One("date_trunc('month', NULL)"), "NULL");
}

TEST(DateTimeFunctions, DateTruncOnTimestamps) {
  const std::string ts = "TIMESTAMP '2024-05-17 10:11:12.345678'";
  EXPECT_EQ(One("date_trunc('year', " + ts + ")"), "2024-01-01T00:00:00Z");
  EXPECT_EQ(One("date_trunc('quarter', " + ts + ")"), "2024-04-01T00:00:00Z");
  EXPECT_EQ(One("date_trunc('month', " + ts + ")"), "2024-05-01T00:00:00Z");
  EXPECT_EQ(One("date_trunc('week', " + ts + ")"), "2024-05-13T00:00:00Z");
  EXPECT_EQ(One("date_trunc('day', " + ts + ")"), "2024-05-17T00:00:00Z");
  EXPECT_EQ(One("date_trunc('hour', " + ts + ")"), "2024-05-17T10:00:00Z");
  EXPECT_EQ(One("date_trunc('minute', " + ts + ")"), "2024-05-17T10:11:00Z");
  EXPECT_EQ(One("date_trunc('second', " + ts + ")"), "2024-05-17T10:11:12Z");
  EXPECT_EQ(TypeOf("date_trunc('second', " + ts + ")"), "timestamp");
  // Before the epoch the time rounds down, not toward zero.
  EXPECT_EQ(One("date_trunc('hour', TIMESTAMP '1969-12-31 23:59:59')"), "1969-12-31T23:00:00Z");
  EXPECT_EQ(One("date_trunc('day', TIMESTAMP '1969-12-31 23:59:59')"), "1969-12-31T00:00:00Z");
  // A string literal is read as a timestamp.
  EXPECT_EQ(One("date_trunc('day', '2024-05-17 10:00:00')"), "2024-05-17T00:00:00Z");
}

TEST(DateTimeFunctions, DateTruncBindErrors) {
  EXPECT_EQ(BindError("date_trunc('hour', DATE '2024-01-01')"),
            "date_trunc(): argument 2: cannot truncate a date to a time of day; cast it to "
            "timestamp (date_trunc(part, date|timestamp))");
  EXPECT_EQ(BindError("date_trunc('fortnight', DATE '2024-01-01')"),
            "date_trunc(): argument 1: unknown date part 'fortnight'; parts: year, quarter, "
            "month, week, day, hour, minute, second (date_trunc(part, date|timestamp))");
  EXPECT_EQ(BindError("date_trunc('mnth', DATE '2024-01-01')").substr(0, 79),
            "date_trunc(): argument 1: unknown date part 'mnth' (did you mean 'month'?); par");
  EXPECT_EQ(BindError("date_trunc('day', 5)"),
            "date_trunc(): argument 2: expected a date or timestamp, got int32 "
            "(date_trunc(part, date|timestamp))");
  EXPECT_EQ(BindError("date_trunc('day')"),
            "date_trunc() takes 2 arguments, got 1 (date_trunc(part, date|timestamp))");
  EXPECT_EQ(BindError("date_trunc('day', 'yesterday')").substr(0, 70),
            "date_trunc(): argument 2: cannot convert 'yesterday' to timestamp (dat");
  Schema s({{"p", DataType::String(), true}, {"d", DataType::Date(), true}});
  RecordBatch b = MakeBatch(s, {{"day", "2024-01-01"}});
  auto r = Eval("date_trunc(p, d)", b);
  ASSERT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("the date part must be a constant string, one of: year, "
                                    "quarter, month, week, day, hour, minute, second"),
            std::string::npos)
      << r.status.message();
}

TEST(DateTimeFunctions, DateTruncOverColumns) {
  Schema s({{"d", DataType::Date(), true}, {"t", DataType::Timestamp(), true}});
  RecordBatch b = MakeBatch(s, {{"2024-01-03", "2024-01-03T05:06:07Z"},
                                {"NULL", "NULL"},
                                {"2023-11-15", "2023-11-15T23:59:59.999999Z"}});
  EXPECT_EQ(Eval("date_trunc('month', d)", b).cells, (Cells{"2024-01-01", "NULL", "2023-11-01"}));
  Sel sel = {0, 2};
  EXPECT_EQ(Eval("date_trunc('minute', t)", b, &sel).cells,
            (Cells{"2024-01-03T05:06:00Z", "2023-11-15T23:59:00Z"}));
}

TEST(DateTimeFunctions, DatePart) {
  EXPECT_EQ(One("date_part('year', DATE '2024-02-29')"), "2024");
  EXPECT_EQ(One("date_part('quarter', DATE '2024-02-29')"), "1");
  EXPECT_EQ(One("date_part('quarter', DATE '2024-10-01')"), "4");
  EXPECT_EQ(One("date_part('month', DATE '2024-02-29')"), "2");
  EXPECT_EQ(One("date_part('day', DATE '2024-02-29')"), "29");
  EXPECT_EQ(One("date_part('dow', DATE '2024-01-07')"), "0");  // Sunday
  EXPECT_EQ(One("date_part('dayofweek', DATE '2024-01-06')"), "6");
  EXPECT_EQ(One("date_part('isodow', DATE '2024-01-07')"), "7");
  EXPECT_EQ(One("date_part('isodow', DATE '2024-01-01')"), "1");
  EXPECT_EQ(One("date_part('doy', DATE '2024-12-31')"), "366");
  EXPECT_EQ(One("date_part('dayofyear', DATE '2023-12-31')"), "365");
  EXPECT_EQ(One("date_part('week', DATE '2024-01-01')"), "1");
  EXPECT_EQ(One("date_part('week', DATE '2021-01-03')"), "53");  // belongs to 2020-W53
  EXPECT_EQ(One("date_part('week', DATE '2024-12-30')"), "1");   // 2025-W01
  EXPECT_EQ(One("date_part('week', DATE '2024-06-15')"), "24");
  EXPECT_EQ(One("date_part('epoch', DATE '1970-01-02')"), "86400");
  EXPECT_EQ(One("date_part('dow', DATE '1969-12-28')"), "0");
  const std::string ts = "TIMESTAMP '2024-05-17 10:11:12.345678'";
  EXPECT_EQ(One("date_part('hour', " + ts + ")"), "10");
  EXPECT_EQ(One("date_part('minute', " + ts + ")"), "11");
  EXPECT_EQ(One("date_part('second', " + ts + ")"), "12");
  EXPECT_EQ(One("date_part('millisecond', " + ts + ")"), "12345");
  EXPECT_EQ(One("date_part('microsecond', " + ts + ")"), "12345678");
  EXPECT_EQ(One("date_part('day', " + ts + ")"), "17");
  EXPECT_EQ(One("date_part('epoch', TIMESTAMP '1970-01-02 00:00:01')"), "86401");
  EXPECT_EQ(One("date_part('epoch', TIMESTAMP '1969-12-31 23:59:59.5')"), "-1");
  EXPECT_EQ(One("date_part('hour', TIMESTAMP '1969-12-31 23:59:59')"), "23");
  EXPECT_EQ(TypeOf("date_part('year', DATE '2024-02-29')"), "int64");
  EXPECT_EQ(One("date_part('year', NULL)"), "NULL");
}

TEST(DateTimeFunctions, Extract) {
  EXPECT_EQ(One("EXTRACT(year FROM DATE '2024-03-05')"), "2024");
  EXPECT_EQ(One("EXTRACT(HOUR FROM TIMESTAMP '2024-03-05 07:08:09')"), "7");
  EXPECT_EQ(One("extract(isodow from DATE '2024-03-10')"), "7");
  EXPECT_EQ(BindError("EXTRACT(hour FROM DATE '2024-03-05')").substr(0, 64),
            "date_part(): argument 2: a date has no time of day; cast it to t");
  EXPECT_EQ(BindError("EXTRACT(century FROM DATE '2024-03-05')").substr(0, 62),
            "date_part(): argument 1: unknown date part 'century'; parts: y");
}

TEST(DateTimeFunctions, DatePartOverColumns) {
  Schema s({{"t", DataType::Timestamp(), true}});
  RecordBatch b = MakeBatch(
      s, {{"2024-01-03T05:06:07Z"}, {"NULL"}, {"2023-11-15T23:59:59Z"}, {"2020-12-31T00:00:00Z"}});
  EXPECT_EQ(Eval("date_part('hour', t)", b).cells, (Cells{"5", "NULL", "23", "0"}));
  Sel sel = {1, 3};
  EXPECT_EQ(Eval("date_part('week', t)", b, &sel).cells, (Cells{"NULL", "53"}));
}

TEST(DateTimeFunctions, DateDiff) {
  EXPECT_EQ(One("date_diff('year', DATE '2023-12-31', DATE '2024-01-01')"), "1");
  EXPECT_EQ(One("date_diff('year', DATE '2024-01-01', DATE '2024-12-31')"), "0");
  EXPECT_EQ(One("date_diff('quarter', DATE '2024-03-31', DATE '2024-04-01')"), "1");
  EXPECT_EQ(One("date_diff('month', DATE '2024-01-31', DATE '2024-02-01')"), "1");
  EXPECT_EQ(One("date_diff('month', DATE '2023-11-15', DATE '2024-02-14')"), "3");
  EXPECT_EQ(One("date_diff('week', DATE '2024-01-07', DATE '2024-01-08')"), "1");
  EXPECT_EQ(One("date_diff('week', DATE '2024-01-01', DATE '2024-01-07')"), "0");
  EXPECT_EQ(One("date_diff('week', DATE '1969-12-28', DATE '1969-12-29')"), "1");
  EXPECT_EQ(One("date_diff('day', DATE '2024-01-10', DATE '2024-01-01')"), "-9");
  EXPECT_EQ(One("date_diff('day', TIMESTAMP '2024-01-01 23:59:59', TIMESTAMP '2024-01-02 "
                "00:00:00')"),
            "1");
  EXPECT_EQ(One("date_diff('hour', TIMESTAMP '2024-01-01 10:59:00', TIMESTAMP '2024-01-01 "
                "11:00:00')"),
            "1");
  EXPECT_EQ(One("date_diff('hour', DATE '2024-01-01', TIMESTAMP '2024-01-01 05:30:00')"), "5");
  EXPECT_EQ(One("date_diff('minute', TIMESTAMP '1969-12-31 23:59:59', TIMESTAMP '1970-01-01 "
                "00:00:00')"),
            "1");
  EXPECT_EQ(One("date_diff('second', TIMESTAMP '2024-01-01 00:00:00.9', TIMESTAMP '2024-01-01 "
                "00:00:01.1')"),
            "1");
  EXPECT_EQ(One("date_diff('millisecond', TIMESTAMP '2024-01-01 00:00:00', TIMESTAMP "
                "'2024-01-01 00:00:01.5')"),
            "1500");
  EXPECT_EQ(One("date_diff('day', NULL, DATE '2024-01-01')"), "NULL");
  EXPECT_EQ(BindError("date_diff('dow', DATE '2024-01-01', DATE '2024-01-01')").substr(0, 57),
            "date_diff(): argument 1: unknown date part 'dow'; parts: ");
  EXPECT_EQ(BindError("date_diff('day', DATE '2024-01-01')"),
            "date_diff() takes 3 arguments, got 2 (date_diff(part, start, end))");
  Schema s({{"a", DataType::Date(), true}, {"b", DataType::Date(), true}});
  RecordBatch b = MakeBatch(
      s, {{"2024-01-01", "2024-03-01"}, {"2024-01-01", "NULL"}, {"2020-02-29", "2021-02-28"}});
  EXPECT_EQ(Eval("date_diff('month', a, b)", b).cells, (Cells{"2", "NULL", "12"}));
  Sel sel = {2};
  EXPECT_EQ(Eval("date_diff('day', a, b)", b, &sel).cells, (Cells{"365"}));
}

TEST(DateTimeFunctions, MakeDate) {
  EXPECT_EQ(One("make_date(2024, 2, 29)"), "2024-02-29");
  EXPECT_EQ(TypeOf("make_date(2024, 2, 29)"), "date");
  EXPECT_EQ(One("make_date(2023, 2, 29)"),
            "ERROR: invalid date: year 2023, month 2, day 29 in 'make_date(2023, 2, 29)'");
  EXPECT_EQ(One("make_date(2024, 13, 1)").substr(0, 45),
            "ERROR: invalid date: year 2024, month 13, day");
  EXPECT_EQ(One("make_date(0, 1, 1)").substr(0, 27), "ERROR: invalid date: year 0");
  EXPECT_EQ(One("make_date(2024, NULL, 1)"), "NULL");
  EXPECT_EQ(BindError("make_date('2024', 1, 1)"),
            "make_date(): argument 1: expected an integer, got string (make_date(year, month, "
            "day))");
  Schema s({{"y", DataType::Int32(), true}, {"m", DataType::Int64(), true}});
  RecordBatch b = MakeBatch(s, {{"2024", "1"}, {"NULL", "2"}, {"2024", "0"}, {"1999", "12"}});
  auto r = Eval("make_date(y, m, 31)", b);
  ASSERT_EQ(r.cells.size(), 4u);
  EXPECT_EQ(r.cells[0], "2024-01-31");
  EXPECT_EQ(r.cells[1], "NULL");
  EXPECT_EQ(r.cells[2].substr(0, 20), "ERROR: invalid date:");
  EXPECT_EQ(r.cells[3], "1999-12-31");
}

TEST(DateTimeFunctions, ToTimestampWithFormat) {
  EXPECT_EQ(One("to_timestamp('2024-01-05 13:45:30', '%Y-%m-%d %H:%M:%S')"),
            "2024-01-05T13:45:30Z");
  EXPECT_EQ(One("to_timestamp('05/01/2024', '%d/%m/%Y')"), "2024-01-05T00:00:00Z");
  EXPECT_EQ(One("to_timestamp('5/1/2024', '%d/%m/%Y')"), "2024-01-05T00:00:00Z");
  EXPECT_EQ(One("to_timestamp('20240105', '%Y%m%d')"), "2024-01-05T00:00:00Z");
  EXPECT_EQ(One("to_timestamp('2024-01-05 13:45:30.25', '%Y-%m-%d %H:%M:%S.%f')"),
            "2024-01-05T13:45:30.250000Z");
  EXPECT_EQ(One("to_timestamp('2024-01-05 13:45:30.123456', '%Y-%m-%d %H:%M:%S.%f')"),
            "2024-01-05T13:45:30.123456Z");
  EXPECT_EQ(One("to_timestamp('2024-01-05 13:45 +02:00', '%Y-%m-%d %H:%M %z')"),
            "2024-01-05T11:45:00Z");
  EXPECT_EQ(One("to_timestamp('2024-01-05 13:45 +0530', '%Y-%m-%d %H:%M %z')"),
            "2024-01-05T08:15:00Z");
  EXPECT_EQ(One("to_timestamp('2024-01-05 00:30 -01:00', '%Y-%m-%d %H:%M %z')"),
            "2024-01-05T01:30:00Z");
  EXPECT_EQ(One("to_timestamp('2024-01-05T13:45Z', '%Y-%m-%dT%H:%M%z')"), "2024-01-05T13:45:00Z");
  EXPECT_EQ(One("to_timestamp('5 jan 2024', '%d %b %Y')"), "2024-01-05T00:00:00Z");
  EXPECT_EQ(One("to_timestamp('SEPTEMBER 30, 2024', '%B %d, %Y')"), "2024-09-30T00:00:00Z");
  EXPECT_EQ(One("to_timestamp('Sep 30 2024', '%B %d %Y')"), "2024-09-30T00:00:00Z");
  EXPECT_EQ(One("to_timestamp('2024-01-05 01:05 PM', '%Y-%m-%d %I:%M %p')"),
            "2024-01-05T13:05:00Z");
  EXPECT_EQ(One("to_timestamp('2024-01-05 12:05 am', '%Y-%m-%d %I:%M %p')"),
            "2024-01-05T00:05:00Z");
  EXPECT_EQ(One("to_timestamp('2024-01-05 12:05 PM', '%Y-%m-%d %I:%M %p')"),
            "2024-01-05T12:05:00Z");
  EXPECT_EQ(One("to_timestamp('24-01-05', '%y-%m-%d')"), "2024-01-05T00:00:00Z");
  EXPECT_EQ(One("to_timestamp('70-01-05', '%y-%m-%d')"), "1970-01-05T00:00:00Z");
  EXPECT_EQ(One("to_timestamp('2024 060', '%Y %j')"), "2024-02-29T00:00:00Z");
  EXPECT_EQ(One("to_timestamp('100% 2024', '100%% %Y')"), "2024-01-01T00:00:00Z");
  EXPECT_EQ(One("to_timestamp(NULL, '%Y')"), "NULL");
  EXPECT_EQ(One("to_timestamp('2024', NULL)"), "NULL");
}

TEST(DateTimeFunctions, ToTimestampErrors) {
  EXPECT_EQ(One("to_timestamp('2024-01-05x', '%Y-%m-%d')"),
            "ERROR: cannot parse '2024-01-05x' with format '%Y-%m-%d' in "
            "'to_timestamp('2024-01-05x', '%Y-%m-%d')'");
  EXPECT_EQ(One("to_timestamp('2024-01', '%Y-%m-%d')").substr(0, 55),
            "ERROR: cannot parse '2024-01' with format '%Y-%m-%d' in");
  EXPECT_EQ(One("to_timestamp('2024-02-30', '%Y-%m-%d')").substr(0, 77),
            "ERROR: cannot parse '2024-02-30' with format '%Y-%m-%d' (day out of range) in");
  EXPECT_EQ(One("to_timestamp('2024-01-01 24:00', '%Y-%m-%d %H:%M')").substr(0, 91),
            "ERROR: cannot parse '2024-01-01 24:00' with format '%Y-%m-%d %H:%M' (time of day "
            "out of ran");
  EXPECT_EQ(One("to_timestamp('13 PM', '%I %p')").substr(0, 58),
            "ERROR: cannot parse '13 PM' with format '%I %p' (hour out ");
  EXPECT_EQ(One("to_timestamp('2023 366', '%Y %j')").substr(0, 70),
            "ERROR: cannot parse '2023 366' with format '%Y %j' (day of year out of");
  EXPECT_EQ(One("to_timestamp('Foo 1 2024', '%b %d %Y')").substr(0, 41),
            "ERROR: cannot parse 'Foo 1 2024' with for");
  EXPECT_EQ(BindError("to_timestamp('x', '%Q')"),
            "to_timestamp(): argument 2: unknown format directive '%Q' (supported: %Y %m %d %H "
            "%M %S %f %y %j %b %B %z %p %I %%) (to_timestamp(string, format) or "
            "to_timestamp(epoch_seconds))");
  EXPECT_EQ(BindError("to_timestamp('x', '%Y%')").substr(0, 69),
            "to_timestamp(): argument 2: the format ends with a lone '%' (to_times");
  EXPECT_EQ(BindError("to_timestamp(TRUE)").substr(0, 88),
            "to_timestamp(): argument 1: expected a number of seconds (or a string and a format), "
            "got");
  EXPECT_EQ(BindError("to_timestamp()").substr(0, 40), "to_timestamp() takes 1 to 2 arguments, g");
}

TEST(DateTimeFunctions, ToTimestampOverColumns) {
  Schema s({{"t", DataType::String(), true}, {"f", DataType::String(), true}});
  RecordBatch b = MakeBatch(s, {{"2024-01-05", "%Y-%m-%d"},
                                {"05.01.2024", "%d.%m.%Y"},
                                {"NULL", "%Y"},
                                {"2024", "%Q"},
                                {"bad", "%Y-%m-%d"},
                                {"06.01.2024", "%d.%m.%Y"}});
  auto r = Eval("to_timestamp(t, f)", b);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.cells.size(), 6u);
  EXPECT_EQ(r.cells[0], "2024-01-05T00:00:00Z");
  EXPECT_EQ(r.cells[1], "2024-01-05T00:00:00Z");
  EXPECT_EQ(r.cells[2], "NULL");
  EXPECT_EQ(r.cells[3].substr(0, 39), "ERROR: unknown format directive '%Q' (s");
  EXPECT_EQ(r.cells[4], "ERROR: cannot parse 'bad' with format '%Y-%m-%d' in 'to_timestamp(t, f)'");
  EXPECT_EQ(r.cells[5], "2024-01-06T00:00:00Z");
  Sel sel = {0, 5};
  EXPECT_EQ(Eval("to_timestamp(t, '%d.%m.%Y')", b, &sel).cells,
            (Cells{"ERROR: cannot parse '2024-01-05' with format '%d.%m.%Y' in "
                   "'to_timestamp(t, '%d.%m.%Y')'",
                   "2024-01-06T00:00:00Z"}));
}

TEST(DateTimeFunctions, ToTimestampFromEpoch) {
  EXPECT_EQ(One("to_timestamp(0)"), "1970-01-01T00:00:00Z");
  EXPECT_EQ(One("to_timestamp(1704067200)"), "2024-01-01T00:00:00Z");
  EXPECT_EQ(One("to_timestamp(-1)"), "1969-12-31T23:59:59Z");
  EXPECT_EQ(One("to_timestamp(1.5e0)"), "1970-01-01T00:00:01.500000Z");
  EXPECT_EQ(One("to_timestamp(1.25)"), "1970-01-01T00:00:01.250000Z");
  EXPECT_EQ(One("to_timestamp(0.0000015)"), "1970-01-01T00:00:00.000002Z");
  EXPECT_EQ(One("to_timestamp(1e300)").substr(0, 29), "ERROR: timestamp out of range");
  EXPECT_EQ(One("to_timestamp(9223372036854775807)").substr(0, 29),
            "ERROR: timestamp out of range");
  EXPECT_EQ(One("to_timestamp(NULL)"), "NULL");
  Schema s({{"n", DataType::Int64(), true}, {"x", DataType::Float64(), true}});
  RecordBatch b = MakeBatch(s, {{"86400", "0.5"}, {"NULL", "NULL"}, {"60", "-0.5"}});
  EXPECT_EQ(Eval("to_timestamp(n)", b).cells,
            (Cells{"1970-01-02T00:00:00Z", "NULL", "1970-01-01T00:01:00Z"}));
  Sel sel = {2};
  EXPECT_EQ(Eval("to_timestamp(x)", b, &sel).cells, (Cells{"1969-12-31T23:59:59.500000Z"}));
}

TEST(DateTimeFunctions, Strftime) {
  const std::string ts = "TIMESTAMP '2024-01-05 13:45:30.123456'";
  EXPECT_EQ(One("strftime(" + ts + ", '%Y-%m-%d %H:%M:%S.%f')"), "2024-01-05 13:45:30.123456");
  EXPECT_EQ(One("strftime(" + ts + ", '%a %A %b %B [%e] %j %y %I %p %z %Z %%')"),
            "Fri Friday Jan January [ 5] 005 24 01 PM +0000 UTC %");
  EXPECT_EQ(One("strftime(TIMESTAMP '2024-12-31 00:05:00', '%j %I %p')"), "366 12 AM");
  EXPECT_EQ(One("strftime(DATE '2024-03-01', '%d.%m.%Y')"), "01.03.2024");
  EXPECT_EQ(One("strftime(DATE '2024-03-01', '%H:%M:%S')"), "00:00:00");
  EXPECT_EQ(One("strftime(DATE '0099-03-01', '%Y %y')"), "0099 99");
  EXPECT_EQ(One("strftime(TIMESTAMP '1969-12-31 23:59:59.5', '%Y-%m-%d %H:%M:%S.%f')"),
            "1969-12-31 23:59:59.500000");
  EXPECT_EQ(One("strftime(DATE '2024-03-01', '')"), "");
  EXPECT_EQ(One("strftime(NULL, '%Y')"), "NULL");
  EXPECT_EQ(BindError("strftime(DATE '2024-03-01', '%Q')").substr(0, 64),
            "strftime(): argument 2: unknown format directive '%Q' (supported");
  EXPECT_EQ(BindError("strftime('%Y', DATE '2024-03-01')").substr(0, 70),
            "strftime(): argument 1: cannot convert '%Y' to timestamp (strftime(dat");
  EXPECT_EQ(BindError("strftime(1, '%Y')").substr(0, 66),
            "strftime(): argument 1: expected a date or timestamp, got int32 (s");
  Schema s({{"d", DataType::Date(), true}, {"f", DataType::String(), true}});
  RecordBatch b = MakeBatch(
      s, {{"2024-07-04", "%B"}, {"NULL", "%Y"}, {"2024-07-04", "%q"}, {"2024-07-04", "%Y"}});
  auto r = Eval("strftime(d, f)", b);
  ASSERT_EQ(r.cells.size(), 4u);
  EXPECT_EQ(r.cells[0], "July");
  EXPECT_EQ(r.cells[1], "NULL");
  EXPECT_EQ(r.cells[2].substr(0, 39), "ERROR: unknown format directive '%q' (s");
  EXPECT_EQ(r.cells[3], "2024");
  Sel sel = {0, 3};
  EXPECT_EQ(Eval("strftime(d, '%a')", b, &sel).cells, (Cells{"Thu", "Thu"}));
}

}  // namespace
}  // namespace sluice::expr
