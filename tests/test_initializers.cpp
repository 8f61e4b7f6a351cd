// Tests for the Keras initializers (spec section 6): names, JSON, fans,
// distribution statistics, orthogonality, STFT values, seeds and errors.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "error.hpp"
#include "initializers.hpp"
#include "internal_errors.hpp"

namespace {

using conv1d::Initializer;

using test_util::message_of;
using test_util::status_of;

conv1d_status parse_status(const std::string& spec) {
  return status_of([&] { Initializer::parse(spec); });
}

int64_t count_of(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

std::vector<float> fill_vec(const Initializer& init, const std::vector<int64_t>& shape, uint64_t seed = 1234) {
  std::vector<float> v(static_cast<size_t>(count_of(shape)), -999.0f);
  init.fill(v.data(), shape, seed);
  return v;
}

std::vector<float> fill_vec(const std::string& spec, const std::vector<int64_t>& shape, uint64_t seed = 1234) {
  return fill_vec(Initializer::parse(spec), shape, seed);
}

struct Stats {
  double mean = 0, var = 0, sd = 0, min = 0, max = 0, max_abs = 0;
};

Stats stats_of(const std::vector<float>& v) {
  Stats s;
  s.min = s.max = v.at(0);
  for (float x : v) {
    s.mean += x;
    s.min = std::min(s.min, static_cast<double>(x));
    s.max = std::max(s.max, static_cast<double>(x));
    s.max_abs = std::max(s.max_abs, std::fabs(static_cast<double>(x)));
  }
  s.mean /= static_cast<double>(v.size());
  for (float x : v) s.var += (x - s.mean) * (x - s.mean);
  s.var /= static_cast<double>(v.size() - 1);
  s.sd = std::sqrt(s.var);
  return s;
}

// A VarianceScaling(uniform, scale=1) spec; its limit is sqrt(3 / fan).
std::string uniform_vs(const std::string& mode, const std::string& extra = "") {
  return R"({"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": ")" + mode +
         R"(", "distribution": "uniform")" + extra + "}}";
}

// Checks that samples of a uniform initializer lie in [-limit, limit] and
// reach close to it: with thousands of samples the max is within 1%.
void check_uniform_limit(const std::vector<float>& v, double limit) {
  INFO("expected limit " << limit);
  const Stats s = stats_of(v);
  CHECK(s.max_abs <= static_cast<float>(limit));
  CHECK(s.max_abs >= 0.99 * limit);
}

// Max |(M^T M or M M^T) - gain^2 I| for a rows x cols row-major matrix.
double gram_error(const std::vector<float>& m, size_t rows, size_t cols, bool columns, double gain = 1.0) {
  const size_t k = columns ? cols : rows;
  double err = 0.0;
  for (size_t a = 0; a < k; ++a) {
    for (size_t b = 0; b < k; ++b) {
      double dot = 0.0;
      if (columns) {
        for (size_t i = 0; i < rows; ++i) dot += double(m[i * cols + a]) * m[i * cols + b];
      } else {
        for (size_t j = 0; j < cols; ++j) dot += double(m[a * cols + j]) * m[b * cols + j];
      }
      err = std::max(err, std::fabs(dot - (a == b ? gain * gain : 0.0)));
    }
  }
  return err;
}

const double kPi = std::acos(-1.0);

// Reference hann window written as the textbook formula.
double hann(int64_t t, int64_t frames, bool periodic) {
  if (frames == 1) return 1.0;
  const double len = static_cast<double>(periodic ? frames + 1 : frames);
  return 0.5 - 0.5 * std::cos(2.0 * kPi * static_cast<double>(t) / (len - 1.0));
}

}  // namespace

TEST_CASE("initializers: every Keras name and alias resolves to its class", "[initializers]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"GlorotUniform", "GlorotUniform"},
      {"glorot_uniform", "GlorotUniform"},
      {"GlorotNormal", "GlorotNormal"},
      {"glorot_normal", "GlorotNormal"},
      {"HeUniform", "HeUniform"},
      {"he_uniform", "HeUniform"},
      {"HeNormal", "HeNormal"},
      {"he_normal", "HeNormal"},
      {"LecunUniform", "LecunUniform"},
      {"lecun_uniform", "LecunUniform"},
      {"LecunNormal", "LecunNormal"},
      {"lecun_normal", "LecunNormal"},
      {"RandomNormal", "RandomNormal"},
      {"random_normal", "RandomNormal"},
      {"normal", "RandomNormal"},
      {"RandomUniform", "RandomUniform"},
      {"random_uniform", "RandomUniform"},
      {"uniform", "RandomUniform"},
      {"TruncatedNormal", "TruncatedNormal"},
      {"truncated_normal", "TruncatedNormal"},
      {"VarianceScaling", "VarianceScaling"},
      {"variance_scaling", "VarianceScaling"},
      {"Orthogonal", "Orthogonal"},
      {"orthogonal", "Orthogonal"},
      {"OrthogonalInitializer", "Orthogonal"},
      {"Zeros", "Zeros"},
      {"zeros", "Zeros"},
      {"zero", "Zeros"},
      {"Ones", "Ones"},
      {"ones", "Ones"},
      {"one", "Ones"},
      {"Constant", "Constant"},
      {"constant", "Constant"},
      {"Identity", "Identity"},
      {"identity", "Identity"},
      {"IdentityInitializer", "Identity"},
      {"STFT", "STFT"},
      {"stft", "STFT"},
      {"STFTInitializer", "STFT"},
  };
  for (const auto& c : cases) {
    INFO(c.first);
    CHECK(Initializer::parse(c.first).class_name() == c.second);
    // The same identifiers work as a JSON class_name.
    CHECK(Initializer::parse(R"({"class_name": ")" + c.first + R"(", "config": {}})").class_name() == c.second);
  }
  CHECK(Initializer().class_name() == "GlorotUniform");
}

