// int8 kernels: quantized convolution / matrix product with int32 accumulation and a per-channel float
// requantization epilogue, plus ONNX QuantizeLinear / DequantizeLinear loops. Portable C is the reference;
// AVX2 (x86) and NEON / NEON dot-product (ARM) dot tiles are picked at run time and are bit-exact with it
// (they only compute the exact int32 sums; the epilogue is shared scalar C).
#ifndef CEDGE_QKERNELS_H
#define CEDGE_QKERNELS_H
#include <stddef.h>
#include <stdint.h>
#include "cedge_kernels.h"

typedef enum { CEDGE_Q_UINT8 = 0, CEDGE_Q_INT8 = 1, CEDGE_Q_FLOAT32 = 2 } cedge_q_kind;

// y[b, m, pixel] = requant(sum_k (x - x_zero) * w[m, k]): v = fmaf((float)acc, mult[m], bias[m]),
// clamped to [out_lo, out_hi], then for quantized outputs round-half-even(v) + out_zero. out_lo/out_hi are in
// the "v" domain (quantized value minus zero point; the caller folds Relu/Clip and the type's range in).
typedef struct {
    cedge_conv_desc conv;   // geometry; its clamp fields are ignored
    int in_kind;            // CEDGE_Q_UINT8 or CEDGE_Q_INT8
    int in_zero;
    int out_kind;           // any cedge_q_kind
    int out_zero;
    float out_lo, out_hi;
} cedge_qconv_desc;

// Bytes of the packed weights for this geometry and the int32 row sums: weights are repacked once at plan
// time (zero-padded rows and K, per group) so kernels never branch on edges; the ONNX tensor is untouched.
size_t cedge_qconv_packed_bytes(const cedge_qconv_desc *d);
size_t cedge_qconv_rowsum_count(const cedge_qconv_desc *d);
// w: [out_channels, in_channels/groups, k...] int8, as in ONNX.
void cedge_qconv_pack(const cedge_qconv_desc *d, const int8_t *w, int8_t *packed, int32_t *rowsum);
// x: uint8 or int8 NCHW; y: uint8, int8 or float NCHW; mult/bias: [out_channels].
void cedge_qconv_run(const cedge_qconv_desc *d, const void *x, const int8_t *packed, const int32_t *rowsum,
                     const float *mult, const float *bias, void *y);
// The obviously-right loops straight from the definition (no packing, no tiles): what tests compare with.
void cedge_qconv_reference(const cedge_qconv_desc *d, const void *x, const int8_t *w, const float *mult,
                           const float *bias, void *y);

// Name of the int8 dot path in force ("avx2", "neon", "neon-dotprod", "generic").
const char *cedge_qkernel_isa(void);
// Selects an int8 path by name ("auto" or NULL = best); returns -1 when this CPU cannot run it.
int cedge_qkernel_select(const char *name);

// ONNX QuantizeLinear over [outer, axis_len, inner] (per-tensor: axis_len 1): q = saturate(rne(x / s) + z).
// scale and zero have axis_len entries; zero may be NULL (0).
void cedge_quantize_linear(int out_kind, size_t outer, size_t axis_len, size_t inner, const float *x,
                           const float *scale, const void *zero, void *y);
// ONNX DequantizeLinear: y = (q - z) * s; in_kind CEDGE_Q_UINT8 / CEDGE_Q_INT8 or 3 for int32.
void cedge_dequantize_linear(int in_kind, size_t outer, size_t axis_len, size_t inner, const void *q,
                             const float *scale, const void *zero, float *y);
// Residual add of two quantized tensors of n elements (same shape, same type in_kind), optionally through Relu,
// requantized: y = QuantizeLinear(Relu?(DequantizeLinear(a) + DequantizeLinear(b)), y_scale, y_zero), or with
// out_kind CEDGE_Q_FLOAT32 the float sum itself (y_scale, y_zero unused).
void cedge_qadd(size_t n, int in_kind, const void *a, float a_scale, int a_zero, const void *b, float b_scale,
                int b_zero, int relu, int out_kind, float y_scale, int y_zero, void *y);
#endif
