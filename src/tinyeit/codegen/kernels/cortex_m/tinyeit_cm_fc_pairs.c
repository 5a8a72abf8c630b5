/* Cortex-M DSP int8 fully connected on the unit-pair layout: tinyeit_fc_s8_pairs
 * (tinyeit_kernels.h, src/tinyeit/codegen/layout_unit_pairs.py).
 *
 * The input row is widened once per call into scratch (SXTB16 and SXTB16 ROR #8 of each input
 * word: the pairs (x0, x2) and (x1, x3)), and its sum taken. Then per block of up to three
 * pairs (six units), per half step (two inputs), one input pair word and one weight word per
 * pair: SMLAD of the raw weight word into R (its lanes read as (a + 128) + 256 * b), UXTB16 of
 * it and SMLAD into U (lanes a + 128). Per 4 MACs one load, one UXTB16 and two SMLAD; the six
 * accumulators, the input pair, three weight words and the pointers fill the core registers,
 * so the loop is a function of its own in assembly (the loads of a half step back to back,
 * pipelined; 4 steps per iteration). With R and U started at bias - 128 * sum(x), the first
 * unit's accumulator is U and the second's bias + ((R - U) >> 8), exact in 32-bit wrap-around
 * arithmetic because the generator lays a pair out only when |sum b * x| < 2^23 for every
 * input (layout_unit_pairs.pairs_fit). */
#include "tinyeit_common.h"

#if defined(TINYEIT_CORTEX_M_DSP)
#include "tinyeit_cm_dot.h"

/* acc[2p] (R) and acc[2p + 1] (U) of the block's pairs += the block over `iters` x 16 inputs. */
void tinyeit_cm_pairs3(const int16_t *xw, const uint8_t *w, int32_t iters, int32_t *acc);
void tinyeit_cm_pairs2(const int16_t *xw, const uint8_t *w, int32_t iters, int32_t *acc);
void tinyeit_cm_pairs1(const int16_t *xw, const uint8_t *w, int32_t iters, int32_t *acc);

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
    "    uxtb16 r10, r10\n"
    "    smlad  r5, r10, r3, r5\n"
    "    .if \\np > 1\n"
    "    smlad  r6, r11, r3, r6\n"
    "    uxtb16 r11, r11\n"
    "    smlad  r7, r11, r3, r7\n"
    "    .endif\n"
    "    .if \\np > 2\n"
    "    smlad  r8, r12, r3, r8\n"
    "    uxtb16 r12, r12\n"
    "    smlad  r9, r12, r3, r9\n"
    "    .endif\n"
    "    .endm\n"
    "    .macro TINYEIT_PAIRS_FN name, np, regs\n"
    "    .section .text.\\name, \"ax\", %progbits\n"
    "    .balign 4\n"
    "    .global \\name\n"
    "    .hidden \\name\n"
    "    .type \\name, %function\n"
    "    .thumb_func\n"
    "\\name:\n"
    "    push   {r3-r11, lr}\n"
    "    ldm    r3, {\\regs}\n"
    "    .balign 4\n"
    "1:\n"
    "    .rept 8\n"
    "    TINYEIT_PAIRS_HALF \\np\n"
    "    .endr\n"
    "    subs   r2, r2, #1\n"
    "    bne    1b\n"
    "    pop    {r3}\n"
    "    stm    r3, {\\regs}\n"
    "    pop    {r4-r11, pc}\n"
    "    .size \\name, . - \\name\n"
    "    .endm\n"
    "    TINYEIT_PAIRS_FN tinyeit_cm_pairs3, 3, \"r4-r9\"\n"
    "    TINYEIT_PAIRS_FN tinyeit_cm_pairs2, 2, \"r4-r7\"\n"
    "    TINYEIT_PAIRS_FN tinyeit_cm_pairs1, 1, \"r4-r5\"\n"
    "    .text\n");

/* The row widened into xw (per 4 inputs: (x0, x2), (x1, x3) as int16 lanes; zeros up to npad);
 * returns sum(x). */
