// Streaming inference: every chunk runs the layer's own convolution as a
// window of the whole sequence.
//
// The stream keeps a tape per sequence, in the layer's layout, holding the
// frames [base_, seen_) that later outputs may still read (at least the last
// (kernel_size - 1) * dilation). A chunk is appended to the tape, and the
// outputs it completes are one ConvProblem over the tape: in_steps is the
// tape's row length, so the batch and channel strides are the tape's, and
// pad_left = base_ - (first frame the first new output reads). That pad is
// negative once the stream is past its start: the window then begins inside
// the tape. Frames before the first one are not stored as zeros but left to
// the kernels' own padding, so every output sees exactly the taps the
// whole-sequence forward gives it: skipped (reference, portable direct) or
// zero rows (SIMD, GEMM). Stored zeros would add 0 * w terms where the
// whole-sequence kernels skip, which changes the sign of a zero result
// (-0.0 + +0.0 is +0.0) and turns an infinite weight into NaN. Tape columns
// past seen_ are never read by a completed output.
//
// Each output is then the same arithmetic as in the whole-sequence forward,
// since every kernel computes an output from its own taps in a fixed order
// that does not depend on where the output falls in a tile, a task or a
// thread (tests/test_stream.cpp checks this bitwise for every path).
#include "stream.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

#include "activations.hpp"
#include "config.hpp"
#include "dispatch/cpu.hpp"
#include "error.hpp"

namespace conv1d {
namespace {

// Tape frames beyond the history, at least: a shift moves at most the
// history, so with this much room it costs at most C floats per frame fed.
constexpr int64_t kMinRoom = 64;

std::string str(int64_t v) { return std::to_string(v); }

int64_t checked_mul(int64_t a, int64_t b, const char* what) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r) || static_cast<uint64_t>(r) > SIZE_MAX / sizeof(float))
    fail(CONV1D_ERROR_SIZE_OVERFLOW, std::string(what) + " overflows: " + str(a) + " * " + str(b));
  return r;
}

// Why an activation over the last axis cannot stream with channels_first.
std::string time_axis_reason(const LayerConfig& cfg) {
  return std::string("activation '") + activation_name(cfg.activation) + "' of layer '" + cfg.name +
         "' acts on the last axis, which is time with channels_first: each output would depend on frames that "
         "have not arrived yet, so it cannot be streamed (use channels_last, where the last axis is filters)";
}

bool glu_odd(const LayerConfig& cfg) { return cfg.activation == CONV1D_ACTIVATION_GLU && cfg.filters % 2 != 0; }

[[noreturn]] void fail_glu_odd(const LayerConfig& cfg) {
  fail(CONV1D_ERROR_INVALID_VALUE,
       "glu splits the last axis in halves, but it has odd size " + str(cfg.filters) + " (filters)");
}

}  // namespace

Stream::Stream(const Layer& layer, int64_t batch) : layer_(layer), batch_(batch) {
  const LayerConfig& cfg = layer.config();
  const ConvProblem shape = layer.window_problem();  // fails for an unbuilt layer
  if (batch <= 0) fail(CONV1D_ERROR_INVALID_SIZE, "batch must be positive; received batch=" + str(batch));
  if (batch > kMaxDim) fail(CONV1D_ERROR_SIZE_OVERFLOW, "batch=" + str(batch) + " exceeds 2^31-1");
  if (cfg.padding == CONV1D_PADDING_SAME)
    fail(CONV1D_ERROR_UNSUPPORTED, "layer '" + cfg.name +
                                       "' has padding 'same', which centres the kernel on each output, so an output "
                                       "needs frames after its own: only 'causal' and 'valid' layers can stream");
  if (cfg.data_format == CONV1D_CHANNELS_FIRST && activation_is_axiswise(cfg.activation))
    fail(CONV1D_ERROR_UNSUPPORTED, time_axis_reason(cfg));
  if (glu_odd(cfg)) fail_glu_odd(cfg);
  // The policy is fixed once a layer has weights, so this holds for the stream's life.
  if (layer.get_int(CONV1D_PARAM_DTYPE) != CONV1D_DTYPE_FLOAT32)
    fail(CONV1D_ERROR_UNSUPPORTED, "layer '" + cfg.name + "' has dtype policy '" +
                                       layer.get_string(CONV1D_PARAM_DTYPE) +
                                       "': streams run layers that compute in float32 only");
  in_channels_ = shape.in_channels;
  strides_ = cfg.strides;
  dilation_ = cfg.dilation_rate;
  padding_ = cfg.padding;
  format_ = cfg.data_format;
  history_ = checked_mul(cfg.kernel_size - 1, cfg.dilation_rate, "the receptive field");
  if (history_ > kMaxDim) fail(CONV1D_ERROR_SIZE_OVERFLOW, "(kernel_size - 1) * dilation_rate exceeds 2^31-1");
  lead_ = padding_ == CONV1D_PADDING_CAUSAL ? history_ : 0;
  cap_ = history_ + std::max(history_, kMinRoom);
  tape_.resize(
      static_cast<size_t>(checked_mul(checked_mul(batch_, cap_, "stream memory"), in_channels_, "stream memory")));
  plan_for_layer();
}

