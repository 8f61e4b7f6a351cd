// Keras 3 built-in initializers (spec section 6): name/JSON parsing, filling,
// and the Keras 3.15 serialized form.
#include "initializers.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "error.hpp"
#include "keras_object.hpp"

namespace conv1d {

namespace {

using json = nlohmann::json;
// Keeps keys in insertion order so to_json matches Keras' get_config order.
using ordered_json = nlohmann::ordered_json;

// Every identifier Keras' ALL_OBJECTS_DICT resolves, and its canonical class.
struct NameEntry {
  const char* name;
  const char* cls;
};
constexpr NameEntry kNames[] = {
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

const char* canonical_class(const std::string& name) {
  for (const NameEntry& e : kNames) {
    if (name == e.name) return e.cls;
  }
  return nullptr;
}

[[noreturn]] void unknown_identifier(const std::string& x) {
  fail(CONV1D_ERROR_UNKNOWN_NAME, "Could not interpret initializer identifier: '" + x + "'");
}

// The six fixed-argument subclasses of VarianceScaling.
bool is_named_variance_scaling(const std::string& c) {
  return c == "GlorotUniform" || c == "GlorotNormal" || c == "HeUniform" || c == "HeNormal" || c == "LecunUniform" ||
         c == "LecunNormal";
}

bool is_variance_scaling(const std::string& c) { return c == "VarianceScaling" || is_named_variance_scaling(c); }

// Config keys each class's constructor takes; anything else is a TypeError in Keras.
std::vector<std::string> allowed_keys(const std::string& c) {
  if (c == "VarianceScaling") return {"seed", "scale", "mode", "distribution", "input_axes", "output_axes"};
  if (is_named_variance_scaling(c)) return {"seed", "input_axes", "output_axes"};
  if (c == "RandomNormal" || c == "TruncatedNormal") return {"seed", "mean", "stddev"};
  if (c == "RandomUniform") return {"seed", "minval", "maxval"};
  if (c == "Constant") return {"value"};
  if (c == "Orthogonal") return {"seed", "gain"};
  if (c == "Identity") return {"gain"};
  if (c == "STFT") return {"side", "window", "scaling", "periodic"};
  return {};  // Zeros, Ones
}

[[noreturn]] void wrong_type(const std::string& cls, const std::string& key, const char* expected, const json& v) {
  fail(CONV1D_ERROR_PARSE, "Initializer " + cls + ": config key '" + key + "' must be " + expected + ", got " +
                               v.type_name() + " " + v.dump());
}

double get_number(const std::string& cls, const std::string& key, const json& v) {
  // is_number() excludes booleans, which we refuse rather than treat as 0/1.
  if (!v.is_number()) wrong_type(cls, key, "a number", v);
  return v.get<double>();
}

std::string get_string(const std::string& cls, const std::string& key, const json& v) {
  if (!v.is_string()) wrong_type(cls, key, "a string", v);
  return v.get<std::string>();
}

// null or an int; RandomInitializer rejects anything else, and we also need it
// non-negative to seed our generator.
void get_seed(const std::string& cls, const json& v, bool& has, uint64_t& seed) {
  if (v.is_null()) {
    has = false;
    return;
  }
  if (v.is_object()) {
    fail(CONV1D_ERROR_UNSUPPORTED, "Initializer " + cls + ": a serialized SeedGenerator as 'seed' is not supported");
  }
  if (v.is_number_unsigned()) {
    has = true;
    seed = v.get<uint64_t>();
    return;
  }
  if (v.is_number_integer()) {
    fail(CONV1D_ERROR_INVALID_VALUE,
         "Initializer " + cls + ": 'seed' must be null or a non-negative integer. Received: seed=" + v.dump());
  }
  wrong_type(cls, "seed", "null or an integer", v);
}

// null, an int, or a list of ints (Keras >= 3.15 input_axes/output_axes).
void get_axes(const std::string& cls, const std::string& key, const json& v, bool& has, std::vector<int64_t>& axes) {
  axes.clear();
  has = false;
  if (v.is_null()) return;
  auto one = [&](const json& a) {
    if (!a.is_number_integer()) wrong_type(cls, key, "null, an integer or a list of integers", v);
    if (a.is_number_unsigned() && a.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail(CONV1D_ERROR_INVALID_VALUE, "Initializer " + cls + ": '" + key + "' axis " + a.dump() + " is out of range");
    }
    axes.push_back(a.get<int64_t>());
  };
  if (v.is_array()) {
    for (const json& a : v) one(a);
  } else {
    one(v);
  }
  has = true;
}

std::string ascii_lower(std::string s) {
  for (char& ch : s) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  return s;
}

// Windows we can compute, by their scipy.signal.get_window names.
bool known_window(const std::string& w) {
  return w == "hann" || w == "hamming" || w == "blackman" || w == "bartlett" || w == "boxcar";
}

// scipy.signal.get_window(name, m, fftbins=periodic) for the windows above. A
// periodic window is the symmetric one of length m+1 without its last point.
std::vector<double> make_window(const std::string& name, int64_t m, bool periodic) {
  std::vector<double> w(static_cast<size_t>(m), 1.0);
  // scipy returns ones for m <= 1 before it extends for periodicity.
  if (m <= 1 || name == "boxcar") return w;
  const int64_t len = periodic ? m + 1 : m;
  const double pi = std::acos(-1.0);
  for (int64_t n = 0; n < m; ++n) {
    double v;
    if (name == "bartlett") {
      const double x = 2.0 * static_cast<double>(n) / static_cast<double>(len - 1);
      v = (static_cast<double>(n) <= static_cast<double>(len - 1) / 2.0) ? x : 2.0 - x;
    } else {
      // scipy's general_cosine: sum a_k cos(k*fac) with fac = linspace(-pi, pi, len).
      const double fac = (n == len - 1) ? pi : -pi + static_cast<double>(n) * (2.0 * pi / static_cast<double>(len - 1));
      if (name == "hann") {
        v = 0.5 + 0.5 * std::cos(fac);
      } else if (name == "hamming") {
        v = 0.54 + 0.46 * std::cos(fac);
      } else {  // blackman
        v = 0.42 + 0.5 * std::cos(fac) + 0.08 * std::cos(2.0 * fac);
      }
    }
    w[static_cast<size_t>(n)] = v;
  }
  return w;
}

// xoshiro256** seeded through splitmix64: fixed and portable, unlike the
// std:: distributions whose algorithms are implementation-defined.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t x = seed;
    for (uint64_t& s : s_) s = splitmix64(x);
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // Standard normal by Marsaglia's polar method (needs only log and sqrt).
  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, s;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double f = std::sqrt(-2.0 * std::log(s) / s);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }

