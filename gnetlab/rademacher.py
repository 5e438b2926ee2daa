"""Rademacher sign embeddings: the error floor that does not vanish with N, and how spread out vectors are.

For Gaussian G, (1/N) <sign(G u), sign(G v)> is an average of N iid +-1 terms whose mean is exactly
(2/pi) arcsin cos(u, v) (Grothendieck's identity, :mod:`gnetlab.embed`): its error shrinks like
1/sqrt(N). For Rademacher G (iid +-1 entries) the terms are iid too, but their mean

    m(u, v) = E_g[sign(<g, u>) sign(<g, v>)],   g uniform on {-1, +1}^n,

differs from (2/pi) arcsin cos(u, v). The error therefore converges to the **floor**

    floor(u, v) = m(u, v) - (2/pi) arcsin cos(u, v)

and the sampling error sqrt((1 - m^2) / N) falls below |floor| from N* = (1 - m^2) / floor^2 on.
The central limit theorem makes <g, u> nearly Gaussian when u is spread out (Berry-Esseen: the
distance is at most a constant times sum |u_i|^3 / ||u||_2^3 <= ||u||_inf / ||u||_2), so the floor is
small when both vectors are spread out and can be large when one has a few dominant coordinates
(:func:`spread`).

How m is computed (:func:`rademacher_floor`): **exactly**, by summing over every sign pattern on the
coordinates where some vector is nonzero, when there are at most ``max_exact`` of them (directly, or by
meet in the middle for k > 14); otherwise by **Monte Carlo** over ``samples`` draws of g
shared by all pairs, with the standard error sqrt((1 - m^2) / samples) of a mean of +-1 terms. Exact
ties <g, u> = 0 occur for real inputs with repeated values (a constant background plus the bias trick,
+-1 activations): sign(0) = +1 as everywhere in the project, and a projection within ``tie_rtol *
sum |u_i|`` of 0 counts as 0 (float64 rounding is ~1e-16 of that sum, a genuine nonzero value below
1e-9 of it does not occur for float32 data).

For long, spread-out vectors :func:`edgeworth_floor` gives the leading term of the floor in closed form
(the fourth cumulant of the Rademacher distribution): an approximation, to be checked against the exact
or Monte Carlo value.
"""

from __future__ import annotations

import numpy as np

from ._validation import as_array, check_choice, check_positive_int, check_real, resolve_rng

__all__ = ["spread", "pairwise_cosine", "sign_product_mean", "rademacher_floor", "edgeworth_floor",
           "pairwise_error_curve", "crossover_hyperdim"]

_EMBEDDINGS = ("gaussian", "rademacher")


def _rows(x, name: str) -> np.ndarray:
    """float64 (r, n) rows with nonzero norm."""
    arr = as_array(x, name, dtype_kind="fiub", ndim=2, finite=True, allow_empty=False).astype(np.float64)
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name}: expected a non-empty (rows, n) array, got shape {arr.shape}")
    zero = np.flatnonzero(~np.any(arr != 0, axis=1))
    if zero.size:
        raise ValueError(f"{name}: row {int(zero[0])} is all zeros (a cosine needs a direction); drop zero rows")
    return arr


def _pair(U, V) -> tuple[np.ndarray, np.ndarray]:
    U, V = _rows(U, "U"), _rows(V, "V")
    if U.shape[1] != V.shape[1]:
        raise ValueError(f"U, V: vector lengths differ ({U.shape[1]} vs {V.shape[1]})")
    return U, V


def spread(x) -> np.ndarray:
    """The spread statistic ||x||_inf / ||x||_2 of each vector (along the last axis).

    It lies in [1/sqrt(n), 1]: 1/sqrt(n) for vectors whose entries all have the same magnitude (most
    spread out), 1 for a multiple of a coordinate vector (least), 1/sqrt(k) for k equal nonzero
    entries.

    Parameters
    ----------
    x : array_like, float, shape (..., n)
        Vectors, none of them zero.

    Returns
    -------
    ndarray, float64, shape (...)
        The statistic of each vector.
    """
    x = as_array(x, "x", dtype_kind="fiub", finite=True).astype(np.float64)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"x: expected an array of shape (..., n) with n >= 1, got shape {x.shape}")
    norm = np.linalg.norm(x, axis=-1)
    if np.any(norm == 0):
        raise ValueError("x: contains a zero vector (its spread is undefined)")
    return np.abs(x).max(axis=-1) / norm


