/* AArch64 NEON (ARMv8.0: no SDOT) int8 fully connected and conv, and the float fully connected.
 *
 * int8 fully connected (tinyeit_fc_s8, packed weights: tinyeit_kernels.h): up to four blocks
 * of 4 units share each broadcast group of 4 inputs, so one input load serves 16 units. One
 * 16-byte weight load holds 4 inputs of 4 units; SMULL/SMULL2 against the broadcast inputs
 * give int16 products, SADALP adds neighbouring ones into int32 lanes, a final ADDP leaves one
 * sum per unit. Where the generator has seen no weight of -128 (w_no_min), two groups share
 * one int16 lane (SMULL then SMLAL, same unit per lane): |w| <= 127 and |x| <= 128 bound the
 * lane by 2 * 127 * 128 = 32512 < 2^15, and half the SADALPs go. A -128 weight (LiteRT never
 * makes one, the property suite does) against a -128 input twice would reach 32768: those
 * layers keep one product per lane. Integer sums in another order: the reference's result.
 *
 * int8 conv (tinyeit_conv_s8): the conv cost of a 1-D CNN is per output, not per MAC (3 taps,
 * 25 channels, a folded BatchNorm table), so it is vectorised across outputs. One input
 * channel along a row (a64_conv_row): across positions, the table looked up by TBL/TBX 16
 * outputs at a time. Other small filters (k_h * k_w * in_c <= A64_CONV_K_MAX): across output
 * channels, the filters widened once per call into an int16 [tap][channel] table on the stack,
 * each tap's input broadcast, SMLAL/SMLAL2 for 8 channels, requantized and stored (or looked
 * up) 8 at a time. Larger filters: each window against the packed filters as a fully
 * connected row (one product per lane: conv filters are not checked for -128).
 *
 * Requantization, 4 lanes at a time (a64_rq4); proofs in tests/test_codegen_neon_int8.py:
 * - all shifts negative (every study layer; a64_all_right checks per call): double rounding
 *   (TFLite's MultiplyByQuantizedMultiplier) is SQRDMULH, SSRA #31 (the -1 for negatives of
 *   the rounding divide; cannot wrap: without a left shift |a * m| <= 2^31 (2^31 - 1), so the
 *   high half is > INT32_MIN), SRSHL (adds 2^(r-1) before the shift in full precision);
 *   LiteRT's single rounding (acc * m + 2^(30+r)) >> (31+r) is SQDMULH (floor(acc * m / 2^31))
 *   then SRSHL, since floor((floor(P / 2^31) + 2^(r-1)) / 2^r) = floor((P + 2^(30+r)) / 2^(31+r)).
 * - else the general forms: left shift, SQRDMULH, sign fix-up, SRSHL; single rounding as a
 *   64-bit product shifted with its rounding bit.
 * Multipliers are the generator's (0 <= m < 2^31). The result is saturated to int16, the zero
 * point added with saturation, clamped in int16: saturation is monotone and the identity on
 * every value that can land inside [act_min, act_max], so the clamp sees what the reference's
 * int32 sum gives. */
#include "tinyeit_common.h"

#if defined(TINYEIT_AARCH64_NEON)
#include <arm_neon.h>

#include "tinyeit_a64_f32.h"
#include "tinyeit_a64_s8.h"

/* The output stage of NB blocks (4 NB units from u). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void a64_fc_out(int32x4_t *a, const int NB, int32_t u, const int32_t *bias,
                              const int32_t *mult, const int32_t *shift, int single, int right,
                              const a64_outs *O, int8_t *o)
{
    int32_t b;
    int16x4_t r[4];
#pragma GCC unroll 4
    for (b = 0; b < NB; ++b)
        r[b] = a64_rq4(vaddq_s32(a[b], vld1q_s32(bias + u + 4 * b)), mult + u + 4 * b,
                       shift + u + 4 * b, single, right);
    if (NB == 1) {
        a64_put8(vcombine_s16(r[0], r[0]), O, u, 4, o + u);
        return;
    }
#pragma GCC unroll 2
    for (b = 0; b < NB; b += 2)
        a64_put8(vcombine_s16(r[b], r[b + 1]), O, u + 4 * b, 8, o + u + 4 * b);
}

/* One input vector against `units` packed units: the body of fully connected, and of conv per
 * output position (large filters). */
