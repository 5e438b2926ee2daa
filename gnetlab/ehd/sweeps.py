"""The paper's evaluation protocol for EHD G-Nets: contiguous test chunks, a fresh G per chunk.

Chunks, summaries and seed streams come from :mod:`gnetlab.protocol`, shared with the HDC baselines.
"""

from __future__ import annotations

import numbers
from typing import Sequence

import numpy as np
import pandas as pd

from .._validation import as_array, check_choice, check_seed, check_sequence
from ..bits import FLIP_MODELS, check_fraction
from ..progress import progress as _progress
from ..protocol import check_n_chunks, chunk_bounds, chunk_streams, chunk_summary, keyed_streams
from .build import embed_gnet
from .hyperdims import resolve_hyperdims
from .model import _as_model_input

__all__ = ["evaluate_chunks", "hyperdim_sweep", "flip_sweep", "sweep", "chunk_summary"]


def _check_eval_inputs(model, X, y, n_chunks, seed):
    X = _as_model_input(X, model.input_shape)
    y = as_array(y, "y", dtype_kind="iu", ndim=1)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X, y: {X.shape[0]} samples but {y.shape[0]} labels")
    n_chunks = check_n_chunks(n_chunks, X.shape[0])
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
                    batch_size: int = 256, progress: bool = True, desc: str | None = None,
                    cosine_estimate: str | None = None) -> pd.DataFrame:
    """The paper's protocol: the test set in ``n_chunks`` contiguous chunks, a fresh G per chunk.

    Returns one row per chunk: ``chunk``, ``n_test``, ``accuracy`` (percent), ``agreement`` (percent
    of the chunk's inputs where EHD and the float G-Net predict the same class), ``float_accuracy``,
    ``hyperdim_mean``, ``hyperdims`` ("N1;N2;..."), and the settings. Chunk c always draws its G from
    the same random stream (from ``seed`` and c), whatever N: curves over N use common random numbers
    (and G at a smaller N is the first rows of G at a larger one).

    Parameters
    ----------
    model : gnetlab.gnet.GNet
        The trained float network.
    X : array_like, float, shape (n, *input_shape) or (n, prod(input_shape))
        Test inputs.
    y : array_like, integer, shape (n,)
        Test labels.
    hyperdim, ratio : optional
        As :func:`gnetlab.ehd.embed_gnet` (exactly one).
    embedding : {"gaussian", "rademacher"}, default "gaussian"
        Distribution of G.
    n_chunks : int, default 20
        Contiguous test chunks (a fresh G per chunk).
    seed : int
        Chunk c draws from stream c of ``seed`` (:func:`gnetlab.protocol.chunk_streams`).
    path : {"packed", "float"}, default "packed"
        Inference path (identical predictions).
    class_vectors : {"normalized", "raw"}, default "normalized"
        As :func:`gnetlab.ehd.embed_gnet`.
    cosine_estimate : {"uncompensated", "inverted"}, optional
        As :func:`gnetlab.ehd.embed_gnet` (cosine-kernel G-Nets only).
    batch_size : int, default 256
        Inputs per forward pass.
    progress : bool, default True
        Show a progress bar.
    desc : str, optional
        Its label.
    weight_flip : float, default 0.0
        Fraction of every stored weight embedding's signs flipped (per chunk).
    data_flip : float, default 0.0
        Fraction of the data embeddings' signs flipped in ``data_flip_layers``.
    data_flip_layers : sequence of int, default (0,)
        Layers whose data embeddings are flipped.
    flip_model : {"exact", "replacement"}, default "exact"
        See :data:`gnetlab.bits.FLIP_MODELS`.

    Returns
    -------
    pandas.DataFrame
        One row per chunk (columns above).
    """
    X, y, n_chunks = _check_eval_inputs(model, X, y, n_chunks, seed)
    weight_flip = check_fraction(weight_flip, "weight_flip")
    float_pred = model.predict(X)
    children = chunk_streams(seed, n_chunks)
    bounds = chunk_bounds(X.shape[0], n_chunks)
    rows = []
    for c in _progress(range(n_chunks), desc=desc or "EHD chunks", total=n_chunks, disable=not progress):
        rng = np.random.default_rng(children[c])
        ehd = embed_gnet(model, hyperdim=hyperdim, ratio=ratio, embedding=embedding, seed=rng,
                         class_vectors=class_vectors, cosine_estimate=cosine_estimate)
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
                   progress: bool = True, desc: str | None = None, cosine_estimate: str | None = None) -> pd.DataFrame:
    """:func:`evaluate_chunks` for every entry of ``hyperdims`` (ints, or per-layer lists), embedding the
    weights once per chunk at the largest N and truncating (:meth:`EHDGNet.truncated`): the same rows
    as separate :func:`evaluate_chunks` calls with this seed, at the embedding cost of one.

    Parameters
    ----------
    model : gnetlab.gnet.GNet
        The trained float network.
    X : array_like, float, shape (n, *input_shape) or (n, prod(input_shape))
        Test inputs.
    y : array_like, integer, shape (n,)
        Test labels.
    hyperdims : sequence of int or of sequences of int
        The N to evaluate (an int for every layer, or one N per layer).
    embedding : {"gaussian", "rademacher"}, default "gaussian"
        Distribution of G.
    n_chunks : int, default 20
        Contiguous test chunks (a fresh G per chunk).
    seed : int
        Chunk c draws from stream c of ``seed`` (:func:`gnetlab.protocol.chunk_streams`).
    path : {"packed", "float"}, default "packed"
        Inference path (identical predictions).
    class_vectors : {"normalized", "raw"}, default "normalized"
        As :func:`gnetlab.ehd.embed_gnet`.
    cosine_estimate : {"uncompensated", "inverted"}, optional
        As :func:`gnetlab.ehd.embed_gnet` (cosine-kernel G-Nets only).
    batch_size : int, default 256
        Inputs per forward pass.
    progress : bool, default True
        Show a progress bar.
    desc : str, optional
        Its label.

    Returns
    -------
    pandas.DataFrame
        One row per (hyperdim, chunk), with a ``hyperdim`` column ("N" or "N1;N2;...").
    """
    X, y, n_chunks = _check_eval_inputs(model, X, y, n_chunks, seed)
    n_layers = len(model.layers) + 1
    grid = [resolve_hyperdims(model, hyperdim=h) for h in check_sequence(hyperdims, "hyperdims")]
    if not grid:
        raise ValueError("hyperdims: expected at least one value")
    top = [max(g[i] for g in grid) for i in range(n_layers)]
    float_pred = model.predict(X)
    children = chunk_streams(seed, n_chunks)
    bounds = chunk_bounds(X.shape[0], n_chunks)
    rows = []
    for c in _progress(range(n_chunks), desc=desc or "EHD N-sweep", total=n_chunks, disable=not progress):
        full = embed_gnet(model, hyperdim=top, embedding=embedding, seed=np.random.default_rng(children[c]),
                          class_vectors=class_vectors, cosine_estimate=cosine_estimate)
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
               batch_size: int = 256, progress: bool = True, desc: str | None = None,
               cosine_estimate: str | None = None) -> pd.DataFrame:
    """Accuracy under sign flips for every fraction in ``fractions``, with the chunked protocol.

    target: ``"weights"`` (all stored weight embeddings, classifier included, as the paper's RASU vs
    TASU experiment) or ``"data"`` (the data embeddings of ``data_flip_layers``; the paper flips the
    first layer's). Each chunk is embedded once (the same G as :func:`evaluate_chunks` with this
    seed) and every fraction is evaluated on it, with its own flip stream.

    Parameters
    ----------
    model : gnetlab.gnet.GNet
        The trained float network.
    X : array_like, float, shape (n, *input_shape) or (n, prod(input_shape))
        Test inputs.
    y : array_like, integer, shape (n,)
        Test labels.
    fractions : sequence of float
        Flip fractions in [0, 1].
    target : {"weights", "data"}, default "weights"
        What is flipped.
    hyperdim, ratio : optional
        As :func:`gnetlab.ehd.embed_gnet` (exactly one).
    embedding : {"gaussian", "rademacher"}, default "gaussian"
        Distribution of G.
    n_chunks : int, default 20
        Contiguous test chunks (a fresh G per chunk).
    seed : int
        Chunk c draws from stream c of ``seed`` (:func:`gnetlab.protocol.chunk_streams`).
    flip_model : {"exact", "replacement"}, default "exact"
        See :data:`gnetlab.bits.FLIP_MODELS`.
    data_flip_layers : sequence of int, default (0,)
        Layers whose data embeddings are flipped (``target="data"``).
    path : {"packed", "float"}, default "packed"
        Inference path (identical predictions).
    class_vectors : {"normalized", "raw"}, default "normalized"
        As :func:`gnetlab.ehd.embed_gnet`.
    cosine_estimate : {"uncompensated", "inverted"}, optional
        As :func:`gnetlab.ehd.embed_gnet` (cosine-kernel G-Nets only).
    batch_size : int, default 256
        Inputs per forward pass.
    progress : bool, default True
        Show a progress bar.
    desc : str, optional
        Its label.

    Returns
    -------
    pandas.DataFrame
        One row per (chunk, fraction), with ``flip_fraction`` and ``flip_target`` columns.
    """
    X, y, n_chunks = _check_eval_inputs(model, X, y, n_chunks, seed)
    check_choice(target, "target", ("weights", "data"))
    check_choice(flip_model, "flip_model", FLIP_MODELS)
    fractions = [check_fraction(p, "fractions") for p in check_sequence(fractions, "fractions")]
    float_pred = model.predict(X)
    children = chunk_streams(seed, n_chunks)
    bounds = chunk_bounds(X.shape[0], n_chunks)
    rows = []
    for c in _progress(range(n_chunks), desc=desc or "EHD flips", total=n_chunks, disable=not progress):
        ehd = embed_gnet(model, hyperdim=hyperdim, ratio=ratio, embedding=embedding,
                         seed=np.random.default_rng(children[c]), class_vectors=class_vectors,
                         cosine_estimate=cosine_estimate)
        idx = bounds[c]
        first_cache: dict = {}  # weight flips leave the first layer's data signs unchanged
        for k, (p, ss) in enumerate(zip(fractions, keyed_streams(seed, c, len(fractions)))):
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
    """:func:`evaluate_chunks` for each value of one keyword argument.

    Parameters
    ----------
    model : gnetlab.gnet.GNet
        The trained float network.
    X : array_like, float, shape (n, *input_shape) or (n, prod(input_shape))
        Test inputs.
    y : array_like, integer, shape (n,)
        Test labels.
    param : str
        The keyword of :func:`evaluate_chunks` to vary (e.g. ``"hyperdim"``, ``"weight_flip"``).
    values : sequence
        Its values.
    seed : int
        As :func:`evaluate_chunks`.
    **kwargs
        Further arguments of :func:`evaluate_chunks`.

    Returns
    -------
    pandas.DataFrame
        The concatenated chunk rows with a ``param`` column.
    """
    frames = []
    import inspect

    options = set(inspect.signature(evaluate_chunks).parameters) - {"model", "X", "y", "seed"}
    if param not in options:
        raise ValueError(f"param: unknown value {param!r}; expected a keyword of evaluate_chunks: {sorted(options)}")
    values = check_sequence(values, "values")
    for v in values:
        df = evaluate_chunks(model, X, y, seed=seed, **{param: v}, **kwargs)
        df.insert(0, param if param not in df.columns else f"{param}_value", v if not isinstance(v, (list, tuple)) else ";".join(map(str, v)))
        frames.append(df)
    return pd.concat(frames, ignore_index=True)
