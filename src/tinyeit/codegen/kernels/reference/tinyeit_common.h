/* tinyeit kernels' shared internals: TFLite's quantization arithmetic (gemmlowp fixed point,
 * exact), the small inner loops every family uses, and which target kernels this build takes.
 * Included by every kernel file (reference and target), never by the generated model.c. */
#ifndef TINYEIT_COMMON_H
#define TINYEIT_COMMON_H

/* Same float results whatever the build's flags: no a*b+c fused into one rounding (Arduino and
 * ESP-IDF builds do not pass -ffp-contract=off; GNU C otherwise fuses on FMA targets). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "tinyeit_kernels.h"

/* Target kernels, chosen by the compiler's own target macros (so by the board's build flags):
 * the Cortex-M DSP extension (SXTB16/SMLAD: Cortex-M4/M7/M33 with DSP) or AArch64 NEON.
 * TINYEIT_PORTABLE forces the reference kernels everywhere. A kernel a target provides is
 * compiled from the target's file; the reference one is kept under a _ref name, for the cases
 * the target version hands back (and for tests that compare the two on the target). */
#if !defined(TINYEIT_PORTABLE) && defined(__ARM_FEATURE_DSP) && !defined(__aarch64__)
#define TINYEIT_CORTEX_M_DSP 1
#endif
#if !defined(TINYEIT_PORTABLE) && defined(__aarch64__) && defined(__ARM_NEON)
#define TINYEIT_AARCH64_NEON 1
#endif
#if defined(TINYEIT_CORTEX_M_DSP)
#define TINYEIT_TARGET_FC_S8 1
#define TINYEIT_TARGET_CONV_S8 1
#define TINYEIT_TARGET_FC_PAIRS 1
#endif
#if defined(TINYEIT_AARCH64_NEON)
#define TINYEIT_TARGET_FC_S8 1
#define TINYEIT_TARGET_CONV_S8 1
/* float: vectorized across output units / channels, each lane one output summed in the
 * reference's order with a separate multiply and add (never FMLA): the reference's bits */
#define TINYEIT_TARGET_FC_F32 1
#define TINYEIT_TARGET_CONV_F32 1
#define TINYEIT_TARGET_MAXPOOL_F32 1
#define TINYEIT_TARGET_MAXPOOL_S8 1
#define TINYEIT_TARGET_MEAN_F32 1
#define TINYEIT_TARGET_BINARY_F32 1
#endif

#if defined(TINYEIT_TARGET_FC_S8)
#define TINYEIT_REF_FC_S8 tinyeit_fc_s8_ref
void tinyeit_fc_s8_ref(const int8_t *in, const int8_t *w, const int32_t *bias,
                       const int32_t *mult, const int32_t *shift, const int8_t *post,
                       int8_t *out, const tinyeit_fc_params *p);
#else
#define TINYEIT_REF_FC_S8 tinyeit_fc_s8
#endif
#if defined(TINYEIT_TARGET_FC_PAIRS)
#define TINYEIT_REF_FC_PAIRS tinyeit_fc_s8_pairs_ref
void tinyeit_fc_s8_pairs_ref(const int8_t *in, const uint8_t *w, const int32_t *bias,
                             const int32_t *mult, const int32_t *shift, const int8_t *post,
                             int8_t *out, const tinyeit_fc_params *p, int16_t *scratch);
#else
#define TINYEIT_REF_FC_PAIRS tinyeit_fc_s8_pairs
#endif
#if defined(TINYEIT_TARGET_CONV_S8)
#define TINYEIT_REF_CONV_S8 tinyeit_conv_s8_ref
void tinyeit_conv_s8_ref(const int8_t *in, const int8_t *w, const int32_t *bias,
                         const int32_t *tap_corr, const int32_t *mult, const int32_t *shift,
                         const int8_t *post, int8_t *out, const tinyeit_conv_params *p);
#else
#define TINYEIT_REF_CONV_S8 tinyeit_conv_s8
#endif
/* float conv: Cortex-M4F (FPv4 single precision) loops with their sums in FPU registers */
#if defined(TINYEIT_CORTEX_M_DSP) && defined(__ARM_FP) && (__ARM_FP & 4)
#define TINYEIT_TARGET_CONV_F32 1
#endif

#if defined(TINYEIT_TARGET_FC_F32)
#define TINYEIT_REF_FC_F32 tinyeit_fc_f32_ref
void tinyeit_fc_f32_ref(const float *in, const float *w, const float *bias, float *out,
                        const tinyeit_fc_params *p);
#else
#define TINYEIT_REF_FC_F32 tinyeit_fc_f32
#endif
#if defined(TINYEIT_TARGET_CONV_F32)
#define TINYEIT_REF_CONV_F32 tinyeit_conv_f32_ref
void tinyeit_conv_f32_ref(const float *in, const float *w, const float *bias, float *out,
                          const tinyeit_conv_params *p);
#else
#define TINYEIT_REF_CONV_F32 tinyeit_conv_f32
#endif
/* int8 max pool: the Cortex-M DSP version (4 channels per word: SSUB8 and SEL); the NEON one
 * is selected above. The reference then keeps the _ref name below. */
