/* AArch64 NEON (ARMv8.0) float convolution: tinyeit_conv_f32 on the blocked filters
 * (tinyeit_kernels.h), eight output channels per pass (a64_dot8), each lane one channel's sum
 * over the valid taps in the reference's order (rows ky, then the run of kx and in_c), then
 * the bias and the clamp: the reference's bits. The out_c % 8 remaining filters, plain rows in
 * the layout, are copied once per call into one more 8-channel block on the stack (zeros in the
 * unused lanes, whose results are never stored), so they take the same path. After the clamp,
 * the folded per-channel MUL and ADD (post_mul, post_add: the BatchNorm after the activation)
 * as post_f does: a multiply, then an add, each rounded. */
#include "tinyeit_common.h"

#if defined(TINYEIT_AARCH64_NEON)
#include <arm_neon.h>

#include "tinyeit_a64_f32.h"

/* Largest filter (k_h * k_w * in_c) whose remaining channels are re-blocked on the stack
 * (8 floats per element: 16 KB); larger ones take the reference's loop for those channels. */
#define A64_CONV_REBLOCK_MAX 512

/* The valid taps of one output position: `rows` filter rows (input / weight element steps
 * row_x / row_w between them), each `segs` runs of `seg` elements (steps seg_x / seg_w): one
 * run of (kx1 - kx0) * in_c without dilation, else one per kx of in_c. Weight steps count
 * elements of one filter (times the lanes of the layout at use). */
typedef struct {
    int32_t rows, row_x, row_w, segs, seg, seg_x, seg_w;
} a64_taps;

#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline a64_acc8 a64_conv8(const float *x, const float *w, const a64_taps *t)
{
    a64_acc8 a;
    int32_t r, s;
    a.lo = vdupq_n_f32(0.0f);
    a.hi = a.lo;
    for (r = 0; r < t->rows; ++r)
        for (s = 0; s < t->segs; ++s)
            a = a64_dot8(a, x + (r * t->row_x + s * t->seg_x),
                         w + (r * t->row_w + s * t->seg_w) * 8, t->seg);
    return a;
}

#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline float32x4_t a64_conv4(const float *x, const float *w, const a64_taps *t)
{
    float32x4_t a = vdupq_n_f32(0.0f);
    int32_t r, s;
    for (r = 0; r < t->rows; ++r)
        for (s = 0; s < t->segs; ++s)
            a = a64_dot4(a, x + (r * t->row_x + s * t->seg_x),
                         w + (r * t->row_w + s * t->seg_w) * 4, t->seg);
    return a;
}

/* One channel of plain-row filter wo, the reference's scalar sum (filters too large to
 * re-block). */
static float a64_conv1(const float *x, const float *wo, const a64_taps *t)
{
    float acc = 0.0f;
    int32_t r, s;
    for (r = 0; r < t->rows; ++r)
        for (s = 0; s < t->segs; ++s)
            acc = tinyeit_dot_f32(acc, x + (r * t->row_x + s * t->seg_x),
                                  wo + (r * t->row_w + s * t->seg_w), t->seg);
    return acc;
}

/* One group of (up to) 8 channels' constants: pointers at its first channel, NULL: none. */
typedef struct {
    const float *bias, *mul, *add;
} a64_chan;

/* The conv epilogue on 4 lanes, as the reference's: + bias, clamp, then post_f. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline float32x4_t a64_conv_epi4(float32x4_t v, const a64_chan *g, int32_t at,
                                        float32x4_t lo, float32x4_t hi)
{
    if (g->bias) v = vaddq_f32(v, vld1q_f32(g->bias + at));
    v = a64_clamp4(v, lo, hi, 1, 1);
    if (g->mul) v = vmulq_f32(v, vld1q_f32(g->mul + at));
    if (g->add) v = vaddq_f32(v, vld1q_f32(g->add + at));
    return v;
}

/* Small filters in one run (k_h == 1, no dilation along the row, k_w * in_c = N <= 8: the first
 * conv of a 1-D CNN on a raw signal): the block's N x 8 weights and its bias stay in registers,
 * and every window that lies inside the input is N broadcast inputs, N x 2 FMUL and FADD (in
 * element order), the bias, the clamp. Blocks outer, positions inner; `lanes` 8 for a block
 * of the layout, 4 for the stack block of <= 4 channels. Without a bias the sums get +0
 * added, which changes nothing: a sum that starts at +0 is never -0 (round to nearest). */

