/* AArch64 NEON (ARMv8.0: no SDOT) block-sparse fully connected: tinyeit_fc_s8_bsr and
 * tinyeit_fc_f32_bsr on the block-sparse layout of tinyeit_kernels.h, read as it is (the layout
 * every target shares).
 *
 * int8: a kept block is one group of 4 inputs against 4 units, 16 bytes in the dense packed
 * order (unit 0's 4 weights, unit 1's, ...), so its input word is loaded at the block's index
 * and broadcast (LD1R) and SMULL/SMULL2 give the 16 products as int16, SADALP adds neighbouring
 * ones into int32 lanes (units 0, 0, 1, 1 and 2, 2, 3, 3; a final ADDP leaves one sum per unit).
 * Where the generator saw no -128 weight (w_no_min) two blocks share one int16 lane (SMULL then
 * SMLAL, same unit and same place in the group per lane; |w| <= 127 bounds the lane by
 * 2 * 127 * 128 = 32512), halving the SADALPs, as the dense kernel does. The hot loop (four
 * blocks a step) is assembly: one LDP takes four indices as two words; ADD with UXTH #2 turns
 * the low index into an address and ADD with LSR #14 the high one (exact while every index is
 * below 2^14: in_dim <= 65535, checked per call), so a block's input costs 1.25 instructions
 * before its LD1R. Integer sums in another order: the reference's result. The n % 4 tail inputs
 * of each block of units (stored input by input, the 4 units' weights together) meet a vector
 * of those inputs each repeated 4 times, built once per row.
 *
 * float: per block of 4 units, the lanes are the units; per kept block its 4 inputs (one LDR Q
 * at the index) and 16 weights (input 0's 4 units, input 1's, ...), then per input FMUL by
 * element and FADD (never FMLA): each unit's sum takes its kept inputs in the reference's order
 * with the reference's two roundings, so the reference's bits; the tail inputs, the bias and the
 * clamp after, as the reference; the units % 4 plain rows are the reference's own code. */
#include "tinyeit_common.h"

#if defined(TINYEIT_A64_FC_S8_BSR) || defined(TINYEIT_A64_FC_F32_BSR)
#include <arm_neon.h>

#include "tinyeit_a64_f32.h"
#include "tinyeit_a64_s8.h"
#endif

#if defined(TINYEIT_A64_FC_S8_BSR)
/* the largest in_dim whose group indices stay below 2^14 (the LSR #14 address) */
#define A64_BSR_QUAD_N_MAX 65535

/* (*l, *h) += `quads` x 4 kept blocks: indices from *ip, weights from *w (both advanced). pair:
 * two blocks per int16 lane (only without -128 weights). */
