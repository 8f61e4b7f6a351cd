// Algorithm choice and execution: the one place that maps a problem to a
// kernel, an instruction set and a thread count.
#pragma once

#include <conv1d/conv1d.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/bf16.hpp"
#include "kernels/packed.hpp"
#include "kernels/problem.hpp"

namespace conv1d {

// What the caller asks of dispatch.
struct ExecConfig {
  conv1d_algorithm algorithm = CONV1D_ALGORITHM_AUTO;
  // The layer's compute dtype. bfloat16 plans run the float32 kernels on
  // bf16-rounded data (widened x, kernel rounded at install), unless a native
  // bf16 kernel takes the shape; float64 plans run the double kernels.
  conv1d_dtype dtype = CONV1D_DTYPE_FLOAT32;
  // bfloat16 only: the native kernel table the layer packed its weights for, or null.
  const struct NativeBf16Kernels* native_bf16 = nullptr;
  conv1d_isa max_isa = CONV1D_ISA_SCALAR;  // already capped by the CPU
  int threads = 1;                         // upper bound
};

// What dispatch decided for one problem shape.
struct Plan {
  conv1d_algorithm algorithm = CONV1D_ALGORITHM_DIRECT;
  conv1d_isa isa = CONV1D_ISA_SCALAR;  // SIMD level of a direct plan
  int threads = 1;
  std::string kernel;  // e.g. "direct/avx512/nwc", "gemm/openblas", "direct/scalar", "gemm/openblas-f64"
  std::string reason;
  conv1d_dtype dtype = CONV1D_DTYPE_FLOAT32;  // the compute dtype it was made for
  bool native_bf16 = false;                   // runs a NativeBf16Kernels table (see below)
};

// ---- Native bfloat16 kernels: the hook -------------------------------------
// A kernel that reads bf16 x directly and writes bf16 or float32 y, with
// products accumulated in float32, the bias added in float32 and an
// elementwise activation fused (axis-wise ones are applied by the layer
// afterwards on float32 output). Its weights are packed once per layer by
// `pack` from the bf16-rounded kernel (as float) and the bias. The work is a
// list of `tasks(p, packed)` independent tasks, `run` does [begin, end).
struct NativeBf16Kernels {
  const char* name;  // the plan's kernel name, e.g. "direct/avx512bf16/nwc"
  conv1d_isa isa;    // the instruction-set level it needs (CONV1D_MAX_ISA caps it)
  bool (*supports)(const ConvProblem& p);
  PackedBf16 (*pack)(const ConvProblem& p, const float* w, const float* bias);
  int64_t (*tasks)(const ConvProblem& p, const PackedBf16& packed);
  void (*run)(const ConvProblem& p, const PackedBf16& packed, const uint16_t* x, void* y, bool y_bf16,
              conv1d_activation act, int64_t begin, int64_t end);
};

// The native bf16 kernel table this CPU can run at `max_isa` (AVX512_BF16
// at the AVX-512 level), or null when there is none: then bf16 layers take
// the portable path through the float32 kernels.
const NativeBf16Kernels* native_bf16_kernels(conv1d_isa max_isa);

// The packed layout the SIMD direct kernels want for p, if any: false when
// only the portable kernel can run p (e.g. channels_first with strides > 1).
bool simd_pack_kind(const ConvProblem& p, PackKind* kind);

// Packs w and bias for p at `isa` (must be AVX2 or better and simd_pack_kind true).
PackedWeights pack_for(const ConvProblem& p, conv1d_isa isa, const float* w, const float* bias);

// Whether `a` can run `p` at all (GEMM needs 32-bit BLAS sizes).
bool algorithm_supports(conv1d_algorithm a, const ConvProblem& p);

// Plans p for e.dtype: the forced algorithm when it can run p, else AUTO's
// cost-model choice (never the reference). `packed` is the layer's packed weights for
// `packed_isa`, or null when there are none.
Plan make_plan(const ConvProblem& p, const ExecConfig& e, const PackedWeights* packed, conv1d_isa packed_isa);

// The thread count make_plan gives `plan`'s algorithm for p: streams fix
// their plan once and re-fit only its threads to each chunk, which never
// changes a result (every path is bitwise the same for any thread count).
int plan_threads(const Plan& plan, const ConvProblem& p, const ExecConfig& e, const PackedWeights* packed);

// Candidate plans for timing ("find" mode): one per algorithm that can run p.
std::vector<Plan> candidate_plans(const ConvProblem& p, const ExecConfig& e, const PackedWeights* packed,
                                  conv1d_isa packed_isa);

// Runs conv + bias per plan into y, applying `act` too when it is
// elementwise and the kernel fuses it; returns whether it did. Allocates any
// workspace before writing y, so a failed allocation leaves y untouched.
// `threads` > 0 replaces plan.threads (callers that narrow a cached plan's
// threads pass it here rather than copying the plan and its strings).
bool execute(const Plan& plan, const ConvProblem& p, const float* x, const float* w, const float* bias,
             const PackedWeights* packed, conv1d_activation act, float* y, int threads = 0);

// The float64 form, for plans made with dtype float64 (reference, portable
// direct loops, dgemm); it never fuses the activation.
void execute(const Plan& plan, const ConvProblem& p, const double* x, const double* w, const double* bias, double* y);

// Runs a native_bf16 plan: x is bf16, y bf16 (y_bf16) or float32. Fuses
// `act` when elementwise and returns whether it did, like execute.
bool execute_native_bf16(const Plan& plan, const ConvProblem& p, const PackedBf16& packed, const uint16_t* x, void* y,
                         bool y_bf16, conv1d_activation act);

// One stride phase of a transposed dx (see data_phases in dispatch.cpp).
struct DataPhase {
  int64_t r = 0;        // u mod s of the phase's dx rows
  int64_t taps = 0;     // k_r; 0 when the phase meets no tap (its dx rows are 0)
  int64_t q_first = 0;  // first q whose dx row exists (i >= 0)
  int64_t q_start = 0;  // first q the phase's forward computes
  int64_t rows = 0;     // rows the forward computes (from q_start)
  ConvProblem q;        // the phase's forward problem
};

// How each backward pass runs. Execution follows these; the plans' kernel
// strings only describe them.
enum class DataMethod { kReference, kTransposed, kFolded, kGemm, kLoops };
enum class WeightsMethod { kReference, kNcwGemm, kNcwPanels, kChannelTiles, kWeightTiles, kGemm, kLoops };

// The backward pass: how dx (data) and dw (weights) are computed.
struct BackwardPlan {
  Plan data;
  Plan weights;
  DataMethod data_method = DataMethod::kReference;
  WeightsMethod weights_method = WeightsMethod::kReference;
  // Transposed dx: the stride phases that have dx rows (one, r = 0, at
  // stride 1, whose q is the forward problem the SIMD kernels run on dz).
  std::vector<DataPhase> phases;
  // The ISA cap it was planned under: the channels_first layout transposes use it.
  conv1d_isa max_isa = CONV1D_ISA_SCALAR;
};

// Plans the backward pass of p: the forced algorithm, or for AUTO the
// forward SIMD kernels on the transposed problem for dx when the stride is 1,
// batch-wide GEMMs otherwise, and direct loops for depthwise layers.
BackwardPlan make_backward_plan(const ConvProblem& p, const ExecConfig& e);

// dbias of p (either layout) with e's ISA on up to e's threads; the
// reference algorithm runs the plain oracle loops. Same bits for any thread
// count.
void execute_backward_bias(const ConvProblem& p, const ExecConfig& e, const float* dz, float* dbias);

// Whether plan's dx runs the forward kernels on the transposed problem, and
// the packed kernels (flipped in time, transposed) it needs for p at `isa`:
// one for stride 1, one per output phase for stride s > 1. The packing
// depends only on the layer's shape, so layers cache it.
bool backward_uses_transposed(const BackwardPlan& plan);
struct TransposedWeights {
  std::vector<PackedWeights> phases;
  // u mod s of each packed phase (see transposed_serves).
  std::vector<int64_t> phase_r;
};
TransposedWeights pack_transposed(const ConvProblem& p, conv1d_isa isa, const float* w);
// Whether `t` holds the phases `plan` runs (inputs shorter than the stride
// have fewer phases than longer ones).
bool transposed_serves(const TransposedWeights& t, const BackwardPlan& plan);

// Computes dx and dw from dz, the gradient at the conv+bias output in p's
// layout; either output may be null. `transposed` is pack_transposed's
// result when backward_uses_transposed(plan) and dx is wanted. All workspace
// is allocated before any output is written. Bitwise the same for any thread
// count. Returns true when it also computed dbias (non-null; only with dw,
// on some paths), bit for bit what execute_backward_bias would; otherwise
// dbias is untouched and the caller runs that.
bool execute_backward(const BackwardPlan& plan, const ConvProblem& p, const float* x, const float* w, const float* dz,
                      float* dx, float* dw, float* dbias, const TransposedWeights* transposed);

}  // namespace conv1d
