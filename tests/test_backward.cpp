// conv1d_backward against two independent references: central finite
// differences of the float64 model in naive_conv1d.hpp (every configuration
// and activation, small shapes), and the gradient formulas written out in
// float64 here (larger shapes, every algorithm and ISA, thread counts).
#include <conv1d/conv1d.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "api_layer.hpp"
#include "naive_conv1d.hpp"
#include "random_data.hpp"

namespace {

using test_util::Layer;

using test_util::uniform;

struct Problem {
  naive::Conv c;
  int64_t N = 2, L = 11, C = 4;
  int64_t cg() const { return C / c.groups; }
  size_t x_len() const { return static_cast<size_t>(N * L * C); }
  size_t w_len() const { return static_cast<size_t>(c.kernel * cg() * c.filters); }
};

void configure(conv1d_layer* l, const Problem& p) {
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_STRIDES, p.c.stride) == CONV1D_OK);
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_DILATION_RATE, p.c.dilation) == CONV1D_OK);
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_GROUPS, p.c.groups) == CONV1D_OK);
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_PADDING, p.c.padding.c_str()) == CONV1D_OK);
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_DATA_FORMAT,
                         p.c.channels_first ? CONV1D_CHANNELS_FIRST : CONV1D_CHANNELS_LAST) == CONV1D_OK);
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_USE_BIAS, p.c.use_bias ? 1 : 0) == CONV1D_OK);
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_ACTIVATION, p.c.activation.c_str()) == CONV1D_OK);
}

struct Grads {
  std::vector<float> dx, dk, db;
};

Grads library_grads(conv1d_layer* l, const Problem& p, const std::vector<float>& x, const std::vector<float>& dy,
                    uint32_t flags = 0) {
  Grads g;
  size_t kl = 0, bl = 0;
  REQUIRE(conv1d_weight_sizes(l, &kl, &bl) == CONV1D_OK);
  g.dx.assign(x.size(), NAN);
  g.dk.assign(kl, NAN);
  g.db.assign(bl, NAN);
  const int64_t steps = p.L;
  const conv1d_status s = conv1d_backward(l, x.data(), x.size(), p.N, steps, p.C, dy.data(), dy.size(), g.dx.data(),
                                          g.dx.size(), g.dk.data(), g.dk.size(), bl ? g.db.data() : nullptr, bl, flags);
  INFO(conv1d_last_error_message());
  REQUIRE(s == CONV1D_OK);
  return g;
}

// Sum of dy * y over the output: its gradient is what backward returns.
double objective(const Problem& p, const std::vector<double>& x, const std::vector<double>& w,
                 const std::vector<double>& b, const std::vector<float>& dy) {
  int64_t shape[3];
  const std::vector<double> y = naive::forward(p.c, x, p.N, p.L, p.C, w, b, shape);
  double s = 0.0;
  for (size_t i = 0; i < y.size(); ++i) s += y[i] * dy[i];
  return s;
}

// Central differences in double of the objective with respect to every
// input, kernel and bias value.
Grads finite_differences(const Problem& p, const std::vector<float>& xf, const std::vector<float>& wf,
                         const std::vector<float>& bf, const std::vector<float>& dy) {
  std::vector<double> x(xf.begin(), xf.end()), w(wf.begin(), wf.end()), b(bf.begin(), bf.end());
  const double h = 1e-6;
  auto diff = [&](std::vector<double>& v) {
    std::vector<float> g(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      const double keep = v[i];
      v[i] = keep + h;
      const double up = objective(p, x, w, b, dy);
      v[i] = keep - h;
      const double down = objective(p, x, w, b, dy);
      v[i] = keep;
      g[i] = static_cast<float>((up - down) / (2 * h));
    }
    return g;
  };
  Grads g;
  g.dx = diff(x);
  g.dk = diff(w);
  if (p.c.use_bias) g.db = diff(b);
  return g;
}

