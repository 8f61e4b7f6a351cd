// Backward (training) kernels. Like the forward ones they know nothing of
// Keras: dz is the gradient of the loss with respect to the conv+bias output
// (before the activation), in the output's layout; x, w and the geometry are
// the forward problem's. Every kernel overwrites its output completely:
//   dx[n, i, ch]   = sum over (t, j) with t*s + j*d - pad_left = i, f in ch's group
//                    of dz[n, t, f] * w[j, c, f]                (backward data)
//   dw[j, c, f]    = sum over n, t of x[n, t*s + j*d - pad_left, g(f)*Cg + c] * dz[n, t, f]
//                                                                (backward weights)
//   dbias[f]       = sum over n, t of dz[n, t, f]
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/problem.hpp"

namespace conv1d {

// The oracle: plain loops, double accumulation, both layouts.
void backward_data_reference(const ConvProblem& p, const float* dz, const float* w, float* dx);
void backward_weights_reference(const ConvProblem& p, const float* x, const float* dz, float* dw);

// dbias in double, summed in a fixed order (so for any thread count): the
// oracle's plain loops.
void backward_bias(const ConvProblem& p, const float* dz, float* dbias);
// The fast form: tasks are blocks of kBiasFilters filters, each ISA's
// BackwardKernels::bias runs tasks [begin, end).
constexpr int64_t kBiasFilters = 64;
inline int64_t backward_bias_tasks(const ConvProblem& p) { return (p.filters + kBiasFilters - 1) / kBiasFilters; }

// GEMMs spanning the whole batch on single-threaded OpenBLAS, channels_last
// only; dx and/or dw (either may be null). A fixed set of calls is spread
// over up to `threads` pool threads, so the result does not depend on the
// thread count. `workspace` holds backward_gemm_workspace_floats(p, dx, dw)
// floats; nothing is allocated.
std::size_t backward_gemm_workspace_floats(const ConvProblem& p, bool want_dx, bool want_dw);
void backward_gemm(const ConvProblem& p, const float* x, const float* dz, const float* w, float* dx, float* dw,
                   int threads, float* workspace);

// dw for channels_first with stride 1 (x and dz read in place, no
// transposes): one GEMM per (item, tap, group, block of channels) on
// single-threaded OpenBLAS, tasks fixed as above; the block size in channels.
int64_t backward_weights_ncw_block(const ConvProblem& p);
void backward_weights_ncw(const ConvProblem& p, const float* x, const float* dz, float* dw, int threads);
// dx as one GEMM per (group, block of dx rows) with the taps folded into its
// columns, P = dZ W^T of (rows x k*Cg), then scattered into dx taps in order:
// for few input channels per group, where per-tap GEMMs and the transposed
// forward (vectorised over C) waste most of their width. Channels_last;
// single-threaded OpenBLAS in a fixed task list; `workspace` holds
// backward_data_folded_floats(p, threads) floats. With `rows` (an ISA's
// BackwardKernels::fold_rows) the products come from that SIMD kernel
// instead of sgemm.
// FoldRowsFn: P[t - t0][j*Cg + c] for rows [t0, t1) of item n, group g.
using FoldRowsFn = void (*)(const ConvProblem& p, const float* dz, const float* w, float* P, int64_t n, int64_t g,
                            int64_t t0, int64_t t1);
std::size_t backward_data_folded_floats(const ConvProblem& p, int threads);
int64_t backward_data_folded_tasks(const ConvProblem& p);  // (item, block of dx rows) pairs
void backward_data_folded(const ConvProblem& p, const float* dz, const float* w, float* dx, int threads,
                          float* workspace, FoldRowsFn rows = nullptr);

// Direct loops, channels_last only, split into tasks over blocks of groups:
// a task writes only its own channels of dx and its own filters of dw, so any
// split over threads gives the same bits.
int64_t backward_direct_tasks(const ConvProblem& p);
// The first group and one past the last group of tasks [begin, end).
void backward_direct_groups(const ConvProblem& p, int64_t begin, int64_t end, int64_t* g0, int64_t* g1);

using BackwardRunFn = void (*)(const ConvProblem& p, const float* a, const float* b, float* out, int64_t begin,
                               int64_t end);
// Register-tiled dW on channels_last x and dz, read in place; tiles
// [begin, end) of weight_tiles(p), each owning its part of dw.
using WeightTilesFn = void (*)(const ConvProblem& p, const float* x, const float* dz, float* dw, int64_t begin,
                               int64_t end);
// One ISA's direct backward: data(p, dz, w, dx, ...) and weights(p, x, dz, dw, ...)
// loops over blocks of groups; SIMD ISAs also have the tiled dW kernel.
struct BackwardKernels {
  BackwardRunFn data;
  BackwardRunFn weights;
  int64_t (*weight_tiles)(const ConvProblem& p);  // null for the portable loops
  WeightTilesFn weight_tiles_run;
  // dW tiles vectorised over input channels (null for the portable loops):
  // the tile count, the workspace they share in floats, the panel workspace
  // each part of a split needs of its own (0: none), and tiles [begin, end).
  int64_t (*channel_tiles)(const ConvProblem& p);
  int64_t (*channel_tile_floats)(const ConvProblem& p);
  int64_t (*channel_panel_floats)(const ConvProblem& p);
  bool (*channel_bias_fused)(const ConvProblem& p);
  // x is channels_last; dz channels_last, or channels_first with
  // dz_channels_first; panel: this part's own panel workspace, or null;
  // dbias (with bias_sums, F doubles): also the bias gradient, when dz is
  // channels_last and channel_bias_fused(p) (null: not).
  void (*channel_tiles_run)(const ConvProblem& p, const float* x, const float* dz, bool dz_channels_first, float* dw,
                            float* workspace, float* panel, double* bias_sums, float* dbias, int64_t begin,
                            int64_t end);
  // dbias for tasks [begin, end) of backward_bias_tasks(p), either layout.
  void (*bias)(const ConvProblem& p, const float* dz, float* dbias, int64_t begin, int64_t end);
  FoldRowsFn fold_rows;  // the folded dx products along filters (null for the portable loops)
  // dW for channels_first at stride 1 as packed GEMM panels (null for the
  // portable loops): the task count for a thread count, one worker's
  // workspace in floats, and one task (each owns its filters' dw columns).
  int64_t (*ncw_panel_tasks)(const ConvProblem& p, int threads);
  int64_t (*ncw_panel_floats)(const ConvProblem& p);
  void (*ncw_panels_run)(const ConvProblem& p, const float* x, const float* dz, float* dw, float* workspace,
                         int threads, int64_t task);
};
namespace portable {
extern const BackwardKernels backward;
}
namespace avx2 {
extern const BackwardKernels backward;
}
namespace avx512 {
extern const BackwardKernels backward;
}

}  // namespace conv1d