static inline void a64_bsr_quads(const int8_t *x, const uint16_t **ip, const int8_t **w,
                                 uint64_t quads, int32x4_t *l, int32x4_t *h, const int pair)
{
    const uint16_t *i = *ip;
    const int8_t *wp = *w;
    int32x4_t lo = *l, hi = *h;
    uint64_t i0, i1, a0, a1;
    if (pair)
        __asm__("1:\n\t"
                "ldp    %w[i0], %w[i1], [%[ip]], #8\n\t"
                "add    %[a0], %[x], %w[i0], uxth #2\n\t"
                "add    %[i0], %[x], %[i0], lsr #14\n\t"
                "add    %[a1], %[x], %w[i1], uxth #2\n\t"
                "add    %[i1], %[x], %[i1], lsr #14\n\t"
                "ld1r   {v0.4s}, [%[a0]]\n\t"
                "ld1r   {v1.4s}, [%[i0]]\n\t"
                "ld1r   {v2.4s}, [%[a1]]\n\t"
                "ld1r   {v3.4s}, [%[i1]]\n\t"
                "ld1    {v4.16b, v5.16b, v6.16b, v7.16b}, [%[w]], #64\n\t"
                "smull  v16.8h, v4.8b, v0.8b\n\t"
                "smull2 v17.8h, v4.16b, v0.16b\n\t"
                "smull  v18.8h, v6.8b, v2.8b\n\t"
                "smull2 v19.8h, v6.16b, v2.16b\n\t"
                "smlal  v16.8h, v5.8b, v1.8b\n\t"
                "smlal2 v17.8h, v5.16b, v1.16b\n\t"
                "smlal  v18.8h, v7.8b, v3.8b\n\t"
                "smlal2 v19.8h, v7.16b, v3.16b\n\t"
                "sadalp %[lo].4s, v16.8h\n\t"
                "sadalp %[hi].4s, v17.8h\n\t"
                "sadalp %[lo].4s, v18.8h\n\t"
                "sadalp %[hi].4s, v19.8h\n\t"
                "subs   %[n], %[n], #1\n\t"
                "b.ne   1b\n\t"
                : [ip] "+r"(i), [w] "+r"(wp), [n] "+r"(quads), [lo] "+w"(lo), [hi] "+w"(hi),
                  [i0] "=&r"(i0), [i1] "=&r"(i1), [a0] "=&r"(a0), [a1] "=&r"(a1)
                : [x] "r"(x)
                : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v16", "v17", "v18", "v19",
                  "cc", "memory");
    else
        __asm__("1:\n\t"
                "ldp    %w[i0], %w[i1], [%[ip]], #8\n\t"
                "add    %[a0], %[x], %w[i0], uxth #2\n\t"
                "add    %[i0], %[x], %[i0], lsr #14\n\t"
                "add    %[a1], %[x], %w[i1], uxth #2\n\t"
                "add    %[i1], %[x], %[i1], lsr #14\n\t"
                "ld1r   {v0.4s}, [%[a0]]\n\t"
                "ld1r   {v1.4s}, [%[i0]]\n\t"
                "ld1r   {v2.4s}, [%[a1]]\n\t"
                "ld1r   {v3.4s}, [%[i1]]\n\t"
                "ld1    {v4.16b, v5.16b, v6.16b, v7.16b}, [%[w]], #64\n\t"
                "smull  v16.8h, v4.8b, v0.8b\n\t"
                "smull2 v17.8h, v4.16b, v0.16b\n\t"
                "smull  v18.8h, v5.8b, v1.8b\n\t"
                "smull2 v19.8h, v5.16b, v1.16b\n\t"
                "smull  v20.8h, v6.8b, v2.8b\n\t"
                "smull2 v21.8h, v6.16b, v2.16b\n\t"
                "smull  v22.8h, v7.8b, v3.8b\n\t"
                "smull2 v23.8h, v7.16b, v3.16b\n\t"
                "sadalp %[lo].4s, v16.8h\n\t"
                "sadalp %[hi].4s, v17.8h\n\t"
                "sadalp %[lo].4s, v18.8h\n\t"
                "sadalp %[hi].4s, v19.8h\n\t"
                "sadalp %[lo].4s, v20.8h\n\t"
                "sadalp %[hi].4s, v21.8h\n\t"
                "sadalp %[lo].4s, v22.8h\n\t"
                "sadalp %[hi].4s, v23.8h\n\t"
                "subs   %[n], %[n], #1\n\t"
                "b.ne   1b\n\t"
                : [ip] "+r"(i), [w] "+r"(wp), [n] "+r"(quads), [lo] "+w"(lo), [hi] "+w"(hi),
                  [i0] "=&r"(i0), [i1] "=&r"(i1), [a0] "=&r"(a0), [a1] "=&r"(a1)
                : [x] "r"(x)
                : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v16", "v17", "v18", "v19",
                  "v20", "v21", "v22", "v23", "cc", "memory");
    *ip = i;
    *w = wp;
    *l = lo;
    *h = hi;
}

