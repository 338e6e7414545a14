// Internals shared by the int8 kernels: the 4x4 dot tile of the im2col path, and the direct path's
// tile kernel and requantizing store, which every instruction set implements or includes.
#ifndef CEDGE_QKERNELS_INTERNAL_H
#define CEDGE_QKERNELS_INTERNAL_H
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include "cedge_qkernels.h"

// ---- im2col path (3-D and grouped convolutions) -----------------------------------------------------------
// Rows and columns of one tile, and the K granule (packed rows and patches are padded with zeros to it).
#define CEDGE_QTILE 4
#define CEDGE_QK_ALIGN 16

// acc[r * 4 + c] = sum_{k < kpad} w[r * kpad + k] * p[c * kpad + k]; kpad is a multiple of 16, exact int32.
typedef void (*cedge_qdot_fn)(int kpad, const int8_t *w, const int8_t *p, int32_t *acc);

void cedge_qdot_generic(int kpad, const int8_t *w, const int8_t *p, int32_t *acc);
#if defined(__x86_64__) || defined(__i386__)
void cedge_qdot_avx2(int kpad, const int8_t *w, const int8_t *p, int32_t *acc);
#endif
#if defined(__aarch64__) || defined(__ARM_NEON)
void cedge_qdot_neon(int kpad, const int8_t *w, const int8_t *p, int32_t *acc);
#endif
#if defined(__aarch64__)
void cedge_qdot_neon_dotprod(int kpad, const int8_t *w, const int8_t *p, int32_t *acc);
#endif

// ---- direct path (1-D/2-D, one group) ---------------------------------------------------------------------
// The input is repacked into channel quads: 4 channels' bytes of one pixel side by side, pixels of a row
// contiguous. A tap t (channel quad, kh, kw) of 8 consecutive output pixels is then the 32 contiguous bytes at
// seg + off[t]. Weights are packed per tile of 8 output channels as [tap][row][4 bytes], so one tap of a tile
// is 32 bytes too. A kernel computes an 8-row x (nseg * 8)-pixel tile of exact int32 sums and stores it
// through cedge_qstore_tile.
#define CEDGE_QMR 8        // output channels per tile
#define CEDGE_QNR 8        // output pixels per segment
#define CEDGE_QSEG 4       // segments per kernel call

typedef struct {
    int ntaps;
    const int32_t *off;     // byte offset of each tap from a segment's base
    int out_kind, out_zero;
    float lo, hi;           // clamp bounds in the requantized domain (see cedge_qconv_desc)
    size_t out_cs, out_ws;  // output element strides between channels and between pixels
} cedge_qdirect_args;

typedef struct {
    const uint8_t *seg[CEDGE_QSEG];   // segment bases in the repacked input
    void *out[CEDGE_QSEG];            // output element of the tile's first channel, segment's first pixel
    int n[CEDGE_QSEG];                // valid pixels of each segment (1..8)
    int nseg;
} cedge_qsegs;

// rows: valid channels of the tile (1..8); corr/mult/bias: that tile's per-channel zero-point correction
// (zero point x row sum), multiplier and bias.
typedef void (*cedge_qdirect_fn)(const cedge_qdirect_args *a, const cedge_qsegs *s, const int8_t *w, int rows,
                                 const int32_t *corr, const float *mult, const float *bias);

void cedge_qdirect_generic(const cedge_qdirect_args *a, const cedge_qsegs *s, const int8_t *w, int rows,
                           const int32_t *corr, const float *mult, const float *bias);
#if defined(__x86_64__)
void cedge_qdirect_avx2(const cedge_qdirect_args *a, const cedge_qsegs *s, const int8_t *w, int rows,
                        const int32_t *corr, const float *mult, const float *bias);
void cedge_qdirect_avx512vnni(const cedge_qdirect_args *a, const cedge_qsegs *s, const int8_t *w, int rows,
                              const int32_t *corr, const float *mult, const float *bias);
