#include "dispatch/dispatch.hpp"

#include <cblas.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <vector>

#include "activations.hpp"
#include "config.hpp"
#include "dispatch/cpu.hpp"
#include "error.hpp"
#include "kernels/backward.hpp"
#include "kernels/direct_isa.hpp"
#include "runtime/aligned.hpp"
#include "runtime/thread_pool.hpp"

namespace conv1d {
namespace {

const DirectKernels& kernels_for(conv1d_isa isa) { return isa == CONV1D_ISA_AVX512 ? avx512::kernels : avx2::kernels; }

double flops(const ConvProblem& p) {
  return 2.0 * static_cast<double>(p.batch) * static_cast<double>(p.out_steps) * static_cast<double>(p.filters) *
         static_cast<double>(p.cg()) * static_cast<double>(p.kernel);
}

// Threads worth waking: each must get a few microseconds of work, or the
// hand-off costs more than it saves (small_latency-sized problems stay on
// the caller's thread). Spinning workers take a job in well under 1 us.
int useful_threads(const ConvProblem& p, int threads, int64_t tasks) {
  const double per_thread_min = 3e5;  // FLOPs, ~3 us at single-core speed
  // Clamped before the cast: planning a huge shape must not overflow an int.
  const int by_work = static_cast<int>(std::min(4096.0, std::max(1.0, std::floor(flops(p) / per_thread_min))));
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>({threads, by_work, tasks})));
}

const char* layout_name(PackKind k) {
  switch (k) {
    case PackKind::kNwc:
      return "nwc";
    case PackKind::kNcw:
      return "ncw";
    case PackKind::kDepthwise:
      return "depthwise_nwc";
  }
  return "?";
}

int64_t simd_tasks(const DirectKernels& k, const ConvProblem& p, const PackedWeights& pw) {
  switch (pw.kind) {
    case PackKind::kNwc:
      return k.nwc_tasks(p, pw);
    case PackKind::kNcw:
      return k.ncw_tasks(p, pw);
    case PackKind::kDepthwise:
      return k.dw_tasks(p, pw);
  }
  return 0;
}

Plan direct_plan(const ConvProblem& p, const ExecConfig& e, const PackedWeights* packed, conv1d_isa packed_isa) {
  Plan plan;
  plan.algorithm = CONV1D_ALGORITHM_DIRECT;
  PackKind kind;
  if (packed && packed_isa >= CONV1D_ISA_AVX2 && packed_isa <= e.max_isa && simd_pack_kind(p, &kind) &&
      kind == packed->kind) {
    plan.isa = packed_isa;
    plan.kernel = std::string("direct/") + isa_name(packed_isa) + "/" + layout_name(kind);
    plan.threads = useful_threads(p, e.threads, simd_tasks(kernels_for(packed_isa), p, *packed));
  } else {
    plan.isa = CONV1D_ISA_SCALAR;
    plan.kernel = "direct/scalar";
    plan.threads = 1;
  }
  return plan;
}

Plan gemm_plan(const ConvProblem& p, const ExecConfig& e) {
  Plan plan;
  plan.algorithm = CONV1D_ALGORITHM_GEMM;
  plan.kernel = "gemm/openblas";
  plan.threads = useful_threads(p, e.threads, gemm_tasks(p));
  return plan;
}

}  // namespace

bool simd_pack_kind(const ConvProblem& p, PackKind* kind) {
  if (!p.channels_first) {
    *kind =
        p.groups == p.in_channels && p.filters == p.in_channels && p.groups > 1 ? PackKind::kDepthwise : PackKind::kNwc;
    return true;
  }
  if (p.stride == 1) {
    *kind = PackKind::kNcw;
    return true;
  }
  return false;
}

PackedWeights pack_for(const ConvProblem& p, conv1d_isa isa, const float* w, const float* bias) {
  PackKind kind;
  if (isa < CONV1D_ISA_AVX2 || !simd_pack_kind(p, &kind)) fail(CONV1D_ERROR_INTERNAL, "pack_for: no SIMD layout");
  const DirectKernels& k = kernels_for(isa);
  return pack_weights(kind, p, w, bias, k.lanes, kind == PackKind::kNcw ? k.ncw_max_units : k.nwc_max_units);
}

