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

Modules: :mod:`~gnetlab.bnn.quantizers`, :mod:`~gnetlab.bnn.models` (layers and recipes),
:mod:`~gnetlab.bnn.train`, :mod:`~gnetlab.bnn.export` (packed BinaryNet), :mod:`~gnetlab.bnn.costs`,
:mod:`~gnetlab.bnn.checkpoint` (trained baselines from specs; the committed defaults).
"""

from .checkpoint import (BNN_CHECKPOINT_FORMAT, check_spec, load_baseline, load_checkpoint, save_baseline,
                         train_and_save, train_from_spec)
from .costs import load_energy_table, model_costs
from .export import PackedBinaryMLP, export_binarynet
from .models import RECIPES, BinaryMLP, QuantConv2d, QuantLinear, build_model, clip_shadow_weights
from .quantizers import QUANTIZERS, Quantizer, get_quantizer
from .train import TrainConfig, evaluate, train_classifier


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
    "load_energy_table",
    "check_spec",
    "train_from_spec",
    "save_baseline",
    "load_checkpoint",
    "train_and_save",
    "load_baseline",
]

