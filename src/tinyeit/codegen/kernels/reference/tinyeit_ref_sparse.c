/* tinyeit reference kernels: block-sparse fully connected (int8, float), the layout of
 * tinyeit_kernels.h for pruned weights. Portable C99, the reference the target versions are
 * held against and the fallback where a target has none. Written for this project; no code of
 * other projects is copied here. */
#include "tinyeit_common.h"

/* int8: bias folded at generation time as for tinyeit_fc_s8 (symmetric weights only). */
void TINYEIT_REF_FC_S8_BSR(const int8_t *in, const int8_t *w, const uint16_t *idx,
                           const int32_t *bias, const int32_t *mult, const int32_t *shift,
                           const int8_t *post, int8_t *out, const tinyeit_fc_params *p)
{
    const tinyeit_fc_params P = *p;
    const int32_t n = P.in_dim, n4 = n & ~3, tail = n - n4;
    int32_t b, u, r, k, j;
    for (b = 0; b < P.batches; ++b) {
        const int8_t *x = in + b * n, *wp = w;
        const uint16_t *ip = idx;
        int8_t *o = out + b * P.units;
        for (u = 0; u + 4 <= P.units; u += 4) {
            int32_t acc[4];
            const int32_t count = *ip++;
            for (r = 0; r < 4; ++r) acc[r] = bias[u + r];
            for (k = 0; k < count; ++k, wp += 16) {
                const int8_t *xg = x + 4 * (int32_t)ip[k];
                for (r = 0; r < 4; ++r)
                    for (j = 0; j < 4; ++j) acc[r] += (int32_t)xg[j] * wp[4 * r + j];
            }
            ip += count;
            for (j = 0; j < tail; ++j, wp += 4)
                for (r = 0; r < 4; ++r) acc[r] += (int32_t)x[n4 + j] * wp[r];
            for (r = 0; r < 4; ++r)
                o[u + r] = epilogue_s8(acc[r], mult[u + r], shift[u + r], P.single_round, 0,
                                       P.out_offset, P.act_min, P.act_max,
                                       post ? post + (u + r) * P.post_len : NULL);
        }
        for (; u < P.units; ++u, wp += n) {
            const int32_t acc = bias[u] + tinyeit_dot_s8(x, wp, n);
            o[u] = epilogue_s8(acc, mult[u], shift[u], P.single_round, 0, P.out_offset,
                               P.act_min, P.act_max, post ? post + u * P.post_len : NULL);
        }
    }
}

/* float: per unit, the products of its kept inputs added in input order from 0, then the bias
 * (the dense kernels' order; a skipped block only leaves out products with a zero weight). */
void TINYEIT_REF_FC_F32_BSR(const float *in, const float *w, const uint16_t *idx,
                            const float *bias, float *out, const tinyeit_fc_params *p)
{
    const tinyeit_fc_params P = *p;
    const int32_t n = P.in_dim, n4 = n & ~3, tail = n - n4;
    int32_t b, u, r, k, j;
    for (b = 0; b < P.batches; ++b) {
        const float *x = in + b * n, *wp = w;
        const uint16_t *ip = idx;
        float *o = out + b * P.units;
        for (u = 0; u + 4 <= P.units; u += 4) {
            float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
            const int32_t count = *ip++;
            for (k = 0; k < count; ++k, wp += 16) {
                const float *xg = x + 4 * (int32_t)ip[k];
                for (j = 0; j < 4; ++j)
                    for (r = 0; r < 4; ++r) acc[r] += xg[j] * wp[4 * j + r];
            }
            ip += count;
            for (j = 0; j < tail; ++j, wp += 4)
                for (r = 0; r < 4; ++r) acc[r] += x[n4 + j] * wp[r];
            for (r = 0; r < 4; ++r) {
                const float v = bias ? acc[r] + bias[u + r] : acc[r];
                o[u + r] = clamp_f(v, P.f_min, P.f_max);
            }
        }
        for (; u < P.units; ++u, wp += n) {
            float acc = tinyeit_dot_f32(0.0f, x, wp, n);
            if (bias) acc += bias[u];
            o[u] = clamp_f(acc, P.f_min, P.f_max);
        }
    }
}

/* int8 on the block-sparse unit-pair layout (tinyeit_kernels.h, tinyeit_fc_s8_bsr_pairs): each
 * weight read back from its lane (a: the low byte as int8; b: (lane - a) / 256), plain products
 * summed, so that the layout is checked apart from the Cortex-M kernel's algebra. */
void TINYEIT_REF_FC_BSR_PAIRS(const int8_t *in, const uint8_t *w, const uint16_t *idx,
                              const int32_t *bias, const int32_t *mult, const int32_t *shift,
                              const int8_t *post, int8_t *out, const tinyeit_fc_params *p)
{
    const tinyeit_fc_params P = *p;
    const int32_t n = P.in_dim;
    int32_t b, u, r, k, h, q, l;
    for (b = 0; b < P.batches; ++b) {
        const int8_t *x = in + b * n;
        const uint8_t *wp = w;
        const uint16_t *ip = idx;
        int8_t *o = out + b * P.units;
        for (u = 0; u < P.units; u += 4) {
            int32_t acc[4] = {0, 0, 0, 0};
            const int32_t count = *ip++;
            for (k = 0; k < count; ++k) {
                const int8_t *xg = x + ip[k];
                for (h = 0; h < 2; ++h)
                    for (q = 0; q < 2; ++q, wp += 4)
                        for (l = 0; l < 2; ++l) {
                            const int32_t lane = (int16_t)(uint16_t)(wp[2 * l] |
                                                                     (wp[2 * l + 1] << 8));
                            const int32_t a = (int8_t)wp[2 * l], bb = (lane - a) / 256;
                            const int32_t xi = xg[h + 2 * l];
                            acc[2 * q] += a * xi;
                            acc[2 * q + 1] += bb * xi;
                        }
            }
            ip += count;
            for (r = 0; r < 4 && u + r < P.units; ++r)
                o[u + r] = epilogue_s8(bias[u + r] + acc[r], mult[u + r], shift[u + r],
                                       P.single_round, 0, P.out_offset, P.act_min, P.act_max,
                                       post ? post + (u + r) * P.post_len : NULL);
        }
    }
}
