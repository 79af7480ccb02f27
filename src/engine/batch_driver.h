// The batch driver: the one path from an input stream to a pipeline's outputs,
// shared by the engine's processor (ProcessBatch), `sluice test` and
// `sluice convert`.
//
//   input --OpenDecompressed--> Decoder (schema, CSV dialect, pool)
//     --> PipelineRunner (shared steps, routes, each output's own steps,
//         unusable partition values dropped) --> DriverSink::Write(output, rows)
//   bad records --> policy: fail | skip | quarantine (DriverSink::Quarantine)
//     --> stop early once max_bad_ratio can no longer be met, or past
//         max_bad_records
//
// What stays with the callers is what is really theirs: the processor's
// catalog attempt, fencing, sinks, commit and publication; the expectations
// of `sluice test`; the encoder and summary of `convert`.
//
// Lifecycle, all on the calling thread: construct (options), Open (input: the
// decoder; then the open step for the references the steps read, and the
// runner bound against them, so output schemas are known), the caller opens
// its outputs, Run (once). The references opened are reported with their
// identity (a file's SHA-256, a lake table's snapshot) for lineage. A driver serves one batch
// attempt: operators keep per-batch state (dedupe keys, aggregate groups).
//
// Cost: the loop makes one call per decoded batch into the decoder, the
// runner and the sink; nothing per row beyond what the decoder and the
// operators do. Input bytes are counted (a line-feed count per read) only
// when an early stop on max_bad_ratio is possible (CountingInput).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/bad_record.h"
#include "core/clock.h"
#include "core/column.h"
#include "core/io.h"
#include "core/status.h"
#include "format/format.h"
#include "pipeline/runner.h"
#include "pipeline/spec.h"

namespace sluice {

class ThreadPool;

// Which stage rejected a record.
enum class BadRecordOrigin {
  kDecode,     // the decoder (parse, schema, not-null)
  kTransform,  // a transform step, or an unusable partition value
};

// Where the driver's rows and bad records go. Called on the driver's thread,
// once per batch (never per row).
class DriverSink {
 public:
  virtual ~DriverSink() = default;
  // Rows for runner output `output` (0 when the driver has no transform);
  // never an empty batch. A non-OK status ends the run with it.
  virtual Status Write(size_t output, RecordBatch&& rows) = 0;
  // Bad records kept by on_bad_record: quarantine, in the order met (a
  // batch's decoding rejects before its transform's). The default drops them.
  virtual Status Quarantine(const std::vector<BadRecord>& bad, BadRecordOrigin origin);
};

struct DriverProgress {
  int64_t bytes_done = 0;  // input bytes consumed (compressed bytes if compressed)
  int64_t bytes_total = -1;
  int64_t records_read = 0;  // records the decoder read, bad ones included
  int64_t rows_decoded = 0;  // rows the decoder handed out
  double seconds = 0;        // since Run started
  bool done = false;         // the last report, once the input is finished
};

struct BatchDriverOptions {
  // Names the input in bad-record descriptions ("FILE:LINE: ...").
  std::string input_name;
  // Context added to the decoder's errors (e.g. the batch's object key);
  // empty: none.
  std::string error_context;
  FileFormat format = FileFormat::kCsv;
  // The declared schema and CSV dialect (a pipeline's, or convert's flags).
  Schema schema;
  CsvOptions csv;
  // Threads for decoding; null decodes on the calling thread. Not owned.
  ThreadPool* pool = nullptr;
  // The transform to run; null: none, decoded rows go to output 0 as they
  // are. Not owned; must outlive the driver.
  const PipelineSpec* spec = nullptr;
  // Run only this output's branch (convert --pipeline).
  std::optional<size_t> only_output;
  // Where the steps' reference tables are opened from (the project's cache
  // and lake, or the caller's own cache).
  ReferenceEnv references;

