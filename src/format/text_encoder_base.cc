#include "format/text_encoder_base.h"

#include <algorithm>
#include <future>

#include "core/thread_pool.h"

namespace sluice {

namespace {

// Rows formatted between checks of the block size on the serial path: small
// enough that the buffer stays near kBlockBytes, large enough to keep the
// check out of the inner loop.
constexpr int64_t kSerialSliceRows = 1024;

}  // namespace

std::vector<ColumnView> ViewColumns(const RecordBatch& batch) {
  std::vector<ColumnView> views(batch.columns.size());
  for (size_t c = 0; c < views.size(); ++c) {
    const Column& col = batch.columns[c];
    ColumnView& v = views[c];
    v.id = col.type().id;
    v.scale = col.type().scale;
    v.validity = col.has_nulls() ? col.validity() : nullptr;
    v.data = col.data<uint8_t>();
    if (v.id == TypeId::kString) {
      v.offsets = col.offsets();
      v.chars = col.chars();
    }
  }
  return views;
}

TextEncoderBase::TextEncoderBase(std::unique_ptr<OutputStream> out, const Schema& schema,
                                 ThreadPool* pool, std::string format_name)
    : out_(std::move(out)),
      schema_(schema),
      pool_(pool != nullptr && pool->size() > 0 ? pool : nullptr),
      format_name_(std::move(format_name)),
      buf_(kBlockBytes + kBlockBytes / 4) {}

TextEncoderBase::~TextEncoderBase() {
  if (!finished_ && out_ != nullptr) out_->Abort();
}

Status TextEncoderBase::Write(const RecordBatch& batch) {
  if (finished_) return Status::FailedPrecondition(format_name_ + ": Write after Finish");
  if (!status_.ok()) return status_;
  RETURN_IF_ERROR(Validate(batch));
  Status st = pool_ != nullptr && batch.num_rows() >= kMinParallelRows ? WriteParallel(batch)
                                                                       : WriteSerial(batch);
  if (!st.ok()) return Fail(st);
  rows_written_ += batch.num_rows();
  return Status::OK();
}

Status TextEncoderBase::Finish() {
  if (finished_) return Status::FailedPrecondition(format_name_ + ": Finish called twice");
  finished_ = true;
  Status st = status_.ok() ? Flush(&buf_) : status_;
  if (!st.ok()) {
    out_->Abort();
    return st;
  }
  return out_->Close();
}

Status TextEncoderBase::Validate(const RecordBatch& batch) const {
  if (batch.columns.size() != static_cast<size_t>(schema_.num_fields())) {
    return Status::InvalidArgument(format_name_ + ": batch has " +
                                   std::to_string(batch.columns.size()) + " columns, schema has " +
                                   std::to_string(schema_.num_fields()) + " fields");
  }
  const int64_t rows = batch.num_rows();
  for (int c = 0; c < schema_.num_fields(); ++c) {
    const Field& f = schema_.field(c);
    const Column& col = batch.columns[c];
    if (col.type() != f.type) {
      return Status::InvalidArgument(format_name_ + ": column of field '" + f.name + "' holds " +
                                     col.type().ToString() + ", schema says " + f.type.ToString());
    }
    if (col.size() != rows) {
      return Status::InvalidArgument(format_name_ + ": column of field '" + f.name + "' has " +
                                     std::to_string(col.size()) + " rows, batch has " +
                                     std::to_string(rows));
    }
  }
  return Status::OK();
}

Status TextEncoderBase::WriteSerial(const RecordBatch& batch) {
  const int64_t rows = batch.num_rows();
  for (int64_t begin = 0; begin < rows; begin += kSerialSliceRows) {
    FormatRows(batch, begin, std::min(rows, begin + kSerialSliceRows), &buf_);
    if (buf_.size() >= kBlockBytes) RETURN_IF_ERROR(Flush(&buf_));
  }
  return Status::OK();
}

Status TextEncoderBase::WriteParallel(const RecordBatch& batch) {
  RETURN_IF_ERROR(Flush(&buf_));
  const int64_t rows = batch.num_rows();
  const int n = static_cast<int>(std::min<int64_t>(pool_->parallelism(), rows / 1024 + 1));
  if (parts_.size() < static_cast<size_t>(n)) parts_.resize(n);
  std::vector<std::future<void>> done;
  done.reserve(n);
  for (int i = 0; i < n; ++i) {
    const int64_t begin = rows * i / n;
    const int64_t end = rows * (i + 1) / n;
    TextBuffer* part = &parts_[i];
    part->Clear();
    done.push_back(
        pool_->Submit([this, &batch, begin, end, part] { FormatRows(batch, begin, end, part); }));
  }
  // Wait for every task before returning, even after a failed write: they
  // reference `batch` and the part buffers.
  Status st;
  for (int i = 0; i < n; ++i) {
    done[i].get();
    if (st.ok()) st = Flush(&parts_[i]);
  }
  return st;
}

Status TextEncoderBase::Flush(TextBuffer* buf) {
  if (buf->size() == 0) return Status::OK();
  Status st = out_->Write(buf->data(), buf->size());
  flushed_bytes_ += static_cast<int64_t>(buf->size());
  buf->Clear();
  return st;
}

Status TextEncoderBase::Fail(Status st) {
  if (status_.ok()) status_ = st;
  return st;
}

}  // namespace sluice
