#include "constraints.hpp"

#include <algorithm>
#include <cmath>

#include "error.hpp"
#include "keras_object.hpp"

namespace conv1d {
namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

constexpr double kEpsilon = 1e-7;  // keras.backend.epsilon()

double number_arg(const std::string& cls, const char* key, const json& v) {
  if (!v.is_number())
    fail(CONV1D_ERROR_PARSE, "Constraint " + cls + ": config key '" + key + "' must be a number, got " + v.dump());
  return v.get<double>();
}

std::vector<int64_t> axis_arg(const std::string& cls, const json& v) {
  std::vector<int64_t> axes;
  auto one = [&](const json& a) {
    if (!a.is_number_integer())
      fail(CONV1D_ERROR_PARSE,
           "Constraint " + cls + ": 'axis' must be an integer or a list of integers, got " + v.dump());
    axes.push_back(a.get<int64_t>());
  };
  if (v.is_array()) {
    for (const json& a : v) one(a);
  } else {
    one(v);
  }
  return axes;
}

}  // namespace

Constraint Constraint::parse(const std::string& spec) {
  Constraint c;
  if (spec == "null") return c;
  const KerasObject obj = parse_keras_object(spec, "Constraint");
  const std::string& id = obj.class_name;
  std::string cls;
  std::vector<std::string> keys;
  if (id == "MaxNorm" || id == "max_norm") {
    cls = "MaxNorm", c.kind_ = Kind::kMaxNorm, keys = {"max_value", "axis"};
    c.config_["max_value"] = 2;
  } else if (id == "MinMaxNorm" || id == "min_max_norm") {
    cls = "MinMaxNorm", c.kind_ = Kind::kMinMaxNorm, keys = {"min_value", "max_value", "rate", "axis"};
    c.max_value_ = 1.0;
    c.config_["min_value"] = 0.0, c.config_["max_value"] = 1.0, c.config_["rate"] = 1.0;
  } else if (id == "NonNeg" || id == "non_neg") {
    cls = "NonNeg", c.kind_ = Kind::kNonNeg;
  } else if (id == "UnitNorm" || id == "unit_norm") {
    cls = "UnitNorm", c.kind_ = Kind::kUnitNorm, keys = {"axis"};
  } else if (id == "Constraint" || id == "constraint") {
    cls = "Constraint", c.kind_ = Kind::kIdentity;
  } else {
    fail(CONV1D_ERROR_UNKNOWN_NAME, "Could not interpret constraint identifier: " + id);
  }
  if (!keys.empty() && keys.back() == "axis") c.config_["axis"] = 0;
  check_config_keys(obj, cls, keys, "Constraint");
  for (auto it = obj.config.begin(); it != obj.config.end(); ++it) {
    const std::string& k = it.key();
    if (k == "axis") {
      c.axes_ = axis_arg(cls, *it);
    } else {
      const double d = number_arg(cls, k.c_str(), *it);
      (k == "max_value" ? c.max_value_ : k == "min_value" ? c.min_value_ : c.rate_) = d;
    }
    c.config_[k] = *it;
  }
  c.class_name_ = cls;
  return c;
}

std::string Constraint::to_json() const {
  if (kind_ == Kind::kNone) return "null";
  ordered_json j;
  j["module"] = "keras.constraints";
  j["class_name"] = class_name_;
  j["config"] = config_;
  j["registered_name"] = nullptr;
  return j.dump();
}

void Constraint::apply(float* w, const std::vector<int64_t>& shape) const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  switch (kind_) {
    case Kind::kNone:
    case Kind::kIdentity:
      return;
    case Kind::kNonNeg:
      // w * (w >= 0): NaN stays NaN, -0 stays -0, as Keras' cast-and-multiply.
      for (int64_t i = 0; i < n; ++i) w[i] = w[i] * (w[i] >= 0.0f ? 1.0f : 0.0f);
      return;
    default:
      break;
  }
  const int64_t rank = static_cast<int64_t>(shape.size());
  std::vector<bool> reduced(shape.size(), false);
  for (int64_t a : axes_) {
    const int64_t ax = a < 0 ? a + rank : a;
    if (ax < 0 || ax >= rank)
      fail(CONV1D_ERROR_INVALID_VALUE,
           "Constraint axis " + std::to_string(a) + " is out of bounds for a weight of shape " + shape_repr(shape));
    if (reduced[ax]) fail(CONV1D_ERROR_INVALID_VALUE, "Constraint axis " + std::to_string(a) + " is repeated");
    reduced[ax] = true;
  }
  // Each element's norm slot: its index with the reduced axes dropped.
  std::vector<int64_t> slot_stride(shape.size(), 0);
  int64_t slots = 1;
  for (int64_t i = rank - 1; i >= 0; --i) {
    if (!reduced[i]) slot_stride[i] = slots, slots *= shape[i];
  }
  auto slot_of = [&](int64_t flat) {
    int64_t s = 0;
    for (int64_t i = rank - 1; i >= 0; --i) {
      s += (flat % shape[i]) * slot_stride[i];
      flat /= shape[i];
    }
    return s;
  };
  std::vector<double> norm(static_cast<size_t>(slots), 0.0);
  for (int64_t i = 0; i < n; ++i) norm[slot_of(i)] += static_cast<double>(w[i]) * w[i];
  std::vector<double> scale(static_cast<size_t>(slots));
  for (int64_t s = 0; s < slots; ++s) {
    const double nm = std::sqrt(norm[s]);
    double desired = nm;
    if (kind_ == Kind::kMaxNorm) desired = std::min(std::max(nm, 0.0), max_value_);
    if (kind_ == Kind::kMinMaxNorm) desired = rate_ * std::min(std::max(nm, min_value_), max_value_) + (1 - rate_) * nm;
    if (kind_ == Kind::kUnitNorm) desired = 1.0;
    scale[s] = desired / (kEpsilon + nm);
  }
  for (int64_t i = 0; i < n; ++i) w[i] = static_cast<float>(w[i] * scale[slot_of(i)]);
}

}  // namespace conv1d
