#include "transform/key_encoding.h"

#include <cmath>
#include <limits>

namespace sluice {

using expr::Phys;
using expr::Vec;

// Appends row i of v (valid or not) to col.
void AppendVecValue(const Vec& v, int64_t i, Column* col) {
  if (!v.IsValid(i)) {
    col->AppendNull();
    return;
  }
  switch (v.type().id) {
    case TypeId::kBool:
      col->Append<uint8_t>(v.Bool(i));
      break;
    case TypeId::kInt32:
    case TypeId::kDate:
      col->Append<int32_t>(static_cast<int32_t>(v.Int(i)));
      break;
    case TypeId::kInt64:
    case TypeId::kDecimal:
    case TypeId::kTimestamp:
      col->Append<int64_t>(v.Int(i));
      break;
    case TypeId::kFloat64:
      col->Append<double>(v.Float(i));
      break;
    case TypeId::kString:
      col->AppendString(v.Str(i));
      break;
  }
}

// Appends a type tag and the value's bytes (the group key encoding).
void EncodeKeyValue(const Vec& v, int64_t i, std::string* out) {
  if (!v.IsValid(i)) {
    out->push_back('\0');
    return;
  }
  out->push_back('\1');
  switch (v.phys()) {
    case Phys::kBool:
      out->push_back(static_cast<char>(v.Bool(i)));
      break;
    case Phys::kInt: {
      int64_t x = v.Int(i);
      out->append(reinterpret_cast<const char*>(&x), 8);
      break;
    }
    case Phys::kFloat: {
      double d = v.Float(i);
      if (d == 0) d = 0;  // -0.0 and 0.0 are one group
      if (std::isnan(d)) d = std::numeric_limits<double>::quiet_NaN();
      out->append(reinterpret_cast<const char*>(&d), 8);
      break;
    }
    case Phys::kString: {
      std::string_view s = v.Str(i);
      uint32_t len = static_cast<uint32_t>(s.size());
      out->append(reinterpret_cast<const char*>(&len), 4);
      out->append(s);
      break;
    }
  }
}

}  // namespace sluice
