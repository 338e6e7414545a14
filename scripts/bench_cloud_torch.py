"""PyTorch peer of `cema bench-cloud`: CEMA's distillation step (batch 128) and foundation entropy step
(batch 32) on the shipped models, same math as the Swift CloudTrainer, on the CPU.

Distillation: foundation forward with batch-statistics BN (no gradient), edge-copy forward with the
batch-renormalization ("TBR") BN, loss 3*w_e*H(e) + 3*w_t*KL(t||e) + 1*w_t*CE(e, argmax t), backward,
SGD (momentum 0.9) on the BN affine parameters only. Prints the two medians in milliseconds.
"""
import argparse
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models"))
from common import load_from_onnx  # noqa: E402

E_MAX0 = 0.4 * torch.log(torch.tensor(10.0)).item()


class RenormBN(nn.Module):
    """BatchNorm2d in CEMA's training form: batch statistics with the renormalization correction."""

    def __init__(self, bn: nn.BatchNorm2d):
        super().__init__()
        self.weight, self.bias, self.eps = bn.weight, bn.bias, bn.eps
        self.register_buffer("rm", bn.running_mean.clone())
        self.register_buffer("rv", bn.running_var.clone())

    def forward(self, x):
        var, mu = torch.var_mean(x, dim=(0, 2, 3), unbiased=True)
        s = torch.sqrt(var + self.eps)
        rs = torch.sqrt(self.rv + self.eps)
        r, d = (s / rs).detach(), ((mu - self.rm) / rs).detach()
        xhat = (x - mu[None, :, None, None]) / s[None, :, None, None] * r[None, :, None, None] + d[None, :, None, None]
        with torch.no_grad():
            self.rm += 0.1 * (mu - self.rm)
            self.rv += 0.1 * (var - self.rv)
        return xhat * self.weight[None, :, None, None] + self.bias[None, :, None, None]


def swap_bn(module, make):
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d):
            setattr(module, name, make(child))
        else:
            swap_bn(child, make)


def batch_stats(bn):
    bn.track_running_stats = False
    bn.running_mean = bn.running_var = None
    return bn


def norm_params(model):
    for p in model.parameters():
        p.requires_grad_(False)
    ps = [m.weight for m in model.modules() if isinstance(m, (nn.BatchNorm2d, RenormBN))]
    ps += [m.bias for m in model.modules() if isinstance(m, (nn.BatchNorm2d, RenormBN))]
    for p in ps:
        p.requires_grad_(True)
    return ps


def entropy(z):
    return -(F.softmax(z, 1) * F.log_softmax(z, 1)).sum(1)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    student = load_from_onnx("edge").train()
    teacher = load_from_onnx("foundation").train()
    swap_bn(student, RenormBN)
    swap_bn(teacher, batch_stats)
    opt_s = torch.optim.SGD(norm_params(student), lr=2.5e-3, momentum=0.9)
    opt_t = torch.optim.SGD(norm_params(teacher), lr=2.5e-4, momentum=0.9)
    g = torch.Generator().manual_seed(0)
    mixed = torch.randint(0, 256, (128, 1, 28, 28), generator=g).float() / 255
    fresh = torch.randint(0, 256, (32, 1, 28, 28), generator=g).float() / 255

    def distill():
        with torch.no_grad():
            t = teacher(mixed)
        e = student(mixed)
        he, ht = entropy(e), entropy(t)
        we, wt = torch.exp(E_MAX0 - he).detach(), torch.exp(E_MAX0 - ht).detach()
        kl = F.kl_div(F.log_softmax(e, 1), F.softmax(t, 1), reduction="none").sum(1)
        ce = F.cross_entropy(e, t.argmax(1), reduction="none")
        loss = 3 * (we * he).mean() + 3 * (wt * kl).mean() + (wt * ce).mean()
        opt_s.zero_grad(set_to_none=True)
        loss.backward()
        opt_s.step()

    def foundation():
        z = teacher(fresh)
        h = entropy(z)
        loss = (h * torch.exp(E_MAX0 - h).detach()).mean()
        opt_t.zero_grad(set_to_none=True)
        loss.backward()
        opt_t.step()

    def median(f):
        for _ in range(a.warmup):
            f()
        times = []
        for _ in range(a.runs):
            s = time.perf_counter()
            f()
            times.append((time.perf_counter() - s) * 1e3)
        return statistics.median(times)

    print(f"{median(distill):.3f} {median(foundation):.3f}")


if __name__ == "__main__":
    main()
