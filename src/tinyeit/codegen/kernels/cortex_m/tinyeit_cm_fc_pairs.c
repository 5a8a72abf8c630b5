/* Cortex-M DSP int8 fully connected on the unit-pair layout: tinyeit_fc_s8_pairs
 * (tinyeit_kernels.h, src/tinyeit/codegen/layout_unit_pairs.py).
 *
 * The input row is widened once per call into scratch (SXTB16 and SXTB16 ROR #8 of each input
 * word: the pairs (x0, x2) and (x1, x3)). Then per block of up to three pairs (six units), per
 * half step (two inputs), one input pair word and one weight word per pair: SMLAD of the raw
 * weight word into R (its lanes read as a + 256 * b), SXTB16 of it and SMLAD into U (lanes a).
 * Per 4 MACs one load, one SXTB16 and two SMLAD; the six accumulators, the input pair, three
 * weight words and the pointers fill the core registers, so the loop is a function of its own
 * in assembly (the loads of a half step back to back, pipelined; 4 steps per iteration). With R
 * and U started at the first unit's bias, its accumulator is U and the second's bias +
 * ((R - U) >> 8), exact in 32-bit wrap-around arithmetic because the generator lays a pair out
 * only when every lane is an int16 and |sum b * x| < 2^23 for every input
 * (layout_unit_pairs.pairs_fit). */
#include "tinyeit_common.h"

#if defined(TINYEIT_CORTEX_M_DSP)
#include "tinyeit_cm_dot.h"

/* acc[2p] (R) and acc[2p + 1] (U) of the block's pairs += the block over `iters` x 16 inputs. */
void tinyeit_cm_pairs3(const int16_t *xw, const uint8_t *w, int32_t iters, int32_t *acc);
void tinyeit_cm_pairs2(const int16_t *xw, const uint8_t *w, int32_t iters, int32_t *acc);
void tinyeit_cm_pairs1(const int16_t *xw, const uint8_t *w, int32_t iters, int32_t *acc);

/* The widening of an input row, for tinyeit_cm_pairs_widen and tinyeit_cm_pairs4u (assembler
 * macros, kept for the rest of the file): r1 whole input words from r3 (LDR, not LDM: x need
 * not be word aligned) to r2, per word SXTB16 and SXTB16 ROR #8, the int16 lanes (x0, x2) then
 * (x1, x3); an odd word, an odd pair, an odd four, then eight per pass, each four's loads back
 * to back: 5.9 cycles per word. Uses r4-r11 and the flags; r1-r3 end past the row. */
__asm__(
    "    .syntax unified\n"
    "    .macro TINYEIT_WIDEN_FOUR\n"
    "    ldr    r4, [r3], #4\n"
    "    ldr    r6, [r3], #4\n"
    "    ldr    r8, [r3], #4\n"
    "    ldr    r10, [r3], #4\n"
    "    sxtb16 r5, r4, ror #8\n"
    "    sxtb16 r4, r4\n"
    "    sxtb16 r7, r6, ror #8\n"
    "    sxtb16 r6, r6\n"
    "    sxtb16 r9, r8, ror #8\n"
    "    sxtb16 r8, r8\n"
    "    sxtb16 r11, r10, ror #8\n"
    "    sxtb16 r10, r10\n"
    "    stm    r2!, {r4-r11}\n"
    "    .endm\n"
    "    .macro TINYEIT_WIDEN_ROW\n"
    "    lsrs   r1, r1, #1\n"
    "    bcc    .Ltinyeit_w1\\@\n"
    "    ldr    r4, [r3], #4\n"
    "    sxtb16 r5, r4\n"
    "    sxtb16 r6, r4, ror #8\n"
    "    stm    r2!, {r5, r6}\n"
    ".Ltinyeit_w1\\@:\n"
    "    lsrs   r1, r1, #1\n"
    "    bcc    .Ltinyeit_w2\\@\n"
    "    ldr    r4, [r3], #4\n"
    "    ldr    r7, [r3], #4\n"
    "    sxtb16 r5, r4\n"
    "    sxtb16 r6, r4, ror #8\n"
    "    sxtb16 r8, r7\n"
    "    sxtb16 r9, r7, ror #8\n"
    "    stm    r2!, {r5, r6, r8, r9}\n"
    ".Ltinyeit_w2\\@:\n"
    "    lsrs   r1, r1, #1\n"
    "    bcc    .Ltinyeit_w4\\@\n"
    "    TINYEIT_WIDEN_FOUR\n"
    ".Ltinyeit_w4\\@:\n"
    /* the flags are still those of the last LSRS: no eight words left */
    "    beq    .Ltinyeit_w9\\@\n"
    ".Ltinyeit_w8\\@:\n"
    "    TINYEIT_WIDEN_FOUR\n"
    "    TINYEIT_WIDEN_FOUR\n"
    "    subs   r1, r1, #1\n"
    "    bne    .Ltinyeit_w8\\@\n"
    ".Ltinyeit_w9\\@:\n"
    "    .endm\n"
    "    .text\n");

/* r0 input pairs, r1 weight words, r2 iterations, r3 the accumulators (kept on the stack);
 * accumulators r4-r9 (R0 U0 R1 U1 R2 U2), input pair r3, weight words r10-r12. */
