#include "server/service.h"

#include <spdlog/spdlog.h>

#include "core/metrics.h"
#include "server/api.h"
#include "server/auth.h"
#include "server/http_server.h"

namespace sluice::server {

namespace {

// One finished request into the HTTP metrics (docs/architecture.md 8.2).
// Routes are templates ("unmatched" for any other path) and methods a fixed
// set, so a client cannot make new series at will.
void CountHttpRequest(const RequestRecord& r) {
  static metrics::Family<metrics::Counter>& requests = metrics::Default().AddCounter(
      "sluice_http_requests_total", "HTTP requests answered, by route template, method and status.",
      {"route", "method", "code"});
  static metrics::Family<metrics::Histogram>& seconds = metrics::Default().AddHistogram(
      "sluice_http_request_duration_seconds",
      "Time to answer an HTTP request (until the last byte was handed to the socket), by route.",
      {"route"});
  static metrics::Family<metrics::Counter>& bytes_in = metrics::Default().AddCounter(
      "sluice_http_request_bytes_total", "HTTP request body bytes read, by route.", {"route"});
  static metrics::Family<metrics::Counter>& bytes_out = metrics::Default().AddCounter(
      "sluice_http_response_bytes_total", "HTTP response body bytes sent, by route.", {"route"});
  static constexpr std::string_view kMethods[] = {"GET",    "HEAD",    "POST", "PUT",
                                                  "DELETE", "OPTIONS", "PATCH"};
  std::string_view method = "other";
  for (std::string_view m : kMethods) {
    if (r.method == m) method = m;
  }
  requests.With({r.route, method, std::to_string(r.status)}).Inc();
  seconds.With({r.route}).Observe(r.seconds);
  bytes_in.With({r.route}).Inc(static_cast<double>(r.bytes_in));
  bytes_out.With({r.route}).Inc(static_cast<double>(r.bytes_out));
}

}  // namespace

struct Service::Impl {
  std::unique_ptr<Authenticator> auth;
  ApiContext ctx;
  std::unique_ptr<HttpServer> http;
};

Service::Service(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Service::~Service() { Stop(); }

std::string Service::url() const { return impl_->http->url(); }

int Service::port() const { return impl_->http->port(); }

int Service::active_requests() const { return impl_->http->active_requests(); }

void Service::Stop() {
  if (impl_ != nullptr && impl_->http != nullptr) impl_->http->Stop();
}

Result<std::unique_ptr<Service>> Service::Start(Project& project, const ServiceOptions& options) {
  const ServerConfig& c = options.config;
  ASSIGN_OR_RETURN(auto address, ParseListenAddress(c.listen));
  RETURN_IF_ERROR(CheckListenAddress(c, address.first));
  auto impl = std::make_unique<Impl>();
  impl->auth = std::make_unique<Authenticator>(c);
  impl->ctx.project = &project;
  impl->ctx.draining = options.draining;
  impl->ctx.version = options.version;
  HttpServerOptions http;
  http.host = address.first;
  http.port = address.second;
  http.tls_cert = c.tls_cert;
  http.tls_key = c.tls_key;
  http.max_body_bytes = c.max_body_bytes;
  http.max_header_bytes = c.max_header_bytes;
  http.max_requests = c.max_requests;
  // A pool thread per connection: enough for the request cap plus idle
  // keep-alive connections.
  http.threads = std::max(16, c.max_requests + 16);
  http.reuse_port = options.reuse_port;
  http.on_request = CountHttpRequest;
  ASSIGN_OR_RETURN(impl->http,
                   HttpServer::Start(http, BuildApiRouter(impl->ctx), impl->auth.get()));
  spdlog::info("http: listening on {} ({})", impl->http->url(),
               impl->auth->enabled() ? std::to_string(c.tokens.size()) + " token(s)"
                                     : std::string("no tokens: loopback only"));
  return std::unique_ptr<Service>(new Service(std::move(impl)));
}

}  // namespace sluice::server
