"""Training in the binary domain: a layer-wise straight-through (BPDA) forward of an EHD G-Net, classifier
fine-tuning on the EHD network's own hidden representations, and EHD-aware training of the float G-Net.

**BPDA forward** (:func:`bpda_forward`, :class:`BPDAEHD`). For a float G-Net and an EHD embedding of it
(one fixed G per layer), the forward value is the EHD network's, layer by layer, computed by the same
code as :meth:`EHDGNet.scores` (the real sign embeddings and Hamming products of ``path``), and the
backward goes through the float layer evaluated at the EHD layer's input:

    h_l = act_l(z_l(h_{l-1}))  +  [ act_l^EHD(z^_l(h_{l-1})) - act_l(z_l(h_{l-1})) ].detach()

(written as a custom autograd function so the value is bit-identical to the EHD value, not a float
sum of the two). ``z_l`` is the float arcsine layer in evaluation mode (running BatchNorm statistics,
the rows the embedding folds) and ``act_l`` its activation (``tanh`` for TASU, whose binary pass is the
sign). Since E[z^_l] = arcsin(cos) = z_l for Gaussian G (Grothendieck's identity), this straight-through
backward is also the Grothendieck-smoothed backward: the gradient of the layer's expectation. The
classifier outputs the estimates ``(pi / (2N)) <sign(G (h + b)), sign(G c_j)>`` of arcsin(cos(h + b,
c_j)) (argmax = :meth:`EHDGNet.predict`, ties to the lowest class), with the surrogate
``arcsin(cos(h + b, c_j))`` for the class vectors c_j the embedding used (``ehd.class_vectors``).
Gradients reach the input and every parameter of the float model (weights, BatchNorm scales, bias-trick
scalars, alphas). ``seed=`` redraws every G (same N, same distribution) for expectation over
transformation (EOT).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .._validation import check_choice, check_seed
from .model import PATHS, EHDGNet, EHDLayer, _activate, _layer_dot, _maxpool, _patches

__all__ = ["BPDAEHD", "bpda_forward", "surrogate_forward", "redraw", "reembed", "layer_output", "ehd_hidden",
           "fine_tune_classifier", "FINE_TUNE_METHODS"]
# EHD-aware training of the whole float G-Net and its committed checkpoints: gnetlab.ehd.aware

FINE_TUNE_METHODS = ("binary", "float")


def _check_pair(model, ehd):
    from ..gnet.models import GNet

    if not isinstance(model, GNet):
        raise TypeError(f"model: expected a gnetlab.gnet.GNet, got {type(model).__name__}")
    if ehd is None:
        return
    if not isinstance(ehd, EHDGNet):
        raise TypeError(f"ehd: expected a gnetlab.ehd.EHDGNet, got {type(ehd).__name__}")
    ok = (len(ehd.layers) == len(model.layers) and ehd.input_shape == tuple(model.input_shape)
          and ehd.n_classes == model.n_classes
          and all(e.n_out == (l.out_features if hasattr(l, "out_features") else l.out_channels)
                  and e.fan_in == l.fan_in for e, l in zip(ehd.layers, model.layers)))
    if not ok:
        raise ValueError(f"ehd: not an embedding of this model ({ehd!r} vs {len(model.layers)} arcsine layers, "
                         f"input shape {tuple(model.input_shape)})")


def layer_output(layer: EHDLayer, x: np.ndarray, *, path: str = "float") -> np.ndarray:
    """One embedded layer on its (standardised, pooled) input, exactly as :meth:`EHDGNet.scores` computes it.

    Parameters
    ----------
    layer : EHDLayer
        An arcsine layer or the classifier of an :class:`EHDGNet`.
    x : numpy.ndarray, float32, shape (B, ...)
        The layer's input: the standardised model input for the first layer, else the previous EHD
        layer's activated (and pooled) output.
    path : {"float", "packed"}, default "float"
        Inference path (both give the same integers).

    Returns
    -------
    numpy.ndarray
        Arcsine layer: the activated output ``act(z^)``, float32 ``(B, m)`` or ``(B, m, *spatial)``,
        before pooling. Classifier: the integer scores ``<s, a_j>``, int32 ``(B, n_classes)``.
    """
    if not isinstance(layer, EHDLayer):
        raise TypeError(f"layer: expected an EHDLayer, got {type(layer).__name__}")
    check_choice(path, "path", PATHS)
    x = np.ascontiguousarray(x, dtype=np.float32)
    B = x.shape[0]
    if layer.kind in ("dense", "classifier"):
        rows, spatial, pad_terms = x.reshape(B, -1), None, None
    else:
        rows, spatial, pad_terms = _patches(x, layer)
    dot = _layer_dot(layer, rows, pad_terms, path, 0.0, "exact", None, None, 0)
    if layer.kind == "classifier":
        return dot
    z = dot.astype(np.float32) * np.float32(np.pi / (2 * layer.hyperdim))
    if spatial is not None:
        z = np.moveaxis(z.reshape((B, *spatial, layer.n_out)), -1, 1)
    return np.ascontiguousarray(_activate(z, layer))


class _Splice(torch.autograd.Function):
    """Forward: the EHD value (exactly); backward: the gradient goes to the float surrogate unchanged."""

    @staticmethod
    def forward(ctx, surrogate, value):
        return value.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad, None


def _splice(surrogate: torch.Tensor, value: np.ndarray) -> torch.Tensor:
    v = torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))
    if v.shape != surrogate.shape:  # pragma: no cover - guarded by _check_pair
        raise AssertionError(f"EHD value {tuple(v.shape)} vs surrogate {tuple(surrogate.shape)}")
    return _Splice.apply(surrogate, v)


def _class_vectors(model, class_vectors: str) -> torch.Tensor:
    out = model.output
    return out.normalized_weight() if class_vectors == "normalized" else out.weight


def _classifier_surrogate(model, h: torch.Tensor, class_vectors: str) -> torch.Tensor:
    """arcsin(cos(h + b, c_j)) ``(B, C)``: the expectation of the EHD classifier's estimate."""
    out = model.output
    x = h + out.bias
    x = x / (torch.linalg.vector_norm(x, dim=1, keepdim=True) + out.q)
    c = _class_vectors(model, class_vectors)
    c = c / (torch.linalg.vector_norm(c, dim=0, keepdim=True) + out.q)
    return torch.asin(torch.clamp(x @ c, -1.0, 1.0))


