"""The ESP32 path: the Xtensa build's layout and fit logic, the emulator's command line, and
(docker) real builds with the xtensa image's GCC run on its qemu-system-xtensa esp32 core.

The layout figures below are the ESP32's, written out by hand from its memory map (ESP32 TRM
ch. 1, ESP-IDF's esp32 memory.ld), not derived from the module under test.
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml

from tinyeit import containers
from tinyeit.deploy import emulator, images, profile
from tinyeit.deploy.boards import board_from_config
from tinyeit.deploy.protocol import parse
from tinyeit.errors import TinyEitError
from tinyeit.firmware import build_firmware, esp32_build
from tinyeit.firmware.measure import does_not_fit
from tinyeit.firmware.fixture_model import fixture_expected, write_fixture_frames, write_fixture_model

ROOT = Path(__file__).resolve().parents[1]
BOARDS = yaml.safe_load((ROOT / "config.yaml").read_text())["boards"]


def test_memory_script_has_the_esp32_regions():
    text = esp32_build.memory_script(esp32_build.REGIONS, 8192)
    assert "reset (rx) : ORIGIN = 0x50000000, LENGTH = 0x100" in text
    assert "iram (rwx) : ORIGIN = 0x40080000, LENGTH = 131072" in text          # SRAM0 less 64 KB cache
    assert "dram (rwx) : ORIGIN = 0x3FFB0000, LENGTH = 180736" in text          # ESP-IDF dram0_0_seg
    assert "irom (rx) : ORIGIN = 0x400D0020, LENGTH = 3342304" in text          # 0x330000 - 0x20
    assert "drom (rx) : ORIGIN = 0x3F400020, LENGTH = 4194272" in text          # 0x400000 - 0x20
    assert text.rstrip().endswith("TINYEIT_STACK_BYTES = 8192;")


def test_unbounded_regions_are_larger_and_do_not_overlap():
    big = esp32_build.unbounded_regions()
    spans = sorted((origin, origin + length) for origin, length in big.values())
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:]))
    for name, (origin, length) in esp32_build.REGIONS.items():
        assert big[name][0] == origin and big[name][1] >= length


def test_limits_are_the_app_partition_and_iram_plus_static_dram():
    assert esp32_build.limits({"flash_bytes": 4194304, "ram_bytes": 532480}) == (1048576, 131072 + 180736)
    assert esp32_build.limits({"flash_bytes": 0x10000 + 4096, "ram_bytes": 65536}) == (4096, 65536)


def test_region_use_from_size_output():
    sections = {".iram0.vectors": 1024, ".iram0.text": 200, ".text": 5000, ".rodata": 700,
                ".data": 16, ".bss": 300, ".stack": 8192}
    use = esp32_build.region_use(sections)
    assert use["iram"] == {"used_bytes": 1224, "available_bytes": 131072}
    assert use["irom"]["used_bytes"] == 5000 and use["drom"]["used_bytes"] == 700
    assert use["dram"]["used_bytes"] == 16 + 300 + 8192


def test_a_region_overflow_is_reported_under_its_memory_even_when_totals_fit():
    sizes = {"flash_bytes": 9000, "ram_static_bytes": 190000}
    link = "xtensa-esp32-elf/bin/ld: region `dram' overflowed by 17456 bytes\n"
    record = does_not_fit(sizes, link, "esp32", 1048576, 400000, 8192, regions=esp32_build.REGION_MEMORY)
    assert record["status"] == "does_not_fit" and record["linker_overflow"] == {"dram": 17456}
    assert record["reason"] == "RAM: needs 198192 bytes (static 190000 + stack 8192), esp32 has 400000"
    record = does_not_fit(sizes, "region `drom' overflowed by 5 bytes", "esp32", 1048576, 400000, 0,
                          regions=esp32_build.REGION_MEMORY)
    assert record["reason"] == "flash: needs 9000 bytes, esp32 has 1048576"
    record = does_not_fit(sizes, "region `xyz' overflowed by 5 bytes", "esp32", 1048576, 400000, 0,
                          regions=esp32_build.REGION_MEMORY)
    assert "xyz overflowed by 5 bytes" in record["reason"]


def test_qemu_command_line_is_the_sim_machine_with_deterministic_icount():
    assert emulator.esp32_argv("/x/firmware.elf") == [
        "qemu-system-xtensa", "-M", "sim", "-cpu", "esp32", "-nographic", "-monitor", "none",
        "-semihosting", "-icount", "shift=0,sleep=off", "-kernel", "/x/firmware.elf"]


def test_latency_is_instructions_at_the_stated_lx6_ipc():
    board = board_from_config({"boards": {"esp32": dict(BOARDS["esp32"], transport="emulator")}}, "esp32")
    assert profile.latency_method(board) == ("instructions at an assumed IPC of 0.8 (in-order single-issue "
                                             "Xtensa LX6, no cycle model), 240 MHz")
    run = parse("TINYEIT BEGIN v=1 board=esp32 frames=1 in=2 out=2 clock_hz=240000000\n"
                "TINYEIT FRAME i=0 ticks=96000 out=0102\nTINYEIT END status=ok\n",
                where="t", boards=board.names, output_bytes=2)
    expected = profile.HostOutputs((bytes([1, 2]),), np.dtype("int8"), 0.0)
    record = profile.measured(profile.base_profile(board, "v", {"status": "ok"}), board, run, expected,
                              instructions=[96000])
    # 96000 instructions / 0.8 IPC = 120000 cycles at 240 MHz = 0.5 ms
    assert record["latency_ms"] == pytest.approx(0.5) and record["cycles_per_inference"] is None
    assert record["outputs_exact"] is True and record["latency_is_estimate"] is True


def test_real_board_flashing_needs_the_esp_idf_image(tmp_path):
    build = {"status": "ok", "esp_idf": {"status": "toolchain_unavailable", "reason": "no internet"}}
    with pytest.raises(TinyEitError, match=r"build\.json: no ESP-IDF image .*toolchain_unavailable: no internet"):
        images.esp32_flash_images(build, tmp_path / "build.json")
    build["esp_idf"] = {"status": "ok", "flash_images": [{"offset": 0, "path": "esp-idf/firmware.bin"}]}
    assert images.esp32_flash_images(build, tmp_path / "build.json") == [(0, tmp_path / "esp-idf/firmware.bin")]


# --- real builds in the xtensa image, run on its QEMU ---------------------------------------

@pytest.fixture(scope="module")
def xtensa_stamp(tmp_path_factory):
    stamp = tmp_path_factory.mktemp("images") / "xtensa.json"
    record = containers.write_stamp("xtensa", stamp)
    assert record["available"], record["reason"]
    return stamp


def _fixture(tmp_path, dtype="float32", n=3, **model):
    codegen = tmp_path / "codegen"
    write_fixture_model(codegen, dtype=dtype, **model)
    frames = write_fixture_frames(tmp_path / "frames.npz", n=n, dtype=dtype)
    np.savez(tmp_path / "frames.npz", input=frames, output=fixture_expected(frames),
             label=np.zeros(n, np.int64))
    return codegen, tmp_path / "frames.npz", frames


def _xtensa(argv, mounts, tmp_path):
    proc = containers.run("xtensa", argv, mounts_ro=mounts, out_dir=tmp_path / "run", timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.docker
@pytest.mark.slow
def test_fixture_firmware_runs_exactly_and_deterministically(tmp_path, xtensa_stamp):
    """The float fixture's outputs to the bit (int8 exactness: the LiteRT test below)."""
    codegen, npz, frames = _fixture(tmp_path)
    out = tmp_path / "fw"
    record = build_firmware("esp32", BOARDS["esp32"], "fixture", codegen, npz, out, n_frames=3,
                            image_stamp=xtensa_stamp)
    assert record["status"] == "ok", record
    assert json.loads((out / "build.json").read_text()) == record
    assert record["toolchain"]["image"] == containers.image_tag("xtensa")
    assert "12.2.0" in record["toolchain"]["compiler_version"]
    assert record["flash_available_bytes"] == 1048576 and 0 < record["flash_bytes"] < 65536
    assert record["ram_bytes"] == record["ram_static_bytes"] + record["stack_estimate_bytes"]
    assert record["memory_regions"]["iram"]["used_bytes"] >= 0x340   # the vectors
    assert record["esp_idf"]["status"] == "toolchain_unavailable" and (out / "project/main/model.c").is_file()
    first = emulator.run_esp32(out / "firmware.elf", 120)
    assert first.returncode == 0, first.stdout + first.stderr
    run = parse(first.stdout, where="test", boards=("esp32",))
    assert [f.output for f in run.frames] == [row.tobytes() for row in fixture_expected(frames)]
    assert first.instructions == [f.ticks for f in run.frames] and min(first.instructions) > 50
    again = emulator.run_esp32(out / "firmware.elf", 120)
    assert again.instructions == first.instructions        # icount shift=0,sleep=off: identical


