// Keras 3 built-in activations: names, forward (elementwise and axis-wise)
// and their derivatives for the backward pass.
#pragma once

#include <conv1d/conv1d.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace conv1d {

// Resolve a Keras activation name exactly as Keras does (case-sensitive,
// aliases swish/hard_swish, "linear" for None). Unknown names throw
// Error(CONV1D_ERROR_UNKNOWN_NAME); "threshold" throws
// Error(CONV1D_ERROR_UNSUPPORTED) since Keras cannot call it without arguments.
conv1d_activation parse_activation(const std::string& name);

// Validates an enum value the same way (unknown value: CONV1D_ERROR_INVALID_VALUE,
// threshold: CONV1D_ERROR_UNSUPPORTED).
void check_activation(conv1d_activation a);

// Canonical Keras name, or nullptr for a value outside the enum.
const char* activation_name(conv1d_activation a);

// True for softmax, log_softmax, glu and sparsemax: they act on the last axis.
bool activation_is_axiswise(conv1d_activation a);

// Applies an elementwise activation in place to n floats. Must not be called
// with an axis-wise activation. Computes in float with results within a few
// ulp of the float64 formula.
void apply_elementwise(conv1d_activation a, float* v, std::size_t n);

// Applies any activation to a (d0, d1, d2) row-major tensor along its last
// axis d2 (Keras axis -1). `src` is the conv+bias output; `dst` receives the
// activation, shape (d0, d1, d2) or (d0, d1, d2/2) for glu. dst may equal src
// (in place) for every activation, glu included. For glu d2 must be even
// (callers validate).
void apply_activation(conv1d_activation a, const float* src, float* dst, int64_t d0, int64_t d1, int64_t d2);
// The same in double for float64 layers: every formula evaluated in double
// (the Taylor cut-off of tanh_shrink moved for double's precision).
void apply_activation(conv1d_activation a, const double* src, double* dst, int64_t d0, int64_t d1, int64_t d2);

// The chain rule through apply_activation: z is the conv+bias output
// (d0, d1, d2), dy the gradient of the loss with respect to the activation's
// output ((d0, d1, d2/2) for glu), and dz receives dy * d act / dz, shape
// (d0, d1, d2). dz may equal z. At the kinks of piecewise activations the
// derivative is TensorFlow's: relu'(0) = 0, relu6 and hard_tanh take 0 at
// both ends, hard/soft_shrink 0 at +-0.5.
void activation_backward(conv1d_activation a, const float* z, const float* dy, float* dz, int64_t d0, int64_t d1,
                         int64_t d2);

}  // namespace conv1d
