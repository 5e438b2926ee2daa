"""Binarized-network baselines: quantizers, binary layers, models, training recipes, packed export.

Quantizers are first-class objects, separate from layers (as in Larq). Each one documents its forward
map and its pseudo-gradient; ``get_quantizer(name)`` resolves names, and ``q.config()`` round-trips
through ``get_quantizer(**config)``. Convention everywhere: sign(0) = +1.

=================  ==============================================  =======================================
name               forward                                         backward (pseudo-gradient)
=================  ==============================================  =======================================
``ste_sign``       sign(x)                                         identity (straight-through estimator)
``clipped_ste``    sign(x)                                         1[|x| <= 1] (BinaryNet, Hubara 2016)
``stochastic``     +1 w.p. (clip(x,-1,1)+1)/2 in training,          1[|x| <= 1]
                   sign(x) in eval (BinaryConnect, Courbariaux 2015)
``xnor``           alpha_c * sign(W), alpha_c = mean |W| over the  clipped STE through sign, alpha carried
                   fan-in of output channel c (XNOR-Net, Rastegari  as a constant scale
                   2016); for weights
``ternary``        gamma * t, t in {-1, 0, +1}, t = sign(w) if      identity (STE)
                   |w| > threshold * gamma else 0, gamma = mean|W|
                   (BitNet b1.58 "absmean": threshold 0.5 equals
                   round-and-clip of w / gamma)
``int8``           per-sample absmax 8-bit: round(x * 127 / max|x|)  identity (STE)
                   * max|x| / 127 (BitNet b1.58 activations)
``identity``       x                                               identity
=================  ==============================================  =======================================

Models (``build_model``): a multilayer perceptron whose hidden layers are quantized per the recipe:

- ``fp32``: float weights and activations (ReLU) — the baseline;
- ``binaryconnect``: binary weights (deterministic sign, or ``stochastic``), real activations (ReLU);
- ``binarynet``: binary weights and binary activations (clipped STE), BatchNorm before each sign;
- ``xnor``: XNOR-Net scaled binary weights, binary activations;
- ``ternary``: ternary weights (absmean threshold) and 8-bit activations.

All keep full-precision shadow weights (the optimiser updates the float tensors; the quantizer is
applied in every forward pass); BinaryConnect/BinaryNet/XNOR clip the shadow weights to [-1, 1] after
each step (``clip_shadow_weights``). The first layer sees real pixels (its weights are still
quantized), as in all three papers. A trained BinaryNet exports to packed bits
(:func:`export_binarynet`) and runs on the popcount kernels with identical predictions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ._validation import as_array, check_choice, check_positive_int, check_real, check_seed

__all__ = [
    "QUANTIZERS",
    "Quantizer",
    "get_quantizer",
    "QuantLinear",
    "QuantConv2d",
    "BinaryMLP",
    "RECIPES",
    "build_model",
    "clip_shadow_weights",
    "TrainConfig",
    "train_classifier",
    "evaluate",
    "export_binarynet",
    "PackedBinaryMLP",
    "model_costs",
    "check_spec",
    "train_from_spec",
    "save_baseline",
    "load_checkpoint",
    "train_and_save",
    "load_baseline",
]


# ----------------------------------------------------------------------------------- quantizers

def _sign(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))


class _SignSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, clip):
        ctx.save_for_backward(x)
        ctx.clip = clip
        return _sign(x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if ctx.clip:
            grad = grad * (x.abs() <= 1).to(grad.dtype)
        return grad, None


class _Straight(torch.autograd.Function):
    """Forward ``quantized``; backward identity to ``x`` (straight-through)."""

    @staticmethod
    def forward(ctx, x, quantized):
        return quantized

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class Quantizer(nn.Module):
    """Base class: ``forward(x)`` quantizes; ``config()`` returns the kwargs that rebuild it."""

    name = "identity"

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # identity
        return x

    def config(self) -> dict:
        return {"name": self.name}

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.config().items() if k != "name")


class SteSign(Quantizer):
    name = "ste_sign"

    def forward(self, x):
        return _SignSTE.apply(x, False)


class ClippedSteSign(Quantizer):
    name = "clipped_ste"

    def forward(self, x):
        return _SignSTE.apply(x, True)


class StochasticBinary(Quantizer):
    """BinaryConnect's stochastic binarization. ``generator`` (a torch.Generator) makes it reproducible."""

    name = "stochastic"

    def __init__(self, generator: torch.Generator | None = None):
        super().__init__()
        self.generator = generator

    def forward(self, x):
        if not self.training:
            return _SignSTE.apply(x, True)
        p = (x.detach().clamp(-1, 1) + 1) / 2
        u = torch.rand(x.shape, generator=self.generator, dtype=x.dtype, device=x.device)
        hard = torch.where(u < p, torch.ones_like(x), -torch.ones_like(x))
        # pseudo-gradient: clipped identity
        return x * (x.detach().abs() <= 1) - (x * (x.detach().abs() <= 1)).detach() + hard


