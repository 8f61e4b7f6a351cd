// The C++ wrapper (include/conv1d/conv1d.hpp) against the float64 model in
// naive_conv1d.hpp: typed accessors, forward, weights, errors and ownership;
// then training: gradients against central differences of the model,
// penalties and constraints worked out by hand, LoRA, and the Keras config.
// Like the API tests, it sees only the public headers and the shared library.
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <conv1d/conv1d.hpp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "keras_spec_config.hpp"
#include "naive_conv1d.hpp"

namespace {

std::vector<float> random_vec(std::mt19937& rng, size_t n) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& e : v) e = u(rng);
  return v;
}

// Every value within float32 rounding of the float64 model.
void check_close(const std::vector<float>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  size_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!(std::fabs(got[i] - want[i]) <= 2e-5 * (1.0 + std::fabs(want[i])))) {
      if (bad++ < 3) FAIL_CHECK("y[" << i << "] = " << got[i] << ", want " << want[i]);
    }
  }
  CHECK(bad == 0);
}

// Runs `call`, expects conv1d::Error with `status` and a message mentioning `mentions`.
template <class Call>
void expect_error(Call&& call, conv1d_status status, const std::string& mentions) {
  try {
    call();
    FAIL("no conv1d::Error was thrown; expected " << conv1d_status_string(status));
  } catch (const conv1d::Error& e) {
    CHECK(e.status() == status);
    const std::string message = e.message();
    CHECK_THAT(message, Catch::Contains(mentions));
    // what() is "<status string>: <message>".
    CHECK(std::string(e.what()) == std::string(conv1d_status_string(status)) + ": " + message);
  }
}

// Exactly what Keras' Conv1D computes for this configuration, per the model.
struct Case {
  naive::Conv conv;
  int64_t N, L, C;
};

conv1d::Layer configure(const naive::Conv& c) {
  conv1d::Layer layer(c.filters, c.kernel);
  layer.set_strides(c.stride)
      .set_dilation_rate(c.dilation)
      .set_groups(c.groups)
      .set_padding(c.padding)
      .set_data_format(c.channels_first ? conv1d::DataFormat::channels_first : conv1d::DataFormat::channels_last)
      .set_use_bias(c.use_bias)
      .set_activation(c.activation);
  return layer;
}

}  // namespace

static_assert(!std::is_copy_constructible_v<conv1d::Layer> && !std::is_copy_assignable_v<conv1d::Layer>,
              "Layer owns a handle and is move-only");
static_assert(std::is_nothrow_move_constructible_v<conv1d::Layer> && std::is_nothrow_move_assignable_v<conv1d::Layer>,
              "moving a Layer never throws");
static_assert(std::is_base_of_v<std::runtime_error, conv1d::Error>, "Error is a std::runtime_error");
static_assert(std::is_nothrow_copy_constructible_v<conv1d::Error>, "exceptions copy without throwing");

TEST_CASE("C++ wrapper: enums mirror the C values", "[cxx]") {
  CHECK(static_cast<int>(conv1d::Padding::causal) == CONV1D_PADDING_CAUSAL);
  CHECK(static_cast<int>(conv1d::DataFormat::channels_first) == CONV1D_CHANNELS_FIRST);
  CHECK(static_cast<int>(conv1d::Algorithm::gemm) == CONV1D_ALGORITHM_GEMM);
  CHECK(static_cast<int>(conv1d::Isa::avx512) == CONV1D_ISA_AVX512);
  // Every Activation enumerator's Keras name is the C library's name for that value.
  const std::pair<conv1d::Activation, const char*> names[] = {
      {conv1d::Activation::linear, "linear"},           {conv1d::Activation::relu, "relu"},
      {conv1d::Activation::leaky_relu, "leaky_relu"},   {conv1d::Activation::gelu, "gelu"},
      {conv1d::Activation::hard_silu, "hard_silu"},     {conv1d::Activation::threshold, "threshold"},
      {conv1d::Activation::log_sigmoid, "log_sigmoid"}, {conv1d::Activation::sparsemax, "sparsemax"},
  };
  for (const auto& [value, name] : names) CHECK(conv1d::activation_name(value) == name);
  for (int v = CONV1D_ACTIVATION_LINEAR; v <= CONV1D_ACTIVATION_SPARSEMAX; ++v)
    CHECK(conv1d::activation_name(static_cast<conv1d::Activation>(v)) ==
          conv1d_activation_name(static_cast<conv1d_activation>(v)));
  CHECK(conv1d::algorithm_name(conv1d::Algorithm::auto_) == "auto");
  CHECK(conv1d::algorithm_name(conv1d::Algorithm::direct) == "direct");
  expect_error([] { conv1d::activation_name(static_cast<conv1d::Activation>(99)); }, CONV1D_ERROR_INVALID_VALUE, "99");
}

TEST_CASE("C++ wrapper: library information", "[cxx]") {
  CHECK(conv1d::version_number() == CONV1D_VERSION_NUMBER);
  CHECK(conv1d::version_string() == std::to_string(CONV1D_VERSION_MAJOR) + "." + std::to_string(CONV1D_VERSION_MINOR) +
                                        "." + std::to_string(CONV1D_VERSION_PATCH));
  const conv1d::Isa isa = conv1d::cpu_isa();
  CHECK(static_cast<int>(isa) >= CONV1D_ISA_SCALAR);
  CHECK(static_cast<int>(isa) <= CONV1D_ISA_AVX512);
  CHECK(conv1d::status_string(CONV1D_ERROR_NOT_BUILT) == "layer has no weights");
  const conv1d::Bounds strides = conv1d::param_bounds(CONV1D_PARAM_STRIDES);
  CHECK(strides.lower == 1);
  CHECK(strides.upper == 2147483647);
  const conv1d::Bounds act = conv1d::param_bounds(CONV1D_PARAM_ACTIVATION);
  CHECK(act.lower == CONV1D_ACTIVATION_LINEAR);
  CHECK(act.upper == CONV1D_ACTIVATION_SPARSEMAX);
  expect_error([] { conv1d::param_bounds(CONV1D_PARAM_NAME); }, CONV1D_ERROR_WRONG_TYPE, "name");
  expect_error([] { conv1d::param_bounds(static_cast<conv1d_param>(99999)); }, CONV1D_ERROR_UNKNOWN_PARAMETER, "99999");
}

TEST_CASE("C++ wrapper: every typed accessor round-trips through the C API", "[cxx]") {
  conv1d::Layer layer(8, 3);
  // Keras defaults of Conv1D(8, 3).
  CHECK(layer.filters() == 8);
  CHECK(layer.kernel_size() == 3);
  CHECK(layer.strides() == 1);
  CHECK(layer.dilation_rate() == 1);
  CHECK(layer.groups() == 1);
  CHECK(layer.padding() == conv1d::Padding::valid);
  CHECK(layer.use_bias());
  CHECK(layer.in_channels() == 0);
  CHECK(layer.activation() == conv1d::Activation::linear);
  CHECK(layer.name() == "conv1d");
  CHECK_THAT(layer.kernel_initializer(), Catch::Contains("GlorotUniform"));
  CHECK_THAT(layer.bias_initializer(), Catch::Contains("Zeros"));

  layer.set_filters(6).set_kernel_size(5).set_groups(2).set_strides(2).set_padding(conv1d::Padding::same);
  CHECK(layer.filters() == 6);
  CHECK(layer.kernel_size() == 5);
  CHECK(layer.groups() == 2);
  CHECK(layer.strides() == 2);
  CHECK(layer.padding() == conv1d::Padding::same);
  CHECK(layer.get_int(CONV1D_PARAM_PADDING) == CONV1D_PADDING_SAME);

  layer.set_strides(1).set_dilation_rate(3).set_padding("CAUSAL");
  CHECK(layer.dilation_rate() == 3);
  CHECK(layer.padding() == conv1d::Padding::causal);
  CHECK(layer.get_string(CONV1D_PARAM_PADDING) == "causal");

  layer.set_data_format(conv1d::DataFormat::channels_first);
  CHECK(layer.data_format() == conv1d::DataFormat::channels_first);
  layer.set_data_format("Channels_Last");
  CHECK(layer.data_format() == conv1d::DataFormat::channels_last);

  layer.set_use_bias(false);
  CHECK_FALSE(layer.use_bias());
  CHECK(layer.get_int(CONV1D_PARAM_USE_BIAS) == 0);

  layer.set_activation(conv1d::Activation::gelu);
  CHECK(layer.activation() == conv1d::Activation::gelu);
  layer.set_activation("swish");  // a Keras alias
  CHECK(layer.activation() == conv1d::Activation::silu);
  CHECK(layer.get_string(CONV1D_PARAM_ACTIVATION) == "silu");

  layer.set_kernel_initializer("he_normal").set_bias_initializer("ones").set_seed(7);
  CHECK_THAT(layer.kernel_initializer(), Catch::Contains("HeNormal"));
  CHECK_THAT(layer.bias_initializer(), Catch::Contains("Ones"));
  CHECK(layer.seed() == 7);

  layer.set_algorithm(conv1d::Algorithm::gemm);
  CHECK(layer.algorithm() == conv1d::Algorithm::gemm);
  layer.set_algorithm("reference");
  CHECK(layer.algorithm() == conv1d::Algorithm::reference);
  layer.set_verbose(true);
  CHECK(layer.verbose());
  layer.set_verbose(false);
  CHECK_FALSE(layer.verbose());
  layer.set_num_threads(1);
  CHECK(layer.num_threads() == 1);
  layer.set_max_isa(conv1d::Isa::scalar);
  CHECK(layer.max_isa() == conv1d::Isa::scalar);
  layer.set_max_isa("avx2");
  CHECK(layer.max_isa() == conv1d::Isa::avx2);
  CHECK(layer.get_string(CONV1D_PARAM_MAX_ISA) == "avx2");
  layer.set_find(true);
  CHECK(layer.find());

  layer.set_name("encoder_conv");
  CHECK(layer.name() == "encoder_conv");
  // Strings longer than the wrapper's first buffer (128 bytes) come back whole.
  const std::string long_name(1000, 'n');
  layer.set_name(long_name);
  CHECK(layer.name() == long_name);
  const std::string scaling =
      R"({"class_name": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_out", "distribution": "uniform", "seed": 3}})";
  layer.set_kernel_initializer(scaling);
  const std::string json = layer.kernel_initializer();
  CHECK(json.size() > 128);
  CHECK_THAT(json, Catch::Contains("fan_out") && Catch::Contains("VarianceScaling"));
  CHECK(json.find('\0') == std::string::npos);
}

