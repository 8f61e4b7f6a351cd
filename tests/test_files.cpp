// Weights from files through the public API: Keras 3 .weights.h5, .keras
// archives, legacy .h5 (Keras 2 and 3 naming) and NumPy .npy. The files are
// written by tests/files/make_fixtures.py (numpy and h5py, in Keras's exact
// layouts) before these tests run; their values are value(i, seed) below,
// computed the same way there. Every load is checked value by value and by a
// forward pass against the float64 reference convolution, and every error
// path leaves the layer exactly as it was.
#include <conv1d/conv1d.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <vector>

#include "api_layer.hpp"
#include "naive_conv1d.hpp"

namespace {

using test_util::Layer;

std::string fixture(const std::string& name) {
  const char* dir = std::getenv("CONV1D_TEST_FIXTURE_DIR");
  return std::string(dir && *dir ? dir : CONV1D_TEST_FIXTURE_DIR) + "/" + name;
}

// make_fixtures.py's values(): multiples of 1/divisor, exact in every dtype
// the fixtures use for divisor 64.
std::vector<float> values(std::initializer_list<int64_t> shape, int seed, double divisor = 64.0) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    v[i] = static_cast<float>(static_cast<double>((i * 37 + seed * 11) % 101 - 50) / divisor);
  return v;
}

const std::vector<float> kKernel = values({3, 2, 4}, 1), kBias = values({4}, 2);
const std::vector<float> kKernel2 = values({5, 4, 6}, 3), kBias2 = values({6}, 4);

std::vector<float> weight(conv1d_layer* l, conv1d_weight w) {
  size_t n = 0;
  REQUIRE(conv1d_weight_size(l, w, &n) == CONV1D_OK);
  std::vector<float> v(n);
  if (n) REQUIRE(conv1d_get_weight(l, w, v.data(), n) == CONV1D_OK);
  return v;
}

int64_t in_channels(conv1d_layer* l) {
  int64_t c = -1;
  REQUIRE(conv1d_get_int(l, CONV1D_PARAM_IN_CHANNELS, &c) == CONV1D_OK);
  return c;
}

// Everything a failed call must leave alone.
struct Snapshot {
  int64_t in_channels = 0, lora_rank = 0;
  std::vector<std::vector<float>> weights;
  bool operator==(const Snapshot& o) const {
    return in_channels == o.in_channels && lora_rank == o.lora_rank && weights == o.weights;
  }
};

Snapshot snapshot(conv1d_layer* l) {
  Snapshot s;
  REQUIRE(conv1d_get_int(l, CONV1D_PARAM_IN_CHANNELS, &s.in_channels) == CONV1D_OK);
  REQUIRE(conv1d_get_int(l, CONV1D_PARAM_LORA_RANK, &s.lora_rank) == CONV1D_OK);
  for (int w = CONV1D_WEIGHT_KERNEL; w <= CONV1D_WEIGHT_LORA_B; ++w) {
    size_t n = 0;
    std::vector<float> v;
    if (conv1d_weight_size(l, static_cast<conv1d_weight>(w), &n) == CONV1D_OK && n) {
      v.resize(n);
      REQUIRE(conv1d_get_weight(l, static_cast<conv1d_weight>(w), v.data(), n) == CONV1D_OK);
    }
    s.weights.push_back(v);
  }
  return s;
}

// The call fails with `want`, its message contains every part, and the layer is unchanged.
template <class Call>
void expect_failure(conv1d_layer* l, Call call, conv1d_status want, std::initializer_list<std::string> parts) {
  const Snapshot before = snapshot(l);
  const conv1d_status got = call();
  const std::string msg = conv1d_last_error_message();
  INFO("status " << got << ": " << msg);
  CHECK(got == want);
  for (const std::string& p : parts) CHECK_THAT(msg, Catch::Contains(p));
  CHECK(snapshot(l) == before);
}

void require_ok(conv1d_status s) {
  INFO(conv1d_last_error_message());
  REQUIRE(s == CONV1D_OK);
}