__asm__(
    "    .syntax unified\n"
    "    .macro TINYEIT_PAIRS_HALF np\n"
    "    ldr    r3, [r0], #4\n"
    "    ldr    r10, [r1], #4\n"
    "    .if \\np > 1\n"
    "    ldr    r11, [r1], #4\n"
    "    .endif\n"
    "    .if \\np > 2\n"
    "    ldr    r12, [r1], #4\n"
    "    .endif\n"
    "    smlad  r4, r10, r3, r4\n"
    "    sxtb16 r10, r10\n"
    "    smlad  r5, r10, r3, r5\n"
    "    .if \\np > 1\n"
    "    smlad  r6, r11, r3, r6\n"
    "    sxtb16 r11, r11\n"
    "    smlad  r7, r11, r3, r7\n"
    "    .endif\n"
    "    .if \\np > 2\n"
    "    smlad  r8, r12, r3, r8\n"
    "    sxtb16 r12, r12\n"
    "    smlad  r9, r12, r3, r9\n"
    "    .endif\n"
    "    .endm\n"
    /* r2 iterations of 16 inputs (8 half steps) */
    "    .macro TINYEIT_PAIRS_LOOP np\n"
    "    .balign 4\n"
    "1:\n"
    "    .rept 8\n"
    "    TINYEIT_PAIRS_HALF \\np\n"
    "    .endr\n"
    "    subs   r2, r2, #1\n"
    "    bne    1b\n"
    "    .endm\n"
    "    .macro TINYEIT_PAIRS_FN name, np, regs\n"
    CM_ASM_FUNC("\\name")
    "    push   {r3-r11, lr}\n"
    "    ldm    r3, {\\regs}\n"
    "    TINYEIT_PAIRS_LOOP \\np\n"
    "    pop    {r3}\n"
    "    stm    r3, {\\regs}\n"
    "    pop    {r4-r11, pc}\n"
    "    .size \\name, . - \\name\n"
    "    .endm\n"
    "    TINYEIT_PAIRS_FN tinyeit_cm_pairs3, 3, \"r4-r9\"\n"
    "    TINYEIT_PAIRS_FN tinyeit_cm_pairs2, 2, \"r4-r7\"\n"
    "    TINYEIT_PAIRS_FN tinyeit_cm_pairs1, 1, \"r4-r5\"\n"
    /* The fused forms, below: the pair's R in ra, U in ru, its B bias in rb */
    "    .macro TINYEIT_PAIRSO_B ra, ru, rb\n"
    "    sub    \\ra, \\ra, \\ru\n"
    "    add    \\ra, \\rb, \\ra, asr #8\n"
    "    .endm\n"
    /* the pair's two outputs (A from ru, B from ra; r2 mult, r3 t, r1 out, lr 2 zo + 1) */
    "    .macro TINYEIT_PAIRSO_OUT ra, ru\n"
    "    ldr    r10, [r2], #4\n"
    "    ldrb   r11, [r3], #1\n"
    "    ldr    r12, [r2], #4\n"
    "    ldrb   r0, [r3], #1\n"
    "    smmul  \\ru, \\ru, r10\n"
    "    smmul  \\ra, \\ra, r12\n"
    "    asr    \\ru, \\ru, r11\n"
    "    add    \\ru, \\ru, lr\n"
    "    ssat   \\ru, #8, \\ru, asr #1\n"
    "    asr    \\ra, \\ra, r0\n"
    "    add    \\ra, \\ra, lr\n"
    "    ssat   \\ra, #8, \\ra, asr #1\n"
    "    strb   \\ru, [r1], #1\n"
    "    strb   \\ra, [r1], #1\n"
    "    .endm\n"
    "    .macro TINYEIT_PAIRSO_FN name, np\n"
    CM_ASM_FUNC("\\name")
    "    push   {r0, r4-r11, lr}\n"
    "    mov    lr, r0\n"
    "    ldm    lr, {r0-r3}\n"
    "    ldr    r4, [r3]\n"
    "    .if \\np > 1\n"
    "    ldr    r6, [r3, #8]\n"
    "    .endif\n"
    "    .if \\np > 2\n"
    "    ldr    r8, [r3, #16]\n"
    "    .endif\n"
    "    mov    r5, r4\n"
    "    .if \\np > 1\n"
    "    mov    r7, r6\n"
    "    .endif\n"
    "    .if \\np > 2\n"
    "    mov    r9, r8\n"
    "    .endif\n"
    "    TINYEIT_PAIRS_LOOP \\np\n"
    "    str    r1, [lr, #4]\n"
    "    ldr    r0, [lr, #12]\n"
    "    ldr    r1, [lr, #16]\n"
    "    ldr    r2, [lr, #20]\n"
    "    ldr    r3, [lr, #24]\n"
    "    ldr    lr, [lr, #28]\n"
    "    ldr    r10, [r0, #4]\n"
    "    .if \\np > 1\n"
    "    ldr    r11, [r0, #12]\n"
    "    .endif\n"
    "    .if \\np > 2\n"
    "    ldr    r12, [r0, #20]\n"
    "    .endif\n"
    "    TINYEIT_PAIRSO_B r4, r5, r10\n"
    "    .if \\np > 1\n"
    "    TINYEIT_PAIRSO_B r6, r7, r11\n"
    "    .endif\n"
    "    .if \\np > 2\n"
    "    TINYEIT_PAIRSO_B r8, r9, r12\n"
    "    .endif\n"
    "    TINYEIT_PAIRSO_OUT r4, r5\n"
    "    .if \\np > 1\n"
    "    TINYEIT_PAIRSO_OUT r6, r7\n"
    "    .endif\n"
    "    .if \\np > 2\n"
    "    TINYEIT_PAIRSO_OUT r8, r9\n"
    "    .endif\n"
    /* args past the block: w (above), bias, out, mult, t */
    "    ldr    r12, [sp]\n"
    "    ldr    r0, [r12, #12]\n"
    "    add    r0, r0, #(8 * \\np)\n"
    "    add    r12, r12, #12\n"
    "    stm    r12, {r0-r3}\n"
    "    add    sp, sp, #4\n"
    "    pop    {r4-r11, pc}\n"
    "    .size \\name, . - \\name\n"
    "    .endm\n"
    "    TINYEIT_PAIRSO_FN tinyeit_cm_pairs3o, 3\n"
    "    TINYEIT_PAIRSO_FN tinyeit_cm_pairs2o, 2\n"
    "    TINYEIT_PAIRSO_FN tinyeit_cm_pairs1o, 1\n"
    "    .text\n");

/* The same loops with the outputs made at the end from registers, where the generator proved
 * the short epilogue (rq_fast; tinyeit_cm_pairs_out's arithmetic, per pair: A = U, B = bias_B +
 * ((R - U) >> 8), each through SMMUL, ASR by t = -2 - shift, + 2 zo + 1, SSAT with ASR #1),
 * the start values (bias_A) set here: no sums go through memory, and the block is one call,
 * which leaves w, bias, out, mult and t in args at the next block's. Every unit of the block
 * must exist (units 2 q .. 2 (q + np) - 1).
 * args: xw, w, iters, bias, out, mult, t (rq_fast; each at the block's first unit),
 * 2 zo + 1. */
