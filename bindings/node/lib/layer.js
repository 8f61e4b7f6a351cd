'use strict';
// The Keras-like Conv1D class over libconv1d's opaque layer handle.
//
// Tensors are plain objects { data: Float32Array, shape: [d0, d1, d2] } in
// row-major order, in the layer's data format: channels_last (batch, steps,
// channels) or channels_first (batch, channels, steps). Weights use the
// Keras layout: kernel (kernel_size, in_channels / groups, filters), bias
// (filters).

const { fileURLToPath } = require('node:url');

const native = require('./native');
const { Status } = require('./errors');

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
  KERNEL_REGULARIZER: 300,
  BIAS_REGULARIZER: 301,
  ACTIVITY_REGULARIZER: 302,
  KERNEL_CONSTRAINT: 303,
  BIAS_CONSTRAINT: 304,
  LORA_RANK: 305,
  LORA_ALPHA: 306,
  TRAINABLE: 307,
  ALGORITHM: 400,
  VERBOSE: 401,
  NUM_THREADS: 402,
  MAX_ISA: 403,
  FIND: 404,
  NAME: 500,
  DTYPE: 501,
  VARIABLE_DTYPE: 502,
});

const { DType } = native;
const DTYPE_NAMES = Object.freeze(['float32', 'float64', 'bfloat16']); // by conv1d_dtype value

/** conv1d_weight values: the layer's weights in Keras' order of creation. */
const Weight = Object.freeze({ KERNEL: 0, BIAS: 1, LORA_A: 2, LORA_B: 3 });

/** The Keras variable name of each weight (layer.weights[i].name), by conv1d_weight value. */
const WEIGHT_NAMES = Object.freeze(['kernel', 'bias', 'lora_kernel_a', 'lora_kernel_b']);

// Options naming a Keras object (a name, a serialized object, or null), and their parameter.
const OBJECT_OPTIONS = {
  kernelInitializer: Param.KERNEL_INITIALIZER,
  biasInitializer: Param.BIAS_INITIALIZER,
  kernelRegularizer: Param.KERNEL_REGULARIZER,
  biasRegularizer: Param.BIAS_REGULARIZER,
  activityRegularizer: Param.ACTIVITY_REGULARIZER,
  kernelConstraint: Param.KERNEL_CONSTRAINT,
  biasConstraint: Param.BIAS_CONSTRAINT,
};

// Every constructor option: the camelCase Keras arguments, then the execution
// settings, which are not part of the Keras config.
const OPTIONS = new Set([
  'filters',
  'kernelSize',
  'strides',
  'padding',
  'dataFormat',
  'dilationRate',
  'groups',
  'activation',
  'useBias',
  ...Object.keys(OBJECT_OPTIONS),
  'name',
  'trainable',
  'dtype',
  'loraRank',
  'loraAlpha',
  'seed',
  'algorithm',
  'numThreads',
  'maxIsa',
  'verbose',
  'find',
]);

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

/**
 * The policy name of a dtype option: a name, a serialized DTypePolicy ({ class_name, config: { name } },
 * as getConfig() writes it) or an object with a string `name` (a layer's dtypePolicy). Whether the
 * library knows the policy is left to the library, which says why not.
 */
function dtypeName(dtype) {
  if (typeof dtype === 'string') return dtype;
  if (dtype !== null && typeof dtype === 'object') {
    if (dtype.config !== null && typeof dtype.config === 'object' && typeof dtype.config.name === 'string') {
      return dtype.config.name;
    }
    if (typeof dtype.name === 'string') return dtype.name;
  }
  throw new TypeError(
    'dtype must be a dtype policy name, a serialized DTypePolicy ({ class_name, config: { name } }) or an ' +
      `object with a name; got ${JSON.stringify(dtype)}`,
  );
}

function toFloat64(data, what) {
  if (data instanceof Float64Array) return data; // passed to the library in place
  return Float64Array.from(checkNumbers(data, what), Number);
}

// toFloat32's checks without its float32 copy (for data converted to float64).
function checkNumbers(data, what) {
  if (Array.isArray(data) && data.some((v) => typeof v !== 'number')) {
    throw new TypeError(`${what} must hold numbers (a flat array with a shape, or a nested array without one)`);
  }
  if (Array.isArray(data) || (ArrayBuffer.isView(data) && !(data instanceof DataView))) return data;
  throw new TypeError(`${what} must be a Float64Array, another typed array or an array of numbers`);
}

function toBf16Bits(data, what) {
  if (data instanceof Uint16Array) return data;
  throw new TypeError(`${what}: bfloat16Bits takes a Uint16Array of bfloat16 bits, got ${String(data)}`);
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
function asTensor(x, shape, what, convert = toFloat32) {
  let data = x;
  if (shape === undefined && x !== null && typeof x === 'object' && !Array.isArray(x) && !ArrayBuffer.isView(x)) {
    ({ data, shape } = x);
  } else if (shape === undefined && Array.isArray(x)) {
    shape = nestedShape(x);
    data = x.flat(shape.length - 1);
  }
  if (!Array.isArray(shape)) throw new TypeError(`${what}: give its shape (an array of dimensions)`);
  shape = shape.map((d) => checkInteger(d, `${what} shape entries`));
  data = convert(data, what);
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) {
    throw new RangeError(`${what} has ${data.length} values but shape [${shape}] needs ${size}`);
  }
  return { data, shape };
}

