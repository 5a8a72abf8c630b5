/* Cortex-M int8 convolution with a 3-element window (k_h * k_w * in_c == 3: the first conv of
 * a 1D CNN on a one-channel signal), where the per-output requantization, not the MACs, is the
 * cost. Per output channel, its K weights and constants stay in registers and the loop runs
 * over the output positions: K multiply-accumulates, then TFLite's double-rounding
 * requantization in one 64-bit multiply-accumulate, a shift and a clamp, the zero point, the
 * clamp's lower bound and the bias folded into the 64-bit constant.
 *
 * Why that equals the reference: with left = 0, the cheap form (mbqm_cheap, proven exact per
 * channel by the generator, cheap_rq) is floor((acc * m + 2^30 + (2^(r-1) - [h < 0]) * 2^31) /
 * 2^(31+r)) (nested floors of integer divisions), and h < 0 exactly when acc < 0 (for
 * 2^30 <= m < 2^31 the one exception, acc = -1 and m = 2^30, gives 0 both ways); adding
 * (zo - act_min) * 2^(31+r) adds zo - act_min after the division, so the result is the index
 * into [0, act_max - act_min] before the clamp. A channel with r = 0, left > 0 or r > 22 (the
 * constant would not fit) takes the plain per-output form. */
#include "tinyeit_common.h"

#if defined(TINYEIT_CORTEX_M_DSP)
#include "tinyeit_cm_dot.h"

/* The inside run of a 3-tap window with step 1, in assembly (in C, gcc reloads a dozen of its
 * constants from the stack per output). args: x, o, n, C, (w0 | w1 << 16), (w2 | span << 16),
 * bias, m, post table (or act_min), s = r - 1, c0 low, c0 high. Per output: 3 LDRSB, PKHBT,
 * SMLABB + SMLAD (bias + the 3 products), LDRD of c0, SMLAL of acc * m, 2^31 off when acc < 0
 * (SUBS/SBC), ASR by s, USAT to [0, 255] and the span (act_max - act_min) from r5's top half,
 * the table (or + act_min), STRB, the channel stride. */
void tinyeit_cm_conv3_post(const int32_t *args);
void tinyeit_cm_conv3_lo(const int32_t *args);
__asm__(
    "    .syntax unified\n"
    "    .macro TINYEIT_CONV3_FN name, post\n"
    CM_ASM_FUNC("\\name")
    "    push   {r4-r11, lr}\n"
    "    ldrd   r4, r5, [r0, #40]\n"
    "    strd   r4, r5, [sp, #-8]!\n"
    "    ldm    r0, {r0-r9}\n"
    "    .balign 4\n"
    "1:\n"
    "    ldrsb  r10, [r0], #1\n"
    "    ldrsb  r11, [r0]\n"
    "    ldrsb  r12, [r0, #1]\n"
    "    pkhbt  r10, r10, r11, lsl #16\n"
    "    smlabb r12, r12, r5, r6\n"
    "    smlad  r12, r10, r4, r12\n"
    "    ldrd   r10, r11, [sp]\n"
    "    smlal  r10, r11, r12, r7\n"
    "    lsr    lr, r12, #31\n"
    "    subs   r10, r10, lr, lsl #31\n"
    "    sbc    r11, r11, #0\n"
    "    asr    r11, r11, r9\n"
    "    usat   r11, #8, r11\n"
    "    cmp    r11, r5, lsr #16\n"
    "    it     gt\n"
    "    lsrgt  r11, r5, #16\n"
    "    .if \\post\n"
    "    ldrb   r11, [r8, r11]\n"
    "    .else\n"
    "    add    r11, r11, r8\n"
    "    .endif\n"
    "    strb   r11, [r1]\n"
    "    add    r1, r1, r3\n"
    "    subs   r2, r2, #1\n"
    "    bne    1b\n"
    "    add    sp, sp, #8\n"
    "    pop    {r4-r11, pc}\n"
    "    .size \\name, . - \\name\n"
    "    .endm\n"
    "    TINYEIT_CONV3_FN tinyeit_cm_conv3_post, 1\n"
    "    TINYEIT_CONV3_FN tinyeit_cm_conv3_lo, 0\n"
    "    .text\n");

