"""Turn one run's result lines into the `deployments` entry of a (board, variant) pair.

What was measured and what was estimated is kept apart in the record itself
(`latency_is_estimate`, `energy_is_estimate`, and `latency_method` naming how), because an
emulator counts instructions, not time. On the Cortex-M4F boards the emulator also counts cycles
through a model of the core's documented instruction timings (`m4_cycles_plugin.c`), and the
latency is those cycles at the board's clock: still an estimate. The rpi4's Cortex-A72 is
out of order, so no per-instruction table gives its cycles: its latency is the instruction count
at an assumed IPC (`ESTIMATED_IPC`); so is the ESP32's (Xtensa LX6, no published timings). An energy from the datasheet's active power is an estimate too.
`runner` says where an emulated run ran (`docker` or `local`, see tinyeit.containers); it is
null when nothing ran here (a real board, or a firmware that was not built).
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyeit.atomic import read_json, read_npz, write_json
from tinyeit.deploy.boards import Board
from tinyeit.deploy.protocol import Run
from tinyeit.errors import TinyEitError

DEPLOYMENT_KEYS = ("variant", "board", "engine", "transport", "status", "flash_bytes", "ram_bytes",
                   "arena_bytes", "instructions_per_inference", "cycles_per_inference",
                   "latency_ms", "latency_is_estimate", "latency_method", "energy_uj",
                   "energy_is_estimate", "outputs_match_host", "firmware_sha256")
EXTRA_KEYS = ("instructions_min", "instructions_median", "instructions_max", "cycles_min",
              "cycles_max", "frames",
              "outputs_exact", "outputs_max_abs_diff", "power_source", "runner", "error",
              "ram_static_bytes", "outputs_exact_tflm_interpreter",
              "outputs_max_abs_diff_tflm_interpreter",
              "weight_format", "weight_bytes", "weight_ram_bytes", "macs_executed")
# A float output equals LiteRT's when within this fraction of LiteRT's output range: the code
# generator's own criterion for float models (libm and summation order may differ by an ulp).
# Integer outputs must be equal to the bit.
FLOAT_RELATIVE_TOLERANCE = 1e-5
STATUSES = ("ok", "does_not_fit", "toolchain_unavailable", "unsupported", "failed")
# Instructions per cycle assumed where no cycle model exists. Cortex-A72 (rpi4): out of order,
# decodes at most 3 instructions a cycle; on compiled integer code such cores sustain about 1 to
# 1.5 (SPEC CPU integer runs), and a small int8/float inference loop (loads, multiply-adds,
# compare-and-branch, all in L1/L2) sits in that range, not at the peak: 1.2 is the midpoint used.
# ESP32 (Xtensa LX6): single issue, in order, so at most 1. Zero-overhead loops remove the
# branch cost of counted inner loops, but load-use interlocks, taken branches elsewhere,
# multi-cycle multiplies and float operations stall it, and code and constants come from flash
# through a cache (wait states on a miss): 0.8 is assumed. No cycle model: the LX6's timings are
# not published per instruction for this configuration.
ESTIMATED_IPC = {"aarch64_linux": 1.2, "esp32": 0.8}
IPC_CORE = {"aarch64_linux": "out-of-order core", "esp32": "in-order single-issue Xtensa LX6"}
# Built nothing to run, for a reason that is a result, not a failure: too big for the board, no
# toolchain here, or the engine has no kernel for an op or type of the model.
NOT_BUILT = ("does_not_fit", "toolchain_unavailable", "unsupported")


def load_build(path: str | Path) -> dict:
    """The firmware stage's build.json, checked for what the deploy stage reads."""
    build = read_json(path, "the firmware build record")
    status = build.get("status")
    if status not in ("ok", *NOT_BUILT, "failed"):
        raise TinyEitError(f"{path}: status {status!r} is not one of ok, "
                           f"{', '.join(NOT_BUILT)}, failed")
    return build


