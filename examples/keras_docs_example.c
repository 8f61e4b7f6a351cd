/* The Keras docs example through the C API:
 *   x = np.random.rand(4, 10, 128)
 *   y = keras.layers.Conv1D(32, 3, activation="relu")(x)   # y.shape == (4, 8, 32)
 * Prints the output shape, the algorithm that ran and a timing. */
#define _POSIX_C_SOURCE 199309L
#include <conv1d/conv1d.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CHECK(call)                                                                                         \
  do {                                                                                                      \
    conv1d_status s_ = (call);                                                                              \
    if (s_ != CONV1D_OK) {                                                                                  \
      fprintf(stderr, "%s failed: %s: %s\n", #call, conv1d_status_string(s_), conv1d_last_error_message()); \
      exit(1);                                                                                              \
    }                                                                                                       \
  } while (0)

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(void) {
  const int64_t batch = 4, steps = 10, channels = 128;
  conv1d_layer* layer = NULL;
  CHECK(conv1d_create(32, 3, &layer));
  CHECK(conv1d_set_string(layer, CONV1D_PARAM_ACTIVATION, "relu"));
  CHECK(conv1d_set_int(layer, CONV1D_PARAM_SEED, 42));
  CHECK(conv1d_build(layer, channels));

  float* x = malloc(sizeof(float) * (size_t)(batch * steps * channels));
  if (!x) return 1;
  srand(1);
  for (int64_t i = 0; i < batch * steps * channels; ++i) x[i] = (float)rand() / (float)RAND_MAX;

  int64_t shape[3];
  size_t count = 0;
  CHECK(conv1d_output_shape(layer, batch, steps, shape, &count));
  float* y = malloc(sizeof(float) * count);
  if (!y) return 1;
  CHECK(conv1d_forward(layer, x, (size_t)(batch * steps * channels), batch, steps, channels, y, count));

  const int reps = 1000;
  const double t0 = now_seconds();
  for (int r = 0; r < reps; ++r)
    CHECK(conv1d_forward(layer, x, (size_t)(batch * steps * channels), batch, steps, channels, y, count));
  const double per_call = (now_seconds() - t0) / reps;

  conv1d_algorithm algo;
  CHECK(conv1d_query_algorithm(layer, batch, steps, &algo));
  size_t kernel_len = 0, bias_len = 0;
  CHECK(conv1d_weight_sizes(layer, &kernel_len, &bias_len));

  float ymin = y[0];
  for (size_t i = 1; i < count; ++i) ymin = y[i] < ymin ? y[i] : ymin;
  printf("libconv1d %s\n", conv1d_version_string());
  printf("Conv1D(32, 3, activation='relu') on input (4, 10, 128)\n");
  printf("output shape: (%lld, %lld, %lld)\n", (long long)shape[0], (long long)shape[1], (long long)shape[2]);
  printf("parameters: %zu (kernel %zu + bias %zu)\n", kernel_len + bias_len, kernel_len, bias_len);
  printf("min output: %g (relu keeps it >= 0)\n", (double)ymin);
  printf("algorithm: %s\n", conv1d_algorithm_name(algo));
  printf("time per forward call: %.2f us (mean of %d calls)\n", per_call * 1e6, reps);

  free(x);
  free(y);
  conv1d_destroy(layer);
  return 0;
}
