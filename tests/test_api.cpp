// Forward pass through the public C API against the float64 model in
// naive_conv1d.hpp, over a randomized grid of every Conv1D argument.
#include <conv1d/conv1d.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <random>
#include <thread>

#include "api_layer.hpp"
#include "naive_conv1d.hpp"
#include "random_data.hpp"

namespace {

using test_util::Layer;

std::vector<float> random_vec(std::mt19937& rng, size_t n, float lo, float hi) {
  return test_util::uniform_from(rng, n, lo, hi);
}

using test_util::kActivationCount;
using test_util::kActivations;

// Runs one configuration through every algorithm and compares with the model.
void check_config(const naive::Conv& c, int64_t N, int64_t L, int64_t C, std::mt19937& rng) {
  INFO("filters=" << c.filters << " k=" << c.kernel << " s=" << c.stride << " d=" << c.dilation
                  << " groups=" << c.groups << " padding=" << c.padding << " channels_first=" << c.channels_first
                  << " bias=" << c.use_bias << " act=" << c.activation << " N=" << N << " L=" << L << " C=" << C);
  const auto x = random_vec(rng, N * L * C, -1.f, 1.f);
  const auto w = random_vec(rng, c.kernel * (C / c.groups) * c.filters, -0.5f, 0.5f);
  const auto b = random_vec(rng, c.filters, -0.5f, 0.5f);
  int64_t want_shape[3];
  const auto want = naive::forward(c, x, N, L, C, w, b, want_shape);

  for (conv1d_algorithm algo :
       {CONV1D_ALGORITHM_REFERENCE, CONV1D_ALGORITHM_DIRECT, CONV1D_ALGORITHM_GEMM, CONV1D_ALGORITHM_AUTO}) {
    INFO("algorithm=" << conv1d_algorithm_name(algo));
    Layer layer(c.filters, c.kernel);
    test_util::configure(layer, c);
    REQUIRE(conv1d_set_int(layer, CONV1D_PARAM_ALGORITHM, algo) == CONV1D_OK);
    REQUIRE(conv1d_set_weights(layer, w.data(), w.size(), c.use_bias ? b.data() : nullptr, c.use_bias ? b.size() : 0) ==
            CONV1D_OK);
    int64_t shape[3];
    size_t count = 0;
    REQUIRE(conv1d_output_shape(layer, N, L, shape, &count) == CONV1D_OK);
    CHECK(shape[0] == want_shape[0]);
    CHECK(shape[1] == want_shape[1]);
    CHECK(shape[2] == want_shape[2]);
    REQUIRE(count == want.size());
    std::vector<float> y(count + 1, -777.f);  // one guard element past the end
    REQUIRE(conv1d_forward(layer, x.data(), x.size(), N, L, C, y.data(), count) == CONV1D_OK);
    CHECK(y[count] == -777.f);
    if (algo != CONV1D_ALGORITHM_AUTO) {
      conv1d_algorithm ran;
      REQUIRE(conv1d_query_algorithm(layer, N, L, &ran) == CONV1D_OK);
      CHECK(ran == algo);
    }
    size_t bad = 0;
    for (size_t i = 0; i < count; ++i) {
      const double tol = 2e-5 * (1.0 + std::fabs(want[i]));
      if (!(std::fabs(y[i] - want[i]) <= tol)) {
        if (bad++ < 3) FAIL_CHECK("y[" << i << "] = " << y[i] << ", want " << want[i]);
      }
    }
    CHECK(bad == 0);
  }
}

}  // namespace

