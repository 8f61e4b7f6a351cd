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
    with pytest.raises(conv1d.UnsupportedError, match="'mixed_float16'"):
        conv1d.Conv1D.from_config(dict(keras, dtype={"class_name": "DTypePolicy", "config": {"name": "mixed_float16"}}))
    with pytest.raises(conv1d.ParseError, match="'kernel_regulariser'"):  # the library names the key it refuses
        conv1d.Conv1D.from_config(dict(keras, kernel_regulariser="l2"))


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
    layer = conv1d.Conv1D(32, 3, activation="relu", seed=11)  # seeded: the statistics below cannot flake
    layer.build((4, 10, 128))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 128, 32) and kernel.dtype == np.float32
    limit = math.sqrt(6.0 / (3 * 128 + 3 * 32))  # glorot_uniform: 0.1118034
    assert abs(limit - 0.1118034) < 1e-7
    assert np.all(np.abs(kernel) <= limit)
    assert abs(float(kernel.std()) - limit / math.sqrt(3.0)) < 0.03 * limit
    # The mean of 12288 draws has standard deviation limit / sqrt(3 * 12288) = 0.0052 * limit: allow 5 of them.
    assert abs(float(kernel.mean())) < 0.026 * limit
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


def test_spec_example_byte_for_byte():
    # The library writes Keras 3.15's get_config(): the same keys, in the same
    # order, with the same values, so the JSON text is identical.
    layer = conv1d.Conv1D(32, 3, activation="relu")
    spec = json.loads(KERAS_CONFIG_JSON)
    assert json.dumps(layer.get_config()) == json.dumps(spec)
    raw = layer._lib.get_text(layer._lib.get_config, layer._h(), 0)
    assert raw == json.dumps(spec, separators=(",", ":"))
    assert json.dumps(conv1d.Conv1D.from_config(KERAS_CONFIG_JSON).get_config()) == json.dumps(spec)


def test_training_arguments_round_trip_in_keras_order():
    layer = conv1d.Conv1D(
        8, 5, padding="causal", dilation_rate=2, groups=2, use_bias=False, name="enc",
        kernel_regularizer={"class_name": "L1L2", "config": {"l1": 0.01, "l2": 0.02}},
        bias_regularizer="l1", activity_regularizer={"class_name": "L2", "config": {"l2": 0.001}},
        bias_constraint="non_neg", lora_rank=2, lora_alpha=4, trainable=False,
    )
    config = layer.get_config()
    # Layer.get_config puts a set activity_regularizer right after dtype; BaseConv keeps that
    # position; lora_rank and lora_alpha come last, only when LoRA is set.
    assert list(config) == [
        "name", "trainable", "dtype", "activity_regularizer", "filters", "kernel_size", "strides", "padding",
        "data_format", "dilation_rate", "groups", "activation", "use_bias", "kernel_initializer",
        "bias_initializer", "kernel_regularizer", "bias_regularizer", "kernel_constraint", "bias_constraint",
        "lora_rank", "lora_alpha",
    ]
    assert config["trainable"] is False and (config["lora_rank"], config["lora_alpha"]) == (2, 4)
    assert config["kernel_regularizer"] == {"module": "keras.regularizers", "class_name": "L1L2",
                                            "config": {"l1": 0.01, "l2": 0.02}, "registered_name": None}
    assert config["bias_regularizer"]["config"] == {"l1": 0.01}  # "l1" is L1() with its default
    assert config["bias_constraint"]["class_name"] == "NonNeg" and config["kernel_constraint"] is None
    assert layer.kernel_regularizer == config["kernel_regularizer"] and layer.bias_constraint["class_name"] == "NonNeg"
    again = conv1d.Conv1D.from_config(json.loads(json.dumps(config)))
    assert json.dumps(again.get_config()) == json.dumps(config)
    assert again.trainable is False and again.lora_rank == 2 and again.lora_alpha == 4 and not again.built