// True when some pre-activation lies within `margin` of a point where an
// activation's derivative jumps; finite differences are meaningless there.
bool near_kink(const Problem& p, const std::vector<float>& x, const std::vector<float>& w,
               const std::vector<float>& b) {
  naive::Conv lin = p.c;
  lin.activation = "linear";
  Problem q = p;
  q.c = lin;
  int64_t shape[3];
  const std::vector<double> z = naive::forward(lin, x, p.N, p.L, p.C, w, b, shape);
  for (double v : z)
    for (double k : {0.0, 0.5, -0.5, 1.0, -1.0, 3.0, -3.0, 6.0})
      if (std::fabs(v - k) < 1e-3) return true;
  return false;
}

// One assertion per buffer, naming the first element off: one per element
// made the larger shapes below millions of assertions, most of their time
// under the sanitizers. tol(want) is an element's allowed error.
template <class T, class Tol>
void require_within(const std::vector<float>& got, const std::vector<T>& want, const char* what, Tol tol) {
  REQUIRE(got.size() == want.size());
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(std::fabs(got[i] - want[i]) <= tol(static_cast<double>(want[i]))) && bad++ == 0) first = i;
  INFO(what << ": " << bad << " of " << got.size() << " off; first [" << first << "] got " << (bad ? got[first] : 0.f)
            << " want " << (bad ? static_cast<double>(want[first]) : 0.0) << ", allowed "
            << (bad ? tol(static_cast<double>(want[first])) : 0.0));
  REQUIRE(bad == 0);
}

void require_close(const std::vector<float>& got, const std::vector<float>& want, const char* what) {
  require_within(got, want, what, [](double v) { return 2e-4 * (1.0 + std::fabs(v)); });
}

// Builds the layer for p with weights and data drawn from `seed` (re-drawn
// until no pre-activation sits at a kink), checks every algorithm's
// gradients against finite differences.
void check_against_fd(Problem p, uint32_t seed) {
  std::vector<float> x, w, b, dy;
  for (int attempt = 0;; ++attempt) {
    REQUIRE(attempt < 50);
    x = uniform(p.x_len(), seed + 1000 * attempt, -1.0f, 1.0f);
    w = uniform(p.w_len(), seed + 1000 * attempt + 1, -0.5f, 0.5f);
    b = p.c.use_bias ? uniform(static_cast<size_t>(p.c.filters), seed + 1000 * attempt + 2, -0.5f, 0.5f)
                     : std::vector<float>{};
    if (!near_kink(p, x, w, b)) break;
  }
  int64_t shape[3];
  const size_t y_len = naive::forward(p.c, x, p.N, p.L, p.C, w, b, shape).size();
  dy = uniform(y_len, seed + 7, -1.0f, 1.0f);
  const Grads want = finite_differences(p, x, w, b, dy);
  for (conv1d_algorithm a :
       {CONV1D_ALGORITHM_REFERENCE, CONV1D_ALGORITHM_DIRECT, CONV1D_ALGORITHM_GEMM, CONV1D_ALGORITHM_AUTO}) {
    Layer l(p.c.filters, p.c.kernel);
    configure(l, p);
    REQUIRE(conv1d_set_int(l, CONV1D_PARAM_ALGORITHM, a) == CONV1D_OK);
    REQUIRE(conv1d_set_weights(l, w.data(), w.size(), p.c.use_bias ? b.data() : nullptr, b.size()) == CONV1D_OK);
    INFO("algorithm " << conv1d_algorithm_name(a));
    const Grads got = library_grads(l, p, x, dy);
    require_close(got.dx, want.dx, "dx");
    require_close(got.dk, want.dk, "dkernel");
    require_close(got.db, want.db, "dbias");
  }
}

}  // namespace

TEST_CASE("backward matches finite differences over the argument grid", "[backward][grid]") {
  uint32_t seed = 1;
  for (const char* padding : {"valid", "same", "causal"})
    for (auto sd : {std::pair<int, int>{1, 1}, {2, 1}, {3, 1}, {1, 2}})
      for (int groups : {1, 2, 4})  // 4: depthwise, C = F = groups
        for (bool first : {false, true})
          for (bool bias : {true, false}) {
            Problem p;
            p.c.filters = 4;
            p.c.kernel = 3;
            p.c.stride = sd.first;
            p.c.dilation = sd.second;
            p.c.groups = groups;
            p.c.padding = padding;
            p.c.channels_first = first;
            p.c.use_bias = bias;
            p.c.activation = "tanh";
            INFO("padding " << padding << " strides " << sd.first << " dilation " << sd.second << " groups " << groups
                            << (first ? " channels_first" : " channels_last") << (bias ? " bias" : " no bias"));
            check_against_fd(p, seed++);
          }
}

