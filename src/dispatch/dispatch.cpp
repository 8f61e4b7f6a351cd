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
#include "kernels/transpose.hpp"
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

int plan_threads(const Plan& plan, const ConvProblem& p, const ExecConfig& e, const PackedWeights* packed) {
  switch (plan.algorithm) {
    case CONV1D_ALGORITHM_DIRECT:
      if (plan.isa == CONV1D_ISA_SCALAR || !packed || plan.dtype != CONV1D_DTYPE_FLOAT32) return 1;
      return useful_threads(p, e.threads, simd_tasks(kernels_for(plan.isa), p, *packed));
    case CONV1D_ALGORITHM_GEMM:
      return useful_threads(p, e.threads, gemm_tasks(p));
    default:
      return 1;
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

namespace {
const NativeBf16Kernels kAvx512Bf16 = {
    "direct/avx512bf16/nwc", CONV1D_ISA_AVX512, bf16_kernel_supports, pack_bf16, bf16_tasks, conv_bf16_avx512};
}  // namespace

const NativeBf16Kernels* native_bf16_kernels(conv1d_isa max_isa) {
  return max_isa >= CONV1D_ISA_AVX512 && cpu_has_avx512_bf16() ? &kAvx512Bf16 : nullptr;
}

bool execute_native_bf16(const Plan& plan, const ConvProblem& p, const PackedBf16& packed, const uint16_t* x, void* y,
                         bool y_bf16, conv1d_activation act) {
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

namespace {

// The channels_first pointwise kernel's x panels for a direct plan: worker
// slots and floats per slot (0 where the plan reads x in place).
struct XPanelSplit {
  int64_t tasks = 0, per_slot = 0;
  int slots = 0;
  size_t floats() const { return static_cast<size_t>(slots * per_slot); }
};

XPanelSplit xpanel_split(const Plan& plan, const ConvProblem& p, const PackedWeights* packed, int threads) {
  XPanelSplit x;
  if (plan.algorithm != CONV1D_ALGORITHM_DIRECT || plan.isa == CONV1D_ISA_SCALAR || !packed ||
      packed->kind != PackKind::kNcw)
    return x;
  const DirectKernels& k = kernels_for(plan.isa);
  x.per_slot = k.ncw_xpanel_floats(p, *packed);
  if (x.per_slot == 0) return x;
  x.tasks = k.ncw_tasks(p, *packed);
  x.slots = static_cast<int>(std::min<int64_t>(std::max(threads, 1), x.tasks));
  return x;
}

}  // namespace

bool execute(const Plan& plan, const ConvProblem& p, const float* x, const float* w, const float* bias,
             const PackedWeights* packed, conv1d_activation act, float* y, int threads) {
  if (threads <= 0) threads = plan.threads;
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
      const XPanelSplit xp = xpanel_split(plan, p, packed, threads);
      if (xp.per_slot > 0) {
        // Each worker slot copies x into its own piece of the caller's
        // scratch, all reserved before any output is written.
        float* ws = thread_scratch(6, xp.floats());
        parallel_for(xp.slots, xp.slots, [&](int64_t b, int64_t e) {
          for (int64_t s = b; s < e; ++s)
            k.ncw_xpanel_run(p, *packed, x, y, fused, s * xp.tasks / xp.slots, (s + 1) * xp.tasks / xp.slots,
                             ws + s * xp.per_slot);
        });
        return fused == act;
      }
      TaskRunFn run = packed->kind == PackKind::kNwc   ? k.nwc_run
                      : packed->kind == PackKind::kNcw ? k.ncw_run
                                                       : k.dw_run;
      const int64_t tasks = simd_tasks(k, p, *packed);
      parallel_for(tasks, threads, [&](int64_t begin, int64_t end) { run(p, *packed, x, y, fused, begin, end); });
      return fused == act;
    }
    case CONV1D_ALGORITHM_GEMM: {
      float* ws = thread_scratch(0, gemm_workspace_floats(p, threads));
      // Our pool splits the work; OpenBLAS threading would change the rounding.
      if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
      conv_gemm(p, x, w, bias, y, ws, threads);
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

// (batch, a, b) -> (batch, b, a), row-major (kernels/transpose.hpp), on the
// pool: channels_first training reads are as large as the compute's.
void transpose_on_pool(const float* src, float* dst, int64_t batch, int64_t a, int64_t b, conv1d_isa isa, int threads) {
  parallel_for(transpose_tasks(batch, b), threads,
               [&](int64_t begin, int64_t end) { transpose_items(src, dst, a, b, begin, end, isa); });
}

bool is_depthwise1(const ConvProblem& p) { return p.cg() == 1 && p.fg() == 1; }

}  // namespace

namespace {

// dx of a stride-1 convolution is a forward convolution of dz with the
// kernel flipped in time and transposed (F in, C out): it reads dz at
// i + pad_left - j*d, which is the forward's t + j'*d - pad' with
// j' = k-1-j and pad' = (k-1)*d - pad_left (never negative). So the SIMD
// forward kernels compute it.
//
// With stride s > 1 (Keras then has d = 1) the rows of dx split into s
// phases: row i with u = i + pad_left = q*s + r only meets taps j = r + m*s
// and dz rows t = q - m. Per phase r that is again a stride-1 forward
// convolution of dz, with the k_r = ceil((k - r) / s) taps of the phase
// flipped and transposed, whose output rows are the q of the phase; a
// scatter puts them in dx. The phase's forward starts at q_start <= the
// first q the phase needs so that its left pad stays non-negative (causal
// padding can put the first needed q past k_r - 1); rows before that first
// q are computed and dropped.
std::vector<DataPhase> data_phases(const ConvProblem& p) {
  std::vector<DataPhase> phases;
  const int64_t s = p.stride, k = p.kernel, d = p.dilation, L = p.in_steps, pad = p.pad_left;
  for (int64_t r = 0; r < s; ++r) {
    DataPhase ph;
    ph.r = r;
    ph.taps = r < k ? (k - r + s - 1) / s : 0;
    ph.q_first = pad >= r ? (pad - r + s - 1) / s : 0;
    const int64_t q_last = (pad + L - 1 - r) >= 0 ? (pad + L - 1 - r) / s : -1;
    if (q_last < ph.q_first) continue;  // no dx row in this phase (L < s)
    const int64_t taps = std::max<int64_t>(ph.taps, 1);
    ph.q_start = std::min(ph.q_first, (taps - 1) * d);
    ph.rows = q_last - ph.q_start + 1;
    ConvProblem& q = ph.q;
    q = p;
    q.stride = 1;
    q.kernel = taps;
    q.in_steps = p.out_steps;
    q.out_steps = ph.rows;
    q.in_channels = p.filters;
    q.filters = p.in_channels;
    q.pad_left = (taps - 1) * d - ph.q_start;  // >= 0 by the choice of q_start
    phases.push_back(ph);
  }
  return phases;
}

// The phase's kernel in Keras layout for its forward problem:
// W'[m', fl, g*Cg + c] = W[r + (k_r-1-m')*s, c, g*Fg + fl] (zero when the
// phase has no tap); dilation stays the problem's (stride 1 only).
std::vector<float> phase_kernel(const ConvProblem& p, const DataPhase& ph, const float* w) {
  const int64_t C = p.in_channels, F = p.filters, cg = p.cg(), fg = p.fg(), kq = ph.q.kernel;
  std::vector<float> wt(static_cast<size_t>(kq * fg * C), 0.0f);
  for (int64_t m = 0; m < ph.taps; ++m) {
    const int64_t j = ph.r + (ph.taps - 1 - m) * p.stride;
    for (int64_t g = 0; g < p.groups; ++g)
      for (int64_t fl = 0; fl < fg; ++fl)
        for (int64_t c = 0; c < cg; ++c) wt[(m * fg + fl) * C + g * cg + c] = w[(j * cg + c) * F + g * fg + fl];
  }
  return wt;
}

bool transposed_forward_ok(const ConvProblem& p, const ExecConfig& e) {
  if (e.max_isa < CONV1D_ISA_AVX2 || (p.stride > 1 && p.dilation > 1)) return false;
  PackKind kind;
  for (const DataPhase& ph : data_phases(p))
    if (!simd_pack_kind(ph.q, &kind)) return false;
  return true;
}

int isa_lanes(conv1d_isa isa) { return isa >= CONV1D_ISA_AVX512 ? 16 : 8; }

// Whether dW tiles vectorised over channels beat those vectorised over
// filters: when the channels fill the vectors at least as well (they also
// load fewer values per FMA; measured faster on every suite row that has a
// vector of channels per group).
bool channel_tiles_pay(const ConvProblem& p, int lanes) {
  const auto fill = [lanes](int64_t n) {
    return static_cast<double>(n) / static_cast<double>((n + lanes - 1) / lanes * lanes);
  };
  return p.cg() >= lanes && fill(p.cg()) >= fill(p.fg());
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

// Whether the phases can write dx in place (see strided_data).
bool phases_in_place(const ConvProblem& p, const std::vector<DataPhase>& phases) {
  bool in_place = !p.channels_first;
  for (const DataPhase& ph : phases) in_place = in_place && ph.q_first == ph.q_start;
  return in_place;
}

}  // namespace

BackwardPlan make_backward_plan(const ConvProblem& p, const ExecConfig& e) {
  BackwardPlan bp;
  bp.max_isa = e.max_isa;
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
  // Few channels and few taps (k*Cg <= 32): OpenBLAS spends its time packing
  // dz for an N that small, so SIMD dot products along the filters win
  // (w2v_conv0 1.35x); with more (genomics_stem's 60) the GEMM is faster
  // than dot products that pay a lane sum each.
  if (!forced_gemm && !is_depthwise1(p) && p.cg() < 16 && p.kernel * p.cg() <= 32 && e.max_isa >= CONV1D_ISA_AVX2 &&
      p.fg() >= isa_lanes(e.max_isa)) {
    bp.data.algorithm = CONV1D_ALGORITHM_DIRECT;
    bp.data.isa = e.max_isa;
    bp.data.kernel = std::string("direct/") + isa_name(e.max_isa) + "/data-folded";
    bp.data.threads = useful_threads(p, e.threads, backward_data_folded_tasks(p));
    bp.data.reason = "few channels per group: the taps' products along the filters (SIMD dot products), then a scatter";
    bp.data_method = DataMethod::kFolded;
  } else if (!forced_gemm && transposed_forward_ok(p, e) && (wide || forced_direct)) {
    bp.phases = data_phases(p);
    bp.data_method = DataMethod::kTransposed;
    const std::vector<DataPhase>& phases = bp.phases;
    PackKind kind = PackKind::kNwc;
    if (!phases.empty()) simd_pack_kind(phases.front().q, &kind);
    bp.data.algorithm = CONV1D_ALGORITHM_DIRECT;
    bp.data.isa = e.max_isa;
    bp.data.kernel = std::string("direct/") + isa_name(e.max_isa) + "/" + layout_name(kind) +
                     (p.stride == 1 ? "/transposed" : "/transposed-phases");
    // An upper bound: the kernel's task count is known once the weights are packed.
    bp.data.threads = phases.empty() ? 1 : useful_threads(phases.front().q, e.threads, INT32_MAX);
    bp.data.reason =
        p.stride == 1 ? "stride 1: the forward SIMD kernels on dz with the kernel flipped and transposed"
        : phases_in_place(p, phases)
            ? "strided: per output phase, the forward SIMD kernels on dz with the phase's taps flipped and "
              "transposed, writing every s-th row of dx in place"
            : "strided: per output phase, the forward SIMD kernels on dz with the phase's taps flipped and "
              "transposed, then a scatter";
  } else if (!forced_gemm && !forced_direct && gemm_ok && !is_depthwise1(p) && p.cg() < 16) {
    bp.data = backward_gemm_plan(p, e, "data-folded");
    bp.data.threads = useful_threads(p, e.threads, backward_data_folded_tasks(p));
    bp.data.reason = "few channels per group: one GEMM with the taps folded into its columns, then a scatter";
    bp.data_method = DataMethod::kFolded;
  } else if (forced_gemm || (!forced_direct && gemm_ok && !small_groups)) {
    bp.data = backward_gemm_plan(p, e, "data");
    bp.data.reason = forced_gemm ? "forced gemm" : "batch-wide GEMM per (tap, group)";
    bp.data_method = DataMethod::kGemm;
  } else {
    bp.data = loops_plan(p, e, "data");
    bp.data.reason = forced_direct ? "forced direct" : "direct loops for small groups";
    bp.data_method = DataMethod::kLoops;
  }
  // Weights. channels_first at stride 1 has x and dz contiguous along time:
  // GEMMs read them in place, where the register tiles need x transposed.
  // With more than one tap the channel tiles on x transposed (dz read in
  // place) beat those GEMMs (tcn_d4_ncw 1.4x, textcnn_k3_ncw 1.15x); a
  // pointwise layer's is one plain GEMM per item, which the tiles only match.
  const bool tiles_ok = e.max_isa >= CONV1D_ISA_AVX2 && channel_tiles_pay(p, isa_lanes(e.max_isa));
  const bool ncw_gemm = p.channels_first && p.stride == 1 && gemm_ok && !small_groups && (p.kernel == 1 || !tiles_ok);
  // Our own packed panels (x in place, dz transposed a chunk at a time)
  // beat both from a size on (Xeon, 1 and 2 threads): the GEMMs from ~2
  // MFLOP (2x32x500x48 pointwise 1.2x/1.6x, pointwise_ncw 1.15x/1.11x); the
  // channel tiles from ~1e8 (grouped8 1.27x, wavenet_d1 1.1x, tcn_d4_ncw
  // 1.5x), not below, where items are short or few (seed_example 0.69x,
  // textcnn_k3_b1 0.83-0.97x). A tile's 6-12 channels and 8-16 filter lanes
  // want a few of each per group. Capped at AVX2 the panels still beat the
  // channel tiles (tcn_d4_ncw 1.1x, grouped8 ncw 1.3x) but not OpenBLAS's
  // Haswell GEMMs, which run at that width's full speed (pointwise_ncw 0.6x).
  const double work = flops(p);
  const bool ncw_panels = p.channels_first && p.stride == 1 && e.max_isa >= CONV1D_ISA_AVX2 && p.cg() >= 4 &&
                          p.fg() >= 8 && (work >= 1e8 || (ncw_gemm && work >= 2e6)) &&
                          (e.max_isa >= CONV1D_ISA_AVX512 || !ncw_gemm);
  if (ncw_panels && !forced_gemm) {
    const BackwardKernels& k = backward_kernels(e.max_isa);
    bp.weights.algorithm = CONV1D_ALGORITHM_DIRECT;
    bp.weights.isa = e.max_isa;
    bp.weights.kernel = std::string("direct/") + isa_name(e.max_isa) + "/ncw-panels";
    bp.weights.threads = useful_threads(p, e.threads, k.ncw_panel_tasks(p, e.threads));
    bp.weights.reason = "channels_first, stride 1: x and dz packed into panels along time, register tiles over them";
    bp.weights_method = WeightsMethod::kNcwPanels;
  } else if (ncw_gemm && (forced_gemm || !forced_direct)) {
    bp.weights = backward_gemm_plan(p, e, "weights-ncw");
    const int64_t block = backward_weights_ncw_block(p);
    bp.weights.threads = useful_threads(p, e.threads, p.kernel * p.groups * ((p.cg() + block - 1) / block));
    bp.weights.reason = forced_gemm ? "forced gemm; channels_first: GEMMs on x and dz in place"
                                    : "channels_first, stride 1: GEMMs per (item, tap) on x and dz in place";
    bp.weights_method = WeightsMethod::kNcwGemm;
  } else if (!forced_gemm && !is_depthwise1(p) && e.max_isa >= CONV1D_ISA_AVX2) {
    const BackwardKernels& k = backward_kernels(e.max_isa);
    bp.weights.algorithm = CONV1D_ALGORITHM_DIRECT;
    bp.weights.isa = e.max_isa;
    if (tiles_ok) {
      bp.weights.kernel = std::string("direct/") + isa_name(e.max_isa) + "/channel-tiles";
      bp.weights.threads = useful_threads(p, e.threads, k.channel_tiles(p));
      bp.weights.reason = "register tiles of channel vectors x filters over the batch's rows";
      bp.weights_method = WeightsMethod::kChannelTiles;
    } else {
      bp.weights.kernel = std::string("direct/") + isa_name(e.max_isa) + "/weight-tiles";
      bp.weights.threads = useful_threads(p, e.threads, k.weight_tiles(p));
      bp.weights.reason = "register tiles of channels x filter vectors over the batch's rows";
      bp.weights_method = WeightsMethod::kWeightTiles;
    }
  } else if (forced_gemm || (!forced_direct && gemm_ok && !small_groups)) {
    bp.weights = backward_gemm_plan(p, e, "weights");
    bp.weights.reason = forced_gemm ? "forced gemm" : "batch-wide GEMM per (tap, group)";
    bp.weights_method = WeightsMethod::kGemm;
  } else {
    bp.weights = loops_plan(p, e, "weights");
    bp.weights.reason = forced_direct ? "forced direct" : "direct loops for small groups";
    bp.weights_method = WeightsMethod::kLoops;
  }
  return bp;
}

void execute_backward_bias(const ConvProblem& p, const ExecConfig& e, const float* dz, float* dbias) {
  if (e.algorithm == CONV1D_ALGORITHM_REFERENCE) return backward_bias(p, dz, dbias);
  const BackwardKernels& k = backward_kernels(e.max_isa);
  // About a nanosecond per element: a second thread pays from ~200k elements.
  const double elements =
      static_cast<double>(p.batch) * static_cast<double>(p.out_steps) * static_cast<double>(p.filters);
  const int threads = elements < 2e5 ? 1 : e.threads;
  parallel_for(backward_bias_tasks(p), threads, [&](int64_t b, int64_t end) { k.bias(p, dz, dbias, b, end); });
}

bool backward_uses_transposed(const BackwardPlan& plan) { return plan.data_method == DataMethod::kTransposed; }

TransposedWeights pack_transposed(const ConvProblem& p, conv1d_isa isa, const float* w) {
  TransposedWeights out;
  for (const DataPhase& ph : data_phases(p)) {
    const std::vector<float> wt = phase_kernel(p, ph, w);
    out.phases.push_back(pack_for(ph.q, isa, wt.data(), nullptr));
    out.phase_r.push_back(ph.r);
  }
  return out;
}

bool transposed_serves(const TransposedWeights& t, const BackwardPlan& plan) {
  if (t.phase_r.size() != plan.phases.size()) return false;
  for (size_t i = 0; i < t.phase_r.size(); ++i)
    if (t.phase_r[i] != plan.phases[i].r) return false;
  return true;
}

namespace {

// dx of a strided convolution from its phases (data_phases): each phase's
// forward into `rows`, then its rows into dx; rows no phase reaches are 0.
void strided_data(const Plan& data_plan, const ConvProblem& p, const std::vector<DataPhase>& phases,
                  const TransposedWeights& packed, const float* dz, float* rows, float* dx) {
  const int64_t N = p.batch, L = p.in_steps, C = p.in_channels, s = p.stride, pad = p.pad_left;
  if (packed.phases.size() != phases.size())
    fail(CONV1D_ERROR_INTERNAL, "execute_backward: the packed phases do not match the problem");
  const auto phase_threads = [&](const ConvProblem& q, size_t i) {
    return useful_threads(q, data_plan.threads, simd_tasks(kernels_for(data_plan.isa), q, packed.phases[i]));
  };
  // channels_last phases that drop no rows write their rows straight into
  // dx (row pitch s*C): no staging, no copy, and only the rows of phases
  // without taps are zeroed. That traffic was 5-10% of w2v_conv1's dx.
  if (phases_in_place(p, phases)) {
    for (size_t i = 0; i < phases.size(); ++i) {
      const DataPhase& ph = phases[i];
      const int64_t i0 = ph.q_first * s + ph.r - pad;
      if (ph.taps == 0) {
        for (int64_t n = 0; n < N; ++n)
          for (int64_t q = 0; q < ph.rows; ++q)
            std::memset(dx + (n * L + i0 + q * s) * C, 0, static_cast<size_t>(C) * sizeof(float));
        continue;
      }
      ConvProblem q = ph.q;
      q.y_row_pitch = s * C;
      q.y_item_pitch = L * C;
      execute(data_plan, q, dz, nullptr, nullptr, &packed.phases[i], CONV1D_ACTIVATION_LINEAR, dx + i0 * C,
              phase_threads(q, i));
    }
    return;
  }
  // The phases' x panels (execute's slot 6, channels_first pointwise
  // phases), reserved before dx is cleared.
  size_t xpanel = 0;
  for (size_t i = 0; i < phases.size(); ++i)
    if (phases[i].taps)
      xpanel = std::max(
          xpanel, xpanel_split(data_plan, phases[i].q, &packed.phases[i], phase_threads(phases[i].q, i)).floats());
  if (xpanel) thread_scratch(6, xpanel);
  std::memset(dx, 0, static_cast<size_t>(N * L * C) * sizeof(float));
  for (size_t i = 0; i < phases.size(); ++i) {
    const DataPhase& ph = phases[i];
    if (ph.taps == 0) continue;
    execute(data_plan, ph.q, dz, nullptr, nullptr, &packed.phases[i], CONV1D_ACTIVATION_LINEAR, rows,
            phase_threads(ph.q, i));
    const int64_t skip = ph.q_first - ph.q_start;
    const int64_t i0 = ph.q_first * s + ph.r - pad;  // dx row of the phase's first kept row
    const int64_t kept = ph.rows - skip;
    for (int64_t n = 0; n < N; ++n) {
      if (p.channels_first) {
        for (int64_t c = 0; c < C; ++c) {
          const float* src = rows + (n * C + c) * ph.rows + skip;
          float* dst = dx + (n * C + c) * L + i0;
          for (int64_t t = 0; t < kept; ++t) dst[t * s] = src[t];
        }
      } else {
        for (int64_t t = 0; t < kept; ++t)
          std::memcpy(dx + (n * L + i0 + t * s) * C, rows + (n * ph.rows + skip + t) * C,
                      static_cast<size_t>(C) * sizeof(float));
      }
    }
  }
}

}  // namespace

bool execute_backward(const BackwardPlan& plan, const ConvProblem& p_in, const float* x, const float* w,
                      const float* dz, float* dx, float* dw, float* dbias, const TransposedWeights* transposed) {
  if (plan.data_method == DataMethod::kReference) {
    if (dx) backward_data_reference(p_in, dz, w, dx);
    if (dw) backward_weights_reference(p_in, x, dz, dw);
    return false;
  }
  const bool data_fwd = dx && backward_uses_transposed(plan);
  const bool data_nwc = dx && !data_fwd;  // GEMM or loops, on channels_last
  const bool data_folded = data_nwc && plan.data_method == DataMethod::kFolded;
  const bool data_gemm = data_nwc && plan.data_method == DataMethod::kGemm;
  const bool ncw_panels = dw && plan.weights_method == WeightsMethod::kNcwPanels;
  const bool weights_ncw = dw && (plan.weights_method == WeightsMethod::kNcwGemm || ncw_panels);
  const bool weights_gemm = dw && plan.weights_method == WeightsMethod::kGemm;
  const bool weights_tiles = dw && plan.weights_method == WeightsMethod::kWeightTiles;
  const bool channel_tiles = dw && plan.weights_method == WeightsMethod::kChannelTiles;
  // The channel tiles sum dbias as they read channels_last dz, where that
  // pays (see channel_bias_fused), backward_bias's sums bit for bit.
  const bool bias_fused =
      channel_tiles && dbias && !p_in.channels_first && backward_kernels(plan.weights.isa).channel_bias_fused(p_in);
  const bool need_nwc = data_nwc || (dw && !weights_ncw);
  const bool first = p_in.channels_first;
  // The channel tiles broadcast dz in either layout: only x needs transposing for them.
  const bool dz_t = first && (data_nwc || (dw && !weights_ncw && !channel_tiles));
  const int threads = std::max(plan.data.threads, plan.weights.threads);  // transposes, batch-wide GEMMs
  ConvProblem p = p_in;
  p.channels_first = false;

  // Everything is allocated before any output is written.
  const size_t x_count = static_cast<size_t>(p.batch * p.in_steps * p.in_channels);
  const size_t z_count = static_cast<size_t>(p.batch * p.out_steps * p.filters);
  // Per-thread scratch, reused across calls (slot 3).
  ScratchSplit scratch(3);
  const size_t xt_i = scratch.want(first && dw && !weights_ncw ? x_count : 0), dzt_i = scratch.want(dz_t ? z_count : 0),
               dxt_i = scratch.want(first && data_nwc ? x_count : 0);
  const size_t ws_i =
      scratch.want(data_gemm || weights_gemm ? backward_gemm_workspace_floats(p, data_gemm, weights_gemm) : 0);
  const size_t fold_i = scratch.want(data_folded ? backward_data_folded_floats(p, plan.data.threads) : 0);
  const BackwardKernels& wk = backward_kernels(plan.weights.isa);  // the dW plan's kernels
  // Packed ncw dW panels: worker slot k runs tasks k, k + slots, ... in its own workspace.
  const int64_t panel_tasks = ncw_panels ? wk.ncw_panel_tasks(p_in, plan.weights.threads) : 0;
  const int64_t panel_per = ncw_panels ? wk.ncw_panel_floats(p_in) : 0;
  const int panel_slots = static_cast<int>(std::min<int64_t>(plan.weights.threads, panel_tasks));
  const size_t panel_i = scratch.want(static_cast<size_t>(panel_slots * panel_per));
  // Channel tiles: their shared slots, then each part's own panels.
  const int64_t ctile_tiles = channel_tiles ? wk.channel_tiles(p) : 0;
  const int ctile_parts = static_cast<int>(std::min<int64_t>(plan.weights.threads, ctile_tiles));
  const int64_t ctile_panel = channel_tiles ? wk.channel_panel_floats(p) : 0;
  const int64_t ctile_slots = channel_tiles ? wk.channel_tile_floats(p) : 0;
  const size_t ctile_i = scratch.want(static_cast<size_t>(ctile_slots + ctile_parts * ctile_panel));
  const size_t bias_i = scratch.want(bias_fused ? static_cast<size_t>(2 * p_in.filters) : 0);  // doubles
  // Strided transposed dx: each phase's rows before the scatter, unless they go to dx in place.
  const std::vector<DataPhase>& phases = plan.phases;
  size_t phase_floats = 0;
  if (data_fwd && p.stride > 1) {
    if (!phases_in_place(p_in, phases))
      for (const DataPhase& ph : phases)
        phase_floats = std::max(phase_floats, static_cast<size_t>(p.batch * ph.rows * p.in_channels));
  }
  const size_t phase_i = scratch.want(phase_floats);
  scratch.allocate();
  float* xt = scratch.get(xt_i);
  float* dzt = scratch.get(dzt_i);
  float* dxt = scratch.get(dxt_i);
  if (data_fwd) {
    if (!transposed) fail(CONV1D_ERROR_INTERNAL, "execute_backward: the transposed plan needs its packed kernel");
    if (p.stride == 1) {
      if (phases.empty()) fail(CONV1D_ERROR_INTERNAL, "execute_backward: a stride-1 transposed plan without its phase");
      const ConvProblem& q = phases.front().q;
      const int threads =
          useful_threads(q, plan.data.threads, simd_tasks(kernels_for(plan.data.isa), q, transposed->phases.front()));
      // With packed weights the SIMD path never reads the unpacked kernel.
      execute(plan.data, q, dz, nullptr, nullptr, &transposed->phases.front(), CONV1D_ACTIVATION_LINEAR, dx, threads);
    } else {
      strided_data(plan.data, p_in, phases, *transposed, dz, scratch.get(phase_i), dx);
    }
  }
  if (ncw_panels) {
    float* ws = scratch.get(panel_i);
    parallel_for(panel_slots, panel_slots, [&](int64_t b, int64_t e) {
      for (int64_t slot = b; slot < e; ++slot)
        for (int64_t task = slot; task < panel_tasks; task += panel_slots)
          wk.ncw_panels_run(p_in, x, dz, dw, ws + slot * panel_per, plan.weights.threads, task);
    });
  } else if (weights_ncw) {
    if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
    backward_weights_ncw(p_in, x, dz, dw, plan.weights.threads);
  }
  if (!need_nwc) return false;
  const float* dz_nwc = dz;
  const float* x_nwc = x;
  if (dz_t) transpose_on_pool(dz, dzt, p.batch, p.filters, p.out_steps, plan.max_isa, threads), dz_nwc = dzt;
  if (first && dw && !weights_ncw)
    transpose_on_pool(x, xt, p.batch, p.in_channels, p.in_steps, plan.max_isa, threads), x_nwc = xt;
  float* dx_nwc = first ? dxt : dx;
  // Our pool splits GEMM work; OpenBLAS threading would change the rounding.
  if ((data_gemm || weights_gemm || data_folded) && openblas_get_num_threads() != 1) openblas_set_num_threads(1);
  if (data_folded)
    backward_data_folded(
        p, dz_nwc, w, dx_nwc, plan.data.threads, scratch.get(fold_i),
        plan.data.algorithm == CONV1D_ALGORITHM_DIRECT ? backward_kernels(plan.data.isa).fold_rows : nullptr);
  if (data_gemm || weights_gemm) {
    backward_gemm(p, x_nwc, dz_nwc, w, data_gemm ? dx_nwc : nullptr, weights_gemm ? dw : nullptr, threads,
                  scratch.get(ws_i));
  }
  if (data_nwc && plan.data_method == DataMethod::kLoops) {
    const BackwardKernels& k = backward_kernels(plan.data.isa);
    parallel_for(backward_direct_tasks(p), plan.data.threads,
                 [&](int64_t b, int64_t e) { k.data(p, dz_nwc, w, dx_nwc, b, e); });
  }
  if (weights_tiles) {
    parallel_for(wk.weight_tiles(p), plan.weights.threads,
                 [&](int64_t b, int64_t e) { wk.weight_tiles_run(p, x_nwc, dz_nwc, dw, b, e); });
  } else if (channel_tiles) {
    float* ws = scratch.get(ctile_i);
    double* bias_sums = bias_fused ? reinterpret_cast<double*>(scratch.get(bias_i)) : nullptr;
    // Part k runs its fixed range of tiles with its own panels.
    parallel_for(ctile_parts, ctile_parts, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k)
        wk.channel_tiles_run(p, x_nwc, dz_nwc, first && !dz_t, dw, ws,
                             ctile_panel ? ws + ctile_slots + k * ctile_panel : nullptr, bias_sums,
                             bias_fused ? dbias : nullptr, ctile_tiles * k / ctile_parts,
                             ctile_tiles * (k + 1) / ctile_parts);
    });
  } else if (dw && plan.weights_method == WeightsMethod::kLoops) {
    parallel_for(backward_direct_tasks(p), plan.weights.threads,
                 [&](int64_t b, int64_t e) { wk.weights(p, x_nwc, dz_nwc, dw, b, e); });
  }
  if (data_nwc && first) transpose_on_pool(dx_nwc, dx, p.batch, p.in_steps, p.in_channels, plan.max_isa, threads);
  return bias_fused;
}

}  // namespace conv1d
