// The opaque handle behind conv1d_layer*, and its unwrapping, shared by the
// files of the C boundary.
#pragma once

#include <conv1d/conv1d.h>

#include <string>

#include "error.hpp"
#include "layer.hpp"

struct conv1d_layer {
  conv1d_layer(int64_t filters, int64_t kernel_size) : impl(filters, kernel_size) {}
  conv1d::Layer impl;
};

namespace conv1d {

inline const Layer& get(const conv1d_layer* layer) {
  if (!layer) fail(CONV1D_ERROR_NULL_POINTER, "layer is NULL");
  return layer->impl;
}

inline Layer& get(conv1d_layer* layer) {
  if (!layer) fail(CONV1D_ERROR_NULL_POINTER, "layer is NULL");
  return layer->impl;
}

template <class T>
void need(const T* p, const char* name) {
  if (!p) fail(CONV1D_ERROR_NULL_POINTER, std::string(name) + " is NULL");
}

}  // namespace conv1d
