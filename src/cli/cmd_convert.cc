// sluice convert IN OUT: one-shot file-to-file conversion (CSV, NDJSON,
// Parquet in; Parquet, CSV, NDJSON out) with no project and no catalog. The
// schema comes from --schema or is inferred; bad records are counted, shown
// or written to --bad-records, and more than --max-bad of them fail the run
// without leaving an output file. With --pipeline FILE the pipeline's schema,
// CSV dialect and transform steps apply (its outputs do not: OUT is the
// output; the first output's own steps and route apply), so a pipeline's
// logic can be run on one file without a project.
// Exit codes are documented in README.md.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <new>
#include <optional>
#include <thread>

#include "cli/cli.h"
#include "cli/format_util.h"
#include "core/clock.h"
#include "core/io.h"
#include "core/thread_pool.h"
#include "core/value_text.h"
#include "engine/batch_driver.h"
#include "format/compressed_output.h"
#include "format/compression.h"
#include "format/format.h"
#include "format/text_encoder.h"
#include "pipeline/spec.h"

namespace sluice::cli {

namespace {

namespace fs = std::filesystem;

// Bad records shown on stderr when they are not written to a file.
constexpr int kShownBadRecords = 5;
// Exit code when more records were bad than --max-bad allows (README).
constexpr int kExitDataRejected = 3;

struct Endpoint {
  std::string path;
  FileFormat format = FileFormat::kCsv;
  CsvOptions csv;
};

bool IsTsv(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::string_view suffix : {".gz", ".gzip", ".zst", ".zstd"}) {
    if (name.size() > suffix.size() && name.ends_with(suffix)) {
      name.resize(name.size() - suffix.size());
      break;
    }
  }
  return name.ends_with(".tsv");
}

Result<char> OneChar(const std::string& text, const char* flag) {
  if (text == "\\t" || text == "tab") return '\t';
  if (text.size() != 1) {
    return Status::InvalidArgument(std::string(flag) +
                                   " must be one character (or \\t / tab), got '" + text + "'");
  }
  return text[0];
}

Result<Endpoint> ResolveEndpoint(const std::string& path, const std::string& format_flag,
                                 const ConvertFlags& f) {
  Endpoint e;
  e.path = path;
  if (!format_flag.empty()) {
    ASSIGN_OR_RETURN(e.format, ParseFileFormat(format_flag));
  } else {
    auto guessed = FileFormatFromName(path);
    if (!guessed.ok()) {
      return Status::InvalidArgument(guessed.status().message() + " (--from / --to)");
    }
    e.format = *guessed;
  }
  // TSV by name or by --from/--to tsv, unless a delimiter is given.
  std::string lower = format_flag;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "tsv" || (format_flag.empty() && IsTsv(path))) e.csv.delimiter = '\t';
  if (!f.delimiter.empty()) {
    ASSIGN_OR_RETURN(e.csv.delimiter, OneChar(f.delimiter, "--delimiter"));
  }
  if (!f.quote.empty()) {
    ASSIGN_OR_RETURN(e.csv.quote, OneChar(f.quote, "--quote"));
  }
  e.csv.header = !f.no_header;
  if (!f.null_values.empty()) e.csv.null_values = f.null_values;
  return e;
}

// Shows a one-line progress display on stderr when it is a terminal.
class Progress {
 public:
  Progress() : enabled_(::isatty(STDERR_FILENO) == 1) {}
  ~Progress() { Clear(); }
  void Update(int64_t rows, double seconds) {
    if (!enabled_) return;
    auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(250)) return;
    last_ = now;
    std::fprintf(stderr, "\r\033[K%s rows, %s rows/s",
                 HumanCount(static_cast<double>(rows)).c_str(),
                 HumanCount(seconds > 0 ? rows / seconds : 0).c_str());
    shown_ = true;
  }
  void Clear() {
    if (shown_) std::fprintf(stderr, "\r\033[K");
    shown_ = false;
  }

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::time_point last_{};
};

// Where bad records go: an NDJSON file in the engine's quarantine shape, or
// the first few on stderr.
class BadRecordLog {
 public:
  BadRecordLog(std::string input, std::unique_ptr<OutputStream> file)
      : input_(std::move(input)), file_(std::move(file)) {}

