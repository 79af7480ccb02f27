#include "format/chunked_decoder.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <future>
#include <new>
#include <string>
#include <utility>

#include "core/thread_pool.h"

namespace sluice {

namespace {

// The bytes of the chunks that were cut but not handed out, then the rest of
// the input: what the sequential fallback reads.
class ConcatInput final : public InputStream {
 public:
  ConcatInput(std::deque<std::shared_ptr<Chunk>> chunks, std::vector<char> carry,
              std::unique_ptr<InputStream> rest)
      : chunks_(std::move(chunks)), carry_(std::move(carry)), rest_(std::move(rest)) {}

  Result<size_t> Read(char* buf, size_t n) override {
    while (!chunks_.empty()) {
      const Chunk& c = *chunks_.front();
      if (pos_ < c.size) {
        size_t k = std::min(n, c.size - pos_);
        std::memcpy(buf, c.bytes.data() + pos_, k);
        pos_ += k;
        return k;
      }
      chunks_.pop_front();
      pos_ = 0;
    }
    if (pos_ < carry_.size()) {
      size_t k = std::min(n, carry_.size() - pos_);
      std::memcpy(buf, carry_.data() + pos_, k);
      pos_ += k;
      return k;
    }
    return rest_->Read(buf, n);
  }
  const std::string& name() const override { return rest_->name(); }
  int64_t SizeHint() const override { return rest_->SizeHint(); }
  int64_t BytesConsumed() const override { return rest_->BytesConsumed(); }

 private:
  std::deque<std::shared_ptr<Chunk>> chunks_;
  std::vector<char> carry_;
  std::unique_ptr<InputStream> rest_;
  size_t pos_ = 0;
};

class ChunkedDecoder final : public Decoder {
 public:
  ChunkedDecoder(std::unique_ptr<InputStream> in, std::unique_ptr<ChunkFormat> format,
                 const DecoderOptions& options, const ChunkedOptions& chunking)
      : in_(std::move(in)),
        name_(in_->name()),
        format_(std::move(format)),
        schema_(options.schema),
        chunking_(chunking),
        pool_(options.pool != nullptr ? options.pool : &inline_pool_),
        target_(std::min(chunking.first_chunk_bytes, chunking.chunk_bytes)) {
    max_in_flight_ =
        options.pool != nullptr ? 2 * static_cast<size_t>(pool_->parallelism()) + 1 : 1;
  }

  ~ChunkedDecoder() override {
    // Tasks read chunks owned by in_flight_; let them finish first.
    for (InFlight& f : in_flight_) f.result.wait();
  }

  Result<bool> Next(RecordBatch* out, std::vector<BadRecord>* bad) override {
    // A failed allocation here or in a chunk task (rethrown by its future)
    // ends the input with an error instead of aborting the process.
    try {
      return NextBatch(out, bad);
    } catch (const std::bad_alloc&) {
      return Status::Unavailable("out of memory decoding '" + name_ + "' (std::bad_alloc)");
    }
  }

  int64_t records_read() const override { return records_; }

 private:
  Result<bool> NextBatch(RecordBatch* out, std::vector<BadRecord>* bad) {
    for (;;) {
      if (sequential_ != nullptr) {
        ASSIGN_OR_RETURN(bool more, sequential_->Next(out, bad));
        records_ = sequential_base_ + sequential_->records_read();
        return more;
      }
      if (!ready_.empty()) {
        *out = std::move(ready_.front());
        ready_.pop_front();
        return true;
      }
      if (!started_) {
        RETURN_IF_ERROR(Start());
        started_ = true;
      }
      RETURN_IF_ERROR(Fill());
      if (in_flight_.empty()) {
        *out = RecordBatch::Empty(schema_);
        return false;
      }
      InFlight f = std::move(in_flight_.front());
      in_flight_.pop_front();
      ChunkResult r = f.result.get();
      RETURN_IF_ERROR(r.status);
      if (r.error.line >= 0) {
        return Status::InvalidArgument(r.error.before + std::to_string(next_line_ + r.error.line) +
                                       r.error.after);
      }
      if (!r.clean) {
        RETURN_IF_ERROR(StartSequential(std::move(f.chunk)));
        continue;
      }
      recycle_.push_back(std::move(f.chunk->bytes));
      const int64_t base = next_line_;
      next_line_ += r.lines;
      records_ += r.records;
      for (BadRecord& b : r.bad) {
        b.line += base;
        bad->push_back(std::move(b));
      }
      for (RecordBatch& b : r.batches) {
        for (int64_t& l : b.source_lines) l += base;
        ready_.push_back(std::move(b));
      }
      if (ready_.empty() && !r.bad.empty()) {
        // Only bad records in this chunk: report progress with an empty batch.
        *out = RecordBatch::Empty(schema_);
        return true;
      }
    }
  }

  struct InFlight {
    std::shared_ptr<Chunk> chunk;
    std::future<ChunkResult> result;
  };

  // Reads until buf holds `want` bytes or the input ends.
  Status ReadInto(std::vector<char>& buf, size_t* fill, size_t want) {
    if (buf.size() < want + kChunkPadding) buf.resize(want + kChunkPadding);
    while (*fill < want && !eof_) {
      ASSIGN_OR_RETURN(size_t n, in_->Read(buf.data() + *fill, want - *fill));
      if (n == 0) eof_ = true;
      *fill += n;
    }
    return Status::OK();
  }

