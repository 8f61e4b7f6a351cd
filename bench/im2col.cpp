// The plain baseline: per batch item and group, lay the receptive fields out
// as a matrix (im2col) and multiply it by the kernel with cblas_sgemm (or
// cblas_dgemm for the float64 rows), then
// add the bias in a second pass. channels_first builds the transposed matrix
// so that the product lands directly in (filters, out_steps) order.
// Backward reuses the same matrix: weights is dW += col^T * dy (one sgemm per
// batch item and group) plus a pass over dy for the bias; data is col = dy *
// W^T followed by col2im, which adds each column entry back into dx.
#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <string>
#include <vector>

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

// cblas_sgemm / cblas_dgemm by element type.
void gemm(CBLAS_ORDER o, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, float alpha, const float* a,
          int lda, const float* b, int ldb, float beta, float* c, int ldc) {
  cblas_sgemm(o, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}
void gemm(CBLAS_ORDER o, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, double alpha, const double* a,
          int lda, const double* b, int ldb, double beta, double* c, int ldc) {
  cblas_dgemm(o, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

template <typename T>
class Im2col {
 public:
  Im2col(const Problem& p, const Geometry& g)
      : p_(p),
        g_(g),
        cg_(p.in_channels / p.groups),
        fg_(p.filters / p.groups),
        kc_(p.kernel * cg_),
        col_(alloc_buffer<T>(size_t(g.out_steps) * size_t(kc_))) {}

  // dx (zeroed here) from dy: col = dy_g * W_g^T, then col2im.
  void backward_data(const T* dy, const T* w, T* dx) const {
    const int64_t L = p_.steps, C = p_.in_channels, F = p_.filters, out = g_.out_steps;
    T* col = col_.get();
    for (int64_t n = 0; n < p_.batch; ++n) {
      const T* dyb = dy + n * out * F;
      T* dxb = dx + n * L * C;
      std::memset(dxb, 0, size_t(L * C) * sizeof(T));
      for (int64_t g = 0; g < p_.groups; ++g) {
        if (is_ncw(p_)) {
          // col(KC, out) = W_g (KC x F_g) * dy_g (F_g x out)
          gemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(kc_), int(out), int(fg_), T(1), w + g * fg_, int(F),
               dyb + g * fg_ * out, int(out), T(0), col, int(out));
          scatter_ncw(col, g, dxb);
        } else {
          // col(out, KC) = dy_g (out x F_g) * W_g^T (F_g x KC)
          gemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(out), int(kc_), int(fg_), T(1), dyb + g * fg_, int(F),
               w + g * fg_, int(F), T(0), col, int(kc_));
          scatter_nwc(col, g, dxb);
        }
      }
    }
  }

  // dw (Keras layout, overwritten) and db from x and dy.
  void backward_weights(const T* x, const T* dy, T* dw, T* db) const {
    const int64_t L = p_.steps, C = p_.in_channels, F = p_.filters, out = g_.out_steps;
    T* col = col_.get();
    for (int64_t n = 0; n < p_.batch; ++n) {
      const T* xb = x + n * L * C;
      const T* dyb = dy + n * out * F;
      const T beta = n == 0 ? T(0) : T(1);
      for (int64_t g = 0; g < p_.groups; ++g) {
        if (is_ncw(p_)) {
          build_ncw(xb, g, col);
          // dW_g (KC x F_g) += col (KC x out) * dy_g^T (out x F_g)
          gemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(kc_), int(fg_), int(out), T(1), col, int(out),
               dyb + g * fg_ * out, int(out), beta, dw + g * fg_, int(F));
        } else {
          build_nwc(xb, g, col);
          // dW_g (KC x F_g) += col^T (KC x out) * dy_g (out x F_g)
          gemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(kc_), int(fg_), int(out), T(1), col, int(kc_),
               dyb + g * fg_, int(F), beta, dw + g * fg_, int(F));
        }
      }
    }
    if (db == nullptr) return;
    std::fill(bias_acc_.begin(), bias_acc_.end(), 0.0);
    for (int64_t n = 0; n < p_.batch; ++n) {
      const T* dyb = dy + n * out * F;
      if (is_ncw(p_)) {
        for (int64_t f = 0; f < F; ++f) {
          const T* row = dyb + f * out;
          T s = T(0);
          for (int64_t t = 0; t < out; ++t) s += row[t];
          bias_acc_[size_t(f)] += s;
        }
      } else {
        for (int64_t t = 0; t < out; ++t) {
          const T* row = dyb + t * F;
          for (int64_t f = 0; f < F; ++f) bias_acc_[size_t(f)] += row[f];
        }
      }
    }
    for (int64_t f = 0; f < F; ++f) db[f] = T(bias_acc_[size_t(f)]);
  }

  void run(const T* x, const T* w, const T* b, T* y) const {
    const int64_t L = p_.steps, C = p_.in_channels, F = p_.filters, out = g_.out_steps;
    T* col = col_.get();
    for (int64_t n = 0; n < p_.batch; ++n) {
      const T* xb = x + n * L * C;
      T* yb = y + n * out * F;
      for (int64_t g = 0; g < p_.groups; ++g) {
        if (is_ncw(p_)) {
          build_ncw(xb, g, col);
          // y(F_g, out) = W_g^T (F_g x KC) * col (KC x out)
          gemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(fg_), int(out), int(kc_), T(1), w + g * fg_, int(F), col,
               int(out), T(0), yb + g * fg_ * out, int(out));
        } else {
          build_nwc(xb, g, col);
          // y(out, F_g) = col (out x KC) * W_g (KC x F_g)
          gemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(out), int(fg_), int(kc_), T(1), col, int(kc_),
               w + g * fg_, int(F), T(0), yb + g * fg_, int(F));
        }
      }
      if (b == nullptr) continue;
      if (is_ncw(p_)) {
        for (int64_t f = 0; f < F; ++f) {
          T* row = yb + f * out;
          for (int64_t t = 0; t < out; ++t) row[t] += b[f];
        }
      } else {
        for (int64_t t = 0; t < out; ++t) {
          T* row = yb + t * F;
          for (int64_t f = 0; f < F; ++f) row[f] += b[f];
        }
      }
    }
  }

 private:
  // col[t][j*Cg + c] = x[t*s + j*d - pad_left][g*Cg + c], zero outside.
  void build_nwc(const T* xb, int64_t g, T* col) const {
    const int64_t L = p_.steps, C = p_.in_channels;
    for (int64_t t = 0; t < g_.out_steps; ++t) {
      T* row = col + t * kc_;
      for (int64_t j = 0; j < p_.kernel; ++j) {
        const int64_t pos = t * p_.stride + j * p_.dilation - g_.pad_left;
        T* dst = row + j * cg_;
        if (pos < 0 || pos >= L) {
          std::memset(dst, 0, size_t(cg_) * sizeof(T));
        } else {
          std::memcpy(dst, xb + pos * C + g * cg_, size_t(cg_) * sizeof(T));
        }
      }
    }
  }

  // col[j*Cg + c][t] = x[g*Cg + c][t*s + j*d - pad_left], zero outside.
  void build_ncw(const T* xb, int64_t g, T* col) const {
    const int64_t L = p_.steps, out = g_.out_steps, s = p_.stride;
    for (int64_t j = 0; j < p_.kernel; ++j) {
      const int64_t off = j * p_.dilation - g_.pad_left;
      // valid t: 0 <= t*s + off < L
      const int64_t t_lo = off >= 0 ? 0 : std::min(out, (-off + s - 1) / s);
      const int64_t t_hi = std::max(t_lo, std::min(out, L - off > 0 ? (L - off + s - 1) / s : 0));
      for (int64_t c = 0; c < cg_; ++c) {
        const T* src = xb + (g * cg_ + c) * L;
        T* dst = col + (j * cg_ + c) * out;
        std::fill(dst, dst + t_lo, T(0));
        if (s == 1) {
          std::memcpy(dst + t_lo, src + t_lo + off, size_t(t_hi - t_lo) * sizeof(T));
        } else {
          for (int64_t t = t_lo; t < t_hi; ++t) dst[t] = src[t * s + off];
        }
        std::fill(dst + t_hi, dst + out, T(0));
      }
    }
  }

  // col2im of build_nwc's layout: dx[pos][g*Cg + c] += col[t][j*Cg + c].
  void scatter_nwc(const T* col, int64_t g, T* dxb) const {
    const int64_t L = p_.steps, C = p_.in_channels;
    for (int64_t t = 0; t < g_.out_steps; ++t) {
      const T* row = col + t * kc_;
      for (int64_t j = 0; j < p_.kernel; ++j) {
        const int64_t pos = t * p_.stride + j * p_.dilation - g_.pad_left;
        if (pos < 0 || pos >= L) continue;
        const T* src = row + j * cg_;
        T* dst = dxb + pos * C + g * cg_;
        for (int64_t c = 0; c < cg_; ++c) dst[c] += src[c];
      }
    }
  }

  // col2im of build_ncw's layout: dx[g*Cg + c][t*s + off] += col[j*Cg + c][t].
  void scatter_ncw(const T* col, int64_t g, T* dxb) const {
    const int64_t L = p_.steps, out = g_.out_steps, s = p_.stride;
    for (int64_t j = 0; j < p_.kernel; ++j) {
      const int64_t off = j * p_.dilation - g_.pad_left;
      const int64_t t_lo = off >= 0 ? 0 : std::min(out, (-off + s - 1) / s);
      const int64_t t_hi = std::max(t_lo, std::min(out, L - off > 0 ? (L - off + s - 1) / s : 0));
      for (int64_t c = 0; c < cg_; ++c) {
        const T* src = col + (j * cg_ + c) * out;
        T* dst = dxb + (g * cg_ + c) * L;
        for (int64_t t = t_lo; t < t_hi; ++t) dst[t * s + off] += src[t];
      }
    }
  }

  Problem p_;
  Geometry g_;
  int64_t cg_, fg_, kc_;
  Buffer<T> col_;
  mutable std::vector<double> bias_acc_ = std::vector<double>(size_t(p_.filters));
};

}  // namespace

