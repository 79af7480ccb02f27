#include "sink/lake_sink.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <utility>

#include "core/hash.h"
#include "core/value_text.h"
#include "sink/partition.h"
#include "sink/sink_args.h"

namespace sluice {
namespace {

// Long enough for any real name, short enough that lake/<table>/<partition>/
// part file names stay far below the 255-byte limit of a file name.
constexpr size_t kMaxTableName = 128;

bool IsValidTableName(const std::string& name) {
  if (name.empty() || name.size() > kMaxTableName) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string PartNumber(int n) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%05d", n);
  return buf;
}

// Same names and types in the same order; nullability may differ.
bool SameShape(const Schema& a, const Schema& b) {
  if (a.num_fields() != b.num_fields()) return false;
  for (int i = 0; i < a.num_fields(); ++i) {
    if (a.field(i).name != b.field(i).name || a.field(i).type != b.field(i).type) return false;
  }
  return true;
}

// The Parquet writer is the one judge of its settings (e.g. a codec's level
// range): a dry run on an empty in-memory file reports what it rejects.
Status CheckWriterOptions(const ParquetWriterOptions& o) {
  std::string scratch;
  return NewParquetEncoder(NewStringOutput(&scratch), Schema({{"x", DataType::Int32()}}), o)
      .status();
}

class LakeSink final : public Sink {
 public:
  explicit LakeSink(LakeSinkOptions options) : options_(std::move(options)) {}

  Status Open(const SinkContext& ctx) override {
    if (state_ != State::kNew) return Status::Internal(Describe() + ": Open called twice");
    if (ctx.store == nullptr) return Status::Internal(Describe() + ": no object store");
    auto cols = ResolvePartitionColumns(ctx.schema, options_.partition_by);
    if (!cols.ok()) return cols.status().WithContext(Context());
    partition_cols_ = std::move(cols).value();
    store_ = ctx.store;
    schema_ = ctx.schema;
    evolution_ = ctx.schema_evolution;
    batch_id_ = ctx.batch_id;
    attempt_ = ctx.attempt;
    table_prefix_ = "staging/" + std::to_string(ctx.batch_id) + "/a" + std::to_string(ctx.attempt) +
                    "/" + options_.table + "/";
    // A previous run of this very attempt (a crash before the engine recorded
    // a new attempt) may have left files; part numbers restart at 0. On a
    // store without rename files go straight to their final keys, each after
    // a write marker under table_prefix_; that run never committed (this
    // attempt is still ours), so what its markers name goes too.
    direct_ = !store_->AtomicRename();
    if (direct_) {
      RETURN_IF_ERROR(DeleteWrittenObjects(*store_, table_prefix_, [] {
        return Result<std::set<std::string>>(std::set<std::string>());
      }));
    }
    RETURN_IF_ERROR(store_->DeletePrefix(table_prefix_));

    writer_options_ = options_.WriterOptions();
    writer_options_.pool = ctx.pool;
    writer_options_.key_value_metadata = {
        {"sluice.schema", schema_.ToJson()},
        {"sluice.batch_id", std::to_string(ctx.batch_id)},
        {"sluice.pipeline", ctx.pipeline},
        {"sluice.pipeline_version", std::to_string(ctx.pipeline_version_id)},
    };
    state_ = State::kOpen;
    return Status::OK();
  }

  Status Write(const RecordBatch& batch) override {
    if (state_ != State::kOpen) return Status::Internal(Describe() + ": Write outside Open/Finish");
    if (!SameShape(batch.schema, schema_)) {
      return Status::Internal(Context() + ": batch schema [" + batch.schema.ToJson() +
                              "] differs from the output schema [" + schema_.ToJson() + "]");
    }
    std::vector<PartitionGroup> groups = SplitByPartition(batch, partition_cols_);
    if (groups.size() == 1) {
      // The common case (unpartitioned, or one partition per batch): no copy
      // unless the schema object needs normalising for the encoder.
      if (batch.schema == schema_) return WriteRows(groups[0].path, batch);
      RecordBatch copy = batch;
      copy.schema = schema_;
      return WriteRows(groups[0].path, copy);
    }
    for (const PartitionGroup& g : groups) {
      RecordBatch rows = batch.Select(g.rows);
      rows.schema = schema_;
      RETURN_IF_ERROR(WriteRows(g.path, rows));
    }
    return Status::OK();
  }