#if defined(TINYEIT_CORTEX_M_DSP)
#define TINYEIT_TARGET_MAXPOOL_S8 1
#endif
#if defined(TINYEIT_TARGET_MAXPOOL_F32)
#define TINYEIT_REF_MAXPOOL_F32 tinyeit_maxpool_f32_ref
void tinyeit_maxpool_f32_ref(const float *in, float *out, const tinyeit_pool_params *p);
#else
#define TINYEIT_REF_MAXPOOL_F32 tinyeit_maxpool_f32
#endif
#if defined(TINYEIT_TARGET_MAXPOOL_S8)
#define TINYEIT_REF_MAXPOOL_S8 tinyeit_maxpool_s8_ref
void tinyeit_maxpool_s8_ref(const int8_t *in, int8_t *out, const tinyeit_pool_params *p);
#else
#define TINYEIT_REF_MAXPOOL_S8 tinyeit_maxpool_s8
#endif
#if defined(TINYEIT_TARGET_MEAN_F32)
#define TINYEIT_REF_MEAN_F32 tinyeit_mean_f32_ref
void tinyeit_mean_f32_ref(const float *in, float *out, int32_t outer, int32_t reduce,
                          int32_t inner);
#else
#define TINYEIT_REF_MEAN_F32 tinyeit_mean_f32
#endif
#if defined(TINYEIT_TARGET_BINARY_F32)
#define TINYEIT_REF_ADD_F32 tinyeit_add_f32_ref
#define TINYEIT_REF_MUL_F32 tinyeit_mul_f32_ref
void tinyeit_add_f32_ref(const float *a, const float *b, float *out,
                         const tinyeit_binary_params *p);
void tinyeit_mul_f32_ref(const float *a, const float *b, float *out,
                         const tinyeit_binary_params *p);
#else
#define TINYEIT_REF_ADD_F32 tinyeit_add_f32
#define TINYEIT_REF_MUL_F32 tinyeit_mul_f32
#endif

/* The block-sparse kernels (tinyeit_ref_sparse.c; tinyeit_cm_sparse.c on the Cortex-M). */
#if defined(TINYEIT_CORTEX_M_DSP)
#define TINYEIT_TARGET_FC_S8_BSR 1
#if defined(__ARM_FP) && (__ARM_FP & 4)
#define TINYEIT_TARGET_FC_F32_BSR 1
#endif
#endif
#if defined(TINYEIT_CORTEX_M_DSP)
#define TINYEIT_TARGET_FC_S8_CB 1
#if defined(__ARM_FP) && (__ARM_FP & 4)
#define TINYEIT_TARGET_FC_F32_CB 1
#endif
#endif
#if defined(TINYEIT_TARGET_FC_F32_CB)
#define TINYEIT_REF_FC_F32_CB tinyeit_fc_f32_cb_ref
void tinyeit_fc_f32_cb_ref(const float *in, const uint8_t *codes, const float *table,
                           int32_t table_stride, const float *bias, float *out,
                           const tinyeit_fc_params *p);
#else
#define TINYEIT_REF_FC_F32_CB tinyeit_fc_f32_cb
#endif
/* the NEON codebook kernel (aarch64/tinyeit_a64_codebook.c) */
#if defined(TINYEIT_AARCH64_NEON)
#define TINYEIT_A64_FC_S8_CB 1
#endif
#if defined(TINYEIT_TARGET_FC_S8_CB) || defined(TINYEIT_A64_FC_S8_CB)
#define TINYEIT_REF_FC_S8_CB tinyeit_fc_s8_cb_ref
void tinyeit_fc_s8_cb_ref(const int8_t *in, const uint8_t *codes, const int8_t *table,
                          int32_t table_stride, const int32_t *bias, const int32_t *mult,
                          const int32_t *shift, const int8_t *post, int8_t *out,
                          const tinyeit_fc_params *p);
#else
#define TINYEIT_REF_FC_S8_CB tinyeit_fc_s8_cb
#endif
/* the NEON block-sparse kernels (aarch64/tinyeit_a64_sparse.c) */
#if defined(TINYEIT_AARCH64_NEON)
#define TINYEIT_A64_FC_S8_BSR 1
#define TINYEIT_A64_FC_F32_BSR 1
#endif
#if defined(TINYEIT_TARGET_FC_S8_BSR) || defined(TINYEIT_A64_FC_S8_BSR)
#define TINYEIT_REF_FC_S8_BSR tinyeit_fc_s8_bsr_ref
void tinyeit_fc_s8_bsr_ref(const int8_t *in, const int8_t *w, const uint16_t *idx,
                           const int32_t *bias, const int32_t *mult, const int32_t *shift,
                           const int8_t *post, int8_t *out, const tinyeit_fc_params *p);
#else
#define TINYEIT_REF_FC_S8_BSR tinyeit_fc_s8_bsr
#endif
/* the block-sparse unit pairs: the Cortex-M DSP loop, where the dense unit pairs run */
#if defined(TINYEIT_CORTEX_M_DSP)
#define TINYEIT_TARGET_FC_BSR_PAIRS 1
#endif
#if defined(TINYEIT_TARGET_FC_BSR_PAIRS)
#define TINYEIT_REF_FC_BSR_PAIRS tinyeit_fc_s8_bsr_pairs_ref
void tinyeit_fc_s8_bsr_pairs_ref(const int8_t *in, const uint8_t *w, const uint16_t *idx,
                                 const int32_t *bias, const int32_t *mult, const int32_t *shift,
                                 const int8_t *post, int8_t *out, const tinyeit_fc_params *p);
