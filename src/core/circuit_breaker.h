// CircuitBreaker: stops every caller in a process from hammering one remote
// service (a database) that is down, and lets one caller at a time find out
// when it is back.
//
//   closed     normal: every call is allowed. `failures_to_open` transient
//              failures in a row open the breaker.
//   open       every call is refused until the open time has passed; the
//              first Allow() after that moves to half_open and is the probe.
//   half_open  exactly one call (the probe) is out; everyone else is refused.
//              Its success closes the breaker; its failure opens it again
//              for twice as long as before (up to `max_open_for`).
//
// How callers report: every Allow() that returned true is followed by exactly
// one of
//   RecordSuccess()  the service answered. That includes a permanent error
//                    (bad data, a constraint violation, a missing table): only
//                    a live server can return one, so it proves the service
//                    is up and must close the breaker, not count against it.
//   RecordFailure()  a transient failure that suggests the service is down or
//                    overloaded (refused connection, timeout, kUnavailable).
//   RecordNeutral()  the call ended before it reached the service (the caller
//                    was cancelled, or gave up on something local), so it says
//                    nothing either way. It only frees the probe slot.
// The breaker does not tell one caller's report from another's: in half_open,
// a failure reported by a call that was allowed before the breaker opened is
// taken for the probe's, which is harmless (it is more evidence the service
// is down); a late success closes the breaker, which is right (the service
// answered); a late RecordNeutral() frees the probe slot early, so a second
// probe may go out. Telling them apart would need a ticket from Allow().
//
// Threading: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string_view>

#include "core/thread_annotations.h"

namespace sluice {

class CircuitBreaker {
 public:
  enum class State { kClosed, kOpen, kHalfOpen };

  struct Options {
    // Transient failures in a row, while closed, that open the breaker (a
    // success in between starts the count again). Values below 1 mean 1.
    int failures_to_open = 3;
    // How long the breaker stays open the first time it opens.
    std::chrono::milliseconds open_for{1000};
    // Each failed probe doubles the open time, up to this (raised to
    // open_for if it is smaller).
    std::chrono::milliseconds max_open_for{60'000};
    // Monotonic clock in microseconds; empty: std::chrono::steady_clock.
    // Tests set it rather than sleep.
    std::function<int64_t()> now_us;
  };

  CircuitBreaker();
  explicit CircuitBreaker(Options options);
  CircuitBreaker(const CircuitBreaker&) = delete;
  CircuitBreaker& operator=(const CircuitBreaker&) = delete;

  // Whether the caller may contact the service now. True while closed; while
  // open, false until the open time has passed, then true for exactly one
  // caller (the probe, which moves the breaker to half_open); false for
  // everyone else while the probe is out. A caller that gets true must report
  // the outcome with one of the Record* methods.
  bool Allow() EXCLUDES(mu_);

  // The service answered (permanent errors included, see above): closes the
  // breaker from any state and resets the failure count and the open time.
  void RecordSuccess() EXCLUDES(mu_);
  // A transient failure. Closed: counts towards failures_to_open. Half-open:
  // the probe failed; opens again for twice the last open time (capped).
  // Open: ignored (a call allowed before the breaker opened).
  void RecordFailure() EXCLUDES(mu_);
  // The call ended without contacting the service. Half-open: the probe slot
  // is free again, so the next Allow() sends a new probe; nothing else
  // changes.
  void RecordNeutral() EXCLUDES(mu_);

  // The state as last changed by a call: an open breaker whose time has
  // passed still reports kOpen until a caller's Allow() starts the probe.
  State state() const EXCLUDES(mu_);
  static std::string_view StateName(State state);  // "closed", "open", "half_open"
  // How many times the breaker has opened (reopening after a failed probe
  // counts), for metrics.
  int64_t opened_total() const EXCLUDES(mu_);
  // How long until Allow() may return true: zero when closed, or when a probe
  // may be sent now; the time left when open. While a probe is out the
  // outcome is not foreseeable, so this returns the initial open_for, as a
  // polling interval.
  std::chrono::microseconds RetryIn() const EXCLUDES(mu_);

 private:
  // Moves to open for open_for_ from `now`.
  void OpenAt(int64_t now) REQUIRES(mu_);

  const int failures_to_open_;
  const std::chrono::microseconds initial_open_for_;
  const std::chrono::microseconds max_open_for_;
  const std::function<int64_t()> now_us_;

  mutable Mutex mu_;
  State state_ GUARDED_BY(mu_) = State::kClosed;
  int consecutive_failures_ GUARDED_BY(mu_) = 0;
  // The open time used the last time the breaker opened; doubles per failed probe.
  std::chrono::microseconds open_for_ GUARDED_BY(mu_);
  int64_t open_until_us_ GUARDED_BY(mu_) = 0;
  bool probe_out_ GUARDED_BY(mu_) = false;
  int64_t opened_total_ GUARDED_BY(mu_) = 0;
};

}  // namespace sluice
