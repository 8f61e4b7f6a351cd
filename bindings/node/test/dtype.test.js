'use strict';
// Dtype policies through the Node binding: float64 and bfloat16 layers against
// the float64 reference in reference.js, typed weights, configs with their
// dtype, and the library's refusals.

const test = require('node:test');
const assert = require('node:assert/strict');
const os = require('node:os');
const path = require('node:path');

process.env.KERAS_HOME = path.join(os.tmpdir(), `conv1d-node-tests-no-keras-home-${process.pid}`);

const conv1d = require('..');
const reference = require('./reference');
const { randoms, expectError } = require('./helpers');

const { Status } = conv1d;

// [padding, strides, dilation, kernelSize, groups, dataFormat, activation]
const GEOMETRIES = [
  ['valid', 1, 1, 3, 1, 'channels_last', 'linear'],
  ['same', 2, 1, 4, 2, 'channels_last', 'relu'],
  ['causal', 1, 3, 3, 1, 'channels_first', 'tanh'],
  ['same', 1, 2, 5, 4, 'channels_last', 'elu'], // depthwise (not gelu: reference.js' erf is float32-accurate)
];
const CHANNELS = 4;
const FILTERS = 8;

function setup(seed, dtype, geometry) {
  const [padding, strides, dilation, kernelSize, groups, dataFormat, activation] = geometry;
  const layer = conv1d.Conv1D(FILTERS, kernelSize, { padding, strides, dilationRate: dilation, groups, dataFormat,
    activation, dtype });
  const rand = randoms(seed);
  const shape = dataFormat === 'channels_last' ? [2, 11, CHANNELS] : [2, CHANNELS, 11];
  const x = Float64Array.from(rand(2 * 11 * CHANNELS), (v) => v + rand(1)[0] * 2 ** -30); // not float32 values
  const kernel = Float64Array.from(rand(kernelSize * (CHANNELS / groups) * FILTERS, 0.5));
  const bias = Float64Array.from(rand(FILTERS, 0.5));
  const opts = { padding, strides, dilation, groups, dataFormat, activation };
  const ref = (xs, ks, bs) => reference.conv1d(xs, shape, ks, kernelSize, FILTERS, bs, opts);
  // S: the largest sum |x| |w| + |b| over the outputs.
  const mag = (xs, ks, bs) => {
    const abs = (a) => Float64Array.from(a, Math.abs);
    const linear = { ...opts, activation: 'linear' };
    const r = reference.conv1d(abs(xs), shape, abs(ks), kernelSize, FILTERS, abs(bs), linear);
    return Math.max(...r.data);
  };
  return { layer, x, shape, kernel, bias, ref, mag, kernelSize, groups };
}

/** A float64 value rounded once to bfloat16 (8 significant bits, nearest, ties to even). */
function roundBf16(v) {
  if (v === 0 || !Number.isFinite(v)) return v;
  let e = Math.floor(Math.log2(Math.abs(v)));
  if (2 ** e > Math.abs(v)) e -= 1;
  else if (2 ** (e + 1) <= Math.abs(v)) e += 1;
  const quantum = 2 ** (e - 7);
  const q = v / quantum;
  const f = Math.floor(q);
  const d = q - f;
  const r = d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
  return r * quantum;
}

function ulpBf16(v) {
  if (v === 0) return 2 ** -133;
  let e = Math.floor(Math.log2(Math.abs(v)));
  if (2 ** e > Math.abs(v)) e -= 1;
  else if (2 ** (e + 1) <= Math.abs(v)) e += 1;
  return 2 ** (e - 7);
}

const roundAll = (a) => Float64Array.from(a, roundBf16);

test('roundBf16 helper: ties to even', () => {
  assert.deepEqual([1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -30, -3].map(roundBf16), [1, 1 + 2 ** -6,
    1 + 2 ** -7, -3]);
});

test('float32 stays the default and unchanged', () => {
  const plain = conv1d.Conv1D(4, 3, { seed: 5 });
  const named = conv1d.Conv1D(4, 3, { seed: 5, dtype: 'float32' });
  for (const layer of [plain, named]) {
    assert.deepEqual([layer.dtype, layer.computeDtype, layer.variableDtype], ['float32', 'float32', 'float32']);
  }
  const x = { data: Float64Array.from(randoms(1)(2 * 9 * 3)), shape: [2, 9, 3] };
  const y = plain.call(x);
  assert.ok(y.data instanceof Float32Array);
  assert.deepEqual(y.data, named.call(x).data);
  assert.ok(plain.getWeights().every((w) => w.data instanceof Float32Array));
  assert.equal(plain.weights[0].dtype, 'float32');
  assert.equal(plain.getConfig().dtype.config.name, 'float32');
});

