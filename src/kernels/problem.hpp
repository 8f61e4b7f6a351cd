// The problem descriptor every convolution kernel takes. Kernels know nothing
// of Keras: they see sizes, raw pointers and the pads already resolved.
#pragma once

#include <cstddef>
#include <cstdint>

namespace conv1d {

struct ConvProblem {
  int64_t batch = 1;
  int64_t in_steps = 1;         // L
  int64_t in_channels = 1;      // C
  int64_t out_steps = 1;        // L_out
  int64_t filters = 1;          // F
  int64_t kernel = 1;           // k
  int64_t stride = 1;           // s
  int64_t dilation = 1;         // d
  int64_t groups = 1;           // G; C % G == 0 and F % G == 0
  int64_t pad_left = 0;         // zeros before the input; those after it are implied by out_steps
  bool channels_first = false;  // x (N,C,L), y (N,F,L_out) instead of (N,L,C), (N,L_out,F)
  // Output pitches in floats, 0 for dense (F and L_out*F). Only the
  // channels_last SIMD direct kernels honour them: backward's strided dx
  // phases write every s-th row of dx in place through them.
  int64_t y_row_pitch = 0;
  int64_t y_item_pitch = 0;

  int64_t cg() const { return in_channels / groups; }
  int64_t fg() const { return filters / groups; }
  int64_t y_row() const { return y_row_pitch ? y_row_pitch : filters; }
  int64_t y_item() const { return y_item_pitch ? y_item_pitch : out_steps * filters; }
  // Rows of input the taps reach, padding included.
  int64_t span_rows() const { return (out_steps - 1) * stride + (kernel - 1) * dilation + 1; }
  // Output rows [*lo, *hi) whose input row t*stride + off lies in
  // [0, in_steps), for a tap at input offset off = j*dilation - pad_left
  // (*lo >= *hi: none).
  void rows_inside(int64_t off, int64_t* lo, int64_t* hi) const {
    *lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
    const int64_t last = (in_steps - off - 1) / stride + 1;
    *hi = in_steps - off <= 0 ? 0 : last < out_steps ? last : out_steps;
  }
  // The first tap every output row reads inside the input, or -1 (an input
  // shorter than the padding can leave none).
  int64_t full_tap() const {
    for (int64_t j = 0; j < kernel; ++j) {
      int64_t lo, hi;
      rows_inside(j * dilation - pad_left, &lo, &hi);
      if (lo == 0 && hi == out_steps) return j;
    }
    return -1;
  }
};

// All kernels compute y = conv(x, w) + bias (bias may be null) without any
// activation, with w in Keras layout (k, C/G, F):
//   y[n,t,f] = bias[f] + sum_{j,c} xp[n, t*s + j*d - pad_left, g(f)*Cg + c] * w[j,c,f]
// where out-of-range input positions read as zero and g(f) = f / Fg.
// They overwrite y completely and never allocate unless stated.

// Each comes in float32 and float64; the float64 forms take and give double
// throughout (float64 layers).

// The oracle: naive loops with double accumulation.
void conv_reference(const ConvProblem& p, const float* x, const float* w, const float* bias, float* y);
void conv_reference(const ConvProblem& p, const double* x, const double* w, const double* bias, double* y);

// Direct convolution (portable C++). The float64 form has a loop of its own
// for channels_last depthwise problems (one channel and filter per group).
void conv_direct(const ConvProblem& p, const float* x, const float* w, const float* bias, float* y);
void conv_direct(const ConvProblem& p, const double* x, const double* w, const double* bias, double* y);

// Per-tap GEMMs on single-threaded OpenBLAS (sgemm / dgemm), in a fixed list
// of tasks (blocks of output rows) spread over up to `threads` pool threads:
// the output does not depend on the thread count. Needs `workspace` of
// gemm_workspace_floats(p, threads) elements (floats, or doubles for float64).
//
// GEMM rounds an element differently depending on where it falls in the
// matrix it is given (its micro-kernel tiles and their remainders), so every
// call covers exactly kGemmRowTile output rows, starting at a multiple of
// kGemmRowTile (rows past out_steps are computed and dropped). An output row
// t is then the same bits whatever out_steps, batch or thread count is, as
// long as it stays the same multiple-of-kGemmRowTile distance from output 0:
// streams compute whole tiles for that reason. 128 rows cost 2-4% against
// 256-row calls (64 rows: 4-8%).
constexpr int64_t kGemmRowTile = 128;
std::size_t gemm_workspace_floats(const ConvProblem& p, int threads);
int64_t gemm_tasks(const ConvProblem& p);
void conv_gemm(const ConvProblem& p, const float* x, const float* w, const float* bias, float* y, float* workspace,
               int threads);
void conv_gemm(const ConvProblem& p, const double* x, const double* w, const double* bias, double* y, double* workspace,
               int threads);

}  // namespace conv1d