TEST_CASE("initializers: unknown identifiers", "[initializers]") {
  for (const char* name :
       {"foo", "", "Glorot_Uniform", "glorotuniform", "GLOROT_UNIFORM", " glorot_uniform", "glorot_uniform ", "relu",
        "Initializer", "identity_initializer", "orthogonal_initializer", "stft_initializer", "Zero", "One", "he"}) {
    INFO(name);
    CHECK(parse_status(name) == CONV1D_ERROR_UNKNOWN_NAME);
  }
  CHECK(message_of([] { Initializer::parse("foo"); }) == "Could not interpret initializer identifier: 'foo'");
  CHECK(parse_status(R"({"class_name": "Foo", "config": {}})") == CONV1D_ERROR_UNKNOWN_NAME);
  CHECK(message_of([] { Initializer::parse(R"({"class_name": "MyInit"})"); }) ==
        "Could not interpret initializer identifier: 'MyInit'");
}

TEST_CASE("initializers: JSON envelope", "[initializers]") {
  // Full Keras form, bare form, missing and null config all work.
  CHECK(Initializer::parse(R"({"module": "keras.initializers", "class_name": "HeNormal", "config": {"seed": null,
        "input_axes": null, "output_axes": null}, "registered_name": null})")
            .class_name() == "HeNormal");
  CHECK(Initializer::parse(R"(  {"class_name": "Ones"})").class_name() == "Ones");
  CHECK(Initializer::parse(R"({"class_name": "Ones", "config": null})").class_name() == "Ones");
  // Malformed JSON, and envelopes Keras cannot read.
  for (const char* bad :
       {"{", R"({"class_name": )", R"({"class_name": "Zeros"} x)", R"({"class_name": 'Zeros'})", R"({"config": {}})",
        R"({"class_name": 3, "config": {}})", R"({"class_name": "Zeros", "config": []})",
        R"({"class_name": "Zeros", "config": "x"})", R"({"class_name": "Zeros", "module": 1})"}) {
    INFO(bad);
    CHECK(parse_status(bad) == CONV1D_ERROR_PARSE);
  }
  // The message is nlohmann's own.
  CHECK(message_of([] { Initializer::parse("{"); }).find("parse error") != std::string::npos);
}

TEST_CASE("initializers: unknown and mistyped config keys", "[initializers]") {
  const std::vector<std::pair<std::string, std::string>> unknown = {
      {R"({"class_name": "GlorotUniform", "config": {"scale": 2.0}})", "scale"},
      {R"({"class_name": "HeNormal", "config": {"mode": "fan_in"}})", "mode"},
      {R"({"class_name": "Zeros", "config": {"value": 1}})", "value"},
      {R"({"class_name": "RandomNormal", "config": {"minval": 1}})", "minval"},
      {R"({"class_name": "RandomUniform", "config": {"stddev": 1}})", "stddev"},
      {R"({"class_name": "Identity", "config": {"seed": 1}})", "seed"},
      {R"({"class_name": "Constant", "config": {"seed": 1}})", "seed"},
      {R"({"class_name": "Orthogonal", "config": {"scale": 1}})", "scale"},
      {R"({"class_name": "STFT", "config": {"seed": 1}})", "seed"},
      {R"({"class_name": "VarianceScaling", "config": {"gain": 1}})", "gain"},
  };
  for (const auto& c : unknown) {
    INFO(c.first);
    CHECK(parse_status(c.first) == CONV1D_ERROR_PARSE);
    CHECK(message_of([&] { Initializer::parse(c.first); }).find("'" + c.second + "'") != std::string::npos);
  }
  const std::vector<std::pair<std::string, std::string>> mistyped = {
      {R"({"class_name": "VarianceScaling", "config": {"scale": "2"}})", "scale"},
      {R"({"class_name": "VarianceScaling", "config": {"scale": null}})", "scale"},
      {R"({"class_name": "VarianceScaling", "config": {"mode": 1}})", "mode"},
      {R"({"class_name": "VarianceScaling", "config": {"distribution": ["uniform"]}})", "distribution"},
      {R"({"class_name": "GlorotUniform", "config": {"input_axes": "0"}})", "input_axes"},
      {R"({"class_name": "GlorotUniform", "config": {"output_axes": [1.5]}})", "output_axes"},
      {R"({"class_name": "GlorotUniform", "config": {"seed": 1.5}})", "seed"},
      {R"({"class_name": "GlorotUniform", "config": {"seed": "7"}})", "seed"},
      {R"({"class_name": "GlorotUniform", "config": {"seed": true}})", "seed"},
      {R"({"class_name": "RandomNormal", "config": {"mean": true}})", "mean"},
      {R"({"class_name": "RandomUniform", "config": {"maxval": "1"}})", "maxval"},
      {R"({"class_name": "Constant", "config": {"value": [1]}})", "value"},
      {R"({"class_name": "Orthogonal", "config": {"gain": {}}})", "gain"},
      {R"({"class_name": "STFT", "config": {"periodic": "yes"}})", "periodic"},
      {R"({"class_name": "STFT", "config": {"side": 0}})", "side"},
      {R"({"class_name": "STFT", "config": {"window": 3}})", "window"},
  };
  for (const auto& c : mistyped) {
    INFO(c.first);
    CHECK(parse_status(c.first) == CONV1D_ERROR_PARSE);
    CHECK(message_of([&] { Initializer::parse(c.first); }).find("'" + c.second + "'") != std::string::npos);
  }
}

