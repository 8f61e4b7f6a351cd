/**
 * @file conv1d.hpp
 * @brief Optional header-only C++17 wrapper over the libconv1d C API.
 *
 * Everything here is inline code over the functions of conv1d.h: it links
 * against the same shared library and adds no symbols to it, so the C ABI
 * stays the only binary contract. What the wrapper adds:
 *
 * - conv1d::Layer owns a conv1d_layer handle (move-only; destroyed with the
 *   object) and has one typed getter and setter per parameter. Setters
 *   return the layer, so a Keras constructor call reads as a chain:
 *   @code
 *   conv1d::Layer layer(32, 3);  // keras.layers.Conv1D(32, 3, ...)
 *   layer.set_padding("causal").set_dilation_rate(2).set_activation(conv1d::Activation::relu);
 *   @endcode
 * - Every failed C call throws conv1d::Error, which carries the
 *   conv1d_status and the library's message. A failed call changes nothing,
 *   exactly as in C, so the layer stays usable after the exception.
 * - Training (version 1.1 of the C API): Layer::backward returns the
 *   gradients in a conv1d::Gradients or writes them into caller buffers;
 *   regularization_loss, apply_constraints, weight / set_weight and the LoRA
 *   members complete an optimizer step, and from_config / config read and
 *   write the Keras config. examples/cpp/train.cpp is a training loop.
 * - Streaming (version 1.2): conv1d::Stream, made by Layer::stream, feeds a
 *   causal or valid layer chunk by chunk, keeping the history itself.
 * - Buffers are passed as conv1d::Span, a pointer and a length, made from
 *   any contiguous container (std::vector, std::array, a C array) or from an
 *   explicit pointer and length. Every length reaches the C API, which
 *   checks it.
 *
 * Threads: the const members of Layer are the C API's read-only calls
 * (forward, backward, the queries, the getters); any number of threads may run them on
 * one built layer at once. The non-const members must not run concurrently
 * with any other call on the same layer.
 */
#ifndef CONV1D_CONV1D_HPP
#define CONV1D_CONV1D_HPP

#include <conv1d/conv1d.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

/** @brief The C++ interface of libconv1d. */
namespace conv1d {

/**
 * @brief The exception every wrapper function throws when a C call fails.
 *
 * what() reads "<status string>: <message>", for example
 * "size must be positive: The `strides` argument must be ...".
 */
class Error : public std::runtime_error {
 public:
  /**
   * @brief An error with a status and the library's message.
   * @param status  the status the C call returned (never CONV1D_OK when thrown by the wrapper)
   * @param message the text of conv1d_last_error_message() right after that call
   */
  Error(conv1d_status status, const std::string& message)
      : std::runtime_error(compose(status, message)), status_(status), message_(message) {}

  /** @brief The conv1d_status of the failed call. */
  conv1d_status status() const noexcept { return status_; }

  /** @brief The library's message alone, without the status text (may be empty). */
  const char* message() const noexcept { return message_.what(); }

 private:
  static std::string compose(conv1d_status status, const std::string& message) {
    std::string text = conv1d_status_string(status);
    if (!message.empty()) text += ": " + message;
    return text;
  }

  conv1d_status status_;
  // A runtime_error holds its text in a reference-counted buffer, so Error
  // stays nothrow-copyable, as exceptions should be.
  std::runtime_error message_;
};

/// @cond INTERNAL
namespace detail {

// Throws conv1d::Error for a failed status. The message is copied before any
// other conv1d_* call, as the C API requires.
inline void check(conv1d_status status) {
  if (status != CONV1D_OK) throw Error(status, conv1d_last_error_message());
}

// Reads a string through the C API's buffer protocol: try a buffer, and grow
// it to the size the library reports while it answers BUFFER_TOO_SMALL.
template <class Call>
std::string read_string(Call&& call) {
  std::string text(128, '\0');
  for (;;) {
    size_t needed = 0;
    const conv1d_status status = call(&text[0], text.size(), &needed);
    if (status == CONV1D_OK) {
      text.resize(needed > 0 ? needed - 1 : 0);
      return text;
    }
    if (status != CONV1D_ERROR_BUFFER_TOO_SMALL || needed <= text.size()) check(status);
    text.assign(needed, '\0');
  }
}

// The C API takes NUL-terminated strings; an embedded NUL would silently cut
// the value short, so it is refused here.
inline const char* c_string(const std::string& value) {
  if (value.find('\0') != std::string::npos)
    throw Error(CONV1D_ERROR_INVALID_VALUE, "the string contains a NUL character");
  return value.c_str();
}

// The C API reads NULL as "not wanted" for optional buffers; an empty view is
// passed as NULL so that a default Span or an empty vector means that.
template <class T>
T* or_null(T* data, size_t size) noexcept {
  return size == 0 ? nullptr : data;
}

// batch * steps * channels when the arguments describe an input that fits in
// x_len floats, else 0. An input that does not fit is refused by the library,
// which then also explains why.
inline size_t input_count(size_t x_len, int64_t batch, int64_t steps, int64_t channels) noexcept {
  if (batch <= 0 || steps <= 0 || channels <= 0) return 0;
  const uint64_t b = static_cast<uint64_t>(batch), s = static_cast<uint64_t>(steps),
                 c = static_cast<uint64_t>(channels);
  if (s > x_len / b) return 0;
  if (c > x_len / (b * s)) return 0;
  return static_cast<size_t>(b * s * c);
}

template <class C, class T, class = void>
struct is_contiguous_of : std::false_type {};

template <class C, class T>
struct is_contiguous_of<C, T,
                        std::void_t<decltype(std::data(std::declval<C&>())), decltype(std::size(std::declval<C&>()))>>
    : std::is_convertible<std::remove_pointer_t<decltype(std::data(std::declval<C&>()))> (*)[], T (*)[]> {};

}  // namespace detail
/// @endcond

/**
 * @brief A pointer and a length: the minimal view of contiguous memory this
 *        wrapper passes to the C API (C++17 has no std::span).
 *
 * Span<const float> is made from a const or mutable contiguous container or
 * from a pointer and a length; Span<float> from a mutable container or a
 * pointer and a length. A Span never owns memory: the container must outlive
 * it.
 *
 * @tparam T the element type, `float` or `const float`
 */
template <class T>
class Span {
 public:
  /** @brief The element type. */
  using element_type = T;

  /** @brief An empty view (data() is NULL, size() is 0). */
  constexpr Span() noexcept = default;

  /**
   * @brief A view of `size` elements at `data`.
   * @param data the first element (may be NULL when size is 0)
   * @param size the number of elements
   */
  constexpr Span(T* data, size_t size) noexcept : data_(data), size_(size) {}

  /**
   * @brief A view of a contiguous container: anything with std::data and
   *        std::size whose elements convert to T (std::vector, std::array, a
   *        C array, another Span).
   * @param container the container; it must outlive the view
   */
  template <class Container,
            class = std::enable_if_t<!std::is_same_v<std::remove_cv_t<std::remove_reference_t<Container>>, Span> &&
                                     detail::is_contiguous_of<std::remove_reference_t<Container>, T>::value>>
  constexpr Span(Container&& container) noexcept  // NOLINT(google-explicit-constructor): a view converts implicitly
      : data_(std::data(container)), size_(std::size(container)) {}

