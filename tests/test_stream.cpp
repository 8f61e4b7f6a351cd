// Streams through the public C API: chunked outputs, over seeded random
// chunkings, against one conv1d_forward over the whole sequence (bitwise for
// every forced algorithm, ISA cap and thread count), with that forward
// anchored to the float64 model of naive_conv1d.hpp; plus reset, the output
// count arithmetic, weights and layer changes mid-stream, and errors.
#include <conv1d/conv1d.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "api_layer.hpp"
#include "naive_conv1d.hpp"
#include "random_data.hpp"

namespace {

using test_util::configure;
using test_util::Layer;

struct Setup {
  naive::Conv c;
  int64_t N = 1, L = 1, C = 1;
};

// Bitwise equality, so that -0.0 differs from +0.0 and NaN payloads count.
bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

std::vector<float> whole(const conv1d_layer* l, const std::vector<float>& x, int64_t N, int64_t L, int64_t C) {
  int64_t shape[3];
  size_t count = 0;
  REQUIRE(conv1d_output_shape(l, N, L, shape, &count) == CONV1D_OK);
  std::vector<float> y(count);
  REQUIRE(conv1d_forward(l, x.data(), x.size(), N, L, C, y.data(), y.size()) == CONV1D_OK);
  return y;
}

// Frames [t0, t0 + m) of x (N sequences of L frames) as a chunk in the layout.
std::vector<float> chunk_of(const std::vector<float>& x, int64_t N, int64_t L, int64_t C, bool first, int64_t t0,
                            int64_t m) {
  std::vector<float> out(static_cast<size_t>(N * m * C));
  for (int64_t n = 0; n < N; ++n)
    for (int64_t t = 0; t < m; ++t)
      for (int64_t c = 0; c < C; ++c)
        out[first ? (n * C + c) * m + t : (n * m + t) * C + c] =
            x[first ? (n * C + c) * L + t0 + t : (n * L + t0 + t) * C + c];
  return out;
}

// Collects chunk outputs along time into a whole-sequence output (N, Lo, Fo)
// or (N, Fo, Lo).
struct Collector {
  int64_t N, Fo, Lo;
  bool first;
  int64_t filled = 0;
  std::vector<float> y;
  Collector(int64_t n, int64_t fo, int64_t lo, bool f)
      : N(n), Fo(fo), Lo(lo), first(f), y(static_cast<size_t>(n * fo * lo), -777.f) {}
  void add(const std::vector<float>& part, int64_t out) {
    REQUIRE(filled + out <= Lo);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t t = 0; t < out; ++t)
        for (int64_t f = 0; f < Fo; ++f)
          y[first ? (n * Fo + f) * Lo + filled + t : (n * Lo + filled + t) * Fo + f] =
              part[first ? (n * Fo + f) * out + t : (n * out + t) * Fo + f];
    filled += out;
  }
};

// Chunk lengths covering L frames: random, with 0- and 1-frame chunks.
std::vector<int64_t> chunking(std::mt19937& rng, int64_t L, int64_t longest) {
  std::vector<int64_t> lens{0, 1};
  std::uniform_int_distribution<int64_t> len(0, longest);
  int64_t sum = 1;
  while (sum < L) {
    const int64_t m = std::min(len(rng) % 4 == 0 ? 1 : len(rng), L - sum);
    lens.push_back(m);
    sum += m;
  }
  std::shuffle(lens.begin(), lens.end(), rng);
  return lens;
}

// Streams x through `l` in the given chunks and returns the collected outputs.
std::vector<float> streamed(const conv1d_layer* l, const std::vector<float>& x, const Setup& s,
                            const std::vector<int64_t>& lens, int64_t Fo, int64_t Lo) {
  conv1d_stream* st = nullptr;
  REQUIRE(conv1d_stream_create(l, s.N, &st) == CONV1D_OK);
  Collector col(s.N, Fo, Lo, s.c.channels_first);
  int64_t t0 = 0;
  for (int64_t m : lens) {
    int64_t want = -1, got = -1, seen = -1;
    REQUIRE(conv1d_stream_output_frames(st, m, &want) == CONV1D_OK);
    const std::vector<float> xc = chunk_of(x, s.N, s.L, s.C, s.c.channels_first, t0, m);
    std::vector<float> part(static_cast<size_t>(s.N * want * Fo) + 1, -555.f);  // one guard element
    REQUIRE(conv1d_stream_process(st, m ? xc.data() : nullptr, xc.size(), m, part.data(), part.size() - 1, &got) ==
            CONV1D_OK);
    REQUIRE(got == want);
    REQUIRE(part.back() == -555.f);
    col.add(part, got);
    t0 += m;
    REQUIRE(conv1d_stream_frames_seen(st, &seen) == CONV1D_OK);
    REQUIRE(seen == t0);
  }
  conv1d_stream_destroy(st);
  REQUIRE(t0 == s.L);
  CHECK(col.filled == Lo);
  return col.y;
}