for (const geometry of GEOMETRIES) {
  test(`float64 forward against the reference: ${geometry.join(' ')}`, () => {
    const { layer, x, shape, kernel, bias, ref, mag } = setup(11, 'float64', geometry);
    assert.deepEqual([layer.dtype, layer.computeDtype, layer.variableDtype], ['float64', 'float64', 'float64']);
    layer.setWeights([kernel, bias]);
    const y = layer.call(x, shape);
    assert.ok(y.data instanceof Float64Array);
    const expected = ref(x, kernel, bias);
    assert.deepEqual(y.shape, expected.shape);
    const s = mag(x, kernel, bias);
    for (let i = 0; i < y.data.length; i++) {
      const e = expected.data[i];
      assert.ok(Math.abs(y.data[i] - e) <= 1e-12 * s * (1 + Math.abs(e)), `output ${i}: ${y.data[i]} vs ${e}`);
    }
    // Plain numbers are converted to float64.
    assert.deepEqual(layer.call(Array.from(x), shape).data, y.data);
  });
}

test('float64 weights keep full precision', () => {
  const layer = conv1d.Conv1D(3, 2, { dtype: 'float64' });
  const kernel = Float64Array.from({ length: 2 * 5 * 3 }, (_, i) => (i + 1) / 3);
  const bias = Float64Array.from([1 / 7, 2 / 7, 3 / 7]);
  layer.setWeights([{ data: kernel, shape: [2, 5, 3] }, bias]); // builds the layer
  assert.equal(layer.inputChannels, 5);
  const [k, b] = layer.getWeights();
  assert.ok(k.data instanceof Float64Array && b.data instanceof Float64Array);
  assert.deepEqual(k.data, kernel);
  assert.deepEqual(b.data, bias);
  assert.equal(layer.weights[0].dtype, 'float64');
  const newKernel = Float64Array.from(kernel, (v) => v / 11);
  layer.weights[0].assign(newKernel);
  assert.deepEqual(layer.kernel.data, newKernel);
  assert.deepEqual(layer.bias.data, bias); // untouched
  layer.weights[1].assign([0.1, 0.2, 0.3]);
  assert.deepEqual(layer.bias.data, Float64Array.from([0.1, 0.2, 0.3]));
  assert.throws(() => layer.weights[1].assign([1, 2]), RangeError);
  assert.deepEqual(layer.weights[1].read().data, Float64Array.from([0.1, 0.2, 0.3]));
  // The forward pass uses the float64 weights.
  const x = Float64Array.from({ length: 4 * 5 }, (_, i) => Math.sin(i));
  const expected = reference.conv1d(x, [1, 4, 5], newKernel, 2, 3, [0.1, 0.2, 0.3]);
  const y = layer.call(x, [1, 4, 5]);
  for (let i = 0; i < y.data.length; i++) assert.ok(Math.abs(y.data[i] - expected.data[i]) < 1e-13);
});

for (const policy of ['bfloat16', 'mixed_bfloat16']) {
  for (const geometry of GEOMETRIES) {
    test(`${policy} forward against the reference on bf16-rounded data: ${geometry.join(' ')}`, () => {
      const { layer, x, shape, kernel, bias, ref, mag, kernelSize, groups } = setup(12, policy, geometry);
      assert.equal(layer.dtype, policy);
      assert.equal(layer.computeDtype, 'bfloat16');
      assert.equal(layer.variableDtype, policy === 'bfloat16' ? 'bfloat16' : 'float32');
      const x32 = Float32Array.from(x);
      layer.setWeights([Float32Array.from(kernel), Float32Array.from(bias)]);
      const y = layer.call({ data: x32, shape });
      assert.ok(y.data instanceof Float32Array);
      const yBits = new Uint32Array(y.data.buffer);
      assert.ok(yBits.every((v) => (v & 0xffff) === 0), 'outputs are bfloat16 values');
      const xr = roundAll(x32);
      const kr = roundAll(Float32Array.from(kernel));
      const br = roundAll(Float32Array.from(bias));
      const expected = ref(xr, kr, br);
      const s = mag(xr, kr, br);
      const terms = (kernelSize * CHANNELS) / groups + 4;
      let differs = false;
      for (let i = 0; i < y.data.length; i++) {
        const e = expected.data[i];
        const bound = ulpBf16(Math.max(Math.abs(y.data[i]), Math.abs(e))) + terms * 2 ** -24 * s * (1 + Math.abs(e));
        assert.ok(Math.abs(y.data[i] - roundBf16(e)) <= bound, `output ${i}: ${y.data[i]} vs ${e}`);
        differs ||= y.data[i] !== Math.fround(e);
      }
      assert.ok(differs, 'bf16 results, not float32 ones');
      // A Float64Array input is rounded to bf16 once, by the library.
      assert.deepEqual(layer.call({ data: xr, shape }).data, y.data);
      const once = layer.call({ data: Float32Array.from(roundAll(x)), shape }).data;
      assert.deepEqual(layer.call({ data: x, shape }).data, once);
      // Raw bfloat16 bits in and out.
      const bitsIn = Uint16Array.from(new Uint32Array(Float32Array.from(xr).buffer), (v) => v >>> 16);
      const raw = layer.call({ data: bitsIn, shape }, { bfloat16Bits: true });
      assert.ok(raw.data instanceof Uint16Array);
      assert.deepEqual(raw.data, Uint16Array.from(yBits, (v) => v >>> 16));
      assert.deepEqual(layer.call(bitsIn, shape, { bfloat16Bits: true }).data, raw.data);
    });
  }
}

