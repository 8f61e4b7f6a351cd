// Keras 3 built-in activations: name lookup and the forward pass.
//
// NaN policy: every activation maps a NaN input to NaN (numpy's np.maximum
// semantics for relu), and a NaN anywhere in a softmax/log_softmax/sparsemax
// row makes that whole row NaN. Keras' numpy/TF backends return 0 for NaN in
// hard_shrink and soft_shrink (np.where on a false comparison); we propagate
// NaN there too so that a NaN from the convolution is never silently hidden.
#include "activations.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "error.hpp"

namespace conv1d {
namespace {

constexpr int kActivationCount = CONV1D_ACTIVATION_SPARSEMAX + 1;

// Canonical Keras names, indexed by enum value.
constexpr const char* kCanonicalNames[kActivationCount] = {
    "linear",     "relu",        "leaky_relu",  "relu6",        "elu",         "selu",
    "celu",       "gelu",        "sigmoid",     "hard_sigmoid", "silu",        "hard_silu",
    "mish",       "softplus",    "softsign",    "exponential",  "tanh",        "tanh_shrink",
    "hard_tanh",  "hard_shrink", "soft_shrink", "threshold",    "sparse_plus", "sparse_sigmoid",
    "squareplus", "log_sigmoid", "softmax",     "log_softmax",  "glu",         "sparsemax"};

struct Alias {
  const char* name;
  conv1d_activation value;
};
// The two extra keys of Keras' ALL_OBJECTS_DICT.
constexpr Alias kAliases[] = {{"swish", CONV1D_ACTIVATION_SILU}, {"hard_swish", CONV1D_ACTIVATION_HARD_SILU}};

const char* const kThresholdMessage =
    "Activation 'threshold' cannot be used by name: Keras' threshold(x, threshold, default_value) has no "
    "default for 'threshold' or 'default_value', so Keras resolves the name but raises a TypeError when the "
    "layer calls it";

// The value a caller passed, read without an enum-typed load. A C caller can
// pass any int, but C++ deems values outside the enumerators' bit range (here
// 0..31) invalid for the type, and clang's -fsanitize=enum traps on loading
// them; copying the bytes (through a reference, so the argument is never
// loaded as an enum) sidesteps that, so such values can be rejected.
int raw_value(const conv1d_activation& a) {
  std::underlying_type_t<conv1d_activation> v;
  std::memcpy(&v, &a, sizeof v);
  return static_cast<int>(v);
}

bool in_range(int v) { return v >= 0 && v < kActivationCount; }

// Fails with CONV1D_ERROR_INTERNAL unless `a` is an enumerator, then returns it
// as a value that is safe to switch on.
conv1d_activation checked(conv1d_activation a, const char* caller) {
  const int v = raw_value(a);
  if (!in_range(v))
    fail(CONV1D_ERROR_INTERNAL, std::string(caller) + " called with activation value " + std::to_string(v));
  return static_cast<conv1d_activation>(v);
}

std::string lowercase(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// ---- scalar forms ---------------------------------------------------------
// Templates on the element type T (float or double). Constants are written as
// T(c), which for float is exactly the float literal the float32 code always
// used, so float results are unchanged by the templating.

// SELU constants rounded once to T; scale*alpha is folded in double so the
// negative branch rounds twice (product, expm1) instead of three times.
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kInvSqrt2 = 0.70710678118654752440084436210484904;
constexpr float kSeluScaleF = static_cast<float>(kSeluScale);  // the derivatives are float only
constexpr float kSeluScaleAlphaF = static_cast<float>(kSeluScale * kSeluAlpha);

// exp() only ever sees a non-positive argument, so neither branch overflows;
// sigmoid(-100) is the denormal 3.7e-44 rather than 1/inf = 0.
template <class T>
inline T sigmoid_f(T x) {
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}

// logaddexp(x, 0) = max(x, 0) + log1p(exp(-|x|)): no overflow, and exact
// log1p for the small tail. NaN: the max picks 0 but exp(NaN) poisons the sum.
template <class T>
inline T softplus_f(T x) {
  return (x > T(0) ? x : T(0)) + std::log1p(std::exp(-std::fabs(x)));
}

// elu and celu with alpha = 1 are the same function: max(x,0) + expm1(min(x,0)).
template <class T>
inline T elu_f(T x) {
  return x > T(0) ? x : std::expm1(x);
}

// In double: in float, rounding the argument -x/sqrt(2) costs cond(erfc) ~ 2z^2
// ulp in the negative tail (1e-6 relative at x = -5). erfc instead of 1 + erf
// avoids the cancellation of the spec's form for x < 0.
template <class T>
inline T gelu_f(T x) {
  const double d = x;
  return static_cast<T>(0.5 * d * std::erfc(-d * kInvSqrt2));
}

// In double, and as its Taylor series near 0, where x - tanh(x) cancels. For
// float, x^3/3 - 2x^5/15 below 0.01 (the next term is 1.6e-9 relative there).
inline float tanh_shrink_f(float x) {
  const double d = x;
  if (std::fabs(d) < 0.01) {
    const double d2 = d * d;
    return static_cast<float>(d * d2 * (1.0 / 3.0 - d2 * (2.0 / 15.0)));
  }
  return static_cast<float>(d - std::tanh(d));
}

// For double, six terms below 0.1: the first omitted one (929569/638512875
// x^15) is 4e-15 relative there, and above 0.1 the cancellation costs at most
// 3 eps / x^2 = 3e-14 relative.
inline double tanh_shrink_f(double d) {
  if (std::fabs(d) < 0.1) {
    const double d2 = d * d;
    const double series =
        1.0 / 3.0 +
        d2 * (-2.0 / 15.0 +
              d2 * (17.0 / 315.0 + d2 * (-62.0 / 2835.0 + d2 * (1382.0 / 155925.0 + d2 * (-21844.0 / 6081075.0)))));
    return d * d2 * series;
  }
  return d - std::tanh(d);
}

// (x + sqrt(x^2 + 4)) / 2 cancels for x << 0 (it is 1e-4 at x = -1e4, where
// float would give 0); there it equals 2 / (sqrt(x^2 + 4) - x). hypot avoids
// overflowing x^2.
template <class T>
inline T squareplus_f(T x) {
  const T s = std::hypot(x, T(2));
  return x >= T(0) ? T(0.5) * (x + s) : T(2) / (s - x);
}

// ---- elementwise loops ----------------------------------------------------
// The piecewise activations are selects on a single pointer or on two restrict
// pointers, so -O3 turns them into compare/blend vector code. GCC keeps
// -ftrapping-math by default and then will not if-convert a select whose arm
// does arithmetic only that arm needs (it sinks the arithmetic into a branch).
// So the vectorised forms do all arithmetic first and select between values
// that are already computed: max(x, 0.2x) rather than x < 0 ? 0.2x : x.
// Comparisons are written so that NaN falls through to the arm returning x (or
// a value computed from x): `x < 0 ? 0 : x` keeps NaN, `x > 0 ? x : 0` would not.

// NaN-preserving clamp.
template <class T>
inline T clampf(T x, T lo, T hi) {
  return x < lo ? lo : (x > hi ? hi : x);
}

template <class T, class F>
void map_inplace(T* v, std::size_t n, F f) {
  for (std::size_t i = 0; i < n; ++i) v[i] = f(v[i]);
}

template <class T, class F>
void map_copy(const T* __restrict src, T* __restrict dst, std::size_t n, F f) {
  for (std::size_t i = 0; i < n; ++i) dst[i] = f(src[i]);
}

// dst either equals src or does not overlap it.
template <class T, class F>
void map(const T* src, T* dst, std::size_t n, F f) {
  if (src == dst) {
    map_inplace(dst, n, f);
  } else {
    map_copy(src, dst, n, f);
  }
}

template <class T>
void apply_map(conv1d_activation a, const T* src, T* dst, std::size_t n) {
  constexpr T kSeluScaleT = static_cast<T>(kSeluScale);
  constexpr T kSeluScaleAlphaT = static_cast<T>(kSeluScale * kSeluAlpha);
  switch (a) {
    case CONV1D_ACTIVATION_LINEAR:
      if (src != dst && n > 0) std::memcpy(dst, src, n * sizeof(T));
      return;
    case CONV1D_ACTIVATION_RELU:
      return map(src, dst, n, [](T x) { return x < T(0) ? T(0) : x; });
    case CONV1D_ACTIVATION_LEAKY_RELU:
      // max(x, 0.2x) as Keras computes it; NaN fails the comparison and takes 0.2 * NaN.
      return map(src, dst, n, [](T x) {
        const T y = T(0.2) * x;
        return x > y ? x : y;
      });
    case CONV1D_ACTIVATION_RELU6:
      return map(src, dst, n, [](T x) { return clampf(x, T(0), T(6)); });
    case CONV1D_ACTIVATION_ELU:
    case CONV1D_ACTIVATION_CELU:
      return map(src, dst, n, elu_f<T>);
    case CONV1D_ACTIVATION_SELU:
      return map(src, dst, n, [](T x) { return x > T(0) ? kSeluScaleT * x : kSeluScaleAlphaT * std::expm1(x); });
    case CONV1D_ACTIVATION_GELU:
      return map(src, dst, n, gelu_f<T>);
    case CONV1D_ACTIVATION_SIGMOID:
      return map(src, dst, n, sigmoid_f<T>);
    case CONV1D_ACTIVATION_HARD_SIGMOID:
      // clip((x + 3) / 6, 0, 1): x + 3 is exact near -3, unlike x/6 + 0.5, so
      // the result keeps full relative precision as it approaches 0.
      return map(src, dst, n, [](T x) { return clampf((x + T(3)) / T(6), T(0), T(1)); });
    case CONV1D_ACTIVATION_HARD_SILU:
      // min(p, max(x, 0)) with the parabola p = x(x + 3)/6: p > 0 below -3,
      // p <= 0 on [-3, 0], p <= x on [0, 3] and p > x above 3, so this is 0,
      // p, p, x on those pieces. A select between computed values, so it
      // vectorises, and -inf gives 0 (x * hard_sigmoid(x) would be -inf * 0).
      return map(src, dst, n, [](T x) {
        const T parabola = x * (x + T(3)) / T(6);
        const T pos = x < T(0) ? T(0) : x;
        return parabola > pos ? pos : parabola;
      });
    case CONV1D_ACTIVATION_SILU:
      return map(src, dst, n, [](T x) { return x * sigmoid_f(x); });
    case CONV1D_ACTIVATION_MISH:
      return map(src, dst, n, [](T x) { return x * std::tanh(softplus_f(x)); });
    case CONV1D_ACTIVATION_SOFTPLUS:
      return map(src, dst, n, softplus_f<T>);
    case CONV1D_ACTIVATION_SOFTSIGN:
      return map(src, dst, n, [](T x) { return x / (T(1) + std::fabs(x)); });
    case CONV1D_ACTIVATION_EXPONENTIAL:
      return map(src, dst, n, [](T x) { return std::exp(x); });
    case CONV1D_ACTIVATION_TANH:
      return map(src, dst, n, [](T x) { return std::tanh(x); });
    case CONV1D_ACTIVATION_TANH_SHRINK:
      return map(src, dst, n, [](T x) { return tanh_shrink_f(x); });
    case CONV1D_ACTIVATION_HARD_TANH:
      return map(src, dst, n, [](T x) { return clampf(x, T(-1), T(1)); });
    case CONV1D_ACTIVATION_HARD_SHRINK:
      return map(src, dst, n, [](T x) { return std::fabs(x) <= T(0.5) ? T(0) : x; });
    case CONV1D_ACTIVATION_SOFT_SHRINK:
      // x - clip(x, -0.5, 0.5): x -+ 0.5 outside the band, exactly 0 inside.
      return map(src, dst, n, [](T x) { return x - clampf(x, T(-0.5), T(0.5)); });
    case CONV1D_ACTIVATION_SPARSE_PLUS:
      return map(src, dst, n,
                 [](T x) { return x <= T(-1) ? T(0) : (x >= T(1) ? x : T(0.25) * ((x + T(1)) * (x + T(1)))); });
    case CONV1D_ACTIVATION_SPARSE_SIGMOID:
      return map(src, dst, n, [](T x) { return clampf(T(0.5) * (x + T(1)), T(0), T(1)); });
    case CONV1D_ACTIVATION_SQUAREPLUS:
      return map(src, dst, n, squareplus_f<T>);
    case CONV1D_ACTIVATION_LOG_SIGMOID:
      return map(src, dst, n, [](T x) { return -softplus_f(-x); });
    case CONV1D_ACTIVATION_THRESHOLD:
    case CONV1D_ACTIVATION_SOFTMAX:
    case CONV1D_ACTIVATION_LOG_SOFTMAX:
    case CONV1D_ACTIVATION_GLU:
    case CONV1D_ACTIVATION_SPARSEMAX:
      break;
    default:
      break;
  }
  fail(CONV1D_ERROR_INTERNAL, std::string("activation '") + activation_name(a) + "' has no elementwise form");
}

// ---- axis-wise rows -------------------------------------------------------
// Each row function reads x[i] before it writes y[i] at the same index and
// never reads an index it has written, so y == x (in place) is safe.

// NaN never wins the comparison, so it is skipped here and instead poisons the
// row through exp(NaN - m) in the sum.
template <class T>
inline T row_max(const T* x, int64_t n) {
  T m = -std::numeric_limits<T>::infinity();
  for (int64_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

// exp(x - max) / sum, with the exponentials and the sum in double (for float
// x, x - max formed in double is exact or within 1e-16 relative, which exp
// turns into < 1e-13). Keeping e_i in y as float costs one extra rounding,
// < 1 ulp in all.
template <class T>
void softmax_row(const T* x, T* y, int64_t n) {
  const double m = row_max(x, n);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const T e = static_cast<T>(std::exp(static_cast<double>(x[i]) - m));
    y[i] = e;
    sum += e;
  }
  const double inv = 1.0 / sum;
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>(y[i] * inv);
}

// (x - max) - log(sum exp(x - max)), subtracting in that order: folding max
// into the log-sum first would lose the low bits of a near-zero result when
// |max| is large.
template <class T>
void log_softmax_row(const T* x, T* y, int64_t n) {
  const double m = row_max(x, n);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) - m);
  const double log_sum = std::log(sum);
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>((static_cast<double>(x[i]) - m) - log_sum);
}

// Keras' algorithm in double: sort descending, cumulative sums, support where
// z_r - (cumsum_r - 1)/r > 0, k = |support|, tau = (sum of z over the support
// - 1)/k, y = max(x - tau, 0). NB: Keras <= 3.15 used the sum of the *cumsums*
// over the support (keras#23425); that was fixed upstream (keras#23469) and we
// follow the fixed, paper-correct form. `z` is scratch of at least n doubles.
template <class T>
void sparsemax_row(const T* x, T* y, int64_t n, double* z) {
  bool has_nan = false;
  for (int64_t i = 0; i < n; ++i) {
    z[i] = x[i];
    has_nan |= std::isnan(z[i]);
  }
  if (has_nan) {  // The ordering is meaningless with NaN; std::sort would be undefined.
    std::fill(y, y + n, std::numeric_limits<T>::quiet_NaN());
    return;
  }
  std::sort(z, z + n, std::greater<double>());
  double cumsum = 0.0;
  double support_sum = 0.0;
  int64_t k = 0;
  for (int64_t r = 1; r <= n; ++r) {
    const double zr = z[r - 1];
    cumsum += zr;
    if (zr - (cumsum - 1.0) / static_cast<double>(r) > 0.0) {
      ++k;
      support_sum += zr;
    }
  }
  // The largest entry is always in the support; the test above can only miss
  // it when z_1 - 1 rounds to z_1 (|x| >= 2^53) or z_1 is infinite.
  if (k == 0) {
    k = 1;
    support_sum = z[0];
  }
  const double tau = (support_sum - 1.0) / static_cast<double>(k);
  for (int64_t i = 0; i < n; ++i) {
    const double v = static_cast<double>(x[i]) - tau;
    y[i] = static_cast<T>(v > 0.0 ? v : 0.0);
  }
}

// out_i = a_i * sigmoid(b_i) with a, b the two halves of the row. In place,
// output row r ([r*h, r*h + h)) lies in input rows < r, already consumed, for
// r >= 1; for r = 0 it overlaps the `a` half index for index, and element i is
// written only after a_i and b_i are read. So increasing order needs no copy.
template <class T>
void glu_rows(const T* src, T* dst, int64_t rows, int64_t h) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* a = src + r * 2 * h;
    const T* b = a + h;
    T* out = dst + r * h;
    for (int64_t i = 0; i < h; ++i) out[i] = a[i] * sigmoid_f(b[i]);
  }
}

