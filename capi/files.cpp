// The C entry points that read and write files: Keras weight files (.keras,
// .weights.h5, legacy .h5) and NumPy .npy arrays. The formats live in src/io/.
#include <conv1d/conv1d.h>

#include <string>

#include "errors.hpp"
#include "handle.hpp"
#include "io/keras_h5.hpp"
#include "io/npy.hpp"

using conv1d::fail;
using conv1d::get;
using conv1d::guard;
using conv1d::need;

extern "C" {

conv1d_status conv1d_load_weights_keras(conv1d_layer* layer, const char* path, const char* layer_key) {
  return guard([&] {
    conv1d::Layer& l = get(layer);
    need(path, "path");
    if (layer_key && !*layer_key)
      fail(CONV1D_ERROR_INVALID_VALUE, "layer_key is empty: pass NULL to load the file's only Conv1D layer");
    conv1d::KerasVariables v = conv1d::read_keras_weights(path, layer_key);
    l.load_own_variables(std::move(v.vars), v.stored, v.source);
  });
}

conv1d_status conv1d_load_npy(conv1d_layer* layer, conv1d_weight which, const char* path) {
  return guard([&] {
    conv1d::Layer& l = get(layer);
    need(path, "path");
    if (which < CONV1D_WEIGHT_KERNEL || which > CONV1D_WEIGHT_LORA_B)
      fail(CONV1D_ERROR_INVALID_VALUE,
           "weight must be a conv1d_weight value (0..3); received " + std::to_string(static_cast<int64_t>(which)));
    l.set_weight_array(which, conv1d::read_npy(path));
  });
}

conv1d_status conv1d_save_npy(const conv1d_layer* layer, conv1d_weight which, const char* path) {
  return guard([&] {
    const conv1d::Layer& l = get(layer);
    need(path, "path");
    const std::vector<int64_t> shape = l.weight_shape(which);
    if (shape.empty()) {
      fail(CONV1D_ERROR_INVALID_VALUE,
           std::string("layer '") + l.config().name + "' has no " +
               (which == CONV1D_WEIGHT_BIAS ? "bias (use_bias=0)" : "LoRA factors (LoRA is not enabled)"));
    }
    const size_t n = l.weight_size(which);
    std::vector<float> data(n);
    l.get_weight(which, data.data(), n);
    conv1d::write_npy(path, shape, data.data(), n);
  });
}

}  // extern "C"
