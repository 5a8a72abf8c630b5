/* tinyeit reference kernels: convolution and depthwise convolution (int8, float). Portable C99, the reference every target version is held
 * against and the fallback where a target has none. Written for this project from TFLite's
 * quantization specification; no code of other projects is copied here. */
#include "tinyeit_common.h"

#include <math.h>

/* bias: the model's bias plus in_offset * sum of each output channel's weights (folded at
 * generation time). Filters in the packed layout of fully connected weights (fc4_index: unit =
 * output channel). Each output position's window (conv_window: in place, or gathered with the
 * input zero point in the taps outside the input, which then add nothing) meets the filters as
 * a fully connected row (fc4_row). Windows over TINYEIT_PATCH_MAX: TFLite's own way, skipped
 * taps, with tap_corr (NULL when no window leaves the input): in_offset * the weight sum of
 * each (out channel, ky, kx) tap, subtracted for the taps a border window skips. */
void TINYEIT_REF_CONV_S8(const int8_t *in, const int8_t *w, const int32_t *bias,
                         const int32_t *tap_corr, const int32_t *mult, const int32_t *shift,
                         const int8_t *post, int8_t *out, const tinyeit_conv_params *p)
{
    const tinyeit_conv_params P = *p;
    const int32_t taps = P.k_h * P.k_w, K = taps * P.in_c;
    int32_t b, oy, ox, oc, ky, kx, ic;
    if (K <= TINYEIT_PATCH_MAX) {
        const tinyeit_epi e = {P.out_offset, P.act_min, P.act_max, 0, P.cheap_rq, P.post_len};
        union { int8_t v[TINYEIT_PATCH_MAX]; int32_t align; } patch;
        int8_t *o = out;
        for (b = 0; b < P.batches; ++b)
            for (oy = 0; oy < P.out_h; ++oy)
                for (ox = 0; ox < P.out_w; ++ox, o += P.out_c)
                    fc4_row(conv_window(in, p, b, oy, ox, patch.v), w, K, P.out_c, bias, 0,
                            mult, shift, &e, post, o);
        return;
    }
    for (b = 0; b < P.batches; ++b)
    for (oy = 0; oy < P.out_h; ++oy) {
        const int32_t y0 = oy * P.stride_h - P.pad_h;
        int32_t ky0, ky1;
        tap_range(y0, P.k_h, P.dil_h, P.in_h, &ky0, &ky1);
        for (ox = 0; ox < P.out_w; ++ox) {
            const int32_t x0 = ox * P.stride_w - P.pad_w;
            int8_t *o = out + (((b * P.out_h + oy) * P.out_w + ox) * P.out_c);
            int32_t kx0, kx1, full;
            tap_range(x0, P.k_w, P.dil_w, P.in_w, &kx0, &kx1);
            full = ky0 == 0 && ky1 == P.k_h && kx0 == 0 && kx1 == P.k_w;
            for (oc = 0; oc < P.out_c; ++oc) {
                int32_t acc = bias[oc];
                if (!full) {
                    const int32_t *tc = tap_corr + oc * taps;
                    for (ky = 0; ky < P.k_h; ++ky)
                        for (kx = 0; kx < P.k_w; ++kx)
                            if (ky < ky0 || ky >= ky1 || kx < kx0 || kx >= kx1)
                                acc -= tc[ky * P.k_w + kx];
                }
                for (ky = ky0; ky < ky1; ++ky)
                    for (kx = kx0; kx < kx1; ++kx) {
                        const int8_t *xs = in + ((b * P.in_h + y0 + ky * P.dil_h) * P.in_w + x0 +
                                                 kx * P.dil_w) * P.in_c;
                        const int32_t k0 = (ky * P.k_w + kx) * P.in_c;
                        for (ic = 0; ic < P.in_c; ++ic)
                            acc += (int32_t)xs[ic] * w[fc4_index(oc, k0 + ic, K, P.out_c)];
                    }
                o[oc] = epilogue_s8(acc, mult[oc], shift[oc], 0, 0, P.out_offset, P.act_min,
                                    P.act_max, post ? post + oc * P.post_len : NULL);
            }
        }
    }
}

/* Weights: output channels in blocks of TINYEIT_F32_BLOCK interleaved (see tinyeit_dot8_f32),
 * the remaining channels as plain [k_h][k_w][in_c] rows; each sum runs in TFLite's order. */
void TINYEIT_REF_CONV_F32(const float *in, const float *w, const float *bias, float *out,
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
                    o[oc + j] = post_f(clamp_f(r, P.f_min, P.f_max), &P, oc + j);
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
                o[oc] = post_f(clamp_f(acc, P.f_min, P.f_max), &P, oc);
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
            o[oc] = post_f(clamp_f(acc, P.f_min, P.f_max), &P, oc);
        }
    }
}