function sameShape(a, b) {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The string the library takes for a Keras object option: a name, a serialized object's JSON, or 'null'. */
function objectSpec(value, what) {
  if (value === null) return 'null';
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && !Array.isArray(value)) return JSON.stringify(value);
  throw new TypeError(`${what} must be a Keras name, a serialized Keras object or null; got ${String(value)}`);
}

const product = (shape) => shape.reduce((a, b) => a * b, 1);

/**
 * A file path for the C API, taken as node:fs takes it: a string, a Buffer (the name's bytes) or a
 * file: URL. A NUL-terminated Buffer for a Buffer; koffi passes strings as UTF-8.
 */
function pathArgument(file, what = 'path') {
  if (file instanceof URL) file = fileURLToPath(file); // throws for other schemes
  const bytes = Buffer.isBuffer(file) || file instanceof Uint8Array;
  if (!bytes && typeof file !== 'string') {
    throw new TypeError(`${what} must be a string, Buffer or file: URL; got ${file === null ? 'null' : typeof file}`);
  }
  if (bytes ? file.includes(0) : file.includes('\0')) throw new TypeError(`${what} must not contain null bytes`);
  return bytes ? Buffer.concat([Buffer.from(file), Buffer.alloc(1)]) : file;
}

/** A conv1d_weight value from a Keras variable name (see WEIGHT_NAMES) or a Weight value. */
function weightArgument(which) {
  if (typeof which === 'string' && WEIGHT_NAMES.includes(which)) return WEIGHT_NAMES.indexOf(which);
  if (Number.isInteger(which) && which >= 0 && which < WEIGHT_NAMES.length) return which;
  if (typeof which !== 'string' && typeof which !== 'number') {
    throw new TypeError(`which must be a weight name or a conv1d.Weight value, got ${String(which)}`);
  }
  const names = WEIGHT_NAMES.map((n) => `'${n}'`).join(', ');
  throw new RangeError(`which must be one of ${names} (or a conv1d.Weight value); got ${JSON.stringify(which)}`);
}

/** A writable Float32Array of `size` values from `out`, or a new one. */
function outputArray(given, size, what) {
  if (given === undefined || given === null) throw new RangeError(`out has no ${what} to write into`);
  const data = given.data !== undefined ? given.data : given;
  if (!(data instanceof Float32Array)) throw new TypeError(`out's ${what} must be a Float32Array or { data, shape }`);
  if (data.length !== size) throw new RangeError(`out's ${what} has ${data.length} values; the gradient has ${size}`);
  return data;
}

/**
 * One weight of a layer, as Keras' layer.weights lists it: a live view of the weight inside the C
 * layer. read() copies its value out as { data, shape }; assign(value) writes a new value of the same
 * shape, which is how an optimizer updates it. `trainable` is Keras' variable flag: the kernel is
 * frozen while LoRA is on.
 */
class Variable {
  constructor(layer, which) {
    this.layer = layer;
    this.which = which;
  }

  /** 'kernel', 'bias', 'lora_kernel_a' or 'lora_kernel_b'. */
  get name() {
    return WEIGHT_NAMES[this.which];
  }

  /** '<layer name>/<weight name>', as Keras' variable path. */
  get path() {
    return `${this.layer.name}/${this.name}`;
  }

  get shape() {
    return this.layer.weightShape(this.which);
  }

  /** How the weight is stored: the layer's variableDtype for kernel and bias, 'float32' for LoRA factors. */
  get dtype() {
    return this.which === Weight.KERNEL || this.which === Weight.BIAS ? this.layer.variableDtype : 'float32';
  }

  get trainable() {
    return !(this.which === Weight.KERNEL && this.layer.loraEnabled);
  }

  /** A copy of the current value, { data, shape }: a Float64Array for a float64 layer, else a Float32Array. */
  read() {
    return this.layer.getWeight(this.which);
  }

  /** Replace the value: { data, shape }, a nested array, or flat numbers of exactly the weight's size. */
  assign(value) {
    this.layer.setWeight(this.which, value);
  }

  /** True when `other` names the same weight of the same layer. */
  equals(other) {
    return other instanceof Variable && other.layer === this.layer && other.which === this.which;
  }

  toString() {
    return `Variable(${this.path}, shape=[${this.shape}], trainable=${this.trainable})`;
  }
}

