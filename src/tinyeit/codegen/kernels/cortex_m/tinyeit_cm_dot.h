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
/* The head of an assembly kernel: a global, hidden Thumb function `name` in a section of its
 * own (so that gc-sections drops it where nothing calls it); `name` may be a .macro argument
 * ("\\name"). The kernels' own prologues follow it. */
#define CM_ASM_FUNC(name)                                                                      \
    "    .section .text." name ", \"ax\", %progbits\n"                                          \
    "    .balign 4\n"                                                                           \
    "    .global " name "\n"                                                                    \
    "    .hidden " name "\n"                                                                    \
    "    .type " name ", %function\n"                                                           \
    "    .thumb_func\n"                                                                         \
    name ":\n"

/* SXTB16, SXTB16 ROR #8 and SMLAD: ACLE intrinsics where the compiler has them (gcc 10 and
 * later, clang), else one-line asm (the Arduino cores' gcc 7 has no ACLE DSP intrinsics). */
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 10)
#include <arm_acle.h>
static inline int32_t cm_sxtb16(uint32_t v) { return __sxtb16((int32_t)v); }
static inline int32_t cm_sxtb16_ror8(uint32_t v) { return __sxtb16((int32_t)((v >> 8) | (v << 24))); }
static inline int32_t cm_smlad(int32_t a, int32_t b, int32_t acc) { return __smlad(a, b, acc); }
#else
static inline int32_t cm_sxtb16(uint32_t v)
{
    int32_t r;
    __asm__("sxtb16 %0, %1" : "=r"(r) : "r"(v));
    return r;
}

static inline int32_t cm_sxtb16_ror8(uint32_t v)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

static inline int32_t cm_smlad(int32_t a, int32_t b, int32_t acc)
{
    int32_t r;
    __asm__("smlad %0, %1, %2, %3" : "=r"(r) : "r"(a), "r"(b), "r"(acc));
    return r;
}
#endif

static inline uint32_t cm_read32(const int8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* The small-window convolutions (tinyeit_cm_conv_small.c): 1 when they computed the output
 * (the paired 3-tap path first; called apart, so that the other's code stays as it was). */
int tinyeit_cm_conv3_paired(const int8_t *in, const int8_t *w, const int32_t *bias,
                            const int32_t *mult, const int32_t *shift, const int8_t *post,
                            int8_t *out, const tinyeit_conv_params *p);
int tinyeit_cm_conv_small(const int8_t *in, const int8_t *w, const int32_t *bias,
                          const int32_t *mult, const int32_t *shift, const int8_t *post,
                          int8_t *out, const tinyeit_conv_params *p, int8_t *patch);
/* The unit-pair kernels' epilogue (tinyeit_cm_fc_pairs.c): outputs u0 .. u0 + count - 1 from
 * the pair sums acc (R0 U0 R1 U1 ..), for the dense and the block-sparse unit-pair layouts. */
void tinyeit_cm_pairs_emit(const int32_t *acc, int32_t u0, int32_t count, const int32_t *bias,
                           const int32_t *mult, const int32_t *shift, const int8_t *post,
                           int8_t *o, const tinyeit_fc_params *p, int32_t fast);

/* The unit-pair loops' input row (tinyeit_cm_fc_pairs.c), for the int8 and the hybrid kernels:
 * `words` whole input words of x widened into xw, per word the int16 lanes (x0, x2) then
 * (x1, x3), the pairs one SMLAD multiplies with a weight word's two halves. */
void tinyeit_cm_pairs_widen(const int8_t *x, int32_t words, int16_t *xw);

/* dot(x, w) over n elements. */
static inline int32_t cm_dot1_s8(const int8_t *x, const int8_t *w, int32_t n, int32_t acc)
{
    int32_t k = n >> 2;
    while (k-- > 0) {
        const uint32_t xv = cm_read32(x), v = cm_read32(w);
        acc = cm_smlad(cm_sxtb16(v), cm_sxtb16(xv), acc);
        acc = cm_smlad(cm_sxtb16_ror8(v), cm_sxtb16_ror8(xv), acc);
        x += 4; w += 4;
    }
    for (k = n & 3; k > 0; --k) acc += (int32_t)*x++ * (int32_t)*w++;
    return acc;
}

#endif
#endif
