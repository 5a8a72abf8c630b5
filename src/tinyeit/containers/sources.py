"""Third-party source archives an image builds from: pinned, fetched, verified.

A pin list (`docker/<x>/sources.tsv`: name, url, commit, file, sha256) names each archive. The
archive is taken from the mirror folder named by TINYEIT_SOURCE_MIRROR when that is set (checked
against the pinned sha256), else downloaded from its upstream URL (checked against the pinned
commit: GitHub's archives carry it in their pax header and their top folder, and their bytes
are not stable enough to hash). The archives are dependencies: they go into a temporary Docker
build context, never into the repository.
"""
from __future__ import annotations

import csv
import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tinyeit.errors import TinyEitError

MIRROR_VAR = "TINYEIT_SOURCE_MIRROR"
COLUMNS = ("name", "url", "commit", "file", "sha256")


class SourceError(TinyEitError):
    """A pinned source is missing, or is not what its pin says."""


@dataclass(frozen=True)
class Pin:
    name: str
    url: str
    commit: str
    file: str
    sha256: str


def load_pins(path: str | Path) -> list[Pin]:
    """The pin list; every row complete, names and files unique, hashes well formed."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"{path}: the source pin list does not exist")
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle, delimiter="\t"))
    if not rows or tuple(rows[0]) != COLUMNS:
        raise SourceError(f"{path}: the header must be {' '.join(COLUMNS)} (tab-separated)")
    pins, seen = [], set()
    for line, row in enumerate(rows[1:], start=2):
        if not row or not "".join(row).strip():
            continue
        if len(row) != len(COLUMNS) or any(not cell.strip() for cell in row):
            raise SourceError(f"{path}, line {line}: expected {len(COLUMNS)} non-empty tab-separated "
                              f"fields ({', '.join(COLUMNS)})")
        pin = Pin(*(cell.strip() for cell in row))
        if len(pin.commit) != 40 or any(c not in "0123456789abcdef" for c in pin.commit):
            raise SourceError(f"{path}, line {line}: commit {pin.commit!r} of {pin.name} is not 40 hex digits")
        if len(pin.sha256) != 64 or any(c not in "0123456789abcdef" for c in pin.sha256):
            raise SourceError(f"{path}, line {line}: sha256 {pin.sha256!r} of {pin.name} is not 64 hex digits")
        if pin.name in seen or "/" in pin.file or not pin.file.endswith(".tar.gz"):
            raise SourceError(f"{path}, line {line}: {pin.name}: duplicate name, or file {pin.file!r} "
                              "is not a plain .tar.gz name")
        seen.add(pin.name)
        pins.append(pin)
    if not pins:
        raise SourceError(f"{path}: pins no source")
    return pins


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def mirror_dir() -> Path | None:
    """The mirror folder from TINYEIT_SOURCE_MIRROR, or None when the variable is unset or empty."""
    value = os.environ.get(MIRROR_VAR, "").strip()
    return Path(value) if value else None


def archive_commit(path: str | Path) -> str | None:
    """The commit a GitHub/`git archive` tarball says it holds (pax header comment), if any."""
    try:
        with tarfile.open(path, "r:gz") as tar:
            comment = tar.pax_headers.get("comment")
            first = tar.next()
    except (tarfile.TarError, OSError, EOFError):
        return None
    if not comment or first is None:
        return None
    top = first.name.split("/", 1)[0]
    return comment if top.endswith("-" + comment) else None


def _missing(pin: Pin, why: str) -> SourceError:
    return SourceError(f"source archive {pin.file} ({pin.name}) is not available: {why}. Download it "
                       f"from {pin.url} into a folder and name that folder with {MIRROR_VAR}, or run "
                       f"where {pin.url} is reachable with {MIRROR_VAR} unset")


def fetch(pin: Pin, dest_dir: str | Path, timeout: float = 60.0) -> dict:
    """Put `pin.file` into dest_dir, verified; return how it was taken and checked."""
    dest = Path(dest_dir) / pin.file
    mirror = mirror_dir()
    if mirror is not None:
        src = mirror / pin.file
        if not src.is_file():
            raise _missing(pin, f"{src} does not exist ({MIRROR_VAR}={mirror})")
        got = sha256_file(src)
        if got != pin.sha256:
            raise SourceError(f"source archive {src} ({pin.name}): sha256 {got} differs from the pinned "
                              f"{pin.sha256}: the mirror does not hold the pinned {pin.url}")
        shutil.copyfile(src, dest)
        return {"name": pin.name, "file": pin.file, "from": "mirror", "sha256": got, "commit": pin.commit}
    try:
        with urllib.request.urlopen(pin.url, timeout=timeout) as response, \
                tempfile.NamedTemporaryFile(dir=dest.parent, delete=False) as tmp:
            shutil.copyfileobj(response, tmp)
    except (urllib.error.URLError, OSError) as exc:
        raise _missing(pin, f"the download failed ({getattr(exc, 'reason', exc)})") from None
    commit = archive_commit(tmp.name)
    if commit != pin.commit:
        os.unlink(tmp.name)
        raise SourceError(f"source archive {pin.file} downloaded from {pin.url} holds commit {commit}, "
                          f"the pin is {pin.commit}")
    os.replace(tmp.name, dest)
    return {"name": pin.name, "file": pin.file, "from": "download", "sha256": sha256_file(dest),
            "commit": commit}


def fetch_all(pins_path: str | Path, dest_dir: str | Path) -> list[dict]:
    """Every pinned archive into dest_dir (created), verified, in pin-list order."""
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    return [fetch(pin, dest_dir) for pin in load_pins(pins_path)]
