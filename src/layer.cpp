#include "layer.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <random>
#include <type_traits>

#include "activations.hpp"
#include "dispatch/cpu.hpp"
#include "dispatch/dispatch.hpp"
#include "error.hpp"
#include "kernels/backward.hpp"
#include "runtime/aligned.hpp"
#include "runtime/bf16.hpp"
#include "runtime/convert.hpp"
#include "runtime/thread_pool.hpp"

namespace conv1d {
namespace {

std::string str(int64_t v) { return std::to_string(v); }

// Size parameters: Keras' standardize_tuple message for <= 0.
void check_dim(const char* name, int64_t v) {
  if (v <= 0) {
    fail(CONV1D_ERROR_INVALID_SIZE, std::string("The `") + name +
                                        "` argument must be a tuple of 1 integers. Received " + name + "=" + str(v) +
                                        ", including values {" + str(v) + "} that do not satisfy `value > 0`");
  }
  if (v > kMaxDim) fail(CONV1D_ERROR_SIZE_OVERFLOW, std::string(name) + "=" + str(v) + " exceeds 2^31-1");
}

void check_filters(int64_t v) {
  if (v <= 0) {
    fail(CONV1D_ERROR_INVALID_SIZE,
         "Invalid value for argument `filters`. Expected a strictly positive value. Received filters=" + str(v) + ".");
  }
  if (v > kMaxDim) fail(CONV1D_ERROR_SIZE_OVERFLOW, "filters=" + str(v) + " exceeds 2^31-1");
}

void check_groups(int64_t v) {
  if (v <= 0) {
    fail(CONV1D_ERROR_INVALID_SIZE,
         "The number of groups must be a positive integer. Received: groups=" + str(v) + ".");
  }
  if (v > kMaxDim) fail(CONV1D_ERROR_SIZE_OVERFLOW, "groups=" + str(v) + " exceeds 2^31-1");
}

void check_flag(const char* name, int64_t v) {
  if (v != 0 && v != 1) fail(CONV1D_ERROR_INVALID_VALUE, std::string(name) + " must be 0 or 1; received " + str(v));
}

// a * b, failing with a message naming `what` on int64/size_t overflow.
int64_t checked_mul(int64_t a, int64_t b, const char* what) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r) || static_cast<uint64_t>(r) > SIZE_MAX / sizeof(float)) {
    fail(CONV1D_ERROR_SIZE_OVERFLOW, std::string(what) + " overflows: " + str(a) + " * " + str(b));
  }
  return r;
}

const char* param_name(conv1d_param p) {
  switch (p) {
    case CONV1D_PARAM_FILTERS:
      return "filters";
    case CONV1D_PARAM_KERNEL_SIZE:
      return "kernel_size";
    case CONV1D_PARAM_STRIDES:
      return "strides";
    case CONV1D_PARAM_DILATION_RATE:
      return "dilation_rate";
    case CONV1D_PARAM_GROUPS:
      return "groups";
    case CONV1D_PARAM_PADDING:
      return "padding";
    case CONV1D_PARAM_DATA_FORMAT:
      return "data_format";
    case CONV1D_PARAM_USE_BIAS:
      return "use_bias";
    case CONV1D_PARAM_IN_CHANNELS:
      return "in_channels";
    case CONV1D_PARAM_ACTIVATION:
      return "activation";
    case CONV1D_PARAM_KERNEL_INITIALIZER:
      return "kernel_initializer";
    case CONV1D_PARAM_BIAS_INITIALIZER:
      return "bias_initializer";
    case CONV1D_PARAM_SEED:
      return "seed";
    case CONV1D_PARAM_ALGORITHM:
      return "algorithm";
    case CONV1D_PARAM_VERBOSE:
      return "verbose";
    case CONV1D_PARAM_NUM_THREADS:
      return "num_threads";
    case CONV1D_PARAM_MAX_ISA:
      return "max_isa";
    case CONV1D_PARAM_FIND:
      return "find";
    case CONV1D_PARAM_NAME:
      return "name";
    case CONV1D_PARAM_KERNEL_REGULARIZER:
      return "kernel_regularizer";
    case CONV1D_PARAM_BIAS_REGULARIZER:
      return "bias_regularizer";
    case CONV1D_PARAM_ACTIVITY_REGULARIZER:
      return "activity_regularizer";
    case CONV1D_PARAM_KERNEL_CONSTRAINT:
      return "kernel_constraint";
    case CONV1D_PARAM_BIAS_CONSTRAINT:
      return "bias_constraint";
    case CONV1D_PARAM_LORA_RANK:
      return "lora_rank";
    case CONV1D_PARAM_LORA_ALPHA:
      return "lora_alpha";
    case CONV1D_PARAM_TRAINABLE:
      return "trainable";
    case CONV1D_PARAM_DTYPE:
      return "dtype";
    case CONV1D_PARAM_VARIABLE_DTYPE:
      return "variable_dtype";
    default:
      break;
  }
  return nullptr;
}

// The weight-shaping part of a problem (no batch, lengths or pads): what
// packing needs, and what every forward problem starts from.
ConvProblem shape_of(const LayerConfig& cfg, int64_t in_channels) {
  ConvProblem p;
  p.in_channels = in_channels;
  p.filters = cfg.filters;
  p.kernel = cfg.kernel_size;
  p.stride = cfg.strides;
  p.dilation = cfg.dilation_rate;
  p.groups = cfg.groups;
  p.channels_first = cfg.data_format == CONV1D_CHANNELS_FIRST;
  return p;
}

[[noreturn]] void unknown_param(conv1d_param p) {
  fail(CONV1D_ERROR_UNKNOWN_PARAMETER, "unknown parameter id " + str(static_cast<int64_t>(p)));
}

[[noreturn]] void wrong_type(conv1d_param p, const char* type) {
  fail(CONV1D_ERROR_WRONG_TYPE, std::string("parameter '") + param_name(p) + "' is not " + type);
}

}  // namespace

Layer::Layer(int64_t filters, int64_t kernel_size) {
  check_dim("kernel_size", kernel_size);
  check_filters(filters);
  cfg_ = default_config(filters, kernel_size);
}

void Layer::require_built() const {
  if (!built_) {
    fail(CONV1D_ERROR_NOT_BUILT,
         "layer '" + cfg_.name + "' has no weights yet: call conv1d_build or conv1d_set_weights first");
  }
}

void Layer::require_unbuilt(const char* what) const {
  if (built_) {
    fail(CONV1D_ERROR_INVALID_STATE, std::string("cannot change ") + what + " of layer '" + cfg_.name +
                                         "' after it is built: it shapes the weights");
  }
}

void Layer::commit(const LayerConfig& next) {
  next.validate();
  // lora_alpha or max_isa may have changed what the kernels compute with.
  Derived d = built_ ? derive(next, weights()) : Derived{};
  cfg_ = next;
  packed_ = std::move(d.packing);
  native_bf16_ = std::move(d.native_bf16);
  effective_.swap(d.kernel);
  effective_bias_.swap(d.bias);
  std::lock_guard<std::mutex> lock(plan_mutex_);
  plans_.clear();
  backward_plans_.clear();
  bwd_packed_.reset();
}

Layer::Packing Layer::pack(const LayerConfig& cfg, int64_t in_channels, const std::vector<float>& kernel,
                           const std::vector<float>& bias) {
  Packing out;
  const ConvProblem p = shape_of(cfg, in_channels);
  const conv1d_isa isa = std::min(cfg.max_isa, detected_isa());
  PackKind kind;
  if (isa >= CONV1D_ISA_AVX2 && simd_pack_kind(p, &kind)) {
    out.weights = pack_for(p, isa, kernel.data(), bias.empty() ? nullptr : bias.data());
    out.isa = isa;
    out.valid = true;
  }
  return out;
}

Layer::Weights Layer::weights() const {
  return Weights{in_channels_, kernel_, bias_, lora_a_, lora_b_, kernel64_, bias64_};
}

void Layer::conform(const LayerConfig& cfg, Weights& w) {
  switch (cfg.dtype) {
    case DTypePolicy::kFloat64: {
      auto masters = [](std::vector<double>& m, std::vector<float>& f) {
        if (m.empty()) {
          m.assign(f.begin(), f.end());
        } else {
          f.resize(m.size());
          for (size_t i = 0; i < m.size(); ++i) f[i] = static_cast<float>(m[i]);
        }
      };
      masters(w.kernel64, w.kernel);
      masters(w.bias64, w.bias);
      return;
    }
    case DTypePolicy::kBFloat16: {
      // bf16 variables: setting rounds, as assigning to a bf16 Keras variable
      // casts; float64 data (from a file) rounds once, straight from double.
      auto round = [](std::vector<double>& d, std::vector<float>& f) {
        if (d.empty()) return round_to_bf16(f.data(), f.data(), f.size());
        f.resize(d.size());
        to_bf16_floats(CONV1D_DTYPE_FLOAT64, d.data(), f.data(), d.size());
      };
      round(w.kernel64, w.kernel);
      round(w.bias64, w.bias);
      break;
    }
    default:
      break;
  }
  w.kernel64.clear();
  w.bias64.clear();
}

Layer::Derived Layer::derive(const LayerConfig& cfg, const Weights& w) {
  Derived d;
  d.kernel = merged_kernel(cfg, w);
  if (cfg.dtype == DTypePolicy::kMixedBFloat16) {
    // float32 variables, cast to bf16 for the computation as Keras does.
    d.kernel.resize(w.kernel.size());
    round_to_bf16(w.kernel.data(), d.kernel.data(), w.kernel.size());
    d.bias.resize(w.bias.size());
    round_to_bf16(w.bias.data(), d.bias.data(), w.bias.size());
  }
  if (cfg.dtype == DTypePolicy::kFloat64) return d;  // the float64 kernels take the variables unpacked
  const std::vector<float>& kernel = d.kernel.empty() ? w.kernel : d.kernel;
  const std::vector<float>& bias = d.bias.empty() ? w.bias : d.bias;
  d.packing = pack(cfg, w.in_channels, kernel, bias);
  if (compute_dtype(cfg.dtype) == CONV1D_DTYPE_BFLOAT16) {
    const conv1d_isa isa = std::min(cfg.max_isa, detected_isa());
    const NativeBf16Kernels* native = native_bf16_kernels(isa);
    if (native && native->supports(shape_of(cfg, w.in_channels))) {
      d.native_bf16.weights =
          native->pack(shape_of(cfg, w.in_channels), kernel.data(), bias.empty() ? nullptr : bias.data());
      d.native_bf16.isa = native->isa;
      d.native_bf16.valid = true;
    }
  }
  return d;
}

