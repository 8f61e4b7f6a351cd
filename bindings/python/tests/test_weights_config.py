"""Weights in Keras layout, initializers, get_config/from_config and copies."""

import copy
import json
import math
import pickle

import numpy as np
import pytest

import _reference
import conv1d

# keras.layers.Conv1D(32, 3, activation="relu").get_config() as JSON, Keras >= 3.15.
KERAS_CONFIG_JSON = """
{
  "name": "conv1d",
  "trainable": true,
  "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null},
  "filters": 32,
  "kernel_size": [3],
  "strides": [1],
  "padding": "valid",
  "data_format": "channels_last",
  "dilation_rate": [1],
  "groups": 1,
  "activation": "relu",
  "use_bias": true,
  "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
                         "config": {"seed": null, "input_axes": null, "output_axes": null}, "registered_name": null},
  "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null},
  "kernel_regularizer": null,
  "bias_regularizer": null,
  "activity_regularizer": null,
  "kernel_constraint": null,
  "bias_constraint": null
}
"""


def as_json(config):
    return json.loads(json.dumps(config))


def test_keras_docs_config_is_keras_json():
    layer = conv1d.Conv1D(32, 3, activation="relu")
    keras = json.loads(KERAS_CONFIG_JSON)
    config = layer.get_config()
    assert list(config) == list(keras)  # Keras' key order
    assert as_json(config) == keras
    assert config["kernel_size"] == (3,) and config["strides"] == (1,)  # tuples, as Keras has them


def test_from_keras_json():
    keras = json.loads(KERAS_CONFIG_JSON)
    layer = conv1d.Conv1D.from_config(keras)
    assert as_json(layer.get_config()) == keras
    # Older Keras wrote dtype as a string and GlorotUniform's config without the axes.
    older = dict(keras, dtype="float32", name="conv1d_7")
    older["kernel_initializer"] = {"module": "keras.initializers", "class_name": "GlorotUniform",
                                   "config": {"seed": None}, "registered_name": None}
    layer = conv1d.Conv1D.from_config(older)
    assert layer.name == "conv1d_7"
    assert as_json(layer.get_config())["kernel_initializer"] == keras["kernel_initializer"]
    with pytest.raises(NotImplementedError, match="float32"):
        conv1d.Conv1D.from_config(dict(keras, dtype={"class_name": "DTypePolicy", "config": {"name": "bfloat16"}}))
    with pytest.raises(NotImplementedError, match="kernel_regularizer"):
        conv1d.Conv1D.from_config(dict(keras, kernel_regularizer={"class_name": "L2", "config": {"l2": 0.01}}))


def test_config_round_trip_with_every_argument_changed():
    layer = conv1d.Conv1D(
        6, (5,), strides=[2], padding="Causal", data_format="channels_first", dilation_rate=1, groups=3,
        activation="gelu", use_bias=False,
        kernel_initializer={"class_name": "HeNormal", "config": {"seed": 7}},
        bias_initializer={"class_name": "Constant", "config": {"value": 0.25}},
        name="my_conv", trainable=False,
    )
    config = layer.get_config()
    assert config["name"] == "my_conv" and config["trainable"] is False
    geometry = (config["filters"], config["kernel_size"], config["strides"], config["dilation_rate"])
    assert geometry == (6, (5,), (2,), (1,))
    assert (config["padding"], config["data_format"], config["groups"]) == ("causal", "channels_first", 3)
    assert (config["activation"], config["use_bias"]) == ("gelu", False)
    assert config["kernel_initializer"]["class_name"] == "HeNormal"
    assert config["kernel_initializer"]["config"]["seed"] == 7
    assert config["bias_initializer"]["config"] == {"value": 0.25}
    again = conv1d.Conv1D.from_config(config)
    assert again.get_config() == config
    through_json = conv1d.Conv1D.from_config(json.loads(json.dumps(config)))
    assert through_json.get_config() == config
    # Same seeded initializer, same weights.
    layer.build((None, 6, 20))
    again.build((None, 6, 20))
    assert np.array_equal(layer.kernel, again.kernel)
    assert layer.bias is None and layer.get_weights()[0].shape == (5, 2, 6)


def test_default_weights_follow_the_initializers():
    layer = conv1d.Conv1D(32, 3, activation="relu")
    layer.build((4, 10, 128))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 128, 32) and kernel.dtype == np.float32
    limit = math.sqrt(6.0 / (3 * 128 + 3 * 32))  # glorot_uniform: 0.1118034
    assert abs(limit - 0.1118034) < 1e-7
    assert np.all(np.abs(kernel) <= limit)
    assert abs(float(kernel.std()) - limit / math.sqrt(3.0)) < 0.03 * limit
    assert abs(float(kernel.mean())) < 0.01 * limit
    assert np.array_equal(bias, np.zeros(32, dtype=np.float32))


