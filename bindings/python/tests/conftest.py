"""Test environment: the library reads keras.json (for the default
data_format) from $KERAS_HOME when it creates a layer, so the tests point it
at a directory that does not exist and get Keras' defaults whatever the
user's ~/.keras says."""

import os
import tempfile

os.environ["KERAS_HOME"] = os.path.join(tempfile.gettempdir(), "conv1d-python-tests-no-keras-home-%d" % os.getpid())
