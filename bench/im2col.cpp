// The plain baseline: per batch item and group, lay the receptive fields out
// as a matrix (im2col) and multiply it by the kernel with cblas_sgemm, then
// add the bias in a second pass. channels_first builds the transposed matrix
// so that the product lands directly in (filters, out_steps) order.
#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <string>

#include "bench.hpp"

namespace bench {

std::string openblas_description() {
  std::string s = "OpenBLAS";
  if (const char* config = openblas_get_config()) s += std::string(" (") + config + ")";
  if (const char* core = openblas_get_corename()) s += std::string(", core ") + core;
  return s;
}

void openblas_threads(int threads) { openblas_set_num_threads(threads); }

namespace {

class Im2col {
 public:
  Im2col(const Problem& p, const Geometry& g)
      : p_(p),
        g_(g),
        cg_(p.in_channels / p.groups),
        fg_(p.filters / p.groups),
        kc_(p.kernel * cg_),
        col_(alloc_floats(size_t(g.out_steps) * size_t(kc_))) {}

  void run(const float* x, const float* w, const float* b, float* y) const {
    const int64_t L = p_.steps, C = p_.in_channels, F = p_.filters, out = g_.out_steps;
    float* col = col_.get();
    for (int64_t n = 0; n < p_.batch; ++n) {
      const float* xb = x + n * L * C;
      float* yb = y + n * out * F;
      for (int64_t g = 0; g < p_.groups; ++g) {
        if (is_ncw(p_)) {
          build_ncw(xb, g, col);
          // y(F_g, out) = W_g^T (F_g x KC) * col (KC x out)
          cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(fg_), int(out), int(kc_), 1.0f, w + g * fg_, int(F),
                      col, int(out), 0.0f, yb + g * fg_ * out, int(out));
        } else {
          build_nwc(xb, g, col);
          // y(out, F_g) = col (out x KC) * W_g (KC x F_g)
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(out), int(fg_), int(kc_), 1.0f, col, int(kc_),
                      w + g * fg_, int(F), 0.0f, yb + g * fg_, int(F));
        }
      }
      if (b == nullptr) continue;
      if (is_ncw(p_)) {
        for (int64_t f = 0; f < F; ++f) {
          float* row = yb + f * out;
          for (int64_t t = 0; t < out; ++t) row[t] += b[f];
        }
      } else {
        for (int64_t t = 0; t < out; ++t) {
          float* row = yb + t * F;
          for (int64_t f = 0; f < F; ++f) row[f] += b[f];
        }
      }
    }
  }

 private:
  // col[t][j*Cg + c] = x[t*s + j*d - pad_left][g*Cg + c], zero outside.
  void build_nwc(const float* xb, int64_t g, float* col) const {
    const int64_t L = p_.steps, C = p_.in_channels;
    for (int64_t t = 0; t < g_.out_steps; ++t) {
      float* row = col + t * kc_;
      for (int64_t j = 0; j < p_.kernel; ++j) {
        const int64_t pos = t * p_.stride + j * p_.dilation - g_.pad_left;
        float* dst = row + j * cg_;
        if (pos < 0 || pos >= L) {
          std::memset(dst, 0, size_t(cg_) * sizeof(float));
        } else {
          std::memcpy(dst, xb + pos * C + g * cg_, size_t(cg_) * sizeof(float));
        }
      }
    }
  }

  // col[j*Cg + c][t] = x[g*Cg + c][t*s + j*d - pad_left], zero outside.
  void build_ncw(const float* xb, int64_t g, float* col) const {
    const int64_t L = p_.steps, out = g_.out_steps, s = p_.stride;
    for (int64_t j = 0; j < p_.kernel; ++j) {
      const int64_t off = j * p_.dilation - g_.pad_left;
      // valid t: 0 <= t*s + off < L
      const int64_t t_lo = off >= 0 ? 0 : std::min(out, (-off + s - 1) / s);
      const int64_t t_hi = std::max(t_lo, std::min(out, L - off > 0 ? (L - off + s - 1) / s : 0));
      for (int64_t c = 0; c < cg_; ++c) {
        const float* src = xb + (g * cg_ + c) * L;
        float* dst = col + (j * cg_ + c) * out;
        std::fill(dst, dst + t_lo, 0.0f);
        if (s == 1) {
          std::memcpy(dst + t_lo, src + t_lo + off, size_t(t_hi - t_lo) * sizeof(float));
        } else {
          for (int64_t t = t_lo; t < t_hi; ++t) dst[t] = src[t * s + off];
        }
        std::fill(dst + t_hi, dst + out, 0.0f);
      }
    }
  }

  Problem p_;
  Geometry g_;
  int64_t cg_, fg_, kc_;
  FloatBuffer col_;
};

}  // namespace

BaselineResult bench_im2col(const Problem& p, const Geometry& g, int threads, const float* x, const float* kernel,
                            const float* bias, float* y, double min_time) {
  BaselineResult r;
  const double col_bytes = double(g.out_steps) * double(p.kernel) * double(p.in_channels / p.groups) * 4.0;
  if (col_bytes > 2.0 * 1024 * 1024 * 1024) {
    r.note = "im2col buffer > 2 GiB";
    return r;
  }
  const int64_t int_max = 2147483647;
  if (g.out_steps > int_max || p.filters > int_max || p.kernel * p.in_channels > int_max) {
    r.note = "sizes exceed BLAS int";
    return r;
  }
  try {
    Im2col conv(p, g);
    openblas_set_num_threads(threads);
    r.timing = time_calls([&] { conv.run(x, kernel, bias, y); }, min_time);
    r.ran = true;
    r.note = "im2col+sgemm";
  } catch (const std::bad_alloc&) {
    r.note = "out of memory";
  }
  return r;
}

}  // namespace bench
