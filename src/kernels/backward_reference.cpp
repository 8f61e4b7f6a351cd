// The backward oracle: the gradient formulas of backward.hpp as plain loops
// over the forward's index map, accumulated in double. Deliberately simple.
#include <vector>

#include "kernels/backward.hpp"

namespace conv1d {
namespace {

// Visits every (x index, w index, dz index) triple that the forward pass
// multiplies, in one fixed order.
template <class Fn>
void for_each_term(const ConvProblem& p, Fn fn) {
  const int64_t cg = p.cg(), fg = p.fg();
  for (int64_t n = 0; n < p.batch; ++n) {
    for (int64_t t = 0; t < p.out_steps; ++t) {
      for (int64_t f = 0; f < p.filters; ++f) {
        const int64_t g = f / fg;
        const int64_t zi =
            p.channels_first ? (n * p.filters + f) * p.out_steps + t : (n * p.out_steps + t) * p.filters + f;
        for (int64_t j = 0; j < p.kernel; ++j) {
          const int64_t pos = t * p.stride + j * p.dilation - p.pad_left;
          if (pos < 0 || pos >= p.in_steps) continue;
          for (int64_t c = 0; c < cg; ++c) {
            const int64_t ch = g * cg + c;
            const int64_t xi = p.channels_first ? (n * p.in_channels + ch) * p.in_steps + pos
                                                : (n * p.in_steps + pos) * p.in_channels + ch;
            fn(xi, (j * cg + c) * p.filters + f, zi);
          }
        }
      }
    }
  }
}

}  // namespace

void backward_data_reference(const ConvProblem& p, const float* dz, const float* w, float* dx) {
  std::vector<double> acc(static_cast<size_t>(p.batch * p.in_steps * p.in_channels), 0.0);
  for_each_term(p, [&](int64_t xi, int64_t wi, int64_t zi) { acc[xi] += static_cast<double>(dz[zi]) * w[wi]; });
  for (size_t i = 0; i < acc.size(); ++i) dx[i] = static_cast<float>(acc[i]);
}

void backward_weights_reference(const ConvProblem& p, const float* x, const float* dz, float* dw) {
  std::vector<double> acc(static_cast<size_t>(p.kernel * p.cg() * p.filters), 0.0);
  for_each_term(p, [&](int64_t xi, int64_t wi, int64_t zi) { acc[wi] += static_cast<double>(x[xi]) * dz[zi]; });
  for (size_t i = 0; i < acc.size(); ++i) dw[i] = static_cast<float>(acc[i]);
}

void backward_bias(const ConvProblem& p, const float* dz, float* dbias) {
  const int64_t F = p.filters, Lo = p.out_steps;
  std::vector<double> acc(static_cast<size_t>(F), 0.0);
  for (int64_t n = 0; n < p.batch; ++n) {
    if (p.channels_first) {
      for (int64_t f = 0; f < F; ++f) {
        const float* row = dz + (n * F + f) * Lo;
        double s = 0.0;
        for (int64_t t = 0; t < Lo; ++t) s += row[t];
        acc[f] += s;
      }
    } else {
      for (int64_t t = 0; t < Lo; ++t) {
        const float* row = dz + (n * Lo + t) * F;
        for (int64_t f = 0; f < F; ++f) acc[f] += row[f];
      }
    }
  }
  for (int64_t f = 0; f < F; ++f) dbias[f] = static_cast<float>(acc[f]);
}

}  // namespace conv1d
