// The C entry points of streams (conv1d.h, "Streaming"): checks, handle
// unwrapping and error mapping around conv1d::Stream.
#include "stream.hpp"

#include <conv1d/conv1d.h>

#include "errors.hpp"
#include "handle.hpp"

using conv1d::fail;
using conv1d::get;
using conv1d::guard;
using conv1d::need;

struct conv1d_stream {
  conv1d_stream(const conv1d::Layer& layer, int64_t batch) : impl(layer, batch) {}
  conv1d::Stream impl;
};

namespace {

conv1d::Stream& get_stream(conv1d_stream* stream) {
  if (!stream) fail(CONV1D_ERROR_NULL_POINTER, "stream is NULL");
  return stream->impl;
}

const conv1d::Stream& get_stream(const conv1d_stream* stream) {
  if (!stream) fail(CONV1D_ERROR_NULL_POINTER, "stream is NULL");
  return stream->impl;
}

}  // namespace

extern "C" {

conv1d_status conv1d_stream_create(const conv1d_layer* layer, int64_t batch, conv1d_stream** out) {
  return guard([&] {
    const conv1d::Layer& l = get(layer);
    need(out, "out");
    *out = new conv1d_stream(l, batch);
  });
}

void conv1d_stream_destroy(conv1d_stream* stream) { delete stream; }

conv1d_status conv1d_stream_reset(conv1d_stream* stream) {
  return guard([&] { get_stream(stream).reset(); });
}

conv1d_status conv1d_stream_output_frames(const conv1d_stream* stream, int64_t frames, int64_t* out_frames) {
  return guard([&] {
    const conv1d::Stream& s = get_stream(stream);
    need(out_frames, "out_frames");
    *out_frames = s.output_frames(frames);
  });
}

conv1d_status conv1d_stream_process(conv1d_stream* stream, const float* x, size_t x_len, int64_t frames, float* y,
                                    size_t y_len, int64_t* out_frames) {
  return guard([&] {
    conv1d::Stream& s = get_stream(stream);
    const int64_t n = s.process(x, x_len, frames, y, y_len);
    if (out_frames) *out_frames = n;
  });
}

conv1d_status conv1d_stream_frames_seen(const conv1d_stream* stream, int64_t* frames) {
  return guard([&] {
    const conv1d::Stream& s = get_stream(stream);
    need(frames, "frames");
    *frames = s.frames_seen();
  });
}

}  // extern "C"
