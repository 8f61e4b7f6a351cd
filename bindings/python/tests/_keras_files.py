"""Files laid out as Keras 3 writes them (spec section 10), for the weight-file
tests: ``model.save_weights("m.weights.h5")``, ``model.save("m.keras")`` and
the legacy ``model.save("m.h5")``. Written with h5py and zipfile only; Keras
is not needed.

A model is described by its saveables: ``(path, layer name, [arrays])``,
e.g. ``("layers/conv1d_1", "encoder", [kernel, bias])``. Keras names the
paths after the snake-cased class, numbered per container in model order,
and (since Keras 3.6) stores ``layer.name`` as the ``name`` attribute of
each ``vars`` group.
"""

import io
import json
import zipfile

import numpy as np

try:
    import h5py
except ImportError:  # tests that need it are skipped (or fail, if the library reads HDF5)
    h5py = None


def write_weights_h5(target, saveables, *, model_name="sequential", names=True, optimizer=True):
    """Keras 3's weights file: one ``<path>/vars`` group per saveable holding
    the datasets "0", "1", ... in save_own_variables order (a Conv1D's kernel
    (k, C/G, F), then its bias (F,)); the model's own (empty) ``vars`` at the
    root; the InputLayer's empty group; and, for a compiled model, the
    optimizer's state. ``target`` is a path or a binary file object."""
    with h5py.File(target, "w") as f:

        def saveable(path, name, arrays):
            group = f.create_group(path + "/vars" if path else "vars")
            if names:
                group.attrs["name"] = name
            for i, array in enumerate(arrays):
                group.create_dataset(str(i), data=array)

        saveable("", model_name, [])
        saveable("layers/input_layer", "input_layer", [])
        for path, name, arrays in saveables:
            saveable(path, name, arrays)
        if optimizer:
            # Adam: iterations, learning rate, then a momentum and a velocity per trainable variable.
            state = [np.array(3, dtype=np.int64), np.array(0.001, dtype=np.float32)]
            for _, _, arrays in saveables:
                state += [np.zeros_like(a) for a in arrays] + [np.zeros_like(a) for a in arrays]
            saveable("optimizer", "adam", state)


def weights_h5_bytes(saveables, **kwargs):
    buffer = io.BytesIO()
    write_weights_h5(buffer, saveables, **kwargs)
    return buffer.getvalue()


def write_keras_archive(target, model_config, weights, *, keras_version="3.15.0"):
    """Keras 3's ``.keras`` file: a ZIP archive (entries stored, not
    compressed) holding metadata.json, config.json and model.weights.h5, in
    the order saving_lib writes them."""
    metadata = {"keras_version": keras_version, "date_saved": "2025-06-01@12:00:00"}
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
        with archive.open("metadata.json", "w") as f:
            f.write(json.dumps(metadata).encode())
        with archive.open("config.json", "w") as f:
            f.write(json.dumps(model_config).encode())
        archive.writestr("model.weights.h5", weights)


def write_legacy_h5(target, layers, *, keras2=True):
    """The legacy HDF5 model file (``model.save("m.h5")``): the group
    ``model_weights/<layer name>`` lists its datasets in ``weight_names``,
    named by variable path (``encoder/kernel:0`` from Keras 2,
    ``encoder/kernel`` from Keras 3). ``layers``: [(layer name, {weight name: array})]."""
    suffix = ":0" if keras2 else ""
    version = b"2.15.0" if keras2 else b"3.15.0"
    with h5py.File(target, "w") as f:
        f.attrs["keras_version"] = version
        f.attrs["backend"] = b"tensorflow"
        weights = f.create_group("model_weights")
        weights.attrs["layer_names"] = np.array([name.encode() for name, _ in layers])
        weights.attrs["backend"] = b"tensorflow"
        weights.attrs["keras_version"] = version
        for name, arrays in layers:
            group = weights.create_group(name)
            dataset_names = ["%s/%s%s" % (name, weight, suffix) for weight in arrays]
            group.attrs["weight_names"] = np.array([n.encode() for n in dataset_names])
            for dataset, array in zip(dataset_names, arrays.values()):
                group.create_dataset(dataset, data=array)


def conv1d_config(name, filters, kernel_size, *, strides=1, padding="valid", dilation_rate=1, groups=1,
                  activation="linear", use_bias=True, data_format="channels_last"):
    """keras.layers.Conv1D(...).get_config() as Keras 3.15 writes it."""
    return {
        "name": name,
        "trainable": True,
        "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
                  "registered_name": None},
        "filters": filters,
        "kernel_size": [kernel_size],
        "strides": [strides],
        "padding": padding,
        "data_format": data_format,
        "dilation_rate": [dilation_rate],
        "groups": groups,
        "activation": activation,
        "use_bias": use_bias,
        "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform",
                               "config": {"seed": None, "input_axes": None, "output_axes": None},
                               "registered_name": None},
        "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {},
                             "registered_name": None},
        "kernel_regularizer": None,
        "bias_regularizer": None,
        "activity_regularizer": None,
        "kernel_constraint": None,
        "bias_constraint": None,
    }


def sequential_config(input_shape, layers):
    """config.json of a Sequential model: ``keras.Sequential([keras.Input(...),
    *layers])`` serialized; ``layers`` are (class name, get_config(), input shape)."""
    batch_shape = [None] + list(input_shape)
    entries = [{"module": "keras.layers", "class_name": "InputLayer",
                "config": {"batch_shape": batch_shape, "dtype": "float32", "sparse": False, "ragged": False,
                           "name": "input_layer", "optional": False},
                "registered_name": None}]
    for class_name, config, shape in layers:
        entries.append({"module": "keras.layers", "class_name": class_name, "config": config,
                        "registered_name": None, "build_config": {"input_shape": [None] + list(shape)}})
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "sequential", "trainable": True,
                   "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
                             "registered_name": None},
                   "layers": entries, "build_input_shape": batch_shape},
        "registered_name": None,
        "build_config": {"input_shape": batch_shape},
        "compile_config": None,
    }


def layer_entries(model_config, class_name="Conv1D"):
    """Every layer entry of ``class_name`` in a model config, nested models included."""
    found = []
    for entry in model_config.get("config", {}).get("layers", []):
        if entry.get("class_name") == class_name:
            found.append(entry)
        found += layer_entries(entry, class_name)
    return found