static void a64_fc_row(const int8_t *x, const int8_t *w, int32_t n, int32_t units,
                       const int32_t *bias, const int32_t *mult, const int32_t *shift,
                       const tinyeit_epi *e, const a64_outs *O, int pair, int right, int8_t *o)
{
    const int single = e->single_round;
    int32_t u;
    int32x4_t a[4];
    for (u = 0; u + 16 <= units; u += 16) {
        a64_fc_blocks(x, w + u * n, n, 4, pair, a);
        a64_fc_out(a, 4, u, bias, mult, shift, single, right, O, o);
    }
    if (u + 8 <= units) {
        a64_fc_blocks(x, w + u * n, n, 2, pair, a);
        a64_fc_out(a, 2, u, bias, mult, shift, single, right, O, o);
        u += 8;
    }
    if (u + 4 <= units) {
        a64_fc_blocks(x, w + u * n, n, 1, pair, a);
        a64_fc_out(a, 1, u, bias, mult, shift, single, right, O, o);
        u += 4;
    }
    for (; u < units; ++u) {
        const int32_t acc = bias[u] + a64_dot1_s8(x, w + u * n, n);
        o[u] = epilogue_s8(acc, mult[u], shift[u], e->single_round, e->cheap_rq, e->out_offset,
                           e->act_min, e->act_max, O->post ? O->post + u * e->post_len : NULL);
    }
}

void tinyeit_fc_s8(const int8_t *in, const int8_t *w, const int32_t *bias, const int32_t *mult,
                   const int32_t *shift, const int8_t *post, int8_t *out,
                   const tinyeit_fc_params *p)
{
    const tinyeit_epi e = {p->out_offset, p->act_min, p->act_max, p->single_round, p->cheap_rq,
                           p->post_len};
    const int right = a64_all_right(shift, p->units);
    a64_outs O;
    int32_t b;
    if (p->w_offset != 0) {
        tinyeit_fc_s8_ref(in, w, bias, mult, shift, post, out, p);
        return;
    }
    a64_outs_init(&O, p->out_offset, p->act_min, p->act_max, post, p->post_len);
    for (b = 0; b < p->batches; ++b)
        a64_fc_row(in + b * p->in_dim, w, p->in_dim, p->units, bias, mult, shift, &e, &O,
                   p->w_no_min, right, out + b * p->units);
}

/* Small filters across channels (A64_CONV_K_MAX taps x A64_CONV_C_MAX channels of int16 on the
 * stack: 4 KB). */
#define A64_CONV_K_MAX 16
#define A64_CONV_C_MAX 128

/* n int32 from src, then up to np the value fill (np a multiple of 4). */
static inline void a64_pad_copy(int32_t *dst, const int32_t *src, int32_t n, int32_t np,
                                int32_t fill)
{
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) vst1q_s32(dst + i, vld1q_s32(src + i));
    for (; i < n; ++i) dst[i] = src[i];
    for (; i < np; ++i) dst[i] = fill;
}

/* K (a constant where inlined) taps; Cp = out_c rounded up to 8; wt [K][Cp] int16; bi, mu, sh:
 * bias, multiplier, shift padded to Cp. Positions outer, 8-channel groups inner. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void a64_conv_s8_small(const int8_t *in, const int16_t *wt, const int32_t *bi,
                                  const int32_t *mu, const int32_t *sh, const a64_outs *O,
                                  int8_t *out, const tinyeit_conv_params *p, const int32_t K,
                                  int32_t Cp, int right, int8_t *patch)
{
    const int32_t C = p->out_c;
    int32_t b, oy, ox, c, k;
    int8_t *o = out;
    int16x8_t xd[4];
    for (b = 0; b < p->batches; ++b)
        for (oy = 0; oy < p->out_h; ++oy)
            for (ox = 0; ox < p->out_w; ++ox, o += C) {
                const int8_t *win = conv_window(in, p, b, oy, ox, patch);
                if (K <= 4) {  /* the broadcast inputs held across the channel groups */
