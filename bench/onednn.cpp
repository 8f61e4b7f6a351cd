// oneDNN (DNNL 2.x C++ API) convolution_forward on the benchmark's buffers.
// Compiled for real only when CMake found oneDNN (CONV1D_BENCH_HAVE_DNNL).
//
// Layout mapping (checked numerically against libconv1d on every row):
//   x, y: {N, C, W} with tag nwc (Keras channels_last) or ncw (channels_first).
//   Keras kernel (k, C/G, F), F = G * (F/G) with the group index outermost:
//     ungrouped: logical {O, I, W}, tag wio (= cba: W outermost, O innermost);
//     grouped:   logical {G, O/G, I/G, W}, tag wigo (= dcab: W, I/G, G, O/G).
//   oneDNN dilation is Keras dilation_rate - 1.
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

BaselineResult bench_onednn(const Problem& p, const Geometry& g, int threads, const float* x, const float* kernel,
                            const float* bias, float* y, double min_time) {
  using namespace dnnl;
  using tag = memory::format_tag;
  using dt = memory::data_type;
  BaselineResult r;
  try {
    omp_set_num_threads(threads);
    engine eng(engine::kind::cpu, 0);
    stream strm(eng);

    const tag act_tag = is_ncw(p) ? tag::ncw : tag::nwc;
    const memory::desc src_md({p.batch, p.in_channels, p.steps}, dt::f32, act_tag);
    const memory::desc dst_md({p.batch, p.filters, g.out_steps}, dt::f32, act_tag);
    const memory::desc bias_md({p.filters}, dt::f32, tag::a);
    memory::dims w_dims;
    tag w_tag;
    if (p.groups == 1) {
      w_dims = {p.filters, p.in_channels, p.kernel};
      w_tag = tag::wio;
    } else {
      w_dims = {p.groups, p.filters / p.groups, p.in_channels / p.groups, p.kernel};
      w_tag = tag::wigo;
    }
    const memory::desc w_user_md(w_dims, dt::f32, w_tag);
    const memory::desc w_any_md(w_dims, dt::f32, tag::any);

    convolution_forward::desc desc(prop_kind::forward_inference, algorithm::convolution_direct, src_md, w_any_md,
                                   bias_md, dst_md, {p.stride}, {p.dilation - 1}, {g.pad_left}, {g.pad_right});
    convolution_forward::primitive_desc pd(desc, eng);
    r.note = pd.impl_info_str();

    // Weights: Keras layout in, the primitive's preferred layout out, once.
    memory w_user(w_user_md, eng, const_cast<float*>(kernel));
    memory w_mem = w_user;
    if (pd.weights_desc() != w_user_md) {
      w_mem = memory(pd.weights_desc(), eng);
      reorder(w_user, w_mem).execute(strm, w_user, w_mem);
      strm.wait();
    }
    memory src_mem(src_md, eng, const_cast<float*>(x));
    memory dst_mem(dst_md, eng, y);
    memory bias_mem(bias_md, eng, const_cast<float*>(bias));

    convolution_forward conv(pd);
    const std::unordered_map<int, memory> args = {
        {DNNL_ARG_SRC, src_mem}, {DNNL_ARG_WEIGHTS, w_mem}, {DNNL_ARG_BIAS, bias_mem}, {DNNL_ARG_DST, dst_mem}};
    r.timing = time_calls(
        [&] {
          conv.execute(strm, args);
          strm.wait();
        },
        min_time);
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

}  // namespace bench

#endif
