'use strict';
// Node binding of libconv1d: the Keras 3 Conv1D layer in C, through koffi.
//
//   const conv1d = require('conv1d');
//   const layer = conv1d.Conv1D(32, 3, { activation: 'relu' });
//   const x = { data: new Float32Array(4 * 10 * 128), shape: [4, 10, 128] };
//   const y = layer.call(x);
//   y.shape; // [4, 8, 32]
//   const { dx, grads } = layer.backward(x, y.data.map(() => 1)); // grads.kernel, grads.bias
//   const trained = conv1d.fromKeras(layerConfig, 'model.keras'); // Keras config + saved weights
//   const stream = causalLayer.stream(1); // chunk-by-chunk inference on a built causal layer
//   const out = stream.process({ data: frames, shape: [1, n, 128] }); // the outputs n frames complete
//
// The shared library is found through $CONV1D_LIBRARY, the build tree of the
// checkout this module sits in, or the system loader (see lib/native.js);
// loadLibrary(path) picks one explicitly before first use.

const native = require('./lib/native');
const { Status, Conv1DError } = require('./lib/errors');
const { Conv1D, Param, Weight, WEIGHT_NAMES, Variable, serialize, deserialize, fromKeras } = require('./lib/layer');
const { Stream } = require('./lib/stream');

const ISA_NAMES = ['scalar', 'avx2', 'avx512'];

module.exports = {
  Conv1D,
  Convolution1D: Conv1D, // Keras' alias
  Conv1DError,
  Status,
  Param,
  Weight,
  WEIGHT_NAMES,
  Variable,
  Stream,
  serialize,
  deserialize,
  fromKeras,
  loadLibrary: (file) => {
    native.loadLibrary(file);
  },
  /** The loaded library's version, "major.minor.patch". */
  version: () => native.lib().version_string(),
  /** The path (or name) libconv1d was loaded from. */
  libraryPath: () => native.lib().path,
  /** The best instruction set this CPU offers the kernels: "scalar", "avx2" or "avx512". */
  cpuIsa: () => ISA_NAMES[native.lib().cpu_isa()],
};
