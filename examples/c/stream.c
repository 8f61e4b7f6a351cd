/* libconv1d from C: streaming a WaveNet-style dilated causal layer.
 *
 * A real-time model sees its input one frame at a time. A stream
 * (conv1d_stream_create) keeps the history a causal layer needs, here the
 * last (kernel_size - 1) * dilation_rate = 8 frames, so each frame fed gives
 * the output it completes at once, and nothing is computed twice.
 *
 * The layer this streams:
 *
 *   keras.layers.Conv1D(filters=16, kernel_size=2, padding="causal",
 *                       dilation_rate=8, activation="tanh")
 *
 * on 8 channels. The program feeds 200 frames one at a time, then the same
 * frames again after a reset in chunks of 0 to 37 frames, and checks that
 * both give exactly (bit for bit) what conv1d_forward gives for the whole
 * sequence. Exactness holds for a forced algorithm, set here to "direct";
 * under "auto" the two agree to float32 rounding. */
#include <conv1d/conv1d.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CHANNELS = 8, FILTERS = 16, KERNEL = 2, DILATION = 8, STEPS = 200 };

static int failed(const char* what, conv1d_status status) {
  if (status == CONV1D_OK) return 0;
  fprintf(stderr, "%s failed: status %d (%s): %s\n", what, (int)status, conv1d_status_string(status),
          conv1d_last_error_message());
  return 1;
}

/* Feeds x (STEPS frames, channels_last, batch 1) in chunks of the given
 * lengths (cycled) and writes the outputs, in order, to y. Returns 0 on success. */
static int stream_through(conv1d_stream* stream, const float* x, const int64_t* lens, size_t n_lens, float* y) {
  int64_t t0 = 0, produced = 0;
  size_t i = 0;
  while (t0 < STEPS) {
    int64_t m = lens[i++ % n_lens], out = 0, expect = 0;
    if (m > STEPS - t0) m = STEPS - t0;
    /* How many outputs the chunk completes: one per frame for a causal layer with strides 1. */
    if (failed("conv1d_stream_output_frames", conv1d_stream_output_frames(stream, m, &expect))) return 1;
    if (failed("conv1d_stream_process",
               conv1d_stream_process(stream, x + t0 * CHANNELS, (size_t)(m * CHANNELS), m, y + produced * FILTERS,
                                     (size_t)((STEPS - produced) * FILTERS), &out)))
      return 1;
    if (out != expect) {
      fprintf(stderr, "chunk of %lld frames gave %lld outputs, not %lld\n", (long long)m, (long long)out,
              (long long)expect);
      return 1;
    }
    t0 += m;
    produced += out;
  }
  return produced == STEPS ? 0 : 1;
}

int main(void) {
  static float x[STEPS * CHANNELS], whole[STEPS * FILTERS], one[STEPS * FILTERS], chunked[STEPS * FILTERS];
  static const int64_t frame_by_frame[] = {1};
  static const int64_t varied[] = {5, 0, 1, 37, 16, 3};
  conv1d_layer* layer = NULL;
  conv1d_stream* stream = NULL;
  double checksum = 0.0;
  int64_t seen = 0;
  int status = 1, i;

  printf("libconv1d %s\n", conv1d_version_string());
  /* A deterministic input in [-1, 1) from a small LCG. */
  {
    unsigned state = 12345u;
    for (i = 0; i < STEPS * CHANNELS; ++i) {
      state = state * 1103515245u + 12345u;
      x[i] = (float)((state >> 8) & 0xFFFF) / 32768.0f - 1.0f;
    }
  }

  if (failed("conv1d_create", conv1d_create(FILTERS, KERNEL, &layer))) return 1;
  if (failed("padding", conv1d_set_string(layer, CONV1D_PARAM_PADDING, "causal"))) goto done;
  if (failed("dilation_rate", conv1d_set_int(layer, CONV1D_PARAM_DILATION_RATE, DILATION))) goto done;
  if (failed("activation", conv1d_set_string(layer, CONV1D_PARAM_ACTIVATION, "tanh"))) goto done;
  if (failed("data_format", conv1d_set_int(layer, CONV1D_PARAM_DATA_FORMAT, CONV1D_CHANNELS_LAST))) goto done;
  if (failed("algorithm", conv1d_set_string(layer, CONV1D_PARAM_ALGORITHM, "direct"))) goto done;
  if (failed("seed", conv1d_set_int(layer, CONV1D_PARAM_SEED, 7))) goto done;
  if (failed("conv1d_build", conv1d_build(layer, CHANNELS))) goto done;

  /* The reference: one forward over the whole sequence. */
  if (failed("conv1d_forward", conv1d_forward(layer, x, STEPS * CHANNELS, 1, STEPS, CHANNELS, whole, STEPS * FILTERS)))
    goto done;

  if (failed("conv1d_stream_create", conv1d_stream_create(layer, 1, &stream))) goto done;
  if (stream_through(stream, x, frame_by_frame, 1, one)) goto done;
  if (failed("conv1d_stream_frames_seen", conv1d_stream_frames_seen(stream, &seen))) goto done;
  printf("frame by frame: %lld frames in, %d outputs out\n", (long long)seen, STEPS);
  if (memcmp(one, whole, sizeof whole) != 0) {
    fprintf(stderr, "the frame-by-frame outputs differ from conv1d_forward\n");
    goto done;
  }
  printf("frame by frame: bitwise equal to conv1d_forward over the whole sequence\n");

  /* Back to the start (the causal zeros come first again), then chunks of any length. */
  if (failed("conv1d_stream_reset", conv1d_stream_reset(stream))) goto done;
  if (stream_through(stream, x, varied, sizeof varied / sizeof *varied, chunked)) goto done;
  if (memcmp(chunked, whole, sizeof whole) != 0) {
    fprintf(stderr, "the chunked outputs differ from conv1d_forward\n");
    goto done;
  }
  printf("chunks of 5, 0, 1, 37, 16, 3 frames: bitwise equal to conv1d_forward\n");

  /* A bad call reports a status and changes nothing: the stream carries on. */
  {
    float frame[CHANNELS] = {0}, out[FILTERS];
    conv1d_status s = conv1d_stream_process(stream, frame, CHANNELS, 1, out, FILTERS - 1, NULL);
    printf("y too short: status %d (%s): %s\n", (int)s, conv1d_status_string(s), conv1d_last_error_message());
    if (failed("conv1d_stream_frames_seen", conv1d_stream_frames_seen(stream, &seen))) goto done;
    printf("frames seen after the failed call: %lld\n", (long long)seen);
    if (s != CONV1D_ERROR_BUFFER_TOO_SMALL || seen != STEPS) goto done;
  }

  for (i = 0; i < STEPS * FILTERS; ++i) checksum += whole[i];
  printf("checksum: %.6f\n", checksum);
  status = 0;

done:
  conv1d_stream_destroy(stream); /* before the layer: a stream must not outlive it */
  conv1d_destroy(layer);
  return status;
}
