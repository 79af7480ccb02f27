// NewParquetEncoder: the Encoder that writes a flat Parquet file.
//
// File layout: "PAR1", then row groups (one column chunk per field, in schema
// order: an optional dictionary page, then data pages), then the page index
// (every chunk's ColumnIndex, then every chunk's OffsetIndex; see
// ParquetWriterOptions::page_index), then the FileMetaData footer, its 4-byte
// LE length and "PAR1". A row group ends after
// row_group_rows rows or about row_group_bytes bytes, whichever comes first.
//
// Two ways to encode, one file format:
//   - inline (no pool, or a pool of size 0): one ColumnWriter per field is fed
//     straight from each batch; a full row group is written at once. Memory:
//     one row group's compressed chunks.
//   - pipelined (options.pool with threads): Write() only keeps a copy of the
//     batch's columns and records which rows go to which row group. A full
//     group gets one task per column chunk (encode + compress into memory);
//     the caller goes on filling the next group while at most
//     kMaxGroupsInFlight groups are encoding, then waits for the oldest and
//     writes its chunks in order. Memory: about kMaxGroupsInFlight + 1 row
//     groups of input rows plus their compressed chunks.
#include <algorithm>
#include <deque>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/thread_annotations.h"
#include "core/thread_pool.h"
#include "format/format.h"
#include "format/parquet/column_writer.h"
#include "format/parquet/page_codec.h"
#include "format/parquet/parquet_metadata.h"
#include "format/parquet/parquet_schema.h"

namespace sluice {
namespace {

using parquet::ColumnWriter;
using parquet::PageCompressor;

// Rows appended per step in inline mode, so that the byte budget is checked
// often enough even when a caller hands over one huge batch.
constexpr int64_t kSliceRows = 64 * 1024;
constexpr size_t kMaxGroupsInFlight = 2;
constexpr char kCreatedBy[] = "sluice version 0.1.0";

// Page compressors shared by the encoding tasks: a task borrows one for its
// chunk, so there are at most as many as tasks run at once.
class CompressorPool {
 public:
  // `first` is a ready compressor of the same codec and level.
  CompressorPool(Compression compression, int level, std::unique_ptr<PageCompressor> first)
      : compression_(compression), level_(level) {
    free_.push_back(first.get());
    all_.push_back(std::move(first));
  }

  Result<PageCompressor*> Acquire() {
    {
      MutexLock lock(&mu_);
      if (!free_.empty()) {
        PageCompressor* c = free_.back();
        free_.pop_back();
        return c;
      }
    }
    ASSIGN_OR_RETURN(auto c, PageCompressor::Make(compression_, level_));
    MutexLock lock(&mu_);
    all_.push_back(std::move(c));
    return all_.back().get();
  }
  void Release(PageCompressor* c) {
    MutexLock lock(&mu_);
    free_.push_back(c);
  }

 private:
  Compression compression_;
  int level_;
  Mutex mu_;
  std::vector<std::unique_ptr<PageCompressor>> all_ GUARDED_BY(mu_);
  std::vector<PageCompressor*> free_ GUARDED_BY(mu_);
};

// Approximate in-memory bytes of a batch's values.
int64_t BatchBytes(const RecordBatch& batch) {
  int64_t total = 0;
  for (const Column& c : batch.columns) {
    int w = c.type().id == TypeId::kString ? 4 : c.type().FixedWidth();
    total += c.size() * w + (c.type().id == TypeId::kString ? c.chars_size() : 0);
  }
  return total;
}

parquet::ColumnWriterOptions WriterOptions(const ParquetWriterOptions& o) {
  parquet::ColumnWriterOptions w;
  w.page_bytes = o.page_bytes;
  w.page_rows = o.page_rows;
  w.dictionary = o.dictionary;
  w.dictionary_page_bytes = o.dictionary_page_bytes;
  w.data_page_v2 = o.data_page_v2;
  w.codec = parquet::ToParquetCodec(o.compression);
  return w;
}

class ParquetEncoder final : public Encoder {
 public:
  ParquetEncoder(std::unique_ptr<OutputStream> out, const Schema& schema,
                 const ParquetWriterOptions& options, std::unique_ptr<PageCompressor> compressor)
      : out_(std::move(out)),
        schema_(schema),
        options_(options),
        pipelined_(options.pool != nullptr && options.pool->size() > 0),
        compressors_(options.compression, options.compression_level, std::move(compressor)) {}

