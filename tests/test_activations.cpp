// Tests for src/activations.cpp against an independent float64 implementation
// of the formulas in section 5 of the Keras spec.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "activations.hpp"
#include "error.hpp"
#include "internal_errors.hpp"

using conv1d::activation_is_axiswise;
using conv1d::activation_name;
using conv1d::apply_activation;
using conv1d::apply_elementwise;
using conv1d::check_activation;
using conv1d::parse_activation;

namespace {

constexpr int kCount = CONV1D_ACTIVATION_SPARSEMAX + 1;
const double kNaN = std::numeric_limits<double>::quiet_NaN();

// Builds the enum from an int as a C caller would hand it over. In C any int
// is a valid value of the enum; in C++ values outside the enumerators' bit
// range (0..31) are not, so returning one is exempt from UBSan's enum check.
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 8)
#define NO_SANITIZE_ENUM __attribute__((no_sanitize("enum")))
#else
#define NO_SANITIZE_ENUM
#endif
NO_SANITIZE_ENUM conv1d_activation act(int v) {
  conv1d_activation a;
  static_assert(sizeof a == sizeof v, "conv1d_activation is int-sized");
  std::memcpy(&a, &v, sizeof a);
  return a;
}

bool elementwise(conv1d_activation a) { return a != CONV1D_ACTIVATION_THRESHOLD && !activation_is_axiswise(a); }

// ---- float64 reference ----------------------------------------------------
// Written from the spec's table, in double. Where the literal formula cancels
// in double over the tested range, a mathematically identical form is used
// and named.

double ref_sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// log(1 + e^x); for x >= 30, e^-x < 1e-13 and log(1 + e^x) = x + log1p(e^-x).
double ref_softplus(double x) { return x < 30.0 ? std::log1p(std::exp(x)) : x + std::log1p(std::exp(-x)); }

double clip(double x, double lo, double hi) { return std::min(std::max(x, lo), hi); }

double reference(conv1d_activation a, double x) {
  const double alpha = 1.6732632423543772848170429916717;
  const double scale = 1.0507009873554804934193349852946;
  switch (a) {
    case CONV1D_ACTIVATION_LINEAR:
      return x;
    case CONV1D_ACTIVATION_RELU:
      return std::max(x, 0.0);
    case CONV1D_ACTIVATION_LEAKY_RELU:
      return x >= 0.0 ? x : 0.2 * x;
    case CONV1D_ACTIVATION_RELU6:
      return std::min(std::max(x, 0.0), 6.0);
    case CONV1D_ACTIVATION_ELU:
      return x > 0.0 ? x : std::expm1(x);  // alpha (e^x - 1), alpha = 1
    case CONV1D_ACTIVATION_SELU:
      return scale * (x > 0.0 ? x : alpha * std::expm1(x));
    case CONV1D_ACTIVATION_CELU:
      return std::max(x, 0.0) + std::expm1(std::min(x, 0.0) / 1.0);  // alpha = 1
    case CONV1D_ACTIVATION_GELU:
      // 0.5 x (1 + erf(x/sqrt2)), with 1 + erf(t) = erfc(-t): the literal sum
      // is 0 in double below x = -8.3 while the true value is still ~1e-16.
      return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
    case CONV1D_ACTIVATION_SIGMOID:
      return ref_sigmoid(x);
    case CONV1D_ACTIVATION_HARD_SIGMOID:
      return clip(x / 6.0 + 0.5, 0.0, 1.0);
    case CONV1D_ACTIVATION_SILU:
      return x * ref_sigmoid(x);
    case CONV1D_ACTIVATION_HARD_SILU:
      return x * clip(x + 3.0, 0.0, 6.0) / 6.0;
    case CONV1D_ACTIVATION_MISH:
      return x * std::tanh(ref_softplus(x));
    case CONV1D_ACTIVATION_SOFTPLUS:
      return ref_softplus(x);
    case CONV1D_ACTIVATION_SOFTSIGN:
      return x / (1.0 + std::fabs(x));
    case CONV1D_ACTIVATION_EXPONENTIAL:
      return std::exp(x);
    case CONV1D_ACTIVATION_TANH:
      return std::tanh(x);
    case CONV1D_ACTIVATION_TANH_SHRINK:
      // x - tanh(x); below 1e-3 its Maclaurin series (x^3/3 - 2x^5/15 + 17x^7/315),
      // since the subtraction loses the result's digits in double there.
      if (std::fabs(x) < 1e-3) return x * x * x / 3.0 - 2.0 * std::pow(x, 5) / 15.0 + 17.0 * std::pow(x, 7) / 315.0;
      return x - std::tanh(x);
    case CONV1D_ACTIVATION_HARD_TANH:
      return clip(x, -1.0, 1.0);
    case CONV1D_ACTIVATION_HARD_SHRINK:
      return std::fabs(x) > 0.5 ? x : 0.0;
    case CONV1D_ACTIVATION_SOFT_SHRINK:
      return x > 0.5 ? x - 0.5 : (x < -0.5 ? x + 0.5 : 0.0);
    case CONV1D_ACTIVATION_SPARSE_PLUS:
      return x <= -1.0 ? 0.0 : (x >= 1.0 ? x : (x + 1.0) * (x + 1.0) / 4.0);
    case CONV1D_ACTIVATION_SPARSE_SIGMOID:
      return x <= -1.0 ? 0.0 : (x >= 1.0 ? 1.0 : 0.5 * (x + 1.0));
    case CONV1D_ACTIVATION_SQUAREPLUS:
      return (x + std::sqrt(x * x + 4.0)) / 2.0;
    case CONV1D_ACTIVATION_LOG_SIGMOID:
      return -ref_softplus(-x);
    default:
      FAIL("no elementwise reference for activation " << static_cast<int>(a));
      return kNaN;
  }
}