static int32_t cm_pairs_widen(const int8_t *x, int32_t n, int32_t npad, int16_t *xw)
{
    int32_t k, s = 0;
    for (k = 0; k + 4 <= n; k += 4) {
        const uint32_t v = cm_read32(x + k);
        const int32_t lo = cm_sxtb16(v), hi = cm_sxtb16_ror8(v);
        memcpy(xw + k, &lo, sizeof lo);
        memcpy(xw + k + 2, &hi, sizeof hi);
        s = cm_smlad(lo, 0x00010001, s);
        s = cm_smlad(hi, 0x00010001, s);
    }
    if (k < n) {
        int8_t t[4] = {0, 0, 0, 0};
        int32_t j;
        for (j = 0; k + j < n; ++j) t[j] = x[k + j];
        xw[k] = t[0]; xw[k + 1] = t[2]; xw[k + 2] = t[1]; xw[k + 3] = t[3];
        s += t[0] + t[1] + t[2] + t[3];
        k += 4;
    }
    for (; k < npad; ++k) xw[k] = 0;
    return s;
}

#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void cm_pairs_row_t(const int8_t *x, const uint8_t *w, const int32_t *bias,
                                  const int32_t *mult, const int32_t *shift, const int8_t *post,
                                  int8_t *o, const tinyeit_fc_params *p, int16_t *xw,
                                  const int32_t single, const int32_t cheap)
{
    const int32_t n = p->in_dim, units = p->units, pairs = (units + 1) / 2;
    const int32_t npad = (n + TINYEIT_PAIRS_IN_ALIGN - 1) / TINYEIT_PAIRS_IN_ALIGN *
                         TINYEIT_PAIRS_IN_ALIGN;
    const int32_t iters = npad / TINYEIT_PAIRS_IN_ALIGN;
    /* 128 * sum(x) comes off every accumulator: the first unit's weights are stored + 128 */
    const uint32_t off = 128u * (uint32_t)cm_pairs_widen(x, n, npad, xw);
    const int32_t lo = p->act_min, hi = p->act_max, zo = p->out_offset, plen = p->post_len;
    int32_t q, np, j;
    for (q = 0; q < pairs; q += np) {
        int32_t acc[2 * TINYEIT_PAIRS_BLOCK];
        np = pairs_block(q, pairs);
        for (j = 0; j < np; ++j)
            acc[2 * j] = acc[2 * j + 1] = (int32_t)((uint32_t)bias[2 * (q + j)] - off);
        if (np == 3) tinyeit_cm_pairs3(xw, w, iters, acc);
        else if (np == 2) tinyeit_cm_pairs2(xw, w, iters, acc);
        else tinyeit_cm_pairs1(xw, w, iters, acc);
        w += np * 2 * npad;
        for (j = 0; j < np; ++j) {
            const int32_t ua = 2 * (q + j), ub = ua + 1;
            o[ua] = epilogue_s8(acc[2 * j + 1], mult[ua], shift[ua], single, cheap, zo, lo, hi,
                                post ? post + ua * plen : NULL);
            if (ub < units) {
                const int32_t d = (int32_t)((uint32_t)acc[2 * j] - (uint32_t)acc[2 * j + 1]);
                o[ub] = epilogue_s8(bias[ub] + (d >> 8), mult[ub], shift[ub], single, cheap, zo,
                                    lo, hi, post ? post + ub * plen : NULL);
            }
        }
    }
}

void tinyeit_fc_s8_pairs(const int8_t *in, const uint8_t *w, const int32_t *bias,
                         const int32_t *mult, const int32_t *shift, const int8_t *post,
                         int8_t *out, const tinyeit_fc_params *p, int16_t *scratch)
{
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = in + b * p->in_dim;
        int8_t *o = out + b * p->units;
        if (p->single_round && p->cheap_rq)
            cm_pairs_row_t(x, w, bias, mult, shift, post, o, p, scratch, 1, 1);
        else if (p->single_round)
            cm_pairs_row_t(x, w, bias, mult, shift, post, o, p, scratch, 1, 0);
        else if (p->cheap_rq)
            cm_pairs_row_t(x, w, bias, mult, shift, post, o, p, scratch, 0, 1);
        else
            cm_pairs_row_t(x, w, bias, mult, shift, post, o, p, scratch, 0, 0);
    }
}
#endif