/* Two outputs per iteration, channel by channel over a row the caller widened to int16 (xw),
 * in assembly: tinyeit_cm_conv3x2_post (the folded table) and _lo (+ act_min). With a = 2 * acc
 * (the weights and bias doubled: 2w fits an int16 lane, 2 * bias an int32 by the caller's
 * bound), gemmlowp's rounding doubling high multiply is floor((acc * m + 2^30) / 2^31) =
 * floor((a * m + 2^31) / 2^32), one SMMLAR, which also adds K = 2^(r-1) + (zo - act_min) * 2^r
 * to the high word; ADD of a ASR #31 takes the 1 off for acc < 0 (the cheap rounding divide
 * wants [h < 0]; h < 0 implies acc < 0, and where acc < 0 but h = 0 both give 0 after the
 * shift for r >= 1); ASR by r, USAT to [0, 255] (where act_max - act_min < 255, a table
 * clamps further: tinyeit_cm_conv3_paired); the table or + act_min; two STRB (the second at
 * + C).
 * Per two outputs: two word loads (x0 x1, x2 x3), SMLAD + SMLABT and SMLAD + SMLATB (the two
 * windows), 2 x (SMMLAR, ADD, ASR, USAT), the table, two stores; 24 cycles.
 * The channels run in the function too, from a block of 8 words each: the channel's first
 * output, (2w0 | 2w1 << 16),
 * (2w1 | 2w2 << 16), 2 * bias, m, K, r - 256 * pairs (the loop count rides in r8's upper bits:
 * ASR reads only its low byte), the table row (or act_min).
 * args: channel blocks, channels, xw, (unused), C. */
void tinyeit_cm_conv3x2_post(const int32_t *args);
void tinyeit_cm_conv3x2_lo(const int32_t *args);
__asm__(
    "    .syntax unified\n"
    "    .macro TINYEIT_CONV3X2_FN name, post\n"
    CM_ASM_FUNC("\\name")
    "    push   {r4-r11, lr}\n"
    "    sub    sp, sp, #20\n"
    "    ldm    r0, {r0-r4}\n"
    "    stm    sp, {r0-r4}\n"
    "2:\n"
    "    ldr    r0, [sp]\n"
    "    ldm    r0!, {r1, r3-r9}\n"
    "    str    r0, [sp]\n"
    "    ldr    r0, [sp, #8]\n"
    "    ldr    r2, [sp, #16]\n"
    "    .balign 4\n"
    "1:\n"
    "    ldr    r12, [r0], #4\n"
    "    ldr    lr, [r0]\n"
    "    smlad  r10, r12, r3, r5\n"
    "    smlabt r10, lr, r4, r10\n"
    "    smlad  r11, lr, r4, r5\n"
    "    smlatb r11, r12, r3, r11\n"
    "    smmlar r12, r10, r6, r7\n"
    "    smmlar lr, r11, r6, r7\n"
    "    add    r12, r12, r10, asr #31\n"
    "    add    lr, lr, r11, asr #31\n"
    "    asr    r12, r12, r8\n"
    "    asr    lr, lr, r8\n"
    "    usat   r12, #8, r12\n"
    "    usat   lr, #8, lr\n"
    "    .if \\post\n"
    "    ldrb   r10, [r9, r12]\n"
    "    ldrb   r11, [r9, lr]\n"
    "    .else\n"
    "    add    r10, r12, r9\n"
    "    add    r11, lr, r9\n"
    "    .endif\n"
    "    strb   r11, [r1, r2]\n"
    "    strb   r10, [r1]\n"
    "    add    r1, r1, r2, lsl #1\n"
    "    adds   r8, r8, #256\n"
    "    bmi    1b\n"
    "    ldr    r0, [sp, #4]\n"
    "    subs   r0, r0, #1\n"
    "    str    r0, [sp, #4]\n"
    "    bne    2b\n"
    "    add    sp, sp, #20\n"
    "    pop    {r4-r11, pc}\n"
    "    .size \\name, . - \\name\n"
    "    .endm\n"
    "    TINYEIT_CONV3X2_FN tinyeit_cm_conv3x2_post, 1\n"
    "    TINYEIT_CONV3X2_FN tinyeit_cm_conv3x2_lo, 0\n"
    "    .text\n");

