// AVX2/FMA code path (x86_64): 6x16 SGEMM micro-kernel, dot/axpy for GEMV, depthwise row kernel.
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <math.h>

#include "../kernels_internal.h"

// SwiftPM has no per-file flags: every function here carries the target attribute and is only called after
// dispatch.c has seen avx2 and fma in CPUID.
#define AVX2 __attribute__((target("avx2,fma")))

#define MR 6
#define NR 16

// Epilogue of one accumulator row (16 columns) per cedge_ukp; the first n columns are stored (masked when
// n < 16: the last column tile of a GEMM).
AVX2 static inline __attribute__((always_inline)) void store_row(float *c, __m256 lo, __m256 hi, int n,
                                                                 const cedge_ukp *p, int row) {
    __m256i mlo = _mm256_set1_epi32(-1), mhi = mlo;
    if (n < NR) {
        const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        mlo = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lanes);
        mhi = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - 8), lanes);
    }
    if (p->load_c) {
        const __m256 clo = n < NR ? _mm256_maskload_ps(c, mlo) : _mm256_loadu_ps(c);
        const __m256 chi = n < NR ? _mm256_maskload_ps(c + 8, mhi) : _mm256_loadu_ps(c + 8);
        if (p->beta == 1.0f) {
            lo = _mm256_add_ps(lo, clo);
            hi = _mm256_add_ps(hi, chi);
        } else {
            const __m256 vb = _mm256_set1_ps(p->beta);
            lo = _mm256_fmadd_ps(vb, clo, lo);
            hi = _mm256_fmadd_ps(vb, chi, hi);
        }
    }
    if (p->scale) {
        const __m256 vs = _mm256_set1_ps(p->scale[row]);
        lo = _mm256_mul_ps(lo, vs);
        hi = _mm256_mul_ps(hi, vs);
    }
    if (p->bias) {
        const __m256 vb = _mm256_set1_ps(p->bias[row]);
        lo = _mm256_add_ps(lo, vb);
        hi = _mm256_add_ps(hi, vb);
    }
    if (p->clamp) {
        const __m256 vmin = _mm256_set1_ps(p->cmin), vmax = _mm256_set1_ps(p->cmax);
        lo = _mm256_min_ps(_mm256_max_ps(lo, vmin), vmax);
        hi = _mm256_min_ps(_mm256_max_ps(hi, vmin), vmax);
    }
    if (n < NR) {
        _mm256_maskstore_ps(c, mlo, lo);
        _mm256_maskstore_ps(c + 8, mhi, hi);
    } else {
        _mm256_storeu_ps(c, lo);
        _mm256_storeu_ps(c + 8, hi);
    }
}

// Body of the micro-kernel for R <= MR computed rows (R is a constant after inlining, so the accumulator array
// lives in registers). R = 6: 12 accumulators + 2 B vectors + 1 broadcast = 15 of the 16 ymm registers; per k,
// 2 loads, 6 broadcasts and 12 FMAs keep both FMA ports busy. B row k is either the packed panel (b + k*NR,
// aligned) or, with koff != NULL, base + koff[k] (the shifted-window conv reads its input in place).
AVX2 static inline __attribute__((always_inline)) void ukernel_rows(const int R, int m, int n, int k,
                                                                   const float *a, const float *b,
                                                                   const size_t *koff, float *c, size_t ldc,
                                                                   const cedge_ukp *p) {
    __m256 acc[MR][2];
    for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
#define STEP(i)                                                                                                \
    do {                                                                                                       \
        __m256 b0, b1;                                                                                         \
        if (koff) {                                                                                            \
            const float *row = b + koff[i];                                                                    \
            b0 = _mm256_loadu_ps(row);                                                                         \
            b1 = _mm256_loadu_ps(row + 8);                                                                     \
        } else {                                                                                               \
            b0 = _mm256_load_ps(b + (i) * NR);                                                                 \
            b1 = _mm256_load_ps(b + (i) * NR + 8);                                                             \
        }                                                                                                      \
        for (int r = 0; r < R; r++) {                                                                          \
            const __m256 av = _mm256_broadcast_ss(a + (i) * MR + r);                                           \
            acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);                                                    \
            acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);                                                    \
        }                                                                                                      \
    } while (0)
    int i = 0;
    if (koff) {
        for (; i + 4 <= k; i += 4) {
            STEP(i);
            STEP(i + 1);
            STEP(i + 2);
            STEP(i + 3);
        }
        for (; i < k; i++) STEP(i);
    } else {
        for (; i + 4 <= k; i += 4) {
            _mm_prefetch((const char *)(b + (i + 16) * NR), _MM_HINT_T0);
            STEP(i);
            STEP(i + 1);
            STEP(i + 2);
            STEP(i + 3);
        }
        for (; i < k; i++) STEP(i);
    }
