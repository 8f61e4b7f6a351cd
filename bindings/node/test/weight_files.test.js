'use strict';
// Weights from Keras files and .npy arrays through the Node binding: loadWeights, fromKeras,
// loadNpy and saveNpy on the weight files the C tests use (tests/files/make_fixtures.py, laid out
// exactly as Keras writes them). The loaded weights are checked against the values the generator
// documents, and the outputs against the float64 reference in reference.js.
//
// ctest passes the fixture directory in CONV1D_WEIGHT_FIXTURES (after the weight_file_fixtures
// test has written it) and CONV1D_HAVE_HDF5 (1 when the library reads HDF5). Run by hand, the
// fixtures are written to a temporary directory with python3 (numpy and h5py).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { pathToFileURL } = require('node:url');

process.env.KERAS_HOME = path.join(os.tmpdir(), `conv1d-node-tests-no-keras-home-${process.pid}`);

const conv1d = require('..');
const reference = require('./reference');
const { randoms, assertClose, expectError, kerasConfig } = require('./helpers');

const { Status } = conv1d;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'conv1d-node-weight-files-'));
test.after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function fixtureDirectory() {
  if (process.env.CONV1D_WEIGHT_FIXTURES) return process.env.CONV1D_WEIGHT_FIXTURES;
  const script = path.join(__dirname, '..', '..', '..', 'tests', 'files', 'make_fixtures.py');
  const dir = path.join(tmp, 'fixtures');
  const python = process.env.PYTHON || 'python3';
  const run = spawnSync(python, [script, dir], { encoding: 'utf8' });
  if (run.status !== 0) {
    throw new Error(
      `cannot write the weight-file fixtures with ${python} ${script} (set PYTHON to a python3 with numpy and ` +
        `h5py, or CONV1D_WEIGHT_FIXTURES to a directory it wrote):\n${run.stderr || run.error}`,
    );
  }
  return dir;
}

const DIR = fixtureDirectory();
const file = (name) => path.join(DIR, name);

function libraryReadsHdf5() {
  if (process.env.CONV1D_HAVE_HDF5 !== undefined) return process.env.CONV1D_HAVE_HDF5 === '1';
  try {
    conv1d.Conv1D(4, 3).loadWeights(file('garbage.weights.h5'));
  } catch (error) {
    return error.status !== Status.UNSUPPORTED;
  }
  return true;
}
const HDF5 = libraryReadsHdf5() ? {} : { skip: 'libconv1d was built without HDF5 (CONV1D_WITH_HDF5)' };

/** make_fixtures.py's values(shape, seed, divisor): multiples of 1/64 (or 1/7), exact in float32 at 1/64. */
function values(shape, seed, divisor = 64) {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = (((i * 37 + seed * 11) % 101) - 50) / divisor;
  return { data, shape };
}
const KERNEL = values([3, 2, 4], 1); // Conv1D(4, 3) on 2 channels: layers/conv1d, name 'conv1d'
const BIAS = values([4], 2);
const KERNEL2 = values([5, 4, 6], 3); // Conv1D(6, 5) on 4 channels: layers/conv1d_1, name 'encoder'
const BIAS2 = values([6], 4);

function assertWeight(actual, expected, what) {
  assert.deepEqual(actual.shape, expected.shape, `${what} shape`);
  assert.deepEqual(Array.from(actual.data), Array.from(expected.data, Math.fround), what);
}

/** The layer's output on a random input against the float64 reference for the expected weights. */
function checkOutput(layer, kernel, bias, opts = {}, seed = 1) {
  const [k, , filters] = kernel.shape;
  const channels = layer.inputChannels;
  const shape = [2, 11, channels];
  const x = randoms(seed)(shape.reduce((a, b) => a * b, 1));
  const expected = reference.conv1d(x, shape, kernel.data, k, filters, bias ? bias.data : null, opts);
  assertClose(layer.call(x, shape), expected);
}

// ---- Keras files ----

