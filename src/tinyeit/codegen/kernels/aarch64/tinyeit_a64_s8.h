/* AArch64 NEON int8 helpers shared by the dense fully connected / conv kernels
 * (tinyeit_a64_fully_connected.c) and the block-sparse one (tinyeit_a64_sparse.c, another
 * translation unit): the broadcast input word, a plain-row dot product, the requantization
 * 4 lanes at a time (its proofs: the header of tinyeit_a64_fully_connected.c) and the output
 * stage (zero point, clamp, folded table). */
#ifndef TINYEIT_A64_S8_H
#define TINYEIT_A64_S8_H

#include "tinyeit_common.h"

#if defined(TINYEIT_AARCH64_NEON)
#include <arm_neon.h>

static inline int8x16_t a64_dup4(const int8_t *x)
{
    int32_t v;
    memcpy(&v, x, sizeof v);
    return vreinterpretq_s8_s32(vdupq_n_s32(v));
}

/* dot(x, w) over n elements: 16 at a time in SMULL/SMULL2 widened by SADALP. */
static inline int32_t a64_dot1_s8(const int8_t *x, const int8_t *w, int32_t n)
{
    int32x4_t acc = vdupq_n_s32(0);
    int32_t k = 0, s;
    for (; k + 16 <= n; k += 16) {
        const int8x16_t xv = vld1q_s8(x + k), wv = vld1q_s8(w + k);
        acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(xv), vget_low_s8(wv)));
        acc = vpadalq_s16(acc, vmull_high_s8(xv, wv));
    }
    for (; k + 8 <= n; k += 8)
        acc = vpadalq_s16(acc, vmull_s8(vld1_s8(x + k), vld1_s8(w + k)));
    s = vaddvq_s32(acc);
    for (; k < n; ++k) s += (int32_t)x[k] * (int32_t)w[k];
    return s;
}

/* 1 when every one of the n shifts is negative (a right shift): a64_rq4's short forms. */
static int a64_all_right(const int32_t *shift, int32_t n)
{
    int32x4_t m = vdupq_n_s32(INT32_MIN);
    int32_t i = 0, s;
    for (; i + 4 <= n; i += 4) m = vmaxq_s32(m, vld1q_s32(shift + i));
    s = vmaxvq_s32(m);
    for (; i < n; ++i) s = shift[i] > s ? shift[i] : s;
    return s < 0;
}

/* Four accumulators requantized (single or double rounding), saturated to int16. */
static inline int16x4_t a64_rq4v(int32x4_t a, int32x4_t m, int32x4_t sh, int single,
                                 int right)
{
    if (right) {
        if (single) {
            a = vrshlq_s32(vqdmulhq_s32(a, m), sh);
        } else {
            a = vqrdmulhq_s32(a, m);
            a = vrshlq_s32(vsraq_n_s32(a, a, 31), sh);
        }
    } else if (single) {
        const int64x2_t t_lo = vmovl_s32(vsub_s32(vdup_n_s32(31), vget_low_s32(sh)));
        const int64x2_t t_hi = vmovl_s32(vsub_s32(vdup_n_s32(31), vget_high_s32(sh)));
        const int64x2_t one = vdupq_n_s64(1);
        int64x2_t lo = vmull_s32(vget_low_s32(a), vget_low_s32(m));
        int64x2_t hi = vmull_high_s32(a, m);
        lo = vaddq_s64(lo, vshlq_s64(one, vsubq_s64(t_lo, one)));
        hi = vaddq_s64(hi, vshlq_s64(one, vsubq_s64(t_hi, one)));
        lo = vshlq_s64(lo, vnegq_s64(t_lo));
        hi = vshlq_s64(hi, vnegq_s64(t_hi));
        a = vcombine_s32(vmovn_s64(lo), vmovn_s64(hi));
    } else {
        const int32x4_t zero = vdupq_n_s32(0);
        const int32x4_t rs = vminq_s32(sh, zero);
        int32x4_t fix;
        a = vqrdmulhq_s32(vshlq_s32(a, vmaxq_s32(sh, zero)), m);
        fix = vshrq_n_s32(vandq_s32(a, rs), 31);
        a = vrshlq_s32(vqaddq_s32(a, fix), rs);
    }
    return vqmovn_s32(a);
}

static inline int16x4_t a64_rq4(int32x4_t a, const int32_t *mult, const int32_t *shift,
                                int single, int right)
{
    return a64_rq4v(a, vld1q_s32(mult), vld1q_s32(shift), single, right);
}

/* The output stage's constants: zero point, clamp, the folded table (NULL: none) with its row
 * length and, per lane, lane * post_len - act_min (the lane's row start minus the clamp's
 * low end: an int16 index once the clamped output is added). */
typedef struct {
    int16x8_t off, lo, hi, base;
    const int8_t *post;
    int32_t post_len;
} a64_outs;

static inline void a64_outs_init(a64_outs *O, int32_t out_offset, int32_t act_min,
                                 int32_t act_max, const int8_t *post, int32_t post_len)
{
    static const int16_t iota[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    O->off = vdupq_n_s16((int16_t)out_offset);
    O->lo = vdupq_n_s16((int16_t)act_min);
    O->hi = vdupq_n_s16((int16_t)act_max);
    O->base = vsubq_s16(vmulq_n_s16(vld1q_s16(iota), (int16_t)post_len), O->lo);
    O->post = post;
    O->post_len = post_len;
}

#define A64_POST(i) o[i] = row[vgetq_lane_u16(idx, i)]
#define A64_LANE(i) vst1_lane_s8(o + (i), b, i)

/* The first `count` (1..8) of 8 requantized outputs of channels c0..: zero point, clamp, then
 * the store or the table look-up (constant lanes: each output one UMOV, LDRB, STRB). */
static inline void a64_put8(int16x8_t v, const a64_outs *O, int32_t c0, int32_t count,
                            int8_t *o)
{
    v = vminq_s16(vmaxq_s16(vqaddq_s16(v, O->off), O->lo), O->hi);
    if (O->post) {
        const int8_t *row = O->post + c0 * O->post_len;
        const uint16x8_t idx = vreinterpretq_u16_s16(vaddq_s16(v, O->base));
        if (count == 8) {
            A64_POST(0); A64_POST(1); A64_POST(2); A64_POST(3);
            A64_POST(4); A64_POST(5); A64_POST(6); A64_POST(7);
            return;
        }
        switch (count) {
        case 8: A64_POST(7); /* fall through */
        case 7: A64_POST(6); /* fall through */
        case 6: A64_POST(5); /* fall through */
        case 5: A64_POST(4); /* fall through */
        case 4: A64_POST(3); /* fall through */
        case 3: A64_POST(2); /* fall through */
        case 2: A64_POST(1); /* fall through */
        default: A64_POST(0);
        }
    } else if (count == 8) {
        vst1_s8(o, vmovn_s16(v));
    } else {
        const int8x8_t b = vmovn_s16(v);
        switch (count) {
        case 7: A64_LANE(6); /* fall through */
        case 6: A64_LANE(5); /* fall through */
        case 5: A64_LANE(4); /* fall through */
        case 4: A64_LANE(3); /* fall through */
        case 3: A64_LANE(2); /* fall through */
        case 2: A64_LANE(1); /* fall through */
        default: A64_LANE(0);
        }
    }
}

#endif
#endif
