'use strict';
// Training through the Node binding: backward against the float64 reference
// backward of reference.js (itself checked against finite differences of the
// reference forward), penalties and constraints by hand, LoRA, Keras' weight
// lists, and an SGD loop. Run with `node --test test/`.

const test = require('node:test');
const assert = require('node:assert/strict');
const os = require('node:os');
const path = require('node:path');

process.env.KERAS_HOME = path.join(os.tmpdir(), `conv1d-node-tests-no-keras-home-${process.pid}`);

const conv1d = require('..');
const reference = require('./reference');
const { randoms, assertClose, expectError } = require('./helpers');

const TOL = { rtol: 2e-4, atol: 5e-5 };
const tensor = (data, shape) => ({ data, shape });
const product = (shape) => shape.reduce((a, b) => a * b, 1);

/** Float64 a + s * b, elementwise. */
const axpy = (a, s, b) => Float64Array.from(a, (v, i) => v + s * b[i]);

/** A random case: x in the data format's layout, kernel (k, channels / groups, filters), bias. */
function makeCase(seed, [batch, steps, channels], k, filters, groups = 1, dataFormat = 'channels_last') {
  const rand = randoms(seed);
  const shape = dataFormat === 'channels_last' ? [batch, steps, channels] : [batch, channels, steps];
  return {
    x: tensor(rand(product(shape)), shape),
    kernel: rand(k * (channels / groups) * filters, 0.6),
    bias: rand(filters, 0.4),
    rand,
  };
}

test('reference backward is the gradient of the reference forward', () => {
  const check = (c, k, filters, opts) => {
    const y = reference.conv1d(c.x.data, c.x.shape, c.kernel, k, filters, c.bias, opts);
    const dy = c.rand(y.data.length);
    const loss = (x, kernel, bias) => {
      const out = reference.conv1d(x, c.x.shape, kernel, k, filters, bias, opts).data;
      return out.reduce((sum, v, i) => sum + v * dy[i], 0);
    };
    const got = reference.conv1dBackward(c.x.data, c.x.shape, c.kernel, k, filters, c.bias, dy, opts);
    const close = (a, b, what) =>
      a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= 1e-5 + 1e-5 * Math.abs(b[i]), `${what} ${i}: ${v} ${b[i]}`));
    close(got.dx, reference.numericalGradient((v) => loss(v, c.kernel, c.bias), c.x.data), 'dx');
    close(got.dkernel, reference.numericalGradient((v) => loss(c.x.data, v, c.bias), c.kernel), 'dkernel');
    close(got.dbias, reference.numericalGradient((v) => loss(c.x.data, c.kernel, v), c.bias), 'dbias');
  };
  const opts = { strides: 2, padding: 'same', groups: 2, dataFormat: 'channels_first', activation: 'gelu' };
  check(makeCase(1, [2, 7, 4], 3, 4, 2, 'channels_first'), 3, 4, opts);
  check(makeCase(2, [2, 6, 3], 2, 5), 2, 5, { padding: 'causal', dilation: 2, activation: 'softmax' });
});

const CASES = [
  // [input (batch, steps, channels), k, filters, options]
  [[2, 11, 3], 3, 4, {}],
  [[3, 10, 4], 3, 6, { strides: 2, padding: 'same', activation: 'relu' }],
  [[2, 12, 3], 2, 5, { padding: 'causal', dilationRate: 3, activation: 'tanh' }],
  [[2, 9, 6], 3, 4, { groups: 2, padding: 'same', activation: 'gelu' }],
  [[2, 13, 4], 4, 4, { groups: 4, strides: 3, activation: 'sigmoid' }], // depthwise
  [[2, 10, 4], 3, 6, { dataFormat: 'channels_first', strides: 2, activation: 'silu' }],
  [[3, 8, 2], 3, 4, { dataFormat: 'channels_first', padding: 'causal', dilationRate: 2, activation: 'elu' }],
  [[2, 9, 3], 2, 5, { padding: 'same', activation: 'softmax' }],
  [[2, 7, 3], 3, 4, { useBias: false, activation: 'leaky_relu' }],
];

