// ONNX QuantizeLinear / DequantizeLinear over an [outer, axis, inner] view: per-tensor is axis length 1.
// Division (not a reciprocal multiply) and round-half-to-even, exactly as the ONNX reference computes them.
#include <math.h>
#include "cedge_qkernels.h"
#include "qconv_int8_plan.h"
#include "kernels_internal.h"

// These loops are bound by the division the ONNX definition asks for: on x86 the compiler also emits an AVX2
// clone (8 lanes instead of SSE2's 4) and an AVX-512 one (16), picked by the loader from cpuid. Same operations,
// same results.
#if defined(__x86_64__) && defined(__clang__) && defined(__linux__)
#define CEDGE_WIDE_LOOP __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CEDGE_WIDE_LOOP
#endif

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

CEDGE_WIDE_LOOP void cedge_quantize_linear(int out_kind, size_t outer, size_t axis_len, size_t inner, const float *x,
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

CEDGE_WIDE_LOOP void cedge_dequantize_linear(int in_kind, size_t outer, size_t axis_len, size_t inner, const void *q,
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

// One specialisation per (input type, output type): the loops have no branch and vectorize. Relu is a floor
// of 0 (v > 0 ? v : 0, as the Relu kernel), or -inf, which lets every finite sum through unchanged.
static inline __attribute__((always_inline)) float qadd_sum(int in_u8, const void *a, float sa, float za,
                                                             const void *b, float sb, float zb, float floor,
                                                             size_t i) {
    const float fa = in_u8 ? (float)((const uint8_t *)a)[i] : (float)((const int8_t *)a)[i];
    const float fb = in_u8 ? (float)((const uint8_t *)b)[i] : (float)((const int8_t *)b)[i];
    // Two dequantized values, then their sum (no fused multiply-add: the build turns contraction off).
    const float v = (fa - za) * sa + (fb - zb) * sb;
    return v > floor ? v : floor;
}

static inline __attribute__((always_inline)) void qadd_store(int out_u8, void *y, size_t i, float q) {
    if (out_u8) ((uint8_t *)y)[i] = (uint8_t)(int32_t)q;
    else ((int8_t *)y)[i] = (int8_t)(int32_t)q;
}

// From element `from` on (a SIMD path may have done the ones before).
static inline __attribute__((always_inline)) void qadd_loop(size_t from, size_t n, int in_u8, int out_u8, const void *a,
                                                            float sa, float za, const void *b, float sb, float zb,
                                                            float floor, float sy, float zy, void *y) {
    const float lo = out_u8 ? 0.0f : -128.0f, hi = out_u8 ? 255.0f : 127.0f;
    for (size_t i = from; i < n; i++)
        qadd_store(out_u8, y, i, quantize_one(qadd_sum(in_u8, a, sa, za, b, sb, zb, floor, i) / sy, zy, lo, hi));
}

// The sum left in float (a residual add whose output is not quantized again: the head's pool reads it).
static inline __attribute__((always_inline)) void qadd_float_loop(size_t n, int in_u8, const void *a, float sa,
                                                                  float za, const void *b, float sb, float zb,
                                                                  float floor, float *y) {
    for (size_t i = 0; i < n; i++) y[i] = qadd_sum(in_u8, a, sa, za, b, sb, zb, floor, i);
}

// QuantizeLinear(Relu?(DequantizeLinear(a) + DequantizeLinear(b))) in one pass, with the float operations of
// the three (or four) separate nodes in the same order, so the bytes equal the unfused graph's; or, with a
// float output, the sum itself. The requantized loop's leading elements go to the int8 path's SIMD body.
CEDGE_WIDE_LOOP static void qadd_range(size_t n, int in_kind, const void *a, float a_scale, int a_zero, const void *b,
                                        float b_scale, int b_zero, int relu, int out_kind, float y_scale, int y_zero,
                                        void *y) {
    const float za = (float)a_zero, zb = (float)b_zero, zy = (float)y_zero;
    const float floor = relu ? 0.0f : -INFINITY;
    const int in_u8 = in_kind == CEDGE_Q_UINT8, out_u8 = out_kind == CEDGE_Q_UINT8;
    if (out_kind == CEDGE_Q_FLOAT32) {
        if (in_u8) qadd_float_loop(n, 1, a, a_scale, za, b, b_scale, zb, floor, (float *)y);
        else qadd_float_loop(n, 0, a, a_scale, za, b, b_scale, zb, floor, (float *)y);
        return;
    }
    const cedge_qdirect_path *path = cedge_qpath_active();
    const size_t from = path->add ? path->add(n, in_u8, out_u8, a, a_scale, za, b, b_scale, zb, floor, y_scale, y_zero, y) : 0;
    if (in_u8 && out_u8) qadd_loop(from, n, 1, 1, a, a_scale, za, b, b_scale, zb, floor, y_scale, zy, y);
    else if (in_u8) qadd_loop(from, n, 1, 0, a, a_scale, za, b, b_scale, zb, floor, y_scale, zy, y);
    else if (out_u8) qadd_loop(from, n, 0, 1, a, a_scale, za, b, b_scale, zb, floor, y_scale, zy, y);
    else qadd_loop(from, n, 0, 0, a, a_scale, za, b, b_scale, zb, floor, y_scale, zy, y);
}

// The pool's share of cedge_qadd: elements [task * chunk, +chunk).
typedef struct {
    size_t n, chunk;
    int in_kind, a_zero, b_zero, relu, out_kind, y_zero;
    const void *a, *b;
    float a_scale, b_scale, y_scale;
    void *y;
} qadd_job;

static void qadd_task(void *vctx, int task, int tid) {
    (void)tid;
    const qadd_job *j = vctx;
    const size_t i0 = (size_t)task * j->chunk, m = j->n - i0 < j->chunk ? j->n - i0 : j->chunk;
    const size_t out_size = j->out_kind == CEDGE_Q_FLOAT32 ? sizeof(float) : 1;
    qadd_range(m, j->in_kind, (const uint8_t *)j->a + i0, j->a_scale, j->a_zero, (const uint8_t *)j->b + i0,
               j->b_scale, j->b_zero, j->relu, j->out_kind, j->y_scale, j->y_zero, (uint8_t *)j->y + i0 * out_size);
}

// Split on the pool from QADD_MIN_SPLIT elements (a batch-1 block of the edge model, 28x28x16, took 1.4 us on
// one thread while the other waited), in shares of whole 64-byte lines.
#define QADD_MIN_SPLIT 8192
#define QADD_CHUNK 65536

void cedge_qadd(size_t n, int in_kind, const void *a, float a_scale, int a_zero, const void *b, float b_scale,
                int b_zero, int relu, int out_kind, float y_scale, int y_zero, void *y) {
    const int width = cedge_pool_width();
    if (width <= 1 || n < QADD_MIN_SPLIT) {
        qadd_range(n, in_kind, a, a_scale, a_zero, b, b_scale, b_zero, relu, out_kind, y_scale, y_zero, y);
        return;
    }
    size_t chunk = (n + (size_t)width - 1) / (size_t)width;
    if (chunk > QADD_CHUNK) chunk = QADD_CHUNK;
    chunk = (chunk + 63) & ~(size_t)63;
    qadd_job j = {n, chunk, in_kind, a_zero, b_zero, relu, out_kind, y_zero, a, b, a_scale, b_scale, y_scale, y};
    cedge_parallel_for((int)((n + chunk - 1) / chunk), qadd_task, &j);
}
