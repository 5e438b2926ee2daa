"""Training loop, evaluation and safe checkpoints for G-Nets.

:func:`train`: Adam + ``ReduceLROnPlateau`` on the validation loss (PyTorch defaults: factor 0.1,
patience 10), cross-entropy, a stratified validation split held out of the training data, and the
weights of the epoch with the best validation accuracy restored at the end (the official "keep best").
Everything random (initialisation, the split, shuffling, dropout) derives from ``seed``.

Checkpoints (:func:`save_checkpoint`, :func:`load_checkpoint`) are a dict of tensors and plain strings
written atomically with ``torch.save``; loading uses ``torch.load(weights_only=True)`` (no arbitrary
pickle) and rebuilds the model from the stored JSON config. :func:`ensure_trained` trains a model from
a *spec* unless a checkpoint with the same spec already exists: the shared entry point of the
``train_gnet`` Snakemake rule (``python -m gnetlab.gnet``) and of notebooks run standalone.

A spec is a JSON-able dict::

    {"dataset": "mnist5k", "data_seed": 0, "model": "mnist_dense",
     "model_kwargs": {"hidden": [256, 256]}, "activation": "rasu", "seed": 0,
     "train": {"epochs": 30, "batch_size": 200, "lr": 0.01, "weight_decay": 1e-5, "val_size": 400}}

A spec with an ``"ehd_aware"`` dict is that model fine-tuned through its EHD embedding afterwards; this
module only checks that the key holds a dict and refuses to train it: :mod:`gnetlab.ehd.training` trains it
(``trainer=`` of :func:`load_model`, :func:`ensure_trained`, :func:`train_and_save`).
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from .._validation import as_array, check_positive_int, check_real, check_seed
from ..io import atomic_path
from ..threads import single_thread
from .models import GNet, as_input, build_model

__all__ = ["TrainResult", "train", "evaluate", "save_checkpoint", "load_checkpoint", "train_from_spec",
           "ensure_trained", "train_and_save", "model_path", "load_model", "spec_data", "single_thread", "CHECKPOINT_FORMAT"]

CHECKPOINT_FORMAT = "gnetlab.gnet/1"


@dataclass
class TrainResult:
    """What :func:`train` returns: per-epoch history and the restored best epoch.

    Parameters
    ----------
    history : pandas.DataFrame
        One row per epoch (losses, accuracies, learning rate).
    best_epoch : int
        The epoch whose weights were restored.
    best_val_acc : float
        Its validation accuracy, in [0, 1].
    """

    history: pd.DataFrame  # epoch, train_loss, train_acc, val_loss, val_acc, lr
    best_epoch: int
    best_val_acc: float


def _check_xy(model: GNet, X, y):
    if not isinstance(model, GNet):
        raise TypeError(f"model: expected a gnetlab.gnet.GNet, got {type(model).__name__}")
    Xt = as_input(X, model.input_shape)
    y = as_array(y, "y", dtype_kind="iu", ndim=1)
    if y.shape[0] != Xt.shape[0]:
        raise ValueError(f"X, y: {Xt.shape[0]} samples but {y.shape[0]} labels")
    if y.size and (y.min() < 0 or y.max() >= model.n_classes):
        raise ValueError(f"y: labels must lie in 0..{model.n_classes - 1}, got range {y.min()}..{y.max()}")
    return Xt, torch.from_numpy(y.astype(np.int64))


@torch.no_grad()
def evaluate(model: GNet, X, y, *, batch_size: int = 1000) -> tuple[float, float]:
    """Loss and accuracy of ``model`` in evaluation mode.

    Parameters
    ----------
    model : GNet
        The network.
    X : array_like, float, shape (n, *input_shape) or (n, prod(input_shape))
        Inputs.
    y : array_like, integer, shape (n,)
        Labels.
    batch_size : int, default 1000
        Inputs per forward pass.

    Returns
    -------
    loss : float
        Mean cross-entropy.
    accuracy : float
        In [0, 1].
    """
    Xt, yt = _check_xy(model, X, y)
    if Xt.shape[0] == 0:
        raise ValueError("X: expected at least one sample to evaluate, got 0 (accuracy of an empty set is undefined)")
    batch_size = check_positive_int(batch_size, "batch_size")
    with single_thread():
        return _evaluate(model, Xt, yt, batch_size)


@torch.no_grad()
def _evaluate(model, Xt, yt, batch_size):
    was = model.training
    model.eval()
    loss, correct = 0.0, 0
    try:
        for i in range(0, Xt.shape[0], batch_size):
            out = model(Xt[i:i + batch_size])
            loss += F.cross_entropy(out, yt[i:i + batch_size], reduction="sum").item()
            correct += int((out.argmax(1) == yt[i:i + batch_size]).sum())
    finally:
        model.train(was)
    n = max(Xt.shape[0], 1)
    return loss / n, correct / n


def train(model: GNet, X, y, *, epochs: int, batch_size: int, lr: float, weight_decay: float = 0.0,
          val_size: int | None = None, X_val=None, y_val=None, seed: int, progress: bool = True,
          desc: str = "train G-Net", augment: dict | None = None) -> TrainResult:
    """Train ``model`` in place; returns the history and leaves the best-validation weights loaded.

    Epochs: Adam(lr, weight_decay), ReduceLROnPlateau on the validation loss.

    Parameters
    ----------
    model : GNet
        Trained in place.
    X : array_like, float, shape (n, *input_shape) or (n, prod(input_shape))
        Training inputs.
    y : array_like, integer, shape (n,)
        Labels.
    epochs : int
        Passes over the data.
    batch_size : int
        Mini-batch size.
    lr : float
        Adam learning rate.
    weight_decay : float, default 0.0
        Adam weight decay.
    val_size : int, optional
        Samples held out of ``(X, y)`` for validation (stratified, drawn from ``seed``).
    X_val, y_val : array_like, optional
        An explicit validation set instead.
    seed : int
        Shuffling, dropout and the validation split.
    progress : bool, default True
        Show a progress bar.
    desc : str, default "train G-Net"
        Its label.
    augment : dict, optional
        Random flips / affine transforms of every training batch (image models only;
        :mod:`gnetlab.gnet.augment`, e.g. the official CIFAR-10 setting ``{"flip": 0.5, "degrees": 5,
        "translate": 0.1, "scale": [0.9, 1.1]}``), drawn from ``seed``.

    Returns
    -------
    TrainResult
        History and best epoch; the best-validation weights are loaded into ``model``.
    """
    from .augment import augment_batch, check_augment

    from ..progress import progress as _progress

    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size", minimum=2)
    lr = check_real(lr, "lr", minimum=0, low_open=True)
    weight_decay = check_real(weight_decay, "weight_decay", minimum=0)
    seed = check_seed(seed)
    if not isinstance(model, GNet):
        raise TypeError(f"model: expected a gnetlab.gnet.GNet, got {type(model).__name__}")
    Xt, yt = _check_xy(model, X, y)
    if augment is not None:
        augment = check_augment(augment)
        if Xt.ndim != 4:
            raise ValueError(f"augment: only image models (input (C, H, W)) can be augmented; this model's input "
                             f"shape is {list(model.input_shape)}")
    rng = np.random.default_rng(int(seed))
    if X_val is not None:
        Xv, yv = _check_xy(model, X_val, y_val)
    else:
        if val_size is None:
            raise ValueError("train: give X_val/y_val or val_size")
        from ..datasets import stratified_split

        tr, va = stratified_split(yt.numpy(), check_positive_int(val_size, "val_size"), rng)
        Xv, yv = Xt[va], yt[va]
        Xt, yt = Xt[tr], yt[tr]
    torch_gen = torch.Generator().manual_seed(int(rng.integers(2**62)))
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt)
    best_state, best_acc, best_epoch = None, -1.0, 0
    rows = []
    n = Xt.shape[0]
    torch_rng_state = torch.random.get_rng_state()
    torch.manual_seed(int(rng.integers(2**62)))  # dropout draws from the global generator
    one_thread = contextlib.ExitStack()
    one_thread.enter_context(single_thread())
    try:
        bar = _progress(range(1, epochs + 1), desc=desc, total=epochs, disable=not progress)
        for epoch in bar:
            model.train()
            perm = torch.randperm(n, generator=torch_gen)
            tot_loss, tot_correct, seen = 0.0, 0, 0
            for i in range(0, n, batch_size):
                idx = perm[i:i + batch_size]
                if idx.numel() < 2:  # BatchNorm statistics need two samples
                    continue
                xb = Xt[idx] if augment is None else augment_batch(Xt[idx], augment, torch_gen)
                out = model(xb)
                loss = F.cross_entropy(out, yt[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                tot_loss += loss.item() * idx.numel()
                tot_correct += int((out.argmax(1) == yt[idx]).sum())
                seen += idx.numel()
            if not np.isfinite(tot_loss):
                raise FloatingPointError(f"training diverged at epoch {epoch} (loss {tot_loss}); lower lr")
            val_loss, val_acc = _evaluate(model, Xv, yv, 1000)
            sched.step(val_loss)
            rows.append({"epoch": epoch, "train_loss": tot_loss / seen, "train_acc": tot_correct / seen,
                         "val_loss": val_loss, "val_acc": val_acc, "lr": opt.param_groups[0]["lr"]})
            if val_acc > best_acc:
                best_acc, best_epoch = val_acc, epoch
                best_state = copy.deepcopy(model.state_dict())
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(val_acc=f"{val_acc:.4f}", best=f"{best_acc:.4f}")
    finally:
        torch.random.set_rng_state(torch_rng_state)
        one_thread.close()
    model.load_state_dict(best_state)
    model.eval()
    return TrainResult(pd.DataFrame(rows), best_epoch, best_acc)


# --------------------------------------------------------------------------------------------------
# Checkpoints


def save_checkpoint(model: GNet, path: str | os.PathLike, *, metadata: dict | None = None) -> Path:
    """Write ``model`` (weights + JSON config) and JSON-able ``metadata`` to ``path`` atomically.

    Parameters
    ----------
    model : GNet
        The network.
    path : path-like
        Checkpoint file.
    metadata : dict, optional
        JSON-able extras.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    if not isinstance(model, GNet):
        raise TypeError(f"model: expected a gnetlab.gnet.GNet, got {type(model).__name__}")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata: expected a JSON-able dict or None, got {type(metadata).__name__}")
    try:
        json.dumps(metadata or {}, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"metadata: expected a JSON-able dict (numbers, strings, lists, dicts), got {exc}") from None
    payload = {
        "format": CHECKPOINT_FORMAT,
        "config": json.dumps(model.config, sort_keys=True),
        "metadata": json.dumps(metadata or {}, sort_keys=True),
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
    }
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def load_checkpoint(path: str | os.PathLike) -> tuple[GNet, dict]:
    """Load a checkpoint written by :func:`save_checkpoint`: ``(model in eval mode, metadata)``.

    Uses ``torch.load(weights_only=True)`` (only tensors and plain containers are unpickled); a missing,
    empty, corrupt or foreign file raises :class:`gnetlab.checkpoints.CheckpointError` saying so.

    Parameters
    ----------
    path : path-like
        Checkpoint file.

    Returns
    -------
    model : GNet
        In evaluation mode.
    metadata : dict
        As saved.
    """
    from ..checkpoints import CheckpointError, safe_torch_load

    path = Path(path)
    payload = safe_torch_load(path)
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not a gnetlab G-Net checkpoint (expected format {CHECKPOINT_FORMAT!r})")
    model = GNet.from_config(payload["config"])
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return model, json.loads(payload["metadata"])