test('backward matches the reference for every geometry', () => {
  CASES.forEach(([dims, k, filters, options], index) => {
    const { useBias = true, dilationRate = 1, ...rest } = options;
    const dataFormat = options.dataFormat || 'channels_last';
    const c = makeCase(100 + index, dims, k, filters, options.groups || 1, dataFormat);
    const layer = conv1d.Conv1D(filters, k, options);
    layer.setWeights(useBias ? [c.kernel, c.bias] : [c.kernel]);
    const y = layer.call(c.x);
    const dy = c.rand(y.data.length);
    const { dx, grads } = layer.backward(c.x, dy);
    assert.deepEqual(Object.keys(grads), useBias ? ['kernel', 'bias'] : ['kernel']);
    const ref = reference.conv1dBackward(c.x.data, c.x.shape, c.kernel, k, filters, useBias ? c.bias : null, dy, {
      ...rest,
      dilation: dilationRate,
    });
    const what = `case ${index}`;
    assertClose(dx, tensor(ref.dx, c.x.shape), { ...TOL, what: `${what} dx` });
    assertClose(grads.kernel, tensor(ref.dkernel, [k, dims[2] / (options.groups || 1), filters]), {
      ...TOL,
      what: `${what} dkernel`,
    });
    if (useBias) assertClose(grads.bias, tensor(ref.dbias, [filters]), { ...TOL, what: `${what} dbias` });
    // Only what is asked for is computed; dy may also be a { data, shape } tensor.
    const partial = layer.backward(c.x, tensor(dy, y.shape), { inputGrad: false, kernelGrad: false });
    assert.equal(partial.dx, null);
    assert.deepEqual(Object.keys(partial.grads), useBias ? ['bias'] : []);
    layer.close();
  });
});

test('accumulate adds micro-batches into out', () => {
  const c = makeCase(7, [4, 9, 3], 3, 4);
  const layer = conv1d.Conv1D(4, 3, { activation: 'tanh' });
  layer.setWeights([c.kernel, c.bias]);
  const dy = c.rand(4 * 7 * 4);
  const whole = layer.backward(c.x, dy);
  const half = (t, n) => tensor(t.data.subarray(n * (t.data.length / 4), (n + 2) * (t.data.length / 4)), [2, 9, 3]);
  const out = layer.backward(half(c.x, 0), dy.subarray(0, dy.length / 2), { inputGrad: false });
  const result = layer.backward(half(c.x, 2), dy.subarray(dy.length / 2), { inputGrad: false, out, accumulate: true });
  assert.equal(result.grads.kernel.data, out.grads.kernel.data); // written in place
  const as64 = (t) => tensor(Float64Array.from(t.data), t.shape);
  assertClose(out.grads.kernel, as64(whole.grads.kernel), { ...TOL, what: 'accumulated dkernel' });
  assertClose(out.grads.bias, as64(whole.grads.bias), { ...TOL, what: 'accumulated dbias' });
  assert.throws(() => layer.backward(c.x, dy, { accumulate: true }), /pass out/);
  assert.throws(() => layer.backward(c.x, dy, { out: { dx: new Float64Array(3), grads: {} } }), /Float32Array/);
  assert.throws(() => layer.backward(c.x, new Float32Array(5)), /dy has 5 values/);
  assert.throws(() => layer.backward(c.x, tensor(dy, [4, 4, 7])), /dy has shape \[4,4,7\]/);
  assert.throws(() => layer.backward(c.x, dy, { inputGrads: false }), /unknown option 'inputGrads'/);
});

