/* AArch64 NEON (ARMv8.0: no SDOT) block-sparse fully connected: tinyeit_fc_s8_bsr and
 * tinyeit_fc_f32_bsr on the block-sparse layout of tinyeit_kernels.h, read as it is (the layout
 * every target shares).
 *
 * int8: a kept block is one group of 4 inputs against 4 units, 16 bytes in the dense packed
 * order (unit 0's 4 weights, unit 1's, ...), so its input word is loaded at the block's index
 * and broadcast (LD1R) and SMULL/SMULL2 give the 16 products as int16, SADALP adds neighbouring
 * ones into int32 lanes (units 0, 0, 1, 1 and 2, 2, 3, 3; a final ADDP leaves one sum per unit).
 * Where the generator saw no -128 weight (w_no_min) two blocks share one int16 lane (SMULL then
 * SMLAL, same unit and same place in the group per lane; |w| <= 127 bounds the lane by
 * 2 * 127 * 128 = 32512), halving the SADALPs, as the dense kernel does. The loop over a
 * block of units' kept blocks is assembly (a64_bsr_sums: 5.75 instructions per kept block of 16
 * MACs in its 8-block steps; on the study's first layer 6.9 per kept block all told, where the
 * dense kernel spends 4.2 per 16 MACs: the block-sparse one is the faster while at most about
 * 60 % of the blocks are kept). Integer sums in another order: the reference's
 * result. The n % 4 tail inputs of each block of units (stored input by input, the 4 units'
 * weights together) meet a vector of those inputs each repeated 4 times, built once per row.
 *
 * float: per block of 4 units, the lanes are the units; per kept block its 4 inputs (one LDR Q
 * at the index) and 16 weights (input 0's 4 units, input 1's, ...), then per input FMUL by
 * element and FADD (never FMLA): each unit's sum takes its kept inputs in the reference's order
 * with the reference's two roundings, so the reference's bits; the tail inputs, the bias and the
 * clamp after, as the reference; the units % 4 plain rows are the reference's own code. */
#include "tinyeit_common.h"

#if defined(TINYEIT_A64_FC_S8_BSR) || defined(TINYEIT_A64_FC_F32_BSR)
#include <arm_neon.h>

#include "tinyeit_a64_f32.h"
#include "tinyeit_a64_s8.h"
#endif

#if defined(TINYEIT_A64_FC_S8_BSR)
/* the largest in_dim whose group indices stay below 2^14 (the LSR #14 address) */
#define A64_BSR_QUAD_N_MAX 65535

/* The assembly of one block of 4 units: its count c from *ip, then c / 8 steps of eight kept
 * blocks, then four, two, one as c's low bits say. Per four blocks one LDP takes four indices
 * as two words; ADD with UXTH #2 makes the low index of a word an address, ADD with LSR #14 the
 * high one (exact while every index is below 2^14: in_dim <= A64_BSR_QUAD_N_MAX); each input
 * word broadcast by LD1R; four 16-byte blocks by one LD1 of 64 bytes. PAIR: SMLAL adds the next
 * block's products to the same int16 lanes; else every product gets its own lane. */
#define A64_BSR_IDX2(I, A, B)                                                                 \
    "add    %[" A "], %[x], %w[" I "], uxth #2\n\t"                                           \
    "add    %[" B "], %[x], %[" I "], lsr #14\n\t"

#define A64_BSR_PAIR(W0, W1, X0, X1, T0, T1)                                                  \
    "smull  " T0 ".8h, " W0 ".8b, " X0 ".8b\n\t"                                              \
    "smull2 " T1 ".8h, " W0 ".16b, " X0 ".16b\n\t"                                            \
    "smlal  " T0 ".8h, " W1 ".8b, " X1 ".8b\n\t"                                              \
    "smlal2 " T1 ".8h, " W1 ".16b, " X1 ".16b\n\t"                                            \
    "sadalp %[lo].4s, " T0 ".8h\n\t"                                                          \
    "sadalp %[hi].4s, " T1 ".8h\n\t"

#define A64_BSR_ONE(W0, X0, T0, T1)                                                           \
    "smull  " T0 ".8h, " W0 ".8b, " X0 ".8b\n\t"                                              \
    "smull2 " T1 ".8h, " W0 ".16b, " X0 ".16b\n\t"                                            \
    "sadalp %[lo].4s, " T0 ".8h\n\t"                                                          \
    "sadalp %[hi].4s, " T1 ".8h\n\t"