  Status Add(const std::vector<BadRecord>& bad, Progress* progress) {
    for (const BadRecord& r : bad) {
      ++count_;
      if (file_ != nullptr) {
        nlohmann::ordered_json j = {{"file", input_},
                                    {"line", r.line},
                                    {"field", r.field},
                                    {"reason", r.reason},
                                    {"raw", r.raw}};
        line_ = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
        line_.push_back('\n');
        RETURN_IF_ERROR(file_->Write(line_));
      } else if (count_ <= kShownBadRecords) {
        progress->Clear();
        std::fprintf(stderr, "sluice: bad record %s:%lld:%s: %s\n", input_.c_str(),
                     static_cast<long long>(r.line), EscapeName(r.field).c_str(),
                     EscapeName(r.reason).c_str());
      }
    }
    return Status::OK();
  }
  // Publishes the file (also when the conversion failed: it says why).
  Status Close() { return file_ != nullptr ? file_->Close() : Status::OK(); }
  int64_t count() const { return count_; }
  bool to_file() const { return file_ != nullptr; }

 private:
  std::string input_;
  std::unique_ptr<OutputStream> file_;
  std::string line_;
  int64_t count_ = 0;
};

Result<std::unique_ptr<InputStream>> OpenInput(const Endpoint& in) {
  ASSIGN_OR_RETURN(std::unique_ptr<InputStream> raw, OpenFileInput(in.path));
  // Parquet compresses inside the file; text inputs may be gzip or zstd.
  if (in.format == FileFormat::kParquet) return raw;
  return OpenDecompressed(std::move(raw));
}

Result<Schema> ResolveSchema(const ConvertFlags& f, const Endpoint& in) {
  if (!f.schema_file.empty()) {
    ASSIGN_OR_RETURN(Schema s, LoadSchemaFile(f.schema_file));
    if (f.verbose) {
      std::fprintf(stderr, "sluice: schema from %s:\n%s\n", f.schema_file.c_str(),
                   s.ToString().c_str());
    }
    return s;
  }
  ASSIGN_OR_RETURN(std::unique_ptr<InputStream> stream, OpenInput(in));
  InferOptions io;
  io.csv = in.csv;
  io.sample_rows = f.sample_rows;
  auto inferred = InferSchema(in.format, *stream, io);
  if (!inferred.ok()) return inferred.status();
  if (f.verbose) {
    std::fprintf(stderr, "sluice: %s schema of %s:\n%s\n",
                 in.format == FileFormat::kParquet ? "file" : "inferred", in.path.c_str(),
                 inferred->ToString().c_str());
  }
  return inferred;
}

struct ConvertResult {
  int64_t rows = 0;      // read
  int64_t rows_out = 0;  // written (after the transform)
  int64_t bad = 0;
  bool rejected = false;  // more bad records than --max-bad
};

// The batch driver's sink for convert: rows to the encoder (none with
// --check), bad records to the log.
class ConvertSink final : public DriverSink {
 public:
  ConvertSink(Encoder* encoder, BadRecordLog* log, Progress* progress, const ConvertFlags& f)
      : encoder_(encoder), log_(log), progress_(progress), f_(f) {}
  Status Write(size_t, RecordBatch&& rows) override;
  Status Quarantine(const std::vector<BadRecord>& bad, BadRecordOrigin) override {
    return log_->Add(bad, progress_);
  }

 private:
  Encoder* encoder_;
  BadRecordLog* log_;
  Progress* progress_;
  const ConvertFlags& f_;
};

// The encoder for OUT, writing to `file`.
Result<std::unique_ptr<Encoder>> OpenEncoder(const ConvertFlags& f, const Endpoint& out,
                                             StreamCompression out_stream, const Schema& schema,
                                             ParquetWriterOptions pw, ThreadPool* pool,
                                             std::unique_ptr<OutputStream> file) {
  if (out.format == FileFormat::kParquet) {
    pw.pool = pool;
    pw.key_value_metadata = {{"sluice.schema", schema.ToJson()},
                             {"sluice.source", fs::path(f.input).filename().string()}};
    return NewParquetEncoder(std::move(file), schema, pw);
  }
  ASSIGN_OR_RETURN(auto sink,
                   NewCompressedOutput(std::move(file), out_stream, f.compression_level));
  return out.format == FileFormat::kCsv ? NewCsvEncoder(std::move(sink), schema, out.csv, pool)
                                        : NewNdjsonEncoder(std::move(sink), schema, pool);
}

}  // namespace

