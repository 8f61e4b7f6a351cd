// Geometry, buffers and the timing loop of conv1d_bench.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <new>
#include <vector>

#include "bench.hpp"

namespace bench {

Geometry keras_geometry(const Problem& p) {
  Geometry g;
  const int64_t span = p.dilation * (p.kernel - 1) + 1;  // receptive field
  if (p.padding == "same") {
    const int64_t out = (p.steps + p.stride - 1) / p.stride;
    const int64_t total = std::max<int64_t>((out - 1) * p.stride + span - p.steps, 0);
    g.pad_left = total / 2;
    g.pad_right = total - g.pad_left;
  } else if (p.padding == "causal") {
    g.pad_left = p.dilation * (p.kernel - 1);
  }
  const int64_t padded = p.steps + g.pad_left + g.pad_right;
  g.out_steps = padded >= span ? (padded - span) / p.stride + 1 : 0;
  return g;
}

double problem_flops(const Problem& p, int64_t out_steps) {
  return 2.0 * double(p.batch) * double(out_steps) * double(p.filters) * double(p.in_channels / p.groups) *
         double(p.kernel);
}

FloatBuffer alloc_floats(size_t count) {
  size_t bytes = std::max<size_t>(count, 1) * sizeof(float);
  bytes = (bytes + 63) / 64 * 64;  // aligned_alloc wants a multiple of the alignment
  void* p = std::aligned_alloc(64, bytes);
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, bytes);  // first touch: fault every page in now, not while timing
  return FloatBuffer(static_cast<float*>(p));
}

Timing time_calls(const std::function<void()>& call, double min_time) {
  using clock = std::chrono::steady_clock;
  auto seconds_since = [](clock::time_point t0) { return std::chrono::duration<double>(clock::now() - t0).count(); };

  // Warm-up: one call to size things, then up to two more if they are cheap.
  auto t0 = clock::now();
  call();
  double est = seconds_since(t0);
  for (int i = 0; i < 2 && est < 0.05; ++i) {
    t0 = clock::now();
    call();
    est = std::min(est, seconds_since(t0));
  }

  // Each sample lasts about min_time / 10 so that min_time holds ~10 samples.
  Timing t;
  const double per_sample = min_time / 10.0;
  t.calls = est > 0 ? std::max<long>(1, long(per_sample / est)) : 1000;
  std::vector<double> samples;
  const auto start = clock::now();
  while (samples.size() < 5 || seconds_since(start) < min_time) {
    const auto s0 = clock::now();
    for (long i = 0; i < t.calls; ++i) call();
    samples.push_back(seconds_since(s0) / double(t.calls));
  }
  std::sort(samples.begin(), samples.end());
  const size_t n = samples.size();
  t.median_s = n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
  t.samples = int(n);
  return t;
}

}  // namespace bench
