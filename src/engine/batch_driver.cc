#include "engine/batch_driver.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>

#include "core/value_text.h"
#include "format/compression.h"

namespace sluice {

namespace {

std::string DescribeBad(const std::string& file, const BadRecord& r) {
  std::string out = file + ":" + std::to_string(r.line) + ": ";
  if (!r.field.empty()) out += "field '" + EscapeName(r.field) + "': ";
  return out + r.reason;
}

// Line feeds in buf[0, n), eight bytes at a time (exact: a byte counts only
// when it is 0x0a).
int64_t CountLineFeeds(const char* buf, size_t n) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kLow7 = 0x7F7F7F7F7F7F7F7FULL;
  int64_t count = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    std::memcpy(&v, buf + i, 8);
    const uint64_t t = v ^ (kOnes * '\n');  // zero bytes where buf has '\n'
    const uint64_t zero = ~(((t & kLow7) + kLow7) | t | kLow7);
    count += std::popcount(zero);
  }
  for (; i < n; ++i) count += buf[i] == '\n';
  return count;
}

}  // namespace

// The decompressed input as the decoder reads it, counting bytes and line
// feeds for the early max_bad_ratio check (see CannotMeetRatio). Only text
// formats are wrapped: Parquet needs random access, which would bypass the
// counts.
class BatchDriver::CountingInput final : public InputStream {
 public:
  explicit CountingInput(std::unique_ptr<InputStream> in) : in_(std::move(in)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    ASSIGN_OR_RETURN(size_t got, in_->Read(buf, n));
    bytes_.fetch_add(static_cast<int64_t>(got), std::memory_order_relaxed);
    lines_.fetch_add(CountLineFeeds(buf, got), std::memory_order_relaxed);
    return got;
  }
  const std::string& name() const override { return in_->name(); }
  int64_t SizeHint() const override { return in_->SizeHint(); }
  int64_t BytesConsumed() const override { return in_->BytesConsumed(); }
  int64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  int64_t lines() const { return lines_.load(std::memory_order_relaxed); }

 private:
  std::unique_ptr<InputStream> in_;
  // Atomic in case a decoder reads ahead on another thread.
  std::atomic<int64_t> bytes_{0};
  std::atomic<int64_t> lines_{0};
};

std::string PercentText(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f%%", fraction * 100.0);
  return buf;
}

Status DriverSink::Quarantine(const std::vector<BadRecord>&, BadRecordOrigin) {
  return Status::OK();
}

BatchDriverOptions DriverOptionsForSpec(const PipelineSpec& spec) {
  BatchDriverOptions o;
  o.format = spec.source.format;
  o.schema = spec.schema;
  o.csv = spec.source.csv;
  o.spec = &spec;
  o.on_bad_record = spec.on_bad_record;
  o.max_bad_ratio = spec.max_bad_ratio;
  return o;
}

Result<FileFormat> InputFormat(const PipelineSpec& spec, const std::string& input_name) {
  if (!spec.source.format_from_name) return spec.source.format;
  auto f = FileFormatFromName(input_name);
  if (!f.ok()) {
    return Status::InvalidArgument(f.status().message() +
                                   " (set source.format in the pipeline spec)");
  }
  return *f;
}

bool DriverResult::OverRatio(double max_bad_ratio) const {
  const double ratio = records_read > 0 ? static_cast<double>(bad) / records_read : 0.0;
  return bad > 0 && ratio > max_bad_ratio;
}

BatchDriver::BatchDriver(BatchDriverOptions options) : options_(std::move(options)) {}
BatchDriver::BatchDriver(BatchDriver&&) noexcept = default;
BatchDriver& BatchDriver::operator=(BatchDriver&&) noexcept = default;
BatchDriver::~BatchDriver() = default;

