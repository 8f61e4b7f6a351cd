"""Weights from Keras files and .npy arrays: Conv1D.load_weights,
conv1d.from_keras, Conv1D.load_npy and Conv1D.save_npy.

The Keras files are written here with h5py and zipfile in exactly Keras 3's
layout (_keras_files.py), the layers load them through the library, and the
outputs are checked against the float64 reference (_reference.py)."""

import json
import os
import pathlib
import tempfile
import zipfile

import numpy as np
import pytest

import _keras_files as kf
import _reference
import conv1d
from conv1d import Status


def _library_reads_hdf5():
    """ctest says (CONV1D_HAVE_HDF5=1/0, from the build); run by hand, ask the library."""
    flag = os.environ.get("CONV1D_HAVE_HDF5")
    if flag is not None:
        return flag == "1"
    with tempfile.NamedTemporaryFile(suffix=".weights.h5") as f:
        f.write(b"\0" * 64)
        f.flush()
        try:
            conv1d.Conv1D(1, 1).load_weights(f.name)
        except conv1d.UnsupportedError:
            return False
        except conv1d.Conv1DError:
            return True
    return True


HAVE_HDF5 = _library_reads_hdf5()
if HAVE_HDF5 and kf.h5py is None:
    raise ImportError("libconv1d reads HDF5 but h5py is missing: install python3-h5py to test it")
needs_hdf5 = pytest.mark.skipif(not HAVE_HDF5, reason="libconv1d was built without HDF5 (CONV1D_WITH_HDF5)")


def random(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def check_error(info, status, *parts):
    error = info.value
    assert isinstance(error, conv1d.Conv1DError)
    assert error.status == status, (error.status, error.message)
    for part in parts:
        assert part in error.message, (part, error.message)


# Two Conv1D layers of a Sequential model on 4 channels, as in
#   keras.Sequential([keras.Input((12, 4)), Conv1D(4, 3, padding="same", activation="relu"),
#                     Conv1D(6, 3, padding="causal", dilation_rate=2, groups=2, activation="tanh", name="encoder")])
KERNEL, BIAS = random((3, 4, 4), 1), random((4,), 2)
KERNEL2, BIAS2 = random((3, 2, 6), 3), random((6,), 4)
ENCODER = dict(padding="causal", dilation_rate=2, groups=2, activation="tanh")
SAVEABLES = [("layers/conv1d", "conv1d", [KERNEL, BIAS]), ("layers/conv1d_1", "encoder", [KERNEL2, BIAS2])]
MODEL_CONFIG = kf.sequential_config((12, 4), [
    ("Conv1D", kf.conv1d_config("conv1d", 4, 3, padding="same", activation="relu"), (12, 4)),
    ("Conv1D", kf.conv1d_config("encoder", 6, 3, **ENCODER), (12, 4)),
])
X = random((2, 12, 4), 5)


def encoder_reference(x=X):
    return _reference.conv1d(x, KERNEL2, BIAS2, **ENCODER)


@pytest.fixture
def weights_h5(tmp_path):
    path = tmp_path / "model.weights.h5"
    kf.write_weights_h5(path, SAVEABLES)
    return path


@pytest.fixture
def keras_file(tmp_path):
    path = tmp_path / "model.keras"
    kf.write_keras_archive(path, MODEL_CONFIG, kf.weights_h5_bytes(SAVEABLES))
    return path


# ---- .weights.h5, .keras and legacy .h5 -----------------------------------

@needs_hdf5
@pytest.mark.parametrize("key", ["encoder", "layers/conv1d_1", "conv1d_1"])
def test_weights_h5_builds_an_unbuilt_layer(weights_h5, key):
    layer = conv1d.Conv1D(6, 3, **ENCODER)
    assert not layer.built
    layer.load_weights(weights_h5, key=key)
    assert layer.built and layer.input_channels == 4  # 2 channels per group, 2 groups
    kernel, bias = layer.get_weights()
    assert np.array_equal(kernel, KERNEL2) and np.array_equal(bias, BIAS2)
    np.testing.assert_allclose(layer(X), encoder_reference(), rtol=1e-4, atol=1e-5)
    assert layer.get_build_config() == {"input_shape": (None, None, 4)}


@needs_hdf5
def test_weights_h5_into_a_built_layer_and_the_other_key(weights_h5):
    layer = conv1d.Conv1D(4, 3, padding="same", activation="relu")
    layer.build((None, 12, 4))
    layer.load_weights(str(weights_h5), "layers/conv1d")
    assert np.array_equal(layer.kernel, KERNEL) and np.array_equal(layer.bias, BIAS)
    expected = _reference.conv1d(X, KERNEL, BIAS, padding="same", activation="relu")
    np.testing.assert_allclose(layer(X), expected, rtol=1e-4, atol=1e-5)
    assert layer.get_build_config() == {"input_shape": (None, 12, 4)}  # built before: kept


@needs_hdf5
def test_keras_archive(keras_file):
    layer = conv1d.Conv1D(6, 3, **ENCODER)
    layer.load_weights(keras_file, "encoder")  # a pathlib.Path
    np.testing.assert_allclose(layer(X), encoder_reference(), rtol=1e-4, atol=1e-5)
    with zipfile.ZipFile(keras_file) as archive:  # the file is what Keras writes
        assert archive.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
        assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())


