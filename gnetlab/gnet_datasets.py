"""The G-Net paper's per-dataset protocol beyond MNIST: per-layer hyperdimensions from ratios, the
paper's reference values per dataset, the summary table, and projected run times.

* :func:`hyperdims_from_ratios`: the paper's rule ``N_l = round_hyperdim(ratio_l * n_l)`` for a grid
  of per-layer ratio vectors (``n_l`` from :func:`gnetlab.ehd.layer_sizes`).
* :func:`paper_ratios`: the ratio vectors that reproduce the per-layer N the paper published for a
  dataset (its ``N_per_layer`` divided by the sizes of the paper's architecture for that dataset).
* :func:`paper_reference`: the paper's float accuracy, its EHD G-Net accuracy at its smallest and
  largest mean N, and its best HDC baseline at its largest N (all the paper's values).
* :func:`datasets_table` / :func:`table_markdown` / :func:`table_latex`: ours beside the paper's.
* :func:`model_work`, :func:`projected_seconds`: the work of a model (multiply-accumulates per input,
  float and EHD) so a measured rate on the default run projects the paper-scale run time.
"""

from __future__ import annotations

import math
import numbers
from typing import Sequence

import numpy as np
import pandas as pd

__all__ = ["SPLIT_SIZES", "hyperdims_from_ratios", "paper_ratios", "paper_reference", "datasets_table", "table_markdown",
           "table_latex", "model_work", "projected_seconds", "format_seconds", "training_seconds_per_sample"]

# (train, test) sizes of each dataset's official split (train includes the validation samples the
# training loop holds out); used to project paper-scale run times without downloading the data.
SPLIT_SIZES = {"mnist": (60000, 10000), "fashion_mnist": (60000, 10000), "cifar10": (50000, 10000),
               "epilepsy": (137, 138), "wss": (7352, 2947), "forda": (3601, 1320), "mnist5k": (4000, 1000),
               "digits": (1437, 360), "basic_motions": (40, 40)}


def hyperdims_from_ratios(model, ratios: Sequence) -> list[list[int]]:
    """One per-layer N list per entry of ``ratios`` (each a number or one ratio per arcsine layer plus
    the classifier), by :func:`gnetlab.ehd.resolve_hyperdims` (official rounding to multiples of 1000)."""
    from .ehd import resolve_hyperdims

    if isinstance(ratios, (str, bytes)) or not isinstance(ratios, Sequence) or len(ratios) == 0:
        raise ValueError(f"ratios: expected a non-empty list of ratio vectors, got {ratios!r}")
    return [resolve_hyperdims(model, ratio=r) for r in ratios]


def _paper_ehd(paper_dataset: str, embedding: str) -> pd.DataFrame:
    from .datasets.paper import gnet_official_results

    return gnet_official_results(experiment="hdc_comparison", dataset=paper_dataset, method="ehd_gnet",
                                 embedding=embedding)


def paper_ratios(paper_dataset: str, *, embedding: str = "gaussian") -> list[list[float]]:
    """Per-layer ratio vectors of the paper's hdc_comparison grid for ``paper_dataset``: its published
    N_per_layer divided by the layer sizes of the paper's architecture (:mod:`gnetlab.gnet.models`),
    rounded to 6 significant digits (``round_hyperdim`` maps them back to the published N)."""
    from .ehd import layer_sizes
    from .gnet import build_model

    df = _paper_ehd(paper_dataset, embedding)
    sizes = layer_sizes(build_model(paper_dataset))
    out = []
    for _, g in df.groupby("sweep_index", sort=True):
        Ns = [int(v) for v in str(g["N_per_layer"].iloc[0]).split(";")]
        if len(Ns) != len(sizes):
            raise ValueError(f"paper_dataset: {paper_dataset!r} publishes {len(Ns)} per-layer N but its architecture "
                             f"has {len(sizes)} (arcsine layers + classifier)")
        out.append([float(f"{N / n:.6g}") for N, n in zip(Ns, sizes)])
    return out


