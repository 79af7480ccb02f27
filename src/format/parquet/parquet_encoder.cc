// NewParquetEncoder: the Encoder that writes a flat Parquet file.
//
// File layout: "PAR1", then row groups (one chunk of v1 data pages per column,
// columns in schema order), then the FileMetaData footer, its 4-byte LE length
// and "PAR1". The pages of the current row group are held in memory (already
// compressed) and written when the group reaches row_group_rows rows or about
// kRowGroupByteBudget uncompressed bytes, so memory is bounded by one row
// group, not by the file.
#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "format/format.h"
#include "format/parquet/column_writer.h"
#include "format/parquet/page_codec.h"
#include "format/parquet/parquet_metadata.h"
#include "format/parquet/parquet_schema.h"

namespace sluice {
namespace {

using parquet::ColumnWriter;

constexpr int64_t kRowGroupByteBudget = int64_t{128} << 20;
// Rows appended per step, so that the byte budget is checked often enough
// even when a caller hands over one huge batch.
constexpr int64_t kSliceRows = 64 * 1024;
constexpr char kCreatedBy[] = "sluice version 0.1.0";

class ParquetEncoder final : public Encoder {
 public:
  ParquetEncoder(std::unique_ptr<OutputStream> out, const Schema& schema,
                 const ParquetWriterOptions& options,
                 std::unique_ptr<parquet::PageCompressor> compressor)
      : out_(std::move(out)),
        schema_(schema),
        options_(options),
        compressor_(std::move(compressor)) {
    writers_.reserve(schema_.num_fields());
    for (const Field& f : schema_.fields()) {
      writers_.emplace_back(f, compressor_.get(), options_.page_bytes);
    }
  }

  Status Start() { return WriteBytes(parquet::kMagic, 4); }

  Status Write(const RecordBatch& batch) override {
    if (finished_) return Status::FailedPrecondition("parquet: Write after Finish");
    if (!status_.ok()) return status_;
    RETURN_IF_ERROR(Validate(batch));
    int64_t rows = batch.num_rows();
    int64_t offset = 0;
    while (offset < rows) {
      int64_t take =
          std::min({rows - offset, options_.row_group_rows - rows_in_group_, kSliceRows});
      for (size_t c = 0; c < writers_.size(); ++c) {
        Status st = writers_[c].Append(batch.columns[c], offset, take);
        if (!st.ok()) return Fail(st);
      }
      rows_in_group_ += take;
      rows_written_ += take;
      offset += take;
      if (rows_in_group_ >= options_.row_group_rows || BufferedBytes() >= kRowGroupByteBudget) {
        Status st = FlushRowGroup();
        if (!st.ok()) return Fail(st);
      }
    }
    return Status::OK();
  }

  Status Finish() override {
    if (finished_) return Status::FailedPrecondition("parquet: Finish called twice");
    finished_ = true;
    if (!status_.ok()) {
      out_->Abort();
      return status_;
    }
    Status st = WriteFooter();
    if (!st.ok()) {
      out_->Abort();
      return st;
    }
    return out_->Close();
  }

  int64_t rows_written() const override { return rows_written_; }
  int64_t bytes_written() const override { return offset_; }

 private:
  Status Validate(const RecordBatch& batch) const {
    if (!(batch.schema == schema_)) {
      return Status::InvalidArgument("parquet: batch schema\n" + batch.schema.ToString() +
                                     "\ndiffers from the file schema\n" + schema_.ToString());
    }
    if (batch.columns.size() != writers_.size()) {
      return Status::InvalidArgument("parquet: batch has " + std::to_string(batch.columns.size()) +
                                     " columns, schema has " + std::to_string(writers_.size()) +
                                     " fields");
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

  int64_t BufferedBytes() const {
    int64_t total = 0;
    for (const ColumnWriter& w : writers_) total += w.BufferedUncompressedBytes();
    return total;
  }

  Status WriteBytes(const void* data, size_t n) {
    RETURN_IF_ERROR(out_->Write(data, n));
    offset_ += static_cast<int64_t>(n);
    return Status::OK();
  }

  Status FlushRowGroup() {
    if (rows_in_group_ == 0) return Status::OK();
    parquet::RowGroup rg;
    rg.num_rows = rows_in_group_;
    rg.file_offset = offset_;
    int64_t compressed = 0;
    for (ColumnWriter& w : writers_) {
      RETURN_IF_ERROR(w.FlushPage());
      parquet::ColumnChunk cc;
      cc.file_offset = offset_;
      cc.meta_data = w.ChunkMetaData(offset_);
      RETURN_IF_ERROR(WriteBytes(w.chunk().data(), w.chunk().size()));
      rg.total_byte_size += w.chunk_uncompressed_bytes();
      compressed += static_cast<int64_t>(w.chunk().size());
      rg.columns.push_back(std::move(cc));
      w.ResetChunk();
    }
    rg.total_compressed_size = compressed;
    // ordinal is an i16; files with more row groups simply leave it out.
    if (row_groups_.size() < 32768) rg.ordinal = static_cast<int16_t>(row_groups_.size());
    row_groups_.push_back(std::move(rg));
    rows_in_group_ = 0;
    return Status::OK();
  }

  Status WriteFooter() {
    RETURN_IF_ERROR(FlushRowGroup());
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

  // Remembers the first error: after one, the file is unusable.
  Status Fail(Status st) {
    if (status_.ok()) status_ = st;
    return st;
  }

  std::unique_ptr<OutputStream> out_;
  Schema schema_;
  ParquetWriterOptions options_;
  std::unique_ptr<parquet::PageCompressor> compressor_;
  std::vector<ColumnWriter> writers_;
  std::vector<parquet::RowGroup> row_groups_;
  int64_t rows_in_group_ = 0;
  int64_t rows_written_ = 0;
  int64_t offset_ = 0;
  bool finished_ = false;
  Status status_;
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

}  // namespace

Result<std::unique_ptr<Encoder>> NewParquetEncoder(std::unique_ptr<OutputStream> out,
                                                   const Schema& schema,
                                                   const ParquetWriterOptions& options) {
  if (out == nullptr) return Status::InvalidArgument("parquet: no output stream");
  RETURN_IF_ERROR(ValidateSchema(schema));
  if (options.row_group_rows < 1) {
    return Status::InvalidArgument("parquet: row_group_rows must be at least 1, got " +
                                   std::to_string(options.row_group_rows));
  }
  if (options.page_bytes < 1) {
    return Status::InvalidArgument("parquet: page_bytes must be at least 1, got " +
                                   std::to_string(options.page_bytes));
  }
  ASSIGN_OR_RETURN(auto compressor,
                   parquet::PageCompressor::Make(options.compression, options.compression_level));
  auto enc =
      std::make_unique<ParquetEncoder>(std::move(out), schema, options, std::move(compressor));
  RETURN_IF_ERROR(enc->Start());
  return std::unique_ptr<Encoder>(std::move(enc));
}

}  // namespace sluice
