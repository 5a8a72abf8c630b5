/* Cortex-M DSP int8 fully connected and convolution: tinyeit_fc_s8 and tinyeit_conv_s8 on the
 * packed weights (tinyeit_kernels.h),
 * four units per input word: one LDR of 4 inputs, SXTB16 (bytes 0, 2) and SXTB16 ROR #8 (bytes
 * 1, 3) into int16 pairs, then per unit one LDR of its 4 weights, the same two widenings and two
 * SMLAD. The loop is written in assembly: in C, gcc spills the accumulators and pointers of a
 * four-unit loop to the stack. Integer sums in another order: the reference's result. */
#include "tinyeit_common.h"

#if defined(TINYEIT_CORTEX_M_DSP)
#include "tinyeit_cm_dot.h"

/* acc[r] += sum over groups * 4 inputs; x and w advance past what they read. */
static inline void cm_fc4_groups(const int8_t **xp, const int8_t **wp, int32_t groups,
                                 int32_t *acc)
{
    const int8_t *x = *xp, *w = *wp;
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t xa, xb, t0, t1, u;
    __asm__ volatile(
        "1:\n\t"
        "ldr    %[xa], [%[x]], #4\n\t"
        "ldr    %[t0], [%[w]], #4\n\t"
        "ldr    %[t1], [%[w]], #4\n\t"
        "sxtb16 %[xb], %[xa], ror #8\n\t"
        "sxtb16 %[xa], %[xa]\n\t"
        "sxtb16 %[u], %[t0], ror #8\n\t"
        "sxtb16 %[t0], %[t0]\n\t"
        "smlad  %[a0], %[t0], %[xa], %[a0]\n\t"
        "smlad  %[a0], %[u], %[xb], %[a0]\n\t"
        "sxtb16 %[u], %[t1], ror #8\n\t"
        "sxtb16 %[t1], %[t1]\n\t"
        "smlad  %[a1], %[t1], %[xa], %[a1]\n\t"
        "smlad  %[a1], %[u], %[xb], %[a1]\n\t"
        "ldr    %[t0], [%[w]], #4\n\t"
        "ldr    %[t1], [%[w]], #4\n\t"
        "sxtb16 %[u], %[t0], ror #8\n\t"
        "sxtb16 %[t0], %[t0]\n\t"
        "smlad  %[a2], %[t0], %[xa], %[a2]\n\t"
        "smlad  %[a2], %[u], %[xb], %[a2]\n\t"
        "sxtb16 %[u], %[t1], ror #8\n\t"
        "sxtb16 %[t1], %[t1]\n\t"
        "smlad  %[a3], %[t1], %[xa], %[a3]\n\t"
        "smlad  %[a3], %[u], %[xb], %[a3]\n\t"
        "subs   %[n], %[n], #1\n\t"
        "bne    1b\n\t"
        : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [x] "+r"(x), [w] "+r"(w),
          [n] "+r"(groups), [xa] "=&r"(xa), [xb] "=&r"(xb), [t0] "=&r"(t0), [t1] "=&r"(t1),
          [u] "=&r"(u)
        :
        : "cc", "memory");
    acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
    *xp = x;
    *wp = w;
}