class Conv1DLayer {
  /**
   * new Conv1D(filters, kernelSize, options) or new Conv1D({ filters, kernelSize, ...options }),
   * also callable without `new`. Options (camelCase Keras arguments): strides, padding, dataFormat,
   * dilationRate, groups, activation, useBias, kernelInitializer, biasInitializer, kernelRegularizer,
   * biasRegularizer, activityRegularizer, kernelConstraint, biasConstraint (a Keras name, a serialized
   * Keras object, or null), name, trainable, dtype (a policy name: 'float32', 'float64', 'bfloat16',
   * 'mixed_bfloat16'; or a serialized DTypePolicy or an object with a name), loraRank, loraAlpha; execution
   * settings, not part of the Keras config: seed, algorithm, numThreads, maxIsa, verbose, find.
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
      if (!OPTIONS.has(key)) throw new TypeError(`Conv1D: unknown option '${key}'`);
    }
    const policy = opts.dtype === undefined || opts.dtype === null ? null : dtypeName(opts.dtype);
    const kernel = oneTuple(opts.kernelSize, 'kernel_size');
    const strides = oneTuple(opts.strides === undefined ? 1 : opts.strides, 'strides');
    const dilation = oneTuple(opts.dilationRate === undefined ? 1 : opts.dilationRate, 'dilation_rate');
    checkInteger(opts.filters, 'filters');
    const objects = Object.entries(OBJECT_OPTIONS)
      .filter(([option]) => opts[option] !== undefined)
      .map(([option, param]) => [param, objectSpec(opts[option], option)]);
    const present = (v) => v !== undefined && v !== null;
    if (present(opts.loraRank)) checkInteger(opts.loraRank, 'loraRank');
    if (present(opts.loraAlpha) && typeof opts.loraAlpha !== 'number') {
      throw new TypeError(`loraAlpha must be a number or null, got ${String(opts.loraAlpha)}`);
    }

    this.init();
    const out = [null];
    this.lib.create(opts.filters, kernel, out);
    this.adopt(out[0]);
    try {
      if (policy !== null) this.setPolicy(policy); // first: the library refuses LoRA on a policy other than float32
      this.setInt(Param.STRIDES, strides);
      this.setInt(Param.DILATION_RATE, dilation);
      if (opts.groups !== undefined) this.setInt(Param.GROUPS, opts.groups);
      if (opts.padding !== undefined) this.setText(Param.PADDING, opts.padding);
      if (present(opts.dataFormat)) this.setText(Param.DATA_FORMAT, opts.dataFormat);
      this.setText(Param.ACTIVATION, present(opts.activation) ? opts.activation : 'linear');
      if (opts.useBias !== undefined) this.setInt(Param.USE_BIAS, opts.useBias ? 1 : 0);
      for (const [param, text] of objects) this.setText(param, text);
      if (present(opts.loraRank)) this.setInt(Param.LORA_RANK, opts.loraRank);
      if (present(opts.loraAlpha)) this.lib.set_double(this.h(), Param.LORA_ALPHA, opts.loraAlpha);
      if (opts.trainable !== undefined) this.trainable = opts.trainable;
      if (present(opts.name)) this.setText(Param.NAME, opts.name);
      for (const knob of ['seed', 'algorithm', 'numThreads', 'maxIsa', 'verbose', 'find']) {
        if (present(opts[knob])) this[knob] = opts[knob];
      }
    } catch (error) {
      this.close();
      throw error;
    }
  }

  init() {
    this.lib = native.lib();
    this.handle = null;
    this.buildInputShape = null;
  }

  adopt(handle) {
    this.handle = handle;
    registry.register(this, handle, this);
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

  getDouble(param) {
    const value = [0];
    this.lib.get_double(this.h(), param, value);
    return value[0];
  }

  setText(param, text) {
    if (typeof text !== 'string') throw new TypeError(`expected a string, got ${JSON.stringify(text)}`);
    this.lib.set_string(this.h(), param, text);
  }

  getText(param) {
    return this.lib.text(this.lib.raw.get_string, this.h(), param);
  }

  getObject(param) {
    return JSON.parse(this.getText(param));
  }

  setPolicy(name) {
    if (!this.lib.hasDtypes) {
      if (name === 'float32') return;
      this.lib.forward_ex(); // the stand-in throws UNSUPPORTED naming the missing function
    }
    this.setText(Param.DTYPE, name);
  }

  computeCode() {
    return this.lib.hasDtypes ? this.getInt(Param.DTYPE) : DType.FLOAT32;
  }

  variableCode() {
    return this.lib.hasDtypes ? this.getInt(Param.VARIABLE_DTYPE) : DType.FLOAT32;
  }

  /** The dtype policy's name: 'float32', 'float64', 'bfloat16' or 'mixed_bfloat16' (Keras' dtype_policy.name). */
  get dtype() {
    return this.lib.hasDtypes ? this.getText(Param.DTYPE) : 'float32';
  }

  /** The dtype the layer computes in: 'float32', 'float64' or 'bfloat16'. */
  get computeDtype() {
    return DTYPE_NAMES[this.computeCode()];
  }

  /** The dtype the kernel and bias are stored in: 'float32', 'float64' or 'bfloat16'. */
  get variableDtype() {
    return DTYPE_NAMES[this.variableCode()];
  }

  /** { name, computeDtype, variableDtype }, as Keras' layer.dtype_policy; usable as another layer's dtype. */
  get dtypePolicy() {
    return Object.freeze({ name: this.dtype, computeDtype: this.computeDtype, variableDtype: this.variableDtype });
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
    return this.getObject(Param.KERNEL_INITIALIZER);
  }
  get biasInitializer() {
    return this.getObject(Param.BIAS_INITIALIZER);
  }
  /** The serialized Keras regularizer, or null. */
  get kernelRegularizer() {
    return this.getObject(Param.KERNEL_REGULARIZER);
  }
  get biasRegularizer() {
    return this.getObject(Param.BIAS_REGULARIZER);
  }
  get activityRegularizer() {
    return this.getObject(Param.ACTIVITY_REGULARIZER);
  }
  /** The serialized Keras constraint, or null. */
  get kernelConstraint() {
    return this.getObject(Param.KERNEL_CONSTRAINT);
  }
  get biasConstraint() {
    return this.getObject(Param.BIAS_CONSTRAINT);
  }

  /** Keras' layer.trainable: false freezes every weight (no penalties, no constraints). */
  get trainable() {
    return this.getInt(Param.TRAINABLE) === 1;
  }
  set trainable(value) {
    this.setInt(Param.TRAINABLE, value ? 1 : 0);
  }

