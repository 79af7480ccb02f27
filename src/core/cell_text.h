// One cell or one row of a batch as text: the spelling used by cast (any type
// -> string), by bad-record raw text, and by the golden tests.
//   bool      true / false
//   int32/64  decimal digits
//   float64   shortest text that reads back to the same double; nan, inf, -inf
//   decimal   FormatDecimal ("12.50")
//   date      YYYY-MM-DD;  timestamp  YYYY-MM-DDTHH:MM:SS[.ffffff]Z
//   string    as is
#pragma once

#include <cstdint>
#include <string>

#include "core/column.h"

namespace sluice {

std::string FormatFloat64(double v);
// Text of a valid cell; "" for a null one.
std::string CellText(const Column& col, int64_t row);
// The row as one CSV line: ',' between cells, a cell quoted with '"' when it
// holds ',', '"', CR or LF; a null cell is empty.
std::string RowAsCsv(const RecordBatch& batch, int64_t row);

}  // namespace sluice