TEST_CASE("backward through every activation matches finite differences", "[backward][activation]") {
  uint32_t seed = 500;
  for (int a = CONV1D_ACTIVATION_LINEAR; a <= CONV1D_ACTIVATION_SPARSEMAX; ++a) {
    if (a == CONV1D_ACTIVATION_THRESHOLD) continue;
    for (bool first : {false, true}) {
      Problem p;
      p.N = 2, p.L = 6, p.C = 3;
      p.c.filters = 4;
      p.c.kernel = 3;
      p.c.padding = "same";
      p.c.channels_first = first;
      p.c.activation = conv1d_activation_name(static_cast<conv1d_activation>(a));
      INFO("activation " << p.c.activation << (first ? " channels_first" : " channels_last"));
      check_against_fd(p, seed++);
    }
  }
}

TEST_CASE("activation derivatives at their kinks are TensorFlow's", "[backward][activation]") {
  // A 1x1 identity layer without bias makes dx the activation's derivative
  // at x. The values are what TensorFlow's registered gradients give for
  // the ops Keras's TF backend builds: ReluGrad/Relu6Grad are strict,
  // LeakyReluGrad takes alpha at 0, EluGrad/SeluGrad look at the output's
  // sign (0 takes the positive side), clip_by_value is Minimum then Maximum
  // whose gradients pass on ties, celu adds max(x,0) and expm1(min(x,0))
  // (both pass at 0), and the tf.where forms take the branch their test picks.
  struct Kink {
    const char* act;
    float x, want;
  };
  const float scale = 1.0507009873554805f;
  const Kink kinks[] = {
      {"relu", 0.0f, 0.0f},
      {"relu6", 0.0f, 0.0f},
      {"relu6", 6.0f, 0.0f},
      {"leaky_relu", 0.0f, 0.2f},
      {"elu", 0.0f, 1.0f},
      {"selu", 0.0f, scale},
      {"selu", -0.0f, scale},
      {"celu", 0.0f, 2.0f},
      {"hard_tanh", 1.0f, 1.0f},
      {"hard_tanh", -1.0f, 1.0f},
      {"hard_tanh", 1.5f, 0.0f},
      {"hard_sigmoid", -3.0f, 0.0f},
      {"hard_sigmoid", 3.0f, 0.0f},
      {"hard_silu", -3.0f, 0.0f},
      {"hard_silu", 3.0f, 1.0f},
      {"hard_shrink", 0.5f, 0.0f},
      {"hard_shrink", -0.5f, 0.0f},
      {"soft_shrink", 0.5f, 0.0f},
      {"soft_shrink", -0.5f, 0.0f},
      {"sparse_plus", -1.0f, 0.0f},
      {"sparse_plus", 1.0f, 1.0f},
      {"sparse_sigmoid", -1.0f, 0.0f},
      {"sparse_sigmoid", 1.0f, 0.0f},
  };
  for (const Kink& k : kinks) {
    INFO(k.act << "'(" << k.x << ")");
    Layer l(1, 1);
    REQUIRE(conv1d_set_int(l, CONV1D_PARAM_USE_BIAS, 0) == CONV1D_OK);
    REQUIRE(conv1d_set_string(l, CONV1D_PARAM_ACTIVATION, k.act) == CONV1D_OK);
    const float w = 1.0f;
    REQUIRE(conv1d_set_weights(l, &w, 1, nullptr, 0) == CONV1D_OK);
    const float dy = 1.0f;
    float dx = -7.0f;
    REQUIRE(conv1d_backward(l, &k.x, 1, 1, 1, 1, &dy, 1, &dx, 1, nullptr, 0, nullptr, 0, 0) == CONV1D_OK);
    CHECK(dx == Approx(k.want).epsilon(1e-6));
  }
}

