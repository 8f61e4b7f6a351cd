// The training API beside conv1d_backward: regularizer penalties and their
// gradients, constraints, LoRA, and the error paths, against values worked
// out by hand from the spec's formulas (sections 7 and 8) or recomputed here.
#include <conv1d/conv1d.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "api_layer.hpp"
#include "naive_conv1d.hpp"
#include "random_data.hpp"

namespace {

using test_util::Layer;

using test_util::uniform;

std::string get_string(conv1d_layer* l, conv1d_param p) {
  char buf[512];
  REQUIRE(conv1d_get_string(l, p, buf, sizeof buf, nullptr) == CONV1D_OK);
  return buf;
}

double loss_of(conv1d_layer* l, const float* y = nullptr, size_t y_len = 0, int64_t batch = 0, int64_t steps = 0) {
  double loss = -1;
  const conv1d_status s = conv1d_regularization_loss(l, y, y_len, batch, steps, &loss);
  INFO(conv1d_last_error_message());
  REQUIRE(s == CONV1D_OK);
  return loss;
}

std::vector<float> weight(conv1d_layer* l, conv1d_weight w) {
  size_t n = 0;
  REQUIRE(conv1d_weight_size(l, w, &n) == CONV1D_OK);
  std::vector<float> v(n);
  REQUIRE(conv1d_get_weight(l, w, v.data(), n) == CONV1D_OK);
  return v;
}

// Conv1D(4, 3) on 2 channels, every kernel value 0.5, bias {1, -2, 0, 3}.
struct HalfLayer : Layer {
  std::vector<float> kernel = std::vector<float>(24, 0.5f), bias{1, -2, 0, 3};
  HalfLayer() : Layer(4, 3) { REQUIRE(conv1d_set_weights(p, kernel.data(), 24, bias.data(), 4) == CONV1D_OK); }
};

}  // namespace

TEST_CASE("regularizer penalties match the spec's formulas", "[training][regularizers]") {
  HalfLayer l;
  CHECK(loss_of(l) == 0.0);
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_KERNEL_REGULARIZER, "l1") == CONV1D_OK);
  CHECK(loss_of(l) == Approx(0.01 * 24 * 0.5));
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_KERNEL_REGULARIZER, "L2") == CONV1D_OK);
  CHECK(loss_of(l) == Approx(0.01 * 24 * 0.25));  // no 1/2
  CHECK(get_string(l, CONV1D_PARAM_KERNEL_REGULARIZER) ==
        R"({"module":"keras.regularizers","class_name":"L2","config":{"l2":0.01},"registered_name":null})");
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_KERNEL_REGULARIZER, "l1l2") == CONV1D_OK);
  CHECK(loss_of(l) == 0.0);  // the string means both factors 0
  REQUIRE(conv1d_set_string(
              l, CONV1D_PARAM_KERNEL_REGULARIZER,
              R"({"module": "keras.regularizers", "class_name": "L1L2", "config": {"l1": 0.1, "l2": 0.2}})") ==
          CONV1D_OK);
  CHECK(loss_of(l) == Approx(0.1 * 12 + 0.2 * 6));
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_BIAS_REGULARIZER, R"({"class_name": "L1", "config": {"l1": 0.5}})") ==
          CONV1D_OK);
  CHECK(loss_of(l) == Approx(2.4 + 0.5 * 6));
  // Only trainable weights are penalised.
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_TRAINABLE, 0) == CONV1D_OK);
  CHECK(loss_of(l) == 0.0);
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_KERNEL_REGULARIZER, "null") == CONV1D_OK);
  CHECK(get_string(l, CONV1D_PARAM_KERNEL_REGULARIZER) == "null");

  SECTION("activity: the spec's example, L2(0.01) on an output of 2s, divided by the batch") {
    Layer a(5, 1);
    const std::vector<float> zeros(5, 0.0f), twos(5, 2.0f);
    REQUIRE(conv1d_set_weights(a, zeros.data(), 5, twos.data(), 5) == CONV1D_OK);
    REQUIRE(conv1d_set_string(a, CONV1D_PARAM_ACTIVITY_REGULARIZER, "l2") == CONV1D_OK);
    const std::vector<float> x(5, 1.0f);
    std::vector<float> y(25);
    REQUIRE(conv1d_forward(a, x.data(), 5, 5, 1, 1, y.data(), 25) == CONV1D_OK);
    CHECK(loss_of(a, y.data(), 25, 5, 1) == Approx(0.2));
    CHECK(loss_of(a) == 0.0);  // without y only weight penalties
    // A short y is refused.
    double loss = 0;
    CHECK(conv1d_regularization_loss(a, y.data(), 24, 5, 1, &loss) == CONV1D_ERROR_BUFFER_TOO_SMALL);
  }
}

