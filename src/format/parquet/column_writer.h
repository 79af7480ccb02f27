// Writes one leaf column of a flat Parquet schema as the column chunk of the
// current row group: data pages (v1, or v2 on request) cut at about
// `page_bytes` or at `page_rows` rows, whichever comes first, definition levels (RLE) for OPTIONAL
// columns and none for REQUIRED ones, compressed pages buffered in memory, plus the chunk's
// statistics and metadata.
//
// Values are dictionary-encoded when the options allow it and the type has a
// dictionary (all but BOOLEAN): every chunk starts with an empty dictionary
// and data pages of RLE_DICTIONARY indices. Two rules end that early:
//   - probe: after the first kDictionaryProbeValues values of the chunk, or
//     once they would fill a PLAIN page, if sooner, the dictionary must be
//     worth it: its PLAIN page plus the bit-packed indices below 3/4 of the
//     PLAIN values. If not, the dictionary is dropped and the chunk is written
//     PLAIN from its first row (nothing was flushed yet, so the open page is
//     simply re-encoded).
//   - limit: a value that would take the dictionary page past
//     dictionary_page_bytes ends the dictionary: the open page is flushed with
//     indices and the rest of the chunk is PLAIN data pages.
// The dictionary page (PLAIN) is built when the chunk is finished and comes
// first in the file; data pages wait in memory until then.
//
// Page index: for every data page the writer records where it starts in the
// chunk, its size and its first row (the chunk's OffsetIndex), and its null
// count and min/max under the same rules as the chunk's statistics (the
// ColumnIndex). A chunk whose statistics have no min/max (a NaN, a string
// over kMaxStatisticsValueBytes), or one of whose pages with values has none,
// gets no ColumnIndex; the OffsetIndex is always there.
//
// Appending dispatches on the type once per slice; the per-value loops are
// templates over the physical type, with no virtual calls or allocations per
// value. Threading: not thread-safe; one writer is used by one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/column.h"
#include "core/status.h"
#include "core/types.h"
#include "format/parquet/byte_buffer.h"
#include "format/parquet/column_statistics.h"
#include "format/parquet/dictionary_encoder.h"
#include "format/parquet/page_codec.h"
#include "format/parquet/parquet_metadata.h"

namespace sluice::parquet {

// Values a chunk's dictionary sees before the probe rule decides.
inline constexpr int64_t kDictionaryProbeValues = 8192;

struct ColumnWriterOptions {
  int64_t page_bytes = 1024 * 1024;
  int64_t page_rows = 20000;  // at most 2^20 whatever is asked
  bool dictionary = true;
  int64_t dictionary_page_bytes = 1024 * 1024;
  bool data_page_v2 = false;
  CompressionCodec codec = CompressionCodec::kUncompressed;
};

// Test hook: the n-th ColumnWriter::Append from now on (any writer, any
// thread) throws std::bad_alloc, as a failed allocation would; n <= 0 turns
// the hook off. Lets tests drive the encoder's out-of-memory path.
void TEST_FailAppendAfter(int64_t n);

class ColumnWriter {
 public:
  ColumnWriter(const Field& field, const ColumnWriterOptions& options);

  // Compressor (of options.codec) for the pages flushed from now on; borrowed.
  // Must be set before the first page is flushed.
  void set_compressor(PageCompressor* compressor) { compressor_ = compressor; }

  // Appends rows [offset, offset + n) of `col`, whose physical layout must be
  // the field type's. Nulls in a REQUIRED column are kInvalidArgument.
  Status Append(const Column& col, int64_t offset, int64_t n);

  // Closes the chunk: flushes the open page and builds the dictionary page.
  // Then dictionary_page() + data_pages() are the chunk's bytes in file order.
  Status FinishChunk();
  std::string_view dictionary_page() const { return dict_page_.view(); }
  std::string_view data_pages() const { return chunk_.view(); }
  int64_t chunk_bytes() const { return static_cast<int64_t>(dict_page_.size() + chunk_.size()); }
  // Metadata of the finished chunk when written at `file_offset`.
  ColumnMetaData ChunkMetaData(int64_t file_offset) const;
  // The finished chunk's page index when written at `file_offset`: page
  // locations always, page statistics when they are usable (see above).
  OffsetIndex ChunkOffsetIndex(int64_t file_offset) const;
  std::optional<ColumnIndex> ChunkColumnIndex() const;
  // Uncompressed bytes of the chunk so far (open page and dictionary included).
  int64_t BufferedUncompressedBytes() const;
  int64_t chunk_uncompressed_bytes() const { return chunk_uncompressed_; }
  // Starts the chunk of the next row group (buffers keep their capacity).
  void ResetChunk();

