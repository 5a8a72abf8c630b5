"""Read what a link produced: section sizes, region overflows, and a static stack estimate.

The stack estimate walks GCC's -fcallgraph-info=su call graph from the entry point: the deepest
chain of static frames, plus interrupt handlers and the exception frame on Cortex-M. Library
functions outside the graph and indirect calls count as 0 bytes, which the record says.
ESP32 code in IRAM (`.iram0.*`) counts twice, as on the chip: its image is in flash, and it is
copied into (instruction) RAM at boot.
"""
from __future__ import annotations

import re
from pathlib import Path

FLASH_SECTIONS = (".isr_vector", ".text", ".rodata", ".ARM.exidx", ".ARM.extab", ".init", ".fini",
                  ".eh_frame", ".gcc_except_table", ".init_array", ".fini_array", ".preinit_array",
                  ".tdata", ".data", ".data.rel.ro", ".got", ".got.plt", ".rela.plt", ".iplt",
                  ".note.ABI-tag", ".note.gnu.property", ".plt", ".rela.iplt", "__libc_freeres_fn",
                  "__libc_subfreeres", "__libc_IO_vtables", "__libc_atexit", "__libc_freeres_ptrs",
                  ".stapsdt.base", ".iram0.vectors", ".iram0.text")
RAM_SECTIONS = (".data", ".bss", ".tdata", ".tbss", ".got", ".got.plt", ".data.rel.ro", ".init_array",
                ".fini_array", "__libc_subfreeres", "__libc_IO_vtables", "__libc_atexit", "__libc_freeres_ptrs",
                ".iram0.vectors", ".iram0.text")
_OVERFLOW = re.compile(r"region [`'](\w+)' overflowed by (\d+) bytes")


def parse_size_a(text: str) -> dict[str, int]:
    """`size -A` output -> {section: bytes}."""
    sizes = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].startswith((".", "_")) and parts[1].isdigit():
            sizes[parts[0]] = sizes.get(parts[0], 0) + int(parts[1])
    return sizes


def memory_use(sections: dict[str, int]) -> dict[str, int]:
    """Flash (code + constants + .data's initial values) and static RAM (.data + .bss) bytes."""
    flash = sum(size for name, size in sections.items() if name in FLASH_SECTIONS)
    ram = sum(size for name, size in sections.items() if name in RAM_SECTIONS)
    return {"flash_bytes": flash, "ram_static_bytes": ram, "stack_reserved_bytes": sections.get(".stack", 0)}


def parse_overflows(linker_output: str) -> dict[str, int]:
    """{'FLASH': n, 'RAM': m} from ld's "region `X' overflowed by N bytes" lines."""
    found: dict[str, int] = {}
    for region, amount in _OVERFLOW.findall(linker_output):
        found[region] = max(found.get(region, 0), int(amount))
    return found


# The Cortex-M link's memory regions; a board whose link has more (the ESP32's IROM, DROM, IRAM,
# DRAM) passes its own map of region -> "flash" or "ram".
REGIONS = {"FLASH": "flash", "RAM": "ram"}


def does_not_fit(sizes: dict[str, int], linker_output: str, board: str, flash: int, ram: int,
                 stack_bytes: int, arena_bytes: int | None = None, regions: dict[str, str] = REGIONS) -> dict:
    """The build.json fields of an image that overflows the board: what it needs against what it has.

    `sizes` come from an unbounded link (the board-sized one stops at the first overflow), the
    linker's own overflow lines are kept beside them. An overflowed region counts against the
    memory `regions` maps it to, even when the totals alone would fit.
    """
    overflow = parse_overflows(linker_output)
    hit = {regions.get(region) for region in overflow}
    problems = []
    if sizes["flash_bytes"] > flash or "flash" in hit:
        problems.append(f"flash: needs {sizes['flash_bytes']} bytes, {board} has {flash}")
    ram_link = sizes["ram_static_bytes"] + stack_bytes
    if ram_link > ram or "ram" in hit:
        arena = f", of which arena {arena_bytes}," if arena_bytes is not None else ""
        problems.append(f"RAM: needs {ram_link} bytes (static {sizes['ram_static_bytes']}{arena} + stack "
                        f"{stack_bytes}), {board} has {ram}")
    unknown = sorted(region for region in overflow if region not in regions)
    if unknown:
        problems.append("linker region(s) " + ", ".join(f"{r} overflowed by {overflow[r]} bytes" for r in unknown))
    return dict(status="does_not_fit", reason="; ".join(problems), linker_overflow=overflow,
                ram_link_bytes=ram_link, files={}, image=None, sha256=None)


