"""Emulated profiling with real firmware, real Docker images and real QEMU.

The firmware is the firmware stage's real build around its fixture model (a tiny model obeying
the generated C API), so these tests cover the deploy stage's side of the contract end to end.
"""
import json
import re

import numpy as np
import pytest

from tinyeit.deploy import emulator, profile
from tinyeit.deploy.run import profile_pair

pytestmark = [pytest.mark.docker, pytest.mark.slow]

BOARDS = {
    "nicla_sense": dict(alias="nicla", family="cortex_m4f", clock_hz=64_000_000, flash_bytes=524288,
                        ram_bytes=65536, active_power_mw=11.1, power_source="nRF52832 PS v1.4",
                        transport="emulator"),
    "rpi4": dict(alias="rpi4", family="aarch64_linux", clock_hz=1_500_000_000, flash_bytes=0,
                 ram_bytes=0, active_power_mw=3400.0, power_source="RPi docs", transport="emulator"),
    "esp32": dict(alias="esp32", family="esp32", clock_hz=240_000_000, flash_bytes=4194304,
                  ram_bytes=532480, active_power_mw=224.4, power_source="ESP32 ds", transport="emulator"),
}


def build(tmp_path, board, input_size=8, invoke_prefix=None, n=3, tag="v"):
    """Build the fixture firmware for `board`; return the paths profile_pair needs."""
    from tinyeit.firmware import build_firmware
    from tinyeit.firmware.fixture_model import (fixture_expected, write_fixture_frames,
                                                write_fixture_model)

    root = tmp_path / tag
    codegen = root / "codegen"
    write_fixture_model(codegen, input_size=input_size)
    if invoke_prefix:  # make the model hang or fail, before it computes anything
        source = (codegen / "model.c").read_text()
        source = re.sub(r"(int tinyeit_invoke\(const void \*input, void \*output\) \{)",
                        r"\1 " + invoke_prefix, source)
        (codegen / "model.c").write_text(source)
    frames = root / "frames.npz"
    inputs = write_fixture_frames(frames, n=n, input_size=input_size)
    np.savez(frames, input=inputs, output=fixture_expected(inputs), label=np.zeros(n, np.int64))
    (root / "metrics.json").write_text(json.dumps({"macs": 4 * input_size}))
    record = build_firmware(board, BOARDS[board], "v", codegen, frames, root / "fw", n_frames=n)
    assert record["status"] == "ok", record
    return dict(config={"boards": BOARDS}, board_key=board, variant="v",
                build_json=root / "fw" / "build.json", frames_npz=frames,
                metrics_json=root / "metrics.json", out=root / "deploy" / "profile.json")


@pytest.mark.parametrize("board", ["nicla_sense", "rpi4"])
def test_emulated_profile_matches_host_and_is_deterministic(tmp_path, board):
    args = build(tmp_path, board)
    record = profile_pair(**args)
    assert record["status"] == "ok", record["error"]
    assert record["runner"] == "docker"
    assert record["outputs_match_host"] is True and record["frames"] == 3
    assert record["instructions_per_inference"] > 50
    assert record["latency_is_estimate"] is True and record["energy_is_estimate"] is True
    clock = BOARDS[board]["clock_hz"]
    if board == "nicla_sense":
        # every instruction costs at least a cycle; the latency is the cycles at the clock
        assert record["cycles_per_inference"] > record["instructions_per_inference"]
        assert record["latency_ms"] == pytest.approx(record["cycles_per_inference"] / clock * 1e3)
        assert record["latency_method"] == ("cortex-m4 cycle model (TRM timings, zero wait "
                                            "states), 64 MHz")
    else:
        # out of order: no cycle model, the instructions at the documented IPC
        assert record["cycles_per_inference"] is None
        assert record["latency_ms"] == pytest.approx(
            record["instructions_per_inference"] / profile.ESTIMATED_IPC["aarch64_linux"]
            / clock * 1e3)
        assert "assumed IPC of 1.2" in record["latency_method"]
    assert record["energy_uj"] == pytest.approx(record["latency_ms"] * BOARDS[board]["active_power_mw"])
    assert record["firmware_sha256"] == json.loads(args["build_json"].read_text())["sha256"]
    first = args["out"].read_bytes()
    profile_pair(**args)
    assert args["out"].read_bytes() == first


@pytest.mark.parametrize("board", ["nicla_sense", "rpi4"])
def test_more_work_counts_more_instructions(tmp_path, board):
    small = profile_pair(**build(tmp_path, board, input_size=8, tag="small"))
    large = profile_pair(**build(tmp_path, board, input_size=64, tag="large"))
    # the fixture's inner loop runs input_size x 4 times: 8x the iterations
    assert large["instructions_per_inference"] > 4 * small["instructions_per_inference"]


