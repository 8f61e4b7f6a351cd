// AVX-512 instantiation of the direct kernels. The only file built with
// AVX-512 flags; called only after CPUID says the CPU has it.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "activations.hpp"
#include "kernels/backward.hpp"
#include "kernels/direct_isa.hpp"
#include "kernels/packed.hpp"

namespace conv1d {
namespace avx512 {
namespace {

struct V {
  static constexpr int kLanes = 16;
  using T = __m512;
  using Mask = __mmask16;
  static T load(const float* p) { return _mm512_load_ps(p); }
  static T loadu(const float* p) { return _mm512_loadu_ps(p); }
  static T loadu_mask(const float* p, Mask m) { return _mm512_maskz_loadu_ps(m, p); }
  static T broadcast(const float* p) { return _mm512_set1_ps(*p); }
  static T fma(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  // max(0, a) with 0 first: vmaxps returns the second operand for NaN, so NaN propagates.
  static T max0(T a) { return _mm512_maskz_max_ps(static_cast<Mask>(0xFFFF), _mm512_setzero_ps(), a); }
  static void store(float* p, T v) { _mm512_storeu_ps(p, v); }
  static void store_stream(float* p, T v) {
    if ((reinterpret_cast<uintptr_t>(p) & 63) == 0)
      _mm512_stream_ps(p, v);
    else
      _mm512_storeu_ps(p, v);
  }
  // Orders streamed stores before the caller sees the output.
  static void fence() { _mm_sfence(); }
  static void store_n(float* p, T v, int n) { _mm512_mask_storeu_ps(p, static_cast<Mask>((1u << n) - 1), v); }
  static Mask mask_range(int64_t lo, int64_t hi) {
    lo = std::max<int64_t>(lo, 0);
    hi = std::min<int64_t>(hi, kLanes);
    if (hi <= lo) return 0;
    return static_cast<Mask>(((1u << hi) - 1) & ~((1u << lo) - 1));
  }
};

#include "kernels/backward_direct.inc"
#include "kernels/direct_simd.inc"

}  // namespace

const BackwardKernels backward = {backward_data_run, backward_weights_run};
const DirectKernels kernels = {kNwcMaxUnits, kNcwMaxUnits, V::kLanes, nwc_tasks, nwc_run,
                               ncw_tasks,    ncw_run,      dw_tasks,  dw_run};

}  // namespace avx512
}  // namespace conv1d
