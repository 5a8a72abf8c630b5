/* AArch64 NEON int8 helpers shared by the dense fully connected / conv kernels
 * (tinyeit_a64_fully_connected.c), the block-sparse one (tinyeit_a64_sparse.c) and the hybrid
 * one (tinyeit_a64_hybrid.c), each in its own translation unit: the broadcast input word, a
 * plain-row dot product, the packed blocks' int32 sums (a64_fc_blocks), the requantization 4
 * lanes at a time (its proofs: the header of tinyeit_a64_fully_connected.c) and the output
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

/* 1 when every one of the n shifts is negative (a right shift): a64_rq4's short forms. Not
 * inline (gcc's choice, as before), unused where only a64_fc_blocks is (the hybrid unit). */
#if defined(__GNUC__)
__attribute__((unused))
#endif
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

/* The hot loop of a64_fc_blocks (4 blocks, two groups per int16 lane), `steps` (>= 1) times 16
 * inputs, in assembly: gcc's own allocation of the four-register LD1 copies and spills. Per
 * step one input load and four DUPs serve 16 units; per block one LD1 of 64 bytes, 4 SMULL(2),
 * 4 SMLAL(2) (unit r's products of groups g and g + 1 in the same lane), 4 SADALP. The same
 * arithmetic as the intrinsics' loop below. */
#define A64_PAIR_BLOCK(W, L, H, V0, V1, V2, V3, T0, T1, T2, T3)                              \
    "ld1    {" V0 ".16b, " V1 ".16b, " V2 ".16b, " V3 ".16b}, [%[" W "]], #64\n\t"               \
    "smull  " T0 ".8h, " V0 ".8b, v1.8b\n\t"                                                  \
    "smull2 " T1 ".8h, " V0 ".16b, v1.16b\n\t"                                                \
    "smull  " T2 ".8h, " V2 ".8b, v3.8b\n\t"                                                  \
    "smull2 " T3 ".8h, " V2 ".16b, v3.16b\n\t"                                                \
    "smlal  " T0 ".8h, " V1 ".8b, v2.8b\n\t"                                                  \
    "smlal2 " T1 ".8h, " V1 ".16b, v2.16b\n\t"                                                \
    "smlal  " T2 ".8h, " V3 ".8b, v4.8b\n\t"                                                  \
    "smlal2 " T3 ".8h, " V3 ".16b, v4.16b\n\t"                                                \
    "sadalp %[" L "].4s, " T0 ".8h\n\t"                                                       \
    "sadalp %[" H "].4s, " T1 ".8h\n\t"                                                       \
    "sadalp %[" L "].4s, " T2 ".8h\n\t"                                                       \
    "sadalp %[" H "].4s, " T3 ".8h\n\t"