@needs_hdf5
def test_config_json_plus_weights_file_gives_outputs(keras_file):
    # What a Keras user has: the model's config.json (here read from the .keras
    # archive) and its weights. The layer's entry has a build_config, so
    # from_config builds it and the file's kernel must fit.
    with zipfile.ZipFile(keras_file) as archive:
        model_config = json.loads(archive.read("config.json"))
    entries = {entry["config"]["name"]: entry for entry in kf.layer_entries(model_config)}
    assert list(entries) == ["conv1d", "encoder"]

    layer = conv1d.from_keras(entries["encoder"], keras_file, key="encoder")
    assert layer.name == "encoder" and layer.get_config()["padding"] == "causal"
    assert layer.get_build_config() == {"input_shape": (None, 12, 4)}
    np.testing.assert_allclose(layer(X), encoder_reference(), rtol=1e-4, atol=1e-5)

    # The same from the .weights.h5 file and the layer's get_config() as JSON
    # text, without a build_config: the file builds the layer.
    weights = keras_file.with_name("model.weights.h5")
    kf.write_weights_h5(weights, SAVEABLES)
    text = json.dumps(entries["encoder"]["config"])
    layer = conv1d.from_keras(text, str(weights), key="layers/conv1d_1")
    np.testing.assert_allclose(layer(X), encoder_reference(), rtol=1e-4, atol=1e-5)

    # The first layer: relu on 'same' padding.
    first = conv1d.from_keras(entries["conv1d"], keras_file, key="conv1d")
    expected = _reference.conv1d(X, KERNEL, BIAS, padding="same", activation="relu")
    np.testing.assert_allclose(first(X), expected, rtol=1e-4, atol=1e-5)


@needs_hdf5
def test_from_keras_refuses_a_config_the_weights_do_not_fit(keras_file):
    entry = dict(kf.layer_entries(json.loads(json.dumps(MODEL_CONFIG)))[1], build_config={"input_shape": [None, 12, 8]})
    with pytest.raises(conv1d.ShapeMismatchError) as info:
        conv1d.from_keras(entry, keras_file, key="encoder")
    check_error(info, Status.LENGTH_MISMATCH, "(3, 2, 6)", "(3, 4, 6)")


@needs_hdf5
def test_only_conv1d_is_taken_without_a_key(tmp_path):
    # Before Keras 3.6 the vars groups carry no names; the Dense kernel is not Conv1D-like.
    dense = ("layers/dense", "dense", [random((6, 3), 6), random((3,), 7)])
    path = tmp_path / "old.weights.h5"
    kf.write_weights_h5(path, [SAVEABLES[1], dense], names=False)
    layer = conv1d.Conv1D(6, 3, **ENCODER)
    layer.load_weights(path)
    np.testing.assert_allclose(layer(X), encoder_reference(), rtol=1e-4, atol=1e-5)
    # Without the name attributes, "encoder" is no longer a key.
    with pytest.raises(conv1d.UnknownNameError) as info:
        conv1d.Conv1D(6, 3, **ENCODER).load_weights(path, "encoder")
    check_error(info, Status.UNKNOWN_NAME, "no layer 'encoder'", "layers/conv1d_1")


