/* Cortex-M DSP codebook fully connected: tinyeit_fc_s8_cb on the codebook layout
 * (tinyeit_kernels.h). Per 4 inputs: one input word widened by SXTB16 (inputs 0, 2) and SXTB16
 * ROR #8 (inputs 1, 3), the 4 weights looked up in the unit's table by their 4-bit codes and
 * packed in pairs the same way (PKHBT), two SMLAD. Integer sums: the reference's result. */
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
