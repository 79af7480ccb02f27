// Planning a table read's `where`: the top-level AND conjuncts of the form
// `column op constant` (=, <, <=, >, >=, BETWEEN, IN; either side; a column
// under an order-preserving implicit widening) become one conservative range
// per column, in the column's own type, rounded outwards. The reader prunes
// files (partition values), row groups (chunk statistics) and pages (the
// page index) with them; it never decides which rows match by them.
//
// Internal to the engine's table reader (table_reader.cc) and its tests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/types.h"
#include "expr/expr.h"
#include "format/staged_row.h"

namespace sluice::table_internal {

enum class TrDomain { kInt, kFloat, kString, kNone };

TrDomain TrDomainOf(TypeId id);

// A conservative range of one read column's values, in the column's own type
// (ints: int32/int64/date/timestamp values, decimals unscaled). Pruning
// keeps whatever may hold a value inside it.
struct TrRange {
  int field = -1;  // in the read schema
  DataType type;
  bool has_lo = false, has_hi = false;
  int64_t ilo = 0, ihi = 0;
  double flo = 0, fhi = 0;
  std::string slo, shi;
};

// The ranges the conjuncts of `where` (bound against the read schema) put
// on read columns. *impossible: some conjunct can never be true.
class TrRangeBuilder {
 public:
  explicit TrRangeBuilder(const Schema& read) : read_(read) {}

  // Adds the conjuncts of one bound boolean expression.
  void Add(const expr::Expr& e);
  bool impossible() const { return impossible_; }
  // The ranges with at least one bound, one per column.
  std::vector<TrRange> Take();

 private:
  void AddIn(const expr::Expr& e);
  void Bound(int field, const expr::Scalar& v, const DataType& t, bool lower);
  TrRange& RangeOf(int field);

  const Schema& read_;
  std::vector<TrRange> ranges_;
  bool impossible_ = false;
};

// A bound as the text ParquetRangeFilter takes (the column's own spelling).
std::string TrBoundText(const TrRange& r, bool lower);

// Whether a value parsed in the range's type lies inside it.
bool TrInside(const TrRange& r, const StagedValue& v, std::string_view text);

// Marks the columns `e` reads.
void TrCollectColumns(const expr::Expr& e, std::vector<bool>* used);

}  // namespace sluice::table_internal
