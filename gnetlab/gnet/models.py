"""G-Net models built from a JSON-able config, and builders for the paper's and the quick architectures.

A :class:`GNet` is a stack of *blocks* followed by a :class:`~gnetlab.gnet.layers.NormalizedOutput`:

    block = arcsine layer (dense | conv1d | conv2d) -> activation -> [max-pool] -> [dropout]

Its whole structure is a plain dict (``model.config``) of numbers and strings, so a checkpoint stores
the config next to the weights and :func:`GNet.from_config` rebuilds the model without unpickling
code. Config keys:

``input_shape``      list: ``[n]`` for dense input, ``[C, L]`` (conv1d) or ``[C, H, W]`` (conv2d).
``input_shift``,     the model computes ``(x - input_shift) / input_scale`` first (the official MNIST
``input_scale``      code maps pixels in [0, 1] to [-1, 1]: shift 0.5, scale 0.5).
``activation``       ``"asu" | "rasu" | "tasu" | "relu"`` for every block (each block has its own alpha).
``kernel``           optional, ``"arcsine"`` (default; the key is then left out) or ``"cosine"``: the
                     layers output arcsin(cos) (the paper's G-Net) or the cosine itself (the distortion
                     ablation, with ``activation="relu"``); see :data:`~gnetlab.gnet.layers.KERNEL_ACTIVATIONS`.
``blocks``           list of dicts: ``kind`` (``"dense" | "conv1d" | "conv2d"``), ``out`` (units or
                     channels), conv only: ``kernel_size``, ``padding`` (0), ``stride`` (1), ``pool``
                     (max-pool window, 1 = none); all: ``dropout`` (0; channel dropout after a conv
                     block, as the official CIFAR-10 model's Dropout2d), ``weight_std``, ``bn_std``,
                     ``bias_init`` (initialisation).
``n_classes``        number of classes.
``output``           dict: ``weight_std`` (0.6), ``bias_init`` (5e-5), ``dropout`` before it is the
                     last block's ``dropout``.
``seed``             initialisation seed (a ``torch.Generator`` is seeded with it).

The model accepts inputs of shape ``(B, *input_shape)`` or flattened ``(B, prod(input_shape))``
(numpy arrays or tensors through :func:`as_input`) and returns logits ``(B, n_classes)``.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from .._validation import as_array, check_choice, check_positive_int, check_real, check_seed
from .layers import (ACTIVATIONS, ArcsineConv1d, ArcsineConv2d, ArcsineDense, NormalizedOutput, check_kernel,
                     make_activation)

__all__ = ["GNet", "MODELS", "build_model", "model_names", "paper_model_name", "PAPER_FLOAT_ACCURACY", "op_counts"]

# The paper's float G-Net test accuracies (percent) by (dataset, activation), as reported with the
# official code (its checkpoint names); the data file holds only EHD results.
PAPER_FLOAT_ACCURACY = {
    ("mnist", "rasu"): 99.35, ("mnist", "tasu"): 99.15, ("fashion_mnist", "rasu"): 92.63,
    ("cifar10", "rasu"): 84.85, ("epilepsy", "rasu"): 95.65, ("wss", "rasu"): 85.61, ("wss", "tasu"): 82.46,
    ("forda", "rasu"): 92.35,
}

_KINDS = ("dense", "conv1d", "conv2d")
_LAYER_CLASSES = {"dense": ArcsineDense, "conv1d": ArcsineConv1d, "conv2d": ArcsineConv2d}


class GNet(nn.Module):
    """A G-Net from a config dict (see the module docstring); ``forward`` returns logits.

    Parameters
    ----------
    config : dict
        Architecture, activation, input scaling and seed (the builders of :data:`MODELS` make them).
    """

    def __init__(self, config: dict):
        super().__init__()
        config = _check_config(config)
        self.config = config
        gen = torch.Generator().manual_seed(int(config["seed"]))
        shape = tuple(config["input_shape"])
        self.input_shape = shape
        kernel = config.get("kernel", "arcsine")
        self.layers = nn.ModuleList()
        self.activations = nn.ModuleList()
        self.pools: list[int] = []
        self.dropouts = nn.ModuleList()
        for i, spec in enumerate(config["blocks"]):
            kind = spec["kind"]
            init = {k: spec[k] for k in ("weight_std", "bn_std", "bias_init") if k in spec}
            p = float(spec.get("dropout", 0.0))
            if kind == "dense":
                layer = ArcsineDense(int(np.prod(shape)), spec["out"], generator=gen, kernel=kernel, **init)
                shape = (spec["out"],)
                pool = 1
                drop = nn.Dropout(p) if p > 0 else nn.Identity()
            else:
                dims = 1 if kind == "conv1d" else 2
                if len(shape) != dims + 1:
                    raise ValueError(f"config: block {i} ({kind}) needs a {dims + 1}-D input (C, ...), "
                                     f"but the previous stage gives shape {list(shape)}")
                layer = _LAYER_CLASSES[kind](shape[0], spec["out"], spec["kernel_size"],
                                             stride=spec.get("stride", 1), padding=spec.get("padding", 0),
                                             generator=gen, kernel=kernel, **init)
                pool = int(spec.get("pool", 1))
                spatial = [layer.output_length(s) // pool for s in shape[1:]]
                if min(spatial) < 1:
                    raise ValueError(f"config: block {i} reduces the spatial size to {spatial}")
                shape = (spec["out"], *spatial)
                # channel dropout after a conv block (the official CIFAR-10 model's Dropout2d)
                drop = (nn.Dropout1d(p) if dims == 1 else nn.Dropout2d(p)) if p > 0 else nn.Identity()
            self.layers.append(layer)
            self.activations.append(make_activation(config["activation"]))
            self.pools.append(pool)
            self.dropouts.append(drop)
        out = config.get("output", {})
        self.output = NormalizedOutput(int(np.prod(shape)), config["n_classes"], generator=gen,
                                       **{k: out[k] for k in ("weight_std", "bias_init") if k in out})
        self.register_buffer("input_shift", torch.tensor(float(config["input_shift"])), persistent=False)
        self.register_buffer("input_scale", torch.tensor(float(config["input_scale"])), persistent=False)

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def from_config(cls, config: dict | str) -> "GNet":
        """Build from a config dict or its JSON string."""
        if isinstance(config, str):
            try:
                config = json.loads(config)
            except json.JSONDecodeError as exc:
                raise ValueError(f"config: expected a dict or its JSON text, got text that is not JSON ({exc})") from None
        return cls(config)

    @property
    def activation(self) -> str:
        return self.config["activation"]

    @property
    def kernel(self) -> str:
        """``"arcsine"`` (the paper's layers) or ``"cosine"`` (the distortion ablation)."""
        return self.config.get("kernel", "arcsine")

    @property
    def n_classes(self) -> int:
        return int(self.config["n_classes"])

    @property
    def n_features(self) -> int:
        return int(np.prod(self.input_shape))

    # -- forward ------------------------------------------------------------------------------------
    def prepare_input(self, x) -> torch.Tensor:
        """Validate and reshape ``x`` to ``(B, *input_shape)`` float32, then apply shift and scale."""
        x = as_input(x, self.input_shape)
        return (x - self.input_shift) / self.input_scale

    def forward(self, x, *, sign_tasu: bool = False, distort_cosine: bool = False) -> torch.Tensor:
        """Logits ``(B, n_classes)``. ``sign_tasu=True`` replaces tanh(alpha z) by sign(alpha z) (sign(0)
        = +1), the function a TASU EHD G-Net converges to as N grows (its binary pass uses sign).
        ``distort_cosine=True`` (cosine-kernel models only) replaces every layer's cosine c by
        (2/pi) arcsin(c), the function the uncompensated EHD twin converges to as N grows."""
        self._check_distort(distort_cosine)
        x = self.prepare_input(x)
        for layer, act, pool, drop in zip(self.layers, self.activations, self.pools, self.dropouts):
            if isinstance(layer, ArcsineDense) and x.ndim > 2:
                x = x.reshape(x.shape[0], -1)
            z = layer(x)
            if distort_cosine:
                z = torch.asin(z) * (2 / math.pi)
            if sign_tasu and act.name == "tasu":
                x = torch.where(act.alpha * z >= 0, 1.0, -1.0)
            else:
                x = act(z)
            if pool > 1:
                x = (F.max_pool1d if x.ndim == 3 else F.max_pool2d)(x, pool)
            x = drop(x)
        return self.output(x.reshape(x.shape[0], -1))

    def _check_distort(self, distort_cosine) -> None:
        if distort_cosine and self.kernel != "cosine":
            raise ValueError(f"distort_cosine: only for cosine-kernel G-Nets; this model's kernel is {self.kernel!r}")

    @torch.no_grad()
    def predict(self, x, *, batch_size: int = 1000, sign_tasu: bool = False,
                distort_cosine: bool = False) -> np.ndarray:
        """Predicted classes (int64 numpy ``(B,)``), in evaluation mode (the mode is restored);
        ``sign_tasu``, ``distort_cosine``: see :meth:`forward`."""
        from ..threads import single_thread

        batch_size = check_positive_int(batch_size, "batch_size")
        self._check_distort(distort_cosine)
        was = self.training
        self.eval()
        try:
            xs = as_input(x, self.input_shape)
            with single_thread():
                out = [self(xs[i:i + batch_size], sign_tasu=sign_tasu, distort_cosine=distort_cosine).argmax(1)
                       for i in range(0, xs.shape[0], batch_size)]
        finally:
            self.train(was)
        return torch.cat(out).numpy().astype(np.int64) if out else np.zeros(0, np.int64)


def as_input(x, input_shape: tuple[int, ...]) -> torch.Tensor:
    """``x`` (numpy or tensor, ``(B, *input_shape)`` or ``(B, prod(input_shape))``) as float32 tensor."""
    if not isinstance(x, torch.Tensor):
        arr = as_array(x, "x", dtype_kind="fiub")
        x = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))
    elif x.is_complex():
        raise TypeError(f"x: expected a real (float, int or bool) tensor, got dtype={x.dtype}")
    x = x.float()
    n = int(np.prod(input_shape))
    if x.ndim >= 1 and tuple(x.shape[1:]) == tuple(input_shape):
        out = x
    elif x.ndim == 2 and x.shape[1] == n:
        out = x.reshape((x.shape[0], *input_shape))
    else:
        alt = "" if len(input_shape) == 1 else f" or (batch, {', '.join(map(str, input_shape))})"
        raise ValueError(f"x: expected shape (batch, {n}){alt} for this model, got {tuple(x.shape)}" + (" (for one sample use x[None])" if x.ndim == 1 else ""))
    if not torch.isfinite(out).all():
        raise ValueError(f"x: contains non-finite values ({int(torch.isnan(out).sum())} NaN, "
                         f"{int(torch.isinf(out).sum())} inf)")
    return out