int64_t Stream::outputs_after(int64_t n) const {
  // causal: output t is complete with frame t*s, so ceil(n / s) of them;
  // valid: with frame t*s + history.
  const int64_t last = n - 1 - (padding_ == CONV1D_PADDING_CAUSAL ? 0 : history_);
  return last < 0 ? 0 : last / strides_ + 1;
}

void Stream::check_layer() const {
  const LayerConfig& cfg = layer_.config();
  auto changed = [&](const char* what, const std::string& was, const std::string& now) {
    fail(CONV1D_ERROR_INVALID_STATE, "layer '" + cfg.name + "' changed its " + what + " from " + was + " to " + now +
                                         " after this stream was created; create a new stream for it");
  };
  if (cfg.padding != padding_) changed("padding", padding_name(padding_), padding_name(cfg.padding));
  if (cfg.strides != strides_) changed("strides", str(strides_), str(cfg.strides));
  if (cfg.dilation_rate != dilation_) changed("dilation_rate", str(dilation_), str(cfg.dilation_rate));
  if (cfg.data_format != format_) changed("data_format", data_format_name(format_), data_format_name(cfg.data_format));
  const int64_t channels = layer_.get_int(CONV1D_PARAM_IN_CHANNELS);
  if (channels != in_channels_) changed("in_channels (it was built again)", str(in_channels_), str(channels));
  if (format_ == CONV1D_CHANNELS_FIRST && activation_is_axiswise(cfg.activation))
    fail(CONV1D_ERROR_INVALID_STATE, "since this stream was created, " + time_axis_reason(cfg));
  if (glu_odd(cfg)) fail_glu_odd(cfg);
}

Plan& Stream::plan_for_layer() {
  // One plan for every chunk, whatever its length, so that the outputs do
  // not depend on the chunking: a forced algorithm gets the plan forward
  // makes for it. AUTO takes direct: chunks are short, and the GEMM path
  // computes whole tiles of kGemmRowTile outputs however few a chunk needs.
  const LayerConfig& cfg = layer_.config();
  const conv1d_isa isa = std::min(cfg.max_isa, detected_isa());
  if (planned_ && cfg.algorithm == plan_algorithm_ && isa == plan_isa_) return plan_;
  ConvProblem p = layer_.window_problem();
  p.batch = batch_;
  p.out_steps = kGemmRowTile;
  p.in_steps = (p.out_steps - 1) * strides_ + history_ + 1;
  const bool automatic = cfg.algorithm == CONV1D_ALGORITHM_AUTO;
  Plan plan = layer_.window_plan(p, automatic ? CONV1D_ALGORITHM_DIRECT : cfg.algorithm);
  if (automatic) plan.reason = "auto for a stream: direct, for any chunk length";
  if (cfg.verbose)
    std::fprintf(stderr, "conv1d: stream on layer '%s' batch=%lld channels=%lld filters=%lld -> %s [%s] (%s)\n",
                 cfg.name.c_str(), static_cast<long long>(batch_), static_cast<long long>(in_channels_),
                 static_cast<long long>(cfg.filters), algorithm_name(plan.algorithm), plan.kernel.c_str(),
                 plan.reason.c_str());
  plan_ = std::move(plan);
  plan_algorithm_ = cfg.algorithm;
  plan_isa_ = isa;
  planned_ = true;
  return plan_;
}

int64_t Stream::output_frames(int64_t frames) const {
  check_layer();
  if (frames < 0) fail(CONV1D_ERROR_INVALID_SIZE, "frames must be >= 0; received frames=" + str(frames));
  if (frames > INT64_MAX - seen_)
    fail(CONV1D_ERROR_SIZE_OVERFLOW, "frames=" + str(frames) + " would take the frame count past INT64_MAX");
  return outputs_after(seen_ + frames) - outputs_after(seen_);
}

void Stream::copy_columns(const float* src, int64_t src_cap, int64_t src_col, float* dst, int64_t dst_cap,
                          int64_t dst_col, int64_t count) const {
  if (count <= 0) return;
  const int64_t C = in_channels_;
  // memmove: a shift copies within the tape. Rows go in increasing order and
  // never move right, so no row overwrites one still to be copied.
  if (format_ == CONV1D_CHANNELS_LAST) {
    for (int64_t n = 0; n < batch_; ++n)
      std::memmove(dst + (n * dst_cap + dst_col) * C, src + (n * src_cap + src_col) * C,
                   static_cast<size_t>(count * C) * sizeof(float));
  } else {
    for (int64_t r = 0; r < batch_ * C; ++r)
      std::memmove(dst + r * dst_cap + dst_col, src + r * src_cap + src_col,
                   static_cast<size_t>(count) * sizeof(float));
  }
}

