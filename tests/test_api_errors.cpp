// The error contract: each bad input gets its documented status and a
// message naming the bad value, and a failed call changes nothing.
#include <conv1d/conv1d.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace {

// Everything observable about a layer, to compare before and after a call.
struct Snapshot {
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::vector<float> kernel, bias;
  bool operator==(const Snapshot& o) const {
    return ints == o.ints && strings == o.strings && kernel == o.kernel && bias == o.bias;
  }
};

Snapshot snapshot(const conv1d_layer* l) {
  Snapshot s;
  for (conv1d_param p : {CONV1D_PARAM_FILTERS, CONV1D_PARAM_KERNEL_SIZE, CONV1D_PARAM_STRIDES,
                         CONV1D_PARAM_DILATION_RATE, CONV1D_PARAM_GROUPS, CONV1D_PARAM_PADDING,
                         CONV1D_PARAM_DATA_FORMAT, CONV1D_PARAM_USE_BIAS, CONV1D_PARAM_IN_CHANNELS,
                         CONV1D_PARAM_ACTIVATION, CONV1D_PARAM_SEED, CONV1D_PARAM_ALGORITHM, CONV1D_PARAM_VERBOSE}) {
    int64_t v = -12345;
    REQUIRE(conv1d_get_int(l, p, &v) == CONV1D_OK);
    s.ints.push_back(v);
  }
  for (conv1d_param p : {CONV1D_PARAM_KERNEL_INITIALIZER, CONV1D_PARAM_BIAS_INITIALIZER, CONV1D_PARAM_NAME}) {
    size_t need = 0;
    REQUIRE(conv1d_get_string(l, p, nullptr, 0, &need) == CONV1D_ERROR_BUFFER_TOO_SMALL);
    std::string v(need, '\0');
    REQUIRE(conv1d_get_string(l, p, &v[0], need, nullptr) == CONV1D_OK);
    s.strings.push_back(v);
  }
  size_t kl = 0, bl = 0;
  if (conv1d_weight_sizes(l, &kl, &bl) == CONV1D_OK) {
    s.kernel.resize(kl);
    s.bias.resize(bl);
    REQUIRE(conv1d_get_weights(l, s.kernel.data(), kl, s.bias.data(), bl) == CONV1D_OK);
  }
  return s;
}

struct Fixture {
  conv1d_layer* layer = nullptr;
  Fixture() {
    REQUIRE(conv1d_create(4, 3, &layer) == CONV1D_OK);
    REQUIRE(conv1d_set_int(layer, CONV1D_PARAM_SEED, 1) == CONV1D_OK);
  }
  ~Fixture() { conv1d_destroy(layer); }
  void build() { REQUIRE(conv1d_build(layer, 6) == CONV1D_OK); }
  // Runs `call`, expects `status` and a message containing `mentions`, and
  // checks the layer is unchanged and still works.
  template <class Call>
  void expect(conv1d_status status, const std::string& mentions, Call call) {
    const Snapshot before = snapshot(layer);
    const conv1d_status got = call();
    INFO("message: " << conv1d_last_error_message());
    CHECK(got == status);
    CHECK(std::string(conv1d_last_error_message()).find(mentions) != std::string::npos);
    CHECK(std::strlen(conv1d_status_string(got)) > 0);
    CHECK(snapshot(layer) == before);
    int64_t in = 0;
    REQUIRE(conv1d_get_int(layer, CONV1D_PARAM_IN_CHANNELS, &in) == CONV1D_OK);
    if (in > 0) {  // the layer still runs
      std::vector<float> x(2 * 10 * in, 0.5f), y(2 * 10 * 4 * 2, 0.f);
      int64_t shape[3];
      size_t count = 0;
      REQUIRE(conv1d_output_shape(layer, 2, 10, shape, &count) == CONV1D_OK);
      REQUIRE(conv1d_forward(layer, x.data(), x.size(), 2, 10, in, y.data(), y.size()) == CONV1D_OK);
    }
  }
};

}  // namespace

