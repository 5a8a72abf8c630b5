/* The AArch64 NEON int8 kernels (fully connected, conv, max pool, codebook fully connected:
 * tables with and without -128, per unit and shared; block-sparse fully connected: random
 * kept-block patterns, empty unit groups, a single kept block) against the portable
 * reference kernels, byte for byte, on the target (tests/test_codegen_neon_int8.py builds it
 * with the generated kernels and runs it under qemu-aarch64). Each case fills inputs, weights,
 * bias and requantization from a fixed pseudo-random sequence: weights with and without -128
 * (w_no_min set only where there is none), rows of all -128 and all 127 inputs, shifts all
 * negative or some >= 0, single and double rounding, full and narrow activation ranges, with
 * and without the folded per-channel table; conv through all three NEON paths (1-D across
 * positions, small filters across channels, large filters per window) with SAME borders,
 * stride and dilation; max pool with channel counts on and off the 8/16 chunks, in place and
 * not. Runs tinyeit_X and tinyeit_X_ref on the same data and compares the outputs and the
 * guard bytes after them. Prints one line per mismatch, then "cases N mismatches M". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tinyeit_common.h"

#if !defined(TINYEIT_TARGET_FC_S8) || !defined(TINYEIT_TARGET_CONV_S8) ||                     \
    !defined(TINYEIT_TARGET_MAXPOOL_S8) || !defined(TINYEIT_A64_FC_S8_CB) ||                    \
    !defined(TINYEIT_A64_FC_S8_BSR)
#error "this build has no target int8 kernels to compare"
#endif

#define GUARD 64

static uint64_t state = 0x2545f4914f6cdd1dull;
static int cases, mismatches;

static uint32_t next_u32(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (uint32_t)(state >> 11);
}

static int32_t rnd(int32_t lo, int32_t hi) /* [lo, hi] */
{
    return lo + (int32_t)(next_u32() % (uint32_t)(hi - lo + 1));
}

static int8_t *bytes(size_t n, int lo, int hi)
{
    int8_t *b = malloc(n + GUARD);
    size_t i;
    for (i = 0; i < n + GUARD; ++i) b[i] = (int8_t)rnd(lo, hi);
    return b;
}

/* n int8 inputs: random, with runs of -128 and 127 (rows of extremes) */
static void fill_inputs(int8_t *x, size_t n, int mode)
{
    size_t i;
    for (i = 0; i < n; ++i)
        x[i] = (int8_t)(mode == 1 ? -128 : mode == 2 ? 127 : rnd(-128, 127));
}

/* units x n int8 weights, -128 among them when allow_min, else in [-127, 127] with many -127 */
static int8_t *weights(int32_t units, int32_t n, int allow_min)
{
    int8_t *w = malloc((size_t)units * (size_t)n + 1);
    int32_t i;
    for (i = 0; i < units * n; ++i) {
        const int32_t r = rnd(0, 9);
        w[i] = (int8_t)(r == 0 ? (allow_min ? -128 : -127) : r == 1 ? -127 : r == 2 ? 127
                                                                         : rnd(-127, 127));
    }
    return w;
}

static int8_t *pack(const int8_t *w, int32_t units, int32_t n)
{
    int8_t *q = malloc((size_t)units * (size_t)n + 1);
    int32_t u, k;
    for (u = 0; u < units; ++u)
        for (k = 0; k < n; ++k) q[fc4_index(u, k, n, units)] = w[u * n + k];
    return q;
}

/* per channel: multiplier in [2^30, 2^31), shift mostly negative (right), some >= 0 when
 * `any_shift`; scaled so that outputs spread over the int8 range for accumulators ~ `mag` */
static void requant(int32_t *mult, int32_t *shift, int32_t n, int any_shift, int32_t mag)
{
    int32_t i, bits = 0;
    while ((1 << bits) < mag && bits < 30) ++bits;
    for (i = 0; i < n; ++i) {
        mult[i] = (int32_t)(0x40000000u + (next_u32() & 0x3fffffffu));
        shift[i] = -(bits - 7) + rnd(-3, 2);
        if (shift[i] > -1 && !any_shift) shift[i] = -1;
        if (any_shift && rnd(0, 5) == 0) shift[i] = rnd(0, 2);
        if (shift[i] < -31) shift[i] = -31;
    }
}