# --------------------------------------------------------------------------------------------------
# Specs: what the pipeline trains


_SPEC_KEYS = {"dataset", "data_seed", "model", "model_kwargs", "activation", "seed", "train", "ehd_aware"}
_TRAIN_KEYS = {"epochs", "batch_size", "lr", "weight_decay", "val_size", "augment"}


def _check_spec(spec: dict) -> dict:
    if not isinstance(spec, dict):
        raise TypeError(f"spec: expected a dict, got {type(spec).__name__}")
    unknown = set(spec) - _SPEC_KEYS
    missing = {"dataset", "model", "activation", "train"} - set(spec)
    if unknown or missing:
        raise ValueError(f"spec: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}")
    if not isinstance(spec["train"], dict):
        raise TypeError(f"spec['train']: expected a dict of train() options, got {type(spec['train']).__name__}")
    if not isinstance(spec.get("model_kwargs", {}), dict):
        raise TypeError(f"spec['model_kwargs']: expected a dict, got {type(spec['model_kwargs']).__name__}")
    if not isinstance(spec.get("ehd_aware", {}), dict):
        raise TypeError(f"spec['ehd_aware']: expected a dict, got {type(spec['ehd_aware']).__name__}")
    check_seed(spec.get("seed", 0), "spec['seed']")
    check_seed(spec.get("data_seed", 0), "spec['data_seed']")
    t_unknown = set(spec["train"]) - _TRAIN_KEYS
    if t_unknown:
        raise ValueError(f"spec['train']: unknown keys {sorted(t_unknown)}; allowed {sorted(_TRAIN_KEYS)}")
    spec = json.loads(json.dumps(spec))  # normalise tuples to lists etc.
    spec.setdefault("data_seed", 0)
    spec.setdefault("seed", 0)
    spec.setdefault("model_kwargs", {})
    return spec


