"""Shared pieces of the CEMA offline model preparation: data loading, architectures,
MAC counting and ONNX export/verification. Used by train.py and make_golden.py.

Nothing here downloads anything: Fashion-MNIST comes from Debian's package
`dataset-fashion-mnist` (IDX files under /usr/share/datasets/fashion-mnist).
"""
from __future__ import annotations

import gzip
import os
import struct

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA_DIR = "/usr/share/datasets/fashion-mnist"
MODELS_DIR = os.path.dirname(os.path.abspath(__file__))
CACHE_DIR = os.path.join(MODELS_DIR, ".cache")  # state dicts (gitignored via models/.gitignore)
OPSET = 17
ALLOWED_OPS = {"Conv", "BatchNormalization", "InstanceNormalization", "Relu", "Add", "MaxPool",
               "AveragePool", "GlobalAveragePool", "Flatten", "Gemm"}
NORM_TYPES = (nn.BatchNorm2d, nn.InstanceNorm2d)  # the layers whose affine parameters CEMA adapts
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


# --------------------------------------------------------------------------- data
def _read_idx(path: str) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    return arr.reshape(dims)


def load_split(split: str, data_dir: str = DATA_DIR):
    """Returns (images float32 [N,1,28,28] in [0,1] = pixels/255, labels int64 [N])."""
    prefix = {"train": "train", "test": "t10k"}[split]
    x = _read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte.gz"))
    y = _read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte.gz"))
    x = torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1)
    y = torch.from_numpy(y.astype(np.int64))
    return x, y