// Relative tolerance, in units of float epsilon (2^-23): the implementation
// stays within ~2 eps of the float64 value everywhere on the grid (the worst
// are mish and silu between -4 and -10). The comparison also allows an absolute
// 1e-38 so that results in the denormal range (e.g. sigmoid(-100) = 3.7e-44)
// are not judged by relative error.
constexpr double kEpsAllowed = 4.0;

bool within_tol(double got, double want, double rtol, double atol) {
  if (std::isnan(want)) return std::isnan(got);
  // Beyond the float range the only right answer is the float rounding: +-inf.
  if (std::fabs(want) > std::numeric_limits<float>::max()) return got == static_cast<double>(static_cast<float>(want));
  return std::fabs(got - want) <= atol + rtol * std::fabs(want);
}

std::vector<float> grid() {
  std::vector<float> xs;
  for (int i = -2000; i <= 2000; ++i) xs.push_back(static_cast<float>(i * 0.01));            // -20..20 step 0.01
  for (int i = -20 * 128; i <= 20 * 128; ++i) xs.push_back(static_cast<float>(i) / 128.0f);  // exact binary steps
  for (float b : {-3.0f, -1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 3.0f}) {
    for (float d : {0.0f, 1e-7f, 1e-6f, 1e-5f, 1e-4f, 1e-3f, 1e-2f}) {
      xs.push_back(b + d);
      xs.push_back(b - d);
    }
    float up = b, down = b;
    for (int k = 0; k < 4; ++k) {
      up = std::nextafter(up, 1e30f);
      down = std::nextafter(down, -1e30f);
      xs.push_back(up);
      xs.push_back(down);
    }
  }
  for (float m : {1e-38f, 1e-20f, 1e-8f, 30.0f, 50.0f, 80.0f, 88.0f, 89.0f, 100.0f, 1000.0f, 1e4f}) {
    xs.push_back(m);
    xs.push_back(-m);
  }
  for (double e = -8.0; e <= 4.0; e += 0.125) {  // log-spaced magnitudes 1e-8 .. 1e4
    xs.push_back(static_cast<float>(std::pow(10.0, e)));
    xs.push_back(static_cast<float>(-std::pow(10.0, e)));
  }
  return xs;
}

float apply1(conv1d_activation a, float x) {
  apply_elementwise(a, &x, 1);
  return x;
}

using test_util::message_of;
using test_util::status_of;

// ---- axis-wise references ---------------------------------------------------

std::vector<double> ref_softmax(const std::vector<double>& x) {
  const double m = *std::max_element(x.begin(), x.end());
  std::vector<double> y(x.size());
  double s = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) s += (y[i] = std::exp(x[i] - m));
  for (double& v : y) v /= s;
  return y;
}

std::vector<double> ref_log_softmax(const std::vector<double>& x) {
  const double m = *std::max_element(x.begin(), x.end());
  double s = 0.0;
  for (double v : x) s += std::exp(v - m);
  std::vector<double> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = x[i] - m - std::log(s);
  return y;
}

// Sparsemax is the Euclidean projection onto the simplex: y = max(x - tau, 0)
// with sum(y) = 1. Found here by bisection on tau, independently of the
// sort-based algorithm under test.
std::vector<double> ref_sparsemax(const std::vector<double>& x) {
  const double top = *std::max_element(x.begin(), x.end());
  double lo = top - 1.0, hi = top;  // mass(lo) >= 1 >= mass(hi) = 0
  for (int it = 0; it < 200; ++it) {
    const double mid = 0.5 * (lo + hi);
    double mass = 0.0;
    for (double v : x) mass += std::max(v - mid, 0.0);
    (mass > 1.0 ? lo : hi) = mid;
  }
  std::vector<double> y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = std::max(x[i] - 0.5 * (lo + hi), 0.0);
  return y;
}

