// bfloat16 storage: the upper 16 bits of an IEEE float32, held in uint16_t.
// Conversions round to nearest, ties to even (as Keras/TensorFlow casts do);
// NaN stays NaN (quieted, sign kept) instead of rounding into infinity.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace conv1d {

using bf16_t = uint16_t;

inline float bf16_to_float(bf16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

inline bf16_t bf16_from_float(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof bits);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return static_cast<bf16_t>((bits >> 16) | 0x0040u);  // NaN: quiet
  const uint32_t lsb = (bits >> 16) & 1u;
  bits += 0x7FFFu + lsb;  // carries into the exponent round up to the next binade or to infinity
  return static_cast<bf16_t>(bits >> 16);
}

// d rounded once to the nearest bfloat16 (ties to even). Going through a
// float rounded to nearest could round twice; instead the float keeps the
// truncated value with its last bit set when inexact ("round to odd"), which
// float's 16 spare bits make exact for the second rounding.
inline bf16_t bf16_from_double(double d) {
  float f = static_cast<float>(d);
  if (d == d && static_cast<double>(f) != d) {
    if (std::fabs(static_cast<double>(f)) > std::fabs(d)) f = std::nextafter(f, 0.0f);
    uint32_t bits;
    std::memcpy(&bits, &f, sizeof bits);
    bits |= 1u;
    std::memcpy(&f, &bits, sizeof bits);
  }
  return bf16_from_float(f);
}

// f rounded to the nearest bfloat16, as a float.
inline float bf16_round(float f) { return bf16_to_float(bf16_from_float(f)); }

inline void bf16_to_float(const bf16_t* src, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = bf16_to_float(src[i]);
}
inline void bf16_from_float(const float* src, bf16_t* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = bf16_from_float(src[i]);
}

}  // namespace conv1d