TEST_CASE("regularizer names and arguments are checked as Keras does", "[training][regularizers][errors]") {
  HalfLayer l;
  CHECK(conv1d_set_string(l, CONV1D_PARAM_KERNEL_REGULARIZER, "l1_l2") == CONV1D_ERROR_UNKNOWN_NAME);
  CHECK(std::string(conv1d_last_error_message()) == "Could not interpret regularizer identifier: l1_l2");
  CHECK(conv1d_set_string(l, CONV1D_PARAM_KERNEL_REGULARIZER, R"({"class_name": "L2", "config": {"l2": -1}})") ==
        CONV1D_ERROR_INVALID_VALUE);
  CHECK(std::string(conv1d_last_error_message()) ==
        "Invalid value for argument l2: expected a non-negative float.Received: l2=-1");
  CHECK(conv1d_set_string(l, CONV1D_PARAM_BIAS_REGULARIZER, R"({"class_name": "L2", "config": {"l3": 1}})") ==
        CONV1D_ERROR_PARSE);
  CHECK(std::string(conv1d_last_error_message()).find("'l3'") != std::string::npos);
  CHECK(conv1d_set_string(l, CONV1D_PARAM_BIAS_REGULARIZER, R"({"class_name": "L2", "config": )") ==
        CONV1D_ERROR_PARSE);
  CHECK(conv1d_set_int(l, CONV1D_PARAM_KERNEL_REGULARIZER, 1) == CONV1D_ERROR_WRONG_TYPE);
  CHECK(get_string(l, CONV1D_PARAM_KERNEL_REGULARIZER) == "null");  // nothing changed

  // OrthogonalRegularizer is accepted but, as in Keras, fails on every Conv1D tensor.
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_KERNEL_REGULARIZER, "orthogonal_regularizer") == CONV1D_OK);
  double loss = 0;
  CHECK(conv1d_regularization_loss(l, nullptr, 0, 0, 0, &loss) == CONV1D_ERROR_UNSUPPORTED);
  CHECK(std::string(conv1d_last_error_message()) ==
        "Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape=(3, 2, 4)");
  const std::vector<float> x(2 * 5 * 2, 0.25f), dy(2 * 3 * 4, 1.0f);
  std::vector<float> dk(24, 7.0f);
  CHECK(conv1d_backward(l, x.data(), x.size(), 2, 5, 2, dy.data(), dy.size(), nullptr, 0, dk.data(), 24, nullptr, 0,
                        CONV1D_BACKWARD_REGULARIZERS) == CONV1D_ERROR_UNSUPPORTED);
  CHECK(dk == std::vector<float>(24, 7.0f));
  CHECK(conv1d_backward(l, x.data(), x.size(), 2, 5, 2, dy.data(), dy.size(), nullptr, 0, dk.data(), 24, nullptr, 0,
                        0) == CONV1D_OK);
}

