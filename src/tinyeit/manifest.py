"""The study's rebuild guarantee as a file: every deterministic artifact and its sha256.

`results/MANIFEST.sha256` lists each file under the results folder in `sha256sum` format
(`cd results && sha256sum -c MANIFEST.sha256` checks it too), sorted by path. Files that carry
a measured host wall-clock time differ from run to run by nature; they match `MEASURED` and are
left out, so that two clean rebuilds must give equal manifests. `tinyeit verify` compares a
manifest with a results folder without rebuilding anything.
"""
from __future__ import annotations

import fnmatch
import hashlib
import os
import re
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from tinyeit.atomic import write_text
from tinyeit.errors import TinyEitError

MANIFEST_NAME = "MANIFEST.sha256"

# Paths (relative to the results folder, `*` also crosses `/`) of files that carry a measured
# host wall-clock figure. This tuple is the one place to edit when such a figure moves.
MEASURED = (
    "tflite/*/host_latency.json",  # host latency (LiteRT) of each variant
    "host_latency.json",           # every variant's host latency, collected for the report
    "report/index.html",           # host latency columns and gains
    "report/variants.csv",         # host latency columns
    "report/gains.csv",            # host latency gain
    "report/gains.png",            # host latency gain bars
    "report/paper.csv",            # host latency against the paper's PC figure
)

# Files that are not artifacts: the manifest itself, an interrupted atomic write's leftovers.
_NOT_ARTIFACTS = (MANIFEST_NAME, "*/.*.tmp", ".*.tmp")
_LINE = re.compile(r"([0-9a-f]{64}) [ *](.+)")


class ManifestError(TinyEitError):
    """A manifest that is missing or not in sha256sum format, or a results folder that is absent."""


class Difference(NamedTuple):
    """One path where the results and the manifest disagree: `changed`, `missing` or `extra`."""
    kind: str
    path: str
    expected: str | None
    actual: str | None

    def __str__(self) -> str:
        if self.kind == "changed":
            return f"changed  {self.path} (manifest {self.expected[:12]}, now {self.actual[:12]})"
        return f"{self.kind:8} {self.path}"


def is_measured(relpath: str) -> bool:
    """True for a file whose bytes hold a measured wall-clock time (see MEASURED)."""
    return any(fnmatch.fnmatchcase(relpath, pattern) for pattern in MEASURED)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def collect(results_dir: str | os.PathLike) -> dict[str, str]:
    """Relative posix path -> sha256 of every deterministic artifact under `results_dir`."""
    root = Path(results_dir)
    if not root.is_dir():
        raise ManifestError(f"{root}: no results folder there (run the study first)")
    hashes = {}
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            rel = PurePosixPath(path.relative_to(root)).as_posix()
            if is_measured(rel) or any(fnmatch.fnmatchcase(rel, p) for p in _NOT_ARTIFACTS):
                continue
            hashes[rel] = _sha256(path)
    return dict(sorted(hashes.items()))


def format_manifest(hashes: dict[str, str]) -> str:
    """sha256sum's text format, one line a file, sorted by path."""
    for rel in hashes:
        if "\n" in rel or "\\" in rel:
            raise ManifestError(f"{rel!r}: a path sha256sum cannot list plainly")
    return "".join(f"{digest}  {rel}\n" for rel, digest in sorted(hashes.items()))


def write(results_dir: str | os.PathLike, path: str | os.PathLike | None = None) -> Path:
    """Write the manifest of `results_dir` to `path` (default: results_dir/MANIFEST.sha256)."""
    path = Path(path) if path is not None else Path(results_dir) / MANIFEST_NAME
    write_text(path, format_manifest(collect(results_dir)))
    return path


def read(manifest_path: str | os.PathLike) -> dict[str, str]:
    """The path -> sha256 entries of a manifest; a clear error if it is absent or corrupt."""
    manifest_path = Path(manifest_path)
    try:
        text = manifest_path.read_text()
    except FileNotFoundError:
        raise ManifestError(f"{manifest_path}: no manifest there") from None
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise ManifestError(f"{manifest_path}: not a sha256sum manifest ({exc})") from None
    entries: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _LINE.fullmatch(line)
        if match is None:
            raise ManifestError(f"{manifest_path}:{number}: not a '<sha256>  <path>' line: {line[:80]!r}")
        digest, rel = match.groups()
        if rel in entries:
            raise ManifestError(f"{manifest_path}:{number}: {rel} is listed twice")
        entries[rel] = digest
    if not entries:
        raise ManifestError(f"{manifest_path}: the manifest lists no file")
    return entries


def compare(manifest_path: str | os.PathLike, results_dir: str | os.PathLike) -> list[Difference]:
    """Where `results_dir` differs from the manifest: changed, missing and extra files, by path."""
    expected = read(manifest_path)
    actual = collect(results_dir)
    differences = []
    for rel in sorted(expected.keys() | actual.keys()):
        want, have = expected.get(rel), actual.get(rel)
        if want == have:
            continue
        kind = "missing" if have is None else "extra" if want is None else "changed"
        differences.append(Difference(kind, rel, want, have))
    return differences
