#include "format/parquet/parquet_types.h"

namespace sluice::parquet {

namespace {

LeafType Unsupported(LeafType t, std::string what) {
  t.kind = LeafKind::kUnsupported;
  t.unsupported = std::move(what);
  return t;
}

bool DecimalPhysicalOk(int32_t p) {
  return p == ptype::kInt32 || p == ptype::kInt64 || p == ptype::kFixedLenByteArray ||
         p == ptype::kByteArray;
}

LeafType Decimal(LeafType t, int precision, int scale) {
  if (!DecimalPhysicalOk(t.physical)) {
    return Unsupported(t, "DECIMAL on " + std::string(PhysicalTypeName(t.physical)));
  }
  if (precision < 1 || scale < 0 || scale > precision) {
    return Unsupported(t, "DECIMAL(" + std::to_string(precision) + "," + std::to_string(scale) +
                              ") (invalid precision or scale)");
  }
  t.kind = LeafKind::kDecimal;
  t.precision = precision;
  t.scale = scale;
  return t;
}

LeafType Physical(LeafType t) {
  switch (t.physical) {
    case ptype::kBoolean:
      t.kind = LeafKind::kBool;
      return t;
    case ptype::kInt32:
      t.kind = LeafKind::kInt;
      t.bit_width = 32;
      return t;
    case ptype::kInt64:
      t.kind = LeafKind::kInt;
      t.bit_width = 64;
      return t;
    case ptype::kInt96:
      t.kind = LeafKind::kTimestamp;
      t.unit = 3;
      return t;
    case ptype::kFloat:
    case ptype::kDouble:
      t.kind = LeafKind::kFloat;
      return t;
    case ptype::kByteArray:
    case ptype::kFixedLenByteArray:
      t.kind = LeafKind::kString;
      return t;
  }
  return Unsupported(t, "physical type " + std::to_string(t.physical));
}

// An annotation sluice does not know: read the physical type, and mark it so
// that statistics (whose order the annotation may define) are not trusted.
LeafType Fallback(LeafType t) {
  t = Physical(t);
  t.unknown_annotation = t.kind != LeafKind::kUnsupported;
  return t;
}

// The legacy converted type (or, without one, the physical type) of a leaf;
// t has the physical type and length filled in.
LeafType FromConverted(const SchemaNode& node, LeafType t) {
  const bool is_int = t.physical == ptype::kInt32 || t.physical == ptype::kInt64;
  if (!node.converted) return Physical(t);
  switch (*node.converted) {
    case converted::kUtf8:
    case converted::kEnum:
    case converted::kJson:
    case converted::kBson:
      if (t.physical != ptype::kByteArray) break;
      t.kind = LeafKind::kString;
      return t;
    case converted::kDecimal:
      return Decimal(t, node.precision, node.scale);
    case converted::kDate:
      if (t.physical != ptype::kInt32) break;
      t.kind = LeafKind::kDate;
      return t;
    case converted::kTimeMillis:
      if (t.physical != ptype::kInt32) break;
      t.kind = LeafKind::kTime;
      t.unit = 1;
      return t;
    case converted::kTimeMicros:
      if (t.physical != ptype::kInt64) break;
      t.kind = LeafKind::kTime;
      t.unit = 2;
      return t;
    case converted::kTimestampMillis:
    case converted::kTimestampMicros:
      if (t.physical != ptype::kInt64) break;
      t.kind = LeafKind::kTimestamp;
      t.unit = *node.converted == converted::kTimestampMillis ? 1 : 2;
      return t;
    case converted::kUint8:
    case converted::kUint16:
    case converted::kUint32:
    case converted::kUint64:
    case converted::kInt8:
    case converted::kInt16:
    case converted::kInt32:
    case converted::kInt64: {
      if (!is_int) break;
      static const int kWidths[] = {8, 16, 32, 64, 8, 16, 32, 64};
      t.kind = LeafKind::kInt;
      t.bit_width = kWidths[*node.converted - converted::kUint8];
      t.is_unsigned = *node.converted <= converted::kUint64;
      return t;
    }
    case converted::kInterval:
      return Unsupported(t, "INTERVAL");
    case converted::kMap:
    case converted::kMapKeyValue:
    case converted::kList:
      return Unsupported(t, "nested type (LIST/MAP)");
    default:
      // A converted type from a later format version: its values are still
      // values of the physical type.
      return Fallback(t);
  }
  return Unsupported(t, "converted type " + std::to_string(*node.converted) + " on " +
                            std::string(PhysicalTypeName(t.physical)));
}

}  // namespace

LeafType ClassifyLeaf(const SchemaNode& node) {
  LeafType t;
  t.physical = node.type.value_or(-1);
  t.type_length = node.type_length;
  if (t.physical == ptype::kFixedLenByteArray && (t.type_length <= 0 || t.type_length > 1 << 20)) {
    return Unsupported(t, "FIXED_LEN_BYTE_ARRAY with length " + std::to_string(t.type_length));
  }
  const bool is_int = t.physical == ptype::kInt32 || t.physical == ptype::kInt64;
  if (node.logical) {
    const LogicalAnnotation& l = *node.logical;
    switch (l.id) {
      case logical::kString:
      case logical::kEnum:
      case logical::kJson:
      case logical::kBson:
        if (t.physical != ptype::kByteArray) break;
        t.kind = LeafKind::kString;
        return t;
      case logical::kDecimal:
        return Decimal(t, l.precision, l.scale);
      case logical::kDate:
        if (t.physical != ptype::kInt32) break;
        t.kind = LeafKind::kDate;
        return t;
      case logical::kTime:
      case logical::kTimestamp: {
        bool ok = l.unit == 1 ? t.physical == ptype::kInt32 || l.id == logical::kTimestamp
                              : t.physical == ptype::kInt64;
        if (l.id == logical::kTimestamp && t.physical != ptype::kInt64) ok = false;
        if (!ok || l.unit < 1 || l.unit > 3) break;
        t.kind = l.id == logical::kTime ? LeafKind::kTime : LeafKind::kTimestamp;
        t.unit = l.unit;
        return t;
      }
      case logical::kInteger: {
        if (!is_int ||
            (l.bit_width != 8 && l.bit_width != 16 && l.bit_width != 32 && l.bit_width != 64)) {
          break;
        }
        t.kind = LeafKind::kInt;
        t.bit_width = l.bit_width;
        t.is_unsigned = !l.is_signed;
        return t;
      }
      case logical::kUnknown:
        return Physical(t);
      case logical::kUuid:
        if (t.physical != ptype::kFixedLenByteArray || t.type_length != 16) break;
        t.kind = LeafKind::kUuid;
        return t;
      case logical::kFloat16:
        if (t.physical != ptype::kFixedLenByteArray || t.type_length != 2) break;
        t.kind = LeafKind::kFloat;
        t.float16 = true;
        return t;
      case logical::kMap:
      case logical::kList:
        return Unsupported(t, "nested type (LIST/MAP)");
      default:
        // A logical type from a later format version. Writers keep the
        // converted type for readers that predate the logical one; without
        // one, the values are still values of the physical type.
        if (node.converted) return FromConverted(node, t);
        return Fallback(t);
    }
    return Unsupported(t, "logical type " + std::to_string(l.id) + " on " +
                              std::string(PhysicalTypeName(t.physical)));
  }
  return FromConverted(node, t);
}

Result<DataType> NaturalType(const LeafType& leaf, const std::string& column,
                             const std::string& file) {
  switch (leaf.kind) {
    case LeafKind::kBool:
      return DataType::Bool();
    case LeafKind::kInt:
      if (leaf.bit_width < 32 || (leaf.bit_width == 32 && !leaf.is_unsigned)) {
        return DataType::Int32();
      }
      return DataType::Int64();
    case LeafKind::kFloat:
      return DataType::Float64();
    case LeafKind::kString:
    case LeafKind::kUuid:
    case LeafKind::kTime:
      return DataType::String();
    case LeafKind::kDecimal:
      if (leaf.precision > kMaxDecimalPrecision) {
        return Status::InvalidArgument(
            "parquet file '" + file + "', column '" + column + "': DECIMAL(" +
            std::to_string(leaf.precision) + "," + std::to_string(leaf.scale) +
            ") has a precision above " + std::to_string(kMaxDecimalPrecision) +
            ", which sluice decimals cannot hold; declare the column as string");
      }
      return DataType::Decimal(leaf.precision, leaf.scale);
    case LeafKind::kDate:
      return DataType::Date();
    case LeafKind::kTimestamp:
      return DataType::Timestamp();
    case LeafKind::kUnsupported:
      break;
  }
  return Status::InvalidArgument("parquet file '" + file + "', column '" + column +
                                 "': " + leaf.unsupported + " is not supported");
}

std::string DescribeLeaf(const LeafType& leaf) {
  std::string s(PhysicalTypeName(leaf.physical));
  static const char* const kUnits[] = {"", "MILLIS", "MICROS", "NANOS"};
  const char* unit = leaf.unit >= 1 && leaf.unit <= 3 ? kUnits[leaf.unit] : "?";
  switch (leaf.kind) {
    case LeafKind::kInt:
      if (leaf.bit_width != (leaf.physical == ptype::kInt32 ? 32 : 64) || leaf.is_unsigned) {
        s += " (INT(" + std::to_string(leaf.bit_width) + ", " +
             (leaf.is_unsigned ? "unsigned" : "signed") + "))";
      }
      break;
    case LeafKind::kDecimal:
      s += " (DECIMAL(" + std::to_string(leaf.precision) + "," + std::to_string(leaf.scale) + "))";
      break;
    case LeafKind::kDate:
      s += " (DATE)";
      break;
    case LeafKind::kTimestamp:
      if (leaf.physical != ptype::kInt96) s += std::string(" (TIMESTAMP(") + unit + "))";
      break;
    case LeafKind::kTime:
      s += std::string(" (TIME(") + unit + "))";
      break;
    case LeafKind::kUuid:
      s += " (UUID)";
      break;
    case LeafKind::kString:
      if (leaf.physical == ptype::kByteArray) s += " (STRING)";
      break;
    default:
      break;
  }
  return s;
}

}  // namespace sluice::parquet