def _check_config(config: dict) -> dict:
    if not isinstance(config, dict):
        raise TypeError(f"config: expected a dict, got {type(config).__name__}")
    config = copy.deepcopy(config)
    for key in ("input_shape", "blocks", "n_classes", "activation"):
        if key not in config:
            raise ValueError(f"config: missing key {key!r}")
    config.setdefault("input_shift", 0.0)
    config.setdefault("input_scale", 1.0)
    config.setdefault("seed", 0)
    config.setdefault("output", {})
    shape = config["input_shape"]
    if isinstance(shape, (str, bytes)) or not isinstance(shape, (list, tuple)) or not shape:
        raise ValueError(f"config['input_shape']: expected a non-empty list of positive integers, got {shape!r}")
    config["input_shape"] = [check_positive_int(s, f"config['input_shape'][{i}]") for i, s in enumerate(shape)]
    check_choice(config["activation"], "activation", ACTIVATIONS)
    if "kernel" in config:
        check_kernel(config["kernel"], config["activation"])
        if config["kernel"] == "arcsine":
            del config["kernel"]  # the default is left out, so a paper G-Net's config is the same either way
    else:
        check_kernel("arcsine", config["activation"])
    if not isinstance(config["blocks"], (list, tuple)) or not config["blocks"]:
        raise ValueError(f"config['blocks']: at least one arcsine block (a list of dicts) is required, "
                         f"got {config['blocks']!r}")
    n_classes = config["n_classes"]
    if isinstance(n_classes, bool) or not isinstance(n_classes, int) or n_classes < 2:
        raise ValueError(f"config: n_classes must be an integer >= 2, got {n_classes!r}")
    config["input_shift"] = check_real(config["input_shift"], "config['input_shift']")
    config["input_scale"] = check_real(config["input_scale"], "config['input_scale']", nonzero=True)
    config["seed"] = check_seed(config["seed"], "config['seed']")
    if not isinstance(config["output"], dict):
        raise TypeError(f"config['output']: expected a dict, got {type(config['output']).__name__}")
    for key in ("weight_std", "bias_init"):
        if key in config["output"]:
            check_real(config["output"][key], f"config['output'][{key!r}]")
    seen_dense = False
    for i, b in enumerate(config["blocks"]):
        if not isinstance(b, dict):
            raise TypeError(f"config['blocks'][{i}]: expected a dict, got {type(b).__name__}")
        if b.get("kind") not in _KINDS:
            raise ValueError(f"config: block {i} has unknown kind {b.get('kind')!r}; expected one of {_KINDS}")
        if isinstance(b.get("out"), bool) or not isinstance(b.get("out"), int) or b["out"] < 1:
            raise ValueError(f"config: block {i} needs 'out' >= 1, got {b.get('out')!r}")
        if b["kind"] == "dense":
            seen_dense = True
        else:
            if seen_dense:
                raise ValueError(f"config: block {i} ({b['kind']}) follows a dense block; convs must come first")
            if "kernel_size" not in b:
                raise ValueError(f"config: block {i} ({b['kind']}) needs 'kernel_size'")
            for key, minimum in (("kernel_size", 1), ("stride", 1), ("pool", 1), ("padding", 0)):
                if key in b:
                    check_positive_int(b[key], f"config['blocks'][{i}][{key!r}]", minimum=minimum)
        for key in ("weight_std", "bn_std", "bias_init"):
            if key in b:
                check_real(b[key], f"config['blocks'][{i}][{key!r}]")
        if "dropout" in b:
            check_real(b["dropout"], f"config['blocks'][{i}]['dropout']", minimum=0, maximum=1, high_open=True)
    json.dumps(config)  # must be JSON-able (a checkpoint stores it as text)
    return config


