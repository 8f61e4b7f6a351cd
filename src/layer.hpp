// One Conv1D layer: its Keras configuration, its weights, and the plans that
// dispatch chose for the input shapes it has seen.
#pragma once

#include <conv1d/conv1d.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "config.hpp"
#include "dispatch/dispatch.hpp"
#include "io/array.hpp"
#include "kernels/packed.hpp"
#include "kernels/problem.hpp"

namespace conv1d {

class Layer {
 public:
  Layer(int64_t filters, int64_t kernel_size);
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  void set_int(conv1d_param p, int64_t v);
  void set_double(conv1d_param p, double v);
  void set_string(conv1d_param p, const std::string& v);
  int64_t get_int(conv1d_param p) const;
  double get_double(conv1d_param p) const;
  std::string get_string(conv1d_param p) const;
  static void bounds(conv1d_param p, int64_t* lo, int64_t* hi);

  void build(int64_t in_channels);
  bool built() const { return built_; }
  size_t kernel_len() const { return kernel_.size(); }
  size_t bias_len() const { return bias_.size(); }
  void set_weights(const float* kernel, size_t kernel_len, const float* bias, size_t bias_len);
  void get_weights(float* kernel, size_t kernel_len, float* bias, size_t bias_len) const;
  // The same with elements of `dtype`, converted to / from the variable dtype.
  void set_weights(conv1d_dtype dtype, const void* kernel, size_t kernel_len, const void* bias, size_t bias_len);
  void get_weights(conv1d_dtype dtype, void* kernel, size_t kernel_len, void* bias, size_t bias_len) const;

  // Training (capi conv1d_backward and friends; see conv1d.h).
  void backward(const float* x, size_t x_len, int64_t batch, int64_t steps, int64_t channels, const float* dy,
                size_t dy_len, float* dx, size_t dx_len, float* dkernel, size_t dkernel_len, float* dbias,
                size_t dbias_len, uint32_t flags) const;
  double regularization_loss(const float* y, size_t y_len, int64_t batch, int64_t steps) const;
  void apply_constraints();
  size_t weight_size(conv1d_weight w) const;
  void get_weight(conv1d_weight w, float* data, size_t len) const;
  void set_weight(conv1d_weight w, const float* data, size_t len);
  void lora_gradients(const float* dkernel, size_t dkernel_len, float* da, size_t da_len, float* db, size_t db_len,
                      uint32_t flags) const;
  void lora_merge();

  // Weights with their shapes, from files (capi/files.cpp).
  // Keras' load_own_variables: vars[0] is the kernel (k, C/G, F), vars[1] the
  // bias (F,); `stored` is how many variables the file holds for the layer.
  // An unbuilt layer is built from the kernel's shape; with LoRA on the
  // factors are zeroed, as Keras does. `source` names the entry in messages.
  void load_own_variables(std::vector<WeightArray> vars, size_t stored, const std::string& source);
  // One weight whose shape must be its Keras shape; a kernel builds an unbuilt
  // layer (in_channels from its shape, the bias from the initializer).
  void set_weight_array(conv1d_weight which, WeightArray a);
  // The Keras shape of a weight of a built layer (empty when absent).
  std::vector<int64_t> weight_shape(conv1d_weight which) const;

  const LayerConfig& config() const { return cfg_; }
  // {batch, steps, channels}-independent output shape in the layer's layout.
  void output_shape(int64_t batch, int64_t steps, int64_t shape[3], size_t* count) const;
  void forward(const float* x, size_t x_len, int64_t batch, int64_t steps, int64_t channels, float* y,
               size_t y_len) const;
  // x of x_dtype cast to the compute dtype, y cast to y_dtype (conv1d_forward_ex).
  void forward(conv1d_dtype x_dtype, const void* x, size_t x_len, int64_t batch, int64_t steps, int64_t channels,
               conv1d_dtype y_dtype, void* y, size_t y_len) const;
  conv1d_algorithm algorithm_for(int64_t batch, int64_t steps) const;
  // The plan line CONV1D_VERBOSE prints for (batch, steps).
  std::string describe_plan(int64_t batch, int64_t steps) const;