def pairwise_cosine(U, V) -> np.ndarray:
    """cos(u_i, v_j) for every pair of rows.

    Parameters
    ----------
    U : array_like, float, shape (p, n)
        Vectors (e.g. layer inputs), none zero.
    V : array_like, float, shape (q, n)
        Vectors (e.g. weight rows), none zero.

    Returns
    -------
    ndarray, float64, shape (p, q)
        Cosines, clipped to [-1, 1].
    """
    U, V = _pair(U, V)
    Un = U / np.linalg.norm(U, axis=1, keepdims=True)
    Vn = V / np.linalg.norm(V, axis=1, keepdims=True)
    return np.clip(Un @ Vn.T, -1.0, 1.0)


def _check_chunk(chunk) -> int:
    chunk = check_positive_int(chunk, "chunk")
    if chunk > 2**24:
        raise ValueError(f"chunk: at most 2^24 draws at once (float32 sums of +-1 stay exact), got {chunk}")
    return chunk


def _signs(proj: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """+-1 float64 signs of projections (rows of draws, columns of vectors), sign(0) = +1 within tol."""
    return np.where(proj >= -tol, 1.0, -1.0)


def _tolerance(X: np.ndarray, tie_rtol: float) -> np.ndarray:
    return tie_rtol * np.abs(X).sum(axis=1)[None, :]


_SIGN_TABLE = np.array([1.0, -1.0], dtype=np.float32)


def _draw(rng: np.random.Generator, embedding: str, rows: int, n: int) -> np.ndarray:
    """float32 (rows, n) draws of g: iid N(0, 1), or iid +-1 from random bytes (one bit per entry)."""
    if embedding == "gaussian":
        return rng.standard_normal((rows, n), dtype=np.float32)
    raw = np.frombuffer(rng.bytes(rows * ((n + 7) // 8)), np.uint8).reshape(rows, -1)
    return _SIGN_TABLE[np.unpackbits(raw, axis=1, count=n)]


class _Projector:
    """Signs of <g_r, x_c> for draws g (float32) and fixed vectors X: a float32 product, with every entry
    within a rigorous bound on its rounding error re-summed in float64 and compared with the tie
    tolerance, so the signs are those of the exact projections (up to ``tie_rtol``)."""

    def __init__(self, X: np.ndarray, tie_rtol: float):
        self.x64 = X
        self.xt32 = np.ascontiguousarray(X.astype(np.float32).T)
        # float32 rounding of X itself plus an n-term float32 sum: |error| <= (n + 2) 2^-24 sum|g_i x_i|
        self.rel = (X.shape[1] + 2) * 2.0**-24 * 1.01
        self.abs_sum = np.abs(X).sum(axis=1)
        self.tol = tie_rtol * self.abs_sum

    def signs(self, g: np.ndarray) -> np.ndarray:
        proj = g @ self.xt32
        gmax = np.abs(g).max(axis=1, keepdims=True)
        close = np.abs(proj) <= self.rel * gmax * self.abs_sum[None, :]
        out = np.where(proj >= 0, np.float32(1), np.float32(-1))
        rr, cc = np.nonzero(close)
        if rr.size:
            exact = np.einsum("ij,ij->i", g[rr].astype(np.float64), self.x64[cc])
            out[rr, cc] = np.where(exact >= -self.tol[cc], 1.0, -1.0)
        return out


def sign_product_mean(U, V, *, embedding: str, samples: int, seed, chunk: int = 2**15,
                      tie_rtol: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo E_g[sign<g, u_i> sign<g, v_j>] for every pair, with its standard error.

    The same ``samples`` draws of g serve every pair (each pair's estimate is an unbiased mean of iid
    +-1 terms; estimates of different pairs are correlated).

    Parameters
    ----------
    U : array_like, float, shape (p, n)
        Vectors, none zero.
    V : array_like, float, shape (q, n)
        Vectors, none zero.
    embedding : {"gaussian", "rademacher"}
        Distribution of g: iid N(0, 1) or iid +-1 entries.
    samples : int
        Number of draws of g.
    seed : int or numpy.random.Generator
        Source of the draws.
    chunk : int, default 32768
        Draws processed at once (<= 2^24; memory: chunk * (n + p + q) float32).
    tie_rtol : float, default 1e-9
        A projection within ``tie_rtol * sum_i |u_i|`` of 0 counts as 0 (sign +1).

    Returns
    -------
    mean : ndarray, float64, shape (p, q)
        The estimates.
    stderr : ndarray, float64, shape (p, q)
        Their standard errors sqrt((1 - mean^2) / samples).
    """
    U, V = _pair(U, V)
    check_choice(embedding, "embedding", _EMBEDDINGS)
    samples = check_positive_int(samples, "samples")
    chunk = _check_chunk(chunk)
    tie_rtol = check_real(tie_rtol, "tie_rtol", minimum=0, maximum=1e-3)
    rng = resolve_rng(seed)
    pu, pv = _Projector(U, tie_rtol), _Projector(V, tie_rtol)
    total = np.zeros((U.shape[0], V.shape[0]))
    done = 0
    while done < samples:
        k = min(chunk, samples - done)
        g = _draw(rng, embedding, k, U.shape[1])
        total += (pu.signs(g).T @ pv.signs(g)).astype(np.float64)  # exact: integers below 2^24
        done += k
    mean = total / samples
    return mean, np.sqrt(np.clip(1.0 - mean**2, 0.0, None) / samples)


def _enumerate_mean(U: np.ndarray, V: np.ndarray, tie_rtol: float, chunk: int) -> np.ndarray:
    """Exact E over all sign patterns of the columns of U, V (float64 (k,) each), pairs (g, -g)."""
    k = U.shape[1]
    tu, tv = _tolerance(U, tie_rtol), _tolerance(V, tie_rtol)
    total = np.zeros((U.shape[0], V.shape[0]))
    n_patterns = 2 ** (k - 1)  # g_0 = +1; -g is evaluated from the same projection
    bitpos = np.arange(k - 1, dtype=np.int64)
    for start in range(0, n_patterns, chunk):
        idx = np.arange(start, min(start + chunk, n_patterns), dtype=np.int64)
        g = np.ones((idx.size, k))
        if k > 1:
            g[:, 1:] = 1.0 - 2.0 * ((idx[:, None] >> bitpos[None, :]) & 1)
        pu, pv = g @ U.T, g @ V.T
        total += _signs(pu, tu).T @ _signs(pv, tv)
        total += _signs(-pu, tu).T @ _signs(-pv, tv)
    return total / 2.0**k


_NUMBA_SWEEP = None


def _sweep_kernel():
    """The numba kernel of :func:`_split_mean` (compiled on first use)."""
    global _NUMBA_SWEEP
    if _NUMBA_SWEEP is None:
        from numba import njit

        @njit(cache=True, nogil=True)
        def sweep(xb_desc, t1_desc, rank_by_xdesc, lo, n_b):  # pragma: no cover - compiled
            # Offline 2-D dominance counting with a Fenwick tree over the ranks of the Y_B values.
            tree = np.zeros(n_b + 1, np.int64)
            total = np.int64(0)
            j = 0
            for a in range(t1_desc.size):
                t1 = t1_desc[a]
                while j < n_b and xb_desc[j] >= t1:
                    i = rank_by_xdesc[j] + 1
                    while i <= n_b:
                        tree[i] += 1
                        i += i & (-i)
                    j += 1
                below = np.int64(0)  # points added with Y_B < t2 (rank < lo)
                i = lo[a]
                while i > 0:
                    below += tree[i]
                    i -= i & (-i)
                c12 = j - below
                c2 = n_b - lo[a]
                total += n_b - 2 * (j + c2 - 2 * c12)
            return total

        _NUMBA_SWEEP = sweep
    return _NUMBA_SWEEP


def _patterns(k: int) -> np.ndarray:
    """All 2^k sign patterns, float64 (2^k, k)."""
    idx = np.arange(2**k, dtype=np.int64)
    return 1.0 - 2.0 * ((idx[:, None] >> np.arange(k, dtype=np.int64)[None, :]) & 1)


def _split_mean(U: np.ndarray, V: np.ndarray, tie_rtol: float) -> np.ndarray:
    """Exact E over all 2^k sign patterns by meet in the middle: the coordinates split into halves A and
    B (2^kA and 2^kB patterns), and for each pattern of A the patterns of B with s(X_A + X_B) s(Y_A + Y_B)
    = -1 are counted at once (a 2-D dominance count, O((2^kA + 2^kB) kB) per pair instead of 2^k)."""
    k = U.shape[1]
    ka = k // 2
    PA, PB = _patterns(ka), _patterns(k - ka)
    n_b = PB.shape[0]
    tu, tv = tie_rtol * np.abs(U).sum(axis=1), tie_rtol * np.abs(V).sum(axis=1)
    sweep = _sweep_kernel()
    side_u = []
    for r in range(U.shape[0]):  # s(X_A + X_B) = +1 iff X_B >= t1 = -X_A - tol
        xb = PB @ U[r, ka:]
        order = np.argsort(-xb, kind="stable")
        t1 = -(PA @ U[r, :ka]) - tu[r]
        side_u.append((xb[order], np.ascontiguousarray(np.sort(t1)[::-1]), np.argsort(-t1, kind="stable"), order))
    side_v = []
    for c in range(V.shape[0]):
        yb = PB @ V[c, ka:]
        ys = np.sort(yb)
        rank = np.searchsorted(ys, yb, side="left")  # equal values share a rank: ties count alike
        t2 = -(PA @ V[c, :ka]) - tv[c]
        side_v.append((rank, np.searchsorted(ys, t2, side="left")))
    out = np.empty((U.shape[0], V.shape[0]))
    for r, (xb_desc, t1_desc, qorder, order) in enumerate(side_u):
        for c, (rank, lo) in enumerate(side_v):
            out[r, c] = sweep(xb_desc, t1_desc, np.ascontiguousarray(rank[order]),
                              np.ascontiguousarray(lo[qorder]), n_b) / float(PA.shape[0] * n_b)
    return out


def rademacher_floor(U, V, *, max_exact: int = 26, samples: int = 2**18, seed=None, chunk: int = 2**15,
                     tie_rtol: float = 1e-9) -> dict:
    """The N -> infinity limit of the Rademacher sign embedding, and its floor, for every pair.

    m_ij = E_g[sign<g, u_i> sign<g, v_j>] over g uniform on {-1, +1}^n, and floor_ij = m_ij - (2/pi)
    arcsin cos(u_i, v_j). Exact (enumeration of the 2^k sign patterns of the k coordinates where some
    row of U or V is nonzero) when k <= ``max_exact``, else Monte Carlo (:func:`sign_product_mean`).
    The exact sum enumerates the patterns directly for k <= 14 and by meet in the middle above (two
    halves of 2^(k/2) patterns and a 2-D dominance count per pair: O(2^(k/2) k) instead of 2^k).

    Parameters
    ----------
    U : array_like, float, shape (p, n)
        Vectors (e.g. layer inputs), none zero.
    V : array_like, float, shape (q, n)
        Vectors (e.g. weight rows), none zero.
    max_exact : int, default 26
        Largest support summed exactly (at most 36).
    samples : int, default 262144
        Monte Carlo draws when the support is larger.
    seed : int or numpy.random.Generator, optional
        Source of the Monte Carlo draws; required only when they are used.
    chunk : int, default 32768
        Patterns or draws processed at once.
    tie_rtol : float, default 1e-9
        A projection within ``tie_rtol * sum_i |u_i|`` of 0 counts as 0 (sign +1).

    Returns
    -------
    dict
        ``limit``, ``floor``, ``stderr`` (0 when exact), ``cos``: float64 arrays (p, q);
        ``method``: ``"exact"`` or ``"monte_carlo"``; ``support``: int k; ``samples``: int draws
        (0 when exact).
    """
    U, V = _pair(U, V)
    max_exact = check_positive_int(max_exact, "max_exact")
    if max_exact > 36:
        raise ValueError(f"max_exact: exact sums over 2^{max_exact} sign patterns are out of reach; expected <= 36")
    chunk = check_positive_int(chunk, "chunk")
    tie_rtol = check_real(tie_rtol, "tie_rtol", minimum=0, maximum=1e-3)
    samples = check_positive_int(samples, "samples")
    active = np.any(U != 0, axis=0) | np.any(V != 0, axis=0)
    k = int(active.sum())
    cos = pairwise_cosine(U, V)
    if k <= max_exact:
        if k <= 14:
            limit = _enumerate_mean(U[:, active], V[:, active], tie_rtol, chunk)
        else:
            limit = _split_mean(U[:, active], V[:, active], tie_rtol)
        stderr, method, used = np.zeros_like(limit), "exact", 0
    else:
        if seed is None:
            raise ValueError(f"seed: the support has {k} > max_exact={max_exact} coordinates, so the limit is "
                             "estimated by Monte Carlo, which needs an explicit seed (int >= 0 or a Generator)")
        limit, stderr = sign_product_mean(U[:, active], V[:, active], embedding="rademacher", samples=samples,
                                          seed=seed, chunk=chunk, tie_rtol=tie_rtol)
        method, used = "monte_carlo", samples
    floor = limit - (2 / np.pi) * np.arcsin(cos)
    return {"limit": limit, "floor": floor, "stderr": stderr, "cos": cos, "method": method, "support": k,
            "samples": used}


def edgeworth_floor(U, V) -> np.ndarray:
    """The leading (fourth-cumulant) term of the Rademacher floor: a CLT correction, for every pair.

    (X, Y) = (<g, u>, <g, v>) is a sum of the independent vectors g_i (u_i, v_i); a Rademacher g_i has
    the moments of N(0, 1) up to order 3 and fourth cumulant -2. An Edgeworth expansion of E[sign X
    sign Y] around the Gaussian value (2/pi) arcsin(rho) (u, v scaled to unit norm, rho = <u, v>,
    c = sqrt(1 - rho^2)) gives

        floor ~ -(1/12) sum_i D4(u_i, v_i),
        D4(p, q) = (2/pi) [(p^4 + q^4)(rho^3/c^3 + 3 rho/c) - 4 (p^3 q + p q^3)/c^3 + 6 p^2 q^2 rho/c^3],

    the fourth directional derivative of E[sign(Z_1 + t p) sign(Z_2 + t q)] at t = 0 (Z Gaussian). It is
    O(sum_i u_i^4 + v_i^4) <= O(spread^2), accurate when both vectors are spread out and <g, u>,
    <g, v> are not lattice-like; it misses the terms of lattice distributions (repeated values, exact
    ties) and of concentrated vectors, so check it against :func:`rademacher_floor` where that applies.

    Parameters
    ----------
    U : array_like, float, shape (p, n)
        Vectors, none zero.
    V : array_like, float, shape (q, n)
        Vectors, none zero.

    Returns
    -------
    ndarray, float64, shape (p, q)
        The approximate floors (NaN for pairs with |cos| within 1e-9 of 1, where the expansion, whose terms
        grow like (1 - cos^2)^(-3/2), does not apply).
    """
    U, V = _pair(U, V)
    Un = U / np.linalg.norm(U, axis=1, keepdims=True)
    Vn = V / np.linalg.norm(V, axis=1, keepdims=True)
    rho = np.clip(Un @ Vn.T, -1.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.sqrt(1.0 - rho**2)
        s4 = (Un**4).sum(axis=1)[:, None] + (Vn**4).sum(axis=1)[None, :]
        s31 = (Un**3) @ Vn.T + Un @ (Vn**3).T
        s22 = (Un**2) @ (Vn**2).T
        d4 = (2 / np.pi) * (s4 * (rho**3 / c**3 + 3 * rho / c) - 4 * s31 / c**3 + 6 * s22 * rho / c**3)
        out = -d4 / 12
    return np.where(1.0 - np.abs(rho) > 1e-9, out, np.nan)


def pairwise_error_curve(U, V, hyperdims, *, embedding: str, seed, chunk: int = 4096,
                         tie_rtol: float = 1e-9):
    """Error of (1/N) <sign(G u_i), sign(G v_j)> against (2/pi) arcsin cos(u_i, v_j) as N grows, all pairs.

    One G with max(hyperdims) rows is drawn (in chunks of rows, float64); the estimate at each N uses
    its first N rows.

    Parameters
    ----------
    U : array_like, float, shape (p, n)
        Vectors, none zero.
    V : array_like, float, shape (q, n)
        Vectors, none zero.
    hyperdims : sequence of int
        The N to evaluate (>= 1).
    embedding : {"gaussian", "rademacher"}
        Distribution of G.
    seed : int or numpy.random.Generator
        Source of G.
    chunk : int, default 4096
        Rows of G drawn at once.
    tie_rtol : float, default 1e-9
        A projection within ``tie_rtol * sum_i |u_i|`` of 0 counts as 0 (sign +1).

    Returns
    -------
    pandas.DataFrame
        One row per N: ``hyperdim, rms_error, mean_abs_error, max_abs_error`` over the p * q pairs.
    """
    import pandas as pd

    U, V = _pair(U, V)
    Ns = np.unique(as_array(hyperdims, "hyperdims", dtype_kind="iu", ndim=1, allow_empty=False))
    if Ns[0] < 1:
        raise ValueError(f"hyperdims: every N must be >= 1, got {Ns[0]}")
    check_choice(embedding, "embedding", _EMBEDDINGS)
    chunk = _check_chunk(chunk)
    tie_rtol = check_real(tie_rtol, "tie_rtol", minimum=0, maximum=1e-3)
    rng = resolve_rng(seed)
    target = (2 / np.pi) * np.arcsin(pairwise_cosine(U, V))
    pu, pv = _Projector(U, tie_rtol), _Projector(V, tie_rtol)
    total = np.zeros_like(target)
    rows, done, pos = [], 0, 0
    while pos < Ns.size:
        k = min(chunk, int(Ns[-1]) - done)
        g = _draw(rng, embedding, k, U.shape[1])
        su, sv = pu.signs(g), pv.signs(g)
        start = 0
        while pos < Ns.size and Ns[pos] <= done + k:  # split the chunk at every N inside it
            stop = int(Ns[pos]) - done
            total += (su[start:stop].T @ sv[start:stop]).astype(np.float64)
            start = stop
            err = total / Ns[pos] - target
            rows.append((int(Ns[pos]), float(np.sqrt(np.mean(err**2))), float(np.mean(np.abs(err))),
                         float(np.max(np.abs(err)))))
            pos += 1
        total += (su[start:].T @ sv[start:]).astype(np.float64)
        done += k
    return pd.DataFrame(rows, columns=["hyperdim", "rms_error", "mean_abs_error", "max_abs_error"])


def crossover_hyperdim(limit, floor) -> np.ndarray:
    """N* = (1 - m^2) / floor^2: the N from which the floor exceeds the sampling error sqrt((1 - m^2) / N).

    Parameters
    ----------
    limit : array_like, float, values in [-1, 1]
        The limits m.
    floor : array_like, float, same shape
        The floors (a floor of 0 gives N* = inf).

    Returns
    -------
    ndarray, float64, same shape
        N* (inf where the floor is 0; 0 where m = +-1 and the floor is not).
    """
    m = as_array(limit, "limit", dtype_kind="fiu", finite=True).astype(np.float64)
    f = as_array(floor, "floor", dtype_kind="fiu", finite=True).astype(np.float64)
    if m.shape != f.shape:
        raise ValueError(f"limit, floor: shapes differ ({m.shape} vs {f.shape})")
    if np.any(np.abs(m) > 1 + 1e-12):
        raise ValueError("limit: values must lie in [-1, 1]")
    with np.errstate(divide="ignore"):
        return np.where(f == 0, np.inf, np.clip(1 - m**2, 0, None) / np.where(f == 0, 1.0, f**2))
