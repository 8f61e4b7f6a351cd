// The AVX512_BF16 channels_last kernel (kernels/bf16.hpp) against a float64
// reference computed from the bf16 values of x and w, on shapes that hit
// every tile remainder and both step orders (flat, per tap), with float32 and
// bf16 outputs, fused and separate activations, and any task split.
//
// Tolerances (u = 2^-24, n = k*Cg products per output, S = |bias| +
// sum |x*w| in float64):
//   float32 output: |y - ref| <= n*u*S*1.01 (each of the n products of two
//     bf16 values is exact in float32; each addition rounds once).
//   bf16 output: |y - ref| <= 2^-8*|ref| + (1 + 2^-8)*n*u*S*1.01 (the float32
//     sum, then one round-to-nearest-even to 8 significant bits), and y is
//     bitwise the bf16 rounding of the float32-output kernel's value.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "activations.hpp"
#include "dispatch/cpu.hpp"
#include "kernels/bf16.hpp"
#include "kernels/problem.hpp"
#include "runtime/bf16.hpp"
#include "runtime/thread_pool.hpp"

using conv1d::bf16_t;
using conv1d::ConvProblem;

namespace {

ConvProblem problem(int64_t n, int64_t L, int64_t C, int64_t F, int64_t k, int64_t s, int64_t d, int64_t G,
                    int64_t pad_left, int64_t pad_right) {
  ConvProblem p;
  p.batch = n, p.in_steps = L, p.in_channels = C, p.filters = F, p.kernel = k, p.stride = s, p.dilation = d;
  p.groups = G, p.pad_left = pad_left;
  p.out_steps = (pad_left + L + pad_right - (k - 1) * d - 1) / s + 1;
  return p;
}

bool skip_without_bf16() {
  if (conv1d::cpu_has_avx512_bf16()) return false;
  WARN("skipped: this CPU has no AVX512_BF16");
  return true;
}

constexpr float kInf = std::numeric_limits<float>::infinity();

// Inputs and weights as bf16 (and their float values), bias as float.
struct Data {
  std::vector<bf16_t> x;  // N*L*C values, then one inf past the end
  std::vector<float> xf, wf, bias;
};

Data make_data(const ConvProblem& p, std::mt19937& rng, bool with_bias) {
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  Data d;
  const size_t nx = static_cast<size_t>(p.batch * p.in_steps * p.in_channels);
  d.xf.resize(nx);
  for (float& v : d.xf) v = conv1d::bf16_round(u(rng));
  d.wf.resize(static_cast<size_t>(p.kernel * p.cg() * p.filters));
  for (float& v : d.wf) v = conv1d::bf16_round(u(rng));
  if (with_bias) {
    d.bias.resize(static_cast<size_t>(p.filters));
    for (float& v : d.bias) v = u(rng);
  }
  return d;
}

// x as the kernel reads it. An inf right after the last value: a read past
// the end that reaches it shows up as inf or NaN (0 * inf) in the output.
void finish_x(Data& d) {
  d.x.resize(d.xf.size() + 1);
  conv1d::bf16_from_float(d.xf.data(), d.x.data(), d.xf.size());
  d.x.back() = conv1d::bf16_from_float(kInf);
}

// Runs the kernel: all tasks split over two pool threads, or one call per
// task in reverse order. Returns the output as floats; `bits` gets the raw outputs (float
// or bf16 bits widened to 32) for bitwise comparisons. Checks that nothing
// past the output is written.
std::vector<float> run(const ConvProblem& p, const conv1d::PackedBf16& w, const Data& d, bool y_bf16,
                       conv1d_activation act, bool task_by_task, std::vector<uint32_t>* bits = nullptr) {
  const size_t ny = static_cast<size_t>(p.batch * p.out_steps * p.filters), guard = 40;
  std::vector<float> yf(ny + guard, -7.f);  // sentinels past the end
  std::vector<bf16_t> yh(ny + guard, 0xABCD);
  void* y = y_bf16 ? static_cast<void*>(yh.data()) : static_cast<void*>(yf.data());
  const int64_t tasks = conv1d::bf16_tasks(p, w);
  REQUIRE(tasks > 0);
  if (task_by_task)
    for (int64_t t = tasks - 1; t >= 0; --t) conv1d::conv_bf16_avx512(p, w, d.x.data(), y, y_bf16, act, t, t + 1);
  else
    conv1d::parallel_for(tasks, 2, [&](int64_t begin, int64_t end) {
      conv1d::conv_bf16_avx512(p, w, d.x.data(), y, y_bf16, act, begin, end);
    });
  size_t overwritten = 0;
  for (size_t i = ny; i < ny + guard; ++i) overwritten += y_bf16 ? yh[i] != 0xABCD : yf[i] != -7.f;
  CHECK(overwritten == 0);
  std::vector<float> out(ny);
  if (bits) bits->resize(ny);
  for (size_t i = 0; i < ny; ++i) {
    out[i] = y_bf16 ? conv1d::bf16_to_float(yh[i]) : yf[i];
    if (bits) {
      if (y_bf16)
        (*bits)[i] = yh[i];
      else
        std::memcpy(&(*bits)[i], &yf[i], 4);
    }
  }
  return out;
}

// Compares y (linear, or relu when `relu`) with the float64 reference of the
// bf16 values within the bound above. Outputs whose reference is not finite
// (an inf planted in their window) are skipped; every other one must match.
void check_against_reference(const ConvProblem& p, const Data& d, const std::vector<float>& y, bool y_bf16, bool relu) {
  const int64_t C = p.in_channels, cg = p.cg(), fg = p.fg(), F = p.filters, n_terms = p.kernel * cg;
  const double u = std::ldexp(1.0, -24);
  size_t bad = 0, finite = 0;
  for (int64_t n = 0; n < p.batch; ++n)
    for (int64_t t = 0; t < p.out_steps; ++t)
      for (int64_t f = 0; f < F; ++f) {
        const int64_t g = f / fg;
        double ref = d.bias.empty() ? 0.0 : d.bias[f];
        double mag = std::fabs(ref);
        for (int64_t j = 0; j < p.kernel; ++j) {
          const int64_t pos = t * p.stride + j * p.dilation - p.pad_left;
          if (pos < 0 || pos >= p.in_steps) continue;
          for (int64_t c = 0; c < cg; ++c) {
            const double prod =
                static_cast<double>(d.xf[(n * p.in_steps + pos) * C + g * cg + c]) * d.wf[(j * cg + c) * F + f];
            ref += prod;
            mag += std::fabs(prod);
          }
        }
        if (!std::isfinite(mag)) continue;
        ++finite;
        double tol = static_cast<double>(n_terms) * u * mag * 1.01;
        if (y_bf16) tol = std::ldexp(std::fabs(ref), -8) + (1 + std::ldexp(1.0, -8)) * tol;
        if (relu) ref = std::max(ref, 0.0);
        const float got = y[static_cast<size_t>((n * p.out_steps + t) * F + f)];
        if (!(std::fabs(got - ref) <= tol) && bad++ < 3)
          FAIL_CHECK("y[n=" << n << ", t=" << t << ", f=" << f << "] = " << got << ", want " << ref << " +- " << tol);
      }
  CHECK(bad == 0);
  CHECK(finite > 0);
}

// The full set of checks on one problem: float32 and bf16 outputs against
// the reference, task-split independence, bf16 output = rounding of the
// float32 output, and `act` fused = applied afterwards.
void check_problem(const ConvProblem& p, std::mt19937& rng, bool with_bias, conv1d_activation act,
                   Data* planted = nullptr) {
  INFO("N=" << p.batch << " L=" << p.in_steps << " C=" << p.in_channels << " Lo=" << p.out_steps << " F=" << p.filters
            << " k=" << p.kernel << " s=" << p.stride << " d=" << p.dilation << " G=" << p.groups
            << " pl=" << p.pad_left << " bias=" << with_bias << " act=" << conv1d::activation_name(act));
  Data d = planted ? *planted : make_data(p, rng, with_bias);
  finish_x(d);
  const conv1d::PackedBf16 w = conv1d::pack_bf16(p, d.wf.data(), d.bias.empty() ? nullptr : d.bias.data());
  const size_t ny = static_cast<size_t>(p.batch * p.out_steps * p.filters);

  std::vector<uint32_t> f32_bits, f32_split_bits, h_bits, h_split_bits;
  const std::vector<float> y32 = run(p, w, d, false, CONV1D_ACTIVATION_LINEAR, false, &f32_bits);
  check_against_reference(p, d, y32, false, false);
  run(p, w, d, false, CONV1D_ACTIVATION_LINEAR, true, &f32_split_bits);
  CHECK(f32_bits == f32_split_bits);

  const std::vector<float> yh = run(p, w, d, true, CONV1D_ACTIVATION_LINEAR, false, &h_bits);
  check_against_reference(p, d, yh, true, false);
  run(p, w, d, true, CONV1D_ACTIVATION_LINEAR, true, &h_split_bits);
  CHECK(h_bits == h_split_bits);
  size_t mismatched = 0;
  for (size_t i = 0; i < ny; ++i) mismatched += h_bits[i] != conv1d::bf16_from_float(y32[i]);
  CHECK(mismatched == 0);

  if (act == CONV1D_ACTIVATION_LINEAR) return;
  // Fused activation: the float32 output as the activation of the linear
  // one, and the bf16 output as its rounding.
  std::vector<float> want = y32;
  conv1d::apply_elementwise(act, want.data(), ny);
  std::vector<uint32_t> act32_bits, acth_bits;
  const std::vector<float> act32 = run(p, w, d, false, act, false, &act32_bits);
  run(p, w, d, true, act, true, &acth_bits);
  size_t bad32 = 0, badh = 0;
  for (size_t i = 0; i < ny; ++i) {
    uint32_t wb;
    std::memcpy(&wb, &want[i], 4);
    bad32 += act32_bits[i] != wb;
    badh += acth_bits[i] != conv1d::bf16_from_float(want[i]);
  }
  CHECK(bad32 == 0);
  CHECK(badh == 0);
  if (act == CONV1D_ACTIVATION_RELU) check_against_reference(p, d, act32, false, true);
}

}  // namespace

