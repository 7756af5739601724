#!/usr/bin/python3
"""Independent float64 reference for Keras model files (SeqSharp's test corpus).

Reads a Keras model file with h5py and numpy only (no Keras, no TensorFlow, no SeqSharp code)
and computes the model's inference output in float64 from the layers' equations:

  keras_reference.py MODEL [--input INPUT.json] [--batch 3] [--steps 20] [--seed 0] [--out OUT.json]

MODEL is a legacy full-model .h5 (Keras 2 `save_model_to_hdf5`, Keras 3 `legacy_h5_format`,
or SeqSharp's `Save("m.h5")`) or a Keras 3 .keras archive. Without --input, a fixed input is
drawn: uniform in [0, 1) for float inputs, integers in [0, input_dim) for an Embedding. The
output JSON holds the input, the output and what the file said (Keras version, layers).

Formulas follow the Keras version that wrote the file: `hard_sigmoid` is clip(0.2x + 0.5, 0, 1)
in Keras 1/2 and relu6(x + 3) / 6 = clip(x/6 + 0.5, 0, 1) in Keras 3.
"""
import argparse
import io
import json
import re
import sys
import zipfile

import h5py
import numpy as np


# ---------------------------------------------------------------- reading the file

def text(value):
    """An h5py attribute value as str: variable-length str, fixed-length bytes, numpy scalars."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray) and value.shape == ():
        return text(value[()])
    return str(value)


def strings(attrs, name):
    """A string-list attribute, joined from name0, name1, ... when Keras split it."""
    if name in attrs:
        value = attrs[name]
        if isinstance(value, np.ndarray):
            return [text(v) for v in value.tolist()] if value.size else []
        return [text(value)]
    out, i = [], 0
    while f"{name}{i}" in attrs:
        out += strings(attrs, f"{name}{i}")
        i += 1
    return out


def snake(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


class Model:
    def __init__(self, path):
        self.path = path
        if path.endswith(".keras"):
            archive = zipfile.ZipFile(path)
            self.keras_version = json.loads(archive.read("metadata.json"))["keras_version"]
            config = json.loads(archive.read("config.json"))
            h5 = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
            self.layers = self._layer_list(config)
            self.weights = self._keras3_weights(h5)
        else:
            h5 = h5py.File(path, "r")
            self.keras_version = text(h5.attrs["keras_version"]) if "keras_version" in h5.attrs else "unknown"
            config = json.loads(text(h5.attrs["model_config"]))
            self.layers = self._layer_list(config)
            self.weights = self._legacy_weights(h5["model_weights"] if "model_weights" in h5 else h5)
        self.keras2 = self.keras_version.split(".")[0] in ("1", "2")

    @staticmethod
    def _layer_list(config):
        if isinstance(config, list):       # Keras 2.0-2.2: the layer list itself
            return config
        if config["class_name"] != "Sequential":
            raise SystemExit(f"only Sequential models: found {config['class_name']}")
        inner = config["config"]
        return inner if isinstance(inner, list) else inner["layers"]

    def _legacy_weights(self, group):
        """Keras 2 / legacy layout: model_weights/<layer name> lists its datasets in weight_names."""
        weights = {}
        for layer in self.layers:
            name = layer["config"]["name"]
            if name not in group:
                weights[name] = []
                continue
            names = strings(group[name].attrs, "weight_names")
            weights[name] = [(n, np.array(group[name][n], dtype=np.float64)) for n in names]
        return weights

    def _keras3_weights(self, h5):
        """Keras 3 saving_lib layout: layers/<snake class name[_n]>/[...]/vars/<i>."""
        weights, used = {}, {}
        for layer in self.layers:
            if layer["class_name"] == "InputLayer":
                continue
            base = snake(layer["class_name"])
            n = used.get(base, 0)
            used[base] = n + 1
            key = base if n == 0 else f"{base}_{n}"
            found = []
            def walk(group, prefix):
                if "vars" in group:
                    for i in range(len(group["vars"])):
                        found.append((f"{prefix}vars/{i}", np.array(group["vars"][str(i)], dtype=np.float64)))
                for child in sorted(k for k in group if k != "vars"):
                    walk(group[child], f"{prefix}{child}/")
            walk(h5["layers"][key], "")
            weights[layer["config"]["name"]] = found
        return weights


# ---------------------------------------------------------------- equations

def activation(name, x, keras2):
    if isinstance(name, dict):
        name = name.get("config", {}).get("name", name.get("class_name"))
    name = name or "linear"
    if name == "linear":
        return x
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "tanh":
        return np.tanh(x)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if name == "hard_sigmoid":
        return np.clip(0.2 * x + 0.5, 0.0, 1.0) if keras2 else np.clip(x / 6.0 + 0.5, 0.0, 1.0)
    if name == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    if name == "elu":
        return np.where(x > 0, x, np.exp(x) - 1.0)
    if name == "softplus":
        return np.log1p(np.exp(x))
    if name == "softsign":
        return x / (1.0 + np.abs(x))
    if name in ("swish", "silu"):
        return x / (1.0 + np.exp(-x))
    raise SystemExit(f"activation {name!r} not implemented in the reference")


def pick(weights, *keys):
    """The weights whose names contain each key in turn (kernel, recurrent_kernel, bias, ...)."""
    out = []
    for key in keys:
        hits = [w for n, w in weights if n.split("/")[-1].split(":")[0] == key]
        out.append(hits[0] if hits else None)
    return out


def run_rnn(cfg, weights, x, keras2, cls):
    units = cfg["units"]
    act = lambda v: activation(cfg.get("activation", "tanh"), v, keras2)
    rec = lambda v: activation(cfg.get("recurrent_activation", "hard_sigmoid" if keras2 else "sigmoid"), v, keras2)
    if [n for n, _ in weights if "vars/" in n]:          # Keras 3 archive: kernel, recurrent kernel, bias in order
        values = [w for _, w in weights]
        kernel, recurrent = values[0], values[1]
        bias = values[2] if len(values) > 2 else None
    else:
        kernel, recurrent, bias = pick(weights, "kernel", "recurrent_kernel", "bias")
    batch, steps, _ = x.shape
    order = range(steps - 1, -1, -1) if cfg.get("go_backwards") else range(steps)
    h = np.zeros((batch, units))
    c = np.zeros((batch, units))
    outputs = []
    for t in order:
        xt = x[:, t, :]
        if cls == "SimpleRNN":
            h = act(xt @ kernel + (bias if bias is not None else 0) + h @ recurrent)
        elif cls == "LSTM":
            z = xt @ kernel + h @ recurrent + (bias if bias is not None else 0)
            i, f, g, o = (z[:, k * units:(k + 1) * units] for k in range(4))
            c = rec(f) * c + rec(i) * act(g)
            h = rec(o) * act(c)
        elif cls == "GRU":
            reset_after = cfg.get("reset_after", not keras2)
            if bias is None:
                b_in, b_rec = 0, 0
            elif bias.ndim == 2:
                b_in, b_rec = bias[0], bias[1]
            else:
                b_in, b_rec = bias, 0
            xz = xt @ kernel + b_in
            u = units
            if reset_after:
                hz = h @ recurrent + b_rec
                z = rec(xz[:, :u] + hz[:, :u])
                r = rec(xz[:, u:2 * u] + hz[:, u:2 * u])
                hh = act(xz[:, 2 * u:] + r * hz[:, 2 * u:])
            else:
                z = rec(xz[:, :u] + h @ recurrent[:, :u])
                r = rec(xz[:, u:2 * u] + h @ recurrent[:, u:2 * u])
                hh = act(xz[:, 2 * u:] + (r * h) @ recurrent[:, 2 * u:])
            h = z * h + (1 - z) * hh
        outputs.append(h)
    return np.stack(outputs, axis=1) if cfg.get("return_sequences") else h


def conv1d(cfg, weights, x, keras2):
    kernel, bias = [w for _, w in weights][0], ([w for _, w in weights][1] if cfg.get("use_bias", True) else None)
    k, _, filters = kernel.shape
    stride = cfg.get("strides", [1])
    stride = stride[0] if isinstance(stride, list) else stride
    dilation = cfg.get("dilation_rate", [1])
    dilation = dilation[0] if isinstance(dilation, list) else dilation
    span = (k - 1) * dilation + 1
    padding = cfg.get("padding", "valid")
    steps = x.shape[1]
    if padding == "causal":
        x = np.pad(x, ((0, 0), (span - 1, 0), (0, 0)))
    elif padding == "same":
        out_len = -(-steps // stride)
        total = max((out_len - 1) * stride + span - steps, 0)
        x = np.pad(x, ((0, 0), (total // 2, total - total // 2), (0, 0)))
    out_len = (x.shape[1] - span) // stride + 1
    y = np.zeros((x.shape[0], out_len, filters))
    for t in range(out_len):
        for j in range(k):
            y[:, t, :] += x[:, t * stride + j * dilation, :] @ kernel[j]
    if bias is not None:
        y += bias
    return activation(cfg.get("activation"), y, keras2)


def pool1d(cfg, x, reduce):
    size = cfg.get("pool_size", [2])
    size = size[0] if isinstance(size, list) else size
    stride = cfg.get("strides") or size
    stride = stride[0] if isinstance(stride, list) else stride
    if cfg.get("padding", "valid") != "valid":
        raise SystemExit("pooling padding other than valid not implemented in the reference")
    out_len = (x.shape[1] - size) // stride + 1
    return np.stack([reduce(x[:, t * stride:t * stride + size, :], axis=1) for t in range(out_len)], axis=1)


def run_layer(layer, weights, x, keras2):
    cls, cfg = layer["class_name"], layer["config"]
    values = [w for _, w in weights]
    if cls in ("InputLayer", "Dropout", "SpatialDropout1D", "GaussianNoise", "GaussianDropout", "ActivityRegularization"):
        return x
    if cls == "Dense":
        y = x @ values[0] + (values[1] if cfg.get("use_bias", True) else 0)
        return activation(cfg.get("activation"), y, keras2)
    if cls == "Activation":
        return activation(cfg["activation"], x, keras2)
    if cls == "Embedding":
        return values[0][x.astype(np.int64)]
    if cls in ("SimpleRNN", "LSTM", "GRU"):
        return run_rnn(cfg, weights, x, keras2, cls)
    if cls == "Bidirectional":
        inner = cfg["layer"]
        fw = [(n, w) for n, w in weights if "forward" in n]
        bw = [(n, w) for n, w in weights if "backward" in n]
        if not fw:                     # unnamed: forward weights first, then backward
            half = len(weights) // 2
            fw, bw = weights[:half], weights[half:]
        fcfg = dict(inner["config"])
        bcfg = dict(cfg.get("backward_layer", {}).get("config", inner["config"]))
        bcfg["go_backwards"] = not fcfg.get("go_backwards", False)
        yf = run_rnn(fcfg, fw, x, keras2, inner["class_name"])
        yb = run_rnn(bcfg, bw, x, keras2, inner["class_name"])
        if fcfg.get("return_sequences"):
            yb = yb[:, ::-1, :]
        mode = cfg.get("merge_mode", "concat")
        return {"concat": lambda: np.concatenate([yf, yb], axis=-1), "sum": lambda: yf + yb,
                "mul": lambda: yf * yb, "ave": lambda: (yf + yb) / 2}[mode]()
    if cls == "Conv1D":
        return conv1d(cfg, weights, x, keras2)
    if cls == "MaxPooling1D":
        return pool1d(cfg, x, np.max)
    if cls == "AveragePooling1D":
        return pool1d(cfg, x, np.mean)
    if cls == "GlobalAveragePooling1D":
        return x.mean(axis=1)
    if cls == "GlobalMaxPooling1D":
        return x.max(axis=1)
    if cls == "Flatten":
        return x.reshape(x.shape[0], -1)
    if cls == "BatchNormalization":
        it = iter(values)
        gamma = next(it) if cfg.get("scale", True) else 1.0
        beta = next(it) if cfg.get("center", True) else 0.0
        mean, var = next(it), next(it)
        return (x - mean) / np.sqrt(var + cfg.get("epsilon", 1e-3)) * gamma + beta
    raise SystemExit(f"layer {cls} not implemented in the reference")


def input_spec(model, batch, steps):
    first = model.layers[0]["config"]
    shape = first.get("batch_shape") or first.get("batch_input_shape")
    if shape is None:
        raise SystemExit("the first layer declares no input shape")
    shape = [batch] + [steps if d is None else d for d in shape[1:]]
    embedding = next((l for l in model.layers if l["class_name"] != "InputLayer"), None)
    vocabulary = embedding["config"]["input_dim"] if embedding and embedding["class_name"] == "Embedding" else None
    return shape, vocabulary


def predict(model, x):
    y = x
    for layer in model.layers:
        y = run_layer(layer, model.weights.get(layer["config"]["name"], []), y, model.keras2)
    return y


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--input", help="JSON file with an 'input' array (else a seeded draw)")
    parser.add_argument("--batch", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20, help="time steps where the file leaves them open")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out")
    args = parser.parse_args()

    model = Model(args.model)
    if args.input:
        x = np.array(json.load(open(args.input))["input"], dtype=np.float64)
    else:
        shape, vocabulary = input_spec(model, args.batch, args.steps)
        rng = np.random.default_rng(args.seed)
        x = rng.integers(0, vocabulary, size=shape).astype(np.float64) if vocabulary else rng.random(shape)
    y = predict(model, x)
    result = {
        "model": args.model.split("/")[-1],
        "keras_version": model.keras_version,
        "layers": [l["class_name"] + ("(" + l["config"]["layer"]["class_name"] + ")" if l["class_name"] == "Bidirectional" else "")
                   for l in model.layers],
        "hard_sigmoid": "clip(0.2x+0.5,0,1)" if model.keras2 else "relu6(x+3)/6",
        "input_shape": list(x.shape),
        "input": x.tolist(),
        "output_shape": list(y.shape),
        "output": y.tolist(),
    }
    text_out = json.dumps(result)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text_out + "\n")
    else:
        print(text_out)


if __name__ == "__main__":
    main()