// The layer's forward pass against the float64 reference with `kernel` and `bias`.
void check_forward(conv1d_layer* l, naive::Conv c, int64_t channels, const std::vector<float>& kernel,
                   const std::vector<float>& bias) {
  const int64_t batch = 2, steps = 9;
  std::vector<float> x(static_cast<size_t>(batch * steps * channels));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)));
  int64_t shape[3], ref_shape[3];
  size_t count = 0;
  require_ok(conv1d_output_shape(l, batch, steps, shape, &count));
  std::vector<float> y(count);
  require_ok(conv1d_forward(l, x.data(), x.size(), batch, steps, channels, y.data(), y.size()));
  const std::vector<double> ref = naive::forward(c, x, batch, steps, channels, kernel, bias, ref_shape);
  REQUIRE(ref.size() == y.size());
  for (size_t i = 0; i < y.size(); ++i) REQUIRE(y[i] == Approx(ref[i]).margin(1e-5).epsilon(1e-5));
}

naive::Conv conv(int64_t filters, int64_t k, int64_t groups = 1, bool use_bias = true) {
  naive::Conv c;
  c.filters = filters;
  c.kernel = k;
  c.groups = groups;
  c.use_bias = use_bias;
  return c;
}

conv1d_status load(conv1d_layer* l, const std::string& file, const char* key) {
  return conv1d_load_weights_keras(l, fixture(file).c_str(), key);
}

}  // namespace

#if CONV1D_TEST_HAVE_HDF5

TEST_CASE("a Keras 3 .weights.h5 loads by path, by path tail and by layer name", "[files][keras]") {
  for (const char* key : {"conv1d", "layers/conv1d"}) {
    Layer l(4, 3);
    require_ok(load(l, "two_convs.weights.h5", key));
    CHECK(in_channels(l) == 2);
    CHECK(weight(l, CONV1D_WEIGHT_KERNEL) == kKernel);
    CHECK(weight(l, CONV1D_WEIGHT_BIAS) == kBias);
    check_forward(l, conv(4, 3), 2, kKernel, kBias);
  }
  // The second Conv1D is at layers/conv1d_1 and named "encoder" (the vars group's name attribute).
  for (const char* key : {"conv1d_1", "layers/conv1d_1", "encoder"}) {
    Layer l(6, 5);
    require_ok(load(l, "two_convs.weights.h5", key));
    CHECK(in_channels(l) == 4);
    CHECK(weight(l, CONV1D_WEIGHT_KERNEL) == kKernel2);
    CHECK(weight(l, CONV1D_WEIGHT_BIAS) == kBias2);
    check_forward(l, conv(6, 5), 4, kKernel2, kBias2);
  }
  // A built layer of the right shape takes the weights as they are.
  Layer built(4, 3);
  require_ok(conv1d_build(built, 2));
  require_ok(load(built, "two_convs.weights.h5", "conv1d"));
  CHECK(weight(built, CONV1D_WEIGHT_KERNEL) == kKernel);
  // groups=2: the same (3, 2, 4) kernel means 4 input channels.
  Layer grouped(4, 3);
  require_ok(conv1d_set_int(grouped, CONV1D_PARAM_GROUPS, 2));
  require_ok(load(grouped, "one_conv.weights.h5", nullptr));
  CHECK(in_channels(grouped) == 4);
  check_forward(grouped, conv(4, 3, 2), 4, kKernel, kBias);
}

