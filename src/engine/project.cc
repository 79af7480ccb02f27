#include "engine/project.h"

#include "engine/lake_tables.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/hash.h"
#include "store/s3_object_store.h"

namespace sluice {

Result<std::unique_ptr<Project>> Project::Open(const Config& config) {
  RETURN_IF_ERROR(config.Validate());
  std::unique_ptr<Project> p(new Project(config));
  std::error_code ec;
  if (config.store_root.starts_with("s3://")) {
    ASSIGN_OR_RETURN(S3StoreConfig s3, ParseS3Url(config.store_root));
    s3.endpoint = config.s3_endpoint;
    s3.region = config.s3_region;
    ASSIGN_OR_RETURN(s3, ResolveS3Config(std::move(s3)));
    ASSIGN_OR_RETURN(p->store_, NewS3ObjectStore(s3));
  } else {
    for (const char* sub : {"landing", "archive", "staging", "lake", "quarantine"}) {
      std::filesystem::create_directories(std::filesystem::path(config.store_root) / sub, ec);
      if (ec) {
        return Status::IOError("cannot create store directory '" + config.store_root + "/" + sub +
                               "': " + ec.message());
      }
    }
    p->store_ = NewLocalObjectStore(config.store_root);
  }
  if (!IsPostgresLocation(config.catalog_path)) {
    std::filesystem::create_directories(std::filesystem::path(config.catalog_path).parent_path(),
                                        ec);
  }
  // A damaged catalog stops everything, with what to do: the open itself may
  // notice (a damaged header or schema), or quick_check does.
  auto damaged = [&](const Status& st) {
    if (IsPostgresLocation(config.catalog_path)) {
      return Status::DataLoss("catalog " + CatalogDisplay(config) + " is damaged (" + st.message() +
                              "). Stop every sluice process using it and restore the database "
                              "from a backup; then run `sluice check`");
    }
    return Status::DataLoss(
        "catalog " + config.catalog_path + " is damaged (" + st.message() +
        "). Stop every sluice process using it, keep a copy of the file, then restore it from a "
        "backup, or salvage it with `sqlite3 " +
        config.catalog_path +
        " \".recover\" | sqlite3 recovered.db` and point `catalog:` at "
        "the result; then run `sluice check`");
  };
  auto catalog = OpenCatalog(config.catalog_path);
  if (!catalog.ok()) {
    if (catalog.status().code() == StatusCode::kDataLoss) return damaged(catalog.status());
    return catalog.status();
  }
  p->catalog_ = std::move(catalog).value();
  if (Status ok = p->catalog_->CheckIntegrity(); !ok.ok()) return damaged(ok);
  RETURN_IF_ERROR(ClaimStore(*p->store_, *p->catalog_, config));
  ASSIGN_OR_RETURN(p->queue_, OpenTaskQueue(config.catalog_path));
  // Lookups with `references: { x: { table: T } }` read this project's lake.
  p->lake_tables_ = NewProjectLakeTables(p->catalog_.get(), p->store_.get());
  return p;
}

namespace {

constexpr const char* kStoreMarker = ".sluice-store.json";

Result<bool> HasObjects(ObjectStore& store, const char* prefix) {
  ASSIGN_OR_RETURN(std::vector<ObjectInfo> objects, store.List(prefix));
  return !objects.empty();
}

// A catalog that has never recorded a batch or a table.
Result<bool> CatalogIsEmpty(Catalog& catalog) {
  ASSIGN_OR_RETURN(std::vector<BatchInfo> batches, catalog.ListBatches(std::nullopt, "", 1));
  ASSIGN_OR_RETURN(std::vector<TableInfo> tables, catalog.ListTables());
  return batches.empty() && tables.empty();
}

}  // namespace

Status ClaimStore(ObjectStore& store, Catalog& catalog, const Config& config) {
  ASSIGN_OR_RETURN(std::string id, catalog.CatalogId());
  auto in = store.OpenRead(kStoreMarker);
  if (in.ok()) {
    ASSIGN_OR_RETURN(std::string text, ReadAll(**in));
    std::string owner;
    try {
      owner = nlohmann::json::parse(text).at("catalog_id").get<std::string>();
    } catch (const std::exception& e) {
      return Status::DataLoss("store " + store.Describe() + ": " + kStoreMarker +
                              " is unreadable (" + e.what() + ")");
    }
    if (owner == id) return Status::OK();
    return Status::FailedPrecondition(
        "store " + store.Describe() + " belongs to catalog " + owner + ", but catalog " +
        CatalogDisplay(config) + " is " + id +
        ". Using them together could overwrite committed data, so sluice stops here. If the "
        "catalog file was replaced, emptied or lost, restore it from a backup; if two projects "
        "point at one store_root, give each its own; to start afresh, create a new project "
        "(`sluice init DIR`) or move the old store aside");
  }
  if (in.status().code() != StatusCode::kNotFound) return in.status();
  // No owner yet: a new store, or one made before stores recorded their
  // catalog. A store that already holds data is adopted only by a catalog
  // that has data too (an upgrade); a new, empty catalog over a used store is
  // how a truncated catalog.db would silently start over.
  bool used = false;
  for (const char* prefix : {"lake/", "archive/", "quarantine/", "staging/"}) {
    ASSIGN_OR_RETURN(bool has, HasObjects(store, prefix));
    used = used || has;
  }
  if (used) {
    ASSIGN_OR_RETURN(bool empty, CatalogIsEmpty(catalog));
    if (empty) {
      return Status::FailedPrecondition(
          "store " + store.Describe() +
          " already holds data (lake, archive, quarantine or "
          "staging objects) but catalog " +
          CatalogDisplay(config) +
          " is new and empty, so sluice will not create a catalog over it: its batch numbers "
          "would start again and overwrite or orphan committed data. Restore the catalog that "
          "belongs to this store, or use an empty store_root for a new project (`sluice init "
          "DIR`), or move the old store aside");
    }
  }
  nlohmann::json marker = {
      {"catalog_id", id}, {"catalog", CatalogDisplay(config)}, {"claimed_us", NowMicros()}};
  ASSIGN_OR_RETURN(auto out, store.OpenWrite(kStoreMarker));
  RETURN_IF_ERROR(out->Write(marker.dump(2) + "\n"));
  return out->Close();
}

Project::~Project() = default;

std::string PipelineFileKey(const std::string& path) {
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(path, ec);
  return (ec ? std::filesystem::path(path) : abs).lexically_normal().string();
}

Result<SyncReport> Project::SyncPipelines() {
  SyncReport report;
  if (!std::filesystem::is_directory(config_.pipelines_dir)) return report;
  // Test files (NAME.test.yaml) beside the specs are not pipelines.
  ASSIGN_OR_RETURN(std::vector<std::string> files, ListPipelineFiles(config_.pipelines_dir));
  MutexLock lock(&sync_mu_);
  std::map<std::string, std::string> seen;  // pipeline -> file
  for (const std::string& f : files) {
    auto spec = LoadPipelineFile(f, references());
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
    const std::string path = PipelineFileKey(f);
    const std::string hash = Sha256Hex(spec->text);
    PipelineVersion active;
    auto mine = synced_.find(path);
    if (mine != synced_.end() && mine->second == hash) {
      // Unchanged since this process last deployed or saw it deployed: never
      // deployed again, even if another process has activated another text.
      ASSIGN_OR_RETURN(active, catalog_->GetActiveVersion(spec->name));
    } else {
      auto before = catalog_->GetActiveVersion(spec->name);
      ASSIGN_OR_RETURN(DeployOutcome d, catalog_->DeployFromFile(spec->name, spec->text, path));
      synced_[path] = hash;
      active = d.active;
      if (d.deployed && (!before.ok() || before->id != d.active.id)) {
        report.deployed.push_back(spec->name + " version " + std::to_string(d.version.id) +
                                  " (sha256 " + d.version.content_hash.substr(0, 12) + ")");
      }
    }
    if (active.content_hash != hash) {
      report.differs.push_back(
          spec->name + ": " + path + " (sha256 " + hash.substr(0, 12) +
          ") differs from the active version " + std::to_string(active.id) + " (sha256 " +
          active.content_hash.substr(0, 12) + ", from " + active.source_path +
          "), which another process deployed; it is not deployed again until the file changes");
    }
  }
  return report;
}

Result<std::vector<PipelineSpec>> Project::ActivePipelines() {
  ASSIGN_OR_RETURN(std::vector<PipelineVersion> versions, catalog_->ListActivePipelines());
  std::vector<PipelineSpec> out;
  for (const PipelineVersion& v : versions) {
    auto spec = ParsePipeline(v.spec_text, v.source_path, references());
    if (!spec.ok()) continue;  // reported by SyncPipelines / validate
    out.push_back(std::move(*spec));
  }
  return out;
}

}  // namespace sluice