#pragma GCC unroll 4
                    for (k = 0; k < K; ++k) xd[k] = vdupq_n_s16(win[k]);
                }
                for (c = 0; c < Cp; c += 8) {
                    int32x4_t a0 = vld1q_s32(bi + c), a1 = vld1q_s32(bi + c + 4);
#pragma GCC unroll 4
                    for (k = 0; k < K; ++k) {
                        const int16x8_t wv = vld1q_s16(wt + k * Cp + c);
                        const int16x8_t xv = K <= 4 ? xd[k & 3] : vdupq_n_s16(win[k]);
                        a0 = vmlal_s16(a0, vget_low_s16(wv), vget_low_s16(xv));
                        a1 = vmlal_high_s16(a1, wv, xv);
                    }
                    a64_put8(vcombine_s16(a64_rq4(a0, mu + c, sh + c, 0, right),
                                          a64_rq4(a1, mu + c + 4, sh + c + 4, 0, right)),
                             O, c, C - c < 8 ? C - c : 8, o + c);
                }
            }
}

/* 1-D convs of one input channel (k_h 1, in_c 1, stride and dilation 1 along the row, rows
 * inside the input: the first conv of a 1-D CNN on a raw signal) across output positions: per
 * input row its values widened to int16 once, the zero point in the padding (conv_window's
 * rule); per channel its taps broadcast, then 16 positions per step (8 for the last ones):
 * SMLAL per tap, the requantization, the clamp, and the folded table as TBL/TBX over 64 bytes
 * of it at a time, so that no output is looked up alone; each output stored with one lane
 * store. */
#define A64_ROW_MAX 512

static int a64_conv_row_ok(const tinyeit_conv_params *p)
{
    return p->in_c == 1 && p->k_h == 1 && p->stride_w == 1 && p->dil_w == 1 && p->pad_h == 0 &&
           p->k_w <= 8 && (p->out_h - 1) * p->stride_h < p->in_h && p->out_c <= A64_CONV_C_MAX &&
           ((p->out_w + 15) & ~15) + 8 <= A64_ROW_MAX && p->pad_w >= 0 &&
           p->pad_w + p->in_w <= A64_ROW_MAX;
}

/* lane i of r to o, then o += C: one ST1 post-indexed by a register (gcc makes two
 * instructions of vst1q_lane_s8 and a pointer step) */
#define A64_ST(i) __asm__ volatile("st1 {%1.b}[" #i "], [%0], %2" : "+r"(o) : "w"(r), "r"(cstep) : "memory")
#define A64_ST8(i) __asm__ volatile("st1 {%1.b}[" #i "], [%0], %2" : "+r"(o) : "w"(r8), "r"(cstep) : "memory")

/* The row's int16 inputs xr[0 .. end): input element j - pad_w, the zero point outside. */
static void a64_row_s16(int16_t *xr, const int8_t *row, int32_t in_w, int32_t pad_w,
                        int32_t end, int8_t zp)
{
    const int16x8_t z = vdupq_n_s16(zp);
    int32_t j, k;
    for (j = 0; j < end; j += 8) vst1q_s16(xr + j, z);
    for (k = 0; k + 8 <= in_w; k += 8) vst1q_s16(xr + pad_w + k, vmovl_s8(vld1_s8(row + k)));
    for (; k < in_w; ++k) xr[pad_w + k] = row[k];
}

