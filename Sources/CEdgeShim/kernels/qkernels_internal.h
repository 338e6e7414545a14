// Internals shared by the int8 kernels: the 4x4 dot tile every instruction set implements.
#ifndef CEDGE_QKERNELS_INTERNAL_H
#define CEDGE_QKERNELS_INTERNAL_H
#include <stddef.h>
#include <stdint.h>

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
#endif