TEST_CASE("regularizer gradients: weight penalties and the activity penalty", "[training][regularizers]") {
  const int64_t N = 3, L = 9, C = 3, F = 4, k = 3;
  Layer l(F, k);
  const std::vector<float> w = uniform(k * C * F, 1, -0.6f, 0.6f), b = uniform(F, 2, -1, 1);
  const std::vector<float> x = uniform(N * L * C, 3, -1, 1);
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_ACTIVATION, "tanh") == CONV1D_OK);
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_PADDING, "causal") == CONV1D_OK);
  REQUIRE(conv1d_set_weights(l, w.data(), w.size(), b.data(), F) == CONV1D_OK);
  const std::vector<float> dy = uniform(N * L * F, 4, -1, 1);
  auto grads = [&](const std::vector<float>& g, uint32_t flags, std::vector<float>& dx, std::vector<float>& dk,
                   std::vector<float>& db) {
    dx.assign(x.size(), 0), dk.assign(w.size(), 0), db.assign(F, 0);
    REQUIRE(conv1d_backward(l, x.data(), x.size(), N, L, C, g.data(), g.size(), dx.data(), dx.size(), dk.data(),
                            dk.size(), db.data(), F, flags) == CONV1D_OK);
  };
  std::vector<float> dx0, dk0, db0, dx1, dk1, db1;
  grads(dy, 0, dx0, dk0, db0);

  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_KERNEL_REGULARIZER,
                            R"({"class_name":"L1L2","config":{"l1":0.1,"l2":0.2}})") == CONV1D_OK);
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_BIAS_REGULARIZER, R"({"class_name":"L2","config":{"l2":0.5}})") ==
          CONV1D_OK);
  grads(dy, 0, dx1, dk1, db1);
  CHECK(dk1 == dk0);  // without the flag the penalties are left out
  grads(dy, CONV1D_BACKWARD_REGULARIZERS, dx1, dk1, db1);
  CHECK(dx1 == dx0);
  for (size_t i = 0; i < w.size(); ++i) {
    const double sign = w[i] > 0 ? 1.0 : (w[i] < 0 ? -1.0 : 0.0);
    CHECK(dk1[i] - dk0[i] == Approx(0.1 * sign + 2 * 0.2 * w[i]).margin(1e-5));
  }
  for (int64_t f = 0; f < F; ++f) CHECK(db1[f] - db0[f] == Approx(2 * 0.5 * b[f]).margin(1e-5));

  // Activity L2(0.05)/N on y = tanh(z): its gradient enters as dy + 2*0.05*y/N.
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_ACTIVITY_REGULARIZER, R"({"class_name":"L2","config":{"l2":0.05}})") ==
          CONV1D_OK);
  std::vector<float> y(N * L * F);
  REQUIRE(conv1d_forward(l, x.data(), x.size(), N, L, C, y.data(), y.size()) == CONV1D_OK);
  std::vector<float> dy_total(dy);
  double activity = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    dy_total[i] += static_cast<float>(2 * 0.05 * y[i] / N);
    activity += 0.05 * y[i] * y[i] / N;
  }
  std::vector<float> dx2, dk2, db2;
  grads(dy_total, 0, dx0, dk0, db0);
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_KERNEL_REGULARIZER, "null") == CONV1D_OK);
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_BIAS_REGULARIZER, "null") == CONV1D_OK);
  grads(dy, CONV1D_BACKWARD_REGULARIZERS, dx2, dk2, db2);
  for (size_t i = 0; i < dx0.size(); ++i) CHECK(dx2[i] == Approx(dx0[i]).margin(1e-6));
  for (size_t i = 0; i < dk0.size(); ++i) CHECK(dk2[i] == Approx(dk0[i]).margin(1e-5));
  CHECK(loss_of(l, y.data(), y.size(), N, L) == Approx(activity).epsilon(1e-5));
}

