/* AArch64 NEON int8 codebook fully connected: tinyeit_fc_s8_cb on the codebook layout
 * (tinyeit_kernels.h). Per 32 inputs of a unit: its 16 code bytes split into low and high
 * nibbles (AND, USHR) are looked up in the unit's 16-byte table by two TBL, which gives the
 * weights of the even and of the odd inputs, the very split LD2 makes of the inputs; then
 * SMULL/SMLAL into int16 lanes and SADALP, as the dense kernel: two products per lane (an even
 * and an odd input of one unit) only where the table holds no -128 (checked per unit: with
 * |w| <= 127 a lane stays within 32,512), else one. Four units share each LD2 of the inputs.
 * Integer sums in another order: the reference's result; the epilogue is the reference's. */
#include "tinyeit_common.h"

#if defined(TINYEIT_A64_FC_S8_CB)
#include <arm_neon.h>

/* acc += the products of one unit's 32 weights (codes c: 16 bytes) and inputs xv (LD2). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int32x4_t a64_cb32(int32x4_t acc, const uint8_t *c, int8x16_t t,
                                 int8x16x2_t xv, int pair)
{
    const uint8x16_t code = vld1q_u8(c);
    const int8x16_t we = vqtbl1q_s8(t, vandq_u8(code, vdupq_n_u8(15)));
    const int8x16_t wo = vqtbl1q_s8(t, vshrq_n_u8(code, 4));
    if (pair) {
        int16x8_t l = vmull_s8(vget_low_s8(we), vget_low_s8(xv.val[0]));
        int16x8_t h = vmull_high_s8(we, xv.val[0]);
        l = vmlal_s8(l, vget_low_s8(wo), vget_low_s8(xv.val[1]));
        h = vmlal_high_s8(h, wo, xv.val[1]);
        return vpadalq_s16(vpadalq_s16(acc, l), h);
    }
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(we), vget_low_s8(xv.val[0])));
    acc = vpadalq_s16(acc, vmull_high_s8(we, xv.val[0]));
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(wo), vget_low_s8(xv.val[1])));
    return vpadalq_s16(acc, vmull_high_s8(wo, xv.val[1]));
}

void tinyeit_fc_s8_cb(const int8_t *in, const uint8_t *codes, const int8_t *table,
                      int32_t table_stride, const int32_t *bias, const int32_t *mult,
                      const int32_t *shift, const int8_t *post, int8_t *out,
                      const tinyeit_fc_params *p)
{
    const int32_t n = p->in_dim, row = (n + 1) >> 1, n32 = n & ~31, U = p->units;
    const uint8_t *codes_end = codes + U * row;
    int8_t xt[32] __attribute__((aligned(16)));
    uint8_t ct[4][16] __attribute__((aligned(16)));
    int32_t b, u, k, r;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = in + b * n;
        int8_t *o = out + b * U;
        int8x16x2_t xtv;
        /* the last n % 32 inputs, zero-padded to 32: the codes past a row's end (the next
         * row's, or a padded copy at the array's end) then meet zeros */
        memset(xt, 0, sizeof xt);
        memcpy(xt, x + n32, (size_t)(n - n32));
        xtv = vld2q_s8(xt);
        for (u = 0; u < U; u += 4) {
            const int32_t cnt = U - u < 4 ? U - u : 4;
            const uint8_t *cr[4], *tail[4];
            int8x16_t t[4];
            int32x4_t acc[4];
            int pair = 1;
            for (r = 0; r < 4; ++r) {
                const int32_t v = u + (r < cnt ? r : 0);  /* missing units: unit u again */
                cr[r] = codes + v * row;
                tail[r] = cr[r] + (n32 >> 1);
                if (n32 < n && tail[r] + 16 > codes_end) {
                    memset(ct[r], 0, 16);
                    memcpy(ct[r], tail[r], (size_t)(row - (n32 >> 1)));
                    tail[r] = ct[r];
                }
                t[r] = vld1q_s8(table + v * table_stride);
                pair &= vminvq_s8(t[r]) > -128;
                acc[r] = vdupq_n_s32(0);
            }
            if (pair) {
                for (k = 0; k < n32; k += 32) {
                    const int8x16x2_t xv = vld2q_s8(x + k);
                    acc[0] = a64_cb32(acc[0], cr[0] + (k >> 1), t[0], xv, 1);
                    acc[1] = a64_cb32(acc[1], cr[1] + (k >> 1), t[1], xv, 1);
                    acc[2] = a64_cb32(acc[2], cr[2] + (k >> 1), t[2], xv, 1);
                    acc[3] = a64_cb32(acc[3], cr[3] + (k >> 1), t[3], xv, 1);
                }
            } else {
                for (k = 0; k < n32; k += 32) {
                    const int8x16x2_t xv = vld2q_s8(x + k);
                    acc[0] = a64_cb32(acc[0], cr[0] + (k >> 1), t[0], xv, 0);
                    acc[1] = a64_cb32(acc[1], cr[1] + (k >> 1), t[1], xv, 0);
                    acc[2] = a64_cb32(acc[2], cr[2] + (k >> 1), t[2], xv, 0);
                    acc[3] = a64_cb32(acc[3], cr[3] + (k >> 1), t[3], xv, 0);
                }
            }
            for (r = 0; r < cnt; ++r) {
                int32_t a;
                if (n32 < n) acc[r] = a64_cb32(acc[r], tail[r], t[r], xtv, pair);
                a = bias[u + r] + vaddvq_s32(acc[r]);
                o[u + r] = epilogue_s8(a, mult[u + r], shift[u + r], p->single_round,
                                       p->cheap_rq, p->out_offset, p->act_min, p->act_max,
                                       post ? post + (u + r) * p->post_len : NULL);
            }
        }
    }
}
#endif