  // Standard normal redrawn until within [-2, 2], as jax truncated_normal(-2, 2).
  double truncated_normal() {
    double z;
    do {
      z = normal();
    } while (z < -2.0 || z > 2.0);
    return z;
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  uint64_t s_[4];
  double spare_ = 0.0;
  bool has_spare_ = false;
};

// Number of elements of `shape`, rejecting negative dims and overflow.
size_t element_count(const std::vector<int64_t>& shape) {
  uint64_t n = 1;
  const uint64_t limit = std::min<uint64_t>(std::numeric_limits<size_t>::max(),
                                            static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
  bool zero = false;
  for (int64_t d : shape) {
    if (d < 0) fail(CONV1D_ERROR_INVALID_SIZE, "Initializer: negative dimension in weight shape " + shape_repr(shape));
    if (d == 0) zero = true;
  }
  if (zero) return 0;
  for (int64_t d : shape) {
    const uint64_t ud = static_cast<uint64_t>(d);
    if (n > limit / ud)
      fail(CONV1D_ERROR_SIZE_OVERFLOW, "Initializer: weight shape " + shape_repr(shape) + " is too large");
    n *= ud;
  }
  return static_cast<size_t>(n);
}

// Product of the listed dims; negative axes count from the end.
double axes_product(const std::vector<int64_t>& shape, const std::vector<int64_t>& axes, const char* key) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  double p = 1.0;
  for (int64_t a : axes) {
    const int64_t i = a < 0 ? a + rank : a;
    if (i < 0 || i >= rank) {
      fail(CONV1D_ERROR_INVALID_VALUE, std::string("Initializer: ") + key + " entry " + std::to_string(a) +
                                           " is out of range for a weight of shape " + shape_repr(shape));
    }
    p *= static_cast<double>(shape[static_cast<size_t>(i)]);
  }
  return p;
}

// Keras compute_fans, in double so huge shapes cannot overflow.
void compute_fans(const std::vector<int64_t>& shape, double& fan_in, double& fan_out) {
  const size_t r = shape.size();
  if (r == 0) {
    fan_in = fan_out = 1.0;
  } else if (r == 1) {
    fan_in = fan_out = static_cast<double>(shape[0]);
  } else if (r == 2) {
    fan_in = static_cast<double>(shape[0]);
    fan_out = static_cast<double>(shape[1]);
  } else {
    double receptive = 1.0;
    for (size_t i = 0; i + 2 < r; ++i) receptive *= static_cast<double>(shape[i]);
    fan_in = static_cast<double>(shape[r - 2]) * receptive;
    fan_out = static_cast<double>(shape[r - 1]) * receptive;
  }
}

// numpy's sign: 0 for 0, so a zero diagonal of R zeroes its column as in Keras.
double sign_of(double x) { return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : 0.0); }

// Reduced QR of the m x n matrix `a` (column-major, m >= n) by Householder
// reflections. Returns Q (m x n, column-major) with each column j multiplied by
// sign(R[j][j]): that is the unique Q with a positive R diagonal, so the result
// does not depend on the reflection sign convention.
std::vector<double> signed_q(std::vector<double> a, size_t m, size_t n) {
  std::vector<std::vector<double>> vs(n);  // Householder vectors, rows k..m-1
  std::vector<double> vnorm2(n, 0.0), diag(n, 0.0);
  for (size_t k = 0; k < n; ++k) {
    double* ak = &a[k * m];
    double norm2 = 0.0;
    for (size_t i = k; i < m; ++i) norm2 += ak[i] * ak[i];
    const double norm = std::sqrt(norm2);
    if (norm == 0.0) continue;  // nothing to reflect; R[k][k] = 0
    // Reflect onto -sign(x0)*|x| e1 to avoid cancellation in v = x - alpha e1.
    const double alpha = ak[k] > 0.0 ? -norm : norm;
    std::vector<double>& v = vs[k];
    v.assign(ak + k, ak + m);
    v[0] -= alpha;
    double vv = 0.0;
    for (double x : v) vv += x * x;
    vnorm2[k] = vv;
    diag[k] = alpha;
    if (vv == 0.0) continue;
    for (size_t j = k + 1; j < n; ++j) {
      double* aj = &a[j * m + k];
      double dot = 0.0;
      for (size_t i = 0; i < v.size(); ++i) dot += v[i] * aj[i];
      const double f = 2.0 * dot / vv;
      for (size_t i = 0; i < v.size(); ++i) aj[i] -= f * v[i];
    }
  }
  // Q = H_0 H_1 ... H_{n-1} applied to the first n columns of I. H_k leaves
  // columns j < k alone (they are still e_j below row k), so start at j = k.
  std::vector<double> q(m * n, 0.0);
  for (size_t j = 0; j < n; ++j) q[j * m + j] = 1.0;
  for (size_t kk = n; kk-- > 0;) {
    if (vnorm2[kk] == 0.0) continue;
    const std::vector<double>& v = vs[kk];
    for (size_t j = kk; j < n; ++j) {
      double* qj = &q[j * m + kk];
      double dot = 0.0;
      for (size_t i = 0; i < v.size(); ++i) dot += v[i] * qj[i];
      const double f = 2.0 * dot / vnorm2[kk];
      for (size_t i = 0; i < v.size(); ++i) qj[i] -= f * v[i];
    }
  }
  for (size_t j = 0; j < n; ++j) {
    const double s = sign_of(diag[j]);
    for (size_t i = 0; i < m; ++i) q[j * m + i] *= s;
  }
  return q;
}

}  // namespace