static int8_t *post_table(int32_t ch, int32_t len)
{
    return len ? bytes((size_t)ch * (size_t)len, -128, 127) : NULL;
}

static void compare(const char *what, const int8_t *a, const int8_t *b, size_t n, int id)
{
    ++cases;
    if (memcmp(a, b, n + GUARD) != 0) {
        size_t i;
        for (i = 0; i < n + GUARD && a[i] == b[i]; ++i) {}
        ++mismatches;
        printf("%s case %d: first difference at %zu of %zu: %d vs %d\n", what, id, i, n,
               a[i], b[i]);
    }
}

static void act_range(int32_t *lo, int32_t *hi, int32_t *zo)
{
    switch (rnd(0, 3)) {
    case 0: *lo = -128; *hi = 127; *zo = rnd(-128, 127); break;
    case 1: *zo = rnd(-128, 20); *lo = *zo; *hi = 127; break;         /* ReLU */
    case 2: *zo = rnd(-100, 0); *lo = *zo; *hi = *zo + 60; break;     /* ReLU6-like */
    default: *lo = -128; *hi = 127; *zo = -128;
    }
}

static void fc_case(int32_t batches, int32_t n, int32_t units, int allow_min, int id)
{
    tinyeit_fc_params p;
    int8_t *w = weights(units, n, allow_min), *q = pack(w, units, n);
    int8_t *x = malloc((size_t)(batches * n) + 1), *post;
    int8_t *o1 = bytes((size_t)(batches * units), 0, 0), *o2 = bytes((size_t)(batches * units), 0, 0);
    int32_t *bias = malloc(sizeof(int32_t) * (size_t)units);
    int32_t *mult = malloc(sizeof(int32_t) * (size_t)units), *shift = malloc(sizeof(int32_t) * (size_t)units);
    int32_t u, b, has_min = 0, k;
    memset(&p, 0, sizeof p);
    for (k = 0; k < units * n; ++k) has_min |= w[k] == -128;
    for (b = 0; b < batches; ++b) fill_inputs(x + b * n, (size_t)n, (id + b) % 4);
    for (u = 0; u < units; ++u) bias[u] = rnd(-20000, 20000);
    requant(mult, shift, units, id % 3 == 0, 128 * 90 * (n < 4 ? 4 : n));
    p.batches = batches;
    p.in_dim = n;
    p.units = units;
    act_range(&p.act_min, &p.act_max, &p.out_offset);
    p.single_round = id % 2;
    p.cheap_rq = 0;
    p.post_len = rnd(0, 2) == 0 ? p.act_max - p.act_min + 1 : 0;
    p.w_no_min = !has_min;
    post = post_table(units, p.post_len);
    tinyeit_fc_s8(x, q, bias, mult, shift, post, o1, &p);
    tinyeit_fc_s8_ref(x, q, bias, mult, shift, post, o2, &p);
    compare("fc", o1, o2, (size_t)(batches * units), id);
    free(w); free(q); free(x); free(o1); free(o2); free(bias); free(mult); free(shift);
    free(post);
}

static void fc_cases(void)
{
    static const int32_t ns[] = {1, 3, 4, 5, 7, 8, 12, 15, 16, 17, 24, 31, 32, 33, 47, 48,
                                 63, 64, 65, 100, 114, 128, 200, 228, 475};
    static const int32_t us[] = {1, 2, 3, 4, 5, 7, 8, 10, 12, 13, 15, 16, 17, 20, 24, 28, 33,
                                 48, 64, 128};
    size_t i, j;
    int id = 0, allow;
    for (i = 0; i < sizeof ns / sizeof ns[0]; ++i)
        for (j = 0; j < sizeof us / sizeof us[0]; ++j)
            for (allow = 0; allow < 2; ++allow, ++id)
                fc_case(1 + (id % 7 == 0), ns[i], us[j], allow, id);
}

