#include "core/rate_limit.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

#include "core/clock.h"

namespace sluice {
namespace {

using std::chrono::microseconds;

// Fake time for one bucket: the sleeper advances the clock by exactly what it
// was asked to sleep, so a test runs in no real time and its elapsed fake time
// is what the bucket made the caller wait. (Names are specific to this file:
// the unity build compiles the layer's tests as one translation unit.)
struct BucketFakeTime {
  int64_t now_us = 1'000'000;  // not 0: a zero epoch would hide offset bugs
  int64_t slept_us = 0;
  int sleeps = 0;

  TokenBucket::Clock Clock() {
    return [this] { return now_us; };
  }
  TokenBucket::Sleeper Sleeper() {
    return [this](microseconds d) {
      now_us += d.count();
      slept_us += d.count();
      ++sleeps;
    };
  }
};

TEST(TokenBucketTest, BurstIsAvailableAtOnce) {
  BucketFakeTime t;
  TokenBucket bucket(100, 50, t.Clock(), t.Sleeper());
  EXPECT_EQ(bucket.rate(), 100);
  EXPECT_EQ(bucket.burst(), 50);
  for (int i = 0; i < 5; ++i) bucket.Acquire(10);
  EXPECT_EQ(t.sleeps, 0);
  // The bucket is empty now: the next token costs 1/rate.
  EXPECT_EQ(bucket.Reserve(1), microseconds(10'000));
}

TEST(TokenBucketTest, TryAcquireRefusesWithoutTakingAndSaysWhenToComeBack) {
  BucketFakeTime t;
  TokenBucket bucket(10, 2, t.Clock(), t.Sleeper());
  microseconds retry{-1};
  EXPECT_TRUE(bucket.TryAcquire(1, &retry));
  EXPECT_EQ(retry.count(), 0);
  EXPECT_TRUE(bucket.TryAcquire(1, &retry));
  // Empty: refused, nothing taken, back in 1/10 s.
  EXPECT_FALSE(bucket.TryAcquire(1, &retry));
  EXPECT_EQ(retry.count(), 100'000);
  EXPECT_FALSE(bucket.TryAcquire(1, &retry));
  EXPECT_EQ(retry.count(), 100'000);  // the refusal took nothing
  t.now_us += 50'000;
  EXPECT_FALSE(bucket.TryAcquire(1, &retry));
  EXPECT_EQ(retry.count(), 50'000);
  t.now_us += 50'000;
  EXPECT_TRUE(bucket.TryAcquire(1, &retry));
  EXPECT_EQ(t.sleeps, 0);  // never sleeps
}

TEST(TokenBucketTest, RefillsAtTheRateUpToTheBurst) {
  BucketFakeTime t;
  TokenBucket bucket(100, 50, t.Clock(), t.Sleeper());
  EXPECT_EQ(bucket.Reserve(50), microseconds(0));
  t.now_us += 200'000;  // 20 tokens back
  EXPECT_EQ(bucket.Reserve(20), microseconds(0));
  EXPECT_EQ(bucket.Reserve(1), microseconds(10'000));
  // A long idle period does not bank more than one burst (the debt of the
  // last reservation is paid first).
  t.now_us += 3'600'000'000;
  EXPECT_EQ(bucket.Reserve(50), microseconds(0));
  EXPECT_EQ(bucket.Reserve(1), microseconds(10'000));
}

TEST(TokenBucketTest, SteadyStateRateIsExact) {
  BucketFakeTime t;
  const double rate = 1000, burst = 100, n = 37;
  const int kCalls = 10'000;
  TokenBucket bucket(rate, burst, t.Clock(), t.Sleeper());
  const int64_t start = t.now_us;
  for (int i = 1; i <= kCalls; ++i) {
    bucket.Acquire(n);
    // Never more than burst + rate * elapsed granted by the time a caller
    // returns: the limit holds at every point, not just on average.
    const double elapsed_s = static_cast<double>(t.now_us - start) / 1e6;
    ASSERT_LE(i * n, burst + rate * elapsed_s + 1e-6) << "call " << i;
  }
  const double elapsed_s = static_cast<double>(t.now_us - start) / 1e6;
  // 370 s of tokens, of which one burst was free; rounding waits up to whole
  // microseconds must not add up over the calls.
  EXPECT_GE(elapsed_s, kCalls * n / rate - burst / rate);
  EXPECT_LE(elapsed_s, kCalls * n / rate - burst / rate + 0.001);
}

TEST(TokenBucketTest, RequestLargerThanBurstGoesIntoDebt) {
  BucketFakeTime t;
  TokenBucket bucket(100, 10, t.Clock(), t.Sleeper());
  // 10 tokens in the bucket, 100 more at 100/s.
  bucket.Acquire(110);
  EXPECT_EQ(t.slept_us, 1'000'000);
  // The debt is paid exactly: the bucket is empty, not negative.
  EXPECT_EQ(bucket.Reserve(1), microseconds(10'000));

  BucketFakeTime t2;
  TokenBucket bucket2(100, 10, t2.Clock(), t2.Sleeper());
  bucket2.Acquire(10);
  bucket2.Acquire(500);  // none left: 500 / rate
  EXPECT_EQ(t2.slept_us, 5'000'000);
}

TEST(TokenBucketTest, ReservationsAreServedInOrder) {
  BucketFakeTime t;
  TokenBucket bucket(100, 10, t.Clock(), t.Sleeper());
  // Without the clock moving, each reservation queues behind the debt of the
  // ones before it, whatever their sizes.
  EXPECT_EQ(bucket.Reserve(10), microseconds(0));
  EXPECT_EQ(bucket.Reserve(50), microseconds(500'000));
  EXPECT_EQ(bucket.Reserve(1), microseconds(510'000));
  EXPECT_EQ(bucket.Reserve(100), microseconds(1'510'000));
  t.now_us += 1'000'000;
  EXPECT_EQ(bucket.Reserve(1), microseconds(520'000));
}

TEST(TokenBucketTest, ZeroBurstPacesEveryRequest) {
  BucketFakeTime t;
  TokenBucket bucket(1000, 0, t.Clock(), t.Sleeper());
  EXPECT_EQ(bucket.Reserve(1), microseconds(1'000));
  EXPECT_EQ(bucket.Reserve(0), microseconds(0));
  EXPECT_EQ(bucket.Reserve(-5), microseconds(0));
}

TEST(TokenBucketTest, ClockSteppingBackRefillsNothing) {
  BucketFakeTime t;
  TokenBucket bucket(100, 10, t.Clock(), t.Sleeper());
  EXPECT_EQ(bucket.Reserve(10), microseconds(0));
  t.now_us -= 500'000;
  EXPECT_EQ(bucket.Reserve(1), microseconds(10'000));
}

TEST(TokenBucketTest, ThreadsTogetherStayWithinTheRate) {
  // Real threads and the real clock. The lower bound is the point: 4 threads
  // must not get more than burst + rate * elapsed between them. The upper
  // bound only catches a bucket that stalls; it is loose so that a loaded
  // 2-core machine under a sanitizer cannot make it flake.
  const double rate = 200'000, burst = 2'000, n = 100;
  const int kThreads = 4, kCallsPerThread = 250;  // 100,000 tokens in all
  Stopwatch watch;  // started first: the bucket's burst is counted from its construction
  TokenBucket bucket(rate, burst);
  std::atomic<int64_t> granted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      for (int c = 0; c < kCallsPerThread; ++c) {
        bucket.Acquire(n);
        granted.fetch_add(static_cast<int64_t>(n));
      }
    });
  }
  for (std::thread& th : threads) th.join();
  const double elapsed_s = watch.Seconds();
  EXPECT_EQ(granted.load(), 100'000);
  EXPECT_GE(elapsed_s, (100'000 - burst) / rate);  // 0.49 s
  EXPECT_LE(elapsed_s, 2.0);
}

}  // namespace
}  // namespace sluice