void tinyeit_cm_pairs3o(const int32_t *args);
void tinyeit_cm_pairs2o(const int32_t *args);
void tinyeit_cm_pairs1o(const int32_t *args);

/* Blocks of four pairs (eight units) over rows of at most TINYEIT_PAIRS_WIDE_MAX padded inputs,
 * the layer's whole run of them in one call: tinyeit_cm_pairs4u. Four pairs need 8
 * accumulators, the input pair and 4 weight words in registers, with the weight pointer 14 in
 * all: no register is left for an input pointer or a loop counter. So the function widens the
 * input row onto its own stack frame (TINYEIT_WIDEN_ROW, as tinyeit_cm_pairs_widen) and reads
 * it SP-relative from a body unrolled over the longest row (256 half steps, 68 bytes each:
 * 17 KB of code), entered at the half step that leaves exactly the row's 2 * ceil(n / 4) to run
 * (the row sits at the top of the frame's row area, so its last pair is the body's last); the
 * weights of the padding past that are skipped. SP does not move while the body runs, so
 * interrupts cannot touch the row. Per half step: one input load and four weight loads back to
 * back (2 + 4 cycles, pipelined) and 4 x (SMLAD, SXTB16, SMLAD): 18 cycles per 16 MACs, where
 * three pairs take 14 per 12 plus the loop.
 * args: w (the first four-pair block), blocks, n (inputs), acc (8 per block out: R0 U0 .. R3
 * U3), x (int8, n4 = n / 4 whole words read), the last n % 4 inputs as one word with zero
 * bytes above them (0 if none), bias of the first block's first unit, bytes of weights to skip
 * per block (the padding's); then out, mult, t (rq_fast; at the first block's first unit) and
 * 2 zo + 1: with out not NULL (rq_fast layers, every unit of the blocks present) each block
 * makes its 8 int8 outputs at its end, from registers, and acc is not written; with out NULL
 * (the hybrid kernel, a block holding an odd last unit) acc gets the raw sums. */