  Result<StagedOutput> Finish() override {
    if (state_ != State::kOpen) return Status::Internal(Describe() + ": Finish outside Open");
    // Close in part order so that a failure leaves the same files every time.
    std::vector<std::string> paths;
    for (const auto& [path, file] : open_) paths.push_back(path);
    std::sort(paths.begin(), paths.end(), [this](const std::string& a, const std::string& b) {
      return open_.at(a).part < open_.at(b).part;
    });
    for (const std::string& p : paths) RETURN_IF_ERROR(CloseFile(p));
    std::sort(finished_.begin(), finished_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });

    TableCommit commit;
    commit.table = options_.table;
    commit.schema = schema_;
    commit.evolution = evolution_;
    commit.partition_by = options_.partition_by;
    for (auto& [part, file] : finished_) commit.files.push_back(std::move(file));
    finished_.clear();
    state_ = State::kFinished;
    StagedOutput out;
    out.table = std::move(commit);
    return out;
  }

  Status Load() override { return Status::OK(); }
  bool LoadsOutsideCatalog() const override { return false; }

  void Discard() override {
    // Drop encoders first: an unfinished OutputStream never publishes its
    // object, and the prefix delete below removes whatever was closed.
    open_.clear();
    if (direct_ && store_ != nullptr) {
      // Best effort; the markers stay until these are gone, for the GC.
      bool all = true;
      for (const auto& [part, file] : finished_) all = store_->Delete(file.key).ok() && all;
      finished_.clear();
      if (!all) {
        state_ = State::kDone;
        return;
      }
    }
    finished_.clear();
    if (store_ != nullptr && !table_prefix_.empty()) {
      store_->DeletePrefix(table_prefix_).IgnoreError();  // best effort; GC retries
    }
    state_ = State::kDone;
  }

  Status HealthCheck() override {
    if (store_ == nullptr) return Status::FailedPrecondition(Describe() + ": not opened");
    auto listed = store_->List(table_prefix_);
    return listed.ok() ? Status::OK() : listed.status().WithContext(Describe());
  }

  std::string Describe() const override { return "table:" + options_.table; }

 private:
  enum class State { kNew, kOpen, kFinished, kDone };

  struct OpenFile {
    // Declared before the encoder, which writes it when it closes its output,
    // so that it outlives the encoder.
    std::unique_ptr<std::string> sha256;
    std::unique_ptr<Encoder> encoder;
    DataFile file;
    int part = 0;
    uint64_t last_use = 0;
  };

  std::string Context() const {
    return (options_.where.empty() ? "" : options_.where + ": ") + "table output '" +
           options_.table + "'";
  }

  // Appends `rows` (all of one partition) to that partition's part files,
  // rolling files at target_file_rows.
  Status WriteRows(const std::string& path, const RecordBatch& rows) {
    const int64_t n = rows.num_rows();
    int64_t offset = 0;
    while (offset < n) {
      ASSIGN_OR_RETURN(OpenFile * f, FileFor(path));
      int64_t take = std::min(options_.target_file_rows - f->file.rows, n - offset);
      Status st = (offset == 0 && take == n) ? f->encoder->Write(rows)
                                             : f->encoder->Write(rows.Slice(offset, take));
      if (!st.ok()) return st.WithContext(Context() + ": " + f->file.staging_key);
      f->file.rows += take;
      f->last_use = ++tick_;
      offset += take;
      if (f->file.rows >= options_.target_file_rows ||
          f->encoder->bytes_written() >= options_.target_file_bytes) {
        RETURN_IF_ERROR(CloseFile(path));
      }
    }
    return Status::OK();
  }