bool algorithm_supports(conv1d_algorithm a, const ConvProblem& p) {
  switch (a) {
    case CONV1D_ALGORITHM_REFERENCE:
    case CONV1D_ALGORITHM_DIRECT:
      return true;
    case CONV1D_ALGORITHM_GEMM:
      // cblas_sgemm takes int sizes and leading dimensions.
      return p.stride * p.in_channels <= INT_MAX && p.out_steps <= INT_MAX && p.filters <= INT_MAX;
    default:
      return false;
  }
}

namespace {

Plan make_plan_f32(const ConvProblem& p, const ExecConfig& e, const PackedWeights* packed, conv1d_isa packed_isa) {
  if (e.algorithm == CONV1D_ALGORITHM_REFERENCE) {
    Plan plan;
    plan.algorithm = CONV1D_ALGORITHM_REFERENCE;
    plan.kernel = "reference";
    plan.reason = "forced reference";
    return plan;
  }
  if (e.algorithm == CONV1D_ALGORITHM_DIRECT) {
    Plan plan = direct_plan(p, e, packed, packed_isa);
    plan.reason = "forced direct";
    return plan;
  }
  if (e.algorithm == CONV1D_ALGORITHM_GEMM && algorithm_supports(CONV1D_ALGORITHM_GEMM, p)) {
    Plan plan = gemm_plan(p, e);
    plan.reason = "forced gemm";
    return plan;
  }
  // AUTO. The SIMD direct kernels run at a large fraction of the FMA peak on
  // every shape they take, while OpenBLAS' SGEMM is capped by its kernel
  // (AVX2 here) and by skinny per-tap GEMMs; so a SIMD direct plan wins when
  // one exists. Without one, a GEMM does well once each call has a real
  // reduction and enough rows, and the portable loops take the rest.
  Plan plan = direct_plan(p, e, packed, packed_isa);
  if (plan.isa != CONV1D_ISA_SCALAR) {
    plan.reason = "auto: SIMD direct kernel for this layout";
  } else if (algorithm_supports(CONV1D_ALGORITHM_GEMM, p) && p.cg() >= 16 && p.fg() >= 16 && p.out_steps >= 16) {
    plan = gemm_plan(p, e);
    plan.reason = "auto: no SIMD direct kernel; per-group reduction " + std::to_string(p.cg()) + " x " +
                  std::to_string(p.fg()) + " filters suits GEMM";
  } else {
    plan.reason = "auto: no SIMD direct kernel and too small a reduction for GEMM";
  }
  if (e.algorithm == CONV1D_ALGORITHM_GEMM) plan.reason = "forced gemm cannot run this shape; " + plan.reason;
  return plan;
}

std::vector<Plan> candidate_plans_f32(const ConvProblem& p, const ExecConfig& e, const PackedWeights* packed,
                                      conv1d_isa packed_isa) {
  std::vector<Plan> plans{direct_plan(p, e, packed, packed_isa)};
  if (algorithm_supports(CONV1D_ALGORITHM_GEMM, p)) plans.push_back(gemm_plan(p, e));
  return plans;
}

// float64: the portable direct loops, dgemm, or the reference; no packing.
Plan direct_plan_f64(const ConvProblem& p) {
  Plan plan;
  plan.algorithm = CONV1D_ALGORITHM_DIRECT;
  plan.kernel = p.cg() == 1 && p.fg() == 1 && !p.channels_first ? "direct/scalar-f64/depthwise" : "direct/scalar-f64";
  plan.dtype = CONV1D_DTYPE_FLOAT64;
  return plan;
}

Plan gemm_plan_f64(const ConvProblem& p, const ExecConfig& e) {
  Plan plan = gemm_plan(p, e);
  plan.kernel = "gemm/openblas-f64";
  plan.dtype = CONV1D_DTYPE_FLOAT64;
  return plan;
}

Plan make_plan_f64(const ConvProblem& p, const ExecConfig& e) {
  if (e.algorithm == CONV1D_ALGORITHM_REFERENCE) {
    Plan plan;
    plan.algorithm = CONV1D_ALGORITHM_REFERENCE;
    plan.kernel = "reference-f64";
    plan.reason = "forced reference";
    plan.dtype = CONV1D_DTYPE_FLOAT64;
    return plan;
  }
  if (e.algorithm == CONV1D_ALGORITHM_DIRECT) {
    Plan plan = direct_plan_f64(p);
    plan.reason = "forced direct";
    return plan;
  }
  const bool gemm_ok = algorithm_supports(CONV1D_ALGORITHM_GEMM, p);
  if (e.algorithm == CONV1D_ALGORITHM_GEMM && gemm_ok) {
    Plan plan = gemm_plan_f64(p, e);
    plan.reason = "forced gemm";
    return plan;
  }
  // AUTO. The portable loops run at SSE2 width; OpenBLAS' dgemm kernel runs
  // at AVX2 FMA width, so it wins from 2 channels x 2 filters per group up
  // (measured: 2.5x at 4 x 4, 7x at 128 x 128, single-threaded). With one
  // channel and one filter per group the GEMMs are 1 x 1 and the depthwise
  // loop, vectorised over channels, wins.
  Plan plan;
  if (gemm_ok && !(p.cg() == 1 && p.fg() == 1)) {
    plan = gemm_plan_f64(p, e);
    plan.reason = "auto: float64; dgemm for a per-group reduction of " + std::to_string(p.cg()) + " x " +
                  std::to_string(p.fg()) + " filters";
  } else {
    plan = direct_plan_f64(p);
    plan.reason = gemm_ok ? "auto: float64; one channel and filter per group: direct loops"
                          : "auto: float64; dgemm cannot run this shape";
  }
  if (e.algorithm == CONV1D_ALGORITHM_GEMM) plan.reason = "forced gemm cannot run this shape; " + plan.reason;
  return plan;
}

// bfloat16 through the float32 kernels: the same choice as float32, named
// for the dtype; or the native kernel when the layer has one for p.
Plan make_plan_bf16(const ConvProblem& p, const ExecConfig& e, const PackedWeights* packed, conv1d_isa packed_isa) {
  const NativeBf16Kernels* native = e.native_bf16;
  if (native && native->isa <= e.max_isa && native->supports(p) &&
      (e.algorithm == CONV1D_ALGORITHM_AUTO || e.algorithm == CONV1D_ALGORITHM_DIRECT)) {
    Plan plan;
    plan.algorithm = CONV1D_ALGORITHM_DIRECT;
    plan.isa = native->isa;
    plan.kernel = native->name;
    plan.dtype = CONV1D_DTYPE_BFLOAT16;
    plan.native_bf16 = true;
    plan.threads = useful_threads(p, e.threads, INT32_MAX);  // bounded again by the task count at run time
    plan.reason = e.algorithm == CONV1D_ALGORITHM_DIRECT ? "forced direct; native bf16 kernel"
                                                         : "auto: native bf16 kernel for this layout";
    return plan;
  }
  Plan plan = make_plan_f32(p, e, packed, packed_isa);
  plan.kernel += "-bf16";
  plan.dtype = CONV1D_DTYPE_BFLOAT16;
  return plan;
}

}  // namespace

