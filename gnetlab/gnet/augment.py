"""Training-time augmentation of image batches: the official CIFAR-10 G-Net's
``RandomHorizontalFlip()`` + ``RandomAffine(degrees=5, translate=(0.1, 0.1), scale=(0.9, 1.1))``.

Applied to the raw input (pixels in [0, 1], before the model's shift and scale), per sample, with
torchvision's semantics: a horizontal flip with probability ``flip`` (0.5), then a rotation by an angle
uniform in [-degrees, degrees], a scaling uniform in ``scale``, and a translation uniform in
``[-translate * W, translate * W] x [-translate * H, translate * H]`` about the image centre, nearest-
neighbour sampling, pixels from outside filled with 0. Every draw comes from the ``torch.Generator``
passed in (the training loop's seeded one). A spec's ``train.augment`` holds these keyword arguments
(e.g. ``{"flip": 0.5, "degrees": 5, "translate": 0.1, "scale": [0.9, 1.1]}``); it is refused for
inputs that are not images ``(B, C, H, W)``.
"""

from __future__ import annotations

import math
import numbers

import torch
import torch.nn.functional as F

__all__ = ["AUGMENT_KEYS", "check_augment", "augment_batch"]

AUGMENT_KEYS = ("flip", "degrees", "translate", "scale")
_DEFAULTS = {"flip": 0.5, "degrees": 0.0, "translate": 0.0, "scale": [1.0, 1.0]}


def check_augment(augment: dict) -> dict:
    """Validate an augmentation dict; returns it with defaults filled in."""
    if not isinstance(augment, dict):
        raise TypeError(f"augment: expected a dict with keys among {AUGMENT_KEYS}, got {type(augment).__name__}")
    unknown = sorted(set(augment) - set(AUGMENT_KEYS))
    if unknown:
        raise ValueError(f"augment: unknown keys {unknown}; allowed {list(AUGMENT_KEYS)}")
    out = {**_DEFAULTS, **augment}

    def real(v, name, lo, hi):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or not lo <= v <= hi:
            raise ValueError(f"augment[{name!r}]: expected a number in [{lo}, {hi}], got {v!r}")
        return float(v)

    out["flip"] = real(out["flip"], "flip", 0.0, 1.0)
    out["degrees"] = real(out["degrees"], "degrees", 0.0, 180.0)
    out["translate"] = real(out["translate"], "translate", 0.0, 1.0)
    sc = out["scale"]
    if not isinstance(sc, (list, tuple)) or len(sc) != 2:
        raise ValueError(f"augment['scale']: expected [low, high], got {sc!r}")
    lo, hi = (real(v, "scale", 1e-3, 1e3) for v in sc)
    if lo > hi:
        raise ValueError(f"augment['scale']: low {lo} > high {hi}")
    out["scale"] = [lo, hi]
    return out


def augment_batch(x: torch.Tensor, augment: dict, generator: torch.Generator) -> torch.Tensor:
    """A randomly flipped and affinely transformed copy of the image batch ``x`` (B, C, H, W)."""
    if x.ndim != 4:
        raise ValueError(f"augment: needs image batches (B, C, H, W), got shape {tuple(x.shape)}")
    a = check_augment(augment)
    B = x.shape[0]
    u = torch.rand((B, 5), generator=generator)
    flip = u[:, 0] < a["flip"]
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    if a["degrees"] == 0 and a["translate"] == 0 and a["scale"] == [1.0, 1.0]:
        return x
    angle = (2 * u[:, 1] - 1) * math.radians(a["degrees"])
    s = a["scale"][0] + (a["scale"][1] - a["scale"][0]) * u[:, 2]
    # translations in normalised coordinates ([-1, 1] spans the image): a fraction f of the size is 2f
    t = (2 * u[:, 3:5] - 1) * a["translate"] * 2
    cos, sin = torch.cos(angle), torch.sin(angle)
    # output pixel p samples the input at A^{-1} (p - t), A = s R(angle)
    inv = torch.stack([torch.stack([cos, sin], -1), torch.stack([-sin, cos], -1)], -2) / s[:, None, None]
    theta = torch.cat([inv, -(inv @ t[:, :, None])], dim=2)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="nearest", padding_mode="zeros", align_corners=False)
