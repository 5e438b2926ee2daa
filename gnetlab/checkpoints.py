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
``results/models/`` and runs the notebooks on those; ``python -m gnetlab.checkpoints retrain`` retrains the
committed defaults in place (``--out DIR`` elsewhere; ``NAME ...`` for some of them).
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

__all__ = ["CheckpointError", "CheckpointNotFoundError", "committed_dir", "file_sha256", "safe_torch_load", "write_sidecar",
           "read_sidecar", "verify", "committed", "models_dir_override", "retrain"]

SIDECAR_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file is missing, corrupt, not a gnetlab checkpoint, or does not match its sidecar."""


class CheckpointNotFoundError(CheckpointError, FileNotFoundError):
    """The checkpoint file does not exist (both a :class:`CheckpointError` and a ``FileNotFoundError``)."""


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


def _retrain_hint(path: Path) -> str:
    return (f"restore it with `git checkout -- {path}` if it is a committed default, or retrain it with "
            "`python -m gnetlab.checkpoints retrain` (committed defaults) or delete it to have it retrained")


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


def committed(name: str, spec: dict, *, kind: str, directory: str | os.PathLike | None = None) -> Path | None:
    """The committed checkpoint of ``name`` if it was trained from exactly ``spec`` (verified), else None.

    ``None`` (not an error) when there is no committed file or it holds another spec: the caller then
    trains the model (a user exploring another spec gets a model trained for it). A committed file whose
    bytes do not match its sidecar raises :class:`CheckpointError`.
    """
    if not isinstance(name, str) or not name or any(c in name for c in "/\\ ") or name.startswith("."):
        raise ValueError(f"name: expected a plain model name like 'ehd_rasu', got {name!r}")
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


# --------------------------------------------------------------------------------------------- CLI

def _config_models(config: dict) -> dict[str, tuple[str, dict]]:
    out = {name: ("gnet", spec) for name, spec in (config.get("gnet_models") or {}).items()}
    out.update({name: ("bnn", spec) for name, spec in (config.get("bnn_models") or {}).items()})
    return out


def retrain(names: list[str] | None = None, *, out: str | os.PathLike | None = None,
            config_path: str | os.PathLike | None = None, progress: bool = True) -> list[Path]:
    """Retrain the config's default models (``gnet_models`` and ``bnn_models``) into ``out``.

    ``out`` defaults to the committed directory ``data/models``. BNN students are trained after their
    teachers. Returns the written checkpoint paths.
    """
    from .pipeline import load_config

    if isinstance(names, str) or (names is not None and not isinstance(names, (list, tuple))):
        raise TypeError(f"names: expected a list of model names or None, got {names!r}")
    config = load_config(config_path)
    models = _config_models(config)
    if names:
        unknown = sorted(set(names) - set(models))
        if unknown:
            raise ValueError(f"names: unknown models {unknown}; the config defines {sorted(models)}")
    else:
        names = list(models)
    out = Path(out) if out is not None else committed_dir()
    # teachers first
    order = sorted(names, key=lambda n: models[n][1].get("teacher") is not None)
    written = []
    for name in order:
        kind, spec = models[name]
        if kind == "gnet":
            from .gnet.train import train_and_save

            written.append(train_and_save(name, spec, out / f"{name}.pt", progress=progress))
        else:
            from .bnn import train_and_save as bnn_train_and_save

            written.append(bnn_train_and_save(name, spec, out / f"{name}.pt", progress=progress))
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m gnetlab.checkpoints {retrain,verify,list}``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m gnetlab.checkpoints",
                                     description="Committed default checkpoints: list, verify, retrain.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("retrain", help="retrain the config's default models (into data/models by default)")
    p.add_argument("names", nargs="*", help="model names (default: every gnet_models and bnn_models entry)")
    p.add_argument("--out", default=None, help="output directory (default: data/models)")
    p.add_argument("--config", default=None, help="config file (default: config/config.yaml)")
    t = sub.add_parser("train", help="train one model from a JSON spec into OUT (the pipeline's train rules)")
    t.add_argument("kind", choices=["gnet", "bnn"])
    t.add_argument("name")
    t.add_argument("output")
    t.add_argument("--spec", required=True, help="JSON object: a gnet_models or bnn_models entry")
    sub.add_parser("verify", help="check every committed checkpoint against its sidecar's sha256")
    sub.add_parser("list", help="list the committed checkpoints with size and test accuracy")
    args = parser.parse_args(argv)
    if args.cmd == "retrain":
        from .pipeline import set_threads

        set_threads(1)
        try:
            for path in retrain(args.names or None, out=args.out, config_path=args.config):
                meta = read_sidecar(path)
                print(f"{path}: {meta['file_bytes']} bytes, test accuracy {meta['results']['test_acc']:.4f}")
        except (ValueError, CheckpointError) as exc:
            parser.error(str(exc))
        return 0
    if args.cmd == "train":
        from .pipeline import set_threads

        set_threads(1)
        try:
            spec = json.loads(args.spec)
        except json.JSONDecodeError as exc:
            parser.error(f"--spec: not valid JSON ({exc})")
        if not isinstance(spec, dict):
            parser.error(f"--spec: expected a JSON object (a gnet_models or bnn_models entry), got {args.spec!r}")
        try:  # a usage error for a malformed spec, before any data is loaded or trained
            if args.kind == "gnet":
                from .gnet.train import _check_spec

                _check_spec(spec)
            else:
                from .bnn import check_spec

                check_spec(spec)
        except (TypeError, ValueError) as exc:
            parser.error(f"--spec: {exc}")
        if Path(args.output).is_dir():
            parser.error(f"output: expected a checkpoint file path, got the directory {args.output!r}")
        # Always writes OUTPUT (a pipeline rule's output), never answers with a committed file.
        if args.kind == "gnet":
            from .gnet.train import ensure_trained

            ensure_trained(args.output, spec)
        else:
            from .bnn import train_and_save

            train_and_save(args.name, spec, args.output)
        meta = read_sidecar(args.output)
        print(f"{args.output}: test accuracy {meta['results']['test_acc']:.4f}")
        return 0
    files = sorted(committed_dir().glob("*.pt"))
    if not files:
        parser.error(f"no checkpoints in {committed_dir()}")
    for path in files:
        try:
            meta = verify(path)
        except CheckpointError as exc:
            print(f"FAILED {exc}")
            if args.cmd == "verify":
                return 1
            continue
        print(f"{path.name:36s} {meta['kind']:5s} {meta['file_bytes']:>9d} bytes  "
              f"test acc {meta['results']['test_acc']:.4f}  sha256 {meta['file_sha256'][:12]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