TEST_CASE("constraints project the weights as the spec's formulas say", "[training][constraints]") {
  // Kernel (k=2, Cg=2, F=2): [j][c][f].
  const std::vector<float> w{3, 0.1f, 0, 0.2f, 4, 0.1f, 0, 0.2f};
  const std::vector<float> b{1, -2};
  auto fresh = [&](conv1d_layer* l) { REQUIRE(conv1d_set_weights(l, w.data(), 8, b.data(), 2) == CONV1D_OK); };
  const double eps = 1e-7;
  Layer l(2, 2);
  fresh(l);

  SECTION("MaxNorm(1, axis=0): one norm per (channel, filter) over the taps") {
    REQUIRE(conv1d_set_string(l, CONV1D_PARAM_KERNEL_CONSTRAINT,
                              R"({"class_name":"MaxNorm","config":{"max_value":1,"axis":0}})") == CONV1D_OK);
    REQUIRE(conv1d_apply_constraints(l) == CONV1D_OK);
    const std::vector<float> k = weight(l, CONV1D_WEIGHT_KERNEL);
    CHECK(k[0] == Approx(3 / (5 + eps)));
    CHECK(k[4] == Approx(4 / (5 + eps)));
    const double n01 = std::sqrt(0.02);  // (c0, f1): below max, only the eps shrink
    CHECK(k[1] == Approx(0.1 * n01 / (n01 + eps)).epsilon(1e-7));
    CHECK(k[2] == 0.0f);                        // a zero column stays zero
    CHECK(weight(l, CONV1D_WEIGHT_BIAS) == b);  // no bias constraint
  }
  SECTION("MaxNorm default (2) with axis [0, 1]: one norm per filter") {
    REQUIRE(conv1d_set_string(l, CONV1D_PARAM_KERNEL_CONSTRAINT,
                              R"({"class_name":"MaxNorm","config":{"axis":[0,1]}})") == CONV1D_OK);
    REQUIRE(conv1d_apply_constraints(l) == CONV1D_OK);
    const std::vector<float> k = weight(l, CONV1D_WEIGHT_KERNEL);
    CHECK(k[0] == Approx(3 * 2 / (5 + eps)));
    CHECK(k[4] == Approx(4 * 2 / (5 + eps)));
    CHECK(k[1] == Approx(0.1).epsilon(1e-6));
  }
  SECTION("UnitNorm(axis=-1): a norm across filters") {
    REQUIRE(conv1d_set_string(l, CONV1D_PARAM_KERNEL_CONSTRAINT, R"({"class_name":"UnitNorm","config":{"axis":-1}})") ==
            CONV1D_OK);
    REQUIRE(conv1d_apply_constraints(l) == CONV1D_OK);
    const std::vector<float> k = weight(l, CONV1D_WEIGHT_KERNEL);
    const double n = std::sqrt(9.0 + 0.01);
    CHECK(k[0] == Approx(3 / (n + eps)));
    CHECK(k[1] == Approx(0.1 / (n + eps)));
    CHECK(k[3] == Approx(0.2 / (0.2 + eps)));
  }
  SECTION("MinMaxNorm with rate 0.5, and NonNeg on the bias") {
    REQUIRE(conv1d_set_string(l, CONV1D_PARAM_KERNEL_CONSTRAINT,
                              R"({"class_name":"MinMaxNorm","config":{"min_value":1,"max_value":2,"rate":0.5}})") ==
            CONV1D_OK);
    REQUIRE(conv1d_set_string(l, CONV1D_PARAM_BIAS_CONSTRAINT, "non_neg") == CONV1D_OK);
    REQUIRE(conv1d_apply_constraints(l) == CONV1D_OK);
    const std::vector<float> k = weight(l, CONV1D_WEIGHT_KERNEL);
    const double n = std::sqrt(0.02), desired = 0.5 * 1.0 + 0.5 * n;
    CHECK(k[1] == Approx(0.1 * desired / (n + eps)));
    CHECK(k[0] == Approx(3 * (0.5 * 2 + 0.5 * 5) / (5 + eps)));  // norm 5: half clipped to 2, half kept
    CHECK(weight(l, CONV1D_WEIGHT_BIAS) == std::vector<float>{1, 0});
  }
  SECTION("names, serialization, and errors") {
    REQUIRE(conv1d_set_string(l, CONV1D_PARAM_KERNEL_CONSTRAINT, "max_norm") == CONV1D_OK);
    CHECK(
        get_string(l, CONV1D_PARAM_KERNEL_CONSTRAINT) ==
        R"({"module":"keras.constraints","class_name":"MaxNorm","config":{"max_value":2,"axis":0},"registered_name":null})");
    CHECK(conv1d_set_string(l, CONV1D_PARAM_KERNEL_CONSTRAINT, "maxnorm") == CONV1D_ERROR_UNKNOWN_NAME);
    CHECK(conv1d_set_string(l, CONV1D_PARAM_KERNEL_CONSTRAINT, R"({"class_name":"NonNeg","config":{"axis":0}})") ==
          CONV1D_ERROR_PARSE);
    REQUIRE(conv1d_set_string(l, CONV1D_PARAM_KERNEL_CONSTRAINT, R"({"class_name":"UnitNorm","config":{"axis":3}})") ==
            CONV1D_OK);
    REQUIRE(conv1d_set_string(l, CONV1D_PARAM_BIAS_CONSTRAINT, "non_neg") == CONV1D_OK);
    CHECK(conv1d_apply_constraints(l) == CONV1D_ERROR_INVALID_VALUE);
    CHECK(std::string(conv1d_last_error_message()).find("out of bounds") != std::string::npos);
    CHECK(weight(l, CONV1D_WEIGHT_KERNEL) == w);  // nothing changed, not even the bias
    CHECK(weight(l, CONV1D_WEIGHT_BIAS) == b);
    REQUIRE(conv1d_set_string(l, CONV1D_PARAM_KERNEL_CONSTRAINT, "unit_norm") == CONV1D_OK);
    REQUIRE(conv1d_set_int(l, CONV1D_PARAM_TRAINABLE, 0) == CONV1D_OK);
    REQUIRE(conv1d_apply_constraints(l) == CONV1D_OK);  // the optimizer leaves frozen weights alone
    CHECK(weight(l, CONV1D_WEIGHT_KERNEL) == w);
  }
}

