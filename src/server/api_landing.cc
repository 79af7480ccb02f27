// PUT /v1/landing/{pipeline}/{name...}: an upload, streamed into the
// archive and registered as a batch (source/landing.h IngestStream).
#include "engine/views.h"
#include "server/api.h"

namespace sluice::server {

namespace {

using nlohmann::json;

std::string_view OutcomeName(RegisterBatchResult::Outcome o) {
  switch (o) {
    case RegisterBatchResult::Outcome::kNew:
      return "new";
    case RegisterBatchResult::Outcome::kSameObject:
      return "same_upload";
    case RegisterBatchResult::Outcome::kDuplicateContent:
      return "duplicate_content";
  }
  return "new";
}

void Upload(ApiContext& ctx, HttpRequest& req, HttpResponse& res) {
  const std::string& pipeline = req.params[0];
  const std::string& name = req.params[1];
  if (Status st = CheckUploadName(name); !st.ok()) return res.Fail(st);
  if (!ValidPipelineName(pipeline)) {
    return res.Error(400, "bad_request", "'" + pipeline + "' is not a pipeline name");
  }
  // Only into a deployed pipeline: a batch is pinned to its active version.
  if (auto v = ctx.project->catalog().GetActiveVersion(pipeline); !v.ok())
    return res.Fail(v.status());
  auto done = IngestStream(
      ctx.project->landing(), pipeline, name,
      [&req](const std::function<Status(std::string_view)>& piece) { return req.ReadBody(piece); });
  if (!done.ok()) return res.Fail(done.status());
  const bool created = done->registered.outcome == RegisterBatchResult::Outcome::kNew;
  res.SetHeader("Location", "/v1/batches/" + std::to_string(done->registered.batch_id));
  res.Json(created ? 201 : 200, {{"batch_id", done->registered.batch_id},
                                 {"outcome", std::string(OutcomeName(done->registered.outcome))},
                                 {"pipeline", pipeline},
                                 {"name", name},
                                 {"sha256", done->sha256},
                                 {"bytes", done->bytes}});
}

}  // namespace

void AddLandingRoutes(Router& router, ApiContext& ctx) {
  router.Add({"PUT", "/v1/landing/{pipeline}/{name...}", Role::kIngester,
              [&ctx](HttpRequest& req, HttpResponse& res) { Upload(ctx, req, res); }});
}

}  // namespace sluice::server