namespace {

// The gradient formulas of a linear layer, in float64, written out directly.
struct Exact {
  std::vector<double> dx, dk, db;
};

Exact exact_linear(const Problem& p, const std::vector<float>& x, const std::vector<float>& w,
                   const std::vector<float>& dz) {
  const naive::Conv& c = p.c;
  const int64_t Lo = naive::out_steps(c, p.L), pl = naive::pad_left(c, p.L), F = c.filters, cg = p.cg(),
                fg = F / c.groups;
  Exact e;
  e.dx.assign(p.x_len(), 0.0);
  e.dk.assign(p.w_len(), 0.0);
  e.db.assign(static_cast<size_t>(F), 0.0);
  auto xi = [&](int64_t n, int64_t t, int64_t ch) {
    return c.channels_first ? (n * p.C + ch) * p.L + t : (n * p.L + t) * p.C + ch;
  };
  auto zi = [&](int64_t n, int64_t t, int64_t f) {
    return c.channels_first ? (n * F + f) * Lo + t : (n * Lo + t) * F + f;
  };
  for (int64_t n = 0; n < p.N; ++n)
    for (int64_t t = 0; t < Lo; ++t)
      for (int64_t f = 0; f < F; ++f) {
        const double g = dz[zi(n, t, f)];
        e.db[f] += g;
        for (int64_t j = 0; j < c.kernel; ++j) {
          const int64_t pos = t * c.stride + j * c.dilation - pl;
          if (pos < 0 || pos >= p.L) continue;
          for (int64_t ci = 0; ci < cg; ++ci) {
            const int64_t ch = (f / fg) * cg + ci;
            e.dx[xi(n, pos, ch)] += g * w[(j * cg + ci) * F + f];
            e.dk[(j * cg + ci) * F + f] += g * x[xi(n, pos, ch)];
          }
        }
      }
  return e;
}

void require_close(const std::vector<float>& got, const std::vector<double>& want, double scale, const char* what) {
  require_within(got, want, what, [scale](double) { return 1e-5 * scale; });
}

}  // namespace

