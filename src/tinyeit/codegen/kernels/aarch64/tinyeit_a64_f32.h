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
 * element), then added (FADD). Eight elements per step: one load of 8 inputs, four of 16
 * weights, 16 FMUL and 16 FADD. */
typedef struct {
    float32x4_t lo, hi;
} a64_acc8;

#define A64_STEP8(W, XV, L)                                                                   \
    do {                                                                                      \
        a.lo = vaddq_f32(a.lo, vmulq_laneq_f32((W).val[0], XV, L));                           \
        a.hi = vaddq_f32(a.hi, vmulq_laneq_f32((W).val[1], XV, L));                           \
        a.lo = vaddq_f32(a.lo, vmulq_laneq_f32((W).val[2], XV, (L) + 1));                     \
        a.hi = vaddq_f32(a.hi, vmulq_laneq_f32((W).val[3], XV, (L) + 1));                     \
    } while (0)

#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline a64_acc8 a64_dot8(a64_acc8 a, const float *x, const float *w, int32_t n)
{
    const float *const end8 = x + (n & ~7);
    int32_t r = n & 7;
    for (; x != end8; x += 8, w += 64) {
        const float32x4x2_t xv = vld1q_f32_x2(x);
        const float32x4x4_t w0 = vld1q_f32_x4(w), w1 = vld1q_f32_x4(w + 16);
        const float32x4x4_t w2 = vld1q_f32_x4(w + 32), w3 = vld1q_f32_x4(w + 48);
        A64_STEP8(w0, xv.val[0], 0);
        A64_STEP8(w1, xv.val[0], 2);
        A64_STEP8(w2, xv.val[1], 0);
        A64_STEP8(w3, xv.val[1], 2);
    }
    if (r >= 4) {
        const float32x4_t xv = vld1q_f32(x);
        const float32x4x4_t w0 = vld1q_f32_x4(w), w1 = vld1q_f32_x4(w + 16);
        A64_STEP8(w0, xv, 0);
        A64_STEP8(w1, xv, 2);
        x += 4;
        w += 32;
        r -= 4;
    }
    /* the last n % 4 elements, straight-line (short conv windows are all tail) */
    for (; r > 0; --r, ++x, w += 8) {
        const float32x4_t xv = vld1q_dup_f32(x);
        a.lo = vaddq_f32(a.lo, vmulq_f32(xv, vld1q_f32(w)));
        a.hi = vaddq_f32(a.hi, vmulq_f32(xv, vld1q_f32(w + 4)));
    }
    return a;
}

/* Four running sums of a layout of 4 interleaved rows (w[i * 4 + j] = row j, element i), as
 * a64_dot8 with half the lanes: the remaining channels of a conv, re-blocked on the stack. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline float32x4_t a64_dot4(float32x4_t a, const float *x, const float *w, int32_t n)
{
    int32_t r = n;
    for (; r >= 4; r -= 4, x += 4, w += 16) {
        const float32x4_t xv = vld1q_f32(x);
        const float32x4x4_t wv = vld1q_f32_x4(w);
        a = vaddq_f32(a, vmulq_laneq_f32(wv.val[0], xv, 0));
        a = vaddq_f32(a, vmulq_laneq_f32(wv.val[1], xv, 1));
        a = vaddq_f32(a, vmulq_laneq_f32(wv.val[2], xv, 2));
        a = vaddq_f32(a, vmulq_laneq_f32(wv.val[3], xv, 3));
    }
    for (; r > 0; --r, ++x, w += 4) a = vaddq_f32(a, vmulq_f32(vld1q_dup_f32(x), vld1q_f32(w)));
    return a;
}

/* The first n (1..7) of 8 lanes to o (n 1..3: of lo only). */
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