def _spliced(model, ehd, x, path, hidden):
    """The shared loop: float surrogates with (optionally) the EHD values spliced into the forward."""
    h = model.prepare_input(x)
    h_np = None if ehd is None else h.detach().numpy().astype(np.float32)
    for i, (layer, act, pool) in enumerate(zip(model.layers, model.activations, model.pools)):
        if h.ndim > 2 and not hasattr(layer, "out_channels"):  # dense after conv: flatten
            h = h.reshape(h.shape[0], -1)
            h_np = None if h_np is None else h_np.reshape(h_np.shape[0], -1)
        a = act(layer(h))
        if ehd is not None:
            a_np = layer_output(ehd.layers[i], h_np, path=path)
            a = _splice(a, a_np)
        if pool > 1:
            mp = F.max_pool1d if a.ndim == 3 else F.max_pool2d
            a = mp(a, pool)
            a_np = None if ehd is None else np.ascontiguousarray(_maxpool(a_np, pool))
        h = a
        h_np = None if ehd is None else a_np
        if hidden is not None:
            hidden.append(h)
    h = h.reshape(h.shape[0], -1)
    cv = "normalized" if ehd is None else ehd.class_vectors
    z = _classifier_surrogate(model, h, cv)
    if ehd is None:
        return z
    clf = ehd.classifier
    scores = layer_output(clf, h_np.reshape(h_np.shape[0], -1), path=path)
    return _splice(z, scores.astype(np.float32) * np.float32(np.pi / (2 * clf.hyperdim)))


class _EvalMode:
    """Evaluation mode for the duration (BatchNorm running statistics, no dropout), then restored."""

    def __init__(self, model):
        self.model = model

    def __enter__(self):
        self.was = self.model.training
        self.model.eval()

    def __exit__(self, *exc):
        self.model.train(self.was)


