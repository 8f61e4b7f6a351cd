// The oracle: the convolution formula as plain loops, accumulated in double.
// Deliberately simple; every other kernel is tested against it. float32
// and float64 share the loops (double accumulation either way).
#include "kernels/problem.hpp"

namespace conv1d {
namespace {

template <class T>
void reference(const ConvProblem& p, const T* x, const T* w, const T* bias, T* y) {
  const int64_t cg = p.cg(), fg = p.fg();
  for (int64_t n = 0; n < p.batch; ++n) {
    for (int64_t t = 0; t < p.out_steps; ++t) {
      for (int64_t f = 0; f < p.filters; ++f) {
        const int64_t g = f / fg;
        double acc = bias ? bias[f] : 0.0;
        for (int64_t j = 0; j < p.kernel; ++j) {
          const int64_t pos = t * p.stride + j * p.dilation - p.pad_left;
          if (pos < 0 || pos >= p.in_steps) continue;
          for (int64_t c = 0; c < cg; ++c) {
            const int64_t ch = g * cg + c;
            const T xv = p.channels_first ? x[(n * p.in_channels + ch) * p.in_steps + pos]
                                          : x[(n * p.in_steps + pos) * p.in_channels + ch];
            acc += static_cast<double>(xv) * static_cast<double>(w[(j * cg + c) * p.filters + f]);
          }
        }
        T& out = p.channels_first ? y[(n * p.filters + f) * p.out_steps + t] : y[(n * p.out_steps + t) * p.filters + f];
        out = static_cast<T>(acc);
      }
    }
  }
}

}  // namespace

void conv_reference(const ConvProblem& p, const float* x, const float* w, const float* bias, float* y) {
  reference(p, x, w, bias, y);
}

void conv_reference(const ConvProblem& p, const double* x, const double* w, const double* bias, double* y) {
  reference(p, x, w, bias, y);
}

}  // namespace conv1d