template <class T>
void apply_activation_t(conv1d_activation a_in, const T* src, T* dst, int64_t d0, int64_t d1, int64_t d2) {
  const conv1d_activation a = checked(a_in, "apply_activation");
  if (d0 < 0 || d1 < 0 || d2 < 0) {
    fail(CONV1D_ERROR_INTERNAL, "apply_activation called with a negative dimension (" + std::to_string(d0) + ", " +
                                    std::to_string(d1) + ", " + std::to_string(d2) + ")");
  }
  const int64_t rows = d0 * d1;  // Callers have checked that d0*d1*d2 fits.
  if (rows == 0 || d2 == 0) return;
  switch (a) {
    case CONV1D_ACTIVATION_SOFTMAX:
      for (int64_t r = 0; r < rows; ++r) softmax_row(src + r * d2, dst + r * d2, d2);
      return;
    case CONV1D_ACTIVATION_LOG_SOFTMAX:
      for (int64_t r = 0; r < rows; ++r) log_softmax_row(src + r * d2, dst + r * d2, d2);
      return;
    case CONV1D_ACTIVATION_SPARSEMAX: {
      std::vector<double> scratch(static_cast<std::size_t>(d2));
      for (int64_t r = 0; r < rows; ++r) sparsemax_row(src + r * d2, dst + r * d2, d2, scratch.data());
      return;
    }
    case CONV1D_ACTIVATION_GLU:
      if (d2 % 2 != 0) {
        fail(CONV1D_ERROR_INTERNAL, "glu needs an even last axis, got " + std::to_string(d2));
      }
      glu_rows(src, dst, rows, d2 / 2);
      return;
    default:
      apply_map(a, src, dst, static_cast<std::size_t>(rows * d2));
      return;
  }
}
}  // namespace

