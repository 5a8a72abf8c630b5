/* tinyeit reference kernels: fully connected (int8, float). Portable C99, the reference every target version is held
 * against and the fallback where a target has none. Written for this project from TFLite's
 * quantization specification; no code of other projects is copied here. */
#include "tinyeit_common.h"

/* bias: the model's bias plus in_offset * (sum of the unit's weights + n * w_offset), folded at
 * generation time; the w_offset * sum(x) term (zero for symmetric weights) stays here.
 * Weights in the packed layout (tinyeit_kernels.h). */
void TINYEIT_REF_FC_S8(const int8_t *in, const int8_t *w, const int32_t *bias, const int32_t *mult,
                       const int32_t *shift, const int8_t *post, int8_t *out,
                       const tinyeit_fc_params *p)
{
    const tinyeit_fc_params P = *p;
    const int32_t n = P.in_dim, n4 = n & ~3, tail = n - n4;
    int32_t b, u, r, g, j;
    for (b = 0; b < P.batches; ++b) {
        const int8_t *x = in + b * n;
        const int32_t xterm = P.w_offset != 0 ? P.w_offset * tinyeit_sum_s8(x, n) : 0;
        int8_t *o = out + b * P.units;
        for (u = 0; u + 4 <= P.units; u += 4) {
            const int8_t *wb = w + u * n;
            for (r = 0; r < 4; ++r) {
                int32_t acc = bias[u + r] + xterm;
                for (g = 0; g < n4; g += 4)
                    for (j = 0; j < 4; ++j) acc += (int32_t)x[g + j] * wb[4 * g + 4 * r + j];
                for (j = 0; j < tail; ++j) acc += (int32_t)x[n4 + j] * wb[4 * (n4 + j) + r];
                o[u + r] = epilogue_s8(acc, mult[u + r], shift[u + r], P.single_round, 0,
                                       P.out_offset, P.act_min, P.act_max,
                                       post ? post + (u + r) * P.post_len : NULL);
            }
        }
        for (; u < P.units; ++u) {
            const int32_t acc = bias[u] + xterm + tinyeit_dot_s8(x, w + u * n, n);
            o[u] = epilogue_s8(acc, mult[u], shift[u], P.single_round, 0, P.out_offset,
                               P.act_min, P.act_max, post ? post + u * P.post_len : NULL);
        }
    }
}

/* Weights: units in blocks of TINYEIT_F32_BLOCK interleaved, the remaining units as rows. */
void TINYEIT_REF_FC_F32(const float *in, const float *w, const float *bias, float *out,
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
