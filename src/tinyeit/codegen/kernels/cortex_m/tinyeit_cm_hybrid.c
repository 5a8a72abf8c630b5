/* Cortex-M DSP hybrid (dynamic-range) fully connected on the unit-pair layout:
 * tinyeit_fc_hybrid_pairs (tinyeit_kernels.h). Written for this project.
 *
 * Three steps per batch row, each giving the reference's (tinyeit_fc_hybrid's) values:
 * - the row quantized to int8 in single precision and 16.16 fixed point where that is provably
 *   the reference's double-precision result (below), its own step for the rare inputs it is not;
 * - the int32 dot products by the int8 unit-pair loops of tinyeit_cm_fc_pairs.c
 *   (tinyeit_cm_pairs4u, tinyeit_cm_pairs3/2/1, called as they are): integer sums, so exact;
 * - the float step of the reference per unit (hybrid_out: the same operations in the same
 *   order), so the same bits.
 * The accumulators start at -zero point x the unit's weight sum (wsum), the reference's
 * correction, so each ends as the reference's corrected dot product. */
#include "tinyeit_common.h"

#if defined(TINYEIT_CORTEX_M_DSP)
#include "tinyeit_cm_dot.h"

/* tinyeit_cm_fc_pairs.c's loops (assembly; the argument conventions are documented there) */
void tinyeit_cm_pairs3(const int16_t *xw, const uint8_t *w, int32_t iters, int32_t *acc);
void tinyeit_cm_pairs2(const int16_t *xw, const uint8_t *w, int32_t iters, int32_t *acc);
void tinyeit_cm_pairs1(const int16_t *xw, const uint8_t *w, int32_t iters, int32_t *acc);
void tinyeit_cm_pairs4u(const int32_t *args);

/* four-pair blocks per tinyeit_cm_pairs4u call (their sums on the stack) */
#define CM_HYB_CHUNK 16
/* y in 16.16 fixed point, truncated toward zero (VCVT with 16 fraction bits, one instruction):
 * in assembly, so that NaN (0) and values past the range (saturated) are defined. */
static inline int32_t cm_hyb_fix16(float y)
{
    int32_t r;
    __asm__("vcvt.s32.f32 %0, %0, #16" : "+t"(y));
    memcpy(&r, &y, sizeof r);
    return r;
}

/* Y = y + 1/2 in 16.16 (truncated, so within 2^-16): floor(Y / 2^16) is y rounded to the
 * nearest integer wherever the fraction of Y is at least CM_HYB_NEAR / 2^16 = 2^-10 from a
 * whole number: then y, and the reference's value within 2^-14 of it (below), lie on the same
 * side of every half-integer, far from a tie. Fractions nearer (ties among them), NaN (Y = 0)
 * and saturated values (fraction 0xffff or 0) take the reference's step. */
#define CM_HYB_NEAR 64u
static inline int cm_hyb_near(int32_t Y)
{
    return ((uint32_t)Y & 0xffffu) - CM_HYB_NEAR > 0x10000u - 2u * CM_HYB_NEAR;
}

/* floor(Y / 2^16) clamped to [-128, 127]: one SSAT */
static inline int32_t cm_hyb_ssat8(int32_t Y)
{
    int32_t r;
    __asm__("ssat %0, #8, %1, asr #16" : "=r"(r) : "r"(Y));
    return r;
}

/* The asymmetric step in float: y + 1/2 = v x (float)(1 / scale) + (offset + 1/2). The
 * reference computes D = offset + v x (1 / scale) in double and rounds half away from zero.
 * |v / scale| <= 255 (v lies in [rmin, rmax]), so the float steps err by at most 255 x 2^-23
 * (the reciprocal's and the product's roundings) plus half an ulp of a value under 512
 * (2^-16), under 2^-14 in all, the double ones by far less. Reciprocals past float (subnormal
 * ranges) take the reference's step throughout. Returns 1 when the row holds a NaN. */
