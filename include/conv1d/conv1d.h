/**
 * @file conv1d.h
 * @brief libconv1d - the Keras 3 Conv1D layer as a C library.
 *
 * This header is the whole public interface, and its comments are the manual.
 * It is C99 and C++ compatible. Every function returns a conv1d_status; on
 * failure conv1d_last_error_message() (thread-local) explains what was wrong
 * and names the bad value. A failed call changes nothing: the layer keeps its
 * configuration and weights, output buffers are not written, and the layer
 * stays usable.
 *
 * Lifecycle:
 * @verbatim
   conv1d_create(filters, kernel_size, &layer)
   conv1d_set_int / conv1d_set_string / conv1d_set_double  (Keras arguments)
   conv1d_build(layer, in_channels)        weights from the initializers
     or conv1d_set_weights(layer, ...)     weights in Keras layout
     or conv1d_load_weights_keras(layer, path, key)  weights from a Keras file
   conv1d_forward(layer, x, ..., y, ...)   as many times as wanted
   conv1d_destroy(layer)
   @endverbatim
 *
 * Tensors are dense row-major float32 arrays:
 * @verbatim
   channels_last  (Keras default): x is (batch, steps, channels),
                                    y is (batch, out_steps, filters)
   channels_first:                  x is (batch, channels, steps),
                                    y is (batch, filters, out_steps)
   kernel (both formats): (kernel_size, in_channels / groups, filters)
   bias: (filters,)
   @endverbatim
 *
 * Data types: a layer computes in the dtype its Keras dtype policy names
 * (CONV1D_PARAM_DTYPE): "float32" (the default), "float64" (variables and
 * compute in double), "bfloat16" (bf16 variables and compute) or
 * "mixed_bfloat16" (float32 variables, bf16 compute). bfloat16 compute rounds
 * x and the kernel (and bias) to bf16, accumulates the products in float32,
 * adds the bias and applies the activation in float32, and rounds the result
 * to bf16 once. conv1d_forward_ex, conv1d_set_weights_ex and
 * conv1d_get_weights_ex take float64 and bfloat16 (uint16_t) buffers; the
 * float32 calls work on every policy through conversion. The training calls
 * are float32-only (CONV1D_ERROR_UNSUPPORTED otherwise), except the weight
 * penalties and constraints of "mixed_bfloat16", whose variables are float32.
 * docs/dtypes.md has the details and tolerances.
 *
 * Training (see "Training" below): conv1d_backward gives the gradients,
 * conv1d_regularization_loss the Keras penalties, conv1d_set_weight writes
 * an updated weight back, conv1d_apply_constraints projects it.
 *
 * Threads: a built layer is read-only to conv1d_forward, conv1d_backward and the query
 * functions, so any number of threads may run one layer at once. Calls that
 * change a layer (set, build, set_weights, load, destroy) must not run concurrently
 * with any other call on the same layer.
 *
 * ABI: values of every enum below are explicit and never renumbered; new
 * parameters, statuses and functions are only ever added. The soname carries
 * the major version.
 */
