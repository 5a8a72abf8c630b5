/* QEMU TCG plugin (plugin API version 1, QEMU 7.2 system mode): a Cortex-M4F cycle model.
 *
 * QEMU executes instructions, it does not time them. This plugin charges every executed Thumb-2
 * instruction its cost from the Cortex-M4 Technical Reference Manual (r0p1, Table 3-1 "Processor
 * instruction set summary", section 3.3.2 "Load/store timings", Table 7-1 "FPU instruction set"),
 * decoded from the instruction's bytes at translation time, and prints the running instruction
 * and cycle counts every time the instruction at the marker address executes, one line each,
 * on stderr:
 *     TINYEIT_CYCLES <instructions> <cycles>
 * The harness calls its tick function (the marker) right before and right after each inference,
 * so consecutive pairs of lines give one inference's instructions and cycles.
 * Arguments: marker=<address> (hex or decimal; bit 0, the Thumb bit, is ignored).
 *
 * Assumptions (what the model is):
 *  - Zero wait states for instruction fetch and data. The nRF52832/nRF52840 run code from flash
 *    at 64 MHz through the NVMC instruction cache; a cache hit has no wait state, and a model
 *    whose loops fit the cache is in that regime (Nordic's product specifications give about
 *    3.3 CoreMark/MHz from flash with the cache on, near the M4's zero-wait 3.4). Misses, the
 *    cache's warm-up and bus contention are not modelled.
 *  - Single-issue in order, each instruction costs its table figure, plus these pairwise rules
 *    between an instruction and the one before it in the same translation block:
 *      a. load pipelining: after a single LDR-class load, a single LDR/STR whose address does not
 *         use the first load's destination saves one cycle (never below 1): LDR;LDR = 2+1;
 *      b. address interlock: a load or store whose address register was written by the
 *         preceding data-processing instruction stalls one cycle (no forwarding path);
 *      c. FPU result interlock: an FPU add, subtract, multiply, divide, square root, multiply-
 *         accumulate or conversion takes one more cycle when the next instruction reads its
 *         result (except as the accumulator of a following multiply-accumulate).
 *  - Branches: 1 cycle, plus the pipeline refill P when taken (the next executed block does not
 *    start at the fall-through address). The TRM gives P = 1..3 "depending on the alignment and
 *    width of the target instruction, and whether the processor manages to speculate the address
 *    early". Model: P = 1 for immediate targets (B, B<c>, BL, CBZ/CBNZ: the address is known at
 *    decode), 2 for register targets (BX, BLX Rm, MOV/ADD PC), 3 for targets loaded from memory
 *    (POP/LDM/LDR to PC, TBB/TBH, as the TRM's load/store notes state); +1 when the target is a
 *    32-bit instruction at an address that is not word aligned (two fetches); at most 3.
 *  - Divide: SDIV/UDIV take 2-12 cycles by early termination on the operands' magnitudes; QEMU
 *    7.2 plugins cannot read registers, so every divide is charged 12 (an upper bound).
 *  - Conditional instructions in an IT block are charged as executed whether or not their
 *    condition passes; IT is charged 1 (never folded). Unaligned accesses, LDR from PC-relative
 *    literals contending with fetch, exception entry/return (12/10 cycles) and the write buffer
 *    are not modelled. Double-precision FPU instructions do not exist on the M4 (fpv4-sp).
 *
 * The cost table (cycles), by instruction class:
 *   data processing, MOV/MOVW/MOVT, shifts, compare, extend, bit field, REV, CLZ, SSAT, DSP SIMD
 *     (SADD16, SXTB16, QADD8, ...), MUL, MLA, MLS, SMULL, UMULL, SMLAL, UMLAL, SMLAD, SMLALD,
 *     SMUAD, SMLA<xy>, SMMUL, USAD8, IT, NOP, hints, MRS/MSR, CPS, BKPT, DSB, DMB     1
 *   ISB                                                                              1+P(2) = 3
 *   LDR/LDRB/LDRH/LDRSB/LDRSH, LDREX/STREX (pipelined as LDR)                          2 (rule a)
 *   STR/STRB/STRH with an immediate offset                                             1
 *   STR/STRB/STRH with a register offset                                               2 (rule a)
 *   LDRD/STRD                                                                          3
 *   LDM/STM/PUSH/POP (N registers)                                                     1+N
 *   SDIV/UDIV                                                                          12
 *   B, B<c>, BL, BX, BLX, CBZ/CBNZ, MOV/ADD to PC                                      1 (+P)
 *   LDR PC                                                                             2 (+P)
 *   POP/LDM with PC                                                                    1+N (+P)
 *   TBB/TBH (2 for the load, 1 for the add)                                            3 (+P)
 *   VADD/VSUB/VMUL/VNMUL/VABS/VNEG/VCMP/VCVT/VMOV (immediate, register, core<->S)/VMRS/VMSR  1
 *   VMOV two core registers <-> two S or one D                                         2
 *   VMLA/VMLS/VNMLA/VNMLS/VFMA/VFMS/VFNMA/VFNMS                                        3
 *   VDIV/VSQRT                                                                         14
 *   VLDR.32/VSTR.32 2, VLDR.64/VSTR.64 3
 *   VLDM/VSTM/VPUSH/VPOP: .32 1+N, .64 1+2N (N registers)
 *
 * Counting is inline (one add per instruction for each counter, no call), so a block left part
 * way still counts exactly what ran. Taken branches are seen by a call at the start of each
 * executed block. The plugin API comes from qemu_plugin_api.h beside it.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_plugin_api.h"

PLUGIN_EXPORT int qemu_plugin_version = 1;

/* ---- decoded instruction ------------------------------------------------------------------ */

