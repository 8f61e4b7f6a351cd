#include "regularizers.hpp"

#include <algorithm>
#include <cmath>

#include "error.hpp"
#include "keras_object.hpp"

namespace conv1d {
namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

// Keras' validate_float_arg: an int or float (bool is an int in Python),
// finite and non-negative. The missing space in the message is Keras'.
double factor_arg(const json& v, const char* name) {
  const bool numeric = v.is_number() || v.is_boolean();
  const double d = v.is_boolean() ? (v.get<bool>() ? 1.0 : 0.0) : (v.is_number() ? v.get<double>() : 0.0);
  if (!numeric || !std::isfinite(d) || d < 0) {
    fail(CONV1D_ERROR_INVALID_VALUE, std::string("Invalid value for argument ") + name +
                                         ": expected a non-negative float.Received: " + name + "=" + v.dump());
  }
  return d;
}

}  // namespace

Regularizer Regularizer::parse(const std::string& spec) {
  Regularizer r;
  if (spec == "null") return r;
  const KerasObject obj = parse_keras_object(spec, "Regularizer");
  const std::string& id = obj.class_name;
  // ALL_OBJECTS_DICT: each class name and its snake_case form.
  std::string cls;
  if (id == "L1" || id == "l1") {
    cls = "L1", r.kind_ = Kind::kL1, r.l1_ = 0.01;
  } else if (id == "L2" || id == "l2") {
    cls = "L2", r.kind_ = Kind::kL2, r.l2_ = 0.01;
  } else if (id == "L1L2" || id == "l1l2") {
    cls = "L1L2", r.kind_ = Kind::kL1L2;  // both factors 0 unless given
  } else if (id == "OrthogonalRegularizer" || id == "orthogonal_regularizer") {
    cls = "OrthogonalRegularizer", r.kind_ = Kind::kOrthogonal;
  } else if (id == "Regularizer" || id == "regularizer") {
    cls = "Regularizer", r.kind_ = Kind::kBase;
  } else {
    fail(CONV1D_ERROR_UNKNOWN_NAME, "Could not interpret regularizer identifier: " + id);
  }
  const json& c = obj.config;
  auto get = [&c](const char* key) -> const json* {
    auto it = c.find(key);
    return it == c.end() || it->is_null() ? nullptr : &*it;  // None means the default
  };
  switch (r.kind_) {
    case Kind::kL1:
      check_config_keys(obj, cls, {"l1"}, "Regularizer");
      if (const json* v = get("l1")) r.l1_ = factor_arg(*v, "l1");
      break;
    case Kind::kL2:
      check_config_keys(obj, cls, {"l2"}, "Regularizer");
      if (const json* v = get("l2")) r.l2_ = factor_arg(*v, "l2");
      break;
    case Kind::kL1L2:
      check_config_keys(obj, cls, {"l1", "l2"}, "Regularizer");
      if (const json* v = get("l1")) r.l1_ = factor_arg(*v, "l1");
      if (const json* v = get("l2")) r.l2_ = factor_arg(*v, "l2");
      break;
    case Kind::kOrthogonal:
      check_config_keys(obj, cls, {"factor", "mode"}, "Regularizer");
      if (auto it = c.find("factor"); it != c.end()) r.factor_ = factor_arg(*it, "factor");
      if (auto it = c.find("mode"); it != c.end()) {
        if (!it->is_string() || (*it != "rows" && *it != "columns"))
          fail(CONV1D_ERROR_INVALID_VALUE,
               "Invalid value for argument `mode`. Expected one of {\"rows\", \"columns\"}. Received: mode=" +
                   (it->is_string() ? it->get<std::string>() : it->dump()));
        r.mode_ = it->get<std::string>();
      }
      break;
    default:
      check_config_keys(obj, cls, {}, "Regularizer");
      break;
  }
  return r;
}

std::string Regularizer::to_json() const {
  ordered_json config = ordered_json::object();
  const char* cls = "Regularizer";
  switch (kind_) {
    case Kind::kNone:
      return "null";
    case Kind::kL1:
      cls = "L1", config["l1"] = l1_;
      break;
    case Kind::kL2:
      cls = "L2", config["l2"] = l2_;
      break;
    case Kind::kL1L2:
      cls = "L1L2", config["l1"] = l1_, config["l2"] = l2_;
      break;
    case Kind::kOrthogonal:
      cls = "OrthogonalRegularizer", config["factor"] = factor_, config["mode"] = mode_;
      break;
    case Kind::kBase:
      break;
  }
  ordered_json j;
  j["module"] = "keras.regularizers";
  j["class_name"] = cls;
  j["config"] = config;
  j["registered_name"] = nullptr;
  return j.dump();
}

void Regularizer::check_rank(SmallShape shape) const {
  if (kind_ == Kind::kOrthogonal && shape.rank != 2) {
    fail(CONV1D_ERROR_UNSUPPORTED,
         "Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape=" +
             shape_repr(std::vector<int64_t>(shape.dims, shape.dims + std::min(shape.rank, SmallShape::kMaxRank))));
  }
}

double Regularizer::penalty(const float* v, std::size_t n, SmallShape shape) const {
  check_rank(shape);
  double s1 = 0.0, s2 = 0.0;
  if (l1_ != 0.0)
    for (std::size_t i = 0; i < n; ++i) s1 += std::fabs(static_cast<double>(v[i]));
  if (l2_ != 0.0)
    for (std::size_t i = 0; i < n; ++i) s2 += static_cast<double>(v[i]) * v[i];
  // A rank-2 orthogonal penalty cannot arise from a Conv1D tensor (check_rank).
  return l1_ * s1 + l2_ * s2;
}

void Regularizer::add_gradient(const float* v, float* g, std::size_t n, SmallShape shape, double scale) const {
  check_rank(shape);
  const float a = static_cast<float>(scale * l1_), b = static_cast<float>(scale * 2.0 * l2_);
  if (a == 0.0f && b == 0.0f) return;
  for (std::size_t i = 0; i < n; ++i) {
    const float sign = v[i] > 0.0f ? 1.0f : (v[i] < 0.0f ? -1.0f : 0.0f);
    g[i] += a * sign + b * v[i];
  }
}

}  // namespace conv1d
