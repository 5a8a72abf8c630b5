/* tinyeit reference kernels: int8 fully connected on the unit-pair layout (tinyeit_kernels.h,
 * tinyeit_fc_s8_pairs). Portable C99: it reads each weight back from the layout (per lane
 * a + 256 b, pairs_lane_weight) and sums plain products, so it checks the layout independently of
 * the Cortex-M kernel's algebra. Written for this project. */
#include "tinyeit_common.h"

void TINYEIT_REF_FC_PAIRS(const int8_t *in, const uint8_t *w, const int32_t *bias,
                          const int32_t *mult, const int32_t *shift, const int8_t *post,
                          int8_t *out, const tinyeit_fc_params *p, int16_t *scratch)
{
    const tinyeit_fc_params P = *p;
    const int32_t n = P.in_dim;
    const int32_t npad = (n + TINYEIT_PAIRS_IN_ALIGN - 1) / TINYEIT_PAIRS_IN_ALIGN *
                         TINYEIT_PAIRS_IN_ALIGN;
    const int32_t pairs = (P.units + 1) / 2;
    int32_t b, q, pp, k;
    (void)scratch;
    for (b = 0; b < P.batches; ++b) {
        const int8_t *x = in + b * n;
        int8_t *o = out + b * P.units;
        const uint8_t *wb = w;
        for (q = 0; q < pairs; q += pairs_block(q, pairs, npad)) {
            const int32_t np = pairs_block(q, pairs, npad);
            for (pp = 0; pp < np; ++pp) {
                const int32_t ua = 2 * (q + pp), ub = ua + 1;
                int32_t acc_a = bias[ua], acc_b = ub < P.units ? bias[ub] : 0;
                for (k = 0; k < n; ++k) {
                    /* step k / 4, half k % 2, lane (k % 4) / 2 */
                    const uint8_t *word = wb + (((k >> 2) * 2 + (k & 1)) * np + pp) * 4 +
                                          ((k >> 1) & 1) * 2;
                    acc_a += pairs_lane_weight(word, 0) * x[k];
                    acc_b += pairs_lane_weight(word, 1) * x[k];
                }
                o[ua] = epilogue_s8(acc_a, mult[ua], shift[ua], P.single_round, 0, P.out_offset,
                                    P.act_min, P.act_max, post ? post + ua * P.post_len : NULL);
                if (ub < P.units)
                    o[ub] = epilogue_s8(acc_b, mult[ub], shift[ub], P.single_round, 0,
                                        P.out_offset, P.act_min, P.act_max,
                                        post ? post + ub * P.post_len : NULL);
            }
            wb += np * 2 * npad;
        }
    }
}
