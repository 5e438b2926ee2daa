"""Trained-model checkpoints: safe torch files, their JSON sidecars, and the committed default models.

Why the default models are committed: the same training run gives different weights on different CPUs
(torch picks other kernels and sums in another order; a few epochs of Adam amplify it), so every number
downstream of a trained model would depend on the CPU that trained it. The default models of
``config/config.yaml`` are therefore trained once and committed under ``data/models/`` (small files), and
the notebooks and rules load them; retraining is one command (see below), and a test retrains one from
scratch and checks that it lands within a stated accuracy tolerance of the committed one.

Layout of a checkpoint ``NAME`` in a directory::

    NAME.pt     a torch file read with ``torch.load(weights_only=True)`` (tensors and plain containers)
    NAME.json   its sidecar: kind, spec, sha256 of the training data (``data_sha256``), training results
                (test accuracy, best epoch), what trained it (versions, CPU) and ``file_sha256`` of NAME.pt

Resolution (:func:`committed`): a committed checkpoint is used only when its sidecar holds exactly the
requested spec; its sha256 is verified on every load, and a mismatch is an error naming the fix.

Retraining: ``snakemake --cores 2 --config retrain_models=true`` retrains every model a figure uses into
``results/models/`` and runs the notebooks on those; ``python -m gnetlab.zoo retrain`` retrains the
committed defaults in place (:mod:`gnetlab.zoo`). This module knows no model classes: the model packages
(``gnet``, ``bnn``) build on it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import zipfile
from pathlib import Path
from typing import Any

from . import paths
from .io import write_text_atomic
from .machine import cpu_description

__all__ = ["CheckpointError", "CheckpointNotFoundError", "committed_dir", "data_fingerprint", "file_sha256", "safe_torch_load", "write_sidecar",
           "read_sidecar", "verify", "committed", "check_name", "load_committed", "models_dir_override"]

SIDECAR_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file is missing, corrupt, not a gnetlab checkpoint, or does not match its sidecar."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """A checkpoint file does not exist (also a :class:`FileNotFoundError`)."""


def committed_dir() -> Path:
    """Where the committed default checkpoints live: ``<repository>/data/models``."""
    return paths.DATA / "models"


def models_dir_override() -> Path | None:
    """``$GNETLAB_MODELS_DIR`` if set: the pipeline's retraining mode points every model load there."""
    env = os.environ.get("GNETLAB_MODELS_DIR")
    if not env:
        return None
    p = Path(env).expanduser()
    return (paths.ROOT / p if not p.is_absolute() else p).resolve()


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 (hex) of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def data_fingerprint(X, y) -> str:
    """sha256 of training arrays in their order, dtype and shape (a changed split or order means another
    model): the ``data_sha256`` a sidecar records."""
    import numpy as np

    h = hashlib.sha256()
    for a in (np.ascontiguousarray(X), np.ascontiguousarray(y)):
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _retrain_hint(path: Path) -> str:
    return (f"restore it with `git checkout -- {path}` if it is a committed default, or retrain it with "
            "`python -m gnetlab.zoo retrain` (committed defaults) or delete it to have it retrained")


def safe_torch_load(path: str | os.PathLike) -> Any:
    """``torch.load(path, weights_only=True)`` with errors that say what is wrong with the file.

    Raises :class:`CheckpointError` for a missing, empty, truncated or non-torch file, and for a file that
    holds anything but tensors and plain containers (never falls back to unrestricted unpickling).
    """
    import pickle

    import torch

    path = Path(path)
    if not path.exists():
        raise CheckpointNotFoundError(f"checkpoint {path} does not exist")
    if path.is_dir():
        raise CheckpointError(f"checkpoint {path} is a directory, expected a file; delete it and retrain")
    size = path.stat().st_size
    if size == 0:
        raise CheckpointError(f"checkpoint {path} is empty (0 bytes), e.g. an interrupted write; "
                              + _retrain_hint(path))
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"checkpoint {path} ({size} bytes) is not a torch checkpoint file (no zip "
                              f"archive inside: truncated or another format); " + _retrain_hint(path))
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"checkpoint {path} could not be read safely (only tensors and plain "
                              f"containers are loaded; it was not written by gnetlab or is corrupt: {first}); "
                              + _retrain_hint(path)) from None


def _sidecar_path(path: Path) -> Path:
    return path.with_suffix(".json")


