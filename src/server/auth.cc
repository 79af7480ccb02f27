#include "server/auth.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <charconv>

#include "core/hash.h"
#include "core/value_text.h"

namespace sluice::server {

namespace {

std::string HexToBytes(const std::string& hex) {
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    unsigned v = 0;
    std::from_chars(hex.data() + i, hex.data() + i + 2, v, 16);
    out[i / 2] = static_cast<char>(v);
  }
  return out;
}

constexpr const char* kLocal = "local";

}  // namespace

Authenticator::Authenticator(const ServerConfig& config)
    : rate_(config.rate), burst_(config.burst) {
  for (const ApiToken& t : config.tokens) {
    auto role = ParseRole(t.role);
    tokens_.push_back(Entry{t, role.ok() ? *role : Role::kNone, HexToBytes(t.sha256)});
  }
  if (rate_ > 0) {
    buckets_[kLocal] = std::make_unique<TokenBucket>(rate_, burst_);
    for (const Entry& e : tokens_) {
      buckets_[e.token.name] = std::make_unique<TokenBucket>(rate_, burst_);
    }
  }
}

Result<Principal> Authenticator::Authenticate(const std::string& authorization) const {
  if (tokens_.empty()) return Principal{kLocal, Role::kAdmin, {}};
  std::string_view h = TrimBlanks(authorization);
  if (h.empty()) {
    return Status::FailedPrecondition(
        "this API needs a bearer token: send 'Authorization: Bearer <token>'");
  }
  if (h.size() < 7 || !EqualsIgnoreCase(h.substr(0, 7), "bearer ")) {
    return Status::InvalidArgument("the Authorization header must be 'Bearer <token>'");
  }
  const std::string token(TrimBlanks(h.substr(7)));
  const std::string digest = HexToBytes(Sha256Hex(token));
  const Entry* found = nullptr;
  // Every entry is compared, in constant time, whether or not one matched.
  for (const Entry& e : tokens_) {
    if (CRYPTO_memcmp(e.digest.data(), digest.data(), digest.size()) == 0) found = &e;
  }
  if (found == nullptr) return Status::InvalidArgument("unknown or revoked token");
  return Principal{found->token.name, found->role, found->token.tables};
}

bool Authenticator::Admit(const Principal& principal, std::chrono::microseconds* retry_after) {
  *retry_after = std::chrono::microseconds(0);
  auto it = buckets_.find(principal.name);
  if (it == buckets_.end()) return true;
  return it->second->TryAcquire(1, retry_after);
}

Result<std::pair<std::string, int>> ParseListenAddress(const std::string& listen) {
  std::string host;
  std::string port_text;
  if (listen.starts_with("[")) {
    const size_t close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':') {
      return Status::InvalidArgument("server.listen: expected [ipv6]:port, got '" + listen + "'");
    }
    host = listen.substr(1, close - 1);
    port_text = listen.substr(close + 2);
  } else {
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos) {
      return Status::InvalidArgument("server.listen: expected host:port, got '" + listen + "'");
    }
    host = listen.substr(0, colon);
    port_text = listen.substr(colon + 1);
  }
  int port = -1;
  auto r = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (host.empty() || r.ec != std::errc() || r.ptr != port_text.data() + port_text.size() ||
      port < 0 || port > 65535) {
    return Status::InvalidArgument("server.listen: expected host:port with a port 0-65535, got '" +
                                   listen + "'");
  }
  return std::make_pair(host, port);
}

Status CheckListenAddress(const ServerConfig& config, const std::string& host) {
  const bool loopback =
      host == "127.0.0.1" || host == "::1" || host == "localhost" || host.starts_with("127.");
  if (loopback || !config.tokens.empty()) return Status::OK();
  return Status::FailedPrecondition(
      "refusing to listen on " + host +
      " without authentication: configure server.tokens in sluice.yaml (`sluice token` makes "
      "one), or listen on 127.0.0.1");
}

Result<std::pair<std::string, std::string>> NewToken() {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof(raw)) != 1) {
    return Status::Internal("no random bytes for a token (OpenSSL RAND_bytes failed)");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token = "slc_";
  for (unsigned char c : raw) {
    token += kHex[c >> 4];
    token += kHex[c & 15];
  }
  return std::make_pair(token, Sha256Hex(token));
}

}  // namespace sluice::server
