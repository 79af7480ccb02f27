#include "engine/alert_notifier.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/metrics.h"

// A named namespace: the engine tests are a unity build.
namespace sluice::alert_notifier_test {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// One request the hook received.
struct HookRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string body;
  Clock::time_point at;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// How the hook answers one request (from a status: `Script{500, 200}`).
struct HookAnswer {
  HookAnswer(int status_code = 200, std::string headers = "")  // NOLINT: implicit on purpose
      : status(status_code), extra_headers(std::move(headers)) {}
  static HookAnswer Hang() {
    HookAnswer a;
    a.hang = true;
    return a;
  }

  int status = 200;
  std::string extra_headers;  // whole lines, each ending in "\r\n"
  // Answer only after Release() (a hook that hangs); at the server's end a
  // request still held is closed without an answer.
  bool hang = false;
};
using Script = std::vector<HookAnswer>;

// A webhook receiver on 127.0.0.1: one thread accepts, one thread per
// connection reads a request (headers and a Content-Length body), records it
// and answers the next entry of the script (then `otherwise`), closing the
// connection after each answer.
class HookServer {
 public:
  explicit HookServer(Script script, HookAnswer otherwise = {})
      : script_(std::move(script)), otherwise_(std::move(otherwise)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::listen(listen_fd_, 64), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~HookServer() {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    cv_.notify_all();
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    acceptor_.join();
    std::vector<std::thread> workers;
    {
      std::lock_guard lock(mu_);
      workers.swap(workers_);
    }
    for (std::thread& t : workers) t.join();
  }

  HookServer(const HookServer&) = delete;
  HookServer& operator=(const HookServer&) = delete;

  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  // Lets every held (hanging) answer go, now and later.
  void Release() {
    {
      std::lock_guard lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }

  std::vector<HookRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  int answered() const {
    std::lock_guard lock(mu_);
    return answered_;
  }

  // Waits until `n` requests have arrived; false after `timeout`.
  bool WaitForRequests(size_t n, milliseconds timeout = milliseconds(5000)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
  }

 private:
  void AcceptLoop() {
    for (;;) {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      std::lock_guard lock(mu_);
      if (fd < 0 || closing_) {
        if (fd >= 0) ::close(fd);
        return;
      }
      open_fds_.insert(fd);
      workers_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  void CloseConnection(int fd) {
    {
      std::lock_guard lock(mu_);
      open_fds_.erase(fd);
    }
    ::close(fd);
  }

  // Reads one request; false when the peer went away first.
  static bool ReadRequest(int fd, HookRequest* req) {
    std::string data;
    char buf[4096];
    size_t header_end = std::string::npos;
    while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) return false;
      data.append(buf, static_cast<size_t>(n));
    }
    std::istringstream head(data.substr(0, header_end));
    std::string line;
    std::getline(head, line);
    std::istringstream request_line(line);
    request_line >> req->method >> req->path;
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t v = colon + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      req->headers[name] = line.substr(v);
    }
    const size_t length = std::stoul(
        req->Header("content-length").empty() ? std::string("0") : req->Header("content-length"));
    req->body = data.substr(header_end + 4);
    while (req->body.size() < length) {
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) return false;
      req->body.append(buf, static_cast<size_t>(n));
    }
    return true;
  }

  void Serve(int fd) {
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    HookRequest req;
    if (!ReadRequest(fd, &req)) {
      CloseConnection(fd);
      return;
    }
    req.at = Clock::now();
    HookAnswer answer;
    {
      std::unique_lock lock(mu_);
      answer = requests_.size() < script_.size() ? script_[requests_.size()] : otherwise_;
      requests_.push_back(std::move(req));
      cv_.notify_all();
      if (answer.hang) cv_.wait(lock, [&] { return released_ || closing_; });
      if (answer.hang && !released_) {
        lock.unlock();
        CloseConnection(fd);
        return;
      }
      ++answered_;
    }
    const std::string response = "HTTP/1.1 " + std::to_string(answer.status) +
                                 " Scripted\r\nContent-Length: 0\r\nConnection: close\r\n" +
                                 answer.extra_headers + "\r\n";
    ::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
    CloseConnection(fd);
  }

