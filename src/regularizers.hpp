// Keras 3 weight and activity regularizers (spec section 7): parsing from a
// name or JSON, the penalty, and its gradient.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace conv1d {

// A tensor shape held by value, no heap: from a vector or a braced list (a
// training step builds no vector per call). Regularized tensors have rank <= 3.
struct SmallShape {
  static constexpr std::size_t kMaxRank = 4;
  int64_t dims[kMaxRank] = {};
  std::size_t rank = 0;
  SmallShape(const std::vector<int64_t>& v) : rank(v.size()) {  // NOLINT: implicit by design
    for (std::size_t i = 0; i < rank && i < kMaxRank; ++i) dims[i] = v[i];
  }
  SmallShape(std::initializer_list<int64_t> l) : rank(l.size()) {  // NOLINT: implicit by design
    std::size_t i = 0;
    for (int64_t d : l)
      if (i < kMaxRank) dims[i++] = d;
  }
};

class Regularizer {
 public:
  // None: no regularizer (Keras' None).
  Regularizer() = default;

  // "null", a registered name ("l1", "L2", "l1l2", "orthogonal_regularizer",
  // "regularizer", ...) or a serialized object with its factors. Factors must
  // be finite and >= 0 (CONV1D_ERROR_INVALID_VALUE, Keras' message); unknown
  // names throw CONV1D_ERROR_UNKNOWN_NAME ("l1_l2" is one: Keras does not
  // register it), unknown config keys CONV1D_ERROR_PARSE.
  static Regularizer parse(const std::string& spec);

  bool active() const { return kind_ != Kind::kNone; }
  // The Keras serialized form, or "null".
  std::string to_json() const;

  // The penalty of a weight or output of `shape` holding `v`, summed in
  // double. OrthogonalRegularizer throws CONV1D_ERROR_UNSUPPORTED for any
  // shape but rank 2, as Keras raises: so on every Conv1D tensor.
  double penalty(const float* v, std::size_t n, SmallShape shape) const;
  // g[i] += scale * d penalty / d v[i]  (L1: sign, 0 at 0; L2: 2 l2 v).
  void add_gradient(const float* v, float* g, std::size_t n, SmallShape shape, double scale) const;

 private:
  enum class Kind { kNone, kBase, kL1, kL2, kL1L2, kOrthogonal };
  void check_rank(SmallShape shape) const;
  Kind kind_ = Kind::kNone;
  double l1_ = 0.0, l2_ = 0.0, factor_ = 0.01;
  std::string mode_ = "rows";
};

}  // namespace conv1d
