// Worked values from the spec (keras-conv1d.md sections 2-6), computed by
// hand, checked through the public API.
#include <conv1d/conv1d.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "api_layer.hpp"

namespace {

using test_util::Layer;

std::vector<float> run(conv1d_layer* l, const std::vector<float>& x, int64_t n, int64_t steps, int64_t c) {
  int64_t shape[3];
  size_t count = 0;
  REQUIRE(conv1d_output_shape(l, n, steps, shape, &count) == CONV1D_OK);
  std::vector<float> y(count);
  REQUIRE(conv1d_forward(l, x.data(), x.size(), n, steps, c, y.data(), y.size()) == CONV1D_OK);
  return y;
}

}  // namespace

TEST_CASE("Keras docs example: (4,10,128) through Conv1D(32, 3, relu) gives (4,8,32)", "[keras]") {
  Layer l(32, 3);
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_ACTIVATION, "relu") == CONV1D_OK);
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_SEED, 2024) == CONV1D_OK);
  REQUIRE(conv1d_build(l, 128) == CONV1D_OK);
  int64_t shape[3];
  size_t count;
  REQUIRE(conv1d_output_shape(l, 4, 10, shape, &count) == CONV1D_OK);
  CHECK(shape[0] == 4);
  CHECK(shape[1] == 8);
  CHECK(shape[2] == 32);
  size_t kl = 0, bl = 0;
  REQUIRE(conv1d_weight_sizes(l, &kl, &bl) == CONV1D_OK);
  CHECK(kl == 12288);
  CHECK(kl + bl == 12320);
  std::vector<float> k(kl), b(bl);
  REQUIRE(conv1d_get_weights(l, k.data(), kl, b.data(), bl) == CONV1D_OK);
  // glorot_uniform: limit sqrt(6 / (384 + 96)) = 0.1118034; the bias is zeros.
  float maxabs = 0;
  for (float v : k) maxabs = std::max(maxabs, std::fabs(v));
  CHECK(maxabs <= 0.1118034f);
  CHECK(maxabs > 0.11f);
  for (float v : b) CHECK(v == 0.0f);
  std::vector<float> x(4 * 10 * 128);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f;
  const auto y = run(l, x, 4, 10, 128);
  REQUIRE(y.size() == 4 * 8 * 32);
  size_t positive = 0;
  for (float v : y) {
    CHECK(v >= 0.0f);
    positive += v > 0;
  }
  CHECK(positive > y.size() / 4);  // relu clips, it does not zero everything
}

TEST_CASE("padding amounts and output lengths (spec section 2)", "[keras]") {
  struct Case {
    const char* padding;
    int64_t k, s, d, L, out, left, right;
  } cases[] = {
      {"same", 2, 1, 1, 10, 10, 0, 1},   {"same", 4, 1, 1, 10, 10, 1, 2},  {"same", 3, 1, 2, 10, 10, 2, 2},
      {"same", 3, 2, 1, 10, 5, 0, 1},    {"same", 1, 1, 1, 7, 7, 0, 0},    {"same", 5, 3, 1, 10, 4, 2, 2},
      {"valid", 3, 1, 1, 10, 8, 0, 0},   {"valid", 3, 2, 1, 10, 4, 0, 0},  {"valid", 3, 1, 4, 10, 2, 0, 0},
      {"causal", 3, 1, 2, 10, 10, 4, 0}, {"causal", 2, 3, 1, 10, 4, 1, 0}, {"CAUSAL", 5, 1, 1, 3, 3, 4, 0},
      {"Same", 9, 1, 1, 4, 4, 4, 4},
  };
  for (const auto& c : cases) {
    INFO(c.padding << " k=" << c.k << " s=" << c.s << " d=" << c.d << " L=" << c.L);
    Layer l(1, c.k);
    REQUIRE(conv1d_set_string(l, CONV1D_PARAM_PADDING, c.padding) == CONV1D_OK);
    REQUIRE(conv1d_set_int(l, CONV1D_PARAM_STRIDES, c.s) == CONV1D_OK);
    REQUIRE(conv1d_set_int(l, CONV1D_PARAM_DILATION_RATE, c.d) == CONV1D_OK);
    int64_t out = 0, left = -1, right = -1;
    REQUIRE(conv1d_output_steps(l, c.L, &out) == CONV1D_OK);
    REQUIRE(conv1d_padding_amounts(l, c.L, &left, &right) == CONV1D_OK);
    CHECK(out == c.out);
    CHECK(left == c.left);
    CHECK(right == c.right);
  }
}

