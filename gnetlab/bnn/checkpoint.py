"""Trained baselines as checkpoints: specs, training from a spec, save/load, and the committed defaults.

The baselines a figure uses are committed like the G-Nets (:mod:`gnetlab.checkpoints`): training is not
bit-reproducible across CPUs, so every machine evaluates the same committed weights. A spec is one
``bnn_models`` entry of the config.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

from .._validation import check_choice, check_seed
from ..io import atomic_path
from .models import RECIPES, BinaryMLP, build_model, check_hidden
from .train import TrainConfig, evaluate, train_classifier

__all__ = ["BNN_CHECKPOINT_FORMAT", "check_spec", "train_from_spec", "save_baseline", "load_checkpoint",
           "train_and_save", "load_baseline"]

BNN_CHECKPOINT_FORMAT = "gnetlab.bnn/1"
_SPEC_KEYS = {"dataset", "data_seed", "recipe", "hidden", "seed", "train", "teacher"}
_TRAIN_KEYS = {"epochs", "batch_size", "lr", "weight_decay", "val_fraction", "binarize_activations_from",
               "distill_alpha", "distill_temperature"}


def check_spec(spec: dict) -> dict:
    """Validate a baseline spec and return it normalised (JSON round trip, ``data_seed`` defaulted).

    Parameters
    ----------
    spec : dict
        Keys ``dataset``, ``data_seed`` (default 0), ``recipe`` (a :data:`RECIPES` name), ``hidden``
        (widths), ``seed``, ``train`` (:class:`TrainConfig` fields) and optionally ``teacher``
        (``{"name", "spec"}`` of the FP32 network a distilled student learns from).

    Returns
    -------
    dict
        The normalised spec.
    """
    if not isinstance(spec, dict):
        raise TypeError(f"spec: expected a dict, got {type(spec).__name__}")
    unknown = set(spec) - _SPEC_KEYS
    missing = {"dataset", "recipe", "hidden", "seed", "train"} - set(spec)
    if unknown or missing:
        raise ValueError(f"spec: unknown keys {sorted(unknown)}, missing keys {sorted(missing)}; "
                         f"allowed {sorted(_SPEC_KEYS)}")
    check_choice(spec["recipe"], "spec['recipe']", RECIPES)
    if not isinstance(spec["train"], dict) or set(spec["train"]) - _TRAIN_KEYS:
        raise ValueError(f"spec['train']: expected a dict with keys from {sorted(_TRAIN_KEYS)}, "
                         f"got {spec['train']!r}")
    if not isinstance(spec["hidden"], (list, tuple)) or not spec["hidden"]:
        raise ValueError(f"spec['hidden']: expected a non-empty list of widths, got {spec['hidden']!r}")
    check_hidden(spec["hidden"], "spec['hidden']")
    check_seed(spec["seed"], "spec['seed']")
    check_seed(spec.get("data_seed", 0), "spec['data_seed']")
    teacher = spec.get("teacher")
    if teacher is not None and (not isinstance(teacher, dict) or set(teacher) != {"name", "spec"}):
        raise ValueError(f"spec['teacher']: expected None or {{'name': ..., 'spec': ...}}, got {teacher!r}")
    spec = json.loads(json.dumps(spec, sort_keys=True))
    spec.setdefault("data_seed", 0)
    return spec


def _spec_model(spec: dict) -> BinaryMLP:
    from .. import datasets

    X, _ = datasets.load(spec["dataset"], split="train", seed=spec["data_seed"])
    return build_model(spec["recipe"], in_features=X.shape[1], hidden=spec["hidden"], seed=spec["seed"])


def train_from_spec(spec: dict, *, progress: bool = True) -> tuple[BinaryMLP, dict]:
    """Train the baseline of ``spec`` from scratch (its teacher resolved with :func:`load_baseline`).

    Parameters
    ----------
    spec : dict
        As :func:`check_spec`.
    progress : bool, default True
        Show a progress bar.

    Returns
    -------
    model : BinaryMLP
        Trained, in evaluation mode.
    metadata : dict
        ``spec``, ``data_sha256`` of the training arrays, ``test_acc`` (fraction) and ``history``.
    """
    from .. import datasets
    from ..checkpoints import data_fingerprint

    spec = check_spec(spec)
    X, y = datasets.load(spec["dataset"], split="train", seed=spec["data_seed"])
    Xte, yte = datasets.load(spec["dataset"], split="test", seed=spec["data_seed"])
    teacher = None
    if spec.get("teacher") is not None:
        teacher = load_baseline(spec["teacher"]["name"], spec["teacher"]["spec"], progress=progress)[0]
    model = _spec_model(spec)
    cfg = TrainConfig(seed=spec["seed"], **spec["train"])
    train_classifier(model, X, y, cfg, teacher=teacher, progress_desc=f"train {spec['recipe']}")
    meta = {"spec": spec, "data_sha256": data_fingerprint(X, y), "test_acc": evaluate(model, Xte, yte),
            "history": [list(h) for h in cfg.history]}
    return model, meta


def save_baseline(model: BinaryMLP, path: str | os.PathLike, *, metadata: dict) -> Path:
    """Write a trained baseline (weights, metadata) and its sidecar to ``path`` atomically.

    Parameters
    ----------
    model : BinaryMLP
        The trained model.
    path : path-like
        Checkpoint file (``<name>.pt``; the sidecar ``<name>.json`` goes beside it).
    metadata : dict
        As returned by :func:`train_from_spec`.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from ..checkpoints import write_sidecar

    if not isinstance(model, BinaryMLP):
        raise TypeError(f"model: expected a gnetlab.bnn.BinaryMLP, got {type(model).__name__}")
    path = Path(path)
    payload = {"format": BNN_CHECKPOINT_FORMAT, "metadata": json.dumps(metadata, sort_keys=True),
               "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    write_sidecar(path, kind="bnn", name=path.stem, spec=metadata["spec"], data_sha256=metadata["data_sha256"],
                  results={"test_acc": metadata["test_acc"]})
    return path