  ~ParquetEncoder() override {
    // Tasks still running use the groups' memory: wait for them.
    for (auto& g : in_flight_) WaitGroup(g.get()).IgnoreError();
  }

  Status Start() {
    if (!pipelined_) {
      ASSIGN_OR_RETURN(PageCompressor * c, compressors_.Acquire());
      writers_ = MakeWriters();
      for (ColumnWriter& w : writers_) w.set_compressor(c);
    }
    return WriteBytes(parquet::kMagic, 4);
  }

  Status Write(const RecordBatch& batch) override {
    if (finished_) return Status::FailedPrecondition("parquet: Write after Finish");
    if (!status_.ok()) return status_;
    RETURN_IF_ERROR(Validate(batch));
    if (batch.num_rows() == 0) return Status::OK();
    Status st;
    try {
      st = pipelined_ ? WritePipelined(batch) : WriteInline(batch);
    } catch (const std::bad_alloc&) {
      // Memory is short: give the temporary file back now rather than when
      // the caller gets round to dropping the encoder.
      out_->Abort();
      st = OutOfMemory();
    }
    if (!st.ok()) return Fail(st);
    return Status::OK();
  }

  Status Finish() override {
    if (finished_) return Status::FailedPrecondition("parquet: Finish called twice");
    finished_ = true;
    Status st = status_;
    try {
      if (st.ok()) st = pipelined_ ? FinishPipelined() : FlushInlineGroup();
      if (st.ok()) st = WriteFooter();
    } catch (const std::bad_alloc&) {
      st = OutOfMemory();
    }
    if (!st.ok()) {
      Fail(st).IgnoreError();
      out_->Abort();
      return st;
    }
    return out_->Close();
  }

  int64_t rows_written() const override { return rows_written_; }
  int64_t bytes_written() const override { return offset_; }

 private:
  // Rows [offset, offset + n) of one batch's columns, shared between the row
  // groups the batch spans.
  struct Segment {
    std::shared_ptr<const std::vector<Column>> columns;
    int64_t offset;
    int64_t n;
  };
  struct Group {
    std::vector<Segment> segments;
    int64_t rows = 0;
    int64_t bytes = 0;
    std::vector<ColumnWriter> writers;
    std::vector<std::future<Status>> done;
  };

  std::vector<ColumnWriter> MakeWriters() const {
    std::vector<ColumnWriter> writers;
    writers.reserve(schema_.num_fields());
    parquet::ColumnWriterOptions wo = WriterOptions(options_);
    for (const Field& f : schema_.fields()) writers.emplace_back(f, wo);
    return writers;
  }

  Status Validate(const RecordBatch& batch) const {
    if (!(batch.schema == schema_)) {
      return Status::InvalidArgument("parquet: batch schema\n" + batch.schema.ToString() +
                                     "\ndiffers from the file schema\n" + schema_.ToString());
    }
    if (batch.columns.size() != static_cast<size_t>(schema_.num_fields())) {
      return Status::InvalidArgument("parquet: batch has " + std::to_string(batch.columns.size()) +
                                     " columns, schema has " +
                                     std::to_string(schema_.num_fields()) + " fields");
    }
    int64_t rows = batch.num_rows();
    for (int c = 0; c < schema_.num_fields(); ++c) {
      const Field& f = schema_.field(c);
      const Column& col = batch.columns[c];
      if (col.type() != f.type) {
        return Status::InvalidArgument("parquet: column of field '" + f.name + "' holds " +
                                       col.type().ToString() + ", schema says " +
                                       f.type.ToString());
      }
      if (col.size() != rows) {
        return Status::InvalidArgument("parquet: column of field '" + f.name + "' has " +
                                       std::to_string(col.size()) + " rows, batch has " +
                                       std::to_string(rows));
      }
      if (!f.nullable && col.has_nulls()) {
        return Status::InvalidArgument("parquet: field '" + f.name + "' is not null but has " +
                                       std::to_string(col.null_count()) + " null value(s)");
      }
    }
    return Status::OK();
  }

