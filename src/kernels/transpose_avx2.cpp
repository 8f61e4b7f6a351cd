// AVX2 8x8 register transposes for the batched layout changes
// (transpose.cpp). Built with AVX2 flags; called only when the layer's ISA
// allows AVX2.
#include <immintrin.h>

#include <cstdint>

#include "kernels/transpose.hpp"

namespace conv1d {
namespace avx2 {

namespace {

#include "kernels/transpose8x8.inc"

// d[j * dp + i] = s[i * sp + j] for an 8 x 8 block.
inline void transpose8x8(const float* s, int64_t sp, float* d, int64_t dp) {
  __m256 r[8];
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(s + i * sp);
  transpose8x8(r);
#pragma GCC unroll 8
  for (int i = 0; i < 8; ++i) _mm256_storeu_ps(d + i * dp, r[i]);
}

}  // namespace

void transpose_rows(const float* s, float* d, int64_t a, int64_t b, int64_t j0, int64_t j1) {
  int64_t i = 0;
  for (; i + 8 <= a; i += 8) {
    int64_t j = j0;
    for (; j + 8 <= j1; j += 8) transpose8x8(s + i * b + j, b, d + j * a + i, a);
    for (; j < j1; ++j)
      for (int64_t r = 0; r < 8; ++r) d[j * a + i + r] = s[(i + r) * b + j];
  }
  for (int64_t j = j0; j < j1; ++j)
    for (int64_t r = i; r < a; ++r) d[j * a + r] = s[r * b + j];
}

}  // namespace avx2
}  // namespace conv1d