struct Run {
  conv1d_algorithm algorithm;
  conv1d_isa isa;
  int threads;
};

// One configuration: the whole-sequence forward against the float64 model,
// then the stream against that forward for every forced algorithm, ISA cap
// and 1 or 2 threads (bitwise), and under auto (to float32 rounding).
void check_setup(const Setup& s, std::mt19937& rng, int64_t longest_chunk) {
  const naive::Conv& c = s.c;
  INFO("k=" << c.kernel << " s=" << c.stride << " d=" << c.dilation << " groups=" << c.groups
            << " filters=" << c.filters << " C=" << s.C << " N=" << s.N << " L=" << s.L << " padding=" << c.padding
            << " channels_first=" << c.channels_first << " act=" << c.activation);
  const uint32_t seed = static_cast<uint32_t>(rng());
  const auto x = test_util::uniform(static_cast<size_t>(s.N * s.L * s.C), seed, -1.f, 1.f);
  const auto w = test_util::uniform(static_cast<size_t>(c.kernel * (s.C / c.groups) * c.filters), seed + 1, -.5f, .5f);
  const auto b = test_util::uniform(static_cast<size_t>(c.filters), seed + 2, -.5f, .5f);
  int64_t shape[3];
  const auto model = naive::forward(c, x, s.N, s.L, s.C, w, b, shape);
  const int64_t Fo = c.channels_first ? shape[1] : shape[2], Lo = c.channels_first ? shape[2] : shape[1];
  const std::vector<int64_t> lens = chunking(rng, s.L, longest_chunk);

  std::vector<Run> runs;
  for (int threads : {1, 2}) {
    runs.push_back({CONV1D_ALGORITHM_REFERENCE, CONV1D_ISA_AVX512, threads});
    runs.push_back({CONV1D_ALGORITHM_GEMM, CONV1D_ISA_AVX512, threads});
    for (conv1d_isa isa : {CONV1D_ISA_SCALAR, CONV1D_ISA_AVX2, CONV1D_ISA_AVX512}) {
      runs.push_back({CONV1D_ALGORITHM_DIRECT, isa, threads});
      runs.push_back({CONV1D_ALGORITHM_AUTO, isa, threads});
    }
  }
  for (const Run& r : runs) {
    INFO("algorithm=" << conv1d_algorithm_name(r.algorithm) << " max_isa=" << r.isa << " threads=" << r.threads);
    Layer l(c.filters, c.kernel);
    configure(l, c);
    REQUIRE(conv1d_set_int(l, CONV1D_PARAM_ALGORITHM, r.algorithm) == CONV1D_OK);
    REQUIRE(conv1d_set_int(l, CONV1D_PARAM_MAX_ISA, r.isa) == CONV1D_OK);
    REQUIRE(conv1d_set_int(l, CONV1D_PARAM_NUM_THREADS, r.threads) == CONV1D_OK);
    REQUIRE(conv1d_set_weights(l, w.data(), w.size(), c.use_bias ? b.data() : nullptr, c.use_bias ? b.size() : 0) ==
            CONV1D_OK);
    const auto full = whole(l, x, s.N, s.L, s.C);
    REQUIRE(static_cast<int64_t>(full.size()) == s.N * Fo * Lo);
    if (r.algorithm == CONV1D_ALGORITHM_REFERENCE && r.threads == 1) {
      size_t bad = 0;
      for (size_t i = 0; i < full.size(); ++i)
        if (!(std::fabs(full[i] - model[i]) <= 2e-5 * (1.0 + std::fabs(model[i]))) && bad++ < 3)
          FAIL_CHECK("forward y[" << i << "] = " << full[i] << ", model " << model[i]);
      CHECK(bad == 0);
    }
    const auto got = streamed(l, x, s, lens, Fo, Lo);
    if (r.algorithm != CONV1D_ALGORITHM_AUTO) {
      if (!same_bits(got, full)) {
        size_t i = 0;
        while (i < got.size() && std::memcmp(&got[i], &full[i], sizeof(float)) == 0) ++i;
        FAIL("stream differs from forward first at " << i << ": " << got[i] << " vs " << full[i]);
      }
    } else {
      for (size_t i = 0; i < full.size(); ++i)
        REQUIRE(std::fabs(got[i] - full[i]) <= 1e-5f * (1.f + std::fabs(full[i])));
    }
  }
}

// A small layer that streams, built with seeded weights.
struct Streamable {
  Layer layer{6, 3};
  int64_t C = 4;
  Streamable(const char* padding = "causal") {
    REQUIRE(conv1d_set_int(layer, CONV1D_PARAM_SEED, 11) == CONV1D_OK);
    REQUIRE(conv1d_set_string(layer, CONV1D_PARAM_PADDING, padding) == CONV1D_OK);
    REQUIRE(conv1d_set_int(layer, CONV1D_PARAM_DILATION_RATE, 2) == CONV1D_OK);
    REQUIRE(conv1d_set_string(layer, CONV1D_PARAM_ALGORITHM, "direct") == CONV1D_OK);
    REQUIRE(conv1d_build(layer, C) == CONV1D_OK);
  }
};

