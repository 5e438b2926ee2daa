"""The vectors an EHD G-Net embeds: per layer, the data rows and the weight rows (:func:`layer_vectors`).

Every embedded layer computes signs of <g_k, u> for data rows u and of <g_k, w> for weight rows w with
the same random g_k. This module returns exactly those u and w, so that properties of the embedding
that depend on the vectors (e.g. the Rademacher floor, :mod:`gnetlab.rademacher`) can be measured on
the pairs a trained network really produces.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_positive_int
from ..embed import EMBEDDINGS
from .build import CLASS_VECTORS, _class_rows, _folded_rows, embed_gnet
from .model import _activate, _as_model_input, _maxpool, _unfold

__all__ = ["layer_vectors"]


def layer_vectors(model, X, *, hyperdim: int, embedding: str = "gaussian", seed,
                  class_vectors: str = "normalized") -> list[dict]:
    """The (data row, weight row) vectors of every embedded layer of ``model``'s EHD network on inputs X.

    Data rows: the first layer's input is the model's normalised input (x - input_shift) / input_scale;
    every later layer's input is the previous **EHD** layer's output (its binary-pass activation of the
    estimates z^, then max-pooling), computed by an EHD network embedded at ``hyperdim``. The rows a
    layer projects are ``x + b`` (dense layers and the classifier, b the layer's bias-trick scalar) or
    the patches of the zero-padded ``x + b`` (conv layers, one row per input and output position, in
    the order of the weight's flattening). Weight rows: the folded rows w~_i of each arcsine layer
    (conv: one filter per row) and the classifier's class vectors.

    Parameters
    ----------
    model : gnetlab.gnet.GNet
        The trained float network.
    X : array_like, float, shape (B, *input_shape) or (B, prod(input_shape))
        Inputs.
    hyperdim : int
        N of every layer of the EHD network that computes the later layers' inputs.
    embedding : {"gaussian", "rademacher"}, default "gaussian"
        Its projections.
    seed : int or numpy.random.Generator
        Source of its projections.
    class_vectors : {"normalized", "raw"}, default "normalized"
        The classifier's class vectors (see :func:`gnetlab.ehd.embed_gnet`).

    Returns
    -------
    list of dict
        One per arcsine layer, then the classifier: ``layer`` (int index), ``kind`` ("dense",
        "conv1d", "conv2d", "classifier"), ``inputs`` (float32 ndarray (B * positions, K)),
        ``weights`` (float32 ndarray (m, K)), ``positions`` (int rows per input), ``binary_input``
        (bool: the layer's x is +-1, after a TASU layer), ``bias`` (float b).
    """
    from ..gnet.models import GNet

    if not isinstance(model, GNet):
        raise TypeError(f"model: expected a gnetlab.gnet.GNet, got {type(model).__name__}")
    hyperdim = check_positive_int(hyperdim, "hyperdim")
    check_choice(embedding, "embedding", EMBEDDINGS)
    check_choice(class_vectors, "class_vectors", CLASS_VECTORS)
    x = _as_model_input(X, model.input_shape)
    net = embed_gnet(model, hyperdim=hyperdim, embedding=embedding, seed=seed, class_vectors=class_vectors)
    estimates = net.estimates(x)
    x = (x - np.float32(net.input_shift)) / np.float32(net.input_scale)
    B = x.shape[0]
    out = []
    for i, layer in enumerate(net.all_layers):
        shifted = x + np.float32(layer.bias)
        if layer.kind in ("dense", "classifier"):
            rows = shifted.reshape(B, -1)
        else:
            rows, _ = _unfold(np.ascontiguousarray(shifted), layer, 0.0)
        if layer.kind == "classifier":
            weights = _class_rows(model.output, class_vectors)
        else:
            weights = _folded_rows(model.layers[i])
        out.append({"layer": i, "kind": layer.kind, "inputs": np.ascontiguousarray(rows, dtype=np.float32),
                    "weights": weights, "positions": rows.shape[0] // B, "binary_input": bool(layer.binary_input),
                    "bias": float(layer.bias)})
        if layer.kind != "classifier":
            x = _activate(estimates[i], layer)
            if layer.pool > 1:
                x = _maxpool(x, layer.pool)
            x = np.ascontiguousarray(x, dtype=np.float32)
    return out
