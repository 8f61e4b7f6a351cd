// API-test helpers: a layer handle (created or the test fails, destroyed at
// scope end), the model's configuration applied through the C API, and every
// Keras activation name.
#pragma once

#include <conv1d/conv1d.h>

#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>

#include "naive_conv1d.hpp"

namespace test_util {

struct Layer {
  conv1d_layer* p = nullptr;
  Layer(int64_t filters, int64_t k) { REQUIRE(conv1d_create(filters, k, &p) == CONV1D_OK); }
  ~Layer() { conv1d_destroy(p); }
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;
  operator conv1d_layer*() const { return p; }
};

// Sets c's arguments (all but filters and kernel_size, which create takes) on l.
inline void configure(conv1d_layer* l, const naive::Conv& c) {
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_STRIDES, c.stride) == CONV1D_OK);
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_DILATION_RATE, c.dilation) == CONV1D_OK);
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_GROUPS, c.groups) == CONV1D_OK);
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_PADDING, c.padding.c_str()) == CONV1D_OK);
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_DATA_FORMAT,
                         c.channels_first ? CONV1D_CHANNELS_FIRST : CONV1D_CHANNELS_LAST) == CONV1D_OK);
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_USE_BIAS, c.use_bias) == CONV1D_OK);
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_ACTIVATION, c.activation.c_str()) == CONV1D_OK);
}

// Every activation name Keras accepts, aliases included.
inline const char* const kActivations[] = {
    "linear",      "relu",        "leaky_relu",   "relu6",          "elu",        "selu",        "celu",
    "gelu",        "sigmoid",     "hard_sigmoid", "silu",           "swish",      "hard_silu",   "hard_swish",
    "mish",        "softplus",    "softsign",     "exponential",    "tanh",       "tanh_shrink", "hard_tanh",
    "hard_shrink", "soft_shrink", "sparse_plus",  "sparse_sigmoid", "squareplus", "log_sigmoid", "softmax",
    "log_softmax", "glu",         "sparsemax"};
constexpr size_t kActivationCount = sizeof(kActivations) / sizeof(*kActivations);

}  // namespace test_util