void Layer::require_float32(const char* what) const {
  if (cfg_.dtype != DTypePolicy::kFloat32) {
    fail(CONV1D_ERROR_UNSUPPORTED, std::string(what) + " is only supported with the float32 dtype policy; layer '" +
                                       cfg_.name + "' has dtype policy '" + policy_name(cfg_.dtype) + "'");
  }
}

std::vector<float> Layer::merged_kernel(const LayerConfig& cfg, const Weights& w) {
  if (w.lora_a.empty()) return {};
  const int64_t r = cfg.lora_rank, F = cfg.filters;
  const int64_t rows = static_cast<int64_t>(w.kernel.size()) / F;
  const double scale = cfg.lora_scale();
  std::vector<float> out(w.kernel.size());
  std::vector<double> acc(static_cast<size_t>(F));
  for (int64_t i = 0; i < rows; ++i) {
    std::fill(acc.begin(), acc.end(), 0.0);
    for (int64_t q = 0; q < r; ++q) {
      const double a = w.lora_a[i * r + q];
      const float* b = w.lora_b.data() + q * F;
      for (int64_t f = 0; f < F; ++f) acc[f] += a * b[f];
    }
    for (int64_t f = 0; f < F; ++f) out[i * F + f] = static_cast<float>(w.kernel[i * F + f] + scale * acc[f]);
  }
  return out;
}

void Layer::install(Weights w) { install(std::move(w), cfg_); }

void Layer::install(Weights w, LayerConfig cfg) {
  conform(cfg, w);
  Derived d = derive(cfg, w);
  cfg_ = std::move(cfg);
  kernel_.swap(w.kernel);
  bias_.swap(w.bias);
  lora_a_.swap(w.lora_a);
  lora_b_.swap(w.lora_b);
  kernel64_.swap(w.kernel64);
  bias64_.swap(w.bias64);
  effective_.swap(d.kernel);
  effective_bias_.swap(d.bias);
  packed_ = std::move(d.packing);
  native_bf16_ = std::move(d.native_bf16);
  in_channels_ = w.in_channels;
  built_ = true;
  std::lock_guard<std::mutex> lock(plan_mutex_);
  plans_.clear();
  backward_plans_.clear();
  bwd_packed_.reset();
}

void Layer::install(int64_t in_channels, std::vector<float> kernel, std::vector<float> bias) {
  Weights w = weights();
  w.in_channels = in_channels;
  w.kernel.swap(kernel);
  w.bias.swap(bias);
  w.kernel64.clear();  // float64 masters come from the new float32 values
  w.bias64.clear();
  install(std::move(w));
}

void Layer::set_int(conv1d_param p, int64_t v) {
  LayerConfig next = cfg_;
  switch (p) {
    case CONV1D_PARAM_FILTERS:
      check_filters(v);
      require_unbuilt("filters");
      next.filters = v;
      break;
    case CONV1D_PARAM_KERNEL_SIZE:
      check_dim("kernel_size", v);
      require_unbuilt("kernel_size");
      next.kernel_size = v;
      break;
    case CONV1D_PARAM_STRIDES:
      check_dim("strides", v);
      next.strides = v;
      break;
    case CONV1D_PARAM_DILATION_RATE:
      check_dim("dilation_rate", v);
      next.dilation_rate = v;
      break;
    case CONV1D_PARAM_GROUPS:
      check_groups(v);
      require_unbuilt("groups");
      next.groups = v;
      break;
    case CONV1D_PARAM_PADDING:
      if (!padding_name(static_cast<conv1d_padding>(v)) || v < 0 || v > CONV1D_PADDING_CAUSAL)
        fail(CONV1D_ERROR_INVALID_VALUE, "padding must be a conv1d_padding value (0..2); received " + str(v));
      next.padding = static_cast<conv1d_padding>(v);
      break;
    case CONV1D_PARAM_DATA_FORMAT:
      if (v != CONV1D_CHANNELS_LAST && v != CONV1D_CHANNELS_FIRST)
        fail(CONV1D_ERROR_INVALID_VALUE, "data_format must be a conv1d_data_format value (0..1); received " + str(v));
      next.data_format = static_cast<conv1d_data_format>(v);
      break;
    case CONV1D_PARAM_USE_BIAS:
      check_flag("use_bias", v);
      require_unbuilt("use_bias");
      next.use_bias = v != 0;
      break;
    case CONV1D_PARAM_IN_CHANNELS:
      fail(CONV1D_ERROR_INVALID_STATE, "in_channels is read-only: it is set by conv1d_build or conv1d_set_weights");
    case CONV1D_PARAM_ACTIVATION:
      if (v < 0 || v > CONV1D_ACTIVATION_SPARSEMAX)
        fail(CONV1D_ERROR_INVALID_VALUE, "activation must be a conv1d_activation value (0..29); received " + str(v));
      check_activation(static_cast<conv1d_activation>(v));
      next.activation = static_cast<conv1d_activation>(v);
      break;
    case CONV1D_PARAM_SEED:
      if (v < -1) fail(CONV1D_ERROR_INVALID_VALUE, "seed must be >= 0, or -1 for a random seed; received " + str(v));
      next.seed = v;
      break;
    case CONV1D_PARAM_ALGORITHM:
      if (v < CONV1D_ALGORITHM_AUTO || v > CONV1D_ALGORITHM_GEMM)
        fail(CONV1D_ERROR_INVALID_VALUE, "algorithm must be a conv1d_algorithm value (0..3); received " + str(v));
      next.algorithm = static_cast<conv1d_algorithm>(v);
      break;
    case CONV1D_PARAM_VERBOSE:
      check_flag("verbose", v);
      next.verbose = v != 0;
      break;
    case CONV1D_PARAM_NUM_THREADS:
      if (v < 0 || v > 4096)
        fail(CONV1D_ERROR_INVALID_VALUE, "num_threads must be 0 (all cores) to 4096; received " + str(v));
      next.num_threads = v;
      break;
    case CONV1D_PARAM_MAX_ISA:
      if (v < CONV1D_ISA_SCALAR || v > CONV1D_ISA_AVX512)
        fail(CONV1D_ERROR_INVALID_VALUE, "max_isa must be a conv1d_isa value (0..2); received " + str(v));
      next.max_isa = static_cast<conv1d_isa>(v);
      break;
    case CONV1D_PARAM_FIND:
      check_flag("find", v);
      next.find = v != 0;
      break;
    case CONV1D_PARAM_TRAINABLE:
      check_flag("trainable", v);
      next.trainable = v != 0;
      break;
    case CONV1D_PARAM_DTYPE:
      if (v < INT32_MIN || v > INT32_MAX || !dtype_name(static_cast<conv1d_dtype>(v)))
        fail(CONV1D_ERROR_INVALID_VALUE, "dtype must be a conv1d_dtype value (0..2); received " + str(v));
      next.dtype = policy_of(static_cast<conv1d_dtype>(v));
      if (next.dtype != cfg_.dtype) require_unbuilt("the dtype policy");
      break;
    case CONV1D_PARAM_VARIABLE_DTYPE:
      fail(CONV1D_ERROR_INVALID_STATE, "variable_dtype is read-only: it follows the dtype policy (CONV1D_PARAM_DTYPE)");
    case CONV1D_PARAM_LORA_ALPHA:
      return set_double(p, static_cast<double>(v));
    case CONV1D_PARAM_LORA_RANK: {
      if (v < 0 || v > kMaxDim)
        fail(CONV1D_ERROR_INVALID_VALUE, "lora_rank must be 0 (off) or a positive rank; received " + str(v));
      if (!built_) {
        next.lora_rank = v;
        break;
      }
      if (v == 0 && lora_a_.empty()) break;
      if (v == 0)
        fail(CONV1D_ERROR_INVALID_STATE,
             "lora_rank cannot be set to 0 on layer '" + cfg_.name +
                 "' while LoRA is enabled: Keras has no way to turn LoRA off; conv1d_lora_merge folds the "
                 "update into the kernel and turns it off");
      Weights w = weights();
      enable_lora(next, w, v);  // Keras' enable_lora on a built layer
      next.validate();
      return install(std::move(w), std::move(next));
    }
    case CONV1D_PARAM_KERNEL_INITIALIZER:
    case CONV1D_PARAM_BIAS_INITIALIZER:
    case CONV1D_PARAM_NAME:
    case CONV1D_PARAM_KERNEL_REGULARIZER:
    case CONV1D_PARAM_BIAS_REGULARIZER:
    case CONV1D_PARAM_ACTIVITY_REGULARIZER:
    case CONV1D_PARAM_KERNEL_CONSTRAINT:
    case CONV1D_PARAM_BIAS_CONSTRAINT:
      wrong_type(p, "an integer; use conv1d_set_string");
    default:
      unknown_param(p);
  }
  commit(next);
}

void Layer::set_double(conv1d_param p, double v) {
  if (p == CONV1D_PARAM_LORA_ALPHA) {
    if (!std::isfinite(v)) fail(CONV1D_ERROR_INVALID_VALUE, "lora_alpha must be finite; received " + std::to_string(v));
    LayerConfig next = cfg_;
    next.lora_alpha = v;
    next.has_lora_alpha = true;
    return commit(next);
  }
  if (!param_name(p)) unknown_param(p);
  wrong_type(p, "a floating-point parameter");
}

