"""`python -m tinyeit.containers.host ensure|stop`: the host tools the workflow drives.

`ensure` makes a Docker engine reachable (starting one as root on Debian) and debootstrap present
(for the base image); where no engine can be had it says so and the `local` runner takes over.
`stop` stops a dockerd that `ensure` started, and nothing else.
"""
from __future__ import annotations

import shutil
import sys

from tinyeit.containers import engine


def ensure() -> int:
    try:
        state = engine.ensure_engine()
    except engine.EngineUnavailable as exc:
        print(f"tinyeit host: {exc}; firmware builds will use the local runner (host tools)",
              file=sys.stderr)
        return 0
    if state == "started":
        print(f"tinyeit host: started dockerd (pidfile {engine.state_dir() / 'dockerd.pid'})", file=sys.stderr)
    if shutil.which("debootstrap") is None:
        if engine._is_root() and engine._is_debian():
            engine.apt_install(["debootstrap"])
        else:
            print("tinyeit host: debootstrap is missing; the base image can only come from a registry",
                  file=sys.stderr)
    return 0


def stop() -> int:
    if engine.stop_dockerd():
        print("tinyeit host: stopped the dockerd it had started", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["ensure"]:
        return ensure()
    if argv == ["stop"]:
        return stop()
    print("usage: python -m tinyeit.containers.host ensure|stop", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
