"""A parser for the IDX format of MNIST and Fashion-MNIST (optionally gzip-compressed).

Format (big-endian): two zero bytes, a type code, the number of dimensions D, then D uint32 sizes,
then the data in C order. We check every part of the header and that the payload has exactly the
announced number of bytes, so a truncated or padded download is an error, not a silently short array.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

__all__ = ["read_idx", "write_idx", "IDXFormatError"]

_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class IDXFormatError(ValueError):
    """The bytes are not a well-formed IDX file."""


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as fh:
        head = fh.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    try:
        with opener(path, "rb") as fh:
            return fh.read()
    except (OSError, EOFError) as exc:  # corrupt gzip stream
        raise IDXFormatError(f"{path}: cannot decompress ({exc})") from exc


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (plain or .gz) into a numpy array of its native dtype and shape."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"IDX file not found: {path}")
    if not path.is_file():
        raise IDXFormatError(f"{path}: is a directory (or another non-file), expected an IDX file; "
                             "delete it and fetch again")
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise IDXFormatError(f"{path}: {len(raw)} bytes, too short for an IDX header")
    if raw[0] != 0 or raw[1] != 0:
        raise IDXFormatError(f"{path}: bad magic number (first two bytes {raw[0]:#04x} {raw[1]:#04x}, expected 0x00 0x00)")
    code, ndim = raw[2], raw[3]
    if code not in _TYPES:
        raise IDXFormatError(f"{path}: unknown data type code {code:#04x}")
    if ndim == 0:
        raise IDXFormatError(f"{path}: zero dimensions")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXFormatError(f"{path}: header announces {ndim} dimensions but the file ends after {len(raw)} bytes")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = _TYPES[code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    payload = len(raw) - header
    if payload != expected:
        raise IDXFormatError(
            f"{path}: header says shape {shape} ({expected} bytes of {dtype}) but the payload has {payload} bytes"
            " (truncated or corrupt download?)"
        )
    arr = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=True)


def write_idx(path: str | os.PathLike, array: np.ndarray, *, compress: bool | None = None) -> Path:
    """Write ``array`` as IDX (gzip if ``compress`` or the name ends in .gz). Used by tests and tools."""
    path = Path(path)
    array = np.asarray(array)
    code = next((c for c, dt in _TYPES.items() if dt.newbyteorder("=") == array.dtype.newbyteorder("=")), None)
    if code is None:
        raise TypeError(f"array: dtype {array.dtype} has no IDX type code")
    if array.ndim == 0:
        raise ValueError("array: expected at least one dimension, got a 0-D value (IDX needs a shape)")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    body = array.astype(_TYPES[code], copy=False).tobytes()
    data = header + body
    if compress or (compress is None and path.suffix == ".gz"):
        data = gzip.compress(data, mtime=0)
    from ..io import atomic_path

    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path
