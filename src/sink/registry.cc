// The single list of sink kinds: name -> factory. Adding a sink is one line
// here plus its <name>_sink.cc.
#include <string>
#include <vector>

#include "sink/lake_sink.h"
#include "sink/postgres_sink.h"
#include "sink/sink.h"
#include "sink/sqlite_sink.h"

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

Result<std::unique_ptr<Sink>> MakeSqliteSink(const SinkSpec& spec) {
  ASSIGN_OR_RETURN(SqliteSinkOptions options, ParseSqliteSinkOptions(spec.args, spec.where));
  return NewSqliteSink(std::move(options));
}

Result<std::unique_ptr<Sink>> MakePostgresSink(const SinkSpec& spec) {
  ASSIGN_OR_RETURN(PostgresOutputOptions options,
                   ParsePostgresOutputOptions(spec.args, spec.where));
  return NewPostgresSink(std::move(options), spec.args.dump());
}

constexpr SinkKind kSinkKinds[] = {
    {"table", &MakeLakeSink},
    {"sqlite", &MakeSqliteSink},
    {"postgres", &MakePostgresSink},
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
