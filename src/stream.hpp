// Streaming inference on a built layer: input arrives in chunks of frames
// and the stream keeps the history the next outputs need (docs/streaming.md).
#pragma once

#include <conv1d/conv1d.h>

#include <cstddef>
#include <cstdint>

#include "dispatch/dispatch.hpp"
#include "layer.hpp"
#include "runtime/aligned.hpp"

namespace conv1d {

class Stream {
 public:
  // A stream of `batch` sequences on `layer`, which must outlive it. Throws
  // for an unbuilt layer, 'same' padding, an activation over time, or a
  // compute dtype other than float32.
  Stream(const Layer& layer, int64_t batch);
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Back to no frames seen; keeps the memory.
  void reset() noexcept { seen_ = base_ = 0; }
  int64_t frames_seen() const noexcept { return seen_; }
  // Outputs per sequence the next `frames` frames would complete.
  int64_t output_frames(int64_t frames) const;
  // Feeds `frames` frames per sequence and writes the outputs they complete
  // to y; returns how many per sequence. Nothing changes if it throws.
  int64_t process(const float* x, size_t x_len, int64_t frames, float* y, size_t y_len);

 private:
  // Outputs per sequence complete after n frames.
  int64_t outputs_after(int64_t n) const;
  // Throws INVALID_STATE (or what forward would) when the layer has changed
  // in a way this stream cannot follow.
  void check_layer() const;
  // Makes room for `frames` more frames on the tape, keeping the last
  // `history_` frames seen. May allocate (before changing anything).
  void make_room(int64_t frames);
  // Copies frames [src_col, src_col + count) of every sequence from `src`
  // (rows of src_cap frames, in the layer's layout) to columns from dst_col
  // of `dst` (rows of dst_cap frames).
  void copy_columns(const float* src, int64_t src_cap, int64_t src_col, float* dst, int64_t dst_cap, int64_t dst_col,
                    int64_t count) const;
  // The stream's plan, made again only when the layer's algorithm or ISA cap changed.
  Plan& plan_for_layer();

  const Layer& layer_;
  int64_t batch_;
  // What the stream was created for; a layer that no longer matches is refused.
  int64_t in_channels_, strides_, dilation_;
  conv1d_padding padding_;
  conv1d_data_format format_;
  int64_t history_;        // frames before an output's first one that it reads: (kernel_size - 1) * dilation
  int64_t lead_;           // history_ for causal (output t starts at frame t*s - lead_), 0 for valid
  int64_t seen_ = 0;       // frames fed since creation or reset
  int64_t base_ = 0;       // the frame in column 0 of the tape
  int64_t cap_ = 0;        // frames per tape row
  AlignedBuffer tape_;     // (batch, cap_, C) or (batch, C, cap_): frames [base_, seen_) in columns 0..
  AlignedBuffer glu_;      // glu's pre-activation output
  AlignedBuffer staging_;  // GEMM outputs, from the start of a tile
  Plan plan_;
  conv1d_algorithm plan_algorithm_ = CONV1D_ALGORITHM_AUTO;
  conv1d_isa plan_isa_ = CONV1D_ISA_SCALAR;
  bool planned_ = false;
};

}  // namespace conv1d