void Layer::set_string(conv1d_param p, const std::string& v) {
  LayerConfig next = cfg_;
  switch (p) {
    case CONV1D_PARAM_PADDING:
      next.padding = parse_padding(v);
      break;
    case CONV1D_PARAM_DATA_FORMAT:
      next.data_format = parse_data_format(v);
      break;
    case CONV1D_PARAM_ACTIVATION:
      next.activation = parse_activation(v);
      break;
    // Keras gotcha (spec section 3): an initializer of None makes add_weight
    // fall back to glorot_uniform, for the bias too.
    case CONV1D_PARAM_KERNEL_INITIALIZER:
      next.kernel_initializer = Initializer::parse(v == "null" ? "glorot_uniform" : v);
      break;
    case CONV1D_PARAM_BIAS_INITIALIZER:
      next.bias_initializer = Initializer::parse(v == "null" ? "glorot_uniform" : v);
      break;
    case CONV1D_PARAM_ALGORITHM:
      next.algorithm = parse_algorithm(v);
      break;
    case CONV1D_PARAM_MAX_ISA:
      next.max_isa = parse_isa(v.c_str());
      break;
    case CONV1D_PARAM_KERNEL_REGULARIZER:
      next.kernel_regularizer = Regularizer::parse(v);
      break;
    case CONV1D_PARAM_BIAS_REGULARIZER:
      next.bias_regularizer = Regularizer::parse(v);
      break;
    case CONV1D_PARAM_ACTIVITY_REGULARIZER:
      next.activity_regularizer = Regularizer::parse(v);
      break;
    case CONV1D_PARAM_KERNEL_CONSTRAINT:
      next.kernel_constraint = Constraint::parse(v);
      if (next.kernel_constraint.active() && !lora_a_.empty())
        fail(CONV1D_ERROR_INVALID_STATE, "Lora is incompatible with kernel constraints: layer '" + cfg_.name +
                                             "' has LoRA enabled, so it cannot take a kernel_constraint");
      break;
    case CONV1D_PARAM_BIAS_CONSTRAINT:
      next.bias_constraint = Constraint::parse(v);
      break;
    case CONV1D_PARAM_NAME:
      if (v.empty()) fail(CONV1D_ERROR_INVALID_VALUE, "name must not be empty");
      // Keras' Operation refuses '/' in names: it separates variable paths.
      if (v.find('/') != std::string::npos)
        fail(CONV1D_ERROR_INVALID_VALUE,
             "Argument `name` must be a string and cannot contain character `/`. "
             "Received: name=" +
                 v);
      next.name = v;
      break;
    case CONV1D_PARAM_DTYPE:
      next.dtype = parse_policy(v);
      if (next.dtype != cfg_.dtype) require_unbuilt("the dtype policy");
      break;
    case CONV1D_PARAM_VARIABLE_DTYPE:
      fail(CONV1D_ERROR_INVALID_STATE, "variable_dtype is read-only: it follows the dtype policy (CONV1D_PARAM_DTYPE)");
    default:
      if (!param_name(p)) unknown_param(p);
      wrong_type(p, "a string; use conv1d_set_int");
  }
  commit(next);
}

int64_t Layer::get_int(conv1d_param p) const {
  switch (p) {
    case CONV1D_PARAM_FILTERS:
      return cfg_.filters;
    case CONV1D_PARAM_KERNEL_SIZE:
      return cfg_.kernel_size;
    case CONV1D_PARAM_STRIDES:
      return cfg_.strides;
    case CONV1D_PARAM_DILATION_RATE:
      return cfg_.dilation_rate;
    case CONV1D_PARAM_GROUPS:
      return cfg_.groups;
    case CONV1D_PARAM_PADDING:
      return cfg_.padding;
    case CONV1D_PARAM_DATA_FORMAT:
      return cfg_.data_format;
    case CONV1D_PARAM_USE_BIAS:
      return cfg_.use_bias ? 1 : 0;
    case CONV1D_PARAM_IN_CHANNELS:
      return in_channels_;
    case CONV1D_PARAM_ACTIVATION:
      return cfg_.activation;
    case CONV1D_PARAM_SEED:
      return cfg_.seed;
    case CONV1D_PARAM_ALGORITHM:
      return cfg_.algorithm;
    case CONV1D_PARAM_VERBOSE:
      return cfg_.verbose ? 1 : 0;
    case CONV1D_PARAM_NUM_THREADS:
      return cfg_.num_threads;
    case CONV1D_PARAM_MAX_ISA:
      return cfg_.max_isa;
    case CONV1D_PARAM_FIND:
      return cfg_.find ? 1 : 0;
    case CONV1D_PARAM_LORA_RANK:
      return cfg_.lora_rank;
    case CONV1D_PARAM_TRAINABLE:
      return cfg_.trainable ? 1 : 0;
    case CONV1D_PARAM_DTYPE:
      return compute_dtype(cfg_.dtype);
    case CONV1D_PARAM_VARIABLE_DTYPE:
      return variable_dtype(cfg_.dtype);
    case CONV1D_PARAM_LORA_ALPHA:
      wrong_type(p, "an integer; use conv1d_get_double");
    case CONV1D_PARAM_KERNEL_INITIALIZER:
    case CONV1D_PARAM_BIAS_INITIALIZER:
    case CONV1D_PARAM_NAME:
    case CONV1D_PARAM_KERNEL_REGULARIZER:
    case CONV1D_PARAM_BIAS_REGULARIZER:
    case CONV1D_PARAM_ACTIVITY_REGULARIZER:
    case CONV1D_PARAM_KERNEL_CONSTRAINT:
    case CONV1D_PARAM_BIAS_CONSTRAINT:
      wrong_type(p, "an integer; use conv1d_get_string");
    default:
      unknown_param(p);
  }
}

double Layer::get_double(conv1d_param p) const {
  if (p == CONV1D_PARAM_LORA_ALPHA) return cfg_.has_lora_alpha ? cfg_.lora_alpha : static_cast<double>(cfg_.lora_rank);
  if (!param_name(p)) unknown_param(p);
  wrong_type(p, "a floating-point parameter");
}

std::string Layer::get_string(conv1d_param p) const {
  switch (p) {
    case CONV1D_PARAM_PADDING:
      return padding_name(cfg_.padding);
    case CONV1D_PARAM_DATA_FORMAT:
      return data_format_name(cfg_.data_format);
    case CONV1D_PARAM_ACTIVATION:
      return activation_name(cfg_.activation);
    case CONV1D_PARAM_KERNEL_INITIALIZER:
      return cfg_.kernel_initializer.to_json();
    case CONV1D_PARAM_BIAS_INITIALIZER:
      return cfg_.bias_initializer.to_json();
    case CONV1D_PARAM_ALGORITHM:
      return algorithm_name(cfg_.algorithm);
    case CONV1D_PARAM_MAX_ISA:
      return isa_name(cfg_.max_isa);
    case CONV1D_PARAM_NAME:
      return cfg_.name;
    case CONV1D_PARAM_KERNEL_REGULARIZER:
      return cfg_.kernel_regularizer.to_json();
    case CONV1D_PARAM_BIAS_REGULARIZER:
      return cfg_.bias_regularizer.to_json();
    case CONV1D_PARAM_ACTIVITY_REGULARIZER:
      return cfg_.activity_regularizer.to_json();
    case CONV1D_PARAM_KERNEL_CONSTRAINT:
      return cfg_.kernel_constraint.to_json();
    case CONV1D_PARAM_BIAS_CONSTRAINT:
      return cfg_.bias_constraint.to_json();
    case CONV1D_PARAM_DTYPE:
      return policy_name(cfg_.dtype);
    case CONV1D_PARAM_VARIABLE_DTYPE:
      return dtype_name(variable_dtype(cfg_.dtype));
    default:
      if (!param_name(p)) unknown_param(p);
      wrong_type(p, "a string; use conv1d_get_int");
  }
}

void Layer::bounds(conv1d_param p, int64_t* lo, int64_t* hi) {
  switch (p) {
    case CONV1D_PARAM_FILTERS:
    case CONV1D_PARAM_KERNEL_SIZE:
    case CONV1D_PARAM_STRIDES:
    case CONV1D_PARAM_DILATION_RATE:
    case CONV1D_PARAM_GROUPS:
      *lo = 1, *hi = kMaxDim;
      return;
    case CONV1D_PARAM_IN_CHANNELS:
      *lo = 0, *hi = kMaxDim;
      return;
    case CONV1D_PARAM_PADDING:
      *lo = CONV1D_PADDING_VALID, *hi = CONV1D_PADDING_CAUSAL;
      return;
    case CONV1D_PARAM_DATA_FORMAT:
      *lo = CONV1D_CHANNELS_LAST, *hi = CONV1D_CHANNELS_FIRST;
      return;
    case CONV1D_PARAM_USE_BIAS:
    case CONV1D_PARAM_VERBOSE:
    case CONV1D_PARAM_FIND:
    case CONV1D_PARAM_TRAINABLE:
      *lo = 0, *hi = 1;
      return;
    case CONV1D_PARAM_LORA_RANK:
      *lo = 0, *hi = kMaxDim;
      return;
    case CONV1D_PARAM_NUM_THREADS:
      *lo = 0, *hi = 4096;
      return;
    case CONV1D_PARAM_MAX_ISA:
      *lo = CONV1D_ISA_SCALAR, *hi = CONV1D_ISA_AVX512;
      return;
    case CONV1D_PARAM_ACTIVATION:
      *lo = CONV1D_ACTIVATION_LINEAR, *hi = CONV1D_ACTIVATION_SPARSEMAX;
      return;
    case CONV1D_PARAM_SEED:
      *lo = -1, *hi = INT64_MAX;
      return;
    case CONV1D_PARAM_ALGORITHM:
      *lo = CONV1D_ALGORITHM_AUTO, *hi = CONV1D_ALGORITHM_GEMM;
      return;
    case CONV1D_PARAM_DTYPE:
    case CONV1D_PARAM_VARIABLE_DTYPE:
      *lo = CONV1D_DTYPE_FLOAT32, *hi = CONV1D_DTYPE_BFLOAT16;
      return;
    case CONV1D_PARAM_KERNEL_INITIALIZER:
    case CONV1D_PARAM_BIAS_INITIALIZER:
    case CONV1D_PARAM_NAME:
    case CONV1D_PARAM_KERNEL_REGULARIZER:
    case CONV1D_PARAM_BIAS_REGULARIZER:
    case CONV1D_PARAM_ACTIVITY_REGULARIZER:
    case CONV1D_PARAM_KERNEL_CONSTRAINT:
    case CONV1D_PARAM_BIAS_CONSTRAINT:
    case CONV1D_PARAM_LORA_ALPHA:
      wrong_type(p, "an integer parameter");
    default:
      unknown_param(p);
  }
}

void Layer::build(int64_t in_channels) {
  LayerConfig next = cfg_;
  Weights w = initial_weights(in_channels, next);
  install(std::move(w), std::move(next));
}