# --------------------------------------------------------------------------------------------------
# Builders


def _base(input_shape, n_classes, activation, seed, blocks, *, shift=0.0, scale=1.0, output=None):
    return {"input_shape": list(input_shape), "input_shift": shift, "input_scale": scale,
            "activation": activation, "blocks": blocks, "n_classes": n_classes,
            "output": output or {"weight_std": 0.6, "bias_init": 5e-5}, "seed": seed}


def _conv(kind, out, k, p, *, pool=1, dropout=0.0, std=0.05, bias=1e-3, bn_std=0.05):
    return {"kind": kind, "out": out, "kernel_size": k, "padding": p, "pool": pool, "dropout": dropout,
            "weight_std": std, "bn_std": bn_std, "bias_init": bias}


def _dense(out, *, dropout=0.0, std=0.3, bias=5e-6, bn_std=0.1):
    return {"kind": "dense", "out": out, "dropout": dropout, "weight_std": std, "bn_std": bn_std, "bias_init": bias}


def mnist_config(activation="rasu", seed=0):
    """Paper MNIST: Conv(1->32,k5,p2) pool2 Conv(32->64,k5,p2) pool2 Dense(3136->512) dropout 0.5 out(10).
    Inputs are pixels in [0, 1], mapped to [-1, 1] as in the official code."""
    return _base([1, 28, 28], 10, activation, seed,
                 [_conv("conv2d", 32, 5, 2, pool=2, std=0.05, bias=1e-3),
                  _conv("conv2d", 64, 5, 2, pool=2, std=0.05, bias=1e-2),
                  _dense(512, dropout=0.5, std=0.3)], shift=0.5, scale=0.5)


