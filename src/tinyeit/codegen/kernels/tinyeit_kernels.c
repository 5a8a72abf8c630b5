/* tinyeit kernels: see tinyeit_kernels.h for the rules they follow. Written for this project
 * from TFLite's quantization specification; no code of other projects is copied here. */
#include "tinyeit_kernels.h"

#include <math.h>
#include <string.h>

#define TINYEIT_MIN(a, b) ((a) < (b) ? (a) : (b))
#define TINYEIT_MAX(a, b) ((a) > (b) ? (a) : (b))

int32_t tinyeit_srdhm(int32_t a, int32_t b)
{
    int64_t ab, nudge;
    if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
    ab = (int64_t)a * (int64_t)b;
    nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

int32_t tinyeit_rdbpot(int32_t x, int exponent)
{
    int32_t mask, remainder, threshold;
    if (exponent <= 0) return x;
    mask = (int32_t)(((uint32_t)1 << exponent) - 1u);
    remainder = x & mask;
    threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

int32_t tinyeit_mbqm(int32_t x, int32_t multiplier, int shift)
{
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    int32_t shifted = (int32_t)((uint32_t)x << left);
    return tinyeit_rdbpot(tinyeit_srdhm(shifted, multiplier), right);
}

static int8_t sat_s8(int32_t v, int32_t lo, int32_t hi)
{
    return (int8_t)(v < lo ? lo : (v > hi ? hi : v));
}

static float clamp_f(float v, float lo, float hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* The one inner loop of int8 conv and fully connected: sum a[i] * b[i] over n elements, both
 * operands raw int8 (zero-point terms are folded into the bias at generation time). gcc -O2
 * vectorizes it (SSE2/NEON) or unrolls it (Cortex-M); integer sums, so every target gives the
 * same result. A DSP (SMLAD) implementation replaces this function only. */
#if defined(__GNUC__)
__attribute__((noinline))  /* inlined into its callers' loop nests, gcc stops vectorizing it */
#endif
static int32_t tinyeit_dot_s8(const int8_t *a, const int8_t *b, int32_t n)
{
    /* a trip count gcc knows is a multiple of 16: vectorized without an epilogue, or (no SIMD
     * unit) unrolled 16 times into ldrsb/ldrsb/smlabb */
    const int32_t n16 = n & ~15;
    int32_t acc = 0, i = 0;
#if defined(__ARM_ARCH) && !defined(__ARM_NEON)
#pragma GCC unroll 16
#endif
    for (; i < n16; ++i) acc += (int32_t)a[i] * (int32_t)b[i];
    for (; i < n; ++i) acc += (int32_t)a[i] * (int32_t)b[i];
    return acc;
}

static int32_t tinyeit_sum_s8(const int8_t *a, int32_t n)
{
    int32_t acc = 0, i;
    for (i = 0; i < n; ++i) acc += a[i];
    return acc;
}

/* Float dot product continuing the running sum `acc`, strictly in element order: the same
 * rounding as TFLite's reference kernels (and on every target). Unrolled by hand (same order)
 * so that loop overhead is paid once per four products. */
static float tinyeit_dot_f32(float acc, const float *a, const float *b, int32_t n)
{
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        acc += a[i] * b[i];
        acc += a[i + 1] * b[i + 1];
        acc += a[i + 2] * b[i + 2];
        acc += a[i + 3] * b[i + 3];
    }
    for (; i < n; ++i) acc += a[i] * b[i];
    return acc;
}

/* Eight float dot products at once, each continuing its own running sum strictly in element
 * order (so each equals tinyeit_dot_f32 bit for bit): w holds 8 interleaved rows, w[i * 8 + j]
 * = row j, element i (the generator lays weights out this way). The 8 lanes vectorize. */
static void tinyeit_dot8_f32(float *acc, const float *x, const float *w, int32_t n)
{
    float s[8];  /* local copy: the compiler keeps it in registers (acc may alias x, w) */
    int32_t i, j;
    for (j = 0; j < 8; ++j) s[j] = acc[j];
    for (i = 0; i < n; ++i) {
        const float xv = x[i];
        for (j = 0; j < 8; ++j) s[j] += xv * w[i * 8 + j];
    }
    for (j = 0; j < 8; ++j) acc[j] = s[j];
}

/* Valid filter taps [*k0, *k1) of a window starting at input coordinate `start`. */
static void tap_range(int32_t start, int32_t k, int32_t dil, int32_t size, int32_t *k0,
                      int32_t *k1)
{
    int32_t lo = 0, hi = k;
    if (start < 0) lo = (-start + dil - 1) / dil;
    if (start >= size) hi = 0;
    else if (start + (k - 1) * dil >= size) hi = (size - 1 - start) / dil + 1;
    if (hi < lo) hi = lo;
    *k0 = lo;
    *k1 = hi;
}

/* tinyeit_mbqm for multipliers from the generator (0 <= mult < 2^31, never INT32_MIN, so the
 * saturating case of srdhm cannot occur) without branches: same result bit for bit. */
static int32_t mbqm_fast(int32_t x, int32_t mult, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    const int64_t ab = (int64_t)(int32_t)((uint32_t)x << left) * (int64_t)mult;
    const int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    const int32_t h = (int32_t)((ab + nudge) / ((int64_t)1 << 31));
    const int32_t mask = (int32_t)(((uint32_t)1 << right) - 1u);
    const int32_t threshold = (mask >> 1) + (h < 0 ? 1 : 0);
    return (h >> right) + ((h & mask) > threshold ? 1 : 0);
}

/* Requantize with a per-channel (multiplier, shift) and clamp: the int8 output of an
 * accumulator, exactly TFLite's MultiplyByQuantizedMultiplier. */
static int8_t requant(int32_t acc, int32_t mult, int32_t shift, int32_t out_offset,
                      int32_t lo, int32_t hi)
{
    return sat_s8(mbqm_fast(acc, mult, shift) + out_offset, lo, hi);
}

/* bias: the model's bias plus in_offset * sum of each output channel's weights (folded at
 * generation time). tap_corr (NULL when no window leaves the input): in_offset * the weight sum
 * of each (out channel, ky, kx) tap, subtracted for the taps a border window skips, which
 * TFLite's kernel leaves out of the sum. */
void tinyeit_conv_s8(const int8_t *in, const int8_t *w, const int32_t *bias,
                     const int32_t *tap_corr, const int32_t *mult, const int32_t *shift,
                     int8_t *out, const tinyeit_conv_params *p)
{
    const tinyeit_conv_params P = *p;
    const int32_t taps = P.k_h * P.k_w;
    int32_t b, oy, ox, oc, ky, kx;
    for (b = 0; b < P.batches; ++b)
    for (oy = 0; oy < P.out_h; ++oy) {
        const int32_t y0 = oy * P.stride_h - P.pad_h;
        int32_t ky0, ky1;
        tap_range(y0, P.k_h, P.dil_h, P.in_h, &ky0, &ky1);
        for (ox = 0; ox < P.out_w; ++ox) {
            const int32_t x0 = ox * P.stride_w - P.pad_w;
            int8_t *o = out + (((b * P.out_h + oy) * P.out_w + ox) * P.out_c);
            const int32_t base = (b * P.in_h * P.in_w + x0) * P.in_c;
            int32_t kx0, kx1, full;
            tap_range(x0, P.k_w, P.dil_w, P.in_w, &kx0, &kx1);
            full = ky0 == 0 && ky1 == P.k_h && kx0 == 0 && kx1 == P.k_w;
            for (oc = 0; oc < P.out_c; ++oc) {
                const int8_t *wo = w + oc * taps * P.in_c;
                int32_t acc = bias[oc];
                if (!full) {
                    const int32_t *tc = tap_corr + oc * taps;
                    for (ky = 0; ky < P.k_h; ++ky)
                        for (kx = 0; kx < P.k_w; ++kx)
                            if (ky < ky0 || ky >= ky1 || kx < kx0 || kx >= kx1)
                                acc -= tc[ky * P.k_w + kx];
                }
                for (ky = ky0; ky < ky1; ++ky) {
                    const int32_t xr = base + (y0 + ky * P.dil_h) * P.in_w * P.in_c;
                    const int8_t *wr = wo + ky * P.k_w * P.in_c;
                    if (P.dil_w == 1) {
                        const int32_t len = (kx1 - kx0) * P.in_c;
                        const int8_t *xs = in + (xr + kx0 * P.in_c), *ws = wr + kx0 * P.in_c;
                        if (len < 16) {  /* short rows (Conv1D on few channels): no call */
                            int32_t k;
                            for (k = 0; k < len; ++k) acc += (int32_t)xs[k] * (int32_t)ws[k];
                        } else {
                            acc += tinyeit_dot_s8(xs, ws, len);
                        }
                    } else {
                        for (kx = kx0; kx < kx1; ++kx)
                            acc += tinyeit_dot_s8(in + (xr + kx * P.dil_w * P.in_c),
                                                  wr + kx * P.in_c, P.in_c);
                    }
                }
                o[oc] = requant(acc, mult[oc], shift[oc], P.out_offset, P.act_min, P.act_max);
            }
        }
    }
}

/* Weights: output channels in blocks of TINYEIT_F32_BLOCK interleaved (see tinyeit_dot8_f32),
 * the remaining channels as plain [k_h][k_w][in_c] rows; each sum runs in TFLite's order. */
void tinyeit_conv_f32(const float *in, const float *w, const float *bias, float *out,
                      const tinyeit_conv_params *p)
{
    const tinyeit_conv_params P = *p;
    const int32_t depth = P.k_h * P.k_w * P.in_c;
    const int32_t blocked = P.out_c - P.out_c % TINYEIT_F32_BLOCK;
    int32_t b, oy, ox, oc, ky, kx, j;
    for (b = 0; b < P.batches; ++b)
    for (oy = 0; oy < P.out_h; ++oy) {
        const int32_t y0 = oy * P.stride_h - P.pad_h;
        int32_t ky0, ky1;
        tap_range(y0, P.k_h, P.dil_h, P.in_h, &ky0, &ky1);
        for (ox = 0; ox < P.out_w; ++ox) {
            const int32_t x0 = ox * P.stride_w - P.pad_w;
            float *o = out + (((b * P.out_h + oy) * P.out_w + ox) * P.out_c);
            const int32_t base = (b * P.in_h * P.in_w + x0) * P.in_c;
            int32_t kx0, kx1;
            tap_range(x0, P.k_w, P.dil_w, P.in_w, &kx0, &kx1);
            for (oc = 0; oc < blocked; oc += TINYEIT_F32_BLOCK) {
                const float *wo = w + oc * depth;
                float acc[TINYEIT_F32_BLOCK];
                for (j = 0; j < TINYEIT_F32_BLOCK; ++j) acc[j] = 0.0f;
                for (ky = ky0; ky < ky1; ++ky) {
                    const int32_t xr = base + (y0 + ky * P.dil_h) * P.in_w * P.in_c;
                    const int32_t wr = ky * P.k_w * P.in_c;
                    if (P.dil_w == 1) {
                        tinyeit_dot8_f32(acc, in + (xr + kx0 * P.in_c),
                                         wo + (wr + kx0 * P.in_c) * TINYEIT_F32_BLOCK,
                                         (kx1 - kx0) * P.in_c);
                    } else {
                        for (kx = kx0; kx < kx1; ++kx)
                            tinyeit_dot8_f32(acc, in + (xr + kx * P.dil_w * P.in_c),
                                             wo + (wr + kx * P.in_c) * TINYEIT_F32_BLOCK, P.in_c);
                    }
                }
                for (j = 0; j < TINYEIT_F32_BLOCK; ++j) {
                    const float r = bias ? acc[j] + bias[oc + j] : acc[j];
                    o[oc + j] = clamp_f(r, P.f_min, P.f_max);
                }
            }
            for (oc = blocked; oc < P.out_c; ++oc) {
                const float *wo = w + oc * depth;
                float acc = 0.0f;
                for (ky = ky0; ky < ky1; ++ky) {
                    const int32_t xr = base + (y0 + ky * P.dil_h) * P.in_w * P.in_c;
                    const float *wr = wo + ky * P.k_w * P.in_c;
                    if (P.dil_w == 1) {
                        acc = tinyeit_dot_f32(acc, in + (xr + kx0 * P.in_c), wr + kx0 * P.in_c,
                                              (kx1 - kx0) * P.in_c);
                    } else {
                        for (kx = kx0; kx < kx1; ++kx)
                            acc = tinyeit_dot_f32(acc, in + (xr + kx * P.dil_w * P.in_c),
                                                  wr + kx * P.in_c, P.in_c);
                    }
                }
                if (bias) acc += bias[oc];
                o[oc] = clamp_f(acc, P.f_min, P.f_max);
            }
        }
    }
}

/* Depthwise: weights [1, k_h, k_w, out_c], out channel oc reads input channel oc / depth_mult. */
void tinyeit_dwconv_s8(const int8_t *in, const int8_t *w, const int32_t *bias,
                       const int32_t *mult, const int32_t *shift, int8_t *out,
                       const tinyeit_conv_params *p)
{
    const tinyeit_conv_params P = *p;
    int32_t b, oy, ox, oc, ky, kx;
    for (b = 0; b < P.batches; ++b)
    for (oy = 0; oy < P.out_h; ++oy)
    for (ox = 0; ox < P.out_w; ++ox) {
        const int32_t y0 = oy * P.stride_h - P.pad_h, x0 = ox * P.stride_w - P.pad_w;
        int8_t *o = out + (((b * P.out_h + oy) * P.out_w + ox) * P.out_c);
        for (oc = 0; oc < P.out_c; ++oc) {
            const int32_t ic = oc / P.depth_mult;
            int32_t acc = bias ? bias[oc] : 0;
            for (ky = 0; ky < P.k_h; ++ky) {
                const int32_t y = y0 + ky * P.dil_h;
                if (y < 0 || y >= P.in_h) continue;
                for (kx = 0; kx < P.k_w; ++kx) {
                    const int32_t x = x0 + kx * P.dil_w;
                    if (x < 0 || x >= P.in_w) continue;
                    acc += ((int32_t)in[((b * P.in_h + y) * P.in_w + x) * P.in_c + ic]
                            + P.in_offset) * (int32_t)w[(ky * P.k_w + kx) * P.out_c + oc];
                }
            }
            acc = tinyeit_mbqm(acc, mult[oc], shift[oc]) + P.out_offset;
            o[oc] = sat_s8(acc, P.act_min, P.act_max);
        }
    }
}

void tinyeit_dwconv_f32(const float *in, const float *w, const float *bias, float *out,
                        const tinyeit_conv_params *p)
{
    const tinyeit_conv_params P = *p;
    int32_t b, oy, ox, oc, ky, kx;
    for (b = 0; b < P.batches; ++b)
    for (oy = 0; oy < P.out_h; ++oy)
    for (ox = 0; ox < P.out_w; ++ox) {
        const int32_t y0 = oy * P.stride_h - P.pad_h, x0 = ox * P.stride_w - P.pad_w;
        float *o = out + (((b * P.out_h + oy) * P.out_w + ox) * P.out_c);
        for (oc = 0; oc < P.out_c; ++oc) {
            const int32_t ic = oc / P.depth_mult;
            float acc = 0.0f;
            for (ky = 0; ky < P.k_h; ++ky) {
                const int32_t y = y0 + ky * P.dil_h;
                if (y < 0 || y >= P.in_h) continue;
                for (kx = 0; kx < P.k_w; ++kx) {
                    const int32_t x = x0 + kx * P.dil_w;
                    if (x < 0 || x >= P.in_w) continue;
                    acc += in[((b * P.in_h + y) * P.in_w + x) * P.in_c + ic]
                           * w[(ky * P.k_w + kx) * P.out_c + oc];
                }
            }
            if (bias) acc += bias[oc];
            o[oc] = clamp_f(acc, P.f_min, P.f_max);
        }
    }
}

/* TFLite's hybrid input quantization (per batch row): asymmetric to [-128, 127] with a
 * nudged zero point, or symmetric to [-127, 127]. Returns the scale, sets *offset. */
static float quantize_row(const float *v, int32_t n, int8_t *q, int32_t asymmetric,
                          int32_t *offset)
{
    float mn = v[0], mx = v[0], scale_f;
    int32_t i;
    for (i = 1; i < n; ++i) { if (v[i] < mn) mn = v[i]; if (v[i] > mx) mx = v[i]; }
    if (asymmetric) {
        const double qmin = -128.0, qmax = 127.0;
        const double rmin = (double)(mn < 0.0f ? mn : 0.0f);
        const double rmax = (double)(mx > 0.0f ? mx : 0.0f);
        double scale, zp_min, zp_max, zp, inv;
        int32_t nudged;
        if (rmin == rmax) {
            memset(q, 0, (size_t)n);
            *offset = 0;
            return 1.0f;
        }
        scale = (rmax - rmin) / (qmax - qmin);
        zp_min = qmin - rmin / scale;
        zp_max = qmax - rmax / scale;
        zp = (fabs(qmin) + fabs(rmin / scale)) < (fabs(qmax) + fabs(rmax / scale)) ? zp_min
                                                                                  : zp_max;
        if (zp <= qmin) nudged = -128;
        else if (zp >= qmax) nudged = 127;
        else nudged = (int32_t)(int8_t)round(zp);
        scale_f = (float)scale;
        /* LiteRT scales in double here: with a float product, a value landing exactly on a
         * .5 step rounds the other way (seen on ReLU outputs). */
        inv = 1.0 / scale;
        for (i = 0; i < n; ++i) {
            int32_t qv = (int32_t)round((double)nudged + (double)v[i] * inv);
            q[i] = (int8_t)TINYEIT_MIN(127, TINYEIT_MAX(-128, qv));
        }
        *offset = nudged;
        return scale_f;
    } else {
        const float range = TINYEIT_MAX(fabsf(mn), fabsf(mx));
        float inv;
        *offset = 0;
        if (range == 0.0f) {
            memset(q, 0, (size_t)n);
            return 1.0f;
        }
        scale_f = range / 127.0f;
        inv = 127.0f / range;
        for (i = 0; i < n; ++i) {
            int32_t qv = (int32_t)roundf(v[i] * inv);
            q[i] = (int8_t)TINYEIT_MIN(127, TINYEIT_MAX(-127, qv));
        }
        return scale_f;
    }
}

/* bias: the model's bias plus in_offset * (sum of the unit's weights + n * w_offset), folded at
 * generation time; the w_offset * sum(x) term (zero for symmetric weights) stays here. */
void tinyeit_fc_s8(const int8_t *in, const int8_t *w, const int32_t *bias, const int32_t *mult,
                   const int32_t *shift, int8_t *out, const tinyeit_fc_params *p)
{
    const tinyeit_fc_params P = *p;
    int32_t b, u;
    for (b = 0; b < P.batches; ++b) {
        const int8_t *x = in + b * P.in_dim;
        const int32_t xterm = P.w_offset != 0 ? P.w_offset * tinyeit_sum_s8(x, P.in_dim) : 0;
        int8_t *o = out + b * P.units;
        for (u = 0; u < P.units; ++u) {
            int32_t acc = bias[u] + xterm + tinyeit_dot_s8(x, w + u * P.in_dim, P.in_dim);
            if (P.single_round) {
                const int total = 31 - shift[u];
                acc = (int32_t)(((int64_t)acc * mult[u] + ((int64_t)1 << (total - 1))) >> total);
                o[u] = sat_s8(acc + P.out_offset, P.act_min, P.act_max);
            } else {
                o[u] = requant(acc, mult[u], shift[u], P.out_offset, P.act_min, P.act_max);
            }
        }
    }
}

/* Weights: units in blocks of TINYEIT_F32_BLOCK interleaved, the remaining units as rows. */
void tinyeit_fc_f32(const float *in, const float *w, const float *bias, float *out,
                    const tinyeit_fc_params *p)
{
    const tinyeit_fc_params P = *p;
    const int32_t blocked = P.units - P.units % TINYEIT_F32_BLOCK;
    int32_t b, u, j;
    for (b = 0; b < P.batches; ++b) {
        const float *x = in + b * P.in_dim;
        float *o = out + b * P.units;
        for (u = 0; u < blocked; u += TINYEIT_F32_BLOCK) {
            float acc[TINYEIT_F32_BLOCK];
            for (j = 0; j < TINYEIT_F32_BLOCK; ++j) acc[j] = 0.0f;
            tinyeit_dot8_f32(acc, x, w + u * P.in_dim, P.in_dim);
            for (j = 0; j < TINYEIT_F32_BLOCK; ++j) {
                const float r = bias ? acc[j] + bias[u + j] : acc[j];
                o[u + j] = clamp_f(r, P.f_min, P.f_max);
            }
        }
        for (u = blocked; u < P.units; ++u) {
            float acc = tinyeit_dot_f32(0.0f, x, w + u * P.in_dim, P.in_dim);
            if (bias) acc += bias[u];
            o[u] = clamp_f(acc, P.f_min, P.f_max);
        }
    }
}

/* Hybrid (dynamic-range) fully connected, as TFLite: int8 weights, inputs quantized per row
 * at run time, int32 dot products, float rescale added to the bias. scratch: in_dim bytes. */
void tinyeit_fc_hybrid(const float *in, const int8_t *w, const float *w_scale, int32_t n_scale,
                       const float *bias, int8_t *scratch, float *out,
                       const tinyeit_fc_params *p)
{
    int32_t b, u;
    for (b = 0; b < p->batches; ++b) {
        int32_t offset;
        float sf = quantize_row(in + b * p->in_dim, p->in_dim, scratch, p->asymmetric, &offset);
        if (n_scale == 1) sf *= w_scale[0];
        for (u = 0; u < p->units; ++u) {
            const int8_t *row = w + u * p->in_dim;
            int32_t dot = tinyeit_dot_s8(scratch, row, p->in_dim);
            float scale = sf;
            float r = bias ? bias[u] : 0.0f;
            if (offset != 0) dot -= tinyeit_sum_s8(row, p->in_dim) * offset;
            if (n_scale != 1) scale *= w_scale[u];
            r += (float)dot * scale;
            out[b * p->units + u] = clamp_f(r, p->f_min, p->f_max);
        }
    }
}

/* Hybrid conv, per-channel weights: whole batch image quantized asymmetrically. */
void tinyeit_conv_hybrid(const float *in, const int8_t *w, const float *w_scale,
                         const float *bias, int8_t *scratch, float *out,
                         const tinyeit_conv_params *p)
{
    int32_t b, oy, ox, oc, ky, kx;
    const int32_t image = p->in_h * p->in_w * p->in_c;
    for (b = 0; b < p->batches; ++b) {
        int32_t offset;
        const float sf = quantize_row(in + b * image, image, scratch, 1, &offset);
        for (oy = 0; oy < p->out_h; ++oy)
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
            float *o = out + (((b * p->out_h + oy) * p->out_w + ox) * p->out_c);
            for (oc = 0; oc < p->out_c; ++oc) {
                int32_t acc = 0;
                float r;
                for (ky = 0; ky < p->k_h; ++ky) {
                    const int32_t y = y0 + ky * p->dil_h;
                    if (y < 0 || y >= p->in_h) continue;
                    for (kx = 0; kx < p->k_w; ++kx) {
                        const int32_t x = x0 + kx * p->dil_w;
                        if (x < 0 || x >= p->in_w) continue;
                        const int8_t *wr = w + ((oc * p->k_h + ky) * p->k_w + kx) * p->in_c;
                        acc += tinyeit_dot_s8(scratch + (y * p->in_w + x) * p->in_c, wr, p->in_c)
                               - offset * tinyeit_sum_s8(wr, p->in_c);
                    }
                }
                r = (float)acc * w_scale[oc] * sf;
                if (bias) r += bias[oc];
                o[oc] = clamp_f(r, p->f_min, p->f_max);
            }
        }
    }
}

#define POOL_LOOP_BEGIN                                                                       \
    int32_t b, oy, ox, c, ky, kx;                                                             \
    for (b = 0; b < P.batches; ++b)                                                          \
    for (oy = 0; oy < P.out_h; ++oy)                                                         \
    for (ox = 0; ox < P.out_w; ++ox) {                                                       \
        const int32_t y0 = oy * P.stride_h - P.pad_h, x0 = ox * P.stride_w - P.pad_w;     \
        const int32_t ky0 = TINYEIT_MAX(0, -y0), ky1 = TINYEIT_MIN(P.k_h, P.in_h - y0);     \
        const int32_t kx0 = TINYEIT_MAX(0, -x0), kx1 = TINYEIT_MIN(P.k_w, P.in_w - x0);     \
        const int32_t obase = ((b * P.out_h + oy) * P.out_w + ox) * P.ch;                  \
        for (c = 0; c < P.ch; ++c)

#define POOL_AT(ky, kx) (((b * P.in_h + y0 + (ky)) * P.in_w + x0 + (kx)) * P.ch + c)

void tinyeit_maxpool_s8(const int8_t *in, int8_t *out, const tinyeit_pool_params *p)
{
    const tinyeit_pool_params P = *p;
    POOL_LOOP_BEGIN {
        int32_t m = -128;
        for (ky = ky0; ky < ky1; ++ky)
            for (kx = kx0; kx < kx1; ++kx) m = TINYEIT_MAX(m, (int32_t)in[POOL_AT(ky, kx)]);
        out[obase + c] = sat_s8(m, P.act_min, P.act_max);
    }}
}

void tinyeit_avgpool_s8(const int8_t *in, int8_t *out, const tinyeit_pool_params *p)
{
    const tinyeit_pool_params P = *p;
    POOL_LOOP_BEGIN {
        int32_t acc = 0, count = (ky1 - ky0) * (kx1 - kx0);
        for (ky = ky0; ky < ky1; ++ky)
            for (kx = kx0; kx < kx1; ++kx) acc += in[POOL_AT(ky, kx)];
        if (count <= 0) count = 1;
        acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
        out[obase + c] = sat_s8(acc, P.act_min, P.act_max);
    }}
}