class XnorWeight(Quantizer):
    """alpha_c sign(W_c) with alpha_c = mean |W_c| over all but the first (output-channel) axis."""

    name = "xnor"

    def forward(self, w):
        if w.ndim < 2:
            raise ValueError(f"xnor quantizer: expected a weight of ndim >= 2 (out, ...), got shape {tuple(w.shape)}")
        alpha = w.detach().abs().mean(dim=tuple(range(1, w.ndim)), keepdim=True)
        return _SignSTE.apply(w, True) * alpha


class Ternary(Quantizer):
    """Ternary weights gamma * t, t = sign(w) * 1[|w| > threshold * gamma], gamma = mean |W| (per tensor)."""

    name = "ternary"

    def __init__(self, threshold: float = 0.5):
        super().__init__()
        if not 0 <= threshold < 10 or not math.isfinite(threshold):
            raise ValueError(f"threshold: expected a ratio in [0, 10), got {threshold}")
        self.threshold = float(threshold)

    def ternarize(self, w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        gamma = w.detach().abs().mean().clamp_min(1e-8)
        t = torch.where(w.detach().abs() > self.threshold * gamma, _sign(w.detach()), torch.zeros_like(w))
        return t, gamma

    def forward(self, w):
        t, gamma = self.ternarize(w)
        return _Straight.apply(w, t * gamma)

    def config(self):
        return {"name": self.name, "threshold": self.threshold}


class Int8Activation(Quantizer):
    """Per-sample absmax 8-bit quantization (levels -127..127), straight-through gradient."""

    name = "int8"

    def forward(self, x):
        dims = tuple(range(1, x.ndim)) if x.ndim > 1 else (0,)
        scale = x.detach().abs().amax(dim=dims, keepdim=True).clamp_min(1e-8) / 127.0
        q = torch.round(x.detach() / scale).clamp(-127, 127) * scale
        return _Straight.apply(x, q)


QUANTIZERS = {q.name: q for q in (Quantizer, SteSign, ClippedSteSign, StochasticBinary, XnorWeight, Ternary,
                                  Int8Activation)}


def get_quantizer(name: str | Quantizer | None = None, **kwargs) -> Quantizer:
    """Resolve a quantizer by name (see the module table); instances pass through."""
    if isinstance(name, Quantizer):
        return name
    name = "identity" if name is None else name
    if not isinstance(name, str) or name not in QUANTIZERS:
        raise ValueError(f"name: unknown quantizer {name!r}; available: {', '.join(QUANTIZERS)}")
    return QUANTIZERS[name](**kwargs)


# ----------------------------------------------------------------------------------- layers

class QuantLinear(nn.Linear):
    """Linear layer with full-precision shadow weights, quantized in the forward pass.

    Shapes: input (batch, in_features) -> (batch, out_features). ``weight_quantizer`` acts on the
    weight, ``input_quantizer`` on the layer input.
    """

    def __init__(self, in_features, out_features, *, bias=False, weight_quantizer=None, input_quantizer=None):
        super().__init__(in_features, out_features, bias=bias)
        self.weight_quantizer = get_quantizer(weight_quantizer)
        self.input_quantizer = get_quantizer(input_quantizer)

    def quantized_weight(self) -> torch.Tensor:
        return self.weight_quantizer(self.weight)

    def forward(self, x):
        return F.linear(self.input_quantizer(x), self.quantized_weight(), self.bias)


class QuantConv2d(nn.Conv2d):
    """Conv2d with quantized shadow weights and inputs (same conventions as :class:`QuantLinear`)."""

    def __init__(self, *args, weight_quantizer=None, input_quantizer=None, **kwargs):
        kwargs.setdefault("bias", False)
        super().__init__(*args, **kwargs)
        self.weight_quantizer = get_quantizer(weight_quantizer)
        self.input_quantizer = get_quantizer(input_quantizer)

    def forward(self, x):
        return self._conv_forward(self.input_quantizer(x), self.weight_quantizer(self.weight), self.bias)


# ----------------------------------------------------------------------------------- models

RECIPES = {
    # recipe: (weight quantizer, activation quantizer for hidden layers, nonlinearity for real activations)
    "fp32": ("identity", None, "relu"),
    "binaryconnect": ("clipped_ste", None, "relu"),
    "binaryconnect_stochastic": ("stochastic", None, "relu"),
    "binarynet": ("clipped_ste", "clipped_ste", None),
    "xnor": ("xnor", "clipped_ste", None),
    "ternary": ("ternary", "int8", "relu"),
}


class BinaryMLP(nn.Module):
    """MLP: [QuantLinear -> BatchNorm1d -> act] * len(hidden) -> QuantLinear -> BatchNorm1d (logits).

    ``act`` is ReLU for real-activation recipes; for binary-activation recipes the *next* layer's
    input quantizer (a sign) is the nonlinearity, so hidden representations are +-1. The final
    BatchNorm (affine) scales logits, as in BinaryNet. Input (batch, in_features) in [0, 1]; it is
    centred to [-1, 1] inside so that the first layer's sign weights see a zero-mean input.
    """

    def __init__(self, in_features: int, hidden: tuple[int, ...], n_classes: int, recipe: str = "fp32",
                 dropout: float = 0.0, generator: torch.Generator | None = None):
        super().__init__()
        check_choice(recipe, "recipe", RECIPES)
        wq, aq, nonlin = RECIPES[recipe]
        self.recipe = recipe
        self.spec = dict(in_features=in_features, hidden=tuple(hidden), n_classes=n_classes, recipe=recipe,
                         dropout=dropout)
        sizes = [in_features, *hidden, n_classes]
        layers = []
        for i in range(len(sizes) - 1):
            wq_i = get_quantizer(wq, generator=generator) if wq == "stochastic" else get_quantizer(wq)
            aq_i = None if i == 0 else aq  # the first layer sees real pixels
            layers.append(QuantLinear(sizes[i], sizes[i + 1], weight_quantizer=wq_i, input_quantizer=aq_i))
            layers.append(nn.BatchNorm1d(sizes[i + 1]))
            if i < len(sizes) - 2:
                if nonlin == "relu":
                    layers.append(nn.ReLU())
                if dropout:
                    layers.append(nn.Dropout(dropout))
        self.net = nn.Sequential(*layers)

    def set_activation_quantizer(self, name: str | None) -> None:
        """Switch hidden-layer input quantizers (progressive binarization: weights first, then activations)."""
        linears = [m for m in self.net if isinstance(m, QuantLinear)]
        for lin in linears[1:]:
            lin.input_quantizer = get_quantizer(name)
        if name is not None:
            # Binary activations replace ReLU: a ReLU before a sign would make every activation +1.
            self.net = nn.Sequential(*[m for m in self.net if not isinstance(m, nn.ReLU)])
            if self.recipe == "binaryconnect" and get_quantizer(name).name in ("ste_sign", "clipped_ste"):
                # sign weights + sign activations: the model is now a BinaryNet (export, costs, clipping)
                self.recipe = self.spec["recipe"] = "binarynet"

    def forward(self, x):
        if x.ndim != 2 or x.shape[1] != self.spec["in_features"]:
            raise ValueError(f"x: expected shape (batch, {self.spec['in_features']}), got {tuple(x.shape)}")
        return self.net(2 * x - 1)


def build_model(recipe: str, in_features: int = 784, hidden=(512, 512), n_classes: int = 10, *, seed: int,
                dropout: float = 0.0) -> BinaryMLP:
    """A :class:`BinaryMLP` for ``recipe`` with weights initialised from ``seed``."""
    check_choice(recipe, "recipe", RECIPES)
    in_features = check_positive_int(in_features, "in_features")
    hidden = _check_hidden(hidden, "hidden")
    n_classes = check_positive_int(n_classes, "n_classes", minimum=2)
    dropout = check_real(dropout, "dropout", minimum=0, maximum=1, high_open=True)
    seed = check_seed(seed)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    return BinaryMLP(in_features, hidden, n_classes, recipe, dropout=dropout, generator=gen)


def _check_hidden(hidden, name: str) -> tuple[int, ...]:
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, (list, tuple)):
        raise TypeError(f"{name}: expected a list or tuple of layer widths, got {hidden!r} ({type(hidden).__name__})")
    return tuple(check_positive_int(h, f"{name}[{i}]") for i, h in enumerate(hidden))