struct StreamHandle {
  conv1d_stream* p = nullptr;
  StreamHandle(const conv1d_layer* l, int64_t batch) { REQUIRE(conv1d_stream_create(l, batch, &p) == CONV1D_OK); }
  ~StreamHandle() { conv1d_stream_destroy(p); }
  StreamHandle(const StreamHandle&) = delete;
  StreamHandle& operator=(const StreamHandle&) = delete;
  operator conv1d_stream*() const { return p; }
  // Feeds `m` frames of x (N sequences of L frames, channels_last) from t0;
  // appends the outputs to `out`, per sequence in `outs`.
  int64_t feed(const std::vector<float>& x, int64_t N, int64_t L, int64_t C, int64_t t0, int64_t m,
               std::vector<std::vector<float>>& outs, int64_t F) {
    const auto xc = chunk_of(x, N, L, C, false, t0, m);
    int64_t want = 0, got = -1;
    REQUIRE(conv1d_stream_output_frames(p, m, &want) == CONV1D_OK);
    std::vector<float> y(static_cast<size_t>(N * want * F));
    REQUIRE(conv1d_stream_process(p, xc.data(), xc.size(), m, y.data(), y.size(), &got) == CONV1D_OK);
    REQUIRE(got == want);
    outs.resize(static_cast<size_t>(N));
    for (int64_t n = 0; n < N; ++n)
      outs[n].insert(outs[n].end(), y.begin() + n * got * F, y.begin() + (n + 1) * got * F);
    return got;
  }
};

std::vector<float> flatten(const std::vector<std::vector<float>>& outs) {
  std::vector<float> y;
  for (const auto& o : outs) y.insert(y.end(), o.begin(), o.end());
  return y;
}

}  // namespace

TEST_CASE("stream: chunked outputs are the whole-sequence forward, bitwise per algorithm, ISA and threads",
          "[stream]") {
  std::mt19937 rng(2024);
  int cases = 0;
  for (const char* padding : {"causal", "valid"})
    for (bool first : {false, true})
      for (int geometry = 0; geometry < 4; ++geometry) {
        Setup s;
        s.c.padding = padding;
        s.c.channels_first = first;
        s.c.use_bias = geometry != 1;
        s.N = 1 + geometry % 2;
        s.C = 3 + geometry;
        s.c.filters = 5 + 3 * geometry;
        switch (geometry) {
          case 0:  // dilated, WaveNet-like
            s.c.kernel = 2, s.c.dilation = 4;
            break;
          case 1:  // strided
            s.c.kernel = 3, s.c.stride = 2;
            break;
          case 2:  // grouped, stride wider than the kernel (skips frames)
            s.c.kernel = 1, s.c.stride = 3, s.c.groups = 5, s.C = 10, s.c.filters = 15;
            break;
          default:  // depthwise
            s.c.kernel = 4, s.c.dilation = 3, s.c.groups = s.C = 6, s.c.filters = 6;
            break;
        }
        s.L = 37 + 5 * geometry;
        check_setup(s, rng, 9);
        ++cases;
      }
  CHECK(cases == 16);
}

TEST_CASE("stream: larger chunks spread over two threads stay bitwise, with activations", "[stream][dispatch]") {
  // Big enough that a 64-frame chunk is worth two threads (and the whole
  // sequence's GEMM has several row blocks), so the split of outputs over
  // tiles, tasks and threads differs between the stream and the forward.
  // [dispatch]: valgrind skips it (20 s there), ASan and TSan run it.
  std::mt19937 rng(77);
  Setup s;
  s.c.kernel = 3, s.c.dilation = 2, s.c.padding = "causal";
  s.N = 2, s.C = 32, s.c.filters = 48, s.L = 300;
  s.c.activation = "gelu";
  check_setup(s, rng, 64);
  s.c.channels_first = true;
  s.c.activation = "tanh";
  check_setup(s, rng, 64);
  // Axis-wise activations act on filters with channels_last: they stream.
  s.c.channels_first = false;
  s.L = 90;
  for (const char* a : {"softmax", "glu", "sparsemax"}) {
    s.c.activation = a;
    check_setup(s, rng, 20);
  }
}