#define A64_BSR_QUAD_BODY(QUAD)                                                               \
    "ldp    %w[i0], %w[i1], [%[ip]], #8\n\t"                                                  \
    A64_BSR_IDX2("i0", "a0", "i0") A64_BSR_IDX2("i1", "a1", "i1")                             \
    "ld1r   {v0.4s}, [%[a0]]\n\t"                                                             \
    "ld1r   {v1.4s}, [%[i0]]\n\t"                                                             \
    "ld1r   {v2.4s}, [%[a1]]\n\t"                                                             \
    "ld1r   {v3.4s}, [%[i1]]\n\t"                                                             \
    "ld1    {v4.16b, v5.16b, v6.16b, v7.16b}, [%[w]], #64\n\t"                                \
    QUAD

#define A64_BSR_ASM(QUAD, TWO)                                                                \
    __asm__("ldrh   %w[c], [%[ip]], #2\n\t"                                                   \
            "lsr    %w[q], %w[c], #3\n\t"                                                     \
            "cbz    %w[q], 2f\n\t"                                                            \
            "1:\n\t"                                                                          \
            A64_BSR_QUAD_BODY(QUAD)                                                           \
            A64_BSR_QUAD_BODY(QUAD)                                                           \
            "subs   %w[q], %w[q], #1\n\t"                                                     \
            "b.ne   1b\n\t"                                                                   \
            "2:\n\t"                                                                          \
            "tbz    %w[c], #2, 5f\n\t"                                                        \
            A64_BSR_QUAD_BODY(QUAD)                                                           \
            "5:\n\t"                                                                          \
            "tbz    %w[c], #1, 3f\n\t"                                                        \
            "ldr    %w[i0], [%[ip]], #4\n\t"                                                  \
            A64_BSR_IDX2("i0", "a0", "i0")                                                    \
            "ld1r   {v0.4s}, [%[a0]]\n\t"                                                     \
            "ld1r   {v1.4s}, [%[i0]]\n\t"                                                     \
            "ld1    {v4.16b, v5.16b}, [%[w]], #32\n\t"                                        \
            TWO                                                                               \
            "3:\n\t"                                                                          \
            "tbz    %w[c], #0, 4f\n\t"                                                        \
            "ldrh   %w[i0], [%[ip]], #2\n\t"                                                  \
            "add    %[a0], %[x], %[i0], lsl #2\n\t"                                           \
            "ld1r   {v0.4s}, [%[a0]]\n\t"                                                     \
            "ld1    {v4.16b}, [%[w]], #16\n\t"                                                \
            A64_BSR_ONE("v4", "v0", "v16", "v17")                                             \
            "4:\n\t"                                                                          \
            : [ip] "+r"(i), [w] "+r"(wp), [lo] "+w"(lo), [hi] "+w"(hi), [c] "=&r"(c),       \
              [q] "=&r"(q), [i0] "=&r"(i0), [i1] "=&r"(i1), [a0] "=&r"(a0), [a1] "=&r"(a1)    \
            : [x] "r"(x)                                                                      \
            : "v0", "v1", "v2", "v3", "v4", "v5", "v6", "v7", "v16", "v17", "v18", "v19",     \
              "v20", "v21", "v22", "v23", "cc", "memory")