@torch.no_grad()
def clip_shadow_weights(model: nn.Module, bound: float = 1.0) -> None:
    """Clip binary layers' shadow weights to [-bound, bound] (BinaryConnect / BinaryNet)."""
    for m in model.modules():
        if isinstance(m, (QuantLinear, QuantConv2d)) and isinstance(
            m.weight_quantizer, (SteSign, ClippedSteSign, StochasticBinary, XnorWeight)
        ):
            m.weight.clamp_(-bound, bound)


# ----------------------------------------------------------------------------------- training

@dataclass
class TrainConfig:
    epochs: int = 20
    batch_size: int = 100
    lr: float = 1e-3
    weight_decay: float = 0.0
    val_fraction: float = 0.1
    seed: int = 0
    # progressive binarization: activations are binarized from this epoch on (None: from the start)
    binarize_activations_from: int | None = None
    # distillation from a float teacher: loss = (1-a) CE + a T^2 KL(teacher_T || student_T)
    distill_alpha: float = 0.0
    distill_temperature: float = 4.0
    history: list = field(default_factory=list)


def evaluate(model: nn.Module, X, y, batch_size: int = 1000) -> float:
    """Accuracy (fraction) of ``model`` on float32 ``X`` (n, d) and int64 ``y`` (n,)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module (e.g. a BinaryMLP), got {type(model).__name__}")
    batch_size = check_positive_int(batch_size, "batch_size")
    X = torch.as_tensor(as_array(X, "X", dtype_kind="f", ndim=2, finite=True, dtype=np.float32))
    y = torch.as_tensor(as_array(y, "y", dtype_kind="iu", ndim=1))
    if len(y) != len(X):
        raise ValueError(f"y: expected {len(X)} labels (one per row of X), got {len(y)}")
    if len(X) == 0:
        raise ValueError("X: expected at least one sample to evaluate, got 0 (accuracy of an empty set is undefined)")
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(X), batch_size):
            correct += (model(X[i:i + batch_size]).argmax(1) == y[i:i + batch_size]).sum().item()
    return correct / max(len(X), 1)


def train_classifier(model: nn.Module, X, y, cfg: TrainConfig, *, teacher: nn.Module | None = None,
                     progress_desc: str | None = None) -> nn.Module:
    """Adam + ReduceLROnPlateau on a seeded validation split; keeps the best-validation weights.

    Returns the model (trained in place) with ``cfg.history`` filled (epoch, train loss, val acc).
    """

    from .progress import progress

    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module (e.g. a BinaryMLP), got {type(model).__name__}")
    _check_train_config(cfg)
    X = as_array(X, "X", dtype_kind="f", ndim=2, finite=True, dtype=np.float32)
    y = as_array(y, "y", dtype_kind="iu", ndim=1)
    if len(X) != len(y):
        raise ValueError(f"X, y: {len(X)} samples vs {len(y)} labels")
    if cfg.distill_alpha and teacher is None:
        raise ValueError("distill_alpha > 0 needs a teacher model")
    rng = np.random.default_rng(cfg.seed)
    perm = rng.permutation(len(X))
    n_val = int(round(cfg.val_fraction * len(X)))
    val, tr = perm[:n_val], perm[n_val:]
    Xtr, ytr = torch.from_numpy(X[tr]), torch.from_numpy(y[tr]).long()
    gen = torch.Generator().manual_seed(cfg.seed)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=3)
    clip = getattr(model, "recipe", "fp32") in {"binaryconnect", "binaryconnect_stochastic", "binarynet", "xnor"}
    bar = progress(range(cfg.epochs), desc=progress_desc or f"train {getattr(model, 'recipe', '')}")
    # Small MLPs: one torch thread is faster than several (thread hand-offs dominate, badly so on a
    # loaded machine) and makes the trained weights independent of the machine's core count.
    from .gnet.train import single_thread

    with single_thread():
        _train_epochs(model, bar, cfg, X, y, Xtr, ytr, val, gen, opt, sched, clip, teacher)
    model.eval()
    return model


def _check_train_config(cfg) -> None:
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"cfg: expected a gnetlab.bnn.TrainConfig, got {type(cfg).__name__}")
    check_positive_int(cfg.epochs, "cfg.epochs")
    check_positive_int(cfg.batch_size, "cfg.batch_size")
    check_real(cfg.lr, "cfg.lr", minimum=0, low_open=True)
    check_real(cfg.weight_decay, "cfg.weight_decay", minimum=0)
    check_real(cfg.val_fraction, "cfg.val_fraction", minimum=0, maximum=1, high_open=True)
    check_seed(cfg.seed, "cfg.seed")
    if cfg.binarize_activations_from is not None:
        check_positive_int(cfg.binarize_activations_from, "cfg.binarize_activations_from", minimum=0)
    check_real(cfg.distill_alpha, "cfg.distill_alpha", minimum=0, maximum=1)
    check_real(cfg.distill_temperature, "cfg.distill_temperature", minimum=0, low_open=True)


def _train_epochs(model, bar, cfg, X, y, Xtr, ytr, val, gen, opt, sched, clip, teacher):
    import copy

    n_val = len(val)
    best, best_state = -1.0, None
    for epoch in bar:
        if cfg.binarize_activations_from is not None and epoch == cfg.binarize_activations_from:
            model.set_activation_quantizer("clipped_ste")
            best, best_state = -1.0, None  # earlier checkpoints have real activations
        model.train()
        order = torch.randperm(len(Xtr), generator=gen)
        total = 0.0
        for i in range(0, len(order), cfg.batch_size):
            idx = order[i:i + cfg.batch_size]
            xb, yb = Xtr[idx], ytr[idx]
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            if cfg.distill_alpha:
                with torch.no_grad():
                    teacher.eval()
                    soft = F.softmax(teacher(xb) / cfg.distill_temperature, dim=1)
                kd = F.kl_div(F.log_softmax(logits / cfg.distill_temperature, dim=1), soft, reduction="batchmean")
                loss = (1 - cfg.distill_alpha) * loss + cfg.distill_alpha * cfg.distill_temperature**2 * kd
            opt.zero_grad()
            loss.backward()
            opt.step()
            if clip:
                clip_shadow_weights(model)
            total += loss.item() * len(idx)
        acc = evaluate(model, X[val], y[val]) if n_val else float("nan")
        sched.step(acc)
        cfg.history.append((epoch, total / len(order), acc))
        if acc >= best:
            best, best_state = acc, copy.deepcopy(model.state_dict())
    if best_state is not None:
        model.load_state_dict(best_state)


# ----------------------------------------------------------------------------------- packed export

@dataclass
class PackedBinaryMLP:
    """A BinaryNet MLP as packed bits, running on the popcount kernels.

    Layer 0: real input x (centred to [-1, 1]) times sign weights -> float (``sign_weight_matmul``).
    Layers 1..: +-1 inputs and +-1 weights -> exact integer dot products (``binary_matmul``).
    Each BatchNorm + sign pair is folded into a per-unit comparison of the pre-activation with a
    threshold (direction given by the sign of the BN scale); the final BatchNorm is applied as an
    affine map to produce logits. Weight storage: 1 bit per weight plus 2 floats per unit.
    """

    first_weights: object  # PackedBits of sign(W0), (h0, d)
    hidden_weights: list  # PackedBits per later layer
    thresholds: list  # per hidden BN: (tau, flip) float64/bool arrays of length h_l
    out_scale: np.ndarray
    out_shift: np.ndarray
    in_features: int

    def decision_function(self, X, *, backend: str = "auto") -> np.ndarray:
        from . import binary_matmul, pack_signs, sign_weight_matmul

        X = as_array(X, "X", dtype_kind="f", ndim=2, finite=True, dtype=np.float32)
        if X.shape[1] != self.in_features:
            raise ValueError(f"X: expected {self.in_features} features, got {X.shape[1]}")
        pre = sign_weight_matmul(2 * X - 1, self.first_weights, backend=backend).astype(np.float64)
        for (tau, flip), W in zip(self.thresholds, [*self.hidden_weights, None]):
            bits = (pre >= tau) ^ flip  # True -> +1
            signs = np.where(bits, np.int8(1), np.int8(-1))
            if W is None:
                break
            pre = binary_matmul(pack_signs(signs), W, backend=backend).astype(np.float64)
        return pre * self.out_scale + self.out_shift

    def predict(self, X, *, backend: str = "auto") -> np.ndarray:
        return self.decision_function(X, backend=backend).argmax(1)

    def weight_bytes(self) -> int:
        words = self.first_weights.words.nbytes + sum(W.words.nbytes for W in self.hidden_weights)
        return int(words + sum(t.size * 8 + f.size for t, f in self.thresholds) + 16 * self.out_scale.size)


def _bn_affine(bn: nn.BatchNorm1d) -> tuple[np.ndarray, np.ndarray]:
    g = bn.weight.detach().double().numpy()
    b = bn.bias.detach().double().numpy()
    m = bn.running_mean.detach().double().numpy()
    v = bn.running_var.detach().double().numpy()
    s = g / np.sqrt(v + bn.eps)
    return s, b - m * s


@torch.no_grad()
def export_binarynet(model: BinaryMLP) -> PackedBinaryMLP:
    """Export a trained ``binarynet`` :class:`BinaryMLP` to :class:`PackedBinaryMLP`."""
    from . import pack_signs

    if not isinstance(model, BinaryMLP) or model.recipe != "binarynet":
        raise ValueError("export_binarynet: expected a BinaryMLP built with recipe='binarynet'")
    model.eval()
    linears = [m for m in model.net if isinstance(m, QuantLinear)]
    bns = [m for m in model.net if isinstance(m, nn.BatchNorm1d)]
    if any(not isinstance(l.input_quantizer, (ClippedSteSign, SteSign)) for l in linears[1:]):
        raise ValueError("export_binarynet: hidden layers must have binary (sign) input quantizers")
    W = [_sign(l.weight).numpy().astype(np.int8) for l in linears]
    thresholds = []
    for bn in bns[:-1]:
        s, t = _bn_affine(bn)
        if np.any(s == 0):
            raise ValueError("export_binarynet: a BatchNorm scale is exactly 0; its unit is constant")
        # sign(s*a + t) = +1  <=>  a >= -t/s (s > 0)  or  a <= -t/s (s < 0)
        tau = -t / s
        flip = s < 0
        # a == tau with s < 0 gives s*a+t = 0 -> +1: handled by nudging tau for the flipped units
        tau = np.where(flip, np.nextafter(tau, np.inf), tau)
        thresholds.append((tau, flip))
    s_out, t_out = _bn_affine(bns[-1])
    return PackedBinaryMLP(pack_signs(W[0]), [pack_signs(w) for w in W[1:]], thresholds, s_out, t_out,
                           model.spec["in_features"])


# ----------------------------------------------------------------------------------- costs

def model_costs(model: nn.Module, energy_table=None) -> dict:
    """Weight storage and per-inference operation counts of a :class:`BinaryMLP` (one input).

    float MACs: products with a real operand (first layer of every binary model: real pixels x +-1
    weights count as float additions, not multiplies); binary MACs: XNOR-popcount products of +-1 by
    +-1; int8 MACs: ternary weights x 8-bit activations (a select and an 8-bit add). Energy uses the
    45 nm per-operation table (``energy_table``: dict op -> pJ; default the values in
    data/energy_45nm.csv): float MAC = mult + add, float add-only MAC = add, binary MAC = XNOR +
    INT8 add (popcount accumulation approximated by an 8-bit add), int8 MAC = INT8 add.
    """
    if energy_table is None:
        energy_table = load_energy_table()
    if not isinstance(model, nn.Module):
        raise TypeError(f"model: expected a torch.nn.Module (e.g. a BinaryMLP), got {type(model).__name__}")
    recipe = getattr(model, "recipe", "fp32")
    linears = [m for m in model.modules() if isinstance(m, QuantLinear)]
    out = dict(float_mult_macs=0, float_add_macs=0, binary_macs=0, int8_macs=0, weight_bits=0)
    for i, lin in enumerate(linears):
        n = lin.in_features * lin.out_features
        wq = lin.weight_quantizer.name
        binary_w = wq in {"ste_sign", "clipped_ste", "stochastic", "xnor"}
        binary_in = lin.input_quantizer.name in {"ste_sign", "clipped_ste"}
        if wq == "identity":
            out["float_mult_macs"] += n
            out["weight_bits"] += 32 * n
        elif wq == "ternary":
            out["int8_macs" if lin.input_quantizer.name == "int8" else "float_add_macs"] += n
            out["weight_bits"] += 2 * n
        elif binary_w and binary_in:
            out["binary_macs"] += n
            out["weight_bits"] += n
        else:  # binary weights, real inputs: sign-controlled additions
            out["float_add_macs"] += n
            out["weight_bits"] += n
        if wq == "xnor":
            out["weight_bits"] += 32 * lin.out_features  # alpha per channel
    e = energy_table
    out["energy_pj"] = (out["float_mult_macs"] * (e["fp32_mult"] + e["fp32_add"]) + out["float_add_macs"] * e["fp32_add"]
                        + out["binary_macs"] * (e["binary_xnor"] + e["int8_add"]) + out["int8_macs"] * e["int8_add"])
    out["weight_bytes"] = out["weight_bits"] / 8
    out["recipe"] = recipe
    return out


def load_energy_table() -> dict:
    """Energy per operation (pJ, 45 nm) from data/energy_45nm.csv (source and notes in that file)."""
    import pandas as pd

    from . import paths

    df = pd.read_csv(paths.DATA / "energy_45nm.csv", comment="#")
    return dict(zip(df.operation, df.energy_pj.astype(float)))


# ----------------------------------------------------------------------------------- checkpoints
# Trained baselines are committed like the G-Nets (gnetlab.checkpoints): same weights on every CPU.

BNN_CHECKPOINT_FORMAT = "gnetlab.bnn/1"
_BNN_SPEC_KEYS = {"dataset", "data_seed", "recipe", "hidden", "seed", "train", "teacher"}
_BNN_TRAIN_KEYS = {"epochs", "batch_size", "lr", "weight_decay", "val_fraction", "binarize_activations_from",
                   "distill_alpha", "distill_temperature"}


def check_spec(spec: dict) -> dict:
    """Validate a baseline spec (the ``bnn_models`` entries of the config) and return it normalised.

    Keys: ``dataset``, ``data_seed``, ``recipe`` (a :data:`RECIPES` name), ``hidden`` (widths), ``seed``,
    ``train`` (:class:`TrainConfig` fields) and optionally ``teacher`` (``{"name", "spec"}`` of the FP32
    network a distilled student learns from).
    """
    import json

    if not isinstance(spec, dict):
        raise TypeError(f"spec: expected a dict, got {type(spec).__name__}")
    unknown = set(spec) - _BNN_SPEC_KEYS
    missing = {"dataset", "recipe", "hidden", "seed", "train"} - set(spec)
    if unknown or missing:
        raise ValueError(f"spec: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}; "
                         f"allowed {sorted(_BNN_SPEC_KEYS)}")
    check_choice(spec["recipe"], "spec['recipe']", RECIPES)
    if not isinstance(spec["train"], dict) or set(spec["train"]) - _BNN_TRAIN_KEYS:
        raise ValueError(f"spec['train']: expected a dict with keys from {sorted(_BNN_TRAIN_KEYS)}, "
                         f"got {spec['train']!r}")
    _check_hidden(spec["hidden"], "spec['hidden']")
    check_seed(spec["seed"], "spec['seed']")
    check_seed(spec.get("data_seed", 0), "spec['data_seed']")
    teacher = spec.get("teacher")
    if teacher is not None and (not isinstance(teacher, dict) or set(teacher) != {"name", "spec"}):
        raise ValueError(f"spec['teacher']: expected None or {{'name': ..., 'spec': ...}}, got {teacher!r}")
    spec = json.loads(json.dumps(spec, sort_keys=True))
    spec.setdefault("data_seed", 0)
    return spec


def _spec_model(spec: dict) -> BinaryMLP:
    from . import datasets

    X, _ = datasets.load(spec["dataset"], split="train", seed=spec["data_seed"])
    return build_model(spec["recipe"], in_features=X.shape[1], hidden=spec["hidden"], seed=spec["seed"])


def train_from_spec(spec: dict, *, progress: bool = True) -> tuple[BinaryMLP, dict]:
    """Train the baseline of ``spec`` from scratch: ``(model in eval mode, metadata)``."""
    from . import datasets
    from .checkpoints import data_fingerprint as _data_fingerprint

    spec = check_spec(spec)
    X, y = datasets.load(spec["dataset"], split="train", seed=spec["data_seed"])
    Xte, yte = datasets.load(spec["dataset"], split="test", seed=spec["data_seed"])
    teacher = None
    if spec.get("teacher") is not None:
        teacher = load_baseline(spec["teacher"]["name"], spec["teacher"]["spec"], progress=progress)[0]
    model = _spec_model(spec)
    cfg = TrainConfig(seed=spec["seed"], **spec["train"])
    train_classifier(model, X, y, cfg, teacher=teacher, progress_desc=f"train {spec['recipe']}")
    meta = {"spec": spec, "data_sha256": _data_fingerprint(X, y), "test_acc": evaluate(model, Xte, yte),
            "history": [list(h) for h in cfg.history]}
    return model, meta


def save_baseline(model: BinaryMLP, path, *, metadata: dict) -> None:
    """Write a trained baseline (weights + metadata + sidecar) to ``path`` atomically."""
    import json
    from pathlib import Path

    from .checkpoints import write_sidecar
    from .io import atomic_path

    if not isinstance(model, BinaryMLP):
        raise TypeError(f"model: expected a gnetlab.bnn.BinaryMLP, got {type(model).__name__}")
    path = Path(path)
    payload = {"format": BNN_CHECKPOINT_FORMAT, "metadata": json.dumps(metadata, sort_keys=True),
               "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    write_sidecar(path, kind="bnn", name=path.stem, spec=metadata["spec"], data_sha256=metadata["data_sha256"],
                  results={"test_acc": metadata["test_acc"]})


def load_checkpoint(path) -> tuple[BinaryMLP, dict]:
    """Load a baseline written by :func:`save_baseline`: ``(model in eval mode, metadata)``."""
    import json

    from .checkpoints import CheckpointError, safe_torch_load

    payload = safe_torch_load(path)
    if not isinstance(payload, dict) or payload.get("format") != BNN_CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not a gnetlab baseline checkpoint (expected format "
                              f"{BNN_CHECKPOINT_FORMAT!r})")
    meta = json.loads(payload["metadata"])
    spec = check_spec(meta["spec"])
    model = _spec_model(spec)
    if spec["train"].get("binarize_activations_from") is not None:
        model.set_activation_quantizer("clipped_ste")  # the architecture the trained weights belong to
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return model, meta


def train_and_save(name: str, spec: dict, path, *, progress: bool = True):
    """Train ``spec`` from scratch and save it to ``path`` (``python -m gnetlab.zoo retrain``)."""
    model, meta = train_from_spec(spec, progress=progress)
    save_baseline(model, path, metadata=meta)
    return path


def load_baseline(name: str, spec: dict, *, progress: bool = True) -> tuple[BinaryMLP, dict]:
    """The trained baseline ``name`` of ``spec``, resolved like :func:`gnetlab.gnet.load_model`:
    ``$GNETLAB_MODELS_DIR`` (retraining mode), else the committed ``data/models/<name>.pt`` when it holds
    exactly this spec, else ``results/models/<name>.pt`` (trained there when missing or stale)."""
    from . import datasets, paths
    from .checkpoints import CheckpointError, committed, models_dir_override
    from .checkpoints import data_fingerprint as _data_fingerprint

    spec = check_spec(spec)
    X, y = datasets.load(spec["dataset"], split="train", seed=spec["data_seed"])
    fingerprint = _data_fingerprint(X, y)
    override = models_dir_override()
    if override is None:
        path = committed(name, spec, kind="bnn")
        if path is not None:
            model, meta = load_checkpoint(path)
            if meta["data_sha256"] != fingerprint:
                raise CheckpointError(f"committed checkpoint {path} was trained on other data than the current "
                                      f"{spec['dataset']!r} split; retrain it with "
                                      f"`python -m gnetlab.zoo retrain {name}`")
            return model, meta
    path = (override or paths.RESULTS / "models") / f"{name}.pt"
    if path.exists():
        model, meta = load_checkpoint(path)
        if meta["spec"] == spec and meta["data_sha256"] == fingerprint:
            return model, meta
    model, meta = train_from_spec(spec, progress=progress)
    save_baseline(model, path, metadata=meta)
    return model, meta
