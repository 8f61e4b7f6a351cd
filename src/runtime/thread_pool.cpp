#include "runtime/thread_pool.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace conv1d {
namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Workers spin this long after a job before sleeping, so back-to-back
// forward calls (inference loops) hand work over in well under a
// microsecond instead of paying a futex wake-up each time.
constexpr auto kSpin = std::chrono::microseconds(200);

// Publication protocol: run() writes the job fields, then bumps generation_
// (seq_cst); a worker that sees the new generation reads the fields. Every
// worker acknowledges every job through pending_, even one with no part in
// it, so run() returns only when no worker can still be reading the fields
// and the next job may overwrite them. A worker going to sleep registers in
// sleepers_ and re-checks generation_; run() bumps generation_ and then
// checks sleepers_, so one of the two always sees the other (no lost
// wake-up).
class Pool {
 public:
  explicit Pool(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this, i] { loop(i); });
  }
  ~Pool() {
    stop_.store(true);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      generation_.fetch_add(1);
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  int workers() const { return static_cast<int>(threads_.size()); }

  // Returns false (doing nothing) when another call owns the pool.
  bool run(int64_t n_tasks, int parts, TaskFn fn) {
    std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
    if (!busy.owns_lock()) return false;
    fn_ = fn;
    n_tasks_ = n_tasks;
    parts_ = parts;
    error_ = nullptr;
    pending_.store(workers());
    generation_.fetch_add(1);
    if (sleepers_.load() > 0) {
      std::lock_guard<std::mutex> lock(mutex_);
      cv_.notify_all();
    }
    try {
      fn(0, n_tasks * 1 / parts);
    } catch (...) {
      record(std::current_exception());
    }
    const auto deadline = std::chrono::steady_clock::now() + kSpin;
    for (unsigned spin = 0; pending_.load(std::memory_order_acquire) != 0; ++spin) {
      cpu_relax();
      if ((spin & 255) == 255 && std::chrono::steady_clock::now() > deadline) {
        std::unique_lock<std::mutex> lock(mutex_);
        done_cv_.wait(lock, [this] { return pending_.load() == 0; });
        break;
      }
    }
    std::exception_ptr error = error_;
    if (error) std::rethrow_exception(error);
    return true;
  }

 private:
  void record(std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!error_) error_ = e;
  }

  // Waits until generation_ differs from `seen`: spinning first, then asleep.
  uint64_t wait_for_job(uint64_t seen) {
    const auto deadline = std::chrono::steady_clock::now() + kSpin;
    for (unsigned spin = 0;; ++spin) {
      const uint64_t g = generation_.load(std::memory_order_acquire);
      if (g != seen) return g;
      cpu_relax();
      if ((spin & 255) == 255 && std::chrono::steady_clock::now() > deadline) break;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    sleepers_.fetch_add(1);
    cv_.wait(lock, [&] { return generation_.load() != seen; });
    sleepers_.fetch_sub(1);
    return generation_.load();
  }

  void loop(int index) {
    // Generation 0 is the state at construction: a job published before this
    // thread got to run must still be taken.
    uint64_t seen = 0;
    for (;;) {
      seen = wait_for_job(seen);
      if (stop_.load()) return;
      const int part = index + 1;
      if (part < parts_) {  // a job may need fewer threads than there are
        try {
          fn_(n_tasks_ * part / parts_, n_tasks_ * (part + 1) / parts_);
        } catch (...) {
          record(std::current_exception());
        }
      }
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        done_cv_.notify_all();
      }
    }
  }

  std::vector<std::thread> threads_;
  std::mutex busy_;   // held by the caller that owns the pool
  std::mutex mutex_;  // sleeping, waking and errors
  std::condition_variable cv_, done_cv_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
  // The current job, published by generation_.
  TaskFn fn_{nullptr, nullptr};
  int64_t n_tasks_ = 0;
  int parts_ = 1;
  std::exception_ptr error_;
};

// A child of fork() has the pool object but none of its threads: from then
// on it runs everything on the calling thread.
std::atomic<bool> forked_child{false};

Pool& pool() {
  // Created on first parallel call; lives until exit.
  static Pool p(std::max(available_cores() - 1, 0));
  static const int registered = pthread_atfork(nullptr, nullptr, [] { forked_child.store(true); });
  (void)registered;
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

void parallel_for(int64_t n_tasks, int threads, TaskFn fn) {
  if (n_tasks <= 0) return;
  int parts = static_cast<int>(std::min<int64_t>(std::min(threads, available_cores()), n_tasks));
  if (parts > 1 && forked_child.load(std::memory_order_relaxed)) parts = 1;
  if (parts > 1) parts = std::min(parts, pool().workers() + 1);
  if (parts <= 1 || !pool().run(n_tasks, parts, fn)) fn(0, n_tasks);
}

}  // namespace conv1d
