'use strict';
// Finding libconv1d.so.1 and declaring its C functions with koffi.
//
// The library is looked up, in this order:
//   1. the path in $CONV1D_LIBRARY (only that path: an explicit choice that
//      fails is an error, not a reason to fall back);
//   2. build/libconv1d.so.1 of the source checkout this module sits in
//      (bindings/node of a libconv1d repository), if it was built;
//   3. libconv1d.so.1 through the system's dynamic loader.
// It is loaded on first use, or explicitly with loadLibrary(path).

const fs = require('node:fs');
const path = require('node:path');
const koffi = require('koffi');

const { Status, errorForStatus } = require('./errors');

const SONAME = 'libconv1d.so.1';
const ENV_VAR = 'CONV1D_LIBRARY';
const MAJOR_VERSION = 1; // the soname's major version: the ABI this module is written against
const MINIMUM_VERSION = 10100; // 1.1: training (backward, penalties, constraints, LoRA) and the Keras config JSON

// conv1d_layer is opaque; koffi keeps one type registry per process, so it is
// declared once here.
koffi.opaque('conv1d_layer');
koffi.opaque('conv1d_stream');

// Enums are passed as int, as C does on the supported ABIs. Buffers (typed
// arrays) passed to pointer parameters are used in place, without a copy.
const PROTOTYPES = {
  version_number: 'unsigned int conv1d_version_number(void)',
  version_string: 'const char *conv1d_version_string(void)',
  status_string: 'const char *conv1d_status_string(int status)',
  last_error_message: 'const char *conv1d_last_error_message(void)',
  algorithm_name: 'const char *conv1d_algorithm_name(int algorithm)',
  activation_name: 'const char *conv1d_activation_name(int activation)',
  create: 'int conv1d_create(int64_t filters, int64_t kernel_size, _Out_ conv1d_layer **out)',
  destroy: 'void conv1d_destroy(conv1d_layer *layer)',
  set_int: 'int conv1d_set_int(conv1d_layer *layer, int param, int64_t value)',
  set_double: 'int conv1d_set_double(conv1d_layer *layer, int param, double value)',
  set_string: 'int conv1d_set_string(conv1d_layer *layer, int param, const char *value)',
  get_int: 'int conv1d_get_int(const conv1d_layer *layer, int param, _Out_ int64_t *value)',
  get_double: 'int conv1d_get_double(const conv1d_layer *layer, int param, _Out_ double *value)',
  get_string:
    'int conv1d_get_string(const conv1d_layer *layer, int param, uint8_t *buffer, size_t capacity, ' +
    '_Out_ size_t *needed)',
  build: 'int conv1d_build(conv1d_layer *layer, int64_t in_channels)',
  weight_sizes: 'int conv1d_weight_sizes(const conv1d_layer *layer, _Out_ size_t *kernel_len, _Out_ size_t *bias_len)',
  set_weights:
    'int conv1d_set_weights(conv1d_layer *layer, const float *kernel, size_t kernel_len, const float *bias, ' +
    'size_t bias_len)',
  get_weights:
    'int conv1d_get_weights(const conv1d_layer *layer, float *kernel, size_t kernel_len, float *bias, size_t bias_len)',
  output_steps: 'int conv1d_output_steps(const conv1d_layer *layer, int64_t steps, _Out_ int64_t *out_steps)',
  padding_amounts:
    'int conv1d_padding_amounts(const conv1d_layer *layer, int64_t steps, _Out_ int64_t *pad_left, ' +
    '_Out_ int64_t *pad_right)',
  output_shape:
    'int conv1d_output_shape(const conv1d_layer *layer, int64_t batch, int64_t steps, int64_t *shape, ' +
    '_Out_ size_t *count)',
  forward:
    'int conv1d_forward(const conv1d_layer *layer, const float *x, size_t x_len, int64_t batch, int64_t steps, ' +
    'int64_t channels, float *y, size_t y_len)',
  query_algorithm:
    'int conv1d_query_algorithm(const conv1d_layer *layer, int64_t batch, int64_t steps, _Out_ int *algorithm)',
  describe_plan:
    'int conv1d_describe_plan(const conv1d_layer *layer, int64_t batch, int64_t steps, uint8_t *buffer, ' +
    'size_t capacity, _Out_ size_t *needed)',
  cpu_isa: 'int conv1d_cpu_isa(void)',
  // 1.1: training
  backward:
    'int conv1d_backward(const conv1d_layer *layer, const float *x, size_t x_len, int64_t batch, int64_t steps, ' +
    'int64_t channels, const float *dy, size_t dy_len, float *dx, size_t dx_len, float *dkernel, size_t dkernel_len, ' +
    'float *dbias, size_t dbias_len, uint32_t flags)',
  regularization_loss:
    'int conv1d_regularization_loss(const conv1d_layer *layer, const float *y, size_t y_len, int64_t batch, ' +
    'int64_t steps, _Out_ double *loss)',
  apply_constraints: 'int conv1d_apply_constraints(conv1d_layer *layer)',
  weight_size: 'int conv1d_weight_size(const conv1d_layer *layer, int which, _Out_ size_t *len)',
  get_weight: 'int conv1d_get_weight(const conv1d_layer *layer, int which, float *data, size_t len)',
  set_weight: 'int conv1d_set_weight(conv1d_layer *layer, int which, const float *data, size_t len)',
  lora_gradients:
    'int conv1d_lora_gradients(const conv1d_layer *layer, const float *dkernel, size_t dkernel_len, float *da, ' +
    'size_t da_len, float *db, size_t db_len, uint32_t flags)',
  lora_merge: 'int conv1d_lora_merge(conv1d_layer *layer)',
  // 1.1: Keras config JSON
  create_from_config: 'int conv1d_create_from_config(const char *json, _Out_ conv1d_layer **out)',
  get_config:
    'int conv1d_get_config(const conv1d_layer *layer, int wrapped, uint8_t *buffer, size_t capacity, ' +
    '_Out_ size_t *needed)',
};