Initializer::Initializer() : class_name_("GlorotUniform") {}

Initializer Initializer::parse(const std::string& spec) {
  const KerasObject obj = parse_keras_object(spec, "Initializer");
  const std::string& cls_id = obj.class_name;
  const json& config = obj.config;
  const char* cls_ptr = canonical_class(cls_id);
  if (!cls_ptr) unknown_identifier(cls_id);
  const std::string cls = cls_ptr;

  // Keras raises TypeError for keyword arguments the constructor lacks.
  check_config_keys(obj, cls, allowed_keys(cls), "Initializer");
  auto get = [&config](const char* key) -> const json* {
    auto it = config.find(key);
    return it == config.end() ? nullptr : &*it;
  };

  Initializer init;
  init.class_name_ = cls;
  if (is_variance_scaling(cls)) {
    // Constructor defaults of each class: (scale, mode, distribution).
    auto defaults = [&init](double scale, const char* mode, const char* dist) {
      init.scale_ = scale;
      init.mode_ = mode;
      init.distribution_ = dist;
    };
    if (cls == "VarianceScaling") defaults(1.0, "fan_in", "truncated_normal");
    if (cls == "GlorotUniform") defaults(1.0, "fan_avg", "uniform");
    if (cls == "GlorotNormal") defaults(1.0, "fan_avg", "truncated_normal");
    if (cls == "HeUniform") defaults(2.0, "fan_in", "uniform");
    if (cls == "HeNormal") defaults(2.0, "fan_in", "truncated_normal");
    if (cls == "LecunUniform") defaults(1.0, "fan_in", "uniform");
    if (cls == "LecunNormal") defaults(1.0, "fan_in", "truncated_normal");
    if (const json* v = get("scale")) init.scale_ = get_number(cls, "scale", *v);
    if (const json* v = get("mode")) init.mode_ = get_string(cls, "mode", *v);
    if (const json* v = get("distribution")) init.distribution_ = get_string(cls, "distribution", *v);
    // Validation in the order of VarianceScaling.__init__.
    if (init.scale_ <= 0.0) {
      fail(CONV1D_ERROR_INVALID_VALUE,
           "Argument `scale` must be positive float. Received: scale=" + json(init.scale_).dump());
    }
    if (init.mode_ != "fan_in" && init.mode_ != "fan_out" && init.mode_ != "fan_avg") {
      fail(CONV1D_ERROR_INVALID_VALUE,
           "Invalid `mode` argument: " + init.mode_ + ". Please use one of {'fan_in', 'fan_out', 'fan_avg'}");
    }
    init.distribution_ = ascii_lower(init.distribution_);
    if (init.distribution_ == "normal") init.distribution_ = "truncated_normal";
    if (init.distribution_ != "uniform" && init.distribution_ != "truncated_normal" &&
        init.distribution_ != "untruncated_normal") {
      fail(CONV1D_ERROR_INVALID_VALUE, "Invalid `distribution` argument: " + init.distribution_ +
                                           ". Please use one of {'uniform', 'truncated_normal', 'untruncated_normal'}");
    }
    if (const json* v = get("input_axes")) get_axes(cls, "input_axes", *v, init.has_input_axes_, init.input_axes_);
    if (const json* v = get("output_axes")) get_axes(cls, "output_axes", *v, init.has_output_axes_, init.output_axes_);
  } else if (cls == "RandomNormal" || cls == "TruncatedNormal") {
    if (const json* v = get("mean")) init.mean_ = get_number(cls, "mean", *v);
    if (const json* v = get("stddev")) init.stddev_ = get_number(cls, "stddev", *v);
  } else if (cls == "RandomUniform") {
    if (const json* v = get("minval")) init.minval_ = get_number(cls, "minval", *v);
    if (const json* v = get("maxval")) init.maxval_ = get_number(cls, "maxval", *v);
  } else if (cls == "Constant") {
    if (const json* v = get("value")) init.value_ = get_number(cls, "value", *v);
  } else if (cls == "Orthogonal" || cls == "Identity") {
    if (const json* v = get("gain")) init.gain_ = get_number(cls, "gain", *v);
  } else if (cls == "STFT") {
    if (const json* v = get("side")) init.side_ = get_string(cls, "side", *v);
    if (init.side_ != "real" && init.side_ != "imag") {
      fail(CONV1D_ERROR_INVALID_VALUE, "side should be 'real' or 'imag', not " + init.side_);
    }
    if (const json* v = get("window")) {
      if (v->is_null()) {
        init.window_none_ = true;
      } else if (v->is_string()) {
        init.window_ = v->get<std::string>();
        if (!known_window(init.window_)) {
          fail(CONV1D_ERROR_UNSUPPORTED, "Initializer STFT: window '" + init.window_ +
                                             "' is not supported (supported: hann, hamming, blackman, bartlett, "
                                             "boxcar, null, or an array of values)");
        }
      } else if (v->is_array()) {
        init.window_is_array_ = true;
        for (const json& x : *v) init.window_values_.push_back(get_number(cls, "window", x));
      } else {
        wrong_type(cls, "window", "a window name, an array of numbers or null", *v);
      }
    }
    if (const json* v = get("scaling")) {
      if (v->is_null()) {
        init.scaling_none_ = true;
      } else {
        init.scaling_ = get_string(cls, "scaling", *v);
        if (init.scaling_ != "density" && init.scaling_ != "spectrum") {
          fail(CONV1D_ERROR_INVALID_VALUE,
               "Scaling is invalid, it must be `None`, 'density' or 'spectrum'. Received scaling=" + init.scaling_);
        }
      }
    }
    if (const json* v = get("periodic")) {
      if (!v->is_boolean()) wrong_type(cls, "periodic", "a boolean", *v);
      init.periodic_ = v->get<bool>();
    }
  }
  // RandomInitializer.__init__ checks the seed last.
  if (const json* v = get("seed")) get_seed(cls, *v, init.has_seed_, init.seed_);
  return init;
}