static void conv_case(int32_t in_h, int32_t in_w, int32_t in_c, int32_t out_c, int32_t k_h,
                      int32_t k_w, int32_t stride, int32_t dil, int same, int id)
{
    tinyeit_conv_params p;
    const int32_t K = k_h * k_w * in_c;
    int32_t eff_h = (k_h - 1) * dil + 1, eff_w = (k_w - 1) * dil + 1, c, oh, ow, n_out;
    int8_t *w, *q, *x, *o1, *o2, *post;
    int32_t *bias, *mult, *shift;
    memset(&p, 0, sizeof p);
    if (same) {
        oh = (in_h + stride - 1) / stride;
        ow = (in_w + stride - 1) / stride;
        p.pad_h = ((oh - 1) * stride + eff_h - in_h) / 2;
        p.pad_w = ((ow - 1) * stride + eff_w - in_w) / 2;
        if (p.pad_h < 0) p.pad_h = 0;
        if (p.pad_w < 0) p.pad_w = 0;
    } else {
        oh = (in_h - eff_h) / stride + 1;
        ow = (in_w - eff_w) / stride + 1;
    }
    if (oh < 1 || ow < 1) return;
    p.batches = 1 + (id % 5 == 0);
    p.in_h = in_h; p.in_w = in_w; p.in_c = in_c; p.out_h = oh; p.out_w = ow; p.out_c = out_c;
    p.k_h = k_h; p.k_w = k_w; p.stride_h = stride; p.stride_w = stride;
    p.dil_h = dil; p.dil_w = dil; p.depth_mult = 1;
    p.in_offset = -rnd(-128, 127);
    act_range(&p.act_min, &p.act_max, &p.out_offset);
    p.post_len = rnd(0, 1) ? p.act_max - p.act_min + 1 : 0;
    n_out = p.batches * oh * ow * out_c;
    w = weights(out_c, K, 1);
    q = pack(w, out_c, K);
    x = malloc((size_t)(p.batches * in_h * in_w * in_c) + 1);
    fill_inputs(x, (size_t)(p.batches * in_h * in_w * in_c), id % 5 == 3 ? 1 : 0);
    o1 = bytes((size_t)n_out, 0, 0);
    o2 = bytes((size_t)n_out, 0, 0);
    bias = malloc(sizeof(int32_t) * (size_t)out_c);
    mult = malloc(sizeof(int32_t) * (size_t)out_c);
    shift = malloc(sizeof(int32_t) * (size_t)out_c);
    for (c = 0; c < out_c; ++c) bias[c] = rnd(-30000, 30000);
    requant(mult, shift, out_c, id % 3 == 0, 128 * 90 * K);
    post = post_table(out_c, p.post_len);
    tinyeit_conv_s8(x, q, bias, NULL, mult, shift, post, o1, &p);
    tinyeit_conv_s8_ref(x, q, bias, NULL, mult, shift, post, o2, &p);
    compare("conv", o1, o2, (size_t)n_out, id);
    free(w); free(q); free(x); free(o1); free(o2); free(bias); free(mult); free(shift);
    free(post);
}

static void conv_cases(void)
{
    static const int32_t widths[] = {1, 2, 3, 5, 8, 15, 16, 17, 31, 38, 40, 64, 70};
    static const int32_t chans[] = {1, 3, 4, 5, 6, 8, 9, 12, 16, 17, 25, 33};
    size_t i, j;
    int id = 0, k, same;
    /* 1-D, one input channel: the across-positions path (K 1..8) and K 9 (across channels) */
    for (i = 0; i < sizeof widths / sizeof widths[0]; ++i)
        for (j = 0; j < sizeof chans / sizeof chans[0]; ++j)
            for (k = 1; k <= 9; k += 1 + (int)((i + j) % 2))
                for (same = 0; same < 2; ++same, ++id)
                    conv_case(1 + (id % 4 == 0), widths[i], 1, chans[j], 1, k, 1, 1, same, id);
    /* strided / dilated 1-D rows, several input channels, 2-D windows, large filters */
    for (j = 0; j < sizeof chans / sizeof chans[0]; ++j)
        for (same = 0; same < 2; ++same) {
            conv_case(1, 40, 1, chans[j], 1, 3, 2, 1, same, id++);
            conv_case(1, 30, 1, chans[j], 1, 3, 1, 2, same, id++);
            conv_case(1, 30, 2, chans[j], 1, 4, 2, 1, same, id++);
            conv_case(5, 6, 3, chans[j], 3, 3, 2, 1, same, id++);
            conv_case(7, 7, 2, chans[j], 2, 3, 1, 2, same, id++);
            conv_case(4, 9, 5, chans[j], 1, 4, 1, 1, same, id++);
            conv_case(3, 5, 4, chans[j], 2, 2, 1, 1, same, id++);
            conv_case(6, 6, 20, chans[j], 3, 3, 1, 1, same, id++);
        }
    conv_case(1, 40, 1, 130, 1, 3, 1, 1, 0, id++);  /* more channels than the stack tables */
    conv_case(3, 3, 17, 9, 1, 1, 1, 1, 0, id++);    /* K 17: past the across-channels limit */
}

