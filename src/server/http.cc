#include "server/http.h"

#include <algorithm>

#include "core/value_text.h"

namespace sluice::server {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kNone:
      return "none";
    case Role::kReader:
      return "reader";
    case Role::kIngester:
      return "ingester";
    case Role::kAdmin:
      return "admin";
  }
  return "none";
}

Result<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kReader, Role::kIngester, Role::kAdmin}) {
    if (RoleName(r) == name) return r;
  }
  return Status::InvalidArgument("unknown role '" + std::string(name) +
                                 "' (reader, ingester or admin)");
}

bool Principal::MayRead(const std::string& table) const {
  if (role == Role::kAdmin || tables.empty()) return role >= Role::kReader;
  return std::find(tables.begin(), tables.end(), table) != tables.end();
}

std::optional<std::string> HttpRequest::Query(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

std::string HttpRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return "";
}

Status HttpRequest::ReadBody(const std::function<Status(std::string_view)>& chunk) {
  if (body_consumed_) return Status::FailedPrecondition("the request body was read already");
  body_consumed_ = true;
  if (!body_reader) return Status::OK();
  if (content_length > max_body_bytes) {
    body_too_large = true;
    return Status::FailedPrecondition("body_too_large");
  }
  int64_t total = 0;
  Status failed;
  const bool ok = body_reader([&](const char* data, size_t n) {
    total += static_cast<int64_t>(n);
    // Chunked bodies carry no length up front: count them here.
    if (total > max_body_bytes) {
      body_too_large = true;
      failed = Status::FailedPrecondition("body_too_large");
      return false;
    }
    failed = chunk(std::string_view(data, n));
    return failed.ok();
  });
  if (!failed.ok()) return failed;
  if (!ok) return Status::Unavailable("the client stopped sending the request body");
  return Status::OK();
}

Result<std::string> HttpRequest::ReadBodyText(int64_t limit) {
  std::string out;
  const int64_t saved = max_body_bytes;
  max_body_bytes = std::min(max_body_bytes, limit);
  Status st = ReadBody([&](std::string_view piece) {
    out.append(piece);
    return Status::OK();
  });
  max_body_bytes = saved;
  RETURN_IF_ERROR(st);
  return out;
}

void HttpResponse::Json(int code, const nlohmann::json& value) {
  status = code;
  content_type = "application/json";
  body = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  body += '\n';
}

void HttpResponse::Error(int code, std::string_view error_code, std::string_view message,
                         const nlohmann::json& extra) {
  nlohmann::json e = {
      {"status", code}, {"code", std::string(error_code)}, {"message", std::string(message)}};
  for (auto it = extra.begin(); it != extra.end(); ++it) e[it.key()] = it.value();
  stream = nullptr;
  Json(code, nlohmann::json{{"error", std::move(e)}});
}

int HttpStatusFor(const Status& st) {
  switch (st.code()) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAborted:
      return 409;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kUnimplemented:
      return 501;
    default:
      return 500;
  }
}

namespace {

std::string_view ErrorCodeFor(int status) {
  switch (status) {
    case 400:
      return "bad_request";
    case 404:
      return "not_found";
    case 409:
      return "conflict";
    case 501:
      return "not_implemented";
    case 503:
      return "unavailable";
    default:
      return "internal";
  }
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

// Binds `path` to `pattern`; false when it does not match.
bool MatchPattern(std::string_view pattern, std::string_view path,
                  std::vector<std::string>* params) {
  const std::vector<std::string_view> pat = SplitPath(pattern);
  // Empty segments ("a//b") are not collapsed for the rest-of-path
  // parameter: the upload name checks reject them.
  std::string_view rest = path;
  size_t consumed = 0;
  params->clear();
  for (size_t k = 0; k < pat.size(); ++k) {
    const std::string_view p = pat[k];
    // Skip the separator before this segment.
    if (consumed >= rest.size() || rest[consumed] != '/') return false;
    ++consumed;
    if (p.size() > 5 && p.front() == '{' && p.ends_with("...}")) {
      if (consumed >= rest.size()) return false;
      params->emplace_back(rest.substr(consumed));
      return k + 1 == pat.size();
    }
    size_t end = rest.find('/', consumed);
    if (end == std::string_view::npos) end = rest.size();
    const std::string_view seg = rest.substr(consumed, end - consumed);
    if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
      if (seg.empty()) return false;
      params->emplace_back(seg);
    } else if (seg != p) {
      return false;
    }
    consumed = end;
  }
  // A trailing slash is the same path.
  return consumed == rest.size() || (consumed + 1 == rest.size() && rest[consumed] == '/');
}

}  // namespace

void HttpResponse::Fail(const Status& st) {
  const int code = HttpStatusFor(st);
  Error(code, ErrorCodeFor(code), st.message());
}

void HttpResponse::SetHeader(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
}

void Router::Add(Route route) { routes_.push_back(std::move(route)); }

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match m;
  std::vector<std::string> params;
  for (const Route& r : routes_) {
    if (!MatchPattern(r.pattern, path, &params)) continue;
    // HEAD is a GET without its body.
    if (r.method == method || (method == "HEAD" && r.method == "GET")) {
      m.route = &r;
      m.params = std::move(params);
      m.allowed.clear();
      return m;
    }
    m.allowed.push_back(r.method);
  }
  return m;
}

}  // namespace sluice::server
