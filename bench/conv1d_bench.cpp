// conv1d_bench: libconv1d against oneDNN and an OpenBLAS im2col+sgemm
// baseline, in one process, on the problems of bench/suite.csv.
//
//   conv1d_bench [--suite FILE] [--rows a,b] [--threads 1,2] [--pass all]
//                [--algorithms auto,direct,gemm] [--baselines onednn,im2col]
//                [--csv] [--csv-file FILE] [--min-time SECONDS] [--rounds N]
//                [--problem name,batch,in_channels,steps,filters,kernel,stride,dilation,groups,padding,layout]
//
// Passes: forward (conv1d_forward vs convolution_forward), and backward as
// two rows, each timed on its own with a linear-activation layer:
// backward_data (conv1d_backward with dx only, vs convolution_backward_data)
// and backward_weights (dkernel and dbias only, vs
// convolution_backward_weights with diff_bias).
//
// Every time is the median per-call time over >= 5 samples spanning at least
// --min-time seconds, after warm-up; with --rounds N every method of a row is
// timed N times in turn and keeps its fastest median (a burst of load from
// elsewhere then has to hit the same method N times). Weights are prepared
// once beforehand and every buffer touched before timing. GFLOP/s counts
// 2 * batch * out_steps * filters * (in_channels / groups) * kernel for every
// pass (backward data and backward weights each do as many FMAs as the forward).
#include <conv1d/conv1d.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench.hpp"
#include "peak.hpp"

// conv1d_describe_plan, conv1d_cpu_isa, conv1d_backward and conv1d_forward_ex are newer than the rest of the API:
// reference them weakly so that the bench also runs against a library that
// does not export them yet.
extern "C" conv1d_status conv1d_describe_plan(const conv1d_layer* layer, int64_t batch, int64_t steps, char* buffer,
                                              size_t capacity, size_t* needed) __attribute__((weak));
extern "C" conv1d_isa conv1d_cpu_isa(void) __attribute__((weak));
extern "C" conv1d_status conv1d_backward(const conv1d_layer* layer, const float* x, size_t x_len, int64_t batch,
                                         int64_t steps, int64_t channels, const float* dy, size_t dy_len, float* dx,
                                         size_t dx_len, float* dkernel, size_t dkernel_len, float* dbias,
                                         size_t dbias_len, uint32_t flags) __attribute__((weak));
extern "C" conv1d_status conv1d_forward_ex(const conv1d_layer* layer, conv1d_dtype x_dtype, const void* x, size_t x_len,
                                           int64_t batch, int64_t steps, int64_t channels, conv1d_dtype y_dtype,
                                           void* y, size_t y_len) __attribute__((weak));

#ifndef CONV1D_BENCH_DEFAULT_SUITE
#define CONV1D_BENCH_DEFAULT_SUITE "bench/suite.csv"
#endif

namespace {

using bench::lower;
using bench::parse_int;
using bench::parse_list;
using bench::Problem;
using bench::read_suite;
using bench::split;
using bench::trim;

const char* const kAllMethods[] = {"auto", "direct", "gemm", "reference", "onednn", "im2col"};

constexpr double kTolerance = 1e-3;  // normwise relative agreement required
constexpr double kContended = 0.1;   // other processes' cores above which a row is flagged

// ---- command line ----------------------------------------------------------

struct Options {
  std::string suite = CONV1D_BENCH_DEFAULT_SUITE;
  std::vector<std::string> rows;
  std::vector<int> threads = {1, 2};
  std::vector<std::string> passes = {"forward", "backward"};
  std::vector<std::string> algorithms = {"auto", "direct", "gemm"};
  std::vector<std::string> baselines = {"onednn", "im2col"};
  std::vector<bench::DType> dtypes = {bench::DType::kFloat32};  // forward rows
  bool csv = false;
  std::string csv_file;
  double min_time = 0.15;
  int rounds = 1;
  std::vector<std::string> problems;  // --problem lines
};

[[noreturn]] void usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: conv1d_bench [--suite FILE] [--rows name1,name2] [--threads 1,2] [--pass all]\n"
               "                    [--algorithms auto,direct,gemm] [--baselines onednn,im2col]\n"
               "                    [--dtype float32,bfloat16,float64] [--csv] [--csv-file FILE] [--min-time SECONDS]\n"
               "                    [--rounds N]\n"
               "                    [--problem name,batch,in_channels,steps,filters,kernel,stride,dilation,"
               "groups,padding,layout]\n"
               "\n"
               "  --suite FILE        problems, one CSV line each (default %s)\n"
               "  --rows LIST         only these suite rows, in this order\n"
               "  --threads LIST      thread counts to run every row with (default 1,2)\n"
               "  --pass LIST         forward, backward (data and weights, timed apart) or all (default all)\n"
               "  --algorithms LIST   libconv1d algorithms to time: auto, direct, gemm, reference, or none\n"
               "  --baselines LIST    onednn, im2col, or none (default onednn,im2col)\n"
               "  --dtype LIST        element types of the forward rows: float32, bfloat16 (oneDNN bf16 beside\n"
               "                      it), float64 (im2col+dgemm beside it) (default float32)\n"
               "  --csv               print CSV (header first) instead of the table\n"
               "  --csv-file FILE     also write the CSV to FILE\n"
               "  --min-time SECONDS  minimum measuring time per method and row (default 0.15)\n"
               "  --rounds N          time all methods of a row N times in turn, keep each one's fastest\n"
               "                      median (default 1)\n"
               "  --problem LINE      benchmark this problem instead of the suite (repeatable)\n",
               CONV1D_BENCH_DEFAULT_SUITE);
  std::exit(code);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "conv1d_bench: %s needs a value\n", a.c_str());
        usage(2);
      }
      return argv[++i];
    };
    try {
      if (a == "--help" || a == "-h") {
        usage(0);
      } else if (a == "--suite") {
        o.suite = value();
      } else if (a == "--rows") {
        o.rows = parse_list(value());
      } else if (a == "--threads") {
        o.threads.clear();
        for (const std::string& t : parse_list(value())) {
          const int64_t n = parse_int(t, "--threads");
          if (n < 1 || n > 1024) throw std::runtime_error("--threads values must be in 1..1024");
          o.threads.push_back(int(n));
        }
        if (o.threads.empty()) throw std::runtime_error("--threads is empty");
      } else if (a == "--pass") {
        o.passes.clear();
        for (const std::string& t : parse_list(value())) {
          const std::string n = lower(t);
          if (n != "forward" && n != "backward" && n != "all")
            throw std::runtime_error("unknown pass '" + t + "' (forward, backward, all)");
          for (const char* q : {"forward", "backward"})
            if ((n == "all" || n == q) && std::find(o.passes.begin(), o.passes.end(), q) == o.passes.end())
              o.passes.push_back(q);
        }
        if (o.passes.empty()) throw std::runtime_error("--pass is empty");
      } else if (a == "--algorithms") {
        o.algorithms.clear();
        for (const std::string& t : parse_list(value())) {
          const std::string n = lower(t);
          if (n == "none") continue;
          if (n != "auto" && n != "direct" && n != "gemm" && n != "reference")
            throw std::runtime_error("unknown algorithm '" + t + "' (auto, direct, gemm, reference)");
          if (std::find(o.algorithms.begin(), o.algorithms.end(), n) == o.algorithms.end()) o.algorithms.push_back(n);
        }
      } else if (a == "--baselines") {
        o.baselines.clear();
        for (const std::string& t : parse_list(value())) {
          const std::string n = lower(t);
          if (n == "none") continue;
          if (n != "onednn" && n != "im2col") throw std::runtime_error("unknown baseline '" + t + "'");
          if (std::find(o.baselines.begin(), o.baselines.end(), n) == o.baselines.end()) o.baselines.push_back(n);
        }
      } else if (a == "--dtype") {
        o.dtypes.clear();
        for (const std::string& t : parse_list(value())) {
          const std::string n = lower(t);
          bench::DType d;
          if (n == "float32") {
            d = bench::DType::kFloat32;
          } else if (n == "float64") {
            d = bench::DType::kFloat64;
          } else if (n == "bfloat16") {
            d = bench::DType::kBfloat16;
          } else {
            throw std::runtime_error("unknown dtype '" + t + "' (float32, bfloat16, float64)");
          }
          if (std::find(o.dtypes.begin(), o.dtypes.end(), d) == o.dtypes.end()) o.dtypes.push_back(d);
        }
        if (o.dtypes.empty()) throw std::runtime_error("--dtype is empty");
      } else if (a == "--csv") {
        o.csv = true;
      } else if (a == "--csv-file") {
        o.csv_file = value();
      } else if (a == "--min-time") {
        const std::string v = value();
        char* end = nullptr;
        o.min_time = std::strtod(v.c_str(), &end);
        if (*end != '\0' || !(o.min_time > 0) || o.min_time > 3600)
          throw std::runtime_error("--min-time must be a number of seconds > 0");
      } else if (a == "--rounds") {
        const std::string v = value();
        char* end = nullptr;
        const long n = std::strtol(v.c_str(), &end, 10);
        if (*end != '\0' || n < 1 || n > 100) throw std::runtime_error("--rounds must be an integer from 1 to 100");
        o.rounds = static_cast<int>(n);
      } else if (a == "--problem") {
        o.problems.push_back(value());
      } else {
        std::fprintf(stderr, "conv1d_bench: unknown argument '%s'\n", a.c_str());
        usage(2);
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "conv1d_bench: %s\n", e.what());
      std::exit(2);
    }
  }
  return o;
}