@needs_hdf5
@pytest.mark.parametrize("keras2", [True, False])
def test_legacy_h5(tmp_path, keras2):
    path = tmp_path / "model.h5"
    kf.write_legacy_h5(path, [("conv1d", {"kernel": KERNEL, "bias": BIAS}),
                              ("encoder", {"kernel": KERNEL2, "bias": BIAS2}),
                              ("dense", {"kernel": random((6, 3), 6), "bias": random((3,), 7)})], keras2=keras2)
    layer = conv1d.Conv1D(6, 3, **ENCODER)
    layer.load_weights(path, "encoder")
    np.testing.assert_allclose(layer(X), encoder_reference(), rtol=1e-4, atol=1e-5)


@needs_hdf5
def test_float64_and_no_bias_and_lora(tmp_path):
    kernel64 = np.random.default_rng(8).standard_normal((2, 3, 5))  # float64 in the file: rounded to float32
    path = tmp_path / "f64.weights.h5"
    kf.write_weights_h5(path, [("layers/conv1d", "conv1d", [kernel64])])
    layer = conv1d.Conv1D(5, 2, use_bias=False, data_format="channels_first")
    layer.load_weights(path)
    assert np.array_equal(layer.kernel, kernel64.astype(np.float32)) and layer.bias is None
    x = random((2, 3, 7), 9)  # channels_first
    np.testing.assert_allclose(layer(x), _reference.conv1d(x, kernel64, data_format="channels_first"),
                               rtol=1e-4, atol=1e-5)
    # A layer with a bias cannot take a file without one.
    with pytest.raises(conv1d.InvalidArgumentError) as info:
        conv1d.Conv1D(5, 2).load_weights(path)
    assert info.value.status == Status.INVALID_VALUE and "bias" in info.value.message
    # LoRA: the file holds the merged kernel; the factors are zeroed, as Keras does.
    lora = conv1d.Conv1D(5, 2, use_bias=False, data_format="channels_first", lora_rank=2)
    lora.load_weights(path)
    assert lora.lora_enabled and np.array_equal(lora.kernel, kernel64.astype(np.float32))
    assert not lora.get_weights()[1].any() and not lora.get_weights()[2].any()


# ---- errors ----------------------------------------------------------------

@needs_hdf5
def test_key_errors_list_the_candidates(weights_h5):
    layer = conv1d.Conv1D(6, 3, **ENCODER)
    with pytest.raises(conv1d.UnknownNameError) as info:
        layer.load_weights(weights_h5, key="decoder")
    check_error(info, Status.UNKNOWN_NAME, "no layer 'decoder'", "layers/conv1d (name 'conv1d', vars[0] (3, 4, 4))",
                "layers/conv1d_1 (name 'encoder', vars[0] (3, 2, 6))")
    assert isinstance(info.value, ValueError)
    with pytest.raises(conv1d.InvalidArgumentError) as info:
        layer.load_weights(weights_h5)  # two Conv1D layers: a key is needed
    check_error(info, Status.INVALID_VALUE, "holds 2 Conv1D-like layers", "layers/conv1d ", "layers/conv1d_1 ")
    with pytest.raises(conv1d.InvalidArgumentError):
        layer.load_weights(weights_h5, key="")
    assert not layer.built  # every failure leaves the layer as it was


@needs_hdf5
def test_failed_loads_leave_a_built_layer_unchanged(weights_h5):
    layer = conv1d.Conv1D(6, 3, **ENCODER, seed=3)
    layer.build((None, None, 8))  # 4 channels per group: not the file's kernel
    before = layer.get_weights()
    with pytest.raises(conv1d.ShapeMismatchError) as info:
        layer.load_weights(weights_h5, key="encoder")
    check_error(info, Status.LENGTH_MISMATCH, "(3, 2, 6)", "(3, 4, 6)")
    assert all(np.array_equal(a, b) for a, b in zip(layer.get_weights(), before))
    with pytest.raises(conv1d.ShapeMismatchError):  # kernel_size 3, filters 4: not this layer's
        layer.load_weights(weights_h5, key="conv1d")
    assert all(np.array_equal(a, b) for a, b in zip(layer.get_weights(), before))


