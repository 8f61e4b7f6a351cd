// Batched matrix transposes for the layout changes around kernels that only
// read channels_last (the backward tiles on channels_first data):
// dst[n][j][i] = src[n][i][j], each item an a x b row-major matrix.
#pragma once

#include <cstdint>

namespace conv1d {

// dst[j * dst_pitch + i] = src[i * src_pitch + j] for i < rows, j < cols:
// one small strided matrix (a dW tile's accumulators into Keras layout).
void transpose_strided(const float* src, int64_t src_pitch, float* dst, int64_t dst_pitch, int64_t rows, int64_t cols);

// Tasks are (item, block of 32 source rows); each writes its own part of dst.
int64_t transpose_tasks(int64_t batch, int64_t a);
void transpose_items(const float* src, float* dst, int64_t a, int64_t b, int64_t begin, int64_t end);

}  // namespace conv1d
