#include "sink/partition.h"

#include <string>
#include <unordered_map>

#include "core/value_text.h"

namespace sluice {
namespace {

bool NeedsEscape(unsigned char c) {
  if (c < 0x20 || c == 0x7F) return true;
  switch (c) {
    // Hive's FileUtils.escapePathName set, plus '<', '>', '|' which some
    // filesystems and object stores reject.
    case '"':
    case '#':
    case '%':
    case '\'':
    case '*':
    case '/':
    case ':':
    case '=':
    case '?':
    case '\\':
    case '{':
    case '}':
    case '[':
    case ']':
    case '^':
    case '<':
    case '>':
    case '|':
      return true;
    default:
      return false;
  }
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Appends the physical bytes of one value to a grouping key. Equal values give
// equal bytes; the null marker keeps NULL apart from a zero value.
void AppendKeyBytes(const Column& col, int64_t row, std::string* key) {
  if (col.IsNull(row)) {
    key->push_back('\0');
    return;
  }
  key->push_back('\1');
  if (col.type().id == TypeId::kString) {
    std::string_view s = col.GetString(row);
    uint32_t n = static_cast<uint32_t>(s.size());
    key->append(reinterpret_cast<const char*>(&n), sizeof(n));
    key->append(s);
    return;
  }
  int w = col.type().FixedWidth();
  key->append(reinterpret_cast<const char*>(col.data<uint8_t>()) + row * w, w);
}

}  // namespace

std::string EscapePartitionValue(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if (NeedsEscape(c)) {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

std::string UnescapePartitionValue(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int hi = HexDigit(text[i + 1]);
      int lo = HexDigit(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::string PartitionValueText(const Column& column, int64_t row) {
  if (column.IsNull(row)) return std::string(kHiveNullPartition);
  const DataType& t = column.type();
  switch (t.id) {
    case TypeId::kBool:
      return column.Value<uint8_t>(row) ? "true" : "false";
    case TypeId::kInt32:
      return std::to_string(column.Value<int32_t>(row));
    case TypeId::kInt64:
      return std::to_string(column.Value<int64_t>(row));
    case TypeId::kFloat64:
      // Rejected by ResolvePartitionColumns; rendered for completeness.
      return std::to_string(column.Value<double>(row));
    case TypeId::kDecimal:
      return FormatDecimal(column.Value<int64_t>(row), t.scale);
    case TypeId::kString:
      return std::string(column.GetString(row));
    case TypeId::kDate:
      return FormatDate(column.Value<int32_t>(row));
    case TypeId::kTimestamp:
      return FormatTimestamp(column.Value<int64_t>(row));
  }
  return {};
}

Result<std::vector<int>> ResolvePartitionColumns(const Schema& schema,
                                                 const std::vector<std::string>& partition_by) {
  std::vector<int> cols;
  for (const std::string& name : partition_by) {
    int idx = schema.FieldIndex(name);
    if (idx < 0) {
      return Status::InvalidArgument("partition column '" + name +
                                     "' is not a column of the output schema");
    }
    for (int c : cols) {
      if (c == idx) return Status::InvalidArgument("partition column '" + name + "' is repeated");
    }
    if (schema.field(idx).type.id == TypeId::kFloat64) {
      return Status::InvalidArgument("partition column '" + name +
                                     "' is float64; partition by an exact type (int, decimal, "
                                     "string, date, timestamp, bool)");
    }
    cols.push_back(idx);
  }
  return cols;
}

std::vector<PartitionGroup> SplitByPartition(const RecordBatch& batch,
                                             const std::vector<int>& cols) {
  std::vector<PartitionGroup> groups;
  const int64_t n = batch.num_rows();
  if (n == 0) return groups;
  if (cols.empty()) {
    PartitionGroup g;
    g.rows.resize(n);
    for (int64_t i = 0; i < n; ++i) g.rows[i] = static_cast<uint32_t>(i);
    groups.push_back(std::move(g));
    return groups;
  }
  // Group on raw bytes and render the path once per group: rendering text for
  // every row (timestamps especially) would dominate the write.
  std::unordered_map<std::string, size_t> index;
  std::string key;
  for (int64_t i = 0; i < n; ++i) {
    key.clear();
    for (int c : cols) AppendKeyBytes(batch.columns[c], i, &key);
    auto [it, inserted] = index.try_emplace(key, groups.size());
    if (inserted) {
      PartitionGroup g;
      for (size_t k = 0; k < cols.size(); ++k) {
        int c = cols[k];
        if (k > 0) g.path.push_back('/');
        g.path += EscapePartitionValue(batch.schema.field(c).name);
        g.path.push_back('=');
        if (batch.columns[c].IsNull(i)) {
          g.path += kHiveNullPartition;
        } else {
          g.path += EscapePartitionValue(PartitionValueText(batch.columns[c], i));
        }
      }
      groups.push_back(std::move(g));
    }
    groups[it->second].rows.push_back(static_cast<uint32_t>(i));
  }
  return groups;
}

}  // namespace sluice
