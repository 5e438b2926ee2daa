"""Atomic file writing: a reader (or a crashed run) never sees a half-written file.

Everything gnetlab writes goes through :func:`atomic_path`: the content is written to a temporary
file in the destination directory and renamed over the target only once complete (``os.replace`` is
atomic on POSIX and Windows within one filesystem).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator

__all__ = ["atomic_path", "write_text_atomic", "write_csv_atomic"]


def _default_mode() -> int:
    # mkstemp creates files readable by the owner only; give the final file the permissions a plain
    # open() would have given it (0o666 minus the umask), so outputs are shared like any other file.
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it to ``target``, on error delete it.

    Parameters
    ----------
    target : path-like
        Final file name (its directory is created).
    suffix : str, optional
        Suffix of the temporary file; defaults to the target's, so that writers which infer the format
        from the file name (matplotlib's ``savefig``, pandas) keep working.

    Yields
    ------
    pathlib.Path
        The temporary file to write.
    """
    if not isinstance(target, (str, os.PathLike)):
        raise TypeError(f"target: expected a path (str or os.PathLike), got {type(target).__name__}")
    target = Path(target)
    if target.is_dir():
        raise IsADirectoryError(f"target: {target} is a directory, expected a file path")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=suffix if suffix is not None else target.suffix, dir=target.parent
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, _default_mode())
        os.replace(tmp_path, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def write_text_atomic(target: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 text atomically.

    Parameters
    ----------
    target : path-like
        File to write.
    text : str
        Content.

    Returns
    -------
    pathlib.Path
        ``target``.
    """
    if not isinstance(text, str):
        raise TypeError(f"text: expected a str, got {type(text).__name__}")
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def write_csv_atomic(df, target: str | os.PathLike, **kwargs) -> Path:
    """Write a pandas DataFrame as CSV atomically.

    Parameters
    ----------
    df : pandas.DataFrame
        Table to write.
    target : path-like
        File to write.
    **kwargs
        Options of ``DataFrame.to_csv`` (``index=False`` unless given).

    Returns
    -------
    pathlib.Path
        ``target``.
    """
    if not hasattr(df, "to_csv"):
        raise TypeError(f"df: expected a pandas DataFrame, got {type(df).__name__}")
    kwargs.setdefault("index", False)
    with atomic_path(target) as tmp:
        df.to_csv(tmp, **kwargs)
    return Path(target)
