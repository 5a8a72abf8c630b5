"""The Cortex-M4 cycle model (m4_cycles_plugin.c) on hand-written Thumb-2 sequences.

Each case is a function `case_<name>` that the driver calls between two calls of `mark`, the
plugin's marker: `bl mark; bl case; bl mark`. The cycles between the two marks are the case's
body plus a fixed frame (the `bx lr` of mark and of the case, the `bl`s); the frame is measured
by an empty case and subtracted. Every case function starts word aligned, so each `bl`/`bx`
lands on an aligned target and the frame is the same for every case. The expected figures are
derived by hand, in the comment beside each case, from the Cortex-M4 TRM (r0p1): Table 3-1,
section 3.3.2 (load/store timings) and Table 7-1 (FPU), with the plugin's stated model of the
branch refill P (1 for an immediate target, 2 for a register, 3 loaded from memory, +1 for a
32-bit target at a halfword address).
"""
import re

import pytest

from tinyeit import containers
from tinyeit.deploy import emulator
from tinyeit.deploy.elf_symbols import symbol_address

pytestmark = [pytest.mark.docker]

# name: (body, expected cycles of the body, instructions in the body)
CASES = {
    "empty": ("", 0, 0),
    # Load-use chain: each LDR's address is the previous LDR's result, so none pipelines:
    # 4 x LDR (2) = 8.
    "load_use_chain": ("ldr r0, [r0]\n" * 4, 8, 4),
    # Back-to-back independent loads pipeline: 2 + 1 + 1 + 1 = 5 (TRM: LDR;LDR "three cycles").
    "back_to_back_loads": ("ldr r2, [r1]\nldr r3, [r1, #4]\nldr r4, [r1, #8]\nldr r5, [r1, #12]\n",
                           5, 4),
    # TRM 3.3.2 examples: LDR R0,[R1,R2]; STR R0,[R3,#20] "normally three cycles total" ...
    "ldr_then_str_imm": ("ldr r2, [r1, r6]\nstr r2, [r1, #16]\n", 3, 2),
    # ... LDR R0,[R1,R2]; STR R1,[R3,R2] "three cycles" (STR register offset 2, pipelined: 1) ...
    "ldr_then_str_reg": ("ldr r2, [r1, r6]\nstr r3, [r1, r6]\n", 3, 2),
    # ... LDR R0,[R1,R5]; LDR R1,[R2]; LDR R2,[R3,#4] "normally four cycles total".
    "three_loads_trm": ("ldr r2, [r1, r6]\nldr r3, [r1]\nldr r4, [r1, #4]\n", 4, 3),
    # A store after a store does not pipeline; STR with an immediate offset is always 1: 1 + 1.
    "two_stores_imm": ("str r2, [r1, #16]\nstr r3, [r1, #20]\n", 2, 2),
    # Address from the preceding ALU result: no forwarding path, +1: ADDS 1 + LDR (2 + 1) = 4.
    "address_interlock": ("adds r5, r1, #4\nldr r2, [r5]\n", 4, 2),
    # SMLAD loop, 4 iterations: MOV.W 1; per iteration SMLAD 1 + SUBS 1; BNE taken 3 times
    # (1 + P, immediate target, SMLAD word aligned: P = 1) and not taken once (1):
    # 1 + 4 x 2 + 3 x 2 + 1 = 16.
    "smlad_loop": ("mov.w r7, #4\n1: smlad r8, r2, r3, r8\nsubs r7, #1\nbne 1b\n", 16, 13),
    # Taken branch to a 16-bit target: B (1 + P = 1 + 1) + NOP 1 = 3.
    "taken_branch": ("b 1f\nnop\nnop\n1: nop\n", 3, 2),
    # Taken branch to a 32-bit instruction at a halfword address: P = 1 + 1: B 3 + SMLAD 1 = 4.
    "taken_branch_unaligned_wide": ("b 1f\nnop\nnop\n1: smlad r8, r2, r3, r8\n", 4, 2),
    # Not taken: CMP 1 + BNE 1 + NOP 1 + NOP 1 = 4.
    "not_taken_branch": ("cmp r0, r0\nbne 1f\nnop\n1: nop\n", 4, 4),
    # Register branch: ADR 1 + ORR 1 + BX (1 + P = 1 + 2) + NOP 1 = 6 (BX is no address use).
    "register_branch": ("adr r4, 1f\norr r4, r4, #1\nbx r4\nnop\n.balign 4\n1: nop\n", 6, 4),
    # Return through POP {PC} instead of BX LR: PUSH {r4,lr} (1 + 2) + POP {r4,pc} (1 + 2 + P=3)
    # = 9, against the frame's BX LR (1 + P = 3): +6, and one more instruction.
    "pop_pc_return": ("push {r4, lr}\npop {r4, pc}\n", 6, 1),
    # Table branch: TBB (2 for the load + 1 for the add, + P = 3 for a target loaded from
    # memory) = 6, then the target NOP 1 = 7. The one-entry table (offset 1 halfword) skips
    # its own two bytes.
    "table_branch": ("tbb [pc, r6]\n.byte 1, 0\nnop\n", 7, 2),
    # IT block: CMP 1, ITE 1 (never folded), both conditional MOVs charged, the failing one
    # too: 4.
    "it_block": ("cmp r0, r0\nite ne\nmovne r4, #1\nmoveq r4, #2\n", 4, 4),
    # Multiply, MAC and DSP SIMD are single cycle on the M4: 7 instructions, 7 cycles.
    "multiply_mac_dsp": ("mul r4, r2, r3\nmla r4, r2, r3, r4\numull r4, r5, r2, r3\n"
                         "smlal r4, r5, r2, r3\nsmlad r4, r2, r3, r4\nsadd16 r4, r2, r3\n"
                         "sxtb16 r5, r2\n", 7, 7),
    # UDIV: 2-12 by early termination; the model charges the bound: 12.
    "udiv": ("udiv r4, r2, r3\n", 12, 1),
    # LDM/STM/PUSH/POP: 1 + N each: 5 + 5, and 5 + 5.
    "ldm_stm": ("ldm r1, {r2-r5}\nstm r1, {r2-r5}\n", 10, 2),
    "push_pop": ("push {r4-r7}\npop {r4-r7}\n", 10, 2),
    # LDRD: 1 + N = 3, not pipelined.
    "ldrd": ("ldrd r2, r3, [r1]\n", 3, 1),
    # VDIV 14.
    "vdiv": ("vdiv.f32 s0, s1, s2\n", 14, 1),
    # VDIV whose result the next VADD reads: VADD takes one more cycle: 14 + 2 = 16.
    "vdiv_then_use": ("vdiv.f32 s0, s1, s2\nvadd.f32 s3, s0, s0\n", 16, 2),
    "vsqrt": ("vsqrt.f32 s0, s1\n", 14, 1),
    # VMLA 3; a chain through the accumulator is forwarded: 3 + 3 = 6.
    "vmla_chain": ("vmla.f32 s0, s1, s2\nvmla.f32 s0, s3, s4\n", 6, 2),
    # VMUL 1 then a VADD reading its result: 1 + (1 + 1) = 3; independent: 1 + 1 = 2.
    "vmul_then_use": ("vmul.f32 s0, s1, s2\nvadd.f32 s3, s0, s4\n", 3, 2),
    "vmul_independent": ("vmul.f32 s0, s1, s2\nvadd.f32 s3, s4, s5\n", 2, 2),
    # VLDR.32 2, VSTR.32 2.
    "vldr_vstr": ("vldr s0, [r1]\nvstr s1, [r1, #4]\n", 4, 2),
    # VPUSH/VPOP of 4 singles: 1 + 4 each; of 2 doubles: 1 + 2 x 2 each.
    "vpush_vpop_singles": ("vpush {s16-s19}\nvpop {s16-s19}\n", 10, 2),
    "vpush_vpop_doubles": ("vpush {d8-d9}\nvpop {d8-d9}\n", 10, 2),
    # VMOV core <-> one single 1 each; two core registers <-> two singles 2: 1 + 1 + 2.
    "vmov": ("vmov s0, r2\nvmov r3, s1\nvmov r2, r3, s0, s1\n", 4, 3),
}

