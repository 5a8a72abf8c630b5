/* The AArch64 NEON float kernels against the portable reference kernels, bit for bit, on the
 * target (tests/test_codegen_neon_float.py builds it with the generated kernels and runs it
 * under qemu-aarch64). Each case fills its inputs and weights from a fixed pseudo-random
 * sequence, with special values among them (+-0, denormals, huge values whose products
 * overflow, +-inf and one NaN; conv with and without the folded per-channel MUL / ADD), runs tinyeit_X and tinyeit_X_ref on the same data and compares
 * the output bytes (and that neither wrote past its output). Prints one line per mismatch,
 * then "cases N mismatches M". */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tinyeit_common.h"

#if !defined(TINYEIT_TARGET_FC_F32) || !defined(TINYEIT_TARGET_CONV_F32) ||                   \
    !defined(TINYEIT_TARGET_MAXPOOL_F32) || !defined(TINYEIT_TARGET_MEAN_F32) ||              \
    !defined(TINYEIT_TARGET_BINARY_F32) || !defined(TINYEIT_A64_FC_F32_BSR)
#error "this build has no target float kernels to compare"
#endif

static uint64_t state = 0x9e3779b97f4a7c15ull;

static uint32_t next_u32(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (uint32_t)(state >> 11);
}

static float bits_f(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* special: one value in `special` is special (0: none) */
static float rand_f(int special)
{
    const uint32_t r = next_u32();
    if (special && r % special == 0) {
        switch ((r / special) % 9) {
        case 0: return 0.0f;
        case 1: return -0.0f;
        case 2: return bits_f(0x00000003u);          /* denormal */
        case 3: return bits_f(0x80400000u);          /* negative denormal */
        case 4: return 3.0e38f;
        case 5: return -2.5e38f;
        case 6: return INFINITY;
        case 7: return -INFINITY;
        default: return bits_f(0x7fc00000u);         /* the one NaN: no payload to choose */
        }
    }
    return ((float)(int32_t)(r % 2000001u) - 1000000.0f) * 3.0e-6f;
}

static float *buf(size_t n, int special)
{
    float *p = malloc((n + 1) * sizeof *p);
    size_t i;
    for (i = 0; i < n; ++i) p[i] = rand_f(special);
    return p;
}

#define GUARD 8
static float *out_buf(size_t n)
{
    float *p = malloc((n + GUARD) * sizeof *p);
    memset(p, 0x5a, (n + GUARD) * sizeof *p);
    return p;
}

static int cases, mismatches;

static void compare(const char *what, const char *shape, const float *got, const float *want,
                    size_t n)
{
    ++cases;
    if (memcmp(got, want, (n + GUARD) * sizeof *got) != 0) {
        size_t i = 0;
        while (i < n + GUARD && !memcmp(got + i, want + i, sizeof *got)) ++i;
        ++mismatches;
        printf("MISMATCH %s %s at %zu of %zu: %a vs %a\n", what, shape, i, n, (double)got[i],
               (double)want[i]);
    }
}

static const float LO[] = {-INFINITY, 0.0f, 0.0f, -INFINITY, -1.0f};
static const float HI[] = {INFINITY, INFINITY, 6.0f, 0.5f, 1.0f};
#define N_BOUNDS 5

static void fc_cases(void)
{
    static const int32_t dims[] = {1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 31, 33, 64};
    int32_t u, d, k, b, hasbias;
    char shape[96];
    for (u = 1; u <= 20; ++u)
        for (d = 0; d < (int32_t)(sizeof dims / sizeof *dims); ++d)
            for (b = 1; b <= 2; ++b)
                for (hasbias = 0; hasbias <= 1; ++hasbias) {
                    const int32_t n = dims[d];
                    tinyeit_fc_params p;
                    float *x = buf((size_t)(b * n), 23), *w = buf((size_t)(u * n), 97);
                    float *bias = hasbias ? buf((size_t)u, 11) : NULL;
                    float *o1 = out_buf((size_t)(b * u)), *o2 = out_buf((size_t)(b * u));
                    k = (u + d + b) % N_BOUNDS;
                    memset(&p, 0, sizeof p);
                    p.batches = b; p.in_dim = n; p.units = u; p.f_min = LO[k]; p.f_max = HI[k];
                    tinyeit_fc_f32(x, w, bias, o1, &p);
                    tinyeit_fc_f32_ref(x, w, bias, o2, &p);
                    snprintf(shape, sizeof shape, "units=%d in=%d batches=%d bias=%d bound=%d",
                             u, n, b, hasbias, k);
                    compare("fc", shape, o1, o2, (size_t)(b * u));
                    free(x); free(w); free(bias); free(o1); free(o2);
                }
}

static int32_t out_size(int32_t in, int32_t k, int32_t stride, int32_t dil, int32_t pad)
{
    const int32_t span = (k - 1) * dil + 1, full = in + 2 * pad - span;
    return full < 0 ? 0 : full / stride + 1;
}

static void conv_case(int32_t batches, int32_t in_h, int32_t in_w, int32_t in_c, int32_t out_c,
                      int32_t k_h, int32_t k_w, int32_t stride, int32_t dil, int32_t pad_h,
                      int32_t pad_w, int32_t hasbias, int32_t bound)
{
    tinyeit_conv_params p;
    float *x, *w, *bias, *o1, *o2, *pm, *pa;
    size_t n_out;
    char shape[192];
    /* the folded per-channel MUL / ADD after the clamp: none, both, MUL only, ADD only */
    const int32_t post = (out_c + k_w + in_c + pad_w) % 4;
    memset(&p, 0, sizeof p);
    p.batches = batches; p.in_h = in_h; p.in_w = in_w; p.in_c = in_c; p.out_c = out_c;
    p.k_h = k_h; p.k_w = k_w; p.stride_h = stride; p.stride_w = stride; p.dil_h = dil;
    p.dil_w = dil; p.pad_h = pad_h; p.pad_w = pad_w; p.depth_mult = 1;
    p.out_h = out_size(in_h, k_h, stride, dil, pad_h);
    p.out_w = out_size(in_w, k_w, stride, dil, pad_w);
    p.f_min = LO[bound]; p.f_max = HI[bound];
    n_out = (size_t)(batches * p.out_h * p.out_w * out_c);
    x = buf((size_t)(batches * in_h * in_w * in_c), 29);
    w = buf((size_t)(out_c * k_h * k_w * in_c), 101);
    bias = hasbias ? buf((size_t)out_c, 13) : NULL;
    pm = post == 1 || post == 2 ? buf((size_t)out_c, 5) : NULL;
    pa = post == 1 || post == 3 ? buf((size_t)out_c, 5) : NULL;
    p.post_mul = pm;
    p.post_add = pa;
    o1 = out_buf(n_out);
    o2 = out_buf(n_out);
    tinyeit_conv_f32(x, w, bias, o1, &p);
    tinyeit_conv_f32_ref(x, w, bias, o2, &p);
    snprintf(shape, sizeof shape, "b=%d in=%dx%dx%d out_c=%d k=%dx%d s=%d d=%d pad=%d,%d bias=%d "
             "bound=%d post=%d", batches, in_h, in_w, in_c, out_c, k_h, k_w, stride, dil, pad_h,
             pad_w, hasbias, bound, post);
    compare("conv", shape, o1, o2, n_out);
    free(x); free(w); free(bias); free(pm); free(pa); free(o1); free(o2);
}

static void conv_cases(void)
{
    int32_t oc, k, c, s, d, pad;
    /* the study's shape: 1 x 40 x 1, k 1 x 3, every channel count up to 26 */
    for (oc = 1; oc <= 26; ++oc) conv_case(1, 1, 40, 1, oc, 1, 3, 1, 1, 0, 0, oc & 1, oc % 5);
    for (oc = 1; oc <= 26; ++oc) conv_case(1, 1, 40, 1, oc, 1, 3, 1, 1, 0, 1, 1, 1);
    /* 1-D windows: kernel, in_c, stride, dilation and SAME-like padding at the borders */
    for (k = 1; k <= 5; k += 2)
        for (c = 1; c <= 6; c += 5)
            for (s = 1; s <= 2; ++s)
                for (d = 1; d <= 2; ++d)
                    for (pad = 0; pad <= k / 2 + 1; ++pad)
                        conv_case(1, 1, 17, c, 3 + k * c + s * d, 1, k, s, d, 0, pad,
                                  (k + pad) & 1, (k + c + s + d + pad) % 5);
    /* 2-D windows, two batches */
    conv_case(2, 5, 6, 3, 6, 3, 3, 2, 1, 1, 1, 1, 1);
    conv_case(1, 7, 7, 2, 5, 2, 3, 1, 2, 1, 2, 0, 0);
    conv_case(2, 4, 9, 5, 9, 1, 4, 1, 1, 0, 0, 1, 2);
    conv_case(1, 6, 6, 4, 17, 3, 3, 1, 1, 1, 1, 1, 3);
    /* filters larger than the stack re-blocking (6 * 6 * 20 = 720 > 512): remainder channels
     * through the reference's loop */
    conv_case(1, 6, 6, 20, 11, 6, 6, 1, 1, 2, 2, 1, 1);
    conv_case(1, 3, 30, 64, 5, 3, 3, 1, 1, 1, 1, 0, 4);
}

static void pool_case(int32_t in_h, int32_t in_w, int32_t ch, int32_t k_h, int32_t k_w,
                      int32_t s, int32_t pad_h, int32_t pad_w, int32_t bound)
{
    tinyeit_pool_params p;
    float *x, *o1, *o2;
    size_t n_out;
    char shape[128];
    memset(&p, 0, sizeof p);
    p.batches = 2; p.in_h = in_h; p.in_w = in_w; p.ch = ch; p.k_h = k_h; p.k_w = k_w;
    p.stride_h = s; p.stride_w = s; p.pad_h = pad_h; p.pad_w = pad_w;
    /* SAME-like: windows may hang over both borders, some may hold no valid tap */
    p.out_h = (in_h + 2 * pad_h - 1) / s + 1;
    p.out_w = (in_w + 2 * pad_w - 1) / s + 1;
    p.f_min = LO[bound]; p.f_max = HI[bound];
    n_out = (size_t)(2 * p.out_h * p.out_w * ch);
    x = buf((size_t)(2 * in_h * in_w * ch), 7);
    o1 = out_buf(n_out);
    o2 = out_buf(n_out);
    tinyeit_maxpool_f32(x, o1, &p);
    tinyeit_maxpool_f32_ref(x, o2, &p);
    snprintf(shape, sizeof shape, "in=%dx%dx%d k=%dx%d s=%d pad=%d,%d bound=%d", in_h, in_w, ch,
             k_h, k_w, s, pad_h, pad_w, bound);
    compare("maxpool", shape, o1, o2, n_out);
    free(x); free(o1); free(o2);
}

static void pool_cases(void)
{
    int32_t ch, k, s, pad;
    for (ch = 1; ch <= 13; ++ch)
        for (k = 1; k <= 3; ++k)
            for (s = 1; s <= 2; ++s)
                for (pad = 0; pad <= 2; ++pad)
                    pool_case(1, 38, ch, 1, k, s, 0, pad, (ch + k + s + pad) % N_BOUNDS);
    pool_case(5, 7, 6, 2, 3, 2, 1, 1, 1);
    pool_case(4, 4, 25, 3, 3, 1, 1, 1, 0);
    pool_case(3, 9, 8, 2, 2, 2, 0, 0, 2);
}

/* ADD / MUL of a tensor [d0, d1, d2, d3] and a second input given by its inner strides. */
static void binary_case(int32_t d2, int32_t d3, int32_t sa3, int32_t sb3, int32_t sb2,
                        int32_t bound)
{
    tinyeit_binary_params p;
    const int32_t d0 = 2, d1 = 1;
    const int32_t sa2 = sa3 ? d3 * sa3 : 1;
    const size_t n_out = (size_t)(d0 * d1 * d2 * d3);
    float *a = buf((size_t)(d0 * d1 * d2 * sa2) + 1, 19), *b, *o1, *o2;
    size_t nb;
    char shape[128];
    int op;
    memset(&p, 0, sizeof p);
    p.dims[0] = d0; p.dims[1] = d1; p.dims[2] = d2; p.dims[3] = d3;
    p.s1[0] = d1 * d2 * sa2; p.s1[1] = d2 * sa2; p.s1[2] = sa2; p.s1[3] = sa3;
    p.s2[0] = 0; p.s2[1] = 0; p.s2[2] = sb2; p.s2[3] = sb3;
    nb = (size_t)(d2 * (sb2 ? sb2 : 1) + d3 * (sb3 ? sb3 : 1)) + 1;
    b = buf(nb, 17);
    p.f_min = LO[bound]; p.f_max = HI[bound];
    for (op = 0; op < 2; ++op) {
        o1 = out_buf(n_out);
        o2 = out_buf(n_out);
        if (op) {
            tinyeit_mul_f32(a, b, o1, &p);
            tinyeit_mul_f32_ref(a, b, o2, &p);
        } else {
            tinyeit_add_f32(a, b, o1, &p);
            tinyeit_add_f32_ref(a, b, o2, &p);
        }
        snprintf(shape, sizeof shape, "dims=%dx%dx%dx%d s1_3=%d s2=%d,%d bound=%d", d0, d1, d2,
                 d3, sa3, sb2, sb3, bound);
        compare(op ? "mul" : "add", shape, o1, o2, n_out);
        free(o1); free(o2);
    }
    free(a); free(b);
}

static void binary_cases(void)
{
    int32_t d3;
    for (d3 = 1; d3 <= 26; ++d3) {
        binary_case(7, d3, 1, 1, 0, d3 % N_BOUNDS);       /* per-channel constants (BatchNorm) */
        binary_case(5, d3, 1, 1, d3, (d3 + 1) % N_BOUNDS); /* two tensors */
        binary_case(3, d3, 1, 0, 1, (d3 + 2) % N_BOUNDS);  /* one value per row */
        binary_case(4, d3, 0, 1, 0, (d3 + 3) % N_BOUNDS);  /* first input broadcast */
        binary_case(3, d3, 2, 1, 0, (d3 + 4) % N_BOUNDS);  /* strided: the reference's loop */
    }
}

static void mean_cases(void)
{
    int32_t outer, reduce, inner;
    char shape[64];
    for (outer = 1; outer <= 2; ++outer)
        for (reduce = 1; reduce <= 9; reduce += 4)
            for (inner = 1; inner <= 26; ++inner) {
                const size_t n_out = (size_t)(outer * inner);
                float *x = buf((size_t)(outer * reduce * inner), 31);
                float *o1 = out_buf(n_out), *o2 = out_buf(n_out);
                tinyeit_mean_f32(x, o1, outer, reduce, inner);
                tinyeit_mean_f32_ref(x, o2, outer, reduce, inner);
                snprintf(shape, sizeof shape, "outer=%d reduce=%d inner=%d", outer, reduce, inner);
                compare("mean", shape, o1, o2, n_out);
                free(x); free(o1); free(o2);
            }
}

/* A block-sparse index (tinyeit_kernels.h) for units x n: per block of 4 units its count, then
 * its kept groups (input / 4) in increasing order, each kept with probability pct / 100; mode 1:
 * every other block of units keeps none, mode 2: one kept block in the whole matrix. Returns the
 * number of kept blocks. */
static int32_t bsr_index(uint16_t *idx, int32_t units, int32_t n, int32_t pct, int mode)
{
    const int32_t blocks = units / 4, groups = n / 4;
    const int32_t one_b = blocks ? (int32_t)(next_u32() % (uint32_t)blocks) : 0;
    const int32_t one_g = groups ? (int32_t)(next_u32() % (uint32_t)groups) : 0;
    int32_t b, g, kept = 0;
    for (b = 0; b < blocks; ++b) {
        uint16_t *count = idx++;
        *count = 0;
        for (g = 0; g < groups; ++g) {
            const int keep = mode == 2 ? (b == one_b && g == one_g)
                           : mode == 1 && (b & 1) ? 0 : (int32_t)(next_u32() % 100u) < pct;
            if (keep) {
                *idx++ = (uint16_t)g;
                ++*count;
                ++kept;
            }
        }
    }
    return kept;
}

/* The block-sparse fully connected: kept-block patterns from none to all, empty unit groups, a
 * single kept block, tails of 0..3 inputs, special values among inputs and weights. */
static void bsr_cases(void)
{
    static const int32_t dims[] = {1, 3, 4, 5, 7, 8, 9, 13, 16, 31, 33, 64, 114, 475};
    static const int32_t pcts[] = {0, 15, 40, 75, 100};
    int32_t u, d, k, b, hasbias, id = 0;
    char shape[128];
    for (u = 1; u <= 20; ++u)
        for (d = 0; d < (int32_t)(sizeof dims / sizeof *dims); ++d)
            for (hasbias = 0; hasbias <= 1; ++hasbias, ++id) {
                const int32_t n = dims[d], pct = pcts[id % 5], mode = (id / 5) % 3;
                tinyeit_fc_params p;
                uint16_t *idx = malloc(sizeof(uint16_t) * (size_t)(u / 4 + (u / 4) * (n / 4) + 1));
                const int32_t kept = bsr_index(idx, u, n, pct, mode);
                const size_t nv = (size_t)(kept * 16 + (u / 4) * 4 * (n % 4) + (u % 4) * n);
                float *w, *x, *bias, *o1, *o2;
                b = 1 + (id % 4 == 0);
                x = buf((size_t)(b * n), 23);
                w = buf(nv, id % 2 ? 97 : 0);
                bias = hasbias ? buf((size_t)u, 11) : NULL;
                o1 = out_buf((size_t)(b * u));
                o2 = out_buf((size_t)(b * u));
                k = (u + d + b) % N_BOUNDS;
                memset(&p, 0, sizeof p);
                p.batches = b; p.in_dim = n; p.units = u; p.f_min = LO[k]; p.f_max = HI[k];
                tinyeit_fc_f32_bsr(x, w, idx, bias, o1, &p);
                tinyeit_fc_f32_bsr_ref(x, w, idx, bias, o2, &p);
                snprintf(shape, sizeof shape,
                         "units=%d in=%d batches=%d bias=%d bound=%d kept=%d%% mode=%d", u, n, b,
                         hasbias, k, pct, mode);
                compare("fc_bsr", shape, o1, o2, (size_t)(b * u));
                free(idx); free(x); free(w); free(bias); free(o1); free(o2);
            }
}

int main(void)
{
    fc_cases();
    conv_cases();
    pool_cases();
    binary_cases();
    mean_cases();
    bsr_cases();
    printf("cases %d mismatches %d\n", cases, mismatches);
    return mismatches != 0;
}
