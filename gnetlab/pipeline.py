"""Running the notebooks: the glue between Snakemake, papermill and nbval.

Command line (used by every Snakemake rule and by developers)::

    python -m gnetlab.pipeline run NOTEBOOK OUTPUT --parameters JSON --threads N
    python -m gnetlab.pipeline refresh NOTEBOOK [NOTEBOOK ...]
    python -m gnetlab.pipeline params NOTEBOOK

``run`` executes a notebook with papermill (parameters injected after the ``parameters`` cell) and
writes the executed copy to OUTPUT, also when a cell fails (so the traceback is readable there).
``refresh`` re-executes committed notebooks in place with their default parameters, progress bars off
and figure/result outputs sent to a temporary directory: this is how the outputs that nbval compares
are produced. ``params`` prints a notebook's default parameters as JSON.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import tempfile
from pathlib import Path

from . import paths
from .threads import set_threads, thread_env  # noqa: F401  (re-exported: notebooks call pipeline.set_threads)

__all__ = ["set_threads", "thread_env", "notebook_parameters", "run_notebook", "refresh_notebook", "load_config",
           "check_config"]

def notebook_parameters(path: str | os.PathLike) -> dict:
    """Default values of the cell tagged ``parameters`` (literal assignments only).

    Parameters
    ----------
    path : path-like
        A notebook.

    Returns
    -------
    dict
        Name -> value.
    """
    import nbformat

    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"notebook: expected a path to a .ipynb file, got {type(path).__name__}")
    if not Path(path).is_file():
        raise FileNotFoundError(f"notebook: {path} does not exist or is not a file")
    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:  # not JSON, not a notebook
        raise ValueError(f"notebook: {path} is not a readable Jupyter notebook ({type(exc).__name__}: {exc})") from exc
    cells = [c for c in nb.cells if c.cell_type == "code" and "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise ValueError(f"{path}: expected exactly one cell tagged 'parameters', found {len(cells)}")
    out = {}
    for node in ast.parse(cells[0].source).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError as exc:
                raise ValueError(f"{path}: parameter {node.targets[0].id} is not a literal") from exc
        elif not isinstance(node, ast.Expr):  # docstrings/comments are fine, logic is not
            raise ValueError(f"{path}: the parameters cell may only hold literal assignments")
    return out


# Top-level config keys whose entries are open-ended names (any model name may be added).
_OPEN_SECTIONS = {"gnet_models", "bnn_models"}


def check_config(config: dict, default: dict, *, source: str = "config") -> dict:
    """Refuse keys that the default config does not know.

    A misspelled section or parameter in an overlay would otherwise be merged and silently ignored.
    ``gnet_models`` and ``bnn_models`` may add new entries; a notebook section may only set that
    notebook's parameters.

    Parameters
    ----------
    config : dict
        The overlay (or the merged config) to check.
    default : dict
        The default config (``config/config.yaml``).
    source : str, default "config"
        Where ``config`` came from, for the error message.

    Returns
    -------
    dict
        ``config``, unchanged.
    """
    if not isinstance(config, dict):
        raise TypeError(f"{source}: expected a mapping of sections, got {type(config).__name__}")
    unknown = sorted(set(config) - set(default))
    if unknown:
        raise ValueError(f"{source}: unknown sections {unknown}; known sections: {sorted(default)}")
    for name, section in config.items():
        if name in _OPEN_SECTIONS or not isinstance(default[name], dict):
            continue
        if not isinstance(section, dict):
            raise TypeError(f"{source}: section {name!r} must be a mapping, got {type(section).__name__}")
        bad = sorted(set(section) - set(default[name]))
        if bad:
            raise ValueError(f"{source}: section {name!r} has unknown keys {bad}; "
                             f"known: {sorted(default[name])}")
    return config


def load_config(path: str | os.PathLike | None = None, overlay: str | os.PathLike | None = None) -> dict:
    """The default config, optionally deep-updated with an overlay.

    The overlay may only name sections and keys the default config has (:func:`check_config`).

    Parameters
    ----------
    path : path-like, optional
        Default ``config/config.yaml``.
    overlay : path-like, optional
        E.g. ``config/paper.yaml``.

    Returns
    -------
    dict
        The merged config.
    """
    import yaml

    base_path = Path(path or paths.CONFIG / "config.yaml")
    if not base_path.is_file():
        raise FileNotFoundError(f"config file {base_path} does not exist")
    base = yaml.safe_load(base_path.read_text())
    if overlay is not None:
        overlay = Path(overlay)
        if not overlay.is_file():
            raise FileNotFoundError(f"overlay config file {overlay} does not exist")
        new = yaml.safe_load(overlay.read_text()) or {}
        check_config(new, base, source=str(overlay))
        _deep_update(base, new)
    return base


def _deep_update(base: dict, new: dict) -> dict:
    for k, v in new.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            _deep_update(base[k], v)
        else:
            base[k] = v
    return base


def run_notebook(notebook: str | os.PathLike, output: str | os.PathLike, *, parameters: dict | None = None,
                 threads: int = 1, log_output: bool = True) -> Path:
    """Execute ``notebook`` with papermill, writing the executed copy to ``output``.

    Parameters not declared in the notebook's parameters cell are refused (a typo in a config file
    would otherwise be silently ignored).

    Parameters
    ----------
    notebook : path-like
        Source notebook.
    output : path-like
        Executed copy.
    parameters : dict, optional
        Values for the parameters cell.
    threads : int, default 1
        Thread cap (also exported to the kernel's environment).
    log_output : bool, default True
        Stream the notebook's output.

    Returns
    -------
    pathlib.Path
        ``output``.
    """
    import papermill as pm

    from ._validation import check_positive_int

    threads = check_positive_int(threads, "threads")
    if parameters is not None and not isinstance(parameters, dict):
        raise TypeError(f"parameters: expected a dict of notebook parameters, got {type(parameters).__name__}")
    notebook, output = Path(notebook), Path(output)
    parameters = dict(parameters or {})
    known = notebook_parameters(notebook)
    unknown = sorted(set(parameters) - set(known))
    if unknown:
        raise ValueError(f"{notebook}: unknown parameters {unknown}; the notebook declares {sorted(known)}")
    if "threads" in known:
        parameters["threads"] = int(threads)
    os.environ.update(thread_env(threads))
    output.parent.mkdir(parents=True, exist_ok=True)
    pm.execute_notebook(str(notebook), str(output), parameters=parameters, kernel_name="python3",
                        cwd=str(notebook.parent), log_output=log_output, progress_bar=False,
                        stdout_file=sys.stdout if log_output else None,
                        stderr_file=sys.stderr if log_output else None)
    return output


def refresh_notebook(notebook: str | os.PathLike, *, timeout: int = 1800, publish: bool = False) -> Path:
    """Re-execute a committed notebook in place with its defaults (the outputs nbval compares).

    Parameters
    ----------
    notebook : path-like
        The notebook.
    timeout : int, default 1800
        Seconds per cell.
    publish : bool, default False
        False sends its figures and CSVs to a temporary directory; True writes them to the repository's
        ``figures/`` and ``results/`` (or ``GNETLAB_FIGURES_DIR``/``GNETLAB_RESULTS_DIR``), so that the
        committed notebook, figure and tidy data come from one execution (then
        ``python -m gnetlab.reference update results/`` accepts the data as the new reference).

    Returns
    -------
    pathlib.Path
        ``notebook``.
    """
    import nbformat
    from nbclient import NotebookClient

    notebook = Path(notebook).resolve()
    nb = nbformat.read(str(notebook), as_version=4)
    saved = {k: os.environ.get(k) for k in ("GNETLAB_PROGRESS", "GNETLAB_FIGURES_DIR", "GNETLAB_RESULTS_DIR")}
    with tempfile.TemporaryDirectory(prefix="gnetlab-refresh-") as tmp:
        os.environ["GNETLAB_PROGRESS"] = "0"
        if publish:
            os.environ.update(GNETLAB_FIGURES_DIR=str(paths.FIGURES), GNETLAB_RESULTS_DIR=str(paths.RESULTS))
        else:
            os.environ.update(GNETLAB_FIGURES_DIR=f"{tmp}/figures", GNETLAB_RESULTS_DIR=f"{tmp}/results")
        try:
            client = NotebookClient(nb, kernel_name="python3", timeout=timeout, record_timing=False,
                                    resources={"metadata": {"path": str(notebook.parent)}})
            client.execute()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    from .io import atomic_path

    with atomic_path(notebook) as tmp_path:
        nbformat.write(nb, str(tmp_path))
    return notebook


def _check_notebook_arg(parser: argparse.ArgumentParser, path: str, name: str) -> None:
    """A usage error (exit 2, no traceback) for a notebook argument that is not a readable .ipynb file."""
    p = Path(path)
    if not p.is_file():
        parser.error(f"{name}: expected an existing .ipynb file, got {path!r} "
                     f"({'a directory' if p.is_dir() else 'no such file'})")
    if p.suffix != ".ipynb":
        parser.error(f"{name}: expected a .ipynb file, got {path!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gnetlab.pipeline", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_run = sub.add_parser("run", help="execute a notebook with papermill")
    p_run.add_argument("notebook")
    p_run.add_argument("output")
    p_run.add_argument("--parameters", default="{}", help="JSON object of parameters")
    p_run.add_argument("--threads", type=int, default=1)
    p_ref = sub.add_parser("refresh", help="re-execute committed notebooks in place with default parameters")
    p_ref.add_argument("notebooks", nargs="+")
    p_ref.add_argument("--publish", action="store_true",
                       help="write figures/CSVs to figures/ and results/ (not a temporary directory)")
    p_par = sub.add_parser("params", help="print a notebook's default parameters as JSON")
    p_par.add_argument("notebook")
    args = parser.parse_args(argv)
    if args.cmd == "run":
        try:
            params = json.loads(args.parameters)
        except json.JSONDecodeError as exc:
            parser.error(f"--parameters: expected a JSON object, got {args.parameters!r} ({exc})")
        if not isinstance(params, dict):
            parser.error(f"--parameters: expected a JSON object, got {args.parameters!r}")
        if args.threads < 1:
            parser.error(f"--threads: expected an integer >= 1, got {args.threads}")
        _check_notebook_arg(parser, args.notebook, "notebook")
        if Path(args.output).is_dir():
            parser.error(f"output: expected a path for the executed .ipynb, got the directory {args.output!r}")
        try:
            known = notebook_parameters(args.notebook)
        except ValueError as exc:
            parser.error(f"notebook: {exc}")
        unknown = sorted(set(params) - set(known))
        if unknown:
            parser.error(f"--parameters: unknown parameters {unknown}; {args.notebook} declares {sorted(known)}")
        run_notebook(args.notebook, args.output, parameters=params, threads=args.threads)
    elif args.cmd == "refresh":
        for nb in args.notebooks:
            _check_notebook_arg(parser, nb, "notebooks")
        for nb in args.notebooks:
            print(f"refreshing {nb}", flush=True)
            refresh_notebook(nb, publish=args.publish)
    else:
        _check_notebook_arg(parser, args.notebook, "notebook")
        try:
            print(json.dumps(notebook_parameters(args.notebook), indent=2))
        except ValueError as exc:
            parser.error(f"notebook: {exc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
