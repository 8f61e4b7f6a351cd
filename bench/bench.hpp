// Shared pieces of conv1d_bench: the problem description, Keras geometry,
// aligned buffers, the timing loop and the baseline entry points.
#ifndef CONV1D_BENCH_BENCH_HPP
#define CONV1D_BENCH_BENCH_HPP

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace bench {

// One line of bench/suite.csv (or of --problem).
struct Problem {
  std::string name;
  int64_t batch = 0;
  int64_t in_channels = 0;
  int64_t steps = 0;
  int64_t filters = 0;
  int64_t kernel = 0;
  int64_t stride = 1;
  int64_t dilation = 1;
  int64_t groups = 1;
  std::string padding;  // valid | same | causal
  std::string layout;   // nwc (channels_last) | ncw (channels_first)
};

// Text helpers for command lines and the suite file.
std::vector<std::string> split(const std::string& s, char sep);  // keeps empty fields
std::string trim(const std::string& s);
std::string lower(std::string s);
int64_t parse_int(const std::string& text, const std::string& what);  // throws std::runtime_error
std::vector<std::string> parse_list(const std::string& s);            // comma-separated, trimmed, no empties

// The suite's columns, in --problem's field order.
extern const std::vector<std::string> kSuiteColumns;
// A problem from its fields (index maps kSuiteColumns to positions in f);
// `where` names the source in errors. Throws std::runtime_error.
Problem problem_from_fields(const std::vector<std::string>& f, const std::vector<int>& index, const std::string& where);
// Every row of a suite file, columns found by the header's names.
std::vector<Problem> read_suite(const std::string& path);

// Output length and zero padding as Keras computes them.
struct Geometry {
  int64_t out_steps = 0;
  int64_t pad_left = 0;
  int64_t pad_right = 0;
};

// valid: (0, 0); same: total = max((ceil(L/s)-1)*s + d*(k-1) + 1 - L, 0),
// left = total/2 (TensorFlow split); causal: (d*(k-1), 0). out_steps <= 0
// means the output would be empty.
Geometry keras_geometry(const Problem& p);

// 2 * batch * out_steps * filters * (in_channels / groups) * kernel.
double problem_flops(const Problem& p, int64_t out_steps);

inline bool is_ncw(const Problem& p) { return p.layout == "ncw"; }

// 64-byte-aligned float storage (size rounded up to a multiple of 64 bytes),
// zero-filled at allocation so every page is touched before any timing.
struct FreeDeleter {
  template <typename T>
  void operator()(T* p) const {
    std::free(p);
  }
};
template <typename T>
using Buffer = std::unique_ptr<T[], FreeDeleter>;
using FloatBuffer = Buffer<float>;
void* alloc_bytes(size_t bytes);  // throws std::bad_alloc on failure
template <typename T>
Buffer<T> alloc_buffer(size_t count) {
  return Buffer<T>(static_cast<T*>(alloc_bytes(count * sizeof(T))));
}
inline FloatBuffer alloc_floats(size_t count) { return alloc_buffer<float>(count); }

// Element types the forward rows run in (the library's conv1d_dtype names).
// bfloat16 values are uint16_t holding the upper half of a float32.
enum class DType { kFloat32, kFloat64, kBfloat16 };
const char* dtype_name(DType t);
size_t dtype_size(DType t);
uint16_t to_bf16(float f);  // round to nearest even
float from_bf16(uint16_t h);

// Timing of one method on one row at one thread count.
struct Timing {
  double median_s = 0;  // median seconds per call
  int samples = 0;      // number of samples the median is over
  long calls = 0;       // calls per sample
};

// Warm up (a few calls, fewer when calls are slow), then take samples of
// `calls` back-to-back calls each until `min_time` seconds have elapsed and at
// least 5 samples exist. Returns the median per-call time.
Timing time_calls(const std::function<void()>& call, double min_time);

// Outcome of a baseline on one row: ran = false means "n/a" with `note`.
struct BaselineResult {
  bool ran = false;
  std::string note;  // why it did not run, or the implementation name
  Timing timing;
};

// oneDNN convolution_forward on the same buffers (y receives its output).
// Sets the OpenMP thread count to `threads` before creating the primitive.
bool have_onednn();
std::string onednn_version();
BaselineResult bench_onednn(const Problem& p, const Geometry& g, int threads, const float* x, const float* kernel,
                            const float* bias, float* y, double min_time);
// The same in another element type: x and y hold `dt` elements (oneDNN
// supports bfloat16 with float32 accumulation; float64 is n/a), the
// Keras-layout float32 kernel is reordered into the primitive's type once.
BaselineResult bench_onednn_typed(const Problem& p, const Geometry& g, int threads, DType dt, const void* x,
                                  const float* kernel, const float* bias, void* y, double min_time);
// oneDNN convolution_backward_data: dx from dy (the output's layout) and the
// Keras kernel.
BaselineResult bench_onednn_backward_data(const Problem& p, const Geometry& g, int threads, const float* dy,
                                          const float* kernel, float* dx, double min_time);
// oneDNN convolution_backward_weights with diff_bias: dkernel (Keras layout)
// and dbias from x and dy.
BaselineResult bench_onednn_backward_weights(const Problem& p, const Geometry& g, int threads, const float* x,
                                             const float* dy, float* dkernel, float* dbias, double min_time);

// im2col + cblas_sgemm per group and batch item, then a bias pass.
std::string openblas_description();
void openblas_threads(int threads);
BaselineResult bench_im2col(const Problem& p, const Geometry& g, int threads, const float* x, const float* kernel,
                            const float* bias, float* y, double min_time);
// im2col + cblas_dgemm: the float64 baseline.
BaselineResult bench_im2col_f64(const Problem& p, const Geometry& g, int threads, const double* x, const double* kernel,
                                const double* bias, double* y, double min_time);
// Backward data: per batch item and group, col = dy * W^T (one sgemm), then
// col2im adds the columns back into dx.
BaselineResult bench_im2col_backward_data(const Problem& p, const Geometry& g, int threads, const float* dy,
                                          const float* kernel, float* dx, double min_time);
// Backward weights: per batch item and group, im2col then dW += col^T * dy
// (one sgemm), plus a bias-gradient pass over dy.
BaselineResult bench_im2col_backward_weights(const Problem& p, const Geometry& g, int threads, const float* x,
                                             const float* dy, float* dkernel, float* dbias, double min_time);

}  // namespace bench

#endif  // CONV1D_BENCH_BENCH_HPP