TEST_CASE("layer_key: NULL takes the only Conv1D, otherwise the candidates are listed", "[files][keras]") {
  // Keras before 3.6 (no name attributes): one Conv1D among a Dense, an InputLayer and optimizer state.
  Layer one(4, 3);
  require_ok(load(one, "one_conv.weights.h5", nullptr));
  CHECK(weight(one, CONV1D_WEIGHT_KERNEL) == kKernel);

  Layer l(4, 3);
  expect_failure(l, [&] { return load(l, "two_convs.weights.h5", nullptr); }, CONV1D_ERROR_INVALID_VALUE,
                 {"2 Conv1D-like layers", "layers/conv1d (name 'conv1d', vars[0] (3, 2, 4))",
                  "layers/conv1d_1 (name 'encoder', vars[0] (5, 4, 6))"});
  expect_failure(l, [&] { return load(l, "two_convs.weights.h5", "conv1d_7"); }, CONV1D_ERROR_UNKNOWN_NAME,
                 {"no layer 'conv1d_7'", "layers/conv1d (name 'conv1d'", "layers/conv1d_1 (name 'encoder'",
                  "all layers with weights", "layers/dense (name 'dense', vars[0] (6, 3))"});
  // The Dense is found by key but is no Conv1D kernel.
  expect_failure(l, [&] { return load(l, "two_convs.weights.h5", "dense"); }, CONV1D_ERROR_LENGTH_MISMATCH,
                 {"layers/dense/vars/0", "(6, 3)", "(3, in_channels/groups, 4)"});

  // A nested model: "conv1d" is the tail of two paths; the full path picks one.
  expect_failure(l, [&] { return load(l, "nested.weights.h5", "conv1d"); }, CONV1D_ERROR_INVALID_VALUE,
                 {"matches 2 layers", "layers/sequential/layers/conv1d", "full path"});
  Layer nested(4, 3);
  require_ok(load(nested, "nested.weights.h5", "sequential/layers/conv1d"));
  CHECK(weight(nested, CONV1D_WEIGHT_KERNEL) == kKernel);
  Layer outer(6, 5);
  require_ok(load(outer, "nested.weights.h5", "layers/conv1d"));
  CHECK(weight(outer, CONV1D_WEIGHT_KERNEL) == kKernel2);
  Layer named(6, 5);
  require_ok(load(named, "nested.weights.h5", "conv1d_9"));
  CHECK(weight(named, CONV1D_WEIGHT_KERNEL) == kKernel2);

  expect_failure(l, [&] { return load(l, "two_convs.weights.h5", ""); }, CONV1D_ERROR_INVALID_VALUE,
                 {"layer_key is empty"});
}

TEST_CASE("Keras files: shape and bias mismatches leave the layer unchanged", "[files][keras]") {
  Layer wide(4, 3);
  require_ok(conv1d_build(wide, 3));
  expect_failure(wide, [&] { return load(wide, "one_conv.weights.h5", nullptr); }, CONV1D_ERROR_LENGTH_MISMATCH,
                 {"layers/conv1d/vars/0", "has shape (3, 2, 4)", "needs (3, 3, 4)"});
  Layer filters(5, 3);
  expect_failure(filters, [&] { return load(filters, "one_conv.weights.h5", nullptr); }, CONV1D_ERROR_LENGTH_MISMATCH,
                 {"(3, 2, 4)", "(3, in_channels/groups, 5)"});
  Layer taps(4, 2);
  expect_failure(taps, [&] { return load(taps, "one_conv.weights.h5", nullptr); }, CONV1D_ERROR_LENGTH_MISMATCH,
                 {"(2, in_channels/groups, 4)"});

  Layer no_bias(4, 3);
  require_ok(conv1d_set_int(no_bias, CONV1D_PARAM_USE_BIAS, 0));
  expect_failure(no_bias, [&] { return load(no_bias, "one_conv.weights.h5", nullptr); }, CONV1D_ERROR_INVALID_VALUE,
                 {"expected 1 variables", "holds 2 variables", "use_bias=True"});
  require_ok(load(no_bias, "nobias.weights.h5", nullptr));
  CHECK(weight(no_bias, CONV1D_WEIGHT_KERNEL) == kKernel);
  check_forward(no_bias, conv(4, 3, 1, false), 2, kKernel, {});

  Layer with_bias(4, 3);
  expect_failure(with_bias, [&] { return load(with_bias, "nobias.weights.h5", nullptr); }, CONV1D_ERROR_INVALID_VALUE,
                 {"expected 2 variables", "holds 1 variable", "no bias"});
}

