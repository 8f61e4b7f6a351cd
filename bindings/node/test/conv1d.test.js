'use strict';
// The Node binding against the float64 reference in reference.js: forward
// numbers, errors with the library's messages, weights and config round trips.
// Run with `node --test test/` (CONV1D_LIBRARY pointing at the built library).

const test = require('node:test');
const assert = require('node:assert/strict');
const os = require('node:os');
const path = require('node:path');

// The library reads keras.json (the default data_format) from $KERAS_HOME when
// it creates a layer: point it at a directory that does not exist, so the
// tests see Keras' defaults whatever the user's ~/.keras says.
process.env.KERAS_HOME = path.join(os.tmpdir(), `conv1d-node-tests-no-keras-home-${process.pid}`);

const conv1d = require('..');
const reference = require('./reference');

const { randoms, assertClose, expectError, kerasConfig } = require('./helpers');

test('reference: hand-worked cross-correlation and TensorFlow padding split', () => {
  const x = [1, 2, 3, 4, 5];
  const same = reference.conv1d(x, [1, 5, 1], [1, 10], 2, 1, null, { padding: 'same' });
  assert.deepEqual(Array.from(same.data), [21, 32, 43, 54, 5]);
  const causal = reference.conv1d(x, [1, 5, 1], [1, 10], 2, 1, null, { padding: 'causal' });
  assert.deepEqual(Array.from(causal.data), [10, 21, 32, 43, 54]);
  assert.deepEqual(reference.pads(10, 3, 2, 'same', 1), [0, 1]);
  assert.ok(Math.abs(reference.erf(0.5) - 0.5204998778) < 2e-7);
});

test('Keras docs example: Conv1D(32, 3, activation="relu") on (4, 10, 128)', () => {
  const rand = randoms(7);
  const x = rand(4 * 10 * 128).map((v) => (v + 1) / 2); // like np.random.rand
  const layer = conv1d.Conv1D(32, 3, { activation: 'relu' });
  assert.equal(layer.built, false);
  const y = layer.call(x, [4, 10, 128]);
  assert.deepEqual(y.shape, [4, 8, 32]);
  assert.equal(layer.inputChannels, 128);
  const [kernel, bias] = layer.getWeights();
  assert.deepEqual(kernel.shape, [3, 128, 32]);
  assert.deepEqual(bias.shape, [32]);
  assert.equal(layer.countParams(), 12320);
  const limit = Math.sqrt(6 / (3 * 128 + 3 * 32)); // glorot_uniform
  assert.ok(kernel.data.every((v) => Math.abs(v) <= limit));
  assert.ok(bias.data.every((v) => v === 0));
  assertClose(y, reference.conv1d(x, [4, 10, 128], kernel.data, 3, 32, bias.data, { activation: 'relu' }));
  assert.ok(y.data.every((v) => v >= 0) && y.data.some((v) => v > 0));
  layer.close();
});

test('geometry: paddings, strides, dilation, groups, data formats, bias', () => {
  let cases = 0;
  for (const dataFormat of ['channels_last', 'channels_first']) {
    for (const padding of ['valid', 'same', 'causal']) {
      for (const [strides, dilation] of [[1, 1], [2, 1], [3, 1], [1, 2], [1, 3]]) {
        for (const k of [1, 2, 3, 4]) {
          for (const groups of [1, 2]) {
            const useBias = (k + groups) % 2 === 0;
            const rand = randoms(1 + cases);
            const [batch, steps, channels, filters] = [2, 13, 6, 4];
            const shape = dataFormat === 'channels_last' ? [batch, steps, channels] : [batch, channels, steps];
            const x = rand(batch * steps * channels);
            const kernel = rand(k * (channels / groups) * filters, 0.5);
            const bias = useBias ? rand(filters) : null;
            const layer = new conv1d.Conv1D({
              filters,
              kernelSize: [k],
              strides: [strides],
              padding,
              dataFormat,
              dilationRate: dilation,
              groups,
              useBias,
            });
            layer.setWeights(bias ? [{ data: kernel, shape: [k, channels / groups, filters] }, bias] : [kernel]);
            const opts = { strides, padding, dilation, groups, dataFormat };
            const expected = reference.conv1d(x, shape, kernel, k, filters, bias, opts);
            assertClose(layer.call({ data: x, shape }), expected);
            assert.deepEqual(layer.computeOutputShape(shape), expected.shape);
            assert.deepEqual(layer.paddingAmounts(steps), reference.pads(steps, k, strides, padding, dilation));
            layer.close();
            cases++;
          }
        }
      }
    }
  }
  assert.equal(cases, 240);
});

