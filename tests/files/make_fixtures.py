"""Writes the weight files the file tests (tests/test_files.cpp) read.

Usage: python3 tests/files/make_fixtures.py OUT_DIR

Every file is laid out as Keras writes it (spec section 10): Keras 3
.weights.h5 files, .keras ZIP archives, legacy .h5 files in Keras 2 and
Keras 3 naming, and .npy files written by numpy itself. Values come from
value(i, seed) below, which the C++ tests compute too: multiples of 1/64
below 1 in magnitude, exact in float16, bfloat16, float32 and float64.
"""

import io
import json
import os
import sys
import zipfile

import numpy as np

try:
    import h5py
except ImportError:  # the library was built without HDF5: .npy files only
    h5py = None


def values(shape, seed, divisor=64.0, dtype=np.float32):
    n = int(np.prod(shape)) if shape else 1
    i = np.arange(n, dtype=np.int64)
    v = ((i * 37 + seed * 11) % 101 - 50) / divisor
    return v.reshape(shape).astype(dtype)


# The arrays the tests expect, by name: (shape, seed).
KERNEL = ((3, 2, 4), 1)  # Conv1D(4, 3) on 2 channels (or groups=2 on 4)
BIAS = ((4,), 2)
KERNEL2 = ((5, 4, 6), 3)  # Conv1D(6, 5) on 4 channels
BIAS2 = ((6,), 4)
DENSE_KERNEL = ((6, 3), 5)
DENSE_BIAS = ((3,), 6)
LORA_A = ((3, 2, 2), 7)
LORA_B = ((2, 4), 8)


def arr(spec, **kw):
    return values(*spec, **kw)


def vars_group(f, path, name, arrays):
    """A Keras 3 saveable: <path>/vars with datasets 0, 1, ... (and, since
    Keras 3.6, the layer name as an attribute)."""
    g = f.create_group(path + "/vars" if path else "vars")
    if name is not None:
        g.attrs["name"] = name
    for i, a in enumerate(arrays):
        g[str(i)] = a
    return g


def keras3_file(target, convs, names=True, extra_dense=True, optimizer=True):
    """convs: list of (path, layer name, [arrays])."""
    with h5py.File(target, "w") as f:
        vars_group(f, "", "functional" if names else None, [])
        vars_group(f, "layers/input_layer", "input_layer" if names else None, [])
        for path, name, arrays in convs:
            vars_group(f, path, name if names else None, arrays)
        if extra_dense:
            vars_group(f, "layers/dense", "dense" if names else None, [arr(DENSE_KERNEL), arr(DENSE_BIAS)])
        if optimizer:
            # Adam: iterations, learning_rate, then a momentum and a velocity per variable.
            opt = [np.array(7, dtype=np.int64), np.array(0.001, dtype=np.float32)]
            for path, _, arrays in convs:
                opt += [np.zeros_like(a) for a in arrays] * 2
            vars_group(f, "optimizer", "adam" if names else None, opt)


def h5_bytes(write):
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        write(f)
    return buf.getvalue()


def one_conv(f):
    vars_group(f, "", "sequential", [])
    vars_group(f, "layers/input_layer", "input_layer", [])
    vars_group(f, "layers/conv1d", "conv1d", [arr(KERNEL), arr(BIAS)])
    vars_group(f, "layers/dense", "dense", [arr(DENSE_KERNEL), arr(DENSE_BIAS)])


CONFIG = {
    "module": "keras",
    "class_name": "Sequential",
    "config": {
        "name": "sequential",
        "layers": [
            {"module": "keras.layers", "class_name": "InputLayer",
             "config": {"batch_shape": [None, 10, 2], "dtype": "float32", "name": "input_layer"}},
            {"module": "keras.layers", "class_name": "Conv1D",
             "config": {"name": "conv1d", "filters": 4, "kernel_size": [3], "use_bias": True},
             "build_config": {"input_shape": [None, 10, 2]}},
        ],
    },
    "registered_name": None,
}


