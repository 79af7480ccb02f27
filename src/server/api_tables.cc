// GET /v1/tables, /v1/tables/{table}, /v1/tables/{table}/snapshots,
// /v1/tables/{table}/files.
#include "engine/views.h"
#include "server/api.h"

namespace sluice::server {

namespace {

using nlohmann::json;

// The table named by the first path parameter, if the principal may read it.
Result<TableInfo> ReadableTable(ApiContext& ctx, const HttpRequest& req, HttpResponse& res) {
  const std::string& name = req.params[0];
  if (!req.principal.MayRead(name)) {
    res.Error(403, "forbidden",
              "token '" + req.principal.name + "' may not read table '" + name + "'");
    return Status::Aborted("answered");
  }
  auto t = ctx.project->catalog().GetTable(name);
  if (!t.ok()) res.Fail(t.status());
  return t;
}

}  // namespace

void AddTableRoutes(Router& router, ApiContext& ctx) {
  router.Add({"GET", "/v1/tables", Role::kReader, [&ctx](HttpRequest& req, HttpResponse& res) {
                auto tables = ctx.project->catalog().ListTables();
                if (!tables.ok()) return res.Fail(tables.status());
                json arr = json::array();
                for (const TableInfo& t : *tables) {
                  if (!req.principal.MayRead(t.name)) continue;
                  auto j = TableJson(*ctx.project, t, false);
                  if (!j.ok()) return res.Fail(j.status());
                  arr.push_back(std::move(*j));
                }
                res.Json(200, {{"tables", arr}});
              }});
  router.Add(
      {"GET", "/v1/tables/{table}", Role::kReader, [&ctx](HttpRequest& req, HttpResponse& res) {
         auto t = ReadableTable(ctx, req, res);
         if (!t.ok()) return;
         auto j = TableJson(*ctx.project, *t, false);
         if (!j.ok()) return res.Fail(j.status());
         res.Json(200, *j);
       }});
  router.Add(
      {"GET", "/v1/tables/{table}/snapshots", Role::kReader,
       [&ctx](HttpRequest& req, HttpResponse& res) {
         auto t = ReadableTable(ctx, req, res);
         if (!t.ok()) return;
         auto snaps = ctx.project->catalog().ListSnapshots(t->name);
         if (!snaps.ok()) return res.Fail(snaps.status());
         json arr = json::array();
         for (const SnapshotInfo& s : *snaps) arr.push_back(SnapshotJson(s));
         res.Json(200, {{"table", t->name}, {"current", t->current_snapshot}, {"snapshots", arr}});
       }});
  router.Add({"GET", "/v1/tables/{table}/files", Role::kReader,
              [&ctx](HttpRequest& req, HttpResponse& res) {
                auto t = ReadableTable(ctx, req, res);
                if (!t.ok()) return;
                auto snapshot = QueryInt(req, "snapshot", 0, 0, INT64_MAX);
                if (!snapshot.ok()) return res.Fail(snapshot.status());
                if (*snapshot > t->current_snapshot) {
                  return res.Error(404, "not_found",
                                   "table '" + t->name + "' has no snapshot " +
                                       std::to_string(*snapshot) +
                                       " (current: " + std::to_string(t->current_snapshot) + ")");
                }
                auto files = ctx.project->catalog().ListFiles(t->name, *snapshot);
                if (!files.ok()) return res.Fail(files.status());
                json arr = json::array();
                for (const DataFile& f : *files)
                  arr.push_back(DataFileJson(ctx.project->store(), f));
                res.Json(200, {{"table", t->name},
                               {"snapshot", *snapshot == 0 ? t->current_snapshot : *snapshot},
                               {"files", arr}});
              }});
}

}  // namespace sluice::server