std::vector<float> run_rows(conv1d_activation a, const std::vector<float>& x, int64_t d0, int64_t d1, int64_t d2,
                            bool in_place) {
  const int64_t out_d2 = a == CONV1D_ACTIVATION_GLU ? d2 / 2 : d2;
  if (in_place) {
    std::vector<float> buf = x;
    apply_activation(a, buf.data(), buf.data(), d0, d1, d2);
    buf.resize(static_cast<std::size_t>(d0 * d1 * out_d2));
    return buf;
  }
  std::vector<float> out(static_cast<std::size_t>(d0 * d1 * out_d2), -12345.0f);
  apply_activation(a, x.data(), out.data(), d0, d1, d2);
  return out;
}

std::vector<float> random_values(std::size_t n, float lo, float hi, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& f : v) f = dist(gen);
  return v;
}

}  // namespace

// ---- names ------------------------------------------------------------------

TEST_CASE("parse_activation accepts every Keras name and round-trips the canonical one", "[activations]") {
  const std::vector<std::pair<std::string, conv1d_activation>> names = {
      {"relu", CONV1D_ACTIVATION_RELU},
      {"leaky_relu", CONV1D_ACTIVATION_LEAKY_RELU},
      {"relu6", CONV1D_ACTIVATION_RELU6},
      {"softmax", CONV1D_ACTIVATION_SOFTMAX},
      {"celu", CONV1D_ACTIVATION_CELU},
      {"elu", CONV1D_ACTIVATION_ELU},
      {"selu", CONV1D_ACTIVATION_SELU},
      {"softplus", CONV1D_ACTIVATION_SOFTPLUS},
      {"softsign", CONV1D_ACTIVATION_SOFTSIGN},
      {"squareplus", CONV1D_ACTIVATION_SQUAREPLUS},
      {"soft_shrink", CONV1D_ACTIVATION_SOFT_SHRINK},
      {"sparse_plus", CONV1D_ACTIVATION_SPARSE_PLUS},
      {"silu", CONV1D_ACTIVATION_SILU},
      {"gelu", CONV1D_ACTIVATION_GELU},
      {"glu", CONV1D_ACTIVATION_GLU},
      {"tanh", CONV1D_ACTIVATION_TANH},
      {"tanh_shrink", CONV1D_ACTIVATION_TANH_SHRINK},
      {"sigmoid", CONV1D_ACTIVATION_SIGMOID},
      {"sparse_sigmoid", CONV1D_ACTIVATION_SPARSE_SIGMOID},
      {"exponential", CONV1D_ACTIVATION_EXPONENTIAL},
      {"hard_sigmoid", CONV1D_ACTIVATION_HARD_SIGMOID},
      {"hard_silu", CONV1D_ACTIVATION_HARD_SILU},
      {"hard_tanh", CONV1D_ACTIVATION_HARD_TANH},
      {"hard_shrink", CONV1D_ACTIVATION_HARD_SHRINK},
      {"linear", CONV1D_ACTIVATION_LINEAR},
      {"mish", CONV1D_ACTIVATION_MISH},
      {"log_softmax", CONV1D_ACTIVATION_LOG_SOFTMAX},
      {"log_sigmoid", CONV1D_ACTIVATION_LOG_SIGMOID},
      {"sparsemax", CONV1D_ACTIVATION_SPARSEMAX},
  };
  REQUIRE(names.size() == static_cast<std::size_t>(kCount - 1));  // all but threshold
  for (const auto& [name, value] : names) {
    INFO(name);
    CHECK(parse_activation(name) == value);
    REQUIRE(activation_name(value) != nullptr);
    CHECK(std::string(activation_name(value)) == name);
    CHECK_NOTHROW(check_activation(value));
  }
}

TEST_CASE("aliases swish and hard_swish resolve to silu and hard_silu", "[activations]") {
  CHECK(parse_activation("swish") == CONV1D_ACTIVATION_SILU);
  CHECK(parse_activation("hard_swish") == CONV1D_ACTIVATION_HARD_SILU);
  CHECK(std::string(activation_name(CONV1D_ACTIVATION_SILU)) == "silu");
  CHECK(std::string(activation_name(CONV1D_ACTIVATION_HARD_SILU)) == "hard_silu");
}

TEST_CASE("every enum value has a distinct canonical name that parses back", "[activations]") {
  std::vector<std::string> seen;
  for (int v = 0; v < kCount; ++v) {
    const char* name = activation_name(act(v));
    REQUIRE(name != nullptr);
    CHECK(std::find(seen.begin(), seen.end(), name) == seen.end());
    seen.push_back(name);
    if (act(v) != CONV1D_ACTIVATION_THRESHOLD) CHECK(parse_activation(name) == act(v));
  }
  CHECK(activation_name(act(kCount)) == nullptr);
  CHECK(activation_name(act(-1)) == nullptr);
}

