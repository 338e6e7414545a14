#!/usr/bin/env python3
"""Write PyTorch golden values for the CloudTrainer's reverse pass, losses and optimiser.

  .venv-models/bin/python models/make_grad_golden.py

Files (models/golden/, raw little-endian float32, C order, no header; every array's file, offset (in
floats) and shape, and every scalar, are listed in grad_golden.json):

  grad_kd.f32       the CEMA distillation step on models/edge.onnx, twice:
                    batch A = edge_batch_input.f32 (first 16 test images), batch B = 0.8 * A + 0.1.
                    Edge BN in CEMA's "TBR" training form (notes 2.6): running statistics initialised
                    from batch A, momentum 0.1. Teacher logits from models/foundation.onnx with
                    batch-statistics BN (train-mode BN without running statistics), or, when that file
                    does not exist yet, fixed seeded logits (recorded as teacher_source).
                    Per step: teacher logits, student logits, dLoss/dgamma and dLoss/dbeta of every BN;
                    after step 2: the running statistics and the parameters after SGD (lr 2.5e-3, m 0.9).
  grad_foundation.f32  CEMA's foundation step on models/foundation.onnx (batch-statistics BN, batch A):
                    dLoss/dgamma, dLoss/dbeta of every BN for loss mean H exp(E_max0 - H).
  grad_losses.f32   each loss alone on small random logits [4, 10] (value in the JSON, gradient here).
  grad_sgd.f32      three SGD-with-momentum steps (lr 0.1, momentum 0.9) on 5 values.

The PyTorch model is rebuilt from the ONNX file's initializers (models/common.py), so no training
and no .pt cache are needed. Nothing here trains or modifies the models.
"""
from __future__ import annotations

import json
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import MODELS_DIR, NORM_TYPES, load_from_onnx  # noqa: E402

GOLDEN = os.path.join(MODELS_DIR, "golden")
N = 16
C = 10
# CEMA's coefficients (conf/cema.conf; ARCHITECTURE.md).
ALPHA, BETA, GAMMA, T = 3.0, 3.0, 1.0, 1.0
E_MAX0 = 0.4 * math.log(C)
EDGE_LR, MOMENTUM, BN_MOMENTUM = 2.5e-3, 0.9, 0.1


class Writer:
    """Appends float32 arrays to one file and records them in the index."""

    def __init__(self, index: dict, name: str):
        self.index, self.name, self.parts, self.offset = index, name, [], 0

    def add(self, key: str, t) -> None:
        a = (t.detach().cpu().numpy() if torch.is_tensor(t) else np.asarray(t)).astype("<f4")
        self.index["arrays"][key] = {"file": self.name, "offset": self.offset, "shape": list(a.shape)}
        self.parts.append(a.ravel())
        self.offset += a.size

    def close(self) -> None:
        np.concatenate(self.parts).astype("<f4").tofile(os.path.join(GOLDEN, self.name))


# --------------------------------------------------------------------------- losses (reference semantics)
def entropy(z):
    return -(z.softmax(1) * z.log_softmax(1)).sum(1)


def eata_weights(h):
    return torch.exp(E_MAX0 - h.detach())


def kd_terms(e, t):
    """TTADistillationLoss: alpha * mean w_e H(e) + beta * mean w_t T^2 KL(t||e) + gamma * mean w_t CE."""
    h_e = entropy(e)
    l_ent = (eata_weights(h_e) * h_e).mean()
    w_t = eata_weights(entropy(t))
    kl = F.kl_div(F.log_softmax(e / T, 1), F.softmax(t / T, 1), reduction="none").sum(1)
    l_kl = (w_t * T * T * kl).mean()
    l_ce = (w_t * F.cross_entropy(e, t.argmax(1), reduction="none")).mean()
    return ALPHA * l_ent + BETA * l_kl + GAMMA * l_ce, l_ent, l_kl, l_ce