static inline void a64_pair16x4(const int8_t *x, const int8_t **wp, int32_t steps,
                                int32x4_t *lo, int32x4_t *hi)
{
    const int8_t *w0 = wp[0], *w1 = wp[1], *w2 = wp[2], *w3 = wp[3];
    int32x4_t l0 = lo[0], l1 = lo[1], l2 = lo[2], l3 = lo[3];
    int32x4_t h0 = hi[0], h1 = hi[1], h2 = hi[2], h3 = hi[3];
    uint64_t n = (uint64_t)steps;
    __asm__("1:\n\t"
            "ldr    q0, [%[x]], #16\n\t"
            "dup    v1.4s, v0.s[0]\n\t"
            "dup    v2.4s, v0.s[1]\n\t"
            "dup    v3.4s, v0.s[2]\n\t"
            "dup    v4.4s, v0.s[3]\n\t"
            A64_PAIR_BLOCK("w0", "l0", "h0", "v24", "v25", "v26", "v27", "v5", "v6", "v7", "v16")
            A64_PAIR_BLOCK("w1", "l1", "h1", "v28", "v29", "v30", "v31", "v17", "v18", "v19", "v20")
            A64_PAIR_BLOCK("w2", "l2", "h2", "v24", "v25", "v26", "v27", "v5", "v6", "v7", "v16")
            A64_PAIR_BLOCK("w3", "l3", "h3", "v28", "v29", "v30", "v31", "v17", "v18", "v19", "v20")
            "subs   %[n], %[n], #1\n\t"
            "b.ne   1b\n\t"
            : [x] "+r"(x), [w0] "+r"(w0), [w1] "+r"(w1), [w2] "+r"(w2), [w3] "+r"(w3),
              [n] "+r"(n), [l0] "+w"(l0), [l1] "+w"(l1), [l2] "+w"(l2), [l3] "+w"(l3),
              [h0] "+w"(h0), [h1] "+w"(h1), [h2] "+w"(h2), [h3] "+w"(h3)
            :
            : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v16", "v17", "v18", "v19",
              "v20", "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31", "cc", "memory");
    wp[0] = w0; wp[1] = w1; wp[2] = w2; wp[3] = w3;
    lo[0] = l0; lo[1] = l1; lo[2] = l2; lo[3] = l3;
    hi[0] = h0; hi[1] = h1; hi[2] = h2; hi[3] = h3;
}

/* NB (1, 2 or 4) packed blocks of 4 units from w (block stride 4 n) against x: out[b] = the
 * block's 4 sums. pair: two groups per int16 lane (only without -128 weights). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void a64_fc_blocks(const int8_t *x, const int8_t *w, int32_t n, const int NB,
                                 int pair, int32x4_t *out)
{
    const int32_t n4 = n & ~3;
    const int8_t *wp[4];
    int32x4_t lo[4], hi[4];
    int32_t g, j, b;
#pragma GCC unroll 4
    for (b = 0; b < NB; ++b) {
        wp[b] = w + b * 4 * n;
        lo[b] = vdupq_n_s32(0);
        hi[b] = lo[b];
    }
    g = 0;
    if (pair) {
        if (NB == 4 && n4 >= 16) {
            a64_pair16x4(x, wp, n4 >> 4, lo, hi);
            g = n4 & ~15;
        }
        for (; g + 16 <= n4; g += 16) {  /* 16 inputs: one load, one LD1 of 64 bytes a block */
            const int32x4_t xv = vreinterpretq_s32_s8(vld1q_s8(x + g));
            const int8x16_t x0 = vreinterpretq_s8_s32(vdupq_laneq_s32(xv, 0));
            const int8x16_t x1 = vreinterpretq_s8_s32(vdupq_laneq_s32(xv, 1));
            const int8x16_t x2 = vreinterpretq_s8_s32(vdupq_laneq_s32(xv, 2));
            const int8x16_t x3 = vreinterpretq_s8_s32(vdupq_laneq_s32(xv, 3));
