// The bfloat16 direct convolution: bf16 inputs and weights, float32
// accumulation, float32 or bf16 outputs. channels_last only. The kernel is
// AVX512_BF16 (vdpbf16ps); callers check cpu_has_avx512_bf16() first.
#pragma once

#include <conv1d/conv1d.h>

#include <cstdint>
#include <vector>

#include "kernels/packed.hpp"
#include "kernels/problem.hpp"
#include "runtime/aligned.hpp"
#include "runtime/bf16.hpp"

namespace conv1d {

// Filters in blocks of up to 4 vectors of 16, as PackedWeights' kNwc; each
// block holds, per reduction step, 16 filters x (a pair of bf16) per vector:
// the operand layout of vdpbf16ps, which adds both products of a pair into
// one float32 lane.
//
// A reduction step pairs two input values adjacent in memory. With
// dilation 1 and one group (`flat`), the k*C values an output reads are
// contiguous in x (k rows of C channels), as is w's (k, C) index: steps
// pair flat indices 2q, 2q+1 of that run, across the tap boundary when C is
// odd; an odd k*C ends with the last value paired with zeros. Otherwise
// steps pair channels 2q, 2q+1 within each tap, and an odd Cg ends each tap
// with its last channel paired with a zero weight and a zero input (never
// the next value in memory: 0 * inf = NaN). For even C both orders are the
// same packing.
struct PackedBf16 {
  bool flat = false;
  int64_t steps = 0;  // reduction steps per filter vector
  // PackedBlock::weights counts bf16 values into `weights`, ::bias floats into `bias`.
  std::vector<PackedBlock> blocks;
  AlignedBuffer weights;  // bf16 storage, two per float slot, 64-byte aligned
  AlignedBuffer bias;     // float32, zeros without bias
  AlignedBuffer zero;     // a zero input row for padded taps, C bf16 or more

  const bf16_t* w() const { return reinterpret_cast<const bf16_t*>(weights.data()); }
  const bf16_t* zero_row() const { return reinterpret_cast<const bf16_t*>(zero.data()); }
};

// Tiling shared by the kernel and bf16_tasks: blocks of at most
// kBf16MaxUnits vectors of 16 filters; a tile is bf16_tile_rows(NV) output
// steps by NV vectors (T*NV accumulators + NV weight vectors + the
// broadcast input pair within 32 registers, and at most 8 rows: each holds a
// general register for its input pointer, and 14 rows of one vector spilled
// them, 20% slower on small_latency); a task covers a chunk of 8 tiles of one batch item,
// through every block when the packed weights fit in L2 (rows-major, so
// each output row is finished while in cache), else through one block (so a
// thread keeps that block's weights in L2 while streaming the input).
constexpr int kBf16Lanes = 16;
constexpr int kBf16MaxUnits = 4;
constexpr int bf16_tile_rows(int nv) { return nv <= 3 ? 8 : 6; }
constexpr int64_t bf16_chunk_rows(int nv) { return static_cast<int64_t>(bf16_tile_rows(nv)) * 8; }
inline bool bf16_rows_major(const PackedBf16& w) { return w.weights.size() * sizeof(float) <= (768u << 10); }

// Whether the kernel is the right one for p: channels_last, and not Cg == 1
// with several groups (depthwise and its channel multipliers), where one
// filter per group would fill a 16-lane vector with padding; those belong to
// the float32 depthwise kernel on widened inputs. The kernel itself computes
// any channels_last problem correctly.
inline bool bf16_kernel_supports(const ConvProblem& p) { return !p.channels_first && !(p.cg() == 1 && p.groups > 1); }

// Packs Keras-layout w (k, Cg, F), rounding each value to bf16 (RNE), and
// bias (F floats, or null for none) as float32, used as given: round it to
// bf16 first for Keras' bf16-variable semantics. channels_last p only.
PackedBf16 pack_bf16(const ConvProblem& p, const float* w, const float* bias);

// The kernel splits p into this many tasks with disjoint outputs.
int64_t bf16_tasks(const ConvProblem& p, const PackedBf16& w);

// Runs tasks [task_begin, task_end): y = act(conv(x, w) + bias) for x
// (N, L, C) bf16 and y (N, L_out, F), float32 or, with y_bf16, bf16 rounded
// to nearest even from the float32 result. `act` must be elementwise (pass
// LINEAR and apply axis-wise activations afterwards); it is applied in
// float32 before rounding. Each output is reduced in one fixed order (the
// packed steps) whatever the task split, so the result does not depend
// on how tasks are spread over threads. Like vdpbf16ps, bf16 subnormal
// inputs count as zero and subnormal partial sums flush to zero. Needs
// AVX512_BF16.
void conv_bf16_avx512(const ConvProblem& p, const PackedBf16& w, const bf16_t* x, void* y, bool y_bf16,
                      conv1d_activation act, int64_t task_begin, int64_t task_end);

}  // namespace conv1d
