// GET /healthz, /readyz, /v1/status, /v1/deadlines, /v1/openapi.json.
#include "engine/views.h"
#include "server/api.h"
#include "server/assets.h"

namespace sluice::server {

namespace {

using nlohmann::json;

// One dependency's answer for /readyz.
json Probe(const char* name, const Status& st, bool* ready) {
  if (!st.ok()) *ready = false;
  json j{{"name", name}, {"ok", st.ok()}};
  if (!st.ok()) j["error"] = st.ToString();
  return j;
}

}  // namespace

void AddOpsRoutes(Router& router, ApiContext& ctx) {
  // Alive: the process answers. No dependency is asked.
  router.Add({"GET", "/healthz", Role::kNone, [&ctx](HttpRequest&, HttpResponse& res) {
                res.Json(200, {{"status", "ok"}, {"version", ctx.version}});
              }});
  // Ready: the catalog, the store and the queue each answered just now, and
  // the server is not draining.
  router.Add({"GET", "/readyz", Role::kNone, [&ctx](HttpRequest&, HttpResponse& res) {
                Project& p = *ctx.project;
                bool ready = true;
                json checks = json::array();
                checks.push_back(Probe("catalog", p.catalog().CatalogId().status(), &ready));
                Status store = p.store().Stat(".sluice-store.json").status();
                if (store.code() == StatusCode::kNotFound) store = Status::OK();
                checks.push_back(Probe("store", store, &ready));
                checks.push_back(Probe("queue", p.queue().Depth().status(), &ready));
                const bool draining = ctx.draining != nullptr && ctx.draining->load();
                if (draining) ready = false;
                res.Json(ready ? 200 : 503, {{"status", ready ? "ready" : "not_ready"},
                                             {"draining", draining},
                                             {"checks", checks}});
              }});
  router.Add({"GET", "/v1/status", Role::kReader, [&ctx](HttpRequest&, HttpResponse& res) {
                auto j = StatusJson(*ctx.project, /*data_files=*/false);
                if (!j.ok()) return res.Fail(j.status());
                res.Json(200, *j);
              }});
  router.Add({"GET", "/v1/deadlines", Role::kReader, [&ctx](HttpRequest& req, HttpResponse& res) {
                auto limit = QueryInt(req, "limit", 50, 0, 1000);
                if (!limit.ok()) return res.Fail(limit.status());
                auto j = DeadlinesJson(*ctx.project, *limit);
                if (!j.ok()) return res.Fail(j.status());
                res.Json(200, *j);
              }});
  router.Add({"GET", "/v1/openapi.json", Role::kNone, [](HttpRequest&, HttpResponse& res) {
                const EmbeddedAsset* a = FindAsset("openapi.json");
                if (a == nullptr)
                  return res.Error(404, "not_found", "no OpenAPI document built in");
                res.status = 200;
                res.content_type = "application/json";
                res.body.assign(a->data, a->size);
              }});
}

}  // namespace sluice::server
