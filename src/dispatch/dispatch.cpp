#include "dispatch/dispatch.hpp"

#include <climits>
#include <vector>

#include "error.hpp"

namespace conv1d {

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

conv1d_algorithm choose_algorithm(const ConvProblem& p, std::string* reason) {
  const int64_t cg = p.cg(), fg = p.fg();
  // A GEMM pays off when each call does enough work: a reduction of several
  // channels into a block of filters over many output steps. Depthwise and
  // tiny-channel shapes make skinny GEMMs that the direct loops beat.
  if (algorithm_supports(CONV1D_ALGORITHM_GEMM, p) && cg >= 16 && fg >= 16 && p.out_steps >= 16) {
    if (reason) *reason = "gemm: per-group reduction " + std::to_string(cg) + " x " + std::to_string(fg) + " filters";
    return CONV1D_ALGORITHM_GEMM;
  }
  if (reason) {
    *reason = "direct: per-group " + std::to_string(cg) + " channels x " + std::to_string(fg) + " filters, " +
              std::to_string(p.out_steps) + " output steps too small for GEMM";
  }
  return CONV1D_ALGORITHM_DIRECT;
}

void run_algorithm(conv1d_algorithm a, const ConvProblem& p, const float* x, const float* w, const float* bias,
                   float* y) {
  switch (a) {
    case CONV1D_ALGORITHM_REFERENCE:
      conv_reference(p, x, w, bias, y);
      return;
    case CONV1D_ALGORITHM_DIRECT:
      conv_direct(p, x, w, bias, y);
      return;
    case CONV1D_ALGORITHM_GEMM: {
      std::vector<float> ws(gemm_workspace_floats(p));
      conv_gemm(p, x, w, bias, y, ws.data());
      return;
    }
    default:
      fail(CONV1D_ERROR_INTERNAL, "run_algorithm called with algorithm " + std::to_string(static_cast<int>(a)));
  }
}

}  // namespace conv1d