@dataclass(frozen=True)
class HostOutputs:
    """LiteRT's raw outputs, one little-endian row of bytes per frame: what each FRAME's out=
    is compared with. Behaves as the sequence of rows."""
    rows: tuple[bytes, ...]
    dtype: np.dtype
    tolerance: float  # absolute; 0 for integer outputs
    # tflm engine: the tflite-micro interpreter's outputs, compared bit for bit besides LiteRT's.
    tflm_reference: "np.ndarray | None" = None

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i):
        return self.rows[i]

    def __iter__(self):
        return iter(self.rows)


def expected_outputs(frames_npz: str | Path) -> HostOutputs:
    arrays = read_npz(frames_npz, "the export stage's deployment frames")
    if "output" not in arrays:
        raise TinyEitError(f"{frames_npz}: has no 'output' array")
    output = np.asarray(arrays["output"])
    if output.ndim == 0 or output.shape[0] == 0:
        raise TinyEitError(f"{frames_npz}: 'output' holds no frames")
    output = output.reshape(output.shape[0], -1)
    little = output.astype(output.dtype.newbyteorder("<"), copy=False)
    tolerance = 0.0
    if np.issubdtype(output.dtype, np.floating):
        span = float(np.max(output) - np.min(output)) or float(np.max(np.abs(output))) or 1.0
        tolerance = FLOAT_RELATIVE_TOLERANCE * span
    return HostOutputs(tuple(row.tobytes() for row in little), little.dtype, tolerance)


def model_macs(metrics_json: str | Path) -> int:
    metrics = read_json(metrics_json, "the export stage's model metrics")
    if not isinstance(metrics.get("macs"), (int, float)) or metrics["macs"] < 0:
        raise TinyEitError(f"{metrics_json}: key 'macs' missing or not a count")
    return int(metrics["macs"])


def base_profile(board: Board, variant: str, build: dict, firmware_sha256: str | None = None,
                 engine: str | None = None) -> dict:
    """The record before anything ran: sizes from the build, every measurement empty."""
    record = {k: None for k in DEPLOYMENT_KEYS}
    record.update(
        variant=variant, board=board.key, engine=engine or build.get("engine") or "aot",
        transport=board.transport,
        status=build.get("status") if build.get("status") in NOT_BUILT else "failed",
        flash_bytes=build.get("flash_bytes"), ram_bytes=build.get("ram_bytes"),
        arena_bytes=build.get("arena_bytes"),
        firmware_sha256=firmware_sha256 or build.get("sha256"),
        latency_is_estimate=None, energy_is_estimate=None)
    record.update({k: None for k in EXTRA_KEYS})
    record["power_source"] = board.power_source
    record["ram_static_bytes"] = build.get("ram_static_bytes")
    for key in ("weight_format", "weight_bytes", "weight_ram_bytes", "macs_executed"):
        record[key] = build.get(key)
    if build.get("status") in NOT_BUILT or build.get("status") == "failed":
        record["error"] = build.get("reason") or build.get("error")
    return record


def failed(record: dict, reason: str) -> dict:
    """The same record marked failed with the reason (the study goes on without this pair)."""
    return {**record, "status": "failed", "error": reason}


def compare_outputs(run: Run, expected: HostOutputs) -> dict:
    """Element by element against LiteRT, for every frame run: bit-exact for integer outputs,
    within the float tolerance for float ones. The firmware embeds the first frames of
    frames.npz; it may not run more than the file has."""
    if not run.frames or len(run.frames) > len(expected):
        return {"outputs_match_host": False, "outputs_exact": False, "outputs_max_abs_diff": None}
    exact = all(frame.output == want for frame, want in zip(run.frames, expected))
    if len(run.frames[0].output) != len(expected[0]):
        return {"outputs_match_host": False, "outputs_exact": False, "outputs_max_abs_diff": None}
    got = np.frombuffer(b"".join(f.output for f in run.frames), dtype=expected.dtype)
    want = np.frombuffer(b"".join(expected[: len(run.frames)]), dtype=expected.dtype)
    diff = float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))))
    return {"outputs_match_host": bool(exact or diff <= expected.tolerance),
            "outputs_exact": exact, "outputs_max_abs_diff": _sig(diff)}


def _sig(value: float) -> float:
    """Nine significant digits: stable text in JSON, and no loss for sub-microsecond figures."""
    return float(f"{value:.9g}")


