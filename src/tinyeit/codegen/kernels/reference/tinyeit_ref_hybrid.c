/* tinyeit reference kernels: dynamic-range (hybrid) fully connected and convolution. Portable C99, the reference every target version is held
 * against and the fallback where a target has none. Written for this project from TFLite's
 * quantization specification; no code of other projects is copied here. */
#include "tinyeit_common.h"

#include <math.h>
#include <string.h>

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
            const double r = round((double)nudged + (double)v[i] * inv);
            int32_t qv = (int32_t)(r >= -256.0 ? (r <= 256.0 ? r : 256.0) : -256.0);
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
            int32_t qv = round_to_i32_s8(roundf(v[i] * inv));
            q[i] = (int8_t)TINYEIT_MIN(127, TINYEIT_MAX(-127, qv));
        }
        return scale_f;
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
