// The dtype policies through the public C API: float64 against the float64
// model to 1e-13, bfloat16 / mixed_bfloat16 against the model on
// bf16-rounded inputs within a bf16 ulp, the typed forward and weight calls,
// Keras config round trips, and the error paths.
#include <conv1d/conv1d.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "api_layer.hpp"
#include "naive_conv1d.hpp"
#include "random_data.hpp"

namespace {

// Whether the CPU has AVX512_BF16 (where the library runs its native bf16 kernel).
bool cpu_has_avx512_bf16() {
  std::FILE* f = std::fopen("/proc/cpuinfo", "r");
  if (!f) return false;
  char line[8192];
  bool found = false;
  while (!found && std::fgets(line, sizeof line, f))
    found = std::strncmp(line, "flags", 5) == 0 && std::strstr(line, " avx512_bf16") != nullptr;
  std::fclose(f);
  return found;
}

using test_util::Layer;

// ---- an independent bfloat16 model ----------------------------------------

// d rounded to the nearest bfloat16 (ties to even), for normal values:
// 8 significant bits, rounded by nearbyint in the default rounding mode.
double bf16_ref(double d) {
  if (d == 0.0 || !std::isfinite(d)) return d;
  int e;
  const double m = std::frexp(d, &e);  // d = m * 2^e, 0.5 <= |m| < 1
  return std::ldexp(std::nearbyint(std::ldexp(m, 8)), e - 8);
}

// The spacing of bfloat16 values at |d|.
double bf16_ulp(double d) {
  if (d == 0.0) return 0.0;
  int e;
  std::frexp(d, &e);
  return std::ldexp(1.0, e - 8);
}

uint16_t bf16_bits(double d) {
  const float f = static_cast<float>(bf16_ref(d));  // exact: a bf16 value is a float
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return static_cast<uint16_t>(u >> 16);
}

double from_bits(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

std::vector<double> random_doubles(std::mt19937_64& rng, size_t n, double lo, double hi) {
  return test_util::uniform_from(rng, n, lo, hi);
}

using test_util::kActivationCount;
using test_util::kActivations;

void configure(conv1d_layer* l, const naive::Conv& c, const char* policy) {
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_DTYPE, policy) == CONV1D_OK);
  test_util::configure(l, c);
}

// max over outputs of sum |x||w| + |b|: the scale the tolerances refer to.
double conv_scale(const naive::Conv& c, const std::vector<double>& x, int64_t N, int64_t L, int64_t C,
                  const std::vector<double>& w, const std::vector<double>& b) {
  naive::Conv lin = c;
  lin.activation = "linear";
  std::vector<double> ax(x), aw(w), ab(b);
  for (double& v : ax) v = std::fabs(v);
  for (double& v : aw) v = std::fabs(v);
  for (double& v : ab) v = std::fabs(v);
  int64_t shape[3];
  double s = 1.0;
  for (double v : naive::forward(lin, ax, N, L, C, aw, ab, shape)) s = std::max(s, v);
  return s;
}

// A random configuration of the usual grid, sized small.
naive::Conv grid_config(std::mt19937_64& rng, const char* padding, int64_t stride, int64_t dilation, int groups_kind,
                        bool first, bool bias, const char* activation, int64_t* N, int64_t* L, int64_t* C) {
  naive::Conv c;
  c.padding = padding;
  c.stride = stride;
  c.dilation = dilation;
  c.channels_first = first;
  c.use_bias = bias;
  c.activation = activation;
  std::uniform_int_distribution<int64_t> kd(1, 4), ld(1, 12), nd(1, 2), cd(1, 4);
  c.kernel = kd(rng);
  *C = cd(rng);
  if (groups_kind == 0) {
    c.groups = 1;
    c.filters = cd(rng) + 1;
  } else if (groups_kind == 1) {
    c.groups = 2;
    *C *= 2;
    c.filters = 2 * cd(rng);
  } else {
    c.groups = *C;
    c.filters = *C * (1 + (cd(rng) % 2));
  }
  *L = ld(rng);
  if (c.padding == "valid") *L += c.dilation * (c.kernel - 1);
  *N = nd(rng);
  if (c.activation == "glu") {
    if (first) {
      if (naive::out_steps(c, *L) % 2) *L += c.stride;
    } else if (c.filters % 2) {
      c.filters *= 2;
    }
  }
  return c;
}

template <class F>
void for_each_grid_config(uint64_t seed, F check) {
  std::mt19937_64 rng(seed);
  size_t act_i = 0;
  for (const char* padding : {"valid", "same", "causal"})
    for (int64_t stride : {1, 2})
      for (int64_t dilation : {1, 2}) {
        if (stride > 1 && dilation > 1) continue;
        for (int groups_kind : {0, 1, 2})
          for (bool first : {false, true})
            for (bool bias : {false, true}) {
              int64_t N, L, C;
              const char* act = kActivations[act_i++ % kActivationCount];
              const naive::Conv c =
                  grid_config(rng, padding, stride, dilation, groups_kind, first, bias, act, &N, &L, &C);
              INFO("filters=" << c.filters << " k=" << c.kernel << " s=" << c.stride << " d=" << c.dilation
                              << " groups=" << c.groups << " padding=" << c.padding << " channels_first=" << first
                              << " bias=" << bias << " act=" << c.activation << " N=" << N << " L=" << L << " C=" << C);
              check(c, N, L, C, rng);
            }
      }
}

const conv1d_algorithm kAlgorithms[] = {CONV1D_ALGORITHM_REFERENCE, CONV1D_ALGORITHM_DIRECT, CONV1D_ALGORITHM_GEMM,
                                        CONV1D_ALGORITHM_AUTO};

