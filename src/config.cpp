#include "config.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "dispatch/cpu.hpp"
#include "error.hpp"

namespace conv1d {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

void LayerConfig::validate() const {
  if (filters % groups != 0) {
    fail(CONV1D_ERROR_GROUPS_MISMATCH,
         "The number of filters must be evenly divisible by the number of groups. Received: groups=" +
             std::to_string(groups) + ", filters=" + std::to_string(filters) + ".");
  }
  if (strides > 1 && dilation_rate > 1) {
    fail(CONV1D_ERROR_STRIDES_WITH_DILATION,
         "`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: strides=(" +
             std::to_string(strides) + ",) and dilation_rate=(" + std::to_string(dilation_rate) + ",)");
  }
  if (lora_rank > 0 && dtype != DTypePolicy::kFloat32) {
    fail(CONV1D_ERROR_UNSUPPORTED, std::string("LoRA is only supported with the float32 dtype policy; layer '") + name +
                                       "' has dtype policy '" + policy_name(dtype) + "'");
  }
}

const char* policy_name(DTypePolicy p) {
  switch (p) {
    case DTypePolicy::kFloat64:
      return "float64";
    case DTypePolicy::kBFloat16:
      return "bfloat16";
    case DTypePolicy::kMixedBFloat16:
      return "mixed_bfloat16";
    default:
      return "float32";
  }
}

DTypePolicy parse_policy(const std::string& name) {
  if (name == "float32") return DTypePolicy::kFloat32;
  if (name == "float64") return DTypePolicy::kFloat64;
  if (name == "bfloat16") return DTypePolicy::kBFloat16;
  if (name == "mixed_bfloat16") return DTypePolicy::kMixedBFloat16;
  // Names Keras accepts as a policy (its dtypes and the quantized forms) but
  // that this library does not compute.
  static const char* const kKnown[] = {"float16",   "mixed_float16", "int8",          "int16",      "int32", "int64",
                                       "uint8",     "uint16",        "uint32",        "uint64",     "bool",  "string",
                                       "complex64", "complex128",    "float8_e4m3fn", "float8_e5m2"};
  bool known = false;
  for (const char* k : kKnown) known |= name == k;
  for (const char* q : {"int8_from_", "int4_from_", "float8_from_", "gptq_from_"}) known |= name.rfind(q, 0) == 0;
  if (known) {
    fail(CONV1D_ERROR_UNSUPPORTED, "dtype policy '" + name +
                                       "' is a Keras policy this library does not compute; supported: float32, "
                                       "float64, bfloat16, mixed_bfloat16");
  }
  std::string message = "Cannot convert '" + name + "' to a dtype policy: not a Keras dtype or policy name";
  if (lower(name) != name) message += " (names are case-sensitive)";
  fail(CONV1D_ERROR_UNKNOWN_NAME, message);
}

const char* dtype_name(const conv1d_dtype& d) {
  int v;
  std::memcpy(&v, &d, sizeof v);
  switch (v) {
    case CONV1D_DTYPE_FLOAT32:
      return "float32";
    case CONV1D_DTYPE_FLOAT64:
      return "float64";
    case CONV1D_DTYPE_BFLOAT16:
      return "bfloat16";
    default:
      return nullptr;
  }
}

conv1d_dtype checked_dtype(const conv1d_dtype& d, const char* what) {
  int v;
  std::memcpy(&v, &d, sizeof v);
  if (!dtype_name(d))
    fail(CONV1D_ERROR_INVALID_VALUE,
         std::string(what) + " must be a conv1d_dtype value (0..2); received " + std::to_string(v));
  return static_cast<conv1d_dtype>(v);
}

DTypePolicy policy_of(conv1d_dtype d) {
  switch (checked_dtype(d, "dtype")) {
    case CONV1D_DTYPE_FLOAT64:
      return DTypePolicy::kFloat64;
    case CONV1D_DTYPE_BFLOAT16:
      return DTypePolicy::kBFloat16;
    default:
      return DTypePolicy::kFloat32;
  }
}

conv1d_dtype compute_dtype(DTypePolicy p) {
  switch (p) {
    case DTypePolicy::kFloat64:
      return CONV1D_DTYPE_FLOAT64;
    case DTypePolicy::kBFloat16:
    case DTypePolicy::kMixedBFloat16:
      return CONV1D_DTYPE_BFLOAT16;
    default:
      return CONV1D_DTYPE_FLOAT32;
  }
}

conv1d_dtype variable_dtype(DTypePolicy p) {
  switch (p) {
    case DTypePolicy::kFloat64:
      return CONV1D_DTYPE_FLOAT64;
    case DTypePolicy::kBFloat16:
      return CONV1D_DTYPE_BFLOAT16;
    default:
      return CONV1D_DTYPE_FLOAT32;
  }
}

size_t dtype_size(conv1d_dtype d) { return d == CONV1D_DTYPE_FLOAT64 ? 8 : d == CONV1D_DTYPE_BFLOAT16 ? 2 : 4; }

conv1d_data_format keras_default_data_format() {
  std::string dir;
  if (const char* home = std::getenv("KERAS_HOME")) {
    dir = home;
  } else {
    // Keras uses ~/.keras, or /tmp/.keras when the home directory is not writable.
    const char* h = std::getenv("HOME");
    const bool usable = h && *h && access(h, W_OK) == 0;
    dir = std::string(usable ? h : "/tmp") + "/.keras";
  }
  std::ifstream in(dir + "/keras.json");
  if (!in) return CONV1D_CHANNELS_LAST;
  std::stringstream ss;
  ss << in.rdbuf();
  // Keras ignores a keras.json it cannot parse; so do we.
  nlohmann::json j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("image_data_format")) return CONV1D_CHANNELS_LAST;
  const auto& v = j["image_data_format"];
  if (v.is_string()) {
    if (v.get<std::string>() == "channels_last") return CONV1D_CHANNELS_LAST;
    if (v.get<std::string>() == "channels_first") return CONV1D_CHANNELS_FIRST;
  }
  // Keras asserts on import here; we refuse to create layers rather than guess.
  fail(CONV1D_ERROR_INVALID_VALUE, "keras.json in " + dir + " has image_data_format=" + v.dump() +
                                       "; expected \"channels_last\" or \"channels_first\"");
}