TEST_CASE("unknown and wrongly cased names are rejected with the name in the message", "[activations]") {
  for (const std::string bad : {"Relu", "ReLU", "RELU", "Swish", "relu ", " relu", "", "softmax2", "swish_", "None",
                                "leaky-relu", "hardswish"}) {
    INFO("name: '" << bad << "'");
    CHECK(status_of([&] { parse_activation(bad); }) == CONV1D_ERROR_UNKNOWN_NAME);
    const std::string msg = message_of([&] { parse_activation(bad); });
    CHECK(msg.find("Could not interpret activation function identifier") != std::string::npos);
    CHECK(msg.find("'" + bad + "'") != std::string::npos);
  }
  CHECK(message_of([] { parse_activation("ReLU"); }).find("did you mean 'relu'") != std::string::npos);
}

TEST_CASE("threshold resolves in Keras but is unsupported by name", "[activations]") {
  CHECK(status_of([] { parse_activation("threshold"); }) == CONV1D_ERROR_UNSUPPORTED);
  CHECK(status_of([] { check_activation(CONV1D_ACTIVATION_THRESHOLD); }) == CONV1D_ERROR_UNSUPPORTED);
  const std::string msg = message_of([] { parse_activation("threshold"); });
  CHECK(msg.find("threshold") != std::string::npos);
  CHECK(msg.find("default") != std::string::npos);
  CHECK(std::string(activation_name(CONV1D_ACTIVATION_THRESHOLD)) == "threshold");
}

TEST_CASE("check_activation rejects values outside the enum, naming them", "[activations]") {
  for (int v : {-1, kCount, 31, 1000}) {
    INFO(v);
    CHECK(status_of([&] { check_activation(act(v)); }) == CONV1D_ERROR_INVALID_VALUE);
    CHECK(message_of([&] { check_activation(act(v)); }).find(std::to_string(v)) != std::string::npos);
  }
}

TEST_CASE("activation_is_axiswise is true exactly for softmax, log_softmax, glu and sparsemax", "[activations]") {
  for (int v = 0; v < kCount; ++v) {
    const bool expected = v == CONV1D_ACTIVATION_SOFTMAX || v == CONV1D_ACTIVATION_LOG_SOFTMAX ||
                          v == CONV1D_ACTIVATION_GLU || v == CONV1D_ACTIVATION_SPARSEMAX;
    CHECK(activation_is_axiswise(act(v)) == expected);
  }
  CHECK_FALSE(activation_is_axiswise(act(kCount)));
}

// ---- elementwise ------------------------------------------------------------

TEST_CASE("elementwise activations match the float64 reference on a dense grid", "[activations]") {
  const std::vector<float> xs = grid();
  const double eps = std::ldexp(1.0, -23);
  for (int v = 0; v < kCount; ++v) {
    const conv1d_activation a = act(v);
    if (!elementwise(a)) continue;
    std::vector<float> ys = xs;
    apply_elementwise(a, ys.data(), ys.size());
    const double rtol = kEpsAllowed * eps;
    double worst = 0.0;
    float worst_x = 0.0f;
    std::size_t failures = 0;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      const double want = reference(a, xs[i]);
      if (!within_tol(ys[i], want, rtol, 1e-38)) {
        if (failures++ < 5) {
          UNSCOPED_INFO(activation_name(a) << "(" << xs[i] << ") = " << ys[i] << ", want " << want);
        }
      }
      if (std::fabs(want) > 1e-30 && std::fabs(want) <= std::numeric_limits<float>::max()) {
        const double rel = std::fabs(ys[i] - want) / std::fabs(want);
        if (rel > worst) worst = rel, worst_x = xs[i];
      }
    }
    INFO(activation_name(a) << ": worst relative error " << worst / eps << " eps at x = " << worst_x);
    CHECK(failures == 0);
  }
}

TEST_CASE("out-of-place, in-place and apply_elementwise agree for elementwise activations", "[activations]") {
  const std::vector<float> x = random_values(2 * 3 * 37, -6.0f, 6.0f, 7);
  for (int v = 0; v < kCount; ++v) {
    const conv1d_activation a = act(v);
    if (!elementwise(a)) continue;
    INFO(activation_name(a));
    const std::vector<float> out = run_rows(a, x, 2, 3, 37, false);
    const std::vector<float> inplace = run_rows(a, x, 2, 3, 37, true);
    std::vector<float> flat = x;
    apply_elementwise(a, flat.data(), flat.size());
    CHECK(out == inplace);
    CHECK(out == flat);
  }
}

