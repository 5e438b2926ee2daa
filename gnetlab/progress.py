"""Progress bars for long loops (tqdm on stderr).

Switched off when ``GNETLAB_PROGRESS=0`` (set by the nbval test run and by the notebook refresh, so
committed notebook outputs contain no progress bars) or when ``disable=True`` is passed.
"""

from __future__ import annotations

import os
from typing import Iterable, TypeVar

from tqdm import tqdm

T = TypeVar("T")

__all__ = ["progress", "progress_enabled"]


def progress_enabled() -> bool:
    return os.environ.get("GNETLAB_PROGRESS", "1").strip().lower() not in {"0", "false", "no", "off"}


def progress(iterable: Iterable[T] | None = None, *, desc: str | None = None, total: int | None = None,
             disable: bool = False, **kwargs) -> tqdm:
    """A tqdm bar over ``iterable`` (or a manual bar when ``iterable`` is None)."""
    return tqdm(iterable, desc=desc, total=total, disable=disable or not progress_enabled(),
                dynamic_ncols=True, mininterval=0.5, **kwargs)