/* Requantize, offset, clamp 8 sums (two int32x4) of one channel. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int16x8_t a64_rq8_ch(int32x4_t a0, int32x4_t a1, int32x4_t mv, int32x4_t sv,
                                   int right, int16x8_t off, int16x8_t lo, int16x8_t hi)
{
    const int16x8_t v = vcombine_s16(a64_rq4v(a0, mv, sv, 0, right),
                                     a64_rq4v(a1, mv, sv, 0, right));
    return vminq_s16(vmaxq_s16(vqaddq_s16(v, off), lo), hi);
}

#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void a64_conv_row_t(const int8_t *in, const int16_t *wt, const int32_t *bias,
                                  const int32_t *mult, const int32_t *shift,
                                  const int8_t *post, int8_t *out,
                                  const tinyeit_conv_params *p, const int K, const int tbl,
                                  int right)
{
    const int32_t C = p->out_c, W = p->out_w, Wp = (W + 15) & ~15, L = p->post_len;
    const int16x8_t off = vdupq_n_s16((int16_t)p->out_offset);
    const int16x8_t lo = vdupq_n_s16((int16_t)p->act_min), hi = vdupq_n_s16((int16_t)p->act_max);
    const int64_t cstep = C;
    int16_t xr[A64_ROW_MAX] __attribute__((aligned(16)));
    int8_t last[256] __attribute__((aligned(16)));
    int32_t b, oy, c, x, j;
    for (b = 0; b < p->batches; ++b)
    for (oy = 0; oy < p->out_h; ++oy) {
        const int8_t *row = in + (b * p->in_h + oy * p->stride_h) * p->in_w;
        int8_t *orow = out + (b * p->out_h + oy) * W * C;
        /* K = 8 reads up to Wp + 7 (zero weights past the taps) */
        a64_row_s16(xr, row, p->in_w, p->pad_w, Wp + 8, (int8_t)(-p->in_offset));
        for (c = 0; c < C; ++c) {
            const int32x4_t bv = vdupq_n_s32(bias[c]), mv = vdupq_n_s32(mult[c]);
            const int32x4_t sv = vdupq_n_s32(shift[c]);
            const uint8x16_t s64 = vdupq_n_u8(64), s128 = vdupq_n_u8(128);
            const uint8x16_t s192 = vdupq_n_u8(192);
            int16x8_t wd[8];
            int8x16x4_t t0, t1, t2, t3;
#pragma GCC unroll 8
            for (j = 0; j < K; ++j) wd[j] = vld1q_dup_s16(wt + j * C + c);
            if (tbl) {
                /* 256 bytes from the row (past a short row: the next rows' bytes, never
                 * indexed), or from a copy where that would pass the table's end */
                const int8_t *tr = post + c * L;
                if ((C - c) * L < 256) {
                    memcpy(last, tr, (size_t)L);
                    tr = last;
                }
                t0 = vld1q_s8_x4(tr);
                t1 = vld1q_s8_x4(tr + 64);
                t2 = vld1q_s8_x4(tr + 128);
                t3 = vld1q_s8_x4(tr + 192);
            }
            for (x = 0; x + 8 < W; x += 16) {  /* 16 positions (the last up to 7 unused) */
                int32x4_t a0 = bv, a1 = bv, a2 = bv, a3 = bv;
                int16x8_t v0, v1;
                int8x16_t r;
                int8_t *o = orow + x * C + c;
#pragma GCC unroll 8
                for (j = 0; j < K; ++j) {
                    const int16x8_t xl = vld1q_s16(xr + x + j), xh = vld1q_s16(xr + x + 8 + j);
                    a0 = vmlal_s16(a0, vget_low_s16(xl), vget_low_s16(wd[j]));
                    a1 = vmlal_high_s16(a1, xl, wd[j]);
                    a2 = vmlal_s16(a2, vget_low_s16(xh), vget_low_s16(wd[j]));
                    a3 = vmlal_high_s16(a3, xh, wd[j]);
                }
                v0 = a64_rq8_ch(a0, a1, mv, sv, right, off, lo, hi);
                v1 = a64_rq8_ch(a2, a3, mv, sv, right, off, lo, hi);
                if (tbl) {
                    /* index = output - act_min in 0..255; TBX leaves lanes out of its range */
                    const uint8x16_t idx = vcombine_u8(
                        vmovn_u16(vreinterpretq_u16_s16(vsubq_s16(v0, lo))),
                        vmovn_u16(vreinterpretq_u16_s16(vsubq_s16(v1, lo))));
                    r = vqtbl4q_s8(t0, idx);
                    r = vqtbx4q_s8(r, t1, vsubq_u8(idx, s64));
                    r = vqtbx4q_s8(r, t2, vsubq_u8(idx, s128));
                    r = vqtbx4q_s8(r, t3, vsubq_u8(idx, s192));
                } else {
                    r = vcombine_s8(vmovn_s16(v0), vmovn_s16(v1));
                }
                if (x + 16 <= W) {
                    A64_ST(0); A64_ST(1); A64_ST(2); A64_ST(3); A64_ST(4); A64_ST(5);
                    A64_ST(6); A64_ST(7); A64_ST(8); A64_ST(9); A64_ST(10); A64_ST(11);
                    A64_ST(12); A64_ST(13); A64_ST(14); A64_ST(15);
                } else {
                    int8_t lanes[16];
                    vst1q_s8(lanes, r);
                    for (j = 0; j < W - x; ++j, o += C) *o = lanes[j];
                }
            }
            if (x < W) {  /* the last 1..8 positions */
                int32x4_t a0 = bv, a1 = bv;
                int16x8_t v0;
                int8x8_t r8;
                int8_t *o = orow + x * C + c;
#pragma GCC unroll 8
                for (j = 0; j < K; ++j) {
                    const int16x8_t xl = vld1q_s16(xr + x + j);
                    a0 = vmlal_s16(a0, vget_low_s16(xl), vget_low_s16(wd[j]));
                    a1 = vmlal_high_s16(a1, xl, wd[j]);
                }
                v0 = a64_rq8_ch(a0, a1, mv, sv, right, off, lo, hi);
                if (tbl) {
                    const uint8x8_t idx = vmovn_u16(vreinterpretq_u16_s16(vsubq_s16(v0, lo)));
                    r8 = vqtbl4_s8(t0, idx);
                    r8 = vqtbx4_s8(r8, t1, vsub_u8(idx, vget_low_u8(s64)));
                    r8 = vqtbx4_s8(r8, t2, vsub_u8(idx, vget_low_u8(s128)));
                    r8 = vqtbx4_s8(r8, t3, vsub_u8(idx, vget_low_u8(s192)));
                } else {
                    r8 = vmovn_s16(v0);
                }
                if (x + 8 <= W) {
                    A64_ST8(0); A64_ST8(1); A64_ST8(2); A64_ST8(3);
                    A64_ST8(4); A64_ST8(5); A64_ST8(6); A64_ST8(7);
                } else {
                    int8_t lanes[8];
                    vst1_s8(lanes, r8);
                    for (j = 0; j < W - x; ++j, o += C) *o = lanes[j];
                }
            }
        }
    }
}

