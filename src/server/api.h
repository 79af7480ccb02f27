// The /v1 HTTP API of `sluice server` (docs/api.md; the OpenAPI document at
// /v1/openapi.json). Handlers are thin: they check parameters, call the
// catalog, queue, store or engine, and answer with the JSON views of
// engine/views.h. One Add*Routes per resource, each in its own file.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "engine/project.h"
#include "server/http.h"

namespace sluice::server {

struct ApiContext {
  Project* project = nullptr;
  // Set while the server drains (SIGTERM): /readyz answers 503 so that a
  // balancer stops sending new work.
  const std::atomic<bool>* draining = nullptr;
  std::string version;  // the build's, for /healthz and metrics
};

void AddOpsRoutes(Router& router, ApiContext& ctx);       // healthz, readyz, status, openapi
void AddBatchRoutes(Router& router, ApiContext& ctx);     // batches, replay, retries
void AddPipelineRoutes(Router& router, ApiContext& ctx);  // pipelines, versions, deploys
void AddTableRoutes(Router& router, ApiContext& ctx);     // tables, snapshots, files
void AddRowsRoutes(Router& router, ApiContext& ctx);      // data requests
void AddExportRoutes(Router& router, ApiContext& ctx);    // durable extracts
void AddLandingRoutes(Router& router, ApiContext& ctx);   // uploads
void AddMetricsRoutes(Router& router, ApiContext& ctx);   // /metrics (Prometheus)
void AddDashboardRoutes(Router& router, ApiContext& ctx);

// Every route of the API.
Router BuildApiRouter(ApiContext& ctx);

// Query helpers shared by the handlers: an integer parameter in
// [min, max] (absent: `fallback`), or an error naming the parameter.
Result<int64_t> QueryInt(const HttpRequest& req, const std::string& name, int64_t fallback,
                         int64_t min, int64_t max);
// A path parameter that must be a positive integer id.
Result<int64_t> PathId(const HttpRequest& req, size_t index, const std::string& what);

// Checks an upload name (the rest of PUT /v1/landing/{pipeline}/{name...}):
// 1-1024 bytes of '/'-separated segments, each 1-255 bytes, none "." or "..",
// none starting with '.', no control characters or backslashes. The
// message names what is wrong.
Status CheckUploadName(const std::string& name);

}  // namespace sluice::server