TEST_CASE("bf16 kernel: every filter-vector count and row remainder", "[kernels][bf16][simd]") {
  if (skip_without_bf16()) return;
  std::mt19937 rng(11);
  // F 1..70 gives 1-5 vectors (blocks of 1-4) with every lane remainder; Lo
  // up to ~33 crosses every tile height; Cg odd and even; k 1-4.
  for (int64_t F = 1; F <= 70; F += 3) {
    const int64_t L = 5 + F % 29;
    const auto act = F % 4 == 0   ? CONV1D_ACTIVATION_RELU
                     : F % 4 == 1 ? CONV1D_ACTIVATION_LINEAR
                                  : CONV1D_ACTIVATION_GELU;
    check_problem(problem(2, L, 3 + F % 5, F, 1 + F % 4, 1, 1, 1, F % 3, (F + 1) % 3), rng, F % 2, act);
  }
  // Wider blocks at every tile height: 64 filters (one block of 4 vectors,
  // 6-row tiles) and 48 (3 vectors, 8 rows), Lo = 1..13.
  for (int64_t Lo = 1; Lo <= 13; ++Lo)
    check_problem(problem(1, Lo + 2, 6, Lo % 2 ? 64 : 48, 3, 1, 1, 1, 0, 0), rng, true, CONV1D_ACTIVATION_LINEAR);
}