TEST_CASE("hand-computed outputs for x = [1,2,3,4], w = [1,0,-1]", "[keras]") {
  const std::vector<float> x = {1, 2, 3, 4}, w = {1, 0, -1};
  const float bias = 0.5f;
  struct Case {
    const char* padding;
    std::vector<float> want;
  } cases[] = {
      {"valid", {-2, -2}},
      {"same", {-2, -2, -2, 3}},
      {"causal", {-1, -2, -2, -2}},
  };
  for (const auto& c : cases) {
    INFO(c.padding);
    Layer l(1, 3);
    REQUIRE(conv1d_set_string(l, CONV1D_PARAM_PADDING, c.padding) == CONV1D_OK);
    REQUIRE(conv1d_set_weights(l, w.data(), 3, &bias, 1) == CONV1D_OK);
    const auto y = run(l, x, 1, 4, 1);
    REQUIRE(y.size() == c.want.size());
    for (size_t i = 0; i < y.size(); ++i) CHECK(y[i] == c.want[i] + bias);
  }
}

TEST_CASE("causal output t depends only on inputs up to t*s", "[keras]") {
  for (int64_t s : {1, 2}) {
    Layer l(2, 3);
    REQUIRE(conv1d_set_string(l, CONV1D_PARAM_PADDING, "causal") == CONV1D_OK);
    REQUIRE(conv1d_set_int(l, CONV1D_PARAM_STRIDES, s) == CONV1D_OK);
    REQUIRE(conv1d_set_int(l, CONV1D_PARAM_SEED, 5) == CONV1D_OK);
    REQUIRE(conv1d_build(l, 1) == CONV1D_OK);
    std::vector<float> x(12, 1.0f);
    const auto base = run(l, x, 1, 12, 1);
    for (int64_t i = 0; i < 12; ++i) {
      auto xi = x;
      xi[i] = 5.0f;
      const auto y = run(l, xi, 1, 12, 1);
      for (int64_t t = 0; t < static_cast<int64_t>(base.size()) / 2; ++t)
        for (int f = 0; f < 2; ++f) {
          INFO("s=" << s << " perturbed x[" << i << "], output t=" << t);
          if (t * s < i) CHECK(y[t * 2 + f] == base[t * 2 + f]);
        }
    }
  }
}

TEST_CASE("channels_first uses the same kernel and broadcasts the bias over time", "[keras]") {
  // x (1, 2, 3) channels_first; kernel (1, 2, 2) picks channels; bias (10, 20).
  const std::vector<float> x = {1, 2, 3, 4, 5, 6}, w = {1, 0, 0, 1}, b = {10, 20};
  Layer l(2, 1);
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_DATA_FORMAT, "Channels_First") == CONV1D_OK);
  REQUIRE(conv1d_set_weights(l, w.data(), 4, b.data(), 2) == CONV1D_OK);
  const auto y = run(l, x, 1, 3, 2);
  CHECK(y == std::vector<float>({11, 12, 13, 24, 25, 26}));
}

TEST_CASE("groups map contiguous channel blocks to filter blocks", "[keras]") {
  // 4 channels, 2 groups, 2 filters, k=1: filter 0 sees channels 0-1, filter 1 channels 2-3.
  const std::vector<float> x = {1, 10, 100, 1000}, w = {1, 2, 3, 4}, b = {0, 0};
  Layer l(2, 1);
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_GROUPS, 2) == CONV1D_OK);
  REQUIRE(conv1d_set_weights(l, w.data(), 4, b.data(), 2) == CONV1D_OK);
  // kernel (1, 2, 2): w[0,c,f] = w[c*2+f]; f0: 1*x0 + 3*x1, f1: 2*x2 + 4*x3.
  const auto y = run(l, x, 1, 1, 4);
  CHECK(y == std::vector<float>({31, 4200}));
}