enum kind {
    K_OTHER,      /* not data processing, no memory access: hints, IT, barriers, system */
    K_ALU,        /* data processing of any kind, multiply, MAC, DSP (rule b producers) */
    K_DIV,        /* SDIV/UDIV (data processing too) */
    K_LOAD,       /* single load, LDREX/STREX: pipelines (rule a) */
    K_STORE_IMM,  /* single store, immediate offset */
    K_STORE_REG,  /* single store, register offset */
    K_MEM_BLOCK,  /* LDRD/STRD, LDM/STM/PUSH/POP, VLDR/VSTR, VLDM/VSTM/VPUSH/VPOP: no pipelining */
    K_BRANCH,     /* branch without memory access */
    K_FP_RESULT,  /* FPU arithmetic with a result interlock (rule c) */
    K_FP_MAC,     /* FPU multiply-accumulate (rule c, accumulator forwarded) */
    K_FP_MOVE,    /* other FPU instructions: moves, compare, abs, neg, status */
};

enum target { T_NONE, T_IMM, T_REG, T_MEM };  /* how a PC-writing instruction finds its target */

struct insn {
    uint8_t kind;
    uint8_t cycles;      /* table cost, refill excluded */
    uint8_t target;      /* enum target */
    uint16_t addr;       /* core registers that form a memory address */
    uint16_t writes;     /* core registers written */
    uint16_t loaded;     /* core registers loaded from memory (rule a) */
    uint32_t fp_reads;   /* S registers read as operands (rule c) */
    uint32_t fp_acc;     /* S register read as a multiply-accumulate accumulator */
    uint32_t fp_writes;  /* S registers written */
};

#define R(n) ((uint16_t)(1u << (n)))
#define S(n) ((uint32_t)1u << ((n) & 31))
#define PC 15
#define SP 13
#define LR 14

static uint32_t s_range(unsigned first, unsigned count)
{
    uint32_t mask = 0;
    for (unsigned i = 0; i < count && first + i < 32; i++) mask |= S(first + i);
    return mask;
}

static unsigned popcount16(unsigned v) { return (unsigned)__builtin_popcount(v & 0xFFFFu); }

