// Element-type conversions between caller buffers and the layer's compute
// or variable dtype: widening is exact, narrowing rounds to nearest even
// (once, also from float64 to bfloat16).
#pragma once

#include <conv1d/conv1d.h>

#include <cstddef>

namespace conv1d {

// dst[i] = src[i] converted from `from` to `to`; a plain copy when they match.
void convert(conv1d_dtype from, const void* src, conv1d_dtype to, void* dst, size_t n);

// Each float rounded to the nearest bfloat16 value (kept as float).
void round_to_bf16(const float* src, float* dst, size_t n);

// Each value converted from `from` and rounded to the nearest bfloat16 value,
// kept as float: how x enters a bfloat16 computation.
void to_bf16_floats(conv1d_dtype from, const void* src, float* dst, size_t n);

}  // namespace conv1d
