// A small process-wide pool of worker threads for splitting one forward
// call. Work is split statically into contiguous task ranges, so which
// thread computes which output never affects the result.
#pragma once

#include <cstdint>
#include <functional>

namespace conv1d {

// Number of hardware threads this process may use (affinity mask aware).
int available_cores();

// Runs fn(begin, end) over [0, n_tasks) split into at most `threads`
// contiguous ranges, one per thread, the caller taking the first. Falls back
// to running everything on the caller when the pool is serving another call
// (concurrent forwards on the same or other layers), so it never blocks on
// another caller's work. Exceptions from fn propagate to the caller.
void parallel_for(int64_t n_tasks, int threads, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace conv1d
