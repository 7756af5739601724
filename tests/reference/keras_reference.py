#!/usr/bin/python3
"""Independent float64 reference for Keras model files (SeqSharp's test corpus).

Reads a Keras model file with h5py and numpy only (no Keras, no TensorFlow, no SeqSharp code)
and computes the model's inference output in float64 from the layers' equations:

  keras_reference.py MODEL [--input INPUT.json] [--batch 3] [--steps 20] [--seed 0] [--out OUT.json]

MODEL is a Sequential or Functional model in a legacy full-model .h5 (Keras 2 `save_model_to_hdf5`, Keras 3 `legacy_h5_format`,
or SeqSharp's `Save("m.h5")`) or a Keras 3 .keras archive. Without --input, a fixed input is
drawn: uniform in [0, 1) for float inputs, integers in [0, input_dim) for an Embedding. The
output JSON holds the input, the output and what the file said (Keras version, layers).

Functional models (Keras 2 "Model" and Keras 3 "Functional") are computed by following each layer's
inbound nodes from the model's input layers: Keras 2 lists a node's inputs as [layer, node, tensor,
kwargs] (an RNN's initial states are its extra inputs), Keras 3 as {"args": [...], "kwargs":
{"initial_state": [...]}} with "__keras_tensor__" entries whose keras_history is [layer, node,
tensor]. RNNs with return_state give [output, h] or [output, h, c]; merge layers and Keras's (Luong)
Attention take their list of inputs. Their JSON holds "inputs" and
"outputs" lists (with "input_shapes", "output_shapes", "input_names", "output_names"), in the order of
the model's input_layers and output_layers; inputs are drawn one after another from the one seeded
generator.

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

    def _layer_list(self, config):
        self.graph = None
        if isinstance(config, list):       # Keras 2.0-2.2: the layer list itself
            return config
        if config["class_name"] in ("Functional", "Model"):
            self.graph = config["config"]
            return config["config"]["layers"]
        if config["class_name"] != "Sequential":
            raise SystemExit(f"only Sequential and Functional models: found {config['class_name']}")
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


def run_rnn(cfg, weights, x, keras2, cls, initial=None, states=False):
    """The RNN's output; with states=True, [output, h] or [output, h, c] (LSTM) as return_state gives."""
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
    if initial:                            # Keras's initial_state: [h] or [h, c]
        h = np.array(initial[0], dtype=np.float64)
        if cls == "LSTM":
            c = np.array(initial[1], dtype=np.float64)
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
    y = np.stack(outputs, axis=1) if cfg.get("return_sequences") else h
    if states:
        return [y, h, c] if cls == "LSTM" else [y, h]
    return y


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


MERGES = {
    "Add": lambda xs: sum(xs[1:], xs[0]),
    "Subtract": lambda xs: xs[0] - xs[1],
    "Multiply": lambda xs: np.prod(np.stack(xs), axis=0),
    "Average": lambda xs: np.mean(np.stack(xs), axis=0),
    "Maximum": lambda xs: np.max(np.stack(xs), axis=0),
    "Minimum": lambda xs: np.min(np.stack(xs), axis=0),
}


def luong_attention(cfg, weights, inputs):
    """Keras's Attention([query, value(, key)]): scores = query . key (dot) or
    concat_score_weight * sum(tanh(query + key)) (concat), times `scale` when use_scale; softmax over the
    value steps; output = weights @ value. No masks (the files here pass none)."""
    query, value = inputs[0], inputs[1]
    key = inputs[2] if len(inputs) > 2 else value
    values = [w for _, w in weights]
    mode = cfg.get("score_mode", "dot")
    if mode == "dot":
        scores = query @ np.swapaxes(key, -1, -2)
        if cfg.get("use_scale"):
            scores = scores * values[0]
    elif mode == "concat":
        it = iter(values)
        scale = next(it) if cfg.get("use_scale") else 1.0
        concat_weight = next(it)
        scores = concat_weight * np.sum(np.tanh(scale * (query[:, :, None, :] + key[:, None, :, :])), axis=-1)
    else:
        raise SystemExit(f"Attention score_mode {mode!r} not implemented in the reference")
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    attention = e / e.sum(axis=-1, keepdims=True)
    return attention @ value


def run_node(layer, weights, inputs, initial, keras2):
    """One call of a layer in a functional graph: its output tensors as a list."""
    cls, cfg = layer["class_name"], layer["config"]
    if cls in ("SimpleRNN", "LSTM", "GRU"):
        if cfg.get("return_state"):
            return run_rnn(cfg, weights, inputs[0], keras2, cls, initial, states=True)
        return [run_rnn(cfg, weights, inputs[0], keras2, cls, initial)]
    if initial:
        raise SystemExit(f"initial_state on {cls} not implemented in the reference")
    if cls in MERGES:
        return [MERGES[cls](inputs)]
    if cls == "Attention":
        return [luong_attention(cfg, weights, inputs)]
    if cls == "Concatenate":
        return [np.concatenate(inputs, axis=cfg.get("axis", -1))]
    if len(inputs) != 1:
        raise SystemExit(f"layer {cls} with {len(inputs)} inputs not implemented in the reference")
    return [run_layer(layer, weights, inputs[0], keras2)]