Plan make_plan(const ConvProblem& p, const ExecConfig& e, const PackedWeights* packed, conv1d_isa packed_isa) {
  switch (e.dtype) {
    case CONV1D_DTYPE_FLOAT64:
      return make_plan_f64(p, e);
    case CONV1D_DTYPE_BFLOAT16:
      return make_plan_bf16(p, e, packed, packed_isa);
    default:
      return make_plan_f32(p, e, packed, packed_isa);
  }
}

std::vector<Plan> candidate_plans(const ConvProblem& p, const ExecConfig& e, const PackedWeights* packed,
                                  conv1d_isa packed_isa) {
  if (e.dtype == CONV1D_DTYPE_FLOAT64) {
    std::vector<Plan> plans{direct_plan_f64(p)};
    if (algorithm_supports(CONV1D_ALGORITHM_GEMM, p)) plans.push_back(gemm_plan_f64(p, e));
    return plans;
  }
  std::vector<Plan> plans = candidate_plans_f32(p, e, packed, packed_isa);
  if (e.dtype == CONV1D_DTYPE_BFLOAT16) {
    for (Plan& plan : plans) plan.kernel += "-bf16", plan.dtype = CONV1D_DTYPE_BFLOAT16;
    // The native kernel reads bf16 x, which find mode's timing (on the widened
    // float32 copy) cannot feed; it is planned by the cost model only.
  }
  return plans;
}

