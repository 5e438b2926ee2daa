"""The default run's tidy data, committed, and the tolerances a new run is compared with.

Every figure and table writes its source data to ``results/<slug>.csv``. The default configuration's
CSVs are committed under ``data/reference/<slug>.csv``; ``data/reference/tolerances.yaml`` says, per
slug, which notebook makes it, which columns identify a row (compared exactly), which columns are
machine-dependent and never compared (timings), and the absolute/relative tolerance of every compared
numeric column. Text columns are compared exactly.

Why tolerances and not digits: the same code gives slightly different floats on different CPUs (BLAS
and torch pick other kernels and sum in another order), and an accuracy over 100 test images moves by a
whole point when one borderline image changes side. The tolerances are set from the differences seen
between CPU dispatch levels on one machine (see the README of ``data/reference``) and are tight enough
that a deliberate change of a plotted value fails.

The test suite compares each notebook's CSVs right after nbval ran it (``conftest.py``); after a
pipeline run::

    python -m gnetlab.reference compare results/          # every slug; exit 1 on a difference
    python -m gnetlab.reference update results/ SLUG ...  # accept new data as the reference
    python -m gnetlab.reference diff RUN_A/ RUN_B/         # largest differences between two runs
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import paths
from .io import write_csv_atomic

__all__ = ["ReferenceSpec", "reference_dir", "load_specs", "compare_frames", "compare_slug", "compare_dir",
           "differences", "update"]


def reference_dir() -> Path:
    """``<repository>/data/reference``: the committed CSVs and ``tolerances.yaml``."""
    return paths.DATA / "reference"


@dataclass
class ReferenceSpec:
    """How one slug's CSV is compared (one entry of ``tolerances.yaml``)."""

    slug: str
    notebook: str
    keys: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    default: dict = field(default_factory=lambda: {"atol": 0.0, "rtol": 1e-6})
    columns: dict = field(default_factory=dict)
    ignore_rows: dict = field(default_factory=dict)
    group_means: dict = field(default_factory=dict)
    why: str = ""

    def tolerance(self, column: str) -> tuple[float, float]:
        tol = {**self.default, **self.columns.get(column, {})}
        return float(tol.get("atol", 0.0)), float(tol.get("rtol", 0.0))


_ENTRY_KEYS = {"notebook", "keys", "exclude", "default", "columns", "ignore_rows", "group_means", "why"}


def load_specs(path: str | os.PathLike | None = None) -> dict[str, ReferenceSpec]:
    """Parse ``tolerances.yaml`` into ``{slug: ReferenceSpec}`` (unknown keys are an error)."""
    import yaml

    path = Path(path) if path is not None else reference_dir() / "tolerances.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the tolerance file of the committed reference data is missing")
    raw = yaml.safe_load(path.read_text()) or {}
    specs = {}
    for slug, entry in raw.items():
        if not isinstance(entry, dict) or "notebook" not in entry:
            raise ValueError(f"{path}: entry {slug!r} needs at least a 'notebook' key, got {entry!r}")
        unknown = set(entry) - _ENTRY_KEYS
        if unknown:
            raise ValueError(f"{path}: entry {slug!r} has unknown keys {sorted(unknown)}; allowed {sorted(_ENTRY_KEYS)}")
        gm = entry.get("group_means") or {}
        if gm and (set(gm) != {"by", "columns"} or not isinstance(gm["columns"], dict)):
            raise ValueError(f"{path}: {slug}.group_means: expected {{by: [...], columns: {{col: {{atol, rtol}}}}}}, "
                             f"got {gm!r}")
        for col, tol in [*(entry.get("columns") or {}).items(), *(gm.get("columns") or {}).items()]:
            if not isinstance(tol, dict) or set(tol) - {"atol", "rtol"}:
                raise ValueError(f"{path}: {slug}.columns.{col}: expected {{atol, rtol}}, got {tol!r}")
        specs[slug] = ReferenceSpec(slug=slug, notebook=entry["notebook"], keys=list(entry.get("keys") or []),
                                    exclude=list(entry.get("exclude") or []),
                                    default={"atol": 0.0, "rtol": 1e-6, **(entry.get("default") or {})},
                                    columns=dict(entry.get("columns") or {}),
                                    ignore_rows=dict(entry.get("ignore_rows") or {}),
                                    group_means=dict(entry.get("group_means") or {}), why=entry.get("why", ""))
    return specs


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _key_text(df: pd.DataFrame, keys: list[str]) -> pd.Series:
    if not keys:
        return pd.Series([f"row {i}" for i in range(len(df))], index=df.index)
    cols = [df[k].map(str).tolist() for k in keys]
    return pd.Series([", ".join(parts) for parts in zip(*cols)], index=df.index, dtype=object)


