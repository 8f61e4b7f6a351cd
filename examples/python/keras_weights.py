"""A Conv1D trained in Keras, run by libconv1d: its config plus the weights
Keras saved give the outputs, with no Keras installed.

    python3 examples/python/keras_weights.py model.keras [LAYER_NAME]
    python3 examples/python/keras_weights.py config.json WEIGHTS [LAYER_NAME]

The first form reads what model.save("model.keras") writes: the model's
config (config.json in the archive) and its weights (model.weights.h5 in
it). The second takes a config.json (a model's config, or one layer's
get_config() or model entry) and a weights file: model.save_weights(
"model.weights.h5"), a .keras archive, or a legacy .h5. LAYER_NAME picks the
Conv1D when the model has several. The layer runs on a fixed input (the
steps of its build_config, else 10) and the output is summarized; the
checksum equals that of examples/node/keras_weights.js for the same files.

Run from a checkout after building (the binding finds build/libconv1d.so.1):
    PYTHONPATH=bindings/python python3 examples/python/keras_weights.py model.keras
"""

import json
import sys
import zipfile

import numpy as np

import conv1d


def conv1d_entries(node):
    """The Conv1D layers of a Keras config: a model's config.json (nested
    models included), a layer's model entry, or a layer's get_config()."""
    if node.get("class_name") == "Conv1D" or "filters" in node:
        return [node]
    return [entry for layer in node.get("config", {}).get("layers", []) for entry in conv1d_entries(layer)]


def name_of(entry):
    return entry["config"]["name"] if "config" in entry else entry["name"]


def main(argv):
    if len(argv) in (2, 3) and zipfile.is_zipfile(argv[1]):
        with zipfile.ZipFile(argv[1]) as archive:
            config = json.loads(archive.read("config.json"))
        weights, rest = argv[1], argv[2:]
    elif len(argv) in (3, 4):
        with open(argv[1], encoding="utf-8") as f:
            config = json.load(f)
        weights, rest = argv[2], argv[3:]
    else:
        sys.exit(__doc__)

    entries = conv1d_entries(config)
    names = [name_of(entry) for entry in entries]
    chosen = [entry for entry in entries if not rest or name_of(entry) == rest[0]]
    if not entries:
        sys.exit("%s has no Conv1D layer" % argv[1])
    if not chosen:
        sys.exit("%s has no Conv1D layer named %r; its Conv1D layers: %s" % (argv[1], rest[0], ", ".join(names)))
    if len(chosen) > 1:
        sys.exit("%s has several Conv1D layers; choose one by name: %s" % (argv[1], ", ".join(names)))
    entry = chosen[0]
    # The layer's Keras name finds its weights in files from Keras 3.6 and later
    # and in legacy .h5 files. With one Conv1D in the model no key is needed,
    # which also suits older .weights.h5 files: their paths (layers/conv1d_1)
    # follow the class, not the layer name.
    key = name_of(entry) if len(names) > 1 else None

    try:
        layer = conv1d.from_keras(entry, weights, key)
    except conv1d.Conv1DError as error:
        sys.exit("cannot load the layer: %s" % error)
    with layer:
        build = layer.get_build_config()["input_shape"]
        channels_last = layer.data_format == "channels_last"
        steps = (build[1] if channels_last else build[2]) or 10
        channels = layer.input_channels
        shape = (2, steps, channels) if channels_last else (2, channels, steps)
        # Values in [0, 1), reproducible in any language.
        x = ((np.arange(int(np.prod(shape))) * 7919) % 1000 / 1000.0).reshape(shape).astype(np.float32)
        y = layer(x)

        print("libconv1d %s" % conv1d.version())
        print("Conv1D %r: filters=%d, kernel_size=%r, strides=%r, padding=%r, dilation_rate=%r, groups=%d, "
              "activation=%r" % (layer.name, layer.filters, layer.kernel_size, layer.strides, layer.padding,
                                 layer.dilation_rate, layer.groups, layer.activation))
        print("weights from %s: %s" % (weights, ", ".join("%s %s" % (w.name, w.shape) for w in layer.weights)))
        print("input shape: %s" % (x.shape,))
        print("output shape: %s" % (y.shape,))
        print("first outputs: %s" % " ".join("%.6f" % v for v in y.ravel()[:6]))
        checksum = 0.0
        for v in y.ravel():  # in order, in double precision, as the Node example sums
            checksum += float(v)
        print("checksum: %.6f" % checksum)


if __name__ == "__main__":
    main(sys.argv)