TEST_CASE("fast backward paths match the float64 formulas on larger shapes, bit-identical across threads",
          "[backward][dispatch][threads]") {
  struct Shape {
    int64_t N, L, C, F, k, s, d, g;
    const char* padding;
    bool first;
  };
  const Shape shapes[] = {
      {3, 67, 19, 35, 3, 1, 1, 1, "same", false},      // tails everywhere
      {2, 150, 64, 48, 5, 2, 1, 1, "valid", false},    // strided
      {2, 77, 32, 24, 5, 2, 1, 1, "causal", false},    // strided causal: phases start past their left pad
      {2, 50, 16, 20, 2, 3, 1, 1, "valid", false},     // stride > kernel: a phase without taps
      {2, 81, 32, 40, 4, 2, 1, 1, "same", false},      // strided same: phases write dx rows in place
      {2, 90, 40, 40, 5, 2, 1, 40, "same", false},     // strided depthwise: in place through the depthwise kernel
      {2, 90, 3, 37, 5, 2, 1, 1, "valid", false},      // few channels: folded dx along the filters, lane tails
      {2, 64, 8, 64, 3, 1, 2, 2, "causal", false},     // the same, grouped and dilated
      {1, 50, 2, 20, 4, 1, 1, 1, "same", true},        // the same, channels_first
      {1, 40, 20, 16, 5, 3, 1, 1, "causal", true},     // channels_first strided causal
      {2, 90, 32, 32, 3, 1, 4, 1, "causal", false},    // dilated
      {2, 80, 100, 100, 7, 1, 1, 100, "same", false},  // depthwise: 64-channel blocks, a 16 block and 4 singles
      {2, 70, 40, 40, 3, 1, 1, 8, "same", false},      // grouped
      {2, 60, 24, 16, 3, 1, 2, 1, "causal", true},     // channels_first
      {2, 30, 160, 24, 3, 1, 1, 2, "same", true},      // channels_first dW: two channel blocks per group
      {2, 61, 24, 16, 4, 3, 1, 2, "same", true},       // channels_first strided, grouped
      {2, 50, 48, 48, 9, 1, 1, 48, "same", true},      // channels_first depthwise
      {2, 300, 40, 50, 1, 1, 1, 1, "same", true},      // channels_first dW in packed panels: pointwise
      {2, 100, 24, 128, 1, 1, 1, 1, "same", true},     // channels_first pointwise dx on x panels
      {2, 200, 24, 128, 3, 2, 1, 1, "valid", true},    // the same per phase, one step past x: zeros
      {2, 200, 24, 128, 3, 2, 1, 1, "causal", true},   // the same, causal
  };
  for (const Shape& sh : shapes) {
    Problem p;
    p.N = sh.N, p.L = sh.L, p.C = sh.C;
    p.c.filters = sh.F, p.c.kernel = sh.k, p.c.stride = sh.s, p.c.dilation = sh.d, p.c.groups = sh.g;
    p.c.padding = sh.padding, p.c.channels_first = sh.first;
    const std::vector<float> x = uniform(p.x_len(), 11, -1, 1), w = uniform(p.w_len(), 12, -1, 1),
                             b = uniform(static_cast<size_t>(sh.F), 13, -1, 1);
    int64_t shape[3];
    const std::vector<float> dy = uniform(naive::forward(p.c, x, p.N, p.L, p.C, w, b, shape).size(), 14, -1, 1);
    const Exact want = exact_linear(p, x, w, dy);
    // Sums have up to N*L*k*C/G terms of size <= 1.
    const double scale = static_cast<double>(sh.N * sh.L * sh.k * std::max(sh.C, sh.F) / sh.g);
    for (conv1d_algorithm a : {CONV1D_ALGORITHM_REFERENCE, CONV1D_ALGORITHM_DIRECT, CONV1D_ALGORITHM_GEMM}) {
      for (conv1d_isa isa : {CONV1D_ISA_SCALAR, CONV1D_ISA_AVX2, CONV1D_ISA_AVX512}) {
        if (isa > conv1d_cpu_isa()) continue;
        Grads by_threads[2];
        for (int threads : {1, 2}) {
          Layer l(sh.F, sh.k);
          configure(l, p);
          REQUIRE(conv1d_set_int(l, CONV1D_PARAM_ALGORITHM, a) == CONV1D_OK);
          REQUIRE(conv1d_set_int(l, CONV1D_PARAM_MAX_ISA, isa) == CONV1D_OK);
          REQUIRE(conv1d_set_int(l, CONV1D_PARAM_NUM_THREADS, threads) == CONV1D_OK);
          REQUIRE(conv1d_set_weights(l, w.data(), w.size(), b.data(), b.size()) == CONV1D_OK);
          INFO("C=" << sh.C << " F=" << sh.F << " groups=" << sh.g << (sh.first ? " ncw " : " nwc ")
                    << conv1d_algorithm_name(a) << " isa " << isa << " threads " << threads);
          Grads g = library_grads(l, p, x, dy);
          require_close(g.dx, want.dx, scale, "dx");
          require_close(g.dk, want.dk, scale, "dkernel");
          require_close(g.db, want.db, scale, "dbias");
          by_threads[threads - 1] = std::move(g);
        }
        INFO("C=" << sh.C << " F=" << sh.F << " groups=" << sh.g << (sh.first ? " ncw " : " nwc ")
                  << conv1d_algorithm_name(a) << " isa " << isa << ": 1 and 2 threads");
        REQUIRE(std::memcmp(by_threads[0].dx.data(), by_threads[1].dx.data(), x.size() * 4) == 0);
        REQUIRE(std::memcmp(by_threads[0].dk.data(), by_threads[1].dk.data(), w.size() * 4) == 0);
        REQUIRE(std::memcmp(by_threads[0].db.data(), by_threads[1].db.data(), b.size() * 4) == 0);
      }
    }
  }
}

