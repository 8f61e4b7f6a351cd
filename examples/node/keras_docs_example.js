'use strict';
// The Keras docs example through the Node binding:
//
//   x = np.random.rand(4, 10, 128)
//   y = keras.layers.Conv1D(32, 3, activation="relu")(x)   # y.shape == (4, 8, 32)
//
// Run from a checkout after building (the binding finds build/libconv1d.so.1)
// and `npm install` in bindings/node:
//   node examples/node/keras_docs_example.js
// The input is a fixed pattern and the initializer seed is 42, so the checksum
// is the same on every run and equals the Python example's.

const path = require('node:path');
const conv1d = require(path.join(__dirname, '..', '..', 'bindings', 'node'));

const [BATCH, STEPS, CHANNELS] = [4, 10, 128];

// Values in [0, 1), like np.random.rand, but reproducible in any language.
const x = new Float32Array(BATCH * STEPS * CHANNELS).map((_, i) => ((i * 7919) % 1000) / 1000);

const layer = conv1d.Conv1D(32, 3, { activation: 'relu', seed: 42 });
try {
  const y = layer.call(x, [BATCH, STEPS, CHANNELS]); // builds for 128 channels
  let checksum = 0;
  for (const v of y.data) checksum += v;
  console.log(`libconv1d ${conv1d.version()} (${conv1d.libraryPath()})`);
  console.log(`Conv1D(32, 3, activation='relu') on input (${BATCH}, ${STEPS}, ${CHANNELS})`);
  console.log(`output shape: (${y.shape.join(', ')})`);
  console.log(`parameters: ${layer.countParams()}`);
  console.log(`plan: ${layer.describePlan(BATCH, STEPS)}`);
  console.log(`checksum: ${checksum.toFixed(6)}`);
  if (y.shape.join() !== '4,8,32' || y.data.some((v) => v < 0)) {
    console.error('unexpected output');
    process.exitCode = 1;
  }
} finally {
  layer.close();
}
