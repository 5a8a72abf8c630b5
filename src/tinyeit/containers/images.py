"""Toolchain images: built from `docker/<name>/Dockerfile`, tagged by the hash of what builds them.

A tag that already exists is never rebuilt, so an image changes exactly when its build inputs do:
the Dockerfile, and for an image built on another (`# base-image: NAME`), that image's tag, the
files it copies in (`# context: PATH`, relative to docker/) and the pin list of the third-party
sources it builds from (`# sources: PATH`), whose archives are fetched and verified by
`tinyeit.containers.sources` into a temporary build context (see sources.py).
The Dockerfiles start `FROM debian:bookworm-slim`; where that image is missing and cannot be
pulled (no registry here), `bootstrap_base_image` makes it with debootstrap and `docker import`.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import re
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from tinyeit.atomic import write_json
from tinyeit.containers import sources
from tinyeit.containers.engine import EngineUnavailable, engine_available, HOW_TO_GET
from tinyeit.errors import TinyEitError

TOOLCHAINS = ("arm", "aarch64", "arduino", "esp-idf", "xtensa", "tflm-arm", "tflm-aarch64", "tflm-xtensa")
BASE_IMAGE = "debian:bookworm-slim"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
_DEB822 = """Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""


class ImageUnavailable(TinyEitError):
    """A toolchain image could not be built (e.g. it needs the internet at build time)."""


def docker_dir() -> Path:
    """The repository's `docker/` folder (TINYEIT_DOCKER_DIR overrides, for tests and installs)."""
    if os.environ.get("TINYEIT_DOCKER_DIR"):
        return Path(os.environ["TINYEIT_DOCKER_DIR"])
    repo = Path(__file__).resolve().parents[3] / "docker"
    return repo if repo.is_dir() else Path.cwd() / "docker"


def dockerfile_path(name: str) -> Path:
    if name not in TOOLCHAINS:
        raise TinyEitError(f"unknown toolchain image {name!r}; known: {', '.join(TOOLCHAINS)}")
    path = docker_dir() / name / "Dockerfile"
    if not path.is_file():
        raise TinyEitError(f"toolchain image {name!r}: {path} does not exist")
    return path


def dockerfile_sha256(name: str) -> str:
    return hashlib.sha256(dockerfile_path(name).read_bytes()).hexdigest()


def directives(name: str) -> dict[str, list[str]]:
    """The Dockerfile's `# base-image:`, `# context:` and `# sources:` lines, checked."""
    found: dict[str, list[str]] = {"base-image": [], "context": [], "sources": []}
    path = dockerfile_path(name)
    for line in path.read_text().splitlines():
        for key in found:
            if line.startswith(f"# {key}:"):
                found[key] += line.split(":", 1)[1].split()
    if len(found["base-image"]) > 1 or (found["base-image"] and found["base-image"][0] not in TOOLCHAINS):
        raise TinyEitError(f"{path}: `# base-image:` must name one of {', '.join(TOOLCHAINS)}")
    for rel in found["context"] + found["sources"]:
        if not (docker_dir() / rel).is_file():
            raise TinyEitError(f"{path}: {rel} (a `# context:`/`# sources:` file, relative to "
                               f"{docker_dir()}) does not exist")
    return found


def base_image(name: str) -> str | None:
    """The toolchain image `name` is built on (`# base-image:`), if any."""
    base = directives(name)["base-image"]
    return base[0] if base else None


def image_inputs(name: str) -> list[Path]:
    """Every file whose bytes define the image: its Dockerfile, context and pin files, its base's."""
    found = directives(name)
    files = [dockerfile_path(name)] + [docker_dir() / rel for rel in found["context"] + found["sources"]]
    if found["base-image"]:
        files += [p for p in image_inputs(found["base-image"][0]) if p not in files]
    return files


def build_sha256(name: str) -> str:
    """Hash of the Dockerfile, plus the base image's tag, context files and source pins if any."""
    found = directives(name)
    if not any(found.values()):
        return dockerfile_sha256(name)
    digest = hashlib.sha256(dockerfile_path(name).read_bytes())
    if found["base-image"]:
        digest.update(b"\0base\0" + image_tag(found["base-image"][0]).encode())
    for rel in found["context"] + found["sources"]:
        digest.update(b"\0" + rel.encode() + b"\0" + (docker_dir() / rel).read_bytes())
    return digest.hexdigest()


def image_tag(name: str) -> str:
    """`tinyeit/<name>:<first 12 hex of the build-input hash>` (for most images, the Dockerfile's)."""
    return f"tinyeit/{name}:{build_sha256(name)[:12]}"


def image_id(ref: str) -> str | None:
    proc = subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", ref],
                          capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else None


def _require_engine() -> None:
    if not engine_available():
        raise EngineUnavailable("no Docker engine answers; " + HOW_TO_GET)


