"""A `script:` job's output goes to its log file, as a shell job's `> {log} 2>&1` does.

The redirection is of the file descriptors 1 and 2, not only Python's sys.stdout/stderr, so
TensorFlow's C++ messages and any subprocess land in the log too. A failure's traceback is
written to the log as well before it propagates (Snakemake then shows the log).
"""
from __future__ import annotations

import os
import sys
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def logging_to(log_path: str | os.PathLike) -> Iterator[None]:
    """Send this process's stdout and stderr to `log_path` (truncated) for the block."""
    log_path = Path(log_path)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    with open(log_path, "wb", buffering=0) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        except BaseException:
            traceback.print_exc()
            raise
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
