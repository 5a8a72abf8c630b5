"""Find a Docker engine, or start one (root on Debian), and stop only what we started.

`make host-deps` calls `ensure` before every run; it must cost nothing when the engine is up,
so the fast path is one `docker version` round trip.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from tinyeit.errors import TinyEitError

HOW_TO_GET = ("install and start a Docker engine (Debian, as root: `apt-get install docker.io` then "
              "`dockerd &`, or just `make host-deps`), or set TINYEIT_RUNNER=local to use host tools")


class EngineUnavailable(TinyEitError):
    """No Docker engine is reachable and none could be started."""


def engine_available(timeout: float = 10.0) -> bool:
    """True when a docker client exists and its daemon answers."""
    if shutil.which("docker") is None:
        return False
    try:
        proc = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"],
                              capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0 and bool(proc.stdout.strip())


def state_dir() -> Path:
    """Where the pidfile and log of a dockerd we started live (TINYEIT_STATE_DIR or /run/tinyeit)."""
    return Path(os.environ.get("TINYEIT_STATE_DIR", "/run/tinyeit"))


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _is_debian() -> bool:
    return Path("/etc/debian_version").exists() and shutil.which("apt-get") is not None


def apt_install(packages: list[str]) -> None:
    """Install Debian packages non-interactively (root only); raise with apt's own words on failure."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        subprocess.run(["apt-get", "update"], capture_output=True, env=env)
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise EngineUnavailable(f"`{' '.join(cmd)}` failed: {proc.stderr.strip()[-800:]}")


def start_dockerd(wait_s: float = 60.0) -> int:
    """Start dockerd in the background, record its pid, and wait until it answers; return the pid."""
    if shutil.which("dockerd") is None:
        raise EngineUnavailable("dockerd is not installed; " + HOW_TO_GET)
    sdir = state_dir()
    sdir.mkdir(parents=True, exist_ok=True)
    log = open(sdir / "dockerd.log", "ab")
    proc = subprocess.Popen(["dockerd"], stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    (sdir / "dockerd.pid").write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EngineUnavailable(f"dockerd exited with code {proc.returncode}; see {sdir / 'dockerd.log'}")
        if engine_available(timeout=5):
            return proc.pid
        time.sleep(0.5)
    raise EngineUnavailable(f"dockerd (pid {proc.pid}) did not answer within {wait_s:.0f} s; "
                            f"see {sdir / 'dockerd.log'}")


def stop_dockerd() -> bool:
    """Stop the dockerd recorded in our pidfile; return False when we had not started one."""
    pidfile = state_dir() / "dockerd.pid"
    if not pidfile.exists():
        return False
    pid = int(pidfile.read_text().split()[0])
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            try:  # reap it if it is our own child (else a zombie looks alive)
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    break
            except ChildProcessError:
                pass
            os.kill(pid, 0)
            time.sleep(0.1)
    except ProcessLookupError:
        pass
    pidfile.unlink(missing_ok=True)
    return True


def ensure_engine() -> str:
    """Make a Docker engine reachable; return 'running', 'started', or raise EngineUnavailable."""
    if engine_available():
        return "running"
    if not (_is_root() and _is_debian()):
        raise EngineUnavailable("no Docker engine answers and this is not root on Debian, so none can be "
                                "started here; " + HOW_TO_GET)
    if shutil.which("dockerd") is None or shutil.which("docker") is None:
        apt_install(["docker.io"])
    start_dockerd()
    return "started"
