// GET /v1/pipelines[/{name}[/versions[/{id}]]], POST /v1/pipelines/{name}/versions
// (deploy), POST /v1/pipelines/{name}/versions/{id}/activate,
// POST /v1/pipelines/{name}/rollback.
#include "engine/views.h"
#include "pipeline/spec.h"
#include "server/api.h"

namespace sluice::server {

namespace {

using nlohmann::json;

// The most a deployed spec may be.
constexpr int64_t kMaxSpecBytes = 4 << 20;

// Where a spec error points: "FILE:LINE[:COL]: message". Errors about a key
// carry no column: it is the key's column on that line, else the line's
// first non-blank character.
// Reads the digits at `pos` (advancing it); 0 when there are none.
int ReadNumber(const std::string& s, size_t* pos) {
  int v = 0;
  size_t i = *pos;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9' && v < 10'000'000) v = v * 10 + (s[i++] - '0');
  if (i == *pos) return 0;
  *pos = i;
  return v;
}

json ErrorLocation(const std::string& message, const std::string& text) {
  json j{{"message", message}};
  // FILE ':' LINE [':' COL] ': ' REST, FILE without ':' or a line break.
  const size_t colon = message.find(':');
  if (colon == std::string::npos || colon == 0 || message.find('\n') < colon) {
    return j;
  }
  size_t pos = colon + 1;
  const int line = ReadNumber(message, &pos);
  if (line == 0) return j;
  int col = 0;
  if (pos < message.size() && message[pos] == ':' && pos + 1 < message.size() &&
      message[pos + 1] != ' ') {
    ++pos;
    col = ReadNumber(message, &pos);
    if (col == 0) return j;
  }
  if (message.compare(pos, 2, ": ") != 0) return j;
  const std::string file = message.substr(0, colon);
  const std::string rest = message.substr(pos + 2);
  if (col == 0) {
    // The line's text.
    size_t start = 0;
    for (int l = 1; l < line && start != std::string::npos; ++l) {
      start = text.find('\n', start);
      if (start != std::string::npos) ++start;
    }
    std::string line_text;
    if (start != std::string::npos && start <= text.size()) {
      line_text = text.substr(start, text.find('\n', start) - start);
    }
    // The last key of "a.b[2].c: ..." found on the line.
    std::string key = rest.substr(0, rest.find(": "));
    if (auto dot = key.find_last_of('.'); dot != std::string::npos) key = key.substr(dot + 1);
    if (auto br = key.find('['); br != std::string::npos) key = key.substr(0, br);
    size_t at = key.empty() ? std::string::npos : line_text.find(key);
    if (at == std::string::npos) at = line_text.find_first_not_of(" \t-");
    col = at == std::string::npos ? 1 : static_cast<int>(at) + 1;
  }
  j["file"] = file;
  j["line"] = line;
  j["column"] = col;
  j["location"] = file + ":" + std::to_string(line) + ":" + std::to_string(col);
  j["detail"] = rest;
  return j;
}

Result<std::vector<PipelineVersion>> Versions(ApiContext& ctx, const std::string& name) {
  if (!ValidPipelineName(name)) {
    return Status::InvalidArgument("'" + name +
                                   "' is not a pipeline name (1-64 characters of a-z, 0-9, _)");
  }
  return ctx.project->catalog().ListPipelineVersions(name);
}

void Deploy(ApiContext& ctx, HttpRequest& req, HttpResponse& res) {
  const std::string& name = req.params[0];
  if (!ValidPipelineName(name)) {
    return res.Error(400, "bad_request",
                     "'" + name + "' is not a pipeline name (1-64 characters of a-z, 0-9, _)");
  }
  auto text = req.ReadBodyText(kMaxSpecBytes);
  if (!text.ok()) return res.Fail(text.status());
  const std::string file = name + ".yaml";
  auto spec = ParsePipeline(*text, file, ctx.project->references());
  if (!spec.ok()) {
    return res.Error(422, "invalid_spec", "the pipeline spec is not valid",
                     {{"errors", json::array({ErrorLocation(spec.status().message(), *text)})}});
  }
  if (spec->name != name) {
    return res.Error(
        422, "invalid_spec", "the spec is for pipeline '" + spec->name + "', not '" + name + "'",
        {{"errors",
          json::array({ErrorLocation(
              file + ":1: pipeline: names '" + spec->name + "', not '" + name + "'", *text)})}});
  }
  auto before = ctx.project->catalog().GetActiveVersion(name);
  const std::string source = "api:" + req.principal.name;
  auto v = ctx.project->catalog().DeployPipeline(name, *text, source);
  if (!v.ok()) return res.Fail(v.status());
  const bool changed = !before.ok() || before->id != v->id;
  json j = PipelineVersionJson(*v, false);
  j["changed"] = changed;
  res.Json(changed ? 201 : 200, j);
}

// Makes `v` (a version of `name`) the active one.
void Activate(ApiContext& ctx, const std::string& name, const PipelineVersion& v,
              HttpResponse& res) {
  if (v.pipeline != name) {
    return res.Error(404, "not_found",
                     "version " + std::to_string(v.id) + " is not a version of '" + name + "'");
  }
  auto active = ctx.project->catalog().DeployPipeline(name, v.spec_text, v.source_path);
  if (!active.ok()) return res.Fail(active.status());
  res.Json(200, PipelineVersionJson(*active, false));
}

}  // namespace

void AddPipelineRoutes(Router& router, ApiContext& ctx) {
  router.Add({"GET", "/v1/pipelines", Role::kReader, [&ctx](HttpRequest&, HttpResponse& res) {
                auto list = ctx.project->catalog().ListActivePipelines();
                if (!list.ok()) return res.Fail(list.status());
                json arr = json::array();
                for (const PipelineVersion& v : *list) arr.push_back(PipelineVersionJson(v, false));
                res.Json(200, {{"pipelines", arr}});
              }});
  router.Add(
      {"GET", "/v1/pipelines/{name}", Role::kReader, [&ctx](HttpRequest& req, HttpResponse& res) {
         auto versions = Versions(ctx, req.params[0]);
         if (!versions.ok()) return res.Fail(versions.status());
         json j = json::object();
         json arr = json::array();
         for (const PipelineVersion& v : *versions) {
           if (v.active) j = PipelineVersionJson(v, true);
           arr.push_back(PipelineVersionJson(v, false));
         }
         j["versions"] = std::move(arr);
         res.Json(200, j);
       }});
  router.Add({"GET", "/v1/pipelines/{name}/versions", Role::kReader,
              [&ctx](HttpRequest& req, HttpResponse& res) {
                auto versions = Versions(ctx, req.params[0]);
                if (!versions.ok()) return res.Fail(versions.status());
                json arr = json::array();
                for (const PipelineVersion& v : *versions)
                  arr.push_back(PipelineVersionJson(v, false));
                res.Json(200, {{"versions", arr}});
              }});
  router.Add({"GET", "/v1/pipelines/{name}/versions/{id}", Role::kReader,
              [&ctx](HttpRequest& req, HttpResponse& res) {
                auto id = PathId(req, 1, "version");
                if (!id.ok()) return res.Fail(id.status());
                auto v = ctx.project->catalog().GetVersion(*id);
                if (!v.ok()) return res.Fail(v.status());
                if (v->pipeline != req.params[0]) {
                  return res.Error(404, "not_found",
                                   "version " + std::to_string(*id) + " is not a version of '" +
                                       req.params[0] + "'");
                }
                res.Json(200, PipelineVersionJson(*v, true));
              }});
  router.Add({"POST", "/v1/pipelines/{name}/versions", Role::kAdmin,
              [&ctx](HttpRequest& req, HttpResponse& res) { Deploy(ctx, req, res); }});
  router.Add({"POST", "/v1/pipelines/{name}/versions/{id}/activate", Role::kAdmin,
              [&ctx](HttpRequest& req, HttpResponse& res) {
                auto id = PathId(req, 1, "version");
                if (!id.ok()) return res.Fail(id.status());
                auto v = ctx.project->catalog().GetVersion(*id);
                if (!v.ok()) return res.Fail(v.status());
                Activate(ctx, req.params[0], *v, res);
              }});
  // The version deployed before the active one (by id) becomes active.
  router.Add({"POST", "/v1/pipelines/{name}/rollback", Role::kAdmin,
              [&ctx](HttpRequest& req, HttpResponse& res) {
                auto versions = Versions(ctx, req.params[0]);
                if (!versions.ok()) return res.Fail(versions.status());
                const PipelineVersion* active = nullptr;
                const PipelineVersion* previous = nullptr;
                for (const PipelineVersion& v : *versions) {
                  if (v.active) active = &v;
                  if (active != nullptr && v.id < active->id) {
                    previous = &v;
                    break;
                  }
                }
                if (previous == nullptr) {
                  return res.Error(
                      409, "conflict",
                      "pipeline '" + req.params[0] +
                          "' has no version older than the active one to roll back to");
                }
                Activate(ctx, req.params[0], *previous, res);
              }});
}

}  // namespace sluice::server
