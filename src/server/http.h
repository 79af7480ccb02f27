// The HTTP types handlers see: a request (path parameters, query, headers,
// a streamed body, who is asking), a response (JSON, text, or a body written
// while it is sent), and the route table. Nothing here knows the HTTP
// library: only http_server.cc does (docs/architecture.md §10).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/io.h"
#include "core/status.h"

namespace sluice::server {

// What a bearer token may do; each role includes the ones before it.
enum class Role : int {
  kNone = 0,      // no token (only public routes)
  kReader = 1,    // data and status
  kIngester = 2,  // + uploads
  kAdmin = 3,     // + deploys, replays, retries, exports of any table
};
std::string_view RoleName(Role role);
Result<Role> ParseRole(std::string_view name);

// Who made a request: the token's name and role. With no tokens configured
// (loopback only) every request is "local", an admin.
struct Principal {
  std::string name;
  Role role = Role::kNone;
  // Tables this principal may read rows of; empty = all (admins: always all).
  std::vector<std::string> tables;
  bool MayRead(const std::string& table) const;
};

class HttpRequest {
 public:
  std::string method;
  std::string path;  // percent-decoded, without the query
  // The route template that matched ("/v1/batches/{id}"): logs and metrics
  // name routes by it, never by the raw path.
  std::string route;
  std::vector<std::string> params;  // the template's {parameters}, decoded, in order
  Principal principal;
  std::multimap<std::string, std::string> query;
  std::multimap<std::string, std::string> headers;  // names as sent; Header() ignores case
  int64_t content_length = -1;                      // -1: none given (chunked, or no body)

  std::optional<std::string> Query(const std::string& name) const;
  std::string Header(std::string_view name) const;

  // Streams the body to `chunk` in pieces as it arrives. More than
  // `max_body_bytes` in all (by Content-Length, or counted as a chunked body
  // arrives) sets `body_too_large` and fails: the server answers 413
  // whatever the handler wrote. A chunk callback error stops the read and is
  // returned. Call at most once.
  Status ReadBody(const std::function<Status(std::string_view)>& chunk);
  // The whole body, refused past `limit` bytes (and past max_body_bytes).
  Result<std::string> ReadBodyText(int64_t limit);
  // True once ReadBody has run (or the request had no body).
  bool body_consumed() const { return body_consumed_; }

  // Set by the server.
  std::function<bool(const std::function<bool(const char*, size_t)>&)> body_reader;
  int64_t max_body_bytes = 0;
  bool body_too_large = false;

 private:
  bool body_consumed_ = false;
};

class HttpResponse {
 public:
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is this writer's output, sent chunked as it is
  // written (memory does not grow with the result). A writer error after the
  // first bytes cuts the response short (the client sees an incomplete
  // chunked body, never a silently truncated one).
  std::function<Status(OutputStream& out)> stream;

  void Json(int code, const nlohmann::json& value);
  // The JSON error body every failure has:
  //   {"error": {"status": 404, "code": "not_found", "message": "...", ...extra}}
  void Error(int code, std::string_view error_code, std::string_view message,
             const nlohmann::json& extra = nlohmann::json::object());
  // A Status as an HTTP error (kNotFound 404, kInvalidArgument 400,
  // kAlreadyExists/kFailedPrecondition 409, kUnavailable 503, else 500).
  void Fail(const Status& st);
  void SetHeader(std::string name, std::string value);
};

// The HTTP status for a Status code (see HttpResponse::Fail).
int HttpStatusFor(const Status& st);

using Handler = std::function<void(HttpRequest&, HttpResponse&)>;

struct Route {
  std::string method;         // GET, PUT, POST, DELETE
  std::string pattern;        // "/v1/batches/{id}"; a last "{name...}" takes the rest of the path
  Role role = Role::kReader;  // least role allowed; kNone: public
  Handler handler;
};

// Routes by method and path template. Segments match literally or bind a
// {parameter}; a final {parameter...} binds the rest of the path.
class Router {
 public:
  void Add(Route route);
  struct Match {
    const Route* route = nullptr;      // null: no route for the path and method
    std::vector<std::string> params;   // bound parameters
    std::vector<std::string> allowed;  // methods the path has (405 when non-empty)
  };
  Match Find(std::string_view method, std::string_view path) const;
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace sluice::server
