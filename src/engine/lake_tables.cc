#include "engine/lake_tables.h"

namespace sluice {
namespace {

class ProjectLakeTables final : public LakeTableProvider {
 public:
  ProjectLakeTables(Catalog* catalog, ObjectStore* store) : catalog_(catalog), store_(store) {}

  Result<LakeTableSnapshot> Current(const std::string& table) override {
    ASSIGN_OR_RETURN(TableInfo info, catalog_->GetTable(table));
    LakeTableSnapshot snap;
    snap.snapshot = info.current_snapshot;
    snap.schema = info.schema;
    if (info.current_snapshot == 0) return snap;
    // The files of exactly the snapshot just read (0 would be whatever is
    // current by now: a commit in between would mix two snapshots).
    ASSIGN_OR_RETURN(std::vector<DataFile> files,
                     catalog_->ListFiles(table, info.current_snapshot));
    for (const DataFile& f : files) snap.files.push_back(f.key);
    return snap;
  }

  Result<std::unique_ptr<InputStream>> Open(const std::string& key) override {
    return store_->OpenRead(key);
  }

 private:
  Catalog* catalog_;
  ObjectStore* store_;
};

}  // namespace

std::unique_ptr<LakeTableProvider> NewProjectLakeTables(Catalog* catalog, ObjectStore* store) {
  return std::make_unique<ProjectLakeTables>(catalog, store);
}

}  // namespace sluice