/* Channels set up per call of the paired kernel (8 words each on the stack). */
#define TINYEIT_CONV3_CHUNK 16

/* Longest input row the paired path widens on the stack. */
#define TINYEIT_CONV3_ROW_MAX 256

/* The whole convolution on the paired path, when it applies: 3 taps along the width, one input
 * channel, stride and dilation 1, every window inside the input (no padding at work), and per
 * channel r = -shift in [1, 22] with
 * |bias| + 128 * sum |w| < 2^29 (so 2 * acc, h + K stay in int32) and the cheap double
 * rounding proven (the caller's cheap_rq); a channel outside those bounds takes the previous
 * per-output loop (cm_conv_small_plain). Returns 0, nothing written, where the geometry does
 * not fit. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void cm_conv3_table(int8_t *tab, const int8_t *row, int32_t span)
{
    memcpy(tab, row, (size_t)(span + 1));
    memset(tab + span + 1, row[span], (size_t)(255 - span));
}

static void cm_conv_small_plain(const int8_t *in, const int8_t *wch, int32_t bias, int32_t m,
                                int32_t shift, const int8_t *post_row, int8_t *o,
                                const tinyeit_conv_params *p, int8_t *patch);

int tinyeit_cm_conv3_paired(const int8_t *in, const int8_t *w, const int32_t *bias,
                             const int32_t *mult, const int32_t *shift, const int8_t *post,
                             int8_t *out, const tinyeit_conv_params *p)
{
    const int32_t C = p->out_c, lo = p->act_min, zo = p->out_offset, W = p->in_w;
    const int32_t L = p->out_w, pairs = L >> 1, span = p->act_max - p->act_min;
    /* an activation range under 255 wide: the index USAT leaves in [0, 255] goes through a
     * 256-entry table that clamps it, min(i, span) + act_min, or the channel's folded table
     * with its last entry repeated (one channel per call then) */
    const int32_t narrow = span < 255, chunk = narrow && post ? 1 : TINYEIT_CONV3_CHUNK;
    union { int16_t v[TINYEIT_CONV3_ROW_MAX + 2]; int32_t align; } xw;
    union { int8_t v[256]; int32_t align; } tab;
    int32_t oc, b, oy, k;
    /* the checks per channel come with its set-up below (a refusal there leaves the outputs
     * written so far to the caller's full computation) */
    if (p->k_h != 1 || p->k_w != 3 || p->in_c != 1 || p->stride_w != 1 || p->dil_w != 1 ||
        p->pad_w != 0 || p->pad_h != 0 || p->stride_h != 1 || p->out_h != p->in_h ||
        L + 2 != W || W > TINYEIT_CONV3_ROW_MAX || span < 0 || span > 255 || pairs < 1 ||
        (post && p->post_len != span + 1))
        return 0;
    if (narrow && !post)
        for (k = 0; k < 256; ++k) tab.v[k] = (int8_t)((k < span ? k : span) + lo);
    for (b = 0; b < p->batches; ++b)
    for (oy = 0; oy < p->out_h; ++oy) {
        const int8_t *x = in + (b * p->in_h + oy) * W;
        int8_t *o = out + (b * p->out_h + oy) * L * C;
        for (k = 0; k < W; ++k) xw.v[k] = x[k];
        xw.v[W] = xw.v[W + 1] = 0;
        for (oc = 0; oc < C; oc += chunk) {
            const int32_t nch = C - oc < chunk ? C - oc : chunk;
            int32_t blk[8 * TINYEIT_CONV3_CHUNK], c, m = 0;
            for (c = 0; c < nch; ++c) {
                /* fc4_index(u, k, 3, C): blocks of 4 channels, tap-major, then plain rows */
                const int32_t u = oc + c, r = -shift[u], bu = bias[u];
                const int8_t *wu = u >= (C & ~3) ? w + 3 * u : w + 3 * (u & ~3) + (u & 3);
                const int32_t st = u >= (C & ~3) ? 1 : 4;
                const int32_t w0 = 2 * wu[0], w1 = 2 * wu[st], w2 = 2 * wu[2 * st];
                const int64_t bound = (bu < 0 ? -(int64_t)bu : bu) +
                                      64 * ((w0 < 0 ? -w0 : w0) + (w1 < 0 ? -w1 : w1) +
                                            (w2 < 0 ? -w2 : w2));
                int32_t *d = blk + 8 * m;
                /* a channel this path cannot take (a pruned filter's tiny scale, say): the
                 * previous per-output loop, for this channel alone */
                if (r < 1 || r > 22 || bound >= ((int64_t)1 << 29)) {
                    int8_t wch[3], patch[4];
                    wch[0] = wu[0], wch[1] = wu[st], wch[2] = wu[2 * st];
                    if (b == 0 && oy == 0)  /* it runs over every row itself */
                        cm_conv_small_plain(in, wch, bu, mult[u], shift[u],
                                            post ? post + u * p->post_len : NULL, out + u, p,
                                            patch);
                    continue;
                }
                ++m;
                if (chunk == 1)  /* narrow, folded: this channel's table, last entry repeated */
                    cm_conv3_table(tab.v, post + u * (span + 1), span);
                d[0] = (int32_t)(uintptr_t)(o + u);
                d[1] = (int32_t)(((uint32_t)w1 << 16) | (uint16_t)w0);
                d[2] = (int32_t)(((uint32_t)w2 << 16) | (uint16_t)w1);
                d[3] = 2 * bias[u];
                d[4] = mult[u];
                d[5] = (int32_t)((1u << (r - 1)) + ((uint32_t)(zo - lo) << r));
                d[6] = (int32_t)((uint32_t)r - 256u * (uint32_t)pairs);
                d[7] = narrow ? (int32_t)(uintptr_t)tab.v
                              : (post ? (int32_t)(uintptr_t)(post + u * 256) : lo);
            }
            if (m > 0) {
                const int32_t args[5] = {(int32_t)(uintptr_t)blk, m, (int32_t)(uintptr_t)xw.v,
                                         0, C};
                if (narrow || post) tinyeit_cm_conv3x2_post(args);
                else tinyeit_cm_conv3x2_lo(args);
            }
            for (c = 0; (L & 1) && c < m; ++c) {  /* the last output, the same arithmetic */
                const int32_t *d = blk + 8 * c, r = (int32_t)(d[6] & 0xFF);
                const int32_t a = d[3] + (int16_t)d[1] * xw.v[L - 1] +
                                  (int16_t)d[2] * xw.v[L] + (d[2] >> 16) * xw.v[L + 1];
                int32_t t = (int32_t)((((int64_t)d[5] << 32) + (int64_t)a * d[4] +
                                       ((int64_t)1 << 31)) >> 32);
                t = (t + (a >> 31)) >> r;
                t = t < 0 ? 0 : (t > 255 ? 255 : t);
                ((int8_t *)(uintptr_t)d[0])[(L - 1) * C] =
                    narrow || post ? ((const int8_t *)(uintptr_t)d[7])[t] : (int8_t)(t + lo);
            }
        }
    }
    return 1;
}