void tinyeit_cm_pairs4u(const int32_t *args);
#define TINYEIT_PAIRS4_STR2(x) #x
#define TINYEIT_PAIRS4_STR(x) TINYEIT_PAIRS4_STR2(x)
__asm__(
    "    .syntax unified\n"
    "    .set TINYEIT_P4_H, " TINYEIT_PAIRS4_STR(TINYEIT_PAIRS_WIDE_MAX) " / 2\n"
    "    .set TINYEIT_P4_X, 4 * TINYEIT_P4_H\n"
    CM_ASM_FUNC("tinyeit_cm_pairs4u")
    "    push   {r4-r11, lr}\n"
    "    sub    sp, sp, #(TINYEIT_P4_X + 48)\n"
    "    add    r8, r0, #32\n"
    "    ldm    r8, {r8-r11}\n"
    "    add    r12, sp, #(TINYEIT_P4_X + 24)\n"
    "    stm    r12, {r8-r11}\n"
    "    ldm    r0, {r0-r7}\n"
    /* slots: X blocks left, X+4 acc, X+8 entry, X+12 bias, X+16 free, X+20 skip,
     * X+24 out (0: the raw sums to acc), X+28 mult, X+32 t, X+36 2 zo + 1, X+40 the
     * weight pointer while the outputs are made */
    "    str    r1, [sp, #TINYEIT_P4_X]\n"
    "    str    r3, [sp, #(TINYEIT_P4_X + 4)]\n"
    "    str    r6, [sp, #(TINYEIT_P4_X + 12)]\n"
    "    str    r7, [sp, #(TINYEIT_P4_X + 20)]\n"
    /* half steps hu = 2 ceil(n / 4); the row at [sp + X - 4 hu, sp + X) */
    "    add    r8, r2, #3\n"
    "    lsr    r8, r8, #2\n"
    "    lsl    r9, r8, #1\n"
    "    add    r10, sp, #TINYEIT_P4_X\n"
    "    sub    r10, r10, r9, lsl #2\n"
    /* entry: the body's half step H - hu (68 bytes each), Thumb bit set */
    "    adr.w  r11, .Ltinyeit_p4_body\n"
    "    rsb    r9, r9, #TINYEIT_P4_H\n"
    "    movs   r12, #68\n"
    "    mla    r11, r9, r12, r11\n"
    "    orr    r11, r11, #1\n"
    "    str    r11, [sp, #(TINYEIT_P4_X + 8)]\n"
    /* widen: the tail word if n % 4 (its pair last in the row), then the n / 4 whole words
     * (TINYEIT_WIDEN_ROW: r1 words from r3 to r2); the weight pointer parked in the X+40 slot
     * meanwhile, for the registers */
    "    str    r0, [sp, #(TINYEIT_P4_X + 40)]\n"
    "    lsrs   r1, r2, #2\n"
    "    cmp    r8, r1\n"
    "    beq    3f\n"
    "    sxtb16 r11, r5\n"
    "    sxtb16 r12, r5, ror #8\n"
    "    str    r11, [sp, #(TINYEIT_P4_X - 8)]\n"
    "    str    r12, [sp, #(TINYEIT_P4_X - 4)]\n"
    "3:\n"
    "    mov    r3, r4\n"
    "    mov    r2, r10\n"
    "    TINYEIT_WIDEN_ROW\n"
    "    ldr    r1, [sp, #(TINYEIT_P4_X + 40)]\n"
    "    ldr    r0, [sp, #(TINYEIT_P4_X + 12)]\n"
    "    ldr    r12, [sp, #(TINYEIT_P4_X + 8)]\n"
    "    ldr    r4, [r0]\n"
    "    ldr    r6, [r0, #8]\n"
    "    ldr    r8, [r0, #16]\n"
    "    ldr    r10, [r0, #24]\n"
    /* per block (r0 its start values, r12 the entry): R = U = bias_A for its 4 pairs, then
     * the body; the X+12 slot points at the block's */
    "    .macro TINYEIT_P4_START\n"
    "    mov    r5, r4\n"
    "    mov    r7, r6\n"
    "    mov    r9, r8\n"
    "    mov    r11, r10\n"
    "    bx     r12\n"
    "    .endm\n"
    "    TINYEIT_P4_START\n"
    "    .balign 4\n"
    ".Ltinyeit_p4_body:\n"
    "    .set   tinyeit_p4_off, 0\n"
    "    .rept  TINYEIT_P4_H\n"
    "    ldr.w  r0, [sp, #tinyeit_p4_off]\n"
    "    ldr    r2, [r1], #4\n"
    "    ldr    r3, [r1], #4\n"
    "    ldr    r12, [r1], #4\n"
    "    ldr    lr, [r1], #4\n"
    "    smlad  r4, r2, r0, r4\n"
    "    sxtb16 r2, r2\n"
    "    smlad  r5, r2, r0, r5\n"
    "    smlad  r6, r3, r0, r6\n"
    "    sxtb16 r3, r3\n"
    "    smlad  r7, r3, r0, r7\n"
    "    smlad  r8, r12, r0, r8\n"
    "    sxtb16 r12, r12\n"
    "    smlad  r9, r12, r0, r9\n"
    "    smlad  r10, lr, r0, r10\n"
    "    sxtb16 lr, lr\n"
    "    smlad  r11, lr, r0, r11\n"
    "    .set   tinyeit_p4_off, tinyeit_p4_off + 4\n"
    "    .endr\n"
    "    .if    (. - .Ltinyeit_p4_body) != 68 * TINYEIT_P4_H\n"
    "    .error \"tinyeit_cm_pairs4u: a half step is not 68 bytes\"\n"
    "    .endif\n"
    /* the loads back to back (pipelined); then with an out pointer the block's outputs, else
     * its raw sums to acc */
    "    ldr    r2, [sp, #(TINYEIT_P4_X + 24)]\n"
    "    ldr    r0, [sp, #(TINYEIT_P4_X + 20)]\n"
    "    ldr    r3, [sp, #(TINYEIT_P4_X + 12)]\n"
    "    add    r1, r1, r0\n"
    "    cbnz   r2, .Ltinyeit_p4_out\n"
    "    ldr    r2, [sp, #(TINYEIT_P4_X + 4)]\n"
    "    stm    r2!, {r4-r11}\n"
    "    str    r2, [sp, #(TINYEIT_P4_X + 4)]\n"
    "    str    r1, [sp, #(TINYEIT_P4_X + 40)]\n"
    "    b      .Ltinyeit_p4_next\n"
    /* the block's 8 outputs in place of its sums (tinyeit_cm_pairs_out's arithmetic): B =
     * bias_B + ((R - U) >> 8) per pair, then per unit floor(acc * m / 2^32) by SMMUL, ASR by
     * t = -2 - shift (the generator's byte table, rq_fast), + 2 zo + 1 and SSAT with its ASR
     * #1: floor((K + hi) / 2^t) = 2 zo + 1 + floor(hi / 2^t) for K = (2 zo + 1) << t. r2 out,
     * r3 mult, r0 t, r1 2 zo + 1 (the weight pointer in the X+40 slot meanwhile). */
    ".Ltinyeit_p4_out:\n"
    "    ldr    r12, [r3, #4]\n"
    "    ldr    lr, [r3, #12]\n"
    "    str    r1, [sp, #(TINYEIT_P4_X + 40)]\n"
    "    sub    r4, r4, r5\n"
    "    add    r4, r12, r4, asr #8\n"
    "    sub    r6, r6, r7\n"
    "    add    r6, lr, r6, asr #8\n"
    "    ldr    r12, [r3, #20]\n"
    "    ldr    lr, [r3, #28]\n"
    "    ldr    r0, [sp, #(TINYEIT_P4_X + 32)]\n"
    "    ldr    r3, [sp, #(TINYEIT_P4_X + 28)]\n"
    "    ldr    r1, [sp, #(TINYEIT_P4_X + 36)]\n"
    "    sub    r8, r8, r9\n"
    "    add    r8, r12, r8, asr #8\n"
    "    sub    r10, r10, r11\n"
    "    add    r10, lr, r10, asr #8\n"
    /* units 0 and 1 one at a time (r12, lr free), then two at a time in r12, lr and the freed
     * r4, r5, their four loads back to back (pipelined) */
    "    ldr    r12, [r3], #32\n"
    "    ldrb   lr, [r0], #8\n"
    "    smmul  r5, r5, r12\n"
    "    asr    r5, r5, lr\n"
    "    add    r5, r5, r1\n"
    "    ssat   r5, #8, r5, asr #1\n"
    "    strb   r5, [r2], #8\n"
    "    ldr    r12, [r3, #-28]\n"
    "    ldrb   lr, [r0, #-7]\n"
    "    smmul  r4, r4, r12\n"
    "    asr    r4, r4, lr\n"
    "    add    r4, r4, r1\n"
    "    ssat   r4, #8, r4, asr #1\n"
    "    strb   r4, [r2, #-7]\n"
    "    ldr    r12, [r3, #-24]\n"
    "    ldrb   lr, [r0, #-6]\n"
    "    ldr    r4, [r3, #-20]\n"
    "    ldrb   r5, [r0, #-5]\n"
    "    smmul  r7, r7, r12\n"
    "    smmul  r6, r6, r4\n"
    "    asr    r7, r7, lr\n"
    "    add    r7, r7, r1\n"
    "    ssat   r7, #8, r7, asr #1\n"
    "    asr    r6, r6, r5\n"
    "    add    r6, r6, r1\n"
    "    ssat   r6, #8, r6, asr #1\n"
    "    strb   r7, [r2, #-6]\n"
    "    strb   r6, [r2, #-5]\n"
    "    ldr    r12, [r3, #-16]\n"
    "    ldrb   lr, [r0, #-4]\n"
    "    ldr    r4, [r3, #-12]\n"
    "    ldrb   r5, [r0, #-3]\n"
    "    smmul  r9, r9, r12\n"
    "    smmul  r8, r8, r4\n"
    "    asr    r9, r9, lr\n"
    "    add    r9, r9, r1\n"
    "    ssat   r9, #8, r9, asr #1\n"
    "    asr    r8, r8, r5\n"
    "    add    r8, r8, r1\n"
    "    ssat   r8, #8, r8, asr #1\n"
    "    strb   r9, [r2, #-4]\n"
    "    strb   r8, [r2, #-3]\n"
    "    ldr    r12, [r3, #-8]\n"
    "    ldrb   lr, [r0, #-2]\n"
    "    ldr    r4, [r3, #-4]\n"
    "    ldrb   r5, [r0, #-1]\n"
    "    smmul  r11, r11, r12\n"
    "    smmul  r10, r10, r4\n"
    "    asr    r11, r11, lr\n"
    "    add    r11, r11, r1\n"
    "    ssat   r11, #8, r11, asr #1\n"
    "    asr    r10, r10, r5\n"
    "    add    r10, r10, r1\n"
    "    ssat   r10, #8, r10, asr #1\n"
    "    strb   r11, [r2, #-2]\n"
    "    strb   r10, [r2, #-1]\n"
    "    str    r2, [sp, #(TINYEIT_P4_X + 24)]\n"
    "    str    r3, [sp, #(TINYEIT_P4_X + 28)]\n"
    "    str    r0, [sp, #(TINYEIT_P4_X + 32)]\n"
    /* the next block, if any: its start values at the slot's + 32 */
    ".Ltinyeit_p4_next:\n"
    "    ldr    r1, [sp, #(TINYEIT_P4_X + 40)]\n"
    "    ldr    r3, [sp, #TINYEIT_P4_X]\n"
    "    ldr    r0, [sp, #(TINYEIT_P4_X + 12)]\n"
    "    ldr    r12, [sp, #(TINYEIT_P4_X + 8)]\n"
    "    subs   r3, r3, #1\n"
    "    beq    9f\n"
    "    ldr    r4, [r0, #32]\n"
    "    ldr    r6, [r0, #40]\n"
    "    ldr    r8, [r0, #48]\n"
    "    ldr    r10, [r0, #56]\n"
    "    str    r3, [sp, #TINYEIT_P4_X]\n"
    "    add    r0, r0, #32\n"
    "    str    r0, [sp, #(TINYEIT_P4_X + 12)]\n"
    "    TINYEIT_P4_START\n"
    "9:\n"
    "    add    sp, sp, #(TINYEIT_P4_X + 48)\n"
    "    pop    {r4-r11, pc}\n"
    "    .purgem TINYEIT_P4_START\n"
    "    .size tinyeit_cm_pairs4u, . - tinyeit_cm_pairs4u\n"
    "    .text\n");

