"""Stand-ins for what cannot exist here: board tools (arduino-cli, esptool, ssh, scp) as fake
executables on PATH that record their argv and answer as told, and the result lines a board prints."""
from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

# What the project's harness prints for two frames of a 4-in, 2-out int8 model on the Nicla.
LINES = (b"TINYEIT BEGIN v=1 board=nicla frames=2 in=4 out=2 clock_hz=64000000\r\n"
         b"TINYEIT FRAME i=0 ticks=64000 out=01fe\r\n"
         b"TINYEIT FRAME i=1 ticks=64010 out=0304\r\n"
         b"TINYEIT END status=ok\r\n")


def fake_tool(bin_dir: Path, name: str, stdout: str = "", exit_code: int = 0, stderr: str = "",
              hang: bool = False) -> Path:
    """An executable that appends its argv (JSON) to <bin_dir>/<name>.calls, answers, and exits;
    with `hang`, it sleeps two minutes first (a tool that never returns)."""
    script = bin_dir / name
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys, time\n"
        f"open({str(bin_dir / (name + '.calls'))!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
        f"sys.stdout.write({stdout!r}); sys.stderr.write({stderr!r}); sys.stdout.flush()\n"
        + ("time.sleep(120)\n" if hang else "")
        + f"sys.exit({exit_code})\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def calls(bin_dir: Path, name: str) -> list[list[str]]:
    """Every argv the fake `name` was called with, in order."""
    path = bin_dir / f"{name}.calls"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
