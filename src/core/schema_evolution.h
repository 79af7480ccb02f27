// How a table's schema may change when a batch writes other columns than the
// table has (a new pipeline version): `schema_evolution` in a pipeline spec,
// one setting for its lake tables and its database outputs.
//
//   reject  any difference fails the batch (the default)
//   evolve  new nullable columns are added, int32 -> int64 and a decimal's
//           precision up (same scale) widen the column; rows written before
//           read NULL in a new column; a nullable column the batch no longer
//           writes stays, NULL in its rows
//   freeze  the table keeps its columns: the batch's new ones are dropped
//           (with a warning)
//
// Incompatible changes (a narrower or other type, a not-null column the
// batch does not write, a new not-null column) are refused under every
// setting, before any row is written, naming the column and both types.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/types.h"

namespace sluice {

enum class SchemaEvolution { kReject, kEvolve, kFreeze };
std::string_view SchemaEvolutionName(SchemaEvolution e);
Result<SchemaEvolution> ParseSchemaEvolution(std::string_view name);

// Whether a column of type `from` may become `to` in place (its values all
// fit): int32 -> int64, decimal(p,s) -> decimal(q,s) with q > p.
bool IsWidening(const DataType& from, const DataType& to);

struct SchemaChange {
  Schema merged;                          // the table's schema once the batch is in
  std::vector<Field> added;               // columns the batch adds
  std::vector<std::string> widened;       // "amount: decimal(10,2) -> decimal(12,2)"
  std::vector<std::string> dropped;       // nullable columns the batch does not write
  std::vector<std::string> incompatible;  // why the batch cannot go into the table
};

// How the table's schema `table` would change to take rows of `batch` (under
// evolve; freeze ignores `added`). Column order: the table's, then the
// batch's new columns in its order.
SchemaChange CompareSchemas(const Schema& table, const Schema& batch);

}  // namespace sluice
