/* Cortex-M DSP extension: the plain-row int8 dot product (the units % 4 rows that the packed
 * layout leaves as rows). SXTB16 widens bytes 0 and 2 of a word into two int16 lanes, SXTB16
 * with ROR #8 bytes 1 and 3; SMLAD multiplies the lane pairs and adds both products to the
 * accumulator. Widening input and weights the same way pairs every byte with its own partner.
 * Integer sums: the same result as the reference in any order. Words are read through memcpy
 * (one LDR: the M4 allows unaligned LDR), never by casting. */
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
