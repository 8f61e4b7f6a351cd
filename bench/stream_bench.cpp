// conv1d_stream_bench: the per-frame cost of streaming (conv1d_stream_process
// with chunks of 1 and of 64 frames) against one conv1d_forward over the
// whole sequence, on the causal and valid rows of bench/suite.csv.
//
//   conv1d_stream_bench [--suite FILE] [--rows wavenet_d1,...] [--threads 1]
//                       [--chunks 1,64] [--algorithm auto] [--min-time SECONDS]
//
// Default rows: those whose name starts with "wavenet". Each time is the
// median over >= 5 samples (bench::time_calls) of one pass over the row's
// whole sequence: one forward call, or a reset and steps/chunk process calls;
// divided by the steps, it is the time per input frame (for the whole batch).
// Every stream's output is checked against the forward's first (bitwise for
// a forced algorithm) and the row fails otherwise.
#include <conv1d/conv1d.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench.hpp"

namespace {

using bench::lower;
using bench::parse_int;
using bench::parse_list;
using bench::Problem;
using bench::read_suite;
using bench::split;
using bench::trim;

struct Options {
  std::string suite = CONV1D_BENCH_DEFAULT_SUITE;
  std::vector<std::string> rows;
  std::vector<int> threads = {1};
  std::vector<int64_t> chunks = {1, 64};
  std::string algorithm = "auto";
  double min_time = 0.3;
};

[[noreturn]] void usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: conv1d_stream_bench [--suite FILE] [--rows a,b] [--threads 1,2] [--chunks 1,64]\n"
               "                           [--algorithm auto|direct|gemm|reference] [--min-time SECONDS]\n"
               "\n"
               "  --suite FILE       problems, one CSV line each (default %s)\n"
               "  --rows LIST        these causal/valid suite rows (default: the wavenet rows)\n"
               "  --threads LIST     layer thread counts (default 1)\n"
               "  --chunks LIST      frames per process call (default 1,64)\n"
               "  --algorithm NAME   the layer's algorithm (default auto)\n"
               "  --min-time SECONDS minimum measuring time per measurement (default 0.3)\n",
               CONV1D_BENCH_DEFAULT_SUITE);
  std::exit(code);
}

Options parse_args(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(2);
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      usage(0);
    } else if (a == "--suite") {
      o.suite = value();
    } else if (a == "--rows") {
      o.rows = bench::parse_list(value());
    } else if (a == "--threads") {
      o.threads.clear();
      for (const std::string& t : bench::parse_list(value()))
        o.threads.push_back(int(bench::parse_int(t, "--threads")));
    } else if (a == "--chunks") {
      o.chunks.clear();
      for (const std::string& t : bench::parse_list(value())) o.chunks.push_back(bench::parse_int(t, "--chunks"));
    } else if (a == "--algorithm") {
      o.algorithm = value();
    } else if (a == "--min-time") {
      o.min_time = std::strtod(value().c_str(), nullptr);
      if (!(o.min_time > 0)) usage(2);
    } else {
      std::fprintf(stderr, "conv1d_stream_bench: unknown argument '%s'\n", a.c_str());
      usage(2);
    }
  }
  return o;
}

void check(conv1d_status s, const char* what) {
  if (s != CONV1D_OK)
    throw std::runtime_error(std::string(what) + ": " + conv1d_status_string(s) + ": " + conv1d_last_error_message());
}

// Copies frames [t0, t0 + m) of every sequence of x into chunk.
void take_frames(const Problem& p, const float* x, int64_t t0, int64_t m, float* chunk) {
  const int64_t L = p.steps, C = p.in_channels;
  for (int64_t n = 0; n < p.batch; ++n) {
    if (!bench::is_ncw(p)) {
      std::memcpy(chunk + n * m * C, x + (n * L + t0) * C, sizeof(float) * size_t(m * C));
    } else {
      for (int64_t c = 0; c < C; ++c)
        std::memcpy(chunk + (n * C + c) * m, x + (n * C + c) * L + t0, sizeof(float) * size_t(m));
    }
  }
}

struct StreamPass {
  conv1d_stream* stream = nullptr;
  std::vector<std::vector<float>> chunks;  // the input, pre-split
  std::vector<float> y;                    // every output, (batch, out, filters) per call in turn
  int64_t m = 0;
};