/* One block of 4 units: the sums of its kept blocks ([u0, u1, u2, u3]); *ip (at the block's
 * count) and *w advance past them. quad: in_dim allows the assembly loop. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int32x4_t a64_bsr_sums(const int8_t *x, const uint16_t **ip, const int8_t **w,
                                     const int pair, int quad)
{
    const uint16_t *i = *ip;
    const int8_t *wp = *w;
    const int32_t count = *i++;
    int32x4_t lo = vdupq_n_s32(0), hi = lo;
    int32_t k = 0;
    if (quad && count >= 4) {
        a64_bsr_quads(x, &i, &wp, (uint64_t)(count >> 2), &lo, &hi, pair);
        k = count & ~3;
    }
    if (pair)
        for (; k + 2 <= count; k += 2, i += 2, wp += 32) {
            const int8x16_t x0 = a64_dup4(x + 4 * (int32_t)i[0]);
            const int8x16_t x1 = a64_dup4(x + 4 * (int32_t)i[1]);
            const int8x16_t w0 = vld1q_s8(wp), w1 = vld1q_s8(wp + 16);
            int16x8_t tl = vmull_s8(vget_low_s8(w0), vget_low_s8(x0));
            int16x8_t th = vmull_high_s8(w0, x0);
            tl = vmlal_s8(tl, vget_low_s8(w1), vget_low_s8(x1));
            th = vmlal_high_s8(th, w1, x1);
            lo = vpadalq_s16(lo, tl);
            hi = vpadalq_s16(hi, th);
        }
    for (; k < count; ++k, ++i, wp += 16) {
        const int8x16_t xv = a64_dup4(x + 4 * (int32_t)i[0]), wv = vld1q_s8(wp);
        lo = vpadalq_s16(lo, vmull_s8(vget_low_s8(wv), vget_low_s8(xv)));
        hi = vpadalq_s16(hi, vmull_high_s8(wv, xv));
    }
    *ip = i;
    *w = wp;
    return vpaddq_s32(lo, hi);
}

/* The products of a block's `tail` (1..3) last inputs: its 4 * tail weights (input by input,
 * the 4 units together) against xt (each tail input 4 times, zeros after); [u0, u1, u2, u3]. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int32x4_t a64_bsr_tail(const int8_t *w, int8x16_t xt, int32_t tail)
{
    int64_t d = 0;
    int32_t s = 0;
    int8x16_t wt;
    int16x8_t t0, t1;
    if (tail >= 2) memcpy(&d, w, 8);
    else memcpy(&s, w, 4);
    wt = vreinterpretq_s8_s64(vsetq_lane_s64(d, vdupq_n_s64(0), 0));
    if (tail == 3) {
        memcpy(&s, w + 8, 4);
        wt = vreinterpretq_s8_s32(vsetq_lane_s32(s, vreinterpretq_s32_s8(wt), 2));
    } else if (tail == 1) {
        wt = vreinterpretq_s8_s32(vsetq_lane_s32(s, vdupq_n_s32(0), 0));
    }
    t0 = vmull_s8(vget_low_s8(wt), vget_low_s8(xt));
    t1 = vmull_high_s8(wt, xt);
    return vaddw_s16(vaddl_s16(vget_low_s16(t0), vget_high_s16(t0)), vget_low_s16(t1));
}

void tinyeit_fc_s8_bsr(const int8_t *in, const int8_t *w, const uint16_t *idx,
                       const int32_t *bias, const int32_t *mult, const int32_t *shift,
                       const int8_t *post, int8_t *out, const tinyeit_fc_params *p)
{
    const int32_t n = p->in_dim, n4 = n & ~3, tail = n - n4, units = p->units;
    const int32_t full = units & ~3;
    const int single = p->single_round, pair = p->w_no_min != 0;
    const int quad = n <= A64_BSR_QUAD_N_MAX;
    int right;
    a64_outs O;
    int32_t b, u, k, j;
    if (p->w_offset != 0) {
        tinyeit_fc_s8_bsr_ref(in, w, idx, bias, mult, shift, post, out, p);
        return;
    }
    right = a64_all_right(shift, units);
    a64_outs_init(&O, p->out_offset, p->act_min, p->act_max, post, p->post_len);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = in + b * n, *wp = w;
        const uint16_t *ip = idx;
        int8_t *o = out + b * units;
        int8_t xb[16] __attribute__((aligned(16)));
        int8x16_t xt;
        memset(xb, 0, sizeof xb);
        for (j = 0; j < tail; ++j) memset(xb + 4 * j, x[n4 + j], 4);
        xt = vld1q_s8(xb);
        for (u = 0; u < full;) {  /* up to 4 blocks of 4 units, then their outputs */
            const int32_t nb = (full - u) >= 16 ? 4 : (full - u) >> 2;
            int16x4_t r[4];
            for (k = 0; k < nb; ++k) {
                int32x4_t a = a64_bsr_sums(x, &ip, &wp, pair, quad);
                if (tail) {
                    a = vaddq_s32(a, a64_bsr_tail(wp, xt, tail));
                    wp += 4 * tail;
                }
                r[k] = a64_rq4(vaddq_s32(a, vld1q_s32(bias + u + 4 * k)), mult + u + 4 * k,
                               shift + u + 4 * k, single, right);
            }
            if (nb >= 2) a64_put8(vcombine_s16(r[0], r[1]), &O, u, 8, o + u);
            if (nb == 4) a64_put8(vcombine_s16(r[2], r[3]), &O, u + 8, 8, o + u + 8);
            else if (nb == 3) a64_put8(vcombine_s16(r[2], r[2]), &O, u + 8, 4, o + u + 8);
            else if (nb == 1) a64_put8(vcombine_s16(r[0], r[0]), &O, u, 4, o + u);
            u += 4 * nb;
        }
        for (; u < units; ++u, wp += n) {
            const int32_t acc = bias[u] + a64_dot1_s8(x, wp, n);
            o[u] = epilogue_s8(acc, mult[u], shift[u], single, p->cheap_rq, p->out_offset,
                               p->act_min, p->act_max, post ? post + u * p->post_len : NULL);
        }
    }
}
#endif

