// Uses an installed libconv1d found with find_package(conv1d 1).
// Conv1D(filters=1, kernel_size=2, activation="relu") on one channel with
// kernel {1, -1} and bias 0.5: y[t] = relu(x[t] - x[t+1] + 0.5).
//   x = {3, 1, 4, 1, 5}  ->  {relu(2.5), relu(-2.5), relu(3.5), relu(-3.5)} = {2.5, 0, 3.5, 0}
#include <conv1d/conv1d.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

namespace {

struct LayerDeleter {
  void operator()(conv1d_layer* layer) const { conv1d_destroy(layer); }
};
using Layer = std::unique_ptr<conv1d_layer, LayerDeleter>;

bool ok(conv1d_status status, const char* what) {
  if (status == CONV1D_OK) return true;
  std::fprintf(stderr, "%s failed: %s: %s\n", what, conv1d_status_string(status), conv1d_last_error_message());
  return false;
}

}  // namespace

int main() {
  if (conv1d_version_number() != CONV1D_VERSION_NUMBER) {
    std::fprintf(stderr, "FAIL: header %d, library %u\n", CONV1D_VERSION_NUMBER, conv1d_version_number());
    return 1;
  }

  conv1d_layer* raw = nullptr;
  if (!ok(conv1d_create(1, 2, &raw), "conv1d_create")) return 1;
  Layer layer(raw);

  const float kernel[2] = {1.0f, -1.0f};
  const float bias[1] = {0.5f};
  if (!ok(conv1d_set_string(layer.get(), CONV1D_PARAM_ACTIVATION, "relu"), "set activation")) return 1;
  if (!ok(conv1d_set_weights(layer.get(), kernel, 2, bias, 1), "conv1d_set_weights")) return 1;

  const std::vector<float> x = {3, 1, 4, 1, 5};
  int64_t shape[3] = {0, 0, 0};
  size_t count = 0;
  if (!ok(conv1d_output_shape(layer.get(), 1, 5, shape, &count), "conv1d_output_shape")) return 1;
  if (shape[0] != 1 || shape[1] != 4 || shape[2] != 1 || count != 4) {
    std::fprintf(stderr, "FAIL: output shape (%lld, %lld, %lld), count %zu\n", static_cast<long long>(shape[0]),
                 static_cast<long long>(shape[1]), static_cast<long long>(shape[2]), count);
    return 1;
  }
  std::vector<float> y(count, -1.0f);
  if (!ok(conv1d_forward(layer.get(), x.data(), x.size(), 1, 5, 1, y.data(), y.size()), "conv1d_forward")) return 1;

  const float expected[4] = {2.5f, 0.0f, 3.5f, 0.0f};
  for (size_t i = 0; i < 4; ++i) {
    if (std::fabs(y[i] - expected[i]) > 1e-6f) {
      std::fprintf(stderr, "FAIL: y[%zu] = %g, expected %g\n", i, y[i], expected[i]);
      return 1;
    }
  }

  // A bad argument is refused with a status and a message.
  conv1d_layer* bad = nullptr;
  if (conv1d_create(1, 0, &bad) == CONV1D_OK || bad != nullptr || std::strlen(conv1d_last_error_message()) == 0) {
    std::fprintf(stderr, "FAIL: conv1d_create(1, 0) was not refused properly\n");
    conv1d_destroy(bad);
    return 1;
  }

  std::printf("CMake consumer: relu(conv) values as computed by hand, libconv1d %s\n", conv1d_version_string());
  return 0;
}