std::string describe(conv1d_layer* l, int64_t N, int64_t L) {
  char buf[512];
  REQUIRE(conv1d_describe_plan(l, N, L, buf, sizeof buf, nullptr) == CONV1D_OK);
  return buf;
}

}  // namespace

TEST_CASE("float64 layers match the float64 model to 1e-13 for every algorithm", "[dtype][float64]") {
  size_t cases = 0;
  for_each_grid_config(2024, [&](const naive::Conv& c, int64_t N, int64_t L, int64_t C, std::mt19937_64& rng) {
    // Values that float32 cannot hold, so any float32 step would show.
    const auto x = random_doubles(rng, N * L * C, -1.0, 1.0);
    const auto w = random_doubles(rng, c.kernel * (C / c.groups) * c.filters, -0.5, 0.5);
    const auto b = random_doubles(rng, c.filters, -0.5, 0.5);
    int64_t shape[3];
    const auto want = naive::forward(c, x, N, L, C, w, b, shape);
    const double scale = conv_scale(c, x, N, L, C, w, b);
    for (conv1d_algorithm algo : kAlgorithms) {
      INFO("algorithm=" << conv1d_algorithm_name(algo));
      Layer l(c.filters, c.kernel);
      configure(l, c, "float64");
      REQUIRE(conv1d_set_int(l, CONV1D_PARAM_ALGORITHM, algo) == CONV1D_OK);
      REQUIRE(conv1d_set_weights_ex(l, CONV1D_DTYPE_FLOAT64, w.data(), w.size(), c.use_bias ? b.data() : nullptr,
                                    c.use_bias ? b.size() : 0) == CONV1D_OK);
      std::vector<double> y(want.size() + 1, -777.0);
      REQUIRE(conv1d_forward_ex(l, CONV1D_DTYPE_FLOAT64, x.data(), x.size(), N, L, C, CONV1D_DTYPE_FLOAT64, y.data(),
                                want.size()) == CONV1D_OK);
      CHECK(y.back() == -777.0);
      const std::string plan = describe(l, N, L);
      INFO(plan);
      CHECK(plan.find("-f64") != std::string::npos);
      size_t bad = 0;
      for (size_t i = 0; i < want.size(); ++i)
        if (!(std::fabs(y[i] - want[i]) <= 1e-13 * scale * (1.0 + std::fabs(want[i]))))
          if (bad++ < 3) FAIL_CHECK("y[" << i << "] = " << y[i] << ", want " << want[i]);
      CHECK(bad == 0);
    }
    ++cases;
  });
  CHECK(cases == 3 * 3 * 3 * 2 * 2);
}

TEST_CASE("float64: thread counts and find mode give the same bits", "[dtype][float64]") {
  std::mt19937_64 rng(5);
  const int64_t N = 3, L = 300, C = 24, F = 20, k = 3;
  const auto x = random_doubles(rng, N * L * C, -1, 1);
  const auto w = random_doubles(rng, k * C * F, -0.3, 0.3);
  const auto b = random_doubles(rng, F, -0.3, 0.3);
  std::vector<double> first;
  for (conv1d_algorithm algo : {CONV1D_ALGORITHM_GEMM, CONV1D_ALGORITHM_DIRECT})
    for (int threads : {1, 2, 3}) {
      Layer l(F, k);
      REQUIRE(conv1d_set_int(l, CONV1D_PARAM_DTYPE, CONV1D_DTYPE_FLOAT64) == CONV1D_OK);
      REQUIRE(conv1d_set_int(l, CONV1D_PARAM_ALGORITHM, algo) == CONV1D_OK);
      REQUIRE(conv1d_set_int(l, CONV1D_PARAM_NUM_THREADS, threads) == CONV1D_OK);
      REQUIRE(conv1d_set_weights_ex(l, CONV1D_DTYPE_FLOAT64, w.data(), w.size(), b.data(), b.size()) == CONV1D_OK);
      std::vector<double> y(N * (L - 2) * F);
      REQUIRE(conv1d_forward_ex(l, CONV1D_DTYPE_FLOAT64, x.data(), x.size(), N, L, C, CONV1D_DTYPE_FLOAT64, y.data(),
                                y.size()) == CONV1D_OK);
      if (algo == CONV1D_ALGORITHM_GEMM && threads == 1) first = y;
      if (algo == CONV1D_ALGORITHM_GEMM) CHECK(y == first);  // deterministic for any thread count
      if (algo == CONV1D_ALGORITHM_DIRECT)
        for (size_t i = 0; i < y.size(); ++i) REQUIRE(std::fabs(y[i] - first[i]) <= 1e-13);
    }
  Layer l(F, k);
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_DTYPE, "float64") == CONV1D_OK);
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_FIND, 1) == CONV1D_OK);
  REQUIRE(conv1d_set_weights_ex(l, CONV1D_DTYPE_FLOAT64, w.data(), w.size(), b.data(), b.size()) == CONV1D_OK);
  std::vector<double> y(first.size());
  REQUIRE(conv1d_forward_ex(l, CONV1D_DTYPE_FLOAT64, x.data(), x.size(), N, L, C, CONV1D_DTYPE_FLOAT64, y.data(),
                            y.size()) == CONV1D_OK);
  const std::string plan = describe(l, N, L);
  CHECK(plan.find("find: timed direct/scalar-f64") != std::string::npos);
  for (size_t i = 0; i < y.size(); ++i) REQUIRE(std::fabs(y[i] - first[i]) <= 1e-13);
  // This shape's reduction suits dgemm under the cost model.
  Layer a(F, k);
  REQUIRE(conv1d_set_string(a, CONV1D_PARAM_DTYPE, "float64") == CONV1D_OK);
  REQUIRE(conv1d_build(a, C) == CONV1D_OK);
  CHECK(describe(a, N, L).find("gemm/openblas-f64") != std::string::npos);
  // Depthwise: the loop vectorised over channels.
  Layer d(C, k);
  REQUIRE(conv1d_set_string(d, CONV1D_PARAM_DTYPE, "float64") == CONV1D_OK);
  REQUIRE(conv1d_set_int(d, CONV1D_PARAM_GROUPS, C) == CONV1D_OK);
  REQUIRE(conv1d_build(d, C) == CONV1D_OK);
  CHECK(describe(d, N, L).find("direct/scalar-f64/depthwise") != std::string::npos);
}