CLI::App* AddConvertCommand(CLI::App& app, ConvertFlags* f) {
  auto* cmd = app.add_subcommand(
      "convert", "Convert one file to another format (csv, ndjson, parquet); no project needed");
  cmd->add_option("IN", f->input,
                  "Input file: .csv/.tsv/.ndjson/.jsonl (optionally .gz/.zst) "
                  "or .parquet")
      ->required();
  cmd->add_option("OUT", f->output,
                  "Output file: .parquet, or .csv/.tsv/.ndjson/.jsonl (add .gz/.zst to compress)");
  cmd->add_option("--from", f->from,
                  "Input format (csv|tsv|ndjson|jsonl|parquet; default: suffix)");
  cmd->add_option("--to", f->to, "Output format (parquet|csv|tsv|ndjson|jsonl; default: suffix)");
  cmd->add_option("--schema", f->schema_file,
                  "YAML schema (name: type [not null], as a pipeline's schema:); default: infer");
  cmd->add_option("--sample-rows", f->sample_rows,
                  "Records to infer the schema from (default 20000; more looks further)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--pipeline", f->pipeline_file,
                  "Pipeline spec whose schema, CSV dialect and transform steps to apply");
  cmd->add_option("--threads", f->threads, "Threads (default: hardware threads; 1 = no pool)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--compression", f->compression, "Parquet codec: none|snappy|gzip|zstd (zstd)");
  cmd->add_option("--compression-level", f->compression_level,
                  "Codec level for Parquet zstd/gzip and .gz/.zst text output (0 = default)");
  cmd->add_option("--row-group-rows", f->row_group_rows, "Rows per Parquet row group")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--delimiter", f->delimiter, "CSV delimiter (default , or tab for .tsv)");
  cmd->add_option("--quote", f->quote, "CSV quote character (default \")");
  cmd->add_flag("--no-header", f->no_header, "CSV files have no header line");
  cmd->add_option("--null", f->null_values,
                  "CSV text read as NULL (repeatable; default: empty field); the first is "
                  "written for NULL");
  cmd->add_option("--bad-records", f->bad_records,
                  "Write bad records as NDJSON {file, line, field, reason, raw} to this file");
  cmd->add_option("--max-bad", f->max_bad,
                  "Bad records tolerated before the conversion fails (default 0; -1 = any number)")
      ->check(CLI::Range(int64_t{-1}, std::numeric_limits<int64_t>::max()));
  cmd->add_flag("--check", f->check,
                "Only decode and validate IN against the schema (no OUT): rows, bad records, "
                "exit code");
  cmd->add_flag("--sync", f->sync,
                "fsync the output before renaming it into place (survives a power failure)");
  cmd->add_flag("-v,--verbose", f->verbose, "Print the schema used");
  cmd->add_flag("--json", f->json, "Print the summary as JSON on stdout");
  return cmd;
}

