"""Run a toolchain command in its image, or on the host where no engine can be had.

Paths are mounted at the same absolute path inside the container, so one argv works with both
runners: sources read-only, one output folder writable, no network, the caller's uid:gid.
`TINYEIT_RUNNER` = docker | local | auto (default: docker when an engine answers, else local).
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

from tinyeit.containers.engine import HOW_TO_GET, engine_available
from tinyeit.containers.images import TOOLCHAINS, ensure_image, image_id
from tinyeit.errors import TinyEitError

# Host packages that provide each toolchain, for the local runner's error message.
HOST_PACKAGES = {
    "arm": "gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm",
    "aarch64": "gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user",
    "arduino": "arduino-cli (https://arduino.github.io/arduino-cli/) with its mbed cores",
    "esp-idf": "ESP-IDF (https://docs.espressif.com/projects/esp-idf/) with idf.py on PATH",
    "xtensa": "xtensa-esp32-elf-gcc (with newlib) and qemu-system-xtensa with the esp32 core, as "
              "docker/xtensa/Dockerfile builds them",
}


class ToolUnavailable(TinyEitError):
    """Neither a container nor a host tool can run the command."""


@functools.lru_cache(maxsize=1)
def _engine_up() -> bool:
    return engine_available()


def runner_kind() -> str:
    """'docker' or 'local', from TINYEIT_RUNNER (docker|local|auto) and whether an engine answers."""
    choice = os.environ.get("TINYEIT_RUNNER", "auto").lower()
    if choice not in ("docker", "local", "auto"):
        raise TinyEitError(f"TINYEIT_RUNNER={choice!r}: expected docker, local or auto")
    if choice == "auto":
        return "docker" if _engine_up() else "local"
    return choice


def _env_pairs(env: dict[str, str] | None) -> dict[str, str]:
    pairs = {"SOURCE_DATE_EPOCH": "0", "LC_ALL": "C", "TZ": "UTC"}
    pairs.update(env or {})
    return pairs


def run(image: str, argv: list[str], mounts_ro: list[str | Path], out_dir: str | Path,
        workdir: str | Path | None = None, timeout: float | None = None,
        env: dict[str, str] | None = None, check: bool = False,
        tools: list[str] | None = None) -> subprocess.CompletedProcess:
    """Run `argv` in toolchain image `image` (a name in TOOLCHAINS or a full tag).

    `mounts_ro` are visible read-only, `out_dir` is the only writable folder (and the default
    working directory). Output is captured as text. With the local runner the same argv runs on
    the host, provided argv[0] (and every name in `tools`) is on PATH; otherwise ToolUnavailable
    says what is missing and how to get it.
    """
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    workdir = Path(workdir).resolve() if workdir else out_dir
    pairs = _env_pairs(env)
    kind = runner_kind()
    if kind == "local":
        missing = [tool for tool in [argv[0], *(tools or [])] if shutil.which(tool) is None]
        if missing:
            name = image if image in TOOLCHAINS else image.split("/")[-1].split(":")[0]
            why = ("TINYEIT_RUNNER=local" if os.environ.get("TINYEIT_RUNNER", "").lower() == "local"
                   else "no Docker engine answers")
            raise ToolUnavailable(
                f"cannot build with toolchain {name!r}: {why} and {', '.join(missing)} is not on the host's PATH. "
                f"Either {HOW_TO_GET.split(', or set')[0]}, or install the host tools ({HOST_PACKAGES.get(name, name)}).")
        return subprocess.run(argv, cwd=workdir, capture_output=True, text=True, timeout=timeout,
                              env=dict(os.environ, **pairs), check=check)
    tag = ensure_image(image) if image in TOOLCHAINS else image
    cmd = ["docker", "run", "--rm", "--network", "none", "--user", f"{os.getuid()}:{os.getgid()}",
           "--workdir", str(workdir), "-v", f"{out_dir}:{out_dir}:rw"]
    # Longer paths last, so a read-only folder nested in the output folder stays read-only.
    for mount in sorted({Path(m).resolve() for m in mounts_ro}, key=lambda p: len(p.parts)):
        cmd += ["-v", f"{mount}:{mount}:ro"]
    for key, value in sorted(pairs.items()):
        cmd += ["-e", f"{key}={value}"]
    cmd += ["-e", "HOME=/tmp", tag, *argv]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=check)


def toolchain_identity(image: str, compiler: str) -> dict:
    """{"runner", "image", "image_id", "compiler_version"} of the toolchain that builds, for build.json."""
    kind = runner_kind()
    if kind == "docker":
        tag = ensure_image(image) if image in TOOLCHAINS else image
        ident = {"runner": "docker", "image": tag, "image_id": image_id(tag)}
    else:
        ident = {"runner": "local", "image": None, "image_id": None}
    if kind == "docker":
        proc = subprocess.run(["docker", "run", "--rm", "--network", "none", tag, compiler, "--version"],
                              capture_output=True, text=True)
    elif shutil.which(compiler):
        proc = subprocess.run([compiler, "--version"], capture_output=True, text=True)
    else:
        return dict(ident, compiler_version=None)
    ident["compiler_version"] = proc.stdout.splitlines()[0].strip() if proc.returncode == 0 and proc.stdout else None
    return ident
