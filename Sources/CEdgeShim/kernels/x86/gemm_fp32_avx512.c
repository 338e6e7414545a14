// AVX-512 code path (x86_64): 8x32 SGEMM micro-kernels (packed and in-place B, and the pixel-rows kernel that
// reads A in place and stores its tile transposed), dot/axpy, depthwise row kernel.
#if defined(__x86_64__)
#include <immintrin.h>
#include <math.h>

#include "../kernels_internal.h"

// SwiftPM has no per-file flags: every function here carries the target attribute and is only called after
// dispatch.c has seen avx512f/vl/bw/dq and fma in CPUID and the zmm/opmask state enabled in XCR0.
#define AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma")))

// Why 8x32: the models' M (output channels) is 16..128, always a multiple of 8, so MR = 8 leaves no short
// row panels (MR = 12 or 14 would, for M = 16 and 32). NR = 32 is two zmm per row: 16 accumulators + 2 B
// vectors, the A values come in as embedded broadcasts ({1to16} memory operands), so 18 of the 32 zmm
// registers are live and each k issues 2 vector loads + 8 broadcast loads for 16 FMAs; 16 independent
// accumulators cover the 4-cycle FMA latency on 2 FMA pipes twice over. A wider NR (48) would waste most of
// a tile on the 7x7 layers (span 55-61 columns), and 16-row tiles need 32+ registers.
#define MR 8
#define NR 32

// Lane masks of the two column vectors for the first n columns (n >= 32: all).
AVX512 static inline __attribute__((always_inline)) void col_masks(int n, __mmask16 *lo, __mmask16 *hi) {
    *lo = n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1u);
    *hi = n >= 32 ? (__mmask16)0xFFFF : n <= 16 ? (__mmask16)0 : (__mmask16)((1u << (n - 16)) - 1u);
}

// Epilogue of one accumulator row per cedge_ukp. Partial tiles (n < NR) use masked loads/stores instead of a
// spill through cedge_store_tile: AVX-512 masks never touch (or fault on) the columns past n.
AVX512 static inline __attribute__((always_inline)) void store_row(float *c, __m512 lo, __m512 hi, const int V,
                                                                   __mmask16 mlo, __mmask16 mhi,
                                                                   const cedge_ukp *p, int row) {
    if (p->load_c) {
        const __m512 clo = _mm512_maskz_loadu_ps(mlo, c);
        const __m512 chi = V > 1 ? _mm512_maskz_loadu_ps(mhi, c + 16) : _mm512_setzero_ps();
        if (p->beta == 1.0f) {
            lo = _mm512_add_ps(lo, clo);
            if (V > 1) hi = _mm512_add_ps(hi, chi);
        } else {
            const __m512 vb = _mm512_set1_ps(p->beta);
            lo = _mm512_fmadd_ps(vb, clo, lo);
            if (V > 1) hi = _mm512_fmadd_ps(vb, chi, hi);
        }
    }
    if (p->scale) {
        const __m512 vs = _mm512_set1_ps(p->scale[row]);
        lo = _mm512_mul_ps(lo, vs);
        if (V > 1) hi = _mm512_mul_ps(hi, vs);
    }
    if (p->bias) {
        const __m512 vb = _mm512_set1_ps(p->bias[row]);
        lo = _mm512_add_ps(lo, vb);
        if (V > 1) hi = _mm512_add_ps(hi, vb);
    }
    if (p->clamp) {
        const __m512 vmin = _mm512_set1_ps(p->cmin), vmax = _mm512_set1_ps(p->cmax);
        lo = _mm512_min_ps(_mm512_max_ps(lo, vmin), vmax);
        if (V > 1) hi = _mm512_min_ps(_mm512_max_ps(hi, vmin), vmax);
    }
    _mm512_mask_storeu_ps(c, mlo, lo);
    if (V > 1) _mm512_mask_storeu_ps(c + 16, mhi, hi);
}