#else
#define TINYEIT_REF_FC_BSR_PAIRS tinyeit_fc_s8_bsr_pairs
#endif
#if defined(TINYEIT_TARGET_FC_F32_BSR) || defined(TINYEIT_A64_FC_F32_BSR)
#define TINYEIT_REF_FC_F32_BSR tinyeit_fc_f32_bsr_ref
void tinyeit_fc_f32_bsr_ref(const float *in, const float *w, const uint16_t *idx,
                            const float *bias, float *out, const tinyeit_fc_params *p);
#else
#define TINYEIT_REF_FC_F32_BSR tinyeit_fc_f32_bsr
#endif

/* Hybrid (dynamic-range) fully connected on the int8 layouts (tinyeit_ref_hybrid.c; the
 * unit pairs in cortex_m/tinyeit_cm_hybrid.c, the packed layout in aarch64/tinyeit_a64_hybrid.c). */
#if defined(TINYEIT_CORTEX_M_DSP)
#define TINYEIT_TARGET_FC_HYBRID_PAIRS 1
#endif
#if defined(TINYEIT_AARCH64_NEON)
#define TINYEIT_TARGET_FC_HYBRID_PACKED 1
#endif
#if defined(TINYEIT_TARGET_FC_HYBRID_PAIRS)
#define TINYEIT_REF_FC_HYBRID_PAIRS tinyeit_fc_hybrid_pairs_ref
void tinyeit_fc_hybrid_pairs_ref(const float *in, const uint8_t *w, const int32_t *wsum,
                                 const float *w_scale, int32_t n_scale, const float *bias,
                                 int8_t *scratch, float *out, const tinyeit_fc_params *p);
#else
#define TINYEIT_REF_FC_HYBRID_PAIRS tinyeit_fc_hybrid_pairs
#endif
#if defined(TINYEIT_TARGET_FC_HYBRID_PACKED)
#define TINYEIT_REF_FC_HYBRID_PACKED tinyeit_fc_hybrid_packed_ref
void tinyeit_fc_hybrid_packed_ref(const float *in, const int8_t *w, const int32_t *wsum,
                                  const float *w_scale, int32_t n_scale, const float *bias,
                                  int8_t *scratch, float *out, const tinyeit_fc_params *p);
#else
#define TINYEIT_REF_FC_HYBRID_PACKED tinyeit_fc_hybrid_packed
#endif
float tinyeit_hybrid_row_params(float mn, float mx, int32_t asymmetric, int32_t *offset,
                                double *inv_d, float *inv_f);

#define TINYEIT_MIN(a, b) ((a) < (b) ? (a) : (b))
#define TINYEIT_MAX(a, b) ((a) > (b) ? (a) : (b))

