// Every kernel against the reference kernel on shapes that hit each loop
// remainder and edge, through the internal ConvProblem interface; and the
// reference itself against a hand-computed case.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "dispatch/dispatch.hpp"
#include "kernels/problem.hpp"

using conv1d::ConvProblem;

namespace {

std::vector<float> random_vec(std::mt19937& rng, size_t n) {
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& e : v) e = u(rng);
  return v;
}

void compare_all(const ConvProblem& p, std::mt19937& rng, bool with_bias) {
  INFO("N=" << p.batch << " L=" << p.in_steps << " C=" << p.in_channels << " Lo=" << p.out_steps << " F="
            << p.filters << " k=" << p.kernel << " s=" << p.stride << " d=" << p.dilation << " G=" << p.groups
            << " pl=" << p.pad_left << " ncw=" << p.channels_first << " bias=" << with_bias);
  const auto x = random_vec(rng, p.batch * p.in_steps * p.in_channels);
  const auto w = random_vec(rng, p.kernel * p.cg() * p.filters);
  const auto b = random_vec(rng, p.filters);
  const size_t ny = p.batch * p.out_steps * p.filters;
  std::vector<float> want(ny);
  conv1d::conv_reference(p, x.data(), w.data(), with_bias ? b.data() : nullptr, want.data());
  for (conv1d_algorithm a : {CONV1D_ALGORITHM_DIRECT, CONV1D_ALGORITHM_GEMM}) {
    INFO("algorithm " << a);
    std::vector<float> y(ny + 8, 1e30f);
    conv1d::run_algorithm(a, p, x.data(), w.data(), with_bias ? b.data() : nullptr, y.data());
    const double tol = 1e-5 * std::sqrt(static_cast<double>(p.kernel * p.cg())) + 1e-6;
    size_t bad = 0;
    for (size_t i = 0; i < ny; ++i)
      if (!(std::fabs(y[i] - want[i]) <= tol * (1 + std::fabs(want[i])))) ++bad;
    CHECK(bad == 0);
    for (size_t i = ny; i < ny + 8; ++i) CHECK(y[i] == 1e30f);  // nothing written past the end
  }
}

}  // namespace

TEST_CASE("reference kernel on a hand-computed case", "[kernels]") {
  // x (1, 3 steps, 2 channels) channels_last, k=2, F=1, same-style pad_left=0.
  ConvProblem p;
  p.in_steps = 3, p.in_channels = 2, p.out_steps = 2, p.filters = 1, p.kernel = 2;
  const std::vector<float> x = {1, 2, 3, 4, 5, 6}, w = {1, -1, 2, 0.5f}, b = {0.25f};
  std::vector<float> y(2);
  conv1d::conv_reference(p, x.data(), w.data(), b.data(), y.data());
  // t=0: 1*1 + 2*-1 + 3*2 + 4*0.5 = 7; t=1: 3 - 4 + 10 + 3 = 12.
  CHECK(y[0] == 7.25f);
  CHECK(y[1] == 12.25f);
  p.pad_left = 1;  // now t=0 sees a zero row then row 0
  conv1d::conv_reference(p, x.data(), w.data(), nullptr, y.data());
  CHECK(y[0] == 1 * 2 + 2 * 0.5f);
  CHECK(y[1] == 7.0f);
}

TEST_CASE("direct and gemm match the reference on random problems", "[kernels]") {
  std::mt19937 rng(2468);
  std::uniform_int_distribution<int64_t> small(1, 6), steps(1, 40), pad(0, 4);
  for (int iter = 0; iter < 300; ++iter) {
    ConvProblem p;
    p.batch = small(rng) % 3 + 1;
    p.groups = std::vector<int64_t>{1, 1, 2, 3}[iter % 4];
    p.in_channels = p.groups * small(rng);
    if (iter % 7 == 0) p.groups = p.in_channels;  // depthwise
    p.filters = p.groups * small(rng);
    p.kernel = small(rng);
    p.stride = iter % 3 == 0 ? small(rng) % 3 + 1 : 1;
    p.dilation = p.stride == 1 ? small(rng) % 3 + 1 : 1;
    p.in_steps = steps(rng);
    p.pad_left = pad(rng);
    p.channels_first = iter % 2 == 1;
    // Any out_steps whose taps stay within pad_left + L + some right padding.
    const int64_t span = (p.kernel - 1) * p.dilation + 1;
    const int64_t padded = p.pad_left + p.in_steps + pad(rng);
    if (padded < span) continue;
    p.out_steps = (padded - span) / p.stride + 1;
    compare_all(p, rng, iter % 5 != 0);
  }
}

TEST_CASE("wide problems where auto picks GEMM", "[kernels]") {
  std::mt19937 rng(11);
  for (bool ncw : {false, true}) {
    ConvProblem p;
    p.batch = 2, p.in_steps = 67, p.in_channels = 35, p.filters = 33, p.kernel = 3, p.pad_left = 1;
    p.out_steps = 67;
    p.channels_first = ncw;
    std::string reason;
    CHECK(conv1d::choose_algorithm(p, &reason) == CONV1D_ALGORITHM_GEMM);
    CHECK(!reason.empty());
    compare_all(p, rng, true);
  }
  ConvProblem dw;
  dw.in_channels = dw.filters = dw.groups = 64, dw.in_steps = dw.out_steps = 100, dw.kernel = 9, dw.pad_left = 4;
  CHECK(conv1d::choose_algorithm(dw, nullptr) == CONV1D_ALGORITHM_DIRECT);
  compare_all(dw, rng, true);
}
