// ONNX QuantizeLinear / DequantizeLinear over an [outer, axis, inner] view: per-tensor is axis length 1.
// Division (not a reciprocal multiply) and round-half-to-even, exactly as the ONNX reference computes them.
#include <math.h>
#include "cedge_qkernels.h"

static int32_t zero_at(int kind, const void *zero, size_t a) {
    if (!zero) return 0;
    switch (kind) {
    case CEDGE_Q_UINT8: return ((const uint8_t *)zero)[a];
    case CEDGE_Q_INT8: return ((const int8_t *)zero)[a];
    default: return ((const int32_t *)zero)[a];
    }
}

// rne(v) + z saturated to [lo, hi], as the ONNX reference computes it. v is first clamped to [lo - z - 1,
// hi - z + 1], which changes no result (anything beyond saturates either way; NaN goes to lo as before) and
// keeps |v| far below 2^22, where adding and removing 1.5 * 2^23 rounds half to even without a libm call.
static inline float quantize_one(float v, float z, float lo, float hi) {
    const float a = lo - z - 1.0f, b = hi - z + 1.0f;
    v = v >= a ? v : a;
    v = v <= b ? v : b;
    v = ((v + 12582912.0f) - 12582912.0f) + z;
    v = v >= lo ? v : lo;
    return v <= hi ? v : hi;
}

void cedge_quantize_linear(int out_kind, size_t outer, size_t axis_len, size_t inner, const float *x,
                           const float *scale, const void *zero, void *y) {
    const float lo = out_kind == CEDGE_Q_UINT8 ? 0.0f : -128.0f;
    const float hi = out_kind == CEDGE_Q_UINT8 ? 255.0f : 127.0f;
    size_t i = 0;
    for (size_t o = 0; o < outer; o++)
        for (size_t a = 0; a < axis_len; a++, i += inner) {
            const float s = scale[a];
            const float z = (float)zero_at(out_kind, zero, a);
            // Division (not a reciprocal multiply), as the reference.
            if (out_kind == CEDGE_Q_UINT8) {
                uint8_t *dst = (uint8_t *)y + i;
                for (size_t n = 0; n < inner; n++) dst[n] = (uint8_t)(int32_t)quantize_one(x[i + n] / s, z, lo, hi);
            } else {
                int8_t *dst = (int8_t *)y + i;
                for (size_t n = 0; n < inner; n++) dst[n] = (int8_t)(int32_t)quantize_one(x[i + n] / s, z, lo, hi);
            }
        }
}

void cedge_dequantize_linear(int in_kind, size_t outer, size_t axis_len, size_t inner, const void *q,
                             const float *scale, const void *zero, float *y) {
    size_t i = 0;
    for (size_t o = 0; o < outer; o++)
        for (size_t a = 0; a < axis_len; a++, i += inner) {
            const float s = scale[a];
            // As the ONNX reference: both converted to float first (matters for large int32 values).
            const float z = (float)zero_at(in_kind, zero, a);
            float *dst = y + i;
            if (in_kind == CEDGE_Q_UINT8) {
                const uint8_t *src = (const uint8_t *)q + i;
                for (size_t n = 0; n < inner; n++) dst[n] = ((float)src[n] - z) * s;
            } else if (in_kind == CEDGE_Q_INT8) {
                const int8_t *src = (const int8_t *)q + i;
                for (size_t n = 0; n < inner; n++) dst[n] = ((float)src[n] - z) * s;
            } else {
                const int32_t *src = (const int32_t *)q + i;
                for (size_t n = 0; n < inner; n++) dst[n] = ((float)src[n] - z) * s;
            }
        }
}

static inline float dq_at(int kind, const void *q, size_t i, float z, float s) {
    const float v = kind == CEDGE_Q_UINT8 ? (float)((const uint8_t *)q)[i] : (float)((const int8_t *)q)[i];
    return (v - z) * s;
}

// QuantizeLinear(Relu?(DequantizeLinear(a) + DequantizeLinear(b))) in one pass, with the float operations of
// the three (or four) separate nodes in the same order, so the bytes equal the unfused graph's.
void cedge_qadd(size_t n, int in_kind, const void *a, float a_scale, int a_zero, const void *b, float b_scale,
                int b_zero, int relu, int out_kind, float y_scale, int y_zero, void *y) {
    const float lo = out_kind == CEDGE_Q_UINT8 ? 0.0f : -128.0f;
    const float hi = out_kind == CEDGE_Q_UINT8 ? 255.0f : 127.0f;
    const float za = (float)a_zero, zb = (float)b_zero, zy = (float)y_zero;
    for (size_t i = 0; i < n; i++) {
        float v = dq_at(in_kind, a, i, za, a_scale) + dq_at(in_kind, b, i, zb, b_scale);
        if (relu) v = v > 0 ? v : 0;
        const float q = quantize_one(v / y_scale, zy, lo, hi);
        if (out_kind == CEDGE_Q_UINT8) ((uint8_t *)y)[i] = (uint8_t)(int32_t)q;
        else ((int8_t *)y)[i] = (int8_t)(int32_t)q;
    }
}