static inline int32_t tinyeit_srdhm(int32_t a, int32_t b)
{
    int64_t ab, nudge;
    if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
    ab = (int64_t)a * (int64_t)b;
    nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

static inline int32_t tinyeit_rdbpot(int32_t x, int exponent)
{
    int32_t mask, remainder, threshold;
    if (exponent <= 0) return x;
    mask = (int32_t)(((uint32_t)1 << exponent) - 1u);
    remainder = x & mask;
    threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

static inline int32_t tinyeit_mbqm(int32_t x, int32_t multiplier, int shift)
{
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    int32_t shifted = (int32_t)((uint32_t)x << left);
    return tinyeit_rdbpot(tinyeit_srdhm(shifted, multiplier), right);
}

static inline int8_t sat_s8(int32_t v, int32_t lo, int32_t hi)
{
    return (int8_t)(v < lo ? lo : (v > hi ? hi : v));
}

static inline float clamp_f(float v, float lo, float hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* The folded float MUL and ADD after a conv (tinyeit_conv_params): the same operations on the
 * same float values as tinyeit_mul_f32 and tinyeit_add_f32 would compute, so the same bits. */
static inline float post_f(float v, const tinyeit_conv_params *P, int32_t c)
{
    if (P->post_mul) v = v * P->post_mul[c];
    if (P->post_add) v = v + P->post_add[c];
    return v;
}

/* The one inner loop of int8 conv and fully connected: sum a[i] * b[i] over n elements, both
 * operands raw int8 (zero-point terms are folded into the bias at generation time). gcc -O2
 * vectorizes it (SSE2/NEON) or unrolls it (Cortex-M); integer sums, so every target gives the
 * same result. A DSP (SMLAD) implementation replaces this function only. */
#if defined(__GNUC__)
__attribute__((noinline, unused))  /* inlined into its callers' loops, gcc stops vectorizing it */
#endif
static int32_t tinyeit_dot_s8(const int8_t *a, const int8_t *b, int32_t n)
{
    /* a trip count gcc knows is a multiple of 16: vectorized without an epilogue, or (no SIMD
     * unit) unrolled 16 times into ldrsb/ldrsb/smlabb */
    const int32_t n16 = n & ~15;
    int32_t acc = 0, i = 0;
#if defined(__ARM_ARCH) && !defined(__ARM_NEON)
#pragma GCC unroll 16
#endif
    for (; i < n16; ++i) acc += (int32_t)a[i] * (int32_t)b[i];
    for (; i < n; ++i) acc += (int32_t)a[i] * (int32_t)b[i];
    return acc;
}

static inline int32_t tinyeit_sum_s8(const int8_t *a, int32_t n)
{
    int32_t acc = 0, i;
    for (i = 0; i < n; ++i) acc += a[i];
    return acc;
}

/* Float dot product continuing the running sum `acc`, strictly in element order: the same
 * rounding as TFLite's reference kernels (and on every target). Unrolled by hand (same order)
 * so that loop overhead is paid once per four products. */
static inline float tinyeit_dot_f32(float acc, const float *a, const float *b, int32_t n)
{
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        acc += a[i] * b[i];
        acc += a[i + 1] * b[i + 1];
        acc += a[i + 2] * b[i + 2];
        acc += a[i + 3] * b[i + 3];
    }
    for (; i < n; ++i) acc += a[i] * b[i];
    return acc;
}

/* Eight float dot products at once, each continuing its own running sum strictly in element
 * order (so each equals tinyeit_dot_f32 bit for bit): w holds 8 interleaved rows, w[i * 8 + j]
 * = row j, element i (the generator lays weights out this way). The 8 lanes vectorize. On a
 * Cortex-M4F the loop is assembly that keeps the 8 sums in FPU registers (gcc keeps them on
 * the stack): per element one VLDM of the input, one VLDM of the 8 weights and 8 VMUL.F32 +
 * VADD.F32 pairs, interleaved so that no add waits on the multiply just before it (VMLA.F32,
 * the same unfused arithmetic, takes 3 cycles where the pair takes 2): the C's arithmetic. */
#if defined(__GNUC__)
__attribute__((noinline, unused))  /* as a call it keeps its 8 sums in registers */
#endif
static void tinyeit_dot8_f32(float *acc, const float *x, const float *w, int32_t n)
{
#if defined(TINYEIT_CORTEX_M_DSP) && defined(__ARM_FP) && (__ARM_FP & 4)
    if (n > 0) {
        __asm__ volatile(
            "vldmia   %[acc], {s8-s15}\n\t"
            "1:\n\t"
            "vldmia   %[x]!, {s16}\n\t"
            "vldmia   %[w]!, {s0-s7}\n\t"
            "vmul.f32 s17, s16, s0\n\t"
            "vmul.f32 s18, s16, s1\n\t"
            "vadd.f32 s8, s8, s17\n\t"
            "vmul.f32 s19, s16, s2\n\t"
            "vadd.f32 s9, s9, s18\n\t"
            "vmul.f32 s20, s16, s3\n\t"
            "vadd.f32 s10, s10, s19\n\t"
            "vmul.f32 s21, s16, s4\n\t"
            "vadd.f32 s11, s11, s20\n\t"
            "vmul.f32 s22, s16, s5\n\t"
            "vadd.f32 s12, s12, s21\n\t"
            "vmul.f32 s23, s16, s6\n\t"
            "vadd.f32 s13, s13, s22\n\t"
            "vmul.f32 s17, s16, s7\n\t"
            "vadd.f32 s14, s14, s23\n\t"
            "subs     %[n], %[n], #1\n\t"
            "vadd.f32 s15, s15, s17\n\t"
            "bne      1b\n\t"
            "vstmia   %[acc], {s8-s15}\n\t"
            : [x] "+r"(x), [w] "+r"(w), [n] "+r"(n)
            : [acc] "r"(acc)
            : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12",
              "s13", "s14", "s15", "s16", "s17", "s18", "s19", "s20", "s21", "s22", "s23", "cc",
              "memory");
    }
#else
    float s[8];  /* local copy: the compiler keeps it in registers (acc may alias x, w) */
    int32_t i, j;
    for (j = 0; j < 8; ++j) s[j] = acc[j];
    for (i = 0; i < n; ++i) {
        const float xv = x[i];
        for (j = 0; j < 8; ++j) s[j] += xv * w[i * 8 + j];
    }
    for (j = 0; j < 8; ++j) acc[j] = s[j];
#endif
}

/* Valid filter taps [*k0, *k1) of a window starting at input coordinate `start`. */
static inline void tap_range(int32_t start, int32_t k, int32_t dil, int32_t size, int32_t *k0,
                      int32_t *k1)
{
    int32_t lo = 0, hi = k;
    if (start < 0) lo = (-start + dil - 1) / dil;
    if (start >= size) hi = 0;
    else if (start + (k - 1) * dil >= size) hi = (size - 1 - start) / dil + 1;
    if (hi < lo) hi = lo;
    *k0 = lo;
    *k1 = hi;
}

/* tinyeit_mbqm for multipliers from the generator (0 <= mult < 2^31, never INT32_MIN, so the
 * saturating case of srdhm cannot occur) without branches: same result bit for bit. */
static inline int32_t mbqm_fast(int32_t x, int32_t mult, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    const int64_t ab = (int64_t)(int32_t)((uint32_t)x << left) * (int64_t)mult;
    const int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
    const int32_t h = (int32_t)((ab + nudge) / ((int64_t)1 << 31));
    const int32_t mask = (int32_t)(((uint32_t)1 << right) - 1u);
    const int32_t threshold = (mask >> 1) + (h < 0 ? 1 : 0);
    return (h >> right) + ((h & mask) > threshold ? 1 : 0);
}

/* exp and tanh through double: glibc's and newlib's double functions are accurate to within an
 * ulp of double, so rounding to float gives the correctly rounded float on every target (bar
 * ties closer than ~2^-29 ulp), where expf/tanhf differ between C libraries by 1-2 ulp. */
/* The same value as mbqm_fast in fewer operations (one 32x32->64 multiply-accumulate, shifts
 * and adds; no 64-bit division): gemmlowp's rounding doubling high multiply is
 * floor((x * mult + 2^30) / 2^31) for every product (its nudge and truncating division give
 * exactly that), and the rounding divide by 2^right is floor((h + 2^(right-1) - [h < 0]) /
 * 2^right). Exact as long as h + 2^(right-1) does not overflow int32: the generator proves that
 * from each channel's accumulator bound and sets the kernel's cheap_rq flag only then. */
static inline int32_t mbqm_cheap(int32_t x, int32_t mult, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    const int64_t t = (int64_t)(int32_t)((uint32_t)x << left) * mult + ((int64_t)1 << 30);
    const int32_t h = (int32_t)(t >> 31);
    const int32_t round = (int32_t)(((uint32_t)1 << right) >> 1);
    const int32_t neg = right > 0 ? (h >> 31) : 0;
    return (h + round + neg) >> right;
}

/* LiteRT's single-rounding requantization (its reference FULLY_CONNECTED):
 * (acc * mult + 2^(t-1)) >> t with t = 31 - shift. */
static inline int32_t requant_single(int32_t acc, int32_t mult, int32_t shift)
{
    const int total = 31 - shift;
    return (int32_t)(((int64_t)acc * mult + ((int64_t)1 << (total - 1))) >> total);
}

/* requant_single in 32-bit steps: with P = acc * mult and right = -shift >= 1,
 * floor((P + 2^(30+right)) / 2^(31+right)) = (floor(P / 2^31) + 2^(right-1)) >> right (the
 * rounding term is a whole multiple of 2^31). Exact under the same cheap_rq bound as
 * mbqm_cheap (floor(P / 2^31) + 2^(right-1) stays in int32). */
static inline int32_t requant_single_cheap(int32_t acc, int32_t mult, int32_t shift)
{
    const int64_t prod = (int64_t)acc * mult;
    if (shift > 0) return requant_single(acc, mult, shift);
    if (shift == 0) return (int32_t)((prod + ((int64_t)1 << 30)) >> 31);
    return ((int32_t)(prod >> 31) + (int32_t)(1u << (-shift - 1))) >> -shift;
}

/* The int8 epilogue of conv and fully connected: requantize (single or double rounding, cheap
 * form when proven exact), add the output zero point, clamp to the activation range, and look
 * up the folded per-channel table of the element-wise ops that followed (when there is one). */
static inline int8_t epilogue_s8(int32_t acc, int32_t mult, int32_t shift, int32_t single,
                                 int32_t cheap, int32_t out_offset, int32_t lo, int32_t hi,
                                 const int8_t *post_row)
{
    int32_t v;
    if (single) v = cheap ? requant_single_cheap(acc, mult, shift) : requant_single(acc, mult, shift);
    else v = cheap ? mbqm_cheap(acc, mult, shift) : mbqm_fast(acc, mult, shift);
    v += out_offset;
    v = v < lo ? lo : (v > hi ? hi : v);
    return post_row ? post_row[v - lo] : (int8_t)v;
}

/* Where weight k of unit u sits in the packed fully connected layout (tinyeit_kernels.h), which
 * int8 conv filters use too (unit = output channel, k = (ky * k_w + kx) * in_c + ic). */
static inline int32_t fc4_index(int32_t u, int32_t k, int32_t n, int32_t units)
{
    const int32_t n4 = n & ~3, blk = u & ~3, r = u & 3;
    if (u >= (units & ~3)) return u * n + k;
    return k < n4 ? blk * n + (k & ~3) * 4 + r * 4 + (k & 3)
                  : blk * n + 4 * k + r;
}

/* Pairs in the block that starts at pair q of `pairs` (the unit-pair layout's block rule,
 * layout_unit_pairs.block_sizes), rows padded to npad inputs: where pairs_wide,
 * 4, the remainder as one block, and 5 as 3 + 2; else TINYEIT_PAIRS_BLOCK, else the remainder,
 * except that a remainder of one after a full block is taken as two blocks of two. */
static inline int32_t pairs_wide(int32_t pairs, int32_t npad)
{
    return TINYEIT_PAIRS_WIDE && npad <= TINYEIT_PAIRS_WIDE_MAX &&
           2 * pairs * npad >= TINYEIT_PAIRS_WIDE_MIN_MACS;
}

static inline int32_t pairs_block(int32_t q, int32_t pairs, int32_t npad)
{
    const int32_t left = pairs - q;
    if (pairs_wide(pairs, npad)) return left == 5 ? 3 : (left < 4 ? left : 4);
    if (left == TINYEIT_PAIRS_BLOCK + 1) return 2;
    return left < TINYEIT_PAIRS_BLOCK ? left : TINYEIT_PAIRS_BLOCK;
}

/* One weight read back from a unit-pair lane a + 256 b (its two bytes at `lane`): the first
 * unit's a is the low byte, the second's b the high byte plus a negative a's borrow. */
static inline int32_t pairs_lane_weight(const uint8_t *lane, int32_t second)
{
    const int32_t a = (int8_t)lane[0];
    return second ? (int32_t)(int8_t)lane[1] + (a < 0) : a;
}

/* The int8 epilogue's parameters, shared by conv and fully connected. */
typedef struct {
    int32_t out_offset, act_min, act_max, single_round, cheap_rq, post_len;
} tinyeit_epi;

/* acc[r] += x . unit r of one packed block of 4 units over n inputs (tinyeit_kernels.h: groups of
 * 4 inputs holding the 4 units' 4 weights each, then the tail inputs unit-interleaved). Each
 * input is loaded once for the 4 units; integer sums in any order give the reference's result. */
static inline void fc4_block(const int8_t *x, const int8_t *wb, int32_t n, int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3], g;
    for (g = 0; g + 4 <= n; g += 4, wb += 16) {
        const int32_t x0 = x[g], x1 = x[g + 1], x2 = x[g + 2], x3 = x[g + 3];
        a0 += x0 * wb[0] + x1 * wb[1] + x2 * wb[2] + x3 * wb[3];
        a1 += x0 * wb[4] + x1 * wb[5] + x2 * wb[6] + x3 * wb[7];
        a2 += x0 * wb[8] + x1 * wb[9] + x2 * wb[10] + x3 * wb[11];
        a3 += x0 * wb[12] + x1 * wb[13] + x2 * wb[14] + x3 * wb[15];
    }
    for (; g < n; ++g, wb += 4) {
        const int32_t xj = x[g];
        a0 += xj * wb[0]; a1 += xj * wb[1]; a2 += xj * wb[2]; a3 += xj * wb[3];
    }
    acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
}

/* One input vector x (n int8) against `units` packed units: the portable body of int8 fully
 * connected, and of conv per output window. bias + extra starts each sum. */
static inline void fc4_row(const int8_t *x, const int8_t *w, int32_t n, int32_t units,
                           const int32_t *bias, int32_t extra, const int32_t *mult,
                           const int32_t *shift, const tinyeit_epi *e, const int8_t *post,
                           int8_t *o)
{
    int32_t u, r;
    for (u = 0; u + 4 <= units; u += 4) {
        int32_t acc[4];
        for (r = 0; r < 4; ++r) acc[r] = bias[u + r] + extra;
        fc4_block(x, w + u * n, n, acc);
        for (r = 0; r < 4; ++r)
            o[u + r] = epilogue_s8(acc[r], mult[u + r], shift[u + r], e->single_round,
                                   e->cheap_rq, e->out_offset, e->act_min, e->act_max,
                                   post ? post + (u + r) * e->post_len : NULL);
    }
    for (; u < units; ++u) {
        const int32_t acc = bias[u] + extra + tinyeit_dot_s8(x, w + u * n, n);
        o[u] = epilogue_s8(acc, mult[u], shift[u], e->single_round, e->cheap_rq, e->out_offset,
                           e->act_min, e->act_max, post ? post + u * e->post_len : NULL);
    }
}

/* Largest conv window (k_h * k_w * in_c) the target kernels gather on the stack. */
#define TINYEIT_PATCH_MAX 512

/* The window of output (b, oy, ox) as one contiguous run of k_h * k_w * in_c int8: a pointer
 * into the input when the window lies inside it and is contiguous there, else gathered into
 * patch, every tap outside the input holding the input zero point. That is exact: the folded
 * bias already holds -zero_point * (sum of all the filter's weights), so a tap equal to the
 * zero point adds w * zero_point back and contributes nothing, as TFLite's skipped tap. */
static inline const int8_t *conv_window(const int8_t *in, const tinyeit_conv_params *P,
                                        int32_t b, int32_t oy, int32_t ox, int8_t *patch)
{
    const int32_t y0 = oy * P->stride_h - P->pad_h, x0 = ox * P->stride_w - P->pad_w;
    const int32_t inside = y0 >= 0 && y0 + (P->k_h - 1) * P->dil_h < P->in_h && x0 >= 0 &&
                           x0 + (P->k_w - 1) * P->dil_w < P->in_w;
    const int8_t zp = (int8_t)(-P->in_offset);
    int8_t *q = patch;
    int32_t ky, kx;
    if (inside && (P->dil_w == 1 || P->k_w == 1) &&
        (P->k_h == 1 || (x0 == 0 && P->k_w == P->in_w && P->dil_h == 1)))
        return in + ((b * P->in_h + y0) * P->in_w + x0) * P->in_c;
    for (ky = 0; ky < P->k_h; ++ky) {
        const int32_t y = y0 + ky * P->dil_h;
        for (kx = 0; kx < P->k_w; ++kx, q += P->in_c) {
            const int32_t x = x0 + kx * P->dil_w;
            if (y >= 0 && y < P->in_h && x >= 0 && x < P->in_w)
                memcpy(q, in + ((b * P->in_h + y) * P->in_w + x) * P->in_c, (size_t)P->in_c);
            else
                memset(q, zp, (size_t)P->in_c);
        }
    }
    return patch;
}

/* A rounded float as int32 for an int8 result: clamped to [-256, 256] first (any value beyond
 * saturates int8 whatever the zero point), so the conversion is always defined; NaN gives -256,
 * hence -128, as x86's conversion (INT32_MIN) does in LiteRT. */
static inline int32_t round_to_i32_s8(float r)
{
    return (int32_t)(r >= -256.0f ? (r <= 256.0f ? r : 256.0f) : -256.0f);
}

/* One input of TFLite's hybrid row quantization (tinyeit_hybrid_row_params gives offset and
 * the reciprocals): asymmetric, round(offset + v / scale) in double, clamped; symmetric,
 * roundf(v * (127 / range)) in float, clamped to [-127, 127]. The reference's own steps, and
 * the target kernels' fallback for the inputs their faster forms cannot vouch for. */
static inline int8_t hybrid_q_asym(float v, int32_t offset, double inv)
{
    const double r = round((double)offset + (double)v * inv);
    const int32_t qv = (int32_t)(r >= -256.0 ? (r <= 256.0 ? r : 256.0) : -256.0);
    return (int8_t)TINYEIT_MIN(127, TINYEIT_MAX(-128, qv));
}

static inline int8_t hybrid_q_sym(float v, float inv)
{
    const int32_t qv = round_to_i32_s8(roundf(v * inv));
    return (int8_t)TINYEIT_MIN(127, TINYEIT_MAX(-127, qv));
}

/* A hybrid unit's float output from its int32 dot product (zero point already taken off):
 * bias + dot x (row scale x the unit's weight scale), then the clamp; in the reference's order,
 * so every kernel gives its bits. sf holds w_scale[0] already where n_scale is 1. */
static inline float hybrid_out(int32_t dot, float sf, const float *w_scale, int32_t n_scale,
                               const float *bias, int32_t u, const tinyeit_fc_params *p)
{
    float scale = sf;
    float r = bias ? bias[u] : 0.0f;
    if (n_scale != 1) scale *= w_scale[u];
    r += (float)dot * scale;
    return clamp_f(r, p->f_min, p->f_max);
}

/* exp through double, the reference exp_f is held to (and its fallback). */
static inline float exp_f_double(float x)
{
    return (float)exp((double)x);
}

/* exp(x) correctly rounded to float, in integer arithmetic (32x32->64 multiplies), for targets
 * without a double FPU (the M4F, the ESP32), where a software double exp costs about 2,000
 * cycles a call; exp_f picks it there. Equal to exp_f_double for every float x (checked for
 * all 2^32 inputs against glibc; hosts run it in tests/test_codegen_float_kernels.py): where the
 * result lies within 2^-18 ulp of a rounding boundary (its error bound is about 2^-20 ulp), and
 * outside [-87, 88] (subnormal or infinite results) but above -104 (where exp rounds to 0), it
 * returns exp_f_double. Integer steps give the same bits on every target.
 * x = k ln2/64 + r, |r| <= ln2/128 (r in Q55 from a 55+32-bit ln2/64); exp(r) = 1 + r + r^2 s,
 * s = 1/2 + r/6 + r^2/24 + r^3/120 (Q32); times 2^(j/64) (Q63 table), k = 64 m + j. */
static inline float exp_f_int(float x)
{
    static const uint64_t two_j64[64] = {
        UINT64_C(0x8000000000000000), UINT64_C(0x8164d1f3bc030773), UINT64_C(0x82cd8698ac2ba1d7),
        UINT64_C(0x843a28c3acde4046), UINT64_C(0x85aac367cc487b15), UINT64_C(0x871f61969e8d1010),
        UINT64_C(0x88980e8092da8527), UINT64_C(0x8a14d575496efd9a), UINT64_C(0x8b95c1e3ea8bd6e7),
        UINT64_C(0x8d1adf5b7e5ba9e6), UINT64_C(0x8ea4398b45cd53c0), UINT64_C(0x9031dc431466b1dc),
        UINT64_C(0x91c3d373ab11c336), UINT64_C(0x935a2b2f13e6e92c), UINT64_C(0x94f4efa8fef70961),
        UINT64_C(0x96942d3720185a00), UINT64_C(0x9837f0518db8a96f), UINT64_C(0x99e0459320b7fa65),
        UINT64_C(0x9b8d39b9d54e5539), UINT64_C(0x9d3ed9a72cffb751), UINT64_C(0x9ef5326091a111ae),
        UINT64_C(0xa0b0510fb9714fc2), UINT64_C(0xa27043030c496819), UINT64_C(0xa43515ae09e6809e),
        UINT64_C(0xa5fed6a9b15138ea), UINT64_C(0xa7cd93b4e965356a), UINT64_C(0xa9a15ab4ea7c0ef8),
        UINT64_C(0xab7a39b5a93ed337), UINT64_C(0xad583eea42a14ac6), UINT64_C(0xaf3b78ad690a4375),
        UINT64_C(0xb123f581d2ac2590), UINT64_C(0xb311c412a9112489), UINT64_C(0xb504f333f9de6484),
        UINT64_C(0xb6fd91e328d17791), UINT64_C(0xb8fbaf4762fb9ee9), UINT64_C(0xbaff5ab2133e45fb),
        UINT64_C(0xbd08a39f580c36bf), UINT64_C(0xbf1799b67a731083), UINT64_C(0xc12c4cca66709456),
        UINT64_C(0xc346ccda24976407), UINT64_C(0xc5672a115506dadd), UINT64_C(0xc78d74c8abb9b15d),
        UINT64_C(0xc9b9bd866e2f27a3), UINT64_C(0xcbec14fef2727c5d), UINT64_C(0xce248c151f8480e4),
        UINT64_C(0xd06333daef2b2595), UINT64_C(0xd2a81d91f12ae45a), UINT64_C(0xd4f35aabcfedfa1f),
        UINT64_C(0xd744fccad69d6af4), UINT64_C(0xd99d15c278afd7b6), UINT64_C(0xdbfbb797daf23755),
        UINT64_C(0xde60f4825e0e9124), UINT64_C(0xe0ccdeec2a94e111), UINT64_C(0xe33f8972be8a5a51),
        UINT64_C(0xe5b906e77c8348a8), UINT64_C(0xe8396a503c4bdc68), UINT64_C(0xeac0c6e7dd24392f),
        UINT64_C(0xed4f301ed9942b84), UINT64_C(0xefe4b99bdcdaf5cb), UINT64_C(0xf281773c59ffb13a),
        UINT64_C(0xf5257d152486cc2c), UINT64_C(0xf7d0df730ad13bb9), UINT64_C(0xfa83b2db722a033a),
        UINT64_C(0xfd3e0c0cf486c175),
    };
    uint32_t bits, mant, g32;
    int32_t e, k, j, ex, r38, t;
    int64_t X, r55;
    uint64_t T, E, P, q;
    uint32_t s, r2;
    float kf;
    int sh;
    memcpy(&bits, &x, sizeof bits);
    if ((bits & 0x7fffffffu) < 0x32800000u) return 1.0f; /* |x| < 2^-26: rounds to 1 */
    if (!(x >= -87.0f && x <= 88.0f)) return x < -104.0f ? 0.0f : exp_f_double(x);
    e = (int32_t)((bits >> 23) & 0xffu) - 150; /* x = +-M 2^e, -49 <= e <= -17 */
    X = (int64_t)(((bits & 0x7fffffu) | 0x800000u)) * ((int64_t)1 << (e + 55)); /* x in Q55 */
    if (bits >> 31) X = -X;
    kf = x * 92.3324826f; /* 64 / ln2; k may be off by one at a boundary: r stays in range */
    k = (int32_t)(kf < 0.0f ? kf - 0.5f : kf + 0.5f);
    r55 = X - (int64_t)k * INT64_C(390207173010334) - (((int64_t)k * INT64_C(4082602951)) >> 32);
    r38 = (int32_t)(r55 >> 17);
    t = 178956971 + (int32_t)(((int64_t)r38 * 35791394) >> 38);   /* 1/24 + r/120 */
    t = 715827883 + (int32_t)(((int64_t)r38 * t) >> 38);          /* 1/6 + r (...) */
    s = 0x80000000u + (uint32_t)(int32_t)(((int64_t)r38 * t) >> 38); /* 1/2 + r (...) */
    r2 = (uint32_t)(((int64_t)r38 * r38) >> 30);                   /* r^2 in Q46 */
    q = (uint64_t)r2 * s;                                           /* r^2 s in Q78 */
    E = ((uint64_t)1 << 62) + (uint64_t)(r55 * 128) + (q >> 16);    /* exp(r) in Q62 */
    j = (int32_t)((uint32_t)k & 63u);
    T = two_j64[j];
    P = (uint64_t)(uint32_t)(T >> 32) * (uint32_t)(E >> 32)
        + (((uint64_t)(uint32_t)(T >> 32) * (uint32_t)E) >> 32)
        + (((uint64_t)(uint32_t)T * (uint32_t)(E >> 32)) >> 32);   /* 2^(j/64) exp(r), Q61 */
    ex = (k - j) / 64 + 127;
    if (P >> 61) sh = 38; else { sh = 37; --ex; }
    mant = (uint32_t)(P >> sh);
    g32 = (uint32_t)(P << (64 - sh) >> 32); /* the bits below the last place, top 32 */
    if (g32 - (0x80000000u - 0x4000u) < 0x8000u) return exp_f_double(x); /* near a tie */
    mant += g32 >> 31;
    if (mant >> 24) { mant >>= 1; ++ex; }
    if (ex < 1 || ex > 254) return exp_f_double(x);
    bits = ((uint32_t)ex << 23) | (mant & 0x7fffffu);
    memcpy(&kf, &bits, sizeof kf);
    return kf;
}

/* exp_f_int where double arithmetic is software, the double form where the FPU has it (there
 * it is the faster one); the same value either way. */
#if defined(__aarch64__) || defined(__x86_64__) || defined(__i386__) || \
    (defined(__ARM_FP) && (__ARM_FP & 8))
#define TINYEIT_HARD_DOUBLE 1
#endif
static inline float exp_f(float x)
{
#if defined(TINYEIT_HARD_DOUBLE)
    return exp_f_double(x);
#else
    return exp_f_int(x);
#endif
}

#endif