TEST_CASE("stream: frames before the first are padding, as in forward: -0.0 and infinite weights", "[stream]") {
  // With bias -0.0, a zero input and weights positive on the taps that fall
  // before the first frame, an output whose real taps give -0.0 is -0.0 only
  // if the padded taps are skipped (reference, portable direct) as forward
  // skips them: stored zeros would add +0.0. An infinite weight on a padded
  // tap likewise gives NaN only where forward multiplies a zero by it.
  const int64_t k = 3, C = 2, F = 3, L = 12;
  std::vector<float> w(k * C * F);
  for (int64_t j = 0; j < k; ++j)
    for (int64_t i = 0; i < C * F; ++i) w[j * C * F + i] = j == k - 1 ? -0.25f : 0.5f;
  w[1] = std::numeric_limits<float>::infinity();  // tap 0, channel 0, filter 1
  const std::vector<float> bias(F, -0.0f);
  std::vector<float> x(L * C, 0.0f);
  x[8 * C] = 1.0f;
  for (conv1d_algorithm a : {CONV1D_ALGORITHM_REFERENCE, CONV1D_ALGORITHM_DIRECT, CONV1D_ALGORITHM_GEMM})
    for (conv1d_isa isa : {CONV1D_ISA_SCALAR, CONV1D_ISA_AVX512}) {
      INFO("algorithm=" << conv1d_algorithm_name(a) << " isa=" << isa);
      Layer l(F, k);
      REQUIRE(conv1d_set_string(l, CONV1D_PARAM_PADDING, "causal") == CONV1D_OK);
      REQUIRE(conv1d_set_int(l, CONV1D_PARAM_ALGORITHM, a) == CONV1D_OK);
      REQUIRE(conv1d_set_int(l, CONV1D_PARAM_MAX_ISA, isa) == CONV1D_OK);
      REQUIRE(conv1d_set_weights(l, w.data(), w.size(), bias.data(), bias.size()) == CONV1D_OK);
      const auto full = whole(l, x, 1, L, C);
      if (a != CONV1D_ALGORITHM_GEMM && !(a == CONV1D_ALGORITHM_DIRECT && isa != CONV1D_ISA_SCALAR)) {
        CHECK(std::signbit(full[0]));  // the case this test is about: -0.0 at t = 0 ...
        CHECK(!std::isnan(full[1]));   // ... and no 0 * inf from a padded tap
      }
      Setup s;
      s.c.kernel = k, s.c.filters = F, s.c.padding = "causal";
      s.L = L, s.C = C;
      for (const auto& lens : {std::vector<int64_t>(L, 1), std::vector<int64_t>{5, 0, 7}})
        CHECK(same_bits(streamed(l, x, s, lens, F, L), full));
    }
}

TEST_CASE("stream: output counts, frames_seen and reset", "[stream]") {
  // causal: ceil(n / s) outputs after n frames; valid: (n - H - 1) / s + 1 once n > H.
  for (const char* padding : {"causal", "valid"})
    for (int64_t s : {1, 2, 3}) {
      INFO("padding=" << padding << " strides=" << s);
      Layer l(2, 3);
      REQUIRE(conv1d_set_string(l, CONV1D_PARAM_PADDING, padding) == CONV1D_OK);
      REQUIRE(conv1d_set_int(l, CONV1D_PARAM_STRIDES, s) == CONV1D_OK);
      REQUIRE(conv1d_set_int(l, CONV1D_PARAM_SEED, 5) == CONV1D_OK);
      REQUIRE(conv1d_build(l, 1) == CONV1D_OK);
      StreamHandle st(l, 1);
      const bool causal = std::string(padding) == "causal";
      auto expected = [&](int64_t n) { return causal ? (n + s - 1) / s : n > 2 ? (n - 3) / s + 1 : 0; };
      int64_t seen = 0;
      std::vector<float> x(1, 0.5f), y(2);  // 1 channel in, 2 filters out
      for (int64_t n = 0; n < 10; ++n) {
        int64_t out = -1, none = -1;
        REQUIRE(conv1d_stream_output_frames(st, 1, &out) == CONV1D_OK);
        CHECK(out == expected(n + 1) - expected(n));
        REQUIRE(conv1d_stream_output_frames(st, 0, &none) == CONV1D_OK);
        CHECK(none == 0);
        REQUIRE(conv1d_stream_output_frames(st, 7, &out) == CONV1D_OK);
        CHECK(out == expected(n + 7) - expected(n));
        REQUIRE(conv1d_stream_process(st, x.data(), 1, 1, y.data(), y.size(), &out) == CONV1D_OK);
        CHECK(out == expected(n + 1) - expected(n));
        REQUIRE(conv1d_stream_frames_seen(st, &seen) == CONV1D_OK);
        CHECK(seen == n + 1);
      }
      // A whole output count matches conv1d_output_steps.
      int64_t steps = 0;
      REQUIRE(conv1d_output_steps(l, 10, &steps) == CONV1D_OK);
      CHECK(steps == expected(10));
    }

  // reset: the same sequence again gives the same outputs as a fresh stream.
  Streamable f;
  const int64_t N = 2, L = 23;
  const auto x = test_util::uniform(static_cast<size_t>(N * L * f.C), 3, -1.f, 1.f);
  StreamHandle st(f.layer, N);
  std::vector<std::vector<float>> first, again;
  for (int64_t t0 : {0, 4, 11}) st.feed(x, N, L, f.C, t0, t0 == 11 ? 12 : t0 == 0 ? 4 : 7, first, 6);
  REQUIRE(conv1d_stream_reset(st) == CONV1D_OK);
  int64_t seen = -1;
  REQUIRE(conv1d_stream_frames_seen(st, &seen) == CONV1D_OK);
  CHECK(seen == 0);
  st.feed(x, N, L, f.C, 0, L, again, 6);
  CHECK(same_bits(flatten(again), flatten(first)));
  CHECK(same_bits(flatten(first), whole(f.layer, x, N, L, f.C)));  // per sequence in turn: (N, L, F)
}