def _shift_one_output(frames_npz, shift):
    with np.load(frames_npz) as data:
        arrays = dict(data)
    arrays["output"][1, 2] = shift(arrays["output"][1, 2])
    np.savez(frames_npz, **arrays)


def test_one_ulp_is_reported_as_inexact_but_within_float_tolerance(tmp_path):
    args = build(tmp_path, "rpi4")
    _shift_one_output(args["frames_npz"], lambda v: np.nextafter(v, np.float32(1)))
    record = profile_pair(**args)
    assert record["status"] == "ok" and record["outputs_match_host"] is True
    assert record["outputs_exact"] is False and 0 < record["outputs_max_abs_diff"] < 1e-6


def test_outputs_that_differ_from_litert_are_reported(tmp_path):
    args = build(tmp_path, "rpi4")
    _shift_one_output(args["frames_npz"], lambda v: v + np.float32(0.01))
    record = profile_pair(**args)
    assert record["status"] == "ok" and record["outputs_match_host"] is False
    assert record["outputs_max_abs_diff"] > 0.009


def test_hung_firmware_is_killed_and_reported(tmp_path, monkeypatch):
    args = build(tmp_path, "nicla_sense", invoke_prefix="for (;;) { __asm volatile(\"\"); }")
    monkeypatch.setattr(emulator, "TIMEOUT_BASE_S", 3.0)
    record = profile_pair(**args)
    assert record["status"] == "failed"
    assert re.match(r"hung: killed after 3(\.\d+)? s \(timeout from 32 MACs x 3 frames\)",
                    record["error"])
    assert json.loads(args["out"].read_text())["status"] == "failed"


def test_model_error_code_is_a_failed_profile(tmp_path):
    args = build(tmp_path, "rpi4", invoke_prefix="return 7;")
    record = profile_pair(**args)
    assert record["status"] == "failed"
    assert record["error"] == "tinyeit_invoke returned error code 7 on the board"


def test_not_built_pairs_are_recorded_without_running(tmp_path):
    fw = tmp_path / "fw"
    fw.mkdir()
    (fw / "build.json").write_text(json.dumps({
        "status": "does_not_fit", "flash_bytes": 600000, "ram_bytes": 290000, "arena_bytes": 4000,
        "sha256": None, "image": None, "reason": "flash: needs 600000 bytes, nicla_sense has 524288"}))
    record = profile_pair({"boards": BOARDS}, "nicla_sense", "baseline", fw / "build.json",
                          tmp_path / "absent.npz", tmp_path / "absent.json", tmp_path / "p.json")
    assert record["status"] == "does_not_fit" and record["flash_bytes"] == 600000
    assert record["instructions_per_inference"] is None and record["outputs_match_host"] is None
    assert "needs 600000 bytes" in record["error"] and record["runner"] is None


def test_local_runner_uses_host_qemu(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYEIT_RUNNER", "local")
    args = build(tmp_path, "rpi4")
    record = profile_pair(**args)
    assert record["status"] == "ok" and record["outputs_match_host"] is True
    assert record["runner"] == "local"


def test_timeout_grows_with_macs_and_plugin_pairs():
    # by hand: 60 s base + MACs x frames x 200 instructions at 20 M instructions/s
    assert emulator.timeout_for(10, 8) == 60.0
    assert emulator.timeout_for(10**5, 8) == 68.0
    assert emulator.timeout_for(10**7, 8) == 860.0
    assert emulator.per_inference([10, 15, 20, 40]) == [5, 20]
    assert emulator.per_inference([10, 15, 20]) is None


def test_cycle_model_marks_agree_with_the_firmware_ticks(tmp_path):
    """The plugin's instructions between the tick function's entries and the firmware's own
    SysTick ticks (one per 40 instructions under -icount) measure the same span: two
    independent counts of one inference."""
    from tinyeit.deploy.protocol import parse

    args = build(tmp_path, "nicla_sense", input_size=64)
    build_record = json.loads(args["build_json"].read_text())
    from tinyeit.deploy import images

    elf = images.emulator_image(build_record, args["build_json"], "cortex_m4f")
    result = emulator.run_cortex_m(elf, 120)
    run = parse(result.stdout, where="test", boards=("nicla_sense", "nicla"))
    assert len(result.instructions) == len(result.cycles) == len(run.frames) == 3
    for frame, insns in zip(run.frames, result.instructions):
        assert abs(frame.ticks - insns) <= 2 * 40 + 20, (frame.ticks, insns)
    assert emulator.run_cortex_m(elf, 120).cycles == result.cycles  # deterministic