  /** The LoRA rank, or null when LoRA is off. */
  get loraRank() {
    return this.getInt(Param.LORA_RANK) || null;
  }

  /** The LoRA scale numerator (the update is scaled by loraAlpha / loraRank): the rank unless set. */
  get loraAlpha() {
    const alpha = this.getDouble(Param.LORA_ALPHA);
    return alpha === 0 && !this.getInt(Param.LORA_RANK) ? null : alpha;
  }

  /** True once the layer is built with LoRA on: the kernel is frozen, lora_kernel_a/_b are trained. */
  get loraEnabled() {
    return this.built && this.getInt(Param.LORA_RANK) > 0;
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

  /**
   * Create the weights with the initializers for inputs of `inputShape` (batch and steps may be
   * null), as Keras' build(). With loraRank set, LoRA is enabled too, as Keras' build() does.
   */
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
      const shape = this.outputShape(known(batch) ? batch : 1, steps);
      return [known(batch) ? batch : null, shape[1], shape[2]];
    }
    let filters = this.filters;
    if (!this.channelsLast()) return [known(batch) ? batch : null, filters, null];
    if (this.activation === 'glu') {
      if (filters % 2) throw new RangeError(`activation 'glu' needs an even last axis; filters=${filters}`);
      filters /= 2;
    }
    return [known(batch) ? batch : null, null, filters];
  }

  outputShape(batch, steps) {
    const shape = new BigInt64Array(3);
    this.lib.output_shape(this.h(), batch, steps, shape, [0]);
    return Array.from(shape, Number);
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
   * Run the layer. `x` is a { data, shape } tensor, data with `shape`, or a nested array. Builds on
   * first use from the channel axis. Returns { data, shape }, typed by the compute dtype:
   * - float32: a Float32Array is read in place, other numbers are converted; Float32Array out;
   * - float64: a Float64Array is read in place, other numbers are converted; Float64Array out;
   * - bfloat16 ('bfloat16', 'mixed_bfloat16'): a Float64Array or Float32Array is read in place (the
   *   library rounds it to bfloat16 once), other numbers become float32; the result is a
   *   Float32Array holding the bfloat16 values exactly.
   * options.bfloat16Bits: x is a Uint16Array of raw bfloat16 bits (the upper half of a float32) and
   * the result is one too, on any policy. Options may come second when x carries its shape.
   */
  call(x, shape, options) {
    if (options === undefined && shape !== null && typeof shape === 'object' && !Array.isArray(shape)) {
      options = shape;
      shape = undefined;
    }
    const bits = Boolean(options && options.bfloat16Bits);
    const compute = this.computeCode();
    let xCode = DType.FLOAT32;
    let yCode = DType.FLOAT32;
    let convert = toFloat32;
    if (bits) {
      [xCode, yCode, convert] = [DType.BFLOAT16, DType.BFLOAT16, toBf16Bits];
    } else if (compute === DType.FLOAT64) {
      [xCode, yCode, convert] = [DType.FLOAT64, DType.FLOAT64, toFloat64];
    } else if (compute === DType.BFLOAT16) {
      const data = x !== null && typeof x === 'object' && !ArrayBuffer.isView(x) && !Array.isArray(x) ? x.data : x;
      if (data instanceof Float64Array) [xCode, convert] = [DType.FLOAT64, toFloat64];
    }
    const input = asTensor(x, shape, 'input', convert);
    const [batch, steps, channels] = this.splitShape(input.shape);
    if (!this.built) this.build(input.shape);
    const outShape = new BigInt64Array(3);
    const count = [0];
    const h = this.h();
    this.lib.output_shape(h, batch, steps, outShape, count);
    const Type = [Float32Array, Float64Array, Uint16Array][yCode];
    const y = new Type(Number(count[0]));
    if (xCode === DType.FLOAT32 && yCode === DType.FLOAT32) {
      this.lib.forward(h, input.data, input.data.length, batch, steps, channels, y, y.length);
    } else {
      this.lib.forward_ex(h, xCode, input.data, input.data.length, batch, steps, channels, yCode, y, y.length);
    }
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

  /** A Stream of `batch` sequences on this built layer (padding 'causal' or 'valid'), fed chunk by chunk. */
  stream(batch = 1) {
    const { Stream } = require('./stream');
    return new Stream(this, batch);
  }

  // ---- training ----

  /**
   * Gradients of a loss through the layer. `x` is the forward's input (a { data, shape } tensor or a
   * nested array) and `dy` the loss gradient with respect to the layer's output (after the
   * activation): a tensor of the output's shape, or its data alone. Returns { dx, grads }: dx as
   * { data, shape } (null with inputGrad: false) and grads keyed by Keras weight name in the order of
   * layer.weights: kernel and bias, or with LoRA on bias, lora_kernel_a and lora_kernel_b (the frozen
   * kernel has none), so grads[w.name] belongs to each w of layer.trainableWeights.
   *
   * Options: inputGrad, kernelGrad, biasGrad (default true) choose what is computed; regularizers
   * (default false) adds the gradients of the penalties Keras adds to the loss (layer.losses); out, a
   * { dx, grads } result of an earlier call, is written into instead of new arrays, and accumulate
   * (default false) adds into it (micro-batches). Nothing is kept between call() and backward().
   */
  backward(x, dy, options = {}) {
    for (const key of Object.keys(options)) {
      if (!['inputGrad', 'kernelGrad', 'biasGrad', 'regularizers', 'out', 'accumulate'].includes(key)) {
        throw new TypeError(`backward: unknown option '${key}'`);
      }
    }
    const { inputGrad = true, kernelGrad = true, biasGrad = true, regularizers = false } = options;
    const { out = null, accumulate = false } = options;
    const input = asTensor(x, undefined, 'x');
    const [batch, steps, channels] = this.splitShape(input.shape);
    const expected = this.outputShape(batch, steps);
    const isData = ArrayBuffer.isView(dy) || (Array.isArray(dy) && !Array.isArray(dy[0]));
    const grad = isData ? asTensor(dy, expected, 'dy') : asTensor(dy, undefined, 'dy');
    if (!sameShape(grad.shape, expected)) {
      throw new RangeError(
        `dy has shape [${grad.shape}]; the output of layer "${this.name}" for inputs of shape ` +
          `[${input.shape}] has shape [${expected}]`,
      );
    }
    if (accumulate && !out) throw new TypeError('accumulate: true adds into the arrays of `out`: pass out');

    const lora = this.loraEnabled;
    const names = [];
    if (kernelGrad) names.push(...(lora ? ['lora_kernel_a', 'lora_kernel_b'] : ['kernel']));
    if (biasGrad && this.useBias) names.push('bias');
    names.sort((a, b) => WEIGHT_NAMES.indexOf(a) - WEIGHT_NAMES.indexOf(b));
    const outGrads = out ? out.grads || {} : {};
    let dx = null;
    if (inputGrad) {
      dx = {
        data: out ? outputArray(out.dx, input.data.length, 'dx') : new Float32Array(input.data.length),
        shape: [...input.shape],
      };
    }
    const grads = {};
    for (const name of names) {
      const shape = this.weightShape(WEIGHT_NAMES.indexOf(name));
      const size = product(shape);
      grads[name] = { data: out ? outputArray(outGrads[name], size, `grads.${name}`) : new Float32Array(size), shape };
    }
    const flags =
      (regularizers ? native.BackwardFlags.REGULARIZERS : 0) | (accumulate ? native.BackwardFlags.ACCUMULATE : 0);
    // With LoRA, the gradient of the effective kernel is turned into the factors' below; zeros, so
    // that an accumulating call starts it from nothing.
    let dkernel = grads.kernel ? grads.kernel.data : null;
    if (lora && kernelGrad) dkernel = new Float32Array(product(this.weightShape(Weight.KERNEL)));
    const dbias = grads.bias ? grads.bias.data : null;
    if (!dx && !dkernel && !dbias) return { dx, grads };
    const h = this.h();
    const length = (a) => (a ? a.length : 0);
    this.lib.backward(h, input.data, input.data.length, batch, steps, channels, grad.data, grad.data.length,
      dx && dx.data, length(dx && dx.data), dkernel, length(dkernel), dbias, length(dbias), flags);
    if (lora && kernelGrad) {
      const da = grads.lora_kernel_a.data;
      const db = grads.lora_kernel_b.data;
      this.lib.lora_gradients(h, dkernel, dkernel.length, da, da.length, db, db.length, flags);
    }
    return { dx, grads };
  }

  /**
   * The regularization loss Keras adds for this layer, the sum of layer.losses: the kernel and bias
   * penalties of the trainable weights (with LoRA on, the kernel regularizer applies to the two
   * factors instead, as in Keras) plus, when `y` (a { data, shape } output of call()) is given, the
   * activity regularizer's penalty of y divided by its batch size. Keras keeps that activity term
   * from the last call; this binding keeps no state, so the output is passed here.
   */
  regularizationLoss(y = null) {
    const loss = [0];
    if (y === null || y === undefined) {
      this.lib.regularization_loss(this.h(), null, 0, 0, 0, loss);
      return loss[0];
    }
    const output = asTensor(y, undefined, 'y');
    const [batch, steps] = this.inputSizeOf(output.shape);
    this.lib.regularization_loss(this.h(), output.data, output.data.length, batch, steps, loss);
    return loss[0];
  }

  /** [batch, steps] of an input that gives an output of `shape`. */
  inputSizeOf(shape) {
    let problem = 'it is not a non-empty rank-3 shape';
    if (shape.length === 3 && Math.min(...shape) >= 1) {
      const last = this.channelsLast();
      let outSteps = last ? shape[1] : shape[2];
      if (!last && this.activation === 'glu') outSteps *= 2; // glu halved the time axis, the last one
      const [k, s, d] = [this.getInt(Param.KERNEL_SIZE), this.strides[0], this.dilationRate[0]];
      const steps = (outSteps - 1) * s + 1 + (this.padding === 'valid' ? d * (k - 1) : 0);
      if (sameShape(this.outputShape(shape[0], steps), shape)) return [shape[0], steps];
      problem = 'no input gives it';
    }
    throw new RangeError(`y has shape [${shape}], which is not an output shape of layer "${this.name}": ${problem}`);
  }

  /** Project the trainable weights onto the kernel and bias constraints, as a Keras optimizer does. */
  applyConstraints() {
    this.lib.apply_constraints(this.h());
  }

  /**
   * Keras' enable_lora on a built layer: freeze the kernel and train lora_kernel_a (he_uniform) and
   * lora_kernel_b (zeros); the convolution uses kernel + loraAlpha / rank * A B. loraAlpha defaults to
   * the rank.
   */
  enableLora(rank, loraAlpha = null) {
    if (!this.built) throw new Error("Cannot enable lora on a layer that isn't yet built.");
    checkInteger(rank, 'rank');
    if (loraAlpha !== null && (typeof loraAlpha !== 'number' || !Number.isFinite(loraAlpha))) {
      throw new TypeError(`loraAlpha must be a finite number or null, got ${String(loraAlpha)}`);
    }
    this.setInt(Param.LORA_RANK, rank); // the library refuses a kernel constraint or a second enable
    // Keras sets lora_alpha to the rank when none is given, whatever the constructor had.
    this.lib.set_double(this.h(), Param.LORA_ALPHA, loraAlpha === null ? rank : loraAlpha);
  }

  /**
   * Fold the LoRA update into the kernel (kernel += loraAlpha / rank * A B) and turn LoRA off. Keras
   * has no public method for this; it merges when saving.
   */
  mergeLora() {
    this.lib.lora_merge(this.h());
  }

  // ---- weights ----

  kernelShape() {
    return this.weightShape(Weight.KERNEL);
  }

  weightShape(which) {
    const k = this.getInt(Param.KERNEL_SIZE);
    const filters = this.filters;
    const cg = this.getInt(Param.IN_CHANNELS) / this.groups;
    const rank = this.getInt(Param.LORA_RANK);
    return [[k, cg, filters], [filters], [k, cg, rank], [rank, filters]][which];
  }

  weightSize(which) {
    const size = [0];
    this.lib.weight_size(this.h(), which, size);
    return Number(size[0]);
  }

  /** The weights the layer has, in Keras' order of creation. */
  present() {
    if (!this.built) return [];
    const list = [Weight.KERNEL];
    if (this.useBias) list.push(Weight.BIAS);
    if (this.getInt(Param.LORA_RANK) > 0) list.push(Weight.LORA_A, Weight.LORA_B);
    return list;
  }

  /** [kernel, bias or null] of a float64-variable layer at full precision, as Float64Arrays. */
  float64Weights() {
    const kernel = new Float64Array(this.weightSize(Weight.KERNEL));
    const bias = this.useBias ? new Float64Array(this.weightSize(Weight.BIAS)) : null;
    this.lib.get_weights_ex(this.h(), DType.FLOAT64, kernel, kernel.length, bias, bias ? bias.length : 0);
    return [kernel, bias];
  }

  getWeight(which) {
    const size = this.weightSize(which);
    if (size === 0) throw new RangeError(`layer "${this.name}" has no weight '${WEIGHT_NAMES[which]}' now`);
    if ((which === Weight.KERNEL || which === Weight.BIAS) && this.variableCode() === DType.FLOAT64) {
      return { data: this.float64Weights()[which], shape: this.weightShape(which) };
    }
    const data = new Float32Array(size);
    this.lib.get_weight(this.h(), which, data, size);
    return { data, shape: this.weightShape(which) };
  }

  setWeight(which, value) {
    const name = WEIGHT_NAMES[which];
    if (this.weightSize(which) === 0) throw new RangeError(`layer "${this.name}" has no weight '${name}' now`);
    const shape = this.weightShape(which);
    const wide = (which === Weight.KERNEL || which === Weight.BIAS) && this.variableCode() === DType.FLOAT64;
    const convert = wide ? toFloat64 : toFloat32;
    const flat = ArrayBuffer.isView(value) || (Array.isArray(value) && !Array.isArray(value[0]));
    const tensor = flat ? asTensor(value, shape, name, convert) : asTensor(value, undefined, name, convert);
    if (!sameShape(tensor.shape, shape)) {
      throw new RangeError(`${name} has shape [${tensor.shape}]; layer "${this.name}" needs [${shape}]`);
    }
    if (!wide) {
      this.lib.set_weight(this.h(), which, tensor.data, tensor.data.length);
      return;
    }
    // No per-weight call takes float64: write both, the other one as it is.
    const both = this.float64Weights();
    both[which] = tensor.data;
    const [kernel, bias] = both;
    this.lib.set_weights_ex(this.h(), DType.FLOAT64, kernel, kernel.length, bias, bias ? bias.length : 0);
  }

  /** The weights as Variable views in Keras' order: kernel, bias, lora_kernel_a, lora_kernel_b. */
  get weights() {
    return this.present().map((which) => new Variable(this, which));
  }

  /** The weights an optimizer updates: none when not trainable, not the kernel while LoRA is on. */
  get trainableWeights() {
    return this.trainable ? this.weights.filter((w) => w.trainable) : [];
  }

  get nonTrainableWeights() {
    return this.trainable ? this.weights.filter((w) => !w.trainable) : this.weights;
  }

  /**
   * The values of layer.weights as new { data, shape } tensors in Keras layout: [kernel, bias] (or
   * [kernel] without bias), then lora_kernel_a and lora_kernel_b with LoRA on; [] before build.
   */
  getWeights() {
    return this.present().map((which) => this.getWeight(which));
  }

  /**
   * Set the weights in the order of getWeights(): { data, shape } tensors, nested arrays, or flat
   * arrays/typed arrays in Keras layout. On an unbuilt layer the kernel's length decides the input
   * channels and builds it (enabling LoRA if loraRank was set; the factors may then be given or left
   * to their initializers). The data are copied.
   */
  setWeights(weights) {
    if (!Array.isArray(weights)) throw new TypeError('setWeights expects an array of weights');
    const rank = this.getInt(Param.LORA_RANK);
    const base = this.useBias ? 2 : 1;
    const withFactors = rank > 0 && weights.length === base + 2;
    if (this.loraEnabled && !withFactors) {
      throw new RangeError(
        `setWeights: layer "${this.name}" has LoRA on and expects ${base + 2} arrays ` +
          `[${this.weights.map((w) => w.name)}]; got ${weights.length}`,
      );
    }
    const plain = withFactors ? weights.slice(0, base) : weights;
    if (plain.length < 1 || plain.length > 2) {
      throw new TypeError('setWeights expects [kernel, bias] or [kernel], then lora_kernel_a, lora_kernel_b with LoRA');
    }
    // float64 data go to the library as they are when the layer keeps them (float64 variables) or
    // rounds them once (bfloat16 variables, rather than through float32); float32 layers take float32.
    const first = plain[0] !== null && typeof plain[0] === 'object' && 'data' in plain[0] ? plain[0].data : plain[0];
    const wide =
      this.lib.hasDtypes &&
      (this.variableCode() === DType.FLOAT64 || (this.dtype !== 'float32' && first instanceof Float64Array));
    const convert = wide ? toFloat64 : toFloat32;
    const flat = (w, what) =>
      ArrayBuffer.isView(w) || (Array.isArray(w) && !Array.isArray(w[0]))
        ? { data: convert(w, what), shape: null }
        : asTensor(w, undefined, what, convert);
    const kernel = flat(plain[0], 'kernel');
    const bias = plain.length > 1 && plain[1] !== null ? flat(plain[1], 'bias') : null;
    // The library checks lengths (and names the length it needs); a kernel of
    // the right length with its axes in another order is caught here.
    if (kernel.shape && kernel.shape.length !== 3) {
      throw new RangeError(`kernel must have rank 3 (kernel_size, in_channels/groups, filters); got [${kernel.shape}]`);
    }
    if (bias && bias.shape && bias.shape.length !== 1) {
      throw new RangeError(`bias must have rank 1 (filters); got [${bias.shape}]`);
    }
    const k = this.getInt(Param.KERNEL_SIZE);
    const filters = this.filters;
    const expected = this.built ? this.kernelShape() : [k, kernel.data.length / (k * filters), filters];
    if (kernel.shape) {
      const size = product(expected);
      if (kernel.data.length === size && Number.isInteger(expected[1]) && !sameShape(kernel.shape, expected)) {
        throw new RangeError(`kernel has shape [${kernel.shape}]; layer "${this.name}" needs [${expected}]`);
      }
    }
    const factors = [];
    if (withFactors) {
      // Checked before anything is written, so a bad factor changes nothing.
      const cg = expected[1];
      for (const [which, value, shape] of [
        [Weight.LORA_A, weights[base], [k, cg, rank]],
        [Weight.LORA_B, weights[base + 1], [rank, filters]],
      ]) {
        const name = WEIGHT_NAMES[which];
        const isFlat = ArrayBuffer.isView(value) || (Array.isArray(value) && !Array.isArray(value[0]));
        const tensor = isFlat ? asTensor(value, shape, name) : asTensor(value, undefined, name);
        if (!sameShape(tensor.shape, shape)) {
          throw new RangeError(`${name} has shape [${tensor.shape}]; layer "${this.name}" needs [${shape}]`);
        }
        factors.push([which, tensor.data]);
      }
    }
    const biasData = bias ? bias.data : null;
    const setWeights = wide
      ? (...args) => this.lib.set_weights_ex(this.h(), DType.FLOAT64, ...args)
      : (...args) => this.lib.set_weights(this.h(), ...args);
    setWeights(kernel.data, kernel.data.length, biasData, biasData ? biasData.length : 0);
    for (const [which, data] of factors) this.lib.set_weight(this.h(), which, data, data.length);
    this.buildInputShape = null;
  }

  /**
   * A copy of the kernel the convolution uses, as { data, shape }: with LoRA on, as in Keras, the
   * frozen kernel plus loraAlpha / loraRank * lora_kernel_a lora_kernel_b.
   */
  get kernel() {
    if (!this.built) throw new Error('You must build the layer before accessing `kernel`.');
    const kernel = this.getWeight(Weight.KERNEL);
    if (!this.loraEnabled) return kernel;
    const a = this.getWeight(Weight.LORA_A).data;
    const b = this.getWeight(Weight.LORA_B).data;
    const rank = this.getInt(Param.LORA_RANK);
    const scale = this.getDouble(Param.LORA_ALPHA) / rank;
    const filters = this.filters;
    for (let row = 0; row < kernel.data.length / filters; row++) {
      for (let f = 0; f < filters; f++) {
        let sum = 0;
        for (let q = 0; q < rank; q++) sum += a[row * rank + q] * b[q * filters + f];
        kernel.data[row * filters + f] += scale * sum;
      }
    }
    return kernel;
  }

  /** A copy of the bias as { data, shape }, or null without useBias. */
  get bias() {
    if (!this.built) throw new Error('You must build the layer before accessing `bias`.');
    return this.useBias ? this.getWeight(Weight.BIAS) : null;
  }

  /** The number of weight values, LoRA factors included, as Keras counts them. */
  countParams() {
    if (!this.built) throw new Error(`layer "${this.name}" is not built`);
    return this.present().reduce((total, which) => total + this.weightSize(which), 0);
  }

  // ---- weight files ----

  /** Call a file function of the library; an IO failure's error gets `path`, as node:fs errors have. */
  fileCall(file, call) {
    const raw = pathArgument(file);
    try {
      call(raw);
    } catch (error) {
      if (error.status === Status.IO) error.path = file instanceof URL ? fileURLToPath(file) : file;
      throw error;
    }
  }

  /**
   * Load the kernel and bias from a file Keras saved (conv1d_load_weights_keras): a .keras archive
   * (model.save), a .weights.h5 file (model.save_weights) or a legacy .h5 file (model.save("m.h5"),
   * Keras 2's save_weights), told apart by their content. `file` is a string, Buffer or file: URL.
   * `key` picks the layer when the file holds several: its path in the file ('layers/conv1d_1', or
   * the trailing 'conv1d_1'; Keras numbers paths per class in model order) or its Keras name (kept
   * by Keras 3.6 and later, and by legacy files); null needs exactly one Conv1D-like layer. A key
   * that matches nothing (UNKNOWN_NAME) or several layers (INVALID_VALUE) throws with the candidates
   * listed. An unbuilt layer is built from the kernel's shape (kernelSize, inChannels/groups,
   * filters); a built one must have exactly that shape. With LoRA on, the kernel is replaced and the
   * factors are zeroed, as in Keras. On any failure the layer is unchanged.
   */
  loadWeights(file, key = null) {
    if (key !== null && key !== undefined) {
      if (typeof key !== 'string') throw new TypeError(`key must be a string or null, got ${typeof key}`);
      if (key.includes('\0')) throw new TypeError('key must not contain null bytes');
    }
    const k = key === undefined ? null : key;
    this.fileCall(file, (raw) => this.lib.load_weights_keras(this.h(), raw, k));
  }

  /**
   * Set one weight from a NumPy .npy file (conv1d_load_npy). `which` is 'kernel', 'bias',
   * 'lora_kernel_a' or 'lora_kernel_b' (or a conv1d.Weight value). The array must have the weight's
   * Keras shape, C order, and float32, float64 or float16 values in either byte order. Loading the
   * kernel into an unbuilt layer builds it (the bias from its initializer); the other weights need a
   * built layer that has them. On any failure the layer is unchanged.
   */
  loadNpy(which, file) {
    const w = weightArgument(which);
    this.fileCall(file, (raw) => this.lib.load_npy(this.h(), w, raw));
  }

  /**
   * Write one weight of a built layer to `file` as a NumPy .npy file (conv1d_save_npy): little-endian
   * float32 in its Keras shape, which numpy.load reads. The file is created or truncated.
   */
  saveNpy(which, file) {
    const w = weightArgument(which);
    this.fileCall(file, (raw) => this.lib.save_npy(this.h(), w, raw));
  }

  // ---- config ----

  /**
   * The Keras 3 get_config() object as libconv1d writes it: Keras 3.15's snake_case keys, order and
   * values. The execution settings and the seed are not part of it.
   */
  getConfig() {
    return JSON.parse(this.lib.text(this.lib.raw.get_config, this.h(), 0));
  }

  /**
   * The layer's entry in a Keras model config, as keras.layers.serialize(layer) gives it: module,
   * class_name, config, registered_name and, once built, build_config.
   */
  serialize() {
    const entry = JSON.parse(this.lib.text(this.lib.raw.get_config, this.h(), 1));
    if ('build_config' in entry) entry.build_config = this.getBuildConfig(); // the binding also knows the steps
    return entry;
  }

  /**
   * A new layer from a Keras get_config() object, from a model's layer entry ({ class_name:
   * 'Conv1D', config, build_config }), or from either as JSON text, read by the library as Keras 3
   * reads it. With a build_config the layer is built with weights from its initializers; without
   * one it builds on its first call, as in Keras.
   */
  static fromConfig(config) {
    let text;
    if (typeof config === 'string') text = config;
    else if (config !== null && typeof config === 'object' && !Array.isArray(config)) text = JSON.stringify(config);
    else throw new TypeError('Conv1D.fromConfig expects a config object or JSON text');
    const lib = native.lib();
    const out = [null];
    lib.create_from_config(text, out);
    const layer = Object.create(Conv1DLayer.prototype);
    layer.init();
    layer.adopt(out[0]);
    if (layer.built) {
      const entry = JSON.parse(text);
      const shape = entry.build_config ? entry.build_config.input_shape : null;
      if (Array.isArray(shape) && shape.length === 3) layer.buildInputShape = [...shape];
    }
    return layer;
  }

  /**
   * A layer from its Keras config and the weights Keras saved: fromConfig(config), then
   * loadWeights(file, key). `config` is what fromConfig takes (a get_config() object, a layer's
   * entry in a model's config.json, or either as JSON text). An entry with a build_config must agree
   * with the file's kernel; without one the file builds the layer.
   */
  static fromKeras(config, file, key = null) {
    const layer = Conv1DLayer.fromConfig(config);
    try {
      layer.loadWeights(file, key);
    } catch (error) {
      layer.close();
      throw error;
    }
    return layer;
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

/** keras.layers.serialize: the layer's model-config entry. */
const serialize = (layer) => layer.serialize();
/** keras.layers.deserialize: a Conv1D from a model-config entry or a config object. */
const deserialize = (config) => Conv1DLayer.fromConfig(config);

/** Conv1D.fromKeras: a layer from its Keras config and the weights file Keras saved. */
const fromKeras = (config, file, key = null) => Conv1DLayer.fromKeras(config, file, key);

module.exports = { Conv1D, Param, Weight, WEIGHT_NAMES, Variable, asTensor, serialize, deserialize, fromKeras };
