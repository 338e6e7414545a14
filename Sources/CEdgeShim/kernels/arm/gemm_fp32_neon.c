// NEON code path: 8x12 SGEMM micro-kernel on aarch64, 6x8 on armv7, dot/axpy for GEMV, depthwise row kernel.
#if defined(__aarch64__) || defined(__ARM_NEON)
#include <arm_neon.h>

#include "../kernels_internal.h"

// armv7 has no lane-indexed FMA (vfmaq_laneq_f32 is aarch64-only) and only has vfma with VFPv4.
#if defined(__aarch64__) || defined(__ARM_FEATURE_FMA)
#define VFMA(acc, x, y) vfmaq_f32((acc), (x), (y))
#else
#define VFMA(acc, x, y) vmlaq_f32((acc), (x), (y))
#endif

static inline void store_vec(float *c, float32x4_t v, const cedge_ukp *p, int row) {
    if (p->load_c) {
        if (p->beta == 1.0f)
            v = vaddq_f32(v, vld1q_f32(c));
        else
            v = VFMA(v, vld1q_f32(c), vdupq_n_f32(p->beta));
    }
    if (p->scale) v = vmulq_f32(v, vdupq_n_f32(p->scale[row]));
    if (p->bias) v = vaddq_f32(v, vdupq_n_f32(p->bias[row]));
    if (p->clamp) v = vminq_f32(vmaxq_f32(v, vdupq_n_f32(p->cmin)), vdupq_n_f32(p->cmax));
    vst1q_f32(c, v);
}

// Partial column tiles (n < NR): the accumulators go to a local tile, then the shared scalar epilogue.
#define STORE_OR_SPILL(nv)                                                                                     \
    float *dst = c;                                                                                            \
    size_t ldd = ldc;                                                                                          \
    float spill[MR * NR];                                                                                      \
    const cedge_ukp plain = {0, 0.0f, NULL, 0, 0.0f, 0.0f, NULL};                                              \
    const cedge_ukp *ep = p;                                                                                   \
    if (n < NR) {                                                                                              \
        dst = spill;                                                                                           \
        ldd = NR;                                                                                              \
        ep = &plain;                                                                                           \
    }

#if defined(__aarch64__)
#define MR 8
#define NR 12
// 24 accumulators + 3 B vectors + 2 A vectors = 29 of the 32 q registers; the A values are used by lane, so
// no broadcasts are needed: 5 loads feed 24 FMAs per k. B row k is the packed panel (b + k*NR) or, with
// koff != NULL, b + koff[k] read in place.
static inline __attribute__((always_inline)) void ukernel_body(int m, int n, int k, const float *a, const float *b,
                                                               const size_t *koff, float *c, size_t ldc,
                                                               const cedge_ukp *p) {
    float32x4_t c00 = vdupq_n_f32(0), c01 = c00, c02 = c00, c10 = c00, c11 = c00, c12 = c00;
    float32x4_t c20 = c00, c21 = c00, c22 = c00, c30 = c00, c31 = c00, c32 = c00;
    float32x4_t c40 = c00, c41 = c00, c42 = c00, c50 = c00, c51 = c00, c52 = c00;
    float32x4_t c60 = c00, c61 = c00, c62 = c00, c70 = c00, c71 = c00, c72 = c00;
    for (int i = 0; i < k; i++) {
        const float *br = koff ? b + koff[i] : b + (size_t)i * NR;
        float32x4_t b0 = vld1q_f32(br), b1 = vld1q_f32(br + 4), b2 = vld1q_f32(br + 8);
        float32x4_t a0 = vld1q_f32(a), a1 = vld1q_f32(a + 4);
        if (!koff) __builtin_prefetch(br + 8 * NR);
        c00 = vfmaq_laneq_f32(c00, b0, a0, 0); c01 = vfmaq_laneq_f32(c01, b1, a0, 0); c02 = vfmaq_laneq_f32(c02, b2, a0, 0);
        c10 = vfmaq_laneq_f32(c10, b0, a0, 1); c11 = vfmaq_laneq_f32(c11, b1, a0, 1); c12 = vfmaq_laneq_f32(c12, b2, a0, 1);
        c20 = vfmaq_laneq_f32(c20, b0, a0, 2); c21 = vfmaq_laneq_f32(c21, b1, a0, 2); c22 = vfmaq_laneq_f32(c22, b2, a0, 2);
        c30 = vfmaq_laneq_f32(c30, b0, a0, 3); c31 = vfmaq_laneq_f32(c31, b1, a0, 3); c32 = vfmaq_laneq_f32(c32, b2, a0, 3);
        c40 = vfmaq_laneq_f32(c40, b0, a1, 0); c41 = vfmaq_laneq_f32(c41, b1, a1, 0); c42 = vfmaq_laneq_f32(c42, b2, a1, 0);
        c50 = vfmaq_laneq_f32(c50, b0, a1, 1); c51 = vfmaq_laneq_f32(c51, b1, a1, 1); c52 = vfmaq_laneq_f32(c52, b2, a1, 1);
        c60 = vfmaq_laneq_f32(c60, b0, a1, 2); c61 = vfmaq_laneq_f32(c61, b1, a1, 2); c62 = vfmaq_laneq_f32(c62, b2, a1, 2);
        c70 = vfmaq_laneq_f32(c70, b0, a1, 3); c71 = vfmaq_laneq_f32(c71, b1, a1, 3); c72 = vfmaq_laneq_f32(c72, b2, a1, 3);
        a += MR;
    }
    STORE_OR_SPILL(3)
    const int rows = n < NR ? MR : m;
#define ROW(r, v0, v1, v2)                                                                                     \
    if ((r) < rows) {                                                                                          \
        float *cr = dst + (size_t)(r) * ldd;                                                                   \
        store_vec(cr, v0, ep, r);                                                                              \
        store_vec(cr + 4, v1, ep, r);                                                                          \
        store_vec(cr + 8, v2, ep, r);                                                                          \
    }
    ROW(0, c00, c01, c02); ROW(1, c10, c11, c12); ROW(2, c20, c21, c22); ROW(3, c30, c31, c32);
    ROW(4, c40, c41, c42); ROW(5, c50, c51, c52); ROW(6, c60, c61, c62); ROW(7, c70, c71, c72);
#undef ROW
    if (n < NR) cedge_store_tile(spill, NR, m, n, c, ldc, p);
}
#define KC 256
#define MC 128
#define NC 768

