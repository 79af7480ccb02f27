#include "engine/alert_notifier.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "core/metrics.h"

namespace sluice {

// A named namespace around the helpers: the engine is a unity build, so an
// anonymous namespace alone would share names with the other engine files.
namespace alert_notifier_internal {
namespace {

// What of a non-2xx answer's body goes into the give-up line.
constexpr size_t kMaxBodyInLog = 200;
// The longest a transfer waits between looks at Stop's deadline when nothing
// wakes it (Stop wakes it at once; this only bounds a missed wake-up).
constexpr std::chrono::milliseconds kMaxPollWait{1000};

void CurlGlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

metrics::Family<metrics::Counter>& AlertsTotal() {
  static metrics::Family<metrics::Counter>& family = metrics::Default().AddCounter(
      "sluice_alerts_total",
      "Alert webhook events by kind and how they ended: sent, failed (given up), dropped "
      "(queue full, or notified after stop).",
      {"kind", "outcome"});
  return family;
}

metrics::Family<metrics::Counter>& AlertRetriesTotal() {
  static metrics::Family<metrics::Counter>& family = metrics::Default().AddCounter(
      "sluice_alert_retries_total", "Alert webhook POSTs that repeated a failed one.", {"kind"});
  return family;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// Retry-After in its seconds form; the HTTP-date form is rare on webhooks
// and ignored (the exponential backoff applies).
std::optional<int64_t> ParseRetryAfterSeconds(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() &&
         (v.back() == ' ' || v.back() == '\t' || v.back() == '\r' || v.back() == '\n')) {
    v.remove_suffix(1);
  }
  if (v.empty() || v.size() > 9) return std::nullopt;
  int64_t seconds = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    seconds = seconds * 10 + (c - '0');
  }
  return seconds;
}

// What one response said, filled by the callbacks below.
struct Response {
  std::optional<int64_t> retry_after_s;
  std::string body;  // the first kMaxBodyInLog bytes
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<Response*>(user);
  const size_t len = size * n;
  if (r->body.size() < kMaxBodyInLog) {
    r->body.append(data, std::min(len, kMaxBodyInLog - r->body.size()));
  }
  return len;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<Response*>(user);
  const size_t len = size * n;
  std::string_view line(data, len);
  // A new status line starts a new response (an interim 1xx before the
  // final one): only the final response's headers count.
  if (StartsWithNoCase(line, "http/")) {
    r->retry_after_s.reset();
  } else if (StartsWithNoCase(line, "retry-after:")) {
    r->retry_after_s = ParseRetryAfterSeconds(line.substr(12));
  }
  return len;
}

// Transport errors that no new try will mend: the URL, the protocol, TLS
// verification, credentials. Everything else (refused or reset connections,
// timeouts, DNS, a server that hung up) is tried again: an event has at most
// max_tries tries, so retrying an odd error costs a few POSTs, while giving
// up wrongly loses the alert.
bool IsPermanentCurlError(CURLcode rc) {
  switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_LOGIN_DENIED:
    case CURLE_TOO_MANY_REDIRECTS:
      return true;
    default:
      return false;
  }
}

// The parts of `url` (nullopt when it does not parse): scheme, host, port
// ("" when not given) and path.
struct UrlParts {
  std::string scheme, host, port, path;
};

std::optional<UrlParts> ParseUrl(const std::string& url) {
  CURLU* u = curl_url();
  if (u == nullptr) return std::nullopt;
  std::optional<UrlParts> parts;
  if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK) {
    UrlParts p;
    bool ok = true;
    auto get = [&](CURLUPart part, std::string* out, bool required) {
      char* v = nullptr;
      if (curl_url_get(u, part, &v, 0) == CURLUE_OK && v != nullptr) {
        *out = v;
        curl_free(v);
      } else if (required) {
        ok = false;
      }
    };
    get(CURLUPART_SCHEME, &p.scheme, true);
    get(CURLUPART_HOST, &p.host, true);
    get(CURLUPART_PORT, &p.port, false);
    get(CURLUPART_PATH, &p.path, false);
    if (ok) parts = std::move(p);
  }
  curl_url_cleanup(u);
  return parts;
}

std::string StatusText(const Status& st) { return st.ok() ? std::string() : st.message(); }

}  // namespace
}  // namespace alert_notifier_internal

namespace ani = alert_notifier_internal;