  /** @brief The first element, or NULL for an empty default view. */
  constexpr T* data() const noexcept { return data_; }
  /** @brief The number of elements. */
  constexpr size_t size() const noexcept { return size_; }
  /** @brief Whether the view has no elements. */
  constexpr bool empty() const noexcept { return size_ == 0; }
  /** @brief Iterator to the first element. */
  constexpr T* begin() const noexcept { return data_; }
  /** @brief Iterator past the last element. */
  constexpr T* end() const noexcept { return data_ + size_; }
  /**
   * @brief Element access without bounds checking.
   * @param i the index, less than size()
   * @return a reference to element i
   */
  constexpr T& operator[](size_t i) const noexcept { return data_[i]; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

/** @brief Keras `padding` (conv1d_padding). */
enum class Padding : int32_t {
  valid = CONV1D_PADDING_VALID,   ///< no padding: "valid"
  same = CONV1D_PADDING_SAME,     ///< TensorFlow split, odd element on the right: "same"
  causal = CONV1D_PADDING_CAUSAL  ///< dilation*(kernel_size-1) zeros on the left: "causal"
};

/** @brief Keras `data_format` (conv1d_data_format). */
enum class DataFormat : int32_t {
  channels_last = CONV1D_CHANNELS_LAST,   ///< (batch, steps, channels), the Keras default
  channels_first = CONV1D_CHANNELS_FIRST  ///< (batch, channels, steps)
};

/** @brief Convolution algorithms (conv1d_algorithm). */
enum class Algorithm : int32_t {
  auto_ = CONV1D_ALGORITHM_AUTO,           ///< "auto": chosen per (batch, steps); `auto` is a C++ keyword
  reference = CONV1D_ALGORITHM_REFERENCE,  ///< "reference": naive loops with double accumulation
  direct = CONV1D_ALGORITHM_DIRECT,        ///< "direct": direct convolution, SIMD where available
  gemm = CONV1D_ALGORITHM_GEMM             ///< "gemm": one OpenBLAS GEMM per kernel tap
};

/** @brief Instruction-set levels of the kernels, in increasing order (conv1d_isa). */
enum class Isa : int32_t {
  scalar = CONV1D_ISA_SCALAR,  ///< "scalar": portable code
  avx2 = CONV1D_ISA_AVX2,      ///< "avx2": AVX2 + FMA
  avx512 = CONV1D_ISA_AVX512   ///< "avx512": AVX-512 F/BW/DQ/VL
};

/** @brief Keras 3 built-in activations (conv1d_activation); the enumerator is the Keras name. */
enum class Activation : int32_t {
  linear = CONV1D_ACTIVATION_LINEAR,                  ///< "linear" (Keras' None)
  relu = CONV1D_ACTIVATION_RELU,                      ///< "relu"
  leaky_relu = CONV1D_ACTIVATION_LEAKY_RELU,          ///< "leaky_relu", negative slope 0.2
  relu6 = CONV1D_ACTIVATION_RELU6,                    ///< "relu6"
  elu = CONV1D_ACTIVATION_ELU,                        ///< "elu"
  selu = CONV1D_ACTIVATION_SELU,                      ///< "selu"
  celu = CONV1D_ACTIVATION_CELU,                      ///< "celu"
  gelu = CONV1D_ACTIVATION_GELU,                      ///< "gelu", exact erf form
  sigmoid = CONV1D_ACTIVATION_SIGMOID,                ///< "sigmoid"
  hard_sigmoid = CONV1D_ACTIVATION_HARD_SIGMOID,      ///< "hard_sigmoid", relu6(x + 3) / 6
  silu = CONV1D_ACTIVATION_SILU,                      ///< "silu" (also "swish")
  hard_silu = CONV1D_ACTIVATION_HARD_SILU,            ///< "hard_silu" (also "hard_swish")
  mish = CONV1D_ACTIVATION_MISH,                      ///< "mish"
  softplus = CONV1D_ACTIVATION_SOFTPLUS,              ///< "softplus"
  softsign = CONV1D_ACTIVATION_SOFTSIGN,              ///< "softsign"
  exponential = CONV1D_ACTIVATION_EXPONENTIAL,        ///< "exponential"
  tanh = CONV1D_ACTIVATION_TANH,                      ///< "tanh"
  tanh_shrink = CONV1D_ACTIVATION_TANH_SHRINK,        ///< "tanh_shrink"
  hard_tanh = CONV1D_ACTIVATION_HARD_TANH,            ///< "hard_tanh"
  hard_shrink = CONV1D_ACTIVATION_HARD_SHRINK,        ///< "hard_shrink", threshold 0.5
  soft_shrink = CONV1D_ACTIVATION_SOFT_SHRINK,        ///< "soft_shrink", threshold 0.5
  threshold = CONV1D_ACTIVATION_THRESHOLD,            ///< "threshold": selecting it throws CONV1D_ERROR_UNSUPPORTED
  sparse_plus = CONV1D_ACTIVATION_SPARSE_PLUS,        ///< "sparse_plus"
  sparse_sigmoid = CONV1D_ACTIVATION_SPARSE_SIGMOID,  ///< "sparse_sigmoid"
  squareplus = CONV1D_ACTIVATION_SQUAREPLUS,          ///< "squareplus", b = 4
  log_sigmoid = CONV1D_ACTIVATION_LOG_SIGMOID,        ///< "log_sigmoid"
  softmax = CONV1D_ACTIVATION_SOFTMAX,                ///< "softmax" over the output's last axis
  log_softmax = CONV1D_ACTIVATION_LOG_SOFTMAX,        ///< "log_softmax" over the output's last axis
  glu = CONV1D_ACTIVATION_GLU,                        ///< "glu": halves the output's last axis
  sparsemax = CONV1D_ACTIVATION_SPARSEMAX             ///< "sparsemax" over the output's last axis
};

/** @brief Element types of tensors and weights (conv1d_dtype). */
enum class DType : int32_t {
  float32 = CONV1D_DTYPE_FLOAT32,   ///< "float32": float
  float64 = CONV1D_DTYPE_FLOAT64,   ///< "float64": double
  bfloat16 = CONV1D_DTYPE_BFLOAT16  ///< "bfloat16": uint16_t holding the upper 16 bits of a float
};

/** @brief Lengths in floats of a built layer's kernel and bias (conv1d_weight_sizes). */
struct WeightSizes {
  size_t kernel = 0;  ///< kernel_size * in_channels/groups * filters
  size_t bias = 0;    ///< filters, or 0 without use_bias
};

/** @brief A copy of a layer's weights in Keras layout. */
struct Weights {
  std::vector<float> kernel;  ///< (kernel_size, in_channels/groups, filters), row-major
  std::vector<float> bias;    ///< (filters,), empty without use_bias
};

/** @brief A copy of a layer's weights in Keras layout, as double (conv1d_get_weights_ex). */
struct Weights64 {
  std::vector<double> kernel;  ///< (kernel_size, in_channels/groups, filters), row-major
  std::vector<double> bias;    ///< (filters,), empty without use_bias
};

/** @brief An output shape for an input of (batch, steps) (conv1d_output_shape). */
struct OutputShape {
  std::array<int64_t, 3> dims{};  ///< {batch, out_steps, filters} or {batch, filters, out_steps} per data_format
  size_t count = 0;               ///< number of floats: the product of dims
};

/** @brief Zeros added before and after an input (conv1d_padding_amounts). */
struct PaddingAmounts {
  int64_t left = 0;   ///< zeros before the first step
  int64_t right = 0;  ///< zeros after the last step
};

/** @brief Inclusive bounds of an integer parameter (conv1d_param_bounds). */
struct Bounds {
  int64_t lower = 0;  ///< smallest accepted value
  int64_t upper = 0;  ///< largest accepted value
};

/**
 * @brief Options of Layer::backward and Layer::lora_gradients (conv1d_backward_flags);
 *        combine them with `|`.
 */
enum class BackwardFlags : uint32_t {
  none = CONV1D_BACKWARD_DEFAULT,  ///< overwrite the gradient buffers; no regularizers
  /** Add the regularizers' gradients, as Keras adds layer.losses to the loss: the kernel and
   *  bias penalties' (trainable weights only), and the activity penalty's divided by batch. */
  regularizers = CONV1D_BACKWARD_REGULARIZERS,
  /** Add into the caller's gradient buffers instead of overwriting them (gradient
   *  accumulation); only the overloads that take buffers accept it. */
  accumulate = CONV1D_BACKWARD_ACCUMULATE
};

/**
 * @brief Both sets of options.
 * @param a some options
 * @param b more options
 * @return their union
 */
constexpr BackwardFlags operator|(BackwardFlags a, BackwardFlags b) noexcept {
  return static_cast<BackwardFlags>(static_cast<uint32_t>(a) | static_cast<uint32_t>(b));
}

/**
 * @brief The options two sets share, e.g. `(flags & BackwardFlags::accumulate) != BackwardFlags::none`.
 * @param a some options
 * @param b other options
 * @return their intersection
 */
constexpr BackwardFlags operator&(BackwardFlags a, BackwardFlags b) noexcept {
  return static_cast<BackwardFlags>(static_cast<uint32_t>(a) & static_cast<uint32_t>(b));
}

/**
 * @brief Which gradients the vector-returning Layer::backward computes; combine them with `|`.
 *        A gradient not asked for costs nothing.
 */
enum class Grad : uint32_t {
  none = 0,                    ///< none: backward only checks its arguments
  input = 1,                   ///< dx, the gradient with respect to the input
  kernel = 2,                  ///< the gradient with respect to the kernel
  bias = 4,                    ///< the gradient with respect to the bias (skipped without use_bias)
  weights = kernel | bias,     ///< kernel and bias: what a first layer needs
  all = input | kernel | bias  ///< input, kernel and bias
};

/**
 * @brief Both selections.
 * @param a some gradients
 * @param b more gradients
 * @return their union
 */
constexpr Grad operator|(Grad a, Grad b) noexcept {
  return static_cast<Grad>(static_cast<uint32_t>(a) | static_cast<uint32_t>(b));
}

/**
 * @brief The gradients two selections share, e.g. `(which & Grad::input) != Grad::none`.
 * @param a some gradients
 * @param b other gradients
 * @return their intersection
 */
constexpr Grad operator&(Grad a, Grad b) noexcept {
  return static_cast<Grad>(static_cast<uint32_t>(a) & static_cast<uint32_t>(b));
}

/** @brief Gradients from Layer::backward, each empty when it was not asked for. */
struct Gradients {
  std::vector<float> dx;      ///< with respect to the input x, in x's shape
  std::vector<float> kernel;  ///< with respect to the kernel the convolution uses (Keras layout); with LoRA on,
                              ///< pass it to Layer::lora_gradients
  std::vector<float> bias;    ///< with respect to the bias, (filters,); empty without use_bias
};

/** @brief Gradients of the LoRA factors from Layer::lora_gradients. */
struct LoraGradients {
  std::vector<float> a;  ///< with respect to lora_kernel_a, (kernel_size, in_channels/groups, lora_rank)
  std::vector<float> b;  ///< with respect to lora_kernel_b, (lora_rank, filters)
};

/** @brief The loaded library's version number, major*10000 + minor*100 + patch. */
inline unsigned version_number() { return conv1d_version_number(); }

/** @brief The loaded library's version as "major.minor.patch". */
inline std::string version_string() { return conv1d_version_string(); }

/** @brief The best instruction set this CPU offers the kernels, before any CONV1D_MAX_ISA cap. */
inline Isa cpu_isa() { return static_cast<Isa>(conv1d_cpu_isa()); }

/**
 * @brief The fixed English description of a status.
 * @param status any value
 * @return the text of conv1d_status_string ("unknown status" for values it does not know)
 */
inline std::string status_string(conv1d_status status) { return conv1d_status_string(status); }

/**
 * @brief The Keras name of an activation.
 * @param activation an Activation
 * @return its name, e.g. "relu"
 * @throws Error with CONV1D_ERROR_INVALID_VALUE for a value the library does not know
 */
inline std::string activation_name(Activation activation) {
  const char* name = conv1d_activation_name(static_cast<conv1d_activation>(activation));
  if (!name) throw Error(CONV1D_ERROR_INVALID_VALUE, "unknown activation value " + std::to_string(int(activation)));
  return name;
}

/**
 * @brief The name of an algorithm.
 * @param algorithm an Algorithm
 * @return "auto", "reference", "direct" or "gemm"
 * @throws Error with CONV1D_ERROR_INVALID_VALUE for a value the library does not know
 */
inline std::string algorithm_name(Algorithm algorithm) {
  const char* name = conv1d_algorithm_name(static_cast<conv1d_algorithm>(algorithm));
  if (!name) throw Error(CONV1D_ERROR_INVALID_VALUE, "unknown algorithm value " + std::to_string(int(algorithm)));
  return name;
}

/**
 * @brief The name of a data type.
 * @param dtype a DType
 * @return "float32", "float64" or "bfloat16"
 * @throws Error with CONV1D_ERROR_INVALID_VALUE for a value the library does not know
 */
inline std::string dtype_name(DType dtype) {
  const char* name = conv1d_dtype_name(static_cast<conv1d_dtype>(dtype));
  if (!name) throw Error(CONV1D_ERROR_INVALID_VALUE, "unknown dtype value " + std::to_string(int(dtype)));
  return name;
}

/**
 * @brief Inclusive bounds of an integer parameter.
 * @param param a conv1d_param taking an integer
 * @return its bounds
 * @throws Error as conv1d_param_bounds fails (unknown parameter, or one that takes a string)
 */
inline Bounds param_bounds(conv1d_param param) {
  Bounds b;
  detail::check(conv1d_param_bounds(param, &b.lower, &b.upper));
  return b;
}

class Stream;

/**
 * @brief A Keras Conv1D layer: owns one conv1d_layer handle.
 *
 * Move-only. A default-constructed or moved-from Layer holds no handle;
 * calling a member on it throws Error with CONV1D_ERROR_NULL_POINTER.
 * Every member that fails throws Error and leaves the layer as it was.
 *
 * Each typed accessor is one call of the generic set_int / set_string /
 * get_int / get_string for its conv1d_param, so a parameter added to
 * conv1d.h is usable through those at once.
 */
class Layer {
 public:
  /** @brief A Layer that holds no handle. */
  Layer() noexcept = default;

  /**
   * @brief keras.layers.Conv1D(filters, kernel_size) with every other argument at its Keras default.
   * @param filters     number of output channels, > 0
   * @param kernel_size taps of the kernel, > 0
   * @throws Error as conv1d_create fails (bad sizes, an invalid environment)
   */
  Layer(int64_t filters, int64_t kernel_size) { detail::check(conv1d_create(filters, kernel_size, &handle_)); }

  /**
   * @brief Takes ownership of a handle made by conv1d_create (or NULL).
   * @param handle the handle; this Layer destroys it
   */
  explicit Layer(conv1d_layer* handle) noexcept : handle_(handle) {}

  /** @brief Destroys the handle, if any. */
  ~Layer() { conv1d_destroy(handle_); }

  Layer(const Layer&) = delete;             ///< Not copyable: the C API has no copy.
  Layer& operator=(const Layer&) = delete;  ///< Not copyable: the C API has no copy.

  /**
   * @brief Takes the other layer's handle; the other holds none afterwards.
   * @param other the layer to move from
   */
  Layer(Layer&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}

  /**
   * @brief Destroys this layer's handle and takes the other's.
   * @param other the layer to move from; it holds no handle afterwards
   * @return this layer
   */
  Layer& operator=(Layer&& other) noexcept {
    if (this != &other) {
      conv1d_destroy(handle_);
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }

  /**
   * @brief Exchanges the handles of two layers.
   * @param a one layer
   * @param b the other
   */
  friend void swap(Layer& a, Layer& b) noexcept { std::swap(a.handle_, b.handle_); }

  /** @brief The handle, for calls to the C API; still owned by this Layer. */
  conv1d_layer* get() const noexcept { return handle_; }

  /** @brief Gives up ownership: returns the handle (the caller must conv1d_destroy it) and holds none. */
  conv1d_layer* release() noexcept { return std::exchange(handle_, nullptr); }

  /** @brief Whether this Layer holds a handle. */
  explicit operator bool() const noexcept { return handle_ != nullptr; }

  /** @name Generic parameter access (any conv1d_param)
   *  @{ */

  /**
   * @brief conv1d_set_int.
   * @param param the parameter
   * @param value the integer or enum value
   * @return this layer
   */
  Layer& set_int(conv1d_param param, int64_t value) {
    detail::check(conv1d_set_int(handle_, param, value));
    return *this;
  }

  /**
   * @brief conv1d_set_double.
   * @param param the parameter
   * @param value the value
   * @return this layer
   */
  Layer& set_double(conv1d_param param, double value) {
    detail::check(conv1d_set_double(handle_, param, value));
    return *this;
  }

  /**
   * @brief conv1d_set_string: a Keras name or the JSON of a serialized Keras object.
   * @param param the parameter
   * @param value the text (without NUL characters)
   * @return this layer
   */
  Layer& set_string(conv1d_param param, const std::string& value) {
    detail::check(conv1d_set_string(handle_, param, detail::c_string(value)));
    return *this;
  }

  /**
   * @brief conv1d_get_int.
   * @param param the parameter
   * @return its value
   */
  int64_t get_int(conv1d_param param) const {
    int64_t value = 0;
    detail::check(conv1d_get_int(handle_, param, &value));
    return value;
  }

  /**
   * @brief conv1d_get_double.
   * @param param the parameter
   * @return its value
   */
  double get_double(conv1d_param param) const {
    double value = 0;
    detail::check(conv1d_get_double(handle_, param, &value));
    return value;
  }

  /**
   * @brief conv1d_get_string, sized automatically.
   * @param param the parameter
   * @return its Keras spelling, or the JSON of an initializer
   */
  std::string get_string(conv1d_param param) const {
    return detail::read_string([&](char* buffer, size_t capacity, size_t* needed) {
      return conv1d_get_string(handle_, param, buffer, capacity, needed);
    });
  }

  /** @} */

  /** @name Geometry (Keras filters, kernel_size, strides, dilation_rate, groups, padding, data_format, use_bias)
   *  @{ */

  /** @brief [filters] @return the number of filters */
  int64_t filters() const { return get_int(CONV1D_PARAM_FILTERS); }
  /** @brief [filters]; fixed after build. @param value > 0 @return this layer */
  Layer& set_filters(int64_t value) { return set_int(CONV1D_PARAM_FILTERS, value); }

  /** @brief [kernel_size] @return the kernel size */
  int64_t kernel_size() const { return get_int(CONV1D_PARAM_KERNEL_SIZE); }
  /** @brief [kernel_size]; fixed after build. @param value > 0 @return this layer */
  Layer& set_kernel_size(int64_t value) { return set_int(CONV1D_PARAM_KERNEL_SIZE, value); }

  /** @brief [strides] @return the stride */
  int64_t strides() const { return get_int(CONV1D_PARAM_STRIDES); }
  /** @brief [strides]; > 1 excludes dilation_rate > 1. @param value > 0 @return this layer */
  Layer& set_strides(int64_t value) { return set_int(CONV1D_PARAM_STRIDES, value); }

  /** @brief [dilation_rate] @return the dilation rate */
  int64_t dilation_rate() const { return get_int(CONV1D_PARAM_DILATION_RATE); }
  /** @brief [dilation_rate]; > 1 excludes strides > 1. @param value > 0 @return this layer */
  Layer& set_dilation_rate(int64_t value) { return set_int(CONV1D_PARAM_DILATION_RATE, value); }

  /** @brief [groups] @return the number of groups */
  int64_t groups() const { return get_int(CONV1D_PARAM_GROUPS); }
  /** @brief [groups]; must divide filters (and the input channels at build); fixed after build.
   *  @param value > 0 @return this layer */
  Layer& set_groups(int64_t value) { return set_int(CONV1D_PARAM_GROUPS, value); }

  /** @brief [padding] @return the padding mode */
  Padding padding() const { return static_cast<Padding>(get_int(CONV1D_PARAM_PADDING)); }
  /** @brief [padding] @param value the mode @return this layer */
  Layer& set_padding(Padding value) { return set_int(CONV1D_PARAM_PADDING, static_cast<int64_t>(value)); }
  /** @brief [padding] by Keras name. @param name "valid", "same" or "causal", any case @return this layer */
  Layer& set_padding(const std::string& name) { return set_string(CONV1D_PARAM_PADDING, name); }

  /** @brief [data_format] @return the tensor layout */
  DataFormat data_format() const { return static_cast<DataFormat>(get_int(CONV1D_PARAM_DATA_FORMAT)); }
  /** @brief [data_format] @param value the layout @return this layer */
  Layer& set_data_format(DataFormat value) { return set_int(CONV1D_PARAM_DATA_FORMAT, static_cast<int64_t>(value)); }
  /** @brief [data_format] by Keras name. @param name "channels_last" or "channels_first", any case
   *  @return this layer */
  Layer& set_data_format(const std::string& name) { return set_string(CONV1D_PARAM_DATA_FORMAT, name); }

  /** @brief [use_bias] @return whether the layer adds a bias */
  bool use_bias() const { return get_int(CONV1D_PARAM_USE_BIAS) != 0; }
  /** @brief [use_bias]; fixed after build. @param value whether to add a bias @return this layer */
  Layer& set_use_bias(bool value) { return set_int(CONV1D_PARAM_USE_BIAS, value ? 1 : 0); }

  /** @brief Input channels of a built layer, else 0 (read-only). @return the channel count */
  int64_t in_channels() const { return get_int(CONV1D_PARAM_IN_CHANNELS); }

  /** @} */

  /** @name Activation and weight creation (Keras activation, kernel_initializer, bias_initializer)
   *  @{ */

  /** @brief [activation] @return the activation */
  Activation activation() const { return static_cast<Activation>(get_int(CONV1D_PARAM_ACTIVATION)); }
  /** @brief [activation] @param value the activation @return this layer */
  Layer& set_activation(Activation value) { return set_int(CONV1D_PARAM_ACTIVATION, static_cast<int64_t>(value)); }
  /** @brief [activation] by Keras name (case-sensitive, as in Keras). @param name e.g. "relu", "swish"
   *  @return this layer */
  Layer& set_activation(const std::string& name) { return set_string(CONV1D_PARAM_ACTIVATION, name); }

  /** @brief [kernel_initializer] @return the initializer's Keras JSON */
  std::string kernel_initializer() const { return get_string(CONV1D_PARAM_KERNEL_INITIALIZER); }
  /** @brief [kernel_initializer] @param name_or_json a Keras name ("he_normal") or serialized JSON
   *  @return this layer */
  Layer& set_kernel_initializer(const std::string& name_or_json) {
    return set_string(CONV1D_PARAM_KERNEL_INITIALIZER, name_or_json);
  }

  /** @brief [bias_initializer] @return the initializer's Keras JSON */
  std::string bias_initializer() const { return get_string(CONV1D_PARAM_BIAS_INITIALIZER); }
  /** @brief [bias_initializer] @param name_or_json a Keras name, serialized JSON, or "null" (glorot_uniform, as
   *  Keras' None) @return this layer */
  Layer& set_bias_initializer(const std::string& name_or_json) {
    return set_string(CONV1D_PARAM_BIAS_INITIALIZER, name_or_json);
  }

  /** @brief Seed for initializers that have none. @return the seed, or -1 for random */
  int64_t seed() const { return get_int(CONV1D_PARAM_SEED); }
  /** @brief Seed for initializers that have none. @param value >= 0, or -1 for random @return this layer */
  Layer& set_seed(int64_t value) { return set_int(CONV1D_PARAM_SEED, value); }

  /** @} */

  /** @name Execution (not part of the Keras config)
   *  @{ */

  /** @brief The algorithm forced on the layer, or Algorithm::auto_. @return the algorithm */
  Algorithm algorithm() const { return static_cast<Algorithm>(get_int(CONV1D_PARAM_ALGORITHM)); }
  /** @brief Forces an algorithm, or auto_. @param value the algorithm @return this layer */
  Layer& set_algorithm(Algorithm value) { return set_int(CONV1D_PARAM_ALGORITHM, static_cast<int64_t>(value)); }
  /** @brief Forces an algorithm by name. @param name "auto", "reference", "direct" or "gemm" @return this layer */
  Layer& set_algorithm(const std::string& name) { return set_string(CONV1D_PARAM_ALGORITHM, name); }

  /** @brief Whether each new plan is printed to stderr. @return the flag */
  bool verbose() const { return get_int(CONV1D_PARAM_VERBOSE) != 0; }
  /** @brief Print each new plan to stderr. @param value the flag @return this layer */
  Layer& set_verbose(bool value) { return set_int(CONV1D_PARAM_VERBOSE, value ? 1 : 0); }

  /** @brief Threads one forward call may use. @return the count, 0 meaning all cores */
  int64_t num_threads() const { return get_int(CONV1D_PARAM_NUM_THREADS); }
  /** @brief Threads one forward call may use. @param value 0 (all cores) to 4096 @return this layer */
  Layer& set_num_threads(int64_t value) { return set_int(CONV1D_PARAM_NUM_THREADS, value); }

  /** @brief The highest instruction set the kernels may use. @return the cap */
  Isa max_isa() const { return static_cast<Isa>(get_int(CONV1D_PARAM_MAX_ISA)); }
  /** @brief Caps the kernels' instruction set. @param value the cap @return this layer */
  Layer& set_max_isa(Isa value) { return set_int(CONV1D_PARAM_MAX_ISA, static_cast<int64_t>(value)); }
  /** @brief Caps the kernels' instruction set by name. @param name "scalar", "avx2" or "avx512"
   *  @return this layer */
  Layer& set_max_isa(const std::string& name) { return set_string(CONV1D_PARAM_MAX_ISA, name); }

  /** @brief Whether auto times the candidates instead of using the cost model. @return the flag */
  bool find() const { return get_int(CONV1D_PARAM_FIND) != 0; }
  /** @brief With auto, time the candidates once per (batch, steps) and keep the fastest.
   *  @param value the flag @return this layer */
  Layer& set_find(bool value) { return set_int(CONV1D_PARAM_FIND, value ? 1 : 0); }

  /** @} */

  /** @name Identity (Keras name)
   *  @{ */

  /** @brief [name] @return the layer's name */
  std::string name() const { return get_string(CONV1D_PARAM_NAME); }
  /** @brief [name] @param value non-empty, without '/' @return this layer */
  Layer& set_name(const std::string& value) { return set_string(CONV1D_PARAM_NAME, value); }

  /** @brief [dtype] the Keras dtype policy's name. @return "float32", "float64", "bfloat16" or "mixed_bfloat16" */
  std::string dtype() const { return get_string(CONV1D_PARAM_DTYPE); }
  /**
   * @brief [dtype] sets the Keras dtype policy by name; fixed after build.
   * @param policy "float32", "float64", "bfloat16" or "mixed_bfloat16"
   * @return this layer
   */
  Layer& set_dtype(const std::string& policy) { return set_string(CONV1D_PARAM_DTYPE, policy); }
  /**
   * @brief [dtype] sets the plain policy of a dtype ("float32", "float64" or "bfloat16"); fixed after build.
   * @param dtype the dtype that variables and compute both use
   * @return this layer
   */
  Layer& set_dtype(DType dtype) { return set_int(CONV1D_PARAM_DTYPE, static_cast<int64_t>(dtype)); }
  /** @brief The dtype the layer computes in (bfloat16 for "mixed_bfloat16"). @return the compute dtype */
  DType compute_dtype() const { return static_cast<DType>(get_int(CONV1D_PARAM_DTYPE)); }
  /** @brief The dtype the kernel and bias are stored in (float32 for "mixed_bfloat16"). @return the variable dtype */
  DType variable_dtype() const { return static_cast<DType>(get_int(CONV1D_PARAM_VARIABLE_DTYPE)); }

  /** @} */

  /** @name Weights
   *  @{ */

  /**
   * @brief Creates the weights with the layer's initializers, as Keras' build().
   *        Building again re-initializes them.
   * @param in_channels input channels, divisible by groups
   * @return this layer
   */
  Layer& build(int64_t in_channels) {
    detail::check(conv1d_build(handle_, in_channels));
    return *this;
  }

  /** @brief Lengths of the kernel and bias of a built layer. @return the lengths */
  WeightSizes weight_sizes() const {
    WeightSizes sizes;
    detail::check(conv1d_weight_sizes(handle_, &sizes.kernel, &sizes.bias));
    return sizes;
  }

  /**
   * @brief Sets the weights in Keras layout (copied). On an unbuilt layer the
   *        kernel's length determines in_channels and builds the layer.
   * @param kernel exactly kernel_size * in_channels/groups * filters values
   * @param bias   exactly filters values with use_bias, empty without
   * @return this layer
   */
  Layer& set_weights(Span<const float> kernel, Span<const float> bias = {}) {
    const float* bias_data = bias.empty() ? nullptr : bias.data();
    detail::check(conv1d_set_weights(handle_, kernel.data(), kernel.size(), bias_data, bias.size()));
    return *this;
  }

  /**
   * @brief set_weights with pointers and lengths, as conv1d_set_weights.
   * @param kernel     the kernel values
   * @param kernel_len number of kernel values
   * @param bias       the bias values, or NULL without use_bias
   * @param bias_len   number of bias values (0 without use_bias)
   * @return this layer
   */
  Layer& set_weights(const float* kernel, size_t kernel_len, const float* bias, size_t bias_len) {
    return set_weights(Span<const float>(kernel, kernel_len), Span<const float>(bias, bias_len));
  }

  /**
   * @brief set_weights from braced lists, e.g. `layer.set_weights({1.0f, -1.0f}, {0.5f})`.
   * @param kernel the kernel values
   * @param bias   the bias values; empty without use_bias
   * @return this layer
   */
  Layer& set_weights(std::initializer_list<float> kernel, std::initializer_list<float> bias = {}) {
    return set_weights(Span<const float>(kernel.begin(), kernel.size()), Span<const float>(bias.begin(), bias.size()));
  }

  /**
   * @brief set_weights from a Weights value, such as one weights() returned.
   * @param weights kernel and bias
   * @return this layer
   */
  Layer& set_weights(const Weights& weights) { return set_weights(weights.kernel, weights.bias); }

  /**
   * @brief Sets the weights from double values (conv1d_set_weights_ex): exact into a float64
   *        layer, rounded to nearest even into float32 or bfloat16 variables.
   * @param kernel exactly kernel_size * in_channels/groups * filters values
   * @param bias   exactly filters values with use_bias, empty without
   * @return this layer
   */
  Layer& set_weights(Span<const double> kernel, Span<const double> bias = {}) {
    const double* bias_data = bias.empty() ? nullptr : bias.data();
    detail::check(
        conv1d_set_weights_ex(handle_, CONV1D_DTYPE_FLOAT64, kernel.data(), kernel.size(), bias_data, bias.size()));
    return *this;
  }

  /**
   * @brief set_weights from a Weights64 value, such as one weights64() returned.
   * @param weights kernel and bias
   * @return this layer
   */
  Layer& set_weights(const Weights64& weights) {
    return set_weights(Span<const double>(weights.kernel), Span<const double>(weights.bias));
  }

  /** @brief A copy of the weights as double (a float64 layer's exact variables). @return kernel and bias */
  Weights64 weights64() const {
    const WeightSizes sizes = weight_sizes();
    Weights64 w;
    w.kernel.resize(sizes.kernel);
    w.bias.resize(sizes.bias);
    get_weights(Span<double>(w.kernel), Span<double>(w.bias));
    return w;
  }

  /**
   * @brief Copies the weights into caller buffers of double (conv1d_get_weights_ex).
   * @param kernel at least weight_sizes().kernel values
   * @param bias   at least weight_sizes().bias values, or empty to skip the bias
   */
  void get_weights(Span<double> kernel, Span<double> bias) const {
    double* bias_data = bias.empty() ? nullptr : bias.data();
    detail::check(
        conv1d_get_weights_ex(handle_, CONV1D_DTYPE_FLOAT64, kernel.data(), kernel.size(), bias_data, bias.size()));
  }

  /** @brief A copy of the weights in Keras layout. @return kernel and bias (empty without use_bias) */
  Weights weights() const {
    const WeightSizes sizes = weight_sizes();
    Weights w;
    w.kernel.resize(sizes.kernel);
    w.bias.resize(sizes.bias);
    get_weights(w.kernel, w.bias);
    return w;
  }

  /**
   * @brief Copies the weights into caller buffers.
   * @param kernel at least weight_sizes().kernel floats
   * @param bias   at least weight_sizes().bias floats, or empty to skip the bias
   */
  void get_weights(Span<float> kernel, Span<float> bias = {}) const {
    float* bias_data = bias.empty() ? nullptr : bias.data();
    detail::check(conv1d_get_weights(handle_, kernel.data(), kernel.size(), bias_data, bias.size()));
  }

  /** @} */

  /** @name Shapes
   *  @{ */

  /**
   * @brief Output length for an input of `steps` steps.
   * @param steps input length, > 0
   * @return the number of output steps
   */
  int64_t output_steps(int64_t steps) const {
    int64_t out = 0;
    detail::check(conv1d_output_steps(handle_, steps, &out));
    return out;
  }

  /**
   * @brief Zeros added before and after an input of `steps` steps.
   * @param steps input length, > 0
   * @return the pad amounts
   */
  PaddingAmounts padding_amounts(int64_t steps) const {
    PaddingAmounts pads;
    detail::check(conv1d_padding_amounts(handle_, steps, &pads.left, &pads.right));
    return pads;
  }

  /**
   * @brief Full output shape for an input of (batch, steps), in the layer's data format.
   * @param batch input batch, > 0
   * @param steps input length, > 0
   * @return the three dimensions and their product
   */
  OutputShape output_shape(int64_t batch, int64_t steps) const {
    OutputShape shape;
    detail::check(conv1d_output_shape(handle_, batch, steps, shape.dims.data(), &shape.count));
    return shape;
  }

  /** @} */

  /** @name Running
   *  @{ */

  /**
   * @brief Forward pass into a caller buffer.
   * @param x        input, (batch, steps, channels) or (batch, channels, steps) per data_format
   * @param batch    batch size, > 0
   * @param steps    input length, > 0
   * @param channels input channels, equal to in_channels()
   * @param y        output, at least output_shape(batch, steps).count floats; must not overlap x
   */
  void forward(Span<const float> x, int64_t batch, int64_t steps, int64_t channels, Span<float> y) const {
    detail::check(conv1d_forward(handle_, x.data(), x.size(), batch, steps, channels, y.data(), y.size()));
  }

  /**
   * @brief Forward pass into a new vector.
   * @param x        input, (batch, steps, channels) or (batch, channels, steps) per data_format
   * @param batch    batch size, > 0
   * @param steps    input length, > 0
   * @param channels input channels, equal to in_channels()
   * @return the output, output_shape(batch, steps).count floats
   */
  std::vector<float> forward(Span<const float> x, int64_t batch, int64_t steps, int64_t channels) const {
    std::vector<float> y(output_shape(batch, steps).count);
    forward(x, batch, steps, channels, y);
    return y;
  }

  /**
   * @brief Forward pass on double buffers (conv1d_forward_ex): x is cast to the layer's compute
   *        dtype and the result cast back to double (exact for every policy).
   * @param x        input, (batch, steps, channels) or (batch, channels, steps) per data_format
   * @param batch    batch size, > 0
   * @param steps    input length, > 0
   * @param channels input channels, equal to in_channels()
   * @param y        output, at least output_shape(batch, steps).count values; must not overlap x
   */
  void forward(Span<const double> x, int64_t batch, int64_t steps, int64_t channels, Span<double> y) const {
    detail::check(conv1d_forward_ex(handle_, CONV1D_DTYPE_FLOAT64, x.data(), x.size(), batch, steps, channels,
                                    CONV1D_DTYPE_FLOAT64, y.data(), y.size()));
  }

  /**
   * @brief Forward pass on double buffers into a new vector.
   * @param x        input, (batch, steps, channels) or (batch, channels, steps) per data_format
   * @param batch    batch size, > 0
   * @param steps    input length, > 0
   * @param channels input channels, equal to in_channels()
   * @return the output, output_shape(batch, steps).count values
   */
  std::vector<double> forward(Span<const double> x, int64_t batch, int64_t steps, int64_t channels) const {
    std::vector<double> y(output_shape(batch, steps).count);
    forward(x, batch, steps, channels, Span<double>(y));
    return y;
  }

  /**
   * @brief Forward pass with any element types (conv1d_forward_ex); bfloat16 buffers hold uint16_t.
   * @param x_dtype  element type of x
   * @param x        input
   * @param x_len    number of elements of x
   * @param batch    batch size, > 0
   * @param steps    input length, > 0
   * @param channels input channels, equal to in_channels()
   * @param y_dtype  element type of y
   * @param y        output; must not overlap x
   * @param y_len    number of elements of y, at least output_shape(batch, steps).count
   */
  void forward(DType x_dtype, const void* x, size_t x_len, int64_t batch, int64_t steps, int64_t channels,
               DType y_dtype, void* y, size_t y_len) const {
    detail::check(conv1d_forward_ex(handle_, static_cast<conv1d_dtype>(x_dtype), x, x_len, batch, steps, channels,
                                    static_cast<conv1d_dtype>(y_dtype), y, y_len));
  }

  /**
   * @brief The algorithm that runs for inputs of (batch, steps) (plans and caches it under auto).
   * @param batch batch size, > 0
   * @param steps input length, > 0
   * @return the algorithm
   */
  Algorithm query_algorithm(int64_t batch, int64_t steps) const {
    conv1d_algorithm algorithm = CONV1D_ALGORITHM_AUTO;
    detail::check(conv1d_query_algorithm(handle_, batch, steps, &algorithm));
    return static_cast<Algorithm>(algorithm);
  }

  /**
   * @brief The line describing the plan for (batch, steps): algorithm, kernel,
   *        instruction set, threads and why (what CONV1D_VERBOSE prints).
   * @param batch batch size, > 0
   * @param steps input length, > 0
   * @return the line
   */
  std::string describe_plan(int64_t batch, int64_t steps) const {
    return detail::read_string([&](char* buffer, size_t capacity, size_t* needed) {
      return conv1d_describe_plan(handle_, batch, steps, buffer, capacity, needed);
    });
  }

  /** @} */

  /** @name Training parameters (Keras regularizers, constraints, lora_rank, lora_alpha, trainable)
   *  Regularizers and constraints take a Keras name or the JSON of a serialized
   *  Keras object with its arguments, or "null" for none, and read back as that
   *  JSON or "null". They change no forward output; see docs/training.md.
   *  @{ */

  /** @brief [kernel_regularizer] @return its Keras JSON, or "null" */
  std::string kernel_regularizer() const { return get_string(CONV1D_PARAM_KERNEL_REGULARIZER); }
  /** @brief [kernel_regularizer]; with LoRA on it applies to the two factors instead of the frozen kernel.
   *  @param name_or_json "l1", "l2", "l1l2" (factors 0), JSON such as
   *  `{"class_name": "L2", "config": {"l2": 0.001}}`, or "null" @return this layer */
  Layer& set_kernel_regularizer(const std::string& name_or_json) {
    return set_string(CONV1D_PARAM_KERNEL_REGULARIZER, name_or_json);
  }

  /** @brief [bias_regularizer] @return its Keras JSON, or "null" */
  std::string bias_regularizer() const { return get_string(CONV1D_PARAM_BIAS_REGULARIZER); }
  /** @brief [bias_regularizer] @param name_or_json a Keras name, serialized JSON, or "null" @return this layer */
  Layer& set_bias_regularizer(const std::string& name_or_json) {
    return set_string(CONV1D_PARAM_BIAS_REGULARIZER, name_or_json);
  }

  /** @brief [activity_regularizer] @return its Keras JSON, or "null" */
  std::string activity_regularizer() const { return get_string(CONV1D_PARAM_ACTIVITY_REGULARIZER); }
  /** @brief [activity_regularizer]: a penalty on the output after the activation, divided by the batch size.
   *  @param name_or_json a Keras name, serialized JSON, or "null" @return this layer */
  Layer& set_activity_regularizer(const std::string& name_or_json) {
    return set_string(CONV1D_PARAM_ACTIVITY_REGULARIZER, name_or_json);
  }

  /** @brief [kernel_constraint] @return its Keras JSON, or "null" */
  std::string kernel_constraint() const { return get_string(CONV1D_PARAM_KERNEL_CONSTRAINT); }
  /** @brief [kernel_constraint]; apply_constraints() projects the kernel. Refused while LoRA is on, as in Keras.
   *  @param name_or_json "max_norm", "min_max_norm", "non_neg", "unit_norm", JSON such as
   *  `{"class_name": "MaxNorm", "config": {"max_value": 2, "axis": [0, 1]}}`, or "null" @return this layer */
  Layer& set_kernel_constraint(const std::string& name_or_json) {
    return set_string(CONV1D_PARAM_KERNEL_CONSTRAINT, name_or_json);
  }

  /** @brief [bias_constraint] @return its Keras JSON, or "null" */
  std::string bias_constraint() const { return get_string(CONV1D_PARAM_BIAS_CONSTRAINT); }
  /** @brief [bias_constraint] @param name_or_json a Keras name, serialized JSON, or "null" @return this layer */
  Layer& set_bias_constraint(const std::string& name_or_json) {
    return set_string(CONV1D_PARAM_BIAS_CONSTRAINT, name_or_json);
  }

  /** @brief [lora_rank] @return the LoRA rank, 0 when LoRA is off */
  int64_t lora_rank() const { return get_int(CONV1D_PARAM_LORA_RANK); }
  /** @brief [lora_rank]. Before build, LoRA is enabled at build; on a built layer it is enabled now
   *  (Keras' enable_lora): the kernel is frozen, and the factors A (he_uniform) and B (zeros) are trained.
   *  @param value 0 (off) or the rank @return this layer */
  Layer& set_lora_rank(int64_t value) { return set_int(CONV1D_PARAM_LORA_RANK, value); }

  /** @brief [lora_alpha] @return the scale numerator (the update is scaled by lora_alpha / lora_rank); the rank
   *  until set, as in Keras */
  double lora_alpha() const { return get_double(CONV1D_PARAM_LORA_ALPHA); }
  /** @brief [lora_alpha] @param value finite @return this layer */
  Layer& set_lora_alpha(double value) { return set_double(CONV1D_PARAM_LORA_ALPHA, value); }

  /** @brief [trainable] @return whether the weights are trained */
  bool trainable() const { return get_int(CONV1D_PARAM_TRAINABLE) != 0; }
  /** @brief [trainable]: weight penalties and constraints apply only to trainable weights.
   *  @param value the flag @return this layer */
  Layer& set_trainable(bool value) { return set_int(CONV1D_PARAM_TRAINABLE, value ? 1 : 0); }

  /** @} */

  /** @name Training
   *  The wrapper of conv1d_backward and its companions; docs/training.md explains them.
   *  @{ */

  /**
   * @brief Backward pass into new vectors: the gradients of a loss, given the forward's input and
   *        dy, the loss gradient with respect to the layer's output (after the activation).
   *
   * The vectors are allocated here, sized as the layer needs, and start at zero; to accumulate over
   * micro-batches, pass them to the overload that takes buffers, with BackwardFlags::accumulate.
   * @param x        the forward's input, (batch, steps, channels) or (batch, channels, steps) per data_format
   * @param batch    batch size, > 0
   * @param steps    input length, > 0
   * @param channels input channels, equal to in_channels()
   * @param dy       loss gradient, in the output's shape (output_shape(batch, steps))
   * @param which    the gradients to compute; the bias's is skipped (left empty) without use_bias
   * @param flags    BackwardFlags::regularizers or none; accumulate throws CONV1D_ERROR_INVALID_VALUE here
   * @return the gradients; those not in `which` are empty
   */
  Gradients backward(Span<const float> x, int64_t batch, int64_t steps, int64_t channels, Span<const float> dy,
                     Grad which = Grad::all, BackwardFlags flags = BackwardFlags::none) const {
    if ((flags & BackwardFlags::accumulate) != BackwardFlags::none)
      throw Error(CONV1D_ERROR_INVALID_VALUE,
                  "BackwardFlags::accumulate adds into existing gradients: pass them to the backward overload that "
                  "takes buffers");
    if ((which & Grad::all) != which)
      throw Error(CONV1D_ERROR_INVALID_VALUE,
                  "unknown bits in the Grad value " + std::to_string(static_cast<uint32_t>(which)));
    Gradients g;
    if ((which & Grad::input) != Grad::none) g.dx.resize(detail::input_count(x.size(), batch, steps, channels));
    if ((which & Grad::kernel) != Grad::none) g.kernel.resize(weight_size(CONV1D_WEIGHT_KERNEL));
    if ((which & Grad::bias) != Grad::none) g.bias.resize(weight_size(CONV1D_WEIGHT_BIAS));
    backward(x, batch, steps, channels, dy, g.dx, g.kernel, g.bias, flags);
    return g;
  }

  /**
   * @brief Backward pass into caller buffers, as conv1d_backward: nothing is allocated here.
   *
   * An empty buffer skips that gradient. The buffers must not overlap each other, x or dy.
   * @param x        the forward's input, (batch, steps, channels) or (batch, channels, steps) per data_format
   * @param batch    batch size, > 0
   * @param steps    input length, > 0
   * @param channels input channels, equal to in_channels()
   * @param dy       loss gradient, in the output's shape (output_shape(batch, steps))
   * @param dx       receives the input gradient: at least batch*steps*channels floats, or empty
   * @param dkernel  receives the kernel gradient: at least weight_size(CONV1D_WEIGHT_KERNEL) floats, or empty
   * @param dbias    receives the bias gradient: at least filters() floats, or empty (always empty without use_bias)
   * @param flags    BackwardFlags::regularizers and/or BackwardFlags::accumulate
   */
  void backward(Span<const float> x, int64_t batch, int64_t steps, int64_t channels, Span<const float> dy,
                Span<float> dx, Span<float> dkernel, Span<float> dbias,
                BackwardFlags flags = BackwardFlags::none) const {
    detail::check(conv1d_backward(
        handle_, x.data(), x.size(), batch, steps, channels, dy.data(), dy.size(),
        detail::or_null(dx.data(), dx.size()), dx.size(), detail::or_null(dkernel.data(), dkernel.size()),
        dkernel.size(), detail::or_null(dbias.data(), dbias.size()), dbias.size(), static_cast<uint32_t>(flags)));
  }

  /**
   * @brief The weight penalties Keras adds to the loss for this layer (layer.losses without the activity
   *        term): kernel and bias regularizers of the trainable weights, or with LoRA on the kernel
   *        regularizer of the two factors.
   * @return the penalty
   */
  double regularization_loss() const {
    double loss = 0.0;
    detail::check(conv1d_regularization_loss(handle_, nullptr, 0, 0, 0, &loss));
    return loss;
  }

  /**
   * @brief The regularization loss Keras adds for this layer with the output y: the weight penalties
   *        plus the activity regularizer's penalty of y divided by batch.
   * @param y     an output of forward() for an input of (batch, steps); an empty y is refused as too short
   * @param batch the batch size of that input, > 0
   * @param steps the length of that input, > 0
   * @return the penalty
   */
  double regularization_loss(Span<const float> y, int64_t batch, int64_t steps) const {
    // The C API reads a NULL y as "no activity term", so an empty y is passed
    // as a real (zero-length) buffer for the library to refuse.
    const float none = 0.0f;
    double loss = 0.0;
    detail::check(conv1d_regularization_loss(handle_, y.empty() ? &none : y.data(), y.size(), batch, steps, &loss));
    return loss;
  }

  /**
   * @brief Projects the trainable weights onto the kernel and bias constraints in place, as a Keras
   *        optimizer does after each update.
   * @return this layer
   */
  Layer& apply_constraints() {
    detail::check(conv1d_apply_constraints(handle_));
    return *this;
  }

  /**
   * @brief Number of floats in one weight of a built layer.
   * @param which CONV1D_WEIGHT_KERNEL, _BIAS, _LORA_A or _LORA_B
   * @return its size, 0 when the layer does not have it (no bias, LoRA off)
   */
  size_t weight_size(conv1d_weight which) const {
    size_t len = 0;
    detail::check(conv1d_weight_size(handle_, which, &len));
    return len;
  }

  /**
   * @brief A copy of one weight, in Keras layout.
   * @param which CONV1D_WEIGHT_KERNEL, _BIAS, _LORA_A or _LORA_B; one the layer does not have throws
   * @return weight_size(which) floats
   */
  std::vector<float> weight(conv1d_weight which) const {
    std::vector<float> data(weight_size(which));
    get_weight(which, data);
    return data;
  }

  /**
   * @brief Copies one weight into a caller buffer.
   * @param which CONV1D_WEIGHT_KERNEL, _BIAS, _LORA_A or _LORA_B
   * @param data  at least weight_size(which) floats
   */
  void get_weight(conv1d_weight which, Span<float> data) const {
    detail::check(conv1d_get_weight(handle_, which, data.data(), data.size()));
  }

  /**
   * @brief Replaces one weight of a built layer (copied): how an optimizer writes back an update.
   * @param which CONV1D_WEIGHT_KERNEL, _BIAS, _LORA_A or _LORA_B
   * @param data  exactly weight_size(which) floats
   * @return this layer
   */
  Layer& set_weight(conv1d_weight which, Span<const float> data) {
    detail::check(conv1d_set_weight(handle_, which, data.data(), data.size()));
    return *this;
  }

  /**
   * @brief set_weight with a pointer and a length, as conv1d_set_weight.
   * @param which CONV1D_WEIGHT_KERNEL, _BIAS, _LORA_A or _LORA_B
   * @param data  the values
   * @param len   number of values: exactly weight_size(which)
   * @return this layer
   */
  Layer& set_weight(conv1d_weight which, const float* data, size_t len) {
    return set_weight(which, Span<const float>(data, len));
  }

  /**
   * @brief set_weight from a braced list, e.g. `layer.set_weight(CONV1D_WEIGHT_BIAS, {0.5f, -0.5f})`.
   * @param which CONV1D_WEIGHT_KERNEL, _BIAS, _LORA_A or _LORA_B
   * @param data  exactly weight_size(which) values
   * @return this layer
   */
  Layer& set_weight(conv1d_weight which, std::initializer_list<float> data) {
    return set_weight(which, Span<const float>(data.begin(), data.size()));
  }

  /**
   * @brief With LoRA on: the gradients of the factors from the kernel gradient, into new vectors:
   *        dA = s dkernel B^T and dB = s A^T dkernel with s = lora_alpha / lora_rank.
   * @param dkernel the kernel gradient from backward(), at least weight_size(CONV1D_WEIGHT_KERNEL) floats
   * @param flags   BackwardFlags::regularizers adds the kernel regularizer's gradient of each factor;
   *                accumulate throws CONV1D_ERROR_INVALID_VALUE here
   * @return dA and dB, shaped as weight_size(CONV1D_WEIGHT_LORA_A) and _LORA_B
   */
  LoraGradients lora_gradients(Span<const float> dkernel, BackwardFlags flags = BackwardFlags::none) const {
    if ((flags & BackwardFlags::accumulate) != BackwardFlags::none)
      throw Error(CONV1D_ERROR_INVALID_VALUE,
                  "BackwardFlags::accumulate adds into existing gradients: pass them to the lora_gradients overload "
                  "that takes buffers");
    LoraGradients g;
    g.a.resize(weight_size(CONV1D_WEIGHT_LORA_A));
    g.b.resize(weight_size(CONV1D_WEIGHT_LORA_B));
    lora_gradients(dkernel, g.a, g.b, flags);
    return g;
  }

  /**
   * @brief With LoRA on: the gradients of the factors into caller buffers, as conv1d_lora_gradients.
   *        An empty buffer skips that factor.
   * @param dkernel the kernel gradient from backward(), at least weight_size(CONV1D_WEIGHT_KERNEL) floats
   * @param da      receives dA: at least weight_size(CONV1D_WEIGHT_LORA_A) floats, or empty
   * @param db      receives dB: at least weight_size(CONV1D_WEIGHT_LORA_B) floats, or empty
   * @param flags   BackwardFlags::regularizers and/or BackwardFlags::accumulate
   */
  void lora_gradients(Span<const float> dkernel, Span<float> da, Span<float> db,
                      BackwardFlags flags = BackwardFlags::none) const {
    detail::check(conv1d_lora_gradients(handle_, dkernel.data(), dkernel.size(), detail::or_null(da.data(), da.size()),
                                        da.size(), detail::or_null(db.data(), db.size()), db.size(),
                                        static_cast<uint32_t>(flags)));
  }

  /**
   * @brief Folds the LoRA update into the kernel (kernel += lora_alpha / lora_rank * A B) and turns
   *        LoRA off: lora_rank() reads 0 again and the kernel is trainable.
   * @return this layer
   */
  Layer& lora_merge() {
    detail::check(conv1d_lora_merge(handle_));
    return *this;
  }

  /** @} */

  /** @name Streaming
   *  @{ */

  /**
   * @brief A stream of `batch` sequences on this built layer (padding 'causal' or 'valid'), fed chunk
   *        by chunk; the layer must outlive it. See conv1d::Stream.
   * @param batch number of sequences fed side by side, > 0
   * @return the stream, with no frames seen
   */
  Stream stream(int64_t batch = 1) const;

  /** @} */

  /** @name Keras config
   *  @{ */

  /**
   * @brief A layer from Keras 3 JSON, as conv1d_create_from_config: the dict of layer.get_config(),
   *        or a model's layer entry; with a "build_config" it is built, its weights from the initializers.
   * @param json the JSON text (without NUL characters)
   * @return the new layer
   * @throws Error with CONV1D_ERROR_PARSE (the message names the key) for JSON Keras would not accept
   */
  static Layer from_config(const std::string& json) {
    conv1d_layer* handle = nullptr;
    detail::check(conv1d_create_from_config(detail::c_string(json), &handle));
    return Layer(handle);
  }

  /**
   * @brief The layer's get_config() as Keras 3 writes it, key order included; execution parameters
   *        and the seed are not part of it.
   * @param wrapped false: the config dict; true: the model entry with "module", "class_name",
   *                "registered_name" and, once built, "build_config"
   * @return the JSON text
   */
  std::string config(bool wrapped = false) const {
    return detail::read_string([&](char* buffer, size_t capacity, size_t* needed) {
      return conv1d_get_config(handle_, wrapped ? 1 : 0, buffer, capacity, needed);
    });
  }

  /** @} */

  /** @name Keras weight files
   *  @{ */

  /**
   * @brief Loads the kernel and bias from a Keras file, as conv1d_load_weights_keras: a .keras
   *        archive, a .weights.h5 file or a legacy .h5 file. An unbuilt layer is built from the
   *        kernel's shape; with LoRA on the factors are zeroed, as Keras does.
   * @param path the file
   * @param layer_key which Conv1D: a path in the file ("layers/conv1d_1"), its last part
   *                  ("conv1d_1") or the layer's Keras name; empty: the file's only Conv1D
   * @return this layer
   * @throws Error with CONV1D_ERROR_IO, CONV1D_ERROR_PARSE, CONV1D_ERROR_UNKNOWN_NAME (the message
   *         lists the candidates), CONV1D_ERROR_LENGTH_MISMATCH, ...; the layer is unchanged then
   */
  Layer& load_weights(const std::string& path, const std::string& layer_key = std::string()) {
    detail::check(conv1d_load_weights_keras(handle_, detail::c_string(path),
                                            layer_key.empty() ? nullptr : detail::c_string(layer_key)));
    return *this;
  }

  /**
   * @brief Loads one weight from a NumPy .npy file in its Keras shape, as conv1d_load_npy.
   * @param which the weight
   * @param path the file
   * @return this layer
   */
  Layer& load_npy(conv1d_weight which, const std::string& path) {
    detail::check(conv1d_load_npy(handle_, which, detail::c_string(path)));
    return *this;
  }

  /**
   * @brief Saves one weight as a NumPy .npy file (little-endian float32, Keras shape), as
   *        conv1d_save_npy.
   * @param which the weight
   * @param path the file
   */
  void save_npy(conv1d_weight which, const std::string& path) const {
    detail::check(conv1d_save_npy(handle_, which, detail::c_string(path)));
  }

  /** @} */

 private:
  conv1d_layer* handle_ = nullptr;
};

/**
 * @brief Chunk-by-chunk inference on a built Layer: a conv1d_stream (C API 1.2; docs/streaming.md).
 *
 * A stream keeps the last (kernel_size - 1) * dilation_rate frames of each of its `batch`
 * sequences, so each chunk of any length (one frame, none, many) gives exactly the outputs it
 * completes. Concatenated along time, they are bitwise the layer's forward() over the whole
 * sequence when the layer's algorithm is forced (reference, direct or gemm), for any ISA cap,
 * thread count and chunking. Chunks and outputs are in the layer's data format:
 * (batch, frames, channels) and (batch, out_frames, filters) for channels_last.
 * @code
 * conv1d::Layer layer(64, 2);
 * layer.set_padding("causal").set_dilation_rate(8).build(64);
 * conv1d::Stream stream = layer.stream(1);
 * std::vector<float> y = stream.process(frame, 1);  // one frame in, one output frame out
 * @endcode
 *
 * The layer must outlive the stream (the stream holds its handle, not a copy); weights set on
 * the layer apply from the next chunk. Move-only; one thread at a time per stream, while several
 * streams of one layer may run at once. Every failed call throws Error and changes nothing.
 */
class Stream {
 public:
  /** @brief A Stream that holds no handle. */
  Stream() noexcept = default;

  /**
   * @brief A stream of `batch` sequences on a built layer, with no frames seen.
   * @param layer a built layer with padding 'causal' or 'valid'; it must outlive the stream
   * @param batch number of sequences fed side by side, > 0
   * @throws Error as conv1d_stream_create fails (not built, 'same' padding, an activation over time)
   */
  Stream(const Layer& layer, int64_t batch) : layer_(layer.get()), batch_(batch) {
    detail::check(conv1d_stream_create(layer_, batch, &handle_));
  }

  /** @brief Destroys the handle, if any (never touches the layer). */
  ~Stream() { conv1d_stream_destroy(handle_); }

  Stream(const Stream&) = delete;             ///< Not copyable: a stream's history is its own.
  Stream& operator=(const Stream&) = delete;  ///< Not copyable: a stream's history is its own.

  /**
   * @brief Takes the other stream's handle; the other holds none afterwards.
   * @param other the stream to move from
   */
  Stream(Stream&& other) noexcept
      : handle_(std::exchange(other.handle_, nullptr)),
        layer_(std::exchange(other.layer_, nullptr)),
        batch_(std::exchange(other.batch_, 0)) {}

  /**
   * @brief Destroys this stream's handle and takes the other's.
   * @param other the stream to move from; it holds none afterwards
   * @return this stream
   */
  Stream& operator=(Stream&& other) noexcept {
    if (this != &other) {
      conv1d_stream_destroy(handle_);
      handle_ = std::exchange(other.handle_, nullptr);
      layer_ = std::exchange(other.layer_, nullptr);
      batch_ = std::exchange(other.batch_, 0);
    }
    return *this;
  }

  /**
   * @brief Exchanges two streams.
   * @param a one stream
   * @param b the other
   */
  friend void swap(Stream& a, Stream& b) noexcept {
    std::swap(a.handle_, b.handle_);
    std::swap(a.layer_, b.layer_);
    std::swap(a.batch_, b.batch_);
  }

  /** @brief The handle, for calls to the C API; still owned by this Stream. */
  conv1d_stream* get() const noexcept { return handle_; }

  /** @brief Whether this Stream holds a handle. */
  explicit operator bool() const noexcept { return handle_ != nullptr; }

  /** @brief The number of sequences fed side by side (0 without a handle). */
  int64_t batch() const noexcept { return batch_; }

  /** @brief Back to no frames seen (and, for 'causal', the causal zeros before the next frame). */
  void reset() { detail::check(conv1d_stream_reset(handle_)); }

  /** @brief Frames per sequence fed since creation or the last reset. */
  int64_t frames_seen() const {
    int64_t frames = 0;
    detail::check(conv1d_stream_frames_seen(handle_, &frames));
    return frames;
  }

  /**
   * @brief How many output frames per sequence the next `frames` frames would complete.
   * @param frames input frames per sequence, >= 0
   * @return the count (0 for no frames; it varies with strides > 1, and for 'valid' at the start)
   */
  int64_t output_frames(int64_t frames) const {
    int64_t out = 0;
    detail::check(conv1d_stream_output_frames(handle_, frames, &out));
    return out;
  }

  /**
   * @brief Feeds a chunk into a caller buffer.
   * @param x      the chunk, batch * frames * channels floats in the layer's data format
   * @param frames frames per sequence in the chunk, >= 0
   * @param y      receives the completed outputs: at least batch * output_frames(frames) *
   *               output channels floats (filters, halved by 'glu'); may be empty when none complete
   * @return the number of output frames per sequence written
   */
  int64_t process(Span<const float> x, int64_t frames, Span<float> y) {
    int64_t out = 0;
    detail::check(conv1d_stream_process(handle_, x.data(), x.size(), frames, y.data(), y.size(), &out));
    return out;
  }

  /**
   * @brief Feeds a chunk and returns the outputs it completes in a new vector.
   * @param x      the chunk, batch * frames * channels floats in the layer's data format
   * @param frames frames per sequence in the chunk, >= 0
   * @return batch * output_frames(frames) * output channels floats, in the layer's data format
   */
  std::vector<float> process(Span<const float> x, int64_t frames) {
    std::vector<float> y(static_cast<size_t>(batch_ * output_frames(frames) * out_channels()));
    process(x, frames, y);
    return y;
  }

 private:
  // Floats per output frame and sequence: the layer's filters, halved by glu.
  int64_t out_channels() const {
    int64_t filters = 0, activation = 0;
    detail::check(conv1d_get_int(layer_, CONV1D_PARAM_FILTERS, &filters));
    detail::check(conv1d_get_int(layer_, CONV1D_PARAM_ACTIVATION, &activation));
    return activation == CONV1D_ACTIVATION_GLU ? filters / 2 : filters;
  }

  conv1d_stream* handle_ = nullptr;
  const conv1d_layer* layer_ = nullptr;
  int64_t batch_ = 0;
};

inline Stream Layer::stream(int64_t batch) const { return Stream(*this, batch); }

}  // namespace conv1d

#endif  // CONV1D_CONV1D_HPP