TEST_CASE("bfloat16 and mixed_bfloat16 match the model on bf16-rounded data within a bf16 ulp", "[dtype][bfloat16]") {
  const conv1d_isa cpu = conv1d_cpu_isa();
  size_t cases = 0;
  for_each_grid_config(77, [&](const naive::Conv& c, int64_t N, int64_t L, int64_t C, std::mt19937_64& rng) {
    std::vector<float> x(N * L * C), w(c.kernel * (C / c.groups) * c.filters), b(c.filters);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (float& v : x) v = u(rng);
    for (float& v : w) v = 0.5f * u(rng);
    for (float& v : b) v = 0.5f * u(rng);
    // The model: x, kernel and bias rounded to bf16 (both policies compute
    // with bf16 weights), then everything in double.
    std::vector<double> xr(x.size()), wr(w.size()), br(b.size());
    for (size_t i = 0; i < x.size(); ++i) xr[i] = bf16_ref(x[i]);
    for (size_t i = 0; i < w.size(); ++i) wr[i] = bf16_ref(w[i]);
    for (size_t i = 0; i < b.size(); ++i) br[i] = bf16_ref(b[i]);
    int64_t shape[3];
    const auto want = naive::forward(c, xr, N, L, C, wr, br, shape);
    const double scale = conv_scale(c, xr, N, L, C, wr, br);
    // float32 accumulation of k*Cg products plus the bias, then a float32 activation.
    const double acc = (static_cast<double>(c.kernel * (C / c.groups)) + 4.0) * std::ldexp(1.0, -24) * scale;
    for (const char* policy : {"bfloat16", "mixed_bfloat16"})
      for (conv1d_isa isa : {CONV1D_ISA_SCALAR, CONV1D_ISA_AVX2, CONV1D_ISA_AVX512}) {
        if (isa > cpu) continue;
        for (conv1d_algorithm algo : kAlgorithms) {
          // Only direct plans depend on the instruction set.
          if (isa != cpu && (algo == CONV1D_ALGORITHM_REFERENCE || algo == CONV1D_ALGORITHM_GEMM)) continue;
          INFO(policy << " isa=" << isa << " algorithm=" << conv1d_algorithm_name(algo));
          Layer l(c.filters, c.kernel);
          configure(l, c, policy);
          REQUIRE(conv1d_set_int(l, CONV1D_PARAM_MAX_ISA, isa) == CONV1D_OK);
          REQUIRE(conv1d_set_int(l, CONV1D_PARAM_ALGORITHM, algo) == CONV1D_OK);
          REQUIRE(conv1d_set_weights(l, w.data(), w.size(), c.use_bias ? b.data() : nullptr,
                                     c.use_bias ? b.size() : 0) == CONV1D_OK);
          std::vector<uint16_t> y(want.size() + 1, 0xBEEF);
          REQUIRE(conv1d_forward_ex(l, CONV1D_DTYPE_FLOAT32, x.data(), x.size(), N, L, C, CONV1D_DTYPE_BFLOAT16,
                                    y.data(), want.size()) == CONV1D_OK);
          CHECK(y.back() == 0xBEEF);
          const std::string plan = describe(l, N, L);
          CHECK(plan.find("bf16") != std::string::npos);
          // The native AVX512_BF16 kernel serves channels_last (but depthwise) at the AVX-512 level.
          const bool native = cpu_has_avx512_bf16() && isa == CONV1D_ISA_AVX512 && !c.channels_first &&
                              !(C / c.groups == 1 && c.groups > 1) &&
                              (algo == CONV1D_ALGORITHM_AUTO || algo == CONV1D_ALGORITHM_DIRECT);
          CHECK((plan.find("avx512bf16") != std::string::npos) == native);
          size_t bad = 0;
          for (size_t i = 0; i < want.size(); ++i) {
            const double got = from_bits(y[i]);
            const double tol =
                bf16_ulp(std::max(std::fabs(want[i]), std::fabs(got))) + acc * (1.0 + std::fabs(want[i]));
            if (!(std::fabs(got - bf16_ref(want[i])) <= tol))
              if (bad++ < 3) FAIL_CHECK("y[" << i << "] = " << got << ", want " << bf16_ref(want[i]));
          }
          CHECK(bad == 0);
        }
      }
    ++cases;
  });
  CHECK(cases == 3 * 3 * 3 * 2 * 2);
}