std::string AlertTimeText(int64_t us) {
  const int64_t ms = ani::FloorDiv(us, 1000);
  const int64_t secs = ani::FloorDiv(ms, 1000);
  const auto millis = static_cast<int>(ms - secs * 1000);
  const auto t = static_cast<time_t>(secs);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return "";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

std::string AlertUrlDisplay(const std::string& url) {
  std::optional<ani::UrlParts> p = ani::ParseUrl(url);
  if (!p) return "(invalid URL)";
  std::string out = p->scheme + "://" + p->host;
  if (!p->port.empty()) out += ":" + p->port;
  out += p->path.empty() ? "/" : p->path;
  return out;
}

std::string AlertEventJson(const AlertEvent& e) {
  const bool at_risk = e.kind == "at_risk";
  const bool missed = e.kind == "missed";
  const bool stale = e.kind == "stale";
  const bool known = at_risk || missed || stale;
  // An unknown kind carries whatever is set.
  auto wanted = [&](bool applies, int64_t value) { return known ? applies : value != 0; };

  nlohmann::ordered_json j;
  j["kind"] = e.kind;
  j["pipeline"] = e.pipeline;
  if (wanted(at_risk || missed, e.batch_id)) j["batch_id"] = e.batch_id;
  if (wanted(at_risk || missed, e.deadline_us)) {
    j["deadline"] = AlertTimeText(e.deadline_us);
    j["deadline_us"] = e.deadline_us;
  }
  if (wanted(at_risk, e.estimate_us)) {
    j["estimate"] = AlertTimeText(e.estimate_us);
    j["estimate_us"] = e.estimate_us;
  }
  if (wanted(stale, e.last_batch_us)) {
    if (e.last_batch_us == 0) {
      j["last_batch"] = nullptr;
      j["last_batch_us"] = nullptr;
    } else {
      j["last_batch"] = AlertTimeText(e.last_batch_us);
      j["last_batch_us"] = e.last_batch_us;
    }
  }
  if (wanted(stale, e.expect_every_us)) {
    j["expect_every_us"] = e.expect_every_us;
    j["expect_every_seconds"] = static_cast<double>(e.expect_every_us) / 1e6;
  }
  j["at"] = AlertTimeText(e.at_us);
  j["at_us"] = e.at_us;
  j["message"] = e.message;
  // Invalid UTF-8 (a pipeline name, a message) becomes U+FFFD rather than
  // throwing.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

Status AlertNotifierOptions::Validate() const {
  std::optional<ani::UrlParts> p = ani::ParseUrl(url);
  // The messages never quote the URL: it may hold credentials.
  if (!p || (p->scheme != "http" && p->scheme != "https") || p->host.empty()) {
    return Status::InvalidArgument("alert webhook: url must be an http:// or https:// URL");
  }
  if (timeout.count() <= 0) return Status::InvalidArgument("alert webhook: timeout must be > 0");
  if (max_tries < 1) return Status::InvalidArgument("alert webhook: max_tries must be >= 1");
  if (first_backoff.count() <= 0 || max_backoff.count() <= 0) {
    return Status::InvalidArgument("alert webhook: backoffs must be > 0");
  }
  if (max_queued < 1) return Status::InvalidArgument("alert webhook: max_queued must be >= 1");
  return Status::OK();
}

// One easy handle (reused, so its connection is kept alive between events)
// driven through a multi handle, whose poll Stop can wake from another
// thread (curl_multi_wakeup) to cancel a POST in flight.
struct AlertNotifier::Transport {
  CURLM* multi = nullptr;
  CURL* easy = nullptr;

  Transport() {
    ani::CurlGlobalInit();
    multi = curl_multi_init();
    easy = curl_easy_init();
  }
  ~Transport() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    if (multi != nullptr) curl_multi_cleanup(multi);
  }
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;
};

struct AlertNotifier::PostResult {
  enum class Kind { kSent, kTransient, kPermanent, kCancelled };
  Kind kind = Kind::kTransient;
  std::optional<std::chrono::milliseconds> retry_after;
  std::string error;  // for the log: "HTTP 500: <body>" or libcurl's message
};

AlertNotifier::AlertNotifier(AlertNotifierOptions options)
    : options_(std::move(options)),
      url_display_(AlertUrlDisplay(options_.url)),
      invalid_options_(ani::StatusText(options_.Validate())),
      transport_(std::make_unique<Transport>()) {
  // Both families exist (at 0 for nothing) from the first notifier on.
  ani::AlertsTotal();
  ani::AlertRetriesTotal();
  thread_ = std::thread([this] { Run(); });
}

AlertNotifier::~AlertNotifier() { Stop(std::chrono::milliseconds(0)); }

void AlertNotifier::Notify(AlertEvent event) {
  std::optional<AlertEvent> dropped;
  bool stopped = false;
  size_t waiting = 0;
  {
    MutexLock lock(&mu_);
    if (stopping_) {
      stopped = true;
      dropped = std::move(event);
    } else {
      queue_.push_back(std::move(event));
      if (queue_.size() > std::max<size_t>(options_.max_queued, 1)) {
        dropped = std::move(queue_.front());
        queue_.pop_front();
      }
      waiting = queue_.size();
      cv_.SignalAll();
    }
    if (dropped) ++stats_.dropped;
  }
  if (!dropped) return;
  ani::AlertsTotal().With({dropped->kind, "dropped"}).Inc();
  if (stopped) {
    spdlog::warn("alert webhook {}: {} alert for pipeline {} dropped: the notifier is stopped",
                 url_display_, dropped->kind, dropped->pipeline);
  } else {
    spdlog::warn(
        "alert webhook {}: {} alerts waiting, dropped the oldest ({} alert for pipeline {}, "
        "raised at {})",
        url_display_, waiting, dropped->kind, dropped->pipeline, AlertTimeText(dropped->at_us));
  }
}

void AlertNotifier::Stop(std::chrono::milliseconds grace) {
  {
    MutexLock lock(&mu_);
    const auto deadline =
        std::chrono::steady_clock::now() + std::max(grace, std::chrono::milliseconds(0));
    if (!stopping_ || deadline < stop_deadline_) stop_deadline_ = deadline;
    stopping_ = true;
    cv_.SignalAll();
  }
  // Wakes a transfer's poll so it sees the deadline (a wake-up with no
  // transfer in flight makes the next poll return at once: harmless).
  if (transport_->multi != nullptr) curl_multi_wakeup(transport_->multi);
  MutexLock lock(&join_mu_);
  if (thread_.joinable()) thread_.join();
}

AlertNotifier::Stats AlertNotifier::stats() const {
  MutexLock lock(&mu_);
  return stats_;
}

std::chrono::steady_clock::time_point AlertNotifier::StopDeadline() const {
  MutexLock lock(&mu_);
  return stopping_ ? stop_deadline_ : std::chrono::steady_clock::time_point::max();
}

void AlertNotifier::CountOutcome(const std::string& kind, Outcome outcome) {
  {
    MutexLock lock(&mu_);
    ++(outcome == Outcome::kSent ? stats_.sent : stats_.failed);
  }
  ani::AlertsTotal().With({kind, outcome == Outcome::kSent ? "sent" : "failed"}).Inc();
}

void AlertNotifier::GiveUp(const AlertEvent& event, int tries, const std::string& why) {
  CountOutcome(event.kind, Outcome::kFailed);
  std::string batch = event.batch_id != 0 ? fmt::format(" batch {}", event.batch_id) : "";
  spdlog::warn("alert webhook {}: {} alert for pipeline {}{} given up after {} tr{}: {}",
               url_display_, event.kind, event.pipeline, batch, tries, tries == 1 ? "y" : "ies",
               why);
}

void AlertNotifier::Run() {
  for (;;) {
    AlertEvent event;
    std::vector<AlertEvent> given_up;
    {
      MutexLock lock(&mu_);
      while (queue_.empty() && !stopping_) cv_.Wait();
      if (queue_.empty()) return;  // stopping, and nothing is left to send
      if (stopping_ && std::chrono::steady_clock::now() >= stop_deadline_) {
        given_up.assign(std::make_move_iterator(queue_.begin()),
                        std::make_move_iterator(queue_.end()));
        queue_.clear();
      } else {
        event = std::move(queue_.front());
        queue_.pop_front();
      }
    }
    if (given_up.empty()) {
      Deliver(event);
      continue;
    }
    // One line for the lot: a stop with a full queue would log a thousand.
    for (const AlertEvent& e : given_up) CountOutcome(e.kind, Outcome::kFailed);
    spdlog::warn(
        "alert webhook {}: {} alert(s) not yet sent given up at stop (oldest: {} alert "
        "for pipeline {}, raised at {})",
        url_display_, given_up.size(), given_up.front().kind, given_up.front().pipeline,
        AlertTimeText(given_up.front().at_us));
    return;
  }
}

void AlertNotifier::Deliver(const AlertEvent& event) {
  if (!invalid_options_.empty()) {
    GiveUp(event, 0, invalid_options_);
    return;
  }
  const std::string body = AlertEventJson(event);
  std::chrono::milliseconds backoff =
      std::max(options_.first_backoff, std::chrono::milliseconds(1));
  const std::chrono::milliseconds max_backoff = std::max(options_.max_backoff, backoff);
  int tries = 0;
  std::string last_error;
  auto stopped = [&] {
    return last_error.empty() ? std::string("the notifier stopped first")
                              : last_error + "; then the notifier stopped";
  };
  for (;;) {
    if (std::chrono::steady_clock::now() >= StopDeadline()) {
      GiveUp(event, tries, stopped());
      return;
    }
    if (tries > 0) {
      {
        MutexLock lock(&mu_);
        ++stats_.retries;
      }
      ani::AlertRetriesTotal().With({event.kind}).Inc();
    }
    ++tries;
    PostResult r = Post(body);
    switch (r.kind) {
      case PostResult::Kind::kSent:
        CountOutcome(event.kind, Outcome::kSent);
        return;
      case PostResult::Kind::kPermanent:
        GiveUp(event, tries, r.error);
        return;
      case PostResult::Kind::kCancelled:
        GiveUp(event, tries, "POST cancelled: the notifier stopped");
        return;
      case PostResult::Kind::kTransient:
        break;
    }
    last_error = r.error;
    if (tries >= options_.max_tries) {
      GiveUp(event, tries, last_error);
      return;
    }
    const std::chrono::milliseconds wait =
        r.retry_after ? std::min(*r.retry_after, max_backoff) : backoff;
    backoff = std::min(backoff * 2, max_backoff);
    spdlog::debug("alert webhook {}: {} alert for pipeline {}: try {} failed ({}); again in {} ms",
                  url_display_, event.kind, event.pipeline, tries, last_error, wait.count());
    if (!WaitBackoff(wait)) {
      GiveUp(event, tries, stopped());
      return;
    }
  }
}

bool AlertNotifier::WaitBackoff(std::chrono::milliseconds d) {
  MutexLock lock(&mu_);
  const auto until = std::chrono::steady_clock::now() + d;
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    if (stopping_ && now >= stop_deadline_) return false;
    if (now >= until) return true;
    const auto end = stopping_ ? std::min(until, stop_deadline_) : until;
    cv_.WaitFor(end - now);
  }
}

