/* AArch64 NEON float ADD and MUL: four output elements per vector along the innermost
 * dimension, where each input is either contiguous there or one value broadcast along it (the
 * per-channel constants of a BatchNorm after ReLU: a row of channels, the same for every
 * position). Each lane is the reference's a + b or a * b (operands in its order), then its
 * clamp: the reference's bits. Other strides take the reference's loop. */
#include "tinyeit_common.h"

#if defined(TINYEIT_AARCH64_NEON)
#include <arm_neon.h>

#include "tinyeit_a64_f32.h"

/* mul: 0 add, 1 multiply; va / vb: that input is contiguous along the inner dimension (else
 * broadcast along it); low / high: the clamp's bounds that can bite. Constants after inlining. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void a64_binary_f32_t(const float *a, const float *b, float *out,
                                    const tinyeit_binary_params *p, const int mul, const int va,
                                    const int vb, const int low, const int high)
{
    const int32_t n = p->dims[3];
    const float32x4_t lo = vdupq_n_f32(p->f_min), hi = vdupq_n_f32(p->f_max);
    int32_t i0, i1, i2, i;
    float *o = out;
    for (i0 = 0; i0 < p->dims[0]; ++i0)
    for (i1 = 0; i1 < p->dims[1]; ++i1)
    for (i2 = 0; i2 < p->dims[2]; ++i2, o += n) {
        const float *ra = a + (i0 * p->s1[0] + i1 * p->s1[1] + i2 * p->s1[2]);
        const float *rb = b + (i0 * p->s2[0] + i1 * p->s2[1] + i2 * p->s2[2]);
        const float32x4_t da = vld1q_dup_f32(ra), db = vld1q_dup_f32(rb);
        for (i = 0; i + 4 <= n; i += 4) {
            const float32x4_t x = va ? vld1q_f32(ra + i) : da, y = vb ? vld1q_f32(rb + i) : db;
            vst1q_f32(o + i, a64_clamp4(mul ? vmulq_f32(x, y) : vaddq_f32(x, y), lo, hi, low,
                                        high));
        }
        for (; i < n; ++i) {
            const float x = ra[va ? i : 0], y = rb[vb ? i : 0];
            o[i] = clamp_f(mul ? x * y : x + y, p->f_min, p->f_max);
        }
    }
}

/* The inner dimension's strides as (va, vb), bounds as (low, high): one instantiation each. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void a64_binary_f32(const float *a, const float *b, float *out,
                                  const tinyeit_binary_params *p, const int mul)
{
    const int va = p->s1[3] == 1, vb = p->s2[3] == 1;
    const int low = a64_bites_low(p->f_min), high = a64_bites_high(p->f_max);
    if (low || high) {  /* a ReLU-like bound: rare after ADD / MUL, one general version */
        if (va && vb) a64_binary_f32_t(a, b, out, p, mul, 1, 1, 1, 1);
        else if (va) a64_binary_f32_t(a, b, out, p, mul, 1, 0, 1, 1);
        else a64_binary_f32_t(a, b, out, p, mul, 0, 1, 1, 1);
    } else {
        if (va && vb) a64_binary_f32_t(a, b, out, p, mul, 1, 1, 0, 0);
        else if (va) a64_binary_f32_t(a, b, out, p, mul, 1, 0, 0, 0);
        else a64_binary_f32_t(a, b, out, p, mul, 0, 1, 0, 0);
    }
}

/* Vectorized when each input's inner stride is 1 or 0 (not both 0) and a row holds a vector. */
static inline int a64_binary_fits(const tinyeit_binary_params *p)
{
    const int32_t sa = p->s1[3], sb = p->s2[3];
    return p->dims[3] >= 4 && (sa == 0 || sa == 1) && (sb == 0 || sb == 1) && (sa | sb);
}

void tinyeit_add_f32(const float *a, const float *b, float *out, const tinyeit_binary_params *p)
{
    if (a64_binary_fits(p)) a64_binary_f32(a, b, out, p, 0);
    else tinyeit_add_f32_ref(a, b, out, p);
}

void tinyeit_mul_f32(const float *a, const float *b, float *out, const tinyeit_binary_params *p)
{
    if (a64_binary_fits(p)) a64_binary_f32(a, b, out, p, 1);
    else tinyeit_mul_f32_ref(a, b, out, p);
}
#endif
