/* AArch64 NEON (ARMv8.0) hybrid (dynamic-range) fully connected on the packed int8 layout:
 * tinyeit_fc_hybrid_packed (tinyeit_kernels.h). Written for this project.
 *
 * Per batch row, each step giving the reference's (tinyeit_fc_hybrid's) values:
 * - the row quantized in the reference's own arithmetic, two lanes of double at a time:
 *   FCVTL, FMUL by 1 / scale, FADD of the zero point (never fused), FRINTA (C's round: half
 *   away from zero), FCVTZS and saturating narrows (the clamp to [-128, 127]); symmetric rows
 *   four float lanes (FMUL, FRINTA = roundf). Rows with a NaN or an infinity take the scalar
 *   steps of the reference (hybrid_q_asym, hybrid_q_sym), whose NaN rule FCVTZS does not share;
 * - the int32 dot products the way the NEON int8 fully connected takes them (16 units per
 *   broadcast group of 4 inputs, SMULL/SMLAL into int16 lanes, SADALP into int32): integer
 *   sums, exact; two products per int16 lane only without -128 weights (w_no_min);
 * - the zero point's term (MLS by the unit's weight sum), SCVTF, FMUL by row x unit scale,
 *   FADD of the bias, the clamp by compare and select: the reference's operations in its
 *   order, four units at a time, so its bits (FMAX would differ on -0 and NaN). */
#include "tinyeit_common.h"

#if defined(TINYEIT_AARCH64_NEON)
#include <arm_neon.h>

#include "tinyeit_a64_s8.h"

/* The reference's scalar row quantization (non-finite rows). */
static void a64h_q_scalar(const float *v, int32_t n, int8_t *q, int32_t asymmetric,
                          int32_t offset, double inv_d, float inv_f)
{
    int32_t i;
    for (i = 0; i < n; ++i)
        q[i] = asymmetric ? hybrid_q_asym(v[i], offset, inv_d) : hybrid_q_sym(v[i], inv_f);
}

/* q[0 .. n) the quantized row; returns the scale (1 for a row that
 * quantizes to zeros) and sets *offset. */
static float a64h_quantize(const float *v, int32_t n, int8_t *q, int32_t asymmetric,
                           int32_t *offset)
{
    float32x4_t vmn = vdupq_n_f32(v[0]), vmx = vmn;
    float mn, mx, sf, inv_f;
    double inv_d;
    int32_t i, finite;
    for (i = 0; i + 4 <= n; i += 4) {  /* FMIN/FMAX: a NaN anywhere makes both NaN */
        const float32x4_t x = vld1q_f32(v + i);
        vmn = vminq_f32(vmn, x);
        vmx = vmaxq_f32(vmx, x);
    }
    mn = vminvq_f32(vmn);
    mx = vmaxvq_f32(vmx);
    finite = mn >= -3.402823466e38f && mx <= 3.402823466e38f;
    for (; i < n; ++i) {
        finite = finite && v[i] >= -3.402823466e38f && v[i] <= 3.402823466e38f;
        if (v[i] < mn) mn = v[i];
        if (v[i] > mx) mx = v[i];
    }
    if (!finite) {  /* the reference's min and max (they skip NaN after the first element) */
        mn = mx = v[0];
        for (i = 1; i < n; ++i) { if (v[i] < mn) mn = v[i]; if (v[i] > mx) mx = v[i]; }
    }
    /* finite rows: the same min and max values (a zero's sign never matters below) */
    sf = tinyeit_hybrid_row_params(mn, mx, asymmetric, offset, &inv_d, &inv_f);
    if (sf == 0.0f) {
        memset(q, 0, (size_t)n);
        return 1.0f;
    }
    if (!finite) {
        a64h_q_scalar(v, n, q, asymmetric, *offset, inv_d, inv_f);
        return sf;
    }
    i = 0;
    if (asymmetric) {
        const float64x2_t inv = vdupq_n_f64(inv_d), zp = vdupq_n_f64((double)*offset);
        for (; i + 8 <= n; i += 8) {
            const float32x4_t a = vld1q_f32(v + i), b = vld1q_f32(v + i + 4);
            float64x2_t d0 = vcvt_f64_f32(vget_low_f32(a)), d1 = vcvt_high_f64_f32(a);
            float64x2_t d2 = vcvt_f64_f32(vget_low_f32(b)), d3 = vcvt_high_f64_f32(b);
            int32x4_t lo, hi;
            d0 = vrndaq_f64(vaddq_f64(zp, vmulq_f64(d0, inv)));
            d1 = vrndaq_f64(vaddq_f64(zp, vmulq_f64(d1, inv)));
            d2 = vrndaq_f64(vaddq_f64(zp, vmulq_f64(d2, inv)));
            d3 = vrndaq_f64(vaddq_f64(zp, vmulq_f64(d3, inv)));
            /* integral, |.| < 512: exact in int32 */
            lo = vcombine_s32(vmovn_s64(vcvtq_s64_f64(d0)), vmovn_s64(vcvtq_s64_f64(d1)));
            hi = vcombine_s32(vmovn_s64(vcvtq_s64_f64(d2)), vmovn_s64(vcvtq_s64_f64(d3)));
            vst1_s8(q + i, vqmovn_s16(vcombine_s16(vqmovn_s32(lo), vqmovn_s32(hi))));
        }
        for (; i < n; ++i) q[i] = hybrid_q_asym(v[i], *offset, inv_d);
    } else {
        const float32x4_t inv = vdupq_n_f32(inv_f);
        const int8x8_t m127 = vdup_n_s8(-127);
        for (; i + 8 <= n; i += 8) {
            const int32x4_t lo = vcvtq_s32_f32(vrndaq_f32(vmulq_f32(vld1q_f32(v + i), inv)));
            const int32x4_t hi = vcvtq_s32_f32(vrndaq_f32(vmulq_f32(vld1q_f32(v + i + 4), inv)));
            vst1_s8(q + i, vmax_s8(vqmovn_s16(vcombine_s16(vqmovn_s32(lo), vqmovn_s32(hi))),
                                   m127));
        }
        for (; i < n; ++i) q[i] = hybrid_q_sym(v[i], inv_f);
    }
    return sf;
}