def test_missing_and_unreadable_files_raise_oserror(tmp_path):
    layer = conv1d.Conv1D(4, 3)
    missing = tmp_path / "nowhere" / "model.weights.h5"
    with pytest.raises(OSError) as info:
        layer.load_weights(missing)
    assert isinstance(info.value, conv1d.LibraryIOError)
    check_error(info, Status.IO, str(missing), "No such file")
    assert info.value.filename == str(missing)
    with pytest.raises(conv1d.LibraryIOError) as info:
        layer.load_weights(tmp_path)  # a directory
    assert info.value.filename == str(tmp_path) and info.value.status == Status.IO
    with pytest.raises(conv1d.LibraryIOError) as info:
        layer.load_npy("kernel", os.fsencode(missing))  # bytes paths too
    assert info.value.filename == os.fsencode(missing) and str(missing) in info.value.message
    layer.build((None, None, 2))
    with pytest.raises(conv1d.LibraryIOError) as info:
        layer.save_npy("kernel", missing)
    check_error(info, Status.IO, "cannot create", str(missing))
    assert not missing.parent.exists()


@needs_hdf5
def test_corrupt_files_raise_parse_errors(keras_file, tmp_path):
    whole = keras_file.read_bytes()
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(whole[: len(whole) // 2])
    garbage = tmp_path / "garbage.weights.h5"
    garbage.write_bytes(bytes((i * 89 + 7) % 256 for i in range(2048)))
    for path in (truncated, garbage):
        with pytest.raises(conv1d.ParseError) as info:
            conv1d.Conv1D(6, 3).load_weights(path, "encoder")
        check_error(info, Status.PARSE, str(path))


def test_argument_types(tmp_path):
    layer = conv1d.Conv1D(4, 3)
    with pytest.raises(TypeError, match="str, bytes or os.PathLike"):
        layer.load_weights(3)
    with pytest.raises(ValueError, match="null byte"):
        layer.load_weights("model\0.keras")
    with pytest.raises(TypeError, match="key must be a str"):
        layer.load_weights(tmp_path / "m.keras", key=1)
    with pytest.raises(ValueError, match="null byte"):
        layer.load_weights(tmp_path / "m.keras", key="conv\0")
    with pytest.raises(ValueError, match="'kernel', 'bias', 'lora_kernel_a', 'lora_kernel_b'"):
        layer.load_npy("weights", tmp_path / "k.npy")
    with pytest.raises(ValueError, match="received 7|got 7"):
        layer.save_npy(7, tmp_path / "k.npy")
    with pytest.raises(TypeError, match="which"):
        layer.save_npy(None, tmp_path / "k.npy")
    layer.close()
    with pytest.raises(ValueError, match="closed"):
        layer.load_weights(tmp_path / "m.keras")


def test_a_library_without_the_file_functions(monkeypatch, tmp_path):
    lib = conv1d._native.lib()
    monkeypatch.setattr(lib, "load_weights_keras", lib._missing("conv1d_load_weights_keras"))
    with pytest.raises(conv1d.UnsupportedError) as info:
        conv1d.Conv1D(4, 3).load_weights(tmp_path / "m.keras")
    check_error(info, Status.UNSUPPORTED, "does not export conv1d_load_weights_keras", lib.path)


# ---- .npy ------------------------------------------------------------------

def test_npy_round_trip_through_numpy(tmp_path):
    layer = conv1d.Conv1D(6, 3, groups=2, seed=11, bias_initializer="random_normal")
    layer.build((None, None, 4))
    kernel, bias = layer.get_weights()
    layer.save_npy("kernel", tmp_path / "kernel.npy")
    layer.save_npy(conv1d.Weight.BIAS, str(tmp_path / "bias.npy"))
    saved = np.load(tmp_path / "kernel.npy")
    assert saved.dtype == np.dtype("<f4") and saved.shape == (3, 2, 6) and np.array_equal(saved, kernel)
    assert np.array_equal(np.load(tmp_path / "bias.npy"), bias)

    other = conv1d.Conv1D(6, 3, groups=2)
    other.load_npy("kernel", tmp_path / "kernel.npy")  # builds: in_channels from the shape
    assert other.built and other.input_channels == 4 and not other.bias.any()  # bias from its initializer
    other.load_npy("bias", tmp_path / "bias.npy")
    x = random((2, 9, 4), 12)
    np.testing.assert_allclose(other(x), _reference.conv1d(x, kernel, bias, groups=2), rtol=1e-4, atol=1e-5)


def test_npy_written_by_numpy_in_other_dtypes(tmp_path):
    kernel = np.random.default_rng(13).standard_normal((2, 3, 4))
    np.save(tmp_path / "k8.npy", kernel.astype(">f8"))  # big-endian float64: rounded to float32
    np.save(tmp_path / "k2.npy", kernel.astype(np.float16))
    layer = conv1d.Conv1D(4, 2, use_bias=False)
    layer.load_npy("kernel", tmp_path / "k8.npy")
    assert np.array_equal(layer.kernel, kernel.astype(np.float32))
    layer.load_npy("kernel", tmp_path / "k2.npy")
    assert np.array_equal(layer.kernel, kernel.astype(np.float16).astype(np.float32))


def test_npy_lora_factors(tmp_path):
    layer = conv1d.Conv1D(4, 3, lora_rank=2, seed=5)
    layer.build((None, None, 3))
    a, b = random((3, 3, 2), 14), random((2, 4), 15)
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    layer.load_npy("lora_kernel_a", tmp_path / "a.npy")
    layer.load_npy(conv1d.Weight.LORA_B, tmp_path / "b.npy")
    assert np.array_equal(layer.get_weights()[2], a) and np.array_equal(layer.get_weights()[3], b)
    layer.save_npy("lora_kernel_b", tmp_path / "b2.npy")
    assert np.array_equal(np.load(tmp_path / "b2.npy"), b)
    x = random((1, 8, 3), 16)
    merged = layer.get_weights()[0].astype(np.float64) + np.tensordot(a, b, axes=1)  # lora_alpha / rank = 1
    np.testing.assert_allclose(layer(x), _reference.conv1d(x, merged, layer.bias), rtol=1e-4, atol=1e-5)


def test_npy_errors(tmp_path):
    kernel = random((3, 2, 4), 17)
    np.save(tmp_path / "kernel.npy", kernel)
    np.save(tmp_path / "fortran.npy", np.asfortranarray(kernel))
    np.save(tmp_path / "wide.npy", random((3, 3, 4), 18))
    np.save(tmp_path / "ints.npy", np.ones((3, 2, 4), dtype=np.int32))
    layer = conv1d.Conv1D(4, 3)
    with pytest.raises(conv1d.StateError) as info:
        layer.load_npy("bias", tmp_path / "kernel.npy")  # not built: only the kernel builds a layer
    assert info.value.status == Status.NOT_BUILT
    with pytest.raises(conv1d.StateError):
        layer.save_npy("kernel", tmp_path / "out.npy")
    assert not (tmp_path / "out.npy").exists()
    layer.load_npy("kernel", tmp_path / "kernel.npy")
    with pytest.raises(conv1d.ShapeMismatchError) as info:
        layer.load_npy("kernel", tmp_path / "wide.npy")
    check_error(info, Status.LENGTH_MISMATCH, "(3, 3, 4)", "(3, 2, 4)")
    with pytest.raises(conv1d.UnsupportedError) as info:
        layer.load_npy("kernel", tmp_path / "fortran.npy")
    check_error(info, Status.UNSUPPORTED, "ascontiguousarray")
    with pytest.raises(conv1d.UnsupportedError):
        layer.load_npy("kernel", tmp_path / "ints.npy")
    with pytest.raises(conv1d.InvalidArgumentError) as info:
        layer.save_npy("lora_kernel_a", tmp_path / "a.npy")  # no LoRA
    assert info.value.status == Status.INVALID_VALUE and not (tmp_path / "a.npy").exists()
    truncated = tmp_path / "truncated.npy"
    truncated.write_bytes((tmp_path / "kernel.npy").read_bytes()[:-4])
    with pytest.raises(conv1d.ParseError):
        layer.load_npy("kernel", truncated)
    assert np.array_equal(layer.kernel, kernel)  # unchanged by the failures


def test_path_types(tmp_path):
    class Where:  # any os.PathLike
        def __init__(self, path):
            self.path = path

        def __fspath__(self):
            return self.path

    layer = conv1d.Conv1D(4, 3, seed=1)
    layer.build((None, None, 2))
    name = tmp_path / "poids-é-ü.npy"  # non-ASCII names pass through the file system encoding
    layer.save_npy("kernel", Where(str(name)))
    assert np.array_equal(np.load(name), layer.kernel)
    other = conv1d.Conv1D(4, 3)
    other.load_npy("kernel", os.fsencode(name))
    other.load_npy("kernel", pathlib.PurePath(name))
    assert np.array_equal(other.kernel, layer.kernel)