test('activations, including the axis-wise ones on the last axis', () => {
  for (const dataFormat of ['channels_last', 'channels_first']) {
    for (const activation of [...Object.keys(reference.ELEMENTWISE), 'softmax', 'glu']) {
      const rand = randoms(99);
      const shape = dataFormat === 'channels_last' ? [2, 12, 6] : [2, 6, 12];
      const x = rand(2 * 12 * 6);
      const kernel = rand(3 * 6 * 8, 0.5);
      const bias = rand(8);
      const layer = conv1d.Conv1D(8, 3, { padding: 'causal', activation, dataFormat });
      layer.setWeights([kernel, bias]);
      const expected = reference.conv1d(x, shape, kernel, 3, 8, bias, { padding: 'causal', activation, dataFormat });
      const y = layer.call(x, shape);
      assertClose(y, expected);
      assert.deepEqual(layer.computeOutputShape(shape), y.shape);
      if (activation === 'glu') assert.deepEqual(y.shape, dataFormat === 'channels_last' ? [2, 12, 4] : [2, 8, 6]);
      layer.close();
    }
  }
});

test('inputs: nested arrays, Float64Array, subarray views, lazy build from channels_first', () => {
  const rand = randoms(5);
  const layer = conv1d.Conv1D(5, 3, { padding: 'same', seed: 1 });
  const x = rand(3 * 11 * 4);
  const y = layer.call(x, [3, 11, 4]);
  assert.deepEqual(Array.from(layer.call(Float64Array.from(x), [3, 11, 4]).data), Array.from(y.data));
  const nested = [];
  for (let n = 0; n < 3; n++) {
    nested.push([]);
    for (let t = 0; t < 11; t++) nested[n].push(Array.from(x.subarray((n * 11 + t) * 4, (n * 11 + t + 1) * 4)));
  }
  const fromNested = layer.call(nested);
  assert.deepEqual(fromNested.shape, [3, 11, 5]);
  assert.deepEqual(Array.from(fromNested.data), Array.from(y.data));
  const padded = new Float32Array(x.length + 7);
  padded.set(x, 7);
  assert.deepEqual(Array.from(layer.call(padded.subarray(7), [3, 11, 4]).data), Array.from(y.data));
  const [kernel, bias] = layer.getWeights();
  assertClose(y, reference.conv1d(x, [3, 11, 4], kernel.data, 3, 5, bias.data, { padding: 'same' }));
  assert.throws(() => layer.call(x, [3, 11, 5]), RangeError);
  assert.throws(() => layer.call(x, [132]), /expected ndim=3/);
  assert.throws(() => layer.call(x), TypeError);

  const first = conv1d.Conv1D(4, 3, { dataFormat: 'channels_first' });
  const out = first.call(new Float32Array(2 * 5 * 9).fill(1), [2, 5, 9]);
  assert.equal(first.inputChannels, 5);
  assert.deepEqual(out.shape, [2, 4, 7]);
  assert.deepEqual(first.kernel.shape, [3, 5, 4]);
  assert.deepEqual(first.getBuildConfig(), { input_shape: [2, 5, 9] });
});

test('every algorithm and instruction-set cap gives the reference numbers', () => {
  const rand = randoms(21);
  const x = rand(2 * 31 * 16);
  const kernel = rand(5 * 16 * 24, 0.3);
  const bias = rand(24);
  const expected = reference.conv1d(x, [2, 31, 16], kernel, 5, 24, bias, { padding: 'same', activation: 'tanh' });
  for (const algorithm of ['reference', 'direct', 'gemm', 'auto']) {
    for (const maxIsa of ['scalar', 'avx2', 'avx512']) {
      const layer = conv1d.Conv1D(24, 5, { padding: 'same', activation: 'tanh', algorithm, maxIsa, numThreads: 1 });
      layer.setWeights([kernel, bias]);
      assert.equal(layer.algorithm, algorithm);
      assertClose(layer.call(x, [2, 31, 16]), expected);
      if (algorithm !== 'auto') assert.equal(layer.queryAlgorithm(2, 31), algorithm);
      assert.ok(layer.describePlan(2, 31).includes('batch=2 steps=31'));
      layer.close();
    }
  }
});