// ---- contention -----------------------------------------------------------------

// CPU time the whole machine spent busy (including time the hypervisor stole)
// minus what this process used: how many cores other processes took while a
// row ran. The VM has few cores, so anything else running skews the numbers.
struct CpuSnapshot {
  double machine_busy_s = 0;  // /proc/stat: user+nice+system+irq+softirq+steal
  double self_s = 0;          // getrusage(RUSAGE_SELF): all threads of this process
  std::chrono::steady_clock::time_point wall;
  bool ok = false;
};

CpuSnapshot cpu_snapshot() {
  CpuSnapshot c;
  c.wall = std::chrono::steady_clock::now();
  std::FILE* f = std::fopen("/proc/stat", "r");
  if (f == nullptr) return c;
  unsigned long long v[8] = {};
  const int n = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
                            &v[6], &v[7]);
  std::fclose(f);
  if (n < 8) return c;
  const double hz = double(sysconf(_SC_CLK_TCK));
  // user nice system idle iowait irq softirq steal
  c.machine_busy_s = double(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / hz;
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) != 0) return c;
  c.self_s = double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + 1e-6 * double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
  c.ok = true;
  return c;
}

// Average number of cores other processes used between two snapshots.
double other_cores(const CpuSnapshot& a, const CpuSnapshot& b) {
  const double wall = std::chrono::duration<double>(b.wall - a.wall).count();
  if (!a.ok || !b.ok || wall <= 0.05) return NAN;  // /proc/stat ticks are 10 ms
  return std::max(0.0, ((b.machine_busy_s - a.machine_busy_s) - (b.self_s - a.self_s)) / wall);
}

// ---- FMA peak ---------------------------------------------------------------

struct Peak {
  std::string isa = "none";
  std::map<int, double> gflops;   // per thread count
  std::map<int, bool> contended;  // other processes ran during the measurement
};

volatile float g_sink;

double measure_peak(int threads, float (*loop)(long), double flops_per_iter) {
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  g_sink = loop(200000);
  const double calib = std::chrono::duration<double>(clock::now() - t0).count();
  const long iters = std::max<long>(10000, long(200000 * 0.08 / std::max(calib, 1e-6)));
  double best = 0;
  for (int rep = 0; rep < 4; ++rep) {
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    std::vector<float> sinks(size_t(threads), 0.0f);
    std::vector<std::thread> pool;
    for (int i = 0; i < threads; ++i) {
      pool.emplace_back([&, i] {
        ready.fetch_add(1);
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        sinks[size_t(i)] = loop(iters);
      });
    }
    while (ready.load() < threads) std::this_thread::yield();
    t0 = clock::now();
    go.store(true, std::memory_order_release);
    for (std::thread& t : pool) t.join();
    const double s = std::chrono::duration<double>(clock::now() - t0).count();
    for (float v : sinks) g_sink = g_sink + v;
    best = std::max(best, double(threads) * double(iters) * flops_per_iter / s / 1e9);
  }
  return best;
}

