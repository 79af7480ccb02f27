// The names sluice reads a CSV header as. Inference and the decoder share
// them, so a schema inferred from a file always reads that file back:
//   - blanks around a name are dropped;
//   - an empty name, or one that is not valid UTF-8, becomes column_<N>
//     (N = the column's 1-based position);
//   - a name already taken gets the first free suffix _2, _3, ... in column
//     order ("a,a" reads as a, a_2).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sluice {

class CsvReader;

struct CsvColumnName {
  std::string name;  // the unique name the column is read as
  // True when the header's own (trimmed) name was taken by an earlier column,
  // so this column was renamed with a suffix.
  bool repeated = false;
};

std::vector<CsvColumnName> CsvColumnNames(const std::vector<std::string_view>& raw);
// The names of the header record `reader` has just read.
std::vector<CsvColumnName> CsvColumnNames(const CsvReader& reader);

}  // namespace sluice
