// Keras 3 weight constraints (spec section 8): parsing from a name or JSON,
// and applying one to a weight in place, as the optimizer does after a step.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace conv1d {

class Constraint {
 public:
  // None: no constraint.
  Constraint() = default;

  // "null", a registered name (MaxNorm/max_norm, MinMaxNorm/min_max_norm,
  // NonNeg/non_neg, UnitNorm/unit_norm, Constraint/constraint) or a serialized
  // object with its arguments; "axis" is an int or a list of ints.
  static Constraint parse(const std::string& spec);

  bool active() const { return kind_ != Kind::kNone; }
  std::string to_json() const;

  // w <- constraint(w) for a weight of `shape`, norms in double with Keras'
  // epsilon 1e-7. An axis outside the weight's rank, or repeated, throws
  // CONV1D_ERROR_INVALID_VALUE before anything is written.
  void apply(float* w, const std::vector<int64_t>& shape) const;

 private:
  enum class Kind { kNone, kIdentity, kMaxNorm, kMinMaxNorm, kNonNeg, kUnitNorm };
  Kind kind_ = Kind::kNone;
  std::string class_name_;
  double max_value_ = 2.0, min_value_ = 0.0, rate_ = 1.0;
  std::vector<int64_t> axes_{0};
  // The arguments as given, so to_json writes back what Keras would (2, not 2.0).
  nlohmann::ordered_json config_ = nlohmann::ordered_json::object();
};

}  // namespace conv1d
