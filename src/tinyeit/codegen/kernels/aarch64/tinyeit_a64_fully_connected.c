/* AArch64 NEON (ARMv8.0, no SDOT) int8 fully connected: tinyeit_fc_s8 on the packed weights
 * (tinyeit_kernels.h). One 16-byte load holds 4 inputs of 4 units; the 4 inputs repeated 4
 * times meet it in SMULL/SMULL2 (int8 x int8 products, each fits int16 even for -128 x -128),
 * SADALP adds neighbouring products into int32 lanes, and a final ADDP leaves one sum per unit.
 * Integer sums in another order: the reference's result.
 * Float fully connected (tinyeit_fc_f32): eight units per pass over the blocked weights
 * (a64_dot8), each lane one unit's sum in the reference's order: the reference's bits. */
#include "tinyeit_common.h"

#if defined(TINYEIT_AARCH64_NEON)
#include <arm_neon.h>

#include "tinyeit_a64_f32.h"

static inline int8x16_t a64_dup4(const int8_t *x)
{
    int32_t v;
    memcpy(&v, x, sizeof v);
    return vreinterpretq_s8_s32(vdupq_n_s32(v));
}

/* dot(x, w) over n elements: 16 at a time in SMULL/SMLAL2 pairs widened by SADALP. */
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

/* The int8 epilogue for 4 channels at once, exact for every accumulator: TFLite's double
 * rounding is SQRDMULH (gemmlowp's rounding doubling high multiply: floor((a*b + 2^30) / 2^31),
 * saturating only at INT32_MIN * INT32_MIN, as the reference) then the rounding divide by a
 * power of two as a sign fix-up (-1 for negatives) and SRSHL; LiteRT's single rounding is a
 * 64-bit product shifted right with its rounding bit. Then zero point, clamp, narrow. */
static inline void a64_epilogue4(int32x4_t a, const int32_t *mult, const int32_t *shift,
                                 const tinyeit_epi *e, const int8_t *post, int32_t u,
                                 int8_t *o)
{
    const int32x4_t m = vld1q_s32(mult), sh = vld1q_s32(shift);
    int32_t v[4];
    int r;
    if (e->single_round) {
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
        const int32x4_t right = vminq_s32(sh, zero);
        int32x4_t fix;
        a = vqrdmulhq_s32(vshlq_s32(a, vmaxq_s32(sh, zero)), m);
        fix = vshrq_n_s32(vandq_s32(a, right), 31);
        a = vrshlq_s32(vqaddq_s32(a, fix), right);
    }
    a = vaddq_s32(a, vdupq_n_s32(e->out_offset));
    a = vminq_s32(vmaxq_s32(a, vdupq_n_s32(e->act_min)), vdupq_n_s32(e->act_max));
    vst1q_s32(v, a);
    if (post) {
        for (r = 0; r < 4; ++r) o[r] = post[(u + r) * e->post_len + v[r] - e->act_min];
    } else {
        for (r = 0; r < 4; ++r) o[r] = (int8_t)v[r];
    }
}

/* One input vector against `units` packed units: the body of fully connected, and of conv per
 * output position. */
static void a64_fc_row(const int8_t *x, const int8_t *w, int32_t n, int32_t units,
                       const int32_t *bias, const int32_t *mult, const int32_t *shift,
                       const tinyeit_epi *e, const int8_t *post, int8_t *o)
{
    const int32_t n4 = n & ~3, tail = n - n4;
    int32_t u, j, g;
    for (u = 0; u + 4 <= units; u += 4) {
        const int8_t *wb = w + u * n;
        int32x4_t lo = vdupq_n_s32(0), hi = vdupq_n_s32(0);
        g = 0;
        for (; g + 8 <= n4; g += 8) {
            const int8x16_t x0 = a64_dup4(x + g), x1 = a64_dup4(x + g + 4);
            const int8x16_t w0 = vld1q_s8(wb + 4 * g), w1 = vld1q_s8(wb + 4 * g + 16);
            lo = vpadalq_s16(lo, vmull_s8(vget_low_s8(w0), vget_low_s8(x0)));
            hi = vpadalq_s16(hi, vmull_high_s8(w0, x0));
            lo = vpadalq_s16(lo, vmull_s8(vget_low_s8(w1), vget_low_s8(x1)));
            hi = vpadalq_s16(hi, vmull_high_s8(w1, x1));
        }
        for (; g < n4; g += 4) {
            const int8x16_t x0 = a64_dup4(x + g), w0 = vld1q_s8(wb + 4 * g);
            lo = vpadalq_s16(lo, vmull_s8(vget_low_s8(w0), vget_low_s8(x0)));
            hi = vpadalq_s16(hi, vmull_high_s8(w0, x0));
        }
        {
            int32x4_t a = vaddq_s32(vpaddq_s32(lo, hi), vld1q_s32(bias + u));
            const int8_t *wt = wb + 4 * n4;
            for (j = 0; j < tail; ++j, wt += 4) {
                int32_t wv;
                memcpy(&wv, wt, sizeof wv);
                a = vmlaq_n_s32(a, vmovl_s16(vget_low_s16(vmovl_s8(vreinterpret_s8_s32(
                                    vdup_n_s32(wv))))), (int32_t)x[n4 + j]);
            }
            a64_epilogue4(a, mult + u, shift + u, e, post, u, o + u);
        }
    }
    for (; u < units; ++u) {
        const int32_t a = bias[u] + a64_dot1_s8(x, w + u * n, n);
        o[u] = epilogue_s8(a, mult[u], shift[u], e->single_round, e->cheap_rq, e->out_offset,
                           e->act_min, e->act_max, post ? post + u * e->post_len : NULL);
    }
}

void tinyeit_fc_s8(const int8_t *in, const int8_t *w, const int32_t *bias, const int32_t *mult,
                   const int32_t *shift, const int8_t *post, int8_t *out,
                   const tinyeit_fc_params *p)
{
    const tinyeit_epi e = {p->out_offset, p->act_min, p->act_max, p->single_round, p->cheap_rq,
                           p->post_len};
    int32_t b;
    if (p->w_offset != 0) {
        tinyeit_fc_s8_ref(in, w, bias, mult, shift, post, out, p);
        return;
    }
    for (b = 0; b < p->batches; ++b)
        a64_fc_row(in + b * p->in_dim, w, p->in_dim, p->units, bias, mult, shift, &e, post,
                   out + b * p->units);
}

/* Convolution: per output position, its window (conv_window: in place or gathered) against the
 * packed filters, as a fully connected layer. */
void tinyeit_conv_s8(const int8_t *in, const int8_t *w, const int32_t *bias,
                     const int32_t *tap_corr, const int32_t *mult, const int32_t *shift,
                     const int8_t *post, int8_t *out, const tinyeit_conv_params *p)
{
    const tinyeit_epi e = {p->out_offset, p->act_min, p->act_max, 0, p->cheap_rq, p->post_len};
    const int32_t K = p->k_h * p->k_w * p->in_c;
    union { int8_t v[TINYEIT_PATCH_MAX]; int32_t align; } patch;
    int32_t b, oy, ox;
    int8_t *o = out;
    if (K > TINYEIT_PATCH_MAX) {
        tinyeit_conv_s8_ref(in, w, bias, tap_corr, mult, shift, post, out, p);
        return;
    }
    for (b = 0; b < p->batches; ++b)
        for (oy = 0; oy < p->out_h; ++oy)
            for (ox = 0; ox < p->out_w; ++ox, o += p->out_c)
                a64_fc_row(conv_window(in, p, b, oy, ox, patch.v), w, K, p->out_c, bias, mult,
                           shift, &e, post, o);
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
