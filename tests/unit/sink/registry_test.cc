#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sink/sink.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

TEST(SinkRegistry, ListsKinds) {
  EXPECT_THAT(SinkKinds(), UnorderedElementsAre("table", "sqlite", "postgres"));
}

TEST(SinkRegistry, MakesEachKind) {
  struct Case {
    SinkSpec spec;
    std::string describe;
  };
  const Case cases[] = {
      {{"table", nlohmann::json{{"table", "orders"}, {"partition_by", {"day"}}}, "p.yaml:5"},
       "table:orders"},
      {{"sqlite", nlohmann::json{{"path", "out.db"}, {"table", "orders"}}, "p.yaml:8"},
       "sqlite:out.db#orders"},
      {{"postgres", nlohmann::json{{"dsn", "postgresql://u:secret@db/app"}, {"table", "orders"}},
        "p.yaml:9"},
       "postgres:postgresql://u:***@db/app#orders"},
  };
  for (const Case& c : cases) {
    auto sink = MakeSink(c.spec);
    ASSERT_TRUE(sink.ok()) << c.spec.kind << ": " << sink.status().ToString();
    EXPECT_EQ((*sink)->Describe(), c.describe);
  }
}

TEST(SinkRegistry, RejectsUnknownKindAndKeys) {
  auto unknown = MakeSink({"mysql", nlohmann::json::object(), "p.yaml:11"});
  EXPECT_EQ(unknown.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(), HasSubstr("p.yaml:11"));
  EXPECT_THAT(unknown.status().message(), HasSubstr("'mysql'"));
  EXPECT_THAT(unknown.status().message(), HasSubstr("table, sqlite, postgres"));

  auto key = MakeSink({"table", nlohmann::json{{"table", "t"}, {"colour", "red"}}, "p.yaml:12"});
  EXPECT_EQ(key.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(key.status().message(), HasSubstr("p.yaml:12"));
  EXPECT_THAT(key.status().message(), HasSubstr("'colour'"));

  auto sq = MakeSink({"sqlite", nlohmann::json{{"path", "a.db"}, {"table", "t"}, {"x", 1}}, "p:1"});
  EXPECT_EQ(sq.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(sq.status().message(), HasSubstr("'x'"));
}

}  // namespace
}  // namespace sluice
