/* Cortex-M DSP codebook fully connected: tinyeit_fc_s8_cb on the codebook layout
 * (tinyeit_kernels.h). Per 4 inputs: one input word widened by SXTB16 (inputs 0, 2) and SXTB16
 * ROR #8 (inputs 1, 3), the 4 weights looked up in the unit's table by their 4-bit codes and
 * packed in pairs the same way (PKHBT), two SMLAD. Integer sums: the reference's result.
 * tinyeit_fc_f32_cb (FPU): four units at a time, so that each input is loaded once and the four
 * sums, each in input order, do not wait for one another. */
#include "tinyeit_common.h"

#if defined(TINYEIT_TARGET_FC_S8_CB)
#include "tinyeit_cm_dot.h"

static inline int32_t cm_pack16(int32_t lo, int32_t hi)
{
    return (int32_t)(((uint32_t)lo & 0xFFFFu) | ((uint32_t)hi << 16));
}

#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int32_t cm_cb_dot(const int8_t *x, const uint8_t *c, const int8_t *t, int32_t n,
                                int32_t acc)
{
    int32_t k;
    for (k = 0; k + 4 <= n; k += 4, c += 2) {
        const uint32_t xv = cm_read32(x + k);
        const uint32_t code = (uint32_t)c[0] | ((uint32_t)c[1] << 8);
        const int32_t w0 = t[code & 15u], w1 = t[(code >> 4) & 15u];
        const int32_t w2 = t[(code >> 8) & 15u], w3 = t[code >> 12];
        acc = cm_smlad(cm_pack16(w0, w2), cm_sxtb16(xv), acc);
        acc = cm_smlad(cm_pack16(w1, w3), cm_sxtb16_ror8(xv), acc);
    }
    for (; k < n; ++k) acc += (int32_t)x[k] * t[(c[(k & 3) >> 1] >> (4 * (k & 1))) & 15u];
    return acc;
}

void tinyeit_fc_s8_cb(const int8_t *in, const uint8_t *codes, const int8_t *table,
                      int32_t table_stride, const int32_t *bias, const int32_t *mult,
                      const int32_t *shift, const int8_t *post, int8_t *out,
                      const tinyeit_fc_params *p)
{
    const int32_t n = p->in_dim, row = (n + 1) >> 1;
    int32_t b, u;
    if (p->w_offset != 0) {
        tinyeit_fc_s8_cb_ref(in, codes, table, table_stride, bias, mult, shift, post, out, p);
        return;
    }
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = in + b * n;
        int8_t *o = out + b * p->units;
        for (u = 0; u < p->units; ++u) {
            const int32_t acc = cm_cb_dot(x, codes + u * row, table + u * table_stride, n,
                                          bias[u]);
            o[u] = epilogue_s8(acc, mult[u], shift[u], p->single_round, p->cheap_rq,
                               p->out_offset, p->act_min, p->act_max,
                               post ? post + u * p->post_len : NULL);
        }
    }
}
#endif

#if defined(TINYEIT_TARGET_FC_F32_CB)
void tinyeit_fc_f32_cb(const float *in, const uint8_t *codes, const float *table,
                       int32_t table_stride, const float *bias, float *out,
                       const tinyeit_fc_params *p)
{
    const int32_t n = p->in_dim, pairs = n >> 1, row = (n + 1) >> 1, units = p->units;
    int32_t b, u, k, r;
    for (b = 0; b < p->batches; ++b) {
        const float *x = in + b * n;
        float *o = out + b * units;
        for (u = 0; u + 4 <= units; u += 4) {
            const uint8_t *c = codes + u * row;
            const float *t0 = table + u * table_stride, *t1 = t0 + table_stride;
            const float *t2 = t1 + table_stride, *t3 = t2 + table_stride;
            float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f, acc[4];
            for (k = 0; k < pairs; ++k) {
                const float x0 = x[2 * k], x1 = x[2 * k + 1];
                const uint32_t b0 = c[k], b1 = c[row + k], b2 = c[2 * row + k];
                const uint32_t b3 = c[3 * row + k];
                a0 += x0 * t0[b0 & 15u]; a1 += x0 * t1[b1 & 15u];
                a2 += x0 * t2[b2 & 15u]; a3 += x0 * t3[b3 & 15u];
                a0 += x1 * t0[b0 >> 4]; a1 += x1 * t1[b1 >> 4];
                a2 += x1 * t2[b2 >> 4]; a3 += x1 * t3[b3 >> 4];
            }
            if (n & 1) {
                const float xl = x[n - 1];
                a0 += xl * t0[c[pairs] & 15u]; a1 += xl * t1[c[row + pairs] & 15u];
                a2 += xl * t2[c[2 * row + pairs] & 15u]; a3 += xl * t3[c[3 * row + pairs] & 15u];
            }
            acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
            for (r = 0; r < 4; ++r) {
                const float v = bias ? acc[r] + bias[u + r] : acc[r];
                o[u + r] = clamp_f(v, p->f_min, p->f_max);
            }
        }
        if (u < units) {
            tinyeit_fc_params rest = *p;
            rest.batches = 1;
            rest.units = units - u;
            tinyeit_fc_f32_cb_ref(x, codes + u * row, table + u * table_stride, table_stride,
                                  bias ? bias + u : NULL, o + u, &rest);
        }
    }
}
#endif
