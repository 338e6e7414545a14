// AVX-512 Winograd F(4x4, 3x3) tile transforms (contracts in kernels_internal.h). Lane l of a vector is tile l,
// but a tile's window rows and output rows are contiguous in memory: the generic body's scalar gather and
// scatter (36 + 16 element moves per tile and channel) cost more than the transforms themselves, so here 16
// window rows are loaded whole and transposed in registers, and output rows are transposed back and stored
// as 4-float vectors.
#if defined(__x86_64__)
#include <immintrin.h>

#include "../kernels_internal.h"

#define AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma")))
#define WINO_ATTR AVX512
#define WINO_VB 64
#define WINO_NAME(x) x##_avx512_body
#include "../winograd_f43_body.h"

// Columns 0..5 of 16 tiles' window row (at s[l] + off, 8 floats readable), as one vector per column. Each
// zmm holds the rows of tiles k and k + 8, so the classic 8x8 transpose runs in both 256-bit halves at once;
// a final cross-lane permute puts tiles 0..15 in order.
AVX512 static inline __attribute__((always_inline)) void load_columns(const float *const *s, size_t off,
                                                                      __m512 col[6]) {
    __m512 z[8], t[8], u[8];
    for (int k = 0; k < 8; k++)
        z[k] = _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_loadu_ps(s[k] + off)), _mm256_loadu_ps(s[k + 8] + off), 1);
    for (int k = 0; k < 8; k += 2) {
        t[k] = _mm512_unpacklo_ps(z[k], z[k + 1]);
        t[k + 1] = _mm512_unpackhi_ps(z[k], z[k + 1]);
    }
    for (int k = 0; k < 8; k += 4) {
        u[k + 0] = _mm512_shuffle_ps(t[k], t[k + 2], 0x44);       // columns 0 | 4 of tiles k..k+3
        u[k + 1] = _mm512_shuffle_ps(t[k], t[k + 2], 0xEE);       // 1 | 5
        u[k + 2] = _mm512_shuffle_ps(t[k + 1], t[k + 3], 0x44);   // 2 | 6
        u[k + 3] = _mm512_shuffle_ps(t[k + 1], t[k + 3], 0xEE);   // 3 | 7
    }
    const __m512i lo = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27);
    const __m512i hi = _mm512_setr_epi32(4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
    col[0] = _mm512_permutex2var_ps(u[0], lo, u[4]);
    col[1] = _mm512_permutex2var_ps(u[1], lo, u[5]);
    col[2] = _mm512_permutex2var_ps(u[2], lo, u[6]);
    col[3] = _mm512_permutex2var_ps(u[3], lo, u[7]);
    col[4] = _mm512_permutex2var_ps(u[0], hi, u[4]);
    col[5] = _mm512_permutex2var_ps(u[1], hi, u[5]);
}

AVX512 void cedge_wino_in_avx512(int nr, const float *const *src, size_t off, size_t pitch, float *stage, float *v,
                                 size_t xs) {
    (void)stage;
    for (int l = 0; l < nr; l += 16) {
        // Rows first (d B, one window row per step, straight from the transpose), then the columns (B^T).
        WV e[36];
        for (int r = 0; r < 6; r++) {
            __m512 d[6];
            load_columns(src + l, off + (size_t)r * pitch, d);
            WINO_BT(d[0], d[1], d[2], d[3], d[4], d[5], e[6 * r], e[6 * r + 1], e[6 * r + 2], e[6 * r + 3],
                    e[6 * r + 4], e[6 * r + 5]);
        }
        for (int j = 0; j < 6; j++) {
            float *o = v + (size_t)j * xs + l;
            WV o0, o1, o2, o3, o4, o5;
            WINO_BT(e[j], e[6 + j], e[12 + j], e[18 + j], e[24 + j], e[30 + j], o0, o1, o2, o3, o4, o5);
            // Unaligned: the channels-in-lanes layout writes channel rows at an MR-float step.
            _mm512_storeu_ps(o + 0 * 6 * xs, o0);
            _mm512_storeu_ps(o + 1 * 6 * xs, o1);
            _mm512_storeu_ps(o + 2 * 6 * xs, o2);
            _mm512_storeu_ps(o + 3 * 6 * xs, o3);
            _mm512_storeu_ps(o + 4 * 6 * xs, o4);
            _mm512_storeu_ps(o + 5 * 6 * xs, o5);
        }
    }
}

// One stored chunk (4 cells of a tile row) with the residual join: + the residual's cells (the lanes of `m`),
// then the Relu's max(v, 0), which gives its second operand 0 for NaN as cedge_add_relu_f32 does.
AVX512 static inline __attribute__((always_inline)) __m128 join(__m128 v, int res, const float *r, __mmask8 m,
                                                                int relu) {
    if (!res) return v;
    v = _mm_add_ps(v, _mm_maskz_loadu_ps(m, r));
    return relu ? _mm_max_ps(v, _mm_setzero_ps()) : v;
}