# --------------------------------------------------------------------------- BN forms
def tbr_forward(bn: nn.BatchNorm2d, x):
    """codebase/core/tta/tbr.py: batch mean / unbiased var, renormalised to the running statistics."""
    var, mu = torch.var_mean(x, dim=[0, 2, 3], unbiased=True)
    if bn.tbr_mean is None:
        bn.tbr_mean, bn.tbr_var = mu.detach().clone(), var.detach().clone()
    eps = bn.eps
    r = (torch.sqrt(var.detach() + eps) / torch.sqrt(bn.tbr_var + eps))
    d = (mu.detach() - bn.tbr_mean) / torch.sqrt(bn.tbr_var + eps)
    shape = (1, -1, 1, 1)
    xhat = ((x - mu.view(shape)) / torch.sqrt(var.view(shape) + eps)) * r.view(shape) + d.view(shape)
    bn.tbr_mean += BN_MOMENTUM * (mu.detach() - bn.tbr_mean)
    bn.tbr_var += BN_MOMENTUM * (var.detach() - bn.tbr_var)
    return xhat * bn.weight.view(shape) + bn.bias.view(shape)


def make_tbr(model: nn.Module) -> list[nn.BatchNorm2d]:
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    for bn in bns:
        bn.tbr_mean, bn.tbr_var = None, None   # source statistics discarded, as the reference does
        bn.forward = (lambda b: (lambda x: tbr_forward(b, x)))(bn)
    model.train()
    for p in model.parameters():
        p.requires_grad_(False)
    for bn in bns:
        bn.weight.requires_grad_(True)
        bn.bias.requires_grad_(True)
    return bns


def make_batch_statistics(model: nn.Module) -> nn.Module:
    """Tent-style: BN normalises with the batch's mean and biased variance, keeps no statistics."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.track_running_stats = False
            m.running_mean = None
            m.running_var = None
    return model.train()


def bn_names(bn_index: int, model: nn.Module) -> tuple[str, str]:
    names = [n for n, m in model.named_modules() if isinstance(m, nn.BatchNorm2d)]
    return f"{names[bn_index]}.weight", f"{names[bn_index]}.bias"


# --------------------------------------------------------------------------- goldens
def kd_golden(index: dict) -> None:
    x_a = torch.from_numpy(np.fromfile(os.path.join(GOLDEN, "edge_batch_input.f32"), dtype="<f4")
                           .reshape(N, 1, 28, 28).copy())
    x_b = x_a * 0.8 + 0.1
    foundation_path = os.path.join(MODELS_DIR, "foundation.onnx")
    if os.path.exists(foundation_path):
        teacher = make_batch_statistics(load_from_onnx("foundation", foundation_path))
        with torch.no_grad():
            teachers = [teacher(x_a), teacher(x_b)]
        index["teacher_source"] = "foundation.onnx, batch-statistics BN"
    else:
        g = torch.Generator().manual_seed(1234)
        teachers = [torch.randn(N, C, generator=g) * 3 for _ in range(2)]
        index["teacher_source"] = "seeded random logits (models/foundation.onnx was absent)"

    model = load_from_onnx("edge")
    bns = make_tbr(model)
    names = [n for n, m in model.named_modules() if isinstance(m, nn.BatchNorm2d)]
    index["bn_layers"] = names
    params = [p for bn in bns for p in (bn.weight, bn.bias)]
    opt = torch.optim.SGD(params, lr=EDGE_LR, momentum=MOMENTUM)
    w = Writer(index, "grad_kd.f32")
    for step, (x, t) in enumerate(zip([x_a, x_b], teachers), start=1):
        opt.zero_grad()
        e = model(x)
        total, l_ent, l_kl, l_ce = kd_terms(e, t)
        total.backward()
        index["scalars"][f"kd{step}.loss"] = float(total.detach())
        index["scalars"][f"kd{step}.entropy"] = float(l_ent.detach())
        index["scalars"][f"kd{step}.kl"] = float(l_kl.detach())
        index["scalars"][f"kd{step}.ce"] = float(l_ce.detach())
        w.add(f"kd{step}.teacher_logits", t)
        w.add(f"kd{step}.student_logits", e)
        for name, bn in zip(names, bns):
            w.add(f"kd{step}.grad.{name}.weight", bn.weight.grad)
            w.add(f"kd{step}.grad.{name}.bias", bn.bias.grad)
        opt.step()
    for name, bn in zip(names, bns):
        w.add(f"after.{name}.running_mean", bn.tbr_mean)
        w.add(f"after.{name}.running_var", bn.tbr_var)
        w.add(f"after.{name}.weight", bn.weight)
        w.add(f"after.{name}.bias", bn.bias)
    w.close()
    print(f"kd: teacher = {index['teacher_source']}; loss step 1 {index['scalars']['kd1.loss']:.6f}, "
          f"step 2 {index['scalars']['kd2.loss']:.6f}")


def foundation_golden(index: dict) -> None:
    """CEMA's foundation step loss mean H(f(x)) exp(E_max0 - H) on batch A, batch-statistics BN."""
    model = make_batch_statistics(load_from_onnx("foundation"))
    for p in model.parameters():
        p.requires_grad_(False)
    # Every norm layer's affine parameters: the BNs and the input standardization (InstanceNorm).
    names = [n for n, m in model.named_modules() if isinstance(m, NORM_TYPES)]
    bns = [m for m in model.modules() if isinstance(m, NORM_TYPES)]
    for bn in bns:
        bn.weight.requires_grad_(True)
        bn.bias.requires_grad_(True)
    x = torch.from_numpy(np.fromfile(os.path.join(GOLDEN, "edge_batch_input.f32"), dtype="<f4")
                         .reshape(N, 1, 28, 28).copy())
    h = entropy(model(x))
    loss = (eata_weights(h) * h).mean()
    loss.backward()
    index["foundation_bn_layers"] = names
    index["scalars"]["foundation.loss"] = float(loss.detach())
    w = Writer(index, "grad_foundation.f32")
    for name, bn in zip(names, bns):
        w.add(f"foundation.grad.{name}.weight", bn.weight.grad)
        w.add(f"foundation.grad.{name}.bias", bn.bias.grad)
    w.close()
    print(f"foundation: entropy loss {float(loss.detach()):.6f}, {len(names)} norm layers")


