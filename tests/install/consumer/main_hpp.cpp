// Uses an installed libconv1d through the C++ wrapper <conv1d/conv1d.hpp>,
// built both with pkg-config flags and with find_package(conv1d 1).
//
// Conv1D(filters=2, kernel_size=3, strides=2, padding="same") on one channel,
// x = [1, 2, 3, 4, 5]. 'same' with stride 2: 3 outputs and total padding
// (3-1)*2 + 3 - 5 = 2, split (1, 1), so output t reads [0 1 2 3 4 5 0][2t .. 2t+2]:
//   windows [0 1 2], [2 3 4], [4 5 0]
//   filter 0, taps {1, 0, -1}, bias 0.5:     -1.5, -1.5, 4.5
//   filter 1, taps {.5, .5, .5}, bias -1:     0.5,  3.5, 3.5
#include <cmath>
#include <conv1d/conv1d.hpp>
#include <cstdio>
#include <exception>
#include <string>
#include <utility>
#include <vector>

int main() {
  try {
    if (conv1d::version_number() != CONV1D_VERSION_NUMBER) {
      std::fprintf(stderr, "FAIL: header %d, library %u\n", CONV1D_VERSION_NUMBER, conv1d::version_number());
      return 1;
    }
    conv1d::Layer made(2, 3);
    made.set_strides(2).set_padding("same").set_data_format(conv1d::DataFormat::channels_last);
    // kernel (kernel_size=3, in_channels=1, filters=2): tap-major, filters innermost.
    made.set_weights({1.0f, 0.5f, 0.0f, 0.5f, -1.0f, 0.5f}, {0.5f, -1.0f});
    conv1d::Layer layer = std::move(made);  // the handle moves; `made` is empty now

    const std::vector<float> x = {1, 2, 3, 4, 5};
    const conv1d::OutputShape shape = layer.output_shape(1, 5);
    const std::vector<float> y = layer.forward(x, 1, 5, 1);
    const std::vector<float> expected = {-1.5f, 0.5f, -1.5f, 3.5f, 4.5f, 3.5f};
    if (shape.dims[0] != 1 || shape.dims[1] != 3 || shape.dims[2] != 2 || y.size() != expected.size()) {
      std::fprintf(stderr, "FAIL: output shape (%lld, %lld, %lld)\n", static_cast<long long>(shape.dims[0]),
                   static_cast<long long>(shape.dims[1]), static_cast<long long>(shape.dims[2]));
      return 1;
    }
    for (size_t i = 0; i < y.size(); ++i) {
      if (std::fabs(y[i] - expected[i]) > 1e-6f) {
        std::fprintf(stderr, "FAIL: y[%zu] = %g, expected %g\n", i, static_cast<double>(y[i]),
                     static_cast<double>(expected[i]));
        return 1;
      }
    }

    // Errors arrive as conv1d::Error with the status and the library's message.
    try {
      layer.set_padding("full");
      std::fprintf(stderr, "FAIL: padding='full' was accepted\n");
      return 1;
    } catch (const conv1d::Error& e) {
      if (e.status() != CONV1D_ERROR_UNKNOWN_NAME || std::string(e.message()).find("full") == std::string::npos) {
        std::fprintf(stderr, "FAIL: unexpected error %d: %s\n", static_cast<int>(e.status()), e.what());
        return 1;
      }
    }
    if (made) {
      std::fprintf(stderr, "FAIL: a moved-from layer still holds a handle\n");
      return 1;
    }
    std::printf("C++ wrapper consumer: same-padded strided values as computed by hand, libconv1d %s\n",
                conv1d::version_string().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "FAIL: %s\n", e.what());
    return 1;
  }
}