void tinyeit_maxpool_f32(const float *in, float *out, const tinyeit_pool_params *p)
{
    const tinyeit_pool_params P = *p;
    POOL_LOOP_BEGIN {
        float m = -INFINITY;
        for (ky = ky0; ky < ky1; ++ky)
            for (kx = kx0; kx < kx1; ++kx) {
                const float v = in[POOL_AT(ky, kx)];
                if (v > m) m = v;
            }
        out[obase + c] = clamp_f(m, P.f_min, P.f_max);
    }}
}

void tinyeit_avgpool_f32(const float *in, float *out, const tinyeit_pool_params *p)
{
    const tinyeit_pool_params P = *p;
    POOL_LOOP_BEGIN {
        float acc = 0.0f;
        int32_t count = (ky1 - ky0) * (kx1 - kx0);
        for (ky = ky0; ky < ky1; ++ky)
            for (kx = kx0; kx < kx1; ++kx) acc += in[POOL_AT(ky, kx)];
        out[obase + c] = clamp_f(acc / (float)count, P.f_min, P.f_max);
    }}
}

void tinyeit_mean_s8(const int8_t *in, int8_t *out, int32_t outer, int32_t reduce, int32_t inner,
                     int32_t in_zp, int32_t out_zp, int32_t mult, int32_t shift)
{
    int32_t o, r, i;
    for (o = 0; o < outer; ++o)
        for (i = 0; i < inner; ++i) {
            int32_t acc = 0;
            for (r = 0; r < reduce; ++r) acc += in[(o * reduce + r) * inner + i];
            acc = mbqm_fast(acc - in_zp * reduce, mult, shift) + out_zp;
            out[o * inner + i] = sat_s8(acc, -128, 127);
        }
}

