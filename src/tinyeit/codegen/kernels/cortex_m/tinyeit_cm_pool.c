/* Cortex-M DSP int8 max pool: tinyeit_maxpool_s8 on four channels per word. SSUB8 sets the
 * four GE flags to a_i >= b_i (signed bytes) and SEL then takes a_i where set, b_i elsewhere:
 * the bytewise max in two instructions (the min with the operands of SEL swapped). Max and min
 * are exact, and the order of the taps does not matter for them, so the result is the
 * reference's (tinyeit_maxpool_s8_ref) bit for bit; a window with no tap gives -128 as there.
 * Channels are innermost (NHWC): per output position, its taps' rows are read a word at a time
 * (unaligned words: the M4 allows LDR/STR at any address), the last ch % 4 channels one by one. */
#include "tinyeit_common.h"

#if defined(TINYEIT_CORTEX_M_DSP) && defined(TINYEIT_TARGET_MAXPOOL_S8)
#include "tinyeit_cm_dot.h"

static inline uint32_t cm_max8(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %1, %2" : "=&r"(r) : "r"(a), "r"(b) : "cc");
    return r;
}

static inline uint32_t cm_min8(uint32_t a, uint32_t b)
{
    uint32_t r;
    __asm__("ssub8 %0, %1, %2\n\tsel %0, %2, %1" : "=&r"(r) : "r"(a), "r"(b) : "cc");
    return r;
}

static inline void cm_write32(int8_t *p, uint32_t v) { memcpy(p, &v, sizeof v); }

#define TINYEIT_POOL_TAPS_MAX 16

/* The 1D nets' pool: three taps along the width, every window inside one input row. Per output
 * position, the taps are the rows x, x + C and x + 2C. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static void cm_maxpool3_row(const int8_t *x, int8_t *o, int32_t n_out, int32_t C, int32_t step)
{
    const int32_t C4 = C & ~3;
    int32_t i, c;
    for (i = 0; i < n_out; ++i, x += step, o += C) {
        const int8_t *r1 = x + C, *r2 = x + 2 * C;
        for (c = 0; c < C4; c += 4)
            cm_write32(o + c, cm_max8(cm_max8(cm_read32(x + c), cm_read32(r1 + c)),
                                      cm_read32(r2 + c)));
        for (; c < C; ++c) {
            const int8_t m = x[c] > r1[c] ? x[c] : r1[c];
            o[c] = r2[c] > m ? r2[c] : m;
        }
    }
}

void tinyeit_maxpool_s8(const int8_t *in, int8_t *out, const tinyeit_pool_params *p)
{
    const tinyeit_pool_params P = *p;
    const int32_t C = P.ch, C4 = C & ~3;
    const int clamp = P.act_min > -128 || P.act_max < 127;
    const uint32_t lo4 = 0x01010101u * (uint8_t)P.act_min, hi4 = 0x01010101u * (uint8_t)P.act_max;
    int32_t b, oy, ox, ky, kx, c, full = 0, rest = 0;
    if (P.k_h * P.k_w > TINYEIT_POOL_TAPS_MAX) {
        tinyeit_maxpool_s8_ref(in, out, p);
        return;
    }
    /* 1D pooling, 3 taps along the width, no padding before: the positions whose window lies
     * inside the row in cm_maxpool3_row, the rest (a SAME pool's last) below */
    if (P.k_h == 1 && P.k_w == 3 && P.pad_w == 0 && P.pad_h == 0 && !clamp &&
        (P.out_h - 1) * P.stride_h < P.in_h && P.stride_w > 0 && P.in_w >= 3) {
        full = TINYEIT_MIN(P.out_w, (P.in_w - 3) / P.stride_w + 1);
        for (b = 0; b < P.batches; ++b)
            for (oy = 0; oy < P.out_h; ++oy) {
                const int8_t *x = in + (b * P.in_h + oy * P.stride_h) * P.in_w * C;
                int8_t *o = out + (b * P.out_h + oy) * P.out_w * C;
                cm_maxpool3_row(x, o, full, C, P.stride_w * C);
                /* a SAME pool's last windows: 2 taps, 1 tap (0 taps: the generic loop) */
                for (ox = full; ox < P.out_w && P.in_w - ox * P.stride_w >= 1; ++ox) {
                    const int8_t *r0 = x + ox * P.stride_w * C;
                    int8_t *d = o + ox * C;
                    if (P.in_w - ox * P.stride_w >= 2) {
                        const int8_t *r1 = r0 + C;
                        for (c = 0; c < C4; c += 4)
                            cm_write32(d + c, cm_max8(cm_read32(r0 + c), cm_read32(r1 + c)));
                        for (; c < C; ++c) d[c] = r0[c] > r1[c] ? r0[c] : r1[c];
                    } else {
                        memcpy(d, r0, (size_t)C);
                    }
                }
                if (b == 0 && oy == 0) rest = ox;
            }
        full = rest;
    }
    for (b = 0; b < P.batches; ++b)
    for (oy = 0; oy < P.out_h; ++oy)
    for (ox = full; ox < P.out_w; ++ox) {
        const int32_t y0 = oy * P.stride_h - P.pad_h, x0 = ox * P.stride_w - P.pad_w;
        const int32_t ky0 = TINYEIT_MAX(0, -y0), ky1 = TINYEIT_MIN(P.k_h, P.in_h - y0);
        const int32_t kx0 = TINYEIT_MAX(0, -x0), kx1 = TINYEIT_MIN(P.k_w, P.in_w - x0);
        int8_t *o = out + ((b * P.out_h + oy) * P.out_w + ox) * C;
        const int8_t *row[TINYEIT_POOL_TAPS_MAX];
        int32_t n = 0, t;
        for (ky = ky0; ky < ky1; ++ky)
            for (kx = kx0; kx < kx1; ++kx)
                row[n++] = in + ((b * P.in_h + y0 + ky) * P.in_w + x0 + kx) * C;
        if (n == 0) {
            memset(o, 0x80, (size_t)C);
        } else if (n == 3) {  /* the 1D nets' window */
            const int8_t *r0 = row[0], *r1 = row[1], *r2 = row[2];
            for (c = 0; c < C4; c += 4)
                cm_write32(o + c, cm_max8(cm_max8(cm_read32(r0 + c), cm_read32(r1 + c)),
                                          cm_read32(r2 + c)));
            for (; c < C; ++c) {
                int8_t m = r0[c] > r1[c] ? r0[c] : r1[c];
                o[c] = r2[c] > m ? r2[c] : m;
            }
        } else if (n == 2) {
            const int8_t *r0 = row[0], *r1 = row[1];
            for (c = 0; c < C4; c += 4)
                cm_write32(o + c, cm_max8(cm_read32(r0 + c), cm_read32(r1 + c)));
            for (; c < C; ++c) o[c] = r0[c] > r1[c] ? r0[c] : r1[c];
        } else {
            for (c = 0; c < C4; c += 4) {
                uint32_t m = cm_read32(row[0] + c);
                for (t = 1; t < n; ++t) m = cm_max8(m, cm_read32(row[t] + c));
                cm_write32(o + c, m);
            }
            for (; c < C; ++c) {
                int8_t m = row[0][c];
                for (t = 1; t < n; ++t) m = row[t][c] > m ? row[t][c] : m;
                o[c] = m;
            }
        }
        if (clamp) {
            for (c = 0; c < C4; c += 4)
                cm_write32(o + c, cm_min8(cm_max8(cm_read32(o + c), lo4), hi4));
            for (; c < C; ++c) o[c] = sat_s8(o[c], P.act_min, P.act_max);
        }
    }
}
#endif