  Status WriteBytes(const void* data, size_t n) {
    RETURN_IF_ERROR(out_->Write(data, n));
    offset_ += static_cast<int64_t>(n);
    return Status::OK();
  }

  // Writes the finished chunks of one row group and records its metadata.
  Status WriteRowGroup(const std::vector<ColumnWriter>& writers, int64_t rows) {
    parquet::RowGroup rg;
    rg.num_rows = rows;
    rg.file_offset = offset_;
    int64_t compressed = 0;
    for (const ColumnWriter& w : writers) {
      parquet::ColumnChunk cc;
      cc.file_offset = offset_;
      cc.meta_data = w.ChunkMetaData(offset_);
      if (options_.page_index) {
        // Serialized now, written before the footer (their offsets are set then).
        PendingIndex pi;
        pi.row_group = row_groups_.size();
        pi.column = rg.columns.size();
        pi.offset_index = parquet::SerializeToString(w.ChunkOffsetIndex(offset_));
        if (std::optional<parquet::ColumnIndex> ci = w.ChunkColumnIndex()) {
          pi.column_index = parquet::SerializeToString(*ci);
        }
        pending_index_.push_back(std::move(pi));
      }
      RETURN_IF_ERROR(WriteBytes(w.dictionary_page().data(), w.dictionary_page().size()));
      RETURN_IF_ERROR(WriteBytes(w.data_pages().data(), w.data_pages().size()));
      rg.total_byte_size += w.chunk_uncompressed_bytes();
      compressed += w.chunk_bytes();
      rg.columns.push_back(std::move(cc));
    }
    rg.total_compressed_size = compressed;
    // ordinal is an i16; files with more row groups simply leave it out.
    if (row_groups_.size() < 32768) rg.ordinal = static_cast<int16_t>(row_groups_.size());
    row_groups_.push_back(std::move(rg));
    return Status::OK();
  }

  // --- inline ------------------------------------------------------------------

  int64_t InlineBufferedBytes() const {
    int64_t total = 0;
    for (const ColumnWriter& w : writers_) total += w.BufferedUncompressedBytes();
    return total;
  }

  Status WriteInline(const RecordBatch& batch) {
    int64_t rows = batch.num_rows();
    const int64_t bytes_per_row = std::max<int64_t>(BatchBytes(batch) / rows, 1);
    int64_t offset = 0;
    while (offset < rows) {
      // Raw bytes per row bound the slice: encoded bytes are rarely more.
      int64_t room_bytes = std::max<int64_t>(options_.row_group_bytes - InlineBufferedBytes(), 0);
      int64_t take = std::min({rows - offset, options_.row_group_rows - inline_rows_, kSliceRows,
                               std::max<int64_t>(room_bytes / bytes_per_row, 1)});
      for (size_t c = 0; c < writers_.size(); ++c) {
        RETURN_IF_ERROR(writers_[c].Append(batch.columns[c], offset, take));
      }
      inline_rows_ += take;
      rows_written_ += take;
      offset += take;
      if (inline_rows_ >= options_.row_group_rows ||
          InlineBufferedBytes() >= options_.row_group_bytes) {
        RETURN_IF_ERROR(FlushInlineGroup());
      }
    }
    return Status::OK();
  }