TEST_CASE("C++ wrapper: forward matches the float64 model", "[cxx][forward]") {
  std::mt19937 rng(2024);
  std::vector<Case> cases;
  auto add = [&](const char* padding, int64_t k, int64_t s, int64_t d, int64_t groups, bool first, bool bias,
                 const char* act, int64_t F, int64_t N, int64_t L, int64_t C) {
    Case c;
    c.conv.filters = F;
    c.conv.kernel = k;
    c.conv.stride = s;
    c.conv.dilation = d;
    c.conv.groups = groups;
    c.conv.padding = padding;
    c.conv.channels_first = first;
    c.conv.use_bias = bias;
    c.conv.activation = act;
    c.N = N, c.L = L, c.C = C;
    cases.push_back(c);
  };
  add("valid", 3, 1, 1, 1, false, true, "relu", 5, 2, 9, 4);
  add("same", 4, 2, 1, 1, false, true, "tanh", 3, 1, 11, 3);
  add("causal", 3, 1, 2, 1, true, false, "linear", 4, 2, 8, 2);
  add("same", 5, 1, 1, 2, true, true, "sigmoid", 6, 3, 7, 4);
  add("causal", 2, 3, 1, 3, false, true, "gelu", 6, 1, 13, 6);  // depthwise-like, multiplier 2
  add("valid", 1, 1, 1, 1, false, false, "softmax", 4, 2, 5, 3);
  add("same", 3, 1, 1, 1, true, true, "glu", 2, 2, 6, 3);  // glu halves the time axis (6 -> 3)

  for (const Case& c : cases) {
    INFO("padding=" << c.conv.padding << " k=" << c.conv.kernel << " s=" << c.conv.stride << " d=" << c.conv.dilation
                    << " groups=" << c.conv.groups << " channels_first=" << c.conv.channels_first
                    << " act=" << c.conv.activation);
    const auto x = random_vec(rng, static_cast<size_t>(c.N * c.L * c.C));
    const auto w = random_vec(rng, static_cast<size_t>(c.conv.kernel * (c.C / c.conv.groups) * c.conv.filters));
    const auto b = c.conv.use_bias ? random_vec(rng, static_cast<size_t>(c.conv.filters)) : std::vector<float>{};
    int64_t want_shape[3];
    const auto want = naive::forward(c.conv, x, c.N, c.L, c.C, w, b, want_shape);

    for (conv1d::Algorithm algo :
         {conv1d::Algorithm::auto_, conv1d::Algorithm::reference, conv1d::Algorithm::direct, conv1d::Algorithm::gemm}) {
      INFO("algorithm=" << conv1d::algorithm_name(algo));
      conv1d::Layer layer = configure(c.conv);
      layer.set_algorithm(algo).set_weights(w, b);
      CHECK(layer.in_channels() == c.C);

      const conv1d::OutputShape shape = layer.output_shape(c.N, c.L);
      CHECK(shape.dims[0] == want_shape[0]);
      CHECK(shape.dims[1] == want_shape[1]);
      CHECK(shape.dims[2] == want_shape[2]);
      CHECK(shape.count == want.size());
      CHECK(layer.output_steps(c.L) == naive::out_steps(c.conv, c.L));
      CHECK(layer.padding_amounts(c.L).left == naive::pad_left(c.conv, c.L));

      // The vector-returning overload.
      check_close(layer.forward(x, c.N, c.L, c.C), want);

      // The caller-buffer overload writes exactly count floats.
      std::vector<float> y(shape.count + 1, -777.0f);
      layer.forward({x.data(), x.size()}, c.N, c.L, c.C, {y.data(), shape.count});
      CHECK(y.back() == -777.0f);
      y.pop_back();
      check_close(y, want);

      if (algo != conv1d::Algorithm::auto_) CHECK(layer.query_algorithm(c.N, c.L) == algo);
      const std::string plan = layer.describe_plan(c.N, c.L);
      CHECK_THAT(plan, Catch::Contains("conv1d: layer 'conv1d'"));
      CHECK_THAT(plan, Catch::Contains(conv1d::algorithm_name(layer.query_algorithm(c.N, c.L))));
    }
  }
}

TEST_CASE("C++ wrapper: hand-computed values through every weights overload", "[cxx][weights]") {
  // Conv1D(2, 2) on one channel, x = [1, 2, 3]; kernel[j][0][f]: j=0 -> {1, -1}, j=1 -> {0.5, 2}; bias {0.25, -0.5}
  //   y[0] = {1 + 1 + 0.25, -1 + 4 - 0.5} = {2.25, 2.5};  y[1] = {2 + 1.5 + 0.25, -2 + 6 - 0.5} = {3.75, 3.5}
  const std::vector<float> expected = {2.25f, 2.5f, 3.75f, 3.5f};
  const float x[3] = {1.0f, 2.0f, 3.0f};

  SECTION("braced lists") {
    conv1d::Layer layer(2, 2);
    layer.set_weights({1.0f, -1.0f, 0.5f, 2.0f}, {0.25f, -0.5f});
    CHECK(layer.forward(x, 1, 3, 1) == expected);
  }
  SECTION("pointers and lengths") {
    const float kernel[4] = {1.0f, -1.0f, 0.5f, 2.0f};
    const float bias[2] = {0.25f, -0.5f};
    conv1d::Layer layer(2, 2);
    layer.set_weights(kernel, 4, bias, 2);
    float y[4] = {0, 0, 0, 0};
    layer.forward({x, 3}, 1, 3, 1, {y, 4});
    CHECK(std::vector<float>(y, y + 4) == expected);
  }
  SECTION("std::array and a Weights value") {
    const std::array<float, 4> kernel = {1.0f, -1.0f, 0.5f, 2.0f};
    const std::array<float, 2> bias = {0.25f, -0.5f};
    conv1d::Layer layer(2, 2);
    layer.set_weights(kernel, bias);
    conv1d::Layer copy(2, 2);
    copy.set_weights(layer.weights());
    std::array<float, 4> y{};
    copy.forward(x, 1, 3, 1, y);
    CHECK(std::vector<float>(y.begin(), y.end()) == expected);
  }
  SECTION("use_bias=false takes no bias") {
    conv1d::Layer layer(2, 2);
    layer.set_use_bias(false).set_weights({1.0f, -1.0f, 0.5f, 2.0f});
    CHECK(layer.weight_sizes().bias == 0);
    CHECK(layer.weights().bias.empty());
    CHECK(layer.forward(x, 1, 3, 1) == std::vector<float>{2.0f, 3.0f, 3.5f, 4.0f});
  }
}