void Stream::make_room(int64_t frames) {
  if (seen_ + frames - base_ <= cap_) return;
  const int64_t keep_from = std::max(base_, seen_ - history_), keep = seen_ - keep_from;
  if (keep + frames <= cap_) {
    copy_columns(tape_.data(), cap_, keep_from - base_, tape_.data(), cap_, 0, keep);
    base_ = keep_from;
    return;
  }
  // Grow (only ever): allocate first, so a failure changes nothing.
  const int64_t cap = history_ + std::max({frames, history_, kMinRoom});
  AlignedBuffer next(
      static_cast<size_t>(checked_mul(checked_mul(batch_, cap, "stream memory"), in_channels_, "stream memory")));
  copy_columns(tape_.data(), cap_, keep_from - base_, next.data(), cap, 0, keep);
  tape_ = std::move(next);
  cap_ = cap;
  base_ = keep_from;
}

int64_t Stream::process(const float* x, size_t x_len, int64_t frames, float* y, size_t y_len) {
  check_layer();
  const LayerConfig& cfg = layer_.config();
  if (frames < 0) fail(CONV1D_ERROR_INVALID_SIZE, "frames must be >= 0; received frames=" + str(frames));
  if (frames > kMaxDim) fail(CONV1D_ERROR_SIZE_OVERFLOW, "frames=" + str(frames) + " exceeds 2^31-1");
  if (frames > INT64_MAX - seen_)
    fail(CONV1D_ERROR_SIZE_OVERFLOW, "frames=" + str(frames) + " would take the frame count past INT64_MAX");
  const int64_t first_out = outputs_after(seen_), out = outputs_after(seen_ + frames) - first_out;
  if (frames > 0) {
    if (!x) fail(CONV1D_ERROR_NULL_POINTER, "x is NULL");
    const int64_t x_count = checked_mul(checked_mul(batch_, frames, "chunk size"), in_channels_, "chunk size");
    if (x_len < static_cast<uint64_t>(x_count))
      fail(CONV1D_ERROR_BUFFER_TOO_SMALL, "x_len=" + std::to_string(x_len) + " but " + str(frames) +
                                              " frames of batch " + str(batch_) + " with " + str(in_channels_) +
                                              " channels need " + str(x_count) + " floats");
  }
  const bool glu = cfg.activation == CONV1D_ACTIVATION_GLU;
  const int64_t out_channels = glu ? cfg.filters / 2 : cfg.filters;
  if (out > 0) {
    if (!y) fail(CONV1D_ERROR_NULL_POINTER, "y is NULL but the chunk completes " + str(out) + " output frames");
    const int64_t y_count = checked_mul(checked_mul(batch_, out, "output size"), out_channels, "output size");
    if (y_len < static_cast<uint64_t>(y_count))
      fail(CONV1D_ERROR_BUFFER_TOO_SMALL, "y_len=" + std::to_string(y_len) + " but the " + str(out) +
                                              " output frames this chunk completes need " + str(y_count) +
                                              " floats (batch " + str(batch_) + " x " + str(out_channels) + ")");
  }
  if (frames == 0) return 0;

  // Everything that may fail comes before the tape's frame count moves: a
  // shift in make_room keeps every frame still needed, so on failure the
  // stream is as it was (columns past seen_ are free).
  Plan& plan = plan_for_layer();
  // The GEMM path rounds an output by its place in a tile of kGemmRowTile
  // rows counted from output 0 (kernels/problem.hpp), so under it the window
  // starts at the tile holding the first new output, into staging.
  const int64_t start = plan.algorithm == CONV1D_ALGORITHM_GEMM ? first_out / kGemmRowTile * kGemmRowTile : first_out;
  const int64_t rows = first_out + out - start, skip = first_out - start;
  float* conv_out = glu && out > 0 ? glu_.reserve(static_cast<size_t>(batch_ * rows * cfg.filters)) : nullptr;
  float* dst = skip > 0 ? staging_.reserve(static_cast<size_t>(batch_ * rows * out_channels)) : y;
  make_room(frames);
  copy_columns(x, frames, 0, tape_.data(), cap_, seen_ - base_, frames);  // the chunk, as rows of `frames`
  if (out > 0) {
    ConvProblem p = layer_.window_problem();
    p.batch = batch_;
    p.in_steps = cap_;
    p.out_steps = rows;
    p.pad_left = base_ - (start * strides_ - lead_);
    plan.threads = layer_.window_threads(plan, p);
    layer_.run_window(plan, p, tape_.data(), conv_out, dst);
    if (skip > 0) {
      // Steps [skip, rows) of each run of steps: per sequence for
      // channels_last (steps of out_channels floats), per sequence and
      // channel for channels_first (steps of one float).
      const bool last = format_ == CONV1D_CHANNELS_LAST;
      const int64_t runs = last ? batch_ : batch_ * out_channels, width = last ? out_channels : 1;
      for (int64_t r = 0; r < runs; ++r)
        std::memcpy(y + r * out * width, dst + (r * rows + skip) * width,
                    static_cast<size_t>(out * width) * sizeof(float));
    }
  }
  seen_ += frames;
  return out;
}

}  // namespace conv1d
