// oneDNN (DNNL 2.x C++ API) convolution_forward, convolution_backward_data
// and convolution_backward_weights on the benchmark's buffers. Compiled for
// real only when CMake found oneDNN (CONV1D_BENCH_HAVE_DNNL).
//
// Layout mapping (checked numerically against libconv1d on every row):
//   x, y: {N, C, W} with tag nwc (Keras channels_last) or ncw (channels_first).
//   Keras kernel (k, C/G, F), F = G * (F/G) with the group index outermost:
//     ungrouped: logical {O, I, W}, tag wio (= cba: W outermost, O innermost);
//     grouped:   logical {G, O/G, I/G, W}, tag wigo (= dcab: W, I/G, G, O/G).
//   oneDNN dilation is Keras dilation_rate - 1.
// The backward primitives take a forward_training primitive_desc as their
// hint, weights `any`: the kernel is reordered into the backward-data
// primitive's layout, and the weight gradient out of the backward-weights
// one into Keras layout, once, outside the timed region.
#include "bench.hpp"

#ifdef CONV1D_BENCH_HAVE_DNNL

#include <omp.h>

#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>

namespace bench {

bool have_onednn() { return true; }

std::string onednn_version() {
  const dnnl_version_t* v = dnnl_version();
  std::string s =
      "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  if (v->hash != nullptr && std::string(v->hash) != "N/A") s += std::string(" (") + v->hash + ")";
  return s;
}

namespace {

// The memory descriptors and forward description every primitive of a row shares.
struct Descs {
  dnnl::memory::desc src, dst, bias, w_user, w_any;

  // Activations and the primitive's weights in `data`; bias and the user's
  // Keras-layout weights stay float32.
  Descs(const Problem& p, const Geometry& g, dnnl::memory::data_type data = dnnl::memory::data_type::f32) {
    using tag = dnnl::memory::format_tag;
    using dt = dnnl::memory::data_type;
    const tag act_tag = is_ncw(p) ? tag::ncw : tag::nwc;
    src = dnnl::memory::desc({p.batch, p.in_channels, p.steps}, data, act_tag);
    dst = dnnl::memory::desc({p.batch, p.filters, g.out_steps}, data, act_tag);
    bias = dnnl::memory::desc({p.filters}, dt::f32, tag::a);
    dnnl::memory::dims w_dims;
    tag w_tag;
    if (p.groups == 1) {
      w_dims = {p.filters, p.in_channels, p.kernel};
      w_tag = tag::wio;
    } else {
      w_dims = {p.groups, p.filters / p.groups, p.in_channels / p.groups, p.kernel};
      w_tag = tag::wigo;
    }
    w_user = dnnl::memory::desc(w_dims, dt::f32, w_tag);
    w_any = dnnl::memory::desc(w_dims, data, tag::any);
  }

