// StagedRow: one record's typed values, held until the whole record has
// decoded cleanly and then appended to the batch in one go, so that a record
// which turns bad half-way leaves no partial row behind (used where values
// arrive in any order, as in NDJSON objects). ParseTextAs and the reason
// helpers below are shared by every decoder.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/column.h"
#include "core/types.h"

namespace sluice {

class BatchBuilder;

struct StagedValue {
  bool is_null = true;
  int64_t i = 0;       // bool, int32, int64, decimal (unscaled), date, timestamp
  double f = 0;        // float64
  std::string_view s;  // string; must outlive AppendTo()
};

class StagedRow {
 public:
  explicit StagedRow(const Schema& schema);

  // Marks every value NULL.
  void Reset();
  StagedValue& value(int i) { return values_[i]; }
  // Parses `text` as field i's type (strings are taken as they are). Returns
  // false when the text does not parse; the value is then left NULL.
  bool SetText(int i, std::string_view text);
  // The first non-nullable field holding NULL, or -1.
  int FirstNullInRequired() const;
  // Appends the values as one row of `out` (built for the same schema).
  void AppendTo(BatchBuilder* out) const;
  // Storage that lives until the next Reset(), for values that are built
  // rather than sliced from the input (e.g. minified JSON).
  std::string* owned(int i) { return &owned_[i]; }

 private:
  std::vector<DataType> types_;
  std::vector<int> required_;  // indexes of non-nullable fields
  std::vector<StagedValue> values_;
  std::vector<std::string> owned_;
};

// Parses `text` as a value of `type` into *out (out->is_null set to false).
bool ParseTextAs(std::string_view text, const DataType& type, StagedValue* out);
// "cannot parse 'abc' as int64", with long text shortened.
std::string CannotParseReason(std::string_view text, const DataType& type);
// A record's text for BadRecord::raw, capped so one huge line cannot blow up
// the quarantine output.
std::string CapRaw(std::string_view raw);
inline constexpr size_t kMaxRawBytes = 64 * 1024;

}  // namespace sluice