static void set(struct insn *d, unsigned kind, unsigned cycles)
{
    d->kind = (uint8_t)kind;
    d->cycles = (uint8_t)cycles;
}

static bool is_32bit(uint16_t hw1) { return (hw1 >> 11) >= 0x1D; }

/* 16-bit Thumb, by the top four bits (ARMv7-M ARM A5.2). */
static void decode16(uint16_t hw, struct insn *d)
{
    unsigned lo3 = hw & 7, hi3 = (hw >> 8) & 7;
    set(d, K_ALU, 1);
    switch (hw >> 12) {
    case 0x0: case 0x1:                      /* shift by immediate, ADD/SUB register or imm3 */
        d->writes = R(lo3);
        return;
    case 0x2: case 0x3:                      /* MOV/CMP/ADD/SUB imm8 */
        if (((hw >> 11) & 3) != 1) d->writes = R(hi3);
        return;
    case 0x4:
        if ((hw >> 10) == 0x10) {            /* data processing (TST, CMP, CMN write nothing) */
            unsigned op = (hw >> 6) & 15;
            if (op != 8 && op != 10 && op != 11) d->writes = R(lo3);
        } else if ((hw >> 10) == 0x11) {     /* high registers, BX/BLX */
            unsigned op = (hw >> 8) & 3, rd = ((hw >> 4) & 8) | lo3;
            if (op == 3) {
                set(d, K_BRANCH, 1);
                d->target = T_REG;
                if (hw & 0x80) d->writes = R(LR);
            } else if (op != 1) {
                if (rd == PC) { set(d, K_BRANCH, 1); d->target = T_REG; }
                else d->writes = R(rd);
            }
        } else {                             /* LDR literal */
            set(d, K_LOAD, 2);
            d->addr = R(PC);
            d->writes = d->loaded = R(hi3);
        }
        return;
    case 0x5: {                              /* load/store, register offset */
        unsigned op = (hw >> 9) & 7;
        d->addr = R((hw >> 6) & 7) | R((hw >> 3) & 7);
        if (op < 3) set(d, K_STORE_REG, 2);
        else { set(d, K_LOAD, 2); d->writes = d->loaded = R(lo3); }
        return;
    }
    case 0x6: case 0x7: case 0x8:            /* STR/LDR(B/H) immediate */
        d->addr = R((hw >> 3) & 7);
        if (hw & 0x0800) { set(d, K_LOAD, 2); d->writes = d->loaded = R(lo3); }
        else set(d, K_STORE_IMM, 1);
        return;
    case 0x9:                                /* SP-relative */
        d->addr = R(SP);
        if (hw & 0x0800) { set(d, K_LOAD, 2); d->writes = d->loaded = R(hi3); }
        else set(d, K_STORE_IMM, 1);
        return;
    case 0xA:                                /* ADR, ADD Rd, SP, #imm */
        d->writes = R(hi3);
        return;
    case 0xB:                                /* miscellaneous */
        if ((hw & 0xFF00) == 0xB000) d->writes = R(SP);
        else if ((hw & 0xF500) == 0xB100) { set(d, K_BRANCH, 1); d->target = T_IMM; }
        else if ((hw & 0xFF00) == 0xB200 || (hw & 0xFF00) == 0xBA00) d->writes = R(lo3);
        else if ((hw & 0xFE00) == 0xB400) {  /* PUSH */
            set(d, K_MEM_BLOCK, 1 + popcount16(hw & 0xFF) + ((hw >> 8) & 1));
            d->addr = R(SP);
            d->writes = R(SP);
        } else if ((hw & 0xFE00) == 0xBC00) {/* POP */
            unsigned n = popcount16(hw & 0xFF) + ((hw >> 8) & 1);
            set(d, K_MEM_BLOCK, 1 + n);
            d->addr = R(SP);
            d->writes = d->loaded = (uint16_t)((hw & 0xFF) | ((hw & 0x100) ? R(PC) : 0));
            d->writes |= R(SP);
            if (hw & 0x100) d->target = T_MEM;
        } else set(d, K_OTHER, 1);           /* CPS, BKPT, IT, hints */
        return;
    case 0xC:                                /* LDM/STM */
        set(d, K_MEM_BLOCK, 1 + popcount16(hw & 0xFF));
        d->addr = R(hi3);
        d->writes = R(hi3);
        if (hw & 0x0800) d->writes |= d->loaded = (uint16_t)(hw & 0xFF);
        return;
    case 0xD:                                /* B<c>, UDF, SVC */
        if (((hw >> 8) & 0xE) == 0xE) set(d, K_OTHER, 1);
        else { set(d, K_BRANCH, 1); d->target = T_IMM; }
        return;
    default:                                 /* 0xE: B */
        set(d, K_BRANCH, 1);
        d->target = T_IMM;
        return;
    }
}