def loss_golden(index: dict) -> None:
    g = torch.Generator().manual_seed(99)
    s = (torch.randn(4, C, generator=g) * 2).requires_grad_(True)
    t = torch.randn(4, C, generator=g) * 3
    w = Writer(index, "grad_losses.f32")
    w.add("losses.student", s)
    w.add("losses.teacher", t)
    w_t = eata_weights(entropy(t))
    cases = {
        "entropy": lambda: entropy(s).mean(),
        "weighted_entropy": lambda: (eata_weights(entropy(s)) * entropy(s)).mean(),
        "kl": lambda: (w_t * T * T * F.kl_div(F.log_softmax(s / T, 1), F.softmax(t / T, 1),
                                              reduction="none").sum(1)).mean(),
        "ce": lambda: (w_t * F.cross_entropy(s, t.argmax(1), reduction="none")).mean(),
        "distillation": lambda: kd_terms(s, t)[0],
    }
    w.add("losses.teacher_weights", w_t)
    for name, f in cases.items():
        s.grad = None
        v = f()
        v.backward()
        index["scalars"][f"losses.{name}"] = float(v.detach())
        w.add(f"losses.{name}.grad", s.grad)
    w.close()


def sgd_golden(index: dict) -> None:
    g = torch.Generator().manual_seed(5)
    p = torch.randn(5, generator=g).requires_grad_(True)
    grads = torch.randn(3, 5, generator=g)
    w = Writer(index, "grad_sgd.f32")
    w.add("sgd.initial", p)
    w.add("sgd.gradients", grads)
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9)
    after = []
    for k in range(3):
        p.grad = grads[k].clone()
        opt.step()
        after.append(p.detach().clone())
    w.add("sgd.after", torch.stack(after))
    index["scalars"]["sgd.lr"] = 0.1
    index["scalars"]["sgd.momentum"] = 0.9
    w.close()


def main():
    torch.set_num_threads(2)
    torch.manual_seed(0)
    index = {"format": "raw little-endian float32, C order; offset and shape in floats",
             "arrays": {}, "scalars": {}}
    kd_golden(index)
    foundation_golden(index)
    loss_golden(index)
    sgd_golden(index)
    with open(os.path.join(GOLDEN, "grad_golden.json"), "w") as f:
        json.dump(index, f, indent=1, sort_keys=True)
        f.write("\n")
    sizes = {n: os.path.getsize(os.path.join(GOLDEN, n))
             for n in ["grad_kd.f32", "grad_foundation.f32", "grad_losses.f32", "grad_sgd.f32", "grad_golden.json"]}
    print("wrote", sizes)


if __name__ == "__main__":
    main()
