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

void cedge_quantize_linear(int out_kind, size_t outer, size_t axis_len, size_t inner, const float *x,
                           const float *scale, const void *zero, void *y) {
    const float lo = out_kind == CEDGE_Q_UINT8 ? 0.0f : -128.0f;
    const float hi = out_kind == CEDGE_Q_UINT8 ? 255.0f : 127.0f;
    size_t i = 0;
    for (size_t o = 0; o < outer; o++)
        for (size_t a = 0; a < axis_len; a++) {
            const float s = scale[a];
            const float z = (float)zero_at(out_kind, zero, a);
            for (size_t n = 0; n < inner; n++, i++) {
                float v = nearbyintf(x[i] / s) + z;
                // NaN saturates to the low end rather than being undefined in the conversion.
                v = v >= lo ? v : lo;
                v = v <= hi ? v : hi;
                if (out_kind == CEDGE_Q_UINT8) ((uint8_t *)y)[i] = (uint8_t)v;
                else ((int8_t *)y)[i] = (int8_t)v;
            }
        }
}

void cedge_dequantize_linear(int in_kind, size_t outer, size_t axis_len, size_t inner, const void *q,
                             const float *scale, const void *zero, float *y) {
    size_t i = 0;
    for (size_t o = 0; o < outer; o++)
        for (size_t a = 0; a < axis_len; a++) {
            const float s = scale[a];
            const int32_t z = zero_at(in_kind, zero, a);
            for (size_t n = 0; n < inner; n++, i++) {
                int32_t v;
                switch (in_kind) {
                case CEDGE_Q_UINT8: v = ((const uint8_t *)q)[i]; break;
                case CEDGE_Q_INT8: v = ((const int8_t *)q)[i]; break;
                default: v = ((const int32_t *)q)[i]; break;
                }
                // As the ONNX reference: both converted to float first (matters for large int32 values).
                y[i] = ((float)v - (float)z) * s;
            }
        }
}