static void pool_case(int32_t in_h, int32_t in_w, int32_t ch, int32_t k_h, int32_t k_w,
                      int32_t s_h, int32_t s_w, int same, int in_place, int id)
{
    tinyeit_pool_params p;
    int32_t oh, ow, n_in, n_out;
    int8_t *x, *a, *b;
    memset(&p, 0, sizeof p);
    if (same) {
        oh = (in_h + s_h - 1) / s_h;
        ow = (in_w + s_w - 1) / s_w;
        p.pad_h = ((oh - 1) * s_h + k_h - in_h) / 2;
        p.pad_w = ((ow - 1) * s_w + k_w - in_w) / 2;
        if (p.pad_h < 0) p.pad_h = 0;
        if (p.pad_w < 0) p.pad_w = 0;
    } else {
        oh = (in_h - k_h) / s_h + 1;
        ow = (in_w - k_w) / s_w + 1;
    }
    if (oh < 1 || ow < 1) return;
    p.batches = 1 + (id % 3 == 0);
    p.in_h = in_h; p.in_w = in_w; p.ch = ch; p.out_h = oh; p.out_w = ow;
    p.k_h = k_h; p.k_w = k_w; p.stride_h = s_h; p.stride_w = s_w;
    if (rnd(0, 2) == 0) {
        p.act_min = rnd(-128, 0);
        p.act_max = rnd(p.act_min, 127);
    } else {
        p.act_min = -128;
        p.act_max = 127;
    }
    n_in = p.batches * in_h * in_w * ch;
    n_out = p.batches * oh * ow * ch;
    x = bytes((size_t)n_in, -128, 127);
    fill_inputs(x, (size_t)n_in, id % 6 == 5 ? 1 : 0);
    if (in_place) {
        /* output over the input's start (the planner's in-place reuse) */
        a = bytes((size_t)(n_in > n_out ? n_in : n_out), 0, 0);
        b = bytes((size_t)(n_in > n_out ? n_in : n_out), 0, 0);
        memcpy(a, x, (size_t)n_in);
        memcpy(b, x, (size_t)n_in);
        tinyeit_maxpool_s8(a, a, &p);
        tinyeit_maxpool_s8_ref(b, b, &p);
    } else {
        a = bytes((size_t)n_out, 0, 0);
        b = bytes((size_t)n_out, 0, 0);
        tinyeit_maxpool_s8(x, a, &p);
        tinyeit_maxpool_s8_ref(x, b, &p);
    }
    compare("maxpool", a, b, (size_t)n_out, id);
    free(x); free(a); free(b);
}

static void pool_cases(void)
{
    static const int32_t chans[] = {1, 3, 6, 7, 8, 9, 12, 15, 16, 17, 24, 25, 31, 33};
    size_t j;
    int id = 0, same, in_place;
    for (j = 0; j < sizeof chans / sizeof chans[0]; ++j)
        for (same = 0; same < 2; ++same)
            for (in_place = 0; in_place < 2; ++in_place) {
                pool_case(1, 38, chans[j], 1, 3, 1, 2, same, in_place, id++);
                pool_case(1, 38, chans[j], 1, 2, 1, 2, same, in_place, id++);
                pool_case(1, 19, chans[j], 1, 3, 1, 1, same, in_place, id++);
                pool_case(5, 6, chans[j], 2, 2, 2, 2, same, in_place, id++);
                pool_case(7, 7, chans[j], 3, 3, 2, 1, same, in_place, id++);
                pool_case(4, 5, chans[j], 4, 5, 1, 1, same, in_place, id++);
            }
}