/* One input vector against `units` packed units: the body of fully connected, and of conv per
 * output position. Instantiated per requantization (single, cheap: constants after inlining)
 * so that the per-output epilogue carries no flag tests. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void cm_fc_row_t(const int8_t *x0, const int8_t *w, int32_t n, int32_t units,
                               const int32_t *bias, const int32_t *mult, const int32_t *shift,
                               const tinyeit_epi *e, const int8_t *post, int8_t *o,
                               const int32_t single, const int32_t cheap)
{
    const int32_t tail = n & 3;
    int32_t u, r, j;
    for (u = 0; u + 4 <= units; u += 4) {
        const int8_t *x = x0, *wb = w + u * n;
        int32_t acc[4];
        acc[0] = bias[u]; acc[1] = bias[u + 1]; acc[2] = bias[u + 2]; acc[3] = bias[u + 3];
        if (n >= 4) cm_fc4_groups(&x, &wb, n >> 2, acc);
        for (j = 0; j < tail; ++j, wb += 4) {
            const int32_t xj = x[j];
            acc[0] += xj * wb[0]; acc[1] += xj * wb[1]; acc[2] += xj * wb[2]; acc[3] += xj * wb[3];
        }
        for (r = 0; r < 4; ++r)
            o[u + r] = epilogue_s8(acc[r], mult[u + r], shift[u + r], single, cheap,
                                   e->out_offset, e->act_min, e->act_max,
                                   post ? post + (u + r) * e->post_len : NULL);
    }
    for (; u < units; ++u) {
        const int32_t acc = cm_dot1_s8(x0, w + u * n, n, bias[u]);
        o[u] = epilogue_s8(acc, mult[u], shift[u], single, cheap, e->out_offset,
                           e->act_min, e->act_max, post ? post + u * e->post_len : NULL);
    }
}

static void cm_fc_row(const int8_t *x, const int8_t *w, int32_t n, int32_t units,
                      const int32_t *bias, const int32_t *mult, const int32_t *shift,
                      const tinyeit_epi *e, const int8_t *post, int8_t *o)
{
    if (e->single_round && e->cheap_rq)
        cm_fc_row_t(x, w, n, units, bias, mult, shift, e, post, o, 1, 1);
    else if (e->single_round)
        cm_fc_row_t(x, w, n, units, bias, mult, shift, e, post, o, 1, 0);
    else if (e->cheap_rq)
        cm_fc_row_t(x, w, n, units, bias, mult, shift, e, post, o, 0, 1);
    else
        cm_fc_row_t(x, w, n, units, bias, mult, shift, e, post, o, 0, 0);
}

void tinyeit_fc_s8(const int8_t *in, const int8_t *w, const int32_t *bias, const int32_t *mult,
                   const int32_t *shift, const int8_t *post, int8_t *out,
                   const tinyeit_fc_params *p)
{
    const tinyeit_epi e = {p->out_offset, p->act_min, p->act_max, p->single_round, p->cheap_rq,
                           p->post_len};
    int32_t b;
    if (p->w_offset != 0) {
        tinyeit_fc_s8_ref(in, w, bias, mult, shift, post, out, p);
        return;
    }
    for (b = 0; b < p->batches; ++b)
        cm_fc_row(in + b * p->in_dim, w, p->in_dim, p->units, bias, mult, shift, &e, post,
                  out + b * p->units);
}

/* Per-channel constants of mbqm_cheap, computed once per call instead of once per output. */
typedef struct {
    int32_t mult, left, right, round, negmask, bias;
    const int8_t *post;
} cm_rq;

static inline void cm_rq_init(cm_rq *q, int32_t oc, const int32_t *bias, const int32_t *mult,
                              const int32_t *shift, const int8_t *post, int32_t post_len)
{
    const int32_t s = shift[oc];
    q->mult = mult[oc];
    q->left = s > 0 ? s : 0;
    q->right = s > 0 ? 0 : -s;
    q->round = (int32_t)(((uint32_t)1 << q->right) >> 1);
    q->negmask = q->right > 0 ? -1 : 0;
    q->bias = bias[oc];
    q->post = post ? post + oc * post_len : NULL;
}

/* mbqm_cheap with the hoisted constants, then zero point, clamp and the folded table. */
static inline int8_t cm_rq_out(const cm_rq *q, int32_t acc, const tinyeit_epi *e)
{
    const int64_t t = (int64_t)(int32_t)((uint32_t)acc << q->left) * q->mult +
                      ((int64_t)1 << 30);
    const int32_t h = (int32_t)(t >> 31);
    int32_t v = ((h + q->round + ((h >> 31) & q->negmask)) >> q->right) + e->out_offset;
    v = v < e->act_min ? e->act_min : (v > e->act_max ? e->act_max : v);
    return q->post ? q->post[v - e->act_min] : (int8_t)v;
}

/* Convolution with the cheap requantization: output channels in blocks of 4 outside, output
 * positions inside, so that each channel's requantization constants are set up once; each
 * position's window (conv_window: in place or gathered) against the block's packed filters. */