namespace {

// Why the baseline cannot run on this problem, or "" when it can.
std::string im2col_unfit(const Problem& p, const Geometry& g) {
  const double col_bytes = double(g.out_steps) * double(p.kernel) * double(p.in_channels / p.groups) * 8.0;
  if (col_bytes > 2.0 * 1024 * 1024 * 1024) return "im2col buffer > 2 GiB";
  const int64_t int_max = 2147483647;
  if (g.out_steps > int_max || p.filters > int_max || p.kernel * p.in_channels > int_max)
    return "sizes exceed BLAS int";
  return "";
}

template <typename T, typename Call>
BaselineResult time_im2col(const Problem& p, const Geometry& g, int threads, double min_time, Call call) {
  BaselineResult r;
  r.note = im2col_unfit(p, g);
  if (!r.note.empty()) return r;
  try {
    Im2col<T> conv(p, g);
    openblas_set_num_threads(threads);
    r.timing = time_calls([&] { call(conv); }, min_time);
    r.ran = true;
    r.note = sizeof(T) == 8 ? "im2col+dgemm" : "im2col+sgemm";
  } catch (const std::bad_alloc&) {
    r.note = "out of memory";
  }
  return r;
}

}  // namespace

BaselineResult bench_im2col(const Problem& p, const Geometry& g, int threads, const float* x, const float* kernel,
                            const float* bias, float* y, double min_time) {
  return time_im2col<float>(p, g, threads, min_time, [&](const Im2col<float>& conv) { conv.run(x, kernel, bias, y); });
}

BaselineResult bench_im2col_backward_data(const Problem& p, const Geometry& g, int threads, const float* dy,
                                          const float* kernel, float* dx, double min_time) {
  return time_im2col<float>(p, g, threads, min_time,
                            [&](const Im2col<float>& conv) { conv.backward_data(dy, kernel, dx); });
}

BaselineResult bench_im2col_backward_weights(const Problem& p, const Geometry& g, int threads, const float* x,
                                             const float* dy, float* dkernel, float* dbias, double min_time) {
  return time_im2col<float>(p, g, threads, min_time,
                            [&](const Im2col<float>& conv) { conv.backward_weights(x, dy, dkernel, dbias); });
}

BaselineResult bench_im2col_f64(const Problem& p, const Geometry& g, int threads, const double* x, const double* kernel,
                                const double* bias, double* y, double min_time) {
  return time_im2col<double>(p, g, threads, min_time,
                             [&](const Im2col<double>& conv) { conv.run(x, kernel, bias, y); });
}

}  // namespace bench