/* One output: the window's K products, the requantization in one 64-bit multiply-accumulate
 * (c0 folds rounding, zero point and the clamp's lower bound; acc < 0 takes 2^31 off), the
 * shift and the clamp to [0, span]: the index into the folded table or the output - lo. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline int32_t cm_small_out(const int8_t *x, int32_t w0, int32_t w1, int32_t w2,
                                   int32_t w3, int32_t bias, int32_t m, int64_t c0, int32_t s,
                                   int32_t span, const int32_t K)
{
    int32_t acc = bias + w0 * x[0], v;
    if (K > 1) acc += w1 * x[1];
    if (K > 2) acc += w2 * x[2];
    if (K > 3) acc += w3 * x[3];
    v = (int32_t)(((int64_t)acc * m + c0 + ((int64_t)(acc >> 31) << 31)) >> 32) >> s;
    return v < 0 ? 0 : (v > span ? span : v);
}

#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline void cm_conv_small_ch(const int8_t *in, const int8_t *wch, int32_t bias,
                                    int32_t m, int32_t r, const int8_t *post_row, int8_t *out,
                                    const tinyeit_conv_params *p, int8_t *patch, const int32_t K)
{
    /* the parameters in locals: the int8 stores below may alias *p for the compiler */
    const int32_t C = p->out_c, lo = p->act_min, span = p->act_max - p->act_min;
    const int32_t out_h = p->out_h, out_w = p->out_w, in_h = p->in_h, in_w = p->in_w;
    const int32_t in_c = p->in_c, sh = p->stride_h, sw = p->stride_w, ph = p->pad_h;
    const int32_t pw = p->pad_w, batches = p->batches;
    const int32_t w0 = wch[0], w1 = K > 1 ? wch[1] : 0, w2 = K > 2 ? wch[2] : 0,
                  w3 = K > 3 ? wch[3] : 0;
    const int64_t c0 = ((int64_t)1 << 30) + ((int64_t)1 << (30 + r)) +
                       ((int64_t)(p->out_offset - lo) << (31 + r));
    const int32_t s = r - 1;
    const int32_t span_h = (p->k_h - 1) * p->dil_h, span_w = (p->k_w - 1) * p->dil_w;
    const int32_t runs = p->k_h == 1 && (p->dil_w == 1 || p->k_w == 1);
    /* output columns whose window lies inside the input: [ox_a, ox_b) */
    int32_t ox_a = 0, ox_b = out_w, b, oy, ox;
    int8_t *o = out;
    while (ox_a < out_w && ox_a * sw - pw < 0) ++ox_a;
    while (ox_b > ox_a && (ox_b - 1) * sw - pw + span_w >= in_w) --ox_b;
    for (b = 0; b < batches; ++b)
    for (oy = 0; oy < out_h; ++oy) {
        const int32_t y0 = oy * sh - ph;
        const int32_t row_in = runs && y0 >= 0 && y0 + span_h < in_h;
        const int8_t *xrow = row_in ? in + ((b * in_h + y0) * in_w - pw) * in_c : in;
        for (ox = 0; ox < out_w; ++ox, o += C) {
            int32_t v;
            if (row_in && ox == ox_a) {
                /* the inside run, the hot loop */
                const int8_t *x = xrow + ox * sw * in_c;
                const int32_t step = sw * in_c;
                if (K == 3 && step == 1 && ox_b > ox) {
                    const int32_t args[12] = {
                        (int32_t)(uintptr_t)x, (int32_t)(uintptr_t)o, ox_b - ox, C,
                        (int32_t)(((uint32_t)w1 << 16) | (uint16_t)w0),
                        (int32_t)(((uint32_t)span << 16) | (uint16_t)w2), bias, m,
                        post_row ? (int32_t)(uintptr_t)post_row : lo, s,
                        (int32_t)(uint32_t)((uint64_t)c0 & 0xFFFFFFFFu), (int32_t)(c0 >> 32)};
                    if (post_row) tinyeit_cm_conv3_post(args);
                    else tinyeit_cm_conv3_lo(args);
                    o += (ox_b - ox) * C;
                    ox = ox_b;
                } else if (post_row)
                    for (; ox < ox_b; ++ox, x += step, o += C)
                        *o = post_row[cm_small_out(x, w0, w1, w2, w3, bias, m, c0, s, span, K)];
                else
                    for (; ox < ox_b; ++ox, x += step, o += C)
                        *o = (int8_t)(cm_small_out(x, w0, w1, w2, w3, bias, m, c0, s, span, K)
                                      + lo);
                if (ox >= out_w) break;
            }
            v = cm_small_out(conv_window(in, p, b, oy, ox, patch), w0, w1, w2, w3, bias, m, c0,
                             s, span, K);
            *o = post_row ? post_row[v] : (int8_t)(v + lo);
        }
    }
}

