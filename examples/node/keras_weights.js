'use strict';
// A Conv1D trained in Keras, run by libconv1d: its config plus the weights Keras saved give the
// outputs, with no Keras installed.
//
//   node examples/node/keras_weights.js config.json WEIGHTS [LAYER_NAME]
//
// config.json is a model's config (the config.json inside a .keras archive), or one layer's
// get_config() or model entry. WEIGHTS is what Keras saved: a .keras archive (model.save), a
// .weights.h5 file (model.save_weights) or a legacy .h5. LAYER_NAME picks the Conv1D when the
// model has several. The layer runs on a fixed input (the steps of its build_config, else 10) and
// the output is summarized; the checksum equals that of examples/python/keras_weights.py.
//
// Run from a checkout after building (the binding finds build/libconv1d.so.1) and `npm install`
// in bindings/node.

const fs = require('node:fs');
const path = require('node:path');
const conv1d = require(path.join(__dirname, '..', '..', 'bindings', 'node'));

/** The Conv1D layers of a Keras config: a model's (nested models included), a layer entry, or a get_config(). */
function conv1dEntries(node) {
  if (node.class_name === 'Conv1D' || 'filters' in node) return [node];
  const layers = (node.config && node.config.layers) || [];
  return layers.flatMap(conv1dEntries);
}

const nameOf = (entry) => (entry.config ? entry.config.name : entry.name);
const tuple = (shape) => `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;

function main(argv) {
  if (argv.length < 2 || argv.length > 3) {
    console.error('usage: node keras_weights.js config.json WEIGHTS [LAYER_NAME]');
    return 2;
  }
  const [configFile, weights, wanted] = argv;
  const entries = conv1dEntries(JSON.parse(fs.readFileSync(configFile, 'utf8')));
  const names = entries.map(nameOf);
  const chosen = entries.filter((entry) => wanted === undefined || nameOf(entry) === wanted);
  if (chosen.length !== 1) {
    const problem = !entries.length
      ? 'has no Conv1D layer'
      : !chosen.length
        ? `has no Conv1D layer named '${wanted}'; its Conv1D layers: ${names.join(', ')}`
        : `has several Conv1D layers; choose one by name: ${names.join(', ')}`;
    console.error(`${configFile} ${problem}`);
    return 1;
  }
  // The layer's Keras name finds its weights in files from Keras 3.6 and later and in legacy .h5
  // files. With one Conv1D in the model no key is needed, which also suits older .weights.h5
  // files: their paths (layers/conv1d_1) follow the class, not the layer name.
  const key = names.length > 1 ? nameOf(chosen[0]) : null;

  let layer;
  try {
    layer = conv1d.fromKeras(chosen[0], weights, key);
  } catch (error) {
    if (!(error instanceof conv1d.Conv1DError)) throw error;
    console.error(`cannot load the layer: ${error.message}`);
    return 1;
  }
  try {
    const build = layer.getBuildConfig().input_shape;
    const channelsLast = layer.dataFormat === 'channels_last';
    const steps = (channelsLast ? build[1] : build[2]) || 10;
    const channels = layer.inputChannels;
    const shape = channelsLast ? [2, steps, channels] : [2, channels, steps];
    // Values in [0, 1), reproducible in any language.
    const x = new Float32Array(shape[0] * shape[1] * shape[2]).map((_, i) => ((i * 7919) % 1000) / 1000);
    const y = layer.call(x, shape);

    console.log(`libconv1d ${conv1d.version()}`);
    console.log(
      `Conv1D '${layer.name}': filters=${layer.filters}, kernel_size=${tuple(layer.kernelSize)}, ` +
        `strides=${tuple(layer.strides)}, padding='${layer.padding}', dilation_rate=${tuple(layer.dilationRate)}, ` +
        `groups=${layer.groups}, activation='${layer.activation}'`,
    );
    console.log(`weights from ${weights}: ${layer.weights.map((w) => `${w.name} ${tuple(w.shape)}`).join(', ')}`);
    console.log(`input shape: ${tuple(shape)}`);
    console.log(`output shape: ${tuple(y.shape)}`);
    console.log(`first outputs: ${Array.from(y.data.subarray(0, 6), (v) => v.toFixed(6)).join(' ')}`);
    let checksum = 0;
    for (const v of y.data) checksum += v; // in order, in double precision, as the Python example sums
    console.log(`checksum: ${checksum.toFixed(6)}`);
  } finally {
    layer.close();
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