  const Script script_;
  const HookAnswer otherwise_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread acceptor_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<HookRequest> requests_;
  std::vector<std::thread> workers_;
  std::set<int> open_fds_;
  int answered_ = 0;
  bool released_ = false;
  bool closing_ = false;
};

// A loopback port nobody listens on (bound once, then closed).
int UnusedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Options at millisecond scale so the tests are quick.
AlertNotifierOptions FastOptions(const std::string& url) {
  AlertNotifierOptions o;
  o.url = url;
  o.timeout = milliseconds(2000);
  o.max_tries = 4;
  o.first_backoff = milliseconds(10);
  o.max_backoff = milliseconds(100);
  return o;
}

AlertEvent Missed(int64_t batch_id) {
  AlertEvent e;
  e.kind = "missed";
  e.pipeline = "orders";
  e.batch_id = batch_id;
  e.deadline_us = 1796676300000000;  // 2026-12-07T20:45:00Z
  e.at_us = 1796676939123456;        // 2026-12-07T20:55:39.123456Z
  e.message = "batch " + std::to_string(batch_id) + " of orders missed its deadline";
  return e;
}

double CounterValue(const char* name, std::vector<std::string> label_names,
                    const std::vector<std::string>& values) {
  // The notifier registers the families (with their help) first.
  { AlertNotifier registers(FastOptions("http://127.0.0.1:1/")); }
  return metrics::Default().AddCounter(name, "", std::move(label_names)).With(values).Value();
}
double Alerts(const std::string& kind, const std::string& outcome) {
  return CounterValue("sluice_alerts_total", {"kind", "outcome"}, {kind, outcome});
}
double Retries(const std::string& kind) {
  return CounterValue("sluice_alert_retries_total", {"kind"}, {kind});
}

bool WaitUntil(const std::function<bool()>& done, milliseconds timeout = milliseconds(5000)) {
  const auto end = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= end) return false;
    std::this_thread::sleep_for(milliseconds(2));
  }
  return true;
}

int64_t BatchIdOf(const HookRequest& r) {
  return nlohmann::json::parse(r.body).at("batch_id").get<int64_t>();
}

// Sends the default logger's lines to a string for the test's scope.
class CaptureLog {
 public:
  CaptureLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("alert_test", sink));
  }
  ~CaptureLog() { spdlog::set_default_logger(previous_); }
  std::string text() {
    spdlog::default_logger()->flush();
    return out_.str();
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream out_;
};

