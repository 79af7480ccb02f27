#include "format/staged_row.h"

#include "core/value_text.h"
#include "format/batch_builder.h"

namespace sluice {

StagedRow::StagedRow(const Schema& schema) {
  for (const Field& f : schema.fields()) {
    if (!f.nullable) required_.push_back(static_cast<int>(types_.size()));
    types_.push_back(f.type);
  }
  values_.resize(types_.size());
  owned_.resize(types_.size());
}

void StagedRow::Reset() {
  for (StagedValue& v : values_) v.is_null = true;
}

bool StagedRow::SetText(int i, std::string_view text) {
  return ParseTextAs(text, types_[i], &values_[i]);
}

int StagedRow::FirstNullInRequired() const {
  for (int i : required_) {
    if (values_[i].is_null) return i;
  }
  return -1;
}

void StagedRow::AppendTo(BatchBuilder* out) const {
  out->BeginRow();
  for (size_t c = 0; c < values_.size(); ++c) {
    const StagedValue& v = values_[c];
    const int f = static_cast<int>(c);
    if (v.is_null) {
      out->SetNull(f);
      continue;
    }
    switch (types_[c].id) {
      case TypeId::kBool:
        out->Set<uint8_t>(f, static_cast<uint8_t>(v.i != 0));
        break;
      case TypeId::kInt32:
      case TypeId::kDate:
        out->Set<int32_t>(f, static_cast<int32_t>(v.i));
        break;
      case TypeId::kInt64:
      case TypeId::kDecimal:
      case TypeId::kTimestamp:
        out->Set<int64_t>(f, v.i);
        break;
      case TypeId::kFloat64:
        out->Set<double>(f, v.f);
        break;
      case TypeId::kString:
        out->SetString(f, v.s);
        break;
    }
  }
  out->CommitRow();
}

bool ParseTextAs(std::string_view text, const DataType& type, StagedValue* out) {
  bool ok = false;
  switch (type.id) {
    case TypeId::kBool: {
      bool b = false;
      ok = ParseBool(text, &b);
      out->i = b ? 1 : 0;
      break;
    }
    case TypeId::kInt32: {
      int32_t v = 0;
      ok = ParseInt32(text, &v);
      out->i = v;
      break;
    }
    case TypeId::kInt64:
      ok = ParseInt64(text, &out->i);
      break;
    case TypeId::kFloat64:
      ok = ParseFloat64(text, &out->f);
      break;
    case TypeId::kDecimal:
      ok = ParseDecimal(text, type.precision, type.scale, &out->i);
      break;
    case TypeId::kString:
      out->s = text;
      ok = true;
      break;
    case TypeId::kDate: {
      int32_t d = 0;
      ok = ParseDate(text, &d);
      out->i = d;
      break;
    }
    case TypeId::kTimestamp:
      ok = ParseTimestamp(text, &out->i);
      break;
  }
  out->is_null = !ok;
  return ok;
}

std::string CannotParseReason(std::string_view text, const DataType& type) {
  constexpr size_t kShown = 64;
  std::string shown(text.substr(0, kShown));
  if (text.size() > kShown) shown += "...";
  return "cannot parse '" + shown + "' as " + type.ToString();
}

std::string CapRaw(std::string_view raw) { return std::string(raw.substr(0, kMaxRawBytes)); }

}  // namespace sluice
