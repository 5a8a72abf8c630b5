"""Firmware builds in the real toolchain images, run under the real QEMU (in the same images)."""
from __future__ import annotations

import copy
import json
import re
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml

from offline import offline_docker_dir, refused_url
from tinyeit import containers
from tinyeit.errors import TinyEitError
from tinyeit.firmware import build_firmware
from tinyeit.firmware.fixture_model import fixture_expected, write_fixture_frames, write_fixture_model

ROOT = Path(__file__).resolve().parents[1]
BOARDS = yaml.safe_load((ROOT / "config.yaml").read_text())["boards"]
LINE = re.compile(r"^TINYEIT (BEGIN|FRAME|END)( .*)?$")

pytestmark = [pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module")
def stamps(tmp_path_factory):
    """The image stamps, as the Snakemake image rule writes them; the images that download at
    build time (arduino, esp-idf) point at a port held here, so they are unavailable online or not."""
    folder = tmp_path_factory.mktemp("images")
    with refused_url() as url, pytest.MonkeyPatch.context() as mp:
        mp.setenv("TINYEIT_DOCKER_DIR", str(offline_docker_dir(folder / "docker", url)))
        for name in ("arm", "aarch64", "arduino", "esp-idf", "xtensa"):
            containers.write_stamp(name, folder / f"{name}.json")
    paths = {name: folder / f"{name}.json" for name in ("arm", "aarch64", "arduino", "esp-idf", "xtensa")}
    paths["url"] = url
    return paths


def _inputs(tmp_path, dtype="float32", n=3, **model):
    codegen = tmp_path / "codegen"
    write_fixture_model(codegen, dtype=dtype, **model)
    frames = write_fixture_frames(tmp_path / "frames.npz", n=n, dtype=dtype)
    return codegen, tmp_path / "frames.npz", frames


def _parse(stdout: str) -> tuple[dict, list[dict], str]:
    lines = [ln for ln in stdout.splitlines() if ln.startswith("TINYEIT ")]
    assert all(LINE.match(ln) for ln in lines), lines
    fields = [dict(kv.split("=", 1) for kv in ln.split()[2:]) for ln in lines]
    assert lines[0].startswith("TINYEIT BEGIN") and lines[-1].startswith("TINYEIT END")
    return fields[0], fields[1:-1], lines[-1]


def run_cortex_m(elf: Path, tmp_path: Path, exit_code: int = 0) -> str:
    argv = ["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none", "-semihosting-config",
            "enable=on,target=native", "-icount", "shift=0", "-kernel", str(elf)]
    proc = containers.run("arm", argv, mounts_ro=[elf.parent], out_dir=tmp_path / "run", timeout=120)
    assert proc.returncode == exit_code, proc.stderr
    return proc.stdout + proc.stderr  # QEMU 7.2 writes semihosting output to stderr


def test_cortex_m4f_firmware_runs_the_frames_in_qemu(tmp_path, stamps):
    codegen, npz, frames = _inputs(tmp_path)
    out = tmp_path / "fw"
    record = build_firmware("nano33ble", BOARDS["nano33ble"], "fixture", codegen, npz, out, n_frames=8,
                            image_stamp=stamps["arm"], arduino_stamp=stamps["arduino"])
    assert record["status"] == "ok"
    assert json.loads((out / "build.json").read_text()) == record
    assert record["toolchain"]["runner"] == "docker"
    assert record["toolchain"]["image"] == containers.image_tag("arm")
    assert record["toolchain"]["image_id"].startswith("sha256:")
    assert "12.2.1" in record["toolchain"]["compiler_version"]
    assert 0 < record["flash_bytes"] < 8192 and record["ram_static_bytes"] >= 256
    assert record["ram_bytes"] == record["ram_static_bytes"] + record["stack_estimate_bytes"]
    for name in ("firmware.elf", "firmware.bin", "firmware.hex"):
        assert (out / name).is_file()
    assert record["arduino"]["status"] == "toolchain_unavailable"
    assert (out / "sketch/tinyeit_nano33ble/tinyeit_nano33ble.ino").is_file()
    assert not (out / "build").exists()

    begin, rows, end = _parse(run_cortex_m(out / "firmware.elf", tmp_path))
    assert begin == {"v": "1", "board": "nano33ble", "frames": "3", "in": "8", "out": "4", "clock_hz": "64000000"}
    assert end == "TINYEIT END status=ok"
    expected = fixture_expected(frames)
    for i, row in enumerate(rows):
        assert row["i"] == str(i)
        assert bytes.fromhex(row["out"]) == expected[i].astype("<f4").tobytes()
        assert 100 < int(row["ticks"]) < 10000  # instructions of an 8x4 multiply-add under -icount


def test_systick_ticks_count_instructions_in_qemu(tmp_path, stamps):
    """A model that is a 2-instruction loop of 50000 turns must report about 100000 ticks."""
    codegen, npz, _ = _inputs(tmp_path)
    (codegen / "model.c").write_text("""#include "model.h"
int tinyeit_invoke(const void *input, void *output) {
    unsigned n = 50000u; (void)input; ((float *)output)[0] = 1.0f;
    __asm volatile("1: subs %0, %0, #1\\n\\tbne 1b" : "+r"(n) :: "cc");
    return 0;
}
""")
    record = build_firmware("nano33ble", BOARDS["nano33ble"], "loop", codegen, npz, tmp_path / "fw",
                            image_stamp=stamps["arm"])
    _, rows, _ = _parse(run_cortex_m(tmp_path / "fw" / record["image"], tmp_path))
    for row in rows:
        assert 100000 <= int(row["ticks"]) <= 100000 + 200


def test_int8_model_and_error_code_on_nicla(tmp_path, stamps):
    codegen, npz, _ = _inputs(tmp_path, dtype="int8")
    text = (codegen / "model.c").read_text().replace("    return 0;\n}", "    return in[0] == 127 ? 0 : 7;\n}")
    (codegen / "model.c").write_text(text)
    record = build_firmware("nicla_sense", BOARDS["nicla_sense"], "fixture_int8", codegen, npz, tmp_path / "fw",
                            image_stamp=stamps["arm"])
    assert record["status"] == "ok" and record["input_type"] == "int8_t"
    begin, rows, end = _parse(run_cortex_m(tmp_path / "fw" / "firmware.elf", tmp_path, exit_code=1))
    assert begin["board"] == "nicla_sense" and rows == []
    assert end == "TINYEIT END status=error code=7"


def test_nicla_too_big_is_recorded_with_numbers(tmp_path, stamps):
    board = BOARDS["nicla_sense"]
    codegen, npz, _ = _inputs(tmp_path, weights_bytes=600_000, arena_bytes=70_000)
    record = build_firmware("nicla_sense", board, "too_big", codegen, npz, tmp_path / "fw",
                            image_stamp=stamps["arm"])
    assert record["status"] == "does_not_fit"
    assert record["flash_bytes"] > 600_000 and record["ram_static_bytes"] >= 70_000
    assert f"flash: needs {record['flash_bytes']} bytes, nicla_sense has 524288" in record["reason"]
    assert "RAM: needs" in record["reason"] and "nicla_sense has 65536" in record["reason"]
    assert set(record["linker_overflow"]) == {"FLASH", "RAM"}
    assert record["flash_bytes"] - 524288 == record["linker_overflow"]["FLASH"]
    assert not (tmp_path / "fw" / "firmware.elf").exists()

    # The float baseline's ~280 kB of const weights fit the Nicla's flash (they stay in flash).
    codegen, npz, _ = _inputs(tmp_path / "b", weights_bytes=280_136, arena_bytes=16_000)
    record = build_firmware("nicla_sense", board, "baseline_like", codegen, npz, tmp_path / "b" / "fw",
                            image_stamp=stamps["arm"])
    assert record["status"] == "ok" and 280_136 < record["flash_bytes"] < 524_288


def test_rpi4_static_binary_runs_under_qemu_user(tmp_path, stamps):
    codegen, npz, frames = _inputs(tmp_path, n=2)
    out = tmp_path / "fw"
    record = build_firmware("rpi4", BOARDS["rpi4"], "fixture", codegen, npz, out, image_stamp=stamps["aarch64"])
    assert record["status"] == "ok" and record["image"] == "firmware"
    header = (out / "firmware").read_bytes()[:20]
    assert header[:4] == b"\x7fELF" and struct.unpack("<H", header[18:20])[0] == 183  # EM_AARCH64
    proc = containers.run("aarch64", ["qemu-aarch64", str(out / "firmware")], mounts_ro=[out],
                          out_dir=tmp_path / "run", timeout=60)
    assert proc.returncode == 0, proc.stderr
    begin, rows, end = _parse(proc.stdout)
    assert begin["board"] == "rpi4" and end == "TINYEIT END status=ok" and len(rows) == 2
    assert bytes.fromhex(rows[1]["out"]) == fixture_expected(frames)[1].astype("<f4").tobytes()


@pytest.mark.parametrize("board,image", [("nano33ble", "firmware.elf"), ("rpi4", "firmware"),
                                         ("esp32", "firmware.elf")])
def test_rebuild_in_another_clean_folder_is_byte_identical(tmp_path, stamps, board, image):
    codegen, npz, _ = _inputs(tmp_path)
    stamp = stamps[{"nano33ble": "arm", "rpi4": "aarch64", "esp32": "xtensa"}[board]]
    first = build_firmware(board, BOARDS[board], "fixture", codegen, npz, tmp_path / "one" / "fw", image_stamp=stamp)
    second = build_firmware(board, BOARDS[board], "fixture", codegen, npz, tmp_path / "two" / "x" / "fw",
                            image_stamp=stamp)
    assert (tmp_path / "one/fw" / image).read_bytes() == (tmp_path / "two/x/fw" / image).read_bytes()
    assert first["files"] == second["files"]
    assert str(tmp_path).encode() not in (tmp_path / "one/fw" / image).read_bytes()


def test_esp32_builds_bare_metal_and_stages_its_esp_idf_project_which_runs_on_the_host(tmp_path, stamps):
    codegen, npz, frames = _inputs(tmp_path)
    out = tmp_path / "fw"
    record = build_firmware("esp32", BOARDS["esp32"], "fixture", codegen, npz, out, image_stamp=stamps["xtensa"],
                            esp_idf_stamp=stamps["esp-idf"])
    assert record["status"] == "ok" and (out / "firmware.elf").is_file()
    assert record["esp_idf"]["status"] == "toolchain_unavailable"
    assert stamps["url"] in record["esp_idf"]["reason"]
    project = out / "project"
    expected = {"CMakeLists.txt", "sdkconfig.defaults", "main/CMakeLists.txt", "main/platform.c",
                "main/tinyeit_harness.c", "main/tinyeit_platform.h", "main/tinyeit_board.h",
                "main/tinyeit_frames.c", "main/tinyeit_frames.h", "main/model.c", "main/model.h"}
    assert {str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()} == expected
    assert "project.cmake" in (project / "CMakeLists.txt").read_text()
    assert "idf_component_register" in (project / "main/CMakeLists.txt").read_text()
    assert "app_main" in (project / "main/platform.c").read_text()
    exe = tmp_path / "host_esp32"
    sources = sorted(str(p) for p in (project / "main").glob("*.c"))
    subprocess.run(["gcc", "-std=gnu11", "-Wall", "-Werror", "-O2", "-ffp-contract=off", *sources, "-lm",
                    "-o", str(exe)], check=True, timeout=300)
    begin, rows, end = _parse(subprocess.run([str(exe)], capture_output=True, text=True, check=True, timeout=60).stdout)
    assert begin["board"] == "esp32" and begin["clock_hz"] == "240000000" and end == "TINYEIT END status=ok"
    assert [bytes.fromhex(r["out"]) for r in rows] == [f.astype("<f4").tobytes() for f in fixture_expected(frames)]


def test_bad_frames_are_refused_with_the_file_named(tmp_path, stamps):
    codegen, npz, _ = _inputs(tmp_path, dtype="int8")
    np.savez(tmp_path / "wrong.npz", input=np.zeros((2, 8), np.float32))
    with pytest.raises(TinyEitError, match=r"wrong\.npz.*float32.*int8_t"):
        build_firmware("nano33ble", BOARDS["nano33ble"], "v", codegen, tmp_path / "wrong.npz", tmp_path / "fw",
                       image_stamp=stamps["arm"])
    np.savez(tmp_path / "short.npz", input=np.zeros((2, 5), np.int8))
    with pytest.raises(TinyEitError, match=r"short\.npz.*5 values.*8"):
        build_firmware("nano33ble", BOARDS["nano33ble"], "v", codegen, tmp_path / "short.npz", tmp_path / "fw",
                       image_stamp=stamps["arm"])
    broken = copy.deepcopy(BOARDS["nano33ble"])
    broken["family"] = "riscv"
    with pytest.raises(TinyEitError, match="riscv"):
        build_firmware("nano33ble", broken, "v", codegen, npz, tmp_path / "fw")


def test_compile_error_fails_the_build_with_the_compiler_message(tmp_path, stamps):
    codegen, npz, _ = _inputs(tmp_path)
    (codegen / "model.c").write_text("#include \"model.h\"\nint tinyeit_invoke(const void *i, void *o) { return nope; }\n")
    with pytest.raises(TinyEitError, match=r"(?s)nano33ble.*compiling failed.*nope"):
        build_firmware("nano33ble", BOARDS["nano33ble"], "broken", codegen, npz, tmp_path / "fw",
                       image_stamp=stamps["arm"])
    assert not (tmp_path / "fw" / "build.json").exists()


def test_generated_int8_model_gives_the_host_c_bytes_on_cortex_m_and_rpi4(tmp_path, stamps, monkeypatch):
    """The real code generator's C, in real firmware, under QEMU: same outputs as on the host."""
    monkeypatch.setenv("TF_USE_LEGACY_KERAS", "1")
    from tinyeit.codegen import generate, run_host, sample_models
    tflite = sample_models.write_study_like(str(tmp_path), "ptq_int8")
    info = generate(tflite, tmp_path / "codegen")
    x = sample_models.representative_inputs((40,), 2, seed=5)
    x = np.clip(np.round(x / 0.05), -128, 127).astype(np.int8)
    np.savez(tmp_path / "frames.npz", input=x)
    host = run_host(tflite, x).reshape(2, -1)
    for board, stamp in (("nano33ble", "arm"), ("rpi4", "aarch64")):
        out = tmp_path / board
        record = build_firmware(board, BOARDS[board], "study_like+ptq_int8", tmp_path / "codegen",
                                tmp_path / "frames.npz", out, image_stamp=stamps[stamp])
        assert record["status"] == "ok" and record["arena_bytes"] == info["arena_bytes"]
        if board == "rpi4":
            proc = containers.run("aarch64", ["qemu-aarch64", str(out / "firmware")], [out], tmp_path / "run", timeout=120)
            text = proc.stdout
        else:
            text = run_cortex_m(out / "firmware.elf", tmp_path)
        _, rows, end = _parse(text)
        assert end == "TINYEIT END status=ok"
        assert [bytes.fromhex(r["out"]) for r in rows] == [row.tobytes() for row in host]