  Status FlushInlineGroup() {
    if (inline_rows_ == 0) return Status::OK();
    for (ColumnWriter& w : writers_) RETURN_IF_ERROR(w.FinishChunk());
    RETURN_IF_ERROR(WriteRowGroup(writers_, inline_rows_));
    for (ColumnWriter& w : writers_) w.ResetChunk();
    inline_rows_ = 0;
    return Status::OK();
  }

  // --- pipelined ---------------------------------------------------------------

  std::unique_ptr<Group> NewGroup() {
    if (!spare_.empty()) {
      std::unique_ptr<Group> g = std::move(spare_.back());
      spare_.pop_back();
      return g;
    }
    auto g = std::make_unique<Group>();
    g->writers = MakeWriters();
    return g;
  }

  // A copy of `batch`'s columns in a buffer no row group uses any more
  // (copy-assigning reuses its capacity), or in a new one.
  std::shared_ptr<const std::vector<Column>> CopyColumns(const RecordBatch& batch) {
    for (auto& buf : batch_buffers_) {
      // Segments are dropped on this thread only, so the count is stable.
      if (buf.use_count() == 1) {
        *buf = batch.columns;
        return buf;
      }
    }
    batch_buffers_.push_back(std::make_shared<std::vector<Column>>(batch.columns));
    return batch_buffers_.back();
  }

  Status WritePipelined(const RecordBatch& batch) {
    const int64_t rows = batch.num_rows();
    // One copy of the columns, whatever row groups the rows end up in.
    std::shared_ptr<const std::vector<Column>> columns = CopyColumns(batch);
    const int64_t bytes_per_row = std::max<int64_t>(BatchBytes(batch) / rows, 1);
    int64_t offset = 0;
    while (offset < rows) {
      if (filling_ == nullptr) filling_ = NewGroup();
      int64_t room_bytes = std::max<int64_t>(options_.row_group_bytes - filling_->bytes, 0);
      int64_t take = std::min({rows - offset, options_.row_group_rows - filling_->rows,
                               std::max<int64_t>(room_bytes / bytes_per_row, 1)});
      filling_->segments.push_back({columns, offset, take});
      filling_->rows += take;
      filling_->bytes += take * bytes_per_row;
      rows_written_ += take;
      offset += take;
      if (filling_->rows >= options_.row_group_rows ||
          filling_->bytes >= options_.row_group_bytes) {
        RETURN_IF_ERROR(SubmitFilling());
      }
    }
    return Status::OK();
  }

  // Encodes column `c` of `g`: runs on a pool thread.
  Status EncodeChunk(Group* g, size_t c) {
    ASSIGN_OR_RETURN(PageCompressor * compressor, compressors_.Acquire());
    ColumnWriter& w = g->writers[c];
    w.set_compressor(compressor);
    Status st;
    for (const Segment& s : g->segments) {
      st = w.Append((*s.columns)[c], s.offset, s.n);
      if (!st.ok()) break;
    }
    if (st.ok()) st = w.FinishChunk();
    compressors_.Release(compressor);
    return st;
  }

  Status SubmitFilling() {
    // Bound the groups in flight before adding one: the caller waits here,
    // never inside a pool task.
    while (in_flight_.size() >= kMaxGroupsInFlight) RETURN_IF_ERROR(WriteOldest());
    Group* g = filling_.get();
    g->done.clear();
    for (size_t c = 0; c < g->writers.size(); ++c) {
      g->done.push_back(options_.pool->Submit([this, g, c] {
        try {
          return EncodeChunk(g, c);
        } catch (const std::bad_alloc&) {
          return OutOfMemory();
        } catch (const std::exception& e) {
          return Status::Internal(std::string("parquet: encoding a column chunk failed: ") +
                                  e.what());
        }
      }));
    }
    // The next group's writers (one per column, a few hundred bytes each) are
    // made when rows arrive for it, not at the end of the file.
    in_flight_.push_back(std::move(filling_));
    return Status::OK();
  }