# --------------------------------------------------------------------------- models
class BasicBlock(nn.Module):
    """Pre-activation-free ResNet basic block: conv-BN-ReLU-conv-BN (+ shortcut) -> ReLU.
    The shortcut is identity, or a 1x1 strided conv + BN when the shape changes."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        sc = x if self.shortcut is None else self.shortcut(x)
        return F.relu(out + sc)


class ResNetSmall(nn.Module):
    """Stem conv (28x28) + stages of BasicBlocks; the first block of every stage after
    the first halves the resolution (28 -> 14 -> 7). GlobalAveragePool + Linear head.
    `input_norm` puts a per-image standardization (InstanceNormalization over the one input
    channel, affine) in front: the network then sees every image at zero mean and unit
    variance, whatever its global brightness and contrast."""

    def __init__(self, widths, blocks, num_classes: int = 10, input_norm: bool = False):
        super().__init__()
        self.input_norm = nn.InstanceNorm2d(1, affine=True) if input_norm else None
        self.stem = nn.Sequential(nn.Conv2d(1, widths[0], 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True))
        layers = []
        cin = widths[0]
        for i, (w, n) in enumerate(zip(widths, blocks)):
            for j in range(n):
                stride = 2 if (i > 0 and j == 0) else 1
                layers.append(BasicBlock(cin, w, stride))
                cin = w
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)   # -> GlobalAveragePool
        self.fc = nn.Linear(cin, num_classes)  # -> Gemm
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        # zero-init the last BN gamma of each residual branch (standard trick, helps small nets)
        for m in self.modules():
            if isinstance(m, BasicBlock):
                nn.init.zeros_(m.bn2.weight)

    def forward(self, x):
        if self.input_norm is not None:
            x = self.input_norm(x)
        x = self.layers(self.stem(x))
        x = torch.flatten(self.pool(x), 1)    # -> Flatten (no Shape/Reshape chain)
        return self.fc(x)


ARCHS = {
    # edge: ~78k params, ~9.3 MMACs / image
    "edge": dict(widths=(16, 32, 64), blocks=(1, 1, 1)),
    # foundation: 2x wider + one more 7x7 block, ~0.6M params, ~52 MMACs / image (~5.5x edge),
    # per-image input standardization (a design choice, not a corruption: see models/README.md)
    "foundation": dict(widths=(32, 64, 128), blocks=(1, 1, 2), input_norm=True),
}


def build_model(name: str) -> nn.Module:
    return ResNetSmall(**ARCHS[name])


# --------------------------------------------------------------------------- counting
def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_bn_affine(model: nn.Module) -> tuple[int, int]:
    """(number of norm layers, number of their gamma+beta elements)."""
    bns = [m for m in model.modules() if isinstance(m, NORM_TYPES)]
    return len(bns), sum(m.weight.numel() + m.bias.numel() for m in bns)


def count_macs(model: nn.Module, input_shape=(1, 1, 28, 28)) -> dict:
    """Multiply-accumulates per image, computed analytically from each Conv/Linear's output
    shape: Conv = H_out*W_out*C_out*(C_in/groups)*kH*kW, Linear = in*out. BN/ReLU/Add/pool
    element-wise work is reported separately (it is not MACs of a weight layer)."""
    counts = {"conv": 0, "linear": 0, "elementwise": 0}
    hooks = []

    def conv_hook(m, inp, out):
        _, c, h, w = out.shape
        counts["conv"] += h * w * c * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def lin_hook(m, inp, out):
        counts["linear"] += m.in_features * m.out_features

    def bn_hook(m, inp, out):
        counts["elementwise"] += out[0].numel()

    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(lin_hook))
        elif isinstance(m, nn.BatchNorm2d):
            hooks.append(m.register_forward_hook(bn_hook))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(*input_shape))
    model.train(was_training)
    for h in hooks:
        h.remove()
    counts["total"] = counts["conv"] + counts["linear"]
    return counts


# --------------------------------------------------------------------------- ONNX
def export_onnx(model: nn.Module, path: str) -> None:
    """TorchScript exporter (dynamo=False), no constant folding, BN preserved as
    BatchNormalization nodes (eval-mode semantics: running mean/var)."""
    import onnx
    model = model.eval()
    dummy = torch.zeros(2, 1, 28, 28)
    torch.onnx.export(model, dummy, path, dynamo=False, export_params=True,
                      do_constant_folding=False, training=torch.onnx.TrainingMode.PRESERVE,
                      opset_version=OPSET, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    m = onnx.load(path)
    _inline_identity_initializers(m)
    m.producer_name = "cema-models/train.py"
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, path)


def _inline_identity_initializers(m) -> None:
    """The TorchScript exporter de-duplicates byte-identical initializers and routes the
    duplicates through Identity nodes (e.g. an untouched BN gamma == running_var). Replace
    each Identity(initializer) by a real, named initializer so every BN input is an
    initializer and the graph holds only the allowed ops."""
    import onnx
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    keep = []
    for node in g.node:
        if node.op_type == "Identity" and node.input[0] in inits:
            t = onnx.TensorProto()
            t.CopyFrom(inits[node.input[0]])
            t.name = node.output[0]
            g.initializer.append(t)
            inits[t.name] = t
        else:
            keep.append(node)
    del g.node[:]
    g.node.extend(keep)
    used = {i for n in g.node for i in n.input}
    unused = [t for t in g.initializer if t.name not in used]
    for t in unused:
        g.initializer.remove(t)


def verify_onnx(path: str, model: nn.Module, x: torch.Tensor, atol: float = 1e-4) -> dict:
    """Checks the exported graph and (if onnxruntime is installed) its numerics.
    Returns a summary dict; raises on any failed check."""
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    g = m.graph
    inits = {t.name for t in g.initializer}
    ops = [n.op_type for n in g.node]
    bad = sorted(set(ops) - ALLOWED_OPS)
    if bad:
        raise AssertionError(f"{path}: unexpected ops {bad}")
    bn_nodes = [n for n in g.node if n.op_type == "BatchNormalization"]
    n_bn_torch = sum(isinstance(mm, nn.BatchNorm2d) for mm in model.modules())
    if len(bn_nodes) != n_bn_torch:
        raise AssertionError(f"{path}: {len(bn_nodes)} BatchNormalization nodes, torch has {n_bn_torch}")
    bn_inits = []
    for n in bn_nodes:
        if len(n.input) != 5 or any(i not in inits for i in n.input[1:]):
            raise AssertionError(f"{path}: BN node {n.name} inputs {list(n.input)} not all initializers")
        if len(n.output) != 1:
            raise AssertionError(f"{path}: BN node {n.name} is in training mode")
        bn_inits.append(list(n.input[1:]))
    if [i.name for i in g.input] != ["input"] or [o.name for o in g.output] != ["logits"]:
        raise AssertionError(f"{path}: I/O names {[i.name for i in g.input]} {[o.name for o in g.output]}")
    summary = {"ops": ops, "bn_initializers": bn_inits, "opset": m.opset_import[0].version,
               "ir_version": m.ir_version, "size_bytes": os.path.getsize(path)}
    try:
        import onnxruntime as ort
    except ImportError:
        summary["ort_max_abs_diff"] = None
        return summary
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    model.eval()
    with torch.no_grad():
        ref = model(x).numpy()
    got = sess.run(["logits"], {"input": x.numpy()})[0]
    diff = float(np.abs(ref - got).max())
    if diff > atol:
        raise AssertionError(f"{path}: onnxruntime vs torch max abs diff {diff} > {atol}")
    summary["ort_max_abs_diff"] = diff
    return summary


def load_from_onnx(name: str, path: str | None = None) -> nn.Module:
    """Rebuilds the PyTorch model from the committed ONNX file: the exporter keeps the
    state-dict names for every initializer, so no .pt file is needed to regenerate goldens."""
    import onnx
    from onnx import numpy_helper
    path = path or os.path.join(MODELS_DIR, f"{name}.onnx")
    model = build_model(name)
    inits = {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}
    sd = model.state_dict()
    missing = [k for k in sd if k not in inits and not k.endswith("num_batches_tracked")]
    if missing:
        raise KeyError(f"{path}: initializers missing for {missing}")
    for k in sd:
        if k in inits:
            sd[k] = torch.from_numpy(inits[k].copy()).reshape(sd[k].shape)
    model.load_state_dict(sd)
    return model.eval()