/* VFP (coprocessors 10 and 11): register fields of single precision (ARMv7-M ARM A6). */
static void decode_vfp(uint16_t hw1, uint16_t hw2, struct insn *d)
{
    unsigned coproc = (hw2 >> 8) & 15, dbit = (hw1 >> 6) & 1;
    bool dbl = coproc == 11;
    unsigned sd = ((hw2 >> 12) << 1) | dbit, sn = ((hw1 & 15) << 1) | ((hw2 >> 7) & 1),
             sm = ((hw2 & 15) << 1) | ((hw2 >> 5) & 1);
    set(d, K_OTHER, 1);
    if (coproc != 10 && coproc != 11) return;
    if ((hw1 & 0x0E00) == 0x0C00) {          /* extension register load/store, 64-bit moves */
        unsigned rn = hw1 & 15, l = (hw1 >> 4) & 1;
        if ((hw1 & 0x01E0) == 0x0040) {      /* VMOV two core registers <-> S pair / D */
            unsigned first = dbl ? 2 * (((hw2 >> 5) & 1) << 4 | (hw2 & 15)) : sm;
            set(d, K_FP_MOVE, 2);
            if (l) d->writes = R(hw2 >> 12) | R(rn), d->fp_reads = s_range(first, 2);
            else d->fp_writes = s_range(first, 2);
            return;
        }
        unsigned first = dbl ? 2 * ((dbit << 4) | (hw2 >> 12)) : sd;
        unsigned p = (hw1 >> 8) & 1, w = (hw1 >> 5) & 1, words = hw2 & 0xFF;
        d->addr = R(rn);
        if (p && !w) {                       /* VLDR/VSTR */
            set(d, K_MEM_BLOCK, dbl ? 3 : 2);
            words = dbl ? 2 : 1;
        } else {                             /* VLDM/VSTM/VPUSH/VPOP: 1 + one per word */
            set(d, K_MEM_BLOCK, 1 + words);
            if (w) d->writes = R(rn);
        }
        if (l) d->fp_writes = s_range(first, words);
        else d->fp_reads = s_range(first, words);
        return;
    }
    if ((hw1 & 0x0F00) != 0x0E00) return;    /* other coprocessor forms */
    if (hw2 & 0x10) {                        /* core <-> FPU register transfer, VMRS/VMSR */
        unsigned opc = (hw1 >> 5) & 7, l = (hw1 >> 4) & 1, rt = hw2 >> 12;
        set(d, K_FP_MOVE, 1);
        if (coproc == 10 && opc == 0) {
            if (l) d->fp_reads = S(sn), d->writes = R(rt);
            else d->fp_writes = S(sn);
        } else if (l && rt != PC) d->writes = R(rt);
        return;
    }
    if (dbl) return;                         /* no double-precision arithmetic on the M4 */
    unsigned opc1 = (hw1 >> 4) & 0xB, opc2 = hw1 & 15, opc3 = (hw2 >> 6) & 3;
    d->fp_writes = S(sd);
    d->fp_reads = S(sn) | S(sm);
    switch (opc1) {
    case 0x0: case 0x1: case 0x9: case 0xA:  /* VMLA/VMLS, VNMLA/VNMLS, VFNMA/S, VFMA/S */
        set(d, K_FP_MAC, 3);
        d->fp_acc = S(sd);
        return;
    case 0x2: case 0x3:                      /* VMUL/VNMUL, VADD/VSUB */
        set(d, K_FP_RESULT, 1);
        return;
    case 0x8:                                /* VDIV */
        set(d, K_FP_RESULT, 14);
        return;
    case 0xB:
        break;
    default:
        d->fp_writes = d->fp_reads = 0;
        return;
    }
    d->fp_reads = S(sm);
    if (!(opc3 & 1)) {                       /* VMOV immediate */
        set(d, K_FP_MOVE, 1);
        d->fp_reads = 0;
        return;
    }
    switch (opc2) {
    case 0x0:                                /* VMOV register, VABS */
        set(d, K_FP_MOVE, 1);
        return;
    case 0x1:                                /* VNEG, VSQRT */
        set(d, opc3 == 3 ? K_FP_RESULT : K_FP_MOVE, opc3 == 3 ? 14 : 1);
        return;
    case 0x4: case 0x5:                      /* VCMP{E} with a register or zero */
        set(d, K_FP_MOVE, 1);
        d->fp_reads = S(sd) | (opc2 == 4 ? S(sm) : 0);
        d->fp_writes = 0;
        return;
    case 0xA: case 0xB: case 0xE: case 0xF:  /* VCVT fixed point, in place */
        d->fp_reads = S(sd);
        set(d, K_FP_RESULT, 1);
        return;
    default:                                 /* other VCVT */
        set(d, K_FP_RESULT, 1);
        return;
    }
}