TEST_CASE("forward_ex: every x and y dtype on each policy", "[dtype][forward_ex]") {
  std::mt19937_64 rng(11);
  const int64_t N = 2, L = 9, C = 3, F = 4, k = 3;
  const auto xd = random_doubles(rng, N * L * C, -1, 1);
  const auto wd = random_doubles(rng, k * C * F, -0.5, 0.5);
  const auto bd = random_doubles(rng, F, -0.5, 0.5);
  std::vector<float> xf(xd.begin(), xd.end()), wf(wd.begin(), wd.end()), bf(bd.begin(), bd.end());
  std::vector<uint16_t> xh(xd.size());
  for (size_t i = 0; i < xd.size(); ++i) xh[i] = bf16_bits(xd[i]);
  const size_t ny = N * (L - 2) * F;

  SECTION("float32 layer: float64 x rounds to float32, y casts from the float32 result") {
    Layer l(F, k);
    REQUIRE(conv1d_set_weights(l, wf.data(), wf.size(), bf.data(), bf.size()) == CONV1D_OK);
    std::vector<float> y32(ny), y32b(ny);
    REQUIRE(conv1d_forward(l, xf.data(), xf.size(), N, L, C, y32.data(), ny) == CONV1D_OK);
    REQUIRE(conv1d_forward_ex(l, CONV1D_DTYPE_FLOAT64, xd.data(), xd.size(), N, L, C, CONV1D_DTYPE_FLOAT32, y32b.data(),
                              ny) == CONV1D_OK);
    CHECK(y32b == y32);
    std::vector<double> y64(ny);
    std::vector<uint16_t> y16(ny);
    REQUIRE(conv1d_forward_ex(l, CONV1D_DTYPE_FLOAT32, xf.data(), xf.size(), N, L, C, CONV1D_DTYPE_FLOAT64, y64.data(),
                              ny) == CONV1D_OK);
    REQUIRE(conv1d_forward_ex(l, CONV1D_DTYPE_FLOAT32, xf.data(), xf.size(), N, L, C, CONV1D_DTYPE_BFLOAT16, y16.data(),
                              ny) == CONV1D_OK);
    for (size_t i = 0; i < ny; ++i) {
      CHECK(y64[i] == static_cast<double>(y32[i]));
      CHECK(y16[i] == bf16_bits(y32[i]));
    }
  }
  SECTION("float64 layer: float32 and bfloat16 x widen exactly; y rounds once") {
    Layer l(F, k);
    REQUIRE(conv1d_set_int(l, CONV1D_PARAM_DTYPE, CONV1D_DTYPE_FLOAT64) == CONV1D_OK);
    REQUIRE(conv1d_set_weights_ex(l, CONV1D_DTYPE_FLOAT64, wd.data(), wd.size(), bd.data(), bd.size()) == CONV1D_OK);
    std::vector<double> xw(xf.begin(), xf.end()), want(ny), got(ny);
    REQUIRE(conv1d_forward_ex(l, CONV1D_DTYPE_FLOAT64, xw.data(), xw.size(), N, L, C, CONV1D_DTYPE_FLOAT64, want.data(),
                              ny) == CONV1D_OK);
    REQUIRE(conv1d_forward_ex(l, CONV1D_DTYPE_FLOAT32, xf.data(), xf.size(), N, L, C, CONV1D_DTYPE_FLOAT64, got.data(),
                              ny) == CONV1D_OK);
    CHECK(got == want);
    std::vector<double> xhw(xh.size());
    for (size_t i = 0; i < xh.size(); ++i) xhw[i] = from_bits(xh[i]);
    REQUIRE(conv1d_forward_ex(l, CONV1D_DTYPE_FLOAT64, xhw.data(), xhw.size(), N, L, C, CONV1D_DTYPE_FLOAT64,
                              want.data(), ny) == CONV1D_OK);
    REQUIRE(conv1d_forward_ex(l, CONV1D_DTYPE_BFLOAT16, xh.data(), xh.size(), N, L, C, CONV1D_DTYPE_FLOAT64, got.data(),
                              ny) == CONV1D_OK);
    CHECK(got == want);
    std::vector<float> y32(ny);
    std::vector<uint16_t> y16(ny);
    REQUIRE(conv1d_forward_ex(l, CONV1D_DTYPE_BFLOAT16, xh.data(), xh.size(), N, L, C, CONV1D_DTYPE_FLOAT32, y32.data(),
                              ny) == CONV1D_OK);
    REQUIRE(conv1d_forward_ex(l, CONV1D_DTYPE_BFLOAT16, xh.data(), xh.size(), N, L, C, CONV1D_DTYPE_BFLOAT16,
                              y16.data(), ny) == CONV1D_OK);
    for (size_t i = 0; i < ny; ++i) {
      CHECK(y32[i] == static_cast<float>(want[i]));
      CHECK(y16[i] == bf16_bits(want[i]));  // straight from double, not via float
    }
  }
  SECTION("bfloat16 layer: float64 x rounds straight to bf16; every y dtype holds the same bf16 values") {
    Layer l(F, k);
    REQUIRE(conv1d_set_string(l, CONV1D_PARAM_DTYPE, "bfloat16") == CONV1D_OK);
    REQUIRE(conv1d_set_weights(l, wf.data(), wf.size(), bf.data(), bf.size()) == CONV1D_OK);
    std::vector<uint16_t> want(ny), got(ny);
    REQUIRE(conv1d_forward_ex(l, CONV1D_DTYPE_BFLOAT16, xh.data(), xh.size(), N, L, C, CONV1D_DTYPE_BFLOAT16,
                              want.data(), ny) == CONV1D_OK);
    REQUIRE(conv1d_forward_ex(l, CONV1D_DTYPE_FLOAT64, xd.data(), xd.size(), N, L, C, CONV1D_DTYPE_BFLOAT16, got.data(),
                              ny) == CONV1D_OK);
    CHECK(got == want);
    std::vector<float> y32(ny);
    std::vector<double> y64(ny);
    REQUIRE(conv1d_forward(l, xf.data(), xf.size(), N, L, C, y32.data(), ny) == CONV1D_OK);
    REQUIRE(conv1d_forward_ex(l, CONV1D_DTYPE_FLOAT64, xd.data(), xd.size(), N, L, C, CONV1D_DTYPE_FLOAT64, y64.data(),
                              ny) == CONV1D_OK);
    for (size_t i = 0; i < ny; ++i) {
      CHECK(y64[i] == from_bits(want[i]));
      CHECK(bf16_ref(y32[i]) == y32[i]);  // already a bf16 value
    }
  }
  SECTION("mixed_bfloat16 computes with the bf16-rounded float32 masters: same output as bfloat16") {
    Layer mixed(F, k), plain(F, k);
    REQUIRE(conv1d_set_string(mixed, CONV1D_PARAM_DTYPE, "mixed_bfloat16") == CONV1D_OK);
    REQUIRE(conv1d_set_string(plain, CONV1D_PARAM_DTYPE, "bfloat16") == CONV1D_OK);
    for (conv1d_layer* l : {mixed.p, plain.p})
      REQUIRE(conv1d_set_weights(l, wf.data(), wf.size(), bf.data(), bf.size()) == CONV1D_OK);
    std::vector<uint16_t> a(ny), b2(ny);
    REQUIRE(conv1d_forward_ex(mixed, CONV1D_DTYPE_FLOAT32, xf.data(), xf.size(), N, L, C, CONV1D_DTYPE_BFLOAT16,
                              a.data(), ny) == CONV1D_OK);
    REQUIRE(conv1d_forward_ex(plain, CONV1D_DTYPE_FLOAT32, xf.data(), xf.size(), N, L, C, CONV1D_DTYPE_BFLOAT16,
                              b2.data(), ny) == CONV1D_OK);
    CHECK(a == b2);
  }
}

