// POST /v1/exports, GET /v1/exports, GET|DELETE /v1/exports/{id},
// GET /v1/exports/{id}/file: durable extracts (engine/exporter.h).
//
// An export is accepted once its request is valid (the same checks as a data
// request) and its snapshot is pinned; an export task writes the file into
// the store. A reader may export the tables it may read and sees its own
// exports; an admin may export any table and sees every export.
#include <nlohmann/json.hpp>
#include <set>

#include "core/metrics.h"
#include "engine/exporter.h"
#include "queue/sql_task_queue.h"
#include "server/api.h"

namespace sluice::server {

namespace {

using nlohmann::json;

constexpr int64_t kMaxRequestBytes = 64 * 1024;
constexpr size_t kMaxIdempotencyKey = 200;

json ExportJson(const ExportJob& e) {
  json columns = json::parse(e.request.columns, nullptr, false);
  const bool done = e.state == ExportState::kDone;
  return json{
      {"id", e.id},
      {"table", e.request.table},
      {"columns", columns.is_array() ? columns : json::array()},
      {"where", e.request.where},
      {"snapshot", e.request.snapshot},
      {"format", e.request.format},
      {"limit", e.request.limit < 0 ? json(nullptr) : json(e.request.limit)},
      {"owner", e.request.owner},
      {"state", std::string(ExportStateName(e.state))},
      {"attempts", e.attempts},
      {"error", e.error},
      {"rows", e.rows},
      {"bytes", e.bytes},
      {"sha256", e.sha256},
      {"file_name", ExportFileName(e)},
      {"download", done ? json("/v1/exports/" + std::to_string(e.id) + "/file") : json(nullptr)},
      {"created_us", e.created_us},
      {"started_us", e.started_us},
      {"finished_us", e.finished_us}};
}

bool SeesAll(const Principal& p) { return p.role == Role::kAdmin; }

// The request body as an ExportRequest, or an error naming what is wrong.
Result<ExportRequest> ParseExportBody(const std::string& text) {
  json body = json::parse(text, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return Status::InvalidArgument("the body must be a JSON object");
  }
  static const std::set<std::string> kKeys = {"table",    "columns", "where",
                                              "snapshot", "format",  "limit"};
  for (const auto& [k, v] : body.items()) {
    if (kKeys.count(k) == 0) {
      return Status::InvalidArgument("unknown field '" + k +
                                     "' (expected table, columns, where, snapshot, format, limit)");
    }
  }
  ExportRequest r;
  if (!body.contains("table") || !body["table"].is_string() ||
      body["table"].get<std::string>().empty()) {
    return Status::InvalidArgument("'table' must be a table name");
  }
  r.table = body["table"].get<std::string>();
  json columns = json::array();
  if (body.contains("columns")) {
    const json& c = body["columns"];
    if (!c.is_array()) return Status::InvalidArgument("'columns' must be an array of names");
    for (const json& name : c) {
      if (!name.is_string()) return Status::InvalidArgument("'columns' must be an array of names");
    }
    columns = c;
  }
  r.columns = columns.dump();
  if (body.contains("where")) {
    if (!body["where"].is_string()) return Status::InvalidArgument("'where' must be a string");
    r.where = body["where"].get<std::string>();
  }
  if (body.contains("snapshot")) {
    const json& s = body["snapshot"];
    if (!s.is_number_integer() || s.get<int64_t>() < 1) {
      return Status::InvalidArgument("'snapshot' must be a snapshot id (a positive integer)");
    }
    r.snapshot = s.get<int64_t>();
  }
  r.format = "csv";
  if (body.contains("format")) {
    if (!body["format"].is_string()) return Status::InvalidArgument("'format' must be a string");
    r.format = body["format"].get<std::string>();
  }
  if (body.contains("limit") && !body["limit"].is_null()) {
    const json& l = body["limit"];
    if (!l.is_number_integer() || l.get<int64_t>() < 0) {
      return Status::InvalidArgument(
          "'limit' must be a non-negative integer (or absent: all rows)");
    }
    r.limit = l.get<int64_t>();
  }
  return r;
}

bool SameRequest(const ExportRequest& a, const ExportRequest& b) {
  return a.table == b.table && a.columns == b.columns && a.where == b.where &&
         a.snapshot == b.snapshot && a.format == b.format && a.limit == b.limit;
}

void Create(ApiContext& ctx, HttpRequest& req, HttpResponse& res) {
  auto text = req.ReadBodyText(kMaxRequestBytes);
  if (!text.ok()) return res.Fail(text.status());
  auto parsed = ParseExportBody(*text);
  if (!parsed.ok()) return res.Fail(parsed.status());
  ExportRequest r = std::move(*parsed);
  if (!req.principal.MayRead(r.table)) {
    return res.Error(403, "forbidden",
                     "token '" + req.principal.name + "' may not read table '" + r.table + "'");
  }
  r.owner = req.principal.name;
  r.idempotency_key = req.Header("Idempotency-Key");
  if (r.idempotency_key.size() > kMaxIdempotencyKey) {
    return res.Error(
        400, "bad_request",
        "Idempotency-Key is longer than " + std::to_string(kMaxIdempotencyKey) + " bytes");
  }
  const int64_t asked_snapshot = r.snapshot;
  Status prepared = PrepareExport(ctx.project->catalog(), ctx.project->store(), &r);
  if (!prepared.ok()) return res.Fail(prepared);
  auto created = ctx.project->catalog().CreateExport(r);
  if (!created.ok()) return res.Fail(created.status());
  const ExportJob& job = created->job;
  if (!created->created) {
    // A retry of an earlier request under the same key: the same export,
    // unless it asks for something else.
    ExportRequest earlier = job.request;
    if (asked_snapshot == 0) earlier.snapshot = r.snapshot;  // "current" then and now
    if (!SameRequest(earlier, r)) {
      return res.Error(409, "conflict",
                       "Idempotency-Key '" + r.idempotency_key + "' was used for export " +
                           std::to_string(job.id) + " with other parameters");
    }
    res.SetHeader("Location", "/v1/exports/" + std::to_string(job.id));
    return res.Json(200, ExportJson(job));
  }
  // Queued in the catalog first: a crash (or a queue error) before the task
  // exists leaves it to reconciliation, never lost.
  Status queued = ctx.project->queue().Enqueue(TaskRequest{TaskKind::kExport, job.id, "", 0});
  if (!queued.ok()) metrics::CountError("queue", queued, true);
  res.SetHeader("Location", "/v1/exports/" + std::to_string(job.id));
  res.Json(202, ExportJson(job));
}

// The export named by the path, if the principal may see it.
Result<ExportJob> VisibleExport(ApiContext& ctx, const HttpRequest& req, HttpResponse& res) {
  auto id = PathId(req, 0, "export");
  if (!id.ok()) {
    res.Fail(id.status());
    return id.status();
  }
  auto job = ctx.project->catalog().GetExport(*id);
  if (job.ok() && !SeesAll(req.principal) && job->request.owner != req.principal.name) {
    // Someone else's: as if there were none.
    job = Status::NotFound("no export " + std::to_string(*id));
  }
  if (!job.ok()) res.Fail(job.status());
  return job;
}

void List(ApiContext& ctx, HttpRequest& req, HttpResponse& res) {
  auto limit = QueryInt(req, "limit", 50, 1, 1000);
  if (!limit.ok()) return res.Fail(limit.status());
  auto before = QueryInt(req, "before", 0, 0, INT64_MAX);
  if (!before.ok()) return res.Fail(before.status());
  const std::string owner = SeesAll(req.principal) ? "" : req.principal.name;
  auto jobs = ctx.project->catalog().ListExports(owner, *before, *limit + 1);
  if (!jobs.ok()) return res.Fail(jobs.status());
  json arr = json::array();
  json next = nullptr;
  for (size_t i = 0; i < jobs->size(); ++i) {
    if (static_cast<int64_t>(i) == *limit) {
      next = "/v1/exports?limit=" + std::to_string(*limit) +
             "&before=" + std::to_string((*jobs)[i - 1].id);
      break;
    }
    arr.push_back(ExportJson((*jobs)[i]));
  }
  res.Json(200, {{"exports", arr}, {"next", next}});
}

void Download(ApiContext& ctx, HttpRequest& req, HttpResponse& res) {
  auto job = VisibleExport(ctx, req, res);
  if (!job.ok()) return;
  if (job->state != ExportState::kDone) {
    return res.Error(409, "not_ready",
                     "export " + std::to_string(job->id) + " is " +
                         std::string(ExportStateName(job->state)) +
                         (job->state == ExportState::kFailed ? ": " + job->error : std::string()),
                     {{"state", std::string(ExportStateName(job->state))}});
  }
  auto in = ctx.project->store().OpenRead(job->result_key);
  if (!in.ok()) {
    if (in.status().code() == StatusCode::kNotFound) {
      return res.Error(
          410, "gone",
          "the file of export " + std::to_string(job->id) + " is no longer in the store");
    }
    return res.Fail(in.status());
  }
  auto format = ParseRowsFormat(job->request.format);
  res.content_type = format.ok() ? std::string(RowsFormatContentType(*format))
                                 : std::string("application/octet-stream");
  res.SetHeader("Content-Disposition", "attachment; filename=\"" + ExportFileName(*job) + "\"");
  res.SetHeader("ETag", "\"" + job->sha256 + "\"");
  res.SetHeader("Sluice-Sha256", job->sha256);
  res.SetHeader("Sluice-Rows", std::to_string(job->rows));
  std::shared_ptr<InputStream> file = std::move(*in);
  res.stream = [file](OutputStream& out) -> Status {
    std::string buf(1 << 20, '\0');
    while (true) {
      ASSIGN_OR_RETURN(size_t n, file->Read(buf.data(), buf.size()));
      if (n == 0) return Status::OK();
      RETURN_IF_ERROR(out.Write(buf.data(), n));
    }
  };
}

void Delete(ApiContext& ctx, HttpRequest& req, HttpResponse& res) {
  auto job = VisibleExport(ctx, req, res);
  if (!job.ok()) return;
  // The row first: a run still writing then loses its FinishExport and
  // deletes its own object.
  Status st = ctx.project->catalog().DeleteExport(job->id);
  if (!st.ok()) return res.Fail(st);
  Status files = ctx.project->store().DeletePrefix(ExportPrefix(job->id));
  if (!files.ok()) metrics::CountError("store", files, false);
  res.status = 204;
  res.body.clear();
}

}  // namespace

void AddExportRoutes(Router& router, ApiContext& ctx) {
  router.Add({"POST", "/v1/exports", Role::kReader,
              [&ctx](HttpRequest& req, HttpResponse& res) { Create(ctx, req, res); }});
  router.Add({"GET", "/v1/exports", Role::kReader,
              [&ctx](HttpRequest& req, HttpResponse& res) { List(ctx, req, res); }});
  router.Add(
      {"GET", "/v1/exports/{id}", Role::kReader, [&ctx](HttpRequest& req, HttpResponse& res) {
         auto job = VisibleExport(ctx, req, res);
         if (job.ok()) res.Json(200, ExportJson(*job));
       }});
  router.Add({"DELETE", "/v1/exports/{id}", Role::kReader,
              [&ctx](HttpRequest& req, HttpResponse& res) { Delete(ctx, req, res); }});
  router.Add({"GET", "/v1/exports/{id}/file", Role::kReader,
              [&ctx](HttpRequest& req, HttpResponse& res) { Download(ctx, req, res); }});
}

}  // namespace sluice::server
