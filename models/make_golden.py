#!/usr/bin/env python3
"""Write golden input/logit files for the runtime's tests, readable without numpy:
raw little-endian float32, C order, no header.

  .venv-models/bin/python models/make_golden.py            # both models
  .venv-models/bin/python models/make_golden.py --model edge

For each model M in {edge, foundation}:
  models/golden/M_batch_input.f32   [16,1,28,28]  first 16 Fashion-MNIST test images, pixels/255
  models/golden/M_batch_logits.f32  [16,10]       PyTorch eval-mode logits of models/M.onnx's weights
and, shared:
  models/golden/batch_labels.u8     [16]          ground-truth labels (uint8)

The PyTorch model is rebuilt from the committed ONNX file's initializers (they carry the
state-dict names), so this needs neither training nor the gitignored .pt cache.
If onnxruntime is installed, its logits are checked against PyTorch's (max |diff| <= 1e-4).
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import MODELS_DIR, load_from_onnx, load_split  # noqa: E402

N = 16


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=["edge", "foundation", "all"], default="all")
    p.add_argument("--out-dir", default=os.path.join(MODELS_DIR, "golden"))
    a = p.parse_args()
    torch.set_num_threads(2)
    os.makedirs(a.out_dir, exist_ok=True)
    x, y = load_split("test")
    x, y = x[:N].contiguous(), y[:N]
    y.numpy().astype(np.uint8).tofile(os.path.join(a.out_dir, "batch_labels.u8"))
    for name in (["edge", "foundation"] if a.model == "all" else [a.model]):
        onnx_path = os.path.join(MODELS_DIR, f"{name}.onnx")
        if not os.path.exists(onnx_path):
            print(f"skip {name}: {onnx_path} not found")
            continue
        model = load_from_onnx(name, onnx_path)
        with torch.no_grad():
            logits = model(x).numpy().astype("<f4")
        inp = x.numpy().astype("<f4")
        inp.tofile(os.path.join(a.out_dir, f"{name}_batch_input.f32"))
        logits.tofile(os.path.join(a.out_dir, f"{name}_batch_logits.f32"))
        msg = ""
        try:
            import onnxruntime as ort
            sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
            diff = float(np.abs(sess.run(["logits"], {"input": inp})[0] - logits).max())
            assert diff <= 1e-4, f"onnxruntime differs from torch by {diff}"
            msg = f", onnxruntime max |diff| {diff:.2e}"
        except ImportError:
            pass
        pred = logits.argmax(1)
        print(f"{name}: wrote {inp.shape} input + {logits.shape} logits; argmax {pred.tolist()} "
              f"labels {y.tolist()} ({int((pred == y.numpy()).sum())}/{N} correct){msg}")


if __name__ == "__main__":
    main()