def keras_archive(target, weights, compression=zipfile.ZIP_STORED, entry="model.weights.h5", stream=False,
                  zip64=False):
    metadata = json.dumps({"keras_version": "3.15.0", "date_saved": "2025-01-01@00:00:00"})

    class Unseekable(io.RawIOBase):
        """A pipe-like sink: zipfile then writes data descriptors."""

        def __init__(self, sink):
            self.sink = sink

        def writable(self):
            return True

        def write(self, b):
            self.sink.write(b)
            return len(b)

    with open(target, "wb") as raw:
        out = Unseekable(raw) if stream else raw
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
            with zf.open("metadata.json", "w") as f:
                f.write(metadata.encode())
            with zf.open("config.json", "w") as f:
                f.write(json.dumps(CONFIG).encode())
            info = zipfile.ZipInfo(entry, date_time=(2025, 1, 1, 0, 0, 0))
            info.compress_type = compression
            if stream or zip64:
                with zf.open(info, "w", force_zip64=zip64) as f:
                    f.write(weights)
            else:
                zf.writestr(info, weights)


def legacy_file(target, keras2, model_weights=True, layers=None):
    """model.save("x.h5") (model_weights group) or Keras 2 save_weights("x.h5")."""
    suffix = ":0" if keras2 else ""
    layers = layers or [("conv1d", [arr(KERNEL), arr(BIAS)], ["kernel", "bias"]),
                        ("dense", [arr(DENSE_KERNEL), arr(DENSE_BIAS)], ["kernel", "bias"])]
    with h5py.File(target, "w") as f:
        if model_weights:
            f.attrs["keras_version"] = b"2.15.0" if keras2 else b"3.15.0"
            f.attrs["backend"] = b"tensorflow"
            f.attrs["model_config"] = json.dumps(CONFIG).encode()
            g = f.create_group("model_weights")
        else:
            g = f
        g.attrs["layer_names"] = np.array([name.encode() for name, _, _ in layers])
        g.attrs["backend"] = b"tensorflow"
        g.attrs["keras_version"] = b"2.15.0" if keras2 else b"3.15.0"
        for name, arrays, weight_names in layers:
            lg = g.create_group(name)
            names = [f"{name}/{w}{suffix}".encode() for w in weight_names]
            lg.attrs["weight_names"] = np.array(names)
            for n, a in zip(names, arrays):
                lg.create_dataset(n.decode(), data=a)
        if model_weights and not keras2:
            top = g.create_group("top_level_model_weights")
            top.attrs["weight_names"] = np.array([])
        if model_weights and keras2:
            opt = f.create_group("optimizer_weights")
            opt.attrs["weight_names"] = np.array([b"Adam/iter:0"])
            opt.create_dataset("Adam/iter:0", data=np.array(7, dtype=np.int64))


