"""`python -m tinyeit.cluster up|down|status|env`: the local SLURM cluster (`make cluster-up`).

`env` prints the shell lines that point SLURM's commands and Snakemake at this cluster:
`eval "$(python -m tinyeit.cluster env)"`.
"""
from __future__ import annotations

import shlex
import sys
import time

from tinyeit.cluster import layout as lay
from tinyeit.cluster.control import ClusterError, client_env, down, running, up
from tinyeit.cluster.layout import Layout

USAGE = "usage: python -m tinyeit.cluster up|down|status|env"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0] not in ("up", "down", "status", "env"):
        print(USAGE, file=sys.stderr)
        return 2
    layout = Layout(lay.default_root())
    try:
        if argv[0] == "up":
            t0 = time.monotonic()
            started = up(layout)
            what = f"started {', '.join(started)}" if started else "already running"
            print(f"tinyeit cluster: {what} ({time.monotonic() - t0:.1f} s); files in {layout.root}\n"
                  f"  use it: eval \"$(python -m tinyeit.cluster env)\"; "
                  f"snakemake --profile profiles/slurm all", file=sys.stderr)
        elif argv[0] == "down":
            stopped = down(layout)
            print(f"tinyeit cluster: {'stopped ' + ', '.join(stopped) if stopped else 'nothing to stop'}",
                  file=sys.stderr)
        elif argv[0] == "status":
            alive = running(layout)
            for daemon, pid in alive.items():
                print(f"{daemon}\t{pid}")
            return 0 if alive else 3
        else:
            env = client_env(layout, base={"PATH": "$PATH"})
            print(f"export SLURM_CONF={shlex.quote(env['SLURM_CONF'])}")
            print(f"export PATH={shlex.quote(str(layout.bin))}:\"$PATH\"")
    except ClusterError as exc:
        print(f"tinyeit cluster: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
