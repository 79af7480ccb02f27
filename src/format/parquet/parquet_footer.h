// Parquet metadata as a reader sees it: the file footer (FileMetaData) and
// page headers, parsed from Thrift compact bytes with CompactReader.
//
// These are the reader's own structs (the writer's in parquet_metadata.h model
// only what sluice writes): every field a flat-file reader needs, enum values
// kept as the raw i32 so that an unknown codec or encoding can be named in an
// error instead of being lost. Fields not modelled are skipped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sluice::parquet {

// parquet-format enum values used by the reader.
namespace ptype {
inline constexpr int32_t kBoolean = 0, kInt32 = 1, kInt64 = 2, kInt96 = 3, kFloat = 4, kDouble = 5,
                         kByteArray = 6, kFixedLenByteArray = 7;
}
namespace encoding {
inline constexpr int32_t kPlain = 0, kPlainDictionary = 2, kRle = 3, kBitPacked = 4,
                         kDeltaBinaryPacked = 5, kDeltaLengthByteArray = 6, kDeltaByteArray = 7,
                         kRleDictionary = 8, kByteStreamSplit = 9;
}
namespace codec {
inline constexpr int32_t kUncompressed = 0, kSnappy = 1, kGzip = 2, kLzo = 3, kBrotli = 4, kLz4 = 5,
                         kZstd = 6, kLz4Raw = 7;
}
namespace converted {
inline constexpr int32_t kUtf8 = 0, kMap = 1, kMapKeyValue = 2, kList = 3, kEnum = 4, kDecimal = 5,
                         kDate = 6, kTimeMillis = 7, kTimeMicros = 8, kTimestampMillis = 9,
                         kTimestampMicros = 10, kUint8 = 11, kUint16 = 12, kUint32 = 13,
                         kUint64 = 14, kInt8 = 15, kInt16 = 16, kInt32 = 17, kInt64 = 18,
                         kJson = 19, kBson = 20, kInterval = 21;
}
namespace page {
inline constexpr int32_t kData = 0, kIndex = 1, kDictionary = 2, kDataV2 = 3;
}

std::string_view PhysicalTypeName(int32_t t);
std::string_view EncodingName(int32_t e);
std::string_view CodecName(int32_t c);

// The LogicalType union; `id` is the union member's field id (1 STRING,
// 2 MAP, 3 LIST, 4 ENUM, 5 DECIMAL, 6 DATE, 7 TIME, 8 TIMESTAMP, 10 INTEGER,
// 11 UNKNOWN/NULL, 12 JSON, 13 BSON, 14 UUID, 15 FLOAT16, ...).
struct LogicalAnnotation {
  int16_t id = 0;
  int32_t scale = 0, precision = 0;  // DECIMAL
  bool adjusted_to_utc = false;      // TIME, TIMESTAMP
  int unit = 0;                      // TIME, TIMESTAMP: 1 millis, 2 micros, 3 nanos
  int bit_width = 0;                 // INTEGER
  bool is_signed = true;             // INTEGER
};
namespace logical {
inline constexpr int16_t kString = 1, kMap = 2, kList = 3, kEnum = 4, kDecimal = 5, kDate = 6,
                         kTime = 7, kTimestamp = 8, kInteger = 10, kUnknown = 11, kJson = 12,
                         kBson = 13, kUuid = 14, kFloat16 = 15;
}

struct SchemaNode {
  std::optional<int32_t> type;               // 1 (absent on groups)
  int32_t type_length = 0;                   // 2 (FIXED_LEN_BYTE_ARRAY)
  std::optional<int32_t> repetition;         // 3: 0 required, 1 optional, 2 repeated
  std::string name;                          // 4
  int32_t num_children = 0;                  // 5
  std::optional<int32_t> converted;          // 6
  int32_t scale = 0;                         // 7
  int32_t precision = 0;                     // 8
  std::optional<LogicalAnnotation> logical;  // 10
};

struct ChunkStatistics {
  std::optional<std::string> max, min;              // 1, 2 (deprecated, signed order)
  std::optional<int64_t> null_count;                // 3
  std::optional<std::string> max_value, min_value;  // 5, 6 (the column's sort order)
};

struct ChunkMeta {
  std::string file_path;   // ColumnChunk 1: data in another file (unsupported)
  bool encrypted = false;  // ColumnChunk 8 or 9 present
  int32_t type = 0;
  std::vector<int32_t> encodings;
  std::vector<std::string> path;
  int32_t codec = 0;
  int64_t num_values = 0;
  int64_t total_uncompressed_size = 0;
  int64_t total_compressed_size = 0;
  int64_t data_page_offset = 0;
  std::optional<int64_t> dictionary_page_offset;
  std::optional<ChunkStatistics> statistics;
  bool has_meta = false;  // ColumnChunk 3 was present
  // The page index (ColumnChunk 4-7): byte ranges of the OffsetIndex and
  // ColumnIndex structs, when the writer made them (see page_index.h).
  std::optional<int64_t> offset_index_offset;
  std::optional<int32_t> offset_index_length;
  std::optional<int64_t> column_index_offset;
  std::optional<int32_t> column_index_length;
};

struct RowGroupMeta {
  std::vector<ChunkMeta> columns;
  int64_t num_rows = 0;
};

struct FileMeta {
  int32_t version = 0;
  std::vector<SchemaNode> schema;
  int64_t num_rows = 0;
  std::vector<RowGroupMeta> row_groups;
  std::vector<std::pair<std::string, std::string>> key_value;
  std::string created_by;
  // ColumnOrder per leaf: true when TYPE_ORDER (min_value/max_value usable).
  std::vector<bool> type_defined_order;
  bool encrypted = false;  // encryption_algorithm (8) present: columns are encrypted
};

struct DataPageInfo {
  int32_t num_values = 0;
  int32_t encoding = 0;
  int32_t def_level_encoding = 3;
  int32_t rep_level_encoding = 3;
};
struct DataPageV2Info {
  int32_t num_values = 0, num_nulls = 0, num_rows = 0;
  int32_t encoding = 0;
  int32_t def_levels_bytes = 0, rep_levels_bytes = 0;
  bool is_compressed = true;
};
struct DictPageInfo {
  int32_t num_values = 0;
  int32_t encoding = 0;
};
struct PageHeaderInfo {
  int32_t type = 0;
  int32_t uncompressed_size = 0;
  int32_t compressed_size = 0;
  // CRC-32 (zlib's) of the compressed_size bytes after the header, if the
  // writer stored one (an i32 on the wire; its bits are the checksum).
  std::optional<uint32_t> crc;
  std::optional<DataPageInfo> data;
  std::optional<DataPageV2Info> data_v2;
  std::optional<DictPageInfo> dict;
};

// Parses a FileMetaData struct. kDataLoss names what was malformed.
Result<FileMeta> ParseFileMeta(std::string_view bytes);

enum class HeaderParse { kOk, kTruncated, kCorrupt };
// Parses one page header at the start of `bytes`; *consumed is its length.
// kTruncated means `bytes` ends inside the header (read more and retry).
HeaderParse ParsePageHeader(std::string_view bytes, PageHeaderInfo* out, size_t* consumed,
                            std::string* error);

}  // namespace sluice::parquet
