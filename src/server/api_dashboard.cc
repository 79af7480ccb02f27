// GET / (the dashboard's page) and GET /assets/{name...} (its scripts and
// style, and any other file compiled in from src/server/assets/). Public:
// the page holds no data; everything it shows comes from /v1 calls, which
// are authenticated as usual.
//
// An asset is found by its exact embedded name (no file system, so no path
// can escape: "../x" or "a/./b" is simply not a name in the table). Each
// answer carries a strong ETag (the SHA-256 of the bytes) and
// `Cache-Control: no-cache`: the browser revalidates every load and gets a
// 304 while the binary is the same.
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/hash.h"
#include "server/api.h"
#include "server/assets.h"

namespace sluice::server {

namespace {

// What every dashboard answer says about itself: the page runs only its own
// scripts (ES modules from /assets/; 'self' covers their imports) and style,
// talks only to this server, and is never framed.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// True when an If-None-Match header (a list of entity tags, or "*") holds
// `etag`. The comparison is weak, as RFC 9110 §13.1.2 asks for this header.
bool NoneMatchHolds(std::string_view header, std::string_view etag) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(',', pos);
    if (end == std::string_view::npos) end = header.size();
    std::string_view tag = header.substr(pos, end - pos);
    while (!tag.empty() && (tag.front() == ' ' || tag.front() == '\t')) tag.remove_prefix(1);
    while (!tag.empty() && (tag.back() == ' ' || tag.back() == '\t')) tag.remove_suffix(1);
    if (tag == "*") return true;
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == etag) return true;
    pos = end + 1;
  }
  return false;
}

// The strong ETag of every embedded asset, computed once.
using EtagMap = std::map<std::string, std::string, std::less<>>;

std::shared_ptr<const EtagMap> ComputeEtags() {
  auto tags = std::make_shared<EtagMap>();
  for (const EmbeddedAsset* a = kEmbeddedAssets; a->path != nullptr; ++a) {
    (*tags)[a->path] = "\"" + Sha256Hex(std::string_view(a->data, a->size)) + "\"";
  }
  return tags;
}

void ServeAsset(const EtagMap& etags, std::string_view name, const HttpRequest& req,
                HttpResponse& res) {
  const EmbeddedAsset* a = FindAsset(name);
  auto tag = etags.find(name);
  if (a == nullptr || tag == etags.end()) {
    return res.Error(404, "not_found", "no dashboard asset '" + std::string(name) + "'");
  }
  res.SetHeader("ETag", tag->second);
  res.SetHeader("Cache-Control", "no-cache");
  res.SetHeader("X-Content-Type-Options", "nosniff");
  res.SetHeader("Content-Security-Policy", kContentSecurityPolicy);
  res.content_type = std::string(AssetContentType(a->path));
  if (NoneMatchHolds(req.Header("If-None-Match"), tag->second)) {
    res.status = 304;
    res.body.clear();
    return;
  }
  res.status = 200;
  res.body.assign(a->data, a->size);
}

}  // namespace

void AddDashboardRoutes(Router& router, ApiContext&) {
  std::shared_ptr<const EtagMap> etags = ComputeEtags();
  router.Add({"GET", "/", Role::kNone, [etags](HttpRequest& req, HttpResponse& res) {
                ServeAsset(*etags, "index.html", req, res);
              }});
  router.Add(
      {"GET", "/assets/{name...}", Role::kNone, [etags](HttpRequest& req, HttpResponse& res) {
         ServeAsset(*etags, req.params.empty() ? std::string_view() : req.params[0], req, res);
       }});
}

}  // namespace sluice::server
