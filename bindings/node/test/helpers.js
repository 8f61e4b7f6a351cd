'use strict';
// Helpers shared by the binding's tests: a deterministic generator, a
// tolerance check against the float64 reference, and the Conv1DError check.

const assert = require('node:assert/strict');

const conv1d = require('..');

// A small deterministic generator (xorshift32), values uniform in [-1, 1).
function randoms(seed) {
  let s = seed >>> 0 || 1;
  return (count, scale = 1) => {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      out[i] = ((s / 4294967296) * 2 - 1) * scale;
    }
    return out;
  };
}

/** actual ({ data: Float32Array, shape }) within atol + rtol |e| of the float64 expected. */
function assertClose(actual, expected, { rtol = 1e-4, atol = 1e-5, what = 'output' } = {}) {
  assert.deepEqual(actual.shape, expected.shape, `${what} shape`);
  assert.ok(actual.data instanceof Float32Array);
  assert.equal(actual.data.length, expected.data.length);
  let worst = 0;
  for (let i = 0; i < expected.data.length; i++) {
    const a = actual.data[i];
    const e = expected.data[i];
    assert.ok(Number.isFinite(a), `${what} ${i} is ${a}`);
    const excess = Math.abs(a - e) - (atol + rtol * Math.abs(e));
    worst = Math.max(worst, excess);
    if (excess > 0) assert.fail(`${what} ${i}: ${a} vs reference ${e}`);
  }
  return worst;
}

function expectError(fn, status, ...parts) {
  let caught = null;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught, 'expected a Conv1DError');
  assert.ok(caught instanceof conv1d.Conv1DError, `not a Conv1DError: ${caught}`);
  assert.ok(caught instanceof Error);
  assert.equal(caught.status, status, `status ${caught.status} (${caught.message})`);
  assert.equal(caught.name, 'Conv1DError');
  const statusName = Object.keys(conv1d.Status).find((k) => conv1d.Status[k] === status);
  assert.equal(caught.code, `CONV1D_ERROR_${statusName}`);
  for (const part of parts) assert.ok(caught.message.includes(part), `'${part}' not in: ${caught.message}`);
  return caught;
}

/** keras.layers.Conv1D(32, 3, activation="relu").get_config() as JSON (Keras >= 3.15), with
 *  `overrides` replacing values in place, so the key order stays Keras'. */
function kerasConfig(overrides = {}) {
  const config = {
  name: 'conv1d',
  trainable: true,
  dtype: { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null },
  filters: 32,
  kernel_size: [3],
  strides: [1],
  padding: 'valid',
  data_format: 'channels_last',
  dilation_rate: [1],
  groups: 1,
  activation: 'relu',
  use_bias: true,
  kernel_initializer: {
    module: 'keras.initializers',
    class_name: 'GlorotUniform',
    config: { seed: null, input_axes: null, output_axes: null },
    registered_name: null,
  },
  bias_initializer: { module: 'keras.initializers', class_name: 'Zeros', config: {}, registered_name: null },
  kernel_regularizer: null,
  bias_regularizer: null,
  activity_regularizer: null,
  kernel_constraint: null,
  bias_constraint: null,
};
  for (const key of Object.keys(overrides)) {
    if (!(key in config)) throw new Error(`kerasConfig: ${key} is not a Conv1D config key`);
    config[key] = overrides[key];
  }
  return config;
}

module.exports = { randoms, assertClose, expectError, kerasConfig };