  // Windows of the layer's convolution, for streams (stream.cpp). The
  // problem of a built layer with batch, lengths and pad left to the caller.
  ConvProblem window_problem() const;
  // What forward would plan for p with the algorithm forced to `algorithm`
  // (AUTO: the cost model's choice), not cached; and the threads that plan
  // should use for another p of the same layer.
  Plan window_plan(const ConvProblem& p, conv1d_algorithm algorithm) const;
  int window_threads(const Plan& plan, const ConvProblem& p) const;
  // conv + bias + activation of p as forward computes them, into y (p's
  // output in the layer's layout); `conv_out` holds p's conv output for glu
  // (which halves the last axis) and is unused otherwise.
  void run_window(const Plan& plan, const ConvProblem& p, const float* x, float* conv_out, float* y) const;

 private:
  void require_built() const;
  // Validates a forward/backward input against the built layer; returns its float count.
  int64_t check_input(const void* x, size_t x_len, int64_t batch, int64_t steps, int64_t channels) const;
  // The output shape for (batch, steps) and its float count; fails when `len`
  // (the caller's buffer named `name`) is shorter.
  size_t check_output(const char* name, size_t len, int64_t batch, int64_t steps, int64_t shape[3]) const;
  void require_unbuilt(const char* what) const;
  // in_channels for an unbuilt layer from a kernel of shape (k, C/G, F) whose
  // k and F are already checked.
  int64_t channels_from(const WeightArray& kernel) const;
  // Replaces the configuration after validating it and repacking the
  // weights for it; drops cached plans. Nothing changes if it throws.
  void commit(const LayerConfig& next);
  // Packs kernel/bias for cfg's SIMD kernels (empty when none apply).
  struct Packing {
    PackedWeights weights;
    conv1d_isa isa = CONV1D_ISA_SCALAR;
    bool valid = false;
  };
  struct NativePacking {
    PackedBf16 weights;
    conv1d_isa isa = CONV1D_ISA_SCALAR;
    bool valid = false;
  };
  static Packing pack(const LayerConfig& cfg, int64_t in_channels, const std::vector<float>& kernel,
                      const std::vector<float>& bias);
  // A complete set of weights. LoRA is on when lora_a is not empty. A
  // float64 layer keeps its variables in kernel64/bias64 and their float32
  // rounding in kernel/bias (for the float* calls); a Weights whose kernel64
  // (bias64) is empty takes it from kernel (bias) exactly.
  struct Weights {
    int64_t in_channels = 0;
    std::vector<float> kernel, bias, lora_a, lora_b;
    std::vector<double> kernel64, bias64;
  };
  // What the kernels compute with, derived from a configuration and its
  // weights: the LoRA-merged or bf16-rounded kernel and bias (empty when the
  // variables themselves serve) and their packing.
  struct Derived {
    std::vector<float> kernel, bias;
    Packing packing;
    NativePacking native_bf16;  // for the native bf16 kernel (dispatch's NativeBf16Kernels)
  };
  static Derived derive(const LayerConfig& cfg, const Weights& w);
  // Brings w to cfg's variable dtype: bf16 rounding, or the float64 masters
  // and their float32 view.
  static void conform(const LayerConfig& cfg, Weights& w);
  // Training calls that the policy cannot serve exactly fail with `what` named.
  void require_float32(const char* what) const;
  Weights weights() const;
  // Fresh weights for in_channels from the initializers, as build() makes
  // them (LoRA enabled in `next` when lora_rank is set).
  Weights initial_weights(int64_t in_channels, LayerConfig& next) const;
  // Installs new weights (already validated) with cfg's LoRA scale: computes
  // the kernel the convolution uses and its packing first, so nothing
  // changes if that throws.
  void install(Weights w);
  // The same, also replacing the configuration (for changes that shape weights).
  void install(Weights w, LayerConfig cfg);
  void install(int64_t in_channels, std::vector<float> kernel, std::vector<float> bias);
  // kernel + scale * A B, or empty without LoRA.
  static std::vector<float> merged_kernel(const LayerConfig& cfg, const Weights& w);
  const float* compute_kernel() const { return effective_.empty() ? kernel_.data() : effective_.data(); }
  const float* compute_bias() const {
    return !cfg_.use_bias ? nullptr : effective_bias_.empty() ? bias_.data() : effective_bias_.data();
  }
  // The forward for each compute dtype, on buffers already in it: conv, bias
  // and activation into y ((d0, d1, d2) of g's output).
  void run(const ConvProblem& p, const Plan& plan, const float* x, float* y) const;
  void run(const ConvProblem& p, const Plan& plan, const double* x, double* y) const;
  // bfloat16 compute: x of x_dtype, y of y_dtype, y_count elements.
  void run_bf16(const ConvProblem& p, const Plan& plan, conv1d_dtype x_dtype, const void* x, size_t x_count,
                conv1d_dtype y_dtype, void* y, size_t y_count) const;
  // The kernel's Keras shape (k, C/groups, F): by value for the per-call
  // regularizer paths, as a vector where one is returned or stored.
  SmallShape kernel_dims() const;
  std::vector<int64_t> kernel_shape() const;
  void enable_lora(LayerConfig& next, Weights& w, int64_t rank) const;
  void check_gradient_buffer(const float* p, size_t len, size_t need, const char* name) const;
  ConvProblem problem_for(int64_t batch, int64_t steps, const Geometry& g) const;
  ExecConfig exec_config() const;
  // The cached plan for p's (batch, steps), made on first use. Shared, not
  // copied: a Plan's strings would cost a forward call two allocations.
  std::shared_ptr<const Plan> plan_for(const ConvProblem& p) const;
  // The same for backward (small training steps spent a fifth of their time planning).
  std::shared_ptr<const BackwardPlan> backward_plan_for(const ConvProblem& p) const;
  // Find mode: whether p's shape has its timed plan cached yet; find_plan
  // times each candidate on this call's data and caches the fastest.
  bool found_by_find(const ConvProblem& p) const;
  template <class T>
  Plan find_plan(const ConvProblem& p, const T* x, T* y) const;
  std::string plan_line(const ConvProblem& p, const Plan& plan) const;