namespace {

// y of a linear layer with kernel `k` in float64 (channels_last, valid).
std::vector<double> conv_linear(const std::vector<float>& x, int64_t N, int64_t L, int64_t C,
                                const std::vector<float>& k, const std::vector<float>& b, int64_t F, int64_t ks) {
  naive::Conv c;
  c.filters = F, c.kernel = ks;
  int64_t shape[3];
  return naive::forward(c, x, N, L, C, k, b, shape);
}

}  // namespace

TEST_CASE("LoRA: enabling, the effective kernel, factor gradients, merging", "[training][lora]") {
  const int64_t N = 2, L = 8, C = 6, F = 4, k = 3, r = 2;
  Layer l(F, k);
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_SEED, 7) == CONV1D_OK);
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_LORA_RANK, r) == CONV1D_OK);  // enabled at build, as Keras' build()
  REQUIRE(conv1d_build(l, C) == CONV1D_OK);
  int64_t rank = 0;
  double alpha = 0;
  REQUIRE(conv1d_get_int(l, CONV1D_PARAM_LORA_RANK, &rank) == CONV1D_OK);
  REQUIRE(conv1d_get_double(l, CONV1D_PARAM_LORA_ALPHA, &alpha) == CONV1D_OK);
  CHECK(rank == r);
  CHECK(alpha == 2.0);  // defaults to the rank
  const std::vector<float> A = weight(l, CONV1D_WEIGHT_LORA_A), B0 = weight(l, CONV1D_WEIGHT_LORA_B);
  REQUIRE(A.size() == static_cast<size_t>(k * C * r));
  CHECK(B0 == std::vector<float>(r * F, 0.0f));
  // he_uniform over fan_in = k * C: |A| <= sqrt(6 / 18).
  for (float a : A) CHECK(std::fabs(a) <= std::sqrt(6.0 / (k * C)));
  const std::vector<float> K = weight(l, CONV1D_WEIGHT_KERNEL), bias = weight(l, CONV1D_WEIGHT_BIAS);
  const std::vector<float> x = uniform(N * L * C, 9, -1, 1);
  std::vector<float> y(N * (L - 2) * F);
  REQUIRE(conv1d_forward(l, x.data(), x.size(), N, L, C, y.data(), y.size()) == CONV1D_OK);
  std::vector<double> want = conv_linear(x, N, L, C, K, bias, F, k);
  for (size_t i = 0; i < y.size(); ++i) CHECK(y[i] == Approx(want[i]).margin(1e-5));  // B = 0: unchanged

  // With B set and alpha 4, the layer runs K + (4/2) A B.
  const std::vector<float> B = uniform(r * F, 10, -1, 1);
  REQUIRE(conv1d_set_weight(l, CONV1D_WEIGHT_LORA_B, B.data(), B.size()) == CONV1D_OK);
  REQUIRE(conv1d_set_double(l, CONV1D_PARAM_LORA_ALPHA, 4.0) == CONV1D_OK);
  std::vector<float> Keff(K.size());
  for (int64_t i = 0; i < k * C; ++i)
    for (int64_t f = 0; f < F; ++f) {
      double d = 0;
      for (int64_t q = 0; q < r; ++q) d += static_cast<double>(A[i * r + q]) * B[q * F + f];
      Keff[i * F + f] = static_cast<float>(K[i * F + f] + 2.0 * d);
    }
  REQUIRE(conv1d_forward(l, x.data(), x.size(), N, L, C, y.data(), y.size()) == CONV1D_OK);
  want = conv_linear(x, N, L, C, Keff, bias, F, k);
  for (size_t i = 0; i < y.size(); ++i) CHECK(y[i] == Approx(want[i]).margin(1e-5));

  // dA = s G B^T and dB = s A^T G from G = dkernel (w.r.t. the effective kernel).
  const std::vector<float> dy = uniform(y.size(), 11, -1, 1);
  std::vector<float> G(K.size()), dA(A.size()), dB(B.size());
  REQUIRE(conv1d_backward(l, x.data(), x.size(), N, L, C, dy.data(), dy.size(), nullptr, 0, G.data(), G.size(), nullptr,
                          0, 0) == CONV1D_OK);
  REQUIRE(conv1d_lora_gradients(l, G.data(), G.size(), dA.data(), dA.size(), dB.data(), dB.size(), 0) == CONV1D_OK);
  for (int64_t i = 0; i < k * C; ++i)
    for (int64_t q = 0; q < r; ++q) {
      double s = 0;
      for (int64_t f = 0; f < F; ++f) s += static_cast<double>(G[i * F + f]) * B[q * F + f];
      CHECK(dA[i * r + q] == Approx(2.0 * s).margin(1e-5));
    }
  for (int64_t q = 0; q < r; ++q)
    for (int64_t f = 0; f < F; ++f) {
      double s = 0;
      for (int64_t i = 0; i < k * C; ++i) s += static_cast<double>(A[i * r + q]) * G[i * F + f];
      CHECK(dB[q * F + f] == Approx(2.0 * s).margin(1e-5));
    }

  // The kernel regularizer moves to the factors: the frozen kernel is not penalised.
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_KERNEL_REGULARIZER, "l2") == CONV1D_OK);
  double sq = 0;
  for (float a : A) sq += static_cast<double>(a) * a;
  for (float v : B) sq += static_cast<double>(v) * v;
  CHECK(loss_of(l) == Approx(0.01 * sq));
  std::vector<float> dA2(A.size());
  REQUIRE(conv1d_lora_gradients(l, G.data(), G.size(), dA2.data(), dA2.size(), nullptr, 0,
                                CONV1D_BACKWARD_REGULARIZERS) == CONV1D_OK);
  for (size_t i = 0; i < A.size(); ++i) CHECK(dA2[i] - dA[i] == Approx(0.02 * A[i]).margin(1e-6));
  std::vector<float> G2(K.size());
  REQUIRE(conv1d_backward(l, x.data(), x.size(), N, L, C, dy.data(), dy.size(), nullptr, 0, G2.data(), G2.size(),
                          nullptr, 0, CONV1D_BACKWARD_REGULARIZERS) == CONV1D_OK);
  CHECK(G2 == G);  // nothing added for the frozen kernel

  // Keras' errors.
  CHECK(conv1d_set_int(l, CONV1D_PARAM_LORA_RANK, 3) == CONV1D_ERROR_INVALID_STATE);
  CHECK(std::string(conv1d_last_error_message()) == "lora is already enabled. This can only be done once per layer.");
  // Rank 0 cannot turn it off (Keras has no way to); the message names the way out.
  CHECK(conv1d_set_int(l, CONV1D_PARAM_LORA_RANK, 0) == CONV1D_ERROR_INVALID_STATE);
  CHECK(std::string(conv1d_last_error_message()).find("conv1d_lora_merge") != std::string::npos);
  REQUIRE(conv1d_get_int(l, CONV1D_PARAM_LORA_RANK, &rank) == CONV1D_OK);
  CHECK(rank == 2);
  CHECK(conv1d_set_string(l, CONV1D_PARAM_KERNEL_CONSTRAINT, "max_norm") == CONV1D_ERROR_INVALID_STATE);

  // Merging folds the update into the kernel: same outputs, LoRA off.
  REQUIRE(conv1d_lora_merge(l) == CONV1D_OK);
  REQUIRE(conv1d_get_int(l, CONV1D_PARAM_LORA_RANK, &rank) == CONV1D_OK);
  CHECK(rank == 0);
  size_t n = 1;
  REQUIRE(conv1d_weight_size(l, CONV1D_WEIGHT_LORA_A, &n) == CONV1D_OK);
  CHECK(n == 0);
  const std::vector<float> merged = weight(l, CONV1D_WEIGHT_KERNEL);
  for (size_t i = 0; i < merged.size(); ++i) CHECK(merged[i] == Approx(Keff[i]).margin(1e-6));
  std::vector<float> y2(y.size());
  REQUIRE(conv1d_forward(l, x.data(), x.size(), N, L, C, y2.data(), y2.size()) == CONV1D_OK);
  for (size_t i = 0; i < y.size(); ++i) CHECK(y2[i] == Approx(y[i]).margin(1e-5));
  CHECK(conv1d_lora_merge(l) == CONV1D_ERROR_INVALID_STATE);
  CHECK(conv1d_lora_gradients(l, G.data(), G.size(), dA.data(), dA.size(), nullptr, 0, 0) ==
        CONV1D_ERROR_INVALID_STATE);
}

