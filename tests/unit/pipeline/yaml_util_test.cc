#include "pipeline/yaml_util.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(YamlToJson, CoreSchemaForPlainScalarsStringsWhenQuoted) {
  const std::pair<const char*, const char*> kCases[] = {
      {"v: 12", "12"},
      {"v: -7", "-7"},
      {"v: 0x1f", "31"},
      {"v: 2.5", "2.5"},
      {"v: 1e3", "1000.0"},
      {"v: true", "true"},
      {"v: False", "false"},
      {"v: ~", "null"},
      {"v:", "null"},
      {"v: null", "null"},
      {"v: yes", "\"yes\""},
      {"v: off", "\"off\""},
      {"v: '12'", "\"12\""},
      {"v: \"true\"", "\"true\""},
      {"v: !!str 5", "\"5\""},
      {"v: 12abc", "\"12abc\""},
      {"v: 99999999999999999999", "1e+20"},
      {"v: [1, a, {b: c}]", "[1,\"a\",{\"b\":\"c\"}]"},
      {"v: 1.", "1.0"},
      {"v: .5", "0.5"},
      {"v: -.inf", "null"},  // JSON has no infinity: nlohmann dumps it as null
  };
  for (auto [yaml, json] : kCases) {
    YAML::Node n = YAML::Load(yaml);
    EXPECT_EQ(YamlToJson(n["v"]).dump(), json) << yaml;
  }
}

TEST(EmitJsonAsYaml, ReadsBackEqual) {
  nlohmann::json v = nlohmann::json::parse(
      R"({"s": "true", "n": "12", "e": "", "x": "a: b", "h": "#c", "i": 3, "f": 2.0,
          "b": false, "z": null, "l": ["1", 1, "null", [], {}], "m": {"k": "v, w"},
          "neg": -0.5, "big": 1e300, "tab": "\t", "nl": "a\nb", "u": "é"})");
  YAML::Emitter out;
  EmitJsonAsYaml(out, v);
  ASSERT_TRUE(out.good());
  YAML::Node back = YAML::Load(out.c_str());
  EXPECT_EQ(YamlToJson(back), v) << out.c_str();
}

TEST(YamlMapEntries, OrderDuplicatesAndLines) {
  YAML::Node n = YAML::Load("b: 1\na: 2\n\nc: 3\n");
  auto e = YamlMapEntries(n, "f.yaml", "");
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->size(), 3u);
  EXPECT_EQ((*e)[0].key, "b");
  EXPECT_EQ((*e)[1].key, "a");
  EXPECT_EQ((*e)[2].line, 4);
  auto dup = YamlMapEntries(YAML::Load("x:\n  a: 1\n  a: 2\n")["x"], "f.yaml", "x");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.status().message(), "f.yaml:3: x.a: duplicate key");
  auto complex = YamlMapEntries(YAML::Load("? [a]\n: 1\n"), "f.yaml", "");
  EXPECT_FALSE(complex.ok());
}

TEST(ClosestName, SuggestsOnlySmallTypos) {
  std::vector<std::string> known = {"workers", "lease", "pipelines_dir", "catalog"};
  EXPECT_EQ(ClosestName("workres", known), "workers");
  EXPECT_EQ(ClosestName("leas", known), "lease");
  EXPECT_EQ(ClosestName("pipeline_dir", known), "pipelines_dir");
  EXPECT_EQ(ClosestName("zebra", known), "");
  EXPECT_EQ(ClosestName("x", known), "");
}

TEST(ParseYaml, SyntaxErrorsCarryTheLine) {
  auto r = ParseYaml("a: 1\nb: [2,\nc: 3\n", "f.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("f.yaml:", 0), 0u);
  EXPECT_NE(r.status().message().find("invalid YAML"), std::string::npos);
}

}  // namespace
}  // namespace sluice
