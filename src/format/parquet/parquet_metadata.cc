#include "format/parquet/parquet_metadata.h"

namespace sluice::parquet {
namespace {

template <typename E>
int32_t I32(E e) {
  return static_cast<int32_t>(e);
}

// The *Fields functions write a struct's fields without its framing, so that
// the same code serves a top-level struct, a struct field and a list element.
void LogicalTypeFields(const LogicalType& v, CompactWriter* w) {
  // LogicalType is a union: one field whose value is the member's struct.
  switch (v.kind) {
    case LogicalType::Kind::kString:
      w->FieldStructBegin(1);  // StringType (empty)
      w->EndStruct();
      break;
    case LogicalType::Kind::kDecimal:
      w->FieldStructBegin(5);  // DecimalType
      w->FieldI32(1, v.scale);
      w->FieldI32(2, v.precision);
      w->EndStruct();
      break;
    case LogicalType::Kind::kDate:
      w->FieldStructBegin(6);  // DateType (empty)
      w->EndStruct();
      break;
    case LogicalType::Kind::kTimestamp: {
      w->FieldStructBegin(8);  // TimestampType
      w->FieldBool(1, v.adjusted_to_utc);
      w->FieldStructBegin(2);  // TimeUnit union: MILLIS=1, MICROS=2, NANOS=3 (empty structs)
      int16_t unit_id = v.unit == TimeUnit::kMillis ? 1 : v.unit == TimeUnit::kMicros ? 2 : 3;
      w->FieldStructBegin(unit_id);
      w->EndStruct();
      w->EndStruct();
      w->EndStruct();
      break;
    }
  }
}

void SchemaElementFields(const SchemaElement& v, CompactWriter* w) {
  if (v.type) w->FieldI32(1, I32(*v.type));
  if (v.repetition) w->FieldI32(3, I32(*v.repetition));
  w->FieldBinary(4, v.name);
  if (v.num_children) w->FieldI32(5, *v.num_children);
  if (v.converted_type) w->FieldI32(6, I32(*v.converted_type));
  if (v.scale) w->FieldI32(7, *v.scale);
  if (v.precision) w->FieldI32(8, *v.precision);
  if (v.logical_type) {
    w->FieldStructBegin(10);
    LogicalTypeFields(*v.logical_type, w);
    w->EndStruct();
  }
}

void StatisticsFields(const Statistics& v, CompactWriter* w) {
  if (v.max) w->FieldBinary(1, *v.max);
  if (v.min) w->FieldBinary(2, *v.min);
  if (v.null_count) w->FieldI64(3, *v.null_count);
  if (v.distinct_count) w->FieldI64(4, *v.distinct_count);
  if (v.max_value) w->FieldBinary(5, *v.max_value);
  if (v.min_value) w->FieldBinary(6, *v.min_value);
}

void KeyValueFields(const KeyValue& v, CompactWriter* w) {
  w->FieldBinary(1, v.key);
  if (v.value) w->FieldBinary(2, *v.value);
}

void PageEncodingStatsFields(const PageEncodingStats& v, CompactWriter* w) {
  w->FieldI32(1, I32(v.page_type));
  w->FieldI32(2, I32(v.encoding));
  w->FieldI32(3, v.count);
}

void ColumnMetaDataFields(const ColumnMetaData& v, CompactWriter* w) {
  w->FieldI32(1, I32(v.type));
  w->FieldListBegin(2, CompactType::kI32, static_cast<int64_t>(v.encodings.size()));
  for (Encoding e : v.encodings) w->ElemI32(I32(e));
  w->FieldListBegin(3, CompactType::kBinary, static_cast<int64_t>(v.path_in_schema.size()));
  for (const std::string& p : v.path_in_schema) w->ElemBinary(p);
  w->FieldI32(4, I32(v.codec));
  w->FieldI64(5, v.num_values);
  w->FieldI64(6, v.total_uncompressed_size);
  w->FieldI64(7, v.total_compressed_size);
  w->FieldI64(9, v.data_page_offset);
  if (v.dictionary_page_offset) w->FieldI64(11, *v.dictionary_page_offset);
  if (v.statistics) {
    w->FieldStructBegin(12);
    StatisticsFields(*v.statistics, w);
    w->EndStruct();
  }
  if (!v.encoding_stats.empty()) {
    w->FieldListBegin(13, CompactType::kStruct, static_cast<int64_t>(v.encoding_stats.size()));
    for (const PageEncodingStats& e : v.encoding_stats) {
      w->BeginStruct();
      PageEncodingStatsFields(e, w);
      w->EndStruct();
    }
  }
}

void ColumnChunkFields(const ColumnChunk& v, CompactWriter* w) {
  w->FieldI64(2, v.file_offset);
  w->FieldStructBegin(3);
  ColumnMetaDataFields(v.meta_data, w);
  w->EndStruct();
  if (v.offset_index_offset) w->FieldI64(4, *v.offset_index_offset);
  if (v.offset_index_length) w->FieldI32(5, *v.offset_index_length);
  if (v.column_index_offset) w->FieldI64(6, *v.column_index_offset);
  if (v.column_index_length) w->FieldI32(7, *v.column_index_length);
}

void OffsetIndexFields(const OffsetIndex& v, CompactWriter* w) {
  w->FieldListBegin(1, CompactType::kStruct, static_cast<int64_t>(v.page_locations.size()));
  for (const PageLocation& p : v.page_locations) {
    w->BeginStruct();
    w->FieldI64(1, p.offset);
    w->FieldI32(2, p.compressed_page_size);
    w->FieldI64(3, p.first_row_index);
    w->EndStruct();
  }
}

void ColumnIndexFields(const ColumnIndex& v, CompactWriter* w) {
  // Booleans in a list are one byte each, with the element type of `true`.
  w->FieldListBegin(1, CompactType::kBoolTrue, static_cast<int64_t>(v.null_pages.size()));
  for (bool b : v.null_pages) w->ElemBool(b);
  w->FieldListBegin(2, CompactType::kBinary, static_cast<int64_t>(v.min_values.size()));
  for (const std::string& s : v.min_values) w->ElemBinary(s);
  w->FieldListBegin(3, CompactType::kBinary, static_cast<int64_t>(v.max_values.size()));
  for (const std::string& s : v.max_values) w->ElemBinary(s);
  w->FieldI32(4, I32(v.boundary_order));
  if (!v.null_counts.empty()) {
    w->FieldListBegin(5, CompactType::kI64, static_cast<int64_t>(v.null_counts.size()));
    for (int64_t n : v.null_counts) w->ElemI64(n);
  }
}

void RowGroupFields(const RowGroup& v, CompactWriter* w) {
  w->FieldListBegin(1, CompactType::kStruct, static_cast<int64_t>(v.columns.size()));
  for (const ColumnChunk& c : v.columns) {
    w->BeginStruct();
    ColumnChunkFields(c, w);
    w->EndStruct();
  }
  w->FieldI64(2, v.total_byte_size);
  w->FieldI64(3, v.num_rows);
  if (v.file_offset) w->FieldI64(5, *v.file_offset);
  if (v.total_compressed_size) w->FieldI64(6, *v.total_compressed_size);
  if (v.ordinal) w->FieldI16(7, *v.ordinal);
}

void FileMetaDataFields(const FileMetaData& v, CompactWriter* w) {
  w->FieldI32(1, v.version);
  w->FieldListBegin(2, CompactType::kStruct, static_cast<int64_t>(v.schema.size()));
  for (const SchemaElement& e : v.schema) {
    w->BeginStruct();
    SchemaElementFields(e, w);
    w->EndStruct();
  }
  w->FieldI64(3, v.num_rows);
  w->FieldListBegin(4, CompactType::kStruct, static_cast<int64_t>(v.row_groups.size()));
  for (const RowGroup& g : v.row_groups) {
    w->BeginStruct();
    RowGroupFields(g, w);
    w->EndStruct();
  }
  if (!v.key_value_metadata.empty()) {
    w->FieldListBegin(5, CompactType::kStruct, static_cast<int64_t>(v.key_value_metadata.size()));
    for (const KeyValue& kv : v.key_value_metadata) {
      w->BeginStruct();
      KeyValueFields(kv, w);
      w->EndStruct();
    }
  }
  if (v.created_by) w->FieldBinary(6, *v.created_by);
  if (v.type_defined_column_orders > 0) {
    // ColumnOrder is a union whose only member is TYPE_ORDER (id 1, empty struct).
    w->FieldListBegin(7, CompactType::kStruct, v.type_defined_column_orders);
    for (int32_t i = 0; i < v.type_defined_column_orders; ++i) {
      w->BeginStruct();
      w->FieldStructBegin(1);
      w->EndStruct();
      w->EndStruct();
    }
  }
}

void DataPageHeaderFields(const DataPageHeader& v, CompactWriter* w) {
  w->FieldI32(1, v.num_values);
  w->FieldI32(2, I32(v.encoding));
  w->FieldI32(3, I32(v.definition_level_encoding));
  w->FieldI32(4, I32(v.repetition_level_encoding));
}

void DictionaryPageHeaderFields(const DictionaryPageHeader& v, CompactWriter* w) {
  w->FieldI32(1, v.num_values);
  w->FieldI32(2, I32(v.encoding));
  if (v.is_sorted) w->FieldBool(3, *v.is_sorted);
}

void DataPageHeaderV2Fields(const DataPageHeaderV2& v, CompactWriter* w) {
  w->FieldI32(1, v.num_values);
  w->FieldI32(2, v.num_nulls);
  w->FieldI32(3, v.num_rows);
  w->FieldI32(4, I32(v.encoding));
  w->FieldI32(5, v.definition_levels_byte_length);
  w->FieldI32(6, v.repetition_levels_byte_length);
  w->FieldBool(7, v.is_compressed);
}

void PageHeaderFields(const PageHeader& v, CompactWriter* w) {
  w->FieldI32(1, I32(v.type));
  w->FieldI32(2, v.uncompressed_page_size);
  w->FieldI32(3, v.compressed_page_size);
  if (v.crc) w->FieldI32(4, *v.crc);
  if (v.data_page_header) {
    w->FieldStructBegin(5);
    DataPageHeaderFields(*v.data_page_header, w);
    w->EndStruct();
  }
  if (v.dictionary_page_header) {
    w->FieldStructBegin(7);
    DictionaryPageHeaderFields(*v.dictionary_page_header, w);
    w->EndStruct();
  }
  if (v.data_page_header_v2) {
    w->FieldStructBegin(8);
    DataPageHeaderV2Fields(*v.data_page_header_v2, w);
    w->EndStruct();
  }
}

template <typename T, typename F>
void Framed(const T& v, CompactWriter* w, F fields) {
  w->BeginStruct();
  fields(v, w);
  w->EndStruct();
}

}  // namespace

void Serialize(const LogicalType& v, CompactWriter* w) { Framed(v, w, LogicalTypeFields); }
void Serialize(const SchemaElement& v, CompactWriter* w) { Framed(v, w, SchemaElementFields); }
void Serialize(const Statistics& v, CompactWriter* w) { Framed(v, w, StatisticsFields); }
void Serialize(const KeyValue& v, CompactWriter* w) { Framed(v, w, KeyValueFields); }
void Serialize(const ColumnMetaData& v, CompactWriter* w) { Framed(v, w, ColumnMetaDataFields); }
void Serialize(const ColumnChunk& v, CompactWriter* w) { Framed(v, w, ColumnChunkFields); }
void Serialize(const RowGroup& v, CompactWriter* w) { Framed(v, w, RowGroupFields); }
void Serialize(const FileMetaData& v, CompactWriter* w) { Framed(v, w, FileMetaDataFields); }
void Serialize(const DataPageHeader& v, CompactWriter* w) { Framed(v, w, DataPageHeaderFields); }
void Serialize(const DictionaryPageHeader& v, CompactWriter* w) {
  Framed(v, w, DictionaryPageHeaderFields);
}
void Serialize(const PageHeader& v, CompactWriter* w) { Framed(v, w, PageHeaderFields); }
void Serialize(const DataPageHeaderV2& v, CompactWriter* w) {
  Framed(v, w, DataPageHeaderV2Fields);
}
void Serialize(const OffsetIndex& v, CompactWriter* w) { Framed(v, w, OffsetIndexFields); }
void Serialize(const ColumnIndex& v, CompactWriter* w) { Framed(v, w, ColumnIndexFields); }
void Serialize(const PageEncodingStats& v, CompactWriter* w) {
  Framed(v, w, PageEncodingStatsFields);
}

}  // namespace sluice::parquet