/* Four-pair blocks handed to tinyeit_cm_pairs4u at a time (their accumulators on the stack). */
#define TINYEIT_PAIRS4_CHUNK 16

/* tinyeit_cm_pairs_widen (tinyeit_cm_dot.h): TINYEIT_WIDEN_ROW as a function, for the int8
 * and the hybrid unit-pair rows (the C loop took 13 cycles per word). */
__asm__(
    "    .syntax unified\n"
    CM_ASM_FUNC("tinyeit_cm_pairs_widen")
    "    push   {r4-r11, lr}\n"
    "    mov    r3, r0\n"
    "    TINYEIT_WIDEN_ROW\n"
    "    pop    {r4-r11, pc}\n"
    "    .size tinyeit_cm_pairs_widen, . - tinyeit_cm_pairs_widen\n"
    "    .text\n");

/* The inputs past the whole words, then zeros up to npad (the row's widening below). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void cm_pairs_widen_tail(const int8_t *x, int32_t n, int32_t npad, int16_t *xw)
{
    int32_t k = n & ~3;
    if (k < n) {
        int8_t t[4] = {0, 0, 0, 0};
        int16_t v[4];
        int32_t j;
        for (j = 0; k + j < n; ++j) t[j] = x[k + j];
        v[0] = t[0]; v[1] = t[2]; v[2] = t[1]; v[3] = t[3];
        memcpy(xw + k, v, sizeof v);
        k += 4;
    }
    if (k < npad) memset(xw + k, 0, (size_t)(npad - k) * sizeof *xw);
}

/* The row widened into xw (per 4 inputs: (x0, x2), (x1, x3) as int16 lanes; zeros up to
 * npad): the asm loop called straight from the row, the rare tail apart. */
static inline void cm_pairs_widen(const int8_t *x, int32_t n, int32_t npad, int16_t *xw)
{
    tinyeit_cm_pairs_widen(x, n >> 2, xw);
    if (n < npad) cm_pairs_widen_tail(x, n, npad, xw);
}

/* The outputs of one block, single rounding, every shift <= -2, no folded table, in assembly:
 * per output three loads, SMULL, the rounding bit 1 << (s2 - 1) and ASR by s2 = -shift - 1,
 * the zero point and the clamp; the same arithmetic as cm_pairs_store_single's first branch.
 * args: v, mult, shift, o, count, zero point, act_min, act_max. */
void tinyeit_cm_rq_single(const int32_t *args);
__asm__(
    "    .syntax unified\n"
    CM_ASM_FUNC("tinyeit_cm_rq_single")
    "    push   {r4-r11, lr}\n"
    "    ldm    r0, {r0-r7}\n"
    "    mov    r8, #1\n"
    "    .balign 4\n"
    "1:\n"
    "    ldr    r9, [r0], #4\n"
    "    ldr    r10, [r1], #4\n"
    "    ldr    r11, [r2], #4\n"
    "    smull  r12, lr, r9, r10\n"
    "    mvn    r11, r11\n"
    "    sub    r12, r11, #1\n"
    "    lsl    r12, r8, r12\n"
    "    add    lr, lr, r12\n"
    "    asr    lr, lr, r11\n"
    "    add    lr, lr, r5\n"
    "    cmp    lr, r6\n"
    "    it     lt\n"
    "    movlt  lr, r6\n"
    "    cmp    lr, r7\n"
    "    it     gt\n"
    "    movgt  lr, r7\n"
    "    strb   lr, [r3], #1\n"
    "    subs   r4, r4, #1\n"
    "    bne    1b\n"
    "    pop    {r4-r11, pc}\n"
    "    .size tinyeit_cm_rq_single, . - tinyeit_cm_rq_single\n"
    "    .text\n");

