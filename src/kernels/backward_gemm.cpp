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

// The batch-wide row layout of the GEMM paths: each batch
// item's input padded to rp rows (a multiple of the stride), so that virtual
// output row m = n*vrows + t reads padded rows m*s + j*d for every item at
// once; the rows t >= out_steps between items get zero dz.
struct BackwardLayout {
  int64_t rp;                    // padded rows per item
  int64_t vrows;                 // virtual output rows per item: rp / s >= out_steps
  int64_t total;                 // virtual output rows over the batch
  int64_t padded;                // padded input rows over the batch: batch * rp
  bool x_in_place, dz_in_place;  // x or dz already has that layout
};

BackwardLayout backward_layout(const ConvProblem& p) {
  BackwardLayout l;
  const int64_t s = p.stride;
  l.rp = (std::max(p.span_rows(), p.pad_left + p.in_steps) + s - 1) / s * s;
  l.vrows = l.rp / s;
  // The last item's virtual rows are dropped, so no tap reads past the batch:
  // the last row read is (batch-1)*rp + span_rows - 1 < batch*rp.
  l.total = (p.batch - 1) * l.vrows + p.out_steps;
  l.padded = p.batch * l.rp;
  l.dz_in_place = l.vrows == p.out_steps;
  // Virtual rows of other items read the next item's input, times zero dz.
  l.x_in_place = p.pad_left == 0 && l.rp == p.in_steps;
  return l;
}

// Points *xp (when xp is not null) and *dzp at x and dz in that layout,
// copying into xbuf (padded*C floats) or zbuf (total*F floats) when needed.
void backward_stage(const ConvProblem& p, const BackwardLayout& l, const float* x, const float* dz, float* xbuf,
                    float* zbuf, const float** xp, const float** dzp) {
  const int64_t C = p.in_channels, F = p.filters, L = p.in_steps, Lo = p.out_steps;
  *dzp = dz;
  if (!l.dz_in_place) {
    for (int64_t n = 0; n < p.batch; ++n) {
      std::memcpy(zbuf + n * l.vrows * F, dz + n * Lo * F, sizeof(float) * Lo * F);
      if (n + 1 < p.batch) std::fill(zbuf + (n * l.vrows + Lo) * F, zbuf + (n + 1) * l.vrows * F, 0.0f);
    }
    *dzp = zbuf;
  }
  if (xp) {
    *xp = x;
    if (!l.x_in_place) {
      // Item n: pad_left zero rows, its L rows, zeros up to rp.
      for (int64_t n = 0; n < p.batch; ++n) {
        float* item = xbuf + n * l.rp * C;
        std::fill(item, item + p.pad_left * C, 0.0f);
        std::memcpy(item + p.pad_left * C, x + n * L * C, sizeof(float) * L * C);
        std::fill(item + (p.pad_left + L) * C, item + l.rp * C, 0.0f);
      }
      *xp = xbuf;
    }
  }
}

}  // namespace

std::size_t backward_gemm_workspace_floats(const ConvProblem& p, bool want_dx, bool want_dw) {
  const BackwardLayout l = backward_layout(p);
  const std::size_t rows = static_cast<std::size_t>(l.padded * p.in_channels);
  std::size_t n = 0;
  if (want_dw && !l.x_in_place) n += rows;  // Xp
  if (want_dx) n += rows;                   // dXp
  if (!l.dz_in_place) n += static_cast<std::size_t>(l.total * p.filters);
  return n;
}

void backward_gemm(const ConvProblem& p, const float* x, const float* dz, const float* w, float* dx, float* dw,
                   int threads, float* workspace) {
  const int64_t C = p.in_channels, F = p.filters, L = p.in_steps;
  const int64_t cg = p.cg(), fg = p.fg(), s = p.stride, d = p.dilation;
  const BackwardLayout l = backward_layout(p);
  // Carve the caller's workspace: Xp, dXp, dZp as needed.
  const std::size_t rows = static_cast<std::size_t>(l.padded * C);
  float* xbuf = workspace;
  float* dxbuf = xbuf + (dw && !l.x_in_place ? rows : 0);
  float* zbuf = dxbuf + (dx ? rows : 0);
  const float* dzp = nullptr;
  const float* xp = nullptr;
  backward_stage(p, l, x, dz, xbuf, zbuf, dw ? &xp : nullptr, &dzp);
  if (dw) {
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
    float* acc = dxbuf;
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

// dW for channels_first at stride 1, on x and dz in place: per item n and
// tap j, dW_j[c, f] += sum_t x[n, c, t + j*d - pad] * dz[n, f, t] over the t
// whose input is inside the item, a GEMM of (Cg x T) rows of x by the
// transpose of (Fg x T) rows of dz, both contiguous along t. Tasks are
// (tap, group, block of channels); each sums its items in order.
int64_t backward_weights_ncw_block(const ConvProblem& p) {
  // Each block repacks dz's rows in OpenBLAS: few, large blocks, but two of
  // them so that two threads share even a single tap.
  return std::max<int64_t>(64, (p.cg() + 31) / 32 * 16);
}

void backward_weights_ncw(const ConvProblem& p, const float* x, const float* dz, float* dw, int threads) {
  const int64_t C = p.in_channels, F = p.filters, L = p.in_steps, Lo = p.out_steps;
  const int64_t cg = p.cg(), fg = p.fg(), d = p.dilation, pad = p.pad_left;
  const int64_t kChannelBlock = backward_weights_ncw_block(p);
  const int64_t cblocks = (cg + kChannelBlock - 1) / kChannelBlock;
  parallel_for(p.kernel * p.groups * cblocks, threads, [&](int64_t begin, int64_t end) {
    for (int64_t task = begin; task < end; ++task) {
      const int64_t j = task / (p.groups * cblocks), g = task / cblocks % p.groups, cb = task % cblocks;
      const int64_t c0 = g * cg + cb * kChannelBlock, nc = std::min(kChannelBlock, cg - cb * kChannelBlock);
      float* out = dw + (j * cg + cb * kChannelBlock) * F + g * fg;
      const int64_t shift = j * d - pad;  // input column of output t is t + shift
      const int64_t t0 = std::max<int64_t>(0, -shift), t1 = std::min(Lo, L - shift);
      if (t1 <= t0) {
        for (int64_t c = 0; c < nc; ++c) std::fill(out + c * F, out + c * F + fg, 0.0f);
        continue;
      }
      for (int64_t n = 0; n < p.batch; ++n)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, i32(nc), i32(fg), i32(t1 - t0), 1.0f,
                    x + (n * C + c0) * L + t0 + shift, i32(L), dz + (n * F + g * fg) * Lo + t0, i32(Lo),
                    n == 0 ? 0.0f : 1.0f, out, i32(F));
    }
  });
}

}  // namespace conv1d

