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

TEST(MathFunctions, AbsAndSign) {
  EXPECT_EQ(One("abs(-5)"), "5");
  EXPECT_EQ(TypeOf("abs(-5)"), "int32");
  EXPECT_EQ(One("abs(7)"), "7");
  EXPECT_EQ(One("abs(-1.50)"), "1.50");
  EXPECT_EQ(TypeOf("abs(-1.50)"), "decimal(3,2)");
  EXPECT_EQ(One("abs(-2.5e0)"), "2.5");
  EXPECT_EQ(One("abs(-3000000000)"), "3000000000");
  EXPECT_EQ(One("abs(-2147483647 - 1)"),
            "ERROR: numeric overflow (result does not fit int32) in 'abs((-2147483647 - 1))'");
  EXPECT_EQ(One("abs(-9223372036854775807 - 1)").substr(0, 51),
            "ERROR: numeric overflow (result does not fit int64)");
  EXPECT_EQ(One("abs(NULL)"), "NULL");
  EXPECT_EQ(BindError("abs('x')"),
            "abs(): argument 1: expected a number, got string (abs(number))");
  EXPECT_EQ(BindError("abs(1, 2)"), "abs() takes 1 argument, got 2 (abs(number))");
  EXPECT_EQ(One("sign(-3)"), "-1");
  EXPECT_EQ(One("sign(0)"), "0");
  EXPECT_EQ(One("sign(2.5)"), "1");
  EXPECT_EQ(One("sign(-0.5e0)"), "-1");
  EXPECT_EQ(TypeOf("sign(-0.5e0)"), "int32");
  Schema s({{"x", DataType::Int64(), true}, {"f", DataType::Float64(), true}});
  RecordBatch b =
      MakeBatch(s, {{"-4", "-1.5"}, {"NULL", "NULL"}, {"9", "0"}, {"-9223372036854775808", "2"}});
  EXPECT_EQ(
      Eval("abs(x)", b).cells,
      (Cells{"4", "NULL", "9", "ERROR: numeric overflow (result does not fit int64) in 'abs(x)'"}));
  Sel sel = {0, 1, 2};
  EXPECT_EQ(Eval("sign(f)", b, &sel).cells, (Cells{"-1", "NULL", "0"}));
}

TEST(MathFunctions, RoundDecimals) {
  EXPECT_EQ(One("round(2.5)"), "3");
  EXPECT_EQ(TypeOf("round(2.5)"), "decimal(2,0)");
  EXPECT_EQ(One("round(-2.5)"), "-3");
  EXPECT_EQ(One("round(2.675, 2)"), "2.68");
  EXPECT_EQ(TypeOf("round(2.675, 2)"), "decimal(4,2)");
  EXPECT_EQ(One("round(-2.675, 2)"), "-2.68");
  EXPECT_EQ(One("round(2.674, 2)"), "2.67");
  EXPECT_EQ(One("round(1.234, 5)"), "1.234");
  EXPECT_EQ(TypeOf("round(1.234, 5)"), "decimal(4,3)");
  EXPECT_EQ(One("round(1234.5, -2)"), "1200");
  EXPECT_EQ(TypeOf("round(1234.5, -2)"), "decimal(6,0)");
  EXPECT_EQ(One("round(999.9, -3)"), "1000");
  EXPECT_EQ(One("round(1234.5, -30)"), "0");
  EXPECT_EQ(One("round(1.5, NULL)"), "NULL");
  Schema s({{"d", DataType::Decimal(10, 3), true}, {"n", DataType::Int32(), true}});
  RecordBatch b = MakeBatch(s, {{"1.005", "1"}, {"NULL", "1"}, {"-1.005", "2"}, {"9.999", "0"}});
  EXPECT_EQ(Eval("round(d, 2)", b).cells, (Cells{"1.01", "NULL", "-1.01", "10.00"}));
  Sel sel = {2, 3};
  EXPECT_EQ(Eval("round(d)", b, &sel).cells, (Cells{"-1", "10"}));
  auto bad = Eval("round(d, n)", b);
  ASSERT_FALSE(bad.status.ok());
  EXPECT_NE(bad.status.message().find(
                "round(): argument 2: the number of digits must be a constant when rounding a "
                "decimal"),
            std::string::npos);
}