/* A block-sparse index (tinyeit_kernels.h) for units x n: per block of 4 units its count, then
 * its kept groups (input / 4) in increasing order, each kept with probability pct / 100; mode 1:
 * every other block of units keeps none (all-zero unit groups), mode 2: one kept block in the
 * whole matrix. Returns the number of kept blocks. */
static int32_t bsr_index(uint16_t *idx, int32_t units, int32_t n, int32_t pct, int mode)
{
    const int32_t blocks = units / 4, groups = n / 4;
    const int32_t one_b = blocks ? rnd(0, blocks - 1) : 0, one_g = groups ? rnd(0, groups - 1) : 0;
    int32_t b, g, kept = 0;
    for (b = 0; b < blocks; ++b) {
        uint16_t *count = idx++;
        *count = 0;
        for (g = 0; g < groups; ++g) {
            const int keep = mode == 2 ? (b == one_b && g == one_g)
                           : mode == 1 && (b & 1) ? 0 : rnd(0, 99) < pct;
            if (keep) {
                *idx++ = (uint16_t)g;
                ++*count;
                ++kept;
            }
        }
    }
    return kept;
}

static void cb_case(int32_t batches, int32_t n, int32_t units, int shared, int allow_min, int id)
{
    tinyeit_fc_params p;
    const int32_t row = (n + 1) / 2, nt = shared ? 1 : units;
    uint8_t *codes = malloc((size_t)(units * row) + 1);
    int8_t *table = malloc((size_t)(16 * nt) + 1);
    int8_t *x = malloc((size_t)(batches * n) + 1), *post;
    int8_t *o1 = bytes((size_t)(batches * units), 0, 0), *o2 = bytes((size_t)(batches * units), 0, 0);
    int32_t *bias = malloc(sizeof(int32_t) * (size_t)units);
    int32_t *mult = malloc(sizeof(int32_t) * (size_t)units), *shift = malloc(sizeof(int32_t) * (size_t)units);
    int32_t i, b;
    memset(&p, 0, sizeof p);
    for (i = 0; i < units * row; ++i) codes[i] = (uint8_t)rnd(0, 255);
    for (i = 0; i < 16 * nt; ++i) {
        const int32_t r = rnd(0, 7);
        table[i] = (int8_t)(r == 0 ? (allow_min ? -128 : -127) : r == 1 ? 127 : rnd(-127, 127));
    }
    for (b = 0; b < batches; ++b) fill_inputs(x + b * n, (size_t)n, (id + b) % 4);
    for (i = 0; i < units; ++i) bias[i] = rnd(-20000, 20000);
    requant(mult, shift, units, id % 3 == 0, 128 * 90 * (n < 4 ? 4 : n));
    p.batches = batches; p.in_dim = n; p.units = units;
    act_range(&p.act_min, &p.act_max, &p.out_offset);
    p.single_round = id % 2;
    p.post_len = rnd(0, 2) == 0 ? p.act_max - p.act_min + 1 : 0;
    post = post_table(units, p.post_len);
    tinyeit_fc_s8_cb(x, codes, table, shared ? 0 : 16, bias, mult, shift, post, o1, &p);
    tinyeit_fc_s8_cb_ref(x, codes, table, shared ? 0 : 16, bias, mult, shift, post, o2, &p);
    compare("fc_cb", o1, o2, (size_t)(batches * units), id);
    free(codes); free(table); free(x); free(o1); free(o2); free(bias); free(mult); free(shift);
    free(post);
}

static void cb_cases(void)
{
    static const int32_t ns[] = {1, 2, 3, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 128, 475};
    static const int32_t us[] = {1, 2, 3, 4, 5, 7, 8, 10, 13, 16, 128};
    size_t i, j;
    int id = 0, shared, allow;
    for (i = 0; i < sizeof ns / sizeof ns[0]; ++i)
        for (j = 0; j < sizeof us / sizeof us[0]; ++j)
            for (shared = 0; shared < 2; ++shared)
                for (allow = 0; allow < 2; ++allow, ++id)
                    cb_case(1 + (id % 7 == 0), ns[i], us[j], shared, allow, id);
}

