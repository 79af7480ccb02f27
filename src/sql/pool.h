// Pool: a fixed set of interchangeable members (catalogs or queues, each
// with its own database connection) lent to one caller at a time.
//
// The shared backends use it so that a process's threads do not queue
// behind one connection: reads run side by side, and writers meet only at
// the database's own serialisation (SqlDb::Transaction). Acquire blocks
// while every member is lent out; a Lease gives its member back when it
// goes out of scope. Thread-safe.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "core/thread_annotations.h"

namespace sluice {

template <typename T>
class Pool {
 public:
  explicit Pool(std::vector<std::unique_ptr<T>> members) : members_(std::move(members)) {
    for (auto& m : members_) free_.push_back(m.get());
  }
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  class Lease {
   public:
    Lease(Pool* pool, T* member) : pool_(pool), member_(member) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { pool_->Release(member_); }
    T* operator->() const { return member_; }
    T& operator*() const { return *member_; }

   private:
    Pool* pool_;
    T* member_;
  };

  Lease Acquire() {
    MutexLock lock(&mu_);
    while (free_.empty()) cv_.Wait();
    T* member = free_.back();
    free_.pop_back();
    return Lease(this, member);
  }

  size_t size() const { return members_.size(); }

 private:
  void Release(T* member) {
    MutexLock lock(&mu_);
    free_.push_back(member);
    cv_.Signal();
  }

  const std::vector<std::unique_ptr<T>> members_;
  Mutex mu_;
  CondVar cv_{&mu_};
  std::vector<T*> free_ GUARDED_BY(mu_);
};

}  // namespace sluice