#endif
#if defined(__aarch64__) || defined(__ARM_NEON)
void cedge_qdirect_neon(const cedge_qdirect_args *a, const cedge_qsegs *s, const int8_t *w, int rows,
                        const int32_t *corr, const float *mult, const float *bias);
#endif
#if defined(__aarch64__)
void cedge_qdirect_neon_dotprod(const cedge_qdirect_args *a, const cedge_qsegs *s, const int8_t *w, int rows,
                                const int32_t *corr, const float *mult, const float *bias);
#endif

// ---- requantized residual add (cedge_qadd) ------------------------------------------------------------------
// A SIMD body of the scalar loop in qdq_int8.c, bit-exact with it: does the first elements (a multiple of its
// step) and returns how many; in_u8 / out_u8 pick uint8 over int8; floor is 0 (Relu) or -inf.
typedef size_t (*cedge_qadd_fn)(size_t n, int in_u8, int out_u8, const void *a, float sa, float za, const void *b,
                                float sb, float zb, float floor, float sy, int zy, void *y);
#if defined(__x86_64__)
size_t cedge_qadd_avx2(size_t n, int in_u8, int out_u8, const void *a, float sa, float za, const void *b, float sb,
                       float zb, float floor, float sy, int zy, void *y);
size_t cedge_qadd_avx512(size_t n, int in_u8, int out_u8, const void *a, float sa, float za, const void *b, float sb,
                         float zb, float floor, float sy, int zy, void *y);
#endif

// One requantized value: the single definition every path and the reference share. fmaf is exactly rounded
// on every target (an instruction where the ISA has one), so all paths agree bit for bit.
static inline float cedge_qrequant(int32_t acc, float mult, float bias, float lo, float hi) {
    float v = fmaf((float)acc, mult, bias);
    if (v < lo) v = lo;
    if (v > hi) v = hi;
    return v;
}
// Adding and removing 1.5 * 2^23 rounds half to even in the default rounding mode on every target, without a
// libm call (v is clamped to the output type's range, far below 2^22).
static inline int32_t cedge_qround(float v) { return (int32_t)((v + 12582912.0f) - 12582912.0f); }

// Stores a tile of sums acc[r * ld + s * 8 + j]. Inlined into each ISA's kernel, so the loops are compiled
// (and vectorized, with hardware FMA) for that ISA; the output type is decided once per row, not per value.
static inline void cedge_qstore_tile(const cedge_qdirect_args *a, const cedge_qsegs *s, const int32_t *acc,
                                     int ld, int rows, const int32_t *corr, const float *mult,
                                     const float *bias) {
    const float lo = a->lo, hi = a->hi;
    const int zero = a->out_zero, kind = a->out_kind;
    const size_t cs = a->out_cs, ws = a->out_ws;
    for (int g = 0; g < s->nseg; g++) {
        const int n = s->n[g];
        for (int r = 0; r < rows; r++) {
            const int32_t *src = acc + (size_t)r * ld + g * CEDGE_QNR;
            const int32_t c = corr[r];
            const float m = mult[r], b = bias[r];
            if (kind == CEDGE_Q_UINT8) {
                uint8_t *dst = (uint8_t *)s->out[g] + (size_t)r * cs;
                for (int j = 0; j < n; j++) dst[j * ws] = (uint8_t)(cedge_qround(cedge_qrequant(src[j] - c, m, b, lo, hi)) + zero);
            } else if (kind == CEDGE_Q_INT8) {
                int8_t *dst = (int8_t *)s->out[g] + (size_t)r * cs;
                for (int j = 0; j < n; j++) dst[j * ws] = (int8_t)(cedge_qround(cedge_qrequant(src[j] - c, m, b, lo, hi)) + zero);
            } else {
                float *dst = (float *)s->out[g] + (size_t)r * cs;
                for (int j = 0; j < n; j++) dst[j * ws] = cedge_qrequant(src[j] - c, m, b, lo, hi);
            }
        }
    }
}
#endif
