// Conv1D weights in the files Keras writes (spec section 10):
//   - a Keras 3 .weights.h5 file: layers/<path>/vars/0 (kernel), vars/1 (bias);
//   - a .keras ZIP archive: the same, in its model.weights.h5 entry;
//   - a legacy .h5 file (Keras 2, or Keras 3's model.save("x.h5")):
//     [model_weights/]<layer name>/ with a weight_names attribute naming the
//     datasets, e.g. conv1d/kernel:0 (Keras 2) or conv1d/kernel (Keras 3).
// HDF5 is an optional dependency (CONV1D_HAVE_HDF5).
#pragma once

#include <string>
#include <vector>

#include "io/array.hpp"

namespace conv1d {

struct KerasVariables {
  std::vector<WeightArray> vars;  // the first (up to) two, in save_own_variables order
  size_t stored = 0;              // how many variables the file holds for the layer
  std::string source;             // the entry, for messages: "layers/conv1d/vars in 'm.keras'"
};

// Reads the variables of one layer. `key` selects it by path
// ("layers/conv1d_1" or just "conv1d_1") or by the Keras layer name stored
// with it; NULL picks the only Conv1D-like layer of the file. Failures throw
// conv1d::Error: CONV1D_ERROR_IO (cannot read the file), CONV1D_ERROR_PARSE
// (malformed), CONV1D_ERROR_UNKNOWN_NAME (no such layer),
// CONV1D_ERROR_INVALID_VALUE (ambiguous key), CONV1D_ERROR_UNSUPPORTED
// (built without HDF5, a non-float dtype, a compressed ZIP entry).
KerasVariables read_keras_weights(const std::string& path, const char* key);

}  // namespace conv1d
