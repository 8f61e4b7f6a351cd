// The exported C entry points. Each checks its pointers, unwraps the handle
// and forwards to conv1d::Layer inside guard(); nothing else lives here.
#include <conv1d/conv1d.h>

#include <cstring>
#include <memory>
#include <string>

#include "activations.hpp"
#include "config.hpp"
#include "dispatch/cpu.hpp"
#include "errors.hpp"
#include "handle.hpp"
#include "keras_json.hpp"
#include "layer.hpp"

using conv1d::fail;
using conv1d::get;
using conv1d::guard;
using conv1d::need;

namespace {

// Copies s with its NUL into buffer, or fails leaving buffer untouched.
void copy_out(const std::string& s, char* buffer, size_t capacity, size_t* needed) {
  if (needed) *needed = s.size() + 1;
  if (capacity < s.size() + 1) {
    fail(CONV1D_ERROR_BUFFER_TOO_SMALL, "capacity=" + std::to_string(capacity) + " but the value needs " +
                                            std::to_string(s.size() + 1) + " bytes with its NUL");
  }
  std::memcpy(buffer, s.c_str(), s.size() + 1);
}

}  // namespace

extern "C" {

unsigned conv1d_version_number(void) { return CONV1D_VERSION_NUMBER; }

const char* conv1d_version_string(void) { return CONV1D_VERSION_STRING_; }

const char* conv1d_algorithm_name(conv1d_algorithm algorithm) { return conv1d::algorithm_name(algorithm); }

const char* conv1d_activation_name(conv1d_activation activation) { return conv1d::activation_name(activation); }

const char* conv1d_dtype_name(conv1d_dtype dtype) { return conv1d::dtype_name(dtype); }

conv1d_status conv1d_create(int64_t filters, int64_t kernel_size, conv1d_layer** out) {
  return guard([&] {
    need(out, "out");
    *out = new conv1d_layer(filters, kernel_size);
  });
}

void conv1d_destroy(conv1d_layer* layer) { delete layer; }

conv1d_status conv1d_set_int(conv1d_layer* layer, conv1d_param param, int64_t value) {
  return guard([&] { get(layer).set_int(param, value); });
}

conv1d_status conv1d_set_double(conv1d_layer* layer, conv1d_param param, double value) {
  return guard([&] { get(layer).set_double(param, value); });
}

conv1d_status conv1d_set_string(conv1d_layer* layer, conv1d_param param, const char* value) {
  return guard([&] {
    conv1d::Layer& l = get(layer);
    need(value, "value");
    l.set_string(param, value);
  });
}

conv1d_status conv1d_get_int(const conv1d_layer* layer, conv1d_param param, int64_t* value) {
  return guard([&] {
    const conv1d::Layer& l = get(layer);
    need(value, "value");
    *value = l.get_int(param);
  });
}

conv1d_status conv1d_get_double(const conv1d_layer* layer, conv1d_param param, double* value) {
  return guard([&] {
    const conv1d::Layer& l = get(layer);
    need(value, "value");
    *value = l.get_double(param);
  });
}

conv1d_status conv1d_get_string(const conv1d_layer* layer, conv1d_param param, char* buffer, size_t capacity,
                                size_t* needed) {
  return guard([&] {
    const conv1d::Layer& l = get(layer);
    if (capacity > 0) need(buffer, "buffer");
    copy_out(l.get_string(param), buffer, capacity, needed);
  });
}

conv1d_status conv1d_param_bounds(conv1d_param param, int64_t* lower, int64_t* upper) {
  return guard([&] {
    need(lower, "lower");
    need(upper, "upper");
    int64_t lo = 0, hi = 0;
    conv1d::Layer::bounds(param, &lo, &hi);
    *lower = lo;
    *upper = hi;
  });
}

conv1d_status conv1d_build(conv1d_layer* layer, int64_t in_channels) {
  return guard([&] { get(layer).build(in_channels); });
}

conv1d_status conv1d_weight_sizes(const conv1d_layer* layer, size_t* kernel_len, size_t* bias_len) {
  return guard([&] {
    const conv1d::Layer& l = get(layer);
    if (!l.built()) fail(CONV1D_ERROR_NOT_BUILT, "layer has no weights yet: call conv1d_build or conv1d_set_weights");
    if (kernel_len) *kernel_len = l.kernel_len();
    if (bias_len) *bias_len = l.bias_len();
  });
}

conv1d_status conv1d_set_weights(conv1d_layer* layer, const float* kernel, size_t kernel_len, const float* bias,
                                 size_t bias_len) {
  return guard([&] { get(layer).set_weights(kernel, kernel_len, bias, bias_len); });
}

conv1d_status conv1d_get_weights(const conv1d_layer* layer, float* kernel, size_t kernel_len, float* bias,
                                 size_t bias_len) {
  return guard([&] { get(layer).get_weights(kernel, kernel_len, bias, bias_len); });
}

conv1d_status conv1d_set_weights_ex(conv1d_layer* layer, conv1d_dtype dtype, const void* kernel, size_t kernel_len,
                                    const void* bias, size_t bias_len) {
  return guard([&] { get(layer).set_weights(dtype, kernel, kernel_len, bias, bias_len); });
}

conv1d_status conv1d_get_weights_ex(const conv1d_layer* layer, conv1d_dtype dtype, void* kernel, size_t kernel_len,
                                    void* bias, size_t bias_len) {
  return guard([&] { get(layer).get_weights(dtype, kernel, kernel_len, bias, bias_len); });
}

conv1d_status conv1d_output_steps(const conv1d_layer* layer, int64_t steps, int64_t* out_steps) {
  return guard([&] {
    const conv1d::Layer& l = get(layer);
    need(out_steps, "out_steps");
    *out_steps = conv1d::compute_geometry(l.config(), steps).out_steps;
  });
}

conv1d_status conv1d_padding_amounts(const conv1d_layer* layer, int64_t steps, int64_t* pad_left, int64_t* pad_right) {
  return guard([&] {
    const conv1d::Layer& l = get(layer);
    need(pad_left, "pad_left");
    need(pad_right, "pad_right");
    const conv1d::Geometry g = conv1d::compute_geometry(l.config(), steps);
    *pad_left = g.pad_left;
    *pad_right = g.pad_right;
  });
}

conv1d_status conv1d_output_shape(const conv1d_layer* layer, int64_t batch, int64_t steps, int64_t shape[3],
                                  size_t* count) {
  return guard([&] {
    const conv1d::Layer& l = get(layer);
    need(shape, "shape");
    l.output_shape(batch, steps, shape, count);
  });
}

conv1d_status conv1d_forward(const conv1d_layer* layer, const float* x, size_t x_len, int64_t batch, int64_t steps,
                             int64_t channels, float* y, size_t y_len) {
  return guard([&] { get(layer).forward(x, x_len, batch, steps, channels, y, y_len); });
}

conv1d_status conv1d_forward_ex(const conv1d_layer* layer, conv1d_dtype x_dtype, const void* x, size_t x_len,
                                int64_t batch, int64_t steps, int64_t channels, conv1d_dtype y_dtype, void* y,
                                size_t y_len) {
  return guard([&] { get(layer).forward(x_dtype, x, x_len, batch, steps, channels, y_dtype, y, y_len); });
}

conv1d_status conv1d_query_algorithm(const conv1d_layer* layer, int64_t batch, int64_t steps,
                                     conv1d_algorithm* algorithm) {
  return guard([&] {
    const conv1d::Layer& l = get(layer);
    need(algorithm, "algorithm");
    *algorithm = l.algorithm_for(batch, steps);
  });
}

conv1d_status conv1d_describe_plan(const conv1d_layer* layer, int64_t batch, int64_t steps, char* buffer,
                                   size_t capacity, size_t* needed) {
  return guard([&] {
    const conv1d::Layer& l = get(layer);
    if (capacity > 0) need(buffer, "buffer");
    copy_out(l.describe_plan(batch, steps), buffer, capacity, needed);
  });
}

conv1d_isa conv1d_cpu_isa(void) { return conv1d::detected_isa(); }

conv1d_status conv1d_backward(const conv1d_layer* layer, const float* x, size_t x_len, int64_t batch, int64_t steps,
                              int64_t channels, const float* dy, size_t dy_len, float* dx, size_t dx_len,
                              float* dkernel, size_t dkernel_len, float* dbias, size_t dbias_len, uint32_t flags) {
  return guard([&] {
    get(layer).backward(x, x_len, batch, steps, channels, dy, dy_len, dx, dx_len, dkernel, dkernel_len, dbias,
                        dbias_len, flags);
  });
}

conv1d_status conv1d_regularization_loss(const conv1d_layer* layer, const float* y, size_t y_len, int64_t batch,
                                         int64_t steps, double* loss) {
  return guard([&] {
    const conv1d::Layer& l = get(layer);
    need(loss, "loss");
    *loss = l.regularization_loss(y, y_len, batch, steps);
  });
}

conv1d_status conv1d_apply_constraints(conv1d_layer* layer) {
  return guard([&] { get(layer).apply_constraints(); });
}

conv1d_status conv1d_weight_size(const conv1d_layer* layer, conv1d_weight which, size_t* len) {
  return guard([&] {
    const conv1d::Layer& l = get(layer);
    need(len, "len");
    *len = l.weight_size(which);
  });
}

conv1d_status conv1d_get_weight(const conv1d_layer* layer, conv1d_weight which, float* data, size_t len) {
  return guard([&] { get(layer).get_weight(which, data, len); });
}

conv1d_status conv1d_set_weight(conv1d_layer* layer, conv1d_weight which, const float* data, size_t len) {
  return guard([&] { get(layer).set_weight(which, data, len); });
}

conv1d_status conv1d_lora_gradients(const conv1d_layer* layer, const float* dkernel, size_t dkernel_len, float* da,
                                    size_t da_len, float* db, size_t db_len, uint32_t flags) {
  return guard([&] { get(layer).lora_gradients(dkernel, dkernel_len, da, da_len, db, db_len, flags); });
}

conv1d_status conv1d_create_from_config(const char* json, conv1d_layer** out) {
  return guard([&] {
    need(out, "out");
    need(json, "json");
    const conv1d::KerasConfig parsed = conv1d::parse_layer_config(json);
    // The constructor's errors already name filters or kernel_size.
    auto layer = std::make_unique<conv1d_layer>(parsed.filters, parsed.kernel_size);
    conv1d::apply_layer_config(layer->impl, parsed);
    *out = layer.release();
  });
}

conv1d_status conv1d_get_config(const conv1d_layer* layer, int wrapped, char* buffer, size_t capacity, size_t* needed) {
  return guard([&] {
    const conv1d::Layer& l = get(layer);
    if (wrapped != 0 && wrapped != 1)
      fail(CONV1D_ERROR_INVALID_VALUE, "wrapped must be 0 or 1; received " + std::to_string(wrapped));
    if (capacity > 0) need(buffer, "buffer");
    copy_out(conv1d::layer_config(l, wrapped == 1), buffer, capacity, needed);
  });
}

conv1d_status conv1d_lora_merge(conv1d_layer* layer) {
  return guard([&] { get(layer).lora_merge(); });
}

}  // extern "C"