Peak measure_peaks(const std::vector<int>& threads) {
  Peak p;
  float (*loop)(long) = nullptr;
  double flops = 0;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) {
    p.isa = "AVX-512";
    loop = bench::fma_loop_avx512;
    flops = bench::kFlopsPerIterAvx512;
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    p.isa = "AVX2";
    loop = bench::fma_loop_avx2;
    flops = bench::kFlopsPerIterAvx2;
  }
  if (loop == nullptr) return p;
  for (int t : threads) {
    // Another process taking a core would understate the peak (and inflate
    // every "% of peak"): measure again, up to three times, if one did.
    for (int attempt = 0; attempt < 3; ++attempt) {
      const CpuSnapshot before = cpu_snapshot();
      const double g = measure_peak(t, loop, flops);
      const double others = other_cores(before, cpu_snapshot());
      p.gflops[t] = std::max(p.gflops[t], g);
      p.contended[t] = others > kContended;
      if (!p.contended[t]) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    // The host's load is invisible here and only ever lowers a measurement:
    // one thread's peak is the best of three, 300 ms apart (a run read
    // 112 GFLOP/s where quiet ones read 116-117).
    for (int attempt = 0; attempt < 2 && t == 1; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      p.gflops[t] = std::max(p.gflops[t], measure_peak(t, loop, flops));
    }
    // On a shared VM the host's other guests are invisible in /proc/stat:
    // t threads under t times one thread's peak (a quiet machine measures
    // within 1% of it) means a core was taken away while we measured, not
    // a lower peak. Measure again, half a second apart, and keep the best;
    // if it never gets there, say so.
    const double scaled = p.gflops.count(1) ? 0.97 * t * p.gflops[1] : 0.0;
    for (int attempt = 0; attempt < 10 && t > 1 && p.gflops[t] < scaled; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      p.gflops[t] = std::max(p.gflops[t], measure_peak(t, loop, flops));
    }
    if (t > 1 && p.gflops[t] < scaled) p.contended[t] = true;
  }
  // Each core runs at least its share of a multi-thread peak: a 1-thread
  // measurement below that was taken while the host held the core back.
  if (p.gflops.count(1))
    for (const auto& [t, g] : p.gflops) p.gflops[1] = std::max(p.gflops[1], g / t);
  return p;
}

// ---- quiet hand-over between libraries --------------------------------------

// OpenBLAS's worker threads busy-wait for about 2^28 cycles after each call
// and libgomp's (oneDNN's) spin too; measured right after them, any method
// shares its cores with those spinners. Before each method, wait for the
// previous one's threads to go to sleep if it was a library that spins.
void settle(bool next_uses_foreign_threads) {
  static bool last_foreign = false;
  if (last_foreign) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  last_foreign = next_uses_foreign_threads;
}

// ---- libconv1d ----------------------------------------------------------------

struct LayerGuard {
  conv1d_layer* layer = nullptr;
  ~LayerGuard() { conv1d_destroy(layer); }
};

std::string last_error(conv1d_status s) {
  std::string m = conv1d_last_error_message();
  return std::string(conv1d_status_string(s)) + (m.empty() ? "" : ": " + m);
}

struct LibResult {
  bool ran = false;
  std::string note;  // why n/a
  std::string plan;  // describe_plan, or the algorithm name
  bench::Timing timing;
};

bool g_threads_param_missing = false;

// A built layer for the problem (linear activation, bias on), forced to
// `algorithm`, with the kernel and bias set. Returns "" or why it failed.
std::string make_layer(const Problem& p, const bench::Geometry& g, const std::string& algorithm, int threads,
                       const float* kernel, size_t k_len, const float* bias, LayerGuard& guard,
                       bench::DType dtype = bench::DType::kFloat32) {
  conv1d_status s = conv1d_create(p.filters, p.kernel, &guard.layer);
  auto fail = [&](const std::string& what) { return what + ": " + last_error(s); };
  if (s != CONV1D_OK) return fail("create");
  conv1d_layer* L = guard.layer;
  if ((s = conv1d_set_int(L, CONV1D_PARAM_STRIDES, p.stride)) != CONV1D_OK) return fail("strides");
  if ((s = conv1d_set_int(L, CONV1D_PARAM_DILATION_RATE, p.dilation)) != CONV1D_OK) return fail("dilation_rate");
  if ((s = conv1d_set_int(L, CONV1D_PARAM_GROUPS, p.groups)) != CONV1D_OK) return fail("groups");
  if ((s = conv1d_set_string(L, CONV1D_PARAM_PADDING, p.padding.c_str())) != CONV1D_OK) return fail("padding");
  const char* format = bench::is_ncw(p) ? "channels_first" : "channels_last";
  if ((s = conv1d_set_string(L, CONV1D_PARAM_DATA_FORMAT, format)) != CONV1D_OK) return fail("data_format");
  if ((s = conv1d_set_string(L, CONV1D_PARAM_ACTIVATION, "linear")) != CONV1D_OK) return fail("activation");
  s = conv1d_set_int(L, CONV1D_PARAM_NUM_THREADS, threads);
  if (s == CONV1D_ERROR_UNKNOWN_PARAMETER) {
    g_threads_param_missing = true;
  } else if (s != CONV1D_OK) {
    return fail("num_threads");
  }
  if ((s = conv1d_set_string(L, CONV1D_PARAM_ALGORITHM, algorithm.c_str())) != CONV1D_OK) return fail("algorithm");
  // Before the weights build the layer: the policy is fixed from then on.
  if (dtype != bench::DType::kFloat32 &&
      (s = conv1d_set_string(L, CONV1D_PARAM_DTYPE, bench::dtype_name(dtype))) != CONV1D_OK)
    return fail("dtype");
  if ((s = conv1d_set_weights(L, kernel, k_len, bias, size_t(p.filters))) != CONV1D_OK) return fail("set_weights");
  int64_t out_steps = 0;
  if ((s = conv1d_output_steps(L, p.steps, &out_steps)) != CONV1D_OK) return fail("output_steps");
  if (out_steps != g.out_steps)
    return "libconv1d out_steps " + std::to_string(out_steps) + " != Keras " + std::to_string(g.out_steps);
  return "";
}

// Forward of x and y in `dtype` (conv1d_forward_ex; conv1d_forward for float32).
LibResult bench_libconv1d(const Problem& p, const bench::Geometry& g, const std::string& algorithm, int threads,
                          bench::DType dtype, const void* x, size_t x_len, const float* kernel, size_t k_len,
                          const float* bias, void* y, size_t y_len, double min_time) {
  LibResult r;
  if (dtype != bench::DType::kFloat32 && conv1d_forward_ex == nullptr) {
    r.note = "this libconv1d has no conv1d_forward_ex";
    return r;
  }
  LayerGuard guard;
  r.note = make_layer(p, g, algorithm, threads, kernel, k_len, bias, guard, dtype);
  if (!r.note.empty()) return r;
  conv1d_layer* L = guard.layer;
  const conv1d_dtype dt = dtype == bench::DType::kFloat64    ? CONV1D_DTYPE_FLOAT64
                          : dtype == bench::DType::kBfloat16 ? CONV1D_DTYPE_BFLOAT16
                                                             : CONV1D_DTYPE_FLOAT32;
  auto call = [&] {
    return dtype == bench::DType::kFloat32
               ? conv1d_forward(L, static_cast<const float*>(x), x_len, p.batch, p.steps, p.in_channels,
                                static_cast<float*>(y), y_len)
               : conv1d_forward_ex(L, dt, x, x_len, p.batch, p.steps, p.in_channels, dt, y, y_len);
  };
  if (conv1d_status s = call(); s != CONV1D_OK) {
    r.note = "forward: " + last_error(s);
    return r;
  }

  char buf[512];
  size_t needed = 0;
  if (conv1d_describe_plan != nullptr &&
      conv1d_describe_plan(L, p.batch, p.steps, buf, sizeof buf, &needed) == CONV1D_OK) {
    r.plan = buf;
  } else {
    conv1d_algorithm a = CONV1D_ALGORITHM_AUTO;
    if (conv1d_query_algorithm(L, p.batch, p.steps, &a) == CONV1D_OK) {
      const char* n = conv1d_algorithm_name(a);
      r.plan = n ? n : "?";
    }
  }

  r.timing = bench::time_calls([&] { (void)call(); }, min_time);
  r.ran = true;
  return r;
}