def write_sidecar(path: str | os.PathLike, *, kind: str, name: str, spec: dict, data_sha256: str,
                  results: dict) -> Path:
    """Write ``NAME.json`` beside checkpoint ``path`` (atomically), with the file's sha256."""
    import numpy
    import torch

    path = Path(path)
    meta = {
        "sidecar_version": SIDECAR_VERSION,
        "kind": kind,
        "name": name,
        "spec": spec,
        "data_sha256": data_sha256,
        "results": results,
        "trained_with": {"python": platform.python_version(), "torch": torch.__version__,
                         "numpy": numpy.__version__, "cpu": cpu_description(), "torch_threads": 1},
        "file_bytes": path.stat().st_size,
        "file_sha256": file_sha256(path),
    }
    return write_text_atomic(_sidecar_path(path), json.dumps(meta, indent=1, sort_keys=True) + "\n")


def read_sidecar(path: str | os.PathLike) -> dict | None:
    """The sidecar of checkpoint ``path``, or ``None`` when there is none."""
    side = _sidecar_path(Path(path))
    if not side.is_file():
        return None
    try:
        meta = json.loads(side.read_text())
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{side}: not valid JSON ({exc}); " + _retrain_hint(Path(path))) from None
    if not isinstance(meta, dict) or "file_sha256" not in meta or "spec" not in meta:
        raise CheckpointError(f"{side}: not a gnetlab checkpoint sidecar (needs 'spec' and 'file_sha256')")
    return meta


def verify(path: str | os.PathLike) -> dict:
    """Check checkpoint ``path`` against its sidecar's sha256; return the sidecar."""
    path = Path(path)
    meta = read_sidecar(path)
    if meta is None:
        raise CheckpointError(f"checkpoint {path} has no sidecar {_sidecar_path(path).name}")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} is missing (its sidecar exists); " + _retrain_hint(path))
    got = file_sha256(path)
    if got != meta["file_sha256"]:
        raise CheckpointError(f"checkpoint {path}: sha256 {got} differs from its sidecar's "
                              f"{meta['file_sha256']} (modified or corrupt); " + _retrain_hint(path))
    return meta


def _normalise(spec: dict) -> dict:
    return json.loads(json.dumps(spec, sort_keys=True))


def check_name(name) -> str:
    """A model name is a plain file stem (no path separators, spaces or leading dot); returns it."""
    if not isinstance(name, str) or not name or any(c in name for c in "/\\ ") or name.startswith("."):
        raise ValueError(f"name: expected a plain model name like 'ehd_rasu', got {name!r}")
    return name


def load_committed(name: str, spec: dict, *, kind: str, load, data_sha256: str):
    """The committed model of ``name`` and ``spec`` loaded with ``load(path)``, or None.

    The shared first steps of ``gnet.load_model`` and ``bnn.load_baseline``: None in the pipeline's
    retraining mode (``$GNETLAB_MODELS_DIR``) and when no committed checkpoint holds ``spec``
    (:func:`committed`); an error naming the retrain command when one does but was trained on other data
    than ``data_sha256`` (the dataset code changed).
    """
    if models_dir_override() is not None:
        return None
    path = committed(name, spec, kind=kind)
    if path is None:
        return None
    model, meta = load(path)
    if meta.get("data_sha256") != data_sha256:
        raise CheckpointError(f"committed checkpoint {path} was trained on other data than the current "
                              f"{spec['dataset']!r} training split (the dataset code changed); retrain it with "
                              f"`python -m gnetlab.zoo retrain {name}`")
    return model, meta


def committed(name: str, spec: dict, *, kind: str, directory: str | os.PathLike | None = None) -> Path | None:
    """The committed checkpoint of ``name`` if it was trained from exactly ``spec`` (verified), else None.

    ``None`` (not an error) when there is no committed file or it holds another spec: the caller then
    trains the model (a user exploring another spec gets a model trained for it). A committed file whose
    bytes do not match its sidecar raises :class:`CheckpointError`.
    """
    check_name(name)
    if kind not in ("gnet", "bnn"):
        raise ValueError(f"kind: unknown value {kind!r}; expected 'gnet' or 'bnn'")
    if not isinstance(spec, dict):
        raise TypeError(f"spec: expected a dict, got {type(spec).__name__}")
    path = Path(directory) if directory is not None else committed_dir()
    path = path / f"{name}.pt"
    meta = read_sidecar(path)
    if meta is None or meta.get("kind") != kind or meta["spec"] != _normalise(spec):
        return None
    verify(path)
    return path
