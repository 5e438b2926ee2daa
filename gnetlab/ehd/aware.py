"""EHD-aware training: the float G-Net trained through its EHD forward pass, and its committed checkpoints.

:func:`train_ehd_aware` fine-tunes (or trains) a :class:`gnetlab.gnet.GNet` with the loss on
:func:`gnetlab.ehd.training.bpda_forward`: the EHD network's values in the forward (the sign embeddings
at a given N), the float layers' gradient at the EHD layers' inputs in the backward. Specs
(:func:`check_spec`): a ``gnet_models`` entry with an ``"ehd_aware"`` dict is the base model's spec plus
the fine-tune's options; :func:`load_model`, :func:`train_and_save` (``python -m gnetlab.zoo retrain
NAME``) reproduce it.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .._validation import check_choice, check_seed
from .model import PATHS
from .training import _check_pair, _spliced, _split, reembed

__all__ = ["train_ehd_aware", "check_spec", "train_from_spec", "load_model", "train_and_save", "binary_training_sweep",
           "SWEEP_METHODS"]


# --------------------------------------------------------------------------------------------------
# EHD-aware training of the float G-Net


def train_ehd_aware(model, X, y, *, hyperdim, embedding: str = "gaussian", redraw: bool = True, epochs: int = 5,
                    batch_size: int = 250, lr: float = 1e-3, weight_decay: float = 0.0, temperature: float = 16.0,
                    val_size: int = 400, val_draws: int = 2, seed, path: str = "float", progress: bool = True):
    """Train ``model`` in place through the EHD forward pass at hyperdimension ``hyperdim``.

    Every step embeds the current weights at one N of ``hyperdim`` (drawn per step when it lists several)
    (:func:`gnetlab.ehd.embed_gnet` with a fresh G when ``redraw``, else :func:`reembed` with one G drawn
    once at the largest N, truncated) and minimises the cross-entropy of
    ``temperature * bpda_forward(...)``: the EHD values in the forward (signs), the float layers'
    gradient at the EHD inputs in the backward (straight-through = Grothendieck-smoothed, see the
    module docstring). The model runs in evaluation mode (running BatchNorm statistics fixed, no
    dropout): the folded rows change only through W and gamma. Adam; after every epoch the whole EHD
    network's accuracy on a stratified validation split (the split :func:`gnetlab.gnet.train.train`
    holds out with the same ``seed`` and ``val_size``: a fine-tune of a model trained so validates on
    inputs the model was not trained on), averaged over the N of ``hyperdim`` and ``val_draws`` G drawn
    once from the seed and used at every epoch (the training G when ``redraw`` is False), picks the epoch
    to keep, epoch 0 (the starting weights) included.

    With ``redraw`` the weights are fitted to N, not to one G (the deployed network draws its own G);
    without, to the one G, which is then part of the model (draw it again with the same seed).

    Parameters
    ----------
    model : gnetlab.gnet.GNet
        Trained in place (typically a trained float G-Net: a fine-tune).
    X : array_like, shape (n, *input_shape) or (n, n_features)
        Training inputs.
    y : array_like, int, shape (n,)
        Labels.
    hyperdim : int or sequence of int
        N, the same in every layer; several: one of them drawn per step (weights for a range of N).
    embedding : {"gaussian", "rademacher"}, default "gaussian"
        Distribution of G.
    redraw : bool, default True
        A fresh G every step (else one fixed G).
    epochs : int, default 5
        Passes over the training part.
    batch_size : int, default 250
        Mini-batch size (>= 2).
    lr : float, default 1e-3
        Adam learning rate.
    weight_decay : float, default 0.0
        Adam weight decay.
    temperature : float, default 16.0
        Scale of the classifier estimates in the loss.
    val_size : int, default 400
        Validation inputs held out of ``X``.
    val_draws : int, default 2
        G drawn for the validation accuracy (``redraw`` only).
    seed : int
        Split, shuffling and every G.
    path : {"float", "packed"}, default "float"
        EHD inference path (the same values).
    progress : bool, default True
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per epoch (0 = start): ``train_loss``, ``train_acc`` (EHD, on the batches as trained),
        ``val_acc`` (EHD), ``val_float_acc`` (the float model), ``best``. The best epoch's weights are
        loaded into ``model``.
    """
    import copy

    import pandas as pd

    from .._validation import as_array, check_positive_int, check_real
    from ..gnet.models import as_input
    from ..progress import progress as _progress
    from ..threads import single_thread
    from .build import embed_gnet
    from .._validation import check_sequence

    _check_pair(model, None)
    many = not isinstance(hyperdim, (int, np.integer)) or isinstance(hyperdim, bool)
    Ns = [check_positive_int(h, "hyperdim") for h in (check_sequence(hyperdim, "hyperdim") if many else [hyperdim])]
    if not Ns:
        raise ValueError("hyperdim: expected an int or a non-empty list of ints")
    check_choice(embedding, "embedding", ("gaussian", "rademacher"))
    if not isinstance(redraw, bool):
        raise TypeError(f"redraw: expected a bool, got {redraw!r}")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size", minimum=2)
    lr = check_real(lr, "lr", minimum=0, low_open=True)
    weight_decay = check_real(weight_decay, "weight_decay", minimum=0)
    temperature = check_real(temperature, "temperature", minimum=0, low_open=True)
    val_size = check_positive_int(val_size, "val_size")
    val_draws = check_positive_int(val_draws, "val_draws")
    seed = check_seed(seed)
    check_choice(path, "path", PATHS)
    Xt = as_input(X, model.input_shape)
    y = as_array(y, "y", dtype_kind="iu", ndim=1)
    if y.shape[0] != Xt.shape[0]:
        raise ValueError(f"X, y: {Xt.shape[0]} samples but {y.shape[0]} labels")
    if y.min() < 0 or y.max() >= model.n_classes:
        raise ValueError(f"y: labels must lie in 0..{model.n_classes - 1}, got range {y.min()}..{y.max()}")
    yt = torch.from_numpy(y.astype(np.int64))
    # the split of gnet.train.train with this seed and val_size: a fine-tune validates on the base's held-out part
    tr, va = _split(y, val_size, np.random.default_rng(seed))
    shuffle_ss, val_ss, step_ss = np.random.SeedSequence([seed, 1]).spawn(3)
    Xv, yv = Xt[va].numpy(), y[va]
    Xtr, ytr = Xt[tr], yt[tr]
    fixed = None if redraw else embed_gnet(model, hyperdim=max(Ns), embedding=embedding,
                                           seed=np.random.default_rng(step_ss))
    val_seeds = val_ss.spawn(val_draws)

    def embedded(N, seed):
        if fixed is not None:
            return reembed(model, fixed.truncated(N))
        return embed_gnet(model, hyperdim=N, embedding=embedding, seed=seed)

    def val_acc():
        draws = [None] if fixed is not None else [np.random.default_rng(s) for s in val_seeds]
        return float(np.mean([np.mean(embedded(N, s).predict(Xv, path=path) == yv) for N in Ns for s in draws]))

    def float_acc():
        return float(np.mean(model.predict(Xv) == yv))

    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    gen = torch.Generator().manual_seed(int(np.random.default_rng(shuffle_ss).integers(2**62)))
    step_rng = np.random.default_rng(step_ss.spawn(1)[0])
    was = model.training
    model.eval()
    best = (val_acc(), 0, copy.deepcopy(model.state_dict()))
    rows = [{"epoch": 0, "train_loss": float("nan"), "train_acc": float("nan"), "val_acc": best[0],
             "val_float_acc": float_acc()}]
    try:
        with single_thread():
            for epoch in _progress(range(1, epochs + 1), desc=f"EHD-aware training (N={Ns}, {embedding})",
                                   total=epochs, disable=not progress):
                perm = torch.randperm(Xtr.shape[0], generator=gen)
                tot, correct, seen = 0.0, 0, 0
                for i in range(0, perm.numel(), batch_size):
                    idx = perm[i:i + batch_size]
                    N = Ns[int(step_rng.integers(len(Ns)))] if len(Ns) > 1 else Ns[0]
                    out = _spliced(model, embedded(N, step_rng), Xtr[idx], path, None)
                    loss = F.cross_entropy(temperature * out, ytr[idx])
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    tot += loss.item() * idx.numel()
                    correct += int((out.argmax(1) == ytr[idx]).sum())
                    seen += idx.numel()
                if not np.isfinite(tot):
                    raise FloatingPointError(f"EHD-aware training diverged at epoch {epoch}; lower lr")
                acc = val_acc()
                rows.append({"epoch": epoch, "train_loss": tot / seen, "train_acc": correct / seen, "val_acc": acc,
                             "val_float_acc": float_acc()})
                if acc > best[0]:
                    best = (acc, epoch, copy.deepcopy(model.state_dict()))
    finally:
        model.train(was)
    model.load_state_dict(best[2])
    hist = pd.DataFrame(rows)
    hist["best"] = hist["epoch"] == best[1]
    return hist


# --------------------------------------------------------------------------------------------------
# Specs: EHD-aware fine-tunes as committed checkpoints (gnet_models entries with an "ehd_aware" dict)

_AWARE_KEYS = {"base", "hyperdim", "embedding", "redraw", "epochs", "batch_size", "lr", "weight_decay",
               "temperature", "val_draws"}


def check_spec(spec: dict) -> dict:
    """Validate an EHD-aware spec: a :mod:`gnetlab.gnet.train` spec (the base model) plus ``"ehd_aware"``.

    ``spec["ehd_aware"]`` holds ``base`` (the config name of the base model, trained from the rest of the
    spec), ``hyperdim`` and the options of :func:`train_ehd_aware` (``embedding``, ``redraw``,
    ``epochs``, ``batch_size``, ``lr``, ``weight_decay``, ``temperature``, ``val_draws``); its seed is
    the spec's ``seed`` and its validation split the base's (``train.val_size``).

    Parameters
    ----------
    spec : dict
        The spec.

    Returns
    -------
    dict
        The normalised spec.
    """
    from ..checkpoints import check_name
    from ..gnet.train import _check_spec

    spec = _check_spec(spec)
    aware = spec.get("ehd_aware")
    if aware is None:
        raise ValueError("spec: missing key 'ehd_aware' (the EHD-aware fine-tune's options)")
    unknown, missing = set(aware) - _AWARE_KEYS, {"base", "hyperdim"} - set(aware)
    if unknown or missing:
        raise ValueError(f"spec['ehd_aware']: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}; "
                         f"allowed {sorted(_AWARE_KEYS)}")
    check_name(aware["base"])
    if "val_size" not in spec["train"]:
        raise ValueError("spec['train']: an EHD-aware fine-tune validates on the base's split: needs 'val_size'")
    return spec


def _base_spec(spec: dict) -> dict:
    return {k: v for k, v in spec.items() if k != "ehd_aware"}


def train_from_spec(spec: dict, *, progress: bool = True):
    """The base model of ``spec`` (:func:`gnetlab.gnet.load_model`: the committed one if it holds the base
    spec), fine-tuned by :func:`train_ehd_aware` on the spec's training data.

    Parameters
    ----------
    spec : dict
        As :func:`check_spec`.
    progress : bool, default True
        Show progress bars.

    Returns
    -------
    model : gnetlab.gnet.GNet
        The fine-tuned model, in evaluation mode.
    metadata : dict
        ``spec``, ``data_sha256``, ``best_epoch``, ``best_val_acc`` (EHD), ``test_acc`` (the float
        model's), ``history`` (list of dicts).
    """
    import copy

    from ..checkpoints import data_fingerprint
    from ..gnet.train import evaluate, load_model, spec_data

    spec = check_spec(spec)
    aware = dict(spec["ehd_aware"])
    base_name = aware.pop("base")
    base, _ = load_model(base_name, _base_spec(spec), progress=progress)
    model = copy.deepcopy(base)
    X, y = spec_data(spec, "train")
    Xte, yte = spec_data(spec, "test")
    hist = train_ehd_aware(model, X, y, seed=spec["seed"], val_size=spec["train"]["val_size"], progress=progress,
                           **aware)
    best = hist[hist["best"]].iloc[0]
    model.eval()
    meta = {"spec": spec, "data_sha256": data_fingerprint(X, y), "best_epoch": int(best["epoch"]),
            "best_val_acc": float(best["val_acc"]), "test_acc": evaluate(model, Xte, yte)[1],
            "history": _records(hist)}
    return model, meta


def _records(df) -> list:
    """A history frame as JSON-able records (NaN as None)."""
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()}
            for r in df.astype(object).to_dict(orient="records")]


def load_model(name: str, spec: dict, *, progress: bool = True):
    """The EHD-aware model ``name`` of ``spec``: the committed checkpoint if it holds ``spec``, else
    trained (:func:`gnetlab.gnet.load_model` with this module's trainer).

    Parameters
    ----------
    name : str
        Model name of the config.
    spec : dict
        As :func:`check_spec`.
    progress : bool, default True
        Show progress bars when training.

    Returns
    -------
    model : gnetlab.gnet.GNet
        In evaluation mode.
    metadata : dict
        As :func:`train_from_spec`.
    """
    from ..gnet.train import load_model as gnet_load_model

    return gnet_load_model(name, check_spec(spec), progress=progress, trainer=train_from_spec)


def train_and_save(name: str, spec: dict, path, *, progress: bool = True):
    """Train ``spec`` (:func:`train_from_spec`) and write checkpoint + sidecar to ``path`` (the zoo's
    ``retrain``).

    Parameters
    ----------
    name : str
        Model name of the config.
    spec : dict
        As :func:`check_spec`.
    path : path-like
        Checkpoint file.
    progress : bool, default True
        Show progress bars.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from ..gnet.train import train_and_save as gnet_train_and_save

    return gnet_train_and_save(name, check_spec(spec), path, progress=progress, trainer=train_from_spec)


# --------------------------------------------------------------------------------------------------
# The comparison: post-hoc embedding vs a fine-tuned classifier, with the chunked protocol

SWEEP_METHODS = ("post-hoc", "fine-tuned classifier")


def binary_training_sweep(model, X, y, X_train, y_train, *, hyperdims, finetune_hyperdims=(),
                          embedding: str = "gaussian", n_chunks: int = 4, seed, finetune: dict | None = None,
                          label: str = "", per_image: bool = False, progress: bool = True):
    """EHD accuracy vs N of ``model``, post hoc and with the classifier fine-tuned for each chunk's G.

    The paper's protocol (:func:`gnetlab.ehd.hyperdim_sweep`): contiguous test chunks, chunk c embeds
    with its own stream of ``seed`` at the largest N and truncates, so every model and method sees the
    same G at a given (N, chunk). At each N of ``finetune_hyperdims`` (a subset of ``hyperdims``) the
    classifier of that very embedding is then fine-tuned on ``(X_train, y_train)``
    (:func:`gnetlab.ehd.training.fine_tune_classifier`, options ``finetune``, seed ``seed``) and
    evaluated on the same chunk.

    Parameters
    ----------
    model : gnetlab.gnet.GNet
        The float network.
    X, y : array_like
        Test inputs and labels.
    X_train, y_train : array_like
        Training inputs and labels of the fine-tune.
    hyperdims : sequence of int
        N (the same in every layer).
    finetune_hyperdims : sequence of int, default ()
        The N (from ``hyperdims``) at which the classifier is also fine-tuned.
    embedding : {"gaussian", "rademacher"}, default "gaussian"
        Distribution of G.
    n_chunks : int, default 4
        Test chunks, a fresh G each.
    seed : int
        Chunk streams and fine-tuning.
    finetune : dict, optional
        Keyword options of :func:`~gnetlab.ehd.training.fine_tune_classifier` (not ``seed``).
    label : str, default ""
        The ``model`` column of the rows.
    per_image : bool, default False
        One row per test image instead of per chunk (for paired standard errors).
    progress : bool, default True
        Show a progress bar.

    Returns
    -------
    pandas.DataFrame
        One row per (N, chunk, method): ``model``, ``method`` (:data:`SWEEP_METHODS`), ``embedding``,
        ``hyperdim``, ``chunk``, ``n_test``, ``accuracy`` (percent), ``float_accuracy`` (percent, the
        float model on the chunk). With ``per_image``: one row per (N, chunk, method, test image), with
        ``image`` (index into ``X``), ``correct`` and ``float_correct`` (bool) in place of ``n_test``,
        ``accuracy`` and ``float_accuracy``.
    """
    import pandas as pd

    from .._validation import check_positive_int, check_sequence
    from ..progress import progress as _progress
    from ..protocol import chunk_bounds, chunk_streams
    from .build import embed_gnet
    from .sweeps import _check_eval_inputs
    from .training import ehd_hidden, fine_tune_classifier, layer_output

    _check_pair(model, None)
    X, y, n_chunks = _check_eval_inputs(model, X, y, n_chunks, seed)
    Ns = [check_positive_int(h, "hyperdims") for h in check_sequence(hyperdims, "hyperdims")]
    if not Ns:
        raise ValueError("hyperdims: expected at least one value")
    ft = [check_positive_int(h, "finetune_hyperdims") for h in check_sequence(finetune_hyperdims, "finetune_hyperdims")]
    if set(ft) - set(Ns):
        raise ValueError(f"finetune_hyperdims: {sorted(set(ft) - set(Ns))} not in hyperdims {Ns}")
    finetune = dict(finetune or {})
    if not isinstance(finetune, dict) or "seed" in finetune:
        raise ValueError("finetune: expected a dict of fine_tune_classifier options without 'seed'")
    if not isinstance(per_image, bool):
        raise TypeError(f"per_image: expected a bool, got {per_image!r}")
    float_pred = model.predict(X)
    streams = chunk_streams(seed, n_chunks)
    bounds = chunk_bounds(X.shape[0], n_chunks)
    rows = []
    for c in _progress(range(n_chunks), desc=f"{label or 'model'} ({embedding})", total=n_chunks,
                       disable=not progress):
        full = embed_gnet(model, hyperdim=max(Ns), embedding=embedding, seed=np.random.default_rng(streams[c]))
        idx = bounds[c]
        for N in Ns:
            e = full.truncated(N)
            nets = [("post-hoc", e)]
            if N in ft:
                nets.append(("fine-tuned classifier",
                             fine_tune_classifier(model, e, X_train, y_train, seed=seed, **finetune)[0]))
            H = ehd_hidden(e, X[idx])  # the hidden layers are shared: only the classifier differs
            for method, net in nets:
                pred = layer_output(net.classifier, H).argmax(1)  # = net.predict(X[idx]) (ties: lowest class)
                key = {"model": label, "method": method, "embedding": embedding, "hyperdim": N, "chunk": c}
                if per_image:
                    rows.extend({**key, "image": int(i), "correct": bool(p == y[i]), "float_correct":
                                 bool(float_pred[i] == y[i])} for i, p in zip(idx, pred))
                else:
                    rows.append({**key, "n_test": idx.size, "accuracy": 100.0 * np.mean(pred == y[idx]),
                                 "float_accuracy": 100.0 * np.mean(float_pred[idx] == y[idx])})
    return pd.DataFrame(rows)
