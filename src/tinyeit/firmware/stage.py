"""Stage a firmware's sources into one folder: board sources, the generated model, the frames.

Everything a build needs is copied (sorted, byte for byte) or generated here, so the build runs
on relative paths in that folder only: same inputs, same bytes, whatever the folder is called.
"""
from __future__ import annotations

import re
import shutil
from importlib import resources
from pathlib import Path

import numpy as np

from tinyeit.atomic import read_npz
from tinyeit.errors import TinyEitError

MODEL_KEYS = ("TINYEIT_INPUT_SIZE", "TINYEIT_OUTPUT_SIZE", "TINYEIT_INPUT_TYPE", "TINYEIT_OUTPUT_TYPE",
              "TINYEIT_ARENA_BYTES", "TINYEIT_WEIGHTS_BYTES")
# Written by newer generators only; absent means none (fixtures, older folders).
OPTIONAL_MODEL_KEYS = ("TINYEIT_FC_PAIRS_LAYERS", "TINYEIT_WEIGHTS_BYTES_FC_PAIRS",
                       "TINYEIT_FC_PAIRS_WIDE_LAYERS", "TINYEIT_FC_PAIRS_SMALL_FAST_LAYERS")
C_TYPES = {"int8_t": np.int8, "float": np.float32, "uint8_t": np.uint8, "int16_t": np.int16}


def board_sources_dir(family: str) -> Path:
    """The package-data folder of one board family's C sources."""
    return Path(str(resources.files("tinyeit.firmware") / "boards" / family))


def read_model_header(codegen_dir: Path) -> dict:
    """The #defines of the generated model.h that the firmware needs; error names what is missing."""
    header = Path(codegen_dir) / "model.h"
    if not header.is_file():
        raise TinyEitError(f"{header}: missing (the code generator writes model.h and model.c)")
    text = header.read_text()
    found = {}
    for key in MODEL_KEYS:
        match = re.search(rf"^\s*#\s*define\s+{key}\s+\(?\s*([A-Za-z0-9_]+)", text, re.M)
        if not match:
            raise TinyEitError(f"{header}: no `#define {key}`, required by the generated C API")
        value = match.group(1)
        found[key] = value if key.endswith("_TYPE") else int(value.rstrip("uUlL"), 0)
    for key in OPTIONAL_MODEL_KEYS:
        match = re.search(rf"^\s*#\s*define\s+{key}\s+\(?\s*([0-9]+)", text, re.M)
        if match:
            found[key] = int(match.group(1))
    return found


def model_source_files(codegen_dir: Path) -> list[Path]:
    """Every .c/.h of the generator's output folder, sorted by name."""
    files = sorted(p for p in Path(codegen_dir).iterdir() if p.suffix in (".c", ".h") and p.is_file())
    if not any(p.name == "model.c" for p in files):
        raise TinyEitError(f"{codegen_dir}: no model.c (the code generator's output folder)")
    return files


def _c_literal(value, ctype: str) -> str:
    if ctype == "float":
        return float(value).hex() + "f" if np.isfinite(value) else "0.0f"
    return str(int(value))


def frames_source(frames_npz: Path, model: dict, n_frames: int) -> tuple[str, str, int]:
    """(tinyeit_frames.h, tinyeit_frames.c, n) embedding the first n_frames of frames.npz's `input`."""
    data = read_npz(frames_npz, "the export stage's deployment frames")
    if "input" not in data:
        raise TinyEitError(f"{frames_npz}: no `input` array (the deployment test frames)")
    inputs = np.asarray(data["input"])
    ctype = model["TINYEIT_INPUT_TYPE"]
    size = model["TINYEIT_INPUT_SIZE"]
    want = C_TYPES.get(ctype)
    if want is None:
        raise TinyEitError(f"model.h: TINYEIT_INPUT_TYPE {ctype!r} is not one of {sorted(C_TYPES)}")
    if inputs.dtype != want:
        raise TinyEitError(f"{frames_npz}: `input` is {inputs.dtype} but the model's input is {ctype}")
    inputs = inputs.reshape(len(inputs), -1)
    if inputs.shape[1] != size:
        raise TinyEitError(f"{frames_npz}: `input` frames have {inputs.shape[1]} values, "
                           f"the model's TINYEIT_INPUT_SIZE is {size}")
    n = min(int(n_frames), len(inputs))
    if n < 1:
        raise TinyEitError(f"{frames_npz}: no frames to embed")
    header = ("/* Test frames embedded in the firmware (generated from frames.npz). */\n"
              "#ifndef TINYEIT_FRAMES_H\n#define TINYEIT_FRAMES_H\n#include <stdint.h>\n#include \"model.h\"\n"
              f"#define TINYEIT_N_FRAMES {n}u\n"
              "extern const TINYEIT_INPUT_TYPE tinyeit_frames[TINYEIT_N_FRAMES][TINYEIT_INPUT_SIZE];\n#endif\n")
    rows = []
    for frame in inputs[:n]:
        values = [_c_literal(v, ctype) for v in frame]
        lines = [", ".join(values[k:k + 8]) for k in range(0, len(values), 8)]
        rows.append("    {\n        " + ",\n        ".join(lines) + "\n    }")
    source = ("/* Test frames embedded in the firmware (generated from frames.npz). */\n"
              "#include \"tinyeit_frames.h\"\n\n"
              "const TINYEIT_INPUT_TYPE tinyeit_frames[TINYEIT_N_FRAMES][TINYEIT_INPUT_SIZE] = {\n"
              + ",\n".join(rows) + "\n};\n")
    return header, source, n


