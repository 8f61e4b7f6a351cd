// AVX2 8x8 register transposes for the batched layout changes
// (transpose.cpp). Built with AVX2 flags; called only when the layer's ISA
// allows AVX2.
#include <immintrin.h>

#include <cstdint>

#include "kernels/transpose.hpp"

namespace conv1d {
namespace avx2 {

namespace {

// d[j * dp + i] = s[i * sp + j] for an 8 x 8 block: unpack pairs, shuffle
// quads, then swap 128-bit halves.
__attribute__((always_inline)) inline void transpose8x8(const float* s, int64_t sp, float* d, int64_t dp) {
  __m256 r[8], t[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(s + i * sp);
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  for (int i = 0; i < 4; ++i) {
    _mm256_storeu_ps(d + i * dp, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
    _mm256_storeu_ps(d + (i + 4) * dp, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
  }
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
