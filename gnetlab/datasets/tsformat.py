"""Parsers for the time-series classification archives' text formats: ``.ts`` (sktime/aeon) and ``.arff``.

Both return a :class:`Series`: ``X`` float32 ``(n, C, L)`` (n series, C channels, L time points),
``labels`` (the class label of each series, as written in the file) and ``classes`` (the class labels in
the order the header declares them; :meth:`Series.codes` maps labels to ``0..n_classes-1`` in that
order). Only what the G-Net datasets need is accepted, and everything else is refused with the file,
the line and what was wrong:

- equal-length series (every channel of every series has the header's length), no missing values
  (``?`` or ``NaN``), no time stamps, a class label on every line;
- ``.ts``: the header keys ``@problemName``, ``@timeStamps``, ``@missing``, ``@univariate``,
  ``@dimensions``, ``@equalLength``, ``@seriesLength``, ``@classLabel`` (plus ``@targetLabel`` false),
  then ``@data``; each data line is ``c1v1,c1v2,...:c2v1,...:label`` (channels separated by ``:``);
- ``.arff``: univariate files (one ``numeric`` attribute per time point, then a nominal class) and the
  UEA multivariate layout (one ``relational`` attribute whose value is a quoted string of C rows
  separated by ``\\n``, then a nominal class).

Nothing is unpickled or evaluated: every value goes through ``float``. Comment lines start with ``#``
(``.ts``) or ``%`` (``.arff``).
"""

from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["Series", "TSFormatError", "read_ts", "read_arff", "write_ts"]


class TSFormatError(ValueError):
    """The text is not a well-formed ``.ts`` / ``.arff`` file of equal-length labelled series."""


@dataclass(frozen=True)
class Series:
    """Parsed series: ``X`` float32 (n, C, L), ``labels`` (n,) str, ``classes`` in declared order."""

    X: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    name: str

    def codes(self) -> np.ndarray:
        """int64 class indices ``(n,)``: position of each label in :attr:`classes`."""
        index = {c: i for i, c in enumerate(self.classes)}
        return np.array([index[str(v)] for v in self.labels], dtype=np.int64)