#if defined(TINYEIT_A64_FC_F32_BSR)
/* low / high: which clamp bounds can bite (a64_bites_*), constants after inlining. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void a64_fc_f32_bsr_t(const float *in, const float *w, const uint16_t *idx,
                                    const float *bias, float *out, const tinyeit_fc_params *p,
                                    const int low, const int high)
{
    const int32_t n = p->in_dim, n4 = n & ~3, tail = n - n4, units = p->units;
    const float32x4_t lo = vdupq_n_f32(p->f_min), hi = vdupq_n_f32(p->f_max);
    int32_t b, u, k, j;
    for (b = 0; b < p->batches; ++b) {
        const float *x = in + b * n, *wp = w;
        const uint16_t *ip = idx;
        float *o = out + b * units;
        for (u = 0; u + 4 <= units; u += 4) {
            const int32_t count = *ip++;
            float32x4_t acc = vdupq_n_f32(0.0f);
            for (k = 0; k < count; ++k, wp += 16) {
                const float32x4_t xv = vld1q_f32(x + 4 * (int32_t)ip[k]);
                const float32x4x4_t wv = vld1q_f32_x4(wp);
                acc = vaddq_f32(acc, vmulq_laneq_f32(wv.val[0], xv, 0));
                acc = vaddq_f32(acc, vmulq_laneq_f32(wv.val[1], xv, 1));
                acc = vaddq_f32(acc, vmulq_laneq_f32(wv.val[2], xv, 2));
                acc = vaddq_f32(acc, vmulq_laneq_f32(wv.val[3], xv, 3));
            }
            ip += count;
            for (j = 0; j < tail; ++j, wp += 4)
                acc = vaddq_f32(acc, vmulq_f32(vld1q_dup_f32(x + n4 + j), vld1q_f32(wp)));
            if (bias) acc = vaddq_f32(acc, vld1q_f32(bias + u));
            vst1q_f32(o + u, a64_clamp4(acc, lo, hi, low, high));
        }
        for (; u < units; ++u, wp += n) {
            float acc = tinyeit_dot_f32(0.0f, x, wp, n);
            if (bias) acc += bias[u];
            o[u] = clamp_f(acc, p->f_min, p->f_max);
        }
    }
}

void tinyeit_fc_f32_bsr(const float *in, const float *w, const uint16_t *idx, const float *bias,
                        float *out, const tinyeit_fc_params *p)
{
    const int low = a64_bites_low(p->f_min), high = a64_bites_high(p->f_max);
    if (low && high) a64_fc_f32_bsr_t(in, w, idx, bias, out, p, 1, 1);
    else if (low) a64_fc_f32_bsr_t(in, w, idx, bias, out, p, 1, 0);
    else if (high) a64_fc_f32_bsr_t(in, w, idx, bias, out, p, 0, 1);
    else a64_fc_f32_bsr_t(in, w, idx, bias, out, p, 0, 0);
}
#endif