TEST_CASE("create rejects bad sizes and null out", "[errors]") {
  conv1d_layer* l = reinterpret_cast<conv1d_layer*>(0x1);
  CHECK(conv1d_create(0, 3, &l) == CONV1D_ERROR_INVALID_SIZE);
  CHECK(std::string(conv1d_last_error_message()).find("filters=0") != std::string::npos);
  CHECK(l == reinterpret_cast<conv1d_layer*>(0x1));  // untouched
  CHECK(conv1d_create(-2, 3, &l) == CONV1D_ERROR_INVALID_SIZE);
  CHECK(conv1d_create(4, 0, &l) == CONV1D_ERROR_INVALID_SIZE);
  CHECK(std::string(conv1d_last_error_message()).find("kernel_size=0") != std::string::npos);
  CHECK(conv1d_create(int64_t{1} << 40, 3, &l) == CONV1D_ERROR_SIZE_OVERFLOW);
  CHECK(conv1d_create(4, 3, nullptr) == CONV1D_ERROR_NULL_POINTER);
  CHECK(l == reinterpret_cast<conv1d_layer*>(0x1));
  conv1d_destroy(nullptr);  // allowed
  // A success clears the message.
  REQUIRE(conv1d_create(4, 3, &l) == CONV1D_OK);
  CHECK(std::string(conv1d_last_error_message()).empty());
  conv1d_destroy(l);
}

TEST_CASE("null handles and pointers give NULL_POINTER everywhere", "[errors]") {
  int64_t v;
  size_t n;
  float f[4];
  conv1d_algorithm a;
  int64_t shape[3];
  CHECK(conv1d_set_int(nullptr, CONV1D_PARAM_STRIDES, 1) == CONV1D_ERROR_NULL_POINTER);
  CHECK(conv1d_set_string(nullptr, CONV1D_PARAM_PADDING, "same") == CONV1D_ERROR_NULL_POINTER);
  CHECK(conv1d_set_double(nullptr, CONV1D_PARAM_STRIDES, 1.0) == CONV1D_ERROR_NULL_POINTER);
  CHECK(conv1d_get_int(nullptr, CONV1D_PARAM_STRIDES, &v) == CONV1D_ERROR_NULL_POINTER);
  CHECK(conv1d_build(nullptr, 3) == CONV1D_ERROR_NULL_POINTER);
  CHECK(conv1d_weight_sizes(nullptr, &n, &n) == CONV1D_ERROR_NULL_POINTER);
  CHECK(conv1d_set_weights(nullptr, f, 4, nullptr, 0) == CONV1D_ERROR_NULL_POINTER);
  CHECK(conv1d_get_weights(nullptr, f, 4, nullptr, 0) == CONV1D_ERROR_NULL_POINTER);
  CHECK(conv1d_output_steps(nullptr, 10, &v) == CONV1D_ERROR_NULL_POINTER);
  CHECK(conv1d_output_shape(nullptr, 1, 10, shape, &n) == CONV1D_ERROR_NULL_POINTER);
  CHECK(conv1d_forward(nullptr, f, 4, 1, 4, 1, f, 4) == CONV1D_ERROR_NULL_POINTER);
  CHECK(conv1d_query_algorithm(nullptr, 1, 4, &a) == CONV1D_ERROR_NULL_POINTER);
  CHECK(conv1d_param_bounds(CONV1D_PARAM_STRIDES, nullptr, &v) == CONV1D_ERROR_NULL_POINTER);

  Fixture fx;
  fx.expect(CONV1D_ERROR_NULL_POINTER, "value",
            [&] { return conv1d_set_string(fx.layer, CONV1D_PARAM_PADDING, nullptr); });
  fx.expect(CONV1D_ERROR_NULL_POINTER, "value",
            [&] { return conv1d_get_int(fx.layer, CONV1D_PARAM_STRIDES, nullptr); });
  fx.expect(CONV1D_ERROR_NULL_POINTER, "kernel", [&] { return conv1d_set_weights(fx.layer, nullptr, 36, nullptr, 4); });
  fx.expect(CONV1D_ERROR_NULL_POINTER, "out_steps", [&] { return conv1d_output_steps(fx.layer, 10, nullptr); });
  fx.build();
  std::vector<float> y(64, 9.f);
  fx.expect(CONV1D_ERROR_NULL_POINTER, "x",
            [&] { return conv1d_forward(fx.layer, nullptr, 60, 1, 10, 6, y.data(), y.size()); });
  CHECK(y == std::vector<float>(64, 9.f));
  std::vector<float> x(60, 1.f);
  fx.expect(CONV1D_ERROR_NULL_POINTER, "y",
            [&] { return conv1d_forward(fx.layer, x.data(), 60, 1, 10, 6, nullptr, 64); });
  std::vector<float> k(72);
  fx.expect(CONV1D_ERROR_NULL_POINTER, "bias", [&] { return conv1d_set_weights(fx.layer, k.data(), 72, nullptr, 4); });
}

