// The C++ wrapper (include/conv1d/conv1d.hpp) against the float64 model in
// naive_conv1d.hpp: typed accessors, forward, weights, errors and ownership.
// Like the API tests, it sees only the public headers and the shared library.
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <conv1d/conv1d.hpp>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

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