Status BatchDriver::Open(DriverInput input) {
  if (decoder_ != nullptr) return Status::Internal("BatchDriver::Open called twice");
  std::unique_ptr<InputStream> in = std::move(input.stream);
  total_bytes_ = in->SizeHint();
  max_expansion_ = 1;
  if (input.decompress) {
    ASSIGN_OR_RETURN(in, OpenDecompressed(std::move(in), &max_expansion_));
  }
  input_ = in.get();
  // Under `fail` the first bad record ends the run anyway, and a ratio of 1
  // can never be exceeded; otherwise the run may stop early (Run).
  may_stop_early_ =
      options_.on_bad_record != BadRecordPolicy::kFail && options_.max_bad_ratio < 1.0;
  if (may_stop_early_ && options_.format != FileFormat::kParquet) {
    auto wrapped = std::make_unique<CountingInput>(std::move(in));
    counted_ = wrapped.get();
    in = std::move(wrapped);
  }
  DecoderOptions dopts;
  dopts.schema = options_.schema;
  dopts.csv = options_.csv;
  dopts.pool = options_.pool;
  ASSIGN_OR_RETURN(decoder_, NewDecoder(options_.format, std::move(in), dopts));
  if (options_.spec != nullptr) {
    // The open step: every reference the steps read, loaded (or found in the
    // cache) at one identity for the whole run, before anything is bound.
    ASSIGN_OR_RETURN(ResolvedReferences references,
                     OpenPipelineReferences(*options_.spec, options_.references));
    references_ = references.Uses();
    ASSIGN_OR_RETURN(PipelineRunner runner,
                     PipelineRunner::Make(*options_.spec, references, options_.only_output));
    runner_.emplace(std::move(runner));
  }
  return Status::OK();
}

size_t BatchDriver::num_outputs() const { return runner_ ? runner_->num_outputs() : 1; }

size_t BatchDriver::spec_output(size_t i) const { return runner_ ? runner_->spec_output(i) : i; }

const Schema& BatchDriver::output_schema(size_t i) const {
  return runner_ ? runner_->output_schema(i) : options_.schema;
}

Status BatchDriver::HandleBad(std::vector<BadRecord>& bad, BadRecordOrigin origin, DriverSink& sink,
                              DriverResult& res) {
  if (bad.empty()) return Status::OK();
  if (res.first_bad.empty()) res.first_bad = DescribeBad(options_.input_name, bad.front());
  res.bad += static_cast<int64_t>(bad.size());
  switch (options_.on_bad_record) {
    case BadRecordPolicy::kFail:
      return Status::InvalidArgument("bad record (on_bad_record: fail): " + res.first_bad);
    case BadRecordPolicy::kSkip:
      res.rows_skipped += static_cast<int64_t>(bad.size());
      break;
    case BadRecordPolicy::kQuarantine:
      RETURN_IF_ERROR(sink.Quarantine(bad, origin));
      res.rows_quarantined += static_cast<int64_t>(bad.size());
      break;
  }
  bad.clear();
  return Status::OK();
}

// Stopping early once max_bad_ratio cannot be met (issue 9). At the end a
// batch fails its policy when bad / records > max_bad_ratio. Bad records only
// grow, and the number of records has an upper bound U while reading, so
// once bad > max_bad_ratio * U the end is certain and reading on is wasted
// work (and quarantine output). This never stops a batch that would have
// passed: that would take more records than U. For text input
//   U = R + (N - Ls + 1)
// R: records read so far; Ls: line of the last record handed out; N: an
// upper bound on the line feeds in the whole decompressed input. Each record
// after the one at line Ls ends with a line feed of its own after line
// Ls - 1 (the last may end the file without one: the + 1). N = line feeds
// read + bytes not read yet (any of which could be a line feed), and bytes
// not read <= compressed size x the codec's maximum expansion - bytes read:
// exact for plain files, loose for gzip and zstd. Parquet has no such bound,
// so only max_bad_ratio 0 (any bad record) stops it early. The check also
// wants input that was not handed out yet; a small file read in one piece
// just ends as before.
bool BatchDriver::CannotMeetRatio(const DriverResult& res) const {
  if (!may_stop_early_ || res.bad == 0) return false;
  const int64_t records = decoder_->records_read();
  if (records <= 0) return false;
  const double max_ratio = options_.max_bad_ratio;
  // The end's own test, on the counts so far (the verdict uses exactly this).
  if (!(static_cast<double>(res.bad) / static_cast<double>(records) > max_ratio)) return false;
  if (max_ratio == 0) return true;
  if (counted_ == nullptr || total_bytes_ < 0) return false;
  const double unread =
      std::max(0.0, static_cast<double>(total_bytes_) * static_cast<double>(max_expansion_) -
                        static_cast<double>(counted_->bytes()));
  const double lines_left =
      static_cast<double>(counted_->lines()) - static_cast<double>(res.last_line);
  if (unread == 0 && lines_left <= 0) return false;  // nothing left to skip
  const double bound = static_cast<double>(records) + std::max(0.0, lines_left + unread + 1);
  return static_cast<double>(res.bad) > max_ratio * bound;
}