def test_model_entry_with_build_config_builds_and_round_trips():
    entry = {
        "module": "keras.layers", "class_name": "Conv1D",
        "config": dict(json.loads(KERAS_CONFIG_JSON), name="conv1d_3"),
        "registered_name": None,
        "build_config": {"input_shape": [None, 10, 128]},
    }
    layer = conv1d.Conv1D.from_config(entry)
    assert layer.built and layer.input_channels == 128 and layer.name == "conv1d_3"
    assert layer.get_weights()[0].shape == (3, 128, 32)
    assert json.dumps(layer.serialize()) == json.dumps(entry)  # the steps given to build are kept
    assert json.dumps(conv1d.serialize(layer)) == json.dumps(entry)
    assert conv1d.deserialize(entry).built
    # channels_first reads the channels from axis 1; a layer built by set_weights only knows them.
    first = dict(entry, config=dict(entry["config"], data_format="channels_first"),
                 build_config={"input_shape": [None, 6, None]})
    layer = conv1d.Conv1D.from_config(first)
    assert layer.input_channels == 6 and layer.get_build_config() == {"input_shape": (None, 6, None)}
    made = conv1d.Conv1D(2, 1)
    made.set_weights([np.ones((1, 3, 2)), np.zeros(2)])
    assert made.serialize()["build_config"] == {"input_shape": (None, None, 3)}


def test_from_config_without_build_config_builds_on_first_call():
    layer = conv1d.Conv1D.from_config({"module": "keras.layers", "class_name": "Conv1D",
                                       "config": json.loads(KERAS_CONFIG_JSON), "registered_name": None})
    assert not layer.built and layer.weights == [] and "build_config" not in layer.serialize()
    y = layer(np.ones((2, 10, 7), dtype=np.float32))
    assert y.shape == (2, 8, 32) and layer.input_channels == 7
    assert layer.get_build_config() == {"input_shape": (2, 10, 7)}


def test_bias_initializer_none_is_written_as_glorot_uniform():
    # Keras writes None back as null, which means glorot_uniform when the bias is
    # made; the library writes the initializer it uses, so the config says so.
    config = conv1d.Conv1D(4, 3, bias_initializer=None).get_config()
    assert config["bias_initializer"]["class_name"] == "GlorotUniform"
    layer = conv1d.Conv1D.from_config(dict(config, bias_initializer=None))
    assert layer.get_config()["bias_initializer"] == config["bias_initializer"]


def test_from_config_refuses_what_the_library_refuses():
    keras = json.loads(KERAS_CONFIG_JSON)
    with pytest.raises(conv1d.ParseError, match="'padding_mode'"):
        conv1d.Conv1D.from_config(dict(keras, padding_mode="zeros"))
    with pytest.raises(conv1d.UnsupportedError, match="Conv2D"):
        conv1d.Conv1D.from_config({"class_name": "Conv2D", "config": keras})
    with pytest.raises(conv1d.ParseError, match="not JSON"):
        conv1d.Conv1D.from_config("{")
    with pytest.raises(TypeError, match="config dict"):
        conv1d.Conv1D.from_config(["not", "a", "dict"])
    # numpy values in a config dict are plain JSON numbers.
    layer = conv1d.Conv1D.from_config(dict(keras, filters=np.int64(6), kernel_size=(np.int32(2),)))
    assert layer.filters == 6 and layer.kernel_size == (2,)


def test_copies_keep_lora_and_training_arguments():
    layer = conv1d.Conv1D(4, 3, lora_rank=2, lora_alpha=3, kernel_regularizer="l2", trainable=False, seed=4)
    layer.build((None, None, 3))
    layer.weights[3].assign(np.full((2, 4), 0.5))
    x = np.random.default_rng(16).standard_normal((1, 6, 3)).astype(np.float32)
    for clone in (copy.deepcopy(layer), pickle.loads(pickle.dumps(layer))):
        assert clone.lora_enabled and clone.get_config() == layer.get_config()
        assert all(np.array_equal(a, b) for a, b in zip(clone.get_weights(), layer.get_weights()))
        assert np.array_equal(clone(x), layer(x))