/* The outputs of one block straight from its R and U sums, where the generator proved the
 * short form exact (tinyeit_fc_params.rq_fast): per pair, A = U and B = bias_B + ((R - U) >> 8)
 * (the start values held bias_A in both); per unit, with s = -shift - 1 and
 * t = s - 1 = -2 - shift, K = (2 zo + 1) << t = 2^(s-1) + zo 2^s, K + floor(acc * m / 2^32) in
 * one SMMLA, ASR by t and SSAT to int8 with its own ASR #1 (floor(floor(y / 2^t) / 2) =
 * floor(y / 2^s)): LiteRT's single rounding, floor((floor(P / 2^32) + 2^(s-1)) / 2^s) =
 * floor((P + 2^(31+s)) / 2^(32+s)) by nested floors (requant_single_cheap's argument), plus the
 * zero point, clamped to [-128, 127] (rq_fast requires that activation range); t from the
 * generator's byte table (rq_fast). The seven loads of a pair back to back (pipelined).
 * args: sums (R0 U0 R1 U1 ..), pairs - 1, bias + first B unit, o, mult, t, 2 zo + 1. */
void tinyeit_cm_pairs_out(const int32_t *args);
__asm__(
    "    .syntax unified\n"
    CM_ASM_FUNC("tinyeit_cm_pairs_out")
    "    push   {r4-r11, lr}\n"
    "    ldm    r0, {r0-r6}\n"
    "    .balign 4\n"
    "1:\n"
    "    ldr    r8, [r0], #4\n"
    "    ldr    r9, [r0], #4\n"
    "    ldr    r10, [r2], #8\n"
    "    ldr    r11, [r4], #4\n"
    "    ldrb   r12, [r5], #1\n"
    "    ldr    lr, [r4], #4\n"
    "    ldrb   r7, [r5], #1\n"
    "    sub    r8, r8, r9\n"
    "    add    r10, r10, r8, asr #8\n"
    "    lsl    r8, r6, r12\n"
    "    smmla  r9, r9, r11, r8\n"
    "    asr    r9, r9, r12\n"
    "    ssat   r9, #8, r9, asr #1\n"
    "    strb   r9, [r3], #1\n"
    "    lsl    r8, r6, r7\n"
    "    smmla  r10, r10, lr, r8\n"
    "    asr    r10, r10, r7\n"
    "    ssat   r10, #8, r10, asr #1\n"
    "    strb   r10, [r3], #1\n"
    "    subs   r1, r1, #1\n"
    "    bpl    1b\n"
    "    pop    {r4-r11, pc}\n"
    "    .size tinyeit_cm_pairs_out, . - tinyeit_cm_pairs_out\n"
    "    .text\n");

/* The outputs of one block from its int32 accumulators v: LiteRT's single rounding
 * (acc * m + 2^(t-1)) >> t, t = 31 - shift, as the high word of acc * m (SMULL), its rounding
 * bit and one arithmetic shift where shift <= -2 (floor((P + 2^(t-1)) / 2^t) = floor((floor(P /
 * 2^32) + 2^(t-33)) / 2^(t-32)): exact for every acc, the high word is below 2^30 in
 * magnitude), the reference form otherwise; then zero point, clamp, the folded table. A
 * function of its own, so that its few live values stay in registers. */
#if defined(__GNUC__)
#define TINYEIT_LIKELY(c) __builtin_expect(!!(c), 1)
__attribute__((noinline))
#else
#define TINYEIT_LIKELY(c) (c)
#endif
static int32_t cm_single_rare(int32_t acc, int32_t m, int32_t shift)
{
    return requant_single(acc, m, shift);
}

#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void cm_pairs_store_single(int32_t *v, int32_t count, const int32_t *mult,
                                  const int32_t *shift, int32_t zo, int32_t lo, int32_t hi,
                                  const int8_t *post, int32_t plen, int8_t *o)
{
    int32_t i;
    for (i = 0; i < count; ++i) {
        const int32_t sh = shift[i];
        if (TINYEIT_LIKELY(sh <= -2)) {
            const int32_t s2 = -1 - sh;
            v[i] = ((int32_t)(((int64_t)v[i] * mult[i]) >> 32) + (1 << (s2 - 1))) >> s2;
        } else {
            v[i] = cm_single_rare(v[i], mult[i], sh);
        }
    }
    if (post) {
        for (i = 0; i < count; ++i) {
            const int32_t r = v[i] + zo;
            o[i] = post[i * plen + (r < lo ? lo : (r > hi ? hi : r)) - lo];
        }
    } else {
        for (i = 0; i < count; ++i) {
            const int32_t r = v[i] + zo;
            o[i] = (int8_t)(r < lo ? lo : (r > hi ? hi : r));
        }
    }
}

