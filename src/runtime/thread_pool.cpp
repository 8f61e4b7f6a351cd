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

// Publication protocol: run() writes the job fields, then publishes the job
// in job_, one word of (job number, parts claimed, parts), and bumps
// generation_ to wake the workers. Parts are claimed by compare-exchange on
// job_, which fails for a word of a finished job, so a worker that claims a
// part knows its job is live: run() returns only once done_ counts every
// part, so the fields a claimed part reads are not rewritten under it. A
// worker that wakes late, or never, costs the call nothing: the caller claims
// and runs whatever is left, and waits only for parts already claimed. (The
// previous protocol waited for every worker to acknowledge every job, so a
// descheduled vCPU held up even a call it had no part in.) A worker going to
// sleep registers in sleepers_ and re-checks generation_; run() bumps
// generation_ and then checks sleepers_, so one of the two always sees the
// other (no lost wake-up).
class Pool {
 public:
  explicit Pool(int workers) {
    for (int i = 0; i < workers; ++i) threads_.emplace_back([this] { loop(); });
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
    error_ = nullptr;
    done_.store(0, std::memory_order_relaxed);
    job_number_ = (job_number_ + 1) & 0xffffffffu;
    // Part 0 is the caller's from the start.
    job_.store(job_number_ << 32 | uint64_t{1} << 16 | static_cast<uint64_t>(parts), std::memory_order_release);
    generation_.fetch_add(1);
    if (sleepers_.load() > 0) {
      std::lock_guard<std::mutex> lock(mutex_);
      cv_.notify_all();
    }
    run_part(0, parts);
    run_parts();  // whatever no worker has claimed yet
    const auto deadline = std::chrono::steady_clock::now() + kSpin;
    for (unsigned spin = 0; done_.load(std::memory_order_acquire) != parts; ++spin) {
      cpu_relax();
      if ((spin & 255) == 255 && std::chrono::steady_clock::now() > deadline) {
        std::unique_lock<std::mutex> lock(mutex_);
        done_cv_.wait(lock, [&] { return done_.load() == parts; });
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

  // Claims the next part of the current job: false when none is left.
  bool claim(int* part, int* parts) {
    uint64_t w = job_.load(std::memory_order_acquire);
    for (;;) {
      const int next = static_cast<int>(w >> 16 & 0xffff), n = static_cast<int>(w & 0xffff);
      if (next >= n) return false;
      if (job_.compare_exchange_weak(w, w + (uint64_t{1} << 16), std::memory_order_acq_rel,
                                     std::memory_order_acquire)) {
        *part = next;
        *parts = n;
        return true;
      }
    }
  }

  void run_part(int part, int parts) {
    try {
      fn_(n_tasks_ * part / parts, n_tasks_ * (part + 1) / parts);
    } catch (...) {
      record(std::current_exception());
    }
    if (done_.fetch_add(1, std::memory_order_acq_rel) + 1 == parts) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_cv_.notify_all();
    }
  }

  // Claims and runs parts of the current job until none is left.
  void run_parts() {
    for (int part, parts; claim(&part, &parts);) run_part(part, parts);
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

  void loop() {
    uint64_t seen = 0;
    for (;;) {
      seen = wait_for_job(seen);
      if (stop_.load()) return;
      run_parts();  // nothing when the job needs fewer threads or is already taken
    }
  }

  std::vector<std::thread> threads_;
  std::mutex busy_;   // held by the caller that owns the pool
  std::mutex mutex_;  // sleeping, waking and errors
  std::condition_variable cv_, done_cv_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  // The current job: (job number << 32 | parts claimed << 16 | parts), and
  // its parts finished. job_number_ is written only by the owning caller.
  std::atomic<uint64_t> job_{0};
  std::atomic<int> done_{0};
  uint64_t job_number_ = 0;
  // The current job's fields, published by job_.
  TaskFn fn_{nullptr, nullptr};
  int64_t n_tasks_ = 0;
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
