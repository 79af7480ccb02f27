// ThreadPool: a fixed set of threads that run submitted tasks, used for
// data parallelism inside one batch (decoding chunks, encoding row groups).
//
// A pool of size 0 runs each task inline in Submit(), so `--threads 1` means
// one thread of work in total: the caller's. Tasks must not block waiting for
// other tasks of the same pool (a fixed pool would deadlock); only the thread
// that drives a pipeline waits, through the futures Submit() returns.
//
// Threading: Submit() may be called from any thread, including pool threads.
// The destructor finishes queued tasks and joins.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/thread_annotations.h"

namespace sluice {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Worker threads (0: tasks run inline).
  int size() const { return static_cast<int>(threads_.size()); }
  // How many tasks may usefully run at once (at least 1).
  int parallelism() const { return threads_.empty() ? 1 : size(); }

  // Runs fn() on a pool thread; the future carries its result (or exception).
  template <typename F>
  auto Submit(F&& fn) -> std::future<std::invoke_result_t<F&>> {
    using R = std::invoke_result_t<F&>;
    auto task = std::make_shared<std::packaged_task<R()>>(std::forward<F>(fn));
    std::future<R> fut = task->get_future();
    if (threads_.empty()) {
      (*task)();
    } else {
      Enqueue([task] { (*task)(); });
    }
    return fut;
  }

 private:
  void Enqueue(std::function<void()> fn);
  void Loop();

  Mutex mu_;
  CondVar cv_{&mu_};
  std::deque<std::function<void()>> queue_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;  // set in the constructor, then only read
};

}  // namespace sluice