/* One block of 4 units: the sums of its kept blocks ([u0, u1, u2, u3]); *ip (at the block's
 * count) and *w advance past them. pair: two blocks per int16 lane (no -128 weight). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int32x4_t a64_bsr_sums(const int8_t *x, const uint16_t **ip, const int8_t **w,
                                     const int pair)
{
    const uint16_t *i = *ip;
    const int8_t *wp = *w;
    int32x4_t lo = vdupq_n_s32(0), hi = lo;
    uint64_t c, q, i0, i1, a0, a1;
    if (pair)
        A64_BSR_ASM(A64_BSR_PAIR("v4", "v5", "v0", "v1", "v16", "v17")
                    A64_BSR_PAIR("v6", "v7", "v2", "v3", "v18", "v19"),
                    A64_BSR_PAIR("v4", "v5", "v0", "v1", "v16", "v17"));
    else
        A64_BSR_ASM(A64_BSR_ONE("v4", "v0", "v16", "v17") A64_BSR_ONE("v5", "v1", "v18", "v19")
                    A64_BSR_ONE("v6", "v2", "v20", "v21") A64_BSR_ONE("v7", "v3", "v22", "v23"),
                    A64_BSR_ONE("v4", "v0", "v16", "v17") A64_BSR_ONE("v5", "v1", "v18", "v19"));
    *ip = i;
    *w = wp;
    return vpaddq_s32(lo, hi);
}

/* a64_bsr_sums in C, for rows past A64_BSR_QUAD_N_MAX inputs. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int32x4_t a64_bsr_sums_c(const int8_t *x, const uint16_t **ip, const int8_t **w)
{
    const uint16_t *i = *ip;
    const int8_t *wp = *w;
    const int32_t count = *i++;
    int32x4_t lo = vdupq_n_s32(0), hi = lo;
    int32_t k;
    for (k = 0; k < count; ++k, ++i, wp += 16) {
        const int8x16_t xv = a64_dup4(x + 4 * (int32_t)i[0]), wv = vld1q_s8(wp);
        lo = vpadalq_s16(lo, vmull_s8(vget_low_s8(wv), vget_low_s8(xv)));
        hi = vpadalq_s16(hi, vmull_high_s8(wv, xv));
    }
    *ip = i;
    *w = wp;
    return vpaddq_s32(lo, hi);
}

/* The products of a block's `tail` (1..3) last inputs: its 4 * tail weights (input by input,
 * the 4 units together) against xt (each tail input 4 times, zeros after); [u0, u1, u2, u3]. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int32x4_t a64_bsr_tail(const int8_t *w, int8x16_t xt, int32_t tail)
{
    int64_t d = 0;
    int32_t s = 0;
    int8x16_t wt;
    int16x8_t t0, t1;
    if (tail >= 2) memcpy(&d, w, 8);
    else memcpy(&s, w, 4);
    wt = vreinterpretq_s8_s64(vsetq_lane_s64(d, vdupq_n_s64(0), 0));
    if (tail == 3) {
        memcpy(&s, w + 8, 4);
        wt = vreinterpretq_s8_s32(vsetq_lane_s32(s, vreinterpretq_s32_s8(wt), 2));
    } else if (tail == 1) {
        wt = vreinterpretq_s8_s32(vsetq_lane_s32(s, vdupq_n_s32(0), 0));
    }
    t0 = vmull_s8(vget_low_s8(wt), vget_low_s8(xt));
    t1 = vmull_high_s8(wt, xt);
    return vaddw_s16(vaddl_s16(vget_low_s16(t0), vget_high_s16(t0)), vget_low_s16(t1));
}

/* 4 requantized outputs of units c0..: zero point, clamp, then one 4-byte store or the
 * folded table's 4 look-ups. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void a64_put4(int16x4_t v, const a64_outs *O, int32_t c0, int8_t *o)
{
    v = vmin_s16(vmax_s16(vqadd_s16(v, vget_low_s16(O->off)), vget_low_s16(O->lo)),
                 vget_low_s16(O->hi));
    if (O->post) {
        const int8_t *row = O->post + c0 * O->post_len;
        const uint16x4_t idx = vreinterpret_u16_s16(vadd_s16(v, vget_low_s16(O->base)));
        o[0] = row[vget_lane_u16(idx, 0)];
        o[1] = row[vget_lane_u16(idx, 1)];
        o[2] = row[vget_lane_u16(idx, 2)];
        o[3] = row[vget_lane_u16(idx, 3)];
    } else {
        /* the low byte of each int16 lane (UZP1 of the bytes: one instruction, where the
         * narrowing XTN wants 8 lanes) */
        const int8x8_t v8 = vreinterpret_s8_s16(v);
        const int32_t word = vget_lane_s32(vreinterpret_s32_s8(vuzp1_s8(v8, v8)), 0);
        memcpy(o, &word, sizeof word);
    }
}

