/* Cortex-M DSP extension: the int8 dot-product core of conv and fully connected.
 *
 * Four weight rows against one input vector per pass, so each input word is loaded and widened
 * once for four rows. SXTB16 widens bytes 0 and 2 of a word into two int16 lanes, SXTB16 with
 * ROR #8 bytes 1 and 3; SMLAD multiplies the lane pairs and adds both products to the
 * accumulator. Widening input and weights the same way pairs every byte with its own partner, so
 * the weights need no reordering. Integer sums: the same result as the reference in any order.
 * Words are read through memcpy (one LDR: the M4 allows unaligned LDR), never by casting. */
#ifndef TINYEIT_CM_DOT_H
#define TINYEIT_CM_DOT_H

#include "tinyeit_common.h"

#if defined(TINYEIT_CORTEX_M_DSP)
#include <arm_acle.h>

static inline uint32_t cm_read32(const int8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* SXTB16 of the word rotated right by 8: bytes 1 and 3. */
static inline int32_t cm_sxtb16_ror8(uint32_t v)
{
    return __sxtb16((int32_t)((v >> 8) | (v << 24)));
}

/* acc[r] += dot(x, w + r * stride) over n elements, r = 0..3. */
static inline void cm_dot4_s8(const int8_t *x, const int8_t *w, int32_t stride, int32_t n,
                              int32_t *acc)
{
    const int8_t *w0 = w, *w1 = w + stride, *w2 = w1 + stride, *w3 = w2 + stride;
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t k = n >> 2;
    while (k-- > 0) {
        const uint32_t xv = cm_read32(x);
        const uint32_t v0 = cm_read32(w0), v1 = cm_read32(w1);
        const uint32_t v2 = cm_read32(w2), v3 = cm_read32(w3);
        const int32_t xa = __sxtb16(xv), xb = cm_sxtb16_ror8(xv);
        a0 = __smlad(__sxtb16(v0), xa, a0);
        a0 = __smlad(cm_sxtb16_ror8(v0), xb, a0);
        a1 = __smlad(__sxtb16(v1), xa, a1);
        a1 = __smlad(cm_sxtb16_ror8(v1), xb, a1);
        a2 = __smlad(__sxtb16(v2), xa, a2);
        a2 = __smlad(cm_sxtb16_ror8(v2), xb, a2);
        a3 = __smlad(__sxtb16(v3), xa, a3);
        a3 = __smlad(cm_sxtb16_ror8(v3), xb, a3);
        x += 4; w0 += 4; w1 += 4; w2 += 4; w3 += 4;
    }
    for (k = n & 3; k > 0; --k) {
        const int32_t xv = *x++;
        a0 += xv * *w0++;
        a1 += xv * *w1++;
        a2 += xv * *w2++;
        a3 += xv * *w3++;
    }
    acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
}

/* dot(x, w) over n elements. */
static inline int32_t cm_dot1_s8(const int8_t *x, const int8_t *w, int32_t n, int32_t acc)
{
    int32_t k = n >> 2;
    while (k-- > 0) {
        const uint32_t xv = cm_read32(x), v = cm_read32(w);
        acc = __smlad(__sxtb16(v), __sxtb16(xv), acc);
        acc = __smlad(cm_sxtb16_ror8(v), cm_sxtb16_ror8(xv), acc);
        x += 4; w += 4;
    }
    for (k = n & 3; k > 0; --k) acc += (int32_t)*x++ * (int32_t)*w++;
    return acc;
}

#endif
#endif