// Body for R computed rows (R = m exactly, so short row panels do no thrown-away work) and V column vectors
// (V = 1 when n <= 16: the last column tile of a GEMM often is that narrow). R and V are constants after
// inlining, so acc lives in registers. B row k is the packed panel (b + k*NR, 64-byte aligned) or, with
// koff != NULL, base + koff[k] read in place (unaligned; the source has NR floats of slack).
AVX512 static inline __attribute__((always_inline)) void ukernel_rows(const int R, const int V, int n, int k,
                                                                     const float *a, const float *b,
                                                                     const size_t *koff, float *c, size_t ldc,
                                                                     const cedge_ukp *p) {
    __m512 acc[MR][2];
    for (int r = 0; r < R; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
#define STEP(i)                                                                                                \
    do {                                                                                                       \
        __m512 b0, b1 = _mm512_setzero_ps();                                                                   \
        if (koff) {                                                                                            \
            const float *row = b + koff[i];                                                                    \
            b0 = _mm512_loadu_ps(row);                                                                         \
            if (V > 1) b1 = _mm512_loadu_ps(row + 16);                                                         \
        } else {                                                                                               \
            b0 = _mm512_load_ps(b + (size_t)(i) * NR);                                                         \
            if (V > 1) b1 = _mm512_load_ps(b + (size_t)(i) * NR + 16);                                         \
        }                                                                                                      \
        for (int r = 0; r < R; r++) {                                                                          \
            const __m512 av = _mm512_set1_ps(a[(size_t)(i) * MR + r]);                                         \
            acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);                                                    \
            if (V > 1) acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);                                         \
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
    } else {
        for (; i + 4 <= k; i += 4) {
            // 8 k rows (1 KB) ahead: the packed B micro-panel is streamed once per A panel from L1/L2.
            _mm_prefetch((const char *)(b + (size_t)(i + 8) * NR), _MM_HINT_T0);
            _mm_prefetch((const char *)(b + (size_t)(i + 8) * NR + 16), _MM_HINT_T0);
            STEP(i);
            STEP(i + 1);
            STEP(i + 2);
            STEP(i + 3);
        }
    }
    for (; i < k; i++) STEP(i);
#undef STEP
    __mmask16 mlo, mhi;
    col_masks(n, &mlo, &mhi);
    for (int r = 0; r < R; r++) store_row(c + (size_t)r * ldc, acc[r][0], acc[r][1], V, mlo, mhi, p, r);
}

AVX512 static inline __attribute__((always_inline)) void ukernel_cols(const int V, int m, int n, int k,
                                                                     const float *a, const float *b,
                                                                     const size_t *koff, float *c, size_t ldc,
                                                                     const cedge_ukp *p) {
    switch (m) {
    case 1: ukernel_rows(1, V, n, k, a, b, koff, c, ldc, p); break;
    case 2: ukernel_rows(2, V, n, k, a, b, koff, c, ldc, p); break;
    case 3: ukernel_rows(3, V, n, k, a, b, koff, c, ldc, p); break;
    case 4: ukernel_rows(4, V, n, k, a, b, koff, c, ldc, p); break;
    case 5: ukernel_rows(5, V, n, k, a, b, koff, c, ldc, p); break;
    case 6: ukernel_rows(6, V, n, k, a, b, koff, c, ldc, p); break;
    case 7: ukernel_rows(7, V, n, k, a, b, koff, c, ldc, p); break;
    default: ukernel_rows(8, V, n, k, a, b, koff, c, ldc, p); break;
    }
}

AVX512 static void ukernel_8x32(int m, int n, int k, const float *a, const float *b, float *c, size_t ldc,
                                const cedge_ukp *p) {
    if (n > 16)
        ukernel_cols(2, m, n, k, a, b, NULL, c, ldc, p);
    else
        ukernel_cols(1, m, n, k, a, b, NULL, c, ldc, p);
}

AVX512 static void ukernel_8x32_indirect(int m, int n, int k, const float *a, const float *base,
                                         const size_t *koff, float *c, size_t ldc, const cedge_ukp *p) {
    if (n > 16)
        ukernel_cols(2, m, n, k, a, base, koff, c, ldc, p);
    else
        ukernel_cols(1, m, n, k, a, base, koff, c, ldc, p);
}