  LayerConfig cfg_;
  bool built_ = false;
  int64_t in_channels_ = 0;
  std::vector<float> kernel_;          // Keras layout (k, C/G, F)
  std::vector<float> bias_;            // (F,) or empty
  std::vector<float> lora_a_;          // (k, C/G, r) with LoRA on, else empty
  std::vector<float> lora_b_;          // (r, F)
  std::vector<float> effective_;       // kernel_ + scale * A B with LoRA on; bf16-rounded kernel_ for mixed_bfloat16
  std::vector<float> effective_bias_;  // bf16-rounded bias_ for mixed_bfloat16, else empty
  std::vector<double> kernel64_;       // float64 policy: the variables (kernel_, bias_ are their float32 rounding)
  std::vector<double> bias64_;
  Packing packed_;
  NativePacking native_bf16_;

  mutable std::mutex plan_mutex_;
  struct CachedPlan {
    std::shared_ptr<const Plan> plan;
    bool found = false;  // settled by find mode
  };
  mutable std::map<std::pair<int64_t, int64_t>, CachedPlan> plans_;
  mutable std::map<std::pair<int64_t, int64_t>, std::shared_ptr<const BackwardPlan>> backward_plans_;
  // The transposed kernels backward's dx packs, made on first use (under
  // plan_mutex_), dropped with the plans whenever the weights change and
  // repacked for an input with another set of stride phases.
  mutable std::shared_ptr<const TransposedWeights> bwd_packed_;
  mutable conv1d_isa bwd_packed_isa_ = CONV1D_ISA_SCALAR;
};

}  // namespace conv1d
