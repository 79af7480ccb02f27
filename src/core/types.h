// Logical types, fields and schemas.
//
// Every value in sluice has one of eight logical types. Their in-memory
// (physical) representation in a Column is fixed:
//   bool       uint8_t (0/1)
//   int32      int32_t
//   int64      int64_t
//   float64    double
//   decimal    int64_t unscaled value; precision 1..18, scale 0..precision
//   string     uint32_t offsets + UTF-8 bytes
//   date       int32_t days since 1970-01-01
//   timestamp  int64_t microseconds since 1970-01-01T00:00:00Z (UTC)
// Decimal precision above 18 is rejected with a clear error (no 128-bit path yet).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sluice {

enum class TypeId : uint8_t {
  kBool,
  kInt32,
  kInt64,
  kFloat64,
  kDecimal,
  kString,
  kDate,
  kTimestamp,
};

inline constexpr int kMaxDecimalPrecision = 18;

inline constexpr bool IsIntegerType(TypeId t) { return t == TypeId::kInt32 || t == TypeId::kInt64; }
inline constexpr bool IsNumericType(TypeId t) {
  return IsIntegerType(t) || t == TypeId::kDecimal || t == TypeId::kFloat64;
}

struct DataType {
  TypeId id = TypeId::kString;
  uint8_t precision = 0;  // decimal only
  uint8_t scale = 0;      // decimal only

  static DataType Bool() { return {TypeId::kBool}; }
  static DataType Int32() { return {TypeId::kInt32}; }
  static DataType Int64() { return {TypeId::kInt64}; }
  static DataType Float64() { return {TypeId::kFloat64}; }
  static DataType Decimal(int p, int s) {
    return {TypeId::kDecimal, static_cast<uint8_t>(p), static_cast<uint8_t>(s)};
  }
  static DataType String() { return {TypeId::kString}; }
  static DataType Date() { return {TypeId::kDate}; }
  static DataType Timestamp() { return {TypeId::kTimestamp}; }

  // Size in bytes of one value in a Column's data buffer; 0 for string.
  int FixedWidth() const;
  // "int64", "decimal(12,2)", ... (the spelling Parse accepts).
  std::string ToString() const;
  // Parses "int64", "decimal(12,2)", "timestamp", ... (case-insensitive;
  // aliases: integer/int -> int32, bigint/long -> int64, double/float -> float64,
  // boolean -> bool, text/varchar -> string).
  static Result<DataType> Parse(std::string_view text);

  bool operator==(const DataType& o) const {
    return id == o.id && (id != TypeId::kDecimal || (precision == o.precision && scale == o.scale));
  }
  bool operator!=(const DataType& o) const { return !(*this == o); }
};

struct Field {
  std::string name;
  DataType type;
  bool nullable = true;

  bool operator==(const Field& o) const {
    return name == o.name && type == o.type && nullable == o.nullable;
  }
};

class Schema {
 public:
  Schema() = default;
  explicit Schema(std::vector<Field> fields) : fields_(std::move(fields)) {}

  const std::vector<Field>& fields() const { return fields_; }
  int num_fields() const { return static_cast<int>(fields_.size()); }
  const Field& field(int i) const { return fields_[i]; }
  // Index of the field with this name, or -1.
  int FieldIndex(std::string_view name) const;
  void AddField(Field f) { fields_.push_back(std::move(f)); }

  // Text form, one "name: type [not null]" per line (the pipeline spec spelling).
  std::string ToString() const;
  // Stable JSON: [{"name":..,"type":..,"nullable":..},...]
  std::string ToJson() const;
  static Result<Schema> FromJson(std::string_view json);

  bool operator==(const Schema& o) const { return fields_ == o.fields_; }

 private:
  std::vector<Field> fields_;
};

}  // namespace sluice