Result<DriverResult> BatchDriver::Run(DriverSink& sink) {
  if (decoder_ == nullptr) return Status::Internal("BatchDriver::Run before Open");
  if (ran_) return Status::Internal("BatchDriver::Run called twice");
  ran_ = true;
  Stopwatch watch;
  DriverResult res;
  res.references = references_;
  std::vector<BadRecord> bad;
  auto emit = [&](size_t output, RecordBatch&& b) -> Status {
    if (b.num_rows() == 0) return Status::OK();
    res.rows_emitted += b.num_rows();
    return sink.Write(output, std::move(b));
  };
  DriverProgress progress;
  progress.bytes_total = total_bytes_;
  auto finish_stats = [&] {
    res.records_read = decoder_->records_read();
    res.rows_out = runner_ ? runner_->RowsOut() : res.rows_emitted;
    res.rows_removed = runner_ ? runner_->RowsRemoved() : 0;
    res.seconds = watch.Seconds();
  };
  auto report = [&](bool done) {
    if (!options_.on_progress) return;
    progress.bytes_done = input_->BytesConsumed();
    progress.records_read = decoder_->records_read();
    progress.rows_decoded = res.rows_decoded;
    progress.seconds = watch.Seconds();
    progress.done = done;
    options_.on_progress(progress);
  };
  auto too_many_bad = [&] {
    return options_.max_bad_records >= 0 && res.bad > options_.max_bad_records;
  };

  while (true) {
    if (options_.cancel != nullptr && options_.cancel->load()) {
      finish_stats();
      res.end = DriverEnd::kCancelled;
      return res;
    }
    RecordBatch rb;
    auto more = decoder_->Next(&rb, &bad);
    if (!more.ok()) {
      if (options_.error_context.empty()) return more.status();
      return more.status().WithContext(options_.error_context);
    }
    if (!rb.source_lines.empty()) res.last_line = std::max(res.last_line, rb.source_lines.back());
    for (const BadRecord& r : bad) res.last_line = std::max(res.last_line, r.line);
    RETURN_IF_ERROR(HandleBad(bad, BadRecordOrigin::kDecode, sink, res));
    if (!*more) break;
    res.rows_decoded += rb.num_rows();
    if (runner_) {
      RETURN_IF_ERROR(runner_->Push(std::move(rb), &bad, emit));
    } else {
      RETURN_IF_ERROR(emit(0, std::move(rb)));
    }
    RETURN_IF_ERROR(HandleBad(bad, BadRecordOrigin::kTransform, sink, res));
    report(false);
    if (too_many_bad()) {
      finish_stats();
      res.end = DriverEnd::kTooManyBad;
      return res;
    }
    if (CannotMeetRatio(res)) {
      // The batch fails its policy; the reason carries where reading
      // stopped and the counts so far.
      finish_stats();
      res.end = DriverEnd::kStoppedEarly;
      res.first_bad += "; reading stopped early at record " + std::to_string(res.records_read) +
                       " (line " + std::to_string(res.last_line) + "): with " +
                       std::to_string(res.bad) + " bad records, max_bad_ratio " +
                       PercentText(options_.max_bad_ratio) +
                       " could no longer be met whatever the rest of the input holds";
      return res;
    }
  }
  if (runner_) {
    RETURN_IF_ERROR(runner_->Finish(&bad, emit));
    RETURN_IF_ERROR(HandleBad(bad, BadRecordOrigin::kTransform, sink, res));
  }
  finish_stats();
  if (too_many_bad()) {
    res.end = DriverEnd::kTooManyBad;
    return res;
  }
  report(true);
  return res;
}

}  // namespace sluice