/* One output channel the fast form cannot take (r = 0, left > 0, or r > 22): the window's
 * products and the kernels' shared epilogue (cheap double rounding, proven by the generator). */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void cm_conv_small_plain(const int8_t *in, const int8_t *wch, int32_t bias, int32_t m,
                                int32_t shift, const int8_t *post_row, int8_t *o,
                                const tinyeit_conv_params *p, int8_t *patch)
{
    const tinyeit_conv_params P = *p;  /* in locals: the int8 stores may alias *p */
    const int32_t w0 = wch[0], w1 = wch[1], w2 = wch[2];
    const int32_t span_h = (P.k_h - 1) * P.dil_h, span_w = (P.k_w - 1) * P.dil_w;
    const int32_t runs = P.k_h == 1 && (P.dil_w == 1 || P.k_w == 1);
    int32_t b, oy, ox;
    for (b = 0; b < P.batches; ++b)
        for (oy = 0; oy < P.out_h; ++oy) {
            const int32_t y0 = oy * P.stride_h - P.pad_h;
            const int32_t row_in = runs && y0 >= 0 && y0 + span_h < P.in_h;
            for (ox = 0; ox < P.out_w; ++ox, o += P.out_c) {
                const int32_t x0 = ox * P.stride_w - P.pad_w;
                const int8_t *x = row_in && x0 >= 0 && x0 + span_w < P.in_w
                                      ? in + ((b * P.in_h + y0) * P.in_w + x0) * P.in_c
                                      : conv_window(in, &P, b, oy, ox, patch);
                const int32_t acc = bias + w0 * x[0] + w1 * x[1] + w2 * x[2];
                *o = epilogue_s8(acc, m, shift, 0, 1, P.out_offset, P.act_min, P.act_max,
                                 post_row);
            }
        }
}

/* Returns 1 when it computed the whole convolution (a 3-element window, the cheap
 * requantization proven), else 0 and leaves it to the caller. */
int tinyeit_cm_conv_small(const int8_t *in, const int8_t *w, const int32_t *bias,
                          const int32_t *mult, const int32_t *shift, const int8_t *post,
                          int8_t *out, const tinyeit_conv_params *p, int8_t *patch)
{
    const int32_t K = p->k_h * p->k_w * p->in_c, C = p->out_c;
    int32_t oc, k;
    if (K != 3 || !p->cheap_rq) return 0;
    for (oc = 0; oc < C; ++oc) {
        int8_t wch[3];
        const int8_t *prow = post ? post + oc * p->post_len : NULL;
        for (k = 0; k < 3; ++k) wch[k] = w[fc4_index(oc, k, 3, C)];
        if (shift[oc] > -1 || -shift[oc] > 22)
            cm_conv_small_plain(in, wch, bias[oc], mult[oc], shift[oc], prow, out + oc, p,
                                patch);
        else
            cm_conv_small_ch(in, wch, bias[oc], mult[oc], -shift[oc], prow, out + oc, p, patch,
                             3);
    }
    return 1;
}
#endif
