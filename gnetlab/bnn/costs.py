"""Cost model: weight storage, operation counts and 45 nm energy per inference."""

from __future__ import annotations

from torch import nn

from .models import QuantLinear

__all__ = ['model_costs', 'load_energy_table']


def model_costs(model: nn.Module, energy_table=None) -> dict:
    """Weight storage and per-inference operation counts of a :class:`BinaryMLP` (one input).

    float MACs: products with a real operand (first layer of every binary model: real pixels x +-1
    weights count as float additions, not multiplies); binary MACs: XNOR-popcount products of +-1 by
    +-1; int8 MACs: ternary weights x 8-bit activations (a select and an 8-bit add). Energy uses the
    45 nm per-operation table (``energy_table``: dict op -> pJ; default the values in
    gnetlab/data/energy_45nm.csv): float MAC = mult + add, float add-only MAC = add, binary MAC = XNOR +
    INT8 add (popcount accumulation approximated by an 8-bit add), int8 MAC = INT8 add.
    """
    if energy_table is None:
        energy_table = load_energy_table()
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
    """Energy per operation (pJ, 45 nm), package data ``gnetlab/data/energy_45nm.csv`` (source in that file).

    Returns
    -------
    dict of str to float
        Operation name -> picojoules.
    """
    from importlib import resources

    import pandas as pd

    with (resources.files("gnetlab") / "data" / "energy_45nm.csv").open("r", encoding="utf-8") as f:
        df = pd.read_csv(f, comment="#")
    return dict(zip(df.operation, df.energy_pj.astype(float)))