test('errors carry the status and the library message', () => {
  expectError(() => conv1d.Conv1D(0, 3), conv1d.Status.INVALID_SIZE, 'Invalid value for argument `filters`',
    'Received filters=0');
  expectError(() => conv1d.Conv1D(-2, 3), conv1d.Status.INVALID_SIZE, 'filters=-2');
  expectError(() => conv1d.Conv1D(4, 3, { strides: 2, dilationRate: 2 }), conv1d.Status.STRIDES_WITH_DILATION,
    '`strides > 1` not supported');
  expectError(() => conv1d.Conv1D(4, 3, { groups: 3 }), conv1d.Status.GROUPS_MISMATCH, 'groups=3, filters=4');
  expectError(() => conv1d.Conv1D(4, 3, { padding: 'full' }), conv1d.Status.UNKNOWN_NAME, 'Received: full');
  expectError(() => conv1d.Conv1D(4, 3, { activation: 'Relu' }), conv1d.Status.UNKNOWN_NAME, "did you mean 'relu'");
  expectError(() => conv1d.Conv1D(4, 3, { activation: 'threshold' }), conv1d.Status.UNSUPPORTED, 'threshold');
  expectError(() => conv1d.Conv1D(4, 3, { kernelInitializer: '{bad' }), conv1d.Status.PARSE, 'parse error');
  expectError(() => conv1d.Conv1D(4, 3, { name: 'a/b' }), conv1d.Status.INVALID_VALUE, 'character `/`');
  expectError(() => conv1d.Conv1D(4, 3, { numThreads: -1 }), conv1d.Status.INVALID_VALUE, 'num_threads');

  const layer = conv1d.Conv1D(32, 3, { activation: 'relu' });
  const ones = new Float32Array(4 * 10 * 128).fill(1);
  const y = layer.call(ones, [4, 10, 128]);
  expectError(() => layer.call(new Float32Array(4 * 10 * 64), [4, 10, 64]), conv1d.Status.CHANNELS_MISMATCH,
    'expected axis -1 of input shape to have value 128', '(4, 10, 64)');
  assert.deepEqual(layer.call(ones, [4, 10, 128]).data, y.data); // the failed call changed nothing
  expectError(() => layer.call(new Float32Array(1 * 2 * 128), [1, 2, 128]), conv1d.Status.EMPTY_OUTPUT,
    'zero or negative');

  const small = conv1d.Conv1D(4, 3);
  small.build([null, null, 5]);
  const [kernel, bias] = small.getWeights();
  expectError(() => small.setWeights([{ data: new Float32Array(48), shape: [3, 4, 4] }, bias]),
    conv1d.Status.LENGTH_MISMATCH, 'kernel_len=48', 'needs exactly 60 floats');
  expectError(() => small.setWeights([kernel, new Float32Array(3)]), conv1d.Status.LENGTH_MISMATCH, 'bias_len=3');
  expectError(() => small.setWeights([kernel]), conv1d.Status.LENGTH_MISMATCH, 'bias_len=0');
  assert.throws(() => small.setWeights([{ data: kernel.data, shape: [3, 4, 5] }, bias]), /needs \[3,5,4\]/);
  assert.deepEqual(small.getWeights(), [kernel, bias]);
  const noBias = conv1d.Conv1D(4, 3, { useBias: false });
  expectError(() => noBias.setWeights([kernel, bias]), conv1d.Status.INVALID_VALUE, 'use_bias');

  expectError(() => conv1d.Conv1D(4, 3, { kernelRegularizer: 'l1_l2' }), conv1d.Status.UNKNOWN_NAME,
    'Could not interpret regularizer identifier: l1_l2');
  assert.throws(() => conv1d.Conv1D(4, 3, { biasConstraint: 2 }), /biasConstraint must be a Keras name/);
  expectError(() => conv1d.Conv1D(4, 3, { dtype: 'float16' }), conv1d.Status.UNSUPPORTED, "dtype policy 'float16'");
  assert.throws(() => conv1d.Conv1D(4, 3, { padidng: 'same' }), /unknown option 'padidng'/);
  assert.throws(() => conv1d.Conv1D(4, [3, 3]), RangeError);
  assert.throws(() => conv1d.Conv1D(4, 3.5), RangeError);
  assert.throws(() => conv1d.Conv1D(4, 3).kernel, /build the layer/);

  small.close();
  small.close();
  assert.ok(small.closed);
  assert.throws(() => small.getWeights(), /closed/);
});