void tinyeit_mean_f32(const float *in, float *out, int32_t outer, int32_t reduce, int32_t inner)
{
    int32_t o, r, i;
    for (o = 0; o < outer; ++o)
        for (i = 0; i < inner; ++i) {
            float acc = 0.0f;
            for (r = 0; r < reduce; ++r) acc += in[(o * reduce + r) * inner + i];
            out[o * inner + i] = acc / (float)reduce;
        }
}

#define BINARY_LOOP(BODY)                                                                     \
    int32_t i0, i1, i2, i3, k = 0;                                                            \
    for (i0 = 0; i0 < P.dims[0]; ++i0)                                                        \
    for (i1 = 0; i1 < P.dims[1]; ++i1)                                                        \
    for (i2 = 0; i2 < P.dims[2]; ++i2) {                                                      \
        const int32_t ra = i0 * P.s1[0] + i1 * P.s1[1] + i2 * P.s1[2];                        \
        const int32_t rb = i0 * P.s2[0] + i1 * P.s2[1] + i2 * P.s2[2];                        \
        for (i3 = 0; i3 < P.dims[3]; ++i3, ++k) {                                             \
            const int32_t ia = ra + i3 * P.s1[3], ib = rb + i3 * P.s2[3];                     \
            BODY                                                                              \
        }                                                                                     \
    }

