#include "core/cell_text.h"

#include <charconv>
#include <cmath>

#include "core/value_text.h"

namespace sluice {

std::string FormatFloat64(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

std::string CellText(const Column& col, int64_t row) {
  if (col.IsNull(row)) return {};
  const DataType& t = col.type();
  switch (t.id) {
    case TypeId::kBool:
      return col.Value<uint8_t>(row) ? "true" : "false";
    case TypeId::kInt32:
      return std::to_string(col.Value<int32_t>(row));
    case TypeId::kInt64:
      return std::to_string(col.Value<int64_t>(row));
    case TypeId::kFloat64:
      return FormatFloat64(col.Value<double>(row));
    case TypeId::kDecimal:
      return FormatDecimal(col.Value<int64_t>(row), t.scale);
    case TypeId::kString:
      return std::string(col.GetString(row));
    case TypeId::kDate:
      return FormatDate(col.Value<int32_t>(row));
    case TypeId::kTimestamp:
      return FormatTimestamp(col.Value<int64_t>(row));
  }
  return {};
}

std::string RowAsCsv(const RecordBatch& batch, int64_t row) {
  std::string out;
  for (size_t c = 0; c < batch.columns.size(); ++c) {
    if (c > 0) out.push_back(',');
    std::string cell = CellText(batch.columns[c], row);
    if (cell.find_first_of(",\"\r\n") == std::string::npos) {
      out += cell;
      continue;
    }
    out.push_back('"');
    for (char ch : cell) {
      if (ch == '"') out.push_back('"');
      out.push_back(ch);
    }
    out.push_back('"');
  }
  return out;
}

}  // namespace sluice
