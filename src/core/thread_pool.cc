#include "core/thread_pool.h"

namespace sluice {

ThreadPool::ThreadPool(int threads) {
  threads_.reserve(threads > 0 ? threads : 0);
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

ThreadPool::~ThreadPool() {
  {
    MutexLock lock(&mu_);
    stop_ = true;
  }
  cv_.SignalAll();
  for (std::thread& t : threads_) t.join();
}

void ThreadPool::Enqueue(std::function<void()> fn) {
  {
    MutexLock lock(&mu_);
    queue_.push_back(std::move(fn));
  }
  cv_.Signal();
}

void ThreadPool::Loop() {
  for (;;) {
    std::function<void()> fn;
    {
      MutexLock lock(&mu_);
      while (!stop_ && queue_.empty()) cv_.Wait();
      if (queue_.empty()) return;  // stopping and drained
      fn = std::move(queue_.front());
      queue_.pop_front();
    }
    fn();
  }
}

}  // namespace sluice
