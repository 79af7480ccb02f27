// How Parquet leaf columns map to sluice types.
//
// ClassifyLeaf reads a leaf's physical type, logical type and legacy
// converted type into a LeafType (what its values mean); NaturalType is the
// sluice type such a column reads as when the declared schema does not say
// otherwise (`sluice infer`, or a decoder without a schema):
//   BOOLEAN -> bool
//   INT32, INT(8|16|32, signed), UINT_8/16 -> int32;  INT64, UINT_32/64 -> int64
//   FLOAT, DOUBLE, FLOAT16 -> float64
//   BYTE_ARRAY (STRING/UTF8/ENUM/JSON/BSON or none), FIXED_LEN_BYTE_ARRAY,
//     UUID (as text), TIME (as "HH:MM:SS[.ffffff]") -> string
//   DECIMAL(p<=18,s) on INT32/INT64/FIXED_LEN_BYTE_ARRAY/BYTE_ARRAY -> decimal(p,s)
//   DATE -> date;  TIMESTAMP(any unit, UTC or not), TIMESTAMP_MILLIS/MICROS, INT96 -> timestamp
// DECIMAL with precision above 18 has no sluice type: it can only be read
// into a string field (exact text); inference fails naming the column.
// A logical type sluice does not know falls back to the converted type when
// there is one, else to the physical type, as does an unknown converted type
// (a newer writer's annotation must not make the file unreadable). Known
// types sluice cannot represent (LIST/MAP, INTERVAL) are refused.
#pragma once

#include <string>

#include "core/status.h"
#include "core/types.h"
#include "format/parquet/parquet_footer.h"

namespace sluice::parquet {

enum class LeafKind {
  kBool,
  kInt,
  kFloat,
  kString,
  kUuid,
  kDecimal,
  kDate,
  kTimestamp,
  kTime,
  kUnsupported,
};

struct LeafType {
  LeafKind kind = LeafKind::kUnsupported;
  int32_t physical = 0;
  int32_t type_length = 0;
  bool is_unsigned = false;  // kInt
  int bit_width = 64;        // kInt
  int precision = 0;         // kDecimal
  int scale = 0;             // kDecimal
  int unit = 2;              // kTimestamp, kTime: 1 millis, 2 micros, 3 nanos (INT96: 3)
  bool float16 = false;      // kFloat on FIXED_LEN_BYTE_ARRAY(2)
  // The logical or converted type was one sluice does not know (from a later
  // format version) and the leaf reads as its physical type; its statistics
  // may use an order sluice does not know either.
  bool unknown_annotation = false;
  std::string unsupported;  // kUnsupported: the feature, for the error message
};

LeafType ClassifyLeaf(const SchemaNode& node);

// The sluice type of a leaf, or kInvalidArgument naming the file and column.
Result<DataType> NaturalType(const LeafType& leaf, const std::string& column,
                             const std::string& file);

// "INT64 (TIMESTAMP(MICROS, UTC))", for messages.
std::string DescribeLeaf(const LeafType& leaf);

}  // namespace sluice::parquet
