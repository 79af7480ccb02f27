#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "cli/cli.h"
#include "pipeline/spec.h"

namespace sluice::cli {

namespace fs = std::filesystem;

int Fail(const Status& st) {
  std::fprintf(stderr, "sluice: %s\n", st.message().c_str());
  switch (st.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAlreadyExists:
      return 2;
    default:
      return 1;
  }
}

namespace {

Result<Config> FindConfig(const GlobalFlags& g) {
  if (!g.config_path.empty()) {
    if (!fs::exists(g.config_path)) {
      return Status::NotFound("config file '" + g.config_path + "' does not exist");
    }
    return LoadConfig(g.config_path, g.profile);
  }
  if (fs::exists("sluice.yaml")) return LoadConfig("sluice.yaml", g.profile);
  const std::string dir = (fs::current_path() / ".sluice").string();
  if (!fs::exists(dir)) {
    std::error_code ec;
    fs::create_directories(dir + "/pipelines", ec);
    if (ec) return Status::IOError("cannot create '" + dir + "': " + ec.message());
    std::fprintf(stderr,
                 "sluice: no sluice.yaml here; created the embedded default project in %s\n",
                 dir.c_str());
  }
  return DefaultConfig(dir);
}

}  // namespace

Result<Config> ResolveConfig(const GlobalFlags& g) {
  ASSIGN_OR_RETURN(Config c, FindConfig(g));
  if (g.threads > 0) c.threads = g.threads;
  return c;
}

Result<std::unique_ptr<Project>> OpenProject(const GlobalFlags& g) {
  ASSIGN_OR_RETURN(Config c, ResolveConfig(g));
  return Project::Open(c);
}

Result<std::string> FindPipelineFile(const std::string& pipelines_dir, const std::string& name) {
  ASSIGN_OR_RETURN(std::vector<std::string> files, ListPipelineFiles(pipelines_dir));
  std::string known;
  for (const std::string& f : files) {
    auto spec = LoadPipelineFile(f);
    if (!spec.ok()) continue;
    if (spec->name == name) return f;
    known += (known.empty() ? "" : ", ") + spec->name;
  }
  return Status::NotFound("'" + name + "' is neither a file nor a pipeline in " + pipelines_dir +
                          " (pipelines: " + (known.empty() ? "none" : known) + ")");
}

}  // namespace sluice::cli