TEST_CASE("forward matches the float64 model over the argument grid", "[forward][grid]") {
  std::mt19937 rng(12345);
  size_t act_i = 0, cases = 0;
  for (const char* padding : {"valid", "same", "causal"})
    for (int64_t stride : {1, 2, 3})
      for (int64_t dilation : {1, 2, 3}) {
        if (stride > 1 && dilation > 1) continue;
        for (int groups_kind : {0, 1, 2})  // 1 group, 2 groups, depthwise
          for (bool first : {false, true})
            for (bool bias : {false, true}) {
              naive::Conv c;
              c.padding = padding;
              c.stride = stride;
              c.dilation = dilation;
              c.channels_first = first;
              c.use_bias = bias;
              std::uniform_int_distribution<int64_t> kd(1, 5), ld(1, 17), nd(1, 3), cd(1, 5);
              c.kernel = kd(rng);
              int64_t C = cd(rng);
              if (groups_kind == 0) {
                c.groups = 1;
                c.filters = cd(rng) + 1;
              } else if (groups_kind == 1) {
                c.groups = 2;
                C *= 2;
                c.filters = 2 * cd(rng);
              } else {
                c.groups = C;
                c.filters = C * (1 + (cd(rng) % 2));  // depthwise, multiplier 1 or 2
              }
              int64_t L = ld(rng);
              if (c.padding == "valid") L += c.dilation * (c.kernel - 1);  // non-empty output
              const int64_t N = nd(rng);
              c.activation = kActivations[act_i++ % kActivationCount];
              // glu halves the last axis, which must then be even.
              if (c.activation == "glu") {
                if (first) {
                  const int64_t lo = naive::out_steps(c, L);
                  if (lo % 2) L += c.stride;
                } else if (c.filters % 2) {
                  c.filters *= 2;
                }
              }
              check_config(c, N, L, C, rng);
              ++cases;
            }
      }
  CHECK(cases == 3 * 5 * 3 * 2 * 2);
}

TEST_CASE("every activation on channels_last and channels_first", "[forward][activation]") {
  std::mt19937 rng(7);
  for (const char* a : kActivations)
    for (bool first : {false, true}) {
      naive::Conv c;
      c.filters = 6;
      c.kernel = 3;
      c.padding = "same";
      c.channels_first = first;
      c.activation = a;
      check_config(c, 2, 8, 4, rng);
    }
}

TEST_CASE("edge shapes: steps=1, kernel longer than the input, wide layers", "[forward][edge]") {
  std::mt19937 rng(99);
  naive::Conv c;
  c.filters = 3;
  c.kernel = 7;
  for (const char* padding : {"same", "causal"})
    for (bool first : {false, true}) {
      c.padding = padding;
      c.channels_first = first;
      check_config(c, 2, 1, 3, rng);  // steps = 1
      check_config(c, 1, 4, 2, rng);  // kernel longer than steps
      c.stride = 3;
      check_config(c, 3, 5, 2, rng);
      c.stride = 1;
    }
  // Large enough that auto takes the GEMM path, with odd sizes everywhere.
  naive::Conv big;
  big.filters = 37;
  big.kernel = 3;
  big.padding = "same";
  check_config(big, 2, 41, 29, rng);
  big.channels_first = true;
  big.groups = 1;
  check_config(big, 1, 33, 31, rng);
  big.padding = "causal";
  big.dilation = 4;
  check_config(big, 2, 50, 19, rng);
}

