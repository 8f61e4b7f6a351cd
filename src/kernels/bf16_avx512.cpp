// The bfloat16 channels_last direct kernel (kernels/bf16.hpp) on AVX512_BF16.
// The only file built with -mavx512bf16; called only after
// cpu_has_avx512_bf16().
//
// Same register blocking as the float32 nwc_tile (direct_simd.inc): a tile of
// T output steps by NV vectors of 16 filters in float32 accumulators. Where
// the float32 kernel broadcasts one input and FMAs 16 products per vector,
// this one broadcasts a pair of adjacent bf16 inputs as one 32-bit value and
// vdpbf16ps adds 2 x 16 products per vector: twice the work per instruction
// and half the bytes of weights and inputs.
//
// It calls none of runtime/bf16.hpp's inline conversions: an inline function
// odr-used here is emitted with AVX-512 code, and the linker may keep that
// copy for the baseline callers too.
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <utility>

#include "activations.hpp"
#include "kernels/bf16.hpp"

namespace conv1d {
namespace avx512_bf16 {
namespace {

#include "kernels/vec_avx512.inc"
// store_row and the streaming rule, over V.
#include "kernels/epilogue_simd.inc"

constexpr int kLanes = kBf16Lanes;
constexpr int kStepBf16 = 2 * kLanes;  // bf16 values of one filter vector per reduction step

// Two bf16 values as the 32-bit pattern vdpbf16ps takes: p[0] low, p[1] high.
inline uint32_t load_pair(const bf16_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

struct Args {
  const ConvProblem* p;
  const bf16_t* x;     // batch item n, first channel of the block's group
  const bf16_t* zero;  // a zero row for padded taps
  const bf16_t* w;     // block weights [steps][NV*16 filters][2]
  const float* bias;   // block bias [NV*16]
  float* yf;           // float32 output: row t = 0, the block's first filter
  bf16_t* yh;          // or bf16 output (yf null)
  int64_t nf;          // filters of the block to store
  conv1d_activation act;
  bool stream;  // non-temporal stores
};

// One reduction step: acc[i][v] += the pair pair(i) dotted with each of the
// 16 filter pairs of vector v. When pair(i) is a load, the broadcast is one
// vpbroadcastd from memory (load port only).
template <int T, int NV, class Pair>
__attribute__((always_inline)) inline void step(__m512 (&acc)[T][NV], const bf16_t* wp, Pair pair) {
  __m512bh w[NV];
#pragma GCC unroll 16
  for (int v = 0; v < NV; ++v) w[v] = (__m512bh)_mm512_load_si512(wp + v * kStepBf16);
#pragma GCC unroll 16
  for (int i = 0; i < T; ++i) {
    const __m512bh b = (__m512bh)_mm512_set1_epi32(static_cast<int>(pair(i)));
#pragma GCC unroll 16
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_dpbf16_ps(acc[i][v], b, w[v]);
  }
}

// store_row for bf16 outputs: the activation in float32 (relu in registers,
// others on a float row in L1 through the float32 epilogue), then one RNE
// rounding per value.
template <int N>
__attribute__((always_inline)) inline void store_row_bf16(bf16_t* out, const __m512 (&acc)[N], int64_t valid,
                                                          conv1d_activation act, bool stream) {
  alignas(64) float row[N * kLanes];
  if (!act_in_registers(act)) store_row<N>(row, acc, valid, act, false);
#pragma GCC unroll 16
  for (int v = 0; v < N; ++v) {
    const int64_t left = valid - v * kLanes;
    if (left <= 0) break;
    const __mmask16 m = V::mask_range(0, left);
    const __m512 r = !act_in_registers(act)          ? _mm512_maskz_load_ps(m, row + v * kLanes)
                     : act == CONV1D_ACTIVATION_RELU ? V::max0(acc[v])
                                                     : acc[v];
    const __m256i h = (__m256i)_mm512_cvtneps_pbh(r);
    bf16_t* o = out + v * kLanes;
    if (left < kLanes)
      _mm256_mask_storeu_epi16(o, m, h);
    else if (stream && (reinterpret_cast<uintptr_t>(o) & 31) == 0)
      _mm256_stream_si256(reinterpret_cast<__m256i*>(o), h);
    else
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(o), h);
  }
}

// The tile's rows out.
template <int T, int NV>
__attribute__((always_inline)) inline void store_rows(const Args& a, int64_t t0, const __m512 (&acc)[T][NV]) {
  const int64_t F = a.p->filters;
#pragma GCC unroll 16
  for (int i = 0; i < T; ++i) {
    if (a.yf)
      store_row<NV>(a.yf + (t0 + i) * F, acc[i], a.nf, a.act, a.stream);
    else
      store_row_bf16<NV>(a.yh + (t0 + i) * F, acc[i], a.nf, a.act, a.stream);
  }
}

// store_rows for activations that call out of line (no vector register
// survives the call). Not inlined: inlined, GCC kept the accumulators on the
// stack through the whole reduction.
template <int T, int NV>
__attribute__((noinline)) void store_rows_calling(const Args& a, int64_t t0, const __m512 (&acc)[T][NV]) {
  store_rows<T, NV>(a, t0, acc);
}

// kFlat (PackedBf16::flat): steps run over the contiguous k*C values each
// output row reads. Edge tiles with an even C take the per-tap path, which
// for even C has the same step order; with an odd C a pair can straddle
// rows, so each value is checked against the input's bounds.
template <int T, int NV, bool kFlat>
void tile(const Args& a, int64_t t0) {
  const ConvProblem& p = *a.p;
  const int64_t C = p.in_channels, cg = p.cg(), L = p.in_steps;
  const int64_t s = p.stride, d = p.dilation, k = p.kernel, pl = p.pad_left;
  __m512 acc[T][NV];
#pragma GCC unroll 16
  for (int v = 0; v < NV; ++v) {
    const __m512 b = _mm512_load_ps(a.bias + v * kLanes);
#pragma GCC unroll 16
    for (int i = 0; i < T; ++i) acc[i][v] = b;
  }
  // The tile's output lines, requested early (see nwc_tile).
  if (!a.stream) {
    const int64_t F = p.filters;
    for (int i = 0; i < T; ++i)
      for (int v = 0; v < NV; ++v)
        __builtin_prefetch(a.yf ? static_cast<const void*>(a.yf + (t0 + i) * F + v * kLanes)
                                : static_cast<const void*>(a.yh + (t0 + i) * F + v * kLanes),
                           1, 3);
  }
  const bf16_t* wp = a.w;
  const int64_t first = t0 * s - pl;
  const bool interior = first >= 0 && (t0 + T - 1) * s + (k - 1) * d - pl < L;
  if (kFlat && interior) {
    const int64_t n = k * C;
    const bf16_t* r[T];
#pragma GCC unroll 16
    for (int i = 0; i < T; ++i) r[i] = a.x + (first + i * s) * C;
    for (int64_t e = 0; e + 1 < n; e += 2, wp += NV * kStepBf16)
      step<T, NV>(acc, wp, [&](int i) { return load_pair(r[i] + e); });
    if (n % 2) step<T, NV>(acc, wp, [&](int i) { return static_cast<uint32_t>(r[i][n - 1]); });
  } else if (kFlat && C % 2) {
    const int64_t n = k * C, end = L * C;
    const auto at = [&](int64_t f) -> uint32_t { return f >= 0 && f < end ? a.x[f] : 0u; };
    for (int64_t e = 0; e < n; e += 2, wp += NV * kStepBf16)
      step<T, NV>(acc, wp, [&](int i) {
        const int64_t f = ((t0 + i) * s - pl) * C + e;
        return at(f) | (e + 1 < n ? at(f + 1) << 16 : 0u);
      });
  } else {
    const int64_t pairs = cg / 2;
    for (int64_t j = 0; j < k; ++j) {
      const bf16_t* r[T];
      if (interior) {
        const bf16_t* base = a.x + (first + j * d) * C;
#pragma GCC unroll 16
        for (int i = 0; i < T; ++i) r[i] = base + i * s * C;
      } else {
#pragma GCC unroll 16
        for (int i = 0; i < T; ++i) {
          const int64_t pos = (t0 + i) * s + j * d - pl;
          r[i] = pos >= 0 && pos < L ? a.x + pos * C : a.zero;
        }
      }
      for (int64_t q = 0; q < pairs; ++q, wp += NV * kStepBf16)
        step<T, NV>(acc, wp, [&](int i) { return load_pair(r[i] + 2 * q); });
      if (cg % 2) {
        step<T, NV>(acc, wp, [&](int i) { return static_cast<uint32_t>(r[i][cg - 1]); });
        wp += NV * kStepBf16;
      }
    }
  }
  if (act_in_registers(a.act))
    store_rows<T, NV>(a, t0, acc);
  else
    store_rows_calling<T, NV>(a, t0, acc);
}

using TileFn = void (*)(const Args&, int64_t);

constexpr int tile_rows(int nv) { return bf16_tile_rows(nv); }

template <int NV, bool kFlat, int... Ts>
constexpr std::array<TileFn, sizeof...(Ts) + 1> tile_table(std::integer_sequence<int, Ts...>) {
  return {nullptr, &tile<Ts + 1, NV, kFlat>...};
}

template <int NV, bool kFlat>
TileFn tile_fn_nv(int rows) {
  static constexpr auto table = tile_table<NV, kFlat>(std::make_integer_sequence<int, tile_rows(NV)>());
  return table[rows];
}

template <bool kFlat>
TileFn tile_fn_mode(int nv, int rows) {
  switch (nv) {
    case 1:
      return tile_fn_nv<1, kFlat>(rows);
    case 2:
      return tile_fn_nv<2, kFlat>(rows);
    case 3:
      return tile_fn_nv<3, kFlat>(rows);
    default:
      return tile_fn_nv<kBf16MaxUnits, kFlat>(rows);
  }
}

TileFn tile_fn(bool flat, int nv, int rows) {
  return flat ? tile_fn_mode<true>(nv, rows) : tile_fn_mode<false>(nv, rows);
}

Args make_args(const ConvProblem& p, const PackedBf16& pw, const PackedBlock& b, const bf16_t* x, void* y, bool y_bf16,
               conv1d_activation act, int64_t n) {
  Args a;
  a.p = &p;
  a.x = x + n * p.in_steps * p.in_channels + b.group * p.cg();
  a.zero = pw.zero_row();
  a.w = pw.w() + b.weights;
  a.bias = pw.bias.data() + b.bias;
  const int64_t y0 = n * p.out_steps * p.filters + b.group * p.fg() + b.f0;
  a.yf = y_bf16 ? nullptr : static_cast<float*>(y) + y0;
  a.yh = y_bf16 ? static_cast<bf16_t*>(y) + y0 : nullptr;
  a.nf = b.nf;
  a.act = act;
  a.stream = stream_output(p, act, y_bf16 ? 2.0 : 4.0);
  return a;
}

}  // namespace

void run(const ConvProblem& p, const PackedBf16& pw, const bf16_t* x, void* y, bool y_bf16, conv1d_activation act,
         int64_t begin, int64_t end) {
  const int64_t chunk = bf16_chunk_rows(pw.blocks[0].units);
  const int64_t chunks = (p.out_steps + chunk - 1) / chunk;
  const bool by_rows = bf16_rows_major(pw);
  for (int64_t task = begin; task < end; ++task) {
    const int64_t rest = task % (p.batch * chunks), n = rest / chunks, c0 = (rest % chunks) * chunk;
    const int64_t c1 = std::min(p.out_steps, c0 + chunk);
    if (!by_rows) {
      const PackedBlock& b = pw.blocks[static_cast<size_t>(task / (p.batch * chunks))];
      const Args a = make_args(p, pw, b, x, y, y_bf16, act, n);
      const int rows = tile_rows(b.units);
      int64_t t = c0;
      for (; t + rows <= c1; t += rows) tile_fn(pw.flat, b.units, rows)(a, t);
      if (t < c1) tile_fn(pw.flat, b.units, static_cast<int>(c1 - t))(a, t);
      continue;
    }
    // One tile height for all blocks (the widest block's), so the output is
    // written as one sequential stream.
    int widest = 1;
    for (const PackedBlock& b : pw.blocks) widest = std::max(widest, b.units);
    const int rows = tile_rows(widest);
    for (int64_t t = c0; t < c1; t += rows) {
      const int h = static_cast<int>(std::min<int64_t>(rows, c1 - t));
      for (const PackedBlock& b : pw.blocks) tile_fn(pw.flat, b.units, h)(make_args(p, pw, b, x, y, y_bf16, act, n), t);
    }
  }
  V::fence();
}

}  // namespace avx512_bf16

void conv_bf16_avx512(const ConvProblem& p, const PackedBf16& w, const bf16_t* x, void* y, bool y_bf16,
                      conv1d_activation act, int64_t task_begin, int64_t task_end) {
  avx512_bf16::run(p, w, x, y, y_bf16, act, task_begin, task_end);
}

}  // namespace conv1d