def train_from_spec(spec: dict, *, progress: bool = True) -> tuple[GNet, dict]:
    """Load the spec's training data, build and train the model: ``(model, metadata)``.

    Parameters
    ----------
    spec : dict
        Model name, activation, dataset and training options.
    progress : bool, default True
        Show a progress bar.

    Returns
    -------
    model : GNet
        Trained, in evaluation mode.
    metadata : dict
        The spec, the best epoch and validation accuracy, the history (list of dicts) and the float
        model's test accuracy on the dataset's test split.
    """
    from .. import datasets

    spec = _check_spec(spec)
    if "ehd_aware" in spec:
        raise ValueError("spec: an 'ehd_aware' spec (the float model fine-tuned through its EHD embedding) is "
                         "trained by gnetlab.ehd.training.train_from_spec (python -m gnetlab.zoo retrain NAME)")
    X, y = datasets.load(spec["dataset"], split="train", seed=spec["data_seed"])
    Xte, yte = datasets.load(spec["dataset"], split="test", seed=spec["data_seed"])
    fingerprint = _data_fingerprint(X, y)
    model = build_model(spec["model"], activation=spec["activation"], seed=spec["seed"], **spec["model_kwargs"])
    res = train(model, X, y, seed=spec["seed"], progress=progress,
                desc=f"train {spec['model']} ({spec['activation']})", **spec["train"])
    _, test_acc = evaluate(model, Xte, yte)
    meta = {"spec": spec, "data_sha256": fingerprint, "best_epoch": res.best_epoch,
            "best_val_acc": res.best_val_acc, "test_acc": test_acc, "history": res.history.to_dict(orient="records")}
    return model, meta