TEST_CASE("LoRA and kernel constraints exclude each other, as in Keras", "[training][lora][errors]") {
  Layer l(4, 3);
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_KERNEL_CONSTRAINT, "non_neg") == CONV1D_OK);
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_LORA_RANK, 2) == CONV1D_OK);  // accepted, fails at build
  CHECK(conv1d_build(l, 5) == CONV1D_ERROR_INVALID_STATE);
  CHECK(std::string(conv1d_last_error_message()) ==
        "Lora is incompatible with kernel constraints. In order to enable lora on this layer, remove the "
        "`kernel_constraint` argument.");
  size_t n = 0;
  CHECK(conv1d_weight_size(l, CONV1D_WEIGHT_KERNEL, &n) == CONV1D_ERROR_NOT_BUILT);  // still unbuilt
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_LORA_RANK, 0) == CONV1D_OK);
  REQUIRE(conv1d_build(l, 5) == CONV1D_OK);
  CHECK(conv1d_set_int(l, CONV1D_PARAM_LORA_RANK, 2) == CONV1D_ERROR_INVALID_STATE);
  std::vector<float> buf(64);
  CHECK(conv1d_get_weight(l, CONV1D_WEIGHT_LORA_A, buf.data(), buf.size()) == CONV1D_ERROR_INVALID_VALUE);
  CHECK(conv1d_set_int(l, CONV1D_PARAM_LORA_RANK, -1) == CONV1D_ERROR_INVALID_VALUE);
  CHECK(conv1d_set_double(l, CONV1D_PARAM_LORA_ALPHA, NAN) == CONV1D_ERROR_INVALID_VALUE);
  int64_t v = 0;
  CHECK(conv1d_get_int(l, CONV1D_PARAM_LORA_ALPHA, &v) == CONV1D_ERROR_WRONG_TYPE);
  CHECK(conv1d_set_int(l, CONV1D_PARAM_TRAINABLE, 2) == CONV1D_ERROR_INVALID_VALUE);
  int64_t lo = 0, hi = 0;
  REQUIRE(conv1d_param_bounds(CONV1D_PARAM_LORA_RANK, &lo, &hi) == CONV1D_OK);
  CHECK((lo == 0 && hi == 2147483647));
}

