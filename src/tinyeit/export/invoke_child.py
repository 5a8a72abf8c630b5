"""`python -m tinyeit.export.invoke_child MODEL FRAMES N [ref]`: N invoke() calls, nothing else.

The process that callgrind runs for `tinyeit.export.host_instructions`: it sets up the same
interpreter as the host latency measurement (or BUILTIN_REF with `ref`) on the same frame,
prints `ready`, waits for a line on stdin (the parent turns callgrind's instrumentation on
meanwhile: start-up runs uninstrumented, which is faster), then invokes it N times;
instructions are counted inside invoke() only.
"""
from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    from tinyeit.export.host_latency import first_frame, prepared_invoke

    model, frames, n = argv[0], argv[1], int(argv[2])
    reference = len(argv) > 3 and argv[3] == "ref"
    invoke = prepared_invoke(Path(model).read_bytes(), first_frame(frames), reference, warm=False)
    print("ready", flush=True)
    sys.stdin.readline()
    for _ in range(n):
        invoke()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