@pytest.mark.docker
@pytest.mark.slow
def test_start_up_layout_in_the_linked_elf(tmp_path, xtensa_stamp):
    codegen, npz, _ = _fixture(tmp_path)
    out = tmp_path / "fw"
    assert build_firmware("esp32", BOARDS["esp32"], "f", codegen, npz, out, image_stamp=xtensa_stamp)["status"] == "ok"
    symbols = {}
    for line in _xtensa(["xtensa-esp32-elf-nm", str(out / "firmware.elf")], [out], tmp_path).splitlines():
        address, _, name = line.split()
        symbols[name] = int(address, 16)
    assert symbols["_reset_vector"] == 0x50000000
    base = symbols["_vector_base"]
    assert base == 0x40080000
    # the window vector offsets of the esp32 core (core-isa.h XCHAL_WINDOW_*_VECOFS)
    for name, offset in {"_WindowOverflow4": 0x00, "_WindowUnderflow4": 0x40, "_WindowOverflow8": 0x80,
                         "_WindowUnderflow8": 0xC0, "_WindowOverflow12": 0x100, "_WindowUnderflow12": 0x140}.items():
        assert symbols[name] == base + offset, name
    assert 0x400D0020 <= symbols["tinyeit_invoke"] < 0x40400000           # code in IROM
    assert 0x3F400020 <= symbols["tinyeit_frames"] < 0x3F800000           # constants in DROM
    assert 0x3FFB0000 <= symbols["_stack_top"] <= 0x3FFB0000 + 180736     # stack in static DRAM