#undef STEP
    for (int r = 0; r < R; r++)
        if (r < m) store_row(c + r * ldc, acc[r][0], acc[r][1], n, p, r);
}

// Short row panels (M = 16 leaves a 4-row panel, M = 32 a 2-row one) run a narrower body instead of computing
// rows that are thrown away.
AVX2 static void ukernel_6x16(int m, int n, int k, const float *a, const float *b, float *c, size_t ldc,
                              const cedge_ukp *p) {
    if (m > 4)
        ukernel_rows(6, m, n, k, a, b, NULL, c, ldc, p);
    else if (m > 2)
        ukernel_rows(4, m, n, k, a, b, NULL, c, ldc, p);
    else
        ukernel_rows(2, m, n, k, a, b, NULL, c, ldc, p);
}

AVX2 static void ukernel_6x16_indirect(int m, int n, int k, const float *a, const float *base, const size_t *koff,
                                       float *c, size_t ldc, const cedge_ukp *p) {
    if (m > 4)
        ukernel_rows(6, m, n, k, a, base, koff, c, ldc, p);
    else if (m > 2)
        ukernel_rows(4, m, n, k, a, base, koff, c, ldc, p);
    else
        ukernel_rows(2, m, n, k, a, base, koff, c, ldc, p);
}

AVX2 static float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AVX2 static float dot_avx2(int n, const float *x, const float *y) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(y + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(y + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), s0);
    float t = hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) t += x[i] * y[i];
    return t;
}

AVX2 static void axpy_avx2(int n, float a, const float *x, float *y) {
    __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
        _mm256_storeu_ps(y + i + 8, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8)));
    }
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

// 8 consecutive elements src[0], src[s], ..., src[7s] for s = 1 or 2 (the depthwise strides that matter).
AVX2 static inline __m256 load_strided(const float *src, int stride) {
    if (stride == 1) return _mm256_loadu_ps(src);
    __m256 lo = _mm256_loadu_ps(src), hi = _mm256_loadu_ps(src + 8);
    // even lanes of lo and hi, in 128-bit halves: [l0 l2 h0 h2 | l4 l6 h4 h6] -> reorder the 64-bit pairs
    __m256 ev = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
    return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ev), _MM_SHUFFLE(3, 1, 2, 0)));
}

// Stride-2 phase planes, 8 cells per vector. The tail (1..8 cells) is a masked pair of loads: a full one
// would read src[2i + 15], past the row's last even element.
AVX2 static void copy_even_avx2(int rows, int n, const float *src, size_t sp, float *dst, size_t dp) {
    const int full = (n - 1) & ~7, tail = n - full;   // tail >= 1 whenever n >= 1
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i mlo = _mm256_cmpgt_epi32(_mm256_set1_epi32(2 * tail - 1), lane);
    const __m256i mhi = _mm256_cmpgt_epi32(_mm256_set1_epi32(2 * tail - 9), lane);
    const __m256i mout = _mm256_cmpgt_epi32(_mm256_set1_epi32(tail), lane);
    for (int r = 0; r < rows && n > 0; r++, src += sp, dst += dp) {
        for (int i = 0; i < full; i += 8) _mm256_storeu_ps(dst + i, load_strided(src + 2 * i, 2));
        const float *s = src + 2 * full;
        const __m256 ev = _mm256_shuffle_ps(_mm256_maskload_ps(s, mlo), _mm256_maskload_ps(s + 8, mhi),
                                            _MM_SHUFFLE(2, 0, 2, 0));
        _mm256_maskstore_ps(dst + full, mout,
                            _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(ev), _MM_SHUFFLE(3, 1, 2, 0))));
    }
}