/* A border window of a64_conv_small (some taps outside the input): its valid taps, summed as
 * the reference does (not inlined: the interior loop keeps its registers). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static a64_acc8 a64_conv_small_border(const float *in, const float *wb,
                                      const tinyeit_conv_params *P, int32_t b, int32_t y0,
                                      int32_t x0, int32_t lanes)
{
    a64_acc8 a;
    a64_taps t;
    int32_t ky0, ky1, kx0, kx1;
    tap_range(y0, 1, 1, P->in_h, &ky0, &ky1);
    tap_range(x0, P->k_w, 1, P->in_w, &kx0, &kx1);
    a.lo = vdupq_n_f32(0.0f);
    a.hi = a.lo;
    if (ky1 <= ky0 || kx1 <= kx0) return a;
    memset(&t, 0, sizeof t);
    t.rows = 1;
    t.segs = 1;
    t.seg = (kx1 - kx0) * P->in_c;
    in += ((b * P->in_h + y0) * P->in_w + x0 + kx0) * P->in_c;
    if (lanes == 8) return a64_conv8(in, wb + kx0 * P->in_c * 8, &t);
    a.lo = a64_conv4(in, wb + kx0 * P->in_c * 4, &t);
    a.hi = a.lo;
    return a;
}

/* A group's epilogue constants in registers (lo: lanes 0-3, hi: 4-7); the bias is +0 where
 * there is none (see above), the folded MUL / ADD applied only where they exist. */
typedef struct {
    float32x4_t bl, bh, ml, mh, al, ah;
    int mul, add;
} a64_epi_regs;

/* bias, clamp, post_f and the first nch lanes to o */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void a64_conv_small_out(float *o, float32x4_t al, float32x4_t ah,
                                      const a64_epi_regs *e, float32x4_t lo, float32x4_t hi,
                                      int32_t nch, const int lanes, const int low,
                                      const int high)
{
    al = a64_clamp4(vaddq_f32(al, e->bl), lo, hi, low, high);
    if (lanes == 8) ah = a64_clamp4(vaddq_f32(ah, e->bh), lo, hi, low, high);
    if (e->mul) {
        al = vmulq_f32(al, e->ml);
        if (lanes == 8) ah = vmulq_f32(ah, e->mh);
    }
    if (e->add) {
        al = vaddq_f32(al, e->al);
        if (lanes == 8) ah = vaddq_f32(ah, e->ah);
    }
    if (nch == 8) {
        vst1q_f32(o, al);
        vst1q_f32(o + 4, ah);
    } else if (nch == 4) {
        vst1q_f32(o, al);
    } else {
        a64_store_part8(o, al, ah, nch);
    }
}

#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void a64_conv_small(const float *in, const float *wb, const a64_chan *g,
                                  float *out, const tinyeit_conv_params *P, int32_t oc,
                                  int32_t nch, const int lanes, const int N, const int low,
                                  const int high)
{
    const float32x4_t lo = vdupq_n_f32(P->f_min), hi = vdupq_n_f32(P->f_max);
    const int32_t C = P->out_c, in_c = P->in_c, s = P->stride_w, pad = P->pad_w;
    const int32_t xstep = s * in_c, span = P->in_w - P->k_w + pad;
    /* the output columns whose window lies inside the row: [ox_lo, ox_hi) */
    const int32_t ox_lo = TINYEIT_MIN((pad + s - 1) / s, P->out_w);
    const int32_t ox_hi = span < 0 ? ox_lo : TINYEIT_MAX(ox_lo, TINYEIT_MIN(span / s + 1,
                                                                            P->out_w));
    const float32x4_t zero = vdupq_n_f32(0.0f);
    float32x4_t wl[8], wh[8];
    a64_epi_regs e;
    int32_t b, oy, ox, i;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 8
#endif
    for (i = 0; i < N; ++i) {
        wl[i] = vld1q_f32(wb + i * lanes);
        wh[i] = lanes == 8 ? vld1q_f32(wb + i * 8 + 4) : wl[i];
    }
    e.bl = g->bias ? vld1q_f32(g->bias) : zero;
    e.bh = g->bias && lanes == 8 ? vld1q_f32(g->bias + 4) : e.bl;
    e.mul = g->mul != NULL;
    e.ml = e.mul ? vld1q_f32(g->mul) : zero;
    e.mh = e.mul && lanes == 8 ? vld1q_f32(g->mul + 4) : e.ml;
    e.add = g->add != NULL;
    e.al = e.add ? vld1q_f32(g->add) : zero;
    e.ah = e.add && lanes == 8 ? vld1q_f32(g->add + 4) : e.al;
    for (b = 0; b < P->batches; ++b)
    for (oy = 0; oy < P->out_h; ++oy) {
        const int32_t y0 = oy * P->stride_h - P->pad_h;
        const int32_t inside = y0 >= 0 && y0 < P->in_h;
        float *orow = out + ((b * P->out_h + oy) * P->out_w) * C + oc;
        const int32_t lo_end = inside ? ox_lo : P->out_w;
        for (ox = 0; ox < lo_end; ++ox) {
            const a64_acc8 a = a64_conv_small_border(in, wb, P, b, y0, ox * s - pad, lanes);
            a64_conv_small_out(orow + ox * C, a.lo, a.hi, &e, lo, hi, nch, lanes, low,
                               high);
        }
        if (!inside) continue;
        {
            const float *x = in + ((b * P->in_h + y0) * P->in_w + ox_lo * s - pad) * in_c;
            float *o = orow + ox_lo * C;
            for (ox = ox_lo; ox < ox_hi; ++ox, x += xstep, o += C) {
                float32x4_t al = vdupq_n_f32(0.0f), ah = al;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 8
#endif
                for (i = 0; i < N; ++i) {
                    const float32x4_t xv = vld1q_dup_f32(x + i);
                    al = vaddq_f32(al, vmulq_f32(xv, wl[i]));
                    if (lanes == 8) ah = vaddq_f32(ah, vmulq_f32(xv, wh[i]));
                }
                a64_conv_small_out(o, al, ah, &e, lo, hi, nch, lanes, low, high);
            }
        }
        for (ox = ox_hi; ox < P->out_w; ++ox) {
            const a64_acc8 a = a64_conv_small_border(in, wb, P, b, y0, ox * s - pad, lanes);
            a64_conv_small_out(orow + ox * C, a.lo, a.hi, &e, lo, hi, nch, lanes, low,
                               high);
        }
    }
}

