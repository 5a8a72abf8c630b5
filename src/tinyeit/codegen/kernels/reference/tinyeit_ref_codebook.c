/* tinyeit reference kernels: codebook fully connected (int8, float), the layout of
 * tinyeit_kernels.h for clustered weights: 4-bit indices into a table of 16 values, looked up
 * in the inner loop. Portable C99; written for this project, no code of other projects is
 * copied here. */
#include "tinyeit_common.h"

void TINYEIT_REF_FC_S8_CB(const int8_t *in, const uint8_t *codes, const int8_t *table,
                          int32_t table_stride, const int32_t *bias, const int32_t *mult,
                      const int32_t *shift, const int8_t *post, int8_t *out,
                      const tinyeit_fc_params *p)
{
    const tinyeit_fc_params P = *p;
    const int32_t n = P.in_dim, pairs = n >> 1, row = (n + 1) >> 1;
    int32_t b, u, k;
    for (b = 0; b < P.batches; ++b) {
        const int8_t *x = in + b * n;
        int8_t *o = out + b * P.units;
        for (u = 0; u < P.units; ++u) {
            const int8_t *t = table + u * table_stride;
            const uint8_t *c = codes + u * row;
            int32_t acc = bias[u];
            for (k = 0; k < pairs; ++k) {
                const uint32_t code = c[k];
                acc += (int32_t)x[2 * k] * t[code & 15u] + (int32_t)x[2 * k + 1] * t[code >> 4];
            }
            if (n & 1) acc += (int32_t)x[n - 1] * t[c[pairs] & 15u];
            o[u] = epilogue_s8(acc, mult[u], shift[u], P.single_round, P.cheap_rq, P.out_offset,
                               P.act_min, P.act_max, post ? post + u * P.post_len : NULL);
        }
    }
}

void TINYEIT_REF_FC_F32_CB(const float *in, const uint8_t *codes, const float *table,
                           int32_t table_stride, const float *bias, float *out,
                       const tinyeit_fc_params *p)
{
    const tinyeit_fc_params P = *p;
    const int32_t n = P.in_dim, pairs = n >> 1, row = (n + 1) >> 1;
    int32_t b, u, k;
    for (b = 0; b < P.batches; ++b) {
        const float *x = in + b * n;
        float *o = out + b * P.units;
        for (u = 0; u < P.units; ++u) {
            const float *t = table + u * table_stride;
            const uint8_t *c = codes + u * row;
            float acc = 0.0f;
            for (k = 0; k < pairs; ++k) {
                const uint32_t code = c[k];
                acc += x[2 * k] * t[code & 15u];
                acc += x[2 * k + 1] * t[code >> 4];
            }
            if (n & 1) acc += x[n - 1] * t[c[pairs] & 15u];
            if (bias) acc += bias[u];
            o[u] = clamp_f(acc, P.f_min, P.f_max);
        }
    }
}

/* The codebook expansion into RAM (tinyeit_kernels.h), for every target: one pass at start-up,
 * not timed with the inferences; written for size, not speed. */
void tinyeit_cb_expand(uint8_t *dst, uint32_t size, const uint8_t *codes, const uint8_t *rows,
                       const uint16_t *segments, uint32_t n_records, const uint8_t *patterns)
{
    uint32_t i = 0, c = 0, s = 0;
    while (s < n_records) {
        uint32_t reps = 1, length = 1, stride = 0, first = s, r, t;
        if (segments[4 * s] == 0) { /* a group record: the next `length` segments, repeated */
            reps = segments[4 * s + 1];
            length = segments[4 * s + 2];
            stride = segments[4 * s + 3];
            first = s + 1;
        }
        s = first + length;
        for (r = 0; r < reps; ++r) {
            for (t = first; t < first + length; ++t) {
                const uint16_t *seg = segments + 4 * t;
                const uint8_t *pat = patterns + seg[2];
                const uint32_t count = seg[0], plen = seg[1];
                const uint32_t base = (uint32_t)seg[3] + r * stride;
                uint32_t j, k = 0;
                for (j = 0; j < count && i < size; ++j, ++i) {
                    const uint32_t v = pat[k];
                    if (v >= 0xF0u) {  /* padding: its byte, no code */
                        dst[i] = patterns[v - 0xF0u];
                    } else {
                        const uint32_t code = (uint32_t)(codes[c >> 1] >> ((c & 1u) * 4u)) & 15u;
                        dst[i] = rows[16u * (base + v) + code];
                        ++c;
                    }
                    if (++k == plen) k = 0;
                }
            }
        }
    }
}

/* After tinyeit_cb_expand of the unit-pair layout: each 16-bit lane a + 256 b was written as
 * the bytes (a, b); its high byte takes the low byte's borrow, b - (a < 0). */
void tinyeit_cb_pairs_borrow(uint8_t *dst, uint32_t size)
{
    uint32_t i;
    for (i = 0; i + 1 < size; i += 2)
        dst[i + 1] = (uint8_t)(dst[i + 1] - (dst[i] >> 7));
}
