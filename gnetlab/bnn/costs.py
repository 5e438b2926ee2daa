"""Cost model: weight storage, operation counts and 45 nm energy per inference."""

from __future__ import annotations

from torch import nn

from ..costs import energy_pj, load_energy_table
from .models import QuantLinear

__all__ = ["model_costs", "load_energy_table"]


def model_costs(model: nn.Module, energy_table=None) -> dict:
    """Weight storage and per-inference operation counts of a :class:`BinaryMLP` (one input).

    float MACs: products with a real operand (first layer of every binary model: real pixels x +-1
    weights count as float additions, not multiplies); binary MACs: XNOR-popcount products of +-1 by
    +-1; int8 MACs: ternary weights x 8-bit activations (a select and an 8-bit add). Energy uses the
    45 nm per-operation table (``energy_table``: dict op -> pJ; default
    :func:`gnetlab.costs.load_energy_table`), priced by :func:`gnetlab.costs.energy_pj`.

    Parameters
    ----------
    model : torch.nn.Module
        A :class:`BinaryMLP` (its :class:`QuantLinear` layers are counted).
    energy_table : mapping of str to float, optional
        Operation -> pJ.

    Returns
    -------
    dict
        ``float_mult_macs``, ``float_add_macs``, ``binary_macs``, ``int8_macs``, ``weight_bits`` (int),
        ``energy_pj``, ``weight_bytes`` (float) and ``recipe`` (str).
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
    out["energy_pj"] = energy_pj(out, energy_table)
    out["weight_bytes"] = out["weight_bits"] / 8
    out["recipe"] = recipe
    return out
