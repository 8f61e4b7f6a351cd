// 4x4 and 2x4 register transposes (SSE, part of baseline x86-64) inside
// 32x32 blocks, so a block's 32 source rows and 32 destination rows stay in
// L1; a scalar loop takes the edges. A plain element loop ran at about 2 ns per
// element on channels_first training shapes, a third of the dW time. The
// batched form goes to transpose_avx2.cpp when the ISA allows.
#include "kernels/transpose.hpp"

#include <algorithm>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace conv1d {

namespace {

constexpr int64_t kBlock = 32;

void transpose_block(const float* s, float* d, int64_t a, int64_t b, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  int64_t i = i0;
#if defined(__SSE2__)
  for (; i + 4 <= i1; i += 4) {
    int64_t j = j0;
    for (; j + 4 <= j1; j += 4) {
      __m128 r0 = _mm_loadu_ps(s + i * b + j), r1 = _mm_loadu_ps(s + (i + 1) * b + j);
      __m128 r2 = _mm_loadu_ps(s + (i + 2) * b + j), r3 = _mm_loadu_ps(s + (i + 3) * b + j);
      _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
      _mm_storeu_ps(d + j * a + i, r0);
      _mm_storeu_ps(d + (j + 1) * a + i, r1);
      _mm_storeu_ps(d + (j + 2) * a + i, r2);
      _mm_storeu_ps(d + (j + 3) * a + i, r3);
    }
    for (; j < j1; ++j)
      for (int64_t r = 0; r < 4; ++r) d[j * a + i + r] = s[(i + r) * b + j];
  }
  // Two source rows: 2x4 blocks, each destination row taking a pair.
  for (; i + 2 <= i1; i += 2) {
    int64_t j = j0;
    for (; j + 4 <= j1; j += 4) {
      const __m128 r0 = _mm_loadu_ps(s + i * b + j), r1 = _mm_loadu_ps(s + (i + 1) * b + j);
      const __m128 lo = _mm_unpacklo_ps(r0, r1), hi = _mm_unpackhi_ps(r0, r1);
      _mm_storel_pi(reinterpret_cast<__m64*>(d + j * a + i), lo);
      _mm_storeh_pi(reinterpret_cast<__m64*>(d + (j + 1) * a + i), lo);
      _mm_storel_pi(reinterpret_cast<__m64*>(d + (j + 2) * a + i), hi);
      _mm_storeh_pi(reinterpret_cast<__m64*>(d + (j + 3) * a + i), hi);
    }
    for (; j < j1; ++j) {
      d[j * a + i] = s[i * b + j];
      d[j * a + i + 1] = s[(i + 1) * b + j];
    }
  }
#endif
  for (; i < i1; ++i)
    for (int64_t j = j0; j < j1; ++j) d[j * a + i] = s[i * b + j];
}

}  // namespace

void transpose_strided(const float* src, int64_t src_pitch, float* dst, int64_t dst_pitch, int64_t rows, int64_t cols) {
  for (int64_t i0 = 0; i0 < rows; i0 += kBlock)
    for (int64_t j0 = 0; j0 < cols; j0 += kBlock)
      transpose_block(src, dst, dst_pitch, src_pitch, i0, std::min(rows, i0 + kBlock), j0, std::min(cols, j0 + kBlock));
}

constexpr int64_t kTaskRows = 16;  // destination rows per task

int64_t transpose_tasks(int64_t batch, int64_t b) { return batch * ((b + kTaskRows - 1) / kTaskRows); }

void transpose_items(const float* src, float* dst, int64_t a, int64_t b, int64_t begin, int64_t end, conv1d_isa isa) {
  const int64_t blocks = (b + kTaskRows - 1) / kTaskRows;
  for (int64_t task = begin; task < end; ++task) {
    const int64_t n = task / blocks, j0 = task % blocks * kTaskRows, j1 = std::min(b, j0 + kTaskRows);
    const float* s = src + n * a * b;
    float* d = dst + n * a * b;
    if (isa >= CONV1D_ISA_AVX2) {
      avx2::transpose_rows(s, d, a, b, j0, j1);
      continue;
    }
    for (int64_t i0 = 0; i0 < a; i0 += kBlock) transpose_block(s, d, a, b, i0, std::min(a, i0 + kBlock), j0, j1);
  }
}

}  // namespace conv1d