def test_initializer_names_and_dicts():
    layer = conv1d.Conv1D(4, 2, kernel_initializer={"class_name": "Constant", "config": {"value": 0.5}},
                          bias_initializer="ones")
    layer.build((None, None, 3))
    assert np.array_equal(layer.kernel, np.full((2, 3, 4), 0.5, dtype=np.float32))
    assert np.array_equal(layer.bias, np.ones(4, dtype=np.float32))
    # x of ones: every output is 2 taps * 3 channels * 0.5 + 1 = 4.
    assert np.array_equal(layer(np.ones((1, 5, 3))), np.full((1, 4, 4), 4.0, dtype=np.float32))
    # bias_initializer=None is Keras' None: a glorot_uniform bias, limit sqrt(3 / filters).
    glorot_bias = conv1d.Conv1D(32, 1, bias_initializer=None, seed=3)
    glorot_bias.build((None, None, 2))
    assert np.all(np.abs(glorot_bias.bias) <= math.sqrt(3.0 / 32)) and np.any(glorot_bias.bias != 0.0)


def test_seeds():
    def kernel_of(seed):
        layer = conv1d.Conv1D(8, 3, seed=seed)
        layer.build((None, None, 4))
        return layer.kernel

    assert np.array_equal(kernel_of(42), kernel_of(42))
    assert not np.array_equal(kernel_of(42), kernel_of(43))
    assert not np.array_equal(kernel_of(None), kernel_of(None))
    layer = conv1d.Conv1D(8, 3)
    assert layer.seed is None
    layer.seed = 9
    assert layer.seed == 9


def test_set_get_weights_round_trip():
    rng = np.random.default_rng(12)
    kernel = rng.standard_normal((3, 5, 4)).astype(np.float32)
    bias = rng.standard_normal(4).astype(np.float32)
    layer = conv1d.Conv1D(4, 3)
    layer.set_weights([kernel, bias])  # builds: in_channels follows from the kernel
    assert layer.built and layer.input_channels == 5
    got_kernel, got_bias = layer.get_weights()
    assert np.array_equal(got_kernel, kernel) and np.array_equal(got_bias, bias)
    assert np.array_equal(layer.kernel, kernel) and np.array_equal(layer.bias, bias)
    # get_weights hands out copies.
    got_kernel[...] = 0.0
    assert np.array_equal(layer.kernel, kernel)
    # float64 and non-contiguous weights are converted.
    layer.set_weights([np.asfortranarray(kernel.astype(np.float64) * 2.0), bias[::-1]])
    assert np.array_equal(layer.kernel, kernel * 2.0) and np.array_equal(layer.bias, bias[::-1])
    assert layer.get_build_config() == {"input_shape": (None, None, 5)}


def test_set_weights_with_groups_infers_channels():
    rng = np.random.default_rng(13)
    kernel = rng.standard_normal((3, 4, 6)).astype(np.float32)  # groups=2: 8 input channels
    layer = conv1d.Conv1D(6, 3, groups=2, use_bias=False)
    layer.set_weights([kernel])
    assert layer.input_channels == 8 and len(layer.get_weights()) == 1
    x = rng.standard_normal((2, 9, 8)).astype(np.float32)
    np.testing.assert_allclose(layer(x), _reference.conv1d(x, kernel, groups=2), rtol=1e-4, atol=1e-5)


def test_copies_and_pickles_are_independent_layers():
    rng = np.random.default_rng(14)
    layer = conv1d.Conv1D(5, 3, padding="same", activation="tanh", name="orig", algorithm="gemm", num_threads=1)
    layer.build((None, None, 4))
    x = rng.standard_normal((2, 7, 4)).astype(np.float32)
    y = layer(x)
    clones = [copy.copy(layer), copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))]
    layer.close()
    for clone in clones:
        assert clone.name == "orig" and clone.algorithm == "gemm" and clone.num_threads == 1
        assert np.array_equal(clone(x), y)
    unbuilt = copy.deepcopy(conv1d.Conv1D(3, 1))
    assert not unbuilt.built


def test_execution_settings():
    layer = conv1d.Conv1D(4, 3, algorithm="reference", num_threads=2, verbose=False, find=True)
    assert (layer.algorithm, layer.num_threads, layer.verbose, layer.find) == ("reference", 2, False, True)
    layer.algorithm = "direct"
    layer.num_threads = 0
    layer.find = False
    assert (layer.algorithm, layer.num_threads, layer.find) == ("direct", 0, False)
    assert "algorithm" not in layer.get_config()  # not part of the Keras config
    assert conv1d.cpu_isa() in ("scalar", "avx2", "avx512")
    assert conv1d.version().startswith("1.")
