// libFuzzer target: drives the C API with arbitrary call sequences, sizes and
// names decoded from the input, and checks the error contract on each call:
// a known status, a message on failure, and a failed forward leaves the
// output buffer untouched. Buffers are always as long as the lengths passed
// (the library may trust a length the caller states), but shapes and
// parameter values are arbitrary, extremes included.
#include <conv1d/conv1d.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

class Reader {
 public:
  Reader(const uint8_t* d, size_t n) : d_(d), n_(n) {}
  bool empty() const { return i_ >= n_; }
  uint8_t byte() { return i_ < n_ ? d_[i_++] : 0; }
  // Mostly small values, sometimes extremes: what breaks size arithmetic.
  // Large values are all beyond 2^31-1, which the library must refuse before
  // allocating; mid-sized ones would only make it allocate gigabytes, legally.
  int64_t size() {
    switch (byte() % 8) {
      case 0:
        return -static_cast<int64_t>(byte());
      case 1:
        return INT64_MAX - byte();
      case 2:
        return int64_t{1} << (31 + byte() % 32);
      case 3:
        return 0;
      default:
        return byte() % 24 + 1;
    }
  }
  std::string text() {
    static const char* words[] = {"valid",
                                  "same",
                                  "causal",
                                  "SAME",
                                  "channels_first",
                                  "relu",
                                  "glu",
                                  "softmax",
                                  "sparsemax",
                                  "threshold",
                                  "gelu",
                                  "he_normal",
                                  "orthogonal",
                                  "identity",
                                  "null",
                                  "auto",
                                  "gemm",
                                  "direct",
                                  "reference",
                                  "avx2",
                                  "scalar",
                                  "a/b",
                                  "",
                                  "{\"class_name\": \"VarianceScaling\", \"config\": {\"scale\": 2}}",
                                  "{\"class_name\": \"Constant\", \"config\": {\"value\": 0.5}}",
                                  "{bad json",
                                  "l1",
                                  "l2",
                                  "l1l2",
                                  "l1_l2",
                                  "orthogonal_regularizer",
                                  "max_norm",
                                  "non_neg",
                                  "unit_norm",
                                  "{\"class_name\": \"L1L2\", \"config\": {\"l1\": 0.1, \"l2\": -1}}",
                                  "{\"class_name\": \"MaxNorm\", \"config\": {\"max_value\": 1, \"axis\": [0, 1]}}",
                                  "{\"class_name\": \"UnitNorm\", \"config\": {\"axis\": 5}}",
                                  "float64",
                                  "bfloat16",
                                  "mixed_bfloat16",
                                  "float16",
                                  "{\"class_name\": \"DTypePolicy\", \"config\": {\"name\": \"float64\"}}"};
    const uint8_t b = byte();
    if (b < 200) return words[b % (sizeof(words) / sizeof(*words))];
    std::string s;
    for (int k = byte() % 12; k > 0; --k) s.push_back(static_cast<char>(byte()));
    return s;
  }

 private:
  const uint8_t* d_;
  size_t n_;
  size_t i_ = 0;
};

void check(conv1d_status s) {
  if (s < CONV1D_OK || s > CONV1D_ERROR_LENGTH_MISMATCH) std::abort();
  if (s != CONV1D_OK && conv1d_last_error_message()[0] == '\0') std::abort();
  if (s == CONV1D_ERROR_INTERNAL) std::abort();  // a bug by definition
}

const conv1d_param kParams[] = {CONV1D_PARAM_FILTERS,
                                CONV1D_PARAM_KERNEL_SIZE,
                                CONV1D_PARAM_STRIDES,
                                CONV1D_PARAM_DILATION_RATE,
                                CONV1D_PARAM_GROUPS,
                                CONV1D_PARAM_PADDING,
                                CONV1D_PARAM_DATA_FORMAT,
                                CONV1D_PARAM_USE_BIAS,
                                CONV1D_PARAM_IN_CHANNELS,
                                CONV1D_PARAM_ACTIVATION,
                                CONV1D_PARAM_KERNEL_INITIALIZER,
                                CONV1D_PARAM_BIAS_INITIALIZER,
                                CONV1D_PARAM_SEED,
                                CONV1D_PARAM_ALGORITHM,
                                CONV1D_PARAM_VERBOSE,
                                CONV1D_PARAM_NUM_THREADS,
                                CONV1D_PARAM_MAX_ISA,
                                CONV1D_PARAM_FIND,
                                CONV1D_PARAM_NAME,
                                CONV1D_PARAM_KERNEL_REGULARIZER,
                                CONV1D_PARAM_BIAS_REGULARIZER,
                                CONV1D_PARAM_ACTIVITY_REGULARIZER,
                                CONV1D_PARAM_KERNEL_CONSTRAINT,
                                CONV1D_PARAM_BIAS_CONSTRAINT,
                                CONV1D_PARAM_LORA_RANK,
                                CONV1D_PARAM_LORA_ALPHA,
                                CONV1D_PARAM_TRAINABLE,
                                CONV1D_PARAM_DTYPE,
                                CONV1D_PARAM_VARIABLE_DTYPE,
                                static_cast<conv1d_param>(999)};