// Feeds the whole sequence once from a reset; the outputs of call i go to
// their place in y (channels_last or channels_first, batch-major per call).
void run_pass(const Problem& p, StreamPass& s, int64_t out_steps, std::vector<float>* gather) {
  check(conv1d_stream_reset(s.stream), "reset");
  int64_t t0 = 0, o0 = 0;
  for (const std::vector<float>& chunk : s.chunks) {
    const int64_t m = std::min(s.m, p.steps - t0);
    int64_t out = 0;
    check(conv1d_stream_process(s.stream, chunk.data(), chunk.size(), m, s.y.data(), s.y.size(), &out),
          "stream_process");
    if (gather) {
      const int64_t F = p.filters;
      for (int64_t n = 0; n < p.batch; ++n) {
        if (!bench::is_ncw(p)) {
          std::copy(s.y.begin() + n * out * F, s.y.begin() + (n + 1) * out * F,
                    gather->begin() + (n * out_steps + o0) * F);
        } else {
          for (int64_t f = 0; f < F; ++f)
            std::copy(s.y.begin() + (n * F + f) * out, s.y.begin() + (n * F + f + 1) * out,
                      gather->begin() + (n * F + f) * out_steps + o0);
        }
      }
    }
    t0 += m;
    o0 += out;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_args(argc, argv);
  std::vector<Problem> suite;
  try {
    suite = read_suite(o.suite);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "conv1d_stream_bench: %s\n", e.what());
    return 2;
  }
  std::vector<Problem> rows;
  for (const Problem& p : suite) {
    const bool wanted = o.rows.empty() ? p.name.rfind("wavenet", 0) == 0
                                       : std::find(o.rows.begin(), o.rows.end(), p.name) != o.rows.end();
    if (wanted && (p.padding == "causal" || p.padding == "valid")) rows.push_back(p);
  }
  if (rows.empty()) {
    std::fprintf(stderr, "conv1d_stream_bench: no causal or valid rows selected\n");
    return 2;
  }
  std::printf("libconv1d %s, algorithm %s; ns per input frame (whole batch), median of >= 5 samples\n",
              conv1d_version_string(), o.algorithm.c_str());
  std::printf("%-14s %7s %12s", "row", "threads", "forward");
  for (int64_t m : o.chunks) std::printf("  %10s%-4lld %7s", "stream/", static_cast<long long>(m), "x fwd");
  std::printf("  %s\n", "check");
  int status = 0;
  for (const Problem& p : rows)
    for (int threads : o.threads) {
      try {
        conv1d_layer* layer = nullptr;
        check(conv1d_create(p.filters, p.kernel, &layer), "create");
        std::unique_ptr<conv1d_layer, void (*)(conv1d_layer*)> own(layer, conv1d_destroy);
        check(conv1d_set_string(layer, CONV1D_PARAM_PADDING, p.padding.c_str()), "padding");
        check(conv1d_set_int(layer, CONV1D_PARAM_STRIDES, p.stride), "strides");
        check(conv1d_set_int(layer, CONV1D_PARAM_DILATION_RATE, p.dilation), "dilation_rate");
        check(conv1d_set_int(layer, CONV1D_PARAM_GROUPS, p.groups), "groups");
        check(conv1d_set_int(layer, CONV1D_PARAM_DATA_FORMAT,
                             bench::is_ncw(p) ? CONV1D_CHANNELS_FIRST : CONV1D_CHANNELS_LAST),
              "data_format");
        check(conv1d_set_string(layer, CONV1D_PARAM_ALGORITHM, o.algorithm.c_str()), "algorithm");
        check(conv1d_set_int(layer, CONV1D_PARAM_NUM_THREADS, threads), "num_threads");
        check(conv1d_set_int(layer, CONV1D_PARAM_SEED, 1), "seed");
        check(conv1d_build(layer, p.in_channels), "build");
        const int64_t out_steps = bench::keras_geometry(p).out_steps;
        const size_t x_count = size_t(p.batch * p.steps * p.in_channels),
                     y_count = size_t(p.batch * out_steps * p.filters);
        std::vector<float> x(x_count), whole(y_count), streamed(y_count);
        uint32_t state = 7;
        for (float& v : x) v = float((state = state * 1664525u + 1013904223u) >> 8) / 8388608.0f - 1.0f;
        auto forward = [&] {
          check(conv1d_forward(layer, x.data(), x.size(), p.batch, p.steps, p.in_channels, whole.data(), whole.size()),
                "forward");
        };
        const bench::Timing fwd = bench::time_calls(forward, o.min_time);
        std::printf("%-14s %7d %12.1f", p.name.c_str(), threads, fwd.median_s / double(p.steps) * 1e9);
        std::fflush(stdout);
        std::string verdict = "bitwise";
        for (int64_t m : o.chunks) {
          StreamPass s;
          s.m = m;
          check(conv1d_stream_create(layer, p.batch, &s.stream), "stream_create");
          std::unique_ptr<conv1d_stream, void (*)(conv1d_stream*)> own_stream(s.stream, conv1d_stream_destroy);
          for (int64_t t0 = 0; t0 < p.steps; t0 += m) {
            const int64_t len = std::min(m, p.steps - t0);
            s.chunks.emplace_back(size_t(p.batch * len * p.in_channels));
            take_frames(p, x.data(), t0, len, s.chunks.back().data());
          }
          s.y.resize(size_t(p.batch * m * p.filters));  // strides >= 1: at most m outputs per chunk
          run_pass(p, s, out_steps, &streamed);
          double worst = 0;
          for (size_t i = 0; i < y_count; ++i)
            worst = std::max(worst, double(std::fabs(streamed[i] - whole[i])) / (1.0 + std::fabs(whole[i])));
          if (std::memcmp(streamed.data(), whole.data(), y_count * sizeof(float)) != 0) {
            char text[64];
            std::snprintf(text, sizeof text, "max rel diff %.1e", worst);
            verdict = text;
            if (o.algorithm != "auto" || worst > 1e-5) status = 1;
          }
          const bench::Timing t = bench::time_calls([&] { run_pass(p, s, out_steps, nullptr); }, o.min_time);
          std::printf("  %14.1f %7.2f", t.median_s / double(p.steps) * 1e9, t.median_s / fwd.median_s);
          std::fflush(stdout);
        }
        std::printf("  %s\n", verdict.c_str());
      } catch (const std::exception& e) {
        std::printf("\n%s: %s\n", p.name.c_str(), e.what());
        status = 1;
      }
    }
  return status;
}