/* 32-bit Thumb-2, by op1 = hw1[12:11] and op2 = hw1[10:4] (ARMv7-M ARM A5.3). */
static void decode32(uint16_t hw1, uint16_t hw2, struct insn *d)
{
    unsigned op1 = (hw1 >> 11) & 3, op2 = (hw1 >> 4) & 0x7F, rn = hw1 & 15;
    unsigned rt = hw2 >> 12, rd = (hw2 >> 8) & 15;
    set(d, K_ALU, 1);
    if (op1 == 1) {
        if ((op2 & 0x64) == 0x00) {          /* LDM/STM (.W), PUSH/POP (.W) */
            set(d, K_MEM_BLOCK, 1 + popcount16(hw2));
            d->addr = R(rn);
            if (hw1 & 0x20) d->writes = R(rn);
            if (hw1 & 0x10) {
                d->loaded = hw2;
                d->writes |= hw2;
                if (hw2 & 0x8000) d->target = T_MEM;
            }
        } else if ((op2 & 0x64) == 0x04) {   /* load/store dual or exclusive, table branch */
            d->addr = R(rn);
            if ((hw1 & 0xFFF0) == 0xE8D0 && (hw2 & 0xFFE0) == 0xF000) {
                set(d, K_BRANCH, 3);         /* TBB/TBH */
                d->target = T_MEM;
                d->addr |= R(hw2 & 15);
            } else if ((hw1 & 0xFFE0) == 0xE840) {            /* LDREX/STREX */
                set(d, K_LOAD, 2);
                d->writes = d->loaded = (hw1 & 0x10) ? R(rt) : R(rd);
            } else if ((hw1 & 0xFFE0) == 0xE8C0 && (((hw2 >> 4) & 0xC) == 0x4)) {
                set(d, K_LOAD, 2);           /* LDREXB/H, STREXB/H */
                d->writes = d->loaded = (hw1 & 0x10) ? R(rt) : R(hw2 & 15);
            } else {                         /* LDRD/STRD */
                set(d, K_MEM_BLOCK, 3);
                if (hw1 & 0x20) d->writes = R(rn);
                if (hw1 & 0x10) { d->loaded = R(rt) | R(rd); d->writes |= d->loaded; }
            }
        } else if ((op2 & 0x60) == 0x20) {   /* data processing, shifted register */
            if (rd != PC) d->writes = R(rd);
        } else {
            decode_vfp(hw1, hw2, d);
        }
        return;
    }
    if (op1 == 2) {
        if (!(hw2 & 0x8000)) {               /* data processing, immediate */
            if (rd != PC) d->writes = R(rd);
            return;
        }
        unsigned b = (hw2 >> 12) & 5;        /* branches and miscellaneous control */
        if (b == 0 && ((hw1 >> 7) & 7) != 7) { set(d, K_BRANCH, 1); d->target = T_IMM; }
        else if (b == 1) { set(d, K_BRANCH, 1); d->target = T_IMM; }
        else if (b == 5) { set(d, K_BRANCH, 1); d->target = T_IMM; d->writes = R(LR); }
        else if (hw1 == 0xF3BF && ((hw2 >> 4) & 15) == 6) set(d, K_OTHER, 3);  /* ISB */
        else if ((hw1 & 0xFFE0) == 0xF3E0) set(d, K_OTHER, 1), d->writes = R(rd); /* MRS */
        else set(d, K_OTHER, 1);
        return;
    }
    /* op1 == 3 */
    if ((op2 & 0x71) == 0x00) {              /* store single */
        bool regoff = !(hw1 & 0x80) && ((hw2 >> 6) & 0x3F) == 0;
        set(d, regoff ? K_STORE_REG : K_STORE_IMM, regoff ? 2 : 1);
        d->addr = R(rn) | (regoff ? R(hw2 & 15) : 0);
        if (!(hw1 & 0x80) && (hw2 & 0x0800) && (hw2 & 0x0100)) d->writes = R(rn);
    } else if ((op2 & 0x61) == 0x01 && ((op2 >> 1) & 3) != 3) {  /* load byte/half/word */
        bool regoff = rn != PC && !(hw1 & 0x80) && ((hw2 >> 6) & 0x3F) == 0;
        d->addr = R(rn) | (regoff ? R(hw2 & 15) : 0);
        if (rt == PC && ((op2 >> 1) & 3) != 2) { set(d, K_OTHER, 1); d->addr = 0; return; } /* PLD */
        set(d, K_LOAD, 2);
        d->writes = d->loaded = R(rt);
        if (rn != PC && !(hw1 & 0x80) && (hw2 & 0x0800) && (hw2 & 0x0100)) d->writes |= R(rn);
        if (rt == PC) { d->target = T_MEM; d->kind = K_BRANCH; }
    } else if ((op2 & 0x70) == 0x20 || (op2 & 0x78) == 0x30) {  /* DP register, DSP, MUL/MAC */
        if (rd != PC) d->writes = R(rd);
    } else if ((op2 & 0x78) == 0x38) {       /* long multiply, long MAC, divide */
        unsigned o1 = (hw1 >> 4) & 7, o2 = (hw2 >> 4) & 15;
        if ((o1 == 1 || o1 == 3) && o2 == 15) { set(d, K_DIV, 12); d->writes = R(rd); }
        else d->writes = R(rt) | R(rd);
    } else if (op2 & 0x40) {
        decode_vfp(hw1, hw2, d);
    } else {
        set(d, K_OTHER, 1);
    }
}

