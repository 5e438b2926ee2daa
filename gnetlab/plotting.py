"""One house style for every figure, and one function that saves a figure with its source data.

``save_figure(fig, slug, data)`` writes ``figures/<slug>.png`` (for the README and the report),
``figures/<slug>.pdf`` (vector, for papers) and ``results/<slug>.csv`` (the tidy data the figure was
drawn from), each atomically. PDF and PNG metadata carry no timestamps, so reruns give identical files.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import matplotlib

from . import paths
from .io import atomic_path, write_csv_atomic

__all__ = ["STYLE", "COLORS", "PAPER_STYLE", "style", "save_figure", "paper_label", "show", "machine_note"]

# Colour-blind-safe palette (Okabe & Ito), assigned by meaning so the same method keeps its colour
# across figures.
COLORS = {
    "gaussian": "#0072B2",
    "rademacher": "#D55E00",
    "one_bit": "#D55E00",
    "float": "#000000",
    "theory": "#009E73",
    "bound": "#7F7F7F",
    "rasu": "#0072B2",
    "tasu": "#CC79A7",
    "paper": "#7F7F7F",
    "extra": ["#E69F00", "#56B4E9", "#F0E442", "#009E73", "#CC79A7", "#000000"],
}

# The paper's values are always drawn the same way: open grey markers, dashed, labelled "paper".
PAPER_STYLE = dict(color=COLORS["paper"], marker="o", markerfacecolor="none", linestyle="--", linewidth=1.0)

STYLE = {
    "figure.dpi": 110,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "font.size": 10,
    "axes.titlesize": 10.5,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8.5,
    "lines.linewidth": 1.6,
    "lines.markersize": 4.5,
    "pdf.fonttype": 42,  # embed TrueType: text stays editable in vector editors
    "svg.hashsalt": "gnetlab",
}


def paper_label(text: str = "") -> str:
    """Legend label for a paper reference curve, always marked as the paper's value.

    Parameters
    ----------
    text : str, default ""
        What the curve is.

    Returns
    -------
    str
        ``"paper: <text>"`` (``"paper (reported)"`` without text).
    """
    return f"paper: {text}" if text else "paper (reported)"


def machine_note(fig, threads: int) -> str:
    """Label a timing figure with the machine that measured it (CPU model, SIMD level, thread count).

    Speed depends on the machine, so every timing figure says where it was measured, in its lower right
    corner.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The timing figure.
    threads : int
        Threads the measurement used (capped at this machine's CPU count).

    Returns
    -------
    str
        The label written.
    """
    import os

    from .machine import machine_label

    from ._validation import check_positive_int

    threads = check_positive_int(threads, "threads")
    if not hasattr(fig, "supxlabel"):
        raise TypeError(f"fig: expected a matplotlib Figure, got {type(fig).__name__}")
    label = f"measured on {machine_label(min(threads, os.cpu_count() or 1))}"
    # as the figure's supxlabel, so that constrained layout reserves room for it below the axes
    fig.supxlabel(label, x=0.995, ha="right", fontsize=7.5, color="#555555")
    return label


@contextmanager
def style() -> Iterator[None]:
    """Context manager applying the house style (use around figure creation).

    Yields
    ------
    None
    """
    with matplotlib.rc_context(STYLE):
        yield


def show(fig, dpi: int = 90) -> None:
    """Display ``fig`` inline in a notebook as a PNG (no figure repr in the text output that nbval
    compares); outside IPython this does nothing.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    dpi : int, default 90
        Resolution of the PNG.
    """
    try:
        from IPython import get_ipython
        from IPython.display import Image, display
    except ImportError:  # pragma: no cover
        return
    if get_ipython() is None:
        return
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    display(Image(data=buf.getvalue(), format="png"))


def save_figure(fig, slug: str, data=None, *, figures_dir: Path | None = None,
                results_dir: Path | None = None, close: bool = True) -> dict[str, Path]:
    """Save ``fig`` as ``<slug>.png`` and ``<slug>.pdf`` and ``data`` (a DataFrame) as ``<slug>.csv``.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    slug : str
        File stem.
    data : pandas.DataFrame, optional
        Tidy source data of the figure.
    figures_dir, results_dir : pathlib.Path, optional
        Default :data:`gnetlab.paths.FIGURES` and :data:`gnetlab.paths.RESULTS`.
    close : bool, default True
        Close the figure afterwards (notebooks display it first, then save; closing keeps nbval
        outputs free of figure reprs).

    Returns
    -------
    dict of str to pathlib.Path
        ``"png"``, ``"pdf"`` (and ``"csv"`` with ``data``) -> the written file.
    """
    if not hasattr(fig, "savefig"):
        raise TypeError(f"fig: expected a matplotlib Figure, got {type(fig).__name__}")
    if not isinstance(slug, str):
        raise TypeError(f"slug: expected a plain file stem (str) like 'grothendieck_identity', got {slug!r}")
    if data is not None and not hasattr(data, "to_csv"):
        raise TypeError(f"data: expected a pandas DataFrame (the figure's tidy source data) or None, got "
                        f"{type(data).__name__}")
    if not slug or any(c in slug for c in "/\\ "):
        raise ValueError(f"slug: expected a plain file stem like 'grothendieck_identity', got {slug!r}")
    figures_dir = Path(figures_dir) if figures_dir is not None else paths.FIGURES
    results_dir = Path(results_dir) if results_dir is not None else paths.RESULTS
    out: dict[str, Path] = {}
    for ext, meta in (("png", {"Software": None}), ("pdf", {"CreationDate": None, "Producer": None})):
        target = figures_dir / f"{slug}.{ext}"
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=ext, metadata=meta)
        out[ext] = target
    if data is not None:
        out["csv"] = write_csv_atomic(data, results_dir / f"{slug}.csv")
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return out