// Functions a 1.1 library may lack: the Keras weight-file and .npy functions
// came after the first 1.1.0 builds, streams and dtype policies with 1.2. The library still
// loads without them; calling one throws a Conv1DError (UNSUPPORTED) naming
// the missing symbol.
const OPTIONAL_PROTOTYPES = {
  load_weights_keras: 'int conv1d_load_weights_keras(conv1d_layer *layer, const char *path, const char *layer_key)',
  load_npy: 'int conv1d_load_npy(conv1d_layer *layer, int which, const char *path)',
  save_npy: 'int conv1d_save_npy(const conv1d_layer *layer, int which, const char *path)',
  // 1.2: streams
  stream_create: 'int conv1d_stream_create(const conv1d_layer *layer, int64_t batch, _Out_ conv1d_stream **out)',
  stream_destroy: 'void conv1d_stream_destroy(conv1d_stream *stream)',
  stream_reset: 'int conv1d_stream_reset(conv1d_stream *stream)',
  stream_output_frames:
    'int conv1d_stream_output_frames(const conv1d_stream *stream, int64_t frames, _Out_ int64_t *out_frames)',
  stream_process:
    'int conv1d_stream_process(conv1d_stream *stream, const float *x, size_t x_len, int64_t frames, float *y, ' +
    'size_t y_len, _Out_ int64_t *out_frames)',
  stream_frames_seen: 'int conv1d_stream_frames_seen(const conv1d_stream *stream, _Out_ int64_t *frames)',
  // 1.2: dtype policies and typed buffers (lengths in elements)
  dtype_name: 'const char *conv1d_dtype_name(int dtype)',
  forward_ex:
    'int conv1d_forward_ex(const conv1d_layer *layer, int x_dtype, const void *x, size_t x_len, int64_t batch, ' +
    'int64_t steps, int64_t channels, int y_dtype, void *y, size_t y_len)',
  set_weights_ex:
    'int conv1d_set_weights_ex(conv1d_layer *layer, int dtype, const void *kernel, size_t kernel_len, ' +
    'const void *bias, size_t bias_len)',
  get_weights_ex:
    'int conv1d_get_weights_ex(const conv1d_layer *layer, int dtype, void *kernel, size_t kernel_len, void *bias, ' +
    'size_t bias_len)',
};

/** What an optional function came with, for the missing-function message. */
function featureOf(symbol) {
  if (symbol.startsWith('conv1d_stream_')) return 'streams';
  if (symbol === 'conv1d_dtype_name' || symbol.endsWith('_ex')) return 'dtype policies';
  return 'the Keras weight-file functions';
}

/** Flags of conv1d_backward and conv1d_lora_gradients (conv1d_backward_flags). */
const BackwardFlags = Object.freeze({ REGULARIZERS: 1, ACCUMULATE: 2 });

/** conv1d_dtype values: element types of conv1d_forward_ex and the _ex weight calls. */
const DType = Object.freeze({ FLOAT32: 0, FLOAT64: 1, BFLOAT16: 2 });

// Functions returning a status that get() wraps so that failure throws. The
// string getters are checked by text(), whose size query answers
// BUFFER_TOO_SMALL by design.
const UNCHECKED = new Set([
  'version_number',
  'version_string',
  'status_string',
  'last_error_message',
  'algorithm_name',
  'activation_name',
  'destroy',
  'get_string',
  'describe_plan',
  'get_config',
  'cpu_isa',
  'stream_destroy',
  'dtype_name',
]);