#pragma GCC unroll 4
            for (b = 0; b < NB; ++b) {
                const int8x16x4_t wv = vld1q_s8_x4(wp[b]);
                int16x8_t tl = vmull_s8(vget_low_s8(wv.val[0]), vget_low_s8(x0));
                int16x8_t th = vmull_high_s8(wv.val[0], x0);
                int16x8_t ul = vmull_s8(vget_low_s8(wv.val[2]), vget_low_s8(x2));
                int16x8_t uh = vmull_high_s8(wv.val[2], x2);
                tl = vmlal_s8(tl, vget_low_s8(wv.val[1]), vget_low_s8(x1));
                th = vmlal_high_s8(th, wv.val[1], x1);
                ul = vmlal_s8(ul, vget_low_s8(wv.val[3]), vget_low_s8(x3));
                uh = vmlal_high_s8(uh, wv.val[3], x3);
                lo[b] = vpadalq_s16(lo[b], tl);
                hi[b] = vpadalq_s16(hi[b], th);
                lo[b] = vpadalq_s16(lo[b], ul);
                hi[b] = vpadalq_s16(hi[b], uh);
                wp[b] += 64;
            }
        }
        for (; g + 8 <= n4; g += 8) {
            const int8x16_t x0 = a64_dup4(x + g), x1 = a64_dup4(x + g + 4);
#pragma GCC unroll 4
            for (b = 0; b < NB; ++b) {
                const int8x16_t w0 = vld1q_s8(wp[b]), w1 = vld1q_s8(wp[b] + 16);
                int16x8_t tl = vmull_s8(vget_low_s8(w0), vget_low_s8(x0));
                int16x8_t th = vmull_high_s8(w0, x0);
                tl = vmlal_s8(tl, vget_low_s8(w1), vget_low_s8(x1));
                th = vmlal_high_s8(th, w1, x1);
                lo[b] = vpadalq_s16(lo[b], tl);
                hi[b] = vpadalq_s16(hi[b], th);
                wp[b] += 32;
            }
        }
    }
    for (; g + 16 <= n4; g += 16) {  /* one product per lane: 16 inputs per step all the same */
        const int32x4_t xv = vreinterpretq_s32_s8(vld1q_s8(x + g));
        const int8x16_t x0 = vreinterpretq_s8_s32(vdupq_laneq_s32(xv, 0));
        const int8x16_t x1 = vreinterpretq_s8_s32(vdupq_laneq_s32(xv, 1));
        const int8x16_t x2 = vreinterpretq_s8_s32(vdupq_laneq_s32(xv, 2));
        const int8x16_t x3 = vreinterpretq_s8_s32(vdupq_laneq_s32(xv, 3));
#pragma GCC unroll 4
        for (b = 0; b < NB; ++b) {
            const int8x16x4_t wv = vld1q_s8_x4(wp[b]);
            lo[b] = vpadalq_s16(lo[b], vmull_s8(vget_low_s8(wv.val[0]), vget_low_s8(x0)));
            hi[b] = vpadalq_s16(hi[b], vmull_high_s8(wv.val[0], x0));
            lo[b] = vpadalq_s16(lo[b], vmull_s8(vget_low_s8(wv.val[1]), vget_low_s8(x1)));
            hi[b] = vpadalq_s16(hi[b], vmull_high_s8(wv.val[1], x1));
            lo[b] = vpadalq_s16(lo[b], vmull_s8(vget_low_s8(wv.val[2]), vget_low_s8(x2)));
            hi[b] = vpadalq_s16(hi[b], vmull_high_s8(wv.val[2], x2));
            lo[b] = vpadalq_s16(lo[b], vmull_s8(vget_low_s8(wv.val[3]), vget_low_s8(x3)));
            hi[b] = vpadalq_s16(hi[b], vmull_high_s8(wv.val[3], x3));
            wp[b] += 64;
        }
    }
    for (; g < n4; g += 4) {
        const int8x16_t x0 = a64_dup4(x + g);
#pragma GCC unroll 4
        for (b = 0; b < NB; ++b) {
            const int8x16_t w0 = vld1q_s8(wp[b]);
            lo[b] = vpadalq_s16(lo[b], vmull_s8(vget_low_s8(w0), vget_low_s8(x0)));
            hi[b] = vpadalq_s16(hi[b], vmull_high_s8(w0, x0));
            wp[b] += 16;
        }
    }
#pragma GCC unroll 4
    for (b = 0; b < NB; ++b) out[b] = vpaddq_s32(lo[b], hi[b]);
    for (j = n4; j < n; ++j) {
        const int32_t xj = x[j];
#pragma GCC unroll 4
        for (b = 0; b < NB; ++b) {
            int32_t wv;
            memcpy(&wv, wp[b], sizeof wv);
            out[b] = vmlaq_n_s32(out[b], vmovl_s16(vget_low_s16(vmovl_s8(vreinterpret_s8_s32(
                                     vdup_n_s32(wv))))), xj);
            wp[b] += 4;
        }
    }
}

#endif
#endif
