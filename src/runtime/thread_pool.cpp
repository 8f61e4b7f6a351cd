#include "runtime/thread_pool.hpp"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace conv1d {
namespace {

class Pool {
 public:
  explicit Pool(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this, i] { loop(i); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
      ++generation_;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  int workers() const { return static_cast<int>(threads_.size()); }

  // Returns false (doing nothing) when another call owns the pool.
  bool run(int64_t n_tasks, int parts, const std::function<void(int64_t, int64_t)>& fn) {
    std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
    if (!busy.owns_lock()) return false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      fn_ = &fn;
      n_tasks_ = n_tasks;
      parts_ = parts;
      pending_.store(parts - 1);
      error_ = nullptr;
      ++generation_;
    }
    cv_.notify_all();
    try {
      fn(0, range_end(0));
    } catch (...) {
      record(std::current_exception());
    }
    // Workers finish quickly; spin briefly, then sleep.
    for (int spin = 0; pending_.load(std::memory_order_acquire) != 0; ++spin) {
      if (spin > 2000) {
        std::unique_lock<std::mutex> lock(mutex_);
        done_cv_.wait(lock, [this] { return pending_.load() == 0; });
        break;
      }
      std::this_thread::yield();
    }
    std::exception_ptr error;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      fn_ = nullptr;
      error = error_;
    }
    if (error) std::rethrow_exception(error);
    return true;
  }

 private:
  int64_t range_end(int part) const { return n_tasks_ * (part + 1) / parts_; }

  void record(std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!error_) error_ = e;
  }

  void loop(int index) {
    uint64_t seen = 0;
    for (;;) {
      const std::function<void(int64_t, int64_t)>* fn;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        cv_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        if (stop_) return;
        fn = fn_;
      }
      const int part = index + 1;
      if (fn && part < parts_) {
        try {
          (*fn)(n_tasks_ * part / parts_, range_end(part));
        } catch (...) {
          record(std::current_exception());
        }
        if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
          std::lock_guard<std::mutex> lock(mutex_);
          done_cv_.notify_all();
        }
      }
    }
  }

  std::vector<std::thread> threads_;
  std::mutex busy_;
  std::mutex mutex_;
  std::condition_variable cv_, done_cv_;
  uint64_t generation_ = 0;
  bool stop_ = false;
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_tasks_ = 0;
  int parts_ = 1;
  std::atomic<int> pending_{0};
  std::exception_ptr error_;
};

Pool& pool() {
  // Created on first parallel call; lives until exit.
  static Pool p(std::max(available_cores() - 1, 0));
  return p;
}

}  // namespace

int available_cores() {
  static const int cores = [] {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(CPU_COUNT(&set), 1);
    return std::max(static_cast<int>(std::thread::hardware_concurrency()), 1);
  }();
  return cores;
}

void parallel_for(int64_t n_tasks, int threads, const std::function<void(int64_t, int64_t)>& fn) {
  if (n_tasks <= 0) return;
  int parts = static_cast<int>(std::min<int64_t>(std::min(threads, available_cores()), n_tasks));
  if (parts > 1) parts = std::min(parts, pool().workers() + 1);
  if (parts <= 1 || !pool().run(n_tasks, parts, fn)) fn(0, n_tasks);
}

}  // namespace conv1d
