"""Random sign embeddings and Grothendieck's identity.

For g ~ N(0, I_n) and any nonzero u, v in R^n (Grothendieck's identity)

    E[sign(<g, u>) sign(<g, v>)] = (2/pi) arcsin(cos angle(u, v)),

so with G in R^{N x n} with iid N(0, 1) rows, the normalised inner product of the embeddings

    (1/N) <sign(G u), sign(G v)>

is an average of N iid terms in {-1, +1} with that mean: it converges at rate 1/sqrt(N) and obeys
Hoeffding's bound P(|avg - mean| >= t) <= 2 exp(-N t^2 / 2). This is what lets the EHD G-Net replace
each arcsine layer by binary arithmetic. With Rademacher G (iid +-1 entries) the identity holds only
approximately: for spread-out vectors the projection <g, u> is close to Gaussian (central limit
theorem) and the bias is small, but for sparse vectors it is not, and the bias does not vanish as N
grows (:func:`rademacher_limit` computes the exact limit for vectors with few nonzeros).

Conventions: sign(0) = +1 (a projection that is exactly zero counts as positive); embeddings are int8
arrays of +-1, shape (..., N); use :func:`gnetlab.pack_signs` to store them as bits.
"""

from __future__ import annotations

import itertools

import numpy as np

from ._validation import as_array, check_choice, check_positive_int, check_real, resolve_rng

__all__ = [
    "EMBEDDINGS",
    "projection",
    "sign_embed",
    "normalized_inner",
    "grothendieck_similarity",
    "grothendieck_expectation",
    "hoeffding_radius",
    "pairs_with_cosine",
    "rademacher_limit",
    "convergence_curve",
    "loglog_slope",
]

EMBEDDINGS = ("gaussian", "rademacher")


def projection(hyperdim: int, dim: int, *, embedding: str = "gaussian", seed, dtype=np.float32) -> np.ndarray:
    """Random projection matrix G.

    Parameters
    ----------
    hyperdim : int
        N, rows.
    dim : int
        n, columns.
    embedding : {"gaussian", "rademacher"}, default "gaussian"
        iid N(0, 1), or iid +-1 (equiprobable).
    seed : int or numpy.random.Generator
        Source of the draw (rows are drawn in order, so the first N' rows of a larger G are the G of
        N' rows with the same seed).
    dtype : numpy dtype, default float32
        Output dtype.

    Returns
    -------
    ndarray, ``dtype``, shape (hyperdim, dim)
        G.
    """
    hyperdim = check_positive_int(hyperdim, "hyperdim")
    dim = check_positive_int(dim, "dim")
    check_choice(embedding, "embedding", EMBEDDINGS)
    rng = resolve_rng(seed)
    if embedding == "gaussian":
        return rng.standard_normal((hyperdim, dim), dtype=np.float32).astype(dtype, copy=False)
    bits = rng.integers(0, 2, size=(hyperdim, dim), dtype=np.int8)
    return (1 - 2 * bits).astype(dtype, copy=False)


def sign_embed(x, G) -> np.ndarray:
    """sign(G x) for each row of ``x``; sign(0) = +1.

    Parameters
    ----------
    x : array_like, float, shape (..., n)
        Vectors.
    G : ndarray, float, shape (N, n)
        Projection; the product is computed in its float dtype.

    Returns
    -------
    ndarray, int8, shape (..., N)
        +-1 embeddings.
    """
    G = as_array(G, "G", dtype_kind="fiu", ndim=2, finite=True)
    x = as_array(x, "x", dtype_kind="fiub", finite=True)
    if x.ndim == 0:
        raise ValueError("x: expected an array of shape (..., n), got a scalar")
    if x.shape[-1] != G.shape[1]:
        raise ValueError(f"x: last dimension {x.shape[-1]} does not match G's input dimension {G.shape[1]}")
    ftype = G.dtype if G.dtype.kind == "f" else np.float32
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below, by name
        proj = x.astype(ftype, copy=False) @ G.astype(ftype, copy=False).T
    if not np.isfinite(proj).all():
        raise ValueError(f"x: G x overflows {np.dtype(ftype)} (max |x| = {float(np.abs(x).max()):.3g}); "
                         "rescale x (the signs do not depend on its scale)")
    return np.where(proj >= 0, np.int8(1), np.int8(-1))


