/* AArch64 NEON float helpers shared by the float kernels of aarch64/. Every float kernel here
 * vectorizes ACROSS outputs (units, channels, elements): each lane computes one output with
 * the reference's operations in the reference's order, a product rounded by FMUL and then
 * added by FADD (never FMLA, which rounds once), so every lane holds the reference's bits.
 * AArch64 Advanced SIMD follows FPCR like the scalar unit (no flush to zero of its own). */
#ifndef TINYEIT_A64_F32_H
#define TINYEIT_A64_F32_H

#include "tinyeit_common.h"

#if defined(TINYEIT_AARCH64_NEON)
#include <arm_neon.h>

/* Which bounds of clamp_f can change a value: v < -inf and v > +inf never hold (nor does any
 * comparison with a NaN bound), so a bound that cannot bite is skipped, with the same result. */
static inline int a64_bites_low(float lo) { return lo > -INFINITY; }
static inline int a64_bites_high(float hi) { return hi < INFINITY; }

/* clamp_f on 4 lanes: v < lo ? lo : (v > hi ? hi : v), as compares and selects (FMAX/FMIN
 * would turn -0 into +0 at a bound of 0 and differ from it on NaN). low / high: whether that
 * bound can bite (a64_bites_*), constants after inlining. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline float32x4_t a64_clamp4(float32x4_t v, float32x4_t lo, float32x4_t hi,
                                     const int low, const int high)
{
    const float32x4_t t = high ? vbslq_f32(vcgtq_f32(v, hi), hi, v) : v;
    return low ? vbslq_f32(vcltq_f32(v, lo), lo, t) : t;
}

/* Eight running sums (units j = 0..3 in lo, 4..7 in hi) of the blocked layout
 * (tinyeit_kernels.h: w[i * 8 + j] = row j, element i), continued over n elements strictly in
 * element order, as tinyeit_dot8_f32: per element, the input times the 8 weights (FMUL by
 * element), then added. Four elements per step: one load of 4 inputs, two of 16 weights. */
typedef struct {
    float32x4_t lo, hi;
} a64_acc8;

#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline a64_acc8 a64_dot8(a64_acc8 a, const float *x, const float *w, int32_t n)
{
    int32_t i = 0;
    for (; i + 4 <= n; i += 4, w += 32) {
        const float32x4_t xv = vld1q_f32(x + i);
        const float32x4x4_t w0 = vld1q_f32_x4(w), w1 = vld1q_f32_x4(w + 16);
        a.lo = vaddq_f32(a.lo, vmulq_laneq_f32(w0.val[0], xv, 0));
        a.hi = vaddq_f32(a.hi, vmulq_laneq_f32(w0.val[1], xv, 0));
        a.lo = vaddq_f32(a.lo, vmulq_laneq_f32(w0.val[2], xv, 1));
        a.hi = vaddq_f32(a.hi, vmulq_laneq_f32(w0.val[3], xv, 1));
        a.lo = vaddq_f32(a.lo, vmulq_laneq_f32(w1.val[0], xv, 2));
        a.hi = vaddq_f32(a.hi, vmulq_laneq_f32(w1.val[1], xv, 2));
        a.lo = vaddq_f32(a.lo, vmulq_laneq_f32(w1.val[2], xv, 3));
        a.hi = vaddq_f32(a.hi, vmulq_laneq_f32(w1.val[3], xv, 3));
    }
    /* the last n % 4 elements, straight-line (short conv windows are all tail) */
    if (i < n) {
        const float32x4_t xv = vld1q_dup_f32(x + i);
        a.lo = vaddq_f32(a.lo, vmulq_f32(xv, vld1q_f32(w)));
        a.hi = vaddq_f32(a.hi, vmulq_f32(xv, vld1q_f32(w + 4)));
        if (i + 1 < n) {
            const float32x4_t xv1 = vld1q_dup_f32(x + i + 1);
            a.lo = vaddq_f32(a.lo, vmulq_f32(xv1, vld1q_f32(w + 8)));
            a.hi = vaddq_f32(a.hi, vmulq_f32(xv1, vld1q_f32(w + 12)));
            if (i + 2 < n) {
                const float32x4_t xv2 = vld1q_dup_f32(x + i + 2);
                a.lo = vaddq_f32(a.lo, vmulq_f32(xv2, vld1q_f32(w + 16)));
                a.hi = vaddq_f32(a.hi, vmulq_f32(xv2, vld1q_f32(w + 20)));
            }
        }
    }
    return a;
}

/* The first n (1..7) of 8 lanes to o. */
static inline void a64_store_part8(float *o, float32x4_t lo, float32x4_t hi, int32_t n)
{
    if (n >= 4) {
        vst1q_f32(o, lo);
        o += 4;
        n -= 4;
        lo = hi;
    }
    if (n >= 2) {
        vst1_f32(o, vget_low_f32(lo));
        o += 2;
        n -= 2;
        lo = vextq_f32(lo, lo, 2);
    }
    if (n > 0) vst1q_lane_f32(o, lo, 0);
}

#endif
#endif