/* wt [K][C] int16 from the packed layout (tinyeit_kernels.h, n = K): a full block's tail taps
 * hold the 4 units' weights together (one widening store each), its groups of 4 taps unit r's
 * 4 at r * 4; the out_c % 4 last filters are plain rows. */
static void a64_conv_row(const int8_t *in, const int8_t *w, const int32_t *bias,
                         const int32_t *mult, const int32_t *shift, const int8_t *post,
                         int8_t *out, const tinyeit_conv_params *p)
{
    const int32_t C = p->out_c, K = p->k_w, K4 = K & ~3, full = C & ~3;
    int16_t wt[8 * A64_CONV_C_MAX] __attribute__((aligned(16)));
    const int right = a64_all_right(shift, C);
    int32_t c, k, r;
    for (c = 0; c < full; c += 4) {
        const int8_t *wb = w + c * K;
        for (k = 0; k < K4; ++k)
            for (r = 0; r < 4; ++r) wt[k * C + c + r] = wb[(k & ~3) * 4 + r * 4 + (k & 3)];
        for (; k < K; ++k) {
            int32_t wv;
            memcpy(&wv, wb + 4 * k, sizeof wv);
            vst1_s16(wt + k * C + c,
                     vget_low_s16(vmovl_s8(vreinterpret_s8_s32(vdup_n_s32(wv)))));
        }
    }
    for (c = full; c < C; ++c)
        for (k = 0; k < K; ++k) wt[k * C + c] = w[c * K + k];
    for (k = K; k < 8; ++k)  /* the K = 8 instance's taps past K: zero */
        for (c = 0; c < C; ++c) wt[k * C + c] = 0;
    if (post) {
        switch (K) {
        case 1: a64_conv_row_t(in, wt, bias, mult, shift, post, out, p, 1, 1, right); break;
        case 2: a64_conv_row_t(in, wt, bias, mult, shift, post, out, p, 2, 1, right); break;
        case 3: a64_conv_row_t(in, wt, bias, mult, shift, post, out, p, 3, 1, right); break;
        case 4: a64_conv_row_t(in, wt, bias, mult, shift, post, out, p, 4, 1, right); break;
        default: a64_conv_row_t(in, wt, bias, mult, shift, post, out, p, 8, 1, right);
        }
    } else {
        switch (K) {
        case 1: a64_conv_row_t(in, wt, bias, mult, shift, post, out, p, 1, 0, right); break;
        case 2: a64_conv_row_t(in, wt, bias, mult, shift, post, out, p, 2, 0, right); break;
        case 3: a64_conv_row_t(in, wt, bias, mult, shift, post, out, p, 3, 0, right); break;
        case 4: a64_conv_row_t(in, wt, bias, mult, shift, post, out, p, 4, 0, right); break;
        default: a64_conv_row_t(in, wt, bias, mult, shift, post, out, p, 8, 0, right);
        }
    }
}