TEST_CASE("Keras files: float64, float16 and bfloat16 datasets are converted, integers refused", "[files][keras]") {
  Layer f64(4, 3);
  require_ok(load(f64, "f64.weights.h5", nullptr));
  const std::vector<float> k7 = values({3, 2, 4}, 1, 7.0), b7 = values({4}, 2, 7.0);
  CHECK(weight(f64, CONV1D_WEIGHT_KERNEL) == k7);  // rounded from float64 as numpy's astype does
  CHECK(weight(f64, CONV1D_WEIGHT_BIAS) == b7);
  check_forward(f64, conv(4, 3), 2, k7, b7);

  for (const char* file : {"f16.weights.h5", "bf16.weights.h5"}) {
    INFO(file);
    Layer l(4, 3);
    require_ok(load(l, file, nullptr));
    CHECK(weight(l, CONV1D_WEIGHT_KERNEL) == kKernel);
    CHECK(weight(l, CONV1D_WEIGHT_BIAS) == kBias);
  }
  Layer l(4, 3);
  expect_failure(l, [&] { return load(l, "int.weights.h5", "conv1d"); }, CONV1D_ERROR_UNSUPPORTED,
                 {"layers/conv1d/vars/0", "integer data"});
}

TEST_CASE(".keras archives: stored, streamed, zip64 and deflated entries", "[files][keras][zip]") {
  for (const char* file : {"model.keras", "streamed.keras", "zip64.keras"}) {
    INFO(file);
    Layer l(4, 3);
    require_ok(load(l, file, nullptr));
    CHECK(weight(l, CONV1D_WEIGHT_KERNEL) == kKernel);
    CHECK(weight(l, CONV1D_WEIGHT_BIAS) == kBias);
    check_forward(l, conv(4, 3), 2, kKernel, kBias);
  }
  Layer l(4, 3);
#if CONV1D_TEST_HAVE_ZLIB
  require_ok(load(l, "deflated.keras", "conv1d"));
  CHECK(weight(l, CONV1D_WEIGHT_KERNEL) == kKernel);
#else
  expect_failure(l, [&] { return load(l, "deflated.keras", nullptr); }, CONV1D_ERROR_UNSUPPORTED,
                 {"method 8 (deflate)"});
#endif
  Layer m(4, 3);
  expect_failure(m, [&] { return load(m, "bzip2.keras", nullptr); }, CONV1D_ERROR_UNSUPPORTED,
                 {"model.weights.h5", "method 12 (bzip2)", "ZIP_STORED"});
  expect_failure(m, [&] { return load(m, "npz.keras", nullptr); }, CONV1D_ERROR_UNSUPPORTED, {"model.weights.npz"});
  expect_failure(m, [&] { return load(m, "noweights.keras", nullptr); }, CONV1D_ERROR_PARSE,
                 {"without model.weights.h5", "other.h5"});
  expect_failure(m, [&] { return load(m, "truncated.keras", nullptr); }, CONV1D_ERROR_PARSE, {"truncated.keras"});
  expect_failure(m, [&] { return load(m, "badcrc.keras", nullptr); }, CONV1D_ERROR_PARSE, {"CRC-32"});
}

TEST_CASE("legacy .h5 files in Keras 2 and Keras 3 naming", "[files][keras][legacy]") {
  for (const char* file : {"legacy_keras2.h5", "legacy_weights_only.h5"}) {
    for (const char* key : {static_cast<const char*>(nullptr), "conv1d"}) {
      INFO(file << " key " << (key ? key : "NULL"));
      Layer l(4, 3);
      require_ok(load(l, file, key));
      CHECK(weight(l, CONV1D_WEIGHT_KERNEL) == kKernel);
      CHECK(weight(l, CONV1D_WEIGHT_BIAS) == kBias);
      check_forward(l, conv(4, 3), 2, kKernel, kBias);
    }
  }
  Layer second(6, 5);
  require_ok(load(second, "legacy_keras3.h5", "conv1d_1"));
  CHECK(weight(second, CONV1D_WEIGHT_KERNEL) == kKernel2);
  CHECK(weight(second, CONV1D_WEIGHT_BIAS) == kBias2);
  Layer l(4, 3);
  expect_failure(l, [&] { return load(l, "legacy_keras3.h5", nullptr); }, CONV1D_ERROR_INVALID_VALUE,
                 {"model_weights/conv1d (name 'conv1d'", "model_weights/conv1d_1 (name 'conv1d_1'"});
  expect_failure(l, [&] { return load(l, "legacy_keras2.h5", "dense"); }, CONV1D_ERROR_LENGTH_MISMATCH,
                 {"model_weights/dense/dense/kernel:0", "(6, 3)"});
  expect_failure(l, [&] { return load(l, "legacy_keras2.h5", "lstm"); }, CONV1D_ERROR_UNKNOWN_NAME,
                 {"no layer 'lstm'", "model_weights/conv1d"});
}