TEST_CASE("initializers: argument values Keras rejects", "[initializers]") {
  const std::string vs = R"({"class_name": "VarianceScaling", "config": )";
  CHECK(parse_status(vs + R"({"scale": 0}})") == CONV1D_ERROR_INVALID_VALUE);
  CHECK(parse_status(vs + R"({"scale": -1.5}})") == CONV1D_ERROR_INVALID_VALUE);
  CHECK(message_of([&] { Initializer::parse(vs + R"({"scale": -1.5}})"); }) ==
        "Argument `scale` must be positive float. Received: scale=-1.5");
  CHECK(parse_status(vs + R"({"mode": "fan"}})") == CONV1D_ERROR_INVALID_VALUE);
  CHECK(parse_status(vs + R"({"mode": "FAN_IN"}})") == CONV1D_ERROR_INVALID_VALUE);  // mode is case-sensitive
  CHECK(parse_status(vs + R"({"distribution": "gaussian"}})") == CONV1D_ERROR_INVALID_VALUE);
  CHECK(parse_status(vs + R"({"seed": -3}})") == CONV1D_ERROR_INVALID_VALUE);
  CHECK(parse_status(R"({"class_name": "STFT", "config": {"side": "both"}})") == CONV1D_ERROR_INVALID_VALUE);
  CHECK(parse_status(R"({"class_name": "STFT", "config": {"scaling": "energy"}})") == CONV1D_ERROR_INVALID_VALUE);
  CHECK(parse_status(R"({"class_name": "STFT", "config": {"window": "kaiser"}})") == CONV1D_ERROR_UNSUPPORTED);

  // distribution is lower-cased and "normal" means truncated_normal.
  auto dist = [&](const std::string& d) {
    const std::string js = Initializer::parse(vs + R"({"distribution": ")" + d + R"("}})").to_json();
    const size_t at = js.find("\"distribution\":\"");
    REQUIRE(at != std::string::npos);
    const size_t from = at + 16;
    return js.substr(from, js.find('"', from) - from);
  };
  CHECK(dist("Normal") == "truncated_normal");
  CHECK(dist("normal") == "truncated_normal");
  CHECK(dist("UNIFORM") == "uniform");
  CHECK(dist("Untruncated_Normal") == "untruncated_normal");
  CHECK(dist("TRUNCATED_NORMAL") == "truncated_normal");
  // Large non-negative seeds are fine.
  CHECK(parse_status(vs + R"({"seed": 18446744073709551615}})") == CONV1D_OK);
}

TEST_CASE("initializers: glorot_uniform on the worked-example kernel (3,128,32)", "[initializers]") {
  // fan_in = 384, fan_out = 96, limit = sqrt(3 / 240) = 0.1118034.
  const double limit = std::sqrt(6.0 / (384.0 + 96.0));
  CHECK(limit == Approx(0.1118034).epsilon(1e-6));
  const std::vector<float> w = fill_vec("glorot_uniform", {3, 128, 32});
  REQUIRE(w.size() == 12288);
  const Stats s = stats_of(w);
  CHECK(s.max_abs <= static_cast<float>(limit));
  CHECK(s.max > 0.995 * limit);
  CHECK(s.min < -0.995 * limit);
  // The sample mean has stddev limit/sqrt(3n) ~ 0.00058; allow 5 of them.
  CHECK(std::fabs(s.mean) < 0.003);
  CHECK(s.var == Approx(limit * limit / 3.0).epsilon(0.03));
  // The default constructor is the same initializer.
  CHECK(fill_vec(Initializer(), {3, 128, 32}) == w);
}

TEST_CASE("initializers: he and lecun uniform limits", "[initializers]") {
  const std::vector<int64_t> k = {3, 128, 32};  // fan_in 384
  check_uniform_limit(fill_vec("he_uniform", k), std::sqrt(6.0 / 384.0));
  check_uniform_limit(fill_vec("lecun_uniform", k), std::sqrt(3.0 / 384.0));
  const Stats he = stats_of(fill_vec("HeUniform", k));
  CHECK(he.var == Approx(2.0 / 384.0).epsilon(0.03));
  const Stats lecun = stats_of(fill_vec("LecunUniform", k));
  CHECK(lecun.var == Approx(1.0 / 384.0).epsilon(0.03));
}