PROLOGUE = """\
    .syntax unified
    .cpu cortex-m4
    .fpu fpv4-sp-d16
    .thumb
    .section .vectors, "a"
    .word 0x20010000
    .word reset + 1
    .text
    .balign 4
    .thumb_func
reset:
    ldr r0, =0xE000ED88          @ CPACR: CP10, CP11 full access (the FPU)
    ldr r1, [r0]
    orr r1, r1, #(0xF << 20)
    str r1, [r0]
    dsb
    isb
    .balign 4                    @ the driver's BLs word aligned: every return lands aligned
"""
EPILOGUE = """\
    mov r0, #0x18                @ semihosting SYS_EXIT, ADP_Stopped_ApplicationExit
    ldr r1, =0x20026
    bkpt 0xab
    .ltorg
    .balign 4
    .thumb_func
setup:                           @ r1: data, [r1] = r0 = r1 (a self pointer), r6 = 0, r2/r3 != 0
    ldr r1, =data
    str r1, [r1]
    mov r0, r1
    movs r6, #0
    movs r2, #7
    movs r3, #3
    bx lr
    .ltorg
    .balign 4
    .thumb_func
mark:
    bx lr
"""
LINKER_SCRIPT = """\
MEMORY { FLASH (rx) : ORIGIN = 0x0, LENGTH = 256K
         RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 64K }
SECTIONS { .text : { KEEP(*(.vectors)) *(.text*) } > FLASH
           .bss (NOLOAD) : { data = .; . += 64; } > RAM }
"""
MARK_LINE = re.compile(r"^TINYEIT_CYCLES (\d+) (\d+)$", re.M)


