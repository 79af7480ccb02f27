#include "core/circuit_breaker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

namespace sluice {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using State = CircuitBreaker::State;

// A breaker on a fake clock the test moves by hand. (Names are specific to
// this file: the unity build compiles the layer's tests as one translation
// unit.)
struct BreakerOnFakeClock {
  std::atomic<int64_t> now_us{5'000'000};
  CircuitBreaker breaker;

  explicit BreakerOnFakeClock(int failures_to_open = 3, milliseconds open_for = milliseconds(1000),
                              milliseconds max_open_for = milliseconds(60'000))
      : breaker(CircuitBreaker::Options{failures_to_open, open_for, max_open_for,
                                        [this] { return now_us.load(); }}) {}

  void Advance(milliseconds d) { now_us += microseconds(d).count(); }
  void Fail(int times) {
    for (int i = 0; i < times; ++i) {
      ASSERT_TRUE(breaker.Allow());
      breaker.RecordFailure();
    }
  }
};

TEST(CircuitBreakerTest, StartsClosedAndAllowsEveryone) {
  BreakerOnFakeClock f;
  EXPECT_EQ(f.breaker.state(), State::kClosed);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(f.breaker.Allow());
  EXPECT_EQ(f.breaker.RetryIn(), microseconds(0));
  EXPECT_EQ(f.breaker.opened_total(), 0);
}

TEST(CircuitBreakerTest, OpensAfterConsecutiveFailures) {
  BreakerOnFakeClock f(3);
  f.Fail(2);
  EXPECT_EQ(f.breaker.state(), State::kClosed);
  f.Fail(1);
  EXPECT_EQ(f.breaker.state(), State::kOpen);
  EXPECT_EQ(f.breaker.opened_total(), 1);
}

TEST(CircuitBreakerTest, SuccessResetsTheFailureCount) {
  BreakerOnFakeClock f(3);
  f.Fail(2);
  ASSERT_TRUE(f.breaker.Allow());
  f.breaker.RecordSuccess();
  f.Fail(2);
  EXPECT_EQ(f.breaker.state(), State::kClosed);
  // A neutral outcome neither counts nor resets.
  ASSERT_TRUE(f.breaker.Allow());
  f.breaker.RecordNeutral();
  EXPECT_EQ(f.breaker.state(), State::kClosed);
  f.Fail(1);
  EXPECT_EQ(f.breaker.state(), State::kOpen);
}

TEST(CircuitBreakerTest, RefusesWhileOpenThenLetsOneProbeThrough) {
  BreakerOnFakeClock f(1, milliseconds(1000));
  f.Fail(1);
  EXPECT_FALSE(f.breaker.Allow());
  EXPECT_EQ(f.breaker.RetryIn(), milliseconds(1000));
  f.Advance(milliseconds(999));
  EXPECT_FALSE(f.breaker.Allow());
  EXPECT_EQ(f.breaker.RetryIn(), milliseconds(1));
  // Failures reported by calls let through before it opened change nothing.
  f.breaker.RecordFailure();
  EXPECT_EQ(f.breaker.RetryIn(), milliseconds(1));
  f.Advance(milliseconds(1));
  EXPECT_EQ(f.breaker.RetryIn(), microseconds(0));
  EXPECT_EQ(f.breaker.state(), State::kOpen);  // until someone asks
  EXPECT_TRUE(f.breaker.Allow());
  EXPECT_EQ(f.breaker.state(), State::kHalfOpen);
  EXPECT_FALSE(f.breaker.Allow());
  EXPECT_FALSE(f.breaker.Allow());
  // While the probe is out, callers are told to poll at the initial open time.
  EXPECT_EQ(f.breaker.RetryIn(), milliseconds(1000));
}

TEST(CircuitBreakerTest, SuccessfulProbeCloses) {
  BreakerOnFakeClock f(1, milliseconds(1000));
  f.Fail(1);
  f.Advance(milliseconds(1000));
  ASSERT_TRUE(f.breaker.Allow());
  f.breaker.RecordSuccess();
  EXPECT_EQ(f.breaker.state(), State::kClosed);
  EXPECT_TRUE(f.breaker.Allow());
  EXPECT_TRUE(f.breaker.Allow());
  EXPECT_EQ(f.breaker.opened_total(), 1);
}

TEST(CircuitBreakerTest, FailedProbeDoublesTheOpenTimeUpToTheMaximum) {
  BreakerOnFakeClock f(1, milliseconds(1000), milliseconds(5000));
  f.Fail(1);
  // Expected open time after the first opening and after each failed probe.
  const int64_t expected_ms[] = {1000, 2000, 4000, 5000, 5000};
  for (int64_t ms : expected_ms) {
    SCOPED_TRACE(ms);
    EXPECT_EQ(f.breaker.state(), State::kOpen);
    EXPECT_EQ(f.breaker.RetryIn(), milliseconds(ms));
    f.Advance(milliseconds(ms - 1));
    EXPECT_FALSE(f.breaker.Allow());
    f.Advance(milliseconds(1));
    ASSERT_TRUE(f.breaker.Allow());
    f.breaker.RecordFailure();
  }
  EXPECT_EQ(f.breaker.opened_total(), 6);

  // A success resets the open time: the next outage starts at 1 s again.
  f.Advance(milliseconds(5000));
  ASSERT_TRUE(f.breaker.Allow());
  f.breaker.RecordSuccess();
  f.Fail(1);
  EXPECT_EQ(f.breaker.RetryIn(), milliseconds(1000));
}

TEST(CircuitBreakerTest, NeutralOutcomeFreesTheProbeSlot) {
  BreakerOnFakeClock f(1, milliseconds(1000));
  f.Fail(1);
  f.Advance(milliseconds(1000));
  ASSERT_TRUE(f.breaker.Allow());
  EXPECT_FALSE(f.breaker.Allow());
  f.breaker.RecordNeutral();
  EXPECT_EQ(f.breaker.state(), State::kHalfOpen);
  EXPECT_EQ(f.breaker.RetryIn(), microseconds(0));
  EXPECT_TRUE(f.breaker.Allow());  // the next probe
  EXPECT_FALSE(f.breaker.Allow());
  EXPECT_EQ(f.breaker.opened_total(), 1);
}

TEST(CircuitBreakerTest, ExactlyOneProbeAmongManyThreads) {
  BreakerOnFakeClock f(1, milliseconds(1000));
  f.Fail(1);
  f.Advance(milliseconds(1000));
  const int kThreads = 8, kCallsPerThread = 1000;
  std::atomic<bool> go{false};
  std::atomic<int> allowed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      while (!go.load()) std::this_thread::yield();  // start together
      for (int c = 0; c < kCallsPerThread; ++c) {
        if (f.breaker.Allow()) allowed.fetch_add(1);
      }
    });
  }
  go.store(true);
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(allowed.load(), 1);
  EXPECT_EQ(f.breaker.state(), State::kHalfOpen);
}