TEST_CASE("initializers: truncated and untruncated normal variants", "[initializers]") {
  const std::vector<int64_t> k = {3, 128, 32};
  struct Case {
    const char* name;
    double v;  // scale / n
  };
  for (const Case& c : {Case{"glorot_normal", 1.0 / 240.0}, Case{"he_normal", 2.0 / 384.0},
                        Case{"lecun_normal", 1.0 / 384.0}, Case{"variance_scaling", 1.0 / 384.0}}) {
    INFO(c.name);
    const std::vector<float> w = fill_vec(c.name, k);
    const Stats s = stats_of(w);
    const double sd_raw = std::sqrt(c.v) / 0.87962566103423978;
    // Truncation at 2 raw stddevs; the correction restores stddev sqrt(v).
    CHECK(s.max_abs <= static_cast<float>(2.0 * sd_raw));
    CHECK(s.max_abs > 0.97 * 2.0 * sd_raw);
    CHECK(s.sd == Approx(std::sqrt(c.v)).epsilon(0.03));
    CHECK(std::fabs(s.mean) < 0.05 * std::sqrt(c.v));
  }
  // untruncated_normal: N(0, v), so about 4.55% of samples lie beyond 2 sqrt(v).
  const std::vector<float> w = fill_vec(R"({"class_name": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_out",
               "distribution": "untruncated_normal"}})",
                                        k);
  const double sd = std::sqrt(2.0 / 96.0);
  const Stats s = stats_of(w);
  CHECK(s.sd == Approx(sd).epsilon(0.03));
  size_t beyond = 0;
  for (float x : w) beyond += std::fabs(x) > 2.0 * sd;
  CHECK(static_cast<double>(beyond) / w.size() == Approx(0.0455).margin(0.01));
}

TEST_CASE("initializers: fan computation and input_axes/output_axes", "[initializers]") {
  const std::vector<int64_t> k = {7, 16, 64};  // (k, Cg, F): fan_in 112, fan_out 448
  check_uniform_limit(fill_vec(uniform_vs("fan_in"), k), std::sqrt(3.0 / 112.0));
  check_uniform_limit(fill_vec(uniform_vs("fan_out"), k), std::sqrt(3.0 / 448.0));
  check_uniform_limit(fill_vec(uniform_vs("fan_avg"), k), std::sqrt(3.0 / 280.0));
  // Grouped Conv1D kernel: C=64, G=4, F=32 gives (3, 16, 32); fan_out uses all F.
  check_uniform_limit(fill_vec("glorot_uniform", {3, 16, 32}), std::sqrt(6.0 / (48.0 + 96.0)));
  // Rank 2, rank 1 (a bias: limit sqrt(3/F) for glorot_uniform), rank 4.
  check_uniform_limit(fill_vec(uniform_vs("fan_in"), {256, 64}), std::sqrt(3.0 / 256.0));
  check_uniform_limit(fill_vec(uniform_vs("fan_out"), {256, 64}), std::sqrt(3.0 / 64.0));
  check_uniform_limit(fill_vec("glorot_uniform", {4096}), std::sqrt(3.0 / 4096.0));
  check_uniform_limit(fill_vec(uniform_vs("fan_in"), {3, 5, 8, 16}), std::sqrt(3.0 / 120.0));
  check_uniform_limit(fill_vec(uniform_vs("fan_out"), {3, 5, 8, 16}), std::sqrt(3.0 / 240.0));
  // Rank 0: fans are 1, so the one value lies within sqrt(3).
  const std::vector<float> scalar = fill_vec(uniform_vs("fan_in"), {});
  REQUIRE(scalar.size() == 1);
  CHECK(std::fabs(scalar[0]) <= std::sqrt(3.0));

  // Explicit axes multiply the listed dims; negative axes count from the end.
  check_uniform_limit(fill_vec(uniform_vs("fan_in", R"(, "input_axes": [1])"), k), std::sqrt(3.0 / 16.0));
  check_uniform_limit(fill_vec(uniform_vs("fan_in", R"(, "input_axes": [-2])"), k), std::sqrt(3.0 / 16.0));
  check_uniform_limit(fill_vec(uniform_vs("fan_in", R"(, "input_axes": 0)"), k), std::sqrt(3.0 / 7.0));
  check_uniform_limit(fill_vec(uniform_vs("fan_in", R"(, "input_axes": [0, 1])"), k), std::sqrt(3.0 / 112.0));
  check_uniform_limit(fill_vec(uniform_vs("fan_out", R"(, "output_axes": [-1])"), k), std::sqrt(3.0 / 64.0));
  check_uniform_limit(fill_vec(uniform_vs("fan_out", R"(, "output_axes": [0, 2])"), k), std::sqrt(3.0 / 448.0));
  // Overriding one fan keeps the other: fan_avg of (16 + 448) / 2.
  check_uniform_limit(fill_vec(uniform_vs("fan_avg", R"(, "input_axes": [1])"), k), std::sqrt(3.0 / 232.0));
  // Glorot with axes: fan_in 16, fan_out 64 -> limit sqrt(6 / 80).
  check_uniform_limit(
      fill_vec(R"({"class_name": "GlorotUniform", "config": {"input_axes": [1], "output_axes": [2]}})", k),
      std::sqrt(6.0 / 80.0));
  // An axis outside the weight's rank fails when filling.
  for (const char* extra : {R"(, "input_axes": [3])", R"(, "input_axes": [-4])", R"(, "output_axes": [0, 5])"}) {
    INFO(extra);
    const Initializer init = Initializer::parse(uniform_vs("fan_in", extra));
    std::vector<float> out(7 * 16 * 64);
    CHECK(status_of([&] { init.fill(out.data(), k, 1); }) == CONV1D_ERROR_INVALID_VALUE);
  }
}

