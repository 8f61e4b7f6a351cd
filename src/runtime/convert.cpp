#include "runtime/convert.hpp"

#include <cstring>

#include "runtime/bf16.hpp"

namespace conv1d {
namespace {

template <class From, class To>
void cast(const void* src, void* dst, size_t n) {
  const From* s = static_cast<const From*>(src);
  To* d = static_cast<To*>(dst);
  for (size_t i = 0; i < n; ++i) d[i] = static_cast<To>(s[i]);
}

size_t size_of(conv1d_dtype d) { return d == CONV1D_DTYPE_FLOAT64 ? 8 : d == CONV1D_DTYPE_BFLOAT16 ? 2 : 4; }

}  // namespace

void convert(conv1d_dtype from, const void* src, conv1d_dtype to, void* dst, size_t n) {
  if (from == to) {
    if (n > 0 && src != dst) std::memcpy(dst, src, n * size_of(from));
    return;
  }
  const bf16_t* hs = static_cast<const bf16_t*>(src);
  bf16_t* hd = static_cast<bf16_t*>(dst);
  if (from == CONV1D_DTYPE_FLOAT32 && to == CONV1D_DTYPE_FLOAT64) return cast<float, double>(src, dst, n);
  if (from == CONV1D_DTYPE_FLOAT64 && to == CONV1D_DTYPE_FLOAT32) return cast<double, float>(src, dst, n);
  if (from == CONV1D_DTYPE_FLOAT32) return bf16_from_float(static_cast<const float*>(src), hd, n);
  if (to == CONV1D_DTYPE_FLOAT32) return bf16_to_float(hs, static_cast<float*>(dst), n);
  if (from == CONV1D_DTYPE_FLOAT64) {
    const double* s = static_cast<const double*>(src);
    for (size_t i = 0; i < n; ++i) hd[i] = bf16_from_double(s[i]);
    return;
  }
  double* d = static_cast<double*>(dst);  // bfloat16 to float64
  for (size_t i = 0; i < n; ++i) d[i] = bf16_to_float(hs[i]);
}

void round_to_bf16(const float* src, float* dst, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] = bf16_round(src[i]);
}

void to_bf16_floats(conv1d_dtype from, const void* src, float* dst, size_t n) {
  if (from == CONV1D_DTYPE_FLOAT32) return round_to_bf16(static_cast<const float*>(src), dst, n);
  if (from == CONV1D_DTYPE_BFLOAT16) return bf16_to_float(static_cast<const bf16_t*>(src), dst, n);
  const double* s = static_cast<const double*>(src);
  for (size_t i = 0; i < n; ++i) dst[i] = bf16_to_float(bf16_from_double(s[i]));
}

}  // namespace conv1d
