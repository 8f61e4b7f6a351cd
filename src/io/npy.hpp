// NumPy .npy files (format versions 1.0, 2.0 and 3.0; the layout is
// described in numpy.lib.format): float16/32/64 in either byte order, C order.
#pragma once

#include <string>
#include <vector>

#include "io/array.hpp"

namespace conv1d {

// Parses a whole .npy file held in memory; `name` is used in messages.
// Malformed files give CONV1D_ERROR_PARSE; valid ones this reader does not
// take (other dtypes, fortran_order) CONV1D_ERROR_UNSUPPORTED.
WeightArray parse_npy(const unsigned char* bytes, size_t size, const std::string& name);
WeightArray read_npy(const std::string& path);

// The .npy bytes (version 1.0, '<f4', C order) of an array.
std::vector<unsigned char> format_npy(const std::vector<int64_t>& shape, const float* data, size_t count);
void write_npy(const std::string& path, const std::vector<int64_t>& shape, const float* data, size_t count);

}  // namespace conv1d
