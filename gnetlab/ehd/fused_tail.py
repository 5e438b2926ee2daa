"""The +-1 layers of a packed EHD G-Net in one compiled call: from the first layer's signs to the scores.

After the first (real-input) layer every layer of a TASU network with Rademacher G works on +-1 values:
its data side ``<g_k, x> = K - 2 popcount(x ^ g_k)`` compared with ``-float32(b) sum_i g_ki`` (as
:func:`gnetlab.ehd.fast.pack_less`, in float64), its weight side ``<s, a_j> = N - 2 popcount(s ^ a_j)``
and its TASU sign ``float32(alpha) * (float32(dot) * float32(pi / 2N)) < 0`` (as
:func:`gnetlab.ehd.fast.pack_tasu`); the classifier's weight side gives the int32 scores.
:func:`tail_scores` runs all of them for each row in one numba call: per row, every product is a loop
over the row's few words with the matrices stored word-major (``(W, N)``), so the loop over the N rows
of G (or the m weight rows) vectorises (VPOPCNTQ where the compile target has it, ``llvm.ctpop``
everywhere else). At batch 1 this replaces a dozen Python-level kernel calls and their allocations,
which cost more than the work (about 0.2 M word popcounts for the 784-256-256-10 network at N = 10,000).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..kernels.popcount_gemm import xor_popcount_sums

__all__ = ["tail_scores", "tail_params"]


@njit(cache=True, nogil=True)
def _tail_kernel(x0, first_weights, meta, gflat, wflat, tflat, cf, af, out):
    R = x0.shape[0]
    n_layers = meta.shape[0]
    maxn = 1
    maxw = x0.shape[1]
    for l in range(n_layers):
        maxn = max(maxn, meta[l, 0], meta[l, 2])
        maxw = max(maxw, (meta[l, 0] + 63) // 64, (meta[l, 2] + 63) // 64)
    acc = np.empty(maxn, np.int32)
    s = np.empty(maxw, np.uint64)
    act = np.empty(maxw, np.uint64)
    for r in range(R):
        for q in range(x0.shape[1]):
            if first_weights:
                s[q] = x0[r, q]
            else:
                act[q] = x0[r, q]
        for l in range(n_layers):
            N = meta[l, 0]
            K = meta[l, 1]
            m = meta[l, 2]
            goff = meta[l, 3]
            woff = meta[l, 4]
            toff = meta[l, 5]
            if not (l == 0 and first_weights):  # data side: s = <g_k, act> < -b sum g_k
                xor_popcount_sums(act, gflat, goff, N, (K + 63) // 64, acc)
                for w in range((N + 63) // 64):
                    base = 64 * w
                    word = np.uint64(0)
                    for j in range(min(64, N - base)):
                        d = np.int32(K) - np.int32(2) * acc[base + j]
                        word |= np.uint64(np.float64(d) < np.float64(tflat[toff + base + j])) << np.uint64(j)
                    s[w] = word
            xor_popcount_sums(s, wflat, woff, m, (N + 63) // 64, acc)  # weight side: <s, a_j>
            if l == n_layers - 1:
                for j in range(m):
                    out[r, j] = np.int32(N) - np.int32(2) * acc[j]
            else:
                c = cf[l]
                alpha = af[l]
                for w in range((m + 63) // 64):
                    base = 64 * w
                    word = np.uint64(0)
                    for j in range(min(64, m - base)):
                        z = np.float32(np.int32(N) - np.int32(2) * acc[base + j]) * c
                        word |= np.uint64(alpha * z < np.float32(0)) << np.uint64(j)
                    act[w] = word


def tail_params(layers, first_weights: bool) -> tuple:
    """The flat word-major operands ``(meta, g, w, t, cf, af)`` of ``layers`` for the compiled tail
    (cached in the last layer's cache, checked by identity)."""
    cache = layers[-1]._cache
    hit = cache.get("fused_tail")
    if hit is not None and hit[0] == first_weights and len(hit[1]) == len(layers) and all(
            a is b for a, b in zip(hit[1], layers)):
        return hit[2]
    meta = np.zeros((len(layers), 6), np.int64)
    g, w, t = [], [], []
    goff = woff = toff = 0
    for i, l in enumerate(layers):
        meta[i, :3] = l.hyperdim, l.fan_in, l.n_out
        meta[i, 3:] = goff, woff, toff
        if not (i == 0 and first_weights):
            gT = np.ascontiguousarray(l.projection_bits().T).ravel()
            g.append(gT)
            goff += gT.size
            thr = -l.bias_term().astype(np.float32)
            t.append(thr)
            toff += thr.size
        wT = np.ascontiguousarray(l.weight_bits.T).ravel()
        w.append(wT)
        woff += wT.size
    cat = lambda xs, dt: np.concatenate(xs).astype(dt) if xs else np.zeros(1, dt)  # noqa: E731
    cf = np.array([np.float32(np.pi / (2 * l.hyperdim)) for l in layers], np.float32)
    af = np.array([np.float32(l.alpha) for l in layers[:-1]] + [np.float32(0)], np.float32)
    params = (meta, cat(g, np.uint64), cat(w, np.uint64), cat(t, np.float32), cf, af)
    cache["fused_tail"] = (first_weights, tuple(layers), params)
    return params


def tail_scores(layers, x0: np.ndarray, *, first_weights: bool) -> np.ndarray:
    """Scores of the +-1 layers ``layers`` (the last one the classifier) from packed signs ``x0``.

    Parameters
    ----------
    layers : list of EHDLayer
        TASU layers with Rademacher G on +-1 inputs (arcsine estimate), then the classifier.
    x0 : ndarray, uint64, shape (R, W)
        With ``first_weights``: the data signs of ``layers[0]`` (its weight side comes first; its G is
        not used); else the packed +-1 input of ``layers[0]``.
    first_weights : bool
        See ``x0``.

    Returns
    -------
    ndarray, int32, shape (R, n_classes)
        Exactly the integers of the layer-by-layer packed path.
    """
    meta, g, w, t, cf, af = tail_params(list(layers), bool(first_weights))
    x0 = np.ascontiguousarray(x0, dtype=np.uint64)
    out = np.empty((x0.shape[0], layers[-1].n_out), np.int32)
    _tail_kernel(x0, bool(first_weights), meta, g, w, t, cf, af, out)
    return out
