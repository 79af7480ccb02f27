#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "sink/sink.h"
#include "sink_test_util.h"

namespace sluice {
namespace {

using ::sluice::testing::TempDir;
using ::testing::ElementsAre;

class CleanupStagingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    store_ = NewLocalObjectStore(dir_.path());
    for (const char* key :
         {"staging/7/a1/orders/part-00000.parquet", "staging/7/a2/orders/day=1/part-00000.parquet",
          "staging/7/a2/other/part-00000.parquet", "staging/7/a3/orders/part-00000.parquet",
          "staging/7/a10/orders/part-00000.parquet", "staging/77/a1/orders/part-00000.parquet",
          "lake/orders/part-b7-00000.parquet"}) {
      auto out = store_->OpenWrite(key);
      ASSERT_TRUE(out.ok()) << out.status().ToString();
      ASSERT_TRUE((*out)->Write(std::string_view("data")).ok());
      ASSERT_TRUE((*out)->Close().ok());
    }
  }

  std::vector<std::string> Keys() {
    std::vector<std::string> keys;
    auto listed = store_->List("");
    EXPECT_TRUE(listed.ok()) << listed.status().ToString();
    if (!listed.ok()) return keys;
    for (const ObjectInfo& o : *listed) keys.push_back(o.key);
    return keys;
  }

  TempDir dir_;
  std::unique_ptr<ObjectStore> store_;
};

// Attempt 3 starting removes only attempts 1 and 2: attempt 10 is newer, so
// it belongs to a live worker (issue 9: a worker whose lease had lapsed
// deleted the live attempt's staged Parquet just before it committed).
TEST_F(CleanupStagingTest, RemovesOnlyOlderAttempts) {
  ASSERT_TRUE(CleanupStaging(*store_, 7, 3).ok());
  EXPECT_THAT(Keys(), ElementsAre("lake/orders/part-b7-00000.parquet",
                                  "staging/7/a10/orders/part-00000.parquet",
                                  "staging/7/a3/orders/part-00000.parquet",
                                  "staging/77/a1/orders/part-00000.parquet"));
}

TEST_F(CleanupStagingTest, AttemptOneRemovesNothing) {
  ASSERT_TRUE(CleanupStaging(*store_, 7, 1).ok());
  EXPECT_EQ(Keys().size(), 7u);
}

TEST_F(CleanupStagingTest, AfterTheCommitOfAttemptTenEverythingGoes) {
  ASSERT_TRUE(CleanupStaging(*store_, 7, 11).ok());
  EXPECT_THAT(Keys(), ElementsAre("lake/orders/part-b7-00000.parquet",
                                  "staging/77/a1/orders/part-00000.parquet"));
}

TEST_F(CleanupStagingTest, ZeroRemovesAllAttempts) {
  ASSERT_TRUE(CleanupStaging(*store_, 7, 0).ok());
  EXPECT_THAT(Keys(), ElementsAre("lake/orders/part-b7-00000.parquet",
                                  "staging/77/a1/orders/part-00000.parquet"));
  // Nothing left to do is fine.
  EXPECT_TRUE(CleanupStaging(*store_, 7, 0).ok());
  EXPECT_TRUE(CleanupStaging(*store_, 12345, 3).ok());
}

}  // namespace
}  // namespace sluice