  Status Start() {
    std::vector<char> head;
    size_t fill = 0, want = target_;
    for (;;) {
      RETURN_IF_ERROR(ReadInto(head, &fill, want));
      int64_t lines = 0;
      ASSIGN_OR_RETURN(std::optional<size_t> used,
                       format_->ConsumePrefix(std::string_view(head.data(), fill), eof_, &lines));
      if (used.has_value()) {
        next_line_ = 1 + lines;
        carry_.assign(head.begin() + static_cast<std::ptrdiff_t>(*used),
                      head.begin() + static_cast<std::ptrdiff_t>(fill));
        return Status::OK();
      }
      if (want >= chunking_.max_record_bytes) {
        return Status::InvalidArgument("the header of '" + in_->name() + "' is larger than " +
                                       std::to_string(chunking_.max_record_bytes >> 20) + " MiB");
      }
      want *= 2;
    }
  }

  // Cuts chunks and submits them until enough are in flight or input ends.
  Status Fill() {
    while (in_flight_.size() < max_in_flight_ && (!eof_ || !carry_.empty())) {
      auto chunk = std::make_shared<Chunk>();
      if (!recycle_.empty()) {
        chunk->bytes = std::move(recycle_.back());
        recycle_.pop_back();
      }
      std::vector<char>& buf = chunk->bytes;
      size_t want = std::max(target_, carry_.size());
      if (buf.size() < want + kChunkPadding) buf.resize(want + kChunkPadding);
      if (!carry_.empty()) std::memcpy(buf.data(), carry_.data(), carry_.size());
      size_t fill = carry_.size();
      carry_.clear();
      size_t cut = 0;
      for (;;) {
        RETURN_IF_ERROR(ReadInto(buf, &fill, want));
        if (eof_) {
          cut = fill;
          chunk->final = true;
          break;
        }
        cut = format_->FindCut(std::string_view(buf.data(), fill));
        if (cut > 0) break;
        if (want >= chunking_.max_record_bytes) {
          return Status::InvalidArgument(
              "a record starting near line " + std::to_string(next_line_) + " of '" + in_->name() +
              "' is larger than " + std::to_string(chunking_.max_record_bytes >> 20) +
              " MiB (is a quote left open?)");
        }
        want *= 2;
      }
      if (cut == 0) break;  // nothing left
      carry_.assign(buf.begin() + static_cast<std::ptrdiff_t>(cut),
                    buf.begin() + static_cast<std::ptrdiff_t>(fill));
      chunk->size = cut;
      std::memset(buf.data() + cut, 0, std::min(kChunkPadding, buf.size() - cut));
      chunk->index = chunks_cut_++;
      target_ = std::min(target_ * 2, chunking_.chunk_bytes);
      const ChunkFormat* format = format_.get();
      std::shared_ptr<Chunk> task_chunk = chunk;
      in_flight_.push_back(InFlight{
          chunk, pool_->Submit([format, task_chunk] { return format->Parse(*task_chunk); })});
    }
    return Status::OK();
  }

  // Decodes everything from `chunk` on with the exact sequential decoder.
  Status StartSequential(std::shared_ptr<Chunk> chunk) {
    std::deque<std::shared_ptr<Chunk>> rest{std::move(chunk)};
    for (InFlight& f : in_flight_) {
      f.result.wait();
      rest.push_back(std::move(f.chunk));
    }
    in_flight_.clear();
    auto concat = std::make_unique<ConcatInput>(std::move(rest), std::move(carry_), std::move(in_));
    ASSIGN_OR_RETURN(sequential_, format_->Sequential(std::move(concat), next_line_));
    sequential_base_ = records_;
    return Status::OK();
  }

  std::unique_ptr<InputStream> in_;
  std::string name_;  // in_'s, kept for messages after in_ moved on
  std::unique_ptr<ChunkFormat> format_;
  Schema schema_;
  ChunkedOptions chunking_;
  ThreadPool inline_pool_{0};
  ThreadPool* pool_;
  size_t max_in_flight_ = 1;
  size_t target_;
  bool started_ = false;
  bool eof_ = false;
  std::vector<char> carry_;
  std::vector<std::vector<char>> recycle_;
  std::deque<InFlight> in_flight_;
  std::deque<RecordBatch> ready_;
  int64_t next_line_ = 1;  // line of the next chunk's first byte
  int64_t chunks_cut_ = 0;
  int64_t records_ = 0;
  std::unique_ptr<Decoder> sequential_;
  int64_t sequential_base_ = 0;
};

}  // namespace

Result<std::unique_ptr<Decoder>> NewChunkedDecoder(std::unique_ptr<InputStream> in,
                                                   std::unique_ptr<ChunkFormat> format,
                                                   const DecoderOptions& options,
                                                   const ChunkedOptions& chunking) {
  if (in == nullptr || format == nullptr) {
    return Status::InvalidArgument("chunked decoder needs an input and a format");
  }
  return std::unique_ptr<Decoder>(
      std::make_unique<ChunkedDecoder>(std::move(in), std::move(format), options, chunking));
}

}  // namespace sluice
