// The baseline (no ISA flags) half of the bf16 kernel: weight packing and
// the task count. The compute is in bf16_avx512.cpp.
#include "kernels/bf16.hpp"

#include <algorithm>

namespace conv1d {

PackedBf16 pack_bf16(const ConvProblem& p, const float* w, const float* bias) {
  constexpr int kLanes = kBf16Lanes;
  PackedBf16 pw;
  const int64_t k = p.kernel, cg = p.cg(), fg = p.fg(), F = p.filters;
  pw.flat = p.dilation == 1 && p.groups == 1;
  const int64_t channel_pairs = (cg + 1) / 2;
  pw.steps = pw.flat ? (k * cg + 1) / 2 : k * channel_pairs;
  pw.zero.resize(static_cast<size_t>(p.in_channels + 2) / 2);

  const std::vector<int64_t> sizes = split_balanced((fg + kLanes - 1) / kLanes, kBf16MaxUnits);
  size_t weights = 0, biases = 0;
  for (int64_t g = 0; g < p.groups; ++g) {
    int64_t u0 = 0;
    for (int64_t units : sizes) {
      PackedBlock b;
      b.group = g;
      b.units = static_cast<int>(units);
      b.f0 = u0 * kLanes;
      b.nf = std::min(fg, (u0 + units) * kLanes) - b.f0;
      b.weights = weights;
      weights += static_cast<size_t>(pw.steps * units * kLanes * 2);
      b.bias = biases;
      biases += static_cast<size_t>(units * kLanes);
      pw.blocks.push_back(b);
      u0 += units;
    }
  }
  pw.weights.resize((weights + 1) / 2);  // zero-filled: padded lanes and the partners of odd tails stay zero
  pw.bias.resize(biases);
  bf16_t* d = reinterpret_cast<bf16_t*>(pw.weights.data());
  for (const PackedBlock& b : pw.blocks) {
    const int64_t width = static_cast<int64_t>(b.units) * kLanes;
    for (int64_t s = 0; s < pw.steps; ++s)
      for (int64_t h = 0; h < 2; ++h) {
        // Which (tap, channel) the low (h = 0) and high half of step s hold.
        const int64_t j = pw.flat ? (2 * s + h) / cg : s / channel_pairs;
        const int64_t c = pw.flat ? (2 * s + h) % cg : s % channel_pairs * 2 + h;
        if (j >= k || c >= cg) continue;
        const float* src = w + (j * cg + c) * F + b.group * fg + b.f0;
        for (int64_t f = 0; f < b.nf; ++f) d[b.weights + (s * width + f) * 2 + h] = bf16_from_float(src[f]);
      }
    if (bias)
      for (int64_t f = 0; f < b.nf; ++f) pw.bias.data()[b.bias + f] = bias[b.group * fg + b.f0 + f];
  }
  return pw;
}

int64_t bf16_tasks(const ConvProblem& p, const PackedBf16& w) {
  const int64_t chunk = bf16_chunk_rows(w.blocks[0].units);
  const int64_t chunks = (p.out_steps + chunk - 1) / chunk;
  return (bf16_rows_major(w) ? 1 : static_cast<int64_t>(w.blocks.size())) * p.batch * chunks;
}

}  // namespace conv1d