def write_h5_fixtures(out):
    p = lambda name: os.path.join(out, name)  # noqa: E731

    # Keras >= 3.6: two Conv1D layers; the second's name differs from its path.
    keras3_file(p("two_convs.weights.h5"), [("layers/conv1d", "conv1d", [arr(KERNEL), arr(BIAS)]),
                                            ("layers/conv1d_1", "encoder", [arr(KERNEL2), arr(BIAS2)])])
    # Keras < 3.6 (no name attributes), one Conv1D among other layers.
    keras3_file(p("one_conv.weights.h5"), [("layers/conv1d", None, [arr(KERNEL), arr(BIAS)])], names=False)
    # A nested model: the Conv1D sits inside a Sequential inside the model.
    keras3_file(p("nested.weights.h5"), [("layers/sequential/layers/conv1d", "conv1d", [arr(KERNEL), arr(BIAS)]),
                                         ("layers/conv1d", "conv1d_9", [arr(KERNEL2), arr(BIAS2)])])
    keras3_file(p("nobias.weights.h5"), [("layers/conv1d", "conv1d", [arr(KERNEL)])])
    keras3_file(p("f64.weights.h5"),
                [("layers/conv1d", "conv1d", [values(*KERNEL, divisor=7.0, dtype=np.float64),
                                               values(*BIAS, divisor=7.0, dtype=np.float64)])])
    keras3_file(p("f16.weights.h5"), [("layers/conv1d", "conv1d", [arr(KERNEL, dtype=np.float16),
                                                                     arr(BIAS, dtype=np.float16)])])
    keras3_file(p("int.weights.h5"), [("layers/conv1d", "conv1d", [arr(KERNEL).astype(np.int32), arr(BIAS)])])

    # bfloat16 as Keras writes it: 2-byte raw values marked dtype="bfloat16".
    # The kernel is stored as uint16, the bias as numpy void ('V2', an HDF5
    # opaque type), the two forms h5py gives a 2-byte non-float dtype.
    def bf16_bits(a):
        return (a.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)

    with h5py.File(p("bf16.weights.h5"), "w") as f:
        g = vars_group(f, "layers/conv1d", "conv1d", [])
        g["0"] = bf16_bits(arr(KERNEL))
        g["0"].attrs["dtype"] = "bfloat16"
        g["1"] = bf16_bits(arr(BIAS)).view("V2")
        g["1"].attrs["dtype"] = "bfloat16"

    # Damaged files.
    whole = open(p("one_conv.weights.h5"), "rb").read()
    open(p("truncated.weights.h5"), "wb").write(whole[: len(whole) * 6 // 10])
    open(p("garbage.weights.h5"), "wb").write(bytes((i * 97 + 13) % 256 for i in range(4096)))

    # .keras archives around one Conv1D's weights.
    weights = h5_bytes(one_conv)
    keras_archive(p("model.keras"), weights)
    keras_archive(p("deflated.keras"), weights, compression=zipfile.ZIP_DEFLATED)
    keras_archive(p("bzip2.keras"), weights, compression=zipfile.ZIP_BZIP2)
    keras_archive(p("streamed.keras"), weights, stream=True)
    keras_archive(p("zip64.keras"), weights, zip64=True)
    keras_archive(p("npz.keras"), b"not read", entry="model.weights.npz")
    keras_archive(p("noweights.keras"), weights, entry="other.h5")
    whole = open(p("model.keras"), "rb").read()
    open(p("truncated.keras"), "wb").write(whole[: len(whole) // 2])
    # One flipped byte inside the stored model.weights.h5: the CRC catches it.
    at = whole.index(b"\x89HDF\r\n\x1a\n") + 200
    open(p("badcrc.keras"), "wb").write(whole[:at] + bytes([whole[at] ^ 0xFF]) + whole[at + 1:])

    # Legacy .h5.
    legacy_file(p("legacy_keras2.h5"), keras2=True)
    legacy_file(p("legacy_keras3.h5"), keras2=False,
                layers=[("conv1d", [arr(KERNEL), arr(BIAS)], ["kernel", "bias"]),
                        ("conv1d_1", [arr(KERNEL2), arr(BIAS2)], ["kernel", "bias"]),
                        ("dense", [arr(DENSE_KERNEL), arr(DENSE_BIAS)], ["kernel", "bias"])])
    legacy_file(p("legacy_weights_only.h5"), keras2=True, model_weights=False)


def write_npy_fixtures(out):
    p = lambda name: os.path.join(out, name)  # noqa: E731
    kernel = arr(KERNEL)
    np.save(p("kernel_f4.npy"), kernel)
    np.save(p("kernel_f8.npy"), values(*KERNEL, divisor=7.0, dtype=np.float64))
    np.save(p("kernel_f2.npy"), kernel.astype(np.float16))
    np.save(p("kernel_be.npy"), kernel.astype(">f4"))
    np.save(p("kernel_be8.npy"), kernel.astype(">f8"))
    np.save(p("kernel_fortran.npy"), np.asfortranarray(kernel))
    np.save(p("kernel_i4.npy"), kernel.astype(np.int32))
    np.save(p("kernel_wide.npy"), values((3, 3, 4), 1))
    np.save(p("kernel_rank2.npy"), values((3, 8), 1))
    np.save(p("scalar.npy"), np.float32(1.5))
    for version in ((2, 0), (3, 0)):
        with open(p("kernel_v%d.npy" % version[0]), "wb") as f:
            np.lib.format.write_array(f, kernel, version=version)
    np.save(p("bias.npy"), arr(BIAS))
    np.save(p("lora_a.npy"), arr(LORA_A))
    np.save(p("lora_b.npy"), arr(LORA_B))
    whole = open(p("kernel_f4.npy"), "rb").read()
    open(p("truncated.npy"), "wb").write(whole[:-5])
    open(p("badmagic.npy"), "wb").write(b"\x93NUMPX" + whole[6:])
    open(p("badheader.npy"), "wb").write(whole.replace(b"'shape'", b"'shapx'"))


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    write_npy_fixtures(out)
    if h5py is not None:
        write_h5_fixtures(out)
    print("fixtures written to %s (%s)" % (out, "with HDF5 files" if h5py else "npy only: no h5py"))


if __name__ == "__main__":
    main()
