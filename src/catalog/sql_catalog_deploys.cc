// SqlCatalog: explicit deploys from spec files (DeployFromFile).
//
// pipeline_deploys (migration 3) keeps, per pipeline and spec file, the
// content last deployed from that file. A deploy happens only when a file's
// text differs from that record, so the active version changes because a
// file changed, never because two processes read different files.
#include <string>

#include "catalog/internal/sql_catalog_impl.h"
#include "core/hash.h"

namespace sluice {

Result<DeployOutcome> SqlCatalog::DeployFromFile(const std::string& pipeline,
                                                 const std::string& spec_text,
                                                 const std::string& source_path) {
  if (pipeline.empty()) return Status::InvalidArgument("deploy: empty pipeline name");
  if (source_path.empty()) {
    return Status::InvalidArgument("deploy of '" + pipeline + "': empty source path");
  }
  const std::string hash = Sha256Hex(spec_text);
  MutexLock lock(&mu_);
  DeployOutcome out;
  auto load_active = [&]() -> Status {
    mu_.AssertHeld();
    ASSIGN_OR_RETURN(SqlStatement s,
                     db_->Prepare("SELECT active_version_id FROM pipelines WHERE name = ?1"));
    s.Bind(1, pipeline);
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) {
      return Status::Internal("deploy: pipeline '" + pipeline +
                              "' has a deploy record but no active version");
    }
    ASSIGN_OR_RETURN(out.active, LoadVersion(s.ColumnInt64(0)));
    return Status::OK();
  };
  // True (and `out` filled in) when this file's text is the one last
  // deployed from it.
  auto unchanged = [&]() -> Result<bool> {
    mu_.AssertHeld();
    ASSIGN_OR_RETURN(SqlStatement s,
                     db_->Prepare("SELECT content_hash, version_id FROM pipeline_deploys "
                                  "WHERE pipeline = ?1 AND source_path = ?2"));
    s.Bind(1, pipeline).Bind(2, source_path);
    ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row || s.ColumnText(0) != hash) return false;
    ASSIGN_OR_RETURN(out.version, LoadVersion(s.ColumnInt64(1)));
    RETURN_IF_ERROR(load_active());
    return true;
  };
  // The common case, an unchanged file on every poll, takes no write lock.
  bool same = false;
  RETURN_IF_ERROR(db_->ReadTransaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    ASSIGN_OR_RETURN(same, unchanged());
    return Status::OK();
  }));
  if (same) return out;
  RETURN_IF_ERROR(db_->Transaction([&]() -> Status {
    mu_.AssertHeld();  // held by the caller around the transaction
    // Again under the write lock: another process reading the same file may
    // have deployed it since the look above.
    ASSIGN_OR_RETURN(same, unchanged());
    if (same) return Status::OK();
    const int64_t now = Now();
    ASSIGN_OR_RETURN(const int64_t id,
                     ActivateVersion(pipeline, hash, spec_text, source_path, now));
    ASSIGN_OR_RETURN(
        SqlStatement rec,
        db_->Prepare("INSERT INTO pipeline_deploys (pipeline, source_path, content_hash, "
                     "version_id, deployed_us) VALUES (?1, ?2, ?3, ?4, ?5) "
                     "ON CONFLICT (pipeline, source_path) DO UPDATE SET "
                     "content_hash = excluded.content_hash, version_id = excluded.version_id, "
                     "deployed_us = excluded.deployed_us"));
    rec.Bind(1, pipeline).Bind(2, source_path).Bind(3, hash).Bind(4, id).Bind(5, now);
    RETURN_IF_ERROR(rec.Exec());
    out.deployed = true;
    ASSIGN_OR_RETURN(out.version, LoadVersion(id));
    out.active = out.version;
    return Status::OK();
  }));
  return out;
}

}  // namespace sluice