// Native fp16 arithmetic (ARMv8.2 FP16, chosen at run time when HWCAP_ASIMDHP is set): the same 8x12 tile with
// A read straight from the binary16 weight panels (no widening pass) and each fp32 B row narrowed to binary16 as
// it is loaded, so every FMLA does 8 (or 4) multiply-adds in binary16. The tile accumulates one K block (at most
// KC = 256 products) in binary16 and is widened into the fp32 C by the usual epilogue, so the error grows with
// the K block, not with the whole K.
#define FP16 __attribute__((target("arch=armv8.2-a+fp16")))
FP16 static void ukernel_neon_f16a(int m, int n, int k, const uint16_t *a, const float *b, const size_t *koff,
                                   float *c, size_t ldc, const cedge_ukp *p) {
    float16x8_t h0 = vdupq_n_f16(0), h1 = h0, h2 = h0, h3 = h0, h4 = h0, h5 = h0, h6 = h0, h7 = h0;
    float16x4_t q0 = vdup_n_f16(0), q1 = q0, q2 = q0, q3 = q0, q4 = q0, q5 = q0, q6 = q0, q7 = q0;
    for (int i = 0; i < k; i++) {
        const float *br = koff ? b + koff[i] : b + (size_t)i * NR;
        const float16x8_t b8 = vcombine_f16(vcvt_f16_f32(vld1q_f32(br)), vcvt_f16_f32(vld1q_f32(br + 4)));
        const float16x4_t b4 = vcvt_f16_f32(vld1q_f32(br + 8));
        const float16x8_t av = vreinterpretq_f16_u16(vld1q_u16(a));
        if (!koff) __builtin_prefetch(br + 8 * NR);
        // The by-element form of a binary16 FMLA only reaches V0-V15 for its element register; with 16
        // accumulators live the compiler otherwise loads the 8 weights as 8 scalar loads. "x" pins av low.
#define FMLA_H(h, q, lane)                                                                                     \
    __asm__("fmla %0.8h, %2.8h, %4.h[" #lane "]\n\tfmla %1.4h, %3.4h, %4.h[" #lane "]"                         \
            : "+w"(h), "+w"(q)                                                                                 \
            : "w"(b8), "w"(b4), "x"(av))
        FMLA_H(h0, q0, 0); FMLA_H(h1, q1, 1); FMLA_H(h2, q2, 2); FMLA_H(h3, q3, 3);
        FMLA_H(h4, q4, 4); FMLA_H(h5, q5, 5); FMLA_H(h6, q6, 6); FMLA_H(h7, q7, 7);
#undef FMLA_H
        a += MR;
    }
    STORE_OR_SPILL(3)
    const int rows = n < NR ? MR : m;
#define ROW(r, h, q)                                                                                           \
    if ((r) < rows) {                                                                                          \
        float *cr = dst + (size_t)(r) * ldd;                                                                   \
        store_vec(cr, vcvt_f32_f16(vget_low_f16(h)), ep, r);                                                   \
        store_vec(cr + 4, vcvt_high_f32_f16(h), ep, r);                                                        \
        store_vec(cr + 8, vcvt_f32_f16(q), ep, r);                                                             \
    }
    ROW(0, h0, q0); ROW(1, h1, q1); ROW(2, h2, q2); ROW(3, h3, q3);
    ROW(4, h4, q4); ROW(5, h5, q5); ROW(6, h6, q6); ROW(7, h7, q7);
#undef ROW
    if (n < NR) cedge_store_tile(spill, NR, m, n, c, ldc, p);
}
#define NEON_F16A ukernel_neon_f16a
#else
#define MR 6
#define NR 8
// armv7 has 16 q registers: 12 accumulators + 2 B vectors + 1-2 broadcast A values. vld1q_dup loads and
// broadcasts in one instruction, standing in for the missing lane-indexed FMA.
static inline __attribute__((always_inline)) void ukernel_body(int m, int n, int k, const float *a, const float *b,
                                                               const size_t *koff, float *c, size_t ldc,
                                                               const cedge_ukp *p) {
    float32x4_t c00 = vdupq_n_f32(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    float32x4_t c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int i = 0; i < k; i++) {
        const float *br = koff ? b + koff[i] : b + (size_t)i * NR;
        float32x4_t b0 = vld1q_f32(br), b1 = vld1q_f32(br + 4), av;
        av = vld1q_dup_f32(a + 0); c00 = VFMA(c00, b0, av); c01 = VFMA(c01, b1, av);
        av = vld1q_dup_f32(a + 1); c10 = VFMA(c10, b0, av); c11 = VFMA(c11, b1, av);
        av = vld1q_dup_f32(a + 2); c20 = VFMA(c20, b0, av); c21 = VFMA(c21, b1, av);
        av = vld1q_dup_f32(a + 3); c30 = VFMA(c30, b0, av); c31 = VFMA(c31, b1, av);
        av = vld1q_dup_f32(a + 4); c40 = VFMA(c40, b0, av); c41 = VFMA(c41, b1, av);
        av = vld1q_dup_f32(a + 5); c50 = VFMA(c50, b0, av); c51 = VFMA(c51, b1, av);
        a += MR;
    }
    STORE_OR_SPILL(2)
    const int rows = n < NR ? MR : m;
#define ROW(r, v0, v1)                                                                                         \
    if ((r) < rows) {                                                                                          \
        float *cr = dst + (size_t)(r) * ldd;                                                                   \
        store_vec(cr, v0, ep, r);                                                                              \
        store_vec(cr + 4, v1, ep, r);                                                                          \
    }
    ROW(0, c00, c01); ROW(1, c10, c11); ROW(2, c20, c21); ROW(3, c30, c31); ROW(4, c40, c41); ROW(5, c50, c51);
#undef ROW
    if (n < NR) cedge_store_tile(spill, NR, m, n, c, ldc, p);
}
#define KC 256
#define MC 120
#define NC 512
#endif