// What `fn` writes to stderr (file descriptor 2), which is restored after.
std::string capture_stderr(const std::function<void()>& fn) {
  std::fflush(stderr);
  std::FILE* tmp = std::tmpfile();
  const int saved = tmp != nullptr ? dup(2) : -1;
  if (saved < 0 || dup2(fileno(tmp), 2) < 0) {
    if (saved >= 0) close(saved);
    if (tmp != nullptr) std::fclose(tmp);
    fn();
    return "";
  }
  fn();
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::string text;
  std::rewind(tmp);
  char chunk[512];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, tmp)) > 0) text.append(chunk, n);
  std::fclose(tmp);
  return text;
}

// conv1d_backward of a linear layer: backward data when dx is not NULL (then
// dkernel and dbias are NULL), else backward weights into dkernel and dbias.
// The plan is the line CONV1D_PARAM_VERBOSE prints for the first call.
LibResult bench_libconv1d_backward(const Problem& p, const bench::Geometry& g, const std::string& algorithm,
                                   int threads, const float* x, size_t x_len, const float* kernel, size_t k_len,
                                   const float* bias, const float* dy, size_t y_len, float* dx, float* dkernel,
                                   float* dbias, double min_time) {
  LibResult r;
  if (conv1d_backward == nullptr) {
    r.note = "this libconv1d has no conv1d_backward";
    return r;
  }
  LayerGuard guard;
  r.note = make_layer(p, g, algorithm, threads, kernel, k_len, bias, guard);
  if (!r.note.empty()) return r;
  conv1d_layer* L = guard.layer;
  auto call = [&] {
    return conv1d_backward(L, x, x_len, p.batch, p.steps, p.in_channels, dy, y_len, dx, dx ? x_len : 0, dkernel,
                           dkernel ? k_len : 0, dbias, dbias ? size_t(p.filters) : 0, CONV1D_BACKWARD_DEFAULT);
  };
  conv1d_status s = conv1d_set_int(L, CONV1D_PARAM_VERBOSE, 1);
  const bool verbose = s == CONV1D_OK;
  const std::string printed = capture_stderr([&] { s = call(); });
  if (s != CONV1D_OK) {
    r.note = "backward: " + last_error(s);
    return r;
  }
  if (verbose && (s = conv1d_set_int(L, CONV1D_PARAM_VERBOSE, 0)) != CONV1D_OK) {
    r.note = "verbose: " + last_error(s);
    return r;
  }
  // "conv1d: layer ... -> gemm [gemm/openblas, 2 threads] (why) (backward data)"
  const char* pass_tag = dx ? " (backward data)" : " (backward weights)";
  for (const std::string& line : split(printed, '\n')) {
    const size_t tag = line.rfind(pass_tag);
    if (tag != std::string::npos) r.plan = line.substr(0, tag);
  }
  if (r.plan.empty()) r.plan = algorithm;

  r.timing = bench::time_calls([&] { (void)call(); }, min_time);
  r.ran = true;
  return r;
}

// ---- checking and formatting ---------------------------------------------------

// max |a - b| / max |ref|; NaN-safe (returns +inf when anything is NaN).
double rel_error(const float* a, const float* ref, size_t n) {
  double diff = 0, mag = 0;
  for (size_t i = 0; i < n; ++i) {
    const double d = std::fabs(double(a[i]) - double(ref[i]));
    if (!(d == d)) return INFINITY;
    diff = std::max(diff, d);
    mag = std::max(mag, std::fabs(double(ref[i])));
  }
  return diff / std::max(mag, 1e-30);
}

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

// describe_plan's line without the "conv1d: layer ... ->" preamble, for the table.
std::string short_plan(const std::string& plan) {
  const size_t arrow = plan.find("-> ");
  return arrow == std::string::npos ? plan : plan.substr(arrow + 3);
}

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

struct MethodOutcome {
  bool ran = false;
  double seconds = 0;
  std::string note;
};

struct RowResult {
  Problem p;
  std::string pass = "forward";  // forward | backward_data | backward_weights
  bench::DType dtype = bench::DType::kFloat32;
  bench::Geometry g;
  int threads = 0;
  double flops = 0;
  double peak = 0;
  std::map<std::string, MethodOutcome> methods;
  std::string plan, impl, check = "ok";
  double max_rel_err = 0;
  double other_cores = NAN;  // cores other processes used while the row ran
  CpuSnapshot cpu_before;    // taken when the row started
};

double ratio(const RowResult& r, const std::string& num, const std::string& den) {
  auto a = r.methods.find(num), b = r.methods.find(den);
  if (a == r.methods.end() || b == r.methods.end() || !a->second.ran || !b->second.ran) return NAN;
  return a->second.seconds / b->second.seconds;
}

std::string short_pass(const std::string& pass, bench::DType dtype) {
  const std::string suffix = dtype == bench::DType::kBfloat16 ? "-bf16" : dtype == bench::DType::kFloat64 ? "-f64" : "";
  return (pass == "backward_data" ? "bwd-data" : pass == "backward_weights" ? "bwd-wts" : "fwd") + suffix;
}

// Compares every method's outputs with those of the first method that ran on
// the row (libconv1d auto when it runs) and records mismatches in the row.
class OutputCheck {
 public:
  struct Buffer {
    float* out;  // what each method writes
    float* ref;  // the first method's copy
    size_t len;
  };
  OutputCheck(RowResult& row, std::vector<Buffer> buffers, double tolerance = kTolerance)
      : row_(row), buffers_(std::move(buffers)), tolerance_(tolerance) {}

  // Zero the outputs before a method runs, so that a method that writes
  // nothing cannot pass.
  void clear() const {
    for (const Buffer& b : buffers_) std::memset(b.out, 0, b.len * sizeof(float));
  }

  void check(const std::string& method) {
    if (ref_name_.empty()) {
      for (const Buffer& b : buffers_) std::memcpy(b.ref, b.out, b.len * sizeof(float));
      ref_name_ = method;
      return;
    }
    double e = 0;
    for (const Buffer& b : buffers_) e = std::max(e, rel_error(b.out, b.ref, b.len));
    row_.max_rel_err = std::max(row_.max_rel_err, e);
    if (!(e <= tolerance_)) {
      row_.check = (row_.check == "ok" ? std::string("MISMATCH") : row_.check) + " " + method + "=" + fmt("%.1e", e) +
                   "(vs " + ref_name_ + ")";
    }
  }