TEST_CASE("Keras files: missing, unreadable and corrupt files", "[files][keras][errors]") {
  Layer l(4, 3);
  const std::string missing = fixture("no_such_file.weights.h5");
  expect_failure(l, [&] { return conv1d_load_weights_keras(l, missing.c_str(), nullptr); }, CONV1D_ERROR_IO,
                 {missing, "No such file or directory"});
  expect_failure(l, [&] { return conv1d_load_weights_keras(l, fixture("").c_str(), nullptr); }, CONV1D_ERROR_IO,
                 {"Is a directory"});
  expect_failure(l, [&] { return load(l, "truncated.weights.h5", nullptr); }, CONV1D_ERROR_PARSE,
                 {"truncated.weights.h5", "HDF5"});
  expect_failure(l, [&] { return load(l, "garbage.weights.h5", nullptr); }, CONV1D_ERROR_PARSE, {"neither a .keras"});
  expect_failure(l, [&] { return load(l, "kernel_f4.npy", nullptr); }, CONV1D_ERROR_PARSE, {"conv1d_load_npy"});
  expect_failure(l, [&] { return conv1d_load_weights_keras(l, nullptr, nullptr); }, CONV1D_ERROR_NULL_POINTER,
                 {"path"});
  CHECK(conv1d_load_weights_keras(nullptr, fixture("model.keras").c_str(), nullptr) == CONV1D_ERROR_NULL_POINTER);
}

TEST_CASE("Keras files with LoRA: the kernel is set and both factors zeroed", "[files][keras][lora]") {
  // lora_rank set before the build: loading builds the layer with LoRA on.
  Layer unbuilt(4, 3);
  require_ok(conv1d_set_int(unbuilt, CONV1D_PARAM_LORA_RANK, 2));
  require_ok(load(unbuilt, "model.keras", nullptr));
  CHECK(weight(unbuilt, CONV1D_WEIGHT_KERNEL) == kKernel);
  CHECK(weight(unbuilt, CONV1D_WEIGHT_LORA_A) == std::vector<float>(12, 0.0f));
  CHECK(weight(unbuilt, CONV1D_WEIGHT_LORA_B) == std::vector<float>(8, 0.0f));
  check_forward(unbuilt, conv(4, 3), 2, kKernel, kBias);

  // LoRA enabled on a built layer, with factors that change the output.
  Layer built(4, 3);
  require_ok(conv1d_build(built, 2));
  require_ok(conv1d_set_int(built, CONV1D_PARAM_LORA_RANK, 2));
  const std::vector<float> b = values({2, 4}, 8);
  require_ok(conv1d_set_weight(built, CONV1D_WEIGHT_LORA_B, b.data(), b.size()));
  require_ok(load(built, "two_convs.weights.h5", "conv1d"));
  CHECK(weight(built, CONV1D_WEIGHT_KERNEL) == kKernel);
  CHECK(weight(built, CONV1D_WEIGHT_LORA_A) == std::vector<float>(12, 0.0f));
  CHECK(weight(built, CONV1D_WEIGHT_LORA_B) == std::vector<float>(8, 0.0f));
  check_forward(built, conv(4, 3), 2, kKernel, kBias);
}

#else  // built without HDF5

TEST_CASE("Keras files need HDF5 but .npy files do not", "[files][keras]") {
  Layer l(4, 3);
  expect_failure(l, [&] { return load(l, "kernel_f4.npy", nullptr); }, CONV1D_ERROR_UNSUPPORTED, {"CONV1D_WITH_HDF5"});
  expect_failure(l, [&] { return load(l, "no_such_file.keras", nullptr); }, CONV1D_ERROR_IO,
                 {"No such file or directory"});
}

#endif