test('loadWeights: a .weights.h5 file builds an unbuilt layer, by name or path', HDF5, () => {
  for (const key of ['encoder', 'layers/conv1d_1', 'conv1d_1']) {
    const layer = conv1d.Conv1D(6, 5, { padding: 'same', activation: 'tanh' });
    assert.equal(layer.built, false);
    layer.loadWeights(file('two_convs.weights.h5'), key);
    assert.equal(layer.inputChannels, 4, key);
    const [kernel, bias] = layer.getWeights();
    assertWeight(kernel, KERNEL2, 'kernel');
    assertWeight(bias, BIAS2, 'bias');
    checkOutput(layer, KERNEL2, BIAS2, { padding: 'same', activation: 'tanh' });
    assert.deepEqual(layer.getBuildConfig(), { input_shape: [null, null, 4] });
    layer.close();
  }
  const first = conv1d.Conv1D(4, 3);
  first.build([null, 10, 2]);
  first.loadWeights(file('two_convs.weights.h5'), 'layers/conv1d');
  assertWeight(first.kernel, KERNEL, 'kernel');
  checkOutput(first, KERNEL, BIAS);
  assert.deepEqual(first.getBuildConfig(), { input_shape: [null, 10, 2] }); // built before: kept
});

test('loadWeights: .keras archives, legacy .h5 files, and paths as URL or Buffer', HDF5, () => {
  const cases = [
    [file('model.keras'), null], // stored, as Keras writes it
    [pathToFileURL(file('deflated.keras')), undefined],
    [Buffer.from(file('streamed.keras')), null],
    [file('legacy_keras2.h5'), 'conv1d'],
    [file('legacy_keras3.h5'), 'conv1d'],
    [file('legacy_weights_only.h5'), null],
  ];
  for (const [where, key] of cases) {
    const layer = conv1d.Conv1D(4, 3, { activation: 'relu' });
    layer.loadWeights(where, key);
    assertWeight(layer.kernel, KERNEL, String(where));
    assertWeight(layer.bias, BIAS, String(where));
    checkOutput(layer, KERNEL, BIAS, { activation: 'relu' }, 2);
    layer.close();
  }
  const second = conv1d.Conv1D(6, 5);
  second.loadWeights(file('legacy_keras3.h5'), 'conv1d_1');
  assertWeight(second.kernel, KERNEL2, 'legacy conv1d_1');
});

test('fromKeras: a Keras 3.15 layer entry plus the weights file gives the outputs', HDF5, () => {
  const entry = {
    module: 'keras.layers',
    class_name: 'Conv1D',
    config: kerasConfig({
      name: 'encoder',
      filters: 6,
      kernel_size: [5],
      padding: 'causal',
      dilation_rate: [2],
    }),
    registered_name: null,
    build_config: { input_shape: [null, 16, 4] },
  };
  const opts = { padding: 'causal', dilation: 2, activation: 'relu' };
  const layer = conv1d.fromKeras(entry, file('two_convs.weights.h5'), 'encoder');
  assert.equal(layer.name, 'encoder');
  assert.deepEqual(layer.getBuildConfig(), { input_shape: [null, 16, 4] });
  assertWeight(layer.kernel, KERNEL2, 'kernel');
  checkOutput(layer, KERNEL2, BIAS2, opts, 3);
  // The config alone, as JSON text, without a build_config: the file builds the layer.
  const again = conv1d.Conv1D.fromKeras(JSON.stringify(entry.config), file('two_convs.weights.h5'), 'conv1d_1');
  checkOutput(again, KERNEL2, BIAS2, opts, 3);
  // A build_config the file's kernel does not fit.
  const wrong = { ...entry, build_config: { input_shape: [null, 16, 8] } };
  expectError(() => conv1d.fromKeras(wrong, file('two_convs.weights.h5'), 'encoder'), Status.LENGTH_MISMATCH,
    '(5, 4, 6)', '(5, 8, 6)');
});

test('loadWeights errors: the key, the file, the shapes; the layer is left as it was', HDF5, () => {
  const layer = conv1d.Conv1D(6, 5);
  expectError(() => layer.loadWeights(file('two_convs.weights.h5')), Status.INVALID_VALUE,
    'holds 2 Conv1D-like layers', "layers/conv1d (name 'conv1d', vars[0] (3, 2, 4))",
    "layers/conv1d_1 (name 'encoder', vars[0] (5, 4, 6))");
  expectError(() => layer.loadWeights(file('two_convs.weights.h5'), 'decoder'), Status.UNKNOWN_NAME,
    "no layer 'decoder'", 'layers/conv1d (', "layers/conv1d_1 (name 'encoder'");
  expectError(() => layer.loadWeights(file('two_convs.weights.h5'), 'conv1d'), Status.LENGTH_MISMATCH,
    '(3, 2, 4)', '(5, in_channels/groups, 6)');
  expectError(() => layer.loadWeights(file('garbage.weights.h5')), Status.PARSE, 'garbage.weights.h5');
  expectError(() => layer.loadWeights(file('truncated.keras')), Status.PARSE);
  expectError(() => layer.loadWeights(file('bzip2.keras')), Status.UNSUPPORTED);
  expectError(() => layer.loadWeights(file('int.weights.h5'), 'conv1d'), Status.UNSUPPORTED); // int32 kernel
  assert.equal(layer.built, false);
  const biased = conv1d.Conv1D(4, 3);
  expectError(() => biased.loadWeights(file('nobias.weights.h5')), Status.INVALID_VALUE, 'bias');
  assert.equal(biased.built, false);
});

