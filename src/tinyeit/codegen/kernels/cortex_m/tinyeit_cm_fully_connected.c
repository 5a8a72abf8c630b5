/* Cortex-M DSP int8 fully connected: tinyeit_fc_s8 with four units per input pass
 * (tinyeit_cm_dot.h) and the cheap exact requantization. Asymmetric weights (a weight zero
 * point, never produced by TFLite's int8 converter) go to the reference kernel. */
#include "tinyeit_common.h"

#if defined(TINYEIT_CORTEX_M_DSP)
#include "tinyeit_cm_dot.h"

void tinyeit_fc_s8(const int8_t *in, const int8_t *w, const int32_t *bias, const int32_t *mult,
                   const int32_t *shift, const int8_t *post, int8_t *out,
                   const tinyeit_fc_params *p)
{
    const tinyeit_fc_params P = *p;
    int32_t b, u, r;
    if (P.w_offset != 0) {
        tinyeit_fc_s8_ref(in, w, bias, mult, shift, post, out, p);
        return;
    }
    for (b = 0; b < P.batches; ++b) {
        const int8_t *x = in + b * P.in_dim;
        int8_t *o = out + b * P.units;
        for (u = 0; u + 4 <= P.units; u += 4) {
            int32_t acc[4];
            acc[0] = bias[u]; acc[1] = bias[u + 1]; acc[2] = bias[u + 2]; acc[3] = bias[u + 3];
            cm_dot4_s8(x, w + u * P.in_dim, P.in_dim, P.in_dim, acc);
            for (r = 0; r < 4; ++r)
                o[u + r] = epilogue_s8(acc[r], mult[u + r], shift[u + r], P.single_round,
                                       P.cheap_rq, P.out_offset, P.act_min, P.act_max,
                                       post ? post + (u + r) * P.post_len : NULL);
        }
        for (; u < P.units; ++u) {
            const int32_t acc = cm_dot1_s8(x, w + u * P.in_dim, P.in_dim, bias[u]);
            o[u] = epilogue_s8(acc, mult[u], shift[u], P.single_round, P.cheap_rq, P.out_offset,
                               P.act_min, P.act_max, post ? post + u * P.post_len : NULL);
        }
    }
}
#endif