def load_checkpoint(path: str | os.PathLike) -> tuple[BinaryMLP, dict]:
    """Load a baseline written by :func:`save_baseline` (``torch.load(weights_only=True)``).

    Parameters
    ----------
    path : path-like
        Checkpoint file.

    Returns
    -------
    model : BinaryMLP
        In evaluation mode, with the architecture it was trained into (a progressive student has its
        activations binarized).
    metadata : dict
        As saved.
    """
    from ..checkpoints import CheckpointError, safe_torch_load

    payload = safe_torch_load(path)
    if not isinstance(payload, dict) or payload.get("format") != BNN_CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not a gnetlab baseline checkpoint (expected format "
                              f"{BNN_CHECKPOINT_FORMAT!r})")
    meta = json.loads(payload["metadata"])
    spec = check_spec(meta["spec"])
    model = _spec_model(spec)
    if spec["train"].get("binarize_activations_from") is not None:
        model.set_activation_quantizer("clipped_ste")
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return model, meta


def train_and_save(name: str, spec: dict, path: str | os.PathLike, *, progress: bool = True) -> Path:
    """Train ``spec`` from scratch and save it to ``path`` (``python -m gnetlab.zoo retrain`` uses it).

    Parameters
    ----------
    name : str
        Model name of the config (``bnn_models``).
    spec : dict
        As :func:`check_spec`.
    path : path-like
        Checkpoint file to write.
    progress : bool, default True
        Show a progress bar.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    model, meta = train_from_spec(spec, progress=progress)
    return save_baseline(model, path, metadata=meta)


def load_baseline(name: str, spec: dict, *, progress: bool = True) -> tuple[BinaryMLP, dict]:
    """The trained baseline ``name`` of ``spec``, resolved like :func:`gnetlab.gnet.load_model`.

    ``$GNETLAB_MODELS_DIR`` (the pipeline's retraining mode), else the committed ``data/models/<name>.pt``
    when it holds exactly this spec (sha256 verified), else ``results/models/<name>.pt`` (trained there
    when missing or stale).

    Parameters
    ----------
    name : str
        Model name of the config (``bnn_models``).
    spec : dict
        As :func:`check_spec`.
    progress : bool, default True
        Show a progress bar when training.

    Returns
    -------
    model : BinaryMLP
        In evaluation mode.
    metadata : dict
        As :func:`train_from_spec`.
    """
    from .. import datasets, paths
    from ..checkpoints import check_name, data_fingerprint, load_committed, models_dir_override

    spec = check_spec(spec)
    X, y = datasets.load(spec["dataset"], split="train", seed=spec["data_seed"])
    fingerprint = data_fingerprint(X, y)
    found = load_committed(name, spec, kind="bnn", load=load_checkpoint, data_sha256=fingerprint)
    if found is not None:
        return found
    path = (models_dir_override() or paths.RESULTS / "models") / f"{check_name(name)}.pt"
    if path.exists():
        model, meta = load_checkpoint(path)
        if meta["spec"] == spec and meta["data_sha256"] == fingerprint:
            return model, meta
    model, meta = train_from_spec(spec, progress=progress)
    save_baseline(model, path, metadata=meta)
    return model, meta