TEST_CASE("npy: a kernel numpy wrote builds an unbuilt layer", "[files][npy]") {
  for (const char* file :
       {"kernel_f4.npy", "kernel_f2.npy", "kernel_be.npy", "kernel_be8.npy", "kernel_v2.npy", "kernel_v3.npy"}) {
    INFO(file);
    Layer l(4, 3);
    require_ok(conv1d_load_npy(l, CONV1D_WEIGHT_KERNEL, fixture(file).c_str()));
    CHECK(in_channels(l) == 2);
    CHECK(weight(l, CONV1D_WEIGHT_KERNEL) == kKernel);
    CHECK(weight(l, CONV1D_WEIGHT_BIAS) == std::vector<float>(4, 0.0f));  // the zeros bias initializer
    check_forward(l, conv(4, 3), 2, kKernel, std::vector<float>(4, 0.0f));
  }
  Layer f8(4, 3);
  require_ok(conv1d_load_npy(f8, CONV1D_WEIGHT_KERNEL, fixture("kernel_f8.npy").c_str()));
  CHECK(weight(f8, CONV1D_WEIGHT_KERNEL) == values({3, 2, 4}, 1, 7.0));
  Layer wide(4, 3);
  require_ok(conv1d_load_npy(wide, CONV1D_WEIGHT_KERNEL, fixture("kernel_wide.npy").c_str()));
  CHECK(in_channels(wide) == 3);
  // Loading the bias next completes the layer.
  require_ok(conv1d_load_npy(wide, CONV1D_WEIGHT_BIAS, fixture("bias.npy").c_str()));
  check_forward(wide, conv(4, 3), 3, values({3, 3, 4}, 1), kBias);
}

TEST_CASE("npy: the bias and the LoRA factors", "[files][npy][lora]") {
  Layer l(4, 3);
  require_ok(conv1d_set_weights(l, kKernel.data(), kKernel.size(), std::vector<float>(4, 9.0f).data(), 4));
  require_ok(conv1d_load_npy(l, CONV1D_WEIGHT_BIAS, fixture("bias.npy").c_str()));
  CHECK(weight(l, CONV1D_WEIGHT_BIAS) == kBias);
  require_ok(conv1d_set_int(l, CONV1D_PARAM_LORA_RANK, 2));
  require_ok(conv1d_load_npy(l, CONV1D_WEIGHT_LORA_A, fixture("lora_a.npy").c_str()));
  require_ok(conv1d_load_npy(l, CONV1D_WEIGHT_LORA_B, fixture("lora_b.npy").c_str()));
  const std::vector<float> a = values({3, 2, 2}, 7), b = values({2, 4}, 8);
  CHECK(weight(l, CONV1D_WEIGHT_LORA_A) == a);
  CHECK(weight(l, CONV1D_WEIGHT_LORA_B) == b);
  // lora_alpha defaults to the rank: the convolution uses kernel + A B.
  std::vector<float> merged(kKernel);
  for (int64_t i = 0; i < 6; ++i)
    for (int64_t f = 0; f < 4; ++f)
      merged[i * 4 + f] +=
          static_cast<float>(static_cast<double>(a[i * 2]) * b[f] + static_cast<double>(a[i * 2 + 1]) * b[4 + f]);
  check_forward(l, conv(4, 3), 2, merged, kBias);
  // Setting the kernel keeps the factors, as conv1d_set_weight does.
  require_ok(conv1d_load_npy(l, CONV1D_WEIGHT_KERNEL, fixture("kernel_f4.npy").c_str()));
  CHECK(weight(l, CONV1D_WEIGHT_LORA_B) == b);
}

