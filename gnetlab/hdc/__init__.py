"""Hyperdimensional computing (HDC) baselines of the G-Net comparison, on packed bits.

* :mod:`gnetlab.hdc.functional`: a torchhd-compatible core for binary hypervectors (``random``,
  ``level``, ``bind``, ``bundle``/``multiset``, ``permute``, ``hamming_similarity``, ``flip``) that works
  on :class:`gnetlab.bits.PackedBits` (XOR-popcount kernels of :mod:`gnetlab.kernels`) and on +-1 arrays
  alike.
* :mod:`gnetlab.hdc.learning`: :class:`Centroid` (bundling) and :func:`train_binary_linear`.
* :mod:`gnetlab.hdc.models`: five scikit-learn classifiers (``fit``,
  ``predict``, ``score``, ``encode``, ``predict_encoded``; ``hyperdim``, ``seed``):
  :class:`ClassicHDC`, :class:`RFFHDC`, :class:`OnlineHD`, :class:`LaplaceHDC`, :class:`HoloGN`.
* :mod:`gnetlab.hdc.encoders`: their encoders (record-based, XOR of shifted kernel levels, HoloGN,
  OnlineHD's nonlinear map) and :func:`~gnetlab.hdc.encoders.kernel_level_hypervectors`.
* :mod:`gnetlab.hdc.comparison`: the comparison protocol (contiguous test chunks, query flips) and the
  paper's values and table.

Every method classifies *binary* query hypervectors by Hamming similarity to binary class
hypervectors, so all of them and the EHD G-Net are compared at equal bits on the same bit kernels.
"""

from . import functional
from .encoders import kernel_level_hypervectors
from .comparison import (LABELS, METHODS, chunk_accuracy, comparison_table, evaluate, make_classifier,
                       paper_summary, summarize, table_latex, table_markdown)
from .functional import (bind, bundle, flip, hamming_distance, hamming_similarity, level, multiset, permute,
                         random)
from .models import RFFHDC, Centroid, ClassicHDC, HDCClassifier, HoloGN, LaplaceHDC, OnlineHD, train_binary_linear

__all__ = [
    "functional", "bind", "bundle", "multiset", "permute", "hamming_similarity", "hamming_distance", "flip",
    "random", "level", "kernel_level_hypervectors", "Centroid", "HDCClassifier", "ClassicHDC", "RFFHDC",
    "OnlineHD", "LaplaceHDC", "HoloGN", "train_binary_linear", "METHODS", "LABELS", "make_classifier",
    "chunk_accuracy", "evaluate", "summarize", "paper_summary", "comparison_table", "table_markdown",
    "table_latex",
]