/* t1, t2: each input's 256 possible values already shifted left and rescaled (generation
 * time, TFLite's ADD math), indexed by value + 128; one requantization per element remains. */
void tinyeit_add_s8(const int8_t *a, const int8_t *b, const int32_t *t1, const int32_t *t2,
                    int8_t *out, const tinyeit_binary_params *p)
{
    const tinyeit_binary_params P = *p;
    BINARY_LOOP({
        const int32_t r = mbqm_fast(t1[a[ia] + 128] + t2[b[ib] + 128], P.out_mult, P.out_shift);
        out[k] = sat_s8(r + P.out_offset, P.act_min, P.act_max);
    })
}

void tinyeit_mul_s8(const int8_t *a, const int8_t *b, int8_t *out, const tinyeit_binary_params *p)
{
    const tinyeit_binary_params P = *p;
    BINARY_LOOP({
        const int32_t prod = ((int32_t)a[ia] + P.in1_offset) * ((int32_t)b[ib] + P.in2_offset);
        out[k] = sat_s8(mbqm_fast(prod, P.out_mult, P.out_shift) + P.out_offset, P.act_min,
                        P.act_max);
    })
}
void tinyeit_add_f32(const float *a, const float *b, float *out, const tinyeit_binary_params *p)
{
    const tinyeit_binary_params P = *p;
    BINARY_LOOP({ out[k] = clamp_f(a[ia] + b[ib], P.f_min, P.f_max); })
}