// 8 rows x 16 columns (a[r], one zmm per row) -> 16 columns of 8 rows, two per zmm: out[q + 4h] holds column
// 8h + q in its low 256 bits and column 8h + 4 + q in its high 256 bits (q < 4, h < 2).
AVX512 static inline __attribute__((always_inline)) void transpose_8x16(const __m512 a[8], __m512 out[8]) {
    __m512 t[8], s[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm512_unpacklo_ps(a[i], a[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(a[i], a[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        s[i + 0] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);       // per 128-bit lane L: column 4L + 0, 4 rows
        s[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);       // column 4L + 1
        s[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);   // column 4L + 2
        s[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);   // column 4L + 3
    }
    // s[q] lane L: column 4L + q, rows 0..3; s[4 + q] lane L: its rows 4..7. Pair them per column.
    const __m512i lo = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
    const __m512i hi = _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
    for (int q = 0; q < 4; q++) {
        out[q] = _mm512_permutex2var_ps(s[q], lo, s[4 + q]);       // columns q, 4 + q
        out[4 + q] = _mm512_permutex2var_ps(s[q], hi, s[4 + q]);   // columns 8 + q, 12 + q
    }
}

// Pixel-rows micro-kernel body (contract in kernels_internal.h) for R rows and V column vectors.
AVX512 static inline __attribute__((always_inline)) void rows_body(const int R, const int V, int n, int k,
                                                                  const float *abase, const size_t *koff, int as,
                                                                  const float *b, const cedge_rows_epi *e,
                                                                  float *y, size_t ldy) {
    __m512 acc[8][2];
    for (int r = 0; r < 8; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (int i = 0; i < k; i++) {
        const float *row = abase + koff[i];
        const __m512 b0 = _mm512_load_ps(b + (size_t)i * NR);
        const __m512 b1 = V > 1 ? _mm512_load_ps(b + (size_t)i * NR + 16) : _mm512_setzero_ps();
        for (int r = 0; r < R; r++) {
            const __m512 av = _mm512_set1_ps(row[(size_t)r * as]);
            acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
            if (V > 1) acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
        }
    }
    __mmask16 mlo, mhi;
    col_masks(n, &mlo, &mhi);
    const __mmask8 rmask = (__mmask8)((1u << R) - 1u);
    const __m512 vmin = _mm512_set1_ps(e->cmin), vmax = _mm512_set1_ps(e->cmax);
    for (int v = 0; v < V; v++) {
        const __mmask16 m = v ? mhi : mlo;
        const __m512 sc = e->scale ? _mm512_maskz_loadu_ps(m, e->scale + 16 * v) : _mm512_set1_ps(1.0f);
        const __m512 sh = e->shift ? _mm512_maskz_loadu_ps(m, e->shift + 16 * v) : _mm512_setzero_ps();
        __m512 a[8], out[8];
        for (int r = 0; r < 8; r++) {
            a[r] = _mm512_fmadd_ps(acc[r][v], sc, sh);
            if (e->clamp) a[r] = _mm512_min_ps(_mm512_max_ps(a[r], vmin), vmax);
        }
        transpose_8x16(a, out);
        const int cols = n - 16 * v < 16 ? n - 16 * v : 16;
        float *yv = y + (size_t)(16 * v) * ldy;
        for (int j = 0; j < cols; j++) {
            const __m512 o = out[(j & 3) + 4 * (j >> 3)];
            const __m256 h = (j >> 2) & 1 ? _mm512_extractf32x8_ps(o, 1) : _mm512_castps512_ps256(o);
            _mm256_mask_storeu_ps(yv + (size_t)j * ldy, rmask, h);
        }
    }
}

AVX512 static inline __attribute__((always_inline)) void rows_cols(const int V, int m, int n, int k,
                                                                  const float *abase, const size_t *koff, int as,
                                                                  const float *b, const cedge_rows_epi *e,
                                                                  float *y, size_t ldy) {
    switch (m) {
    case 1: rows_body(1, V, n, k, abase, koff, as, b, e, y, ldy); break;
    case 2: rows_body(2, V, n, k, abase, koff, as, b, e, y, ldy); break;
    case 3: rows_body(3, V, n, k, abase, koff, as, b, e, y, ldy); break;
    case 4: rows_body(4, V, n, k, abase, koff, as, b, e, y, ldy); break;
    case 5: rows_body(5, V, n, k, abase, koff, as, b, e, y, ldy); break;
    case 6: rows_body(6, V, n, k, abase, koff, as, b, e, y, ldy); break;
    case 7: rows_body(7, V, n, k, abase, koff, as, b, e, y, ldy); break;
    default: rows_body(8, V, n, k, abase, koff, as, b, e, y, ldy); break;
    }
}

AVX512 static void ukernel_rows_8x32(int m, int n, int k, const float *abase, const size_t *koff, int as,
                                     const float *b, const cedge_rows_epi *e, float *y, size_t ldy) {
    if (n > 16)
        rows_cols(2, m, n, k, abase, koff, as, b, e, y, ldy);
    else
        rows_cols(1, m, n, k, abase, koff, as, b, e, y, ldy);
}

// Mask of the first n (< 16) lanes.
AVX512 static inline __mmask16 head_mask(int n) { return (__mmask16)((1u << n) - 1u); }

AVX512 static float dot_avx512(int n, const float *x, const float *y) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
    int i = 0;
    for (; i + 64 <= n; i += 64) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16), s1);
        s2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 32), _mm512_loadu_ps(y + i + 32), s2);
        s3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 48), _mm512_loadu_ps(y + i + 48), s3);
    }
    for (; i + 16 <= n; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i), s0);
    if (i < n) {
        const __mmask16 mk = head_mask(n - i);
        s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk, x + i), _mm512_maskz_loadu_ps(mk, y + i), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