  // Waits for every task of `g`; returns the first error.
  static Status WaitGroup(Group* g) {
    Status first;
    for (auto& f : g->done) {
      if (!f.valid()) continue;
      Status st;
      try {
        st = f.get();
      } catch (const std::exception& e) {
        st = Status::Internal(std::string("parquet: encoding task failed: ") + e.what());
      }
      if (first.ok() && !st.ok()) first = st;
    }
    g->done.clear();
    return first;
  }

  Status WriteOldest() {
    std::unique_ptr<Group> g = std::move(in_flight_.front());
    in_flight_.pop_front();
    Status st = WaitGroup(g.get());
    if (st.ok()) st = WriteRowGroup(g->writers, g->rows);
    g->segments.clear();
    g->rows = 0;
    g->bytes = 0;
    for (ColumnWriter& w : g->writers) w.ResetChunk();
    spare_.push_back(std::move(g));
    return st;
  }

  Status FinishPipelined() {
    if (filling_ != nullptr && filling_->rows > 0) RETURN_IF_ERROR(SubmitFilling());
    while (!in_flight_.empty()) RETURN_IF_ERROR(WriteOldest());
    return Status::OK();
  }

  // --- footer ------------------------------------------------------------------

  // The page index goes after the last row group: every ColumnIndex, then
  // every OffsetIndex (the order parquet-mr uses), each chunk's metadata
  // pointing at its two.
  Status WritePageIndex() {
    for (const PendingIndex& pi : pending_index_) {
      if (pi.column_index.empty()) continue;
      parquet::ColumnChunk& cc = row_groups_[pi.row_group].columns[pi.column];
      cc.column_index_offset = offset_;
      cc.column_index_length = static_cast<int32_t>(pi.column_index.size());
      RETURN_IF_ERROR(WriteBytes(pi.column_index.data(), pi.column_index.size()));
    }
    for (const PendingIndex& pi : pending_index_) {
      parquet::ColumnChunk& cc = row_groups_[pi.row_group].columns[pi.column];
      cc.offset_index_offset = offset_;
      cc.offset_index_length = static_cast<int32_t>(pi.offset_index.size());
      RETURN_IF_ERROR(WriteBytes(pi.offset_index.data(), pi.offset_index.size()));
    }
    pending_index_.clear();
    return Status::OK();
  }

  Status WriteFooter() {
    RETURN_IF_ERROR(WritePageIndex());
    parquet::FileMetaData md;
    md.version = 1;
    md.schema = parquet::FlatSchemaElements(schema_);
    md.num_rows = rows_written_;
    md.row_groups = std::move(row_groups_);
    for (const auto& [k, v] : options_.key_value_metadata) {
      md.key_value_metadata.push_back({k, v});
    }
    md.created_by = kCreatedBy;
    md.type_defined_column_orders = schema_.num_fields();
    std::string footer = parquet::SerializeToString(md);
    char tail[8];
    uint32_t len = static_cast<uint32_t>(footer.size());
    for (int i = 0; i < 4; ++i) tail[i] = static_cast<char>(len >> (8 * i));
    std::copy(parquet::kMagic, parquet::kMagic + 4, tail + 4);
    footer.append(tail, 8);
    return WriteBytes(footer.data(), footer.size());
  }

  // A failed allocation (std::bad_alloc) as a Status: transient, like ENOMEM
  // (the same input may fit once other work has freed memory). The file is
  // unusable after it; the caller drops the encoder, which discards it.
  static Status OutOfMemory() {
    return Status::Unavailable("parquet: out of memory while encoding (std::bad_alloc)");
  }

  // Remembers the first error: after one, the file is unusable.
  Status Fail(Status st) {
    if (status_.ok()) status_ = st;
    return st;
  }