def surrogate_forward(model, x, *, class_vectors: str = "normalized") -> torch.Tensor:
    """The float function whose gradient the BPDA backward uses: the G-Net in evaluation mode with the
    EHD classifier's expectation ``arcsin(cos(h + b, c_j))`` as its head.

    Parameters
    ----------
    model : gnetlab.gnet.GNet
        The float network.
    x : torch.Tensor or array_like, shape (B, *input_shape) or (B, n_features)
        Inputs (as the float model takes them; may require grad).
    class_vectors : {"normalized", "raw"}, default "normalized"
        The class vectors c_j (see :func:`gnetlab.ehd.embed_gnet`).

    Returns
    -------
    torch.Tensor, float32, shape (B, n_classes)
        arcsin of the cosines, differentiable in ``x`` and the parameters.
    """
    _check_pair(model, None)
    check_choice(class_vectors, "class_vectors", ("normalized", "raw"))
    with _EvalMode(model):
        h = model.prepare_input(x)
        for layer, act, pool in zip(model.layers, model.activations, model.pools):
            if h.ndim > 2 and not hasattr(layer, "out_channels"):
                h = h.reshape(h.shape[0], -1)
            h = act(layer(h))
            if pool > 1:
                h = (F.max_pool1d if h.ndim == 3 else F.max_pool2d)(h, pool)
        return _classifier_surrogate(model, h.reshape(h.shape[0], -1), class_vectors)


def redraw(model, ehd: EHDGNet, seed) -> EHDGNet:
    """The embedding of ``model`` with fresh G: same N per layer, distribution and class vectors.

    Parameters
    ----------
    model : gnetlab.gnet.GNet
        The float network.
    ehd : EHDGNet
        An embedding of it (gives N, the distribution and the class vectors).
    seed : int or numpy.random.Generator
        Source of the new G.

    Returns
    -------
    EHDGNet
        ``embed_gnet(model, hyperdim=ehd.hyperdims, embedding=ehd.embedding, ...)`` with ``seed``.
    """
    from .build import embed_gnet

    _check_pair(model, ehd)
    return embed_gnet(model, hyperdim=ehd.hyperdims, embedding=ehd.embedding, seed=seed,
                      class_vectors=ehd.class_vectors)


def bpda_forward(model, ehd: EHDGNet, x, *, seed=None, path: str = "float",
                 hidden: list | None = None) -> torch.Tensor:
    """EHD classifier estimates with a layer-wise straight-through (BPDA) backward through ``model``.

    The forward value equals ``ehd.scores(x, path=path) * pi / (2 N)`` bit for bit (N: the
    classifier's), so its argmax is ``ehd.predict(x)``; the backward is the float layers' (see the
    module docstring), evaluated at the EHD layers' inputs. The model runs in evaluation mode (its mode
    is restored afterwards).

    Parameters
    ----------
    model : gnetlab.gnet.GNet
        The float network ``ehd`` embeds (its current weights give the surrogate gradients; the stored
        weight signs of ``ehd`` give the values, see :func:`reembed` after changing the weights).
    ehd : EHDGNet
        An embedding of ``model`` (:func:`gnetlab.ehd.embed_gnet`).
    x : torch.Tensor or array_like, shape (B, *input_shape) or (B, n_features)
        Inputs as the float model takes them; may require grad.
    seed : int or numpy.random.Generator, optional
        Redraw every G from this seed first (:func:`redraw`; expectation over transformation). None:
        use ``ehd`` as it is.
    path : {"float", "packed"}, default "float"
        EHD inference path (the same values).
    hidden : list, optional
        If given, each arcsine block's output (after pooling; EHD values, surrogate gradients) is
        appended to it.

    Returns
    -------
    torch.Tensor, float32, shape (B, n_classes)
        The classifier estimates z^_j in [-pi/2, pi/2].
    """
    _check_pair(model, ehd)
    check_choice(path, "path", PATHS)
    if hidden is not None and not isinstance(hidden, list):
        raise TypeError(f"hidden: expected a list or None, got {type(hidden).__name__}")
    if seed is not None:
        ehd = redraw(model, ehd, seed)
    with _EvalMode(model):
        return _spliced(model, ehd, x, path, hidden)