/* One input row: per block of 4 units its kept blocks (the assembly, or C past
 * A64_BSR_QUAD_N_MAX inputs), its tail inputs, the output stage; then the plain rows. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void a64_bsr_row(const int8_t *x, const int8_t *w, const uint16_t *ip, int32_t n,
                               int32_t units, const int32_t *bias, const int32_t *mult,
                               const int32_t *shift, const a64_outs *O, const tinyeit_epi *e,
                               int right, const int pair, const int quad, int8_t *o)
{
    const int32_t n4 = n & ~3, tail = n - n4, full = units & ~3;
    int8_t xb[16] __attribute__((aligned(16)));
    int8x16_t xt;
    int32_t u, j;
    memset(xb, 0, sizeof xb);
    for (j = 0; j < tail; ++j) memset(xb + 4 * j, x[n4 + j], 4);
    xt = vld1q_s8(xb);
    for (u = 0; u < full; u += 4) {
        int32x4_t a = quad ? a64_bsr_sums(x, &ip, &w, pair) : a64_bsr_sums_c(x, &ip, &w);
        if (tail) {
            a = vaddq_s32(a, a64_bsr_tail(w, xt, tail));
            w += 4 * tail;
        }
        a64_put4(a64_rq4(vaddq_s32(a, vld1q_s32(bias + u)), mult + u, shift + u,
                         e->single_round, right), O, u, o + u);
    }
    for (; u < units; ++u, w += n) {
        const int32_t acc = bias[u] + a64_dot1_s8(x, w, n);
        o[u] = epilogue_s8(acc, mult[u], shift[u], e->single_round, e->cheap_rq, e->out_offset,
                           e->act_min, e->act_max, O->post ? O->post + u * e->post_len : NULL);
    }
}

void tinyeit_fc_s8_bsr(const int8_t *in, const int8_t *w, const uint16_t *idx,
                       const int32_t *bias, const int32_t *mult, const int32_t *shift,
                       const int8_t *post, int8_t *out, const tinyeit_fc_params *p)
{
    const tinyeit_epi e = {p->out_offset, p->act_min, p->act_max, p->single_round, p->cheap_rq,
                           p->post_len};
    const int32_t n = p->in_dim, units = p->units;
    int right;
    a64_outs O;
    int32_t b;
    if (p->w_offset != 0) {
        tinyeit_fc_s8_bsr_ref(in, w, idx, bias, mult, shift, post, out, p);
        return;
    }
    right = a64_all_right(shift, units);
    a64_outs_init(&O, p->out_offset, p->act_min, p->act_max, post, p->post_len);
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = in + b * n;
        int8_t *o = out + b * units;
        if (n > A64_BSR_QUAD_N_MAX)
            a64_bsr_row(x, w, idx, n, units, bias, mult, shift, &O, &e, right, 0, 0, o);
        else if (p->w_no_min)
            a64_bsr_row(x, w, idx, n, units, bias, mult, shift, &O, &e, right, 1, 1, o);
        else
            a64_bsr_row(x, w, idx, n, units, bias, mult, shift, &O, &e, right, 0, 1, o);
    }
}
#endif

#if defined(TINYEIT_A64_FC_F32_BSR)
/* acc += one block of 4 units' kept blocks (count from *ip, which advances past the indices;
 * *w past the weights), two blocks a step in assembly: per block LDRH of its index, LDR Q of
 * its 4 inputs at the index (register offset, LSL #4), LD1 of its 16 weights, then per input
 * FMUL by element and FADD into the sum, in input order (the reference's order and roundings:
 * no FMLA). */
#define A64_BSR_F32_BLOCK(X, W0, W1, W2, W3)                                                  \
    "fmul   v16.4s, " W0 ".4s, " X ".s[0]\n\t"                                                \
    "fmul   v17.4s, " W1 ".4s, " X ".s[1]\n\t"                                                \
    "fmul   v18.4s, " W2 ".4s, " X ".s[2]\n\t"                                                \
    "fmul   v19.4s, " W3 ".4s, " X ".s[3]\n\t"                                                \
    "fadd   %[acc].4s, %[acc].4s, v16.4s\n\t"                                                 \
    "fadd   %[acc].4s, %[acc].4s, v17.4s\n\t"                                                 \
    "fadd   %[acc].4s, %[acc].4s, v18.4s\n\t"                                                 \
    "fadd   %[acc].4s, %[acc].4s, v19.4s\n\t"