  std::unique_ptr<OutputStream> out_;
  Schema schema_;
  ParquetWriterOptions options_;
  bool pipelined_;
  CompressorPool compressors_;
  std::vector<parquet::RowGroup> row_groups_;
  // Serialized page indexes of the chunks written, until the footer.
  struct PendingIndex {
    size_t row_group = 0;
    size_t column = 0;
    std::string offset_index;
    std::string column_index;  // empty: none (no usable statistics)
  };
  std::vector<PendingIndex> pending_index_;
  int64_t rows_written_ = 0;
  int64_t offset_ = 0;
  bool finished_ = false;
  Status status_;

  // Inline mode.
  std::vector<ColumnWriter> writers_;
  int64_t inline_rows_ = 0;

  // Pipelined mode: the group being filled (null until rows arrive for it), the groups being
  // encoded (oldest first), and finished groups kept for reuse of their buffers.
  std::unique_ptr<Group> filling_;
  std::deque<std::unique_ptr<Group>> in_flight_;
  std::vector<std::unique_ptr<Group>> spare_;
  // Copies of input batches, reused once no group refers to them: as many as
  // batches overlap the groups in flight.
  std::vector<std::shared_ptr<std::vector<Column>>> batch_buffers_;
};

Status ValidateSchema(const Schema& schema) {
  if (schema.num_fields() == 0) {
    return Status::InvalidArgument("parquet: cannot write a file with no columns");
  }
  std::set<std::string> names;
  for (const Field& f : schema.fields()) {
    if (f.name.empty()) return Status::InvalidArgument("parquet: a field has an empty name");
    if (!names.insert(f.name).second) {
      return Status::InvalidArgument("parquet: field name '" + f.name + "' appears twice");
    }
    if (f.type.id == TypeId::kDecimal &&
        (f.type.precision < 1 || f.type.precision > kMaxDecimalPrecision ||
         f.type.scale > f.type.precision)) {
      return Status::InvalidArgument("parquet: field '" + f.name + "' has invalid type " +
                                     f.type.ToString());
    }
  }
  return Status::OK();
}

Status ValidateOptions(const ParquetWriterOptions& o) {
  auto at_least = [](const char* name, int64_t v, int64_t min) {
    if (v >= min) return Status::OK();
    return Status::InvalidArgument("parquet: " + std::string(name) + " must be at least " +
                                   std::to_string(min) + ", got " + std::to_string(v));
  };
  RETURN_IF_ERROR(at_least("row_group_rows", o.row_group_rows, 1));
  RETURN_IF_ERROR(at_least("row_group_bytes", o.row_group_bytes, 1));
  RETURN_IF_ERROR(at_least("page_bytes", o.page_bytes, 1));
  RETURN_IF_ERROR(at_least("page_rows", o.page_rows, 1));
  if (o.page_rows > (int64_t{1} << 20)) {
    return Status::InvalidArgument("parquet: page_rows must be at most 1048576, got " +
                                   std::to_string(o.page_rows));
  }
  RETURN_IF_ERROR(at_least("dictionary_page_bytes", o.dictionary_page_bytes, 1024));
  // Dictionary offsets are 32-bit and a page is at most 2 GiB.
  if (o.dictionary_page_bytes > (int64_t{1} << 30)) {
    return Status::InvalidArgument("parquet: dictionary_page_bytes must be at most 1 GiB, got " +
                                   std::to_string(o.dictionary_page_bytes));
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<Encoder>> NewParquetEncoder(std::unique_ptr<OutputStream> out,
                                                   const Schema& schema,
                                                   const ParquetWriterOptions& options) {
  if (out == nullptr) return Status::InvalidArgument("parquet: no output stream");
  RETURN_IF_ERROR(ValidateSchema(schema));
  RETURN_IF_ERROR(ValidateOptions(options));
  ASSIGN_OR_RETURN(auto compressor,
                   PageCompressor::Make(options.compression, options.compression_level));
  auto enc =
      std::make_unique<ParquetEncoder>(std::move(out), schema, options, std::move(compressor));
  RETURN_IF_ERROR(enc->Start());
  return std::unique_ptr<Encoder>(std::move(enc));
}

}  // namespace sluice