TEST_CASE("stream: weights set between chunks apply from the next chunk", "[stream]") {
  Streamable f;
  const int64_t N = 2, L = 30, F = 6;
  const auto x = test_util::uniform(static_cast<size_t>(N * L * f.C), 8, -1.f, 1.f);
  size_t kl = 0, bl = 0;
  REQUIRE(conv1d_weight_sizes(f.layer, &kl, &bl) == CONV1D_OK);
  std::vector<float> k0(kl), b0(bl);
  REQUIRE(conv1d_get_weights(f.layer, k0.data(), kl, b0.data(), bl) == CONV1D_OK);
  const auto k1 = test_util::uniform(kl, 9, -1.f, 1.f);
  const auto before = whole(f.layer, x, N, L, f.C);
  StreamHandle st(f.layer, N);
  std::vector<std::vector<float>> outs;
  const int64_t split = st.feed(x, N, L, f.C, 0, 13, outs, F);
  REQUIRE(conv1d_set_weights(f.layer, k1.data(), kl, b0.data(), bl) == CONV1D_OK);
  const auto after = whole(f.layer, x, N, L, f.C);
  st.feed(x, N, L, f.C, 13, L - 13, outs, F);
  // Outputs [0, split) come from the first weights, the rest from the new
  // ones, over the same history.
  for (int64_t n = 0; n < N; ++n) {
    INFO("sequence " << n);
    REQUIRE(static_cast<int64_t>(outs[n].size()) == L * F);
    for (int64_t i = 0; i < L * F; ++i) {
      const float want = (i / F < split ? before : after)[n * L * F + i];
      REQUIRE(std::memcmp(&outs[n][i], &want, sizeof(float)) == 0);
    }
  }
}

