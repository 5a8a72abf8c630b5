/* Cortex-M block-sparse fully connected: tinyeit_fc_s8_bsr (DSP extension) and
 * tinyeit_fc_f32_bsr (FPv4-SP) on the block-sparse layout (tinyeit_kernels.h). Per kept block
 * the int8 loop is the dense one's (one input word widened by SXTB16 / SXTB16 ROR #8, four
 * units' words, SMLAD) with the input word loaded at the block's index; the float loop loads the
 * block's 4 inputs and 16 weights (VLDM) and multiplies and adds each product (VMUL, VADD: the
 * same two roundings as VMLA.F32 and the reference's a * b + c without contraction, in the same
 * order, two single-cycle instructions where VMLA takes three). In assembly: in C, gcc spills
 * the accumulators and pointers of the four-unit loop. */
#include "tinyeit_common.h"

#if defined(TINYEIT_TARGET_FC_S8_BSR)
#include "tinyeit_cm_dot.h"

/* acc[r] += the count kept blocks; *wp advances past them. The index load is issued before a
 * weight load, so the input load that uses it as an address does not stall. */
static inline void cm_bsr4_s8(const int8_t *x, const int8_t **wp, const uint16_t *ip,
                              int32_t count, int32_t *acc)
{
    const int8_t *w = *wp;
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t xa, xb, t0, t1, i;
    __asm__ volatile(
        "1:\n\t"
        "ldrh   %[i], [%[ip]], #2\n\t"
        "ldr    %[t0], [%[w]], #4\n\t"
        "ldr    %[t1], [%[w]], #4\n\t"
        "ldr    %[xa], [%[x], %[i], lsl #2]\n\t"
        "sxtb16 %[i], %[t0], ror #8\n\t"
        "sxtb16 %[t0], %[t0]\n\t"
        "sxtb16 %[xb], %[xa], ror #8\n\t"
        "sxtb16 %[xa], %[xa]\n\t"
        "smlad  %[a0], %[t0], %[xa], %[a0]\n\t"
        "smlad  %[a0], %[i], %[xb], %[a0]\n\t"
        "sxtb16 %[i], %[t1], ror #8\n\t"
        "sxtb16 %[t1], %[t1]\n\t"
        "smlad  %[a1], %[t1], %[xa], %[a1]\n\t"
        "smlad  %[a1], %[i], %[xb], %[a1]\n\t"
        "ldr    %[t0], [%[w]], #4\n\t"
        "ldr    %[t1], [%[w]], #4\n\t"
        "sxtb16 %[i], %[t0], ror #8\n\t"
        "sxtb16 %[t0], %[t0]\n\t"
        "smlad  %[a2], %[t0], %[xa], %[a2]\n\t"
        "smlad  %[a2], %[i], %[xb], %[a2]\n\t"
        "sxtb16 %[i], %[t1], ror #8\n\t"
        "sxtb16 %[t1], %[t1]\n\t"
        "smlad  %[a3], %[t1], %[xa], %[a3]\n\t"
        "smlad  %[a3], %[i], %[xb], %[a3]\n\t"
        "subs   %[n], %[n], #1\n\t"
        "bne    1b\n\t"
        : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [w] "+r"(w),
          [ip] "+r"(ip), [n] "+r"(count), [xa] "=&r"(xa), [xb] "=&r"(xb), [t0] "=&r"(t0),
          [t1] "=&r"(t1), [i] "=&r"(i)
        : [x] "r"(x)
        : "cc", "memory");
    acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
    *wp = w;
}

#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void cm_bsr_row_t(const int8_t *x, const int8_t *w, const uint16_t *ip, int32_t n,
                                int32_t units, const int32_t *bias, const int32_t *mult,
                                const int32_t *shift, const tinyeit_epi *e, const int8_t *post,
                                int8_t *o, const int32_t single, const int32_t cheap)
{
    const int32_t n4 = n & ~3, tail = n & 3;
    int32_t u, r, j;
    for (u = 0; u + 4 <= units; u += 4) {
        const int32_t count = *ip++;
        int32_t acc[4];
        acc[0] = bias[u]; acc[1] = bias[u + 1]; acc[2] = bias[u + 2]; acc[3] = bias[u + 3];
        if (count > 0) cm_bsr4_s8(x, &w, ip, count, acc);
        ip += count;
        for (j = 0; j < tail; ++j, w += 4) {
            const int32_t xj = x[n4 + j];
            acc[0] += xj * w[0]; acc[1] += xj * w[1]; acc[2] += xj * w[2]; acc[3] += xj * w[3];
        }
        for (r = 0; r < 4; ++r)
            o[u + r] = epilogue_s8(acc[r], mult[u + r], shift[u + r], single, cheap,
                                   e->out_offset, e->act_min, e->act_max,
                                   post ? post + (u + r) * e->post_len : NULL);
    }
    for (; u < units; ++u, w += n) {
        const int32_t acc = cm_dot1_s8(x, w, n, bias[u]);
        o[u] = epilogue_s8(acc, mult[u], shift[u], single, cheap, e->out_offset, e->act_min,
                           e->act_max, post ? post + u * e->post_len : NULL);
    }
}

