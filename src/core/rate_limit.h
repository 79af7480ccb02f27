// TokenBucket: a rate limit shared by several threads, e.g. every loader of
// one database output in a process, so that together they send at most
// `rate_per_second` units (rows, bytes, statements: the caller chooses) to it.
//
// The bucket holds up to `burst` tokens and refills continuously at the rate.
// A request takes its tokens at once, even when that drives the balance below
// zero, and then waits until the refill has paid the debt back. Two things
// follow from that reservation design:
//   - a request larger than `burst` is served (it waits (n - available) /
//     rate) instead of waiting forever for a bucket that can never hold it;
//   - requests are served in the order they reserve: a later caller sees the
//     debt of every earlier one and waits longer, so no thread is starved and
//     the long-run rate is exact however many threads share the bucket. Over
//     any interval of length t, at most burst + rate * t tokens are granted.
// Tokens reserved are spent even if the caller then does nothing with them.
//
// Threading: every method may be called from any thread. The lock is held only
// to reserve; Acquire sleeps outside it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "core/thread_annotations.h"

namespace sluice {

class TokenBucket {
 public:
  // Monotonic time in microseconds (any epoch).
  using Clock = std::function<int64_t()>;
  using Sleeper = std::function<void(std::chrono::microseconds)>;

  // REQUIRES: rate_per_second > 0 and finite, burst >= 0 (callers validate
  // user configuration before building a bucket). The bucket starts full, so
  // `burst` tokens are available at once; a common choice is one second's
  // worth (burst = rate_per_second). burst = 0 paces every request.
  // `now_us` defaults to std::chrono::steady_clock and `sleep` to
  // std::this_thread::sleep_for; tests pass fakes.
  TokenBucket(double rate_per_second, double burst, Clock now_us = nullptr,
              Sleeper sleep = nullptr);
  TokenBucket(const TokenBucket&) = delete;
  TokenBucket& operator=(const TokenBucket&) = delete;

  // Blocks until `n` tokens are the caller's (Reserve, then sleep for the
  // wait it returns). n <= 0 returns at once.
  void Acquire(double n) EXCLUDES(mu_);

  // Takes `n` tokens now, without blocking, and returns how long the caller
  // must wait before using them (zero if they were in the bucket). The
  // reservation cannot be cancelled: later callers queue behind it.
  std::chrono::microseconds Reserve(double n) EXCLUDES(mu_);

  // Takes `n` tokens only if the bucket holds them now: true. Otherwise
  // takes nothing and returns false with how long until it would hold them
  // (for a refusal's Retry-After). Callers that refuse work instead of
  // queueing it (an HTTP rate limit) use this.
  bool TryAcquire(double n, std::chrono::microseconds* retry_after) EXCLUDES(mu_);

  double rate() const { return rate_; }
  double burst() const { return burst_; }

 private:
  const double rate_;   // tokens per second
  const double burst_;  // capacity
  const Clock now_us_;
  const Sleeper sleep_;

  Mutex mu_;
  void RefillLocked() REQUIRES(mu_);

  // Tokens at `updated_us_`; negative while reservations are outstanding.
  double tokens_ GUARDED_BY(mu_);
  int64_t updated_us_ GUARDED_BY(mu_);
};

}  // namespace sluice