conv1d_activation parse_activation(const std::string& name) {
  for (int i = 0; i < kActivationCount; ++i) {
    if (name == kCanonicalNames[i]) {
      const auto a = static_cast<conv1d_activation>(i);
      if (a == CONV1D_ACTIVATION_THRESHOLD) fail(CONV1D_ERROR_UNSUPPORTED, kThresholdMessage);
      return a;
    }
  }
  for (const Alias& alias : kAliases) {
    if (name == alias.name) return alias.value;
  }
  std::string message = "Could not interpret activation function identifier: '" + name + "'";
  // Keras does not lower-case the name; say so when that is the only problem.
  const std::string lower = lowercase(name);
  for (const char* known : kCanonicalNames) {
    if (lower == known) {
      message += std::string(" (activation names are case-sensitive: did you mean '") + known + "'?)";
      break;
    }
  }
  for (const Alias& alias : kAliases) {
    if (lower == alias.name) {
      message += std::string(" (activation names are case-sensitive: did you mean '") + alias.name + "'?)";
      break;
    }
  }
  fail(CONV1D_ERROR_UNKNOWN_NAME, message);
}

void check_activation(conv1d_activation a) {
  const int v = raw_value(a);
  if (!in_range(v)) {
    fail(CONV1D_ERROR_INVALID_VALUE, "Invalid activation value: " + std::to_string(v) +
                                         " (a conv1d_activation must be 0 to " + std::to_string(kActivationCount - 1) +
                                         ")");
  }
  if (v == CONV1D_ACTIVATION_THRESHOLD) fail(CONV1D_ERROR_UNSUPPORTED, kThresholdMessage);
}

