// Reads the pages of one leaf column's chunks, row group after row group, and
// appends the column's physical values to a RawColumn.
//
// Pages are read one at a time through a window over the chunk's bytes and
// decoded lazily: Read(n) decodes exactly n rows from as many pages as that
// takes, so memory is one page (plus its dictionary) and the caller's batch,
// however large the chunk. Every length, offset and count taken from the file
// is checked, and so is a page's CRC when its header has one; a malformed
// page is kDataLoss naming the file, the column and the row group (and the
// page, for a failed CRC). Nothing here knows about sluice's logical types:
// values stay in their Parquet physical form (see RawColumn) for the
// conversion step.
//
// Page skipping: given the chunk's OffsetIndex (page_index.h), SkipRows jumps
// straight to the page holding the target row, without reading, decompressing
// or decoding the pages before it (the dictionary page, if any, is still
// read: later pages need it); inside that page the values before the row are
// decoded and dropped. Every page reached through the index is checked
// against it (its offset and its row count), so an index that disagrees with
// the pages is kDataLoss, never wrong rows. Without an index SkipRows decodes
// and drops, as before page indexes existed.
//
// Threading: one reader per column; readers of different columns may run on
// different threads (RandomAccessFile::ReadAt is thread-safe).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/io.h"
#include "core/status.h"
#include "format/parquet/delta_decoder.h"
#include "format/parquet/page_decompress.h"
#include "format/parquet/page_index.h"
#include "format/parquet/parquet_footer.h"
#include "format/parquet/rle_decoder.h"

namespace sluice::parquet {

// Physical values of one column for a run of rows.
//   fixed-width types (width > 0): data holds size * width bytes, zeros for
//     nulls (BOOLEAN: one byte 0/1; INT96: 12 bytes; FIXED_LEN_BYTE_ARRAY:
//     type_length bytes);
//   BYTE_ARRAY (width 0): data holds size + 1 uint32 offsets into chars.
// valid has one byte per row (1 = value) for OPTIONAL columns, else is empty.
struct RawColumn {
  int width = 0;
  int64_t size = 0;
  std::vector<uint8_t> data;
  std::vector<char> chars;
  std::vector<uint8_t> valid;
  int64_t null_count = 0;

  // Empties the column for a new batch (buffers keep their capacity).
  void Reset(int value_width, bool optional);
  const uint32_t* offsets() const { return reinterpret_cast<const uint32_t*>(data.data()); }
};

// A leaf column of a flat schema, as the reader needs it.
struct LeafColumn {
  std::string name;
  int32_t physical = 0;
  int32_t type_length = 0;  // FIXED_LEN_BYTE_ARRAY
  bool optional = false;    // max definition level 1 (else 0)
  int index = 0;            // position among the file's leaves (and in each row group)
};

// Bytes per value of a fixed-width physical type; 0 for BYTE_ARRAY.
int PhysicalWidth(int32_t physical, int32_t type_length);

// What a reader did with data pages, over every chunk it read.
struct PageReadStats {
  int64_t pages_read = 0;     // data pages read, decompressed and decoded (wholly or in part)
  int64_t pages_skipped = 0;  // data pages passed over through the offset index, never read
};

class ColumnChunkReader {
 public:
  ColumnChunkReader(const RandomAccessFile* file, LeafColumn leaf);
  ~ColumnChunkReader();

  // Starts the chunk of row group `row_group`, whose bytes are
  // [begin, begin + length) of the file.
  Status StartChunk(const ChunkMeta& meta, int row_group, int64_t begin, int64_t length);
  // After StartChunk: the chunk's OffsetIndex, checked by ReadOffsetIndex
  // against the chunk's range and its row group's `group_rows` rows.
  void SetOffsetIndex(OffsetIndexMeta index, int64_t group_rows);
  bool has_offset_index() const { return index_.has_value(); }
  // Appends the next n rows of the chunk to *out.
  Status Read(int64_t n, RawColumn* out);
  // Passes over the next n rows of the chunk (see the top of this file).
  Status SkipRows(int64_t n);
  // Rows of the chunk read or skipped so far.
  int64_t row() const { return row_; }
  const LeafColumn& leaf() const { return leaf_; }
  const PageReadStats& page_stats() const { return page_stats_; }