void tinyeit_fc_s8_bsr(const int8_t *in, const int8_t *w, const uint16_t *idx,
                       const int32_t *bias, const int32_t *mult, const int32_t *shift,
                       const int8_t *post, int8_t *out, const tinyeit_fc_params *p)
{
    const tinyeit_epi e = {p->out_offset, p->act_min, p->act_max, p->single_round, p->cheap_rq,
                           p->post_len};
    const int32_t n = p->in_dim, units = p->units;
    int32_t b;
    if (p->w_offset != 0) {
        tinyeit_fc_s8_bsr_ref(in, w, idx, bias, mult, shift, post, out, p);
        return;
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = in + b * n;
        int8_t *o = out + b * units;
        if (e.single_round && e.cheap_rq)
            cm_bsr_row_t(x, w, idx, n, units, bias, mult, shift, &e, post, o, 1, 1);
        else if (e.single_round)
            cm_bsr_row_t(x, w, idx, n, units, bias, mult, shift, &e, post, o, 1, 0);
        else if (e.cheap_rq)
            cm_bsr_row_t(x, w, idx, n, units, bias, mult, shift, &e, post, o, 0, 1);
        else
            cm_bsr_row_t(x, w, idx, n, units, bias, mult, shift, &e, post, o, 0, 0);
    }
}
#endif

#if defined(TINYEIT_TARGET_FC_F32_BSR)
/* acc[0..3] += the count kept blocks of 4 inputs x 4 units, input by input in order: per input,
 * its 4 products (VMUL), then each added to its unit's sum (VADD), four apart so that no VADD
 * waits for the VMUL before it. */
static void cm_bsr4_f32(float *acc, const float *x, const float **wp, const uint16_t *ip,
                        int32_t count)
{
    const float *w = *wp;
    int32_t i;
    __asm__ volatile(
        "vldmia   %[acc], {s24-s27}\n\t"
        "1:\n\t"
        "ldrh     %[i], [%[ip]], #2\n\t"
        "add      %[i], %[x], %[i], lsl #4\n\t"
        "vldmia   %[w]!, {s0-s15}\n\t"
        "vldmia   %[i], {s16-s19}\n\t"
        "vmul.f32 s20, s16, s0\n\t"
        "vmul.f32 s21, s16, s1\n\t"
        "vmul.f32 s22, s16, s2\n\t"
        "vmul.f32 s23, s16, s3\n\t"
        "vadd.f32 s24, s24, s20\n\t"
        "vadd.f32 s25, s25, s21\n\t"
        "vadd.f32 s26, s26, s22\n\t"
        "vadd.f32 s27, s27, s23\n\t"
        "vmul.f32 s20, s17, s4\n\t"
        "vmul.f32 s21, s17, s5\n\t"
        "vmul.f32 s22, s17, s6\n\t"
        "vmul.f32 s23, s17, s7\n\t"
        "vadd.f32 s24, s24, s20\n\t"
        "vadd.f32 s25, s25, s21\n\t"
        "vadd.f32 s26, s26, s22\n\t"
        "vadd.f32 s27, s27, s23\n\t"
        "vmul.f32 s20, s18, s8\n\t"
        "vmul.f32 s21, s18, s9\n\t"
        "vmul.f32 s22, s18, s10\n\t"
        "vmul.f32 s23, s18, s11\n\t"
        "vadd.f32 s24, s24, s20\n\t"
        "vadd.f32 s25, s25, s21\n\t"
        "vadd.f32 s26, s26, s22\n\t"
        "vadd.f32 s27, s27, s23\n\t"
        "vmul.f32 s20, s19, s12\n\t"
        "vmul.f32 s21, s19, s13\n\t"
        "vmul.f32 s22, s19, s14\n\t"
        "vmul.f32 s23, s19, s15\n\t"
        "vadd.f32 s24, s24, s20\n\t"
        "vadd.f32 s25, s25, s21\n\t"
        "vadd.f32 s26, s26, s22\n\t"
        "vadd.f32 s27, s27, s23\n\t"
        "subs     %[n], %[n], #1\n\t"
        "bne      1b\n\t"
        "vstmia   %[acc], {s24-s27}\n\t"
        : [w] "+r"(w), [ip] "+r"(ip), [n] "+r"(count), [i] "=&r"(i)
        : [acc] "r"(acc), [x] "r"(x)
        : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", "s13", "s14", "s15", "s16", "s17", "s18", "s19", "s20", "s21", "s22", "s23", "s24", "s25", "s26", "s27",
          "cc", "memory");
    *wp = w;
}