void tinyeit_mul_f32(const float *a, const float *b, float *out, const tinyeit_binary_params *p)
{
    const tinyeit_binary_params P = *p;
    BINARY_LOOP({ out[k] = clamp_f(a[ia] * b[ib], P.f_min, P.f_max); })
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1, Q0.31 in and out. */
static int32_t one_over_one_plus_x(int32_t a)
{
    const int64_t sum = (int64_t)a + INT32_MAX;
    const int32_t half_den = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    int32_t x = 1515870810 + tinyeit_srdhm(half_den, -1010580540);
    int i;
    for (i = 0; i < 3; ++i) {
        const int32_t one_minus = (1 << 29) - tinyeit_srdhm(half_den, x);
        const int32_t t = tinyeit_srdhm(x, one_minus);
        const int32_t t4 = t > (INT32_MAX >> 2) ? INT32_MAX
                         : (t < (INT32_MIN >> 2) ? INT32_MIN : t * 4);
        x = (int32_t)((uint32_t)x + (uint32_t)t4);
    }
    return x > (INT32_MAX >> 1) ? INT32_MAX : (x < (INT32_MIN >> 1) ? INT32_MIN : x * 2);
}

static int clz32(uint32_t x)
{
    int n = 0;
    if (x == 0) return 32;
    while (!(x & 0x80000000u)) { x <<= 1; ++n; }
    return n;
}

/* TFLite reference int8 softmax: exp tables (Q0.31 and Q12.19) come from the generator. */
void tinyeit_softmax_s8(const int8_t *in, int8_t *out, int32_t rows, int32_t depth,
                        const int32_t *exp_q31, const int32_t *exp_acc)
{
    int32_t r, c;
    for (r = 0; r < rows; ++r) {
        const int8_t *x = in + r * depth;
        int8_t *y = out + r * depth;
        int32_t mx = -128, sum = 0, recip, bits;
        int headroom;
        for (c = 0; c < depth; ++c) mx = TINYEIT_MAX(mx, (int32_t)x[c]);
        for (c = 0; c < depth; ++c) sum += exp_acc[mx - x[c]];
        headroom = clz32((uint32_t)sum);
        bits = 12 - headroom;
        recip = one_over_one_plus_x((int32_t)(((uint32_t)sum << headroom) - 0x80000000u));
        for (c = 0; c < depth; ++c) {
            const int32_t e = exp_q31[mx - x[c]];
            int32_t v;
            if (e == 0 && mx - x[c] != 0) { y[c] = -128; continue; }
            v = tinyeit_rdbpot(tinyeit_srdhm(recip, e), bits + 31 - 8) - 128;
            y[c] = sat_s8(v, -128, 127);
        }
    }
}

/* exp and tanh through double: glibc's and newlib's double functions are accurate to within an
 * ulp of double, so rounding to float gives the correctly rounded float on every target (bar
 * ties closer than ~2^-29 ulp), where expf/tanhf differ between C libraries by 1-2 ulp. */
static float exp_f(float x)
{
    return (float)exp((double)x);
}

void tinyeit_softmax_f32(const float *in, float *out, int32_t rows, int32_t depth, float beta)
{
    int32_t r, c;
    for (r = 0; r < rows; ++r) {
        const float *x = in + r * depth;
        float *y = out + r * depth;
        float mx = x[0], sum = 0.0f;
        for (c = 1; c < depth; ++c) if (x[c] > mx) mx = x[c];
        for (c = 0; c < depth; ++c) { y[c] = exp_f((x[c] - mx) * beta); sum += y[c]; }
        for (c = 0; c < depth; ++c) y[c] = y[c] / sum;
    }
}

void tinyeit_lut_s8(const int8_t *in, int8_t *out, int32_t n, const int8_t *table)
{
    int32_t i;
    for (i = 0; i < n; ++i) out[i] = table[(int32_t)in[i] + 128];
}

void tinyeit_logistic_f32(const float *in, float *out, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {  /* TFLite's reference formula, cutoffs included */
        const float v = in[i];
        out[i] = v > 16.619047164916992188f ? 1.0f
               : (v < -9.0f ? exp_f(v) : 1.0f / (1.0f + exp_f(-v)));
    }
}

void tinyeit_tanh_f32(const float *in, float *out, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) out[i] = (float)tanh((double)in[i]);
}

