"""The cost model shared by every model of the comparison: operation counts -> 45 nm energy.

A model's cost is a dict of operation counts per inference (one input) and its stored weight bits:

=================  ====================================================  ==============================
key                operation                                             energy (table entries, pJ)
=================  ====================================================  ==============================
``float_mult_macs``  product with two real operands                      ``fp32_mult + fp32_add``
``float_add_macs``   real operand times a +-1 or ternary weight (add)    ``fp32_add``
``binary_macs``      XNOR-popcount product of +-1 by +-1                 ``binary_xnor + int8_add``
``int8_macs``        ternary weight times 8-bit activation               ``int8_add``
``weight_bits``      stored weight bits                                  -
=================  ====================================================  ==============================

(The popcount accumulation is approximated by an 8-bit add.) Each model family counts its own
operations (:func:`gnetlab.bnn.model_costs`, :func:`gnetlab.gnet.op_counts`,
:meth:`gnetlab.ehd.EHDGNet.op_counts`); this module prices them, so all are priced alike.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

__all__ = ["COUNT_KEYS", "zero_counts", "load_energy_table", "energy_pj"]

#: The operation counts of a cost dict, in table order.
COUNT_KEYS = ("float_mult_macs", "float_add_macs", "binary_macs", "int8_macs", "weight_bits")


def zero_counts() -> dict:
    """An empty cost dict.

    Returns
    -------
    dict of str to int
        Every key of :data:`COUNT_KEYS` set to 0.
    """
    return dict.fromkeys(COUNT_KEYS, 0)


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


def energy_pj(counts: Mapping[str, float], energy_table: Mapping[str, float] | None = None) -> float:
    """Energy of one inference from its operation counts.

    Parameters
    ----------
    counts : mapping of str to number
        The MAC counts of :data:`COUNT_KEYS` (missing keys count 0).
    energy_table : mapping of str to float, optional
        Operation -> pJ; default :func:`load_energy_table`.

    Returns
    -------
    float
        Picojoules per inference.
    """
    e = load_energy_table() if energy_table is None else energy_table
    if not isinstance(counts, Mapping):
        raise TypeError(f"counts: expected a mapping of operation counts, got {type(counts).__name__}")
    # other keys (a model_costs() dict also holds its recipe and energy) are ignored
    bad = {k: v for k, v in counts.items() if k in COUNT_KEYS and (
           isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) or not np.isfinite(v) or v < 0)}
    if bad:
        raise ValueError(f"counts: expected finite non-negative numbers, got {bad}")
    c = {k: counts.get(k, 0) for k in COUNT_KEYS}
    return (c["float_mult_macs"] * (e["fp32_mult"] + e["fp32_add"]) + c["float_add_macs"] * e["fp32_add"]
            + c["binary_macs"] * (e["binary_xnor"] + e["int8_add"]) + c["int8_macs"] * e["int8_add"])