def fashion_mnist_config(activation="rasu", seed=0):
    """Paper FashionMNIST: Conv(1->32,k3,p1) pool2 Dense(6272->512) dropout 0.3 out(10)."""
    return _base([1, 28, 28], 10, activation, seed,
                 [_conv("conv2d", 32, 3, 1, pool=2), _dense(512, dropout=0.3)], shift=0.5, scale=0.5)


def cifar10_config(activation="rasu", seed=0):
    """Paper CIFAR-10: Conv(3->32,k5,p2) pool2 Conv(32->64,k3,p1) pool2 Dropout2d 0.3 Dense(4096->512)
    out(10). Training augmentation (flip, small affine) is the training loop's business."""
    return _base([3, 32, 32], 10, activation, seed,
                 [_conv("conv2d", 32, 5, 2, pool=2), _conv("conv2d", 64, 3, 1, pool=2, dropout=0.3),
                  _dense(512)], shift=0.5, scale=0.5)


def epilepsy_config(activation="rasu", seed=0, n_classes=4, channels=3, length=206):
    """Paper UEA Epilepsy: Conv1d(3->64,k11,p5) pool2 Conv1d(64->48,k7,p3) pool2 out(4)."""
    return _base([channels, length], n_classes, activation, seed,
                 [_conv("conv1d", 64, 11, 5, pool=2), _conv("conv1d", 48, 7, 3, pool=2)])


