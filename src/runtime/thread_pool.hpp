// A small process-wide pool of worker threads for splitting one forward
// call. Work is split statically into contiguous task ranges, so which
// thread computes which output never affects the result.
#pragma once

#include <cstdint>

namespace conv1d {

// Number of hardware threads this process may use (affinity mask aware).
int available_cores();

// A borrowed callable: a function pointer and its context, so handing work
// to the pool never allocates (std::function would, for larger captures).
struct TaskFn {
  void (*call)(const void* ctx, int64_t begin, int64_t end);
  const void* ctx;
  void operator()(int64_t begin, int64_t end) const { call(ctx, begin, end); }
};

// Runs fn(begin, end) over [0, n_tasks) split into at most `threads`
// contiguous ranges, fixed by n_tasks and the count alone. The caller runs the
// first, the pool's threads claim the others, and the caller also runs any
// that no thread has claimed by the time it is done. Falls back
// to running everything on the caller when the pool is serving another call
// (concurrent forwards on the same or other layers), so it never blocks on
// another caller's work. Exceptions from fn propagate to the caller.
void parallel_for(int64_t n_tasks, int threads, TaskFn fn);

template <class F>
void parallel_for(int64_t n_tasks, int threads, const F& f) {
  parallel_for(n_tasks, threads,
               TaskFn{[](const void* ctx, int64_t b, int64_t e) { (*static_cast<const F*>(ctx))(b, e); }, &f});
}

}  // namespace conv1d