def board_header(board: str, clock_hz: int) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_]+", board):
        raise TinyEitError(f"board {board!r}: a board key must be letters, digits and '_'")
    return ("/* The board this firmware was built for (generated). */\n"
            "#ifndef TINYEIT_BOARD_H\n#define TINYEIT_BOARD_H\n"
            f"#define TINYEIT_BOARD \"{board}\"\n#define TINYEIT_CLOCK_HZ {int(clock_hz)}u\n#endif\n")


CODEBOOK_HEADER = "tinyeit_codebook.h"
# The stack a bare-metal build reserves (firmware.build's default) and the codebook plan keeps free.
STACK_BYTES = 4096


def static_memory(board_cfg: dict) -> tuple[int, int]:
    """(RAM the static data and the stack share, stack reserve) of a board's build: its ram_bytes
    and STACK_BYTES on Cortex-M (0: no limit, Linux); on the ESP32 the app's static DRAM segment
    within ram_bytes (the rest of SRAM is IRAM and heap) and its own, larger, stack reserve."""
    ram = int(board_cfg.get("ram_bytes") or 0)
    if board_cfg.get("family") == "esp32":
        from tinyeit.firmware import esp32_build  # noqa: PLC0415 (it builds on this module)

        dram = esp32_build.REGIONS["dram"][1]
        return (min(ram, dram) if ram else dram), esp32_build.STACK_BYTES
    return ram, STACK_BYTES


def codebook_plan(codegen_dir: Path, board: str, board_cfg: dict, arena_bytes: int):
    """(tinyeit_codebook.h, layer records) of this board's build: which clustered int8 layers
    expand into RAM (codegen.codebook_ram.plan, on the board's static memory and its `codebook`
    setting, auto by default); None for a model without such layers."""
    from tinyeit.atomic import read_json  # noqa: PLC0415
    from tinyeit.codegen import codebook_ram  # noqa: PLC0415

    codegen_dir = Path(codegen_dir)
    if not (codegen_dir / CODEBOOK_HEADER).is_file():
        return None
    path = codegen_dir / "weights.json"
    if not path.is_file():
        raise TinyEitError(f"{path}: missing; board {board} needs the layers' figures to choose "
                           f"which codebook layers to expand ({CODEBOOK_HEADER})")
    layers = read_json(path, "the code generator's weight figures").get("layers")
    if not isinstance(layers, list):
        raise TinyEitError(f"{path}: no `layers` list")
    # a bad `codebook` setting raises a CodegenError (a TinyEitError) naming the board and key
    ram_bytes, stack_bytes = static_memory(board_cfg)
    return codebook_ram.plan(layers, board_cfg.get("family"), ram_bytes, int(arena_bytes), stack_bytes,
                             board_cfg.get("codebook", "auto"), board)


def stage_sources(dest: Path, board: str, clock_hz: int, family_dirs: list[str], codegen_dir: Path,
                  frames_npz: Path, n_frames: int, exclude: tuple[str, ...] = (),
                  board_cfg: dict | None = None) -> dict:
    """Fill `dest` with the harness, the families' sources, the model and the frames; return model.h's values.
    With `board_cfg`, tinyeit_codebook.h (where the model has one) is this board's (codebook_plan)."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    model = read_model_header(codegen_dir)
    for family in ["common", *family_dirs]:
        for src in sorted(board_sources_dir(family).iterdir()):
            if src.is_file() and src.suffix in (".c", ".S", ".h", ".ld") and src.name not in exclude:
                shutil.copyfile(src, dest / src.name)
    for src in model_source_files(codegen_dir):
        if (dest / src.name).exists():
            raise TinyEitError(f"{src}: the name clashes with a firmware source of the same name")
        shutil.copyfile(src, dest / src.name)
    header, source, n = frames_source(frames_npz, model, n_frames)
    (dest / "tinyeit_frames.h").write_text(header)
    (dest / "tinyeit_frames.c").write_text(source)
    (dest / "tinyeit_board.h").write_text(board_header(board, clock_hz))
    if board_cfg is not None:
        planned = codebook_plan(codegen_dir, board, board_cfg, model["TINYEIT_ARENA_BYTES"])
        if planned is not None:
            (dest / CODEBOOK_HEADER).write_text(planned[0])
            # an expanded layer in blocks of four pairs needs the unrolled pairs kernel
            model["codebook_pairs_wide"] = any(
                rec.get("weight_layout") == "unit_pairs"
                and rec["codebook_ram"]["layouts"]["unit_pairs"].get("wide", False)
                for rec in planned[1])
            # and one with the short epilogue below that size, the fused small blocks
            model["codebook_pairs_small_fast"] = any(
                rec.get("weight_layout") == "unit_pairs"
                and rec["codebook_ram"]["layouts"]["unit_pairs"].get("small_fast", False)
                for rec in planned[1])
    model["n_frames"] = n
    return model