class BPDAEHD(torch.nn.Module):
    """:func:`bpda_forward` as a module (for attack libraries that expect ``module(x) -> logits``).

    Parameters
    ----------
    model : gnetlab.gnet.GNet
        The float network.
    ehd : EHDGNet
        Its embedding.
    path : {"float", "packed"}, default "float"
        EHD inference path.
    eot_seed : int, optional
        If given, every call redraws all G from a fresh seed of the stream ``eot_seed`` (call k uses
        ``numpy.random.SeedSequence([eot_seed, k])``): expectation over transformation.
    """

    def __init__(self, model, ehd: EHDGNet, *, path: str = "float", eot_seed: int | None = None):
        super().__init__()
        _check_pair(model, ehd)
        check_choice(path, "path", PATHS)
        self.model, self.ehd, self.path = model, ehd, path
        self.eot_seed = None if eot_seed is None else check_seed(eot_seed, "eot_seed")
        self.calls = 0

    def forward(self, x, *, seed=None) -> torch.Tensor:
        """Estimates ``(B, n_classes)``; ``seed`` overrides the EOT stream for this call."""
        if seed is None and self.eot_seed is not None:
            seed = np.random.default_rng(np.random.SeedSequence([self.eot_seed, self.calls]))
            self.calls += 1
        return bpda_forward(self.model, self.ehd, x, seed=seed, path=self.path)


def reembed(model, ehd: EHDGNet) -> EHDGNet:
    """``ehd`` with the same G but the weight signs, bias scalars and alphas of ``model``'s current weights.

    Parameters
    ----------
    model : gnetlab.gnet.GNet
        The float network (e.g. after some training steps).
    ehd : EHDGNet
        An embedding of an earlier state of it.

    Returns
    -------
    EHDGNet
        Equal to ``embed_gnet(model, ...)`` with the G of ``ehd``.
    """
    from ..bits import pack_bool
    from .build import _folded_rows

    _check_pair(model, ehd)
    keep = ("gb", "gs", "abs_max_projection")  # caches that depend on G alone
    new = []
    with torch.no_grad():
        for l, layer, act in zip(ehd.layers, model.layers, model.activations):
            w = _folded_rows(layer)
            new.append(_rebuilt(l, pack_bool((w @ l.projection.T) < 0), layer.bias.item(), act.alpha.item(), keep))
        clf = ehd.classifier
        W2 = model.output.weight.detach().numpy().astype(np.float32)
        if ehd.class_vectors == "normalized":  # exactly as embed_gnet, in numpy
            W2 = W2 / (np.linalg.norm(W2, axis=1, keepdims=True) + np.float32(model.output.q))
        C = np.ascontiguousarray(W2.T)
        new.append(_rebuilt(clf, pack_bool((C @ clf.projection.T) < 0), model.output.bias.item(), 1.0, keep))
    return ehd._replace_layers(new)


def _rebuilt(l: EHDLayer, bits, bias, alpha, keep) -> EHDLayer:
    fields = {f: getattr(l, f) for f in l.__dataclass_fields__ if f not in ("_cache", "weight_bits", "bias", "alpha")}
    new = EHDLayer(**fields, weight_bits=bits, bias=bias, alpha=alpha)
    new._cache.update({k: v for k, v in l._cache.items() if k in keep})
    return new


# --------------------------------------------------------------------------------------------------
# Fine-tuning the classifier on the EHD network's own hidden representations


def ehd_hidden(ehd: EHDGNet, X, *, path: str = "float", batch_size: int = 500) -> np.ndarray:
    """The EHD network's last hidden representation (the classifier's input), by batches.

    Parameters
    ----------
    ehd : EHDGNet
        The embedded network.
    X : array_like, shape (n, *input_shape) or (n, n_features)
        Inputs as the float model takes them.
    path : {"float", "packed"}, default "float"
        Inference path (the same values).
    batch_size : int, default 500
        Inputs per pass.

    Returns
    -------
    numpy.ndarray, float32, shape (n, features)
        The activated, pooled output of the last arcsine layer, flattened.
    """
    from .._validation import check_positive_int
    from .model import _as_model_input

    if not isinstance(ehd, EHDGNet):
        raise TypeError(f"ehd: expected a gnetlab.ehd.EHDGNet, got {type(ehd).__name__}")
    check_choice(path, "path", PATHS)
    batch_size = check_positive_int(batch_size, "batch_size")
    X = _as_model_input(X, ehd.input_shape)
    out = []
    for i in range(0, X.shape[0], batch_size):
        h = (X[i:i + batch_size] - np.float32(ehd.input_shift)) / np.float32(ehd.input_scale)
        for layer in ehd.layers:
            if layer.kind == "dense":
                h = h.reshape(h.shape[0], -1)
            h = layer_output(layer, h, path=path)
            if layer.pool > 1:
                h = np.ascontiguousarray(_maxpool(h, layer.pool))
        out.append(h.reshape(h.shape[0], -1))
    return np.concatenate(out) if out else np.zeros((0, ehd.classifier.fan_in), np.float32)


