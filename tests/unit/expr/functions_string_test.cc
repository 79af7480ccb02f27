#include <gtest/gtest.h>

#include "expr/parser.h"
#include "expr_test_util.h"

namespace sluice::expr {
namespace {

using testing::BindError;
using testing::Cells;
using testing::Eval;
using testing::EvalConst;
using testing::MakeBatch;
using testing::One;

// left and right are reserved words (LEFT JOIN) that the parser does not
// accept as function names: these tests parse the call as fn(...), rename it
// and bind the node directly.
Cells EvalRenamed(const std::string& name, const std::string& text, const RecordBatch& batch) {
  SourceText src;
  src.text = text;
  auto node = ParseExpression(src);
  if (!node.ok()) return {"PARSE: " + node.status().message()};
  (*node)->name = name;
  auto e = BindExpression(**node, batch.schema, src);
  if (!e.ok()) return {"BIND: " + e.status().message()};
  EvalContext ctx(&src);
  ctx.Reset(batch.num_rows());
  Vec v = Evaluate(**e, batch, nullptr, &ctx);
  Column col = v.ToColumn(nullptr);
  Cells out;
  for (int64_t i = 0; i < batch.num_rows(); ++i) {
    out.push_back(ctx.RowFailed(i) ? "ERROR" : col.IsNull(i) ? "NULL" : CellText(col, i));
  }
  return out;
}

std::string OneRenamed(const std::string& name, const std::string& text) {
  RecordBatch one;
  one.num_rows_no_columns = 1;
  return EvalRenamed(name, text, one).at(0);
}

TEST(StringFunctions, Trim) {
  EXPECT_EQ(One("trim('  a b  ')"), "a b");
  EXPECT_EQ(One("ltrim('  a b  ')"), "a b  ");
  EXPECT_EQ(One("rtrim('  a b  ')"), "  a b");
  EXPECT_EQ(One("trim('xxaxyx', 'xy')"), "a");
  EXPECT_EQ(One("ltrim('xxaxyx', 'xy')"), "axyx");
  EXPECT_EQ(One("rtrim('xxaxyx', 'xy')"), "xxa");
  EXPECT_EQ(One("trim('')"), "");
  EXPECT_EQ(One("trim('    ')"), "");
  EXPECT_EQ(One("trim('abc', '')"), "abc");
  // Tabs are not spaces.
  EXPECT_EQ(One("trim('\ta ')"), "\ta");
  // Multi-byte characters in the set and in the string.
  EXPECT_EQ(One("trim('ééaéé', 'é')"), "a");
  EXPECT_EQ(One("rtrim('naïveï', 'ï')"), "naïve");
  EXPECT_EQ(One("trim(NULL)"), "NULL");
  EXPECT_EQ(One("trim('a', NULL)"), "NULL");
  EXPECT_EQ(BindError("trim(1)"),
            "trim(): argument 1: expected a string, got int32 (trim(string[, characters]))");
  EXPECT_EQ(BindError("trim('a', 'b', 'c')"),
            "trim() takes 1 to 2 arguments, got 3 (trim(string[, characters]))");
}

TEST(StringFunctions, TrimOverColumnsWithPerRowSets) {
  Schema s({{"s", DataType::String(), true}, {"c", DataType::String(), true}});
  RecordBatch b =
      MakeBatch(s, {{"--a--", "-"}, {"**b*", "*"}, {"NULL", "-"}, {"xyx", "NULL"}, {"..c", "."}});
  EXPECT_EQ(Eval("trim(s, c)", b).cells, (Cells{"a", "b", "NULL", "NULL", "c"}));
  Sel sel = {1, 4};
  EXPECT_EQ(Eval("ltrim(s, c)", b, &sel).cells, (Cells{"b*", "c"}));
}

TEST(StringFunctions, Substr) {
  EXPECT_EQ(One("substr('hello', 2)"), "ello");
  EXPECT_EQ(One("substr('hello', 2, 3)"), "ell");
  EXPECT_EQ(One("substr('hello', 0, 2)"), "h");  // PostgreSQL: window [0, 2)
  EXPECT_EQ(One("substr('hello', -3, 5)"), "h");
  EXPECT_EQ(One("substr('hello', -3, 3)"), "");
  EXPECT_EQ(One("substr('hello', -3)"), "hello");
  EXPECT_EQ(One("substr('hello', 9)"), "");
  EXPECT_EQ(One("substr('hello', 5, 100)"), "o");
  EXPECT_EQ(One("substr('hello', 1, 0)"), "");
  EXPECT_EQ(One("substr('héllo wörld', 2, 4)"), "éllo");
  EXPECT_EQ(One("substr('héllo wörld', 8)"), "örld");
  EXPECT_EQ(One("substr('', 1, 2)"), "");
  EXPECT_EQ(One("substr('hello', 2, 9223372036854775807)"), "ello");
  EXPECT_EQ(One("substr('hello', -9223372036854775807, 9223372036854775807)"), "");
  EXPECT_EQ(One("substr('hello', 1, -1)"),
            "ERROR: negative substring length not allowed in 'substr('hello', 1, -1)'");
  EXPECT_EQ(One("substr(NULL, 1)"), "NULL");
  EXPECT_EQ(One("substr('a', NULL)"), "NULL");
  EXPECT_EQ(BindError("substr('a', 'b')"),
            "substr(): argument 2: expected an integer, got string (substr(string, start[, "
            "length]))");
  EXPECT_EQ(BindError("substr('a')"),
            "substr() takes 2 to 3 arguments, got 1 (substr(string, start[, length]))");
}

TEST(StringFunctions, SubstrOverColumns) {
  Schema s({{"s", DataType::String(), true}, {"n", DataType::Int32(), true}});
  RecordBatch b = MakeBatch(
      s, {{"abcdef", "2"}, {"xyz", "-1"}, {"NULL", "1"}, {"ñandú", "NULL"}, {"ñandú", "3"}});
  EXPECT_EQ(Eval("substr(s, 2, n)", b).cells,
            (Cells{"bc", "ERROR: negative substring length not allowed in 'substr(s, 2, n)'",
                   "NULL", "NULL", "and"}));
  Sel sel = {0, 4};
  EXPECT_EQ(Eval("substr(s, n)", b, &sel).cells, (Cells{"bcdef", "ndú"}));
}

TEST(StringFunctions, Replace) {
  EXPECT_EQ(One("replace('abcabc', 'b', 'XY')"), "aXYcaXYc");
  EXPECT_EQ(One("replace('abc', '', 'X')"), "abc");
  EXPECT_EQ(One("replace('abc', 'abc', '')"), "");
  EXPECT_EQ(One("replace('aaa', 'aa', 'b')"), "ba");
  EXPECT_EQ(One("replace('héé', 'é', 'e')"), "hee");
  EXPECT_EQ(One("replace('abc', NULL, 'x')"), "NULL");
  Schema s({{"s", DataType::String(), true}});
  RecordBatch b = MakeBatch(s, {{"a-b"}, {"NULL"}, {"--"}, {""}});
  EXPECT_EQ(Eval("replace(s, '-', '+')", b).cells, (Cells{"a+b", "NULL", "++", ""}));
  EXPECT_EQ(BindError("replace('a', 'b')"),
            "replace() takes 3 arguments, got 2 (replace(string, from, to))");
}

TEST(StringFunctions, SplitPart) {
  EXPECT_EQ(One("split_part('a,b,c', ',', 1)"), "a");
  EXPECT_EQ(One("split_part('a,b,c', ',', 3)"), "c");
  EXPECT_EQ(One("split_part('a,b,c', ',', 4)"), "");
  EXPECT_EQ(One("split_part('a,b,c', ',', -1)"), "c");
  EXPECT_EQ(One("split_part('a,b,c', ',', -3)"), "a");
  EXPECT_EQ(One("split_part('a,b,c', ',', -4)"), "");
  EXPECT_EQ(One("split_part('a,,c', ',', 2)"), "");
  EXPECT_EQ(One("split_part('a::b::c', '::', 2)"), "b");
  EXPECT_EQ(One("split_part('', ',', 1)"), "");
  EXPECT_EQ(One("split_part('abc', '', 1)"), "abc");
  EXPECT_EQ(One("split_part('abc', '', 2)"), "");
  EXPECT_EQ(One("split_part('é|ü', '|', 2)"), "ü");
  EXPECT_EQ(BindError("split_part('a,b', ',', 0)"),
            "split_part(): argument 3: field position must not be zero (split_part(string, "
            "delimiter, n))");
  Schema s({{"s", DataType::String(), true}, {"n", DataType::Int64(), true}});
  RecordBatch b = MakeBatch(s, {{"x.y.z", "2"}, {"x.y.z", "0"}, {"x.y", "NULL"}, {"x.y", "-2"}});
  EXPECT_EQ(Eval("split_part(s, '.', n)", b).cells,
            (Cells{"y", "ERROR: field position must not be zero in 'split_part(s, '.', n)'", "NULL",
                   "x"}));
}

TEST(StringFunctions, SearchFunctions) {
  EXPECT_EQ(One("starts_with('hello', 'he')"), "true");
  EXPECT_EQ(One("starts_with('hello', 'lo')"), "false");
  EXPECT_EQ(One("starts_with('he', 'hello')"), "false");
  EXPECT_EQ(One("starts_with('hello', '')"), "true");
  EXPECT_EQ(One("ends_with('hello', 'lo')"), "true");
  EXPECT_EQ(One("ends_with('hello', 'he')"), "false");
  EXPECT_EQ(One("ends_with('lo', 'hello')"), "false");
  EXPECT_EQ(One("contains('hello', 'ell')"), "true");
  EXPECT_EQ(One("contains('hello', 'xyz')"), "false");
  EXPECT_EQ(One("contains('', '')"), "true");
  EXPECT_EQ(One("strpos('hello', 'l')"), "3");
  EXPECT_EQ(One("strpos('hello', 'z')"), "0");
  EXPECT_EQ(One("strpos('hello', '')"), "1");
  EXPECT_EQ(One("strpos('héllo', 'l')"), "3");  // characters, not bytes
  EXPECT_EQ(One("strpos(NULL, 'l')"), "NULL");
  EXPECT_EQ(BindError("contains('a', 1)"),
            "contains(): argument 2: expected a string, got int32 (contains(string, needle))");
  Schema s({{"s", DataType::String(), true}});
  RecordBatch b = MakeBatch(s, {{"apple"}, {"NULL"}, {"banana"}, {"grape"}});
  Sel sel = {1, 2, 3};
  EXPECT_EQ(Eval("starts_with(s, 'b')", b, &sel).cells, (Cells{"NULL", "true", "false"}));
  EXPECT_EQ(Eval("ends_with(s, 'e')", b).cells, (Cells{"true", "NULL", "false", "true"}));
  EXPECT_EQ(Eval("contains(s, 'an')", b).cells, (Cells{"false", "NULL", "true", "false"}));
  EXPECT_EQ(Eval("strpos(s, 'a')", b).cells, (Cells{"1", "NULL", "2", "3"}));
}

TEST(StringFunctions, LeftRight) {
  EXPECT_EQ(OneRenamed("left", "fn('abcde', 2)"), "ab");
  EXPECT_EQ(OneRenamed("left", "fn('abcde', 0)"), "");
  EXPECT_EQ(OneRenamed("left", "fn('abcde', 10)"), "abcde");
  EXPECT_EQ(OneRenamed("left", "fn('abcde', -2)"), "abc");
  EXPECT_EQ(OneRenamed("left", "fn('abcde', -10)"), "");
  EXPECT_EQ(OneRenamed("right", "fn('abcde', 2)"), "de");
  EXPECT_EQ(OneRenamed("right", "fn('abcde', 10)"), "abcde");
  EXPECT_EQ(OneRenamed("right", "fn('abcde', -2)"), "cde");
  EXPECT_EQ(OneRenamed("right", "fn('abcde', -10)"), "");
  EXPECT_EQ(OneRenamed("left", "fn('ñandú', 2)"), "ña");
  EXPECT_EQ(OneRenamed("right", "fn('ñandú', 2)"), "dú");
  EXPECT_EQ(OneRenamed("left", "fn('abc', -9223372036854775807 - 1)"), "");
  EXPECT_EQ(OneRenamed("right", "fn('abc', -9223372036854775807 - 1)"), "");
  Schema s({{"s", DataType::String(), true}, {"n", DataType::Int32(), true}});
  RecordBatch b = MakeBatch(s, {{"abc", "1"}, {"abc", "NULL"}, {"NULL", "1"}, {"abc", "-1"}});
  EXPECT_EQ(EvalRenamed("left", "fn(s, n)", b), (Cells{"a", "NULL", "NULL", "ab"}));
  EXPECT_EQ(EvalRenamed("right", "fn(s, n)", b), (Cells{"c", "NULL", "NULL", "bc"}));
}

TEST(StringFunctions, Pad) {
  EXPECT_EQ(One("lpad('7', 3, '0')"), "007");
  EXPECT_EQ(One("rpad('7', 3, '0')"), "700");
  EXPECT_EQ(One("lpad('ab', 5)"), "   ab");
  EXPECT_EQ(One("rpad('ab', 5)"), "ab   ");
  EXPECT_EQ(One("lpad('ab', 7, 'xyz')"), "xyzxyab");
  EXPECT_EQ(One("rpad('ab', 7, 'xyz')"), "abxyzxy");
  EXPECT_EQ(One("lpad('hello', 2)"), "he");
  EXPECT_EQ(One("rpad('hello', 2)"), "he");
  EXPECT_EQ(One("lpad('hi', 5, '')"), "hi");
  EXPECT_EQ(One("lpad('hi', 0)"), "");
  EXPECT_EQ(One("lpad('hi', -3)"), "");
  EXPECT_EQ(One("lpad('é', 3, 'ü')"), "üüé");
  EXPECT_EQ(One("rpad('é', 4, 'üa')"), "éüaü");
  EXPECT_EQ(One("lpad('ñandú', 3)"), "ñan");
  EXPECT_EQ(One("lpad('x', 2000000)").substr(0, 30), "ERROR: requested length too la");
  Schema s({{"s", DataType::String(), true}, {"n", DataType::Int64(), true}});
  RecordBatch b = MakeBatch(s, {{"1", "3"}, {"22", "NULL"}, {"333", "2"}});
  EXPECT_EQ(Eval("lpad(s, n, '0')", b).cells, (Cells{"001", "NULL", "33"}));
  EXPECT_EQ(Eval("rpad(s, n, '.')", b).cells, (Cells{"1..", "NULL", "33"}));
  EXPECT_EQ(BindError("lpad('a')"),
            "lpad() takes 2 to 3 arguments, got 1 (lpad(string, length[, fill]))");
}

TEST(StringFunctions, Reverse) {
  EXPECT_EQ(One("reverse('abc')"), "cba");
  EXPECT_EQ(One("reverse('')"), "");
  EXPECT_EQ(One("reverse('ñandú')"), "údnañ");
  EXPECT_EQ(One("reverse(NULL)"), "NULL");
  Schema s({{"s", DataType::String(), true}});
  RecordBatch b = MakeBatch(s, {{"ab"}, {"NULL"}, {"xyz"}});
  Sel sel = {0, 2};
  EXPECT_EQ(Eval("reverse(s)", b, &sel).cells, (Cells{"ba", "zyx"}));
}

TEST(StringFunctions, RegexpMatches) {
  EXPECT_EQ(One("regexp_matches('abc123', '[0-9]+')"), "true");
  EXPECT_EQ(One("regexp_matches('abc', '[0-9]+')"), "false");
  EXPECT_EQ(One("regexp_matches('abc', '^b')"), "false");
  EXPECT_EQ(One("regexp_matches('ABC', 'b')"), "false");
  EXPECT_EQ(One("regexp_matches('ABC', 'b', 'i')"), "true");
  EXPECT_EQ(One("regexp_matches('a\nb', 'a.b')"), "false");
  EXPECT_EQ(One("regexp_matches('a\nb', 'a.b', 's')"), "true");
  EXPECT_EQ(One("regexp_matches('a\nb', '^b$')"), "false");
  EXPECT_EQ(One("regexp_matches('a\nb', '^b$', 'm')"), "true");
  EXPECT_EQ(One("regexp_matches('ñ', '^.$')"), "true");  // UTF-8 aware
  EXPECT_EQ(One("regexp_matches(NULL, 'a')"), "NULL");
  EXPECT_EQ(One("regexp_matches('a', NULL)"), "NULL");
  EXPECT_EQ(BindError("regexp_matches('a', '(')").substr(0, 70),
            "regexp_matches(): argument 2: invalid regular expression: missing ): (");
  EXPECT_EQ(BindError("regexp_matches('a', 'a', 'q')"),
            "regexp_matches(): argument 3: unknown regular expression flag 'q' (flags: i, c, s, "
            "m) (regexp_matches(string, pattern[, flags]))");
  EXPECT_EQ(BindError("regexp_matches('a', 'a', 'g')").substr(0, 68),
            "regexp_matches(): argument 3: unknown regular expression flag 'g' (f");
  EXPECT_EQ(BindError("regexp_matches('a')"),
            "regexp_matches() takes 2 to 3 arguments, got 1 (regexp_matches(string, pattern[, "
            "flags]))");
}

TEST(StringFunctions, RegexpPerRowPatterns) {
  Schema s({{"s", DataType::String(), true}, {"p", DataType::String(), true}});
  RecordBatch b = MakeBatch(
      s, {{"abc", "b"}, {"abc", "b"}, {"abc", "("}, {"NULL", "a"}, {"xyz", "^x"}, {"abc", "NULL"}});
  auto r = Eval("regexp_matches(s, p)", b);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  ASSERT_EQ(r.cells.size(), 6u);
  EXPECT_EQ(r.cells[0], "true");
  EXPECT_EQ(r.cells[1], "true");
  EXPECT_EQ(r.cells[2].substr(0, 42), "ERROR: invalid regular expression: missing");
  EXPECT_EQ(r.cells[3], "NULL");
  EXPECT_EQ(r.cells[4], "true");
  EXPECT_EQ(r.cells[5], "NULL");
  Sel sel = {0, 4};
  EXPECT_EQ(Eval("regexp_replace(s, p, '<\\0>')", b, &sel).cells, (Cells{"a<b>c", "<x>yz"}));
  // Per-row flags.
  Schema s2({{"s", DataType::String(), true}, {"f", DataType::String(), true}});
  RecordBatch b2 = MakeBatch(s2, {{"ABA", "i"}, {"ABA", ""}, {"ABA", "ig"}, {"ABA", "z"}});
  auto r2 = Eval("regexp_replace(s, 'a', '-', f)", b2);
  ASSERT_EQ(r2.cells.size(), 4u);
  EXPECT_EQ(r2.cells[0], "-BA");
  EXPECT_EQ(r2.cells[1], "ABA");
  EXPECT_EQ(r2.cells[2], "-B-");
  EXPECT_EQ(r2.cells[3].substr(0, 45), "ERROR: unknown regular expression flag 'z' (f");
}

TEST(StringFunctions, RegexpReplace) {
  EXPECT_EQ(One("regexp_replace('aaa', 'a', 'b')"), "baa");
  EXPECT_EQ(One("regexp_replace('aaa', 'a', 'b', 'g')"), "bbb");
  EXPECT_EQ(One("regexp_replace('AaA', 'a', 'b', 'gi')"), "bbb");
  EXPECT_EQ(One("regexp_replace('2024-01-05', '(\\d+)-(\\d+)-(\\d+)', '\\3/\\2/\\1')"),
            "05/01/2024");
  EXPECT_EQ(One("regexp_replace('abc', 'x', 'y')"), "abc");
  EXPECT_EQ(One("regexp_replace('', '^', 'y')"), "y");
  EXPECT_EQ(One("regexp_replace('abc', '', '-', 'g')"), "-a-b-c-");
  EXPECT_EQ(One("regexp_replace('héllo', 'é', 'e')"), "hello");
  EXPECT_EQ(One("regexp_replace('a', 'a', NULL)"), "NULL");
  EXPECT_EQ(BindError("regexp_replace('a', '(a)', '\\2')").substr(0, 60),
            "regexp_replace(): argument 3: invalid replacement: Rewrite s");
  EXPECT_EQ(BindError("regexp_replace('a', '[', 'b')").substr(0, 58),
            "regexp_replace(): argument 2: invalid regular expression: ");
  Schema s({{"s", DataType::String(), true}, {"r", DataType::String(), true}});
  RecordBatch b = MakeBatch(s, {{"k=v", "\\2=\\1"}, {"k=v", "\\3"}, {"NULL", "x"}});
  auto r = Eval("regexp_replace(s, '(\\w+)=(\\w+)', r)", b);
  ASSERT_EQ(r.cells.size(), 3u);
  EXPECT_EQ(r.cells[0], "v=k");
  EXPECT_EQ(r.cells[1].substr(0, 34), "ERROR: invalid replacement: Rewrit");
  EXPECT_EQ(r.cells[2], "NULL");
}

TEST(StringFunctions, RegexpExtract) {
  EXPECT_EQ(One("regexp_extract('abc123def', '[0-9]+')"), "123");
  EXPECT_EQ(One("regexp_extract('abc', '[0-9]+')"), "");
  EXPECT_EQ(One("regexp_extract('key=value', '(\\w+)=(\\w+)', 2)"), "value");
  EXPECT_EQ(One("regexp_extract('key=value', '(\\w+)=(\\w+)', 0)"), "key=value");
  EXPECT_EQ(One("regexp_extract('ab', 'a(x)?b', 1)"), "");
  EXPECT_EQ(One("regexp_extract('ñandú', 'n(.)')"), "nd");
  EXPECT_EQ(One("regexp_extract(NULL, 'a')"), "NULL");
  EXPECT_EQ(BindError("regexp_extract('a', '(a)', 2)"),
            "regexp_extract(): argument 3: group 2 does not exist (the pattern has 1 groups) "
            "(regexp_extract(string, pattern[, group]))");
  EXPECT_EQ(BindError("regexp_extract('a', 'a', -1)").substr(0, 70),
            "regexp_extract(): argument 3: group number must not be negative (regex");
  EXPECT_EQ(BindError("regexp_extract('a', 'a', 'x')").substr(0, 60),
            "regexp_extract(): argument 3: expected an integer, got strin");
  Schema s({{"s", DataType::String(), true}, {"g", DataType::Int32(), true}});
  RecordBatch b =
      MakeBatch(s, {{"a1b2", "1"}, {"a1b2", "2"}, {"a1b2", "3"}, {"NULL", "1"}, {"zz", "0"}});
  auto r = Eval("regexp_extract(s, '([a-z])([0-9])', g)", b);
  ASSERT_EQ(r.cells.size(), 5u);
  EXPECT_EQ(r.cells[0], "a");
  EXPECT_EQ(r.cells[1], "1");
  EXPECT_EQ(r.cells[2].substr(0, 29), "ERROR: group 3 does not exist");
  EXPECT_EQ(r.cells[3], "NULL");
  EXPECT_EQ(r.cells[4], "");
}

TEST(StringFunctions, ExistingFunctionsStillWork) {
  EXPECT_EQ(One("length('ñandú')"), "5");
  EXPECT_EQ(One("upper('abc')"), "ABC");
  EXPECT_EQ(One("concat('a', NULL, 'b')"), "ab");
}

}  // namespace
}  // namespace sluice::expr