TEST_CASE("activation worked values", "[activations]") {
  CHECK(apply1(CONV1D_ACTIVATION_HARD_SIGMOID, 0.0f) == 0.5f);
  CHECK(apply1(CONV1D_ACTIVATION_HARD_SIGMOID, 3.0f) == 1.0f);
  CHECK(apply1(CONV1D_ACTIVATION_HARD_SIGMOID, -3.0f) == 0.0f);
  CHECK(apply1(CONV1D_ACTIVATION_HARD_SIGMOID, 1.0f) == Approx(2.0 / 3.0).epsilon(1e-7));
  CHECK(apply1(CONV1D_ACTIVATION_HARD_SILU, 3.0f) == 3.0f);
  CHECK(apply1(CONV1D_ACTIVATION_HARD_SILU, -3.0f) == 0.0f);
  CHECK(apply1(CONV1D_ACTIVATION_HARD_SILU, 1.0f) == Approx(2.0 / 3.0).epsilon(1e-7));
  CHECK(apply1(CONV1D_ACTIVATION_LEAKY_RELU, -1.0f) == -0.2f);
  CHECK(apply1(CONV1D_ACTIVATION_LEAKY_RELU, 2.0f) == 2.0f);
  CHECK(apply1(CONV1D_ACTIVATION_RELU, -1.0f) == 0.0f);
  CHECK(apply1(CONV1D_ACTIVATION_RELU6, 7.0f) == 6.0f);
  CHECK(apply1(CONV1D_ACTIVATION_SELU, 1.0f) == Approx(1.0507009873554805).epsilon(1e-7));
  CHECK(apply1(CONV1D_ACTIVATION_SELU, -1.0f) == Approx(-1.1113307378125628).epsilon(1e-7));
  CHECK(apply1(CONV1D_ACTIVATION_ELU, -1.0f) == Approx(-0.6321205588285577).epsilon(1e-7));
  CHECK(apply1(CONV1D_ACTIVATION_CELU, -1.0f) == Approx(-0.6321205588285577).epsilon(1e-7));
  CHECK(apply1(CONV1D_ACTIVATION_GELU, 1.0f) == Approx(0.8413447460685429).epsilon(1e-7));
  CHECK(apply1(CONV1D_ACTIVATION_GELU, -1.0f) == Approx(-0.15865525393145707).epsilon(1e-7));
  CHECK(apply1(CONV1D_ACTIVATION_SOFTPLUS, 100.0f) == 100.0f);
  CHECK(apply1(CONV1D_ACTIVATION_SOFTPLUS, 0.0f) == Approx(std::log(2.0)).epsilon(1e-7));
  CHECK(apply1(CONV1D_ACTIVATION_LOG_SIGMOID, 0.0f) == Approx(-std::log(2.0)).epsilon(1e-7));
  CHECK(apply1(CONV1D_ACTIVATION_MISH, 1.0f) == Approx(0.8650983882673103).epsilon(1e-7));
  CHECK(apply1(CONV1D_ACTIVATION_SIGMOID, 0.0f) == 0.5f);
  CHECK(apply1(CONV1D_ACTIVATION_SIGMOID, 100.0f) == 1.0f);
  const float tiny = apply1(CONV1D_ACTIVATION_SIGMOID, -100.0f);  // e^-100 = 3.72e-44, a float denormal
  CHECK_FALSE(std::isnan(tiny));
  CHECK(tiny > 3.0e-44f);
  CHECK(tiny < 4.5e-44f);
  CHECK(apply1(CONV1D_ACTIVATION_SQUAREPLUS, 0.0f) == 1.0f);
  CHECK(apply1(CONV1D_ACTIVATION_SQUAREPLUS, -1e4f) == Approx(1e-4).epsilon(1e-6));
  CHECK(apply1(CONV1D_ACTIVATION_SPARSE_PLUS, 0.0f) == 0.25f);
  CHECK(apply1(CONV1D_ACTIVATION_SPARSE_PLUS, -1.0f) == 0.0f);
  CHECK(apply1(CONV1D_ACTIVATION_SPARSE_PLUS, 1.0f) == 1.0f);
  CHECK(apply1(CONV1D_ACTIVATION_SPARSE_SIGMOID, 0.0f) == 0.5f);
  CHECK(apply1(CONV1D_ACTIVATION_SOFT_SHRINK, 1.0f) == 0.5f);
  CHECK(apply1(CONV1D_ACTIVATION_SOFT_SHRINK, -1.0f) == -0.5f);
  CHECK(apply1(CONV1D_ACTIVATION_SOFT_SHRINK, 0.25f) == 0.0f);
  CHECK(apply1(CONV1D_ACTIVATION_HARD_SHRINK, 0.5f) == 0.0f);  // strictly greater than the threshold
  CHECK(apply1(CONV1D_ACTIVATION_HARD_SHRINK, 0.625f) == 0.625f);
  CHECK(apply1(CONV1D_ACTIVATION_HARD_TANH, -2.0f) == -1.0f);
  CHECK(apply1(CONV1D_ACTIVATION_EXPONENTIAL, 0.0f) == 1.0f);
  CHECK(apply1(CONV1D_ACTIVATION_TANH_SHRINK, 0.0f) == 0.0f);
  CHECK(apply1(CONV1D_ACTIVATION_TANH_SHRINK, 1e-3f) == Approx(1e-9 / 3.0).epsilon(1e-6));
  CHECK(apply1(CONV1D_ACTIVATION_SOFTSIGN, 1.0f) == 0.5f);
  CHECK(apply1(CONV1D_ACTIVATION_LINEAR, -7.25f) == -7.25f);
}

