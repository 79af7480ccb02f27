// PipelineRunner: the transform of one batch attempt as a spec describes it,
// from decoded batches to each output's rows.
//
//   decoded rows -> shared transform (spec.transform)
//                -> per output: rows of its route (all rows without one)
//                   -> the output's own steps -> emit(output, rows)
//
// Fresh operators per runner (operators hold per-batch state such as dedupe
// keys), all bound at construction, against references opened before
// (OpenPipelineReferences; the batch driver opens them once per batch). Batches flow depth-first,
// so memory holds at most one batch per stage; an output without steps or route gets the shared
// result itself (moved, or copied when several outputs need it).
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <vector>

#include "core/bad_record.h"
#include "core/column.h"
#include "core/status.h"
#include "pipeline/spec.h"
#include "transform/operator.h"

namespace sluice {

class PipelineRunner {
 public:
  using Emit = std::function<Status(size_t output, RecordBatch&&)>;

  // `only_output`: run only that output's branch (e.g. `convert --pipeline`).
  // Steps that read reference tables take them from `references`.
  static Result<PipelineRunner> Make(const PipelineSpec& spec, const ResolvedReferences& references,
                                     std::optional<size_t> only_output = std::nullopt);
  // The same, opening the spec's file references first with a cache of its
  // own (no lake tables): for tools and tests that run a spec once.
  static Result<PipelineRunner> Make(const PipelineSpec& spec,
                                     std::optional<size_t> only_output = std::nullopt);

  size_t num_outputs() const { return outputs_.size(); }
  // Spec index of runner output i.
  size_t spec_output(size_t i) const { return outputs_[i].spec_index; }
  const Schema& output_schema(size_t i) const { return outputs_[i].schema; }

  Status Push(RecordBatch&& batch, std::vector<BadRecord>* bad, const Emit& emit);
  Status Finish(std::vector<BadRecord>* bad, const Emit& emit);
  // Rows the shared transform removed on purpose (duplicates, filtered rows).
  int64_t RowsRemoved() const { return shared_->RowsRemoved(); }
  // Rows that left the shared transform (before routes and outputs' steps).
  int64_t RowsOut() const { return rows_out_; }

 private:
  struct Output {
    size_t spec_index = 0;
    int route = -1;                      // index in spec.routes; -1 = every row
    std::optional<OperatorChain> chain;  // absent: no steps of its own
    Schema schema;
    std::vector<int> partition_cols;  // a table output's partition_by, in `schema`
  };
  // Rows whose partition directory name would be too long for a file system
  // become bad records instead of failing the batch when the file is created.
  RecordBatch DropUnusablePartitions(const Output& o, RecordBatch&& b,
                                     std::vector<BadRecord>* bad) const;
  Status Dispatch(RecordBatch&& batch, std::vector<BadRecord>* bad, const Emit& emit);

  std::optional<OperatorChain> shared_;
  std::vector<Output> outputs_;
  int route_column_ = -1;
  int64_t rows_out_ = 0;
  Schema shared_schema_;  // without the route column
};

}  // namespace sluice
