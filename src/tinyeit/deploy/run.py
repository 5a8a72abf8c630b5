"""Profile one (board, variant) pair on the board's configured transport; write its profile.json.

Outcomes, by design:
- the build says does_not_fit / toolchain_unavailable: a profile with that status and the
  build's numbers; nothing runs.
- emulator: a hang (killed after a timeout derived from the model's MACs), a crash or broken
  result lines give a profile with status "failed" and the reason; the study goes on.
- real board (serial, ssh): any upload, port or result-line problem raises a TinyEitError naming
  board, port and variant, and no profile is written, so the job fails and can be rerun.
"""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from tinyeit.deploy import images, profile
from tinyeit.deploy.boards import Board, board_from_config
from tinyeit.deploy.protocol import ProtocolError, Run, parse
from tinyeit.errors import TinyEitError

NS_PER_S = 1e9   # the rpi4 firmware's ticks are CLOCK_MONOTONIC nanoseconds


def sha256_file(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def profile_pair(config: dict, board_key: str, variant: str, build_json: str | Path,
                 frames_npz: str | Path, metrics_json: str | Path, out: str | Path,
                 log=sys.stderr, engine: str = "aot", tflite: str | Path | None = None) -> dict:
    """Run the pair (with `engine`'s firmware) and write `out`; return the record written."""
    board = board_from_config(config, board_key)
    build = profile.load_build(build_json)
    if build.get("engine", "aot") != engine:
        raise TinyEitError(f"{build_json}: is a build of engine {build.get('engine', 'aot')!r}, "
                           f"profiling asked for {engine!r}")
    record = profile.base_profile(board, variant, build, engine=engine)
    if build["status"] != "ok":
        profile.write_profile(record, out)
        return record
    expected = profile.expected_outputs(frames_npz)
    if engine == "tflm" and tflite is not None:
        from dataclasses import replace

        from tinyeit.deploy.tflm_reference import interpreter_outputs

        try:
            expected = replace(expected, tflm_reference=interpreter_outputs(tflite, frames_npz))
        except TinyEitError as exc:  # the firmware's own run still says what TFLM does
            print(f"tinyeit: board {board_key}, variant {variant}: {exc}", file=log)
    macs = profile.model_macs(metrics_json)
    if board.transport == "emulator":
        record = _emulated(board, variant, build, build_json, record, expected, macs, log)
    elif board.transport == "serial":
        record = _serial(board, variant, build, build_json, record, expected, macs)
    else:
        record = _ssh(board, variant, build, build_json, record, expected, macs)
    profile.write_profile(record, out)
    return record


def _tail(text: str, n: int = 400) -> str:
    text = (text or "").strip()
    return text[-n:] if text else "(no output)"


def _emulated(board: Board, variant: str, build: dict, build_json, record: dict,
              expected: profile.HostOutputs, macs: int, log) -> dict:
    from tinyeit.deploy import emulator

    where = f"board {board.key} (emulated), variant {variant}"
    image = images.emulator_image(build, build_json, board.family)
    record["firmware_sha256"] = sha256_file(image)
    timeout_s = emulator.timeout_for(macs, len(expected))
    if board.family == "cortex_m4f":
        result = emulator.run_cortex_m(image, timeout_s)
    elif board.family == "aarch64_linux":
        result = emulator.run_aarch64(image, timeout_s)
    elif board.family == "esp32":
        result = emulator.run_esp32(image, timeout_s)
    else:
        raise TinyEitError(f"board {board.key}: family {board.family!r} has no emulator")
    record["runner"] = result.runner
    if result.timed_out:
        reason = (f"hung: killed after {timeout_s:g} s (timeout from {macs} MACs x "
                  f"{len(expected)} frames)")
        print(f"tinyeit: {where}: {reason}", file=log)
        return profile.failed(record, reason)
    try:
        run = parse(result.stdout, where=where, boards=board.names,
                    output_bytes=len(expected[0]) if expected else None)
    except ProtocolError as exc:
        crash = f"; QEMU exit code {result.returncode}, stderr: {_tail(result.stderr)}" \
            if result.returncode else ""
        print(f"tinyeit: {exc}{crash}", file=log)
        return profile.failed(record, f"{exc}{crash}")
    if run.status != "ok":
        return profile.measured(record, board, run, expected, instructions=[])
    instructions, cycles = result.instructions, result.cycles
    if instructions is None or len(instructions) != len(run.frames):
        reason = (f"the instruction counter saw {len(instructions or [])} inference(s) "
                  f"for {len(run.frames)} frames (the firmware must read the clock exactly "
                  "twice per frame)")
        return profile.failed(record, reason)
    if result.returncode != 0:
        return profile.failed(record, f"the firmware exited with code {result.returncode} after "
                                      f"END: {_tail(result.stderr)}")
    done = profile.measured(record, board, run, expected, instructions=instructions, cycles=cycles)
    if done["status"] == "ok" and not done["outputs_match_host"]:
        differ = [f.index for f, want in zip(run.frames, expected) if f.output != want]
        print(f"tinyeit: {where}: outputs differ from LiteRT's (bytes) in frame(s) "
              f"{', '.join(map(str, differ)) or '(count mismatch)'}", file=log)
    return done


def _real_timeout(macs: int, n_frames: int) -> float:
    """A real board is faster than the emulator: the emulator's bound is ample."""
    from tinyeit.deploy.emulator import timeout_for

    return timeout_for(macs, n_frames)


def _serial(board: Board, variant: str, build: dict, build_json, record: dict,
            expected: profile.HostOutputs, macs: int) -> dict:
    from tinyeit.deploy import flashers, serial_link

    port = serial_link.find_port(board, variant)
    if board.family == "esp32":
        pairs = images.esp32_flash_images(build, build_json)
        flashers.write_flash_esp32(board, port, variant, pairs)
        record["firmware_sha256"] = sha256_file(pairs[0][1]) if len(pairs) == 1 else \
            build.get("sha256")
    elif board.family == "cortex_m4f":
        upload = images.arduino_upload(build, build_json)
        flashers.upload_arduino(board, port, variant, **upload)
        if upload["input_file"] is not None:
            record["firmware_sha256"] = sha256_file(upload["input_file"])
    else:
        raise TinyEitError(f"board {board.key}: the serial transport is for microcontrollers")
    run, energy = _read_with_meter(board, port, variant, expected, macs)
    return _real(record, board, run, expected, run.clock_hz, energy)


def _read_with_meter(board: Board, port: str, variant: str, expected: profile.HostOutputs, macs: int):
    from tinyeit.deploy import serial_link

    timeout_s = _real_timeout(macs, len(expected))
    link = serial_link.open_port(board, port, variant)
    try:
        if board.family == "esp32":
            serial_link.reset_esp32(link)
        if board.power_meter:
            from tinyeit.deploy.power import Ppk2Meter

            with Ppk2Meter(board.power_meter, board.key) as meter:
                run = serial_link.read_run(link, board, port, variant, timeout_s,
                                           output_bytes=len(expected[0]))
            return run, meter
        return serial_link.read_run(link, board, port, variant, timeout_s,
                                    output_bytes=len(expected[0])), None
    finally:
        link.close()


def _real(record: dict, board: Board, run: Run, expected: profile.HostOutputs, tick_hz: float,
          meter) -> dict:
    done = profile.measured(record, board, run, expected, tick_hz=tick_hz)
    if meter is not None and done["status"] == "ok":
        from tinyeit.deploy.power import energy_uj

        done = profile.measured(record, board, run, expected, tick_hz=tick_hz,
                                energy_uj=energy_uj(meter.mean_power_mw(), done["latency_ms"]),
                                energy_source=meter.source)
    if done["status"] != "ok":
        raise TinyEitError(f"board {board.key}, variant {record['variant']}: {done['error']}")
    return done


def _ssh(board: Board, variant: str, build: dict, build_json, record: dict,
         expected: profile.HostOutputs, macs: int) -> dict:
    from tinyeit.deploy import flashers

    image = images.emulator_image(build, build_json, board.family)
    sha = sha256_file(image)
    record["firmware_sha256"] = sha
    timeout_s = _real_timeout(macs, len(expected))
    stdout = flashers.run_over_ssh(board, variant, image, sha, timeout_s)
    where = f"board {board.key}, host {board.ssh.get('host')}, variant {variant}"
    run = parse(stdout, where=where, boards=board.names, output_bytes=len(expected[0]))
    return _real(record, board, run, expected, NS_PER_S, None)