/* Convolution. Small filters: a64_conv_small (the int16 table from the packed layout: a full
 * block's group of 4 taps holds unit r's 4 weights at r * 4, its tail taps the 4 units'
 * weights together; the out_c % 4 last filters are plain rows). Else per output position, its
 * window (conv_window: in place or gathered) against the packed filters, as a fully connected
 * layer. */
void tinyeit_conv_s8(const int8_t *in, const int8_t *w, const int32_t *bias,
                     const int32_t *tap_corr, const int32_t *mult, const int32_t *shift,
                     const int8_t *post, int8_t *out, const tinyeit_conv_params *p)
{
    const tinyeit_epi e = {p->out_offset, p->act_min, p->act_max, 0, p->cheap_rq, p->post_len};
    const int32_t K = p->k_h * p->k_w * p->in_c, C = p->out_c;
    union { int8_t v[TINYEIT_PATCH_MAX]; int32_t align; } patch;
    a64_outs O;
    int32_t b, oy, ox;
    int8_t *o = out;
    if (K > TINYEIT_PATCH_MAX) {
        tinyeit_conv_s8_ref(in, w, bias, tap_corr, mult, shift, post, out, p);
        return;
    }
    if (a64_conv_row_ok(p)) {
        a64_conv_row(in, w, bias, mult, shift, post, out, p);
        return;
    }
    a64_outs_init(&O, p->out_offset, p->act_min, p->act_max, post, p->post_len);
    if (K <= A64_CONV_K_MAX && C <= A64_CONV_C_MAX) {
        const int32_t Cp = (C + 7) & ~7, K4 = K & ~3, full = C & ~3;
        int16_t wt[A64_CONV_K_MAX * A64_CONV_C_MAX] __attribute__((aligned(16)));
        int32_t bi[A64_CONV_C_MAX], mu[A64_CONV_C_MAX], sh[A64_CONV_C_MAX];
        int32_t c, k, r, right;
        for (c = 0; c < full; c += 4) {
            const int8_t *wb = w + c * K;
            for (k = 0; k < K4; ++k)
                for (r = 0; r < 4; ++r) wt[k * Cp + c + r] = wb[(k & ~3) * 4 + r * 4 + (k & 3)];
            for (; k < K; ++k) {
                int32_t wv;
                memcpy(&wv, wb + 4 * k, sizeof wv);
                vst1_s16(wt + k * Cp + c, vget_low_s16(vmovl_s8(vreinterpret_s8_s32(
                                              vdup_n_s32(wv)))));
            }
        }
        for (k = 0; k < K; ++k)
            for (c = full; c < Cp; ++c) wt[k * Cp + c] = c < C ? w[c * K + k] : 0;
        a64_pad_copy(bi, bias, C, Cp, 0);
        a64_pad_copy(mu, mult, C, Cp, 0);
        a64_pad_copy(sh, shift, C, Cp, -1);
        right = a64_all_right(sh, Cp);
        switch (K) {
        case 1: a64_conv_s8_small(in, wt, bi, mu, sh, &O, out, p, 1, Cp, right, patch.v); break;
        case 2: a64_conv_s8_small(in, wt, bi, mu, sh, &O, out, p, 2, Cp, right, patch.v); break;
        case 3: a64_conv_s8_small(in, wt, bi, mu, sh, &O, out, p, 3, Cp, right, patch.v); break;
        case 4: a64_conv_s8_small(in, wt, bi, mu, sh, &O, out, p, 4, Cp, right, patch.v); break;
        default: a64_conv_s8_small(in, wt, bi, mu, sh, &O, out, p, K, Cp, right, patch.v);
        }
        return;
    }
    {
        const int right = a64_all_right(shift, C);
        for (b = 0; b < p->batches; ++b)
            for (oy = 0; oy < p->out_h; ++oy)
                for (ox = 0; ox < p->out_w; ++ox, o += C)
                    a64_fc_row(conv_window(in, p, b, oy, ox, patch.v), w, K, C, bias, mult,
                               shift, &e, &O, 0, right, o);
    }
}
/* Float fully connected on the blocked weights (TINYEIT_F32_BLOCK = 8 units interleaved), the
 * units % 8 remaining units as plain rows, summed as the reference does. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void a64_fc_f32_t(const float *in, const float *w, const float *bias, float *out,
                                const tinyeit_fc_params *p, const int low, const int high)
{
    const int32_t n = p->in_dim, units = p->units;
    const int32_t blocked = units - units % TINYEIT_F32_BLOCK;
    const float32x4_t lo = vdupq_n_f32(p->f_min), hi = vdupq_n_f32(p->f_max);
    int32_t b, u;
    for (b = 0; b < p->batches; ++b) {
        const float *x = in + b * n;
        float *o = out + b * units;
        for (u = 0; u < blocked; u += TINYEIT_F32_BLOCK) {
            a64_acc8 a;
            a.lo = vdupq_n_f32(0.0f);
            a.hi = a.lo;
            a = a64_dot8(a, x, w + u * n, n);
            if (bias) {
                a.lo = vaddq_f32(a.lo, vld1q_f32(bias + u));
                a.hi = vaddq_f32(a.hi, vld1q_f32(bias + u + 4));
            }
            vst1q_f32(o + u, a64_clamp4(a.lo, lo, hi, low, high));
            vst1q_f32(o + u + 4, a64_clamp4(a.hi, lo, hi, low, high));
        }
        for (; u < units; ++u) {
            float acc = tinyeit_dot_f32(0.0f, x, w + u * n, n);
            if (bias) acc += bias[u];
            o[u] = clamp_f(acc, p->f_min, p->f_max);
        }
    }
}

void tinyeit_fc_f32(const float *in, const float *w, const float *bias, float *out,
                    const tinyeit_fc_params *p)
{
    const int low = a64_bites_low(p->f_min), high = a64_bites_high(p->f_max);
    if (low && high) a64_fc_f32_t(in, w, bias, out, p, 1, 1);
    else if (low) a64_fc_f32_t(in, w, bias, out, p, 1, 0);
    else if (high) a64_fc_f32_t(in, w, bias, out, p, 0, 1);
    else a64_fc_f32_t(in, w, bias, out, p, 0, 0);
}
#endif
