// How sluice's logical types are stored in Parquet: physical type, logical
// type and legacy converted type of each leaf column of a flat schema.
#pragma once

#include <vector>

#include "core/types.h"
#include "format/parquet/parquet_metadata.h"

namespace sluice::parquet {

// bool -> BOOLEAN, int32/date -> INT32, int64/timestamp -> INT64,
// float64 -> DOUBLE, string -> BYTE_ARRAY; decimal -> INT32 up to precision 9,
// else INT64 (sluice decimals stop at 18 digits; a wider decimal type would
// need FIXED_LEN_BYTE_ARRAY).
PhysicalType PhysicalTypeOf(const DataType& type);

// The leaf element of `field`: REQUIRED when not nullable, else OPTIONAL, with
// the logical annotation (STRING, DECIMAL, DATE, TIMESTAMP(UTC, MICROS)) and
// the matching converted_type for older readers.
SchemaElement LeafSchemaElement(const Field& field);

// The root element ("schema", num_children = fields) followed by one leaf per field.
std::vector<SchemaElement> FlatSchemaElements(const Schema& schema);

}  // namespace sluice::parquet
