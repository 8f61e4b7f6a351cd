// Convolution as GEMMs on OpenBLAS without im2col: for channels_last, tap j
// of the output is a GEMM of a strided view of the (padded) input, rows
// t*s + j*d, with the (Cg x Fg) weight slice of that tap.
//
// The work is a fixed list of tasks, each a block of kRows output rows of one
// batch item: the task copies the input rows its block reaches (padding
// materialised, channels_first transposed) into its slot of the workspace,
// runs k*G GEMMs per tile of kGemmRowTile rows, and writes its rows. Every
// GEMM has the same shape, so an output's rounding depends only on its row
// within its tile, never on the problem's length (see problem.hpp).
// OpenBLAS runs single-threaded (its own threading changes its rounding);
// tasks are spread over the pool, and since a task's calls never depend on
// which thread runs it, the output is the same for any thread count.
// float32 (sgemm) and float64 (dgemm) share the code.
#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "kernels/problem.hpp"
#include "runtime/thread_pool.hpp"

namespace conv1d {
namespace {

constexpr int64_t kRows = 256;  // output rows per task, a multiple of kGemmRowTile
static_assert(kRows % kGemmRowTile == 0, "tasks hold whole row tiles");

int i32(int64_t v) { return static_cast<int>(v); }

// C += A B, row-major, no transposes.
void gemm_acc(int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, lda, b, ldb, 1.0f, c, ldc);
}
void gemm_acc(int m, int n, int k, const double* a, int lda, const double* b, int ldb, double* c, int ldc) {
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0, a, lda, b, ldb, 1.0, c, ldc);
}

// Input rows a block of `rows` output rows reaches.
int64_t block_span(const ConvProblem& p, int64_t rows) {
  return (rows - 1) * p.stride + (p.kernel - 1) * p.dilation + 1;
}

int64_t blocks_per_item(const ConvProblem& p) { return (p.out_steps + kRows - 1) / kRows; }

// Output rows of the largest task, rounded up to whole tiles.
int64_t task_rows(const ConvProblem& p) {
  return std::min(kRows, (p.out_steps + kGemmRowTile - 1) / kGemmRowTile * kGemmRowTile);
}

// Workspace of one task: its input rows, then its output rows for
// channels_first, or one tile of rows for channels_last (the last tile of
// a sequence, whose rows past out_steps have no place in y).
std::size_t slot_floats(const ConvProblem& p) {
  const int64_t rows = task_rows(p);
  return static_cast<std::size_t>(block_span(p, rows) * p.in_channels +
                                  (p.channels_first ? rows : kGemmRowTile) * p.filters);
}

// Rows per GEMM call. float32 always uses kGemmRowTile, which keeps streamed
// outputs bitwise equal to forward's (problem.hpp). float64 has no streams,
// so a short input gets a tile of its own length instead of mostly waste;
// every call of one problem still has the same shape, so the result does not
// depend on the thread count. Never more than kGemmRowTile, which the
// workspace is sized for.
template <class T>
int64_t row_tile(const ConvProblem& p) {
  if (std::is_same<T, float>::value || p.out_steps >= kGemmRowTile) return kGemmRowTile;
  return (p.out_steps + 3) / 4 * 4;
}

template <class T>
void run_task(const ConvProblem& p, const T* x, const T* w, const T* bias, T* y, int64_t task, T* slot) {
  const int64_t C = p.in_channels, F = p.filters, L = p.in_steps, Lo = p.out_steps, cg = p.cg(), fg = p.fg();
  const int64_t n = task / blocks_per_item(p), t0 = task % blocks_per_item(p) * kRows;
  const int64_t rows = std::min(kRows, Lo - t0);
  const int64_t tile = row_tile<T>(p);
  const int64_t tiles = (rows + tile - 1) / tile, span = block_span(p, tiles * tile);
  const T* xn = x + n * L * C;
  T* xp = slot;
  // Row r of xp is input step t0*s + r - pad_left, zero outside [0, L).
  for (int64_t r = 0; r < span; ++r) {
    const int64_t pos = t0 * p.stride + r - p.pad_left;
    T* dst = xp + r * C;
    if (pos < 0 || pos >= L) {
      std::fill(dst, dst + C, T(0));
    } else if (p.channels_first) {
      for (int64_t c = 0; c < C; ++c) dst[c] = xn[c * L + pos];
    } else {
      std::memcpy(dst, xn + pos * C, sizeof(T) * C);
    }
  }
  T* extra = slot + block_span(p, task_rows(p)) * C;
  for (int64_t q = 0; q < tiles; ++q) {
    const int64_t r0 = q * tile, valid = std::min(tile, rows - r0);
    // channels_first: rows (time, filters) in the slot, transposed below;
    // channels_last: straight into y, but a partial last tile in the slot.
    T* out = p.channels_first ? extra + r0 * F : valid == tile ? y + (n * Lo + t0 + r0) * F : extra;
    for (int64_t t = 0; t < tile; ++t) {
      T* row = out + t * F;
      if (bias)
        std::memcpy(row, bias, sizeof(T) * F);
      else
        std::fill(row, row + F, T(0));
    }
    const T* xq = xp + r0 * p.stride * C;
    for (int64_t j = 0; j < p.kernel; ++j)
      for (int64_t g = 0; g < p.groups; ++g)
        gemm_acc(i32(tile), i32(fg), i32(cg), xq + j * p.dilation * C + g * cg, i32(p.stride * C),
                 w + j * cg * F + g * fg, i32(F), out + g * fg, i32(F));
    if (!p.channels_first && valid < tile)
      std::memcpy(y + (n * Lo + t0 + r0) * F, out, sizeof(T) * static_cast<size_t>(valid * F));
  }
  if (p.channels_first) {
    T* yn = y + n * F * Lo;
    for (int64_t t = 0; t < rows; ++t)
      for (int64_t f = 0; f < F; ++f) yn[f * Lo + t0 + t] = extra[t * F + f];
  }
}

}  // namespace

std::size_t gemm_workspace_floats(const ConvProblem& p, int threads) {
  return static_cast<std::size_t>(std::max(1, threads)) * slot_floats(p);
}

int64_t gemm_tasks(const ConvProblem& p) { return p.batch * blocks_per_item(p); }

namespace {

template <class T>
void gemm_conv(const ConvProblem& p, const T* x, const T* w, const T* bias, T* y, T* workspace, int threads) {
  const int64_t tasks = gemm_tasks(p);
  const int slots = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(threads, tasks)));
  const std::size_t per = slot_floats(p);
  // One workspace slot per worker: worker k runs tasks k, k + slots, ...
  parallel_for(slots, slots, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k)
      for (int64_t task = k; task < tasks; task += slots) run_task(p, x, w, bias, y, task, workspace + k * per);
  });
}

}  // namespace

void conv_gemm(const ConvProblem& p, const float* x, const float* w, const float* bias, float* y, float* workspace,
               int threads) {
  gemm_conv(p, x, w, bias, y, workspace, threads);
}

void conv_gemm(const ConvProblem& p, const double* x, const double* w, const double* bias, double* y, double* workspace,
               int threads) {
  gemm_conv(p, x, w, bias, y, workspace, threads);
}

}  // namespace conv1d
