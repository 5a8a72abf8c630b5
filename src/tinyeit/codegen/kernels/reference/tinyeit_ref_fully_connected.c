/* tinyeit reference kernels: fully connected (int8, float). Portable C99, the reference every target version is held
 * against and the fallback where a target has none. Written for this project from TFLite's
 * quantization specification; no code of other projects is copied here. */
#include "tinyeit_common.h"

/* bias: the model's bias plus in_offset * (sum of the unit's weights + n * w_offset), folded at
 * generation time; the w_offset * sum(x) term (zero for symmetric weights) stays here.
 * Weights in the packed layout (tinyeit_kernels.h): four units at a time, each input loaded once
 * for the four (fc4_row), so that a target without a kernel of its own (the ESP32) still pays
 * about one load and one multiply-add per MAC. */
void TINYEIT_REF_FC_S8(const int8_t *in, const int8_t *w, const int32_t *bias, const int32_t *mult,
                       const int32_t *shift, const int8_t *post, int8_t *out,
                       const tinyeit_fc_params *p)
{
    const tinyeit_epi e = {p->out_offset, p->act_min, p->act_max, p->single_round, p->cheap_rq,
                           p->post_len};
    int32_t b;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = in + b * p->in_dim;
        const int32_t xterm = p->w_offset != 0 ? p->w_offset * tinyeit_sum_s8(x, p->in_dim) : 0;
        fc4_row(x, w, p->in_dim, p->units, bias, xterm, mult, shift, &e, post,
                out + b * p->units);
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