TEST_CASE("weights: set and get round trips per policy", "[dtype][weights]") {
  const int64_t F = 2, k = 2, C = 1;
  // 1 + 2^-8 + 2^-30 rounds to 1 + 2^-8 in float, a tie that bf16 rounds to
  // even (1.0); rounded once it is above the tie: 1 + 2^-7.
  const double tricky = 1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -30);
  const std::vector<double> w64{0.1, -0.2, tricky, 1.0 / 3.0};
  const std::vector<double> b64{0.7, -1e-3};

  SECTION("float64 keeps doubles exactly; the float32 calls see them rounded") {
    Layer l(F, k);
    REQUIRE(conv1d_set_string(l, CONV1D_PARAM_DTYPE, "float64") == CONV1D_OK);
    REQUIRE(conv1d_set_weights_ex(l, CONV1D_DTYPE_FLOAT64, w64.data(), w64.size(), b64.data(), b64.size()) ==
            CONV1D_OK);
    int64_t v = -1;
    REQUIRE(conv1d_get_int(l, CONV1D_PARAM_VARIABLE_DTYPE, &v) == CONV1D_OK);
    CHECK(v == CONV1D_DTYPE_FLOAT64);
    std::vector<double> kd(4), bd(2);
    REQUIRE(conv1d_get_weights_ex(l, CONV1D_DTYPE_FLOAT64, kd.data(), 4, bd.data(), 2) == CONV1D_OK);
    CHECK(kd == w64);
    CHECK(bd == b64);
    std::vector<float> kf(4), bf(2);
    REQUIRE(conv1d_get_weights(l, kf.data(), 4, bf.data(), 2) == CONV1D_OK);
    for (size_t i = 0; i < 4; ++i) CHECK(kf[i] == static_cast<float>(w64[i]));
    std::vector<uint16_t> kh(4);
    REQUIRE(conv1d_get_weights_ex(l, CONV1D_DTYPE_BFLOAT16, kh.data(), 4, nullptr, 0) == CONV1D_OK);
    CHECK(kh[2] == bf16_bits(tricky));
    CHECK(from_bits(kh[2]) == 1.0 + std::ldexp(1.0, -7));
    // float32 in is exact; set_weight too.
    const std::vector<float> k32{0.25f, 0.1f, -3.0f, 1e-7f};
    REQUIRE(conv1d_set_weights(l, k32.data(), 4, bf.data(), 2) == CONV1D_OK);
    REQUIRE(conv1d_get_weights_ex(l, CONV1D_DTYPE_FLOAT64, kd.data(), 4, bd.data(), 2) == CONV1D_OK);
    for (size_t i = 0; i < 4; ++i) CHECK(kd[i] == static_cast<double>(k32[i]));
    const float bias1[2] = {0.1f, 0.2f};
    REQUIRE(conv1d_set_weight(l, CONV1D_WEIGHT_BIAS, bias1, 2) == CONV1D_OK);
    REQUIRE(conv1d_get_weights_ex(l, CONV1D_DTYPE_FLOAT64, kd.data(), 4, bd.data(), 2) == CONV1D_OK);
    CHECK(bd[0] == static_cast<double>(0.1f));
    for (size_t i = 0; i < 4; ++i) CHECK(kd[i] == static_cast<double>(k32[i]));  // the kernel kept
  }
  SECTION("bfloat16 variables: setting rounds, once") {
    Layer l(F, k);
    REQUIRE(conv1d_set_string(l, CONV1D_PARAM_DTYPE, "bfloat16") == CONV1D_OK);
    REQUIRE(conv1d_set_weights_ex(l, CONV1D_DTYPE_FLOAT64, w64.data(), w64.size(), b64.data(), b64.size()) ==
            CONV1D_OK);
    std::vector<uint16_t> kh(4), bh(2);
    REQUIRE(conv1d_get_weights_ex(l, CONV1D_DTYPE_BFLOAT16, kh.data(), 4, bh.data(), 2) == CONV1D_OK);
    for (size_t i = 0; i < 4; ++i) CHECK(kh[i] == bf16_bits(w64[i]));
    for (size_t i = 0; i < 2; ++i) CHECK(bh[i] == bf16_bits(b64[i]));
    const std::vector<float> k32(w64.begin(), w64.end());
    REQUIRE(conv1d_set_weights(l, k32.data(), 4, nullptr, 0) == CONV1D_ERROR_LENGTH_MISMATCH);
    REQUIRE(conv1d_set_weights(l, k32.data(), 4, k32.data(), 2) == CONV1D_OK);
    std::vector<float> kf(4);
    REQUIRE(conv1d_get_weights(l, kf.data(), 4, nullptr, 0) == CONV1D_OK);
    for (size_t i = 0; i < 4; ++i) CHECK(kf[i] == bf16_ref(k32[i]));
    CHECK(kf[2] == 1.0f);  // float32 1 + 2^-8 is a tie: even
    // bf16 in, bf16 out: bit for bit.
    const std::vector<uint16_t> h{0x3F80, 0xC040, 0x0001, 0x7F7F};
    REQUIRE(conv1d_set_weights_ex(l, CONV1D_DTYPE_BFLOAT16, h.data(), 4, h.data(), 2) == CONV1D_OK);
    REQUIRE(conv1d_get_weights_ex(l, CONV1D_DTYPE_BFLOAT16, kh.data(), 4, bh.data(), 2) == CONV1D_OK);
    CHECK(kh == h);
  }
  SECTION("mixed_bfloat16 keeps float32 masters") {
    Layer l(F, k);
    REQUIRE(conv1d_set_string(l, CONV1D_PARAM_DTYPE, "mixed_bfloat16") == CONV1D_OK);
    const std::vector<float> k32(w64.begin(), w64.end()), b32(b64.begin(), b64.end());
    REQUIRE(conv1d_set_weights(l, k32.data(), 4, b32.data(), 2) == CONV1D_OK);
    std::vector<float> kf(4), bf(2);
    REQUIRE(conv1d_get_weights(l, kf.data(), 4, bf.data(), 2) == CONV1D_OK);
    CHECK(kf == k32);
    CHECK(bf == b32);
    int64_t v = -1;
    REQUIRE(conv1d_get_int(l, CONV1D_PARAM_VARIABLE_DTYPE, &v) == CONV1D_OK);
    CHECK(v == CONV1D_DTYPE_FLOAT32);
    REQUIRE(conv1d_get_int(l, CONV1D_PARAM_DTYPE, &v) == CONV1D_OK);
    CHECK(v == CONV1D_DTYPE_BFLOAT16);
    // Training on the float32 masters: weight penalties and constraints run.
    REQUIRE(conv1d_set_string(l, CONV1D_PARAM_KERNEL_REGULARIZER, "l2") == CONV1D_OK);
    double loss = 0;
    REQUIRE(conv1d_regularization_loss(l, nullptr, 0, 1, 4, &loss) == CONV1D_OK);
    double want = 0;
    for (float f : k32) want += 0.01 * static_cast<double>(f) * f;
    CHECK(loss == Approx(want).epsilon(1e-6));
    REQUIRE(conv1d_set_string(l, CONV1D_PARAM_KERNEL_CONSTRAINT, "non_neg") == CONV1D_OK);
    REQUIRE(conv1d_apply_constraints(l) == CONV1D_OK);
    REQUIRE(conv1d_get_weights(l, kf.data(), 4, nullptr, 0) == CONV1D_OK);
    for (size_t i = 0; i < 4; ++i) CHECK(kf[i] == std::max(k32[i], 0.0f));
  }
  (void)C;
}