TEST(AlertNotifierJson, EachKindCarriesItsFields) {
  AlertEvent at_risk;
  at_risk.kind = "at_risk";
  at_risk.pipeline = "orders";
  at_risk.batch_id = 12;
  at_risk.deadline_us = 1796676300000000;
  at_risk.estimate_us = 1796676600000000;
  at_risk.last_batch_us = 5;  // does not apply: left out
  at_risk.at_us = 1796676939123456;
  at_risk.message = "batch 12 may miss its deadline";

  AlertEvent stale;
  stale.kind = "stale";
  stale.pipeline = "orders";
  stale.last_batch_us = 1796675400000000;
  stale.expect_every_us = 900000000;
  stale.at_us = 1796676939123456;
  stale.message = "no batch for 25 minutes";

  AlertEvent never = stale;
  never.last_batch_us = 0;

  struct Case {
    AlertEvent event;
    std::string json;
  } cases[] = {
      {at_risk, R"({"kind":"at_risk","pipeline":"orders","batch_id":12,)"
                R"("deadline":"2026-12-07T20:45:00.000Z","deadline_us":1796676300000000,)"
                R"("estimate":"2026-12-07T20:50:00.000Z","estimate_us":1796676600000000,)"
                R"("at":"2026-12-07T20:55:39.123Z","at_us":1796676939123456,)"
                R"("message":"batch 12 may miss its deadline"})"},
      {Missed(13), R"({"kind":"missed","pipeline":"orders","batch_id":13,)"
                   R"("deadline":"2026-12-07T20:45:00.000Z","deadline_us":1796676300000000,)"
                   R"("at":"2026-12-07T20:55:39.123Z","at_us":1796676939123456,)"
                   R"("message":"batch 13 of orders missed its deadline"})"},
      {stale, R"({"kind":"stale","pipeline":"orders",)"
              R"("last_batch":"2026-12-07T20:30:00.000Z","last_batch_us":1796675400000000,)"
              R"("expect_every_us":900000000,"expect_every_seconds":900.0,)"
              R"("at":"2026-12-07T20:55:39.123Z","at_us":1796676939123456,)"
              R"("message":"no batch for 25 minutes"})"},
      {never, R"({"kind":"stale","pipeline":"orders","last_batch":null,"last_batch_us":null,)"
              R"("expect_every_us":900000000,"expect_every_seconds":900.0,)"
              R"("at":"2026-12-07T20:55:39.123Z","at_us":1796676939123456,)"
              R"("message":"no batch for 25 minutes"})"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(AlertEventJson(c.event), c.json) << c.event.kind;
  }
}

TEST(AlertNotifierJson, InvalidUtf8AndTimesBeforeTheEpoch) {
  AlertEvent e = Missed(1);
  e.message = "bad \xff byte";
  const nlohmann::json j = nlohmann::json::parse(AlertEventJson(e));
  EXPECT_EQ(j.at("message").get<std::string>(), "bad \xEF\xBF\xBD byte");

  EXPECT_EQ(AlertTimeText(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(AlertTimeText(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(AlertTimeText(1796676939123999), "2026-12-07T20:55:39.123Z");
}

TEST(AlertNotifierOptions, ValidateAndUrlDisplay) {
  AlertNotifierOptions o = FastOptions("https://hooks.example.com/x");
  EXPECT_TRUE(o.Validate().ok());
  for (const char* bad : {"", "hooks.example.com/x", "ftp://hooks.example.com/x", "http://"}) {
    o.url = bad;
    const Status st = o.Validate();
    EXPECT_FALSE(st.ok()) << bad;
  }
  o = FastOptions("https://user:s3cret@hooks.example.com:8443/a/b?token=t0ken#frag");
  EXPECT_TRUE(o.Validate().ok());
  o.max_tries = 0;
  EXPECT_FALSE(o.Validate().ok());

  EXPECT_EQ(AlertUrlDisplay("https://user:s3cret@hooks.example.com:8443/a/b?token=t0ken#frag"),
            "https://hooks.example.com:8443/a/b");
  EXPECT_EQ(AlertUrlDisplay("http://hooks.example.com"), "http://hooks.example.com/");
  EXPECT_EQ(AlertUrlDisplay("no url"), "(invalid URL)");
}

TEST(AlertNotifier, PostsTheJsonWithItsHeaders) {
  HookServer server(Script{});
  AlertNotifierOptions o = FastOptions(server.url("/hooks/sluice"));
  o.authorization = "Bearer abc123";
  AlertNotifier notifier(o);
  const AlertEvent e = Missed(7);
  notifier.Notify(e);
  notifier.Stop(milliseconds(5000));

  const std::vector<HookRequest> reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].path, "/hooks/sluice");
  EXPECT_EQ(reqs[0].Header("content-type"), "application/json");
  EXPECT_EQ(reqs[0].Header("user-agent"), "sluice");
  EXPECT_EQ(reqs[0].Header("authorization"), "Bearer abc123");
  EXPECT_EQ(reqs[0].Header("expect"), "");
  EXPECT_EQ(reqs[0].body, AlertEventJson(e));
  const AlertNotifier::Stats s = notifier.stats();
  EXPECT_EQ(s.sent, 1);
  EXPECT_EQ(s.retries, 0);
  EXPECT_EQ(s.failed, 0);
  EXPECT_EQ(s.dropped, 0);
}

TEST(AlertNotifier, RetriesServerErrorsWithBackoffUntilSent) {
  HookServer server(Script{500, 503, 200});
  const double sent0 = Alerts("missed", "sent");
  const double retries0 = Retries("missed");
  AlertNotifier notifier(FastOptions(server.url()));
  notifier.Notify(Missed(1));
  notifier.Notify(Missed(2));  // waits behind the first
  notifier.Stop(milliseconds(5000));

  const std::vector<HookRequest> reqs = server.requests();
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(BatchIdOf(reqs[0]), 1);
  EXPECT_EQ(BatchIdOf(reqs[1]), 1);
  EXPECT_EQ(BatchIdOf(reqs[2]), 1);
  EXPECT_EQ(BatchIdOf(reqs[3]), 2);
  // 10 ms, then doubled.
  EXPECT_GE(reqs[1].at - reqs[0].at, milliseconds(10));
  EXPECT_GE(reqs[2].at - reqs[1].at, milliseconds(20));
  const AlertNotifier::Stats s = notifier.stats();
  EXPECT_EQ(s.sent, 2);
  EXPECT_EQ(s.retries, 2);
  EXPECT_EQ(s.failed, 0);
  EXPECT_EQ(Alerts("missed", "sent") - sent0, 2);
  EXPECT_EQ(Retries("missed") - retries0, 2);
}

TEST(AlertNotifier, ClassifiesStatuses) {
  struct Case {
    int status;
    bool retried;
  } cases[] = {{400, false}, {401, false}, {403, false}, {404, false}, {410, false}, {301, false},
               {408, true},  {429, true},  {500, true},  {502, true},  {503, true},  {504, true}};
  for (const Case& c : cases) {
    HookServer server(Script{c.status, 200});
    const double failed0 = Alerts("missed", "failed");
    AlertNotifier notifier(FastOptions(server.url()));
    notifier.Notify(Missed(1));
    notifier.Stop(milliseconds(5000));
    const AlertNotifier::Stats s = notifier.stats();
    if (c.retried) {
      EXPECT_EQ(server.requests().size(), 2u) << c.status;
      EXPECT_EQ(s.sent, 1) << c.status;
      EXPECT_EQ(s.retries, 1) << c.status;
    } else {
      // Given up at once: a misconfigured hook will not fix itself.
      EXPECT_EQ(server.requests().size(), 1u) << c.status;
      EXPECT_EQ(s.failed, 1) << c.status;
      EXPECT_EQ(s.retries, 0) << c.status;
      EXPECT_EQ(Alerts("missed", "failed") - failed0, 1) << c.status;
    }
  }
}

TEST(AlertNotifier, GivesUpOn400AndGoesOnWithTheNextEvent) {
  HookServer server(Script{400, 200});
  CaptureLog log;
  AlertNotifier notifier(FastOptions(server.url("/hook?token=t0ken")));
  notifier.Notify(Missed(1));
  notifier.Notify(Missed(2));
  notifier.Stop(milliseconds(5000));
  const std::vector<HookRequest> reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(BatchIdOf(reqs[1]), 2);
  EXPECT_EQ(notifier.stats().failed, 1);
  EXPECT_EQ(notifier.stats().sent, 1);
  const std::string text = log.text();
  EXPECT_NE(text.find("given up after 1 try: HTTP 400"), std::string::npos) << text;
  EXPECT_NE(text.find(server.url("/hook")), std::string::npos) << text;
  EXPECT_EQ(text.find("t0ken"), std::string::npos) << text;
}

TEST(AlertNotifier, HonoursRetryAfterCappedByMaxBackoff) {
  {
    HookServer server(Script{{429, "Retry-After: 1\r\n"}, 200});
    AlertNotifierOptions o = FastOptions(server.url());
    o.max_backoff = milliseconds(5000);
    AlertNotifier notifier(o);
    notifier.Notify(Missed(1));
    notifier.Stop(milliseconds(5000));
    const std::vector<HookRequest> reqs = server.requests();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_GE(reqs[1].at - reqs[0].at, milliseconds(990));
    EXPECT_EQ(notifier.stats().sent, 1);
  }
  {
    // An hour asked; max_backoff (100 ms) caps it.
    HookServer server(Script{{503, "Retry-After: 3600\r\n"}, 200});
    AlertNotifier notifier(FastOptions(server.url()));
    notifier.Notify(Missed(1));
    notifier.Stop(milliseconds(5000));
    const std::vector<HookRequest> reqs = server.requests();
    ASSERT_EQ(reqs.size(), 2u);
    EXPECT_GE(reqs[1].at - reqs[0].at, milliseconds(100));
    EXPECT_LT(reqs[1].at - reqs[0].at, milliseconds(3000));
    EXPECT_EQ(notifier.stats().sent, 1);
  }
}

TEST(AlertNotifier, TimeoutIsRetriedAndBounded) {
  HookServer server(Script{}, HookAnswer::Hang());
  AlertNotifierOptions o = FastOptions(server.url());
  o.timeout = milliseconds(100);
  o.max_tries = 3;
  const double failed0 = Alerts("missed", "failed");
  AlertNotifier notifier(o);
  const auto start = Clock::now();
  notifier.Notify(Missed(1));
  ASSERT_TRUE(WaitUntil([&] { return notifier.stats().failed == 1; }));
  const auto took = Clock::now() - start;
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(notifier.stats().retries, 2);
  EXPECT_EQ(Alerts("missed", "failed") - failed0, 1);
  // Three tries of 100 ms and two short backoffs; far below the server's hang.
  EXPECT_GE(took, milliseconds(300));
  EXPECT_LT(took, milliseconds(4000));
}

TEST(AlertNotifier, NotifyNeverWaitsForAHangingHook) {
  HookServer server(Script{}, HookAnswer::Hang());
  AlertNotifierOptions o = FastOptions(server.url());
  o.timeout = milliseconds(60000);
  o.max_queued = 2000;
  AlertNotifier notifier(o);
  notifier.Notify(Missed(0));
  ASSERT_TRUE(server.WaitForRequests(1));
  // The first POST is held by the hook; 1000 more notifications return
  // while it still holds it.
  for (int i = 1; i <= 1000; ++i) notifier.Notify(Missed(i));
  EXPECT_EQ(server.answered(), 0);
  EXPECT_EQ(server.requests().size(), 1u);

  // Stop(0) cancels the POST in flight and gives the rest up at once.
  const auto start = Clock::now();
  notifier.Stop(milliseconds(0));
  EXPECT_LT(Clock::now() - start, milliseconds(2000));
  const AlertNotifier::Stats s = notifier.stats();
  EXPECT_EQ(s.failed, 1001);
  EXPECT_EQ(s.sent, 0);
  EXPECT_EQ(s.dropped, 0);
}

TEST(AlertNotifier, OverflowDropsTheOldest) {
  HookServer server(Script{}, HookAnswer::Hang());
  AlertNotifierOptions o = FastOptions(server.url());
  o.max_queued = 3;
  const double dropped0 = Alerts("missed", "dropped");
  AlertNotifier notifier(o);
  notifier.Notify(Missed(1));
  ASSERT_TRUE(server.WaitForRequests(1));  // 1 is in flight, not waiting
  for (int i = 2; i <= 6; ++i) notifier.Notify(Missed(i));
  EXPECT_EQ(notifier.stats().dropped, 2);  // 2 and 3
  server.Release();
  notifier.Stop(milliseconds(5000));

  const std::vector<HookRequest> reqs = server.requests();
  ASSERT_EQ(reqs.size(), 4u);
  std::vector<int64_t> ids;
  for (const HookRequest& r : reqs) ids.push_back(BatchIdOf(r));
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 4, 5, 6}));
  const AlertNotifier::Stats s = notifier.stats();
  EXPECT_EQ(s.sent, 4);
  EXPECT_EQ(s.dropped, 2);
  EXPECT_EQ(Alerts("missed", "dropped") - dropped0, 2);
}

