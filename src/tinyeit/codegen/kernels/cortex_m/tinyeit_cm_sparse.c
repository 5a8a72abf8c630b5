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