def _data_fingerprint(X, y) -> str:
    from ..checkpoints import data_fingerprint

    return data_fingerprint(X, y)


def ensure_trained(path: str | os.PathLike, spec: dict, *, progress: bool = True,
                   trainer=None) -> tuple[GNet, dict]:
    """The model of ``spec``: loaded from ``path`` if it holds that spec, else trained and saved there.

    A checkpoint trained from a different spec, or on different training data (its sha256 of the
    training arrays differs, e.g. after a change of the dataset split), is retrained and overwritten,
    so a changed config or dataset never silently reuses a stale model.

    Parameters
    ----------
    path : path-like
        Checkpoint file.
    spec : dict
        As :func:`train_from_spec`.
    progress : bool, default True
        Show a progress bar when training.
    trainer : callable, optional
        ``trainer(spec, progress=...) -> (model, metadata)``, default :func:`train_from_spec` (another
        package's spec kind, e.g. :func:`gnetlab.ehd.training.train_from_spec`).

    Returns
    -------
    model : GNet
        In evaluation mode.
    metadata : dict
        As :func:`train_from_spec`.
    """
    from .. import datasets

    spec = _check_spec(spec)
    path = Path(path)
    if path.exists():
        model, meta = load_checkpoint(path)
        if meta.get("spec") == spec:
            X, y = datasets.load(spec["dataset"], split="train", seed=spec["data_seed"])
            if meta.get("data_sha256") == _data_fingerprint(X, y):
                return model, meta
    model, meta = (trainer or train_from_spec)(spec, progress=progress)
    _save_with_sidecar(model, meta, path)
    return model, meta


def _save_with_sidecar(model: GNet, meta: dict, path: Path) -> Path:
    from ..checkpoints import write_sidecar

    slim = {k: v for k, v in meta.items() if k != "history"}
    save_checkpoint(model, path, metadata=meta)
    write_sidecar(path, kind="gnet", name=path.stem, spec=meta["spec"], data_sha256=meta["data_sha256"],
                  results={k: slim[k] for k in ("test_acc", "best_epoch", "best_val_acc")})
    return path


