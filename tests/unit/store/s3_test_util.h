// Shared pieces of the S3 store tests: the test server's coordinates from the
// environment (scripts/test-services.sh), unique prefixes, byte patterns.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <string>

#include "store/s3_object_store.h"

namespace sluice::s3test {

inline const char* kStartServices =
    "the S3 test server is not configured: SLUICE_TEST_S3_ENDPOINT and SLUICE_TEST_S3_BUCKET "
    "must be set. Start it with\n  scripts/test-services.sh start /tmp/svc && set -a && "
    ". /tmp/svc/env && set +a\n(scripts/test.sh does this around ctest; stop it with "
    "scripts/test-services.sh stop /tmp/svc)";

// A prefix no other test (or earlier run) uses.
inline std::string UniquePrefix(const std::string& name) {
  static std::atomic<int> n{0};
  std::random_device rd;
  return "t-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 1000000) +
         "-" + std::to_string(++n);
}

// Deterministic bytes (a changing pattern, so misplaced ranges show).
inline std::string Pattern(size_t n, uint32_t seed = 1) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 12345;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1664525u + 1013904223u;
    s[i] = static_cast<char>(x >> 24);
  }
  return s;
}

// Config for the s3rver test server, or an empty bucket when not configured.
inline S3StoreConfig TestServerConfig(const std::string& prefix) {
  S3StoreConfig c;
  const char* ep = std::getenv("SLUICE_TEST_S3_ENDPOINT");
  const char* bucket = std::getenv("SLUICE_TEST_S3_BUCKET");
  if (ep == nullptr || bucket == nullptr || *ep == '\0' || *bucket == '\0') return c;
  c.endpoint = ep;
  c.bucket = bucket;
  c.prefix = prefix;
  c.region = "us-east-1";
  c.access_key = "S3RVER";
  c.secret_key = "S3RVER";
  c.retry_base_delay_ms = 10;
  c.max_retries = 3;
  return c;
}

}  // namespace sluice::s3test
