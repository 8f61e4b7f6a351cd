// The Keras Conv1D arguments of one layer, their validation, and the output
// geometry (spec sections 1 and 2).
#pragma once

#include <conv1d/conv1d.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "constraints.hpp"
#include "initializers.hpp"
#include "regularizers.hpp"

namespace conv1d {

// Upper bound of every size parameter: the kernels index with 32-bit BLAS ints.
constexpr int64_t kMaxDim = 2147483647;

// The Keras dtype policies this library computes (CONV1D_PARAM_DTYPE).
enum class DTypePolicy {
  kFloat32,        // "float32": variables and compute float32
  kFloat64,        // "float64": variables and compute float64
  kBFloat16,       // "bfloat16": variables bf16, compute bf16 (float32 accumulation)
  kMixedBFloat16,  // "mixed_bfloat16": variables float32, compute bf16
};

// The Keras policy name.
const char* policy_name(DTypePolicy p);
// A Keras policy name: the four above, else CONV1D_ERROR_UNSUPPORTED for a
// policy Keras knows (float16, mixed_float16, integer and quantized ones) or
// CONV1D_ERROR_UNKNOWN_NAME, with a message saying which.
DTypePolicy parse_policy(const std::string& name);
// The plain policy of a dtype (set_int); CONV1D_ERROR_INVALID_VALUE for a
// value that is not a conv1d_dtype.
DTypePolicy policy_of(conv1d_dtype d);
conv1d_dtype compute_dtype(DTypePolicy p);
conv1d_dtype variable_dtype(DTypePolicy p);
// "float32", "float64", "bfloat16", or nullptr for a value that is not a
// conv1d_dtype (read without an enum-typed load, so any int is safe).
const char* dtype_name(const conv1d_dtype& d);
// Fails with CONV1D_ERROR_INVALID_VALUE naming `what` unless d is a conv1d_dtype;
// returns it as a value that is safe to switch on.
conv1d_dtype checked_dtype(const conv1d_dtype& d, const char* what);
// Bytes per element.
size_t dtype_size(conv1d_dtype d);

struct LayerConfig {
  int64_t filters = 1;
  int64_t kernel_size = 1;
  int64_t strides = 1;
  int64_t dilation_rate = 1;
  int64_t groups = 1;
  conv1d_padding padding = CONV1D_PADDING_VALID;
  conv1d_data_format data_format = CONV1D_CHANNELS_LAST;
  bool use_bias = true;
  conv1d_activation activation = CONV1D_ACTIVATION_LINEAR;
  Initializer kernel_initializer;  // GlorotUniform
  Initializer bias_initializer = Initializer::parse("zeros");
  int64_t seed = -1;  // -1: a random seed is drawn at build
  Regularizer kernel_regularizer, bias_regularizer, activity_regularizer;
  Constraint kernel_constraint, bias_constraint;
  int64_t lora_rank = 0;  // 0: off. On a built layer, the rank LoRA runs with.
  double lora_alpha = 0.0;
  bool has_lora_alpha = false;  // else alpha reads as lora_rank
  bool trainable = true;
  conv1d_algorithm algorithm = CONV1D_ALGORITHM_AUTO;
  bool verbose = false;
  int64_t num_threads = 0;                 // 0: all available cores
  conv1d_isa max_isa = CONV1D_ISA_AVX512;  // capped by the CPU where used
  bool find = false;
  std::string name = "conv1d";
  DTypePolicy dtype = DTypePolicy::kFloat32;

  // Checks the combination as Keras' constructor does (the checks on single
  // values happen where they are set). Throws Error.
  void validate() const;

  double lora_scale() const { return (has_lora_alpha ? lora_alpha : static_cast<double>(lora_rank)) / lora_rank; }
};

// The defaults Keras and the environment give a new layer: data_format from
// keras.json, algorithm and verbosity from CONV1D_ALGORITHM / CONV1D_VERBOSE.
LayerConfig default_config(int64_t filters, int64_t kernel_size);

// The data format Keras would use for data_format=None: image_data_format in
// $KERAS_HOME/keras.json (default ~/.keras/keras.json), else channels_last.
conv1d_data_format keras_default_data_format();

// Name parsers, case-insensitive like Keras for padding and data_format.
conv1d_padding parse_padding(const std::string& s);
conv1d_data_format parse_data_format(const std::string& s);
conv1d_algorithm parse_algorithm(const std::string& s);
const char* padding_name(conv1d_padding p);
const char* data_format_name(conv1d_data_format f);
const char* algorithm_name(conv1d_algorithm a);

struct Geometry {
  int64_t out_steps = 0;
  int64_t pad_left = 0;
  int64_t pad_right = 0;
};

// Output length and pads for an input of `steps` steps. Throws
// CONV1D_ERROR_INVALID_SIZE for steps <= 0 and CONV1D_ERROR_EMPTY_OUTPUT when
// 'valid' leaves nothing.
Geometry compute_geometry(const LayerConfig& cfg, int64_t steps);

}  // namespace conv1d
