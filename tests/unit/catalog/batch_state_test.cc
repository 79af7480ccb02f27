#include <gtest/gtest.h>

#include "catalog/catalog.h"

namespace sluice {
namespace {

TEST(BatchStateTest, NamesRoundTrip) {
  const std::pair<BatchState, const char*> cases[] = {
      {BatchState::kLanded, "landed"},           {BatchState::kQueued, "queued"},
      {BatchState::kProcessing, "processing"},   {BatchState::kCommitting, "committing"},
      {BatchState::kCommitted, "committed"},     {BatchState::kFailed, "failed"},
      {BatchState::kQuarantined, "quarantined"},
  };
  for (const auto& [state, name] : cases) {
    EXPECT_EQ(BatchStateName(state), name);
    auto parsed = ParseBatchState(name);
    ASSERT_TRUE(parsed.ok()) << name;
    EXPECT_EQ(*parsed, state);
  }
}

TEST(BatchStateTest, UnknownNameIsInvalidArgument) {
  auto parsed = ParseBatchState("Committed");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(parsed.status().message().find("'Committed'"), std::string::npos);
  EXPECT_FALSE(ParseBatchState("").ok());
}

TEST(BatchStateTest, OnlyCommittedAndQuarantinedAreTerminal) {
  EXPECT_TRUE(IsTerminal(BatchState::kCommitted));
  EXPECT_TRUE(IsTerminal(BatchState::kQuarantined));
  EXPECT_FALSE(IsTerminal(BatchState::kFailed));
  EXPECT_FALSE(IsTerminal(BatchState::kProcessing));
}

}  // namespace
}  // namespace sluice
