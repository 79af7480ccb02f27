#include "format/csv_header.h"

#include <simdjson.h>

#include <unordered_map>
#include <unordered_set>

#include "core/value_text.h"
#include "format/csv_reader.h"

namespace sluice {

std::vector<CsvColumnName> CsvColumnNames(const std::vector<std::string_view>& raw) {
  std::vector<CsvColumnName> out(raw.size());
  std::unordered_set<std::string> used;
  std::unordered_map<std::string, int> next_suffix;
  used.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    std::string base(TrimBlanks(raw[i]));
    if (base.empty() || !simdjson::validate_utf8(base.data(), base.size())) {
      base = "column_" + std::to_string(i + 1);
    }
    std::string name = base;
    if (used.count(name) > 0) {
      out[i].repeated = true;
      int& k = next_suffix[base];
      if (k < 2) k = 2;
      do {
        name = base + "_" + std::to_string(k++);
      } while (used.count(name) > 0);
    }
    used.insert(name);
    out[i].name = std::move(name);
  }
  return out;
}

std::vector<CsvColumnName> CsvColumnNames(const CsvReader& reader) {
  std::vector<std::string_view> raw(reader.num_fields());
  for (size_t i = 0; i < raw.size(); ++i) raw[i] = reader.field(i);
  return CsvColumnNames(raw);
}

}  // namespace sluice