test('missing and unreadable files: IO errors with the path', () => {
  const layer = conv1d.Conv1D(4, 3);
  const missing = path.join(tmp, 'nowhere', 'model.weights.h5');
  let error = expectError(() => layer.loadWeights(missing), Status.IO, missing, 'No such file');
  assert.equal(error.path, missing);
  error = expectError(() => layer.loadWeights(pathToFileURL(missing)), Status.IO, missing);
  assert.equal(error.path, missing); // the URL's file path, as node:fs reports it
  expectError(() => layer.loadWeights(tmp), Status.IO, 'directory');
  error = expectError(() => layer.loadNpy('kernel', missing), Status.IO, missing);
  assert.equal(error.path, missing);
  layer.build([null, null, 2]);
  error = expectError(() => layer.saveNpy('kernel', missing), Status.IO, 'cannot create', missing);
  assert.equal(error.path, missing);
  assert.equal(fs.existsSync(path.dirname(missing)), false);
});

// ---- .npy ----

test('loadNpy: numpy files build the layer and set each weight', () => {
  const layer = conv1d.Conv1D(4, 3, { loraRank: 2 });
  layer.loadNpy('kernel', file('kernel_f4.npy')); // builds: 2 input channels, LoRA on
  assert.equal(layer.inputChannels, 2);
  assert.equal(layer.loraEnabled, true);
  layer.loadNpy('bias', file('bias.npy'));
  layer.loadNpy('lora_kernel_a', file('lora_a.npy'));
  layer.loadNpy(conv1d.Weight.LORA_B, file('lora_b.npy'));
  const [kernel, bias, a, b] = layer.getWeights();
  assertWeight(kernel, KERNEL, 'kernel');
  assertWeight(bias, BIAS, 'bias');
  assertWeight(a, values([3, 2, 2], 7), 'lora_kernel_a');
  assertWeight(b, values([2, 4], 8), 'lora_kernel_b');
  layer.mergeLora(); // kernel + A B (lora_alpha / rank = 1)
  const merged = new Float64Array(KERNEL.data.length);
  for (let row = 0; row < 6; row++) {
    for (let f = 0; f < 4; f++) {
      let sum = KERNEL.data[row * 4 + f];
      for (let q = 0; q < 2; q++) sum += a.data[row * 2 + q] * b.data[q * 4 + f];
      merged[row * 4 + f] = sum;
    }
  }
  checkOutput(layer, { data: merged, shape: [3, 2, 4] }, BIAS, {}, 4);

  const other = conv1d.Conv1D(4, 3, { useBias: false });
  for (const name of ['kernel_be.npy', 'kernel_v2.npy', 'kernel_v3.npy']) {
    other.loadNpy('kernel', file(name));
    assertWeight(other.kernel, KERNEL, name);
  }
  other.loadNpy('kernel', file('kernel_f8.npy')); // float64: rounded to float32
  assertWeight(other.kernel, values([3, 2, 4], 1, 7), 'kernel_f8');
});

