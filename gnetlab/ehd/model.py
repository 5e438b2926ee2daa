"""The embedded network: :class:`EHDLayer`, :class:`EHDGNet` and their bit-packed / float inference.

See :mod:`gnetlab.ehd` for the maths and the two inference paths (``"packed"``, ``"float"``).
"""

from __future__ import annotations

import numbers
import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .._validation import as_array, check_choice, check_positive_int, check_sequence, resolve_rng
from ..bits import FLIP_MODELS, check_fraction, flip_mask, flip_packed, pack_bool, truncate_words, unpack_float
from .geometry import TIE_RTOL, _maxpool, _unfold, pad_tables, tie_tolerance

__all__ = ["EHDLayer", "EHDGNet", "PATHS", "ESTIMATES"]

PATHS = ("packed", "float")
# How a layer turns its integer <s, a_i> into the estimate its activation receives (see EHDLayer).
ESTIMATES = ("arcsine", "uncompensated", "inverted")
_ROW_BLOCK_BYTES = 64 * 2**20  # rows of float32 embeddings processed at once (memory cap)
# Real-input Rademacher projections of fewer rows than this run on the one-bit kernel
# (gnetlab.ehd.fast.one_bit_project, 1 bit per entry of G, memory-bound regime); from here on the product
# is compute-bound and float32 BLAS on the +-1 G is faster (both are then decided exactly).
_ONE_BIT_MAX_ROWS = 16
_PACKED_BLOCK_BYTES = 4 * 2**20  # float32 products per BLAS call of the packed path (cache-sized)
_SMALL_BLAS_MACS = 64 * 2**20  # BLAS calls below this many multiply-adds run on one thread


def _binary_dot(a: np.ndarray, b: np.ndarray, k: int) -> np.ndarray:
    """<a_i, b_j> of the +-1 rows packed in ``a`` (Ra, W) and ``b`` (Rb, W): int32 (Ra, Rb), by
    :func:`gnetlab.kernels.binary_matmul` (XOR-popcount; numba on CPUs, CuPy on GPUs)."""
    from ..bits import PackedBits
    from ..kernels import binary_matmul

    return np.asarray(binary_matmul(PackedBits(a, k), PackedBits(b, k)))