TEST_CASE("bf16 kernel: stride, dilation, padding, groups, odd channels", "[kernels][bf16][simd]") {
  if (skip_without_bf16()) return;
  std::mt19937 rng(12);
  check_problem(problem(3, 23, 12, 18, 3, 2, 1, 3, 2, 1), rng, true, CONV1D_ACTIVATION_SIGMOID);  // Cg 4
  check_problem(problem(2, 31, 10, 40, 3, 1, 2, 2, 4, 0), rng, true, CONV1D_ACTIVATION_TANH);     // Cg 5
  check_problem(problem(1, 40, 8, 36, 3, 1, 5, 2, 10, 0), rng, true, CONV1D_ACTIVATION_LINEAR);
  check_problem(problem(2, 9, 5, 33, 4, 3, 1, 1, 4, 6), rng, false, CONV1D_ACTIVATION_SILU);
  check_problem(problem(1, 64, 7, 72, 15, 1, 1, 1, 7, 7), rng, true, CONV1D_ACTIVATION_RELU);
  // Padding wider than the input: tiles of zero rows only.
  check_problem(problem(1, 3, 9, 20, 5, 1, 1, 1, 6, 6), rng, true, CONV1D_ACTIVATION_LINEAR);
  // Cg == 1 with groups (depthwise and a channel multiplier): not the
  // kernel's choice, but computed correctly.
  check_problem(problem(2, 30, 6, 12, 5, 1, 1, 6, 2, 2), rng, true, CONV1D_ACTIVATION_LINEAR);
  check_problem(problem(1, 20, 17, 17, 3, 1, 1, 17, 1, 1), rng, false, CONV1D_ACTIVATION_LINEAR);
  // Cg == 2 and == 1 (C == 1 with dilation: channel steps, each half empty).
  check_problem(problem(2, 25, 2, 24, 4, 1, 3, 1, 9, 0), rng, true, CONV1D_ACTIVATION_LINEAR);
  check_problem(problem(2, 25, 1, 24, 4, 1, 3, 1, 9, 0), rng, true, CONV1D_ACTIVATION_LINEAR);
  CHECK(conv1d::bf16_kernel_supports(problem(1, 8, 4, 8, 3, 1, 1, 1, 0, 0)));
  CHECK_FALSE(conv1d::bf16_kernel_supports(problem(1, 8, 4, 4, 3, 1, 1, 4, 0, 0)));  // depthwise
  ConvProblem ncw = problem(1, 8, 4, 8, 3, 1, 1, 1, 0, 0);
  ncw.channels_first = true;
  CHECK_FALSE(conv1d::bf16_kernel_supports(ncw));
}

