/* Cortex-M DSP int8 convolution: tinyeit_conv_s8 as, per output position, a fully connected
 * layer over the window (four filters per input pass, tinyeit_cm_dot.h): each filter row ky is
 * one contiguous run of (kx1 - kx0) * in_c bytes in the input and in the filter. Border windows
 * take the skipped taps back out of the folded bias (tap_corr), as the reference does. Dilated
 * widths go to the reference kernel. */
#include "tinyeit_common.h"

#if defined(TINYEIT_CORTEX_M_DSP)
#include "tinyeit_cm_dot.h"

static int32_t cm_skipped(const int32_t *tc, int32_t k_h, int32_t k_w, int32_t ky0, int32_t ky1,
                          int32_t kx0, int32_t kx1)
{
    int32_t ky, kx, s = 0;
    for (ky = 0; ky < k_h; ++ky)
        for (kx = 0; kx < k_w; ++kx)
            if (ky < ky0 || ky >= ky1 || kx < kx0 || kx >= kx1) s += tc[ky * k_w + kx];
    return s;
}

void tinyeit_conv_s8(const int8_t *in, const int8_t *w, const int32_t *bias,
                     const int32_t *tap_corr, const int32_t *mult, const int32_t *shift,
                     const int8_t *post, int8_t *out, const tinyeit_conv_params *p)
{
    const tinyeit_conv_params P = *p;
    const int32_t taps = P.k_h * P.k_w, fsize = taps * P.in_c;
    int32_t b, oy, ox, oc, ky, r;
    if (P.dil_w != 1) {
        tinyeit_conv_s8_ref(in, w, bias, tap_corr, mult, shift, post, out, p);
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
            const int8_t *base = in + (b * P.in_h * P.in_w + x0) * P.in_c;
            int32_t kx0, kx1, full, len;
            tap_range(x0, P.k_w, 1, P.in_w, &kx0, &kx1);
            full = ky0 == 0 && ky1 == P.k_h && kx0 == 0 && kx1 == P.k_w;
            len = (kx1 - kx0) * P.in_c;
            for (oc = 0; oc + 4 <= P.out_c; oc += 4) {
                const int8_t *wo = w + oc * fsize + kx0 * P.in_c;
                int32_t acc[4];
                for (r = 0; r < 4; ++r)
                    acc[r] = bias[oc + r] - (full ? 0 : cm_skipped(tap_corr + (oc + r) * taps,
                                                                    P.k_h, P.k_w, ky0, ky1,
                                                                    kx0, kx1));
                for (ky = ky0; ky < ky1; ++ky)
                    cm_dot4_s8(base + ((y0 + ky * P.dil_h) * P.in_w + kx0) * P.in_c,
                               wo + ky * P.k_w * P.in_c, fsize, len, acc);
                for (r = 0; r < 4; ++r)
                    o[oc + r] = epilogue_s8(acc[r], mult[oc + r], shift[oc + r], 0, P.cheap_rq,
                                            P.out_offset, P.act_min, P.act_max,
                                            post ? post + (oc + r) * P.post_len : NULL);
            }
            for (; oc < P.out_c; ++oc) {
                const int8_t *wo = w + oc * fsize + kx0 * P.in_c;
                int32_t acc = bias[oc] - (full ? 0 : cm_skipped(tap_corr + oc * taps, P.k_h,
                                                                 P.k_w, ky0, ky1, kx0, kx1));
                for (ky = ky0; ky < ky1; ++ky)
                    acc = cm_dot1_s8(base + ((y0 + ky * P.dil_h) * P.in_w + kx0) * P.in_c,
                                     wo + ky * P.k_w * P.in_c, len, acc);
                o[oc] = epilogue_s8(acc, mult[oc], shift[oc], 0, P.cheap_rq, P.out_offset,
                                    P.act_min, P.act_max, post ? post + oc * P.post_len : NULL);
            }
        }
    }
}
#endif