TEST_CASE("backward: subsets, accumulation and concurrent calls", "[backward][threads]") {
  Problem p;
  p.N = 4, p.L = 200, p.C = 32;
  p.c.filters = 64, p.c.kernel = 5, p.c.padding = "same", p.c.activation = "gelu";
  const std::vector<float> x = uniform(p.x_len(), 21, -1, 1), w = uniform(p.w_len(), 22, -0.2f, 0.2f),
                           b = uniform(64, 23, -1, 1), dy = uniform(static_cast<size_t>(4 * 200 * 64), 24, -1, 1);
  Layer l(64, 5);
  configure(l, p);
  REQUIRE(conv1d_set_weights(l, w.data(), w.size(), b.data(), b.size()) == CONV1D_OK);
  const Grads full = library_grads(l, p, x, dy);

  // Any subset gives the same values as the full call.
  std::vector<float> dk(w.size()), db(64);
  REQUIRE(conv1d_backward(l, x.data(), x.size(), 4, 200, 32, dy.data(), dy.size(), nullptr, 0, dk.data(), dk.size(),
                          nullptr, 0, 0) == CONV1D_OK);
  REQUIRE(dk == full.dk);
  REQUIRE(conv1d_backward(l, x.data(), x.size(), 4, 200, 32, dy.data(), dy.size(), nullptr, 0, nullptr, 0, db.data(),
                          db.size(), 0) == CONV1D_OK);
  REQUIRE(db == full.db);

  // New weights reach dx too (the layer caches its transposed kernel).
  {
    const std::vector<float> w2 = uniform(w.size(), 25, -0.2f, 0.2f);
    REQUIRE(conv1d_set_weights(l, w2.data(), w2.size(), b.data(), b.size()) == CONV1D_OK);
    const Grads changed = library_grads(l, p, x, dy);
    Layer fresh(64, 5);
    configure(fresh, p);
    REQUIRE(conv1d_set_weights(fresh, w2.data(), w2.size(), b.data(), b.size()) == CONV1D_OK);
    CHECK(changed.dx == library_grads(fresh, p, x, dy).dx);
    CHECK(changed.dx != full.dx);
    REQUIRE(conv1d_set_weights(l, w.data(), w.size(), b.data(), b.size()) == CONV1D_OK);
  }

  // ACCUMULATE adds onto what is there.
  std::vector<float> dx2(x.size(), 1.0f), dk2(w.size(), -2.0f), db2(64, 0.5f);
  REQUIRE(conv1d_backward(l, x.data(), x.size(), 4, 200, 32, dy.data(), dy.size(), dx2.data(), dx2.size(), dk2.data(),
                          dk2.size(), db2.data(), db2.size(), CONV1D_BACKWARD_ACCUMULATE) == CONV1D_OK);
  for (size_t i = 0; i < dx2.size(); ++i) REQUIRE(dx2[i] == full.dx[i] + 1.0f);
  for (size_t i = 0; i < dk2.size(); ++i) REQUIRE(dk2[i] == full.dk[i] - 2.0f);
  for (size_t i = 0; i < db2.size(); ++i) REQUIRE(db2[i] == full.db[i] + 0.5f);

  // Many threads on one layer at once get the single-threaded answer.
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<float> dx(x.size()), dkt(w.size()), dbt(64);
      bool same = true;
      for (int rep = 0; rep < 3; ++rep) {
        same &= conv1d_backward(l, x.data(), x.size(), 4, 200, 32, dy.data(), dy.size(), dx.data(), dx.size(),
                                dkt.data(), dkt.size(), dbt.data(), dbt.size(), 0) == CONV1D_OK;
        same &= dx == full.dx && dkt == full.dk && dbt == full.db;
      }
      ok[t] = same;
    });
  }
  for (std::thread& t : threads) t.join();
  for (int v : ok) REQUIRE(v == 1);
}

