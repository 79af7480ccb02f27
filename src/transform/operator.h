// Transform operators: push-based, columnar steps between decode and outputs.
//
// Lifecycle, all on one thread per operator instance:
//   Bind(input schema) -> output schema      once, at plan time (type-checks the step)
//   Push(batch, ctx)   -> zero or more batches to ctx.emit, any number of times
//   Finish(ctx)        -> flushes any held state (e.g. dedupe keep=last), once
// Operators work on whole columns; rows that fail (e.g. a cast that does not
// fit) go to ctx.bad with the batch's source line, never to an exception.
// Expression-based operators (filter, derive) plug in through the same
// interface: their arguments are in StepSpec::args.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/bad_record.h"
#include "core/column.h"
#include "core/status.h"

namespace sluice {

class ResolvedReferences;  // transform/reference.h

struct OperatorContext {
  // Receives output batches; returning non-OK aborts the pipeline.
  std::function<Status(RecordBatch&&)> emit;
  // Rows rejected by the operator.
  std::vector<BadRecord>* bad = nullptr;
};

class Operator {
 public:
  virtual ~Operator() = default;
  virtual Result<Schema> Bind(const Schema& input) = 0;
  virtual Status Push(RecordBatch&& batch, OperatorContext& ctx) = 0;
  virtual Status Finish(OperatorContext& ctx) = 0;
  // Rows this instance dropped on purpose so far (e.g. duplicates removed by
  // dedupe; not bad records). The engine reports the chain's sum.
  virtual int64_t rows_removed() const { return 0; }
};

// Where the text of one argument value starts in the pipeline file (for
// errors inside expressions), and its place in document order (JSON objects
// forget key order; derive and aggregate columns keep the order written).
struct ArgPosition {
  int line = 0;        // 1-based
  int column = 1;      // 1-based, of the value's first character (inside quotes)
  int order = 0;       // document order among all values of the step
  std::string scalar;  // a scalar value's text as written ("2.50", which JSON reads as 2.5)
};

// One transform step as written in a pipeline spec: `- dedupe: {key: [id]}` is
// kind "dedupe" with args {"key": ["id"]}. `where` is "file:line" for errors.
struct StepSpec {
  std::string kind;
  nlohmann::json args;
  std::string where;
  std::string file;  // the pipeline file (empty when built in code)
  // JSON pointer of each value in args ("" = args itself, "/total",
  // "/group_by/0") -> where it starts.
  std::map<std::string, ArgPosition> positions;
};

// The single registry of operator kinds (transform/registry.cc). Unknown kinds
// and malformed args are kInvalidArgument naming spec.where. `references`
// are the reference tables already open for this run (OpenReferences); a
// step that reads one (lookup, a sql JOIN) takes it from there and never
// loads it itself. Null: none is open, and binding such a step is kInternal.
Result<std::unique_ptr<Operator>> MakeOperator(const StepSpec& spec,
                                               const ResolvedReferences* references = nullptr);
// The names of the references a step reads (its lookup's `from`, its sql
// JOIN), for the open step; a step it cannot make sense of reads none (the
// step reports its own error when it is made).
std::vector<std::string> StepReferences(const StepSpec& spec);
// Names of all registered kinds (for docs and error messages).
std::vector<std::string> OperatorKinds();

// Chains operators: Bind runs through each; Push/Finish feed outputs onward.
class OperatorChain {
 public:
  explicit OperatorChain(std::vector<std::unique_ptr<Operator>> ops) : ops_(std::move(ops)) {}
  Result<Schema> Bind(const Schema& input);
  // Pushes a batch through every operator; final outputs go to `sink`.
  Status Push(RecordBatch&& batch, std::vector<BadRecord>* bad,
              const std::function<Status(RecordBatch&&)>& sink);
  Status Finish(std::vector<BadRecord>* bad, const std::function<Status(RecordBatch&&)>& sink);
  // Sum of rows_removed() over the operators.
  int64_t RowsRemoved() const;

 private:
  Status PushFrom(size_t i, RecordBatch&& batch, std::vector<BadRecord>* bad,
                  const std::function<Status(RecordBatch&&)>& sink);
  std::vector<std::unique_ptr<Operator>> ops_;
};

}  // namespace sluice
