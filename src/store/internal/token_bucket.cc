#include "store/internal/token_bucket.h"

#include <algorithm>
#include <cmath>
#include <utility>

namespace sluice::internal {

TokenBuckets::TokenBuckets(double rate, std::function<int64_t()> now_us)
    : rate_(rate), now_us_(std::move(now_us)) {}

int64_t TokenBuckets::Acquire(const std::string& key) {
  if (rate_ <= 0) return 0;
  const int64_t now = now_us_();
  MutexLock lock(&mu_);
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{rate_, now});
  Bucket& b = it->second;
  if (!fresh && now > b.last_us) {
    b.tokens = std::min(rate_, b.tokens + static_cast<double>(now - b.last_us) * rate_ / 1e6);
    b.last_us = now;
  }
  b.tokens -= 1;
  if (b.tokens >= 0) return 0;
  // The deficit refills at `rate_` tokens per second.
  return static_cast<int64_t>(std::ceil(-b.tokens * 1e6 / rate_));
}

}  // namespace sluice::internal
