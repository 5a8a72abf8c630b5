"""What an end-to-end study must show for each deployment, as one checker with its own tests.

A deployment passes when it ran and matched LiteRT (`ok`), or when its firmware was refused by
the board's limits with the byte figures that say why (`does_not_fit`), or when an engine other than
the project's own says in its own words that it has no kernel for the model (`unsupported`: TFLite
Micro and hybrid or float16 models). Any other status is a failure unless the caller expects
exactly that status, with a reason, for that board.
"""
from __future__ import annotations

import re

NEEDS_BYTES = re.compile(r"needs \d+ bytes")
# TFLite Micro's refusal, quoted by the build after this prefix.
UNSUPPORTED_SAYS = re.compile(r"^TFLite Micro cannot run this model: \S")


def _count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _outputs_match(d: dict) -> bool:
    return d.get("outputs_match_host") is True


def deployment_problems(deployments: list[dict], expected: dict | None = None,
                        runner: str | None = "docker", outputs_ok=_outputs_match) -> list[str]:
    """Every way the deployments fall short, one line each (empty when all are fine).

    `expected` maps a board key, or a (board, engine) pair, to (status, text its error must
    contain), for what cannot be built here by design. `runner` is what every emulated run must
    name in `runner`. `outputs_ok(d)` says whether an ok deployment's outputs are acceptable.
    """
    expected = expected or {}
    problems = []
    for d in deployments:
        where = "/".join(str(d[k]) for k in ("board", "engine", "variant") if k in d)
        status = d.get("status")
        key = (d.get("board"), d.get("engine")) if (d.get("board"), d.get("engine")) in expected \
            else d.get("board")
        if key in expected:
            want, reason = expected[key]
            if status != want:
                problems.append(f"{where}: status {status!r}, expected {want!r}: {d.get('error')}")
            elif reason not in (d.get("error") or ""):
                problems.append(f"{where}: {want} without the expected reason {reason!r}: {d.get('error')!r}")
        elif status == "ok":
            if not outputs_ok(d):
                problems.append(f"{where}: ok but the outputs differ from LiteRT's")
            if d.get("transport") == "emulator" and not _count(d.get("instructions_per_inference")):
                problems.append(f"{where}: ok without an instruction count")
            if not (isinstance(d.get("latency_ms"), (int, float)) and d["latency_ms"] > 0):
                problems.append(f"{where}: ok without a latency")
            if not _count(d.get("flash_bytes")) or not d.get("firmware_sha256"):
                problems.append(f"{where}: ok without the firmware's size and hash")
            if runner is not None and d.get("transport") == "emulator" and d.get("runner") != runner:
                problems.append(f"{where}: ran with the {d.get('runner')!r} runner, expected {runner!r}")
        elif status == "does_not_fit":
            if not (_count(d.get("flash_bytes")) and _count(d.get("ram_bytes"))
                    and NEEDS_BYTES.search(d.get("error") or "")):
                problems.append(f"{where}: does_not_fit without the byte figures: "
                                f"flash {d.get('flash_bytes')!r}, ram {d.get('ram_bytes')!r}, {d.get('error')!r}")
        elif status == "unsupported" and d.get("engine") not in (None, "aot"):
            if not UNSUPPORTED_SAYS.search(d.get("error") or ""):
                problems.append(f"{where}: unsupported without the engine's own message: {d.get('error')!r}")
        else:
            problems.append(f"{where}: {status}: {d.get('error')}")
    return problems
