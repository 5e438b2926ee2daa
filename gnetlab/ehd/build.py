"""Embedding a trained G-Net into an EHD G-Net (:func:`embed_gnet`)."""

from __future__ import annotations

import numpy as np

from .._validation import check_choice, resolve_rng
from ..bits import pack_bool
from ..embed import EMBEDDINGS
from .hyperdims import resolve_hyperdims
from .model import EHDGNet, EHDLayer

__all__ = ["embed_gnet", "CLASS_VECTORS", "COSINE_ESTIMATES", "EMBEDDINGS"]

CLASS_VECTORS = ("normalized", "raw")
# The estimates a cosine-kernel layer can hand on (EHDLayer.estimate): the normalised Hamming
# similarity used as if it were the cosine, or its distortion inverted, sin((pi/2) h).
COSINE_ESTIMATES = ("uncompensated", "inverted")


def _layer_estimate(model, cosine_estimate) -> str:
    """EHDLayer.estimate of every hidden layer of ``model`` (checks ``cosine_estimate`` against its kernel)."""
    if model.kernel == "arcsine":
        if cosine_estimate is not None:
            raise ValueError(f"cosine_estimate: only for cosine-kernel G-Nets; this model has the arcsine kernel "
                             f"(its estimate is always (pi/2) h), got {cosine_estimate!r}")
        return "arcsine"
    if cosine_estimate is None:
        return "uncompensated"
    return check_choice(cosine_estimate, "cosine_estimate", COSINE_ESTIMATES)


def _folded_rows(layer) -> np.ndarray:
    """The layer's folded weight rows w~_i, float32 (m, fan_in): ``folded_weight()`` computed in numpy
    (tiny tensors: numpy avoids torch's thread hand-offs)."""
    W = layer.weight.detach().numpy().astype(np.float32)
    slope = (layer.bn_weight.detach().numpy() / np.sqrt(layer.running_var.numpy() + np.float32(layer.eps)))
    return np.ascontiguousarray((slope.astype(np.float32)[:, None] * W.reshape(W.shape[0], -1)))


def _class_rows(out, class_vectors: str) -> np.ndarray:
    """The classifier's class vectors, float32 (C, m): one per row, as :func:`embed_gnet` embeds them."""
    W2 = out.weight.detach().numpy().astype(np.float32)
    if class_vectors == "normalized":  # as NormalizedOutput.normalized_weight, in numpy
        W2 = W2 / (np.linalg.norm(W2, axis=1, keepdims=True) + np.float32(out.q))
    return np.ascontiguousarray(W2.T)


def embed_gnet(model, *, hyperdim=None, ratio=None, embedding: str = "gaussian", seed,
               class_vectors: str = "normalized", cosine_estimate: str | None = None) -> EHDGNet:
    """Embed a trained :class:`gnetlab.gnet.GNet` into an :class:`EHDGNet`.

    Parameters
    ----------
    model : gnetlab.gnet.GNet
        The trained float network.
    hyperdim : int or sequence of int, optional
        The same N for every arcsine layer and the classifier, or one N per arcsine layer plus the
        classifier's. Give exactly one of ``hyperdim`` and ``ratio``.
    ratio : float or sequence of float, optional
        ``N_l = round_hyperdim(ratio_l n_l)`` (:func:`gnetlab.ehd.layer_sizes`).
    embedding : {"gaussian", "rademacher"}, default "gaussian"
        Distribution of the random projections G.
    seed : int or numpy.random.Generator
        One independent G per layer is drawn from it.
    class_vectors : {"normalized", "raw"}, default "normalized"
        Columns of the row-normalised W2 the float model multiplies, or raw W2 columns (the official
        code).
    cosine_estimate : {"uncompensated", "inverted"}, optional
        Only for a cosine-kernel G-Net (``model.kernel == "cosine"``; default ``"uncompensated"``): what
        each hidden layer hands its activation, from h = <s, a_i> / N -> (2/pi) arcsin(cos):
        h itself, used as the cosine (distorted at every N), or sin((pi/2) h), which tends to the
        cosine. Giving it for an arcsine G-Net is an error.

    Returns
    -------
    EHDGNet
        The embedded network; weight embeddings packed as uint64 ``(m, ceil(N / 64))`` per layer.
    """
    import torch

    from ..embed import projection
    from ..gnet.layers import ArcsineDense
    from ..gnet.models import GNet

    if not isinstance(model, GNet):
        raise TypeError(f"model: expected a gnetlab.gnet.GNet, got {type(model).__name__}")
    check_choice(embedding, "embedding", EMBEDDINGS)
    check_choice(class_vectors, "class_vectors", CLASS_VECTORS)
    estimate = _layer_estimate(model, cosine_estimate)
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
            layers.append(EHDLayer(kind=kind, hyperdim=Ns[i], projection=G, weight_bits=pack_bool((w @ G.T) < 0),
                                   n_out=w.shape[0], bias=layer.bias.item(), activation=act, alpha=a.alpha.item(),
                                   binary_input=(i > 0 and act == "tasu"), embedding=embedding, estimate=estimate,
                                   **kw))
        out = model.output
        C = _class_rows(out, class_vectors)
        G = projection(Ns[-1], C.shape[1], embedding=embedding, seed=rngs[-1])
        clf = EHDLayer(kind="classifier", hyperdim=Ns[-1], projection=G, weight_bits=pack_bool((C @ G.T) < 0),
                       n_out=C.shape[0], bias=out.bias.item(), activation=None, alpha=1.0,
                       binary_input=(act == "tasu"), embedding=embedding)
    return EHDGNet(layers, clf, input_shape=model.input_shape, input_shift=model.config["input_shift"],
                   input_scale=model.config["input_scale"], n_classes=model.n_classes, embedding=embedding,
                   class_vectors=class_vectors)
