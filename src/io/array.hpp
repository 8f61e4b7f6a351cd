// A weight read from or written to a file: its Keras shape and its values as
// float32 (and float64 when read from float64), row-major (C order).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace conv1d {

struct WeightArray {
  std::vector<int64_t> shape;
  std::vector<float> data;  // product(shape) values
  // The same values in double when the source was float64 (else empty), so
  // float64 layers load them without rounding.
  std::vector<double> data64;
  std::string origin;  // where it was read, for messages: "layers/conv1d/vars/0 in 'm.keras'"
};

// "(3, 2, 4)", "(4,)" or "()": Python's spelling, as in Keras' messages.
std::string shape_string(const std::vector<int64_t>& shape);

// The number of elements of `shape`, failing with CONV1D_ERROR_PARSE (a
// negative dimension) or CONV1D_ERROR_SIZE_OVERFLOW (more than fits in memory
// as float32) and naming `what`.
size_t element_count(const std::vector<int64_t>& shape, const std::string& what);

// IEEE binary16 and bfloat16 bit patterns to float (exact).
float half_to_float(uint16_t bits);
float bfloat16_to_float(uint16_t bits);

}  // namespace conv1d