TEST_CASE("bf16 kernel: flat steps across taps, one input channel", "[kernels][bf16]") {
  if (skip_without_bf16()) return;
  std::mt19937 rng(13);
  // wav2vec2's conv0 shape, scaled down: k 10, stride 5, 512 filters; one
  // channel, so each step pairs two taps.
  const ConvProblem w2v = problem(2, 160, 1, 512, 10, 5, 1, 1, 0, 0);
  CHECK(conv1d::pack_bf16(w2v, std::vector<float>(10 * 512).data(), nullptr).flat);
  CHECK_FALSE(conv1d::pack_bf16(problem(1, 9, 2, 4, 2, 1, 2, 1, 0, 0), std::vector<float>(16).data(), nullptr).flat);
  CHECK_FALSE(conv1d::pack_bf16(problem(1, 9, 4, 4, 2, 1, 1, 2, 0, 0), std::vector<float>(16).data(), nullptr).flat);
  check_problem(w2v, rng, true, CONV1D_ACTIVATION_GELU);
  // Odd and even k, strides, pads that cut a tap pair in half at both ends.
  for (int64_t k = 1; k <= 7; ++k)
    check_problem(problem(1, 30 + k, 1, 20 + 3 * k, k, 1 + k % 3, 1, 1, k / 2 + k % 2, k % 3), rng, k % 2,
                  k % 2 ? CONV1D_ACTIVATION_LINEAR : CONV1D_ACTIVATION_RELU);
  check_problem(problem(1, 4, 1, 16, 9, 1, 1, 1, 5, 5), rng, true, CONV1D_ACTIVATION_LINEAR);  // k > L
  // Odd C: pairs straddle taps; edge tiles check each value.
  for (int64_t C : {3, 5, 7})
    check_problem(problem(2, 20 + C, C, 40, C - 1, 1 + C % 2, 1, 1, C / 2, C - 2), rng, true, CONV1D_ACTIVATION_LINEAR);
}

TEST_CASE("bf16 kernel: a value outside an output's window never reaches it", "[kernels][bf16]") {
  if (skip_without_bf16()) return;
  std::mt19937 rng(14);
  // An inf in the input: only the outputs whose window holds it may be
  // non-finite. An odd last channel or tap paired with the next value in
  // memory (the next group's channel, the next row's, the next tap, or the
  // inf past the end) instead of a zero would give 0 * inf = NaN elsewhere.
  const auto plant = [&](const ConvProblem& p, std::vector<int64_t> at) {
    Data d = make_data(p, rng, true);
    for (int64_t i : at) d.xf[static_cast<size_t>(i)] = i % 2 ? kInf : -kInf;
    check_problem(p, rng, true, CONV1D_ACTIVATION_LINEAR, &d);
  };
  // Groups of 3 channels: group 1's first channel follows group 0's last.
  plant(problem(1, 12, 6, 20, 2, 1, 1, 2, 0, 0), {5 * 6 + 3});
  // C == 3: row 7's channel 0 follows row 6's channel 2, the last value
  // of the windows ending at row 6 (flat steps, k*C = 9) and of the taps
  // on row 6 (dilation 2: per-tap steps).
  plant(problem(1, 12, 3, 20, 3, 1, 1, 1, 0, 0), {7 * 3});
  plant(problem(1, 12, 3, 20, 2, 1, 2, 1, 0, 0), {7 * 3});
  // C == 1, k == 3: x[9] follows the last tap of the windows ending at 8.
  plant(problem(1, 30, 1, 20, 3, 1, 1, 1, 1, 1), {9, 20});
  plant(problem(1, 30, 1, 20, 5, 2, 1, 1, 2, 2), {13});
}

TEST_CASE("bf16 kernel: block-major tasks and streamed outputs", "[kernels][bf16]") {
  if (skip_without_bf16()) return;
  std::mt19937 rng(15);
  // Packed weights over 768 KiB (3 * 512 * 288 bf16): one block per task.
  const ConvProblem big = problem(2, 12, 512, 288, 3, 1, 1, 1, 1, 1);
  CHECK_FALSE(conv1d::bf16_rows_major(conv1d::pack_bf16(big, std::vector<float>(3 * 512 * 288).data(), nullptr)));
  check_problem(big, rng, true, CONV1D_ACTIVATION_RELU);
  // Outputs over 12 MiB as bf16 (and so as float32): non-temporal stores.
  check_problem(problem(1, 100000, 1, 64, 2, 1, 1, 1, 1, 0), rng, true, CONV1D_ACTIVATION_RELU);
}