  Result<OpenFile*> FileFor(const std::string& path) {
    auto it = open_.find(path);
    if (it != open_.end()) return &it->second;
    if (static_cast<int>(open_.size()) >= options_.max_open_files) {
      auto lru = std::min_element(open_.begin(), open_.end(), [](const auto& a, const auto& b) {
        return a.second.last_use < b.second.last_use;
      });
      RETURN_IF_ERROR(CloseFile(lru->first));
    }
    OpenFile f;
    f.part = next_part_++;
    const std::string dir = path.empty() ? "" : path + "/";
    f.file.table = options_.table;
    f.file.partition = path;
    f.file.batch_id = batch_id_;
    f.file.staging_key = table_prefix_ + dir + "part-" + PartNumber(f.part) + ".parquet";
    f.file.key = "lake/" + options_.table + "/" + dir + "part-b" + std::to_string(batch_id_) +
                 "-a" + std::to_string(attempt_) + "-" + PartNumber(f.part) + ".parquet";
    if (direct_) {
      // Written once under its final key, visible only through the catalog
      // commit (an equal staging key means no publication); the marker first,
      // so that an attempt that loses can always find what it wrote.
      const std::string marker = table_prefix_ + std::string(kWrittenMarker) + f.file.key;
      ASSIGN_OR_RETURN(auto m, store_->OpenWrite(marker));
      RETURN_IF_ERROR(m->Close().WithContext(Context() + ": " + marker));
      f.file.staging_key = f.file.key;
    }
    auto out = store_->OpenWrite(f.file.staging_key);
    if (!out.ok()) return out.status().WithContext(Context());
    // The digest lands in a slot that lives as long as the sink (the OpenFile
    // itself moves between containers).
    f.sha256 = std::make_unique<std::string>();
    auto enc = NewParquetEncoder(NewHashingOutput(std::move(out).value(), f.sha256.get()), schema_,
                                 writer_options_);
    if (!enc.ok()) return enc.status().WithContext(Context() + ": " + f.file.staging_key);
    f.encoder = std::move(enc).value();
    auto [pos, inserted] = open_.emplace(path, std::move(f));
    return &pos->second;
  }

  Status CloseFile(const std::string& path) {
    auto it = open_.find(path);
    OpenFile f = std::move(it->second);
    open_.erase(it);
    Status st = f.encoder->Finish();
    if (!st.ok()) return st.WithContext(Context() + ": " + f.file.staging_key);
    f.file.bytes = f.encoder->bytes_written();
    f.file.sha256 = *f.sha256;
    finished_.emplace_back(f.part, std::move(f.file));
    return Status::OK();
  }

  LakeSinkOptions options_;
  State state_ = State::kNew;
  ObjectStore* store_ = nullptr;
  Schema schema_;
  SchemaEvolution evolution_ = SchemaEvolution::kReject;
  int64_t batch_id_ = 0;
  int attempt_ = 0;
  std::vector<int> partition_cols_;
  std::string table_prefix_;  // staging/<batch>/a<attempt>/<table>/
  bool direct_ = false;       // no rename: files go straight to their final keys
  ParquetWriterOptions writer_options_;
  std::map<std::string, OpenFile> open_;            // by partition path
  std::vector<std::pair<int, DataFile>> finished_;  // (part number, file)
  int next_part_ = 0;
  uint64_t tick_ = 0;
};

}  // namespace