def wss_config(activation="rasu", seed=0):
    """Paper UEA WalkingSittingStanding: as Epilepsy, 6 classes (3 channels, length 206)."""
    return epilepsy_config(activation, seed, n_classes=6)


def forda_config(activation="rasu", seed=0, length=500):
    """Paper UCR FordA (z-scored series): 3 x Conv1d (1->16 k15 p7, 16->16 k15 p7, 16->25 k13 p6), no
    pooling, out(2)."""
    return _base([1, length], 2, activation, seed,
                 [_conv("conv1d", 16, 15, 7, std=0.05, bias=1.5e-3),
                  _conv("conv1d", 16, 15, 7, std=0.15, bias=1.5e-3),
                  _conv("conv1d", 25, 13, 6, std=0.15, bias=1.5e-3)])


def mnist_dense_config(activation="rasu", seed=0, hidden=(256, 256), dropout=0.2, input_features=784,
                       n_classes=10):
    """Quick CPU model for the MNIST subset: ``len(hidden)`` dense arcsine layers then out(10).
    Inputs are pixels in [0, 1] mapped to [-1, 1] as in the paper's MNIST code."""
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, (list, tuple)):
        raise TypeError(f"hidden: expected a list or tuple of layer widths, got {hidden!r}")
    hidden = [check_positive_int(h, f"hidden[{i}]") for i, h in enumerate(hidden)]
    if len(hidden) < 1:
        raise ValueError("hidden: at least one hidden layer is required, got ()")
    dropout = check_real(dropout, "dropout", minimum=0, maximum=1, high_open=True)
    input_features = check_positive_int(input_features, "input_features")
    n_classes = check_positive_int(n_classes, "n_classes", minimum=2)
    blocks = [_dense(h, dropout=(dropout if i == len(hidden) - 1 else 0.0), std=0.1) for i, h in enumerate(hidden)]
    return _base([input_features], n_classes, activation, seed, blocks, shift=0.5, scale=0.5)