def normalized_inner(su, sv) -> np.ndarray:
    """(1/N) <su, sv> of +-1 embeddings along the last axis (broadcasting).

    Parameters
    ----------
    su, sv : array_like, shape (..., N)
        +-1 embeddings.

    Returns
    -------
    ndarray, float64, shape (...)
        Normalised inner products.
    """
    su = as_array(su, "su", dtype_kind="iuf")
    sv = as_array(sv, "sv", dtype_kind="iuf")
    for arr, name in ((su, "su"), (sv, "sv")):
        if arr.ndim == 0:
            raise ValueError(f"{name}: expected an array of shape (..., N), got a 0-D value")
        if not np.all(np.abs(arr) == 1):
            raise ValueError(f"{name}: expected +-1 entries (an embedding from sign_embed), got values outside "
                             "{-1, +1} (NaN, 0 or other)")
    if su.shape[-1] != sv.shape[-1]:
        raise ValueError(f"su, sv: embedding lengths differ ({su.shape[-1]} vs {sv.shape[-1]})")
    if su.shape[-1] == 0:
        raise ValueError("su, sv: embeddings of length N = 0")
    return (su.astype(np.int32) * sv.astype(np.int32)).sum(axis=-1) / su.shape[-1]


def grothendieck_similarity(u, v, G) -> np.ndarray:
    """(1/N) <sign(G u_i), sign(G v_i)> for paired rows.

    Parameters
    ----------
    u, v : array_like, float, shape (m, n)
        Paired vectors.
    G : ndarray, float, shape (N, n)
        Projection.

    Returns
    -------
    ndarray, float64, shape (m,)
        Normalised inner products of the embeddings.
    """
    u = as_array(u, "u", dtype_kind="fiu", ndim=2, finite=True)
    v = as_array(v, "v", dtype_kind="fiu", ndim=2, finite=True)
    if u.shape != v.shape:
        raise ValueError(f"u, v: expected equal shapes (paired rows), got {u.shape} and {v.shape}")
    return normalized_inner(sign_embed(u, G), sign_embed(v, G))


def grothendieck_expectation(cos) -> np.ndarray:
    """(2/pi) arcsin(cos): the limit of the normalised inner product for Gaussian G.

    Parameters
    ----------
    cos : array_like, float, values in [-1, 1]
        Cosines.

    Returns
    -------
    ndarray, float64, same shape
        The expectations.
    """
    cos = as_array(cos, "cos", dtype_kind="fiu", finite=True).astype(np.float64)
    if np.any(np.abs(cos) > 1 + 1e-12):
        raise ValueError(f"cos: cosines must lie in [-1, 1], got range [{cos.min()}, {cos.max()}]")
    return (2 / np.pi) * np.arcsin(np.clip(cos, -1.0, 1.0))


def hoeffding_radius(hyperdim, delta: float = 0.05) -> np.ndarray:
    """Radius t with P(|(1/N)<sign(Gu), sign(Gv)> - mean| >= t) <= delta: sqrt(2 ln(2/delta) / N).

    Each of the N terms lies in [-1, 1] and the rows of G are independent, so Hoeffding's inequality
    applies for Gaussian and Rademacher G alike (around each one's own mean).

    Parameters
    ----------
    hyperdim : int or array_like of int
        N.
    delta : float, default 0.05
        Failure probability.

    Returns
    -------
    ndarray, float64, shape of ``hyperdim``
        The radius t.
    """
    N = as_array(hyperdim, "hyperdim", dtype_kind="fiu", finite=True).astype(np.float64)
    if np.any(N < 1):
        raise ValueError(f"hyperdim: expected N >= 1, got minimum {N.min()}")
    delta = check_real(delta, "delta", minimum=0, maximum=1, low_open=True, high_open=True)
    return np.sqrt(2 * np.log(2 / delta) / N)


