'use strict';
// Train a Conv1D through the Node binding with plain SGD: recover a known
// causal filter from noisy observations (the Node twin of examples/train/train.c).
//
//   y_true = conv(x, W_true) + b_true + noise      (x uniform, noise sigma 0.01)
//   loss   = mean((layer(x) - y_true)^2) + layer.regularizationLoss()
//
// Each step: forward, the loss gradient dy = 2 (y - y_true) / count,
// layer.backward(x, dy, { regularizers: true }) for the gradients (with the L2
// penalty's), an SGD update of each of layer.trainableWeights, then
// layer.applyConstraints() for the MaxNorm(2, axis=[0, 1]) kernel constraint,
// as a Keras optimizer would.
//
// Run from a checkout after building and `npm install` in bindings/node:
//   node examples/node/train.js
// Exits 0 when the loss falls below 3e-4 (the noise floor is 1e-4) and every
// learned kernel value is within 0.02 of the true one.

const path = require('node:path');
const conv1d = require(path.join(__dirname, '..', '..', 'bindings', 'node'));

const [FILTERS, KERNEL, CHANNELS, BATCH, STEPS, EPOCHS] = [2, 5, 2, 16, 64, 300];
const LEARNING_RATE = 0.3;

// xorshift32 in [-1, 1), and a Box-Muller normal.
let state = 2024;
function uniform() {
  state ^= state << 13;
  state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  return (state / 4294967296) * 2 - 1;
}
function normal() {
  const u1 = 0.5 * (uniform() + 1) + 1e-12;
  const u2 = 0.5 * (uniform() + 1);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

// The filter to recover, in Keras layout (kernel_size, channels, filters).
const wTrue = Float32Array.from([
  0.5, -0.3, 0.2, 0.1, -0.4, 0.6, 0.3, 0.0, 0.1, -0.2, 0.0, 0.4, -0.6, -0.1, 0.25, -0.5, 0.2, 0.3, 0.7, 0.15,
]);
const bTrue = Float32Array.from([0.1, -0.2]);

// The teacher makes the targets; the student has Keras' default initializers,
// an L2 penalty on the kernel and a per-filter MaxNorm constraint.
const teacher = conv1d.Conv1D(FILTERS, KERNEL, { padding: 'causal' });
teacher.setWeights([{ data: wTrue, shape: [KERNEL, CHANNELS, FILTERS] }, bTrue]);
const layer = conv1d.Conv1D(FILTERS, KERNEL, {
  padding: 'causal',
  seed: 1,
  kernelRegularizer: { class_name: 'L2', config: { l2: 0.0001 } },
  kernelConstraint: { class_name: 'MaxNorm', config: { max_value: 2.0, axis: [0, 1] } },
});
layer.build([null, null, CHANNELS]);

let loss = 0;
for (let epoch = 0; epoch < EPOCHS; epoch++) {
  const x = { data: new Float32Array(BATCH * STEPS * CHANNELS).map(uniform), shape: [BATCH, STEPS, CHANNELS] };
  const yTrue = teacher.call(x).data.map((v) => v + 0.01 * normal()); // a fresh batch each step

  const y = layer.call(x);
  const dy = new Float32Array(y.data.length);
  loss = 0;
  for (let i = 0; i < y.data.length; i++) {
    const error = y.data[i] - yTrue[i];
    loss += error * error;
    dy[i] = (2 * error) / y.data.length;
  }
  loss /= y.data.length;
  if (epoch % 25 === 0 || epoch === EPOCHS - 1) {
    const penalty = layer.regularizationLoss();
    console.log(`step ${String(epoch).padStart(3)}  loss ${loss.toFixed(6)}  (+ L2 penalty ${penalty.toFixed(6)})`);
  }

  const { grads } = layer.backward(x, dy, { inputGrad: false, regularizers: true });
  for (const weight of layer.trainableWeights) {
    // kernel and bias
    const grad = grads[weight.name].data;
    weight.assign(weight.read().data.map((v, i) => v - LEARNING_RATE * grad[i]));
  }
  layer.applyConstraints();
}

const learned = layer.kernel.data;
const maxErr = Math.max(...Array.from(learned, (v, i) => Math.abs(v - wTrue[i])));
console.log(`final loss ${loss.toFixed(6)}, largest kernel error ${maxErr.toFixed(4)}`);
layer.close();
teacher.close();
if (loss > 3e-4 || maxErr > 0.02) {
  console.error('training did not converge');
  process.exitCode = 1;
} else {
  console.log('recovered the filter');
}
