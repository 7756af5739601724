#!/usr/bin/python3
"""Writes small legacy Keras .h5 files with h5py, one per way h5py stores strings.

  make_string_fixtures.py OUT_DIR

Each file holds the same model (Keras 2 layout: InputLayer folded into LSTM(3) -> Dense(1), a model
name with non-ASCII letters, seeded random weights) and differs only in how its string attributes
are stored:

  strings_vlen_utf8.h5    Python str everywhere: variable-length UTF-8 (tf.keras 2.x, Keras 3)
  strings_fixed_ascii.h5  numpy bytes: fixed-length, ASCII-flagged, NUL-padded (Keras 2.0-2.3's weight_names)
  strings_mixed.h5        model_config as a fixed-length UTF-8 scalar; layer_names as variable-length
                          ASCII-flagged bytes holding UTF-8; weight_names split by Keras into
                          weight_names0 / weight_names1 (its HDF5_OBJECT_HEADER_LIMIT chunking)
                          with variable-length UTF-8 arrays; keras_version a fixed-length array of one

The expected outputs come from keras_reference.py like the corpus's.
"""
import json
import sys

import h5py
import numpy as np

# Layer names are HDF5 group names; TensorFlow's name scopes only allow ASCII there, so they are
# ASCII here too. The model's name, which only the JSON config holds, is not.
MODEL_NAME = "s\u00e9quentiel_\u00fc"
LSTM_NAME = "lstm_uber"
DENSE_NAME = "dense_ete"

MODEL_CONFIG = {
    "class_name": "Sequential",
    "config": {"name": MODEL_NAME, "layers": [
        {"class_name": "LSTM", "config": {
            "name": LSTM_NAME, "trainable": True, "batch_input_shape": [None, 4, 2], "dtype": "float32",
            "return_sequences": False, "return_state": False, "go_backwards": False, "stateful": False,
            "unroll": False, "units": 3, "activation": "tanh", "recurrent_activation": "sigmoid",
            "use_bias": True, "unit_forget_bias": True, "dropout": 0.0, "recurrent_dropout": 0.0,
            "implementation": 2}},
        {"class_name": "Dense", "config": {"name": DENSE_NAME, "trainable": True, "dtype": "float32",
                                           "units": 1, "activation": "linear", "use_bias": True}},
    ]},
    "keras_version": "2.4.0", "backend": "tensorflow",
}


def weights():
    rng = np.random.default_rng(11)
    return {
        LSTM_NAME: [("kernel:0", rng.normal(0, 0.5, (2, 12))), ("recurrent_kernel:0", rng.normal(0, 0.5, (3, 12))),
                    ("bias:0", rng.normal(0, 0.2, (12,)))],
        DENSE_NAME: [("kernel:0", rng.normal(0, 0.5, (3, 1))), ("bias:0", rng.normal(0, 0.2, (1,)))],
    }


def fixed(texts):
    """numpy fixed-length bytes (h5py: H5T_STRING, ASCII-flagged, NUL-padded)."""
    return np.array([t.encode("utf-8") for t in texts])


def write(path, style):
    with h5py.File(path, "w") as f:
        config = json.dumps(MODEL_CONFIG, ensure_ascii=False)
        if style == "vlen_utf8":
            f.attrs["model_config"] = config
            f.attrs["keras_version"] = "2.4.0"
            f.attrs["backend"] = "tensorflow"
        elif style == "fixed_ascii":
            f.attrs["model_config"] = np.bytes_(config.encode("utf-8"))
            f.attrs["keras_version"] = np.bytes_(b"2.4.0")
            f.attrs["backend"] = np.bytes_(b"tensorflow")
        else:
            f.attrs.create("model_config", config.encode("utf-8"),
                           dtype=h5py.string_dtype("utf-8", len(config.encode("utf-8"))))
            f.attrs["keras_version"] = fixed(["2.4.0"])
            f.attrs["backend"] = "tensorflow"
        group = f.create_group("model_weights")
        names = [LSTM_NAME, DENSE_NAME]
        if style == "vlen_utf8":
            group.attrs["layer_names"] = names
        elif style == "fixed_ascii":
            group.attrs["layer_names"] = fixed(names)
        else:
            group.attrs.create("layer_names", [n.encode("utf-8") for n in names], dtype=h5py.string_dtype("ascii"))
        for layer, values in weights().items():
            g = group.create_group(layer)
            full = [f"{layer}/{name}" for name, _ in values]
            for (name, value), path in zip(values, full):
                g.create_dataset(path, data=value.astype(np.float32))
            if style == "vlen_utf8":
                g.attrs["weight_names"] = full
            elif style == "fixed_ascii":
                g.attrs["weight_names"] = fixed(full)
            else:
                half = (len(full) + 1) // 2
                g.attrs["weight_names0"] = full[:half]
                g.attrs["weight_names1"] = full[half:]


def main():
    out = sys.argv[1]
    for style in ("vlen_utf8", "fixed_ascii", "mixed"):
        write(f"{out}/strings_{style}.h5", style)


if __name__ == "__main__":
    main()
