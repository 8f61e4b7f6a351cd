// The table of SIMD direct kernels one ISA file provides. Each entry splits
// its problem into independent tasks (disjoint outputs) and runs a range of
// them, so the caller can spread tasks over threads.
#pragma once

#include <conv1d/conv1d.h>

#include <cstdint>

#include "kernels/packed.hpp"
#include "kernels/problem.hpp"

namespace conv1d {

using TaskCountFn = int64_t (*)(const ConvProblem&, const PackedWeights&);
using TaskRunFn = void (*)(const ConvProblem&, const PackedWeights&, const float* x, float* y, conv1d_activation act,
                           int64_t begin, int64_t end);
// A TaskRunFn with a worker's own workspace (its size from a TaskCountFn beside it).
using TaskRunWsFn = void (*)(const ConvProblem&, const PackedWeights&, const float* x, float* y, conv1d_activation act,
                             int64_t begin, int64_t end, float* ws);

struct DirectKernels {
  int nwc_max_units;  // vectors of filters per channels_last block
  int ncw_max_units;  // filters per channels_first block
  int lanes;          // floats per vector
  TaskCountFn nwc_tasks;
  TaskRunFn nwc_run;  // PackKind::kNwc
  TaskCountFn ncw_tasks;
  TaskRunFn ncw_run;  // PackKind::kNcw, stride 1 only
  // ncw_run's tasks on x copied into panels, for pointwise layers: floats per
  // worker, 0 where ncw_run is the one to use.
  TaskCountFn ncw_xpanel_floats;
  TaskRunWsFn ncw_xpanel_run;
  TaskCountFn dw_tasks;
  TaskRunFn dw_run;  // PackKind::kDepthwise, channels_last, groups == C == F
};

namespace avx512 {
extern const DirectKernels kernels;
}
namespace avx2 {
extern const DirectKernels kernels;
}

}  // namespace conv1d