AVX512 static void axpy_avx512(int n, float a, const float *x, float *y) {
    const __m512 va = _mm512_set1_ps(a);
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
        _mm512_storeu_ps(y + i + 16, _mm512_fmadd_ps(va, _mm512_loadu_ps(x + i + 16), _mm512_loadu_ps(y + i + 16)));
    }
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(va, _mm512_loadu_ps(x + i), _mm512_loadu_ps(y + i)));
    if (i < n) {
        const __mmask16 mk = head_mask(n - i);
        _mm512_mask_storeu_ps(y + i, mk,
                              _mm512_fmadd_ps(va, _mm512_maskz_loadu_ps(mk, x + i), _mm512_maskz_loadu_ps(mk, y + i)));
    }
}

// The `cnt` (1..16) consecutive outputs' inputs src[0], src[s], ..., for s = 1 or 2; masked so nothing past
// the last needed element is read. Stride 2 takes the even lanes of two loads with one permute.
AVX512 static inline __m512 load_strided(const float *src, int stride, int cnt) {
    if (stride == 1) return cnt >= 16 ? _mm512_loadu_ps(src) : _mm512_maskz_loadu_ps(head_mask(cnt), src);
    const int need = 2 * cnt - 1;   // floats read: src[0 .. 2*cnt-2]
    const __m512 lo = need >= 16 ? _mm512_loadu_ps(src) : _mm512_maskz_loadu_ps(head_mask(need), src);
    const __m512 hi = need >= 32 ? _mm512_loadu_ps(src + 16)
                      : need > 16 ? _mm512_maskz_loadu_ps(head_mask(need - 16), src + 16) : _mm512_setzero_ps();
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(lo, even, hi);
}

// Stride-2 phase planes: 16 cells per permute of two loads, the row's tail masked (the scalar loop was ~10% of
// edge batch 1).
AVX512 static void copy_even_avx512(int rows, int n, const float *src, size_t sp, float *dst, size_t dp) {
    const int full = n & ~15, tail = n - full;
    for (int r = 0; r < rows; r++, src += sp, dst += dp) {
        for (int i = 0; i < full; i += 16) _mm512_storeu_ps(dst + i, load_strided(src + 2 * i, 2, 16));
        if (tail) _mm512_mask_storeu_ps(dst + full, head_mask(tail), load_strided(src + 2 * full, 2, tail));
    }
}