@dataclass(eq=False)
class EHDLayer:
    """One embedded layer (built by :func:`gnetlab.ehd.embed_gnet`).

    Parameters
    ----------
    kind : {"dense", "conv1d", "conv2d", "classifier"}
        Layer type.
    hyperdim : int
        N, the length of its embeddings.
    projection : ndarray, float32, shape (N, K)
        G; K is the fan-in (C * k^d for convs, in the patch order of ``unfold``).
    weight_bits : ndarray, uint64, shape (m, ceil(N / 64))
        The packed signs of G w~_i (of the class vectors for the classifier).
    n_out : int
        m, output units (classes for the classifier).
    bias : float
        The bias-trick scalar b.
    activation : {"asu", "rasu", "tasu", "relu"} or None
        Activation (None for the classifier).
    alpha : float
        The activation's trained scale.
    binary_input : bool
        Whether the layer's input is +-1 (after a TASU layer).
    embedding : {"gaussian", "rademacher"}
        Distribution of G.
    kernel_size, stride, padding, pool, in_channels : int
        Convolution geometry (unused for dense layers).
    estimate : {"arcsine", "uncompensated", "inverted"}, default "arcsine"
        The value handed to the activation, from h = <s, a_i> / N, which tends to
        (2/pi) arcsin(cos(x + b, w~_i)): ``"arcsine"`` z^ = (pi/2) h, the estimate of the arcsine
        layer's arcsin(cos) (every paper G-Net); for a cosine-kernel layer ``"uncompensated"`` h itself,
        used as if it were the cosine, and ``"inverted"`` sin((pi/2) h), which tends to the cosine.
    _cache : dict
        Derived arrays (float weights, packed G), filled on first use.
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
    estimate: str = "arcsine"
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        check_choice(self.estimate, "estimate", ESTIMATES)

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
        return self.cached("wf", lambda: unpack_float(self.weight_bits, self.hyperdim))

    def projection_bits(self) -> np.ndarray:
        return self.cached("gb", lambda: pack_bool(self.projection < 0))

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


class EHDGNet:
    """An embedded G-Net (see :mod:`gnetlab.ehd`). Build with :func:`gnetlab.ehd.embed_gnet`.

    Parameters
    ----------
    layers : list of EHDLayer
        The embedded arcsine layers.
    classifier : EHDLayer
        The embedded output layer.
    input_shape : tuple of int
        Input shape of one sample, e.g. ``(784,)`` or ``(1, 28, 28)``.
    input_shift, input_scale : float
        Inputs are standardised as ``(x - shift) / scale`` first, as the float model.
    n_classes : int
        Number of classes.
    embedding : {"gaussian", "rademacher"}
        Distribution of the G.
    class_vectors : {"normalized", "raw"}
        How the class vectors were taken (see :func:`gnetlab.ehd.embed_gnet`).
    """

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

    def op_counts(self) -> dict:
        """Operation counts of one inference, for :func:`gnetlab.costs.energy_pj`.

        Per layer with fan-in n, N rows of G and m weight rows: the data side costs N n MACs (binary
        when the input is +-1 and G is Rademacher, float otherwise), the weight side N m binary MACs;
        the stored weight embeddings take N m bits.

        Returns
        -------
        dict of str to int
            The keys of :data:`gnetlab.costs.COUNT_KEYS`.
        """
        from ..costs import zero_counts

        out = zero_counts()
        for layer in self.all_layers:
            data = layer.hyperdim * layer.fan_in
            out["binary_macs" if layer.binary_data_side else "float_mult_macs"] += data
            out["binary_macs"] += layer.hyperdim * layer.n_out
            out["weight_bits"] += layer.hyperdim * layer.n_out
        return out

    def __repr__(self) -> str:
        kinds = ", ".join(f"{l.kind}(N={l.hyperdim}, out={l.n_out})" for l in self.all_layers)
        return f"EHDGNet({kinds}, embedding={self.embedding!r})"

    def truncated(self, hyperdim) -> "EHDGNet":
        """The same network with smaller hyperdimensions: the first N_l rows of every G_l and the first
        N_l bits of every stored embedding. Because each layer's G is drawn row by row from its own
        stream, this equals :func:`gnetlab.ehd.embed_gnet` at the smaller N with the same seed (a test checks it), so an
        N-sweep embeds the weights once per chunk (see :func:`gnetlab.ehd.hyperdim_sweep`).

        hyperdim: an int for every layer or one value per layer (incl. the classifier), each <= now.
        """
        n = len(self.all_layers)
        from .hyperdims import per_layer

        Ns = per_layer(hyperdim, "hyperdim", n)
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
                          weight_bits=truncate_words(l.weight_bits, N))
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
        fraction = check_fraction(fraction)
        check_choice(model, "model", FLIP_MODELS)
        rng = resolve_rng(seed)
        n = len(self.all_layers)
        sel = range(n) if layers is None else [_check_layer_index(i, n) for i in check_sequence(layers, "layers")]
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
        if (path == "packed" and type(X) is np.ndarray and X.dtype == np.float32 and X.ndim == 2
                and 0 < X.shape[0] < _ONE_BIT_MAX_ROWS and type(batch_size) is int and batch_size >= X.shape[0]
                and type(data_flip) in (int, float) and data_flip == 0 and flip_model == "exact"
                and _first_layer_cache is None and X.flags.c_contiguous and X.shape[1] == self.all_layers[0].fan_in):
            # a few float32 images: the fused pixel path, none of the per-call Python below (after other
            # work has evicted the caches, that costs more than the kernels; gnetlab.ehd.pixels)
            from .pixels import small_batch_scores

            out = small_batch_scores(self, X, timings)
            if out is not None:
                return out
        check_choice(path, "path", PATHS)
        batch_size = check_positive_int(batch_size, "batch_size")
        data_flip = check_fraction(data_flip, "data_flip")
        check_choice(flip_model, "flip_model", FLIP_MODELS)
        n = len(self.all_layers)
        flip_layers = ({_check_layer_index(i, n, "data_flip_layers") for i in check_sequence(data_flip_layers, "data_flip_layers")}
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
        raw, x = x, (x - np.float32(self.input_shift)) / np.float32(self.input_scale)
        if path == "packed" and not flip_layers and collect is None and first_cache is None and self._fast_ok():
            return self._forward_fast(x, timings, raw)
        if path == "packed" and not flip_layers and collect is None and first_cache is None and _conv_ok(self):
            from .conv_fast import conv_forward  # fused conv path (gnetlab.ehd.conv_fast)

            return conv_forward(self, x, timings, raw=raw.reshape(x.shape))
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
                z = _estimate(dot, layer)
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

    def _fast_ok(self) -> bool:
        """Whether the fused packed path applies: Rademacher G, dense layers, TASU (binary after layer 0)."""
        return (self.embedding == "rademacher" and all(l.embedding == "rademacher" for l in self.all_layers)
                and all(l.kind == "dense" and l.activation == "tasu" and l.pool == 1 and l.estimate == "arcsine"
                        for l in self.layers)
                and all(l.binary_input for l in self.all_layers[1:]) and not self.all_layers[0].binary_input)

    def _forward_fast(self, x, timings, raw):
        """The packed path of a dense TASU network with Rademacher G, fused: signs go from the integer
        products straight into packed words (``gnetlab.ehd.fast``), no boolean or +-1 float arrays.
        Computes exactly the integers of the generic path."""
        from .fast import pack_less, pack_tasu

        now = _clock(timings)
        B = x.shape[0]
        t0 = now()
        first = self.all_layers[0]
        blk = x.reshape(B, -1) + np.float32(first.bias)
        words = self._pixel_signs(first, raw.reshape(B, -1), blk)
        if words is None:
            words = _real_rademacher_signs(first, blk, "packed")
        t1 = now()
        if timings is not None:
            timings["layer0:data"] = timings.get("layer0:data", 0.0) + t1 - t0
        if B < _ONE_BIT_MAX_ROWS:  # few rows: the +-1 layers in one compiled call (gnetlab.ehd.fused_tail)
            from .fused_tail import tail_scores

            return tail_scores(self.all_layers, words, first_weights=True)
        for i, layer in enumerate(self.all_layers):
            if i > 0:
                dot = _binary_dot(act, layer.projection_bits(), layer.fan_in)
                words = pack_less(dot, layer.cached("neg_bias_term", lambda l=layer: -l.bias_term()))
            t2 = now()
            dot = _binary_dot(words, layer.weight_bits, layer.hyperdim)
            if timings is not None:
                timings[f"layer{i}:weights"] = timings.get(f"layer{i}:weights", 0.0) + now() - t2
            if layer.kind == "classifier":
                return dot
            act = pack_tasu(dot, layer.hyperdim, layer.alpha)
        raise AssertionError("no classifier")  # pragma: no cover

    def _pixel_signs(self, first, raw, blk):
        """The first layer's signs by exact integer products when the inputs are 8-bit images and the CPU
        has AVX-512 VNNI (``gnetlab.ehd.pixels.pixel_projection_signs``), else None."""
        from ..kernels.u8gemm import vnni_available, weight_layout
        from .pixels import code_values, pixel_projection_signs

        if not vnni_available():
            return None
        values = code_values(self, first.bias)
        if raw.shape[0] < _ONE_BIT_MAX_ROWS:  # a few rows, one thread: the products straight from the bits of G
            layout = None
        else:
            layout = first.cached("u8_layout", lambda: weight_layout(np.where(first.projection < 0, -1, 1).astype(np.int8)))
        thr = np.ascontiguousarray(-tie_tolerance(blk, first)[:, 0])
        gsum = first.cached("gsum_int", lambda: np.rint(first.projection_rowsum()).astype(np.int64))
        return pixel_projection_signs(raw, blk, values, first.projection_bits(), layout, thr, first.projection, gsum)


def _conv_ok(net) -> bool:
    from .conv_fast import conv_fast_ok

    return conv_fast_ok(net)


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
        raise ValueError(f"X: expected shape (batch, {n}){alt} for this model, got {X.shape}"
                         + (" (for one sample use X[None])" if X.ndim == 1 else ""))
    with np.errstate(over="ignore"):  # overflow is reported below, by name
        out = np.ascontiguousarray(X, dtype=np.float32)
    if X.dtype.itemsize > 4 and X.dtype.kind == "f" and not np.isfinite(out).all():
        raise ValueError(f"X: values beyond the float32 range (max |X| = {float(np.abs(X).max()):.3g}); "
                         "the EHD G-Net computes in float32, rescale X first")
    return out


def _estimate(dot: np.ndarray, layer: EHDLayer) -> np.ndarray:
    """The layer's estimate from the integers <s, a_i> (float32, the shape of ``dot``); see
    :class:`EHDLayer` ``estimate``."""
    if layer.estimate == "arcsine":
        return dot.astype(np.float32) * np.float32(np.pi / (2 * layer.hyperdim))
    if layer.estimate == "uncompensated":
        return dot.astype(np.float32) * np.float32(1.0 / layer.hyperdim)
    return np.sin(dot.astype(np.float32) * np.float32(np.pi / (2 * layer.hyperdim)))


def _activate(z: np.ndarray, layer: EHDLayer) -> np.ndarray:
    """The layer's activation on the estimates z^: the binary pass of its G-Net activation class."""
    from ..gnet.layers import ACTIVATIONS

    return ACTIVATIONS[layer.activation].binary_pass(z, layer.alpha)


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
    return rows, spatial, pad_tables(layer, x.shape[1:])


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
            dot = _binary_dot(pack_bool(blk < 0), layer.projection_bits(), layer.fan_in)
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
    if layer.embedding == "rademacher":
        # Real inputs, +-1 G: the exact <g_k, x + b> compared with -tie_tolerance, decided from a fast
        # float32 product (packed: byte tables or BLAS blocks; float: BLAS) and re-summed where it is
        # within rounding of the threshold (gnetlab.ehd.fast.exact_projection_signs): both paths agree
        # bit for bit whatever the summation order.
        from ..bits import unpack_bits

        words = _real_rademacher_signs(layer, blk, path)
        return unpack_bits(words, layer.hyperdim).view(np.bool_)
    return (blk @ G.T) < -tie_tolerance(blk, layer)