TEST(MathFunctions, RoundFloatsAndIntegers) {
  EXPECT_EQ(One("round(2.5e0)"), "3");
  EXPECT_EQ(One("round(-2.5e0)"), "-3");
  EXPECT_EQ(One("round(0.5e0)"), "1");
  EXPECT_EQ(TypeOf("round(2.5e0)"), "float64");
  EXPECT_EQ(One("round(2.675e0, 2)"), "2.68");
  EXPECT_EQ(One("round(-2.675e0, 2)"), "-2.68");
  EXPECT_EQ(One("round(1.005e0, 2)"), "1.01");
  EXPECT_EQ(One("round(1234.5678e0, -2)"), "1200");
  EXPECT_EQ(One("round(1e300, 2)"), "1e+300");
  EXPECT_EQ(One("round(15, -1)"), "20");
  EXPECT_EQ(One("round(-15, -1)"), "-20");
  EXPECT_EQ(One("round(14, -1)"), "10");
  EXPECT_EQ(One("round(15, 2)"), "15");
  EXPECT_EQ(TypeOf("round(15, 2)"), "int32");
  EXPECT_EQ(One("round(2147483647, -1)"),
            "ERROR: numeric overflow (result does not fit int32) in 'round(2147483647, -1)'");
  EXPECT_EQ(BindError("round('a')"),
            "round(): argument 1: expected a number, got string (round(number[, digits]))");
  EXPECT_EQ(BindError("round(1.5, 1.5)").substr(0, 58),
            "round(): argument 2: expected an integer, got decimal(2,1)");
  Schema s({{"f", DataType::Float64(), true}, {"n", DataType::Int32(), true}});
  RecordBatch b =
      MakeBatch(s, {{"3.14159", "2"}, {"NULL", "1"}, {"3.14159", "NULL"}, {"3.14159", "0"}});
  EXPECT_EQ(Eval("round(f, n)", b).cells, (Cells{"3.14", "NULL", "NULL", "3"}));
}

TEST(MathFunctions, FloorCeil) {
  EXPECT_EQ(One("floor(-1.5)"), "-2");
  EXPECT_EQ(TypeOf("floor(-1.5)"), "decimal(2,0)");
  EXPECT_EQ(One("ceil(-1.5)"), "-1");
  EXPECT_EQ(One("ceil(1.01)"), "2");
  EXPECT_EQ(One("ceiling(1.01)"), "2");
  EXPECT_EQ(One("floor(1.99)"), "1");
  EXPECT_EQ(One("floor(-0.5)"), "-1");
  EXPECT_EQ(One("ceil(0.99)"), "1");
  EXPECT_EQ(One("floor(1.99e0)"), "1");
  EXPECT_EQ(One("ceil(-1.99e0)"), "-1");
  EXPECT_EQ(TypeOf("ceil(-1.99e0)"), "float64");
  EXPECT_EQ(One("ceil(5)"), "5");
  EXPECT_EQ(TypeOf("ceil(5)"), "int32");
  EXPECT_EQ(One("floor(NULL)"), "NULL");
  Schema s({{"d", DataType::Decimal(6, 2), true}});
  RecordBatch b = MakeBatch(s, {{"12.34"}, {"NULL"}, {"-12.34"}, {"5.00"}});
  EXPECT_EQ(Eval("floor(d)", b).cells, (Cells{"12", "NULL", "-13", "5"}));
  Sel sel = {0, 2, 3};
  EXPECT_EQ(Eval("ceil(d)", b, &sel).cells, (Cells{"13", "-12", "5"}));
}