test('weights round trip in Keras layout', () => {
  const rand = randoms(12);
  const kernel = rand(3 * 5 * 4);
  const bias = rand(4);
  const layer = conv1d.Conv1D(4, 3);
  assert.deepEqual(layer.getWeights(), []);
  layer.setWeights([{ data: kernel, shape: [3, 5, 4] }, bias]); // builds: 5 input channels
  assert.equal(layer.inputChannels, 5);
  const [k, b] = layer.getWeights();
  assert.deepEqual(k, { data: kernel, shape: [3, 5, 4] });
  assert.deepEqual(b, { data: bias, shape: [4] });
  k.data.fill(0); // a copy
  assert.deepEqual(layer.kernel.data, kernel);
  assert.deepEqual(layer.bias.data, bias);

  const grouped = conv1d.Conv1D(6, 3, { groups: 2, useBias: false });
  grouped.setWeights([rand(3 * 4 * 6)]);
  assert.equal(grouped.inputChannels, 8);
  assert.equal(grouped.getWeights().length, 1);
  assert.equal(grouped.bias, null);

  const seeded = (seed) => {
    const l = conv1d.Conv1D(8, 3, { seed });
    l.build([null, null, 4]);
    return Array.from(l.kernel.data);
  };
  assert.deepEqual(seeded(42), seeded(42));
  assert.notDeepEqual(seeded(42), seeded(43));
});

// keras.layers.Conv1D(32, 3, activation="relu").get_config() as JSON, Keras >= 3.15.
const KERAS_CONFIG = kerasConfig();

test('getConfig is the Keras config, and fromConfig round-trips it', () => {
  const config = conv1d.Conv1D(32, 3, { activation: 'relu' }).getConfig();
  assert.deepEqual(Object.keys(config), Object.keys(KERAS_CONFIG));
  assert.deepEqual(config, KERAS_CONFIG);
  assert.deepEqual(conv1d.Conv1D.fromConfig(KERAS_CONFIG).getConfig(), KERAS_CONFIG);

  const custom = new conv1d.Conv1D({
    filters: 6,
    kernelSize: 5,
    strides: 2,
    padding: 'Causal',
    dataFormat: 'channels_first',
    groups: 3,
    activation: 'gelu',
    useBias: false,
    kernelInitializer: { class_name: 'HeNormal', config: { seed: 7 } },
    biasInitializer: { class_name: 'Constant', config: { value: 0.25 } },
    name: 'my_conv',
    trainable: false,
  });
  const c = custom.getConfig();
  assert.equal(c.padding, 'causal');
  assert.deepEqual([c.kernel_size, c.strides, c.groups, c.use_bias, c.trainable], [[5], [2], 3, false, false]);
  assert.equal(c.kernel_initializer.class_name, 'HeNormal');
  assert.equal(c.kernel_initializer.config.seed, 7);
  const again = conv1d.Conv1D.fromConfig(JSON.parse(JSON.stringify(c)));
  assert.deepEqual(again.getConfig(), c);
  // The library reads the config, and names the key it refuses.
  expectError(() => conv1d.Conv1D.fromConfig({ ...KERAS_CONFIG, bogus: 1 }), conv1d.Status.PARSE,
    "'bogus' is not a Conv1D argument");
});

test('the spec example is written byte for byte, and model entries round-trip', () => {
  // The library writes Keras 3.15's get_config(): same keys, order and values, so the same JSON text.
  assert.equal(JSON.stringify(conv1d.Conv1D(32, 3, { activation: 'relu' }).getConfig()), JSON.stringify(KERAS_CONFIG));
  assert.equal(JSON.stringify(conv1d.Conv1D.fromConfig(JSON.stringify(KERAS_CONFIG)).getConfig()),
    JSON.stringify(KERAS_CONFIG));

  const entry = {
    module: 'keras.layers',
    class_name: 'Conv1D',
    config: { ...KERAS_CONFIG, name: 'conv1d_3' },
    registered_name: null,
    build_config: { input_shape: [null, 10, 128] },
  };
  const built = conv1d.Conv1D.fromConfig(entry); // a build_config builds at once
  assert.ok(built.built);
  assert.equal(built.inputChannels, 128);
  assert.deepEqual(built.getWeights()[0].shape, [3, 128, 32]);
  assert.equal(JSON.stringify(built.serialize()), JSON.stringify(entry));
  assert.equal(JSON.stringify(conv1d.serialize(built)), JSON.stringify(entry));

  const { build_config: _, ...unbuiltEntry } = entry;
  const lazy = conv1d.deserialize(unbuiltEntry); // none: it builds on its first call, as in Keras
  assert.ok(!lazy.built);
  assert.ok(!('build_config' in lazy.serialize()));
  assert.deepEqual(lazy.call(new Float32Array(2 * 10 * 7), [2, 10, 7]).shape, [2, 8, 32]);
  assert.deepEqual(lazy.getBuildConfig(), { input_shape: [2, 10, 7] });

  const first = conv1d.Conv1D.fromConfig({
    ...entry,
    config: { ...entry.config, data_format: 'channels_first' },
    build_config: { input_shape: [null, 6, null] },
  });
  assert.equal(first.inputChannels, 6); // channels_first: axis 1
  expectError(() => conv1d.Conv1D.fromConfig({ class_name: 'Conv2D', config: KERAS_CONFIG }),
    conv1d.Status.UNSUPPORTED, 'Conv2D');
  expectError(() => conv1d.Conv1D.fromConfig('{'), conv1d.Status.PARSE, 'not JSON');
  assert.throws(() => conv1d.Conv1D.fromConfig(42), TypeError);
});

