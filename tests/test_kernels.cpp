// Every kernel path at every ISA level against the reference kernel, through
// the internal dispatch interface, on shapes that hit each tile remainder;
// plus the reference itself on a hand-computed case.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "activations.hpp"
#include "dispatch/cpu.hpp"
#include "dispatch/dispatch.hpp"
#include "kernels/backward.hpp"
#include "kernels/direct_isa.hpp"
#include "kernels/problem.hpp"
#include "kernels/transpose.hpp"

using conv1d::ConvProblem;

namespace {

std::vector<float> random_vec(std::mt19937& rng, size_t n) {
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& e : v) e = u(rng);
  return v;
}

const conv1d::BackwardKernels& simd_backward(conv1d_isa isa) {
  return isa == CONV1D_ISA_AVX512 ? conv1d::avx512::backward : conv1d::avx2::backward;
}

const conv1d::DirectKernels& simd_kernels(conv1d_isa isa) {
  return isa == CONV1D_ISA_AVX512 ? conv1d::avx512::kernels : conv1d::avx2::kernels;
}

// The float64 oracle's dW of channels_last or channels_first x and dz, and
// the tolerance of a float sum over the batch's rows.
std::vector<float> oracle_dw(const ConvProblem& p, const std::vector<float>& x, const std::vector<float>& dz,
                             double* tol) {
  std::vector<float> want(static_cast<size_t>(p.kernel * p.cg() * p.filters));
  conv1d::backward_weights_reference(p, x.data(), dz.data(), want.data());
  *tol = 1e-5 * std::sqrt(static_cast<double>(p.batch * p.out_steps)) + 1e-6;
  return want;
}

std::vector<conv1d_isa> simd_isas() {
  std::vector<conv1d_isa> isas;
  for (conv1d_isa i : {CONV1D_ISA_AVX2, CONV1D_ISA_AVX512})
    if (conv1d::detected_isa() >= i) isas.push_back(i);
  return isas;
}

// Runs `p` through every plan the library has for it (scalar direct, SIMD
// direct at each ISA with 1 and 2 threads, GEMM) with activation `act`, and
// compares with reference + activation. Returns how many SIMD plans ran.
int compare_all(const ConvProblem& p, std::mt19937& rng, bool with_bias, conv1d_activation act) {
  INFO("N=" << p.batch << " L=" << p.in_steps << " C=" << p.in_channels << " Lo=" << p.out_steps << " F=" << p.filters
            << " k=" << p.kernel << " s=" << p.stride << " d=" << p.dilation << " G=" << p.groups
            << " pl=" << p.pad_left << " ncw=" << p.channels_first << " bias=" << with_bias
            << " act=" << conv1d::activation_name(act));
  const auto x = random_vec(rng, p.batch * p.in_steps * p.in_channels);
  const auto w = random_vec(rng, p.kernel * p.cg() * p.filters);
  const auto b = random_vec(rng, p.filters);
  const float* bias = with_bias ? b.data() : nullptr;
  const size_t ny = p.batch * p.out_steps * p.filters;
  std::vector<float> want(ny);
  conv1d::conv_reference(p, x.data(), w.data(), bias, want.data());
  conv1d::apply_elementwise(act, want.data(), ny);

  std::vector<conv1d::Plan> plans;
  std::vector<conv1d::PackedWeights> packs;
  std::vector<const conv1d::PackedWeights*> plan_packs;
  conv1d::PackKind kind;
  conv1d::ExecConfig e;
  e.algorithm = CONV1D_ALGORITHM_DIRECT;
  plans.push_back(conv1d::make_plan(p, e, nullptr, CONV1D_ISA_SCALAR));
  plan_packs.push_back(nullptr);
  packs.reserve(4);
  int simd = 0;
  for (conv1d_isa isa : simd_isas()) {
    if (!conv1d::simd_pack_kind(p, &kind)) break;
    packs.push_back(conv1d::pack_for(p, isa, w.data(), bias));
    for (int threads : {1, 2}) {
      e.max_isa = isa;
      e.threads = threads;
      conv1d::Plan plan = conv1d::make_plan(p, e, &packs.back(), isa);
      REQUIRE(plan.isa == isa);
      plan.threads = threads;  // force the split even where it would not pay
      plans.push_back(plan);
      plan_packs.push_back(&packs.back());
      ++simd;
    }
  }
  if (conv1d::algorithm_supports(CONV1D_ALGORITHM_GEMM, p)) {
    e.algorithm = CONV1D_ALGORITHM_GEMM;
    plans.push_back(conv1d::make_plan(p, e, nullptr, CONV1D_ISA_SCALAR));
    plan_packs.push_back(nullptr);
  }
  std::vector<float> first_simd;
  for (size_t i = 0; i < plans.size(); ++i) {
    INFO("plan " << plans[i].kernel << " threads " << plans[i].threads);
    std::vector<float> y(ny + 8, 1e30f);
    const bool fused = conv1d::execute(plans[i], p, x.data(), w.data(), bias, plan_packs[i], act, y.data());
    if (!fused) conv1d::apply_elementwise(act, y.data(), ny);
    const double tol = 1e-5 * std::sqrt(static_cast<double>(p.kernel * p.cg())) + 1e-6;
    size_t bad = 0;
    for (size_t j = 0; j < ny; ++j)
      if (!(std::fabs(y[j] - want[j]) <= tol * (1 + std::fabs(want[j])))) {
        if (bad++ < 3) FAIL_CHECK("y[" << j << "] = " << y[j] << ", want " << want[j]);
      }
    CHECK(bad == 0);
    for (size_t j = ny; j < ny + 8; ++j) CHECK(y[j] == 1e30f);  // nothing written past the end
    // The same ISA gives bitwise the same output for 1 and 2 threads.
    if (plans[i].isa != CONV1D_ISA_SCALAR && plans[i].algorithm == CONV1D_ALGORITHM_DIRECT) {
      if (plans[i].threads == 1)
        first_simd.assign(y.begin(), y.begin() + ny);
      else
        CHECK(std::equal(first_simd.begin(), first_simd.end(), y.begin()));
    }
  }
  return simd;
}

