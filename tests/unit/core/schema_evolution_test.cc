#include "core/schema_evolution.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

Schema EvolutionTable() {
  return Schema({{"id", DataType::Int32(), false},
                 {"amount", DataType::Decimal(10, 2), true},
                 {"note", DataType::String(), true}});
}

TEST(SchemaEvolutionTest, NamesRoundTrip) {
  for (auto e : {SchemaEvolution::kReject, SchemaEvolution::kEvolve, SchemaEvolution::kFreeze}) {
    EXPECT_EQ(*ParseSchemaEvolution(SchemaEvolutionName(e)), e);
  }
  EXPECT_EQ(ParseSchemaEvolution("grow").status().code(), StatusCode::kInvalidArgument);
}

TEST(SchemaEvolutionTest, WideningIsInt32ToInt64AndMoreDecimalDigits) {
  EXPECT_TRUE(IsWidening(DataType::Int32(), DataType::Int64()));
  EXPECT_TRUE(IsWidening(DataType::Decimal(10, 2), DataType::Decimal(12, 2)));
  EXPECT_FALSE(IsWidening(DataType::Int64(), DataType::Int32()));
  EXPECT_FALSE(IsWidening(DataType::Decimal(10, 2), DataType::Decimal(12, 3)));  // scale moves
  EXPECT_FALSE(IsWidening(DataType::Decimal(12, 2), DataType::Decimal(10, 2)));
  EXPECT_FALSE(IsWidening(DataType::Int64(), DataType::String()));
}

TEST(SchemaEvolutionTest, AddsNullableColumnsAndWidens) {
  Schema batch({{"id", DataType::Int64(), false},
                {"amount", DataType::Decimal(12, 2), true},
                {"note", DataType::String(), true},
                {"channel", DataType::String(), true}});
  SchemaChange c = CompareSchemas(EvolutionTable(), batch);
  EXPECT_TRUE(c.incompatible.empty());
  ASSERT_EQ(c.added.size(), 1u);
  EXPECT_EQ(c.added[0].name, "channel");
  EXPECT_EQ(c.widened, (std::vector<std::string>{"id: int32 -> int64",
                                                 "amount: decimal(10,2) -> decimal(12,2)"}));
  EXPECT_EQ(c.merged, batch);
}

TEST(SchemaEvolutionTest, ANullableColumnTheBatchDropsStays) {
  Schema batch({{"id", DataType::Int32(), false}, {"amount", DataType::Decimal(10, 2), true}});
  SchemaChange c = CompareSchemas(EvolutionTable(), batch);
  EXPECT_TRUE(c.incompatible.empty());
  EXPECT_EQ(c.dropped, std::vector<std::string>{"note"});
  EXPECT_EQ(c.merged, EvolutionTable());
}

TEST(SchemaEvolutionTest, IncompatibleChangesNameTheColumnAndBothTypes) {
  Schema batch({{"amount", DataType::Decimal(8, 2), true},
                {"note", DataType::Int64(), true},
                {"code", DataType::String(), false}});
  SchemaChange c = CompareSchemas(EvolutionTable(), batch);
  EXPECT_EQ(c.incompatible,
            (std::vector<std::string>{
                "column 'id' (int32 not null) is not written by the batch",
                "column 'amount' is decimal(10,2) in the table but decimal(8,2) in the batch "
                "(narrowing)",
                "column 'note' is string in the table but int64 in the batch",
                "new column 'code' (string not null) cannot be added: rows written before have "
                "no value"}));
}

}  // namespace
}  // namespace sluice