TEST_CASE("activations of infinities give the formulas' limits", "[activations]") {
  const float inf = std::numeric_limits<float>::infinity();
  CHECK(apply1(CONV1D_ACTIVATION_SIGMOID, inf) == 1.0f);
  CHECK(apply1(CONV1D_ACTIVATION_SIGMOID, -inf) == 0.0f);
  CHECK(apply1(CONV1D_ACTIVATION_SOFTPLUS, inf) == inf);
  CHECK(apply1(CONV1D_ACTIVATION_SOFTPLUS, -inf) == 0.0f);
  CHECK(apply1(CONV1D_ACTIVATION_HARD_SILU, -inf) == 0.0f);
  CHECK(apply1(CONV1D_ACTIVATION_HARD_SILU, inf) == inf);
  CHECK(apply1(CONV1D_ACTIVATION_SQUAREPLUS, -inf) == 0.0f);
  CHECK(apply1(CONV1D_ACTIVATION_SQUAREPLUS, inf) == inf);
  CHECK(apply1(CONV1D_ACTIVATION_EXPONENTIAL, 100.0f) == inf);
  CHECK(apply1(CONV1D_ACTIVATION_RELU, inf) == inf);
}

TEST_CASE("NaN propagates through every elementwise activation", "[activations]") {
  for (int v = 0; v < kCount; ++v) {
    const conv1d_activation a = act(v);
    if (!elementwise(a)) continue;
    INFO(activation_name(a));
    // Several NaNs among ordinary values, so the vectorised body is exercised too.
    std::vector<float> x = random_values(64, -4.0f, 4.0f, 3);
    for (std::size_t i = 0; i < x.size(); i += 5) x[i] = std::numeric_limits<float>::quiet_NaN();
    apply_elementwise(a, x.data(), x.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (i % 5 == 0) {
        CHECK(std::isnan(x[i]));
      } else {
        CHECK_FALSE(std::isnan(x[i]));
      }
    }
  }
}

TEST_CASE("apply_elementwise refuses axis-wise activations", "[activations]") {
  float x[4] = {1, 2, 3, 4};
  for (conv1d_activation a : {CONV1D_ACTIVATION_SOFTMAX, CONV1D_ACTIVATION_LOG_SOFTMAX, CONV1D_ACTIVATION_GLU,
                              CONV1D_ACTIVATION_SPARSEMAX, CONV1D_ACTIVATION_THRESHOLD}) {
    INFO(activation_name(a));
    CHECK(status_of([&] { apply_elementwise(a, x, 4); }) == CONV1D_ERROR_INTERNAL);
  }
  CHECK(status_of([&] { apply_elementwise(act(kCount), x, 4); }) == CONV1D_ERROR_INTERNAL);
  CHECK(x[0] == 1.0f);
  CHECK(x[3] == 4.0f);
}

TEST_CASE("activations on empty tensors are a no-op", "[activations]") {
  float x = 5.0f;
  for (int v = 0; v < kCount; ++v) {
    if (act(v) == CONV1D_ACTIVATION_THRESHOLD) continue;
    CHECK_NOTHROW(apply_activation(act(v), &x, &x, 0, 3, 4));
    CHECK_NOTHROW(apply_activation(act(v), &x, &x, 2, 3, 0));
  }
  CHECK(x == 5.0f);
}

// ---- softmax / log_softmax --------------------------------------------------