void tinyeit_clamp_f32(const float *in, float *out, int32_t n, float lo, float hi)
{
    int32_t i;
    for (i = 0; i < n; ++i) out[i] = clamp_f(in[i], lo, hi);
}

void tinyeit_requant_s8(const int8_t *in, int8_t *out, int32_t n, int32_t in_zp, int32_t out_zp,
                        int32_t mult, int32_t shift, int32_t act_min, int32_t act_max)
{
    int32_t i;
    for (i = 0; i < n; ++i)
        out[i] = sat_s8(mbqm_fast((int32_t)in[i] - in_zp, mult, shift) + out_zp,
                        act_min, act_max);
}

void tinyeit_quantize_f32_s8(const float *in, int8_t *out, int32_t n, float scale, int32_t zp)
{
    int32_t i;
    for (i = 0; i < n; ++i) out[i] = sat_s8((int32_t)roundf(in[i] / scale) + zp, -128, 127);
}

void tinyeit_dequantize_s8_f32(const int8_t *in, float *out, int32_t n, float scale, int32_t zp)
{
    int32_t i;
    for (i = 0; i < n; ++i) out[i] = scale * (float)((int32_t)in[i] - zp);
}

/* 4D pad: dims outermost first; pad_value points at one element. */
void tinyeit_pad(const void *in, void *out, int32_t elem, const int32_t *in_dims,
                 const int32_t *before, const int32_t *out_dims, const void *pad_value)
{
    const uint8_t *src = (const uint8_t *)in;
    uint8_t *dst = (uint8_t *)out;
    int32_t i0, i1, i2, i3, k = 0;
    for (i0 = 0; i0 < out_dims[0]; ++i0)
    for (i1 = 0; i1 < out_dims[1]; ++i1)
    for (i2 = 0; i2 < out_dims[2]; ++i2)
    for (i3 = 0; i3 < out_dims[3]; ++i3, ++k) {
        const int32_t j0 = i0 - before[0], j1 = i1 - before[1];
        const int32_t j2 = i2 - before[2], j3 = i3 - before[3];
        if (j0 < 0 || j0 >= in_dims[0] || j1 < 0 || j1 >= in_dims[1] ||
            j2 < 0 || j2 >= in_dims[2] || j3 < 0 || j3 >= in_dims[3]) {
            memcpy(dst + (size_t)k * elem, pad_value, (size_t)elem);
        } else {
            const int32_t s = ((j0 * in_dims[1] + j1) * in_dims[2] + j2) * in_dims[3] + j3;
            memcpy(dst + (size_t)k * elem, src + (size_t)s * elem, (size_t)elem);
        }
    }
}