TEST_CASE("C++ wrapper: weights round trip", "[cxx][weights]") {
  std::mt19937 rng(7);
  conv1d::Layer layer(6, 4);
  layer.set_groups(3);
  const auto kernel = random_vec(rng, 4 * 2 * 6);  // (k=4, C/G=2, F=6) for 6 input channels
  const auto bias = random_vec(rng, 6);
  layer.set_weights(kernel, bias);
  CHECK(layer.in_channels() == 6);
  const conv1d::WeightSizes sizes = layer.weight_sizes();
  CHECK(sizes.kernel == kernel.size());
  CHECK(sizes.bias == bias.size());

  const conv1d::Weights w = layer.weights();
  CHECK(w.kernel == kernel);  // bit-exact: the data are copied, not converted
  CHECK(w.bias == bias);

  std::vector<float> k2(sizes.kernel), b2(sizes.bias);
  layer.get_weights(k2, b2);
  CHECK(k2 == kernel);
  CHECK(b2 == bias);
  std::vector<float> k3(sizes.kernel);
  layer.get_weights(k3);  // the bias may be skipped
  CHECK(k3 == kernel);

  // build() makes new weights from the initializers: seeded ones, within glorot's limit.
  conv1d::Layer built(6, 4);
  built.set_groups(3).set_seed(11).build(6);
  const conv1d::Weights init = built.weights();
  const double limit = std::sqrt(6.0 / (4 * 2 + 4 * 6));  // fan_in = k*C/G, fan_out = k*F
  for (float v : init.kernel) CHECK(std::fabs(v) <= limit);
  for (float v : init.bias) CHECK(v == 0.0f);
  conv1d::Layer again(6, 4);
  again.set_groups(3).set_seed(11).build(6);
  CHECK(again.weights().kernel == init.kernel);  // same seed, same weights
}

TEST_CASE("C++ wrapper: errors throw conv1d::Error with the status and the library's message", "[cxx][errors]") {
  expect_error([] { conv1d::Layer bad(4, 0); }, CONV1D_ERROR_INVALID_SIZE, "kernel_size");

  conv1d::Layer layer(4, 3);
  expect_error([&] { layer.set_strides(0); }, CONV1D_ERROR_INVALID_SIZE, "strides");
  expect_error([&] { layer.set_padding("full"); }, CONV1D_ERROR_UNKNOWN_NAME, "full");
  expect_error([&] { layer.set_activation("Relu"); }, CONV1D_ERROR_UNKNOWN_NAME, "Relu");
  expect_error([&] { layer.set_activation(conv1d::Activation::threshold); }, CONV1D_ERROR_UNSUPPORTED, "threshold");
  expect_error([&] { layer.set_groups(3); }, CONV1D_ERROR_GROUPS_MISMATCH, "groups=3");
  expect_error([&] { layer.set_double(CONV1D_PARAM_STRIDES, 1.5); }, CONV1D_ERROR_WRONG_TYPE, "strides");
  expect_error([&] { layer.set_int(static_cast<conv1d_param>(12345), 1); }, CONV1D_ERROR_UNKNOWN_PARAMETER, "12345");
  expect_error([&] { layer.set_name("a/b"); }, CONV1D_ERROR_INVALID_VALUE, "a/b");
  expect_error([&] { layer.set_name(std::string("ab\0cd", 5)); }, CONV1D_ERROR_INVALID_VALUE, "NUL");
  CHECK(layer.name() == "conv1d");  // nothing above changed the layer
  layer.set_dilation_rate(2);
  expect_error([&] { layer.set_strides(2); }, CONV1D_ERROR_STRIDES_WITH_DILATION, "dilation_rate=(2,)");
  CHECK(layer.strides() == 1);

  const std::vector<float> x(2 * 5 * 3, 1.0f);
  expect_error([&] { layer.forward(x, 2, 5, 3); }, CONV1D_ERROR_NOT_BUILT, "conv1d_build");
  expect_error([&] { layer.weights(); }, CONV1D_ERROR_NOT_BUILT, "conv1d_build");
  expect_error([&] { layer.set_weights(std::vector<float>(10), std::vector<float>(4)); }, CONV1D_ERROR_LENGTH_MISMATCH,
               "10");

  layer.set_dilation_rate(1).set_seed(3).build(3);
  const conv1d::Weights before = layer.weights();
  const auto good = layer.forward(x, 2, 5, 3);
  expect_error([&] { layer.forward(x, 2, 5, 4); }, CONV1D_ERROR_CHANNELS_MISMATCH, "4");
  expect_error([&] { layer.forward(x, 2, 1, 3); }, CONV1D_ERROR_EMPTY_OUTPUT, "steps=1");
  expect_error([&] { layer.set_filters(8); }, CONV1D_ERROR_INVALID_STATE, "filters");
  expect_error([&] { layer.set_weights(std::vector<float>(3 * 3 * 4), std::vector<float>(3)); },
               CONV1D_ERROR_LENGTH_MISMATCH, "bias");
  std::vector<float> small(good.size() - 1, -1.0f);
  expect_error([&] { layer.forward(x, 2, 5, 3, small); }, CONV1D_ERROR_BUFFER_TOO_SMALL, std::to_string(good.size()));
  for (float v : small) CHECK(v == -1.0f);  // a failed forward writes nothing

  // After all of these the layer is as it was and still runs.
  CHECK(layer.weights().kernel == before.kernel);
  CHECK(layer.forward(x, 2, 5, 3) == good);

  // Caught as the standard base class too.
  try {
    layer.set_kernel_size(0);
    FAIL("no exception");
  } catch (const std::runtime_error& e) {
    CHECK_THAT(e.what(), Catch::StartsWith("size must be positive: "));
  }
}

TEST_CASE("C++ wrapper: move semantics and handle ownership", "[cxx][move]") {
  const float x[3] = {1.0f, 2.0f, 3.0f};
  conv1d::Layer a(1, 2);
  a.set_weights({1.0f, 1.0f}, {0.0f});  // y[t] = x[t] + x[t+1]
  conv1d_layer* const handle = a.get();
  REQUIRE(handle != nullptr);
  CHECK(static_cast<bool>(a));

  conv1d::Layer b(std::move(a));
  CHECK(b.get() == handle);
  CHECK(a.get() == nullptr);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  CHECK_FALSE(static_cast<bool>(a));
  CHECK(b.forward(x, 1, 3, 1) == std::vector<float>{3.0f, 5.0f});
  // A moved-from layer refuses calls through the C API's NULL check.
  expect_error([&] { a.filters(); }, CONV1D_ERROR_NULL_POINTER, "layer");
  expect_error([&] { a.forward(x, 1, 3, 1); }, CONV1D_ERROR_NULL_POINTER, "layer");

  conv1d::Layer c(1, 2);
  c.set_weights({2.0f, 0.0f}, {1.0f});  // y[t] = 2 x[t] + 1
  c = std::move(b);                     // c's old handle is destroyed (ASan/LSan check this)
  CHECK(c.get() == handle);
  CHECK(b.get() == nullptr);  // NOLINT(bugprone-use-after-move)
  CHECK(c.forward(x, 1, 3, 1) == std::vector<float>{3.0f, 5.0f});

  conv1d::Layer& self = c;
  c = std::move(self);  // self-move keeps the handle
  CHECK(c.get() == handle);

  conv1d::Layer d(1, 2);
  d.set_weights({2.0f, 0.0f}, {1.0f});
  swap(c, d);
  CHECK(d.get() == handle);
  CHECK(c.forward(x, 1, 3, 1) == std::vector<float>{3.0f, 5.0f});

  // release() hands the handle to C code; the adopting constructor takes it back.
  conv1d_layer* raw = d.release();
  CHECK(d.get() == nullptr);
  int64_t filters = 0;
  REQUIRE(conv1d_get_int(raw, CONV1D_PARAM_FILTERS, &filters) == CONV1D_OK);
  CHECK(filters == 1);
  conv1d::Layer adopted(raw);
  CHECK(adopted.forward(x, 1, 3, 1) == std::vector<float>{3.0f, 5.0f});

  // Layers live in containers that move them around.
  std::vector<conv1d::Layer> stack;
  for (int64_t f = 1; f <= 8; ++f) stack.emplace_back(f, 1);
  for (size_t i = 0; i < stack.size(); ++i) CHECK(stack[i].filters() == static_cast<int64_t>(i + 1));

  conv1d::Layer empty;
  CHECK_FALSE(static_cast<bool>(empty));
  expect_error([&] { empty.build(3); }, CONV1D_ERROR_NULL_POINTER, "layer");
}