LayerConfig default_config(int64_t filters, int64_t kernel_size) {
  LayerConfig c;
  c.filters = filters;
  c.kernel_size = kernel_size;
  c.data_format = keras_default_data_format();
  if (const char* a = std::getenv("CONV1D_ALGORITHM"); a && *a) {
    try {
      c.algorithm = parse_algorithm(a);
    } catch (const Error& e) {
      fail(e.status(), std::string("environment variable CONV1D_ALGORITHM: ") + e.what());
    }
  }
  if (const char* v = std::getenv("CONV1D_VERBOSE"); v && *v && std::string(v) != "0") c.verbose = true;
  c.max_isa = default_max_isa();
  return c;
}

conv1d_padding parse_padding(const std::string& s) {
  const std::string l = lower(s);
  if (l == "valid") return CONV1D_PADDING_VALID;
  if (l == "same") return CONV1D_PADDING_SAME;
  if (l == "causal") return CONV1D_PADDING_CAUSAL;
  fail(CONV1D_ERROR_UNKNOWN_NAME,
       "The `padding` argument must be a list/tuple or one of {'valid', 'same', 'causal'}. Received: " + s);
}

conv1d_data_format parse_data_format(const std::string& s) {
  const std::string l = lower(s);
  if (l == "channels_last") return CONV1D_CHANNELS_LAST;
  if (l == "channels_first") return CONV1D_CHANNELS_FIRST;
  fail(CONV1D_ERROR_UNKNOWN_NAME,
       "The `data_format` argument must be one of {'channels_first', 'channels_last'}. Received: data_format=" + s);
}

conv1d_algorithm parse_algorithm(const std::string& s) {
  const std::string l = lower(s);
  for (int a = CONV1D_ALGORITHM_AUTO; a <= CONV1D_ALGORITHM_GEMM; ++a)
    if (l == algorithm_name(static_cast<conv1d_algorithm>(a))) return static_cast<conv1d_algorithm>(a);
  fail(CONV1D_ERROR_UNKNOWN_NAME,
       "unknown algorithm '" + s + "'; expected one of 'auto', 'reference', 'direct', 'gemm'");
}

const char* padding_name(conv1d_padding p) {
  switch (p) {
    case CONV1D_PADDING_VALID:
      return "valid";
    case CONV1D_PADDING_SAME:
      return "same";
    case CONV1D_PADDING_CAUSAL:
      return "causal";
    default:
      break;
  }
  return nullptr;
}

const char* data_format_name(conv1d_data_format f) {
  switch (f) {
    case CONV1D_CHANNELS_LAST:
      return "channels_last";
    case CONV1D_CHANNELS_FIRST:
      return "channels_first";
    default:
      break;
  }
  return nullptr;
}

const char* algorithm_name(conv1d_algorithm a) {
  switch (a) {
    case CONV1D_ALGORITHM_AUTO:
      return "auto";
    case CONV1D_ALGORITHM_REFERENCE:
      return "reference";
    case CONV1D_ALGORITHM_DIRECT:
      return "direct";
    case CONV1D_ALGORITHM_GEMM:
      return "gemm";
    default:
      break;
  }
  return nullptr;
}

Geometry compute_geometry(const LayerConfig& cfg, int64_t steps) {
  if (steps <= 0) fail(CONV1D_ERROR_INVALID_SIZE, "steps must be positive; received steps=" + std::to_string(steps));
  if (steps > kMaxDim) fail(CONV1D_ERROR_SIZE_OVERFLOW, "steps=" + std::to_string(steps) + " exceeds 2^31-1");
  const int64_t s = cfg.strides, d = cfg.dilation_rate, k = cfg.kernel_size;
  // All parameters are <= 2^31-1, so these products fit in int64.
  const int64_t span = d * (k - 1);
  Geometry g;
  switch (cfg.padding) {
    case CONV1D_PADDING_VALID:
      g.out_steps = steps - span - 1 < 0 ? 0 : (steps - span - 1) / s + 1;
      if (g.out_steps <= 0) {
        fail(CONV1D_ERROR_EMPTY_OUTPUT, "Computed output size would be zero or negative: steps=" +
                                            std::to_string(steps) + " is shorter than the dilated kernel span " +
                                            std::to_string(span + 1) + " (kernel_size=" + std::to_string(k) +
                                            ", dilation_rate=" + std::to_string(d) + ") with padding='valid'.");
      }
      break;
    case CONV1D_PADDING_SAME: {
      g.out_steps = (steps - 1) / s + 1;
      const int64_t total = std::max<int64_t>((g.out_steps - 1) * s + span + 1 - steps, 0);
      g.pad_left = total / 2;
      g.pad_right = total - g.pad_left;
      break;
    }
    case CONV1D_PADDING_CAUSAL:
      g.out_steps = (steps - 1) / s + 1;
      g.pad_left = span;
      break;
    default:
      break;
  }
  return g;
}

}  // namespace conv1d