static void ukernel_neon(int m, int n, int k, const float *a, const float *b, float *c, size_t ldc,
                         const cedge_ukp *p) {
    ukernel_body(m, n, k, a, b, NULL, c, ldc, p);
}

static void ukernel_neon_indirect(int m, int n, int k, const float *a, const float *base, const size_t *koff,
                                  float *c, size_t ldc, const cedge_ukp *p) {
    ukernel_body(m, n, k, a, base, koff, c, ldc, p);
}

static inline float hsum(float32x4_t v) {
#if defined(__aarch64__)
    return vaddvq_f32(v);
#else
    float32x2_t s = vadd_f32(vget_low_f32(v), vget_high_f32(v));
    return vget_lane_f32(vpadd_f32(s, s), 0);
#endif
}

static float dot_neon(int n, const float *x, const float *y) {
    float32x4_t s0 = vdupq_n_f32(0), s1 = s0, s2 = s0, s3 = s0;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = VFMA(s0, vld1q_f32(x + i), vld1q_f32(y + i));
        s1 = VFMA(s1, vld1q_f32(x + i + 4), vld1q_f32(y + i + 4));
        s2 = VFMA(s2, vld1q_f32(x + i + 8), vld1q_f32(y + i + 8));
        s3 = VFMA(s3, vld1q_f32(x + i + 12), vld1q_f32(y + i + 12));
    }
    for (; i + 4 <= n; i += 4) s0 = VFMA(s0, vld1q_f32(x + i), vld1q_f32(y + i));
    float t = hsum(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
    for (; i < n; i++) t += x[i] * y[i];
    return t;
}

