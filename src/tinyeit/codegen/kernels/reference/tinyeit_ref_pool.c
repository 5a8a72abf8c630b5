/* tinyeit reference kernels: pooling and mean. Portable C99, the reference every target version is held
 * against and the fallback where a target has none. Written for this project from TFLite's
 * quantization specification; no code of other projects is copied here. */
#include "tinyeit_common.h"

#include <math.h>

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

/* Channel innermost: the output row starts as the first valid tap's row and takes the max with
 * each further tap's row, so every inner loop runs over contiguous channels (vectorizable, no
 * index arithmetic per element). A window with no valid tap gives -128, as TFLite's. */
void TINYEIT_REF_MAXPOOL_S8(const int8_t *in, int8_t *out, const tinyeit_pool_params *p)
{
    const tinyeit_pool_params P = *p;
    const int32_t C = P.ch;
    const int clamp = P.act_min > -128 || P.act_max < 127;
    int32_t b, oy, ox, ky, kx, c;
    for (b = 0; b < P.batches; ++b)
    for (oy = 0; oy < P.out_h; ++oy)
    for (ox = 0; ox < P.out_w; ++ox) {
        const int32_t y0 = oy * P.stride_h - P.pad_h, x0 = ox * P.stride_w - P.pad_w;
        const int32_t ky0 = TINYEIT_MAX(0, -y0), ky1 = TINYEIT_MIN(P.k_h, P.in_h - y0);
        const int32_t kx0 = TINYEIT_MAX(0, -x0), kx1 = TINYEIT_MIN(P.k_w, P.in_w - x0);
        int8_t *o = out + ((b * P.out_h + oy) * P.out_w + ox) * C;
        int first = 1;
        for (ky = ky0; ky < ky1; ++ky)
            for (kx = kx0; kx < kx1; ++kx) {
                const int8_t *row = in + ((b * P.in_h + y0 + ky) * P.in_w + x0 + kx) * C;
                if (first) {
                    memcpy(o, row, (size_t)C);
                    first = 0;
                } else {
                    for (c = 0; c < C; ++c) o[c] = row[c] > o[c] ? row[c] : o[c];
                }
            }
        if (first) memset(o, 0x80, (size_t)C);
        if (clamp)
            for (c = 0; c < C; ++c) o[c] = sat_s8(o[c], P.act_min, P.act_max);
    }
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

/* Channel innermost, as tinyeit_maxpool_s8; `v > m` keeps the first of equal values and lets a
 * NaN through only as the first tap, exactly as the element-wise loop did. */
void TINYEIT_REF_MAXPOOL_F32(const float *in, float *out, const tinyeit_pool_params *p)
{
    const tinyeit_pool_params P = *p;
    const int32_t C = P.ch;
    int32_t b, oy, ox, ky, kx, c;
    for (b = 0; b < P.batches; ++b)
    for (oy = 0; oy < P.out_h; ++oy)
    for (ox = 0; ox < P.out_w; ++ox) {
        const int32_t y0 = oy * P.stride_h - P.pad_h, x0 = ox * P.stride_w - P.pad_w;
        const int32_t ky0 = TINYEIT_MAX(0, -y0), ky1 = TINYEIT_MIN(P.k_h, P.in_h - y0);
        const int32_t kx0 = TINYEIT_MAX(0, -x0), kx1 = TINYEIT_MIN(P.k_w, P.in_w - x0);
        float *o = out + ((b * P.out_h + oy) * P.out_w + ox) * C;
        for (c = 0; c < C; ++c) o[c] = -INFINITY;
        for (ky = ky0; ky < ky1; ++ky)
            for (kx = kx0; kx < kx1; ++kx) {
                const float *row = in + ((b * P.in_h + y0 + ky) * P.in_w + x0 + kx) * C;
                for (c = 0; c < C; ++c)
                    if (row[c] > o[c]) o[c] = row[c];
            }
        for (c = 0; c < C; ++c) o[c] = clamp_f(o[c], P.f_min, P.f_max);
    }
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

void TINYEIT_REF_MEAN_F32(const float *in, float *out, int32_t outer, int32_t reduce, int32_t inner)
{
    int32_t o, r, i;
    for (o = 0; o < outer; ++o)
        for (i = 0; i < inner; ++i) {
            float acc = 0.0f;
            for (r = 0; r < reduce; ++r) acc += in[(o * reduce + r) * inner + i];
            out[o * inner + i] = acc / (float)reduce;
        }
}
