// A whole layer from and to Keras 3 JSON: layer.get_config(), or the
// {"class_name": "Conv1D", "config": ..., "build_config": ...} entry a
// model's config holds (spec section 9).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "layer.hpp"

namespace conv1d {

// A parsed config: the two constructor sizes, and the rest to apply.
struct KerasConfig {
  int64_t filters = 0, kernel_size = 0;
  nlohmann::json config;
  nlohmann::json build;  // null when the JSON has no build_config
};

// Parses the JSON and checks its structure and keys. Unknown keys throw
// Error(CONV1D_ERROR_PARSE) naming the key.
KerasConfig parse_layer_config(const std::string& json);

// Sets every argument on a layer made with (filters, kernel_size), in Keras'
// constructor order, and builds it when a build_config gives the input
// shape. Errors name the key and keep the setter's status.
void apply_layer_config(Layer& layer, const KerasConfig& config);

// The get_config() JSON of Keras >= 3.15, or with `wrapped` the model entry
// (module, class_name, config, registered_name, and build_config once built).
std::string layer_config(const Layer& layer, bool wrapped);

}  // namespace conv1d
