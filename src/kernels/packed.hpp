// Weights repacked once (at build / set_weights) into the blocked layouts the
// SIMD direct kernels stream through.
#pragma once

#include <conv1d/conv1d.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/problem.hpp"
#include "runtime/aligned.hpp"

namespace conv1d {

// How a layout is produced and consumed.
enum class PackKind {
  kNwc,        // vectorised over filters: block [k][Cg][units*lanes], units = vectors
  kNcw,        // vectorised over time: block [k][Cg][units], units = filters
  kDepthwise,  // groups == C == F: [k][C rounded up to lanes], vectorised over channels
};

// One run of filters [f0, f0 + nf) of `group`, padded to `units` vectors
// (kNwc) or holding `units` = nf filters (kNcw).
struct PackedBlock {
  int64_t group = 0;
  int64_t f0 = 0;  // first filter, relative to the group
  int64_t nf = 0;  // filters in this block
  int units = 0;
  size_t weights = 0;  // offset into data, in floats
  size_t bias = 0;     // offset into data, in floats
};

// The filters past a channels_last layer's last full vector when they are
// few and the reduction long enough (nwc_has_tail; one group only): packed
// [filter][tap][Cg rounded up to lanes], zero-padded, they run as dot
// products vectorised over the channels instead of filling a mostly empty
// filter vector (textcnn's F = 100 spent 12 of 112 lanes, 11% of its FMAs,
// on padding).
struct PackedTail {
  int64_t f0 = 0;  // first filter
  int64_t nf = 0;  // filters; 0: no tail
  int64_t c_round = 0;
  size_t weights = 0;  // offset into data, in floats
  size_t bias = 0;     // offset into data, in floats
};

// Whether pack_weights gives a kNwc layout of p a PackedTail at `lanes`.
bool nwc_has_tail(const ConvProblem& p, int lanes);

struct PackedWeights {
  PackKind kind = PackKind::kNwc;
  int lanes = 1;  // floats per vector
  std::vector<PackedBlock> blocks;
  PackedTail tail;  // kNwc only
  AlignedBuffer data;
  AlignedBuffer zero;  // a zero input row for padded taps, >= C rounded up to lanes
  // No inf or NaN among the weights: a padded tap adds only zeros, and a
  // kernel may skip it. With one, 0 * inf must still give NaN there, as
  // TensorFlow's zero padding (and our GEMM path) does.
  bool finite = true;
};

// Splits n units into the fewest blocks of at most max_units, balanced so
// that no block is much smaller than the others.
std::vector<int64_t> split_balanced(int64_t n, int max_units);

// Packs Keras-layout w (k, Cg, F) and bias (F or null) for `lanes`-wide
// vectors, with blocks of at most `max_units` units.
PackedWeights pack_weights(PackKind kind, const ConvProblem& p, const float* w, const float* bias, int lanes,
                           int max_units);

}  // namespace conv1d
