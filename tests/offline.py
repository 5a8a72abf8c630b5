"""Toolchain images that need the internet, made unavailable by the test itself.

The arduino and esp-idf images download at build time, from the hosts their Dockerfile names on
a `# needs-network:` line, which the image code probes first. A test that wants the "image
unavailable" path points those lines at a local port it holds without listening (connections
are refused at once), so the outcome is the same whether or not this machine reaches the
internet. The build steps themselves are left as they are; they never run.
"""
from __future__ import annotations

import re
import shutil
import socket
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[1]
NEEDS_NETWORK = re.compile(r"^# needs-network:.*$", re.M)


@contextmanager
def refused_url() -> Iterator[str]:
    """An http URL on 127.0.0.1 whose port this process holds, unlistened, while the block runs."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        sock.close()


def point_downloads_at(docker_dir: Path, url: str) -> list[str]:
    """Rewrite every `# needs-network:` line under `docker_dir` to `url`; return the images changed."""
    changed = []
    for dockerfile in sorted(Path(docker_dir).glob("*/Dockerfile")):
        text = dockerfile.read_text()
        if NEEDS_NETWORK.search(text):
            dockerfile.write_text(NEEDS_NETWORK.sub(f"# needs-network: {url}", text))
            changed.append(dockerfile.parent.name)
    return changed


def offline_docker_dir(into: Path, url: str) -> Path:
    """A copy of the repository's docker/ folder whose networked images point at `url`."""
    into = Path(into)
    shutil.copytree(ROOT / "docker", into)
    point_downloads_at(into, url)
    return into