// HOOK: return the native bf16 kernel table here (e.g. avx512bf16::kernels
// when the CPU has AVX512_BF16 and max_isa >= its isa). Until then every
// bf16 layer runs the portable path.
const NativeBf16Kernels* native_bf16_kernels(conv1d_isa max_isa) {
  (void)max_isa;
  return nullptr;
}

bool execute_native_bf16(const Plan& plan, const ConvProblem& p, const PackedWeights& packed, const uint16_t* x,
                         void* y, bool y_bf16, conv1d_activation act) {
  const NativeBf16Kernels* k = native_bf16_kernels(plan.isa);
  if (!k) fail(CONV1D_ERROR_INTERNAL, "execute_native_bf16: no native bf16 kernel for plan " + plan.kernel);
  const conv1d_activation fused = activation_is_axiswise(act) ? CONV1D_ACTIVATION_LINEAR : act;
  const int64_t tasks = k->tasks(p, packed);
  const int threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(plan.threads, tasks)));
  parallel_for(tasks, threads, [&](int64_t begin, int64_t end) { k->run(p, packed, x, y, y_bf16, fused, begin, end); });
  return fused == act;
}

void execute(const Plan& plan, const ConvProblem& p, const double* x, const double* w, const double* bias, double* y) {
  switch (plan.algorithm) {
    case CONV1D_ALGORITHM_REFERENCE:
      conv_reference(p, x, w, bias, y);
      return;
    case CONV1D_ALGORITHM_DIRECT:
      conv_direct(p, x, w, bias, y);
      return;
    case CONV1D_ALGORITHM_GEMM: {
      // Doubles in the float scratch slot: twice the floats.
      double* ws = reinterpret_cast<double*>(thread_scratch(0, 2 * gemm_workspace_floats(p, plan.threads)));
      if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
      conv_gemm(p, x, w, bias, y, ws, plan.threads);
      return;
    }
    default:
      fail(CONV1D_ERROR_INTERNAL, "execute: bad algorithm " + std::to_string(static_cast<int>(plan.algorithm)));
  }
}

bool execute(const Plan& plan, const ConvProblem& p, const float* x, const float* w, const float* bias,
             const PackedWeights* packed, conv1d_activation act, float* y) {
  switch (plan.algorithm) {
    case CONV1D_ALGORITHM_REFERENCE:
      conv_reference(p, x, w, bias, y);
      return false;
    case CONV1D_ALGORITHM_DIRECT: {
      if (plan.isa == CONV1D_ISA_SCALAR) {
        conv_direct(p, x, w, bias, y);
        return false;
      }
      const DirectKernels& k = kernels_for(plan.isa);
      const conv1d_activation fused = activation_is_axiswise(act) ? CONV1D_ACTIVATION_LINEAR : act;
      TaskRunFn run = packed->kind == PackKind::kNwc   ? k.nwc_run
                      : packed->kind == PackKind::kNcw ? k.ncw_run
                                                       : k.dw_run;
      const int64_t tasks = simd_tasks(k, p, *packed);
      parallel_for(tasks, plan.threads, [&](int64_t begin, int64_t end) { run(p, *packed, x, y, fused, begin, end); });
      return fused == act;
    }
    case CONV1D_ALGORITHM_GEMM: {
      float* ws = thread_scratch(0, gemm_workspace_floats(p, plan.threads));
      // Our pool splits the work; OpenBLAS threading would change the rounding.
      if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
      conv_gemm(p, x, w, bias, y, ws, plan.threads);
      return false;
    }
    default:
      fail(CONV1D_ERROR_INTERNAL, "execute: bad algorithm " + std::to_string(static_cast<int>(plan.algorithm)));
  }
}

