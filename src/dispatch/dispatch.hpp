// Algorithm choice and execution: the one place that maps a problem to a
// kernel.
#pragma once

#include <conv1d/conv1d.h>

#include <string>

#include "kernels/problem.hpp"

namespace conv1d {

// Whether `a` can run `p` at all (GEMM needs 32-bit BLAS sizes).
bool algorithm_supports(conv1d_algorithm a, const ConvProblem& p);

// AUTO's choice for `p` and a one-line reason for CONV1D_VERBOSE. Never
// picks the reference.
conv1d_algorithm choose_algorithm(const ConvProblem& p, std::string* reason);

// Runs conv + bias with algorithm `a` (not AUTO) into y. Allocates its
// workspace before writing y, so a failed allocation leaves y untouched.
void run_algorithm(conv1d_algorithm a, const ConvProblem& p, const float* x, const float* w, const float* bias,
                   float* y);

}  // namespace conv1d