TEST_CASE("initializers: random normal, truncated normal, random uniform", "[initializers]") {
  const std::vector<int64_t> shape = {100, 200};
  const Stats rn =
      stats_of(fill_vec(R"({"class_name": "RandomNormal", "config": {"mean": 1.0, "stddev": 0.5}})", shape));
  CHECK(rn.mean == Approx(1.0).margin(0.02));
  CHECK(rn.sd == Approx(0.5).epsilon(0.03));
  CHECK(rn.max > 2.5);  // untruncated: 20000 samples reach beyond 3 sigma

  const Stats dflt = stats_of(fill_vec("normal", shape));
  CHECK(dflt.sd == Approx(0.05).epsilon(0.03));

  // TruncatedNormal: within mean +- 2 stddev, no variance correction.
  const Stats tn =
      stats_of(fill_vec(R"({"class_name": "TruncatedNormal", "config": {"mean": 1.0, "stddev": 0.5}})", shape));
  CHECK(tn.min >= 0.0f);
  CHECK(tn.max <= 2.0f);
  CHECK(tn.mean == Approx(1.0).margin(0.02));
  CHECK(tn.sd == Approx(0.5 * 0.87962566103423978).epsilon(0.03));

  const Stats ru =
      stats_of(fill_vec(R"({"class_name": "RandomUniform", "config": {"minval": 2, "maxval": 5}})", shape));
  CHECK(ru.min >= 2.0f);
  CHECK(ru.max <= 5.0f);
  CHECK(ru.min < 2.01);
  CHECK(ru.max > 4.99);
  CHECK(ru.mean == Approx(3.5).margin(0.03));
  CHECK(ru.var == Approx(9.0 / 12.0).epsilon(0.03));

  const Stats ud = stats_of(fill_vec("uniform", shape));
  CHECK(ud.min >= -0.05f);
  CHECK(ud.max <= 0.05f);
}

TEST_CASE("initializers: zeros, ones, constant", "[initializers]") {
  for (float x : fill_vec("zeros", {3, 4})) CHECK(x == 0.0f);
  for (float x : fill_vec("one", {5})) CHECK(x == 1.0f);
  for (float x : fill_vec("constant", {2, 2})) CHECK(x == 0.0f);
  for (float x : fill_vec(R"({"class_name": "Constant", "config": {"value": 0.3}})", {3, 2, 4})) CHECK(x == 0.3f);
  for (float x : fill_vec(R"({"class_name": "Constant", "config": {"value": -7}})", {6})) CHECK(x == -7.0f);
  // A rank-0 weight has one element.
  CHECK(fill_vec("ones", {}) == std::vector<float>{1.0f});
  // Zero-size shapes write nothing and accept a NULL buffer.
  CHECK(status_of([] { Initializer::parse("ones").fill(static_cast<float*>(nullptr), {3, 0, 2}, 1); }) == CONV1D_OK);
}

TEST_CASE("initializers: identity", "[initializers]") {
  const std::vector<float> sq = fill_vec("identity", {3, 3});
  for (size_t i = 0; i < 3; ++i) {
    for (size_t j = 0; j < 3; ++j) CHECK(sq[i * 3 + j] == (i == j ? 1.0f : 0.0f));
  }
  // Rectangular, with gain.
  const std::vector<float> rect = fill_vec(R"({"class_name": "Identity", "config": {"gain": 2.5}})", {2, 4});
  CHECK(rect == std::vector<float>{2.5f, 0, 0, 0, 0, 2.5f, 0, 0});
  // Keras raises on anything but rank 2, e.g. a Conv1D kernel.
  const Initializer id = Initializer::parse("Identity");
  std::vector<float> out(60);
  CHECK(status_of([&] { id.fill(out.data(), {3, 4, 5}, 1); }) == CONV1D_ERROR_UNSUPPORTED);
  CHECK(message_of([&] {
          id.fill(out.data(), {3, 4, 5}, 1);
        }) == "Identity matrix initializer can only be used for 2D matrices. Received: shape=(3, 4, 5) of rank 3.");
  CHECK(status_of([&] { id.fill(out.data(), {5}, 1); }) == CONV1D_ERROR_UNSUPPORTED);
}