conv1d_param param(Reader& r) { return kParams[r.byte() % (sizeof(kParams) / sizeof(*kParams))]; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader r(data, size);
  conv1d_layer* layer = nullptr;
  conv1d_stream* stream = nullptr;  // on `layer`, which later ops may change under it
  const int64_t f = r.size(), k = r.size();
  check(conv1d_create(f, k, &layer));
  if (!layer) return 0;
  for (int op = 0; op < 32 && !r.empty(); ++op) {
    switch (r.byte() % 16) {
      case 0: {
        const conv1d_param p = param(r);
        const int64_t v = r.byte() % 2 ? r.size() : static_cast<int64_t>(r.byte() % 32);
        check(conv1d_set_int(layer, p, v));
        break;
      }
      case 1: {
        const conv1d_param p = param(r);
        const std::string v = r.text();
        check(conv1d_set_string(layer, p, v.c_str()));
        break;
      }
      case 2:
        check(conv1d_build(layer, r.size()));
        break;
      case 3: {
        const size_t kl = static_cast<size_t>(r.byte()) * (r.byte() % 8 + 1), bl = r.byte() % 32;
        std::vector<float> w(kl, 0.25f), b(bl, 0.5f);
        check(conv1d_set_weights(layer, kl ? w.data() : nullptr, kl, bl ? b.data() : nullptr, bl));
        break;
      }
      case 4:
      case 5: {
        const int64_t n = r.size(), steps = r.size(), c = r.size();
        const size_t xl = r.byte() * 16u, yl = r.byte() * 16u;
        std::vector<float> x(xl, 1.0f), y(yl, -7.0f);
        for (size_t i = 0; i < xl; ++i) x[i] = static_cast<float>(static_cast<int>(i % 17) - 8) * 0.125f;
        const conv1d_status s =
            conv1d_forward(layer, xl ? x.data() : nullptr, xl, n, steps, c, yl ? y.data() : nullptr, yl);
        check(s);
        if (s != CONV1D_OK)
          for (float v : y)
            if (v != -7.0f) std::abort();  // a failed call wrote the output
        break;
      }
      case 6: {
        int64_t shape[3];
        size_t count;
        check(conv1d_output_shape(layer, r.size(), r.size(), shape, &count));
        int64_t lo, pl, pr;
        check(conv1d_output_steps(layer, r.size(), &lo));
        check(conv1d_padding_amounts(layer, r.size(), &pl, &pr));
        break;
      }
      case 7: {
        char buf[64];
        size_t need = 0;
        const size_t cap = r.byte() % sizeof buf;
        check(conv1d_get_string(layer, param(r), cap ? buf : nullptr, cap, &need));
        check(conv1d_describe_plan(layer, r.size(), r.size(), cap ? buf : nullptr, cap, &need));
        break;
      }
      case 8: {
        size_t kl = 0, bl = 0;
        if (conv1d_weight_sizes(layer, &kl, &bl) == CONV1D_OK && kl < (1u << 20)) {
          std::vector<float> w(kl), b(bl);
          check(conv1d_get_weights(layer, w.data(), kl, b.data(), bl));
        }
        int64_t v;
        check(conv1d_get_int(layer, param(r), &v));
        break;
      }
      case 10: {
        // Backward with arbitrary shapes, lengths, flags and wanted outputs:
        // a failed call leaves every gradient buffer as it was.
        const int64_t n = r.size(), steps = r.size(), c = r.size();
        const size_t xl = r.byte() * 16u, yl = r.byte() * 16u, dxl = r.byte() * 16u, dkl = r.byte() * 4u,
                     dbl = r.byte() % 32;
        const uint8_t want = r.byte();
        const uint32_t flags = r.byte() % 5;
        std::vector<float> x(xl, 0.5f), dy(yl, 0.25f), dx(dxl, -7.0f), dk(dkl, -7.0f), db(dbl, -7.0f);
        const conv1d_status s =
            conv1d_backward(layer, xl ? x.data() : nullptr, xl, n, steps, c, yl ? dy.data() : nullptr, yl,
                            (want & 1) && dxl ? dx.data() : nullptr, dxl, (want & 2) && dkl ? dk.data() : nullptr, dkl,
                            (want & 4) && dbl ? db.data() : nullptr, dbl, flags);
        check(s);
        if (s != CONV1D_OK)
          for (const std::vector<float>* v : {&dx, &dk, &db})
            for (float e : *v)
              if (e != -7.0f) std::abort();
        break;
      }
      case 11: {
        const int64_t n = r.size(), steps = r.size();
        const size_t yl = r.byte() * 16u;
        std::vector<float> y(yl, 1.5f);
        double loss;
        check(conv1d_regularization_loss(layer, yl && r.byte() % 2 ? y.data() : nullptr, yl, n, steps, &loss));
        check(conv1d_apply_constraints(layer));
        break;
      }
      case 12: {
        const conv1d_weight w = static_cast<conv1d_weight>(r.byte() % 5);
        size_t len = 0;
        if (conv1d_weight_size(layer, w, &len) == CONV1D_OK && len < (1u << 20)) {
          std::vector<float> v(len + r.byte() % 2, 0.125f);
          check(conv1d_get_weight(layer, w, v.data(), v.size()));
          check(conv1d_set_weight(layer, w, v.data(), v.size()));
        }
        size_t kl = 0;
        if (conv1d_weight_size(layer, CONV1D_WEIGHT_KERNEL, &kl) == CONV1D_OK && kl < (1u << 20)) {
          size_t al = 0, bl = 0;
          conv1d_weight_size(layer, CONV1D_WEIGHT_LORA_A, &al);
          conv1d_weight_size(layer, CONV1D_WEIGHT_LORA_B, &bl);
          std::vector<float> g(kl, 0.5f), da(al + 1), dbv(bl + 1);
          check(conv1d_lora_gradients(layer, g.data(), kl, da.data(), al, dbv.data(), bl, r.byte() % 4));
        }
        if (r.byte() % 4 == 0) check(conv1d_lora_merge(layer));
        break;
      }
      case 13: {
        // Whole-layer JSON: the layer's own config, mutated, and arbitrary text.
        char buf[4096];
        size_t need = 0;
        const int wrapped = r.byte() % 2;
        if (conv1d_get_config(layer, wrapped, buf, sizeof buf, &need) == CONV1D_OK) {
          std::string json(buf);
          for (int k = r.byte() % 4; k > 0 && !json.empty(); --k)
            json[r.byte() * 31u % json.size()] = static_cast<char>(r.byte());
          conv1d_layer* other = nullptr;
          check(conv1d_create_from_config(json.c_str(), &other));
          conv1d_destroy(other);
        }
        conv1d_layer* other = nullptr;
        check(conv1d_create_from_config(r.text().c_str(), &other));
        conv1d_destroy(other);
        break;
      }
      case 9: {
        // Streams: a failed process leaves the output and the frame count as they were.
        const uint8_t what = r.byte() % 4;
        if (what == 0 || !stream) {
          conv1d_stream_destroy(stream);
          stream = nullptr;
          check(conv1d_stream_create(layer, r.size(), &stream));
          break;
        }
        if (what == 1) {
          check(conv1d_stream_reset(stream));
          break;
        }
        const int64_t frames = r.size();
        int64_t before = -1, after = -1, n = -1;
        check(conv1d_stream_frames_seen(stream, &before));
        check(conv1d_stream_output_frames(stream, frames, &n));
        const size_t xl = r.byte() * 16u, yl = r.byte() * 16u;
        std::vector<float> x(xl, 0.5f), y(yl, -7.0f);
        const conv1d_status s =
            conv1d_stream_process(stream, xl ? x.data() : nullptr, xl, frames, yl ? y.data() : nullptr, yl, &n);
        check(s);
        check(conv1d_stream_frames_seen(stream, &after));
        if (s != CONV1D_OK) {
          if (after != before) std::abort();  // a failed call moved the stream
          for (float v : y)
            if (v != -7.0f) std::abort();  // a failed call wrote the output
        }
        break;
      }
      case 14: {
        // Typed forward and weights with arbitrary (also invalid) dtypes: a
        // failed call leaves the output bytes as they were.
        auto dtype = [&r] { return static_cast<conv1d_dtype>(static_cast<int>(r.byte() % 5) - 1); };
        const conv1d_dtype xt = dtype(), yt = dtype(), wt = dtype();
        const int64_t n = r.size(), steps = r.size(), c = r.size();
        const size_t xl = r.byte() * 16u, yl = r.byte() * 16u;
        std::vector<double> x(xl, 0.5), y(yl, -7.0);  // 8 bytes per element: room for any dtype
        const conv1d_status s =
            conv1d_forward_ex(layer, xt, xl ? x.data() : nullptr, xl, n, steps, c, yt, yl ? y.data() : nullptr, yl);
        check(s);
        if (s != CONV1D_OK)
          for (double v : y)
            if (v != -7.0) std::abort();  // a failed call wrote the output
        size_t kl = 0, bl = 0;
        if (conv1d_weight_sizes(layer, &kl, &bl) == CONV1D_OK && kl < (1u << 20)) {
          std::vector<double> w(kl + r.byte() % 2, 0.25), b(bl + 1, 0.5);
          check(conv1d_get_weights_ex(layer, wt, w.data(), w.size(), bl ? b.data() : nullptr, bl));
          check(conv1d_set_weights_ex(layer, wt, w.data(), w.size(), bl ? b.data() : nullptr, bl));
        }
        break;
      }
      default: {
        conv1d_algorithm a;
        check(conv1d_query_algorithm(layer, r.size(), r.size(), &a));
        break;
      }
    }
  }
  conv1d_stream_destroy(stream);
  conv1d_destroy(layer);
  return 0;
}