TEST_CASE("setters validate values as Keras does and change nothing on failure", "[errors]") {
  Fixture fx;
  fx.expect(CONV1D_ERROR_INVALID_SIZE, "strides=0", [&] { return conv1d_set_int(fx.layer, CONV1D_PARAM_STRIDES, 0); });
  fx.expect(CONV1D_ERROR_INVALID_SIZE, "dilation_rate=-1",
            [&] { return conv1d_set_int(fx.layer, CONV1D_PARAM_DILATION_RATE, -1); });
  fx.expect(CONV1D_ERROR_INVALID_SIZE, "groups=0", [&] { return conv1d_set_int(fx.layer, CONV1D_PARAM_GROUPS, 0); });
  fx.expect(CONV1D_ERROR_GROUPS_MISMATCH, "groups=3, filters=4",
            [&] { return conv1d_set_int(fx.layer, CONV1D_PARAM_GROUPS, 3); });
  fx.expect(CONV1D_ERROR_SIZE_OVERFLOW, "strides",
            [&] { return conv1d_set_int(fx.layer, CONV1D_PARAM_STRIDES, INT64_MAX); });
  fx.expect(CONV1D_ERROR_UNKNOWN_NAME, "Received: full",
            [&] { return conv1d_set_string(fx.layer, CONV1D_PARAM_PADDING, "full"); });
  fx.expect(CONV1D_ERROR_INVALID_VALUE, "7", [&] { return conv1d_set_int(fx.layer, CONV1D_PARAM_PADDING, 7); });
  fx.expect(CONV1D_ERROR_UNKNOWN_NAME, "channels_middle",
            [&] { return conv1d_set_string(fx.layer, CONV1D_PARAM_DATA_FORMAT, "channels_middle"); });
  fx.expect(CONV1D_ERROR_UNKNOWN_NAME, "Relu",
            [&] { return conv1d_set_string(fx.layer, CONV1D_PARAM_ACTIVATION, "Relu"); });
  fx.expect(CONV1D_ERROR_UNSUPPORTED, "threshold",
            [&] { return conv1d_set_string(fx.layer, CONV1D_PARAM_ACTIVATION, "threshold"); });
  fx.expect(CONV1D_ERROR_UNSUPPORTED, "threshold",
            [&] { return conv1d_set_int(fx.layer, CONV1D_PARAM_ACTIVATION, CONV1D_ACTIVATION_THRESHOLD); });
  fx.expect(CONV1D_ERROR_INVALID_VALUE, "99", [&] { return conv1d_set_int(fx.layer, CONV1D_PARAM_ACTIVATION, 99); });
  fx.expect(CONV1D_ERROR_UNKNOWN_NAME, "glorot_uniformm",
            [&] { return conv1d_set_string(fx.layer, CONV1D_PARAM_KERNEL_INITIALIZER, "glorot_uniformm"); });
  fx.expect(CONV1D_ERROR_PARSE, "", [&] {
    return conv1d_set_string(fx.layer, CONV1D_PARAM_KERNEL_INITIALIZER, "{\"class_name\": \"Zeros\",");
  });
  fx.expect(CONV1D_ERROR_INVALID_VALUE, "use_bias", [&] { return conv1d_set_int(fx.layer, CONV1D_PARAM_USE_BIAS, 2); });
  fx.expect(CONV1D_ERROR_INVALID_VALUE, "seed", [&] { return conv1d_set_int(fx.layer, CONV1D_PARAM_SEED, -5); });
  fx.expect(CONV1D_ERROR_UNKNOWN_NAME, "winograd",
            [&] { return conv1d_set_string(fx.layer, CONV1D_PARAM_ALGORITHM, "winograd"); });
  fx.expect(CONV1D_ERROR_INVALID_VALUE, "name", [&] { return conv1d_set_string(fx.layer, CONV1D_PARAM_NAME, ""); });
  fx.expect(CONV1D_ERROR_INVALID_VALUE, "cannot contain character `/`",
            [&] { return conv1d_set_string(fx.layer, CONV1D_PARAM_NAME, "block/conv"); });
  fx.expect(CONV1D_ERROR_UNKNOWN_PARAMETER, "12345",
            [&] { return conv1d_set_int(fx.layer, static_cast<conv1d_param>(12345), 1); });
  fx.expect(CONV1D_ERROR_UNKNOWN_PARAMETER, "999",
            [&] { return conv1d_set_string(fx.layer, static_cast<conv1d_param>(999), "x"); });
  fx.expect(CONV1D_ERROR_WRONG_TYPE, "activation",
            [&] { return conv1d_set_double(fx.layer, CONV1D_PARAM_ACTIVATION, 1.0); });
  fx.expect(CONV1D_ERROR_WRONG_TYPE, "strides", [&] { return conv1d_set_string(fx.layer, CONV1D_PARAM_STRIDES, "2"); });
  fx.expect(CONV1D_ERROR_WRONG_TYPE, "name", [&] { return conv1d_set_int(fx.layer, CONV1D_PARAM_NAME, 2); });
  fx.expect(CONV1D_ERROR_INVALID_STATE, "read-only",
            [&] { return conv1d_set_int(fx.layer, CONV1D_PARAM_IN_CHANNELS, 3); });
  int64_t v = 77;
  fx.expect(CONV1D_ERROR_WRONG_TYPE, "kernel_initializer",
            [&] { return conv1d_get_int(fx.layer, CONV1D_PARAM_KERNEL_INITIALIZER, &v); });
  CHECK(v == 77);
  char buf[4] = {'a', 'b', 'c', 'd'};
  size_t need = 0;
  fx.expect(CONV1D_ERROR_BUFFER_TOO_SMALL, "capacity=4",
            [&] { return conv1d_get_string(fx.layer, CONV1D_PARAM_DATA_FORMAT, buf, sizeof buf, &need); });
  CHECK(need == std::strlen("channels_last") + 1);
  CHECK(std::memcmp(buf, "abcd", 4) == 0);
}