  // Whether the open chunk still writes dictionary indices (for tests).
  bool dictionary_active() const { return mode_ == Mode::kDictionary; }
  // Heap bytes the writer holds (buffer capacities, dictionary): grows with
  // the values written, not with a fixed reservation per column.
  int64_t reserved_bytes() const;

 private:
  enum class Mode { kDictionary, kPlain };
  using Dictionary =
      std::variant<std::monostate, FixedDictionary<int32_t>, FixedDictionary<int64_t>,
                   FixedDictionary<double>, StringDictionary>;

  // Rows starting at `offset` that fill the open page up to page_bytes (at least 1).
  int64_t RowsThatFit(const Column& col, int64_t offset, int64_t n) const;
  // Rows starting at `offset` whose PLAIN values fill `room` bytes.
  int64_t PlainRowsThatFit(const Column& col, int64_t offset, int64_t n, int64_t room) const;
  // Encodes values of rows [offset, offset + n); returns the rows taken, which
  // is fewer than n only when the dictionary is full (dictionary mode).
  int64_t AppendValues(const Column& col, int64_t offset, int64_t n);
  template <typename Mem, typename Phys>
  void AppendPlain(const Column& col, int64_t offset, int64_t n);
  void AppendPlainBool(const Column& col, int64_t offset, int64_t n);
  void AppendPlainString(const Column& col, int64_t offset, int64_t n);
  template <typename Mem, typename Phys>
  int64_t AppendDict(const Column& col, int64_t offset, int64_t n);
  int64_t AppendDictString(const Column& col, int64_t offset, int64_t n);
  void PutLevels(const Column& col, int64_t offset, int64_t n);

  // The probe rule; drops the dictionary when it does not pay.
  void Probe();
  // Re-encodes the open page's indices as PLAIN values and drops the dictionary.
  void DropDictionary();
  // The limit rule: ends dictionary encoding for the rest of the chunk.
  Status StopDictionary();
  // Merges the dictionary's values into the chunk statistics.
  void DictionaryStatistics();
  // Merges the values of the open page's dictionary indices into page_stats_.
  void IndexStatistics();
  // Records the page just emitted (chunk_ bytes from `at`) in the page index.
  void RecordPage(size_t at);
  int DictionaryBitWidth() const;
  uint32_t DictionarySize() const;
  int64_t DictionaryBytes() const;
  int64_t OpenPageBytes() const;

  Status FlushPage();
  // Compresses `body` (all of it, or from `skip` for v2 levels) and appends
  // header + page to `dst`.
  Status EmitPage(PageHeader* header, std::string_view uncompressed, size_t skip, ByteBuffer* dst);

  Field field_;
  PhysicalType physical_;
  bool optional_;
  ColumnWriterOptions options_;
  PageCompressor* compressor_ = nullptr;

  Mode mode_ = Mode::kPlain;
  bool probed_ = false;
  Dictionary dict_;
  // Valid values (and their PLAIN bytes) encoded with the dictionary this chunk.
  int64_t dict_values_ = 0;
  int64_t dict_plain_bytes_ = 0;

  // The open page.
  ByteBuffer values_;              // PLAIN values of the non-null rows (PLAIN pages)
  std::vector<uint32_t> indices_;  // dictionary indices (dictionary pages)
  std::vector<uint8_t> levels_;    // definition levels (OPTIONAL columns)
  uint8_t bool_acc_ = 0;           // BOOLEAN: bits not yet a whole byte
  int bool_bits_ = 0;
  int64_t page_rows_ = 0;
  int64_t page_nulls_ = 0;

  // Scratch for assembling and compressing a page.
  ByteBuffer page_;
  ByteBuffer compressed_;
  std::string header_;

  // The chunk of the current row group.
  ByteBuffer dict_page_;  // header + dictionary page, once finished
  ByteBuffer chunk_;      // data pages
  int64_t chunk_rows_ = 0;
  int64_t chunk_uncompressed_ = 0;
  int32_t dict_data_pages_ = 0;   // data pages of indices
  int32_t plain_data_pages_ = 0;  // data pages of PLAIN values
  ColumnStatistics stats_;

  // The page index of the chunk (offsets relative to the first data page).
  int64_t page_row_limit_;
  ColumnStatistics page_stats_;  // of the open page
  std::vector<PageLocation> page_locations_;
  ColumnIndex column_index_;
  bool page_minmax_ok_ = true;  // every page with values had min/max
  std::vector<uint8_t> seen_;   // scratch: dictionary entries met in a page
};

}  // namespace sluice::parquet
