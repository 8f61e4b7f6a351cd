'use strict';
// The Keras-like Conv1D class over libconv1d's opaque layer handle.
//
// Tensors are plain objects { data: Float32Array, shape: [d0, d1, d2] } in
// row-major order, in the layer's data format: channels_last (batch, steps,
// channels) or channels_first (batch, channels, steps). Weights use the
// Keras layout: kernel (kernel_size, in_channels / groups, filters), bias
// (filters).

const native = require('./native');

/** conv1d_param values (include/conv1d/conv1d.h). Never renumbered. */
const Param = Object.freeze({
  FILTERS: 100,
  KERNEL_SIZE: 101,
  STRIDES: 102,
  DILATION_RATE: 103,
  GROUPS: 104,
  PADDING: 105,
  DATA_FORMAT: 106,
  USE_BIAS: 107,
  IN_CHANNELS: 108,
  ACTIVATION: 200,
  KERNEL_INITIALIZER: 201,
  BIAS_INITIALIZER: 202,
  SEED: 203,
  // 300-399 are reserved by the C API for training (regularizers,
  // constraints, LoRA); they get values here when the library defines them.
  ALGORITHM: 400,
  VERBOSE: 401,
  NUM_THREADS: 402,
  MAX_ISA: 403,
  FIND: 404,
  NAME: 500,
});

// Keras arguments the C API cannot express yet: each must be absent or null,
// anything else throws rather than being silently ignored.
// TODO(training): when conv1d.h gains parameters 300-399 and conv1d_backward,
// set these like the initializers (JSON), report them in getConfig(), and
// add backward(x, dy) next to call() using asTensor() for x and dy.
const TRAINING_OPTIONS = {
  kernelRegularizer: 'kernel_regularizer',
  biasRegularizer: 'bias_regularizer',
  activityRegularizer: 'activity_regularizer',
  kernelConstraint: 'kernel_constraint',
  biasConstraint: 'bias_constraint',
  loraRank: 'lora_rank',
  loraAlpha: 'lora_alpha',
};

// Options of the constructor and the Keras get_config() key of each (null:
// not part of the Keras config).
const OPTION_KEYS = {
  filters: 'filters',
  kernelSize: 'kernel_size',
  strides: 'strides',
  padding: 'padding',
  dataFormat: 'data_format',
  dilationRate: 'dilation_rate',
  groups: 'groups',
  activation: 'activation',
  useBias: 'use_bias',
  kernelInitializer: 'kernel_initializer',
  biasInitializer: 'bias_initializer',
  name: 'name',
  trainable: 'trainable',
  dtype: 'dtype',
  ...TRAINING_OPTIONS,
  seed: null,
  algorithm: null,
  numThreads: null,
  maxIsa: null,
  verbose: null,
  find: null,
};
const OPTION_OF_KERAS_KEY = Object.fromEntries(
  Object.entries(OPTION_KEYS)
    .filter(([, key]) => key !== null)
    .map(([option, key]) => [key, option]),
);

const DTYPE_POLICY = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' }, registered_name: null };

const registry = new FinalizationRegistry((handle) => native.lib().destroy(handle));

function oneTuple(value, name) {
  if (Array.isArray(value) && value.length === 1) value = value[0];
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(
      `The \`${name}\` argument must be an integer or an array of 1 integer. Received ${name}=${JSON.stringify(value)}`,
    );
  }
  return value;
}

function checkInteger(value, what) {
  if (!Number.isSafeInteger(value)) throw new TypeError(`${what} must be an integer, got ${String(value)}`);
  return value;
}

function dtypeName(dtype) {
  let name = dtype;
  if (dtype === undefined || dtype === null) name = 'float32';
  else if (typeof dtype === 'object') {
    name = dtype.class_name === 'DTypePolicy' && dtype.config ? dtype.config.name : null;
  }
  if (name !== 'float32') {
    throw new Error(`libconv1d computes in float32 only; dtype=${JSON.stringify(dtype)} is not supported`);
  }
  return name;
}

function toFloat32(data, what) {
  if (data instanceof Float32Array) return data; // passed to the library in place
  if (Array.isArray(data) && data.some((v) => typeof v !== 'number')) {
    throw new TypeError(`${what} must hold numbers (a flat array with a shape, or a nested array without one)`);
  }
  if (Array.isArray(data) || (ArrayBuffer.isView(data) && !(data instanceof DataView))) {
    return Float32Array.from(data, Number); // a copy: the library reads float32
  }
  throw new TypeError(`${what} must be a Float32Array, another typed array or an array of numbers`);
}