static inline float32x4_t a64_bsr_f32(const float *x, const uint16_t **ip, const float **w)
{
    const uint16_t *i = *ip;
    const float *wp = *w;
    float32x4_t acc = vdupq_n_f32(0.0f);
    uint64_t c, q, i0, i1;
    __asm__("ldrh   %w[c], [%[ip]], #2\n\t"
            "lsr    %w[q], %w[c], #1\n\t"
            "cbz    %w[q], 2f\n\t"
            "1:\n\t"
            "ldrh   %w[i0], [%[ip]], #2\n\t"
            "ldrh   %w[i1], [%[ip]], #2\n\t"
            "ldr    q0, [%[x], %[i0], lsl #4]\n\t"
            "ld1    {v4.4s, v5.4s, v6.4s, v7.4s}, [%[w]], #64\n\t"
            "ldr    q1, [%[x], %[i1], lsl #4]\n\t"
            A64_BSR_F32_BLOCK("v0", "v4", "v5", "v6", "v7")
            "ld1    {v4.4s, v5.4s, v6.4s, v7.4s}, [%[w]], #64\n\t"
            A64_BSR_F32_BLOCK("v1", "v4", "v5", "v6", "v7")
            "subs   %w[q], %w[q], #1\n\t"
            "b.ne   1b\n\t"
            "2:\n\t"
            "tbz    %w[c], #0, 3f\n\t"
            "ldrh   %w[i0], [%[ip]], #2\n\t"
            "ldr    q0, [%[x], %[i0], lsl #4]\n\t"
            "ld1    {v4.4s, v5.4s, v6.4s, v7.4s}, [%[w]], #64\n\t"
            A64_BSR_F32_BLOCK("v0", "v4", "v5", "v6", "v7")
            "3:\n\t"
            : [ip] "+r"(i), [w] "+r"(wp), [acc] "+w"(acc), [c] "=&r"(c), [q] "=&r"(q),
              [i0] "=&r"(i0), [i1] "=&r"(i1)
            : [x] "r"(x)
            : "v0", "v1", "v4", "v5", "v6", "v7", "v16", "v17", "v18", "v19", "cc", "memory");
    *ip = i;
    *w = wp;
    return acc;
}

/* low / high: which clamp bounds can bite (a64_bites_*), constants after inlining. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void a64_fc_f32_bsr_t(const float *in, const float *w, const uint16_t *idx,
                                    const float *bias, float *out, const tinyeit_fc_params *p,
                                    const int low, const int high)
{
    const int32_t n = p->in_dim, n4 = n & ~3, tail = n - n4, units = p->units;
    const float32x4_t lo = vdupq_n_f32(p->f_min), hi = vdupq_n_f32(p->f_max);
    int32_t b, u, j;
    for (b = 0; b < p->batches; ++b) {
        const float *x = in + b * n, *wp = w;
        const uint16_t *ip = idx;
        float *o = out + b * units;
        for (u = 0; u + 4 <= units; u += 4) {
            float32x4_t acc = a64_bsr_f32(x, &ip, &wp);
            for (j = 0; j < tail; ++j, wp += 4)
                acc = vaddq_f32(acc, vmulq_f32(vld1q_dup_f32(x + n4 + j), vld1q_f32(wp)));
            if (bias) acc = vaddq_f32(acc, vld1q_f32(bias + u));
            vst1q_f32(o + u, a64_clamp4(acc, lo, hi, low, high));
        }
        for (; u < units; ++u, wp += n) {
            float acc = tinyeit_dot_f32(0.0f, x, wp, n);
            if (bias) acc += bias[u];
            o[u] = clamp_f(acc, p->f_min, p->f_max);
        }
    }
}

void tinyeit_fc_f32_bsr(const float *in, const float *w, const uint16_t *idx, const float *bias,
                        float *out, const tinyeit_fc_params *p)
{
    const int low = a64_bites_low(p->f_min), high = a64_bites_high(p->f_max);
    if (low && high) a64_fc_f32_bsr_t(in, w, idx, bias, out, p, 1, 1);
    else if (low) a64_fc_f32_bsr_t(in, w, idx, bias, out, p, 1, 0);
    else if (high) a64_fc_f32_bsr_t(in, w, idx, bias, out, p, 0, 1);
    else a64_fc_f32_bsr_t(in, w, idx, bias, out, p, 0, 0);
}
#endif