TEST_CASE("stream: a layer change the stream cannot follow gives INVALID_STATE until undone", "[stream][errors]") {
  Streamable f;
  const int64_t N = 1, L = 20, F = 6;
  const auto x = test_util::uniform(static_cast<size_t>(N * L * f.C), 4, -1.f, 1.f);
  const auto want = whole(f.layer, x, N, L, f.C);
  StreamHandle st(f.layer, N);
  std::vector<std::vector<float>> outs;
  st.feed(x, N, L, f.C, 0, 7, outs, F);
  auto refused = [&](const char* mentions) {
    const auto xc = chunk_of(x, N, L, f.C, false, 7, 3);
    std::vector<float> y(3 * F, 42.f);
    int64_t out = -3;
    CHECK(conv1d_stream_process(st, xc.data(), xc.size(), 3, y.data(), y.size(), &out) == CONV1D_ERROR_INVALID_STATE);
    CHECK(std::string(conv1d_last_error_message()).find(mentions) != std::string::npos);
    CHECK(out == -3);
    CHECK(y == std::vector<float>(3 * F, 42.f));
    CHECK(conv1d_stream_output_frames(st, 3, &out) == CONV1D_ERROR_INVALID_STATE);
    int64_t seen = 0;
    REQUIRE(conv1d_stream_frames_seen(st, &seen) == CONV1D_OK);
    CHECK(seen == 7);
  };
  REQUIRE(conv1d_set_int(f.layer, CONV1D_PARAM_STRIDES, 2) == CONV1D_ERROR_STRIDES_WITH_DILATION);
  REQUIRE(conv1d_set_int(f.layer, CONV1D_PARAM_DILATION_RATE, 1) == CONV1D_OK);
  refused("dilation_rate from 2 to 1");
  REQUIRE(conv1d_set_int(f.layer, CONV1D_PARAM_STRIDES, 2) == CONV1D_OK);
  refused("strides from 1 to 2");
  REQUIRE(conv1d_set_int(f.layer, CONV1D_PARAM_STRIDES, 1) == CONV1D_OK);
  REQUIRE(conv1d_set_int(f.layer, CONV1D_PARAM_DILATION_RATE, 2) == CONV1D_OK);
  REQUIRE(conv1d_set_string(f.layer, CONV1D_PARAM_PADDING, "same") == CONV1D_OK);
  refused("padding from causal to same");
  REQUIRE(conv1d_set_string(f.layer, CONV1D_PARAM_PADDING, "valid") == CONV1D_OK);
  refused("padding from causal to valid");
  REQUIRE(conv1d_set_string(f.layer, CONV1D_PARAM_PADDING, "causal") == CONV1D_OK);
  REQUIRE(conv1d_set_string(f.layer, CONV1D_PARAM_DATA_FORMAT, "channels_first") == CONV1D_OK);
  refused("data_format from channels_last to channels_first");
  REQUIRE(conv1d_set_string(f.layer, CONV1D_PARAM_DATA_FORMAT, "channels_last") == CONV1D_OK);
  // Built again for other channels: the history no longer fits. Built again
  // for the same ones (and the same seed), the stream goes on.
  REQUIRE(conv1d_build(f.layer, f.C + 1) == CONV1D_OK);
  refused("in_channels");
  REQUIRE(conv1d_build(f.layer, f.C) == CONV1D_OK);
  // An elementwise activation may change between chunks.
  REQUIRE(conv1d_set_string(f.layer, CONV1D_PARAM_ACTIVATION, "relu") == CONV1D_OK);
  int64_t out = 0;
  CHECK(conv1d_stream_output_frames(st, 3, &out) == CONV1D_OK);
  REQUIRE(conv1d_set_string(f.layer, CONV1D_PARAM_ACTIVATION, "linear") == CONV1D_OK);

  // An activation over the last axis streams with channels_last (it acts on
  // filters) but not with channels_first, where it acts on time.
  Layer other(6, 3);
  REQUIRE(conv1d_set_string(other, CONV1D_PARAM_DATA_FORMAT, "channels_first") == CONV1D_OK);
  REQUIRE(conv1d_set_string(other, CONV1D_PARAM_ACTIVATION, "softmax") == CONV1D_OK);
  REQUIRE(conv1d_build(other, 2) == CONV1D_OK);
  conv1d_stream* untouched = reinterpret_cast<conv1d_stream*>(&out);
  conv1d_stream* none = untouched;
  CHECK(conv1d_stream_create(other, 1, &none) == CONV1D_ERROR_UNSUPPORTED);
  CHECK(std::string(conv1d_last_error_message()).find("time with channels_first") != std::string::npos);
  CHECK(none == untouched);
  REQUIRE(conv1d_set_string(other, CONV1D_PARAM_DATA_FORMAT, "channels_last") == CONV1D_OK);
  StreamHandle softmax_stream(other, 1);
  REQUIRE(conv1d_set_string(other, CONV1D_PARAM_DATA_FORMAT, "channels_first") == CONV1D_OK);
  CHECK(conv1d_stream_output_frames(softmax_stream, 1, &out) == CONV1D_ERROR_INVALID_STATE);
  REQUIRE(conv1d_set_string(other, CONV1D_PARAM_DATA_FORMAT, "channels_last") == CONV1D_OK);
  REQUIRE(conv1d_set_string(other, CONV1D_PARAM_ACTIVATION, "softmax") == CONV1D_OK);
  CHECK(conv1d_stream_output_frames(softmax_stream, 1, &out) == CONV1D_OK);

  // Undone: the stream goes on as if nothing happened.
  st.feed(x, N, L, f.C, 7, L - 7, outs, F);
  CHECK(same_bits(flatten(outs), want));
}