def _classifier_signs(clf: EHDLayer, H: np.ndarray) -> np.ndarray:
    """The classifier's data embeddings sign(G (h + b)) of hidden rows H, float32 +-1 (n, N)."""
    from .model import _data_signs

    neg = _data_signs(clf, np.ascontiguousarray(H, dtype=np.float32), None, "float")
    return np.where(neg, np.float32(-1), np.float32(1))


class _SignSTE(torch.autograd.Function):
    """sign (sign(0) = +1) with the clipped straight-through gradient 1{|v| <= 1} (BinaryConnect)."""

    @staticmethod
    def forward(ctx, v):
        ctx.save_for_backward(v)
        return torch.where(v >= 0, 1.0, -1.0)

    @staticmethod
    def backward(ctx, grad):
        (v,) = ctx.saved_tensors
        return grad * (v.abs() <= 1).to(grad.dtype)


def _split(y, val_size, rng):
    from ..datasets import stratified_split

    return stratified_split(y, val_size, rng)


def fine_tune_classifier(model, ehd: EHDGNet, X, y, *, method: str = "binary", epochs: int = 20,
                         batch_size: int = 250, lr: float = 0.01, temperature: float = 16.0, val_size: int = 400,
                         seed, path: str = "float", progress: bool = False):
    """Retrain the EHD classifier's stored class vectors on the EHD network's own hidden representations.

    The embedding's G (every layer's, the classifier's included) stays as it is; only the classifier's
    weight signs a_j change. The training inputs go through the EHD layers once
    (:func:`ehd_hidden`) and through the classifier's data embedding s = sign(G (h + b)); the loss is the
    cross-entropy of ``temperature * (pi / (2N)) <s, a_j>`` (the EHD classifier's estimates).

    ``method="binary"``: the a_j are trained directly in {-1, +1}^N: latent reals v (initialised to
    the embedded a_j), a = sign(v) in the forward, the clipped straight-through gradient (BinaryConnect)
    in the backward. ``method="float"``: the float class vectors c_j (initialised from ``model``) are
    trained through the classifier's BPDA (EHD value, arcsin(cos(h + b, c_j)) gradient) and
    re-embedded, a_j = sign(G c_j). Adam; a stratified validation split of ``val_size`` inputs picks the
    best epoch, epoch 0 (the post-hoc classifier) included, so validation accuracy never drops.

    Parameters
    ----------
    model : gnetlab.gnet.GNet
        The float network ``ehd`` embeds.
    ehd : EHDGNet
        Its embedding (the G to fine-tune for).
    X : array_like, shape (n, *input_shape) or (n, n_features)
        Training inputs (as the float model takes them).
    y : array_like, int, shape (n,)
        Labels.
    method : {"binary", "float"}, default "binary"
        What is trained (see above).
    epochs : int, default 20
        Passes over the training part.
    batch_size : int, default 250
        Mini-batch size.
    lr : float, default 0.01
        Adam learning rate.
    temperature : float, default 16.0
        Scale of the estimates in the loss.
    val_size : int, default 400
        Validation inputs held out of ``X``.
    seed : int
        Split and shuffling.
    path : {"float", "packed"}, default "float"
        Inference path of the hidden representations.
    progress : bool, default False
        Show a progress bar.

    Returns
    -------
    tuple of (EHDGNet, pandas.DataFrame)
        The network with the fine-tuned classifier (everything else shared with ``ehd``), and the
        history: one row per epoch (0 = before) with ``train_loss``, ``train_acc``, ``val_acc`` (accuracy
        in [0, 1] of the whole EHD network) and ``best``.
    """
    import pandas as pd

    from .._validation import as_array, check_positive_int, check_real
    from ..bits import pack_bool
    from ..progress import progress as _progress
    from ..threads import single_thread

    _check_pair(model, ehd)
    check_choice(method, "method", FINE_TUNE_METHODS)
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    lr = check_real(lr, "lr", minimum=0, low_open=True)
    temperature = check_real(temperature, "temperature", minimum=0, low_open=True)
    val_size = check_positive_int(val_size, "val_size")
    seed = check_seed(seed)
    check_choice(path, "path", PATHS)
    y = as_array(y, "y", dtype_kind="iu", ndim=1)
    H = ehd_hidden(ehd, X, path=path)
    if y.shape[0] != H.shape[0]:
        raise ValueError(f"X, y: {H.shape[0]} samples but {y.shape[0]} labels")
    if y.min() < 0 or y.max() >= ehd.n_classes:
        raise ValueError(f"y: labels must lie in 0..{ehd.n_classes - 1}, got range {y.min()}..{y.max()}")
    rng = np.random.default_rng(seed)
    tr, va = _split(y, val_size, rng)
    clf = ehd.classifier
    N = clf.hyperdim
    S = torch.from_numpy(_classifier_signs(clf, H))
    yt = torch.from_numpy(y.astype(np.int64))
    scale = float(np.pi / (2 * N))
    if method == "binary":
        param = torch.nn.Parameter(torch.from_numpy(clf.weight_float().copy()))

        def signs():
            return _SignSTE.apply(param)
    else:
        W2 = model.output.weight.detach().clone()
        param = torch.nn.Parameter(W2)
        G = torch.from_numpy(clf.projection)
        Hb = torch.from_numpy(H) + float(clf.bias)
        Hn = Hb / (torch.linalg.vector_norm(Hb, dim=1, keepdim=True) + model.output.q)

        def signs():
            c = _normalized_columns(param, ehd.class_vectors, model.output.q)  # (features, C)
            return torch.where(c.T @ G.T < 0, -1.0, 1.0)  # (C, N), as pack_bool((C @ G.T) < 0)

    def estimates(idx):
        if method == "binary":
            return S[idx] @ signs().T * scale
        c = _normalized_columns(param, ehd.class_vectors, model.output.q)
        sur = torch.asin(torch.clamp(Hn[idx] @ (c / (torch.linalg.vector_norm(c, dim=0, keepdim=True)
                                                     + model.output.q)), -1.0, 1.0))
        with torch.no_grad():
            val = S[idx] @ signs().T * scale
        return _Splice.apply(sur, val)

    def accuracy(idx, A):
        return float(((S[idx] @ A.T).argmax(1) == yt[idx]).float().mean())

    opt = torch.optim.Adam([param], lr=lr)
    gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
    tr_t, va_t = torch.from_numpy(tr), torch.from_numpy(va)
    A0 = torch.from_numpy(clf.weight_float().copy())  # epoch 0: the post-hoc classifier, exactly
    best = (accuracy(va_t, A0), 0, A0)
    rows = [{"epoch": 0, "train_loss": float("nan"), "train_acc": accuracy(tr_t, A0), "val_acc": best[0]}]
    with single_thread():
        for epoch in _progress(range(1, epochs + 1), desc=f"fine-tune classifier ({method})", total=epochs,
                               disable=not progress):
            perm = tr_t[torch.randperm(tr_t.numel(), generator=gen)]
            tot, correct = 0.0, 0
            for i in range(0, perm.numel(), batch_size):
                idx = perm[i:i + batch_size]
                out = estimates(idx)
                loss = F.cross_entropy(temperature * out, yt[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if method == "binary":
                    with torch.no_grad():
                        param.clamp_(-1.0, 1.0)
                tot += loss.item() * idx.numel()
                correct += int((out.argmax(1) == yt[idx]).sum())
            with torch.no_grad():
                A = signs().detach().clone()
            val = accuracy(va_t, A)
            rows.append({"epoch": epoch, "train_loss": tot / tr.size, "train_acc": correct / tr.size, "val_acc": val})
            if val > best[0]:
                best = (val, epoch, A)
    hist = pd.DataFrame(rows)
    hist["best"] = hist["epoch"] == best[1]
    new = clf.with_weight_bits(pack_bool(best[2].numpy() < 0))
    return ehd._replace_layers(ehd.layers + [new]), hist


def _normalized_columns(W2: torch.Tensor, class_vectors: str, q: float) -> torch.Tensor:
    """The class vectors as columns (features, C): W2 with unit-norm rows, or W2 itself."""
    if class_vectors == "raw":
        return W2
    return W2 / (torch.linalg.vector_norm(W2, dim=1, keepdim=True) + q)