namespace conv1d {
namespace {

constexpr int64_t kFoldRows = 1024;  // dx rows per folded-GEMM task

struct FoldShape {
  int64_t blocks;  // dx row blocks per item
  int64_t t_max;   // most output rows one block needs
};

FoldShape fold_shape(const ConvProblem& p) {
  FoldShape f;
  f.blocks = (p.in_steps + kFoldRows - 1) / kFoldRows;
  f.t_max = std::min(p.out_steps, (kFoldRows + (p.kernel - 1) * p.dilation) / p.stride + 2);
  return f;
}

}  // namespace

int64_t backward_data_folded_tasks(const ConvProblem& p) { return p.batch * fold_shape(p).blocks; }

std::size_t backward_data_folded_floats(const ConvProblem& p, int threads) {
  const int64_t tasks = backward_data_folded_tasks(p);
  const int64_t slots = std::max<int64_t>(1, std::min<int64_t>(threads, tasks));
  return static_cast<std::size_t>(slots * fold_shape(p).t_max * p.kernel * p.cg());
}

void backward_data_folded(const ConvProblem& p, const float* dz, const float* w, float* dx, int threads,
                          float* workspace, FoldRowsFn rows) {
  const int64_t C = p.in_channels, F = p.filters, L = p.in_steps, Lo = p.out_steps, cg = p.cg(), fg = p.fg();
  const int64_t kc = p.kernel * cg, s = p.stride, d = p.dilation;
  const FoldShape fs = fold_shape(p);
  const int64_t tasks = backward_data_folded_tasks(p);
  const int slots = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, tasks)));
  const std::size_t per = static_cast<std::size_t>(fs.t_max * kc);
  // Worker k runs tasks k, k + slots, ...: each owns a block of dx rows and
  // recomputes the few output rows it shares with its neighbours.
  parallel_for(slots, slots, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      float* P = workspace + k * per;
      for (int64_t task = k; task < tasks; task += slots) {
        const int64_t n = task / fs.blocks, r0 = task % fs.blocks * kFoldRows, r1 = std::min(L, r0 + kFoldRows);
        // Output rows t with t*s + j*d - pad in [r0, r1) for some tap j.
        const int64_t lo_num = r0 + p.pad_left - (p.kernel - 1) * d;
        const int64_t t0 = std::max<int64_t>(0, lo_num <= 0 ? 0 : (lo_num + s - 1) / s);
        const int64_t t1 = std::min(Lo, (r1 - 1 + p.pad_left) / s + 1);
        float* out = dx + n * L * C;
        for (int64_t r = r0; r < r1; ++r) std::fill(out + r * C, out + (r + 1) * C, 0.0f);
        if (t0 >= t1) continue;
        for (int64_t g = 0; g < p.groups; ++g) {
          // P[t][j*cg + c] = sum_f dz[t][g*fg + f] * w[j][c][g*fg + f]
          if (rows)
            rows(p, dz, w, P, n, g, t0, t1);
          else
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, i32(t1 - t0), i32(kc), i32(fg), 1.0f,
                        dz + (n * Lo + t0) * F + g * fg, i32(F), w + g * fg, i32(F), 0.0f, P, i32(kc));
          // Scatter into this block's rows, taps in order for every row.
          for (int64_t t = t0; t < t1; ++t) {
            const float* pr = P + (t - t0) * kc;
            for (int64_t j = 0; j < p.kernel; ++j) {
              const int64_t pos = t * s + j * d - p.pad_left;
              if (pos < r0 || pos >= r1) continue;
              float* xr = out + pos * C + g * cg;
              for (int64_t c = 0; c < cg; ++c) xr[c] += pr[j * cg + c];
            }
          }
        }
      }
    }
  });
}

}  // namespace conv1d
