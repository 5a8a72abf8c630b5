/* tinyeit reference kernels: softmax (int8, float). Portable C99, the reference every target version is held
 * against and the fallback where a target has none. Written for this project from TFLite's
 * quantization specification; no code of other projects is copied here. */
#include "tinyeit_common.h"

#include <math.h>

/* gemmlowp one_over_one_plus_x_for_x_in_0_1, Q0.31 in and out. */
static int32_t one_over_one_plus_x(int32_t a)
{
    const int64_t sum = (int64_t)a + INT32_MAX;
    const int32_t half_den = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    int32_t x = 1515870810 + tinyeit_srdhm(half_den, -1010580540);
    int i;
    for (i = 0; i < 3; ++i) {
        const int32_t one_minus = (1 << 29) - tinyeit_srdhm(half_den, x);
        const int32_t t = tinyeit_srdhm(x, one_minus);
        const int32_t t4 = t > (INT32_MAX >> 2) ? INT32_MAX
                         : (t < (INT32_MIN >> 2) ? INT32_MIN : t * 4);
        x = (int32_t)((uint32_t)x + (uint32_t)t4);
    }
    return x > (INT32_MAX >> 1) ? INT32_MAX : (x < (INT32_MIN >> 1) ? INT32_MIN : x * 2);
}

static int clz32(uint32_t x)
{
    int n = 0;
    if (x == 0) return 32;
    while (!(x & 0x80000000u)) { x <<= 1; ++n; }
    return n;
}

/* TFLite reference int8 softmax: exp tables (Q0.31 and Q12.19) come from the generator. */
void tinyeit_softmax_s8(const int8_t *in, int8_t *out, int32_t rows, int32_t depth,
                        const int32_t *exp_q31, const int32_t *exp_acc)
{
    int32_t r, c;
    for (r = 0; r < rows; ++r) {
        const int8_t *x = in + r * depth;
        int8_t *y = out + r * depth;
        int32_t mx = -128, sum = 0, recip, bits;
        int headroom;
        for (c = 0; c < depth; ++c) mx = TINYEIT_MAX(mx, (int32_t)x[c]);
        for (c = 0; c < depth; ++c) sum += exp_acc[mx - x[c]];
        headroom = clz32((uint32_t)sum);
        bits = 12 - headroom;
        recip = one_over_one_plus_x((int32_t)(((uint32_t)sum << headroom) - 0x80000000u));
        for (c = 0; c < depth; ++c) {
            const int32_t e = exp_q31[mx - x[c]];
            int32_t v;
            if (e == 0 && mx - x[c] != 0) { y[c] = -128; continue; }
            v = tinyeit_rdbpot(tinyeit_srdhm(recip, e), bits + 31 - 8) - 128;
            y[c] = sat_s8(v, -128, 127);
        }
    }
}

void tinyeit_softmax_f32(const float *in, float *out, int32_t rows, int32_t depth, float beta)
{
    int32_t r, c;
    for (r = 0; r < rows; ++r) {
        const float *x = in + r * depth;
        float *y = out + r * depth;
        float mx = x[0], sum = 0.0f;
        for (c = 1; c < depth; ++c) if (x[c] > mx) mx = x[c];
        for (c = 0; c < depth; ++c) { y[c] = exp_f((x[c] - mx) * beta); sum += y[c]; }
        for (c = 0; c < depth; ++c) y[c] = y[c] / sum;
    }
}