template <class T>
void Initializer::fill_impl(T* out, const std::vector<int64_t>& shape, uint64_t default_seed) const {
  const std::string& c = class_name_;
  const size_t n = element_count(shape);
  // Rank checks come first, as Keras raises them whatever the sizes.
  if (c == "Identity" && shape.size() != 2) {
    fail(CONV1D_ERROR_UNSUPPORTED, "Identity matrix initializer can only be used for 2D matrices. Received: shape=" +
                                       shape_repr(shape) + " of rank " + std::to_string(shape.size()) + ".");
  }
  if (c == "Orthogonal" && shape.size() < 2) {
    fail(CONV1D_ERROR_UNSUPPORTED, "The tensor to initialize must be at least two-dimensional. Received: shape=" +
                                       shape_repr(shape) + " of rank " + std::to_string(shape.size()) + ".");
  }
  if (c == "STFT" && shape.size() != 3) {
    fail(CONV1D_ERROR_UNSUPPORTED,
         "STFT initializer needs a rank-3 Conv1D kernel shape (frame_length, input_channels, fft_length). "
         "Received: shape=" +
             shape_repr(shape) + " of rank " + std::to_string(shape.size()) + ".");
  }
  if (c == "STFT" && window_is_array_ && !window_none_ && static_cast<int64_t>(window_values_.size()) != shape[0]) {
    fail(CONV1D_ERROR_INVALID_VALUE, "The shape of `window` must be equal to [frame_length].Received: window shape=(" +
                                         std::to_string(window_values_.size()) + ",)");
  }
  double fan_in = 0.0, fan_out = 0.0;
  if (is_variance_scaling(c)) {
    compute_fans(shape, fan_in, fan_out);
    // Explicit axes (Keras >= 3.15) replace the default fan they name.
    if (has_input_axes_) fan_in = axes_product(shape, input_axes_, "input_axes");
    if (has_output_axes_) fan_out = axes_product(shape, output_axes_, "output_axes");
  }
  if (n == 0) return;
  if (!out) fail(CONV1D_ERROR_NULL_POINTER, "Initializer: output buffer is NULL");

  Rng rng(has_seed_ ? seed_ : default_seed);
  if (c == "Zeros") {
    std::fill(out, out + n, T(0));
  } else if (c == "Ones") {
    std::fill(out, out + n, T(1));
  } else if (c == "Constant") {
    std::fill(out, out + n, static_cast<T>(value_));
  } else if (is_variance_scaling(c)) {
    double denom;
    if (mode_ == "fan_in") {
      denom = fan_in;
    } else if (mode_ == "fan_out") {
      denom = fan_out;
    } else {
      denom = (fan_in + fan_out) / 2.0;
    }
    const double v = scale_ / std::max(1.0, denom);
    if (distribution_ == "truncated_normal") {
      // 0.8796... is the stddev of a unit normal cut at +-2: it restores sqrt(v).
      const double stddev = std::sqrt(v) / 0.87962566103423978;
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<T>(stddev * rng.truncated_normal());
    } else if (distribution_ == "untruncated_normal") {
      const double stddev = std::sqrt(v);
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<T>(stddev * rng.normal());
    } else {
      const double limit = std::sqrt(3.0 * v);
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<T>(-limit + 2.0 * limit * rng.uniform());
    }
  } else if (c == "RandomNormal") {
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<T>(mean_ + stddev_ * rng.normal());
  } else if (c == "TruncatedNormal") {
    // Cut at +-2 stddev around the mean with no variance correction.
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<T>(mean_ + stddev_ * rng.truncated_normal());
  } else if (c == "RandomUniform") {
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<T>(minval_ + (maxval_ - minval_) * rng.uniform());
  } else if (c == "Identity") {
    const size_t rows = static_cast<size_t>(shape[0]), cols = static_cast<size_t>(shape[1]);
    for (size_t i = 0; i < rows; ++i) {
      for (size_t j = 0; j < cols; ++j) out[i * cols + j] = static_cast<T>(i == j ? gain_ : 0.0);
    }
  } else if (c == "Orthogonal") {
    const size_t cols = static_cast<size_t>(shape.back());
    const size_t rows = n / cols;
    const size_t m = std::max(rows, cols), k = std::min(rows, cols);
    // a ~ N(0, 1) of shape (m, k), drawn in row-major order (the same stream as
    // RandomNormal(0, 1) of shape (m, k), which the tests use to check the QR),
    // kept column-major.
    std::vector<double> a(m * k);
    for (size_t i = 0; i < m; ++i) {
      for (size_t j = 0; j < k; ++j) a[j * m + i] = rng.normal();
    }
    const std::vector<double> q = signed_q(std::move(a), m, k);  // column-major m x k
    for (size_t i = 0; i < rows; ++i) {
      for (size_t j = 0; j < cols; ++j) {
        // rows >= cols: out = q; rows < cols: out = q^T.
        const double x = rows >= cols ? q[j * m + i] : q[i * m + j];
        out[i * cols + j] = static_cast<T>(gain_ * x);
      }
    }
  } else if (c == "STFT") {
    const int64_t frames = shape[0], channels = shape[1], bins = shape[2];
    std::vector<double> win;
    double s = 1.0;
    if (!window_none_) {
      win = window_is_array_ ? window_values_ : make_window(window_, frames, periodic_);
      if (!scaling_none_ && scaling_ == "density") {
        double sum2 = 0.0;
        for (double w : win) sum2 += w * w;
        s = std::sqrt(sum2);
      } else if (!scaling_none_ && scaling_ == "spectrum") {
        s = 0.0;
        for (double w : win) s += std::fabs(w);
      }
    }
    const double pi = std::acos(-1.0);
    // With one bin Keras divides by (1 - 1) * 2 = 0 and gets NaN; so do we.
    const double fft_len = static_cast<double>((bins - 1) * 2);
    for (int64_t t = 0; t < frames; ++t) {
      for (int64_t f = 0; f < bins; ++f) {
        const double arg = -2.0 * static_cast<double>(t) * (static_cast<double>(f) / fft_len) * pi;
        double val = side_ == "real" ? std::cos(arg) : std::sin(arg);
        if (!window_none_) val = val * win[static_cast<size_t>(t)] / s;
        // The formula does not depend on the input channel.
        for (int64_t ch = 0; ch < channels; ++ch) {
          out[static_cast<size_t>((t * channels + ch) * bins + f)] = static_cast<T>(val);
        }
      }
    }
  } else {
    fail(CONV1D_ERROR_INTERNAL, "Initializer: no fill for class " + c);
  }
}

