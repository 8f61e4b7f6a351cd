"""Train a Conv1D through the Python binding with plain SGD: recover a known
causal filter from noisy observations (the Python twin of examples/train/train.c).

    y_true = conv(x, W_true) + b_true + noise      (x uniform, noise sigma 0.01)
    loss   = mean((layer(x) - y_true)^2) + layer.regularization_loss()

Each step: forward, the loss gradient dy = 2 (y - y_true) / count,
layer.backward(x, dy, regularizers=True) for the gradients (with the L2
penalty's), an SGD update of each of layer.trainable_weights, then
layer.apply_constraints() for the MaxNorm(2, axis=[0, 1]) kernel constraint,
as a Keras optimizer would.

Run from a checkout after building (the binding finds build/libconv1d.so.1):
    PYTHONPATH=bindings/python python3 examples/python/train.py
Exits 0 when the loss falls below 3e-4 (the noise floor is 1e-4) and every
learned kernel value is within 0.02 of the true one.
"""

import sys

import numpy as np

import conv1d

FILTERS, KERNEL, CHANNELS, BATCH, STEPS, EPOCHS = 2, 5, 2, 16, 64, 300
LEARNING_RATE = 0.3

rng = np.random.default_rng(2024)

# The filter to recover, in Keras layout (kernel_size, channels, filters).
w_true = np.array([0.5, -0.3, 0.2, 0.1, -0.4, 0.6, 0.3, 0.0, 0.1, -0.2,
                   0.0, 0.4, -0.6, -0.1, 0.25, -0.5, 0.2, 0.3, 0.7, 0.15], dtype=np.float32)
w_true = w_true.reshape(KERNEL, CHANNELS, FILTERS)
b_true = np.array([0.1, -0.2], dtype=np.float32)

# The teacher makes the targets; the student has Keras' default initializers,
# an L2 penalty on the kernel and a per-filter MaxNorm constraint.
teacher = conv1d.Conv1D(FILTERS, KERNEL, padding="causal")
teacher.set_weights([w_true, b_true])
layer = conv1d.Conv1D(
    FILTERS, KERNEL, padding="causal", seed=1,
    kernel_regularizer={"class_name": "L2", "config": {"l2": 0.0001}},
    kernel_constraint={"class_name": "MaxNorm", "config": {"max_value": 2.0, "axis": [0, 1]}},
)
layer.build((None, None, CHANNELS))

for epoch in range(EPOCHS):
    x = rng.uniform(-1.0, 1.0, (BATCH, STEPS, CHANNELS)).astype(np.float32)  # a fresh batch each step
    y_true = teacher(x) + 0.01 * rng.standard_normal((BATCH, STEPS, FILTERS)).astype(np.float32)

    y = layer(x)
    error = y.astype(np.float64) - y_true
    loss = float((error ** 2).mean())
    penalty = layer.regularization_loss()
    if epoch % 25 == 0 or epoch == EPOCHS - 1:
        print("step %3d  loss %.6f  (+ L2 penalty %.6f)" % (epoch, loss, penalty))

    _, grads = layer.backward(x, 2.0 * error / error.size, input_grad=False, regularizers=True)
    for weight in layer.trainable_weights:  # kernel and bias
        weight.assign(weight.numpy() - LEARNING_RATE * grads[weight.name])
    layer.apply_constraints()

max_err = float(np.abs(layer.kernel - w_true).max())
print("final loss %.6f, largest kernel error %.4f" % (loss, max_err))
if loss > 3e-4 or max_err > 0.02:
    print("training did not converge", file=sys.stderr)
    sys.exit(1)
print("recovered the filter")