static void decode(const uint8_t *bytes, size_t size, struct insn *d)
{
    uint16_t hw1 = (uint16_t)(bytes[0] | bytes[1] << 8);
    memset(d, 0, sizeof(*d));
    if (size >= 4 && is_32bit(hw1)) decode32(hw1, (uint16_t)(bytes[2] | bytes[3] << 8), d);
    else decode16(hw1, d);
}

static bool is_memory(const struct insn *d)
{
    return d->addr != 0 && d->kind != K_OTHER;
}

/* The cost of `cur` executed right after `prev` (NULL: unknown, block start). */
static unsigned cost_after(const struct insn *prev, const struct insn *cur)
{
    unsigned c = cur->cycles;
    if (!prev) return c;
    bool single = cur->kind == K_LOAD || cur->kind == K_STORE_IMM || cur->kind == K_STORE_REG;
    if ((prev->kind == K_ALU || prev->kind == K_DIV) && is_memory(cur) &&
        (prev->writes & cur->addr))
        c += 1;                                                         /* rule b */
    else if (prev->kind == K_LOAD && single && !(prev->loaded & cur->addr) && c > 1)
        c -= 1;                                                         /* rule a */
    if ((prev->kind == K_FP_RESULT || prev->kind == K_FP_MAC) &&
        ((prev->fp_writes & cur->fp_reads) ||
         ((prev->fp_writes & cur->fp_acc) && !(prev->kind == K_FP_MAC && cur->kind == K_FP_MAC))))
        c += 1;                                                         /* rule c */
    return c;
}