TEST_CASE("initializers: orthogonal", "[initializers]") {
  // (3, 4, 5): rows 12, cols 5 -> orthonormal columns.
  const std::vector<float> q = fill_vec("orthogonal", {3, 4, 5});
  CHECK(gram_error(q, 12, 5, true) < 1e-5);
  // rows < cols: (3, 7) and (2, 3, 8) -> orthonormal rows.
  CHECK(gram_error(fill_vec("Orthogonal", {3, 7}), 3, 7, false) < 1e-5);
  CHECK(gram_error(fill_vec("OrthogonalInitializer", {2, 3, 8}), 6, 8, false) < 1e-5);
  // Square: both; and a conv-sized kernel.
  const std::vector<float> sq = fill_vec("orthogonal", {6, 6});
  CHECK(gram_error(sq, 6, 6, true) < 1e-5);
  CHECK(gram_error(sq, 6, 6, false) < 1e-5);
  CHECK(gram_error(fill_vec("orthogonal", {3, 64, 32}), 192, 32, true) < 1e-5);
  // gain scales: Q^T Q = gain^2 I.
  CHECK(gram_error(fill_vec(R"({"class_name": "Orthogonal", "config": {"gain": 2.0}})", {3, 4, 5}), 12, 5, true, 2.0) <
        1e-5);
  // A square orthogonal matrix has entries of variance 1/n.
  const Stats s = stats_of(fill_vec("orthogonal", {64, 64}));
  CHECK(s.var == Approx(1.0 / 64.0).epsilon(0.05));
  // Keras needs rank >= 2.
  const Initializer o = Initializer::parse("orthogonal");
  std::vector<float> out(5);
  CHECK(status_of([&] { o.fill(out.data(), {5}, 1); }) == CONV1D_ERROR_UNSUPPORTED);
  CHECK(message_of([&] { o.fill(out.data(), {5}, 1); }) ==
        "The tensor to initialize must be at least two-dimensional. Received: shape=(5,) of rank 1.");
  CHECK(status_of([&] { o.fill(out.data(), {}, 1); }) == CONV1D_ERROR_UNSUPPORTED);
}

TEST_CASE("initializers: STFT values from the formula", "[initializers]") {
  const int64_t T = 16, C = 2, F = 9;
  struct Case {
    std::string config;
    bool imag, periodic, windowed;
    int scaling;  // 0 density, 1 spectrum, 2 None
  };
  const std::vector<Case> cases = {
      {"{}", false, false, true, 0},
      {R"({"side": "imag", "periodic": true, "scaling": "spectrum"})", true, true, true, 1},
      {R"({"side": "real", "scaling": null})", false, false, true, 2},
      {R"({"side": "imag", "window": null})", true, false, false, 0},
      {R"({"side": "real", "window": "hann", "periodic": true, "scaling": "density"})", false, true, true, 0},
  };
  for (const Case& c : cases) {
    INFO(c.config);
    const std::vector<float> w = fill_vec(R"({"class_name": "STFT", "config": )" + c.config + "}", {T, C, F});
    double s = 1.0;
    if (c.windowed && c.scaling == 0) {
      double sum2 = 0.0;
      for (int64_t t = 0; t < T; ++t) sum2 += hann(t, T, c.periodic) * hann(t, T, c.periodic);
      s = std::sqrt(sum2);
    } else if (c.windowed && c.scaling == 1) {
      s = 0.0;
      for (int64_t t = 0; t < T; ++t) s += std::fabs(hann(t, T, c.periodic));
    }
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t ch = 0; ch < C; ++ch) {
        for (int64_t f = 0; f < F; ++f) {
          const double arg = -2.0 * kPi * double(t) * double(f) / (2.0 * double(F - 1));
          double expected = c.imag ? std::sin(arg) : std::cos(arg);
          if (c.windowed) expected *= hann(t, T, c.periodic) / s;
          CHECK(w[size_t((t * C + ch) * F + f)] == Approx(expected).margin(1e-6));
        }
      }
    }
  }
  // Two spot values: density-scaled symmetric hann, T=16: sum(win^2) = 5.625.
  const std::vector<float> d = fill_vec("stft", {T, 1, F});
  CHECK(d[size_t(8 * F + 0)] == Approx(hann(8, T, false) / std::sqrt(5.625)).margin(1e-7));
  CHECK(d[0] == 0.0f);  // the symmetric hann window starts at 0
  // An explicit window array must be frame_length long.
  const Initializer arr = Initializer::parse(R"({"class_name": "STFT", "config": {"window": [1, 1, 1, 1]}})");
  const std::vector<float> ones = fill_vec(arr, {4, 1, 3});
  CHECK(ones[0] == Approx(0.5).margin(1e-7));  // cos(0) * 1 / sqrt(4)
  std::vector<float> out(5 * 3);
  CHECK(status_of([&] { arr.fill(out.data(), {5, 1, 3}, 1); }) == CONV1D_ERROR_INVALID_VALUE);
  // Only (T, Cin, Fb) kernels.
  CHECK(status_of([&] { Initializer::parse("STFT").fill(out.data(), {5, 3}, 1); }) == CONV1D_ERROR_UNSUPPORTED);
}

