#include "core/circuit_breaker.h"

#include <algorithm>
#include <utility>

namespace sluice {

CircuitBreaker::CircuitBreaker() : CircuitBreaker(Options{}) {}

CircuitBreaker::CircuitBreaker(Options options)
    : failures_to_open_(std::max(options.failures_to_open, 1)),
      initial_open_for_(std::max(options.open_for, std::chrono::milliseconds(0))),
      max_open_for_(std::max(options.max_open_for, options.open_for)),
      now_us_(options.now_us ? std::move(options.now_us) : std::function<int64_t()>([] {
        return std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
      })),
      open_for_(initial_open_for_) {}

bool CircuitBreaker::Allow() {
  MutexLock lock(&mu_);
  switch (state_) {
    case State::kClosed:
      return true;
    case State::kOpen:
      if (now_us_() < open_until_us_) return false;
      state_ = State::kHalfOpen;
      probe_out_ = true;
      return true;
    case State::kHalfOpen:
      // One probe at a time: a service that is just coming back should not
      // meet every waiting caller at once.
      if (probe_out_) return false;
      probe_out_ = true;
      return true;
  }
  return false;
}

void CircuitBreaker::RecordSuccess() {
  MutexLock lock(&mu_);
  state_ = State::kClosed;
  consecutive_failures_ = 0;
  open_for_ = initial_open_for_;
  probe_out_ = false;
}

void CircuitBreaker::RecordFailure() {
  MutexLock lock(&mu_);
  switch (state_) {
    case State::kClosed:
      if (++consecutive_failures_ >= failures_to_open_) OpenAt(now_us_());
      return;
    case State::kOpen:
      // A call let through before the breaker opened; extending the open
      // time for it would punish the service twice for one outage.
      return;
    case State::kHalfOpen:
      // Back off harder while the outage lasts (capped, so a recovered
      // service is noticed within max_open_for).
      open_for_ = std::min(open_for_ * 2, max_open_for_);
      OpenAt(now_us_());
      return;
  }
}

void CircuitBreaker::RecordNeutral() {
  MutexLock lock(&mu_);
  if (state_ == State::kHalfOpen) probe_out_ = false;
}

void CircuitBreaker::OpenAt(int64_t now) {
  state_ = State::kOpen;
  open_until_us_ = now + open_for_.count();
  consecutive_failures_ = 0;
  probe_out_ = false;
  ++opened_total_;
}

CircuitBreaker::State CircuitBreaker::state() const {
  MutexLock lock(&mu_);
  return state_;
}

std::string_view CircuitBreaker::StateName(State state) {
  switch (state) {
    case State::kClosed:
      return "closed";
    case State::kOpen:
      return "open";
    case State::kHalfOpen:
      return "half_open";
  }
  return "unknown";
}

int64_t CircuitBreaker::opened_total() const {
  MutexLock lock(&mu_);
  return opened_total_;
}

std::chrono::microseconds CircuitBreaker::RetryIn() const {
  MutexLock lock(&mu_);
  switch (state_) {
    case State::kClosed:
      return std::chrono::microseconds(0);
    case State::kOpen:
      return std::chrono::microseconds(std::max<int64_t>(open_until_us_ - now_us_(), 0));
    case State::kHalfOpen:
      return probe_out_ ? initial_open_for_ : std::chrono::microseconds(0);
  }
  return std::chrono::microseconds(0);
}

}  // namespace sluice