TEST_CASE("float64 build draws the initializer in double", "[dtype][float64]") {
  Layer l64(8, 3), l32(8, 3);
  REQUIRE(conv1d_set_string(l64, CONV1D_PARAM_DTYPE, "float64") == CONV1D_OK);
  for (conv1d_layer* l : {l64.p, l32.p}) {
    REQUIRE(conv1d_set_int(l, CONV1D_PARAM_SEED, 42) == CONV1D_OK);
    REQUIRE(conv1d_set_string(l, CONV1D_PARAM_BIAS_INITIALIZER, "random_normal") == CONV1D_OK);
    REQUIRE(conv1d_build(l, 5) == CONV1D_OK);
  }
  size_t nk = 0, nb = 0;
  REQUIRE(conv1d_weight_sizes(l64, &nk, &nb) == CONV1D_OK);
  std::vector<double> k64(nk), b64(nb);
  std::vector<float> k32(nk), b32(nb);
  REQUIRE(conv1d_get_weights_ex(l64, CONV1D_DTYPE_FLOAT64, k64.data(), nk, b64.data(), nb) == CONV1D_OK);
  REQUIRE(conv1d_get_weights(l32, k32.data(), nk, b32.data(), nb) == CONV1D_OK);
  size_t beyond_float = 0;
  for (size_t i = 0; i < nk; ++i) {
    CHECK(static_cast<float>(k64[i]) == k32[i]);  // the same draws
    beyond_float += static_cast<double>(static_cast<float>(k64[i])) != k64[i];
  }
  for (size_t i = 0; i < nb; ++i) CHECK(static_cast<float>(b64[i]) == b32[i]);
  CHECK(beyond_float > nk / 2);
}