test('bfloat16 weights: stored rounded, float64 data rounded once; mixed_bfloat16 keeps float32 masters', () => {
  const kernel = randoms(3)(3 * 2 * 4);
  const bias = randoms(4)(4);
  const stored = conv1d.Conv1D(4, 3, { dtype: 'bfloat16' });
  stored.setWeights([kernel, bias]);
  const [k, b] = stored.getWeights();
  assert.ok(k.data instanceof Float32Array);
  assert.deepEqual(Array.from(k.data), Array.from(kernel, roundBf16));
  assert.deepEqual(Array.from(b.data), Array.from(bias, roundBf16));
  assert.equal(stored.weights[0].dtype, 'bfloat16');
  // 1 + 2^-8 + 2^-30 rounds up to 1 + 2^-7 in one step; through float32 it would tie and go down to 1.
  stored.setWeights([new Float64Array(24).fill(1 + 2 ** -8 + 2 ** -30), Float64Array.from(bias)]);
  assert.ok(stored.getWeights()[0].data.every((v) => v === 1 + 2 ** -7));

  const mixed = conv1d.Conv1D(4, 3, { dtype: 'mixed_bfloat16' });
  mixed.setWeights([kernel, bias]);
  assert.deepEqual(mixed.getWeights()[0].data, kernel);
  assert.equal(mixed.weights[0].dtype, 'float32');
});

for (const policy of ['float64', 'bfloat16', 'mixed_bfloat16']) {
  test(`${policy}: getConfig/fromConfig round trip the policy`, () => {
    const layer = conv1d.Conv1D(4, 3, { dtype: policy, name: 'typed' });
    const config = layer.getConfig();
    assert.deepEqual(config.dtype, { module: 'keras', class_name: 'DTypePolicy', config: { name: policy },
      registered_name: null });
    const again = conv1d.Conv1D.fromConfig(config);
    assert.deepEqual([again.dtype, again.computeDtype, again.variableDtype],
      [layer.dtype, layer.computeDtype, layer.variableDtype]);
    assert.deepEqual(again.getConfig(), config);
    assert.equal(conv1d.Conv1D.fromConfig({ ...config, dtype: policy }).dtype, policy); // Keras 3.0-3.3 form
    assert.equal(conv1d.Conv1D(4, 3, { dtype: config.dtype }).dtype, policy);
    assert.equal(conv1d.Conv1D(4, 3, { dtype: layer.dtypePolicy }).dtype, policy);
  });

  test(`${policy}: training calls throw the library's UNSUPPORTED and change nothing`, () => {
    const layer = conv1d.Conv1D(4, 3, { dtype: policy, kernelRegularizer: 'l2', kernelConstraint: 'non_neg',
      activityRegularizer: 'l1' });
    const x = { data: randoms(8)(2 * 6 * 3), shape: [2, 6, 3] };
    const y = layer.call(x);
    const calls = [() => layer.backward(x, y.data), () => layer.regularizationLoss(y), () => layer.stream()];
    if (policy === 'mixed_bfloat16') {
      // Its float32 variables keep their penalties and constraints.
      assert.ok(layer.regularizationLoss() > 0);
      layer.applyConstraints();
      assert.ok(layer.getWeights()[0].data.every((v) => v >= 0));
    } else {
      calls.push(() => layer.regularizationLoss(), () => layer.applyConstraints());
    }
    const before = layer.getWeights().map((w) => Array.from(w.data));
    for (const call of calls) expectError(call, Status.UNSUPPORTED, policy);
    assert.deepEqual(layer.getWeights().map((w) => Array.from(w.data)), before);
    assert.deepEqual(layer.call(x).data, layer.call(x).data);
  });
}

test('policy errors are the library\'s', () => {
  expectError(() => conv1d.Conv1D(4, 3, { dtype: 'float16' }), Status.UNSUPPORTED, "'float16'");
  expectError(() => conv1d.Conv1D(4, 3, { dtype: { class_name: 'DTypePolicy', config: { name: 'mixed_float16' } } }),
    Status.UNSUPPORTED, 'mixed_float16');
  expectError(() => conv1d.Conv1D(4, 3, { dtype: 'float65' }), Status.UNKNOWN_NAME, "'float65'");
  expectError(() => conv1d.Conv1D(4, 3, { dtype: 'float64', loraRank: 2 }), Status.UNSUPPORTED, 'LoRA');
  assert.throws(() => conv1d.Conv1D(4, 3, { dtype: 64 }), TypeError);
  assert.throws(() => conv1d.Conv1D(2, 1, { dtype: 'bfloat16' }).call(new Float32Array(4), [1, 2, 2],
    { bfloat16Bits: true }), /Uint16Array/);
});
