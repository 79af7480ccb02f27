// TextEncoderBase: what the CSV and NDJSON encoders share: batch validation,
// buffering into large blocks, parallel formatting of row ranges on a pool,
// and the Finish/Abort protocol. A subclass only formats rows.
#pragma once

#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/io.h"
#include "core/types.h"
#include "format/format.h"
#include "format/text_buffer.h"

namespace sluice {

class ThreadPool;

// Raw pointers into one column, so that row loops skip Column's accessors.
struct ColumnView {
  TypeId id = TypeId::kString;
  int scale = 0;
  const uint8_t* validity = nullptr;  // null: no nulls
  const uint8_t* data = nullptr;
  const uint32_t* offsets = nullptr;  // strings
  const char* chars = nullptr;

  bool IsNull(int64_t r) const {
    return validity != nullptr && ((validity[r >> 3] >> (r & 7)) & 1) == 0;
  }
  template <typename T>
  T Get(int64_t r) const {
    T v;
    std::memcpy(&v, data + r * static_cast<int64_t>(sizeof(T)), sizeof(T));
    return v;
  }
  std::string_view String(int64_t r) const {
    return {chars + offsets[r], static_cast<size_t>(offsets[r + 1] - offsets[r])};
  }
};
std::vector<ColumnView> ViewColumns(const RecordBatch& batch);

class TextEncoderBase : public Encoder {
 public:
  // Bytes gathered before a write to the stream.
  static constexpr size_t kBlockBytes = size_t{1} << 20;
  // Batches smaller than this are formatted on the calling thread.
  static constexpr int64_t kMinParallelRows = 8192;

  TextEncoderBase(std::unique_ptr<OutputStream> out, const Schema& schema, ThreadPool* pool,
                  std::string format_name);
  ~TextEncoderBase() override;

  Status Write(const RecordBatch& batch) override;
  Status Finish() override;
  int64_t rows_written() const override { return rows_written_; }
  int64_t bytes_written() const override {
    return flushed_bytes_ + static_cast<int64_t>(buf_.size());
  }

 protected:
  // Appends the text of rows [begin, end) of `batch` to *buf. Called
  // concurrently for disjoint ranges with distinct buffers, so it must not
  // touch mutable state of the encoder.
  virtual void FormatRows(const RecordBatch& batch, int64_t begin, int64_t end,
                          TextBuffer* buf) const = 0;

  const Schema& schema() const { return schema_; }
  // Text written once before the first row (e.g. a CSV header).
  TextBuffer& buffer() { return buf_; }

 private:
  Status Validate(const RecordBatch& batch) const;
  Status WriteSerial(const RecordBatch& batch);
  Status WriteParallel(const RecordBatch& batch);
  Status Flush(TextBuffer* buf);
  Status Fail(Status st);

  std::unique_ptr<OutputStream> out_;
  Schema schema_;
  ThreadPool* pool_;
  std::string format_name_;
  TextBuffer buf_;
  std::vector<TextBuffer> parts_;  // one per parallel range, reused across batches
  int64_t rows_written_ = 0;
  int64_t flushed_bytes_ = 0;
  bool finished_ = false;
  Status status_;
};

}  // namespace sluice