def paper_reference(paper_dataset: str) -> dict:
    """The paper's values for ``paper_dataset`` (all percent): ``float`` (RASU float G-Net), EHD G-Net
    at its smallest and largest mean N for both embeddings, and the best HDC baseline at its largest N."""
    from .gnet import PAPER_FLOAT_ACCURACY
    from .hdc import LABELS, paper_summary

    out: dict = {"paper_dataset": paper_dataset, "paper_float": PAPER_FLOAT_ACCURACY.get((paper_dataset, "rasu"), np.nan)}
    for emb in ("gaussian", "rademacher"):
        s = _paper_ehd(paper_dataset, emb).groupby("sweep_value")["accuracy"].mean().sort_index()
        out["paper_N_min"], out["paper_N_max"] = float(s.index[0]), float(s.index[-1])
        out[f"paper_ehd_{emb}_min"], out[f"paper_ehd_{emb}_max"] = float(s.iloc[0]), float(s.iloc[-1])
    base = paper_summary("hdc_comparison", paper_dataset, embedding="gaussian")
    base = base[base["method"] != "ehd_gnet"]
    top = base[base["sweep_value"] == base["sweep_value"].max()].sort_values("mean", ascending=False).iloc[0]
    out["paper_best_hdc"] = float(top["mean"])
    out["paper_best_hdc_method"] = LABELS.get(top["method"], top["method"])
    return out


def datasets_table(rows: Sequence[dict]) -> pd.DataFrame:
    """One row per dataset from dicts with our values (``dataset``, ``scale``, ``float``, ``N_min``,
    ``N_max``, ``ehd_gaussian_min``, ``ehd_gaussian_max``, ``ehd_rademacher_min``, ``ehd_rademacher_max``,
    ``best_hdc``, ``best_hdc_method``) and, where the paper has the dataset, ``paper_dataset`` plus the
    keys of :func:`paper_reference`; missing paper values are NaN."""
    cols = ["dataset", "scale", "float", "N_min", "N_max", "ehd_gaussian_min", "ehd_gaussian_max", "ehd_rademacher_min",
            "ehd_rademacher_max", "best_hdc", "best_hdc_method", "paper_dataset", "paper_float", "paper_N_min",
            "paper_N_max", "paper_ehd_gaussian_min", "paper_ehd_gaussian_max", "paper_ehd_rademacher_min",
            "paper_ehd_rademacher_max", "paper_best_hdc", "paper_best_hdc_method"]
    df = pd.DataFrame(list(rows))
    missing = [c for c in cols[:11] if c not in df.columns]
    if missing:
        raise ValueError(f"rows: missing keys {missing}")
    for c in cols[11:]:
        if c not in df.columns:
            df[c] = np.nan
    return df[cols]


def _num(v, fmt="{:.2f}") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return fmt.format(v)


def _cells(r) -> list[str]:
    def at(acc, N):
        return "-" if pd.isna(acc) else f"{acc:.2f} (N={N:,.0f})"

    best = "-" if pd.isna(r["best_hdc"]) else f"{r['best_hdc']:.2f} ({r['best_hdc_method']})"
    pbest = "-" if pd.isna(r["paper_best_hdc"]) else f"{r['paper_best_hdc']:.2f} ({r['paper_best_hdc_method']})"
    return [str(r["dataset"]), str(r["scale"]), _num(r["float"]), at(r["ehd_gaussian_min"], r["N_min"]),
            at(r["ehd_gaussian_max"], r["N_max"]), best,
            "-" if pd.isna(r["paper_dataset"]) else str(r["paper_dataset"]), _num(r["paper_float"]),
            at(r["paper_ehd_gaussian_min"], r["paper_N_min"]), at(r["paper_ehd_gaussian_max"], r["paper_N_max"]), pbest]


_HEAD = ["dataset", "scale", "float (%)", "EHD, smallest N", "EHD, largest N", "best HDC at largest N",
         "paper dataset", "paper: float", "paper: EHD, smallest N", "paper: EHD, largest N", "paper: best HDC"]


def table_markdown(table: pd.DataFrame, *, caption: str | None = None) -> str:
    """GitHub Markdown of :func:`datasets_table` (EHD with Gaussian G; N = mean over layers)."""
    lines = ([caption, ""] if caption else []) + ["| " + " | ".join(_HEAD) + " |",
                                                  "|" + "|".join(["---", "---"] + ["---:"] * (len(_HEAD) - 2)) + "|"]
    lines += ["| " + " | ".join(_cells(r)) + " |" for _, r in table.iterrows()]
    return "\n".join(lines) + "\n"


def _tex(s: str) -> str:
    return (s.replace("\\", "\\textbackslash{}").replace("&", "\\&").replace("%", "\\%").replace("_", "\\_")
            .replace("#", "\\#"))