@pytest.mark.docker
@pytest.mark.slow
def test_a_crash_is_an_error_line_not_a_hang(tmp_path, xtensa_stamp):
    codegen, npz, _ = _fixture(tmp_path)
    source = (codegen / "model.c").read_text()
    source = re.sub(r"(int tinyeit_invoke\(const void \*input, void \*output\) \{)",
                    r"\1 __builtin_trap();", source)     # `ill`: an illegal-instruction exception
    (codegen / "model.c").write_text(source)
    out = tmp_path / "fw"
    assert build_firmware("esp32", BOARDS["esp32"], "f", codegen, npz, out, image_stamp=xtensa_stamp)["status"] == "ok"
    result = emulator.run_esp32(out / "firmware.elf", 60)
    assert not result.timed_out and result.returncode == 2
    assert "TINYEIT END status=error code=-1000" in result.stdout


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize("model,region,memory", [
    (dict(weights_bytes=1_200_000), "drom", "flash: needs"),     # over the 1 MB app partition
    (dict(arena_bytes=200_000), "dram", "RAM: needs"),           # over the static DRAM
])
def test_too_big_models_do_not_fit_with_figures(tmp_path, xtensa_stamp, model, region, memory):
    codegen, npz, _ = _fixture(tmp_path, **model)
    out = tmp_path / "fw"
    record = build_firmware("esp32", BOARDS["esp32"], "big", codegen, npz, out, image_stamp=xtensa_stamp)
    assert record["status"] == "does_not_fit", record
    assert memory in record["reason"] and record["files"] == {} and not (out / "firmware.elf").exists()
    if region == "dram":
        assert record["linker_overflow"]["dram"] > 0 and record["ram_bytes"] > 180736
    else:
        assert record["flash_bytes"] > 1048576
    assert record["memory_regions"][region]["used_bytes"] > 0


