// Shared by the AVX-512 peak probes (only files built with -mavx512f include it).
#ifndef CONV1D_BENCH_PEAK_AVX512_HPP
#define CONV1D_BENCH_PEAK_AVX512_HPP

#include <immintrin.h>

namespace bench {

// The sum of a vector's 16 lanes, in lane order.
inline float sum_lanes(__m512 s) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, s);
  float sum = 0.0f;
  for (float v : lanes) sum += v;
  return sum;
}

}  // namespace bench

#endif  // CONV1D_BENCH_PEAK_AVX512_HPP
