/* Cortex-M DSP codebook fully connected: tinyeit_fc_s8_cb on the codebook layout
 * (tinyeit_kernels.h). Two units at a time (tinyeit_cm_cb2, in assembly: the loop needs every
 * core register), so that each input word is loaded and widened once for both. Each weight
 * costs one 4-bit field extraction, one byte load from its unit's table and one SMLABB /
 * SMLABT against its input's 16-bit lane: about 4.4 cycles per weight on the M4 model, where
 * the dense layouts take about 1.5 (SMLAD on whole weight words). No lookup can match that:
 * on this core a codebook buys flash, not cycles. Integer sums: the reference's result in any
 * order.
 * tinyeit_fc_f32_cb (FPU): four units at a time, so that each input is loaded once and the four
 * sums, each in input order, do not wait for one another. */
#include "tinyeit_common.h"

#if defined(TINYEIT_TARGET_FC_S8_CB)
#include "tinyeit_cm_dot.h"

/* Two units' sums over `steps` x 4 inputs. args: x, the first unit's codes, the second unit's
 * codes minus the first's minus 2, the two tables, the two accumulators (read and written
 * back), steps. Per step: one input word widened into xe = (x0, x2) and xo = (x1, x3); per
 * unit one halfword of codes, its four 4-bit fields extracted before the four table loads (so
 * that the loads run back to back, pipelined, and no load waits for the instruction before
 * it), then SMLABB / SMLABT of each weight against its input's lane. Two steps per iteration. */
void tinyeit_cm_cb2(int32_t *args);
__asm__(
    "    .syntax unified\n"
    "    .macro TINYEIT_CB_UNIT t, acc, codes\n"
    "    ldrh   r10, \\codes\n"
    "    and    r11, r10, #15\n"
    "    ubfx   r12, r10, #4, #4\n"
    "    ubfx   lr, r10, #8, #4\n"
    "    lsr    r10, r10, #12\n"
    "    ldrsb  r11, [\\t, r11]\n"
    "    ldrsb  r12, [\\t, r12]\n"
    "    ldrsb  lr, [\\t, lr]\n"
    "    ldrsb  r10, [\\t, r10]\n"
    "    smlabb \\acc, r11, r8, \\acc\n"
    "    smlabb \\acc, r12, r9, \\acc\n"
    "    smlabt \\acc, lr, r8, \\acc\n"
    "    smlabt \\acc, r10, r9, \\acc\n"
    "    .endm\n"
    "    .macro TINYEIT_CB_STEP\n"
    "    ldr    r8, [r0], #4\n"
    "    sxtb16 r9, r8, ror #8\n"
    "    sxtb16 r8, r8\n"
    "    TINYEIT_CB_UNIT r3, r5, \"[r1], #2\"\n"
    "    TINYEIT_CB_UNIT r4, r6, \"[r1, r2]\"\n"
    "    .endm\n"
    CM_ASM_FUNC("tinyeit_cm_cb2")
    "    push   {r0, r4-r11, lr}\n"
    "    ldm    r0, {r0-r7}\n"
    "    tst    r7, #1\n"
    "    beq    2f\n"
    "    TINYEIT_CB_STEP\n"
    "2:\n"
    "    lsrs   r7, r7, #1\n"
    "    beq    3f\n"
    "    .balign 4\n"
    "1:\n"
    "    TINYEIT_CB_STEP\n"
    "    TINYEIT_CB_STEP\n"
    "    subs   r7, r7, #1\n"
    "    bne    1b\n"
    "3:\n"
    "    pop    {r0}\n"
    "    strd   r5, r6, [r0, #20]\n"
    "    pop    {r4-r11, pc}\n"
    "    .size tinyeit_cm_cb2, . - tinyeit_cm_cb2\n"
    "    .purgem TINYEIT_CB_UNIT\n"
    "    .purgem TINYEIT_CB_STEP\n"
    "    .text\n");

static inline int32_t cm_cb_tail(const int8_t *x, const uint8_t *c, const int8_t *t, int32_t k,
                                 int32_t n, int32_t acc)
{
    for (; k < n; ++k) acc += (int32_t)x[k] * t[(c[k >> 1] >> (4 * (k & 1))) & 15u];
    return acc;
}