TEST_CASE("npy: errors name the file and leave the layer unchanged", "[files][npy][errors]") {
  Layer l(4, 3);
  require_ok(conv1d_set_weights(l, kKernel2.data(), 24, kBias2.data(), 4));  // any values, (3, 2, 4)
  auto kernel_from = [&](const char* file) {
    return [&l, file] { return conv1d_load_npy(l, CONV1D_WEIGHT_KERNEL, fixture(file).c_str()); };
  };
  expect_failure(l, kernel_from("kernel_fortran.npy"), CONV1D_ERROR_UNSUPPORTED, {"kernel_fortran.npy", "Fortran"});
  expect_failure(l, kernel_from("kernel_i4.npy"), CONV1D_ERROR_UNSUPPORTED, {"'<i4'"});
  expect_failure(l, kernel_from("kernel_wide.npy"), CONV1D_ERROR_LENGTH_MISMATCH,
                 {"kernel_wide.npy", "has shape (3, 3, 4)", "is (3, 2, 4)"});
  expect_failure(l, kernel_from("kernel_rank2.npy"), CONV1D_ERROR_LENGTH_MISMATCH, {"(3, 8)"});
  expect_failure(l, kernel_from("scalar.npy"), CONV1D_ERROR_LENGTH_MISMATCH, {"()"});
  expect_failure(l, kernel_from("truncated.npy"), CONV1D_ERROR_PARSE, {"truncated"});
  expect_failure(l, kernel_from("badmagic.npy"), CONV1D_ERROR_PARSE, {"not a .npy file"});
  expect_failure(l, kernel_from("badheader.npy"), CONV1D_ERROR_PARSE, {"malformed .npy header", "'shapx'"});
  expect_failure(l, kernel_from("no_such.npy"), CONV1D_ERROR_IO, {"no_such.npy", "No such file or directory"});
  expect_failure(l, kernel_from("model.keras"), CONV1D_ERROR_PARSE, {"not a .npy file"});
  expect_failure(l, [&] { return conv1d_load_npy(l, CONV1D_WEIGHT_BIAS, fixture("kernel_f4.npy").c_str()); },
                 CONV1D_ERROR_LENGTH_MISMATCH, {"(3, 2, 4)", "bias", "(4,)"});
  expect_failure(l, [&] { return conv1d_load_npy(l, CONV1D_WEIGHT_LORA_A, fixture("lora_a.npy").c_str()); },
                 CONV1D_ERROR_INVALID_VALUE, {"LoRA is not enabled"});
  expect_failure(l, [&] { return conv1d_load_npy(l, static_cast<conv1d_weight>(7), fixture("bias.npy").c_str()); },
                 CONV1D_ERROR_INVALID_VALUE, {"received 7"});
  expect_failure(l, [&] { return conv1d_load_npy(l, CONV1D_WEIGHT_KERNEL, nullptr); }, CONV1D_ERROR_NULL_POINTER,
                 {"path"});

  Layer unbuilt(4, 3);
  expect_failure(unbuilt, [&] { return conv1d_load_npy(unbuilt, CONV1D_WEIGHT_BIAS, fixture("bias.npy").c_str()); },
                 CONV1D_ERROR_NOT_BUILT, {"no weights yet"});
  expect_failure(unbuilt,
                 [&] { return conv1d_load_npy(unbuilt, CONV1D_WEIGHT_KERNEL, fixture("kernel_rank2.npy").c_str()); },
                 CONV1D_ERROR_LENGTH_MISMATCH, {"(3, in_channels/groups, 4)"});
  Layer no_bias(4, 3);
  require_ok(conv1d_set_int(no_bias, CONV1D_PARAM_USE_BIAS, 0));
  require_ok(conv1d_load_npy(no_bias, CONV1D_WEIGHT_KERNEL, fixture("kernel_f4.npy").c_str()));
  expect_failure(no_bias, [&] { return conv1d_load_npy(no_bias, CONV1D_WEIGHT_BIAS, fixture("bias.npy").c_str()); },
                 CONV1D_ERROR_INVALID_VALUE, {"use_bias=0"});
}

