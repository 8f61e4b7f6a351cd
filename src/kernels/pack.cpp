#include <algorithm>
#include <cmath>

#include "kernels/packed.hpp"

namespace conv1d {

std::vector<int64_t> split_balanced(int64_t n, int max_units) {
  const int64_t blocks = (n + max_units - 1) / max_units;
  std::vector<int64_t> sizes;
  for (int64_t b = 0; b < blocks; ++b) sizes.push_back(n * (b + 1) / blocks - n * b / blocks);
  return sizes;
}

bool nwc_has_tail(const ConvProblem& p, int lanes) {
  const int64_t full = p.fg() / lanes, rest = p.fg() % lanes, red = p.kernel * p.cg();
  // AVX2's one-vector tiles are load-bound: with a single full vector the
  // padded two-vector tile was faster (F = 10, 12: 3-13%).
  if (p.groups != 1 || rest == 0 || rest > lanes / 2 || full < (lanes >= 16 ? 1 : 2)) return false;
  // Per output row the padded vector costs red FMAs; the tail, `rest` dot
  // products of red / lanes FMAs and a lane sum of about 10 instructions
  // each. Short reductions lose (C = 16, k = 3, F = 20: 16% slower).
  return static_cast<double>(rest) * (static_cast<double>(red) / lanes + 10.0) <= 0.6 * static_cast<double>(red);
}

PackedWeights pack_weights(PackKind kind, const ConvProblem& p, const float* w, const float* bias, int lanes,
                           int max_units) {
  PackedWeights pw;
  pw.kind = kind;
  pw.lanes = lanes;
  const int64_t k = p.kernel, cg = p.cg(), fg = p.fg(), F = p.filters, C = p.in_channels;
  pw.finite = std::all_of(w, w + k * cg * F, [](float v) { return std::isfinite(v); });
  const int64_t c_round = (C + lanes - 1) / lanes * lanes;
  pw.zero.resize(static_cast<size_t>(c_round));

  if (kind == PackKind::kDepthwise) {
    pw.data.resize(static_cast<size_t>((k + 1) * c_round));
    float* d = pw.data.data();
    for (int64_t j = 0; j < k; ++j)
      for (int64_t c = 0; c < C; ++c) d[j * c_round + c] = w[j * F + c];
    if (bias) std::copy(bias, bias + C, d + k * c_round);
    PackedBlock b;
    b.nf = C;
    b.bias = static_cast<size_t>(k * c_round);
    pw.blocks.push_back(b);
    return pw;
  }

  // Block sizes in units, then total storage.
  const bool nwc = kind == PackKind::kNwc;
  const bool tail = nwc && nwc_has_tail(p, lanes);
  const int64_t units_per_group = !nwc ? fg : tail ? fg / lanes : (fg + lanes - 1) / lanes;
  const std::vector<int64_t> sizes = split_balanced(units_per_group, max_units);
  size_t total = 0;
  for (int64_t g = 0; g < p.groups; ++g) {
    int64_t u0 = 0;
    for (int64_t units : sizes) {
      PackedBlock b;
      b.group = g;
      b.units = static_cast<int>(units);
      b.f0 = nwc ? u0 * lanes : u0;
      b.nf = nwc ? std::min(fg, (u0 + units) * lanes) - b.f0 : units;
      const int64_t width = nwc ? units * lanes : units;  // floats per reduction step
      b.weights = total;
      total += static_cast<size_t>(k * cg * width);
      b.bias = total;
      total += static_cast<size_t>((width + lanes - 1) / lanes * lanes);
      pw.blocks.push_back(b);
      u0 += units;
    }
  }
  if (tail) {
    PackedTail& t = pw.tail;
    t.f0 = fg / lanes * lanes;
    t.nf = fg - t.f0;
    t.c_round = (cg + lanes - 1) / lanes * lanes;
    t.weights = total;
    total += static_cast<size_t>(t.nf * k * t.c_round);
    t.bias = total;
    total += static_cast<size_t>(lanes);
  }
  pw.data.resize(total);  // zero-filled: padded lanes compute zeros
  float* d = pw.data.data();
  if (tail) {
    const PackedTail& t = pw.tail;
    for (int64_t f = 0; f < t.nf; ++f) {
      for (int64_t j = 0; j < k; ++j)
        for (int64_t c = 0; c < cg; ++c) d[t.weights + (f * k + j) * t.c_round + c] = w[(j * cg + c) * F + t.f0 + f];
      if (bias) d[t.bias + f] = bias[t.f0 + f];
    }
  }
  for (const PackedBlock& b : pw.blocks) {
    const int64_t width = nwc ? static_cast<int64_t>(b.units) * lanes : b.units;
    for (int64_t j = 0; j < k; ++j)
      for (int64_t c = 0; c < cg; ++c)
        for (int64_t f = 0; f < b.nf; ++f)
          d[b.weights + (j * cg + c) * width + f] = w[(j * cg + c) * F + b.group * fg + b.f0 + f];
    if (bias)
      for (int64_t f = 0; f < b.nf; ++f) d[b.bias + f] = bias[b.group * fg + b.f0 + f];
  }
  return pw;
}

}  // namespace conv1d
