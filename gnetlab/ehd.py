"""EHD G-Net: a trained G-Net embedded into binary arithmetic, with bit-packed inference and faults.

Grothendieck's identity turns every arcsine layer into a comparison of sign embeddings. For a layer
with folded weight rows w~_i (see :mod:`gnetlab.gnet.layers`) and a random G_l in R^{N x n}:

    data:     s = sign(G_l (x + b))                      in {-1, +1}^N  (one per input / patch)
    weights:  a_i = sign(G_l w~_i)                       in {-1, +1}^N  (stored as bits, m x N)
    output:   z^_i = (pi / (2N)) <s, a_i> = (pi / (2N)) (N - 2 Hamming(s, a_i))  ~  z_i

(exact in expectation for Gaussian G: E[z^_i] = arcsin(cos(x + b, w~_i)) up to the eps terms).
Activations act on z^: RASU gives relu(alpha z^) (real), TASU gives sign(alpha z^) (binary,
sign(0) = +1), ASU alpha z^. Convolutions use N random filters g_k shared by all positions:
s_k(pos) = sign(<g_k, patch(pos)>), z^_j(pos) = (pi/(2N)) sum_k s_k(pos) sign(<g_k, w~_j>).
The classifier embeds the last hidden vector and the class vectors c_j (columns of the output layer's
row-normalised W2 by default; ``class_vectors="raw"`` embeds the raw W2 columns as the official code
does) with its own G and predicts argmax_j <sign(G (x + b)), sign(G c_j)>, i.e. the class with the
smallest Hamming distance (ties: lowest class index).

Two inference paths compute exactly the same integers and hence the same predictions:

``path="packed"``  signs are packed 64 per uint64 word (:mod:`gnetlab.bits` convention: bit 1 = -1,
                   LSB first, padding cancels) and every <s, a_i> is an XOR-popcount product. When a
                   layer's input is +-1 (after a TASU layer) and G is Rademacher, the data side
                   <g_k, x> is an XOR-popcount product too: the network after the first layer is
                   binary end to end.
``path="float"``   the official code's simulation: +-1 values as float32 and BLAS products (exact
                   integers for N < 2^24).

With +-1 inputs the bias trick is applied algebraically, <g, x + b> = <g, x> + b sum(g) (sums over the
non-padded positions of a patch), and with Rademacher G the sign of that is decided by an exact
comparison of the integer <g, x> with a float32 threshold, in both paths. The real-valued projections
(the first layer, and every layer of a RASU network) are the same float32 products in both paths.

Speed: the packed path stores weight embeddings in 1/32 of the memory of float32 +-1 and its
XOR-popcount products are several times faster than float32 BLAS, but the first layer's real-valued
projection is the same float product in both paths and bounds the end-to-end gain (:func:`benchmark`).

Hyperdimensions: one N per arcsine layer plus one for the classifier, either given (``hyperdim=``,
an int for all or a sequence) or from the paper's rule ``N_l = round_hyperdim(ratio_l * n_l)`` with
``n_l`` the official size (:func:`layer_sizes`: fan-in of a dense layer, *all* weights out*in*k^d of a
conv layer, as the official code's ``w.shape[1:].numel()`` on an unsqueezed weight, and the input size of
the classifier) and the official rounding to a multiple of 1000 (remainder > 100 rounds up).

Faults (:func:`flip_signs`, :meth:`EHDGNet.with_weight_flips`, the ``data_flip`` arguments):

``"exact"``        exactly round(p * D) distinct positions of each stored embedding of length D.
``"replacement"``  the official code's model: int(p * D) positions drawn with replacement; a position
                   drawn several times is flipped once (PyTorch ``t[idx] *= -1`` writes, it does not
                   toggle), so a nominal p flips 1 - exp(-p) of the entries in expectation (39.3% at
                   p = 0.5).

Both act per row (each weight row's embedding, each input's or patch's data embedding). The paper's
evaluation protocol is :func:`evaluate_chunks`: contiguous test chunks, fresh G per chunk.
"""

from __future__ import annotations

import math
import numbers
import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from ._validation import as_array, check_choice, check_positive_int, check_seed, resolve_rng

__all__ = [
    "EMBEDDINGS",
    "FLIP_MODELS",
    "PATHS",
    "EHDLayer",
    "EHDGNet",
    "embed",
    "round_hyperdim",
    "layer_sizes",
    "resolve_hyperdims",
    "flip_signs",
    "flip_packed",
    "evaluate_chunks",
    "hyperdim_sweep",
    "flip_sweep",
    "sweep",
    "chunk_summary",
    "benchmark",
    "bench_main",
]

EMBEDDINGS = ("gaussian", "rademacher")
FLIP_MODELS = ("exact", "replacement")
PATHS = ("packed", "float")
CLASS_VECTORS = ("normalized", "raw")
_ROW_BLOCK_BYTES = 64 * 2**20  # rows of float32 embeddings processed at once (memory cap)


# --------------------------------------------------------------------------------------------------
# Bits: adapters to gnetlab.bits / gnetlab.kernels