def _real_rademacher_signs(layer: EHDLayer, blk: np.ndarray, path: str, words=None) -> np.ndarray:
    """Packed signs (R, ceil(N / 64)) of the exact <g_k, blk_r> for a Rademacher layer on real rows."""
    from .fast import exact_projection_signs

    blk = np.ascontiguousarray(blk, dtype=np.float32)
    gbits = layer.projection_bits()
    thr = np.ascontiguousarray(-tie_tolerance(blk, layer)[:, 0])  # float32 per row, as the float rule
    if path == "packed" and blk.shape[0] < _ONE_BIT_MAX_ROWS:
        from .fast import one_bit_project

        approx = one_bit_project(blk, gbits)
    elif path == "packed":
        # BLAS on blocks of rows whose float32 products stay in cache, each decided and packed at once
        from ..threads import blas_handoff, blas_threads

        R, N = blk.shape[0], layer.hyperdim
        if words is None:
            words = np.empty((R, -(-N // 64)), np.uint64)
        # blocks for many short rows (conv patches); wide rows (dense layers) in one compute-bound call
        step = max(16, _PACKED_BLOCK_BYTES // (4 * N)) if layer.fan_in <= 64 else R
        buf = np.empty((min(step, R), N), np.float32)
        GT = layer.projection.T
        small = step * N * layer.fan_in < _SMALL_BLAS_MACS  # one BLAS thread: waking a pool costs more
        with blas_threads(1 if small else None), blas_handoff():  # the exact checks run on this thread
            for r in range(0, R, step):
                b = blk[r:r + step]
                approx = np.matmul(b, GT, out=buf[:b.shape[0]])
                exact_projection_signs(b, gbits, approx, words[r:r + step], projection=layer.projection,
                                       threshold=thr[r:r + step])
        return words
    else:
        from ..threads import blas_handoff

        with blas_handoff():
            approx = blk @ layer.projection.T
    return exact_projection_signs(blk, gbits, approx, words, projection=layer.projection, threshold=thr)


def _data_words(layer: EHDLayer, blk: np.ndarray, pad_terms) -> np.ndarray:
    """The packed path's data signs as words (R, ceil(N / 64)): ``pack_bool(_data_signs(...))`` without
    the boolean array."""
    if layer.binary_data_side:
        from .fast import pack_conv_binary, pack_less

        dot = _binary_dot(pack_bool(blk < 0), layer.projection_bits(), layer.fan_in)
        if pad_terms is None:
            return pack_less(dot, layer.cached("neg_bias_term", lambda: -layer.bias_term()))
        if "neg_bvalid" not in pad_terms:
            pad_terms["neg_bvalid"] = np.ascontiguousarray(-pad_terms["bvalid"])
        return pack_conv_binary(dot, pad_terms["pad_int"], pad_terms["neg_bvalid"])
    if not layer.binary_input and layer.embedding == "rademacher":
        if layer.kind in ("dense", "classifier"):
            blk = blk + np.float32(layer.bias)
        return _real_rademacher_signs(layer, blk, "packed")
    return pack_bool(_data_signs(layer, blk, pad_terms, "packed"))


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
        if path == "packed" and flip_p == 0 and neg_cache is None:  # signs straight into words
            words = _data_words(layer, blk, pad_terms)
            t2 = now()
            out[r:r + step] = _binary_dot(words, layer.weight_bits, N)
            if timings is not None:
                t3 = now()
                timings[f"layer{index}:data"] = timings.get(f"layer{index}:data", 0.0) + t2 - t0
                timings[f"layer{index}:weights"] = timings.get(f"layer{index}:weights", 0.0) + t3 - t2
            continue
        if neg_cache is not None and r in neg_cache:
            neg = neg_cache[r].copy()
        else:
            neg = _data_signs(layer, blk, pad_terms, path)
            if neg_cache is not None:
                neg_cache[r] = neg.copy()
        t1 = now()
        if flip_p > 0:
            mask = flip_mask(neg.shape[0], N, flip_p, flip_model, rng)
            if mask is not None:
                neg ^= mask
        t2 = now()
        if path == "packed":
            out[r:r + step] = _binary_dot(pack_bool(neg), layer.weight_bits, N)
        else:
            s = np.where(neg, np.float32(-1), np.float32(1))
            out[r:r + step] = np.rint(s @ layer.weight_float().T).astype(np.int32)
        if timings is not None:
            t3 = now()
            timings[f"layer{index}:data"] = timings.get(f"layer{index}:data", 0.0) + t1 - t0
            timings[f"layer{index}:weights"] = timings.get(f"layer{index}:weights", 0.0) + t3 - t2
    return out