  bool have_ref() const { return !ref_name_.empty(); }

 private:
  RowResult& row_;
  std::vector<Buffer> buffers_;
  double tolerance_;
  std::string ref_name_;
};

}  // namespace

int main(int argc, char** argv) {
  Options opt = parse_args(argc, argv);

  std::vector<Problem> problems;
  try {
    if (!opt.problems.empty()) {
      std::vector<int> index(bench::kSuiteColumns.size());
      for (size_t i = 0; i < index.size(); ++i) index[i] = int(i);
      for (const std::string& line : opt.problems) {
        const std::vector<std::string> f = split(line, ',');
        if (f.size() != bench::kSuiteColumns.size())
          throw std::runtime_error("--problem needs " + std::to_string(bench::kSuiteColumns.size()) +
                                   " fields: " + line);
        problems.push_back(bench::problem_from_fields(f, index, "--problem"));
      }
    } else {
      problems = read_suite(opt.suite);
    }
    if (!opt.rows.empty()) {
      std::vector<Problem> picked;
      for (const std::string& name : opt.rows) {
        auto it = std::find_if(problems.begin(), problems.end(), [&](const Problem& p) { return p.name == name; });
        if (it == problems.end()) throw std::runtime_error("no row named '" + name + "'");
        picked.push_back(*it);
      }
      problems = picked;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "conv1d_bench: %s\n", e.what());
    return 2;
  }

  // The algorithms in a fixed order with auto first: its output is the
  // reference every other method is checked against.
  std::vector<std::string> algs;
  for (const char* a : {"auto", "direct", "gemm", "reference"})
    if (std::find(opt.algorithms.begin(), opt.algorithms.end(), a) != opt.algorithms.end()) algs.push_back(a);
  std::vector<std::string> bases;
  for (const char* b : {"onednn", "im2col"})
    if (std::find(opt.baselines.begin(), opt.baselines.end(), b) != opt.baselines.end()) bases.push_back(b);
  if (!bench::have_onednn()) bases.erase(std::remove(bases.begin(), bases.end(), "onednn"), bases.end());
  std::vector<std::string> methods = algs;
  methods.insert(methods.end(), bases.begin(), bases.end());

  std::FILE* info = opt.csv ? stderr : stdout;
  const char* coretype = std::getenv("OPENBLAS_CORETYPE");
  const std::string lib_version = conv1d_version_string();
  const char* isa_names[] = {"scalar", "avx2", "avx512"};
  const int isa = conv1d_cpu_isa != nullptr ? int(conv1d_cpu_isa()) : -1;
  const std::string dnnl_version = bench::onednn_version();
  const std::string blas = bench::openblas_description();

  std::fprintf(info, "conv1d_bench: libconv1d %s (kernels up to %s), %s, %s, OPENBLAS_CORETYPE=%s\n",
               lib_version.c_str(), isa >= 0 && isa <= 2 ? isa_names[isa] : "?", dnnl_version.c_str(), blas.c_str(),
               coretype ? coretype : "(unset)");
  std::fprintf(info,
               "hardware threads: %u; min time %.3g s per method; median per-call time; check: normwise "
               "relative error vs libconv1d auto <= %.0e\n",
               std::thread::hardware_concurrency(), opt.min_time, kTolerance);
  double load = -1;  // recorded in the CSV
  if (std::FILE* f = std::fopen("/proc/loadavg", "r")) {
    if (std::fscanf(f, "%lf", &load) != 1) load = -1;
    std::fclose(f);
  }
  {
    const CpuSnapshot a = cpu_snapshot();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const double others = other_cores(a, cpu_snapshot());
    if (others > kContended)
      std::fprintf(info,
                   "WARNING: other processes are using %.2f cores: the numbers below will be low and noisy; "
                   "rows they disturb are flagged 'contended'\n",
                   others);
  }
  std::fflush(info);
  const Peak peak = measure_peaks(opt.threads);
  for (int t : opt.threads) {
    auto it = peak.gflops.find(t);
    if (it != peak.gflops.end())
      std::fprintf(info, "FMA peak (%s, %d thread%s): %.1f GFLOP/s%s\n", peak.isa.c_str(), t, t == 1 ? "" : "s",
                   it->second, peak.contended.at(t) ? " (WARNING: other processes were running: too low)" : "");
    else
      std::fprintf(info, "FMA peak (%d threads): not measured (no AVX2/AVX-512)\n", t);
  }
  // bfloat16 rows count against the vdpbf16ps peak, float64 rows against
  // half the FMA peak (the same instructions on half as many lanes).
  std::map<int, double> bf16_peak;
  if (std::find(opt.dtypes.begin(), opt.dtypes.end(), bench::DType::kBfloat16) != opt.dtypes.end()) {
    if (__builtin_cpu_supports("avx512bf16")) {
      for (int t : opt.threads) {
        bf16_peak[t] = measure_peak(t, bench::dpbf16_loop_avx512, bench::kFlopsPerIterBf16);
        std::fprintf(info, "BF16 dot-product peak (AVX512_BF16, %d thread%s): %.1f GFLOP/s\n", t, t == 1 ? "" : "s",
                     bf16_peak[t]);
      }
    } else {
      std::fprintf(info, "BF16 peak: not measured (no AVX512_BF16)\n");
    }
  }
  auto peak_for = [&](bench::DType d, int t) -> double {
    const std::map<int, double>& m = d == bench::DType::kBfloat16 ? bf16_peak : peak.gflops;
    auto it = m.find(t);
    if (it == m.end()) return 0;
    return d == bench::DType::kFloat64 ? it->second / 2 : it->second;
  };
  std::fprintf(info, "\n");
  std::fflush(info);

  // ---- output: table header / CSV header ----
  size_t name_w = 4;
  for (const Problem& p : problems) name_w = std::max(name_w, p.name.size());

  std::vector<std::string> csv_cols = {"name",    "pass",      "dtype",  "batch",    "in_channels", "steps",
                                       "filters", "kernel",    "stride", "dilation", "groups",      "padding",
                                       "layout",  "out_steps", "gflop",  "threads",  "peak_gflops"};
  for (const std::string m : kAllMethods) {
    if (std::find(methods.begin(), methods.end(), m) == methods.end()) continue;
    csv_cols.push_back(m + "_us");
    csv_cols.push_back(m + "_gflops");
  }
  for (const char* c :
       {"auto_pct_peak", "onednn_over_auto", "im2col_over_auto", "check", "max_rel_err", "plan", "onednn_impl", "notes",
        "libconv1d_version", "onednn_version", "openblas", "fma_isa", "load_at_start", "other_cores", "peak_contended"})
    csv_cols.push_back(c);
  std::string csv_header;
  for (size_t i = 0; i < csv_cols.size(); ++i) csv_header += (i ? "," : "") + csv_cols[i];

  std::ofstream csv_out;
  if (!opt.csv_file.empty()) {
    csv_out.open(opt.csv_file);
    if (!csv_out) {
      std::fprintf(stderr, "conv1d_bench: cannot write %s\n", opt.csv_file.c_str());
      return 2;
    }
    csv_out << csv_header << "\n";
  }
  auto print_table_header = [&](const char* title) {
    char buf[256];
    std::printf("%s\n", title);
    std::string h = std::string(name_w + 13, ' ');
    std::snprintf(buf, sizeof buf, "%-*s %3s %-8s", int(name_w), "row", "thr", "pass");
    std::string h2 = buf;
    for (const std::string& m : methods) {
      std::snprintf(buf, sizeof buf, " | %-17s", m.c_str());
      h += buf;
      std::snprintf(buf, sizeof buf, " | %9s %6s ", "us", "GF/s");
      h2 += buf;
    }
    h += " |";
    std::snprintf(buf, sizeof buf, " | %5s %9s %8s %s  %s", "%peak", "dnnl/auto", "i2c/auto", "check",
                  "plan  [oneDNN impl]");
    h2 += buf;
    std::printf("%s\n%s\n", h.c_str(), h2.c_str());
    std::fflush(stdout);
  };
  if (opt.csv) std::printf("%s\n", csv_header.c_str());

  std::vector<RowResult> results;
  std::mt19937 rng(20240607u);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);

  // ---- one row of output: CSV line and table line ----
  auto emit = [&](RowResult& row, std::string notes) {
    row.other_cores = other_cores(row.cpu_before, cpu_snapshot());
    if (row.other_cores > kContended)
      notes += (notes.empty() ? "" : "; ") + fmt("contended: other processes used %.2f cores", row.other_cores);
    const Problem& p = row.p;
    const double pct = row.methods.count("auto") && row.methods["auto"].ran && row.peak > 0
                           ? 100.0 * row.flops / row.methods["auto"].seconds / 1e9 / row.peak
                           : NAN;
    const double r_dnnl = ratio(row, "onednn", "auto");
    const double r_i2c = ratio(row, "im2col", "auto");
    auto num = [](double v, const char* f) { return std::isnan(v) ? std::string() : fmt(f, v); };

    std::vector<std::string> fields = {p.name,
                                       row.pass,
                                       bench::dtype_name(row.dtype),
                                       std::to_string(p.batch),
                                       std::to_string(p.in_channels),
                                       std::to_string(p.steps),
                                       std::to_string(p.filters),
                                       std::to_string(p.kernel),
                                       std::to_string(p.stride),
                                       std::to_string(p.dilation),
                                       std::to_string(p.groups),
                                       p.padding,
                                       p.layout,
                                       std::to_string(row.g.out_steps),
                                       fmt("%.6g", row.flops / 1e9),
                                       std::to_string(row.threads),
                                       row.peak > 0 ? fmt("%.2f", row.peak) : ""};
    for (const std::string m : kAllMethods) {
      if (std::find(methods.begin(), methods.end(), m) == methods.end()) continue;
      const MethodOutcome& mo = row.methods[m];
      fields.push_back(mo.ran ? fmt("%.3f", mo.seconds * 1e6) : "");
      fields.push_back(mo.ran ? fmt("%.3f", row.flops / mo.seconds / 1e9) : "");
    }
    fields.push_back(num(pct, "%.2f"));
    fields.push_back(num(r_dnnl, "%.4f"));
    fields.push_back(num(r_i2c, "%.4f"));
    fields.push_back(row.check);
    fields.push_back(fmt("%.3g", row.max_rel_err));
    fields.push_back(row.plan);
    fields.push_back(row.impl);
    fields.push_back(notes);
    fields.push_back(lib_version);
    fields.push_back(dnnl_version);
    fields.push_back(blas);
    fields.push_back(peak.isa);
    fields.push_back(load >= 0 ? fmt("%.2f", load) : "");
    fields.push_back(std::isnan(row.other_cores) ? "" : fmt("%.3f", row.other_cores));
    fields.push_back(peak.contended.count(row.threads) && peak.contended.at(row.threads) ? "1" : "0");
    std::string line;
    for (size_t i = 0; i < fields.size(); ++i) line += (i ? "," : "") + csv_field(fields[i]);
    if (csv_out.is_open()) csv_out << line << "\n" << std::flush;

    if (opt.csv) {
      std::printf("%s\n", line.c_str());
    } else {
      char buf[256];
      std::snprintf(buf, sizeof buf, "%-*s %3d %-8s", int(name_w), p.name.c_str(), row.threads,
                    short_pass(row.pass, row.dtype).c_str());
      std::string out = buf;
      for (const std::string& m : methods) {
        const MethodOutcome& mo = row.methods[m];
        if (mo.ran) {
          const double us = mo.seconds * 1e6;
          std::snprintf(buf, sizeof buf, " | %9s %6.1f ", fmt(us >= 1e5 ? "%.0f" : "%.1f", us).c_str(),
                        row.flops / mo.seconds / 1e9);
        } else {
          std::snprintf(buf, sizeof buf, " | %9s %6s ", "n/a", "");
        }
        out += buf;
      }
      std::snprintf(buf, sizeof buf, " | %5s %9s %8s %s  %s", std::isnan(pct) ? "n/a" : fmt("%.1f", pct).c_str(),
                    std::isnan(r_dnnl) ? "n/a" : fmt("%.2f", r_dnnl).c_str(),
                    std::isnan(r_i2c) ? "n/a" : fmt("%.2f", r_i2c).c_str(), row.check.c_str(),
                    short_plan(row.plan).c_str());
      out += buf;
      if (!row.impl.empty()) out += "  [" + row.impl + "]";
      std::printf("%s\n", out.c_str());
      if (!notes.empty()) std::printf("%*s  note: %s\n", int(name_w), "", notes.c_str());
    }
    std::fflush(stdout);
    results.push_back(std::move(row));
  };

  auto new_row = [&](const Problem& p, const bench::Geometry& g, int threads, const char* pass) {
    RowResult row;
    row.p = p;
    row.g = g;
    row.pass = pass;
    row.threads = threads;
    row.flops = bench::problem_flops(p, g.out_steps);
    auto pk = peak.gflops.find(threads);
    row.peak = pk != peak.gflops.end() ? pk->second : 0;
    row.cpu_before = cpu_snapshot();
    return row;
  };
  // One method's outcome into the row; false when it did not run.
  auto record = [](RowResult& row, std::string& notes, const std::string& m, bool ran, double seconds,
                   const std::string& note) {
    // A later round keeps the faster time; notes come from the first.
    const auto seen = row.methods.find(m);
    if (seen != row.methods.end()) {
      if (!seen->second.ran || !ran) return false;
      seen->second.seconds = std::min(seen->second.seconds, seconds);
      return true;
    }
    MethodOutcome& mo = row.methods[m];
    mo.ran = ran;
    mo.seconds = seconds;
    mo.note = note;
    if (!ran) notes += (notes.empty() ? "" : "; ") + m + " n/a (" + note + ")";
    return ran;
  };

  const bool run_forward = std::find(opt.passes.begin(), opt.passes.end(), "forward") != opt.passes.end();
  const bool run_backward = std::find(opt.passes.begin(), opt.passes.end(), "backward") != opt.passes.end();

  // ---- forward, in each requested element type ----
  for (bench::DType dtype : run_forward ? opt.dtypes : std::vector<bench::DType>{}) {
    const bool f32 = dtype == bench::DType::kFloat32, f64 = dtype == bench::DType::kFloat64;
    if (!opt.csv) {
      if (dtype != opt.dtypes.front()) std::printf("\n");
      print_table_header(f32   ? "== forward: y = conv(x) + bias =="
                         : f64 ? "== forward, float64: x, weights and y in double (oneDNN has no f64 convolution) =="
                               : "== forward, bfloat16: x, weights and y in bfloat16, float32 accumulation ==");
    }
    for (const Problem& p : problems) {
      const bench::Geometry g = bench::keras_geometry(p);
      if (g.out_steps <= 0) {
        std::fprintf(stderr, "conv1d_bench: %s: output would be empty, skipped\n", p.name.c_str());
        continue;
      }
      const size_t x_len = size_t(p.batch * p.steps * p.in_channels);
      const size_t y_len = size_t(p.batch * g.out_steps * p.filters);
      const size_t k_len = size_t(p.kernel * (p.in_channels / p.groups) * p.filters);
      const size_t f_len = size_t(p.filters);

      for (int threads : opt.threads) {
        RowResult row = new_row(p, g, threads, "forward");
        row.dtype = dtype;
        row.peak = peak_for(dtype, threads);
        std::string notes;
        try {
          // Allocation zero-fills (first touch); then random inputs and weights.
          bench::FloatBuffer x = bench::alloc_floats(x_len), kernel = bench::alloc_floats(k_len),
                             bias = bench::alloc_floats(f_len), y = bench::alloc_floats(y_len),
                             y_ref = bench::alloc_floats(y_len);
          for (size_t i = 0; i < x_len; ++i) x[i] = uni(rng);
          for (size_t i = 0; i < k_len; ++i) kernel[i] = uni(rng);
          for (size_t i = 0; i < f_len; ++i) bias[i] = 0.1f * uni(rng);
          // The row's element type: x and y typed, the float32 copies for the check.
          bench::Buffer<char> xt, yt, kernel64, bias64;
          const void* x_typed = x.get();
          void* y_typed = y.get();
          if (!f32) {
            const size_t size = bench::dtype_size(dtype);
            xt = bench::alloc_buffer<char>(x_len * size), yt = bench::alloc_buffer<char>(y_len * size);
            x_typed = xt.get(), y_typed = yt.get();
            for (size_t i = 0; i < x_len; ++i) {
              if (f64)
                reinterpret_cast<double*>(xt.get())[i] = x[i];
              else
                reinterpret_cast<uint16_t*>(xt.get())[i] = bench::to_bf16(x[i]);
            }
          }
          if (f64) {
            kernel64 = bench::alloc_buffer<char>(k_len * 8), bias64 = bench::alloc_buffer<char>(f_len * 8);
            for (size_t i = 0; i < k_len; ++i) reinterpret_cast<double*>(kernel64.get())[i] = kernel[i];
            for (size_t i = 0; i < f_len; ++i) reinterpret_cast<double*>(bias64.get())[i] = bias[i];
          }
          // A method's typed output as float32 for the check (y itself for float32 rows).
          auto widen = [&] {
            if (f32) return;
            for (size_t i = 0; i < y_len; ++i)
              y[i] = f64 ? float(reinterpret_cast<const double*>(y_typed)[i])
                         : bench::from_bf16(reinterpret_cast<const uint16_t*>(y_typed)[i]);
          };
          auto clear = [&](OutputCheck& check) {
            check.clear();
            if (!f32) std::memset(y_typed, 0, y_len * bench::dtype_size(dtype));
          };

          bench::openblas_threads(threads);
          // bfloat16 outputs carry one rounding of 2^-9 relative each, in any implementation.
          OutputCheck check(row, {{y.get(), y_ref.get(), y_len}}, dtype == bench::DType::kBfloat16 ? 2e-2 : kTolerance);
          for (int round = 0; round < opt.rounds; ++round) {
            for (const std::string& a : algs) {
              settle(a == "gemm");
              clear(check);
              LibResult lr = bench_libconv1d(p, g, a, threads, dtype, x_typed, x_len, kernel.get(), k_len, bias.get(),
                                             y_typed, y_len, opt.min_time);
              if (!record(row, notes, a, lr.ran, lr.timing.median_s, lr.note)) continue;
              if (a == "auto" || row.plan.empty()) row.plan = lr.plan;
              widen();
              check.check(a);
            }
            for (const std::string& b : bases) {
              settle(true);
              clear(check);
              bench::BaselineResult br;
              if (b == "onednn") {
                br = bench::bench_onednn_typed(p, g, threads, dtype, x_typed, kernel.get(), bias.get(), y_typed,
                                               opt.min_time);
                row.impl = br.ran ? br.note : "n/a";
              } else if (f32) {
                br = bench::bench_im2col(p, g, threads, x.get(), kernel.get(), bias.get(), y.get(), opt.min_time);
              } else if (f64) {
                br = bench::bench_im2col_f64(p, g, threads, reinterpret_cast<const double*>(x_typed),
                                             reinterpret_cast<const double*>(kernel64.get()),
                                             reinterpret_cast<const double*>(bias64.get()),
                                             reinterpret_cast<double*>(y_typed), opt.min_time);
              } else {
                br.note = "no bfloat16 im2col baseline";
              }
              if (!record(row, notes, b, br.ran, br.timing.median_s, br.note)) continue;
              widen();
              check.check(b);
            }
          }
          if (!check.have_ref()) row.check = "n/a";
        } catch (const std::bad_alloc&) {
          notes += "out of memory";
          row.check = "n/a";
        }
        emit(row, notes);
      }
    }
  }

  // ---- backward: data (dx) and weights (dkernel + dbias), timed separately ----
  if (run_backward && !opt.csv) {
    if (run_forward) std::printf("\n");
    print_table_header(
        "== backward, linear activation: bwd-data = dx only, bwd-wts = dkernel + dbias; "
        "GFLOP/s count the forward's FLOPs ==");
  }
  for (const Problem& p : run_backward ? problems : std::vector<Problem>{}) {
    const bench::Geometry g = bench::keras_geometry(p);
    if (g.out_steps <= 0) {
      std::fprintf(stderr, "conv1d_bench: %s: output would be empty, skipped\n", p.name.c_str());
      continue;
    }
    const size_t x_len = size_t(p.batch * p.steps * p.in_channels);
    const size_t y_len = size_t(p.batch * g.out_steps * p.filters);
    const size_t k_len = size_t(p.kernel * (p.in_channels / p.groups) * p.filters);
    const size_t f_len = size_t(p.filters);

    for (int threads : opt.threads) {
      for (const char* pass : {"backward_data", "backward_weights"}) {
        const bool data = std::string(pass) == "backward_data";
        RowResult row = new_row(p, g, threads, pass);
        std::string notes;
        try {
          bench::FloatBuffer x = bench::alloc_floats(x_len), kernel = bench::alloc_floats(k_len),
                             bias = bench::alloc_floats(f_len), dy = bench::alloc_floats(y_len);
          bench::FloatBuffer dx, dx_ref, dk, dk_ref, db, db_ref;
          if (data) {
            dx = bench::alloc_floats(x_len), dx_ref = bench::alloc_floats(x_len);
          } else {
            dk = bench::alloc_floats(k_len), dk_ref = bench::alloc_floats(k_len);
            db = bench::alloc_floats(f_len), db_ref = bench::alloc_floats(f_len);
          }
          for (size_t i = 0; i < x_len; ++i) x[i] = uni(rng);
          for (size_t i = 0; i < k_len; ++i) kernel[i] = uni(rng);
          for (size_t i = 0; i < f_len; ++i) bias[i] = 0.1f * uni(rng);
          for (size_t i = 0; i < y_len; ++i) dy[i] = uni(rng);

          bench::openblas_threads(threads);
          OutputCheck check(row, data ? std::vector<OutputCheck::Buffer>{{dx.get(), dx_ref.get(), x_len}}
                                      : std::vector<OutputCheck::Buffer>{{dk.get(), dk_ref.get(), k_len},
                                                                         {db.get(), db_ref.get(), f_len}});
          for (int round = 0; round < opt.rounds; ++round) {
            for (const std::string& a : algs) {
              settle(a != "direct");  // auto may plan OpenBLAS GEMMs
              check.clear();
              LibResult lr = bench_libconv1d_backward(p, g, a, threads, x.get(), x_len, kernel.get(), k_len, bias.get(),
                                                      dy.get(), y_len, dx.get(), dk.get(), db.get(), opt.min_time);
              if (!record(row, notes, a, lr.ran, lr.timing.median_s, lr.note)) continue;
              if (a == "auto" || row.plan.empty()) row.plan = lr.plan;
              check.check(a);
            }
            for (const std::string& b : bases) {
              settle(true);
              check.clear();
              bench::BaselineResult br;
              if (b == "onednn") {
                br = data ? bench::bench_onednn_backward_data(p, g, threads, dy.get(), kernel.get(), dx.get(),
                                                              opt.min_time)
                          : bench::bench_onednn_backward_weights(p, g, threads, x.get(), dy.get(), dk.get(), db.get(),
                                                                 opt.min_time);
                row.impl = br.ran ? br.note : "n/a";
              } else {
                br = data ? bench::bench_im2col_backward_data(p, g, threads, dy.get(), kernel.get(), dx.get(),
                                                              opt.min_time)
                          : bench::bench_im2col_backward_weights(p, g, threads, x.get(), dy.get(), dk.get(), db.get(),
                                                                 opt.min_time);
              }
              if (!record(row, notes, b, br.ran, br.timing.median_s, br.note)) continue;
              check.check(b);
            }
          }
          if (!check.have_ref()) row.check = "n/a";
        } catch (const std::bad_alloc&) {
          notes += "out of memory";
          row.check = "n/a";
        }
        emit(row, notes);
      }
    }
  }

  // ---- summary: geometric means of the time ratios per pass and thread count ----
  std::FILE* summary = opt.csv ? stderr : stdout;
  std::fprintf(summary, "\n");
  std::vector<std::pair<std::string, bench::DType>> summaries;
  for (bench::DType d : opt.dtypes) summaries.emplace_back("forward", d);
  summaries.emplace_back("backward_data", bench::DType::kFloat32);
  summaries.emplace_back("backward_weights", bench::DType::kFloat32);
  for (const auto& [pass_name, dtype] : summaries) {
    const char* pass = pass_name.c_str();
    const std::string label = dtype == bench::DType::kFloat32 ? pass_name : pass_name + " " + bench::dtype_name(dtype);
    for (int t : opt.threads) {
      for (const char* base : {"onednn", "im2col"}) {
        if (std::find(bases.begin(), bases.end(), base) == bases.end()) continue;
        double logsum = 0;
        int n = 0, rows = 0;
        for (const RowResult& r : results) {
          if (r.threads != t || r.pass != pass || r.dtype != dtype) continue;
          ++rows;
          const double q = ratio(r, base, "auto");
          if (std::isnan(q) || !(q > 0)) continue;
          logsum += std::log(q);
          ++n;
        }
        if (rows == 0) continue;
        if (n > 0)
          std::fprintf(summary,
                       "%-16s geomean %s_time/auto_time, %d thread%s: %.3f over %d rows (>1: libconv1d faster)\n",
                       label.c_str(), base, t, t == 1 ? "" : "s", std::exp(logsum / n), n);
        else
          std::fprintf(summary, "%-16s geomean %s_time/auto_time, %d thread%s: n/a\n", label.c_str(), base, t,
                       t == 1 ? "" : "s");
      }
    }
  }
  for (const RowResult& r : results) {
    if (r.check != "ok" && r.check != "n/a")
      std::fprintf(summary, "WARNING: %s %s (%d threads): %s\n", r.p.name.c_str(), r.pass.c_str(), r.threads,
                   r.check.c_str());
  }
  int contended = 0;
  for (const RowResult& r : results) contended += r.other_cores > kContended;
  if (contended > 0)
    std::fprintf(summary,
                 "WARNING: %d of %zu rows ran while other processes used > %.1f cores: rerun on an idle "
                 "machine for trustworthy numbers\n",
                 contended, results.size(), kContended);
  if (g_threads_param_missing)
    std::fprintf(summary,
                 "WARNING: this libconv1d does not know CONV1D_PARAM_NUM_THREADS; its thread count was "
                 "not controlled\n");
  if (!bench::have_onednn()) std::fprintf(summary, "note: built without oneDNN\n");
  return 0;
}