  BadRecordPolicy on_bad_record = BadRecordPolicy::kQuarantine;
  // The batch fails its policy when bad / records_read > max_bad_ratio; the
  // run stops as soon as that is certain (see DriverEnd::kStoppedEarly).
  // 1 (or more) never stops.
  double max_bad_ratio = 1.0;
  // Stop once more records than this are bad; -1: no limit.
  int64_t max_bad_records = -1;
  // Checked before each batch; set: the run ends kCancelled.
  const std::atomic<bool>* cancel = nullptr;
  // After each decoded batch, and once at the end (done); may be empty.
  std::function<void(const DriverProgress&)> on_progress;
};

// The options a pipeline's spec gives: schema, dialect, policy, ratio; the
// transform is the spec's. The input's format is the caller's (InputFormat).
BatchDriverOptions DriverOptionsForSpec(const PipelineSpec& spec);

// The format of `input_name` under `spec`: source.format, or guessed from the
// name when the spec leaves it open.
Result<FileFormat> InputFormat(const PipelineSpec& spec, const std::string& input_name);

// "1.25%" for 0.0125: how ratios read in reasons.
std::string PercentText(double fraction);

enum class DriverEnd {
  kFinished,      // the whole input was read and transformed
  kStoppedEarly,  // bad records past max_bad_ratio whatever the rest holds
  kTooManyBad,    // more than max_bad_records bad records
  kCancelled,     // the cancel flag was set
};

struct DriverResult {
  DriverEnd end = DriverEnd::kFinished;
  int64_t records_read = 0;  // by the decoder, bad records included
  int64_t rows_decoded = 0;  // good rows the decoder handed out
  int64_t rows_out = 0;      // rows that left the shared transform
  int64_t rows_removed = 0;  // dropped on purpose by the shared transform
  int64_t rows_emitted = 0;  // rows written to the sink, every output
  int64_t bad = 0;           // bad records, every stage
  int64_t rows_skipped = 0;  // under on_bad_record: skip
  int64_t rows_quarantined = 0;
  // The first bad record, described; on kStoppedEarly followed by where and
  // why reading stopped.
  std::string first_bad;
  int64_t last_line = 0;  // line of the last record handed out
  double seconds = 0;
  // The reference tables the transform read, each with its identity.
  std::vector<ReferenceUse> references;

  // Whether bad / records_read exceeds `max_bad_ratio` (the batch's verdict).
  bool OverRatio(double max_bad_ratio) const;
};

// The input of one run.
struct DriverInput {
  std::unique_ptr<InputStream> stream;
  // Decompress gzip/zstd by magic bytes (OpenDecompressed). Off for text
  // that is known to be plain and for Parquet read in place.
  bool decompress = true;
};

class BatchDriver {
 public:
  explicit BatchDriver(BatchDriverOptions options);
  BatchDriver(BatchDriver&&) noexcept;
  BatchDriver& operator=(BatchDriver&&) noexcept;
  ~BatchDriver();

  // Opens the decoder on `input`, then builds and binds the transform.
  Status Open(DriverInput input);

  // After Open: the references opened for this run.
  const std::vector<ReferenceUse>& references() const { return references_; }
  // After Open: the outputs rows go to, and the schema of each.
  size_t num_outputs() const;
  // Spec index of output i (i itself without a spec).
  size_t spec_output(size_t i) const;
  const Schema& output_schema(size_t i) const;

  // Reads the input to its end (or an early stop) through the transform into
  // `sink`. Call once, after Open. A non-OK status is an error of the input,
  // a step or the sink, or on_bad_record: fail meeting a bad record.
  Result<DriverResult> Run(DriverSink& sink);

 private:
  class CountingInput;
  Status HandleBad(std::vector<BadRecord>& bad, BadRecordOrigin origin, DriverSink& sink,
                   DriverResult& res);
  bool CannotMeetRatio(const DriverResult& res) const;

  BatchDriverOptions options_;
  std::unique_ptr<Decoder> decoder_;
  std::optional<PipelineRunner> runner_;
  InputStream* input_ = nullptr;      // the decoder's input (owned by it)
  CountingInput* counted_ = nullptr;  // when wrapped, owned by the decoder
  int64_t total_bytes_ = -1;
  int64_t max_expansion_ = 1;
  std::vector<ReferenceUse> references_;
  bool may_stop_early_ = false;
  bool ran_ = false;
};

}  // namespace sluice