TEST(MathFunctions, Mod) {
  EXPECT_EQ(One("mod(7, 3)"), "1");
  EXPECT_EQ(One("mod(-7, 3)"), "-1");
  EXPECT_EQ(One("mod(7, -3)"), "1");
  EXPECT_EQ(One("mod(7, 3)"), One("7 % 3"));
  EXPECT_EQ(TypeOf("mod(7, 3)"), "int32");
  EXPECT_EQ(TypeOf("mod(7, 3000000000)"), "int64");
  EXPECT_EQ(One("mod(7.5, 2)"), "1.5");
  EXPECT_EQ(TypeOf("mod(7.5, 2)"), TypeOf("7.5 % 2"));
  EXPECT_EQ(One("mod(-7.25, 2.5)"), "-2.25");
  EXPECT_EQ(One("mod(5.5e0, 2)"), "1.5");
  EXPECT_EQ(One("mod(1, 0)"), "ERROR: division by zero in 'mod(1, 0)'");
  EXPECT_EQ(One("mod(1.5, 0.0)"), "ERROR: division by zero in 'mod(1.5, 0.0)'");
  EXPECT_EQ(One("mod(1e0, 0)"), "ERROR: division by zero in 'mod(1e0, 0)'");
  EXPECT_EQ(One("mod(-9223372036854775807 - 1, -1)"), "0");
  EXPECT_EQ(One("mod(NULL, 2)"), "NULL");
  EXPECT_EQ(BindError("mod('a', 2)"), "operator % cannot combine string and int32");
  Schema s({{"a", DataType::Int64(), true}, {"b", DataType::Int32(), true}});
  RecordBatch b = MakeBatch(s, {{"10", "3"}, {"10", "0"}, {"NULL", "3"}, {"-10", "4"}});
  EXPECT_EQ(Eval("mod(a, b)", b).cells,
            (Cells{"1", "ERROR: division by zero in 'mod(a, b)'", "NULL", "-2"}));
  Sel sel = {0, 3};
  EXPECT_EQ(Eval("mod(a, b)", b, &sel).cells, (Cells{"1", "-2"}));
}

TEST(MathFunctions, GreatestLeast) {
  EXPECT_EQ(One("greatest(1, 5, 3)"), "5");
  EXPECT_EQ(One("least(1, 5, 3)"), "1");
  EXPECT_EQ(One("greatest(7)"), "7");
  EXPECT_EQ(One("greatest(1, NULL, 3)"), "3");
  EXPECT_EQ(One("least(NULL, 4, 3)"), "3");
  EXPECT_EQ(One("greatest(NULL, NULL)"), "NULL");
  EXPECT_EQ(One("greatest(1, 2.5)"), "2.5");
  EXPECT_EQ(TypeOf("greatest(1, 2.5)"), "decimal(11,1)");
  EXPECT_EQ(One("greatest(1, 2.5e0)"), "2.5");
  EXPECT_EQ(One("least(-1e0, CAST('nan' AS float64))"), "-1");
  EXPECT_EQ(One("greatest('apple', 'banana', 'cherry')"), "cherry");
  EXPECT_EQ(One("least('apple', 'banana', NULL)"), "apple");
  EXPECT_EQ(One("greatest(DATE '2024-01-01', '2024-02-01')"), "2024-02-01");
  EXPECT_EQ(One("greatest(DATE '2024-01-01', TIMESTAMP '2024-01-01 10:00:00')"),
            "2024-01-01T10:00:00Z");
  EXPECT_EQ(One("least(TRUE, FALSE)"), "false");
  EXPECT_EQ(BindError("greatest(1, 'x')"),
            "greatest(): argument 2: cannot convert 'x' to int32 (greatest(value, ...))");
  EXPECT_EQ(BindError("greatest(1, TRUE)"),
            "greatest(): argument 2: int32 and bool have no common type; use CAST "
            "(greatest(value, ...))");
  EXPECT_EQ(BindError("greatest()"),
            "greatest() takes at least 1 arguments, got 0 (greatest(value, ...))");
  Schema s({{"a", DataType::Int32(), true},
            {"b", DataType::Int64(), true},
            {"s", DataType::String(), true}});
  RecordBatch b = MakeBatch(
      s, {{"1", "2", "x"}, {"NULL", "5", "NULL"}, {"NULL", "NULL", "y"}, {"9", "-3", "a"}});
  auto r = Eval("greatest(a, b)", b);
  EXPECT_EQ(r.type.ToString(), "int64");
  EXPECT_EQ(r.cells, (Cells{"2", "5", "NULL", "9"}));
  EXPECT_EQ(Eval("least(a, b)", b).cells, (Cells{"1", "5", "NULL", "-3"}));
  Sel sel = {1, 2, 3};
  EXPECT_EQ(Eval("greatest(s, 'b')", b, &sel).cells, (Cells{"b", "y", "b"}));
}

