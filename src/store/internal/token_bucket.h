// A token bucket per key: at most `rate` acquisitions per second per key, in
// bursts of up to `rate` (one second's worth). Acquire reserves a token at
// once (the balance may go negative) and returns how long the caller must
// wait before using it, so waiting happens outside the lock and waiters are
// served in the order they asked. The clock is injectable for tests.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "core/thread_annotations.h"

namespace sluice::internal {

class TokenBuckets {
 public:
  // rate <= 0: no limit. now_us: a monotonic clock in microseconds.
  TokenBuckets(double rate, std::function<int64_t()> now_us);

  // Takes a token for `key`; returns the microseconds to wait before the
  // request may go (0 if a token was at hand).
  int64_t Acquire(const std::string& key);

 private:
  struct Bucket {
    double tokens;
    int64_t last_us;
  };
  const double rate_;
  const std::function<int64_t()> now_us_;
  Mutex mu_;
  std::map<std::string, Bucket> buckets_ GUARDED_BY(mu_);
};

}  // namespace sluice::internal