class Library {
  constructor(file) {
    this.path = file;
    this.handle = koffi.load(file);
    this.raw = {};
    this.missingSymbols = new Set();
    // The version first: a 1.0 library lacks the 1.1 symbols, and is refused by name.
    const number = this.handle.func(PROTOTYPES.version_number)();
    if (Math.floor(number / 10000) !== MAJOR_VERSION || number < MINIMUM_VERSION) {
      const version = this.handle.func(PROTOTYPES.version_string)();
      const minimum = `${Math.floor(MINIMUM_VERSION / 10000)}.${Math.floor(MINIMUM_VERSION / 100) % 100}`;
      throw new Error(`${file} is libconv1d ${version}; this module needs ${minimum} or a later ${MAJOR_VERSION}.x`);
    }
    for (const [name, prototype] of Object.entries(PROTOTYPES)) {
      const fn = this.handle.func(prototype);
      this.raw[name] = fn;
      this[name] = UNCHECKED.has(name) ? fn : this.checked(fn);
    }
    for (const [name, prototype] of Object.entries(OPTIONAL_PROTOTYPES)) {
      let fn;
      try {
        fn = this.handle.func(prototype);
      } catch {
        this[name] = this.missing(`conv1d_${name}`);
        this.missingSymbols.add(`conv1d_${name}`);
        continue;
      }
      this.raw[name] = fn;
      this[name] = UNCHECKED.has(name) ? fn : this.checked(fn);
    }
  }

  /** A stand-in for an optional function this library does not export. */
  missing(symbol) {
    return () => {
      throw errorForStatus(
        Status.UNSUPPORTED,
        `${this.path} (libconv1d ${this.version_string()}) does not export ${symbol}: it was built before ` +
          `${featureOf(symbol)} were added; ` +
          'rebuild libconv1d from a newer source',
        this.status_string(Status.UNSUPPORTED),
      );
    };
  }

  /** Whether the library has dtype policies (1.2): without them every layer is float32. */
  get hasDtypes() {
    return !this.missingSymbols.has('conv1d_forward_ex');
  }

  checked(fn) {
    return (...args) => {
      const status = fn(...args);
      if (status !== Status.OK) throw this.error(status);
      return status;
    };
  }

  /** The error for a failed call; make it right after the call (same thread). */
  error(status) {
    const message = this.last_error_message();
    const text = this.status_string(status);
    return errorForStatus(status, message || text, text);
  }

  /** Call get_string, describe_plan or get_config with a buffer the library sizes. */
  text(fn, ...args) {
    const needed = [0];
    let capacity = 256;
    for (;;) {
      const buffer = Buffer.alloc(capacity);
      const status = fn(...args, buffer, capacity, needed);
      if (status === Status.OK) return buffer.toString('utf8', 0, buffer.indexOf(0));
      if (status === Status.BUFFER_TOO_SMALL && Number(needed[0]) > capacity) {
        capacity = Number(needed[0]);
        continue;
      }
      throw this.error(status);
    }
  }
}

function candidates() {
  const explicit = process.env[ENV_VAR];
  if (explicit) return [explicit];
  const list = [];
  const root = path.resolve(__dirname, '..', '..', '..'); // repo/bindings/node/lib
  const inCheckout =
    fs.existsSync(path.join(root, 'include', 'conv1d', 'conv1d.h')) && fs.existsSync(path.join(root, 'CMakeLists.txt'));
  if (inCheckout) {
    const built = path.join(root, 'build', SONAME);
    if (fs.existsSync(built)) list.push(built);
  }
  list.push(SONAME);
  return list;
}

let loaded = null;

function samePath(a, b) {
  try {
    return fs.realpathSync(a) === fs.realpathSync(b);
  } catch {
    return a === b; // a bare soname, resolved by the loader
  }
}

/** Load libconv1d (from `file` if given, else by the search above) and return it. */
function loadLibrary(file) {
  if (loaded) {
    if (file !== undefined && !samePath(file, loaded.path)) {
      throw new Error(`libconv1d is already loaded from ${loaded.path}`);
    }
    return loaded;
  }
  const tried = [];
  for (const candidate of file !== undefined ? [file] : candidates()) {
    try {
      loaded = new Library(candidate);
      return loaded;
    } catch (error) {
      tried.push(`  ${candidate}: ${error.message}`);
    }
  }
  throw new Error(
    `cannot load libconv1d; tried:\n${tried.join('\n')}\n` +
      `Build the library (cmake) and set ${ENV_VAR}=/path/to/${SONAME}, ` +
      'or install it where the dynamic loader finds it.',
  );
}

function lib() {
  return loaded || loadLibrary();
}

module.exports = { lib, loadLibrary, BackwardFlags, DType, SONAME, ENV_VAR };
