// Batched matrix transposes for the layout changes around kernels that only
// read channels_last (the backward tiles on channels_first data):
// dst[n][j][i] = src[n][i][j], each item an a x b row-major matrix.
#pragma once

#include <cstdint>

namespace conv1d {

// Tasks are (item, block of 32 source rows); each writes its own part of dst.
int64_t transpose_tasks(int64_t batch, int64_t a);
void transpose_items(const float* src, float* dst, int64_t a, int64_t b, int64_t begin, int64_t end);

}  // namespace conv1d
