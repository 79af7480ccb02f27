#include "server/http_server.h"

#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <thread>

#include <spdlog/spdlog.h>

#include "core/value_text.h"

namespace sluice::server {

namespace {

using Clock = std::chrono::steady_clock;

// Streams a response into httplib's chunked sink through a 64 KiB buffer
// (encoders write small pieces; each sink write is one chunk on the wire).
class SinkOutput final : public OutputStream {
 public:
  explicit SinkOutput(httplib::DataSink& sink) : sink_(sink) { buf_.reserve(kBuffer); }
  Status Write(const void* data, size_t n) override {
    const char* p = static_cast<const char*>(data);
    if (buf_.size() + n > kBuffer) RETURN_IF_ERROR(Flush());
    if (n >= kBuffer) {
      RETURN_IF_ERROR(Send(p, n));
    } else {
      buf_.append(p, n);
    }
    written_ += static_cast<int64_t>(n);
    return Status::OK();
  }
  int64_t Tell() const override { return written_; }
  Status Close() override { return Flush(); }
  void Abort() override { buf_.clear(); }

 private:
  static constexpr size_t kBuffer = 64 << 10;
  Status Flush() {
    if (buf_.empty()) return Status::OK();
    Status st = Send(buf_.data(), buf_.size());
    buf_.clear();
    return st;
  }
  Status Send(const char* p, size_t n) {
    if (!sink_.write(p, n)) return Status::Unavailable("the client went away");
    return Status::OK();
  }
  httplib::DataSink& sink_;
  std::string buf_;
  int64_t written_ = 0;
};

bool HasBody(const httplib::Request& req) {
  return req.has_header("Content-Length") ? req.get_header_value("Content-Length") != "0"
                                          : req.has_header("Transfer-Encoding");
}

int64_t ContentLength(const httplib::Request& req) {
  if (!req.has_header("Content-Length")) return -1;
  int64_t n = -1;
  if (!ParseInt64(req.get_header_value("Content-Length"), &n) || n < 0) return -1;
  return n;
}

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions options;
  Router router;
  Authenticator* auth = nullptr;
  std::unique_ptr<httplib::Server> svr;
  std::thread thread;
  int port = 0;
  std::atomic<int> active{0};
  std::atomic<bool> listen_ended{false};
  bool stopped = false;

