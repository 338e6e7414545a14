#!/usr/bin/env python3
"""Train and export the CEMA edge / foundation models on Fashion-MNIST (CPU, deterministic).

  nice -n 19 .venv-models/bin/python models/train.py --model edge
  nice -n 19 .venv-models/bin/python models/train.py --model foundation

Writes models/<model>.onnx (BN kept as BatchNormalization nodes with named initializers),
models/<model>.json (architecture counts, accuracy, timing, ONNX summary) and the PyTorch
state dict to models/.cache/<model>.pt (gitignored). `--export-only` re-exports from the
cached state dict without training.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import augment as A  # noqa: E402
from common import (ARCHS, CACHE_DIR, MODELS_DIR, build_model, count_bn_affine,  # noqa: E402
                    count_macs, count_params, export_onnx, load_split, verify_onnx)

DEFAULTS = {
    # edge: plain crop+flip, 15 epochs
    "edge": dict(epochs=15, batch_size=128, lr=0.1, wd=5e-4, aug="basic", jsd=0.0, views=1),
    # foundation: crop+flip+random affine, AugMix views + random erasing, JSD consistency
    # (clean view + 1 AugMix view per image: 2x the compute of plain training per epoch)
    "foundation": dict(epochs=8, batch_size=128, lr=0.1, wd=5e-4, aug="augmix", jsd=12.0, views=1),
}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", choices=sorted(ARCHS), default="edge")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float, help="peak SGD learning rate (1 warm-up epoch, cosine decay)")
    p.add_argument("--wd", type=float, help="weight decay")
    p.add_argument("--aug", choices=["basic", "augmix"], help="basic = crop+flip; augmix = generic AugMix ops")
    p.add_argument("--jsd", type=float, help="AugMix Jensen-Shannon consistency weight (0 = off, 1 view)")
    p.add_argument("--views", type=int, help="AugMix views per image besides the clean one when --jsd > 0 "
                   "(the AugMix paper uses 2; each view costs one more forward/backward)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1,
                   help="torch intra-op threads (1 is much faster than 2 when other jobs share the 2 cores)")
    p.add_argument("--limit-train", type=int, default=0, help="use only the first N training images (smoke tests)")
    p.add_argument("--out-dir", default=MODELS_DIR, help="where <model>.onnx and <model>.json go")
    p.add_argument("--export-only", action="store_true", help="export from models/.cache/<model>.pt, no training")
    p.add_argument("--log-every", type=int, default=100, help="batches between progress lines")
    a = p.parse_args()
    for k, v in DEFAULTS[a.model].items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    return a


@torch.no_grad()
def evaluate(model, x, y, bs=1000):
    model.eval()
    correct = 0
    for i in range(0, len(x), bs):
        correct += (model(x[i:i + bs]).argmax(1) == y[i:i + bs]).sum().item()
    return correct / len(x)


def jsd_loss(logits_list):
    ps = [F.softmax(l, dim=1) for l in logits_list]
    m = torch.clamp(sum(ps) / len(ps), 1e-7, 1).log()
    return sum(F.kl_div(m, p, reduction="batchmean") for p in ps) / len(ps)


def make_views(xb, a, g):
    """Returns the list of training views of a batch (first one is the 'clean' view)."""
    if a.aug == "basic":
        return [A.crop_flip(xb, g)]
    base = A.crop_flip(xb, g)
    aff = torch.rand(base.shape[0], generator=g) < 0.5
    base = torch.where(aff.view(-1, 1, 1, 1), A.random_affine(base, g), base)
    views = [A.random_erasing(A.augmix(base, g), g) for _ in range(a.views if a.jsd > 0 else 1)]
    return [base] + views if a.jsd > 0 else views


def train(a, model, xtr, ytr, xte, yte):
    g = torch.Generator().manual_seed(a.seed)
    n = len(xtr)
    steps_per_epoch = math.ceil(n / a.batch_size)
    total = steps_per_epoch * a.epochs
    warm = max(1, min(steps_per_epoch, total // 10))  # ~1 warm-up epoch
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim == 1 else decay).append(p)
    opt = torch.optim.SGD([{"params": decay, "weight_decay": a.wd},
                           {"params": no_decay, "weight_decay": 0.0}],
                          lr=a.lr, momentum=0.9, nesterov=True)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, total - warm))))
    t0 = time.time()
    history = []
    step = 0
    for ep in range(a.epochs):
        model.train()
        perm = torch.randperm(n, generator=g)
        run_loss = run_acc = seen = 0.0
        te = time.time()
        for bi in range(steps_per_epoch):
            idx = perm[bi * a.batch_size:(bi + 1) * a.batch_size]
            xb, yb = xtr[idx], ytr[idx]
            views = make_views(xb, a, g)
            logits = model(torch.cat(views))
            chunks = logits.split(len(xb))
            loss = F.cross_entropy(chunks[0], yb)
            if a.jsd > 0:
                loss = loss + a.jsd * jsd_loss(chunks)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            run_loss += loss.item() * len(xb)
            run_acc += (chunks[0].argmax(1) == yb).sum().item()
            seen += len(xb)
            if a.log_every and (bi + 1) % a.log_every == 0:
                el = time.time() - t0
                eta = el / step * (total - step)
                print(f"  ep {ep + 1}/{a.epochs} batch {bi + 1}/{steps_per_epoch} loss {run_loss / seen:.4f} "
                      f"train-acc {run_acc / seen:.4f} lr {sched.get_last_lr()[0]:.4f} "
                      f"elapsed {el / 60:.1f}m eta {eta / 60:.1f}m", flush=True)
        acc = evaluate(model, xte, yte)
        history.append({"epoch": ep + 1, "loss": run_loss / seen, "train_acc": run_acc / seen, "test_acc": acc,
                        "epoch_s": time.time() - te})
        print(f"epoch {ep + 1}/{a.epochs}: loss {run_loss / seen:.4f} train-acc {run_acc / seen:.4f} "
              f"test-acc {acc:.4f} ({time.time() - te:.0f}s, total {(time.time() - t0) / 60:.1f}m)", flush=True)
    return history, time.time() - t0


def main():
    a = parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    torch.use_deterministic_algorithms(True)
    model = build_model(a.model)
    params = count_params(model)
    n_bn, bn_affine = count_bn_affine(model)
    macs = count_macs(model)
    print(f"[{a.model}] arch {ARCHS[a.model]}: {params} params, {macs['total']} MACs/image "
          f"({macs['total'] / 1e6:.2f} M; conv {macs['conv']}, linear {macs['linear']}), "
          f"{n_bn} BN layers, {bn_affine} BN gamma+beta elements", flush=True)
    print(f"config: {vars(a)}", flush=True)

    xtr, ytr = load_split("train")
    xte, yte = load_split("test")
    if a.limit_train:
        xtr, ytr = xtr[:a.limit_train], ytr[:a.limit_train]
    os.makedirs(CACHE_DIR, exist_ok=True)
    ckpt = os.path.join(CACHE_DIR, f"{a.model}.pt")
    meta_path = os.path.join(a.out_dir, f"{a.model}.json")
    if a.export_only:
        model.load_state_dict(torch.load(ckpt, map_location="cpu"))
        with open(meta_path) as f:
            meta = json.load(f)
    else:
        history, secs = train(a, model, xtr, ytr, xte, yte)
        torch.save(model.state_dict(), ckpt)
        meta = {"training": {k: v for k, v in vars(a).items() if k not in ("out_dir", "export_only", "log_every")},
                "train_seconds": round(secs, 1), "history": history,
                "torch": torch.__version__}
    model.eval()
    acc = evaluate(model, xte, yte)
    print(f"[{a.model}] clean test accuracy (PyTorch, eval mode): {acc:.4f}", flush=True)

    onnx_path = os.path.join(a.out_dir, f"{a.model}.onnx")
    export_onnx(model, onnx_path)
    summary = verify_onnx(onnx_path, model, xte[:256])
    print(f"[{a.model}] exported {onnx_path} ({summary['size_bytes']} bytes, opset {summary['opset']}); "
          f"onnxruntime max |diff| vs torch = {summary['ort_max_abs_diff']}", flush=True)
    print(f"  ops: {summary['ops']}")
    print(f"  BN initializers (scale, bias, mean, var): {summary['bn_initializers']}")
    meta.update({"model": a.model, "arch": {k: list(v) if isinstance(v, tuple) else v for k, v in ARCHS[a.model].items()},
                 "params": params, "macs": macs, "bn_layers": n_bn, "bn_affine_elements": bn_affine,
                 "test_accuracy": acc, "onnx": summary})
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=1)
    print(f"[{a.model}] wrote {meta_path}")


if __name__ == "__main__":
    main()
