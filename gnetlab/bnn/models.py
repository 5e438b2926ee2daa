"""Quantized layers and the multilayer perceptrons of the training recipes."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .._validation import check_choice, check_positive_int, check_real, check_seed
from .quantizers import ClippedSteSign, SteSign, StochasticBinary, XnorWeight, get_quantizer

__all__ = ["QuantLinear", "QuantConv2d", "BinaryMLP", "RECIPES", "build_model", "clip_shadow_weights"]


class QuantLinear(nn.Linear):
    """Linear layer with full-precision shadow weights, quantized in the forward pass.

    Shapes: input (batch, in_features) -> (batch, out_features).

    Parameters
    ----------
    in_features, out_features : int
        Sizes.
    bias : bool, default False
        Learn an additive bias.
    weight_quantizer : str or Quantizer, optional
        Acts on the weight (default identity).
    input_quantizer : str or Quantizer, optional
        Acts on the layer input (default identity).
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
    """Conv2d with quantized shadow weights and inputs (same conventions as :class:`QuantLinear`).

    Parameters
    ----------
    *args
        As ``torch.nn.Conv2d``.
    weight_quantizer : str or Quantizer, optional
        Acts on the weight (default identity).
    input_quantizer : str or Quantizer, optional
        Acts on the layer input (default identity).
    **kwargs
        As ``torch.nn.Conv2d``.
    """

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

    Parameters
    ----------
    in_features : int
        Input size.
    hidden : tuple of int
        Hidden widths.
    n_classes : int
        Output size.
    recipe : str, default "fp32"
        A key of :data:`RECIPES`.
    dropout : float, default 0.0
        Dropout after each hidden activation.
    generator : torch.Generator, optional
        For stochastic quantizers.
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
    """A :class:`BinaryMLP` for ``recipe`` with weights initialised from ``seed``.

    Parameters
    ----------
    recipe : str
        A key of :data:`RECIPES`.
    in_features : int, default 784
        Input size.
    hidden : sequence of int, default (512, 512)
        Hidden widths.
    n_classes : int, default 10
        Output size.
    seed : int
        Initialisation (and the stochastic quantizers' generator, from ``seed + 1``).
    dropout : float, default 0.0
        As :class:`BinaryMLP`.

    Returns
    -------
    BinaryMLP
        The untrained model.
    """
    check_choice(recipe, "recipe", RECIPES)
    in_features = check_positive_int(in_features, "in_features")
    hidden = check_hidden(hidden, "hidden")
    n_classes = check_positive_int(n_classes, "n_classes", minimum=2)
    dropout = check_real(dropout, "dropout", minimum=0, maximum=1, high_open=True)
    seed = check_seed(seed)
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed + 1)
    return BinaryMLP(in_features, hidden, n_classes, recipe, dropout=dropout, generator=gen)


def check_hidden(hidden, name: str) -> tuple[int, ...]:
    """Hidden widths: a list or tuple of integers >= 1 (a string or a bare int is refused)."""
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, (list, tuple)):
        raise TypeError(f"{name}: expected a list or tuple of layer widths, got {hidden!r} ({type(hidden).__name__})")
    return tuple(check_positive_int(h, f"{name}[{i}]") for i, h in enumerate(hidden))


@torch.no_grad()
def clip_shadow_weights(model: nn.Module, bound: float = 1.0) -> None:
    """Clip binary layers' shadow weights to [-bound, bound] (BinaryConnect / BinaryNet), in place.

    Parameters
    ----------
    model : torch.nn.Module
        Its binary-weight :class:`QuantLinear` / :class:`QuantConv2d` layers are clipped.
    bound : float, default 1.0
        Clip bound.
    """
    for m in model.modules():
        if isinstance(m, (QuantLinear, QuantConv2d)) and isinstance(
            m.weight_quantizer, (SteSign, ClippedSteSign, StochasticBinary, XnorWeight)
        ):
            m.weight.clamp_(-bound, bound)