Layer::Weights Layer::initial_weights(int64_t in_channels, LayerConfig& next) const {
  if (in_channels <= 0) {
    fail(CONV1D_ERROR_INVALID_SIZE, "in_channels must be positive; received in_channels=" + str(in_channels));
  }
  if (in_channels > kMaxDim) fail(CONV1D_ERROR_SIZE_OVERFLOW, "in_channels=" + str(in_channels) + " exceeds 2^31-1");
  if (in_channels % cfg_.groups != 0) {
    fail(CONV1D_ERROR_GROUPS_MISMATCH,
         "The number of input channels must be evenly divisible by the number of groups. Received groups=" +
             str(cfg_.groups) + ", but the input has " + str(in_channels) + " channels.");
  }
  const int64_t cg = in_channels / cfg_.groups;
  const int64_t count = checked_mul(checked_mul(cfg_.kernel_size, cg, "kernel size"), cfg_.filters, "kernel size");
  std::vector<float> kernel, bias;
  try {
    kernel.resize(static_cast<size_t>(count));
    bias.resize(cfg_.use_bias ? cfg_.filters : 0);
  } catch (const std::bad_alloc&) {
    fail(CONV1D_ERROR_OUT_OF_MEMORY, "cannot allocate " + std::to_string(count * sizeof(float)) +
                                         " bytes for the kernel (" + str(cfg_.kernel_size) + ", " + str(cg) + ", " +
                                         str(cfg_.filters) + ")");
  }
  uint64_t seed = cfg_.seed >= 0 ? static_cast<uint64_t>(cfg_.seed)
                                 : (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
  Weights w{in_channels, {}, {}, {}, {}, {}, {}};
  if (cfg_.dtype == DTypePolicy::kFloat64) {
    // float64 variables get the initializer's draws unrounded (conform makes the float32 view).
    std::vector<double> k64(kernel.size()), b64(bias.size());
    cfg_.kernel_initializer.fill(k64.data(), {cfg_.kernel_size, cg, cfg_.filters}, seed);
    if (cfg_.use_bias) cfg_.bias_initializer.fill(b64.data(), {cfg_.filters}, seed + 1);
    w.kernel64.swap(k64);
    w.bias64.swap(b64);
  } else {
    cfg_.kernel_initializer.fill(kernel.data(), {cfg_.kernel_size, cg, cfg_.filters}, seed);
    // The bias gets its own stream so that kernel and bias are not correlated.
    if (cfg_.use_bias) cfg_.bias_initializer.fill(bias.data(), {cfg_.filters}, seed + 1);
  }
  w.kernel.swap(kernel);
  w.bias.swap(bias);
  // Rebuilding starts from fresh weights; lora_rank set before build enables LoRA now, as Keras' build() does.
  if (cfg_.lora_rank > 0) enable_lora(next, w, cfg_.lora_rank);
  return w;
}

void Layer::set_weights(const float* kernel, size_t kernel_len, const float* bias, size_t bias_len) {
  set_weights(CONV1D_DTYPE_FLOAT32, kernel, kernel_len, bias, bias_len);
}

void Layer::set_weights(conv1d_dtype dtype_in, const void* kernel, size_t kernel_len, const void* bias,
                        size_t bias_len) {
  const conv1d_dtype dtype = checked_dtype(dtype_in, "dtype");
  if (!kernel) fail(CONV1D_ERROR_NULL_POINTER, "kernel is NULL");
  const uint64_t per_channel = static_cast<uint64_t>(cfg_.kernel_size) * static_cast<uint64_t>(cfg_.filters);
  int64_t cin = in_channels_;
  if (built_) {
    if (kernel_len != kernel_.size()) {
      fail(CONV1D_ERROR_LENGTH_MISMATCH,
           "kernel_len=" + std::to_string(kernel_len) + " but layer '" + cfg_.name + "' needs exactly " +
               std::to_string(kernel_.size()) + " floats (kernel_size, in_channels/groups, filters) = (" +
               str(cfg_.kernel_size) + ", " + str(in_channels_ / cfg_.groups) + ", " + str(cfg_.filters) + ")");
    }
  } else {
    if (kernel_len == 0 || kernel_len % per_channel != 0) {
      fail(CONV1D_ERROR_LENGTH_MISMATCH, "kernel_len=" + std::to_string(kernel_len) +
                                             " is not a positive multiple of kernel_size*filters=" +
                                             std::to_string(per_channel) + ", so it fits no (k, C/G, F) kernel");
    }
    const uint64_t cg = kernel_len / per_channel;
    if (cg > static_cast<uint64_t>(kMaxDim) / static_cast<uint64_t>(cfg_.groups))
      fail(CONV1D_ERROR_SIZE_OVERFLOW, "kernel_len=" + std::to_string(kernel_len) + " implies too many channels");
    cin = static_cast<int64_t>(cg) * cfg_.groups;
  }
  const size_t want_bias = cfg_.use_bias ? static_cast<size_t>(cfg_.filters) : 0;
  if (bias_len != want_bias) {
    fail(cfg_.use_bias ? CONV1D_ERROR_LENGTH_MISMATCH : CONV1D_ERROR_INVALID_VALUE,
         "bias_len=" + std::to_string(bias_len) + " but layer '" + cfg_.name + "' " +
             (cfg_.use_bias ? "needs exactly filters=" + str(cfg_.filters) + " bias values"
                            : std::string("has use_bias=0, so bias_len must be 0")));
  }
  if (want_bias && !bias) fail(CONV1D_ERROR_NULL_POINTER, "bias is NULL but use_bias is on");
  Weights w = built_ ? weights() : Weights{};
  w.in_channels = cin;
  // Into the variable dtype's storage: float64 masters directly (exact from
  // any dtype), otherwise float32 (conform rounds to bf16 for bf16 variables).
  // A bf16 source rounds nothing.
  auto load = [&](const void* src, size_t n, std::vector<float>& f, std::vector<double>& d) {
    f.assign(n, 0.0f);
    d.clear();
    if (cfg_.dtype == DTypePolicy::kFloat64) {
      d.resize(n);
      convert(dtype, src, CONV1D_DTYPE_FLOAT64, d.data(), n);
    } else if (dtype == CONV1D_DTYPE_FLOAT64 && cfg_.dtype == DTypePolicy::kBFloat16) {
      to_bf16_floats(dtype, src, f.data(), n);  // one rounding, straight to bf16
    } else {
      convert(dtype, src, CONV1D_DTYPE_FLOAT32, f.data(), n);
    }
  };
  load(kernel, kernel_len, w.kernel, w.kernel64);
  load(bias, want_bias, w.bias, w.bias64);
  if (!built_ && cfg_.lora_rank > 0) {
    // Setting weights builds the layer, which enables LoRA as build() does.
    LayerConfig next = cfg_;
    enable_lora(next, w, cfg_.lora_rank);
    return install(std::move(w), std::move(next));
  }
  install(std::move(w));
}

void Layer::get_weights(float* kernel, size_t kernel_len, float* bias, size_t bias_len) const {
  get_weights(CONV1D_DTYPE_FLOAT32, kernel, kernel_len, bias, bias_len);
}

void Layer::get_weights(conv1d_dtype dtype_in, void* kernel, size_t kernel_len, void* bias, size_t bias_len) const {
  const conv1d_dtype dtype = checked_dtype(dtype_in, "dtype");
  require_built();
  if (!kernel) fail(CONV1D_ERROR_NULL_POINTER, "kernel is NULL");
  if (kernel_len < kernel_.size()) {
    fail(CONV1D_ERROR_BUFFER_TOO_SMALL, "kernel_len=" + std::to_string(kernel_len) + " is shorter than the " +
                                            std::to_string(kernel_.size()) + " kernel values");
  }
  if (bias && bias_len < bias_.size()) {
    fail(CONV1D_ERROR_BUFFER_TOO_SMALL, "bias_len=" + std::to_string(bias_len) + " is shorter than the " +
                                            std::to_string(bias_.size()) + " bias values");
  }
  if (cfg_.dtype == DTypePolicy::kFloat64) {
    convert(CONV1D_DTYPE_FLOAT64, kernel64_.data(), dtype, kernel, kernel64_.size());
    if (bias) convert(CONV1D_DTYPE_FLOAT64, bias64_.data(), dtype, bias, bias64_.size());
  } else {
    convert(CONV1D_DTYPE_FLOAT32, kernel_.data(), dtype, kernel, kernel_.size());
    if (bias) convert(CONV1D_DTYPE_FLOAT32, bias_.data(), dtype, bias, bias_.size());
  }
}

void Layer::output_shape(int64_t batch, int64_t steps, int64_t shape[3], size_t* count) const {
  if (batch <= 0) fail(CONV1D_ERROR_INVALID_SIZE, "batch must be positive; received batch=" + str(batch));
  const Geometry g = compute_geometry(cfg_, steps);
  const bool first = cfg_.data_format == CONV1D_CHANNELS_FIRST;
  int64_t s[3] = {batch, first ? cfg_.filters : g.out_steps, first ? g.out_steps : cfg_.filters};
  if (cfg_.activation == CONV1D_ACTIVATION_GLU) {
    if (s[2] % 2 != 0) {
      fail(CONV1D_ERROR_INVALID_VALUE, std::string("glu splits the last axis in halves, but it has odd size ") +
                                           str(s[2]) + " (" + (first ? "output steps" : "filters") + ")");
    }
    s[2] /= 2;
  }
  const int64_t n = checked_mul(checked_mul(s[0], s[1], "output size"), s[2], "output size");
  std::copy(s, s + 3, shape);
  if (count) *count = static_cast<size_t>(n);
}

ConvProblem Layer::problem_for(int64_t batch, int64_t steps, const Geometry& g) const {
  ConvProblem p = shape_of(cfg_, in_channels_);
  p.batch = batch;
  p.in_steps = steps;
  p.out_steps = g.out_steps;
  p.pad_left = g.pad_left;
  return p;
}

ExecConfig Layer::exec_config() const {
  ExecConfig e;
  e.algorithm = cfg_.algorithm;
  e.max_isa = std::min(cfg_.max_isa, detected_isa());
  e.threads = cfg_.num_threads > 0 ? static_cast<int>(cfg_.num_threads) : available_cores();
  e.dtype = compute_dtype(cfg_.dtype);
  if (native_bf16_.valid) e.native_bf16 = native_bf16_kernels(e.max_isa);
  return e;
}

std::string Layer::plan_line(const ConvProblem& p, const Plan& plan) const {
  return "conv1d: layer '" + cfg_.name + "' batch=" + str(p.batch) + " steps=" + str(p.in_steps) +
         " channels=" + str(p.in_channels) + " filters=" + str(p.filters) + " -> " + algorithm_name(plan.algorithm) +
         " [" + plan.kernel + ", " + str(plan.threads) + (plan.threads == 1 ? " thread" : " threads") + "] (" +
         plan.reason + ")";
}

std::shared_ptr<const Plan> Layer::plan_for(const ConvProblem& p) const {
  const auto key = std::make_pair(p.batch, p.in_steps);
  std::lock_guard<std::mutex> lock(plan_mutex_);
  auto it = plans_.find(key);
  if (it != plans_.end()) return it->second.plan;
  auto plan = std::make_shared<const Plan>(
      make_plan(p, exec_config(), packed_.valid ? &packed_.weights : nullptr, packed_.isa));
  if (cfg_.verbose) std::fprintf(stderr, "%s\n", plan_line(p, *plan).c_str());
  // Variable-length inputs would grow the cache without bound; plans are cheap to redo.
  if (plans_.size() >= 256) plans_.clear();
  plans_.emplace(key, CachedPlan{plan, false});
  return plan;
}

std::shared_ptr<const BackwardPlan> Layer::backward_plan_for(const ConvProblem& p) const {
  const auto key = std::make_pair(p.batch, p.in_steps);
  std::lock_guard<std::mutex> lock(plan_mutex_);
  auto it = backward_plans_.find(key);
  if (it != backward_plans_.end()) return it->second;
  auto plan = std::make_shared<const BackwardPlan>(make_backward_plan(p, exec_config()));
  if (cfg_.verbose) {
    std::fprintf(stderr, "%s (backward data)\n", plan_line(p, plan->data).c_str());
    std::fprintf(stderr, "%s (backward weights)\n", plan_line(p, plan->weights).c_str());
  }
  if (backward_plans_.size() >= 256) backward_plans_.clear();
  backward_plans_.emplace(key, plan);
  return plan;
}

bool Layer::found_by_find(const ConvProblem& p) const {
  std::lock_guard<std::mutex> lock(plan_mutex_);
  const auto it = plans_.find(std::make_pair(p.batch, p.in_steps));
  return it != plans_.end() && it->second.found;
}

template <class T>
Plan Layer::find_plan(const ConvProblem& p, const T* x, T* y) const {
  const std::vector<Plan> candidates =
      candidate_plans(p, exec_config(), packed_.valid ? &packed_.weights : nullptr, packed_.isa);
  const PackedWeights* packed = packed_.valid ? &packed_.weights : nullptr;
  Plan best;
  double best_time = 0;
  std::string times;
  for (const Plan& c : candidates) {
    // One warm-up run, then the better of two timed ones.
    double t = 0;
    for (int rep = 0; rep < 3; ++rep) {
      const auto t0 = std::chrono::steady_clock::now();
      if constexpr (std::is_same<T, double>::value) {
        execute(c, p, x, kernel64_.data(), cfg_.use_bias ? bias64_.data() : nullptr, y);
      } else {
        execute(c, p, x, compute_kernel(), compute_bias(), packed, CONV1D_ACTIVATION_LINEAR, y);
      }
      const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (rep == 1 || (rep == 2 && dt < t)) t = dt;
    }
    times += std::string(times.empty() ? "" : ", ") + c.kernel + " " + std::to_string(t * 1e6) + " us";
    if (best.kernel.empty() || t < best_time) best = c, best_time = t;
  }
  best.reason = "find: timed " + times;
  std::lock_guard<std::mutex> lock(plan_mutex_);
  if (plans_.size() >= 256) plans_.clear();
  plans_[std::make_pair(p.batch, p.in_steps)] = CachedPlan{std::make_shared<const Plan>(best), true};
  if (cfg_.verbose) std::fprintf(stderr, "%s\n", plan_line(p, best).c_str());
  return best;
}

conv1d_algorithm Layer::algorithm_for(int64_t batch, int64_t steps) const {
  require_built();
  if (batch <= 0) fail(CONV1D_ERROR_INVALID_SIZE, "batch must be positive; received batch=" + str(batch));
  const Geometry g = compute_geometry(cfg_, steps);
  return plan_for(problem_for(batch, steps, g))->algorithm;
}

std::string Layer::describe_plan(int64_t batch, int64_t steps) const {
  require_built();
  if (batch <= 0) fail(CONV1D_ERROR_INVALID_SIZE, "batch must be positive; received batch=" + str(batch));
  const ConvProblem p = problem_for(batch, steps, compute_geometry(cfg_, steps));
  return plan_line(p, *plan_for(p));
}

size_t Layer::check_output(const char* name, size_t len, int64_t batch, int64_t steps, int64_t shape[3]) const {
  size_t count = 0;
  output_shape(batch, steps, shape, &count);
  if (len < count) {
    fail(CONV1D_ERROR_BUFFER_TOO_SMALL, std::string(name) + "_len=" + std::to_string(len) + " but the output shape (" +
                                            str(shape[0]) + ", " + str(shape[1]) + ", " + str(shape[2]) + ") needs " +
                                            std::to_string(count) + " floats");
  }
  return count;
}

int64_t Layer::check_input(const void* x, size_t x_len, int64_t batch, int64_t steps, int64_t channels) const {
  if (!x) fail(CONV1D_ERROR_NULL_POINTER, "x is NULL");
  if (batch <= 0) fail(CONV1D_ERROR_INVALID_SIZE, "batch must be positive; received batch=" + str(batch));
  if (steps <= 0) fail(CONV1D_ERROR_INVALID_SIZE, "steps must be positive; received steps=" + str(steps));
  if (channels <= 0) fail(CONV1D_ERROR_INVALID_SIZE, "channels must be positive; received channels=" + str(channels));
  if (steps > kMaxDim) fail(CONV1D_ERROR_SIZE_OVERFLOW, "steps=" + str(steps) + " exceeds 2^31-1");
  if (channels > kMaxDim) fail(CONV1D_ERROR_SIZE_OVERFLOW, "channels=" + str(channels) + " exceeds 2^31-1");
  const int64_t x_count = checked_mul(checked_mul(batch, steps, "input size"), channels, "input size");
  require_built();
  const bool first = cfg_.data_format == CONV1D_CHANNELS_FIRST;
  if (channels != in_channels_) {
    fail(CONV1D_ERROR_CHANNELS_MISMATCH,
         "Input 0 of layer \"" + cfg_.name + "\" is incompatible with the layer: expected axis " +
             (first ? "1" : "-1") + " of input shape to have value " + str(in_channels_) +
             ", but received input with shape " +
             (first ? "(" + str(batch) + ", " + str(channels) + ", " + str(steps) + ")"
                    : "(" + str(batch) + ", " + str(steps) + ", " + str(channels) + ")"));
  }
  if (x_len < static_cast<uint64_t>(x_count)) {
    fail(CONV1D_ERROR_BUFFER_TOO_SMALL,
         "x_len=" + std::to_string(x_len) + " but the input shape needs " + str(x_count) + " floats");
  }
  return x_count;
}

void Layer::forward(const float* x, size_t x_len, int64_t batch, int64_t steps, int64_t channels, float* y,
                    size_t y_len) const {
  forward(CONV1D_DTYPE_FLOAT32, x, x_len, batch, steps, channels, CONV1D_DTYPE_FLOAT32, y, y_len);
}

void Layer::forward(conv1d_dtype x_dtype, const void* x, size_t x_len, int64_t batch, int64_t steps, int64_t channels,
                    conv1d_dtype y_dtype, void* y, size_t y_len) const {
  const conv1d_dtype xt = checked_dtype(x_dtype, "x_dtype"), yt = checked_dtype(y_dtype, "y_dtype");
  if (!x) fail(CONV1D_ERROR_NULL_POINTER, "x is NULL");
  if (!y) fail(CONV1D_ERROR_NULL_POINTER, "y is NULL");
  const int64_t x_count = check_input(x, x_len, batch, steps, channels);
  int64_t shape[3];
  const size_t y_count = check_output("y", y_len, batch, steps, shape);
  // The kernels write y while still reading x: the two may not overlap.
  const auto x_begin = reinterpret_cast<uintptr_t>(x), y_begin = reinterpret_cast<uintptr_t>(y);
  if (x_begin < y_begin + y_count * dtype_size(yt) &&
      y_begin < x_begin + static_cast<uint64_t>(x_count) * dtype_size(xt))
    fail(CONV1D_ERROR_INVALID_VALUE, "x and y overlap; the output needs its own buffer");
  const ConvProblem p = problem_for(batch, steps, compute_geometry(cfg_, steps));
  const std::shared_ptr<const Plan> cached = plan_for(p);
  const Plan& plan = *cached;
  const size_t xn = static_cast<size_t>(x_count);
  // Conversions go through per-thread scratch (slots 4 and 5), filled before
  // y is written; the output is cast into y last.
  switch (compute_dtype(cfg_.dtype)) {
    case CONV1D_DTYPE_FLOAT64: {
      const double* xs = static_cast<const double*>(x);
      double* ys = yt == CONV1D_DTYPE_FLOAT64 ? static_cast<double*>(y)
                                              : reinterpret_cast<double*>(thread_scratch(5, 2 * y_count));
      if (xt != CONV1D_DTYPE_FLOAT64) {
        double* buf = reinterpret_cast<double*>(thread_scratch(4, 2 * xn));
        convert(xt, x, CONV1D_DTYPE_FLOAT64, buf, xn);
        xs = buf;
      }
      run(p, plan, xs, ys);
      if (yt != CONV1D_DTYPE_FLOAT64) convert(CONV1D_DTYPE_FLOAT64, ys, yt, y, y_count);
      return;
    }
    case CONV1D_DTYPE_BFLOAT16:
      return run_bf16(p, plan, xt, x, xn, yt, y, y_count);
    default: {
      const float* xs = static_cast<const float*>(x);
      float* ys = yt == CONV1D_DTYPE_FLOAT32 ? static_cast<float*>(y) : thread_scratch(5, y_count);
      if (xt != CONV1D_DTYPE_FLOAT32) {
        float* buf = thread_scratch(4, xn);
        convert(xt, x, CONV1D_DTYPE_FLOAT32, buf, xn);
        xs = buf;
      }
      run(p, plan, xs, ys);
      if (yt != CONV1D_DTYPE_FLOAT32) convert(CONV1D_DTYPE_FLOAT32, ys, yt, y, y_count);
      return;
    }
  }
}

void Layer::run(const ConvProblem& p, const Plan& planned, const float* x, float* y) const {
  const bool first = cfg_.data_format == CONV1D_CHANNELS_FIRST;
  const int64_t d0 = p.batch, d1 = first ? cfg_.filters : p.out_steps, d2 = first ? p.out_steps : cfg_.filters;
  const PackedWeights* packed = packed_.valid ? &packed_.weights : nullptr;
  // glu's output is half the conv's size, so the conv needs its own buffer.
  float* conv_out = y;
  if (cfg_.activation == CONV1D_ACTIVATION_GLU) conv_out = thread_scratch(1, static_cast<size_t>(d0 * d1 * d2));
  Plan timed;  // find mode's pick, the first time it sees this shape
  const Plan* plan = &planned;
  if (cfg_.find && cfg_.algorithm == CONV1D_ALGORITHM_AUTO && !found_by_find(p))
    timed = find_plan(p, x, conv_out), plan = &timed;
  const bool fused = execute(*plan, p, x, compute_kernel(), compute_bias(), packed, cfg_.activation, conv_out);
  if (!fused && cfg_.activation != CONV1D_ACTIVATION_LINEAR) {
    apply_activation(cfg_.activation, conv_out, y, d0, d1, d2);
  }
}

void Layer::run(const ConvProblem& p, const Plan& planned, const double* x, double* y) const {
  const bool first = cfg_.data_format == CONV1D_CHANNELS_FIRST;
  const int64_t d0 = p.batch, d1 = first ? cfg_.filters : p.out_steps, d2 = first ? p.out_steps : cfg_.filters;
  double* conv_out = y;
  if (cfg_.activation == CONV1D_ACTIVATION_GLU)
    conv_out = reinterpret_cast<double*>(thread_scratch(1, 2 * static_cast<size_t>(d0 * d1 * d2)));
  Plan timed;  // find mode's pick, the first time it sees this shape
  const Plan* plan = &planned;
  if (cfg_.find && cfg_.algorithm == CONV1D_ALGORITHM_AUTO && !found_by_find(p))
    timed = find_plan(p, x, conv_out), plan = &timed;
  execute(*plan, p, x, kernel64_.data(), cfg_.use_bias ? bias64_.data() : nullptr, conv_out);
  if (cfg_.activation != CONV1D_ACTIVATION_LINEAR) apply_activation(cfg_.activation, conv_out, y, d0, d1, d2);
}

// bfloat16 compute: x rounded to bf16 (kept as float, exactly), the float32
// pipeline with the bf16-rounded kernel and bias (products of two bf16 values
// are exact in float32, sums accumulate in float32), the activation in
// float32, then one rounding of y to bf16.
void Layer::run_bf16(const ConvProblem& p, const Plan& plan, conv1d_dtype xt, const void* x, size_t x_count,
                     conv1d_dtype yt, void* y, size_t y_count) const {
  float* ys = yt == CONV1D_DTYPE_FLOAT32 ? static_cast<float*>(y) : thread_scratch(5, y_count);
  if (plan.native_bf16 && native_bf16_.valid) {
    // The native kernel reads bf16 x as it is, and writes bf16 y itself when
    // the activation is elementwise (fused).
    const bf16_t* xh = static_cast<const bf16_t*>(x);
    if (xt != CONV1D_DTYPE_BFLOAT16) {
      bf16_t* buf = reinterpret_cast<bf16_t*>(thread_scratch(4, (x_count + 1) / 2));
      convert(xt, x, CONV1D_DTYPE_BFLOAT16, buf, x_count);
      xh = buf;
    }
    const bool direct_bf16 = yt == CONV1D_DTYPE_BFLOAT16 && !activation_is_axiswise(cfg_.activation);
    if (direct_bf16) {
      execute_native_bf16(plan, p, native_bf16_.weights, xh, y, true, cfg_.activation);
      return;
    }
    const bool first = cfg_.data_format == CONV1D_CHANNELS_FIRST;
    const int64_t d0 = p.batch, d1 = first ? cfg_.filters : p.out_steps, d2 = first ? p.out_steps : cfg_.filters;
    float* conv_out = ys;
    if (cfg_.activation == CONV1D_ACTIVATION_GLU) conv_out = thread_scratch(1, static_cast<size_t>(d0 * d1 * d2));
    const bool fused = execute_native_bf16(plan, p, native_bf16_.weights, xh, conv_out, false, cfg_.activation);
    if (!fused && cfg_.activation != CONV1D_ACTIVATION_LINEAR)
      apply_activation(cfg_.activation, conv_out, ys, d0, d1, d2);
  } else {
    float* xs = thread_scratch(4, x_count);
    to_bf16_floats(xt, x, xs, x_count);
    run(p, plan, xs, ys);
  }
  // The one rounding of the result, as the epilogue pass.
  if (yt == CONV1D_DTYPE_FLOAT32) {
    round_to_bf16(ys, ys, y_count);
  } else if (yt == CONV1D_DTYPE_BFLOAT16) {
    bf16_from_float(ys, static_cast<bf16_t*>(y), y_count);
  } else {
    double* yd = static_cast<double*>(y);
    for (size_t i = 0; i < y_count; ++i) yd[i] = bf16_round(ys[i]);
  }
}

// ---- windows, for streams -------------------------------------------------

ConvProblem Layer::window_problem() const {
  require_built();
  return shape_of(cfg_, in_channels_);
}

Plan Layer::window_plan(const ConvProblem& p, conv1d_algorithm algorithm) const {
  ExecConfig e = exec_config();
  e.algorithm = algorithm;
  return make_plan(p, e, packed_.valid ? &packed_.weights : nullptr, packed_.isa);
}

int Layer::window_threads(const Plan& plan, const ConvProblem& p) const {
  return plan_threads(plan, p, exec_config(), packed_.valid ? &packed_.weights : nullptr);
}

void Layer::run_window(const Plan& plan, const ConvProblem& p, const float* x, float* conv_out, float* y) const {
  const bool first = cfg_.data_format == CONV1D_CHANNELS_FIRST;
  const int64_t d0 = p.batch, d1 = first ? p.filters : p.out_steps, d2 = first ? p.out_steps : p.filters;
  float* out = cfg_.activation == CONV1D_ACTIVATION_GLU ? conv_out : y;
  const bool fused = execute(plan, p, x, compute_kernel(), compute_bias(), packed_.valid ? &packed_.weights : nullptr,
                             cfg_.activation, out);
  if (!fused && cfg_.activation != CONV1D_ACTIVATION_LINEAR) apply_activation(cfg_.activation, out, y, d0, d1, d2);
}

// ---- training ------------------------------------------------------------

namespace {

constexpr uint32_t kKnownFlags = CONV1D_BACKWARD_REGULARIZERS | CONV1D_BACKWARD_ACCUMULATE;

void check_flags(uint32_t flags) {
  if (flags & ~kKnownFlags)
    fail(
        CONV1D_ERROR_INVALID_VALUE, "unknown flag bits 0x" + [&] {
          char buf[16];
          std::snprintf(buf, sizeof buf, "%x", flags & ~kKnownFlags);
          return std::string(buf);
        }() + " in flags; known: CONV1D_BACKWARD_REGULARIZERS (1), CONV1D_BACKWARD_ACCUMULATE (2)");
}

struct Span {
  const void* p;
  size_t bytes;
  const char* name;
};

// Outputs may overlap neither each other nor the inputs.
void check_disjoint(std::initializer_list<Span> outputs, std::initializer_list<Span> inputs) {
  auto overlap = [](const Span& a, const Span& b) {
    const auto a0 = reinterpret_cast<uintptr_t>(a.p), b0 = reinterpret_cast<uintptr_t>(b.p);
    return a.p && b.p && a.bytes && b.bytes && a0 < b0 + b.bytes && b0 < a0 + a.bytes;
  };
  const Span* out = outputs.begin();  // a list, not a vector: no allocation per call
  for (size_t i = 0; i < outputs.size(); ++i) {
    for (size_t j = i + 1; j < outputs.size(); ++j)
      if (overlap(out[i], out[j]))
        fail(CONV1D_ERROR_INVALID_VALUE,
             std::string(out[i].name) + " and " + out[j].name + " overlap; each output needs its own buffer");
    for (const Span& in : inputs)
      if (overlap(out[i], in))
        fail(CONV1D_ERROR_INVALID_VALUE,
             std::string(out[i].name) + " overlaps the input " + in.name + "; outputs need their own buffers");
  }
}

void add_into(float* dst, const float* src, size_t n) {
  for (size_t i = 0; i < n; ++i) dst[i] += src[i];
}

}  // namespace

SmallShape Layer::kernel_dims() const { return {cfg_.kernel_size, in_channels_ / cfg_.groups, cfg_.filters}; }

std::vector<int64_t> Layer::kernel_shape() const {
  const SmallShape k = kernel_dims();
  return {k.dims, k.dims + k.rank};
}

void Layer::enable_lora(LayerConfig& next, Weights& w, int64_t rank) const {
  if (cfg_.kernel_constraint.active()) {
    fail(CONV1D_ERROR_INVALID_STATE,
         "Lora is incompatible with kernel constraints. In order to enable lora on this layer, remove the "
         "`kernel_constraint` argument.");
  }
  if (!w.lora_a.empty())
    fail(CONV1D_ERROR_INVALID_STATE, "lora is already enabled. This can only be done once per layer.");
  const int64_t cg = w.in_channels / cfg_.groups;
  const int64_t a_count =
      checked_mul(checked_mul(cfg_.kernel_size, cg, "lora_kernel_a size"), rank, "lora_kernel_a size");
  const int64_t b_count = checked_mul(rank, cfg_.filters, "lora_kernel_b size");
  std::vector<float> a(static_cast<size_t>(a_count)), b(static_cast<size_t>(b_count), 0.0f);
  // Keras: A from he_uniform, B zeros, so the layer's output is unchanged at first.
  const uint64_t seed = cfg_.seed >= 0 ? static_cast<uint64_t>(cfg_.seed) + 2
                                       : (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
  Initializer::parse("he_uniform").fill(a.data(), {cfg_.kernel_size, cg, rank}, seed);
  w.lora_a.swap(a);
  w.lora_b.swap(b);
  next.lora_rank = rank;
}

void Layer::check_gradient_buffer(const float* p, size_t len, size_t need, const char* name) const {
  if (p && len < need) {
    fail(CONV1D_ERROR_BUFFER_TOO_SMALL,
         std::string(name) + "_len=" + std::to_string(len) + " but it needs " + std::to_string(need) + " floats");
  }
}

void Layer::backward(const float* x, size_t x_len, int64_t batch, int64_t steps, int64_t channels, const float* dy,
                     size_t dy_len, float* dx, size_t dx_len, float* dkernel, size_t dkernel_len, float* dbias,
                     size_t dbias_len, uint32_t flags) const {
  check_flags(flags);
  require_float32("conv1d_backward");
  if (!dy) fail(CONV1D_ERROR_NULL_POINTER, "dy is NULL");
  const int64_t x_count = check_input(x, x_len, batch, steps, channels);
  int64_t shape[3];
  const size_t y_count = check_output("dy", dy_len, batch, steps, shape);
  if (dbias && !cfg_.use_bias)
    fail(CONV1D_ERROR_INVALID_VALUE,
         "layer '" + cfg_.name + "' has use_bias=0, so there is no bias gradient: pass NULL");
  check_gradient_buffer(dx, dx_len, static_cast<size_t>(x_count), "dx");
  check_gradient_buffer(dkernel, dkernel_len, kernel_.size(), "dkernel");
  check_gradient_buffer(dbias, dbias_len, bias_.size(), "dbias");
  check_disjoint({{dx, static_cast<size_t>(x_count) * sizeof(float), "dx"},
                  {dkernel, kernel_.size() * sizeof(float), "dkernel"},
                  {dbias, bias_.size() * sizeof(float), "dbias"}},
                 {{x, static_cast<size_t>(x_count) * sizeof(float), "x"}, {dy, y_count * sizeof(float), "dy"}});

  const bool regs = flags & CONV1D_BACKWARD_REGULARIZERS;
  const bool accumulate = flags & CONV1D_BACKWARD_ACCUMULATE;
  const bool activity = regs && cfg_.activity_regularizer.active();
  const bool kernel_reg = regs && dkernel && cfg_.trainable && lora_a_.empty() && cfg_.kernel_regularizer.active();
  const bool bias_reg = regs && dbias && cfg_.trainable && cfg_.bias_regularizer.active();
  // Regularizers that cannot run (OrthogonalRegularizer) fail before anything is written.
  // Shapes by value: a training step with regularizers builds no vector.
  const SmallShape out_shape{shape[0], shape[1], shape[2]};
  const SmallShape kshape = kernel_dims();
  if (activity) cfg_.activity_regularizer.penalty(nullptr, 0, out_shape);
  if (kernel_reg) cfg_.kernel_regularizer.penalty(nullptr, 0, kshape);
  if (bias_reg) cfg_.bias_regularizer.penalty(nullptr, 0, {cfg_.filters});

  const Geometry g = compute_geometry(cfg_, steps);
  const ConvProblem p = problem_for(batch, steps, g);
  const bool first = cfg_.data_format == CONV1D_CHANNELS_FIRST;
  const int64_t d0 = batch, d1 = first ? cfg_.filters : g.out_steps, d2 = first ? g.out_steps : cfg_.filters;
  const size_t z_count = static_cast<size_t>(d0 * d1 * d2);

  // Every buffer is allocated before any output is written.
  // Per-thread scratch, reused across calls (slot 2).
  const bool need_z = cfg_.activation != CONV1D_ACTIVATION_LINEAR || activity;
  ScratchSplit scratch(2);
  const size_t z_i = scratch.want(need_z ? z_count : 0);
  const size_t act_i = scratch.want(activity ? y_count : 0), dyt_i = scratch.want(activity ? y_count : 0);
  const size_t dx_i = scratch.want(accumulate && dx ? static_cast<size_t>(x_count) : 0);
  const size_t dk_i = scratch.want(accumulate && dkernel ? kernel_.size() : 0);
  const size_t db_i = scratch.want(accumulate && dbias ? bias_.size() : 0);
  scratch.allocate();
  float* z = scratch.get(z_i);
  float* act_out = scratch.get(act_i);
  float* dy_total = scratch.get(dyt_i);
  float* dx_out = !dx ? nullptr : accumulate ? scratch.get(dx_i) : dx;
  float* dk_out = !dkernel ? nullptr : accumulate ? scratch.get(dk_i) : dkernel;
  float* db_out = !dbias ? nullptr : accumulate ? scratch.get(db_i) : dbias;

  const float* bias = cfg_.use_bias ? bias_.data() : nullptr;
  const PackedWeights* packed = packed_.valid ? &packed_.weights : nullptr;
  const float* dz = dy;
  if (need_z) {
    // The pre-activation output, recomputed: nothing is kept between calls.
    execute(*plan_for(p), p, x, compute_kernel(), bias, packed, CONV1D_ACTIVATION_LINEAR, z);
    const float* dy_act = dy;
    if (activity) {
      apply_activation(cfg_.activation, z, act_out, d0, d1, d2);
      std::copy(dy, dy + y_count, dy_total);
      cfg_.activity_regularizer.add_gradient(act_out, dy_total, y_count, out_shape, 1.0 / static_cast<double>(batch));
      dy_act = dy_total;
    }
    activation_backward(cfg_.activation, z, dy_act, z, d0, d1, d2);
    dz = z;
  }
  bool bias_done = false;
  if (dx_out || dk_out) {
    const std::shared_ptr<const BackwardPlan> cached = backward_plan_for(p);
    const BackwardPlan& plan = *cached;
    std::shared_ptr<const TransposedWeights> transposed;
    if (dx_out && backward_uses_transposed(plan)) {
      std::lock_guard<std::mutex> lock(plan_mutex_);
      if (!bwd_packed_ || bwd_packed_isa_ != plan.data.isa || !transposed_serves(*bwd_packed_, plan)) {
        bwd_packed_ = std::make_shared<const TransposedWeights>(pack_transposed(p, plan.data.isa, compute_kernel()));
        bwd_packed_isa_ = plan.data.isa;
      }
      transposed = bwd_packed_;
    }
    bias_done = execute_backward(plan, p, x, compute_kernel(), dz, dx_out, dk_out, db_out, transposed.get());
  }
  if (db_out && !bias_done) execute_backward_bias(p, exec_config(), dz, db_out);
  if (kernel_reg) cfg_.kernel_regularizer.add_gradient(kernel_.data(), dk_out, kernel_.size(), kshape, 1.0);
  if (bias_reg) cfg_.bias_regularizer.add_gradient(bias_.data(), db_out, bias_.size(), {cfg_.filters}, 1.0);
  if (accumulate) {
    if (dx) add_into(dx, dx_out, static_cast<size_t>(x_count));
    if (dkernel) add_into(dkernel, dk_out, kernel_.size());
    if (dbias) add_into(dbias, db_out, bias_.size());
  }
}

double Layer::regularization_loss(const float* y, size_t y_len, int64_t batch, int64_t steps) const {
  // mixed_bfloat16 keeps float32 variables, so their penalties are exact; an
  // activity penalty would be Keras' bf16 arithmetic on a bf16 output.
  if (!(cfg_.dtype == DTypePolicy::kMixedBFloat16 && !y)) require_float32("conv1d_regularization_loss");
  double total = 0.0;
  if (built_ && cfg_.trainable) {
    const Regularizer& kr = cfg_.kernel_regularizer;
    if (lora_a_.empty()) {
      total += kr.penalty(kernel_.data(), kernel_.size(), kernel_dims());
    } else {
      // Keras gives the LoRA factors the kernel regularizer; the frozen kernel has none.
      const int64_t r = cfg_.lora_rank;
      total += kr.penalty(lora_a_.data(), lora_a_.size(), {cfg_.kernel_size, in_channels_ / cfg_.groups, r});
      total += kr.penalty(lora_b_.data(), lora_b_.size(), {r, cfg_.filters});
    }
    if (cfg_.use_bias) total += cfg_.bias_regularizer.penalty(bias_.data(), bias_.size(), {cfg_.filters});
  }
  if (y) {
    int64_t shape[3];
    const size_t count = check_output("y", y_len, batch, steps, shape);
    // Keras divides the activity penalty by the batch size (divide_no_nan).
    total += cfg_.activity_regularizer.penalty(y, count, {shape[0], shape[1], shape[2]}) / static_cast<double>(batch);
  }
  return total;
}

void Layer::apply_constraints() {
  // mixed_bfloat16's float32 variables are constrained exactly as float32 ones.
  if (cfg_.dtype != DTypePolicy::kMixedBFloat16) require_float32("conv1d_apply_constraints");
  require_built();
  if (!cfg_.trainable) return;  // the optimizer only updates trainable weights
  Weights w = weights();
  if (lora_a_.empty()) cfg_.kernel_constraint.apply(w.kernel.data(), kernel_shape());
  if (cfg_.use_bias) cfg_.bias_constraint.apply(w.bias.data(), {cfg_.filters});
  install(std::move(w));
}

size_t Layer::weight_size(conv1d_weight which) const {
  require_built();
  switch (which) {
    case CONV1D_WEIGHT_KERNEL:
      return kernel_.size();
    case CONV1D_WEIGHT_BIAS:
      return bias_.size();
    case CONV1D_WEIGHT_LORA_A:
      return lora_a_.size();
    case CONV1D_WEIGHT_LORA_B:
      return lora_b_.size();
    default:
      fail(CONV1D_ERROR_INVALID_VALUE,
           "weight must be a conv1d_weight value (0..3); received " + str(static_cast<int64_t>(which)));
  }
}

namespace {

const char* weight_name(conv1d_weight which) {
  switch (which) {
    case CONV1D_WEIGHT_KERNEL:
      return "kernel";
    case CONV1D_WEIGHT_BIAS:
      return "bias";
    case CONV1D_WEIGHT_LORA_A:
      return "lora_kernel_a";
    default:
      return "lora_kernel_b";
  }
}

}  // namespace

void Layer::get_weight(conv1d_weight which, float* data, size_t len) const {
  const size_t n = weight_size(which);
  if (n == 0) {
    fail(CONV1D_ERROR_INVALID_VALUE, std::string("layer '") + cfg_.name + "' has no " + weight_name(which) +
                                         (which == CONV1D_WEIGHT_BIAS ? " (use_bias=0)" : " (LoRA is not enabled)"));
  }
  if (!data) fail(CONV1D_ERROR_NULL_POINTER, "data is NULL");
  if (len < n)
    fail(CONV1D_ERROR_BUFFER_TOO_SMALL, "len=" + std::to_string(len) + " is shorter than the " + std::to_string(n) +
                                            " values of " + weight_name(which));
  const std::vector<float>& src = which == CONV1D_WEIGHT_KERNEL   ? kernel_
                                  : which == CONV1D_WEIGHT_BIAS   ? bias_
                                  : which == CONV1D_WEIGHT_LORA_A ? lora_a_
                                                                  : lora_b_;
  std::copy(src.begin(), src.end(), data);
}

void Layer::set_weight(conv1d_weight which, const float* data, size_t len) {
  const size_t n = weight_size(which);
  if (n == 0) {
    fail(CONV1D_ERROR_INVALID_VALUE, std::string("layer '") + cfg_.name + "' has no " + weight_name(which) +
                                         (which == CONV1D_WEIGHT_BIAS ? " (use_bias=0)" : " (LoRA is not enabled)"));
  }
  if (!data) fail(CONV1D_ERROR_NULL_POINTER, "data is NULL");
  if (len != n)
    fail(CONV1D_ERROR_LENGTH_MISMATCH, "len=" + std::to_string(len) + " but " + weight_name(which) + " of layer '" +
                                           cfg_.name + "' has exactly " + std::to_string(n) + " values");
  Weights w = weights();
  std::vector<float>& dst = which == CONV1D_WEIGHT_KERNEL   ? w.kernel
                            : which == CONV1D_WEIGHT_BIAS   ? w.bias
                            : which == CONV1D_WEIGHT_LORA_A ? w.lora_a
                                                            : w.lora_b;
  std::copy(data, data + n, dst.begin());
  // A float64 layer takes the new values exactly as its masters.
  if (which == CONV1D_WEIGHT_KERNEL) w.kernel64.clear();
  if (which == CONV1D_WEIGHT_BIAS) w.bias64.clear();
  install(std::move(w));
}

void Layer::lora_gradients(const float* dkernel, size_t dkernel_len, float* da, size_t da_len, float* db, size_t db_len,
                           uint32_t flags) const {
  check_flags(flags);
  require_float32("conv1d_lora_gradients");
  require_built();
  if (lora_a_.empty())
    fail(CONV1D_ERROR_INVALID_STATE, "layer '" + cfg_.name + "' does not have LoRA enabled: set lora_rank first");
  if (!dkernel) fail(CONV1D_ERROR_NULL_POINTER, "dkernel is NULL");
  if (dkernel_len < kernel_.size())
    fail(CONV1D_ERROR_BUFFER_TOO_SMALL, "dkernel_len=" + std::to_string(dkernel_len) + " but the kernel has " +
                                            std::to_string(kernel_.size()) + " values");
  check_gradient_buffer(da, da_len, lora_a_.size(), "da");
  check_gradient_buffer(db, db_len, lora_b_.size(), "db");
  check_disjoint({{da, lora_a_.size() * sizeof(float), "da"}, {db, lora_b_.size() * sizeof(float), "db"}},
                 {{dkernel, kernel_.size() * sizeof(float), "dkernel"}});
  const int64_t r = cfg_.lora_rank, F = cfg_.filters, rows = static_cast<int64_t>(kernel_.size()) / F;
  const bool regs = (flags & CONV1D_BACKWARD_REGULARIZERS) && cfg_.trainable && cfg_.kernel_regularizer.active();
  const std::vector<int64_t> a_shape{cfg_.kernel_size, in_channels_ / cfg_.groups, r}, b_shape{r, F};
  if (regs) cfg_.kernel_regularizer.penalty(nullptr, 0, a_shape);
  const double s = cfg_.lora_scale();
  std::vector<float> ga(da ? lora_a_.size() : 0), gb(db ? lora_b_.size() : 0);
  if (da) {
    // dA = s G B^T: row i of G against each row of B.
    for (int64_t i = 0; i < rows; ++i) {
      const float* gi = dkernel + i * F;
      for (int64_t q = 0; q < r; ++q) {
        const float* bq = lora_b_.data() + q * F;
        double sum = 0.0;
        for (int64_t f = 0; f < F; ++f) sum += static_cast<double>(gi[f]) * bq[f];
        ga[i * r + q] = static_cast<float>(s * sum);
      }
    }
    if (regs) cfg_.kernel_regularizer.add_gradient(lora_a_.data(), ga.data(), ga.size(), a_shape, 1.0);
  }
  if (db) {
    // dB = s A^T G, accumulated row by row of G.
    std::vector<double> sum(static_cast<size_t>(r * F), 0.0);
    for (int64_t i = 0; i < rows; ++i) {
      const float* gi = dkernel + i * F;
      for (int64_t q = 0; q < r; ++q) {
        const double a = lora_a_[i * r + q];
        double* out = sum.data() + q * F;
        for (int64_t f = 0; f < F; ++f) out[f] += a * gi[f];
      }
    }
    for (size_t k = 0; k < gb.size(); ++k) gb[k] = static_cast<float>(s * sum[k]);
    if (regs) cfg_.kernel_regularizer.add_gradient(lora_b_.data(), gb.data(), gb.size(), b_shape, 1.0);
  }
  const bool accumulate = flags & CONV1D_BACKWARD_ACCUMULATE;
  if (da) accumulate ? add_into(da, ga.data(), ga.size()) : (void)std::copy(ga.begin(), ga.end(), da);
  if (db) accumulate ? add_into(db, gb.data(), gb.size()) : (void)std::copy(gb.begin(), gb.end(), db);
}

void Layer::lora_merge() {
  require_built();
  if (lora_a_.empty())
    fail(CONV1D_ERROR_INVALID_STATE, "layer '" + cfg_.name + "' does not have LoRA enabled: nothing to merge");
  Weights w{in_channels_, effective_, bias_, {}, {}, {}, {}};
  LayerConfig next = cfg_;
  next.lora_rank = 0;
  next.has_lora_alpha = false;
  next.lora_alpha = 0.0;
  install(std::move(w), std::move(next));
}

// ---- Weights from files -------------------------------------------------

std::vector<int64_t> Layer::weight_shape(conv1d_weight which) const {
  const size_t n = weight_size(which);  // checks built and `which`
  if (n == 0) return {};
  const int64_t cg = in_channels_ / cfg_.groups;
  switch (which) {
    case CONV1D_WEIGHT_KERNEL:
      return kernel_shape();
    case CONV1D_WEIGHT_BIAS:
      return {cfg_.filters};
    case CONV1D_WEIGHT_LORA_A:
      return {cfg_.kernel_size, cg, cfg_.lora_rank};
    default:
      return {cfg_.lora_rank, cfg_.filters};
  }
}

namespace {

// "(3, 2, 4)" for a built layer, "(3, in_channels/groups, 4)" for an unbuilt one.
std::string wanted_kernel(const LayerConfig& cfg, bool built, int64_t cg) {
  return "(" + str(cfg.kernel_size) + ", " + (built ? str(cg) : std::string("in_channels/groups")) + ", " +
         str(cfg.filters) + ")";
}

}  // namespace

int64_t Layer::channels_from(const WeightArray& kernel) const {
  const int64_t cg = kernel.shape[1];
  if (cg <= 0)
    fail(CONV1D_ERROR_LENGTH_MISMATCH,
         kernel.origin + " has shape " + shape_string(kernel.shape) + ": a kernel needs at least one input channel");
  if (cg > kMaxDim / cfg_.groups)
    fail(CONV1D_ERROR_SIZE_OVERFLOW,
         kernel.origin + " has shape " + shape_string(kernel.shape) + ", which implies too many input channels");
  return cg * cfg_.groups;
}

void Layer::load_own_variables(std::vector<WeightArray> vars, size_t stored, const std::string& source) {
  const size_t want = cfg_.use_bias ? 2 : 1;
  if (stored != want || vars.size() != want) {
    fail(CONV1D_ERROR_INVALID_VALUE,
         "Layer '" + cfg_.name + "' expected " + std::to_string(want) + " variables (" +
             (cfg_.use_bias ? "kernel and bias" : "the kernel, use_bias=0") + "), but " + source + " holds " +
             std::to_string(stored) + (stored == 1 ? " variable" : " variables") +
             (stored + 1 == want                ? " (no bias: was it saved with use_bias=False?)"
              : stored == want + 1 && want == 1 ? " (a bias: was it saved with use_bias=True?)"
                                                : ""));
  }
  WeightArray& k = vars[0];
  const int64_t cg = built_ ? in_channels_ / cfg_.groups : 0;
  if (k.shape.size() != 3 || k.shape[0] != cfg_.kernel_size || k.shape[2] != cfg_.filters ||
      (built_ && k.shape[1] != cg)) {
    fail(CONV1D_ERROR_LENGTH_MISMATCH, "the kernel " + k.origin + " has shape " + shape_string(k.shape) +
                                           " but layer '" + cfg_.name + "' needs " + wanted_kernel(cfg_, built_, cg) +
                                           " = (kernel_size, in_channels/groups, filters)");
  }
  const int64_t cin = built_ ? in_channels_ : channels_from(k);
  if (cfg_.use_bias && vars[1].shape != std::vector<int64_t>{cfg_.filters}) {
    fail(CONV1D_ERROR_LENGTH_MISMATCH, "the bias " + vars[1].origin + " has shape " + shape_string(vars[1].shape) +
                                           " but layer '" + cfg_.name + "' needs (" + str(cfg_.filters) +
                                           ",) = (filters,)");
  }
  LayerConfig next = cfg_;
  Weights w = built_ ? weights() : Weights{cin, {}, {}, {}, {}, {}, {}};
  // float64 datasets keep their precision in a float64 layer (conform).
  w.kernel = std::move(k.data);
  w.kernel64 = std::move(k.data64);
  if (cfg_.use_bias) {
    w.bias = std::move(vars[1].data);
    w.bias64 = std::move(vars[1].data64);
  } else {
    w.bias64.clear();
  }
  if (!built_ && cfg_.lora_rank > 0) enable_lora(next, w, cfg_.lora_rank);
  // Keras' load_own_variables resets both LoRA factors: the file's kernel is
  // the merged one.
  std::fill(w.lora_a.begin(), w.lora_a.end(), 0.0f);
  std::fill(w.lora_b.begin(), w.lora_b.end(), 0.0f);
  install(std::move(w), std::move(next));
}

void Layer::set_weight_array(conv1d_weight which, WeightArray a) {
  if (which < CONV1D_WEIGHT_KERNEL || which > CONV1D_WEIGHT_LORA_B)
    fail(CONV1D_ERROR_INVALID_VALUE,
         "weight must be a conv1d_weight value (0..3); received " + str(static_cast<int64_t>(which)));
  if (which == CONV1D_WEIGHT_KERNEL && !built_) {
    if (a.shape.size() != 3 || a.shape[0] != cfg_.kernel_size || a.shape[2] != cfg_.filters)
      fail(CONV1D_ERROR_LENGTH_MISMATCH,
           a.origin + " has shape " + shape_string(a.shape) + " but the kernel of layer '" + cfg_.name + "' is " +
               wanted_kernel(cfg_, false, 0) + " = (kernel_size, in_channels/groups, filters)");
    LayerConfig next = cfg_;
    Weights w = initial_weights(channels_from(a), next);
    w.kernel = std::move(a.data);
    w.kernel64 = std::move(a.data64);
    return install(std::move(w), std::move(next));
  }
  if (!built_) {
    fail(CONV1D_ERROR_NOT_BUILT, "layer '" + cfg_.name +
                                     "' has no weights yet: load its kernel first, or call "
                                     "conv1d_build or conv1d_set_weights");
  }
  const std::vector<int64_t> shape = weight_shape(which);
  if (shape.empty()) {
    fail(CONV1D_ERROR_INVALID_VALUE, std::string("layer '") + cfg_.name + "' has no " + weight_name(which) +
                                         (which == CONV1D_WEIGHT_BIAS ? " (use_bias=0)" : " (LoRA is not enabled)"));
  }
  if (a.shape != shape)
    fail(CONV1D_ERROR_LENGTH_MISMATCH, a.origin + " has shape " + shape_string(a.shape) + " but " + weight_name(which) +
                                           " of layer '" + cfg_.name + "' is " + shape_string(shape));
  if ((cfg_.dtype == DTypePolicy::kFloat64 || cfg_.dtype == DTypePolicy::kBFloat16) && !a.data64.empty() &&
      (which == CONV1D_WEIGHT_KERNEL || which == CONV1D_WEIGHT_BIAS)) {
    // float64 data without a detour through float32 (conform converts it).
    Weights w = weights();
    (which == CONV1D_WEIGHT_KERNEL ? w.kernel64 : w.bias64) = std::move(a.data64);
    return install(std::move(w));
  }
  set_weight(which, a.data.data(), a.data.size());
}

}  // namespace conv1d