def _drop_ignored(df: pd.DataFrame, spec: ReferenceSpec) -> pd.DataFrame:
    for col, values in spec.ignore_rows.items():
        if col in df.columns:
            df = df[~df[col].map(str).isin([str(v) for v in values])]
    return df


def compare_frames(reference: pd.DataFrame, new: pd.DataFrame, spec: ReferenceSpec) -> list[str]:
    """Differences between ``new`` and ``reference`` beyond ``spec``'s tolerances (empty: equal).

    Rows are matched on ``spec.keys`` (exactly, as text) or, without keys, by position; numeric columns
    must satisfy ``|new - ref| <= atol + rtol * |ref|`` (NaN matches NaN only); other columns must be
    equal as text.
    """
    problems = []
    reference, new = _drop_ignored(reference, spec), _drop_ignored(new, spec)
    ref_cols = [c for c in reference.columns if c not in spec.exclude]
    new_cols = [c for c in new.columns if c not in spec.exclude]
    if set(ref_cols) != set(new_cols):
        return [f"{spec.slug}: columns differ: missing {sorted(set(ref_cols) - set(new_cols))}, "
                f"unexpected {sorted(set(new_cols) - set(ref_cols))}"]
    if len(reference) != len(new):
        return [f"{spec.slug}: {len(new)} rows, the reference has {len(reference)}"]
    missing_keys = [k for k in spec.keys if k not in reference.columns]
    if missing_keys:
        return [f"{spec.slug}: key columns {missing_keys} are not in the data"]
    ref, cur = reference.reset_index(drop=True), new.reset_index(drop=True)
    if spec.keys:
        rk, ck = _key_text(ref, spec.keys), _key_text(cur, spec.keys)
        if rk.duplicated().any():
            return [f"{spec.slug}: key columns {spec.keys} do not identify rows (duplicates: "
                    f"{sorted(set(rk[rk.duplicated()]))[:3]})"]
        if set(rk) != set(ck):
            return [f"{spec.slug}: rows differ: missing {sorted(set(rk) - set(ck))[:5]}, "
                    f"unexpected {sorted(set(ck) - set(rk))[:5]}"]
        cur = cur.set_index(ck).loc[rk.to_numpy()].reset_index(drop=True)
    labels = _key_text(ref, spec.keys)
    for col in ref_cols:
        if col in spec.keys:
            continue
        a, b = ref[col], cur[col]
        if _is_numeric(a) and _is_numeric(b):
            atol, rtol = spec.tolerance(col)
            x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
            both_nan = np.isnan(x) & np.isnan(y)
            bad = ~both_nan & ~(np.abs(y - x) <= atol + rtol * np.abs(x))
            if bad.any():
                diff = np.where(bad, np.abs(y - x), -np.inf)
                i = int(np.nanargmax(diff))
                problems.append(f"{spec.slug}.{col}: {int(bad.sum())} of {len(x)} values outside atol={atol:g}, "
                                f"rtol={rtol:g}; worst at [{labels[i]}]: {y[i]!r} vs reference {x[i]!r}")
        else:
            sa, sb = np.array(a.map(str).tolist(), dtype=object), np.array(b.map(str).tolist(), dtype=object)
            bad = sa != sb
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                problems.append(f"{spec.slug}.{col}: {int(bad.sum())} of {len(sa)} values differ; first at "
                                f"[{labels[i]}]: {sb[i]!r} vs reference {sa[i]!r}")
    if spec.group_means:
        problems += _compare_group_means(ref, cur, spec)
    return problems


