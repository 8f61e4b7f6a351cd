// Batched matrix transposes for the layout changes around kernels that only
// read channels_last (the backward tiles on channels_first data):
// dst[n][j][i] = src[n][i][j], each item an a x b row-major matrix.
#pragma once

#include <cstdint>

#include "conv1d/conv1d.h"

namespace conv1d {

// dst[j * dst_pitch + i] = src[i * src_pitch + j] for i < rows, j < cols:
// one small strided matrix (a dW tile's accumulators into Keras layout).
void transpose_strided(const float* src, int64_t src_pitch, float* dst, int64_t dst_pitch, int64_t rows, int64_t cols);

// Tasks are (item, block of 16 destination rows); each writes whole rows of
// dst, so stores fill cache lines in order. `isa` AVX2 or better uses 8x8
// AVX register transposes (about twice as fast on textcnn-sized items),
// below that 4x4 SSE ones; the bits are the same.
int64_t transpose_tasks(int64_t batch, int64_t b);
void transpose_items(const float* src, float* dst, int64_t a, int64_t b, int64_t begin, int64_t end, conv1d_isa isa);

namespace avx2 {
// Destination rows [j0, j1) of one item: d[j * a + i] = s[i * b + j], i < a.
void transpose_rows(const float* s, float* d, int64_t a, int64_t b, int64_t j0, int64_t j1);
}  // namespace avx2

}  // namespace conv1d