def _pack(neg: np.ndarray) -> np.ndarray:
    """Pack a bool array (R, D) (True = -1) into uint64 words (R, ceil(D/64)): the
    :mod:`gnetlab.bits` convention (LSB first, zero padding), without its input checks."""
    R, D = neg.shape
    W = -(-D // 64)
    b = np.packbits(neg, axis=1, bitorder="little")
    if b.shape[1] != 8 * W:
        b = np.concatenate([b, np.zeros((R, 8 * W - b.shape[1]), np.uint8)], axis=1)
    return np.ascontiguousarray(b).view(np.uint64)


def _binary_dot(a: np.ndarray, b: np.ndarray, n_bits: int) -> np.ndarray:
    """<a_i, b_j> of the +-1 rows packed in ``a`` (Ra, W) and ``b`` (Rb, W): int32 (Ra, Rb), by
    :func:`gnetlab.binary_matmul` (XOR-popcount; numba on CPUs, CuPy on GPUs)."""
    from .bits import PackedBits
    from .kernels import binary_matmul

    return np.asarray(binary_matmul(PackedBits(a, n_bits), PackedBits(b, n_bits)))


# --------------------------------------------------------------------------------------------------
# Hyperdimensions


def round_hyperdim(n: float) -> int:
    """The official rounding of a hyperdimension to a multiple of 1000: remainder > 100 rounds up.

    ``round_hyperdim(9408) == 10000``, ``round_hyperdim(4100) == 4000``, ``round_hyperdim(4101) == 5000``.
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Real) or not math.isfinite(n) or n < 0:
        raise ValueError(f"n: expected a finite non-negative number, got {n!r}")
    base = math.floor(n / 1000) * 1000
    return int(base + 1000 if n - base > 100 else base)


def layer_sizes(model) -> list[int]:
    """The size n_l each hyperdimension ratio multiplies, per arcsine layer and for the classifier.

    Dense: fan-in; conv: all weights (out * in * k^d), as in the official code; classifier: its input
    size. E.g. the paper's MNIST model gives [800, 51200, 3136, 512].
    """
    _check_gnet(model)
    sizes = []
    for layer in model.layers:
        sizes.append(layer.in_features if hasattr(layer, "in_features") else int(layer.weight.numel()))
    sizes.append(model.output.in_features)
    return sizes


def _check_gnet(model) -> None:
    from .gnet.models import GNet

    if not isinstance(model, GNet):
        raise TypeError(f"model: expected a gnetlab.gnet.GNet, got {type(model).__name__}")


def _per_layer(value, name: str, n_layers: int) -> list:
    """A number for every layer, or a list/tuple/1-D array with one value per layer (a string is refused,
    not split into characters)."""
    if isinstance(value, numbers.Number):
        return [value] * n_layers
    if isinstance(value, np.ndarray) and value.ndim == 1 or isinstance(value, (list, tuple)):
        return list(value)
    raise TypeError(f"{name}: expected a number or a list of {n_layers} numbers (one per arcsine layer and the "
                    f"classifier), got {value!r} ({type(value).__name__})")


def _check_seq(values, name: str) -> list:
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple, np.ndarray, range)):
        raise TypeError(f"{name}: expected a list of values, got {values!r} ({type(values).__name__})")
    return list(values)


def resolve_hyperdims(model, *, hyperdim=None, ratio=None) -> list[int]:
    """One N per arcsine layer plus the classifier's, from ``hyperdim`` or ``ratio`` (exactly one)."""
    _check_gnet(model)
    n_layers = len(model.layers) + 1
    if (hyperdim is None) == (ratio is None):
        raise ValueError("give exactly one of hyperdim= (N per layer) or ratio= (N_l = round(ratio_l * n_l))")
    if hyperdim is not None:
        values = _per_layer(hyperdim, "hyperdim", n_layers)
        if len(values) != n_layers:
            raise ValueError(f"hyperdim: expected an int or {n_layers} values (one per arcsine layer and the "
                             f"classifier), got {len(values)}")
        return [check_positive_int(v, "hyperdim") for v in values]
    ratios = _per_layer(ratio, "ratio", n_layers)
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


# --------------------------------------------------------------------------------------------------
# Flips


def _flip_mask(rows: int, D: int, fraction: float, model: str, rng: np.random.Generator) -> np.ndarray | None:
    """bool (rows, D) mask of positions to flip, or None when nothing flips."""
    if model == "exact":
        k = int(round(fraction * D))
        if k == 0:
            return None
        if k >= D:
            return np.ones((rows, D), bool)
        keys = rng.random((rows, D), dtype=np.float32)
        idx = np.argpartition(keys, k - 1, axis=1)[:, :k]
    else:
        if fraction >= 1.0:  # the official code flips everything at p >= 1
            return np.ones((rows, D), bool)
        k = int(fraction * D)
        if k == 0:
            return None
        idx = rng.integers(0, D, size=(rows, k))
    mask = np.zeros(rows * D, bool)
    mask[(idx + (np.arange(rows, dtype=np.int64) * D)[:, None]).ravel()] = True
    return mask.reshape(rows, D)


def _check_fraction(fraction, name="fraction") -> float:
    if isinstance(fraction, bool) or not isinstance(fraction, numbers.Real) or not 0 <= fraction <= 1:
        raise ValueError(f"{name}: expected a flip fraction in [0, 1], got {fraction!r}")
    return float(fraction)


def flip_signs(signs, fraction: float, *, model: str = "exact", seed) -> np.ndarray:
    """Flip signs of each row (last axis, length D) of a +-1 array; returns a new array (same dtype).

    model: ``"exact"`` (round(fraction * D) distinct positions per row) or ``"replacement"`` (the
    official code: int(fraction * D) draws with replacement, repeated positions flipped once).
    """
    s = as_array(signs, "signs", dtype_kind="fi")
    if s.ndim == 0 or s.shape[-1] == 0:
        raise ValueError(f"signs: expected an array of shape (..., D) with D >= 1, got shape {s.shape}")
    if not np.all(np.abs(s) == 1):
        raise ValueError("signs: expected entries in {-1, +1}")
    fraction = _check_fraction(fraction)
    check_choice(model, "model", FLIP_MODELS)
    rng = resolve_rng(seed)
    flat = s.reshape(-1, s.shape[-1])
    mask = _flip_mask(flat.shape[0], flat.shape[1], fraction, model, rng)
    out = flat.copy()
    if mask is not None:
        out[mask] = -out[mask]
    return out.reshape(s.shape)


def flip_packed(words: np.ndarray, n_bits: int, fraction: float, *, model: str = "exact", seed) -> np.ndarray:
    """Flip bits of each row of packed signs ``words`` (R, W) holding ``n_bits`` valid bits; new array.

    Padding bits are never touched (they must keep cancelling)."""
    w = as_array(words, "words", dtype_kind="u", ndim=2)
    n_bits = check_positive_int(n_bits, "n_bits")
    if w.dtype != np.uint64 or w.shape[1] != -(-n_bits // 64):
        raise ValueError(f"words: expected uint64 of shape (R, {-(-n_bits // 64)}) for n_bits={n_bits}, "
                         f"got {w.dtype} {w.shape}")
    fraction = _check_fraction(fraction)
    check_choice(model, "model", FLIP_MODELS)
    mask = _flip_mask(w.shape[0], n_bits, fraction, model, resolve_rng(seed))
    return w.copy() if mask is None else np.bitwise_xor(w, _pack(mask))


# --------------------------------------------------------------------------------------------------
# The model


@dataclass(eq=False)
class EHDLayer:
    """One embedded layer. ``kind``: dense | conv1d | conv2d | classifier.

    projection: G, float32 (N, K) with K the fan-in (C * k^d for convs, patch order of ``unfold``);
    weight_bits: uint64 (m, ceil(N/64)), the signs of G w~_i (classes for the classifier).
    """

    kind: str
    hyperdim: int
    projection: np.ndarray = field(repr=False)
    weight_bits: np.ndarray = field(repr=False)
    n_out: int
    bias: float
    activation: str | None
    alpha: float
    binary_input: bool
    embedding: str
    kernel_size: int = 1
    stride: int = 1
    padding: int = 0
    pool: int = 1
    in_channels: int = 0
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def fan_in(self) -> int:
        return self.projection.shape[1]

    @property
    def binary_data_side(self) -> bool:
        """Whether <g_k, x> is itself a +-1 product (+-1 input and Rademacher G)."""
        return self.binary_input and self.embedding == "rademacher"

    def cached(self, key, make):
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def weight_float(self) -> np.ndarray:
        """The stored weight signs as float32 +-1 (m, N): the float-simulated path's operand."""
        return self.cached("wf", lambda: _unpack_float(self.weight_bits, self.hyperdim))

    def projection_bits(self) -> np.ndarray:
        return self.cached("gb", lambda: _pack(self.projection < 0))

    def projection_rowsum(self) -> np.ndarray:
        return self.cached("gs", lambda: self.projection.sum(axis=1, dtype=np.float32))

    def bias_term(self) -> np.ndarray:
        """float32(b) * sum_k g_k per row of G (N,): the bias trick on an unpadded +-1 input."""
        return self.cached("gb_term", lambda: np.float32(self.bias) * self.projection_rowsum())

    def with_weight_bits(self, bits: np.ndarray) -> "EHDLayer":
        keep = {k: v for k, v in self._cache.items() if k != "wf"}  # G-derived caches stay valid
        new = EHDLayer(**{f: getattr(self, f) for f in self.__dataclass_fields__ if f not in ("weight_bits", "_cache")},
                       weight_bits=bits)
        new._cache.update(keep)
        return new


def _truncate_bits(words: np.ndarray, n: int) -> np.ndarray:
    """The first ``n`` bits of each packed row (padding bits cleared)."""
    out = np.ascontiguousarray(words[:, : -(-n // 64)]).copy()
    if n % 64:
        out[:, -1] &= np.uint64((1 << (n % 64)) - 1)
    return out


def _unpack_float(bits: np.ndarray, n: int) -> np.ndarray:
    b = np.unpackbits(bits.view(np.uint8), axis=1, bitorder="little", count=n)
    return (1.0 - 2.0 * b).astype(np.float32)


class EHDGNet:
    """An embedded G-Net (see the module docstring). Build with :func:`embed`."""

    def __init__(self, layers: list[EHDLayer], classifier: EHDLayer, *, input_shape, input_shift, input_scale,
                 n_classes: int, embedding: str, class_vectors: str):
        self.layers = list(layers)
        self.classifier = classifier
        self.input_shape = tuple(input_shape)
        self.input_shift = float(input_shift)
        self.input_scale = float(input_scale)
        self.n_classes = int(n_classes)
        self.embedding = embedding
        self.class_vectors = class_vectors

    # -- properties ---------------------------------------------------------------------------------
    @property
    def hyperdims(self) -> list[int]:
        """N per arcsine layer and, last, the classifier's."""
        return [l.hyperdim for l in self.layers] + [self.classifier.hyperdim]

    @property
    def mean_hyperdim(self) -> float:
        """Mean N over layers (incl. the classifier): the x-axis of the paper's comparisons."""
        return float(np.mean(self.hyperdims))

    @property
    def all_layers(self) -> list[EHDLayer]:
        return self.layers + [self.classifier]

    def weight_nbytes(self, *, packed: bool = True) -> int:
        """Bytes of the stored weight embeddings: packed bits, or as float32 +-1 (the float path)."""
        if packed:
            return int(sum(l.weight_bits.nbytes for l in self.all_layers))
        return int(sum(4 * l.n_out * l.hyperdim for l in self.all_layers))

    def __repr__(self) -> str:
        kinds = ", ".join(f"{l.kind}(N={l.hyperdim}, out={l.n_out})" for l in self.all_layers)
        return f"EHDGNet({kinds}, embedding={self.embedding!r})"

    def truncated(self, hyperdim) -> "EHDGNet":
        """The same network with smaller hyperdimensions: the first N_l rows of every G_l and the first
        N_l bits of every stored embedding. Because each layer's G is drawn row by row from its own
        stream, this equals :func:`embed` at the smaller N with the same seed (a test checks it), so an
        N-sweep embeds the weights once per chunk (see :func:`hyperdim_sweep`).

        hyperdim: an int for every layer or one value per layer (incl. the classifier), each <= now.
        """
        n = len(self.all_layers)
        Ns = _per_layer(hyperdim, "hyperdim", n)
        if len(Ns) != n:
            raise ValueError(f"hyperdim: expected an int or {n} values, got {len(Ns)}")
        new = []
        for l, N in zip(self.all_layers, Ns):
            N = check_positive_int(N, "hyperdim")
            if N > l.hyperdim:
                raise ValueError(f"hyperdim: cannot truncate N = {l.hyperdim} to a larger N = {N}")
            if N == l.hyperdim:
                new.append(l)
                continue
            fields = {f: getattr(l, f) for f in l.__dataclass_fields__ if f not in ("_cache",)}
            fields.update(hyperdim=N, projection=np.ascontiguousarray(l.projection[:N]),
                          weight_bits=_truncate_bits(l.weight_bits, N))
            new.append(EHDLayer(**fields))
        return self._replace_layers(new)

    def _replace_layers(self, new: list[EHDLayer]) -> "EHDGNet":
        return EHDGNet(new[:-1], new[-1], input_shape=self.input_shape, input_shift=self.input_shift,
                       input_scale=self.input_scale, n_classes=self.n_classes, embedding=self.embedding,
                       class_vectors=self.class_vectors)

    # -- faults -------------------------------------------------------------------------------------
    def with_weight_flips(self, fraction: float, *, model: str = "exact", seed, layers=None) -> "EHDGNet":
        """A copy with sign flips in the stored weight embeddings (all layers incl. the classifier by
        default; ``layers`` selects indices into ``hyperdims``' order). G is shared, not copied."""
        fraction = _check_fraction(fraction)
        check_choice(model, "model", FLIP_MODELS)
        rng = resolve_rng(seed)
        n = len(self.all_layers)
        sel = range(n) if layers is None else [_check_layer_index(i, n) for i in _check_seq(layers, "layers")]
        new = [l for l in self.all_layers]
        for i in sel:
            l = new[i]
            new[i] = l.with_weight_bits(flip_packed(l.weight_bits, l.hyperdim, fraction, model=model, seed=rng))
        return self._replace_layers(new)

    # -- inference ----------------------------------------------------------------------------------
    def scores(self, X, *, path: str = "packed", batch_size: int = 256, data_flip: float = 0.0,
               data_flip_layers: Sequence[int] = (0,), flip_model: str = "exact", seed=None,
               timings: dict | None = None, _first_layer_cache: dict | None = None) -> np.ndarray:
        """Classifier scores <sign(G x), sign(G c_j)> = N - 2 Hamming, int32 ``(B, n_classes)``.

        X: ``(B, *input_shape)`` or ``(B, prod(input_shape))``, the float model's input.
        data_flip: fraction of each data embedding's signs flipped (``flip_model``) in the layers
        ``data_flip_layers`` (indices as in ``hyperdims``; the paper flips the first layer's); a
        ``seed`` is then required. timings: if a dict, seconds per stage are added to it (measured with
        its ``"_clock"`` entry if present, else wall time).
        """
        check_choice(path, "path", PATHS)
        batch_size = check_positive_int(batch_size, "batch_size")
        data_flip = _check_fraction(data_flip, "data_flip")
        check_choice(flip_model, "flip_model", FLIP_MODELS)
        n = len(self.all_layers)
        flip_layers = ({_check_layer_index(i, n, "data_flip_layers") for i in _check_seq(data_flip_layers, "data_flip_layers")}
                       if data_flip > 0 else set())
        rng = resolve_rng(seed) if flip_layers else None
        X = _as_model_input(X, self.input_shape)
        out = np.empty((X.shape[0], self.n_classes), np.int32)
        for i in range(0, X.shape[0], batch_size):
            cache = None if _first_layer_cache is None else _first_layer_cache.setdefault((i, batch_size), {})
            out[i:i + batch_size] = self._forward(X[i:i + batch_size], path, flip_layers, data_flip, flip_model,
                                                  rng, timings, first_cache=cache)
        return out

    def predict(self, X, **kwargs) -> np.ndarray:
        """Predicted classes, int64 ``(B,)`` (argmax of :meth:`scores`; ties to the lowest class)."""
        return self.scores(X, **kwargs).argmax(axis=1).astype(np.int64)

    def estimates(self, X, *, path: str = "packed") -> list[np.ndarray]:
        """The pre-activation estimates z^ of every arcsine layer for inputs X (float32; dense
        ``(B, m)``, conv ``(B, m, *spatial)``), each computed from the previous EHD layer's output."""
        check_choice(path, "path", PATHS)
        collect: list = []
        self._forward(_as_model_input(X, self.input_shape), path, set(), 0.0, "exact", None, None, collect)
        return collect

    def _forward(self, x, path, flip_layers, flip_p, flip_model, rng, timings, collect=None, first_cache=None):
        # first_cache: the first layer's data signs of this batch, reused by fault sweeps that change
        # only stored weights (same input, same G): a dict filled on first use.
        x = (x - np.float32(self.input_shift)) / np.float32(self.input_scale)
        now = _clock(timings)
        for i, layer in enumerate(self.all_layers):
            t0 = now()
            B = x.shape[0]
            if layer.kind in ("dense", "classifier"):
                rows, spatial = x.reshape(B, -1), None
                pad_terms = None
            else:
                rows, spatial, pad_terms = _patches(x, layer)
            dot = _layer_dot(layer, rows, pad_terms, path, flip_p if i in flip_layers else 0.0, flip_model, rng,
                             timings, i, first_cache if i == 0 else None)
            if layer.kind == "classifier":
                x = dot
            else:
                z = dot.astype(np.float32) * np.float32(np.pi / (2 * layer.hyperdim))
                if spatial is not None:  # (B*L, m) -> (B, m, *spatial)
                    z = np.moveaxis(z.reshape((B, *spatial, layer.n_out)), -1, 1)
                if collect is not None:
                    collect.append(z)
                x = _activate(z, layer)
                if layer.pool > 1:
                    x = _maxpool(x, layer.pool)
                x = np.ascontiguousarray(x)
            if timings is not None:
                timings[f"layer{i}"] = timings.get(f"layer{i}", 0.0) + now() - t0
        return x


def _clock(timings):
    """The clock of a ``timings`` dict: its ``"_clock"`` entry (e.g. time.process_time) or wall time."""
    return time.perf_counter if timings is None else timings.get("_clock", time.perf_counter)


def _check_layer_index(i, n, name="layers"):
    if isinstance(i, bool) or not isinstance(i, numbers.Integral) or not -n <= i < n:
        raise ValueError(f"{name}: layer index {i!r} out of range for {n} embedded layers (incl. the "
                         f"classifier); expected an int in [{-n}, {n})")
    return int(i) % n


def _as_model_input(X, input_shape) -> np.ndarray:
    X = as_array(X, "X", dtype_kind="fiub", finite=True)
    n = int(np.prod(input_shape))
    if X.ndim >= 2 and X.shape[1:] == tuple(input_shape):
        pass
    elif X.ndim == 2 and X.shape[1] == n:
        X = X.reshape((X.shape[0], *input_shape))
    else:
        alt = "" if len(input_shape) == 1 else f" or (batch, {', '.join(map(str, input_shape))})"
        raise ValueError(f"X: expected shape (batch, {n}){alt} for this model, got {X.shape}" + (" (for one sample use X[None])" if X.ndim == 1 else ""))
    with np.errstate(over="ignore"):  # overflow is reported below, by name
        out = np.ascontiguousarray(X, dtype=np.float32)
    if X.dtype.itemsize > 4 and X.dtype.kind == "f" and not np.isfinite(out).all():
        raise ValueError(f"X: values beyond the float32 range (max |X| = {float(np.abs(X).max()):.3g}); "
                         "the EHD G-Net computes in float32, rescale X first")
    return out


def _activate(z: np.ndarray, layer: EHDLayer) -> np.ndarray:
    a = np.float32(layer.alpha)
    if layer.activation == "rasu":
        return np.maximum(a * z, np.float32(0))
    if layer.activation == "tasu":
        return np.where(a * z >= 0, np.float32(1), np.float32(-1))
    return a * z


def _maxpool(x: np.ndarray, p: int) -> np.ndarray:
    if x.ndim == 3:
        B, C, L = x.shape
        return x[:, :, : L // p * p].reshape(B, C, L // p, p).max(axis=3)
    B, C, H, W = x.shape
    return x[:, :, : H // p * p, : W // p * p].reshape(B, C, H // p, p, W // p, p).max(axis=(3, 5))


def _unfold(x: np.ndarray, layer: EHDLayer, pad_value: float) -> tuple[np.ndarray, tuple[int, ...]]:
    """Patches (B*L, C*k^d) in the order of the conv weight's flattening, and the output spatial shape."""
    import torch
    import torch.nn.functional as F

    t = torch.from_numpy(x)
    p, k, s = layer.padding, layer.kernel_size, layer.stride
    if layer.kind == "conv1d":
        if p:
            t = F.pad(t, (p, p), value=pad_value)
        u = t.unfold(2, k, s)  # (B, C, L, k)
        B, C, L, _ = u.shape
        return u.permute(0, 2, 1, 3).reshape(B * L, C * k).numpy(), (L,)
    if p:
        t = F.pad(t, (p, p, p, p), value=pad_value)
    B, C, H, W = t.shape
    Ho, Wo = (H - k) // s + 1, (W - k) // s + 1
    u = F.unfold(t, k, stride=s)  # (B, C*k*k, L)
    return u.transpose(1, 2).reshape(B * Ho * Wo, C * k * k).numpy(), (Ho, Wo)


def _patches(x: np.ndarray, layer: EHDLayer):
    """Rows for the data embedding of a conv layer, the spatial output shape and the padding terms.

    Real inputs: patches of zero-padded (x + b). +-1 inputs: patches u of x padded with +1, and
    per-position tables (L, N) of pad = sum_{padded i} g_ki and bvalid = float32(b) sum_{valid i} g_ki,
    so that <g_k, patch of zero-padded (x + b)> = <g_k, u> - pad + bvalid (``pad_int``: the same pad
    table as int32, exact for Rademacher G).
    """
    if not layer.binary_input:
        rows, spatial = _unfold(x + np.float32(layer.bias), layer, 0.0)
        return rows, spatial, None
    rows, spatial = _unfold(x, layer, 1.0)
    key = ("pad", x.shape[1:])

    def make():
        ind, _ = _unfold(np.zeros((1, *x.shape[1:]), np.float32), layer, 1.0)  # 1 where padded
        pad = (ind @ layer.projection.T).astype(np.float32)  # (L, N)
        valid = layer.projection_rowsum()[None, :] - pad
        return {"L": pad.shape[0], "pad": pad, "pad_int": np.rint(pad).astype(np.int32),
                "bvalid": np.float32(layer.bias) * valid}

    return rows, spatial, layer.cached(key, make)


def _data_signs(layer: EHDLayer, blk: np.ndarray, pad_terms, path: str) -> np.ndarray:
    """bool (R, N): True where <g_k, x_r (+ b)> < 0, i.e. the data embedding's -1 entries.

    With ``pad_terms`` (conv on +-1 inputs) the rows of ``blk`` are whole images (R = images x L)."""
    G = layer.projection
    if layer.binary_data_side:
        # +-1 inputs and +-1 G: <g, x> is an exact integer (XOR-popcount, or a float32 product of +-1
        # values, which is exact), and the sign of <g, x> - pad + c, with c the float32 bias term, is
        # decided by an exact comparison (int32 against float32 compares in float64): identical in both
        # paths.
        if path == "packed":
            dot = _binary_dot(_pack(blk < 0), layer.projection_bits(), layer.fan_in)
        else:
            dot = np.rint(blk @ G.T).astype(np.int32)
        if pad_terms is None:
            return dot < -layer.bias_term()
        L, N = pad_terms["L"], dot.shape[1]
        d = dot.reshape(-1, L, N)
        d -= pad_terms["pad_int"]
        return (d < -pad_terms["bvalid"]).reshape(-1, N)
    if layer.binary_input:  # +-1 inputs, Gaussian G: one float product, the same code in both paths
        proj = blk @ G.T
        if pad_terms is None:
            return (proj + layer.bias_term()) < 0
        L, N = pad_terms["L"], proj.shape[1]
        p = proj.reshape(-1, L, N)
        p -= pad_terms["pad"]
        p += pad_terms["bvalid"]
        return (p < 0).reshape(-1, N)
    if layer.kind in ("dense", "classifier"):  # conv patches already hold x + b (zero padding)
        blk = blk + np.float32(layer.bias)
    return (blk @ G.T) < 0


def _layer_dot(layer: EHDLayer, rows: np.ndarray, pad_terms, path: str, flip_p: float, flip_model: str,
               rng, timings, index: int, neg_cache: dict | None = None) -> np.ndarray:
    """<s_r, a_i> for every row r of ``rows`` and stored weight embedding a_i: int32 (R, m).

    neg_cache: a dict of the data signs of this layer and input by row block, filled on first use and
    reused (fault sweeps that change only the stored weights)."""
    N = layer.hyperdim
    R = rows.shape[0]
    out = np.empty((R, layer.n_out), np.int32)
    step = max(1, _ROW_BLOCK_BYTES // (4 * N))
    if pad_terms is not None:  # blocks of whole images, so the per-position tables broadcast
        step = max(1, step // pad_terms["L"]) * pad_terms["L"]
    now = _clock(timings)
    for r in range(0, R, step):
        blk = rows[r:r + step]
        t0 = now()
        if neg_cache is not None and r in neg_cache:
            neg = neg_cache[r].copy()
        else:
            neg = _data_signs(layer, blk, pad_terms, path)
            if neg_cache is not None:
                neg_cache[r] = neg.copy()
        t1 = now()
        if flip_p > 0:
            mask = _flip_mask(neg.shape[0], N, flip_p, flip_model, rng)
            if mask is not None:
                neg ^= mask
        t2 = now()
        if path == "packed":
            out[r:r + step] = _binary_dot(_pack(neg), layer.weight_bits, N)
        else:
            s = np.where(neg, np.float32(-1), np.float32(1))
            out[r:r + step] = np.rint(s @ layer.weight_float().T).astype(np.int32)
        if timings is not None:
            t3 = now()
            timings[f"layer{index}:data"] = timings.get(f"layer{index}:data", 0.0) + t1 - t0
            timings[f"layer{index}:weights"] = timings.get(f"layer{index}:weights", 0.0) + t3 - t2
    return out


# --------------------------------------------------------------------------------------------------
# Embedding a trained G-Net


def _folded_rows(layer) -> np.ndarray:
    """The layer's folded weight rows w~_i, float32 (m, fan_in): ``folded_weight()`` computed in numpy
    (tiny tensors: numpy avoids torch's thread hand-offs)."""
    W = layer.weight.detach().numpy().astype(np.float32)
    slope = (layer.bn_weight.detach().numpy() / np.sqrt(layer.running_var.numpy() + np.float32(layer.eps)))
    return np.ascontiguousarray((slope.astype(np.float32)[:, None] * W.reshape(W.shape[0], -1)))


def embed(model, *, hyperdim=None, ratio=None, embedding: str = "gaussian", seed,
          class_vectors: str = "normalized") -> EHDGNet:
    """Embed a trained :class:`gnetlab.gnet.GNet` into an :class:`EHDGNet`.

    hyperdim: int (same N for every arcsine layer and the classifier) or a sequence with one N per
    arcsine layer plus the classifier's; or ratio: number or sequence, N_l = round_hyperdim(ratio_l n_l)
    (:func:`layer_sizes`). embedding: ``"gaussian"`` or ``"rademacher"``. seed: int or Generator (one
    independent G per layer is drawn from it). class_vectors: ``"normalized"`` (columns of the
    row-normalised W2 the float model multiplies) or ``"raw"`` (raw W2 columns, as the official code).
    """
    import torch

    from .embed import projection
    from .gnet.layers import ArcsineDense
    from .gnet.models import GNet

    if not isinstance(model, GNet):
        raise TypeError(f"model: expected a gnetlab.gnet.GNet, got {type(model).__name__}")
    check_choice(embedding, "embedding", EMBEDDINGS)
    check_choice(class_vectors, "class_vectors", CLASS_VECTORS)
    Ns = resolve_hyperdims(model, hyperdim=hyperdim, ratio=ratio)
    rng = resolve_rng(seed)
    rngs = rng.spawn(len(Ns))
    act = model.config["activation"]
    layers = []
    with torch.no_grad():
        for i, (layer, a, pool) in enumerate(zip(model.layers, model.activations, model.pools)):
            w = _folded_rows(layer)
            G = projection(Ns[i], w.shape[1], embedding=embedding, seed=rngs[i])
            kw = {}
            if not isinstance(layer, ArcsineDense):
                kw = dict(kernel_size=layer.kernel_size, stride=layer.stride, padding=layer.padding, pool=pool,
                          in_channels=layer.in_channels)
            kind = "dense" if isinstance(layer, ArcsineDense) else ("conv1d" if layer.weight.ndim == 3 else "conv2d")
            layers.append(EHDLayer(kind=kind, hyperdim=Ns[i], projection=G, weight_bits=_pack((w @ G.T) < 0),
                                   n_out=w.shape[0], bias=layer.bias.item(), activation=act, alpha=a.alpha.item(),
                                   binary_input=(i > 0 and act == "tasu"), embedding=embedding, **kw))
        out = model.output
        W2 = out.weight.detach().numpy().astype(np.float32)
        if class_vectors == "normalized":  # as NormalizedOutput.normalized_weight, in numpy
            W2 = W2 / (np.linalg.norm(W2, axis=1, keepdims=True) + np.float32(out.q))
        C = np.ascontiguousarray(W2.T)  # (C, m): one class vector per row
        G = projection(Ns[-1], C.shape[1], embedding=embedding, seed=rngs[-1])
        clf = EHDLayer(kind="classifier", hyperdim=Ns[-1], projection=G, weight_bits=_pack((C @ G.T) < 0),
                       n_out=C.shape[0], bias=out.bias.item(), activation=None, alpha=1.0,
                       binary_input=(act == "tasu"), embedding=embedding)
    return EHDGNet(layers, clf, input_shape=model.input_shape, input_shift=model.config["input_shift"],
                   input_scale=model.config["input_scale"], n_classes=model.n_classes, embedding=embedding,
                   class_vectors=class_vectors)


# --------------------------------------------------------------------------------------------------
# The paper's evaluation protocol


def _check_eval_inputs(model, X, y, n_chunks, seed):
    X = _as_model_input(X, model.input_shape)
    y = as_array(y, "y", dtype_kind="iu", ndim=1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X, y: {X.shape[0]} samples but {y.shape[0]} labels")
    n_chunks = check_positive_int(n_chunks, "n_chunks")
    if n_chunks > X.shape[0]:
        raise ValueError(f"n_chunks: {n_chunks} chunks for {X.shape[0]} test samples")
    check_seed(seed)  # an int >= 0: chunk streams are derived from it
    return X, y, n_chunks


def _chunk_row(c, idx, pred, y, float_pred, ehd, model, embedding, **settings):
    return {"chunk": c, "n_test": idx.size, "accuracy": 100.0 * np.mean(pred == y[idx]),
            "agreement": 100.0 * np.mean(pred == float_pred[idx]),
            "float_accuracy": 100.0 * np.mean(float_pred[idx] == y[idx]),
            "hyperdim_mean": ehd.mean_hyperdim, "hyperdims": ";".join(map(str, ehd.hyperdims)),
            "embedding": embedding, "activation": model.activation, **settings}


def evaluate_chunks(model, X, y, *, hyperdim=None, ratio=None, embedding: str = "gaussian", n_chunks: int = 20,
                    seed, path: str = "packed", class_vectors: str = "normalized", weight_flip: float = 0.0,
                    data_flip: float = 0.0, data_flip_layers: Sequence[int] = (0,), flip_model: str = "exact",
                    batch_size: int = 256, progress: bool = True, desc: str | None = None) -> pd.DataFrame:
    """The paper's protocol: the test set in ``n_chunks`` contiguous chunks, a fresh G per chunk.

    Returns one row per chunk: ``chunk``, ``n_test``, ``accuracy`` (percent), ``agreement`` (percent
    of the chunk's inputs where EHD and the float G-Net predict the same class), ``float_accuracy``,
    ``hyperdim_mean``, ``hyperdims`` ("N1;N2;..."), and the settings. Chunk c always draws its G from
    the same random stream (from ``seed`` and c), whatever N: curves over N use common random numbers
    (and G at a smaller N is the first rows of G at a larger one).
    """
    from .progress import progress as _progress

    X, y, n_chunks = _check_eval_inputs(model, X, y, n_chunks, seed)
    weight_flip = _check_fraction(weight_flip, "weight_flip")
    float_pred = model.predict(X)
    children = np.random.SeedSequence(int(seed)).spawn(n_chunks)
    bounds = np.array_split(np.arange(X.shape[0]), n_chunks)
    rows = []
    for c in _progress(range(n_chunks), desc=desc or "EHD chunks", total=n_chunks, disable=not progress):
        rng = np.random.default_rng(children[c])
        ehd = embed(model, hyperdim=hyperdim, ratio=ratio, embedding=embedding, seed=rng, class_vectors=class_vectors)
        if weight_flip > 0:
            ehd = ehd.with_weight_flips(weight_flip, model=flip_model, seed=rng)
        idx = bounds[c]
        pred = ehd.predict(X[idx], path=path, batch_size=batch_size, data_flip=data_flip,
                           data_flip_layers=data_flip_layers, flip_model=flip_model, seed=rng)
        rows.append(_chunk_row(c, idx, pred, y, float_pred, ehd, model, embedding, weight_flip=weight_flip,
                               data_flip=data_flip, flip_model=flip_model))
    return pd.DataFrame(rows)


def hyperdim_sweep(model, X, y, *, hyperdims: Sequence, embedding: str = "gaussian", n_chunks: int = 20, seed,
                   path: str = "packed", class_vectors: str = "normalized", batch_size: int = 256,
                   progress: bool = True, desc: str | None = None) -> pd.DataFrame:
    """:func:`evaluate_chunks` for every entry of ``hyperdims`` (ints, or per-layer lists), embedding the
    weights once per chunk at the largest N and truncating (:meth:`EHDGNet.truncated`): the same rows
    as separate :func:`evaluate_chunks` calls with this seed, at the embedding cost of one.
    One row per (hyperdim, chunk), with a ``hyperdim`` column ("N" or "N1;N2;...")."""
    from .progress import progress as _progress

    X, y, n_chunks = _check_eval_inputs(model, X, y, n_chunks, seed)
    n_layers = len(model.layers) + 1
    grid = [resolve_hyperdims(model, hyperdim=h) for h in _check_seq(hyperdims, "hyperdims")]
    if not grid:
        raise ValueError("hyperdims: expected at least one value")
    top = [max(g[i] for g in grid) for i in range(n_layers)]
    float_pred = model.predict(X)
    children = np.random.SeedSequence(int(seed)).spawn(n_chunks)
    bounds = np.array_split(np.arange(X.shape[0]), n_chunks)
    rows = []
    for c in _progress(range(n_chunks), desc=desc or "EHD N-sweep", total=n_chunks, disable=not progress):
        full = embed(model, hyperdim=top, embedding=embedding, seed=np.random.default_rng(children[c]),
                     class_vectors=class_vectors)
        idx = bounds[c]
        for h, Ns in zip(hyperdims, grid):
            e = full.truncated(Ns)
            pred = e.predict(X[idx], path=path, batch_size=batch_size)
            label = str(h) if isinstance(h, numbers.Number) else ";".join(map(str, h))
            rows.append({"hyperdim": label, **_chunk_row(c, idx, pred, y, float_pred, e, model, embedding)})
    return pd.DataFrame(rows)


def flip_sweep(model, X, y, *, fractions: Sequence[float], target: str = "weights", hyperdim=None, ratio=None,
               embedding: str = "gaussian", n_chunks: int = 20, seed, flip_model: str = "exact",
               data_flip_layers: Sequence[int] = (0,), path: str = "packed", class_vectors: str = "normalized",
               batch_size: int = 256, progress: bool = True, desc: str | None = None) -> pd.DataFrame:
    """Accuracy under sign flips for every fraction in ``fractions``, with the chunked protocol.

    target: ``"weights"`` (all stored weight embeddings, classifier included, as the paper's RASU vs
    TASU experiment) or ``"data"`` (the data embeddings of ``data_flip_layers``; the paper flips the
    first layer's). Each chunk is embedded once (the same G as :func:`evaluate_chunks` with this
    seed) and every fraction is evaluated on it, with its own flip stream. One row per (chunk,
    fraction), with ``flip_fraction`` and ``flip_target`` columns.
    """
    from .progress import progress as _progress

    X, y, n_chunks = _check_eval_inputs(model, X, y, n_chunks, seed)
    check_choice(target, "target", ("weights", "data"))
    check_choice(flip_model, "flip_model", FLIP_MODELS)
    fractions = [_check_fraction(p, "fractions") for p in _check_seq(fractions, "fractions")]
    float_pred = model.predict(X)
    children = np.random.SeedSequence(int(seed)).spawn(n_chunks)
    bounds = np.array_split(np.arange(X.shape[0]), n_chunks)
    rows = []
    for c in _progress(range(n_chunks), desc=desc or "EHD flips", total=n_chunks, disable=not progress):
        ehd = embed(model, hyperdim=hyperdim, ratio=ratio, embedding=embedding,
                    seed=np.random.default_rng(children[c]), class_vectors=class_vectors)
        idx = bounds[c]
        first_cache: dict = {}  # weight flips leave the first layer's data signs unchanged
        for k, (p, ss) in enumerate(zip(fractions, np.random.SeedSequence([int(seed), c]).spawn(len(fractions)))):
            rng = np.random.default_rng(ss)
            if target == "weights":
                pred = ehd.with_weight_flips(p, model=flip_model, seed=rng).predict(
                    X[idx], path=path, batch_size=batch_size, _first_layer_cache=first_cache)
            else:
                pred = ehd.predict(X[idx], path=path, batch_size=batch_size, data_flip=p,
                                   data_flip_layers=data_flip_layers, flip_model=flip_model, seed=rng)
            rows.append(_chunk_row(c, idx, pred, y, float_pred, ehd, model, embedding, flip_fraction=p,
                                   flip_target=target, flip_model=flip_model))
    return pd.DataFrame(rows)


def sweep(model, X, y, *, param: str, values: Sequence, seed, **kwargs) -> pd.DataFrame:
    """:func:`evaluate_chunks` for each value of one keyword ``param`` (e.g. ``"hyperdim"``,
    ``"weight_flip"``); returns the concatenated chunk rows with a ``param`` column."""
    import inspect

    options = set(inspect.signature(evaluate_chunks).parameters) - {"model", "X", "y", "seed"}
    if param not in options:
        raise ValueError(f"param: unknown value {param!r}; expected a keyword of evaluate_chunks: {sorted(options)}")
    values = _check_seq(values, "values")
    frames = []
    for v in values:
        df = evaluate_chunks(model, X, y, seed=seed, **{param: v}, **kwargs)
        df.insert(0, param if param not in df.columns else f"{param}_value", v if not isinstance(v, (list, tuple)) else ";".join(map(str, v)))
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def chunk_summary(df: pd.DataFrame, by: Sequence[str], value: str = "accuracy") -> pd.DataFrame:
    """Mean, std and the paper's band (mean +- 0.5 std) of ``value`` over chunks, per group ``by``."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df: expected a pandas DataFrame of chunk rows, got {type(df).__name__}")
    by = [by] if isinstance(by, str) else list(by)
    missing = [c for c in [*by, value] if c not in df.columns]
    if missing:
        raise ValueError(f"by/value: columns {missing} are not in df; its columns: {list(df.columns)}")
    g = df.groupby(by, sort=True)[value]
    out = g.agg(["mean", "std", "count"]).reset_index()
    out["lo"] = out["mean"] - 0.5 * out["std"]
    out["hi"] = out["mean"] + 0.5 * out["std"]
    return out


# --------------------------------------------------------------------------------------------------
# Benchmark


def benchmark(model=None, *, hyperdim: int = 10_000, embedding: str = "rademacher", batch_sizes=(1, 256),
              repeats: int = 7, seed: int = 0, clock: str = "wall") -> pd.DataFrame:
    """EHD inference throughput: bit-packed vs float-simulated path, same model, same G, same batch.

    model: a G-Net; default an untrained ``mnist_dense`` TASU model, 784-256-256-10 (throughput does not
    depend on training). With TASU and Rademacher G everything after the first layer's real-valued
    projection sign(G x) is +-1 arithmetic; that projection is the same float32 product in both paths
    (it is what makes their predictions identical), so it bounds the end-to-end ratio (Amdahl).

    Method (as :mod:`gnetlab.bench`): one warm-up call per path (numba compiles or loads its cache),
    then ``repeats`` rounds in which the float path and the packed path run back to back on the same
    batch, so both see the same background load; medians. ``clock``: ``"wall"`` or ``"cpu"`` (process
    CPU time; meaningful with one thread).

    Returns one row per batch size: ``images_per_s_packed``, ``images_per_s_float``, ``speedup``
    (float time / packed time), ``speedup_after_first_projection`` (the same without the shared first
    projection: the part the packing changes), ``speedup_weight_products`` (the products with the stored
    weight embeddings alone: XOR-popcount vs float32 BLAS), ``first_projection_share_packed`` (share of the packed
    path's time spent in it), ``weight_bytes_packed`` / ``weight_bytes_float`` (stored weight
    embeddings as bits vs float32 +-1), ``identical_scores``.
    """
    from .gnet.models import build_model

    clocks = {"wall": time.perf_counter, "cpu": time.process_time}
    check_choice(clock, "clock", tuple(clocks))
    now = clocks[clock]
    if model is None:
        model = build_model("mnist_dense", activation="tasu", seed=seed)
    repeats = check_positive_int(repeats, "repeats")
    ehd = embed(model, hyperdim=hyperdim, embedding=embedding, seed=seed)
    rng = resolve_rng(seed)
    rows = []
    for bs in batch_sizes:
        bs = check_positive_int(bs, "batch_sizes")
        X = rng.random((bs, model.n_features), dtype=np.float32)
        ref = {p: ehd.scores(X, path=p, batch_size=bs) for p in PATHS}  # warm-up
        tot = {p: [] for p in PATHS}
        first = {p: [] for p in PATHS}
        wside = {p: [] for p in PATHS}
        for _ in range(repeats):
            for p in ("float", "packed"):
                tm: dict = {"_clock": now}
                t0 = now()
                ehd.scores(X, path=p, batch_size=bs, timings=tm)
                tot[p].append(now() - t0)
                first[p].append(tm.get("layer0:data", 0.0))
                wside[p].append(sum(v for k, v in tm.items() if k.endswith(":weights")))
        t = {p: float(np.median(tot[p])) for p in PATHS}
        f = {p: float(np.median(first[p])) for p in PATHS}
        rest = {p: max(float(np.median(np.subtract(tot[p], first[p]))), 1e-12) for p in PATHS}
        widths = "-".join(str(w) for w in [model.n_features] + [l.n_out for l in ehd.layers] + [ehd.n_classes])
        rows.append({"model": f"{widths} {model.activation}",
                     "hyperdim": hyperdim, "embedding": embedding, "batch_size": bs,
                     "seconds_packed": t["packed"], "seconds_float": t["float"],
                     "images_per_s_packed": bs / t["packed"], "images_per_s_float": bs / t["float"],
                     "speedup": t["float"] / t["packed"],
                     "speedup_after_first_projection": rest["float"] / rest["packed"],
                     "speedup_weight_products": float(np.median(wside["float"])) / max(float(np.median(wside["packed"])), 1e-12),
                     "first_projection_share_packed": f["packed"] / t["packed"],
                     "weight_bytes_packed": ehd.weight_nbytes(packed=True),
                     "weight_bytes_float": ehd.weight_nbytes(packed=False),
                     "identical_scores": bool(np.array_equal(ref["packed"], ref["float"])), "clock": clock})
    return pd.DataFrame(rows)


def bench_main(argv: Sequence[str] | None = None) -> int:
    """``python -m gnetlab.ehd`` (or via ``python -m gnetlab.bench ehd``): print :func:`benchmark`."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m gnetlab.ehd", description=benchmark.__doc__.split("\n\n")[0])
    parser.add_argument("--hyperdim", type=int, default=10_000)
    parser.add_argument("--embedding", choices=EMBEDDINGS, default="rademacher")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 256])
    parser.add_argument("--hidden", type=int, nargs="+", default=[256, 256], help="dense TASU model widths")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--csv", default=None)
    args = parser.parse_args(argv)
    for flag, values in (("--hyperdim", [args.hyperdim]), ("--batch", args.batch), ("--hidden", args.hidden),
                         ("--repeats", [args.repeats]), ("--threads", [] if args.threads is None else [args.threads])):
        if min(values, default=1) < 1:
            parser.error(f"{flag}: expected integers >= 1, got {min(values)}")
    if args.seed < 0:
        parser.error(f"--seed: expected a non-negative integer, got {args.seed}")
    if args.threads is not None:
        from .pipeline import set_threads

        set_threads(args.threads)
    from .gnet.models import build_model

    model = build_model("mnist_dense", activation="tasu", seed=args.seed, hidden=tuple(args.hidden))
    df = benchmark(model, hyperdim=args.hyperdim, embedding=args.embedding, batch_sizes=args.batch,
                   repeats=args.repeats, seed=args.seed, clock=args.clock)
    view = df.drop(columns=["seconds_packed", "seconds_float"]).copy()
    for c in ("images_per_s_packed", "images_per_s_float"):
        view[c] = view[c].round(1)
    for c in ("speedup", "speedup_after_first_projection", "speedup_weight_products", "first_projection_share_packed"):
        view[c] = view[c].round(2)
    print(view.to_string(index=False))
    if args.csv:
        from .io import write_csv_atomic

        write_csv_atomic(df, args.csv)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(bench_main())