TEST_CASE("C++ wrapper: const forward from several threads on one layer", "[cxx][threads]") {
  std::mt19937 rng(99);
  naive::Conv conv;
  conv.filters = 16;
  conv.kernel = 3;
  conv.padding = "same";
  conv.activation = "relu";
  const int64_t N = 2, L = 40, C = 8;
  const auto x = random_vec(rng, N * L * C);
  const auto w = random_vec(rng, 3 * C * 16);
  const auto b = random_vec(rng, 16);
  int64_t shape[3];
  const auto want = naive::forward(conv, x, N, L, C, w, b, shape);

  conv1d::Layer layer = configure(conv);
  layer.set_weights(w, b);
  const conv1d::Layer& shared = layer;
  std::vector<std::vector<float>> results(4);
  std::vector<std::thread> threads;
  for (auto& r : results) threads.emplace_back([&shared, &x, &r] { r = shared.forward(x, N, L, C); });
  for (auto& t : threads) t.join();
  for (const auto& r : results) check_close(r, want);
}

// ---- Training (the 1.1 API) ------------------------------------------------

namespace {

// The Keras penalties a gradient test adds to its loss, written out in float64.
struct Penalties {
  double kernel_l2 = 0.0;    // L2: l2 * sum(w^2), no 1/2
  double bias_l1 = 0.0;      // L1: l1 * sum(|b|)
  double activity_l2 = 0.0;  // on the output after the activation, divided by the batch size
};

std::vector<double> to_double(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

// The loss the gradient tests differentiate: sum(r * y) plus the penalties,
// with y from the float64 model. Its gradient with respect to y is r (plus
// the activity term), so r is the dy backward receives.
double loss64(const naive::Conv& c, const std::vector<double>& x, int64_t N, int64_t L, int64_t C,
              const std::vector<double>& w, const std::vector<double>& b, const std::vector<double>& r,
              const Penalties& p) {
  int64_t shape[3];
  const std::vector<double> y = naive::forward(c, x, N, L, C, w, b, shape);
  double s = 0.0;
  for (size_t i = 0; i < y.size(); ++i) s += r[i] * y[i] + p.activity_l2 * y[i] * y[i] / static_cast<double>(N);
  for (double v : w) s += p.kernel_l2 * v * v;
  for (double v : b) s += p.bias_l1 * std::fabs(v);
  return s;
}

// Central differences of `loss` with respect to every element of v (perturbed in place, then restored).
template <class Loss>
std::vector<double> central_differences(std::vector<double>& v, Loss&& loss) {
  const double h = 1e-6;
  std::vector<double> g(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const double keep = v[i];
    v[i] = keep + h;
    const double plus = loss();
    v[i] = keep - h;
    const double minus = loss();
    v[i] = keep;
    g[i] = (plus - minus) / (2 * h);
  }
  return g;
}

// A float32 gradient against its float64 reference.
void check_gradient(const std::vector<float>& got, const std::vector<double>& want, const char* what) {
  INFO(what);
  REQUIRE(got.size() == want.size());
  size_t bad = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!(std::fabs(got[i] - want[i]) <= 1e-4 * (1.0 + std::fabs(want[i])))) {
      if (bad++ < 3) FAIL_CHECK(what << "[" << i << "] = " << got[i] << ", want " << want[i]);
    }
  }
  CHECK(bad == 0);
}