def _compare_group_means(ref: pd.DataFrame, cur: pd.DataFrame, spec: ReferenceSpec) -> list[str]:
    """The plotted values are often means over test chunks or trials: compare those with their own
    (tighter) tolerance, as ``group_means: {by: [...], columns: {col: {atol, rtol}}}`` states."""
    by, problems = list(spec.group_means["by"]), []
    cols = list(spec.group_means["columns"])
    # rows are aligned already; group both by the reference's labels
    labels = _key_text(ref, by)
    ma = ref[cols].groupby(labels.to_numpy(), sort=True).mean()
    mb = cur[cols].set_axis(ref.index).groupby(labels.to_numpy(), sort=True).mean()
    for col, tol in spec.group_means["columns"].items():
        atol, rtol = float(tol.get("atol", 0.0)), float(tol.get("rtol", 0.0))
        x, y = ma[col].to_numpy(dtype=float), mb[col].to_numpy(dtype=float)
        ok = (np.abs(y - x) <= atol + rtol * np.abs(x)) | (np.isnan(x) & np.isnan(y))
        if not ok.all():
            i = int(np.nanargmax(np.where(ok, -np.inf, np.abs(y - x))))
            problems.append(f"{spec.slug}.{col} (mean over {', '.join(by)} groups): {int((~ok).sum())} of {len(x)} "
                            f"means outside atol={atol:g}, rtol={rtol:g}; worst at [{ma.index[i]}]: {float(y[i])!r} vs "
                            f"reference {float(x[i])!r}")
    return problems


def compare_slug(slug: str, results_dir: str | os.PathLike, *, specs: dict | None = None,
                 reference: str | os.PathLike | None = None) -> list[str]:
    """Compare ``results_dir/<slug>.csv`` with the committed ``<slug>.csv``; list the differences."""
    specs = specs if specs is not None else load_specs()
    if not isinstance(slug, str) or slug not in specs:
        raise ValueError(f"slug: {slug!r} has no entry in tolerances.yaml; known: {sorted(specs)}")
    ref_path = Path(reference or reference_dir()) / f"{slug}.csv"
    new_path = Path(results_dir) / f"{slug}.csv"
    if not ref_path.is_file():
        return [f"{slug}: no committed reference {ref_path} (create it with "
                f"`python -m gnetlab.reference update RESULTS_DIR {slug}`)"]
    if not new_path.is_file():
        return [f"{slug}: the run wrote no {new_path}"]
    return compare_frames(pd.read_csv(ref_path), pd.read_csv(new_path), specs[slug])


def compare_dir(results_dir: str | os.PathLike, slugs: list[str] | None = None) -> dict[str, list[str]]:
    """:func:`compare_slug` for every slug (or ``slugs``): ``{slug: problems}``."""
    if isinstance(slugs, str):
        raise TypeError(f"slugs: expected a list of slugs or None, got the string {slugs!r} (use [{slugs!r}])")
    specs = load_specs()
    return {slug: compare_slug(slug, results_dir, specs=specs) for slug in (slugs or sorted(specs))}