void tinyeit_fc_s8_cb(const int8_t *in, const uint8_t *codes, const int8_t *table,
                      int32_t table_stride, const int32_t *bias, const int32_t *mult,
                      const int32_t *shift, const int8_t *post, int8_t *out,
                      const tinyeit_fc_params *p)
{
    const int32_t n = p->in_dim, row = (n + 1) >> 1, n4 = n & ~3;
    int32_t b, u;
    if (p->w_offset != 0) {
        tinyeit_fc_s8_cb_ref(in, codes, table, table_stride, bias, mult, shift, post, out, p);
        return;
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = in + b * n;
        int8_t *o = out + b * p->units;
        for (u = 0; u < p->units; u += 2) {
            const int32_t two = u + 1 < p->units;
            const uint8_t *c0 = codes + u * row, *c1 = two ? c0 + row : c0;
            const int8_t *t0 = table + u * table_stride, *t1 = two ? t0 + table_stride : t0;
            int32_t a0 = bias[u], a1 = two ? bias[u + 1] : 0;
            if (n4 > 0) {
                int32_t args[8];
                args[0] = (int32_t)(uintptr_t)x;
                args[1] = (int32_t)(uintptr_t)c0;
                args[2] = (int32_t)(c1 - c0) - 2;
                args[3] = (int32_t)(uintptr_t)t0;
                args[4] = (int32_t)(uintptr_t)t1;
                args[5] = a0;
                args[6] = a1;
                args[7] = n4 >> 2;
                tinyeit_cm_cb2(args);
                a0 = args[5];
                a1 = args[6];
            }
            a0 = cm_cb_tail(x, c0, t0, n4, n, a0);
            o[u] = epilogue_s8(a0, mult[u], shift[u], p->single_round, p->cheap_rq,
                               p->out_offset, p->act_min, p->act_max,
                               post ? post + u * p->post_len : NULL);
            if (two) {
                a1 = cm_cb_tail(x, c1, t1, n4, n, a1);
                o[u + 1] = epilogue_s8(a1, mult[u + 1], shift[u + 1], p->single_round,
                                       p->cheap_rq, p->out_offset, p->act_min, p->act_max,
                                       post ? post + (u + 1) * p->post_len : NULL);
            }
        }
    }
}
#endif

#if defined(TINYEIT_TARGET_FC_F32_CB)
void tinyeit_fc_f32_cb(const float *in, const uint8_t *codes, const float *table,
                       int32_t table_stride, const float *bias, float *out,
                       const tinyeit_fc_params *p)
{
    const int32_t n = p->in_dim, pairs = n >> 1, row = (n + 1) >> 1, units = p->units;
    int32_t b, u, k, r;
    for (b = 0; b < p->batches; ++b) {
        const float *x = in + b * n;
        float *o = out + b * units;
        for (u = 0; u + 4 <= units; u += 4) {
            const uint8_t *c = codes + u * row;
            const float *t0 = table + u * table_stride, *t1 = t0 + table_stride;
            const float *t2 = t1 + table_stride, *t3 = t2 + table_stride;
            float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f, acc[4];
            for (k = 0; k < pairs; ++k) {
                const float x0 = x[2 * k], x1 = x[2 * k + 1];
                const uint32_t b0 = c[k], b1 = c[row + k], b2 = c[2 * row + k];
                const uint32_t b3 = c[3 * row + k];
                a0 += x0 * t0[b0 & 15u]; a1 += x0 * t1[b1 & 15u];
                a2 += x0 * t2[b2 & 15u]; a3 += x0 * t3[b3 & 15u];
                a0 += x1 * t0[b0 >> 4]; a1 += x1 * t1[b1 >> 4];
                a2 += x1 * t2[b2 >> 4]; a3 += x1 * t3[b3 >> 4];
            }
            if (n & 1) {
                const float xl = x[n - 1];
                a0 += xl * t0[c[pairs] & 15u]; a1 += xl * t1[c[row + pairs] & 15u];
                a2 += xl * t2[c[2 * row + pairs] & 15u]; a3 += xl * t3[c[3 * row + pairs] & 15u];
            }
            acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
            for (r = 0; r < 4; ++r) {
                const float v = bias ? acc[r] + bias[u + r] : acc[r];
                o[u + r] = clamp_f(v, p->f_min, p->f_max);
            }
        }
        if (u < units) {
            tinyeit_fc_params rest = *p;
            rest.batches = 1;
            rest.units = units - u;
            tinyeit_fc_f32_cb_ref(x, codes + u * row, table + u * table_stride, table_stride,
                                  bias ? bias + u : NULL, o + u, &rest);
        }
    }
}
#endif