def pairs_with_cosine(cosines, dim: int, *, seed, sparsity: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Unit vector pairs (u_i, v_i) in R^dim with <u_i, v_i> = cosines[i] exactly.

    Spread-out (default): u and an orthogonal w are random directions; v = c u + sqrt(1-c^2) w.
    ``sparsity=k``: u and w are supported on k coordinates each (disjoint supports, entries +-1/sqrt(k)),
    the "not spread-out" vectors on which Rademacher projections fail.

    Parameters
    ----------
    cosines : array_like, float, shape (m,)
        Target cosines in [-1, 1].
    dim : int
        Dimension.
    seed : int or numpy.random.Generator
        Source of the directions.
    sparsity : int, optional
        Support size k of u and w (2 k <= dim).

    Returns
    -------
    u, v : ndarray, float64, shape (m, dim)
        Unit vectors with ``<u_i, v_i> = cosines[i]``.
    """
    c = as_array(cosines, "cosines", dtype_kind="fiu", ndim=1, finite=True).astype(np.float64)
    if np.any(np.abs(c) > 1):
        raise ValueError("cosines: values must lie in [-1, 1]")
    dim = check_positive_int(dim, "dim", minimum=2)
    rng = resolve_rng(seed)
    m = c.size
    if sparsity is None:
        u = rng.standard_normal((m, dim))
        w = rng.standard_normal((m, dim))
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        w -= (w * u).sum(axis=1, keepdims=True) * u
        w /= np.linalg.norm(w, axis=1, keepdims=True)
    else:
        k = check_positive_int(sparsity, "sparsity")
        if 2 * k > dim:
            raise ValueError(f"sparsity: 2 * sparsity must be <= dim ({dim}), got sparsity={k}")
        u = np.zeros((m, dim))
        w = np.zeros((m, dim))
        for i in range(m):
            idx = rng.permutation(dim)[: 2 * k]
            u[i, idx[:k]] = rng.choice([-1.0, 1.0], size=k) / np.sqrt(k)
            w[i, idx[k:]] = rng.choice([-1.0, 1.0], size=k) / np.sqrt(k)
    v = c[:, None] * u + np.sqrt(1 - c[:, None] ** 2) * w
    return u, v


def rademacher_limit(u, v, *, max_support: int = 20) -> float:
    """Exact E[sign(<g,u>) sign(<g,v>)] for Rademacher g (the N -> infinity limit), by enumeration.

    Only coordinates in the union of the supports of ``u`` and ``v`` matter; their number must be at
    most ``max_support`` (2^support sign patterns are enumerated). sign(0) = +1, as in :func:`sign_embed`.

    Parameters
    ----------
    u, v : array_like, float, shape (n,)
        Vectors.
    max_support : int, default 20
        Largest union of supports allowed.

    Returns
    -------
    float
        The expectation.
    """
    u = as_array(u, "u", dtype_kind="fiu", ndim=1, finite=True).astype(np.float64)
    v = as_array(v, "v", dtype_kind="fiu", ndim=1, finite=True).astype(np.float64)
    if u.shape != v.shape:
        raise ValueError(f"u, v: shapes differ: {u.shape} vs {v.shape}")
    max_support = check_positive_int(max_support, "max_support")
    support = np.flatnonzero((u != 0) | (v != 0))
    if support.size == 0:
        return 1.0
    if support.size > max_support:
        raise ValueError(f"u, v: joint support has {support.size} coordinates, more than max_support={max_support}")
    signs = np.array(list(itertools.product((-1.0, 1.0), repeat=support.size)))
    pu = signs @ u[support]
    pv = signs @ v[support]
    # Round off float noise so that exact zeros of the projection get sign +1 consistently.
    su = np.where(np.round(pu, 12) >= 0, 1.0, -1.0)
    sv = np.where(np.round(pv, 12) >= 0, 1.0, -1.0)
    return float(np.mean(su * sv))


def convergence_curve(u, v, hyperdims, *, embedding: str, seed, trials: int = 10, chunk: int = 4096):
    """Error of the embedded inner product against Grothendieck's (2/pi) arcsin(cos) as N grows.

    For each trial a fresh G with max(hyperdims) rows is drawn (in chunks of ``chunk`` rows, float64,
    so the signs do not depend on BLAS summation order) and the estimate at each N uses its first N
    rows.

    Parameters
    ----------
    u, v : array_like, float, shape (m, n)
        Paired vectors.
    hyperdims : sequence of int
        The N to evaluate.
    embedding : {"gaussian", "rademacher"}
        Distribution of G.
    seed : int or numpy.random.Generator
        Source of every G.
    trials : int, default 10
        Independent G.
    chunk : int, default 4096
        Rows of G drawn at once.

    Returns
    -------
    pandas.DataFrame
        One row per (trial, N): ``trial, hyperdim, rms_error, mean_abs_error, max_abs_error`` over
        the pairs (u_i, v_i).
    """
    import pandas as pd

    u = as_array(u, "u", dtype_kind="fiu", ndim=2, finite=True).astype(np.float64)
    v = as_array(v, "v", dtype_kind="fiu", ndim=2, finite=True).astype(np.float64)
    if u.shape != v.shape:
        raise ValueError(f"u, v: expected equal shapes, got {u.shape} and {v.shape}")
    Ns = np.unique(as_array(hyperdims, "hyperdims", dtype_kind="iu", ndim=1, allow_empty=False))
    if Ns[0] < 1:
        raise ValueError(f"hyperdims: every N must be >= 1, got {Ns[0]}")
    check_choice(embedding, "embedding", EMBEDDINGS)
    trials = check_positive_int(trials, "trials")
    chunk = check_positive_int(chunk, "chunk")
    for arr, name in ((u, "u"), (v, "v")):
        if arr.size == 0 or np.any(np.linalg.norm(arr, axis=1) == 0):
            raise ValueError(f"{name}: expected non-empty rows with nonzero norm (a cosine needs a direction), "
                             f"got shape {arr.shape} with zero rows")
    cos = (u * v).sum(1) / (np.linalg.norm(u, axis=1) * np.linalg.norm(v, axis=1))
    target = grothendieck_expectation(np.clip(cos, -1, 1))
    rng = resolve_rng(seed)
    from .progress import progress

    rows = []
    for t in progress(range(trials), desc=f"{embedding} trials"):
        total = np.zeros(u.shape[0], dtype=np.int64)
        done = 0
        want = iter(Ns)
        nxt = next(want)
        while nxt is not None:
            G = projection(min(chunk, int(Ns[-1]) - done), u.shape[1], embedding=embedding, seed=rng,
                           dtype=np.float64)
            prod = np.where(G @ u.T >= 0, 1, -1) * np.where(G @ v.T >= 0, 1, -1)  # (rows, m)
            csum = np.cumsum(prod, axis=0, dtype=np.int64) + total
            while nxt is not None and nxt <= done + G.shape[0]:
                err = csum[nxt - done - 1] / nxt - target
                rows.append((t, int(nxt), float(np.sqrt(np.mean(err**2))), float(np.mean(np.abs(err))),
                             float(np.max(np.abs(err)))))
                nxt = next(want, None)
            total = csum[-1]
            done += G.shape[0]
    return pd.DataFrame(rows, columns=["trial", "hyperdim", "rms_error", "mean_abs_error", "max_abs_error"])


def loglog_slope(x, y) -> float:
    """Least-squares slope of log(y) against log(x) (e.g. -0.5 for an error shrinking like 1/sqrt(N)).

    Parameters
    ----------
    x, y : array_like, positive, shape (k,)
        Points.

    Returns
    -------
    float
        The slope.
    """
    x = as_array(x, "x", dtype_kind="fiu", ndim=1, finite=True).astype(np.float64)
    y = as_array(y, "y", dtype_kind="fiu", ndim=1, finite=True).astype(np.float64)
    if x.shape != y.shape or x.size < 2:
        raise ValueError(f"x, y: need two equal-length arrays with at least 2 points, got {x.shape}, {y.shape}")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("x, y: log-log slope needs positive values")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])