Status LakeSinkOptions::Validate() const {
  std::string ctx = (where.empty() ? "" : where + ": ") + "table output";
  if (!IsValidTableName(table)) {
    return Status::InvalidArgument(ctx + ": 'table': '" + EscapeName(table) +
                                   "' is not a valid table name (use 1-128 characters of a-z, "
                                   "0-9 and _)");
  }
  for (size_t i = 0; i < partition_by.size(); ++i) {
    if (partition_by[i].empty()) {
      return Status::InvalidArgument(ctx + ": 'partition_by': empty column name");
    }
    for (size_t j = 0; j < i; ++j) {
      if (partition_by[i] == partition_by[j]) {
        return Status::InvalidArgument(ctx + ": 'partition_by': column '" + partition_by[i] +
                                       "' is repeated");
      }
    }
  }
  if (row_group_rows < 1 || page_bytes < 1 || target_file_rows < 1 || target_file_bytes < 1 ||
      max_open_files < 1) {
    return Status::InvalidArgument(ctx + ": sizes and limits must be positive");
  }
  Status st = CheckWriterOptions(WriterOptions());
  if (!st.ok()) return Status::InvalidArgument(ctx + ": " + st.message());
  return Status::OK();
}

ParquetWriterOptions LakeSinkOptions::WriterOptions() const {
  ParquetWriterOptions o;
  o.compression = compression;
  o.compression_level = compression_level;
  o.row_group_rows = row_group_rows;
  o.page_bytes = page_bytes;
  o.page_rows = page_rows;
  o.dictionary = dictionary;
  return o;
}

Result<LakeSinkOptions> ParseLakeSinkOptions(const nlohmann::json& args, const std::string& where) {
  SinkArgs a(args, where, "table output");
  RETURN_IF_ERROR(
      a.CheckKeys({"table", "partition_by", "compression", "compression_level", "row_group_rows",
                   "page_bytes", "page_rows", "dictionary", "target_file_rows"}));
  LakeSinkOptions o;
  o.where = where;
  ASSIGN_OR_RETURN(o.table, a.RequiredString("table"));
  ASSIGN_OR_RETURN(o.partition_by, a.StringList("partition_by"));
  ASSIGN_OR_RETURN(std::optional<std::string> compression, a.String("compression"));
  if (compression) {
    auto c = ParseCompression(*compression);
    if (!c.ok()) {
      return a.Error("compression",
                     "'" + *compression + "' is not one of zstd, snappy, gzip, none");
    }
    o.compression = *c;
  }
  ASSIGN_OR_RETURN(std::optional<int64_t> level, a.Int("compression_level"));
  if (level) {
    if (*level < -1000000 || *level > 1000000) {
      return a.Error("compression_level", std::to_string(*level) + " is out of range");
    }
    o.compression_level = static_cast<int>(*level);
    // The codec's own range (zstd's, gzip 1..9) is the writer's to judge.
    Status st = CheckWriterOptions(o.WriterOptions());
    if (!st.ok()) return a.Error("compression_level", st.message());
  }
  ASSIGN_OR_RETURN(std::optional<int64_t> rg, a.PositiveInt("row_group_rows"));
  if (rg) o.row_group_rows = *rg;
  ASSIGN_OR_RETURN(std::optional<int64_t> pb, a.PositiveInt("page_bytes"));
  if (pb) o.page_bytes = *pb;
  // Small pages let readers skip by the page index (a limit or a cursor in
  // the middle of a row group reads one page per column, not the group);
  // the writer checks the upper bound (CheckWriterOptions in Validate).
  ASSIGN_OR_RETURN(std::optional<int64_t> pr, a.PositiveInt("page_rows"));
  if (pr) o.page_rows = *pr;
  ASSIGN_OR_RETURN(std::optional<bool> dict, a.Bool("dictionary"));
  if (dict) o.dictionary = *dict;
  ASSIGN_OR_RETURN(std::optional<int64_t> tfr, a.PositiveInt("target_file_rows"));
  if (tfr) o.target_file_rows = *tfr;
  RETURN_IF_ERROR(o.Validate());
  return o;
}

std::unique_ptr<Sink> NewLakeSink(LakeSinkOptions options) {
  return std::make_unique<LakeSink>(std::move(options));
}

}  // namespace sluice
