// Portable direct convolution. The loops are ordered so the innermost one
// runs over a contiguous axis of both the weights and the output (filters for
// channels_last, time for channels_first) and auto-vectorises.
#include <algorithm>

#include "kernels/backward.hpp"
#include "kernels/problem.hpp"

namespace conv1d {
namespace {

template <class T>
void direct_nwc(const ConvProblem& p, const T* x, const T* w, const T* bias, T* y) {
  const int64_t C = p.in_channels, F = p.filters, cg = p.cg(), fg = p.fg();
  for (int64_t n = 0; n < p.batch; ++n) {
    const T* xn = x + n * p.in_steps * C;
    for (int64_t t = 0; t < p.out_steps; ++t) {
      T* __restrict yr = y + (n * p.out_steps + t) * F;
      for (int64_t f = 0; f < F; ++f) yr[f] = bias ? bias[f] : T(0);
      for (int64_t j = 0; j < p.kernel; ++j) {
        const int64_t pos = t * p.stride + j * p.dilation - p.pad_left;
        if (pos < 0 || pos >= p.in_steps) continue;
        const T* xr = xn + pos * C;
        const T* wj = w + j * cg * F;
        for (int64_t g = 0; g < p.groups; ++g) {
          T* __restrict yg = yr + g * fg;
          for (int64_t c = 0; c < cg; ++c) {
            const T xv = xr[g * cg + c];
            const T* __restrict wr = wj + c * F + g * fg;
            for (int64_t f = 0; f < fg; ++f) yg[f] += xv * wr[f];
          }
        }
      }
    }
  }
}

// Depthwise channels_last (one channel and one filter per group): the loop
// above would run its innermost loop over a single filter; this one runs
// over the channels, which are contiguous in x, w and y. Same sums in the
// same order (bias, then tap by tap).
template <class T>
void direct_depthwise_nwc(const ConvProblem& p, const T* x, const T* w, const T* bias, T* y) {
  const int64_t C = p.in_channels;
  for (int64_t n = 0; n < p.batch; ++n) {
    const T* xn = x + n * p.in_steps * C;
    for (int64_t t = 0; t < p.out_steps; ++t) {
      T* __restrict yr = y + (n * p.out_steps + t) * C;
      for (int64_t c = 0; c < C; ++c) yr[c] = bias ? bias[c] : T(0);
      for (int64_t j = 0; j < p.kernel; ++j) {
        const int64_t pos = t * p.stride + j * p.dilation - p.pad_left;
        if (pos < 0 || pos >= p.in_steps) continue;
        const T* __restrict xr = xn + pos * C;
        const T* __restrict wj = w + j * C;
        for (int64_t c = 0; c < C; ++c) yr[c] += xr[c] * wj[c];
      }
    }
  }
}

template <class T>
void direct_ncw(const ConvProblem& p, const T* x, const T* w, const T* bias, T* y) {
  const int64_t L = p.in_steps, Lo = p.out_steps, cg = p.cg(), fg = p.fg(), s = p.stride;
  for (int64_t n = 0; n < p.batch; ++n) {
    for (int64_t f = 0; f < p.filters; ++f) {
      T* __restrict yr = y + (n * p.filters + f) * Lo;
      std::fill(yr, yr + Lo, bias ? bias[f] : T(0));
      const int64_t g = f / fg;
      for (int64_t j = 0; j < p.kernel; ++j) {
        // Output steps t whose input position t*s + off lies inside [0, L).
        const int64_t off = j * p.dilation - p.pad_left;
        int64_t t0, t1;
        p.rows_inside(off, &t0, &t1);
        if (t0 >= t1) continue;
        for (int64_t c = 0; c < cg; ++c) {
          const T wv = w[(j * cg + c) * p.filters + f];
          const T* __restrict xr = x + (n * p.in_channels + g * cg + c) * L + off;
          if (s == 1) {
            for (int64_t t = t0; t < t1; ++t) yr[t] += wv * xr[t];
          } else {
            for (int64_t t = t0; t < t1; ++t) yr[t] += wv * xr[t * s];
          }
        }
      }
    }
  }
}

}  // namespace

void conv_direct(const ConvProblem& p, const float* x, const float* w, const float* bias, float* y) {
  if (p.channels_first)
    direct_ncw(p, x, w, bias, y);
  else
    direct_nwc(p, x, w, bias, y);
}

void conv_direct(const ConvProblem& p, const double* x, const double* w, const double* bias, double* y) {
  if (p.channels_first)
    direct_ncw(p, x, w, bias, y);
  else if (p.cg() == 1 && p.fg() == 1)
    direct_depthwise_nwc(p, x, w, bias, y);
  else
    direct_nwc(p, x, w, bias, y);
}

int64_t backward_direct_tasks(const ConvProblem& p) {
  if (p.cg() == 1 && p.fg() == 1) return (p.groups + 63) / 64;  // kBlock channels per task
  return p.groups;
}

void backward_direct_groups(const ConvProblem& p, int64_t begin, int64_t end, int64_t* g0, int64_t* g1) {
  const int64_t per = p.cg() == 1 && p.fg() == 1 ? 64 : 1;
  *g0 = std::min(p.groups, begin * per);
  *g1 = std::min(p.groups, end * per);
}

namespace portable {
namespace {
#include "kernels/backward_direct.inc"
}  // namespace
// The loops alone: no tiles, panels or folded products.
// clang-format off
const BackwardKernels backward = {backward_data_run, backward_weights_run,
                                  nullptr, nullptr,  // weight tiles
                                  nullptr, nullptr, nullptr, nullptr, nullptr,  // channel tiles
                                  bias_run, nullptr,
                                  nullptr, nullptr, nullptr};  // ncw panels
// clang-format on
}  // namespace portable

}  // namespace conv1d