#ifndef CONV1D_CONV1D_H
#define CONV1D_CONV1D_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#if defined(CONV1D_BUILDING_LIBRARY)
#define CONV1D_API __declspec(dllexport)
#else
#define CONV1D_API
#endif
#elif defined(__GNUC__)
#define CONV1D_API __attribute__((visibility("default")))
#else
#define CONV1D_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** @name Version
 *  CONV1D_VERSION_NUMBER is major*10000 + minor*100 + patch. Compare it with
 *  conv1d_version_number() to check the header against the loaded library.
 *  @{ */
#define CONV1D_VERSION_MAJOR 1 /**< Major version of this header: changes only with an ABI break (the soname) */
#define CONV1D_VERSION_MINOR 2 /**< Minor version of this header: additions */
#define CONV1D_VERSION_PATCH 0 /**< Patch version of this header: fixes */
/** This header's version as one number */
#define CONV1D_VERSION_NUMBER (CONV1D_VERSION_MAJOR * 10000 + CONV1D_VERSION_MINOR * 100 + CONV1D_VERSION_PATCH)
/** @} */

/** Status codes. 0 is success; every other value is a distinct error. */
typedef enum conv1d_status {
  CONV1D_OK = 0, /**< Success. */
  /** A required pointer argument was NULL. */
  CONV1D_ERROR_NULL_POINTER = 1,
  /** A value is outside what the argument accepts (an enum value out of
   *  range, use_bias=2, a layer name with '/', x and y overlapping, ...). */
  CONV1D_ERROR_INVALID_VALUE = 2,
  /** A name (padding, activation, initializer, ...) is not known. */
  CONV1D_ERROR_UNKNOWN_NAME = 3,
  /** The parameter id is not one this library knows. */
  CONV1D_ERROR_UNKNOWN_PARAMETER = 4,
  /** The parameter exists but not with this value type (set_int on a name). */
  CONV1D_ERROR_WRONG_TYPE = 5,
  /** A size or count is zero or negative where it must be positive
   *  (filters, kernel_size, strides, dilation_rate, groups, in_channels,
   *  batch, steps, channels). */
  CONV1D_ERROR_INVALID_SIZE = 6,
  /** A single size exceeds 2^31-1 (the kernels index with 32-bit BLAS
   *  integers), or sizes multiply beyond INT64_MAX or SIZE_MAX. */
  CONV1D_ERROR_SIZE_OVERFLOW = 7,
  /** A caller buffer is shorter than the shape needs. */
  CONV1D_ERROR_BUFFER_TOO_SMALL = 8,
  /** strides > 1 together with dilation_rate > 1 (Keras refuses this). */
  CONV1D_ERROR_STRIDES_WITH_DILATION = 9,
  /** groups does not divide filters or input channels. */
  CONV1D_ERROR_GROUPS_MISMATCH = 10,
  /** The output would have zero or negative length ('valid' padding). */
  CONV1D_ERROR_EMPTY_OUTPUT = 11,
  /** The input's channel count differs from the one the layer was built with. */
  CONV1D_ERROR_CHANNELS_MISMATCH = 12,
  /** The layer has no weights yet: call conv1d_build or conv1d_set_weights. */
  CONV1D_ERROR_NOT_BUILT = 13,
  /** The call is not allowed in the layer's state (e.g. changing kernel_size after build). */
  CONV1D_ERROR_INVALID_STATE = 14,
  /** A valid request this layer configuration cannot serve (e.g. the
   *  'threshold' activation, which Keras cannot call without arguments, or an
   *  identity initializer on a rank-3 kernel). */
  CONV1D_ERROR_UNSUPPORTED = 15,
  /** Malformed JSON or a config object Keras would not accept; a malformed,
   *  truncated or corrupt weight file. */
  CONV1D_ERROR_PARSE = 16,
  /** Memory could not be allocated. */
  CONV1D_ERROR_OUT_OF_MEMORY = 17,
  /** A file could not be opened, read or written (the message gives the path
   *  and the system's reason). A file that was read but is malformed gives
   *  CONV1D_ERROR_PARSE instead. */
  CONV1D_ERROR_IO = 18,
  /** A bug in the library; please report it with the message. */
  CONV1D_ERROR_INTERNAL = 19,
  /** A weight array's length is not exactly what the layer's shape needs. */
  CONV1D_ERROR_LENGTH_MISMATCH = 20,
  /* Not values: they make the enum's range all of int32, so any integer a C caller passes is
     representable and rejected with an error rather than undefined behaviour. */
  CONV1D_STATUS_ENUM_MIN_ = -0x7FFFFFFF - 1,
  CONV1D_STATUS_ENUM_MAX_ = 0x7FFFFFFF
} conv1d_status;

/** Layer parameters, set with conv1d_set_int / _double / _string and read
 *  with the matching getters. Ranges group them as zstd does; values are
 *  never renumbered. The Keras argument each one mirrors is given in [].
 *  "int" parameters also accept set_string with the Keras spelling where the
 *  Keras argument is a name (padding, data_format), and vice versa. */
typedef enum conv1d_param {
  /* 100-199: geometry. Those marked "fixed after build" shape the weights. */
  CONV1D_PARAM_FILTERS = 100,       /**< int > 0 [filters]; fixed after build */
  CONV1D_PARAM_KERNEL_SIZE = 101,   /**< int > 0 [kernel_size]; fixed after build */
  CONV1D_PARAM_STRIDES = 102,       /**< int > 0 [strides], default 1 */
  CONV1D_PARAM_DILATION_RATE = 103, /**< int > 0 [dilation_rate], default 1 */
  CONV1D_PARAM_GROUPS = 104,        /**< int > 0 dividing filters [groups], default 1; fixed after build;
                                         must also divide the input channels (checked at build) */
  CONV1D_PARAM_PADDING = 105,       /**< conv1d_padding, or "valid"/"same"/"causal" (any case) [padding] */
  CONV1D_PARAM_DATA_FORMAT = 106, /**< conv1d_data_format, or "channels_last"/"channels_first" (any case) [data_format];
                                       default from keras.json image_data_format, else channels_last */
  CONV1D_PARAM_USE_BIAS = 107,    /**< int 0/1 [use_bias], default 1; fixed after build */
  CONV1D_PARAM_IN_CHANNELS = 108, /**< read-only int: input channels once built, else 0 */

  /* 200-299: activation and weight creation. */
  CONV1D_PARAM_ACTIVATION = 200,         /**< Keras activation name, or conv1d_activation [activation] */
  CONV1D_PARAM_KERNEL_INITIALIZER = 201, /**< Keras initializer name or JSON config [kernel_initializer] */
  CONV1D_PARAM_BIAS_INITIALIZER = 202,   /**< Keras initializer name or JSON config [bias_initializer];
                                              "null" means glorot_uniform, as Keras' None does */
  CONV1D_PARAM_SEED = 203,               /**< int >= 0: seed for initializers that have none; -1 = random */

  /* 300-399: training. Regularizers and constraints take a Keras name or the JSON of a serialized
     Keras object (with its arguments), or "null" for none, and read back as that JSON or "null". */
  CONV1D_PARAM_KERNEL_REGULARIZER = 300,   /**< [kernel_regularizer] "l1", "l2", "l1l2" (factors 0), ... */
  CONV1D_PARAM_BIAS_REGULARIZER = 301,     /**< [bias_regularizer] */
  CONV1D_PARAM_ACTIVITY_REGULARIZER = 302, /**< [activity_regularizer], on the output after the activation,
                                                divided by the batch size */
  CONV1D_PARAM_KERNEL_CONSTRAINT = 303,    /**< [kernel_constraint] "max_norm", "min_max_norm", "non_neg",
                                                "unit_norm", or JSON with "axis" etc. */
  CONV1D_PARAM_BIAS_CONSTRAINT = 304,      /**< [bias_constraint] */
  CONV1D_PARAM_LORA_RANK = 305,  /**< int >= 0 [lora_rank], default 0 (off). Set before build, LoRA is enabled at
                                      build; set on a built layer, it enables LoRA now (Keras' enable_lora). */
  CONV1D_PARAM_LORA_ALPHA = 306, /**< double [lora_alpha]; the low-rank update is scaled by alpha / rank.
                                      Reads back as lora_rank until set, as in Keras. */
  CONV1D_PARAM_TRAINABLE = 307,  /**< int 0/1 [trainable], default 1. Weight penalties and constraints only
                                      apply to trainable weights. */

  /* 400-499: execution. Not part of the Keras config. */
  CONV1D_PARAM_ALGORITHM = 400,   /**< conv1d_algorithm or its name; default from $CONV1D_ALGORITHM, else auto */
  CONV1D_PARAM_VERBOSE = 401,     /**< int 0/1: print each new plan to stderr; default from $CONV1D_VERBOSE */
  CONV1D_PARAM_NUM_THREADS = 402, /**< int >= 0: threads a forward or backward call may use; 0 (default) = all */
  CONV1D_PARAM_MAX_ISA = 403,     /**< conv1d_isa or "scalar"/"avx2"/"avx512": the highest instruction set the
                                       kernels may use; default from $CONV1D_MAX_ISA, else the best the CPU has */
  CONV1D_PARAM_FIND = 404,        /**< int 0/1: with algorithm auto, time the candidates once per (batch, steps)
                                       and keep the fastest, like cuDNN's find (default 0: cost model) */

  /* 500-599: identity. */
  CONV1D_PARAM_NAME = 500,           /**< string [name], default "conv1d" */
  CONV1D_PARAM_DTYPE = 501,          /**< [dtype] the Keras dtype policy: set_string/get_string take its name,
                                          "float32" (default), "float64", "bfloat16" or "mixed_bfloat16"
                                          ("float16", "mixed_float16" and other Keras policies give
                                          CONV1D_ERROR_UNSUPPORTED, names Keras does not know
                                          CONV1D_ERROR_UNKNOWN_NAME); get_int gives the compute dtype
                                          (conv1d_dtype), set_int(conv1d_dtype) selects the plain policy of
                                          that dtype. Fixed after build. See "Data types" below. */
  CONV1D_PARAM_VARIABLE_DTYPE = 502, /**< read-only int conv1d_dtype: how the kernel and bias are stored
                                          (float32 for "mixed_bfloat16") */
  /* Not values: they make the enum's range all of int32, so any integer a C caller passes is
     representable and rejected with an error rather than undefined behaviour. */
  CONV1D_PARAM_ENUM_MIN_ = -0x7FFFFFFF - 1,
  CONV1D_PARAM_ENUM_MAX_ = 0x7FFFFFFF
} conv1d_param;

/** Padding modes (Keras 'padding'). */
typedef enum conv1d_padding {
  CONV1D_PADDING_VALID = 0,  /**< no padding: only positions where the whole kernel fits */
  CONV1D_PADDING_SAME = 1,   /**< TensorFlow split: the odd element goes on the right */
  CONV1D_PADDING_CAUSAL = 2, /**< left pad dilation*(kernel_size-1), then 'valid' */
  /* Not values: they make the enum's range all of int32, so any integer a C caller passes is
     representable and rejected with an error rather than undefined behaviour. */
  CONV1D_PADDING_ENUM_MIN_ = -0x7FFFFFFF - 1,
  CONV1D_PADDING_ENUM_MAX_ = 0x7FFFFFFF
} conv1d_padding;

/** Tensor layouts (Keras 'data_format'). */
typedef enum conv1d_data_format {
  CONV1D_CHANNELS_LAST = 0,  /**< (batch, steps, channels) */
  CONV1D_CHANNELS_FIRST = 1, /**< (batch, channels, steps) */
  /* Not values: they make the enum's range all of int32, so any integer a C caller passes is
     representable and rejected with an error rather than undefined behaviour. */
  CONV1D_DATA_FORMAT_ENUM_MIN_ = -0x7FFFFFFF - 1,
  CONV1D_DATA_FORMAT_ENUM_MAX_ = 0x7FFFFFFF
} conv1d_data_format;

/** Convolution algorithms. AUTO picks per (batch, steps) and caches the plan. */
typedef enum conv1d_algorithm {
  CONV1D_ALGORITHM_AUTO = 0,      /**< direct or gemm, chosen per (batch, steps) and cached */
  CONV1D_ALGORITHM_REFERENCE = 1, /**< naive loops, double accumulation; the test oracle, never picked by AUTO */
  CONV1D_ALGORITHM_DIRECT = 2,    /**< direct convolution */
  CONV1D_ALGORITHM_GEMM = 3,      /**< per-tap GEMM on OpenBLAS */
  /* Not values: they make the enum's range all of int32, so any integer a C caller passes is
     representable and rejected with an error rather than undefined behaviour. */
  CONV1D_ALGORITHM_ENUM_MIN_ = -0x7FFFFFFF - 1,
  CONV1D_ALGORITHM_ENUM_MAX_ = 0x7FFFFFFF
} conv1d_algorithm;

/** Instruction-set levels of the compute kernels, in increasing order. */
typedef enum conv1d_isa {
  CONV1D_ISA_SCALAR = 0, /**< portable C++ (baseline x86-64) */
  CONV1D_ISA_AVX2 = 1,   /**< AVX2 + FMA */
  CONV1D_ISA_AVX512 = 2, /**< AVX-512 F/BW/DQ/VL */
  /* Not values: they make the enum's range all of int32, so any integer a C caller passes is
     representable and rejected with an error rather than undefined behaviour. */
  CONV1D_ISA_ENUM_MIN_ = -0x7FFFFFFF - 1,
  CONV1D_ISA_ENUM_MAX_ = 0x7FFFFFFF
} conv1d_isa;

/** Element types of tensors and weights (conv1d_forward_ex, conv1d_set_weights_ex,
 *  conv1d_get_weights_ex) and of a layer's dtype policy (CONV1D_PARAM_DTYPE). */
typedef enum conv1d_dtype {
  CONV1D_DTYPE_FLOAT32 = 0,  /**< float (IEEE binary32) */
  CONV1D_DTYPE_FLOAT64 = 1,  /**< double (IEEE binary64) */
  CONV1D_DTYPE_BFLOAT16 = 2, /**< uint16_t holding the upper 16 bits of an IEEE float32 */
  /* Not values: they make the enum's range all of int32, so any integer a C caller passes is
     representable and rejected with an error rather than undefined behaviour. */
  CONV1D_DTYPE_ENUM_MIN_ = -0x7FFFFFFF - 1,
  CONV1D_DTYPE_ENUM_MAX_ = 0x7FFFFFFF
} conv1d_dtype;

/** Keras 3 built-in activations (the names Keras accepts as strings). The
 *  axis-wise ones (softmax, log_softmax, glu, sparsemax) act on the last axis
 *  of the output, which for channels_first is time, exactly as in Keras. glu
 *  halves that axis. THRESHOLD exists because Keras resolves the name, but it
 *  has no defaults, so selecting it gives CONV1D_ERROR_UNSUPPORTED. */
typedef enum conv1d_activation {
  CONV1D_ACTIVATION_LINEAR = 0,          /**< identity (Keras' activation=None) */
  CONV1D_ACTIVATION_RELU = 1,            /**< max(x, 0) */
  CONV1D_ACTIVATION_LEAKY_RELU = 2,      /**< negative slope 0.2 */
  CONV1D_ACTIVATION_RELU6 = 3,           /**< min(max(x, 0), 6) */
  CONV1D_ACTIVATION_ELU = 4,             /**< x if x > 0 else exp(x) - 1 */
  CONV1D_ACTIVATION_SELU = 5,            /**< scaled elu with the SELU constants */
  CONV1D_ACTIVATION_CELU = 6,            /**< max(x, 0) + expm1(min(x, 0)) */
  CONV1D_ACTIVATION_GELU = 7,            /**< exact (erf) form */
  CONV1D_ACTIVATION_SIGMOID = 8,         /**< 1 / (1 + exp(-x)) */
  CONV1D_ACTIVATION_HARD_SIGMOID = 9,    /**< relu6(x + 3) / 6 */
  CONV1D_ACTIVATION_SILU = 10,           /**< also "swish" */
  CONV1D_ACTIVATION_HARD_SILU = 11,      /**< also "hard_swish" */
  CONV1D_ACTIVATION_MISH = 12,           /**< x * tanh(softplus(x)) */
  CONV1D_ACTIVATION_SOFTPLUS = 13,       /**< log(1 + exp(x)), computed stably */
  CONV1D_ACTIVATION_SOFTSIGN = 14,       /**< x / (1 + |x|) */
  CONV1D_ACTIVATION_EXPONENTIAL = 15,    /**< exp(x) */
  CONV1D_ACTIVATION_TANH = 16,           /**< tanh(x) */
  CONV1D_ACTIVATION_TANH_SHRINK = 17,    /**< x - tanh(x) */
  CONV1D_ACTIVATION_HARD_TANH = 18,      /**< clip(x, -1, 1) */
  CONV1D_ACTIVATION_HARD_SHRINK = 19,    /**< threshold 0.5 */
  CONV1D_ACTIVATION_SOFT_SHRINK = 20,    /**< threshold 0.5 */
  CONV1D_ACTIVATION_THRESHOLD = 21,      /**< always CONV1D_ERROR_UNSUPPORTED */
  CONV1D_ACTIVATION_SPARSE_PLUS = 22,    /**< 0, (x + 1)^2 / 4 or x on (-inf, -1], (-1, 1), [1, inf) */
  CONV1D_ACTIVATION_SPARSE_SIGMOID = 23, /**< clip((x + 1) / 2, 0, 1) */
  CONV1D_ACTIVATION_SQUAREPLUS = 24,     /**< b = 4 */
  CONV1D_ACTIVATION_LOG_SIGMOID = 25,    /**< -softplus(-x) */
  CONV1D_ACTIVATION_SOFTMAX = 26,        /**< softmax over the output's last axis */
  CONV1D_ACTIVATION_LOG_SOFTMAX = 27,    /**< log of softmax over the output's last axis */
  CONV1D_ACTIVATION_GLU = 28,            /**< a * sigmoid(b) for the halves a, b of the last axis; halves that axis */
  CONV1D_ACTIVATION_SPARSEMAX = 29,      /**< sparsemax over the output's last axis */
  /* Not values: they make the enum's range all of int32, so any integer a C caller passes is
     representable and rejected with an error rather than undefined behaviour. */
  CONV1D_ACTIVATION_ENUM_MIN_ = -0x7FFFFFFF - 1,
  CONV1D_ACTIVATION_ENUM_MAX_ = 0x7FFFFFFF
} conv1d_activation;

/** The weights of a layer, in Keras' order of creation. With LoRA on, the
 *  kernel is frozen and the factors A and B are trained; the convolution uses
 *  kernel + (lora_alpha / lora_rank) * A B. */
typedef enum conv1d_weight {
  CONV1D_WEIGHT_KERNEL = 0, /**< (kernel_size, in_channels/groups, filters) */
  CONV1D_WEIGHT_BIAS = 1,   /**< (filters,), absent without use_bias */
  CONV1D_WEIGHT_LORA_A = 2, /**< (kernel_size, in_channels/groups, lora_rank), present with LoRA on */
  CONV1D_WEIGHT_LORA_B = 3, /**< (lora_rank, filters), present with LoRA on */
  /* Not values: they make the enum's range all of int32, so any integer a C caller passes is
     representable and rejected with an error rather than undefined behaviour. */
  CONV1D_WEIGHT_ENUM_MIN_ = -0x7FFFFFFF - 1,
  CONV1D_WEIGHT_ENUM_MAX_ = 0x7FFFFFFF
} conv1d_weight;

/** Flags of conv1d_backward (bitwise or). */
typedef enum conv1d_backward_flags {
  CONV1D_BACKWARD_DEFAULT = 0,
  /** Add the regularizers' gradients, as Keras adds layer.losses to the
   *  loss: the kernel and bias penalties' into dkernel and dbias (for
   *  trainable weights only; not the kernel's while LoRA is on), and the
   *  activity penalty's (divided by batch) into the output gradient. */
  CONV1D_BACKWARD_REGULARIZERS = 1,
  /** Add the gradients into dx, dkernel and dbias instead of overwriting
   *  them (gradient accumulation over micro-batches). */
  CONV1D_BACKWARD_ACCUMULATE = 2,
  /* Not values: see conv1d_status. */
  CONV1D_BACKWARD_FLAGS_ENUM_MIN_ = -0x7FFFFFFF - 1,
  CONV1D_BACKWARD_FLAGS_ENUM_MAX_ = 0x7FFFFFFF
} conv1d_backward_flags;

/** Opaque layer handle. */
typedef struct conv1d_layer conv1d_layer;

/* ---- Library information ---------------------------------------------- */

/** The loaded library's CONV1D_VERSION_NUMBER.
 *  @return major*10000 + minor*100 + patch of the library actually loaded */
CONV1D_API unsigned conv1d_version_number(void);
/** The loaded library's version as "major.minor.patch".
 *  @return a static string; never NULL */
CONV1D_API const char* conv1d_version_string(void);
/** A fixed English description of a status ("invalid value", ...). Never NULL.
 *  @param status any value; unknown ones give "unknown status"
 *  @return a static string */
CONV1D_API const char* conv1d_status_string(conv1d_status status);
/** The message of the last failed call on this thread (empty after a
 *  success). Valid until the next conv1d_* call on this thread. Never NULL.
 *  @return the message; copy it before calling the library again */
CONV1D_API const char* conv1d_last_error_message(void);
/** The name of an algorithm ("auto", "reference", "direct", "gemm"), or NULL.
 *  @param algorithm any value
 *  @return a static string, or NULL for a value that is not an algorithm */
CONV1D_API const char* conv1d_algorithm_name(conv1d_algorithm algorithm);
/** The Keras name of an activation ("relu", ...), or NULL.
 *  @param activation any value
 *  @return a static string, or NULL for a value that is not an activation */
CONV1D_API const char* conv1d_activation_name(conv1d_activation activation);
/** The name of a data type ("float32", "float64", "bfloat16"), or NULL.
 *  @param dtype any value
 *  @return a static string, or NULL for a value that is not a conv1d_dtype */
CONV1D_API const char* conv1d_dtype_name(conv1d_dtype dtype);

/* ---- Lifecycle --------------------------------------------------------- */

/** Create an unbuilt layer, like keras.layers.Conv1D(filters, kernel_size)
 *  with every other argument at its Keras default. Besides bad sizes it fails
 *  when the environment is invalid: CONV1D_ERROR_UNKNOWN_NAME for an unknown
 *  $CONV1D_ALGORITHM or $CONV1D_MAX_ISA, CONV1D_ERROR_INVALID_VALUE for a
 *  keras.json whose image_data_format is not channels_last/channels_first
 *  (Keras itself refuses to import then).
 *  @param filters     [filters], > 0
 *  @param kernel_size [kernel_size], > 0
 *  @param out         receives the new layer; left unchanged on failure
 *  @return CONV1D_OK, or the error */
CONV1D_API conv1d_status conv1d_create(int64_t filters, int64_t kernel_size, conv1d_layer** out);
/** Free a layer. NULL is accepted and ignored.
 *  @param layer a layer from conv1d_create, or NULL */
CONV1D_API void conv1d_destroy(conv1d_layer* layer);

/* ---- Configuration ----------------------------------------------------- */

/** Set an integer (or enum) parameter. Validation follows Keras: the value is
 *  checked alone and against the rest of the configuration (e.g. groups must
 *  divide filters; strides > 1 and dilation_rate > 1 exclude each other).
 *  @param layer the layer
 *  @param param the parameter
 *  @param value the value; conv1d_param_bounds gives the range
 *  @return CONV1D_OK, or the error (and the layer is unchanged) */
CONV1D_API conv1d_status conv1d_set_int(conv1d_layer* layer, conv1d_param param, int64_t value);
/** Set a floating-point parameter (CONV1D_PARAM_LORA_ALPHA).
 *  @param layer the layer
 *  @param param the parameter
 *  @param value the value
 *  @return CONV1D_OK, or the error (and the layer is unchanged) */
CONV1D_API conv1d_status conv1d_set_double(conv1d_layer* layer, conv1d_param param, double value);
/** Set a parameter by its Keras name or, for initializers, by the JSON of a
 *  serialized Keras object, e.g.
 *  {"class_name": "VarianceScaling", "config": {"scale": 2.0, "mode": "fan_out"}}.
 *  @param layer the layer
 *  @param param the parameter
 *  @param value a NUL-terminated name or JSON text; not kept after the call
 *  @return CONV1D_OK, or the error (and the layer is unchanged) */
CONV1D_API conv1d_status conv1d_set_string(conv1d_layer* layer, conv1d_param param, const char* value);

/** Read an integer (or enum) parameter.
 *  @param layer the layer
 *  @param param the parameter
 *  @param value receives the value
 *  @return CONV1D_OK, or the error */
CONV1D_API conv1d_status conv1d_get_int(const conv1d_layer* layer, conv1d_param param, int64_t* value);
/** Read a floating-point parameter.
 *  @param layer the layer
 *  @param param the parameter
 *  @param value receives the value
 *  @return CONV1D_OK, or the error */
CONV1D_API conv1d_status conv1d_get_double(const conv1d_layer* layer, conv1d_param param, double* value);
/** Read a parameter as text (the Keras spelling, or the JSON of an
 *  initializer). Writes at most `capacity` bytes including the terminating
 *  NUL into `buffer` (which may be NULL when capacity is 0) and stores the
 *  full length plus one in `*needed` if `needed` is not NULL. A buffer too
 *  short gives CONV1D_ERROR_BUFFER_TOO_SMALL (with a message) and leaves it
 *  untouched; so a size query with capacity 0 returns that status, with
 *  `*needed` set.
 *  @param layer    the layer
 *  @param param    the parameter
 *  @param buffer   receives the text and its NUL
 *  @param capacity size of `buffer` in bytes
 *  @param needed   receives the length plus one; may be NULL
 *  @return CONV1D_OK, CONV1D_ERROR_BUFFER_TOO_SMALL, or another error */
CONV1D_API conv1d_status conv1d_get_string(const conv1d_layer* layer, conv1d_param param, char* buffer, size_t capacity,
                                           size_t* needed);
/** Inclusive bounds of an integer parameter, for UIs and fuzzers.
 *  @param param the parameter
 *  @param lower receives the smallest accepted value
 *  @param upper receives the largest accepted value
 *  @return CONV1D_OK, or the error (CONV1D_ERROR_WRONG_TYPE for a string parameter) */
CONV1D_API conv1d_status conv1d_param_bounds(conv1d_param param, int64_t* lower, int64_t* upper);

/* ---- Weights ----------------------------------------------------------- */

/** Create the weights for `in_channels` input channels with the layer's
 *  initializers, as Keras' build(). Building again re-initializes them.
 *  @param layer       the layer
 *  @param in_channels input channels, > 0 and divisible by groups
 *  @return CONV1D_OK, or the error (and the layer is unchanged) */
CONV1D_API conv1d_status conv1d_build(conv1d_layer* layer, int64_t in_channels);
/** Number of floats in the kernel (kernel_size * in_channels/groups * filters)
 *  and bias (filters, or 0 without use_bias) of a built layer. Either pointer
 *  may be NULL.
 *  @param layer      a built layer
 *  @param kernel_len receives the kernel's length in floats, or NULL
 *  @param bias_len   receives the bias's length in floats, or NULL
 *  @return CONV1D_OK, or the error (CONV1D_ERROR_NOT_BUILT before build) */
CONV1D_API conv1d_status conv1d_weight_sizes(const conv1d_layer* layer, size_t* kernel_len, size_t* bias_len);
/** Set the weights in Keras layout. `kernel_len` must be exactly
 *  kernel_size * (in_channels/groups) * filters; on an unbuilt layer it
 *  determines in_channels (and builds the layer). `bias` must hold exactly
 *  `filters` values when use_bias is on, and must be NULL with bias_len 0
 *  otherwise. A length that is not exactly right gives
 *  CONV1D_ERROR_LENGTH_MISMATCH (use_bias=0 with a bias given:
 *  CONV1D_ERROR_INVALID_VALUE). The data are copied.
 *  @param layer      the layer
 *  @param kernel     the kernel, (kernel_size, in_channels/groups, filters) row-major
 *  @param kernel_len number of floats in `kernel`
 *  @param bias       the bias, (filters,); NULL without use_bias
 *  @param bias_len   number of floats in `bias`
 *  @return CONV1D_OK, or the error (and the layer is unchanged) */
CONV1D_API conv1d_status conv1d_set_weights(conv1d_layer* layer, const float* kernel, size_t kernel_len,
                                            const float* bias, size_t bias_len);
/** Copy the weights out in Keras layout. Buffers must be at least as long as
 *  conv1d_weight_sizes reports; `bias` may be NULL to skip it.
 *  @param layer      a built layer
 *  @param kernel     receives the kernel
 *  @param kernel_len capacity of `kernel` in floats
 *  @param bias       receives the bias, or NULL
 *  @param bias_len   capacity of `bias` in floats
 *  @return CONV1D_OK, or the error (and nothing is written) */
CONV1D_API conv1d_status conv1d_get_weights(const conv1d_layer* layer, float* kernel, size_t kernel_len, float* bias,
                                            size_t bias_len);
/** conv1d_set_weights with typed buffers: `kernel` and `bias` hold `dtype`
 *  elements, converted to the layer's variable dtype (CONV1D_PARAM_VARIABLE_DTYPE):
 *  exact into float64 variables, and into float32 ones from float32 or
 *  bfloat16; rounded to nearest even otherwise (float64 into float32, and
 *  anything but bfloat16 into the bfloat16 variables of the "bfloat16"
 *  policy). Lengths are element counts, with the rules of conv1d_set_weights.
 *  @param layer      the layer
 *  @param dtype      element type of `kernel` and `bias`
 *  @param kernel     the kernel, (kernel_size, in_channels/groups, filters) row-major
 *  @param kernel_len number of elements in `kernel`
 *  @param bias       the bias, (filters,); NULL without use_bias
 *  @param bias_len   number of elements in `bias`
 *  @return CONV1D_OK; CONV1D_ERROR_INVALID_VALUE for a value that is not a
 *          conv1d_dtype; otherwise as conv1d_set_weights (and the layer is
 *          unchanged on failure) */
CONV1D_API conv1d_status conv1d_set_weights_ex(conv1d_layer* layer, conv1d_dtype dtype, const void* kernel,
                                               size_t kernel_len, const void* bias, size_t bias_len);
/** conv1d_get_weights with typed buffers: the variables converted to `dtype`
 *  (exact when `dtype` is at least as wide as the variable dtype, else
 *  rounded to nearest even). A "mixed_bfloat16" layer gives its float32
 *  masters, not the bfloat16 copies it computes with.
 *  @param layer      a built layer
 *  @param dtype      element type of `kernel` and `bias`
 *  @param kernel     receives the kernel
 *  @param kernel_len capacity of `kernel` in elements
 *  @param bias       receives the bias, or NULL to skip it
 *  @param bias_len   capacity of `bias` in elements
 *  @return CONV1D_OK; CONV1D_ERROR_INVALID_VALUE for a value that is not a
 *          conv1d_dtype; otherwise as conv1d_get_weights (and nothing is written
 *          on failure) */
CONV1D_API conv1d_status conv1d_get_weights_ex(const conv1d_layer* layer, conv1d_dtype dtype, void* kernel,
                                               size_t kernel_len, void* bias, size_t bias_len);

/* ---- Shapes ------------------------------------------------------------ */

/** Length of the convolution's output for an input of `steps` steps under
 *  the layer's padding, strides and dilation.
 *  @param layer     the layer (built or not)
 *  @param steps     input length, > 0
 *  @param out_steps receives the output length
 *  @return CONV1D_OK, or the error (CONV1D_ERROR_EMPTY_OUTPUT for a too short 'valid' input) */
CONV1D_API conv1d_status conv1d_output_steps(const conv1d_layer* layer, int64_t steps, int64_t* out_steps);
/** Zeros the layer adds before and after the input of `steps` steps
 *  ('same': TensorFlow split; 'causal': dilation*(kernel_size-1) before).
 *  @param layer     the layer (built or not)
 *  @param steps     input length, > 0
 *  @param pad_left  receives the zeros before the first step
 *  @param pad_right receives the zeros after the last step
 *  @return CONV1D_OK, or the error */
CONV1D_API conv1d_status conv1d_padding_amounts(const conv1d_layer* layer, int64_t steps, int64_t* pad_left,
                                                int64_t* pad_right);
/** Full output shape for an input of (batch, steps) in the layer's data
 *  format: {batch, out_steps, filters} or {batch, filters, out_steps}, with
 *  the last axis halved by 'glu'. `shape` receives 3 values; `count` (may be
 *  NULL) the number of floats. With 'glu' an odd last axis (odd filters, or
 *  odd output steps with channels_first) gives CONV1D_ERROR_INVALID_VALUE,
 *  here and in conv1d_forward.
 *  @param layer the layer (built or not)
 *  @param batch batch size, > 0
 *  @param steps input length, > 0
 *  @param shape receives the three dimensions
 *  @param count receives their product, or NULL
 *  @return CONV1D_OK, or the error */
CONV1D_API conv1d_status conv1d_output_shape(const conv1d_layer* layer, int64_t batch, int64_t steps, int64_t shape[3],
                                             size_t* count);

/* ---- Running ----------------------------------------------------------- */

/** Forward pass y = activation(conv(x) + bias) for x of shape
 *  (batch, steps, channels) or (batch, channels, steps) per data_format.
 *  `x_len` and `y_len` are the buffers' lengths in floats; y must hold
 *  conv1d_output_shape's count. x and y must not overlap. Works for every
 *  dtype policy: it is conv1d_forward_ex with float32 x and y.
 *  @param layer    a built layer; not modified, so threads may share it
 *  @param x        the input
 *  @param x_len    number of floats in `x`, at least batch*steps*channels
 *  @param batch    batch size, > 0
 *  @param steps    input length, > 0
 *  @param channels input channels, equal to the layer's in_channels
 *  @param y        receives the output
 *  @param y_len    number of floats in `y`
 *  @return CONV1D_OK, or the error (and `y` is not written) */
CONV1D_API conv1d_status conv1d_forward(const conv1d_layer* layer, const float* x, size_t x_len, int64_t batch,
                                        int64_t steps, int64_t channels, float* y, size_t y_len);

/** Forward pass with typed buffers: x holds `x_dtype` elements and y receives
 *  `y_dtype` elements. x is cast to the layer's compute dtype (as Keras
 *  autocasts a layer's inputs; float64 to bfloat16 rounds once, to nearest
 *  even), the layer computes in its policy's dtype, and the result is cast to
 *  `y_dtype`: exact when y_dtype is at least as wide as the compute dtype,
 *  else rounded to nearest even. When x_dtype and y_dtype are the compute
 *  dtype nothing is copied (float32 and float64 layers); a bfloat16-computing
 *  layer widens x into per-thread scratch. conv1d_forward is this function
 *  with CONV1D_DTYPE_FLOAT32 for both and works for every policy. Lengths
 *  are element counts; x and y must not overlap. See "Data types" below for
 *  the numerics of each policy.
 *  @param layer    a built layer; not modified, so threads may share it
 *  @param x_dtype  element type of `x`
 *  @param x        the input, (batch, steps, channels) or (batch, channels, steps)
 *  @param x_len    number of elements in `x`, at least batch*steps*channels
 *  @param batch    batch size, > 0
 *  @param steps    input length, > 0
 *  @param channels input channels, equal to the layer's in_channels
 *  @param y_dtype  element type of `y`
 *  @param y        receives the output
 *  @param y_len    number of elements in `y`, at least conv1d_output_shape's count
 *  @return CONV1D_OK; CONV1D_ERROR_INVALID_VALUE for a value that is not a
 *          conv1d_dtype or overlapping buffers; CONV1D_ERROR_NULL_POINTER,
 *          CONV1D_ERROR_BUFFER_TOO_SMALL, CONV1D_ERROR_NOT_BUILT,
 *          CONV1D_ERROR_CHANNELS_MISMATCH or another error as conv1d_forward
 *          (and `y` is not written) */
CONV1D_API conv1d_status conv1d_forward_ex(const conv1d_layer* layer, conv1d_dtype x_dtype, const void* x, size_t x_len,
                                           int64_t batch, int64_t steps, int64_t channels, conv1d_dtype y_dtype,
                                           void* y, size_t y_len);

/** The algorithm the layer runs for inputs of (batch, steps): the forced one,
 *  or the one AUTO plans (and caches) for that shape. Needs a built layer.
 *  @param layer     a built layer
 *  @param batch     batch size, > 0
 *  @param steps     input length, > 0
 *  @param algorithm receives the algorithm (never CONV1D_ALGORITHM_AUTO)
 *  @return CONV1D_OK, or the error */
CONV1D_API conv1d_status conv1d_query_algorithm(const conv1d_layer* layer, int64_t batch, int64_t steps,
                                                conv1d_algorithm* algorithm);

/** One line describing the plan for inputs of (batch, steps): algorithm,
 *  kernel, instruction set, threads and why dispatch chose it (the line
 *  CONV1D_VERBOSE prints). Buffer rules as conv1d_get_string.
 *  @param layer    a built layer
 *  @param batch    batch size, > 0
 *  @param steps    input length, > 0
 *  @param buffer   receives the line and its NUL
 *  @param capacity size of `buffer` in bytes
 *  @param needed   receives the length plus one; may be NULL
 *  @return CONV1D_OK, CONV1D_ERROR_BUFFER_TOO_SMALL, or another error */
CONV1D_API conv1d_status conv1d_describe_plan(const conv1d_layer* layer, int64_t batch, int64_t steps, char* buffer,
                                              size_t capacity, size_t* needed);

/* ---- Training ---------------------------------------------------------- */

/** Backward pass. Given the forward's input x (batch, steps, channels in the
 *  layer's data format) and dy, the gradient of the loss with respect to the
 *  layer's output (after the activation; conv1d_output_shape's shape), it
 *  computes any of: dx, the gradient with respect to x (x's shape); dkernel,
 *  with respect to the kernel the convolution uses (Keras layout; with LoRA
 *  on, pass it to conv1d_lora_gradients); dbias (filters,). Pass NULL with
 *  length 0 for a gradient you do not want. `flags` is a combination of
 *  conv1d_backward_flags.
 *
 *  The pre-activation output is recomputed from x (one forward convolution
 *  and an output-sized float buffer per call; none for a linear activation
 *  without activity regularizer), so nothing is stored between calls and a
 *  built layer stays read-only: many threads may run backward at once.
 *  Derivatives are exact for every activation, the axis-wise ones over the
 *  last axis; at kinks they follow TensorFlow's gradients of the ops Keras
 *  builds (relu'(0) = 0, hard_tanh'(+-1) = 1; docs/training.md lists them).
 *  The result is the same bits for any thread count (with
 *  CONV1D_PARAM_FIND=1, up to the rounding of the algorithm timing picked
 *  for the recomputed pre-activation). Outputs must not overlap each other,
 *  x or dy. Needs the float32 dtype policy (CONV1D_ERROR_UNSUPPORTED
 *  otherwise: the gradients would be float32-accurate, not the policy's). */
CONV1D_API conv1d_status conv1d_backward(const conv1d_layer* layer, const float* x, size_t x_len, int64_t batch,
                                         int64_t steps, int64_t channels, const float* dy, size_t dy_len, float* dx,
                                         size_t dx_len, float* dkernel, size_t dkernel_len, float* dbias,
                                         size_t dbias_len, uint32_t flags);

/** The regularization loss Keras adds for this layer (layer.losses): the
 *  kernel and bias penalties of the trainable weights (the LoRA factors take
 *  the kernel regularizer, as in Keras) plus, when y is not NULL, the
 *  activity penalty of the output y (from conv1d_forward on an input of
 *  (batch, steps)) divided by batch. An OrthogonalRegularizer set on any of
 *  them gives CONV1D_ERROR_UNSUPPORTED: Keras raises too, since no Conv1D
 *  tensor has rank 2. Needs the float32 dtype policy, or "mixed_bfloat16"
 *  with y NULL (the penalties of its float32 variables);
 *  CONV1D_ERROR_UNSUPPORTED otherwise. */
CONV1D_API conv1d_status conv1d_regularization_loss(const conv1d_layer* layer, const float* y, size_t y_len,
                                                    int64_t batch, int64_t steps, double* loss);

/** Applies the kernel and bias constraints to the trainable weights in
 *  place, as a Keras optimizer does after each update. Needs the float32 or
 *  "mixed_bfloat16" dtype policy (float32 variables);
 *  CONV1D_ERROR_UNSUPPORTED otherwise. */
CONV1D_API conv1d_status conv1d_apply_constraints(conv1d_layer* layer);

/** Number of floats in one weight of a built layer (0 when absent). */
CONV1D_API conv1d_status conv1d_weight_size(const conv1d_layer* layer, conv1d_weight which, size_t* len);
/** Copy one weight out; `len` must be at least its size. */
CONV1D_API conv1d_status conv1d_get_weight(const conv1d_layer* layer, conv1d_weight which, float* data, size_t len);
/** Replace one weight of a built layer; `len` must be exactly its size. This
 *  is how an optimizer writes back an updated weight. */
CONV1D_API conv1d_status conv1d_set_weight(conv1d_layer* layer, conv1d_weight which, const float* data, size_t len);

/** With LoRA on: turns dkernel (from conv1d_backward) into the gradients of
 *  the factors, dA = s dkernel B^T and dB = s A^T dkernel with s = alpha/rank,
 *  shaped as conv1d_weight_size reports. Either output may be NULL. With
 *  CONV1D_BACKWARD_REGULARIZERS the kernel regularizer's gradient of each
 *  factor is added; with CONV1D_BACKWARD_ACCUMULATE the results are added.
 *  LoRA needs the float32 dtype policy: setting lora_rank on another policy,
 *  or another policy with lora_rank set, gives CONV1D_ERROR_UNSUPPORTED. */
CONV1D_API conv1d_status conv1d_lora_gradients(const conv1d_layer* layer, const float* dkernel, size_t dkernel_len,
                                               float* da, size_t da_len, float* db, size_t db_len, uint32_t flags);

/** Folds the LoRA update into the kernel (kernel += alpha/rank * A B) and
 *  turns LoRA off: lora_rank reads 0 again and the kernel is trainable. */
CONV1D_API conv1d_status conv1d_lora_merge(conv1d_layer* layer);

/* ---- Keras config ------------------------------------------------------ */

/** Create a layer from Keras 3 JSON: the dict of layer.get_config(), or a
 *  model's layer entry {"class_name": "Conv1D", "config": {...},
 *  "build_config": {"input_shape": [null, 10, 128]}}. Every Conv1D argument
 *  is read, from any Keras 3 version (dtype as a string or a DTypePolicy;
 *  initializers with or without input_axes/output_axes; regularizers and
 *  constraints with their arguments; lora_rank/lora_alpha). With a
 *  build_config the layer is built for its channel count, its weights drawn
 *  from the initializers. An unknown key, or a value Keras would refuse,
 *  fails with a message naming the key. The dtype policy sets
 *  CONV1D_PARAM_DTYPE: "float32", "float64", "bfloat16" and "mixed_bfloat16"
 *  are computed; other Keras policies ("mixed_float16", ...) give
 *  CONV1D_ERROR_UNSUPPORTED. */
CONV1D_API conv1d_status conv1d_create_from_config(const char* json, conv1d_layer** out);

/** The layer's get_config() as Keras 3.15 writes it (key order included),
 *  or with `wrapped` = 1 the model entry with "module", "class_name",
 *  "registered_name" and, once built, "build_config" (steps unknown: null).
 *  Execution parameters (algorithm, threads, ...) and the seed are not part
 *  of it. Buffer rules as conv1d_get_string. */
CONV1D_API conv1d_status conv1d_get_config(const conv1d_layer* layer, int wrapped, char* buffer, size_t capacity,
                                           size_t* needed);

/** The best instruction set this CPU offers the kernels (before any
 *  CONV1D_MAX_ISA cap).
 *  @return the instruction-set level */
CONV1D_API conv1d_isa conv1d_cpu_isa(void);

/* ---- Keras weight files ---------------------------------------------- */

/** Load a layer's kernel and bias from a file Keras wrote, as Keras'
 *  load_own_variables does. `path` may be
 *  - a Keras 3 weights file (`model.save_weights("m.weights.h5")`): the
 *    datasets `<path>/vars/0` (kernel) and `<path>/vars/1` (bias), e.g.
 *    `layers/conv1d/vars/0`;
 *  - a `.keras` model archive (`model.save("m.keras")`): the same, in its
 *    `model.weights.h5` entry (stored, or deflated when zlib was available
 *    at build time; other compression methods give CONV1D_ERROR_UNSUPPORTED);
 *  - a legacy `.h5` file (`model.save("m.h5")` or Keras 2's
 *    `save_weights("m.h5")`): the group `[model_weights/]<layer name>` with
 *    the datasets its `weight_names` attribute lists (`conv1d/kernel:0` and
 *    `conv1d/bias:0` from Keras 2, `conv1d/kernel` and `conv1d/bias` from
 *    Keras 3).
 *  The format is recognised from the content, not the file name.
 *
 *  `layer_key` picks the layer: a path in the file (`"layers/conv1d_1"`, or
 *  any trailing part of it such as `"conv1d_1"`; Keras numbers these paths
 *  per class, in model order), or the Keras layer name (recorded by Keras
 *  3.6 and later in the `name` attribute of the `vars` group, and the group
 *  name of legacy files). NULL picks the file's only Conv1D-like layer (a
 *  rank-3 float kernel and an optional matching bias). A key that matches
 *  nothing gives CONV1D_ERROR_UNKNOWN_NAME, and NULL with several candidates
 *  or a key matching several layers CONV1D_ERROR_INVALID_VALUE; the message
 *  lists the candidates with their shapes. The full path never matches more
 *  than one layer. An empty key gives CONV1D_ERROR_INVALID_VALUE.
 *
 *  On an unbuilt layer the kernel's shape (kernel_size, in_channels/groups,
 *  filters) sets in_channels and builds the layer. On a built one the shapes
 *  must be exactly the layer's. A kernel of another rank, kernel_size or
 *  filters, or another shape than the built layer's, gives
 *  CONV1D_ERROR_LENGTH_MISMATCH naming both shapes; a file without a bias
 *  for a layer with use_bias=1, or with one for use_bias=0, gives
 *  CONV1D_ERROR_INVALID_VALUE. float32, float64 (rounded to float32, but
 *  kept exactly by a float64 layer), float16 and Keras' bfloat16 datasets are read
 *  (and converted to the layer's variable dtype); other dtypes give
 *  CONV1D_ERROR_UNSUPPORTED. With LoRA on (or lora_rank set before the
 *  build), the kernel is replaced and both LoRA factors are zeroed, as in
 *  Keras: the file holds the merged kernel.
 *
 *  Needs a library built with HDF5 (CMake option CONV1D_WITH_HDF5); without
 *  it this returns CONV1D_ERROR_UNSUPPORTED (or CONV1D_ERROR_IO if the file
 *  cannot be read at all). A file that cannot be opened or read gives
 *  CONV1D_ERROR_IO; a malformed, truncated or corrupt one CONV1D_ERROR_PARSE.
 *  On any failure the layer is unchanged. */
CONV1D_API conv1d_status conv1d_load_weights_keras(conv1d_layer* layer, const char* path, const char* layer_key);

/** Load one weight from a NumPy `.npy` file (format version 1.0, 2.0 or
 *  3.0). The array must be in C order (`fortran_order: False`) with dtype
 *  float32 or float64 (or float16), in either byte order (`'<f4'`, `'>f4'`,
 *  `'<f8'`, ...), and have the weight's Keras shape: kernel
 *  (kernel_size, in_channels/groups, filters), bias (filters,), LoRA A
 *  (kernel_size, in_channels/groups, lora_rank), LoRA B (lora_rank, filters).
 *  float64 values are rounded to float32, except into a float64 layer,
 *  which keeps them exactly.
 *
 *  Loading the kernel into an unbuilt layer builds it, as conv1d_build would
 *  with in_channels taken from the shape (so the bias comes from the bias
 *  initializer), then sets the kernel. Other weights need a built layer
 *  (CONV1D_ERROR_NOT_BUILT) that has them (CONV1D_ERROR_INVALID_VALUE
 *  otherwise). Like conv1d_set_weight, setting the kernel of a layer with
 *  LoRA on leaves the factors as they are. A shape that is not the weight's
 *  gives CONV1D_ERROR_LENGTH_MISMATCH naming both shapes; another dtype or
 *  Fortran order CONV1D_ERROR_UNSUPPORTED; a malformed or truncated file
 *  CONV1D_ERROR_PARSE; a file that cannot be read CONV1D_ERROR_IO. On any
 *  failure the layer is unchanged. */
CONV1D_API conv1d_status conv1d_load_npy(conv1d_layer* layer, conv1d_weight which, const char* path);

/** Save one weight of a built layer to `path` as a NumPy `.npy` file
 *  (version 1.0, little-endian float32 `'<f4'`, C order) with its Keras
 *  shape, which numpy.load reads back. The file is created or truncated; a
 *  weight the layer does not have gives CONV1D_ERROR_INVALID_VALUE and
 *  writes nothing, and a failure to create or write it CONV1D_ERROR_IO. */
CONV1D_API conv1d_status conv1d_save_npy(const conv1d_layer* layer, conv1d_weight which, const char* path);

/* ---- Streaming --------------------------------------------------------- */

/** Opaque handle of a stream: stateful, chunk-by-chunk inference on a built
 *  layer (added in 1.2; docs/streaming.md has the details).
 *
 *  A stream runs a layer with padding 'causal' or 'valid' (and the float32
 *  dtype policy) over sequences that arrive a few frames at a time, as a
 *  real-time WaveNet or TCN does.
 *  With H = (kernel_size - 1) * dilation_rate, it keeps the last H input
 *  frames of each sequence and the number of frames seen, so each chunk, of
 *  any length, yields exactly the outputs it completes and nothing is
 *  computed twice. 'causal' output t reads frames t*strides - H +
 *  j*dilation_rate (j < kernel_size; frames before the first are the causal
 *  zeros), so it is complete with frame t*strides; 'valid' output t reads
 *  frames t*strides + j*dilation_rate and is complete with frame
 *  t*strides + H. After n frames in all there are ceil(n / strides) outputs
 *  for 'causal', and for 'valid' (n - H - 1) / strides + 1 once n > H (none
 *  before): what conv1d_forward gives for the whole sequence.
 *
 *  Chunks and outputs follow the layer's data_format: a chunk of `frames`
 *  frames is (batch, frames, channels) for channels_last and (batch,
 *  channels, frames) for channels_first, its outputs (batch, out_frames,
 *  filters) or (batch, filters, out_frames), filters halved by 'glu'.
 *
 *  Exactness: the outputs of all chunks, concatenated along time, are
 *  bitwise equal to one conv1d_forward over the whole sequence whenever the
 *  layer's CONV1D_PARAM_ALGORITHM is forced (reference, direct or gemm), for
 *  any CONV1D_PARAM_MAX_ISA, thread count and chunking. Under auto the stream
 *  fixes one algorithm for all chunks (the one auto picks for a 256-step
 *  window), while conv1d_forward plans per length, so the two agree to
 *  float32 rounding; find mode does not apply to streams.
 *
 *  The stream reads the layer at every call: weights set between chunks
 *  (conv1d_set_weights, conv1d_set_weight, ...) apply from the next chunk,
 *  as do the algorithm, ISA cap, thread count and an elementwise activation.
 *  A change of padding, strides, dilation_rate or data_format, a rebuild
 *  with other in_channels, or an activation over the last axis with
 *  channels_first makes every later call fail with
 *  CONV1D_ERROR_INVALID_STATE (changing it back makes the stream usable
 *  again). The layer must outlive its streams.
 *
 *  Threads: a stream is used by one thread at a time. Streams only read
 *  their layer, so several streams of one layer may run at once, alongside
 *  conv1d_forward on it, but not alongside a call that changes the layer.
 *
 *  Memory: the stream owns (batch x channels x about 2 x history + 64)
 *  floats, allocated at creation and grown only for a longer chunk than any
 *  before, so a steady chunk length allocates nothing after its first chunk.
 *  Failed calls change nothing: the stream's state and the caller's buffers
 *  are as before, and the stream stays usable. */
typedef struct conv1d_stream conv1d_stream;

/** Creates a stream for `batch` sequences on a built layer, starting with
 *  no frames seen.
 *  @param layer a built layer with padding 'causal' or 'valid' and the
 *               float32 dtype policy; it must outlive the stream
 *  @param batch number of sequences fed side by side, > 0
 *  @param out   receives the stream; untouched on failure
 *  @return CONV1D_OK; CONV1D_ERROR_NULL_POINTER (layer or out NULL),
 *          CONV1D_ERROR_NOT_BUILT, CONV1D_ERROR_INVALID_SIZE (batch <= 0),
 *          CONV1D_ERROR_SIZE_OVERFLOW, CONV1D_ERROR_UNSUPPORTED (padding
 *          'same', whose outputs need later frames; softmax, log_softmax,
 *          glu or sparsemax with channels_first, which act over time; or a
 *          dtype policy other than "float32"),
 *          CONV1D_ERROR_INVALID_VALUE ('glu' with odd filters) or
 *          CONV1D_ERROR_OUT_OF_MEMORY */
CONV1D_API conv1d_status conv1d_stream_create(const conv1d_layer* layer, int64_t batch, conv1d_stream** out);

/** Destroys a stream. It does not touch the layer, so it may run after the
 *  layer is destroyed.
 *  @param stream the stream, or NULL (a no-op) */
CONV1D_API void conv1d_stream_destroy(conv1d_stream* stream);

/** Returns the stream to its fresh state: no frames seen, and for 'causal'
 *  the zeros of the causal padding before the next frame. Keeps its memory.
 *  @param stream the stream
 *  @return CONV1D_OK or CONV1D_ERROR_NULL_POINTER */
CONV1D_API conv1d_status conv1d_stream_reset(conv1d_stream* stream);

/** How many output frames per sequence the next `frames` input frames would
 *  complete, to size the output buffer of conv1d_stream_process: for
 *  `frames` = 0 it is 0, and the count varies from chunk to chunk with
 *  strides > 1 and, for 'valid', until the first output.
 *  @param stream     the stream
 *  @param frames     input frames per sequence, >= 0
 *  @param out_frames receives the count
 *  @return CONV1D_OK; CONV1D_ERROR_NULL_POINTER, CONV1D_ERROR_INVALID_SIZE
 *          (frames < 0), CONV1D_ERROR_SIZE_OVERFLOW (the frame count would
 *          pass INT64_MAX), CONV1D_ERROR_INVALID_STATE or
 *          CONV1D_ERROR_INVALID_VALUE (the layer changed, see conv1d_stream) */
CONV1D_API conv1d_status conv1d_stream_output_frames(const conv1d_stream* stream, int64_t frames, int64_t* out_frames);

/** Feeds the next `frames` frames of every sequence and writes the outputs
 *  they complete. x may be the same memory as y (it is copied before y is
 *  written).
 *  @param stream     the stream
 *  @param x          the chunk, batch*frames*channels floats in the layer's
 *                    data_format; may be NULL when frames is 0
 *  @param x_len      number of floats in x
 *  @param frames     frames per sequence in the chunk, >= 0 (0: a no-op)
 *  @param y          receives the completed outputs, batch*out_frames*filters
 *                    floats (filters halved by 'glu') in the layer's
 *                    data_format; may be NULL when none are completed
 *                    (conv1d_stream_output_frames tells)
 *  @param y_len      number of floats available in y
 *  @param out_frames receives the number of output frames per sequence
 *                    written; may be NULL
 *  @return CONV1D_OK; CONV1D_ERROR_NULL_POINTER (stream, or x or y when
 *          needed), CONV1D_ERROR_INVALID_SIZE (frames < 0),
 *          CONV1D_ERROR_SIZE_OVERFLOW (frames > 2^31-1, or sizes overflow),
 *          CONV1D_ERROR_BUFFER_TOO_SMALL (x_len or y_len short),
 *          CONV1D_ERROR_INVALID_STATE or CONV1D_ERROR_INVALID_VALUE (the
 *          layer changed, see conv1d_stream) or CONV1D_ERROR_OUT_OF_MEMORY;
 *          on failure nothing is written and the stream is unchanged */
CONV1D_API conv1d_status conv1d_stream_process(conv1d_stream* stream, const float* x, size_t x_len, int64_t frames,
                                               float* y, size_t y_len, int64_t* out_frames);

/** The number of frames per sequence fed since creation or the last reset.
 *  @param stream the stream
 *  @param frames receives the count
 *  @return CONV1D_OK or CONV1D_ERROR_NULL_POINTER */
CONV1D_API conv1d_status conv1d_stream_frames_seen(const conv1d_stream* stream, int64_t* frames);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CONV1D_CONV1D_H */
