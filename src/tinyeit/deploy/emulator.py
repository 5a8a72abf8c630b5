"""Run a firmware under QEMU and count what one inference costs, deterministically.

Cortex-M4F boards: the ELF runs on `mps2-an386` with `-icount shift=0` and the Cortex-M4 cycle
model (`m4_cycles_plugin.c`), which counts the executed instructions and charges each its cycles
from the Cortex-M4 TRM's timings; it prints both counts every time the harness's tick function
(`tinyeit_platform_ticks`, found in the ELF's symbol table) is entered: the harness calls it right
before and right after each inference. (The firmware's own SysTick ticks, one per 40 instructions
under -icount, stay in its result lines; the plugin's counts are exact.)
rpi4: the static binary runs under qemu-aarch64 (user mode), whose clock is the host's, so the
ticks are host nanoseconds; the instructions come from a small TCG plugin instead
(`insn_count_plugin.c`), which prints the executed-instruction count at every clock_gettime
call: the firmware reads the clock right before and after each inference.

esp32: the bare-metal ELF runs on QEMU's `sim` machine with the `esp32` core (imported from
Espressif's overlay with a 1 GHz clock) under `-icount shift=0,sleep=off`: one instruction is
1 ns of virtual time, so the CCOUNT ticks the firmware prints around each inference are
executed instructions, exactly and identically on every run (plain `shift=0` varies by a few).

All run in the project's toolchain images (`arm`, `aarch64`, `xtensa`) through `tinyeit.containers.run`.
A run is wrapped in coreutils `timeout`, inside the container, so a hung firmware is killed
there (killing a `docker run` client would leave its container running).
"""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tinyeit.errors import TinyEitError

PLUGIN_SOURCE = Path(__file__).with_name("insn_count_plugin.c")
CYCLE_PLUGIN_SOURCE = Path(__file__).with_name("m4_cycles_plugin.c")
PLUGIN_API_HEADER = Path(__file__).with_name("qemu_plugin_api.h")
MARKER_SYMBOL = "tinyeit_platform_ticks"   # the harness reads the clock around each inference
CORTEX_M_MACHINE = "mps2-an386"
TIMEOUT_EXIT = 124           # coreutils timeout: the command was killed
# The hang timeout: a fixed allowance (container start, QEMU boot) plus a generous cost per MAC.
# An int8 or float MAC costs well under 50 instructions in the generated C, and QEMU's TCG
# runs at least ~20 M guest instructions per second on a slow core, so this is >10x headroom.
TIMEOUT_BASE_S = 60.0
INSTRUCTIONS_PER_MAC_BOUND = 200
EMULATED_INSTRUCTIONS_PER_S = 20e6
_INSN_LINE = re.compile(r"^TINYEIT_INSN (\d+)$", re.M)
_CYCLES_LINE = re.compile(r"^TINYEIT_CYCLES (\d+) (\d+)$", re.M)
_FRAME_TICKS = re.compile(r"^TINYEIT FRAME i=\d+ ticks=(\d+) ", re.M)
ESP32_CPU = "esp32"


@dataclass(frozen=True)
class EmulatorRun:
    stdout: str
    stderr: str
    returncode: int
    timed_out: bool
    timeout_s: float
    instructions: list[int] | None = None   # per inference, when counted by the plugin
    runner: str | None = None               # containers.runner_kind() that ran QEMU
    cycles: list[int] | None = None         # per inference, from the Cortex-M4 cycle model
    marks: list | None = None               # every (instructions, cycles or None) the plugin printed


class EmulatorUnavailable(TinyEitError):
    """The emulator cannot run at all here (no image, no host tool)."""


def timeout_for(macs: int, n_frames: int) -> float:
    """Seconds after which a run counts as hung, from the model's MACs (never below the base)."""
    work = max(int(macs), 1) * max(int(n_frames), 1) * INSTRUCTIONS_PER_MAC_BOUND
    return round(TIMEOUT_BASE_S + work / EMULATED_INSTRUCTIONS_PER_S, 1)


def cortex_m_argv(elf: str | Path, plugin: str | Path | None = None,
                  marker: int | None = None) -> list[str]:
    argv = ["qemu-system-arm", "-M", CORTEX_M_MACHINE, "-nographic",
            "-semihosting-config", "enable=on,target=native", "-icount", "shift=0"]
    if plugin is not None:
        argv += ["-plugin", f"{plugin}" + (f",marker={marker:#x}" if marker is not None else "")]
    return argv + ["-kernel", str(elf)]


def esp32_argv(elf: str | Path) -> list[str]:
    """QEMU's Xtensa `sim` machine: semihosting (simcall) console and exit, deterministic icount."""
    return ["qemu-system-xtensa", "-M", "sim", "-cpu", ESP32_CPU, "-nographic", "-monitor", "none",
            "-semihosting", "-icount", "shift=0,sleep=off", "-kernel", str(elf)]


def aarch64_argv(binary: str | Path, plugin: str | Path) -> list[str]:
    return ["qemu-aarch64", "-plugin", str(plugin), str(binary)]


def _with_timeout(argv: list[str], timeout_s: float) -> list[str]:
    return ["timeout", "-k", "5", f"{timeout_s:g}", *argv]