TEST_CASE("npy: save then load gives the same weights and outputs", "[files][npy][save]") {
  Layer src(4, 3);
  require_ok(conv1d_set_int(src, CONV1D_PARAM_SEED, 11));
  require_ok(conv1d_set_string(src, CONV1D_PARAM_BIAS_INITIALIZER, "glorot_uniform"));
  require_ok(conv1d_build(src, 2));
  const std::string kfile = fixture("saved_kernel.npy"), bfile = fixture("saved_bias.npy");
  require_ok(conv1d_save_npy(src, CONV1D_WEIGHT_KERNEL, kfile.c_str()));
  require_ok(conv1d_save_npy(src, CONV1D_WEIGHT_BIAS, bfile.c_str()));

  // The header is NumPy's version 1.0 '<f4' with the Keras shape, padded to 64 bytes.
  std::FILE* f = std::fopen(kfile.c_str(), "rb");
  REQUIRE(f);
  std::string bytes(4096, '\0');
  bytes.resize(std::fread(&bytes[0], 1, bytes.size(), f));
  std::fclose(f);
  REQUIRE(bytes.size() > 10);
  CHECK(bytes.compare(0, 8, std::string("\x93NUMPY\x01\x00", 8)) == 0);
  const size_t header_len = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
  CHECK((10 + header_len) % 64 == 0);
  CHECK(bytes.size() == 10 + header_len + 24 * 4);
  const std::string header = bytes.substr(10, header_len);
  CHECK_THAT(header, Catch::StartsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2, 4), }"));
  CHECK(header.back() == '\n');

  Layer dst(4, 3);
  require_ok(conv1d_load_npy(dst, CONV1D_WEIGHT_KERNEL, kfile.c_str()));
  require_ok(conv1d_load_npy(dst, CONV1D_WEIGHT_BIAS, bfile.c_str()));
  const std::vector<float> kernel = weight(src, CONV1D_WEIGHT_KERNEL), bias = weight(src, CONV1D_WEIGHT_BIAS);
  CHECK(weight(dst, CONV1D_WEIGHT_KERNEL) == kernel);
  CHECK(weight(dst, CONV1D_WEIGHT_BIAS) == bias);
  check_forward(dst, conv(4, 3), 2, kernel, bias);

  // LoRA factors round-trip too.
  require_ok(conv1d_set_int(src, CONV1D_PARAM_LORA_RANK, 3));
  const std::string afile = fixture("saved_lora_a.npy");
  require_ok(conv1d_save_npy(src, CONV1D_WEIGHT_LORA_A, afile.c_str()));
  require_ok(conv1d_set_int(dst, CONV1D_PARAM_LORA_RANK, 3));
  require_ok(conv1d_load_npy(dst, CONV1D_WEIGHT_LORA_A, afile.c_str()));
  CHECK(weight(dst, CONV1D_WEIGHT_LORA_A) == weight(src, CONV1D_WEIGHT_LORA_A));

  // Failures.
  CHECK(conv1d_save_npy(src, CONV1D_WEIGHT_KERNEL, fixture("no_such_dir/k.npy").c_str()) == CONV1D_ERROR_IO);
  CHECK_THAT(conv1d_last_error_message(), Catch::Contains("No such file or directory"));
  CHECK(conv1d_save_npy(src, CONV1D_WEIGHT_KERNEL, "/dev/full") == CONV1D_ERROR_IO);
  CHECK_THAT(conv1d_last_error_message(), Catch::Contains("No space left on device"));
  Layer unbuilt(4, 3);
  CHECK(conv1d_save_npy(unbuilt, CONV1D_WEIGHT_KERNEL, kfile.c_str()) == CONV1D_ERROR_NOT_BUILT);
  Layer no_bias(4, 3);
  require_ok(conv1d_set_int(no_bias, CONV1D_PARAM_USE_BIAS, 0));
  require_ok(conv1d_build(no_bias, 2));
  const std::string untouched = fixture("never_written.npy");
  std::remove(untouched.c_str());
  CHECK(conv1d_save_npy(no_bias, CONV1D_WEIGHT_BIAS, untouched.c_str()) == CONV1D_ERROR_INVALID_VALUE);
  std::FILE* none = std::fopen(untouched.c_str(), "rb");
  CHECK(none == nullptr);
  if (none) std::fclose(none);
  CHECK(conv1d_save_npy(src, CONV1D_WEIGHT_KERNEL, nullptr) == CONV1D_ERROR_NULL_POINTER);
  CHECK(conv1d_save_npy(nullptr, CONV1D_WEIGHT_KERNEL, kfile.c_str()) == CONV1D_ERROR_NULL_POINTER);
}