// Four 8-wide accumulators per pass give the FMA chains enough independent work; stride 2 uses the
// shuffle above, other strides fall back to the generic loop.
AVX2 static void dw_row_avx2(int n, int taps, const float *const *src, const float *w, int stride, float scale,
                             float bias, float cmin, float cmax, float *out) {
    if (stride > 2) {
        cedge_dw_row_generic(n, taps, src, w, stride, scale, bias, cmin, cmax, out);
        return;
    }
    const int clamp = cedge_clamp_active(cmin, cmax), scaled = scale != 1.0f;
    const __m256 vbias = _mm256_set1_ps(bias), vmin = _mm256_set1_ps(cmin), vmax = _mm256_set1_ps(cmax);
    const __m256 vscale = _mm256_set1_ps(scale), zero = _mm256_setzero_ps();
#define FINISH(a) (a) = scaled ? _mm256_add_ps(_mm256_mul_ps((a), vscale), vbias) : _mm256_add_ps((a), vbias)
    int i = 0;
    // A stride-2 load of 8 outputs reads 16 floats, one past the last element those outputs need; stopping
    // the vector passes one output early keeps every read inside the row.
    const int vec_end = stride == 1 ? n : n - 1;
    for (; i + 32 <= vec_end; i += 32) {
        __m256 a0 = zero, a1 = zero, a2 = zero, a3 = zero;
        for (int t = 0; t < taps; t++) {
            const float *s = src[t] + (size_t)i * stride;
            __m256 wt = _mm256_broadcast_ss(w + t);
            a0 = _mm256_fmadd_ps(wt, load_strided(s, stride), a0);
            a1 = _mm256_fmadd_ps(wt, load_strided(s + 8 * stride, stride), a1);
            a2 = _mm256_fmadd_ps(wt, load_strided(s + 16 * stride, stride), a2);
            a3 = _mm256_fmadd_ps(wt, load_strided(s + 24 * stride, stride), a3);
        }
        FINISH(a0);
        FINISH(a1);
        FINISH(a2);
        FINISH(a3);
        if (clamp) {
            a0 = _mm256_min_ps(_mm256_max_ps(a0, vmin), vmax);
            a1 = _mm256_min_ps(_mm256_max_ps(a1, vmin), vmax);
            a2 = _mm256_min_ps(_mm256_max_ps(a2, vmin), vmax);
            a3 = _mm256_min_ps(_mm256_max_ps(a3, vmin), vmax);
        }
        _mm256_storeu_ps(out + i, a0);
        _mm256_storeu_ps(out + i + 8, a1);
        _mm256_storeu_ps(out + i + 16, a2);
        _mm256_storeu_ps(out + i + 24, a3);
    }
    for (; i + 8 <= vec_end; i += 8) {
        __m256 a0 = zero;
        for (int t = 0; t < taps; t++)
            a0 = _mm256_fmadd_ps(_mm256_broadcast_ss(w + t), load_strided(src[t] + (size_t)i * stride, stride), a0);
        FINISH(a0);
        if (clamp) a0 = _mm256_min_ps(_mm256_max_ps(a0, vmin), vmax);
        _mm256_storeu_ps(out + i, a0);
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

#define WINO_ATTR AVX2
#define WINO_VB 32
#define WINO_NAME(x) x##_avx2
#include "../winograd_f43_body.h"

const cedge_isa cedge_isa_avx2 = {
    .name = "avx2-fma", .mr = MR, .nr = NR, .kc = 256, .mc = 144, .nc = 1024,
    .ukernel = ukernel_6x16, .ukernel_indirect = ukernel_6x16_indirect, .dot = dot_avx2, .axpy = axpy_avx2, .dw_row = dw_row_avx2,
    .wino_in = wino_in_avx2, .wino_out = wino_out_avx2, .copy_even = copy_even_avx2,
};
#endif