TEST_CASE("stream: creation refuses what cannot stream, naming why", "[stream][errors]") {
  Layer l(4, 3);
  conv1d_stream* st = nullptr;
  CHECK(conv1d_stream_create(l, 1, &st) == CONV1D_ERROR_NOT_BUILT);
  CHECK(conv1d_stream_create(nullptr, 1, &st) == CONV1D_ERROR_NULL_POINTER);
  CHECK(conv1d_stream_create(l, 1, nullptr) == CONV1D_ERROR_NULL_POINTER);
  REQUIRE(conv1d_set_int(l, CONV1D_PARAM_SEED, 1) == CONV1D_OK);
  REQUIRE(conv1d_build(l, 3) == CONV1D_OK);
  CHECK(conv1d_stream_create(l, 0, &st) == CONV1D_ERROR_INVALID_SIZE);
  CHECK(conv1d_stream_create(l, -2, &st) == CONV1D_ERROR_INVALID_SIZE);
  CHECK(st == nullptr);
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_PADDING, "same") == CONV1D_OK);
  CHECK(conv1d_stream_create(l, 1, &st) == CONV1D_ERROR_UNSUPPORTED);
  CHECK(std::string(conv1d_last_error_message()).find("'same'") != std::string::npos);
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_PADDING, "valid") == CONV1D_OK);
  REQUIRE(conv1d_set_string(l, CONV1D_PARAM_DATA_FORMAT, "channels_first") == CONV1D_OK);
  for (const char* a : {"softmax", "log_softmax", "glu", "sparsemax"}) {
    REQUIRE(conv1d_set_string(l, CONV1D_PARAM_ACTIVATION, a) == CONV1D_OK);
    CHECK(conv1d_stream_create(l, 1, &st) == CONV1D_ERROR_UNSUPPORTED);
    CHECK(std::string(conv1d_last_error_message()).find(a) != std::string::npos);
  }
  CHECK(st == nullptr);
  // Streams compute float32 layers only.
  for (const char* policy : {"float64", "bfloat16", "mixed_bfloat16"}) {
    Layer typed(4, 3);
    REQUIRE(conv1d_set_string(typed, CONV1D_PARAM_DTYPE, policy) == CONV1D_OK);
    REQUIRE(conv1d_set_string(typed, CONV1D_PARAM_PADDING, "causal") == CONV1D_OK);
    REQUIRE(conv1d_build(typed, 3) == CONV1D_OK);
    CHECK(conv1d_stream_create(typed, 1, &st) == CONV1D_ERROR_UNSUPPORTED);
    CHECK(std::string(conv1d_last_error_message()).find(std::string("dtype policy '") + policy + "'") !=
          std::string::npos);
  }
  CHECK(st == nullptr);
  conv1d_stream_destroy(nullptr);  // a no-op
  CHECK(conv1d_stream_reset(nullptr) == CONV1D_ERROR_NULL_POINTER);
  int64_t v = 0;
  CHECK(conv1d_stream_frames_seen(nullptr, &v) == CONV1D_ERROR_NULL_POINTER);
  CHECK(conv1d_stream_output_frames(nullptr, 1, &v) == CONV1D_ERROR_NULL_POINTER);
  CHECK(conv1d_stream_process(nullptr, nullptr, 0, 0, nullptr, 0, &v) == CONV1D_ERROR_NULL_POINTER);
}

TEST_CASE("stream: bad calls change nothing and the stream goes on exactly", "[stream][errors]") {
  Streamable f;
  const int64_t N = 2, L = 26, F = 6, C = f.C;
  const auto x = test_util::uniform(static_cast<size_t>(N * L * C), 12, -1.f, 1.f);
  const auto want = whole(f.layer, x, N, L, C);
  StreamHandle st(f.layer, N);
  std::vector<std::vector<float>> outs;
  st.feed(x, N, L, C, 0, 5, outs, F);
  const auto xc = chunk_of(x, N, L, C, false, 5, 4);
  std::vector<float> y(N * 4 * F, 42.f);
  const std::vector<float> y0 = y;
  int64_t out = -9;
  auto expect = [&](conv1d_status status, const char* mentions, conv1d_status got) {
    INFO("message: " << conv1d_last_error_message());
    CHECK(got == status);
    CHECK(std::string(conv1d_last_error_message()).find(mentions) != std::string::npos);
    CHECK(y == y0);
    CHECK(out == -9);
    int64_t seen = 0;
    REQUIRE(conv1d_stream_frames_seen(st, &seen) == CONV1D_OK);
    CHECK(seen == 5);
  };
  expect(CONV1D_ERROR_INVALID_SIZE, "frames must be >= 0",
         conv1d_stream_process(st, xc.data(), xc.size(), -1, y.data(), y.size(), &out));
  expect(CONV1D_ERROR_NULL_POINTER, "x is NULL", conv1d_stream_process(st, nullptr, 0, 4, y.data(), y.size(), &out));
  expect(CONV1D_ERROR_BUFFER_TOO_SMALL,
         "x_len=", conv1d_stream_process(st, xc.data(), xc.size() - 1, 4, y.data(), y.size(), &out));
  expect(CONV1D_ERROR_NULL_POINTER, "y is NULL", conv1d_stream_process(st, xc.data(), xc.size(), 4, nullptr, 0, &out));
  expect(CONV1D_ERROR_BUFFER_TOO_SMALL,
         "y_len=", conv1d_stream_process(st, xc.data(), xc.size(), 4, y.data(), y.size() - 1, &out));
  expect(CONV1D_ERROR_SIZE_OVERFLOW, "exceeds 2^31-1",
         conv1d_stream_process(st, xc.data(), xc.size(), int64_t{1} << 40, y.data(), y.size(), &out));
  expect(CONV1D_ERROR_INVALID_SIZE, "frames must be >= 0", conv1d_stream_output_frames(st, -1, &out));
  expect(CONV1D_ERROR_NULL_POINTER, "out_frames is NULL", conv1d_stream_output_frames(st, 1, nullptr));
  expect(CONV1D_ERROR_NULL_POINTER, "frames is NULL", conv1d_stream_frames_seen(st, nullptr));
  // glu set on a layer with odd filters: refused as forward refuses it.
  Layer odd(5, 2);
  REQUIRE(conv1d_set_int(odd, CONV1D_PARAM_SEED, 2) == CONV1D_OK);
  REQUIRE(conv1d_build(odd, 3) == CONV1D_OK);
  StreamHandle odd_stream(odd, 1);
  REQUIRE(conv1d_set_string(odd, CONV1D_PARAM_ACTIVATION, "glu") == CONV1D_OK);
  int64_t n = 0;
  CHECK(conv1d_stream_output_frames(odd_stream, 1, &n) == CONV1D_ERROR_INVALID_VALUE);
  CHECK(conv1d_stream_create(odd, 1, &odd_stream.p) == CONV1D_ERROR_INVALID_VALUE);
  // A chunk completing nothing needs no y, a 0-frame chunk no x.
  Streamable valid("valid");
  StreamHandle vs(valid.layer, N);
  CHECK(conv1d_stream_process(vs, xc.data(), xc.size(), 4, nullptr, 0, &out) == CONV1D_OK);  // H = 4: none yet
  CHECK(out == 0);
  CHECK(conv1d_stream_process(vs, nullptr, 0, 0, nullptr, 0, nullptr) == CONV1D_OK);
  // x may be y's memory: the chunk is copied before any output is written.
  std::vector<float> inout = chunk_of(x, N, L, C, false, 5, 4);
  std::vector<float> ref_out(N * 4 * F);
  {
    StreamHandle a(f.layer, N), b(f.layer, N);
    std::vector<std::vector<float>> ignore;
    a.feed(x, N, L, C, 0, 5, ignore, F);
    b.feed(x, N, L, C, 0, 5, ignore, F);
    inout.resize(std::max(inout.size(), ref_out.size()));
    REQUIRE(conv1d_stream_process(a, inout.data(), N * 4 * C, 4, inout.data(), inout.size(), &out) == CONV1D_OK);
    const auto xc2 = chunk_of(x, N, L, C, false, 5, 4);
    REQUIRE(conv1d_stream_process(b, xc2.data(), xc2.size(), 4, ref_out.data(), ref_out.size(), &out) == CONV1D_OK);
    inout.resize(ref_out.size());
    CHECK(same_bits(inout, ref_out));
  }
  // After all that, the stream continues as if none of it had happened.
  st.feed(x, N, L, C, 5, L - 5, outs, F);
  CHECK(same_bits(flatten(outs), want));
}