static int cm_hybrid_q_asym(const float *v, int32_t n, int8_t *q, int32_t offset, double inv)
{
    int32_t i, nan = 0;
    if (!(inv <= 0x1p100)) {
        for (i = 0; i < n; ++i) {
            q[i] = hybrid_q_asym(v[i], offset, inv);
            nan |= v[i] != v[i];
        }
        return nan;
    }
    {
        const float fi = (float)inv, zh = (float)offset + 0.5f;
        for (i = 0; i + 2 <= n; i += 2) {  /* two at a time: the FPU results not waited on */
            const int32_t Y0 = cm_hyb_fix16(v[i] * fi + zh);
            const int32_t Y1 = cm_hyb_fix16(v[i + 1] * fi + zh);
            if (cm_hyb_near(Y0) | cm_hyb_near(Y1)) {
                q[i] = hybrid_q_asym(v[i], offset, inv);
                q[i + 1] = hybrid_q_asym(v[i + 1], offset, inv);
                nan |= v[i] != v[i] || v[i + 1] != v[i + 1];
            } else {
                q[i] = (int8_t)cm_hyb_ssat8(Y0);
                q[i + 1] = (int8_t)cm_hyb_ssat8(Y1);
            }
        }
        if (i < n) q[i] = hybrid_q_asym(v[i], offset, inv);
    }
    return nan;
}

/* The symmetric step: t = v x inv, the reference's float product, then t + 1/2 in float
 * (within 2^-17: |t| <= 127) as above; the reference's roundf where Y's fraction is near a
 * whole number (ties), for NaN and past the range. Returns 1 when the row holds a NaN. */
static int cm_hybrid_q_sym(const float *v, int32_t n, int8_t *q, float inv)
{
    int32_t i, nan = 0;
    for (i = 0; i < n; ++i) {
        const int32_t Y = cm_hyb_fix16(v[i] * inv + 0.5f);
        const int32_t r = Y >> 16;
        if (cm_hyb_near(Y)) {
            q[i] = hybrid_q_sym(v[i], inv);
            nan |= v[i] != v[i];
        } else {
            q[i] = (int8_t)(r < -127 ? -127 : (r > 127 ? 127 : r));
        }
    }
    return nan;
}

/* The row quantized into q (n bytes, then zeros to a multiple of 4); returns the scale (1 for
 * an all-zero row) and sets *offset: the reference's quantize_row. */
static float cm_hybrid_quantize(const float *v, int32_t n, int8_t *q, int32_t asymmetric,
                                int32_t *offset)
{
    float mn = v[0], mx = v[0], sf, inv_f;
    double inv_d;
    int32_t i;
    /* the reference's min and max, two inputs at a time: the smaller of the two against mn,
     * the other against mx (3 compares for 4). The same values (a zero's sign does not matter
     * below) unless a NaN follows v[0]: it can hide its partner. Every NaN takes the element
     * step's fallback, which says so, and an all-zero result is checked for one: such rows go
     * through the reference's steps from the start. */
    for (i = 1; i + 2 <= n; i += 2) {
        const float a = v[i], b = v[i + 1];
        const float lo = a < b ? a : b, hi = a < b ? b : a;
        if (lo < mn) mn = lo;
        if (hi > mx) mx = hi;
    }
    if (i < n) { if (v[i] < mn) mn = v[i]; if (v[i] > mx) mx = v[i]; }
    for (i = n; i & 3; ++i) q[i] = 0;
    sf = tinyeit_hybrid_row_params(mn, mx, asymmetric, offset, &inv_d, &inv_f);
    if (sf == 0.0f) {
        for (i = 1; i < n && v[i] == v[i]; ++i) continue;
        if (i == n) {
            memset(q, 0, (size_t)n);
            return 1.0f;
        }
    } else if (!(asymmetric ? cm_hybrid_q_asym(v, n, q, *offset, inv_d)
                            : cm_hybrid_q_sym(v, n, q, inv_f))) {
        return sf;
    }
    /* a NaN after v[0]: the reference's min, max and steps */
    mn = mx = v[0];
    for (i = 1; i < n; ++i) { if (v[i] < mn) mn = v[i]; if (v[i] > mx) mx = v[i]; }
    sf = tinyeit_hybrid_row_params(mn, mx, asymmetric, offset, &inv_d, &inv_f);
    if (sf == 0.0f) {
        memset(q, 0, (size_t)n);
        return 1.0f;
    }
    for (i = 0; i < n; ++i)
        q[i] = asymmetric ? hybrid_q_asym(v[i], *offset, inv_d) : hybrid_q_sym(v[i], inv_f);
    return sf;
}

/* The row widened as tinyeit_cm_pairs3/2/1 read it (per 4 inputs the int16 lanes (x0, x2),
 * (x1, x3); zeros up to npad). q holds zeros past n up to a multiple of 4. */
static void cm_hybrid_widen(const int8_t *q, int32_t n, int32_t npad, int16_t *xw)
{
    const int32_t n4 = (n + 3) & ~3;
    tinyeit_cm_pairs_widen(q, n4 >> 2, xw);
    if (n4 < npad) memset(xw + n4, 0, (size_t)(npad - n4) * sizeof *xw);
}

