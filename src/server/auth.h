// Bearer-token authentication and per-token request rates of the HTTP API.
//
// Tokens are configured by their SHA-256 (pipeline/config.h ApiToken); a
// request's `Authorization: Bearer <token>` is hashed and looked up, compared
// in constant time. With no tokens configured authentication is off and
// every request is the admin "local": the service then listens on loopback
// only (CheckListenAddress). Rates: one token bucket per token (and one for
// "local"), refusals carry how long to wait (429 + Retry-After).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/rate_limit.h"
#include "core/status.h"
#include "pipeline/config.h"
#include "server/http.h"

namespace sluice::server {

class Authenticator {
 public:
  explicit Authenticator(const ServerConfig& config);

  bool enabled() const { return !tokens_.empty(); }

  // The principal for an Authorization header value ("" when absent).
  // kNotFound-free: an unknown or malformed credential is kInvalidArgument
  // ("invalid_token"), a missing one kFailedPrecondition ("missing_token");
  // both become 401.
  Result<Principal> Authenticate(const std::string& authorization) const;

  // True when `principal` may make one more request now; otherwise false and
  // `retry_after` says when it may.
  bool Admit(const Principal& principal, std::chrono::microseconds* retry_after);

 private:
  struct Entry {
    ApiToken token;
    Role role = Role::kNone;
    std::string digest;  // raw 32 bytes of the SHA-256
  };
  std::vector<Entry> tokens_;
  double rate_ = 0;
  double burst_ = 0;
  std::map<std::string, std::unique_ptr<TokenBucket>> buckets_;  // by principal name; fixed
};

// Refuses to listen beyond loopback without tokens: an embedded server on
// 127.0.0.1 needs none, one on 0.0.0.0 would serve anyone. `listen` is
// "host:port" ("[::1]:8080" for IPv6).
Status CheckListenAddress(const ServerConfig& config, const std::string& host);

// Splits "host:port" (and "[v6]:port"); port 0 = any free port.
Result<std::pair<std::string, int>> ParseListenAddress(const std::string& listen);

// A new random token (256 bits, base64url, prefixed "slc_") and its SHA-256 hex.
Result<std::pair<std::string, std::string>> NewToken();

}  // namespace sluice::server
