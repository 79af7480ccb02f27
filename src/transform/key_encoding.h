// Row keys as bytes, for hash tables keyed on one or more values (aggregate
// groups, lookup keys): each value is a null/valid tag then its bytes, so
// two keys are equal exactly when their values are (strings carry their
// length; -0.0 equals 0.0 and all NaNs are one key).
#pragma once

#include <string>

#include "core/column.h"
#include "expr/vec.h"

namespace sluice {

// Appends row i of v to *out.
void EncodeKeyValue(const expr::Vec& v, int64_t i, std::string* out);
// Appends row i of v (valid or not) to col (same type).
void AppendVecValue(const expr::Vec& v, int64_t i, Column* col);

}  // namespace sluice
