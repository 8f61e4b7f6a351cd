// Backward as GEMMs on OpenBLAS, channels_last (the caller transposes
// channels_first). Tap j links output row t to input row t*s + j*d of the
// padded input. Each batch item is padded to Rp rows, a multiple of the
// stride, so that over the whole batch output row m = n*(Rp/s) + t reads
// padded row m*s + j*d: one strided view covers every item, and each
// (tap, group) is a single GEMM with the batch in its long dimension. The
// rows t >= Lo this adds between items are "virtual": their dz rows are
// zero, so they contribute nothing.
//   data:    dXp[rows m*s + j*d, group c] += dZp[m, group f] * W_j[c, f]^T
//   weights: dW_j[c, f] = Xp[rows m*s + j*d, c]^T * dZp[m, f]
// OpenBLAS splits a GEMM over rows and columns of its output, never over the
// reduction, so the result does not depend on its thread count.
#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/backward.hpp"

namespace conv1d {
namespace {

int i32(int64_t v) { return static_cast<int>(v); }

struct Layout {
  int64_t rp;      // padded rows per item, a multiple of the stride
  int64_t vrows;   // virtual output rows per item: rp / s >= Lo
  int64_t total;   // virtual output rows over the batch
  int64_t padded;  // padded input rows to allocate: the batch plus the taps' reach past it
  bool x_in_place, dz_in_place;
};

Layout layout_of(const ConvProblem& p) {
  Layout l;
  const int64_t s = p.stride;
  l.rp = (std::max(p.span_rows(), p.pad_left + p.in_steps) + s - 1) / s * s;
  l.vrows = l.rp / s;
  l.total = p.batch * l.vrows;
  l.padded = p.batch * l.rp + (p.kernel - 1) * p.dilation + s;
  l.dz_in_place = l.vrows == p.out_steps;
  // x itself has that layout when nothing is padded and no tap reads past the batch.
  l.x_in_place = p.pad_left == 0 && l.rp == p.in_steps && l.dz_in_place;
  return l;
}

}  // namespace

std::size_t backward_gemm_workspace_floats(const ConvProblem& p) {
  const Layout l = layout_of(p);
  std::size_t n = static_cast<std::size_t>(l.padded * p.in_channels);  // dXp, or Xp
  if (!l.dz_in_place) n += static_cast<std::size_t>(l.total * p.filters);
  return n;
}

void backward_gemm(const ConvProblem& p, const float* x, const float* dz, const float* w, float* dx, float* dw) {
  const int64_t C = p.in_channels, F = p.filters, L = p.in_steps, Lo = p.out_steps;
  const int64_t cg = p.cg(), fg = p.fg(), s = p.stride, d = p.dilation;
  const Layout l = layout_of(p);
  // All workspace first: a failed allocation leaves dx and dw untouched.
  std::vector<float> xbuf((dw && !l.x_in_place) || dx ? static_cast<std::size_t>(l.padded * C) : 0);
  std::vector<float> zbuf(l.dz_in_place ? 0 : static_cast<std::size_t>(l.total * F));
  const float* dzp = dz;
  if (!l.dz_in_place) {
    for (int64_t n = 0; n < p.batch; ++n) {
      std::memcpy(zbuf.data() + n * l.vrows * F, dz + n * Lo * F, sizeof(float) * Lo * F);
      std::fill(zbuf.data() + (n * l.vrows + Lo) * F, zbuf.data() + (n + 1) * l.vrows * F, 0.0f);
    }
    dzp = zbuf.data();
  }
  if (dw) {
    const float* xp = x;
    if (!l.x_in_place) {
      std::fill(xbuf.begin(), xbuf.end(), 0.0f);
      for (int64_t n = 0; n < p.batch; ++n)
        std::memcpy(xbuf.data() + (n * l.rp + p.pad_left) * C, x + n * L * C, sizeof(float) * L * C);
      xp = xbuf.data();
    }
    for (int64_t j = 0; j < p.kernel; ++j)
      for (int64_t g = 0; g < p.groups; ++g)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, i32(cg), i32(fg), i32(l.total), 1.0f,
                    xp + j * d * C + g * cg, i32(s * C), dzp + g * fg, i32(F), 0.0f, dw + j * cg * F + g * fg, i32(F));
  }
  if (dx) {
    float* acc = xbuf.data();
    std::fill(xbuf.begin(), xbuf.end(), 0.0f);
    for (int64_t j = 0; j < p.kernel; ++j)
      for (int64_t g = 0; g < p.groups; ++g)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, i32(l.total), i32(cg), i32(fg), 1.0f, dzp + g * fg, i32(F),
                    w + j * cg * F + g * fg, i32(F), 1.0f, acc + j * d * C + g * cg, i32(s * C));
    for (int64_t n = 0; n < p.batch; ++n)
      std::memcpy(dx + n * L * C, acc + (n * l.rp + p.pad_left) * C, sizeof(float) * L * C);
  }
}

}  // namespace conv1d
