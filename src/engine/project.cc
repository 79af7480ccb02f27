#include "engine/project.h"

#include "engine/lake_tables.h"

#include <filesystem>

namespace sluice {

Result<std::unique_ptr<Project>> Project::Open(const Config& config) {
  RETURN_IF_ERROR(config.Validate());
  std::unique_ptr<Project> p(new Project(config));
  std::error_code ec;
  for (const char* sub : {"landing", "archive", "staging", "lake", "quarantine"}) {
    std::filesystem::create_directories(std::filesystem::path(config.store_root) / sub, ec);
    if (ec) {
      return Status::IOError("cannot create store directory '" + config.store_root + "/" + sub +
                             "': " + ec.message());
    }
  }
  std::filesystem::create_directories(std::filesystem::path(config.catalog_path).parent_path(), ec);
  p->store_ = NewLocalObjectStore(config.store_root);
  ASSIGN_OR_RETURN(p->catalog_, OpenSqliteCatalog(config.catalog_path));
  ASSIGN_OR_RETURN(p->queue_, OpenSqliteTaskQueue(config.catalog_path));
  // Lookups with `references: { x: { table: T } }` read this project's lake.
  p->lake_tables_ = NewProjectLakeTables(p->catalog_.get(), p->store_.get());
  SetLakeTableProvider(p->lake_tables_);
  return p;
}

Project::~Project() {
  // Only if it is still ours: another project may have opened since.
  if (lake_tables_ != nullptr && lake_tables_.use_count() > 1) SetLakeTableProvider(nullptr);
}

Result<SyncReport> Project::SyncPipelines() {
  SyncReport report;
  if (!std::filesystem::is_directory(config_.pipelines_dir)) return report;
  // Test files (NAME.test.yaml) beside the specs are not pipelines.
  ASSIGN_OR_RETURN(std::vector<std::string> files, ListPipelineFiles(config_.pipelines_dir));
  std::map<std::string, std::string> seen;  // pipeline -> file
  for (const std::string& f : files) {
    auto spec = LoadPipelineFile(f);
    if (!spec.ok()) {
      report.errors.push_back(spec.status().message());
      continue;
    }
    if (auto it = seen.find(spec->name); it != seen.end()) {
      report.errors.push_back(f + ": pipeline '" + spec->name + "' is also defined in " +
                              it->second);
      continue;
    }
    seen[spec->name] = f;
    auto active = catalog_->GetActiveVersion(spec->name);
    std::string before = active.ok() ? active->content_hash : "";
    ASSIGN_OR_RETURN(PipelineVersion v, catalog_->DeployPipeline(spec->name, spec->text, f));
    if (v.content_hash != before) {
      report.deployed.push_back(spec->name + " version " + std::to_string(v.id) + " (sha256 " +
                                v.content_hash.substr(0, 12) + ")");
    }
  }
  return report;
}

Result<std::vector<PipelineSpec>> Project::ActivePipelines() {
  ASSIGN_OR_RETURN(std::vector<PipelineVersion> versions, catalog_->ListActivePipelines());
  std::vector<PipelineSpec> out;
  for (const PipelineVersion& v : versions) {
    auto spec = ParsePipeline(v.spec_text, v.source_path);
    if (!spec.ok()) continue;  // reported by SyncPipelines / validate
    out.push_back(std::move(*spec));
  }
  return out;
}

}  // namespace sluice