ConvProblem problem(int64_t n, int64_t L, int64_t C, int64_t F, int64_t k, int64_t s, int64_t d, int64_t G,
                    int64_t pad_left, int64_t pad_right, bool ncw) {
  ConvProblem p;
  p.batch = n, p.in_steps = L, p.in_channels = C, p.filters = F, p.kernel = k, p.stride = s, p.dilation = d;
  p.groups = G, p.pad_left = pad_left, p.channels_first = ncw;
  p.out_steps = (pad_left + L + pad_right - (k - 1) * d - 1) / s + 1;
  return p;
}

}  // namespace

TEST_CASE("reference kernel on a hand-computed case", "[kernels]") {
  // x (1, 3 steps, 2 channels) channels_last, k=2, F=1.
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

TEST_CASE("channels_last SIMD kernel: every filter-vector count and row remainder", "[kernels][simd]") {
  std::mt19937 rng(1);
  int simd = 0;
  // F from 1 to 70 covers 1-5 vectors of 16 and 1-9 of 8, with every lane
  // remainder class; Lo up to 31 covers every row remainder of the tiles.
  for (int64_t F = 1; F <= 70; F += 3) {
    const int64_t L = 5 + F % 29;
    simd += compare_all(problem(2, L, 3 + F % 5, F, 1 + F % 4, 1, 1, 1, F % 3, (F + 1) % 3, false), rng, F % 2,
                        F % 4 == 0 ? CONV1D_ACTIVATION_RELU : CONV1D_ACTIVATION_LINEAR);
  }
  // Filters past the last full vector as dot products over the channels
  // (PackedTail): long reductions whose channels fill their vectors or leave
  // a masked one, padded edges, stride, dilation, activations in registers
  // and after the store, both task orders (the last one block-major).
  simd += compare_all(problem(2, 41, 300, 100, 3, 1, 1, 1, 0, 0, false), rng, true, CONV1D_ACTIVATION_LINEAR);
  simd += compare_all(problem(1, 57, 64, 20, 3, 2, 1, 1, 1, 1, false), rng, true, CONV1D_ACTIVATION_RELU);
  simd += compare_all(problem(2, 30, 40, 34, 5, 1, 2, 1, 8, 0, false), rng, false, CONV1D_ACTIVATION_SIGMOID);
  simd += compare_all(problem(1, 19, 300, 260, 3, 1, 1, 1, 1, 1, false), rng, true, CONV1D_ACTIVATION_TANH);
  // Groups, stride, dilation, padding beyond the kernel span, fused sigmoid.
  simd += compare_all(problem(3, 23, 12, 18, 3, 2, 1, 3, 2, 1, false), rng, true, CONV1D_ACTIVATION_SIGMOID);
  simd += compare_all(problem(1, 40, 8, 36, 3, 1, 5, 2, 10, 0, false), rng, true, CONV1D_ACTIVATION_TANH);
  simd += compare_all(problem(2, 9, 5, 33, 4, 3, 1, 1, 4, 6, false), rng, false, CONV1D_ACTIVATION_GELU);
  simd += compare_all(problem(1, 200, 1, 48, 10, 5, 1, 1, 0, 0, false), rng, true, CONV1D_ACTIVATION_LINEAR);
  simd += compare_all(problem(1, 64, 4, 72, 15, 1, 1, 1, 7, 7, false), rng, true, CONV1D_ACTIVATION_RELU);
  // Weights beyond L2 take the block-major task order.
  simd += compare_all(problem(2, 37, 256, 272, 3, 1, 1, 1, 1, 1, false), rng, true, CONV1D_ACTIVATION_LINEAR);
  // Outputs beyond 12 MiB take the non-temporal store path.
  simd += compare_all(problem(1, 52000, 1, 64, 3, 1, 1, 1, 1, 1, false), rng, true, CONV1D_ACTIVATION_RELU);
  // Depthwise multiplier 2 goes through the generic kernel.
  simd += compare_all(problem(2, 30, 6, 12, 5, 1, 1, 6, 2, 2, false), rng, true, CONV1D_ACTIVATION_LINEAR);
  // More filter blocks than a task prepares up front (64: 67 blocks on AVX2,
  // 66 on AVX-512): the rest take the per-tile path.
  simd += compare_all(problem(1, 20, 2, 1600, 2, 1, 1, 1, 1, 0, false), rng, true, CONV1D_ACTIVATION_LINEAR);
  simd += compare_all(problem(1, 9, 1, 4200, 1, 1, 1, 1, 0, 0, false), rng, true, CONV1D_ACTIVATION_RELU);
  if (conv1d::detected_isa() >= CONV1D_ISA_AVX2) CHECK(simd > 0);
}

TEST_CASE("channels_last SIMD kernel: any split of its tasks, the same bits as one range", "[kernels][simd]") {
  // Tasks are (filter block, item, chunk of rows), block-major; a range
  // computes together the blocks it covers for each item's chunk. Ranges
  // that start or end inside a block's run (odd thread counts) must leave
  // no output unwritten or written twice, and change no sum. Shapes: filter
  // tails with the PackedTail (100 = 6 vectors + 4 on AVX-512, the tail
  // riding with the last block), unequal blocks, groups (one column for all
  // blocks), one block, and weights past L2 (block-major tasks of their own).
  std::mt19937 rng(19);
  struct Shape {
    int64_t n, L, C, F, k, G;
  };
  const std::vector<Shape> shapes = {{3, 70, 40, 100, 3, 1}, {2, 130, 16, 300, 3, 1}, {2, 50, 24, 256, 1, 1},
                                     {2, 60, 64, 64, 3, 8},  {3, 40, 12, 16, 2, 1},   {1, 45, 256, 272, 3, 1}};
  for (const Shape& sh : shapes) {
    const ConvProblem p = problem(sh.n, sh.L, sh.C, sh.F, sh.k, 1, 1, sh.G, 1, 1, false);
    INFO("N=" << p.batch << " L=" << p.in_steps << " C=" << p.in_channels << " F=" << p.filters << " G=" << p.groups);
    CHECK(compare_all(p, rng, true, CONV1D_ACTIVATION_LINEAR) > 0);
    const auto x = random_vec(rng, p.batch * p.in_steps * p.in_channels);
    const auto w = random_vec(rng, p.kernel * p.cg() * p.filters);
    const auto b = random_vec(rng, p.filters);
    const size_t ny = static_cast<size_t>(p.batch * p.out_steps * p.filters);
    for (conv1d_isa isa : simd_isas()) {
      INFO("isa " << isa);
      const conv1d::DirectKernels& k = simd_kernels(isa);
      const conv1d::PackedWeights pw = conv1d::pack_for(p, isa, w.data(), b.data());
      const int64_t tasks = k.nwc_tasks(p, pw);
      std::vector<float> whole(ny, 1e30f);
      k.nwc_run(p, pw, x.data(), whole.data(), CONV1D_ACTIVATION_LINEAR, 0, tasks);
      for (int parts : {2, 3, 5, 7}) {
        INFO(parts << " ranges of " << tasks << " tasks");
        // Cuts at random points (not only the even ones threads use), each
        // range run on its own, in reverse order.
        std::vector<int64_t> cuts = {0, tasks};
        for (int i = 1; i < parts; ++i) cuts.push_back(std::uniform_int_distribution<int64_t>(0, tasks)(rng));
        std::sort(cuts.begin(), cuts.end());
        std::vector<float> y(ny + 8, 1e30f);
        for (size_t i = cuts.size() - 1; i > 0; --i)
          k.nwc_run(p, pw, x.data(), y.data(), CONV1D_ACTIVATION_LINEAR, cuts[i - 1], cuts[i]);
        CHECK(std::equal(whole.begin(), whole.end(), y.begin()));
        for (size_t j = ny; j < ny + 8; ++j) CHECK(y[j] == 1e30f);
      }
    }
  }
}

TEST_CASE("channels_last SIMD kernel: taps clipped at a tile's first or last rows", "[kernels][simd]") {
  // A tap read by only some rows of an edge tile runs over those rows alone.
  // Tile heights 8/8/8/6 (AVX-512) and 8/6/4 (AVX2) against left and right
  // pads of 0-15 rows, strides and dilations, put a tap's first and last
  // valid rows at every row of the head and tail tiles; inputs shorter than
  // a tile clip it at both ends.
  std::mt19937 rng(7);
  int simd = 0;
  const int64_t sd[][2] = {{1, 1}, {2, 1}, {1, 3}, {3, 2}};
  for (int64_t F : {8, 16, 32, 48, 64})
    for (const auto& v : sd)
      for (int64_t pad = 0; pad < 16; ++pad) {
        const int64_t k = 2 + pad % 4, L = pad % 5 == 4 ? 1 + pad % 3 : 17 + pad;
        const int64_t pad_right = (pad * 7 + F) % 16;
        if (pad + L + pad_right < (k - 1) * v[1] + 1) continue;
        simd += compare_all(problem(1, L, 16 + pad % 3, F, k, v[0], v[1], 1, pad, pad_right, false), rng, pad % 2,
                            CONV1D_ACTIVATION_LINEAR);
      }
  if (conv1d::detected_isa() >= CONV1D_ISA_AVX2) CHECK(simd > 0);
}

TEST_CASE("channels_last SIMD kernel: an infinite weight makes padded positions NaN, as GEMM does", "[kernels][simd]") {
  // Padded taps are skipped only when every weight is finite: 0 * inf is NaN
  // in TensorFlow's zero padding and in our GEMM path, and must stay so here,
  // in edge tiles clipped at one end or both (an input shorter than a tile).
  std::mt19937 rng(11);
  for (int64_t L : {3, 40})
    for (int64_t pad : {2, 6}) {
      const ConvProblem p = problem(1, L, 16, 16, 5, 1, 1, 1, pad, pad, false);
      INFO("L=" << L << " pad=" << pad);
      const auto x = random_vec(rng, p.in_steps * p.in_channels);
      auto w = random_vec(rng, p.kernel * p.cg() * p.filters);
      w[static_cast<size_t>((1 * p.cg() + 3) * p.filters + 5)] = std::numeric_limits<float>::infinity();
      const size_t ny = static_cast<size_t>(p.out_steps * p.filters);
      conv1d::ExecConfig e;
      e.algorithm = CONV1D_ALGORITHM_GEMM;
      std::vector<float> want(ny);
      conv1d::execute(conv1d::make_plan(p, e, nullptr, CONV1D_ISA_SCALAR), p, x.data(), w.data(), nullptr, nullptr,
                      CONV1D_ACTIVATION_LINEAR, want.data());
      size_t nans = 0;
      for (float v : want) nans += std::isnan(v);
      REQUIRE(nans > 0);  // the padded rows of filter 5 read the inf against a zero
      for (conv1d_isa isa : simd_isas()) {
        INFO("isa " << isa);
        const conv1d::PackedWeights pw = conv1d::pack_for(p, isa, w.data(), nullptr);
        CHECK_FALSE(pw.finite);
        e.algorithm = CONV1D_ALGORITHM_DIRECT;
        e.max_isa = isa;
        std::vector<float> y(ny);
        conv1d::execute(conv1d::make_plan(p, e, &pw, isa), p, x.data(), w.data(), nullptr, &pw,
                        CONV1D_ACTIVATION_LINEAR, y.data());
        for (size_t i = 0; i < ny; ++i) {
          INFO("y[" << i << "] = " << y[i] << ", gemm " << want[i]);
          CHECK(std::isnan(y[i]) == std::isnan(want[i]));
        }
      }
    }
}

TEST_CASE("channels_first SIMD kernel: every filter count and time-vector remainder", "[kernels][simd]") {
  std::mt19937 rng(2);
  int simd = 0;
  for (int64_t F = 1; F <= 14; ++F) {
    // Lo from ~1 to ~300 crosses every tile width for 8 and 16 lanes.
    const int64_t L = 1 + (F * 23) % 300;
    simd += compare_all(problem(2, L, 2 + F % 4, F, 1 + F % 5, 1, 1 + F % 3, 1, (F % 5) * (1 + F % 3), F % 4, true),
                        rng, F % 3 != 0, F % 2 ? CONV1D_ACTIVATION_RELU : CONV1D_ACTIVATION_SOFTPLUS);
  }
  simd += compare_all(problem(1, 70, 8, 12, 3, 1, 1, 4, 1, 1, true), rng, true, CONV1D_ACTIVATION_LINEAR);
  simd += compare_all(problem(3, 100, 16, 16, 9, 1, 1, 16, 4, 4, true), rng, true, CONV1D_ACTIVATION_LINEAR);
  simd += compare_all(problem(1, 5, 3, 7, 9, 1, 1, 1, 8, 0, true), rng, true, CONV1D_ACTIVATION_LINEAR);  // k > L
  simd +=
      compare_all(problem(1, 52000, 1, 64, 3, 1, 1, 1, 2, 0, true), rng, true, CONV1D_ACTIVATION_LINEAR);  // streamed
  // A dilation far beyond the tile width.
  simd += compare_all(problem(1, 300, 4, 5, 3, 1, 100, 1, 200, 0, true), rng, true, CONV1D_ACTIVATION_RELU);
  // Weights beyond L2: block-major tasks.
  simd += compare_all(problem(2, 45, 256, 270, 3, 1, 1, 1, 1, 1, true), rng, true, CONV1D_ACTIVATION_LINEAR);
  // Rows a multiple of 1 KiB apart: AVX2's interior tiles go channel by
  // channel through the taps (causal with dilation, 'same', and groups).
  simd += compare_all(problem(2, 256, 20, 11, 3, 1, 4, 1, 8, 0, true), rng, true, CONV1D_ACTIVATION_RELU);
  simd += compare_all(problem(1, 512, 9, 4, 5, 1, 1, 1, 2, 2, true), rng, false, CONV1D_ACTIVATION_LINEAR);
  simd += compare_all(problem(2, 256, 8, 12, 3, 1, 2, 2, 2, 2, true), rng, true, CONV1D_ACTIVATION_TANH);
  // Strided channels_first has no SIMD kernel: scalar and GEMM only.
  CHECK(compare_all(problem(2, 31, 4, 6, 3, 2, 1, 2, 1, 1, true), rng, true, CONV1D_ACTIVATION_RELU) == 0);
  if (conv1d::detected_isa() >= CONV1D_ISA_AVX2) CHECK(simd > 0);
}

TEST_CASE("channels_first pointwise on x copied into panels: filter tails, groups, the same bits as in place",
          "[kernels][simd]") {
  std::mt19937 rng(11);
  struct Shape {
    int64_t n, L, C, F, G, pad_right;
  };
  // Chunks ending in a partial tile (1000, 300, 100), exactly one tile (64),
  // rows 4 KiB apart (1024), filter blocks with a tail (13, 40 of 6), two
  // groups, each packed in turn, and one output step past x (a strided dx
  // phase's right padding), which must read as zero.
  const std::vector<Shape> shapes = {{2, 1000, 128, 13, 1, 0}, {1, 64, 130, 12, 1, 0},  {3, 300, 256, 40, 2, 0},
                                     {1, 1024, 200, 24, 1, 0}, {2, 100, 512, 12, 1, 0}, {2, 99, 128, 24, 1, 1}};
  for (const Shape& sh : shapes) {
    const ConvProblem p = problem(sh.n, sh.L, sh.C, sh.F, 1, 1, 1, sh.G, 0, sh.pad_right, true);
    INFO("N=" << p.batch << " L=" << p.in_steps << " Lo=" << p.out_steps << " C=" << p.in_channels << " F=" << p.filters
              << " G=" << p.groups);
    const bool bias = sh.F % 2 == 1;
    // Against the float64 oracle, through execute at 1 and 2 threads.
    CHECK(compare_all(p, rng, bias, sh.G > 1 ? CONV1D_ACTIVATION_RELU : CONV1D_ACTIVATION_LINEAR) > 0);
    const auto x = random_vec(rng, p.batch * p.in_steps * p.in_channels);
    const auto w = random_vec(rng, p.cg() * p.filters);
    const auto b = random_vec(rng, p.filters);
    const size_t ny = static_cast<size_t>(p.batch * p.out_steps * p.filters);
    for (conv1d_isa isa : simd_isas()) {
      INFO("isa " << isa);
      const conv1d::DirectKernels& k = simd_kernels(isa);
      const conv1d::PackedWeights pw = conv1d::pack_for(p, isa, w.data(), bias ? b.data() : nullptr);
      REQUIRE(k.ncw_xpanel_floats(p, pw) > 0);
      // In place, every task at once.
      std::vector<float> in_place(ny);
      k.ncw_run(p, pw, x.data(), in_place.data(), CONV1D_ACTIVATION_RELU, 0, k.ncw_tasks(p, pw));
      conv1d::ExecConfig e;
      e.algorithm = CONV1D_ALGORITHM_DIRECT;
      e.max_isa = isa;
      const conv1d::Plan plan = conv1d::make_plan(p, e, &pw, isa);
      for (int threads : {1, 3}) {
        std::vector<float> y(ny + 8, 1e30f);
        conv1d::execute(plan, p, x.data(), w.data(), nullptr, &pw, CONV1D_ACTIVATION_RELU, y.data(), threads);
        CHECK(std::equal(in_place.begin(), in_place.end(), y.begin()));
        for (size_t j = ny; j < ny + 8; ++j) CHECK(y[j] == 1e30f);
      }
    }
  }
  // Below 64 steps, 128 channels or 12 filters per group the tiles read x in place.
  for (const ConvProblem& p :
       {problem(4, 10, 128, 32, 1, 1, 1, 1, 0, 0, true), problem(4, 500, 64, 64, 1, 1, 1, 1, 0, 0, true),
        problem(4, 500, 256, 22, 1, 1, 1, 2, 0, 0, true)})
    for (conv1d_isa isa : simd_isas()) {
      const auto w = random_vec(rng, p.cg() * p.filters);
      const conv1d::DirectKernels& k = simd_kernels(isa);
      CHECK(k.ncw_xpanel_floats(p, conv1d::pack_for(p, isa, w.data(), nullptr)) == 0);
    }
}

TEST_CASE("depthwise channels_last SIMD kernel: channel remainders, stride, dilation", "[kernels][simd]") {
  std::mt19937 rng(3);
  for (int64_t C : {2, 7, 8, 16, 17, 33, 64, 70, 129})
    compare_all(problem(2, 11 + C % 13, C, C, 1 + C % 7, 1, 1, C, (C % 7) / 2, C % 7 - (C % 7) / 2, false), rng, C % 2,
                C % 3 ? CONV1D_ACTIVATION_LINEAR : CONV1D_ACTIVATION_RELU);
  compare_all(problem(1, 50, 24, 24, 5, 2, 1, 24, 2, 2, false), rng, true, CONV1D_ACTIVATION_LINEAR);
  compare_all(problem(1, 50, 24, 24, 3, 1, 4, 24, 8, 0, false), rng, true, CONV1D_ACTIVATION_ELU);
  compare_all(problem(1, 1000, 256, 256, 33, 1, 1, 256, 16, 16, false), rng, true, CONV1D_ACTIVATION_LINEAR);
  compare_all(problem(1, 13000, 272, 272, 3, 1, 1, 272, 1, 1, false), rng, true, CONV1D_ACTIVATION_RELU);  // streamed
}

TEST_CASE("random problems through every plan", "[kernels]") {
  std::mt19937 rng(2468);
  std::uniform_int_distribution<int64_t> small(1, 6), steps(1, 40), pad(0, 4);
  for (int iter = 0; iter < 200; ++iter) {
    const int64_t groups = std::vector<int64_t>{1, 1, 2, 3}[iter % 4];
    int64_t C = groups * small(rng);
    const int64_t G = iter % 7 == 0 ? C : groups;  // depthwise
    const int64_t F = G * small(rng);
    const int64_t k = small(rng), s = iter % 3 == 0 ? small(rng) % 3 + 1 : 1;
    const int64_t d = s == 1 ? small(rng) % 3 + 1 : 1;
    const int64_t L = steps(rng), pl = pad(rng), pr = pad(rng);
    if (pl + L + pr < (k - 1) * d + 1) continue;
    compare_all(problem(small(rng) % 3 + 1, L, C, F, k, s, d, G, pl, pr, iter % 2 == 1), rng, iter % 5 != 0,
                CONV1D_ACTIVATION_LINEAR);
  }
}

TEST_CASE("auto picks a SIMD direct kernel where one exists, GEMM or scalar otherwise", "[kernels][dispatch]") {
  conv1d::ExecConfig e;
  e.max_isa = conv1d::detected_isa();
  const ConvProblem nwc = problem(2, 67, 35, 33, 3, 1, 1, 1, 1, 1, false);
  std::string want = conv1d::detected_isa() >= CONV1D_ISA_AVX2 ? "direct" : "gemm";
  conv1d::PackedWeights pw;
  conv1d::PackKind kind;
  if (conv1d::detected_isa() >= CONV1D_ISA_AVX2) {
    REQUIRE(conv1d::simd_pack_kind(nwc, &kind));
    std::vector<float> w(3 * 35 * 33);
    pw = conv1d::pack_for(nwc, e.max_isa, w.data(), nullptr);
  }
  const conv1d::Plan plan =
      conv1d::make_plan(nwc, e, conv1d::detected_isa() >= CONV1D_ISA_AVX2 ? &pw : nullptr, e.max_isa);
  CHECK(plan.kernel.rfind(want, 0) == 0);
  CHECK(!plan.reason.empty());
  // Strided channels_first: no SIMD kernel, a wide reduction -> GEMM.
  const ConvProblem ncw = problem(2, 67, 35, 33, 3, 2, 1, 1, 1, 1, true);
  CHECK(!conv1d::simd_pack_kind(ncw, &kind));
  CHECK(conv1d::make_plan(ncw, e, nullptr, CONV1D_ISA_SCALAR).algorithm == CONV1D_ALGORITHM_GEMM);
  // Tiny strided channels_first: scalar direct.
  const ConvProblem tiny = problem(1, 9, 2, 2, 3, 2, 1, 1, 0, 0, true);
  CHECK(conv1d::make_plan(tiny, e, nullptr, CONV1D_ISA_SCALAR).kernel == "direct/scalar");
}

TEST_CASE("backward plans: the method each pass executes matches the kernel it describes", "[kernels][dispatch]") {
  // Execution follows data_method / weights_method; the strings are what
  // CONV1D_VERBOSE prints. They must agree, and every method must be
  // reachable (a method no shape reaches would leave its code untested).
  using conv1d::DataMethod;
  using conv1d::WeightsMethod;
  const auto has = [](const std::string& s, const char* part) { return s.find(part) != std::string::npos; };
  std::set<DataMethod> data_seen;
  std::set<WeightsMethod> weights_seen;
  const ConvProblem shapes[] = {
      problem(2, 40, 32, 24, 3, 1, 1, 1, 1, 1, false),   // wide channels, stride 1
      problem(2, 40, 32, 24, 4, 2, 1, 1, 1, 2, false),   // strided
      problem(2, 60, 1, 64, 10, 5, 1, 1, 0, 0, false),   // one channel: folded
      problem(2, 60, 4, 32, 15, 1, 1, 1, 7, 7, false),   // few channels, many taps
      problem(2, 30, 8, 8, 3, 1, 1, 8, 1, 1, false),     // depthwise
      problem(2, 30, 2, 2, 3, 1, 1, 1, 1, 1, false),     // tiny groups
      problem(2, 40, 32, 24, 1, 1, 1, 1, 0, 0, true),    // pointwise channels_first, small: GEMMs in place
      problem(4, 500, 32, 48, 1, 1, 1, 1, 0, 0, true),   // and larger: packed panels
      problem(2, 40, 48, 100, 3, 1, 1, 1, 1, 1, false),  // channels fill vectors better than filters
      problem(2, 40, 8, 64, 3, 1, 2, 1, 2, 2, false),    // filter tiles
  };
  for (conv1d_algorithm alg :
       {CONV1D_ALGORITHM_AUTO, CONV1D_ALGORITHM_DIRECT, CONV1D_ALGORITHM_GEMM, CONV1D_ALGORITHM_REFERENCE})
    for (conv1d_isa isa : {CONV1D_ISA_SCALAR, conv1d::detected_isa()})
      for (const ConvProblem& p : shapes) {
        conv1d::ExecConfig e;
        e.algorithm = alg;
        e.max_isa = isa;
        const conv1d::BackwardPlan bp = conv1d::make_backward_plan(p, e);
        const std::string& d = bp.data.kernel;
        const std::string& w = bp.weights.kernel;
        INFO("algorithm " << alg << " isa " << isa << " data " << d << " weights " << w);
        data_seen.insert(bp.data_method);
        weights_seen.insert(bp.weights_method);
        CHECK((bp.data_method == DataMethod::kReference) == (d == "reference"));
        CHECK((bp.data_method == DataMethod::kTransposed) == has(d, "/transposed"));
        CHECK((bp.data_method == DataMethod::kFolded) == has(d, "/data-folded"));
        CHECK((bp.data_method == DataMethod::kGemm) ==
              (bp.data.algorithm == CONV1D_ALGORITHM_GEMM && !has(d, "/data-folded")));
        CHECK((bp.data_method == DataMethod::kLoops) == has(d, "-loops"));
        CHECK((bp.weights_method == WeightsMethod::kReference) == (w == "reference"));
        CHECK((bp.weights_method == WeightsMethod::kNcwGemm) == has(w, "/weights-ncw"));
        CHECK((bp.weights_method == WeightsMethod::kNcwPanels) == has(w, "/ncw-panels"));
        CHECK((bp.weights_method == WeightsMethod::kChannelTiles) == has(w, "/channel-tiles"));
        CHECK((bp.weights_method == WeightsMethod::kWeightTiles) == has(w, "/weight-tiles"));
        CHECK((bp.weights_method == WeightsMethod::kGemm) ==
              (bp.weights.algorithm == CONV1D_ALGORITHM_GEMM && !has(w, "/weights-ncw")));
        CHECK((bp.weights_method == WeightsMethod::kLoops) == has(w, "-loops"));
      }
  CHECK(data_seen.size() == (conv1d::detected_isa() >= CONV1D_ISA_AVX2 ? 5u : 4u));
  CHECK(weights_seen.size() == (conv1d::detected_isa() >= CONV1D_ISA_AVX2 ? 7u : 4u));
}

TEST_CASE("dW packed panels on channels_first: every tail, any split of the filters, same bits", "[kernels][simd]") {
  // Channel counts with every tile tail (12 rows with AVX-512, 6 with AVX2),
  // filter counts with full panels, a one-vector tail panel and lane tails;
  // items shorter than a chunk and longer (a partial last chunk); taps that
  // miss the item; blocks of channels and of filters; rows L = 1024 apart
  // (4 KB: copied out of place); groups. Each element is one running sum in
  // (item, step) order, so every split over tasks gives the same bits.
  std::mt19937 rng(11);
  struct Shape {
    int64_t n, L, C, F, k, d, G, pl, pr;
  };
  const Shape shapes[] = {
      {3, 9, 37, 13, 3, 1, 1, 1, 1},    {1, 1024, 25, 40, 3, 4, 1, 8, 0}, {1, 20, 400, 270, 1, 1, 1, 0, 0},
      {1, 130, 130, 12, 5, 1, 2, 2, 2}, {2, 3, 40, 9, 5, 2, 1, 4, 4},     {2, 140, 16, 70, 2, 1, 1, 0, 1},
      {1, 1000, 24, 64, 1, 1, 1, 0, 0}, {2, 64, 48, 33, 3, 1, 3, 1, 1},   {1, 257, 7, 5, 4, 3, 1, 9, 0},
      {2, 50, 300, 100, 3, 1, 1, 0, 0},  // a narrow last panel: two threads split the channels
  };
  for (const Shape& sh : shapes) {
    const ConvProblem p = problem(sh.n, sh.L, sh.C, sh.F, sh.k, 1, sh.d, sh.G, sh.pl, sh.pr, true);
    INFO("N=" << p.batch << " L=" << p.in_steps << " C=" << p.in_channels << " F=" << p.filters << " k=" << p.kernel
              << " d=" << p.dilation << " G=" << p.groups << " pl=" << p.pad_left);
    const auto x = random_vec(rng, p.batch * p.in_steps * p.in_channels);
    const auto dz = random_vec(rng, p.batch * p.out_steps * p.filters);
    double tol = 0;
    const std::vector<float> want = oracle_dw(p, x, dz, &tol);
    const size_t nw = want.size();
    for (conv1d_isa isa : simd_isas()) {
      const conv1d::BackwardKernels& k = simd_backward(isa);
      INFO("isa " << isa);
      std::vector<float> first;
      for (int threads : {1, 2, 3, 8}) {
        INFO("threads " << threads);
        // Workspace and dw come uninitialised; one workspace serves every task in turn.
        std::vector<float> ws(static_cast<size_t>(k.ncw_panel_floats(p)), 1e30f);
        std::vector<float> dw(nw + 4, 1e30f);
        const int64_t tasks = k.ncw_panel_tasks(p, threads);
        CHECK(tasks >= 1);
        for (int64_t t = tasks - 1; t >= 0; --t)
          k.ncw_panels_run(p, x.data(), dz.data(), dw.data(), ws.data(), threads, t);
        for (size_t i = 0; i < nw; ++i) REQUIRE(std::fabs(dw[i] - want[i]) <= tol * (1 + std::fabs(want[i])));
        for (size_t i = nw; i < nw + 4; ++i) CHECK(dw[i] == 1e30f);
        if (first.empty())
          first = dw;
        else
          CHECK(std::memcmp(first.data(), dw.data(), (nw + 4) * sizeof(float)) == 0);
      }
    }
  }
}

TEST_CASE("dW register tiles over filter vectors and over channel vectors: every tail, same bits", "[kernels][simd]") {
  // C/G and F/G sweep 1-4 channel vectors with each lane tail and 1-12
  // filters per channel tile; short items (several per chunk), long ones
  // (several row chunks) and batches small enough to be one chunk for the
  // channel tiles; padding, stride, dilation and groups move the
  // rows each tap sees. Both tilings keep one running sum per element in
  // row order, so they must agree bit for bit, for any split of the tiles.
  std::mt19937 rng(7);
  struct Shape {
    int64_t n, L, C, F, k, s, d, G, pl, pr;
  };
  const Shape shapes[] = {
      {3, 9, 37, 13, 3, 1, 1, 1, 1, 1},    {2, 230, 64, 25, 2, 1, 3, 1, 3, 0},
      {4, 20, 100, 7, 3, 2, 1, 1, 0, 0},   {1, 130, 130, 12, 5, 1, 1, 2, 2, 2},
      {2, 40, 48, 36, 3, 1, 1, 3, 1, 1},   {5, 6, 5, 6, 2, 1, 1, 1, 0, 1},
      {2, 300, 16, 1, 1, 1, 1, 1, 0, 0},   {3, 17, 200, 19, 4, 3, 1, 1, 2, 1},
      {3, 700, 130, 40, 3, 1, 2, 1, 2, 2},  // past the channel tiles' L2 budget: row chunks
      {41, 20, 300, 60, 3, 1, 1, 1, 0, 0},  // and short items past it: 20 items a chunk, the last alone
      {2, 3, 40, 9, 5, 1, 2, 1, 4, 4},      // taps 0 and 4 read no row: their dW is zero
      {3, 400, 256, 40, 2, 1, 1, 2, 1, 0},  // two groups of full channel blocks through the panels, row chunks
      {2, 2, 70, 13, 2, 1, 3, 1, 1, 2},     // no tap every output row reads: dbias is the bias pass's
  };
  for (const Shape& sh : shapes) {
    const ConvProblem p = problem(sh.n, sh.L, sh.C, sh.F, sh.k, sh.s, sh.d, sh.G, sh.pl, sh.pr, false);
    INFO("N=" << p.batch << " L=" << p.in_steps << " C=" << p.in_channels << " F=" << p.filters << " k=" << p.kernel
              << " s=" << p.stride << " d=" << p.dilation << " G=" << p.groups << " pl=" << p.pad_left);
    const auto x = random_vec(rng, p.batch * p.in_steps * p.in_channels);
    const auto dz = random_vec(rng, p.batch * p.out_steps * p.filters);
    // The same dz channels_first, for the channel tiles' in-place read.
    std::vector<float> dz_ncw(dz.size());
    for (int64_t n = 0; n < p.batch; ++n)
      for (int64_t t = 0; t < p.out_steps; ++t)
        for (int64_t f = 0; f < p.filters; ++f)
          dz_ncw[(n * p.filters + f) * p.out_steps + t] = dz[(n * p.out_steps + t) * p.filters + f];
    double tol = 0;
    const std::vector<float> want = oracle_dw(p, x, dz, &tol);
    const size_t nw = want.size();
    for (conv1d_isa isa : simd_isas()) {
      const conv1d::BackwardKernels& k = simd_backward(isa);
      INFO("isa " << isa);
      std::vector<float> by_filters(nw + 4, 1e30f);
      const int64_t ft = k.weight_tiles(p);
      k.weight_tiles_run(p, x.data(), dz.data(), by_filters.data(), 0, ft / 3);
      k.weight_tiles_run(p, x.data(), dz.data(), by_filters.data(), ft / 3, ft);
      for (size_t i = 0; i < nw; ++i) REQUIRE(std::fabs(by_filters[i] - want[i]) <= tol * (1 + std::fabs(want[i])));
      const int64_t ct = k.channel_tiles(p);
      std::vector<float> ws(static_cast<size_t>(k.channel_tile_floats(p)));
      // Each of the two parts has its own panels, where the shape uses them.
      const int64_t pf = k.channel_panel_floats(p);
      // Each part's panels end in a guard: parts run in reverse order, so an
      // overflow into the next part's panels would be overwritten unseen.
      std::vector<float> panels(static_cast<size_t>(2 * pf + 2));
      // dbias as the bias pass sums it, which the tiles must match bit for
      // bit where they sum it too (channels_last dz, a tap every row reads).
      std::vector<float> bias_want(static_cast<size_t>(p.filters + 1), 1e30f);
      k.bias(p, dz.data(), bias_want.data(), 0, conv1d::backward_bias_tasks(p));
      const bool fused_bias = k.channel_bias_fused(p);
      for (bool ncw : {false, true})
        for (bool with_panels : {false, true}) {
          INFO("dz channels_first " << ncw << ", panels " << (with_panels ? pf : 0));
          std::fill(ws.begin(), ws.end(), 1e30f);  // the workspaces come uninitialised
          std::fill(panels.begin(), panels.end(), 1e30f);
          std::vector<double> bias_sums(static_cast<size_t>(p.filters), 1e300);
          std::vector<float> dbias(static_cast<size_t>(p.filters + 1), 1e30f);
          std::vector<float> by_channels(nw + 4, 1e30f);
          const float* d = ncw ? dz_ncw.data() : dz.data();
          float* p0 = with_panels && pf ? panels.data() : nullptr;
          float* p1 = with_panels && pf ? panels.data() + pf + 1 : nullptr;
          k.channel_tiles_run(p, x.data(), d, ncw, by_channels.data(), ws.data(), p1, bias_sums.data(), dbias.data(),
                              ct / 2, ct);
          k.channel_tiles_run(p, x.data(), d, ncw, by_channels.data(), ws.data(), p0, bias_sums.data(), dbias.data(), 0,
                              ct / 2);
          CHECK(std::memcmp(by_channels.data(), by_filters.data(), (nw + 4) * sizeof(float)) == 0);
          CHECK(panels[static_cast<size_t>(pf)] == 1e30f);
          CHECK(panels.back() == 1e30f);
          if (fused_bias && !ncw) {
            CHECK(std::memcmp(dbias.data(), bias_want.data(), dbias.size() * sizeof(float)) == 0);
          } else {  // not theirs to compute: untouched
            for (float v : dbias) REQUIRE(v == 1e30f);
          }
        }
    }
  }
}

TEST_CASE("strided and batched transposes: every block remainder, nothing outside the destination", "[kernels]") {
  // Sizes around the 4x4, 2x4 and 8x8 register blocks, the 32-wide cache
  // blocks and the 16-row tasks; pitches wider than the matrices, with
  // sentinels between rows.
  for (int64_t rows : {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 17, 33, 40, 67})
    for (int64_t cols : {1, 3, 4, 5, 8, 9, 15, 16, 17, 24, 64, 70}) {
      INFO("rows " << rows << " cols " << cols);
      const int64_t sp = cols + 3, dp = rows + 2;
      std::vector<float> src(static_cast<size_t>(rows * sp));
      for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<float>(i) + 0.5f;
      std::vector<float> dst(static_cast<size_t>(cols * dp + 1), -1.0f);
      conv1d::transpose_strided(src.data(), sp, dst.data(), dp, rows, cols);
      for (int64_t j = 0; j < cols; ++j)
        for (int64_t i = 0; i < dp; ++i)
          REQUIRE(dst[static_cast<size_t>(j * dp + i)] == (i < rows ? src[static_cast<size_t>(i * sp + j)] : -1.0f));
      REQUIRE(dst.back() == -1.0f);
      // The batched form: two items of rows x cols, tasks split anywhere and
      // run in either order (a task writing past its rows shows), at each ISA.
      std::vector<float> items(static_cast<size_t>(2 * rows * cols));
      for (size_t i = 0; i < items.size(); ++i) items[i] = static_cast<float>(i);
      const int64_t tasks = conv1d::transpose_tasks(2, cols);
      std::vector<conv1d_isa> isas = {CONV1D_ISA_SCALAR};
      for (conv1d_isa isa : simd_isas()) isas.push_back(isa);
      for (conv1d_isa isa : isas)
        for (int64_t split : {int64_t{1}, tasks / 2})
          for (bool second_first : {false, true}) {
            INFO("isa " << isa << " split " << split);
            std::vector<float> out(items.size() + 1, -1.0f);
            const int64_t a0 = second_first ? split : 0, a1 = second_first ? tasks : split;
            const int64_t b0 = second_first ? 0 : split, b1 = second_first ? split : tasks;
            conv1d::transpose_items(items.data(), out.data(), rows, cols, a0, a1, isa);
            conv1d::transpose_items(items.data(), out.data(), rows, cols, b0, b1, isa);
            for (int64_t n = 0; n < 2; ++n)
              for (int64_t i = 0; i < rows; ++i)
                for (int64_t j = 0; j < cols; ++j)
                  REQUIRE(out[static_cast<size_t>((n * cols + j) * rows + i)] ==
                          items[static_cast<size_t>((n * rows + i) * cols + j)]);
            REQUIRE(out.back() == -1.0f);
          }
    }
}

TEST_CASE("dbias kernels: both layouts, any split of the filter blocks, against the oracle", "[kernels][simd]") {
  std::mt19937 rng(9);
  for (bool ncw : {false, true}) {
    for (int64_t F : {1, 17, 64, 130}) {
      ConvProblem p = problem(3, 41, 5, F, 3, 1, 1, 1, 1, 1, ncw);  // out_steps 41: a partial 16-lane tail
      const auto dz = random_vec(rng, p.batch * p.out_steps * p.filters);
      std::vector<float> want(static_cast<size_t>(F));
      conv1d::backward_bias(p, dz.data(), want.data());
      std::vector<const conv1d::BackwardKernels*> ks = {&conv1d::portable::backward};
      for (conv1d_isa isa : simd_isas())
        ks.push_back(isa == CONV1D_ISA_AVX512 ? &conv1d::avx512::backward : &conv1d::avx2::backward);
      for (const conv1d::BackwardKernels* k : ks) {
        INFO("ncw " << ncw << " F " << F);
        const int64_t tasks = conv1d::backward_bias_tasks(p);
        std::vector<float> whole(static_cast<size_t>(F) + 2, 1e30f), split(static_cast<size_t>(F) + 2, 1e30f);
        k->bias(p, dz.data(), whole.data(), 0, tasks);
        for (int64_t t = tasks; t-- > 0;) k->bias(p, dz.data(), split.data(), t, t + 1);
        CHECK(std::memcmp(whole.data(), split.data(), whole.size() * sizeof(float)) == 0);
        for (int64_t f = 0; f < F; ++f) CHECK(std::fabs(whole[f] - want[f]) <= 1e-6 * (1 + std::fabs(want[f])));
        CHECK(whole[F] == 1e30f);
      }
    }
  }
}
