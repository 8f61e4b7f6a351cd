/* libconv1d from C: one causal, dilated Conv1D layer, as in a WaveNet block.
 *
 * The Keras layer this reproduces:
 *
 *   keras.layers.Conv1D(filters=2, kernel_size=2, padding="causal",
 *                       dilation_rate=2, activation="relu", name="wavenet_block")
 *
 * run on x of shape (batch=1, steps=6, channels=1) = [1, 2, 3, 4, 5, 6] with
 * the weights below. Causal padding puts dilation*(kernel_size-1) = 2 zeros
 * before the input, so output step t sees x[t-2] (tap 0) and x[t] (tap 1):
 *
 *   filter 0: relu(0.5*x[t-2] + 1.0*x[t] + 0)     = 1, 2, 3.5, 5, 6.5, 8
 *   filter 1: relu(-1*x[t-2] + 0.25*x[t] + 1)     = 1.25, 1.5, 0.75, 0, 0, 0
 *
 * The program checks its output against those values, then shows how errors
 * are reported: a status, conv1d_status_string() and the thread's
 * conv1d_last_error_message(), with the layer left as it was. */
#include <conv1d/conv1d.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Prints a failed call's status and message; returns 1 if it failed. */
static int failed(const char* what, conv1d_status status) {
  if (status == CONV1D_OK) return 0;
  /* Copy nothing, call nothing else first: the message belongs to the last call. */
  fprintf(stderr, "%s failed: status %d (%s): %s\n", what, (int)status, conv1d_status_string(status),
          conv1d_last_error_message());
  return 1;
}

int main(void) {
  enum { BATCH = 1, STEPS = 6, CHANNELS = 1, FILTERS = 2, KERNEL = 2 };
  /* Keras layout (kernel_size, in_channels, filters): kernel[tap][channel][filter]. */
  static const float kernel[KERNEL * CHANNELS * FILTERS] = {0.5f, -1.0f, /* tap 0: filters 0, 1 */
                                                            1.0f, 0.25f /* tap 1 */};
  static const float bias[FILTERS] = {0.0f, 1.0f};
  static const float x[BATCH * STEPS * CHANNELS] = {1, 2, 3, 4, 5, 6}; /* (batch, steps, channels) */
  static const float expected[] = {1, 1.25f, 2, 1.5f, 3.5f, 0.75f, 5, 0, 6.5f, 0, 8, 0};
  conv1d_layer* layer = NULL;
  float* y = NULL;
  int64_t shape[3];
  size_t count = 0;
  int status = 1;

  /* The header and the loaded library must agree on the major version. */
  if (conv1d_version_number() / 10000 != CONV1D_VERSION_MAJOR) {
    fprintf(stderr, "header version %d, library version %u\n", CONV1D_VERSION_NUMBER, conv1d_version_number());
    return 1;
  }
  printf("libconv1d %s\n", conv1d_version_string());

  /* keras.layers.Conv1D(2, 2, padding="causal", dilation_rate=2, activation="relu", name="wavenet_block") */
  if (failed("conv1d_create", conv1d_create(FILTERS, KERNEL, &layer))) return 1;
  if (failed("padding", conv1d_set_string(layer, CONV1D_PARAM_PADDING, "causal"))) goto done;
  if (failed("dilation_rate", conv1d_set_int(layer, CONV1D_PARAM_DILATION_RATE, 2))) goto done;
  if (failed("activation", conv1d_set_string(layer, CONV1D_PARAM_ACTIVATION, "relu"))) goto done;
  if (failed("name", conv1d_set_string(layer, CONV1D_PARAM_NAME, "wavenet_block"))) goto done;
  /* The default data_format comes from keras.json; this example's arrays are channels_last. */
  if (failed("data_format", conv1d_set_int(layer, CONV1D_PARAM_DATA_FORMAT, CONV1D_CHANNELS_LAST))) goto done;

  /* Our own weights; on an unbuilt layer they also fix in_channels (here 1). */
  if (failed("conv1d_set_weights", conv1d_set_weights(layer, kernel, sizeof kernel / sizeof *kernel, bias, FILTERS)))
    goto done;

  if (failed("conv1d_output_shape", conv1d_output_shape(layer, BATCH, STEPS, shape, &count))) goto done;
  y = malloc(count * sizeof *y);
  if (!y) goto done;
  if (failed("conv1d_forward", conv1d_forward(layer, x, sizeof x / sizeof *x, BATCH, STEPS, CHANNELS, y, count)))
    goto done;

  printf("output (%lld, %lld, %lld):", (long long)shape[0], (long long)shape[1], (long long)shape[2]);
  for (size_t i = 0; i < count; ++i) printf(" %g", (double)y[i]);
  printf("\n");
  if (count != sizeof expected / sizeof *expected) goto done;
  for (size_t i = 0; i < count; ++i) {
    if (fabsf(y[i] - expected[i]) > 1e-6f) {
      fprintf(stderr, "y[%zu] = %g, expected %g\n", i, (double)y[i], (double)expected[i]);
      goto done;
    }
  }
  printf("matches the values worked out by hand\n");

  /* Errors: Keras refuses strides > 1 together with dilation_rate > 1. The call
     fails, says why, and changes nothing. */
  {
    conv1d_status s = conv1d_set_int(layer, CONV1D_PARAM_STRIDES, 2);
    int64_t strides = 0;
    printf("set strides=2: status %d (%s): %s\n", (int)s, conv1d_status_string(s), conv1d_last_error_message());
    if (s != CONV1D_ERROR_STRIDES_WITH_DILATION) goto done;
    if (failed("get strides", conv1d_get_int(layer, CONV1D_PARAM_STRIDES, &strides))) goto done;
    printf("strides is still %lld\n", (long long)strides);
  }
  /* An input with 3 channels does not fit a layer built for 1. */
  {
    static const float x3[STEPS * 3] = {0};
    conv1d_status s = conv1d_forward(layer, x3, sizeof x3 / sizeof *x3, BATCH, STEPS, 3, y, count);
    printf("forward with 3 channels: status %d (%s): %s\n", (int)s, conv1d_status_string(s),
           conv1d_last_error_message());
    if (s != CONV1D_ERROR_CHANNELS_MISMATCH) goto done;
  }
  status = 0;

done:
  free(y);
  conv1d_destroy(layer);
  return status;
}