TEST_CASE("concurrent forward calls on one layer agree", "[forward][threads]") {
  // 8 threads share one layer (big enough to use the pool, and at several
  // lengths so plans are made concurrently) while 2 more create, build, run
  // and destroy layers of their own.
  Layer layer(24, 3);
  REQUIRE(conv1d_set_int(layer, CONV1D_PARAM_SEED, 3) == CONV1D_OK);
  REQUIRE(conv1d_set_string(layer, CONV1D_PARAM_PADDING, "same") == CONV1D_OK);
  REQUIRE(conv1d_build(layer, 20) == CONV1D_OK);
  std::mt19937 rng(5);
  const auto x = random_vec(rng, 2 * 640 * 20, -1.f, 1.f);
  std::vector<float> want(2 * 640 * 24);
  REQUIRE(conv1d_forward(layer, x.data(), x.size(), 2, 640, 20, want.data(), want.size()) == CONV1D_OK);
  std::vector<std::thread> threads;
  std::vector<int> ok(10, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      std::vector<float> y(want.size());
      bool same = true;
      for (int r = 0; r < 12; ++r) {
        const int64_t steps = 640 - (r % 4);
        if (conv1d_forward(layer, x.data(), x.size(), 2, steps, 20, y.data(), y.size()) != CONV1D_OK) same = false;
        if (steps == 640) same = same && y == want;
      }
      ok[t] = same;
    });
  }
  for (int t = 8; t < 10; ++t) {
    threads.emplace_back([&, t] {
      bool fine = true;
      for (int r = 0; r < 6; ++r) {
        conv1d_layer* own = nullptr;
        fine = fine && conv1d_create(16, 5, &own) == CONV1D_OK;
        fine = fine && conv1d_set_int(own, CONV1D_PARAM_SEED, r) == CONV1D_OK;
        fine = fine && conv1d_build(own, 12) == CONV1D_OK;
        std::vector<float> xs(3 * 300 * 12, 0.5f), ys(3 * 296 * 16);
        fine = fine && conv1d_forward(own, xs.data(), xs.size(), 3, 300, 12, ys.data(), ys.size()) == CONV1D_OK;
        conv1d_destroy(own);
      }
      ok[t] = fine;
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 10; ++t) CHECK(ok[t] == 1);
}

TEST_CASE("execution parameters: threads, ISA cap, find mode and plan descriptions", "[forward][dispatch]") {
  std::mt19937 rng(17);
  const int64_t N = 3, L = 200, C = 24, F = 40;
  const auto x = random_vec(rng, N * L * C, -1.f, 1.f);
  auto run = [&](auto configure, std::string* plan) {
    Layer layer(F, 5);
    REQUIRE(conv1d_set_int(layer, CONV1D_PARAM_SEED, 9) == CONV1D_OK);
    REQUIRE(conv1d_set_string(layer, CONV1D_PARAM_PADDING, "same") == CONV1D_OK);
    configure(layer.p);
    REQUIRE(conv1d_build(layer, C) == CONV1D_OK);
    std::vector<float> y(N * L * F);
    REQUIRE(conv1d_forward(layer, x.data(), x.size(), N, L, C, y.data(), y.size()) == CONV1D_OK);
    size_t need = 0;
    REQUIRE(conv1d_describe_plan(layer, N, L, nullptr, 0, &need) == CONV1D_ERROR_BUFFER_TOO_SMALL);
    plan->assign(need, '\0');
    REQUIRE(conv1d_describe_plan(layer, N, L, &(*plan)[0], need, nullptr) == CONV1D_OK);
    plan->pop_back();
    return y;
  };
  std::string p_ref, p1, p2, p_scalar, p_find, p_gemm;
  const auto ref =
      run([](conv1d_layer* l) { conv1d_set_int(l, CONV1D_PARAM_ALGORITHM, CONV1D_ALGORITHM_REFERENCE); }, &p_ref);
  CHECK(p_ref.find("reference") != std::string::npos);
  const auto one = run([](conv1d_layer* l) { conv1d_set_int(l, CONV1D_PARAM_NUM_THREADS, 1); }, &p1);
  const auto two = run([](conv1d_layer* l) { conv1d_set_int(l, CONV1D_PARAM_NUM_THREADS, 2); }, &p2);
  CHECK(one == two);  // bitwise, whatever the thread count
  CHECK(p1.find("1 thread") != std::string::npos);
  const auto scalar = run(
      [](conv1d_layer* l) {
        REQUIRE(conv1d_set_string(l, CONV1D_PARAM_MAX_ISA, "scalar") == CONV1D_OK);
        REQUIRE(conv1d_set_string(l, CONV1D_PARAM_ALGORITHM, "direct") == CONV1D_OK);
      },
      &p_scalar);
  CHECK(p_scalar.find("direct/scalar") != std::string::npos);
  std::string p_scalar_auto;
  run([](conv1d_layer* l) { conv1d_set_int(l, CONV1D_PARAM_MAX_ISA, CONV1D_ISA_SCALAR); }, &p_scalar_auto);
  CHECK(p_scalar_auto.find("gemm/openblas") != std::string::npos);  // no SIMD kernel: a wide reduction goes to GEMM
  const auto found =
      run([](conv1d_layer* l) { REQUIRE(conv1d_set_int(l, CONV1D_PARAM_FIND, 1) == CONV1D_OK); }, &p_find);
  CHECK(p_find.find("find: timed") != std::string::npos);
  const auto gemm = run([](conv1d_layer* l) { conv1d_set_string(l, CONV1D_PARAM_ALGORITHM, "GEMM"); }, &p_gemm);
  CHECK(p_gemm.find("gemm/openblas") != std::string::npos);
  std::string p_gemm1;
  const auto gemm1 = run(
      [](conv1d_layer* l) {
        conv1d_set_string(l, CONV1D_PARAM_ALGORITHM, "gemm");
        conv1d_set_int(l, CONV1D_PARAM_NUM_THREADS, 1);
      },
      &p_gemm1);
  CHECK(gemm1 == gemm);  // the GEMM path too is bitwise the same for any thread count
  // The default cap is $CONV1D_MAX_ISA when set (CTest runs this suite per ISA), else the CPU's best.
  const char* env = std::getenv("CONV1D_MAX_ISA");
  const std::string env_isa = env ? env : "";
  const conv1d_isa cap = env_isa == "scalar" ? CONV1D_ISA_SCALAR
                         : env_isa == "avx2" ? CONV1D_ISA_AVX2
                                             : CONV1D_ISA_AVX512;
  const conv1d_isa want_isa = std::min(cap, conv1d_cpu_isa());
  CHECK(p1.find(want_isa == CONV1D_ISA_AVX512 ? "direct/avx512/nwc"
                : want_isa == CONV1D_ISA_AVX2 ? "direct/avx2/nwc"
                                              : "gemm/openblas") != std::string::npos);
  for (const auto* y : {&one, &two, &scalar, &found, &gemm})
    for (size_t i = 0; i < ref.size(); ++i) REQUIRE(std::fabs((*y)[i] - ref[i]) <= 1e-4f * (1 + std::fabs(ref[i])));

  int64_t v = -1;
  Layer l(4, 3);
  CHECK(conv1d_set_int(l, CONV1D_PARAM_NUM_THREADS, -1) == CONV1D_ERROR_INVALID_VALUE);
  CHECK(conv1d_set_int(l, CONV1D_PARAM_MAX_ISA, 7) == CONV1D_ERROR_INVALID_VALUE);
  CHECK(conv1d_set_string(l, CONV1D_PARAM_MAX_ISA, "sse9") == CONV1D_ERROR_UNKNOWN_NAME);
  REQUIRE(conv1d_get_int(l, CONV1D_PARAM_MAX_ISA, &v) == CONV1D_OK);
  CHECK(v == (env ? cap : conv1d_cpu_isa()));  // default: the environment's cap, else what the CPU has
}

TEST_CASE("NaN and Inf propagate the same way in every algorithm and ISA", "[forward][nan]") {
  // One NaN and one Inf in the input: exactly the outputs whose receptive
  // field holds them become non-finite, in every algorithm.
  const int64_t N = 1, L = 40, C = 8, F = 20, k = 3;
  std::vector<float> x(N * L * C, 0.5f);
  x[10 * C + 3] = NAN;       // step 10
  x[30 * C + 5] = INFINITY;  // step 30
  std::vector<float> w(k * C * F, 0.25f), b(F, 0.0f);
  for (const char* algo : {"reference", "direct", "gemm", "auto"})
    for (const char* isa : {"scalar", "avx2", "avx512"}) {
      INFO(algo << " " << isa);
      Layer l(F, k);
      REQUIRE(conv1d_set_string(l, CONV1D_PARAM_ALGORITHM, algo) == CONV1D_OK);
      REQUIRE(conv1d_set_string(l, CONV1D_PARAM_MAX_ISA, isa) == CONV1D_OK);
      REQUIRE(conv1d_set_string(l, CONV1D_PARAM_ACTIVATION, "relu") == CONV1D_OK);
      REQUIRE(conv1d_set_weights(l, w.data(), w.size(), b.data(), b.size()) == CONV1D_OK);
      std::vector<float> y((L - k + 1) * F);
      REQUIRE(conv1d_forward(l, x.data(), x.size(), N, L, C, y.data(), y.size()) == CONV1D_OK);
      for (int64_t t = 0; t < L - k + 1; ++t)
        for (int64_t f = 0; f < F; ++f) {
          const float v = y[t * F + f];
          if (t >= 8 && t <= 10)
            CHECK(std::isnan(v));  // relu keeps NaN
          else if (t >= 28 && t <= 30)
            CHECK((std::isinf(v) && v > 0));
          else
            CHECK(v == Approx(0.5 * 0.25 * C * k));
        }
    }
}
