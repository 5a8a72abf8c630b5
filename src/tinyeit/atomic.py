"""Every artifact is written whole or not at all, and read back with an error that names it.

A failed or interrupted job must leave no half-written file that a later run could take for a
finished one, so each stage writes through a temporary file in the same folder and renames it
into place. Files get the usual mode (0644 under a 022 umask), not mkstemp's 0600.
"""
from __future__ import annotations

import json
import os
import tempfile
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from tinyeit.errors import TinyEitError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def replacing(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside `path`; it replaces `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with replacing(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    write_bytes(path, text.encode())


def write_json(path: str | os.PathLike, record, *, sort_keys: bool = False) -> None:
    """Indented, newline-terminated: equal records give equal bytes."""
    write_text(path, json.dumps(record, indent=2, sort_keys=sort_keys) + "\n")


def read_json(path: str | os.PathLike, what: str) -> dict:
    """A stage's JSON record; `what` says which, for the message when it is absent or broken."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise TinyEitError(f"{path}: missing ({what})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TinyEitError(f"{path}: not valid JSON ({what}): {exc}") from None


def read_npz(path: str | os.PathLike, what: str) -> dict:
    """Every array of a stage's .npz, loaded; absent, truncated or not-an-npz files name `what`."""
    import numpy as np

    try:
        with open(path, "rb") as fh:
            if fh.read(4) != b"PK\x03\x04":
                raise ValueError("not an .npz archive (no zip header)")
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except FileNotFoundError:
        raise TinyEitError(f"{path}: missing ({what})") from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise TinyEitError(f"{path}: not a readable .npz ({what}): {exc}") from None