TEST_CASE("stream: streams of one layer run concurrently", "[stream][threads]") {
  // Four threads each stream their own batch through one shared layer (up
  // to two threads per call: chunks of 100 frames and more are split, so
  // the pool is contended) while the main thread runs forward on it; every
  // stream matches the forward.
  Layer layer(32, 3);
  REQUIRE(conv1d_set_int(layer, CONV1D_PARAM_SEED, 3) == CONV1D_OK);
  REQUIRE(conv1d_set_string(layer, CONV1D_PARAM_PADDING, "causal") == CONV1D_OK);
  REQUIRE(conv1d_set_int(layer, CONV1D_PARAM_DILATION_RATE, 2) == CONV1D_OK);
  REQUIRE(conv1d_set_int(layer, CONV1D_PARAM_NUM_THREADS, 2) == CONV1D_OK);
  REQUIRE(conv1d_set_string(layer, CONV1D_PARAM_ALGORITHM, "direct") == CONV1D_OK);
  const int64_t N = 2, L = 240, C = 32, F = 32;
  REQUIRE(conv1d_build(layer, C) == CONV1D_OK);
  std::vector<std::vector<float>> xs, wants;
  for (uint32_t t = 0; t < 4; ++t) {
    xs.push_back(test_util::uniform(static_cast<size_t>(N * L * C), 100 + t, -1.f, 1.f));
    wants.push_back(whole(layer, xs.back(), N, L, C));
  }
  std::vector<int> ok(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      conv1d_stream* st = nullptr;
      if (conv1d_stream_create(layer, N, &st) != CONV1D_OK) return;
      std::vector<float> got(static_cast<size_t>(N * L * F)), y;
      bool fine = true;
      for (int64_t t0 = 0, m = 1 + t; t0 < L; t0 += m, m = m % 127 + 31 * (t + 1)) {
        m = std::min(m, L - t0);
        const auto xc = chunk_of(xs[t], N, L, C, false, t0, m);
        y.assign(static_cast<size_t>(N * m * F), 0.f);
        int64_t out = 0;
        fine = fine && conv1d_stream_process(st, xc.data(), xc.size(), m, y.data(), y.size(), &out) == CONV1D_OK;
        for (int64_t n = 0; n < N && fine; ++n)
          std::copy(y.begin() + n * out * F, y.begin() + (n + 1) * out * F, got.begin() + (n * L + t0) * F);
      }
      conv1d_stream_destroy(st);
      ok[t] = fine && same_bits(got, wants[t]);
    });
  std::vector<float> y(static_cast<size_t>(N * L * F));
  for (int r = 0; r < 4; ++r)
    REQUIRE(conv1d_forward(layer, xs[0].data(), xs[0].size(), N, L, C, y.data(), y.size()) == CONV1D_OK);
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) CHECK(ok[t] == 1);
}