  dnnl::convolution_forward::desc forward(const Problem& p, const Geometry& g, dnnl::prop_kind kind) const {
    return dnnl::convolution_forward::desc(kind, dnnl::algorithm::convolution_direct, src, w_any, bias, dst, {p.stride},
                                           {p.dilation - 1}, {g.pad_left}, {g.pad_right});
  }
};

// Runs body, turning oneDNN's and other exceptions into an n/a result.
template <typename Body>
BaselineResult guarded(Body body) {
  BaselineResult r;
  try {
    body(r);
    r.ran = true;
  } catch (const dnnl::error& e) {
    r.ran = false;
    r.note = std::string("oneDNN error: ") + e.what();
  } catch (const std::exception& e) {
    r.ran = false;
    r.note = std::string("error: ") + e.what();
  }
  return r;
}

// Median timing of prim on args; each call waits for the stream to finish.
Timing time_primitive(const dnnl::primitive& prim, dnnl::stream& strm,
                      const std::unordered_map<int, dnnl::memory>& args, double min_time) {
  return time_calls(
      [&] {
        prim.execute(strm, args);
        strm.wait();
      },
      min_time);
}

// Keras-layout weights in `user` converted into `desc`'s layout (no copy when equal).
dnnl::memory weights_in(dnnl::memory user, const dnnl::memory::desc& desc, const dnnl::engine& eng,
                        dnnl::stream& strm) {
  if (desc == user.get_desc()) return user;
  dnnl::memory m(desc, eng);
  dnnl::reorder(user, m).execute(strm, user, m);
  strm.wait();
  return m;
}

}  // namespace

BaselineResult bench_onednn(const Problem& p, const Geometry& g, int threads, const float* x, const float* kernel,
                            const float* bias, float* y, double min_time) {
  return bench_onednn_typed(p, g, threads, DType::kFloat32, x, kernel, bias, y, min_time);
}

BaselineResult bench_onednn_typed(const Problem& p, const Geometry& g, int threads, DType type, const void* x,
                                  const float* kernel, const float* bias, void* y, double min_time) {
  using namespace dnnl;
  if (type == DType::kFloat64) {
    BaselineResult r;
    r.note = "oneDNN has no float64 convolution";
    return r;
  }
  return guarded([&](BaselineResult& r) {
    omp_set_num_threads(threads);
    engine eng(engine::kind::cpu, 0);
    stream strm(eng);
    const Descs d(p, g, type == DType::kBfloat16 ? memory::data_type::bf16 : memory::data_type::f32);
    convolution_forward::primitive_desc pd(d.forward(p, g, prop_kind::forward_inference), eng);
    r.note = pd.impl_info_str();

    // Weights: Keras layout in, the primitive's preferred layout (and type) out, once.
    memory w_user(d.w_user, eng, const_cast<float*>(kernel));
    memory w_mem = weights_in(w_user, pd.weights_desc(), eng, strm);
    memory src_mem(d.src, eng, const_cast<void*>(x));
    memory dst_mem(d.dst, eng, y);
    memory bias_mem(d.bias, eng, const_cast<float*>(bias));

    convolution_forward conv(pd);
    const std::unordered_map<int, memory> args = {
        {DNNL_ARG_SRC, src_mem}, {DNNL_ARG_WEIGHTS, w_mem}, {DNNL_ARG_BIAS, bias_mem}, {DNNL_ARG_DST, dst_mem}};
    r.timing = time_primitive(conv, strm, args, min_time);
  });
}

BaselineResult bench_onednn_backward_data(const Problem& p, const Geometry& g, int threads, const float* dy,
                                          const float* kernel, float* dx, double min_time) {
  using namespace dnnl;
  return guarded([&](BaselineResult& r) {
    omp_set_num_threads(threads);
    engine eng(engine::kind::cpu, 0);
    stream strm(eng);
    const Descs d(p, g);
    convolution_forward::primitive_desc hint(d.forward(p, g, prop_kind::forward_training), eng);
    convolution_backward_data::desc desc(algorithm::convolution_direct, d.src, d.w_any, d.dst, {p.stride},
                                         {p.dilation - 1}, {g.pad_left}, {g.pad_right});
    convolution_backward_data::primitive_desc pd(desc, eng, hint);
    r.note = pd.impl_info_str();

    memory w_user(d.w_user, eng, const_cast<float*>(kernel));
    memory w_mem = weights_in(w_user, pd.weights_desc(), eng, strm);
    memory dy_mem(d.dst, eng, const_cast<float*>(dy));
    memory dx_mem(d.src, eng, dx);

    convolution_backward_data conv(pd);
    const std::unordered_map<int, memory> args = {
        {DNNL_ARG_DIFF_DST, dy_mem}, {DNNL_ARG_WEIGHTS, w_mem}, {DNNL_ARG_DIFF_SRC, dx_mem}};
    r.timing = time_primitive(conv, strm, args, min_time);
  });
}

BaselineResult bench_onednn_backward_weights(const Problem& p, const Geometry& g, int threads, const float* x,
                                             const float* dy, float* dkernel, float* dbias, double min_time) {
  using namespace dnnl;
  return guarded([&](BaselineResult& r) {
    omp_set_num_threads(threads);
    engine eng(engine::kind::cpu, 0);
    stream strm(eng);
    const Descs d(p, g);
    convolution_forward::primitive_desc hint(d.forward(p, g, prop_kind::forward_training), eng);
    convolution_backward_weights::desc desc(algorithm::convolution_direct, d.src, d.w_any, d.bias, d.dst, {p.stride},
                                            {p.dilation - 1}, {g.pad_left}, {g.pad_right});
    convolution_backward_weights::primitive_desc pd(desc, eng, hint);
    r.note = pd.impl_info_str();

    // The weight gradient lands in the primitive's layout, reordered into
    // Keras layout after the timing.
    memory dw_user(d.w_user, eng, dkernel);
    const bool same = pd.diff_weights_desc() == d.w_user;
    memory dw_mem = same ? dw_user : memory(pd.diff_weights_desc(), eng);
    memory x_mem(d.src, eng, const_cast<float*>(x));
    memory dy_mem(d.dst, eng, const_cast<float*>(dy));
    memory db_mem(d.bias, eng, dbias);

    convolution_backward_weights conv(pd);
    const std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, x_mem},
                                                  {DNNL_ARG_DIFF_DST, dy_mem},
                                                  {DNNL_ARG_DIFF_WEIGHTS, dw_mem},
                                                  {DNNL_ARG_DIFF_BIAS, db_mem}};
    r.timing = time_primitive(conv, strm, args, min_time);
    if (!same) {
      reorder(dw_mem, dw_user).execute(strm, dw_mem, dw_user);
      strm.wait();
    }
  });
}

}  // namespace bench

#else  // !CONV1D_BENCH_HAVE_DNNL

namespace bench {

bool have_onednn() { return false; }
std::string onednn_version() { return "oneDNN not found at configure time"; }

BaselineResult bench_onednn(const Problem&, const Geometry&, int, const float*, const float*, const float*, float*,
                            double) {
  BaselineResult r;
  r.note = "oneDNN not built in";
  return r;
}

BaselineResult bench_onednn_typed(const Problem&, const Geometry&, int, DType, const void*, const float*, const float*,
                                  void*, double) {
  BaselineResult r;
  r.note = "oneDNN not built in";
  return r;
}

BaselineResult bench_onednn_backward_data(const Problem&, const Geometry&, int, const float*, const float*, float*,
                                          double) {
  BaselineResult r;
  r.note = "oneDNN not built in";
  return r;
}

BaselineResult bench_onednn_backward_weights(const Problem&, const Geometry&, int, const float*, const float*, float*,
                                             float*, double) {
  BaselineResult r;
  r.note = "oneDNN not built in";
  return r;
}

}  // namespace bench

#endif
