#include "store/s3_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>

#include "core/hash.h"
#include "core/thread_annotations.h"
#include "store/internal/s3_xml.h"
#include "store/internal/token_bucket.h"

namespace sluice {

namespace {

// Idle handles kept for reuse (each holds its own keep-alive connections).
constexpr size_t kMaxIdleHandles = 16;
// An error response body is read up to this size (S3's are a few hundred bytes).
constexpr size_t kMaxErrorBody = 64 << 10;

void GlobalInit() {
  // curl_global_init is not thread-safe in 7.88; once per process.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Transport errors that a new attempt may not meet (a refused or reset
// connection, a timeout, a server that hung up); the rest (a malformed URL,
// a certificate that does not verify) are permanent.
bool IsTransientCurlError(CURLcode rc) {
  switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_AGAIN:
      return true;
    default:
      return false;
  }
}

// S3 answers that a new attempt may not meet.
bool IsTransientHttp(long status, const std::string& code) {
  // 501 Not Implemented will not change on a retry.
  if ((status >= 500 && status != 501) || status == 429) return true;
  return code == "SlowDown" || code == "RequestTimeout" || code == "InternalError" ||
         code == "ServiceUnavailable" || code == "RequestTimeTooSkewed";
}

struct Transfer {
  const S3Request* request = nullptr;
  S3Response* response = nullptr;
  CURL* curl = nullptr;
  size_t body_offset = 0;  // bytes of request->body sent so far
  bool stopped = false;    // on_data asked to stop
};

size_t OnWrite(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * nmemb;
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  const bool success = status >= 200 && status < 300;
  if (success && t->request->on_data) {
    if (!t->request->on_data(status, data, n)) {
      t->stopped = true;
      return 0;  // ends the transfer (CURLE_WRITE_ERROR, not an error here)
    }
    return n;
  }
  if (!success && t->response->body.size() >= kMaxErrorBody) return n;
  t->response->body.append(data, n);
  return n;
}

size_t OnRead(char* buf, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::string_view body = t->request->body;
  const size_t n = std::min(size * nmemb, body.size() - t->body_offset);
  std::copy_n(body.data() + t->body_offset, n, buf);
  t->body_offset += n;
  return n;
}

// curl rewinds the body when it must resend it (a redirect, a 100-continue
// refused, an auth retry on the same connection).
int OnSeek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > t->request->body.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  t->body_offset = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t OnHeader(char* data, size_t size, size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * nmemb;
  std::string_view line(data, n);
  if (line.starts_with("HTTP/")) {
    // A new response (after a 100 Continue or a redirect): forget the last one's headers.
    t->response->headers.clear();
    return n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  t->response->headers[Lower(Trim(line.substr(0, colon)))] =
      std::string(Trim(line.substr(colon + 1)));
  return n;
}

}  // namespace

std::string S3UriEncode(std::string_view s, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string S3CanonicalQuery(std::vector<std::pair<std::string, std::string>> params) {
  for (auto& [k, v] : params) {
    k = S3UriEncode(k, false);
    v = S3UriEncode(v, false);
  }
  // SigV4 sorts by the encoded names (byte order), then values.
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out.push_back('&');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

struct S3Client::Handle {
  CURL* curl = nullptr;
  char error[CURL_ERROR_SIZE] = {};
  ~Handle() {
    if (curl != nullptr) curl_easy_cleanup(curl);
  }
};

struct S3Client::Shared {
  Shared(double rate, std::function<int64_t()> now) : buckets(rate, std::move(now)) {}
  Mutex mu;
  std::vector<std::unique_ptr<Handle>> idle GUARDED_BY(mu);
  std::mt19937_64 rng GUARDED_BY(mu){std::random_device{}()};
  internal::TokenBuckets buckets;
};

S3Client::S3Client(S3StoreConfig config)
    : config_(std::move(config)),
      userpwd_(config_.access_key + ":" + config_.secret_key),
      sigv4_("aws:amz:" + config_.region + ":s3"),
      shared_(std::make_unique<Shared>(config_.write_rate, [this] { return NowUs(); })) {
  GlobalInit();
}

S3Client::~S3Client() = default;

int64_t S3Client::NowUs() const {
  if (config_.TEST_now_us) return config_.TEST_now_us();
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void S3Client::SleepUs(int64_t us) const {
  if (us <= 0) return;
  if (config_.TEST_sleep_us) return config_.TEST_sleep_us(us);
  std::this_thread::sleep_for(std::chrono::microseconds(us));
}

std::string S3Client::FullKey(std::string_view key) const {
  if (config_.prefix.empty()) return std::string(key);
  std::string out = config_.prefix;
  out.push_back('/');
  out.append(key);
  return out;
}

std::string S3Client::Where(std::string_view full_key) const {
  return "s3://" + config_.bucket + "/" + std::string(full_key);
}

std::string S3Client::Url(const S3Request& request) const {
  std::string url;
  const std::string& ep = config_.endpoint;
  if (config_.path_style.value_or(true)) {
    url = ep + "/" + config_.bucket + "/";
  } else {
    const size_t host = ep.find("://");
    const size_t at = host == std::string::npos ? 0 : host + 3;
    url = ep.substr(0, at) + config_.bucket + "." + ep.substr(at) + "/";
  }
  url += S3UriEncode(request.key, /*keep_slash=*/true);
  if (!request.query.empty()) url += "?" + S3CanonicalQuery(request.query);
  return url;
}

std::unique_ptr<S3Client::Handle> S3Client::TakeHandle() {
  {
    MutexLock lock(&shared_->mu);
    if (!shared_->idle.empty()) {
      std::unique_ptr<Handle> h = std::move(shared_->idle.back());
      shared_->idle.pop_back();
      return h;
    }
  }
  auto h = std::make_unique<Handle>();
  h->curl = curl_easy_init();
  return h;
}

void S3Client::ReturnHandle(std::unique_ptr<Handle> handle) {
  MutexLock lock(&shared_->mu);
  if (shared_->idle.size() < kMaxIdleHandles) shared_->idle.push_back(std::move(handle));
}

Status S3Client::Perform(Handle& h, const S3Request& request, const std::string& url,
                         S3Response* response) {
  if (h.curl == nullptr) return Status::Internal("curl_easy_init failed");
  CURL* c = h.curl;
  // Reset keeps the handle's live connections and DNS cache.
  curl_easy_reset(c);
  Transfer t;
  t.request = &request;
  t.response = response;
  t.curl = c;
  h.error[0] = '\0';

  curl_slist* headers = nullptr;
  auto add = [&headers](const std::string& line) {
    headers = curl_slist_append(headers, line.c_str());
  };
  add("x-amz-content-sha256: " + Sha256Hex(request.body));
  if (!config_.session_token.empty()) add("x-amz-security-token: " + config_.session_token);
  for (const std::string& line : request.headers) add(line);

  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  // The path is signed as written: never let curl rewrite "." / ".." segments.
  curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h.error);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4_.c_str());
  curl_easy_setopt(c, CURLOPT_USERPWD, userpwd_.c_str());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnWrite);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config_.connect_timeout_ms));
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(config_.stall_timeout_s));
  if (!request.no_timeout && config_.request_timeout_ms > 0) {
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.request_timeout_ms));
  }
  if (request.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT") {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, OnRead);
    curl_easy_setopt(c, CURLOPT_READDATA, &t);
    curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, OnSeek);
    curl_easy_setopt(c, CURLOPT_SEEKDATA, &t);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method != "GET") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response->status);
  if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && t.stopped)) return Status::OK();
  response->status = 0;
  std::string msg = "S3 request to " + config_.endpoint + " failed: " + curl_easy_strerror(rc);
  if (h.error[0] != '\0') msg += std::string(" (") + h.error + ")";
  return IsTransientCurlError(rc) ? Status::Unavailable(std::move(msg))
                                  : Status::IOError(std::move(msg));
}