AVX512 void cedge_wino_out_avx512(int nr, int nt, const float *m, size_t xs, const cedge_wino_epi *e,
                                  float *const *dst, size_t off, size_t pitch, const unsigned char *rows,
                                  const unsigned char *cols, float *stage) {
    (void)stage;
    const __m512 vs1 = _mm512_set1_ps(e->scale), vb1 = _mm512_set1_ps(e->bias);
    const __m512 vmin = _mm512_set1_ps(e->cmin), vmax = _mm512_set1_ps(e->cmax);
    const int has_scale = e->has_scale, clamp = e->clamp, res = e->res != NULL, relu = e->res_relu;
    for (int l = 0; l < nr && l < nt; l += 16) {
        // Whole 4x4 tiles in all 16 lanes (every tile of a 28x28 layer): unconditional stores.
        int full = l + 16 <= nt;
        for (int k = 0; k < 16 && full; k++) full = rows[l + k] == 4 && cols[l + k] == 4;
        float *p[16];
        const float *r[16];   // residual cells (dst's offsets), read only with res
        for (int k = 0; k < 16; k++) {
            p[k] = dst[l + (l + k < nt ? k : 0)] + off;
            r[k] = res ? e->res[l + (l + k < nt ? k : 0)] + off : p[k];
        }
        // Per-lane epilogue values (output channels in lanes): masked, the arrays end at lane nt.
        const __mmask16 live = nt - l >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (nt - l)) - 1u);
        const __m512 vs = e->lane_scale ? _mm512_maskz_loadu_ps(live, e->lane_scale + l) : vs1;
        const __m512 vb = e->lane_bias ? _mm512_maskz_loadu_ps(live, e->lane_bias + l) : vb1;
        WV t[24];
        WINO_AT_COLUMNS(t, m, xs, l);
        for (int i = 0; i < 4; i++) {
            WV w0, w1, w2, w3;
            WINO_AT(t[6 * i], t[6 * i + 1], t[6 * i + 2], t[6 * i + 3], t[6 * i + 4], t[6 * i + 5], w0, w1, w2, w3);
            __m512 y[4] = {w0, w1, w2, w3};
            for (int j = 0; j < 4; j++) {
                if (has_scale) y[j] = _mm512_mul_ps(y[j], vs);
                y[j] = _mm512_add_ps(y[j], vb);
                // max/min return their second operand when one is NaN: NaN stays NaN, as in the portable path.
                if (clamp) y[j] = _mm512_min_ps(vmax, _mm512_max_ps(vmin, y[j]));
            }
            // 4 x 16 -> 16 x 4: u[k] chunk c holds row i of tile 4c + k.
            const __m512 a0 = _mm512_unpacklo_ps(y[0], y[1]), a1 = _mm512_unpackhi_ps(y[0], y[1]);
            const __m512 a2 = _mm512_unpacklo_ps(y[2], y[3]), a3 = _mm512_unpackhi_ps(y[2], y[3]);
            const __m512 u[4] = {_mm512_shuffle_ps(a0, a2, 0x44), _mm512_shuffle_ps(a0, a2, 0xEE),
                                 _mm512_shuffle_ps(a1, a3, 0x44), _mm512_shuffle_ps(a1, a3, 0xEE)};
            const size_t row = (size_t)i * pitch;
            if (full) {
#define STORE_CHUNK(c)                                                                                          \
    for (int k = 0; k < 4; k++)                                                                                 \
        _mm_storeu_ps(p[4 * (c) + k] + row, join(_mm512_extractf32x4_ps(u[k], c), res, r[4 * (c) + k] + row,    \
                                                 0xF, relu));
                STORE_CHUNK(0)
                STORE_CHUNK(1)
                STORE_CHUNK(2)
                STORE_CHUNK(3)
#undef STORE_CHUNK
            } else {
#define STORE_CHUNK(c)                                                                                          \
    for (int k = 0; k < 4; k++) {                                                                               \
        const int lane = l + 4 * (c) + k;                                                                       \
        const __mmask8 cm = (__mmask8)((1u << cols[lane < nt ? lane : l]) - 1u);                                \
        if (lane < nt && i < rows[lane])                                                                        \
            _mm_mask_storeu_ps(p[4 * (c) + k] + row, cm,                                                         \
                               join(_mm512_extractf32x4_ps(u[k], c), res, r[4 * (c) + k] + row, cm, relu));       \
    }
                STORE_CHUNK(0)
                STORE_CHUNK(1)
                STORE_CHUNK(2)
                STORE_CHUNK(3)
#undef STORE_CHUNK
            }
        }
    }
}
#endif