  // The route to run, or null when the response holds a refusal.
  const Route* Admit(HttpRequest& r, const httplib::Request& req, HttpResponse& out);
  void Handle(const httplib::Request& req, httplib::Response& res,
              const httplib::ContentReader* reader);
  int Preflight(const httplib::Request& req, httplib::Response& res);
  void Log(const RequestRecord& rec) const;
};

void HttpServer::Impl::Log(const RequestRecord& rec) const {
  if (options.on_request) options.on_request(rec);
  const auto level = rec.status >= 500   ? spdlog::level::warn
                     : rec.status >= 400 ? spdlog::level::info
                                         : spdlog::level::debug;
  if (!spdlog::should_log(level)) return;
  // Never the path's query or the Authorization header: the route template
  // and the token's name only.
  spdlog::log(level, "http {} {} {} {:.1f}ms in={} out={} principal={}", rec.method, rec.route,
              rec.status, rec.seconds * 1e3, rec.bytes_in, rec.bytes_out,
              rec.principal.empty() ? "-" : rec.principal);
}

const Route* HttpServer::Impl::Admit(HttpRequest& r, const httplib::Request& req,
                                     HttpResponse& out) {
  // Request line and header bytes (the library caps each line at 8 KiB but
  // not their number).
  int64_t header_bytes = static_cast<int64_t>(req.target.size() + req.method.size());
  for (const auto& [k, v] : req.headers) header_bytes += static_cast<int64_t>(k.size() + v.size());
  if (header_bytes > options.max_header_bytes) {
    out.Error(431, "headers_too_large",
              "the request line and headers hold " + std::to_string(header_bytes) +
                  " bytes; the limit is " + std::to_string(options.max_header_bytes));
    return nullptr;
  }
  Router::Match m = router.Find(req.method, req.path);
  if (m.route == nullptr) {
    if (!m.allowed.empty()) {
      std::string allow;
      for (const std::string& a : m.allowed) allow += (allow.empty() ? "" : ", ") + a;
      out.SetHeader("Allow", allow);
      out.Error(405, "method_not_allowed",
                req.method + " is not allowed on " + req.path + " (allowed: " + allow + ")");
    } else {
      out.Error(404, "not_found", "no such endpoint: " + req.method + " " + req.path);
    }
    return nullptr;
  }
  r.route = m.route->pattern;
  r.params = std::move(m.params);
  if (m.route->role != Role::kNone) {
    auto who = auth->Authenticate(req.get_header_value("Authorization"));
    if (!who.ok()) {
      out.SetHeader("WWW-Authenticate", "Bearer realm=\"sluice\"");
      out.Error(401,
                who.status().code() == StatusCode::kFailedPrecondition ? "missing_token"
                                                                       : "invalid_token",
                who.status().message());
      return nullptr;
    }
    r.principal = std::move(*who);
    if (r.principal.role < m.route->role) {
      out.Error(403, "forbidden",
                "token '" + r.principal.name + "' has role " +
                    std::string(RoleName(r.principal.role)) + "; " + req.method + " " + r.route +
                    " needs " + std::string(RoleName(m.route->role)),
                {{"needs", std::string(RoleName(m.route->role))}});
      return nullptr;
    }
    std::chrono::microseconds wait{0};
    if (!auth->Admit(r.principal, &wait)) {
      const int64_t seconds = std::max<int64_t>(1, (wait.count() + 999'999) / 1'000'000);
      out.SetHeader("Retry-After", std::to_string(seconds));
      out.Error(429, "rate_limited",
                "token '" + r.principal.name + "' is over its request rate; retry in " +
                    std::to_string(seconds) + " s",
                {{"retry_after_seconds", seconds}});
      return nullptr;
    }
  }
  return m.route;
}

int HttpServer::Impl::Preflight(const httplib::Request& req, httplib::Response& res) {
  // `Expect: 100-continue`: the checks that need no body, before the client
  // sends it (an oversize or unauthorised upload costs nothing).
  HttpRequest r;
  HttpResponse out;
  bool go = Admit(r, req, out) != nullptr;
  if (go && ContentLength(req) > options.max_body_bytes) {
    out.Error(413, "body_too_large",
              "the body is " + std::to_string(ContentLength(req)) + " bytes; the limit is " +
                  std::to_string(options.max_body_bytes));
    go = false;
  }
  if (go) return 100;
  res.status = out.status;
  for (const auto& [k, v] : out.headers) res.set_header(k, v);
  res.set_header("Connection", "close");
  res.set_content(out.body, out.content_type);
  return out.status;
}

void HttpServer::Impl::Handle(const httplib::Request& req, httplib::Response& res,
                              const httplib::ContentReader* reader) {
  const auto start = Clock::now();
  // The library would compress text and JSON answers for any client that
  // accepts br or gzip, with brotli at its slowest level (4 s for a 2 MB
  // status page, about 1 MB/s for an extract): answers go out as they are.
  // (The request object is the library's own non-const one.)
  const_cast<httplib::Request&>(req).headers.erase("Accept-Encoding");
  HttpRequest r;
  HttpResponse out;
  r.method = req.method;
  r.path = req.path;
  for (const auto& [k, v] : req.params) r.query.emplace(k, v);
  for (const auto& [k, v] : req.headers) r.headers.emplace(k, v);
  r.content_length = ContentLength(req);
  r.max_body_bytes = options.max_body_bytes;
  int64_t bytes_in = 0;
  if (reader != nullptr && HasBody(req)) {
    r.body_reader = [reader, &bytes_in](const std::function<bool(const char*, size_t)>& sink) {
      return (*reader)([&](const char* data, size_t n) {
        bytes_in += static_cast<int64_t>(n);
        return sink(data, n);
      });
    };
  }
  const int now_active = active.fetch_add(1) + 1;
  const Route* route = nullptr;
  if (now_active > options.max_requests) {
    out.SetHeader("Retry-After", "1");
    out.Error(503, "busy",
              "the server is serving " + std::to_string(options.max_requests) +
                  " requests already; retry shortly");
  } else {
    route = Admit(r, req, out);
  }
  if (route != nullptr) {
    try {
      route->handler(r, out);
    } catch (const std::exception& e) {
      out.Error(500, "internal", std::string("internal error: ") + e.what());
    }
    if (r.body_too_large) {
      out.Error(413, "body_too_large",
                "the request body is larger than the limit of " +
                    std::to_string(options.max_body_bytes) + " bytes");
    }
  }
  // A body nobody read would be taken for the next request on this
  // connection: close it instead.
  if (!r.body_consumed() && r.body_reader) res.set_header("Connection", "close");
  if (r.body_too_large) res.set_header("Connection", "close");
  res.status = out.status;
  for (const auto& [k, v] : out.headers) res.set_header(k, v);
  RequestRecord rec{req.method,
                    r.route.empty() ? "unmatched" : r.route,
                    r.principal.name,
                    out.status,
                    0,
                    bytes_in,
                    0};
  if (!out.stream) {
    rec.bytes_out = static_cast<int64_t>(out.body.size());
    res.set_content(std::move(out.body), out.content_type);
    rec.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    active.fetch_sub(1);
    Log(rec);
    return;
  }
  // Streamed: the request stays active (and is logged) until the writer ends.
  auto writer = std::move(out.stream);
  auto record = std::make_shared<RequestRecord>(std::move(rec));
  res.set_chunked_content_provider(
      out.content_type,
      [writer, record](size_t, httplib::DataSink& sink) {
        SinkOutput stream(sink);
        Status st = writer(stream);
        if (st.ok()) st = stream.Close();
        record->bytes_out = stream.Tell();
        if (!st.ok()) {
          // Headers are gone: end the connection without the last chunk,
          // so the client knows the body is incomplete.
          spdlog::warn("http {} {}: response cut short: {}", record->method, record->route,
                       st.ToString());
          record->status = 599;
          return false;
        }
        sink.done();
        return true;
      },
      [this, record, start](bool) {
        record->seconds = std::chrono::duration<double>(Clock::now() - start).count();
        active.fetch_sub(1);
        Log(*record);
      });
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { Stop(); }

int HttpServer::port() const { return impl_->port; }

std::string HttpServer::url() const {
  const std::string& h = impl_->options.host;
  const std::string host = h.find(':') != std::string::npos ? "[" + h + "]" : h;
  return std::string(impl_->options.tls_cert.empty() ? "http" : "https") + "://" + host + ":" +
         std::to_string(impl_->port);
}

int HttpServer::active_requests() const { return impl_->active.load(); }

void HttpServer::Stop() {
  if (impl_ == nullptr || impl_->stopped) return;
  impl_->stopped = true;
  impl_->svr->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                      Router router, Authenticator* auth) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->router = std::move(router);
  impl->auth = auth;
  if (!options.tls_cert.empty()) {
    auto ssl =
        std::make_unique<httplib::SSLServer>(options.tls_cert.c_str(), options.tls_key.c_str());
    if (!ssl->is_valid()) {
      return Status::InvalidArgument("server: cannot load the TLS certificate '" +
                                     options.tls_cert + "' and key '" + options.tls_key +
                                     "' (PEM files, the key matching the certificate)");
    }
    impl->svr = std::move(ssl);
  } else {
    impl->svr = std::make_unique<httplib::Server>();
  }
  httplib::Server& svr = *impl->svr;
  const int threads = std::max(2, options.threads);
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  svr.set_tcp_nodelay(true);
  svr.set_keep_alive_max_count(100000);
  svr.set_keep_alive_timeout(options.keep_alive_seconds);
  svr.set_read_timeout(30, 0);
  svr.set_write_timeout(30, 0);
  // Content-Length bodies past it are refused by the library as they are
  // read; chunked ones are counted by HttpRequest::ReadBody.
  svr.set_payload_max_length(static_cast<size_t>(options.max_body_bytes));
  const bool reuse_port = options.reuse_port;
  svr.set_socket_options([reuse_port](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (reuse_port) ::setsockopt(sock, SOL_SOCKET, SO_REUSEPORT, &yes, sizeof(yes));
  });
  Impl* self = impl.get();
  svr.set_expect_100_continue_handler([self](const httplib::Request& req, httplib::Response& res) {
    return self->Preflight(req, res);
  });
  auto plain = [self](const httplib::Request& req, httplib::Response& res) {
    self->Handle(req, res, nullptr);
  };
  auto with_body = [self](const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader& reader) {
    self->Handle(req, res, &reader);
  };
  // Every path goes to Handle, which routes itself ('.' would not match a
  // decoded line break, which must reach the upload name checks).
  static const char* const kAnyPath = "[\\s\\S]*";
  svr.Get(kAnyPath, plain);
  svr.Options(kAnyPath, plain);
  svr.Post(kAnyPath, with_body);
  svr.Put(kAnyPath, with_body);
  svr.Patch(kAnyPath, with_body);
  svr.Delete(kAnyPath, with_body);
  svr.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "internal error";
        try {
          if (ep) std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what += std::string(": ") + e.what();
        } catch (...) {
        }
        HttpResponse out;
        out.Error(500, "internal", what);
        res.status = 500;
        res.set_content(out.body, out.content_type);
      });
  // Errors the library answers itself (a malformed request line, a URI
  // over its limit) get the JSON body too.
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    HttpResponse out;
    out.Error(
        res.status,
        res.status == 413   ? "body_too_large"
        : res.status == 414 ? "uri_too_long"
        : res.status == 404 ? "not_found"
                            : "bad_request",
        "the request was refused by the HTTP layer (status " + std::to_string(res.status) + ")");
    res.set_content(out.body, out.content_type);
  });
  if (options.port == 0) {
    impl->port = svr.bind_to_any_port(options.host);
    if (impl->port < 0) {
      return Status::Unavailable("server: cannot listen on " + options.host + " (any port)");
    }
  } else {
    if (!svr.bind_to_port(options.host, options.port)) {
      return Status::Unavailable("server: cannot listen on " + options.host + ":" +
                                 std::to_string(options.port) +
                                 " (in use by another process, or not an address of this host)");
    }
    impl->port = options.port;
  }
  impl->thread = std::thread([self] {
    self->svr->listen_after_bind();
    self->listen_ended = true;
  });
  // Until the loop runs, stop() would do nothing and the thread would
  // listen forever: return only once it is accepting.
  while (!self->svr->is_running() && !self->listen_ended) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!self->svr->is_running()) {
    impl->thread.join();
    return Status::Unavailable("server: the listener on " + options.host + " ended at once");
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

}  // namespace sluice::server
