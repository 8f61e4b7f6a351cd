// Convolution as GEMMs on OpenBLAS without im2col: for channels_last, tap j
// of the output is a GEMM of a strided view of the (padded) input, rows
// t*s + j*d, with the (Cg x Fg) weight slice of that tap. Padding is
// materialised only when the layer pads; channels_first goes through a
// transpose into the channels_last workspace and back.
#include <cblas.h>

#include <algorithm>
#include <cstring>

#include "kernels/problem.hpp"

namespace conv1d {
namespace {

// True when the layout allows reading x in place (no padding to add).
bool needs_padded_copy(const ConvProblem& p) {
  return p.channels_first || p.pad_left > 0 || p.span_rows() > p.in_steps;
}

}  // namespace

std::size_t gemm_workspace_floats(const ConvProblem& p) {
  std::size_t n = 0;
  if (needs_padded_copy(p)) n += static_cast<std::size_t>(p.span_rows() * p.in_channels);
  if (p.channels_first) n += static_cast<std::size_t>(p.out_steps * p.filters);
  return n;
}

void conv_gemm(const ConvProblem& p, const float* x, const float* w, const float* bias, float* y, float* workspace) {
  const int64_t C = p.in_channels, F = p.filters, L = p.in_steps, Lo = p.out_steps;
  const int64_t cg = p.cg(), fg = p.fg(), rows = p.span_rows();
  const bool padded = needs_padded_copy(p);
  float* xp = padded ? workspace : nullptr;
  float* yt = p.channels_first ? workspace + (padded ? rows * C : 0) : nullptr;

  for (int64_t n = 0; n < p.batch; ++n) {
    const float* xin = x + n * L * C;
    if (padded) {
      // Row r of xp is input step r - pad_left, zero outside [0, L).
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t pos = r - p.pad_left;
        float* dst = xp + r * C;
        if (pos < 0 || pos >= L) {
          std::fill(dst, dst + C, 0.0f);
        } else if (p.channels_first) {
          for (int64_t c = 0; c < C; ++c) dst[c] = xin[c * L + pos];
        } else {
          std::memcpy(dst, xin + pos * C, sizeof(float) * C);
        }
      }
      xin = xp;
    }
    float* out = p.channels_first ? yt : y + n * Lo * F;
    for (int64_t t = 0; t < Lo; ++t) {
      float* row = out + t * F;
      if (bias)
        std::memcpy(row, bias, sizeof(float) * F);
      else
        std::fill(row, row + F, 0.0f);
    }
    for (int64_t j = 0; j < p.kernel; ++j) {
      for (int64_t g = 0; g < p.groups; ++g) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<int>(Lo), static_cast<int>(fg),
                    static_cast<int>(cg), 1.0f, xin + j * p.dilation * C + g * cg, static_cast<int>(p.stride * C),
                    w + j * cg * F + g * fg, static_cast<int>(F), 1.0f, out + g * fg, static_cast<int>(F));
      }
    }
    if (p.channels_first) {
      float* yn = y + n * F * Lo;
      for (int64_t t = 0; t < Lo; ++t)
        for (int64_t f = 0; f < F; ++f) yn[f * Lo + t] = yt[t * F + f];
    }
  }
}

}  // namespace conv1d