static void cm_conv_blocked(const int8_t *in, const int8_t *w, const int32_t *bias,
                            const int32_t *mult, const int32_t *shift, const int8_t *post,
                            int8_t *out, const tinyeit_conv_params *p, int8_t *patch)
{
    const tinyeit_epi e = {p->out_offset, p->act_min, p->act_max, 0, 1, p->post_len};
    const int32_t K = p->k_h * p->k_w * p->in_c, tail = K & 3, C = p->out_c;
    /* windows that are one contiguous run of the input where they lie inside it (conv_window's
     * in-place case, tested here without a call) */
    const int32_t runs = (p->k_h == 1 || (p->k_w == p->in_w && p->dil_h == 1)) &&
                         (p->dil_w == 1 || p->k_w == 1);
    const int32_t span_h = (p->k_h - 1) * p->dil_h, span_w = (p->k_w - 1) * p->dil_w;
    int32_t oc, b, oy, ox, r, j;
    for (oc = 0; oc + 4 <= C; oc += 4) {
        cm_rq q[4];
        int8_t *o = out + oc;
        for (r = 0; r < 4; ++r) cm_rq_init(&q[r], oc + r, bias, mult, shift, post, p->post_len);
        for (b = 0; b < p->batches; ++b)
        for (oy = 0; oy < p->out_h; ++oy)
        for (ox = 0; ox < p->out_w; ++ox, o += C) {
            const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
            const int8_t *x, *wb = w + oc * K;
            int32_t acc[4];
            if (runs && y0 >= 0 && y0 + span_h < p->in_h && x0 >= 0 && x0 + span_w < p->in_w &&
                (p->k_h == 1 || x0 == 0))
                x = in + ((b * p->in_h + y0) * p->in_w + x0) * p->in_c;
            else
                x = conv_window(in, p, b, oy, ox, patch);
            acc[0] = q[0].bias; acc[1] = q[1].bias; acc[2] = q[2].bias; acc[3] = q[3].bias;
            if (K >= 4) cm_fc4_groups(&x, &wb, K >> 2, acc);
            for (j = 0; j < tail; ++j, wb += 4) {
                const int32_t xj = x[j];
                acc[0] += xj * wb[0]; acc[1] += xj * wb[1];
                acc[2] += xj * wb[2]; acc[3] += xj * wb[3];
            }
            o[0] = cm_rq_out(&q[0], acc[0], &e);
            o[1] = cm_rq_out(&q[1], acc[1], &e);
            o[2] = cm_rq_out(&q[2], acc[2], &e);
            o[3] = cm_rq_out(&q[3], acc[3], &e);
        }
    }
    for (; oc < C; ++oc) {
        cm_rq q;
        int8_t *o = out + oc;
        cm_rq_init(&q, oc, bias, mult, shift, post, p->post_len);
        for (b = 0; b < p->batches; ++b)
        for (oy = 0; oy < p->out_h; ++oy)
        for (ox = 0; ox < p->out_w; ++ox, o += C)
            *o = cm_rq_out(&q, cm_dot1_s8(conv_window(in, p, b, oy, ox, patch), w + oc * K, K,
                                          q.bias), &e);
    }
}

/* Convolution: per output position, its window (conv_window: in place or gathered) against the
 * packed filters, as a fully connected layer (cm_conv_blocked where the cheap requantization is
 * proven exact). */
void tinyeit_conv_s8(const int8_t *in, const int8_t *w, const int32_t *bias,
                     const int32_t *tap_corr, const int32_t *mult, const int32_t *shift,
                     const int8_t *post, int8_t *out, const tinyeit_conv_params *p)
{
    const tinyeit_epi e = {p->out_offset, p->act_min, p->act_max, 0, p->cheap_rq, p->post_len};
    const int32_t K = p->k_h * p->k_w * p->in_c;
    union { int8_t v[TINYEIT_PATCH_MAX]; int32_t align; } patch;
    int32_t b, oy, ox;
    int8_t *o = out;
    if (K > TINYEIT_PATCH_MAX) {
        tinyeit_conv_s8_ref(in, w, bias, tap_corr, mult, shift, post, out, p);
        return;
    }
    if (p->cheap_rq) {
        if (p->k_w == 3 && p->in_c == 1 && tinyeit_cm_conv3_paired(in, w, bias, mult, shift, post, out, p))
            return;
        if (tinyeit_cm_conv_small(in, w, bias, mult, shift, post, out, p, patch.v)) return;
        cm_conv_blocked(in, w, bias, mult, shift, post, out, p, patch.v);
        return;
    }
    for (b = 0; b < p->batches; ++b)
        for (oy = 0; oy < p->out_h; ++oy)
            for (ox = 0; ox < p->out_w; ++ox, o += p->out_c)
                cm_fc_row(conv_window(in, p, b, oy, ox, patch.v), w, K, p->out_c, bias, mult,
                          shift, &e, post, o);
}
#endif
