#include "server/api.h"

#include "core/value_text.h"

namespace sluice::server {

Result<int64_t> QueryInt(const HttpRequest& req, const std::string& name, int64_t fallback,
                         int64_t min, int64_t max) {
  auto text = req.Query(name);
  if (!text) return fallback;
  int64_t v = 0;
  if (!ParseInt64(*text, &v) || v < min || v > max) {
    return Status::InvalidArgument("query parameter '" + name + "' must be an integer from " +
                                   std::to_string(min) + " to " + std::to_string(max) + ", got '" +
                                   *text + "'");
  }
  return v;
}

Result<int64_t> PathId(const HttpRequest& req, size_t index, const std::string& what) {
  const std::string& text = index < req.params.size() ? req.params[index] : std::string();
  int64_t v = 0;
  if (!ParseInt64(text, &v) || v <= 0) {
    return Status::InvalidArgument(what + " must be a positive integer, got '" + text + "'");
  }
  return v;
}

Status CheckUploadName(const std::string& name) {
  if (name.empty() || name.size() > 1024) {
    return Status::InvalidArgument("an upload name must be 1-1024 bytes, got " +
                                   std::to_string(name.size()));
  }
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string::npos) end = name.size();
    const std::string seg = name.substr(start, end - start);
    if (seg.empty())
      return Status::InvalidArgument("upload name '" + name + "' has an empty segment");
    if (seg == "." || seg == "..") {
      return Status::InvalidArgument("upload name '" + name +
                                     "' must not contain '.' or '..' segments");
    }
    if (seg.front() == '.') {
      return Status::InvalidArgument("upload name '" + name +
                                     "': a segment must not start with '.' (hidden files are "
                                     "never taken)");
    }
    if (seg.size() > 255) {
      return Status::InvalidArgument("upload name '" + name.substr(0, 64) +
                                     "...': a segment is longer than 255 bytes");
    }
    for (unsigned char c : seg) {
      if (c < 0x20 || c == 0x7f || c == '\\') {
        return Status::InvalidArgument(
            "upload name must not contain control characters or backslashes (byte 0x" +
            std::string(1, "0123456789abcdef"[c >> 4]) +
            std::string(1, "0123456789abcdef"[c & 15]) + ")");
      }
    }
    if (seg.ends_with(".tmp")) {
      return Status::InvalidArgument("upload name '" + name +
                                     "': names ending in .tmp are in-progress writes, never taken");
    }
    start = end + 1;
  }
  return Status::OK();
}

Router BuildApiRouter(ApiContext& ctx) {
  Router router;
  AddOpsRoutes(router, ctx);
  AddBatchRoutes(router, ctx);
  AddPipelineRoutes(router, ctx);
  AddTableRoutes(router, ctx);
  AddRowsRoutes(router, ctx);
  AddExportRoutes(router, ctx);
  AddLandingRoutes(router, ctx);
  AddMetricsRoutes(router, ctx);
  AddDashboardRoutes(router, ctx);
  return router;
}

}  // namespace sluice::server