TEST(CircuitBreakerTest, OptionsAreMadeSane) {
  // failures_to_open below 1 means 1; a maximum below the initial open time
  // is raised to it (the open time never shrinks).
  BreakerOnFakeClock f(0, milliseconds(2000), milliseconds(500));
  f.Fail(1);
  EXPECT_EQ(f.breaker.RetryIn(), milliseconds(2000));
  f.Advance(milliseconds(2000));
  ASSERT_TRUE(f.breaker.Allow());
  f.breaker.RecordFailure();
  EXPECT_EQ(f.breaker.RetryIn(), milliseconds(2000));
}

TEST(CircuitBreakerTest, StateNames) {
  EXPECT_EQ(CircuitBreaker::StateName(State::kClosed), "closed");
  EXPECT_EQ(CircuitBreaker::StateName(State::kOpen), "open");
  EXPECT_EQ(CircuitBreaker::StateName(State::kHalfOpen), "half_open");
}

TEST(CircuitBreakerTest, DefaultOptions) {
  CircuitBreaker breaker;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(breaker.Allow());
    breaker.RecordFailure();
  }
  EXPECT_EQ(breaker.state(), State::kClosed);
  ASSERT_TRUE(breaker.Allow());
  breaker.RecordFailure();
  EXPECT_EQ(breaker.state(), State::kOpen);
  EXPECT_FALSE(breaker.Allow());
  EXPECT_GT(breaker.RetryIn(), milliseconds(900));
  EXPECT_LE(breaker.RetryIn(), milliseconds(1000));
}

}  // namespace
}  // namespace sluice