Result<S3Response> S3Client::Execute(const S3Request& request, std::string_view what) {
  const std::string url = Url(request);
  const std::string where = request.key.empty() ? "s3://" + config_.bucket : Where(request.key);
  for (int attempt = 0;; ++attempt) {
    if (request.is_write) SleepUs(shared_->buckets.Acquire(request.rate_key));
    if (request.on_attempt) request.on_attempt();
    S3Response response;
    std::unique_ptr<Handle> h = TakeHandle();
    Status st = Perform(*h, request, url, &response);
    ReturnHandle(std::move(h));
    bool transient = false;
    if (!st.ok()) {
      transient = st.code() == StatusCode::kUnavailable;
      st = Status(st.code(), "S3 " + std::string(what) + " " + where + ": " + st.message());
    } else if (response.status >= 200 && response.status < 300) {
      return response;
    } else {
      const std::string code = internal::XmlText(response.body, "Code");
      const std::string message = internal::XmlText(response.body, "Message");
      transient = IsTransientHttp(response.status, code);
      std::string detail = "HTTP " + std::to_string(response.status);
      if (!code.empty()) detail += " " + code;
      if (!message.empty()) detail += ": " + message;
      std::string text = "S3 " + std::string(what) + " " + where + ": " + detail;
      if (transient) {
        st = Status::Unavailable(std::move(text));
      } else if (response.status == 404 && code == "NoSuchBucket") {
        st = Status::FailedPrecondition("S3 bucket '" + config_.bucket + "' does not exist at " +
                                        config_.endpoint + " (" + std::string(what) + " " + where +
                                        ": " + detail + ")");
      } else if (response.status == 404) {
        st = Status::NotFound(std::move(text));
      } else if (response.status == 403) {
        st = Status::IOError(text + " (access denied: check the credentials, the region '" +
                             config_.region + "' and the bucket policy)");
      } else if (response.status == 416) {
        st = Status::DataLoss(text + " (range past the end of the object)");
      } else if (response.status == 412) {
        st = Status::Unavailable(text + " (the object changed while it was read)");
      } else if (response.status == 501) {
        st = Status::Unimplemented(text + " (the server does not implement this S3 API)");
      } else if (response.status == 400) {
        st = Status::InvalidArgument(std::move(text));
      } else {
        st = Status::IOError(std::move(text));
      }
    }
    if (!transient) return st;
    if (attempt >= config_.max_retries) {
      return Status::Unavailable(st.message() + " (gave up after " + std::to_string(attempt + 1) +
                                 " attempts)");
    }
    // Full jitter: a random wait up to the exponential cap, so that many
    // writers slowed down together do not come back together.
    const int64_t cap_ms = std::min<int64_t>(config_.retry_max_delay_ms,
                                             config_.retry_base_delay_ms << std::min(attempt, 30));
    int64_t wait_us = 0;
    {
      MutexLock lock(&shared_->mu);
      wait_us = std::uniform_int_distribution<int64_t>(0, cap_ms * 1000)(shared_->rng);
    }
    SleepUs(wait_us);
  }
}

}  // namespace sluice