TEST_CASE("strides > 1 with dilation > 1 is refused in either order", "[errors]") {
  Fixture fx;
  REQUIRE(conv1d_set_int(fx.layer, CONV1D_PARAM_STRIDES, 2) == CONV1D_OK);
  fx.expect(CONV1D_ERROR_STRIDES_WITH_DILATION, "strides=(2,) and dilation_rate=(3,)",
            [&] { return conv1d_set_int(fx.layer, CONV1D_PARAM_DILATION_RATE, 3); });
  REQUIRE(conv1d_set_int(fx.layer, CONV1D_PARAM_STRIDES, 1) == CONV1D_OK);
  REQUIRE(conv1d_set_int(fx.layer, CONV1D_PARAM_DILATION_RATE, 2) == CONV1D_OK);
  fx.expect(CONV1D_ERROR_STRIDES_WITH_DILATION, "dilation_rate",
            [&] { return conv1d_set_int(fx.layer, CONV1D_PARAM_STRIDES, 2); });
}

TEST_CASE("build and weights errors", "[errors]") {
  Fixture fx;
  REQUIRE(conv1d_set_int(fx.layer, CONV1D_PARAM_GROUPS, 2) == CONV1D_OK);
  fx.expect(CONV1D_ERROR_GROUPS_MISMATCH, "the input has 5 channels", [&] { return conv1d_build(fx.layer, 5); });
  fx.expect(CONV1D_ERROR_INVALID_SIZE, "in_channels=0", [&] { return conv1d_build(fx.layer, 0); });
  fx.expect(CONV1D_ERROR_SIZE_OVERFLOW, "in_channels", [&] { return conv1d_build(fx.layer, INT64_C(1) << 40); });
  REQUIRE(conv1d_set_string(fx.layer, CONV1D_PARAM_KERNEL_INITIALIZER, "identity") == CONV1D_OK);
  fx.expect(CONV1D_ERROR_UNSUPPORTED, "", [&] { return conv1d_build(fx.layer, 6); });
  REQUIRE(conv1d_set_string(fx.layer, CONV1D_PARAM_KERNEL_INITIALIZER, "he_normal") == CONV1D_OK);

  size_t kl = 0;
  fx.expect(CONV1D_ERROR_NOT_BUILT, "no weights", [&] { return conv1d_weight_sizes(fx.layer, &kl, nullptr); });
  std::vector<float> k(36, 1.f), b(4, 2.f);
  fx.expect(CONV1D_ERROR_LENGTH_MISMATCH, "kernel_len=35",
            [&] { return conv1d_set_weights(fx.layer, k.data(), 35, b.data(), 4); });
  fx.expect(CONV1D_ERROR_LENGTH_MISMATCH, "bias_len=3",
            [&] { return conv1d_set_weights(fx.layer, k.data(), 36, b.data(), 3); });
  std::vector<float> out(36, 5.f);
  fx.expect(CONV1D_ERROR_NOT_BUILT, "no weights",
            [&] { return conv1d_get_weights(fx.layer, out.data(), 36, nullptr, 0); });
  CHECK(out == std::vector<float>(36, 5.f));

  fx.build();  // 6 channels, groups 2: kernel (3, 3, 4)
  fx.expect(CONV1D_ERROR_LENGTH_MISMATCH, "needs exactly 36",
            [&] { return conv1d_set_weights(fx.layer, k.data(), 24, b.data(), 4); });
  std::vector<float> longer(37, 1.f);
  fx.expect(CONV1D_ERROR_LENGTH_MISMATCH, "kernel_len=37",
            [&] { return conv1d_set_weights(fx.layer, longer.data(), 37, b.data(), 4); });
  fx.expect(CONV1D_ERROR_BUFFER_TOO_SMALL, "shorter",
            [&] { return conv1d_get_weights(fx.layer, out.data(), 35, nullptr, 0); });
  CHECK(out == std::vector<float>(36, 5.f));
  fx.expect(CONV1D_ERROR_INVALID_STATE, "kernel_size",
            [&] { return conv1d_set_int(fx.layer, CONV1D_PARAM_KERNEL_SIZE, 5); });
  fx.expect(CONV1D_ERROR_INVALID_STATE, "filters", [&] { return conv1d_set_int(fx.layer, CONV1D_PARAM_FILTERS, 8); });
  fx.expect(CONV1D_ERROR_INVALID_STATE, "groups", [&] { return conv1d_set_int(fx.layer, CONV1D_PARAM_GROUPS, 1); });
  fx.expect(CONV1D_ERROR_INVALID_STATE, "use_bias", [&] { return conv1d_set_int(fx.layer, CONV1D_PARAM_USE_BIAS, 0); });
  // Shape-free arguments can still change after build, as can the weights.
  REQUIRE(conv1d_set_string(fx.layer, CONV1D_PARAM_PADDING, "causal") == CONV1D_OK);
  REQUIRE(conv1d_set_weights(fx.layer, k.data(), 36, b.data(), 4) == CONV1D_OK);
  std::vector<float> k2(36), b2(4);
  REQUIRE(conv1d_get_weights(fx.layer, k2.data(), 36, b2.data(), 4) == CONV1D_OK);
  CHECK(k2 == k);
  CHECK(b2 == b);

  conv1d_layer* nb = nullptr;
  REQUIRE(conv1d_create(4, 3, &nb) == CONV1D_OK);
  REQUIRE(conv1d_set_int(nb, CONV1D_PARAM_USE_BIAS, 0) == CONV1D_OK);
  CHECK(conv1d_set_weights(nb, k.data(), 36, b.data(), 4) == CONV1D_ERROR_INVALID_VALUE);
  CHECK(std::string(conv1d_last_error_message()).find("use_bias=0") != std::string::npos);
  REQUIRE(conv1d_set_weights(nb, k.data(), 36, nullptr, 0) == CONV1D_OK);
  int64_t in = 0;
  REQUIRE(conv1d_get_int(nb, CONV1D_PARAM_IN_CHANNELS, &in) == CONV1D_OK);
  CHECK(in == 3);  // inferred from the kernel length: 36 / (3 * 4)
  conv1d_destroy(nb);
}