void tinyeit_fc_f32_bsr(const float *in, const float *w, const uint16_t *idx, const float *bias,
                        float *out, const tinyeit_fc_params *p)
{
    const int32_t n = p->in_dim, n4 = n & ~3, tail = n & 3, units = p->units;
    int32_t b, u, r, j;
    for (b = 0; b < p->batches; ++b) {
        const float *x = in + b * n, *wp = w;
        const uint16_t *ip = idx;
        float *o = out + b * units;
        for (u = 0; u + 4 <= units; u += 4) {
            float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
            const int32_t count = *ip++;
            if (count > 0) cm_bsr4_f32(acc, x, &wp, ip, count);
            ip += count;
            for (j = 0; j < tail; ++j, wp += 4)
                for (r = 0; r < 4; ++r) acc[r] += x[n4 + j] * wp[r];
            for (r = 0; r < 4; ++r) {
                const float v = bias ? acc[r] + bias[u + r] : acc[r];
                o[u + r] = clamp_f(v, p->f_min, p->f_max);
            }
        }
        for (; u < units; ++u, wp += n) {
            float acc = tinyeit_dot_f32(0.0f, x, wp, n);
            if (bias) acc += bias[u];
            o[u] = clamp_f(acc, p->f_min, p->f_max);
        }
    }
}
#endif

#if defined(TINYEIT_TARGET_FC_BSR_PAIRS)
#include "tinyeit_cm_dot.h"

/* tinyeit_fc_s8_bsr_pairs: the kept 4 x 4 blocks as unit pairs (layout_unit_pairs.py,
 * encode_bsr_pairs). Per kept block: its byte offset (LDRH), the input word there (LDR, register
 * offset; the tail block's offset n - 4 makes it unaligned, which the M4 allows), four weight
 * words, all six loads back to back (7 cycles); SXTB16 and SXTB16 ROR #8 widen the input word to
 * (x0, x2), (x1, x3); per weight word SMLAD of the raw word into R (lanes a + 256 b), SXTB16 of
 * it (lanes a) and SMLAD into U: 21 cycles per 16 MACs, where SXTB16-widened weights (the layout
 * above) take 29. The loop runs two blocks per pass, entered at the second for an odd count.
 * A = U and B = bias_B + ((R - U) >> 8) (tinyeit_cm_pairs_emit), exact because the lanes are
 * the weights' own int16 a + 256 b and |sum b x| < 2^23 (bsr_pairs_fit); no bias on a, so no
 * sum of the inputs a unit block runs over is needed.
 * args: x, w, idx, blocks of 4 units, acc (out: R01 U01 R23 U23 per block), bias (the first
 * block's units; A units 0 and 2 start R and U); w and idx are written back past the blocks.
 * Registers in the loop: x r0, w r1, idx r2, passes r3, R01 U01 R23 U23 r4-r7, offset r8, input
 * pairs r9 r10, weight words r11 r12 lr r8. */