static void axpy_neon(int n, float a, const float *x, float *y) {
    float32x4_t va = vdupq_n_f32(a);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        vst1q_f32(y + i, VFMA(vld1q_f32(y + i), vld1q_f32(x + i), va));
        vst1q_f32(y + i + 4, VFMA(vld1q_f32(y + i + 4), vld1q_f32(x + i + 4), va));
    }
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, VFMA(vld1q_f32(y + i), vld1q_f32(x + i), va));
    for (; i < n; i++) y[i] += a * x[i];
}

// src[0], src[s], src[2s], src[3s] for s = 1 or 2; vld2q de-interleaves, so stride 2 costs one load.
static inline float32x4_t load_strided(const float *src, int stride) {
    if (stride == 1) return vld1q_f32(src);
    return vld2q_f32(src).val[0];
}

static void dw_row_neon(int n, int taps, const float *const *src, const float *w, int stride, float scale,
                        float bias, float cmin, float cmax, float *out) {
    if (stride > 2) {
        cedge_dw_row_generic(n, taps, src, w, stride, scale, bias, cmin, cmax, out);
        return;
    }
    const int clamp = cedge_clamp_active(cmin, cmax), scaled = scale != 1.0f;
    const float32x4_t vbias = vdupq_n_f32(bias), vmin = vdupq_n_f32(cmin), vmax = vdupq_n_f32(cmax);
    const float32x4_t vscale = vdupq_n_f32(scale), zero = vdupq_n_f32(0.0f);
#define FINISH(a) (a) = scaled ? vaddq_f32(vmulq_f32((a), vscale), vbias) : vaddq_f32((a), vbias)
    // A stride-2 load of 4 outputs reads 8 floats, one past the last element those outputs need; stopping
    // the vector passes one output early keeps every read inside the row.
    const int vec_end = stride == 1 ? n : n - 1;
    int i = 0;
    for (; i + 16 <= vec_end; i += 16) {
        float32x4_t a0 = zero, a1 = zero, a2 = zero, a3 = zero;
        for (int t = 0; t < taps; t++) {
            const float *s = src[t] + (size_t)i * stride;
            float32x4_t wt = vdupq_n_f32(w[t]);
            a0 = VFMA(a0, load_strided(s, stride), wt);
            a1 = VFMA(a1, load_strided(s + 4 * stride, stride), wt);
            a2 = VFMA(a2, load_strided(s + 8 * stride, stride), wt);
            a3 = VFMA(a3, load_strided(s + 12 * stride, stride), wt);
        }
        FINISH(a0);
        FINISH(a1);
        FINISH(a2);
        FINISH(a3);
        if (clamp) {
            a0 = vminq_f32(vmaxq_f32(a0, vmin), vmax);
            a1 = vminq_f32(vmaxq_f32(a1, vmin), vmax);
            a2 = vminq_f32(vmaxq_f32(a2, vmin), vmax);
            a3 = vminq_f32(vmaxq_f32(a3, vmin), vmax);
        }
        vst1q_f32(out + i, a0);
        vst1q_f32(out + i + 4, a1);
        vst1q_f32(out + i + 8, a2);
        vst1q_f32(out + i + 12, a3);
    }
    for (; i + 4 <= vec_end; i += 4) {
        float32x4_t a0 = zero;
        for (int t = 0; t < taps; t++)
            a0 = VFMA(a0, load_strided(src[t] + (size_t)i * stride, stride), vdupq_n_f32(w[t]));
        FINISH(a0);
        if (clamp) a0 = vminq_f32(vmaxq_f32(a0, vmin), vmax);
        vst1q_f32(out + i, a0);
    }
#undef FINISH
    for (; i < n; i++) {
        float acc = 0.0f;
        for (int t = 0; t < taps; t++) acc += w[t] * src[t][(size_t)i * stride];
        if (scaled) acc *= scale;
        acc += bias;
        if (clamp) {
            acc = acc < cmin ? cmin : acc;
            acc = acc > cmax ? cmax : acc;
        }
        out[i] = acc;
    }
}

const cedge_isa cedge_isa_neon = {
    .name = "neon", .mr = MR, .nr = NR, .kc = KC, .mc = MC, .nc = NC,
    .ukernel = ukernel_neon, .ukernel_indirect = ukernel_neon_indirect, .dot = dot_neon, .axpy = axpy_neon, .dw_row = dw_row_neon,
#ifdef NEON_F16A
    .ukernel_f16a = NEON_F16A,
#endif
};
#endif
