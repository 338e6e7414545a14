"""Batched, generic training augmentations on float images [B,1,H,W] in [0,1].

Deliberately contains NO ImageNet-C-style corruption (no noise, blur, fog, frost, snow,
contrast/brightness changes, pixelation, JPEG, elastic transforms...): the foundation
model must not have seen the corruptions it is later evaluated on. Following AugMix
(Hendrycks et al., 2020) the op set is: autocontrast, equalize, posterize, solarize,
rotate, shear_x/y, translate_x/y; plus random crop/flip, random affine and random erasing.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def _affine(x: torch.Tensor, theta: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode=mode, padding_mode="zeros", align_corners=False)


def _identity_theta(b: int) -> torch.Tensor:
    t = torch.zeros(b, 2, 3)
    t[:, 0, 0] = 1
    t[:, 1, 1] = 1
    return t


def crop_flip(x: torch.Tensor, g: torch.Generator, pad: int = 2, flip: bool = True) -> torch.Tensor:
    """Random integer translation by up to `pad` px (== pad + random crop) and horizontal flip."""
    b, _, h, w = x.shape
    xp = F.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (b,), generator=g)
    dx = torch.randint(0, 2 * pad + 1, (b,), generator=g)
    rows = (dy[:, None] + torch.arange(h)[None, :])            # [B,H]
    cols = (dx[:, None] + torch.arange(w)[None, :])            # [B,W]
    if flip:
        f = torch.rand(b, generator=g) < 0.5
        cols = torch.where(f[:, None], cols.flip(1), cols)
    bi = torch.arange(b)[:, None, None]
    return xp[bi, 0, rows[:, :, None], cols[:, None, :]].unsqueeze(1)


def random_affine(x: torch.Tensor, g: torch.Generator, deg: float = 15, translate: float = 0.1,
                  scale=(0.9, 1.1), shear: float = 0.15) -> torch.Tensor:
    b = x.shape[0]
    u = lambda lo, hi: lo + (hi - lo) * torch.rand(b, generator=g)
    a = u(-deg, deg) * math.pi / 180
    s = u(*scale)
    sh = u(-shear, shear)
    tx, ty = u(-translate, translate) * 2, u(-translate, translate) * 2
    theta = torch.zeros(b, 2, 3)
    cos, sin = torch.cos(a) / s, torch.sin(a) / s
    theta[:, 0, 0] = cos
    theta[:, 0, 1] = -sin + sh
    theta[:, 1, 0] = sin
    theta[:, 1, 1] = cos
    theta[:, 0, 2] = tx
    theta[:, 1, 2] = ty
    return _affine(x, theta)


def random_erasing(x: torch.Tensor, g: torch.Generator, p: float = 0.5,
                   area=(0.02, 0.2), ratio=(0.3, 3.3)) -> torch.Tensor:
    """Erase one random rectangle per selected image, filled with a uniform random value."""
    b, _, h, w = x.shape
    sel = torch.rand(b, generator=g) < p
    ar = area[0] + (area[1] - area[0]) * torch.rand(b, generator=g)
    lr = math.log(ratio[0]) + (math.log(ratio[1]) - math.log(ratio[0])) * torch.rand(b, generator=g)
    r = torch.exp(lr)
    eh = (torch.sqrt(ar * h * w * r)).round().clamp(1, h).long()
    ew = (torch.sqrt(ar * h * w / r)).round().clamp(1, w).long()
    y0 = (torch.rand(b, generator=g) * (h - eh + 1).float()).long()
    x0 = (torch.rand(b, generator=g) * (w - ew + 1).float()).long()
    ys = torch.arange(h)[None, :]
    xs = torch.arange(w)[None, :]
    my = (ys >= y0[:, None]) & (ys < (y0 + eh)[:, None])
    mx = (xs >= x0[:, None]) & (xs < (x0 + ew)[:, None])
    mask = (my[:, :, None] & mx[:, None, :] & sel[:, None, None]).unsqueeze(1)
    fill = torch.rand(b, 1, 1, 1, generator=g).expand_as(x)
    return torch.where(mask, fill, x)


# ---- AugMix ops (each takes x [n,1,H,W], level in (0,1] per sample [n]) -------------------
def _autocontrast(x, lvl, g):
    lo = x.amin(dim=(1, 2, 3), keepdim=True)
    hi = x.amax(dim=(1, 2, 3), keepdim=True)
    return torch.where(hi > lo, (x - lo) / (hi - lo).clamp_min(1e-6), x)


def _equalize(x, lvl, g):
    n = x.shape[0]
    q = (x * 255).round().long().clamp(0, 255).view(n, -1)
    hist = torch.zeros(n, 256).scatter_add_(1, q, torch.ones_like(q, dtype=torch.float32))
    cdf = hist.cumsum(1)
    cdf_min = torch.where(hist > 0, cdf, torch.full_like(cdf, float("inf"))).amin(1, keepdim=True)
    denom = (cdf[:, -1:] - cdf_min).clamp_min(1)
    lut = ((cdf - cdf_min) / denom).clamp(0, 1)
    return lut.gather(1, q).view_as(x)


def _posterize(x, lvl, g):
    # AugMix: keep 4 - int(level*4) bits (level fraction in (0, severity/10])
    dropped = 4 + (lvl * 4).floor().clamp(0, 3)
    step = torch.pow(2.0, dropped).view(-1, 1, 1, 1)
    return torch.floor(x * 255 / step) * step / 255


def _solarize(x, lvl, g):
    thr = (1 - lvl).view(-1, 1, 1, 1)
    return torch.where(x >= thr, 1 - x, x)


def _sign(n, g):
    return torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0)


def _rotate(x, lvl, g):
    a = lvl * 30 * math.pi / 180 * _sign(x.shape[0], g)
    t = _identity_theta(x.shape[0])
    t[:, 0, 0] = torch.cos(a)
    t[:, 0, 1] = -torch.sin(a)
    t[:, 1, 0] = torch.sin(a)
    t[:, 1, 1] = torch.cos(a)
    return _affine(x, t)


def _shear_x(x, lvl, g):
    t = _identity_theta(x.shape[0])
    t[:, 0, 1] = lvl * 0.3 * _sign(x.shape[0], g)
    return _affine(x, t)


def _shear_y(x, lvl, g):
    t = _identity_theta(x.shape[0])
    t[:, 1, 0] = lvl * 0.3 * _sign(x.shape[0], g)
    return _affine(x, t)


def _translate_x(x, lvl, g):
    t = _identity_theta(x.shape[0])
    t[:, 0, 2] = lvl * (2 / 3) * _sign(x.shape[0], g)   # up to 1/3 of the width
    return _affine(x, t)


def _translate_y(x, lvl, g):
    t = _identity_theta(x.shape[0])
    t[:, 1, 2] = lvl * (2 / 3) * _sign(x.shape[0], g)
    return _affine(x, t)


AUGMIX_OPS = [_autocontrast, _equalize, _posterize, _solarize, _rotate,
              _shear_x, _shear_y, _translate_x, _translate_y]


def augmix(x: torch.Tensor, g: torch.Generator, severity: int = 3, width: int = 3,
           depth: int = -1, alpha: float = 1.0) -> torch.Tensor:
    """Batched AugMix: `width` chains of 1-3 random ops each (per-sample op choice),
    Dirichlet(alpha)-weighted sum, Beta(alpha, alpha)-mixed with the original."""
    b = x.shape[0]
    dir_ = torch.distributions.Dirichlet(torch.full((width,), alpha))
    beta = torch.distributions.Beta(torch.tensor(alpha), torch.tensor(alpha))
    # torch.distributions use the global RNG; seed-determinism comes from torch.manual_seed.
    ws = dir_.sample((b,))                        # [B,width]
    m = beta.sample((b,)).view(b, 1, 1, 1)
    mix = torch.zeros_like(x)
    for i in range(width):
        xi = x
        d = depth if depth > 0 else int(torch.randint(1, 4, (1,), generator=g))
        for _ in range(d):
            op_idx = torch.randint(0, len(AUGMIX_OPS), (b,), generator=g)
            # AugMix level ~ U(0.1, severity) on a 0..10 scale -> fraction of each op's max
            lvl = (0.1 + (severity - 0.1) * torch.rand(b, generator=g)) / 10
            out = xi.clone()
            for k, op in enumerate(AUGMIX_OPS):
                sel = (op_idx == k).nonzero(as_tuple=True)[0]
                if sel.numel():
                    out[sel] = op(xi[sel], lvl[sel], g)
            xi = out
        mix = mix + ws[:, i].view(b, 1, 1, 1) * xi
    return (m * x + (1 - m) * mix).clamp(0, 1)