/* The block-sparse fully connected: kept blocks with -128 weights or not (w_no_min then set),
 * some weights zero inside them, densities from none to all, every other unit group empty,
 * a single kept block; inputs of all -128 in some rows. */
static void bsr_case(int32_t batches, int32_t n, int32_t units, int allow_min, int32_t pct,
                     int mode, int id)
{
    tinyeit_fc_params p;
    uint16_t *idx = malloc(sizeof(uint16_t) * (size_t)(units / 4 + (units / 4) * (n / 4) + 1));
    const int32_t kept = bsr_index(idx, units, n, pct, mode);
    const int32_t nv = kept * 16 + (units / 4) * 4 * (n % 4) + (units % 4) * n;
    int8_t *w = weights(1, nv, allow_min);
    int8_t *x = malloc((size_t)(batches * n) + 1), *post;
    int8_t *o1 = bytes((size_t)(batches * units), 0, 0), *o2 = bytes((size_t)(batches * units), 0, 0);
    int32_t *bias = malloc(sizeof(int32_t) * (size_t)units);
    int32_t *mult = malloc(sizeof(int32_t) * (size_t)units), *shift = malloc(sizeof(int32_t) * (size_t)units);
    int32_t u, b, has_min = 0, k;
    memset(&p, 0, sizeof p);
    for (k = 0; k < nv; ++k) {
        if (id % 3 == 0 && rnd(0, 3) == 0) w[k] = 0;
        has_min |= w[k] == -128;
    }
    for (b = 0; b < batches; ++b) fill_inputs(x + b * n, (size_t)n, (id + b) % 4);
    for (u = 0; u < units; ++u) bias[u] = rnd(-20000, 20000);
    requant(mult, shift, units, id % 3 == 0, 128 * 90 * (n < 4 ? 4 : n) / 110 * (pct + 10));
    p.batches = batches;
    p.in_dim = n;
    p.units = units;
    act_range(&p.act_min, &p.act_max, &p.out_offset);
    p.single_round = id % 2;
    p.post_len = rnd(0, 2) == 0 ? p.act_max - p.act_min + 1 : 0;
    p.w_no_min = !has_min;
    post = post_table(units, p.post_len);
    tinyeit_fc_s8_bsr(x, w, idx, bias, mult, shift, post, o1, &p);
    tinyeit_fc_s8_bsr_ref(x, w, idx, bias, mult, shift, post, o2, &p);
    compare("fc_bsr", o1, o2, (size_t)(batches * units), id);
    free(idx); free(w); free(x); free(o1); free(o2); free(bias); free(mult); free(shift);
    free(post);
}

static void bsr_cases(void)
{
    static const int32_t ns[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 23, 31, 32, 33, 40,
                                 64, 100, 114, 128, 475};
    static const int32_t us[] = {1, 3, 4, 5, 7, 8, 10, 12, 16, 17, 20, 24, 28, 33, 64, 128};
    static const int32_t pcts[] = {0, 15, 40, 75, 100};
    size_t i, j;
    int id = 0, allow;
    for (i = 0; i < sizeof ns / sizeof ns[0]; ++i)
        for (j = 0; j < sizeof us / sizeof us[0]; ++j)
            for (allow = 0; allow < 2; ++allow, ++id)
                bsr_case(1 + (id % 7 == 0), ns[i], us[j], allow, pcts[id % 5], (id / 5) % 3, id);
    /* the largest in_dim of the assembly loop's index arithmetic (groups up to 2^14 - 1),
     * and one past it (the loop in C) */
    for (allow = 0; allow < 2; ++allow) {
        bsr_case(1, 65535, 8, allow, 30, 0, id++);
        bsr_case(1, 65537, 8, allow, 30, 0, id++);
    }
}

int main(void)
{
    fc_cases();
    conv_cases();
    pool_cases();
    cb_cases();
    bsr_cases();
    printf("cases %d mismatches %d\n", cases, mismatches);
    return mismatches != 0;
}
