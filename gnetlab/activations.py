"""Elementwise activations of random-features maps, as numpy functions: one registry.

:mod:`gnetlab.rf` applies them layer by layer; :mod:`gnetlab.theory` integrates them against
Gaussians. Both resolve names here, so the numerics never import a model class. (The arcsine units of
G-Net, ASU/RASU/TASU, are torch modules with a binary pass each: :mod:`gnetlab.gnet.layers`.)
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ._validation import check_choice

__all__ = ["ACTIVATIONS", "resolve_activation"]


def _relu(x):
    return np.maximum(x, 0.0)


def _linear(x):
    return x


#: Registered names and their vectorised numpy maps.
ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": np.tanh,
    "relu": _relu,
    "linear": _linear,
}


def resolve_activation(activation) -> tuple[str, Callable[[np.ndarray], np.ndarray]]:
    """Name and function of an activation.

    Parameters
    ----------
    activation : str or callable
        A registered name (``"tanh"``, ``"relu"``, ``"linear"``) or a callable acting elementwise on
        numpy arrays.

    Returns
    -------
    name : str
        The registered name, or the callable's ``__name__`` (``"custom"`` if it has none).
    function : callable
        Maps an ndarray to an ndarray of the same shape.
    """
    if isinstance(activation, str):
        check_choice(activation, "activation", ACTIVATIONS)
        return activation, ACTIVATIONS[activation]
    if not callable(activation):
        raise TypeError(f"activation: expected one of {', '.join(map(repr, ACTIVATIONS))} or a callable "
                        f"acting elementwise on numpy arrays, got {activation!r} ({type(activation).__name__})")
    return getattr(activation, "__name__", "custom"), activation