/* ---- counting ----------------------------------------------------------------------------- */

static uint64_t instructions, cycles;
static uint64_t marker = UINT64_MAX;
static uint64_t pending;     /* the last branch executed: fall-through << 2 | target kind */

static unsigned refill(unsigned target, bool misaligned_wide)
{
    unsigned p = target == T_IMM ? 1 : target == T_REG ? 2 : 3;
    p += misaligned_wide;
    return p > 3 ? 3 : p;
}

static void on_branch(unsigned int vcpu, void *udata)
{
    pending = (uint64_t)(uintptr_t)udata;
}

/* Block start: if a branch ran just before and this block is not its fall-through, it was
 * taken; charge the refill. udata: block address << 1 | (first instruction 32-bit, unaligned). */
static void on_block(unsigned int vcpu, void *udata)
{
    uint64_t info = (uint64_t)(uintptr_t)udata;
    if (pending) {
        if ((info >> 1) != (pending >> 2)) cycles += refill(pending & 3, info & 1);
        pending = 0;
    }
}

static void on_marker(unsigned int vcpu, void *udata)
{
    fprintf(stderr, "TINYEIT_CYCLES %" PRIu64 " %" PRIu64 "\n", instructions, cycles);
    fflush(stderr);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    struct insn prev, cur;
    bool have_prev = false;
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        size_t size = qemu_plugin_insn_size(insn);
        uint64_t vaddr = qemu_plugin_insn_vaddr(insn);
        decode((const uint8_t *)qemu_plugin_insn_data(insn), size, &cur);
        if (i == 0) {
            uint64_t info = vaddr << 1 | (size == 4 && (vaddr & 2));
            qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block, QEMU_PLUGIN_CB_NO_REGS,
                                                 (void *)(uintptr_t)info);
        }
        if (vaddr == marker)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker, QEMU_PLUGIN_CB_NO_REGS, NULL);
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
                                                   &instructions, 1);
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &cycles,
                                                   cost_after(have_prev ? &prev : NULL, &cur));
        if (cur.target != T_NONE && i == n - 1) {   /* a PC write always ends QEMU's block */
            uint64_t info = (vaddr + size) << 2 | cur.target;
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_branch, QEMU_PLUGIN_CB_NO_REGS,
                                                   (void *)(uintptr_t)info);
        }
        prev = cur;
        have_prev = true;
    }
}

static void at_exit(qemu_plugin_id_t id, void *udata)
{
    fprintf(stderr, "TINYEIT_CYCLES_TOTAL %" PRIu64 " %" PRIu64 "\n", instructions, cycles);
    fflush(stderr);
}

PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const struct qemu_info_t *info,
                                      int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "marker=", 7) == 0) {
            char *end;
            marker = strtoull(argv[i] + 7, &end, 0) & ~(uint64_t)1;
            if (*end) {
                fprintf(stderr, "m4_cycles: bad marker address '%s'\n", argv[i] + 7);
                return -1;
            }
        } else {
            fprintf(stderr, "m4_cycles: unknown argument '%s' (expected marker=<address>)\n",
                    argv[i]);
            return -1;
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, at_exit, NULL);
    return 0;
}
