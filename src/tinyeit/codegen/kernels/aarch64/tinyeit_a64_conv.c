/* AArch64 NEON (ARMv8.0) float convolution: tinyeit_conv_f32 on the blocked filters
 * (tinyeit_kernels.h), eight output channels per pass (a64_dot8), each lane one channel's sum
 * over the valid taps in the reference's order (rows ky, then the run of kx and in_c), then
 * the bias and the clamp: the reference's bits. The out_c % 8 remaining filters, plain rows in
 * the layout, are copied once per call into one more 8-channel block on the stack (zeros in the
 * unused lanes, whose results are never stored), so they take the same path. */
#include "tinyeit_common.h"

#if defined(TINYEIT_AARCH64_NEON)
#include <arm_neon.h>

#include "tinyeit_a64_f32.h"

/* Largest filter (k_h * k_w * in_c) whose remaining channels are re-blocked on the stack
 * (8 floats per element: 16 KB); larger ones take the reference's loop for those channels. */
#define A64_CONV_REBLOCK_MAX 512

/* One output position, one block of 8 filters (wb: the block's first element). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline a64_acc8 a64_conv_block(const float *in, const float *wb,
                                      const tinyeit_conv_params *p, int32_t base, int32_t y0,
                                      int32_t ky0, int32_t ky1, int32_t kx0, int32_t kx1)
{
    const int32_t in_c = p->in_c, run = (kx1 - kx0) * in_c;
    int32_t ky, kx;
    a64_acc8 a;
    a.lo = vdupq_n_f32(0.0f);
    a.hi = a.lo;
    for (ky = ky0; ky < ky1; ++ky) {
        const int32_t xr = base + (y0 + ky * p->dil_h) * p->in_w * in_c;  /* index: x0 < 0 */
        const float *wr = wb + ky * p->k_w * in_c * TINYEIT_F32_BLOCK;
        if (p->dil_w == 1) {
            a = a64_dot8(a, in + (xr + kx0 * in_c), wr + kx0 * in_c * TINYEIT_F32_BLOCK, run);
        } else {
            for (kx = kx0; kx < kx1; ++kx)
                a = a64_dot8(a, in + (xr + kx * p->dil_w * in_c),
                             wr + kx * in_c * TINYEIT_F32_BLOCK, in_c);
        }
    }
    return a;
}

/* The reference's loop for one plain-row channel (filters too large to re-block). */
static float a64_conv_row(const float *in, const float *wo, const tinyeit_conv_params *p,
                          int32_t base, int32_t y0, int32_t ky0, int32_t ky1, int32_t kx0,
                          int32_t kx1)
{
    float acc = 0.0f;
    int32_t ky, kx;
    for (ky = ky0; ky < ky1; ++ky) {
        const int32_t xr = base + (y0 + ky * p->dil_h) * p->in_w * p->in_c;
        const float *wr = wo + ky * p->k_w * p->in_c;
        if (p->dil_w == 1) {
            acc = tinyeit_dot_f32(acc, in + (xr + kx0 * p->in_c), wr + kx0 * p->in_c,
                                  (kx1 - kx0) * p->in_c);
        } else {
            for (kx = kx0; kx < kx1; ++kx)
                acc = tinyeit_dot_f32(acc, in + (xr + kx * p->dil_w * p->in_c),
                                      wr + kx * p->in_c, p->in_c);
        }
    }
    return acc;
}

#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void a64_conv_f32_t(const float *in, const float *w, const float *bias, float *out,
                                  const tinyeit_conv_params *p, const int low, const int high)
{
    const int32_t depth = p->k_h * p->k_w * p->in_c, C = p->out_c;
    const int32_t blocked = C - C % TINYEIT_F32_BLOCK, rem = C - blocked;
    const int32_t reblock = rem > 0 && depth <= A64_CONV_REBLOCK_MAX;
    const float32x4_t lo = vdupq_n_f32(p->f_min), hi = vdupq_n_f32(p->f_max);
    float wrem[A64_CONV_REBLOCK_MAX * TINYEIT_F32_BLOCK];
    float brem[TINYEIT_F32_BLOCK];
    int32_t b, oy, ox, oc, k, j;
    if (reblock) {
        for (k = 0; k < depth; ++k)
            for (j = 0; j < TINYEIT_F32_BLOCK; ++j)
                wrem[k * TINYEIT_F32_BLOCK + j] = j < rem ? w[(blocked + j) * depth + k] : 0.0f;
        for (j = 0; j < TINYEIT_F32_BLOCK; ++j)
            brem[j] = bias && j < rem ? bias[blocked + j] : 0.0f;
    }
    for (b = 0; b < p->batches; ++b)
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t y0 = oy * p->stride_h - p->pad_h;
        int32_t ky0, ky1;
        tap_range(y0, p->k_h, p->dil_h, p->in_h, &ky0, &ky1);
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t x0 = ox * p->stride_w - p->pad_w;
            float *o = out + (((b * p->out_h + oy) * p->out_w + ox) * C);
            const int32_t base = (b * p->in_h * p->in_w + x0) * p->in_c;
            int32_t kx0, kx1;
            a64_acc8 a;
            tap_range(x0, p->k_w, p->dil_w, p->in_w, &kx0, &kx1);
            for (oc = 0; oc < blocked; oc += TINYEIT_F32_BLOCK) {
                a = a64_conv_block(in, w + oc * depth, p, base, y0, ky0, ky1, kx0, kx1);
                if (bias) {
                    a.lo = vaddq_f32(a.lo, vld1q_f32(bias + oc));
                    a.hi = vaddq_f32(a.hi, vld1q_f32(bias + oc + 4));
                }
                vst1q_f32(o + oc, a64_clamp4(a.lo, lo, hi, low, high));
                vst1q_f32(o + oc + 4, a64_clamp4(a.hi, lo, hi, low, high));
            }
            if (reblock) {
                a = a64_conv_block(in, wrem, p, base, y0, ky0, ky1, kx0, kx1);
                if (bias) {
                    a.lo = vaddq_f32(a.lo, vld1q_f32(brem));
                    a.hi = vaddq_f32(a.hi, vld1q_f32(brem + 4));
                }
                a64_store_part8(o + blocked, a64_clamp4(a.lo, lo, hi, low, high),
                                a64_clamp4(a.hi, lo, hi, low, high), rem);
            } else {
                for (oc = blocked; oc < C; ++oc) {
                    float acc = a64_conv_row(in, w + oc * depth, p, base, y0, ky0, ky1, kx0,
                                             kx1);
                    if (bias) acc += bias[oc];
                    o[oc] = clamp_f(acc, p->f_min, p->f_max);
                }
            }
        }
    }
}

void tinyeit_conv_f32(const float *in, const float *w, const float *bias, float *out,
                      const tinyeit_conv_params *p)
{
    const int low = a64_bites_low(p->f_min), high = a64_bites_high(p->f_max);
    if (low && high) a64_conv_f32_t(in, w, bias, out, p, 1, 1);
    else if (low) a64_conv_f32_t(in, w, bias, out, p, 1, 0);
    else if (high) a64_conv_f32_t(in, w, bias, out, p, 0, 1);
    else a64_conv_f32_t(in, w, bias, out, p, 0, 0);
}
#endif