TEST_CASE("activation defaults as in Keras 3", "[keras]") {
  const std::vector<float> x = {-1.0f, 0.0f, 3.0f};
  const float w = 1.0f, b = 0.0f;
  struct Case {
    const char* name;
    std::vector<float> want;
  } cases[] = {
      {"leaky_relu", {-0.2f, 0.0f, 3.0f}},
      {"hard_sigmoid", {1.0f / 3.0f, 0.5f, 1.0f}},
      {"relu6", {0.0f, 0.0f, 3.0f}},
      {"hard_silu", {-1.0f / 3.0f, 0.0f, 3.0f}},
      {"selu",
       {static_cast<float>(1.0507009873554805 * 1.6732632423543772 * std::expm1(-1.0)), 0.0f,
        static_cast<float>(1.0507009873554805 * 3.0)}},
      {"gelu", {static_cast<float>(-0.15865525393145707), 0.0f, static_cast<float>(2.99595030590511)}},
      {"softmax", {1.0f, 1.0f, 1.0f}},  // over the single filter
  };
  for (const auto& c : cases) {
    INFO(c.name);
    Layer l(1, 1);
    REQUIRE(conv1d_set_string(l, CONV1D_PARAM_ACTIVATION, c.name) == CONV1D_OK);
    REQUIRE(conv1d_set_weights(l, &w, 1, &b, 1) == CONV1D_OK);
    const auto y = run(l, x, 1, 3, 1);
    for (size_t i = 0; i < 3; ++i) CHECK(y[i] == Approx(c.want[i]).margin(1e-6));
  }
}

TEST_CASE("data_format defaults to keras.json's image_data_format", "[keras]") {
  // Per process: CTest may run this executable several times at once.
  const std::string dir = "keras_home_test_" + std::to_string(getpid());
  std::string cmd = "mkdir -p " + dir;
  REQUIRE(std::system(cmd.c_str()) == 0);
  const char* old = std::getenv("KERAS_HOME");
  const std::string saved = old ? old : "";
  setenv("KERAS_HOME", dir.c_str(), 1);
  auto format_of_new_layer = [] {
    Layer l(1, 1);
    int64_t v = -1;
    REQUIRE(conv1d_get_int(l, CONV1D_PARAM_DATA_FORMAT, &v) == CONV1D_OK);
    return v;
  };
  std::ofstream(dir + "/keras.json") << R"({"floatx": "float32", "image_data_format": "channels_first"})";
  CHECK(format_of_new_layer() == CONV1D_CHANNELS_FIRST);
  std::ofstream(dir + "/keras.json") << R"({"floatx": "float32"})";
  CHECK(format_of_new_layer() == CONV1D_CHANNELS_LAST);
  std::ofstream(dir + "/keras.json") << "not json";
  CHECK(format_of_new_layer() == CONV1D_CHANNELS_LAST);
  std::ofstream(dir + "/keras.json") << R"({"image_data_format": "channels_middle"})";
  conv1d_layer* l = nullptr;
  CHECK(conv1d_create(1, 1, &l) == CONV1D_ERROR_INVALID_VALUE);
  CHECK(std::string(conv1d_last_error_message()).find("channels_middle") != std::string::npos);
  CHECK(l == nullptr);
  std::remove((dir + "/keras.json").c_str());
  CHECK(format_of_new_layer() == CONV1D_CHANNELS_LAST);
  rmdir(dir.c_str());
  if (old)
    setenv("KERAS_HOME", saved.c_str(), 1);
  else
    unsetenv("KERAS_HOME");
}

TEST_CASE("seeded builds are reproducible, unseeded ones differ", "[keras]") {
  auto weights = [](int64_t seed) {
    Layer l(8, 3);
    REQUIRE(conv1d_set_int(l, CONV1D_PARAM_SEED, seed) == CONV1D_OK);
    REQUIRE(conv1d_set_string(l, CONV1D_PARAM_BIAS_INITIALIZER, "random_normal") == CONV1D_OK);
    REQUIRE(conv1d_build(l, 4) == CONV1D_OK);
    std::vector<float> k(96), b(8);
    REQUIRE(conv1d_get_weights(l, k.data(), 96, b.data(), 8) == CONV1D_OK);
    k.insert(k.end(), b.begin(), b.end());
    return k;
  };
  CHECK(weights(11) == weights(11));
  CHECK(weights(11) != weights(12));
  CHECK(weights(-1) != weights(-1));
}

TEST_CASE("bias_initializer=None gives a glorot_uniform bias, as Keras' add_weight does", "[keras]") {
  Layer l(64, 3);
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_BIAS_INITIALIZER, "null") == CONV1D_OK);
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_SEED, 4) == CONV1D_OK);
  REQUIRE(conv1d_build(l, 2) == CONV1D_OK);
  std::vector<float> k(3 * 2 * 64), b(64);
  REQUIRE(conv1d_get_weights(l, k.data(), k.size(), b.data(), b.size()) == CONV1D_OK);
  const float limit = std::sqrt(3.0f / 64.0f);  // fan_in = fan_out = 64 for a rank-1 weight
  float maxabs = 0;
  for (float v : b) maxabs = std::max(maxabs, std::fabs(v));
  CHECK(maxabs <= limit);
  CHECK(maxabs > 0.5f * limit);
}
