"""Hash-pinned downloads into the data cache.

The registry (``registry.txt``, shipped with the package) lists ``<key> <sha256> <url>`` per file.
:func:`fetch` returns the cached path of a verified file:

- a cached file is re-hashed on every fetch; if it does not match, it is *not* silently replaced: the
  error gives the file, both hashes and tells you to delete it;
- a download goes to a temporary file in the cache directory, is hashed, and only a matching file is
  renamed into place, so the cache never holds a partial or corrupt file;
- without network (or with ``GNETLAB_OFFLINE=1``) the error lists each missing file, where to put it
  and where to get it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable

from .. import paths
from ..io import atomic_path

__all__ = ["RegistryEntry", "registry", "fetch", "sha256sum", "HashMismatchError", "DataUnavailableError"]


class HashMismatchError(OSError):
    """A downloaded or cached file does not have its pinned sha256."""


class DataUnavailableError(FileNotFoundError):
    """A dataset file is neither cached nor downloadable."""


@dataclass(frozen=True)
class RegistryEntry:
    key: str  # "<dataset>/<file name>"
    sha256: str
    url: str

    @property
    def dataset(self) -> str:
        return self.key.split("/", 1)[0]

    @property
    def filename(self) -> str:
        return self.key.split("/", 1)[1]


def _parse_registry(text: str, source: str) -> dict[str, RegistryEntry]:
    entries: dict[str, RegistryEntry] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        if len(parts) != 3 or "/" not in parts[0] or len(parts[1]) != 64:
            raise ValueError(f"{source}:{lineno}: expected '<dataset>/<file> <sha256> <url>', got {line!r}")
        entries[parts[0]] = RegistryEntry(parts[0], parts[1].lower(), parts[2])
    return entries


_REGISTRY: dict[str, RegistryEntry] | None = None


def registry() -> dict[str, RegistryEntry]:
    """The file registry (read once, on first use; nothing is read at import)."""
    global _REGISTRY
    if _REGISTRY is None:
        text = resources.files(__package__).joinpath("registry.txt").read_text(encoding="utf-8")
        _REGISTRY = _parse_registry(text, "gnetlab/datasets/registry.txt")
    return _REGISTRY


def sha256sum(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def _default_download(url: str, output_file: Path) -> None:
    import pooch  # imported lazily: only needed when something is actually downloaded

    downloader = pooch.HTTPDownloader(progressbar=False, timeout=60)
    downloader(url, str(output_file), None)


def fetch(key: str, *, cache_dir: str | os.PathLike | None = None,
          download: Callable[[str, Path], None] | None = None,
          entries: dict[str, RegistryEntry] | None = None) -> Path:
    """Path of the verified file ``key`` (e.g. ``"mnist/train-images-idx3-ubyte.gz"``).

    ``cache_dir`` defaults to ``gnetlab.paths.data_cache_dir()`` (env ``GNETLAB_DATA_DIR``).
    ``download(url, output_file)`` writes the bytes at ``url`` to ``output_file``; the default uses
    pooch's HTTP downloader. ``entries`` replaces the packaged registry (tests).

    A cached file with another sha256, or a directory where the file belongs, raises
    :class:`HashMismatchError` saying to delete it and fetch again (nothing is replaced silently).
    """
    entries = registry() if entries is None else entries
    if not isinstance(key, str) or key not in entries:
        raise KeyError(f"key: unknown data file {key!r}; registered files: {', '.join(sorted(entries))}")
    entry = entries[key]
    cache = Path(cache_dir) if cache_dir is not None else paths.data_cache_dir()
    target = cache / entry.dataset / entry.filename
    if target.exists() and not target.is_file():
        raise HashMismatchError(
            f"cached file {target} is a directory (or another non-file), expected the data file "
            f"{entry.filename}: delete it and fetch again (source: {entry.url})."
        )
    if target.exists():
        got = sha256sum(target)
        if got != entry.sha256:
            raise HashMismatchError(
                f"cached file {target} has sha256 {got}, expected {entry.sha256}. It is corrupt or a "
                f"different version: delete it and fetch again (source: {entry.url})."
            )
        return target
    if os.environ.get("GNETLAB_OFFLINE", "0") == "1" and download is None:
        raise DataUnavailableError(_missing_message(entry, target, "offline mode (GNETLAB_OFFLINE=1)"))
    download = download or _default_download
    with atomic_path(target, suffix=".part") as tmp:
        try:
            download(entry.url, tmp)
        except Exception as exc:
            raise DataUnavailableError(_missing_message(entry, target, f"download failed: {exc}")) from exc
        got = sha256sum(tmp)
        if got != entry.sha256:
            raise HashMismatchError(
                f"download of {entry.url} has sha256 {got}, expected {entry.sha256}; the file was discarded "
                f"and nothing was written to {target}."
            )
    return target


def _missing_message(entry: RegistryEntry, target: Path, why: str) -> str:
    siblings = [e for e in registry().values() if e.dataset == entry.dataset] if entry.key in registry() else [entry]
    lines = [f"dataset file {entry.key} is not available ({why}).",
             f"Place these files (sha256-checked) in {target.parent}/ , or set GNETLAB_DATA_DIR to a folder "
             f"holding {entry.dataset}/<file>:"]
    lines += [f"  {e.filename}  from {e.url}  (sha256 {e.sha256})" for e in siblings]
    return "\n".join(lines)