def parse_callgraph(texts: list[str]) -> tuple[dict[str, int], dict[str, set[str]]]:
    """Frames {function: static bytes} and calls {caller: callees} from .ci (VCG) files."""
    frames: dict[str, int] = {}
    calls: dict[str, set[str]] = {}
    for text in texts:
        for title, label in re.findall(r'node: \{ title: "([^"]+)" label: "([^"]*)"', text):
            match = re.search(r"(\d+) bytes \((static|dynamic[^)]*)\)", label)
            if match:
                frames[title] = max(frames.get(title, 0), int(match.group(1)))
        for src, dst in re.findall(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"', text):
            calls.setdefault(src, set()).add(dst)
    return frames, calls


def deepest_stack(frames: dict[str, int], calls: dict[str, set[str]], entry: str) -> tuple[int, bool]:
    """(bytes of the deepest call chain from entry, whether it is exact: no recursion or unknowns)."""
    exact = True
    memo: dict[str, int] = {}

    def walk(fn: str, on_path: frozenset) -> int:
        nonlocal exact
        if fn in on_path:
            exact = False
            return 0
        if fn in memo:
            return memo[fn]
        if fn not in frames:
            exact = False
        below = [walk(callee, on_path | {fn}) for callee in sorted(calls.get(fn, ()))]
        memo[fn] = frames.get(fn, 0) + max(below, default=0)
        return memo[fn]

    return walk(entry, frozenset()), exact


# Stack frames of the kernels written in assembly (gcc's call graph knows their callers, not
# their frames): bytes pushed and reserved, from the functions' own prologues (checked against
# the compiled kernels by tests/test_firmware_measure.py).
ASM_FRAMES = {
    "tinyeit_cm_pairs4u": 36 + 4 * 256 + 48,   # tinyeit_cm_fc_pairs.c: the widened row, 12 slots
    "tinyeit_cm_pairs3": 40, "tinyeit_cm_pairs2": 40, "tinyeit_cm_pairs1": 40,
    "tinyeit_cm_pairs3o": 40, "tinyeit_cm_pairs2o": 40, "tinyeit_cm_pairs1o": 40,
    "tinyeit_cm_pairs_widen": 36,
    "tinyeit_cm_pairs_out": 36, "tinyeit_cm_rq_single": 36,
    "tinyeit_cm_conv3_post": 44, "tinyeit_cm_conv3_lo": 44,
    "tinyeit_cm_conv3x2_post": 56, "tinyeit_cm_conv3x2_lo": 56,
    "tinyeit_cm_cb2": 40,                       # tinyeit_cm_codebook.c
    "tinyeit_cm_bsr_pairs": 36 + 16,            # tinyeit_cm_sparse.c: 4 slots below the saves
}


def stack_estimate(ci_files: list[Path], entry: str, handlers: tuple[str, ...] = (),
                   exception_frame: int = 0) -> dict:
    """{"stack_estimate_bytes", "stack_estimate_exact"} for the program entered at `entry`."""
    frames, calls = parse_callgraph([Path(p).read_text() for p in sorted(ci_files)])
    called = {fn for callees in calls.values() for fn in callees}
    frames.update({fn: size for fn, size in ASM_FRAMES.items() if fn in called and fn not in frames})
    depth, exact = deepest_stack(frames, calls, entry)
    irq = 0
    for handler in handlers:
        d, e = deepest_stack(frames, calls, handler)
        irq = max(irq, d + exception_frame)
        exact = exact and e
    return {"stack_estimate_bytes": depth + irq, "stack_estimate_exact": exact}