def mnist_conv_small_config(activation="rasu", seed=0):
    """Small conv model for the MNIST subset: Conv(1->8,k5,p2) pool2 Conv(8->16,k5,p2) pool2
    Dense(784->128) dropout 0.2 out(10) (EHD inference of its convs is slow on a CPU)."""
    return _base([1, 28, 28], 10, activation, seed,
                 [_conv("conv2d", 8, 5, 2, pool=2), _conv("conv2d", 16, 5, 2, pool=2, bias=1e-2),
                  _dense(128, dropout=0.2)], shift=0.5, scale=0.5)


def digits_conv_config(activation="rasu", seed=0):
    """Small conv model for scikit-learn's 8x8 digits: Conv(1->16,k3,p1) pool2 Dense(256->64) dropout 0.2
    out(10). Inputs are pixel values in [0, 1] (the loader's /16), mapped to [-1, 1]."""
    return _base([1, 8, 8], 10, activation, seed,
                 [_conv("conv2d", 16, 3, 1, pool=2), _dense(64, dropout=0.2, std=0.1)], shift=0.5, scale=0.5)


MODELS = {
    "mnist": mnist_config,
    "fashion_mnist": fashion_mnist_config,
    "cifar10": cifar10_config,
    "epilepsy": epilepsy_config,
    "wss": wss_config,
    "forda": forda_config,
    "mnist_dense": mnist_dense_config,
    "mnist_conv_small": mnist_conv_small_config,
    "digits_conv": digits_conv_config,
}


def op_counts(model: GNet) -> dict:
    """Operation counts of one inference of a dense float G-Net, for :func:`gnetlab.costs.energy_pj`.

    Every layer is a float matrix product: one float multiply-accumulate per entry of each 2-D weight
    (norms, arcsine and activations are O(width) extras, not counted); every parameter is stored as
    float32.

    Parameters
    ----------
    model : GNet
        A dense G-Net.

    Returns
    -------
    dict of str to int
        The keys of :data:`gnetlab.costs.COUNT_KEYS`.
    """
    from ..costs import zero_counts

    out = zero_counts()
    out["float_mult_macs"] = sum(p.numel() for _, p in model.named_parameters() if p.ndim == 2)
    out["weight_bits"] = 32 * sum(p.numel() for p in model.parameters())
    return out


def model_names() -> list[str]:
    """Names of the model builders.

    Returns
    -------
    list of str
        The keys of :data:`MODELS`.
    """
    return list(MODELS)


def paper_model_name(dataset: str) -> str:
    """The builder name of the paper architecture for ``dataset`` (identity, validated)."""
    if dataset not in MODELS or dataset.startswith("mnist_") or dataset == "digits_conv":
        raise ValueError(f"dataset: no paper architecture for {dataset!r}")
    return dataset


def build_model(name: str, *, activation: str = "rasu", kernel: str = "arcsine", seed: int = 0,
                **kwargs: Any) -> GNet:
    """Build a G-Net by architecture name.

    Parameters
    ----------
    name : str
        One of :func:`model_names`.
    activation : {"asu", "rasu", "tasu", "relu"}, default "rasu"
        Activation of every arcsine layer (``"relu"`` only with ``kernel="cosine"``).
    kernel : {"arcsine", "cosine"}, default "arcsine"
        The layers' output: arcsin(cos) (the paper's G-Net) or the cosine (the distortion ablation;
        a spec passes it in ``model_kwargs``).
    seed : int, default 0
        Initial weights.
    **kwargs
        Options of the config builder (e.g. ``hidden=(256, 256)`` for ``"mnist_dense"``).

    Returns
    -------
    GNet
        The untrained model.
    """
    if not isinstance(name, str) or name not in MODELS:
        raise ValueError(f"name: unknown architecture {name!r}; expected one of {', '.join(map(repr, MODELS))}")
    kernel = check_kernel(kernel, activation)
    seed = check_seed(seed)
    import inspect

    allowed = set(inspect.signature(MODELS[name]).parameters) - {"activation", "seed"}
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise TypeError(f"build_model({name!r}): unexpected options {unknown}; expected a subset of {sorted(allowed)}")
    config = MODELS[name](activation=activation, seed=seed, **kwargs)
    if kernel != "arcsine":
        config["kernel"] = kernel
    return GNet(config)
