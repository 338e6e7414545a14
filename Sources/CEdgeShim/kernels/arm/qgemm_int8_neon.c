// NEON int8 dot tiles. The baseline tile multiplies with vmull_s8 (exact int16 products) and accumulates
// pairs into int32 with vpadal, on aarch64 and armv7 alike; the SDOT tile (ARMv8.2 dot product) is compiled
// with a target attribute and only chosen when getauxval reports HWCAP_ASIMDDP.
#if defined(__aarch64__) || defined(__ARM_NEON)
#include <arm_neon.h>
#include "../qkernels_internal.h"

static inline int32_t hsum_s32(int32x4_t v) {
#if defined(__aarch64__)
    return vaddvq_s32(v);
#else
    int32x2_t s = vadd_s32(vget_low_s32(v), vget_high_s32(v));
    return vget_lane_s32(vpadd_s32(s, s), 0);
#endif
}

static inline int32x4_t mac16(int32x4_t acc, int8x16_t a, int8x16_t b) {
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    return vpadalq_s16(acc, vmull_s8(vget_high_s8(a), vget_high_s8(b)));
}

// Two weight rows against four patches: 8 accumulators + 6 operands fit armv7's 16 q registers too.
static void tile_2x4(int kpad, const int8_t *w, const int8_t *p, int32_t *acc, int row0) {
    int32x4_t a[2][4];
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 4; c++) a[r][c] = vdupq_n_s32(0);
    const int8_t *w0 = w + (size_t)row0 * kpad, *w1 = w0 + kpad;
    for (int k = 0; k < kpad; k += 16) {
        int8x16_t x0 = vld1q_s8(p + k), x1 = vld1q_s8(p + kpad + k);
        int8x16_t x2 = vld1q_s8(p + 2 * (size_t)kpad + k), x3 = vld1q_s8(p + 3 * (size_t)kpad + k);
        int8x16_t v0 = vld1q_s8(w0 + k), v1 = vld1q_s8(w1 + k);
        a[0][0] = mac16(a[0][0], v0, x0);
        a[0][1] = mac16(a[0][1], v0, x1);
        a[0][2] = mac16(a[0][2], v0, x2);
        a[0][3] = mac16(a[0][3], v0, x3);
        a[1][0] = mac16(a[1][0], v1, x0);
        a[1][1] = mac16(a[1][1], v1, x1);
        a[1][2] = mac16(a[1][2], v1, x2);
        a[1][3] = mac16(a[1][3], v1, x3);
    }
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 4; c++) acc[(row0 + r) * 4 + c] = hsum_s32(a[r][c]);
}

void cedge_qdot_neon(int kpad, const int8_t *w, const int8_t *p, int32_t *acc) {
    tile_2x4(kpad, w, p, acc, 0);
    tile_2x4(kpad, w, p, acc, 2);
}

#if defined(__aarch64__)
// 4x4 with SDOT: 16 accumulators + 8 operands of aarch64's 32 vector registers.
__attribute__((target("arch=armv8.2-a+dotprod")))
void cedge_qdot_neon_dotprod(int kpad, const int8_t *w, const int8_t *p, int32_t *acc) {
    int32x4_t a[4][4];
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) a[r][c] = vdupq_n_s32(0);
    for (int k = 0; k < kpad; k += 16) {
        int8x16_t x[4], v[4];
        for (int c = 0; c < 4; c++) x[c] = vld1q_s8(p + (size_t)c * kpad + k);
        for (int r = 0; r < 4; r++) v[r] = vld1q_s8(w + (size_t)r * kpad + k);
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 4; c++) a[r][c] = vdotq_s32(a[r][c], v[r], x[c]);
    }
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) acc[r * 4 + c] = vaddvq_s32(a[r][c]);
}
#endif
#endif