namespace {

// Transient encoder failures (out of memory, a full disk) say which output
// they were writing; the others already describe the data.
Status NameOutput(Status st, const ConvertFlags& f) {
  if (st.code() != StatusCode::kUnavailable) return st;
  return st.WithContext("writing '" + f.output + "'");
}

Status ConvertSink::Write(size_t, RecordBatch&& rows) {
  return encoder_ != nullptr ? NameOutput(encoder_->Write(rows), f_) : Status::OK();
}

int RunConvert(const ConvertFlags& f) {
  Stopwatch watch;
  if (!fs::is_regular_file(f.input)) {
    return Fail(Status::NotFound("input file '" + f.input + "' does not exist"));
  }
  if (f.check != f.output.empty()) {
    return Fail(
        Status::InvalidArgument(f.check ? "--check writes no output: drop OUT ('" + f.output + "')"
                                        : "an output file (OUT) is needed, or --check"));
  }
  std::error_code ec;
  if (!f.check && fs::exists(f.output) && fs::equivalent(f.input, f.output, ec)) {
    return Fail(Status::InvalidArgument("input and output are the same file '" + f.output + "'"));
  }
  auto in = ResolveEndpoint(f.input, f.from, f);
  if (!in.ok()) return Fail(in.status());
  Result<Endpoint> out = Endpoint{};
  if (!f.check) {
    out = ResolveEndpoint(f.output, f.to, f);
    if (!out.ok()) return Fail(out.status());
  }

  const StreamCompression out_stream = StreamCompressionFromName(f.output);
  ParquetWriterOptions pw;
  if (f.check) {
    if (!f.to.empty() || !f.compression.empty() || f.row_group_rows > 0 || f.sync) {
      return Fail(Status::InvalidArgument(
          "--to, --compression, --row-group-rows and --sync shape an output; --check writes none"));
    }
  } else if (out->format == FileFormat::kParquet) {
    if (out_stream != StreamCompression::kNone) {
      return Fail(Status::InvalidArgument(
          "a Parquet output compresses inside the file; drop the .gz/.zst suffix from '" +
          f.output + "' and use --compression"));
    }
    if (!f.compression.empty()) {
      auto c = ParseCompression(f.compression);
      if (!c.ok()) return Fail(c.status());
      pw.compression = *c;
    }
    if (f.compression_level != 0) pw.compression_level = f.compression_level;
    if (f.row_group_rows > 0) pw.row_group_rows = f.row_group_rows;
  } else if (!f.compression.empty() || f.row_group_rows > 0) {
    return Fail(Status::InvalidArgument(
        "--compression and --row-group-rows apply to Parquet output; compress a text output by "
        "naming it .gz or .zst"));
  }

  // Reference tables of --pipeline: loaded once here, shared by the parse
  // and the run; there is no project, so no lake tables.
  ReferenceCache references;
  std::optional<PipelineSpec> pipeline;
  if (!f.pipeline_file.empty()) {
    if (!f.schema_file.empty()) {
      return Fail(Status::InvalidArgument(
          "--schema and --pipeline both give a schema; the pipeline's is used, drop --schema"));
    }
    auto p = LoadPipelineFile(f.pipeline_file, ReferenceEnv{&references, nullptr});
    if (!p.ok()) return Fail(p.status());
    pipeline = std::move(*p);
    bool dialect_flags =
        !f.delimiter.empty() || !f.quote.empty() || f.no_header || !f.null_values.empty();
    if (in->format == FileFormat::kCsv && !dialect_flags) in->csv = pipeline->source.csv;
  }
  auto schema = pipeline ? Result<Schema>(pipeline->schema) : ResolveSchema(f, *in);
  if (!schema.ok()) return Fail(schema.status());
  if (schema->num_fields() == 0) {
    return Fail(Status::InvalidArgument("input '" + f.input + "' has no columns"));
  }
  const int threads = f.threads > 0
                          ? f.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::optional<ThreadPool> pool;
  if (threads > 1) pool.emplace(threads);
  ThreadPool* pool_ptr = pool ? &*pool : nullptr;

  // Every bad record goes to the log; more than --max-bad stop the run. With
  // --pipeline: the shared transform, then the first output's own steps and
  // route.
  Progress progress;
  BatchDriverOptions dopt;
  dopt.input_name = f.input;
  dopt.format = in->format;
  dopt.schema = *schema;
  dopt.csv = in->csv;
  dopt.pool = pool_ptr;
  if (pipeline) {
    dopt.spec = &*pipeline;
    dopt.only_output = 0;
    dopt.references = ReferenceEnv{&references, nullptr};
  }
  dopt.on_bad_record = BadRecordPolicy::kQuarantine;
  dopt.max_bad_ratio = 1.0;
  dopt.max_bad_records = f.max_bad;
  dopt.on_progress = [&](const DriverProgress& p) {
    if (!p.done) progress.Update(p.rows_decoded, watch.Seconds());
  };
  BatchDriver driver(std::move(dopt));
  auto stream = OpenFileInput(in->path);
  if (!stream.ok()) return Fail(stream.status());
  // Parquet compresses inside the file; text inputs may be gzip or zstd.
  Status opened = driver.Open(DriverInput{std::move(*stream), in->format != FileFormat::kParquet});
  if (!opened.ok()) return Fail(opened);
  const Schema out_schema = driver.output_schema(0);
  if (pipeline && out_schema.num_fields() == 0) {
    return Fail(Status::InvalidArgument(f.pipeline_file + ": the transform leaves no columns"));
  }

  // The output appears under its name only when Close succeeds; every early
  // return below drops the encoder, which discards the temporary file. Like
  // cp or DuckDB's COPY, no fsync unless asked: it costs about 0.2 s per
  // 100 MB written, and readers never see a partial file either way.
  Result<std::unique_ptr<Encoder>> encoder = std::unique_ptr<Encoder>();
  if (!f.check) {
    auto file = OpenFileOutput(f.output, f.sync);
    if (!file.ok()) return Fail(file.status());
    encoder = OpenEncoder(f, *out, out_stream, out_schema, pw, pool_ptr, std::move(*file));
  }
  if (!encoder.ok()) return Fail(encoder.status());

  std::unique_ptr<OutputStream> bad_file;
  if (!f.bad_records.empty()) {
    auto bf = OpenFileOutput(f.bad_records, f.sync);
    if (!bf.ok()) return Fail(bf.status());
    bad_file = std::move(*bf);
  }
  BadRecordLog bad_log(f.input, std::move(bad_file));

  ConvertSink sink(encoder->get(), &bad_log, &progress, f);
  ConvertResult res;
  auto ran = driver.Run(sink);
  Status st = ran.status();
  if (ran.ok()) {
    res.rows = ran->rows_decoded;
    res.rows_out = ran->rows_emitted;
    res.rejected = ran->end == DriverEnd::kTooManyBad;
  }
  progress.Clear();
  res.bad = bad_log.count();
  Status bad_st = bad_log.Close();
  if (!st.ok()) return Fail(st);
  if (!bad_st.ok()) return Fail(bad_st);
  const auto in_bytes = static_cast<int64_t>(fs::file_size(f.input, ec));
  // The summary on stdout (--json), also for a file rejected for its bad
  // records: what was read and how many were bad is what the caller needs.
  auto PrintJson = [&](bool written) {
    const int64_t out_bytes = written ? static_cast<int64_t>(fs::file_size(f.output, ec)) : 0;
    nlohmann::ordered_json j = {
        {"input", f.input},
        {"output", written ? nlohmann::ordered_json(f.output) : nlohmann::ordered_json()},
        {"from", FileFormatName(in->format)},
        {"to",
         f.check ? nlohmann::ordered_json() : nlohmann::ordered_json(FileFormatName(out->format))},
        {"rows", res.rows},
        {"rows_out", written ? nlohmann::ordered_json(res.rows_out) : nlohmann::ordered_json()},
        {"bad_records", res.bad},
        {"rejected", res.rejected},
        {"seconds", watch.Seconds()},
        {"input_bytes", in_bytes},
        {"output_bytes", out_bytes},
        {"threads", threads},
        {"schema", nlohmann::json::parse(out_schema.ToJson())}};
    std::printf("%s\n",
                j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
  };
  if (res.rejected) {
    encoder->reset();  // discards the output
    std::string where = bad_log.to_file() ? "; they are in " + f.bad_records : "";
    std::fprintf(stderr, "sluice: more than %lld bad record(s) in '%s' (--max-bad)%s%s\n",
                 static_cast<long long>(f.max_bad), f.input.c_str(),
                 f.check ? "" : "; no output written", where.c_str());
    if (f.schema_file.empty() && f.pipeline_file.empty() && in->format != FileFormat::kParquet) {
      std::fprintf(stderr, "sluice: %s; or give --schema FILE (`sluice infer %s` prints one)\n",
                   InferredSchemaHint(f.sample_rows).c_str(), f.input.c_str());
    }
    if (f.json) PrintJson(false);
    return kExitDataRejected;
  }
  if (*encoder != nullptr) {
    st = NameOutput((*encoder)->Finish(), f);
    if (!st.ok()) return Fail(st);
  }

  const double seconds = watch.Seconds();
  const auto out_bytes = f.check ? 0 : static_cast<int64_t>(fs::file_size(f.output, ec));
  const double mbps = seconds > 0 ? in_bytes / 1e6 / seconds : 0;
  if (res.bad > 0 && !bad_log.to_file() && res.bad > kShownBadRecords) {
    std::fprintf(stderr, "sluice: ... %lld more bad record(s) not shown (--bad-records FILE)\n",
                 static_cast<long long>(res.bad - kShownBadRecords));
  }
  if (f.check) {
    std::fprintf(
        stderr,
        "sluice: %s (%s) checked: %lld rows, %lld bad, %.2f s, %.1f MB/s, %s, %d thread(s)\n",
        f.input.c_str(), std::string(FileFormatName(in->format)).c_str(),
        static_cast<long long>(res.rows), static_cast<long long>(res.bad), seconds, mbps,
        HumanBytes(static_cast<double>(in_bytes)).c_str(), threads);
  } else {
    std::string rows = std::to_string(res.rows) + " rows";
    if (pipeline) rows += " -> " + std::to_string(res.rows_out);
    std::fprintf(stderr,
                 "sluice: %s (%s) -> %s (%s): %s, %lld bad, %.2f s, %.1f MB/s, %s -> %s, "
                 "%d thread(s)\n",
                 f.input.c_str(), std::string(FileFormatName(in->format)).c_str(), f.output.c_str(),
                 std::string(FileFormatName(out->format)).c_str(), rows.c_str(),
                 static_cast<long long>(res.bad), seconds, mbps,
                 HumanBytes(static_cast<double>(in_bytes)).c_str(),
                 HumanBytes(static_cast<double>(out_bytes)).c_str(), threads);
  }
  if (f.json) PrintJson(!f.check);
  return 0;
}

}  // namespace

int CmdConvert(const ConvertFlags& f) {
  // The boundary for a failed allocation anywhere in the conversion (decoder,
  // transform, encoder): unwinding drops the encoder, which removes the
  // temporary output file, and the run fails with a message instead of
  // aborting.
  try {
    return RunConvert(f);
  } catch (const std::bad_alloc&) {
    return Fail(Status::Unavailable("out of memory converting '" + f.input +
                                    "' (std::bad_alloc); no output written"));
  }
}

}  // namespace sluice::cli
