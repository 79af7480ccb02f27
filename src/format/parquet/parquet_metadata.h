// Parquet file metadata (the parquet-format Thrift structs) and their compact
// protocol serialization.
//
// Only the structs and fields a writer of flat files needs are modelled; each
// field keeps the id of the parquet-format definition (see Serialize* in the
// .cc). Optional Thrift fields are std::optional and omitted when empty.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "format/parquet/thrift_compact.h"

namespace sluice::parquet {

inline constexpr char kMagic[] = "PAR1";

// Enum values are the parquet-format ones; they are written as i32.
enum class PhysicalType : int32_t {
  kBoolean = 0,
  kInt32 = 1,
  kInt64 = 2,
  kInt96 = 3,
  kFloat = 4,
  kDouble = 5,
  kByteArray = 6,
  kFixedLenByteArray = 7,
};

enum class ConvertedType : int32_t {
  kUtf8 = 0,
  kDecimal = 5,
  kDate = 6,
  kTimestampMillis = 9,
  kTimestampMicros = 10,
};

enum class Repetition : int32_t { kRequired = 0, kOptional = 1, kRepeated = 2 };

enum class Encoding : int32_t {
  kPlain = 0,
  kPlainDictionary = 2,
  kRle = 3,
  kBitPacked = 4,
  kRleDictionary = 8,
};

enum class CompressionCodec : int32_t {
  kUncompressed = 0,
  kSnappy = 1,
  kGzip = 2,
  kZstd = 6,
};

enum class PageType : int32_t {
  kDataPage = 0,
  kIndexPage = 1,
  kDictionaryPage = 2,
  kDataPageV2 = 3
};

enum class TimeUnit { kMillis, kMicros, kNanos };

// The LogicalType union: exactly one member is set, chosen by `kind`.
struct LogicalType {
  enum class Kind { kString, kDecimal, kDate, kTimestamp };
  Kind kind = Kind::kString;
  int32_t scale = 0;                  // kDecimal
  int32_t precision = 0;              // kDecimal
  bool adjusted_to_utc = true;        // kTimestamp
  TimeUnit unit = TimeUnit::kMicros;  // kTimestamp
};

struct SchemaElement {
  std::optional<PhysicalType> type;             // 1 (absent on the root)
  std::optional<Repetition> repetition;         // 3
  std::string name;                             // 4
  std::optional<int32_t> num_children;          // 5
  std::optional<ConvertedType> converted_type;  // 6
  std::optional<int32_t> scale;                 // 7
  std::optional<int32_t> precision;             // 8
  std::optional<LogicalType> logical_type;      // 10
};

// min/max are the deprecated fields (signed comparison); min_value/max_value
// follow the column's sort order. All are PLAIN-encoded values without length.
struct Statistics {
  std::optional<std::string> max;         // 1
  std::optional<std::string> min;         // 2
  std::optional<int64_t> null_count;      // 3
  std::optional<int64_t> distinct_count;  // 4
  std::optional<std::string> max_value;   // 5
  std::optional<std::string> min_value;   // 6
};

struct KeyValue {
  std::string key;                   // 1
  std::optional<std::string> value;  // 2
};

// How many pages of one type use one encoding (ColumnMetaData.encoding_stats).
struct PageEncodingStats {
  PageType page_type = PageType::kDataPage;  // 1
  Encoding encoding = Encoding::kPlain;      // 2
  int32_t count = 0;                         // 3
};

struct ColumnMetaData {
  PhysicalType type = PhysicalType::kInt32;                  // 1
  std::vector<Encoding> encodings;                           // 2
  std::vector<std::string> path_in_schema;                   // 3
  CompressionCodec codec = CompressionCodec::kUncompressed;  // 4
  int64_t num_values = 0;                                    // 5
  int64_t total_uncompressed_size = 0;                       // 6 (page headers included)
  int64_t total_compressed_size = 0;                         // 7 (page headers included)
  int64_t data_page_offset = 0;                              // 9
  std::optional<int64_t> dictionary_page_offset;             // 11
  std::optional<Statistics> statistics;                      // 12
  std::vector<PageEncodingStats> encoding_stats;             // 13 (omitted when empty)
};

// Where a chunk's page index lives (all four set, or none): the OffsetIndex
// always, the ColumnIndex only when the chunk has usable min/max statistics.
struct ColumnChunk {
  int64_t file_offset = 0;                     // 2
  ColumnMetaData meta_data;                    // 3
  std::optional<int64_t> offset_index_offset;  // 4
  std::optional<int32_t> offset_index_length;  // 5
  std::optional<int64_t> column_index_offset;  // 6
  std::optional<int32_t> column_index_length;  // 7
};

struct RowGroup {
  std::vector<ColumnChunk> columns;              // 1
  int64_t total_byte_size = 0;                   // 2 (uncompressed)
  int64_t num_rows = 0;                          // 3
  std::optional<int64_t> file_offset;            // 5
  std::optional<int64_t> total_compressed_size;  // 6
  std::optional<int16_t> ordinal;                // 7
};

struct FileMetaData {
  int32_t version = 1;                       // 1
  std::vector<SchemaElement> schema;         // 2 (depth-first, root first)
  int64_t num_rows = 0;                      // 3
  std::vector<RowGroup> row_groups;          // 4
  std::vector<KeyValue> key_value_metadata;  // 5 (omitted when empty)
  std::optional<std::string> created_by;     // 6
  // 7: when set, one TypeDefinedOrder ColumnOrder per leaf column, which tells
  // readers that min_value/max_value follow each type's defined sort order.
  int32_t type_defined_column_orders = 0;
};

struct DataPageHeader {
  int32_t num_values = 0;                               // 1 (nulls included)
  Encoding encoding = Encoding::kPlain;                 // 2
  Encoding definition_level_encoding = Encoding::kRle;  // 3
  Encoding repetition_level_encoding = Encoding::kRle;  // 4
};

// Data page v2: levels are stored uncompressed before the (possibly
// compressed) values, and their byte lengths are in the header.
struct DataPageHeaderV2 {
  int32_t num_values = 0;                     // 1 (nulls included)
  int32_t num_nulls = 0;                      // 2
  int32_t num_rows = 0;                       // 3
  Encoding encoding = Encoding::kPlain;       // 4
  int32_t definition_levels_byte_length = 0;  // 5
  int32_t repetition_levels_byte_length = 0;  // 6
  bool is_compressed = true;                  // 7
};

struct DictionaryPageHeader {
  int32_t num_values = 0;                // 1
  Encoding encoding = Encoding::kPlain;  // 2
  std::optional<bool> is_sorted;         // 3
};

struct PageHeader {
  PageType type = PageType::kDataPage;                         // 1
  int32_t uncompressed_page_size = 0;                          // 2
  int32_t compressed_page_size = 0;                            // 3
  std::optional<int32_t> crc;                                  // 4
  std::optional<DataPageHeader> data_page_header;              // 5
  std::optional<DictionaryPageHeader> dictionary_page_header;  // 7
  std::optional<DataPageHeaderV2> data_page_header_v2;         // 8
};

// The page index (parquet-format PageIndex.md), written after the row groups
// and before the footer. One OffsetIndex per column chunk: where each data
// page starts (file offset of its header), its size with the header, and the
// row-group row it starts with.
struct PageLocation {
  int64_t offset = 0;                // 1
  int32_t compressed_page_size = 0;  // 2 (page header included)
  int64_t first_row_index = 0;       // 3
};
struct OffsetIndex {
  std::vector<PageLocation> page_locations;  // 1
};

enum class BoundaryOrder : int32_t { kUnordered = 0, kAscending = 1, kDescending = 2 };

// One ColumnIndex per column chunk with statistics: per data page (in
// OffsetIndex order) whether it holds only nulls, and its min/max as PLAIN
// bytes in the column's sort order (empty for an all-null page).
struct ColumnIndex {
  std::vector<bool> null_pages;                              // 1
  std::vector<std::string> min_values;                       // 2
  std::vector<std::string> max_values;                       // 3
  BoundaryOrder boundary_order = BoundaryOrder::kUnordered;  // 4
  std::vector<int64_t> null_counts;                          // 5 (omitted when empty)
};

// Each appends the struct (with its stop byte) to w's output.
void Serialize(const LogicalType& v, CompactWriter* w);
void Serialize(const SchemaElement& v, CompactWriter* w);
void Serialize(const Statistics& v, CompactWriter* w);
void Serialize(const KeyValue& v, CompactWriter* w);
void Serialize(const ColumnMetaData& v, CompactWriter* w);
void Serialize(const ColumnChunk& v, CompactWriter* w);
void Serialize(const RowGroup& v, CompactWriter* w);
void Serialize(const FileMetaData& v, CompactWriter* w);
void Serialize(const DataPageHeader& v, CompactWriter* w);
void Serialize(const DictionaryPageHeader& v, CompactWriter* w);
void Serialize(const DataPageHeaderV2& v, CompactWriter* w);
void Serialize(const PageEncodingStats& v, CompactWriter* w);
void Serialize(const PageHeader& v, CompactWriter* w);
void Serialize(const OffsetIndex& v, CompactWriter* w);
void Serialize(const ColumnIndex& v, CompactWriter* w);

// Convenience: the serialized bytes of a top-level struct.
template <typename T>
std::string SerializeToString(const T& v) {
  std::string out;
  CompactWriter w(&out);
  Serialize(v, &w);
  return out;
}

}  // namespace sluice::parquet
