"""The random-features map ``x -> x^(L)`` with Gaussian or one-bit hidden weights."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from .._deprecation import renamed_argument
from .._validation import as_array, check_choice, check_positive_int, check_widths, resolve_rng
from ..activations import ACTIVATIONS, resolve_activation

__all__ = ["RandomFeatures", "METHODS"]

#: Forward passes of a one-bit layer: packed sign kernels, or the float reference product.
METHODS = ("kernel", "reference")

_relu = ACTIVATIONS["relu"]


def _kernels():
    """The bit kernels, imported lazily (numba compiles on first use)."""
    try:
        from ..bits import pack_signs
        from ..kernels import sign_weight_matmul
    except ImportError as exc:  # pragma: no cover - depends on the kernels being installed
        raise ImportError("method='kernel' needs gnetlab.pack_signs and gnetlab.sign_weight_matmul (bit "
                          "kernels); use method='reference' for the float reference path") from exc
    return pack_signs, sign_weight_matmul


class RandomFeatures:
    """A fixed random network ``x -> x^(L)`` of depth ``L = len(widths)``.

    Parameters
    ----------
    input_dim : int
        Input dimension d.
    widths : sequence of int
        Hidden widths (d_1, ..., d_L).
    activation : str or callable, default "tanh"
        "tanh", "relu", "linear" or a callable acting elementwise on float32 arrays.
    weights : {"gaussian", "onebit"}, default "gaussian"
        See :mod:`gnetlab.rf`. The same seed gives paired draws.
    seed : int or numpy.random.Generator
        Source of the weights (required).
    method : {"kernel", "reference"}, optional
        Forward pass of one-bit layers: "kernel" (default; packed sign kernels, whatever kernel backend
        :mod:`gnetlab.kernels` picks) or "reference" (float32 ``x @ (sign(W)/sqrt(fan_in)).T``).
        Ignored for Gaussian weights (float32 BLAS).
    backend : {"kernel", "reference"}, optional
        Deprecated name of ``method``.

    Notes
    -----
    Shapes: ``transform(X (n, d)) -> (n, d_L)`` float32 (or a list over layers).
    """

    def __init__(self, input_dim: int, widths: Sequence[int], *, activation="tanh",
                 weights: str = "gaussian", seed, method: str | None = None, backend: str | None = None):
        self.input_dim = check_positive_int(input_dim, "input_dim")
        self.widths = check_widths(widths)
        self.activation_name, self._phi = resolve_activation(activation)
        self.activation = activation
        self.weights = check_choice(weights, "weights", ("gaussian", "onebit"))
        method = renamed_argument(method, backend, old="backend", new="method", where="RandomFeatures",
                                  default="kernel")
        self.method = check_choice(method, "method", METHODS)
        rng = resolve_rng(seed)
        dims = (self.input_dim, *self.widths)
        self._dense: list[np.ndarray | None] = []
        self._signs: list[np.ndarray | None] = []
        self._packed: list[np.ndarray | None] = []
        for i in range(self.depth):
            g = rng.standard_normal((dims[i + 1], dims[i]), dtype=np.float32)
            if self.weights == "gaussian":
                g *= np.float32(1.0 / math.sqrt(dims[i]))
                self._dense.append(g)
                self._signs.append(None)
            else:
                self._dense.append(None)
                self._signs.append(np.where(g >= 0, np.int8(1), np.int8(-1)))
            self._packed.append(None)

    def to_onebit(self) -> "RandomFeatures":
        """The one-bit quantisation of this Gaussian model: ``sign(W_l)/sqrt(fan_in)`` of the same draw.

        Identical to ``RandomFeatures(..., weights="onebit")`` with the same seed, without redrawing."""
        if self.weights != "gaussian":
            raise ValueError("to_onebit: the model already has one-bit weights")
        new = object.__new__(RandomFeatures)
        new.__dict__.update(self.__dict__)
        new.weights = "onebit"
        new._dense = [None] * self.depth
        new._signs = [np.where(w >= 0, np.int8(1), np.int8(-1)) for w in self._dense]
        new._packed = [None] * self.depth
        return new

    def _check_layer(self, layer) -> int:
        if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 0 <= layer < self.depth:
            raise ValueError(f"layer: expected a hidden-layer index in [0, {self.depth}) (0-based), got {layer!r}")
        return int(layer)

    @property
    def depth(self) -> int:
        return len(self.widths)

    @property
    def dims(self) -> tuple[int, ...]:
        return (self.input_dim, *self.widths)

    def __repr__(self) -> str:
        return (f"RandomFeatures(input_dim={self.input_dim}, widths={self.widths}, "
                f"activation={self.activation_name!r}, weights={self.weights!r})")

    def scale(self, layer: int) -> float:
        """The weight scale 1/sqrt(fan_in) of hidden layer ``layer`` (0-based)."""
        layer = self._check_layer(layer)
        return 1.0 / math.sqrt(self.dims[layer])

    def layer_weight(self, layer: int) -> np.ndarray:
        """Dense float32 ``W_l`` (d_l, d_(l-1)) of hidden layer ``layer`` (0-based), scale included."""
        layer = self._check_layer(layer)
        if self._dense[layer] is not None:
            return self._dense[layer]
        return self._signs[layer].astype(np.float32) * np.float32(self.scale(layer))

    def layer_signs(self, layer: int) -> np.ndarray:
        """int8 +-1 signs of a one-bit layer (d_l, d_(l-1))."""
        layer = self._check_layer(layer)
        if self._signs[layer] is None:
            raise ValueError("layer_signs: only one-bit models store signs")
        return self._signs[layer]

    def packed_weights(self, layer: int):
        """:class:`gnetlab.bits.PackedBits` of a one-bit layer: words (d_l, ceil(d_(l-1)/64)) uint64."""
        layer = self._check_layer(layer)
        if self._packed[layer] is None:
            pack_signs, _ = _kernels()
            self._packed[layer] = pack_signs(self.layer_signs(layer))
        return self._packed[layer]

    @property
    def backend(self) -> str:
        """Deprecated name of :attr:`method`."""
        return self.method

    def _linear(self, x: np.ndarray, layer: int, method: str) -> np.ndarray:
        if self.weights == "gaussian":
            return x @ self._dense[layer].T
        if method == "kernel":
            _, matmul = _kernels()
            out = matmul(x, self.packed_weights(layer), scale=self.scale(layer))
            return np.asarray(out, dtype=np.float32)
        # float reference: sign(W)/sqrt(fan_in) materialised in float32
        return x @ self.layer_weight(layer).T

    def transform(self, X, *, all_layers: bool = False, method: str | None = None, backend: str | None = None):
        """Features of X (n, d): ``x^(L)`` (n, d_L) float32, or ``[x^(1), ..., x^(L)]`` if all_layers.

        method: override the model's ``method`` for this call (``backend=``: deprecated name)."""
        method = renamed_argument(method, backend, old="backend", new="method", where="transform", default=None)
        method = self.method if method is None else check_choice(method, "method", METHODS)
        X = as_array(X, "X", dtype_kind="f", ndim=2, finite=True)
        if X.shape[1] != self.input_dim:
            raise ValueError(f"X: expected {self.input_dim} columns (input_dim), got shape {X.shape}")
        with np.errstate(over="ignore"):  # overflow is reported below, by name
            x = np.ascontiguousarray(X, dtype=np.float32)
        if not np.isfinite(x).all():
            raise ValueError(f"X: values beyond the float32 range (max |X| = {float(np.abs(X).max()):.3g}); "
                             "features are computed in float32, rescale X first")
        outs = []
        for i in range(self.depth):
            h = self._linear(x, i, method)
            if self.activation_name == "tanh" and self._phi is np.tanh:
                np.tanh(h, out=h)
            elif self._phi is _relu:
                np.maximum(h, 0.0, out=h)
            else:
                res = np.asarray(self._phi(h))
                if res.shape != h.shape:
                    raise ValueError(f"activation: expected an elementwise function, output shape {res.shape} "
                                     f"!= input shape {h.shape}")
                h = res.astype(np.float32, copy=False)
            if not np.isfinite(h).all():
                raise FloatingPointError(f"transform: layer {i + 1} produced non-finite features")
            x = h
            outs.append(x)
        return outs if all_layers else outs[-1]