static void cm_hybrid_row(const float *in, const uint8_t *w, const int32_t *wsum,
                          const float *w_scale, int32_t n_scale, const float *bias,
                          int8_t *q, int16_t *xw, float *o, const tinyeit_fc_params *p)
{
    const int32_t n = p->in_dim, units = p->units, all = (units + 1) >> 1;
    const int32_t npad = (n + TINYEIT_PAIRS_IN_ALIGN - 1) / TINYEIT_PAIRS_IN_ALIGN *
                         TINYEIT_PAIRS_IN_ALIGN;
    const int32_t iters = npad / TINYEIT_PAIRS_IN_ALIGN, wstep = 2 * npad;
    const int32_t left4 = pairs_wide(all, npad) ? all : 0;
    const int32_t all4 = (left4 & 3) == 1 && left4 > 4 ? (left4 >> 2) - 1 : left4 >> 2;
    const int32_t n4 = n & ~3, hu = 2 * ((n + 3) >> 2);
    int32_t offset, q0 = 0, j;
    uint32_t tail = 0;
    int32_t acc[8 * CM_HYB_CHUNK], start[8 * CM_HYB_CHUNK];
    float sf = cm_hybrid_quantize(in, n, q, p->asymmetric, &offset);
    if (n_scale == 1) sf *= w_scale[0];
    /* the four-pair loop widens the row itself */
    if (4 * all4 < all) cm_hybrid_widen(q, n, npad, xw);
    if (n4 < n) tail = cm_read32(q + n4);
    while (q0 < all) {
        const int32_t np = pairs_block(q0, all, npad);
        int32_t done, ucount, u0 = 2 * q0;
        if (np == 4) {
            const int32_t left = all - q0, full = left >> 2;
            int32_t nb = (left & 3) == 1 && full > 0 ? full - 1 : full;
            if (nb > CM_HYB_CHUNK) nb = CM_HYB_CHUNK;
            done = 4 * nb;
            /* the A units' start values at stride 2, as the loop reads its bias */
            for (j = 0; j < 2 * done && u0 + j < units; ++j)
                start[j] = offset != 0 ? -offset * wsum[u0 + j] : 0;
#if TINYEIT_PAIRS_WIDE
            {
                /* no output pointer: the raw sums to acc */
                const int32_t args[12] = {(int32_t)(uintptr_t)w, nb, n, (int32_t)(uintptr_t)acc,
                                          (int32_t)(uintptr_t)q, (int32_t)tail,
                                          (int32_t)(uintptr_t)start, (npad / 2 - hu) * 16,
                                          0, 0, 0, 0};
                tinyeit_cm_pairs4u(args);
            }
#else
            (void)hu;
#endif
        } else {
            for (j = 0; j < 2 * np; ++j)
                start[j] = offset != 0 && u0 + j < units ? -offset * wsum[u0 + j] : 0;
            for (j = 0; j < np; ++j)
                acc[2 * j] = acc[2 * j + 1] = start[2 * j];
            if (np == 3) tinyeit_cm_pairs3(xw, w, iters, acc);
            else if (np == 2) tinyeit_cm_pairs2(xw, w, iters, acc);
            else tinyeit_cm_pairs1(xw, w, iters, acc);
            done = np;
        }
        w += done * wstep;
        ucount = units - u0 < 2 * done ? units - u0 : 2 * done;
        /* per pair: the first unit's sum is U, the second's start + (R - U) >> 8 */
        for (j = 0; j < ucount; j += 2) {
            const int32_t r = acc[j], u = acc[j + 1];
            o[u0 + j] = hybrid_out(u, sf, w_scale, n_scale, bias, u0 + j, p);
            if (j + 1 < ucount)
                o[u0 + j + 1] = hybrid_out(start[j + 1] + ((int32_t)((uint32_t)r - (uint32_t)u)
                                                           >> 8),
                                           sf, w_scale, n_scale, bias, u0 + j + 1, p);
        }
        q0 += done;
    }
}

void tinyeit_fc_hybrid_pairs(const float *in, const uint8_t *w, const int32_t *wsum,
                             const float *w_scale, int32_t n_scale, const float *bias,
                             int8_t *scratch, float *out, const tinyeit_fc_params *p)
{
    const int32_t n16 = (p->in_dim + 15) & ~15;
    int16_t *xw = (int16_t *)(void *)(scratch + n16);
    int32_t b;
    for (b = 0; b < p->batches; ++b)
        cm_hybrid_row(in + b * p->in_dim, w, wsum, w_scale, n_scale, bias, scratch, xw,
                      out + b * p->units, p);
}
#endif
