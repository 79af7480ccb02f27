// GET /v1/batches, GET /v1/batches/{id}, POST /v1/batches/{id}/replay,
// POST /v1/batches/{id}/deliveries/retry.
#include "engine/replay.h"
#include "engine/views.h"
#include "server/api.h"

namespace sluice::server {

namespace {

using nlohmann::json;

void ListBatches(ApiContext& ctx, HttpRequest& req, HttpResponse& res) {
  std::optional<BatchState> state;
  if (auto s = req.Query("state"); s && !s->empty()) {
    auto parsed = ParseBatchState(*s);
    if (!parsed.ok()) return res.Fail(parsed.status());
    state = *parsed;
  }
  const std::string pipeline = req.Query("pipeline").value_or("");
  auto limit = QueryInt(req, "limit", 50, 1, 1000);
  if (!limit.ok()) return res.Fail(limit.status());
  auto before = QueryInt(req, "before", 0, 0, INT64_MAX);
  if (!before.ok()) return res.Fail(before.status());
  auto page = ctx.project->catalog().ListBatchPage(state, pipeline, *before, *limit);
  if (!page.ok()) return res.Fail(page.status());
  json arr = json::array();
  for (const BatchInfo& b : page->batches) {
    auto j = BatchWithDeliveriesJson(*ctx.project, b);
    if (!j.ok()) return res.Fail(j.status());
    arr.push_back(std::move(*j));
  }
  json next = nullptr;
  if (page->next_before_id != 0) {
    std::string q = "/v1/batches?limit=" + std::to_string(*limit) +
                    "&before=" + std::to_string(page->next_before_id);
    if (state) q += "&state=" + std::string(BatchStateName(*state));
    if (!pipeline.empty()) q += "&pipeline=" + pipeline;
    next = q;
  }
  res.Json(200,
           {{"batches", std::move(arr)},
            {"next_before", page->next_before_id == 0 ? json(nullptr) : json(page->next_before_id)},
            {"next", next}});
}

}  // namespace

void AddBatchRoutes(Router& router, ApiContext& ctx) {
  router.Add({"GET", "/v1/batches", Role::kReader,
              [&ctx](HttpRequest& req, HttpResponse& res) { ListBatches(ctx, req, res); }});
  router.Add(
      {"GET", "/v1/batches/{id}", Role::kReader, [&ctx](HttpRequest& req, HttpResponse& res) {
         auto id = PathId(req, 0, "batch id");
         if (!id.ok()) return res.Fail(id.status());
         auto samples = QueryInt(req, "bad_samples", 10, 0, 1000);
         if (!samples.ok()) return res.Fail(samples.status());
         auto j = BatchDetailJson(*ctx.project, *id, static_cast<int>(*samples));
         if (!j.ok()) return res.Fail(j.status());
         res.Json(200, *j);
       }});
  router.Add({"POST", "/v1/batches/{id}/replay", Role::kAdmin,
              [&ctx](HttpRequest& req, HttpResponse& res) {
                auto id = PathId(req, 0, "batch id");
                if (!id.ok()) return res.Fail(id.status());
                const std::string latest = req.Query("latest_version").value_or("false");
                if (latest != "true" && latest != "false") {
                  return res.Error(400, "bad_request",
                                   "latest_version must be true or false, got '" + latest + "'");
                }
                auto before = StartReplay(*ctx.project, *id, latest == "true");
                if (!before.ok()) return res.Fail(before.status());
                auto after = ctx.project->catalog().GetBatch(*id);
                if (!after.ok()) return res.Fail(after.status());
                json j = BatchJson(*after);
                j["replayed_from_state"] = std::string(BatchStateName(before->state));
                res.Json(202, j);
              }});
  router.Add({"POST", "/v1/batches/{id}/deliveries/retry", Role::kAdmin,
              [&ctx](HttpRequest& req, HttpResponse& res) {
                auto id = PathId(req, 0, "batch id");
                if (!id.ok()) return res.Fail(id.status());
                const std::string output = req.Query("output").value_or("all");
                auto retries = RetryDeliveries(*ctx.project, {*id}, output);
                if (!retries.ok()) return res.Fail(retries.status());
                json arr = json::array();
                for (const DeliveryRetry& r : *retries) {
                  for (const Delivery& d : r.deliveries) arr.push_back(d.output);
                }
                res.Json(202, {{"batch_id", *id}, {"retried", arr}});
              }});
}

}  // namespace sluice::server