#define A64_CONV_SMALL_MAX 8

/* a64_conv_small for every block of the call (N, low, high: constants), the full blocks and
 * an 8-lane remaining block sharing one instance (nch: the lanes stored). */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void a64_conv_small_all(const float *in, const float *w, const a64_chan *all,
                                      const float *wrem, const a64_chan *grem, float *out,
                                      const tinyeit_conv_params *P, int32_t blocked,
                                      int32_t rem, int32_t lanes, const int N, const int low,
                                      const int high)
{
    int32_t oc;
    for (oc = 0; oc <= blocked; oc += 8) {
        const int32_t last = oc == blocked;
        a64_chan g;
        if (last && lanes != 8) break;
        g.bias = all->bias ? all->bias + oc : NULL;
        g.mul = all->mul ? all->mul + oc : NULL;
        g.add = all->add ? all->add + oc : NULL;
        a64_conv_small(in, last ? wrem : w + oc * N, last ? grem : &g, out, P, oc,
                       last ? rem : 8, 8, N, low, high);
    }
    if (lanes == 4) a64_conv_small(in, wrem, grem, out, P, blocked, rem, 4, N, low, high);
}

/* The small path's instances: N = 1..8; the clamp with both bounds (exact for any: a bound
 * that cannot bite changes nothing; two compare-selects a vector, against 100 KB of code for
 * an instance per bound kind). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void a64_conv_small_dispatch(const float *in, const float *w, const a64_chan *all,
                                    const float *wrem, const a64_chan *grem, float *out,
                                    const tinyeit_conv_params *P, int32_t blocked, int32_t rem,
                                    int32_t lanes, int32_t depth)
{
#define A64_SMALL_CASE(N)                                                                     \
    case N:                                                                                   \
        a64_conv_small_all(in, w, all, wrem, grem, out, P, blocked, rem, lanes, N, 1, 1);     \
        break;
    switch (depth) {
    A64_SMALL_CASE(1) A64_SMALL_CASE(2) A64_SMALL_CASE(3) A64_SMALL_CASE(4)
    A64_SMALL_CASE(5) A64_SMALL_CASE(6) A64_SMALL_CASE(7) A64_SMALL_CASE(8)
    default: break;
    }
#undef A64_SMALL_CASE
}

/* Positions outer, blocks inner, each block's sum over the position's valid taps. */
void tinyeit_conv_f32(const float *in, const float *w, const float *bias, float *out,
                      const tinyeit_conv_params *p)
{
    const tinyeit_conv_params P = *p;
    const int32_t in_c = P.in_c, depth = P.k_h * P.k_w * in_c, C = P.out_c;
    const int32_t blocked = C - C % TINYEIT_F32_BLOCK, rem = C - blocked;
    /* the remaining channels as one more block on the stack: 4 lanes for up to 4, else 8 */
    const int32_t lanes = rem == 0 || depth > A64_CONV_REBLOCK_MAX ? 0 : (rem <= 4 ? 4 : 8);
    const float32x4_t lo = vdupq_n_f32(P.f_min), hi = vdupq_n_f32(P.f_max);
    float wrem[A64_CONV_REBLOCK_MAX * TINYEIT_F32_BLOCK];
    float brem[TINYEIT_F32_BLOCK], mrem[TINYEIT_F32_BLOCK], arem[TINYEIT_F32_BLOCK];
    a64_chan all, grem;
    a64_taps t;
    int32_t b, oy, ox, oc, k, j;
    t.row_x = P.dil_h * P.in_w * in_c;
    t.row_w = P.k_w * in_c;
    t.seg_x = P.dil_w * in_c;
    t.seg_w = in_c;
    if (lanes) {
        for (k = 0; k < depth; ++k)
            for (j = 0; j < lanes; ++j)
                wrem[k * lanes + j] = j < rem ? w[(blocked + j) * depth + k] : 0.0f;
        for (j = 0; j < TINYEIT_F32_BLOCK; ++j) {
            brem[j] = bias && j < rem ? bias[blocked + j] : 0.0f;
            mrem[j] = P.post_mul && j < rem ? P.post_mul[blocked + j] : 1.0f;
            arem[j] = P.post_add && j < rem ? P.post_add[blocked + j] : 0.0f;
        }
    }
    all.bias = bias;
    all.mul = P.post_mul;
    all.add = P.post_add;
    grem.bias = bias ? brem : NULL;
    grem.mul = P.post_mul ? mrem : NULL;
    grem.add = P.post_add ? arem : NULL;
    if (P.k_h == 1 && (P.dil_w == 1 || P.k_w == 1) && depth <= A64_CONV_SMALL_MAX &&
        (rem == 0 || lanes)) {
        a64_conv_small_dispatch(in, w, &all, wrem, &grem, out, &P, blocked, rem, lanes, depth);
        return;
    }
    for (b = 0; b < P.batches; ++b)
    for (oy = 0; oy < P.out_h; ++oy) {
        const int32_t y0 = oy * P.stride_h - P.pad_h;
        int32_t ky0, ky1;
        tap_range(y0, P.k_h, P.dil_h, P.in_h, &ky0, &ky1);
        for (ox = 0; ox < P.out_w; ++ox) {
            const int32_t x0 = ox * P.stride_w - P.pad_w;
            float *o = out + (((b * P.out_h + oy) * P.out_w + ox) * C);
            const float *xs = in, *ws = w;
            int32_t kx0, kx1, wi = 0;
            tap_range(x0, P.k_w, P.dil_w, P.in_w, &kx0, &kx1);
            t.rows = ky1 - ky0;
            if (P.dil_w == 1) {
                t.segs = 1;
                t.seg = (kx1 - kx0) * in_c;
            } else {
                t.segs = kx1 - kx0;
                t.seg = in_c;
            }
            if (t.rows > 0 && kx1 > kx0) {  /* pointers only to a valid first tap */
                xs = in + ((b * P.in_h + y0 + ky0 * P.dil_h) * P.in_w + x0 + kx0 * P.dil_w) * in_c;
                wi = (ky0 * P.k_w + kx0) * in_c;
            } else {
                t.rows = 0;
            }
            ws = w + wi * TINYEIT_F32_BLOCK;
            for (oc = 0; oc < blocked; oc += TINYEIT_F32_BLOCK, ws += depth * TINYEIT_F32_BLOCK) {
                const a64_acc8 a = a64_conv8(xs, ws, &t);
                vst1q_f32(o + oc, a64_conv_epi4(a.lo, &all, oc, lo, hi));
                vst1q_f32(o + oc + 4, a64_conv_epi4(a.hi, &all, oc + 4, lo, hi));
            }
            if (lanes == 8) {
                const a64_acc8 a = a64_conv8(xs, wrem + wi * 8, &t);
                a64_store_part8(o + blocked, a64_conv_epi4(a.lo, &grem, 0, lo, hi),
                                a64_conv_epi4(a.hi, &grem, 4, lo, hi), rem);
            } else if (lanes == 4) {
                const float32x4_t a = a64_conv_epi4(a64_conv4(xs, wrem + wi * 4, &t), &grem, 0,
                                                    lo, hi);
                if (rem == 4) vst1q_f32(o + blocked, a);
                else a64_store_part8(o + blocked, a, a, rem);
            } else {
                for (oc = blocked; oc < C; ++oc) {
                    float acc = a64_conv1(xs, w + oc * depth + wi, &t);
                    if (bias) acc += bias[oc];
                    o[oc] = post_f(clamp_f(acc, P.f_min, P.f_max), &P, oc);
                }
            }
        }
    }
}

#endif