void Initializer::fill(float* out, const std::vector<int64_t>& shape, uint64_t default_seed) const {
  fill_impl(out, shape, default_seed);
}

void Initializer::fill(double* out, const std::vector<int64_t>& shape, uint64_t default_seed) const {
  fill_impl(out, shape, default_seed);
}

std::string Initializer::to_json() const {
  const std::string& c = class_name_;
  const ordered_json seed = has_seed_ ? ordered_json(seed_) : ordered_json(nullptr);
  auto axes = [](bool has, const std::vector<int64_t>& v) { return has ? ordered_json(v) : ordered_json(nullptr); };
  ordered_json config = ordered_json::object();
  if (c == "VarianceScaling") {
    config["seed"] = seed;
    config["scale"] = scale_;
    config["mode"] = mode_;
    config["distribution"] = distribution_;
    config["input_axes"] = axes(has_input_axes_, input_axes_);
    config["output_axes"] = axes(has_output_axes_, output_axes_);
  } else if (is_named_variance_scaling(c)) {
    config["seed"] = seed;
    config["input_axes"] = axes(has_input_axes_, input_axes_);
    config["output_axes"] = axes(has_output_axes_, output_axes_);
  } else if (c == "RandomNormal" || c == "TruncatedNormal") {
    config["seed"] = seed;
    config["mean"] = mean_;
    config["stddev"] = stddev_;
  } else if (c == "RandomUniform") {
    config["seed"] = seed;
    config["minval"] = minval_;
    config["maxval"] = maxval_;
  } else if (c == "Constant") {
    config["value"] = value_;
  } else if (c == "Orthogonal") {
    config["seed"] = seed;
    config["gain"] = gain_;
  } else if (c == "Identity") {
    config["gain"] = gain_;
  } else if (c == "STFT") {
    // Key order of Keras' STFT.get_config.
    config["side"] = side_;
    if (window_none_) {
      config["window"] = nullptr;
    } else if (window_is_array_) {
      config["window"] = window_values_;
    } else {
      config["window"] = window_;
    }
    config["periodic"] = periodic_;
    config["scaling"] = scaling_none_ ? ordered_json(nullptr) : ordered_json(scaling_);
  }
  ordered_json j;
  j["module"] = "keras.initializers";
  j["class_name"] = c;
  j["config"] = config;
  j["registered_name"] = nullptr;
  return j.dump();
}

}  // namespace conv1d