TEST_CASE("forward errors leave the output untouched", "[errors]") {
  Fixture fx;
  std::vector<float> x(2 * 10 * 6, 0.25f), y(2 * 8 * 4, -3.f);
  const std::vector<float> y0 = y;
  fx.expect(CONV1D_ERROR_NOT_BUILT, "conv1d_build",
            [&] { return conv1d_forward(fx.layer, x.data(), x.size(), 2, 10, 6, y.data(), y.size()); });
  conv1d_algorithm a;
  fx.expect(CONV1D_ERROR_NOT_BUILT, "", [&] { return conv1d_query_algorithm(fx.layer, 2, 10, &a); });
  fx.build();
  fx.expect(CONV1D_ERROR_CHANNELS_MISMATCH, "expected axis -1 of input shape to have value 6",
            [&] { return conv1d_forward(fx.layer, x.data(), x.size(), 2, 20, 3, y.data(), y.size()); });
  fx.expect(CONV1D_ERROR_INVALID_SIZE, "batch=0",
            [&] { return conv1d_forward(fx.layer, x.data(), x.size(), 0, 10, 6, y.data(), y.size()); });
  fx.expect(CONV1D_ERROR_INVALID_SIZE, "steps=-1",
            [&] { return conv1d_forward(fx.layer, x.data(), x.size(), 2, -1, 6, y.data(), y.size()); });
  fx.expect(CONV1D_ERROR_INVALID_SIZE, "channels=0",
            [&] { return conv1d_forward(fx.layer, x.data(), x.size(), 2, 10, 0, y.data(), y.size()); });
  fx.expect(CONV1D_ERROR_SIZE_OVERFLOW, "overflows", [&] {
    return conv1d_forward(fx.layer, x.data(), SIZE_MAX, INT64_C(1) << 40, INT64_C(1) << 30, 6, y.data(), SIZE_MAX);
  });
  fx.expect(CONV1D_ERROR_SIZE_OVERFLOW, "steps=9223372036854775807",
            [&] { return conv1d_forward(fx.layer, x.data(), SIZE_MAX, 1, INT64_MAX, 6, y.data(), SIZE_MAX); });
  // x and y overlapping (here y inside x) would let the kernels read outputs as inputs.
  std::vector<float> both(2 * 10 * 6 + 2 * 8 * 4, 0.5f);
  const std::vector<float> both0 = both;
  fx.expect(CONV1D_ERROR_INVALID_VALUE, "overlap",
            [&] { return conv1d_forward(fx.layer, both.data(), 120, 2, 10, 6, both.data() + 100, 64); });
  CHECK(both == both0);
  fx.expect(CONV1D_ERROR_BUFFER_TOO_SMALL, "x_len=119",
            [&] { return conv1d_forward(fx.layer, x.data(), 119, 2, 10, 6, y.data(), y.size()); });
  fx.expect(CONV1D_ERROR_BUFFER_TOO_SMALL, "y_len=63",
            [&] { return conv1d_forward(fx.layer, x.data(), x.size(), 2, 10, 6, y.data(), 63); });
  fx.expect(CONV1D_ERROR_EMPTY_OUTPUT, "zero or negative",
            [&] { return conv1d_forward(fx.layer, x.data(), x.size(), 2, 2, 6, y.data(), y.size()); });
  int64_t lo = 123;
  fx.expect(CONV1D_ERROR_EMPTY_OUTPUT, "steps=2", [&] { return conv1d_output_steps(fx.layer, 2, &lo); });
  CHECK(lo == 123);
  REQUIRE(conv1d_set_string(fx.layer, CONV1D_PARAM_ACTIVATION, "glu") == CONV1D_OK);
  REQUIRE(conv1d_set_string(fx.layer, CONV1D_PARAM_DATA_FORMAT, "channels_first") == CONV1D_OK);
  // channels_first glu halves time; 9 output steps cannot be halved.
  fx.expect(CONV1D_ERROR_INVALID_VALUE, "odd size 9",
            [&] { return conv1d_forward(fx.layer, x.data(), x.size(), 1, 11, 6, y.data(), y.size()); });
  CHECK(y == y0);
}