test('penalties by hand: L2 without 1/2, L1, activity divided by the batch', () => {
  // Keras' docstring example: L2(0.01) on a (5, 5) output of 2s gives 0.01 * 100 / 5 = 0.2.
  const act = conv1d.Conv1D(5, 1, { activityRegularizer: { class_name: 'L2', config: { l2: 0.01 } } });
  act.setWeights([new Float32Array(15), new Float32Array(5).fill(2)]);
  const y = act.call(new Float32Array(15).fill(1), [5, 1, 3]);
  assert.ok(y.data.every((v) => v === 2));
  assert.equal(act.regularizationLoss(), 0);
  assert.ok(Math.abs(act.regularizationLoss(y) - 0.2) < 1e-12);

  const kernel = Float32Array.from([0.5, -1, 0, 2, -0.25, 1.5]);
  const bias = Float32Array.from([-3, 0, 1]);
  const layer = conv1d.Conv1D(3, 2, {
    kernelRegularizer: 'l2',
    biasRegularizer: { class_name: 'L1', config: { l1: 0.1 } },
  });
  layer.setWeights([tensor(kernel, [2, 1, 3]), bias]);
  const expected = 0.01 * (0.25 + 1 + 0 + 4 + 0.0625 + 2.25) + 0.1 * (3 + 0 + 1);
  assert.ok(Math.abs(layer.regularizationLoss() - expected) < 1e-7 * expected);
  layer.trainable = false; // only trainable weights are penalized
  assert.equal(layer.regularizationLoss(), 0);
  assert.throws(() => layer.regularizationLoss(tensor(new Float32Array(4), [2, 1, 2])), /not an output shape/);
});

test('the penalties gradients are added on request', () => {
  const c = makeCase(8, [3, 8, 2], 3, 4);
  c.bias[1] = 0; // sign(0) = 0 for L1
  const layer = conv1d.Conv1D(4, 3, {
    activation: 'tanh',
    kernelRegularizer: { class_name: 'L2', config: { l2: 0.05 } },
    biasRegularizer: { class_name: 'L1', config: { l1: 0.2 } },
    activityRegularizer: { class_name: 'L2', config: { l2: 0.03 } },
  });
  layer.setWeights([c.kernel, c.bias]);
  const y = layer.call(c.x);
  const dy = c.rand(y.data.length);
  const { dx, grads } = layer.backward(c.x, dy, { regularizers: true });
  // The activity penalty 0.03 * sum(y^2) / batch adds 2 * 0.03 * y / batch to dy.
  const y64 = reference.conv1d(c.x.data, c.x.shape, c.kernel, 3, 4, c.bias, { activation: 'tanh' }).data;
  const ref = reference.conv1dBackward(c.x.data, c.x.shape, c.kernel, 3, 4, c.bias, axpy(dy, 0.02, y64), {
    activation: 'tanh',
  });
  assertClose(dx, tensor(ref.dx, c.x.shape), { ...TOL, what: 'dx + activity' });
  assertClose(grads.kernel, tensor(axpy(ref.dkernel, 0.1, c.kernel), [3, 2, 4]), { ...TOL, what: 'dkernel + L2' });
  const l1 = Float64Array.from(c.bias, (b) => 0.2 * Math.sign(b));
  assertClose(grads.bias, tensor(axpy(ref.dbias, 1, l1), [4]), { ...TOL, what: 'dbias + L1' });
});

test('MaxNorm(axis=[0, 1]) keeps one norm per filter, NonNeg clips the bias', () => {
  const c = makeCase(10, [1, 5, 2], 3, 4);
  for (let i = 0; i < c.kernel.length; i++) c.kernel[i] *= i % 4 === 1 ? 0.1 : 4; // filter 1 below the limit
  const layer = conv1d.Conv1D(4, 3, {
    kernelConstraint: { class_name: 'MaxNorm', config: { max_value: 2, axis: [0, 1] } },
    biasConstraint: 'non_neg',
  });
  const bias = Float32Array.from([-1, 0.5, 0, 3]);
  layer.setWeights([c.kernel, bias]);
  layer.applyConstraints();
  const norms = [0, 0, 0, 0];
  c.kernel.forEach((v, i) => (norms[i % 4] += v * v));
  norms.forEach((n, f) => (norms[f] = Math.sqrt(n)));
  assert.ok(norms[1] < 2 && Math.max(...norms) > 2);
  // Keras: w * clip(n, 0, max) / (eps + n), which shrinks slightly below the limit too.
  const want = Float64Array.from(c.kernel, (v, i) => (v * Math.min(norms[i % 4], 2)) / (1e-7 + norms[i % 4]));
  assertClose(layer.getWeights()[0], tensor(want, [3, 2, 4]), { ...TOL, what: 'max_norm kernel' });
  // Keras' NonNeg multiplies by (w >= 0), so -1 becomes -0: compare as numbers.
  assert.deepEqual(Array.from(layer.bias.data, (v) => v + 0), [0, 0.5, 0, 3]);
  expectError(() => conv1d.Conv1D(4, 3, { kernelConstraint: 'max_norm', loraRank: 2 }).build([null, null, 2]),
    conv1d.Status.INVALID_STATE, 'Lora is incompatible with kernel constraints');
});

