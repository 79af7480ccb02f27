#include "sink/delivery_sink.h"

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>

#include "core/hash.h"
#include "format/compressed_output.h"
#include "sink/pg_copy.h"

namespace sluice {

namespace {

class DeliverySink final : public Sink {
 public:
  DeliverySink(std::unique_ptr<DatabaseOutput> output, std::string args)
      : output_(std::move(output)), args_(std::move(args)) {}

  Status Open(const SinkContext& ctx) override {
    if (out_ != nullptr || finished_) return Status::Internal(Describe() + ": Open called twice");
    if (ctx.store == nullptr) return Status::Internal(Describe() + ": no object store");
    RETURN_IF_ERROR(output_->CheckSchema(ctx.schema));
    store_ = ctx.store;
    const std::string b = std::to_string(ctx.batch_id);
    const std::string k = std::to_string(ctx.attempt);
    const std::string slug = output_->Table() + "-" + Sha256Hex(Describe()).substr(0, 8);
    const std::string kind = Describe().substr(0, Describe().find(':'));
    const std::string prefix = "staging/" + b + "/a" + k + "/" + kind + "/" + slug + "/";
    delivery_.request.output = Describe();
    delivery_.request.target = Describe();
    // The pipeline's schema_evolution travels with the rows, unless the
    // output sets its own.
    auto args = nlohmann::json::parse(args_, nullptr, /*allow_exceptions=*/false);
    if (args.is_object() && !args.contains("schema_evolution")) {
      args["schema_evolution"] = std::string(SchemaEvolutionName(ctx.schema_evolution));
    }
    delivery_.request.args = args.is_object() ? args.dump() : args_;
    delivery_.request.schema = ctx.schema;
    delivery_.request.pipeline_version_id = ctx.pipeline_version_id;
    delivery_.request.key =
        "deliveries/" + ctx.pipeline + "/" + slug + "/b" + b + "-a" + k + ".pgcopy.zst";
    delivery_.staging_key = prefix + "rows.pgcopy.zst";
    // A previous run of this very attempt (a crash before a new attempt was
    // recorded) may have left its stream; it never committed.
    if (!store_->AtomicRename()) {
      RETURN_IF_ERROR(DeleteWrittenObjects(
          *store_, prefix, [] { return Result<std::set<std::string>>(std::set<std::string>()); }));
    }
    RETURN_IF_ERROR(store_->DeletePrefix(prefix));
    if (!store_->AtomicRename()) {
      // Straight to the final key, the marker first so that a losing attempt
      // can always find what it wrote.
      const std::string marker = prefix + std::string(kWrittenMarker) + delivery_.request.key;
      ASSIGN_OR_RETURN(auto m, store_->OpenWrite(marker));
      RETURN_IF_ERROR(m->Close().WithContext(Describe() + ": " + marker));
      delivery_.staging_key = delivery_.request.key;
    }
    ASSIGN_OR_RETURN(auto raw, store_->OpenWrite(delivery_.staging_key));
    ASSIGN_OR_RETURN(out_, NewCompressedOutput(std::move(raw), StreamCompression::kZstd));
    // No row numbers: an upsert's temporary table numbers the rows as
    // COPY reads them (see pg_loader.h).
    encoder_ = std::make_unique<PgCopyEncoder>(ctx.schema, ctx.batch_id);
    buffer_.clear();
    encoder_->Header(buffer_);
    return Flush();
  }

  Status Write(const RecordBatch& batch) override {
    if (out_ == nullptr) return Status::Internal(Describe() + ": Write before Open");
    RETURN_IF_ERROR(encoder_->Rows(batch, buffer_).WithContext(Describe()));
    rows_ += batch.num_rows();
    return Flush();
  }

  Result<StagedOutput> Finish() override {
    if (out_ == nullptr) return Status::Internal(Describe() + ": Finish before Open");
    encoder_->Trailer(buffer_);
    RETURN_IF_ERROR(Flush());
    Status closed = out_->Close();
    const int64_t bytes = out_->Tell();
    out_.reset();
    finished_ = true;
    RETURN_IF_ERROR(closed.WithContext(Describe() + ": " + delivery_.staging_key));
    delivery_.request.rows = rows_;
    delivery_.request.bytes = bytes;
    StagedOutput staged;
    staged.delivery = delivery_;
    return staged;
  }

  // The rows reach the database later, through the delivery the commit records.
  Status Load() override { return Status::OK(); }
  bool LoadsOutsideCatalog() const override { return false; }

  void Discard() override {
    if (out_ != nullptr) {
      out_->Abort();
      out_.reset();
    }
    // What this attempt staged goes (on a store without rename the final key
    // is this attempt's own and never committed).
    if (store_ != nullptr && !delivery_.staging_key.empty()) {
      store_->Delete(delivery_.staging_key).IgnoreError();
    }
  }

  // Nothing to reach while processing: the loader connects.
  Status HealthCheck() override { return Status::OK(); }

  std::string Describe() const override { return output_->Describe(); }

 private:
  // Writes the encoded bytes out (one batch's worth at most is held).
  Status Flush() {
    if (buffer_.empty()) return Status::OK();
    Status st = out_->Write(buffer_);
    buffer_.clear();
    return st.WithContext(Describe() + ": " + delivery_.staging_key);
  }

  std::unique_ptr<DatabaseOutput> output_;
  std::string args_;  // as the spec wrote them, for the loader
  ObjectStore* store_ = nullptr;
  std::unique_ptr<OutputStream> out_;
  std::unique_ptr<PgCopyEncoder> encoder_;
  std::string buffer_;
  StagedDelivery delivery_;
  int64_t rows_ = 0;
  bool finished_ = false;
};

}  // namespace

std::unique_ptr<Sink> NewDeliverySink(std::unique_ptr<DatabaseOutput> output, std::string args) {
  return std::make_unique<DeliverySink>(std::move(output), std::move(args));
}

}  // namespace sluice