/* The same with TFLite Micro's double rounding (flavor tflm). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void cm_pairs_store_double(const int32_t *v, int32_t count, const int32_t *mult,
                                  const int32_t *shift, int32_t cheap, int32_t zo, int32_t lo,
                                  int32_t hi, const int8_t *post, int32_t plen, int8_t *o)
{
    int32_t i;
    for (i = 0; i < count; ++i)
        o[i] = epilogue_s8(v[i], mult[i], shift[i], 0, cheap, zo, lo, hi,
                           post ? post + i * plen : NULL);
}

/* The outputs of units u0 .. u0 + count - 1 from their pair sums acc (R0 U0 R1 U1 ..: the first
 * unit of a pair is U, the second bias + ((R - U) >> 8)), by the layer's epilogue; fast: single
 * rounding, no table, every shift <= -2 (tinyeit_cm_rq_single). Inlined in the dense kernel's
 * row loop; tinyeit_cm_pairs_emit below is the same for the block-sparse unit pairs. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void cm_pairs_emit(const int32_t *acc, int32_t u0, int32_t count,
                                 const int32_t *bias, const int32_t *mult, const int32_t *shift,
                                 const int8_t *post, int8_t *o, const tinyeit_fc_params *p,
                                 int32_t fast)
{
    const int32_t plen = p->post_len;
    int32_t j, k;
    if (p->rq_fast) {  /* the run's outputs in one call */
        if (count >= 2) {
            const int32_t args[7] = {(int32_t)(uintptr_t)acc, (count >> 1) - 1,
                                     (int32_t)(uintptr_t)(bias + u0 + 1),
                                     (int32_t)(uintptr_t)(o + u0),
                                     (int32_t)(uintptr_t)(mult + u0),
                                     (int32_t)(uintptr_t)(p->rq_fast + u0),
                                     2 * p->out_offset + 1};
            tinyeit_cm_pairs_out(args);
        }
        if (count & 1) {  /* a last unit without its pair: A = U, the same arithmetic */
            const int32_t u = u0 + count - 1, s2 = p->rq_fast[u] + 1;
            const int32_t kk = (int32_t)((uint32_t)(2 * p->out_offset + 1) << (s2 - 1));
            int32_t t = ((int32_t)(((int64_t)acc[count] * mult[u]) >> 32) + kk) >> s2;
            o[u] = (int8_t)(t < -128 ? -128 : (t > 127 ? 127 : t));
        }
        return;
    }
    for (k = 0; k < count; k += 8, acc += 8) {
        const int32_t u = u0 + k, c = count - k < 8 ? count - k : 8;
        int32_t v[8];
        for (j = 0; j < c; j += 2) {
            v[j] = acc[j + 1];
            if (j + 1 < c)
                v[j + 1] = bias[u + j + 1] +
                           ((int32_t)((uint32_t)acc[j] - (uint32_t)acc[j + 1]) >> 8);
        }
        if (fast) {
            const int32_t args[8] = {(int32_t)(uintptr_t)v, (int32_t)(uintptr_t)(mult + u),
                                     (int32_t)(uintptr_t)(shift + u),
                                     (int32_t)(uintptr_t)(o + u), c, p->out_offset,
                                     p->act_min, p->act_max};
            tinyeit_cm_rq_single(args);
        } else if (p->single_round)
            cm_pairs_store_single(v, c, mult + u, shift + u, p->out_offset, p->act_min,
                                  p->act_max, post ? post + u * plen : NULL, plen, o + u);
        else
            cm_pairs_store_double(v, c, mult + u, shift + u, p->cheap_rq, p->out_offset,
                                  p->act_min, p->act_max, post ? post + u * plen : NULL, plen,
                                  o + u);
    }
}

void tinyeit_cm_pairs_emit(const int32_t *acc, int32_t u0, int32_t count, const int32_t *bias,
                           const int32_t *mult, const int32_t *shift, const int8_t *post,
                           int8_t *o, const tinyeit_fc_params *p, int32_t fast)
{
    cm_pairs_emit(acc, u0, count, bias, mult, shift, post, o, p, fast);
}

/* One row of a short-epilogue layer (rq_fast) that is not wide: the row widened, then per block
 * of three (two, one) pairs one call that runs it and makes its outputs (tinyeit_cm_pairs3o);
 * a last block with a padding unit through the sums. The general row below takes these steps
 * through more cases: kept apart, and not inlined, so that its few values stay in registers
 * (the logits layer's 10 x 64 took 1,715 cycles there, ~600 of them outside the loops). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void cm_pairs_row_fast(const int8_t *x, const uint8_t *w, const int32_t *bias,
                              const int32_t *mult, const int32_t *shift, int8_t *o,
                              const tinyeit_fc_params *p, int16_t *xw)
{
    const int32_t n = p->in_dim, units = p->units, all = (units + 1) >> 1;
    const int32_t npad = (n + TINYEIT_PAIRS_IN_ALIGN - 1) & -TINYEIT_PAIRS_IN_ALIGN;
    const int32_t iters = npad / TINYEIT_PAIRS_IN_ALIGN;
    /* each fused block leaves w, bias, out, mult and t here at the next block's */
    int32_t args[8] = {(int32_t)(uintptr_t)xw, (int32_t)(uintptr_t)w, iters,
                       (int32_t)(uintptr_t)bias, (int32_t)(uintptr_t)o,
                       (int32_t)(uintptr_t)mult, (int32_t)(uintptr_t)p->rq_fast,
                       2 * p->out_offset + 1};
    int32_t q = 0;
    cm_pairs_widen(x, n, npad, xw);
    while (q < all) {
        const int32_t np = pairs_block(q, all, npad);
        if (2 * (q + np) <= units) {
            if (np == 3) tinyeit_cm_pairs3o(args);
            else if (np == 2) tinyeit_cm_pairs2o(args);
            else tinyeit_cm_pairs1o(args);
        } else {
            /* the last block, its last pair's second unit padding: the sums to acc, the
             * outputs by the general row's emit (its rq_fast branch: the whole pairs through
             * tinyeit_cm_pairs_out, the last unit alone) */
            const uint8_t *wb = (const uint8_t *)(uintptr_t)args[1];
            int32_t acc[2 * TINYEIT_PAIRS_BLOCK], j;
            for (j = 0; j < 2 * np; j += 2)
                acc[j] = acc[j + 1] = bias[2 * q + j];
            if (np == 3) tinyeit_cm_pairs3(xw, wb, iters, acc);
            else if (np == 2) tinyeit_cm_pairs2(xw, wb, iters, acc);
            else tinyeit_cm_pairs1(xw, wb, iters, acc);
            tinyeit_cm_pairs_emit(acc, 2 * q, units - 2 * q, bias, mult, shift, NULL, o, p, 0);
        }
        q += np;
    }
}