TEST_CASE("param bounds", "[errors]") {
  int64_t lo = 0, hi = 0;
  REQUIRE(conv1d_param_bounds(CONV1D_PARAM_PADDING, &lo, &hi) == CONV1D_OK);
  CHECK(lo == 0);
  CHECK(hi == 2);
  REQUIRE(conv1d_param_bounds(CONV1D_PARAM_STRIDES, &lo, &hi) == CONV1D_OK);
  CHECK(lo == 1);
  CHECK(hi == 2147483647);
  CHECK(conv1d_param_bounds(CONV1D_PARAM_NAME, &lo, &hi) == CONV1D_ERROR_WRONG_TYPE);
  CHECK(conv1d_param_bounds(static_cast<conv1d_param>(4242), &lo, &hi) == CONV1D_ERROR_UNKNOWN_PARAMETER);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CONV1D_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CONV1D_TEST_SANITIZED 1
#endif
#endif

TEST_CASE("allocation failure is OUT_OF_MEMORY and changes nothing", "[errors][oom]") {
#ifdef CONV1D_TEST_SANITIZED
  // Sanitizers reserve terabytes of address space, so RLIMIT_AS cannot be lowered under them.
  SUCCEED("skipped under a sanitizer");
#else
  // In a child process: an address-space limit must not affect the other tests.
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    conv1d_layer* l = nullptr;
    if (conv1d_create(4096, 64, &l) != CONV1D_OK) _exit(10);
    if (conv1d_build(l, 8) != CONV1D_OK) _exit(11);  // small weights first
    std::vector<float> before(64 * 8 * 4096);
    if (conv1d_get_weights(l, before.data(), before.size(), nullptr, 0) != CONV1D_OK) _exit(12);
    struct rlimit lim;
    getrlimit(RLIMIT_AS, &lim);
    lim.rlim_cur = static_cast<rlim_t>(1) << 30;  // 1 GiB of address space
    if (setrlimit(RLIMIT_AS, &lim) != 0) _exit(13);
    // 64 * 65536 * 4096 floats = 64 GiB of kernel: cannot be allocated now.
    if (conv1d_build(l, 65536) != CONV1D_ERROR_OUT_OF_MEMORY) _exit(14);
    if (std::string(conv1d_last_error_message()).find("bytes for the kernel") == std::string::npos) _exit(15);
    int64_t in = 0;
    if (conv1d_get_int(l, CONV1D_PARAM_IN_CHANNELS, &in) != CONV1D_OK || in != 8) _exit(16);
    std::vector<float> after(before.size());
    if (conv1d_get_weights(l, after.data(), after.size(), nullptr, 0) != CONV1D_OK || after != before) _exit(17);
    std::vector<float> x(2 * 100 * 8, 1.0f), y(2 * 37 * 4096);
    if (conv1d_forward(l, x.data(), x.size(), 2, 100, 8, y.data(), y.size()) != CONV1D_OK) _exit(18);
    conv1d_destroy(l);
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
#endif
}