TEST_CASE("initializers: seeds", "[initializers]") {
  for (const char* name : {"glorot_uniform", "he_normal", "random_normal", "truncated_normal", "random_uniform",
                           "orthogonal", "variance_scaling"}) {
    INFO(name);
    const Initializer init = Initializer::parse(name);
    // Same seed, same values; different seeds differ.
    CHECK(fill_vec(init, {3, 8, 4}, 7) == fill_vec(init, {3, 8, 4}, 7));
    CHECK(fill_vec(init, {3, 8, 4}, 7) != fill_vec(init, {3, 8, 4}, 8));
    // The initializer's own seed wins over the default, and is used as is.
    const Initializer seeded =
        Initializer::parse(std::string(R"({"class_name": ")") + name + R"(", "config": {"seed": 7}})");
    CHECK(fill_vec(seeded, {3, 8, 4}, 1) == fill_vec(seeded, {3, 8, 4}, 2));
    CHECK(fill_vec(seeded, {3, 8, 4}, 99) == fill_vec(init, {3, 8, 4}, 7));
  }
  const std::vector<float> a = fill_vec(R"({"class_name": "GlorotUniform", "config": {"seed": 1}})", {64}, 0);
  const std::vector<float> b = fill_vec(R"({"class_name": "GlorotUniform", "config": {"seed": 2}})", {64}, 0);
  CHECK(a != b);
  // Seed 0 is a seed like any other.
  CHECK(fill_vec("glorot_uniform", {64}, 0) != fill_vec("glorot_uniform", {64}, 1));
}

TEST_CASE("initializers: Keras 3.15 serialized form", "[initializers]") {
  const std::string pre = R"({"module":"keras.initializers","class_name":")";
  const std::string post = R"(,"registered_name":null})";
  CHECK(Initializer().to_json() ==
        pre + R"(GlorotUniform","config":{"seed":null,"input_axes":null,"output_axes":null})" + post);
  CHECK(Initializer::parse("he_normal").to_json() ==
        pre + R"(HeNormal","config":{"seed":null,"input_axes":null,"output_axes":null})" + post);
  CHECK(Initializer::parse("zeros").to_json() == pre + R"(Zeros","config":{})" + post);
  CHECK(Initializer::parse("one").to_json() == pre + R"(Ones","config":{})" + post);
  CHECK(Initializer::parse("variance_scaling").to_json() ==
        pre +
            R"(VarianceScaling","config":{"seed":null,"scale":1.0,"mode":"fan_in","distribution":"truncated_normal",)"
            R"("input_axes":null,"output_axes":null})" +
            post);
  CHECK(Initializer::parse("normal").to_json() ==
        pre + R"(RandomNormal","config":{"seed":null,"mean":0.0,"stddev":0.05})" + post);
  CHECK(Initializer::parse("truncated_normal").to_json() ==
        pre + R"(TruncatedNormal","config":{"seed":null,"mean":0.0,"stddev":0.05})" + post);
  CHECK(Initializer::parse("uniform").to_json() ==
        pre + R"(RandomUniform","config":{"seed":null,"minval":-0.05,"maxval":0.05})" + post);
  CHECK(Initializer::parse("constant").to_json() == pre + R"(Constant","config":{"value":0.0})" + post);
  CHECK(Initializer::parse("OrthogonalInitializer").to_json() ==
        pre + R"(Orthogonal","config":{"seed":null,"gain":1.0})" + post);
  CHECK(Initializer::parse("IdentityInitializer").to_json() == pre + R"(Identity","config":{"gain":1.0})" + post);
  CHECK(Initializer::parse("STFTInitializer").to_json() ==
        pre + R"(STFT","config":{"side":"real","window":"hann","periodic":false,"scaling":"density"})" + post);
  CHECK(Initializer::parse(R"({"class_name": "glorot_uniform", "config": {"seed": 42, "input_axes": [0, 1],
        "output_axes": -1}})")
            .to_json() == pre + R"(GlorotUniform","config":{"seed":42,"input_axes":[0,1],"output_axes":[-1]})" + post);
}

TEST_CASE("initializers: JSON round trip", "[initializers]") {
  const std::vector<std::pair<std::string, std::vector<int64_t>>> cases = {
      {"glorot_uniform", {3, 8, 4}},
      {R"({"class_name": "GlorotNormal", "config": {"seed": 5, "input_axes": [1], "output_axes": [0, 2]}})", {3, 8, 4}},
      {R"({"class_name": "HeUniform", "config": {"seed": 18446744073709551615}})", {3, 8, 4}},
      {"lecun_normal", {3, 8, 4}},
      {R"({"class_name": "VarianceScaling", "config": {"scale": 0.3, "mode": "fan_avg", "distribution": "Normal",
          "seed": 9, "input_axes": null, "output_axes": [2]}})",
       {3, 8, 4}},
      {R"({"class_name": "VarianceScaling", "config": {"distribution": "untruncated_normal"}})", {3, 8, 4}},
      {R"({"class_name": "RandomNormal", "config": {"mean": -1.25, "stddev": 3.0, "seed": 11}})", {3, 8, 4}},
      {R"({"class_name": "TruncatedNormal", "config": {"mean": 0.1, "stddev": 0.2}})", {3, 8, 4}},
      {R"({"class_name": "RandomUniform", "config": {"minval": -3, "maxval": 0.001}})", {3, 8, 4}},
      {R"({"class_name": "Constant", "config": {"value": 0.123456789}})", {3, 8, 4}},
      {"zeros", {3, 8, 4}},
      {"ones", {3, 8, 4}},
      {R"({"class_name": "Orthogonal", "config": {"gain": 0.5, "seed": 3}})", {3, 8, 4}},
      {R"({"class_name": "Identity", "config": {"gain": -2}})", {8, 4}},
      {R"({"class_name": "STFT", "config": {"side": "imag", "window": "hamming", "scaling": null, "periodic": true}})",
       {8, 2, 5}},
      {R"({"class_name": "STFT", "config": {"window": [0.5, 1, 1, 0.5], "scaling": "spectrum"}})", {4, 1, 5}},
      {R"({"class_name": "STFT", "config": {"window": null}})", {8, 1, 5}},
  };
  for (const auto& c : cases) {
    INFO(c.first);
    const Initializer a = Initializer::parse(c.first);
    const std::string js = a.to_json();
    const Initializer b = Initializer::parse(js);
    CHECK(b.class_name() == a.class_name());
    CHECK(b.to_json() == js);
    CHECK(fill_vec(b, c.second, 17) == fill_vec(a, c.second, 17));
  }
}