 private:
  Status NextDataPage();
  // Reads the page at pos_: loads a dictionary page, sets up a data page
  // (*data true), passes over anything else.
  Status NextPage(bool* data);
  // With the offset index: moves to data page k (its first row), reading
  // the pages before the first data page (the dictionary) if not done yet.
  Status SeekPage(size_t k);
  // Counts a data page of `rows` rows at `page_at` just read and, with the
  // offset index, checks it is the page the index expects next.
  Status CheckIndexedPage(int64_t page_at, int64_t rows);
  // A view of n bytes of the chunk at pos_, valid until the next call.
  Result<const char*> Window(int64_t n);
  Status LoadDictionary(const PageHeaderInfo& h, const char* bytes);
  // Whether values of this column may use encoding `enc`.
  bool EncodingFits(int32_t enc) const;
  Status StartValues(int32_t enc, const uint8_t* p, size_t n);
  // kDataLoss naming the page unless bytes (the page after its header, which
  // starts at file offset `at`) have the CRC-32 `want`.
  Status CheckCrc(uint32_t want, std::string_view bytes, int64_t at) const;
  Status DecodeFixed(int64_t m, uint8_t* dst);
  // Appends `rows` string rows; next(&s, &len, &s_end) yields each present
  // value (s_end: end of the readable bytes after s, or null if unknown);
  // max_bytes bounds the bytes they add.
  template <typename Next>
  Status AppendStrings(int64_t rows, const uint8_t* levels, RawColumn* out, int64_t max_bytes,
                       Next next);
  Status DecodeStrings(int64_t rows, const uint8_t* levels, RawColumn* out);
  Status Corrupt(const std::string& what) const;
  Status Unsupported(const std::string& what) const;

  const RandomAccessFile* file_;
  LeafColumn leaf_;
  int width_;
  PageDecompressor decompressor_;

  // The chunk.
  int32_t codec_ = 0;
  int row_group_ = 0;
  int64_t page_index_ = 0;  // of the next page in the chunk, from 0 (for messages)
  int64_t pos_ = 0, end_ = 0;
  std::unique_ptr<char[]> window_;
  int64_t window_cap_ = 0, window_start_ = 0, window_len_ = 0;
  // After a seek: the end of the page sought, so that the window reads that
  // page rather than a full window of pages that may never be needed.
  int64_t window_hint_end_ = 0;

  // The offset index, when given, and where the reader is in it.
  std::optional<OffsetIndexMeta> index_;
  int64_t group_rows_ = 0;
  size_t next_data_page_ = 0;  // index in index_ of the next data page to read
  bool leading_done_ = false;  // the pages before the first data page were read
  int64_t row_ = 0;            // rows of the chunk consumed
  PageReadStats page_stats_;
  RawColumn skipped_;  // scratch for values decoded and dropped

  // The dictionary (fixed-width values, or offsets + chars).
  bool has_dict_ = false;
  int64_t dict_size_ = 0;
  std::vector<uint8_t> dict_fixed_;
  std::vector<uint32_t> dict_offsets_;
  std::vector<char> dict_chars_;

  // The current data page.
  std::unique_ptr<char[]> page_;
  int64_t page_cap_ = 0;
  int64_t page_rows_left_ = 0;
  RleBitPackedDecoder def_levels_;
  int32_t encoding_ = 0;
  const uint8_t* vp_ = nullptr;  // PLAIN / BYTE_STREAM_SPLIT cursor
  const uint8_t* vend_ = nullptr;
  int64_t bit_pos_ = 0;  // PLAIN BOOLEAN
  int64_t bss_index_ = 0, bss_count_ = 0;
  const uint8_t* bss_base_ = nullptr;
  RleBitPackedDecoder rle_values_;  // RLE booleans, dictionary indices
  DeltaBitPackedDecoder delta_;
  DeltaLengthDecoder delta_length_;
  DeltaByteArrayDecoder delta_bytes_;

  // Scratch.
  std::vector<uint8_t> levels_;
  std::vector<uint8_t> dense_;
  std::vector<uint32_t> indices_;
  std::vector<char> strings_;  // DELTA_BYTE_ARRAY values of one Read
  std::vector<uint32_t> string_offsets_;
};

}  // namespace sluice::parquet