def _text(source, what: str) -> tuple[str, str]:
    """(text, name for messages) from a path, bytes or a text/binary file object."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"{what} file not found: {path}")
        raw, name = path.read_bytes(), str(path)
    elif isinstance(source, (bytes, bytearray)):
        raw, name = bytes(source), f"<{what} bytes>"
    elif hasattr(source, "read"):
        raw, name = source.read(), getattr(source, "name", f"<{what} stream>")
        if isinstance(raw, str):
            return raw, str(name)
    else:
        raise TypeError(f"source: expected a path, bytes or a file object, got {type(source).__name__}")
    try:
        return raw.decode("utf-8-sig"), str(name)
    except UnicodeDecodeError as exc:
        raise TSFormatError(f"{name}: not UTF-8 text ({exc}); is it a zip or another binary file?") from exc


def _floats(items: list[str], where: str) -> list[float]:
    out = []
    for s in items:
        s = s.strip()
        if s == "?" or s.lower() == "nan":
            raise TSFormatError(f"{where}: missing value {s!r} (series with missing values are not supported)")
        try:
            v = float(s)
        except ValueError:
            raise TSFormatError(f"{where}: {s!r} is not a number") from None
        if not math.isfinite(v):
            raise TSFormatError(f"{where}: non-finite value {s!r}")
        out.append(v)
    return out


def _bool(value: str, key: str, where: str) -> bool:
    v = value.strip().lower()
    if v not in ("true", "false"):
        raise TSFormatError(f"{where}: {key} must be true or false, got {value!r}")
    return v == "true"


# --------------------------------------------------------------------------------------------------
# .ts


_TS_KEYS = {"@problemname", "@timestamps", "@missing", "@univariate", "@dimensions", "@dimension", "@equallength",
            "@serieslength", "@classlabel", "@targetlabel", "@data"}


def read_ts(source) -> Series:
    """Parse a ``.ts`` file (path, bytes or file object) of equal-length, labelled, possibly multivariate
    series. Returns a :class:`Series` with ``X`` of shape ``(n, C, L)``."""
    text, name = _text(source, ".ts")
    header: dict[str, str] = {}
    classes: tuple[str, ...] | None = None
    rows: list[np.ndarray] = []
    labels: list[str] = []
    in_data = False
    n_channels = length = None
    for lineno, line in enumerate(io.StringIO(text), start=1):
        line = line.strip()
        where = f"{name}:{lineno}"
        if not line or line.startswith("#"):
            continue
        if not in_data:
            if not line.startswith("@"):
                raise TSFormatError(f"{where}: expected a header line starting with '@' before @data, got {line[:60]!r}")
            key, _, value = line.partition(" ")
            key = key.lower()
            if key not in _TS_KEYS:
                raise TSFormatError(f"{where}: unknown header key {key!r}")
            if key == "@data":
                in_data = True
                if classes is None:
                    raise TSFormatError(f"{where}: @data before '@classLabel true <labels>' (unlabelled series "
                                        "are not supported)")
                if header.get("@timestamps", "false").strip().lower() == "true":
                    raise TSFormatError(f"{where}: @timeStamps true is not supported")
                if header.get("@equallength", "true").strip().lower() != "true":
                    raise TSFormatError(f"{where}: @equalLength false: only equal-length series are supported")
                if "@serieslength" in header:
                    try:
                        length = int(header["@serieslength"])
                    except ValueError:
                        raise TSFormatError(f"{name}: @seriesLength {header['@serieslength']!r} is not an integer") from None
                dims = header.get("@dimensions", header.get("@dimension"))
                if dims is not None:
                    try:
                        n_channels = int(dims)
                    except ValueError:
                        raise TSFormatError(f"{name}: @dimensions {dims!r} is not an integer") from None
                elif header.get("@univariate", "").strip().lower() == "true":
                    n_channels = 1
                continue
            if key == "@classlabel":
                parts = value.split()
                if not parts or not _bool(parts[0], "@classLabel", where):
                    raise TSFormatError(f"{where}: '@classLabel false': unlabelled series are not supported")
                if len(parts) < 3:
                    raise TSFormatError(f"{where}: @classLabel true needs at least two class labels, got {parts[1:]}")
                if len(set(parts[1:])) != len(parts) - 1:
                    raise TSFormatError(f"{where}: @classLabel repeats a label: {parts[1:]}")
                classes = tuple(parts[1:])
            elif key in ("@timestamps", "@missing", "@univariate", "@equallength", "@targetlabel"):
                _bool(value, key, where)
                if key == "@targetlabel" and value.strip().lower() == "true":
                    raise TSFormatError(f"{where}: regression targets (@targetLabel true) are not supported")
            header[key] = value.strip()
            continue
        fields = line.split(":")
        if len(fields) < 2:
            raise TSFormatError(f"{where}: expected 'channel:...:label', found no ':' separator")
        label = fields[-1].strip()
        if label not in classes:
            raise TSFormatError(f"{where}: class label {label!r} is not declared in @classLabel {list(classes)}")
        chans = [_floats(f.split(","), f"{where} (channel {c + 1})") for c, f in enumerate(fields[:-1])]
        if n_channels is None:
            n_channels = len(chans)
        if len(chans) != n_channels:
            raise TSFormatError(f"{where}: {len(chans)} channels, expected {n_channels}")
        lens = {len(c) for c in chans}
        if length is None:
            length = lens.pop() if len(lens) == 1 else None
        if length is None or lens != {length}:
            raise TSFormatError(f"{where}: channel lengths {sorted(len(c) for c in chans)}, expected every channel "
                                f"to have length {length} (unequal-length series are not supported)")
        rows.append(np.asarray(chans, dtype=np.float64))
        labels.append(label)
    if not in_data:
        raise TSFormatError(f"{name}: no @data line (is this a .ts file?)")
    if not rows:
        raise TSFormatError(f"{name}: @data holds no series")
    return Series(np.stack(rows).astype(np.float32), np.array(labels), classes,
                  header.get("@problemname", Path(name).stem))


def write_ts(path, X, labels, *, classes, name: str = "toy") -> Path:
    """Write equal-length series ``X`` (n, C, L) with ``labels`` as a ``.ts`` file (tests and tools)."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 3:
        raise ValueError(f"X: expected shape (n, C, L), got {X.shape}")
    lines = [f"@problemName {name}", "@timeStamps false", "@missing false",
             f"@univariate {'true' if X.shape[1] == 1 else 'false'}", f"@dimensions {X.shape[1]}",
             "@equalLength true", f"@seriesLength {X.shape[2]}", "@classLabel true " + " ".join(classes), "@data"]
    for x, lab in zip(X, labels):
        lines.append(":".join(",".join(repr(float(v)) for v in ch) for ch in x) + f":{lab}")
    path = Path(path)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------------
# .arff


def _split_arff_row(line: str, where: str) -> list[str]:
    """Split one @data row at top-level commas (quotes '...' or "..." protect commas)."""
    out, buf, quote = [], [], None
    for ch in line:
        if quote:
            if ch == quote:
                quote = None
            else:
                buf.append(ch)
        elif ch in "'\"":
            quote = ch
        elif ch == ",":
            out.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    if quote:
        raise TSFormatError(f"{where}: unterminated quoted value")
    out.append("".join(buf))
    return out