def differences(dir_a: str | os.PathLike, dir_b: str | os.PathLike, slugs: list[str] | None = None) -> pd.DataFrame:
    """Largest per-column difference between two runs' tidy data (how tolerances are calibrated).

    Rows are matched on each slug's keys; excluded columns and ignored rows are left out. Returns one row
    per (slug, numeric column): ``max_abs``, ``max_rel`` (relative to the first run), ``n_diff`` (values
    not bit-equal), ``atol``/``rtol`` (the current tolerance) and ``within`` (whether it holds).
    """
    specs = load_specs()
    rows = []
    for slug in slugs or sorted(specs):
        spec = specs[slug]
        pa, pb = Path(dir_a) / f"{slug}.csv", Path(dir_b) / f"{slug}.csv"
        if not (pa.is_file() and pb.is_file()):
            continue
        a, b = _drop_ignored(pd.read_csv(pa), spec), _drop_ignored(pd.read_csv(pb), spec)
        if spec.keys:
            ka, kb = _key_text(a, spec.keys), _key_text(b, spec.keys)
            if set(ka) != set(kb) or len(a) != len(b):
                rows.append({"slug": slug, "column": "(rows)", "max_abs": np.nan, "max_rel": np.nan,
                             "n_diff": abs(len(a) - len(b)), "atol": np.nan, "rtol": np.nan, "within": False})
                continue
            b = b.set_index(kb).loc[ka.to_numpy()].reset_index(drop=True)
            a = a.reset_index(drop=True)
        for col in a.columns:
            if col in spec.keys or col in spec.exclude or col not in b.columns:
                continue
            if not (_is_numeric(a[col]) and _is_numeric(b[col])):
                continue
            x, y = a[col].to_numpy(dtype=float), b[col].to_numpy(dtype=float)
            d = np.where(np.isnan(x) & np.isnan(y), 0.0, np.abs(y - x))
            rel = d / np.maximum(np.abs(x), 1e-300)
            atol, rtol = spec.tolerance(col)
            rows.append({"slug": slug, "column": col, "max_abs": float(np.nanmax(d)) if len(d) else 0.0,
                         "max_rel": float(np.nanmax(np.where(d > 0, rel, 0.0))) if len(d) else 0.0,
                         "n_diff": int((d > 0).sum()), "atol": atol, "rtol": rtol,
                         "within": bool(np.all((d <= atol + rtol * np.abs(x)) | (np.isnan(x) & np.isnan(y))))})
    return pd.DataFrame(rows)


def update(results_dir: str | os.PathLike, slugs: list[str] | None = None) -> list[Path]:
    """Copy ``results_dir/<slug>.csv`` over the committed reference (atomically), excluded columns dropped."""
    specs = load_specs()
    written = []
    if isinstance(slugs, str):
        raise TypeError(f"slugs: expected a list of slugs or None, got the string {slugs!r} (use [{slugs!r}])")
    for slug in slugs or sorted(specs):
        if not isinstance(slug, str) or slug not in specs:
            raise ValueError(f"slugs: {slug!r} has no entry in tolerances.yaml; add one first")
        src = Path(results_dir) / f"{slug}.csv"
        if not src.is_file():
            raise FileNotFoundError(f"{src}: run the pipeline (or the notebook) first")
        df = _drop_ignored(pd.read_csv(src), specs[slug])
        df = df[[c for c in df.columns if c not in specs[slug].exclude]]
        written.append(write_csv_atomic(df, reference_dir() / f"{slug}.csv", index=False))
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m gnetlab.reference {compare,update,diff} RESULTS_DIR [OTHER_DIR] [SLUG ...]``."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m gnetlab.reference", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["compare", "update", "diff"])
    parser.add_argument("results_dir")
    parser.add_argument("other_dir", nargs="?", help="diff: the second run's results directory")
    parser.add_argument("slugs", nargs="*")
    args = parser.parse_args(argv)
    if not Path(args.results_dir).is_dir():
        parser.error(f"results_dir: {args.results_dir} is not a directory")
    if args.command != "diff" and args.other_dir:  # compare/update: the second positional is a slug
        args.slugs, args.other_dir = [args.other_dir, *args.slugs], None
    if args.command == "diff":
        if not args.other_dir or not Path(args.other_dir).is_dir():
            parser.error("diff needs two results directories")
        with pd.option_context("display.width", 200, "display.max_rows", 500):
            print(differences(args.results_dir, args.other_dir, args.slugs or None).to_string(index=False))
        return 0
    try:
        if args.command == "update":
            for p in update(args.results_dir, args.slugs or None):
                print(f"wrote {p}")
            return 0
        out = compare_dir(args.results_dir, args.slugs or None)
    except (ValueError, FileNotFoundError) as exc:
        parser.error(str(exc))
    bad = 0
    for slug, problems in out.items():
        print(f"{'ok  ' if not problems else 'FAIL'} {slug}")
        for p in problems:
            print(f"     {p}")
        bad += bool(problems)
    print(f"{len(out) - bad} of {len(out)} tidy data files within tolerance of data/reference")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