def bootstrap_base_image(tag: str = BASE_IMAGE, mirror: str = DEBIAN_MIRROR) -> str:
    """Make `debian:bookworm-slim` from debootstrap (minbase) when it is absent and cannot be pulled."""
    _require_engine()
    if image_id(tag):
        return image_id(tag)
    pull = subprocess.run(["docker", "pull", tag], capture_output=True, text=True)
    if pull.returncode == 0 and image_id(tag):
        return image_id(tag)
    if shutil.which("debootstrap") is None:
        raise ImageUnavailable(f"{tag} is missing, `docker pull` failed ({pull.stderr.strip()[-200:]}) and "
                               "debootstrap is not installed: `apt-get install debootstrap` (or `make host-deps` as root)")
    if os.geteuid() != 0:
        raise ImageUnavailable(f"{tag} is missing and cannot be pulled; debootstrap needs root: run "
                               "`make host-deps` or `python -m tinyeit.containers.images base` as root")
    with tempfile.TemporaryDirectory(prefix="tinyeit-rootfs-") as tmp:
        root = Path(tmp) / "rootfs"
        proc = subprocess.run(["debootstrap", "--variant=minbase", "bookworm", str(root), mirror],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise ImageUnavailable(f"debootstrap bookworm failed: {proc.stdout[-600:]}{proc.stderr[-600:]}")
        (root / "etc/apt/sources.list").unlink(missing_ok=True)
        (root / "etc/apt/sources.list.d").mkdir(parents=True, exist_ok=True)
        (root / "etc/apt/sources.list.d/debian.sources").write_text(_DEB822)
        for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for entry in (root / cache).glob("*"):
                if entry.is_file():
                    entry.unlink()
        tar = subprocess.Popen(["tar", "--numeric-owner", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        imp = subprocess.run(["docker", "import", "--change", "CMD [\"bash\"]", "-", tag],
                             stdin=tar.stdout, capture_output=True, text=True)
        tar.stdout.close()
        tar.wait()
        if imp.returncode != 0 or tar.returncode != 0:
            raise ImageUnavailable(f"docker import of the debootstrap rootfs as {tag} failed: {imp.stderr.strip()}")
    return image_id(tag)


def needed_hosts(name: str) -> list[str]:
    """URLs a Dockerfile downloads from at build time, from its `# needs-network: URL ...` lines."""
    urls = []
    for line in dockerfile_path(name).read_text().splitlines():
        if line.startswith("# needs-network:"):
            urls += line.split(":", 1)[1].split()
    return urls


def _probe(url: str, timeout: float = 5.0) -> str | None:
    """None when `url` answers (any HTTP status), else why not."""
    try:
        urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout)
    except urllib.error.HTTPError:
        return None
    except (urllib.error.URLError, OSError) as exc:
        return str(getattr(exc, "reason", exc))
    return None


def _build_failure(name: str, dockerfile: Path, output: str) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", output)
    lines = [ln for ln in text.strip().splitlines()
             if ln.strip() and not ln.lstrip().startswith(("DEPRECATED", "BuildKit", "environment-variable",
                                                           "Removing intermediate", "---> Running"))]
    return f"building toolchain image {name} ({dockerfile}) failed:\n" + "\n".join(lines[-12:])


def ensure_image(name: str, log=None) -> str:
    """Return the tag of toolchain image `name`, building it (and the base image) when missing."""
    tag = image_tag(name)
    _require_engine()
    if image_id(tag):
        return tag
    for url in needed_hosts(name):
        why = _probe(url)
        if why is not None:
            raise ImageUnavailable(f"toolchain image {name} downloads from {url} at build time, which is "
                                   f"unreachable from this machine ({why})")
    found = directives(name)
    build_args = []
    if found["base-image"]:
        build_args = ["--build-arg", f"BASE={ensure_image(found['base-image'][0], log=log)}"]
    else:
        bootstrap_base_image()
    dockerfile = dockerfile_path(name)
    with tempfile.TemporaryDirectory(prefix=f"tinyeit-ctx-{name}-") as ctx:
        shutil.copy(dockerfile, Path(ctx) / "Dockerfile")
        for rel in found["context"]:
            shutil.copy(docker_dir() / rel, Path(ctx) / Path(rel).name)
        for rel in found["sources"]:
            sources.fetch_all(docker_dir() / rel, Path(ctx) / "sources")
        proc = subprocess.run(["docker", "build", "--pull=false", *build_args, "-t", tag, ctx],
                              capture_output=True, text=True, env=dict(os.environ, DOCKER_BUILDKIT="0"))
    if log is not None:
        Path(log).write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise ImageUnavailable(_build_failure(name, dockerfile, proc.stdout + proc.stderr))
    return tag


def write_stamp(name: str, stamp: Path) -> dict:
    """Build image `name` if needed and record {"tag", "image_id", "dockerfile_sha256", "available"}.

    An image that cannot be built here (arduino, esp-idf need the internet) is recorded as
    unavailable with the reason instead of failing: its boards then report "toolchain_unavailable".
    """
    record = {"name": name, "dockerfile_sha256": dockerfile_sha256(name), "tag": image_tag(name),
              "build_sha256": build_sha256(name)}
    pins = directives(name)["sources"]
    if pins:
        record["sources"] = [{"name": p.name, "commit": p.commit, "sha256": p.sha256}
                             for rel in pins for p in sources.load_pins(docker_dir() / rel)]
    try:
        tag = ensure_image(name)
        record.update(available=True, image_id=image_id(tag), runner="docker", reason=None)
    except EngineUnavailable as exc:
        record.update(available=False, image_id=None, runner="local", reason=str(exc))
    except ImageUnavailable as exc:
        record.update(available=False, image_id=None, runner="docker", reason=str(exc))
    write_json(stamp, record, sort_keys=True)
    return record


def main(argv: list[str]) -> int:
    """`base`, or build the named images; with no Docker engine, say that the local runner will be
    used (not an error: the study then runs the host's tools); a failed build is one."""
    if argv == ["base"]:
        print(bootstrap_base_image())
        return 0
    for name in argv:
        try:
            print(ensure_image(name))
        except EngineUnavailable as exc:
            print(f"tinyeit images: no Docker engine, so no toolchain image is built; builds use the "
                  f"host's tools (the local runner): {exc}")
            return 0
        except (ImageUnavailable, TinyEitError) as exc:
            print(f"tinyeit images: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