/* NHWC; out batch ob = (by * block_w + bx) * in_batches + b. */
void tinyeit_space_to_batch(const void *in, void *out, int32_t elem, const int32_t *in_dims,
                            const int32_t *out_dims, int32_t block_h, int32_t block_w,
                            int32_t pad_top, int32_t pad_left, const void *pad_value)
{
    const uint8_t *src = (const uint8_t *)in;
    uint8_t *dst = (uint8_t *)out;
    const int32_t in_b = in_dims[0], ch = in_dims[3];
    int32_t ob, oy, ox;
    for (ob = 0; ob < out_dims[0]; ++ob) {
        const int32_t b = ob % in_b, off = ob / in_b;
        const int32_t sy = off / block_w, sx = off % block_w;
        for (oy = 0; oy < out_dims[1]; ++oy)
        for (ox = 0; ox < out_dims[2]; ++ox) {
            const int32_t y = oy * block_h + sy - pad_top, x = ox * block_w + sx - pad_left;
            uint8_t *d = dst + (size_t)(((ob * out_dims[1] + oy) * out_dims[2] + ox) * ch) * elem;
            int32_t c;
            if (y < 0 || y >= in_dims[1] || x < 0 || x >= in_dims[2]) {
                for (c = 0; c < ch; ++c) memcpy(d + (size_t)c * elem, pad_value, (size_t)elem);
            } else {
                memcpy(d, src + (size_t)(((b * in_dims[1] + y) * in_dims[2] + x) * ch) * elem,
                       (size_t)(ch * elem));
            }
        }
    }
}

