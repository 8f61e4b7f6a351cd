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

Plan make_plan(const ConvProblem& p, const ExecConfig& e, const PackedWeights* packed, conv1d_isa packed_isa) {
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

std::vector<Plan> candidate_plans(const ConvProblem& p, const ExecConfig& e, const PackedWeights* packed,
                                  conv1d_isa packed_isa) {
  std::vector<Plan> plans{direct_plan(p, e, packed, packed_isa)};
  if (algorithm_supports(CONV1D_ALGORITHM_GEMM, p)) plans.push_back(gemm_plan(p, e));
  return plans;
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

// (batch, a, b) -> (batch, b, a), row-major.
void transpose_items(const float* src, float* dst, int64_t batch, int64_t a, int64_t b) {
  for (int64_t n = 0; n < batch; ++n) {
    const float* s = src + n * a * b;
    float* d = dst + n * a * b;
    for (int64_t i = 0; i < a; ++i)
      for (int64_t j = 0; j < b; ++j) d[j * a + i] = s[i * b + j];
  }
}

bool is_depthwise1(const ConvProblem& p) { return p.cg() == 1 && p.fg() == 1; }

}  // namespace

Plan make_backward_plan(const ConvProblem& p, const ExecConfig& e) {
  Plan plan;
  const bool gemm_ok = algorithm_supports(CONV1D_ALGORITHM_GEMM, p);
  conv1d_algorithm a = e.algorithm;
  if (a == CONV1D_ALGORITHM_GEMM && !gemm_ok) a = CONV1D_ALGORITHM_DIRECT;
  if (a == CONV1D_ALGORITHM_AUTO) {
    // A GEMM per (tap, group) needs some rows and columns to be worth its
    // call; one channel and one filter per group is a vector loop instead.
    a = !gemm_ok || is_depthwise1(p) || (p.cg() < 4 && p.fg() < 4) ? CONV1D_ALGORITHM_DIRECT : CONV1D_ALGORITHM_GEMM;
    plan.reason = a == CONV1D_ALGORITHM_GEMM ? "auto: per-tap GEMMs" : "auto: direct loops for small groups";
  } else {
    plan.reason = std::string("forced ") + algorithm_name(e.algorithm);
  }
  plan.algorithm = a;
  switch (a) {
    case CONV1D_ALGORITHM_REFERENCE:
      plan.kernel = "reference";
      break;
    case CONV1D_ALGORITHM_GEMM:
      plan.kernel = "gemm/openblas";
      plan.threads = useful_threads(p, e.threads, p.kernel * p.groups);
      break;
    default:
      plan.algorithm = CONV1D_ALGORITHM_DIRECT;
      plan.isa = e.max_isa;
      plan.kernel = std::string("direct/") + isa_name(plan.isa) + "/backward";
      plan.threads = useful_threads(p, e.threads, backward_direct_tasks(p));
      break;
  }
  return plan;
}

void execute_backward(const Plan& plan, const ConvProblem& p_in, const float* x, const float* w, const float* dz,
                      float* dx, float* dw) {
  if (plan.algorithm == CONV1D_ALGORITHM_REFERENCE) {
    if (dx) backward_data_reference(p_in, dz, w, dx);
    if (dw) backward_weights_reference(p_in, x, dz, dw);
    return;
  }
  // channels_first: transpose into channels_last buffers, all allocated up front.
  ConvProblem p = p_in;
  std::vector<float> xt, dzt, dxt;
  const size_t x_count = static_cast<size_t>(p.batch * p.in_steps * p.in_channels);
  const size_t z_count = static_cast<size_t>(p.batch * p.out_steps * p.filters);
  if (p.channels_first) {
    dzt.resize(z_count);
    if (dw) xt.resize(x_count);
    if (dx) dxt.resize(x_count);
  }
  if (p.channels_first) {
    transpose_items(dz, dzt.data(), p.batch, p.filters, p.out_steps);
    dz = dzt.data();
    if (dw) transpose_items(x, xt.data(), p.batch, p.in_channels, p.in_steps), x = xt.data();
    p.channels_first = false;
  }
  float* dx_nwc = p_in.channels_first ? dxt.data() : dx;
  if (plan.algorithm == CONV1D_ALGORITHM_GEMM) {
    // Our pool splits the work; OpenBLAS threading would change the rounding.
    if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
    backward_gemm(p, x, dz, w, dx_nwc, dw, plan.threads);
  } else {
    const BackwardKernels& k = backward_kernels(plan.isa);
    const int64_t tasks = backward_direct_tasks(p);
    if (dx) parallel_for(tasks, plan.threads, [&](int64_t b, int64_t e) { k.data(p, dz, w, dx_nwc, b, e); });
    if (dw) parallel_for(tasks, plan.threads, [&](int64_t b, int64_t e) { k.weights(p, x, dz, dw, b, e); });
  }
  if (dx && p_in.channels_first) transpose_items(dx_nwc, dx, p.batch, p.in_steps, p.in_channels);
}

}  // namespace conv1d