def train_and_save(name: str, spec: dict, path: str | os.PathLike, *, progress: bool = True,
                   trainer=None) -> Path:
    """Train ``spec`` from scratch and write checkpoint + sidecar to ``path``.

    ``python -m gnetlab.zoo retrain`` uses it to refresh the committed defaults.

    Parameters
    ----------
    name : str
        Model name of the config.
    spec : dict
        As :func:`train_from_spec`.
    path : path-like
        Checkpoint file to write (its sidecar goes beside it).
    progress : bool, default True
        Show a progress bar.
    trainer : callable, optional
        As :func:`ensure_trained`.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    spec = _check_spec(spec)
    model, meta = (trainer or train_from_spec)(spec, progress=progress)
    return _save_with_sidecar(model, meta, Path(path))


def model_path(name: str) -> Path:
    """Where the pipeline keeps a G-Net it trained itself.

    Parameters
    ----------
    name : str
        Model name of the config.

    Returns
    -------
    pathlib.Path
        ``<results>/models/<name>.pt`` (``$GNETLAB_MODELS_DIR/<name>.pt`` when that is set, as in the
        pipeline's retraining mode).
    """
    from .. import paths
    from ..checkpoints import check_name, models_dir_override

    return (models_dir_override() or paths.RESULTS / "models") / f"{check_name(name)}.pt"


def load_model(name: str, spec: dict, *, progress: bool = True, trainer=None) -> tuple[GNet, dict]:
    """The trained G-Net ``name`` of ``spec``: the notebooks' entry point.

    1. ``$GNETLAB_MODELS_DIR`` set (the pipeline's retraining mode): that directory's model, trained
       there if missing or stale.
    2. Otherwise the committed default ``data/models/<name>.pt`` when it was trained from exactly this
       spec on exactly this training data (sha256 of file and data verified): the same weights on every
       machine.
    3. Otherwise (another spec, e.g. a notebook explored with other settings): ``results/models/<name>.pt``,
       trained there if missing or stale.

    Parameters
    ----------
    name : str
        Model name of the config.
    spec : dict
        As :func:`train_from_spec`.
    progress : bool, default True
        Show a progress bar when training.
    trainer : callable, optional
        As :func:`ensure_trained`.

    Returns
    -------
    model : GNet
        In evaluation mode.
    metadata : dict
        As :func:`train_from_spec`.
    """
    from .. import datasets
    from ..checkpoints import load_committed

    spec = _check_spec(spec)
    X, y = datasets.load(spec["dataset"], split="train", seed=spec["data_seed"])
    found = load_committed(name, spec, kind="gnet", load=load_checkpoint, data_sha256=_data_fingerprint(X, y))
    if found is not None:
        return found
    return ensure_trained(model_path(name), spec, progress=progress, trainer=trainer)


def spec_data(spec: dict, split: str = "test"):
    """The spec's dataset split (the split the spec's model was evaluated on).

    Parameters
    ----------
    spec : dict
        As :func:`train_from_spec`.
    split : {"train", "test", "all"}, default "test"
        Which part.

    Returns
    -------
    X : ndarray, float32
        Inputs.
    y : ndarray, int64, shape (n,)
        Labels.
    """
    from .. import datasets

    spec = _check_spec(spec)
    return datasets.load(spec["dataset"], split=split, seed=spec["data_seed"])


def main(argv: list[str] | None = None) -> int:
    """``python -m gnetlab.gnet OUT.pt --spec JSON [--threads N]``: train (or reuse) and save."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m gnetlab.gnet", description=main.__doc__)
    parser.add_argument("output")
    parser.add_argument("--spec", required=True, help="JSON object (see gnetlab.gnet.train)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    from ..threads import set_threads

    if args.threads < 1:
        parser.error(f"--threads: expected an integer >= 1, got {args.threads}")
    try:
        spec = _check_spec(json.loads(args.spec))
    except json.JSONDecodeError as exc:
        parser.error(f"--spec: not valid JSON ({exc})")
    except (TypeError, ValueError) as exc:
        parser.error(f"--spec: {exc}")
    if Path(args.output).is_dir():
        parser.error(f"output: expected a checkpoint file path, got the directory {args.output!r}")
    set_threads(args.threads)
    model, meta = ensure_trained(args.output, spec)
    print(f"{args.output}: best epoch {meta['best_epoch']}, val acc {meta['best_val_acc']:.4f}, "
          f"test acc {meta['test_acc']:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