def table_latex(table: pd.DataFrame, *, caption: str | None = None, label: str | None = None) -> str:
    """A LaTeX ``table*`` (booktabs) of :func:`datasets_table`."""
    out = ["\\begin{table*}[t]", "\\centering", "\\small"]
    if caption:
        out.append(f"\\caption{{{_tex(caption)}}}")
    if label:
        out.append(f"\\label{{{label}}}")
    out += ["\\begin{tabular}{ll" + "r" * 4 + "l" + "r" * 4 + "}", "\\toprule", " & ".join(_tex(h) for h in _HEAD) + " \\\\",
            "\\midrule"]
    out += [" & ".join(_tex(c).replace(",", "{,}") for c in _cells(r)) + " \\\\" for _, r in table.iterrows()]
    out += ["\\bottomrule", "\\end{tabular}", "\\end{table*}"]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------------------------------
# Work and projected time


def model_work(model, hyperdims: Sequence[int] | None = None) -> dict:
    """Multiply-accumulates per input of a G-Net: ``float`` (the arcsine layers' products plus the
    output layer) and, given one N per arcsine layer plus the classifier, ``ehd`` (the data-side
    projections sign(G patch) and the N-bit products with the stored weight embeddings:
    sum_l positions_l * N_l * (fan_in_l + out_l), plus N * (m + C) for the classifier)."""
    import torch

    from .gnet.layers import ArcsineDense

    shapes = []
    hooks = [layer.register_forward_hook(lambda mod, inp, out: shapes.append(tuple(out.shape[2:])))
             for layer in model.layers]
    try:
        was = model.training
        model.eval()
        with torch.no_grad():
            model(torch.zeros((2, *model.input_shape)))
        model.train(was)
    finally:
        for h in hooks:
            h.remove()
    flt, ehd = 0, 0
    if hyperdims is not None and len(hyperdims) != len(model.layers) + 1:
        raise ValueError(f"hyperdims: expected {len(model.layers) + 1} values, got {len(hyperdims)}")
    for i, (layer, shape) in enumerate(zip(model.layers, shapes)):
        positions = int(np.prod(shape)) if not isinstance(layer, ArcsineDense) else 1
        fan_in = int(layer.weight[0].numel())
        out = int(layer.weight.shape[0])
        flt += positions * fan_in * out
        if hyperdims is not None:
            ehd += positions * int(hyperdims[i]) * (fan_in + out)
    m, C = model.output.in_features, model.n_classes
    flt += m * C
    if hyperdims is not None:
        ehd += int(hyperdims[-1]) * (m + C)
    return {"float": flt, "ehd": ehd}


def projected_seconds(measured_seconds: float, measured_work: float, target_work: float) -> float:
    """``measured_seconds / measured_work * target_work``: the run time of ``target_work`` at the rate
    measured on this machine (work in any consistent unit, e.g. MACs x inputs x epochs)."""
    for name, v in (("measured_seconds", measured_seconds), ("measured_work", measured_work),
                    ("target_work", target_work)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v < 0:
            raise ValueError(f"{name}: expected a finite number >= 0, got {v!r}")
    if measured_work == 0:
        raise ValueError("measured_work: must be > 0 to define a rate")
    return float(measured_seconds) / float(measured_work) * float(target_work)


def format_seconds(s: float) -> str:
    """``"42 s"``, ``"7.5 min"``, ``"3.2 h"`` or ``"4.1 days"``."""
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.1f} min"
    if s < 172800:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} days"


def training_seconds_per_sample(model, X, y, *, batch_size: int, n_batches: int = 3, seed: int) -> float:
    """Measured wall seconds of one training step (forward, backward, Adam update) per sample, on a copy
    of ``model`` and ``n_batches`` batches of ``(X, y)`` (one warm-up batch first, not counted); one torch
    thread, as :func:`gnetlab.gnet.train`."""
    import copy
    import time

    import torch
    import torch.nn.functional as F

    from ._validation import check_positive_int
    from .gnet.models import as_input
    from .gnet.train import single_thread

    batch_size = check_positive_int(batch_size, "batch_size", minimum=2)
    n_batches = check_positive_int(n_batches, "n_batches")
    m = copy.deepcopy(model)
    m.train()
    Xt = as_input(X, m.input_shape)
    yt = torch.from_numpy(np.asarray(y, dtype=np.int64))
    gen = torch.Generator().manual_seed(int(seed))
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    state = torch.random.get_rng_state()
    torch.manual_seed(int(seed))
    try:
        with single_thread():
            total, n = 0.0, 0
            for b in range(n_batches + 1):
                idx = torch.randint(0, Xt.shape[0], (batch_size,), generator=gen)
                t0 = time.perf_counter()
                loss = F.cross_entropy(m(Xt[idx]), yt[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if b:
                    total += time.perf_counter() - t0
                    n += batch_size
    finally:
        torch.random.set_rng_state(state)
    return total / n
