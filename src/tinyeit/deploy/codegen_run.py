"""Run generated C on a board's emulator, so that the target kernels are checked on the target.

`run_board(tflite, inputs, board, board_cfg)` generates the C, builds it with the study's own
firmware build for that board (the same flags, start-up and harness as every firmware; the
rows embedded as its frames), runs it under the board family's emulator (QEMU mps2-an386 for the
Cortex-M4F boards, qemu-aarch64 for rpi4, QEMU's `sim` machine with the esp32 core for the ESP32)
and returns the raw outputs the firmware printed.
`tinyeit codegen-run MODEL IN.npy OUT.npy --board B` is this function. It lives in the deploy
stage because it uses the firmware build and the emulators, which come after code generation.
"""
from __future__ import annotations

import json

import tempfile
from pathlib import Path

import numpy as np

from tinyeit.atomic import write_text
from tinyeit.codegen import input_rows, shaped_outputs
from tinyeit.codegen.model_reader import CodegenError

EMULATED_FAMILIES = ("cortex_m4f", "aarch64_linux", "esp32")


def run_board(tflite: str | Path, inputs: np.ndarray, board: str, board_cfg: dict,
              flavor: str = "litert") -> np.ndarray:
    """Outputs (rows, *output shape without batch) of the generated C run on `board`'s emulator."""
    from tinyeit.codegen.generator import build
    from tinyeit.deploy import emulator, protocol  # noqa: PLC0415
    from tinyeit.firmware.build import build_firmware  # noqa: PLC0415

    tflite = str(tflite)
    family = board_cfg.get("family")
    if family not in EMULATED_FAMILIES:
        raise CodegenError(f"board {board}: family {family!r} has no emulator here "
                           f"(emulated: {', '.join(EMULATED_FAMILIES)})")
    result = build(tflite, flavor)
    rows = input_rows(result, tflite, inputs)
    out_dtype = np.dtype(result["output_dtype"])
    with tempfile.TemporaryDirectory(prefix="tinyeit-codegen-run-") as tmp:
        work = Path(tmp)
        for name, text in result["files"].items():
            write_text(work / "code" / name, text)
        from tinyeit.codegen.weight_formats import weights_document  # noqa: PLC0415

        write_text(work / "code" / "weights.json",
                   json.dumps(weights_document(result["layers"]), sort_keys=True))
        frames = work / "frames.npz"
        np.savez(frames, input=rows)
        record = build_firmware(board, board_cfg, "codegen-run", work / "code", frames,
                                work / "fw", n_frames=len(rows))
        if record.get("status") != "ok":
            raise CodegenError(f"{tflite}: the firmware for board {board} was not built: "
                               f"{record.get('status')}: {record.get('reason')}")
        image = work / "fw" / record["image"]
        timeout = emulator.timeout_for(10 ** 6, len(rows))
        runs = {"cortex_m4f": emulator.run_cortex_m, "aarch64_linux": emulator.run_aarch64,
                "esp32": emulator.run_esp32}
        run = runs[family](image, timeout)
    where = f"{tflite} on board {board} (emulated)"
    parsed = protocol.parse(run.stdout, where=where)
    if parsed.status != "ok" or len(parsed.frames) != len(rows):
        raise CodegenError(f"{where}: the run ended with status {parsed.status} after "
                           f"{len(parsed.frames)} of {len(rows)} rows (exit {run.returncode})")
    out = np.stack([np.frombuffer(f.output, dtype=out_dtype.newbyteorder("<"))
                    for f in parsed.frames]).astype(out_dtype)
    return shaped_outputs(result, out)