// Depthwise row: four 16-wide accumulators per pass, then 16-wide and one masked pass for the tail; strides
// other than 1 and 2 fall back to the generic loop (not worth a gather).
AVX512 static void dw_row_avx512(int n, int taps, const float *const *src, const float *w, int stride, float scale,
                                 float bias, float cmin, float cmax, float *out) {
    if (stride > 2) {
        cedge_dw_row_generic(n, taps, src, w, stride, scale, bias, cmin, cmax, out);
        return;
    }
    const int clamp = cedge_clamp_active(cmin, cmax), scaled = scale != 1.0f;
    const __m512 vbias = _mm512_set1_ps(bias), vmin = _mm512_set1_ps(cmin), vmax = _mm512_set1_ps(cmax);
    const __m512 vscale = _mm512_set1_ps(scale), zero = _mm512_setzero_ps();
#define FINISH(a) (a) = scaled ? _mm512_add_ps(_mm512_mul_ps((a), vscale), vbias) : _mm512_add_ps((a), vbias)
    int i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512 a0 = zero, a1 = zero, a2 = zero, a3 = zero;
        for (int t = 0; t < taps; t++) {
            const float *s = src[t] + (size_t)i * stride;
            const __m512 wt = _mm512_set1_ps(w[t]);
            a0 = _mm512_fmadd_ps(wt, load_strided(s, stride, 16), a0);
            a1 = _mm512_fmadd_ps(wt, load_strided(s + 16 * stride, stride, 16), a1);
            a2 = _mm512_fmadd_ps(wt, load_strided(s + 32 * stride, stride, 16), a2);
            // The last group's stride-2 load is masked: a full one would read one float past the row.
            a3 = _mm512_fmadd_ps(wt, load_strided(s + 48 * stride, stride, 16), a3);
        }
        FINISH(a0);
        FINISH(a1);
        FINISH(a2);
        FINISH(a3);
        if (clamp) {
            a0 = _mm512_min_ps(_mm512_max_ps(a0, vmin), vmax);
            a1 = _mm512_min_ps(_mm512_max_ps(a1, vmin), vmax);
            a2 = _mm512_min_ps(_mm512_max_ps(a2, vmin), vmax);
            a3 = _mm512_min_ps(_mm512_max_ps(a3, vmin), vmax);
        }
        _mm512_storeu_ps(out + i, a0);
        _mm512_storeu_ps(out + i + 16, a1);
        _mm512_storeu_ps(out + i + 32, a2);
        _mm512_storeu_ps(out + i + 48, a3);
    }
    for (; i < n; i += 16) {
        const int cnt = n - i < 16 ? n - i : 16;
        __m512 a0 = zero;
        for (int t = 0; t < taps; t++)
            a0 = _mm512_fmadd_ps(_mm512_set1_ps(w[t]), load_strided(src[t] + (size_t)i * stride, stride, cnt), a0);
        FINISH(a0);
        if (clamp) a0 = _mm512_min_ps(_mm512_max_ps(a0, vmin), vmax);
        if (cnt == 16)
            _mm512_storeu_ps(out + i, a0);
        else
            _mm512_mask_storeu_ps(out + i, head_mask(cnt), a0);
    }
#undef FINISH
}

// Blocking for this CPU class (Zen 4/5: 32-48 KB L1d, 1 MB L2 per core). Per k the kernel needs 128 bytes of
// B and 32 of A for 8 cycles of FMAs, which L2 sustains, so kc is set by the C traffic rather than by L1: every
// extra K block reloads and restores the C tile. kc = 384 keeps the models' K = 9..288 in one block and splits
// 576 / 1152 into 2 / 3 blocks (the A block mc x kc = 128 x 384, 192 KB, and the kc x 32 B micro-panel, 48 KB,
// sit in L2). Measured on edge/foundation batch 32: kc 256 / 384 / 640 were within noise of each other, 384
// marginally ahead. mc = 128 covers every layer's M in one block; nc = 1024 every layer's span (<= 838).
const cedge_isa cedge_isa_avx512 = {
    .name = "avx512", .mr = MR, .nr = NR, .kc = 384, .mc = 128, .nc = 1024,
    .ukernel = ukernel_8x32, .ukernel_indirect = ukernel_8x32_indirect, .dot = dot_avx512, .axpy = axpy_avx512,
    .dw_row = dw_row_avx512,
    .wino_in = cedge_wino_in_avx512, .wino_out = cedge_wino_out_avx512, .copy_even = copy_even_avx512,
    .ukernel_rows = ukernel_rows_8x32,
};
#endif