namespace {

const BackwardKernels& backward_kernels(conv1d_isa isa) {
  return isa == CONV1D_ISA_AVX512 ? avx512::backward : isa == CONV1D_ISA_AVX2 ? avx2::backward : portable::backward;
}

// (batch, a, b) -> (batch, b, a), row-major, in 32 x 32 blocks so that both
// sides stay within a few cache lines per block.
void transpose_items(const float* src, float* dst, int64_t batch, int64_t a, int64_t b) {
  constexpr int64_t kB = 32;
  for (int64_t n = 0; n < batch; ++n) {
    const float* s = src + n * a * b;
    float* d = dst + n * a * b;
    for (int64_t i0 = 0; i0 < a; i0 += kB)
      for (int64_t j0 = 0; j0 < b; j0 += kB) {
        const int64_t i1 = std::min(a, i0 + kB), j1 = std::min(b, j0 + kB);
        for (int64_t i = i0; i < i1; ++i)
          for (int64_t j = j0; j < j1; ++j) d[j * a + i] = s[i * b + j];
      }
  }
}

bool is_depthwise1(const ConvProblem& p) { return p.cg() == 1 && p.fg() == 1; }

}  // namespace

namespace {

// dx of a stride-1 convolution is a forward convolution of dz with the
// kernel flipped in time and transposed (F in, C out): it reads dz at
// i + pad_left - j*d, which is the forward's t + j'*d - pad' with
// j' = k-1-j and pad' = (k-1)*d - pad_left (never negative). So the SIMD
// forward kernels compute it.
ConvProblem transposed_problem(const ConvProblem& p) {
  ConvProblem q = p;
  q.in_steps = p.out_steps;
  q.out_steps = p.in_steps;
  q.in_channels = p.filters;
  q.filters = p.in_channels;
  q.pad_left = (p.kernel - 1) * p.dilation - p.pad_left;
  return q;
}

// W'[j', fl, g*Cg + c] = W[k-1-j', c, g*Fg + fl], in Keras layout for q.
std::vector<float> transposed_kernel(const ConvProblem& p, const float* w) {
  const int64_t k = p.kernel, C = p.in_channels, F = p.filters, cg = p.cg(), fg = p.fg();
  std::vector<float> wt(static_cast<size_t>(k * cg * F));
  for (int64_t j = 0; j < k; ++j)
    for (int64_t g = 0; g < p.groups; ++g)
      for (int64_t fl = 0; fl < fg; ++fl)
        for (int64_t c = 0; c < cg; ++c)
          wt[((k - 1 - j) * fg + fl) * C + g * cg + c] = w[(j * cg + c) * F + g * fg + fl];
  return wt;
}

bool transposed_forward_ok(const ConvProblem& p, const ExecConfig& e) {
  PackKind kind;
  return p.stride == 1 && e.max_isa >= CONV1D_ISA_AVX2 && simd_pack_kind(transposed_problem(p), &kind);
}

Plan loops_plan(const ConvProblem& p, const ExecConfig& e, const char* what) {
  Plan plan;
  plan.algorithm = CONV1D_ALGORITHM_DIRECT;
  plan.isa = e.max_isa;
  plan.kernel = std::string("direct/") + isa_name(plan.isa) + "/" + what + "-loops";
  plan.threads = useful_threads(p, e.threads, backward_direct_tasks(p));
  return plan;
}

Plan backward_gemm_plan(const ConvProblem& p, const ExecConfig& e, const char* what) {
  Plan plan;
  plan.algorithm = CONV1D_ALGORITHM_GEMM;
  plan.kernel = std::string("gemm/openblas/") + what;
  plan.threads = useful_threads(p, e.threads, p.kernel * p.groups * 4);
  return plan;
}

}  // namespace

