/* tinyeit reference kernels: data movement: pad, space/batch, concatenation, copy. Portable C99, the reference every target version is held
 * against and the fallback where a target has none. Written for this project from TFLite's
 * quantization specification; no code of other projects is copied here. */
#include "tinyeit_common.h"

#include <string.h>

/* 4D pad: dims outermost first; pad_value points at one element. */
void tinyeit_pad(const void *in, void *out, int32_t elem, const int32_t *in_dims,
                 const int32_t *before, const int32_t *out_dims, const void *pad_value)
{
    const uint8_t *src = (const uint8_t *)in;
    uint8_t *dst = (uint8_t *)out;
    int32_t i0, i1, i2, i3, k = 0;
    for (i0 = 0; i0 < out_dims[0]; ++i0)
    for (i1 = 0; i1 < out_dims[1]; ++i1)
    for (i2 = 0; i2 < out_dims[2]; ++i2)
    for (i3 = 0; i3 < out_dims[3]; ++i3, ++k) {
        const int32_t j0 = i0 - before[0], j1 = i1 - before[1];
        const int32_t j2 = i2 - before[2], j3 = i3 - before[3];
        if (j0 < 0 || j0 >= in_dims[0] || j1 < 0 || j1 >= in_dims[1] ||
            j2 < 0 || j2 >= in_dims[2] || j3 < 0 || j3 >= in_dims[3]) {
            memcpy(dst + (size_t)k * elem, pad_value, (size_t)elem);
        } else {
            const int32_t s = ((j0 * in_dims[1] + j1) * in_dims[2] + j2) * in_dims[3] + j3;
            memcpy(dst + (size_t)k * elem, src + (size_t)s * elem, (size_t)elem);
        }
    }
}

/* NHWC; out batch ob = (by * block_w + bx) * in_batches + b. */
void tinyeit_space_to_batch(const void *in, void *out, int32_t elem, const int32_t *in_dims,
                            const int32_t *out_dims, int32_t block_h, int32_t block_w,
                            int32_t pad_top, int32_t pad_left, const void *pad_value)
{
    const uint8_t *src = (const uint8_t *)in;
    uint8_t *dst = (uint8_t *)out;
    const int32_t in_b = in_dims[0], ch = in_dims[3];
    int32_t ob, oy, ox;
    for (ob = 0; ob < out_dims[0]; ++ob) {
        const int32_t b = ob % in_b, off = ob / in_b;
        const int32_t sy = off / block_w, sx = off % block_w;
        for (oy = 0; oy < out_dims[1]; ++oy)
        for (ox = 0; ox < out_dims[2]; ++ox) {
            const int32_t y = oy * block_h + sy - pad_top, x = ox * block_w + sx - pad_left;
            uint8_t *d = dst + (size_t)(((ob * out_dims[1] + oy) * out_dims[2] + ox) * ch) * elem;
            int32_t c;
            if (y < 0 || y >= in_dims[1] || x < 0 || x >= in_dims[2]) {
                for (c = 0; c < ch; ++c) memcpy(d + (size_t)c * elem, pad_value, (size_t)elem);
            } else {
                memcpy(d, src + (size_t)(((b * in_dims[1] + y) * in_dims[2] + x) * ch) * elem,
                       (size_t)(ch * elem));
            }
        }
    }
}

void tinyeit_batch_to_space(const void *in, void *out, int32_t elem, const int32_t *in_dims,
                            const int32_t *out_dims, int32_t block_h, int32_t block_w,
                            int32_t crop_top, int32_t crop_left)
{
    const uint8_t *src = (const uint8_t *)in;
    uint8_t *dst = (uint8_t *)out;
    const int32_t out_b = out_dims[0], ch = in_dims[3];
    int32_t ib, iy, ix;
    for (ib = 0; ib < in_dims[0]; ++ib) {
        const int32_t b = ib % out_b, off = ib / out_b;
        const int32_t sy = off / block_w, sx = off % block_w;
        for (iy = 0; iy < in_dims[1]; ++iy)
        for (ix = 0; ix < in_dims[2]; ++ix) {
            const int32_t y = iy * block_h + sy - crop_top, x = ix * block_w + sx - crop_left;
            if (y < 0 || y >= out_dims[1] || x < 0 || x >= out_dims[2]) continue;
            memcpy(dst + (size_t)(((b * out_dims[1] + y) * out_dims[2] + x) * ch) * elem,
                   src + (size_t)(((ib * in_dims[1] + iy) * in_dims[2] + ix) * ch) * elem,
                   (size_t)(ch * elem));
        }
    }
}

void tinyeit_concat(void *out, int32_t n_inputs, const void *const *inputs,
                    const int32_t *chunk_bytes, int32_t outer)
{
    uint8_t *dst = (uint8_t *)out;
    int32_t o, i;
    for (o = 0; o < outer; ++o)
        for (i = 0; i < n_inputs; ++i) {
            memcpy(dst, (const uint8_t *)inputs[i] + (size_t)o * chunk_bytes[i],
                   (size_t)chunk_bytes[i]);
            dst += chunk_bytes[i];
        }
}

void tinyeit_copy(const void *in, void *out, int32_t bytes)
{
    if (in != out) memmove(out, in, (size_t)bytes);
}
