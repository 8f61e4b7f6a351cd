// An independent float64 model of Keras Conv1D for the tests: the spec's
// formulas written out directly, sharing no code with the library.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

namespace naive {

struct Conv {
  int64_t filters = 1, kernel = 1, stride = 1, dilation = 1, groups = 1;
  std::string padding = "valid";
  bool channels_first = false;
  bool use_bias = true;
  std::string activation = "linear";
};

inline int64_t out_steps(const Conv& c, int64_t L) {
  if (c.padding == "valid") return (L - c.dilation * (c.kernel - 1) - 1) / c.stride + 1;
  return (L + c.stride - 1) / c.stride;  // ceil(L/s) for same and causal
}

inline int64_t pad_left(const Conv& c, int64_t L) {
  if (c.padding == "causal") return c.dilation * (c.kernel - 1);
  if (c.padding == "same") {
    const int64_t lo = out_steps(c, L);
    const int64_t total = std::max<int64_t>((lo - 1) * c.stride + c.dilation * (c.kernel - 1) + 1 - L, 0);
    return total / 2;
  }
  return 0;
}

inline double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }
inline double softplus(double x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::fabs(x))); }

// Elementwise activations with Keras 3 defaults (spec section 5).
inline double act(const std::string& a, double x) {
  if (a == "linear") return x;
  if (a == "relu") return std::max(x, 0.0);
  if (a == "leaky_relu") return x >= 0 ? x : 0.2 * x;
  if (a == "relu6") return std::min(std::max(x, 0.0), 6.0);
  if (a == "elu") return x > 0 ? x : std::expm1(x);
  if (a == "selu")
    return 1.0507009873554804934193349852946 * (x > 0 ? x : 1.6732632423543772848170429916717 * std::expm1(x));
  if (a == "celu") return std::max(x, 0.0) + std::expm1(std::min(x, 0.0));
  if (a == "gelu") return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
  if (a == "sigmoid") return sigmoid(x);
  if (a == "hard_sigmoid") return std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0;
  if (a == "silu" || a == "swish") return x * sigmoid(x);
  if (a == "hard_silu" || a == "hard_swish") return x * std::min(std::max(x + 3.0, 0.0), 6.0) / 6.0;
  if (a == "mish") return x * std::tanh(softplus(x));
  if (a == "softplus") return softplus(x);
  if (a == "softsign") return x / (1.0 + std::fabs(x));
  if (a == "exponential") return std::exp(x);
  if (a == "tanh") return std::tanh(x);
  if (a == "tanh_shrink") return x - std::tanh(x);
  if (a == "hard_tanh") return std::min(std::max(x, -1.0), 1.0);
  if (a == "hard_shrink") return std::fabs(x) > 0.5 ? x : 0.0;
  if (a == "soft_shrink") return x > 0.5 ? x - 0.5 : (x < -0.5 ? x + 0.5 : 0.0);
  if (a == "sparse_plus") return x <= -1 ? 0.0 : (x >= 1 ? x : (x + 1) * (x + 1) / 4);
  if (a == "sparse_sigmoid") return x <= -1 ? 0.0 : (x >= 1 ? 1.0 : 0.5 * (x + 1));
  if (a == "squareplus") return (x + std::sqrt(x * x + 4.0)) / 2.0;
  if (a == "log_sigmoid") return -softplus(-x);
  return NAN;
}

// Axis-wise activations on one vector (Keras axis -1).
inline std::vector<double> act_axis(const std::string& a, const std::vector<double>& v) {
  const size_t n = v.size();
  std::vector<double> out(n);
  if (a == "softmax" || a == "log_softmax") {
    const double m = *std::max_element(v.begin(), v.end());
    double s = 0;
    for (double e : v) s += std::exp(e - m);
    for (size_t i = 0; i < n; ++i) out[i] = a == "softmax" ? std::exp(v[i] - m) / s : v[i] - m - std::log(s);
  } else if (a == "glu") {
    out.resize(n / 2);
    for (size_t i = 0; i < n / 2; ++i) out[i] = v[i] * sigmoid(v[i + n / 2]);
  } else if (a == "sparsemax") {
    std::vector<double> z(v);
    std::sort(z.begin(), z.end(), std::greater<double>());
    double cum = 0, tau_sum = 0;
    int64_t k = 0;
    for (size_t i = 0; i < n; ++i) {
      cum += z[i];
      if (1.0 + static_cast<double>(i + 1) * z[i] > cum) {
        k = static_cast<int64_t>(i + 1);
        tau_sum = cum;
      }
    }
    const double tau = (tau_sum - 1.0) / static_cast<double>(k);
    for (size_t i = 0; i < n; ++i) out[i] = std::max(v[i] - tau, 0.0);
  } else {
    for (size_t i = 0; i < n; ++i) out[i] = act(a, v[i]);
  }
  return out;
}

inline bool axiswise(const std::string& a) {
  return a == "softmax" || a == "log_softmax" || a == "glu" || a == "sparsemax";
}

// Full layer: x in the layout of c, w (k, C/G, F), b (F). Returns y in the
// layout of c (last axis halved for glu); sets *shape. T is float or double
// (the gradient tests perturb double copies).
template <class T>
std::vector<double> forward(const Conv& c, const std::vector<T>& x, int64_t N, int64_t L, int64_t C,
                            const std::vector<T>& w, const std::vector<T>& b, int64_t shape[3]) {
  const int64_t Lo = out_steps(c, L), pl = pad_left(c, L), F = c.filters, Cg = C / c.groups, Fg = F / c.groups;
  auto X = [&](int64_t n, int64_t t, int64_t ch) -> double {
    if (t < 0 || t >= L) return 0.0;
    return c.channels_first ? x[(n * C + ch) * L + t] : x[(n * L + t) * C + ch];
  };
  // z in (N, Lo, F) order, before activation.
  std::vector<double> z(N * Lo * F);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t t = 0; t < Lo; ++t)
      for (int64_t f = 0; f < F; ++f) {
        double acc = c.use_bias ? b[f] : 0.0;
        const int64_t g = f / Fg;
        for (int64_t j = 0; j < c.kernel; ++j)
          for (int64_t ci = 0; ci < Cg; ++ci)
            acc += X(n, t * c.stride + j * c.dilation - pl, g * Cg + ci) * w[(j * Cg + ci) * F + f];
        z[(n * Lo + t) * F + f] = acc;
      }
  // Rearrange to the output layout (d0, d1, d2) and apply the activation on d2.
  const int64_t d1 = c.channels_first ? F : Lo, d2 = c.channels_first ? Lo : F;
  const int64_t o2 = c.activation == "glu" ? d2 / 2 : d2;
  shape[0] = N, shape[1] = d1, shape[2] = o2;
  std::vector<double> y(N * d1 * o2);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t i = 0; i < d1; ++i) {
      std::vector<double> row(d2);
      for (int64_t k = 0; k < d2; ++k) row[k] = c.channels_first ? z[(n * Lo + k) * F + i] : z[(n * Lo + i) * F + k];
      const std::vector<double> r = act_axis(c.activation, row);
      std::copy(r.begin(), r.end(), y.begin() + (n * d1 + i) * o2);
    }
  return y;
}

}  // namespace naive