TEST(AlertNotifier, StopWithGraceDeliversWhatIsQueued) {
  HookServer server(Script{500, 500});
  AlertNotifier notifier(FastOptions(server.url()));
  for (int i = 1; i <= 5; ++i) notifier.Notify(Missed(i));
  notifier.Stop(milliseconds(5000));
  const AlertNotifier::Stats s = notifier.stats();
  EXPECT_EQ(s.sent, 5);
  EXPECT_EQ(s.failed, 0);
  std::vector<int64_t> ids;
  for (const HookRequest& r : server.requests()) ids.push_back(BatchIdOf(r));
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 1, 1, 2, 3, 4, 5}));

  // Stopped: a later event is dropped, and Stop again is harmless.
  notifier.Notify(Missed(6));
  notifier.Stop(milliseconds(5000));
  EXPECT_EQ(notifier.stats().dropped, 1);
  EXPECT_EQ(server.requests().size(), 7u);
}

TEST(AlertNotifier, StopZeroInterruptsABackoff) {
  HookServer server(Script{}, 500);
  AlertNotifierOptions o = FastOptions(server.url());
  o.first_backoff = milliseconds(60000);
  o.max_backoff = milliseconds(60000);
  AlertNotifier notifier(o);
  notifier.Notify(Missed(1));
  notifier.Notify(Missed(2));
  ASSERT_TRUE(server.WaitForRequests(1));
  ASSERT_TRUE(WaitUntil([&] { return server.answered() == 1; }));
  const auto start = Clock::now();
  notifier.Stop(milliseconds(0));
  EXPECT_LT(Clock::now() - start, milliseconds(2000));
  const AlertNotifier::Stats s = notifier.stats();
  EXPECT_EQ(s.failed, 2);
  EXPECT_EQ(s.retries, 0);
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(AlertNotifier, UnreachablePortIsRetriedThenFailed) {
  AlertNotifierOptions o = FastOptions("http://127.0.0.1:" + std::to_string(UnusedPort()) + "/");
  o.max_tries = 3;
  const double retries0 = Retries("missed");
  AlertNotifier notifier(o);
  notifier.Notify(Missed(1));
  ASSERT_TRUE(WaitUntil([&] { return notifier.stats().failed == 1; }));
  const AlertNotifier::Stats s = notifier.stats();
  EXPECT_EQ(s.retries, 2);
  EXPECT_EQ(s.sent, 0);
  EXPECT_EQ(Retries("missed") - retries0, 2);
}

TEST(AlertNotifier, InvalidUrlFailsEachEventWithoutLeakingIt) {
  CaptureLog log;
  AlertNotifier notifier(FastOptions("ftp://user:s3cret@example.com/"));
  notifier.Notify(Missed(1));
  notifier.Stop(milliseconds(5000));
  EXPECT_EQ(notifier.stats().failed, 1);
  const std::string text = log.text();
  EXPECT_NE(text.find("http:// or https://"), std::string::npos) << text;
  EXPECT_EQ(text.find("s3cret"), std::string::npos) << text;
}

}  // namespace sluice::alert_notifier_test
