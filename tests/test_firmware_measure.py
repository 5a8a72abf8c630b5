"""The does_not_fit record both engines' builds write: figures needed against figures available;
the stack frames of the assembly kernels the stack estimate adds."""
import re
import shlex
import subprocess

from tinyeit.codegen.generator import kernel_sources
from tinyeit.firmware import measure
from tinyeit.firmware.build import COMMON_CFLAGS, CORTEX_M4F_FLAGS

LD = "ld: region `FLASH' overflowed by 1200 bytes\nld: region `RAM' overflowed by 10 bytes\n"


def test_flash_and_ram_both_named_with_their_figures():
    sizes = {"flash_bytes": 525488, "ram_static_bytes": 60000}
    rec = measure.does_not_fit(sizes, LD, "nicla_sense", 524288, 65536, 8192, arena_bytes=40000)
    assert rec["status"] == "does_not_fit"
    assert rec["linker_overflow"] == {"FLASH": 1200, "RAM": 10}
    assert rec["ram_link_bytes"] == 68192
    assert "flash: needs 525488 bytes, nicla_sense has 524288" in rec["reason"]
    assert "RAM: needs 68192 bytes (static 60000, of which arena 40000, + stack 8192), nicla_sense has 65536" \
        in rec["reason"]
    assert rec["image"] is None and rec["files"] == {} and rec["sha256"] is None


def test_only_the_region_that_overflows_is_named():
    sizes = {"flash_bytes": 600000, "ram_static_bytes": 1000}
    rec = measure.does_not_fit(sizes, "ld: region `FLASH' overflowed by 75712 bytes", "nano33ble",
                               524288, 262144, 4096)
    assert rec["reason"] == "flash: needs 600000 bytes, nano33ble has 524288"
    assert "arena" not in rec["reason"]


def test_an_overflow_line_counts_even_when_the_sizes_look_small():
    # The linker also reserves space the section sizes don't show (alignment, stack): trust its word.
    rec = measure.does_not_fit({"flash_bytes": 10, "ram_static_bytes": 10}, LD, "b", 100, 100, 0)
    assert rec["reason"].startswith("flash: needs 10 bytes") and "RAM: needs 10 bytes" in rec["reason"]


def _regs(listed: str) -> int:
    count = 0
    for part in listed.split(","):
        lo, _, hi = part.strip().partition("-")
        count += int(hi[1:]) - int(lo[1:]) + 1 if hi else 1
    return count


def _asm_frame(disassembly: str) -> int:
    """The deepest the stack pointer goes below its entry value, reading the function's
    instructions in order (these kernels have one prologue and their epilogues undo it)."""
    depth = deepest = 0
    for line in disassembly.splitlines():
        ins = line.split(";")[0].split("\t")[2:]
        if len(ins) < 2:
            continue
        op, args = ins[0].split(".")[0], ins[1]
        if op == "push" or (op == "stmdb" and args.startswith("sp!")):
            depth += 4 * _regs(args[args.index("{") + 1:args.index("}")])
        elif op == "pop" or (op in ("ldmia", "ldm") and args.startswith("sp!")):
            depth -= 4 * _regs(args[args.index("{") + 1:args.index("}")])
        elif op in ("sub", "subw", "add", "addw") and re.match(r"sp, (sp, )?#\d+$", args):
            depth += int(args.rsplit("#", 1)[1]) * (1 if op.startswith("sub") else -1)
        elif re.search(r"\[sp, #-(\d+)\]!$", args):
            depth += int(re.search(r"#-(\d+)", args).group(1))
        elif re.search(r"\[sp\], #(\d+)$", args):
            depth -= int(args.rsplit("#", 1)[1])
        elif re.match(r"sp\b", args) and not op.startswith(("str", "stm", "cmp", "tst")):
            raise AssertionError(f"an instruction writing sp the test does not read: {line}")
        deepest = max(deepest, depth)
    return deepest


def test_asm_frames_are_the_assembly_kernels_own_prologues(tmp_path):
    """measure.ASM_FRAMES is kept by hand: here every function the Cortex-M kernels define in
    assembly (defined in the object, unknown to gcc's call graph) must be listed, with the
    bytes its own prologue pushes and reserves, so the stack estimate cannot go stale."""
    for name, text in kernel_sources().items():
        (tmp_path / name).write_text(text)
    flags = shlex.split(f"{CORTEX_M4F_FLAGS} {COMMON_CFLAGS}")
    asm_frames = {}
    for unit in ("tinyeit_kernels.c", "tinyeit_kernels_stored.c"):
        obj = tmp_path / unit.replace(".c", ".o")
        subprocess.run(["arm-none-eabi-gcc", *flags, "-I.", "-c", unit, "-o", obj.name],
                       cwd=tmp_path, check=True, capture_output=True, text=True, timeout=300)
        frames, _ = measure.parse_callgraph([obj.with_suffix(".ci").read_text()])
        known = {title.rsplit(":", 1)[-1] for title in frames}  # static ones: "unit.c:name"
        symbols = subprocess.run(["arm-none-eabi-nm", "--defined-only", obj.name], cwd=tmp_path,
                                 check=True, capture_output=True, text=True, timeout=300).stdout
        for line in symbols.splitlines():
            _, kind, name = line.split()
            if kind in "Tt" and name not in known:
                dis = subprocess.run(["arm-none-eabi-objdump", "-d", f"--disassemble={name}", obj.name],
                                     cwd=tmp_path, check=True, capture_output=True, text=True, timeout=300).stdout
                asm_frames[name] = _asm_frame(dis)
    assert asm_frames, "no assembly kernel found: the test lost track of them"
    assert asm_frames == measure.ASM_FRAMES
