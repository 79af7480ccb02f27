// S3Client: the HTTP layer of the S3 store. Builds URLs and canonical query
// strings, lets libcurl sign each request (SigV4), retries what may pass,
// limits the write rate per key prefix, and maps S3 errors to Status.
//
// Signing: curl's CURLOPT_AWS_SIGV4 signs the request exactly as written, so
// this layer writes it in canonical form: the object key in the path
// URI-encoded per S3 (RFC 3986 unreserved characters kept, '/' kept, all
// else %XX), the query string sorted by key with keys and values encoded the
// same way but '/' encoded too. Curl signs host, x-amz-date and every header
// set here; x-amz-content-sha256 is the hex SHA-256 of the body (bodies are
// always in memory: a part or a small object), x-amz-security-token is sent
// when there is a session token.
//
// Connections: a pool of curl easy handles, each reused (keep-alive) by one
// request at a time. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "store/s3_object_store.h"

namespace sluice {

struct S3Request {
  std::string method = "GET";
  // Full S3 key (the store prefix included), not encoded; "" addresses the bucket.
  std::string key;
  // Query parameters, not encoded; sorted and encoded by the client. A
  // parameter without a value ("uploads", "delete") has an empty value.
  std::vector<std::pair<std::string, std::string>> query;
  // Extra headers, "Name: value".
  std::vector<std::string> headers;
  // Request body (PUT, POST); kept by the caller until Execute returns, so
  // every retry resends it.
  std::string_view body;
  // A write (PUT, POST, DELETE): waits for the write rate limit of `rate_key`.
  bool is_write = false;
  std::string rate_key;
  // For a successful (2xx) response: receives the HTTP status and the body in
  // pieces instead of S3Response::body; returns false to stop the transfer
  // early (not an error). `on_attempt` runs before every attempt, so a retry
  // starts clean.
  std::function<bool(long, const char*, size_t)> on_data;
  std::function<void()> on_attempt;
  // No overall time limit (a streaming read); the stall timeout still applies.
  bool no_timeout = false;
};

struct S3Response {
  long status = 0;
  std::string body;                            // the body unless on_data took it
  std::map<std::string, std::string> headers;  // lower-cased names
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class S3Client {
 public:
  // `config` must be resolved (ResolveS3Config) and valid.
  explicit S3Client(S3StoreConfig config);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // Sends the request, retrying transient failures; a non-2xx final answer
  // is an error Status (see MapError). `what` describes the operation for
  // messages ("read", "list", ...).
  Result<S3Response> Execute(const S3Request& request, std::string_view what);

  // The full S3 key of a store key ("<prefix>/<key>").
  std::string FullKey(std::string_view key) const;
  // "s3://bucket/<full key>" for messages.
  std::string Where(std::string_view full_key) const;
  const S3StoreConfig& config() const { return config_; }

  // The request URL (exposed for tests).
  std::string Url(const S3Request& request) const;

 private:
  struct Handle;
  std::unique_ptr<Handle> TakeHandle();
  void ReturnHandle(std::unique_ptr<Handle> handle);
  // One attempt. On a transport error returns it (retryable) with
  // response->status 0.
  Status Perform(Handle& h, const S3Request& request, const std::string& url, S3Response* response);
  int64_t NowUs() const;
  void SleepUs(int64_t us) const;

  const S3StoreConfig config_;
  const std::string userpwd_;
  const std::string sigv4_;
  struct Shared;
  std::unique_ptr<Shared> shared_;
};

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters
// (A-Z a-z 0-9 - _ . ~) kept, every other byte %XX (upper-case hex); '/'
// kept only if `keep_slash`.
std::string S3UriEncode(std::string_view s, bool keep_slash);
// The canonical query string of `params`: sorted by encoded key (then value),
// "k=v" joined by '&'.
std::string S3CanonicalQuery(std::vector<std::pair<std::string, std::string>> params);

}  // namespace sluice
