/* AArch64 NEON float max pooling and mean (int8 max pooling: below): four channels (max pool) or inner elements (mean)
 * per vector, each lane the reference's operations in its order: max pool keeps a tap where
 * `tap > max` (compare and select, as the reference's `if`: FMAX would differ on NaN and on
 * -0 against +0), mean sums in reduction order and divides (FDIV rounds as the scalar one). */
#include "tinyeit_common.h"

#if defined(TINYEIT_AARCH64_NEON)
#include <arm_neon.h>

#include "tinyeit_a64_f32.h"

/* Four channels' max over rows x cols taps from t (row step, tap step), starting at -inf and
 * taking a tap where tap > max, as the reference. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline float32x4_t a64_max4(const float *t, int32_t rows, int32_t row_step, int32_t cols,
                                   int32_t step)
{
    float32x4_t m = vdupq_n_f32(-INFINITY);
    int32_t r, k;
    for (r = 0; r < rows; ++r, t += row_step) {
        const float *q = t;
        for (k = 0; k < cols; ++k, q += step) {
            const float32x4_t v = vld1q_f32(q);
            m = vbslq_f32(vcgtq_f32(v, m), v, m);
        }
    }
    return m;
}

#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void a64_maxpool_f32_t(const float *in, float *out, const tinyeit_pool_params *p,
                                     const int low, const int high)
{
    const int32_t C = p->ch, row_step = p->in_w * C;
    const uintptr_t ib = (uintptr_t)in, ie = (uintptr_t)(in + p->batches * p->in_h * row_step);
    const uintptr_t ob = (uintptr_t)out;
    const uintptr_t oe = (uintptr_t)(out + p->batches * p->out_h * p->out_w * C);
    const int overlap_ok = oe <= ib || ie <= ob;
    const float32x4_t lo = vdupq_n_f32(p->f_min), hi = vdupq_n_f32(p->f_max);
    int32_t b, oy, ox, ky, kx, c;
    for (b = 0; b < p->batches; ++b)
    for (oy = 0; oy < p->out_h; ++oy)
    for (ox = 0; ox < p->out_w; ++ox) {
        const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
        const int32_t ky0 = TINYEIT_MAX(0, -y0), ky1 = TINYEIT_MIN(p->k_h, p->in_h - y0);
        const int32_t kx0 = TINYEIT_MAX(0, -x0), kx1 = TINYEIT_MIN(p->k_w, p->in_w - x0);
        /* the first valid tap (a pointer only where the window has one) */
        const int32_t first = ((b * p->in_h + y0 + ky0) * p->in_w + x0 + kx0) * C;
        const int32_t valid = ky1 > ky0 && kx1 > kx0, rows = valid ? ky1 - ky0 : 0;
        const float *src = valid ? in + first : in;
        float *o = out + ((b * p->out_h + oy) * p->out_w + ox) * C;
        for (c = 0; c + 4 <= C; c += 4)
            vst1q_f32(o + c, a64_clamp4(a64_max4(src + c, rows, row_step, kx1 - kx0, C), lo,
                                        hi, low, high));
        /* the last C % 4 channels: the last four again where that cannot read an output (same
         * inputs, same results), else the scalar loop below */
        if (c < C && overlap_ok) {
            vst1q_f32(o + C - 4, a64_clamp4(a64_max4(src + C - 4, rows, row_step, kx1 - kx0,
                                                     C), lo, hi, low, high));
            c = C;
        }
        for (; c < C; ++c) {  /* only where the input and output overlap */
            float m = -INFINITY;
            for (ky = ky0; ky < ky1; ++ky) {
                const float *t = in + (first + (ky - ky0) * row_step + c);
                for (kx = kx0; kx < kx1; ++kx, t += C)
                    if (*t > m) m = *t;
            }
            o[c] = clamp_f(m, p->f_min, p->f_max);
        }
    }
}

void tinyeit_maxpool_f32(const float *in, float *out, const tinyeit_pool_params *p)
{
    const int low = a64_bites_low(p->f_min), high = a64_bites_high(p->f_max);
    if (p->ch < 4) {
        tinyeit_maxpool_f32_ref(in, out, p);
        return;
    }
    if (low && high) a64_maxpool_f32_t(in, out, p, 1, 1);
    else if (low) a64_maxpool_f32_t(in, out, p, 1, 0);
    else if (high) a64_maxpool_f32_t(in, out, p, 0, 1);
    else a64_maxpool_f32_t(in, out, p, 0, 0);
}

