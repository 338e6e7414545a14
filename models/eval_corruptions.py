#!/usr/bin/env python3
"""EVALUATION ONLY: accuracy of the exported models on corrupted Fashion-MNIST test images.

The corruptions below follow the spirit of ImageNet-C / MNIST-C (noise, blur, contrast,
brightness, pixelation) at 5 severities. They exist only to measure robustness; train.py
never imports this file and no training image is ever produced by it.

  nice -n 19 .venv-models/bin/python models/eval_corruptions.py [--n 2000] [--severities 1 3 5]

Models are rebuilt from the committed ONNX files (see common.load_from_onnx).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import MODELS_DIR, load_from_onnx, load_split  # noqa: E402


def gaussian_noise(x, s, g):
    c = [0.08, 0.12, 0.18, 0.26, 0.38][s - 1]
    return x + torch.randn(x.shape, generator=g) * c


def shot_noise(x, s, g):
    c = [60, 25, 12, 5, 3][s - 1]
    return torch.poisson(x * c, generator=g) / c


def impulse_noise(x, s, g):
    amt = [0.03, 0.06, 0.09, 0.17, 0.27][s - 1]
    r = torch.rand(x.shape, generator=g)
    return torch.where(r < amt / 2, torch.zeros_like(x), torch.where(r < amt, torch.ones_like(x), x))


def speckle_noise(x, s, g):
    c = [0.15, 0.2, 0.35, 0.45, 0.6][s - 1]
    return x + x * torch.randn(x.shape, generator=g) * c


def gaussian_blur(x, s, g):
    sigma = [0.5, 0.75, 1.0, 1.25, 1.5][s - 1]
    r = 3
    k = torch.exp(-torch.arange(-r, r + 1, dtype=torch.float32) ** 2 / (2 * sigma ** 2))
    k = k / k.sum()
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="reflect"), k.view(1, 1, 1, -1))
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="reflect"), k.view(1, 1, -1, 1))


def contrast(x, s, g):
    c = [0.4, 0.3, 0.2, 0.1, 0.05][s - 1]
    m = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - m) * c + m


def brightness(x, s, g):
    return x + [0.1, 0.2, 0.3, 0.4, 0.5][s - 1]


def pixelate(x, s, g):
    size = [24, 20, 16, 12, 10][s - 1]
    return F.interpolate(F.interpolate(x, size=(size, size), mode="area"), size=(28, 28), mode="nearest")


CORRUPTIONS = [gaussian_noise, shot_noise, impulse_noise, speckle_noise, gaussian_blur,
               contrast, brightness, pixelate]


@torch.no_grad()
def accuracy(model, x, y, bs=500):
    return sum((model(x[i:i + bs]).argmax(1) == y[i:i + bs]).sum().item() for i in range(0, len(x), bs)) / len(x)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=2000, help="number of test images (first N)")
    p.add_argument("--severities", type=int, nargs="+", default=[1, 3, 5])
    p.add_argument("--models", nargs="+", default=["edge", "foundation"])
    p.add_argument("--json", default=os.path.join(MODELS_DIR, "robustness.json"))
    a = p.parse_args()
    torch.set_num_threads(2)
    x, y = load_split("test")
    x, y = x[:a.n], y[:a.n]
    models = {m: load_from_onnx(m) for m in a.models if os.path.exists(os.path.join(MODELS_DIR, f"{m}.onnx"))}
    res = {m: {"clean": accuracy(mod, x, y)} for m, mod in models.items()}
    for c in CORRUPTIONS:
        for s in a.severities:
            g = torch.Generator().manual_seed(1000 * CORRUPTIONS.index(c) + s)
            xc = c(x, s, g).clamp(0, 1)
            for m, mod in models.items():
                res[m][f"{c.__name__}-{s}"] = accuracy(mod, xc, y)
            print(f"{c.__name__:15s} sev {s}: " + "  ".join(f"{m} {res[m][f'{c.__name__}-{s}']:.3f}" for m in models),
                  flush=True)
    for m in models:
        cs = [v for k, v in res[m].items() if k != "clean"]
        res[m]["mean_corrupted"] = sum(cs) / len(cs)
    print("summary: " + "  ".join(f"{m}: clean {res[m]['clean']:.3f} mean-corrupted {res[m]['mean_corrupted']:.3f}"
                                 for m in models))
    with open(a.json, "w") as f:
        json.dump({"n_test_images": a.n, "severities": a.severities, "results": res}, f, indent=1)


if __name__ == "__main__":
    main()
