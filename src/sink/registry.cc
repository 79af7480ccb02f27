// The single list of sink kinds: name -> factory. Adding a sink is one line
// here plus its <name>_sink.cc.
#include <string>
#include <vector>

#include "sink/delivery_sink.h"
#include "sink/lake_sink.h"
#include "sink/sink.h"

namespace sluice {
namespace {

using SinkFactory = Result<std::unique_ptr<Sink>> (*)(const SinkSpec& spec);

struct SinkKind {
  const char* name;
  SinkFactory make;
};

Result<std::unique_ptr<Sink>> MakeLakeSink(const SinkSpec& spec) {
  ASSIGN_OR_RETURN(LakeSinkOptions options, ParseLakeSinkOptions(spec.args, spec.where));
  return NewLakeSink(std::move(options));
}

// Database outputs stage their rows for a loader (sink/delivery_sink.h).
Result<std::unique_ptr<Sink>> MakeDatabaseSink(const SinkSpec& spec) {
  ASSIGN_OR_RETURN(auto output, ParseDatabaseOutput(spec.kind, spec.args, spec.where, ""));
  return NewDeliverySink(std::move(output), spec.args.dump());
}

constexpr SinkKind kSinkKinds[] = {
    {"table", &MakeLakeSink},
    {"sqlite", &MakeDatabaseSink},
    {"postgres", &MakeDatabaseSink},
};

}  // namespace

Result<std::unique_ptr<Sink>> MakeSink(const SinkSpec& spec) {
  for (const SinkKind& kind : kSinkKinds) {
    if (spec.kind == kind.name) return kind.make(spec);
  }
  std::string known;
  for (const SinkKind& kind : kSinkKinds)
    known += (known.empty() ? "" : ", ") + std::string(kind.name);
  return Status::InvalidArgument((spec.where.empty() ? "" : spec.where + ": ") +
                                 "unknown output kind '" + spec.kind + "' (known: " + known + ")");
}

std::vector<std::string> SinkKinds() {
  std::vector<std::string> names;
  for (const SinkKind& kind : kSinkKinds) names.emplace_back(kind.name);
  return names;
}

}  // namespace sluice