const char* activation_name(conv1d_activation a) {
  const int v = raw_value(a);
  return in_range(v) ? kCanonicalNames[v] : nullptr;
}

bool activation_is_axiswise(conv1d_activation a) {
  const int v = raw_value(a);
  return v == CONV1D_ACTIVATION_SOFTMAX || v == CONV1D_ACTIVATION_LOG_SOFTMAX || v == CONV1D_ACTIVATION_GLU ||
         v == CONV1D_ACTIVATION_SPARSEMAX;
}

void apply_elementwise(conv1d_activation a, float* v, std::size_t n) {
  apply_map(checked(a, "apply_elementwise"), v, v, n);
}

void apply_activation(conv1d_activation a, const float* src, float* dst, int64_t d0, int64_t d1, int64_t d2) {
  apply_activation_t(a, src, dst, d0, d1, d2);
}

void apply_activation(conv1d_activation a, const double* src, double* dst, int64_t d0, int64_t d1, int64_t d2) {
  apply_activation_t(a, src, dst, d0, d1, d2);
}

}  // namespace conv1d

namespace conv1d {
namespace {

// d act / dz at z, for the elementwise activations (float, as the forward).
inline float derivative(conv1d_activation a, float z) {
  switch (a) {
    case CONV1D_ACTIVATION_LINEAR:
      return 1.0f;
    case CONV1D_ACTIVATION_RELU:
      return z > 0.0f ? 1.0f : 0.0f;
    case CONV1D_ACTIVATION_LEAKY_RELU:
      return z > 0.0f ? 1.0f : 0.2f;
    case CONV1D_ACTIVATION_RELU6:
      return z > 0.0f && z < 6.0f ? 1.0f : 0.0f;
    // At the kinks each derivative is the one TensorFlow's gradients give
    // for the graph Keras builds (keras/src/backend/tensorflow/nn.py):
    // EluGrad/SeluGrad test the output < 0, so 0 takes the positive side;
    // celu is max(x, 0) + expm1(min(x, 0)), and Maximum/Minimum pass the
    // gradient on ties, so both terms count at 0.
    case CONV1D_ACTIVATION_ELU:
      return z > 0.0f ? 1.0f : std::exp(z);
    case CONV1D_ACTIVATION_CELU:
      return z > 0.0f ? 1.0f : z == 0.0f ? 2.0f : std::exp(z);
    case CONV1D_ACTIVATION_SELU:
      return z >= 0.0f ? kSeluScaleF : kSeluScaleAlphaF * std::exp(z);
    case CONV1D_ACTIVATION_GELU: {
      const double d = z;
      const double pdf = 0.3989422804014327 * std::exp(-0.5 * d * d);
      return static_cast<float>(0.5 * std::erfc(-d * kInvSqrt2) + d * pdf);
    }
    case CONV1D_ACTIVATION_SIGMOID: {
      const float s = sigmoid_f(z);
      return s * (1.0f - s);
    }
    case CONV1D_ACTIVATION_HARD_SIGMOID:
      return z > -3.0f && z < 3.0f ? 1.0f / 6.0f : 0.0f;
    case CONV1D_ACTIVATION_SILU: {
      const float s = sigmoid_f(z);
      return s * (1.0f + z * (1.0f - s));
    }
    case CONV1D_ACTIVATION_HARD_SILU:
      return z <= -3.0f ? 0.0f : (z >= 3.0f ? 1.0f : (2.0f * z + 3.0f) / 6.0f);
    case CONV1D_ACTIVATION_MISH: {
      const float t = std::tanh(softplus_f(z));
      return t + z * (1.0f - t * t) * sigmoid_f(z);
    }
    case CONV1D_ACTIVATION_SOFTPLUS:
      return sigmoid_f(z);
    case CONV1D_ACTIVATION_SOFTSIGN: {
      const float d = 1.0f + std::fabs(z);
      return 1.0f / (d * d);
    }
    case CONV1D_ACTIVATION_EXPONENTIAL:
      return std::exp(z);
    case CONV1D_ACTIVATION_TANH: {
      const float t = std::tanh(z);
      return 1.0f - t * t;
    }
    case CONV1D_ACTIVATION_TANH_SHRINK: {
      const float t = std::tanh(z);
      return t * t;
    }
    case CONV1D_ACTIVATION_HARD_TANH:  // clip_by_value is min then max: ties pass the gradient
      return z >= -1.0f && z <= 1.0f ? 1.0f : 0.0f;
    case CONV1D_ACTIVATION_HARD_SHRINK:
    case CONV1D_ACTIVATION_SOFT_SHRINK:
      return std::fabs(z) > 0.5f ? 1.0f : 0.0f;
    case CONV1D_ACTIVATION_SPARSE_PLUS:
      return z <= -1.0f ? 0.0f : (z >= 1.0f ? 1.0f : 0.5f * (z + 1.0f));
    case CONV1D_ACTIVATION_SPARSE_SIGMOID:
      return z > -1.0f && z < 1.0f ? 0.5f : 0.0f;
    case CONV1D_ACTIVATION_SQUAREPLUS:
      return 0.5f * (1.0f + z / std::hypot(z, 2.0f));
    case CONV1D_ACTIVATION_LOG_SIGMOID:
      return sigmoid_f(-z);
    default:
      break;
  }
  fail(CONV1D_ERROR_INTERNAL, std::string("activation '") + activation_name(a) + "' has no elementwise derivative");
}

// Jacobian-vector products of the axis-wise activations, one row at a time.
// `s` is scratch of n floats; dz may equal z.
void softmax_backward_row(const float* z, const float* dy, float* dz, int64_t n, float* s) {
  softmax_row(z, s, n);
  double dot = 0.0;
  for (int64_t i = 0; i < n; ++i) dot += static_cast<double>(dy[i]) * s[i];
  for (int64_t i = 0; i < n; ++i) dz[i] = static_cast<float>(s[i] * (dy[i] - dot));
}

void log_softmax_backward_row(const float* z, const float* dy, float* dz, int64_t n, float* s) {
  softmax_row(z, s, n);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += dy[i];
  for (int64_t i = 0; i < n; ++i) dz[i] = static_cast<float>(dy[i] - s[i] * sum);
}

// On the support (outputs > 0) the Jacobian is I - 11^T/|S|; off it, 0.
void sparsemax_backward_row(const float* z, const float* dy, float* dz, int64_t n, float* s, double* scratch) {
  sparsemax_row(z, s, n, scratch);
  double sum = 0.0;
  int64_t k = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (s[i] > 0.0f) sum += dy[i], ++k;
  }
  const double mean = k > 0 ? sum / static_cast<double>(k) : 0.0;
  for (int64_t i = 0; i < n; ++i) dz[i] = s[i] > 0.0f ? static_cast<float>(dy[i] - mean) : 0.0f;
}

// With A a constant, inlining folds derivative()'s switch out of the loop.
template <conv1d_activation A>
void chain(const float* z, const float* dy, float* dz, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dz[i] = dy[i] * derivative(A, z[i]);
}

using ChainFn = void (*)(const float*, const float*, float*, int64_t);

template <int... I>
constexpr std::array<ChainFn, sizeof...(I)> chain_table(std::integer_sequence<int, I...>) {
  return {&chain<static_cast<conv1d_activation>(I)>...};
}

}  // namespace