TEST(MathFunctions, FloatFunctions) {
  EXPECT_EQ(One("sqrt(16)"), "4");
  EXPECT_EQ(TypeOf("sqrt(16)"), "float64");
  EXPECT_EQ(One("sqrt(2e0)"), "1.4142135623730951");
  EXPECT_EQ(One("sqrt(2.25)"), "1.5");
  EXPECT_EQ(One("sqrt(-1)"), "ERROR: sqrt of a negative number in 'sqrt(-1)'");
  EXPECT_EQ(One("power(2, 10)"), "1024");
  EXPECT_EQ(One("pow(2, -1)"), "0.5");
  EXPECT_EQ(One("power(-2, 3)"), "-8");
  EXPECT_EQ(One("power(0, 0)"), "1");
  EXPECT_EQ(One("power(0, -1)").substr(0, 51),
            "ERROR: zero raised to a negative power is undefined");
  EXPECT_EQ(One("power(-8, 0.5)").substr(0, 54),
            "ERROR: a negative number raised to a non-integer power");
  EXPECT_EQ(One("power(10, 400)").substr(0, 35), "ERROR: value out of range: overflow");
  EXPECT_EQ(One("exp(0)"), "1");
  EXPECT_EQ(One("exp(1)"), "2.718281828459045");
  EXPECT_EQ(One("exp(1000)").substr(0, 35), "ERROR: value out of range: overflow");
  EXPECT_EQ(One("exp(-1000)"), "0");
  EXPECT_EQ(One("ln(1)"), "0");
  EXPECT_EQ(One("ln(0)"), "ERROR: logarithm of zero in 'ln(0)'");
  EXPECT_EQ(One("ln(-1)"), "ERROR: logarithm of a negative number in 'ln(-1)'");
  EXPECT_EQ(One("log10(1000)"), "3");
  EXPECT_EQ(One("log10(0.001)"), "-3");
  EXPECT_EQ(One("log2(8)"), "3");
  EXPECT_EQ(One("log2(-8)").substr(0, 37), "ERROR: logarithm of a negative number");
  EXPECT_EQ(One("sqrt(NULL)"), "NULL");
  EXPECT_EQ(One("power(2, NULL)"), "NULL");
  EXPECT_EQ(One("sqrt(CAST('nan' AS float64))"), "nan");
  EXPECT_EQ(BindError("sqrt('4')"),
            "sqrt(): argument 1: expected a number, got string (sqrt(number))");
  EXPECT_EQ(BindError("power(2)"), "power() takes 2 arguments, got 1 (power(base, exponent))");
  Schema s({{"x", DataType::Float64(), true}, {"d", DataType::Decimal(5, 2), true}});
  RecordBatch b = MakeBatch(s, {{"4", "1.00"}, {"-4", "0.00"}, {"NULL", "NULL"}, {"9", "100.00"}});
  EXPECT_EQ(Eval("sqrt(x)", b).cells,
            (Cells{"2", "ERROR: sqrt of a negative number in 'sqrt(x)'", "NULL", "3"}));
  EXPECT_EQ(Eval("log10(d)", b).cells,
            (Cells{"0", "ERROR: logarithm of zero in 'log10(d)'", "NULL", "2"}));
  Sel sel = {0, 3};
  EXPECT_EQ(Eval("power(x, 2)", b, &sel).cells, (Cells{"16", "81"}));
  EXPECT_EQ(Eval("ln(x)", b, &sel).cells[1].substr(0, 5), "2.197");
}

}  // namespace
}  // namespace sluice::expr
