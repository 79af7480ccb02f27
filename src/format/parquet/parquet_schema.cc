#include "format/parquet/parquet_schema.h"

namespace sluice::parquet {

PhysicalType PhysicalTypeOf(const DataType& type) {
  switch (type.id) {
    case TypeId::kBool:
      return PhysicalType::kBoolean;
    case TypeId::kInt32:
    case TypeId::kDate:
      return PhysicalType::kInt32;
    case TypeId::kDecimal:
      return type.precision <= 9 ? PhysicalType::kInt32 : PhysicalType::kInt64;
    case TypeId::kInt64:
    case TypeId::kTimestamp:
      return PhysicalType::kInt64;
    case TypeId::kFloat64:
      return PhysicalType::kDouble;
    case TypeId::kString:
      return PhysicalType::kByteArray;
  }
  return PhysicalType::kByteArray;
}

SchemaElement LeafSchemaElement(const Field& field) {
  SchemaElement e;
  e.name = field.name;
  e.type = PhysicalTypeOf(field.type);
  e.repetition = field.nullable ? Repetition::kOptional : Repetition::kRequired;
  LogicalType lt;
  switch (field.type.id) {
    case TypeId::kString:
      lt.kind = LogicalType::Kind::kString;
      e.logical_type = lt;
      e.converted_type = ConvertedType::kUtf8;
      break;
    case TypeId::kDecimal:
      lt.kind = LogicalType::Kind::kDecimal;
      lt.scale = field.type.scale;
      lt.precision = field.type.precision;
      e.logical_type = lt;
      e.converted_type = ConvertedType::kDecimal;
      e.scale = field.type.scale;
      e.precision = field.type.precision;
      break;
    case TypeId::kDate:
      lt.kind = LogicalType::Kind::kDate;
      e.logical_type = lt;
      e.converted_type = ConvertedType::kDate;
      break;
    case TypeId::kTimestamp:
      lt.kind = LogicalType::Kind::kTimestamp;
      lt.adjusted_to_utc = true;
      lt.unit = TimeUnit::kMicros;
      e.logical_type = lt;
      e.converted_type = ConvertedType::kTimestampMicros;
      break;
    default:
      break;
  }
  return e;
}

std::vector<SchemaElement> FlatSchemaElements(const Schema& schema) {
  std::vector<SchemaElement> out;
  out.reserve(schema.num_fields() + 1);
  SchemaElement root;
  root.name = "schema";
  root.num_children = schema.num_fields();
  out.push_back(std::move(root));
  for (const Field& f : schema.fields()) out.push_back(LeafSchemaElement(f));
  return out;
}

}  // namespace sluice::parquet
