// AVX-512 BF16 dot-product peak probe (vdpbf16ps: per float32 lane, two
// bfloat16 products added to the accumulator). Only this file is compiled
// with -mavx512bf16.
#include <immintrin.h>

#include "peak.hpp"
#include "peak_avx512.hpp"

namespace bench {

float dpbf16_loop_avx512(long iters) {
  // Small products keep the accumulators far from overflow for any run length here.
  const __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.001f), _mm512_set1_ps(0.002f));
  const __m512bh b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.003f), _mm512_set1_ps(0.001f));
  __m512 c[16];
  for (int i = 0; i < 16; ++i) c[i] = _mm512_set1_ps(0.1f * float(i));
  for (long i = 0; i < iters; ++i) {
    c[0] = _mm512_dpbf16_ps(c[0], a, b);
    c[1] = _mm512_dpbf16_ps(c[1], a, b);
    c[2] = _mm512_dpbf16_ps(c[2], a, b);
    c[3] = _mm512_dpbf16_ps(c[3], a, b);
    c[4] = _mm512_dpbf16_ps(c[4], a, b);
    c[5] = _mm512_dpbf16_ps(c[5], a, b);
    c[6] = _mm512_dpbf16_ps(c[6], a, b);
    c[7] = _mm512_dpbf16_ps(c[7], a, b);
    c[8] = _mm512_dpbf16_ps(c[8], a, b);
    c[9] = _mm512_dpbf16_ps(c[9], a, b);
    c[10] = _mm512_dpbf16_ps(c[10], a, b);
    c[11] = _mm512_dpbf16_ps(c[11], a, b);
    c[12] = _mm512_dpbf16_ps(c[12], a, b);
    c[13] = _mm512_dpbf16_ps(c[13], a, b);
    c[14] = _mm512_dpbf16_ps(c[14], a, b);
    c[15] = _mm512_dpbf16_ps(c[15], a, b);
  }
  __m512 s = c[0];
  for (int i = 1; i < 16; ++i) s = _mm512_add_ps(s, c[i]);
  return sum_lanes(s);
}

}  // namespace bench