def _stats(values: list[int]) -> tuple[int, int, int]:
    return min(values), int(statistics.median_low(values)), max(values)


def latency_method(board: Board) -> str:
    """How an emulated latency is estimated on this board, in words for the record."""
    mhz = f"{board.clock_hz / 1e6:g} MHz"
    if board.family == "cortex_m4f":
        return f"cortex-m4 cycle model (TRM timings, zero wait states), {mhz}"
    ipc = ESTIMATED_IPC.get(board.family, 1.0)
    core = f"{IPC_CORE[board.family]}, " if board.family in IPC_CORE else ""
    return f"instructions at an assumed IPC of {ipc:g} ({core}no cycle model), {mhz}"


def measured(record: dict, board: Board, run: Run, expected: HostOutputs, *,
             instructions: list[int] | None = None, cycles: list[int] | None = None,
             tick_hz: float | None = None, energy_uj: float | None = None,
             energy_source: str | None = None) -> dict:
    """Fill a record from a completed run.

    Emulated: `instructions` (and on a Cortex-M4F `cycles`) per frame, exact and deterministic;
    latency and energy estimated. Real board: `tick_hz` converts the firmware's ticks to a
    measured latency; energy is measured when a power meter gave `energy_uj`, else estimated
    from the datasheet power.
    """
    out = dict(record)
    out["frames"] = len(run.frames)
    if run.status != "ok":
        return failed(out, f"tinyeit_invoke returned error code {run.error_code} on the board")
    if not run.frames:
        return failed(out, "the firmware ran no frames")
    if instructions is not None:
        lo, mid, hi = _stats(instructions)
        out.update(instructions_per_inference=mid, instructions_min=lo, instructions_median=mid,
                   instructions_max=hi, latency_is_estimate=True,
                   latency_method=latency_method(board))
        if cycles is not None:
            clo, cmid, chi = _stats(cycles)
            out.update(cycles_per_inference=cmid, cycles_min=clo, cycles_max=chi,
                       latency_ms=_sig(cmid / board.clock_hz * 1e3))
        else:
            ipc = ESTIMATED_IPC.get(board.family, 1.0)
            out["latency_ms"] = _sig(mid / ipc / board.clock_hz * 1e3)
    elif tick_hz:
        lo, mid, hi = _stats([f.ticks for f in run.frames])
        out.update(latency_ms=_sig(mid / tick_hz * 1e3), latency_is_estimate=False,
                   latency_method=f"measured: the board's ticks at {tick_hz:g} Hz")
    else:
        raise TinyEitError(f"board {board.key}: neither instruction counts nor a tick rate given")
    if energy_uj is not None:
        out.update(energy_uj=_sig(energy_uj), energy_is_estimate=False,
                   power_source=energy_source or "power meter")
    else:
        # mW x ms = uJ
        out.update(energy_uj=_sig(board.active_power_mw * out["latency_ms"]),
                   energy_is_estimate=True, power_source=board.power_source)
    out.update(compare_outputs(run, expected))
    if expected.tflm_reference is not None:
        from tinyeit.deploy.tflm_reference import compare

        out.update(compare([f.output for f in run.frames], expected.tflm_reference))
    out["status"] = "ok"
    out["error"] = None
    return out


def check(record: dict, where: str) -> dict:
    """Refuse a record the summary would refuse, before it is written."""
    missing = [k for k in DEPLOYMENT_KEYS if k not in record]
    if missing:
        raise TinyEitError(f"{where}: profile lacks {', '.join(missing)}")
    if record["status"] not in STATUSES:
        raise TinyEitError(f"{where}: status {record['status']!r} not in {', '.join(STATUSES)}")
    unknown = [k for k in record if k not in DEPLOYMENT_KEYS + EXTRA_KEYS]
    if unknown:
        raise TinyEitError(f"{where}: profile has unknown keys {', '.join(unknown)}")
    return record


def write_profile(record: dict, path: str | Path) -> None:
    """Atomically, keys in contract order: equal runs give equal bytes."""
    path = Path(path)
    check(record, str(path))
    ordered = {k: record[k] for k in DEPLOYMENT_KEYS + EXTRA_KEYS if k in record}
    write_json(path, ordered)
