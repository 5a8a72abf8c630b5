/* tinyeit reference kernels: element-wise ops: add, mul, activations, (de)quantize. Portable C99, the reference every target version is held
 * against and the fallback where a target has none. Written for this project from TFLite's
 * quantization specification; no code of other projects is copied here. */
#include "tinyeit_common.h"

#include <math.h>

#define BINARY_LOOP(BODY)                                                                     \
    int32_t i0, i1, i2, i3, k = 0;                                                            \
    for (i0 = 0; i0 < P.dims[0]; ++i0)                                                        \
    for (i1 = 0; i1 < P.dims[1]; ++i1)                                                        \
    for (i2 = 0; i2 < P.dims[2]; ++i2) {                                                      \
        const int32_t ra = i0 * P.s1[0] + i1 * P.s1[1] + i2 * P.s1[2];                        \
        const int32_t rb = i0 * P.s2[0] + i1 * P.s2[1] + i2 * P.s2[2];                        \
        for (i3 = 0; i3 < P.dims[3]; ++i3, ++k) {                                             \
            const int32_t ia = ra + i3 * P.s1[3], ib = rb + i3 * P.s2[3];                     \
            BODY                                                                              \
        }                                                                                     \
    }

/* t1, t2: each input's 256 possible values already shifted left and rescaled (generation
 * time, TFLite's ADD math), indexed by value + 128; one requantization per element remains. */
void tinyeit_add_s8(const int8_t *a, const int8_t *b, const int32_t *t1, const int32_t *t2,
                    int8_t *out, const tinyeit_binary_params *p)
{
    const tinyeit_binary_params P = *p;
    BINARY_LOOP({
        const int32_t r = mbqm_fast(t1[a[ia] + 128] + t2[b[ib] + 128], P.out_mult, P.out_shift);
        out[k] = sat_s8(r + P.out_offset, P.act_min, P.act_max);
    })
}

void tinyeit_mul_s8(const int8_t *a, const int8_t *b, int8_t *out, const tinyeit_binary_params *p)
{
    const tinyeit_binary_params P = *p;
    BINARY_LOOP({
        const int32_t prod = ((int32_t)a[ia] + P.in1_offset) * ((int32_t)b[ib] + P.in2_offset);
        out[k] = sat_s8(mbqm_fast(prod, P.out_mult, P.out_shift) + P.out_offset, P.act_min,
                        P.act_max);
    })
}
void TINYEIT_REF_ADD_F32(const float *a, const float *b, float *out, const tinyeit_binary_params *p)
{
    const tinyeit_binary_params P = *p;
    BINARY_LOOP({ out[k] = clamp_f(a[ia] + b[ib], P.f_min, P.f_max); })
}

void TINYEIT_REF_MUL_F32(const float *a, const float *b, float *out, const tinyeit_binary_params *p)
{
    const tinyeit_binary_params P = *p;
    BINARY_LOOP({ out[k] = clamp_f(a[ia] * b[ib], P.f_min, P.f_max); })
}

void tinyeit_lut_s8(const int8_t *in, int8_t *out, int32_t n, const int8_t *table)
{
    int32_t i;
    for (i = 0; i < n; ++i) out[i] = table[(int32_t)in[i] + 128];
}

void tinyeit_logistic_f32(const float *in, float *out, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {  /* TFLite's reference formula, cutoffs included */
        const float v = in[i];
        out[i] = v > 16.619047164916992188f ? 1.0f
               : (v < -9.0f ? exp_f(v) : 1.0f / (1.0f + exp_f(-v)));
    }
}

void tinyeit_tanh_f32(const float *in, float *out, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) out[i] = (float)tanh((double)in[i]);
}

void tinyeit_clamp_f32(const float *in, float *out, int32_t n, float lo, float hi)
{
    int32_t i;
    for (i = 0; i < n; ++i) out[i] = clamp_f(in[i], lo, hi);
}

void tinyeit_requant_s8(const int8_t *in, int8_t *out, int32_t n, int32_t in_zp, int32_t out_zp,
                        int32_t mult, int32_t shift, int32_t act_min, int32_t act_max)
{
    int32_t i;
    for (i = 0; i < n; ++i)
        out[i] = sat_s8(mbqm_fast((int32_t)in[i] - in_zp, mult, shift) + out_zp,
                        act_min, act_max);
}

void tinyeit_quantize_f32_s8(const float *in, int8_t *out, int32_t n, float scale, int32_t zp)
{
    int32_t i;
    for (i = 0; i < n; ++i)
        out[i] = sat_s8(round_to_i32_s8(roundf(in[i] / scale)) + zp, -128, 127);
}

void tinyeit_dequantize_s8_f32(const int8_t *in, float *out, int32_t n, float scale, int32_t zp)
{
    int32_t i;
    for (i = 0; i < n; ++i) out[i] = scale * (float)((int32_t)in[i] - zp);
}
