// Training from C++ through <conv1d/conv1d.hpp>: examples/train/train.c with
// the wrapper. Plain SGD recovers a known causal filter from noisy data:
//
//   y_true = conv(x, W_true) + b_true + noise      (x random, noise sigma 0.01)
//   loss   = mean((layer(x) - y_true)^2) + L2(1e-4) penalty on the kernel
//
// Each step: forward, the loss gradient dy = 2 (y - y_true) / count,
// backward (with the regularizer's gradient) into buffers allocated once, an
// SGD update written back with set_weight, then apply_constraints for the
// MaxNorm(2, axis=[0, 1]) kernel constraint, as a Keras optimizer would.
//
// Exits 0 when the loss falls below 3e-4 (the noise floor is 1e-4) and every
// learned kernel value is within 0.02 of the true one.
#include <algorithm>
#include <cmath>
#include <conv1d/conv1d.hpp>
#include <cstdio>
#include <exception>
#include <random>
#include <vector>

namespace {

constexpr int64_t kFilters = 2, kKernel = 5, kChannels = 2, kBatch = 16, kSteps = 64;
constexpr int kEpochs = 300;
constexpr float kLearningRate = 0.3f;

int run() {
  // The filter to recover, in Keras layout (kernel_size, channels, filters).
  const std::vector<float> w_true = {0.5f, -0.3f, 0.2f,  0.1f,  -0.4f, 0.6f,  0.3f, 0.0f, 0.1f, -0.2f,
                                     0.0f, 0.4f,  -0.6f, -0.1f, 0.25f, -0.5f, 0.2f, 0.3f, 0.7f, 0.15f};
  const std::vector<float> b_true = {0.1f, -0.2f};

  conv1d::Layer teacher(kFilters, kKernel);  // makes the targets
  teacher.set_padding(conv1d::Padding::causal).set_weights(w_true, b_true);

  // The student: Keras' default initializers, an L2 penalty and a per-filter MaxNorm.
  conv1d::Layer layer(kFilters, kKernel);
  layer.set_padding(conv1d::Padding::causal)
      .set_kernel_regularizer(R"({"class_name": "L2", "config": {"l2": 0.0001}})")
      .set_kernel_constraint(R"({"class_name": "MaxNorm", "config": {"max_value": 2.0, "axis": [0, 1]}})")
      .set_seed(1)
      .build(kChannels);

  // Every buffer is allocated once, outside the loop.
  const size_t y_count = layer.output_shape(kBatch, kSteps).count;
  std::vector<float> x(static_cast<size_t>(kBatch * kSteps * kChannels)), y_true(y_count), y(y_count), dy(y_count);
  std::vector<float> kernel(layer.weight_size(CONV1D_WEIGHT_KERNEL)), dkernel(kernel.size());
  std::vector<float> bias(layer.weight_size(CONV1D_WEIGHT_BIAS)), dbias(bias.size());
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::normal_distribution<float> noise(0.0f, 0.01f);

  double loss = 0.0;
  for (int epoch = 0; epoch < kEpochs; ++epoch) {
    for (float& v : x) v = uniform(rng);  // a fresh batch each step
    teacher.forward(x, kBatch, kSteps, kChannels, y_true);
    for (float& v : y_true) v += noise(rng);

    layer.forward(x, kBatch, kSteps, kChannels, y);
    loss = 0.0;
    for (size_t i = 0; i < y_count; ++i) {
      const float d = y[i] - y_true[i];
      loss += static_cast<double>(d) * d;
      dy[i] = 2.0f * d / static_cast<float>(y_count);
    }
    loss /= static_cast<double>(y_count);
    if (epoch % 50 == 0 || epoch == kEpochs - 1)
      std::printf("step %3d  loss %.6f  (+ L2 penalty %.6f)\n", epoch, loss, layer.regularization_loss());

    // No input gradient: this is the first layer. An empty buffer skips it.
    layer.backward(x, kBatch, kSteps, kChannels, dy, {}, dkernel, dbias, conv1d::BackwardFlags::regularizers);
    layer.get_weight(CONV1D_WEIGHT_KERNEL, kernel);
    layer.get_weight(CONV1D_WEIGHT_BIAS, bias);
    for (size_t i = 0; i < kernel.size(); ++i) kernel[i] -= kLearningRate * dkernel[i];
    for (size_t i = 0; i < bias.size(); ++i) bias[i] -= kLearningRate * dbias[i];
    layer.set_weight(CONV1D_WEIGHT_KERNEL, kernel).set_weight(CONV1D_WEIGHT_BIAS, bias).apply_constraints();
  }

  const std::vector<float> learned = layer.weight(CONV1D_WEIGHT_KERNEL);
  double max_err = 0.0;
  for (size_t i = 0; i < learned.size(); ++i)
    max_err = std::max(max_err, std::fabs(static_cast<double>(learned[i]) - static_cast<double>(w_true[i])));
  std::printf("final loss %.6f, largest kernel error %.4f\n", loss, max_err);
  if (loss > 3e-4 || max_err > 0.02) {
    std::fprintf(stderr, "training did not converge\n");
    return 1;
  }
  std::printf("recovered the filter\n");
  return 0;
}

}  // namespace

int main() {
  try {
    return run();
  } catch (const conv1d::Error& e) {
    std::fprintf(stderr, "libconv1d error, status %d: %s\n", static_cast<int>(e.status()), e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
  }
  return 1;
}