TEST_CASE("float64 .npy data: kept by a float64 layer, rounded once by a bfloat16 one", "[dtype][float64]") {
  // 1 + 2^-8 + 2^-30 rounds to bf16 1 + 2^-7 once, but to 1 through float32.
  const std::vector<double> bias{1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -30), -1.0 / 3.0};
  char path[] = "/tmp/conv1d_dtype_XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  FILE* f = fdopen(fd, "wb");
  REQUIRE(f);
  std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
  header.resize(118 - 1, ' ');
  header += '\n';  // 10 bytes of preamble + 118 = 128
  const unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 118, 0};
  REQUIRE(fwrite(pre, 1, 10, f) == 10);
  REQUIRE(fwrite(header.data(), 1, header.size(), f) == header.size());
  REQUIRE(fwrite(bias.data(), sizeof(double), 2, f) == 2);
  fclose(f);
  Layer l64(2, 1), l16(2, 1);
  REQUIRE(conv1d_set_string(l64, CONV1D_PARAM_DTYPE, "float64") == CONV1D_OK);
  REQUIRE(conv1d_set_string(l16, CONV1D_PARAM_DTYPE, "bfloat16") == CONV1D_OK);
  for (conv1d_layer* l : {l64.p, l16.p}) {
    REQUIRE(conv1d_build(l, 1) == CONV1D_OK);
    REQUIRE(conv1d_load_npy(l, CONV1D_WEIGHT_BIAS, path) == CONV1D_OK);
  }
  std::remove(path);
  std::vector<double> k(2), b(2);
  REQUIRE(conv1d_get_weights_ex(l64, CONV1D_DTYPE_FLOAT64, k.data(), 2, b.data(), 2) == CONV1D_OK);
  CHECK(b == bias);
  std::vector<uint16_t> kh(2), bh(2);
  REQUIRE(conv1d_get_weights_ex(l16, CONV1D_DTYPE_BFLOAT16, kh.data(), 2, bh.data(), 2) == CONV1D_OK);
  CHECK(from_bits(bh[0]) == 1.0 + std::ldexp(1.0, -7));
  CHECK(bh[1] == bf16_bits(bias[1]));
}