test('saveNpy writes a version 1.0 little-endian float32 .npy that loadNpy reads back', () => {
  const layer = conv1d.Conv1D(6, 3, { groups: 2, seed: 5, biasInitializer: 'random_normal' });
  layer.build([null, null, 4]);
  const target = path.join(tmp, 'kernel.npy');
  layer.saveNpy('kernel', target);
  layer.saveNpy(conv1d.Weight.BIAS, pathToFileURL(path.join(tmp, 'bias.npy')));
  // The format, read here without numpy: magic, version, header length, header, data.
  const bytes = fs.readFileSync(target);
  assert.equal(bytes.subarray(0, 6).toString('latin1'), '\x93NUMPY');
  assert.deepEqual([bytes[6], bytes[7]], [1, 0]);
  const headerLength = bytes.readUInt16LE(8);
  assert.equal((10 + headerLength) % 64, 0);
  const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
  assert.match(header, /'descr': '<f4'/);
  assert.match(header, /'fortran_order': False/);
  assert.match(header, /'shape': \(3, 2, 6\)/);
  const kernel = layer.getWeights()[0];
  const data = bytes.subarray(10 + headerLength);
  assert.equal(data.length, kernel.data.length * 4);
  for (let i = 0; i < kernel.data.length; i++) assert.equal(data.readFloatLE(i * 4), kernel.data[i]);

  const other = conv1d.Conv1D(6, 3, { groups: 2 });
  other.loadNpy('kernel', target);
  other.loadNpy('bias', path.join(tmp, 'bias.npy'));
  assert.equal(other.inputChannels, 4);
  assert.deepEqual(other.getWeights(), layer.getWeights());
});

test('.npy errors: shapes, order, dtype, state; the layer is left as it was', () => {
  const layer = conv1d.Conv1D(4, 3);
  expectError(() => layer.loadNpy('bias', file('bias.npy')), Status.NOT_BUILT);
  expectError(() => layer.saveNpy('kernel', path.join(tmp, 'never.npy')), Status.NOT_BUILT);
  assert.equal(fs.existsSync(path.join(tmp, 'never.npy')), false);
  layer.loadNpy('kernel', file('kernel_f4.npy'));
  expectError(() => layer.loadNpy('kernel', file('kernel_wide.npy')), Status.LENGTH_MISMATCH, '(3, 3, 4)', '(3, 2, 4)');
  expectError(() => layer.loadNpy('kernel', file('kernel_fortran.npy')), Status.UNSUPPORTED, 'ascontiguousarray');
  expectError(() => layer.loadNpy('kernel', file('kernel_i4.npy')), Status.UNSUPPORTED);
  expectError(() => layer.loadNpy('kernel', file('truncated.npy')), Status.PARSE);
  expectError(() => layer.saveNpy('lora_kernel_a', path.join(tmp, 'a.npy')), Status.INVALID_VALUE, 'LoRA');
  assertWeight(layer.kernel, KERNEL, 'kernel after the failures');
});

test('argument errors are thrown before the library is called', () => {
  const layer = conv1d.Conv1D(4, 3);
  assert.throws(() => layer.loadNpy('weights', file('kernel_f4.npy')), {
    name: 'RangeError',
    message: /'kernel', 'bias', 'lora_kernel_a', 'lora_kernel_b'/,
  });
  assert.throws(() => layer.loadNpy(7, file('kernel_f4.npy')), RangeError);
  assert.throws(() => layer.loadNpy(null, file('kernel_f4.npy')), TypeError);
  assert.throws(() => layer.loadWeights(3), TypeError);
  assert.throws(() => layer.loadWeights(`${file('model.keras')}\0.txt`), /null bytes/);
  assert.throws(() => layer.loadWeights(Buffer.from('model\0.keras')), /null bytes/);
  assert.throws(() => layer.loadWeights(new URL('https://example.com/model.keras')), TypeError);
  assert.throws(() => layer.loadWeights(file('model.keras'), 5), TypeError);
  assert.throws(() => layer.loadWeights(file('model.keras'), 'conv\0'), /null bytes/);
  assert.equal(layer.built, false);
  // A path may contain the digit 0 (not a NUL).
  const zero = path.join(tmp, 'kernel0.npy');
  fs.copyFileSync(file('kernel_f4.npy'), zero);
  layer.loadNpy('kernel', zero);
  assertWeight(layer.kernel, KERNEL, 'kernel0.npy');
  layer.close();
  assert.throws(() => layer.loadNpy('kernel', zero), /closed/);
});

test('a library without the weight-file functions throws UNSUPPORTED naming the symbol', () => {
  const native = require('../lib/native');
  const lib = native.lib();
  const saved = lib.load_npy;
  lib.load_npy = lib.missing('conv1d_load_npy');
  try {
    expectError(() => conv1d.Conv1D(4, 3).loadNpy('kernel', file('kernel_f4.npy')), Status.UNSUPPORTED,
      'does not export conv1d_load_npy', lib.path);
  } finally {
    lib.load_npy = saved;
  }
});
