// Keras 3 built-in initializers: parsing from a name or a serialized JSON
// object, filling a weight tensor, and serializing back.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace conv1d {

class Initializer {
 public:
  // Default: GlorotUniform with no seed.
  Initializer();

  // A Keras identifier: a name ("glorot_uniform", "GlorotUniform", "normal",
  // "one", ...) or a JSON object {"class_name": ..., "config": {...}} (with or
  // without "module"/"registered_name"). Unknown names throw
  // Error(CONV1D_ERROR_UNKNOWN_NAME); bad JSON or arguments Keras rejects
  // throw Error(CONV1D_ERROR_PARSE) or Error(CONV1D_ERROR_INVALID_VALUE) with a
  // message naming the key.
  static Initializer parse(const std::string& spec);

  // Fills out[prod(shape)] for a weight of `shape`. Uses the initializer's own
  // seed if its config has one, else `default_seed`. The same seed gives the
  // same values. Throws Error(CONV1D_ERROR_UNSUPPORTED) where Keras raises
  // (identity on a non-rank-2 shape, orthogonal on rank < 2, ...).
  void fill(float* out, const std::vector<int64_t>& shape, uint64_t default_seed) const;
  // The same draws kept in double (float64 layers): the float form is these
  // values rounded to float.
  void fill(double* out, const std::vector<int64_t>& shape, uint64_t default_seed) const;

  // The Keras 3.15 serialized form:
  // {"module": "keras.initializers", "class_name": ..., "config": {...}, "registered_name": null}
  std::string to_json() const;

  // Keras class name ("GlorotUniform", "Zeros", ...).
  const std::string& class_name() const { return class_name_; }

 private:
  template <class T>
  void fill_impl(T* out, const std::vector<int64_t>& shape, uint64_t default_seed) const;

  std::string class_name_;
  // Arguments, with Keras defaults filled in; which are used depends on the class.
  double scale_ = 1.0;
  std::string mode_ = "fan_avg";
  std::string distribution_ = "uniform";
  double mean_ = 0.0, stddev_ = 0.05, minval_ = -0.05, maxval_ = 0.05, value_ = 0.0, gain_ = 1.0;
  std::string side_ = "real", window_ = "hann", scaling_ = "density";
  bool periodic_ = false;
  // STFT's window may also be None or an explicit array, and its scaling None.
  bool window_none_ = false, window_is_array_ = false, scaling_none_ = false;
  std::vector<double> window_values_;
  bool has_seed_ = false;
  uint64_t seed_ = 0;
  std::vector<int64_t> input_axes_, output_axes_;
  bool has_input_axes_ = false, has_output_axes_ = false;
};

}  // namespace conv1d
