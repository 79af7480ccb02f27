// The HTTP listener of `sluice server` (cpp-httplib underneath; this and
// http_server.cc are the only files that know it).
//
// Every request passes, in order: the concurrent-request cap (503), the
// header size cap (431), the route table (404 / 405), authentication (401)
// and the route's role (403), the principal's rate (429 + Retry-After), then
// the handler. Request bodies are streamed to the handler and capped
// (Content-Length or counted while a chunked body arrives: 413); a client
// that sends `Expect: 100-continue` hears a refusal before it sends the
// body. Responses are JSON, or streamed chunked from a writer. Errors always
// have a JSON body (HttpResponse::Error).
//
// Threads: one pool thread per connection (keep-alive connections hold one
// while they wait, at most keep_alive_timeout); `threads` bounds them.
// Stop() closes the listener, lets requests in flight finish (streams
// included) and returns once the listener thread has ended.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/status.h"
#include "server/auth.h"
#include "server/http.h"

namespace sluice::server {

// One finished request, for the access log and the metrics.
struct RequestRecord {
  std::string method;
  std::string route;      // the template; "unmatched" when no route matched
  std::string principal;  // token name; "" when unauthenticated
  int status = 0;
  double seconds = 0;     // until the last byte of the response was handed to the socket
  int64_t bytes_in = 0;   // request body bytes read
  int64_t bytes_out = 0;  // response body bytes
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;       // 0: any free port (port() tells which)
  std::string tls_cert;  // both set: HTTPS
  std::string tls_key;
  int64_t max_body_bytes = int64_t{64} << 30;
  int64_t max_header_bytes = 16 << 10;
  int max_requests = 64;
  int threads = 64;
  int keep_alive_seconds = 2;
  // SO_REUSEPORT, so that a new process can take over the port (upgrades).
  // Off by default: two servers started by mistake on one port should fail.
  bool reuse_port = false;
  std::function<void(const RequestRecord&)> on_request;  // called from pool threads
};

class HttpServer {
 public:
  // Binds and starts serving on a thread of its own. `auth` outlives the server.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options, Router router,
                                                   Authenticator* auth);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const;
  // "http://127.0.0.1:8080" (https with TLS).
  std::string url() const;
  // Requests being served right now.
  int active_requests() const;
  void Stop();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::server