/* One row. The outputs are emitted per run of blocks whose sums fit acc (TINYEIT_PAIRS4_CHUNK
 * four-pair blocks, or any number of smaller blocks up to as many pairs): one output call per
 * layer where it fits, not one per block. Not inlined: its large frame would be every call's. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void cm_pairs_row(const int8_t *x, const uint8_t *w, const int32_t *bias,
                                const int32_t *mult, const int32_t *shift, const int8_t *post,
                                int8_t *o, const tinyeit_fc_params *p, int16_t *xw)
{
    const int32_t n = p->in_dim, units = p->units, all = (units + 1) >> 1;
    const int32_t npad = (n + TINYEIT_PAIRS_IN_ALIGN - 1) / TINYEIT_PAIRS_IN_ALIGN *
                         TINYEIT_PAIRS_IN_ALIGN;
    const int32_t iters = npad / TINYEIT_PAIRS_IN_ALIGN, wstep = 2 * npad;
    const int32_t wide = pairs_wide(all, npad);
    /* The row widened in scratch only for blocks of fewer than four pairs (the four-pair
     * kernel widens it on its own frame). */
    const int32_t left4 = wide ? all : 0;
    const int32_t all4 = (left4 & 3) == 1 && left4 > 4 ? (left4 >> 2) - 1 : left4 >> 2;
    const int32_t n4 = n & ~3, hu = 2 * ((n + 3) >> 2);
    uint32_t tail = 0;
    int32_t q = 0, q0 = 0, j, fast = p->single_round && !post && !p->rq_fast;
    int32_t acc[8 * TINYEIT_PAIRS4_CHUNK];
    for (j = 0; fast && j < units; ++j) fast = shift[j] <= -2;
    for (j = n4; j < n; ++j) tail |= (uint32_t)(uint8_t)x[j] << (8 * (j - n4));
    if (4 * all4 < all) cm_pairs_widen(x, n, npad, xw);
    while (q < all) {
        const int32_t np = wide ? (all - q == 5 ? 3 : (all - q < 4 ? all - q : 4))
                                : pairs_block(q, all, npad);
        int32_t done, fused, *a;
        if (np == 4) {  /* the run of four-pair blocks, TINYEIT_PAIRS4_CHUNK at a time */
            const int32_t left = all - q, full = left >> 2;
            int32_t nb = (left & 3) == 1 && full > 0 ? full - 1 : full;
            if (nb > TINYEIT_PAIRS4_CHUNK) nb = TINYEIT_PAIRS4_CHUNK;
            done = 4 * nb;
        } else
            done = np;
        /* four-pair blocks whose units all exist make their outputs themselves (rq_fast) */
        fused = np == 4 && p->rq_fast && 2 * (q + done) <= units;
        if (q > q0 && (fused || q - q0 + done > 4 * TINYEIT_PAIRS4_CHUNK)) {
            /* the sums so far first: acc is full, or the run ends */
            tinyeit_cm_pairs_emit(acc, 2 * q0, 2 * (q - q0), bias, mult, shift, post, o, p,
                                  fast);
            q0 = q;
        }
        a = acc + 2 * (q - q0);
        if (np == 4) {
#if TINYEIT_PAIRS_WIDE
            const int32_t args[12] = {(int32_t)(uintptr_t)w, done >> 2, n, (int32_t)(uintptr_t)a,
                                      (int32_t)(uintptr_t)x, (int32_t)tail,
                                      (int32_t)(uintptr_t)(bias + 2 * q),
                                      (npad / 2 - hu) * 16,
                                      fused ? (int32_t)(uintptr_t)(o + 2 * q) : 0,
                                      (int32_t)(uintptr_t)(mult + 2 * q),
                                      (int32_t)(uintptr_t)(p->rq_fast + 2 * q),
                                      2 * p->out_offset + 1};
            tinyeit_cm_pairs4u(args);
#else
            (void)hu;
            (void)tail;
#endif
            if (fused) q0 = q + done;
        } else {
            for (j = 0; j < np; ++j)
                a[2 * j] = a[2 * j + 1] = bias[2 * (q + j)];
            if (np == 3) tinyeit_cm_pairs3(xw, w, iters, a);
            else if (np == 2) tinyeit_cm_pairs2(xw, w, iters, a);
            else tinyeit_cm_pairs1(xw, w, iters, a);
        }
        w += done * wstep;
        q += done;
    }
    if (q0 < all)
        tinyeit_cm_pairs_emit(acc, 2 * q0, units - 2 * q0, bias, mult, shift, post, o, p,
                              fast);
}

void tinyeit_fc_s8_pairs(const int8_t *in, const uint8_t *w, const int32_t *bias,
                         const int32_t *mult, const int32_t *shift, const int8_t *post,
                         int8_t *out, const tinyeit_fc_params *p, int16_t *scratch)
{
    const int32_t n = p->in_dim, units = p->units;
    const int32_t npad = (n + TINYEIT_PAIRS_IN_ALIGN - 1) & -TINYEIT_PAIRS_IN_ALIGN;
    int32_t b;
#if TINYEIT_PAIRS_WIDE
    /* units a multiple of 8 in a wide layer, rq_fast: every pair in four-pair blocks that make
     * their outputs themselves, the row in one tinyeit_cm_pairs4u call (pairs_wide, with
     * 2 * pairs = units; no sums to hold, so no chunks) */
    if (p->rq_fast && (units & 7) == 0 && npad <= TINYEIT_PAIRS_WIDE_MAX &&
        units * npad >= TINYEIT_PAIRS_WIDE_MIN_MACS) {
        const int32_t n4 = n & ~3, skip = (npad / 2 - 2 * ((n + 3) >> 2)) * 16;
        for (b = 0; b < p->batches; ++b) {
            const int8_t *x = in + b * n;
            uint32_t tail = 0;
            int32_t j;
            for (j = n4; j < n; ++j) tail |= (uint32_t)(uint8_t)x[j] << (8 * (j - n4));
            {
                const int32_t args[12] = {(int32_t)(uintptr_t)w, units >> 3, n, 0,
                                          (int32_t)(uintptr_t)x, (int32_t)tail,
                                          (int32_t)(uintptr_t)bias, skip,
                                          (int32_t)(uintptr_t)(out + b * units),
                                          (int32_t)(uintptr_t)mult,
                                          (int32_t)(uintptr_t)p->rq_fast,
                                          2 * p->out_offset + 1};
                tinyeit_cm_pairs4u(args);
            }
        }
        return;
    }
#endif
    if (TINYEIT_PAIRS_SMALL_FAST && p->rq_fast && !pairs_wide((units + 1) >> 1, npad)) {
        for (b = 0; b < p->batches; ++b)
            cm_pairs_row_fast(in + b * n, w, bias, mult, shift, out + b * units, p, scratch);
        return;
    }
    for (b = 0; b < p->batches; ++b)
        cm_pairs_row(in + b * n, w, bias, mult, shift, post, out + b * units, p, scratch);
}
#endif