// Removes the whitespace outside JSON strings, so a pretty-printed document
// compares with the library's compact one byte for byte (key order included).
std::string compact_json(const std::string& json) {
  std::string out;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char ch = json[i];
    if (in_string) {
      out += ch;
      if (ch == '\\' && i + 1 < json.size())
        out += json[++i];
      else if (ch == '"')
        in_string = false;
    } else if (ch == '"') {
      in_string = true;
      out += ch;
    } else if (ch != ' ' && ch != '\n' && ch != '\t' && ch != '\r') {
      out += ch;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("C++ wrapper: training enums mirror the C values", "[cxx][training]") {
  CHECK(static_cast<uint32_t>(conv1d::BackwardFlags::none) == CONV1D_BACKWARD_DEFAULT);
  CHECK(static_cast<uint32_t>(conv1d::BackwardFlags::regularizers) == CONV1D_BACKWARD_REGULARIZERS);
  CHECK(static_cast<uint32_t>(conv1d::BackwardFlags::accumulate) == CONV1D_BACKWARD_ACCUMULATE);
  constexpr conv1d::BackwardFlags both = conv1d::BackwardFlags::regularizers | conv1d::BackwardFlags::accumulate;
  static_assert(static_cast<uint32_t>(both) == 3, "| combines the bits");
  static_assert((both & conv1d::BackwardFlags::accumulate) == conv1d::BackwardFlags::accumulate, "& selects a bit");
  static_assert((conv1d::Grad::kernel | conv1d::Grad::bias) == conv1d::Grad::weights, "weights is kernel and bias");
  static_assert((conv1d::Grad::all & conv1d::Grad::input) == conv1d::Grad::input, "all includes the input");
}

TEST_CASE("C++ wrapper: training parameters round-trip through the typed accessors", "[cxx][training]") {
  conv1d::Layer layer(4, 3);
  // Keras defaults: no regularizers or constraints, LoRA off, trainable.
  CHECK(layer.kernel_regularizer() == "null");
  CHECK(layer.bias_regularizer() == "null");
  CHECK(layer.activity_regularizer() == "null");
  CHECK(layer.kernel_constraint() == "null");
  CHECK(layer.bias_constraint() == "null");
  CHECK(layer.lora_rank() == 0);
  CHECK(layer.trainable());

  layer.set_kernel_regularizer("l2").set_bias_regularizer("L1").set_activity_regularizer("l1l2");
  CHECK_THAT(layer.kernel_regularizer(), Catch::Contains(R"("class_name":"L2")") && Catch::Contains("0.01"));
  CHECK_THAT(layer.bias_regularizer(), Catch::Contains(R"("class_name":"L1")"));
  CHECK_THAT(layer.activity_regularizer(), Catch::Contains(R"("class_name":"L1L2")"));
  CHECK(layer.get_string(CONV1D_PARAM_KERNEL_REGULARIZER) == layer.kernel_regularizer());
  layer.set_kernel_regularizer(R"({"class_name": "L1L2", "config": {"l1": 0.25, "l2": 0.5}})");
  CHECK_THAT(layer.kernel_regularizer(), Catch::Contains(R"("l1":0.25)") && Catch::Contains(R"("l2":0.5)"));
  layer.set_activity_regularizer("null");
  CHECK(layer.activity_regularizer() == "null");

  layer.set_kernel_constraint(R"({"class_name": "MaxNorm", "config": {"max_value": 3, "axis": [0, 1]}})")
      .set_bias_constraint("non_neg");
  CHECK_THAT(layer.kernel_constraint(), Catch::Contains("MaxNorm") && Catch::Contains(R"("max_value":3)"));
  CHECK_THAT(layer.bias_constraint(), Catch::Contains("NonNeg"));
  layer.set_kernel_constraint("null");
  CHECK(layer.kernel_constraint() == "null");

  layer.set_lora_rank(3);
  CHECK(layer.lora_rank() == 3);
  CHECK(layer.lora_alpha() == 3.0);  // reads as the rank until set, as in Keras
  layer.set_lora_alpha(1.5);
  CHECK(layer.lora_alpha() == 1.5);
  CHECK(layer.get_double(CONV1D_PARAM_LORA_ALPHA) == 1.5);
  layer.set_trainable(false);
  CHECK_FALSE(layer.trainable());
  CHECK(layer.get_int(CONV1D_PARAM_TRAINABLE) == 0);
  layer.set_trainable(true);
  CHECK(layer.trainable());
}

TEST_CASE("C++ wrapper: backward matches central differences of the float64 model", "[cxx][training][backward]") {
  struct GradCase {
    Case c;
    Penalties p;
  };
  std::mt19937 rng(4242);
  std::vector<GradCase> cases;
  auto add = [&](const char* padding, int64_t k, int64_t s, int64_t d, int64_t groups, bool first, bool bias,
                 const char* act, int64_t F, int64_t N, int64_t L, int64_t C, Penalties p) {
    GradCase g;
    g.c.conv.filters = F;
    g.c.conv.kernel = k;
    g.c.conv.stride = s;
    g.c.conv.dilation = d;
    g.c.conv.groups = groups;
    g.c.conv.padding = padding;
    g.c.conv.channels_first = first;
    g.c.conv.use_bias = bias;
    g.c.conv.activation = act;
    g.c.N = N, g.c.L = L, g.c.C = C;
    g.p = p;
    cases.push_back(g);
  };
  const Penalties none;
  Penalties all;
  all.kernel_l2 = 0.01, all.bias_l1 = 0.02, all.activity_l2 = 0.03;
  add("valid", 3, 1, 1, 1, false, true, "tanh", 4, 2, 9, 3, all);
  add("same", 4, 2, 1, 1, false, true, "gelu", 3, 2, 10, 2, none);
  add("causal", 3, 1, 2, 1, true, false, "linear", 4, 2, 8, 2, none);
  add("same", 3, 1, 1, 2, true, true, "softmax", 4, 1, 7, 4, all);
  add("valid", 2, 3, 1, 3, false, true, "glu", 6, 2, 11, 3, none);  // glu halves the filters (6 -> 3)

  for (const GradCase& g : cases) {
    const naive::Conv& conv = g.c.conv;
    const int64_t N = g.c.N, L = g.c.L, C = g.c.C;
    const bool regs = g.p.kernel_l2 > 0;
    INFO("padding=" << conv.padding << " k=" << conv.kernel << " s=" << conv.stride << " d=" << conv.dilation
                    << " groups=" << conv.groups << " channels_first=" << conv.channels_first
                    << " act=" << conv.activation << " regularizers=" << regs);
    const auto x = random_vec(rng, static_cast<size_t>(N * L * C));
    const auto w = random_vec(rng, static_cast<size_t>(conv.kernel * (C / conv.groups) * conv.filters));
    const auto b = conv.use_bias ? random_vec(rng, static_cast<size_t>(conv.filters)) : std::vector<float>{};

    conv1d::Layer layer = configure(conv);
    layer.set_weights(w, b);
    if (regs) {
      layer.set_kernel_regularizer(R"({"class_name": "L2", "config": {"l2": 0.01}})")
          .set_bias_regularizer(R"({"class_name": "L1", "config": {"l1": 0.02}})")
          .set_activity_regularizer(R"({"class_name": "L2", "config": {"l2": 0.03}})");
    }
    const auto dy = random_vec(rng, layer.output_shape(N, L).count);

    // The reference: central differences of loss64 in float64 around the same values.
    std::vector<double> x64 = to_double(x), w64 = to_double(w), b64 = to_double(b);
    const std::vector<double> r64 = to_double(dy);
    auto loss = [&] { return loss64(conv, x64, N, L, C, w64, b64, r64, g.p); };
    const std::vector<double> want_dx = central_differences(x64, loss);
    const std::vector<double> want_dw = central_differences(w64, loss);
    const std::vector<double> want_db = central_differences(b64, loss);

    const conv1d::BackwardFlags flags = regs ? conv1d::BackwardFlags::regularizers : conv1d::BackwardFlags::none;
    const conv1d::Gradients grads = layer.backward(x, N, L, C, dy, conv1d::Grad::all, flags);
    check_gradient(grads.dx, want_dx, "dx");
    check_gradient(grads.kernel, want_dw, "dkernel");
    check_gradient(grads.bias, want_db, "dbias");  // both empty without use_bias
    if (!conv.use_bias) CHECK(grads.bias.empty());

    // The buffer overload writes the same values, and nothing past them.
    std::vector<float> dx(x.size() + 1, -777.0f), dw(w.size() + 1, -777.0f), db(b.size() + 1, -777.0f);
    layer.backward(x, N, L, C, dy, {dx.data(), x.size()}, {dw.data(), w.size()}, {db.data(), b.size()}, flags);
    CHECK(dx.back() == -777.0f);
    CHECK(dw.back() == -777.0f);
    CHECK(db.back() == -777.0f);
    dx.pop_back(), dw.pop_back(), db.pop_back();
    CHECK(dx == grads.dx);
    CHECK(dw == grads.kernel);
    CHECK(db == grads.bias);

    // Accumulation adds a second batch's gradients into the buffers.
    layer.backward(x, N, L, C, dy, dx, dw, db, flags | conv1d::BackwardFlags::accumulate);
    std::vector<double> twice_dw(want_dw);
    for (double& v : twice_dw) v *= 2;
    check_gradient(dw, twice_dw, "accumulated dkernel");
    for (size_t i = 0; i < dx.size(); ++i) CHECK(dx[i] == Approx(2.0 * grads.dx[i]).margin(1e-6));

    // Subsets: a gradient not asked for stays empty; the others are unchanged.
    const conv1d::Gradients weights_only = layer.backward(x, N, L, C, dy, conv1d::Grad::weights, flags);
    CHECK(weights_only.dx.empty());
    CHECK(weights_only.kernel == grads.kernel);
    CHECK(weights_only.bias == grads.bias);
    const conv1d::Gradients input_only = layer.backward(x, N, L, C, dy, conv1d::Grad::input, flags);
    CHECK(input_only.dx == grads.dx);
    CHECK(input_only.kernel.empty());
    CHECK(input_only.bias.empty());
    const conv1d::Gradients kernel_only = layer.backward(x, N, L, C, dy, conv1d::Grad::kernel, flags);
    CHECK(kernel_only.kernel == grads.kernel);
    CHECK(kernel_only.bias.empty());
    const conv1d::Gradients bias_only = layer.backward(x, N, L, C, dy, conv1d::Grad::bias, flags);
    CHECK(bias_only.kernel.empty());
    CHECK(bias_only.bias == grads.bias);
    std::vector<float> dw_only(w.size());
    layer.backward(x, N, L, C, dy, {}, dw_only, {}, flags);
    CHECK(dw_only == grads.kernel);
  }
}

TEST_CASE("C++ wrapper: regularization_loss gives the penalties worked out by hand", "[cxx][training]") {
  // Conv1D(2, 2) on one channel as in the weights test: kernel {1, -1, 0.5, 2}, bias {0.25, -0.5};
  // x = [1, 2, 3] twice (batch 2) gives y = {2.25, 2.5, 3.75, 3.5} for each example.
  conv1d::Layer layer(2, 2);
  layer.set_weights({1.0f, -1.0f, 0.5f, 2.0f}, {0.25f, -0.5f});
  const std::vector<float> x = {1, 2, 3, 1, 2, 3};
  const std::vector<float> y = layer.forward(x, 2, 3, 1);
  CHECK(layer.regularization_loss() == 0.0);
  CHECK(layer.regularization_loss(y, 2, 3) == 0.0);

  // L2 has no 1/2: 0.01 * (1 + 1 + 0.25 + 4) = 0.0625 ("l2" is L2(l2=0.01)).
  layer.set_kernel_regularizer("l2");
  CHECK(layer.regularization_loss() == Approx(0.0625).epsilon(1e-12));
  // L1 on the bias: 0.1 * (0.25 + 0.5) = 0.075.
  layer.set_bias_regularizer(R"({"class_name": "L1", "config": {"l1": 0.1}})");
  CHECK(layer.regularization_loss() == Approx(0.1375).epsilon(1e-12));
  // Activity L2(0.5) on y, divided by the batch: 0.5 * 2 * (2.25^2 + 2.5^2 + 3.75^2 + 3.5^2) / 2 = 18.8125.
  layer.set_activity_regularizer(R"({"class_name": "L2", "config": {"l2": 0.5}})");
  CHECK(layer.regularization_loss() == Approx(0.1375).epsilon(1e-12));  // no y: weight penalties only
  CHECK(layer.regularization_loss(y, 2, 3) == Approx(0.1375 + 18.8125).epsilon(1e-12));
  // Only trainable weights have penalties; the activity term stays.
  layer.set_trainable(false);
  CHECK(layer.regularization_loss() == 0.0);
  CHECK(layer.regularization_loss(y, 2, 3) == Approx(18.8125).epsilon(1e-12));

  // An empty or short y is refused, not taken as "no activity term".
  expect_error([&] { layer.regularization_loss(std::vector<float>{}, 2, 3); }, CONV1D_ERROR_BUFFER_TOO_SMALL,
               "y_len=0");
  expect_error([&] { layer.regularization_loss({y.data(), 7}, 2, 3); }, CONV1D_ERROR_BUFFER_TOO_SMALL, "8");
  // Keras cannot apply an OrthogonalRegularizer to a rank-3 tensor; neither can the library.
  layer.set_trainable(true).set_kernel_regularizer("orthogonal_regularizer");
  expect_error([&] { layer.regularization_loss(); }, CONV1D_ERROR_UNSUPPORTED, "OrthogonalRegularizer");
}

TEST_CASE("C++ wrapper: apply_constraints projects the weights as Keras does", "[cxx][training]") {
  // Conv1D(2, 2) on one channel; kernel (k=2, C=1, F=2): filter 0 is (3, 4), filter 1 is (0.3, 0.4).
  const std::vector<float> kernel = {3.0f, 0.3f, 4.0f, 0.4f};
  const std::vector<float> bias = {-0.5f, 0.25f};
  conv1d::Layer layer(2, 2);
  layer.set_kernel_constraint(R"({"class_name": "MaxNorm", "config": {"max_value": 1.0, "axis": [0, 1]}})")
      .set_bias_constraint("non_neg")
      .set_weights(kernel, bias);

  layer.apply_constraints();
  // MaxNorm: w * clip(n, 0, max) / (1e-7 + n) with n the norm of each filter (5 and 0.5).
  const double n0 = 5.0, n1 = 0.5;
  const std::vector<double> want = {3.0 / (1e-7 + n0), 0.3 * n1 / (1e-7 + n1), 4.0 / (1e-7 + n0),
                                    0.4 * n1 / (1e-7 + n1)};
  const std::vector<float> got = layer.weight(CONV1D_WEIGHT_KERNEL);
  REQUIRE(got.size() == 4);
  for (size_t i = 0; i < 4; ++i) CHECK(got[i] == Approx(want[i]).epsilon(1e-6));
  // NonNeg zeroes the negative bias.
  CHECK(layer.weight(CONV1D_WEIGHT_BIAS) == std::vector<float>{0.0f, 0.25f});

  // A layer that is not trainable is left alone.
  layer.set_weights(kernel, bias).set_trainable(false).apply_constraints();
  CHECK(layer.weight(CONV1D_WEIGHT_KERNEL) == kernel);
  CHECK(layer.weight(CONV1D_WEIGHT_BIAS) == bias);
}

TEST_CASE("C++ wrapper: one weight at a time", "[cxx][training][weights]") {
  conv1d::Layer layer(2, 2);
  layer.set_weights({1.0f, -1.0f, 0.5f, 2.0f}, {0.25f, -0.5f});
  CHECK(layer.weight_size(CONV1D_WEIGHT_KERNEL) == 4);
  CHECK(layer.weight_size(CONV1D_WEIGHT_BIAS) == 2);
  CHECK(layer.weight_size(CONV1D_WEIGHT_LORA_A) == 0);  // LoRA is off
  CHECK(layer.weight(CONV1D_WEIGHT_KERNEL) == std::vector<float>{1.0f, -1.0f, 0.5f, 2.0f});

  layer.set_weight(CONV1D_WEIGHT_BIAS, {1.0f, 2.0f});
  const float kernel[4] = {2.0f, 0.0f, 0.0f, 1.0f};
  layer.set_weight(CONV1D_WEIGHT_KERNEL, kernel, 4);
  // y[t] = {2 x[t] + 1, x[t+1] + 2} for x = [1, 2, 3].
  const float x[3] = {1.0f, 2.0f, 3.0f};
  CHECK(layer.forward(x, 1, 3, 1) == std::vector<float>{3.0f, 4.0f, 5.0f, 5.0f});
  std::array<float, 2> b{};
  layer.get_weight(CONV1D_WEIGHT_BIAS, b);
  CHECK(b == std::array<float, 2>{1.0f, 2.0f});
  layer.set_weight(CONV1D_WEIGHT_BIAS, std::vector<float>{0.0f, 0.0f});
  CHECK(layer.weights().bias == std::vector<float>{0.0f, 0.0f});
}

TEST_CASE("C++ wrapper: LoRA's effective kernel, factor gradients and merge", "[cxx][training][lora]") {
  std::mt19937 rng(31);
  naive::Conv conv;
  conv.filters = 3;
  conv.kernel = 2;
  conv.padding = "same";
  conv.activation = "tanh";
  const int64_t N = 2, L = 6, C = 2, rank = 2, F = 3, rows = 2 * C;  // rows: kernel_size * in_channels
  const double scale = 4.0 / rank;                                   // lora_alpha / lora_rank
  const auto x = random_vec(rng, N * L * C);
  const auto kernel = random_vec(rng, rows * F);
  const auto bias = random_vec(rng, F);
  auto a = random_vec(rng, rows * rank);
  auto b = random_vec(rng, rank * F);
  for (float& v : a) v *= 0.5f;
  for (float& v : b) v *= 0.5f;

  conv1d::Layer layer = configure(conv);
  layer.set_lora_rank(rank).set_lora_alpha(4.0).set_kernel_regularizer(
      R"({"class_name": "L2", "config": {"l2": 0.05}})");
  layer.set_weights(kernel, bias);  // builds, with LoRA on
  REQUIRE(layer.weight_size(CONV1D_WEIGHT_LORA_A) == a.size());
  REQUIRE(layer.weight_size(CONV1D_WEIGHT_LORA_B) == b.size());
  // The factors start as he_uniform and zeros: the output is the kernel's alone.
  for (float v : layer.weight(CONV1D_WEIGHT_LORA_B)) CHECK(v == 0.0f);
  layer.set_weight(CONV1D_WEIGHT_LORA_A, a).set_weight(CONV1D_WEIGHT_LORA_B, b);
  CHECK(layer.weight(CONV1D_WEIGHT_LORA_A) == a);

  // kernel + s A B in float64.
  auto effective = [&](const std::vector<double>& a64, const std::vector<double>& b64) {
    std::vector<double> w = to_double(kernel);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t f = 0; f < F; ++f)
        for (int64_t q = 0; q < rank; ++q) w[i * F + f] += scale * a64[i * rank + q] * b64[q * F + f];
    return w;
  };
  std::vector<double> a64 = to_double(a), b64 = to_double(b);
  const std::vector<double> w_eff = effective(a64, b64);
  int64_t shape[3];
  const std::vector<double> want_y = naive::forward(conv, to_double(x), N, L, C, w_eff, to_double(bias), shape);
  const std::vector<float> y = layer.forward(x, N, L, C);
  check_close(y, want_y);

  // The kernel regularizer applies to the factors, not to the frozen kernel.
  double penalty = 0.0;
  for (double v : a64) penalty += 0.05 * v * v;
  for (double v : b64) penalty += 0.05 * v * v;
  CHECK(layer.regularization_loss() == Approx(penalty).epsilon(1e-6));

  // Factor gradients of sum(r * y) + 0.05 (|A|^2 + |B|^2), against central differences.
  const auto r = random_vec(rng, y.size());
  const std::vector<double> x64 = to_double(x), bias64 = to_double(bias), r64 = to_double(r);
  auto loss = [&] {
    double s = loss64(conv, x64, N, L, C, effective(a64, b64), bias64, r64, Penalties{});
    for (double v : a64) s += 0.05 * v * v;
    for (double v : b64) s += 0.05 * v * v;
    return s;
  };
  const std::vector<double> want_da = central_differences(a64, loss);
  const std::vector<double> want_db = central_differences(b64, loss);
  const conv1d::Gradients g = layer.backward(x, N, L, C, r, conv1d::Grad::kernel);
  const conv1d::LoraGradients lg = layer.lora_gradients(g.kernel, conv1d::BackwardFlags::regularizers);
  check_gradient(lg.a, want_da, "dA");
  check_gradient(lg.b, want_db, "dB");

  // The buffer overload, accumulating, and with one factor skipped.
  std::vector<float> da = lg.a;
  layer.lora_gradients(g.kernel, da, {}, conv1d::BackwardFlags::regularizers | conv1d::BackwardFlags::accumulate);
  for (size_t i = 0; i < da.size(); ++i) CHECK(da[i] == Approx(2.0 * lg.a[i]).margin(1e-6));
  std::vector<float> db(b.size());
  layer.lora_gradients(g.kernel, {}, db);
  for (size_t i = 0; i < db.size(); ++i) CHECK(db[i] == Approx(lg.b[i] - 0.1 * b[i]).margin(1e-6));

  // Merging folds s A B into the kernel and turns LoRA off; the output stays.
  layer.lora_merge();
  CHECK(layer.lora_rank() == 0);
  CHECK(layer.weight_size(CONV1D_WEIGHT_LORA_A) == 0);
  const std::vector<float> merged = layer.weight(CONV1D_WEIGHT_KERNEL);
  REQUIRE(merged.size() == w_eff.size());
  for (size_t i = 0; i < merged.size(); ++i) CHECK(merged[i] == Approx(w_eff[i]).margin(1e-6));
  check_close(layer.forward(x, N, L, C), want_y);
  expect_error([&] { layer.lora_gradients(g.kernel); }, CONV1D_ERROR_INVALID_STATE, "LoRA");
}

TEST_CASE("C++ wrapper: the Keras config, as the spec writes it, and back", "[cxx][training][config]") {
  // Spec section 9: keras.layers.Conv1D(32, 3, activation='relu').get_config() for Keras >= 3.15.
  const std::string spec = test_util::kKerasSpecConfig;
  conv1d::Layer layer(32, 3);
  // data_format is set because the default comes from keras.json, which the environment may have.
  layer.set_activation("relu").set_data_format(conv1d::DataFormat::channels_last);
  CHECK(layer.config() == compact_json(spec));

  // from_config reads the spec's text (whitespace and all) into the same layer.
  conv1d::Layer parsed = conv1d::Layer::from_config(spec);
  CHECK(parsed.filters() == 32);
  CHECK(parsed.kernel_size() == 3);
  CHECK(parsed.activation() == conv1d::Activation::relu);
  CHECK(parsed.in_channels() == 0);  // no build_config: not built
  CHECK(parsed.config() == compact_json(spec));

  // Every Conv1D argument survives config -> from_config -> config.
  conv1d::Layer custom(6, 4);
  custom.set_padding("causal")
      .set_dilation_rate(2)
      .set_groups(2)
      .set_data_format(conv1d::DataFormat::channels_first)
      .set_activation(conv1d::Activation::gelu)
      .set_use_bias(false)
      .set_kernel_initializer("he_normal")
      .set_kernel_regularizer(R"({"class_name": "L1L2", "config": {"l1": 0.25, "l2": 0.5}})")
      .set_activity_regularizer("l2")
      .set_bias_constraint("non_neg")
      .set_lora_rank(2)
      .set_lora_alpha(3.0)
      .set_trainable(false)
      .set_name("encoder");
  const std::string json = custom.config();
  CHECK_THAT(json, Catch::Contains(R"("lora_rank":2,"lora_alpha":3)"));
  conv1d::Layer copy = conv1d::Layer::from_config(json);
  CHECK(copy.config() == json);
  CHECK(copy.padding() == conv1d::Padding::causal);
  CHECK(copy.groups() == 2);
  CHECK(copy.data_format() == conv1d::DataFormat::channels_first);
  CHECK_FALSE(copy.use_bias());
  CHECK(copy.kernel_regularizer() == custom.kernel_regularizer());
  CHECK(copy.bias_constraint() == custom.bias_constraint());
  CHECK(copy.lora_rank() == 2);
  CHECK(copy.lora_alpha() == 3.0);
  CHECK_FALSE(copy.trainable());
  CHECK(copy.name() == "encoder");

  // The model entry carries the channel count, so from_config builds the layer.
  CHECK_THAT(custom.config(true), !Catch::Contains("build_config"));  // not built yet
  custom.build(4);
  const std::string wrapped = custom.config(true);
  CHECK_THAT(wrapped, Catch::StartsWith(R"({"module":"keras.layers","class_name":"Conv1D","config":{)"));
  CHECK_THAT(wrapped, Catch::Contains(R"("build_config":{"input_shape":[null,4,null]})"));
  conv1d::Layer built = conv1d::Layer::from_config(wrapped);
  CHECK(built.in_channels() == 4);
  CHECK(built.weight_size(CONV1D_WEIGHT_LORA_B) == 2 * 6);  // built with LoRA on
  CHECK(built.config(true) == wrapped);

  expect_error([] { conv1d::Layer::from_config(R"({"filters": 2, "kernel_size": 3, "bogus": 1})"); },
               CONV1D_ERROR_PARSE, "bogus");
  expect_error([] { conv1d::Layer::from_config("{\"filters\": 2,"); }, CONV1D_ERROR_PARSE, "");
  expect_error([] { conv1d::Layer::from_config(std::string("{\0}", 3)); }, CONV1D_ERROR_INVALID_VALUE, "NUL");
}

TEST_CASE("C++ wrapper: training errors throw conv1d::Error and change nothing", "[cxx][training][errors]") {
  const std::vector<float> x(2 * 5 * 3, 0.5f);
  conv1d::Layer layer(4, 3);
  expect_error([&] { layer.backward(x, 2, 5, 3, std::vector<float>(2 * 3 * 4)); }, CONV1D_ERROR_NOT_BUILT,
               "conv1d_build");
  expect_error([&] { layer.weight(CONV1D_WEIGHT_KERNEL); }, CONV1D_ERROR_NOT_BUILT, "conv1d_build");

  layer.set_seed(5).build(3);
  const conv1d::Weights before = layer.weights();
  const std::vector<float> dy(2 * 3 * 4, 1.0f);
  expect_error([&] { layer.backward(x, 2, 5, 3, {dy.data(), 23}); }, CONV1D_ERROR_BUFFER_TOO_SMALL, "dy_len=23");
  expect_error([&] { layer.backward(x, 2, 5, 4, dy); }, CONV1D_ERROR_CHANNELS_MISMATCH, "4");
  expect_error([&] { layer.backward(x, 0, 5, 3, dy); }, CONV1D_ERROR_INVALID_SIZE, "batch");
  expect_error([&] { layer.backward(x, 3, 5, 3, dy); }, CONV1D_ERROR_BUFFER_TOO_SMALL, "x_len=30");
  // A shape far beyond x is the library's error, not an attempt to allocate its dx.
  expect_error([&] { layer.backward(x, 2, 5, int64_t(1) << 40, dy); }, CONV1D_ERROR_SIZE_OVERFLOW, "channels");
  expect_error([&] { layer.backward(x, int64_t(1) << 30, 1 << 20, 3, dy); }, CONV1D_ERROR_BUFFER_TOO_SMALL, "x_len");
  expect_error([&] { layer.backward(x, int64_t(1) << 40, 1 << 30, 3, dy); }, CONV1D_ERROR_SIZE_OVERFLOW, "overflows");
  std::vector<float> short_dkernel(35, -1.0f);
  expect_error([&] { layer.backward(x, 2, 5, 3, dy, {}, short_dkernel, {}); }, CONV1D_ERROR_BUFFER_TOO_SMALL,
               "dkernel_len=35");
  for (float v : short_dkernel) CHECK(v == -1.0f);  // a failed backward writes nothing
  expect_error([&] { layer.backward(x, 2, 5, 3, dy, conv1d::Grad::all, conv1d::BackwardFlags::accumulate); },
               CONV1D_ERROR_INVALID_VALUE, "accumulate");
  expect_error([&] { layer.backward(x, 2, 5, 3, dy, static_cast<conv1d::Grad>(8)); }, CONV1D_ERROR_INVALID_VALUE, "8");
  expect_error(
      [&] {
        std::vector<float> dk(36);
        layer.backward(x, 2, 5, 3, dy, {}, dk, {}, static_cast<conv1d::BackwardFlags>(4));
      },
      CONV1D_ERROR_INVALID_VALUE, "flags");

  expect_error([&] { layer.set_weight(CONV1D_WEIGHT_KERNEL, std::vector<float>(35)); }, CONV1D_ERROR_LENGTH_MISMATCH,
               "36");
  expect_error([&] { layer.weight(CONV1D_WEIGHT_LORA_A); }, CONV1D_ERROR_INVALID_VALUE, "LoRA is not enabled");
  expect_error([&] { layer.weight(static_cast<conv1d_weight>(7)); }, CONV1D_ERROR_INVALID_VALUE, "7");
  expect_error([&] { layer.lora_gradients(std::vector<float>(36)); }, CONV1D_ERROR_INVALID_STATE, "lora_rank");
  expect_error([&] { layer.lora_merge(); }, CONV1D_ERROR_INVALID_STATE, "");
  expect_error([&] { layer.set_kernel_regularizer("l1_l2"); }, CONV1D_ERROR_UNKNOWN_NAME, "l1_l2");
  expect_error([&] { layer.set_bias_constraint("max"); }, CONV1D_ERROR_UNKNOWN_NAME, "max");
  expect_error([&] { layer.set_lora_alpha(NAN); }, CONV1D_ERROR_INVALID_VALUE, "lora_alpha");
  expect_error([&] { layer.set_lora_rank(-1); }, CONV1D_ERROR_INVALID_VALUE, "lora_rank");
  layer.set_kernel_constraint("max_norm");
  expect_error([&] { layer.set_lora_rank(2); }, CONV1D_ERROR_INVALID_STATE, "Lora is incompatible with kernel");
  CHECK(layer.lora_rank() == 0);

  // After all of these the layer is as it was and still trains.
  CHECK(layer.weights().kernel == before.kernel);
  CHECK(layer.backward(x, 2, 5, 3, dy).kernel.size() == 36);

  conv1d::Layer no_bias(4, 3);
  no_bias.set_use_bias(false).build(3);
  CHECK(no_bias.backward(x, 2, 5, 3, dy).bias.empty());  // Grad::all skips the missing bias
  std::vector<float> db(4);
  expect_error([&] { no_bias.backward(x, 2, 5, 3, dy, {}, {}, db); }, CONV1D_ERROR_INVALID_VALUE, "use_bias=0");
  expect_error([&] { no_bias.weight(CONV1D_WEIGHT_BIAS); }, CONV1D_ERROR_INVALID_VALUE, "use_bias=0");

  conv1d::Layer moved(std::move(no_bias));
  expect_error([&] { no_bias.backward(x, 2, 5, 3, dy); },  // NOLINT(bugprone-use-after-move)
               CONV1D_ERROR_NULL_POINTER, "layer");
  expect_error([&] { no_bias.config(); }, CONV1D_ERROR_NULL_POINTER, "layer");  // NOLINT(bugprone-use-after-move)
}

TEST_CASE("C++ wrapper: weights through .npy files, and file errors", "[cxx][files]") {
  conv1d::Layer a(6, 3);
  a.set_seed(5);
  a.build(4);
  const std::string base = "/tmp/conv1d_cxx_npy_" + std::to_string(reinterpret_cast<uintptr_t>(&a));
  a.save_npy(CONV1D_WEIGHT_KERNEL, base + "_k.npy");
  a.save_npy(CONV1D_WEIGHT_BIAS, base + "_b.npy");
  // An unbuilt layer is built from the kernel file's shape (3, 4, 6).
  conv1d::Layer b(6, 3);
  b.load_npy(CONV1D_WEIGHT_KERNEL, base + "_k.npy").load_npy(CONV1D_WEIGHT_BIAS, base + "_b.npy");
  CHECK(b.in_channels() == 4);
  CHECK(b.weight(CONV1D_WEIGHT_KERNEL) == a.weight(CONV1D_WEIGHT_KERNEL));
  CHECK(b.weight(CONV1D_WEIGHT_BIAS) == a.weight(CONV1D_WEIGHT_BIAS));
  std::remove((base + "_k.npy").c_str());
  std::remove((base + "_b.npy").c_str());
  // A missing file: CONV1D_ERROR_IO naming the path, nothing changed.
  try {
    b.load_weights(base + "_missing.weights.h5");
    FAIL("no exception");
  } catch (const conv1d::Error& e) {
    CHECK(e.status() == CONV1D_ERROR_IO);
    CHECK(std::string(e.what()).find("_missing.weights.h5") != std::string::npos);
  }
  CHECK(b.weight(CONV1D_WEIGHT_KERNEL) == a.weight(CONV1D_WEIGHT_KERNEL));
}

TEST_CASE("C++ wrapper: Stream feeds chunks and matches forward bitwise", "[cxx][stream]") {
  static_assert(!std::is_copy_constructible_v<conv1d::Stream> && std::is_nothrow_move_constructible_v<conv1d::Stream>,
                "Stream owns a handle and is move-only");
  std::mt19937 rng(31);
  naive::Conv c;
  c.filters = 6, c.kernel = 3, c.dilation = 2, c.padding = "causal", c.activation = "glu";
  const int64_t N = 2, L = 19, C = 5;
  conv1d::Layer layer = configure(c);
  layer.set_algorithm(conv1d::Algorithm::direct);
  const auto w = random_vec(rng, c.kernel * C * c.filters), b = random_vec(rng, c.filters);
  const auto x = random_vec(rng, N * L * C);
  layer.set_weights(w, b);
  int64_t shape[3];
  const auto want = layer.forward(x, N, L, C);
  check_close(want, naive::forward(c, x, N, L, C, w, b, shape));

  conv1d::Stream stream = layer.stream(N);
  CHECK(stream.batch() == N);
  std::vector<float> got(want.size());
  const int64_t Fo = c.filters / 2;
  int64_t t0 = 0;
  for (int64_t m : {0, 1, 4, 1, 7, 0, 6}) {
    std::vector<float> chunk(N * m * C);
    for (int64_t n = 0; n < N; ++n)
      std::copy(x.begin() + (n * L + t0) * C, x.begin() + (n * L + t0 + m) * C, chunk.begin() + n * m * C);
    CHECK(stream.output_frames(m) == m);  // causal, stride 1: one output per frame
    const std::vector<float> y = stream.process(chunk, m);
    REQUIRE(y.size() == static_cast<size_t>(N * m * Fo));
    for (int64_t n = 0; n < N; ++n)
      std::copy(y.begin() + n * m * Fo, y.begin() + (n + 1) * m * Fo, got.begin() + (n * L + t0) * Fo);
    t0 += m;
    CHECK(stream.frames_seen() == t0);
  }
  REQUIRE(t0 == L);
  CHECK(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)) == 0);

  // Into a caller buffer; a short one throws and changes nothing.
  stream.reset();
  CHECK(stream.frames_seen() == 0);
  std::vector<float> first(N * Fo, -1.0f);
  const std::vector<float> x0 = {x.begin(), x.begin() + C}, x1 = {x.begin() + L * C, x.begin() + L * C + C};
  std::vector<float> frame0(x0);
  frame0.insert(frame0.end(), x1.begin(), x1.end());
  expect_error([&] { stream.process(frame0, 1, conv1d::Span<float>(first.data(), first.size() - 1)); },
               CONV1D_ERROR_BUFFER_TOO_SMALL, "y_len");
  CHECK(stream.frames_seen() == 0);
  CHECK(stream.process(frame0, 1, first) == 1);
  CHECK(first[0] == want[0]);
  CHECK(first[Fo] == want[L * Fo]);

  // Moves carry the handle; a moved-from or default stream refuses calls.
  conv1d::Stream moved(std::move(stream));
  CHECK(moved.frames_seen() == 1);
  CHECK_FALSE(static_cast<bool>(stream));  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  expect_error([&] { stream.reset(); }, CONV1D_ERROR_NULL_POINTER, "stream");
  conv1d::Stream other;
  swap(other, moved);
  CHECK(other.frames_seen() == 1);

  // What cannot stream throws at creation.
  conv1d::Layer same(4, 3);
  same.set_padding("same").build(2);
  expect_error([&] { same.stream(1); }, CONV1D_ERROR_UNSUPPORTED, "'same'");
  expect_error([&] { conv1d::Stream(layer, 0); }, CONV1D_ERROR_INVALID_SIZE, "batch");
}