TEST_CASE("backward plans are cached per shape and follow parameter and weight changes", "[backward][dispatch]") {
  Problem p;
  p.N = 2, p.L = 60, p.C = 32;
  p.c.filters = 24, p.c.kernel = 3, p.c.padding = "same";
  const std::vector<float> x = uniform(p.x_len(), 21, -1, 1), w = uniform(p.w_len(), 22, -1, 1),
                           w2 = uniform(p.w_len(), 23, -1, 1), b = uniform(24, 24, -1, 1);
  const std::vector<float> dy = uniform(static_cast<size_t>(p.N * p.L * p.c.filters), 25, -1, 1);
  const auto fresh = [&](conv1d_algorithm a, const std::vector<float>& kernel) {
    Layer l(p.c.filters, p.c.kernel);
    configure(l, p);
    REQUIRE(conv1d_set_int(l, CONV1D_PARAM_ALGORITHM, a) == CONV1D_OK);
    REQUIRE(conv1d_set_weights(l, kernel.data(), kernel.size(), b.data(), b.size()) == CONV1D_OK);
    return library_grads(l, p, x, dy);
  };
  const Grads ref = fresh(CONV1D_ALGORITHM_REFERENCE, w), direct = fresh(CONV1D_ALGORITHM_DIRECT, w);
  const Grads direct2 = fresh(CONV1D_ALGORITHM_DIRECT, w2);
  // The float64-accumulating oracle and the float32 tiles differ in the last bits somewhere.
  REQUIRE(std::memcmp(ref.dk.data(), direct.dk.data(), ref.dk.size() * 4) != 0);

  Layer l(p.c.filters, p.c.kernel);
  configure(l, p);
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_ALGORITHM, CONV1D_ALGORITHM_DIRECT) == CONV1D_OK);
  REQUIRE(conv1d_set_weights(l, w.data(), w.size(), b.data(), b.size()) == CONV1D_OK);
  Grads g = library_grads(l, p, x, dy);
  CHECK(std::memcmp(g.dk.data(), direct.dk.data(), g.dk.size() * 4) == 0);
  CHECK(std::memcmp(g.dx.data(), direct.dx.data(), g.dx.size() * 4) == 0);
  // A changed algorithm re-plans the same shape.
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_ALGORITHM, CONV1D_ALGORITHM_REFERENCE) == CONV1D_OK);
  g = library_grads(l, p, x, dy);
  CHECK(std::memcmp(g.dk.data(), ref.dk.data(), g.dk.size() * 4) == 0);
  CHECK(std::memcmp(g.dx.data(), ref.dx.data(), g.dx.size() * 4) == 0);
  // Back to direct, then new weights: they reach dx (the flipped, transposed kernel is repacked).
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_ALGORITHM, CONV1D_ALGORITHM_DIRECT) == CONV1D_OK);
  g = library_grads(l, p, x, dy);
  CHECK(std::memcmp(g.dx.data(), direct.dx.data(), g.dx.size() * 4) == 0);
  REQUIRE(conv1d_set_weights(l, w2.data(), w2.size(), b.data(), b.size()) == CONV1D_OK);
  g = library_grads(l, p, x, dy);
  CHECK(std::memcmp(g.dx.data(), direct2.dx.data(), g.dx.size() * 4) == 0);
  CHECK(std::memcmp(g.dx.data(), direct.dx.data(), g.dx.size() * 4) != 0);
}

TEST_CASE("strided dx: inputs shorter than the stride after longer ones (fewer phases) repack", "[backward]") {
  // strides 4: a 2-step input has dx rows in only 2 of the 4 phases.
  Problem p;
  p.C = 16;
  p.c.filters = 16, p.c.kernel = 4, p.c.stride = 4, p.c.padding = "same";
  const std::vector<float> w = uniform(p.w_len(), 31, -1, 1), b = uniform(16, 32, -1, 1);
  Layer l(p.c.filters, p.c.kernel);
  configure(l, p);
  REQUIRE(conv1d_set_weights(l, w.data(), w.size(), b.data(), b.size()) == CONV1D_OK);
  for (int64_t steps : {9, 2, 3, 9}) {
    p.L = steps;
    const std::vector<float> x = uniform(p.x_len(), 33, -1, 1);
    int64_t shape[3];
    const std::vector<float> dy = uniform(naive::forward(p.c, x, p.N, p.L, p.C, w, b, shape).size(), 34, -1, 1);
    Layer fresh(p.c.filters, p.c.kernel);
    configure(fresh, p);
    REQUIRE(conv1d_set_weights(fresh, w.data(), w.size(), b.data(), b.size()) == CONV1D_OK);
    INFO("steps " << steps);
    const Grads got = library_grads(l, p, x, dy), want = library_grads(fresh, p, x, dy);
    CHECK(std::memcmp(got.dx.data(), want.dx.data(), got.dx.size() * 4) == 0);
    const Exact exact = exact_linear(p, x, w, dy);
    require_close(got.dx, exact.dx, static_cast<double>(p.N * p.L * p.c.kernel * p.C), "dx");
  }
}
