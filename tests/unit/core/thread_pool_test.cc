#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <stdexcept>
#include <thread>

namespace sluice {
namespace {

TEST(ThreadPoolTest, ZeroThreadsRunsInlineOnTheCaller) {
  ThreadPool pool(0);
  EXPECT_EQ(pool.parallelism(), 1);
  std::thread::id ran_on;
  auto f = pool.Submit([&] {
    ran_on = std::this_thread::get_id();
    return 7;
  });
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  EXPECT_EQ(f.get(), 7);
}

TEST(ThreadPoolTest, RunsEveryTaskOnWorkerThreads) {
  ThreadPool pool(3);
  EXPECT_EQ(pool.parallelism(), 3);
  std::mutex mu;
  std::set<std::thread::id> ids;
  std::vector<std::future<int>> futs;
  for (int i = 0; i < 200; ++i) {
    futs.push_back(pool.Submit([&, i] {
      std::lock_guard<std::mutex> lock(mu);
      ids.insert(std::this_thread::get_id());
      return i * 2;
    }));
  }
  for (int i = 0; i < 200; ++i) EXPECT_EQ(futs[i].get(), i * 2);
  EXPECT_EQ(ids.count(std::this_thread::get_id()), 0u);
  EXPECT_LE(ids.size(), 3u);
}

TEST(ThreadPoolTest, ExceptionsReachTheFuture) {
  ThreadPool pool(1);
  auto f = pool.Submit([]() -> int { throw std::runtime_error("boom"); });
  EXPECT_THROW(f.get(), std::runtime_error);
  EXPECT_EQ(pool.Submit([] { return 1; }).get(), 1);  // the worker survived
}

TEST(ThreadPoolTest, DestructorFinishesQueuedTasks) {
  std::atomic<int> done{0};
  {
    ThreadPool pool(2);
    for (int i = 0; i < 100; ++i) pool.Submit([&] { done.fetch_add(1); });
  }
  EXPECT_EQ(done.load(), 100);
}

}  // namespace
}  // namespace sluice