@pytest.mark.docker
@pytest.mark.slow
def test_esp_idf_project_c_compiles_with_the_xtensa_gcc(tmp_path, xtensa_stamp):
    """The real-board project's C, all but the ESP-IDF platform file, with ESP-IDF's core flags."""
    codegen, npz, frames = _fixture(tmp_path)
    out = tmp_path / "fw"
    build_firmware("esp32", BOARDS["esp32"], "f", codegen, npz, out, image_stamp=xtensa_stamp)
    main = out / "project" / "main"
    assert "-ffp-contract=off" in (main / "CMakeLists.txt").read_text()
    sources = sorted(p.name for p in main.glob("*.c") if p.name != "platform.c")
    assert sources == ["model.c", "tinyeit_frames.c", "tinyeit_harness.c"]
    script = " && ".join(f"xtensa-esp32-elf-gcc -mlongcalls -O2 -std=gnu11 -Wall -Werror -ffp-contract=off "
                         f"-I{main} -c {main / s} -o {tmp_path / 'run' / s}.o" for s in sources)
    _xtensa(["sh", "-c", script], [main], tmp_path)
    assert all((tmp_path / "run" / f"{s}.o").stat().st_size > 0 for s in sources)


@pytest.mark.docker
@pytest.mark.slow
def test_gcc_contracts_multiply_add_unless_told_not_to(tmp_path, xtensa_stamp):
    """Why -ffp-contract=off: the Xtensa GCC fuses a*b+c into madd.s in GNU C mode."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "f.c").write_text("float f(float a, float b, float c) { return a * b + c; }\n")
    script = (f"xtensa-esp32-elf-gcc -O2 -S {src / 'f.c'} -o - && echo ---- && "
              f"xtensa-esp32-elf-gcc -O2 -ffp-contract=off -S {src / 'f.c'} -o -")
    fused, plain = _xtensa(["sh", "-c", script], [src], tmp_path).split("----")
    assert "madd.s" in fused and "madd.s" not in plain and "mul.s" in plain


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize("mode", ["ptq_int8", "float"])
def test_study_like_model_on_the_emulated_esp32_equals_litert(tmp_path, xtensa_stamp, mode, monkeypatch):
    """A study-like model through the code generator, the ESP32 build and the emulator, compared
    with LiteRT by the deploy stage's own comparison: int8 bit-exact, float within tolerance."""
    monkeypatch.setenv("TF_USE_LEGACY_KERAS", "1")
    from tflm_fixtures import write_model_and_frames
    from tinyeit.codegen import generate
    from tinyeit.deploy.run import profile_pair

    tflite, frames = write_model_and_frames(tmp_path, mode, n=4)
    generate(str(tflite), tmp_path / "codegen")
    record = build_firmware("esp32", BOARDS["esp32"], mode, tmp_path / "codegen", frames, tmp_path / "fw",
                            n_frames=4, image_stamp=xtensa_stamp)
    assert record["status"] == "ok", record
    (tmp_path / "metrics.json").write_text(json.dumps({"macs": 100_000}))
    config = {"boards": {"esp32": dict(BOARDS["esp32"], transport="emulator")}}
    done = profile_pair(config, "esp32", mode, tmp_path / "fw" / "build.json", frames, tmp_path / "metrics.json",
                        tmp_path / "profile.json")
    assert done["status"] == "ok", done["error"]
    assert done["frames"] == 4 and done["outputs_match_host"] is True
    if mode == "ptq_int8":
        assert done["outputs_exact"] is True and done["outputs_max_abs_diff"] == 0
    assert done["instructions_min"] > 1000 and done["runner"] == "docker"
    assert done["latency_ms"] == pytest.approx(done["instructions_per_inference"] / 0.8 / 240e6 * 1e3, rel=1e-6)
    assert done["firmware_sha256"] == record["sha256"]