TEST_CASE("dtype policy parameter: names, values, and errors that change nothing", "[dtype][errors]") {
  Layer l(4, 3);
  char buf[64];
  auto policy = [&] {
    REQUIRE(conv1d_get_string(l, CONV1D_PARAM_DTYPE, buf, sizeof buf, nullptr) == CONV1D_OK);
    return std::string(buf);
  };
  CHECK(policy() == "float32");
  CHECK(std::string(conv1d_dtype_name(CONV1D_DTYPE_BFLOAT16)) == "bfloat16");
  CHECK(conv1d_dtype_name(static_cast<conv1d_dtype>(3)) == nullptr);
  int64_t lo = -1, hi = -1;
  REQUIRE(conv1d_param_bounds(CONV1D_PARAM_DTYPE, &lo, &hi) == CONV1D_OK);
  CHECK((lo == 0 && hi == 2));

  CHECK(conv1d_set_string(l, CONV1D_PARAM_DTYPE, "mixed_float16") == CONV1D_ERROR_UNSUPPORTED);
  CHECK(std::string(conv1d_last_error_message()).find("mixed_float16") != std::string::npos);
  CHECK(conv1d_set_string(l, CONV1D_PARAM_DTYPE, "float16") == CONV1D_ERROR_UNSUPPORTED);
  CHECK(conv1d_set_string(l, CONV1D_PARAM_DTYPE, "int8_from_float32") == CONV1D_ERROR_UNSUPPORTED);
  CHECK(conv1d_set_string(l, CONV1D_PARAM_DTYPE, "Float32") == CONV1D_ERROR_UNKNOWN_NAME);
  CHECK(std::string(conv1d_last_error_message()).find("case-sensitive") != std::string::npos);
  CHECK(conv1d_set_string(l, CONV1D_PARAM_DTYPE, "float33") == CONV1D_ERROR_UNKNOWN_NAME);
  CHECK(conv1d_set_int(l, CONV1D_PARAM_DTYPE, 3) == CONV1D_ERROR_INVALID_VALUE);
  CHECK(conv1d_set_int(l, CONV1D_PARAM_DTYPE, -1) == CONV1D_ERROR_INVALID_VALUE);
  CHECK(conv1d_set_int(l, CONV1D_PARAM_DTYPE, INT64_C(1) << 40) == CONV1D_ERROR_INVALID_VALUE);
  CHECK(conv1d_set_int(l, CONV1D_PARAM_VARIABLE_DTYPE, 0) == CONV1D_ERROR_INVALID_STATE);
  CHECK(policy() == "float32");
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_DTYPE, CONV1D_DTYPE_BFLOAT16) == CONV1D_OK);
  CHECK(policy() == "bfloat16");
  // LoRA is float32-only, in either order.
  CHECK(conv1d_set_int(l, CONV1D_PARAM_LORA_RANK, 2) == CONV1D_ERROR_UNSUPPORTED);
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_DTYPE, "float32") == CONV1D_OK);
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_LORA_RANK, 2) == CONV1D_OK);
  CHECK(conv1d_set_string(l, CONV1D_PARAM_DTYPE, "float64") == CONV1D_ERROR_UNSUPPORTED);
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_LORA_RANK, 0) == CONV1D_OK);

  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_DTYPE, "float64") == CONV1D_OK);
  REQUIRE(conv1d_build(l, 2) == CONV1D_OK);
  CHECK(conv1d_set_string(l, CONV1D_PARAM_DTYPE, "bfloat16") == CONV1D_ERROR_INVALID_STATE);
  CHECK(conv1d_set_int(l, CONV1D_PARAM_DTYPE, CONV1D_DTYPE_FLOAT32) == CONV1D_ERROR_INVALID_STATE);
  CHECK(conv1d_set_string(l, CONV1D_PARAM_DTYPE, "float64") == CONV1D_OK);  // no change is fine
  CHECK(policy() == "float64");

  // Typed calls: bad dtype values, NULLs, short buffers; nothing written or changed.
  std::vector<double> k0(3 * 2 * 4), b0(4);
  REQUIRE(conv1d_get_weights_ex(l, CONV1D_DTYPE_FLOAT64, k0.data(), k0.size(), b0.data(), 4) == CONV1D_OK);
  const std::vector<double> x(2 * 5, 0.5);
  std::vector<double> y(3 * 4, -9.0);
  const auto bad_dtype = static_cast<conv1d_dtype>(7);
  CHECK(conv1d_forward_ex(l, bad_dtype, x.data(), x.size(), 1, 5, 2, CONV1D_DTYPE_FLOAT64, y.data(), y.size()) ==
        CONV1D_ERROR_INVALID_VALUE);
  CHECK(std::string(conv1d_last_error_message()).find("x_dtype") != std::string::npos);
  CHECK(conv1d_forward_ex(l, CONV1D_DTYPE_FLOAT64, x.data(), x.size(), 1, 5, 2, bad_dtype, y.data(), y.size()) ==
        CONV1D_ERROR_INVALID_VALUE);
  CHECK(conv1d_forward_ex(l, CONV1D_DTYPE_FLOAT64, nullptr, 0, 1, 5, 2, CONV1D_DTYPE_FLOAT64, y.data(), y.size()) ==
        CONV1D_ERROR_NULL_POINTER);
  CHECK(conv1d_forward_ex(l, CONV1D_DTYPE_FLOAT64, x.data(), x.size(), 1, 5, 2, CONV1D_DTYPE_FLOAT64, nullptr, 12) ==
        CONV1D_ERROR_NULL_POINTER);
  CHECK(conv1d_forward_ex(nullptr, CONV1D_DTYPE_FLOAT64, x.data(), x.size(), 1, 5, 2, CONV1D_DTYPE_FLOAT64, y.data(),
                          y.size()) == CONV1D_ERROR_NULL_POINTER);
  CHECK(conv1d_forward_ex(l, CONV1D_DTYPE_FLOAT64, x.data(), x.size(), 1, 5, 2, CONV1D_DTYPE_FLOAT64, y.data(), 11) ==
        CONV1D_ERROR_BUFFER_TOO_SMALL);
  CHECK(conv1d_forward_ex(l, CONV1D_DTYPE_FLOAT64, x.data(), 9, 1, 5, 2, CONV1D_DTYPE_FLOAT64, y.data(), 12) ==
        CONV1D_ERROR_BUFFER_TOO_SMALL);
  // bf16 x (20 bytes) reaching into a double y that starts 8 bytes later.
  std::vector<double> shared(13, -9.0);
  CHECK(conv1d_forward_ex(l, CONV1D_DTYPE_BFLOAT16, shared.data(), 10, 1, 5, 2, CONV1D_DTYPE_FLOAT64, shared.data() + 1,
                          12) == CONV1D_ERROR_INVALID_VALUE);
  CHECK(std::string(conv1d_last_error_message()).find("overlap") != std::string::npos);
  for (double v : shared) CHECK(v == -9.0);
  for (double v : y) CHECK(v == -9.0);
  const std::vector<double> k1(k0.size(), 1.0), b1(4, 1.0);
  CHECK(conv1d_set_weights_ex(l, bad_dtype, k1.data(), k1.size(), b1.data(), 4) == CONV1D_ERROR_INVALID_VALUE);
  CHECK(conv1d_set_weights_ex(l, CONV1D_DTYPE_FLOAT64, k1.data(), k1.size() - 1, b1.data(), 4) ==
        CONV1D_ERROR_LENGTH_MISMATCH);
  CHECK(conv1d_set_weights_ex(l, CONV1D_DTYPE_FLOAT64, nullptr, k1.size(), b1.data(), 4) == CONV1D_ERROR_NULL_POINTER);
  std::vector<double> k2(k0.size(), 5.0), b2(4, 5.0);
  CHECK(conv1d_get_weights_ex(l, bad_dtype, k2.data(), k2.size(), b2.data(), 4) == CONV1D_ERROR_INVALID_VALUE);
  CHECK(conv1d_get_weights_ex(l, CONV1D_DTYPE_FLOAT64, k2.data(), k2.size() - 1, b2.data(), 4) ==
        CONV1D_ERROR_BUFFER_TOO_SMALL);
  for (double v : k2) CHECK(v == 5.0);
  REQUIRE(conv1d_get_weights_ex(l, CONV1D_DTYPE_FLOAT64, k2.data(), k2.size(), b2.data(), 4) == CONV1D_OK);
  CHECK(k2 == k0);
  CHECK(b2 == b0);

  // Training calls that would not be exact on float64 say so.
  std::vector<float> xf(10, 0.5f), dy(12, 1.0f), dk(24);
  CHECK(conv1d_backward(l, xf.data(), 10, 1, 5, 2, dy.data(), 12, nullptr, 0, dk.data(), 24, nullptr, 0, 0) ==
        CONV1D_ERROR_UNSUPPORTED);
  CHECK(std::string(conv1d_last_error_message()).find("float64") != std::string::npos);
  double loss;
  CHECK(conv1d_regularization_loss(l, nullptr, 0, 1, 5, &loss) == CONV1D_ERROR_UNSUPPORTED);
  CHECK(conv1d_apply_constraints(l) == CONV1D_ERROR_UNSUPPORTED);
  // The layer still works.
  REQUIRE(conv1d_forward_ex(l, CONV1D_DTYPE_FLOAT64, x.data(), x.size(), 1, 5, 2, CONV1D_DTYPE_FLOAT64, y.data(),
                            y.size()) == CONV1D_OK);
}
