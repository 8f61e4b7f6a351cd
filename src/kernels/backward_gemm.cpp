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
// OpenBLAS' own threading changes its blocking, and with it the rounding, so
// it runs single-threaded here and the work is split into a fixed set of
// GEMM calls (blocks of filters for dW, blocks of padded rows for dX) spread
// over the library's pool: which thread makes a call never changes it, so
// the bits are the same for any thread count.
#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/backward.hpp"
#include "runtime/thread_pool.hpp"

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
  std::size_t n = 2 * static_cast<std::size_t>(l.padded * p.in_channels);  // dXp and Xp
  if (!l.dz_in_place) n += static_cast<std::size_t>(l.total * p.filters);
  return n;
}

void backward_gemm(const ConvProblem& p, const float* x, const float* dz, const float* w, float* dx, float* dw,
                   int threads) {
  const int64_t C = p.in_channels, F = p.filters, L = p.in_steps, Lo = p.out_steps;
  const int64_t cg = p.cg(), fg = p.fg(), s = p.stride, d = p.dilation;
  const Layout l = layout_of(p);
  // All workspace first: a failed allocation leaves dx and dw untouched.
  std::vector<float> xbuf((dw && !l.x_in_place) ? static_cast<std::size_t>(l.padded * C) : 0);
  std::vector<float> dxbuf(dx ? static_cast<std::size_t>(l.padded * C) : 0);
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
      for (int64_t n = 0; n < p.batch; ++n)
        std::memcpy(xbuf.data() + (n * l.rp + p.pad_left) * C, x + n * L * C, sizeof(float) * L * C);
      xp = xbuf.data();
    }
    // Tasks: (tap, group, block of kFilterBlock filters), each a whole-batch GEMM.
    constexpr int64_t kFilterBlock = 64;
    const int64_t fblocks = (fg + kFilterBlock - 1) / kFilterBlock;
    parallel_for(p.kernel * p.groups * fblocks, threads, [&](int64_t begin, int64_t end) {
      for (int64_t task = begin; task < end; ++task) {
        const int64_t j = task / (p.groups * fblocks), g = task / fblocks % p.groups, fb = task % fblocks;
        const int64_t f0 = g * fg + fb * kFilterBlock, nf = std::min(kFilterBlock, fg - fb * kFilterBlock);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, i32(cg), i32(nf), i32(l.total), 1.0f,
                    xp + j * d * C + g * cg, i32(s * C), dzp + f0, i32(F), 0.0f, dw + j * cg * F + f0, i32(F));
      }
    });
  }
  if (dx) {
    // Tasks: blocks of kRowBlock padded rows. Tap j reaches row r from
    // virtual output m = (r - j*d)/s, so each task runs, per tap, the GEMM of
    // the m that land in its rows: every row has one owner, and sums its
    // taps in order.
    constexpr int64_t kRowBlock = 256;
    float* acc = dxbuf.data();
    const int64_t blocks = (l.padded + kRowBlock - 1) / kRowBlock;
    parallel_for(blocks, threads, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; ++b) {
        const int64_t r0 = b * kRowBlock, r1 = std::min(l.padded, r0 + kRowBlock);
        std::fill(acc + r0 * C, acc + r1 * C, 0.0f);
        for (int64_t j = 0; j < p.kernel; ++j) {
          // m*s + j*d in [r0, r1)
          const int64_t m0 = std::max<int64_t>(0, (r0 - j * d + s - 1) / s);
          const int64_t m1 = std::min(l.total, r1 - j * d <= 0 ? 0 : (r1 - j * d + s - 1) / s);
          if (m0 >= m1) continue;
          for (int64_t g = 0; g < p.groups; ++g)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, i32(m1 - m0), i32(cg), i32(fg), 1.0f,
                        dzp + m0 * F + g * fg, i32(F), w + j * cg * F + g * fg, i32(F), 1.0f,
                        acc + (m0 * s + j * d) * C + g * cg, i32(s * C));
        }
      }
    });
    for (int64_t n = 0; n < p.batch; ++n)
      std::memcpy(dx + n * L * C, acc + (n * l.rp + p.pad_left) * C, sizeof(float) * L * C);
  }
}

}  // namespace conv1d