void tinyeit_batch_to_space(const void *in, void *out, int32_t elem, const int32_t *in_dims,
                            const int32_t *out_dims, int32_t block_h, int32_t block_w,
                            int32_t crop_top, int32_t crop_left)
{
    const uint8_t *src = (const uint8_t *)in;
    uint8_t *dst = (uint8_t *)out;
    const int32_t out_b = out_dims[0], ch = in_dims[3];
    int32_t ib, iy, ix;
    for (ib = 0; ib < in_dims[0]; ++ib) {
        const int32_t b = ib % out_b, off = ib / out_b;
        const int32_t sy = off / block_w, sx = off % block_w;
        for (iy = 0; iy < in_dims[1]; ++iy)
        for (ix = 0; ix < in_dims[2]; ++ix) {
            const int32_t y = iy * block_h + sy - crop_top, x = ix * block_w + sx - crop_left;
            if (y < 0 || y >= out_dims[1] || x < 0 || x >= out_dims[2]) continue;
            memcpy(dst + (size_t)(((b * out_dims[1] + y) * out_dims[2] + x) * ch) * elem,
                   src + (size_t)(((ib * in_dims[1] + iy) * in_dims[2] + ix) * ch) * elem,
                   (size_t)(ch * elem));
        }
    }
}

void tinyeit_concat(void *out, int32_t n_inputs, const void *const *inputs,
                    const int32_t *chunk_bytes, int32_t outer)
{
    uint8_t *dst = (uint8_t *)out;
    int32_t o, i;
    for (o = 0; o < outer; ++o)
        for (i = 0; i < n_inputs; ++i) {
            memcpy(dst, (const uint8_t *)inputs[i] + (size_t)o * chunk_bytes[i],
                   (size_t)chunk_bytes[i]);
            dst += chunk_bytes[i];
        }
}

void tinyeit_copy(const void *in, void *out, int32_t bytes)
{
    if (in != out) memmove(out, in, (size_t)bytes);
}
