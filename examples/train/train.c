/*
 * Train a Conv1D from C with plain SGD: recover a known causal filter from
 * noisy observations.
 *
 *   y_true = conv(x, W_true) + b_true + noise      (x random, noise sigma 0.01)
 *   loss   = mean((layer(x) - y_true)^2) + L2(1e-4) penalty on the kernel
 *
 * Each step: forward, the loss gradient dy = 2 (y - y_true) / count,
 * conv1d_backward (with the regularizer's gradient), an SGD update written
 * back with conv1d_set_weight, then conv1d_apply_constraints for the
 * MaxNorm(2, axis=[0, 1]) kernel constraint, as a Keras optimizer would.
 *
 * Exits 0 when the loss falls below 3e-4 (the noise floor is 1e-4) and every
 * learned kernel value is within 0.02 of the true one.
 */
#include <conv1d/conv1d.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { FILTERS = 2, KERNEL = 5, CHANNELS = 2, BATCH = 16, STEPS = 64, EPOCHS = 300 };
enum { KERNEL_LEN = KERNEL * CHANNELS * FILTERS, X_LEN = BATCH * STEPS * CHANNELS, Y_LEN = BATCH * STEPS * FILTERS };

static int check(conv1d_status s, const char* what) {
  if (s != CONV1D_OK) {
    fprintf(stderr, "%s failed: %s: %s\n", what, conv1d_status_string(s), conv1d_last_error_message());
    exit(1);
  }
  return 0;
}

/* xorshift64* in [-1, 1), and a Box-Muller normal. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static float uniform(void) {
  rng_state ^= rng_state >> 12, rng_state ^= rng_state << 25, rng_state ^= rng_state >> 27;
  return (float)((double)((rng_state * 0x2545F4914F6CDD1Dull) >> 11) / 4503599627370496.0 - 1.0);
}
static float normal(void) {
  const double u1 = 0.5 * (uniform() + 1.0) + 1e-12, u2 = 0.5 * (uniform() + 1.0);
  return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

int main(void) {
  /* The filter to recover, in Keras layout (kernel_size, channels, filters). */
  static const float w_true[KERNEL_LEN] = {0.5f, -0.3f, 0.2f,  0.1f,  -0.4f, 0.6f,  0.3f, 0.0f, 0.1f, -0.2f,
                                           0.0f, 0.4f,  -0.6f, -0.1f, 0.25f, -0.5f, 0.2f, 0.3f, 0.7f, 0.15f};
  static const float b_true[FILTERS] = {0.1f, -0.2f};
  static float x[X_LEN], y_true[Y_LEN], y[Y_LEN], dy[Y_LEN], kernel[KERNEL_LEN], dkernel[KERNEL_LEN];
  float bias[FILTERS], dbias[FILTERS];
  conv1d_layer* teacher = NULL;
  conv1d_layer* layer = NULL;
  const float learning_rate = 0.3f;
  double loss = 0.0, penalty = 0.0, max_err = 0.0;
  int epoch, i;

  /* The teacher layer makes the targets. */
  check(conv1d_create(FILTERS, KERNEL, &teacher), "create teacher");
  check(conv1d_set_string(teacher, CONV1D_PARAM_PADDING, "causal"), "padding");
  check(conv1d_set_weights(teacher, w_true, KERNEL_LEN, b_true, FILTERS), "teacher weights");

  /* The student: same geometry, Keras' default initializers, an L2 penalty
     on the kernel and a per-filter MaxNorm constraint. */
  check(conv1d_create(FILTERS, KERNEL, &layer), "create");
  check(conv1d_set_string(layer, CONV1D_PARAM_PADDING, "causal"), "padding");
  check(conv1d_set_string(layer, CONV1D_PARAM_KERNEL_REGULARIZER,
                          "{\"class_name\": \"L2\", \"config\": {\"l2\": 0.0001}}"),
        "kernel_regularizer");
  check(conv1d_set_string(layer, CONV1D_PARAM_KERNEL_CONSTRAINT,
                          "{\"class_name\": \"MaxNorm\", \"config\": {\"max_value\": 2.0, \"axis\": [0, 1]}}"),
        "kernel_constraint");
  check(conv1d_set_int(layer, CONV1D_PARAM_SEED, 1), "seed");
  check(conv1d_build(layer, CHANNELS), "build");

  for (epoch = 0; epoch < EPOCHS; ++epoch) {
    /* A fresh batch of data each step. */
    for (i = 0; i < X_LEN; ++i) x[i] = uniform();
    check(conv1d_forward(teacher, x, X_LEN, BATCH, STEPS, CHANNELS, y_true, Y_LEN), "teacher forward");
    for (i = 0; i < Y_LEN; ++i) y_true[i] += 0.01f * normal();

    check(conv1d_forward(layer, x, X_LEN, BATCH, STEPS, CHANNELS, y, Y_LEN), "forward");
    loss = 0.0;
    for (i = 0; i < Y_LEN; ++i) {
      const float d = y[i] - y_true[i];
      loss += (double)d * d;
      dy[i] = 2.0f * d / Y_LEN;
    }
    loss /= Y_LEN;
    check(conv1d_regularization_loss(layer, NULL, 0, 0, 0, &penalty), "regularization_loss");
    if (epoch % 25 == 0 || epoch == EPOCHS - 1)
      printf("step %3d  loss %.6f  (+ L2 penalty %.6f)\n", epoch, loss, penalty);

    check(conv1d_backward(layer, x, X_LEN, BATCH, STEPS, CHANNELS, dy, Y_LEN, NULL, 0, dkernel, KERNEL_LEN, dbias,
                          FILTERS, CONV1D_BACKWARD_REGULARIZERS),
          "backward");
    check(conv1d_get_weight(layer, CONV1D_WEIGHT_KERNEL, kernel, KERNEL_LEN), "get kernel");
    check(conv1d_get_weight(layer, CONV1D_WEIGHT_BIAS, bias, FILTERS), "get bias");
    for (i = 0; i < KERNEL_LEN; ++i) kernel[i] -= learning_rate * dkernel[i];
    for (i = 0; i < FILTERS; ++i) bias[i] -= learning_rate * dbias[i];
    check(conv1d_set_weight(layer, CONV1D_WEIGHT_KERNEL, kernel, KERNEL_LEN), "set kernel");
    check(conv1d_set_weight(layer, CONV1D_WEIGHT_BIAS, bias, FILTERS), "set bias");
    check(conv1d_apply_constraints(layer), "apply_constraints");
  }

  check(conv1d_get_weight(layer, CONV1D_WEIGHT_KERNEL, kernel, KERNEL_LEN), "get kernel");
  for (i = 0; i < KERNEL_LEN; ++i) {
    const double e = fabs((double)kernel[i] - w_true[i]);
    if (e > max_err) max_err = e;
  }
  printf("final loss %.6f, largest kernel error %.4f\n", loss, max_err);
  conv1d_destroy(layer);
  conv1d_destroy(teacher);
  if (loss > 3e-4 || max_err > 0.02) {
    fprintf(stderr, "training did not converge\n");
    return 1;
  }
  printf("recovered the filter\n");
  return 0;
}