void activation_backward(conv1d_activation a_in, const float* z, const float* dy, float* dz, int64_t d0, int64_t d1,
                         int64_t d2) {
  const conv1d_activation a = checked(a_in, "activation_backward");
  const int64_t rows = d0 * d1;
  if (rows <= 0 || d2 <= 0) return;
  switch (a) {
    case CONV1D_ACTIVATION_SOFTMAX:
    case CONV1D_ACTIVATION_LOG_SOFTMAX:
    case CONV1D_ACTIVATION_SPARSEMAX: {
      std::vector<float> s(static_cast<std::size_t>(d2));
      std::vector<double> scratch(a == CONV1D_ACTIVATION_SPARSEMAX ? static_cast<std::size_t>(d2) : 0);
      for (int64_t r = 0; r < rows; ++r) {
        const float* zr = z + r * d2;
        const float* dyr = dy + r * d2;
        float* dzr = dz + r * d2;
        if (a == CONV1D_ACTIVATION_SOFTMAX) softmax_backward_row(zr, dyr, dzr, d2, s.data());
        if (a == CONV1D_ACTIVATION_LOG_SOFTMAX) log_softmax_backward_row(zr, dyr, dzr, d2, s.data());
        if (a == CONV1D_ACTIVATION_SPARSEMAX) sparsemax_backward_row(zr, dyr, dzr, d2, s.data(), scratch.data());
      }
      return;
    }
    case CONV1D_ACTIVATION_GLU: {
      // out = a * sigmoid(b): d/da = sigmoid(b), d/db = a * sigmoid(b) * (1 - sigmoid(b)).
      const int64_t h = d2 / 2;
      for (int64_t r = 0; r < rows; ++r) {
        const float* za = z + r * d2;
        const float* dyr = dy + r * h;
        float* dza = dz + r * d2;
        for (int64_t i = 0; i < h; ++i) {
          const float av = za[i], sb = sigmoid_f(za[h + i]), g = dyr[i];
          dza[i] = g * sb;
          dza[h + i] = g * av * sb * (1.0f - sb);
        }
      }
      return;
    }
    case CONV1D_ACTIVATION_THRESHOLD:
      fail(CONV1D_ERROR_UNSUPPORTED, kThresholdMessage);
    default: {
      // Axis-wise entries are never reached: the cases above take them.
      static constexpr auto table = chain_table(std::make_integer_sequence<int, kActivationCount>{});
      table[a](z, dy, dz, rows * d2);
      return;
    }
  }
}

}  // namespace conv1d
