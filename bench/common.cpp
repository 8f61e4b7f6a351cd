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

void* alloc_bytes(size_t bytes) {
  bytes = (std::max<size_t>(bytes, 1) + 63) / 64 * 64;  // aligned_alloc wants a multiple of the alignment
  void* p = std::aligned_alloc(64, bytes);
  if (p == nullptr) throw std::bad_alloc();
  std::memset(p, 0, bytes);  // first touch: fault every page in now, not while timing
  return p;
}

const char* dtype_name(DType t) {
  return t == DType::kFloat64 ? "float64" : t == DType::kBfloat16 ? "bfloat16" : "float32";
}

size_t dtype_size(DType t) { return t == DType::kFloat64 ? 8 : t == DType::kBfloat16 ? 2 : 4; }

uint16_t to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return uint16_t((bits >> 16) | 0x40u);  // NaN stays NaN
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  return uint16_t(bits >> 16);
}

float from_bf16(uint16_t h) {
  const uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
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
