"""The Keras docs example through the Python binding:

    x = np.random.rand(4, 10, 128)
    y = keras.layers.Conv1D(32, 3, activation="relu")(x)   # y.shape == (4, 8, 32)

Run from a checkout after building (the binding finds build/libconv1d.so.1):
    PYTHONPATH=bindings/python python3 examples/python/keras_docs_example.py
The input is a fixed pattern and the initializer seed is 42, so the checksum
is the same on every run and equals the Node example's.
"""

import math

import numpy as np

import conv1d

BATCH, STEPS, CHANNELS = 4, 10, 128

# Values in [0, 1), like np.random.rand, but reproducible in any language.
x = ((np.arange(BATCH * STEPS * CHANNELS) * 7919) % 1000 / 1000.0).reshape(BATCH, STEPS, CHANNELS)

with conv1d.Conv1D(32, 3, activation="relu", seed=42) as layer:
    y = layer(x)  # float64 input is converted to float32; the layer builds for 128 channels
    print("libconv1d %s (%s)" % (conv1d.version(), conv1d.library_path()))
    print("Conv1D(32, 3, activation='relu') on input %s" % (x.shape,))
    print("output shape: %s" % (y.shape,))
    print("parameters: %d" % layer.count_params())
    print("plan: %s" % layer.describe_plan(BATCH, STEPS))
    print("checksum: %.6f" % math.fsum(y.astype(np.float64).ravel()))
    assert y.shape == (4, 8, 32) and y.min() >= 0.0
