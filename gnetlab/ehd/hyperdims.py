"""Hyperdimensions of an EHD G-Net: one N per arcsine layer plus the classifier's.

Either given (``hyperdim=``, an int for all or a sequence) or from the paper's rule
``N_l = round_hyperdim(ratio_l * n_l)`` with ``n_l`` the official size (:func:`layer_sizes`: fan-in of a
dense layer, *all* weights out*in*k^d of a conv layer, as the official code's ``w.shape[1:].numel()`` on
an unsqueezed weight, and the input size of the classifier) and the official rounding to a multiple of
1000 (remainder > 100 rounds up).
"""

from __future__ import annotations

import math
import numbers

from .._validation import check_positive_int


def _check_gnet(model) -> None:
    from ..gnet.models import GNet

    if not isinstance(model, GNet):
        raise TypeError(f"model: expected a gnetlab.gnet.GNet, got {type(model).__name__}")


def per_layer(value, name: str, n_layers: int) -> list:
    """A number for every layer, or a list/tuple/1-D array with one value per layer (a string is refused,
    not split into characters)."""
    if isinstance(value, numbers.Number):
        return [value] * n_layers
    if isinstance(value, (list, tuple)) or (hasattr(value, "ndim") and value.ndim == 1):
        return list(value)
    raise TypeError(f"{name}: expected a number or a list of {n_layers} numbers (one per arcsine layer and the "
                    f"classifier), got {value!r} ({type(value).__name__})")

__all__ = ["round_hyperdim", "layer_sizes", "resolve_hyperdims"]


def round_hyperdim(n: float) -> int:
    """The official rounding of a hyperdimension to a multiple of 1000: remainder > 100 rounds up.

    Parameters
    ----------
    n : float
        Finite, non-negative.

    Returns
    -------
    int
        ``round_hyperdim(9408) == 10000``, ``round_hyperdim(4100) == 4000``,
        ``round_hyperdim(4101) == 5000``.
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Real) or not math.isfinite(n) or n < 0:
        raise ValueError(f"n: expected a finite non-negative number, got {n!r}")
    base = math.floor(n / 1000) * 1000
    return int(base + 1000 if n - base > 100 else base)


def layer_sizes(model) -> list[int]:
    """The size n_l each hyperdimension ratio multiplies, per arcsine layer and for the classifier.

    Parameters
    ----------
    model : gnetlab.gnet.GNet
        The float network.

    Returns
    -------
    list of int
        One size per arcsine layer, then the classifier's. Dense: fan-in; conv: all weights
        (out * in * k^d), as in the official code; classifier: its input size. E.g. the paper's MNIST
        model gives [800, 51200, 3136, 512].
    """
    _check_gnet(model)
    sizes = []
    for layer in model.layers:
        sizes.append(layer.in_features if hasattr(layer, "in_features") else int(layer.weight.numel()))
    sizes.append(model.output.in_features)
    return sizes


def resolve_hyperdims(model, *, hyperdim=None, ratio=None) -> list[int]:
    """One N per arcsine layer plus the classifier's, from ``hyperdim`` or ``ratio`` (exactly one).

    Parameters
    ----------
    model : gnetlab.gnet.GNet
        The float network.
    hyperdim : int or sequence of int, optional
        The same N everywhere, or one per arcsine layer plus the classifier's.
    ratio : float or sequence of float, optional
        ``N_l = round_hyperdim(ratio_l * n_l)`` with ``n_l`` from :func:`layer_sizes`.

    Returns
    -------
    list of int
        N per arcsine layer, then the classifier's.
    """
    _check_gnet(model)
    n_layers = len(model.layers) + 1
    if (hyperdim is None) == (ratio is None):
        raise ValueError("give exactly one of hyperdim= (N per layer) or ratio= (N_l = round(ratio_l * n_l))")
    if hyperdim is not None:
        values = per_layer(hyperdim, "hyperdim", n_layers)
        if len(values) != n_layers:
            raise ValueError(f"hyperdim: expected an int or {n_layers} values (one per arcsine layer and the "
                             f"classifier), got {len(values)}")
        return [check_positive_int(v, "hyperdim") for v in values]
    ratios = per_layer(ratio, "ratio", n_layers)
    if len(ratios) != n_layers:
        raise ValueError(f"ratio: expected a number or {n_layers} values, got {len(ratios)}")
    out = []
    for r, n in zip(ratios, layer_sizes(model)):
        if isinstance(r, bool) or not isinstance(r, numbers.Real) or not (r > 0) or not math.isfinite(r):
            raise ValueError(f"ratio: expected positive finite numbers, got {r!r}")
        N = round_hyperdim(r * n)
        if N < 1:
            raise ValueError(f"ratio: {r} x {n} = {r * n:.1f} rounds to N = 0; use a larger ratio or hyperdim=")
        out.append(N)
    return out