void tinyeit_mean_f32(const float *in, float *out, int32_t outer, int32_t reduce, int32_t inner)
{
    const float32x4_t count = vdupq_n_f32((float)reduce);
    int32_t o, r, i;
    if (inner < 4) {
        tinyeit_mean_f32_ref(in, out, outer, reduce, inner);
        return;
    }
    for (o = 0; o < outer; ++o) {
        const float *src = in + o * reduce * inner;
        float *dst = out + o * inner;
        for (i = 0; i + 4 <= inner; i += 4) {
            float32x4_t acc = vdupq_n_f32(0.0f);
            for (r = 0; r < reduce; ++r) acc = vaddq_f32(acc, vld1q_f32(src + r * inner + i));
            vst1q_f32(dst + i, vdivq_f32(acc, count));
        }
        for (; i < inner; ++i) {
            float acc = 0.0f;
            for (r = 0; r < reduce; ++r) acc += src[r * inner + i];
            dst[i] = acc / (float)reduce;
        }
    }
}
/* int8 max pooling: 16 (or 8) channels per SMAX over the window's taps, clamped to the
 * activation range; a window with no valid tap gives -128 clamped, as the reference. Where the
 * input and output do not overlap, positions go in output order and a position's last chunk
 * may run past its C channels into the next position's (rewritten right after) as long as it
 * stays inside both buffers: C = 25 is two 16-byte chunks, C = 6 one 8-byte chunk. Elsewhere
 * the exact chunks, then the last 8 again or the reference's scalar loop. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int8x16_t a64_max16_s8(const int8_t *t, int32_t rows, int32_t row_step,
                                     int32_t cols, int32_t C)
{
    int8x16_t m = vdupq_n_s8(-128);
    int32_t ky, kx;
    if (rows == 1 && cols == 2) return vmaxq_s8(vld1q_s8(t), vld1q_s8(t + C));
    if (rows == 1 && cols == 3)
        return vmaxq_s8(vmaxq_s8(vld1q_s8(t), vld1q_s8(t + C)), vld1q_s8(t + 2 * C));
    for (ky = 0; ky < rows; ++ky, t += row_step)
        for (kx = 0; kx < cols; ++kx) m = vmaxq_s8(m, vld1q_s8(t + kx * C));
    return m;
}

#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int8x8_t a64_max8_s8(const int8_t *t, int32_t rows, int32_t row_step,
                                   int32_t cols, int32_t C)
{
    int8x8_t m = vdup_n_s8(-128);
    int32_t ky, kx;
    if (rows == 1 && cols == 2) return vmax_s8(vld1_s8(t), vld1_s8(t + C));
    if (rows == 1 && cols == 3)
        return vmax_s8(vmax_s8(vld1_s8(t), vld1_s8(t + C)), vld1_s8(t + 2 * C));
    for (ky = 0; ky < rows; ++ky, t += row_step)
        for (kx = 0; kx < cols; ++kx) m = vmax_s8(m, vld1_s8(t + kx * C));
    return m;
}

/* One output position's C channels exactly (no chunk past C): 16- and 8-byte chunks, the last
 * 8 again where the output cannot overlap the input (`again`), else the scalar loop. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void a64_pool_pos_s8(const int8_t *src, int8_t *o, int32_t C, int32_t rows,
                            int32_t row_step, int32_t cols, int again, int32_t act_min,
                            int32_t act_max)
{
    const int8x16_t lo = vdupq_n_s8((int8_t)act_min), hi = vdupq_n_s8((int8_t)act_max);
    int32_t c, ky, kx;
    for (c = 0; c + 16 <= C; c += 16)
        vst1q_s8(o + c, vminq_s8(vmaxq_s8(a64_max16_s8(src + c, rows, row_step, cols, C), lo),
                                 hi));
    for (; c + 8 <= C || (c < C && again && C >= 8); c += 8) {
        const int32_t at = c + 8 <= C ? c : C - 8;
        vst1_s8(o + at, vmin_s8(vmax_s8(a64_max8_s8(src + at, rows, row_step, cols, C),
                                        vget_low_s8(lo)), vget_low_s8(hi)));
    }
    for (; c < C; ++c) {
        int8_t m = -128;
        const int8_t *t = src + c;
        for (ky = 0; ky < rows; ++ky, t += row_step)
            for (kx = 0; kx < cols; ++kx)
                if (t[kx * C] > m) m = t[kx * C];
        o[c] = sat_s8(m, act_min, act_max);
    }
}

void tinyeit_maxpool_s8(const int8_t *in, int8_t *out, const tinyeit_pool_params *p)
{
    const int32_t C = p->ch, row_step = p->in_w * C, C8 = (C + 7) & ~7;
    const int8_t *in_end = in + p->batches * p->in_h * row_step;
    int8_t *out_end = out + p->batches * p->out_h * p->out_w * C;
    const uintptr_t ib = (uintptr_t)in, ie = (uintptr_t)in_end;
    const uintptr_t ob = (uintptr_t)out, oe = (uintptr_t)out_end;
    const int overlap_ok = oe <= ib || ie <= ob;
    const int8x16_t lo = vdupq_n_s8((int8_t)p->act_min), hi = vdupq_n_s8((int8_t)p->act_max);
    int32_t b, oy, ox, c;
    if (C < 8 && !overlap_ok) {
        tinyeit_maxpool_s8_ref(in, out, p);
        return;
    }
    if (overlap_ok && p->pad_h == 0 && p->pad_w == 0) {
        /* no padding: every window starts inside the input (only the last ones may be cut
         * short), so one pointer step per position */
        const int32_t step = p->stride_w * C;
        for (b = 0; b < p->batches; ++b)
        for (oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h;
            const int32_t rows = TINYEIT_MIN(p->k_h, p->in_h - y0);
            const int8_t *src = in + (b * p->in_h + y0) * row_step;
            int8_t *o = out + (b * p->out_h + oy) * p->out_w * C;
            int32_t x0 = 0;
            for (ox = 0; ox < p->out_w; ++ox, src += step, o += C, x0 += p->stride_w) {
                const int32_t cols = TINYEIT_MIN(p->k_w, p->in_w - x0);
                const int8_t *last = src + (rows - 1) * row_step + (cols - 1) * C;
                if (rows <= 0 || cols <= 0 || last + C8 > in_end || o + C8 > out_end) {
                    if (rows <= 0 || cols <= 0)
                        a64_pool_pos_s8(in, o, C, 0, row_step, 0, 1, p->act_min, p->act_max);
                    else
                        a64_pool_pos_s8(src, o, C, rows, row_step, cols, 1, p->act_min,
                                        p->act_max);
                    continue;
                }
                for (c = 0; c + 16 <= C8; c += 16)
                    vst1q_s8(o + c, vminq_s8(vmaxq_s8(a64_max16_s8(src + c, rows, row_step,
                                                                   cols, C), lo), hi));
                if (c < C8)
                    vst1_s8(o + c, vmin_s8(vmax_s8(a64_max8_s8(src + c, rows, row_step, cols,
                                                               C), vget_low_s8(lo)),
                                           vget_low_s8(hi)));
            }
        }
        return;
    }
    for (b = 0; b < p->batches; ++b)
    for (oy = 0; oy < p->out_h; ++oy)
    for (ox = 0; ox < p->out_w; ++ox) {
        const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
        const int32_t ky0 = TINYEIT_MAX(0, -y0), ky1 = TINYEIT_MIN(p->k_h, p->in_h - y0);
        const int32_t kx0 = TINYEIT_MAX(0, -x0), kx1 = TINYEIT_MIN(p->k_w, p->in_w - x0);
        const int32_t valid = ky1 > ky0 && kx1 > kx0;
        const int32_t rows = valid ? ky1 - ky0 : 0, cols = valid ? kx1 - kx0 : 0;
        const int8_t *src = valid ? in + ((b * p->in_h + y0 + ky0) * p->in_w + x0 + kx0) * C
                                  : in;
        int8_t *o = out + ((b * p->out_h + oy) * p->out_w + ox) * C;
        /* the last tap's chunk end and the output's, for the chunks past C */
        const int8_t *last = src + (rows > 0 ? (rows - 1) * row_step + (cols - 1) * C : 0);
        if (overlap_ok && o + C8 <= out_end && last + C8 <= in_end) {
            for (c = 0; c + 16 <= C8; c += 16)
                vst1q_s8(o + c, vminq_s8(vmaxq_s8(a64_max16_s8(src + c, rows, row_step, cols,
                                                               C), lo), hi));
            if (c < C8)
                vst1_s8(o + c, vmin_s8(vmax_s8(a64_max8_s8(src + c, rows, row_step, cols, C),
                                               vget_low_s8(lo)), vget_low_s8(hi)));
            continue;
        }
        a64_pool_pos_s8(src, o, C, rows, row_step, cols, overlap_ok, p->act_min, p->act_max);
    }
}
#endif
