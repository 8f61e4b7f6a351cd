// The spec's keras.layers.Conv1D(32, 3, activation='relu').get_config()
// (section 9), as Keras >= 3.15 serializes it: the config tests' anchor.
#pragma once

namespace test_util {

constexpr const char* kKerasSpecConfig = R"({
  "name": "conv1d",
  "trainable": true,
  "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
  "filters": 32,
  "kernel_size": [3],
  "strides": [1],
  "padding": "valid",
  "data_format": "channels_last",
  "dilation_rate": [1],
  "groups": 1,
  "activation": "relu",
  "use_bias": true,
  "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
                         "config": {"seed": null, "input_axes": null, "output_axes": null}, "registered_name": null},
  "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null},
  "kernel_regularizer": null,
  "bias_regularizer": null,
  "activity_regularizer": null,
  "kernel_constraint": null,
  "bias_constraint": null
})";

}  // namespace test_util