void tinyeit_cm_bsr_pairs(int32_t *args);
__asm__(
    "    .syntax unified\n"
    "    .macro TINYEIT_BSRP_STEP\n"
    "    ldrh   r8, [r2], #2\n"
    "    ldr    r11, [r1], #4\n"
    "    ldr    r9, [r0, r8]\n"
    "    ldr    r12, [r1], #4\n"
    "    ldr    lr, [r1], #4\n"
    "    ldr    r8, [r1], #4\n"
    "    sxtb16 r10, r9, ror #8\n"
    "    sxtb16 r9, r9\n"
    "    smlad  r4, r11, r9, r4\n"
    "    sxtb16 r11, r11\n"
    "    smlad  r5, r11, r9, r5\n"
    "    smlad  r6, r12, r9, r6\n"
    "    sxtb16 r12, r12\n"
    "    smlad  r7, r12, r9, r7\n"
    "    smlad  r4, lr, r10, r4\n"
    "    sxtb16 lr, lr\n"
    "    smlad  r5, lr, r10, r5\n"
    "    smlad  r6, r8, r10, r6\n"
    "    sxtb16 r8, r8\n"
    "    smlad  r7, r8, r10, r7\n"
    "    .endm\n"
    CM_ASM_FUNC("tinyeit_cm_bsr_pairs")
    "    push   {r4-r11, lr}\n"
    "    ldm    r0, {r1-r6}\n"
    /* slots: [sp] args, [sp, #4] blocks left, [sp, #8] acc, [sp, #12] bias */
    "    push   {r0, r4, r5, r6}\n"
    "    mov    r0, r1\n"
    "    mov    r1, r2\n"
    "    mov    r2, r3\n"
    "    .balign 4\n"
    "1:\n"
    "    ldr    r8, [sp, #12]\n"
    "    ldrh   r3, [r2], #2\n"
    "    ldr    r4, [r8], #8\n"
    "    ldr    r6, [r8], #8\n"
    "    str    r8, [sp, #12]\n"
    "    mov    r5, r4\n"
    "    mov    r7, r6\n"
    /* passes of two blocks: count / 2, + 1 entered at the second block when count is odd */
    "    lsrs   r3, r3, #1\n"
    "    adc    r3, r3, #0\n"
    "    bcs    3f\n"
    "    beq    4f\n"
    "2:\n"
    "    TINYEIT_BSRP_STEP\n"
    "3:\n"
    "    TINYEIT_BSRP_STEP\n"
    "    subs   r3, r3, #1\n"
    "    bne    2b\n"
    "4:\n"
    "    ldr    r8, [sp, #8]\n"
    "    stmia  r8!, {r4-r7}\n"
    "    str    r8, [sp, #8]\n"
    "    ldr    r8, [sp, #4]\n"
    "    subs   r8, r8, #1\n"
    "    str    r8, [sp, #4]\n"
    "    bne    1b\n"
    "    ldr    r8, [sp]\n"
    "    str    r1, [r8, #4]\n"
    "    str    r2, [r8, #8]\n"
    "    add    sp, sp, #16\n"
    "    pop    {r4-r11, pc}\n"
    "    .size tinyeit_cm_bsr_pairs, . - tinyeit_cm_bsr_pairs\n"
    "    .text\n");

/* Blocks of 4 units per call of tinyeit_cm_bsr_pairs (their sums on the stack). */
#define TINYEIT_BSRP_CHUNK 16

void tinyeit_fc_s8_bsr_pairs(const int8_t *in, const uint8_t *w, const uint16_t *idx,
                             const int32_t *bias, const int32_t *mult, const int32_t *shift,
                             const int8_t *post, int8_t *out, const tinyeit_fc_params *p)
{
    const int32_t n = p->in_dim, units = p->units, full = units >> 2;
    int32_t b, j, fast = p->single_round && !post && !p->rq_fast;
    int32_t acc[4 * TINYEIT_BSRP_CHUNK];
    for (j = 0; fast && j < units; ++j) fast = shift[j] <= -2;
    for (b = 0; b < p->batches; ++b) {
        int32_t args[6] = {(int32_t)(uintptr_t)(in + b * n), (int32_t)(uintptr_t)w,
                           (int32_t)(uintptr_t)idx, 0, (int32_t)(uintptr_t)acc, 0};
        int8_t *o = out + b * units;
        int32_t u0 = 0;
        while (u0 < units) {
            /* the last, partial block of units starts from its own bias copy (zero past units) */
            int32_t nb = full - (u0 >> 2), bias4[4] = {0, 0, 0, 0};
            if (nb > 0) {
                if (nb > TINYEIT_BSRP_CHUNK) nb = TINYEIT_BSRP_CHUNK;
                args[5] = (int32_t)(uintptr_t)(bias + u0);
            } else {
                nb = 1;
                for (j = 0; u0 + j < units; ++j) bias4[j] = bias[u0 + j];
                args[5] = (int32_t)(uintptr_t)bias4;
            }
            args[3] = nb;
            tinyeit_cm_bsr_pairs(args);
            tinyeit_cm_pairs_emit(acc, u0, units - u0 < 4 * nb ? units - u0 : 4 * nb, bias,
                                  mult, shift, post, o, p, fast);
            u0 += 4 * nb;
        }
    }
}
#endif
