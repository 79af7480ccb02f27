// rename: gives columns new names; order and types are unchanged.
//
//   - rename: { amount: total, ts: created_at }
//
// Renames apply together, so { a: b, b: a } swaps two columns. The resulting
// names must be unique: renaming onto a column that stays is an error.
#include <map>
#include <set>

#include "transform/ops.h"
#include "transform/step_args.h"

namespace sluice {
namespace {

class RenameOp final : public Operator {
 public:
  RenameOp(StepSpec spec, std::map<std::string, std::string> renames)
      : spec_(std::move(spec)), renames_(std::move(renames)) {}

  Result<Schema> Bind(const Schema& input) override {
    std::vector<Field> fields = input.fields();
    for (const auto& [from, to] : renames_) {
      ASSIGN_OR_RETURN(int idx, FindColumn(spec_, input, from));
      fields[idx].name = to;
    }
    std::set<std::string> seen;
    for (const auto& f : fields) {
      if (!seen.insert(f.name).second) {
        return StepError(spec_, "renaming would create two columns named '" + f.name + "'");
      }
    }
    output_ = Schema(std::move(fields));
    return output_;
  }

  Status Push(RecordBatch&& batch, OperatorContext& ctx) override {
    batch.schema = output_;
    return ctx.emit(std::move(batch));
  }

  Status Finish(OperatorContext& ctx) override { return Status::OK(); }

 private:
  StepSpec spec_;
  std::map<std::string, std::string> renames_;
  Schema output_;
};

}  // namespace

Result<std::unique_ptr<Operator>> NewRenameOp(const StepSpec& spec) {
  if (!spec.args.is_object() || spec.args.empty()) {
    return StepError(spec, "expected a mapping of old name to new name, e.g. { amount: total }");
  }
  std::map<std::string, std::string> renames;
  for (const auto& [from, to] : spec.args.items()) {
    if (!to.is_string() || to.get<std::string>().empty()) {
      return StepError(spec, "new name for '" + from + "' must be a non-empty string");
    }
    renames[from] = to.get<std::string>();
  }
  return std::unique_ptr<Operator>(new RenameOp(spec, std::move(renames)));
}

}  // namespace sluice