def _run(image: str, argv: list[str], mounts: list[Path], work: Path, timeout_s: float):
    from tinyeit import containers

    try:
        return containers.run(image, _with_timeout(argv, timeout_s), [str(m) for m in mounts],
                              work, timeout=timeout_s + 120)
    except containers.ToolUnavailable as exc:
        raise EmulatorUnavailable(str(exc)) from None
    except subprocess.TimeoutExpired:
        # the in-container timeout did not fire: report it the same way
        return subprocess.CompletedProcess(argv, TIMEOUT_EXIT, "", "killed by the host-side timeout")


def _runner() -> str:
    from tinyeit import containers

    return containers.runner_kind()


def build_plugin(out_dir: str | Path, source: Path = PLUGIN_SOURCE, image: str = "aarch64") -> Path:
    """Compile a QEMU plugin for the machine that runs QEMU.

    It is built in the toolchain image that runs it (`aarch64` for qemu-aarch64, `arm` for
    qemu-system-arm) when that image has a host C compiler, so it matches the container's QEMU and
    libc; else with the host's `cc` (same Debian release as the images).
    """
    from tinyeit import containers

    out_dir = Path(out_dir)
    src = out_dir / source.name
    shutil.copyfile(source, src)
    shutil.copyfile(PLUGIN_API_HEADER, out_dir / PLUGIN_API_HEADER.name)
    so = out_dir / f"lib{source.stem}.so"
    argv = ["cc", "-shared", "-fPIC", "-O2", "-o", str(so), str(src)]
    errors = []
    if containers.runner_kind() == "docker":
        proc = containers.run(image, argv, [], out_dir, timeout=300)
        if proc.returncode == 0 and so.is_file():
            return so
        errors.append(f"in the {image} image: {(proc.stderr or proc.stdout).strip()[-300:]}")
    if shutil.which("cc"):
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=300)
        if proc.returncode == 0 and so.is_file():
            return so
        errors.append(f"with the host's cc: {proc.stderr.strip()[-300:]}")
    else:
        errors.append("the host has no `cc`")
    raise EmulatorUnavailable(f"cannot build the QEMU plugin {source.name}: " + "; ".join(errors) +
                              f". Add a host C compiler (gcc) to docker/{image}/Dockerfile or the host.")


def run_cortex_m(elf: str | Path, timeout_s: float, marker_symbol: str = MARKER_SYMBOL) -> EmulatorRun:
    """The ELF on mps2-an386 under -icount shift=0 with the cycle model: instructions and cycles
    per inference, counted between entries of the harness's tick function.

    QEMU 7.2 writes semihosting console output (SYS_WRITE0) to its stderr, the emulated UART
    to stdout: the console is both, stdout first (QEMU's own warnings and the plugin's count
    lines are non-protocol lines).
    """
    from tinyeit.deploy.elf_symbols import symbol_address

    elf = Path(elf).resolve()
    marker = symbol_address(elf, marker_symbol)
    with tempfile.TemporaryDirectory(prefix="tinyeit-qemu-") as work:
        plugin = build_plugin(work, CYCLE_PLUGIN_SOURCE, "arm")
        proc = _run("arm", cortex_m_argv(elf, plugin, marker), [elf.parent], Path(work), timeout_s)
    console = (proc.stdout or "") + (proc.stderr or "")
    marks = [(int(i), int(c)) for i, c in _CYCLES_LINE.findall(proc.stderr or "")]
    return EmulatorRun(console, proc.stderr, proc.returncode,
                       proc.returncode == TIMEOUT_EXIT, timeout_s,
                       instructions=per_inference([i for i, _ in marks]),
                       cycles=per_inference([c for _, c in marks]), runner=_runner(),
                       marks=marks)


def run_aarch64(binary: str | Path, timeout_s: float) -> EmulatorRun:
    """The static binary under qemu-aarch64 with the plugin; instructions per inference counted."""
    binary = Path(binary).resolve()
    with tempfile.TemporaryDirectory(prefix="tinyeit-qemu-") as work:
        plugin = build_plugin(work)
        proc = _run("aarch64", aarch64_argv(binary, plugin), [binary.parent], Path(work), timeout_s)
    counts = [int(v) for v in _INSN_LINE.findall(proc.stderr or "")]
    return EmulatorRun(proc.stdout, proc.stderr, proc.returncode,
                       proc.returncode == TIMEOUT_EXIT, timeout_s,
                       instructions=per_inference(counts), runner=_runner(),
                       marks=[(c, None) for c in counts])


def run_esp32(elf: str | Path, timeout_s: float) -> EmulatorRun:
    """The ELF on the emulated ESP32 core; instructions per inference are the frames' CCOUNT ticks.

    QEMU 7.2 may write semihosting console output to its stderr: the console is stdout then
    stderr (QEMU's own warnings are non-protocol lines).
    """
    elf = Path(elf).resolve()
    with tempfile.TemporaryDirectory(prefix="tinyeit-qemu-") as work:
        proc = _run("xtensa", esp32_argv(elf), [elf.parent], Path(work), timeout_s)
    console = (proc.stdout or "") + (proc.stderr or "")
    ticks = [int(t) for t in _FRAME_TICKS.findall(console)]
    return EmulatorRun(console, proc.stderr, proc.returncode, proc.returncode == TIMEOUT_EXIT, timeout_s,
                       instructions=ticks or None, runner=_runner())


def per_inference(counts: list[int]) -> list[int] | None:
    """Pair up the counts at consecutive clock reads: (before, after) of each inference."""
    if not counts or len(counts) % 2:
        return None
    return [after - before for before, after in zip(counts[0::2], counts[1::2])]
