"""The project's trained default models (the ``gnet_models`` and ``bnn_models`` of the config): list them,
verify them against their sidecars, retrain them. The top layer over :mod:`gnetlab.checkpoints` (the file
format) and the model packages that train them.

Command line::

    python -m gnetlab.zoo list                      # committed checkpoints: kind, size, test accuracy
    python -m gnetlab.zoo verify                    # every file against its sidecar's sha256
    python -m gnetlab.zoo retrain [NAME ...]        # retrain the defaults into data/models (or --out DIR)
    python -m gnetlab.zoo train KIND NAME OUT --spec JSON   # one model (the pipeline's train rules)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .checkpoints import CheckpointError, committed_dir, read_sidecar, verify

__all__ = ["used_models", "retrain", "main"]


def _config_models(config: dict) -> dict[str, tuple[str, dict]]:
    out = {name: ("gnet", spec) for name, spec in (config.get("gnet_models") or {}).items()}
    out.update({name: ("bnn", spec) for name, spec in (config.get("bnn_models") or {}).items()})
    return out


def _entries(node):
    """Every ``{"name": ..., "spec": ...}`` model entry inside a config node (models, baselines, teachers)."""
    if isinstance(node, dict):
        if set(node) == {"name", "spec"} and isinstance(node["name"], str):
            yield node["name"]
            yield from _entries(node["spec"])
        else:
            for v in node.values():
                yield from _entries(v)
    elif isinstance(node, list):
        for v in node:
            yield from _entries(v)


def used_models(config: dict) -> list[str]:
    """The models that the config's figures use: named by a notebook section's ``models``/``baselines``
    entries (and their teachers), for ``gnet_datasets`` only the listed datasets'. These are the
    defaults committed under ``data/models/`` for ``config/config.yaml``.

    Parameters
    ----------
    config : dict
        A loaded config (``gnetlab.pipeline.load_config``).

    Returns
    -------
    list of str
        Model names, sorted.
    """
    names = set()
    for section, node in config.items():
        if section in ("gnet_models", "bnn_models") or not isinstance(node, dict):
            continue
        if section == "gnet_datasets" and isinstance(node.get("settings"), dict):
            node = {**node, "settings": {d: node["settings"][d] for d in node.get("datasets", [])
                                         if d in node["settings"]}}
        names.update(_entries(node))
    return sorted(names)


def retrain(names: list[str] | None = None, *, out: str | os.PathLike | None = None,
            config_path: str | os.PathLike | None = None, progress: bool = True) -> list[Path]:
    """Retrain the config's default models (``gnet_models`` and ``bnn_models``) into ``out``.

    ``out`` defaults to the committed directory ``data/models``; ``names`` to :func:`used_models` (the
    models the config's figures use). BNN students are trained after their teachers. Returns the written
    checkpoint paths.
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
        names = used_models(config)
    out = Path(out) if out is not None else committed_dir()
    # teachers first
    order = sorted(names, key=lambda n: models[n][1].get("teacher") is not None)
    written = []
    for name in order:
        kind, spec = models[name]
        if kind == "gnet" and "ehd_aware" in spec:  # a G-Net fine-tuned through its EHD embedding
            from .ehd.aware import train_and_save as aware_train_and_save

            written.append(aware_train_and_save(name, spec, out / f"{name}.pt", progress=progress))
        elif kind == "gnet":
            from .gnet.train import train_and_save

            written.append(train_and_save(name, spec, out / f"{name}.pt", progress=progress))
        else:
            from .bnn import train_and_save as bnn_train_and_save

            written.append(bnn_train_and_save(name, spec, out / f"{name}.pt", progress=progress))
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m gnetlab.checkpoints {retrain,verify,list}``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m gnetlab.zoo",
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
            if args.kind == "gnet" and "ehd_aware" in spec:
                from .ehd.aware import check_spec as aware_check_spec

                aware_check_spec(spec)
            elif args.kind == "gnet":
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

            trainer = None
            if "ehd_aware" in spec:
                from .ehd.aware import train_from_spec as trainer
            ensure_trained(args.output, spec, trainer=trainer)
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
