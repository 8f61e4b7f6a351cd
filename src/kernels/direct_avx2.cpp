// AVX2 + FMA instantiation of the direct kernels, built with AVX2 flags (as
// is transpose_avx2.cpp); called only after CPUID says the CPU has them.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <utility>

#include "activations.hpp"
#include "kernels/backward.hpp"
#include "kernels/direct_isa.hpp"
#include "kernels/packed.hpp"
#include "kernels/transpose.hpp"

namespace conv1d {
namespace avx2 {
namespace {

#include "kernels/lane_sum.inc"
#include "kernels/transpose8x8.inc"

struct V {
  static constexpr int kLanes = 8;
  using T = __m256;
  using Mask = __m256i;
  static T load(const float* p) { return _mm256_load_ps(p); }
  static T loadu(const float* p) { return _mm256_loadu_ps(p); }
  static T loadu_mask(const float* p, Mask m) { return _mm256_maskload_ps(p, m); }
  static T broadcast(const float* p) { return _mm256_broadcast_ss(p); }
  static T fma(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  static T zero() { return _mm256_setzero_ps(); }
  // The lanes' sum, in a fixed tree order.
  static float sum(T v) { return sum_lanes(v); }
  // max(0, a) with 0 first: vmaxps returns the second operand for NaN, so NaN propagates.
  static T max0(T a) { return _mm256_max_ps(_mm256_setzero_ps(), a); }
  static void store(float* p, T v) { _mm256_storeu_ps(p, v); }
  static void store_stream(float* p, T v) {
    if ((reinterpret_cast<uintptr_t>(p) & 31) == 0)
      _mm256_stream_ps(p, v);
    else
      _mm256_storeu_ps(p, v);
  }
  // Orders streamed stores before the caller sees the output.
  static void fence() { _mm_sfence(); }
  static void store_n(float* p, T v, int n) { _mm256_maskstore_ps(p, mask_range(0, n), v); }
  // Lanes lo <= i < hi have their sign bit set, which is what maskload wants.
  static Mask mask_range(int64_t lo, int64_t hi) {
    lo = std::max<int64_t>(std::min<int64_t>(lo, kLanes), 0);
    hi = std::max<int64_t>(std::min<int64_t>(hi, kLanes), 0);
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i ge = _mm256_cmpgt_epi32(idx, _mm256_set1_epi32(static_cast<int>(lo) - 1));
    const __m256i lt = _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(hi)), idx);
    return _mm256_and_si256(ge, lt);
  }
  // Double sums of float values, kDLanes at a time (the bias gradient's
  // running sums): lanes 0 <= i < n of a DMask; dadd adds p[i] to lane i.
  static constexpr int kDLanes = 4;
  using D = __m256d;
  struct DMask {
    __m128i f;  // for the float loads
    __m256i d;  // for the double loads and stores
  };
  static DMask dmask(int n) {
    const __m128i lanes = _mm_cmpgt_epi32(_mm_set1_epi32(std::clamp(n, 0, kDLanes)), _mm_setr_epi32(0, 1, 2, 3));
    return {lanes, _mm256_cvtepi32_epi64(lanes)};
  }
  static D dzero() { return _mm256_setzero_pd(); }
  static D dload(const double* p, DMask m) { return _mm256_maskload_pd(p, m.d); }
  static void dstore(double* p, D v, DMask m) { _mm256_maskstore_pd(p, m.d, v); }
  static D dadd(D acc, const float* p, DMask m) { return _mm256_add_pd(acc, _mm256_cvtps_pd(_mm_maskload_ps(p, m.f))); }
};

#include "kernels/backward_direct.inc"
#include "kernels/backward_simd.inc"
#include "kernels/direct_simd.inc"
#include "kernels/ncw_panels_simd.inc"

}  // namespace

const BackwardKernels backward = {
    backward_data_run,   backward_weights_run, weight_tiles,       weight_tiles_run,  channel_tiles,
    channel_tile_floats, channel_panel_floats, channel_bias_fused, channel_tiles_run, bias_run,
    fold_rows,           ncw_panel_tasks,      ncw_panel_floats,   ncw_panels_run};
const DirectKernels kernels = {kNwcMaxUnits, kNcwMaxUnits,      V::kLanes,      nwc_tasks, nwc_run, ncw_tasks,
                               ncw_run,      ncw_xpanel_floats, ncw_xpanel_run, dw_tasks,  dw_run};

}  // namespace avx2
}  // namespace conv1d