TEST_CASE("C++ wrapper: dtype policies, double weights and typed forward", "[cxx][dtype]") {
  CHECK(static_cast<int>(conv1d::DType::bfloat16) == CONV1D_DTYPE_BFLOAT16);
  CHECK(conv1d::dtype_name(conv1d::DType::float64) == "float64");
  CHECK_THROWS_AS(conv1d::dtype_name(static_cast<conv1d::DType>(9)), conv1d::Error);
  naive::Conv c;
  c.filters = 3;
  c.kernel = 2;
  c.padding = "same";
  const int64_t N = 2, L = 5, C = 2;
  std::mt19937 rng(3);
  std::vector<double> x(N * L * C), w(c.kernel * C * c.filters), b(c.filters);
  std::uniform_real_distribution<double> u(-1, 1);
  for (std::vector<double>* v : {&x, &w, &b})
    for (double& e : *v) e = u(rng);
  int64_t shape[3];
  const std::vector<double> want = naive::forward(c, x, N, L, C, w, b, shape);

  conv1d::Layer l(c.filters, c.kernel);
  l.set_padding(conv1d::Padding::same).set_dtype(conv1d::DType::float64);
  CHECK(l.dtype() == "float64");
  CHECK(l.compute_dtype() == conv1d::DType::float64);
  CHECK(l.variable_dtype() == conv1d::DType::float64);
  l.set_weights(conv1d::Span<const double>(w), conv1d::Span<const double>(b));
  const conv1d::Weights64 got_w = l.weights64();
  CHECK(got_w.kernel == w);
  CHECK(got_w.bias == b);
  const std::vector<double> y = l.forward(conv1d::Span<const double>(x), N, L, C);
  REQUIRE(y.size() == want.size());
  for (size_t i = 0; i < y.size(); ++i) CHECK(std::fabs(y[i] - want[i]) <= 1e-14 * (1 + std::fabs(want[i])));
  CHECK_THROWS_AS(l.set_dtype("bfloat16"), conv1d::Error);  // fixed after build

  // The generic typed forward: float32 x into the float64 layer, bf16 y.
  const std::vector<float> xf(x.begin(), x.end());
  std::vector<uint16_t> yh(want.size());
  l.forward(conv1d::DType::float32, xf.data(), xf.size(), N, L, C, conv1d::DType::bfloat16, yh.data(), yh.size());
  const std::vector<double> xw(xf.begin(), xf.end());
  const std::vector<double> yw = l.forward(conv1d::Span<const double>(xw), N, L, C);
  for (size_t i = 0; i < yh.size(); ++i) {
    const uint32_t bits = static_cast<uint32_t>(yh[i]) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    CHECK(std::fabs(f - yw[i]) <= std::ldexp(std::fabs(yw[i]), -8));  // half a bf16 ulp
  }
  conv1d::Layer m(2, 1);
  m.set_dtype("mixed_bfloat16");
  CHECK(m.compute_dtype() == conv1d::DType::bfloat16);
  CHECK(m.variable_dtype() == conv1d::DType::float32);
  try {
    m.set_dtype("mixed_float16");
    FAIL("mixed_float16 accepted");
  } catch (const conv1d::Error& e) {
    CHECK(e.status() == CONV1D_ERROR_UNSUPPORTED);
  }
}