def program() -> str:
    driver, functions = [], []
    for name, (body, _, _) in CASES.items():
        driver.append(f"    bl setup\n    bl mark\n    bl case_{name}\n    bl mark\n")
        ret = "" if name == "pop_pc_return" else "    bx lr\n"
        functions.append(f"    .balign 4\n    .thumb_func\ncase_{name}:\n"
                         + "".join(f"    {line}\n" for line in body.splitlines())
                         + ret + "    .ltorg\n")
    return PROLOGUE + "".join(driver) + EPILOGUE + "".join(functions)


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """Cycles and instructions of each case's body, from one QEMU run with the plugin."""
    work = tmp_path_factory.mktemp("cycles")
    (work / "cases.S").write_text(program())
    (work / "cases.ld").write_text(LINKER_SCRIPT)
    build = containers.run("arm", ["arm-none-eabi-gcc", "-nostdlib", "-T", str(work / "cases.ld"),
                                   "-o", str(work / "cases.elf"), str(work / "cases.S")], [], work,
                           timeout=300)
    assert build.returncode == 0, build.stderr
    plugin = emulator.build_plugin(work, emulator.CYCLE_PLUGIN_SOURCE, "arm")
    marker = symbol_address(work / "cases.elf", "mark")
    argv = emulator.cortex_m_argv(work / "cases.elf", plugin, marker)
    run = containers.run("arm", ["timeout", "60", *argv], [], work, timeout=180)
    assert run.returncode == 0, run.stderr
    marks = [(int(i), int(c)) for i, c in MARK_LINE.findall(run.stderr)]
    assert len(marks) == 2 * len(CASES), run.stderr
    spans = {name: (marks[2 * k + 1][0] - marks[2 * k][0], marks[2 * k + 1][1] - marks[2 * k][1])
             for k, name in enumerate(CASES)}
    frame_insns, frame_cycles = spans["empty"]
    return spans["empty"], {name: (insns - frame_insns, cycles - frame_cycles)
                            for name, (insns, cycles) in spans.items()}


def test_frame_is_what_the_model_says(measured):
    # The empty case, mark to mark: BX LR in mark (1 + P, register: 1 + 2), BL case (1 + 1),
    # BX LR in the case (1 + 2), BL mark (1 + 1): 4 instructions, 10 cycles.
    frame, _ = measured
    assert frame == (4, 10)


@pytest.mark.parametrize("name", [n for n in CASES if n != "empty"])
def test_cycles_match_the_trm(measured, name):
    _, expected_cycles, expected_insns = CASES[name]
    assert measured[1][name] == (expected_insns, expected_cycles)


def test_marker_is_required_by_the_emulator(tmp_path):
    from tinyeit.errors import TinyEitError

    elf = tmp_path / "no_symbols.elf"
    elf.write_bytes(b"\x7fELF\x01\x01\x01" + bytes(45))
    with pytest.raises(TinyEitError, match="no symbol 'tinyeit_platform_ticks'"):
        symbol_address(elf, emulator.MARKER_SYMBOL)