/** A built LoRA layer with random factors, and the float64 effective kernel K + alpha / rank A B. */
function loraCase(seed, extra = {}) {
  const c = makeCase(seed, [2, 9, 4], 3, 5);
  const layer = conv1d.Conv1D(5, 3, { padding: 'same', activation: 'tanh', loraRank: 2, loraAlpha: 4, ...extra });
  const a = c.rand(3 * 4 * 2, 0.5);
  const b = c.rand(2 * 5, 0.5);
  layer.setWeights([c.kernel, c.bias, a, tensor(b, [2, 5])]); // builds with LoRA on, then sets the factors
  const effective = Float64Array.from(c.kernel);
  for (let row = 0; row < 12; row++)
    for (let f = 0; f < 5; f++) for (let q = 0; q < 2; q++) effective[row * 5 + f] += 2 * a[row * 2 + q] * b[q * 5 + f];
  return { ...c, layer, a, b, effective };
}

test('LoRA: the effective kernel through forward, the factors gradients', () => {
  const c = loraCase(11, { kernelRegularizer: { class_name: 'L2', config: { l2: 0.1 } } });
  const { layer } = c;
  assert.ok(layer.loraEnabled);
  assert.deepEqual([layer.loraRank, layer.loraAlpha], [2, 4]);
  const y = layer.call(c.x);
  const opts = { padding: 'same', activation: 'tanh' };
  assertClose(y, reference.conv1d(c.x.data, c.x.shape, c.effective, 3, 5, c.bias, opts), { ...TOL, what: 'forward' });
  assertClose(layer.kernel, tensor(c.effective, [3, 4, 5]), { ...TOL, what: 'layer.kernel' });
  assert.deepEqual(layer.getWeights().map((w) => w.shape), [[3, 4, 5], [5], [3, 4, 2], [2, 5]]);

  const dy = c.rand(y.data.length);
  const { dx, grads } = layer.backward(c.x, dy);
  assert.deepEqual(Object.keys(grads), ['bias', 'lora_kernel_a', 'lora_kernel_b']); // the frozen kernel has none
  const ref = reference.conv1dBackward(c.x.data, c.x.shape, c.effective, 3, 5, c.bias, dy, opts);
  assertClose(dx, tensor(ref.dx, c.x.shape), { ...TOL, what: 'dx' });
  // s = alpha / rank = 2: dA = s dK B^T, dB = s A^T dK.
  const da = new Float64Array(24);
  const db = new Float64Array(10);
  for (let row = 0; row < 12; row++) {
    for (let q = 0; q < 2; q++) {
      for (let f = 0; f < 5; f++) {
        da[row * 2 + q] += 2 * ref.dkernel[row * 5 + f] * c.b[q * 5 + f];
        db[q * 5 + f] += 2 * c.a[row * 2 + q] * ref.dkernel[row * 5 + f];
      }
    }
  }
  assertClose(grads.lora_kernel_a, tensor(da, [3, 4, 2]), { ...TOL, what: 'dA' });
  assertClose(grads.lora_kernel_b, tensor(db, [2, 5]), { ...TOL, what: 'dB' });
  // The kernel regularizer applies to the factors, as Keras' enable_lora gives them it.
  const sq = (arr) => arr.reduce((s, v) => s + v * v, 0);
  const penalty = 0.1 * (sq(c.a) + sq(c.b));
  assert.ok(Math.abs(layer.regularizationLoss() - penalty) < 1e-6 * penalty);
  const reg = layer.backward(c.x, dy, { regularizers: true });
  assertClose(reg.grads.lora_kernel_b, tensor(axpy(db, 0.2, c.b), [2, 5]), { ...TOL, what: 'dB + L2' });
});