TEST_CASE("softmax matches the reference along the last axis and rows sum to 1", "[activations]") {
  const int64_t d0 = 2, d1 = 3, d2 = 17;
  std::vector<float> x = random_values(d0 * d1 * d2, -10.0f, 10.0f, 11);
  // One row of large magnitudes, one constant row, one row with a dominant entry.
  for (int64_t i = 0; i < d2; ++i) x[d2 + i] = (i % 2 ? 1e4f : -1e4f) + static_cast<float>(i);
  for (int64_t i = 0; i < d2; ++i) x[2 * d2 + i] = 3.5f;
  x[3 * d2 + 4] = 80.0f;
  for (bool in_place : {false, true}) {
    INFO("in place: " << in_place);
    const std::vector<float> y = run_rows(CONV1D_ACTIVATION_SOFTMAX, x, d0, d1, d2, in_place);
    for (int64_t r = 0; r < d0 * d1; ++r) {
      const std::vector<double> row(x.begin() + r * d2, x.begin() + (r + 1) * d2);
      const std::vector<double> want = ref_softmax(row);
      double sum = 0.0;
      for (int64_t i = 0; i < d2; ++i) {
        INFO("row " << r << " index " << i);
        CHECK(within_tol(y[r * d2 + i], want[i], 2e-7, 1e-38));
        sum += y[r * d2 + i];
      }
      CHECK(sum == Approx(1.0).epsilon(1e-6));
    }
  }
  const std::vector<float> one = run_rows(CONV1D_ACTIVATION_SOFTMAX, {42.0f, -3.0f}, 2, 1, 1, false);
  CHECK(one == std::vector<float>{1.0f, 1.0f});  // a size-1 axis always gives 1
}

TEST_CASE("log_softmax matches log(softmax) and the reference", "[activations]") {
  const int64_t d0 = 3, d1 = 2, d2 = 9;
  std::vector<float> x = random_values(d0 * d1 * d2, -20.0f, 20.0f, 5);
  for (int64_t i = 0; i < d2; ++i) x[i] = 1e4f + 0.25f * static_cast<float>(i);  // large common offset
  for (bool in_place : {false, true}) {
    INFO("in place: " << in_place);
    const std::vector<float> y = run_rows(CONV1D_ACTIVATION_LOG_SOFTMAX, x, d0, d1, d2, in_place);
    const std::vector<float> s = run_rows(CONV1D_ACTIVATION_SOFTMAX, x, d0, d1, d2, false);
    for (int64_t r = 0; r < d0 * d1; ++r) {
      const std::vector<double> row(x.begin() + r * d2, x.begin() + (r + 1) * d2);
      const std::vector<double> want = ref_log_softmax(row);
      const std::vector<double> soft = ref_softmax(row);
      for (int64_t i = 0; i < d2; ++i) {
        INFO("row " << r << " index " << i);
        CHECK(within_tol(y[r * d2 + i], want[i], 2e-7, 1e-12));
        CHECK(within_tol(y[r * d2 + i], std::log(soft[i]), 2e-7, 1e-12));
        // A float log-probability y carries |y| * 2^-24 absolute error, so exp(y) is only that good relatively.
        const double yi = y[r * d2 + i];
        if (s[r * d2 + i] > 1e-30f) CHECK(std::exp(yi) == Approx(s[r * d2 + i]).epsilon(1e-6 + 1.2e-7 * std::fabs(yi)));
      }
    }
  }
}

TEST_CASE("a NaN in a row makes that softmax/log_softmax/sparsemax row NaN and leaves others alone", "[activations]") {
  const int64_t d2 = 5;
  std::vector<float> x = {1, 2, std::numeric_limits<float>::quiet_NaN(), 4, 5, 1, 2, 3, 4, 5};
  for (conv1d_activation a : {CONV1D_ACTIVATION_SOFTMAX, CONV1D_ACTIVATION_LOG_SOFTMAX, CONV1D_ACTIVATION_SPARSEMAX}) {
    INFO(activation_name(a));
    const std::vector<float> y = run_rows(a, x, 1, 2, d2, false);
    for (int64_t i = 0; i < d2; ++i) CHECK(std::isnan(y[i]));
    for (int64_t i = d2; i < 2 * d2; ++i) CHECK_FALSE(std::isnan(y[i]));
  }
}

// ---- glu --------------------------------------------------------------------

TEST_CASE("glu halves the last axis: a * sigmoid(b), out of place and in place", "[activations]") {
  const int64_t d0 = 2, d1 = 3, d2 = 8, h = d2 / 2;
  const std::vector<float> x = random_values(d0 * d1 * d2, -8.0f, 8.0f, 13);
  for (bool in_place : {false, true}) {
    INFO("in place: " << in_place);
    const std::vector<float> y = run_rows(CONV1D_ACTIVATION_GLU, x, d0, d1, d2, in_place);
    REQUIRE(y.size() == static_cast<std::size_t>(d0 * d1 * h));
    for (int64_t r = 0; r < d0 * d1; ++r) {
      for (int64_t i = 0; i < h; ++i) {
        const double a = x[r * d2 + i], b = x[r * d2 + h + i];
        INFO("row " << r << " index " << i);
        CHECK(within_tol(y[r * h + i], a * ref_sigmoid(b), kEpsAllowed * std::ldexp(1.0, -23), 1e-38));
      }
    }
  }
  // Out of place, nothing past d0*d1*h is written.
  std::vector<float> out(d0 * d1 * h + 3, -7.0f);
  apply_activation(CONV1D_ACTIVATION_GLU, x.data(), out.data(), d0, d1, d2);
  CHECK(out[d0 * d1 * h] == -7.0f);
  CHECK(out.back() == -7.0f);
}

