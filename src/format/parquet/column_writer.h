// Writes one leaf column of a flat Parquet schema: PLAIN values, RLE
// definition levels for OPTIONAL columns, data pages (v1) cut at about
// `page_bytes` of uncompressed values, compressed and buffered in memory as
// the column chunk of the current row group, plus the chunk's statistics.
//
// The encoder owns one ColumnWriter per field. Appending dispatches on the
// type once per slice; the per-value loops are templates over the physical
// type, with no virtual calls or allocations per value.
// Threading: not thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "core/column.h"
#include "core/status.h"
#include "core/types.h"
#include "format/parquet/column_statistics.h"
#include "format/parquet/page_codec.h"
#include "format/parquet/parquet_metadata.h"
#include "format/parquet/rle_encoder.h"

namespace sluice::parquet {

class ColumnWriter {
 public:
  // `compressor` is borrowed and shared by the encoder's columns.
  ColumnWriter(const Field& field, PageCompressor* compressor, int64_t page_bytes);

  // Appends rows [offset, offset + n) of `col`, whose physical layout must be
  // the field type's. Nulls in a REQUIRED column are kInvalidArgument.
  Status Append(const Column& col, int64_t offset, int64_t n);

  // Closes the open page, if any, so that chunk() holds every appended row.
  Status FlushPage();
  // Page headers and (compressed) pages of the chunk, in file order.
  const std::string& chunk() const { return chunk_; }
  // Metadata of the chunk when written at `file_offset`. Call after FlushPage().
  ColumnMetaData ChunkMetaData(int64_t file_offset) const;
  // Uncompressed bytes of the chunk so far, the open page included.
  int64_t BufferedUncompressedBytes() const;
  int64_t chunk_uncompressed_bytes() const { return chunk_uncompressed_; }
  // Starts the chunk of the next row group (buffers keep their capacity).
  void ResetChunk();

 private:
  template <typename T>
  void AppendFixed(const Column& col, int64_t offset, int64_t n);
  void AppendBool(const Column& col, int64_t offset, int64_t n);
  void AppendString(const Column& col, int64_t offset, int64_t n);
  void PutDefLevels(const Column& col, int64_t offset, int64_t n);
  // Rows starting at `offset` that fill the open page up to page_bytes_ (at least 1).
  int64_t RowsThatFit(const Column& col, int64_t offset, int64_t n) const;
  int64_t PageValueBytes() const { return static_cast<int64_t>(values_.size()) + (bool_bits_ > 0); }

  Field field_;
  PhysicalType physical_;
  bool optional_;
  PageCompressor* compressor_;
  int64_t page_bytes_;

  // The open page.
  std::string values_;    // PLAIN values of the non-null rows
  uint8_t bool_acc_ = 0;  // BOOLEAN: bits not yet a whole byte
  int bool_bits_ = 0;
  RleBitPackedEncoder def_levels_{1};
  int64_t page_rows_ = 0;

  // Scratch for assembling and compressing a page.
  std::string page_;
  std::string compressed_;
  std::string header_;

  // The chunk of the current row group.
  std::string chunk_;
  int64_t chunk_rows_ = 0;
  int64_t chunk_uncompressed_ = 0;
  ColumnStatistics stats_;
};

}  // namespace sluice::parquet