TEST_CASE("backward and weight access refuse bad input and change nothing", "[training][errors]") {
  const int64_t N = 2, L = 7, C = 3, F = 4, k = 3;
  Layer l(F, k);
  const std::vector<float> x = uniform(N * L * C, 1, -1, 1), dy = uniform(N * (L - 2) * F, 2, -1, 1);
  std::vector<float> dx(x.size(), 5.0f), dk(k * C * F, 5.0f), db(F, 5.0f);
  auto untouched = [&] {
    CHECK(dx == std::vector<float>(x.size(), 5.0f));
    CHECK(dk == std::vector<float>(k * C * F, 5.0f));
    CHECK(db == std::vector<float>(F, 5.0f));
  };
  auto call = [&](const float* xp, size_t xl, const float* dyp, size_t dyl, float* dxp, size_t dxl, float* dkp,
                  size_t dkl, float* dbp, size_t dbl, uint32_t flags, int64_t channels = 3) {
    return conv1d_backward(l, xp, xl, N, L, channels, dyp, dyl, dxp, dxl, dkp, dkl, dbp, dbl, flags);
  };
  CHECK(call(x.data(), x.size(), dy.data(), dy.size(), dx.data(), dx.size(), dk.data(), dk.size(), db.data(), F, 0) ==
        CONV1D_ERROR_NOT_BUILT);
  REQUIRE(conv1d_build(l, C) == CONV1D_OK);
  CHECK(call(nullptr, 0, dy.data(), dy.size(), dx.data(), dx.size(), nullptr, 0, nullptr, 0, 0) ==
        CONV1D_ERROR_NULL_POINTER);
  CHECK(call(x.data(), x.size(), nullptr, 0, dx.data(), dx.size(), nullptr, 0, nullptr, 0, 0) ==
        CONV1D_ERROR_NULL_POINTER);
  CHECK(call(x.data(), x.size(), dy.data(), dy.size() - 1, dx.data(), dx.size(), nullptr, 0, nullptr, 0, 0) ==
        CONV1D_ERROR_BUFFER_TOO_SMALL);
  CHECK(call(x.data(), x.size(), dy.data(), dy.size(), dx.data(), dx.size() - 1, nullptr, 0, nullptr, 0, 0) ==
        CONV1D_ERROR_BUFFER_TOO_SMALL);
  CHECK(call(x.data(), x.size(), dy.data(), dy.size(), nullptr, 0, dk.data(), dk.size() - 1, nullptr, 0, 0) ==
        CONV1D_ERROR_BUFFER_TOO_SMALL);
  CHECK(call(x.data(), x.size(), dy.data(), dy.size(), nullptr, 0, nullptr, 0, db.data(), F - 1, 0) ==
        CONV1D_ERROR_BUFFER_TOO_SMALL);
  CHECK(call(x.data(), x.size(), dy.data(), dy.size(), dx.data(), dx.size(), nullptr, 0, nullptr, 0, 4) ==
        CONV1D_ERROR_INVALID_VALUE);
  CHECK(call(x.data(), x.size(), dy.data(), dy.size(), dx.data(), dx.size(), nullptr, 0, nullptr, 0, 0, C + 1) ==
        CONV1D_ERROR_CHANNELS_MISMATCH);
  // Outputs overlapping each other or the inputs.
  CHECK(call(x.data(), x.size(), dy.data(), dy.size(), dx.data(), dx.size(), dx.data() + 4, dk.size(), nullptr, 0, 0) ==
        CONV1D_ERROR_INVALID_VALUE);
  std::vector<float> both(dy.size() + x.size());
  CHECK(call(x.data(), x.size(), both.data(), dy.size(), both.data() + 1, x.size(), nullptr, 0, nullptr, 0, 0) ==
        CONV1D_ERROR_INVALID_VALUE);
  CHECK(std::string(conv1d_last_error_message()).find("overlaps the input dy") != std::string::npos);
  untouched();
  // No bias gradient without a bias.
  Layer nb(F, k);
  REQUIRE(conv1d_set_int(nb, CONV1D_PARAM_USE_BIAS, 0) == CONV1D_OK);
  REQUIRE(conv1d_build(nb, C) == CONV1D_OK);
  CHECK(conv1d_backward(nb, x.data(), x.size(), N, L, C, dy.data(), dy.size(), nullptr, 0, nullptr, 0, db.data(), F,
                        0) == CONV1D_ERROR_INVALID_VALUE);
  untouched();

  // Single-weight access.
  const std::vector<float> kernel = weight(l, CONV1D_WEIGHT_KERNEL);
  CHECK(conv1d_set_weight(l, CONV1D_WEIGHT_KERNEL, dk.data(), dk.size() - 1) == CONV1D_ERROR_LENGTH_MISMATCH);
  CHECK(conv1d_set_weight(l, static_cast<conv1d_weight>(7), dk.data(), dk.size()) == CONV1D_ERROR_INVALID_VALUE);
  CHECK(conv1d_get_weight(l, CONV1D_WEIGHT_KERNEL, dk.data(), dk.size() - 1) == CONV1D_ERROR_BUFFER_TOO_SMALL);
  CHECK(conv1d_set_weight(l, CONV1D_WEIGHT_BIAS, nullptr, F) == CONV1D_ERROR_NULL_POINTER);
  CHECK(weight(l, CONV1D_WEIGHT_KERNEL) == kernel);
  untouched();
  REQUIRE(conv1d_set_weight(l, CONV1D_WEIGHT_BIAS, db.data(), F) == CONV1D_OK);
  CHECK(weight(l, CONV1D_WEIGHT_BIAS) == db);
}