function nestedShape(array) {
  const shape = [];
  for (let level = array; Array.isArray(level); level = level[0]) shape.push(level.length);
  return shape;
}

/**
 * A { data: Float32Array, shape } from a tensor-like object, from data with a
 * shape, or from a nested array whose shape is inferred.
 */
function asTensor(x, shape, what) {
  let data = x;
  if (shape === undefined && x !== null && typeof x === 'object' && !Array.isArray(x) && !ArrayBuffer.isView(x)) {
    ({ data, shape } = x);
  } else if (shape === undefined && Array.isArray(x)) {
    shape = nestedShape(x);
    data = x.flat(shape.length - 1);
  }
  if (!Array.isArray(shape)) throw new TypeError(`${what}: give its shape (an array of dimensions)`);
  shape = shape.map((d) => checkInteger(d, `${what} shape entries`));
  data = toFloat32(data, what);
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) {
    throw new RangeError(`${what} has ${data.length} values but shape [${shape}] needs ${size}`);
  }
  return { data, shape };
}

function sameShape(a, b) {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

class Conv1DLayer {
  /**
   * new Conv1D(filters, kernelSize, options) or new Conv1D({ filters, kernelSize, ...options }),
   * also callable without `new`. Options (camelCase Keras arguments): strides, padding, dataFormat,
   * dilationRate, groups, activation, useBias, kernelInitializer, biasInitializer (a Keras name or a
   * serialized Keras object), name, trainable, dtype ('float32' only); execution settings, not part
   * of the Keras config: seed, algorithm, numThreads, maxIsa, verbose, find. The training arguments
   * (kernelRegularizer, ..., loraRank) must be null until the library supports them.
   */
  constructor(filters, kernelSize, options) {
    let opts;
    if (filters !== null && typeof filters === 'object' && !Array.isArray(filters)) {
      if (kernelSize !== undefined || options !== undefined) {
        throw new TypeError('Conv1D takes (filters, kernelSize, options) or ({filters, kernelSize, ...})');
      }
      opts = { ...filters };
    } else {
      opts = { ...(options || {}) };
      if ('filters' in opts || 'kernelSize' in opts) {
        throw new TypeError('filters and kernelSize are given twice');
      }
      opts.filters = filters;
      opts.kernelSize = kernelSize;
    }
    for (const key of Object.keys(opts)) {
      if (!(key in OPTION_KEYS)) throw new TypeError(`Conv1D: unknown option '${key}'`);
    }
    for (const option of Object.keys(TRAINING_OPTIONS)) {
      if (opts[option] !== undefined && opts[option] !== null) {
        throw new Error(
          `Conv1D option ${option} is not supported yet: this binding wraps the forward API of libconv1d 1.0, ` +
            'which has no regularizers, constraints or LoRA',
        );
      }
    }
    dtypeName(opts.dtype);
    const kernel = oneTuple(opts.kernelSize, 'kernel_size');
    const strides = oneTuple(opts.strides === undefined ? 1 : opts.strides, 'strides');
    const dilation = oneTuple(opts.dilationRate === undefined ? 1 : opts.dilationRate, 'dilation_rate');
    checkInteger(opts.filters, 'filters');

    this.lib = native.lib();
    this.trainable = opts.trainable === undefined ? true : Boolean(opts.trainable);
    this.buildInputShape = null;
    const out = [null];
    this.lib.create(opts.filters, kernel, out);
    this.handle = out[0];
    registry.register(this, this.handle, this);
    try {
      this.setInt(Param.STRIDES, strides);
      this.setInt(Param.DILATION_RATE, dilation);
      if (opts.groups !== undefined) this.setInt(Param.GROUPS, opts.groups);
      if (opts.padding !== undefined) this.setText(Param.PADDING, opts.padding);
      if (opts.dataFormat !== undefined && opts.dataFormat !== null) this.setText(Param.DATA_FORMAT, opts.dataFormat);
      const activation = opts.activation === undefined || opts.activation === null ? 'linear' : opts.activation;
      this.setText(Param.ACTIVATION, activation);
      if (opts.useBias !== undefined) this.setInt(Param.USE_BIAS, opts.useBias ? 1 : 0);
      if (opts.kernelInitializer !== undefined) this.setInitializer(Param.KERNEL_INITIALIZER, opts.kernelInitializer);
      if (opts.biasInitializer !== undefined) this.setInitializer(Param.BIAS_INITIALIZER, opts.biasInitializer);
      if (opts.name !== undefined && opts.name !== null) this.setText(Param.NAME, opts.name);
      for (const knob of ['seed', 'algorithm', 'numThreads', 'maxIsa', 'verbose', 'find']) {
        if (opts[knob] !== undefined && opts[knob] !== null) this[knob] = opts[knob];
      }
    } catch (error) {
      this.close();
      throw error;
    }
  }

  // ---- handle lifetime ----

  /** Free the C layer now; the object is unusable afterwards. Calling it twice is fine. */
  close() {
    const handle = this.handle;
    this.handle = null;
    if (handle) {
      registry.unregister(this);
      this.lib.destroy(handle);
    }
  }

  dispose() {
    this.close();
  }

  get closed() {
    return !this.handle;
  }

  h() {
    if (!this.handle) throw new Error('operation on a closed Conv1D layer');
    return this.handle;
  }

  // ---- parameters ----

  setInt(param, value) {
    checkInteger(value, 'value');
    this.lib.set_int(this.h(), param, value);
  }

  getInt(param) {
    const value = [0];
    this.lib.get_int(this.h(), param, value);
    return Number(value[0]);
  }

  setText(param, text) {
    if (typeof text !== 'string') throw new TypeError(`expected a string, got ${JSON.stringify(text)}`);
    this.lib.set_string(this.h(), param, text);
  }

  getText(param) {
    return this.lib.text(this.lib.raw.get_string, this.h(), param);
  }

  setInitializer(param, value) {
    if (value === null) this.setText(param, 'null'); // Keras' None: glorot_uniform
    else if (typeof value === 'string') this.setText(param, value);
    else if (typeof value === 'object') this.setText(param, JSON.stringify(value));
    else throw new TypeError('initializers are Keras names or serialized Keras objects');
  }

  get filters() {
    return this.getInt(Param.FILTERS);
  }
  get kernelSize() {
    return [this.getInt(Param.KERNEL_SIZE)];
  }
  get strides() {
    return [this.getInt(Param.STRIDES)];
  }
  get dilationRate() {
    return [this.getInt(Param.DILATION_RATE)];
  }
  get groups() {
    return this.getInt(Param.GROUPS);
  }
  get padding() {
    return this.getText(Param.PADDING);
  }
  get dataFormat() {
    return this.getText(Param.DATA_FORMAT);
  }
  get activation() {
    return this.getText(Param.ACTIVATION);
  }
  get useBias() {
    return this.getInt(Param.USE_BIAS) === 1;
  }
  get name() {
    return this.getText(Param.NAME);
  }
  get kernelInitializer() {
    return JSON.parse(this.getText(Param.KERNEL_INITIALIZER));
  }
  get biasInitializer() {
    return JSON.parse(this.getText(Param.BIAS_INITIALIZER));
  }

  get seed() {
    const value = this.getInt(Param.SEED);
    return value < 0 ? null : value;
  }
  set seed(value) {
    this.setInt(Param.SEED, value === null ? -1 : value);
  }
  get algorithm() {
    return this.getText(Param.ALGORITHM);
  }
  set algorithm(value) {
    this.setText(Param.ALGORITHM, value);
  }
  get numThreads() {
    return this.getInt(Param.NUM_THREADS);
  }
  set numThreads(value) {
    this.setInt(Param.NUM_THREADS, value);
  }
  get maxIsa() {
    return this.getText(Param.MAX_ISA);
  }
  set maxIsa(value) {
    this.setText(Param.MAX_ISA, value);
  }
  get verbose() {
    return this.getInt(Param.VERBOSE) === 1;
  }
  set verbose(value) {
    this.setInt(Param.VERBOSE, value ? 1 : 0);
  }
  get find() {
    return this.getInt(Param.FIND) === 1;
  }
  set find(value) {
    this.setInt(Param.FIND, value ? 1 : 0);
  }

  // ---- build and shapes ----

  get built() {
    return this.getInt(Param.IN_CHANNELS) > 0;
  }

  /** Input channels the layer was built for, or null. */
  get inputChannels() {
    return this.getInt(Param.IN_CHANNELS) || null;
  }

  channelsLast() {
    return this.getInt(Param.DATA_FORMAT) === 0;
  }

  /** [batch, steps, channels] of a rank-3 shape in the layer's data format. */
  splitShape(shape) {
    if (!Array.isArray(shape) || shape.length !== 3) {
      throw new RangeError(
        `Input 0 of layer "${this.name}" is incompatible with the layer: expected ndim=3, ` +
          `found shape ${JSON.stringify(shape)}`,
      );
    }
    return this.channelsLast() ? [shape[0], shape[1], shape[2]] : [shape[0], shape[2], shape[1]];
  }

  /** Create the weights with the initializers for inputs of `inputShape` (batch and steps may be null). */
  build(inputShape) {
    const [, steps, channels] = this.splitShape(inputShape);
    if (channels === null || channels === undefined) {
      const received = JSON.stringify(inputShape);
      throw new RangeError(`The channel dimension of the inputs should be defined. Received ${received}`);
    }
    if (steps !== null && steps !== undefined) this.computeOutputShape(inputShape); // refuses an empty output first
    this.lib.build(this.h(), checkInteger(channels, 'channels'));
    this.buildInputShape = inputShape.map((d) => (d === undefined ? null : d));
  }

  /** Keras' build config, { input_shape } once built, else null. */
  getBuildConfig() {
    if (!this.built) return null;
    if (this.buildInputShape) return { input_shape: [...this.buildInputShape] };
    const c = this.inputChannels;
    return { input_shape: this.channelsLast() ? [null, null, c] : [null, c, null] };
  }

  /** The shape call() returns for `inputShape`; null stays null. 'glu' halves the last axis. */
  computeOutputShape(inputShape) {
    const [batch, steps] = this.splitShape(inputShape);
    const known = (d) => d !== null && d !== undefined;
    if (known(steps)) {
      const shape = new BigInt64Array(3);
      this.lib.output_shape(this.h(), known(batch) ? batch : 1, steps, shape, [0]);
      return [known(batch) ? batch : null, Number(shape[1]), Number(shape[2])];
    }
    let filters = this.filters;
    if (!this.channelsLast()) return [known(batch) ? batch : null, filters, null];
    if (this.activation === 'glu') {
      if (filters % 2) throw new RangeError(`activation 'glu' needs an even last axis; filters=${filters}`);
      filters /= 2;
    }
    return [known(batch) ? batch : null, null, filters];
  }

  /** [left, right] zeros added to an input of `steps` steps. */
  paddingAmounts(steps) {
    const left = [0];
    const right = [0];
    this.lib.padding_amounts(this.h(), steps, left, right);
    return [Number(left[0]), Number(right[0])];
  }

  // ---- running ----

  /**
   * Run the layer. `x` is a { data, shape } tensor, data with `shape`, or a nested array; a
   * Float32Array is read in place, other numbers are converted. Builds on first use from the
   * channel axis. Returns { data: Float32Array, shape }.
   */
  call(x, shape) {
    const input = asTensor(x, shape, 'input');
    const [batch, steps, channels] = this.splitShape(input.shape);
    if (!this.built) this.build(input.shape);
    const outShape = new BigInt64Array(3);
    const count = [0];
    const h = this.h();
    this.lib.output_shape(h, batch, steps, outShape, count);
    const y = new Float32Array(Number(count[0]));
    this.lib.forward(h, input.data, input.data.length, batch, steps, channels, y, y.length);
    return { data: y, shape: Array.from(outShape, Number) };
  }

  /** The algorithm name the layer runs for inputs of (batch, steps). */
  queryAlgorithm(batch, steps) {
    const algorithm = [0];
    this.lib.query_algorithm(this.h(), batch, steps, algorithm);
    return this.lib.algorithm_name(algorithm[0]);
  }

  /** One line: the plan (algorithm, kernel, ISA, threads, why) for (batch, steps). */
  describePlan(batch, steps) {
    return this.lib.text(this.lib.raw.describe_plan, this.h(), batch, steps);
  }

  // ---- weights ----

  kernelShape() {
    return [this.getInt(Param.KERNEL_SIZE), this.getInt(Param.IN_CHANNELS) / this.groups, this.filters];
  }

  /** [kernel, bias] (or [kernel] without bias) as new { data, shape } tensors; [] before build. */
  getWeights() {
    if (!this.built) return [];
    const kernelShape = this.kernelShape();
    const kernel = new Float32Array(kernelShape.reduce((a, b) => a * b, 1));
    const bias = this.useBias ? new Float32Array(this.filters) : null;
    this.lib.get_weights(this.h(), kernel, kernel.length, bias, bias ? bias.length : 0);
    const weights = [{ data: kernel, shape: kernelShape }];
    if (bias) weights.push({ data: bias, shape: [bias.length] });
    return weights;
  }

  /**
   * Set [kernel, bias] (or [kernel] without bias): { data, shape } tensors, nested arrays, or flat
   * arrays/typed arrays in Keras layout. On an unbuilt layer the kernel's length decides the input
   * channels and builds it. The data are copied.
   */
  setWeights(weights) {
    if (!Array.isArray(weights) || weights.length < 1 || weights.length > 2) {
      throw new TypeError('setWeights expects [kernel, bias] or [kernel]');
    }
    const flat = (w, what) =>
      ArrayBuffer.isView(w) || (Array.isArray(w) && !Array.isArray(w[0]))
        ? { data: toFloat32(w, what), shape: null }
        : asTensor(w, undefined, what);
    const kernel = flat(weights[0], 'kernel');
    const bias = weights.length > 1 && weights[1] !== null ? flat(weights[1], 'bias') : null;
    // The library checks lengths (and names the length it needs); a kernel of
    // the right length with its axes in another order is caught here.
    if (kernel.shape && kernel.shape.length !== 3) {
      throw new RangeError(`kernel must have rank 3 (kernel_size, in_channels/groups, filters); got [${kernel.shape}]`);
    }
    if (bias && bias.shape && bias.shape.length !== 1) {
      throw new RangeError(`bias must have rank 1 (filters); got [${bias.shape}]`);
    }
    if (kernel.shape) {
      const k = this.getInt(Param.KERNEL_SIZE);
      const filters = this.filters;
      const expected = this.built ? this.kernelShape() : [k, kernel.data.length / (k * filters), filters];
      const size = expected.reduce((a, b) => a * b, 1);
      if (kernel.data.length === size && Number.isInteger(expected[1]) && !sameShape(kernel.shape, expected)) {
        throw new RangeError(`kernel has shape [${kernel.shape}]; layer "${this.name}" needs [${expected}]`);
      }
    }
    const biasData = bias ? bias.data : null;
    this.lib.set_weights(this.h(), kernel.data, kernel.data.length, biasData, biasData ? biasData.length : 0);
    this.buildInputShape = null;
  }

  /** A copy of the kernel as { data, shape }. */
  get kernel() {
    if (!this.built) throw new Error('You must build the layer before accessing `kernel`.');
    return this.getWeights()[0];
  }

  /** A copy of the bias as { data, shape }, or null without useBias. */
  get bias() {
    if (!this.built) throw new Error('You must build the layer before accessing `bias`.');
    return this.useBias ? this.getWeights()[1] : null;
  }

  countParams() {
    if (!this.built) throw new Error(`layer "${this.name}" is not built`);
    const kernelLen = [0];
    const biasLen = [0];
    this.lib.weight_sizes(this.h(), kernelLen, biasLen);
    return Number(kernelLen[0]) + Number(biasLen[0]);
  }

  // ---- config ----

  /** The Keras 3 get_config() object (snake_case keys, Keras' order), as Python's binding gives. */
  getConfig() {
    return {
      name: this.name,
      trainable: this.trainable,
      dtype: JSON.parse(JSON.stringify(DTYPE_POLICY)),
      filters: this.filters,
      kernel_size: this.kernelSize,
      strides: this.strides,
      padding: this.padding,
      data_format: this.dataFormat,
      dilation_rate: this.dilationRate,
      groups: this.groups,
      activation: this.activation,
      use_bias: this.useBias,
      kernel_initializer: this.kernelInitializer,
      bias_initializer: this.biasInitializer,
      kernel_regularizer: null,
      bias_regularizer: null,
      activity_regularizer: null,
      kernel_constraint: null,
      bias_constraint: null,
    };
  }

  /** A new unbuilt layer from a Keras get_config() object (snake_case keys). */
  static fromConfig(config) {
    const options = {};
    for (const [key, value] of Object.entries(config)) {
      const option = OPTION_OF_KERAS_KEY[key];
      if (option === undefined) throw new TypeError(`Conv1D.fromConfig: unknown config key '${key}'`);
      options[option] = value;
    }
    if ('dtype' in options) options.dtype = dtypeName(options.dtype);
    return new Conv1DLayer(options);
  }

  toString() {
    if (!this.handle) return 'Conv1D (closed)';
    const state = this.built ? `inputChannels=${this.inputChannels}` : 'unbuilt';
    return `Conv1D(name=${this.name}, filters=${this.filters}, kernelSize=[${this.kernelSize}], ${state})`;
  }
}

if (typeof Symbol.dispose === 'symbol') {
  Conv1DLayer.prototype[Symbol.dispose] = function dispose() {
    this.close();
  };
}

// Conv1D(...) without `new` makes a layer too, as the Keras-style call reads.
const Conv1D = new Proxy(Conv1DLayer, {
  apply(target, thisArg, args) {
    return new target(...args);
  },
});

module.exports = { Conv1D, Param, asTensor };