TEST_CASE("glu worked example and odd axis", "[activations]") {
  std::vector<float> x = {2.0f, -1.0f, 0.0f, 100.0f};  // a = (2, -1), b = (0, 100)
  apply_activation(CONV1D_ACTIVATION_GLU, x.data(), x.data(), 1, 1, 4);
  CHECK(x[0] == 1.0f);
  CHECK(x[1] == -1.0f);
  float odd[3] = {1, 2, 3};
  CHECK(status_of([&] { apply_activation(CONV1D_ACTIVATION_GLU, odd, odd, 1, 1, 3); }) == CONV1D_ERROR_INTERNAL);
}

// ---- sparsemax ----------------------------------------------------------------

TEST_CASE("sparsemax worked examples", "[activations]") {
  auto sm = [](std::vector<float> x) {
    apply_activation(CONV1D_ACTIVATION_SPARSEMAX, x.data(), x.data(), 1, 1, static_cast<int64_t>(x.size()));
    return x;
  };
  CHECK(sm({1.0f, 2.0f, 3.0f}) == std::vector<float>{0.0f, 0.0f, 1.0f});
  CHECK(sm({-1.0f, 0.0f, 1.0f}) == std::vector<float>{0.0f, 0.0f, 1.0f});  // the Keras docstring example
  CHECK(sm({0.5f, 0.5f}) == std::vector<float>{0.5f, 0.5f});
  CHECK(sm({7.0f}) == std::vector<float>{1.0f});
  const std::vector<float> y = sm({1.0f, 1.2f, 0.1f});  // support {1.2, 1}: tau = 0.6
  CHECK(y[0] == Approx(0.4).epsilon(1e-6));
  CHECK(y[1] == Approx(0.6).epsilon(1e-6));
  CHECK(y[2] == 0.0f);
  const std::vector<float> z = sm({0.0f, 0.5f, 1.0f});  // keras#23425's example
  CHECK(z[0] == 0.0f);
  CHECK(z[1] == Approx(0.25).epsilon(1e-6));
  CHECK(z[2] == Approx(0.75).epsilon(1e-6));
  const std::vector<float> w = sm({0.1f, 0.2f, 0.3f, 0.4f, 0.5f});  // keras#23469's example
  const std::vector<double> want = {0.0, 0.1, 0.2, 0.3, 0.4};
  for (int i = 0; i < 5; ++i) CHECK(w[i] == Approx(want[i]).margin(1e-7));
}

TEST_CASE("sparsemax matches the bisection reference on random rows", "[activations]") {
  const int64_t d0 = 4, d1 = 5, d2 = 12;
  std::vector<float> x = random_values(d0 * d1 * d2, -1.5f, 1.5f, 17);
  for (int64_t i = 0; i < d2; ++i) x[i] = 1e3f + 0.01f * static_cast<float>(i);  // large offset
  for (int64_t i = 0; i < d2; ++i) x[d2 + i] = 2.0f;                             // ties
  for (bool in_place : {false, true}) {
    INFO("in place: " << in_place);
    const std::vector<float> y = run_rows(CONV1D_ACTIVATION_SPARSEMAX, x, d0, d1, d2, in_place);
    for (int64_t r = 0; r < d0 * d1; ++r) {
      const std::vector<double> row(x.begin() + r * d2, x.begin() + (r + 1) * d2);
      const std::vector<double> want = ref_sparsemax(row);
      double sum = 0.0;
      for (int64_t i = 0; i < d2; ++i) {
        INFO("row " << r << " index " << i);
        CHECK(y[r * d2 + i] >= 0.0f);
        CHECK(within_tol(y[r * d2 + i], want[i], 1e-6, 1e-7));
        sum += y[r * d2 + i];
      }
      CHECK(sum == Approx(1.0).epsilon(1e-6));
    }
  }
}

TEST_CASE("axis-wise activations act on the last axis only", "[activations]") {
  // Rows that differ only by a constant are equal after softmax and sparsemax
  // (shift invariance), and distinct rows never mix.
  const std::vector<float> x = {0.0f, 1.0f, 2.0f, 10.0f, 11.0f, 12.0f, 0.0f, 0.0f, 5.0f, -1.0f, 0.0f, 1.0f};
  for (conv1d_activation a : {CONV1D_ACTIVATION_SOFTMAX, CONV1D_ACTIVATION_SPARSEMAX}) {
    INFO(activation_name(a));
    const std::vector<float> y = run_rows(a, x, 2, 2, 3, false);
    for (int i = 0; i < 3; ++i) {
      CHECK(y[i] == Approx(y[3 + i]).epsilon(1e-6));
      CHECK(y[i] == Approx(y[9 + i]).epsilon(1e-6));
    }
  }
}