typedef struct {
    const int32_t *wsum;
    const float *w_scale, *bias;
    int32_t n_scale, offset;
    float sf;
    float32x4_t lo, hi;
} a64h_epi;

/* Four units' float outputs from their sums, in hybrid_out's order. */
static inline void a64h_out4(int32x4_t acc, const a64h_epi *E, int32_t u, float *o)
{
    float32x4_t s = vdupq_n_f32(E->sf), r;
    if (E->offset != 0) acc = vmlsq_n_s32(acc, vld1q_s32(E->wsum + u), E->offset);
    if (E->n_scale != 1) s = vmulq_f32(s, vld1q_f32(E->w_scale + u));
    r = vmulq_f32(vcvtq_f32_s32(acc), s);
    r = vaddq_f32(E->bias ? vld1q_f32(E->bias + u) : vdupq_n_f32(0.0f), r);
    r = vbslq_f32(vcltq_f32(r, E->lo), E->lo, vbslq_f32(vcgtq_f32(r, E->hi), E->hi, r));
    vst1q_f32(o + u, r);
}

void tinyeit_fc_hybrid_packed(const float *in, const int8_t *w, const int32_t *wsum,
                              const float *w_scale, int32_t n_scale, const float *bias,
                              int8_t *scratch, float *out, const tinyeit_fc_params *p)
{
    const int32_t n = p->in_dim, units = p->units;
    const int pair = p->w_no_min;
    a64h_epi E;
    int32_t b, u;
    int32x4_t a[4];
    E.wsum = wsum;
    E.w_scale = w_scale;
    E.bias = bias;
    E.n_scale = n_scale;
    E.lo = vdupq_n_f32(p->f_min);
    E.hi = vdupq_n_f32(p->f_max);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = scratch;
        float *o = out + b * units;
        E.sf = a64h_quantize(in + b * n, n, scratch, p->asymmetric, &E.offset);
        if (n_scale == 1) E.sf *= w_scale[0];
        for (u = 0; u + 16 <= units; u += 16) {
            a64_fc_blocks(x, w + u * n, n, 4, pair, a);
            a64h_out4(a[0], &E, u, o);
            a64h_out4(a[1], &E, u + 4, o);
            a64h_out4(a[2], &E, u + 8, o);
            a64h_out4(a[3], &E, u + 12, o);
        }
        if (u + 8 <= units) {
            a64_fc_blocks(x, w + u * n, n, 2, pair, a);
            a64h_out4(a[0], &E, u, o);
            a64h_out4(a[1], &E, u + 4, o);
            u += 8;
        }
        if (u + 4 <= units) {
            a64_fc_blocks(x, w + u * n, n, 1, pair, a);
            a64h_out4(a[0], &E, u, o);
            u += 4;
        }
        for (; u < units; ++u) {  /* the units % 4 plain rows */
            const int8_t *row = w + u * n;
            int32_t dot = 0, k;
            for (k = 0; k < n; ++k) dot += (int32_t)x[k] * (int32_t)row[k];
            if (E.offset != 0) dot -= wsum[u] * E.offset;
            o[u] = hybrid_out(dot, E.sf, w_scale, n_scale, bias, u, p);
        }
    }
}
#endif