test('LoRA weight lists follow Keras; enableLora and mergeLora', () => {
  const { layer } = loraCase(12);
  const names = (ws) => ws.map((w) => w.name);
  assert.deepEqual(names(layer.weights), ['kernel', 'bias', 'lora_kernel_a', 'lora_kernel_b']);
  assert.deepEqual(names(layer.trainableWeights), ['bias', 'lora_kernel_a', 'lora_kernel_b']);
  assert.deepEqual(names(layer.nonTrainableWeights), ['kernel']);
  assert.equal(layer.weights[2].path, 'conv1d/lora_kernel_a');
  assert.equal(layer.countParams(), 60 + 5 + 24 + 10);
  assert.throws(() => layer.setWeights(layer.getWeights().slice(0, 2)), /expects 4 arrays/);
  expectError(() => layer.enableLora(3), conv1d.Status.INVALID_STATE, 'lora is already enabled');
  layer.trainable = false;
  assert.deepEqual(layer.trainableWeights, []);
  assert.deepEqual(names(layer.nonTrainableWeights), names(layer.weights));

  const c = makeCase(13, [2, 8, 3], 2, 4);
  const plain = conv1d.Conv1D(4, 2, { seed: 3 });
  assert.throws(() => plain.enableLora(2), /isn't yet built/);
  plain.setWeights([c.kernel, c.bias]);
  const y = plain.call(c.x);
  plain.enableLora(3, 1.5);
  const [, , a, b] = plain.getWeights();
  assert.ok(a.data.some((v) => v !== 0) && b.data.every((v) => v === 0)); // he_uniform A, zero B
  assert.deepEqual(plain.call(c.x).data, y.data);
  const newB = c.rand(12);
  plain.weights[3].assign(newB);
  const yLora = plain.call(c.x);
  plain.mergeLora();
  assert.ok(!plain.loraEnabled);
  assert.equal(plain.loraRank, null);
  assert.deepEqual(names(plain.trainableWeights), ['kernel', 'bias']);
  assertClose(plain.call(c.x), tensor(Float64Array.from(yLora.data), yLora.shape), { ...TOL, what: 'merged' });
  expectError(() => plain.mergeLora(), conv1d.Status.INVALID_STATE, 'does not have LoRA enabled');
  assert.throws(() => plain.weights[1].assign([1, 2]), /bias has 2 values but shape \[4\] needs 4/);
  assert.throws(() => plain.weights[0].assign(tensor(new Float32Array(24), [2, 4, 3])), /kernel has shape \[2,4,3\]/);
});

test('SGD recovers a filter', () => {
  // The pattern of examples/train/train.c: forward, dy, backward with the penalties' gradients,
  // update the trainable weights, apply the constraints.
  const rand = randoms(15);
  const trueKernel = rand(3 * 2 * 2, 0.8);
  const trueBias = Float32Array.from([0.1, -0.2]);
  const layer = conv1d.Conv1D(2, 3, {
    padding: 'causal',
    seed: 1,
    kernelRegularizer: { class_name: 'L2', config: { l2: 1e-5 } },
    kernelConstraint: { class_name: 'MaxNorm', config: { max_value: 3, axis: [0, 1] } },
  });
  layer.build([null, null, 2]);
  const losses = [];
  for (let step = 0; step < 150; step++) {
    const x = tensor(rand(8 * 32 * 2), [8, 32, 2]);
    const target = reference.conv1d(x.data, x.shape, trueKernel, 3, 2, trueBias, { padding: 'causal' }).data;
    const y = layer.call(x);
    const dy = y.data.map((v, i) => (2 * (v - target[i])) / y.data.length);
    losses.push(y.data.reduce((s, v, i) => s + (v - target[i]) ** 2, 0) / y.data.length + layer.regularizationLoss());
    const { grads } = layer.backward(x, dy, { regularizers: true, inputGrad: false });
    for (const w of layer.trainableWeights) {
      const value = w.read();
      w.assign(value.data.map((v, i) => v - 0.3 * grads[w.name].data[i]));
    }
    layer.applyConstraints();
  }
  assert.ok(losses[losses.length - 1] < 1e-3 * losses[0], `loss ${losses[0]} -> ${losses[losses.length - 1]}`);
  const kernel = layer.kernel.data;
  assert.ok(kernel.every((v, i) => Math.abs(v - trueKernel[i]) < 0.02));
});