BackwardPlan make_backward_plan(const ConvProblem& p, const ExecConfig& e) {
  BackwardPlan bp;
  if (e.algorithm == CONV1D_ALGORITHM_REFERENCE) {
    bp.data.algorithm = bp.weights.algorithm = CONV1D_ALGORITHM_REFERENCE;
    bp.data.kernel = bp.weights.kernel = "reference";
    bp.data.reason = bp.weights.reason = "forced reference";
    return bp;
  }
  const bool gemm_ok = algorithm_supports(CONV1D_ALGORITHM_GEMM, p);
  // A GEMM per (tap, group) needs some rows and columns to be worth its
  // call; one channel and one filter per group is a vector loop instead.
  const bool small_groups = is_depthwise1(p) || (p.cg() < 4 && p.fg() < 4);
  const bool forced_gemm = e.algorithm == CONV1D_ALGORITHM_GEMM && gemm_ok;
  const bool forced_direct = e.algorithm == CONV1D_ALGORITHM_DIRECT;
  // Data. The transposed forward is vectorised over input channels (its
  // filters): worth it from a vector's width per group, or depthwise.
  const bool wide = p.cg() >= 16 || is_depthwise1(p);
  if (!forced_gemm && transposed_forward_ok(p, e) && (wide || forced_direct)) {
    const ConvProblem q = transposed_problem(p);
    PackKind kind;
    simd_pack_kind(q, &kind);
    bp.data.algorithm = CONV1D_ALGORITHM_DIRECT;
    bp.data.isa = e.max_isa;
    bp.data.kernel = std::string("direct/") + isa_name(e.max_isa) + "/" + layout_name(kind) + "/transposed";
    // An upper bound: the kernel's task count is known once the weights are packed.
    bp.data.threads = useful_threads(q, e.threads, INT32_MAX);
    bp.data.reason = "stride 1: the forward SIMD kernels on dz with the kernel flipped and transposed";
  } else if (!forced_gemm && !forced_direct && gemm_ok && !is_depthwise1(p) && p.cg() < 16) {
    bp.data = backward_gemm_plan(p, e, "data-folded");
    bp.data.threads = useful_threads(p, e.threads, p.batch * ((p.in_steps + 1023) / 1024));
    bp.data.reason = "few channels per group: one GEMM with the taps folded into its columns, then a scatter";
  } else if (forced_gemm || (!forced_direct && gemm_ok && !small_groups)) {
    bp.data = backward_gemm_plan(p, e, "data");
    bp.data.reason = forced_gemm ? "forced gemm" : "batch-wide GEMM per (tap, group)";
  } else {
    bp.data = loops_plan(p, e, "data");
    bp.data.reason = forced_direct ? "forced direct" : "direct loops for small groups";
  }
  // Weights.
  if (!forced_gemm && !is_depthwise1(p) && e.max_isa >= CONV1D_ISA_AVX2) {
    bp.weights.algorithm = CONV1D_ALGORITHM_DIRECT;
    bp.weights.isa = e.max_isa;
    bp.weights.kernel = std::string("direct/") + isa_name(e.max_isa) + "/weight-tiles";
    bp.weights.threads = useful_threads(p, e.threads, backward_kernels(e.max_isa).weight_tiles(p));
    bp.weights.reason = "register tiles of channels x filters over the batch's rows";
  } else if (forced_gemm || (!forced_direct && gemm_ok && !small_groups)) {
    bp.weights = backward_gemm_plan(p, e, "weights");
    bp.weights.reason = forced_gemm ? "forced gemm" : "batch-wide GEMM per (tap, group)";
  } else {
    bp.weights = loops_plan(p, e, "weights");
    bp.weights.reason = forced_direct ? "forced direct" : "direct loops for small groups";
  }
  return bp;
}

bool backward_uses_transposed(const BackwardPlan& plan) {
  return plan.data.kernel.find("/transposed") != std::string::npos;
}

PackedWeights pack_transposed(const ConvProblem& p, conv1d_isa isa, const float* w) {
  const std::vector<float> wt = transposed_kernel(p, w);
  return pack_for(transposed_problem(p), isa, wt.data(), nullptr);
}

