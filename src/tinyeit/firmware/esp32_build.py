"""ESP32 firmware: a bare-metal ELF for QEMU's `sim` machine, and the ESP-IDF project for real boards.

The bare-metal ELF is built in the `xtensa` image (xtensa-esp32-elf GCC built from Debian's
sources with Espressif's core overlay) from the same generated C and harness as every board,
with its own start-up (`boards/esp32_sim`) and a link laid out as ESP-IDF lays out an app, each
region at the ESP32's real size, so that a model that does not fit is reported with figures.
The ESP-IDF project (`boards/esp32`) is what a real ESP32 is flashed with (esptool); it is staged
in `project/` always, and built when the `esp-idf` image exists (it needs the internet).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from tinyeit import containers
from tinyeit.atomic import write_json
from tinyeit.firmware import measure
from tinyeit.firmware.build import (FirmwareBuildError, _base_record, _fail, _fresh, _run_script, _script,
                                    _sha256, _stamp, _toolchain)
from tinyeit.firmware.stage import board_sources_dir, stage_sources

IMAGE = "xtensa"
CC = "xtensa-esp32-elf-gcc"
# LX6 with its FPU (hard single-precision float), calls that reach across the address space
# (code in IROM calls IRAM and back), no fused multiply-add (-ffp-contract=off, in COMMON_CFLAGS).
# -fno-if-conversion: GCC 12.2's Xtensa back end stops with an internal compiler error
# (postreload, extract_constrain_insn) on the generated kernels' `bias ? bias[u] : 0.0f` float
# selects after if-conversion; Espressif's own GCC carries fixes this Debian-source build lacks.
ARCH_FLAGS = "-mlongcalls -fno-if-conversion"
LIBS = "-Wl,--start-group -lm -lc -lgcc -Wl,--end-group"
LINK = ("-nostdlib -T esp32_sim.ld -Wl,--gc-sections -Wl,--build-id=none "
        "-Wl,-Map=../build/firmware.map")
# The ESP32's memories as an ESP-IDF app sees them (ESP32 TRM, ch. 1 memory map; ESP-IDF's
# esp32 memory.ld): (origin, bytes). IRAM: SRAM0 less the 64 KB of flash cache; DRAM: the static
# data segment ESP-IDF gives an app (the rest of SRAM is heap and ROM/Bluetooth data); IROM and
# DROM: the flash windows the MMU maps (their first 0x20 bytes are the image segment header).
REGIONS = {
    "iram": (0x40080000, 0x20000),
    "irom": (0x400D0020, 0x330000 - 0x20),
    "drom": (0x3F400020, 0x400000 - 0x20),
    "dram": (0x3FFB0000, 0x2C200),
}
REGION_MEMORY = {"iram": "ram", "dram": "ram", "irom": "flash", "drom": "flash"}
REGION_SECTIONS = {"iram": (".iram0.vectors", ".iram0.text"), "irom": (".text",), "drom": (".rodata",),
                   "dram": (".data", ".bss", ".stack")}
RESET_VECTOR = 0x50000000   # where QEMU's sim machine starts; a jump to _start (emulator only)
# The app partition of ESP-IDF's default table (single factory app, 1 MB at 0x10000): the most
# flash one app image may take, whatever the chip's flash size.
APP_PARTITION_BYTES = 0x100000
APP_OFFSET = 0x10000
STACK_BYTES = 8192          # windowed-ABI frames are larger than Cortex-M ones


def keep_elf(build_dir: Path, out_dir: Path) -> dict:
    """Move a linked ESP32 ELF and its map into `out_dir`; the ok-record fields naming them (both
    engines' ESP32 builds keep the same two files)."""
    files = {}
    for name in ("firmware.elf", "firmware.map"):
        os.replace(build_dir / name, out_dir / name)
        files[name] = _sha256(out_dir / name)
    return dict(status="ok", reason=None, image="firmware.elf", elf="firmware.elf",
                sha256=files["firmware.elf"], files={"firmware.elf": files["firmware.elf"]})

def memory_script(regions: dict[str, tuple[int, int]], stack: int) -> str:
    """tinyeit_memory.ld: the regions esp32_sim.ld places sections in, and the stack size."""
    lines = ["/* Generated: the ESP32's memories, for the link-time fit check. */", "MEMORY", "{"]
    lines.append(f"    reset (rx) : ORIGIN = 0x{RESET_VECTOR:08X}, LENGTH = 0x100")
    for name, (origin, length) in regions.items():
        attrs = "rx" if REGION_MEMORY[name] == "flash" else "rwx"
        lines.append(f"    {name} ({attrs}) : ORIGIN = 0x{origin:08X}, LENGTH = {length}")
    lines += ["}", f"TINYEIT_STACK_BYTES = {stack};", ""]
    return "\n".join(lines)


def unbounded_regions() -> dict[str, tuple[int, int]]:
    """The same origins with room enough to measure a model that does not fit (regions stay disjoint)."""
    big = {"iram": 0x40000, "irom": 0x700000, "drom": 0x800000, "dram": 0xD0000}   # dram ends at iram
    return {name: (origin, big[name]) for name, (origin, _) in REGIONS.items()}


def limits(board_cfg: dict) -> tuple[int, int]:
    """(flash, RAM) an app may use: the app partition within the chip's flash; IRAM + static DRAM
    within the board's SRAM."""
    flash = min(int(board_cfg["flash_bytes"]) - APP_OFFSET, APP_PARTITION_BYTES)
    ram = min(int(board_cfg["ram_bytes"]), REGIONS["iram"][1] + REGIONS["dram"][1])
    return flash, ram


def region_use(sections: dict[str, int]) -> dict[str, dict[str, int]]:
    """{region: {"used_bytes", "available_bytes"}} from `size -A`'s sections."""
    return {name: {"used_bytes": sum(sections.get(s, 0) for s in REGION_SECTIONS[name]),
                   "available_bytes": REGIONS[name][1]} for name in REGIONS}


def build_esp32(board: str, board_cfg: dict, variant: str, codegen_dir: Path, frames_npz: Path,
                out_dir: Path, n_frames: int, image_stamp=None, esp_idf_stamp=None) -> dict:
    """The bare-metal ELF (QEMU sim, fit-checked), and the ESP-IDF project beside it."""
    src, build_dir = _fresh(out_dir)
    model = stage_sources(src, board, board_cfg["clock_hz"], ["esp32_sim"], codegen_dir, frames_npz, n_frames,
                          board_cfg=board_cfg)
    for sub, regions in {"board": REGIONS, "unbounded": unbounded_regions()}.items():
        (src / sub).mkdir()
        (src / sub / "tinyeit_memory.ld").write_text(memory_script(regions, STACK_BYTES))
    (src / "build.sh").write_text(_script(CC, ARCH_FLAGS, LINK, fit_check=True, libs=LIBS))
    flash, ram = limits(board_cfg)
    record = _base_record(board, board_cfg, variant, model)
    record.update(flash_available_bytes=flash, ram_available_bytes=ram, stack_reserved_bytes=STACK_BYTES)
    stamp = _stamp(image_stamp, IMAGE)
    if not stamp.get("available", True) and containers.runner_kind() == "docker":
        raise FirmwareBuildError(f"toolchain image {IMAGE} is unavailable ({image_stamp}): {stamp.get('reason')}")
    proc = _run_script(IMAGE, src, out_dir, CC)
    if proc.returncode not in (0, 3):
        raise _fail(board, variant, proc)
    sections = measure.parse_size_a((build_dir / "size.txt").read_text())
    sizes = measure.memory_use(sections)
    stack = measure.stack_estimate(sorted(build_dir.glob("*.ci")), "main")
    record.update(flash_bytes=sizes["flash_bytes"], ram_static_bytes=sizes["ram_static_bytes"],
                  ram_bytes=sizes["ram_static_bytes"] + stack["stack_estimate_bytes"], **stack,
                  memory_regions=region_use(sections), toolchain=_toolchain(IMAGE, stamp, build_dir))
    if proc.returncode == 3 or sizes["flash_bytes"] > flash:
        record.update(measure.does_not_fit(sizes, proc.stdout + proc.stderr, board, flash, ram, STACK_BYTES,
                                           arena_bytes=model["TINYEIT_ARENA_BYTES"], regions=REGION_MEMORY))
    else:
        if stack["stack_estimate_bytes"] > STACK_BYTES:
            raise FirmwareBuildError(f"firmware for board {board}, variant {variant}: the stack estimate "
                                     f"{stack['stack_estimate_bytes']} bytes exceeds the reserved {STACK_BYTES}")
        record.update(keep_elf(build_dir, out_dir), ram_link_bytes=sizes["ram_static_bytes"] + STACK_BYTES)
    shutil.rmtree(build_dir)
    record["esp_idf"] = esp_idf_project(board, board_cfg, variant, codegen_dir, frames_npz, out_dir, n_frames,
                                        esp_idf_stamp)
    write_json(out_dir / "build.json", record, sort_keys=True)
    return record


def stage_esp_idf_project(board: str, board_cfg: dict, codegen_dir: Path, frames_npz: Path, project: Path,
                          n_frames: int) -> dict:
    """Write the ESP-IDF project (CMakeLists.txt, sdkconfig.defaults, main/ with all C)."""
    main = project / "main"
    model = stage_sources(main, board, board_cfg["clock_hz"], ["esp32"], codegen_dir, frames_npz, n_frames,
                          board_cfg=board_cfg)
    for name in ("CMakeLists.txt", "sdkconfig.defaults"):
        shutil.move(main / name, project / name) if (main / name).exists() else \
            shutil.copyfile(board_sources_dir("esp32") / name, project / name)
    shutil.copyfile(board_sources_dir("esp32") / "main_CMakeLists.txt", main / "CMakeLists.txt")
    (main / "main_CMakeLists.txt").unlink(missing_ok=True)
    return model


def esp_idf_project(board: str, board_cfg: dict, variant: str, codegen_dir: Path, frames_npz: Path,
                    out_dir: Path, n_frames: int, stamp_path) -> dict:
    """The real-board firmware: the project in `project/`, built into `esp-idf/` where the image exists."""
    project = out_dir / "project"
    stage_esp_idf_project(board, board_cfg, codegen_dir, frames_npz, project, n_frames)
    info = {"project": "project"}
    stamp = _stamp(stamp_path, "esp-idf") if stamp_path else {"available": False,
                                                               "reason": "no esp-idf image stamp given"}
    if not stamp.get("available") or containers.runner_kind() != "docker":
        reason = stamp.get("reason") or "no Docker engine for the esp-idf image"
        return dict(info, status="toolchain_unavailable", reason=f"ESP-IDF toolchain image unavailable: {reason}")
    built = out_dir / "esp-idf"
    shutil.rmtree(built, ignore_errors=True)
    script = ("set -eu\n"
              "mkdir -p esp-idf/build\n"
              "idf-env idf.py -C project -B esp-idf/build build\n"
              "idf-env esptool.py --chip esp32 merge_bin -o esp-idf/firmware.bin --flash_mode dio "
              "--flash_size 4MB 0x1000 esp-idf/build/bootloader/bootloader.bin "
              "0x8000 esp-idf/build/partition_table/partition-table.bin 0x10000 esp-idf/build/tinyeit.bin\n"
              "cp esp-idf/build/tinyeit.elf esp-idf/firmware.elf\n"
              "rm -rf esp-idf/build\n")
    proc = containers.run("esp-idf", ["sh", "-c", script], mounts_ro=[project], out_dir=out_dir,
                          workdir=out_dir, timeout=3600)
    if proc.returncode != 0:
        raise _fail(board, variant, proc)
    files = {f"esp-idf/{name}": _sha256(built / name) for name in ("firmware.bin", "firmware.elf")}
    return dict(info, status="ok", reason=None, merged_bin="esp-idf/firmware.bin", files=files,
                flash_images=[{"offset": 0, "path": "esp-idf/firmware.bin"}],
                toolchain=_toolchain("esp-idf", stamp, built))