test('training options round-trip through the config in Keras order', () => {
  const layer = conv1d.Conv1D(8, 5, {
    padding: 'causal',
    groups: 2,
    useBias: false,
    kernelRegularizer: { class_name: 'L1L2', config: { l1: 0.01, l2: 0.02 } },
    biasRegularizer: 'l1',
    activityRegularizer: { class_name: 'L2', config: { l2: 0.001 } },
    biasConstraint: 'non_neg',
    loraRank: 2,
    loraAlpha: 4,
    trainable: false,
  });
  const config = layer.getConfig();
  // A set activity_regularizer sits right after dtype (Layer.get_config), lora_* come last.
  assert.deepEqual(Object.keys(config), [
    'name', 'trainable', 'dtype', 'activity_regularizer', 'filters', 'kernel_size', 'strides', 'padding',
    'data_format', 'dilation_rate', 'groups', 'activation', 'use_bias', 'kernel_initializer', 'bias_initializer',
    'kernel_regularizer', 'bias_regularizer', 'kernel_constraint', 'bias_constraint', 'lora_rank', 'lora_alpha',
  ]);
  assert.deepEqual([config.trainable, config.lora_rank, config.lora_alpha], [false, 2, 4]);
  assert.deepEqual(config.kernel_regularizer, {
    module: 'keras.regularizers', class_name: 'L1L2', config: { l1: 0.01, l2: 0.02 }, registered_name: null,
  });
  assert.deepEqual(config.bias_regularizer.config, { l1: 0.01 });
  assert.equal(config.bias_constraint.class_name, 'NonNeg');
  assert.deepEqual(layer.kernelRegularizer, config.kernel_regularizer);
  assert.equal(layer.kernelConstraint, null);
  const again = conv1d.Conv1D.fromConfig(config);
  assert.equal(JSON.stringify(again.getConfig()), JSON.stringify(config));
  assert.deepEqual([again.trainable, again.loraRank, again.loraAlpha, again.built], [false, 2, 4, false]);
  // bias_initializer null is Keras' None, a glorot_uniform bias; the library writes the initializer it uses.
  assert.equal(conv1d.Conv1D(4, 3, { biasInitializer: null }).getConfig().bias_initializer.class_name,
    'GlorotUniform');
});

test('execution settings and library information', () => {
  const layer = conv1d.Conv1D(4, 3, { algorithm: 'reference', numThreads: 2, find: true });
  assert.deepEqual([layer.algorithm, layer.numThreads, layer.find, layer.verbose], ['reference', 2, true, false]);
  layer.algorithm = 'direct';
  layer.numThreads = 0;
  assert.deepEqual([layer.algorithm, layer.numThreads], ['direct', 0]);
  assert.equal(layer.seed, null);
  layer.seed = 9;
  assert.equal(layer.seed, 9);
  assert.ok(!('algorithm' in layer.getConfig()));
  assert.ok(['scalar', 'avx2', 'avx512'].includes(conv1d.cpuIsa()));
  assert.match(conv1d.version(), /^1\.\d+\.\d+$/);
  assert.ok(conv1d.Conv1D(2, 1) instanceof conv1d.Conv1D);
  assert.ok(new conv1d.Conv1D(2, 1) instanceof conv1d.Conv1D);
});

test('an explicit library path that fails is reported', () => {
  const { spawnSync } = require('node:child_process');
  const run = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(__dirname, '..'))}).version()`], {
    env: { ...process.env, CONV1D_LIBRARY: '/nonexistent/libconv1d.so.1' },
    encoding: 'utf8',
  });
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, /cannot load libconv1d/);
  assert.match(run.stderr, /\/nonexistent\/libconv1d\.so\.1/);
  assert.match(run.stderr, /CONV1D_LIBRARY/);
});
