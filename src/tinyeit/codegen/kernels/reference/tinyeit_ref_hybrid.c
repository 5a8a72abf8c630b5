/* tinyeit reference kernels: dynamic-range (hybrid) fully connected and convolution. Portable C99, the reference every target version is held
 * against and the fallback where a target has none. Written for this project from TFLite's
 * quantization specification; no code of other projects is copied here. */
#include "tinyeit_common.h"

#include <math.h>
#include <string.h>

/* The per-row constants of TFLite's hybrid input quantization from the row's min and max:
 * asymmetric to [-128, 127] with a nudged zero point, or symmetric to [-127, 127]. Returns
 * the scale (0 when the row quantizes to all zeros: the caller writes zeros, scale 1) and sets
 * the zero point *offset and the reciprocals the element step multiplies by (*inv_d in double
 * for the asymmetric form, *inv_f in float for the symmetric one). Shared with the target
 * kernels, so that every kernel derives the same constants the same way. */
float tinyeit_hybrid_row_params(float mn, float mx, int32_t asymmetric, int32_t *offset,
                                double *inv_d, float *inv_f)
{
    *offset = 0;
    *inv_d = 0.0;
    *inv_f = 0.0f;
    if (asymmetric) {
        const double qmin = -128.0, qmax = 127.0;
        const double rmin = (double)(mn < 0.0f ? mn : 0.0f);
        const double rmax = (double)(mx > 0.0f ? mx : 0.0f);
        double scale, zp_min, zp_max, zp;
        if (rmin == rmax) return 0.0f;
        scale = (rmax - rmin) / (qmax - qmin);
        zp_min = qmin - rmin / scale;
        zp_max = qmax - rmax / scale;
        zp = (fabs(qmin) + fabs(rmin / scale)) < (fabs(qmax) + fabs(rmax / scale)) ? zp_min
                                                                                  : zp_max;
        if (zp <= qmin) *offset = -128;
        else if (zp >= qmax) *offset = 127;
        else *offset = (int32_t)(int8_t)round(zp);
        /* LiteRT scales in double here: with a float product, a value landing exactly on a
         * .5 step rounds the other way (seen on ReLU outputs). */
        *inv_d = 1.0 / scale;
        return (float)scale;
    } else {
        const float range = TINYEIT_MAX(fabsf(mn), fabsf(mx));
        if (range == 0.0f) return 0.0f;
        *inv_f = 127.0f / range;
        return range / 127.0f;
    }
}

/* TFLite's hybrid input quantization (per batch row). Returns the scale, sets *offset. */
static float quantize_row(const float *v, int32_t n, int8_t *q, int32_t asymmetric,
                          int32_t *offset)
{
    float mn = v[0], mx = v[0], scale_f, inv_f;
    double inv;
    int32_t i;
    for (i = 1; i < n; ++i) { if (v[i] < mn) mn = v[i]; if (v[i] > mx) mx = v[i]; }
    scale_f = tinyeit_hybrid_row_params(mn, mx, asymmetric, offset, &inv, &inv_f);
    if (scale_f == 0.0f) {
        memset(q, 0, (size_t)n);
        return 1.0f;
    }
    if (asymmetric)
        for (i = 0; i < n; ++i) q[i] = hybrid_q_asym(v[i], *offset, inv);
    else
        for (i = 0; i < n; ++i) q[i] = hybrid_q_sym(v[i], inv_f);
    return scale_f;
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
            if (offset != 0) dot -= tinyeit_sum_s8(row, p->in_dim) * offset;
            out[b * p->units + u] = hybrid_out(dot, sf, w_scale, n_scale, bias, u, p);
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

/* The hybrid fully connected on the int8 FC layouts (tinyeit_kernels.h), portable: the row
 * quantized as above, each weight read back from its layout, the sums and the float step of
 * tinyeit_fc_hybrid. The references the target kernels are held to, and what runs wherever a
 * build forces a layout (-DTINYEIT_FC_PAIRS=1, -DTINYEIT_HYBRID_PACKED=1) without them. */
static int32_t hybrid_weight_pairs(const uint8_t *w, int32_t u, int32_t k, int32_t n,
                                   int32_t units)
{
    const int32_t npad = (n + TINYEIT_PAIRS_IN_ALIGN - 1) / TINYEIT_PAIRS_IN_ALIGN *
                         TINYEIT_PAIRS_IN_ALIGN;
    const int32_t pairs = (units + 1) / 2, pair = u >> 1;
    int32_t q = 0, np = pairs_block(0, pairs, npad);
    const uint8_t *word;
    while (pair >= q + np) {  /* the block holding the pair */
        w += np * 2 * npad;
        q += np;
        np = pairs_block(q, pairs, npad);
    }
    /* step k / 4, half k % 2, lane (k % 4) / 2 (tinyeit_ref_fc_pairs.c) */
    word = w + (((k >> 2) * 2 + (k & 1)) * np + (pair - q)) * 4 + ((k >> 1) & 1) * 2;
    return pairs_lane_weight(word, u & 1);
}

static void hybrid_layout_ref(const float *in, const void *w, int pairs_layout,
                              const int32_t *wsum, const float *w_scale, int32_t n_scale,
                              const float *bias, int8_t *scratch, float *out,
                              const tinyeit_fc_params *p)
{
    const int32_t n = p->in_dim;
    int32_t b, u, k;
    for (b = 0; b < p->batches; ++b) {
        int32_t offset;
        float sf = quantize_row(in + b * n, n, scratch, p->asymmetric, &offset);
        if (n_scale == 1) sf *= w_scale[0];
        for (u = 0; u < p->units; ++u) {
            int32_t dot = 0;
            for (k = 0; k < n; ++k) {
                const int32_t wv = pairs_layout
                    ? hybrid_weight_pairs((const uint8_t *)w, u, k, n, p->units)
                    : ((const int8_t *)w)[fc4_index(u, k, n, p->units)];
                dot += wv * scratch[k];
            }
            if (offset != 0) dot -= wsum[u] * offset;
            out[b * p->units + u] = hybrid_out(dot, sf, w_scale, n_scale, bias, u, p);
        }
    }
}

void TINYEIT_REF_FC_HYBRID_PAIRS(const float *in, const uint8_t *w, const int32_t *wsum,
                                 const float *w_scale, int32_t n_scale, const float *bias,
                                 int8_t *scratch, float *out, const tinyeit_fc_params *p)
{
    hybrid_layout_ref(in, w, 1, wsum, w_scale, n_scale, bias, scratch, out, p);
}

void TINYEIT_REF_FC_HYBRID_PACKED(const float *in, const int8_t *w, const int32_t *wsum,
                                  const float *w_scale, int32_t n_scale, const float *bias,
                                  int8_t *scratch, float *out, const tinyeit_fc_params *p)
{
    hybrid_layout_ref(in, w, 0, wsum, w_scale, n_scale, bias, scratch, out, p);
}