TEST_CASE("initializers: bad shapes", "[initializers]") {
  std::vector<float> out(16);
  CHECK(status_of([&] { Initializer().fill(out.data(), {4, -1}, 1); }) == CONV1D_ERROR_INVALID_SIZE);
  CHECK(status_of([&] { Initializer().fill(out.data(), {INT64_MAX, INT64_MAX}, 1); }) == CONV1D_ERROR_SIZE_OVERFLOW);
  CHECK(status_of([&] { Initializer().fill(static_cast<float*>(nullptr), {4, 4}, 1); }) == CONV1D_ERROR_NULL_POINTER);
}

TEST_CASE("initializers: orthogonal is the sign-corrected Q of the QR of a normal draw", "[initializers]") {
  // Orthogonal draws `a` from the same N(0, 1) stream as RandomNormal(0, 1) of
  // shape (max, min), so we can rebuild `a` and check that R = Q^T a is upper
  // triangular with a positive diagonal and that Q R = a.
  const Initializer unit = Initializer::parse(R"({"class_name": "RandomNormal", "config": {"mean": 0, "stddev": 1}})");
  struct Case {
    std::vector<int64_t> shape;
    size_t rows, cols;
  };
  for (const Case& c : {Case{{3, 4, 5}, 12, 5}, Case{{3, 7}, 3, 7}, Case{{9, 9}, 9, 9}, Case{{2, 3, 8}, 6, 8}}) {
    INFO("rows " << c.rows << " cols " << c.cols);
    const size_t m = std::max(c.rows, c.cols), k = std::min(c.rows, c.cols);
    const std::vector<float> a = fill_vec(unit, {int64_t(m), int64_t(k)}, 77);
    const std::vector<float> out = fill_vec("orthogonal", c.shape, 77);
    // q (m x k): the output itself, or its transpose when rows < cols.
    auto q = [&](size_t i, size_t j) { return double(c.rows >= c.cols ? out[i * c.cols + j] : out[j * c.cols + i]); };
    double worst_lower = 0.0, worst_recon = 0.0, min_diag = 1e300;
    std::vector<double> r(k * k);
    for (size_t i = 0; i < k; ++i) {
      for (size_t j = 0; j < k; ++j) {
        double dot = 0.0;
        for (size_t t = 0; t < m; ++t) dot += q(t, i) * a[t * k + j];
        r[i * k + j] = dot;
        if (i > j) worst_lower = std::max(worst_lower, std::fabs(dot));
        if (i == j) min_diag = std::min(min_diag, dot);
      }
    }
    for (size_t t = 0; t < m; ++t) {
      for (size_t j = 0; j < k; ++j) {
        double x = 0.0;
        for (size_t i = 0; i <= j; ++i) x += q(t, i) * r[i * k + j];
        worst_recon = std::max(worst_recon, std::fabs(x - a[t * k + j]));
      }
    }
    CHECK(worst_lower < 1e-5);
    CHECK(min_diag > 0.0);
    CHECK(worst_recon < 1e-5);
  }
  // Hence (r, c) and (c, r) with one seed are transposes of each other.
  const std::vector<float> wide = fill_vec("orthogonal", {4, 10}, 5), tall = fill_vec("orthogonal", {10, 4}, 5);
  for (size_t i = 0; i < 4; ++i) {
    for (size_t j = 0; j < 10; ++j) CHECK(wide[i * 10 + j] == tall[j * 4 + i]);
  }
}

TEST_CASE("initializers: the random stream is fixed (xoshiro256** from splitmix64)", "[initializers]") {
  // Uniform values use only integer arithmetic and one multiply-add, so they
  // are exact on every platform; these were cross-checked with a Python
  // transcription of splitmix64 + xoshiro256**.
  CHECK(fill_vec("glorot_uniform", {2, 2}, 42) ==
        std::vector<float>{-1.01932335f, -0.296436638f, 0.441014498f, 1.04028106f});
  // Normals go through log and sqrt, so allow for a libm's last-ulp differences.
  const std::vector<float> n =
      fill_vec(R"({"class_name": "RandomNormal", "config": {"mean": 0, "stddev": 1}})", {4}, 42);
  const std::vector<double> expected = {-0.726219118, -0.211196914, 0.221622705, 0.522771716};
  for (size_t i = 0; i < 4; ++i) CHECK(n[i] == Approx(expected[i]).epsilon(1e-6));
}