AlertNotifier::PostResult AlertNotifier::Post(const std::string& body) {
  PostResult result;
  CURL* c = transport_->easy;
  CURLM* multi = transport_->multi;
  if (c == nullptr || multi == nullptr) {
    result.error = "libcurl could not be initialised";
    return result;
  }
  curl_easy_reset(c);
  ani::Response response;
  char error[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  // No "Expect: 100-continue" round trip before the body.
  headers = curl_slist_append(headers, "Expect:");
  if (!options_.authorization.empty()) {
    headers = curl_slist_append(headers, ("Authorization: " + options_.authorization).c_str());
  }
  const auto timeout_ms = static_cast<long>(options_.timeout.count());
  curl_easy_setopt(c, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "sluice");
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, ani::OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, ani::OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response);

  bool cancelled = false;
  CURLcode rc = CURLE_OK;
  CURLMcode mc = curl_multi_add_handle(multi, c);
  while (mc == CURLM_OK) {
    int running = 0;
    mc = curl_multi_perform(multi, &running);
    if (mc != CURLM_OK || running == 0) break;
    const auto now = std::chrono::steady_clock::now();
    const auto deadline = StopDeadline();
    if (now >= deadline) {
      cancelled = true;
      break;
    }
    auto wait = ani::kMaxPollWait;
    if (deadline - now < wait) {
      wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    }
    mc = curl_multi_poll(multi, nullptr, 0, static_cast<int>(wait.count()), nullptr);
  }
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
    if (msg->msg == CURLMSG_DONE && msg->easy_handle == c) rc = msg->data.result;
  }
  curl_multi_remove_handle(multi, c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  // The handle must not keep pointers to this frame (error buffer, header
  // list, callback data) until the next POST.
  curl_easy_reset(c);
  curl_slist_free_all(headers);

  if (cancelled) {
    result.kind = PostResult::Kind::kCancelled;
    return result;
  }
  if (mc != CURLM_OK) {
    result.error = std::string("libcurl: ") + curl_multi_strerror(mc);
    return result;
  }
  if (rc != CURLE_OK) {
    result.kind =
        ani::IsPermanentCurlError(rc) ? PostResult::Kind::kPermanent : PostResult::Kind::kTransient;
    result.error = error[0] != '\0' ? error : curl_easy_strerror(rc);
    return result;
  }
  if (status >= 200 && status < 300) {
    result.kind = PostResult::Kind::kSent;
    return result;
  }
  result.error = "HTTP " + std::to_string(status);
  if (!response.body.empty()) result.error += ": " + response.body;
  if (status == 408 || status == 429 || (status >= 500 && status < 600)) {
    result.kind = PostResult::Kind::kTransient;
    if ((status == 429 || status == 503) && response.retry_after_s) {
      result.retry_after = std::chrono::seconds(*response.retry_after_s);
    }
  } else {
    // Other 4xx: the hook refuses this request and would refuse it again.
    // 1xx as a final answer and 3xx (redirects are not followed: a POST
    // should not be replayed elsewhere unasked) say the URL is wrong.
    result.kind = PostResult::Kind::kPermanent;
  }
  return result;
}

}  // namespace sluice