def _nominal(spec: str, where: str) -> tuple[str, ...]:
    spec = spec.strip()
    if not (spec.startswith("{") and spec.endswith("}")):
        raise TSFormatError(f"{where}: the class attribute must be nominal ({{a,b,...}}), got {spec!r}")
    values = tuple(v.strip().strip("'\"") for v in spec[1:-1].split(","))
    if len(values) < 2 or len(set(values)) != len(values) or "" in values:
        raise TSFormatError(f"{where}: the class attribute needs >= 2 distinct labels, got {list(values)}")
    return values


def read_arff(source) -> Series:
    """Parse an ``.arff`` file of labelled series: univariate (numeric attributes, then a nominal class)
    or UEA multivariate (a relational attribute holding ``C`` rows separated by ``\\n``, then a nominal
    class). Returns a :class:`Series` with ``X`` of shape ``(n, C, L)``."""
    text, name = _text(source, ".arff")
    relation = Path(name).stem
    numeric = 0
    relational = False
    rel_numeric = 0
    in_relational = False
    classes: tuple[str, ...] | None = None
    in_data = False
    rows: list[np.ndarray] = []
    labels: list[str] = []
    length = None
    for lineno, line in enumerate(io.StringIO(text), start=1):
        line = line.strip()
        where = f"{name}:{lineno}"
        if not line or line.startswith("%"):
            continue
        low = line.lower()
        if not in_data:
            if low.startswith("@relation"):
                relation = line.split(None, 1)[1].strip().strip("'\"") if " " in line else relation
            elif low.startswith("@attribute"):
                parts = line.split(None, 2)
                if len(parts) < 3:
                    raise TSFormatError(f"{where}: malformed @attribute line {line[:60]!r}")
                kind = parts[2].strip()
                if classes is not None:
                    raise TSFormatError(f"{where}: attribute after the class attribute (the class must be last)")
                if kind.lower() == "relational":
                    if relational or numeric:
                        raise TSFormatError(f"{where}: only one relational attribute, and no numeric attributes "
                                            "beside it, are supported")
                    relational = in_relational = True
                elif kind.lower() in ("numeric", "real", "integer"):
                    if in_relational:
                        rel_numeric += 1
                    elif relational:
                        raise TSFormatError(f"{where}: numeric attribute after the relational one")
                    else:
                        numeric += 1
                elif kind.startswith("{"):
                    if in_relational:
                        raise TSFormatError(f"{where}: nominal attribute inside the relational attribute")
                    classes = _nominal(kind, where)
                else:
                    raise TSFormatError(f"{where}: unsupported attribute type {kind!r}")
            elif low.startswith("@end"):
                if not in_relational:
                    raise TSFormatError(f"{where}: @end without a relational attribute")
                in_relational = False
            elif low.startswith("@data"):
                if classes is None:
                    raise TSFormatError(f"{where}: @data before a nominal class attribute")
                if in_relational:
                    raise TSFormatError(f"{where}: @data inside the relational attribute (missing @end)")
                length = rel_numeric if relational else numeric
                if length < 1:
                    raise TSFormatError(f"{where}: no numeric time-point attributes declared")
                in_data = True
            else:
                raise TSFormatError(f"{where}: unexpected header line {line[:60]!r}")
            continue
        fields = _split_arff_row(line, where)
        label = fields[-1].strip()
        if label not in classes:
            raise TSFormatError(f"{where}: class label {label!r} is not among the declared {list(classes)}")
        if relational:
            if len(fields) != 2:
                raise TSFormatError(f"{where}: expected 'quoted series,label', got {len(fields)} fields")
            chans = [_floats(r.split(","), f"{where} (channel {c + 1})") for c, r in enumerate(fields[0].split("\\n"))]
        else:
            if len(fields) != numeric + 1:
                raise TSFormatError(f"{where}: {len(fields) - 1} values, expected {numeric}")
            chans = [_floats(fields[:-1], where)]
        if rows and len(chans) != rows[0].shape[0]:
            raise TSFormatError(f"{where}: {len(chans)} channels, expected {rows[0].shape[0]} as in the first series")
        if any(len(c) != length for c in chans):
            raise TSFormatError(f"{where}: channel lengths {[len(c) for c in chans]}, expected {length} "
                                "(unequal-length series are not supported)")
        rows.append(np.asarray(chans, dtype=np.float64))
        labels.append(label)
    if not in_data:
        raise TSFormatError(f"{name}: no @data line (is this an .arff file?)")
    if not rows:
        raise TSFormatError(f"{name}: @data holds no series")
    return Series(np.stack(rows).astype(np.float32), np.array(labels), classes, relation)
