#include "core/rate_limit.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <thread>
#include <utility>

namespace sluice {

TokenBucket::TokenBucket(double rate_per_second, double burst, Clock now_us, Sleeper sleep)
    : rate_(rate_per_second),
      burst_(std::max(burst, 0.0)),
      now_us_(now_us ? std::move(now_us) : Clock([] {
        return std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
      })),
      sleep_(sleep ? std::move(sleep)
                   : Sleeper([](std::chrono::microseconds d) { std::this_thread::sleep_for(d); })),
      tokens_(burst_),  // starts full
      updated_us_(now_us_()) {
  assert(rate_per_second > 0 && std::isfinite(rate_per_second));
  assert(burst >= 0);
}

void TokenBucket::Acquire(double n) {
  const std::chrono::microseconds wait = Reserve(n);
  if (wait.count() > 0) sleep_(wait);
}

void TokenBucket::RefillLocked() {
  // Read the clock under the lock: reservations must see non-decreasing
  // times in the order they take the lock, or a thread preempted between
  // reading the clock and locking would refill the bucket a second time.
  const int64_t now = now_us_();
  // An injected clock that steps back must not refill (or drain) anything.
  if (now > updated_us_) {
    tokens_ = std::min(burst_, tokens_ + static_cast<double>(now - updated_us_) * rate_ / 1e6);
    updated_us_ = now;
  }
}

bool TokenBucket::TryAcquire(double n, std::chrono::microseconds* retry_after) {
  *retry_after = std::chrono::microseconds(0);
  if (!(n > 0)) return true;
  MutexLock lock(&mu_);
  RefillLocked();
  if (tokens_ >= n) {
    tokens_ -= n;
    return true;
  }
  const double wait_us = std::min(std::ceil((n - tokens_) * 1e6 / rate_), 1e15);
  *retry_after = std::chrono::microseconds(static_cast<int64_t>(wait_us));
  return false;
}

std::chrono::microseconds TokenBucket::Reserve(double n) {
  if (!(n > 0)) return std::chrono::microseconds(0);  // also NaN
  MutexLock lock(&mu_);
  RefillLocked();
  tokens_ -= n;
  if (tokens_ >= 0) return std::chrono::microseconds(0);
  // Round up: waking a microsecond late only leaves the surplus in the
  // bucket for the next caller, waking early would exceed the rate. The cap
  // (about 30 years) keeps an absurd request from overflowing the cast.
  const double wait_us = std::min(std::ceil(-tokens_ * 1e6 / rate_), 1e15);
  return std::chrono::microseconds(static_cast<int64_t>(wait_us));
}

}  // namespace sluice