def node_inputs(node):
    """A node's input references [(layer, node, tensor)] and its initial-state references."""
    if isinstance(node, dict):             # Keras 3: {"args": [...], "kwargs": {...}}
        def refs(value):
            if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
                return [tuple(value["config"]["keras_history"])]
            if isinstance(value, (list, tuple)):
                return [r for v in value for r in refs(v)]
            return []
        kwargs = node.get("kwargs", {})
        return refs(node.get("args", [])), refs(kwargs.get("initial_state", []))
    entries = [(e[0], e[1], e[2]) for e in node]      # Keras 2: [layer, node, tensor, kwargs] each
    states = []
    for e in node:                        # older Keras 2 kept initial_state in the first entry's kwargs
        if len(e) > 3 and isinstance(e[3], dict) and "initial_state" in e[3]:
            states += [tuple(s[:3]) for s in e[3]["initial_state"]]
    return entries, states


def predict_graph(model, xs):
    """Follows the inbound nodes from the input layers; xs in the order of input_layers."""
    graph = model.graph
    values = {}                           # (layer, node, tensor) -> array
    for (name, node, tensor), x in zip(graph["input_layers"], xs):
        values[(name, node, tensor)] = x
    pending = [(l, i, n) for l in model.layers if l["class_name"] != "InputLayer"
               for i, n in enumerate(l.get("inbound_nodes", []))]
    while pending:
        waiting = []
        for layer, index, node in pending:
            refs, state_refs = node_inputs(node)
            rnn = layer["class_name"] in ("SimpleRNN", "LSTM", "GRU")
            if rnn and not state_refs and len(refs) > 1:   # Keras 2: states are the extra inputs
                refs, state_refs = refs[:1], refs[1:]
            if not all(tuple(r) in values for r in refs + state_refs):
                waiting.append((layer, index, node))
                continue
            name = layer["config"]["name"]
            outs = run_node(layer, model.weights.get(name, []), [values[tuple(r)] for r in refs],
                            [values[tuple(r)] for r in state_refs], model.keras2)
            for t, y in enumerate(outs):
                values[(layer.get("name", name), index, t)] = y
                values[(name, index, t)] = y
        if len(waiting) == len(pending):
            raise SystemExit("the graph has nodes whose inputs are never computed")
        pending = waiting
    return [values[tuple(r)] for r in graph["output_layers"]]


def graph_refs(value):
    """input_layers / output_layers: [[name, node, tensor], ...] or a single [name, node, tensor]."""
    return [value] if value and isinstance(value[0], str) else value


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
    if model.graph is not None:
        return main_functional(model, args)
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
    write(result, args.out)


def main_functional(model, args):
    graph = model.graph
    graph["input_layers"] = graph_refs(graph["input_layers"])
    graph["output_layers"] = graph_refs(graph["output_layers"])
    by_name = {l["config"]["name"]: l for l in model.layers}
    if args.input:
        xs = [np.array(x, dtype=np.float64) for x in json.load(open(args.input))["inputs"]]
    else:
        rng = np.random.default_rng(args.seed)
        xs = []
        for name, _, _ in graph["input_layers"]:
            cfg = by_name[name]["config"]
            shape = cfg.get("batch_shape") or cfg.get("batch_input_shape")
            shape = [args.batch] + [args.steps if d is None else d for d in shape[1:]]
            xs.append(rng.random(shape))
    ys = predict_graph(model, xs)
    def describe(layer):
        inner = layer["config"].get("layer")
        return layer["class_name"] + (f"({inner['class_name']})" if inner else "")
    result = {
        "model": args.model.split("/")[-1],
        "keras_version": model.keras_version,
        "class_name": "Functional",
        "layers": [describe(l) for l in model.layers],
        "hard_sigmoid": "clip(0.2x+0.5,0,1)" if model.keras2 else "relu6(x+3)/6",
        "input_names": [r[0] for r in graph["input_layers"]],
        "input_shapes": [list(x.shape) for x in xs],
        "inputs": [x.tolist() for x in xs],
        "output_names": [f"{r[0]}[{r[1]}][{r[2]}]" for r in graph["output_layers"]],
        "output_shapes": [list(y.shape) for y in ys],
        "outputs": [y.tolist() for y in ys],
    }
    write(result, args.out)


def write(result, out):
    text_out = json.dumps(result)
    if out:
        with open(out, "w") as f:
            f.write(text_out + "\n")
    else:
        print(text_out)


if __name__ == "__main__":
    main()
