/* Built against an installed libconv1d with only `pkg-config --cflags --libs
 * conv1d`. Runs a layer whose result is worked out by hand:
 *
 *   Conv1D(filters=2, kernel_size=2), 1 input channel, input x = [1, 2, 3]
 *   kernel[k][0][f]: k=0 -> {1, -1}, k=1 -> {0.5, 2};  bias = {0.25, -0.5}
 *   y[t][f] = x[t]*kernel[0][0][f] + x[t+1]*kernel[1][0][f] + bias[f]
 *     t=0: {1*1 + 2*0.5 + 0.25, 1*(-1) + 2*2 - 0.5} = {2.25, 2.5}
 *     t=1: {2*1 + 3*0.5 + 0.25, 2*(-1) + 3*2 - 0.5} = {3.75, 3.5}
 */
#include <conv1d/conv1d.h>
#include <stdio.h>
#include <string.h>

static int failures = 0;

#define EXPECT(cond)                                                   \
  do {                                                                 \
    if (!(cond)) {                                                     \
      fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                      \
    }                                                                  \
  } while (0)

#define CHECK(call)                                                                                         \
  do {                                                                                                      \
    conv1d_status s_ = (call);                                                                              \
    if (s_ != CONV1D_OK) {                                                                                  \
      fprintf(stderr, "%s failed: %s: %s\n", #call, conv1d_status_string(s_), conv1d_last_error_message()); \
      return 1;                                                                                             \
    }                                                                                                       \
  } while (0)

static int close_to(float a, float b) {
  float d = a - b;
  return d < 1e-6f && d > -1e-6f;
}

int main(void) {
  static const float kernel[4] = {1.0f, -1.0f, 0.5f, 2.0f}; /* (kernel_size=2, in_channels=1, filters=2) */
  static const float bias[2] = {0.25f, -0.5f};
  static const float x[3] = {1.0f, 2.0f, 3.0f}; /* (batch=1, steps=3, channels=1) */
  static const float expected[4] = {2.25f, 2.5f, 3.75f, 3.5f};
  float y[4] = {0};
  int64_t shape[3] = {0, 0, 0};
  size_t count = 0;
  int i;
  conv1d_layer* layer = NULL;

  EXPECT(conv1d_version_number() == CONV1D_VERSION_NUMBER);

  CHECK(conv1d_create(2, 2, &layer));
  CHECK(conv1d_set_weights(layer, kernel, 4, bias, 2));
  CHECK(conv1d_output_shape(layer, 1, 3, shape, &count));
  EXPECT(shape[0] == 1 && shape[1] == 2 && shape[2] == 2);
  EXPECT(count == 4);
  CHECK(conv1d_forward(layer, x, 3, 1, 3, 1, y, 4));
  for (i = 0; i < 4; ++i) {
    if (!close_to(y[i], expected[i])) {
      fprintf(stderr, "FAIL: y[%d] = %g, expected %g\n", i, (double)y[i], (double)expected[i]);
      ++failures;
    }
  }

  /* An error reports a status, a string for it and a message. */
  EXPECT(conv1d_forward(layer, x, 3, 1, 3, 2, y, 4) != CONV1D_OK);
  EXPECT(strlen(conv1d_last_error_message()) > 0);
  conv1d_destroy(layer);

  if (failures) {
    fprintf(stderr, "pkg-config consumer: %d check(s) failed\n", failures);
    return 1;
  }
  printf("pkg-config consumer: output shape (%lld, %lld, %lld), values as computed by hand, libconv1d %s\n",
         (long long)shape[0], (long long)shape[1], (long long)shape[2], conv1d_version_string());
  return 0;
}
