// libconv1d from C++ through the header-only wrapper <conv1d/conv1d.hpp>:
// the same layer as examples/c/causal_conv.c,
//
//   keras.layers.Conv1D(filters=2, kernel_size=2, padding="causal",
//                       dilation_rate=2, activation="relu", name="wavenet_block")
//
// on x = [1, 2, 3, 4, 5, 6] (batch 1, 6 steps, 1 channel). Output step t sees
// x[t-2] and x[t]:
//
//   filter 0: relu(0.5*x[t-2] + 1.0*x[t] + 0)   = 1, 2, 3.5, 5, 6.5, 8
//   filter 1: relu(-1*x[t-2] + 0.25*x[t] + 1)   = 1.25, 1.5, 0.75, 0, 0, 0
//
// Errors arrive as conv1d::Error exceptions carrying the status and the
// library's message; the layer is unchanged after one.
#include <cmath>
#include <conv1d/conv1d.hpp>
#include <cstdio>
#include <exception>
#include <vector>

namespace {

void print_output(const conv1d::OutputShape& shape, const std::vector<float>& y) {
  std::printf("output (%lld, %lld, %lld):", static_cast<long long>(shape.dims[0]),
              static_cast<long long>(shape.dims[1]), static_cast<long long>(shape.dims[2]));
  for (float v : y) std::printf(" %g", static_cast<double>(v));
  std::printf("\n");
}

int run() {
  std::printf("libconv1d %s\n", conv1d::version_string().c_str());

  conv1d::Layer layer(2, 2);  // filters=2, kernel_size=2
  layer.set_padding(conv1d::Padding::causal)
      .set_dilation_rate(2)
      .set_activation("relu")  // a Keras name, or conv1d::Activation::relu
      .set_name("wavenet_block")
      .set_data_format(conv1d::DataFormat::channels_last);  // not keras.json's choice: the arrays are (batch, steps, 1)

  // Keras layout (kernel_size, in_channels, filters); the kernel's length fixes in_channels = 1.
  const std::vector<float> kernel = {0.5f, -1.0f,   // tap 0: filters 0, 1
                                     1.0f, 0.25f};  // tap 1
  const std::vector<float> bias = {0.0f, 1.0f};
  layer.set_weights(kernel, bias);

  const std::vector<float> x = {1, 2, 3, 4, 5, 6};  // (batch, steps, channels) = (1, 6, 1)
  const conv1d::OutputShape shape = layer.output_shape(1, 6);
  const std::vector<float> y = layer.forward(x, 1, 6, 1);
  print_output(shape, y);

  const std::vector<float> expected = {1, 1.25f, 2, 1.5f, 3.5f, 0.75f, 5, 0, 6.5f, 0, 8, 0};
  if (y.size() != expected.size()) return 1;
  for (size_t i = 0; i < y.size(); ++i) {
    if (std::fabs(y[i] - expected[i]) > 1e-6f) {
      std::fprintf(stderr, "y[%zu] = %g, expected %g\n", i, static_cast<double>(y[i]),
                   static_cast<double>(expected[i]));
      return 1;
    }
  }
  std::printf("matches the values worked out by hand\n");
  std::printf("plan: %s\n", layer.describe_plan(1, 6).c_str());

  // Errors: Keras refuses strides > 1 together with dilation_rate > 1.
  try {
    layer.set_strides(2);
    std::fprintf(stderr, "strides=2 with dilation_rate=2 was accepted\n");
    return 1;
  } catch (const conv1d::Error& e) {
    std::printf("set strides=2: status %d (%s)\n", static_cast<int>(e.status()), e.what());
    if (e.status() != CONV1D_ERROR_STRIDES_WITH_DILATION) return 1;
  }
  std::printf("strides is still %lld\n", static_cast<long long>(layer.strides()));

  // An input with 3 channels does not fit a layer built for 1; a caller
  // buffer that is too short is refused before anything is written.
  try {
    const std::vector<float> x3(6 * 3, 0.0f);
    layer.forward(x3, 1, 6, 3);
    return 1;
  } catch (const conv1d::Error& e) {
    std::printf("forward with 3 channels: status %d (%s)\n", static_cast<int>(e.status()), e.what());
    if (e.status() != CONV1D_ERROR_CHANNELS_MISMATCH) return 1;
  }
  std::vector<float> too_short(shape.count - 1);
  try {
    layer.forward(x, 1, 6, 1, too_short);
    return 1;
  } catch (const conv1d::Error& e) {
    std::printf("forward into %zu floats: status %d (%s)\n", too_short.size(), static_cast<int>(e.status()), e.what());
    if (e.status() != CONV1D_ERROR_BUFFER_TOO_SMALL) return 1;
  }

  // The layer still runs, with the weights it had.
  return layer.forward(x, 1, 6, 1) == y ? 0 : 1;
}

}  // namespace

int main() {
  try {
    return run();
  } catch (const conv1d::Error& e) {  // anything unexpected from the library
    std::fprintf(stderr, "libconv1d error, status %d: %s\n", static_cast<int>(e.status()), e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
  }
  return 1;
}
