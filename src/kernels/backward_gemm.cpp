// Backward as per-tap GEMMs on OpenBLAS, channels_last (the caller
// transposes channels_first). Tap j links output row t to input row
// t*s + j*d of the padded input, so each (tap, group) is one GEMM over a
// strided view, as in the forward:
//   data:    dXp[rows t*s + j*d, group c] += dZ[t, group f] * W_j[c, f]^T
//   weights: dW_j[c, f] += Xp[rows t*s + j*d, c]^T * dZ[t, f]
// OpenBLAS splits a GEMM over rows and columns of its output, never over the
// reduction, so the result does not depend on its thread count.
#include <cblas.h>

#include <algorithm>
#include <cstring>

#include "kernels/backward.hpp"

namespace conv1d {
namespace {

// The input can be used in place: nothing padded on either side.
bool in_place(const ConvProblem& p) { return p.pad_left == 0 && p.span_rows() <= p.in_steps; }

int i32(int64_t v) { return static_cast<int>(v); }

}  // namespace

std::size_t backward_gemm_workspace_floats(const ConvProblem& p) {
  return in_place(p) ? 0 : static_cast<std::size_t>(p.span_rows() * p.in_channels);
}

void backward_data_gemm(const ConvProblem& p, const float* dz, const float* w, float* dx, float* workspace) {
  const int64_t C = p.in_channels, F = p.filters, L = p.in_steps, Lo = p.out_steps;
  const int64_t cg = p.cg(), fg = p.fg(), rows = p.span_rows();
  const bool direct = in_place(p);
  for (int64_t n = 0; n < p.batch; ++n) {
    float* dxn = dx + n * L * C;
    float* acc = direct ? dxn : workspace;
    std::fill(acc, acc + (direct ? L : rows) * C, 0.0f);
    const float* dzn = dz + n * Lo * F;
    for (int64_t j = 0; j < p.kernel; ++j) {
      for (int64_t g = 0; g < p.groups; ++g) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, i32(Lo), i32(cg), i32(fg), 1.0f, dzn + g * fg, i32(F),
                    w + j * cg * F + g * fg, i32(F), 1.0f, acc + j * p.dilation * C + g * cg, i32(p.stride * C));
      }
    }
    if (!direct) {
      // Input step i is padded row i + pad_left; rows past the span got nothing.
      for (int64_t i = 0; i < L; ++i) {
        const int64_t r = i + p.pad_left;
        if (r < rows)
          std::memcpy(dxn + i * C, acc + r * C, sizeof(float) * C);
        else
          std::fill(dxn + i * C, dxn + (i + 1) * C, 0.0f);
      }
    }
  }
}

void backward_weights_gemm(const ConvProblem& p, const float* x, const float* dz, float* dw, float* workspace) {
  const int64_t C = p.in_channels, F = p.filters, L = p.in_steps, Lo = p.out_steps;
  const int64_t cg = p.cg(), fg = p.fg(), rows = p.span_rows();
  const bool direct = in_place(p);
  for (int64_t n = 0; n < p.batch; ++n) {
    const float* xin = x + n * L * C;
    if (!direct) {
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t pos = r - p.pad_left;
        float* dst = workspace + r * C;
        if (pos < 0 || pos >= L)
          std::fill(dst, dst + C, 0.0f);
        else
          std::memcpy(dst, xin + pos * C, sizeof(float) * C);
      }
      xin = workspace;
    }
    const float* dzn = dz + n * Lo * F;
    const float beta = n == 0 ? 0.0f : 1.0f;
    for (int64_t j = 0; j < p.kernel; ++j) {
      for (int64_t g = 0; g < p.groups; ++g) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, i32(cg), i32(fg), i32(Lo), 1.0f,
                    xin + j * p.dilation * C + g * cg, i32(p.stride * C), dzn + g * fg, i32(F), beta,
                    dw + j * cg * F + g * fg, i32(F));
      }
    }
  }
}

}  // namespace conv1d
