#include "io/array.hpp"

#include <cmath>
#include <cstring>

#include "error.hpp"

namespace conv1d {

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

size_t element_count(const std::vector<int64_t>& shape, const std::string& what) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) fail(CONV1D_ERROR_PARSE, what + " has a negative dimension in its shape " + shape_string(shape));
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n) || n > SIZE_MAX / sizeof(double))
      fail(CONV1D_ERROR_SIZE_OVERFLOW, what + " has shape " + shape_string(shape) + ", too many values to hold");
  }
  return static_cast<size_t>(n);
}

float half_to_float(uint16_t bits) {
  const int sign = bits >> 15, exponent = (bits >> 10) & 0x1f, mantissa = bits & 0x3ff;
  float v;
  if (exponent == 0) {
    v = std::ldexp(static_cast<float>(mantissa), -24);  // zero or subnormal
  } else if (exponent == 31) {
    v = mantissa ? NAN : INFINITY;
  } else {
    v = std::ldexp(static_cast<float>(mantissa | 0x400), exponent - 25);
  }
  return sign ? -v : v;
}

float bfloat16_to_float(uint16_t bits) {
  const uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float v;
  std::memcpy(&v, &wide, sizeof v);
  return v;
}

}  // namespace conv1d