void execute_backward(const BackwardPlan& plan, const ConvProblem& p_in, const float* x, const float* w,
                      const float* dz, float* dx, float* dw, const PackedWeights* transposed) {
  if (plan.data.algorithm == CONV1D_ALGORITHM_REFERENCE) {
    if (dx) backward_data_reference(p_in, dz, w, dx);
    if (dw) backward_weights_reference(p_in, x, dz, dw);
    return;
  }
  const bool data_fwd = dx && backward_uses_transposed(plan);
  const bool data_nwc = dx && !data_fwd;  // GEMM or loops, on channels_last
  const bool data_folded = data_nwc && plan.data.kernel.find("/data-folded") != std::string::npos;
  const bool data_gemm = data_nwc && !data_folded && plan.data.algorithm == CONV1D_ALGORITHM_GEMM;
  const bool weights_gemm = dw && plan.weights.algorithm == CONV1D_ALGORITHM_GEMM;
  const bool weights_tiles = dw && plan.weights.kernel.find("/weight-tiles") != std::string::npos;
  const bool need_nwc = data_nwc || dw;
  const bool first = p_in.channels_first;
  ConvProblem p = p_in;
  p.channels_first = false;

  // Everything is allocated before any output is written.
  const size_t x_count = static_cast<size_t>(p.batch * p.in_steps * p.in_channels);
  const size_t z_count = static_cast<size_t>(p.batch * p.out_steps * p.filters);
  // Per-thread scratch, reused across calls (slot 3).
  ScratchSplit scratch(3);
  const size_t xt_i = scratch.want(first && dw ? x_count : 0), dzt_i = scratch.want(first && need_nwc ? z_count : 0),
               dxt_i = scratch.want(first && data_nwc ? x_count : 0);
  const size_t ws_i =
      scratch.want(data_gemm || weights_gemm ? backward_gemm_workspace_floats(p, data_gemm, weights_gemm) : 0);
  const size_t fold_i = scratch.want(data_folded ? backward_data_folded_floats(p, plan.data.threads) : 0);
  scratch.allocate();
  float* xt = scratch.get(xt_i);
  float* dzt = scratch.get(dzt_i);
  float* dxt = scratch.get(dxt_i);
  if (data_fwd) {
    if (!transposed) fail(CONV1D_ERROR_INTERNAL, "execute_backward: the transposed plan needs its packed kernel");
    const ConvProblem q = transposed_problem(p_in);
    Plan fp = plan.data;
    fp.threads = useful_threads(q, fp.threads, simd_tasks(kernels_for(fp.isa), q, *transposed));
    // With packed weights the SIMD path never reads the unpacked kernel.
    execute(fp, q, dz, nullptr, nullptr, transposed, CONV1D_ACTIVATION_LINEAR, dx);
  }
  if (!need_nwc) return;
  const float* dz_nwc = dz;
  const float* x_nwc = x;
  if (first) {
    transpose_items(dz, dzt, p.batch, p.filters, p.out_steps);
    dz_nwc = dzt;
    if (dw) transpose_items(x, xt, p.batch, p.in_channels, p.in_steps), x_nwc = xt;
  }
  float* dx_nwc = first ? dxt : dx;
  // Our pool splits GEMM work; OpenBLAS threading would change the rounding.
  if ((data_gemm || weights_gemm || data_folded) && openblas_get_num_threads() != 1) openblas_set_num_threads(1);
  if (data_folded) backward_data_folded(p, dz_nwc, w, dx_nwc, plan.data.threads, scratch.get(fold_i));
  if (data_gemm || weights_gemm) {
    backward_gemm(p, x_nwc, dz_nwc, w, data_gemm ? dx_nwc : nullptr, weights_gemm ? dw : nullptr,
                  std::max(plan.data.threads, plan.weights.threads), scratch.get(ws_i));
  }
  if (data_nwc && !data_gemm && !data_folded) {
    const BackwardKernels& k = backward_kernels(plan.data.isa);
    parallel_for(backward_direct_tasks(p), plan.data.threads,
                 [&](int64_t b, int64_t e) { k.data(p, dz_nwc, w, dx_nwc, b, e); });
  }
  if (weights_tiles) {
    const BackwardKernels& k = backward_kernels(plan.weights.isa);
    parallel_for(k.weight_tiles(p), plan.weights.threads,
                 [&](int64_t b, int64_t e) { k.weight_tiles_run(p, x_nwc, dz_nwc, dw, b, e); });
  } else if (dw && !weights_gemm) {
    const BackwardKernels& k = backward_kernels(plan.weights.isa);
    parallel_for(backward_direct_tasks(p), plan.weights.threads,
                 [&](int64_t b, int64_t e) { k.weights(p, x_nwc, dz_nwc, dw, b, e); });
  }
  if (data_nwc && first) transpose_items(dx_nwc, dx, p.batch, p.in_steps, p.in_channels);
}

}  // namespace conv1d
