/* Cortex-M4F float convolution: tinyeit_conv_f32 with every running sum in an FPU register.
 * The reference calls a dot product per output and tap row, and in its general loop gcc spills
 * most of its indices; here the sums of 8 channels (one interleaved weight block), then of 4,
 * 2 and 1 plain weight rows, stay in s registers while the window's taps stream past, for inputs
 * whose taps along a row are contiguous (dil_w == 1; the other geometries take the reference).
 * Each sum starts at 0.0f and adds its products in the reference's order (rows ky, then the
 * row's elements), each product rounded before it is added (VMLA.F32 is not fused), then the
 * same bias, clamp and folded MUL/ADD: the reference's bits. */
#include "tinyeit_common.h"

#if defined(TINYEIT_TARGET_CONV_F32) && defined(TINYEIT_CORTEX_M_DSP)

static inline float conv_out_f(float acc, const float *bias, int32_t c,
                               const tinyeit_conv_params *P)
{
    const float r = bias ? acc + bias[c] : acc;
    return post_f(clamp_f(r, P->f_min, P->f_max), P, c);
}

void tinyeit_conv_f32(const float *in, const float *w, const float *bias, float *out,
                      const tinyeit_conv_params *p)
{
    const tinyeit_conv_params P = *p;
    const int32_t depth = P.k_h * P.k_w * P.in_c, row = P.in_w * P.in_c;
    const int32_t blocked = P.out_c - P.out_c % TINYEIT_F32_BLOCK;
    int32_t b, oy, ox, oc, ky, i;
    if (P.dil_w != 1) {
        tinyeit_conv_f32_ref(in, w, bias, out, p);
        return;
    }
    for (b = 0; b < P.batches; ++b)
    for (oy = 0; oy < P.out_h; ++oy) {
        const int32_t y0 = oy * P.stride_h - P.pad_h;
        int32_t ky0, ky1;
        tap_range(y0, P.k_h, P.dil_h, P.in_h, &ky0, &ky1);
        for (ox = 0; ox < P.out_w; ++ox) {
            const int32_t x0 = ox * P.stride_w - P.pad_w;
            const int32_t kx0 = x0 < 0 ? -x0 : 0;
            const int32_t kx1 = TINYEIT_MAX(kx0, TINYEIT_MIN(P.k_w, P.in_w - x0));
            const int32_t n = (kx1 - kx0) * P.in_c, wskip = kx0 * P.in_c;
            /* the first valid tap of row ky is xs + (y0 + ky * dil_h) * row */
            const float *xs = in + (b * P.in_h * P.in_w + x0 + kx0) * P.in_c;
            float *o = out + ((b * P.out_h + oy) * P.out_w + ox) * P.out_c;
            for (oc = 0; oc < blocked; oc += TINYEIT_F32_BLOCK) {
                float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
                float a4 = 0.0f, a5 = 0.0f, a6 = 0.0f, a7 = 0.0f;
                for (ky = ky0; ky < ky1; ++ky) {
                    const float *x = xs + (y0 + ky * P.dil_h) * row;
                    const float *q = w + oc * depth + (ky * P.k_w * P.in_c + wskip) * 8;
                    for (i = 0; i < n; ++i, q += 8) {
                        const float xv = x[i];
                        a0 += xv * q[0]; a1 += xv * q[1]; a2 += xv * q[2]; a3 += xv * q[3];
                        a4 += xv * q[4]; a5 += xv * q[5]; a6 += xv * q[6]; a7 += xv * q[7];
                    }
                }
                o[oc] = conv_out_f(a0, bias, oc, &P);
                o[oc + 1] = conv_out_f(a1, bias, oc + 1, &P);
                o[oc + 2] = conv_out_f(a2, bias, oc + 2, &P);
                o[oc + 3] = conv_out_f(a3, bias, oc + 3, &P);
                o[oc + 4] = conv_out_f(a4, bias, oc + 4, &P);
                o[oc + 5] = conv_out_f(a5, bias, oc + 5, &P);
                o[oc + 6] = conv_out_f(a6, bias, oc + 6, &P);
                o[oc + 7] = conv_out_f(a7, bias, oc + 7, &P);
            }
            for (; oc + 4 <= P.out_c; oc += 4) {  /* plain rows, four at a time */
                float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
                for (ky = ky0; ky < ky1; ++ky) {
                    const float *x = xs + (y0 + ky * P.dil_h) * row;
                    const float *q = w + oc * depth + ky * P.k_w * P.in_c + wskip;
                    for (i = 0; i < n; ++i) {
                        const float xv = x[i];
                        a0 += xv * q[i];
                        a1 += xv * q[depth + i];
                        a2 += xv * q[2 * depth + i];
                        a3 += xv * q[3 * depth + i];
                    }
                }
                o[oc] = conv_out_f(a0, bias, oc, &P);
                o[oc + 1] = conv_out_f(a1, bias, oc + 1, &P);
                o[oc + 2] = conv_out_f(a2, bias, oc + 2, &P);
                o[oc + 3] = conv_out_f(a3, bias, oc + 3, &P);
            }
            if (oc + 2 <= P.out_c) {
                float a0 = 0.0f, a1 = 0.0f;
                for (ky = ky0; ky < ky1; ++ky) {
                    const float *x = xs + (y0 + ky * P.dil_h) * row;
                    const float *q = w + oc * depth + ky * P.k_w * P.in_c + wskip;
                    for (i = 0; i < n; ++i) {
                        const float xv = x[i];
                        a0 += xv * q[i];
                        a1 += xv * q[depth + i];
                    }
                }
                o[oc] = conv_out_f(a0, bias, oc, &P);
                o[oc + 1] = conv_out_f(a1, bias, oc + 1, &P);
                oc += 2;
            }
            if (oc < P.out_c) {
                float a0 = 0.0f;
                for (ky = ky0; ky < ky1; ++ky) {
                    const float *x = xs + (y0 + ky * P.dil_h) * row;
                    const float *q = w + oc * depth + ky * P.k_w * P.in_c + wskip;
                    for (i = 0; i < n; ++i) a0 += x[i] * q[i];
                }
                o[oc] = conv_out_f(a0, bias, oc, &P);
            }
        }
    }
}

#endif
